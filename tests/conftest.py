from __future__ import annotations

import os
import pty
import select
import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

HERE = Path(__file__).parent
SMALL = HERE / "data" / "small"
SHIPPED = HERE.parent / "data"


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory):
    """No user settings leak in; the cache lives in a private temporary folder."""
    for var in ("CMX_DATA", "CMX_LANG", "CMX_TODAY", "CMX_NO_CACHE", "CMX_DEBUG", "NO_COLOR"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("CMX_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
    # The note about how old the newest source is goes to stderr whenever the real date
    # is far from the data's; the tests of that note (test_tracking.py) turn it back on.
    monkeypatch.setenv("CMX_QUIET", "1")


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def kb_dir() -> Path:
    return SMALL


@pytest.fixture
def kb_copy(tmp_path: Path) -> Path:
    """A writable copy of the small KB, for tests that break it."""
    dest = tmp_path / "kb"
    shutil.copytree(SMALL, dest)
    return dest


@pytest.fixture
def shipped_dir() -> Path:
    return SHIPPED


def run_on_pty(argv: list[str], columns: str, **env: str) -> tuple[int, str]:
    """(exit code, everything written) of `argv` run on a pseudo-terminal that many columns
    wide, as a person at a terminal would see it (escape sequences kept)."""
    master, slave = pty.openpty()
    full_env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    full_env.update({"COLUMNS": columns, "TERM": "xterm-256color", **env})
    proc = subprocess.Popen(argv, stdout=slave, stderr=slave, env=full_env)
    os.close(slave)
    chunks = []
    while True:
        ready, _, _ = select.select([master], [], [], 30)
        if not ready:
            break
        try:
            data = os.read(master, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=30)
    os.close(master)
    return proc.returncode, b"".join(chunks).decode("utf-8", "replace")
