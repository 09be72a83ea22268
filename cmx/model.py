"""The knowledge base as immutable records. No I/O, no printing.

Records are typing.NamedTuple rather than frozen dataclasses: just as immutable and
typed, but defining them costs ~3 ms at start-up instead of ~15 ms (dataclasses
generate and compile methods for every class; see bench/startup.py), and cmx is
meant to start in a blink.
"""

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from enum import StrEnum
from typing import Any, NamedTuple

LANGS: tuple[str, ...] = ("en", "es", "fr")
PILLAR_IDS: tuple[str, ...] = ("prosperity", "mobility", "security", "environment")


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


class ActorKind(StrEnum):
    GOVERNMENT = "government"
    AGENCY = "agency"
    PERSON = "person"
    INTERNATIONAL = "international"
    OTHER = "other"


class Text(NamedTuple):
    """One piece of text in English, Spanish and French."""

    en: str
    es: str
    fr: str

    def get(self, lang: str) -> str:
        return getattr(self, lang, None) or self.en

    def all(self) -> tuple[str, str, str]:
        return (self.en, self.es, self.fr)


class Citation(NamedTuple):
    source: str
    section: str | None = None


class Source(NamedTuple):
    id: str
    title: str
    publisher: str
    kind: SourceKind
    url: str | None = None
    date: str | None = None  # ISO date, possibly partial: 2025, 2025-09 or 2025-09-18
    language: str | None = None
    reliability: Reliability | None = None
    note: str | None = None

    @property
    def official(self) -> bool:
        return self.kind in (SourceKind.OFFICIAL, SourceKind.OFFICIAL_REPRODUCED)


class Sector(NamedTuple):
    id: str
    pillar: str
    number: str | None
    name: Text
    summary: Text
    sources: tuple[Citation, ...]
    official: bool = False  # False: a priority area we reconstructed, with a name of our own
    aliases: tuple[str, ...] = ()


class Pillar(NamedTuple):
    id: str
    number: str
    name: Text
    summary: Text
    sources: tuple[Citation, ...]
    sectors: tuple[Sector, ...] = ()
    aliases: tuple[str, ...] = ()


class Amount(NamedTuple):
    value: float
    currency: str
    stage: AmountStage
    source: str | None = None  # where the figure comes from, when not the entry's first source


class Event(NamedTuple):
    date: str
    what: Text
    source: str
    status: Status | None = None  # the status the commitment moved to on this date


class Actor(NamedTuple):
    """A government, agency, person or organisation named by the sources."""

    id: str
    kind: ActorKind
    name: Text
    acronym: Text | None = None
    aliases: tuple[str, ...] = ()


class Commitment(NamedTuple):
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


class Note(NamedTuple):
    """Commentary or analysis: never an official commitment."""

    id: str
    source: str
    title: Text
    claim: Text
    support: Support
    related: tuple[str, ...] = ()
    section: str | None = None


class LazyRecords(Sequence[Any]):
    """A sequence whose items are built on first access (a large KB read from the cache)."""

    __slots__ = ("_fetch", "_items")

    def __init__(self, count: int, fetch: Callable[[int], Any]) -> None:
        self._items: list[Any] = [None] * count
        self._fetch = fetch

    def __len__(self) -> int:
        return len(self._items)

    def __getitem__(self, i: Any) -> Any:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        item = self._items[i]
        if item is None:
            item = self._items[i] = self._fetch(i if i >= 0 else i + len(self))
        return item

    def __iter__(self) -> Iterator[Any]:
        return (self[i] for i in range(len(self._items)))


class KnowledgeBase:
    """The whole knowledge base, with a look-up of any entry by id.

    `commitments` may be a LazyRecords; `commitment_ids` then lists their ids, so that
    look-ups by id need not build every commitment.
    """

    __slots__ = ("_index", "commitments", "notes", "pillars", "sources")

    def __init__(
        self,
        pillars: Sequence[Pillar],
        commitments: Sequence[Commitment],
        sources: Sequence[Source],
        notes: Sequence[Note] = (),
        commitment_ids: Sequence[str] | None = None,
    ) -> None:
        self.pillars = pillars
        self.commitments = commitments
        self.sources = sources
        self.notes = notes
        index: dict[str, object] = {}
        for pillar in pillars:
            index.setdefault(pillar.id, pillar)
            for sector in pillar.sectors:
                index.setdefault(sector.id, sector)
        ids = commitment_ids if commitment_ids is not None else [c.id for c in commitments]
        for position, cid in enumerate(ids):
            index.setdefault(cid, position)  # a position: built when asked for
        for group in (notes, sources):
            for item in group:
                index.setdefault(item.id, item)
        self._index = index

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, KnowledgeBase):
            return NotImplemented
        mine = (self.pillars, tuple(self.commitments), self.sources, self.notes)
        return mine == (other.pillars, tuple(other.commitments), other.sources, other.notes)

    __hash__ = None  # type: ignore[assignment]

    @property
    def sectors(self) -> tuple[Sector, ...]:
        return tuple(s for p in self.pillars for s in p.sectors)

    def get(self, entry_id: str) -> object | None:
        item = self._index.get(entry_id)
        return self.commitments[item] if type(item) is int else item

    def source(self, source_id: str) -> Source | None:
        item = self._index.get(source_id)
        return item if isinstance(item, Source) else None

    def ids(self) -> list[str]:
        return list(self._index)


def kind_of(entry: object) -> str:
    """The user-facing kind of an entry: pillar, sector, commitment, note or source."""
    return type(entry).__name__.lower()


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
