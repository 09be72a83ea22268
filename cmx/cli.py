"""The `cmx` command line: parse, call the core, pick a renderer, map errors to exit codes."""

import _signal  # type: ignore[import-not-found]  # C module under `signal` (no enums: ~4 ms)
import contextlib
import datetime as dt
import gc
import os
import sys
from collections.abc import Iterator, MutableMapping, Sequence
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from typer._click import Command  # Typer's own Click (typer is pinned: pyproject.toml)
from typer.core import TyperGroup
from typer.main import get_command_from_info
from typer.models import CommandInfo

from cmx import __version__, render
from cmx.i18n import CODE_COLUMNS, LANGUAGES, Translator, language_from_locale, translator
from cmx.kb import KBError, closest, default_data_dir
from cmx.model import (
    PLAN_WIDE,
    Commitment,
    KnowledgeBase,
    Note,
    Pillar,
    Sector,
    Source,
    date_bounds,
    plan_wide_sectors,
)
from cmx.render import OutputFormat
from cmx.store import Store, open_store

EXIT_OK, EXIT_NO_MATCH, EXIT_USAGE, EXIT_BUG = 0, 1, 2, 3


class _Commands(MutableMapping[str, Command]):
    """The subcommands, each turned into a Click command on first use.

    Click's "lazily loading subcommands" pattern: Typer would otherwise build all 17
    commands from their signatures on every run, 15 ms of a start-up budget of ~30 ms
    (bench/startup.py); a run needs one. Help and completion list them all.
    """

    def __init__(self, infos: Sequence[CommandInfo]) -> None:
        self._infos = {info.name: info for info in infos if info.name}
        self._built: dict[str, Command] = {}

    def __getitem__(self, name: str) -> Command:
        command = self._built.get(name)
        if command is None:
            command = self._built[name] = get_command_from_info(
                self._infos[name], pretty_exceptions_short=True, rich_markup_mode=None
            )
        return command

    def __setitem__(self, name: str, command: Command) -> None:
        self._built[name] = command
        self._infos.setdefault(name, CommandInfo(name=name))

    def __delitem__(self, name: str) -> None:
        del self._infos[name]
        self._built.pop(name, None)

    def __iter__(self) -> Iterator[str]:
        return iter(self._infos)

    def __len__(self) -> int:
        return len(self._infos)


class _Group(TyperGroup):
    """cmx's top-level group: Typer's, with subcommands built on demand (`_Commands`)."""

    infos: tuple[CommandInfo, ...] = ()  # set once, below the last command

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.commands = _Commands(self.infos)


app = typer.Typer(
    cls=_Group,
    no_args_is_help=True,
    add_completion=True,
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
    lang: str = "en"
    store: Store | None = None
    quiet: bool = False
    as_of: dt.date | None = None


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


def _(message: str) -> str:
    """`message` in the reader's language (see cmx.i18n)."""
    return translator(state.lang).gettext(message)


def tr() -> Translator:
    return translator(state.lang)


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    err(_("cmx: error: {message}").format(message=message))
    raise typer.Exit(code)


def bad_value(option: str, message: str) -> NoReturn:
    """A usage error about one option's value: one translated line, exit 2."""
    fail(f"{option}: {message}")


def invalid(
    option: str, value: str, close_to: Sequence[str], listed: Sequence[str] = ()
) -> NoReturn:
    """A usage error for one option's value: "did you mean" the closest of `close_to`,
    then the choices `listed` (none when there are too many to read)."""
    close = closest(value, close_to)
    message = _("'{value}' is not valid").format(value=value)
    if close:
        message += _(" (did you mean '{word}'?)").format(word=close)
    if listed:
        message += _("; choose from: {choices}").format(choices=", ".join(listed))
    bad_value(option, message)


def few(choices: Sequence[str]) -> Sequence[str]:
    """`choices` when they are few enough to list in a message, else none."""
    return choices if len(choices) <= 12 else ()


def choice(value: str | None, choices: Sequence[str], option: str) -> str | None:
    """`value` if it is one of `choices` (case-insensitive), else a usage error with a hint."""
    if value is None:
        return None
    lowered = value.strip().lower()
    if lowered in choices:
        return lowered
    invalid(option, value, choices, few(choices))


def code_choice(value: str | None, kind: str, option: str) -> str | None:
    """A code (status, instrument, basis…) given as its code or as it reads in any
    language: `--status underway`, `--status "en curso"`, `--status "en cours"`."""
    if value is None:
        return None
    from cmx.search import fold

    wanted = fold(value.strip())
    names: dict[str, str] = {}
    for lang in LANGUAGES:
        for code, shown in translator(lang).codes(kind).items():
            names.setdefault(fold(code), code)
            names.setdefault(fold(shown), code)
    if wanted in names:
        return names[wanted]
    readable = list(tr().codes(kind).values())
    invalid(option, value, readable, few(readable))


def parse_date(value: str | None, option: str) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        bad_value(
            option,
            _("'{value}' is not a date; write YYYY-MM-DD, e.g. 2026-03-31").format(value=value),
        )


def env_date(name: str) -> dt.date | None:
    """A date from the environment; a bad one is blamed on the variable, not an option."""
    value = os.environ.get(name, "").strip()
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        fail(
            _(
                "{name}={value} is not a date; write YYYY-MM-DD, e.g. 2026-03-31, or unset it"
            ).format(name=name, value=repr(value))
        )


def today(value: str | None = None) -> dt.date:
    """--today given to the command, else to cmx, else the --as-of date, else CMX_TODAY,
    else the real date."""
    given = parse_date(value, "--today")
    if given:
        state.today = given  # what the freshness note and the rest of the run use
    return state.today or state.as_of or env_date("CMX_TODAY") or dt.date.today()


STALE_DAYS = 90  # a knowledge base whose newest dated fact is older than this gets a note


def freshness_note(store: Store) -> None:
    """Say once on stderr when the newest dated source or event is more than STALE_DAYS
    before today (--quiet or CMX_QUIET=1: silent). stdout is never touched."""
    if state.quiet or env_on("CMX_QUIET"):
        return
    newest = store.newest_date()
    if newest is None:
        return
    day = today()
    days = (day - min(date_bounds(newest)[1], day)).days
    if days > STALE_DAYS:
        err(
            tr()
            .ngettext(
                "cmx: note: newest source: {date}, {n} day ago "
                "(cmx --quiet … or CMX_QUIET=1 hides this note)",
                "cmx: note: newest source: {date}, {n} days ago "
                "(cmx --quiet … or CMX_QUIET=1 hides this note)",
                days,
            )
            .format(date=newest, n=days)  # ISO: prose dates need Babel, ~30 ms on every run
        )


def as_of_option(value: str | None) -> None:
    """--as-of DATE: the tracker as it stood then (see cmx.tracking.as_of)."""
    state.as_of = parse_date(value, "--as-of")


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
                err(_("cmx: error: {message}").format(message=problem))
            n = len(error.problems)
            err(
                tr()
                .ngettext(
                    "cmx: the knowledge base has {n} problem; fix it and retry",
                    "cmx: the knowledge base has {n} problems; fix them and retry",
                    n,
                )
                .format(n=n)
            )
            raise typer.Exit(EXIT_USAGE) from None
        freshness_note(state.store)
    return state.store


def load() -> KnowledgeBase:
    """The knowledge base, as it stood on the --as-of date when one is given."""
    kb = kb_store().kb()
    if state.as_of is None:
        return kb
    from cmx.tracking import as_of

    return as_of(kb, state.as_of)


def known_id(value: str | None, ids: Sequence[str], option: str) -> str | None:
    """A source id given on the command line, checked against the KB."""
    if value is None:
        return None
    if value in ids:
        return value
    return choice(value, list(ids), option)


def entry_names(entry: Pillar | Sector) -> list[str]:
    """Everything a pillar or priority area may be called: id, number, names, aliases."""
    return [entry.id, entry.number or "", *entry.name.all(), *entry.aliases]


def known_entry(value: str | None, entries: Sequence[Pillar | Sector], option: str) -> str | None:
    """A pillar or priority area named by id, by the plan's number (`III`, `I.1`) or by
    its name in any language (`seguridad`, `Sécurité`); else a usage error with a hint."""
    if value is None:
        return None
    from cmx.search import fold

    wanted = fold(value.strip())
    for entry in entries:
        if wanted in {fold(n) for n in entry_names(entry) if n}:
            return entry.id
    shown = [e.id for e in entries] + [e.name.get(state.lang) for e in entries]
    invalid(option, value, shown, few([e.id for e in entries]))


def fmt_of(value: str) -> OutputFormat:
    return OutputFormat(choice(value, [f.value for f in render.FORMATS], "--format") or "table")


def lang_of(value: str | None) -> str:
    """--lang given to the command; else what cmx's own --lang, CMX_LANG or the POSIX
    locale chose (state.lang). Sets the language of everything printed from here on."""
    if value is not None:
        state.lang = choice(value, LANGUAGES, "--lang") or "en"
    return state.lang


def default_language(option: str | None) -> str:
    """--lang before the command, else CMX_LANG (named when wrong), else LC_ALL /
    LC_MESSAGES / LANG (es_MX.UTF-8 -> es), else English."""
    if option is not None:
        return choice(option, LANGUAGES, "--lang") or "en"
    env = os.environ.get("CMX_LANG", "").strip()
    if env:
        if env.lower() not in LANGUAGES:
            fail(
                _("CMX_LANG={value} is not a language cmx speaks; use one of {choices}").format(
                    value=repr(env), choices=", ".join(LANGUAGES)
                )
            )
        return env.lower()
    return language_from_locale() or "en"


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


def localize(rows: list[dict[str, Any]], codes: dict[str, str]) -> list[dict[str, Any]]:
    """Rows for people: codes (status, instrument, mark…) as they read in the reader's
    language. JSON and YAML keep the codes."""
    t = tr()
    return [
        {
            key: (
                t.code(codes[key], value)
                if key in codes and isinstance(value, str)
                else (
                    t.code("bool", "yes" if value else "no") if isinstance(value, bool) else value
                )
            )
            for key, value in row.items()
        }
        for row in rows
    ]


def yes_no(t: Translator, value: bool) -> str:
    return t.code("bool", "yes" if value else "no")


def emit(
    rows: list[dict[str, Any]],
    fmt: OutputFormat,
    columns: Sequence[str],
    *,
    title: str = "",
    empty_hint: str | None = None,
    codes: dict[str, str] | None = None,
    links: Sequence[str | None] = (),
    fields: str | None = None,
    sort: str | None = None,
    drop: Sequence[str] = (),
) -> None:
    """Print rows in the chosen format; no rows: an empty document and exit 1.

    Tables (and CSV in Spanish or French) are for people: headers and codes in the
    reader's language. JSON and YAML keep stable English keys and codes; English CSV
    keeps its keys as headers, for scripts. `fields` picks the columns (and the keys of
    JSON, CSV and YAML), `sort` orders the rows by one field (`-field`: descending), and
    `drop` leaves out columns that would only repeat a filter's value."""
    if sort:
        rows, links = sorted_rows(rows, links, sort)
    if fields:
        columns = chosen_fields(fields, rows, columns)
        rows = [{k: r.get(k) for k in columns} for r in rows]
    else:
        columns = [c for c in columns if c not in drop]
    rich = fmt is OutputFormat.TABLE and use_rich()
    width = terminal_width() if rich else columns_env()
    people = fmt is OutputFormat.TABLE or (fmt is OutputFormat.CSV and state.lang != "en")
    shown = rows
    headers: dict[str, str] = {}
    if people:
        shown = localize(rows, {**CODE_COLUMNS, "kind": "kind", **(codes or {})})
        if "status" in columns and rows and "overdue" in rows[0]:  # "planned · overdue"
            late = tr().code("mark", "overdue")
            shown = [
                {**s, "status": f"{s['status']} · {late}"} if r.get("overdue") else s
                for s, r in zip(shown, rows, strict=True)
            ]
        headers = {c: tr().header(c) for c in {*columns, *(rows[0] if rows else ())}}
    view = render.View(columns, title, width, rich, state.raw_csv, headers, links if rich else ())
    out(render.write(render.clean(shown), fmt, view))
    if not rows:
        err(_("cmx: {message}").format(message=empty_hint or _("nothing matched")))
        raise typer.Exit(EXIT_NO_MATCH)


def chosen_fields(fields: str, rows: list[dict[str, Any]], columns: Sequence[str]) -> list[str]:
    """The columns `--fields a,b,c` names, checked against the rows' keys."""
    known = list(rows[0]) if rows else list(columns)
    wanted = [f.strip() for f in fields.split(",") if f.strip()]
    for name in wanted:
        if name not in known:
            invalid("--fields", name, known, known)
    return wanted or list(columns)


def sorted_rows(
    rows: list[dict[str, Any]], links: Sequence[str | None], sort: str
) -> tuple[list[dict[str, Any]], Sequence[str | None]]:
    """Rows ordered by one field (`-field`: descending); empty values go last."""
    descending = sort.startswith("-")
    key = sort.lstrip("-").strip()
    if rows and key not in rows[0]:
        chosen_fields(key, rows, [])  # the same message as --fields
    paired = list(zip(rows, list(links) or [None] * len(rows), strict=False))
    present = [p for p in paired if p[0].get(key) not in (None, "", [])]
    absent = [p for p in paired if p[0].get(key) in (None, "", [])]

    def order(pair: tuple[dict[str, Any], str | None]) -> Any:
        value = pair[0].get(key)
        return (0, value) if isinstance(value, int | float) else (1, str(value).casefold())

    present.sort(key=order, reverse=descending)
    result = present + absent
    return [r for r, _ in result], ([lk for _, lk in result] if links else ())


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


# ------------------------------------------------------------------------ completion


def _completing_kb() -> KnowledgeBase | None:
    """The KB for shell completion: the shipped one or CMX_DATA, quietly (no errors)."""
    try:
        folder = Path(os.environ["CMX_DATA"]) if os.environ.get("CMX_DATA") else None
        return open_store(folder or default_data_dir()).kb()
    except (KBError, OSError):
        return None


def _complete(values: Any, incomplete: str) -> list[str]:
    kb = _completing_kb()
    return [v for v in values(kb) if v.startswith(incomplete)] if kb else []


def complete_ids(incomplete: str) -> list[str]:
    return _complete(lambda kb: kb.ids(), incomplete)


def complete_pillars(incomplete: str) -> list[str]:
    return _complete(lambda kb: [p.id for p in kb.pillars], incomplete)


def complete_sectors(incomplete: str) -> list[str]:
    return _complete(lambda kb: [s.id for s in kb.sectors], incomplete)


def complete_actors(incomplete: str) -> list[str]:
    return _complete(lambda kb: [a.id for a in kb.actors], incomplete)


def complete_tags(incomplete: str) -> list[str]:
    return _complete(lambda kb: sorted({t for c in kb.commitments for t in c.tags}), incomplete)


def complete_sources(incomplete: str) -> list[str]:
    return _complete(lambda kb: [s.id for s in kb.sources], incomplete)


# ------------------------------------------------------------------------ options

Lang = Annotated[
    str | None,
    typer.Option(
        "--lang",
        "-l",
        help="Language: en, es or fr (default: cmx --lang, CMX_LANG, LANG, else en).",
    ),
]
Fmt = Annotated[
    str,
    typer.Option("--format", "-f", help=f"Output: {', '.join(render.FORMATS)}.", show_default=True),
]
PillarOpt = Annotated[
    str | None,
    typer.Option(
        "--pillar",
        "-p",
        help="Pillar: id, number or name in any language (security, III, seguridad).",
        autocompletion=complete_pillars,
    ),
]
SectorOpt = Annotated[
    str | None,
    typer.Option(
        "--sector",
        "-s",
        help="Priority area: id, number (I.1) or name (see cmx sectors).",
        autocompletion=complete_sectors,
    ),
]
StatusOpt = Annotated[
    str | None,
    typer.Option(
        "--status", help="planned, underway, completed or not-pursued (or as they read in es/fr)."
    ),
]
InstrumentOpt = Annotated[
    str | None,
    typer.Option(
        "--instrument",
        help="dialogue, mou, working-group, funding, mission, meeting, program, agreement, other.",
    ),
]
BasisOpt = Annotated[
    str | None,
    typer.Option("--basis", help="Best kind of source behind it: official, news or analysis."),
]
ActorOpt = Annotated[
    str | None,
    typer.Option(
        "--actor",
        help="Actor: any name or acronym, any language (GRC, RCMP, CONANP).",
        autocompletion=complete_actors,
    ),
]
SourceOpt = Annotated[
    str | None,
    typer.Option("--source", help="Source id (see cmx sources).", autocompletion=complete_sources),
]
TagOpt = Annotated[
    str | None,
    typer.Option("--tag", help="Tag, e.g. fentanyl (see cmx tags).", autocompletion=complete_tags),
]
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
AsOfOpt = Annotated[
    str | None,
    typer.Option(
        "--as-of",
        metavar="DATE",
        help="The tracker as it stood on DATE: statuses from each history, only events and "
        "sources dated by then (also sets --today).",
    ),
]
FieldsOpt = Annotated[
    str | None,
    typer.Option(
        "--fields", metavar="A,B,C", help="Columns to show (any key of -f json), comma-separated."
    ),
]
SortOpt = Annotated[
    str | None,
    typer.Option(
        "--sort", metavar="FIELD", help="Sort by FIELD (any key of -f json); -FIELD: descending."
    ),
]


def actor_ids(kb: KnowledgeBase, query: str | None) -> list[str] | None:
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
        hint = _(" (did you mean '{word}'?)").format(word=close) if close else ""
        bad_value(
            "--actor",
            _("no actor is called '{value}'{hint}; list them with: cmx actors").format(
                value=query, hint=hint
            ),
        )
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
    basis: str | None = None,
) -> list[Any]:
    """The commitments the options of `cmx commitments` / `cmx export` select."""
    from cmx.search import filter_commitments

    chosen_basis = code_choice(basis, "basis", "--basis")
    scope = pillar_scope(kb.pillars, pillar)
    items = filter_commitments(
        kb.commitments,
        sector=known_entry(sector, kb.sectors, "--sector"),
        status=code_choice(status, "status", "--status"),
        instrument=code_choice(instrument, "instrument", "--instrument"),
        actors=actor_ids(kb, actor),
        source=known_id(source, [s.id for s in kb.sources], "--source"),
        tag=tag,
        due_before=parse_date(due_before, "--due-before"),
        overdue_on=today_date if overdue else None,
    )
    if chosen_basis:
        items = [c for c in items if kb.basis(c).value == chosen_basis]
    if scope:
        items = [c for c in items if kb.scope(c) == scope]
    return items


def pillar_scope(pillars: Sequence[Pillar], value: str | None) -> str | None:
    """--pillar: a pillar by any name known_entry takes or by its short name as tables
    show it (seguridad, environnement); or the plan's own governance, counted apart, by
    'plan-wide', its label in any language or any name of its sector (gobernanza)."""
    if value is None:
        return None
    from cmx.search import fold

    scopes = [*(p.id for p in pillars), PLAN_WIDE]
    names: dict[str, str] = {"plan": PLAN_WIDE}
    for lang in LANGUAGES:
        t = translator(lang)
        names[fold(t.gettext("Whole plan (governance)"))] = PLAN_WIDE
        names.update({fold(t.code("scope", s)): s for s in scopes})
    for p in pillars:  # last, so that a pillar's own names win
        for s in p.sectors:
            if s.plan_wide:
                names.update({fold(n): PLAN_WIDE for n in entry_names(s) if n})
        names.update({fold(n): p.id for n in entry_names(p) if n})
    found = names.get(fold(value.strip()))
    if found:
        return found
    shown = [tr().code("scope", s) for s in scopes]
    invalid("--pillar", value, [*shown, *(p.name.get(state.lang) for p in pillars)], shown)


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
    lang: Annotated[
        str | None,
        typer.Option(
            "--lang",
            "-l",
            help="Language of everything printed: en, es or fr (default: CMX_LANG, then "
            "LC_ALL / LC_MESSAGES / LANG, then en).",
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
    state.store = None  # one KB per invocation (tests run many in one process)
    state.lang = "en"
    state.lang = default_language(lang)
    state.data_dir = data
    state.today = parse_date(today_, "--today")
    state.use_cache = not no_cache and not env_on("CMX_NO_CACHE")
    state.debug = debug or env_on("CMX_DEBUG")
    state.raw_csv = raw_csv
    state.quiet = quiet
    state.as_of = None


@app.command("pillars")
def pillars_cmd(
    lang: Lang = None,
    fmt: Fmt = "table",
    fields: FieldsOpt = None,
    sort: SortOpt = None,
    as_of: AsOfOpt = None,
) -> None:
    """The four pillars with their sector and commitment counts."""
    from cmx.render import pillar_row

    lang, f = lang_of(lang), fmt_of(fmt)
    as_of_option(as_of)
    store = kb_store()
    if state.as_of:
        kb = load()
        counts, pillars = kb.counts(), kb.pillars
    else:  # read from the store without loading the commitments
        counts, pillars = store.counts(), store.pillars()
    rows = [pillar_row(p, counts, lang) for p in pillars]
    if f in (OutputFormat.TABLE, OutputFormat.CSV) and counts.get(PLAN_WIDE):
        # For people, the plan's own governance is a row of its own, after the four
        # pillars; JSON and YAML list the pillars only (its count: `cmx stats`).
        plan_wide = plan_wide_sectors(pillars)
        rows.append(
            {
                "number": "",
                "id": PLAN_WIDE,
                "name": _("Whole plan (governance)"),
                "sector_count": len(plan_wide),
                "commitment_count": counts[PLAN_WIDE],
            }
        )
    columns = ["number", "id", "name", "sector_count", "commitment_count"]
    emit(rows, f, columns, fields=fields, sort=sort)


@app.command("sectors")
def sectors_cmd(
    pillar: PillarOpt = None,
    lang: Lang = None,
    fmt: Fmt = "table",
    fields: FieldsOpt = None,
    sort: SortOpt = None,
) -> None:
    """Priority areas (sectors), optionally of one pillar."""
    from cmx.render import sector_row

    lang, f = lang_of(lang), fmt_of(fmt)
    store = kb_store()
    pillars = store.pillars()
    pillar = pillar_scope(pillars, pillar)
    counts = store.counts()
    sectors = [s for p in pillars for s in p.sectors if not pillar or s.scope == pillar]
    rows = [sector_row(s, counts, lang) for s in sectors]
    columns = ["pillar", "number", "id", "name", "commitment_count"]
    emit(rows, f, columns, fields=fields, sort=sort, drop=["pillar"] if pillar else [])


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
    basis: BasisOpt = None,
    lang: Lang = None,
    fmt: Fmt = "table",
    fields: FieldsOpt = None,
    sort: SortOpt = None,
    today_: TodayOpt = None,
    as_of: AsOfOpt = None,
) -> None:
    """Commitments, filtered by pillar, sector, status, instrument, basis, actor, source,
    tag or date."""
    from cmx.render import commitment_row

    lang, f = lang_of(lang), fmt_of(fmt)
    as_of_option(as_of)
    day = today(today_)
    kb = load()
    chosen = (pillar, sector, status, instrument, actor, source, tag, due_before, overdue)
    items = filtered(kb, day, *chosen, basis=basis)
    rows = [commitment_row(c, kb, lang, day) for c in items]
    drop = [name for name, given in (("pillar", pillar), ("status", status)) if given]
    emit(
        rows,
        f,
        ["id", "pillar", "title", "status", "due"],
        empty_hint=_("no commitment matched"),
        links=[first_url(kb, c) for c in items],
        fields=fields,
        sort=sort,
        drop=drop,
    )


@app.command("show")
def show_cmd(
    entry_id: Annotated[str, typer.Argument(metavar="ID", autocompletion=complete_ids)],
    lang: Lang = None,
    fmt: Fmt = "table",
    today_: TodayOpt = None,
) -> None:
    """One pillar, sector, commitment, note or source in full, with its sources and events."""
    from cmx import detail

    lang, f = lang_of(lang), fmt_of(fmt)
    kb = load()
    wanted = entry_id.strip()
    entry = kb.get(wanted) or kb.get(by_number(kb, wanted) or "")
    if entry is None:
        close = closest(wanted, kb.ids())
        hint = (
            _(" (did you mean '{word}'?)").format(word=close)
            if close
            else _(" (list ids with cmx commitments, cmx sectors …)")
        )
        err(_("cmx: no entry with id '{id}'{hint}").format(id=wanted, hint=hint))
        raise typer.Exit(EXIT_NO_MATCH)
    if f in (OutputFormat.JSON, OutputFormat.YAML):
        record = render.clean(detail.full_record(entry, kb, today(today_)))
        out(render.FORMATS[f](record, render.View(())))
    elif f is OutputFormat.CSV:
        out(
            render.to_csv(
                [render.clean(render.entry_row(entry, kb, lang, today(today_)))], raw=state.raw_csv
            )
        )
    else:
        out_detail(render.clean(detail.card(entry, kb, lang, today(today_))))


def by_number(kb: KnowledgeBase, number: str) -> str | None:
    """The pillar or priority area the plan numbers `number` (III, I.1), if any."""
    entries: list[Pillar | Sector] = [*kb.pillars, *kb.sectors]
    for entry in entries:
        if entry.number and entry.number.lower() == number.lower():
            return entry.id
    return None


def out_detail(card: list[list[str]]) -> None:
    """A label: value card; Rich styles the labels on a terminal."""
    if use_rich():
        from rich.console import Console
        from rich.markup import escape

        console = Console(width=terminal_width())
        for label, value in card:  # soft wrap: the terminal folds long lines, so a URL
            text = f"[bold]{escape(label)}:[/] {escape(value)}" if label else escape(value)
            console.print(text, soft_wrap=True)  # is never cut by an inserted newline
        return
    width = max((len(label) for label, _ in card), default=0)
    for label, value in card:
        out(f"{(label + ':').ljust(width + 1)} {value}\n" if label else f"{value}\n")


def _csl_json(sources: Sequence[Source]) -> str:
    from cmx.cite import to_csl_json

    return render.to_json(to_csl_json(sources))


def _bibtex(sources: Sequence[Source]) -> str:
    from cmx.cite import to_bibtex

    return to_bibtex(sources)


# Citation formats of `cmx sources` (the listing formats come from render.FORMATS).
CITATION_FORMATS = {"csl-json": _csl_json, "bibtex": _bibtex}


@app.command("sources")
def sources_cmd(
    kind: Annotated[
        str | None,
        typer.Option("--kind", help="official, official-reproduced, news or analysis."),
    ] = None,
    lang: Lang = None,
    fmt: Annotated[
        str,
        typer.Option(
            "--format",
            "-f",
            help=f"Output: {', '.join([*render.FORMATS, *CITATION_FORMATS])} (for Zotero, "
            "pandoc and reference managers).",
            show_default=True,
        ),
    ] = "table",
    fields: FieldsOpt = None,
    sort: SortOpt = None,
) -> None:
    """Every source the knowledge base cites, with its kind, date and URL."""
    from cmx.render import source_row

    lang_of(lang)
    chosen_format = choice(fmt, [*render.FORMATS, *CITATION_FORMATS], "--format") or "table"
    cite_as = chosen_format if chosen_format in CITATION_FORMATS else None
    f = OutputFormat.JSON if cite_as else fmt_of(chosen_format)
    kind = code_choice(kind, "source_kind", "--kind")
    kb = load()
    chosen = [s for s in kb.sources if not kind or s.kind.value == kind]
    if cite_as:
        out(render.clean(CITATION_FORMATS[cite_as](chosen)))
        return
    rows = [source_row(s) for s in chosen]
    rich = f is OutputFormat.TABLE and use_rich()  # on a terminal the id links to the URL
    columns = ["id", "kind", "date", "publisher", "title", *([] if rich else ["url"])]
    emit(
        rows,
        f,
        columns,
        codes={"kind": "source_kind"},
        links=[s.url for s in chosen],
        fields=fields,
        sort=sort,
        drop=["kind"] if kind else [],
    )


@app.command("actors")
def actors_cmd(
    actor: Annotated[
        str | None, typer.Argument(metavar="[NAME]", help="Only actors whose name contains NAME.")
    ] = None,
    lang: Lang = None,
    fmt: Fmt = "table",
    fields: FieldsOpt = None,
    sort: SortOpt = None,
) -> None:
    """Governments, agencies, people and organisations the sources name, with acronyms."""
    from cmx.render import actor_row
    from cmx.search import matching_actors

    lang, f = lang_of(lang), fmt_of(fmt)
    kb = load()
    wanted = set(matching_actors(kb, actor)) if actor else None
    rows = [actor_row(a, kb, lang) for a in kb.actors if wanted is None or a.id in wanted]
    columns = ["id", "kind", "acronym", "name", "commitment_count"]
    emit(
        rows,
        f,
        columns,
        empty_hint=_("no actor matched"),
        codes={"kind": "actor_kind"},
        fields=fields,
        sort=sort,
    )


@app.command("tags")
def tags_cmd(lang: Lang = None, fmt: Fmt = "table", sort: SortOpt = None) -> None:
    """Every tag with how many commitments carry it (for --tag)."""
    lang, f = lang_of(lang), fmt_of(fmt)
    kb = load()
    counts: dict[str, int] = {}
    for c in kb.commitments:
        for tag in c.tags:
            counts[tag] = counts.get(tag, 0) + 1
    rows = [{"tag": t, "commitment_count": n} for t, n in sorted(counts.items())]
    emit(rows, f, ["tag", "commitment_count"], sort=sort or "-commitment_count")


@app.command("open")
def open_cmd(
    entry_id: Annotated[str, typer.Argument(metavar="ID", autocompletion=complete_ids)],
) -> None:
    """Open an entry's first source in the web browser (prints the URL when there is none)."""
    import webbrowser

    kb = load()
    wanted = entry_id.strip()
    entry = kb.get(wanted) or kb.get(by_number(kb, wanted) or "")
    if entry is None:
        close = closest(wanted, kb.ids())
        hint = _(" (did you mean '{word}'?)").format(word=close) if close else ""
        err(_("cmx: no entry with id '{id}'{hint}").format(id=wanted, hint=hint))
        raise typer.Exit(EXIT_NO_MATCH)
    url = first_url(kb, entry)
    if not url:
        err(_("cmx: no source of '{id}' has a URL").format(id=wanted))
        raise typer.Exit(EXIT_NO_MATCH)
    out(url + "\n")  # always: a pipe or a headless machine still gets the address
    if use_rich() or os.environ.get("BROWSER"):
        try:
            opened = webbrowser.get().open(url)
        except webbrowser.Error:  # no browser on this machine: the address is printed
            opened = False
        if opened:
            err(_("cmx: opened it in your browser"))


@app.command("notes")
def notes_cmd(
    support: Annotated[
        str | None,
        typer.Option("--support", help="stated, interpretation or not-in-official-text."),
    ] = None,
    lang: Lang = None,
    fmt: Fmt = "table",
    fields: FieldsOpt = None,
    sort: SortOpt = None,
) -> None:
    """Commentary and analysis (never official commitments), with their support level."""
    from cmx.render import note_row

    lang, f = lang_of(lang), fmt_of(fmt)
    support = code_choice(support, "support", "--support")
    kb = load()
    rows = [note_row(n, kb, lang) for n in kb.notes if not support or n.support.value == support]
    emit(
        rows,
        f,
        ["id", "support", "title", "related"],
        empty_hint=_("no note matched"),
        fields=fields,
        sort=sort,
    )


@app.command("validate")
def validate_cmd(lang: Lang = None) -> None:
    """Check the knowledge base: every problem is listed as file:line; exit 2 if any."""
    lang_of(lang)
    state.use_cache = False  # always parse the YAML itself
    kb = load()
    t = tr()
    counts = [
        t.ngettext("{n} pillar", "{n} pillars", len(kb.pillars)),
        t.ngettext("{n} priority area", "{n} priority areas", len(kb.sectors)),
        t.ngettext("{n} commitment", "{n} commitments", len(kb.commitments)),
        t.ngettext("{n} commentary note", "{n} commentary notes", len(kb.notes)),
        t.ngettext("{n} source", "{n} sources", len(kb.sources)),
        t.ngettext("{n} actor", "{n} actors", len(kb.actors)),
    ]
    sizes = [len(kb.pillars), len(kb.sectors), len(kb.commitments)]
    sizes += [len(kb.notes), len(kb.sources), len(kb.actors)]
    listed = ", ".join(c.format(n=n) for c, n in zip(counts, sizes, strict=True))
    err(_("ok: {counts}").format(counts=listed))


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
        fail(_("the query is empty; try e.g. cmx search energy"))
    kinds = [code_choice(kind, "kind", "--kind") or ""] if kind else None
    status = code_choice(status, "status", "--status")
    store = kb_store()
    if pillar is not None or sector is not None:
        kb = store.kb()
        pillar = pillar_scope(kb.pillars, pillar)
        sector = known_entry(sector, kb.sectors, "--sector")
    hits = store.search(text, kinds=kinds, pillar=pillar, sector=sector, status=status, limit=limit)
    plan_wide = plan_wide_sectors(store.pillars())
    rows = render.clean([hit_row(h, lang, explain=explain, plan_wide=plan_wide) for h in hits])
    hint = _("nothing matched")
    if not rows:
        close = store.suggestions(text)
        if close:
            hint += _("; did you mean {words}?").format(
                words=_(" or ").join(repr(c) for c in close)
            )
    confident = any(h.confidence != "low" for h in hits)
    columns = ["kind", "id", "pillar", "title", "snippet", "confidence"]
    if rows and f is OutputFormat.TABLE and use_rich():
        rich_hits(localize(rows, {"kind": "kind"}), hits, core.query_words(text), explain=explain)
    else:
        emit(
            rows,
            f,
            columns + (["why"] if explain else []),
            empty_hint=hint,
            codes={"confidence": "reliability"},
        )
    if rows and not confident:
        err(_("cmx: no confident match found; every hit above is low confidence"))
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
            line = (
                _("No confident match found; the closest entries, low confidence:")
                if n == 1
                else _("No further confident match found; the closest entries, low confidence:")
            )
            console.print(Text(line, style="yellow"))
        where = " / ".join(filter(None, [row["pillar"], row["sector"]]))
        label = ("  [" + _("low confidence") + "]", "yellow") if low else ""
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
    as_of: AsOfOpt = None,
) -> None:
    """Every dated event and deadline in order, marked done, overdue or upcoming."""
    from cmx.tracking import timeline

    lang, f = lang_of(lang), fmt_of(fmt)
    as_of_option(as_of)
    start, end = parse_date(from_, "--from"), parse_date(to, "--to")
    if start and end and start > end:
        bad_value(
            "--from",
            _("'{value}' is after the end of the period ({end})").format(
                value=start.isoformat(), end=end.isoformat()
            ),
        )
    kb = load()
    pillar = pillar_scope(kb.pillars, pillar)
    rows = timeline(kb, today(today_), lang, start=start, end=end, pillar=pillar)
    emit(rows, f, ["date", "mark", "type", "id", "what"], empty_hint=_("no dated entry matched"))


@app.command("changes")
def changes_cmd(
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
    fmt: Annotated[
        str,
        typer.Option(
            "--format", "-f", help="Output: table, json, csv, yaml or markdown.", show_default=True
        ),
    ] = "table",
    today_: TodayOpt = None,
) -> None:
    """What happened in a period: events, status changes and deadlines that fell due,
    grouped by pillar, newest first, with their sources."""
    from cmx.tracking import changes

    lang = lang_of(lang)
    markdown = fmt.strip().lower() in ("markdown", "md")
    f = OutputFormat.TABLE if markdown else fmt_of(fmt)
    day = today(today_)
    end = parse_date(until, "--until") or day
    start = parse_date(since, "--since") or end - dt.timedelta(days=90)
    if start > end:
        bad_value(
            "--since",
            _("'{value}' is after the end of the period ({end})").format(
                value=start.isoformat(), end=end.isoformat()
            ),
        )
    kb = load()
    scope = pillar_scope(kb.pillars, pillar)
    rows = [r for r in changes(kb, start, end, lang) if not scope or r["pillar"] == scope]
    empty_hint = _("nothing recorded from {since} to {until}").format(
        since=start.isoformat(), until=end.isoformat()
    )
    if markdown:
        from cmx.brief import changes_markdown

        out(render.clean(changes_markdown(kb, rows, since=start, until=end, lang=lang)))
        if not rows:
            err(_("cmx: {message}").format(message=empty_hint))
            raise typer.Exit(EXIT_NO_MATCH)
        return
    emit(
        rows,
        f,
        ["date", "pillar", "type", "id", "status", "what"],
        empty_hint=empty_hint,
        codes={"type": "type"},
        drop=["pillar"] if scope else [],
    )


@app.command("stats")
def stats_cmd(
    lang: Lang = None,
    fmt: Fmt = "table",
    today_: TodayOpt = None,
    as_of: AsOfOpt = None,
) -> None:
    """Counts by pillar, status, instrument and source kind."""
    from cmx.tracking import stats

    lang, f = lang_of(lang), fmt_of(fmt)
    as_of_option(as_of)
    data = render.clean(stats(load(), today(today_)))
    if f in (OutputFormat.JSON, OutputFormat.YAML):
        out(render.FORMATS[f](data, render.View(())))
    elif f is OutputFormat.CSV:
        from cmx.tracking import GROUP_CODES, GROUP_TITLES

        t = tr()
        people = state.lang != "en"
        rows = [
            {
                "group": t.gettext(GROUP_TITLES[g]) if people else g,
                "key": t.code(GROUP_CODES[g], k) if people and g in GROUP_CODES else k,
                "count": n,
            }
            for g, counts in data.items()
            if isinstance(counts, dict)
            for k, n in counts.items()
        ]
        headers = {c: t.header(c) for c in ("group", "key", "count")} if people else {}
        out(
            render.write(
                rows,
                f,
                render.View(("group", "key", "count"), raw_csv=state.raw_csv, headers=headers),
            )
        )
    else:
        from cmx.tracking import stats_lines

        lines = stats_lines(data, tr())
        if use_rich():
            from rich.console import Console
            from rich.markup import escape

            console = Console(width=terminal_width())
            for line in lines:
                styled = escape(line)
                console.print(styled.replace("█", "[green]█[/]") if "█" in line else styled)
        else:
            out("".join(f"{line}\n" for line in lines))


class CsvForm:
    """How `cmx export` writes: which table and the spreadsheet conventions (CSV), and
    the summary or the full dossier since when (Markdown)."""

    def __init__(
        self,
        *,
        bom: bool,
        delimiter: str,
        crlf: bool,
        table: str,
        full: bool = False,
        since: dt.date | None = None,
    ) -> None:
        self.bom, self.delimiter, self.crlf, self.table = bom, delimiter, crlf, table
        self.full, self.since = full, since


def export_rows(
    kb: KnowledgeBase, items: list[Commitment], lang: str, table: str, day: dt.date
) -> list[Any]:
    """The rows of one export table: a row per commitment, or per event, source or
    citation of the chosen commitments (what spreadsheets and pandas want)."""
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
        return [render.source_row(s) for sid in cited if (s := kb.source(sid))]
    return [render.commitment_row(c, kb, lang, day) for c in items]


def _export_markdown(
    kb: KnowledgeBase,
    items: list[Commitment],
    lang: str,
    day: dt.date,
    mindmap: bool,
    form: CsvForm,
) -> str:
    from cmx import brief

    if form.full:
        text = brief.to_markdown(kb, items, lang=lang, today=day, mindmap=mindmap)
    else:
        text = brief.summary(kb, items, lang=lang, today=day, since=form.since)
    cleaned: str = render.clean(text)
    return cleaned


def _export_rows(fmt: OutputFormat) -> Any:
    def export(
        kb: KnowledgeBase,
        items: list[Commitment],
        lang: str,
        day: dt.date,
        _m: bool,
        form: CsvForm,
    ) -> str:
        rows = render.clean(export_rows(kb, items, lang, form.table, day))
        columns = list(rows[0]) if rows else []
        if fmt is not OutputFormat.CSV:
            return render.write(rows, fmt, render.View(columns))
        headers: dict[str, str] = {}
        if lang != "en":  # a spreadsheet is for people
            rows = localize(rows, CODE_COLUMNS)
            headers = {c: tr().header(c) for c in columns}
        text = render.to_csv(
            rows,
            columns,
            raw=state.raw_csv,
            headers=headers,
            delimiter=form.delimiter,
            crlf=form.crlf,
        )
        return ("\ufeff" if form.bom else "") + text  # the BOM: Excel then reads UTF-8

    return export


def _export_ics(
    kb: KnowledgeBase, items: list[Commitment], lang: str, _d: dt.date, _m: bool, _f: CsvForm
) -> str:
    from cmx.ics import to_ics

    return to_ics(kb, tr(), commitments=items).decode("utf-8")


# What `cmx export` writes: the listing formats of the format table (but the terminal
# table), the Markdown brief, a calendar and a SQLite database (written by cmx.store).
EXPORTS: dict[str, Any] = {
    "markdown": _export_markdown,
    "ics": _export_ics,
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
    basis: BasisOpt = None,
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
        ),
    ] = "commitments",
    today_: TodayOpt = None,
    as_of: AsOfOpt = None,
) -> None:
    """A paste-ready brief (Markdown, with citations), the data (JSON, CSV, YAML) or a
    SQLite database for Datasette, sqlite-utils or any SQLite client (-o FILE)."""
    from cmx.files import ExportError, write_atomic, write_atomic_with

    kind = choice(what, list(EXPORTS), "WHAT")
    lang = lang_of(lang)
    as_of_option(as_of)
    kb = load()
    chosen = (pillar, sector, status, instrument, actor, source, tag, due_before, overdue)
    items = filtered(kb, today(today_), *chosen, basis=basis)
    if not items:
        err(_("cmx: no commitment matched; nothing exported"))
        raise typer.Exit(EXIT_NO_MATCH)
    to_file = output not in (None, "-")
    chosen_table = choice(table, ["commitments", "events", "sources", "citations"], "--table")
    if len(delimiter) != 1 or delimiter in '"\r\n':
        bad_value("--delimiter", _("'{value}' is not valid").format(value=delimiter))
    csv_form = CsvForm(
        bom=True if excel else (to_file if bom is None else bom),
        delimiter=";" if excel else delimiter,
        crlf=excel,
        table=chosen_table or "commitments",
        full=full,
        since=parse_date(since, "--since"),
    )
    try:
        if kind == "sqlite":
            if not to_file:
                fail(_("a SQLite database is not text; give a file: cmx export sqlite -o plan.db"))
            from cmx.store import export_sqlite

            chosen_kb = KnowledgeBase(kb.pillars, tuple(items), kb.sources, kb.notes, kb.actors)
            write_atomic_with(
                Path(output or ""), lambda tmp: export_sqlite(chosen_kb, tmp), force=force
            )
        else:
            text = EXPORTS[kind or ""](kb, items, lang, today(today_), mindmap, csv_form)
            if not to_file:
                out(text)
                return
            write_atomic(Path(output or ""), text, force=force)
    except ExportError as error:
        fail(_(error.template).format(**error.params))
    n = len(items)
    wrote = tr().ngettext(
        "cmx: wrote {n} commitment to {path}", "cmx: wrote {n} commitments to {path}", n
    )
    err(wrote.format(n=n, path=output))


@app.command("schema")
def schema_cmd() -> None:
    """The JSON Schema (draft 2020-12) of the four knowledge-base files."""
    from cmx.render import to_json
    from cmx.schema import kb_schema

    out(to_json(kb_schema()) + "\n")


# ------------------------------------------------------------------------ entry point

# Every command is registered: hand them to the group, which builds the one a run needs.
_Group.infos, app.registered_commands = tuple(app.registered_commands), []


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
    if len(sys.argv) == 1:  # plain `cmx`: the help, on stdout, exit 0 (so `cmx | less` works)
        sys.argv.append("--help")
    source = os.environ.get("_CMX_COMPLETE", "")
    if source.endswith("_source"):  # Click's convention (`_CMX_COMPLETE=bash_source cmx`)
        from typer._completion_shared import get_completion_script

        shell = source.removesuffix("_source")
        out(get_completion_script(prog_name="cmx", complete_var="_CMX_COMPLETE", shell=shell))
        _exit_now(EXIT_OK)
    if sys.stdout is None:
        err(_("cmx: error: standard output is closed; give cmx somewhere to write (>file, | less)"))
        _exit_now(EXIT_USAGE)
    try:
        app()
    except SystemExit as done:
        _exit_now(done.code)
    except BrokenPipeError:
        _silence_stdout()
        _exit_now(EXIT_OK)
    except KeyboardInterrupt:
        err(_("cmx: interrupted"))
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
    err(_("cmx: internal error: {error}").format(error=f"{type(error).__name__}: {error}"))
    err(_("cmx: this is a bug; run again with --debug for the traceback and report it"))
    _exit_now(EXIT_BUG)


def _output_failed(error: OSError) -> NoReturn:
    _silence_stdout()
    err(_("cmx: error: cannot write the output: {reason}").format(reason=error.strerror or error))
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
            err(
                _("cmx: error: cannot write the output: {reason}").format(
                    reason=error.strerror or error
                )
            )
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
