"""Load and validate the YAML knowledge base.

The four files are composed into YAML nodes (safe loader, C version when
present), turned into plain values that remember their line numbers, and then
into the records of `cmx.model`. One generic converter, driven by the
records' type hints, does the type checks, so the checks, the objects and
the JSON Schema (`cmx.schema`) cannot drift apart. Every problem is reported,
each as `file:line: what is wrong`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import functools
import os
import re
import stat
import sys
import types
import typing
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import MISSING
from pathlib import Path
from typing import Any

from cmx import model
from cmx.errors import KBError as KBError  # re-exported: cmx.kb.KBError is the API's
from cmx.errors import closest as closest
from cmx.errors import suggest
from cmx.kbfiles import FILES, OPTIONAL_FILES
from cmx.kbfiles import check_data_dir as check_data_dir
from cmx.kbfiles import default_data_dir as default_data_dir
from cmx.kbfiles import file_stats as file_stats
from cmx.model import Citation, Commitment, KnowledgeBase, Note, Pillar, Sector, Source

RECORD_TYPES: dict[str, type] = {
    "sources": Source,
    "pillars": Pillar,
    "commitments": Commitment,
    "notes": Note,
    "actors": model.Actor,
    "concepts": model.Concept,
    "tags": model.Tag,
}
MAX_FILE_BYTES = 256 * 1024 * 1024
MAX_DEPTH = 64
ID_PATTERN = r"^[a-z0-9][a-z0-9-]*$"
DATE_PATTERN = r"^\d{4}(-\d{2}(-\d{2})?)?$"
# No white space, and none of < > " \ ` (they end a Markdown <autolink> or an HTML attribute).
URL_PATTERN = r"^(?i:https?)://[^\s/?#<>\"\\`]+[^\s<>\"\\`]*\Z"


class _Patterns:
    """The id, date and URL patterns, compiled when first checked: a run served from the
    store never checks one, and compiling them costs ~1 ms of every start."""

    @functools.cached_property
    def id(self) -> re.Pattern[str]:
        return re.compile(ID_PATTERN)

    @functools.cached_property
    def date(self) -> re.Pattern[str]:
        return re.compile(DATE_PATTERN)

    @functools.cached_property
    def url(self) -> re.Pattern[str]:
        return re.compile(URL_PATTERN)


PATTERNS = _Patterns()
URL_FIELDS = {(Source, "url")}
# Fields that exist on the record but are not written in YAML.
DERIVED = {(Sector, "pillar")}
DATE_FIELDS = {
    (Source, "date"),
    (Commitment, "due"),
    (Commitment, "reviewed"),
    (model.Event, "date"),
}
ID_FIELDS = {
    (Source, "id"),
    (Pillar, "id"),
    (Sector, "id"),
    (Commitment, "id"),
    (Note, "id"),
    (model.Actor, "id"),
    (model.Concept, "id"),
    (model.Tag, "id"),
    (Source, "version_of"),
    (Commitment, "due_source"),
}


# --------------------------------------------------------------------------- YAML


class LDict(dict[str, Any]):
    """A mapping from YAML that remembers its line and the line of each value."""

    __slots__ = ("line", "lines")
    line: int
    lines: dict[str, int]


class LList(list[Any]):
    """A sequence from YAML that remembers its line and the line of each item."""

    __slots__ = ("line", "lines")
    line: int
    lines: list[int]


class _Fail(Exception):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


class _Digesting:
    """A binary file that checksums every byte the parser reads from it.

    The checksum is CRC-32 with the byte count: any edit changes it but with a chance
    of one in four billion, and it costs a third of a cryptographic hash (bench/scale.py:
    every cached run checks a 19 MB KB this way). It keys a private cache, not a lock.
    """

    __slots__ = ("_fh", "crc", "size")

    def __init__(self, fh: Any) -> None:
        self._fh = fh
        self.crc = 0
        self.size = 0

    def read(self, size: int = -1) -> bytes:
        chunk: bytes = self._fh.read(size)
        self.crc = zlib.crc32(chunk, self.crc)
        self.size += len(chunk)
        return chunk

    def hexdigest(self) -> str:
        return self.digest(self.crc, self.size)

    @staticmethod
    def digest(crc: int, size: int) -> str:
        return f"{crc:08x}-{size}"


_NOT_REGULAR = "not a regular file (a pipe, socket or device); cmx reads only plain YAML files"


def open_regular(path: Path) -> Any:
    """Open a KB file for reading, refusing anything but a regular file at once.

    A FIFO, socket or device (or a link to one) would block or never end; the check is
    made on the open descriptor (O_NONBLOCK, so opening a FIFO cannot hang).
    """
    mode = os.stat(path).st_mode  # a socket cannot even be opened: look first
    if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        raise KBError([f"{path}: {_NOT_REGULAR}"])
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags)
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(path)
        if not stat.S_ISREG(mode):
            raise KBError(
                [
                    f"{path}: not a regular file (a pipe, socket or device); cmx reads "
                    "only plain YAML files"
                ]
            )
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_yaml(
    path: Path,
    lines: bool = True,
    digests: dict[str, str] | None = None,
    convert: Callable[[Any, int], Any] | None = None,
) -> Any:
    """Parse one YAML file into LDict/LList/scalars (plain dict/list without `lines`).

    With `digests`, records the hash of exactly the bytes the parser read under the
    file's name. With `convert`, each item of the top-level list is replaced by
    `convert(item, line)` as soon as it is read, so a large file's plain values never
    pile up. Raises KBError with file:line."""
    import yaml

    try:
        with open_regular(path) as fh:
            size = os.fstat(fh.fileno()).st_size
            if size > MAX_FILE_BYTES:
                raise KBError([f"{path}: file is {size:,} bytes; the limit is {MAX_FILE_BYTES:,}"])
            # The parser reads the file itself, in chunks: a large KB is never held whole in
            # memory as bytes and again as text (and is read once, not once more to check it).
            loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
            reader = _Digesting(fh)
            value = _build(yaml, _events(loader(reader)), track=lines, convert=convert)
            while reader.read(1 << 20):  # whatever the parser left unread counts too
                pass
            if digests is not None:
                digests[path.name] = reader.hexdigest()
            return value
    except FileNotFoundError:
        if path.is_symlink():
            raise KBError(
                [f"{path}: broken link (it points to {os.readlink(path)}, which does not exist)"]
            ) from None
        raise KBError([f"{path}: file not found"]) from None
    except IsADirectoryError:
        raise KBError([f"{path}: is a folder, expected a YAML file"]) from None
    except OSError as err:
        if path.is_symlink() and not path.exists():
            raise KBError([f"{path}: broken link (it points to nothing)"]) from None
        raise KBError([f"{path}: cannot read: {err.strerror or err}"]) from None
    except yaml.MarkedYAMLError as err:
        mark = err.context_mark or err.problem_mark  # where the broken construct starts
        line = mark.line + 1 if mark else 1
        what = err.problem or err.context or "invalid YAML"
        if err.context and err.problem_mark and err.problem_mark.line + 1 != line:
            what += f" ({err.context}; noticed on line {err.problem_mark.line + 1})"
        hint = "; indent with spaces, not tabs" if b"\t" in path.read_bytes() else ""
        raise KBError([f"{path}:{line}: YAML syntax error: {what}{hint}"]) from None
    except yaml.YAMLError as err:  # the reader's errors: most often bytes that are not UTF-8
        _check_utf8(path)  # raises with the line and byte when that is the cause
        raise KBError([f"{path}: YAML error: {err}"]) from None
    except _Fail as err:
        raise KBError([f"{path}:{err.line}: {err.message}"]) from None


def _check_utf8(path: Path) -> None:
    """Refuse a file that is not UTF-8, naming the line and byte of the first bad byte."""
    import codecs

    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = lines = 0
    with open(path, "rb") as fh:
        while True:
            chunk = fh.read(1 << 20)
            try:
                decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as err:  # err.start counts from this chunk
                line = lines + chunk[: err.start].count(b"\n") + 1
                where = f"{path}:{line}: not valid UTF-8 (byte {offset + err.start})"
                raise KBError([f"{where}; save as UTF-8"]) from None
            if not chunk:
                return
            offset += len(chunk)
            lines += chunk.count(b"\n")


def _build(
    yaml: Any,
    events: Iterable[Any],
    track: bool = True,
    convert: Callable[[Any, int], Any] | None = None,
) -> Any:
    """Plain values from a stream of YAML events, with an explicit stack.

    Working from events rather than a composed node graph keeps memory to the
    values themselves, refuses aliases (so no alias bomb) and never recurses. The
    current container and its pending key live in local variables (the loop runs once
    per scalar of the KB: it is the hot path of a first load).
    """
    resolver = yaml.resolver.Resolver()
    constructor = yaml.constructor.SafeConstructor()
    builders = constructor.yaml_constructors
    implicit = resolver.yaml_implicit_resolvers  # first character -> resolvers
    any_first = None in implicit  # a resolver that applies whatever the first character
    scalar_event = yaml.ScalarEvent
    start_events = (yaml.MappingStartEvent, yaml.SequenceStartEvent)
    end_events = (yaml.MappingEndEvent, yaml.SequenceEndEvent)
    # Enclosing frames: (container, pending key, line of each key, line of the container)
    stack: list[tuple[Any, Any, dict[str, int], int]] = []
    container: Any = None  # the innermost open mapping or sequence (None: top level)
    is_list = False
    key: Any = _NOKEY  # the key waiting for its value in the current mapping
    key_lines: dict[str, int] = {}
    container_line = 0
    result: Any = None
    documents = 0
    intern = sys.intern

    def scalar(event: Any, line: int) -> Any:
        """A scalar that may not be plain text: resolve its tag and construct it."""
        tag = event.tag
        if tag is None or tag == "!":
            tag = resolver.resolve(yaml.ScalarNode, event.value, event.implicit)
        if tag == "tag:yaml.org,2002:merge":
            raise _Fail(line, "YAML merge keys (<<) are not supported")
        build = builders.get(tag)
        if build is None:
            raise _Fail(line, f"unsupported YAML tag '{event.tag or tag}' (plain data only)")
        node = yaml.ScalarNode(tag, event.value, event.start_mark, event.end_mark)
        try:
            return build(constructor, node)
        except (yaml.YAMLError, ValueError) as err:
            detail = getattr(err, "problem", None) or err
            raise _Fail(line, f"cannot read value: {detail}") from None

    for event in events:
        kind = type(event)
        if kind is scalar_event:
            value = event.value
            line = event.start_mark.line + 1
            tag = event.tag
            # quoted, block, or plain text that no implicit type (bool, number, null,
            # date…) can start with: text as it is, without building a node
            if not (
                (tag is None or tag == "!")
                and (event.style or (value and not any_first and value[0] not in implicit))
            ):
                value = scalar(event, line)
            elif len(value) <= 48:  # ids, codes, tags and dates repeat: keep one copy each
                value = intern(value)
        elif kind in end_events:
            value, line = container, container_line
            container, key, key_lines, container_line = stack.pop()
            is_list = type(container) is list or isinstance(container, list)
            if convert is not None and is_list and len(stack) == 2:  # an item of the list
                value = convert(value, line)
        else:
            line = event.start_mark.line + 1 if event.start_mark else 0
            if kind in start_events:
                if event.tag and event.tag not in (
                    "tag:yaml.org,2002:map",
                    "tag:yaml.org,2002:seq",
                ):
                    raise _Fail(line, f"unsupported YAML tag '{event.tag}' (plain data only)")
                if len(stack) >= MAX_DEPTH:
                    raise _Fail(line, f"nested more than {MAX_DEPTH} levels deep")
                stack.append((container, key, key_lines, container_line))
                mapping = kind is yaml.MappingStartEvent
                if not track:  # plain containers: a valid KB needs no line numbers
                    container = {} if mapping else []
                elif mapping:
                    container = LDict()
                    container.line, container.lines = line, {}
                else:
                    container = LList()
                    container.line, container.lines = line, []
                is_list, key, key_lines, container_line = not mapping, _NOKEY, {}, line
            elif kind is yaml.AliasEvent:
                raise _Fail(line, "YAML aliases (*name) are not supported; write the value out")
            elif kind is yaml.DocumentStartEvent:
                documents += 1
                if documents > 1:
                    raise _Fail(line, "more than one YAML document (---) in one file")
            continue
        # put `value` (found on `line`) into the current container
        if container is None:
            result = value
        elif is_list:
            container.append(value)
            if track:
                container.lines.append(line)
        elif key is _NOKEY:
            if isinstance(value, dict | list):
                raise _Fail(line, "a mapping key must be plain text")
            key = intern(str(value))  # field names repeat in every entry: share them
            if key == "<<":
                raise _Fail(line, "YAML merge keys (<<) are not supported")
            if key in container:
                raise _Fail(
                    line,
                    f"duplicate key '{key}' (first on line {key_lines[key]}); "
                    "YAML would silently keep only the last one",
                )
            key_lines[key] = line
        else:
            container[key] = value
            if track:
                container.lines[key] = line
            key = _NOKEY
    return result


_NOKEY = object()


def _events(parser: Any) -> Iterator[Any]:
    """The parser's events, pulled directly (yaml.parse adds a check per event)."""
    get = parser.get_event
    import yaml

    try:
        while True:
            event = get()
            if event is None:
                return
            yield event
            if type(event) is yaml.StreamEndEvent:
                return
    finally:
        parser.dispose()


# --------------------------------------------------------------------- converting


class _Ctx:
    """Where problems go while converting one file."""

    def __init__(self, path: Path | str) -> None:
        self.path = path
        self.problems: list[str] = []
        self.broken: set[str] = set()

    def add(self, line: int, message: str) -> None:
        self.problems.append(
            f"{self.path}:{line}: {message}" if line else f"{self.path}: {message}"
        )


def _line_of(container: Any, key: Any, default: int = 0) -> int:
    lines = getattr(container, "lines", None)
    fallback = int(getattr(container, "line", default))
    if isinstance(lines, dict):
        return int(lines.get(key, fallback))
    if isinstance(lines, list) and isinstance(key, int) and key < len(lines):
        return int(lines[key])
    return fallback


def _type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "true/false (YAML reads yes/no/on/off as booleans: quote the text)"
    if value is None:
        return "nothing (null)"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, int | float):
        return f"a number ({value})"
    return f"{type(value).__name__} ({value!r})"


@functools.cache
def fields_of(cls: type) -> list[tuple[str, Any, bool]]:
    """(name, type, required) for the YAML fields of a record type."""
    return [
        (f.name, f.type, f.default is MISSING and f.default_factory is MISSING)
        for f in dataclasses.fields(cls)  # real types: cmx.model does not postpone annotations
        if (cls, f.name) not in DERIVED
    ]


@functools.cache
def _names_of(cls: type) -> frozenset[str]:
    return frozenset(name for name, _, _ in fields_of(cls))


def is_record(tp: Any) -> bool:
    """True for the record types of cmx.model (dataclasses)."""
    return isinstance(tp, type) and dataclasses.is_dataclass(tp)


def _unwrap_optional(tp: Any) -> tuple[Any, bool]:
    if isinstance(tp, types.UnionType) or typing.get_origin(tp) is typing.Union:
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return args[0], True
    return tp, False


@functools.cache
def _shape(tp: Any) -> tuple[str, Any, bool]:
    """(kind, inner type, nullable) of a field type, worked out once per type."""
    tp, optional = _unwrap_optional(tp)
    if typing.get_origin(tp) is tuple:
        return "tuple", typing.get_args(tp)[0], optional
    if tp is model.Text:
        return "text", None, optional
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return "enum", tp, optional
    if is_record(tp):
        return "record", tp, optional
    for kind, python_type in (("str", str), ("bool", bool), ("float", float)):
        if tp is python_type:
            return kind, None, optional
    raise TypeError(f"no converter for {tp!r}")  # a bug in the model, not in the data


class _Converter:
    """Turns plain values into records, checking types on the way."""

    def __init__(self, ctx: _Ctx) -> None:
        self.ctx = ctx

    def record(self, cls: type, data: Any, line: int, **extra: Any) -> Any:
        if not isinstance(data, dict):
            raise _Fail(line, f"expected a mapping of fields, got {_type_name(data)}")
        line = getattr(data, "line", line)
        kwargs: dict[str, Any] = dict(extra)
        fields = fields_of(cls)
        names = _names_of(cls)
        ok = True
        label = self._label(cls, data)
        lines = getattr(data, "lines", None)  # only when reporting problems
        for key in data:
            if key not in names:
                self.ctx.add(
                    _line_of(data, key, line),
                    f"{label}: unknown field '{key}'{suggest(str(key), [n for n, _, _ in fields])}",
                )
                ok = False
        for name, tp, required in fields:
            if cls is Pillar and name == "sectors":
                continue
            value_line = lines.get(name, line) if lines is not None else line
            if name not in data or (data[name] is None and not _shape(tp)[2]):
                if required:
                    self.ctx.add(line, f"{label}: missing required field '{name}'")
                    ok = False
                continue
            try:
                kwargs[name] = self.value(tp, data[name], value_line, (cls, name))
            except _Fail as err:
                self.ctx.add(err.line, f"{label}: field '{name}': {err.message}")
                ok = False
        if cls is Pillar:
            kwargs["sectors"] = self.sectors(data, kwargs.get("id", "?"), line)
        if cls is model.Event and kwargs.get("headline") is not None:
            ok = self.headline(kwargs["headline"], data, line, kwargs.get("date")) and ok
        if not ok:
            if isinstance(data.get("id"), str):
                self.ctx.broken.add(data["id"])  # known, though invalid: no cascade of errors
            return None
        return cls(**kwargs)

    def sectors(self, data: Any, pillar_id: str, line: int) -> tuple[Sector, ...]:
        items = data.get("sectors")
        if items is None:
            return ()
        if not isinstance(items, list):
            self.ctx.add(_line_of(data, "sectors", line), "field 'sectors': expected a list")
            return ()
        out = []
        for i, item in enumerate(items):
            try:
                sector = self.record(Sector, item, _line_of(items, i, line), pillar=pillar_id)
            except _Fail as err:
                self.ctx.add(err.line, f"sector: {err.message}")
                continue
            if sector is not None:
                out.append(sector)
        return tuple(out)

    def headline(self, text: model.Text, data: Any, line: int, date: str | None) -> bool:
        """An event headline is shown whole: a short sentence in each language, not cut."""
        raw = data.get("headline")
        ok = True
        for lang in model.LANGS:
            value = getattr(text, lang)
            where = _line_of(raw, lang, _line_of(data, "headline", line))
            words = len(value.split())
            problem = None
            if words > model.HEADLINE_WORDS:
                problem = (
                    f"has {words} words; keep it to {model.HEADLINE_WORDS} or fewer "
                    "(one short sentence, shown whole)"
                )
            elif value.endswith(("…", "...")):
                problem = "ends with an ellipsis; write a complete sentence"
            if problem:
                self.ctx.add(where, f"event {date or '?'}: headline '{lang}' {problem}")
                ok = False
        return ok

    @staticmethod
    def _label(cls: type, data: Any) -> str:
        entry_id = data.get("id")
        name = cls.__name__.lower()
        return f"{name} '{entry_id}'" if isinstance(entry_id, str) else name

    def value(self, tp: Any, value: Any, line: int, where: tuple[type, str]) -> Any:
        kind, inner, optional = _shape(tp)
        if value is None:
            if optional:
                return None
            raise _Fail(line, "a value is required")
        if kind == "str":
            if not isinstance(value, str):
                if isinstance(value, dt.date) and where in DATE_FIELDS:
                    return value.isoformat()
                raise _Fail(line, f"expected text, got {_type_name(value)}")
            if not value.strip():
                raise _Fail(line, "is empty")
            _check_controls(value, line)
            if where in URL_FIELDS and not PATTERNS.url.match(value):
                raise _Fail(
                    line,
                    f"'{value}' is not an absolute http(s) URL without spaces or any of "
                    '< > " \\ ` (e.g. https://www.canada.ca/…; write them %-encoded)',
                )
            if where in DATE_FIELDS:
                _check_date(value, line)
            elif where in ID_FIELDS and not PATTERNS.id.match(value):
                raise _Fail(line, f"id '{value}' must be lowercase letters, digits and '-'")
            return value
        if kind == "tuple":
            if not isinstance(value, list):
                raise _Fail(line, f"expected a list, got {_type_name(value)}")
            lines = getattr(value, "lines", None)
            return tuple(
                self.value(inner, item, lines[i] if lines else line, where)
                for i, item in enumerate(value)
            )
        if kind == "text":
            return self.text(value, line)
        if kind == "enum":
            try:
                return inner(value)
            except (ValueError, TypeError):
                choices = [m.value for m in inner]
                shown = value if isinstance(value, str) else _type_name(value)
                hint = suggest(value, choices) if isinstance(value, str) else ""
                raise _Fail(line, f"'{shown}' is not one of {', '.join(choices)}{hint}") from None
        if kind == "record":
            if inner is Citation and isinstance(value, str):
                return Citation(source=value)  # shorthand: a bare source id
            obj = self.record(inner, value, line)
            if obj is None:
                raise _Fail(line, "see the problems above")
            return obj
        if kind == "bool":
            if not isinstance(value, bool):
                raise _Fail(line, f"expected true or false, got {_type_name(value)}")
            return value
        if isinstance(value, bool) or not isinstance(value, int | float):  # kind == "float"
            raise _Fail(line, f"expected a number, got {_type_name(value)}")
        return float(value)

    def text(self, value: Any, line: int) -> model.Text:
        if not isinstance(value, dict):
            raise _Fail(line, f"expected a mapping of en/es/fr text, got {_type_name(value)}")
        langs = {}
        for lang in model.LANGS:
            text = value.get(lang)
            if lang in value and not isinstance(text, str):
                raise _Fail(
                    _line_of(value, lang, line),
                    f"'{lang}' text: expected text, got {_type_name(text)}"
                    + ("; quote text that contains commas" if isinstance(text, int) else ""),
                )
            if not isinstance(text, str) or not text.strip():
                raise _Fail(_line_of(value, lang, line), f"missing '{lang}' text")
            _check_controls(text, _line_of(value, lang, line))
            langs[lang] = text.strip()
        extra = [k for k in value if k not in model.LANGS]
        if extra:
            raise _Fail(_line_of(value, extra[0], line), f"unknown language '{extra[0]}'")
        return model.Text(**langs)


def _check_controls(value: str, line: int) -> None:
    """Refuse text with a control character (ESC, BEL, CR, C1…): it could drive a terminal."""
    if value.isprintable():
        return
    for ch in value:
        code = ord(ch)
        if (code < 0x20 and ch not in "\n\t") or 0x7F <= code < 0xA0:
            raise _Fail(
                line,
                f"contains the control character U+{code:04X}; remove it (text may hold "
                "letters, punctuation, spaces, tabs and line breaks only)",
            )


def _check_date(value: str, line: int) -> None:
    if not PATTERNS.date.match(value):
        raise _Fail(line, f"'{value}' is not a date; write YYYY-MM-DD (or YYYY-MM, YYYY)")
    try:
        model.date_bounds(value)
    except ValueError:
        raise _Fail(line, f"'{value}' is not a real date") from None


def _records(ctx: _Ctx, conv: _Converter, key: str, data: Any) -> list[Any]:
    cls = RECORD_TYPES[key]
    if data is None:
        ctx.add(1, f"file is empty; expected a top-level '{key}:' list")
        return []
    if not isinstance(data, dict) or key not in data:
        found = f"keys {', '.join(map(str, data))}" if isinstance(data, dict) and data else None
        ctx.add(
            getattr(data, "line", 1),
            f"expected a top-level '{key}:' list, found {found or _type_name(data)}"
            + (suggest(str(next(iter(data))), [key]) if isinstance(data, dict) and data else ""),
        )
        return []
    items = data[key]
    if not isinstance(items, list):
        ctx.add(_line_of(data, key, 1), f"'{key}' must be a list, got {_type_name(items)}")
        return []
    out = []
    for i, item in enumerate(items):
        try:
            obj = conv.record(cls, item, _line_of(items, i, 1))
        except _Fail as err:
            ctx.add(err.line, f"{cls.__name__.lower()} #{i + 1}: {err.message}")
            continue
        line = _line_of(items, i, 1)
        if obj is not None:
            out.append((obj, line, item if cls is Pillar else None))  # pillars: sector lines
        if not hasattr(items, "lines"):
            items[i] = None  # a plain value read only to be converted: let it go now
    return out


# --------------------------------------------------------------------- cross-checks


def _cross_check(
    ctxs: dict[str, _Ctx], recs: dict[str, list[Any]], declared_tags: bool = False
) -> None:
    """Checks across entries and files; `declared_tags`: tags.yaml exists, so every tag a
    commitment uses must be declared there."""
    src_ids = {obj.id for obj, _, _ in recs["sources"]}
    pillar_ids = {obj.id for obj, _, _ in recs["pillars"]}
    sectors = {s.id: s for obj, _, _ in recs["pillars"] for s in obj.sectors}
    commitment_ids = {obj.id for obj, _, _ in recs["commitments"]}
    actor_ids = {obj.id for obj, _, _ in recs["actors"]}
    concept_ids = {obj.id for obj, _, _ in recs["concepts"]}
    seen: dict[str, str] = {}
    broken = set().union(*(ctx.broken for ctx in ctxs.values()))

    def dup(ctx: _Ctx, line: int, entry_id: str, kind: str) -> None:
        where = f"{ctx.path}:{line}"
        if entry_id in seen:
            ctx.add(line, f"duplicate id '{entry_id}' ({kind}); first used at {seen[entry_id]}")
        else:
            seen[entry_id] = where

    def cite(ctx: _Ctx, line: int, label: str, source_id: str) -> None:
        if source_id not in src_ids and source_id not in broken:
            ctx.add(line, f"{label}: unknown source '{source_id}'{suggest(source_id, src_ids)}")

    def concept(ctx: _Ctx, line: int, label: str, concept_id: str) -> None:
        if concept_id not in concept_ids and concept_id not in broken:
            hint = suggest(concept_id, concept_ids)
            ctx.add(line, f"{label}: unknown concept '{concept_id}'{hint}")

    for obj, line, _ in recs["sources"]:
        dup(ctxs["sources"], line, obj.id, "source")
        if obj.copy_of and PATTERNS.id.match(obj.copy_of):  # an id, not a name: must exist
            cite(ctxs["sources"], line, f"source '{obj.id}' copy_of", obj.copy_of)
        if obj.version_of is not None:
            cite(ctxs["sources"], line, f"source '{obj.id}' version_of", obj.version_of)
            if obj.version_of == obj.id:
                ctxs["sources"].add(line, f"source '{obj.id}': version_of names itself")
    tag_lines: dict[str, int] = {}  # tags have their own ids, like concepts
    for obj, line, _ in recs["tags"]:
        if obj.id in tag_lines:
            ctxs["tags"].add(
                line, f"duplicate tag id '{obj.id}'; first on line {tag_lines[obj.id]}"
            )
        tag_lines.setdefault(obj.id, line)
    concept_lines: dict[str, int] = {}  # concepts have their own ids: 'energy' may be both
    for obj, line, _ in recs["concepts"]:
        ctx = ctxs["concepts"]
        if obj.id in concept_lines:
            ctx.add(line, f"duplicate concept id '{obj.id}'; first on line {concept_lines[obj.id]}")
        concept_lines.setdefault(obj.id, line)
        if obj.broader is not None:
            concept(ctx, line, f"concept '{obj.id}' broader", obj.broader)
    _check_broader_cycles(ctxs["concepts"], recs["concepts"])
    for obj, line, raw in recs["pillars"]:
        ctx = ctxs["pillars"]
        dup(ctx, line, obj.id, "pillar")
        if obj.id not in model.PILLAR_IDS:
            ctx.add(
                line,
                f"pillar '{obj.id}': pillar ids are {', '.join(model.PILLAR_IDS)}"
                + suggest(obj.id, model.PILLAR_IDS),
            )
        for c in obj.sources:
            cite(ctx, line, f"pillar '{obj.id}'", c.source)
        raw_sectors = raw.get("sectors") if isinstance(raw, dict) else None
        for i, sector in enumerate(obj.sectors):
            s_line = _line_of(raw_sectors, i, line)
            dup(ctx, s_line, sector.id, "sector")
            for c in sector.sources:
                cite(ctx, s_line, f"sector '{sector.id}'", c.source)
            for ref in sector.concepts:
                concept(ctx, s_line, f"sector '{sector.id}'", ref)
    for obj, line, _ in recs["commitments"]:
        ctx = ctxs["commitments"]
        label = f"commitment '{obj.id}'"
        dup(ctx, line, obj.id, "commitment")
        if obj.pillar not in pillar_ids and obj.pillar not in broken:
            ctx.add(
                line, f"{label}: unknown pillar '{obj.pillar}'{suggest(obj.pillar, pillar_ids)}"
            )
        sector = sectors.get(obj.sector)
        if sector is None:
            if obj.sector not in broken:
                ctx.add(
                    line, f"{label}: unknown sector '{obj.sector}'{suggest(obj.sector, sectors)}"
                )
        elif obj.pillar in pillar_ids and sector.pillar != obj.pillar:
            ctx.add(
                line,
                f"{label}: sector '{obj.sector}' belongs to pillar '{sector.pillar}', "
                f"not '{obj.pillar}'",
            )
        for c in obj.sources:
            cite(ctx, line, label, c.source)
        for ref in obj.concepts:
            concept(ctx, line, label, ref)
        for tag in obj.tags if declared_tags else ():
            if tag not in tag_lines and tag not in broken:
                hint = suggest(tag, tag_lines)
                ctx.add(line, f"{label}: tag '{tag}' is not declared in tags.yaml{hint}")
        for event in obj.events:
            cite(ctx, line, f"{label} event {event.date}", event.source)
        if obj.amount and obj.amount.source:
            cite(ctx, line, f"{label} amount", obj.amount.source)
        if obj.due_source is not None:
            if obj.due is None:
                ctx.add(line, f"{label}: due_source '{obj.due_source}' but no due date")
            elif obj.due_source not in {x.source for x in obj.sources}:
                cited = [x.source for x in obj.sources]
                ctx.add(
                    line,
                    f"{label}: due_source '{obj.due_source}' is not one of its sources"
                    f"{suggest(obj.due_source, cited)}",
                )
        for actor in obj.actors if actor_ids else ():
            if actor not in actor_ids and actor not in broken:
                ctx.add(line, f"{label}: unknown actor '{actor}'{suggest(actor, actor_ids)}")
        moves = [e for e in obj.events if e.status]
        latest = max(moves, key=lambda e: model.date_bounds(e.date)[0], default=None)
        if not latest and obj.status in (model.Status.UNDERWAY, model.Status.COMPLETED):
            ctx.add(
                line,
                f"{label}: status is '{obj.status.value}' but no event says when it became "
                f"so (give that event 'status: {obj.status.value}')",
            )
        if latest and latest.status is not obj.status:
            ctx.add(
                line,
                f"{label}: status is '{obj.status.value}' but its latest status event "
                f"({latest.date}) says '{latest.status.value}'",
            )
    for obj, line, _ in recs["actors"]:
        dup(ctxs["actors"], line, obj.id, "actor")
    for obj, line, _ in recs["notes"]:
        ctx = ctxs["notes"]
        label = f"note '{obj.id}'"
        dup(ctx, line, obj.id, "note")
        cite(ctx, line, label, obj.source)
        for rel in obj.related:
            if rel not in commitment_ids and rel not in broken:
                ctx.add(line, f"{label}: unknown commitment '{rel}'{suggest(rel, commitment_ids)}")


def _check_broader_cycles(ctx: _Ctx, concepts: list[Any]) -> None:
    """A concept may not be broader than itself, however far up the chain."""
    broader = {obj.id: obj.broader for obj, _, _ in concepts}
    for obj, line, _ in concepts:
        seen = {obj.id}
        up = obj.broader
        while up is not None and up in broader:
            if up in seen:
                ctx.add(line, f"concept '{obj.id}': its broader concepts loop back to '{up}'")
                break
            seen.add(up)
            up = broader[up]


# --------------------------------------------------------------------------- public


def parse_kb(raw: dict[str, Any], base: Path | str = "") -> KnowledgeBase:
    """Build a KnowledgeBase from the plain contents of the four files."""
    ctxs = {key: _Ctx(Path(base) / name if base else name) for key, name in FILES.items()}
    recs: dict[str, list[Any]] = {}
    for key in FILES:
        if key in OPTIONAL_FILES and raw.get(key) is None:
            recs[key] = []
            continue
        recs[key] = _records(ctxs[key], _Converter(ctxs[key]), key, raw.get(key))
    _cross_check(ctxs, recs, declared_tags=raw.get("tags") is not None)
    problems = [p for ctx in ctxs.values() for p in ctx.problems]
    if problems:
        raise KBError(problems)
    return _assemble(recs)


def _assemble(recs: dict[str, list[Any]]) -> KnowledgeBase:
    """The KnowledgeBase of checked records, each file's in its order."""

    def of(key: str) -> tuple[Any, ...]:
        return tuple(obj for obj, _, _ in recs[key])

    return KnowledgeBase(
        pillars=of("pillars"),
        commitments=of("commitments"),
        sources=of("sources"),
        notes=of("notes"),
        actors=of("actors"),
        concepts=of("concepts"),
        tags=of("tags"),
    )


def _present(path: Path, key: str) -> bool:
    """Whether to read a file: required files always; optional ones when there is
    anything at the path (a broken link is reported, not taken for 'no file')."""
    return key not in OPTIONAL_FILES or path.exists() or path.is_symlink()


def read_raw(
    data_dir: Path, lines: bool = True, digests: dict[str, str] | None = None
) -> dict[str, Any]:
    """The plain contents of every KB file in `data_dir` (all read errors at once)."""
    check_data_dir(data_dir)
    raw: dict[str, Any] = {}
    problems: list[str] = []
    for key, name in FILES.items():
        path = data_dir / name
        if not _present(path, key):
            continue
        try:
            raw[key] = read_yaml(path, lines, digests)
        except KBError as err:
            problems.extend(err.problems)
    if problems:
        raise KBError(problems)
    return raw


def content_key(digests: dict[str, str]) -> str:
    """One key for a KB's files from the digest of each (name order fixed)."""
    return " ".join(f"{name}:{digests[name]}" for name in sorted(digests))


def current_key(data_dir: Path) -> str:
    """The content key of the files as they are now (what read_kb would return for them).

    Raises OSError or KBError when a file cannot be read; the caller then parses, which
    reports the problem properly.
    """
    digests: dict[str, str] = {}
    buffer = bytearray(1 << 20)  # one buffer for every read: no fresh pages per chunk
    view = memoryview(buffer)
    for key, name in FILES.items():
        path = data_dir / name
        if not _present(path, key):
            continue
        crc = size = 0
        with open_regular(path) as fh:
            while n := fh.readinto(buffer):
                crc = zlib.crc32(view[:n], crc)
                size += n
        digests[name] = _Digesting.digest(crc, size)  # as the parser's reads give it
    return content_key(digests)


def read_kb(data_dir: Path) -> tuple[KnowledgeBase, str]:
    """Read and validate the YAML: (KnowledgeBase, content key of the bytes parsed).

    Line numbers cost memory (a map per mapping) and a valid KB never shows them, so the
    files are read without them first, and read again with them only to say where the
    problems are.
    """
    digests: dict[str, str] = {}
    found = _read_valid(data_dir, digests)
    if found is not None:
        return found, content_key(digests)
    raw = read_raw(data_dir, lines=True)
    kb = parse_kb(raw, data_dir)  # raises, now with every problem at its file:line…
    return kb, content_key(digests)  # …or accepts what only looked odd (an empty notes file)


def _read_valid(data_dir: Path, digests: dict[str, str]) -> KnowledgeBase | None:
    """The KB, each record converted as soon as the parser has read it; None at the
    first sign of a problem (the slow path then reads again to say where it is).

    Read errors (missing files, YAML syntax) are raised here as they are."""
    check_data_dir(data_dir)
    recs: dict[str, list[Any]] = {}
    ctxs = {key: _Ctx(data_dir / name) for key, name in FILES.items()}
    problems: list[str] = []
    failed = False
    declared_tags = False
    for key, name in FILES.items():
        path = data_dir / name
        recs[key] = []
        if not _present(path, key):
            continue
        cls, conv = RECORD_TYPES[key], _Converter(ctxs[key])

        def convert(item: Any, line: int, cls: type = cls, conv: _Converter = conv) -> Any:
            try:
                return conv.record(cls, item, line)
            except _Fail:
                return None

        try:
            data = read_yaml(path, False, digests, convert)
        except KBError as err:
            problems.extend(err.problems)
            continue
        if key == "tags" and data is not None:
            declared_tags = True
        items = data.get(key) if isinstance(data, dict) and len(data) == 1 else None
        if not isinstance(items, list) or not all(isinstance(obj, cls) for obj in items):
            failed = True
            continue
        recs[key] = [(obj, 0, None) for obj in items]
    if problems:
        raise KBError(problems)
    if failed or any(ctx.problems for ctx in ctxs.values()):
        return None
    _cross_check(ctxs, recs, declared_tags)
    if any(ctx.problems for ctx in ctxs.values()):
        return None
    return _assemble(recs)


def load_kb(data_dir: Path) -> KnowledgeBase:
    """Load and validate the KB in `data_dir` from its YAML files (no cache)."""
    return read_kb(data_dir)[0]
