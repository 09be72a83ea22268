"""The `cmx` command line: options and commands. Each command resolves what the reader
typed (cmx.filters), calls the core (store, search, tracking) and hands one result to
the writer (cmx.output), which alone decides how it looks. Process life — streams,
signals, exit codes — is cmx.process; nothing here prints directly.
"""

import datetime as dt
import os
from pathlib import Path
from typing import Annotated, Any

import typer

from cmx import __version__, completion
from cmx.api import EXPORT_TABLES, Plan
from cmx.errors import CmxError, NothingMatched, UsageError
from cmx.filters import (
    Filters,
    choice,
    parse_date,
)
from cmx.i18n import LANGUAGES, Translator, translator
from cmx.model import PLAN_WIDE, plan_wide_sectors
from cmx.options import (
    AsOfOpt,
    FieldsOpt,
    Group,
    Lang,
    ListFmt,
    PillarOpt,
    SectorOpt,
    SortOpt,
    StatusOpt,
    TodayOpt,
    argv_language,
    fmt_option,
    with_filters,
)
from cmx.output import (
    CITE_STYLES,
    COLOR_MODES,
    Changes,
    Hits,
    Listing,
    Reader,
    Record,
    Selection,
    SourceListing,
    Stats,
    choose,
    emit,
    formats,
    names_shown,
    say,
    send,
    working,
)
from cmx.rows import first_url, names
from cmx.run import Run, default_language, env_on, report

app = typer.Typer(
    cls=Group,
    no_args_is_help=True,
    add_completion=False,  # `cmx completion SHELL`: Typer's flags guess the shell
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain Click help and errors: one greppable line, no box
    context_settings={"help_option_names": ["-h", "--help"]},
    help="Explore the Canada–Mexico Comprehensive Strategic Partnership and its "
    "Action Plan 2025–2028: pillars, priority areas, commitments, sources and commentary.",
)


# ------------------------------------------------------------------------ commands


def version_callback(value: bool) -> None:
    if value:
        typer.echo(f"cmx {__version__}")
        raise typer.Exit()


@app.callback()
def main_callback(
    ctx: typer.Context,
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
    lang: Annotated[
        str | None,
        typer.Option(
            "--lang",
            "-l",
            help="Language of everything printed: en, es or fr (default: CMX_LANG, then "
            "LC_ALL / LC_MESSAGES / LANG, then en).",
            autocompletion=completion.fixed(*LANGUAGES),
        ),
    ] = None,
    raw_csv: Annotated[
        bool,
        typer.Option(
            "--raw-csv",
            help="CSV: keep cells that start with = + - @ as they are (by default they get "
            "a leading ' so spreadsheets do not run them as formulas).",
        ),
    ] = False,
    color: Annotated[
        str,
        typer.Option(
            "--color",
            metavar="WHEN",
            help="Colour and styles: auto (on a terminal), always (also FORCE_COLOR; "
            "for less -R), never (also NO_COLOR).",
            autocompletion=completion.fixed(*COLOR_MODES),
        ),
    ] = "auto",
    quiet: Annotated[
        bool,
        typer.Option(
            "--quiet",
            "-q",
            help="No note on stderr about how old the newest source is (also CMX_QUIET=1).",
        ),
    ] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=version_callback, is_eager=True, help="Show the version."
        ),
    ] = False,
) -> None:
    if debug or env_on("CMX_DEBUG"):
        os.environ["CMX_DEBUG"] = "1"  # for cmx.process, which shows the traceback
    t = translator(argv_language([]))  # a bad --lang is said in the environment's language
    try:
        chosen = default_language(t, lang)
        t = translator(chosen)  # from here on, a mistake is said in the reader's language
        run = Run(
            data_dir=data,
            use_cache=not no_cache and not env_on("CMX_NO_CACHE"),
            quiet=quiet,
            lang=chosen,
            raw_csv=raw_csv,
            color=choice(t, color, COLOR_MODES, "--color") or "auto",
        )
        run.today = parse_date(run.t, today_, "--today")
    except CmxError as error:
        raise typer.Exit(report(error, t)) from None
    ctx.obj = run


def _run(ctx: typer.Context) -> Run:
    run = ctx.find_root().obj
    assert isinstance(run, Run)
    return run


def _plan(run: Run, reader: Reader) -> Plan:
    """The knowledge base as the Python API opens it: every command reads through it."""
    return Plan(run.store(reader), today=reader.today)


@app.command("pillars")
def pillars_cmd(
    ctx: typer.Context,
    lang: Lang = None,
    fmt: ListFmt = "table",
    fields: FieldsOpt = None,
    sort: SortOpt = None,
    as_of: AsOfOpt = None,
) -> None:
    """The four pillars with their sector and commitment counts."""
    from cmx.rows import pillar_row

    run = _run(ctx)
    reader = run.reader(lang, as_of=as_of)
    f = choose(fmt, Listing, reader.t)
    plan = _plan(run, reader)
    pillars = plan.pillars(as_of=run.as_of, lang=reader.lang)
    counts = plan.counts(as_of=run.as_of, lang=reader.lang)
    rows = [pillar_row(p, counts, reader.lang) for p in pillars]
    total: list[dict[str, Any]] = []
    if counts.get(PLAN_WIDE):
        # For people, the plan's own governance is a row of its own, after the four
        # pillars; JSON and YAML list the pillars only (its count: `cmx stats`).
        total.append(
            {
                "number": "",
                "id": PLAN_WIDE,
                "name": reader.t.gettext("Whole plan (governance)"),
                "sector_count": len(plan_wide_sectors(pillars)),
                "commitment_count": counts[PLAN_WIDE],
            }
        )
    columns = ["number", "id", "name", "sector_count", "commitment_count"]
    emit(Listing(rows, columns, fields=fields, sort=sort, people_rows=total), f, reader)


@app.command("sectors")
def sectors_cmd(
    ctx: typer.Context,
    pillar: PillarOpt = None,
    lang: Lang = None,
    fmt: ListFmt = "table",
    fields: FieldsOpt = None,
    sort: SortOpt = None,
) -> None:
    """Priority areas (sectors), optionally of one pillar."""
    from cmx.rows import sector_row

    run = _run(ctx)
    reader = run.reader(lang)
    f = choose(fmt, Listing, reader.t)
    plan = _plan(run, reader)
    sectors = plan.sectors(pillar, lang=reader.lang)
    counts = plan.counts(lang=reader.lang)
    rows = [sector_row(s, counts, reader.lang) for s in sectors]
    columns = ["pillar", "number", "id", "name", "commitment_count"]
    drop = ["pillar"] if pillar is not None else []
    emit(Listing(rows, columns, fields=fields, sort=sort, drop=drop), f, reader)


@app.command("commitments")
@with_filters
def commitments_cmd(
    ctx: typer.Context,
    filters: Filters,
    lang: Lang = None,
    fmt: ListFmt = "table",
    fields: FieldsOpt = None,
    sort: SortOpt = None,
    today_: TodayOpt = None,
    as_of: AsOfOpt = None,
) -> None:
    """Commitments, filtered by pillar, sector, status, instrument, basis, actor, source,
    tag or date."""
    from cmx.rows import NAME_PARTS, ROW_PARTS, commitment_row

    run = _run(ctx)
    reader = run.reader(lang, today_, as_of)
    f = choose(fmt, Listing, reader.t)
    plan = _plan(run, reader)
    items = plan.commitments(filters, lang=reader.lang, as_of=run.as_of)
    named = names_shown(f, reader)
    parts = ROW_PARTS | NAME_PARTS if named else ROW_PARTS
    kb = plan.context(items, as_of=run.as_of, lang=reader.lang, parts=parts)
    rows = [commitment_row(c, kb, reader.lang, reader.today) for c in items]
    drop = [name for name in ("pillar", "status") if filters.given(name)]
    if any(row["overdue"] for row in rows) and "status" in drop:
        drop.remove("status")  # the status column carries the overdue mark
    listing = Listing(
        rows,
        ["id", "pillar", "title", "status", "due"],
        empty=reader.t.gettext("no commitment matched"),
        links=[first_url(kb, c) for c in items],
        fields=fields,
        sort=sort,
        drop=drop,
        names=names(kb, reader.lang) if named else None,
    )
    emit(listing, f, reader)


@app.command("show")
def show_cmd(
    ctx: typer.Context,
    entry_id: Annotated[str, typer.Argument(metavar="ID", autocompletion=completion.entry_ids)],
    lang: Lang = None,
    fmt: Annotated[str, fmt_option(Record)] = "table",
    today_: TodayOpt = None,
) -> None:
    """One pillar, sector, commitment, note or source in full, with its sources and events."""
    run = _run(ctx)
    reader = run.reader(lang, today_)
    f = choose(fmt, Record, reader.t)
    plan = _plan(run, reader)
    entry = plan.get(entry_id, lang=reader.lang)
    emit(Record(entry, plan.context([entry], lang=reader.lang)), f, reader)


@app.command("sources")
def sources_cmd(
    ctx: typer.Context,
    kind: Annotated[
        str | None,
        typer.Option(
            "--kind",
            help="official, official-reproduced, news or analysis.",
            autocompletion=completion.codes("source_kind"),
        ),
    ] = None,
    lang: Lang = None,
    fmt: Annotated[str, fmt_option(SourceListing)] = "table",
    fields: FieldsOpt = None,
    sort: SortOpt = None,
    for_: Annotated[
        str | None,
        typer.Option(
            "--for",
            metavar="ID",
            help="Only the sources one entry cites (with the versions its summary cites).",
            autocompletion=completion.entry_ids,
        ),
    ] = None,
) -> None:
    """Every source the knowledge base cites, with its kind, date and URL (csl-json and
    bibtex: for Zotero, pandoc and reference managers)."""
    from cmx.rows import source_row

    run = _run(ctx)
    reader = run.reader(lang)
    f = choose(fmt, SourceListing, reader.t)
    plan = _plan(run, reader)
    chosen = plan.sources(kind=kind, lang=reader.lang)
    if for_ is not None:
        mine = {s.id for s in plan.bibliography(for_, lang=reader.lang)}
        chosen = [s for s in chosen if s.id in mine]
    columns = ["id", "kind", "date", "publisher", "title", "url"]
    listing = SourceListing(
        chosen,
        [source_row(s, reader.lang) for s in chosen],
        columns=columns,
        terminal_columns=columns[:-1],  # on a terminal the id links to the URL
        codes={"kind": "source_kind"},
        links=[s.url for s in chosen],
        fields=fields,
        sort=sort,
        drop=["kind"] if kind is not None else [],
        accessed=plan.accessed(),
    )
    emit(listing, f, reader)


@app.command("actors")
def actors_cmd(
    ctx: typer.Context,
    actor: Annotated[
        str | None, typer.Argument(metavar="[NAME]", help="Only actors whose name contains NAME.")
    ] = None,
    lang: Lang = None,
    fmt: ListFmt = "table",
    fields: FieldsOpt = None,
    sort: SortOpt = None,
) -> None:
    """Governments, agencies, people and organisations the sources name, with acronyms."""
    from cmx.rows import actor_row
    from cmx.search import matching_actors

    run = _run(ctx)
    reader = run.reader(lang)
    f = choose(fmt, Listing, reader.t)
    kb = run.kb(reader)
    wanted = set(matching_actors(kb, actor)) if actor else None
    rows = [actor_row(a, kb, reader.lang) for a in kb.actors if wanted is None or a.id in wanted]
    listing = Listing(
        rows,
        ["id", "kind", "acronym", "name", "commitment_count"],
        empty=reader.t.gettext("no actor matched"),
        codes={"kind": "actor_kind"},
        fields=fields,
        sort=sort,
    )
    emit(listing, f, reader)


@app.command("tags")
def tags_cmd(
    ctx: typer.Context, lang: Lang = None, fmt: ListFmt = "table", sort: SortOpt = None
) -> None:
    """Every tag with how many commitments carry it (for --tag)."""
    run = _run(ctx)
    reader = run.reader(lang)
    f = choose(fmt, Listing, reader.t)
    kb = run.kb(reader)
    counts: dict[str, int] = {}
    for c in kb.commitments:
        for tag in c.tags:
            counts[tag] = counts.get(tag, 0) + 1
    rows = [
        {
            "tag": x,
            "label": t.label.get(reader.lang) if (t := kb.tag(x)) else x,
            "commitment_count": n,
        }
        for x, n in sorted(counts.items())
    ]
    listing = Listing(rows, ["label", "commitment_count"], sort=sort or "-commitment_count")
    emit(listing, f, reader)


@app.command("open")
def open_cmd(
    ctx: typer.Context,
    entry_id: Annotated[str, typer.Argument(metavar="ID", autocompletion=completion.entry_ids)],
    lang: Lang = None,
) -> None:
    """Open an entry's first source in the web browser (prints the URL when there is none)."""
    import webbrowser

    from cmx.output import on_terminal

    run = _run(ctx)
    reader = run.reader(lang)
    plan = _plan(run, reader)
    wanted = entry_id.strip()
    entry = plan.get(wanted, lang=reader.lang, hint_ids=False)
    url = first_url(plan.context([entry], lang=reader.lang), entry)
    if not url:
        raise NothingMatched(reader.t.gettext("no source of '{id}' has a URL").format(id=wanted))
    typer.echo(url)  # always: a pipe or a headless machine still gets the address
    if on_terminal() or os.environ.get("BROWSER"):
        try:
            opened = webbrowser.get().open(url)
        except webbrowser.Error:  # no browser on this machine: the address is printed
            opened = False
        if opened:
            say(reader.t.gettext("cmx: opened it in your browser"))


@app.command("notes")
def notes_cmd(
    ctx: typer.Context,
    support: Annotated[
        str | None,
        typer.Option(
            "--support",
            help="stated, interpretation or not-in-official-text.",
            autocompletion=completion.codes("support"),
        ),
    ] = None,
    lang: Lang = None,
    fmt: ListFmt = "table",
    fields: FieldsOpt = None,
    sort: SortOpt = None,
) -> None:
    """Commentary and analysis (never official commitments), with their support level."""
    from cmx.rows import note_row

    run = _run(ctx)
    reader = run.reader(lang)
    f = choose(fmt, Listing, reader.t)
    plan = _plan(run, reader)
    rows = [note_row(n, reader.lang) for n in plan.notes(support=support, lang=reader.lang)]
    listing = Listing(
        rows,
        ["id", "support", "title", "related"],
        empty=reader.t.gettext("no note matched"),
        fields=fields,
        sort=sort,
    )
    emit(listing, f, reader)


@app.command("validate")
def validate_cmd(ctx: typer.Context, lang: Lang = None) -> None:
    """Check the knowledge base: every problem is listed as file:line; exit 2 if any."""
    run = _run(ctx)
    reader = run.reader(lang)
    run.use_cache = False  # always parse the YAML itself
    kb = run.kb(reader)
    t = reader.t
    counts = [
        (t.ngettext("{n} pillar", "{n} pillars", len(kb.pillars)), len(kb.pillars)),
        (t.ngettext("{n} priority area", "{n} priority areas", len(kb.sectors)), len(kb.sectors)),
        (
            t.ngettext("{n} commitment", "{n} commitments", len(kb.commitments)),
            len(kb.commitments),
        ),
        (t.ngettext("{n} commentary note", "{n} commentary notes", len(kb.notes)), len(kb.notes)),
        (t.ngettext("{n} source", "{n} sources", len(kb.sources)), len(kb.sources)),
        (t.ngettext("{n} actor", "{n} actors", len(kb.actors)), len(kb.actors)),
    ]
    listed = ", ".join(c.format(n=n) for c, n in counts)
    say(t.gettext("ok: {counts}").format(counts=listed))


@app.command("search")
def search_cmd(
    ctx: typer.Context,
    query: Annotated[
        list[str], typer.Argument(metavar="QUERY...", help="Words to look for, in en, es or fr.")
    ],
    pillar: PillarOpt = None,
    sector: SectorOpt = None,
    kind: Annotated[
        str | None,
        typer.Option(
            "--kind",
            "-k",
            help="pillar, sector, commitment, note or source.",
            autocompletion=completion.codes("kind"),
        ),
    ] = None,
    status: StatusOpt = None,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="How many hits.")] = 10,
    explain: Annotated[
        bool,
        typer.Option("--explain", help="Show which words or concepts each hit matched, and how."),
    ] = False,
    lang: Lang = None,
    fmt: Annotated[str, fmt_option(Hits)] = "table",
    fields: FieldsOpt = None,
    sort: SortOpt = None,
) -> None:
    """Ranked, typo-tolerant search over everything, in English, Spanish or French.

    Words name concepts too (narcotics, pandillas, bétail…). Each hit has a confidence
    (high, medium, low); when none is at least medium, cmx says so and exits 1."""
    from cmx.rows import hit_row
    from cmx.search import query_words

    run = _run(ctx)
    reader = run.reader(lang)
    f = choose(fmt, Hits, reader.t)
    plan = _plan(run, reader)
    text = " ".join(query)
    with working(reader.t.gettext("cmx: searching…")):  # a first search builds the index
        hits = plan.search(
            text, kind=kind, pillar=pillar, sector=sector, status=status, limit=limit,
            lang=reader.lang,
        )  # fmt: skip
    plan_wide = plan_wide_sectors(plan.pillars())
    rows = [hit_row(h, reader.lang, plan_wide=plan_wide) for h in hits]
    columns = ["kind", "id", "pillar", "title", "snippet", "confidence"]
    result = Hits(
        hits,
        rows,
        query_words(text),
        explain=explain,
        suggestions=plan.suggestions(text) if not rows else (),
        columns=columns + (["why"] if explain else []),
        codes={"confidence": "reliability"},
        fields=fields,
        sort=sort,
        concepts=_concept_labels(plan, reader) if explain else None,
    )
    emit(result, f, reader)


def _concept_labels(plan: Plan, reader: Reader) -> dict[str, str]:
    """Concepts by their label in the reader's language, for --explain."""
    return {c.id: c.label.get(reader.lang) for c in plan.concepts()}


@app.command("timeline")
def timeline_cmd(
    ctx: typer.Context,
    from_: Annotated[
        str | None, typer.Option("--from", metavar="DATE", help="From DATE (YYYY-MM-DD).")
    ] = None,
    to: Annotated[
        str | None, typer.Option("--to", metavar="DATE", help="To DATE (YYYY-MM-DD).")
    ] = None,
    pillar: PillarOpt = None,
    lang: Lang = None,
    fmt: ListFmt = "table",
    fields: FieldsOpt = None,
    sort: SortOpt = None,
    today_: TodayOpt = None,
    as_of: AsOfOpt = None,
) -> None:
    """Every dated event and deadline in order, marked done, overdue or upcoming."""
    run = _run(ctx)
    reader = run.reader(lang, today_, as_of)
    f = choose(fmt, Listing, reader.t)
    rows = _plan(run, reader).timeline(
        start=from_, end=to, pillar=pillar, lang=reader.lang, as_of=run.as_of
    )
    listing = Listing(
        rows,
        ["date", "mark", "type", "id", "what"],
        empty=reader.t.gettext("no dated entry matched"),
        fields=fields,
        sort=sort,
    )
    emit(listing, f, reader)


@app.command("changes")
def changes_cmd(
    ctx: typer.Context,
    since: Annotated[
        str | None,
        typer.Option(
            "--since", metavar="DATE", help="From DATE (YYYY-MM-DD; default: 90 days before today)."
        ),
    ] = None,
    until: Annotated[
        str | None,
        typer.Option("--until", metavar="DATE", help="To DATE, included (default: today)."),
    ] = None,
    pillar: PillarOpt = None,
    lang: Lang = None,
    fmt: Annotated[str, fmt_option(Changes)] = "table",
    fields: FieldsOpt = None,
    sort: SortOpt = None,
    today_: TodayOpt = None,
) -> None:
    """What happened in a period: events, status changes and deadlines that fell due,
    grouped by pillar, newest first, with their sources."""
    run = _run(ctx)
    reader = run.reader(lang, today_)
    t = reader.t
    f = choose(fmt, Changes, t)
    plan = _plan(run, reader)
    start, end = plan.window(since, until, lang=reader.lang)
    rows = plan.changes(since=start, until=end, pillar=pillar, lang=reader.lang)
    result = Changes(
        plan.kb(lang=reader.lang),
        rows,
        start,
        end,
        columns=["date", "pillar", "type", "id", "status", "what"],
        empty=_nothing_between(plan, start, end, t),
        codes={"type": "type"},
        drop=["pillar"] if pillar is not None else [],
        fields=fields,
        sort=sort,
    )
    emit(result, f, reader)


def _nothing_between(plan: Plan, start: dt.date, end: dt.date, t: Translator) -> str:
    """What to say when nothing happened in a period: that, and where to look instead."""
    said = t.gettext("nothing recorded from {since} to {until}").format(
        since=start.isoformat(), until=end.isoformat()
    )
    newest = plan.newest_date()
    if newest:
        said += t.gettext(
            "; the newest recorded development is dated {date} (try --since {date})"
        ).format(date=newest)
    return said


@app.command("stats")
def stats_cmd(
    ctx: typer.Context,
    lang: Lang = None,
    fmt: Annotated[str, fmt_option(Stats)] = "table",
    today_: TodayOpt = None,
    as_of: AsOfOpt = None,
) -> None:
    """Counts by pillar, status, instrument and source kind."""
    run = _run(ctx)
    reader = run.reader(lang, today_, as_of)
    f = choose(fmt, Stats, reader.t)
    data = _plan(run, reader).stats(lang=reader.lang, as_of=run.as_of)
    emit(Stats(data), f, reader)


@app.command("export")
@with_filters
def export_cmd(
    ctx: typer.Context,
    filters: Filters,
    what: Annotated[
        str,
        typer.Argument(
            metavar="WHAT",
            help=f"{', '.join(formats(Selection))}.",
            autocompletion=completion.fixed(*formats(Selection)),
        ),
    ],
    lang: Lang = None,
    output: Annotated[
        str | None, typer.Option("--output", "-o", help="File to write; '-' or none: stdout.")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
    full: Annotated[
        bool,
        typer.Option("--full", help="Markdown: the full dossier instead of the one-page summary."),
    ] = False,
    since: Annotated[
        str | None,
        typer.Option(
            "--since",
            metavar="DATE",
            help="Markdown summary: what changed since DATE (default: 90 days before today).",
        ),
    ] = None,
    mindmap: Annotated[
        bool,
        typer.Option("--mindmap/--no-mindmap", help="Markdown --full: add a Mermaid mind-map."),
    ] = False,
    cite: Annotated[
        str,
        typer.Option(
            "--cite",
            help="Markdown: numbered ([1] and a Sources list) or pandoc ([@source-id] keys "
            "for pandoc --citeproc with the bibliography of 'cmx sources -f csl-json').",
            autocompletion=completion.fixed(*CITE_STYLES),
        ),
    ] = "numbered",
    front_matter: Annotated[
        bool,
        typer.Option(
            "--front-matter/--no-front-matter",
            help="Markdown: start with YAML front matter (title, date, lang) for pandoc.",
        ),
    ] = True,
    bom: Annotated[
        bool | None,
        typer.Option(
            "--bom/--no-bom",
            help="CSV: start with a UTF-8 byte-order mark, so Excel reads accents "
            "(default: with -o FILE yes, on stdout no).",
        ),
    ] = None,
    delimiter: Annotated[
        str,
        typer.Option("--delimiter", metavar="CHAR", help="CSV: the field separator, e.g. ';'."),
    ] = ",",
    excel: Annotated[
        bool,
        typer.Option(
            "--excel", help="CSV for Excel set to Spanish or French: BOM, ';' and CRLF line ends."
        ),
    ] = False,
    table: Annotated[
        str,
        typer.Option(
            "--table",
            help="CSV/JSON/YAML: commitments (one row each), or one row per item of "
            "events, sources or citations.",
            autocompletion=completion.fixed(*EXPORT_TABLES),
        ),
    ] = "commitments",
    metadata: Annotated[
        str | None,
        typer.Option(
            "--metadata",
            metavar="FILE",
            help="sqlite: also write Datasette's metadata (titles, facets, canned queries) "
            "in --lang; then: datasette plan.db -m FILE.",
        ),
    ] = None,
    today_: TodayOpt = None,
    as_of: AsOfOpt = None,
) -> None:
    """A paste-ready brief (Markdown, with citations), the data (JSON, CSV, YAML), a
    calendar (ICS) or a SQLite database for Datasette, sqlite-utils or any SQLite
    client (-o FILE)."""
    from cmx.output import CsvPolicy

    run = _run(ctx)
    reader = run.reader(lang, today_, as_of)
    t = reader.t
    choose(what, Selection, t, "WHAT")
    to_file = output not in (None, "-")
    if len(delimiter) != 1 or delimiter in '"\r\n':
        message = t.gettext("'{value}' is not valid").format(value=delimiter)
        raise UsageError(f"--delimiter: {message}")
    policy = CsvPolicy(
        raw=reader.csv.raw,
        delimiter=";" if excel else delimiter,
        bom=True if excel else (to_file if bom is None else bom),
        crlf=excel,
    )
    plan = _plan(run, reader)
    if not to_file:
        if metadata is not None:
            raise UsageError(t.gettext("--metadata goes with cmx export sqlite -o FILE"))
        text = plan.export(
            what, filters, lang=reader.lang, table=table, since=since, full=full,
            mindmap=mindmap, as_of=run.as_of, csv=policy, cite=cite, front_matter=front_matter,
        )  # fmt: skip
        send(text)
        return
    n = plan.export_file(
        what, output or "", filters, force=force, lang=reader.lang, table=table, since=since,
        full=full, mindmap=mindmap, as_of=run.as_of, csv=policy, cite=cite,
        front_matter=front_matter, metadata=metadata,
    )  # fmt: skip
    wrote = t.ngettext(
        "cmx: wrote {n} commitment to {path}", "cmx: wrote {n} commitments to {path}", n
    )
    say(wrote.format(n=n, path=output))


SHELLS = ("bash", "zsh", "fish")


@app.command("completion")
def completion_cmd(
    ctx: typer.Context,
    shell: Annotated[
        str,
        typer.Argument(
            metavar="SHELL", help="bash, zsh or fish.", autocompletion=completion.fixed(*SHELLS)
        ),
    ],
    install: Annotated[
        bool,
        typer.Option(
            "--install",
            help="Install it where that shell reads it (bash: ~/.bash_completions and "
            "~/.bashrc; zsh: ~/.zfunc and ~/.zshrc; fish: ~/.config/fish/completions).",
        ),
    ] = False,
    lang: Lang = None,
) -> None:
    """Tab completion of commands, options, fixed values and the knowledge base's ids and
    names: print the script for SHELL (eval "$(cmx completion zsh)"), or --install it."""
    from typer._completion_shared import get_completion_script
    from typer._completion_shared import install as install_script

    run = _run(ctx)
    run.reader(lang)
    chosen = choice(run.t, shell, SHELLS, "SHELL") or "bash"
    if not install:
        script = get_completion_script(prog_name="cmx", complete_var="_CMX_COMPLETE", shell=chosen)
        send(script if script.endswith("\n") else script + "\n")
        return
    _, path = install_script(shell=chosen, prog_name="cmx", complete_var="_CMX_COMPLETE")
    say(
        run.t.gettext("cmx: completion for {shell} installed in {path}; open a new shell").format(
            shell=chosen, path=path
        )
    )


@app.command("schema")
def schema_cmd(lang: Lang = None) -> None:
    """The JSON Schema (draft 2020-12) of the knowledge-base files."""
    import json

    from cmx.schema import kb_schema

    typer.echo(json.dumps(kb_schema(), ensure_ascii=False, indent=2))


@app.command("mcp")
def mcp_cmd(ctx: typer.Context) -> None:
    """Serve the knowledge base to AI assistants: a read-only Model Context Protocol
    server on stdin/stdout (needs the extra: pip install "cmx[mcp]")."""
    run = _run(ctx)
    try:  # the SDK only here: no other command imports it (start-up)
        from cmx.mcp_server import serve
    except ImportError as error:
        if (error.name or "").split(".")[0] != "mcp":
            raise
        raise UsageError(
            run.t.gettext('the MCP server needs the mcp extra: pip install "cmx[mcp]"')
        ) from None
    from cmx.api import open_kb
    from cmx.run import env_date

    today = run.today or env_date(run.t, "CMX_TODAY")  # else the real date of each call
    serve(open_kb(run.data_dir, use_cache=run.use_cache, today=today))


# Every command is registered: hand them to the group, which builds the one a run needs.
Group.infos, app.registered_commands = tuple(app.registered_commands), []
