"""Writing exports safely: atomic, never over an existing file unless asked, and never
over anything but a regular file."""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from cmx.i18n import N_
from cmx.places import temporaries


class ExportError(Exception):
    """A file could not be written: a message (English, the catalog's source text) and
    its values; str(err) is the English sentence."""

    def __init__(self, template: str, **params: object) -> None:
        super().__init__(template.format(**params))
        self.template = template
        self.params = params


def write_atomic(path: Path, text: str, *, force: bool = False) -> None:
    """Write `text` (UTF-8) to `path` atomically; see write_atomic_with."""

    def fill(tmp: Path) -> None:
        with open(tmp, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())

    write_atomic_with(path, fill, force=force)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _check_target(path: Path, force: bool) -> int | None:
    """The mode of the file `path` replaces (None: a new file); refuse what cannot be."""
    folder = path.parent
    try:
        st = os.stat(path)
    except FileNotFoundError:
        st = None
    except NotADirectoryError:
        raise ExportError(
            N_("{path}: '{folder}' is a file, not a folder"), path=path, folder=_first_file(folder)
        ) from None
    except OSError as err:
        raise ExportError(
            N_("{path}: cannot use this path: {reason}"), path=path, reason=err.strerror
        ) from None
    if st is None:
        if not folder.exists():
            raise ExportError(
                N_("{path}: folder '{folder}' does not exist; create it first"),
                path=path,
                folder=folder,
            )
        if not folder.is_dir():
            raise ExportError(
                N_("{path}: '{folder}' is a file, not a folder"), path=path, folder=folder
            )
        return None
    if stat.S_ISDIR(st.st_mode):
        raise ExportError(N_("{path}: is a folder; give a file name"), path=path)
    if not stat.S_ISREG(st.st_mode):
        raise ExportError(
            N_(
                "{path}: is not a regular file (a device, pipe or socket); cmx only replaces "
                "regular files — write to a file, or to stdout without -o"
            ),
            path=path,
        )
    if not force:
        raise ExportError(N_("{path}: already exists; use --force to overwrite it"), path=path)
    return stat.S_IMODE(st.st_mode)


def _first_file(folder: Path) -> Path:
    """The first part of `folder` that exists and is not a folder."""
    for part in reversed([folder, *folder.parents]):
        if part.exists() and not part.is_dir():
            return part
    return folder


def write_atomic_with(path: Path, fill: Callable[[Path], None], *, force: bool = False) -> None:
    """Have `fill` write a temporary file beside `path`, then move it into place.

    An existing file is left byte-for-byte intact unless `force`, and only a regular
    file is ever replaced (it keeps its mode); a new file gets the mode a shell
    redirect would give (0666 less the umask). An error, Ctrl-C or SIGTERM leaves no
    half-written file behind. The temporary name is short, so a file name near the
    system's limit still works.
    """
    old_mode = _check_target(path, force)
    folder = path.parent if str(path.parent) else Path(".")
    sweep(folder, EXPORT_TEMP)
    with writing(folder):
        _write_via_temp(path, folder, fill, force, old_mode)


def _write_via_temp(
    path: Path, folder: Path, fill: Callable[[Path], None], force: bool, old_mode: int | None
) -> None:
    try:
        import tempfile  # ~3 ms: only when a file is written

        fd, tmp_name = tempfile.mkstemp(dir=folder, prefix=EXPORT_TEMP, suffix=".tmp")
    except OSError as err:
        raise ExportError(
            N_("{path}: cannot write in '{folder}': {reason}"),
            path=path,
            folder=folder,
            reason=err.strerror,
        ) from None
    tmp = Path(tmp_name)
    try:
        os.close(fd)
        fill(tmp)
        os.chmod(tmp, old_mode if old_mode is not None else 0o666 & ~_umask())
        if force:
            _check_target(path, force)  # still a regular file (or nothing) just before
            os.replace(tmp, path)
        else:
            _link_new(tmp, path)
    except FileExistsError:
        tmp.unlink(missing_ok=True)
        raise ExportError(
            N_("{path}: already exists; use --force to overwrite it"), path=path
        ) from None
    except BaseException as err:
        tmp.unlink(missing_ok=True)
        if isinstance(err, OSError):
            raise ExportError(
                N_("{path}: cannot write: {reason}"), path=path, reason=err.strerror or err
            ) from None
        raise


def _link_new(tmp: Path, path: Path) -> None:
    """Put `tmp` at `path` only if nothing is there (a hard link fails if it is)."""
    try:
        os.link(tmp, path)
    except FileExistsError:
        raise
    except OSError:  # no hard links on this file system: check, then rename
        if path.exists() or path.is_symlink():
            raise FileExistsError(path) from None
        os.replace(tmp, path)
        return
    os.unlink(tmp)


# ------------------------------------------------------------------------ temporary files

EXPORT_TEMP = ".cmx-"  # the prefix of an export's temporary file (then random, then .tmp)
STALE_TEMP_SECONDS = 3600  # a temporary file this old is a killed run's, whatever else


@contextlib.contextmanager
def writing(folder: Path) -> Iterator[None]:
    """Mark `folder` as holding this run's temporary files while the block runs.

    A shared lock (flock) on the folder: as long as any run holds it, `sweep` leaves
    young temporary files alone; a killed run's lock goes with its process, so the
    next run can remove what it left at once. Where there is no flock (Windows, some
    network file systems) only age tells, and writing goes on without the lock.
    """
    fd = _lock_folder(folder, exclusive=False)
    try:
        yield
    finally:
        if fd is not None:
            os.close(fd)  # releases the lock


def sweep(folder: Path, prefix: str) -> None:
    """Remove the temporary files named `prefix`…`.tmp` that killed runs left in `folder`.

    Cheap on every run: one directory listing, and nothing more when none is there.
    Files are removed when no live run is writing in the folder (`writing`), or when
    they are older than STALE_TEMP_SECONDS; only this user's regular files are touched.
    """
    found = temporaries(folder, prefix)
    if not found:
        return
    fd = _lock_folder(folder, exclusive=True)
    try:
        now = time.time()
        for entry in found:
            with contextlib.suppress(OSError):
                st = entry.stat(follow_symlinks=False)
                if not stat.S_ISREG(st.st_mode) or not _mine(st):
                    continue
                if fd is not None or now - st.st_mtime > STALE_TEMP_SECONDS:
                    os.unlink(entry.path)
    finally:
        if fd is not None:
            os.close(fd)


def _mine(st: os.stat_result) -> bool:
    return not hasattr(os, "getuid") or st.st_uid == os.getuid()


def _lock_folder(folder: Path, *, exclusive: bool) -> int | None:
    """An open descriptor of `folder` holding its flock (shared, or exclusive without
    waiting); None when it is not held (exclusive: another run is writing there)."""
    try:
        import fcntl
    except ImportError:  # Windows
        return None
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return None
    try:
        if exclusive:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fd
        for _ in range(100):  # a sweep holds the lock for a moment: wait at most ~1 s
            try:
                fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
                return fd
            except BlockingIOError:
                time.sleep(0.01)
    except OSError:
        pass
    os.close(fd)
    return None


def write_atomic_dir(
    path: Path, fill: Callable[[Path], None], *, force: bool = False, marker: str
) -> None:
    """Have `fill` write a new folder beside `path`, then rename it into place.

    A missing or empty `path` is simply replaced. A non-empty one only with `force`,
    and only when it holds `marker` (a file every folder this writes has): `--force`
    never deletes a folder that some other program, or a person, filled. An error,
    Ctrl-C or SIGTERM leaves `path` as it was and no temporary folder behind."""
    parent = path.parent if str(path.parent) else Path(".")
    if path.exists() or path.is_symlink():
        if not path.is_dir() or path.is_symlink():
            raise ExportError(
                N_("{path}: '{folder}' is a file, not a folder"), path=path, folder=path
            )
        if any(path.iterdir()):
            if not force:
                raise ExportError(
                    N_("{path}: already exists; use --force to overwrite it"), path=path
                )
            if not (path / marker).is_file():
                # translated by the site's own table (cmx.site.STRINGS)
                raise ExportError(
                    "{path}: not a folder cmx wrote; cmx replaces only its own (remove it)",
                    path=path,
                )
    elif not parent.is_dir():
        raise ExportError(
            N_("{path}: folder '{folder}' does not exist; create it first"),
            path=path,
            folder=parent,
        )
    try:
        import tempfile

        tmp = Path(tempfile.mkdtemp(dir=parent, prefix=".cmx-"))
    except OSError as err:
        raise ExportError(
            N_("{path}: cannot write in '{folder}': {reason}"),
            path=path,
            folder=parent,
            reason=err.strerror,
        ) from None
    old: Path | None = None
    try:
        fill(tmp)
        os.chmod(tmp, 0o777 & ~_umask())
        if path.exists():
            old = Path(tempfile.mkdtemp(dir=parent, prefix=".cmx-old-"))
            os.rename(path, old / "site")  # moved aside, put back if the rename fails
        try:
            os.rename(tmp, path)
        except OSError:
            if old is not None:
                os.rename(old / "site", path)
            raise
    except BaseException as err:
        shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(err, OSError):
            raise ExportError(
                N_("{path}: cannot write: {reason}"), path=path, reason=err.strerror or err
            ) from None
        raise
    finally:
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
