"""How the command line is declared: the top-level group (subcommands built on demand,
user errors turned into one line and an exit code) and the options commands share,
the filter options among them (gathered into one `Filters`).
"""

import functools
import inspect
import os
import sys
from collections.abc import Callable, Iterator, MutableMapping, Sequence
from typing import Annotated, Any

import typer
from typer._click import Command, Context  # Typer's own Click (typer is pinned: pyproject)
from typer._click.exceptions import (
    BadParameter,
    ClickException,
    MissingParameter,
    NoSuchOption,
)
from typer._click.exceptions import UsageError as ClickUsageError
from typer.core import TyperCommand, TyperGroup
from typer.main import get_command_from_info
from typer.models import CommandInfo

from cmx import completion
from cmx.errors import CmxError, KBError, UsageError, closest
from cmx.filters import Filters
from cmx.i18n import LANGUAGES, Translator, language_from_locale, translator
from cmx.output import Listing, formats
from cmx.run import Run, report

# ------------------------------------------------------------------ help, translated

# Click's own words in a help page (Typer's Click has no catalog), each its own msgid in
# the help catalog: headings that start a line, the usage line's placeholders, and the
# bracketed notes after an option's help.
HEADINGS = ("Usage: ", "Options:", "Commands:", "Arguments:")
USAGE_PIECES = ("[OPTIONS]", "COMMAND [ARGS]...")
NOTES = ("[default: ", "[env var: ", "[required]")
HELP_FRAME = HEADINGS + USAGE_PIECES + NOTES


def help_msgid(text: str) -> str:
    """A help text as the help catalog keys it: a docstring without its indentation."""
    return inspect.cleandoc(text)


def help_texts(command: Command, ctx: Context) -> list[str]:
    """Every help text of `command` and its subcommands (the help catalog's msgids)."""
    found: list[str] = list(HELP_FRAME)
    for cmd in _with_subcommands(command, ctx):
        texts = [cmd.help, cmd.short_help, *(p.help for p in _params(cmd, ctx))]
        found += [help_msgid(x) for x in texts if x]
    return list(dict.fromkeys(found))


def _with_subcommands(command: Command, ctx: Context) -> list[Command]:
    if isinstance(command, TyperGroup):
        subs = [command.get_command(ctx, name) for name in command.list_commands(ctx)]
        return [command, *(c for c in subs if c is not None)]
    return [command]


def _params(command: Command, ctx: Context) -> list[Any]:
    return [p for p in command.get_params(ctx) if hasattr(p, "help")]


def translated_help(command: Command, ctx: Context, english: Callable[[], str]) -> str:
    """`english()` (Click's help page) with every help text, heading and note in the
    reader's language (`--lang` or the environment's). The texts are swapped only while
    the page is written, and put back: the commands stay as they were declared."""
    root = ctx.find_root().command
    lang = getattr(root, "help_language", None) or argv_language(sys.argv[1:])
    t = translator(lang)
    if t.lang == "en":
        return english()
    saved: list[tuple[Any, str, Any]] = []
    for cmd in _with_subcommands(command, ctx):
        for obj, attr in [(cmd, "help"), (cmd, "short_help")] + [
            (p, "help") for p in _params(cmd, ctx)
        ]:
            value = getattr(obj, attr)
            if value:
                saved.append((obj, attr, value))
                setattr(obj, attr, t.help(help_msgid(value)))
    try:
        text = english()
    finally:
        for obj, attr, value in saved:
            setattr(obj, attr, value)
    lines = []
    for line in text.split("\n"):
        stripped = line.lstrip()
        indent = line[: len(line) - len(stripped)]
        for heading in HEADINGS:
            if stripped.startswith(heading):
                line = indent + t.help(heading) + stripped[len(heading) :]
        if stripped.startswith(HEADINGS[0]):  # cmx [OPTIONS] COMMAND [ARGS]...
            for piece in USAGE_PIECES:
                line = line.replace(piece, t.help(piece))
        for note in NOTES:  # a note may wrap after its ":"
            line = line.replace(note.rstrip(), t.help(note).rstrip())
        lines.append(line)
    return "\n".join(lines)


class Subcommand(TyperCommand):
    """A cmx subcommand: its help page in the reader's language."""

    def get_help(self, ctx: Context) -> str:
        return translated_help(self, ctx, lambda: super(Subcommand, self).get_help(ctx))


class _Commands(MutableMapping[str, Command]):
    """The subcommands, each turned into a Click command on first use.

    Click's "lazily loading subcommands" pattern: Typer would otherwise build every
    command from its signature on every run, 15 ms of a start-up budget of ~30 ms
    (bench/startup.py); a run needs one. Help and completion list them all.
    """

    def __init__(self, infos: Sequence[CommandInfo]) -> None:
        self._infos = {info.name: info for info in infos if info.name}
        self._built: dict[str, Command] = {}

    def __getitem__(self, name: str) -> Command:
        command = self._built.get(name)
        if command is None:
            info = self._infos[name]
            if info.cls in (None, TyperCommand):
                info.cls = Subcommand
            command = self._built[name] = get_command_from_info(
                info, pretty_exceptions_short=True, rich_markup_mode=None
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


class Group(TyperGroup):
    """cmx's top-level group: subcommands built on demand (`_Commands`), and the one
    place a user's error becomes a message and an exit code (no traceback)."""

    infos: tuple[CommandInfo, ...] = ()  # set once, below the last command

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.commands = _Commands(self.infos)
        self.help_language: str | None = None  # this run's, for help pages (main)

    def get_help(self, ctx: Context) -> str:
        return translated_help(self, ctx, lambda: super(Group, self).get_help(ctx))

    def invoke(self, ctx: Context) -> Any:
        try:
            return super().invoke(ctx)
        except (CmxError, KBError) as error:
            run = ctx.obj if isinstance(ctx.obj, Run) else Run()
            raise typer.Exit(report(error, run.t)) from None

    def resolve_command(self, ctx: Context, args: list[str]) -> Any:
        name = args[0] if args else ""
        unknown = name and not name.startswith("-") and self.get_command(ctx, name) is None
        if unknown and not ctx.resilient_parsing:
            raise UnknownCommand(name, list(self.commands), ctx=ctx)
        return super().resolve_command(ctx, args)

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **extra: Any,
    ) -> Any:
        """Click's main, with its usage errors said the cmx way: one line in the reader's
        language, with "did you mean" (Click would print English and a usage block)."""
        argv = list(sys.argv[1:] if args is None else args)
        self.help_language = argv_language(argv)
        standalone = standalone_mode
        try:
            rv = super().main(argv, prog_name, complete_var, False, windows_expand_args, **extra)
        except ClickUsageError as error:
            t = translator(argv_language(argv))
            code = report(UsageError(usage_message(error, t)), t)
            if standalone:
                sys.exit(code)
            raise
        except ClickException as error:
            if not standalone:
                raise
            error.show()
            sys.exit(error.exit_code)
        except typer.Abort:
            if not standalone:
                raise
            sys.exit(1)
        if not standalone:
            return rv
        sys.exit(rv if isinstance(rv, int) else 0)


# Options of cmx itself, written before the command (`--lang` is also every command's).
GLOBAL_OPTIONS = frozenset(
    {"--data", "--today", "--no-cache", "--debug", "--raw-csv", "--color", "--quiet", "-q"}
)


class UnknownCommand(ClickUsageError):
    """A subcommand cmx does not have (Click's own says it in English only)."""

    def __init__(self, name: str, known: list[str], ctx: Context | None = None) -> None:
        super().__init__(f"No such command {name!r}.", ctx)
        self.name, self.known = name, known


def argv_language(argv: Sequence[str]) -> str:
    """The language a command line asks for (--lang X anywhere in it), else the
    environment's: for messages written before the options are parsed."""
    for n, arg in enumerate(argv):
        value = None
        if arg in ("--lang", "-l") and n + 1 < len(argv):
            value = argv[n + 1]
        elif arg.startswith("--lang="):
            value = arg.split("=", 1)[1]
        if value and value.strip().lower() in LANGUAGES:
            return value.strip().lower()
    env = os.environ.get("CMX_LANG", "").strip().lower()
    return env if env in LANGUAGES else (language_from_locale() or "en")


def usage_message(error: ClickUsageError, t: Translator) -> str:
    """A Click usage error in the reader's language, with "did you mean" and where to
    look for the right spelling."""
    if isinstance(error, UnknownCommand):
        message = t.gettext("no such command '{name}'").format(name=error.name)
        close = closest(error.name, error.known)
        hint = t.gettext("; list them with: cmx --help")
    elif isinstance(error, NoSuchOption) and error.option_name in GLOBAL_OPTIONS:
        message = t.gettext("{name} goes before the command: cmx {name} … COMMAND").format(
            name=error.option_name
        )
        close, hint = None, ""
    elif isinstance(error, NoSuchOption):
        message = t.gettext("no such option: {name}").format(name=error.option_name)
        close = closest(error.option_name, list(error.possibilities or ()))
        hint = ""
    elif isinstance(error, MissingParameter) and error.param is not None:
        param = error.param
        if param.param_type_name == "argument":
            shown = param.metavar or (param.name or "").upper()
            message = t.gettext("missing argument {name}").format(name=shown)
        else:
            message = t.gettext("missing option {name}").format(name=param.opts[0])
        close, hint = None, ""
    elif isinstance(error, BadParameter) and error.param is not None:
        name = error.param.opts[0] if error.param.opts else (error.param.name or "")
        message = t.gettext("invalid value for {name}: {reason}").format(
            name=name, reason=error.message.rstrip(".")
        )
        close, hint = None, ""
    else:
        message, close, hint = error.message.rstrip("."), None, ""
    if close:
        message += t.gettext(" (did you mean '{word}'?)").format(word=close)
    return message + hint


def fmt_help(kind: type) -> str:
    return f"Output: {', '.join(formats(kind))}."


# ------------------------------------------------------------------------ options

Lang = Annotated[
    str | None,
    typer.Option(
        "--lang",
        "-l",
        help="Language: en, es or fr (default: cmx --lang, CMX_LANG, LANG, else en).",
        autocompletion=completion.fixed(*LANGUAGES),
    ),
]


def fmt_option(kind: type) -> Any:
    return typer.Option(
        "--format",
        "-f",
        help=fmt_help(kind),
        show_default=True,
        autocompletion=completion.fixed(*formats(kind)),
    )


ListFmt = Annotated[str, fmt_option(Listing)]
PillarOpt = Annotated[
    str | None,
    typer.Option(
        "--pillar",
        "-p",
        help="Pillar: id, number or name in any language (security, III, seguridad), or plan-wide.",
        autocompletion=completion.pillars,
    ),
]
SectorOpt = Annotated[
    str | None,
    typer.Option(
        "--sector",
        "-s",
        help="Priority area: id, number (I.1) or name (see cmx sectors).",
        autocompletion=completion.sectors,
    ),
]
StatusOpt = Annotated[
    str | None,
    typer.Option(
        "--status",
        help="planned, underway, completed or not-pursued (or as they read in es/fr).",
        autocompletion=completion.codes("status"),
    ),
]
TodayOpt = Annotated[
    str | None,
    typer.Option(
        "--today", metavar="DATE", help="Date to treat as today (YYYY-MM-DD; also CMX_TODAY)."
    ),
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

# The filters of every command that selects commitments, gathered into one `Filters`.
FILTER_OPTIONS: dict[str, Any] = {
    "pillar": PillarOpt,
    "sector": SectorOpt,
    "status": StatusOpt,
    "instrument": Annotated[
        str | None,
        typer.Option(
            "--instrument",
            help="dialogue, mou, working-group, funding, mission, meeting, program, "
            "agreement, other.",
            autocompletion=completion.codes("instrument"),
        ),
    ],
    "actor": Annotated[
        str | None,
        typer.Option(
            "--actor",
            help="Actor: any name or acronym, any language (GRC, RCMP, CONANP).",
            autocompletion=completion.actors,
        ),
    ],
    "source": Annotated[
        str | None,
        typer.Option(
            "--source", help="Source id (see cmx sources).", autocompletion=completion.sources
        ),
    ],
    "tag": Annotated[
        str | None,
        typer.Option(
            "--tag", help="Tag, e.g. fentanyl (see cmx tags).", autocompletion=completion.tags
        ),
    ],
    "due_before": Annotated[
        str | None,
        typer.Option(
            "--due-before", metavar="DATE", help="Only entries due before DATE (YYYY-MM-DD)."
        ),
    ],
    "overdue": Annotated[
        bool, typer.Option("--overdue", help="Only entries past their due date and not completed.")
    ],
    "basis": Annotated[
        str | None,
        typer.Option(
            "--basis",
            help="Best kind of source behind it: official, news or analysis.",
            autocompletion=completion.codes("basis"),
        ),
    ],
}


def with_filters(command: Callable[..., None]) -> Callable[..., None]:
    """Give a command the filter options, passed to it as one keyword `filters`."""
    signature = inspect.signature(command)
    own = [p for p in signature.parameters.values() if p.name != "filters"]
    added = [
        inspect.Parameter(
            name,
            inspect.Parameter.KEYWORD_ONLY,
            default=False if name == "overdue" else None,
            annotation=annotation,
        )
        for name, annotation in FILTER_OPTIONS.items()
    ]

    @functools.wraps(command)
    def wrapper(**kwargs: Any) -> None:
        chosen = {name: kwargs.pop(name) for name in FILTER_OPTIONS}
        command(filters=Filters(**chosen), **kwargs)

    wrapper.__signature__ = signature.replace(parameters=[*own, *added])  # type: ignore[attr-defined]
    wrapper.__annotations__ = {
        **{k: v for k, v in command.__annotations__.items() if k != "filters"},
        **FILTER_OPTIONS,
    }
    return wrapper
