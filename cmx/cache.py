"""A JSON cache of the parsed knowledge base, so that YAML is parsed only when it changes.

Keyed by each file's size, mtime and content hash (a changed file is never served
stale), written atomically (concurrent runs are safe), read only when the file is
ours and not writable by others, and JSON only: nothing in it can run code. A
broken or foreign cache is ignored and rebuilt.
"""

from __future__ import annotations

import json
import os
import stat
import sys
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cmx import __version__
from cmx.kb import FILES, KBError
from cmx.model import KnowledgeBase

FORMAT = 1


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
            digest = zlib.crc32(path.read_bytes())
        except OSError:
            continue
        out.append([name, st.st_size, st.st_mtime_ns, digest])
    return out


def cache_file(data_dir: Path, what: str = "kb") -> Path:
    where = f"{zlib.crc32(str(data_dir.resolve()).encode()):08x}"
    return cache_dir() / f"{what}-{where}.json"


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


def _read(path: Path, key: dict[str, Any]) -> dict[str, Any] | None:
    if not _safe_to_read(path):
        return None
    try:
        blob = json.loads(path.read_bytes())
    except (OSError, ValueError, RecursionError):
        return None
    if (
        not isinstance(blob, dict)
        or blob.get("key") != key
        or not isinstance(blob.get("raw"), dict)
    ):
        return None
    return blob["raw"]


def _write(path: Path, key: dict[str, Any], raw: dict[str, Any]) -> None:
    import tempfile

    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".kb-", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump({"key": key, "raw": raw}, fh, ensure_ascii=False, default=str)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except (OSError, TypeError, ValueError):
        pass


def load(
    data_dir: Path,
    read_raw: Callable[[], dict[str, Any]],
    parse: Callable[..., KnowledgeBase],
    parse_trusted: Callable[[dict[str, Any]], KnowledgeBase],
) -> KnowledgeBase:
    """The KB from the cache when every file is unchanged, else parsed and cached."""
    from cmx.kb import check_data_dir

    check_data_dir(data_dir)
    key = {"format": FORMAT, "version": __version__, "files": fingerprint(data_dir)}
    _KEYS[id_of(data_dir)] = key
    path = cache_file(data_dir)
    raw = _read(path, key)
    if raw is not None:
        try:
            return parse_trusted(raw)
        except (KBError, TypeError, ValueError, AttributeError, KeyError, IndexError):
            pass  # a cache that does not parse is rebuilt from the YAML
    raw = read_raw()
    kb = parse(raw, data_dir)
    _write(path, key, raw)
    return kb


_KEYS: dict[str, dict[str, Any]] = {}  # data folder -> key of the KB loaded from it this run


def id_of(data_dir: Path) -> str:
    return str(data_dir.resolve())


def search_index(kb: KnowledgeBase, data_dir: Path, use_cache: bool = True) -> Any:
    """The search index of `kb`: from the cache when the KB was, else built (and cached)."""
    from cmx.search import build_index, index_from_plain, index_to_plain

    key = _KEYS.get(id_of(data_dir)) if use_cache else None
    if key is None:
        return build_index(kb)
    path = cache_file(data_dir, "index")
    plain = _read(path, key)
    if plain is not None:
        try:
            return index_from_plain(kb, plain)
        except (TypeError, ValueError, KeyError, IndexError, AttributeError):
            pass
    index = build_index(kb)
    _write(path, key, index_to_plain(index))
    return index
