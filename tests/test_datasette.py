"""`cmx export sqlite` as the real Datasette and sqlite-utils read it (test extras).

Datasette runs in-process (`Datasette(...).client`): the pillar facet counts what
`cmx pillars` counts, the commitments page has a search box that folds accents, the
overdue canned query lists what `cmx commitments --overdue` lists, and a filtered
export is a self-consistent file. docs/sqlite.md's table list is generated from the code.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from cmx.api import open_kb
from cmx.cli import app
from cmx.export_db import schema_markdown
from cmx.model import PLAN_WIDE

datasette_app = pytest.importorskip("datasette.app")
sqlite_utils = pytest.importorskip("sqlite_utils")

TODAY = "2026-12-06"
DOCS = Path(__file__).parent.parent / "docs" / "sqlite.md"


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The shipped plan exported once per language, each with its metadata file."""
    from typer.testing import CliRunner

    folder = tmp_path_factory.mktemp("export")
    out: dict[str, Path] = {}
    for lang in ("en", "es"):
        db, meta = folder / lang / "plan.db", folder / lang / "plan.yml"
        db.parent.mkdir()
        args = ["--today", TODAY, "export", "sqlite", "-o", str(db), "--metadata", str(meta)]
        result = CliRunner().invoke(app, [*args, "--lang", lang])
        assert result.exit_code == 0, result.output
        out[lang] = db
    return out


def ask(db: Path, *paths: str) -> list[Any]:
    """GET each path from a Datasette serving `db` with its metadata; the JSON answers."""
    metadata = yaml.safe_load(db.with_suffix(".yml").read_text(encoding="utf-8"))

    async def run() -> list[Any]:
        ds = datasette_app.Datasette([str(db)], metadata=metadata)
        await ds.invoke_startup()
        answers = []
        for path in paths:
            response = await ds.client.get(path)
            assert response.status_code == 200, (path, response.text[:500])
            answers.append(response.json() if ".json" in path else response.text)
        return answers

    return asyncio.run(run())


def test_the_pillar_facet_counts_what_cmx_pillars_counts(exported):
    (page,) = ask(exported["en"], "/plan/commitments.json?_size=0")
    facet = page["facet_results"]["scope"]
    results = facet["results"] if isinstance(facet, dict) else facet
    counts = {r["value"]: r["count"] for r in results}
    labels = {r["value"]: r["label"] for r in results}
    expected = open_kb().counts()
    assert counts == {k: expected[k] for k in (*counts, PLAN_WIDE)} and PLAN_WIDE in counts
    assert labels["security"] == "Security" and labels[PLAN_WIDE] == "Whole plan (governance)"
    (es,) = ask(exported["es"], "/plan/commitments.json?_size=0")
    facet = es["facet_results"]["scope"]
    results = facet["results"] if isinstance(facet, dict) else facet
    assert {r["value"]: r["label"] for r in results}["security"] == "Seguridad"


@pytest.mark.parametrize(
    ("lang", "path", "wanted"),
    [
        ("en", "/plan/commitments.json?_search=energía&_shape=objects", "energy-efficiency"),
        ("es", "/plan/commitments.json?_search=energia&_shape=objects", "energy-efficiency"),
        (
            "es",
            "/plan/commitments.json?_search=fentanilo&_shape=objects",
            "drug-trafficking-fentanyl",
        ),
        (
            "es",
            "/plan/commitments_es.json?_search=fentanilo&_shape=objects",
            "drug-trafficking-fentanyl",
        ),
    ],
)
def test_the_search_box_finds_words_accents_folded(exported, lang, path, wanted):
    page, html = ask(exported[lang], path, "/plan/commitments")
    assert wanted in [r["id"] for r in page["rows"]]
    assert 'name="_search"' in html  # the commitments page has a search box


def test_the_overdue_canned_query_lists_what_cmx_lists(exported, runner, monkeypatch):
    monkeypatch.setenv("CMX_TODAY", TODAY)
    result = runner.invoke(app, ["commitments", "--overdue", "-f", "json"])
    assert result.exit_code == 0, result.output
    expected = [r["id"] for r in json.loads(result.stdout)]
    assert expected
    for lang in ("en", "es"):
        (page,) = ask(exported[lang], f"/plan/overdue.json?today={TODAY}&_shape=objects")
        assert [r["id"] for r in page["rows"]] == expected
        (default,) = ask(exported[lang], "/plan/overdue.json?today=&_shape=objects")
        assert [r["id"] for r in default["rows"]] == expected  # meta.today: the export's date
        (view,) = ask(exported[lang], f"/plan/overdue_{lang}.json?_shape=objects")
        assert [r["id"] for r in view["rows"]] == expected


def test_the_metadata_is_in_the_readers_language(exported):
    es = yaml.safe_load(exported["es"].with_suffix(".yml").read_text(encoding="utf-8"))
    assert es["title"].startswith("Plan de Acción")
    tables = es["databases"]["plan"]["tables"]
    assert tables["pillars"]["label_column"] == "name_es"
    assert tables["commitments"]["sort"] == "position"
    assert "scope" in tables["commitments"]["facets"]
    assert es["databases"]["plan"]["queries"]["overdue"]["title"] == "Vencidos"


def test_sqlite_utils_searches_the_commitments_accents_folded(exported):
    db = sqlite_utils.Database(exported["en"])
    assert db["commitments"].detect_fts() == "commitments_fts"
    found = [r["id"] for r in db["commitments"].search("energia")]
    assert "energy-efficiency" in found
    cli = Path(sys.executable).with_name("sqlite-utils")
    if cli.exists():
        out = subprocess.run(
            [str(cli), "search", str(exported["en"]), "commitments", "energía", "-c", "id"],
            capture_output=True,
            text=True,
            check=True,
        )
        assert "energy-efficiency" in out.stdout


@pytest.mark.parametrize("args", [[], ["--pillar", "security"], ["--as-of", "2025-10-01"]])
def test_full_and_filtered_exports_have_no_dangling_keys(runner, tmp_path, args):
    out = tmp_path / "plan.db"
    result = runner.invoke(app, ["export", "sqlite", "-o", str(out), *args])
    assert result.exit_code == 0, result.output
    with sqlite3.connect(out) as conn:
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        meta = dict(conn.execute("SELECT key, value FROM meta"))
        assert {"cmx_version", "schema_version", "schema_hash", "today", "newest_date"} <= set(meta)
        assert conn.execute("SELECT count(*) FROM concepts").fetchone()[0] > 0
        if args[:1] == ["--pillar"]:
            scopes = {r[0] for r in conn.execute("SELECT DISTINCT scope FROM commitments")}
            assert scopes == {"security"}


def test_docs_list_the_tables_the_code_writes():
    text = DOCS.read_text(encoding="utf-8")
    start, end = "<!-- tables: generated -->\n", "<!-- /tables -->"
    assert start in text and end in text
    listed = text.split(start, 1)[1].split(end, 1)[0]
    assert listed == schema_markdown()


def test_spanish_metadata_describes_the_columns_in_spanish():
    from cmx.export_db import COLUMNS, COLUMNS_IN, metadata

    assert set(COLUMNS_IN["es"]) == set(COLUMNS) == set(COLUMNS_IN["fr"])
    es = metadata("plan", "es", dt.date(2026, 12, 6))["databases"]["plan"]["tables"]
    assert es["commitments"]["columns"]["sector"] == "el área prioritaria"
