"""One invocation of cmx: its settings, its reader and its store, and how a user's
error is said. Built by the app callback and kept in Click's context object (never in
a module global), so every command asks its own run for what it needs.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from cmx.errors import EXIT_USAGE, CmxError, KBError, UsageError
from cmx.filters import choice, parse_date
from cmx.i18n import LANGUAGES, Translator, language_from_locale, translator
from cmx.kbfiles import default_data_dir
from cmx.model import KnowledgeBase, date_bounds
from cmx.output import Reader, from_environment, say, working
from cmx.store import Store, open_store

STALE_DAYS = 90  # a knowledge base whose newest dated fact is older than this gets a note
WINDOW_DAYS = 90  # `changes` and the summary's "what changed": the default period


def env_on(name: str) -> bool:
    """An on/off environment variable: unset, empty, 0, false, no and off mean off."""
    return os.environ.get(name, "").strip().lower() not in ("", "0", "false", "no", "off")


def days_before(day: dt.date, days: int) -> dt.date:
    """`day` minus `days`, clamped at the calendar's first day."""
    return day - dt.timedelta(days=min(days, (day - dt.date.min).days))


# ------------------------------------------------------------------------ the run


class Run:
    """What the app callback parsed for this one invocation (Click's `ctx.obj`): where
    the knowledge base is and how to read it, and the reader's defaults. Commands ask it
    for their `Reader` (with their own --lang, --today, --as-of) and for the store."""

    def __init__(
        self,
        *,
        data_dir: Path | None = None,
        use_cache: bool = True,
        quiet: bool = False,
        lang: str = "en",
        today: dt.date | None = None,
        raw_csv: bool = False,
        color: str = "auto",
    ) -> None:
        self.color = color
        self.data_dir = data_dir
        self.use_cache = use_cache
        self.quiet = quiet
        self.lang = lang  # messages are in it; a command's --lang changes it
        self.today = today
        self.raw_csv = raw_csv
        self.as_of: dt.date | None = None
        self._store: Store | None = None

    @property
    def t(self) -> Translator:
        return translator(self.lang)

    def reader(
        self, lang: str | None = None, today: str | None = None, as_of: str | None = None
    ) -> Reader:
        """The reader of this command: --lang given to it, else cmx's; --today given to
        it, else to cmx, else the --as-of date, else CMX_TODAY, else the real date."""
        if lang is not None:
            self.lang = choice(self.t, lang, LANGUAGES, "--lang") or "en"
        t = self.t
        self.as_of = parse_date(t, as_of, "--as-of")
        day = (
            parse_date(t, today, "--today")
            or self.today
            or self.as_of
            or env_date(t, "CMX_TODAY")
            or dt.date.today()
        )
        self.today = day
        return from_environment(self.lang, day, raw_csv=self.raw_csv, color=self.color)

    def store(self, reader: Reader) -> Store:
        """The knowledge base's store, opened once per run (an invalid KB: KBError)."""
        if self._store is None:
            with working(reader.t.gettext("cmx: reading the knowledge base…")):
                # a first load (the YAML parsed, the store built) happens here, under the
                # sign of life
                store = open_store(self.data_dir or default_data_dir(), use_cache=self.use_cache)
            self._store = store
            self._freshness_note(self._store, reader)
        return self._store

    def kb(self, reader: Reader) -> KnowledgeBase:
        """The knowledge base, as it stood on the --as-of date when one is given."""
        kb = self.store(reader).kb()
        if self.as_of is None:
            return kb
        from cmx.tracking import as_of

        return as_of(kb, self.as_of)

    def _freshness_note(self, store: Store, reader: Reader) -> None:
        """Say once on stderr when the newest dated source or event is more than
        STALE_DAYS before today (--quiet or CMX_QUIET=1: silent)."""
        if self.quiet or env_on("CMX_QUIET"):
            return
        newest = store.newest_date()
        if newest is None:
            return
        day = reader.today
        days = (day - min(date_bounds(newest)[1], day)).days
        if days > STALE_DAYS:
            note = reader.t.ngettext(
                "cmx: note: newest source: {date}, {n} day ago "
                "(cmx --quiet … or CMX_QUIET=1 hides this note)",
                "cmx: note: newest source: {date}, {n} days ago "
                "(cmx --quiet … or CMX_QUIET=1 hides this note)",
                days,
            )
            say(note.format(date=newest, n=days))  # ISO: prose dates need Babel (~30 ms)


def env_date(t: Translator, name: str) -> dt.date | None:
    """A date from the environment; a bad one is blamed on the variable, not an option."""
    value = os.environ.get(name, "").strip()
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise UsageError(
            t.gettext(
                "{name}={value} is not a date; write YYYY-MM-DD, e.g. 2026-03-31, or unset it"
            ).format(name=name, value=repr(value))
        ) from None


def default_language(t: Translator, option: str | None) -> str:
    """--lang before the command, else CMX_LANG (named when wrong), else LC_ALL /
    LC_MESSAGES / LANG (es_MX.UTF-8 -> es), else English."""
    if option is not None:
        return choice(t, option, LANGUAGES, "--lang") or "en"
    env = os.environ.get("CMX_LANG", "").strip()
    if env:
        if env.lower() not in LANGUAGES:
            raise UsageError(
                t.gettext("CMX_LANG={value} is not a language cmx speaks; use one of {choices}")
                .format(value=repr(env), choices=", ".join(LANGUAGES))
            )  # fmt: skip
        return env.lower()
    return language_from_locale() or "en"


def report(error: Exception, t: Translator) -> int:
    """Say what went wrong on stderr, one line per problem; the exit code to use."""
    if isinstance(error, KBError):
        for problem in error.problems:
            say(t.gettext("cmx: error: {message}").format(message=problem))
        n = len(error.problems)
        say(
            t.ngettext(
                "cmx: the knowledge base has {n} problem; fix it and retry",
                "cmx: the knowledge base has {n} problems; fix them and retry",
                n,
            ).format(n=n)
        )
        return EXIT_USAGE
    assert isinstance(error, CmxError)
    template = "cmx: error: {message}" if error.prefix else "cmx: {message}"
    say(t.gettext(template).format(message=str(error)))
    return error.code
