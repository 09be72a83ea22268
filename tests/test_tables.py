"""The store's tables come from the model's fields: a field added to a record reaches
the store, every cached run and the export with no hand edit."""

from __future__ import annotations

import dataclasses
import sqlite3
from pathlib import Path

import pytest

import cmx.model as m
from cmx import kb, store, tables
from cmx.export_db import export_sqlite

COMMITMENT, SOURCE = m.Commitment, m.Source  # the model's own, before a test replaces them


@dataclasses.dataclass(frozen=True, slots=True, repr=False, eq=False)
class WithPriority(m.Commitment):
    """A commitment with a field the model does not have (yet)."""

    priority: str | None = None
    weight: int = 0


@dataclasses.dataclass(frozen=True, slots=True, repr=False, eq=False)
class SourceWithMirror(m.Source):
    mirror: str | None = None


def _with_new_fields(parsed: m.KnowledgeBase) -> m.KnowledgeBase:
    def upgrade(c: m.Commitment) -> WithPriority:
        values = {f.name: getattr(c, f.name) for f in dataclasses.fields(COMMITMENT)}
        return WithPriority(**values, priority=f"p-{c.id}", weight=len(c.id))

    def source(s: m.Source) -> SourceWithMirror:
        values = {f.name: getattr(s, f.name) for f in dataclasses.fields(SOURCE)}
        return SourceWithMirror(**values, mirror=s.id)

    return dataclasses.replace(
        parsed,
        commitments=tuple(upgrade(c) for c in parsed.commitments),
        sources=tuple(source(s) for s in parsed.sources),
    )


def _add_new_fields(monkeypatch) -> dict[str, int]:
    """The model with two new fields, and a parser that fills them; counts its calls.
    Every module is imported first: one imported later would bind the patched class
    for the rest of the session (cmx.search's Commitment, as a search test found)."""
    import importlib
    import pkgutil

    import cmx

    for found in pkgutil.iter_modules(cmx.__path__):
        if found.name not in ("__main__", "mcp_server"):
            importlib.import_module(f"cmx.{found.name}")
    calls = {"n": 0}
    real = kb.read_kb

    def read_kb(data_dir, *args, **kwargs):
        calls["n"] += 1
        parsed, key = real(data_dir, *args, **kwargs)
        return _with_new_fields(parsed), key

    monkeypatch.setattr(m, "Commitment", WithPriority)
    monkeypatch.setattr(m, "Source", SourceWithMirror)
    monkeypatch.setattr(store, "read_kb", read_kb)
    return calls


@pytest.fixture
def new_fields(monkeypatch):
    return _add_new_fields(monkeypatch)


def test_every_field_of_every_record_is_a_column_or_a_child_table():
    mapping = tables.schema()
    for table in mapping.tables.values():
        stored = {k.name for k in table.codecs} | {c.field for c in table.children}
        assert stored == {f.name for f in dataclasses.fields(table.cls) if f.init}, table.name
    assert "title_es" in mapping.tables["commitments"].columns
    assert "amount_stage" in mapping.tables["commitments"].columns


def test_a_new_field_reaches_the_store_and_every_cached_run(kb_copy: Path, new_fields):
    first = store.open_store(kb_copy).kb()
    assert {c.priority for c in first.commitments} >= {"p-port-upgrade"}
    again = store.open_store(kb_copy)  # a cached run: read from the store
    cached = again.kb()
    assert new_fields["n"] == 1
    assert cached == first
    assert isinstance(cached.commitments[0], WithPriority)
    assert [c.weight for c in cached.commitments] == [len(c.id) for c in first.commitments]
    assert all(s.mirror == s.id for s in cached.sources)
    one = store.open_store(kb_copy)._read(
        lambda conn: store._commitments(conn, ["port-upgrade"]), list
    )
    assert one[0].priority == "p-port-upgrade"  # a point lookup reads it too


def test_a_store_without_the_new_field_is_rebuilt(kb_copy: Path, monkeypatch):
    store.open_store(kb_copy).kb()  # the store of the model as it is
    calls = _add_new_fields(monkeypatch)
    reopened = store.open_store(kb_copy)
    assert calls["n"] == 1  # the schema hash differs: parsed again, not read as None
    assert all(isinstance(c, WithPriority) and c.priority for c in reopened.kb().commitments)


def test_a_new_field_reaches_the_export(kb_dir: Path, tmp_path: Path, new_fields):
    parsed = store.open_store(kb_dir, use_cache=False).kb()
    out = tmp_path / "plan.db"
    export_sqlite(parsed, out)
    with sqlite3.connect(out) as conn:
        row = conn.execute("SELECT priority, weight FROM commitments WHERE id = 'port-upgrade'")
        assert row.fetchone() == ("p-port-upgrade", len("port-upgrade"))
        assert store.read_kb_from(conn) == parsed


# ------------------------------------------------------------------ queries in SQL

FILTERS = [
    {},
    {"pillar": "security"},
    {"pillar": "plan-wide"},
    {"pillar": "prosperity", "status": "underway"},
    {"status": "completed"},
    {"instrument": "mou"},
    {"basis": "news"},
    {"actor": "SRE"},
    {"due_before": "2026-06-30"},
    {"overdue": True},
    {"source": "gac-action-plan"},
    {"source": "pmo-readout"},
    {"sector": "energy"},
]


@pytest.mark.parametrize("given", FILTERS, ids=lambda g: ",".join(g) or "none")
def test_a_filtered_listing_in_sql_keeps_what_python_keeps(shipped_dir, given):
    import datetime as dt

    from cmx.api import open_kb
    from cmx.errors import UsageError
    from cmx.filters import Filters
    from cmx.i18n import translator

    day = dt.date(2026, 12, 6)
    open_kb(shipped_dir)  # the store is written
    plan = open_kb(shipped_dir, today=day)
    assert plan.store._kb is None  # a cached run: nothing materialised yet
    chosen = Filters(**given)
    full = store.open_store(shipped_dir, use_cache=False).kb()
    try:
        expected = [c.id for c in chosen.select(full, translator("en"), day)]
    except UsageError:
        pytest.skip("not a value of the shipped knowledge base")
    assert [c.id for c in plan.commitments(chosen)] == expected
    assert plan.store._kb is None  # …and still nothing: only the matches were read


def test_show_reads_one_entry_and_shows_what_the_whole_kb_shows(shipped_dir, runner):
    from cmx.cli import app

    full = store.open_store(shipped_dir, use_cache=False).kb()
    ids = [full.commitments[3].id, full.sectors[2].id, full.pillars[1].id, full.sources[0].id]
    ids += [full.actors[0].id, full.notes[0].id, "III", "I.1"]
    for entry_id in ids:
        for fmt in ("table", "json"):
            args = [
                "--data",
                str(shipped_dir),
                "show",
                entry_id,
                "-f",
                fmt,
                "--today",
                "2026-12-06",
            ]
            cached = runner.invoke(app, args)
            memory = runner.invoke(app, ["--no-cache", *args])
            assert cached.exit_code == 0, cached.output
            assert cached.stdout == memory.stdout, entry_id


@pytest.mark.parametrize(
    ("start", "end", "pillar"),
    [
        ("2026-01-01", "2026-03-31", None),
        ("2025-09-18", None, None),
        (None, "2025-12-31", "security"),
        (None, None, "plan-wide"),
        ("2026-07-01", "2026-07-31", None),
        ("2026-03-15", "2026-03-15", None),
    ],
)
def test_a_timeline_in_sql_lists_what_the_whole_kb_lists(shipped_dir, start, end, pillar):
    from cmx.api import open_kb

    open_kb(shipped_dir)  # the store is written
    cached = open_kb(shipped_dir, today="2026-12-06")
    memory = open_kb(shipped_dir, use_cache=False, today="2026-12-06")
    rows = cached.timeline(start=start, end=end, pillar=pillar)
    assert cached.store._kb is None  # only the dated commitments were read
    assert rows == memory.timeline(start=start, end=end, pillar=pillar)
    assert rows or (start, end) == ("2026-03-15", "2026-03-15")


@pytest.fixture(scope="module")
def generated_dir(tmp_path_factory):
    """A generated knowledge base of 600 commitments (bench/gen_kb.py): ties in the
    counts, overdue entries and all the kinds of source."""
    import subprocess
    import sys

    out = tmp_path_factory.mktemp("generated")
    script = Path(__file__).parent.parent / "bench" / "gen_kb.py"
    subprocess.run([sys.executable, str(script), "600", str(out)], check=True, capture_output=True)
    return out


@pytest.mark.parametrize("today", ["2025-09-18", "2026-06-30", "2026-12-06", "2030-01-01"])
@pytest.mark.parametrize("which", ["shipped", "generated"])
def test_stats_in_sql_count_what_the_whole_kb_counts(shipped_dir, generated_dir, which, today):
    """`cmx stats` counts in the store (no commitment read): the same dict, keys and
    order, as counting every record, on any day."""
    from cmx.api import open_kb

    data = shipped_dir if which == "shipped" else generated_dir
    open_kb(data)  # the store is written
    cached = open_kb(data, today=today)
    memory = open_kb(data, use_cache=False, today=today)
    counted = cached.stats()
    assert cached.store._kb is None
    expected = memory.stats()
    assert counted == expected
    assert [list(v) for v in counted.values() if isinstance(v, dict)] == [
        list(v) for v in expected.values() if isinstance(v, dict)
    ]
    assert counted["commitments"] and counted["by_basis"]


def test_stats_in_sql_on_the_day_a_deadline_ends(generated_dir):
    """Due on a day is not overdue that day, and is the next: as is_overdue says."""
    import datetime as dt

    from cmx.api import open_kb
    from cmx.model import CLOSED, date_bounds

    open_kb(generated_dir)  # the store is written
    whole = open_kb(generated_dir, use_cache=False).kb()
    ends = sorted(
        {date_bounds(c.due)[1] for c in whole.commitments if c.due and c.status not in CLOSED}
    )
    for end in ends[:: max(1, len(ends) // 4)]:
        for day in (end, end + dt.timedelta(days=1)):
            cached = open_kb(generated_dir, today=day.isoformat()).stats()
            assert cached == open_kb(generated_dir, use_cache=False, today=day.isoformat()).stats()


@pytest.mark.parametrize("which", ["shipped", "generated"])
def test_sources_notes_and_their_dates_read_no_commitment(shipped_dir, generated_dir, which):
    """`cmx sources` (with when each was last consulted), `sources --for`, `notes` and
    the concepts of `search --explain` come from the small tables and SQL: the same
    answers as the whole knowledge base gives, with no commitment read."""
    from cmx.api import open_kb

    data = shipped_dir if which == "shipped" else generated_dir
    open_kb(data)  # the store is written
    cached = open_kb(data)
    memory = open_kb(data, use_cache=False)
    accessed = cached.accessed()
    assert accessed == memory.kb().accessed() and accessed
    assert list(accessed) == list(memory.kb().accessed())
    assert cached.sources() == memory.sources()
    assert cached.sources(kind="news") == memory.sources(kind="news")
    assert cached.notes() == memory.notes()
    assert cached.concepts() == memory.kb().concepts
    some = [c.id for c in memory.kb().commitments[::50]]
    for entry_id in some:
        assert cached.bibliography(entry_id, lang="fr") == memory.bibliography(entry_id, lang="fr")
    assert cached.store._kb is None


@pytest.mark.parametrize(
    "args",
    [
        ["stats"],
        ["stats", "-f", "json", "--lang", "es"],
        ["sources"],
        ["sources", "--for", "research-mou", "-f", "json"],
        ["notes", "--lang", "fr"],
        ["search", "energy", "--explain"],
        ["search", "energía", "--pillar", "prosperity"],
        ["commitments", "--sector", "cusma", "-f", "json"],
        ["show", "research-mou"],
    ],
)
def test_these_commands_read_no_commitment_they_do_not_show(runner, monkeypatch, args):
    """On a cached store, none of these materialises the whole knowledge base (at
    100,000 commitments that took seconds and half a gigabyte)."""
    from cmx.cli import app
    from cmx.store import Store

    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output

    def whole(*_args: object, **_kw: object) -> None:
        raise AssertionError("the whole knowledge base was read")

    monkeypatch.setattr(Store, "kb", whole)
    again = runner.invoke(app, args)
    assert again.exit_code == 0, again.output
    assert again.stdout == first.stdout
