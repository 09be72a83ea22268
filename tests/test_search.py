"""Search as people type: typos, accents, three languages, acronyms, numbers."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cmx.kb import load_kb
from cmx.search import build_index, fold, search, suggestions, words

SMALL = Path(__file__).parent / "data" / "small"
SHIPPED = Path(__file__).parent.parent / "data"


@functools.cache
def _shipped():
    return build_index(load_kb(SHIPPED))


@pytest.fixture(scope="module")
def shipped_index():
    return _shipped()


@pytest.fixture(scope="module")
def small_index():
    return _small_index()


def top_ids(index, query, n=3, **kw):
    return [h.entry.id for h in search(index, query, limit=n, **kw)]


def test_fold_and_words():
    assert fold("Énergie ÀÇÕ") == "energie aco"
    assert words("T-MEC") == ["t", "mec", "tmec"]
    assert words("CAD 9,9 millions") == ["cad", "9.9", "millions"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("hydrogen", "clean-hydrogen-dialogue"),  # English
        ("hidrógeno", "clean-hydrogen-dialogue"),  # Spanish, accented
        ("hidrogeno", "clean-hydrogen-dialogue"),  # Spanish, no accent
        ("hydrogène", "clean-hydrogen-dialogue"),  # French
        ("fentanil", "counter-fentanyl-funding"),  # typo / Spanish stem
        ("fentanly", "counter-fentanyl-funding"),  # transposed letters
        ("secihti", "research-mou"),  # acronym, lower case
        ("T-MEC", "cusma-coordination"),  # local name of CUSMA
        ("ACEUM", "cusma-coordination"),
        ("USMCA", "cusma-coordination"),
        ("9.9 million", "counter-fentanyl-funding"),  # numbers
        ("crimen organizado", "bilateral-security-dialogue"),
        ("blanchiment d'argent", "money-laundering"),
        ("lavado de dinero", "money-laundering"),
        ("parks canada", "parks-canada-conanp-mou"),
        ("protectd areas", "parks-canada-conanp-mou"),
        ("pomme de terre", "agri-food-sps-cooperation"),
        ("trade mission", "trade-mission-2026"),
        ("mission commerciale", "trade-mission-2026"),
        ("PTAT", "labour-mobility-sawp"),
        ("canola", "e-certification-plant-products"),
        ("extradición", "priority-targets-extradition"),
    ],
)
def test_shipped_kb_finds_what_people_mean(shipped_index, query, expected):
    assert expected in top_ids(shipped_index, query), query


def test_partial_word(shipped_index):
    assert "clean-hydrogen-dialogue" in top_ids(shipped_index, "hydrog")


def test_words_in_any_order(shipped_index):
    assert top_ids(shipped_index, "preparedness emergency")[0] == "emergency-preparedness"


def test_exact_title_phrase_beats_a_fuzzy_summary_match(shipped_index):
    assert top_ids(shipped_index, "border security")[0] == "border-security"


def test_commitment_beats_the_source_that_mentions_it(shipped_index):
    hits = search(shipped_index, "fentanilo", limit=5)
    kinds = [h.kind for h in hits]
    assert kinds[0] == "commitment"
    assert kinds.index("source") > kinds.index("commitment")


def test_ranking_is_stable(small_index):
    first = [(h.entry.id, h.score) for h in search(small_index, "port", limit=None)]
    assert first == [(h.entry.id, h.score) for h in search(small_index, "port", limit=None)]
    scores = [s for _, s in first]
    assert scores == sorted(scores, reverse=True)


def test_kind_filter(small_index):
    assert {h.kind for h in search(small_index, "port", kinds=["sector"])} == {"sector"}


def test_no_hit_and_suggestion(small_index):
    assert search(small_index, "zzyzx") == []
    assert "cranes" in suggestions(small_index, "cranesz")


def test_empty_and_stopword_queries(small_index):
    assert search(small_index, "") == []
    assert search(small_index, "   ") == []
    assert search(small_index, "!!! ???") == []


@pytest.mark.parametrize(
    "query", ["a" * 10_000, ".*(", "[a-z]+$", "🚢 port", "ميناء", "港口 port", "\x00port"]
)
def test_odd_queries_do_not_crash(small_index, query):
    search(small_index, query)


@functools.cache
def _small_index():
    return build_index(load_kb(SMALL))


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60))
def test_any_unicode_query_returns_a_list(query):
    index = _small_index()
    hits = search(index, query, limit=5)
    assert isinstance(hits, list)
    assert all(h.score > 0 for h in hits)
    assert isinstance(suggestions(index, query), list)


def _reference_words(text: str) -> list[str]:
    """The tokenizer as one regular expression over the whole text (the specification)."""
    import re

    out: list[str] = []
    for word in re.findall(r"\d+(?:[.,]\d+)*|[^\W_]+(?:[-'’.][^\W_]+)*", fold(text)):
        if word[0].isdigit():
            out.append(word.replace(",", "."))
            continue
        parts = re.split(r"[-'’.]", word)
        out.extend(parts)
        if len(parts) > 1:
            out.append("".join(parts))
    return out


@settings(max_examples=400, deadline=None)
@given(
    st.text(
        alphabet=st.sampled_from([*"aZé9 ,.;:-'’()«»—/\n\t_%Ñç0ß", "ǅ", "ﬁ", "٣"]),
        max_size=40,
    )
)
def test_fast_tokenizer_matches_the_reference(text):
    assert words(text) == _reference_words(text)


def test_tokenizer_matches_the_reference_on_the_shipped_kb():
    from cmx.model import iter_entries
    from cmx.search import entry_texts

    kb = load_kb(SHIPPED)
    texts = [t for e in iter_entries(kb) for level in entry_texts(e) for t in level]
    assert texts
    assert all(words(t) == _reference_words(t) for t in texts)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(["energy", "security", "trade", "agua", "sécurité", "mission",
                                 "canada", "mexico", "fentanyl", "protected", "areas", "de"]),
                min_size=1, max_size=3))  # fmt: skip
def test_the_top_hits_are_the_head_of_the_full_ranking(qwords):
    index = _shipped()
    query = " ".join(qwords)
    full = [(h.entry.id, h.score) for h in search(index, query, limit=None)]
    assert [(h.entry.id, h.score) for h in search(index, query, limit=5)] == full[:5]
