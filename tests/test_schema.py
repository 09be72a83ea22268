"""`cmx schema`: a JSON Schema made from the dataclasses, which the shipped KB satisfies."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from cmx.cli import app
from cmx.kb import FILES

ROOT = Path(__file__).parent.parent


@pytest.fixture(scope="module")
def schema():
    from cmx.schema import kb_schema

    return kb_schema()


def as_json(path: Path):
    """The file as an editor's YAML language server sees it (dates as strings)."""
    return json.loads(json.dumps(yaml.safe_load(path.read_text(encoding="utf-8")), default=str))


def test_schema_is_valid_draft_2020_12(runner, schema):
    result = runner.invoke(app, ["schema"])
    assert result.exit_code == 0
    assert json.loads(result.stdout) == schema
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)


def test_committed_schema_is_current(schema):
    assert json.loads((ROOT / "docs" / "kb.schema.json").read_text()) == schema, (
        "regenerate it: cmx schema > docs/kb.schema.json"
    )


@pytest.mark.parametrize("name", list(FILES.values()))
def test_shipped_files_match_the_schema(schema, name):
    path = ROOT / "data" / name
    assert path.read_text(encoding="utf-8").startswith("# yaml-language-server: $schema=")
    jsonschema.Draft202012Validator(schema).validate(as_json(path))


@pytest.mark.parametrize(
    "doc",
    [
        {"commitments": [{"id": "x", "pillar": "prosperity"}]},  # required fields missing
        {
            "pillars": [
                {
                    "id": "prosperty",
                    "number": "I",
                    "name": {"en": "a", "es": "b", "fr": "c"},
                    "summary": {"en": "a", "es": "b", "fr": "c"},
                    "sources": ["s"],
                }
            ]
        },
        {
            "notes": [
                {
                    "id": "n",
                    "source": "s",
                    "title": {"en": "a"},
                    "claim": {"en": "a", "es": "b", "fr": "c"},
                    "support": "stated",
                }
            ]
        },  # a missing language
        {"sources": [{"id": "s", "title": "t", "publisher": "p", "kind": "blog"}]},
        {
            "sources": [
                {"id": "s", "title": "t", "publisher": "p", "kind": "news", "date": "May 2025"}
            ]
        },
    ],
)
def test_schema_rejects_bad_documents(schema, doc):
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(schema).validate(doc)
