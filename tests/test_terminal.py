"""Output that fits the terminal, the pipe and the spreadsheet; completion and discovery.

Terminal cases run cmx on a real pseudo-terminal, as a person would see it."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from cmx.cli import app
from cmx.search import highlight_spans

CMX = [sys.executable, "-m", "cmx"]
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]|\x1b\]8;[^\x1b\x07]*(?:\x1b\\|\x07)")


def on_pty(args: list[str], columns: int, **env: str) -> str:
    """What cmx writes to a terminal `columns` wide (escape sequences kept)."""
    from conftest import run_on_pty

    return run_on_pty([*CMX, *args], str(columns), **env)[1]


def visible(text: str) -> str:
    return ANSI.sub("", text)


def expected_ids(args: list[str]) -> list[str]:
    """The ids a command lists (from its JSON): each must appear whole on screen."""
    result = subprocess.run([*CMX, *args, "-f", "json"], capture_output=True, text=True, check=True)
    return [row["id"] for row in json.loads(result.stdout)]


@pytest.mark.parametrize("columns", [60, 80, 120])
@pytest.mark.parametrize(
    "args",
    [
        ["commitments"],
        ["commitments", "--pillar", "environment"],
        ["sectors"],
        ["timeline", "--today", "2026-11-22"],
        ["search", "protected areas"],
    ],
)
def test_no_id_is_ever_split_on_a_terminal(args, columns):
    screen = visible(on_pty(args, columns))
    ids = expected_ids(args)
    assert ids
    missing = [i for i in dict.fromkeys(ids) if i not in screen]
    assert not missing, f"ids not printed whole at {columns} columns: {missing}"


def test_a_column_that_repeats_the_filter_is_dropped():
    screen = visible(on_pty(["commitments", "--pillar", "environment"], 80))
    assert "PILLAR" not in screen and "environment" not in screen.split("\n", 2)[1]
    piped = subprocess.run(
        [*CMX, "commitments", "--status", "completed"], capture_output=True, text=True
    )
    assert piped.stdout.split()[:4] == ["ID", "PILLAR", "TITLE", "DUE"]
    # a status column that carries an overdue mark is kept, so the mark is not lost
    late = subprocess.run(
        [*CMX, "commitments", "--status", "planned", "--today", "2026-12-06"],
        capture_output=True,
        text=True,
    )
    assert "STATUS" in late.stdout and "planned · overdue" in late.stdout


def test_search_marks_the_matched_words_on_a_terminal():
    raw = on_pty(["search", "fentanyl"], 100)
    marked = re.findall(r"\x1b\[1;33m([^\x1b]+)\x1b\[0m", raw)
    assert any("fentanyl" in m.lower() for m in marked), raw[:800]


def test_highlighting_survives_folding_that_changes_length():
    text = "…la Energía y el fentanilo — Ströme"
    spans = highlight_spans(text, ["energia", "fentanyl", "strome"])
    assert [text[a:b] for a, b in spans] == ["Energía", "fentanilo", "Ströme"]


@pytest.mark.parametrize("entry", ["parks-canada-conanp-mou", "gac-action-plan", "I.1"])
@pytest.mark.parametrize("columns", [60, 80])
def test_urls_are_never_broken_across_lines(entry, columns):
    raw = visible(on_pty(["show", entry], columns))
    urls = re.findall(r"https?://[^\s;]+", raw)
    assert urls
    whole = subprocess.run(
        [*CMX, "sources", "-f", "json"], capture_output=True, text=True, check=True
    )
    known = {s["url"] for s in json.loads(whole.stdout) if s["url"]}
    assert set(urls) <= known  # each printed whole, on one line


def test_ids_are_hyperlinks_on_a_terminal_and_plain_in_a_pipe():
    raw = on_pty(["commitments", "--pillar", "environment"], 120)
    assert "\x1b]8;" in raw  # OSC 8
    piped = subprocess.run([*CMX, "commitments"], capture_output=True, text=True)
    assert "\x1b" not in piped.stdout


def test_sources_have_a_url_column_when_piped(runner):
    result = runner.invoke(app, ["sources"])
    assert result.stdout.split()[:6] == ["ID", "KIND", "DATE", "PUBLISHER", "TITLE", "URL"]
    assert "https://www.international.gc.ca/" in result.stdout


def test_open_prints_the_url_and_uses_the_browser_when_there_is_one():
    env = {**os.environ, "BROWSER": "true"}
    opened = subprocess.run([*CMX, "open", "I.1"], capture_output=True, text=True, env=env)
    assert opened.returncode == 0
    assert opened.stdout.startswith("https://www.international.gc.ca/")
    assert "browser" in opened.stderr
    missing = subprocess.run([*CMX, "open", "parks-canda"], capture_output=True, text=True)
    assert missing.returncode == 1 and "did you mean 'parks-canada'" in missing.stderr


# ------------------------------------------------------------------ CSV for spreadsheets


def test_excel_csv_has_a_bom_semicolons_and_crlf(runner, tmp_path):
    out = tmp_path / "plan.csv"
    assert (
        runner.invoke(app, ["export", "csv", "--excel", "-o", str(out), "--lang", "fr"]).exit_code
        == 0
    )
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:3] == ["ID", "Pilier", "Domaine prioritaire"]
    assert any("é" in cell for row in rows for cell in row)  # accents intact


def test_bom_defaults_and_switches(runner, tmp_path):
    assert not runner.invoke(app, ["export", "csv"]).stdout.startswith("\ufeff")
    assert runner.invoke(app, ["export", "csv", "--bom"]).stdout.startswith("\ufeff")
    out = tmp_path / "a.csv"
    runner.invoke(app, ["export", "csv", "-o", str(out), "--no-bom"])
    assert not out.read_bytes().startswith(b"\xef\xbb\xbf")
    semi = runner.invoke(app, ["export", "csv", "--delimiter", ";"]).stdout
    assert semi.splitlines()[0].startswith("id;pillar;sector;title")
    bad = runner.invoke(app, ["export", "csv", "--delimiter", ";;"])
    assert bad.exit_code == 2 and "--delimiter" in bad.stderr


@pytest.mark.parametrize(
    ("table", "header"),
    [
        ("events", ["commitment", "date", "what", "source", "status"]),
        ("citations", ["commitment", "source", "section"]),
        (
            "sources",
            ["id", "title", "publisher", "date", "url", "kind", "language", "reliability", "note"],
        ),
    ],
)
def test_one_row_per_item_tables(runner, table, header):
    result = runner.invoke(app, ["export", "csv", "--table", table])
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0] == header and len(rows) > 10


# ------------------------------------------------------------------ discovery


def test_tags_with_counts(runner):
    rows = json.loads(runner.invoke(app, ["tags", "-f", "json"]).stdout)
    counts = [r["commitment_count"] for r in rows]
    assert counts == sorted(counts, reverse=True) and counts[0] > 1
    assert {"tag", "label", "commitment_count"} == set(rows[0])


def test_fields_and_sort(runner):
    result = runner.invoke(
        app, ["commitments", "--fields", "id,due", "--sort", "due", "-f", "json"]
    )
    rows = json.loads(result.stdout)
    assert set(rows[0]) == {"id", "due"}
    dues = [r["due"] for r in rows if r["due"]]
    assert dues == sorted(dues) and rows[-1]["due"] is None  # empty values last
    table = runner.invoke(app, ["commitments", "--fields", "id,due", "--sort", "-due"])
    assert table.stdout.split()[:2] == ["ID", "DUE"]
    bad = runner.invoke(app, ["commitments", "--fields", "id,titel"])
    assert bad.exit_code == 2 and "did you mean 'title'" in bad.stderr


def test_plain_cmx_prints_help_on_stdout():
    result = subprocess.run(CMX, capture_output=True, text=True)
    assert result.returncode == 0 and "Usage: " in result.stdout and "pillars" in result.stdout


def test_bash_completion_offers_ids_from_the_knowledge_base():
    cmx = [str(Path(sys.executable).parent / "cmx")]  # completion keys on the program's name
    env = {
        **os.environ,
        "_CMX_COMPLETE": "complete_bash",
        "COMP_WORDS": "cmx show parks-",
        "COMP_CWORD": "2",
    }
    shown = subprocess.run(cmx, capture_output=True, text=True, env=env)
    assert "parks-canada-conanp-mou" in shown.stdout.split()
    env = {**env, "COMP_WORDS": "cmx commitments --pillar se", "COMP_CWORD": "3"}
    assert subprocess.run(cmx, capture_output=True, text=True, env=env).stdout.split() == [
        "security",
        "seguridad",  # a Spanish reader's name for it (an alias the option accepts)
    ]
    script = subprocess.run(
        cmx, capture_output=True, text=True, env={**os.environ, "_CMX_COMPLETE": "bash_source"}
    )
    assert "complete -o default -F _cmx_completion cmx" in script.stdout
    for shell, line in (
        ("bash", "complete -o default -F _cmx_completion cmx"),
        ("zsh", "#compdef cmx"),
        ("fish", "complete --command cmx"),
    ):
        printed = subprocess.run([*CMX, "completion", shell], capture_output=True, text=True)
        assert line in printed.stdout, shell


@pytest.mark.parametrize(
    ("shell", "where", "rc"),
    [("zsh", ".zfunc/_cmx", ".zshrc"), ("fish", ".config/fish/completions/cmx.fish", None),
     ("bash", ".bash_completions/cmx.sh", ".bashrc")],
)  # fmt: skip
def test_completion_installs_into_the_right_shells_files(tmp_path, shell, where, rc):
    env = {**os.environ, "HOME": str(tmp_path)}
    done = subprocess.run(
        [*CMX, "completion", shell, "--install"], capture_output=True, text=True, env=env
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / where).exists()
    others = {".zshrc", ".bashrc"} - {rc}
    assert not any((tmp_path / other).exists() for other in others)


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ("cmx commitments --status en", {"en curso", "en cours"}),
        ("cmx commitments --format ", {"table", "json", "csv", "yaml"}),
        ("cmx export ", {"markdown", "ics", "json", "csv", "yaml", "sqlite", "site"}),
        ("cmx search x --lang ", {"en", "es", "fr"}),
        (
            "cmx sources --kind o",
            {"official", "official-reproduced", "oficial", "officielle"},
        ),
    ],
)
def test_completion_of_fixed_values(words, expected):
    cmx = [str(Path(sys.executable).parent / "cmx")]
    env = {**os.environ, "_CMX_COMPLETE": "complete_bash", "COMP_WORDS": words,
           "COMP_CWORD": str(len(words.split(" ")) - 1)}  # fmt: skip
    shown = set(subprocess.run(cmx, capture_output=True, text=True, env=env).stdout.splitlines())
    assert expected <= shown, shown


@pytest.mark.parametrize("columns", [80, 120])
@pytest.mark.parametrize(
    "args",
    [
        ["commitments", "--lang", "es"],
        ["changes", "--since", "2026-01-01", "--lang", "fr", "--today", "2026-11-22"],
        ["timeline", "--lang", "fr", "--today", "2026-11-22"],
        ["commitments", "--pillar", "seguridad", "--lang", "es"],
        ["pillars", "--lang", "fr"],
        ["sectors", "--lang", "es"],
        ["sources"],
        ["actors", "--lang", "fr"],
        ["search", "energía", "--lang", "es"],
    ],
)
def test_tables_fit_the_terminal_and_keep_room_for_text(args, columns):
    """Wider than the terminal, a table is wrapped by the terminal itself, splitting ids:
    on a narrow one cmx leaves out the pillar and type columns instead."""
    screen = visible(on_pty(args, columns, CMX_QUIET="1"))
    lines = [line for line in screen.splitlines() if line.strip()]
    assert lines and max(len(line) for line in lines) <= columns
    ids = expected_ids(args)
    assert all(i in screen for i in ids)


def test_messages_wrap_at_the_terminal_and_stay_one_line_in_a_pipe(runner):
    """On a terminal a long message wraps at spaces; piped (a log), it stays one line."""
    args = ["show", "no-such-entry-with-a-rather-long-name", "--lang", "es"]
    from conftest import run_on_pty

    code, screen = run_on_pty([*CMX, *args], "50", CMX_QUIET="1")
    lines = [line for line in visible(screen).splitlines() if line.strip()]
    assert code == 1 and len(lines) > 1 and max(len(line) for line in lines) <= 50
    piped = subprocess.run(
        [*CMX, *args], capture_output=True, text=True, env={**os.environ, "CMX_QUIET": "1"}
    )
    assert len(piped.stderr.strip().splitlines()) == 1
