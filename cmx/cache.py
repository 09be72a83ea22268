"""A JSON cache of the parsed knowledge base, so that YAML is parsed only when it changes.

Keyed by each file's size, mtime and content hash (a changed file is never served
stale), written atomically (concurrent runs are safe), read only when the file is
ours and not writable by others, and JSON only: nothing in it can run code. A
broken or foreign cache is ignored and rebuilt.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import sys
import tempfile
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
    """[name, size, mtime_ns, sha256] for each KB file present."""
    out = []
    for name in FILES.values():
        path = data_dir / name
        try:
            st = path.stat()
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError:
            continue
        out.append([name, st.st_size, st.st_mtime_ns, digest])
    return out


def cache_file(data_dir: Path) -> Path:
    where = hashlib.sha256(str(data_dir.resolve()).encode()).hexdigest()[:16]
    return cache_dir() / f"kb-{where}.json"


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
        pass  # a cache we cannot write only costs time


def load(
    data_dir: Path,
    read_raw: Callable[[], dict[str, Any]],
    parse: Callable[..., KnowledgeBase],
) -> KnowledgeBase:
    """The KB from the cache when every file is unchanged, else parsed and cached."""
    from cmx.kb import check_data_dir

    check_data_dir(data_dir)
    key = {"format": FORMAT, "version": __version__, "files": fingerprint(data_dir)}
    path = cache_file(data_dir)
    raw = _read(path, key)
    if raw is not None:
        try:
            return parse(raw, data_dir)
        except (KBError, TypeError, ValueError, AttributeError):
            pass  # a cache that does not parse is rebuilt from the YAML
    raw = read_raw()
    kb = parse(raw, data_dir)
    _write(path, key, raw)
    return kb


def search_index(kb: KnowledgeBase, data_dir: Path, use_cache: bool = True) -> Any:
    """The search index of `kb` (built in memory; see bench/scale.py for its cost)."""
    from cmx.search import build_index

    return build_index(kb)
