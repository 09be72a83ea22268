"""The SQLite tables of the knowledge base, derived from the model's fields by name.

One mapping serves the DDL, the writes and the reads (cmx.store) and the export
(cmx.export_db): a field added to a record is a column (or a child table) of its table
with no hand edit, and the schema's hash (in `meta`) changes with it, so every cached
store is rebuilt. How a field is stored follows from its type:

- `str`, `int`, `float`, `bool` (as 0/1) and enums (their value): one column, the field's name;
- a record (`Text`, `Amount`, `Labels`): its fields as columns `<field>_<subfield>`
  (`title_en`, `title_es`, `title_fr`; `amount_value` …); an optional one is NULL throughout;
- `tuple[str, ...]`: a JSON list, or a link table where LINKS names one
  (`commitment_actors`, `note_commitments`);
- `tuple[Citation, ...]`: rows of the shared `citations` table;
- `tuple[Record, ...]`: a child table (`events`) keyed by its owner and position;
  a tuple of records that have a table of their own (a pillar's sectors): that table.

Every top-level table also has `position`, the plan's order (1, 2, …; also the rowid),
and DERIVED columns computed from the whole knowledge base (a commitment's scope,
basis and the last day its deadline covers).
"""

from __future__ import annotations

import dataclasses
import enum
import json
import sqlite3
import types
import typing
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from cmx import model as m

_set = object.__setattr__  # how a frozen record's __init__ fills its slots

# --------------------------------------------------------------------- the mapping

# The top-level records and their tables, in the order they are written.
RECORDS: tuple[tuple[str, str], ...] = (
    ("sources", "Source"),
    ("pillars", "Pillar"),
    ("sectors", "Sector"),
    ("actors", "Actor"),
    ("commitments", "Commitment"),
    ("concepts", "Concept"),
    ("notes", "Note"),
    ("tags", "Tag"),
)
# A tuple of ids stored as a link table rather than a JSON list: (table, column, target).
LINKS: dict[tuple[str, str], tuple[str, str, str]] = {
    ("commitments", "actors"): ("commitment_actors", "actor", "actors"),
    ("notes", "related"): ("note_commitments", "commitment", "commitments"),
}
# A tuple of records (not top-level) stored in a child table of this name.
CHILDREN: dict[tuple[str, str], str] = {("commitments", "events"): "events"}
# Columns that name an entry of another table (foreign keys).
REFERENCES: dict[tuple[str, str], str] = {
    ("sectors", "pillar"): "pillars",
    ("commitments", "pillar"): "pillars",
    ("commitments", "sector"): "sectors",
    ("commitments", "amount_source"): "sources",
    ("commitments", "scope"): "scopes",
    ("commitments", "status"): "statuses",
    ("commitments", "instrument"): "instruments",
    ("commitments", "basis"): "bases",
    ("events", "source"): "sources",
    ("citations", "source"): "sources",
    ("notes", "source"): "sources",
}
CITATIONS = "citations"


def _due_by(c: m.Commitment) -> str | None:
    return m.date_bounds(c.due)[1].isoformat() if c.due else None


# Columns computed from the knowledge base, written and never read back:
# (table, column, SQL type, value).
DERIVED: tuple[tuple[str, str, str, Callable[[m.KnowledgeBase, Any], Any]], ...] = (
    ("commitments", "scope", "TEXT NOT NULL", lambda kb, c: kb.scope(c)),
    ("commitments", "basis", "TEXT NOT NULL", lambda kb, c: kb.basis(c).value),
    ("commitments", "due_by", "TEXT", lambda kb, c: _due_by(c)),
)


def singular(table: str) -> str:
    return table[:-1]


class Codec:
    """How one field is stored: its columns (name, SQL type), how a value becomes them,
    and `source(at, ns)`: a Python expression that reads it back from `row[at…]` (the
    readers are compiled from these, once per schema: ~3× faster than calls per value)."""

    __slots__ = ("columns", "encode", "name", "source", "values")

    def __init__(
        self,
        name: str,
        columns: list[tuple[str, str]],
        encode: Callable[[Any], tuple[Any, ...]],
        source: Callable[[int, dict[str, Any]], str],
    ) -> None:
        self.name = name
        self.columns = columns
        self.encode = encode
        self.source = source
        # values(expr, ns): Python expressions of the columns of the value `expr`
        # (the writers are compiled from these, as the readers are)
        self.values: Callable[[str, dict[str, Any]], list[str]] = lambda expr, ns: [
            f"*{_bind(ns, encode)}({expr})"
        ]


def _fresh(value: str) -> str:
    """A string to bind: sqlite3 caches the UTF-8 form of a non-ASCII str inside the
    object, for as long as the object lives, so a KB's text bound as it is would be held
    twice for the rest of the run (~100 MB at 100,000 commitments). A short-lived copy's
    cache goes with the copy."""
    return value if value.isascii() else (value + " ")[:-1]


def json_list(items: Sequence[str]) -> str:
    return json.dumps(list(items), ensure_ascii=False) if items else "[]"


def read_list(value: str) -> tuple[str, ...]:
    if value == "[]":
        return ()
    items = json.loads(value)
    if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
        raise ValueError("not a list of text")
    return tuple(items)


def _optional(tp: Any) -> tuple[Any, bool]:
    if isinstance(tp, types.UnionType) or typing.get_origin(tp) is typing.Union:
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) != 1:
            raise TypeError(f"cannot store {tp}")
        return args[0], True
    return tp, False


def _element(tp: Any) -> Any:
    """X of tuple[X, ...], else None."""
    if typing.get_origin(tp) is tuple:
        args = typing.get_args(tp)
        if len(args) == 2 and args[1] is Ellipsis:
            return args[0]
    return None


def record_fields(cls: type) -> list[tuple[str, Any]]:
    """The stored fields of a record class: (name, resolved type), in order."""
    fields = [f for f in dataclasses.fields(cls) if f.init]
    if any(isinstance(f.type, str) for f in fields):  # postponed annotations (a test's record)
        hints = typing.get_type_hints(cls)
        return [(f.name, hints[f.name]) for f in fields]
    return [(f.name, f.type) for f in fields]


def _bind(ns: dict[str, Any], value: Any) -> str:
    """A name for `value` in the namespace of compiled readers."""
    for key, there in ns.items():
        if there is value:
            return key
    key = f"_v{len(ns)}"
    ns[key] = value
    return key


def _scalar(name: str, sql: str, null: bool, enc: Any, dec: Any) -> Codec:
    decl = sql if null else f"{sql} NOT NULL"

    def encode(value: Any) -> tuple[Any, ...]:
        return (None if value is None else enc(value),)

    def source(at: int, ns: dict[str, Any]) -> str:
        value = f"row[{at}]"
        if dec is None:
            return value
        read = f"{_bind(ns, dec)}({value})"
        return f"(None if {value} is None else {read})" if null else read

    made = Codec(name, [(name, decl)], encode, source)

    def values(expr: str, ns: dict[str, Any]) -> list[str]:
        if enc is _value:
            value = f"{expr}.value"
        elif enc is None or enc in (int, float):
            value = expr
        else:
            value = f"{_bind(ns, enc)}({expr})"
        return [f"(None if {expr} is None else {value})" if null and value != expr else value]

    made.values = values
    return made


def _value(member: enum.Enum) -> Any:
    return member.value


def codec(name: str, tp: Any, nullable: bool = False) -> Codec:
    """How a field called `name` of type `tp` is stored (TypeError: it cannot be)."""
    tp, optional = _optional(tp)
    null = nullable or optional
    if tp is bool:
        return _scalar(name, "INTEGER", null, int, bool)
    if tp is int:
        return _scalar(name, "INTEGER", null, int, int)
    if tp is float:
        return _scalar(name, "REAL", null, float, float)
    if tp is str:  # read as it is: SQLite gives text back as str
        return _scalar(name, "TEXT", null, _fresh, None)
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return _scalar(name, "TEXT", null, _value, tp)
    if _element(tp) is str:
        return _scalar(name, "TEXT", null, json_list, read_list)
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return _nested(name, tp, optional, null)
    raise TypeError(f"cannot store field {name!r} of type {tp}")


def _nested(name: str, cls: type, optional: bool, null: bool) -> Codec:
    parts = [codec(f"{name}_{f}" if name else f, t, null) for f, t in record_fields(cls)]
    names = [f for f, _ in record_fields(cls)]
    columns = [c for p in parts for c in p.columns]
    width = len(columns)

    def encode(value: Any) -> tuple[Any, ...]:
        if value is None:
            return (None,) * width
        out: list[Any] = []
        for f, p in zip(names, parts, strict=True):
            out.extend(p.encode(getattr(value, f)))
        return tuple(out)

    def source(at: int, ns: dict[str, Any]) -> str:
        make = _call(_bind(ns, cls), zip(names, parts, strict=True), at, ns)
        if not optional:
            return make
        empty = " and ".join(f"row[{i}] is None" for i in range(at, at + width))
        return f"(None if {empty} else {make})"

    made = Codec(name, columns, encode, source)

    def values(expr: str, ns: dict[str, Any]) -> list[str]:
        out = []
        for f, p in zip(names, parts, strict=True):
            for value in p.values(f"{expr}.{f}", ns):
                out.append(f"(None if {expr} is None else {value})" if optional else value)
        return out

    made.values = values
    return made


def _call(
    fn: str, parts: Iterable[tuple[str, Codec]], at: int, ns: dict[str, Any], extra: str = ""
) -> str:
    args = []
    for field, part in parts:
        args.append(f"{field}={part.source(at, ns)}")
        at += len(part.columns)
    return f"{fn}({', '.join(args)}{extra})"


def compile_reader(
    source: str, ns: dict[str, Any], args: str = "row", code: dict[str, Any] | None = None
) -> Callable[..., Any]:
    """A function of `args` that returns the expression `source`. `code`: code objects
    already compiled, by their text (Schema.code); one compiled here is added to it."""
    text = f"def read({args}):\n    return {source}\n"
    compiled = code.get(text) if code is not None else None
    if compiled is None:
        # the text is built from the model's field names, never from data
        compiled = compile(text, "<cmx reader>", "exec")
        if code is not None:
            code[text] = compiled
    exec(compiled, ns)
    reader: Callable[..., Any] = ns["read"]
    return reader


@m.record  # a frozen slotted dataclass, cheap to define (see cmx.model)
class Child(m.Record):
    """A field stored in rows of another table: `kind` is 'link', 'rows', 'citations'
    or 'table' (records with a table of their own, such as a pillar's sectors)."""

    field: str
    kind: str
    table: str
    codec: Codec | None = None  # rows: the element's columns; link: the value column
    cls: type | None = None

    def __init__(
        self,
        field: str,
        kind: str,
        table: str,
        codec: Codec | None = None,
        cls: type | None = None,
    ) -> None:
        _set(self, "field", field)
        _set(self, "kind", kind)
        _set(self, "table", table)
        _set(self, "codec", codec)
        _set(self, "cls", cls)


@m.record
class Table(m.Record):
    """A top-level record's table: its own columns, children, derived columns."""

    name: str
    cls: type
    codecs: tuple[Codec, ...]
    children: tuple[Child, ...]
    derived: tuple[tuple[str, str, Callable[[m.KnowledgeBase, Any], Any]], ...]

    def __init__(
        self,
        name: str,
        cls: type,
        codecs: tuple[Codec, ...],
        children: tuple[Child, ...],
        derived: tuple[tuple[str, str, Callable[[m.KnowledgeBase, Any], Any]], ...],
    ) -> None:
        _set(self, "name", name)
        _set(self, "cls", cls)
        _set(self, "codecs", codecs)
        _set(self, "children", children)
        _set(self, "derived", derived)

    @property
    def columns(self) -> list[str]:
        """The columns read back into records, in order."""
        return [c for k in self.codecs for c, _ in k.columns]

    def maker(
        self, code: dict[str, Any] | None = None
    ) -> Callable[[Sequence[Any], list[dict[Any, Any]]], Any]:
        """A record from its row and its children (one dict per child, by owner id)."""
        ns: dict[str, Any] = {}
        kids = ", ".join(
            f"{c.field}=kids[{i}].get(row[0], ())" for i, c in enumerate(self.children)
        )
        parts = [(k.name, k) for k in self.codecs]
        source = _call(_bind(ns, self.cls), parts, 0, ns, f", {kids}" if kids else "")
        return compile_reader(source, ns, "row, kids", code)


@m.record
class Schema(m.Record):
    """Every table of the knowledge base, and the DDL they make."""

    tables: dict[str, Table]
    ddl: str
    readers: dict[str, Callable[..., Any]]
    # The readers' code objects by their text: compiling them is most of a small read's
    # time, so the store keeps them between runs (cmx.store.keep_code) and puts them here.
    code: dict[str, Any]

    def __init__(self, tables: dict[str, Table], ddl: str) -> None:
        _set(self, "tables", tables)
        _set(self, "ddl", ddl)
        _set(self, "readers", {})
        _set(self, "code", {})

    def reader(self, key: str, build: Callable[[], Callable[..., Any]]) -> Callable[..., Any]:
        """A compiled reader, made once per schema."""
        found = self.readers.get(key)
        if found is None:
            found = self.readers[key] = build()
        return found

    @property
    def hash(self) -> str:
        data = self.ddl.encode()
        return f"{zlib.crc32(data):08x}{zlib.adler32(data):08x}"

    def table_of(self, cls: type) -> Table | None:
        """The table of `cls` (or of a class that replaces it, as a test may)."""
        for t in self.tables.values():
            if issubclass(cls, t.cls) or issubclass(t.cls, cls):
                return t
        return None


def schema() -> Schema:
    """The mapping of the model as it is now (its classes are looked up on each call, so
    a test can replace one)."""
    classes = {name: getattr(m, cls) for name, cls in RECORDS}
    by_class = {cls: name for name, cls in classes.items()}
    tables: dict[str, Table] = {}
    ddl: list[str] = []
    child_ddl: list[str] = []
    for name, cls in classes.items():
        codecs: list[Codec] = []
        children: list[Child] = []
        owner = singular(name)
        for field, tp in record_fields(cls):
            element = _element(tp)
            if (name, field) in LINKS:
                link, column, target = LINKS[(name, field)]
                value = _scalar(column, "TEXT", False, _fresh, None)
                children.append(Child(field, "link", link, value))
                child_ddl.append(
                    f"CREATE TABLE {link} (\n  {owner} TEXT NOT NULL REFERENCES {name}(id),"
                    f"\n  position INTEGER NOT NULL,\n  {column} TEXT NOT NULL REFERENCES "
                    f"{target}(id),\n  PRIMARY KEY ({owner}, position))"
                )
            elif element is m.Citation:
                children.append(Child(field, "citations", CITATIONS))
            elif isinstance(element, type) and element in by_class:
                children.append(Child(field, "table", by_class[element], cls=element))
            elif isinstance(element, type) and dataclasses.is_dataclass(element):
                child = CHILDREN.get((name, field), f"{owner}_{field}")
                rows = codec("", element)
                rows = Codec(field, rows.columns, rows.encode, rows.source)
                children.append(Child(field, "rows", child, rows, element))
                inner = ",\n  ".join(f"{c} {decl}{_ref(child, c)}" for c, decl in rows.columns)
                child_ddl.append(
                    f"CREATE TABLE {child} (\n  {owner} TEXT NOT NULL REFERENCES {name}(id),"
                    f"\n  position INTEGER NOT NULL,\n  {inner},"
                    f"\n  PRIMARY KEY ({owner}, position))"
                )
            else:
                codecs.append(codec(field, tp))
        derived = tuple((c, decl, fn) for t, c, decl, fn in DERIVED if t == name)
        tables[name] = Table(name, cls, tuple(codecs), tuple(children), derived)
        cols = [f"{c} {decl}{_ref(name, c)}" for k in codecs for c, decl in k.columns]
        cols = [cols[0] + " PRIMARY KEY", "position INTEGER NOT NULL", *cols[1:]]
        cols += [f"{c} {decl}{_ref(name, c)}" for c, decl, _ in derived]
        ddl.append(f"CREATE TABLE {name} (\n  " + ",\n  ".join(cols) + ")")
    ddl.append(
        f"CREATE TABLE {CITATIONS} (\n  entry_kind TEXT NOT NULL,\n  entry TEXT NOT NULL,\n"
        "  position INTEGER NOT NULL,\n  source TEXT NOT NULL REFERENCES sources(id),\n"
        "  section TEXT,\n  PRIMARY KEY (entry_kind, entry, position))"
    )
    return Schema(tables, ";\n".join(ddl + child_ddl) + ";\n")


def _ref(table: str, column: str) -> str:
    target = REFERENCES.get((table, column))
    return f" REFERENCES {target}(id)" if target else ""


# --------------------------------------------------------------------- the rows


def _kb_groups(kb: m.KnowledgeBase, s: Schema) -> Iterator[tuple[Table, Sequence[Any]]]:
    """Each table with its records, in the order of RECORDS."""
    found: dict[str, list[Any]] = {}
    for field, tp in record_fields(type(kb)):
        element = _element(tp)
        table = s.table_of(element) if isinstance(element, type) else None
        if table is None:
            continue
        items = list(getattr(kb, field))
        found[table.name] = items
        for child in table.children:
            if child.kind == "table":
                found[child.table] = [x for item in items for x in getattr(item, child.field)]
    for name, table in s.tables.items():
        yield table, found.get(name, [])


def write_rows(conn: sqlite3.Connection, kb: m.KnowledgeBase, s: Schema) -> None:
    """Every record of `kb` into the (created, empty) tables of `s`."""
    for table, items in _kb_groups(kb, s):
        cols = table.columns
        names = ["rowid", cols[0], "position", *cols[1:], *(c for c, _, _ in table.derived)]
        sql = f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({_marks(len(names))})"

        ns: dict[str, Any] = {"kb": kb}
        values = [v for k in table.codecs for v in k.values(f"item.{k.name}", ns)]
        derived = [f"{_bind(ns, fn)}(kb, item)" for _, _, fn in table.derived]
        row = compile_reader(
            f"(i, {values[0]}, i, {', '.join([*values[1:], *derived])})", ns, "i, item"
        )
        conn.executemany(sql, (row(i, item) for i, item in enumerate(items, 1)))
        kind = singular(table.name)
        for child in table.children:
            _write_child(conn, child, kind, items)


def _marks(n: int) -> str:
    return ",".join("?" * n)


def _write_child(conn: sqlite3.Connection, child: Child, kind: str, items: Sequence[Any]) -> None:
    if child.kind == "citations":
        conn.executemany(
            f"INSERT INTO {CITATIONS} VALUES (?,?,?,?,?)",
            (
                (kind, item.id, i, x.source, x.section)
                for item in items
                for i, x in enumerate(getattr(item, child.field))
            ),
        )
    elif child.kind in ("link", "rows"):
        assert child.codec is not None
        enc = child.codec.encode
        width = len(child.codec.columns)
        conn.executemany(
            f"INSERT INTO {child.table} VALUES ({_marks(width + 2)})",
            (
                (item.id, i, *(enc(x) if child.kind == "rows" else (x,)))
                for item in items
                for i, x in enumerate(getattr(item, child.field))
            ),
        )


# --------------------------------------------------------------------- reading back


def _where(column: str, ids: Sequence[str] | None) -> tuple[str, tuple[Any, ...]]:
    if ids is None:
        return "", ()
    return f" WHERE {column} IN (SELECT value FROM json_each(?))", (json.dumps(list(ids)),)


def _grouped(rows: Iterable[Sequence[Any]]) -> dict[Any, list[Sequence[Any]]]:
    out: dict[Any, list[Sequence[Any]]] = {}
    for row in rows:
        out.setdefault(row[0], []).append(row)
    return out


def read_records(
    conn: sqlite3.Connection,
    s: Schema,
    name: str,
    ids: Sequence[str] | None = None,
    *,
    where: str = "",
    args: Sequence[Any] = (),
) -> list[Any]:
    """Records of table `name` in plan order: all, those with `ids`, or those a SQL
    condition on the table's columns (`where`, with `args`) keeps."""
    table = s.tables[name]
    cond, cond_args = _where("id", ids)
    if where:
        cond = f"{cond} AND ({where})" if cond else f" WHERE {where}"
        cond_args = (*cond_args, *args)
    rows = conn.execute(
        f"SELECT {', '.join(table.columns)} FROM {name}{cond} ORDER BY position", cond_args
    ).fetchall()
    if not rows:
        return []
    wanted = [r[0] for r in rows] if (ids is not None or where) else None
    owner = singular(name)
    extra: dict[str, dict[Any, Any]] = {}
    for child in table.children:
        extra[child.field] = _read_child(conn, s, child, owner, wanted)
    make = s.reader(name, lambda: table.maker(s.code))
    kids = [extra[c.field] for c in table.children]
    return [make(row, kids) for row in rows]


def _read_child(
    conn: sqlite3.Connection, s: Schema, child: Child, owner: str, ids: Sequence[str] | None
) -> dict[Any, tuple[Any, ...]]:
    if child.kind == "citations":
        cond, args = _where("entry", ids)
        cond = f"{cond} AND entry_kind = ?" if cond else " WHERE entry_kind = ?"
        rows = conn.execute(
            f"SELECT entry, source, section FROM {CITATIONS}{cond} ORDER BY entry, position",
            (*args, owner),
        )
        return {k: tuple(m.Citation(r[1], r[2]) for r in v) for k, v in _grouped(rows).items()}
    if child.kind == "table":
        assert child.cls is not None
        items = read_records(conn, s, child.table, where=_owner_in(owner, ids), args=_ids(ids))
        found: dict[Any, list[Any]] = {}
        for item in items:
            found.setdefault(getattr(item, owner), []).append(item)
        return {k: tuple(v) for k, v in found.items()}
    assert child.codec is not None
    cols = ", ".join(c for c, _ in child.codec.columns)
    cond, args = _where(owner, ids)
    rows = conn.execute(
        f"SELECT {owner}, {cols} FROM {child.table}{cond} ORDER BY {owner}, position", args
    )
    dec = s.reader(child.table, lambda: _child_reader(child, s.code))
    return {k: tuple(map(dec, v)) for k, v in _grouped(rows).items()}


def _child_reader(child: Child, code: dict[str, Any]) -> Callable[..., Any]:
    assert child.codec is not None
    ns: dict[str, Any] = {}
    return compile_reader(child.codec.source(1, ns), ns, "row", code)


def _owner_in(owner: str, ids: Sequence[str] | None) -> str:
    return "" if ids is None else f"{owner} IN (SELECT value FROM json_each(?))"


def _ids(ids: Sequence[str] | None) -> tuple[Any, ...]:
    return () if ids is None else (json.dumps(list(ids)),)


def read_kb(conn: sqlite3.Connection, s: Schema) -> m.KnowledgeBase:
    """The whole knowledge base from its tables."""
    kwargs: dict[str, Any] = {}
    for field, tp in record_fields(m.KnowledgeBase):
        element = _element(tp)
        table = s.table_of(element) if isinstance(element, type) else None
        if table is not None:
            kwargs[field] = tuple(read_records(conn, s, table.name))
    return m.KnowledgeBase(**kwargs)
