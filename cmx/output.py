"""The reader's context and the one writer: the only code that branches on a format.

A command builds a result — a `Listing` of rows, one `Record`, search `Hits`, `Stats`,
or a `Selection` of commitments to export — and hands it to `write` (text) or `emit`
(stdout) with a `Format` and the `Reader`. `WRITERS` says which format each kind of
result supports; any other format is a usage error naming the ones it does, and command
help lists formats from the same table. A new format is one writer and one row here.

The rule for people and machines lives here once: tables, cards, summaries and CSV are
for people (headers, codes, dates in the reader's language; English CSV keeps its keys
for scripts); JSON and YAML keep stable English keys and codes.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from enum import StrEnum
from pathlib import Path
from typing import Any

from cmx import render
from cmx.errors import NothingMatched, UsageError
from cmx.i18n import CODE_COLUMNS, Translator, fold, translator
from cmx.model import Commitment, KnowledgeBase, Source

Row = dict[str, Any]


class Format(StrEnum):
    TABLE = "table"
    JSON = "json"
    CSV = "csv"
    YAML = "yaml"
    MARKDOWN = "markdown"
    CSL_JSON = "csl-json"
    BIBTEX = "bibtex"
    ICS = "ics"
    SQLITE = "sqlite"
    SITE = "site"


# ------------------------------------------------------------------------ the reader


class CsvPolicy:
    """How CSV is written for this reader: spreadsheet conventions and formula guard.

    Plain slotted classes here and in `Reader`, not frozen dataclasses: every run builds
    one, and defining a dataclass costs ~1 ms of each start (bench/startup.py). They are
    never changed after they are built; `Reader.but` makes a changed copy."""

    __slots__ = ("bom", "crlf", "delimiter", "raw")

    def __init__(
        self,
        raw: bool = False,  # keep cells that start with = + - @ as they are
        delimiter: str = ",",
        bom: bool = False,  # a UTF-8 byte-order mark first, so Excel reads accents
        crlf: bool = False,
    ) -> None:
        self.raw, self.delimiter, self.bom, self.crlf = raw, delimiter, bom, crlf


class Reader:
    """Who reads the output and where: built once per run from options and the
    environment (`from_environment`), passed to everything that presents; tests build
    one directly (`Reader("fr", rich=True, width=60)`)."""

    __slots__ = ("color", "csv", "lang", "rich", "today", "width")

    def __init__(
        self,
        lang: str = "en",
        today: dt.date = dt.date(2026, 1, 1),
        width: int = 0,  # columns to lay out for; 0: no limit (a pipe)
        rich: bool = False,  # a terminal: styled tables, cards and hit lists
        color: bool = True,  # colour and styles there (off: NO_COLOR, --color never)
        csv: CsvPolicy | None = None,
    ) -> None:
        self.lang, self.today, self.width = lang, today, width
        self.rich, self.color, self.csv = rich, color, csv or CsvPolicy()

    @property
    def t(self) -> Translator:
        return translator(self.lang)

    def but(self, **changes: Any) -> Reader:
        """This reader with some settings changed (a command's own --lang, --today…)."""
        given = {name: getattr(self, name) for name in self.__slots__}
        return Reader(**{**given, **changes})


def columns_env() -> int:
    """COLUMNS when it is a sane width (a bad or zero value is ignored), else 0."""
    try:
        value = int(os.environ.get("COLUMNS", "").strip())
    except ValueError:
        return 0
    return value if 20 <= value <= 1000 else 0


def on_terminal() -> bool:
    """Whether stdout is a terminal a person reads (not piped, not TERM=dumb)."""
    return os.environ.get("TERM") != "dumb" and _is_a_tty()


COLOR_MODES = ("auto", "always", "never")


def _is_a_tty() -> bool:
    """Whether stdout is a terminal (a dumb one too)."""
    try:
        return sys.stdout.isatty()
    except (AttributeError, ValueError):
        return False


def from_environment(
    lang: str, today: dt.date, *, raw_csv: bool = False, color: str = "auto"
) -> Reader:
    """The reader of this run: a terminal gets styled output laid out for its width
    (COLUMNS, else the terminal's); a pipe gets plain text, as wide as it needs.
    Colour: `always` (or FORCE_COLOR) styles even a pipe (for `less -R`), `never` (or
    NO_COLOR) styles nothing, `auto` styles a terminal."""
    if color == "auto" and os.environ.get("FORCE_COLOR"):
        color = "always"
    rich = on_terminal() or color == "always"
    if rich or _is_a_tty():  # a dumb terminal still has a width
        import shutil

        width = columns_env() or shutil.get_terminal_size((80, 24)).columns or 80
    else:
        width = columns_env()
    styled = color == "always" or (color == "auto" and rich and not os.environ.get("NO_COLOR"))
    return Reader(lang, today, width, rich, styled, CsvPolicy(raw=raw_csv))


def say(message: str) -> None:
    """One line for the user on stderr (never on stdout, which carries data).

    Control characters and line breaks that a value brings into the message (an id typed
    with a newline, a title holding ESC) are shown escaped: a message is always one line
    and cannot forge another."""
    line = render.clean(message.rstrip("\n")).replace("\n", "\\n").replace("\t", " ")
    if sys.stderr is None:  # started with stderr closed (2>&-): nowhere to say it
        return
    width = _stderr_width()
    if width and len(line) > width:  # a person reads it: wrapped at spaces, indented
        import textwrap

        line = "\n".join(
            textwrap.wrap(
                line, width, subsequent_indent="  ", break_long_words=False,
                break_on_hyphens=False,
            )
        )  # fmt: skip
    sys.stderr.write(line + "\n")


def _stderr_width() -> int:
    """The width of the terminal stderr goes to, or 0 (a pipe, a log, a dumb terminal:
    each message stays one line there, for grep)."""
    try:
        if os.environ.get("TERM") == "dumb" or not sys.stderr.isatty():
            return 0
        return columns_env() or os.get_terminal_size(sys.stderr.fileno()).columns
    except (AttributeError, ValueError, OSError):
        return 0


@contextlib.contextmanager
def working(message: str, *, after: float = 1.0) -> Iterator[None]:
    """A sign of life on stderr while the block runs, if it runs over `after` seconds
    and stderr is a terminal: the message, a spinner and the seconds so far; erased at
    the end. Nothing at all in a pipe, a file or a test."""
    try:
        live = sys.stderr is not None and sys.stderr.isatty() and os.environ.get("TERM") != "dumb"
    except (AttributeError, ValueError):
        live = False
    if not live:
        yield
        return
    import threading
    import time

    done = threading.Event()

    def tick() -> None:
        if done.wait(after):
            return
        start, n = time.monotonic() - after, 0
        while not done.wait(0.1):
            frame = "|/-\\"[n % 4]
            sys.stderr.write(f"\r{message} {frame} {time.monotonic() - start:.0f} s")
            sys.stderr.flush()
            n += 1
        sys.stderr.write("\r\x1b[K")
        sys.stderr.flush()

    thread = threading.Thread(target=tick, daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()


# ------------------------------------------------------------------------ results


class Listing:
    """Rows of one kind (pillars, commitments, sources…), with how people see them.

    `columns` are those a table shows (any row key can be asked for with `fields`);
    `codes` maps more columns to the kind of code they hold; `links` gives, per row,
    the URL its id links to on a terminal; `drop` leaves out columns that would only
    repeat a filter's value; `empty` is said when there is no row (exit 1)."""

    def __init__(
        self,
        rows: list[Row],
        columns: Sequence[str],
        *,
        codes: Mapping[str, str] | None = None,
        links: Sequence[str | None] = (),
        drop: Sequence[str] = (),
        empty: str | None = None,
        fields: str | None = None,
        sort: str | None = None,
        terminal_columns: Sequence[str] | None = None,
        people_rows: Sequence[Row] = (),
        names: Mapping[str, Mapping[str, str]] | None = None,
    ) -> None:
        self.rows = rows
        self.columns = list(columns)
        self.codes = dict(codes or {})
        self.links = list(links)
        self.drop = list(drop)
        self.empty = empty
        self.fields = fields
        self.sort = sort
        self.terminal_columns = terminal_columns  # a terminal shows these instead
        self.people_rows = list(people_rows)  # rows for tables and CSV only (a total)
        # ids as people read them (column -> id -> name): tables and CSV only
        self.names = dict(names or {})

    def verdict(self, t: Translator) -> str | None:
        """What to say on stderr and exit 1 with, if anything."""
        return None if self.rows else (self.empty or t.gettext("nothing matched"))


class SourceListing(Listing):
    """Sources: a listing that can also be a bibliography (CSL-JSON, BibTeX)."""

    def __init__(
        self,
        sources: Sequence[Source],
        rows: list[Row],
        accessed: Mapping[str, str] | None = None,
        **kw: Any,
    ) -> None:
        super().__init__(rows, **kw)
        self.sources = list(sources)
        self.accessed = dict(accessed or {})  # the day each source was last consulted


class Changes(Listing):
    """What happened in a period: a listing, or a Markdown page with its sources."""

    def __init__(
        self, kb: KnowledgeBase, rows: list[Row], since: dt.date, until: dt.date, **kw: Any
    ) -> None:
        super().__init__(rows, **kw)
        self.kb, self.since, self.until = kb, since, until


class Hits(Listing):
    """Search results: rows plus the hits themselves (matched words, confidence, why)."""

    def __init__(
        self,
        hits: Sequence[Any],
        rows: list[Row],
        query_words: Sequence[str],
        *,
        explain: bool = False,
        suggestions: Sequence[str] = (),
        concepts: Mapping[str, str] | None = None,
        **kw: Any,
    ) -> None:
        super().__init__(rows, **kw)
        self.hits = list(hits)
        self.query_words = list(query_words)
        self.explain = explain
        self.suggestions = list(suggestions)
        self.concepts = dict(concepts or {})  # concept id -> label, for --explain

    def verdict(self, t: Translator) -> str | None:
        if not self.rows:
            hint = t.gettext("nothing matched")
            if self.suggestions:
                hint += t.gettext("; did you mean {words}?").format(
                    words=t.gettext(" or ").join(repr(c) for c in self.suggestions)
                )
            return hint
        if not any(h.confidence != "low" for h in self.hits):
            return t.gettext("no confident match found; every hit above is low confidence")
        return None


class Record:
    """One entry in full: a card for people, the whole record for machines."""

    def __init__(self, entry: object, kb: KnowledgeBase) -> None:
        self.entry, self.kb = entry, kb

    def verdict(self, t: Translator) -> str | None:
        return None


class Stats:
    """Counts by pillar, status, instrument and source kind (cmx.tracking.stats)."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data

    def verdict(self, t: Translator) -> str | None:
        return None


CITE_STYLES = ("numbered", "pandoc")  # Markdown: [1] and a Sources list; [@id] for citeproc


class Selection:
    """Commitments chosen for export, with the knowledge base they come from: a summary
    or dossier (Markdown), a calendar, a database, or the rows of one `table`."""

    def __init__(
        self,
        kb: KnowledgeBase,
        items: list[Commitment],
        *,
        table: str = "commitments",
        full: bool = False,
        since: dt.date | None = None,
        mindmap: bool = False,
        cite: str = "numbered",
        front: bool = False,
        as_of: dt.date | None = None,
    ) -> None:
        self.kb, self.items, self.table = kb, items, table
        self.full, self.since, self.mindmap = full, since, mindmap
        self.cite, self.front = cite, front  # Markdown: citation keys, YAML front matter
        self.as_of = as_of  # the knowledge base as it stood that day (None: as it is)

    def verdict(self, t: Translator) -> str | None:
        return None if self.items else t.gettext("no commitment matched; nothing exported")

    def listing(self, reader: Reader) -> Listing:
        from cmx.rows import names

        rows = export_rows(self.kb, self.items, reader.lang, self.table, reader.today)
        return Listing(rows, list(rows[0]) if rows else [], names=names(self.kb, reader.lang))


Result = Listing | Record | Stats | Selection


# ------------------------------------------------------------------------ listings


def localize(rows: list[Row], codes: Mapping[str, str], t: Translator) -> list[Row]:
    """Rows for people: codes (status, instrument, mark…) and yes/no as they read in the
    reader's language."""
    return [
        {
            key: (
                t.code(codes[key], value)
                if key in codes and isinstance(value, str)
                else {**value, "stage": t.code("stage", value["stage"])}
                if key == "amount" and isinstance(value, dict) and "stage" in value
                else (
                    t.code("bool", "yes" if value else "no") if isinstance(value, bool) else value
                )
            )
            for key, value in row.items()
        }
        for row in rows
    ]


def named(row: Row, names: Mapping[str, Mapping[str, str]]) -> Row:
    """A row with the ids of `names`' columns (one id or a list of them) replaced by
    the names people read; an id with no name stays as it is."""

    def name(column: str, value: Any) -> Any:
        known = names[column]
        if isinstance(value, str):
            return known.get(value, value)
        if isinstance(value, list):
            return [known.get(v, v) if isinstance(v, str) else v for v in value]
        return value

    return {k: name(k, v) if k in names else v for k, v in row.items()}


def field_key(t: Translator, option: str, name: str, known: Sequence[str]) -> str:
    """The row key `name` means: a key itself, or a column's header as the reader sees
    it (`--fields titulo,plazo` in Spanish), case and accents aside; else a usage error
    that suggests the closest key or header."""
    from cmx.filters import invalid

    if name in known:
        return name
    by_header = {fold(t.header(k)): k for k in known} | {fold(k): k for k in known}
    key = by_header.get(fold(name))
    if key is not None:
        return key
    shown = [t.header(k) for k in known] if t.lang != "en" else list(known)
    raise invalid(t, option, name, [*known, *shown], known)


def chosen_fields(t: Translator, fields: str, rows: list[Row], columns: Sequence[str]) -> list[str]:
    """The columns `--fields a,b,c` names (keys, or headers in the reader's language)."""
    known = list(rows[0]) if rows else list(columns)
    wanted = [f.strip() for f in fields.split(",") if f.strip()]
    return [field_key(t, "--fields", name, known) for name in wanted] or list(columns)


def sorted_rows(
    t: Translator, rows: list[Row], links: Sequence[str | None], sort: str
) -> tuple[list[Row], list[str | None]]:
    """Rows ordered by one field (`-field`: descending; a key or a header as the
    reader sees it); empty values go last."""
    descending = sort.startswith("-")
    key = sort.lstrip("-").strip()
    if rows:
        key = field_key(t, "--sort", key, list(rows[0]))
    paired = list(zip(rows, list(links) or [None] * len(rows), strict=False))
    present = [p for p in paired if p[0].get(key) not in (None, "", [])]
    absent = [p for p in paired if p[0].get(key) in (None, "", [])]

    def order(pair: tuple[Row, str | None]) -> Any:
        value = pair[0].get(key)
        return (0, value) if isinstance(value, int | float) else (1, str(value).casefold())

    present.sort(key=order, reverse=descending)
    result = present + absent
    return [r for r, _ in result], ([lk for _, lk in result] if links else [])


def _shape(
    listing: Listing, reader: Reader, *, people: bool = False
) -> tuple[list[Row], list[str], list[str | None]]:
    """The rows, columns and links a listing shows once --sort and --fields apply
    (`people`: a table or a spreadsheet, which also get the listing's people_rows)."""
    rows, links, columns = listing.rows, listing.links, listing.columns
    if people and listing.people_rows:
        rows = [*rows, *listing.people_rows]
    t = reader.t
    if listing.sort:
        rows, links = sorted_rows(t, rows, links, listing.sort)
    if listing.fields:
        columns = chosen_fields(t, listing.fields, rows, columns)
        rows = [{k: r.get(k) for k in columns} for r in rows]
    else:
        if reader.rich and listing.terminal_columns is not None:
            columns = list(listing.terminal_columns)
        columns = [c for c in columns if c not in listing.drop]
    return rows, columns, links


def _for_people(
    rows: list[Row], columns: Sequence[str], listing: Listing, t: Translator, *, table: bool
) -> Any:
    """Rows and headers in the reader's language; in a table, which has no overdue
    column, a status gets its overdue mark ("planned · overdue")."""
    shown = localize(rows, {**CODE_COLUMNS, "kind": "kind", **listing.codes}, t)
    if listing.names:
        shown = [named(row, listing.names) for row in shown]
    if table and "status" in columns and rows and "overdue" in rows[0]:
        late = t.code("mark", "overdue")
        shown = [
            {**s, "status": f"{s['status']} · {late}"} if r.get("overdue") else s
            for s, r in zip(shown, rows, strict=True)
        ]
    headers = {c: t.header(c) for c in {*columns, *(rows[0] if rows else ())}}
    return shown, headers


def names_shown(f: Format, reader: Reader) -> bool:
    """Whether a listing written as `f` shows the ids of its rows by name (a table, and
    CSV for people outside English: `listing_csv`); JSON and YAML keep the ids."""
    return f is Format.TABLE or (f is Format.CSV and reader.lang != "en")


def listing_table(listing: Listing, reader: Reader) -> str:
    rows, columns, links = _shape(listing, reader, people=True)
    shown, headers = _for_people(rows, columns, listing, reader.t, table=True)
    linked = links if reader.rich else []
    view = render.View(
        columns, "", reader.width, reader.rich, headers, linked, reader.color, reader.t.colon()
    )
    return render.to_table(render.clean(shown), view)


def listing_csv(listing: Listing, reader: Reader) -> str:
    """CSV: every key of the rows (or the --fields chosen); the columns of a table only
    name the header of an empty result."""
    rows, columns, _ = _shape(listing, reader, people=True)
    if rows and not listing.fields:
        columns = list(rows[0])
    headers: dict[str, str] = {}
    if reader.lang != "en":  # for people: a spreadsheet in the reader's language
        rows, headers = _for_people(rows, columns, listing, reader.t, table=False)
    policy = reader.csv
    text = render.to_csv(
        render.clean(rows),
        columns,
        raw=policy.raw,
        headers=headers,
        delimiter=policy.delimiter,
        crlf=policy.crlf,
    )
    return ("\ufeff" if policy.bom else "") + text


def listing_json(listing: Listing, reader: Reader) -> str:
    rows, _, _ = _shape(listing, reader)
    return render.to_json(rows, visible=True) + "\n"


def listing_yaml(listing: Listing, reader: Reader) -> str:
    rows, _, _ = _shape(listing, reader)
    return render.to_yaml(render.clean(rows))


LISTING: dict[Format, Callable[[Any, Reader], str]] = {
    Format.TABLE: listing_table,
    Format.JSON: listing_json,
    Format.CSV: listing_csv,
    Format.YAML: listing_yaml,
}


def _csl_json(result: SourceListing, reader: Reader) -> str:
    from cmx.cite import to_csl_json

    return render.to_json(to_csl_json(result.sources, result.accessed, reader.lang), visible=True)


def _bibtex(result: SourceListing, reader: Reader) -> str:
    from cmx.cite import to_bibtex

    text: str = render.clean(to_bibtex(result.sources, result.accessed, reader.lang))
    return text


def _changes_markdown(result: Changes, reader: Reader) -> str:
    from cmx.brief import changes_markdown

    text = changes_markdown(
        result.kb, result.rows, since=result.since, until=result.until, lang=reader.lang
    )
    cleaned: str = render.clean(text)
    return cleaned


# ------------------------------------------------------------------------ search hits


def hits_table(result: Hits, reader: Reader) -> str:
    """Search results for people: on a terminal a numbered list with the matched words
    highlighted (long snippets read better at full width than in a table); low-
    confidence hits come under a line saying no (further) confident match was found."""
    result = _hits_rows(result, reader)
    if not reader.rich or not result.rows or result.fields or result.sort:
        return listing_table(result, reader)  # chosen columns or order: a table
    import io

    from rich.console import Console, Group
    from rich.table import Table
    from rich.text import Text

    from cmx.search import highlight_spans

    t = reader.t
    rows = render.clean(localize(result.rows, {"kind": "kind"}, t))
    buf = io.StringIO()
    console = Console(
        file=buf,
        force_terminal=True,
        color_system="standard" if reader.color else None,
        highlight=False,
        emoji=False,
        markup=False,
        width=reader.width or 80,
    )
    shown_low = False
    for n, (row, hit) in enumerate(zip(rows, result.hits, strict=True), 1):
        low = hit.confidence == "low"
        if low and not shown_low:
            shown_low = True
            line = (
                t.gettext("No confident match found; the closest entries, low confidence:")
                if n == 1
                else t.gettext(
                    "No further confident match found; the closest entries, low confidence:"
                )
            )
            console.print(Text(line, style="yellow"))
        where = " / ".join(filter(None, [t.code("scope", row["pillar"] or ""), row["sector"]]))
        label = ("  [" + t.gettext("low confidence") + "]", "yellow") if low else ""
        head = Text.assemble((row["title"], "bold"), label)
        meta = Text.assemble(
            (row["kind"], "cyan"), " ", (row["id"], "magenta"), f"  {where}", style="dim"
        )
        snippet = Text(row["snippet"])
        for start, end in highlight_spans(row["snippet"], (*hit.terms, *result.query_words)):
            snippet.stylize("bold yellow", start, end)
        why = [Text(f"· {reason}", style="dim") for reason in row.get("why") or ()]
        # the number in a margin of its own: every line of a hit wraps under its text
        hit_grid = Table.grid(padding=(0, 1))
        hit_grid.add_column(width=3, justify="right", no_wrap=True)
        hit_grid.add_column(overflow="fold")
        hit_grid.add_row(Text(f"{n}.", style="bold"), Group(head, meta, snippet, *why))
        console.print(hit_grid)
    return buf.getvalue()


def why_text(why: Any, t: Translator, concepts: Mapping[str, str] | None = None) -> str:
    """One search explanation (cmx.search.Why) in the reader's language; a concept is
    named by its label in `concepts` (id -> label), where given."""
    fields = (
        t.gettext("a title or name"),
        t.gettext("actors, tags or links"),
        t.gettext("a summary or event"),
    )
    where = fields[why.field] if why.field is not None else ""
    template = {
        "exact": t.gettext("{query}: word '{term}' in {where}"),
        "stem": t.gettext("{query}: same stem '{term}' in {where}"),
        "prefix": t.gettext("{query}: start of '{term}' in {where}"),
        "typo": t.gettext("{query}: typo for '{term}' in {where}"),
        "concept": t.gettext("{query}: concept '{term}' (linked)"),
        "narrower": t.gettext("{query}: concept '{term}' (linked to a narrower concept)"),
        "unmatched": t.gettext("{query}: not matched"),
        "agency": t.gettext("{query}: agency '{term}' (named in the entry)"),
        "area": t.gettext("{query}: an agency the sources do not name; its area '{term}'"),
        "ignored": t.gettext("{query}: general word, not needed"),
    }[why.how]
    term = why.term
    if why.how in ("concept", "narrower") and concepts:
        term = concepts.get(term, term)
    return template.format(query=why.query, term=term, where=where)


def _hits_rows(result: Hits, reader: Reader) -> Hits:
    """The hits with their explanations in the reader's language (people and machines
    alike: `why` is prose; its parts stay in the hit for the API)."""
    if not result.explain:
        return result
    t = reader.t
    rows = [
        {**row, "why": [why_text(w, t, result.concepts) for w in hit.why]}
        for row, hit in zip(result.rows, result.hits, strict=True)
    ]
    return Hits(
        result.hits,
        rows,
        result.query_words,
        explain=True,
        columns=result.columns,
        codes=result.codes,
        fields=result.fields,
        sort=result.sort,
        names=result.names,
    )


def _explained(fmt: Format) -> Callable[[Hits, Reader], str]:
    def writer(result: Hits, reader: Reader) -> str:
        return LISTING[fmt](_hits_rows(result, reader), reader)

    return writer


# ------------------------------------------------------------------------ one record


def card_text(result: Record, reader: Reader) -> str:
    """A label: value card. On a terminal the labels are bold and aligned and each value
    wraps at the terminal's width under itself; words and URLs are never broken and
    nothing in the knowledge base's text is styled. Piped, one line per field."""
    from cmx import detail

    card = render.clean(detail.card(result.entry, result.kb, reader.lang, reader.today))
    width = reader.width if reader.rich else 0
    return render.card_lines(card, width, bold=reader.color, colon=reader.t.colon())


def _record_data(result: Record, reader: Reader) -> Any:
    from cmx import detail

    return render.clean(detail.full_record(result.entry, result.kb, reader.today))


def _record_csv(result: Record, reader: Reader) -> str:
    from cmx.rows import entry_row, names

    row = entry_row(result.entry, result.kb, reader.lang, reader.today)
    return listing_csv(Listing([row], list(row), names=names(result.kb, reader.lang)), reader)


# ------------------------------------------------------------------------ stats


def stats_table(result: Stats, reader: Reader) -> str:
    from cmx.tracking import stats_lines

    lines = stats_lines(render.clean(result.data), reader.t)
    if not reader.color:
        return "".join(f"{line}\n" for line in lines)
    green, reset = "\x1b[32m", "\x1b[0m"
    return "".join(
        line.replace("█", f"{green}█", 1) + (reset if "█" in line else "") + "\n" for line in lines
    )


def stats_csv(result: Stats, reader: Reader) -> str:
    from cmx.tracking import GROUP_CODES, GROUP_TITLES

    t = reader.t
    people = reader.lang != "en"
    rows = [
        {
            "group": t.gettext(GROUP_TITLES[g]) if people else g,
            "key": t.code(GROUP_CODES[g], k) if people and g in GROUP_CODES else k,
            "count": n,
        }
        for g, counts in render.clean(result.data).items()
        if isinstance(counts, dict)
        for k, n in counts.items()
    ]
    return listing_csv(Listing(rows, ["group", "key", "count"]), reader)


# ------------------------------------------------------------------------ exports


def export_rows(
    kb: KnowledgeBase, items: list[Commitment], lang: str, table: str, day: dt.date
) -> list[Row]:
    """The rows of one export table: a row per commitment, or per event, source or
    citation of the chosen commitments (what spreadsheets and pandas want)."""
    from cmx.rows import commitment_row, source_row

    if table == "events":
        return [
            {"commitment": c.id, "date": e.date, "what": e.what.get(lang), "source": e.source,
             "status": e.status.value if e.status else None}
            for c in items
            for e in c.events
        ]  # fmt: skip
    if table == "citations":
        return [
            {"commitment": c.id, "source": x.source, "section": x.section}
            for c in items
            for x in c.sources
        ]
    if table == "sources":
        cited = dict.fromkeys(sid for c in items for sid in c.cited())
        return [source_row(s, lang) for sid in cited if (s := kb.source(sid))]
    return [commitment_row(c, kb, lang, day) for c in items]


def _selection_markdown(result: Selection, reader: Reader) -> str:
    from cmx import brief

    if result.full:
        text = brief.to_markdown(
            result.kb, result.items, lang=reader.lang, today=reader.today,
            mindmap=result.mindmap, cite=result.cite, front=result.front,
        )  # fmt: skip
    else:
        text = brief.summary(
            result.kb, result.items, lang=reader.lang, today=reader.today, since=result.since,
            cite=result.cite, front=result.front,
        )  # fmt: skip
    cleaned: str = render.clean(text)
    return cleaned


def _selection_ics(result: Selection, reader: Reader) -> str:
    from cmx.ics import to_ics

    return to_ics(result.kb, reader.t, commitments=result.items).decode("utf-8")


def _site_files(result: Selection, reader: Reader) -> dict[str, Callable[[Path], None]]:
    """The files a site offers for download, by name: each written by this writer."""
    from cmx.export_db import export_sqlite
    from cmx.model import LANGS

    def text(fmt: Format, lang: str) -> Callable[[Path], None]:
        def fill(path: Path) -> None:
            chosen = Selection(result.kb, result.items)
            body = write(chosen, fmt, reader.but(lang=lang))
            path.write_text(body, encoding="utf-8", newline="")

        return fill

    files: dict[str, Callable[[Path], None]] = {}
    for lang in LANGS:
        files[f"commitments-{lang}.csv"] = text(Format.CSV, lang)
        files[f"calendar-{lang}.ics"] = text(Format.ICS, lang)
    files["plan.db"] = lambda p: export_sqlite(
        result.kb, p, items=result.items, today=reader.today, as_of=result.as_of
    )
    return files


def _through_listing(fmt: Format) -> Callable[[Selection, Reader], str]:
    def writer(result: Selection, reader: Reader) -> str:
        return LISTING[fmt](result.listing(reader), reader)

    return writer


# ------------------------------------------------------------------------ the table


# What each kind of result can be written as. A format missing from a row is refused
# for that result, with the formats of its row named.
WRITERS: dict[type, dict[Format, Callable[[Any, Reader], str]]] = {
    Listing: LISTING,
    SourceListing: {**LISTING, Format.CSL_JSON: _csl_json, Format.BIBTEX: _bibtex},
    Changes: {**LISTING, Format.MARKDOWN: _changes_markdown},
    Hits: {
        Format.TABLE: hits_table,
        Format.JSON: _explained(Format.JSON),
        Format.CSV: _explained(Format.CSV),
        Format.YAML: _explained(Format.YAML),
    },
    Record: {
        Format.TABLE: card_text,
        Format.JSON: lambda r, rd: render.to_json(_record_data(r, rd)) + "\n",
        Format.CSV: _record_csv,
        Format.YAML: lambda r, rd: render.to_yaml(_record_data(r, rd)),
    },
    Stats: {
        Format.TABLE: stats_table,
        Format.JSON: lambda r, rd: render.to_json(r.data, visible=True) + "\n",
        Format.CSV: stats_csv,
        Format.YAML: lambda r, rd: render.to_yaml(render.clean(r.data)),
    },
    Selection: {
        Format.MARKDOWN: _selection_markdown,
        Format.ICS: _selection_ics,
        Format.JSON: _through_listing(Format.JSON),
        Format.CSV: _through_listing(Format.CSV),
        Format.YAML: _through_listing(Format.YAML),
        Format.SQLITE: lambda r, rd: "",  # a file, never text: see `export`
        Format.SITE: lambda r, rd: "",  # a folder, never text: see `export`
    },
}


def formats(kind: type) -> list[str]:
    """The formats a kind of result can be written as, for help and messages."""
    return [f.value for f in WRITERS[kind]]


def choose(value: str, kind: type, t: Translator, option: str = "--format") -> Format:
    """The format `value` names, if results of `kind` support it; else a usage error
    that names the ones they do."""
    from cmx.filters import invalid

    wanted = value.strip().lower()
    if wanted == "md":
        wanted = "markdown"
    supported = formats(kind)
    if wanted in supported:
        return Format(wanted)
    raise invalid(t, option, value, supported, supported)


def write(result: Result, fmt: Format, reader: Reader) -> str:
    """`result` as text in format `fmt` for this reader (the one place a format is
    chosen). A format the result does not support is a usage error."""
    writers = WRITERS[type(result)]
    if fmt not in writers or fmt in (Format.SQLITE, Format.SITE):
        from cmx.filters import invalid

        supported = formats(type(result))
        raise invalid(reader.t, "--format", fmt.value, supported, supported)
    return writers[fmt](result, reader)


def as_text(fmt: Format, t: Translator) -> None:
    """A usage error for a format that is a file or a folder, never text on stdout."""
    if fmt is Format.SQLITE:
        raise UsageError(
            t.gettext("a SQLite database is not text; give a file: cmx export sqlite -o plan.db")
        )
    if fmt is Format.SITE:
        from cmx.site import message_in

        raise UsageError(message_in(t.lang, "a site is a folder; give one: cmx export site -o DIR"))


def emit(result: Result, fmt: Format, reader: Reader) -> None:
    """Write `result` to stdout; an empty or unconfident one then exits 1 with a note
    on stderr (an empty listing still writes its empty document: [], a CSV header)."""
    as_text(fmt, reader.t)
    verdict = result.verdict(reader.t)
    if not (isinstance(result, Selection) and verdict):
        sys.stdout.write(write(result, fmt, reader))
    if verdict:
        raise NothingMatched(verdict)


def send(text: str) -> None:
    """Data that is already a document (an export's text) to stdout."""
    sys.stdout.write(text)


def export(
    result: Selection,
    fmt: Format,
    reader: Reader,
    path: Path,
    *,
    force: bool,
    metadata: Path | None = None,
) -> None:
    """Write `result` to the file `path`, atomically; never over a file unless `force`,
    never over anything but a regular file (cmx.files). Nothing selected: exit 1.
    `metadata` (sqlite only): Datasette's metadata for it, in the reader's language."""
    from cmx.files import ExportError, write_atomic, write_atomic_with

    verdict = result.verdict(reader.t)
    if verdict:
        raise NothingMatched(verdict)
    try:
        if fmt is Format.SQLITE:
            from cmx.export_db import export_sqlite, metadata_yaml

            write_atomic_with(
                path,
                lambda tmp: export_sqlite(
                    result.kb, tmp, items=result.items, today=reader.today, as_of=result.as_of
                ),
                force=force,
            )
            if metadata is not None:
                text = metadata_yaml(path.stem, reader.lang, reader.today)
                write_atomic(metadata, text, force=force)
        elif fmt is Format.SITE:
            from cmx import site
            from cmx.files import write_atomic_dir

            def fill(folder: Path) -> None:
                site.build(folder, result.kb, result.items, today=reader.today,
                           downloads=_site_files(result, reader))  # fmt: skip

            write_atomic_dir(path, fill, force=force, marker=site.MARKER)
        else:
            write_atomic(path, write(result, fmt, reader), force=force)
    except ExportError as error:
        if fmt is Format.SITE:  # the site's own messages are in its table (cmx.site)
            from cmx.site import message_in

            raise UsageError(
                message_in(reader.lang, error.template).format(**error.params)
            ) from None
        raise UsageError(reader.t.gettext(error.template).format(**error.params)) from None
