"""Hard to break, round two: terminals, files, caches and odd environments.

Each case is what a careful user expects: a clear message, the right exit code, nothing
lost, nothing dangerous printed.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import re
import signal
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cmx import output, render, tracking
from cmx import rows as rows_of
from cmx.cli import app
from cmx.kb import KBError, load_kb
from cmx.model import (
    Citation,
    Commitment,
    Event,
    KnowledgeBase,
    Note,
    Pillar,
    Sector,
    Source,
    SourceKind,
    Status,
    Support,
    Text,
)
from cmx.search import MemoryIndex, search

CMX = [sys.executable, "-m", "cmx"]
RAW_CONTROL = [chr(c) for c in (*range(0x00, 0x09), *range(0x0B, 0x20), *range(0x7F, 0xA0))]


def has_raw_control(text: str) -> bool:
    return any(ch in text for ch in RAW_CONTROL)


def run_cmx(*args: str, env: dict[str, str] | None = None, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*CMX, *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=60,
        check=False,
        **kwargs,
    )


def shell(command: str, **env: str) -> subprocess.CompletedProcess:
    """`command` run by bash, with `cmx` meaning this Python's cmx."""
    cmx = " ".join(CMX)
    return subprocess.run(
        ["bash", "-c", command.replace("cmx ", f"{cmx} ", 1)],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=60,
        check=False,
    )


# ------------------------------------------------------------- data loss, files


@pytest.mark.skipif(os.geteuid() != 0, reason="making a device file needs root")
def test_force_never_replaces_a_device(runner, kb_dir, tmp_path):
    device = tmp_path / "null-like"
    os.mknod(device, stat.S_IFCHR | 0o666, os.makedev(1, 3))  # what /dev/null is
    result = runner.invoke(
        app, ["--data", str(kb_dir), "export", "csv", "-o", str(device), "--force"]
    )
    assert result.exit_code == 2
    assert "not a regular file" in result.stderr
    assert stat.S_ISCHR(device.stat().st_mode)


@pytest.mark.parametrize("kind", ["fifo", "socket", "folder"])
def test_force_never_replaces_a_fifo_socket_or_folder(runner, kb_dir, tmp_path, kind):
    target = tmp_path / "target"
    if kind == "fifo":
        os.mkfifo(target)
    elif kind == "socket":
        sock = socket.socket(socket.AF_UNIX)
        sock.bind(str(target))
    else:
        target.mkdir()
    args = ["--data", str(kb_dir), "export", "markdown", "-o", str(target), "--force"]
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert ("not a regular file" if kind != "folder" else "is a folder") in result.stderr
    assert not target.is_file()
    assert [p.name for p in tmp_path.iterdir()] == ["target"]  # no temporary file left


def test_new_files_follow_the_umask_and_replaced_files_keep_their_mode(runner, kb_dir, tmp_path):
    old = os.umask(0o027)
    try:
        new = tmp_path / "new.md"
        assert (
            runner.invoke(app, ["--data", str(kb_dir), "export", "json", "-o", str(new)]).exit_code
            == 0
        )
        assert stat.S_IMODE(new.stat().st_mode) == 0o640
        kept = tmp_path / "kept.json"
        kept.write_text("old")
        kept.chmod(0o600)
        args = ["--data", str(kb_dir), "export", "json", "-o", str(kept), "--force"]
        assert runner.invoke(app, args).exit_code == 0
        assert stat.S_IMODE(kept.stat().st_mode) == 0o600
        assert kept.read_text() != "old"
    finally:
        os.umask(old)


def test_a_file_where_a_folder_should_be_is_named(runner, kb_dir, tmp_path):
    (tmp_path / "afile").write_text("x")
    result = runner.invoke(
        app, ["--data", str(kb_dir), "export", "markdown", "-o", str(tmp_path / "afile" / "b.md")]
    )
    assert result.exit_code == 2
    assert "afile' is a file, not a folder" in result.stderr
    assert "does not exist" not in result.stderr


def test_a_file_name_near_the_limit_is_written(runner, kb_dir, tmp_path):
    name = "b" * 250 + ".md"  # 253 bytes: a temporary name must not add to it
    result = runner.invoke(
        app, ["--data", str(kb_dir), "export", "markdown", "-o", str(tmp_path / name)]
    )
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / name).read_text(encoding="utf-8").startswith("---\ntitle: ")


SLOW_EXPORT = """
import sys, time
from cmx import files, process
real = files.write_atomic_with
def slow(path, fill, force=False):
    def slow_fill(tmp):
        fill(tmp)
        print("writing", flush=True)
        time.sleep(60)
    real(path, slow_fill, force=force)
files.write_atomic_with = slow
sys.argv = ["cmx", *sys.argv[1:]]
process.main()
"""


def test_sigterm_during_an_export_leaves_no_temporary_file(kb_dir, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            SLOW_EXPORT,
            "--data",
            str(kb_dir),
            "export",
            "json",
            "-o",
            str(out / "x.json"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline() == b"writing\n"
    assert len(list(out.iterdir())) == 1  # the temporary file, mid-write
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=20)
    assert proc.returncode == 143
    assert list(out.iterdir()) == []


# ------------------------------------------------------ dangerous text, injection


def test_control_characters_in_the_kb_fail_validate_with_file_and_line(runner, kb_copy):
    path = kb_copy / "commitments.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text.replace("Upgrade the port", "Upgrade the port\\u001b]0;pwned\\u0007", 1)
        .replace("title: {en: Upgrade", 'title: {en: "Upgrade', 1)
        .replace("Manzanillo, es: Modernizar", 'Manzanillo", es: Modernizar', 1),
        encoding="utf-8",
    )
    result = runner.invoke(app, ["--data", str(kb_copy), "validate"])
    assert result.exit_code == 2
    assert "commitments.yaml:5:" in result.stderr and "control character U+001B" in result.stderr
    assert not has_raw_control(result.stderr)


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "https://example.org/a\n# Injected",
        "ftp://example.org/x",
        "//example.org",
        "https://exa mple.org",
    ],
)
def test_only_absolute_http_urls_pass_validate(kb_copy, url):
    path = kb_copy / "sources.yaml"
    text = path.read_text(encoding="utf-8")
    assert "url:" in text
    lines = [
        f"    url: {json.dumps(url)}" if line.strip().startswith("url:") else line
        for line in text.splitlines()
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(KBError) as info:
        load_kb(kb_copy)
    assert any("not an absolute http(s) URL" in p for p in info.value.problems)


def test_an_id_with_a_newline_cannot_forge_a_line(runner, kb_dir):
    result = runner.invoke(app, ["--data", str(kb_dir), "show", "x\ncmx: error: forged\x1b[2J"])
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1  # one line
    assert "\\ncmx: error: forged\\x1b[2J" in result.stderr
    assert not has_raw_control(result.stderr.rstrip("\n"))


def csv_with(kb_copy: Path, runner, *extra: str) -> list[dict[str, str]]:
    path = kb_copy / "commitments.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace(
            "{en: Upgrade the port of Manzanillo,", '{en: "=HYPERLINK(\\"http://x\\")",', 1
        ),
        encoding="utf-8",
    )
    result = runner.invoke(app, ["--data", str(kb_copy), *extra, "export", "csv"])
    assert result.exit_code == 0, result.stderr
    return list(csv.DictReader(io.StringIO(result.stdout)))


def test_csv_cells_that_start_a_formula_are_neutralised(runner, kb_copy):
    rows = csv_with(kb_copy, runner)
    assert rows[0]["title"] == '\'=HYPERLINK("http://x")'
    assert not any(v.startswith(("=", "+", "-", "@")) for r in rows for v in r.values())


def test_raw_csv_keeps_values_as_they_are(runner, kb_copy):
    rows = csv_with(kb_copy, runner, "--raw-csv")
    assert rows[0]["title"] == '=HYPERLINK("http://x")'


# ------------------------------------------------------------- streams, crashes


def test_closed_stdout_is_a_clear_error_not_a_traceback():
    result = shell("cmx pillars >&-")
    assert result.returncode == 2
    assert "standard output is closed" in result.stderr
    assert "Traceback" not in result.stderr


def test_closed_stderr_does_not_fail_a_good_run():
    result = shell("cmx pillars 2>&-")
    assert result.returncode == 0
    assert "prosperity" in result.stdout


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_a_full_disk_is_reported_not_a_bug():
    result = shell("cmx export markdown > /dev/full")
    assert result.returncode == 2
    assert "cannot write the output: No space left on device" in result.stderr
    assert "internal error" not in result.stderr


@pytest.mark.parametrize(
    "env",
    [{"PYTHONIOENCODING": "ascii"}, {"LC_ALL": "C", "PYTHONUTF8": "0", "PYTHONIOENCODING": ""}],
)
def test_an_ascii_only_stdout_gets_the_nearest_ascii(env):
    result = run_cmx("show", "parks-canada-conanp-mou", "--lang", "fr", env=env)
    assert result.returncode == 0, result.stderr
    assert "protegees" in result.stdout  # é -> e
    stats = run_cmx("stats", env=env)
    assert stats.returncode == 0 and "#" in stats.stdout  # the bars, in ASCII


def test_no_home_and_no_cache_setting_runs_without_a_store(tmp_path):
    env = {
        k: v for k, v in os.environ.items() if k not in ("HOME", "CMX_CACHE_DIR", "XDG_CACHE_HOME")
    }
    script = (
        "import pathlib, sys\n"
        "def nohome(cls): raise RuntimeError('Could not determine home directory.')\n"
        "pathlib.Path.home = classmethod(nohome)\n"
        "from cmx import process\n"
        "sys.argv = ['cmx', 'search', 'energy', '-f', 'json']\n"
        "process.main()\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)


def test_a_kb_folder_whose_name_is_not_utf8(runner, kb_copy, tmp_path):
    odd = tmp_path / os.fsdecode(b"kb-\xff\xfe")
    kb_copy.rename(odd)
    result = runner.invoke(app, ["--data", str(odd), "search", "cranes", "-f", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)[0]["id"] == "port-upgrade"


@pytest.mark.parametrize("kind", ["fifo", "socket", "zero"])
def test_a_non_regular_kb_file_is_refused_at_once(kb_copy, kind):
    notes = kb_copy / "notes.yaml"
    notes.unlink()
    if kind == "fifo":
        os.mkfifo(notes)
    elif kind == "socket":
        sock = socket.socket(socket.AF_UNIX)
        sock.bind(str(notes))
    else:
        notes.symlink_to("/dev/zero")
    start = time.monotonic()
    result = run_cmx("--data", str(kb_copy), "validate")
    assert time.monotonic() - start < 30
    assert result.returncode == 2
    assert "notes.yaml: not a regular file" in result.stderr


def test_a_dangling_notes_link_is_named(runner, kb_copy):
    notes = kb_copy / "notes.yaml"
    notes.unlink()
    notes.symlink_to(kb_copy / "gone.yaml")
    result = runner.invoke(app, ["--data", str(kb_copy), "validate"])
    assert result.exit_code == 2
    assert "notes.yaml: broken link" in result.stderr


@pytest.mark.parametrize(("var", "value"), [("CMX_LANG", "xx"), ("CMX_TODAY", "garbage")])
def test_a_bad_environment_variable_is_named(runner, kb_dir, var, value):
    result = runner.invoke(app, ["--data", str(kb_dir), "commitments"], env={var: value})
    assert result.exit_code == 2
    assert f"{var}='{value}'" in result.stderr
    assert "--lang" not in result.stderr and "--today" not in result.stderr


@pytest.mark.parametrize("value", ["0", "false", "no", "off", ""])
def test_cmx_debug_off_values_mean_off(tmp_path, value):
    script = (
        "import sys, cmx.run, cmx.process\n"
        "def boom(*a, **k): raise RuntimeError('boom')\n"
        "cmx.run.Run.store = boom\n"
        "sys.argv = ['cmx', 'pillars']\n"
        "cmx.process.main()\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env={**os.environ, "CMX_DEBUG": value},
        check=False,
    )
    assert result.returncode == 3
    assert "Traceback" not in result.stderr


def read_pty(argv: list[str], columns: str) -> tuple[int, str]:
    from conftest import run_on_pty

    return run_on_pty(argv, columns, TERM="xterm")


@pytest.mark.parametrize("columns", ["0", "abc", "-5", "99999"])
def test_bad_columns_fall_back_to_a_sane_width(columns):
    code, text = read_pty([*CMX, "pillars"], columns)
    assert code == 0
    assert "prosperity" in text
    piped = run_cmx("pillars", env={"COLUMNS": columns})
    assert piped.returncode == 0 and "prosperity" in piped.stdout


# ------------------------------------------------- every output format, any text


def text_of(s: str) -> Text:
    return Text(s or "x", s or "y", s or "z")


@st.composite
def knowledge_bases(draw) -> KnowledgeBase:
    anything = st.text(min_size=1, max_size=30)
    words = [draw(anything) for _ in range(6)]
    source = Source(
        "src",
        words[0],
        words[1],
        SourceKind.NEWS,
        "https://example.org/",
        "2026-01-01",
        note=Text(words[2], words[2], words[2]),
    )
    sector = Sector(
        "sec",
        "prosperity",
        None,
        text_of(words[3]),
        text_of(words[4]),
        (Citation("src", words[5]),),
    )
    pillar = Pillar(
        "prosperity", "I", text_of(words[1]), text_of(words[2]), (Citation("src"),), (sector,)
    )
    commitment = Commitment(
        "c-1", "prosperity", "sec", text_of(words[0]), text_of(words[3]), (Citation("src", words[4]),),
        status=Status.UNDERWAY, actors=(words[5],), due="2026-01-31",
        events=(Event("2025-12-01", text_of(words[2]), "src", Status.UNDERWAY),), tags=(words[1],),
    )  # fmt: skip
    note = Note("n-1", "src", text_of(words[4]), text_of(words[5]), Support.STATED, ("c-1",))
    return KnowledgeBase((pillar,), (commitment,), (source,), (note,))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(knowledge_bases())
def test_no_output_format_lets_a_control_character_or_formula_through(kb):
    """Whatever text the records hold, what cmx prints carries no raw control character,
    and no CSV cell starts a formula."""
    today = dt.date(2026, 6, 1)
    c = kb.commitments[0]
    listing = [
        rows_of.commitment_row(c, kb, "en", dt.date(2026, 1, 1)),
        rows_of.pillar_row(kb.pillars[0], kb.counts(), "en"),
    ]
    rows = render.clean(listing)
    hits = search(MemoryIndex(kb), c.title.en, limit=5)
    results = [
        output.Listing(listing, ["id", "title", "summary", "status"]),
        output.Record(c, kb),
        output.Selection(kb, list(kb.commitments), full=True),
        output.Hits(hits, [rows_of.hit_row(h, "en") for h in hits], [], explain=True,
                    columns=["id", "title", "snippet", "why"]),
    ]  # fmt: skip
    outputs = []
    for result in results:
        for name in output.formats(type(result)):
            fmt = output.Format(name)
            if fmt in (output.Format.SQLITE, output.Format.SITE):  # folders and files
                continue
            for rich in (False, True) if fmt is output.Format.TABLE else (False,):
                reader = output.Reader("en", today, 80, rich, rich)
                outputs.append(output.write(result, fmt, reader))
    outputs += [render.to_json(render.clean(tracking.timeline(kb, today, "en")))]
    for text in outputs:
        stripped = re.sub(r"\x1b\[[0-9;]*m", "", text)  # cmx's own colours, nothing else
        stripped = re.sub(r"\x1b\]8;[^\x1b]*\x1b\\", "", stripped)  # and its links
        stripped = stripped.replace("\r\n", "\n")  # the line ends of a calendar
        assert not has_raw_control(stripped.replace("\n", "").replace("\t", "")), repr(text)
    for row in csv.reader(io.StringIO(render.to_csv(rows))):
        assert not any(cell.startswith(render.FORMULA_START) for cell in row), row
