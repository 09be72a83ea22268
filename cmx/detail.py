"""One entry in full: a record with every language (JSON/YAML) or a card (terminal)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from enum import Enum
from typing import Any

from cmx.i18n import Translator, translator
from cmx.model import (
    LANGS,
    Actor,
    Commitment,
    KnowledgeBase,
    Note,
    Pillar,
    Sector,
    Source,
    Text,
    kind_of,
)


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


def full_record(entry: object, kb: KnowledgeBase, today: dt.date) -> dict[str, Any]:
    """The whole record, all languages, with its kind and resolved sources."""
    record = {"kind": kind_of(entry), **_plain(entry)}
    if isinstance(entry, Pillar):
        record["sectors"] = [s.id for s in entry.sectors]
    if isinstance(entry, Commitment):
        record["pillar"] = kb.scope(entry)
        record["basis"] = kb.basis(entry).value
        record["overdue"] = entry.is_overdue(today)
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


def publisher_of(s: Source, kb: KnowledgeBase | None, t: Translator) -> str:
    """A source's publisher as the reader reads it: the name and, in brackets, how the
    text reached this page (the agency whose story it is, the original it reproduces,
    the wire that carried it, the site a copy is on), in the reader's language."""
    notes = []
    if s.agency:
        notes.append(s.agency)
    if s.copy_of:
        original = kb.source(s.copy_of) if kb else None
        name = _in_language(original.publisher if original else s.copy_of, kb, t.lang)
        notes.append(t.gettext("reproducing a text by {original}").format(original=name))
    if s.via:
        notes.append(t.gettext("via {channel}").format(channel=s.via))
    if s.copy_on:
        notes.append(t.gettext("copy on {site}").format(site=s.copy_on))
    if s.aggregator:
        notes.append(t.gettext("news aggregator"))
    return f"{s.publisher} ({'; '.join(notes)})" if notes else s.publisher


def _in_language(name: str, kb: KnowledgeBase | None, lang: str) -> str:
    """An institution's name as the reader's language writes it, when the actors
    registry knows it under any of its names ("Cabinet du premier ministre" -> "Prime
    Minister's Office (Canada)"); else the name as the source gives it."""
    key = name.casefold()
    for actor in kb.actors if kb else ():
        if any(key in known.casefold() for known in actor.name.all()):
            return actor.name.get(lang)
    return name


_PARAGRAPH = re.compile(r"^para\. (\d+)$")
_TITLE_ONLY = re.compile(r"^(.+) \(title only\)$")
_NUMBERED = re.compile(r"^([IVX]+)\. .+$")


def locator(section: str, kb: KnowledgeBase | None, t: Translator) -> str:
    """Where in a source, in the reader's language: a paragraph, the preamble, a
    heading of the plan (named as the reader's language names it)."""
    if m := _PARAGRAPH.match(section):
        return t.gettext("para. {n}").format(n=m.group(1))
    if section == "Preamble":
        return t.gettext("Preamble")
    if section == "Preamble (pillar names)":
        return t.gettext("Preamble (pillar names)")
    if m := _TITLE_ONLY.match(section):
        return t.gettext("{heading} (title only)").format(heading=m.group(1))
    if (m := _NUMBERED.match(section)) and kb is not None:
        for p in kb.pillars:
            if p.number == m.group(1):
                return f"{p.number}. {p.name.get(t.lang)}"
    return section


def _cite(kb: KnowledgeBase, source_id: str, t: Translator, section: str | None = None) -> str:
    s = kb.source(source_id)
    if s is None:
        return source_id
    where = f", {locator(section, kb, t)}" if section else ""
    date = f" ({t.date(s.date)})" if s.date else ""
    weak = ""
    if s.reliability:
        weak = (
            " ("
            + t.gettext("reliability: {level}").format(
                level=t.code("reliability", s.reliability.value)
            )
            + ")"
        )
    url = s.url or t.gettext("no URL")
    kind = t.code("source_kind", s.kind.value)
    return f"[{s.id}] {s.title} — {publisher_of(s, kb, t)}{date}, {kind}{weak}{where}; {url}"


def _pillar_name(kb: KnowledgeBase, pillar_id: str, t: Translator) -> str:
    """A pillar as people read it: "III. Seguridad"; the whole plan by its label."""
    pillar = kb.get(pillar_id)
    if not isinstance(pillar, Pillar):
        return t.code("scope", pillar_id)
    return f"{pillar.number}. {pillar.name.get(t.lang)}"


def _sector_name(sector: Sector, lang: str) -> str:
    """A priority area as people read it, with the id `cmx show` takes."""
    return f"{sector.name.get(lang)} ({sector.id})"


def card(entry: object, kb: KnowledgeBase, lang: str, today: dt.date) -> list[tuple[str, str]]:
    """(label, value) lines describing one entry for a person, all in `lang`: labels,
    codes, amounts and dates (Babel) — only ids, titles of sources and URLs stay as
    they are."""
    t = translator(lang)
    _ = t.gettext
    lines: list[tuple[str, str]] = [
        (_("kind"), t.code("kind", kind_of(entry))),
        (_("id"), getattr(entry, "id", "")),
    ]
    if isinstance(entry, Pillar):
        lines += [
            (_("number"), entry.number),
            (_("name"), entry.name.get(lang)),
            (_("summary"), entry.summary.get(lang)),
            (_("priority areas"), "; ".join(_sector_name(s, lang) for s in entry.sectors)),
        ]
        if entry.aliases:
            lines.append((_("also called"), "; ".join(entry.aliases)))
    elif isinstance(entry, Sector):
        official = (
            t.code("bool", "yes")
            if entry.official
            else _("no: a heading reconstructed from official releases and news")
        )
        lines += [
            (_("pillar"), _pillar_name(kb, entry.scope, t)),
            (_("number"), entry.number or _("— (not numbered in the sources)")),
            (_("name"), entry.name.get(lang)),
            (_("official"), official),
            (_("summary"), entry.summary.get(lang)),
            (
                _("commitments"),
                ", ".join(c.id for c in kb.commitments if c.sector == entry.id),
            ),
        ]
    elif isinstance(entry, Commitment):
        area = kb.get(entry.sector)
        sector = area if isinstance(area, Sector) else None
        status = t.code("status", entry.status.value)
        if entry.is_overdue(today):
            status += f" ({t.code('mark', 'overdue')})"
        lines += [
            (_("title"), entry.title.get(lang)),
            (_("pillar"), _pillar_name(kb, kb.scope(entry), t)),
            (_("priority area"), _sector_name(sector, lang) if sector else entry.sector),
            (_("status"), status),
            (_("instrument"), t.code("instrument", entry.instrument.value)),
            (_("basis"), t.code("basis", kb.basis(entry).value)),
        ]
        moves = [e for e in entry.events if e.status]
        if moves:  # the status history, oldest first
            sep = t.colon()
            steps = [
                f"{t.date(e.date)}{sep} {t.code('status', e.status.value)}"
                for e in moves
                if e.status
            ]
            lines.append((_("history"), " → ".join(steps)))
        if entry.due:
            lines.append((_("due"), t.date(entry.due)))
        named = "; ".join(kb.actor_name(a, lang) for a in entry.actors)
        lines.append((_("actors"), named or _("not named in the sources")))
        if entry.amount:
            a = entry.amount
            src = " [" + _("source: {id}").format(id=a.source) + "]" if a.source else ""
            stage = t.code("stage", a.stage.value)
            lines.append((_("amount"), f"{t.amount(a.value, a.currency)} ({stage}){src}"))
        lines.append((_("summary"), entry.summary.get(lang)))
        for event in sorted(entry.events, key=lambda e: e.date):  # oldest first
            moved = ""
            if event.status:
                moved = " — " + _("now {status}").format(
                    status=t.code("status", event.status.value)
                )
            what = event.what.get(lang)
            lines.append((_("event"), f"{t.date(event.date)}: {what}{moved} [{event.source}]"))
        if entry.tags:
            labels = [tag.label.get(lang) if (tag := kb.tag(x)) else x for x in entry.tags]
            lines.append((_("tags"), ", ".join(labels)))
        if entry.reviewed:
            reviewed = _("{date} (last checked against its sources)")
            lines.append((_("reviewed"), reviewed.format(date=t.date(entry.reviewed))))
        notes = [n.id for n in kb.notes if entry.id in n.related]
        if notes:
            see = _("see cmx show NOTE-ID")
            lines.append((_("commentary"), ", ".join(notes) + f" ({see})"))
    elif isinstance(entry, Note):
        lines += [
            (_("title"), entry.title.get(lang)),
            (_("support"), t.code("support", entry.support.value)),
            (_("claim"), entry.claim.get(lang)),
            (_("note"), _("commentary, not an official commitment")),
        ]
        for rel in entry.related:
            c = kb.get(rel)
            if isinstance(c, Commitment):
                shown = t.code("status", c.status.value)
                lines.append((_("related"), f"{c.id}: {c.title.get(lang)} ({shown})"))
    elif isinstance(entry, Source):
        lines += [
            (_("title"), entry.title),
            (_("publisher"), publisher_of(entry, kb, t)),
            (_("date"), t.date(entry.date) if entry.date else _("not shown")),
            (_("source kind"), t.code("source_kind", entry.kind.value)),
            (_("url"), entry.url or _("not recorded")),
        ]
        if entry.reliability:
            lines.append((_("reliability"), t.code("reliability", entry.reliability.value)))
        if entry.note:
            lines.append((_("about"), entry.note.get(lang)))
        users = [c.id for c in kb.commitments if any(x.source == entry.id for x in c.sources)]
        lines.append((_("cited by"), ", ".join(users) or "—"))
    elif isinstance(entry, Actor):
        lines[0] = (_("kind"), t.code("actor_kind", entry.kind.value))  # more than "actor"
        for language in LANGS:  # its name as each language writes it
            called = entry.name.get(language)
            acronym = entry.acronym.get(language) if entry.acronym else None
            both = f"{called} ({acronym})" if acronym and acronym != called else called
            lines.append((t.gettext("name ({language})").format(language=language), both))
        if entry.aliases:
            lines.append((_("also called"), "; ".join(entry.aliases)))
        theirs = [c for c in kb.commitments if entry.id in c.actors]
        for one in theirs:
            status = t.code("status", one.status.value)
            lines.append((_("commitment"), f"{one.id}: {one.title.get(lang)} ({status})"))
        if not theirs:
            lines.append((_("commitments"), "—"))
    if isinstance(entry, Pillar | Sector | Commitment):
        for cited in entry.sources:
            lines.append((_("source"), _cite(kb, cited.source, t, cited.section)))
    if isinstance(entry, Note):
        lines.append((_("source"), _cite(kb, entry.source, t, entry.section)))
    return lines
