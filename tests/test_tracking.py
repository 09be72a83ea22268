"""The summary a policy team pastes, and a tracker that knows time: plan-wide governance,
overdue everywhere, status history, --as-of, `cmx changes`, freshness, calendars and
citations. Real data (the shipped knowledge base) unless a bad one is the point."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import shutil
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from cmx import brief
from cmx.cli import app
from cmx.kb import default_data_dir, load_kb
from cmx.tracking import as_of, changes

TODAY = "2026-12-06"  # the date of the last review of the shipped data
KB = load_kb(default_data_dir())


def run(runner, *args: str, env: dict[str, str] | None = None):
    return runner.invoke(app, ["--today", TODAY, *args], env=env)


def cited_numbers(markdown: str) -> set[int]:
    return {int(n) for n in re.findall(r"\[(\d+)(?:, [^\]]+)?\]", markdown)}


def sources_items(markdown: str) -> list[str]:
    tokens = MarkdownIt().parse(markdown)
    start = max(i for i, t in enumerate(tokens) if t.type == "heading_open" and t.tag == "h2")
    return [t.content for t in tokens[start:] if t.type == "inline"][1:]


# ------------------------------------------------------------------ the summary


@pytest.mark.parametrize("lang", ["en", "es", "fr"])
@pytest.mark.parametrize("day", ["2025-10-01", "2026-01-15", "2026-06-01", TODAY])
def test_the_summary_is_one_page_in_every_language(runner, lang, day):
    result = runner.invoke(app, ["--today", day, "export", "markdown", "--lang", lang])
    assert result.exit_code == 0, result.stderr
    md = result.stdout
    assert brief.printed_height(md) <= brief.PAGE_PX  # bench/pages.py prints the real thing
    items = sources_items(md)
    assert cited_numbers(md) == set(range(1, len(items) + 1))  # every source listed is cited


@pytest.mark.parametrize("lang", ["en", "es", "fr"])
@pytest.mark.parametrize("pillar", ["prosperity", "mobility", "security", "environment"])
def test_a_pillar_summary_fits_half_a_page_or_shows_the_least(runner, lang, pillar):
    md = run(runner, "export", "markdown", "--pillar", pillar, "--lang", lang).stdout
    if brief.printed_height(md) > brief.PILLAR_PX:  # then nothing more could be cut
        body = md.split("\n## ", 1)[0]
        assert body.count("\n- ") == 0 and body.count("[") <= 3, body


def test_the_summary_has_governance_apart_and_dates_in_words(runner):
    md = run(runner, "export", "markdown", "--no-front-matter").stdout
    assert md.startswith("# Canada–Mexico Action Plan 2025–2028\n")
    assert "As of December 6, 2026; newest source: July 19, 2026." in md
    assert "47 commitments: completed: 4; underway: 9; planned: 34." in md
    assert "**Whole plan (governance).**" in md and "**Highlights.**" in md


def test_the_summary_lists_what_changed_in_its_window(runner):
    md = run(runner, "export", "markdown", "--since", "2026-01-01").stdout
    assert "**What changed from January 1, 2026 to December 6, 2026 (" in md
    body = md.split("\n## ", 1)[0]
    assert "cmx " not in body  # words go to the plan, not to shell commands
    quiet = run(runner, "export", "markdown").stdout  # the last 90 days: nothing recorded
    assert "**What changed from September 7, 2026 to December 6, 2026.** Nothing recorded" in quiet
    assert "The latest development on record: July 19, 2026: " in quiet  # the newest event


def test_the_summary_in_spanish_reads_spanish(runner):
    md = run(runner, "export", "markdown", "--lang", "es").stdout
    assert md.startswith('---\ntitle: "Plan de Acción Canadá–México 2025–2028"\n')
    assert 'date: "6 de diciembre de 2026"\nlang: es-MX\n---' in md
    assert "**Todo el plan (gobernanza).**" in md and "**Qué cambió del 7 de septiembre" in md


# ------------------------------------------------------------------ the dossier


def test_the_dossier_says_each_hedge_once_and_nothing_about_research(runner):
    md = run(runner, "export", "markdown", "--full").stdout
    assert md.count("Headings marked † are reconstructed") == 1
    assert "reconstructed priority area" not in md and "heading reconstructed" not in md
    assert "**Instrument:** other" not in md  # a default says nothing
    assert "**Instrument:** MoU" in md and "**Instrument:** mou" not in md
    for research in ("cmx also files", "excerpt", "every entry needs a pillar"):
        assert research not in md
    h2 = [line for line in md.splitlines() if line.startswith("## ")]
    assert h2.index("## Whole plan (governance)") > h2.index(
        "## IV. Environment and Sustainability"
    )


# ------------------------------------------------------------------ counts and overdue


def test_pillars_count_governance_apart(runner):
    table = run(runner, "pillars").stdout
    assert re.search(r"prosperity\s+Prosperity\s+7\s+18", table)
    assert re.search(r"plan-wide\s+Whole plan \(governance\)\s+1\s+4", table)
    data = json.loads(run(runner, "pillars", "-f", "json").stdout)
    assert [p["id"] for p in data] == ["prosperity", "mobility", "security", "environment"]
    assert data[0]["commitment_count"] == 18 and "governance" not in data[0]["sectors"]
    stats = json.loads(run(runner, "stats", "-f", "json").stdout)
    assert stats["by_pillar"]["plan-wide"] == 4 and sum(stats["by_pillar"].values()) == 47


def test_pillar_filter_keeps_governance_apart(runner):
    prosperity = json.loads(run(runner, "commitments", "--pillar", "I", "-f", "json").stdout)
    assert "leaders-meetings" not in {c["id"] for c in prosperity}
    assert {c["pillar"] for c in prosperity} == {"prosperity"}
    whole = run(runner, "commitments", "--pillar", "todo el plan", "-f", "json").stdout
    assert {c["id"] for c in json.loads(whole)} == {
        "leaders-meetings", "ministerial-meetings", "joint-evaluation", "partnership-structure"
    }  # fmt: skip


def test_overdue_is_in_every_format(runner):
    rows = json.loads(run(runner, "commitments", "-f", "json").stdout)
    by_id = {r["id"]: r for r in rows}
    assert by_id["research-mou"]["overdue"] is True  # due 2026-03-31, still planned
    assert by_id["trade-mission-2026"]["overdue"] is False  # completed
    assert all(isinstance(r["overdue"], bool) for r in rows)
    early = json.loads(
        runner.invoke(app, ["commitments", "--today", "2026-01-01", "-f", "json"]).stdout
    )
    assert {r["id"]: r["overdue"] for r in early}["research-mou"] is False
    csv_rows = list(csv.DictReader(io.StringIO(run(runner, "commitments", "-f", "csv").stdout)))
    assert {r["id"]: r["overdue"] for r in csv_rows}["research-mou"] == "yes"
    table = run(runner, "commitments", "--pillar", "prosperity").stdout
    assert re.search(r"research-mou .* planned · overdue +2026-03-31", table)
    assert "previsto · vencido" in run(runner, "commitments", "--lang", "es").stdout


# ------------------------------------------------------------------ history and as-of


def test_show_prints_the_status_history(runner):
    card = run(runner, "show", "trade-mission-2026").stdout
    assert "history:       February 15, 2026: underway → February 20, 2026: completed" in card


def test_as_of_shows_the_statuses_of_that_day(runner):
    result = run(runner, "commitments", "--as-of", "2025-12-01", "-f", "json")
    assert result.exit_code == 0, result.stderr
    rows = {r["id"]: r for r in json.loads(result.stdout)}
    assert rows["trade-mission-2026"]["status"] == "planned"  # underway 2026-02-15
    assert rows["parks-canada-conanp-mou"]["status"] == "planned"  # completed 2026-01-06
    assert rows["leaders-meetings"]["status"] == "underway"  # since the launch
    assert "economic-action-plan-2026" not in rows  # announced in February 2026
    for r in rows.values():
        assert all(e["date"] <= "2025-12-01" for e in r["events"])
    pillars = run(runner, "pillars", "--as-of", "2025-12-01", "-f", "json").stdout
    assert sum(p["commitment_count"] for p in json.loads(pillars)) < 43


def test_as_of_is_the_history_replayed():
    then = as_of(KB, dt.date(2026, 2, 16))
    mission = then.get("trade-mission-2026")
    assert mission is not None and mission.status.value == "underway"
    assert all(s.date is None or s.date[:7] <= "2026-02" for s in then.sources)
    now = as_of(KB, dt.date(2026, 11, 22))
    assert [c.status for c in now.commitments] == [c.status for c in KB.commitments]


def test_validate_wants_an_event_for_every_status_move(runner, tmp_path):
    data = tmp_path / "kb"
    shutil.copytree(default_data_dir(), data)
    path = data / "commitments.yaml"
    text = path.read_text(encoding="utf-8")
    moved = text.replace("        status: completed\n", "", 1)
    assert moved != text
    path.write_text(moved, encoding="utf-8")
    result = runner.invoke(app, ["--data", str(data), "validate"])
    assert result.exit_code == 2
    assert re.search(r"commitments\.yaml:\d+: .*status is 'completed' but", result.stderr)


# ------------------------------------------------------------------ changes


def test_changes_lists_the_2026_events(runner):
    result = run(runner, "changes", "--since", "2026-01-01", "-f", "json")
    assert result.exit_code == 0, result.stderr
    rows = json.loads(result.stdout)
    dated_2026 = {
        (c.id, e.date) for c in KB.commitments for e in c.events if e.date.startswith("2026")
    }
    assert {(r["id"], r["date"]) for r in rows if r["type"] != "deadline"} == dated_2026
    deadline = next(r for r in rows if r["id"] == "research-mou" and r["type"] == "deadline")
    assert deadline["status"] == "planned"
    pillars = [r["pillar"] for r in rows]  # grouped by pillar, in the plan's order
    assert pillars == sorted(pillars, key=["prosperity", "mobility", "security",
                                           "environment", "plan-wide"].index)  # fmt: skip


def test_changes_in_markdown_cite_their_sources(runner):
    md = run(runner, "changes", "--since", "2026-01-01", "--until", "2026-03-31", "-f", "markdown")
    assert md.exit_code == 0
    items = sources_items(md.stdout)
    assert cited_numbers(md.stdout) == set(range(1, len(items) + 1))
    assert "# Changes from January 1, 2026 to March 31, 2026" in md.stdout


def test_changes_with_nothing_in_the_period_exit_1(runner):
    result = run(runner, "changes", "--since", "2026-10-01")
    assert result.exit_code == 1
    assert "nothing recorded from 2026-10-01 to 2026-12-06" in result.stderr
    assert run(runner, "changes", "--since", "2026-12-07").exit_code == 2  # after --until


def test_changes_core_keeps_a_period():
    rows = changes(KB, dt.date(2026, 2, 15), dt.date(2026, 2, 20), "en")
    assert rows and all("2026-02-15" <= r["date"] <= "2026-02-20" for r in rows)


# ------------------------------------------------------------------ freshness


def test_the_freshness_note_goes_to_stderr_only(runner, monkeypatch):
    monkeypatch.delenv("CMX_QUIET")
    result = run(runner, "pillars", "-f", "json")
    assert result.exit_code == 0
    assert result.stderr.count("newest source: 2026-07-19, 140 days ago") == 1
    assert "newest" not in result.stdout
    json.loads(result.stdout)
    assert run(runner, "--quiet", "pillars").stderr == ""
    assert run(runner, "pillars", env={"CMX_QUIET": "1"}).stderr == ""
    fresh = runner.invoke(app, ["--today", "2026-08-01", "pillars"])
    assert fresh.stderr == ""  # 1 day over 90 is not yet stale


def test_the_freshness_note_speaks_the_readers_language(runner, monkeypatch):
    monkeypatch.delenv("CMX_QUIET")
    es = run(runner, "--lang", "es", "pillars").stderr
    assert "fuente más reciente: 2026-07-19, hace 140 días" in es


# ------------------------------------------------------------------ calendars, citations


def test_export_ics_parses_with_icalendar(runner, tmp_path):
    import icalendar

    out = tmp_path / "plan.ics"
    result = run(runner, "export", "ics", "-o", str(out))
    assert result.exit_code == 0, result.stderr
    calendar = icalendar.Calendar.from_ical(out.read_bytes())
    uids = [str(e["uid"]) for e in calendar.walk("VEVENT")]
    assert "trade-mission-2026.due@cmx" in uids and len(uids) == len(set(uids))
    assert run(runner, "export", "ics", "-o", str(out)).exit_code == 2  # no overwrite


def test_sources_as_csl_json_and_bibtex(runner):
    import jsonschema

    schema = json.loads((Path(__file__).parent / "data" / "csl-data.json").read_text())
    items = json.loads(run(runner, "sources", "--format", "csl-json").stdout)
    jsonschema.Draft7Validator(schema).validate(items)
    assert len(items) == len(KB.sources)
    bib = run(runner, "sources", "--format", "bibtex", "--kind", "official").stdout
    assert bib.count("\n@") + bib.startswith("@") == sum(
        1 for s in KB.sources if s.kind.value == "official"
    )


def test_governance_is_plan_wide_in_sectors_and_search(runner):
    sectors = json.loads(run(runner, "sectors", "--pillar", "plan-wide", "-f", "json").stdout)
    assert [(s["id"], s["pillar"]) for s in sectors] == [("governance", "plan-wide")]
    prosperity = json.loads(run(runner, "sectors", "--pillar", "I", "-f", "json").stdout)
    assert "governance" not in {s["id"] for s in prosperity}
    hits = json.loads(
        run(runner, "search", "meetings", "--pillar", "plan-wide", "-f", "json").stdout
    )
    assert hits and {h["pillar"] for h in hits} == {"plan-wide"}
    others = json.loads(
        run(runner, "search", "meetings", "--pillar", "prosperity", "-f", "json").stdout
    )
    assert "leaders-meetings" not in {h["id"] for h in others}


def test_readers_words_work_for_pillars_and_errors_say_them(runner):
    for name, scope in (("movilidad", "mobility"), ("environnement", "environment"),
                        ("gobernanza", "plan-wide"), ("Ensemble du plan", "plan-wide")):  # fmt: skip
        rows = json.loads(run(runner, "commitments", "--pillar", name, "-f", "json").stdout)
        assert rows and {r["pillar"] for r in rows} == {scope}, name
    bad = run(runner, "commitments", "--pillar", "movilidd", "--lang", "es")
    assert bad.exit_code == 2 and "¿quiso decir 'movilidad'?" in bad.stderr
    assert "todo el plan" in bad.stderr and "mobility" not in bad.stderr


def test_french_dates_and_colons_follow_french_usage(runner):
    md = run(runner, "changes", "--since", "2026-07-01", "--lang", "fr", "-f", "markdown").stdout
    assert "1er juillet 2026 : **" in md
    card = run(runner, "show", "trade-mission-2026", "--lang", "fr").stdout
    assert "15 février 2026 : en cours → 20 février 2026 : réalisé" in card


def test_the_summary_marks_entries_without_an_official_text(runner):
    md = run(runner, "export", "markdown", "--pillar", "prosperity").stdout
    assert "**Research collaboration MoU between NSERC, SSHRC and SECIHTI" not in md or (
        "31 March 2026** (no official text): was due March 31, 2026 [" in md
    )
    full = run(runner, "export", "markdown", "--since", "2026-01-01").stdout
    assert "(no official text)" in full and "‡" not in full.split("\n## ", 1)[0]


def test_bad_periods_and_formats_are_usage_errors(runner):
    result = run(runner, "timeline", "--from", "2026-05-01", "--to", "2026-01-01")
    assert result.exit_code == 2 and "after the end of the period (2026-01-01)" in result.stderr
    result = run(runner, "sources", "-f", "bibtx")
    assert result.exit_code == 2 and "did you mean 'bibtex'?" in result.stderr
    assert "csl-json" in result.stderr


def test_the_summary_writes_money_the_readers_way(runner):
    fr = run(runner, "export", "markdown", "--lang", "fr").stdout
    assert "5\u00a0500\u00a0000\u00a0$\u00a0CA (annoncé)" in fr  # a highlight with money
    es = run(runner, "export", "markdown", "--lang", "es").stdout
    assert "9.9 millones" in es and "5,500,000.00\u00a0CAD" not in es
