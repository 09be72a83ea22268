"""Entries as rows: the fixed keys (and key order) of JSON, YAML, CSV and tables.

A row is data, not presentation: codes stay codes and text is in one language; how
people see a row (headers, codes in their language) is cmx.output's job.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cmx.model import (
    PLAN_WIDE,
    Actor,
    Citation,
    Commitment,
    Event,
    KnowledgeBase,
    Note,
    Pillar,
    Sector,
    Source,
)

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Sequence

Row = dict[str, Any]


def citations(items: Sequence[Citation]) -> list[dict[str, Any]]:
    return [{"source": c.source, "section": c.section} for c in items]


def events(items: Sequence[Event], lang: str) -> list[dict[str, Any]]:
    return [
        {
            "date": e.date,
            "what": e.what.get(lang),
            "source": e.source,
            "status": e.status.value if e.status else None,
        }
        for e in items
    ]


def pillar_row(p: Pillar, counts: dict[str, int], lang: str) -> Row:
    return {
        "id": p.id,
        "number": p.number,
        "name": p.name.get(lang),
        "summary": p.summary.get(lang),
        "sectors": [s.id for s in p.sectors if not s.plan_wide],
        "sources": citations(p.sources),
        "sector_count": sum(not s.plan_wide for s in p.sectors),
        "commitment_count": counts.get(p.id, 0),
    }


def sector_row(s: Sector, counts: dict[str, int], lang: str) -> Row:
    return {
        "id": s.id,
        "pillar": s.scope,
        "number": s.number,
        "name": s.name.get(lang),
        "summary": s.summary.get(lang),
        "official": s.official,
        "sources": citations(s.sources),
        "commitment_count": counts.get(s.id, 0),
    }


def commitment_row(c: Commitment, kb: KnowledgeBase, lang: str, today: dt.date) -> Row:
    amount = None
    if c.amount:
        amount = {
            "value": c.amount.value,
            "currency": c.amount.currency,
            "stage": c.amount.stage.value,
            "source": c.amount.source,
        }
    return {
        "id": c.id,
        "pillar": kb.scope(c),
        "sector": c.sector,
        "title": c.title.get(lang),
        "summary": c.summary.get(lang),
        "actors": list(c.actors),
        "instrument": c.instrument.value,
        "status": c.status.value,
        "due": c.due,
        "overdue": c.is_overdue(today),
        "amount": amount,
        "events": events(c.events, lang),
        "sources": citations(c.sources),
        "tags": list(c.tags),
        "basis": kb.basis(c).value,
    }


def actor_row(a: Actor, kb: KnowledgeBase, lang: str) -> Row:
    return {
        "id": a.id,
        "kind": a.kind.value,
        "name": a.name.get(lang),
        "acronym": a.acronym.get(lang) if a.acronym else None,
        "aliases": list(a.aliases),
        "commitment_count": sum(1 for c in kb.commitments if a.id in c.actors),
    }


def note_row(n: Note, lang: str) -> Row:
    return {
        "id": n.id,
        "source": n.source,
        "section": n.section,
        "title": n.title.get(lang),
        "claim": n.claim.get(lang),
        "support": n.support.value,
        "related": list(n.related),
    }


def source_row(s: Source, lang: str = "en") -> Row:
    return {
        "id": s.id,
        "title": s.title,
        "publisher": s.publisher,
        "date": s.date,
        "url": s.url,
        "kind": s.kind.value,
        "language": s.language,
        "reliability": s.reliability.value if s.reliability else None,
        "note": s.note.get(lang) if s.note else None,
    }


def entry_row(entry: object, kb: KnowledgeBase, lang: str, today: dt.date) -> Row:
    if isinstance(entry, Pillar):
        return pillar_row(entry, kb.counts(), lang)
    if isinstance(entry, Sector):
        return sector_row(entry, kb.counts(), lang)
    if isinstance(entry, Commitment):
        return commitment_row(entry, kb, lang, today)
    if isinstance(entry, Note):
        return note_row(entry, lang)
    if isinstance(entry, Source):
        return source_row(entry, lang)
    raise TypeError(f"not an entry: {entry!r}")


def hit_row(hit: Any, lang: str, *, plan_wide: frozenset[str] = frozenset()) -> Row:
    """A search hit (cmx.search.Hit) as a row (cmx.output adds why it matched). Entries
    of the sectors in `plan_wide` (the plan's own governance) have PLAN_WIDE as pillar."""
    from cmx.search import snippet

    e: Any = hit.entry
    pillar = getattr(e, "pillar", None) if not isinstance(e, Pillar) else e.id
    if isinstance(e, Sector):
        pillar = e.scope
    elif isinstance(e, Commitment) and e.sector in plan_wide:
        pillar = PLAN_WIDE
    if isinstance(e, Source):
        title, summary = e.title, ", ".join(filter(None, [e.publisher, e.date]))
    elif isinstance(e, Note):
        title, summary = e.title.get(lang), e.claim.get(lang)
    elif isinstance(e, Pillar | Sector):
        title, summary = e.name.get(lang), e.summary.get(lang)
    else:
        title, summary = e.title.get(lang), e.summary.get(lang)
    return {
        "kind": hit.kind,
        "id": e.id,
        "pillar": pillar,
        "sector": e.sector if isinstance(e, Commitment) else None,
        "title": title,
        "summary": summary,
        "score": hit.score,
        "snippet": snippet(summary, hit.terms),
        "confidence": hit.confidence,
    }


# The parts of a knowledge base commitment rows and `first_url` read besides the
# commitments (of the sources, those they cite: cmx.store.Store.context), and those
# `names` reads too: a listing's context need not hold the notes and concepts, nor,
# where ids stay ids (JSON, YAML), the actors and tags.
ROW_PARTS = frozenset({"pillars", "sources"})
NAME_PARTS = frozenset({"pillars", "actors", "tags"})


def names(kb: KnowledgeBase, lang: str) -> dict[str, dict[str, str]]:
    """How people read the ids a row holds, in `lang`: priority areas by name, actors
    by name (with the acronym), tags by label. Tables and CSV for people use it; JSON
    and YAML keep the ids."""
    sectors = {s.id: s.name.get(lang) for s in kb.sectors}
    actors = {
        a.id: f"{a.name.get(lang)} ({a.acronym.get(lang)})" if a.acronym else a.name.get(lang)
        for a in kb.actors
    }
    tags = {x.id: x.label.get(lang) for x in kb.tags}
    return {"sector": sectors, "sectors": sectors, "actors": actors, "tags": tags}


def first_url(kb: KnowledgeBase, entry: object) -> str | None:
    """Where an entry's evidence is: its first cited source's URL (a source's own)."""
    if isinstance(entry, Source):
        return entry.url
    if isinstance(entry, Note):
        src = kb.source(entry.source)
        return src.url if src else None
    for cited in getattr(entry, "sources", ()):
        src = kb.source(cited.source)
        if src and src.url:
            return src.url
    return None
