"""Hard to break: bad YAML, odd input, pipes and terminals.

Each case ends in a clear message and no traceback.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cmx import kb as kbmod
from cmx.cli import app
from cmx.kb import KBError, load_kb, read_yaml

GOOD_PILLARS = (Path(__file__).parent / "data" / "small" / "pillars.yaml").read_text(
    encoding="utf-8"
)


def broken(kb_copy: Path, name: str, content: str | bytes) -> list[str]:
    path = kb_copy / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(KBError) as info:
        load_kb(kb_copy)
    return info.value.problems


CASES = [
    ("syntax error", "pillars:\n  - id: [unclosed\n", "pillars.yaml:2: YAML syntax error"),
    ("unclosed quote", 'pillars:\n  - id: "open\n  - id: x\n', "pillars.yaml:2: YAML syntax error"),
    ("tab indentation", "pillars:\n\t- id: prosperity\n", "indent with spaces, not tabs"),
    ("empty file", "", "file is empty; expected a top-level 'pillars:' list"),
    ("only a comment", "# nothing here\n", "file is empty"),
    ("wrong top-level shape", "- id: prosperity\n", "expected a top-level 'pillars:' list"),
    ("misspelt top-level key", "pilars: []\n", "(did you mean 'pillars'?)"),
    ("list is a mapping", "pillars: {id: prosperity}\n", "'pillars' must be a list"),
    (
        "entry is a string",
        "pillars:\n  - prosperity\n",
        "pillars.yaml:2: pillar #1: expected a mapping",
    ),
    (
        "duplicate key",
        GOOD_PILLARS.replace("    number: I\n", "    number: I\n    number: II\n", 1),
        "duplicate key 'number' (first on line 3)",
    ),
    (
        "alias bomb",
        "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\npillars: [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n",
        "YAML aliases (*name) are not supported",
    ),
    (
        "python tag",
        "pillars: !!python/object/apply:os.system ['touch /tmp/cmx-pwned']\n",
        "unsupported YAML tag",
    ),
    ("custom tag", "pillars:\n  - !custom {id: x}\n", "unsupported YAML tag '!custom'"),
    # cmx stops at 64 levels; a newer PyYAML may stop first with its own words. Either
    # way: one line naming the file and line that says it is nested too deep.
    ("deep nesting", "pillars: " + "[" * 5000 + "]" * 5000 + "\n", "pillars.yaml:1: "),
    ("two documents", "pillars: []\n---\npillars: []\n", "more than one YAML document"),
    ("merge key", "pillars:\n  - <<: {id: x}\n", "merge keys (<<) are not supported"),
]


@pytest.mark.parametrize(("label", "content", "expected"), CASES, ids=[c[0] for c in CASES])
def test_broken_yaml_gives_one_clear_line(kb_copy, label, content, expected):
    problems = broken(kb_copy, "pillars.yaml", content)
    assert any(expected in p for p in problems), problems
    if label == "deep nesting":
        assert len(problems) == 1 and "nest" in problems[0], problems
    assert all(
        p.startswith(str(kb_copy / "pillars.yaml")) or "commitments.yaml" in p or "notes.yaml" in p
        for p in problems
    )


def test_python_tags_execute_nothing(kb_copy, tmp_path):
    marker = tmp_path / "pwned"
    broken(
        kb_copy, "sources.yaml", f"sources: !!python/object/apply:os.system ['touch {marker}']\n"
    )
    assert not marker.exists()


def test_non_utf8_bytes(kb_copy):
    problems = broken(kb_copy, "notes.yaml", b"notes:\n  - id: x\n" + b"    title: caf\xe9\n")
    assert problems == [f"{kb_copy / 'notes.yaml'}:3: not valid UTF-8 (byte 31); save as UTF-8"]


def test_bom_and_crlf_load_fine(kb_copy):
    for name in ("pillars.yaml", "commitments.yaml"):
        path = kb_copy / name
        text = path.read_text(encoding="utf-8").replace("\n", "\r\n")
        path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    assert len(load_kb(kb_copy).commitments) == 4


def test_huge_file_is_refused(kb_copy, monkeypatch):
    monkeypatch.setattr(kbmod, "MAX_FILE_BYTES", 1000)
    problems = broken(kb_copy, "notes.yaml", "notes: []\n" + "#" * 2000 + "\n")
    assert any("the limit is 1,000" in p for p in problems)


def test_a_folder_where_a_file_should_be(kb_copy):
    (kb_copy / "notes.yaml").unlink()
    (kb_copy / "notes.yaml").mkdir()
    with pytest.raises(KBError, match="is a folder, expected a YAML file"):
        load_kb(kb_copy)


@pytest.mark.parametrize("where", ["missing", "file"])
def test_data_option_pointing_at_nothing(runner, tmp_path, where):
    target = tmp_path / "x"
    if where == "file":
        target.write_text("pillars: []\n")
    result = runner.invoke(app, ["--data", str(target), "pillars"])
    assert result.exit_code == 2
    assert ("no such folder" if where == "missing" else "is a file") in result.stderr
    assert "Traceback" not in result.stderr


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.text(
        alphabet=st.sampled_from(list("ab:-[]{}#&*!|>'\" \n\t\r0123456789.%@`,?")), max_size=120
    )
)
def test_loader_raises_only_kberror_on_yaml_ish_text(tmp_path, text):
    path = tmp_path / "pillars.yaml"
    path.write_text(text, encoding="utf-8")
    with contextlib.suppress(KBError):
        read_yaml(path)


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.text(max_size=200))
def test_whole_loader_raises_only_kberror_on_any_text(kb_copy, text):
    (kb_copy / "commitments.yaml").write_text("commitments:\n  - " + text, encoding="utf-8")
    with contextlib.suppress(KBError):
        load_kb(kb_copy)


# ---------------------------------------------------------------------- real processes


def cmx(*args: str, env: dict | None = None, stdout=subprocess.PIPE) -> subprocess.CompletedProcess:
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "cmx", *args],
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
        env=full_env,
        check=False,
    )


@pytest.mark.parametrize(
    "args",
    [["commitments"], ["export", "markdown"], ["commitments", "-f", "json"], ["search", "energy"]],
)
def test_closed_pipe_ends_quietly(args):
    """`cmx … | head -1` and `cmx … | true`: no BrokenPipeError text."""
    for reader in ("head -1", "true"):
        cmd = " ".join([sys.executable, "-m", "cmx", *args]) + f" | {reader}"
        proc = subprocess.run(
            ["bash", "-c", f"set -o pipefail; {cmd}"], capture_output=True, text=True, check=False
        )
        assert "Error" not in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
        assert proc.returncode in (0, 1, 141)


def test_narrow_terminal_stays_readable():
    proc = cmx("commitments", env={"COLUMNS": "40"})
    assert proc.returncode == 0
    assert max(len(line) for line in proc.stdout.splitlines()) <= 120
    assert "…" in proc.stdout


def test_internal_errors_are_one_line_without_debug(tmp_path):
    """A bug prints one line and exit 3; --debug shows the traceback."""
    script = (
        "import sys, cmx.run, cmx.process\n"
        "def boom(*a, **k): raise RuntimeError('boom')\n"
        "cmx.run.Run.store = boom\n"
        "sys.argv = ['cmx'] + sys.argv[1:]\n"
        "cmx.process.main()\n"
    )
    (tmp_path / "run.py").write_text(script)
    quiet = subprocess.run(
        [sys.executable, str(tmp_path / "run.py"), "pillars"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert quiet.returncode == 3
    assert "internal error: RuntimeError: boom" in quiet.stderr
    assert "Traceback" not in quiet.stderr
    loud = subprocess.run(
        [sys.executable, str(tmp_path / "run.py"), "--debug", "pillars"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert "Traceback" in loud.stderr
