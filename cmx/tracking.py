"""What is due, what has happened: the timeline and the counts."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

from cmx.model import KnowledgeBase, Status, date_bounds


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
        if pillar and c.pillar != pillar:
            continue
        for e in c.events:
            mark = "done" if date_bounds(e.date)[0] <= today else "upcoming"
            rows.append(
                {
                    "date": e.date,
                    "mark": mark,
                    "type": "event",
                    "id": c.id,
                    "pillar": c.pillar,
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
                    "pillar": c.pillar,
                    "what": c.title.get(lang),
                    "source": c.sources[0].source,
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
        "by_pillar": {p.id: sum(1 for c in cs if c.pillar == p.id) for p in kb.pillars},
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
    "by_pillar": "Commitments by pillar",
    "by_status": "Commitments by status",
    "by_instrument": "Commitments by instrument",
    "by_basis": "Commitments by basis (best source kind)",
    "by_source_kind": "Sources by kind",
}


def stats_lines(data: dict[str, Any], width: int = 30) -> list[str]:
    """Text bar charts of the counts."""
    lines = [f"{data['commitments']} commitments, {data['notes']} notes, {data['sources']} sources"]
    for key, title in GROUP_TITLES.items():
        counts: dict[str, int] = data[key]
        top = max(counts.values(), default=0) or 1
        label_w = max((len(k) for k in counts), default=0)
        lines += ["", title]
        for k, n in counts.items():
            bar = "█" * max(1 if n else 0, round(n / top * width))
            lines.append(f"  {k.ljust(label_w)}  {str(n).rjust(3)}  {bar}")
    overdue = data["overdue"]
    lines += ["", f"Overdue: {', '.join(overdue) if overdue else 'none'}"]
    return lines
