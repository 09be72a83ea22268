"""The plan's dated facts as an iCalendar file: events and due dates. Returns bytes.

One all-day VEVENT per commitment event (on the first day its date covers: 2026-03 is
1 March) and one per due date (on the last day it covers: a deadline of 2026-03 is
met until 31 March). Text is in the reader's language, CATEGORIES included (the pillar's
name, which calendar apps show); UIDs stay codes. The same knowledge base always gives
the same bytes: nothing comes from the clock, so a calendar client that re-reads the
file sees no change where there is none.

`icalendar` is imported inside `to_ics`, so only `cmx export ics` pays for it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from cmx.i18n import Translator
from cmx.model import Commitment, KnowledgeBase, Source, date_bounds, without_controls

if TYPE_CHECKING:
    from icalendar import Event as VEvent

PRODID = "-//cmx//Canada-Mexico Action Plan//EN"

# DTSTAMP when nothing in the data is dated: the day the plan was launched.
PLAN_LAUNCH = dt.datetime(2025, 9, 18, tzinfo=dt.UTC)

SUMMARY_LIMIT = 80  # characters of event text in a SUMMARY (the DESCRIPTION has it all)

_SENTENCE_END = re.compile(r"[.!?](?=\s)")


def _one_line(text: str) -> str:
    return " ".join(without_controls(text).split())


def _shorten(text: str, limit: int = SUMMARY_LIMIT) -> str:
    """`text` on one line, at most `limit` characters: its first sentence when that fits,
    else cut at a word boundary with an ellipsis."""
    text = _one_line(text)
    if len(text) <= limit:
        return text
    end = _SENTENCE_END.search(text, 0, limit)
    if end:
        return text[: end.end()]
    cut = text[: limit - 1]
    if " " in cut:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:.—–-") + "…"


def _source_lines(_: Callable[[str], str], kb: KnowledgeBase, source_id: str) -> list[str]:
    """ "Source: title, publisher" and, where there is one, the URL on a line of its own."""
    src = kb.source(source_id)
    if src is None:  # the loader rejects unknown sources; say which id it was regardless
        return [_("Source: {source}").format(source=_one_line(source_id))]
    name = ", ".join(_one_line(part) for part in (src.title, src.publisher) if part.strip())
    lines = [_("Source: {source}").format(source=name or src.id)]
    if src.url:
        lines.append(_one_line(src.url))
    return lines


def _stamp(kb: KnowledgeBase, c: Commitment) -> dt.datetime:
    """DTSTAMP of a commitment's VEVENTs: when its information was last revised, as far as
    the data says (RFC 5545 3.8.7.2, for a file without METHOD). That is the newest of
    the entry's `reviewed` date and the dates of the sources it cites (the entry cannot
    have been written before them), first day of a partial date, at 00:00 UTC. Event
    dates are left out: an event may be announced for a day still to come.

    Never the wall clock, so the same data gives the same file; and per commitment, so an
    edit elsewhere in the knowledge base leaves this entry's VEVENTs as they were."""
    dates = [c.reviewed] if c.reviewed else []
    dates += [s.date for sid in c.cited() if (s := kb.source(sid)) and s.date]
    if not dates:
        return PLAN_LAUNCH
    newest = max(date_bounds(d)[0] for d in dates)
    return dt.datetime(newest.year, newest.month, newest.day, tzinfo=dt.UTC)


def _link_source(kb: KnowledgeBase, c: Commitment) -> Source | None:
    """The source a due date points to: the first the entry cites with a URL, else its first."""
    found = [s for x in c.sources if (s := kb.source(x.source))]
    return next((s for s in found if s.url), found[0] if found else None)


def to_ics(
    kb: KnowledgeBase, t: Translator, *, commitments: Sequence[Commitment] | None = None
) -> bytes:
    """An iCalendar file (RFC 5545) of every event and due date of `commitments` (default:
    all of them), in the reader's language."""
    from icalendar import Calendar
    from icalendar import Event as VEvent

    _ = t.gettext
    lang = t.lang
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    name = _("Canada–Mexico Action Plan 2025–2028")
    cal.add("name", name)  # RFC 7986
    cal.add("x-wr-calname", name)  # what Apple, Google and Outlook read
    pillar_names = {p.id: _one_line(p.name.get(lang)) for p in kb.pillars}

    def vevent(
        c: Commitment, uid: str, day: dt.date, summary: str, description: list[str]
    ) -> VEvent:
        ev = VEvent()
        ev.add("uid", uid)
        ev.add("dtstamp", _stamp(kb, c))
        ev.add("dtstart", day)  # a date, not a date-time: an all-day event…
        ev.add("dtend", day + dt.timedelta(days=1))  # …of one day (DTEND is exclusive)
        ev.add("summary", summary)
        ev.add("description", "\n".join(description).strip())
        ev.add("categories", [pillar_names.get(kb.scope(c), t.code("scope", kb.scope(c)))])
        ev.add("transp", "TRANSPARENT")  # a fact to know about, not time taken up
        return ev

    for c in kb.commitments if commitments is None else commitments:
        title = _one_line(c.title.get(lang))
        seen: dict[str, int] = {}
        for e in c.events:
            n = seen[e.date] = seen.get(e.date, -1) + 1
            what = without_controls(e.what.get(lang)).strip()
            lines = [what, ""]
            if e.status:
                lines.append(_("Status: {status}").format(status=t.code("status", e.status)))
            if len(e.date) < len("2026-03-12"):
                lines.append(_("Date in the sources: {date}").format(date=e.date))
            lines += _source_lines(_, kb, e.source)
            ev = vevent(
                c,
                f"{c.id}.event.{e.date}.{n}@cmx",
                date_bounds(e.date)[0],
                f"{title} — {_shorten(what)}",
                lines,
            )
            src = kb.source(e.source)
            if src and src.url:
                ev.add("url", _one_line(src.url))
            cal.add_component(ev)
        if c.due:
            lines = [without_controls(c.summary.get(lang)).strip(), ""]
            lines.append(_("Status: {status}").format(status=t.code("status", c.status)))
            if len(c.due) < len("2026-03-12"):
                lines.append(_("Date in the sources: {date}").format(date=c.due))
            link = _link_source(kb, c)
            if link:
                lines += _source_lines(_, kb, link.id)
            ev = vevent(
                c,
                f"{c.id}.due@cmx",
                date_bounds(c.due)[1],
                _("Due: {title}").format(title=title),
                lines,
            )
            if link and link.url:
                ev.add("url", _one_line(link.url))
            cal.add_component(ev)
    return bytes(cal.to_ical())
