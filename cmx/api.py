"""cmx for scripts: open a knowledge base and ask it what the command line asks.

    >>> from cmx.api import open_kb
    >>> from cmx.filters import Filters
    >>> plan = open_kb()                                  # the shipped knowledge base
    >>> [c.id for c in plan.commitments(Filters(pillar="security"))][:2]
    >>> plan.get("C-SEC-01").title.get("es")
    >>> [(h.entry.id, h.confidence) for h in plan.search("fentanilo", limit=3)]

Every function returns the model's frozen dataclasses (cmx.model), search hits
(cmx.search.Hit, with `Why`), the rows cmx.tracking builds, or text (Markdown, CSV, JSON,
ICS) written by cmx.output's one writer. Nothing here prints or exits: a value the
reader got wrong raises `cmx.errors.UsageError`, an id that names nothing raises
`cmx.errors.NothingMatched`, an invalid knowledge base raises `cmx.kb.KBError`, each
with the message the command line shows (resolved by cmx.filters, in the language
asked for). The language is a parameter of each call (`lang="es"`), never a setting.

A `Plan` reads its store on the thread that opened it (SQLite): open one per thread.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cmx.errors import KBError, NothingMatched, UsageError
from cmx.filters import (
    Filters,
    by_name,
    by_number,
    choice,
    code_choice,
    find_entry,
    known_entry,
    parse_date,
    period,
    pillar_scope,
)
from cmx.i18n import LANGUAGES, Translator, translator
from cmx.kbfiles import default_data_dir
from cmx.model import (
    Actor,
    Commitment,
    Concept,
    Entry,
    KnowledgeBase,
    Note,
    Pillar,
    Sector,
    Source,
)
from cmx.output import (
    CITE_STYLES,
    CsvPolicy,
    Format,
    Reader,
    Selection,
    as_text,
    choose,
    write,
)
from cmx.run import WINDOW_DAYS, days_before
from cmx.store import Store, open_store

if TYPE_CHECKING:  # imported where a search runs (cmx.store does the same)
    from cmx.search import Hit

__all__ = [
    "EXPORT_TABLES",
    "DateLike",
    "Filters",
    "KBError",
    "NothingMatched",
    "Plan",
    "UsageError",
    "open_kb",
]

DateLike = dt.date | str  # a date, or YYYY-MM-DD as the reader wrote it
EXPORT_TABLES = ("commitments", "events", "sources", "citations")


def open_kb(
    path: str | Path | None = None, *, use_cache: bool = True, today: DateLike | None = None
) -> Plan:
    """The knowledge base in the folder `path` (default: the one shipped with cmx).

    `use_cache=False` parses the YAML and keeps no store; `today` fixes the date that
    deadlines and "overdue" are judged by (default: the real date of each call).
    Raises KBError, listing every problem as file:line, when the folder is invalid."""
    day = _date(translator("en"), today, "--today")
    data_dir = Path(path) if path is not None else default_data_dir()
    return Plan(open_store(data_dir, use_cache=use_cache), today=day)


def _translator(lang: str) -> Translator:
    """The reader's language, checked: en, es or fr (else a UsageError in English)."""
    return translator(choice(translator("en"), lang, LANGUAGES, "--lang") or "en")


def _date(t: Translator, value: DateLike | None, option: str) -> dt.date | None:
    """A date given as a date or as text (a bad one: the command line's message)."""
    if value is None or isinstance(value, dt.date):
        return value
    return parse_date(t, value, option)


class Plan:
    """An opened knowledge base: what `cmx` commands read, as Python values.

    Methods take keyword arguments named after the command-line options; None means
    "not given", as on the command line. `lang` picks the language of text in the
    results (titles of timeline rows, Markdown) and of error messages."""

    def __init__(self, store: Store, *, today: dt.date | None = None) -> None:
        self.store = store
        self.today = today  # None: the real date of each call

    def __repr__(self) -> str:
        return f"Plan({str(self.store.data_dir)!r})"

    @property
    def data_dir(self) -> Path:
        return self.store.data_dir

    # -------------------------------------------------------------- the knowledge base

    def _day(self, t: Translator, today: DateLike | None) -> dt.date:
        return _date(t, today, "--today") or self.today or dt.date.today()

    def day(self, today: DateLike | None = None, *, lang: str = "en") -> dt.date:
        """The date things are judged by: `today` if given, else the plan's, else the
        real date."""
        return self._day(_translator(lang), today)

    def kb(self, *, as_of: DateLike | None = None, lang: str = "en") -> KnowledgeBase:
        """The whole knowledge base; with `as_of`, as it stood that day (cmx.tracking.as_of)."""
        t = _translator(lang)
        kb = self.store.kb()
        day = _date(t, as_of, "--as-of")
        if day is None:
            return kb
        from cmx.tracking import as_of as as_it_stood

        return as_it_stood(kb, day)

    def newest_date(self) -> str | None:
        """The newest date of any source or event (possibly partial: 2026-03)."""
        return self.store.newest_date()

    def pillars(self, *, as_of: DateLike | None = None, lang: str = "en") -> tuple[Pillar, ...]:
        """The four pillars, each with its sectors (priority areas)."""
        if as_of is None:
            _translator(lang)
            return self.store.pillars()
        return self.kb(as_of=as_of, lang=lang).pillars

    def counts(self, *, as_of: DateLike | None = None, lang: str = "en") -> dict[str, int]:
        """Commitments per pillar id (cmx.model.PLAN_WIDE: the plan's own governance)
        and per sector id."""
        if as_of is None:
            _translator(lang)
            return self.store.counts()
        return self.kb(as_of=as_of, lang=lang).counts()

    def sectors(self, pillar: str | None = None, *, lang: str = "en") -> list[Sector]:
        """Priority areas, of one pillar (by id, number or name in any language) or all."""
        t = _translator(lang)
        pillars = self.store.pillars()
        scope = pillar_scope(t, pillars, pillar)
        return [s for p in pillars for s in p.sectors if not scope or s.scope == scope]

    def commitments(
        self,
        filters: Filters | None = None,
        *,
        lang: str = "en",
        today: DateLike | None = None,
        as_of: DateLike | None = None,
    ) -> list[Commitment]:
        """The commitments `filters` keep (all without), in the plan's order
        (`cmx commitments`). `today` judges `Filters(overdue=True)`."""
        t = _translator(lang)
        day = self._day(t, today)
        chosen = filters or Filters()
        if as_of is None and chosen.tag is None:  # asked in SQL: only the matches are read
            found = self.store.select(chosen.resolve(self.store.partial(chosen.parts()), t, day))
            if found is not None:
                return found
        return chosen.select(self.kb(as_of=as_of, lang=lang), t, day)

    def context(
        self,
        entries: Sequence[object],
        *,
        as_of: DateLike | None = None,
        lang: str = "en",
        parts: Iterable[str] | None = None,
    ) -> KnowledgeBase:
        """A knowledge base that holds enough to show `entries` (every entry but the
        commitments, and the commitments they are or name; with `parts`, only those
        parts besides the commitments, as cmx.rows.ROW_PARTS); with `as_of`, the whole
        knowledge base as it stood that day."""
        if as_of is not None:
            return self.kb(as_of=as_of, lang=lang)
        _translator(lang)
        return self.store.context(entries, parts)

    def get(self, entry_id: str, *, lang: str = "en", hint_ids: bool = True) -> Entry:
        """The pillar, sector, commitment, note, source or actor with this id (or the
        plan's number: III, I.1, or its exact name). An unknown id raises NothingMatched
        with "did you mean" (`hint_ids`: or where to list ids)."""
        t = _translator(lang)
        wanted = entry_id.strip()
        found = self.store.entry(wanted) if wanted else None  # one commitment read at most
        if found is None:
            small = self.store.small()
            found = small.get(by_number(small, wanted) or "") or by_name(small, wanted)  # type: ignore[assignment]
        entry = (
            found
            if found is not None
            else find_entry(self.store.kb(), wanted, t, hint_ids=hint_ids)
        )
        assert isinstance(entry, Pillar | Sector | Commitment | Note | Source | Actor)
        return entry

    def sources_of(self, entry_id: str, *, lang: str = "en") -> list[Source]:
        """The sources an entry cites, first citation first, each once (a source: itself)."""
        entry = self.get(entry_id, lang=lang)
        kb = self.store.small()  # the sources: no commitment is read
        if isinstance(entry, Source):
            return [entry]
        if isinstance(entry, Commitment):
            ids = entry.cited()
        elif isinstance(entry, Note):
            ids = [entry.source]
        elif isinstance(entry, Pillar | Sector):
            ids = list(dict.fromkeys(c.source for c in entry.sources))
        else:
            ids = []
        return [s for sid in ids if (s := kb.source(sid))]

    def bibliography(self, entry_id: str | None = None, *, lang: str = "en") -> list[Source]:
        """The sources to cite: every source, or those `entry_id` cites (`cmx sources
        --for ID`), each followed by its version in the reader's language where the
        summary cites that one instead (KnowledgeBase.version), each once."""
        kb = self.store.small()
        if entry_id is None:
            return list(kb.sources)
        cited = self.sources_of(entry_id, lang=lang)
        ids = dict.fromkeys(x for s in cited for x in (s.id, kb.version(s.id, lang)))
        return [s for sid in ids if (s := kb.source(sid))]

    def sources(self, *, kind: str | None = None, lang: str = "en") -> list[Source]:
        """Every source, or those of one kind (official, official-reproduced, news,
        analysis; in any language)."""
        t = _translator(lang)
        chosen = code_choice(t, kind, "source_kind", "--kind")
        return [s for s in self.store.small().sources if not chosen or s.kind.value == chosen]

    def accessed(self) -> dict[str, str]:
        """When each source was last consulted (KnowledgeBase.accessed)."""
        found = self.store.accessed()
        return found if found is not None else self.store.kb().accessed()

    def concepts(self) -> tuple[Concept, ...]:
        """The thesaurus's concepts (data/concepts.yaml)."""
        return self.store.small().concepts

    def notes(self, *, support: str | None = None, lang: str = "en") -> list[Note]:
        """Commentary and analysis (never official commitments), optionally by support
        level (stated, interpretation, not-in-official-text)."""
        t = _translator(lang)
        chosen = code_choice(t, support, "support", "--support")
        return [n for n in self.store.small().notes if not chosen or n.support.value == chosen]

    # -------------------------------------------------------------- search

    def search(
        self,
        query: str,
        *,
        kind: str | None = None,
        pillar: str | None = None,
        sector: str | None = None,
        status: str | None = None,
        limit: int | None = 10,
        lang: str = "en",
    ) -> list[Hit]:
        """Ranked, typo-tolerant hits for `query` (words in en, es or fr), best first
        (`cmx search`). Each hit has its entry, a confidence (high, medium, low) and
        `why`: how each part of the query matched (cmx.search.Why). No hit: []."""
        t = _translator(lang)
        text = query.strip()
        if not text:
            raise UsageError(t.gettext("the query is empty; try e.g. cmx search energy"))
        kinds = [code_choice(t, kind, "kind", "--kind") or ""] if kind else None
        chosen_status = code_choice(t, status, "status", "--status")
        scope = chosen_sector = None
        if pillar is not None or sector is not None:
            kb = self.store.partial({"pillars"})  # names of pillars and sectors only
            scope = pillar_scope(t, kb.pillars, pillar)
            chosen_sector = known_entry(t, sector, kb.sectors, "--sector")
        return self.store.search(
            text, kinds=kinds, pillar=scope, sector=chosen_sector, status=chosen_status, limit=limit
        )

    def suggestions(self, query: str) -> list[str]:
        """Words of the knowledge base close to those of `query` (for "did you mean")."""
        return self.store.suggestions(query)

    # -------------------------------------------------------------- tracking

    def timeline(
        self,
        *,
        start: DateLike | None = None,
        end: DateLike | None = None,
        pillar: str | None = None,
        lang: str = "en",
        today: DateLike | None = None,
        as_of: DateLike | None = None,
    ) -> list[dict[str, Any]]:
        """Every dated event and deadline, oldest first, marked done, overdue, dropped or
        upcoming (`cmx timeline`): rows {date, mark, type, id, pillar, what, source}."""
        from cmx.tracking import timeline

        t = _translator(lang)
        first, last = _date(t, start, "--from"), _date(t, end, "--to")
        if first and last:
            period(t, first, last, "--from")
        if as_of is None and (first or last or pillar):  # only the dated commitments, in SQL
            scope = pillar_scope(t, self.store.small().pillars, pillar)
            kb = self.store.dated(scope, first, last) or self.store.kb()
        else:
            kb = self.kb(as_of=as_of, lang=lang)
            scope = pillar_scope(t, kb.pillars, pillar)
        return timeline(kb, self._day(t, today), t.lang, start=first, end=last, pillar=scope)

    def changes(
        self,
        *,
        since: DateLike | None = None,
        until: DateLike | None = None,
        pillar: str | None = None,
        lang: str = "en",
        today: DateLike | None = None,
    ) -> list[dict[str, Any]]:
        """What happened from `since` to `until`, both included (default: the 90 days
        up to today): events, status changes and deadlines that fell due, grouped by
        pillar, newest first (`cmx changes`). Rows {date, pillar, id, type, status,
        title, what, source}."""
        from cmx.tracking import changes

        t = _translator(lang)
        start, end = self.window(since, until, lang=lang, today=today)
        kb = self.store.kb()
        scope = pillar_scope(t, kb.pillars, pillar)
        return [r for r in changes(kb, start, end, t.lang) if not scope or r["pillar"] == scope]

    def window(
        self,
        since: DateLike | None = None,
        until: DateLike | None = None,
        *,
        lang: str = "en",
        today: DateLike | None = None,
    ) -> tuple[dt.date, dt.date]:
        """The period `changes` covers: `since` to `until` (default: the 90 days up to
        today), checked to run forward."""
        t = _translator(lang)
        end = _date(t, until, "--until") or self._day(t, today)
        start = _date(t, since, "--since") or days_before(end, WINDOW_DAYS)
        period(t, start, end, "--since")
        return start, end

    def stats(
        self, *, lang: str = "en", today: DateLike | None = None, as_of: DateLike | None = None
    ) -> dict[str, Any]:
        """Counts by pillar, status, instrument, basis and source kind (`cmx stats`)."""
        from cmx.tracking import stats

        t = _translator(lang)
        day = self._day(t, today)
        found = self.store.stats(day) if as_of is None else None  # counted in SQL
        return found if found is not None else stats(self.kb(as_of=as_of, lang=lang), day)

    # -------------------------------------------------------------- documents

    def summary(
        self,
        filters: Filters | None = None,
        *,
        lang: str = "en",
        today: DateLike | None = None,
        since: DateLike | None = None,
        full: bool = False,
        mindmap: bool = False,
        as_of: DateLike | None = None,
        cite: str = "numbered",
        front_matter: bool = False,
    ) -> str:
        """The one-page summary in Markdown, every fact line cited (`cmx export
        markdown`); `full=True`: the full dossier (`--full`); `cite="pandoc"`:
        `[@source-id]` keys for citeproc; `front_matter`: YAML title, date and lang."""
        return self.export(
            "markdown",
            filters,
            lang=lang,
            today=today,
            since=since,
            full=full,
            mindmap=mindmap,
            as_of=as_of,
            cite=cite,
            front_matter=front_matter,
        )

    def export(
        self,
        what: str | Format,
        filters: Filters | None = None,
        *,
        lang: str = "en",
        today: DateLike | None = None,
        table: str = "commitments",
        since: DateLike | None = None,
        full: bool = False,
        mindmap: bool = False,
        as_of: DateLike | None = None,
        csv: CsvPolicy | None = None,
        cite: str = "numbered",
        front_matter: bool = False,
    ) -> str:
        """The chosen commitments as text: markdown, json, csv, yaml or ics (`cmx export
        WHAT`); `table` picks the rows of csv/json/yaml (commitments, events, sources,
        citations). Nothing chosen raises NothingMatched, as the command exits 1."""
        t = _translator(lang)
        reader, result = self._selection(
            t, filters, today=today, table=table, since=since, full=full, mindmap=mindmap,
            as_of=as_of, csv=csv, cite=cite, front_matter=front_matter,
        )  # fmt: skip
        fmt = choose(str(what), Selection, t, "WHAT")
        as_text(fmt, t)
        verdict = result.verdict(t)
        if verdict:
            raise NothingMatched(verdict)
        return write(result, fmt, reader)

    def export_file(
        self,
        what: str | Format,
        path: str | Path,
        filters: Filters | None = None,
        *,
        force: bool = False,
        lang: str = "en",
        today: DateLike | None = None,
        table: str = "commitments",
        since: DateLike | None = None,
        full: bool = False,
        mindmap: bool = False,
        as_of: DateLike | None = None,
        csv: CsvPolicy | None = None,
        cite: str = "numbered",
        front_matter: bool = False,
        metadata: str | Path | None = None,
    ) -> int:
        """Write the export to the file `path` atomically (sqlite too), never over an
        existing file unless `force`; the number of commitments written. `metadata`
        (sqlite): also write Datasette's metadata file there, in `lang`."""
        from cmx.output import export

        t = _translator(lang)
        reader, result = self._selection(
            t, filters, today=today, table=table, since=since, full=full, mindmap=mindmap,
            as_of=as_of, csv=csv or CsvPolicy(bom=True), cite=cite, front_matter=front_matter,
        )  # fmt: skip
        fmt = choose(str(what), Selection, t, "WHAT")
        if metadata is not None and fmt is not Format.SQLITE:
            raise UsageError(t.gettext("--metadata goes with cmx export sqlite -o FILE"))
        where = Path(metadata) if metadata is not None else None
        export(result, fmt, reader, Path(path), force=force, metadata=where)
        return len(result.items)

    def _selection(
        self,
        t: Translator,
        filters: Filters | None,
        *,
        today: DateLike | None,
        table: str,
        since: DateLike | None,
        full: bool,
        mindmap: bool,
        as_of: DateLike | None,
        csv: CsvPolicy | None,
        cite: str = "numbered",
        front_matter: bool = False,
    ) -> tuple[Reader, Selection]:
        day = self._day(t, today)
        chosen_table = choice(t, table, EXPORT_TABLES, "--table") or "commitments"
        since_day = _date(t, since, "--since")
        kb = self.kb(as_of=as_of, lang=t.lang)
        items = (filters or Filters()).select(kb, t, day)
        reader = Reader(lang=t.lang, today=day, csv=csv or CsvPolicy())
        style = choice(t, cite, CITE_STYLES, "--cite") or "numbered"
        selection = Selection(
            kb, items, table=chosen_table, full=full, since=since_day, mindmap=mindmap,
            cite=style, front=front_matter, as_of=_date(t, as_of, "--as-of"),
        )  # fmt: skip
        return reader, selection
