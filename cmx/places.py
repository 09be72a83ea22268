"""Where cmx keeps what it derives and can always derive again: the user's cache folder
(the stores of knowledge bases, the locale's date patterns). Nothing here is needed for
cmx to work: with no cache folder, every run derives what it needs.
"""

import contextlib
import os
import stat
import sys
from pathlib import Path

TEMP = ".kb-"  # the prefix of cmx's temporary files in the cache folder (swept by the store)


def cache_dir() -> Path | None:
    """CMX_CACHE_DIR, else the platform's user cache folder + /cmx; None: run uncached.

    A relative XDG_CACHE_HOME is ignored, as the XDG spec says; with no home folder
    (a container run as an unknown user) there is no cache, and cmx still works.
    """
    env = os.environ.get("CMX_CACHE_DIR")
    if env:
        return Path(env)
    try:
        if sys.platform == "win32":
            local = os.environ.get("LOCALAPPDATA")
            base = Path(local) if local else Path.home() / "AppData" / "Local"
        elif sys.platform == "darwin":
            base = Path.home() / "Library" / "Caches"
        else:
            xdg = os.environ.get("XDG_CACHE_HOME", "")
            base = Path(xdg) if os.path.isabs(xdg) else Path.home() / ".cache"
    except (RuntimeError, KeyError, OSError):  # no home directory
        return None
    if not base.is_absolute():
        return None
    return base / "cmx"


def temporaries(folder: Path, prefix: str) -> list[os.DirEntry[str]]:
    """The temporary files named `prefix`…`.tmp` in `folder` (none if it cannot be
    read): one directory listing, all a run without leftovers pays (cmx.files.sweep)."""
    try:
        with os.scandir(folder) as entries:
            return [e for e in entries if e.name.startswith(prefix) and e.name.endswith(".tmp")]
    except OSError:
        return []


def ours(path: Path) -> bool:
    """A regular file owned by this user and writable by no one else (else not read)."""
    try:
        st = path.stat()
    except OSError:
        return False
    if not stat.S_ISREG(st.st_mode):
        return False
    if hasattr(os, "getuid") and st.st_uid != os.getuid():
        return False
    return not st.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def keep(path: Path, data: bytes) -> None:
    """Write a file of the cache folder whole or not at all (a temporary file, renamed);
    a cache folder that cannot be written costs only time."""
    import tempfile

    tmp: str | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=TEMP, suffix=".tmp")
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, path)
        tmp = None
    except (OSError, ValueError):
        pass
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
