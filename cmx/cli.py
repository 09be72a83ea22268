"""The `cmx` command line: parse, call the core, pick a renderer, map errors to exit codes."""

import _signal  # type: ignore[import-not-found]  # C module under `signal` (no enums: ~4 ms)
import contextlib
import datetime as dt
import gc
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from cmx import __version__, render
from cmx.kb import KBError, default_data_dir, suggest
from cmx.model import LANGS, Commitment, Instrument, KnowledgeBase, Status
from cmx.render import OutputFormat
from cmx.store import Store, open_store

EXIT_OK, EXIT_NO_MATCH, EXIT_USAGE, EXIT_BUG = 0, 1, 2, 3

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain Click help and errors: one greppable line, no box
    context_settings={"help_option_names": ["-h", "--help"]},
    help="Explore the Canada–Mexico Comprehensive Strategic Partnership and its "
    "Action Plan 2025–2028: pillars, priority areas, commitments, sources and commentary.",
)


class _State:
    """What the app callback parsed for this one invocation (reset on every call)."""

    data_dir: Path | None = None
    today: dt.date | None = None
    use_cache: bool = True
    debug: bool = False
    raw_csv: bool = False
    store: Store | None = None


state = _State()


def env_on(name: str) -> bool:
    """An on/off environment variable: unset, empty, 0, false, no and off mean off."""
    return os.environ.get(name, "").strip().lower() not in ("", "0", "false", "no", "off")


# ------------------------------------------------------------------------ helpers


def err(message: str) -> None:
    """One line for the user on stderr (never on stdout, which carries data).

    Control characters and line breaks that a value brings into the message (an id typed
    with a newline, a title holding ESC) are shown escaped: a message is always one line
    and cannot forge another."""
    line = render.clean(message.rstrip("\n")).replace("\n", "\\n").replace("\t", " ")
    stream = sys.stderr
    if stream is None:  # started with stderr closed (2>&-): nowhere to say it
        return
    stream.write(line + "\n")


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    err(f"cmx: error: {message}")
    raise typer.Exit(code)


def choice(value: str | None, choices: Sequence[str], option: str) -> str | None:
    """`value` if it is one of `choices` (case-insensitive), else a usage error with a hint."""
    if value is None:
        return None
    lowered = value.strip().lower()
    if lowered in choices:
        return lowered
    hint = suggest(lowered, choices)
    if len(choices) <= 12:
        hint += f"; choose from: {', '.join(choices)}"
    raise typer.BadParameter(f"'{value}' is not valid{hint}", param_hint=option)


def parse_date(value: str | None, option: str) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise typer.BadParameter(
            f"'{value}' is not a date; write YYYY-MM-DD, e.g. 2026-03-31", param_hint=option
        ) from None


def env_date(name: str) -> dt.date | None:
    """A date from the environment; a bad one is blamed on the variable, not an option."""
    value = os.environ.get(name, "").strip()
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        fail(f"{name}={value!r} is not a date; write YYYY-MM-DD, e.g. 2026-03-31, or unset it")


def today(value: str | None = None) -> dt.date:
    """--today given to the command, else to cmx, else CMX_TODAY, else the real date."""
    return parse_date(value, "--today") or state.today or env_date("CMX_TODAY") or dt.date.today()


def data_dir() -> Path:
    """--data / CMX_DATA, else the knowledge base shipped with cmx."""
    return state.data_dir or default_data_dir()


def kb_store() -> Store:
    """The knowledge base, opened once per run; an invalid KB exits 2 with every problem."""
    if state.store is None:
        try:
            state.store = open_store(data_dir(), use_cache=state.use_cache)
        except KBError as error:
            for problem in error.problems:
                err(f"cmx: error: {problem}")
            n = len(error.problems)
            err(f"cmx: the knowledge base has {n} problem{'s' * (n != 1)}; fix them and retry")
            raise typer.Exit(EXIT_USAGE) from None
    return state.store


def load() -> KnowledgeBase:
    return kb_store().kb()


def known_id(value: str | None, ids: Sequence[str], option: str) -> str | None:
    """A pillar/sector/source id given on the command line, checked against the KB."""
    if value is None:
        return None
    if value in ids:
        return value
    return choice(value, list(ids), option)


def fmt_of(value: str) -> OutputFormat:
    return OutputFormat(choice(value, [f.value for f in render.FORMATS], "--format") or "table")


def lang_of(value: str | None) -> str:
    """--lang, else CMX_LANG (named as such when it is wrong), else English."""
    if value is not None:
        return choice(value, LANGS, "--lang") or "en"
    env = os.environ.get("CMX_LANG", "").strip()
    if not env:
        return "en"
    if env.lower() not in LANGS:
        fail(f"CMX_LANG={env!r} is not a language cmx speaks; use one of {', '.join(LANGS)}")
    return env.lower()


def use_rich() -> bool:
    """Rich output only on a real terminal (plain text when piped or TERM=dumb)."""
    if os.environ.get("TERM") == "dumb":
        return False
    try:
        return sys.stdout.isatty()
    except (AttributeError, ValueError):
        return False


def out(text: str) -> None:
    sys.stdout.write(text)


def columns_env() -> int:
    """COLUMNS when it is a sane width (a bad or zero value is ignored), else 0."""
    try:
        value = int(os.environ.get("COLUMNS", "").strip())
    except ValueError:
        return 0
    return value if 20 <= value <= 1000 else 0


def terminal_width() -> int:
    """The width to lay tables out for: COLUMNS, else the terminal's, else 80."""
    import shutil

    return columns_env() or shutil.get_terminal_size((80, 24)).columns or 80


def emit(
    rows: list[dict[str, Any]],
    fmt: OutputFormat,
    columns: Sequence[str],
    *,
    title: str = "",
    empty_hint: str = "nothing matched",
) -> None:
    """Print rows in the chosen format; no rows: an empty document and exit 1."""
    rich = fmt is OutputFormat.TABLE and use_rich()
    width = terminal_width() if rich else columns_env()
    view = render.View(columns, title, width, rich, state.raw_csv)
    out(render.write(render.clean(rows), fmt, view))
    if not rows:
        err(f"cmx: {empty_hint}")
        raise typer.Exit(EXIT_NO_MATCH)


# ------------------------------------------------------------------------ options

Lang = Annotated[
    str | None,
    typer.Option("--lang", "-l", help="Language: en, es or fr (default: CMX_LANG, else en)."),
]
Fmt = Annotated[
    str,
    typer.Option("--format", "-f", help=f"Output: {', '.join(render.FORMATS)}.", show_default=True),
]
PillarOpt = Annotated[
    str | None,
    typer.Option(
        "--pillar", "-p", help="Pillar id: prosperity, mobility, security or environment."
    ),
]
SectorOpt = Annotated[
    str | None, typer.Option("--sector", "-s", help="Sector id (see cmx sectors).")
]
StatusOpt = Annotated[
    str | None,
    typer.Option("--status", help="planned, underway, completed or not-pursued."),
]
InstrumentOpt = Annotated[
    str | None,
    typer.Option(
        "--instrument",
        help="dialogue, mou, working-group, funding, mission, meeting, program, agreement, other.",
    ),
]
ActorOpt = Annotated[
    str | None, typer.Option("--actor", help="Actor name, or part of it (e.g. CONANP).")
]
SourceOpt = Annotated[str | None, typer.Option("--source", help="Source id (see cmx sources).")]
TagOpt = Annotated[str | None, typer.Option("--tag", help="Tag, e.g. fentanyl.")]
DueBeforeOpt = Annotated[
    str | None,
    typer.Option("--due-before", metavar="DATE", help="Only entries due before DATE (YYYY-MM-DD)."),
]
TodayOpt = Annotated[
    str | None,
    typer.Option(
        "--today", metavar="DATE", help="Date to treat as today (YYYY-MM-DD; also CMX_TODAY)."
    ),
]
OverdueOpt = Annotated[
    bool, typer.Option("--overdue", help="Only entries past their due date and not completed.")
]


def actor_ids(kb: KnowledgeBase, query: str | None) -> list[str] | None:
    """The actors an --actor value names (any name or acronym, any language)."""
    if query is None:
        return None
    from cmx.search import fold, matching_actors

    found = matching_actors(kb, query)
    if not found:
        names = [
            n for a in kb.actors for n in (*a.name.all(), *(a.acronym.all() if a.acronym else ()))
        ]
        hint = (
            suggest(
                query,
                list(dict.fromkeys(names)),
            )
            if names
            else ""
        )
        raise typer.BadParameter(
            f"no actor is called '{query}'{hint}; list them with: cmx actors",
            param_hint="--actor",
        )
    del fold
    return found


def filtered(
    kb: Any,
    today_date: dt.date,
    pillar: str | None,
    sector: str | None,
    status: str | None,
    instrument: str | None,
    actor: str | None,
    source: str | None,
    tag: str | None,
    due_before: str | None,
    overdue: bool,
) -> list[Any]:
    """The commitments the options of `cmx commitments` / `cmx export` select."""
    from cmx.search import filter_commitments

    return filter_commitments(
        kb.commitments,
        pillar=known_id(pillar, [p.id for p in kb.pillars], "--pillar"),
        sector=known_id(sector, [s.id for s in kb.sectors], "--sector"),
        status=choice(status, [s.value for s in Status], "--status"),
        instrument=choice(instrument, [i.value for i in Instrument], "--instrument"),
        actors=actor_ids(kb, actor),
        source=known_id(source, [s.id for s in kb.sources], "--source"),
        tag=tag,
        due_before=parse_date(due_before, "--due-before"),
        overdue_on=today_date if overdue else None,
    )


# ------------------------------------------------------------------------ commands


def version_callback(value: bool) -> None:
    if value:
        out(f"cmx {__version__}\n")
        raise typer.Exit()


@app.callback()
def main_callback(
    data: Annotated[
        Path | None,
        typer.Option(
            "--data",
            envvar="CMX_DATA",
            metavar="DIR",
            help="Knowledge-base folder (default: shipped).",
        ),
    ] = None,
    today_: Annotated[
        str | None,
        typer.Option(
            "--today", metavar="DATE", help="Date to treat as today (default: CMX_TODAY)."
        ),
    ] = None,
    no_cache: Annotated[
        bool,
        typer.Option("--no-cache", help="Parse the YAML and keep no store (also CMX_NO_CACHE=1)."),
    ] = False,
    debug: Annotated[
        bool,
        typer.Option("--debug", help="Show tracebacks of internal errors (also CMX_DEBUG=1)."),
    ] = False,
    raw_csv: Annotated[
        bool,
        typer.Option(
            "--raw-csv",
            help="CSV: keep cells that start with = + - @ as they are (by default they get "
            "a leading ' so spreadsheets do not run them as formulas).",
        ),
    ] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=version_callback, is_eager=True, help="Show the version."
        ),
    ] = False,
) -> None:
    state.store = None  # one KB per invocation (tests run many in one process)
    state.data_dir = data
    state.today = parse_date(today_, "--today")
    state.use_cache = not no_cache and not env_on("CMX_NO_CACHE")
    state.debug = debug or env_on("CMX_DEBUG")
    state.raw_csv = raw_csv


@app.command("pillars")
def pillars_cmd(lang: Lang = None, fmt: Fmt = "table") -> None:
    """The four pillars with their sector and commitment counts."""
    from cmx.render import pillar_row

    lang, f = lang_of(lang), fmt_of(fmt)
    store = kb_store()
    counts = store.counts()
    rows = [pillar_row(p, counts, lang) for p in store.pillars()]
    emit(rows, f, ["number", "id", "name", "sector_count", "commitment_count"])


@app.command("sectors")
def sectors_cmd(pillar: PillarOpt = None, lang: Lang = None, fmt: Fmt = "table") -> None:
    """Priority areas (sectors), optionally of one pillar."""
    from cmx.render import sector_row

    lang, f = lang_of(lang), fmt_of(fmt)
    store = kb_store()
    pillars = store.pillars()
    pillar = known_id(pillar, [p.id for p in pillars], "--pillar")
    counts = store.counts()
    sectors = [s for p in pillars for s in p.sectors if not pillar or s.pillar == pillar]
    rows = [sector_row(s, counts, lang) for s in sectors]
    emit(rows, f, ["pillar", "number", "id", "name", "commitment_count"])


@app.command("commitments")
def commitments_cmd(
    pillar: PillarOpt = None,
    sector: SectorOpt = None,
    status: StatusOpt = None,
    instrument: InstrumentOpt = None,
    actor: ActorOpt = None,
    source: SourceOpt = None,
    tag: TagOpt = None,
    due_before: DueBeforeOpt = None,
    overdue: OverdueOpt = False,
    lang: Lang = None,
    fmt: Fmt = "table",
    today_: TodayOpt = None,
) -> None:
    """Commitments, filtered by pillar, sector, status, instrument, actor, source, tag or date."""
    from cmx.render import commitment_row

    lang, f = lang_of(lang), fmt_of(fmt)
    kb = load()
    chosen = (pillar, sector, status, instrument, actor, source, tag, due_before, overdue)
    items = filtered(kb, today(today_), *chosen)
    rows = [commitment_row(c, kb, lang) for c in items]
    emit(rows, f, ["id", "pillar", "title", "status", "due"], empty_hint="no commitment matched")


@app.command("show")
def show_cmd(
    entry_id: Annotated[str, typer.Argument(metavar="ID")],
    lang: Lang = None,
    fmt: Fmt = "table",
    today_: TodayOpt = None,
) -> None:
    """One pillar, sector, commitment, note or source in full, with its sources and events."""
    from cmx import detail

    lang, f = lang_of(lang), fmt_of(fmt)
    kb = load()
    entry = kb.get(entry_id.strip())
    if entry is None:
        hint = suggest(entry_id, kb.ids()) or " (list ids with cmx commitments, cmx sectors …)"
        err(f"cmx: no entry with id '{entry_id}'{hint}")
        raise typer.Exit(EXIT_NO_MATCH)
    if f in (OutputFormat.JSON, OutputFormat.YAML):
        record = render.clean(detail.full_record(entry, kb))
        out(render.FORMATS[f](record, render.View(())))
    elif f is OutputFormat.CSV:
        out(render.to_csv([render.clean(render.entry_row(entry, kb, lang))], raw=state.raw_csv))
    else:
        out_detail(render.clean(detail.card(entry, kb, lang, today(today_))))


def out_detail(card: list[list[str]]) -> None:
    """A label: value card; Rich styles the labels on a terminal."""
    if use_rich():
        from rich.console import Console
        from rich.markup import escape

        console = Console(width=terminal_width())
        for label, value in card:
            if label:
                console.print(f"[bold]{escape(label)}:[/] {escape(value)}")
            else:
                console.print(escape(value))
        return
    width = max((len(label) for label, _ in card), default=0)
    for label, value in card:
        out(f"{(label + ':').ljust(width + 1)} {value}\n" if label else f"{value}\n")


@app.command("sources")
def sources_cmd(
    kind: Annotated[
        str | None,
        typer.Option("--kind", help="official, official-reproduced, news or analysis."),
    ] = None,
    lang: Lang = None,
    fmt: Fmt = "table",
) -> None:
    """Every source the knowledge base cites, with its kind, date and URL."""
    from cmx.model import SourceKind
    from cmx.render import source_row

    lang_of(lang)
    f = fmt_of(fmt)
    kind = choice(kind, [k.value for k in SourceKind], "--kind")
    kb = load()
    rows = [source_row(s) for s in kb.sources if not kind or s.kind.value == kind]
    emit(rows, f, ["id", "kind", "date", "publisher", "title"])


@app.command("actors")
def actors_cmd(
    actor: Annotated[
        str | None, typer.Argument(metavar="[NAME]", help="Only actors whose name contains NAME.")
    ] = None,
    lang: Lang = None,
    fmt: Fmt = "table",
) -> None:
    """Governments, agencies, people and organisations the sources name, with acronyms."""
    from cmx.render import actor_row
    from cmx.search import matching_actors

    lang, f = lang_of(lang), fmt_of(fmt)
    kb = load()
    wanted = set(matching_actors(kb, actor)) if actor else None
    rows = [actor_row(a, kb, lang) for a in kb.actors if wanted is None or a.id in wanted]
    columns = ["id", "kind", "acronym", "name", "commitment_count"]
    emit(rows, f, columns, empty_hint="no actor matched")


@app.command("notes")
def notes_cmd(
    support: Annotated[
        str | None,
        typer.Option("--support", help="stated, interpretation or not-in-official-text."),
    ] = None,
    lang: Lang = None,
    fmt: Fmt = "table",
) -> None:
    """Commentary and analysis (never official commitments), with their support level."""
    from cmx.model import Support
    from cmx.render import note_row

    lang, f = lang_of(lang), fmt_of(fmt)
    support = choice(support, [s.value for s in Support], "--support")
    kb = load()
    rows = [note_row(n, kb, lang) for n in kb.notes if not support or n.support.value == support]
    emit(rows, f, ["id", "support", "title", "related"], empty_hint="no note matched")


@app.command("validate")
def validate_cmd() -> None:
    """Check the knowledge base: every problem is listed as file:line; exit 2 if any."""
    state.use_cache = False  # always parse the YAML itself
    kb = load()
    err(
        f"ok: {len(kb.pillars)} pillars, {len(kb.sectors)} sectors, "
        f"{len(kb.commitments)} commitments, {len(kb.notes)} notes, {len(kb.sources)} sources"
    )


@app.command("search")
def search_cmd(
    query: Annotated[
        list[str], typer.Argument(metavar="QUERY...", help="Words to look for, in en, es or fr.")
    ],
    pillar: PillarOpt = None,
    sector: SectorOpt = None,
    kind: Annotated[
        str | None,
        typer.Option("--kind", "-k", help="pillar, sector, commitment, note or source."),
    ] = None,
    status: StatusOpt = None,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="How many hits.")] = 10,
    explain: Annotated[
        bool,
        typer.Option("--explain", help="Show which words or concepts each hit matched, and how."),
    ] = False,
    lang: Lang = None,
    fmt: Fmt = "table",
) -> None:
    """Ranked, typo-tolerant search over everything, in English, Spanish or French.

    Words name concepts too (narcotics, pandillas, bétail…). Each hit has a confidence
    (high, medium, low); when none is at least medium, cmx says so and exits 1."""
    from cmx import search as core
    from cmx.render import hit_row

    lang, f = lang_of(lang), fmt_of(fmt)
    text = " ".join(query).strip()
    if not text:
        fail("the query is empty; try e.g. cmx search energy")
    kinds = [choice(kind, list(core.KINDS), "--kind")] if kind else None
    status = choice(status, [s.value for s in Status], "--status")
    store = kb_store()
    if pillar is not None or sector is not None:
        kb = store.kb()
        pillar = known_id(pillar, [p.id for p in kb.pillars], "--pillar")
        sector = known_id(sector, [s.id for s in kb.sectors], "--sector")
    hits = store.search(text, kinds=kinds, pillar=pillar, sector=sector, status=status, limit=limit)
    rows = render.clean([hit_row(h, lang, explain=explain) for h in hits])
    hint = "nothing matched"
    if not rows:
        close = store.suggestions(text)
        hint += f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    confident = any(h.confidence != "low" for h in hits)
    columns = ["kind", "id", "pillar", "title", "snippet", "confidence"]
    if rows and f is OutputFormat.TABLE and use_rich():
        rich_hits(rows, hits, core.query_words(text), explain=explain)
    else:
        emit(rows, f, columns + (["why"] if explain else []), empty_hint=hint)
    if rows and not confident:
        err("cmx: no confident match found; every hit above is low confidence")
        raise typer.Exit(EXIT_NO_MATCH)


def rich_hits(
    rows: list[dict[str, Any]], hits: Sequence[Any], qwords: Sequence[str], explain: bool = False
) -> None:
    """Search results on a terminal: a numbered list, matched words highlighted.

    A list rather than a table: long snippets read better at full width, and Rich
    lays out a list in a fraction of the time a table takes. Low-confidence hits come
    under a line saying no (further) confident match was found, each labelled.
    """
    from rich.console import Console
    from rich.text import Text

    console = Console(highlight=False, width=terminal_width())
    shown_low = False
    for n, (row, hit) in enumerate(zip(rows, hits, strict=True), 1):
        low = hit.confidence == "low"
        if low and not shown_low:
            shown_low = True
            line = "No confident match found" if n == 1 else "No further confident match found"
            console.print(Text(f"{line}; the closest entries, low confidence:", style="yellow"))
        where = " / ".join(filter(None, [row["pillar"], row["sector"]]))
        label = ("  [low confidence]", "yellow") if low else ""
        head = Text.assemble((f"{n:>2}. ", "bold"), (row["title"], "bold"), label)
        meta = Text.assemble(
            "    ", (row["kind"], "cyan"), " ", (row["id"], "magenta"), f"  {where}", style="dim"
        )
        console.print(head)
        console.print(meta)
        marks = (*hit.terms, *qwords)
        console.print(Text("    ").append_text(highlighted(row["snippet"], marks)))
        if explain:
            for reason in hit.why:
                console.print(Text(f"    · {reason}", style="dim"))


def highlighted(text: str, terms: Sequence[str]) -> Any:
    from rich.text import Text

    from cmx.search import highlight_spans

    rich_text = Text(text)
    for start, end in highlight_spans(text, terms):
        rich_text.stylize("bold yellow", start, end)
    return rich_text


@app.command("timeline")
def timeline_cmd(
    from_: Annotated[
        str | None, typer.Option("--from", metavar="DATE", help="From DATE (YYYY-MM-DD).")
    ] = None,
    to: Annotated[
        str | None, typer.Option("--to", metavar="DATE", help="To DATE (YYYY-MM-DD).")
    ] = None,
    pillar: PillarOpt = None,
    lang: Lang = None,
    fmt: Fmt = "table",
    today_: TodayOpt = None,
) -> None:
    """Every dated event and deadline in order, marked done, overdue or upcoming."""
    from cmx.tracking import timeline

    lang, f = lang_of(lang), fmt_of(fmt)
    start, end = parse_date(from_, "--from"), parse_date(to, "--to")
    kb = load()
    pillar = known_id(pillar, [p.id for p in kb.pillars], "--pillar")
    rows = timeline(kb, today(today_), lang, start=start, end=end, pillar=pillar)
    emit(rows, f, ["date", "mark", "type", "id", "what"], empty_hint="no dated entry matched")


@app.command("stats")
def stats_cmd(
    lang: Lang = None,
    fmt: Fmt = "table",
    today_: TodayOpt = None,
) -> None:
    """Counts by pillar, status, instrument and source kind."""
    from cmx.tracking import stats

    lang, f = lang_of(lang), fmt_of(fmt)
    data = render.clean(stats(load(), today(today_)))
    if f in (OutputFormat.JSON, OutputFormat.YAML):
        out(render.FORMATS[f](data, render.View(())))
    elif f is OutputFormat.CSV:
        rows = [
            {"group": g, "key": k, "count": n}
            for g, counts in data.items()
            if isinstance(counts, dict)
            for k, n in counts.items()
        ]
        out(render.to_csv(rows, raw=state.raw_csv))
    else:
        from cmx.tracking import stats_lines

        if use_rich():
            from rich.console import Console
            from rich.markup import escape

            console = Console(width=terminal_width())
            for line in stats_lines(data):
                styled = escape(line)
                console.print(styled.replace("█", "[green]█[/]") if "█" in line else styled)
        else:
            out("".join(f"{line}\n" for line in stats_lines(data)))


def _export_markdown(
    kb: KnowledgeBase, items: list[Commitment], lang: str, day: dt.date, mindmap: bool, _: bool
) -> str:
    from cmx import brief

    text: str = render.clean(brief.to_markdown(kb, items, lang=lang, today=day, mindmap=mindmap))
    return text


def _export_rows(fmt: OutputFormat) -> Any:
    def export(
        kb: KnowledgeBase, items: list[Commitment], lang: str, _d: dt.date, _m: bool, to_file: bool
    ) -> str:
        rows = render.clean([render.commitment_row(c, kb, lang) for c in items])
        view = render.View(list(rows[0]) if rows else (), raw_csv=state.raw_csv)
        text = render.write(rows, fmt, view)
        bom = "\ufeff" if to_file and fmt is OutputFormat.CSV else ""  # Excel reads UTF-8
        return bom + text

    return export


# What `cmx export` writes: the listing formats of the format table (but the terminal
# table), the Markdown brief and a SQLite database (written by cmx.store, not here).
EXPORTS: dict[str, Any] = {
    "markdown": _export_markdown,
    **{f.value: _export_rows(f) for f in render.FORMATS if f is not OutputFormat.TABLE},
    "sqlite": None,
}


@app.command("export")
def export_cmd(
    what: Annotated[str, typer.Argument(metavar="WHAT", help=f"{', '.join(EXPORTS)}.")],
    pillar: PillarOpt = None,
    sector: SectorOpt = None,
    status: StatusOpt = None,
    instrument: InstrumentOpt = None,
    actor: ActorOpt = None,
    source: SourceOpt = None,
    tag: TagOpt = None,
    due_before: DueBeforeOpt = None,
    overdue: OverdueOpt = False,
    lang: Lang = None,
    output: Annotated[
        str | None, typer.Option("--output", "-o", help="File to write; '-' or none: stdout.")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
    mindmap: Annotated[
        bool, typer.Option("--mindmap/--no-mindmap", help="Markdown: add a Mermaid mind-map.")
    ] = True,
    today_: TodayOpt = None,
) -> None:
    """A paste-ready brief (Markdown, with citations), the data (JSON, CSV, YAML) or a
    SQLite database for Datasette, sqlite-utils or any SQLite client (-o FILE)."""
    from cmx.files import ExportError, write_atomic, write_atomic_with

    kind = choice(what, list(EXPORTS), "WHAT")
    lang = lang_of(lang)
    kb = load()
    chosen = (pillar, sector, status, instrument, actor, source, tag, due_before, overdue)
    items = filtered(kb, today(today_), *chosen)
    if not items:
        err("cmx: no commitment matched; nothing exported")
        raise typer.Exit(EXIT_NO_MATCH)
    to_file = output not in (None, "-")
    try:
        if kind == "sqlite":
            if not to_file:
                fail("a SQLite database is not text; give a file: cmx export sqlite -o plan.db")
            from cmx.store import export_sqlite

            chosen_kb = KnowledgeBase(kb.pillars, tuple(items), kb.sources, kb.notes, kb.actors)
            write_atomic_with(
                Path(output or ""), lambda tmp: export_sqlite(chosen_kb, tmp), force=force
            )
        else:
            text = EXPORTS[kind or ""](kb, items, lang, today(today_), mindmap, to_file)
            if not to_file:
                out(text)
                return
            write_atomic(Path(output or ""), text, force=force)
    except ExportError as error:
        fail(str(error))
    err(f"cmx: wrote {len(items)} commitments to {output}")


@app.command("schema")
def schema_cmd() -> None:
    """The JSON Schema (draft 2020-12) of the four knowledge-base files."""
    from cmx.render import to_json
    from cmx.schema import kb_schema

    out(to_json(kb_schema()) + "\n")


# ------------------------------------------------------------------------ entry point


class Terminated(BaseException):
    """SIGTERM, raised so that every `finally` runs: no temporary file is left behind."""


def _on_sigterm(signum: int, frame: object) -> None:
    raise Terminated


def main() -> None:
    """Console-script entry: run the app; no traceback for a closed pipe or a bug."""
    # A run is short and builds many acyclic objects (tuples, strings): the cyclic
    # garbage collector would only cost time, most of all on a first, uncached load.
    gc.disable()
    if hasattr(_signal, "SIGTERM"):
        _signal.signal(_signal.SIGTERM, _on_sigterm)
    _prepare_streams()
    if sys.stdout is None:
        err("cmx: error: standard output is closed; give cmx somewhere to write (>file, | less)")
        _exit_now(EXIT_USAGE)
    try:
        app()
    except SystemExit as done:
        _exit_now(done.code)
    except BrokenPipeError:
        _silence_stdout()
        _exit_now(EXIT_OK)
    except KeyboardInterrupt:
        err("cmx: interrupted")
        _exit_now(130)
    except Terminated:
        _exit_now(128 + 15)
    except OSError as error:
        if error.errno not in OUTPUT_ERRNOS:
            _internal_error(error)
        _output_failed(error)
    except Exception as error:
        _internal_error(error)
    _exit_now(EXIT_OK)


# Errors of a stream that cannot take more output (a full disk, a closed descriptor…).
OUTPUT_ERRNOS = frozenset({5, 9, 27, 28, 122})  # EIO, EBADF, EFBIG, ENOSPC, EDQUOT


def _internal_error(error: BaseException) -> NoReturn:
    if state.debug or env_on("CMX_DEBUG"):
        raise error
    err(f"cmx: internal error: {type(error).__name__}: {error}")
    err("cmx: this is a bug; run again with --debug for the traceback and report it")
    _exit_now(EXIT_BUG)


def _output_failed(error: OSError) -> NoReturn:
    _silence_stdout()
    err(f"cmx: error: cannot write the output: {error.strerror or error}")
    _exit_now(EXIT_USAGE)


def _prepare_streams() -> None:
    """Streams that never turn a successful run into a failure.

    A closed stderr (2>&-) becomes /dev/null; a terminal or pipe whose encoding cannot
    show a character (PYTHONIOENCODING=ascii, LC_ALL=C) gets the nearest ASCII ("…" ->
    "...", "é" -> "e") rather than an error."""
    import codecs

    if sys.stderr is None:
        sys.stderr = open(os.devnull, "w")  # noqa: SIM115 - lives as long as the process
    try:
        codecs.lookup_error("cmx-ascii")
    except LookupError:
        codecs.register_error("cmx-ascii", _nearest_ascii)
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        encoding = getattr(stream, "encoding", None) or "utf-8"
        if reconfigure is not None and codecs.lookup(encoding).name != "utf-8":
            reconfigure(errors="cmx-ascii")


ASCII_NEAR = {
    **dict.fromkeys("—–·", "-"),
    **dict.fromkeys("’‘", "'"),
    **dict.fromkeys("“”«»", '"'),
    "…": "...",
    "█": "#",
    "§": "S.",
    "€": "EUR",
    "\u00a0": " ",
}


def _nearest_ascii(error: UnicodeError) -> tuple[str, int]:
    """An encoding error handler: the closest ASCII for what the stream cannot encode."""
    import unicodedata

    if not isinstance(error, UnicodeEncodeError):
        raise error
    out = []
    for ch in error.object[error.start : error.end]:
        near = ASCII_NEAR.get(ch)
        if near is None:
            decomposed = unicodedata.normalize("NFKD", ch).encode("ascii", "ignore").decode()
            near = decomposed or "?"
        out.append(near)
    return "".join(out), error.end


def _exit_now(code: object) -> NoReturn:
    """Flush what was written, then end the process without the interpreter's teardown.

    Unloading every module of Typer, Click and Rich takes longer than a cached
    `cmx pillars` itself (bench/startup.py). cmx registers no exit handlers and
    writes files atomically, so there is nothing left to do at exit but flush. Output
    that cannot be written (a full disk) is an error, exit 2; a closed pipe is not.
    """
    if code is None:
        status = EXIT_OK
    elif isinstance(code, int):
        status = code
    else:
        err(str(code))
        status = EXIT_USAGE
    if sys.stdout is not None:
        try:
            sys.stdout.flush()
        except BrokenPipeError:
            _silence_stdout()
        except OSError as error:
            _silence_stdout()
            err(f"cmx: error: cannot write the output: {error.strerror or error}")
            status = status or EXIT_USAGE
        except ValueError:
            pass
    if sys.stderr is not None:
        with contextlib.suppress(OSError, ValueError):
            sys.stderr.flush()
    os._exit(status)


def _silence_stdout() -> None:
    """After a closed pipe, point stdout at /dev/null so the final flush stays quiet."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass
