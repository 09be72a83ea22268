"""Writing exports safely: atomic, never over an existing file unless asked."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


class ExportError(Exception):
    """A file could not be written; str(err) says why and how to fix it."""


def write_atomic(path: Path, text: str, *, force: bool = False) -> None:
    """Write `text` to a temporary file beside `path`, then rename it into place.

    An existing file is left byte-for-byte intact unless `force`; an error or
    Ctrl-C leaves no half-written file behind.
    """
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise ExportError(f"{path}: folder '{folder}' does not exist; create it first")
    if path.is_dir():
        raise ExportError(f"{path}: is a folder; give a file name")
    if path.exists() and not force:
        raise ExportError(f"{path}: already exists; use --force to overwrite it")
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as err:
        raise ExportError(f"{path}: cannot write in '{folder}': {err.strerror}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        if force:
            os.replace(tmp, path)
        else:
            _link_new(tmp, path)
    except FileExistsError:
        Path(tmp).unlink(missing_ok=True)
        raise ExportError(f"{path}: already exists; use --force to overwrite it") from None
    except BaseException as err:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(err, OSError):
            raise ExportError(f"{path}: cannot write: {err.strerror}") from None
        raise


def _link_new(tmp: str, path: Path) -> None:
    """Put `tmp` at `path` only if nothing is there (a hard link fails if it is)."""
    try:
        os.link(tmp, path)
    except FileExistsError:
        raise
    except OSError:  # no hard links on this file system: check, then rename
        if path.exists():
            raise FileExistsError(path) from None
        os.replace(tmp, path)
        return
    os.unlink(tmp)
