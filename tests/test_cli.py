"""The command line as a user meets it: exit codes, stdout data, stderr messages."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys

import pytest
from typer.main import get_command

from cmx.cli import app

COMMANDS = sorted(get_command(app).commands)  # type: ignore[attr-defined]


def test_the_command_list_is_complete():
    assert {"pillars", "commitments", "search", "export", "validate"} <= set(COMMANDS)


def run(runner, kb_dir, *args: str):
    return runner.invoke(app, ["--data", str(kb_dir), *args])


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(runner, command):
    result = runner.invoke(app, [command, "--help"])
    assert result.exit_code == 0
    assert "Usage" in result.stdout


def test_version(runner):
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.startswith("cmx ")


def test_pillars_json_has_schema_keys(runner, kb_dir):
    result = run(runner, kb_dir, "pillars", "-f", "json")
    assert result.exit_code == 0, result.stderr
    rows = json.loads(result.stdout)
    assert [r["id"] for r in rows] == ["prosperity", "security"]
    assert rows[0]["sectors"] == ["ports"]
    assert rows[0]["commitment_count"] == 2
    assert {"id", "number", "name", "summary", "sources"} <= rows[0].keys()


@pytest.mark.parametrize(
    ("lang", "name"), [("en", "Security"), ("es", "Seguridad"), ("fr", "Sécurité")]
)
def test_lang_picks_the_text(runner, kb_dir, lang, name):
    result = run(runner, kb_dir, "pillars", "--lang", lang, "-f", "json")
    assert json.loads(result.stdout)[1]["name"] == name


def test_lang_from_environment(runner, kb_dir):
    result = runner.invoke(
        app, ["--data", str(kb_dir), "pillars", "-f", "json"], env={"CMX_LANG": "fr"}
    )
    assert json.loads(result.stdout)[0]["name"] == "Prospérité"


def test_pillars_plain_table_when_piped(runner, kb_dir):
    result = run(runner, kb_dir, "pillars")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["NO.", "ID", "NAME", "PRIORITY", "AREAS", "COMMITMENTS"]
    assert "\x1b[" not in result.stdout  # no colour codes in a pipe


def test_sectors_of_a_pillar_csv(runner, kb_dir):
    result = run(runner, kb_dir, "sectors", "--pillar", "security", "-f", "csv")
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [r["id"] for r in rows] == ["trafficking"]


@pytest.mark.parametrize(
    ("args", "ids"),
    [
        (["--pillar", "security"], ["fentanyl-funding", "border-talks"]),
        (["--sector", "ports"], ["port-upgrade", "energy-dialogue"]),
        (["--status", "completed"], ["port-upgrade"]),
        (["--instrument", "funding"], ["fentanyl-funding"]),
        (["--actor", "unodc"], ["fentanyl-funding"]),
        (["--source", "firm"], ["energy-dialogue"]),
        (["--tag", "ports"], ["port-upgrade"]),
        (["--due-before", "2026-01-01"], ["port-upgrade", "border-talks"]),
        (["--overdue", "--today", "2026-04-01"], ["energy-dialogue"]),
        (["--pillar", "prosperity", "--status", "planned"], ["energy-dialogue"]),
    ],
)
def test_commitment_filters(runner, kb_dir, args, ids):
    result = run(runner, kb_dir, "commitments", *args, "-f", "json")
    assert result.exit_code == 0, result.stderr
    assert [r["id"] for r in json.loads(result.stdout)] == ids


def test_overdue_uses_global_today(runner, kb_dir):
    early = runner.invoke(
        app, ["--data", str(kb_dir), "--today", "2026-01-01", "commitments", "--overdue"]
    )
    assert early.exit_code == 1  # nothing is overdue yet
    late = runner.invoke(
        app,
        ["--data", str(kb_dir), "commitments", "--overdue", "-f", "json"],
        env={"CMX_TODAY": "2027-01-01"},
    )
    assert [r["id"] for r in json.loads(late.stdout)] == ["energy-dialogue"]


def test_filter_matching_nothing_exits_1_with_empty_json(runner, kb_dir):
    result = run(
        runner,
        kb_dir,
        "commitments",
        "--status",
        "not-pursued",
        "--pillar",
        "prosperity",
        "-f",
        "json",
    )
    assert result.exit_code == 1
    assert json.loads(result.stdout) == []
    assert "no commitment matched" in result.stderr


def test_empty_csv_keeps_header(runner, kb_dir):
    result = run(runner, kb_dir, "commitments", "--due-before", "1900-01-01", "-f", "csv")
    assert result.exit_code == 1
    assert result.stdout.strip() == "id,pillar,title,status,due"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["commitments", "--pillar", "securty"], "did you mean 'security'?"),
        (["commitments", "--status", "complete"], "did you mean 'completed'?"),
        (["commitments", "--instrument", "mous"], "did you mean 'MoU'?"),
        (["commitments", "--sector", "port"], "did you mean 'ports'?"),
        (["commitments", "-f", "jsn"], "did you mean 'json'?"),
        (["commitments", "--lang", "de"], "choose from: en, es, fr"),
        (["commitments", "--due-before", "31/03/2026"], "not a date"),
        (["search", "x", "--kind", "comitment"], "did you mean 'commitment'?"),
        (["notes", "--support", "said"], "choose from"),
        (["sources", "--kind", "offical"], "did you mean 'official'?"),
        (["timeline", "--from", "soon"], "not a date"),
        (["export", "pdf"], "choose from: markdown, ics, json, csv, yaml"),
    ],
)
def test_bad_values_exit_2_with_a_hint(runner, kb_dir, args, message):
    result = run(runner, kb_dir, *args)
    assert result.exit_code == 2
    assert message in " ".join(result.stderr.split())  # Rich may wrap the message
    assert "Traceback" not in result.stderr


def test_show_commitment_card(runner, kb_dir):
    result = run(runner, kb_dir, "show", "port-upgrade", "--lang", "es")
    assert result.exit_code == 0
    assert "Modernizar el puerto de Manzanillo" in result.stdout
    assert "1 de diciembre de 2025: Grúas entregadas." in result.stdout
    assert "historial:" in result.stdout
    assert "https://example.org/plan" in result.stdout  # its source, resolved


def test_show_json_is_the_whole_record(runner, kb_dir):
    result = run(runner, kb_dir, "show", "fentanyl-funding", "-f", "json")
    record = json.loads(result.stdout)
    assert record["kind"] == "commitment"
    assert record["title"] == {
        "en": "Funding against fentanyl",
        "es": "Financiamiento contra el fentanilo",
        "fr": "Financement contre le fentanyl",
    }
    assert record["amount"]["value"] == 4_400_000
    assert [s["id"] for s in record["cited_sources"]] == ["plan", "paper"]


@pytest.mark.parametrize("entry_id", ["prosperity", "ports", "note-ports", "firm"])
def test_show_every_kind(runner, kb_dir, entry_id):
    result = run(runner, kb_dir, "show", entry_id)
    assert result.exit_code == 0
    assert f"id: {entry_id}" in " ".join(result.stdout.split())


def test_show_note_shows_both_sides(runner, kb_dir):
    result = run(runner, kb_dir, "show", "note-ports")
    assert "commentary, not an official commitment" in result.stdout
    assert "port-upgrade: Upgrade the port of Manzanillo (completed)" in result.stdout


def test_show_unknown_id_exits_1_with_suggestion(runner, kb_dir):
    result = run(runner, kb_dir, "show", "port-upgrad")
    assert result.exit_code == 1
    assert "did you mean 'port-upgrade'?" in result.stderr


def test_sources_and_notes(runner, kb_dir):
    sources = json.loads(run(runner, kb_dir, "sources", "-f", "json").stdout)
    assert {s["id"]: s["kind"] for s in sources} == {
        "plan": "official",
        "paper": "news",
        "firm": "analysis",
    }
    notes = json.loads(
        run(runner, kb_dir, "notes", "--support", "interpretation", "-f", "json").stdout
    )
    assert [n["id"] for n in notes] == ["note-ports"]
    assert run(runner, kb_dir, "notes", "--support", "stated").exit_code == 1


def test_yaml_output_round_trips(runner, kb_dir):
    import yaml

    result = run(runner, kb_dir, "commitments", "-f", "yaml")
    assert [r["id"] for r in yaml.safe_load(result.stdout)] == [
        "port-upgrade",
        "energy-dialogue",
        "fentanyl-funding",
        "border-talks",
    ]


def test_validate_ok_and_broken(runner, kb_dir, kb_copy):
    ok = run(runner, kb_dir, "validate")
    assert ok.exit_code == 0
    assert (
        "ok: 2 pillars, 2 priority areas, 4 commitments, 1 commentary note, 3 sources, 2 actors"
        in ok.stderr
    )
    path = kb_copy / "commitments.yaml"
    path.write_text(path.read_text().replace("status: planned", "status: planed"))
    bad = run(runner, kb_copy, "validate")
    assert bad.exit_code == 2
    assert f"{path}:" in bad.stderr
    assert "did you mean 'planned'?" in bad.stderr
    assert bad.stdout == ""


def test_every_command_refuses_a_broken_kb(runner, kb_copy):
    (kb_copy / "pillars.yaml").write_text("pillars:\n  - title: no id\n")
    for args in (["pillars"], ["commitments"], ["search", "port"], ["export", "markdown"]):
        result = run(runner, kb_copy, *args)
        assert result.exit_code == 2, args
        assert "pillars.yaml:2" in result.stderr


def test_timeline_marks(runner, kb_dir):
    result = run(runner, kb_dir, "timeline", "--today", "2026-01-01", "-f", "json")
    rows = json.loads(result.stdout)
    assert [(r["date"], r["mark"], r["type"], r["id"]) for r in rows] == [
        ("2025-09-18", "done", "event", "fentanyl-funding"),
        ("2025-10-01", "dropped", "deadline", "border-talks"),
        ("2025-12-01", "done", "event", "port-upgrade"),
        ("2025-12-31", "done", "deadline", "port-upgrade"),
        ("2026-03-31", "upcoming", "deadline", "energy-dialogue"),
    ]
    later = json.loads(
        run(runner, kb_dir, "timeline", "--today", "2026-06-01", "-f", "json").stdout
    )
    assert later[-1]["mark"] == "overdue"


def test_timeline_window_and_pillar(runner, kb_dir):
    result = run(
        runner,
        kb_dir,
        "timeline",
        "--from",
        "2025-10-01",
        "--to",
        "2025-12-31",
        "--pillar",
        "prosperity",
        "-f",
        "json",
    )
    assert [r["date"] for r in json.loads(result.stdout)] == ["2025-12-01", "2025-12-31"]


def test_stats_json(runner, kb_dir):
    data = json.loads(run(runner, kb_dir, "stats", "-f", "json", "--today", "2026-06-01").stdout)
    assert data["by_pillar"] == {"prosperity": 2, "security": 2}
    assert data["by_status"] == {"planned": 1, "underway": 1, "completed": 1, "not-pursued": 1}
    assert data["by_source_kind"] == {"official": 1, "news": 1, "analysis": 1}
    assert data["overdue"] == ["energy-dialogue"]


def test_stats_text_has_bars(runner, kb_dir):
    result = run(runner, kb_dir, "stats")
    assert "Commitments by pillar" in result.stdout
    assert "█" in result.stdout


def test_search_json_shape(runner, kb_dir):
    result = run(runner, kb_dir, "search", "port", "-f", "json")
    assert result.exit_code == 0, result.stderr
    hits = json.loads(result.stdout)
    assert hits[0]["id"] == "port-upgrade"
    assert {"kind", "id", "pillar", "sector", "title", "summary", "score"} <= hits[0].keys()
    pillar_hit = next(h for h in hits if h["kind"] == "pillar")
    assert pillar_hit["sector"] is None


def test_search_limit_and_kind(runner, kb_dir):
    hits = json.loads(run(runner, kb_dir, "search", "port", "-n", "1", "-f", "json").stdout)
    assert len(hits) == 1
    only = json.loads(
        run(runner, kb_dir, "search", "port", "--kind", "sector", "-f", "json").stdout
    )
    assert {h["kind"] for h in only} == {"sector"}


def test_search_filters(runner, kb_dir):
    hits = json.loads(
        run(
            runner,
            kb_dir,
            "search",
            "hydrogen",
            "--pillar",
            "prosperity",
            "--status",
            "planned",
            "-f",
            "json",
        ).stdout
    )
    assert [h["id"] for h in hits] == ["energy-dialogue"]
    assert run(runner, kb_dir, "search", "hydrogen", "--pillar", "security").exit_code == 1


def test_search_empty_query_exits_2(runner, kb_dir):
    result = run(runner, kb_dir, "search", "   ")
    assert result.exit_code == 2
    assert "the query is empty" in result.stderr


def test_search_no_hit_exits_1_with_suggestion(runner, kb_dir):
    result = run(runner, kb_dir, "search", "zzyzx", "-f", "json")
    assert result.exit_code == 1
    assert json.loads(result.stdout) == []
    assert "nothing matched" in result.stderr
    typo = run(runner, kb_dir, "search", "cranesz", "--kind", "pillar")
    assert typo.exit_code == 1
    assert "did you mean 'cranes'" in typo.stderr


def test_python_dash_m_works():
    result = subprocess.run(
        [sys.executable, "-m", "cmx", "--help"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0
    assert "pillars" in result.stdout


@pytest.mark.parametrize(
    "query", ["x" * 10_000, ".*[(", "🚢🚢", "ميناء", "puerto\u200f", "(?i)port"]
)
def test_odd_queries_end_cleanly(runner, kb_dir, query):
    result = run(runner, kb_dir, "search", query, "-f", "json")
    assert result.exit_code in (0, 1), result.stderr
    assert isinstance(json.loads(result.stdout), list)
    assert result.exception is None or isinstance(result.exception, SystemExit)


@pytest.mark.parametrize(
    "name", ["ONUDC", "unodc", "Oficina de las Naciones Unidas", "drogue et le crime"]
)
def test_actor_filter_takes_any_name_or_acronym_in_any_language(runner, kb_dir, name):
    result = run(runner, kb_dir, "commitments", "--actor", name, "-f", "json")
    assert result.exit_code == 0, result.stderr
    assert [c["id"] for c in json.loads(result.stdout)] == ["fentanyl-funding"]


def test_unknown_actor_is_a_usage_error_with_a_suggestion(runner, kb_dir):
    result = run(runner, kb_dir, "commitments", "--actor", "UNODX")
    assert result.exit_code == 2
    assert "no actor is called 'UNODX'" in result.stderr and "did you mean 'UNODC'" in result.stderr


def test_actors_command_lists_the_registry(runner, kb_dir):
    rows = json.loads(run(runner, kb_dir, "actors", "-f", "json", "--lang", "fr").stdout)
    assert {r["id"]: (r["acronym"], r["commitment_count"]) for r in rows} == {
        "port-authority": ("ASIPONA", 1),
        "unodc": ("ONUDC", 1),
    }
    assert run(runner, kb_dir, "actors", "nothing-like-it").exit_code == 1


def test_show_names_actors_or_says_the_sources_do_not(runner, kb_dir):
    named = run(runner, kb_dir, "show", "fentanyl-funding").stdout
    assert "actors:" in named and "United Nations Office on Drugs and Crime" in named
    unnamed = run(runner, kb_dir, "show", "energy-dialogue").stdout
    assert "not named in the sources" in unnamed
