"""Filtering and ranked, typo-tolerant, trilingual search over the knowledge base.

The index is inverted: for each folded word (accents and case removed), the
entries that contain it and the best field weight it has there. A query word is
matched against the vocabulary (exact, prefix, then edit distance with
rapidfuzz), and only the entries posted under the matching words are scored, so
a query costs what its words' postings cost, not the size of the KB. The index
lives in memory (MemoryIndex) or in the store's SQLite file (cmx.store).
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import math
import re
import unicodedata
from array import array
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from typing import NamedTuple

from cmx.model import (
    Commitment,
    Entry,
    KnowledgeBase,
    Note,
    Pillar,
    Sector,
    Source,
    date_bounds,
    iter_entries,
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


@functools.cache
def _patterns() -> tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str]]:
    """(combining marks, word joiners, tokens), compiled on first use (~3 ms at start-up)."""
    return (
        re.compile(r"[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]"),
        re.compile(r"[-'’.]"),
        re.compile(r"\d+(?:[.,]\d+)*|[^\W_]+(?:[-'’.][^\W_]+)*"),
    )


# ------------------------------------------------------------------------ filters


def filter_commitments(
    items: Iterable[Commitment],
    *,
    pillar: str | None = None,
    sector: str | None = None,
    status: str | None = None,
    instrument: str | None = None,
    actors: Iterable[str] | None = None,
    source: str | None = None,
    tag: str | None = None,
    due_before: dt.date | None = None,
    overdue_on: dt.date | None = None,
) -> list[Commitment]:
    """Commitments matching every filter given; None means 'no filter'."""
    actor_ids = set(actors) if actors is not None else None
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
        if actor_ids is not None and actor_ids.isdisjoint(c.actors):
            continue
        if source and not (
            any(x.source == source for x in c.sources) or any(e.source == source for e in c.events)
        ):
            continue
        if tag_key and tag_key not in {fold(t) for t in c.tags}:
            continue
        if due_before and not (c.due and date_bounds(c.due)[1] < due_before):
            continue
        if overdue_on and not c.is_overdue(overdue_on):
            continue
        out.append(c)
    return out


# ------------------------------------------------------------------------ folding


def fold(text: str) -> str:
    """Lowercase, accent-free text: 'Énergie' -> 'energie'."""
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return _patterns()[0].sub("", decomposed)


def words(text: str) -> list[str]:
    """Folded words of `text`; 'T-MEC' gives 't', 'mec' and 'tmec', '9,9' gives '9.9'.

    No word spans white space, so the text is split on it first (in C) and only the
    pieces that are not plain letters go through the tokenizer: several times faster
    on a large KB than running the regular expression over the whole text.
    """
    out: list[str] = []
    append = out.append
    for piece in fold(text).split():
        if piece.isalpha():
            append(piece)
            continue
        core = piece.strip(_EDGES)  # "plan." and "(CUSMA)": a plain word in punctuation
        if core.isalpha():
            append(core)
        elif core:
            _split_piece(core, out)
    return out


# Punctuation that is never part of a word, so stripping it from the ends of a piece
# changes nothing the tokenizer would find there.
_EDGES = ".,;:!?()[]{}<>\"'«»“”‘’/\\|*&%#@…—–-"


def _split_piece(piece: str, out: list[str]) -> None:
    _, joiners, token = _patterns()
    for word in token.findall(piece):
        if word[0].isdigit():
            out.append(word.replace(",", "."))
            continue
        parts = joiners.split(word)
        out.extend(parts)
        if len(parts) > 1:
            out.append("".join(parts))


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


class DocInfo(NamedTuple):
    """What filters need to know of an indexed entry, without building it."""

    kind: str
    id: str
    pillar: str | None
    sector: str | None
    status: str | None


class IndexedDoc(NamedTuple):
    """One entry as the index keeps it."""

    info: DocInfo
    words: dict[str, int]  # folded word -> best (lowest) field level it appears in
    high: str  # folded words of each high-weight text, one text per line (phrase check)
    low: str  # the same for the low-weight texts


def doc_info(entry: Entry) -> DocInfo:
    kind = kind_of(entry)
    if isinstance(entry, Pillar):
        return DocInfo(kind, entry.id, entry.id, None, None)
    if isinstance(entry, Sector):
        return DocInfo(kind, entry.id, entry.pillar, entry.id, None)
    if isinstance(entry, Commitment):
        return DocInfo(kind, entry.id, entry.pillar, entry.sector, entry.status.value)
    return DocInfo(kind, entry.id, None, None, None)


def index_doc(entry: Entry, aliases: dict[str, list[str]] | None = None) -> IndexedDoc:
    """Fold and split an entry's text for the index.

    `aliases` adds the words an entry's references stand for (actor id -> the words of
    its names and acronyms, split once for the whole KB)."""
    high, middle, low = entry_texts(entry)
    found: dict[str, int] = {}
    phrases = []
    for level, texts in enumerate((high, middle, low)):
        split = [words(t) for t in texts]
        if level == 1 and aliases and isinstance(entry, Commitment):
            split += [aliases[a] for a in entry.actors if a in aliases]
        for word in set().union(*split).difference(found):
            found[word] = level
        phrases.append("\n".join(" ".join(ws) for ws in split))
    return IndexedDoc(doc_info(entry), found, phrases[0], phrases[2])


def actor_aliases(kb: KnowledgeBase) -> dict[str, list[str]]:
    """Actor id -> the words of every name and acronym it goes by, in every language."""
    out: dict[str, list[str]] = {}
    for actor in kb.actors:
        names = [*actor.name.all(), *(actor.acronym.all() if actor.acronym else ()), *actor.aliases]
        out[actor.id] = [w for name in dict.fromkeys(names) for w in words(name)]
    return out


def indexed_docs(kb: KnowledgeBase) -> Iterator[IndexedDoc]:
    """Every entry of `kb` in index order (pillars, sectors, commitments, notes, sources)."""
    aliases = actor_aliases(kb)
    for entry in iter_entries(kb):
        yield index_doc(entry, aliases)


def kind_starts(kb: KnowledgeBase) -> list[int]:
    """Where each kind's entries start in index order, and the total at the end."""
    sizes = [len(kb.pillars), len(kb.sectors), len(kb.commitments), len(kb.notes), len(kb.sources)]
    starts = [0]
    for size in sizes:
        starts.append(starts[-1] + size)
    return starts


def new_postings() -> dict[str, array[int]]:
    """Word -> entries that contain it, each as doc * 4 + level, in doc order."""
    return defaultdict(functools.partial(array, "i"))


def add_postings(postings: dict[str, array[int]], doc: int, found: dict[str, int]) -> None:
    """Record `doc` under each of its words (docs come in order). `postings` comes from
    new_postings(): a missing word starts a new list on its own."""
    base = doc * 4
    for word, level in found.items():
        postings[word].append(base + level)


class Index:
    """What ranking needs of an index; MemoryIndex and the store's index provide it.

    Entries are numbered in index order, so an entry's kind is known from its number.
    """

    n_docs: int
    starts: list[int]

    def df(self, term: str) -> int:  # how many entries contain `term` (0: none)
        raise NotImplementedError

    def with_prefix(self, prefix: str) -> list[str]:  # KB words that start with `prefix`
        raise NotImplementedError

    def vocab(self) -> Sequence[str]:  # every KB word, sorted
        raise NotImplementedError

    def postings(self, term: str) -> Sequence[int]:  # doc * 4 + level, each doc once
        raise NotImplementedError

    def infos(self, docs: Iterable[int]) -> dict[int, DocInfo]:
        raise NotImplementedError

    def phrases(self, docs: Iterable[int]) -> dict[int, tuple[str, str]]:
        raise NotImplementedError

    def entries(self, docs: Sequence[int]) -> dict[int, Entry]:
        raise NotImplementedError

    def kind(self, doc: int) -> str:
        return KINDS[bisect.bisect_right(self.starts, doc) - 1]


class MemoryIndex(Index):
    """The index of a KB held in memory (a first load, or --no-cache)."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self._entries = list(iter_entries(kb))
        self._docs: list[IndexedDoc] = []
        self._postings = new_postings()
        for doc, indexed in enumerate(indexed_docs(kb)):
            self._docs.append(indexed)
            add_postings(self._postings, doc, indexed.words)
        self._vocab: list[str] | None = None
        self.n_docs = len(self._entries)
        self.starts = kind_starts(kb)

    def df(self, term: str) -> int:
        bucket = self._postings.get(term)
        return len(bucket) if bucket is not None else 0

    def vocab(self) -> Sequence[str]:
        if self._vocab is None:
            self._vocab = sorted(self._postings)
        return self._vocab

    def with_prefix(self, prefix: str) -> list[str]:
        vocab = self.vocab()
        i = bisect.bisect_left(vocab, prefix)
        out = []
        while i < len(vocab) and vocab[i].startswith(prefix):
            out.append(vocab[i])
            i += 1
        return out

    def postings(self, term: str) -> Sequence[int]:
        return self._postings.get(term, ())

    def infos(self, docs: Iterable[int]) -> dict[int, DocInfo]:
        return {d: self._docs[d].info for d in docs}

    def phrases(self, docs: Iterable[int]) -> dict[int, tuple[str, str]]:
        return {d: (self._docs[d].high, self._docs[d].low) for d in docs}

    def entries(self, docs: Sequence[int]) -> dict[int, Entry]:
        return {d: self._entries[d] for d in docs}


def build_index(kb: KnowledgeBase) -> MemoryIndex:
    return MemoryIndex(kb)


# ------------------------------------------------------------------------ search


class Hit(NamedTuple):
    entry: Entry
    score: float
    terms: tuple[str, ...]  # the KB words that matched, for highlighting

    @property
    def kind(self) -> str:
        return kind_of(self.entry)


def _candidates(word: str, index: Index) -> dict[str, float]:
    """KB words a query word may stand for, with how well they match (0..1).

    Exact (1.0); longer words it starts (a partial word, 0.6-0.9); and, only when the KB
    lacks the word itself: the closest words by edit distance (typos: 0.7 at one edit,
    0.55 at two, less for a rarer word than the likeliest one) and words sharing its
    stem (aduanas ~ aduanero, 0.6).
    """
    out: dict[str, float] = {}
    known = index.df(word) > 0
    if known:
        out[word] = 1.0
    if word[0].isdigit():
        return out
    if len(word) >= 3:
        for term in index.with_prefix(word):
            if term != word:
                out[term] = max(0.6, 0.9 - 0.03 * (len(term) - len(word)))
    if len(word) >= 4 and not known:  # a word the KB has is not a typo
        from rapidfuzz import process
        from rapidfuzz.distance import OSA

        limit = 1 if len(word) <= 6 else 2
        found = process.extract(
            word, index.vocab(), scorer=OSA.distance, score_cutoff=limit, limit=None
        )
        closest = min((d for t, d, _ in found if d and not t[0].isdigit()), default=0)
        tier = [t for t, d, _ in found if d == closest and d and not t[0].isdigit()]
        common = max((index.df(t) for t in tier), default=1)
        for term in tier:  # the nearest words only, the more common ones preferred
            prior = (index.df(term) / common) ** 0.5
            out.setdefault(term, (0.7 - 0.15 * (closest - 1)) * prior)
        if len(word) >= 6:
            stem = word[: max(5, math.ceil(0.7 * len(word)))]
            for term in index.with_prefix(stem):
                out.setdefault(term, 0.6)
    return out


def matching_actors(kb: KnowledgeBase, query: str) -> list[str]:
    """Ids of the actors whose id, name, acronym or alias (any language) contains `query`,
    case and accents aside: "GRC", "Parcs Canada" and "RCMP" find the same actor."""
    key = fold(query.strip())
    if not key:
        return []
    found = []
    for actor in kb.actors:
        names = [actor.id, *actor.name.all(), *actor.aliases]
        if actor.acronym:
            names += actor.acronym.all()
        if any(key in fold(name) for name in names):
            found.append(actor.id)
    # free-text actors (a KB without a registry) are matched on the text itself
    registered = {a.id for a in kb.actors}
    loose = {a for c in kb.commitments for a in c.actors if a not in registered}
    found += sorted(a for a in loose if key in fold(a))
    return found


def query_words(query: str) -> list[str]:
    """The words of a query that carry meaning (stop words dropped unless nothing is left)."""
    ws = list(dict.fromkeys(w for w in words(query) if w))[:MAX_QUERY_WORDS]
    meaningful = [w for w in ws if w not in STOPWORDS]
    return meaningful or ws


def _kept(info: DocInfo, pillar: str | None, sector: str | None, status: str | None) -> bool:
    if pillar and info.pillar != pillar:
        return False
    if sector and info.sector != sector:
        return False
    return not status or info.status == status


def search(
    index: Index,
    query: str,
    *,
    kinds: Sequence[str] | None = None,
    pillar: str | None = None,
    sector: str | None = None,
    status: str | None = None,
    limit: int | None = 10,
) -> list[Hit]:
    """Entries ranked best first; pillar, sector and status narrow the entries considered."""
    qwords = query_words(query)
    if not qwords:
        return []
    n_docs = max(index.n_docs, 1)
    # Per query word: each entry's best value, and the KB word that gave it.
    values: list[dict[int, float]] = []
    matched_by: list[dict[int, str]] = []
    for word in qwords:
        best: dict[int, float] = {}
        which: dict[int, str] = {}
        for term, quality in _candidates(word, index).items():
            posted = index.postings(term)
            idf = math.log(1 + n_docs / max(len(posted), 1))
            by_level = (*(quality * weight * idf for weight in WEIGHTS), 0.0)
            if not best:  # the first word posts each entry once: no comparison needed
                best = {code >> 2: by_level[code & 3] for code in posted}
                which = dict.fromkeys(best, term)
                continue
            for code in posted:
                doc, value = code >> 2, by_level[code & 3]
                if value > best.get(doc, 0.0):
                    best[doc] = value
                    which[doc] = term
        values.append(best)
        matched_by.append(which)
    docs: set[int] = set().union(*values)
    if kinds:
        docs = {d for d in docs if index.kind(d) in kinds}
    if pillar or sector or status:
        infos = index.infos(sorted(docs))
        docs = {d for d in docs if _kept(infos[d], pillar, sector, status)}
    priors = [KIND_PRIOR[kind] for kind in KINDS]
    starts, where = index.starts, bisect.bisect_right
    scored: list[tuple[float, int]] = []  # (-score, doc): sorts best first, ties by doc
    if len(values) == 1:
        only = values[0]
        scored = [(-(only[d] * priors[where(starts, d) - 1]), d) for d in docs]
    else:
        n = len(qwords)
        for doc in docs:
            found = [v[doc] for v in values if doc in v]
            coverage = len(found) / n
            prior = priors[where(starts, doc) - 1]
            scored.append((-(sum(found) * coverage * coverage * prior), doc))
    # Ties go to the earlier entry: pillars, sectors, commitments (in file order), notes,
    # sources. The whole query as a phrase in a title (or summary) then lifts an entry;
    # only the best few hundred are checked, so a common word in a large KB stays fast.
    scored.sort()
    phrase = " ".join(w for w in words(query) if w)  # stop words kept: "pomme de terre"
    if " " in phrase or len(phrase) >= 4:
        pool = min(PHRASE_POOL, len(scored))
        texts = index.phrases([doc for _, doc in scored[:pool]])
        for rank in range(pool):
            negative, doc = scored[rank]
            high, low = texts[doc]
            if phrase in high:
                scored[rank] = (negative * 1.5, doc)
            elif phrase in low:
                scored[rank] = (negative * 1.2, doc)
        scored = [(round(negative, 3), doc) for negative, doc in scored]
        scored.sort()
    top = scored[:limit] if limit else scored
    entries = index.entries([doc for _, doc in top])
    return [
        Hit(
            entries[doc],
            round(-negative, 3),
            tuple(dict.fromkeys(m[doc] for m in matched_by if doc in m)),
        )
        for negative, doc in top
    ]


def suggestions(index: Index, query: str, n: int = 3) -> list[str]:
    """KB words close to the query's words, for a 'did you mean' hint."""
    from rapidfuzz import fuzz, process

    out: list[str] = []
    for word in query_words(query):
        if len(word) < 3:
            continue
        found = process.extract(word, index.vocab(), scorer=fuzz.ratio, limit=n, score_cutoff=60)
        for term, _, _ in found:
            if term not in out and len(term) > 2 and term not in STOPWORDS:
                out.append(term)
    return out[:n]


def folded_with_positions(text: str) -> tuple[str, list[int]]:
    """`fold(text)`, and for each of its characters the position it came from in `text`
    (folding may change the length: "…" -> "...", "ß" -> "ss")."""
    if text.isascii():
        return text.lower(), list(range(len(text)))
    parts, where = [], []
    for i, ch in enumerate(text):
        f = fold(ch)
        parts.append(f)
        where.extend([i] * len(f))
    return "".join(parts), where


def snippet(text: str, terms: Iterable[str], width: int = 160) -> str:
    """A window of `text` around the first matched word."""
    if len(text) <= width:
        return text
    folded, where = folded_with_positions(text)
    found = [p for t in terms if (p := _find_word(folded, t)) >= 0]
    first = where[min(found)] if found else 0
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
    """Where the matched words stand in `text`, as (start, end) pairs of the original.

    Words are found in the folded text (case and accents aside, so "energia" marks
    "Energía"), then mapped back to the original characters, whatever folding did to
    the length. A word sharing a matched word's stem is marked too (energía ~ energy).
    """
    folded, where = folded_with_positions(text)
    spans = []
    for term in dict.fromkeys(t for t in terms if t):
        stem = term[: max(4, len(term) - 2)] if len(term) > 4 else term
        for match in re.finditer(rf"(?<!\w){re.escape(stem)}\w*", folded):
            if match.end() > match.start():
                spans.append((where[match.start()], where[match.end() - 1] + 1))
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged
