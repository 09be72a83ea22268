"""Concept search, Snowball stemming, restrained typos, confidence and --explain."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from cmx import output, search
from cmx.cli import app
from cmx.kb import KBError, load_kb
from cmx.store import open_store

SHIPPED = Path(__file__).parent.parent / "data"


@pytest.fixture(scope="module")
def index() -> search.MemoryIndex:
    return search.build_index(load_kb(SHIPPED))


def ids(index: search.Index, query: str, n: int = 3) -> list[str]:
    return [h.entry.id for h in search.search(index, query, limit=n)]


def run(runner, *args: str, data: Path = SHIPPED):
    return runner.invoke(app, ["--data", str(data), *args])


# ------------------------------------------------------------------ concepts


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("heroin", "drug-trafficking-fentanyl"),  # an alternative label (en)
        ("pandillas", "bilateral-security-dialogue"),  # es
        ("bétail", "agriculture-ministerial-mission"),  # fr, accents
        ("inundaciones", "emergency-preparedness"),
        ("smog", "eswg-short-lived-climate-pollutants"),
        ("réchauffement climatique", "climate-action-cooperation"),  # a two-word label
    ],
)
def test_a_concept_word_absent_from_the_text_finds_the_linked_entry(index, query, expected):
    entry = load_kb(SHIPPED).get(expected)
    assert entry is not None
    assert search.fold(query) not in search.fold(json.dumps(search.entry_texts(entry)))
    assert expected in ids(index, query)


def test_a_broader_concept_finds_entries_linked_to_narrower_ones(index):
    kb = load_kb(SHIPPED)
    up = search.concepts_up(kb)
    assert up["drug-trafficking"][:3] == [
        "drug-trafficking",
        "illicit-trafficking",
        "organised-crime",
    ]
    # "contraband" names illicit-trafficking: the firearms and drugs entries link to
    # narrower concepts only, and are found all the same
    found = ids(index, "contraband", n=10)
    assert {"firearms-trafficking", "drug-trafficking-fentanyl"} <= set(found)
    assert found[0] == "illicit-goods-trafficking"  # the direct link ranks first


def test_concept_search_is_the_same_through_the_store(tmp_path, monkeypatch):
    monkeypatch.setenv("CMX_CACHE_DIR", str(tmp_path / "cache"))
    open_store(SHIPPED)  # builds the store
    stored = open_store(SHIPPED)
    assert type(stored.index()).__name__ == "SqliteIndex"
    memory = search.build_index(load_kb(SHIPPED))
    for query in ("heroin", "pandillas", "contraband", "emissions", "fishing"):
        a = [(h.entry.id, h.score, h.confidence) for h in stored.search(query, limit=5)]
        b = [(h.entry.id, h.score, h.confidence) for h in search.search(memory, query, limit=5)]
        assert a == b, query
    assert stored.kb().concepts == load_kb(SHIPPED).concepts
    assert stored.kb().get("money-laundering").concepts == ("money-laundering",)


# ------------------------------------------------------------------ stemming


@pytest.mark.parametrize(
    ("lang", "a", "b"),
    [
        ("en", "emission", "emissions"),
        ("en", "farmers", "farmer"),
        ("es", "exportar", "exportación"),
        ("es", "inundaciones", "inundación"),
        ("fr", "agriculteurs", "agriculteur"),
        ("fr", "frontières", "frontieres"),  # accents typed or not
    ],
)
def test_snowball_stems_meet_per_language(lang, a, b):
    assert search.stem(search.fold(a), lang) == search.stem(search.fold(b), lang)


def test_a_plural_finds_the_singular_by_stem(index):
    hits = search.search(index, "emissions transparencies", limit=3)
    assert hits[0].entry.id == "ghg-transparency"
    assert any(why.how == "stem" for why in hits[0].why)


def test_question_words_are_stop_words():
    assert search.query_words("what was agreed on money laundering") == ["money", "laundering"]
    assert search.query_words("¿qué pasó con la misión comercial?") == ["mision", "comercial"]
    assert search.query_words("qu'est-ce qui est prévu pour les aires protégées") == [
        "aires",
        "protegees",
    ]


# ------------------------------------------------------------------ fuzziness


def test_fishing_is_not_a_typo_of_anything(index):
    assert search.search(index, "fishing") == []
    assert search.search(index, "lumber") == []


def test_real_typos_still_match(index):
    assert ids(index, "fentanly", 1) in (
        ["drug-trafficking-fentanyl"],
        ["counter-fentanyl-funding"],
    )
    hit = search.search(index, "agrculture", limit=1)[0]
    assert "agri" in hit.entry.id
    assert search.Why("agrculture", "typo", "agriculture", 0) in hit.why


def test_a_typo_needs_the_same_first_letter_and_a_long_enough_word(index):
    found = search._candidates("bumber", index)  # 'number' is one edit away
    assert not any(m.how == "typo" for m in found.values())
    found = search._candidates("hydrgen", index)
    assert any(m.how == "typo" and m.shown == "hydrogen" for m in found.values())
    assert not any(m.how == "typo" for m in search._candidates("heat", index).values())


# ------------------------------------------------------------------ confidence


def test_confidence_is_high_for_a_full_match_and_low_for_a_partial_one(index):
    assert search.search(index, "money laundering", limit=1)[0].confidence == "high"
    assert search.search(index, "narcotics", limit=1)[0].confidence == "high"
    partial = search.search(index, "space exploration", limit=5)
    assert partial and all(h.confidence == "low" for h in partial)
    assert search.confidence(0.9) == "high"
    assert search.confidence(0.7) == "medium"
    assert search.confidence(0.3) == "low"


def test_json_carries_confidence_and_low_confidence_exits_1(runner):
    good = run(runner, "search", "heroin", "-f", "json")
    assert good.exit_code == 0
    assert {h["confidence"] for h in json.loads(good.stdout)} <= {"high", "medium", "low"}
    assert json.loads(good.stdout)[0]["confidence"] == "high"
    weak = run(runner, "search", "tourism visas", "-f", "json")
    assert weak.exit_code == 1
    hits = json.loads(weak.stdout)
    assert hits and all(h["confidence"] == "low" for h in hits)
    assert "no confident match" in weak.stderr


def test_terminal_labels_low_confidence_hits(runner, monkeypatch):
    monkeypatch.setattr(output, "on_terminal", lambda: True)
    result = run(runner, "search", "space exploration")
    assert result.exit_code == 1
    assert "No confident match found" in result.stdout
    assert "[low confidence]" in result.stdout
    good = run(runner, "search", "hydrogen")
    assert good.exit_code == 0
    assert "low confidence" not in good.stdout


def test_explain_says_what_matched_and_how(runner):
    result = run(runner, "search", "narcotics", "-n", "1", "-f", "json", "--explain")
    assert result.exit_code == 0
    why = json.loads(result.stdout)[0]["why"]
    assert why == ["narcotics: concept 'drug traffic' (linked)"]
    plain = run(runner, "search", "agrculture", "-n", "1", "--explain")
    assert "typo for 'agriculture'" in plain.stdout
    no_explain = run(runner, "search", "narcotics", "-f", "json")
    assert "why" not in json.loads(no_explain.stdout)[0]


# ------------------------------------------------------------------ validation


def test_unknown_concept_is_reported_with_line_and_suggestion(tmp_path):
    kb = tmp_path / "kb"
    shutil.copytree(SHIPPED, kb)
    path = kb / "commitments.yaml"
    text = path.read_text(encoding="utf-8")
    text = text.replace("concepts: [money-laundering]", "concepts: [money-launderin]", 1)
    path.write_text(text, encoding="utf-8")
    line = next(n for n, ln in enumerate(text.splitlines(), 1) if "money-launderin]" in ln)
    with pytest.raises(KBError) as err:
        load_kb(kb)
    (problem,) = err.value.problems
    assert "unknown concept 'money-launderin' (did you mean 'money-laundering'?)" in problem
    start = int(problem.split(":")[1])
    assert start <= line  # the entry's line, at or above its concepts line
    assert problem.startswith(f"{path}:")


def test_broader_must_exist_and_not_loop(tmp_path):
    kb = tmp_path / "kb"
    shutil.copytree(SHIPPED, kb)
    path = kb / "concepts.yaml"
    text = path.read_text(encoding="utf-8")
    text = text.replace("broader: drug-trafficking", "broader: drug-trafic", 1)
    text = text.replace("    broader: trade\n", "    broader: trade-agreement\n", 1)
    text = text.replace("  - id: trade\n", "  - id: trade\n    broader: trade-agreement\n", 1)
    path.write_text(text, encoding="utf-8")
    with pytest.raises(KBError) as err:
        load_kb(kb)
    assert any("loop back" in p for p in err.value.problems)


# ------------------------------------------------------------------ issue 23


def test_agency_labels_lead_to_their_area_and_registry_names_to_the_agency():
    kb = load_kb(SHIPPED)
    labels = search.concept_labels(kb)
    assert set(labels[search.label_key("IRCC", "en")]) == {"=migration", "=labour-mobility"}
    assert labels[search.label_key("ASFC", "fr")] == ["=border-control"]
    assert "@rcmp" in labels[search.label_key("GRC", "fr")]
    assert "@parks-canada" in labels[search.label_key("Parques Canadá", "es")]
    assert search.names_agency("NRCan", ["Natural Resources Canada"])
    assert not search.names_agency("USMCA", ["free trade agreement"])
    assert not search.names_agency("Inmigración", ["Instituto Nacional de Migración"])


def test_a_joined_label_is_found_typed_either_way(index):
    assert search.search(index, "libre-échange", limit=1)[0].entry.id == "cusma-coordination"
    assert search.search(index, "T-MEC", limit=1)[0].entry.id == "cusma-coordination"


def test_stems_are_posted_in_the_language_of_the_text_only():
    kb = load_kb(SHIPPED)
    doc = search.index_doc(kb.get("emergency-preparedness"))
    stems_ = {t for t in doc.words if t.startswith("~")}
    assert "~en:prepared" in stems_ or "~en:prepar" in stems_
    # French-only words are stemmed as French only
    assert search.inflects("visa", "visas") and not search.inflects("visa", "vises")


def test_question_words_of_every_language_are_stop_words():
    assert search.query_words("what is canada doing about fentanyl") == ["canada", "fentanyl"]
    assert search.query_words("que hace mexico contra el trafico de armas") == [
        "mexico",
        "trafico",
        "armas",
    ]
    assert search.query_words("y a-t-il quelque chose sur les changements climatiques") == [
        "changements",
        "climatiques",
    ]


def test_explain_marks_a_general_word_as_ignored(index):
    hit = search.search(index, "opioid crisis", limit=1)[0]
    assert search.Why("crisis", "ignored") in hit.why
