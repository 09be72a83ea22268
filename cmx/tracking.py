"""What is due, what has happened: the timeline and the counts."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

from cmx.i18n import N_, Translator
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
    "by_pillar": N_("Commitments by pillar"),
    "by_status": N_("Commitments by status"),
    "by_instrument": N_("Commitments by instrument"),
    "by_basis": N_("Commitments by basis (best source kind)"),
    "by_source_kind": N_("Sources by kind"),
}
GROUP_CODES = {  # the kind of code each group counts, for display
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
