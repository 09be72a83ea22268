"""Exports: a Markdown brief whose citations resolve, CSV that round-trips, safe files."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import re
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from cmx import brief
from cmx.cli import app
from cmx.kb import load_kb

GOLDEN = Path(__file__).parent / "golden" / "brief.md"
TODAY = "2026-01-15"


def run(runner, kb_dir, *args):
    return runner.invoke(app, ["--data", str(kb_dir), "--today", TODAY, *args])


def headings(markdown: str) -> list[tuple[str, str]]:
    if markdown.startswith("---\n"):  # YAML front matter: pandoc's, not Markdown
        markdown = markdown.split("\n---\n", 1)[1]
    tokens = MarkdownIt().parse(markdown)
    return [
        (tok.tag, tokens[i + 1].content)
        for i, tok in enumerate(tokens)
        if tok.type == "heading_open"
    ]


def sources_list(markdown: str) -> list[str]:
    """The items of the ordered list under '## Sources' (or its translation)."""
    tokens = MarkdownIt().parse(markdown)
    start = max(i for i, t in enumerate(tokens) if t.type == "heading_open" and t.tag == "h2")
    return [t.content for t in tokens[start:] if t.type == "inline"][1:]


def test_dossier_structure(runner, kb_dir):
    result = run(runner, kb_dir, "export", "markdown", "--full", "--no-front-matter", "--mindmap")
    assert result.exit_code == 0, result.stderr
    md = result.stdout
    assert headings(md)[:2] == [
        ("h1", "Canada–Mexico Action Plan 2025–2028: dossier"),
        ("h2", "Overview"),
    ]
    h2 = [text for tag, text in headings(md) if tag == "h2"]
    assert h2 == [
        "Overview",
        "About the sources",
        "I. Prosperity",
        "III. Security",
        "Commentary (analysis, not official commitments)",
        "Sources",
    ]
    assert ("h4", "Upgrade the port of Manzanillo") in headings(md)
    assert "Generated January 15, 2026" in md and "newest source dated January 2026" in md
    assert "| I. Prosperity | 1 | 0 | 1 | 0 | 2 |" in md  # pillar × status overview
    assert "```mermaid\nmindmap" in md
    assert "(support: interpretation)" in md


def test_every_citation_resolves_to_a_source(runner, kb_dir):
    md = run(runner, kb_dir, "export", "markdown", "--full").stdout
    items = sources_list(md)
    numbers = {int(n) for n in re.findall(r"\[(\d+)(?:, [^\]]+)?\]", md)}
    assert numbers == set(range(1, len(items) + 1))
    kb = load_kb(kb_dir)
    titles = {s.title for s in kb.sources}
    assert all(any(item.startswith(t) for t in titles) for item in items)


def test_filtered_brief_holds_only_the_selection(runner, kb_dir):
    md = run(runner, kb_dir, "export", "markdown", "--full", "--pillar", "security").stdout
    assert "Funding against fentanyl" in md and "Border security talks" in md
    assert "Manzanillo" not in md and "hydrogen" not in md.lower()
    assert "Commentary" not in md  # the only note is about a prosperity commitment
    assert "Selection: 2 of 4 commitments." in md


def test_brief_in_spanish_and_french(runner, kb_dir):
    es = run(runner, kb_dir, "export", "markdown", "--full", "--lang", "es").stdout
    assert es.startswith('---\ntitle: "Plan de Acción Canadá–México 2025–2028: expediente"\n')
    assert "\nlang: es-MX\n---\n" in es  # so pandoc tags a DOCX or HTML file Spanish
    assert next(t for tag, t in headings(es) if tag == "h2") == "Panorama general"
    assert "Fuentes" in [t for _, t in headings(es)]
    assert "**Estado:** cumplido" in es and "Modernizar el puerto de Manzanillo" in es
    fr = run(runner, kb_dir, "export", "markdown", "--full", "--lang", "fr").stdout
    assert "Vue d'ensemble" in [t for _, t in headings(fr)]
    assert "**État :** réalisé" in fr  # French sets a space before the colon


def test_brief_matches_golden(kb_dir):
    kb = load_kb(kb_dir)
    text = brief.to_markdown(kb, kb.commitments, lang="en", today=dt.date(2026, 1, 15))
    text = re.sub(r"cmx \d+\.\d+\.\d+", "cmx X.Y.Z", text)
    if os.environ.get("CMX_REGENERATE_GOLDEN") == "1":  # on purpose only, never by default
        GOLDEN.write_text(text, encoding="utf-8")
    assert GOLDEN.exists(), "golden brief missing: run with CMX_REGENERATE_GOLDEN=1 on purpose"
    assert text == GOLDEN.read_text(encoding="utf-8")


def test_csv_round_trips(runner, kb_dir):
    result = run(runner, kb_dir, "export", "csv")
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [r["id"] for r in rows] == [
        "port-upgrade",
        "energy-dialogue",
        "fentanyl-funding",
        "border-talks",
    ]
    assert rows[2]["sources"] == "plan\npaper"  # one item a line: no text is rewritten
    assert rows[2]["amount"] == "4400000 CAD (announced)"
    assert rows[0]["events"] == "2025-12-01: Cranes delivered."


def test_csv_file_has_bom_for_excel(runner, kb_dir, tmp_path):
    out = tmp_path / "c.csv"
    assert run(runner, kb_dir, "export", "csv", "-o", str(out)).exit_code == 0
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert len(rows) == 4


def test_json_and_yaml_exports(runner, kb_dir):
    import yaml

    assert len(json.loads(run(runner, kb_dir, "export", "json").stdout)) == 4
    assert (
        len(yaml.safe_load(run(runner, kb_dir, "export", "yaml", "--status", "completed").stdout))
        == 1
    )


def test_export_to_file_then_refuse_to_overwrite(runner, kb_dir, tmp_path):
    out = tmp_path / "brief.md"
    first = run(runner, kb_dir, "export", "markdown", "-o", str(out))
    assert first.exit_code == 0
    assert first.stdout == ""
    assert "wrote 4 commitments" in first.stderr
    out.write_bytes(b"my edits\x00\xff")
    again = run(runner, kb_dir, "export", "markdown", "-o", str(out))
    assert again.exit_code == 2
    assert "already exists; use --force" in again.stderr
    assert out.read_bytes() == b"my edits\x00\xff"
    forced = run(runner, kb_dir, "export", "markdown", "-o", str(out), "--force")
    assert forced.exit_code == 0
    assert out.read_text(encoding="utf-8").startswith('---\ntitle: "Canada')
    assert list(tmp_path.iterdir()) == [out]  # no temporary file left behind


def test_export_missing_folder_and_dash(runner, kb_dir, tmp_path):
    missing = run(runner, kb_dir, "export", "json", "-o", str(tmp_path / "no" / "x.json"))
    assert missing.exit_code == 2
    assert "does not exist" in missing.stderr
    dash = run(runner, kb_dir, "export", "json", "-o", "-")
    assert json.loads(dash.stdout)[0]["id"] == "port-upgrade"


def test_export_nothing_selected(runner, kb_dir, tmp_path):
    out = tmp_path / "x.md"
    result = run(runner, kb_dir, "export", "markdown", "--due-before", "1900-01-01", "-o", str(out))
    assert result.exit_code == 1
    assert not out.exists()


def test_interrupted_write_leaves_nothing(tmp_path, monkeypatch):
    from cmx import files

    target = tmp_path / "out.md"

    def boom(*_args):
        raise KeyboardInterrupt

    monkeypatch.setattr(files.os, "fsync", boom)
    with pytest.raises(KeyboardInterrupt):
        files.write_atomic(target, "x" * 100_000)
    assert list(tmp_path.iterdir()) == []
