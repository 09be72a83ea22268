"""The iCalendar export: a file calendar clients read back, stable from run to run."""

from __future__ import annotations

import dataclasses
import datetime as dt
import subprocess
import sys
from typing import Any

import pytest
from icalendar import Calendar

from cmx.i18n import translator
from cmx.ics import SUMMARY_LIMIT, to_ics
from cmx.kb import default_data_dir, load_kb
from cmx.model import Citation, Commitment, Event, KnowledgeBase, Source, SourceKind, Status, Text


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return load_kb(default_data_dir())


def vevents(data: bytes) -> dict[str, Any]:
    """Every VEVENT of a file by UID (a repeated UID fails the test)."""
    found: dict[str, Any] = {}
    for ev in Calendar.from_ical(data).walk("VEVENT"):
        uid = str(ev["uid"])
        assert uid not in found, f"UID {uid} used twice"
        found[uid] = ev
    return found


def tiny_kb(*commitments: Commitment, sources: tuple[Source, ...] = ()) -> KnowledgeBase:
    return KnowledgeBase((), commitments, sources)


def text(en: str, es: str | None = None) -> Text:
    return Text(en, es or en, en)


SRC = Source(
    "src", "A release", "A ministry", SourceKind.OFFICIAL, "https://example.org/r", "2025-10"
)


def test_the_file_parses_with_one_vevent_per_event_and_per_due_date(kb):
    data = to_ics(kb, translator("en"))
    cal = Calendar.from_ical(data)
    assert str(cal["version"]) == "2.0" and "cmx" in str(cal["prodid"])
    assert str(cal["x-wr-calname"]) == "Canada–Mexico Action Plan 2025–2028"
    events = vevents(data)
    n_events = sum(len(c.events) for c in kb.commitments)
    n_due = sum(1 for c in kb.commitments if c.due)
    assert n_events and n_due
    assert len(events) == n_events + n_due
    assert sum(uid.endswith(".due@cmx") for uid in events) == n_due
    for ev in events.values():
        start = ev.decoded("dtstart")
        assert type(start) is dt.date  # all-day, not a date-time
        assert ev.decoded("dtend") == start + dt.timedelta(days=1)
        assert str(ev["categories"].cats[0]) in {*(p.name.en for p in kb.pillars), "plan-wide"}


def test_two_runs_give_the_same_bytes_and_uids(kb):
    first, second = to_ics(kb, translator("en")), to_ics(kb, translator("en"))
    assert first == second
    assert list(vevents(first)) == list(vevents(second))


def test_every_event_is_on_its_day_with_its_source_link(kb):
    events = vevents(to_ics(kb, translator("en")))
    for c in kb.commitments:
        for e in c.events:
            same_day = [x for x in c.events if x.date == e.date]
            uid = f"{c.id}.event.{e.date}.{same_day.index(e)}@cmx"
            ev = events[uid]
            src = kb.source(e.source)
            assert src is not None
            assert ev.decoded("dtstart").isoformat().startswith(e.date)
            if src.url:
                assert str(ev["url"]) == src.url
            else:
                assert "url" not in ev
            description = str(ev["description"])
            assert description.startswith(e.what.en.strip())
            assert src.title in description


def test_a_known_event_reads_as_a_person_expects(kb):
    c = kb.get("leaders-meetings")
    assert isinstance(c, Commitment)
    e = next(e for e in c.events if e.date == "2025-09-18")
    ev = vevents(to_ics(kb, translator("en")))["leaders-meetings.event.2025-09-18.0@cmx"]
    assert ev.decoded("dtstart") == dt.date(2025, 9, 18)
    src = kb.source(e.source)
    assert src is not None and src.url and str(ev["url"]) == src.url
    summary = str(ev["summary"])
    assert summary.startswith(c.title.en + " — ")
    assert len(summary) <= len(c.title.en) + 3 + SUMMARY_LIMIT
    description = str(ev["description"])
    assert "Status: underway" in description and src.url in description


def test_due_dates_say_due_and_link_the_first_source(kb):
    events = vevents(to_ics(kb, translator("en")))
    for c in kb.commitments:
        if not c.due:
            continue
        ev = events[f"{c.id}.due@cmx"]
        assert str(ev["summary"]) == f"Due: {c.title.en}"
        assert ev.decoded("dtstart") == dt.date.fromisoformat(c.due)
        first = kb.source(c.sources[0].source)
        assert first is not None
        if first.url:
            assert str(ev["url"]) == first.url


def test_a_spanish_calendar_speaks_spanish(kb):
    es = to_ics(kb, translator("es"))
    en = to_ics(kb, translator("en"))
    assert es != en
    events = vevents(es)
    c = kb.get("leaders-meetings")
    assert isinstance(c, Commitment) and c.title.es != c.title.en
    ev = events["leaders-meetings.event.2025-09-18.0@cmx"]
    assert str(ev["summary"]).startswith(c.title.es + " — ")
    assert str(ev["description"]).startswith(c.events[0].what.es.strip())
    assert "en curso" in str(ev["description"])  # the status, as a Spanish reader calls it
    assert list(events) == list(vevents(en))  # UIDs do not depend on the language
    t = translator("es")
    assert str(Calendar.from_ical(es)["x-wr-calname"]) == t.gettext(
        "Canada–Mexico Action Plan 2025–2028"
    )


def test_partial_dates_events_on_the_first_day_deadlines_on_the_last():
    c = Commitment(
        "c1", "prosperity", "s", text("A plan"), text("What it is."), (Citation("src"),),
        status=Status.UNDERWAY, due="2026-02",
        events=(
            Event("2026", text("Something this year."), "src"),
            Event("2025-11", text("First that month."), "src"),
            Event("2025-11", text("Second that month."), "src"),
        ),
    )  # fmt: skip
    events = vevents(to_ics(tiny_kb(c, sources=(SRC,)), translator("en")))
    assert events["c1.event.2026.0@cmx"].decoded("dtstart") == dt.date(2026, 1, 1)
    assert events["c1.event.2025-11.0@cmx"].decoded("dtstart") == dt.date(2025, 11, 1)
    assert "Second" in str(events["c1.event.2025-11.1@cmx"]["description"])
    due = events["c1.due@cmx"]
    assert due.decoded("dtstart") == dt.date(2026, 2, 28)
    assert "Date in the sources: 2026-02" in str(due["description"])
    assert "Status: underway" in str(due["description"])
    assert str(due["url"]) == SRC.url


def test_uids_and_vevents_survive_edits_elsewhere(kb):
    """Adding an event to one commitment changes nothing in the others' VEVENTs."""
    before = vevents(to_ics(kb, translator("en")))
    c = kb.commitments[0]
    extra = Event("2020-01-01", text("An earlier fact."), c.sources[0].source)
    edited = dataclasses.replace(c, events=(extra, *c.events))
    kb2 = dataclasses.replace(kb, commitments=(edited, *kb.commitments[1:]))
    after = vevents(to_ics(kb2, translator("en")))
    assert set(after) - set(before) == {f"{c.id}.event.2020-01-01.0@cmx"}
    for uid, ev in before.items():
        if not uid.startswith(c.id + "."):
            assert after[uid].to_ical() == ev.to_ical()


def test_dtstamp_comes_from_the_data_not_the_clock():
    c = Commitment(
        "c1", "prosperity", "s", text("A"), text("B"), (Citation("src"),), due="2026-05-01"
    )
    ev = vevents(to_ics(tiny_kb(c, sources=(SRC,)), translator("en")))["c1.due@cmx"]
    assert ev.decoded("dtstamp") == dt.datetime(2025, 10, 1, tzinfo=dt.UTC)
    reviewed = dataclasses.replace(c, reviewed="2026-11-22")
    ev = vevents(to_ics(tiny_kb(reviewed, sources=(SRC,)), translator("en")))["c1.due@cmx"]
    assert ev.decoded("dtstamp") == dt.datetime(2026, 11, 22, tzinfo=dt.UTC)


def test_only_the_commitments_asked_for(kb):
    some = [c for c in kb.commitments if c.pillar == "security"]
    assert some
    events = vevents(to_ics(kb, translator("en"), commitments=some))
    ids = {c.id for c in some}
    assert events and {uid.split(".")[0] for uid in events} <= ids
    assert len(events) == sum(len(c.events) + bool(c.due) for c in some)


def test_control_characters_do_not_reach_the_calendar():
    c = Commitment(
        "c1", "prosperity", "s", text("Bad\x1b]0;title\x07 plan"), text("Sum\x00mary\r"),
        (Citation("src"),), due="2026-01-01",
        events=(Event("2025-12-01", text("Red \x1b[31malert\x9b"), "src"),),
    )  # fmt: skip
    data = to_ics(tiny_kb(c, sources=(SRC,)), translator("en"))
    assert not any(ch in data.decode() for ch in "\x1b\x07\x00\x9b")
    events = vevents(data)
    assert str(events["c1.event.2025-12-01.0@cmx"]["summary"]) == "Bad]0;title plan — Red [31malert"


def test_long_event_text_is_shortened_at_a_word():
    long = "The ministers met " + "and talked at length " * 10 + "about trade."
    c = Commitment(
        "c1", "prosperity", "s", text("T"), text("S"), (Citation("src"),),
        events=(Event("2025-12-01", text(long), "src"), Event("2025-12-02", text("Short. Then more" + " words" * 20), "src")),
    )  # fmt: skip
    events = vevents(to_ics(tiny_kb(c, sources=(SRC,)), translator("en")))
    summary = str(events["c1.event.2025-12-01.0@cmx"]["summary"]).removeprefix("T — ")
    assert len(summary) <= SUMMARY_LIMIT and summary.endswith("…")
    assert long.startswith(summary.removesuffix("…"))
    assert long in str(events["c1.event.2025-12-01.0@cmx"]["description"])
    assert str(events["c1.event.2025-12-02.0@cmx"]["summary"]) == "T — Short."


def test_importing_the_module_does_not_load_icalendar():
    code = "import sys, cmx.ics; assert 'icalendar' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_categories_name_the_pillar_in_the_readers_language(kb):
    events = vevents(to_ics(kb, translator("es")))
    cats = {str(ev["categories"].cats[0]) for ev in events.values()}
    assert "Seguridad" in cats and "todo el plan" in cats
    assert not cats & {p.id for p in kb.pillars}
