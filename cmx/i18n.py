"""The one place that knows languages: gettext catalogs and Babel formatting.

Every string a person reads goes through a `Translator`: interface text (`_`), codes as
displayed (`code("status", "planned")`), table headers, and numbers, amounts and dates
in the reader's locale (Babel, CLDR data; imported only when a number or date is
formatted). The catalogs are `cmx/locale/<lang>/LC_MESSAGES/cmx.po`, compiled to `.mo`
and shipped in the package; English is the source language. Adding a language is one
catalog plus one row in LANGUAGE_TABLE.

Machine formats (JSON, YAML) never come here: their keys and codes stay English.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

LOCALE_DIR = Path(__file__).parent / "locale"
HELP_DOMAIN = "help"  # help pages: their own catalog, from cmx.options.help_texts
DOMAIN = "cmx"


class Language:
    """What cmx needs to know of one language: a row of LANGUAGE_TABLE. (A plain class:
    a NamedTuple costs ~0.3 ms to define, on every run.)"""

    __slots__ = ("langid", "locale", "stemmer", "stopwords")

    def __init__(self, locale: str, stemmer: str, langid: str, stopwords: frozenset[str]):
        self.locale = locale  # numbers, amounts and dates (Babel, CLDR): the readers' locales
        self.stemmer = stemmer  # the Snowball stemmer of words in this language (PyStemmer)
        self.langid = langid  # the language as BibTeX/biblatex names it (a source's `langid`)
        # Question and filler words, folded: never scored in a search, so that "what was
        # agreed on money laundering" is a query about money laundering.
        self.stopwords = stopwords


# The interface languages: a new one is its catalog (locale/<lang>/LC_MESSAGES/cmx.po)
# plus one row here. The knowledge base's own languages are cmx.model.LANGS; text a
# knowledge base lacks in the reader's language is shown in English.
LANGUAGE_TABLE: dict[str, Language] = {
    "en": Language(
        "en_CA",
        "english",
        "english",
        frozenset(
            """
            a about an and any are as at be been being by can could did do does done for from
            had has have how i in into is it its of on or our over the their there these they
            this those to was we were what when where which who whom whose why will with would
            agreed happened happening planned plan's say said tell me us
            doing anything something nothing everything whats what's regarding concerning
            going get got give show find know need want look looking some much many more
            most very just also still yet so than then now ever if not no all each other
            such only too should shall may might must am my you your he she his her them
            up out across against between through during before after under again here
            while whether please being agree anyone someone latest
            """.split()
        ),
    ),
    "es": Language(
        "es_MX",
        "spanish",
        "spanish",
        frozenset(
            """
            a al algo como con cual cuales cuando de del donde el ella ellos en entre es esta
            estan este esto fue han hay la las le les lo los mas o para paso pasa pero por que
            quien quienes se sea ser si sobre son su sus un una uno unos y ya acordo acordaron
            hace hizo hacen hacer hecho hay algun alguna alguno algunos algunas nada contra
            acerca respecto tiene tienen va van ha he sido era eran sera seran puede pueden
            me mi mis nos nuestro nuestra tu usted ustedes e ni u muy tambien aun todo todos
            toda todas otro otra otros otras cada mismo sin hacia hasta desde durante tras
            mediante segun acordado acordada ocurre sucede dice dijo quiero saber busco eso
            ese esa esos esas estos estas estara estaran unas
            """.split()
        ),
    ),
    "fr": Language(
        "fr_CA",
        "french",
        "french",
        frozenset(
            """
            a au aux avec c ce ces cet cette comment d dans de des du elle en est et il ils l la
            le les leur lui ou par pour prevoit prevu qu quand que quel quelle quelles quels qui
            quoi s se sont sur un une y questce qu'est quest t eu lieu
            fait font faire fais estce atil ya quelque chose quelquechose rien contre
            concernant propos ete convenu convenus convenue entre ne n pas plus tout tous
            toute toutes autre autres mon ma mes nous vous on je j me m te son sa ses leurs
            ont avoir sera seront etre etait va vont peut peuvent dont donc mais aussi ici
            depuis pendant avant apres vers chez selon sous sans passe til matiere egard
            """.split()
        ),
    ),
}
LOCALES = {lang: row.locale for lang, row in LANGUAGE_TABLE.items()}
LANGUAGES: tuple[str, ...] = tuple(LANGUAGE_TABLE)


def N_(message: str) -> str:
    """Marks a message for the catalog without translating it here."""
    return message


def C_(context: str, message: str) -> str:
    """Marks a message with a context (pgettext) for the catalog."""
    return message


# How codes read in English (the catalog's source text); a code not listed reads as it is.
# Each is translated with its kind as context, so "other" the instrument and "other"
# the actor kind can differ in a language.
CODES: dict[str, dict[str, str]] = {
    "status": {
        "planned": C_("status", "planned"),
        "underway": C_("status", "underway"),
        "completed": C_("status", "completed"),
        "not-pursued": C_("status", "not pursued"),
    },
    "instrument": {
        "dialogue": C_("instrument", "dialogue"),
        "mou": C_("instrument", "MoU"),
        "working-group": C_("instrument", "working group"),
        "funding": C_("instrument", "funding"),
        "mission": C_("instrument", "mission"),
        "meeting": C_("instrument", "meeting"),
        "program": C_("instrument", "program"),
        "agreement": C_("instrument", "agreement"),
        "other": C_("instrument", "other"),
    },
    "basis": {
        "official": C_("basis", "official"),
        "news": C_("basis", "news"),
        "analysis": C_("basis", "analysis"),
    },
    "source_kind": {
        "official": C_("source_kind", "official"),
        "official-reproduced": C_("source_kind", "official (reproduced)"),
        "news": C_("source_kind", "news"),
        "analysis": C_("source_kind", "analysis"),
    },
    "support": {
        "stated": C_("support", "stated"),
        "interpretation": C_("support", "interpretation"),
        "not-in-official-text": C_("support", "not in an official text"),
    },
    "reliability": {
        "high": C_("reliability", "high"),
        "medium": C_("reliability", "medium"),
        "low": C_("reliability", "low"),
    },
    "stage": {
        "announced": C_("stage", "announced"),
        "committed": C_("stage", "committed"),
        "disbursed": C_("stage", "disbursed"),
    },
    "kind": {
        "pillar": C_("kind", "pillar"),
        "sector": C_("kind", "priority area"),
        "commitment": C_("kind", "commitment"),
        "note": C_("kind", "commentary"),
        "source": C_("kind", "source"),
        "actor": C_("kind", "actor"),
    },
    "actor_kind": {
        "government": C_("actor_kind", "government"),
        "agency": C_("actor_kind", "agency"),
        "person": C_("actor_kind", "person"),
        "international": C_("actor_kind", "international body"),
        "other": C_("actor_kind", "other"),
    },
    "mark": {
        "done": C_("mark", "done"),
        "overdue": C_("mark", "overdue"),
        "upcoming": C_("mark", "upcoming"),
        "dropped": C_("mark", "dropped"),
    },
    "type": {
        "event": C_("type", "event"),
        "deadline": C_("type", "deadline"),
        "status": C_("type", "status change"),
    },
    "bool": {"yes": C_("bool", "yes"), "no": C_("bool", "no")},
    "scope": {  # a pillar column, for people: short names (JSON keeps the ids)
        "prosperity": C_("scope", "prosperity"),
        "mobility": C_("scope", "mobility"),
        "security": C_("scope", "security"),
        "environment": C_("scope", "environment"),
        "plan-wide": C_("scope", "plan-wide"),
    },
}

# Table and CSV headers, by column key (the key itself is the JSON name).
HEADERS: dict[str, str] = {
    "id": N_("ID"),
    "number": N_("No."),
    "name": N_("Name"),
    "title": N_("Title"),
    "pillar": N_("Pillar"),
    "sector": N_("Priority area"),
    "status": N_("Status"),
    "due": N_("Due"),
    "overdue": N_("Overdue"),
    "kind": N_("Kind"),
    "date": N_("Date"),
    "mark": N_("Mark"),
    "type": N_("Type"),
    "what": N_("What"),
    "snippet": N_("Excerpt"),
    "summary": N_("Summary"),
    "publisher": N_("Publisher"),
    "url": N_("URL"),
    "support": N_("Support"),
    "related": N_("Related"),
    "claim": N_("Claim"),
    "acronym": N_("Acronym"),
    "aliases": N_("Also called"),
    "actors": N_("Actors"),
    "instrument": N_("Instrument"),
    "amount": N_("Amount"),
    "events": N_("Events"),
    "sources": N_("Sources"),
    "tags": N_("Tags"),
    "basis": N_("Basis"),
    "score": N_("Score"),
    "source": N_("Source"),
    "section": N_("Section"),
    "language": N_("Language"),
    "reliability": N_("Reliability"),
    "note": N_("Note"),
    "official": N_("Official"),
    "sectors": N_("Priority areas"),
    "sector_count": N_("Priority areas"),
    "commitment_count": N_("Commitments"),
    "reviewed": N_("Reviewed"),
    "group": N_("Group"),
    "key": N_("Value"),
    "count": N_("Count"),
    "tag": N_("Tag"),
    "label": N_("Tag"),
    "confidence": N_("Confidence"),
    "why": N_("Why it matched"),
    "commitment": N_("Commitment"),
}

# Which row columns hold codes, and the kind of code each holds.
CODE_COLUMNS: dict[str, str] = {
    "status": "status",
    "instrument": "instrument",
    "basis": "basis",
    "support": "support",
    "reliability": "reliability",
    "mark": "mark",
    "type": "type",
    "pillar": "scope",
}


# Accented Latin letters and the punctuation and spaces of en/es/fr text, each with its
# folded form (what `fold` gives it: tests/test_i18n.py checks every one against
# unicodedata). Text of these and ASCII is folded here, each distinct character replaced
# once (in C): faster than unicodedata at any length, and most runs that fold a word or
# a name with accents no longer load it (~1.5 ms).
_FOLD_FROM = (
    "\xa0¡¢£¤¥¦§¨©ª«¬\xad®¯°±²³´µ¶·¸¹º»¿ÀÁÂÃÄÅÆÇÈÉÊËÌÍÎÏÐÑÒÓÔÕÖ×ØÙÚÛÜÝÞàáâãäåæçèéêëìíîïðñòóôõö"
    "÷øùúûüýþÿĀāĂăĄąĆćĈĉĊċČčĎďĐđĒēĔĕĖėĘęĚěĜĝĞğĠġĢģĤĥĦħĨĩĪīĬĭĮįİıĴĵĶķĸĹĺĻļĽľŁłŃńŅņŇňŊŋŌōŎŏŐőŒœ"
    "ŔŕŖŗŘřŚśŜŝŞşŠšŢţŤťŦŧŨũŪūŬŭŮůŰűŲųŴŵŶŷŸŹźŻżŽžſ‘’‚“”„–—―•′‹›€\u2009\u200a\u202f\u2007\u2002"
    "\u2003"
)
_FOLD_TO = (
    " ¡¢£¤¥¦§ ©a«¬\xad® °±23 μ¶· 1o»¿aaaaaaæceeeeiiiiðnooooo×øuuuuyþaaaaaaæceeeeiiiiðnooooo"
    "÷øuuuuyþyaaaaaaccccccccddđđeeeeeeeeeegggggggghhħħiiiiiiiiiıjjkkĸllllllłłnnnnnnŋŋooooooœœ"
    "rrrrrrssssssssttttŧŧuuuuuuuuuuuuwwyyyzzzzzzs‘’‚“”„–—―•′‹›€      "
)
_FOLD_MORE = {"¼": "1⁄4", "½": "1⁄2", "¾": "3⁄4", "ß": "ss", "Ĳ": "ij", "ĳ": "ij", "Ŀ": "l·"}
_FOLD_MORE |= {"ŀ": "l·", "ŉ": "ʼn", "…": "..."}
_FOLD_TABLE: dict[int, str] = {
    **{ord(a): b for a, b in zip(_FOLD_FROM, _FOLD_TO, strict=True)},
    **{ord(a): b for a, b in _FOLD_MORE.items()},
}
_ASCII = frozenset(map(chr, range(128)))
_FOLD_KNOWN = _ASCII.union(_FOLD_FROM, _FOLD_MORE)


def fold(text: str) -> str:
    """Lowercase, accent-free text, as names and words are matched: 'Énergie' -> 'energie'."""
    if text.isascii():
        return text.lower()
    chars = set(text)
    if _FOLD_KNOWN.issuperset(chars):
        for ch in chars.difference(_ASCII):  # what a character folds to folds to itself
            text = text.replace(ch, _FOLD_TABLE[ord(ch)])
        return text.lower()
    import unicodedata

    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return _combining_marks().sub("", decomposed)


@functools.cache
def _combining_marks() -> re.Pattern[str]:
    return re.compile(r"[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")


def language_from_locale(environ: Mapping[str, str] | None = None) -> str | None:
    """The language of the POSIX locale (LC_ALL, LC_MESSAGES, LANG), if cmx speaks it:
    `es_MX.UTF-8` -> es, `fr_CA` -> fr; C, POSIX and unknown languages -> None."""
    env = os.environ if environ is None else environ
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(name, "")
        if value:
            lang = value.split(".")[0].split("@")[0].split("_")[0].lower()
            return lang if lang in LOCALES else None
    return None


class Translator:
    """Interface text, codes, headers, numbers and dates in one language."""

    def __init__(self, lang: str) -> None:
        self.lang = lang if lang in LOCALES else "en"
        self.locale = LOCALES[self.lang]
        self._catalog: Any = None  # English is the source text: no catalog to read
        self._help: Any = None  # the help pages' catalog, read when a help page is written
        if self.lang != "en":
            import gettext  # ~6 ms: only when a catalog is read

            self._catalog = gettext.translation(
                DOMAIN, LOCALE_DIR, languages=[self.lang], fallback=True
            )

    def gettext(self, message: str) -> str:
        return message if self._catalog is None else str(self._catalog.gettext(message))

    __call__ = gettext

    def help(self, message: str) -> str:
        """A help text (a command's or an option's) in this language: the `help`
        catalog, kept apart from the interface's (docs/languages.md)."""
        if self.lang == "en":
            return message
        if self._help is None:
            import gettext

            self._help = gettext.translation(
                HELP_DOMAIN, LOCALE_DIR, languages=[self.lang], fallback=True
            )
        return str(self._help.gettext(message))

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        if self._catalog is None:
            return singular if n == 1 else plural
        return str(self._catalog.ngettext(singular, plural, n))

    def pgettext(self, context: str, message: str) -> str:
        if self._catalog is None:
            return message
        return str(self._catalog.pgettext(context, message))

    def colon(self) -> str:
        """The colon as the language writes it after a label: ":" or, in French, " :"."""
        return self.gettext("{label}: {value}").format(label="", value="").rstrip()

    def code(self, kind: str, value: str) -> str:
        """A code as the reader sees it: `code("status", "underway")` -> "en curso"."""
        english = CODES.get(kind, {}).get(value)
        return self.pgettext(kind, english) if english else value

    def header(self, column: str) -> str:
        english = HEADERS.get(column)
        return self.gettext(english) if english else column

    def codes(self, kind: str) -> dict[str, str]:
        """Every code of a kind and how it reads: for choices and "did you mean"."""
        return {value: self.code(kind, value) for value in CODES.get(kind, {})}

    # -------------------------------------------------------------- numbers, dates

    def number(self, value: float) -> str:
        from babel.numbers import format_decimal

        return str(format_decimal(value, locale=self.locale))

    def amount(self, value: float, currency: str) -> str:
        """An amount in the reader's locale, no cents: `5 500 000 $ CA`, `CAD 4,400,000`.

        A bare "$" would not tell Canadian, US and Mexican dollars apart in a bilateral
        text, so it is written with the country, as each language does it."""
        from babel.numbers import Locale as BabelLocale  # type: ignore[attr-defined]
        from babel.numbers import format_currency, get_currency_symbol

        symbol = get_currency_symbol(currency, locale=self.locale)
        if symbol == "$":
            symbol = {"fr": f"$\u00a0{currency[:2]}", "en": f"{currency[:2]}$"}.get(
                self.lang, currency
            )
        pattern = BabelLocale.parse(self.locale).currency_formats["standard"].pattern
        pattern = pattern.split(";")[0].replace(".00", "").replace("¤", "'\uffff'")
        text = str(
            format_currency(
                value, currency, format=pattern, locale=self.locale, currency_digits=False
            )
        )
        text = text.replace("\uffff", symbol)
        if symbol[-1:].isalpha() and symbol in text and text.index(symbol) == 0:
            text = text.replace(symbol, symbol + "\u00a0", 1).replace("\u00a0\u00a0", "\u00a0")
        return text

    def compact(self, value: float) -> str:
        """A large number in words: `9.9 millones`, `9,9 millions`, `9.9 million`."""
        from babel.numbers import format_compact_decimal

        return str(
            format_compact_decimal(value, format_type="long", locale=self.locale, fraction_digits=1)
        )

    def date(self, iso: str) -> str:
        """A date in prose: `22 de noviembre de 2026`; partial dates stay partial.

        Written from the locale's patterns as Babel gives them (kept in the cache folder:
        `_date_patterns`), else by Babel itself."""
        import datetime as dt

        parts = iso.split("-")
        if len(parts) not in (2, 3):
            return iso
        day = dt.date(int(parts[0]), int(parts[1]), int(parts[2]) if len(parts) == 3 else 1)
        patterns = _date_patterns(self.locale)
        if patterns is None:
            text = _babel_date(self.locale, day, whole=len(parts) == 3)
        else:
            text = patterns.write(day, whole=len(parts) == 3)
        if len(parts) == 3 and self.lang == "fr" and parts[2] == "01":  # the 1st: "1er"
            text = "1er" + text[1:] if text.startswith("1 ") else text
        return text

    def day(self, value: object) -> str:
        import datetime as dt

        assert isinstance(value, dt.date)
        return self.date(value.isoformat())


# ------------------------------------------------------------------ dates, kept
# Babel reads a locale's CLDR data on its first date (~25 ms, more than the rest of a
# card). A date needs only the locale's long pattern, its year-month pattern and its month
# names: those are asked of Babel once per Babel installation and kept in the cache folder
# (places.cache_dir), and only if writing them here gives Babel's own text for every
# month (checked when they are kept); else every date is Babel's.

DATES_FILE = "dates.json"
_DATES_VERSION = 1  # of what the file holds: a change here makes every run ask Babel again


class DatePatterns:
    """How a locale writes dates (plain, as Language is)."""

    __slots__ = ("long", "month", "months")

    def __init__(self, long: str, month: str, months: tuple[str, ...]) -> None:
        self.long = long  # a whole date: "d 'de' MMMM 'de' y"
        self.month = month  # a year and month: "MMMM 'de' y"
        self.months = months  # January to December, as a date writes them

    def write(self, day: Any, *, whole: bool) -> str:
        text = _write_pattern(self.long if whole else self.month, day, self.months)
        assert text is not None  # kept only when every piece is one written here
        return text


def _write_pattern(pattern: str, day: Any, months: Sequence[str]) -> str | None:
    """`day` written by an LDML date pattern of days (d, dd), months (M, MM, MMMM),
    years (y, yyyy) and quoted text; None for any other field."""
    out: list[str] = []
    for piece in re.finditer(r"''|'(?:[^']|'')*'|([A-Za-z])\1*|[^A-Za-z']+", pattern):
        text, letter, n = piece.group(0), piece.group(1), len(piece.group(0))
        if text == "''":
            out.append("'")
        elif text.startswith("'"):
            out.append(text[1:-1].replace("''", "'"))
        elif letter is None:
            out.append(text)
        elif letter == "d" and n <= 2:
            out.append(f"{day.day:0{n}d}")
        elif letter == "M" and n == 4:
            out.append(months[day.month - 1])
        elif letter == "M" and n <= 2:
            out.append(f"{day.month:0{n}d}")
        elif letter == "y" and n != 2:
            out.append(f"{day.year:0{n}d}")
        else:
            return None
    return "".join(out)


def _babel_date(locale: str, day: Any, *, whole: bool) -> str:
    from babel.dates import format_date, format_skeleton

    if whole:
        return str(format_date(day, "long", locale=locale))
    return str(format_skeleton("yMMMM", day, locale=locale))


def _babel_patterns(locale: str) -> DatePatterns | None:
    """The patterns Babel writes dates of `locale` with, if they give Babel's text."""
    import datetime as dt

    from babel import Locale
    from babel.dates import get_date_format, get_month_names

    data = Locale.parse(locale)
    month = data.datetime_skeletons.get("yMMMM")
    names = get_month_names("wide", "format", locale)
    found = DatePatterns(
        get_date_format("long", locale=locale).pattern,
        getattr(month, "pattern", ""),
        tuple(str(names[n]) for n in range(1, 13)),
    )
    for number in range(1, 13):
        for day in (dt.date(2026, number, 1), dt.date(1999, number, 28)):
            for whole in (True, False):
                text = _write_pattern(found.long if whole else found.month, day, found.months)
                if text != _babel_date(locale, day, whole=whole):
                    return None
    return found


def _babel_key() -> str:
    """Which Babel is installed (its files), without importing it."""
    import importlib.util

    spec = importlib.util.find_spec("babel")
    origin = spec.origin if spec is not None else None
    if origin is None:
        return ""
    st = os.stat(origin)
    return f"{_DATES_VERSION}:{origin}:{st.st_size}:{st.st_mtime_ns}"


@functools.cache
def _date_patterns(locale: str) -> DatePatterns | None:
    """The locale's kept date patterns; asked of Babel (and kept) when not yet kept."""
    import json

    from cmx.places import cache_dir, keep, ours

    folder = cache_dir()
    path = folder / DATES_FILE if folder is not None else None
    key = _babel_key()
    kept: dict[str, Any] = {}
    if path is not None and ours(path):
        try:
            read = json.loads(path.read_text(encoding="utf-8"))
            kept = read if isinstance(read, dict) and read.get("babel") == key else {}
            row = kept.get(locale)
            if isinstance(row, list) and len(row) == 3 and len(row[2]) == 12:
                return DatePatterns(str(row[0]), str(row[1]), tuple(map(str, row[2])))
            if locale in kept and row is None:
                return None  # Babel's patterns have fields written only by Babel
        except (OSError, ValueError, TypeError):
            kept = {}
    found = _babel_patterns(locale)
    if path is not None and key:
        row = None if found is None else [found.long, found.month, list(found.months)]
        kept = {**kept, "babel": key, locale: row}
        keep(path, json.dumps(kept, ensure_ascii=False).encode())
    return found


@functools.cache
def translator(lang: str) -> Translator:
    return Translator(lang)
