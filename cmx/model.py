"""The knowledge base as immutable records, and the facts about them. No I/O, no printing.

Records are frozen, slotted dataclasses (the design card asks for dataclasses): they
compare by value only with records of their own type, `json.dumps` refuses them rather
than turning them into lists, and `len()` or `in` on a record is an error, not a quiet
surprise. Domain facts (is a commitment overdue, what is its basis, is a source
official) live here, so every output agrees on them.

Start-up: on Python 3.11 `dataclass` compiles each generated method separately (~0.15 ms
each), and every run defines these classes. So `@record` asks `dataclass` for no method:
`__init__` is written out (fields in order, same defaults: tests/test_architecture.py
checks each against `dataclasses.fields`), and `__eq__`, `__hash__`, `__repr__` and the
frozen `__setattr__`/`__delattr__` (FrozenInstanceError, as `frozen=True` raises) come
from one shared base that does the same by field; type checkers see `frozen=True`
(`dataclass_transform`). Every class has a docstring, so none is derived from its
signature. Together this takes the model from ~26 to ~5 ms (bench/startup.py measures
the whole start).
"""

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import FrozenInstanceError, dataclass, field
from enum import StrEnum
from typing import Any, TypeVar, cast, dataclass_transform

_set = object.__setattr__  # how a frozen record's __init__ fills its slots


class Record:
    """Equality, hashing and repr by field, shared by every record (see the module doc)."""

    __slots__ = ()
    __dataclass_fields__: dict[str, Any]

    def _values(self) -> tuple[Any, ...]:
        fields = self.__dataclass_fields__.values()
        return tuple(getattr(self, f.name) for f in fields if f.compare)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._values() == other._values()  # type: ignore[attr-defined,unused-ignore]

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        fields = self.__dataclass_fields__.values()
        inner = ", ".join(f"{f.name}={getattr(self, f.name)!r}" for f in fields if f.repr)
        return f"{type(self).__name__}({inner})"

    def __setattr__(self, name: str, value: object) -> None:
        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete field {name!r}")


_R = TypeVar("_R", bound=type[Record])


@dataclass_transform(frozen_default=True, eq_default=False, field_specifiers=(field,))
def record(cls: _R) -> _R:
    """A record class: a slotted dataclass, frozen by Record (see the module doc)."""
    made: Any = dataclass(cls, slots=True, init=False, repr=False, eq=False)
    made.__dataclass_params__.frozen = True  # as `frozen=True` says: a subclass is frozen too
    return cast(_R, made)


LANGS: tuple[str, ...] = ("en", "es", "fr")
PILLAR_IDS: tuple[str, ...] = ("prosperity", "mobility", "security", "environment")
PLAN_WIDE = "plan-wide"  # where the plan's own governance is counted: not a fifth pillar


class Status(StrEnum):
    PLANNED = "planned"
    UNDERWAY = "underway"
    COMPLETED = "completed"
    NOT_PURSUED = "not-pursued"


class Instrument(StrEnum):
    DIALOGUE = "dialogue"
    MOU = "mou"
    WORKING_GROUP = "working-group"
    FUNDING = "funding"
    MISSION = "mission"
    MEETING = "meeting"
    PROGRAM = "program"
    AGREEMENT = "agreement"
    OTHER = "other"


class SourceKind(StrEnum):
    OFFICIAL = "official"
    OFFICIAL_REPRODUCED = "official-reproduced"
    NEWS = "news"
    ANALYSIS = "analysis"


class Reliability(StrEnum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class AmountStage(StrEnum):
    ANNOUNCED = "announced"
    COMMITTED = "committed"
    DISBURSED = "disbursed"


class Support(StrEnum):
    STATED = "stated"
    INTERPRETATION = "interpretation"
    NOT_IN_OFFICIAL_TEXT = "not-in-official-text"


class Basis(StrEnum):
    """The best kind of source behind a commitment."""

    OFFICIAL = "official"
    NEWS = "news"
    ANALYSIS = "analysis"


class ActorKind(StrEnum):
    GOVERNMENT = "government"
    AGENCY = "agency"
    PERSON = "person"
    INTERNATIONAL = "international"
    OTHER = "other"


HEADLINE_WORDS = 16  # the longest an event headline may be, in words, in each language
CLOSED = frozenset({Status.COMPLETED, Status.NOT_PURSUED})
OFFICIAL_KINDS = frozenset({SourceKind.OFFICIAL, SourceKind.OFFICIAL_REPRODUCED})


@record
class Text(Record):
    """One piece of text in English, Spanish and French."""

    en: str
    es: str
    fr: str

    def __init__(
        self,
        en: str,
        es: str,
        fr: str,
    ) -> None:
        _set(self, "en", en)
        _set(self, "es", es)
        _set(self, "fr", fr)

    def get(self, lang: str) -> str:
        value = getattr(self, lang, None) if lang in LANGS else None
        return value or self.en

    def all(self) -> tuple[str, str, str]:
        return (self.en, self.es, self.fr)


@record
class Citation(Record):
    """Where an entry says something: a source id and, where known, its section."""

    source: str
    section: str | None = None

    def __init__(
        self,
        source: str,
        section: str | None = None,
    ) -> None:
        _set(self, "source", source)
        _set(self, "section", section)


@record
class Source(Record):
    """A document the knowledge base cites."""

    id: str
    title: str
    publisher: str
    kind: SourceKind
    url: str | None = None
    date: str | None = None  # ISO date, possibly partial: 2025, 2025-09 or 2025-09-18
    language: str | None = None
    reliability: Reliability | None = None
    note: Text | None = None  # what a reader should know about the source
    # How the text reached this URL; `publisher` is only ever the publisher's clean name.
    via: str | None = None  # the wire or site that distributed the publisher's own text (CNW)
    # This page reproduces a text written by someone else: the original author's name
    # ("Prime Minister's Office", "CFIA"), or the id of the original's source entry when
    # that is in sources.yaml (then it is exactly an id, and kb.py checks it).
    copy_of: str | None = None
    copy_on: str | None = None  # the publisher's own text, on this unofficial site
    agency: str | None = None  # the news agency whose story it is (EFE, AFP, The Canadian Press)
    aggregator: bool = False  # a news aggregator (automated summaries), not a newsroom
    # The id of the source this one translates: the same text in another language
    # (pmo-release-fr is a version of the English release); citations then pick the
    # version in the reader's language.
    version_of: str | None = None

    def __init__(
        self,
        id: str,
        title: str,
        publisher: str,
        kind: SourceKind,
        url: str | None = None,
        date: str | None = None,
        language: str | None = None,
        reliability: Reliability | None = None,
        note: Text | None = None,
        via: str | None = None,
        copy_of: str | None = None,
        copy_on: str | None = None,
        agency: str | None = None,
        aggregator: bool = False,
        version_of: str | None = None,
    ) -> None:
        _set(self, "id", id)
        _set(self, "title", title)
        _set(self, "publisher", publisher)
        _set(self, "kind", kind)
        _set(self, "url", url)
        _set(self, "date", date)
        _set(self, "language", language)
        _set(self, "reliability", reliability)
        _set(self, "note", note)
        _set(self, "via", via)
        _set(self, "copy_of", copy_of)
        _set(self, "copy_on", copy_on)
        _set(self, "agency", agency)
        _set(self, "aggregator", aggregator)
        _set(self, "version_of", version_of)

    @property
    def official(self) -> bool:
        return self.kind in OFFICIAL_KINDS


@record
class Sector(Record):
    """A priority area of a pillar."""

    id: str
    pillar: str
    number: str | None
    name: Text
    summary: Text
    sources: tuple[Citation, ...]
    official: bool = False  # False: a heading reconstructed from releases and news
    aliases: tuple[str, ...] = ()
    concepts: tuple[str, ...] = ()  # ids of concepts (concepts.yaml) the area is about
    plan_wide: bool = False  # the plan's own governance: filed under a pillar, counted apart

    def __init__(
        self,
        id: str,
        pillar: str,
        number: str | None,
        name: Text,
        summary: Text,
        sources: tuple[Citation, ...],
        official: bool = False,
        aliases: tuple[str, ...] = (),
        concepts: tuple[str, ...] = (),
        plan_wide: bool = False,
    ) -> None:
        _set(self, "id", id)
        _set(self, "pillar", pillar)
        _set(self, "number", number)
        _set(self, "name", name)
        _set(self, "summary", summary)
        _set(self, "sources", sources)
        _set(self, "official", official)
        _set(self, "aliases", aliases)
        _set(self, "concepts", concepts)
        _set(self, "plan_wide", plan_wide)

    @property
    def scope(self) -> str:
        """The pillar the area counts under, or PLAN_WIDE for the plan's governance."""
        return PLAN_WIDE if self.plan_wide else self.pillar


@record
class Pillar(Record):
    """One of the plan's four pillars, with its priority areas."""

    id: str
    number: str
    name: Text
    summary: Text
    sources: tuple[Citation, ...]
    sectors: tuple[Sector, ...] = ()
    aliases: tuple[str, ...] = ()

    def __init__(
        self,
        id: str,
        number: str,
        name: Text,
        summary: Text,
        sources: tuple[Citation, ...],
        sectors: tuple[Sector, ...] = (),
        aliases: tuple[str, ...] = (),
    ) -> None:
        _set(self, "id", id)
        _set(self, "number", number)
        _set(self, "name", name)
        _set(self, "summary", summary)
        _set(self, "sources", sources)
        _set(self, "sectors", sectors)
        _set(self, "aliases", aliases)


@record
class Amount(Record):
    """A sum of money attached to a commitment."""

    value: float
    currency: str
    stage: AmountStage
    source: str | None = None  # where the figure comes from, when not the entry's first source

    def __init__(
        self,
        value: float,
        currency: str,
        stage: AmountStage,
        source: str | None = None,
    ) -> None:
        _set(self, "value", value)
        _set(self, "currency", currency)
        _set(self, "stage", stage)
        _set(self, "source", source)


@record
class Event(Record):
    """A dated fact about a commitment, with its source."""

    date: str
    what: Text
    source: str
    status: Status | None = None  # the status the commitment moved to on this date
    # One short, complete sentence stating the outcome, to be shown whole (a memo line):
    # at most HEADLINE_WORDS words in each language, no trailing ellipsis.
    headline: Text | None = None

    def __init__(
        self,
        date: str,
        what: Text,
        source: str,
        status: Status | None = None,
        headline: Text | None = None,
    ) -> None:
        _set(self, "date", date)
        _set(self, "what", what)
        _set(self, "source", source)
        _set(self, "status", status)
        _set(self, "headline", headline)


@record
class Actor(Record):
    """A government, agency, person or organisation named by the sources."""

    id: str
    kind: ActorKind
    name: Text
    acronym: Text | None = None
    aliases: tuple[str, ...] = ()

    def __init__(
        self,
        id: str,
        kind: ActorKind,
        name: Text,
        acronym: Text | None = None,
        aliases: tuple[str, ...] = (),
    ) -> None:
        _set(self, "id", id)
        _set(self, "kind", kind)
        _set(self, "name", name)
        _set(self, "acronym", acronym)
        _set(self, "aliases", aliases)


@record
class Commitment(Record):
    """A concrete action of the plan, with its sources."""

    id: str
    pillar: str
    sector: str
    title: Text
    summary: Text
    sources: tuple[Citation, ...]
    instrument: Instrument = Instrument.OTHER
    status: Status = Status.PLANNED
    actors: tuple[str, ...] = ()
    due: str | None = None
    amount: Amount | None = None
    events: tuple[Event, ...] = ()
    tags: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    reviewed: str | None = None  # when the entry was last checked against its sources
    concepts: tuple[str, ...] = ()  # ids of concepts (concepts.yaml) the entry is about
    # The source that states the due date (one of the entry's cited sources), when it is
    # not the first: a summary cites it after the date.
    due_source: str | None = None

    def __init__(
        self,
        id: str,
        pillar: str,
        sector: str,
        title: Text,
        summary: Text,
        sources: tuple[Citation, ...],
        instrument: Instrument = Instrument.OTHER,
        status: Status = Status.PLANNED,
        actors: tuple[str, ...] = (),
        due: str | None = None,
        amount: Amount | None = None,
        events: tuple[Event, ...] = (),
        tags: tuple[str, ...] = (),
        aliases: tuple[str, ...] = (),
        reviewed: str | None = None,
        concepts: tuple[str, ...] = (),
        due_source: str | None = None,
    ) -> None:
        _set(self, "id", id)
        _set(self, "pillar", pillar)
        _set(self, "sector", sector)
        _set(self, "title", title)
        _set(self, "summary", summary)
        _set(self, "sources", sources)
        _set(self, "instrument", instrument)
        _set(self, "status", status)
        _set(self, "actors", actors)
        _set(self, "due", due)
        _set(self, "amount", amount)
        _set(self, "events", events)
        _set(self, "tags", tags)
        _set(self, "aliases", aliases)
        _set(self, "reviewed", reviewed)
        _set(self, "concepts", concepts)
        _set(self, "due_source", due_source)

    def is_overdue(self, today: dt.date) -> bool:
        """Due before `today` and neither completed nor dropped."""
        if not self.due or self.status in CLOSED:
            return False
        return date_bounds(self.due)[1] < today

    def cited(self) -> list[str]:
        """Every source id the entry cites, first citation first, each once."""
        ids = [c.source for c in self.sources] + [e.source for e in self.events]
        if self.amount and self.amount.source:
            ids.append(self.amount.source)
        if self.due_source:
            ids.append(self.due_source)
        return list(dict.fromkeys(ids))


@record
class Note(Record):
    """Commentary or analysis: never an official commitment."""

    id: str
    source: str
    title: Text
    claim: Text
    support: Support
    related: tuple[str, ...] = ()
    section: str | None = None

    def __init__(
        self,
        id: str,
        source: str,
        title: Text,
        claim: Text,
        support: Support,
        related: tuple[str, ...] = (),
        section: str | None = None,
    ) -> None:
        _set(self, "id", id)
        _set(self, "source", source)
        _set(self, "title", title)
        _set(self, "claim", claim)
        _set(self, "support", support)
        _set(self, "related", related)
        _set(self, "section", section)


@record
class Labels(Record):
    """Other words for a concept in English, Spanish and French (synonyms, narrower uses)."""

    en: tuple[str, ...] = ()
    es: tuple[str, ...] = ()
    fr: tuple[str, ...] = ()

    def __init__(
        self,
        en: tuple[str, ...] = (),
        es: tuple[str, ...] = (),
        fr: tuple[str, ...] = (),
    ) -> None:
        _set(self, "en", en)
        _set(self, "es", es)
        _set(self, "fr", fr)

    def all(self) -> tuple[str, ...]:
        return (*self.en, *self.es, *self.fr)


@record
class Concept(Record):
    """A policy concept of the thesaurus: preferred and other labels, and its broader concept."""

    id: str
    label: Text
    alt: Labels | None = None
    broader: str | None = None  # id of the broader concept
    eurovoc: str | None = None  # the EuroVoc descriptor it follows, where there is one

    def __init__(
        self,
        id: str,
        label: Text,
        alt: Labels | None = None,
        broader: str | None = None,
        eurovoc: str | None = None,
    ) -> None:
        _set(self, "id", id)
        _set(self, "label", label)
        _set(self, "alt", alt)
        _set(self, "broader", broader)
        _set(self, "eurovoc", eurovoc)

    def labels(self) -> dict[str, tuple[str, ...]]:
        """Every label by language, preferred first."""
        alt = self.alt or Labels()
        return {lang: (getattr(self.label, lang), *getattr(alt, lang)) for lang in LANGS}


@record
class Tag(Record):
    """A tag that commitments use, with its label in English, Spanish and French."""

    id: str
    label: Text

    def __init__(
        self,
        id: str,
        label: Text,
    ) -> None:
        _set(self, "id", id)
        _set(self, "label", label)


Entry = Pillar | Sector | Commitment | Note | Source | Actor


@record
class KnowledgeBase(Record):
    """The whole knowledge base, with a look-up of any entry by id."""

    pillars: tuple[Pillar, ...]
    commitments: tuple[Commitment, ...]
    sources: tuple[Source, ...]
    notes: tuple[Note, ...] = ()
    actors: tuple[Actor, ...] = ()
    concepts: tuple[Concept, ...] = ()
    tags: tuple[Tag, ...] = ()  # tags.yaml: each tag's label in three languages (optional)
    _index: dict[str, Entry] = field(init=False, repr=False, compare=False)
    _plan_wide: frozenset[str] = field(init=False, repr=False, compare=False)

    def __init__(
        self,
        pillars: tuple[Pillar, ...],
        commitments: tuple[Commitment, ...],
        sources: tuple[Source, ...],
        notes: tuple[Note, ...] = (),
        actors: tuple[Actor, ...] = (),
        concepts: tuple[Concept, ...] = (),
        tags: tuple[Tag, ...] = (),
    ) -> None:
        _set(self, "pillars", pillars)
        _set(self, "commitments", commitments)
        _set(self, "sources", sources)
        _set(self, "notes", notes)
        _set(self, "actors", actors)
        _set(self, "concepts", concepts)
        _set(self, "tags", tags)
        index: dict[str, Entry] = {}
        _set(self, "_index", index)
        _set(self, "_plan_wide", plan_wide_sectors(pillars))
        for pillar in self.pillars:
            index.setdefault(pillar.id, pillar)
            for sector in pillar.sectors:
                index.setdefault(sector.id, sector)
        for group in (self.commitments, self.notes, self.sources, self.actors):
            for item in group:
                index.setdefault(item.id, item)

    @property
    def sectors(self) -> tuple[Sector, ...]:
        return tuple(s for p in self.pillars for s in p.sectors)

    def get(self, entry_id: str) -> Entry | None:
        return self._index.get(entry_id)

    def source(self, source_id: str) -> Source | None:
        item = self._index.get(source_id)
        return item if isinstance(item, Source) else None

    def concept(self, concept_id: str) -> Concept | None:
        return self._concepts().get(concept_id)

    def tag(self, tag_id: str) -> Tag | None:
        """The declared tag (tags.yaml) with this id, if any."""
        return next((t for t in self.tags if t.id == tag_id), None)

    def _concepts(self) -> dict[str, Concept]:
        return {c.id: c for c in self.concepts}

    def actor(self, actor_id: str) -> Actor | None:
        item = self._index.get(actor_id)
        return item if isinstance(item, Actor) else None

    def ids(self) -> list[str]:
        return list(self._index)

    def basis(self, c: Commitment) -> Basis:
        """Official when an official text supports the entry, else the best kind that does."""
        kinds = {s.kind for x in c.sources if (s := self.source(x.source))}
        if kinds & OFFICIAL_KINDS:
            return Basis.OFFICIAL
        return Basis.NEWS if SourceKind.NEWS in kinds else Basis.ANALYSIS

    def counts(self) -> dict[str, int]:
        """Commitments per pillar id (PLAN_WIDE for the plan's governance) and sector id."""
        counts: dict[str, int] = {}
        plan_wide = self.plan_wide_sectors()
        for c in self.commitments:
            scope = PLAN_WIDE if c.sector in plan_wide else c.pillar
            counts[scope] = counts.get(scope, 0) + 1
            counts[c.sector] = counts.get(c.sector, 0) + 1
        return counts

    def plan_wide_sectors(self) -> frozenset[str]:
        """Ids of the sectors that hold the plan's own governance (counted apart)."""
        return self._plan_wide

    def scope(self, c: Commitment) -> str:
        """The pillar a commitment counts under, or PLAN_WIDE for the plan's governance."""
        return PLAN_WIDE if c.sector in self._plan_wide else c.pillar

    def newest_date(self) -> str | None:
        """The newest date of any source or event, as written (possibly partial); a
        partial date ranks by its first day, so '2026' does not pass for December."""
        dates = [s.date for s in self.sources if s.date]
        dates += [e.date for c in self.commitments for e in c.events]
        return max(dates, key=lambda d: date_bounds(d)[0], default=None)

    def versions(self, source_id: str) -> list[Source]:
        """The source and every other text of it the knowledge base holds: its versions
        in other languages (`version_of`) and copies of it (`copy_of` by id), both ways."""
        links: dict[str, set[str]] = {}
        for s in self.sources:
            for other in (s.version_of, s.copy_of):
                if other and self.source(other):
                    links.setdefault(s.id, set()).add(other)
                    links.setdefault(other, set()).add(s.id)
        seen, todo = {source_id}, [source_id]
        while todo:
            for other in links.get(todo.pop(), ()):
                if other not in seen:
                    seen.add(other)
                    todo.append(other)
        return [s for s in self.sources if s.id in seen]

    def version(self, source_id: str, lang: str) -> str:
        """The text of a source to cite for a reader of `lang`: among its versions and
        copies (which state the same facts), one in the reader's language, an official
        text before a reproduced one; else the original rather than a copy; else itself."""
        family = self.versions(source_id)
        if len(family) < 2:
            return source_id
        rank = {SourceKind.OFFICIAL: 0, SourceKind.OFFICIAL_REPRODUCED: 1}
        mine = [s for s in family if s.language == lang]
        if mine:
            return min(mine, key=lambda s: (rank.get(s.kind, 2), s.id != source_id)).id
        originals = [s for s in family if not s.copy_of and not s.version_of]
        originals.sort(key=lambda s: rank.get(s.kind, 2))
        return originals[0].id if originals else source_id

    def accessed(self) -> dict[str, str]:
        """When each source was last consulted: the newest `reviewed` date of the
        commitments that cite it (a review checks an entry against its sources). A
        source no reviewed entry cites has none."""
        return newest_reviews(
            (c.reviewed, sid) for c in self.commitments if c.reviewed for sid in c.cited()
        )

    def actor_name(self, actor_id: str, lang: str) -> str:
        actor = self.actor(actor_id)
        return actor.name.get(lang) if actor else actor_id


# C0 and C1 control characters but tab and newline (ESC, BEL, CR, NUL, DEL, CSI…).
_CONTROLS = dict.fromkeys((*range(0x00, 0x09), *range(0x0B, 0x20), *range(0x7F, 0xA0)))


def without_controls(text: str) -> str:
    """`text` with control characters dropped, for files other programs read (a calendar,
    a reference manager); what cmx prints shows them instead (cmx.render.clean)."""
    return text.translate(_CONTROLS) if not text.isprintable() else text


def newest_reviews(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Source id -> the newest review date of (review date, cited source id) pairs, in
    plan order: of two reviews of the same start, the first (KnowledgeBase.accessed)."""
    seen: dict[str, str] = {}
    for reviewed, sid in pairs:
        if sid not in seen or date_bounds(seen[sid])[0] < date_bounds(reviewed)[0]:
            seen[sid] = reviewed
    return seen


def plan_wide_sectors(pillars: Iterable[Pillar]) -> frozenset[str]:
    """Ids of the sectors that hold the plan's own governance (counted apart)."""
    return frozenset(s.id for p in pillars for s in p.sectors if s.plan_wide)


def kind_of(entry: object) -> str:
    """The user-facing kind of an entry: pillar, sector, commitment, note, source or actor."""
    return type(entry).__name__.lower()


def iter_entries(kb: KnowledgeBase) -> Iterator[Entry]:
    """Every entry in search order: pillars, sectors, commitments, notes, sources."""
    yield from kb.pillars
    yield from kb.sectors
    yield from kb.commitments
    yield from kb.notes
    yield from kb.sources


def date_bounds(value: str) -> tuple[dt.date, dt.date]:
    """First and last day covered by an ISO date that may be partial (2026, 2026-03)."""
    parts = [int(p) for p in value.split("-")]
    if len(parts) == 3:
        day = dt.date(*parts)
        return day, day
    if len(parts) == 2:
        first = dt.date(parts[0], parts[1], 1)
        nxt = dt.date(parts[0] + parts[1] // 12, parts[1] % 12 + 1, 1)
        return first, nxt - dt.timedelta(days=1)
    return dt.date(parts[0], 1, 1), dt.date(parts[0], 12, 31)
