"""The Python API (cmx.api): the shipped and the small knowledge base, a broken one, and
the same answers and messages as the command line."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import json
import sqlite3

import pytest

from cmx.api import Plan, open_kb
from cmx.cli import app
from cmx.errors import NothingMatched, UsageError
from cmx.filters import Filters
from cmx.kb import KBError, default_data_dir
from cmx.model import Commitment, Note, Pillar, Source
from cmx.search import Hit, Why

DAY = dt.date(2026, 1, 1)


@pytest.fixture(scope="module")
def shipped() -> Plan:
    return open_kb(default_data_dir(), today=DAY)


@pytest.fixture
def small(kb_dir) -> Plan:
    return open_kb(kb_dir, today=DAY)


def test_open_the_shipped_knowledge_base_by_default():
    plan = open_kb(use_cache=False)
    assert plan.data_dir == default_data_dir()
    assert [p.id for p in plan.pillars()] == ["prosperity", "mobility", "security", "environment"]
    assert sum(n for k, n in plan.counts().items() if k in {p.id for p in plan.pillars()}) > 0


def test_commitments_take_the_one_filter_object(shipped):
    security = shipped.commitments(Filters(pillar="security"))
    assert security and all(isinstance(c, Commitment) for c in security)
    assert {shipped.kb().scope(c) for c in security} == {"security"}
    # Names in any language, as on the command line.
    assert shipped.commitments(Filters(pillar="seguridad")) == security
    assert shipped.commitments(Filters(pillar="III")) == security
    assert len(shipped.commitments()) == len(shipped.kb().commitments)


def test_the_cli_and_the_api_agree(runner, shipped):
    result = runner.invoke(
        app, ["commitments", "--pillar", "security", "-f", "json", "--today", "2026-01-01"]
    )
    assert result.exit_code == 0, result.stderr
    rows = json.loads(result.stdout)
    items = shipped.commitments(Filters(pillar="security"), today=DAY)
    assert [r["id"] for r in rows] == [c.id for c in items]
    assert [r["title"] for r in rows] == [c.title.get("en") for c in items]
    assert [r["status"] for r in rows] == [c.status.value for c in items]
    # The export of the same selection is the CLI's JSON, row for row.
    exported = json.loads(shipped.export("json", Filters(pillar="security"), today=DAY))
    assert exported == rows


def test_bad_values_raise_the_command_lines_message_in_the_readers_language(runner, shipped):
    with pytest.raises(UsageError) as error:
        shipped.commitments(Filters(pillar="securty"), lang="es")
    cli = runner.invoke(app, ["--lang", "es", "commitments", "--pillar", "securty"])
    assert cli.exit_code == 2
    assert str(error.value) in cli.stderr and "seguridad" in str(error.value)
    with pytest.raises(UsageError, match="'2026-13-01' is not a date"):
        shipped.changes(since="2026-13-01")
    with pytest.raises(UsageError, match="--lang: 'de' is not valid"):
        shipped.pillars(lang="de")
    with pytest.raises(UsageError, match="--status"):
        shipped.commitments(Filters(status="finished"))
    with pytest.raises(UsageError, match="is after the end of the period"):
        shipped.changes(since="2026-02-01", until="2026-01-01")
    with pytest.raises(UsageError, match="the query is empty"):
        shipped.search("  ")


def test_get_an_entry_and_did_you_mean_on_a_miss(runner, shipped):
    entry = shipped.get("drug-trafficking-fentanyl")
    assert isinstance(entry, Commitment)
    pillar = shipped.get("III")
    assert isinstance(pillar, Pillar) and pillar.id == "security"
    with pytest.raises(NothingMatched) as miss:
        shipped.get("drug-trafficking-fentanil")
    assert "did you mean 'drug-trafficking-fentanyl'?" in str(miss.value)
    cli = runner.invoke(app, ["show", "drug-trafficking-fentanil"])
    assert cli.exit_code == 1 and str(miss.value) in cli.stderr
    with pytest.raises(NothingMatched, match="zzzz-nothing"):
        shipped.get("zzzz-nothing", lang="es")


def test_sources_of_an_entry(shipped):
    entry = shipped.get("drug-trafficking-fentanyl")
    assert isinstance(entry, Commitment)
    cited = shipped.sources_of(entry.id)
    assert [s.id for s in cited] == entry.cited()
    assert all(isinstance(s, Source) for s in cited)
    note = shipped.notes()[0]
    assert [s.id for s in shipped.sources_of(note.id)] == [note.source]
    assert shipped.sources_of(cited[0].id) == [cited[0]]
    official = shipped.sources(kind="official")
    assert official and all(s.official for s in official)
    assert all(isinstance(n, Note) for n in shipped.notes(support="interpretation"))


def test_search_returns_hits_with_confidence_and_why(shipped):
    hits = shipped.search("fentanilo", limit=3)
    assert hits and all(isinstance(h, Hit) for h in hits)
    assert hits[0].entry.id == "drug-trafficking-fentanyl"
    assert hits[0].confidence == "high"
    assert all(isinstance(w, Why) for w in hits[0].why)
    assert hits[0].why[0].how == "exact"
    only = shipped.search("fentanyl", kind="note")
    assert all(h.kind == "note" for h in only)
    assert shipped.search("qwxzqwxz") == []
    assert shipped.sectors("security") and all(
        s.scope == "security" for s in shipped.sectors("security")
    )


def test_timeline_changes_and_stats(runner, shipped):
    rows = shipped.timeline(start="2025-09-01", end="2025-12-31", lang="fr")
    assert rows and all("2025-09" <= r["date"][:7] <= "2025-12" for r in rows)
    cli = runner.invoke(
        app,
        ["changes", "--since", "2025-09-01", "--until", "2026-01-01", "-f", "json", "--lang", "es"],
    )
    ours = shipped.changes(since="2025-09-01", until=dt.date(2026, 1, 1), lang="es")
    assert [r["id"] for r in json.loads(cli.stdout)] == [r["id"] for r in ours]
    assert [r["what"] for r in json.loads(cli.stdout)] == [r["what"] for r in ours]
    assert shipped.stats()["commitments"] == len(shipped.kb().commitments)
    earlier = shipped.kb(as_of="2025-09-19")
    assert len(earlier.commitments) <= len(shipped.kb().commitments)
    assert shipped.commitments(as_of="2025-09-19") == list(earlier.commitments)


def test_summary_and_exports_are_the_writers_text(shipped, tmp_path):
    page = shipped.summary(lang="fr", today=DAY)
    assert page.startswith("# ") and "Sources" in page
    dossier = shipped.summary(Filters(pillar="security"), full=True, today=DAY)
    assert "## " in dossier and dossier != page
    table = list(csv.DictReader(io.StringIO(shipped.export("csv", table="sources"))))
    assert table and {"id", "kind", "url"} <= set(table[0])
    assert shipped.export("ics").startswith("BEGIN:VCALENDAR")
    with pytest.raises(UsageError, match="not text"):
        shipped.export("sqlite")
    with pytest.raises(UsageError, match="WHAT: 'pdf' is not valid"):
        shipped.export("pdf")
    with pytest.raises(NothingMatched, match="nothing exported"):
        shipped.export("json", Filters(due_before="1900-01-01"))
    path = tmp_path / "plan.db"
    assert shipped.export_file("sqlite", path, Filters(pillar="security")) == len(
        shipped.commitments(Filters(pillar="security"))
    )
    with sqlite3.connect(path) as conn:
        (n,) = conn.execute("SELECT count(*) FROM commitments").fetchone()
    assert n == len(shipped.commitments(Filters(pillar="security")))
    with pytest.raises(UsageError):
        shipped.export_file("sqlite", path)  # never over a file unless force


def test_the_small_knowledge_base(small):
    assert [c.id for c in small.commitments(Filters(status="completed"))] == ["port-upgrade"]
    assert [c.id for c in small.commitments(Filters(overdue=True), today="2026-06-01")] == [
        "energy-dialogue"
    ]
    assert small.search("port")[0].entry.id == "port-upgrade"


def test_a_broken_knowledge_base_raises_kberror_with_file_and_line(kb_copy, tmp_path):
    (kb_copy / "pillars.yaml").write_text("pillars:\n  - title: no id\n")
    with pytest.raises(KBError) as error:
        open_kb(kb_copy)
    assert any("pillars.yaml:2" in p for p in error.value.problems)
    with pytest.raises(KBError, match=r"pillars\.yaml:2"):
        open_kb(kb_copy, use_cache=False)
    with pytest.raises(KBError):
        open_kb(tmp_path / "missing")


def test_the_api_never_prints(capsys, shipped):
    shipped.search("energía")
    shipped.summary(today=DAY)
    with pytest.raises(NothingMatched):
        shipped.get("nope")
    out = capsys.readouterr()
    assert out.out == "" and out.err == ""


@pytest.mark.parametrize(
    "filters",
    [
        Filters(pillar="seguridad", status="en curso"),
        Filters(sector="Puertos y logística"),
        Filters(sector="no-such-area"),
        Filters(instrument="MoU", basis="news"),
        Filters(actor="RCMP"),
        Filters(actor="nobody-at-all"),
        Filters(source="joint-statement"),
        Filters(source="joint-statment"),
        Filters(due_before="2026-07-01", overdue=True),
        Filters(tag="fentanilo"),
    ],
    ids=repr,
)
def test_filters_read_only_the_parts_they_say(shipped, filters):
    """A listing resolves its filters against only `Filters.parts()` of the knowledge
    base (start-up): the answer, or the usage error, is the one the whole gives."""
    from cmx.i18n import translator

    store, t = shipped.store, translator("es")

    def resolved(kb):
        try:
            return filters.resolve(kb, t, DAY)
        except UsageError as error:
            return str(error)

    open_kb(default_data_dir(), today=DAY).kb()  # this test's store
    partial = open_kb(default_data_dir(), today=DAY).store.partial(filters.parts())
    assert partial.concepts == () and partial.notes == ()  # read from the store, in part
    assert resolved(partial) == resolved(store.kb())


@pytest.mark.parametrize("lang", ["en", "es", "fr"])
@pytest.mark.parametrize("few", [False, True])
def test_a_listing_reads_only_the_parts_its_rows_need(lang, few):
    """`cmx commitments` gives its rows a context of rows.ROW_PARTS only (start-up), and
    of the sources those its commitments cite; a table's names need NAME_PARTS too:
    every row, every name and every link is the one the whole knowledge base gives."""
    from cmx.rows import NAME_PARTS, ROW_PARTS, commitment_row, first_url, names

    open_kb(default_data_dir(), today=DAY).kb()  # this test's store
    plan = open_kb(default_data_dir(), today=DAY)
    items = plan.commitments()
    items = items[::9] if few else items
    part = plan.context(items, parts=ROW_PARTS)
    assert part.concepts == () and part.notes == () and part.actors == ()  # read in part
    whole = open_kb(default_data_dir(), today=DAY).kb()
    if few:  # only the sources the rows cite
        assert {s.id for s in part.sources} == {i for c in items for i in c.cited()}
        assert len(part.sources) < len(whole.sources)
    assert [commitment_row(c, part, lang, DAY) for c in items] == [
        commitment_row(c, whole, lang, DAY) for c in items
    ]
    assert [first_url(part, c) for c in items] == [first_url(whole, c) for c in items]
    named = open_kb(default_data_dir(), today=DAY).context(items, parts=ROW_PARTS | NAME_PARTS)
    assert names(named, lang) == names(whole, lang)


@pytest.mark.parametrize(
    ("pillar", "sector"), [("security", None), ("Seguridad", None), (None, "cusma"), ("I", None)]
)
def test_a_search_in_one_pillar_or_sector_reads_their_names_not_the_knowledge_base(
    monkeypatch, pillar, sector
):
    """--pillar and --sector are resolved from the pillars alone: a filtered search never
    reads every commitment (at 100,000 it took seconds and half a gigabyte); the same
    hits as filtering the whole knowledge base's hits."""
    open_kb(default_data_dir(), today=DAY).search("energy")  # this test's store and index
    expected = [
        h.entry.id
        for h in open_kb(default_data_dir(), today=DAY).search(
            "trade", pillar=pillar, sector=sector, limit=None
        )
    ]
    plan = open_kb(default_data_dir(), today=DAY)

    def whole(*_args: object, **_kw: object) -> None:
        raise AssertionError("the whole knowledge base was read")

    monkeypatch.setattr(type(plan.store), "kb", whole)
    hits = plan.search("trade", pillar=pillar, sector=sector, limit=None)
    assert [h.entry.id for h in hits] == expected and expected
    with pytest.raises(UsageError, match="--pillar"):
        plan.search("trade", pillar="securty")


def test_a_priority_area_given_by_its_id_is_that_one_whatever_another_is_called():
    """--sector by id needs no names folded (start-up), and an id names its own entry
    even where an earlier one has an alias that reads the same."""
    from cmx.filters import known_entry
    from cmx.i18n import translator

    small = open_kb(default_data_dir(), today=DAY).store.small()
    first, later = small.sectors[0], small.sectors[-1]
    aliased = dataclasses.replace(first, aliases=(*first.aliases, later.id))
    t = translator("en")
    assert known_entry(t, later.id, [aliased, later], "--sector") == later.id
    assert known_entry(t, later.id.upper(), [aliased, later], "--sector") == first.id
    assert known_entry(t, first.name.es, [aliased, later], "--sector") == first.id
