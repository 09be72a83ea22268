"""Filtering and ranked, typo-tolerant, trilingual search over the knowledge base.

The index is inverted: for each folded word (accents and case removed), the
entries that contain it and the best field weight it has there. Beside the words it
posts each entry under the Snowball stem of its words in the language of the text
("~en:emiss", "~es:export") and under the concepts it is linked to and their broader
concepts ("#drugs"), and keeps the thesaurus labels, stemmed, that name each concept.

A query is split into units: a run of words that names a concept (any label, any
language, longest first), else one word. A word matches the vocabulary exactly, by
stem, as the start of a longer word, or (restrained) as a typo; only the entries
posted under the matching terms are scored, so a query costs what its postings
cost, not the size of the KB. Each hit's confidence is the informative share of
the query's units it matches and how well, so it compares across queries. The
index lives in memory (MemoryIndex) or in the store's SQLite file (cmx.store).
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import math
import re
from array import array
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import NamedTuple, Protocol, TypeAlias

from cmx.i18n import LANGUAGE_TABLE, fold
from cmx.model import (
    LANGS,
    PLAN_WIDE,
    Actor,
    ActorKind,
    Commitment,
    Entry,
    KnowledgeBase,
    Note,
    Pillar,
    Sector,
    Source,
    Text,
    date_bounds,
    iter_entries,
    kind_of,
)

KINDS: tuple[str, ...] = ("pillar", "sector", "commitment", "note", "source")
KIND_PRIOR = {"commitment": 1.0, "sector": 0.95, "pillar": 0.9, "note": 0.8, "source": 0.6}
WEIGHTS = (3.0, 2.0, 1.0)  # title/name/aliases/id, actors/tags/source titles, summaries
MAX_QUERY_WORDS = 24
PHRASE_POOL = 300  # how many of the best hits get the phrase check
# Question and filler words and stemmers per language: cmx.i18n's language table.
STOPWORDS_BY_LANG = {lang: LANGUAGE_TABLE[lang].stopwords for lang in LANGS}
STOPWORDS = frozenset().union(*STOPWORDS_BY_LANG.values())
STEMMERS = {lang: LANGUAGE_TABLE[lang].stemmer for lang in LANGS}
# How well a unit is matched, whatever its score: what confidence is made of.
STRENGTH = {
    "exact": 1.0,
    "stem": 1.0,  # the query word inflected ('emissions' for 'emission')
    "weak": 0.5,  # a word derived from the same stem ('étudier' for 'étudiants')
    "concept": 1.0,
    "agency": 1.0,  # an agency of the registry, by its name or acronym
    "area": 0.7,  # the area of an agency the sources do not name: never 'high' alone
    "prefix": 0.75,
    "typo": 0.6,
}
WEAK_STEM = 0.6  # the score of a weak stem match (STRENGTH['weak'] is its confidence)
AREA_QUALITY = 0.8  # the score of an agency's area (STRENGTH['area'] its confidence)
LOW_FIELD = 0.9  # a match only in a summary or an event counts a little less
# Confidence thresholds on the matched share, chosen on bench/calibration.yaml (a set
# written blind): 'high', the first hit is right nearly always (0.97 there); 'medium',
# usually right (0.8-0.9); 'low', probably no answer in the KB.
HIGH, MEDIUM = 0.85, 0.55
# General words: they count where an entry has them, and are not held against one
# that lacks them ('opioid crisis' is about opioids; every entry is about Canada and
# Mexico). Folded; nouns and adjectives that say no topic, in the three languages.
GENERIC = frozenset(
    """
    canada canadian canadians mexico mexican mexicans country countries nation nations
    both two bilateral government governments crisis crises issue issues problem problems
    situation matter matters measures measure efforts effort steps action actions
    initiative initiatives plan plans programme programs policy policies progress update
    updates news status latest current new recent information details topic topics
    cooperation collaboration work agreement agreements commitment commitments deal
    canadiense canadienses mexicano mexicanos mexicana mexicanas pais paises gobierno
    gobiernos ambos dos crisis problema problemas situacion tema temas medidas medida
    esfuerzos acciones accion iniciativa iniciativas plan planes programa programas politica
    politicas avances avance novedades noticias estado informacion detalles cooperacion
    colaboracion trabajo acuerdo acuerdos compromiso compromisos nuevo nueva
    canadien canadiens canadienne canadiennes mexique mexicain mexicains mexicaine
    mexicaines pays gouvernement gouvernements deux crise crises probleme problemes
    situation sujet sujets mesures mesure efforts action actions initiative initiatives
    plans programme programmes politique politiques progres nouvelles etat informations
    details cooperation collaboration travail accord accords engagement engagements nouveau
    nouvelle agency agencies agencia agencias agence agences
    fight fighting fights combat combating combatting tackle tackling address addressing
    combatir combate luchar lucha lutter lutte luttent combattre contrer
    strengthen strengthening deepen enhance promote support advance continue continued
    foster improve increase expand reinforce committed commit commits ensure working
    together joint cooperate collaborate fortalecer fortaleceran reforzar reforzaran
    profundizar promover impulsar apoyar ampliar mejorar continuar comprometieron
    comprometen juntos conjunta conjunto renforcer renforceront renforcent approfondir
    promouvoir soutenir ameliorer poursuivre elargir engage engages engagent ensemble
    conjointement
    """.split()
)
OTHER_TOPIC = 1.0  # how much a word an entry lacks counts when other entries have it
COMMON_SHARE = 0.3  # a unit found in more than this share of entries says little
TYPO_MIN = 5  # shorter words are not corrected: too many real words lie one edit apart


@functools.cache
def _patterns() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """(word joiners, tokens), compiled on first use (~3 ms at start-up)."""
    return (
        re.compile(r"[-'’.]"),
        re.compile(r"\d+(?:[.,]\d+)*|[^\W_]+(?:[-'’.][^\W_]+)*"),
    )


@functools.cache
def _stemmer(lang: str) -> object:
    """The Snowball stemmer of a language (PyStemmer, a C build of the Snowball
    algorithms), loaded on first use: start-up does not pay for it."""
    import Stemmer  # type: ignore[import-not-found,unused-ignore]

    return Stemmer.Stemmer(STEMMERS[lang])


@functools.lru_cache(maxsize=1 << 16)
def stem(word: str, lang: str) -> str:
    """The Snowball stem of a folded word: stem('emissions', 'en') == 'emiss'.

    Words are folded before they are stemmed, on both sides, so 'securite' and
    'sécurité' meet whether or not the accents are typed."""
    if not word.isalpha():
        return word
    known = _STEM_CACHE.get(lang)
    if known is not None and word in known:  # stemmed before, or kept by the index
        return known[word]
    out: str = _stemmer(lang).stemWord(word)  # type: ignore[attr-defined]
    return out


_STEM_CACHE: dict[str, dict[str, str]] = {}  # a pure function's memo, per language


def word_stems(vocab: Iterable[str]) -> Iterator[tuple[str, tuple[str, ...]]]:
    """Each word of the KB (alphabetic) with its stem in each language (LANGS order),
    for the index to keep: a query of the KB's own words then loads no stemmer."""
    batch = [w for w in vocab if w.isalpha()]
    found = [stems(batch, lang) for lang in LANGS]
    yield from zip(batch, zip(*found, strict=True), strict=True)


def learn_stems(index: Index, ws: Iterable[str]) -> None:
    """Take the stems of these words from the index, where it keeps them (`word_stems`):
    `stem` then answers without loading PyStemmer (~2.5 ms of a search's start)."""
    wanted = [
        w for w in dict.fromkeys(ws) if w.isalpha() and w not in _STEM_CACHE.get(LANGS[-1], {})
    ]
    for word, found in index.word_stems(wanted).items():
        for lang, stemmed in zip(LANGS, found, strict=True):
            _STEM_CACHE.setdefault(lang, {})[word] = stemmed


def stems(batch: list[str], lang: str) -> list[str]:
    """The stems of many folded words at once (the index build's path)."""
    cache = _STEM_CACHE.setdefault(lang, {})
    missing = [w for w in dict.fromkeys(batch) if w not in cache]
    if missing:
        found: list[str] = _stemmer(lang).stemWords(missing)  # type: ignore[attr-defined]
        cache.update(zip(missing, found, strict=True))
    return [cache[w] for w in batch]


_TERM_CACHE: dict[str, dict[str, str | None]] = {}  # a pure function's memo, per language


def stem_terms(batch: Iterable[str], lang: str) -> dict[str, str | None]:
    """Word -> its stem's index term ('~en:emiss'), or None for a word too short or not
    alphabetic to stem; memoised, so a large KB stems each distinct word once."""
    cache = _TERM_CACHE.setdefault(lang, {})
    missing = list(set(batch).difference(cache))
    if missing:
        eligible = [w for w in missing if len(w) >= 3 and w.isalpha()]
        for word, stemmed in zip(eligible, stems(eligible, lang), strict=True):
            cache[word] = f"~{lang}:{stemmed}"
        for word in missing:
            cache.setdefault(word, None)
    return cache


def stem_table(vocab: Iterable[str]) -> dict[str, list[str]]:
    """Stem term ('~en:emiss') -> the KB words with that stem, in any of the three
    languages: built once from the vocabulary (not per entry), so the index holds each
    word's postings once and a query reaches every form of a word through its stem."""
    table: dict[str, list[str]] = {}
    words_ = [w for w in vocab if len(w) >= 3 and w.isalpha()]
    for lang in LANGS:
        terms = stem_terms(words_, lang)
        for word in words_:
            term = terms[word]
            if term is not None:
                table.setdefault(term, []).append(word)
    return table


def stem_term(word: str, lang: str) -> str:
    """The index term of a word's stem in a language: '~en:emiss'."""
    return f"~{lang}:{stem(word, lang)}"


def concept_term(concept_id: str) -> str:
    return f"#{concept_id}"


def actor_term(actor_id: str) -> str:
    return f"@{actor_id}"


def is_special(term: str) -> bool:
    """A stem, concept or actor term, not a word of the KB's text."""
    return term[:1] in ("~", "#", "@")


# ------------------------------------------------------------------------ filters


def filter_commitments(
    items: Iterable[Commitment],
    *,
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
    joiners, token = _patterns()
    for word in token.findall(piece):
        if word[0].isdigit():
            out.append(word.replace(",", "."))
            continue
        parts = joiners.split(word)
        out.extend(parts)
        if len(parts) > 1:
            out.append("".join(parts))


# ------------------------------------------------------------------------ index


Texts: TypeAlias = "list[tuple[str | None, str]]"  # (language, or None if unknown; text)


def entry_texts_by_lang(entry: object) -> tuple[Texts, Texts, Texts]:
    """The text of an entry by field weight (high, middle, low), each text with its
    language where the entry says it (titles, names, summaries, events), else None
    (ids, aliases, tags, a source's own title and note)."""

    def langs(text: Text) -> Texts:
        return [(lang, getattr(text, lang)) for lang in LANGS]

    def plain(texts: Iterable[str]) -> Texts:
        return [(None, t) for t in texts]

    if isinstance(entry, Commitment):
        return (
            [(None, entry.id), *langs(entry.title), *plain(entry.aliases)],
            plain([*entry.actors, *entry.tags]),
            [*langs(entry.summary), *(pair for e in entry.events for pair in langs(e.what))],
        )
    if isinstance(entry, Sector | Pillar):
        named = plain(entry.aliases)
        return (
            [(None, entry.id), (None, entry.number or ""), *langs(entry.name), *named],
            [],
            langs(entry.summary),
        )
    if isinstance(entry, Note):
        return ([(None, entry.id), *langs(entry.title)], [], langs(entry.claim))
    if isinstance(entry, Source):
        title = plain([entry.title, entry.publisher])
        return ([(None, entry.id)], title, langs(entry.note) if entry.note else [])
    return ([], [], [])


def entry_texts(entry: object) -> tuple[list[str], list[str], list[str]]:
    """The text of an entry, by field weight (high, middle, low)."""
    high, middle, low = entry_texts_by_lang(entry)
    return ([t for _, t in high], [t for _, t in middle], [t for _, t in low])


def text_langs(ws: Sequence[str]) -> tuple[str, ...]:
    """The languages a text of unknown language is stemmed in: the one whose stop words
    it uses most ('Renovación del memorándum' is Spanish), else all three (a name, an
    alias, a tag: too short to tell)."""
    counts = {lang: sum(w in STOPWORDS_BY_LANG[lang] for w in ws) for lang in LANGS}
    best = max(counts.values())
    top = [lang for lang, n in counts.items() if n == best]
    return (top[0],) if best and len(top) == 1 else LANGS


class DocInfo:
    """What filters need to know of an indexed entry, without building it. (DocInfo and
    IndexedDoc are plain classes: a NamedTuple costs ~0.3 ms to define, on every run.)"""

    __slots__ = ("id", "kind", "pillar", "sector", "status")

    def __init__(
        self, kind: str, id: str, pillar: str | None, sector: str | None, status: str | None
    ) -> None:
        self.kind, self.id, self.pillar, self.sector, self.status = kind, id, pillar, sector, status

    def row(self) -> tuple[str, str, str | None, str | None, str | None]:
        """As the store's index table holds it."""
        return (self.kind, self.id, self.pillar, self.sector, self.status)


class IndexedDoc:
    """One entry as the index keeps it."""

    __slots__ = ("high", "info", "low", "words")

    def __init__(self, info: DocInfo, words: dict[str, int], high: str, low: str) -> None:
        self.info = info
        self.words = words  # folded word -> best (lowest) field level it appears in
        self.high = high  # folded words of each high-weight text, one per line (phrases)
        self.low = low  # the same for the low-weight texts


def doc_info(entry: Entry, plan_wide: frozenset[str] = frozenset()) -> DocInfo:
    """What filters and hits need of an entry; the pillar of the plan's own governance
    (sectors in `plan_wide`) is PLAN_WIDE, as everywhere else."""
    kind = kind_of(entry)
    if isinstance(entry, Pillar):
        return DocInfo(kind, entry.id, entry.id, None, None)
    if isinstance(entry, Sector):
        return DocInfo(kind, entry.id, entry.scope, entry.id, None)
    if isinstance(entry, Commitment):
        pillar = PLAN_WIDE if entry.sector in plan_wide else entry.pillar
        return DocInfo(kind, entry.id, pillar, entry.sector, entry.status.value)
    return DocInfo(kind, entry.id, None, None, None)


def index_doc(
    entry: Entry,
    aliases: Mapping[str, Texts] | None = None,
    concepts_up: dict[str, list[str]] | None = None,
    plan_wide: frozenset[str] = frozenset(),
) -> IndexedDoc:
    """Fold and split an entry's text for the index, with stems, actors and concepts.

    Each word is posted as written, and under its Snowball stem in the language of its
    text only ('~fr:vis' for the French 'visés', never for the English 'visa'). `aliases`
    adds the names and acronyms an entry's actors go by (actor id -> (language, name)),
    and each actor is posted as itself ('@rcmp'); `concepts_up` gives, for each concept
    id, the id and its broader concepts: an entry is posted under the concepts it is
    linked to (middle weight) and their broader ones (low weight)."""
    found: dict[str, int] = {}
    phrases = []
    split_once: dict[str, list[str]] = {}  # each text is split once, for words and stems

    def split_text(text: str) -> list[str]:
        got = split_once.get(text)
        if got is None:
            got = split_once[text] = words(text)
        return got

    by_lang: dict[str, set[str]] = {lang: set() for lang in LANGS}
    for level, texts in enumerate(entry_texts_by_lang(entry)):
        if level == 1 and isinstance(entry, Commitment):
            texts = texts + [pair for a in entry.actors for pair in (aliases or {}).get(a, ())]
            for actor in entry.actors:
                found.setdefault(actor_term(actor), 1)
        split = [split_text(t) for _, t in texts]
        for word in set().union(*split).difference(found):
            found[word] = level
        for (lang, _), ws in zip(texts, split, strict=True):
            for one in (lang,) if lang else text_langs(ws):
                by_lang[one].update(ws)
        for lang, in_lang in by_lang.items():
            if in_lang:
                for term in _stems_of(in_lang, lang):
                    if term not in found:
                        found[term] = level
                in_lang.clear()
        if level != 1:
            phrases.append("\n".join(" ".join(ws) for ws in split))
    linked = getattr(entry, "concepts", ()) if isinstance(entry, Commitment | Sector) else ()
    for concept_id in linked:
        for depth, up in enumerate((concepts_up or {}).get(concept_id, [concept_id])):
            term, level = concept_term(up), 1 if depth == 0 else 2
            if found.get(term, 3) > level:
                found[term] = level
    return IndexedDoc(doc_info(entry, plan_wide), found, phrases[0], phrases[1])


def _stems_of(ws: Iterable[str], lang: str) -> Iterator[str]:
    """The stem terms of words in one language ('~fr:vis'), memoised per word."""
    terms = stem_terms(ws, lang)
    for word in ws:
        term = terms[word]
        if term is not None:
            yield term


def concepts_up(kb: KnowledgeBase) -> dict[str, list[str]]:
    """Concept id -> the id and its broader concepts, nearest first (loops cut)."""
    broader = {c.id: c.broader for c in kb.concepts}
    out: dict[str, list[str]] = {}
    for concept in kb.concepts:
        chain = [concept.id]
        up = concept.broader
        while up is not None and up in broader and up not in chain:
            chain.append(up)
            up = broader[up]
        out[concept.id] = chain
    return out


def label_key(label: str, lang: str, ws: Sequence[str] | None = None) -> str:
    """The look-up key of a concept label or query run: language, then its stems."""
    ws = list(ws if ws is not None else words(label))
    ws = [w for w in ws if w not in STOPWORDS] or ws
    return f"{lang}:" + " ".join(stem(w, lang) for w in ws)


def label_forms(label: str) -> list[list[str]]:
    """The words a label may be typed as: a joined word by its parts ('libre échange')
    or as one ('libreechange', 'tmec'), as query_words reads it."""
    parts: list[str] = []
    joined: list[str] = []
    for piece in label.split():
        ws = words(piece)
        if len(ws) > 1 and "".join(ws[:-1]) == ws[-1]:
            parts += ws[:-1]
            joined.append(ws[-1])
        else:
            parts += ws
            joined += ws
    return [parts] if parts == joined else [parts, joined]


# Words that make a name an organisation's: a concept label with one of them (or the
# acronym of such a label) names an agency, not the concept itself.
ORG_WORDS = frozenset(
    """
    agency agence agencia service services servicio servicios department ministry ministere
    ministerio secretariat secretaria secretariat guard guardia garde commission comision
    council conseil consejo office oficina bureau bank banco banque institute instituto centre
    centro centre
    institut authority autoridad autorite
    """.split()
)


def names_agency(label: str, others: Sequence[str]) -> bool:
    """Whether a concept label names an organisation: it has an organisation word
    ('Canada Border Services Agency', 'Guardia Nacional'), ends in 'Canada' as federal
    bodies' names do ('Natural Resources Canada'), or is the acronym of such a label
    among `others` ('CBSA', 'ASFC', 'NRCan')."""
    ws = words(label)
    if any(w in ORG_WORDS for w in ws) or (len(ws) > 1 and ws[-1] == "canada"):
        return True
    if len(ws) != 1 or not label.isalpha() or sum(c.isupper() for c in label) < 2:
        return False
    acronym = ws[0]
    for other in others:
        parts = [w for w in words(other) if w not in STOPWORDS]
        if len(parts) > 1 and _abbreviates(acronym, parts) and names_agency(other, ()):
            return True
    return False


def _abbreviates(acronym: str, parts: Sequence[str]) -> bool:
    """Whether an acronym is made of the initials of `parts`, in order, with other
    letters between ('nrcan' for natural resources canada, 'comar', 'sener')."""
    if acronym[:1] != parts[0][:1]:
        return False
    rest = iter(acronym)
    return all(p[0] in rest for p in parts)


AREA_MARK = "="  # a concept id reached through the name of an agency (concept_labels)


def label_words(labels: Mapping[str, object]) -> int:
    """The most words a concept's label key has (how long a run of query words to try)."""
    return max((key.count(" ") + 1 for key in labels), default=1)


def concept_labels(kb: KnowledgeBase) -> dict[str, list[str]]:
    """Label key -> what it names, every label in every language: concept ids; '=id' for
    a concept reached through the name of an agency the sources do not name (an `alt`
    label such as 'IRCC'); '@id' for an actor of the registry (its names, acronyms and
    aliases), so that 'Parks Canada' finds the agency, not parks."""
    out: dict[str, list[str]] = {}

    def add(key: str, target: str) -> None:
        ids = out.setdefault(key, [])
        if target not in ids:
            ids.append(target)

    for concept in kb.concepts:
        every = [label for labels in concept.labels().values() for label in labels]
        for lang, labels in concept.labels().items():
            for label in labels:
                agency = names_agency(label, every)
                for form in label_forms(label):
                    add(
                        label_key(label, lang, form),
                        AREA_MARK + concept.id if agency else concept.id,
                    )
    for actor in kb.actors:
        if actor.kind in (ActorKind.PERSON, ActorKind.GOVERNMENT):
            continue
        for lang, names in _actor_names(actor):
            for name in names:
                for form in label_forms(name) if len(words(name)) <= 6 else ():
                    add(label_key(name, lang, form), actor_term(actor.id))
    return out


def _actor_names(actor: Actor) -> list[tuple[str, list[str]]]:
    """An actor's names, acronyms and aliases by language (aliases in every language)."""
    return [
        (
            lang,
            [
                getattr(actor.name, lang),
                *([getattr(actor.acronym, lang)] if actor.acronym else []),
                *actor.aliases,
            ],
        )
        for lang in LANGS
    ]


def actor_aliases(kb: KnowledgeBase) -> dict[str, Texts]:
    """Actor id -> every name and acronym it goes by, with its language (None for
    aliases)."""
    out: dict[str, Texts] = {}
    for actor in kb.actors:
        pairs: Texts = [(lang, getattr(actor.name, lang)) for lang in LANGS]
        if actor.acronym:
            pairs += [(lang, getattr(actor.acronym, lang)) for lang in LANGS]
        pairs += [(None, a) for a in actor.aliases]
        out[actor.id] = list(dict.fromkeys(pairs))
    return out


def indexed_docs(kb: KnowledgeBase) -> Iterator[IndexedDoc]:
    """Every entry of `kb` in index order (pillars, sectors, commitments, notes, sources)."""
    aliases = actor_aliases(kb)
    up = concepts_up(kb)
    plan_wide = kb.plan_wide_sectors()
    for entry in iter_entries(kb):
        yield index_doc(entry, aliases, up, plan_wide)


def kind_starts(kb: KnowledgeBase) -> list[int]:
    """Where each kind's entries start in index order, and the total at the end."""
    sizes = [len(kb.pillars), len(kb.sectors), len(kb.commitments), len(kb.notes), len(kb.sources)]
    starts = [0]
    for size in sizes:
        starts.append(starts[-1] + size)
    return starts


Levels = tuple[Sequence[int], Sequence[int], Sequence[int]]  # a term's docs by field level
Postings: TypeAlias = "dict[str, tuple[array[int], array[int], array[int]]]"
NO_POSTINGS: Levels = ((), (), ())


def _three_arrays() -> tuple[array[int], array[int], array[int]]:
    return (array("i"), array("i"), array("i"))


def new_postings() -> Postings:
    """Word -> the entries that contain it at each field level (its best one), each in
    doc order: ranking takes a level's entries as a block, at C speed."""
    return defaultdict(_three_arrays)


def add_postings(postings: Postings, doc: int, found: dict[str, int]) -> None:
    """Record `doc` under each of its words (docs come in order). `postings` comes from
    new_postings(): a missing word starts new lists on its own."""
    for word, level in found.items():
        postings[word][level].append(doc)


def df_of(levels: Levels) -> int:
    """How many entries a term's postings hold (each entry is at one level only)."""
    return len(levels[0]) + len(levels[1]) + len(levels[2])


class Index(Protocol):
    """What ranking needs of an index; MemoryIndex and the store's index provide it.

    Entries are numbered in index order, so an entry's kind is known from its number
    (`doc_kind`). A protocol, so that the store need not import this module until a
    search runs.
    """

    n_docs: int
    starts: list[int]

    def df(self, term: str) -> int:  # how many entries contain `term` (0: none)
        raise NotImplementedError

    def prefetch(self, terms: Sequence[str]) -> None:  # df of these about to be asked
        return None

    def preload(self, terms: Sequence[str]) -> None:  # postings of these about to be asked
        return None

    def word_stems(self, ws: Sequence[str]) -> Mapping[str, Sequence[str]]:  # kept stems
        return {}

    def with_prefix(self, prefix: str) -> list[str]:  # KB words that start with `prefix`
        raise NotImplementedError

    def vocab(self) -> Sequence[str]:  # every KB word, sorted (no stem or concept terms)
        raise NotImplementedError

    def postings(self, term: str) -> Levels:  # the docs with `term`, by field level
        raise NotImplementedError

    def stem_words(self, term: str) -> Sequence[str]:  # KB words with a stem ('~en:emiss')
        raise NotImplementedError

    def infos(self, docs: Iterable[int]) -> dict[int, DocInfo]:
        raise NotImplementedError

    def phrases(self, docs: Iterable[int]) -> dict[int, tuple[str, str]]:
        raise NotImplementedError

    def titles(self, docs: Sequence[int]) -> dict[int, str]:  # the high texts of phrases
        return {d: high for d, (high, _) in self.phrases(docs).items()}

    def summaries(self, docs: Sequence[int]) -> dict[int, str]:  # the low texts
        return {d: low for d, (_, low) in self.phrases(docs).items()}

    def entries(self, docs: Sequence[int]) -> dict[int, Entry]:
        raise NotImplementedError

    def concepts_of(self, keys: Sequence[str]) -> dict[str, Sequence[str]]:
        """The concepts each of these label keys names (keys that name none left out)."""
        raise NotImplementedError

    def label_words(self) -> int:  # the most words a concept's label has
        raise NotImplementedError


def doc_kind(index: Index, doc: int) -> str:
    """The kind of the entry numbered `doc`."""
    return KINDS[bisect.bisect_right(index.starts, doc) - 1]


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
        self._stems: dict[str, list[str]] | None = None
        self._labels = concept_labels(kb)
        self.n_docs = len(self._entries)
        self.starts = kind_starts(kb)

    def concepts_of(self, keys: Sequence[str]) -> dict[str, Sequence[str]]:
        return {k: self._labels[k] for k in keys if k in self._labels}

    def label_words(self) -> int:
        return label_words(self._labels)

    def df(self, term: str) -> int:
        return df_of(self._postings.get(term, NO_POSTINGS))

    def vocab(self) -> Sequence[str]:
        if self._vocab is None:
            self._vocab = sorted(t for t in self._postings if not is_special(t))
        return self._vocab

    def stem_words(self, term: str) -> Sequence[str]:
        if self._stems is None:
            self._stems = stem_table(self.vocab())
        return self._stems.get(term, ())

    def with_prefix(self, prefix: str) -> list[str]:
        vocab = self.vocab()
        i = bisect.bisect_left(vocab, prefix)
        out = []
        while i < len(vocab) and vocab[i].startswith(prefix):
            out.append(vocab[i])
            i += 1
        return out

    def postings(self, term: str) -> Levels:
        return self._postings.get(term, NO_POSTINGS)

    def infos(self, docs: Iterable[int]) -> dict[int, DocInfo]:
        return {d: self._docs[d].info for d in docs}

    def phrases(self, docs: Iterable[int]) -> dict[int, tuple[str, str]]:
        return {d: (self._docs[d].high, self._docs[d].low) for d in docs}

    def entries(self, docs: Sequence[int]) -> dict[int, Entry]:
        return {d: self._entries[d] for d in docs}


def build_index(kb: KnowledgeBase) -> MemoryIndex:
    return MemoryIndex(kb)


# ------------------------------------------------------------------------ search


class Why(NamedTuple):
    """How one part of the query matched a hit (--explain); cmx.output words it."""

    query: str  # the part of the query, as folded
    how: str  # exact, stem, prefix, typo, concept, narrower (a narrower concept), unmatched
    term: str = ""  # the knowledge-base word, stem or concept id it matched
    field: int | None = None  # 0 a title or name, 1 actors/tags/links, 2 a summary or event


class Hit(NamedTuple):
    entry: Entry
    score: float
    terms: tuple[str, ...]  # the KB words that matched, for highlighting
    confidence: str = "high"  # high, medium or low: comparable across queries
    why: tuple[Why, ...] = ()  # per query unit: what it matched and how (--explain)

    @property
    def kind(self) -> str:
        return kind_of(self.entry)


class Unit:
    """A part of the query that is matched as one: a word, or a run naming concepts.
    (Unit and Match are plain classes: a NamedTuple costs ~0.3 ms to define, each run.)"""

    __slots__ = ("concepts", "text", "words")

    def __init__(self, text: str, words: tuple[str, ...], concepts: tuple[str, ...] = ()):
        self.text = text  # as folded from the query, for --explain
        self.words = words
        self.concepts = concepts

    def __repr__(self) -> str:
        return f"Unit({self.text!r}, {self.words!r}, {self.concepts!r})"


class Match:
    """How a KB term matches a query word."""

    __slots__ = ("how", "quality", "shown", "strength")

    def __init__(self, quality: float, how: str, shown: str, strength: float | None = None) -> None:
        self.quality = quality  # 0..1, scales the score
        self.how = how  # exact, stem, prefix, typo, concept, agency, area (a key of STRENGTH)
        self.shown = shown  # what to show and highlight: the KB word, stem, concept or actor
        self.strength = strength  # how sure the match is, if not STRENGTH[how]

    def __repr__(self) -> str:
        return f"Match({self.quality!r}, {self.how!r}, {self.shown!r}, {self.strength!r})"


def inflects(a: str, b: str) -> bool:
    """Whether two words of one stem are the same word inflected: one is the other plus
    a short ending ('visa', 'visas'; 'emission', 'emissions'), not another word derived
    from the stem ('visa', 'visés'; 'étudiants', 'étudier')."""
    short, long_ = (a, b) if len(a) <= len(b) else (b, a)
    return long_.startswith(short) and len(long_) - len(short) <= 3


def _glued(word: str, term: str, index: Index) -> bool:
    """Whether `term` is `word` glued to another word of the KB by the tokenizer
    ('canadaconanp' from 'Canada-CONANP'): a prefix must not reach into it."""
    rest = term[len(word) :]
    return len(rest) >= 2 and index.df(word) > 0 and index.df(rest) > 0


def _candidates(word: str, index: Index) -> dict[str, Match]:
    """Index terms a query word may stand for, with how well and how they match.

    Exact (1.0). By Snowball stem, in each language, matching text of that language
    only: the KB words of the stem that are the query word inflected (0.9, as sure as
    the word itself), and the stem's own postings for the entries that have only a word
    derived from it (0.6, a weak match: 'visa' and the French 'visés'). Longer words it
    starts (a partial word, 0.6-0.9), never a word glued to another ('canadaconanp').
    And, only when neither the word nor its stem is in the KB and the word is long
    enough to carry a typo: the closest words by edit distance that start with the same
    letter (0.7 at one edit, 0.55 at two, less for a rarer word than the likeliest
    one), never a word common in the KB.
    """
    out: dict[str, Match] = {}
    index.prefetch([word, *(stem_term(word, lang) for lang in LANGS)])  # one statement
    known = index.df(word) > 0
    if known:
        out[word] = Match(1.0, "exact", word)
    if word[0].isdigit():
        return out
    if len(word) >= 3 and word.isalpha():
        weak: dict[str, Match] = {}
        for lang in LANGS:
            term = stem_term(word, lang)
            if not index.df(term):
                continue
            known = True
            shown = stem(word, lang)
            for form in index.stem_words(term):
                if form not in out and inflects(form, word):
                    out[form] = Match(0.9, "stem", shown)
            weak.setdefault(term, Match(WEAK_STEM, "stem", shown, STRENGTH["weak"]))
        out.update(weak)
    if len(word) >= 3:
        longer = [t for t in index.with_prefix(word) if t != word]
        index.prefetch([t[len(word) :] for t in longer])  # what _glued asks, at once
        for term in longer:
            if term not in out and not _glued(word, term, index):
                out[term] = Match(max(0.6, 0.9 - 0.03 * (len(term) - len(word))), "prefix", term)
    if len(word) >= TYPO_MIN and not known:  # a word the KB has is not a typo
        from rapidfuzz import process
        from rapidfuzz.distance import OSA

        limit = 1 if len(word) <= 7 else 2
        common = COMMON_SHARE * index.n_docs
        found = [
            (t, d)
            for t, d, _ in process.extract(
                word, index.vocab(), scorer=OSA.distance, score_cutoff=limit, limit=None
            )
            if d and t[0] == word[0] and len(t) >= 4 and t not in STOPWORDS
        ]
        # a word common in the KB is not where a typo lands: it is another word
        found = [(t, d) for t, d in found if index.df(t) <= common or index.n_docs < 20]
        closest = min((d for _, d in found), default=0)
        tier = [t for t, d in found if d == closest]
        most = max((index.df(t) for t in tier), default=1)
        for term in tier:  # the nearest words only, the more common ones preferred
            prior = (index.df(term) / most) ** 0.5
            if term not in out:
                out[term] = Match((0.7 - 0.15 * (closest - 1)) * prior, "typo", term)
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


def query_words(query: str, index: Index | None = None) -> list[str]:
    """The words of a query that carry meaning (stop words dropped unless nothing is left).

    A joined word ('T-MEC' -> 'tmec', "l'hydrogène" -> 'lhydrogene') stands for its parts
    when the KB has it as one word, and is dropped otherwise (its parts remain)."""
    ws: list[str] = []
    for piece in fold(query).split():
        parts = words(piece)
        if len(parts) > 1 and not parts[-1][0].isdigit():
            joined = parts[-1]
            if "".join(parts[:-1]) == joined:  # the tokenizer added the joined form
                parts = [joined] if index is not None and index.df(joined) > 0 else parts[:-1]
        ws.extend(w for w in parts if w)
    ws = list(dict.fromkeys(ws))[:MAX_QUERY_WORDS]
    meaningful = [w for w in ws if w not in STOPWORDS]
    return meaningful or ws


def query_units(query: str, index: Index) -> list[Unit]:
    """The query's words, runs that name a concept (longest first) grouped as one unit."""
    qwords = query_words(query, index)
    longest = index.label_words()
    learn_stems(index, qwords)
    stems = {lang: [stem(w, lang) for w in qwords] for lang in LANGS}
    keys = {  # every run's label key in every language, looked up at once
        (i, n, lang): f"{lang}:" + " ".join(stems[lang][i : i + n])
        for i in range(len(qwords))
        for n in range(1, min(longest, len(qwords) - i) + 1)
        for lang in LANGS
    }
    named = index.concepts_of(list(dict.fromkeys(keys.values())))
    units: list[Unit] = []
    i = 0
    while i < len(qwords):
        for n in range(min(longest, len(qwords) - i), 0, -1):
            run = qwords[i : i + n]
            found: list[str] = []
            if not any(w[0].isdigit() for w in run):
                for lang in LANGS:
                    found += [c for c in named.get(keys[i, n, lang], ()) if c not in found]
            if found:
                units.append(Unit(" ".join(run), tuple(run), tuple(found)))
                i += n
                break
        else:
            units.append(Unit(qwords[i], (qwords[i],)))
            i += 1
    return units


def _targets(unit: Unit) -> dict[str, Match]:
    """The concept and actor terms a unit names: a concept (linked entries), an agency
    of the registry ('@rcmp': the entries it acts in), or a concept reached through the
    name of an agency the sources do not name ('=migration' for 'IRCC': less sure)."""
    out: dict[str, Match] = {}
    for target in unit.concepts:
        if target.startswith("@"):
            out[target] = Match(1.0, "agency", target[1:])
        elif target.startswith(AREA_MARK):  # the less sure reading wins
            out[concept_term(target[1:])] = Match(AREA_QUALITY, "area", target[1:])
        else:
            out.setdefault(concept_term(target), Match(1.0, "concept", target))
    return out


def names_agency_only(unit: Unit) -> bool:
    """A unit that names an agency (registered or not) and no concept of its own: its
    words are a name, not topics ('Natural Resources Canada' is not about nature)."""
    return bool(unit.concepts) and all(c[0] in ("@", AREA_MARK) for c in unit.concepts)


def _name_in_text(unit: Unit, found: list[set[int]], index: Index) -> set[int]:
    """The entries that have an agency's name as written, its words in order with at
    most a few short words between ('Secretaría de Economía'), in a title or a summary:
    not its words scattered ('Natural Resources' and 'Canada' apart)."""
    docs = set.intersection(*found) if found else set()
    if not docs:
        return set()
    gap = r"(?:\s+\S{1,4}){0,2}\s+"
    pattern = re.compile(r"(?<!\w)" + gap.join(re.escape(w) for w in unit.words) + r"(?!\w)")
    texts = index.phrases(sorted(docs))
    return {d for d in docs if pattern.search(texts[d][0]) or pattern.search(texts[d][1])}


def _unit_parts(unit: Unit, index: Index) -> list[dict[str, Match]]:
    """What a unit may match, in parts whose values add up: a single word's candidates
    (with its concepts); or, for a run naming concepts, the concepts, then each word as
    written or stemmed (an entry that has every word scores like one with the link).
    A unit that names an agency matches the agency, and its words only as written (an
    acronym in a text), never as topics."""
    targets = _targets(unit)
    if names_agency_only(unit) and len(unit.words) == 1:
        exact = {t: m for t, m in _candidates(unit.words[0], index).items() if m.how == "exact"}
        return [targets | exact]
    if len(unit.words) == 1:
        return [targets | _candidates(unit.words[0], index)]
    share = 1.0 / len(unit.words)
    parts = [targets]
    for word in unit.words:
        found = _candidates(word, index).items()
        parts.append(
            {
                t: Match(m.quality * share, m.how, m.shown, m.strength)
                for t, m in found
                if m.how in ("exact", "stem") and m.strength is None
            }
        )
    return parts


_Part = tuple[dict[int, float], dict[int, tuple[str, Match, int]], dict[int, float]]
_Block = tuple[float, int, int, str, Match, Sequence[int]]  # (-value, order, level, term…)
_Strength = tuple[float, int, int, Sequence[int]]  # (-strength, term order, level, docs)


def _score_part(
    part: dict[str, Match], index: Index, n_docs: int, enough: int | None = None
) -> _Part:
    """Per entry: the best value of a part, the term and match behind it, its strength.

    A term gives every entry at one field level the same value, so each (term, level)
    is a block of entries: blocks are taken best first and each entry keeps the first
    block it is in (on a tie, the earlier term), with set and dict operations that run
    in C. A common word in a large KB thus costs a few passes over its postings.

    `enough`: only the best entries are wanted (see `search`): once that many are
    found, blocks of a lower value (rounded as scores are) are left out, and strengths
    are kept for the entries found only."""
    return _scored(*_blocks(part, index, n_docs), enough)


def _scored(blocks: list[_Block], strengths: list[_Strength], enough: int | None = None) -> _Part:
    """A part from its blocks (`_take`) and strength blocks: strengths only for the
    entries taken when the blocks were cut short."""
    best, which, frontier = _take(blocks, enough)
    return best, which, _strengths(strengths, best.keys() if frontier else None)


def _blocks(
    part: dict[str, Match], index: Index, n_docs: int
) -> tuple[list[_Block], list[_Strength]]:
    """A part's blocks, best first, and its strength blocks, strongest first."""
    blocks: list[_Block] = []
    strengths = []  # (-strength, term order, level, docs)
    index.preload(list(part))  # one statement
    for order, (term, match) in enumerate(part.items()):
        levels = index.postings(term)
        idf = math.log(1 + n_docs / max(df_of(levels), 1))
        base = match.strength if match.strength is not None else STRENGTH[match.how]
        for level, docs in enumerate(levels):
            if docs:
                blocks.append(
                    (-match.quality * WEIGHTS[level] * idf, order, level, term, match, docs)
                )
                strengths.append((-(base * LOW_FIELD if level == 2 else base), order, level, docs))
    blocks.sort(key=lambda b: b[:3])
    strengths.sort(key=lambda b: b[:3])
    return blocks, strengths


def _take(
    blocks: list[_Block], enough: int | None
) -> tuple[dict[int, float], dict[int, tuple[str, Match, int]], float]:
    """Each entry's value and match from the first block it is in; with `enough`, the
    blocks stop once that many entries are found and the next block is worth less
    (rounded). The frontier: the value of the first block left out (0: none was)."""
    best: dict[int, float] = {}
    which: dict[int, tuple[str, Match, int]] = {}
    last = math.inf  # the value of the last block taken, rounded as scores are
    for negative, _, level, term, match, docs in blocks:
        if enough is not None and len(best) >= enough and round(-negative, 3) < last:
            return best, which, -negative
        last = round(-negative, 3)
        fresh = set(docs).difference(best) if best else docs
        best.update(dict.fromkeys(fresh, -negative))
        which.update(dict.fromkeys(fresh, (term, match, level)))
    return best, which, 0.0


def _strengths(strengths: list[_Strength], only: Iterable[int] | None) -> dict[int, float]:
    """Each entry's strongest match (of the entries `only`, when given)."""
    strong: dict[int, float] = {}
    keep = None if only is None else set(only)
    for negative, _, _, docs in strengths:
        mine = docs if keep is None else keep.intersection(docs)
        strong.update(dict.fromkeys(set(mine).difference(strong) if strong else mine, -negative))
    return strong


def _run_top(found: list[dict[str, Match]], index: Index, n_docs: int, page: int) -> list[_Part]:
    """A run's parts (the concept link, then each word) for its best entries only, when
    `page` of them (the phrase pool and the page of hits) can be told from every other
    entry without scoring it; else for every entry.

    Each word is scored down to a few blocks (`_take`); an entry found in every word cut
    short is known exactly (a word scored whole lacks what it did not find). Every other
    entry is worth at most all the words at their best but one cut short at its first
    block left out, or its concept link. The entries known exactly and worth more are
    the best ones, scored as the whole would score them, once `page` of them stay above
    every other entry with their kind's prior (below 1 but for commitments) applied.
    Words are cut at four times `page` entries, else not at all."""
    linked = _score_part(found[0], index, n_docs)  # the concept link: few entries
    words = [_blocks(p, index, n_docs) for p in found[1:]]
    starts = index.starts
    priors = [KIND_PRIOR[kind] for kind in KINDS]
    cut = 4 * page  # blocks are large in a large KB: a wide cut costs little there
    taken = [_take(blocks, cut) for blocks, _ in words]
    gaps = [
        -blocks[0][0] - frontier
        for (blocks, _), (_, _, frontier) in zip(words, taken, strict=True)
        if frontier
    ]
    if not gaps:  # no word was cut short: every entry is scored already
        whole = zip(taken, words, strict=True)
        return [linked, *((b, w, _strengths(st, None)) for (b, w, _), (_, st) in whole)]
    complete = set.intersection(*(set(t[0]) for t in taken if t[2]))
    tops = sum(-blocks[0][0] for blocks, _ in words if blocks)
    bound = max([tops - min(gaps), *(v for d, v in linked[0].items() if d not in complete)])
    edge = round(bound, 3)
    chosen: dict[int, float] = {}
    for doc in complete:
        value = max(sum(t[0].get(doc, 0.0) for t in taken), linked[0].get(doc, 0.0))
        if round(value, 3) > edge:
            chosen[doc] = value
    where = bisect.bisect_right
    sure = sum(1 for d, v in chosen.items() if round(v * priors[where(starts, d) - 1], 3) > edge)
    if sure >= page:
        parts = [_only(linked, set(chosen))]
        for (best, which, _), (_, strengths) in zip(taken, words, strict=True):
            values = {d: best[d] for d in chosen if d in best}
            matched = {d: which[d] for d in chosen if d in which}
            parts.append((values, matched, _strengths(strengths, values.keys())))
        return parts
    return [linked, *_score_blocks(words)]  # not told apart: every entry scored


def _score_blocks(words: list[tuple[list[_Block], list[_Strength]]]) -> list[_Part]:
    """Each word's part, every entry scored."""
    return [_scored(blocks, strengths) for blocks, strengths in words]


def _only(part: _Part, docs: set[int]) -> _Part:
    best, which, strong = part
    return (
        {d: v for d, v in best.items() if d in docs},
        {d: v for d, v in which.items() if d in docs},
        {d: v for d, v in strong.items() if d in docs},
    )


def _run_of_words(
    parts: list[tuple[dict[int, float], dict[int, tuple[str, Match, int]], dict[int, float]]],
) -> tuple[dict[int, float], dict[int, tuple[str, Match, int]], Mapping[int, float]]:
    """A run's values: per entry the better of the concept link (parts[0]) and its words
    together (the sum of the other parts; the strength is their mean). Dict merges run
    in C; only entries found by more than one part are added up one by one."""
    linked, linked_which, linked_strong = parts[0]
    words = parts[1:]
    n = len(words)
    summed: dict[int, float] = {}
    strength: dict[int, float] = {}
    first: dict[int, tuple[str, Match, int]] = {}
    for values, which, strong in reversed(words):  # the first part's term wins
        if summed:
            both = summed.keys() & values.keys()
            added = {d: summed[d] + values[d] for d in both}
            added_strength = {d: strength[d] + strong[d] for d in both}
            summed.update(values)
            summed.update(added)
            strength.update(strong)
            strength.update(added_strength)
        else:
            summed, strength = dict(values), dict(strong)
        first.update(which)
    best = {**summed, **linked}
    chosen = {**first, **linked_which}
    over = dict(linked_strong)
    for doc in linked.keys() & summed.keys():  # few: entries linked to the concept
        if summed[doc] > linked[doc]:
            best[doc] = summed[doc]
            chosen[doc] = first[doc]
        over[doc] = max(strength[doc] / n, linked_strong[doc])
    return best, chosen, _Mean(strength, n, over)


class _Mean(Mapping[int, float]):
    """Strengths summed over `n` parts, read as their mean (`over` first): divided only
    for the entries read, a page of hits, not for every entry a common word is in."""

    def __init__(self, sums: dict[int, float], n: int, over: dict[int, float]) -> None:
        self._sums, self._n, self._over = sums, n, over

    def __getitem__(self, doc: int) -> float:
        found = self._over.get(doc)
        return found if found is not None else self._sums[doc] / self._n

    def __iter__(self) -> Iterator[int]:
        return iter(self._sums.keys() | self._over.keys())

    def __len__(self) -> int:
        return len(self._sums.keys() | self._over.keys())


def _kept(info: DocInfo, pillar: str | None, sector: str | None, status: str | None) -> bool:
    if pillar and info.pillar != pillar:
        return False
    if sector and info.sector != sector:
        return False
    return not status or info.status == status


def confidence(share: float) -> str:
    """high, medium or low from the informative share of the query a hit matches."""
    return "high" if share >= HIGH else "medium" if share >= MEDIUM else "low"


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
    """Entries ranked best first; pillar, sector and status narrow the entries considered.

    Each hit carries a confidence: the share of the query's units it matches, each
    counted by how it matched (STRENGTH; a little less when only in a summary), units
    found in most entries counting less. It does not depend on raw scores, so a
    'high' means the same for any query."""
    units = query_units(query, index)
    if not units:
        return []
    n_docs = max(index.n_docs, 1)
    # Per unit: each entry's best value, the term that gave it, and its match strength.
    values: list[dict[int, float]] = []
    matched_by: list[dict[int, tuple[str, Match, int]]] = []
    strengths: list[Mapping[int, float]] = []
    # Only the best entries can be shown: with no filter, a one-unit query scores the
    # entries of its best blocks, enough to fill the phrase pool and the page past the
    # few entries that are not commitments, whose priors (below 1) may move them down.
    # What is left out scores below all of those: the hits are the same, and a common
    # word in a large KB costs what its best blocks hold, not every entry that has it.
    enough = None
    if limit and len(units) == 1 and not (kinds or pillar or sector or status):
        c = KINDS.index("commitment")
        enough = PHRASE_POOL + limit + n_docs - (index.starts[c + 1] - index.starts[c])
    for unit in units:
        found_parts = _unit_parts(unit, index)
        if enough and len(found_parts) > 1 and not names_agency_only(unit):
            page = PHRASE_POOL + limit if limit else 0  # its best only, priors checked
            parts = _run_top(found_parts, index, n_docs, page)
        else:
            cap = enough if len(found_parts) == 1 else None
            parts = [_score_part(p, index, n_docs, cap) for p in found_parts]
        if names_agency_only(unit) and len(parts) > 1:  # the whole name, or nothing
            named = _name_in_text(unit, [set(p[0]) for p in parts[1:]], index)
            parts[1:] = [
                ({d: v for d, v in a.items() if d in named}, b, c)  # b, c: read for `a` only
                for a, b, c in parts[1:]
            ]
        strong: Mapping[int, float]
        best, which, strong = parts[0]
        if len(parts) > 1:  # a run of words: the concept link, or the words together
            best, which, strong = _run_of_words(parts)
        values.append(best)
        matched_by.append(which)
        strengths.append(strong)
    weights = [COMMON_SHARE if len(v) > COMMON_SHARE * n_docs >= 6 else 1.0 for v in values]
    # A general word ('crisis', 'measures', 'Canada') counts when an entry has it, and
    # is not held against an entry that lacks it.
    soft = [all(w in GENERIC for w in u.words) for u in units]
    docs: set[int] = set().union(*values)
    if kinds:
        docs = {d for d in docs if doc_kind(index, d) in kinds}
    if pillar or sector or status:
        infos = index.infos(sorted(docs))
        docs = {d for d in docs if _kept(infos[d], pillar, sector, status)}
    priors = [KIND_PRIOR[kind] for kind in KINDS]
    starts, where = index.starts, bisect.bisect_right
    if len(values) == 1:
        only = values[0]
        # Commitments, by far the most entries, have a prior of 1: only the few other
        # entries (numbered outside the commitments' range) are weighted one by one.
        final = only if len(docs) == len(only) else {d: only[d] for d in docs}
        first_c = starts[KINDS.index("commitment")]
        after_c = starts[KINDS.index("commitment") + 1]
        others = docs.intersection(range(first_c)) | docs.intersection(range(after_c, n_docs))
        if others:
            final = dict(final)
            for d in others:
                final[d] *= priors[where(starts, d) - 1]
    else:
        final = {}
        for doc in docs:
            found = [v[doc] for v in values if doc in v]
            coverage = _share(doc, values, weights, soft, presence=True)
            prior = priors[where(starts, doc) - 1]
            final[doc] = sum(found) * coverage * coverage * prior
    # Best first; ties go to the earlier entry: pillars, sectors, commitments (in file
    # order), notes, sources. Two sorts that run in C: by number, then (stable) by score.
    order = sorted(final)
    order.sort(key=final.__getitem__, reverse=True)
    # The whole query as a phrase in a title (or summary) then lifts an entry; only the
    # best few hundred are checked, so a common word in a large KB stays fast.
    phrase = " ".join(w for w in words(query) if w)  # stop words kept: "pomme de terre"
    scored: list[tuple[float, int]]  # (-score, doc): sorts best first, ties by doc
    if " " in phrase or len(phrase) >= 4:
        pool = min(PHRASE_POOL, len(order))
        checked = order[:pool]
        # A one-word query's word posted as written at the title level is in the title
        # text: only the other titles are read, the summaries only where it is not.
        sure = set(checked).intersection(index.postings(phrase)[0]) if " " not in phrase else set()
        titles = index.titles([d for d in checked if d not in sure])
        summaries = index.summaries(
            [d for d in checked if d not in sure and phrase not in titles[d]]
        )
        head = []
        for doc in checked:
            negative = -final[doc]
            if doc in sure or phrase in titles[doc]:
                negative *= 1.5
            elif phrase in summaries[doc]:
                negative *= 1.2
            head.append((round(negative, 3), doc))
        head.sort()
        rest = order[pool:]  # untouched, in order: round() keeps that order
        if limit and rest and len(head) >= limit:
            cutoff, tail = head[limit - 1][0], []
            for doc in rest:  # only what could still tie into the top
                rounded = round(-final[doc], 3)
                if rounded > cutoff:
                    break
                tail.append((rounded, doc))
            scored = sorted(head + tail)
        else:
            scored = sorted(head + [(round(-final[doc], 3), doc) for doc in rest])
    else:
        scored = [(-final[doc], doc) for doc in (order[:limit] if limit else order)]
    top = scored[:limit] if limit else scored
    entries = index.entries([doc for _, doc in top])
    hits = []
    for negative, doc in top:
        share = _share(doc, strengths, weights, soft)
        matches = [(u, m[doc]) for u, m in zip(units, matched_by, strict=True) if doc in m]
        shown = [m.shown for _, (_, m, _) in matches if m.how not in ("concept", "agency", "area")]
        missed = [
            (u, soft_) for u, m, soft_ in zip(units, matched_by, soft, strict=True) if doc not in m
        ]
        hits.append(
            Hit(
                entries[doc],
                round(-negative, 3),
                tuple(dict.fromkeys(shown)),
                confidence(share),
                tuple(_explain(u, m, level) for u, (_, m, level) in matches)
                + tuple(Why(u.text, "ignored" if soft_ else "unmatched") for u, soft_ in missed),
            )
        )  # fmt: skip
    return hits


def _share(
    doc: int,
    by_unit: Sequence[Mapping[int, float]],
    weights: list[float],
    soft: list[bool],
    presence: bool = False,
) -> float:
    """The weighted share of the query's units an entry has, each counted by its match
    strength (by_unit: each unit's strength per entry) or, with `presence`, as 1.

    A general word counts little where an entry has it and not at all where it lacks
    it; a word the entry lacks but other entries have (another topic of the query:
    'energy and mining') counts half against it; a word no entry has counts fully (a
    topic the KB does not cover: 'steel tariffs')."""
    got = total = 0.0
    for values, weight, soft_ in zip(by_unit, weights, soft, strict=True):
        value = values.get(doc)
        if soft_:
            weight = min(weight, COMMON_SHARE)
        if value is not None:
            got += weight * (1.0 if presence else value)
            total += weight
        elif not soft_:
            total += weight * (OTHER_TOPIC if values else 1.0)
    return got / total if total else 0.0


def _explain(unit: Unit, match: Match, level: int) -> Why:
    if match.how == "concept":
        return Why(unit.text, "concept" if level == 1 else "narrower", match.shown)
    return Why(unit.text, match.how, match.shown, level)


def suggestions(index: Index, query: str, n: int = 3) -> list[str]:
    """KB words close to the query's words, for a 'did you mean' hint."""
    from rapidfuzz import fuzz, process

    out: list[str] = []
    for word in query_words(query, index):
        if len(word) < 3:
            continue
        found = process.extract(word, index.vocab(), scorer=fuzz.ratio, limit=n, score_cutoff=60)
        for term, _, _ in found:
            if term not in out and len(term) > 2 and term not in STOPWORDS:
                out.append(term)
    return out[:n]


def folded_with_positions(text: str) -> tuple[str, list[int]]:
    """`fold(text)`, and for each of its characters the position it came from in `text`
    (folding may change the length: "…" -> "...", "ß" -> "ss"). One int per character:
    for a field of any size, use `_fold_windows`."""
    if text.isascii():
        return text.lower(), list(range(len(text)))
    parts, where = [], []
    for i, ch in enumerate(text):
        f = fold(ch)
        parts.append(f)
        where.extend([i] * len(f))
    return "".join(parts), where


_WINDOW = 1 << 13  # characters of a field folded at a time for snippets and highlights


def _fold_windows(text: str, at: int = 0) -> Iterator[tuple[int, str, list[int] | None]]:
    """`fold(text[at:])` window by window: (where the window starts in `text`, its folded
    text, the position in `text` of each folded character, or None when it is the
    window's start + its index: ASCII). Folding is per character, so the windows
    joined are the whole folded text; memory stays that of one window."""
    for lo in range(at, len(text), _WINDOW):
        piece = text[lo : lo + _WINDOW]
        if piece.isascii():
            yield lo, piece.lower(), None
            continue
        table = {ord(c): fold(c) for c in set(piece)}  # each character folded once
        folded = piece.translate(table)
        if all(len(f) == 1 for f in table.values()):
            yield lo, folded, None
        else:  # "ß" -> "ss", a combining mark -> "": positions one by one
            yield lo, folded, [lo + i for i, c in enumerate(piece) for _ in table[ord(c)]]


def _folded_matches(text: str, pattern: re.Pattern[str], longest: int) -> Iterator[tuple[int, int]]:
    """(start, end) in `text` of each match of `pattern` (at most `longest` folded
    characters, not empty, a look-behind of one character at most) in `fold(text)`, in
    order: linear time, memory of one window. The last `longest` + 1 folded characters
    of a window are carried into the next, so a match across two windows is found
    there, and only there (it ends past what was carried)."""
    tail, tail_at = "", list[int]()
    for lo, folded, where in _fold_windows(text):
        joined = tail + folded
        carried = tail_at
        for m in pattern.finditer(joined):
            if m.end() > len(carried) and m.end() > m.start():
                start = _position(m.start(), carried, lo, where)
                yield start, _position(m.end() - 1, carried, lo, where) + 1
        keep = min(len(joined), longest + 1)
        tail = joined[len(joined) - keep :]
        tail_at = [_position(i, carried, lo, where) for i in range(len(joined) - keep, len(joined))]


def _position(i: int, carried: list[int], lo: int, where: list[int] | None) -> int:
    """The position in the text of character `i` of a window joined to what was carried."""
    if i < len(carried):
        return carried[i]
    i -= len(carried)
    return lo + i if where is None else where[i]


def _words_pattern(terms: Iterable[str]) -> tuple[re.Pattern[str], int]:
    """A pattern for any of `terms` at the start of a word, and the longest term."""
    unique = sorted(set(terms), key=len, reverse=True)
    alternatives = "|".join(re.escape(t) for t in unique)
    return re.compile(rf"(?<!\w)(?:{alternatives})"), max(map(len, unique))


def _word_end(text: str, at: int) -> int:
    """Where the word of `fold(text)` that goes on at position `at` ends in `text`."""
    end = at
    for lo, folded, where in _fold_windows(text, at):
        stop = _NOT_WORD.search(folded)
        last = (stop.start() if stop else len(folded)) - 1
        if last >= 0:
            end = (lo + last if where is None else where[last]) + 1
        if stop:
            break
    return end


_NOT_WORD = re.compile(r"\W")


def snippet(text: str, terms: Iterable[str], width: int = 160) -> str:
    """A window of `text` around the first matched word (found window by window, so a
    field of any size costs time in proportion and no more memory than a window)."""
    if len(text) <= width:
        return text
    wanted = list(terms)
    first = 0
    if wanted and all(wanted):
        pattern, longest = _words_pattern(wanted)
        first = next((s for s, _ in _folded_matches(text, pattern, longest)), 0)
    start = max(0, min(first - width // 3, len(text) - width))
    floor = max(0, start - width)  # back to the word's start, unless it is huge
    while start > floor and not text[start - 1].isspace():
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
    Linear time; beyond the spans, memory of one window whatever the text's size.
    """
    stems = [
        term[: max(4, len(term) - 2)] if len(term) > 4 else term
        for term in dict.fromkeys(t for t in terms if t)
    ]
    spans = []
    if stems:
        pattern, longest = _words_pattern(stems)
        spans = [(s, _word_end(text, e)) for s, e in _folded_matches(text, pattern, longest)]
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged
