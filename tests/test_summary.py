"""A summary worth pasting into a memo (issue 22): whole sentences, the facts that matter,
each cited to a source that states it in the reader's language, ready for pandoc.
Real data (the shipped knowledge base)."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import subprocess
import zipfile

import pytest

from cmx import brief
from cmx.cli import app
from cmx.kb import KBError, default_data_dir, load_kb
from cmx.model import LANGS, date_bounds

KB = load_kb(default_data_dir())
DAYS = ["2025-10-01", "2026-01-15", "2026-06-01", "2026-12-06"]
PILLARS = [None, "prosperity", "mobility", "security", "environment"]
KEY = re.compile(r"\[@([a-z0-9-]+)(?:, [^\]]+)?\]")


def export(runner, *args: str, day: str = "2026-12-06") -> str:
    result = runner.invoke(app, ["--quiet", "--today", day, "export", "markdown", *args])
    assert result.exit_code == 0, result.stderr
    return result.stdout


def body(markdown: str) -> str:
    """The text before the Sources list, without the front matter."""
    if markdown.startswith("---\n"):
        markdown = markdown.split("\n---\n", 1)[1]
    return markdown.split("\n## ", 1)[0]


def fact_lines(markdown: str) -> list[str]:
    """Every line of the body that states a fact: those that cite a source."""
    return [line for line in body(markdown).splitlines() if re.search(r"\[(\d+|@)", line)]


# ------------------------------------------------------------ every line a sentence


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("day", DAYS)
def test_no_fact_line_is_cut(runner, lang, day):
    for pillar in PILLARS:
        extra = ["--pillar", pillar] if pillar else []
        md = export(runner, "--lang", lang, *extra, day=day)
        lines = fact_lines(md)
        assert lines
        for line in lines:
            assert "…" not in line and "..." not in line, line


def test_every_headline_is_a_whole_short_sentence():
    for c in KB.commitments:
        for e in c.events:
            assert e.headline is not None, (c.id, e.date)
            for lang in LANGS:
                text = e.headline.get(lang)
                assert text and not text.endswith(("…", "...")), (c.id, e.date, lang)
                assert len(text.split()) <= 16


# ------------------------------------------------------------ the right citation


def _expected_sources(lang: str) -> dict[str, set[str]]:
    """For each sentence a summary may show, the ids that may be cited after it."""
    out: dict[str, set[str]] = {}
    for c in KB.commitments:
        for e in c.events:
            assert e.headline is not None
            text = brief.md(brief._headline(e, lang))
            out.setdefault(text, set()).add(KB.version(e.source, lang))
    return out


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("day", DAYS)
def test_every_fact_cites_the_source_that_states_it(runner, lang, day):
    """Each headline's citation is its event's source (in the reader's version), each
    due date's is the commitment's due_source, each amount's is the amount's source."""
    expected = _expected_sources(lang)
    for pillar in PILLARS:
        extra = ["--pillar", pillar] if pillar else []
        md = export(runner, "--lang", lang, "--cite", "pandoc", *extra, day=day)
        for line in fact_lines(md):
            keys = KEY.findall(line)
            assert keys, line
            said = [t for t in expected if t in line]
            if said:  # an event's headline, cited last
                assert keys[-1] in set().union(*(expected[t] for t in said)), line
                continue
            c = next(c for c in KB.commitments if brief.md(c.title.get(lang)) in line)
            if c.due and brief.md(c.title.get(lang)) in line and c.amount is None:
                assert keys[0] == KB.version(brief.due_source(c), lang), line
            elif c.amount is not None:  # its money
                assert keys[0] == KB.version(c.amount.source or c.sources[0].source, lang)
            else:  # nothing recorded yet: the entry and its status, cited to its first source
                assert keys[0] == KB.version(c.sources[0].source, lang), line


def test_each_due_source_states_the_due_date():
    for c in KB.commitments:
        if c.due:
            assert c.due_source in {x.source for x in c.sources}, c.id
            src = KB.source(c.due_source or "")
            assert src is not None and src.date
            # a source states a date it knows of: published before the deadline
            assert date_bounds(src.date)[0] <= date_bounds(c.due)[1], c.id


# Events dated after their source was published: the source states a schedule (dates
# announced in advance), and the headline says no more than that schedule.
SCHEDULED = {
    ("trade-mission-2026", "2026-02-20"),  # the published programme
    ("fifa-world-cup-2026", "2026-07-19"),  # the tournament's announced dates
}


def test_a_source_states_only_what_it_could_know():
    """Checked against each source's recorded date: an event cites a source published
    on or after it, unless the event is a published schedule (SCHEDULED)."""
    late = set()
    for c in KB.commitments:
        for e in c.events:
            src = KB.source(e.source)
            assert src is not None
            if src.date and date_bounds(src.date)[1] < date_bounds(e.date)[0]:
                late.add((c.id, e.date))
    assert late == SCHEDULED


@pytest.mark.parametrize(
    ("lang", "cited", "instead"),
    [
        ("fr", "pmo-release-fr", "pmo-release"),
        ("fr", "pmo-joint-statement-fr", "joint-statement"),
        ("fr", "pmo-readout-fr", "pmo-readout"),
        ("es", "joint-statement-es", "joint-statement"),
        ("en", "joint-statement", "joint-statement-es"),
    ],
)
def test_citations_pick_the_readers_language(runner, lang, cited, instead):
    md = export(runner, "--full", "--cite", "pandoc", "--lang", lang)
    keys = set(KEY.findall(md))
    assert cited in keys and instead not in keys


def test_without_the_readers_language_the_original_beats_a_copy():
    assert KB.version("pmo-release", "es") == "pmo-release-fr"  # Wawa News copies it
    assert KB.version("pmo-readout-fr", "es") == "pmo-readout"  # a translation of it
    assert KB.version("gac-action-plan", "fr") == "gac-action-plan"  # no other version


def test_numbered_sources_list_the_readers_version(runner):
    md = export(runner, "--full", "--lang", "fr", "--pillar", "security")
    assert "Cabinet du premier ministre" in md.split("\n## Sources\n", 1)[1]
    assert "Wawa News" not in md


# ------------------------------------------------------------ significance first


def test_status_changes_and_signed_instruments_outrank_logistics(runner):
    md = export(runner, "--since", "2025-09-01", "--cite", "pandoc")
    lines = body(md)
    # the MoU signed with CONANP and the missions completed, not a registration deadline
    assert "Parks Canada announced the renewed MoU, signed that day." in lines
    assert "Registration for the trade mission closed." not in lines


def test_the_tiers_on_shipped_data():
    tiers = {
        (c.id, e.date, e.headline.en if e.headline else ""): brief.event_tier(KB, c, e)
        for c in KB.commitments
        for e in c.events
    }
    by_id = {(cid, date): t for (cid, date, _), t in tiers.items()}
    assert by_id[("parks-canada-conanp-mou", "2026-01-06")] is brief.Tier.CLOSED
    assert by_id[("e-certification-plant-products", "2025-11-03")] is brief.Tier.MOVED
    assert by_id[("bilateral-security-dialogue", "2025-12-15")] is brief.Tier.OUTCOME
    assert by_id[("trade-mission-2026", "2025-11-28")] is brief.Tier.OTHER  # logistics
    assert by_id[("cusma-coordination", "2026-06-01")] is brief.Tier.COMMENTARY  # a blog
    page = brief._SummaryFacts(KB, KB.commitments, "en", dt.date(2026, 12, 6), dt.date(2025, 9, 1))
    keys = [f.key() for f in page.changed]
    assert keys == sorted(keys)  # what changed: most significant first


# ------------------------------------------------------------ ready for pandoc


@pytest.mark.parametrize(("lang", "tag"), [("en", "en-CA"), ("es", "es-MX"), ("fr", "fr-CA")])
def test_front_matter_by_default_and_on_request_off(runner, lang, tag):
    md = export(runner, "--lang", lang)
    head = md.split("\n---\n", 1)[0]
    assert head.startswith("---\ntitle: ") and f"\nlang: {tag}" in head and "\ndate: " in head
    plain = export(runner, "--lang", lang, "--no-front-matter")
    assert plain.startswith("# ")


def test_the_mind_map_only_on_request(runner):
    assert "```mermaid" not in export(runner, "--full")
    assert "```mermaid\nmindmap" in export(runner, "--full", "--mindmap")


pandoc = pytest.mark.skipif(shutil.which("pandoc") is None, reason="pandoc is not installed")


@pandoc
@pytest.mark.parametrize("lang", LANGS)
def test_pandoc_citeproc_renders_the_references(runner, tmp_path, lang):
    md = export(runner, "--lang", lang, "--cite", "pandoc")
    bib = runner.invoke(app, ["--quiet", "sources", "-f", "csl-json"])
    assert bib.exit_code == 0
    (tmp_path / "bib.json").write_text(bib.stdout, encoding="utf-8")
    done = subprocess.run(
        ["pandoc", "--citeproc", "--bibliography", str(tmp_path / "bib.json"), "-t", "html"],
        input=md, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert "[WARNING]" not in done.stderr, done.stderr
    refs = done.stdout.split('id="refs"', 1)[1]
    for key in set(KEY.findall(md)):
        source = KB.source(key)
        assert source is not None and f'id="ref-{key}"' in refs
    assert "???" not in done.stdout


@pandoc
def test_docx_has_the_title_and_the_readers_language(runner, tmp_path):
    md = export(runner, "--lang", "fr", "--full", "--pillar", "security")
    out = tmp_path / "dossier.docx"
    subprocess.run(["pandoc", "-o", str(out)], input=md, text=True, check=True)
    with zipfile.ZipFile(out) as docx:
        core = docx.read("docProps/core.xml").decode("utf-8")
        styles = docx.read("word/styles.xml").decode("utf-8")
    assert "Plan d'action Canada–Mexique 2025–2028" in core or "Plan d’action" in core
    assert 'w:val="fr-CA"' in styles


def test_sources_for_one_entry_in_either_format(runner):
    result = runner.invoke(
        app, ["--quiet", "sources", "--for", "cusma-coordination", "-f", "csl-json", "--lang", "es"]
    )
    assert result.exit_code == 0, result.stderr
    ids = [i["id"] for i in json.loads(result.stdout)]
    c = KB.get("cusma-coordination")
    assert set(ids) == set(c.cited()) | {KB.version(s, "es") for s in c.cited()}
    assert "joint-statement-es" in ids
    bib = runner.invoke(app, ["--quiet", "sources", "--for", "cusma-coordination", "-f", "bibtex"])
    assert bib.exit_code == 0 and bib.stdout.count("@misc{") == len(set(c.cited()))


# ------------------------------------------------------------ the new fields are checked


def _broken_kb(tmp_path, old: str, new: str, file: str = "commitments.yaml"):
    data = tmp_path / "data"
    shutil.copytree(default_data_dir(), data)
    text = (data / file).read_text(encoding="utf-8")
    assert old in text
    (data / file).write_text(text.replace(old, new, 1), encoding="utf-8")
    return data


def test_a_due_source_must_be_one_of_the_entrys_sources(tmp_path):
    data = _broken_kb(tmp_path, "due_source: mbn-sustainability", "due_source: pmo-readout")
    with pytest.raises(KBError, match="due_source 'pmo-readout' is not one of its sources"):
        load_kb(data)


def test_version_of_must_name_a_source(tmp_path):
    data = _broken_kb(
        tmp_path, "version_of: pmo-readout ", "version_of: pmo-redout ", "sources.yaml"
    )
    with pytest.raises(KBError, match=r"sources.yaml:\d+: .*unknown source 'pmo-redout'"):
        load_kb(data)


@pytest.mark.parametrize("lang", ["en", "es", "fr"])
def test_a_dossier_cites_each_source_once_per_entry(runner, lang):
    """Two sources cited through one version in the reader's language give one mark."""
    out = runner.invoke(app, ["export", "markdown", "--full", "--lang", lang]).stdout
    assert not re.search(r"\[(\d+)\]\[\1\]", out)
