"""Citations for reference managers: CSL-JSON that meets the schema, BibTeX that parses.

tests/data/csl-data.json is the CSL 1.0.2 input schema, unchanged, from
https://github.com/citation-style-language/schema/blob/master/schemas/input/csl-data.json
(commit 40b3ce0bbbda517ad14b98c93a2c65ab4cde56a9; MIT licence).
"""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from jsonschema import Draft7Validator

from cmx.cite import CSL_TYPES, MONTHS, bib_escape, to_bibtex, to_csl_json
from cmx.kb import default_data_dir, load_kb
from cmx.model import KnowledgeBase, Source, SourceKind, Text

SCHEMA = json.loads((Path(__file__).parent / "data" / "csl-data.json").read_text("utf-8"))


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return load_kb(default_data_dir())


def source(**changes) -> Source:
    fields = {
        "id": "s1",
        "title": "A title",
        "publisher": "A publisher",
        "kind": SourceKind.OFFICIAL,
    }
    if isinstance(changes.get("note"), str):  # one note in every language
        changes["note"] = Text(changes["note"], changes["note"], changes["note"])
    return Source(**{**fields, **changes})


# ------------------------------------------------------------------------- CSL-JSON


def test_csl_json_of_every_shipped_source_meets_the_schema(kb):
    items = to_csl_json(kb.sources)
    Draft7Validator.check_schema(SCHEMA)
    errors = [e.message for e in Draft7Validator(SCHEMA).iter_errors(items)]
    assert errors == []
    json.dumps(items, ensure_ascii=False)  # plain JSON values only


def test_every_source_appears_once_in_order(kb):
    items = to_csl_json(kb.sources)
    assert [i["id"] for i in items] == [s.id for s in kb.sources]


def test_shipped_sources_carry_what_the_knowledge_base_holds(kb):
    for s, item in zip(kb.sources, to_csl_json(kb.sources), strict=True):
        assert item["type"] == CSL_TYPES[s.kind]
        assert item["title"] == s.title
        assert item.get("URL") == s.url
        assert item.get("language") == s.language
        if s.kind is SourceKind.NEWS:
            assert item["container-title"] == s.publisher and "publisher" not in item
            assert "author" not in item  # no author is made up for a news story
        else:
            assert item["publisher"] == s.publisher and "container-title" not in item
            assert item["author"] == [{"literal": s.publisher}]  # the issuing body
        assert None not in item.values()


@pytest.mark.parametrize(
    ("date", "parts"),
    [
        ("2025", [2025]),
        ("2025-09", [2025, 9]),
        ("2025-09-18", [2025, 9, 18]),
        ("2026-01-05", [2026, 1, 5]),
    ],
)
def test_partial_dates_give_only_the_known_date_parts(date, parts):
    [item] = to_csl_json([source(date=date)])
    assert item["issued"] == {"date-parts": [parts]}
    assert list(Draft7Validator(SCHEMA).iter_errors([item])) == []


def test_shipped_dates_round_trip(kb):
    for s, item in zip(kb.sources, to_csl_json(kb.sources), strict=True):
        if s.date:
            [parts] = item["issued"]["date-parts"]
            assert "-".join(f"{p:02d}" for p in parts) == s.date
        else:
            assert "issued" not in item


def test_nothing_is_invented_for_a_bare_source():
    [item] = to_csl_json([source(kind=SourceKind.ANALYSIS)])
    assert item == {
        "id": "s1",
        "type": "report",
        "title": "A title",
        "author": [{"literal": "A publisher"}],
        "publisher": "A publisher",
    }


def test_types_follow_the_kind_of_source():
    kinds = {k: to_csl_json([source(kind=k)])[0]["type"] for k in SourceKind}
    assert kinds == {
        SourceKind.OFFICIAL: "report",
        SourceKind.OFFICIAL_REPRODUCED: "report",
        SourceKind.NEWS: "article-newspaper",
        SourceKind.ANALYSIS: "report",
    }


def test_csl_text_has_no_control_characters():
    [item] = to_csl_json([source(title="Bad\x1b[31m\ntitle\x07", note="a\x00b")])
    assert item["title"] == "Bad[31m title" and item["note"] == "ab"


# --------------------------------------------------------------------------- BibTeX

ENTRY = re.compile(r"^@(\w+)\{([^,\s]+),$", re.MULTILINE)


def balanced(text: str) -> bool:
    depth = 0
    for ch in text:
        depth += {"{": 1, "}": -1}.get(ch, 0)
        if depth < 0:
            return False
    return depth == 0


def fields(entry: str) -> dict[str, str]:
    """The fields of one entry as written (`{…}` values without their outer braces)."""
    out = {}
    for line in entry.splitlines()[1:-1]:
        name, _, value = line.strip().partition(" = ")
        value = value.removesuffix(",")
        out[name.strip()] = value[1:-1] if value.startswith("{") else value
    return out


def entries(bib: str) -> list[str]:
    return [e for e in bib.split("\n\n") if e.strip()]


def test_one_bibtex_entry_per_source_keyed_by_id(kb):
    bib = to_bibtex(kb.sources)
    heads = ENTRY.findall(bib)
    assert [key for _, key in heads] == [s.id for s in kb.sources]
    assert {kind for kind, _ in heads} == {"misc"}
    assert len(entries(bib)) == len(kb.sources)
    assert bib.endswith("}\n") and not bib.endswith("\n\n")


def test_every_bibtex_entry_has_balanced_braces(kb):
    for entry in entries(to_bibtex(kb.sources)):
        assert balanced(entry), entry
        assert entry.startswith("@") and entry.rstrip().endswith("}")


def test_bibtex_fields_of_shipped_sources(kb):
    by_id = {s.id: s for s in kb.sources}
    for entry in entries(to_bibtex(kb.sources)):
        s = by_id[ENTRY.findall(entry)[0][1]]
        f = fields(entry)
        assert f["title"].startswith("{") and f["title"].endswith("}")
        if s.kind is SourceKind.NEWS:
            assert f["howpublished"] == bib_escape(s.publisher) and "author" not in f
        else:
            assert f["author"] == "{" + bib_escape(s.publisher) + "}"  # an organisation, not names
        if s.date:
            assert f["year"] == s.date[:4]
        if s.url:
            assert f["url"] == s.url  # verbatim: percent-encoded URLs keep their %


def test_bibtex_output_is_deterministic(kb):
    assert to_bibtex(kb.sources) == to_bibtex(kb.sources)
    assert to_bibtex([]) == ""


def test_special_characters_are_escaped():
    s = source(
        title="R&D: 100% of a_b {draft} $5 #1 ^ ~ back\\slash",
        publisher="Smith & Sons_{Ltd}",
        date="2025-09-18",
        url="https://example.org/a%20b?x={y}",
        note="50% done",
        language="es",
    )
    bib = to_bibtex([s])
    f = fields(entries(bib)[0])
    assert f["title"] == (
        r"{R\&D: 100\% of a\_b \textbraceleft{}draft\textbraceright{} \$5 \#1 "
        r"\textasciicircum{} \textasciitilde{} back\textbackslash{}slash}"
    )
    assert f["author"] == r"{Smith \& Sons\_\textbraceleft{}Ltd\textbraceright{}}"
    assert f["note"] == r"50\% done"
    assert f["url"] == "https://example.org/a%20b?x=%7By%7D"
    assert f["year"] == "2025" and f["month"] == "sep" and f["langid"] == "spanish"
    assert balanced(bib)


def test_partial_dates_in_bibtex():
    assert "month" not in fields(entries(to_bibtex([source(date="2025")]))[0])
    f = fields(entries(to_bibtex([source(date="2026-02")]))[0])
    assert f["year"] == "2026" and f["month"] == "feb"
    assert "year" not in fields(entries(to_bibtex([source()]))[0])


def test_news_is_published_in_its_outlet_without_an_author():
    entry = entries(to_bibtex([source(kind=SourceKind.NEWS, publisher="El Diario")]))[0]
    assert entry.startswith("@misc{s1,")  # @article would require an author
    assert fields(entry)["howpublished"] == "El Diario" and "author" not in fields(entry)


def test_bibtex_has_no_control_characters_or_line_breaks_in_values():
    bib = to_bibtex([source(title="a\x1b[2J\n\nb\tc", note="x\r\ny")])
    f = fields(entries(bib)[0])
    assert f["title"] == "{a[2J b c}" and f["note"] == "x y"
    assert "\x1b" not in bib and "\r" not in bib


SPECIAL = "{}%&$#_^~\\"
UNESCAPE = re.compile(
    r"\\(?:textbackslash|textbraceleft|textbraceright|textasciicircum|textasciitilde)\{\}"
    r"|\\[%&$#_]"
)
COMMANDS = {
    r"\textbackslash{}": "\\",
    r"\textbraceleft{}": "{",
    r"\textbraceright{}": "}",
    r"\textasciicircum{}": "^",
    r"\textasciitilde{}": "~",
}


@given(st.text(alphabet=st.sampled_from(SPECIAL) | st.characters(codec="utf-8")))
def test_escaping_any_text_keeps_braces_balanced_and_loses_nothing(value):
    escaped = bib_escape(value)
    assert balanced(escaped)
    assert "\n" not in escaped
    # Outside the escapes, no special character is left bare.
    assert not set(UNESCAPE.sub("", escaped)) & set(SPECIAL)
    back = UNESCAPE.sub(lambda m: COMMANDS.get(m.group(), m.group()[1:]), escaped)
    controls = dict.fromkeys((*range(0x00, 0x09), *range(0x0B, 0x20), *range(0x7F, 0xA0)))
    assert back == " ".join(value.translate(controls).split())


@given(
    title=st.text(alphabet=st.sampled_from(SPECIAL) | st.characters(codec="utf-8")),
    url=st.text(alphabet=st.sampled_from(SPECIAL + " :/?=") | st.characters(codec="ascii")),
)
def test_any_source_gives_one_balanced_entry(title, url):
    bib = to_bibtex([source(title=title, publisher=title, url=url or None, note=title or None)])
    assert balanced(bib) and len(ENTRY.findall(bib)) == 1


# ------------------------------------------------------------ the two formats agree


def test_csl_json_and_bibtex_name_the_same_author_keep_the_day_and_the_accessed_date(kb):
    accessed = kb.accessed()
    items = {i["id"]: i for i in to_csl_json(kb.sources, accessed)}
    assert list(Draft7Validator(SCHEMA).iter_errors(list(items.values()))) == []
    bib = {ENTRY.findall(e)[0][1]: fields(e) for e in entries(to_bibtex(kb.sources, accessed))}
    assert accessed  # reviewed entries give their sources an accessed date
    for s in kb.sources:
        item, f = items[s.id], bib[s.id]
        author = [a["literal"] for a in item.get("author", [])]
        assert [bib_escape(a) for a in author] == ([f["author"][1:-1]] if "author" in f else [])
        parts = item.get("issued", {}).get("date-parts", [[]])[0]
        bib_parts = [int(f[k]) for k in ("year", "day") if k in f]
        if "month" in f:
            bib_parts.insert(1, MONTHS.index(f["month"]) + 1)
        assert parts == bib_parts  # the same date, to the day
        if s.id in accessed:
            day = accessed[s.id]
            assert item["accessed"] == {"date-parts": [[int(p) for p in day.split("-")]]}
            assert f["urldate"] == day
        else:
            assert "accessed" not in item and "urldate" not in f


def test_the_accessed_date_is_the_newest_review_of_an_entry_citing_the_source(kb):
    accessed = kb.accessed()
    for c in kb.commitments:
        if c.reviewed:
            for sid in c.cited():
                assert accessed[sid] >= c.reviewed


def test_pybtex_reads_every_entry_and_its_plain_style_formats_them_without_a_warning(kb):
    from pybtex import errors
    from pybtex.database import parse_string
    from pybtex.style.formatting.plain import Style

    reported = []
    old = errors.report_error
    errors.report_error = reported.append  # what pybtex warns about, kept to assert on
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            db = parse_string(to_bibtex(kb.sources, kb.accessed()), "bibtex")
            formatted = list(Style().format_entries(db.entries.values()))
    finally:
        errors.report_error = old
    assert reported == []
    assert len(db.entries) == len(formatted) == len(kb.sources)
    first = db.entries[kb.sources[0].id]
    assert first.fields["year"] == kb.sources[0].date[:4]
