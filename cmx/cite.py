"""The knowledge base's sources for reference managers: CSL-JSON and BibTeX. Returns values.

Only what a source records is written: a field the knowledge base does not hold is left
out, never guessed (no author is made up for a news story, no day for a 2025-09 date).
Both formats keep the order they are given, so the same sources give the same output,
and they say the same: the same author (the issuing organisation of an official text or
an analysis; none for a news story, whose outlet is where it appeared), the same date
to the day, and the day the source was last consulted (`accessed`, KnowledgeBase.accessed).

CSL-JSON (Zotero, Pandoc/citeproc, Mendeley) follows the CSL 1.0.2 input schema,
https://github.com/citation-style-language/schema (schemas/input/csl-data.json).
BibTeX is written for classic BibTeX (plain, natbib styles) and reads as well in biber
and biblatex: UTF-8 is kept, as both handle it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from cmx.i18n import LANGUAGE_TABLE
from cmx.model import Source, SourceKind, without_controls

# CSL item type per kind of source.
# - Official texts (releases, readouts, joint statements, the plan's page) and official
#   texts reproduced by another outlet: "report", the type every common style renders
#   as issuing body + title + date + URL. ("document" is new in CSL 1.0.2 and styles
#   fall back on it unevenly.)
# - News: "article-newspaper", the outlet as its container-title.
# - Analysis (law-firm alerts, think-tank and consultancy notes): also "report": they
#   are issued by an organisation under its own name. CSL's "article" means a preprint
#   or working paper (Zotero imports it as Preprint), which these are not.
CSL_TYPES: dict[SourceKind, str] = {
    SourceKind.OFFICIAL: "report",
    SourceKind.OFFICIAL_REPRODUCED: "report",
    SourceKind.NEWS: "article-newspaper",
    SourceKind.ANALYSIS: "report",
}


def _text(value: str) -> str:
    """`value` on one line: control characters dropped, runs of whitespace one space."""
    return " ".join(without_controls(value).split())  # a reference has no line structure


def date_parts(value: str) -> list[int]:
    """The known parts of an ISO date that may be partial: "2025-09" -> [2025, 9]."""
    return [int(part) for part in value.split("-")]


# ------------------------------------------------------------------------- CSL-JSON


def to_csl_json(
    sources: Sequence[Source], accessed: Mapping[str, str] | None = None, lang: str = "en"
) -> list[dict[str, Any]]:
    """One CSL-JSON item per source, in order (`json.dumps` the list to write a file);
    `accessed`: the day each source was last consulted, by id; `lang`: of the notes."""
    items: list[dict[str, Any]] = []
    for s in sources:
        item: dict[str, Any] = {"id": s.id, "type": CSL_TYPES.get(s.kind, "document")}
        if title := _text(s.title):
            item["title"] = title
        if publisher := _text(s.publisher):
            if s.kind is SourceKind.NEWS:
                # A newspaper is where the story appeared; styles print it in italics there.
                item["container-title"] = publisher
            else:
                # The issuing body is the author, as in BibTeX: styles then lead with it
                # rather than with the title.
                item["author"] = [{"literal": publisher}]
                item["publisher"] = publisher
        if s.date:
            item["issued"] = {"date-parts": [date_parts(s.date)]}
        if s.url:
            item["URL"] = _text(s.url)
        if accessed and (day := accessed.get(s.id)):
            item["accessed"] = {"date-parts": [date_parts(day)]}
        if s.language:
            item["language"] = _text(s.language)
        if s.note and (note := _text(s.note.get(lang))):
            item["note"] = note
        items.append(item)
    return items


# --------------------------------------------------------------------------- BibTeX

# Every source is @misc, the one entry type plain BibTeX styles print without an author:
# author (the issuing body; none for news), title, howpublished (a news story's outlet),
# date, note. (@article requires an author, which a news story in the knowledge base does
# not have and is never given; @report is biblatex-only; @techreport wants an
# institution and a report number and prints "Technical Report".)
BIB_TYPES: dict[SourceKind, str] = {
    SourceKind.OFFICIAL: "misc",
    SourceKind.OFFICIAL_REPRODUCED: "misc",
    SourceKind.NEWS: "misc",
    SourceKind.ANALYSIS: "misc",
}

MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")

# biblatex's langid (hyphenation, and quotes with csquotes) for the languages cmx speaks.
LANGIDS = {lang: row.langid for lang, row in LANGUAGE_TABLE.items()}

# LaTeX's special characters as text commands. Braces become \textbraceleft{} rather than
# \{ : BibTeX counts every brace in a value, escaped or not, so a lone "\{" would end
# the field early or leave it open; the commands keep every value's braces balanced.
_BIB_ESCAPES = {
    "\\": r"\textbackslash{}",
    "{": r"\textbraceleft{}",
    "}": r"\textbraceright{}",
    "%": r"\%",
    "&": r"\&",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "^": r"\textasciicircum{}",
    "~": r"\textasciitilde{}",
}
_BIB_SPECIAL = re.compile("[" + re.escape("".join(_BIB_ESCAPES)) + "]")

# Characters a URL field may not hold as they are: braces would unbalance the value, a
# backslash or a space is not part of a URL. Each is written percent-encoded, which
# names the same resource. Nothing else is escaped: biblatex and the url package read
# the field verbatim, so "\%" there would put a backslash in the link.
_URL_UNSAFE = re.compile(r"[{}\\\s]")


def bib_escape(value: str) -> str:
    """`value` as BibTeX field text: one line, LaTeX's special characters escaped."""
    return _BIB_SPECIAL.sub(lambda m: _BIB_ESCAPES[m.group()], _text(value))


def _bib_url(value: str) -> str:
    url = without_controls(value).strip()
    return _URL_UNSAFE.sub(lambda m: "".join(f"%{b:02X}" for b in m.group().encode()), url)


_KEY_UNSAFE = re.compile(r"[^A-Za-z0-9_:.+/-]")


def _bib_key(source_id: str) -> str:
    """The entry key: the source id (ids are [a-z0-9-], which BibTeX takes as they are);
    anything else a key may not hold becomes '-'."""
    return _KEY_UNSAFE.sub("-", source_id) or "source"


def _bib_entry(s: Source, accessed: str | None = None, lang: str = "en") -> str:
    fields: list[tuple[str, str]] = []
    if title := bib_escape(s.title):
        # Double braces keep the title's capitals: BibTeX styles lower-case titles
        # ("Canada-mexico action plan"), which would spoil names and Spanish titles.
        fields.append(("title", "{" + title + "}"))
    if publisher := bib_escape(s.publisher):
        if s.kind is SourceKind.NEWS:
            fields.append(("howpublished", publisher))
        else:
            # An organisation as author: double braces, or BibTeX reads "Global Affairs
            # Canada" as a person (first names Global Affairs, last name Canada).
            fields.append(("author", "{" + publisher + "}"))
    if s.date:
        parts = date_parts(s.date)
        fields.append(("year", str(parts[0])))
        if len(parts) > 1 and 1 <= parts[1] <= 12:
            fields.append(("month", MONTHS[parts[1] - 1]))  # a macro: styles name the month
        if len(parts) > 2:
            # The day as biblatex's `day` date part beside year and month (a `date` field
            # beside `year` makes biber warn on every entry); plain BibTeX ignores it.
            fields.append(("day", str(parts[2])))
    if s.url and (url := _bib_url(s.url)):
        fields.append(("url", url))
    if accessed:
        fields.append(("urldate", accessed))  # biblatex: the day the URL was consulted
    if langid := LANGIDS.get(s.language or ""):
        fields.append(("langid", langid))
    if s.note and (note := bib_escape(s.note.get(lang))):
        fields.append(("note", note))
    width = max((len(name) for name, _ in fields), default=0)
    lines = [f"@{BIB_TYPES.get(s.kind, 'misc')}{{{_bib_key(s.id)},"]
    for name, value in fields:
        written = value if name == "month" else "{" + value + "}"
        lines.append(f"  {name.ljust(width)} = {written},")
    lines.append("}")
    return "\n".join(lines)


def to_bibtex(
    sources: Sequence[Source], accessed: Mapping[str, str] | None = None, lang: str = "en"
) -> str:
    """One BibTeX entry per source, in order, separated by a blank line; `accessed`: the
    day each source was last consulted, by id; `lang`: of the notes."""
    seen = accessed or {}
    entries = (_bib_entry(s, seen.get(s.id), lang) + "\n\n" for s in sources)
    return "".join(entries).removesuffix("\n")
