"""The knowledge base's files: where the shipped ones are, which a folder must hold, and
whether they have changed since a store was built from them (by their stat). Read on
every run, so it imports nothing heavy; parsing them is cmx.kb's.
"""

import os
import stat
from pathlib import Path

from cmx.errors import KBError

FILES: dict[str, str] = {  # top-level key -> file name
    "sources": "sources.yaml",
    "pillars": "pillars.yaml",
    "commitments": "commitments.yaml",
    "notes": "notes.yaml",
    "actors": "actors.yaml",
    "concepts": "concepts.yaml",
    "tags": "tags.yaml",
}
OPTIONAL_FILES = frozenset({"notes", "actors", "concepts", "tags"})


def check_data_dir(data_dir: Path) -> None:
    if not data_dir.exists():
        raise KBError([f"{data_dir}: no such folder (check --data or CMX_DATA)"])
    if not data_dir.is_dir():
        raise KBError(
            [f"{data_dir}: is a file; --data takes the folder that holds {FILES['pillars']}"]
        )


RACY_NS = 2_000_000_000  # a file changed this recently may change again in the same tick


def file_stats(data_dir: Path) -> str:
    """Size, mtime, ctime, inode and device of each KB file, as one string ("": not to be
    trusted). A store records it with the content key of the bytes it parsed; a later
    run whose files stat the same uses that key without reading them. The ctime cannot
    be set back (an edit that restores the mtime still changes it); a file changed in the
    last two seconds is never trusted (an edit in the same clock tick would not show)."""
    import time

    out = []
    now = time.time_ns()
    for key, name in FILES.items():
        try:
            st = os.stat(data_dir / name)
        except FileNotFoundError:
            if key not in OPTIONAL_FILES:
                return ""
            out.append(f"{name}:-")
            continue
        except OSError:
            return ""
        if not stat.S_ISREG(st.st_mode) or now - max(st.st_mtime_ns, st.st_ctime_ns) < RACY_NS:
            return ""
        out.append(f"{name}:{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}:{st.st_ino}:{st.st_dev}")
    return " ".join(out)


def default_data_dir() -> Path:
    """The KB shipped inside the package, or the checkout's data/ in a dev install."""
    here = Path(__file__).resolve().parent  # cmx/, beside cmx/kb.py
    packaged = here / "data"
    return packaged if packaged.is_dir() else here.parent / "data"
