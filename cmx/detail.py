"""One entry in full: a record with every language (JSON/YAML) or a card (terminal)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from enum import Enum
from typing import Any

from cmx.model import Commitment, KnowledgeBase, Note, Pillar, Sector, Source, Text, kind_of
from cmx.render import flat


def _plain(value: Any) -> Any:
    if isinstance(value, Text):
        return {"en": value.en, "es": value.es, "fr": value.fr}
    if isinstance(value, Enum):
        return value.value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):  # a record
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value


def full_record(entry: object, kb: KnowledgeBase) -> dict[str, Any]:
    """The whole record, all languages, with its kind and resolved sources."""
    record = {"kind": kind_of(entry), **_plain(entry)}
    if isinstance(entry, Pillar):
        record["sectors"] = [s.id for s in entry.sectors]
    if isinstance(entry, Commitment):
        record["basis"] = kb.basis(entry).value
    cited = _cited_ids(entry)
    record["cited_sources"] = [_plain(s) for sid in cited if (s := kb.source(sid))]
    if isinstance(entry, Commitment):
        record["notes"] = [n.id for n in kb.notes if entry.id in n.related]
    return record


def _cited_ids(entry: object) -> list[str]:
    if isinstance(entry, Commitment):
        return entry.cited()
    ids: list[str] = []
    if isinstance(entry, Pillar | Sector):
        ids += [c.source for c in entry.sources]
    if isinstance(entry, Note):
        ids.append(entry.source)
    return list(dict.fromkeys(ids))


def _cite(kb: KnowledgeBase, source_id: str, section: str | None = None) -> str:
    s = kb.source(source_id)
    if s is None:
        return source_id
    where = f", {section}" if section else ""
    date = f" ({s.date})" if s.date else ""
    weak = f" ({s.reliability.value} reliability)" if s.reliability else ""
    url = s.url or "no URL"
    return f"[{s.id}] {s.title} — {s.publisher}{date}, {s.kind.value}{weak}{where}; {url}"


LABELS = {  # card labels in Spanish and French (English labels are the keys)
    "es": {
        "kind": "tipo",
        "id": "id",
        "number": "número",
        "name": "nombre",
        "summary": "resumen",
        "sectors": "sectores",
        "also called": "también",
        "pillar": "pilar",
        "official": "oficial",
        "commitments": "compromisos",
        "title": "título",
        "status": "estado",
        "instrument": "instrumento",
        "basis": "fundamento",
        "due": "fecha límite",
        "actors": "actores",
        "reviewed": "revisado",
        "amount": "monto",
        "event": "avance",
        "tags": "etiquetas",
        "commentary": "comentarios",
        "support": "respaldo",
        "claim": "afirmación",
        "note": "nota",
        "related": "relacionado",
        "publisher": "editor",
        "date": "fecha",
        "url": "url",
        "reliability": "fiabilidad",
        "about": "acerca de",
        "cited by": "citada por",
        "source": "fuente",
    },
    "fr": {
        "kind": "type",
        "id": "id",
        "number": "numéro",
        "name": "nom",
        "summary": "résumé",
        "sectors": "secteurs",
        "also called": "aussi appelé",
        "pillar": "pilier",
        "official": "officiel",
        "commitments": "engagements",
        "title": "titre",
        "status": "état",
        "instrument": "instrument",
        "basis": "fondement",
        "due": "échéance",
        "actors": "acteurs",
        "reviewed": "vérifié",
        "amount": "montant",
        "event": "fait",
        "tags": "étiquettes",
        "commentary": "commentaires",
        "support": "appui",
        "claim": "affirmation",
        "note": "note",
        "related": "lié à",
        "publisher": "éditeur",
        "date": "date",
        "url": "url",
        "reliability": "fiabilité",
        "about": "à propos",
        "cited by": "citée par",
        "source": "source",
    },
}


def card(entry: object, kb: KnowledgeBase, lang: str, today: dt.date) -> list[tuple[str, str]]:
    """(label, value) lines describing one entry for a person, labels in `lang`."""
    labels = LABELS.get(lang, {})
    return [(labels.get(label, label), value) for label, value in _card(entry, kb, lang, today)]


def _card(entry: object, kb: KnowledgeBase, lang: str, today: dt.date) -> list[tuple[str, str]]:
    lines: list[tuple[str, str]] = [("kind", kind_of(entry)), ("id", getattr(entry, "id", ""))]
    if isinstance(entry, Pillar):
        lines += [
            ("number", entry.number),
            ("name", entry.name.get(lang)),
            ("summary", entry.summary.get(lang)),
            ("sectors", ", ".join(s.id for s in entry.sectors)),
        ]
        if entry.aliases:
            lines.append(("also called", "; ".join(entry.aliases)))
    elif isinstance(entry, Sector):
        lines += [
            ("pillar", entry.pillar),
            ("number", entry.number or "— (not numbered in the sources)"),
            ("name", entry.name.get(lang)),
            (
                "official",
                "yes"
                if entry.official
                else "no: a heading reconstructed from official releases and news",
            ),
            ("summary", entry.summary.get(lang)),
            ("commitments", ", ".join(c.id for c in kb.commitments if c.sector == entry.id)),
        ]
    elif isinstance(entry, Commitment):
        status = entry.status.value
        if entry.is_overdue(today):
            status += " (overdue)"
        lines += [
            ("title", entry.title.get(lang)),
            ("pillar", f"{entry.pillar} / {entry.sector}"),
            ("status", status),
            ("instrument", entry.instrument.value),
            ("basis", kb.basis(entry).value),
        ]
        if entry.due:
            lines.append(("due", entry.due))
        named = "; ".join(kb.actor_name(a, lang) for a in entry.actors)
        lines.append(("actors", named or "not named in the sources"))
        if entry.amount:
            a = entry.amount
            src = f" [source: {a.source}]" if a.source else ""
            lines.append(("amount", f"{flat(a.value)} {a.currency} ({a.stage.value}){src}"))
        lines.append(("summary", entry.summary.get(lang)))
        for event in entry.events:
            lines.append(("event", f"{event.date}: {event.what.get(lang)} [{event.source}]"))
        if entry.tags:
            lines.append(("tags", ", ".join(entry.tags)))
        if entry.reviewed:
            lines.append(("reviewed", f"{entry.reviewed} (last checked against its sources)"))
        notes = [n.id for n in kb.notes if entry.id in n.related]
        if notes:
            lines.append(("commentary", ", ".join(notes) + " (see cmx show NOTE-ID)"))
    elif isinstance(entry, Note):
        lines += [
            ("title", entry.title.get(lang)),
            ("support", entry.support.value),
            ("claim", entry.claim.get(lang)),
            ("note", "commentary, not an official commitment"),
        ]
        for rel in entry.related:
            c = kb.get(rel)
            if isinstance(c, Commitment):
                lines.append(("related", f"{c.id}: {c.title.get(lang)} ({c.status.value})"))
    elif isinstance(entry, Source):
        lines += [
            ("title", entry.title),
            ("publisher", entry.publisher),
            ("date", entry.date or "not shown"),
            ("kind", entry.kind.value),
            ("url", entry.url or "not recorded"),
        ]
        if entry.reliability:
            lines.append(("reliability", entry.reliability.value))
        if entry.note:
            lines.append(("about", entry.note))
        users = [c.id for c in kb.commitments if any(x.source == entry.id for x in c.sources)]
        lines.append(("cited by", ", ".join(users) or "—"))
    if isinstance(entry, Pillar | Sector | Commitment):
        for cited in entry.sources:
            lines.append(("source", _cite(kb, cited.source, cited.section)))
    if isinstance(entry, Note):
        lines.append(("source", _cite(kb, entry.source, entry.section)))
    return lines
