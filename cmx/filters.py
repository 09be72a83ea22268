"""What the reader typed -> the codes and ids the core works with.

Option values arrive as the reader writes them: a status in any language (`en curso`),
a pillar by id, number or name (`III`, `seguridad`), an actor by acronym (`GRC`), a
date. Each is resolved against the knowledge base here, or refused with a `UsageError`
in the reader's language that says what is wrong and, where a name is close, "did you
mean". `Filters` is the one filter object every command that selects commitments takes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from cmx.errors import NothingMatched, UsageError, closest
from cmx.i18n import CODES, LANGUAGES, Translator, fold, translator
from cmx.model import PLAN_WIDE, Commitment, KnowledgeBase, Pillar, Record, Sector, record

_set = object.__setattr__  # how a frozen record's __init__ fills its slots


def few(choices: Sequence[str]) -> Sequence[str]:
    """`choices` when they are few enough to list in a message, else none."""
    return choices if len(choices) <= 12 else ()


def bad_value(t: Translator, option: str, message: str) -> UsageError:
    """A usage error about one option's value (raise it)."""
    return UsageError(f"{option}: {message}")


def invalid(
    t: Translator, option: str, value: str, close_to: Sequence[str], listed: Sequence[str] = ()
) -> UsageError:
    """A usage error for one option's value: "did you mean" the closest of `close_to`,
    then the choices `listed` (none when there are too many to read)."""
    close = closest(value, close_to)
    message = t.gettext("'{value}' is not valid").format(value=value)
    if close:
        message += t.gettext(" (did you mean '{word}'?)").format(word=close)
    if listed:
        message += t.gettext("; choose from: {choices}").format(choices=", ".join(listed))
    return bad_value(t, option, message)


def choice(t: Translator, value: str | None, choices: Sequence[str], option: str) -> str | None:
    """`value` if it is one of `choices` (case-insensitive), else a usage error with a hint."""
    if value is None:
        return None
    lowered = value.strip().lower()
    if lowered in choices:
        return lowered
    raise invalid(t, option, value, choices, few(choices))


def code_choice(t: Translator, value: str | None, kind: str, option: str) -> str | None:
    """A code (status, instrument, basis…) given as its code or as it reads in any
    language: `--status underway`, `--status "en curso"`, `--status "en cours"`."""
    if value is None:
        return None
    wanted = fold(value.strip())
    if wanted in CODES.get(kind, {}):  # the code itself: no other language's names needed
        return wanted
    names: dict[str, str] = {}
    for lang in LANGUAGES:
        for code, shown in translator(lang).codes(kind).items():
            names.setdefault(fold(code), code)
            names.setdefault(fold(shown), code)
    if wanted in names:
        return names[wanted]
    readable = list(t.codes(kind).values())
    raise invalid(t, option, value, readable, few(readable))


def parse_date(t: Translator, value: str | None, option: str) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise bad_value(
            t,
            option,
            t.gettext("'{value}' is not a date; write YYYY-MM-DD, e.g. 2026-03-31").format(
                value=value
            ),
        ) from None


def period(t: Translator, start: dt.date, end: dt.date, option: str) -> None:
    """A usage error when a period starts after it ends."""
    if start > end:
        raise bad_value(
            t,
            option,
            t.gettext("'{value}' is after the end of the period ({end})").format(
                value=start.isoformat(), end=end.isoformat()
            ),
        )


def entry_names(entry: Pillar | Sector) -> list[str]:
    """Everything a pillar or priority area may be called: id, number, names, aliases."""
    return [entry.id, entry.number or "", *entry.name.all(), *entry.aliases]


def known_entry(
    t: Translator, value: str | None, entries: Sequence[Pillar | Sector], option: str
) -> str | None:
    """A pillar or priority area named by id, by the plan's number (`III`, `I.1`) or by
    its name in any language (`seguridad`, `Sécurité`); else a usage error with a hint."""
    if value is None:
        return None
    if any(entry.id == value for entry in entries):  # an id: no names to fold
        return value
    wanted = fold(value.strip())
    for entry in entries:
        if wanted in {fold(n) for n in entry_names(entry) if n}:
            return entry.id
    shown = [e.id for e in entries] + [e.name.get(t.lang) for e in entries]
    raise invalid(t, option, value, shown, few([e.id for e in entries]))


def scope_names(pillars: Sequence[Pillar]) -> dict[str, str]:
    """Every name a --pillar value may take (folded) -> the pillar id or PLAN_WIDE: ids,
    numbers, names in every language, the short names tables show, and the plan's own
    governance by 'plan-wide', its label or any name of its sector (gobernanza)."""
    scopes = [*(p.id for p in pillars), PLAN_WIDE]
    names: dict[str, str] = {"plan": PLAN_WIDE}
    for lang in LANGUAGES:
        tr = translator(lang)
        names[fold(tr.gettext("Whole plan (governance)"))] = PLAN_WIDE
        names.update({fold(tr.code("scope", s)): s for s in scopes})
    for p in pillars:  # last, so that a pillar's own names win
        for s in p.sectors:
            if s.plan_wide:
                names.update({fold(n): PLAN_WIDE for n in entry_names(s) if n})
        names.update({fold(n): p.id for n in entry_names(p) if n})
    return names


def pillar_scope(t: Translator, pillars: Sequence[Pillar], value: str | None) -> str | None:
    """--pillar: a pillar (or the plan-wide governance) by any of its `scope_names`."""
    if value is None:
        return None
    if value in {PLAN_WIDE, *(p.id for p in pillars)}:  # an id: no names to gather
        return value
    found = scope_names(pillars).get(fold(value.strip()))
    if found:
        return found
    shown = [t.code("scope", s) for s in [*(p.id for p in pillars), PLAN_WIDE]]
    raise invalid(t, "--pillar", value, [*shown, *(p.name.get(t.lang) for p in pillars)], shown)


def actor_ids(t: Translator, kb: KnowledgeBase, query: str | None) -> list[str] | None:
    """The actors an --actor value names (any name or acronym, any language)."""
    if query is None:
        return None
    from cmx.search import matching_actors

    found = matching_actors(kb, query)
    if not found:
        names: list[str] = []
        for a in kb.actors:
            names += [*a.name.all(), *(a.acronym.all() if a.acronym else ())]
        close = closest(query, list(dict.fromkeys(names)))
        hint = t.gettext(" (did you mean '{word}'?)").format(word=close) if close else ""
        raise bad_value(
            t,
            "--actor",
            t.gettext("no actor is called '{value}'{hint}; list them with: cmx actors").format(
                value=query, hint=hint
            ),
        )
    return found


def known_tag(t: Translator, kb: KnowledgeBase, value: str | None) -> str | None:
    """A tag given as its id or its label in any language, accents and case aside
    (`fentanilo`, `Sécurité`); else a usage error with "did you mean"."""
    if value is None:
        return None
    used = sorted({tag for c in kb.commitments for tag in c.tags})
    names = {fold(tag): tag for tag in used}
    for tag in kb.tags:
        names.update({fold(label): tag.id for label in tag.label.all() if label})
    found = names.get(fold(value.strip()))
    if found:
        return found
    shown = [kb.tag(x).label.get(t.lang) if kb.tag(x) else x for x in used]  # type: ignore[union-attr]
    close = closest(value, [*shown, *used])
    hint = t.gettext(" (did you mean '{word}'?)").format(word=close) if close else ""
    raise bad_value(
        t,
        "--tag",
        t.gettext("no tag is called '{value}'{hint}; list them with: cmx tags").format(
            value=value, hint=hint
        ),
    )


def known_id(t: Translator, value: str | None, ids: Sequence[str], option: str) -> str | None:
    """An id given on the command line (a source's, say), checked against the KB."""
    if value is None or value in ids:
        return value
    return choice(t, value, list(ids), option)


@record  # a frozen slotted dataclass, cheap to define (see cmx.model)
class Filters(Record):
    """Which commitments to show, as the reader wrote it; None (False) means no filter.

    Shared by `cmx commitments` and `cmx export` (and the API): `select` resolves every
    value against the knowledge base and applies them all."""

    pillar: str | None = None
    sector: str | None = None
    status: str | None = None
    instrument: str | None = None
    actor: str | None = None
    source: str | None = None
    tag: str | None = None
    due_before: str | None = None
    overdue: bool = False
    basis: str | None = None

    def __init__(
        self,
        *,
        pillar: str | None = None,
        sector: str | None = None,
        status: str | None = None,
        instrument: str | None = None,
        actor: str | None = None,
        source: str | None = None,
        tag: str | None = None,
        due_before: str | None = None,
        overdue: bool = False,
        basis: str | None = None,
    ) -> None:
        _set(self, "pillar", pillar)
        _set(self, "sector", sector)
        _set(self, "status", status)
        _set(self, "instrument", instrument)
        _set(self, "actor", actor)
        _set(self, "source", source)
        _set(self, "tag", tag)
        _set(self, "due_before", due_before)
        _set(self, "overdue", overdue)
        _set(self, "basis", basis)

    def parts(self) -> set[str]:
        """The parts of a knowledge base `resolve` reads (tags: also the commitments)."""
        return (
            {"pillars"}
            | ({"actors"} if self.actor is not None else set())
            | ({"sources"} if self.source is not None else set())
            | ({"tags"} if self.tag is not None else set())
        )

    def resolve(self, kb: KnowledgeBase, t: Translator, today: dt.date) -> dict[str, Any]:
        """Every value checked against the knowledge base (a bad one: UsageError), as
        codes and ids; None: not filtered on. Needs no commitment unless --tag is given
        (a tag is also any tag a commitment carries)."""
        return {
            "basis": code_choice(t, self.basis, "basis", "--basis"),
            "scope": pillar_scope(t, kb.pillars, self.pillar),
            "sector": known_entry(t, self.sector, kb.sectors, "--sector"),
            "status": code_choice(t, self.status, "status", "--status"),
            "instrument": code_choice(t, self.instrument, "instrument", "--instrument"),
            "actors": actor_ids(t, kb, self.actor),
            "source": known_id(t, self.source, [s.id for s in kb.sources], "--source"),
            "tag": known_tag(t, kb, self.tag),
            "due_before": parse_date(t, self.due_before, "--due-before"),
            "overdue_on": today if self.overdue else None,
        }

    def select(self, kb: KnowledgeBase, t: Translator, today: dt.date) -> list[Commitment]:
        """The commitments of `kb` these filters keep (a bad value: UsageError)."""
        from cmx.search import filter_commitments

        chosen = self.resolve(kb, t, today)
        items = filter_commitments(
            kb.commitments,
            sector=chosen["sector"],
            status=chosen["status"],
            instrument=chosen["instrument"],
            actors=chosen["actors"],
            source=chosen["source"],
            tag=chosen["tag"],
            due_before=chosen["due_before"],
            overdue_on=chosen["overdue_on"],
        )
        if chosen["basis"]:
            items = [c for c in items if kb.basis(c).value == chosen["basis"]]
        if chosen["scope"]:
            items = [c for c in items if kb.scope(c) == chosen["scope"]]
        return items

    def given(self, name: str) -> bool:
        """Whether the reader filtered on `name` (a column that would only repeat it)."""
        value = getattr(self, name)
        return value is not None and value is not False


def find_entry(kb: KnowledgeBase, wanted: str, t: Translator, *, hint_ids: bool) -> object:
    """The entry with id `wanted` (or the plan's number, III or I.1); else exit 1 with
    "did you mean"."""
    entry = kb.get(wanted) or kb.get(by_number(kb, wanted) or "") or by_name(kb, wanted)
    if entry is not None:
        return entry
    close = closest(wanted, kb.ids())
    hint = (
        t.gettext(" (did you mean '{word}'?)").format(word=close)
        if close
        else (t.gettext(" (find it with cmx search WORDS)") if hint_ids else "")
    )
    raise NothingMatched(t.gettext("no entry with id '{id}'{hint}").format(id=wanted, hint=hint))


def by_name(kb: KnowledgeBase, name: str) -> object:
    """The pillar, priority area or actor called exactly `name` in any language, case
    and accents aside (`seguridad`, `Sécurité`, `GRC`), if exactly one is."""
    key = fold(name.strip())
    areas: list[Pillar | Sector] = [*kb.pillars, *kb.sectors]
    found: list[object] = [e for e in areas if key in {fold(n) for n in entry_names(e) if n}]
    for actor in kb.actors:
        names = [*actor.name.all(), *(actor.acronym.all() if actor.acronym else ()), *actor.aliases]
        if key in {fold(n) for n in names}:
            found.append(actor)
    return found[0] if len(found) == 1 else None


def by_number(kb: KnowledgeBase, number: str) -> str | None:
    """The pillar or priority area the plan numbers `number` (III, I.1), if any."""
    entries: list[Pillar | Sector] = [*kb.pillars, *kb.sectors]
    for entry in entries:
        if entry.number and entry.number.lower() == number.lower():
            return entry.id
    return None
