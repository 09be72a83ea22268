"""Rows and cards -> table / JSON / CSV / YAML text. Returns values, never prints.

Pure functions, one per shape of text; which one a result gets is decided by
cmx.output's format table, and only there.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from cmx.i18n import HEADERS

Row = dict[str, Any]


# ------------------------------------------------------------------------ formats


def flat(value: Any) -> str:
    """One cell of text for CSV and plain tables."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, list):
        return "; ".join(flat(v) for v in value)
    if isinstance(value, dict):
        if "source" in value and "section" in value:
            return str(value["source"]) + (f" §{value['section']}" if value["section"] else "")
        if {"date", "what"} <= value.keys():
            return f"{value['date']}: {value['what']}"
        if {"value", "currency"} <= value.keys():
            return f"{flat(value['value'])} {value['currency']} ({value['stage']})"
        return "; ".join(f"{k}={flat(v)}" for k, v in value.items())
    return str(value)


def to_json(rows: Any, *, visible: bool = False) -> str:
    """JSON text, indented by two; C1 control characters are escaped too (json leaves
    them raw). The same text as `json.dumps(rows, ensure_ascii=False, indent=2)`, written
    ~2.5× faster: json indents in Python, one generator per value, while here each
    string is escaped by json's C function and the rest is one walk. `visible`: the
    text of `to_json(clean(rows))`, cleaned in the same walk."""
    try:
        return _indented(rows, visible)
    except _Unusual:  # a value only json knows how to write (a float NaN, an int key…)
        text = json.dumps(clean(rows) if visible else rows, ensure_ascii=False, indent=2)
    return text if text.isascii() else text.translate(_JSON_C1)


class _Unusual(Exception):
    pass


def _indented(value: Any, visible: bool) -> str:
    from json.encoder import encode_basestring as quoted  # json's own escaping, in C

    out: list[str] = []
    put = out.append

    def text(v: str) -> str:  # C1 controls are not printable: only such text is looked at
        return quoted(v) if v.isprintable() else quoted(v).translate(_JSON_C1)

    def value_text(v: str) -> str:  # a value (not a key) cleaned as `clean` does
        if v.isprintable():
            return quoted(v)
        return quoted(v.translate(_CONTROLS) if visible else v).translate(_JSON_C1)

    def walk(v: Any, pad: str) -> None:
        if isinstance(v, str):
            put(value_text(v))
        elif v is None:
            put("null")
        elif v is True:
            put("true")
        elif v is False:
            put("false")
        elif isinstance(v, int):
            put(int.__repr__(v))
        elif isinstance(v, float) and v - v == 0:  # finite
            put(float.__repr__(v))
        elif isinstance(v, dict):
            if not v:
                put("{}")
                return
            inner = pad + "  "
            lead = "{\n"
            for k, x in v.items():
                if not isinstance(k, str):
                    raise _Unusual
                put(lead + inner + text(k) + ": ")
                lead = ",\n"
                walk(x, inner)
            put("\n" + pad + "}")
        elif isinstance(v, list | tuple):
            if not v:
                put("[]")
                return
            inner = pad + "  "
            lead = "[\n"
            for x in v:
                put(lead + inner)
                lead = ",\n"
                walk(x, inner)
            put("\n" + pad + "]")
        else:
            raise _Unusual

    walk(value, "")
    return "".join(out)


_JSON_C1 = {c: f"\\u{c:04x}" for c in range(0x7F, 0xA0)}


# C0 and C1 control characters but tab and newline: ESC, BEL, CR, NUL, DEL, CSI…
_CONTROLS = {c: f"\\x{c:02x}" for c in (*range(0x00, 0x09), *range(0x0B, 0x20), *range(0x7F, 0xA0))}


def clean(value: Any) -> Any:
    """`value` with every control character in its text made visible (ESC -> '\\x1b').

    Whatever the knowledge base holds, nothing printed can move the cursor, retitle the
    window, ring the bell or forge a line: every row, card, brief and message goes
    through here before it is shown. Tabs and newlines stay."""
    if isinstance(value, str):
        return value.translate(_CONTROLS) if not value.isprintable() else value
    if isinstance(value, dict):
        return {k: clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean(v) for v in value]
    return value


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def guard_cell(text: str) -> str:
    """A CSV cell a spreadsheet will not run: a leading = + - @ tab or CR gets a quote
    mark before it (OWASP's advice for CSV injection)."""
    return "'" + text if text.startswith(FORMULA_START) else text


def to_csv(
    rows: Sequence[Row],
    columns: Sequence[str] | None = None,
    *,
    raw: bool = False,
    headers: Mapping[str, str] | None = None,
    delimiter: str = ",",
    crlf: bool = False,
) -> str:
    """CSV text; cells that would start a formula are neutralised unless `raw`. A list
    in a cell (sources, events) has one item per line of the quoted cell — a separator
    no item contains, which Excel and LibreOffice show as lines; text is never changed."""
    import csv
    import io

    columns = list(columns or (rows[0].keys() if rows else []))

    def cell(value: Any) -> str:
        if isinstance(value, list):
            text = "\n".join(flat(v).replace("\n", " ") for v in value)
        else:
            text = flat(value)
        return text if raw else guard_cell(text)

    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n" if crlf else "\n", delimiter=delimiter)
    writer.writerow([(headers or {}).get(c, c) for c in columns])
    for row in rows:
        writer.writerow([cell(row.get(c)) for c in columns])
    return buf.getvalue()


def to_yaml(rows: Any) -> str:
    import yaml

    return yaml.safe_dump(rows, allow_unicode=True, sort_keys=False, width=100)


TEXT_COLUMNS = frozenset({"title", "name", "summary", "snippet", "what", "claim", "publisher"})
# A text column keeps at least TEXT_MIN columns on a terminal; when the table cannot
# give it that, each row is stacked (its short values on one line, its text under them).
TEXT_MIN = 30


def header(column: str) -> str:
    """A column's heading in English (cmx.i18n's table; the CLI passes translated ones)."""
    return HEADERS.get(column, column)


def to_plain(
    rows: Sequence[Row],
    columns: Sequence[str],
    width: int = 0,
    headers: Mapping[str, str] | None = None,
) -> str:
    """An aligned text table with no colour or box: for pipes and dumb terminals."""
    names = [(headers or {}).get(c, header(c)).upper() for c in columns]
    cells = [[flat(r.get(c)).replace("\n", " ") for c in columns] for r in rows]
    widths = [max([len(n)] + [len(row[i]) for row in cells]) for i, n in enumerate(names)]
    gaps = 2 * (len(widths) - 1)
    flexible = [i for i, c in enumerate(columns) if c in TEXT_COLUMNS]  # ids are never cut
    if width and flexible and sum(widths) + gaps > width:  # narrow: cap the text columns alike
        fixed = sum(w for i, w in enumerate(widths) if i not in flexible) + gaps
        cap = max(widths[i] for i in flexible)
        while cap > 10 and fixed + sum(min(widths[i], cap) for i in flexible) > width:
            cap -= 1
        widths = [min(w, cap) if i in flexible else w for i, w in enumerate(widths)]
        cells = [[_clip(v, w) for v, w in zip(row, widths, strict=True)] for row in cells]
    lines = ["  ".join(n.ljust(w) for n, w in zip(names, widths, strict=True)).rstrip()]
    for row in cells:
        lines.append("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())
    return "\n".join(lines) + "\n"


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


class View:
    """How a table is shown: columns, a title, and the terminal it goes to.

    A plain class, not a dataclass: it is a bundle of arguments that nothing compares
    or stores, and defining a frozen dataclass costs ~2 ms of every start.
    """

    __slots__ = ("colon", "color", "columns", "headers", "links", "rich", "title", "width")

    def __init__(
        self,
        columns: Sequence[str],
        title: str = "",
        width: int = 0,  # 0: no limit (a pipe)
        rich: bool = False,  # a terminal: a Rich table
        headers: Mapping[str, str] | None = None,  # column -> heading shown
        links: Sequence[str | None] = (),  # per row: where its id links to (OSC 8, Rich only)
        color: bool = True,  # styles (bold, colour) on that terminal
        colon: str = ":",  # after a label, as the reader's language writes it
    ) -> None:
        self.colon = colon
        self.color = color
        self.columns = columns
        self.title = title
        self.width = width
        self.rich = rich
        self.headers: Mapping[str, str] = headers if headers is not None else {}
        self.links = links


def to_table(rows: Sequence[Row], view: View) -> str:
    """A table for people: Rich on a terminal, aligned plain text elsewhere."""
    if not view.rich:
        return to_plain(rows, view.columns, view.width, view.headers) if rows else ""
    import io

    from rich import box
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text as RichText

    table = Table(  # a light frame: the columns need the room more than the lines do
        title=view.title or None,
        title_justify="left",
        header_style="bold",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        show_edge=False,
    )
    texts = {c: [flat(row.get(c)) for row in rows] for c in view.columns}  # each cell once
    # on a terminal, a column with nothing in it only takes room from the text
    columns = [c for c in view.columns if any(texts[c])] or list(view.columns)
    # a column is as wide as its widest value; its heading may wrap, a word a line
    heads = {c: view.headers.get(c, header(c)) for c in columns}
    widest = {c: max([*map(len, heads[c].split()), *map(len, texts[c])]) for c in columns}
    width = view.width or 80
    texty = [c for c in columns if c in TEXT_COLUMNS]
    gaps = 3 * len(columns) - 3  # each column padded by 1 inside, 1 between
    short = sum(widest[c] for c in columns if c not in TEXT_COLUMNS)
    if texty and short + TEXT_MIN * len(texty) + gaps > width:
        # too narrow for a table: each row stacked, with room for every value
        stacked = [[texts[c][n] for c in columns] for n in range(len(rows))]
        return _stacked(stacked, columns, heads, width, bold=view.color, colon=view.colon)
    cells = list(zip(*(texts[c] for c in columns), strict=True))
    # every column's width is set here (Rich's ratios can overrun the terminal by a few
    # cells when other columns have a minimum): short values keep their widest, the text
    # columns share the rest, each at most as wide as its longest value needs
    room = width - short - gaps
    share = {c: max(min(room // len(texty), widest[c]), 1) for c in texty}
    spare = room - sum(share.values())
    for col in columns:  # room to spare: a heading on one line rather than wrapped
        grow = len(heads[col]) - widest[col]
        if col not in TEXT_COLUMNS and 0 < grow <= spare:
            widest[col] += grow
            spare -= grow
    for col in columns:  # a text wraps at spaces; ids, codes, numbers, dates are never cut
        table.add_column(heads[col], overflow="fold", width=share.get(col, widest[col]))
    for n, row in enumerate(cells):
        link = view.links[n] if n < len(view.links) else None
        table.add_row(
            *(
                RichText(v, style=f"link {link}") if link and col == "id" else RichText(v)
                for v, col in zip(row, columns, strict=True)
            )
        )
    buf = io.StringIO()
    console = Console(
        file=buf,
        force_terminal=view.color,  # no colour: no escape code at all, bold included
        width=view.width or 80,
        emoji=False,
        color_system="standard" if view.color else None,
    )
    console.print(table, crop=False)
    return buf.getvalue()


def _stacked(
    cells: list[list[str]],
    columns: Sequence[str],
    heads: Mapping[str, str],
    width: int,
    *,
    bold: bool,
    colon: str = ":",
) -> str:
    """Rows too wide for a table: per row, its short values on one line (the first in
    bold; a number or a date says what it is: "Due: 2026-03-31"), then its text wrapped
    at `width` under them, indented. Nothing is dropped."""
    import textwrap

    def short_value(value: str, column: str, first: bool) -> str:
        if first or not value[:1].isdigit():
            return value  # an id, a code, a status: it says what it is
        return f"{heads[column]}{colon} {value}"

    out = []
    for row in cells:
        short = [
            short_value(v, c, n == 0)
            for n, (v, c) in enumerate(zip(row, columns, strict=True))
            if c not in TEXT_COLUMNS and v
        ]
        text = [v for v, c in zip(row, columns, strict=True) if c in TEXT_COLUMNS and v]
        if short:  # wrapped at spaces too: ids and URLs are never broken
            first, *rest = textwrap.wrap(
                "  ".join(short), width, subsequent_indent="    ",
                break_long_words=False, break_on_hyphens=False,
            )  # fmt: skip
            on, off = ("\x1b[1m", "\x1b[0m") if bold else ("", "")
            out.append(on + short[0] + off + first[len(short[0]) :])
            out += rest
        for value in text:
            out += textwrap.wrap(
                value, width - 4, initial_indent="    ", subsequent_indent="    ",
                break_long_words=False, break_on_hyphens=False,
            )  # fmt: skip
    return "".join(line.rstrip() + "\n" for line in out)


def card_lines(
    card: Sequence[tuple[str, str]], width: int = 0, *, bold: bool = False, colon: str = ":"
) -> str:
    """A card's (label, value) lines, labels aligned. With a `width` (a terminal), each
    value wraps under itself at that width, never inside a word or a URL; `bold` styles
    the labels (the only styling: knowledge-base text is shown as it is)."""
    import textwrap

    pad = max((len(label) for label, _ in card), default=0) + len(colon) + 1
    room = width - pad if width else 0
    lines = []
    for label, value in card:
        if not label:
            lines.append(value)
            continue
        head = f"{label}{colon}".ljust(pad)
        if bold:
            head = f"\x1b[1m{label}:\x1b[0m".ljust(pad + 8)
        if room >= 20:
            parts = textwrap.wrap(value, room, break_long_words=False, break_on_hyphens=False) or [
                ""
            ]
            lines.append(head + parts[0])
            lines.extend(" " * pad + part for part in parts[1:])
        else:
            lines.append(head + value)
    return "".join(line.rstrip() + "\n" for line in lines)
