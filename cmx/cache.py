"""Caches of the parsed knowledge base and its search index: YAML is parsed only when it changes.

Keyed by each file's size, mtime and content checksum (a changed file is never served
stale), checksummed themselves (a truncated or altered cache is rebuilt), written
atomically (concurrent runs are safe), read only when the file is ours and not
writable by others, and made of JSON and UTF-8 words only: nothing in them can run code.
"""

from __future__ import annotations

import functools
import itertools
import json
import os
import stat
import sys
import zlib
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from cmx import __version__
from cmx.kb import FILES, KBError
from cmx.model import KnowledgeBase

FORMAT = 2


def cache_dir() -> Path:
    """CMX_CACHE_DIR, else the platform's user cache folder, plus /cmx."""
    env = os.environ.get("CMX_CACHE_DIR")
    if env:
        return Path(env)
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches"
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "cmx"


def _crc_of_file(path: Path, start: int = 0) -> int:
    """CRC-32 of a file from `start`, read in chunks (a large file need not sit in memory)."""
    digest = 0
    with open(path, "rb") as fh:
        fh.seek(start)
        while chunk := fh.read(1 << 20):
            digest = zlib.crc32(chunk, digest)
    return digest


def fingerprint(data_dir: Path) -> list[list[Any]]:
    """[name, size, mtime_ns, crc32] for each KB file present.

    CRC-32 (zlib) rather than hashlib: importing hashlib loads OpenSSL, which costs more
    than the rest of a cached start. The checksum only detects edits; safety comes from
    reading JSON alone, and only from a file that is ours.
    """
    out = []
    for name in FILES.values():
        path = data_dir / name
        try:
            st = path.stat()
            digest = _crc_of_file(path)
        except OSError:
            continue
        out.append([name, st.st_size, st.st_mtime_ns, digest])
    return out


def cache_file(data_dir: Path, what: str = "kb", suffix: str = ".json") -> Path:
    where = f"{zlib.crc32(str(data_dir.resolve()).encode()):08x}"
    return cache_dir() / f"{what}-{where}{suffix}"


def kb_cache_file(data_dir: Path) -> Path:
    return cache_file(data_dir, "kb", ".jsonl")


def _safe_to_read(path: Path) -> bool:
    try:
        st = path.stat()
    except OSError:
        return False
    if not stat.S_ISREG(st.st_mode):
        return False
    if hasattr(os, "getuid") and st.st_uid != os.getuid():
        return False
    return not st.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def load(
    data_dir: Path,
    read_and_parse: Callable[[Path], tuple[dict[str, Any], KnowledgeBase]],
    parse_trusted: Callable[..., KnowledgeBase],
) -> KnowledgeBase:
    """The KB from the cache when every file is unchanged, else parsed and cached."""
    from cmx.kb import check_data_dir

    check_data_dir(data_dir)
    key = {"format": FORMAT, "version": __version__, "files": fingerprint(data_dir)}
    _KEYS[id_of(data_dir)] = key
    path = kb_cache_file(data_dir)
    found = _read_kb(path, key)
    if found is not None:
        small, ids, fetch = found
        try:
            return parse_trusted(small, ids, fetch)
        except (KBError, TypeError, ValueError, AttributeError, KeyError, IndexError):
            pass  # a cache that does not parse is rebuilt from the YAML
    raw, kb = read_and_parse(data_dir)
    _write_kb(path, key, raw)
    return kb


# The KB cache is JSON lines: a header (key, the small files, commitment ids, where each
# commitment's line starts, a checksum), then one line per commitment. A command reads
# the header and builds a commitment only when it is used, from a memory map: a search
# in a 100k-commitment KB touches only the commitments it shows.


def _write_kb(path: Path, key: dict[str, Any], raw: dict[str, Any]) -> None:
    """Write the KB cache, one commitment at a time (a large KB is never held twice)."""
    import tempfile

    items = (raw.get("commitments") or {}).get("commitments") or []
    offsets, at, crc = [], 0, 0
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        with tempfile.TemporaryFile(dir=path.parent) as body:
            for item in items:
                line = json.dumps(item, ensure_ascii=False, default=str).encode() + b"\n"
                offsets.append(at)
                at += len(line)
                crc = zlib.crc32(line, crc)
                body.write(line)
            header = {
                "key": key,
                "small": {k: raw.get(k) for k in ("pillars", "sources", "notes")},
                "ids": [item["id"] for item in items],
                "offsets": offsets,
                "crc": crc,
            }
            head = json.dumps(header, ensure_ascii=False, default=str).encode() + b"\n"
            body.seek(0)
            _write_chunks(path, itertools.chain([head], iter(lambda: body.read(1 << 20), b"")))
    except OSError:
        pass  # a cache we cannot write only costs time


def _open(path: Path, key: dict[str, Any]) -> tuple[dict[str, Any], int, Any] | None:
    """(header, where the body starts, a read-only map of the file) of a cache file
    written for exactly `key`, or None."""
    import mmap

    if not _safe_to_read(path):
        return None
    try:
        with open(path, "rb") as fh:
            header = json.loads(fh.readline())
            start = fh.tell()
            size = os.fstat(fh.fileno()).st_size
            view = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) if size else b""
    except (OSError, ValueError, RecursionError):
        return None
    if not isinstance(header, dict) or header.get("key") != key:
        return None
    try:
        if _crc_of_file(path, start) != header.get("crc"):
            return None  # truncated or altered
    except OSError:
        return None
    return header, start, view


def _read_kb(path: Path, key: dict[str, Any]) -> tuple[Any, list[str], Any] | None:
    """(small files, commitment ids, fetch(i) -> plain commitment) or None."""
    opened = _open(path, key)
    if opened is None:
        return None
    header, start, view = opened
    ids, offsets = header.get("ids"), header.get("offsets")
    if not isinstance(ids, list) or not isinstance(offsets, list) or len(ids) != len(offsets):
        return None
    ends = [*offsets[1:], len(view) - start]

    def fetch(i: int) -> Any:
        return json.loads(view[start + offsets[i] : start + ends[i]])

    return header.get("small"), ids, fetch


def _write_chunks(path: Path, chunks: Iterable[bytes]) -> None:
    """Write atomically, chunk by chunk; a cache we cannot write only costs time."""
    import tempfile

    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".cmx-", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                for chunk in chunks:
                    fh.write(chunk)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError:
        pass


_KEYS: dict[str, dict[str, Any]] = {}  # data folder -> key of the KB loaded from it this run


def id_of(data_dir: Path) -> str:
    return str(data_dir.resolve())


def search_index(kb: KnowledgeBase, data_dir: Path, use_cache: bool = True) -> Any:
    """The search index of `kb`: from the cache when the KB was, else built (and cached).

    The cache file is a JSON header (key, word counts, segment starts, level sizes,
    checksum) and then the three word lists as UTF-8, searched in place through a
    memory map: a large index costs page cache, not process memory.
    """
    from cmx.search import build_index

    key = _KEYS.get(id_of(data_dir)) if use_cache else None
    if key is None:
        return build_index(kb)
    path = cache_file(data_dir, "index", ".bin")
    index = _read_index(path, key, kb)
    if index is None:
        index = build_index(kb)
        header = {
            "key": key,
            "df": index.df,
            "starts": index.starts,
            "sizes": [len(level) for level in index.levels],
            "crc": functools.reduce(lambda crc, level: zlib.crc32(level, crc), index.levels, 0),
        }
        head = json.dumps(header, ensure_ascii=False).encode() + b"\n"
        _write_chunks(path, [head, *index.levels])
    return index


def _read_index(path: Path, key: dict[str, Any], kb: KnowledgeBase) -> Any:
    from cmx.search import Window, index_from_parts

    opened = _open(path, key)
    if opened is None:
        return None
    header, at, view = opened
    try:
        sizes = [int(n) for n in header["sizes"]]
        if at + sum(sizes) != len(view):
            return None
        levels = []
        for size in sizes:
            levels.append(Window(view, at, at + size))
            at += size
        return index_from_parts(kb, levels, header["starts"], header["df"])
    except (KeyError, TypeError, ValueError):
        return None
