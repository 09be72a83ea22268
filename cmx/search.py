"""Filtering and ranked, typo-tolerant, trilingual search over the knowledge base.

The index keeps, for each entry and each field weight, its folded words
(accents and case removed) in one long string per weight; a query word is
matched against the vocabulary (exact, prefix, then edit distance with
rapidfuzz), and the matching words are found in those strings with plain
substring search, so the cost of a query grows linearly with the KB and
nothing is scored that shares no word with the query.
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, NamedTuple

from cmx.model import (
    Commitment,
    KnowledgeBase,
    Note,
    Pillar,
    Sector,
    Source,
    date_bounds,
    kind_of,
)

KINDS: tuple[str, ...] = ("pillar", "sector", "commitment", "note", "source")
KIND_PRIOR = {"commitment": 1.0, "sector": 0.95, "pillar": 0.9, "note": 0.8, "source": 0.6}
WEIGHTS = (3.0, 2.0, 1.0)  # title/name/aliases/id, actors/tags/source titles, summaries
MAX_QUERY_WORDS = 24
PHRASE_POOL = 300  # how many of the best hits get the phrase check
STOPWORDS = frozenset(
    """a an and at by for from in into is of on or the to with
    al con de del el en la las los para por que un una y o
    au aux avec d des du et l le les par pour sur un une""".split()
)
_COMBINING = re.compile(r"[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
_JOINERS = re.compile(r"[-'’.]")
_TOKEN = re.compile(r"\d+(?:[.,]\d+)*|[^\W_]+(?:[-'’.][^\W_]+)*")


# ------------------------------------------------------------------------ filters


def filter_commitments(
    items: Iterable[Commitment],
    *,
    pillar: str | None = None,
    sector: str | None = None,
    status: str | None = None,
    instrument: str | None = None,
    actor: str | None = None,
    source: str | None = None,
    tag: str | None = None,
    due_before: dt.date | None = None,
    overdue_on: dt.date | None = None,
) -> list[Commitment]:
    """Commitments matching every filter given; None means 'no filter'."""
    actor_key = fold(actor) if actor else None
    tag_key = fold(tag) if tag else None
    out = []
    for c in items:
        if pillar and c.pillar != pillar:
            continue
        if sector and c.sector != sector:
            continue
        if status and c.status.value != status:
            continue
        if instrument and c.instrument.value != instrument:
            continue
        if actor_key and not any(actor_key in fold(a) for a in c.actors):
            continue
        if source and not (
            any(x.source == source for x in c.sources) or any(e.source == source for e in c.events)
        ):
            continue
        if tag_key and tag_key not in {fold(t) for t in c.tags}:
            continue
        if due_before and not (c.due and date_bounds(c.due)[1] < due_before):
            continue
        if overdue_on and not is_overdue(c, overdue_on):
            continue
        out.append(c)
    return out


def is_overdue(c: Commitment, today: dt.date) -> bool:
    """Due before today and neither completed nor dropped."""
    if not c.due or c.status.value in ("completed", "not-pursued"):
        return False
    return date_bounds(c.due)[1] < today


# ------------------------------------------------------------------------ folding


def fold(text: str) -> str:
    """Lowercase, accent-free text: 'Énergie' -> 'energie'."""
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return _COMBINING.sub("", decomposed)


def words(text: str) -> list[str]:
    """Folded words of `text`; 'T-MEC' gives 't', 'mec' and 'tmec', '9,9' gives '9.9'."""
    out: list[str] = []
    for match in _TOKEN.finditer(fold(text)):
        word = match.group()
        if word[0].isdigit():
            out.append(word.replace(",", "."))
            continue
        parts = _JOINERS.split(word)
        out.extend(parts)
        if len(parts) > 1:
            out.append("".join(parts))
    return out


# ------------------------------------------------------------------------ index


def entry_texts(entry: object) -> tuple[list[str], list[str], list[str]]:
    """The text of an entry, by field weight (high, middle, low)."""
    if isinstance(entry, Commitment):
        return (
            [entry.id, *entry.title.all(), *entry.aliases],
            [*entry.actors, *entry.tags],
            [*entry.summary.all(), *(t for e in entry.events for t in e.what.all())],
        )
    if isinstance(entry, Sector | Pillar):
        return (
            [entry.id, entry.number or "", *entry.name.all(), *entry.aliases],
            [],
            list(entry.summary.all()),
        )
    if isinstance(entry, Note):
        return ([entry.id, *entry.title.all()], [], list(entry.claim.all()))
    if isinstance(entry, Source):
        return ([entry.id], [entry.title, entry.publisher], [entry.note or ""])
    return ([], [], [])


class Window:
    """Part of a larger buffer (a memory-mapped cache file) that can be searched like bytes."""

    __slots__ = ("_buf", "_end", "_start")

    def __init__(self, buf: Any, start: int, end: int) -> None:
        self._buf, self._start, self._end = buf, start, end

    def __len__(self) -> int:
        return self._end - self._start

    def find(self, needle: bytes, start: int = 0) -> int:
        pos = self._buf.find(needle, self._start + start, self._end)
        return pos - self._start if pos != -1 else -1


class Index(NamedTuple):
    entries: Entries
    levels: list[Any]  # per weight, UTF-8 bytes (or a Window on a cache): "\n w1 w2 … " per entry
    starts: list[list[int]]  # per weight: where each entry's segment starts
    df: dict[str, int]  # word -> how many entries contain it
    vocab: list[str]  # sorted words, for prefix look-ups

    def docs_with(self, word: str) -> dict[int, float]:
        """Entry position -> best field weight, for every entry that contains `word`."""
        found: dict[int, float] = {}
        needle = f" {word} ".encode()
        for level, (text, starts) in enumerate(zip(self.levels, self.starts, strict=True)):
            weight = WEIGHTS[level]
            pos = text.find(needle)
            while pos != -1:
                doc = bisect.bisect_right(starts, pos) - 1
                if found.get(doc, 0.0) < weight:
                    found[doc] = weight
                # skip to the next entry: a word counts once per entry and level
                nxt = starts[doc + 1] if doc + 1 < len(starts) else len(text)
                pos = text.find(needle, nxt)
        return found


class Entries:
    """Every entry of a KB by position (pillars, sectors, commitments, notes, sources).

    The kind of an entry is known from its position alone, and an entry is built only
    when asked for, so a search over a large cached KB builds only what it shows.
    """

    __slots__ = ("_groups", "_starts")

    def __init__(self, kb: KnowledgeBase) -> None:
        self._groups = (kb.pillars, kb.sectors, kb.commitments, kb.notes, kb.sources)
        self._starts = []
        at = 0
        for group in self._groups:
            self._starts.append(at)
            at += len(group)
        self._starts.append(at)

    def __len__(self) -> int:
        return self._starts[-1]

    def __getitem__(self, position: int) -> object:
        g = bisect.bisect_right(self._starts, position) - 1
        return self._groups[g][position - self._starts[g]]

    def __iter__(self) -> Iterator[object]:
        for group in self._groups:
            yield from group

    def kind(self, position: int) -> str:
        return KINDS[bisect.bisect_right(self._starts, position) - 1]


def index_entries(kb: KnowledgeBase) -> Entries:
    """Every entry, in the order the index numbers them."""
    return Entries(kb)


def build_index(kb: KnowledgeBase) -> Index:
    entries = index_entries(kb)
    levels = [bytearray(), bytearray(), bytearray()]  # grown in place: no second copy
    starts: list[list[int]] = [[], [], []]
    df: dict[str, int] = {}
    for entry in entries:
        seen: set[str] = set()
        for level, texts in enumerate(entry_texts(entry)):
            unique = dict.fromkeys(w for t in texts for w in words(t))
            starts[level].append(len(levels[level]))
            levels[level] += ("\n " + " ".join(unique) + " ").encode()
            seen.update(unique)
        for word in seen:
            df[word] = df.get(word, 0) + 1
    return Index(entries, levels, starts, df, sorted(df))


def index_from_parts(kb: KnowledgeBase, levels: list[Any], starts: Any, df: Any) -> Index:
    """An index of `kb` from what the cache kept (the entries come from the KB itself)."""
    entries = index_entries(kb)
    if len(levels) != len(WEIGHTS) or len(starts) != len(WEIGHTS):
        raise ValueError("not an index")
    if any(len(s) != len(entries) for s in starts) or not isinstance(df, dict):
        raise ValueError("index does not match the KB")
    return Index(entries, levels, starts, df, sorted(df))


# ------------------------------------------------------------------------ search


class Hit(NamedTuple):
    entry: object
    score: float
    terms: tuple[str, ...]  # the KB words that matched, for highlighting

    @property
    def kind(self) -> str:
        return kind_of(self.entry)


def _with_prefix(prefix: str, vocab: list[str]) -> Iterator[str]:
    i = bisect.bisect_left(vocab, prefix)
    while i < len(vocab) and vocab[i].startswith(prefix):
        yield vocab[i]
        i += 1


def _candidates(word: str, index: Index) -> dict[str, float]:
    """KB words a query word may stand for, with how well they match (0..1).

    Exact (1.0); longer words it starts (a partial word, 0.6-0.9); and, only when the KB
    lacks the word itself: the closest words by edit distance (typos: 0.7 at one edit,
    0.55 at two, less for a rarer word than the likeliest one) and words sharing its
    stem (aduanas ~ aduanero, 0.6).
    """
    out: dict[str, float] = {}
    if word in index.df:
        out[word] = 1.0
    if word[0].isdigit():
        return out
    if len(word) >= 3:
        for term in _with_prefix(word, index.vocab):
            if term != word:
                out[term] = max(0.6, 0.9 - 0.03 * (len(term) - len(word)))
    if len(word) >= 4 and word not in index.df:  # a word the KB has is not a typo
        from rapidfuzz import process
        from rapidfuzz.distance import OSA

        limit = 1 if len(word) <= 6 else 2
        found = process.extract(
            word, index.vocab, scorer=OSA.distance, score_cutoff=limit, limit=None
        )
        closest = min((d for t, d, _ in found if d and not t[0].isdigit()), default=0)
        tier = [t for t, d, _ in found if d == closest and d and not t[0].isdigit()]
        common = max((index.df[t] for t in tier), default=1)
        for term in tier:  # the nearest words only, the more common ones preferred
            prior = (index.df[term] / common) ** 0.5
            out.setdefault(term, (0.7 - 0.15 * (closest - 1)) * prior)
        if len(word) >= 6:
            stem = word[: max(5, math.ceil(0.7 * len(word)))]
            for term in _with_prefix(stem, index.vocab):
                out.setdefault(term, 0.6)
    return out


def query_words(query: str) -> list[str]:
    """The words of a query that carry meaning (stop words dropped unless nothing is left)."""
    ws = list(dict.fromkeys(w for w in words(query) if w))[:MAX_QUERY_WORDS]
    meaningful = [w for w in ws if w not in STOPWORDS]
    return meaningful or ws


def search(
    index: Index,
    query: str,
    *,
    kinds: Sequence[str] | None = None,
    keep: Any = None,
    limit: int | None = 10,
) -> list[Hit]:
    """Entries ranked best first. `keep(entry) -> bool` narrows the entries considered."""
    qwords = query_words(query)
    if not qwords:
        return []
    n_docs = max(len(index.entries), 1)
    per_word: list[dict[int, tuple[float, str]]] = []
    for word in qwords:
        best: dict[int, tuple[float, str]] = {}
        for term, quality in _candidates(word, index).items():
            idf = math.log(1 + n_docs / index.df[term])
            for doc, weight in index.docs_with(term).items():
                value = quality * weight * idf
                if value > best.get(doc, (0.0, ""))[0]:
                    best[doc] = (value, term)
        per_word.append(best)
    docs = set().union(*per_word)
    entries = index.entries
    scored = []
    for doc in docs:
        kind = entries.kind(doc)
        if kinds and kind not in kinds:
            continue
        if keep is not None and not keep(entries[doc]):
            continue
        matched = [pw[doc] for pw in per_word if doc in pw]
        coverage = len(matched) / len(qwords)
        score = sum(v for v, _ in matched) * coverage * coverage * KIND_PRIOR[kind]
        scored.append((score, doc, tuple(dict.fromkeys(t for _, t in matched))))
    # Ties go to the earlier entry: pillars, sectors, commitments (in file order), notes,
    # sources. The whole query as a phrase in a title (or summary) then lifts an entry;
    # only the best few hundred are checked, so a common word in a large KB stays fast.
    scored.sort(key=lambda s: (-s[0], s[1]))
    phrase = " ".join(w for w in words(query) if w)  # stop words kept: "pomme de terre"
    if " " in phrase or len(phrase) >= 4:
        for rank in range(min(PHRASE_POOL, len(scored))):
            score, doc, terms = scored[rank]
            high, _, low = entry_texts(entries[doc])
            if any(phrase in " ".join(words(t)) for t in high):
                scored[rank] = (score * 1.5, doc, terms)
            elif any(phrase in " ".join(words(t)) for t in low):
                scored[rank] = (score * 1.2, doc, terms)
        scored.sort(key=lambda s: (-round(s[0], 3), s[1]))
    top = scored[:limit] if limit else scored
    return [Hit(entries[doc], round(score, 3), terms) for score, doc, terms in top]


def suggestions(index: Index, query: str, n: int = 3) -> list[str]:
    """KB words close to the query's words, for a 'did you mean' hint."""
    from rapidfuzz import fuzz, process

    out: list[str] = []
    for word in query_words(query):
        if len(word) < 3:
            continue
        found = process.extract(word, index.vocab, scorer=fuzz.ratio, limit=n, score_cutoff=60)
        for term, _, _ in found:
            if term not in out and len(term) > 2 and term not in STOPWORDS:
                out.append(term)
    return out[:n]


def snippet(text: str, terms: Iterable[str], width: int = 160) -> str:
    """A window of `text` around the first matched word."""
    folded = fold(text)
    first = min((p for t in terms if (p := _find_word(folded, t)) >= 0), default=0)
    if len(text) <= width:
        return text
    start = max(0, min(first - width // 3, len(text) - width))
    while start > 0 and not text[start - 1].isspace():
        start -= 1
    body = (
        text[start : start + width].rsplit(" ", 1)[0] if start + width < len(text) else text[start:]
    )
    return ("…" if start else "") + body + ("…" if start + len(body) < len(text) else "")


def _find_word(folded: str, term: str) -> int:
    match = re.search(rf"(?<!\w){re.escape(term)}", folded)
    return match.start() if match else -1


def highlight_spans(text: str, terms: Iterable[str]) -> list[tuple[int, int]]:
    """Where the matched words (or their starts) stand in `text`, as (start, end) pairs.

    Folding keeps one character per character for Latin scripts, so positions in the
    folded text are positions in the original.
    """
    folded = fold(text)
    if len(folded) != len(text):
        return []
    spans = []
    for term in terms:
        # a shared stem also marks the word in another language: energia ~ energy
        stem = term[: max(4, len(term) - 2)]
        for match in re.finditer(rf"(?<!\w){re.escape(stem)}\w*", folded):
            spans.append((match.start(), match.end()))
    return sorted(spans)
