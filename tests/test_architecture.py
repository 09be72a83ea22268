"""The shape of the code: dataclass records, imports one way, one format table."""

from __future__ import annotations

import ast
import dataclasses
import inspect
import json
from pathlib import Path

import pytest

import cmx.model as m
from cmx import output

PACKAGE = Path(__file__).parent.parent / "cmx"

# Who may import whom (inside functions too). Imports flow one way:
# process -> cli -> output -> renderers (render, detail, brief, cite, ics) ->
# {store, search, kb, tracking, filters} -> {model, i18n, errors}.
ALLOWED = {
    "errors": set(),
    "kbfiles": {"errors"},  # the KB's files, by their stat: read on every run
    "model": set(),
    "places": set(),
    "i18n": {"places"},  # the cache folder: Babel's date patterns, kept (cmx.i18n)
    "files": {"i18n", "places"},
    "kb": {"model", "errors", "kbfiles"},
    "search": {"model", "i18n"},
    "tables": {"model"},  # the records' tables, derived from their fields
    "store": {
        "errors",
        "kb",  # only when the YAML is parsed or hashed
        "kbfiles",
        "search",
        "model",
        "files",
        "tables",
        "places",
    },  # files: temporary files, swept
    # `cmx export sqlite`: the store's tables plus labels, full text, views, metadata
    "export_db": {"tables", "store", "model", "i18n"},
    "rows": {"model", "search"},
    "filters": {"errors", "i18n", "model", "search"},
    "tracking": {"model", "i18n"},
    "schema": {"kb", "kbfiles", "model"},
    "render": {"i18n"},
    "detail": {"model", "i18n"},
    "brief": {"model", "render", "i18n", "tracking", "detail"},
    "ics": {"model", "i18n"},
    "cite": {"model", "i18n"},
    "completion": {"errors", "i18n", "kbfiles", "model", "search", "store"},
    "site": {"model", "i18n", "tracking"},
    "output": {
        "export_db",
        "site",
        "render",
        "rows",
        "detail",
        "brief",
        "cite",
        "ics",
        "tracking",
        "search",
        "store",
        "files",
        "filters",
        "errors",
        "i18n",
        "model",
    },
    "run": {"errors", "filters", "i18n", "kbfiles", "model", "output", "store", "tracking"},
    "options": {"completion", "errors", "filters", "i18n", "output", "run"},
    "cli": {
        "api",
        "output",
        "filters",
        "run",
        "options",
        "model",
        "i18n",
        "errors",
        "rows",
        "search",
        "tracking",
        "schema",
        "completion",
        "mcp_server",
    },
    "process": {"cli", "errors", "i18n"},
    # The Python API sits beside the command line (the CLI's commands can call it) and
    # the MCP server on top of it; the server alone imports the optional `mcp` SDK.
    "api": {
        "errors",
        "filters",
        "i18n",
        "kb",
        "kbfiles",
        "model",
        "output",
        "run",
        "search",
        "store",
        "tracking",
    },
    "mcp_server": {"api", "errors", "filters", "i18n", "model", "output", "rows"},
}
# Presentation belongs to cmx.output and the renderers: the command line hands results
# to the writer and never formats text itself.
RENDERERS = {"render", "detail", "brief", "cite", "ics"}


def cmx_imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "cmx":
                found |= {a.name for a in node.names if a.name != "__version__"}
            elif node.module.startswith("cmx."):
                found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            found |= {a.name.split(".")[1] for a in node.names if a.name.startswith("cmx.")}
    return found


def graph() -> dict[str, set[str]]:
    return {
        p.stem: cmx_imports(p) - {p.stem}
        for p in PACKAGE.glob("*.py")
        if p.stem not in ("__init__", "__main__")
    }


def test_imports_flow_one_way():
    for module, imports in graph().items():
        assert module in ALLOWED, f"new module {module}: say where it sits in ALLOWED"
        assert imports <= ALLOWED[module], f"{module} imports {imports - ALLOWED[module]}"


def test_no_import_cycle():
    edges = graph()
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> None:
        if state.get(node) == 1:
            pytest.fail("import cycle: " + " -> ".join([*path, node]))
        if state.get(node) == 2:
            return
        state[node] = 1
        for nxt in edges.get(node, ()):
            visit(nxt, [*path, node])
        state[node] = 2

    for module in edges:
        visit(module, [])


def test_only_the_store_knows_about_caching():
    for path in PACKAGE.glob("*.py"):
        text = path.read_text(encoding="utf-8")
        if path.stem != "places":  # where the cache folder is: one place
            assert "CMX_CACHE_DIR" not in text, path.name
        # SQLite: the store, the tables it maps from the model, and the export beside it
        if path.stem not in ("store", "tables", "export_db"):
            assert "sqlite3" not in text, path.name


RECORDS = [
    c
    for c in vars(m).values()
    if isinstance(c, type) and issubclass(c, m.Record) and c is not m.Record
]


def test_every_record_is_listed():
    assert {c.__name__ for c in RECORDS} >= {
        "Text", "Citation", "Source", "Sector", "Pillar", "Amount", "Event", "Actor",
        "Commitment", "Note", "Labels", "Concept", "KnowledgeBase",
    }  # fmt: skip


@pytest.mark.parametrize("cls", RECORDS, ids=lambda c: c.__name__)
def test_records_are_frozen_slotted_dataclasses(cls):
    assert dataclasses.is_dataclass(cls)
    assert cls.__dataclass_params__.frozen
    assert "__slots__" in cls.__dict__
    record = cls.__new__(cls)
    for f in dataclasses.fields(cls):
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(record, f.name, None)
        with pytest.raises(dataclasses.FrozenInstanceError):
            delattr(record, f.name)


@pytest.mark.parametrize("cls", RECORDS, ids=lambda c: c.__name__)
def test_a_written_out_init_takes_the_fields_in_order_with_their_defaults(cls):
    """The records' __init__ is written by hand (start-up, see cmx.model): it must be
    the one `dataclass` would generate."""
    params = list(inspect.signature(cls.__init__).parameters.values())[1:]
    fields = [f for f in dataclasses.fields(cls) if f.init]
    assert [p.name for p in params] == [f.name for f in fields]
    for p, f in zip(params, fields, strict=True):
        assert p.kind is p.POSITIONAL_OR_KEYWORD
        assert p.default == (p.empty if f.default is dataclasses.MISSING else f.default), f.name
        assert f.default_factory is dataclasses.MISSING


def test_replace_keeps_a_record_whole():
    kb = m.KnowledgeBase((), (), (m.Source("s", "T", "P", m.SourceKind.NEWS),))
    c = m.Commitment("c", "prosperity", "x", m.Text("a", "b", "c"), m.Text("", "", ""), ())
    moved = dataclasses.replace(c, status=m.Status.UNDERWAY)
    assert moved.status is m.Status.UNDERWAY and moved.title == c.title and moved != c
    again = dataclasses.replace(kb, commitments=(c,))
    assert again.get("c") is c and again.source("s") == kb.source("s")


def test_records_have_no_tuple_surprises():
    text = m.Text("a", "b", "c")
    assert text != ("a", "b", "c")
    assert text == m.Text("a", "b", "c") and hash(text) == hash(m.Text("a", "b", "c"))
    assert text != m.Citation("a")
    with pytest.raises(TypeError):
        len(text)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        json.dumps(text)
    with pytest.raises(dataclasses.FrozenInstanceError):
        text.en = "x"  # type: ignore[misc]
    assert repr(m.Citation("s", "p. 2")) == "Citation(source='s', section='p. 2')"


def test_the_command_line_never_renders_or_styles():
    source = (PACKAGE / "cli.py").read_text(encoding="utf-8")
    assert not cmx_imports(PACKAGE / "cli.py") & RENDERERS
    assert "rich" not in {
        a.name.split(".")[0]
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Import | ast.ImportFrom)
        for a in (
            [ast.alias(node.module or "")] if isinstance(node, ast.ImportFrom) else node.names
        )
    }
    assert "print(" not in source and "sys.stdout" not in source


def test_no_module_global_carries_the_readers_context():
    """The language and the rest of the reader's context travel as arguments (a Reader);
    no module keeps them in a global that a call could change for the next."""
    for path in PACKAGE.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, ast.Assign):
                names = [t.id for t in node.targets if isinstance(t, ast.Name)]
                assert "state" not in names, path.name
            if isinstance(node, ast.Global | ast.Nonlocal):
                pytest.fail(f"{path.name}: a global statement")
        for node in ast.walk(tree):
            assert not isinstance(node, ast.Global), f"{path.name}: global {node.names}"


def test_one_format_table_drives_help_and_writers(runner):
    from cmx.cli import app

    for kind, writers in output.WRITERS.items():
        assert set(writers) <= set(output.Format), kind
    result = runner.invoke(app, ["commitments", "--help"])
    assert ", ".join(output.formats(output.Listing)) in " ".join(result.stdout.split())
    sources = runner.invoke(app, ["sources", "--help"])
    assert ", ".join(output.formats(output.SourceListing)) in " ".join(sources.stdout.split())


def test_cli_is_thin():
    lines = {p.stem: len(p.read_text(encoding="utf-8").splitlines()) for p in PACKAGE.glob("*.py")}
    total = sum(lines.values())
    assert lines["cli"] <= 900
    for module, n in lines.items():
        assert n <= 0.15 * total, f"{module}: {n} of {total} lines"
