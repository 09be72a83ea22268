from __future__ import annotations

import shutil
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
