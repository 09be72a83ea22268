"""What is due, what has happened: the timeline and the counts."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter
from collections.abc import Sequence
from typing import Any

from cmx.i18n import N_, Translator
from cmx.model import PLAN_WIDE, Event, KnowledgeBase, Status, date_bounds


def shift(day: dt.date, days: int) -> dt.date:
    """`day` moved by `days` days, held at the calendar's ends (date.min, date.max)
    rather than an OverflowError: 0001-01-01 less 90 days is 0001-01-01."""
    try:
        return day + dt.timedelta(days=days)
    except OverflowError:  # past year 1 or 9999 (or more days than timedelta holds)
        return dt.date.max if days > 0 else dt.date.min


def _mark_deadline(status: Status, due: str, today: dt.date) -> str:
    if status is Status.COMPLETED:
        return "done"
    if status is Status.NOT_PURSUED:
        return "dropped"
    return "overdue" if date_bounds(due)[1] < today else "upcoming"


def timeline(
    kb: KnowledgeBase,
    today: dt.date,
    lang: str,
    *,
    start: dt.date | None = None,
    end: dt.date | None = None,
    pillar: str | None = None,
) -> list[dict[str, Any]]:
    """Every event and deadline, oldest first: {date, mark, type, id, pillar, what, source}."""
    rows = []
    for c in kb.commitments:
        if pillar and kb.scope(c) != pillar:
            continue
        for e in c.events:
            mark = "done" if date_bounds(e.date)[0] <= today else "upcoming"
            rows.append(
                {
                    "date": e.date,
                    "mark": mark,
                    "type": "event",
                    "id": c.id,
                    "pillar": kb.scope(c),
                    "what": e.what.get(lang),
                    "source": e.source,
                }
            )
        if c.due:
            rows.append(
                {
                    "date": c.due,
                    "mark": _mark_deadline(c.status, c.due, today),
                    "type": "deadline",
                    "id": c.id,
                    "pillar": kb.scope(c),
                    "what": c.title.get(lang),
                    "source": c.due_source or c.sources[0].source,  # states the date
                }
            )
    out = []
    for row in rows:
        first, last = date_bounds(row["date"])
        if (start and last < start) or (end and first > end):
            continue
        out.append(row)
    out.sort(key=lambda r: (date_bounds(r["date"])[0], r["type"] != "event", r["id"]))
    return out


def stats(kb: KnowledgeBase, today: dt.date) -> dict[str, Any]:
    cs = kb.commitments
    return {
        "commitments": len(cs),
        "by_pillar": {  # the four pillars, then the plan's own governance
            scope: n
            for scope in (*(p.id for p in kb.pillars), PLAN_WIDE)
            if (n := sum(1 for c in cs if kb.scope(c) == scope)) or scope != PLAN_WIDE
        },
        "by_status": {s.value: sum(1 for c in cs if c.status is s) for s in Status},
        "by_instrument": dict(Counter(c.instrument.value for c in cs).most_common()),
        "by_basis": dict(Counter(kb.basis(c).value for c in cs).most_common()),
        "by_source_kind": dict(Counter(s.kind.value for s in kb.sources).most_common()),
        "overdue": sorted(c.id for c in cs if c.is_overdue(today)),
        "with_due_date": sum(1 for c in cs if c.due),
        "notes": len(kb.notes),
        "sources": len(kb.sources),
    }


GROUP_TITLES = {
    "by_pillar": N_("Commitments by pillar"),
    "by_status": N_("Commitments by status"),
    "by_instrument": N_("Commitments by instrument"),
    "by_basis": N_("Commitments by basis (best source kind)"),
    "by_source_kind": N_("Sources by kind"),
}
GROUP_CODES = {  # the kind of code each group counts, for display
    "by_pillar": "scope",
    "by_status": "status",
    "by_instrument": "instrument",
    "by_basis": "basis",
    "by_source_kind": "source_kind",
}


def stats_lines(data: dict[str, Any], t: Translator, width: int = 30) -> list[str]:
    """Text bar charts of the counts, in the translator's language."""
    totals = [
        t.ngettext("{n} commitment", "{n} commitments", data["commitments"]).format(
            n=data["commitments"]
        ),
        t.ngettext("{n} commentary note", "{n} commentary notes", data["notes"]).format(
            n=data["notes"]
        ),
        t.ngettext("{n} source", "{n} sources", data["sources"]).format(n=data["sources"]),
    ]
    lines = [", ".join(totals)]
    for key, title in GROUP_TITLES.items():
        code = GROUP_CODES.get(key)
        shown = {(t.code(code, k) if code else k): n for k, n in data[key].items()}
        top = max(shown.values(), default=0) or 1
        label_w = max((len(k) for k in shown), default=0)
        lines += ["", t.gettext(title)]
        for k, n in shown.items():
            bar = "█" * max(1 if n else 0, round(n / top * width))
            lines.append(f"  {k.ljust(label_w)}  {str(n).rjust(3)}  {bar}")
    overdue = data["overdue"]
    shown_overdue = ", ".join(overdue) if overdue else t.gettext("none")
    lines += ["", t.gettext("Overdue: {ids}").format(ids=shown_overdue)]
    return lines


def _on_or_before(date: str | None, day: dt.date) -> bool:
    """Undated, or surely dated on or before `day`: a partial date (2025-12) counts
    from its last day, since it may be any day of its month or year."""
    return date is None or date_bounds(date)[1] <= day


def as_of(kb: KnowledgeBase, day: dt.date) -> KnowledgeBase:
    """The tracker as it stood on `day`: only the sources dated on or before it, the
    events of those days, each status as its history gives it (planned before any
    recorded move), and only the entries that a source known by then supports."""
    sources = tuple(s for s in kb.sources if _on_or_before(s.date, day))
    known = {s.id for s in sources}
    commitments = []
    for c in kb.commitments:
        cites = tuple(x for x in c.sources if x.source in known)
        if not cites:
            continue  # nothing known on that day mentions it yet
        events = tuple(e for e in c.events if e.source in known and _on_or_before(e.date, day))
        status = status_on(events, day)
        amount = c.amount if c.amount and (c.amount.source or cites[0].source) in known else None
        commitments.append(
            dataclasses.replace(c, sources=cites, events=events, status=status, amount=amount)
        )
    kept = {c.id for c in commitments}
    notes = tuple(
        dataclasses.replace(n, related=tuple(r for r in n.related if r in kept))
        for n in kb.notes
        if n.source in known
    )
    return dataclasses.replace(kb, commitments=tuple(commitments), sources=sources, notes=notes)


def status_on(events: Sequence[Event], day: dt.date) -> Status:
    """A commitment's status on `day` from its history: the latest move recorded by
    then, or planned (every commitment starts planned when the plan is launched)."""
    moves = [e for e in events if e.status and _on_or_before(e.date, day)]
    latest = max(moves, key=lambda e: date_bounds(e.date)[0], default=None)
    return latest.status if latest and latest.status else Status.PLANNED


def changes(kb: KnowledgeBase, since: dt.date, until: dt.date, lang: str) -> list[dict[str, Any]]:
    """What happened between two days (both included): events (a status change when
    the event records one) and deadlines that fell due. Grouped by pillar in the plan's
    order (the plan's own governance last), newest first within each."""
    order = {p.id: i for i, p in enumerate(kb.pillars)}
    rows: list[dict[str, Any]] = []
    for c in kb.commitments:
        scope = kb.scope(c)
        for e in c.events:
            if not since <= date_bounds(e.date)[0] <= until:
                continue  # a partial date (2026-03) counts from its first day
            rows.append(
                {
                    "date": e.date,
                    "pillar": scope,
                    "id": c.id,
                    "type": "status" if e.status else "event",
                    "status": e.status.value if e.status else None,
                    "title": c.title.get(lang),
                    "what": e.what.get(lang),
                    "source": e.source,
                }
            )
        due = c.due
        if due and since <= date_bounds(due)[1] <= until:
            reached = status_on(c.events, date_bounds(due)[1])
            rows.append(
                {
                    "date": due,
                    "pillar": scope,
                    "id": c.id,
                    "type": "deadline",
                    "status": reached.value,
                    "title": c.title.get(lang),
                    "what": c.title.get(lang),
                    "source": c.due_source or c.sources[0].source,  # states the date
                }
            )
    rows.sort(key=lambda r: date_bounds(r["date"])[1], reverse=True)
    rows.sort(key=lambda r: order.get(r["pillar"], len(order)))
    return rows
