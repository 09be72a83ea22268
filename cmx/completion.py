"""Shell completion: every fixed value an option takes, and the knowledge base's ids
and names (`--pillar seg<TAB>` offers `seguridad`). Quiet by design: a knowledge base
that does not load completes nothing rather than printing an error into the prompt.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path

from cmx.errors import KBError
from cmx.i18n import CODES, LANGUAGES, fold, translator
from cmx.kbfiles import default_data_dir
from cmx.model import PLAN_WIDE, KnowledgeBase


def _kb() -> KnowledgeBase | None:
    """The KB for completion: CMX_DATA or the shipped one, quietly (no errors)."""
    from cmx.store import open_store

    try:
        folder = Path(os.environ["CMX_DATA"]) if os.environ.get("CMX_DATA") else None
        return open_store(folder or default_data_dir()).kb()
    except (KBError, OSError):
        return None


def _starting(values: Iterable[str], incomplete: str) -> list[str]:
    """The values that start like `incomplete`, case and accents aside, each once."""
    key = fold(incomplete)
    return [v for v in dict.fromkeys(values) if fold(v).startswith(key)]


def _from_kb(values: Callable[[KnowledgeBase], Iterable[str]]) -> Callable[[str], list[str]]:
    def complete(incomplete: str) -> list[str]:
        kb = _kb()
        return _starting(values(kb), incomplete) if kb else []

    return complete


def codes(kind: str) -> Callable[[str], list[str]]:
    """Completion of a code option (--status, --basis…): the codes, then how they read
    in each language (a Spanish reader types `en curso`)."""

    def complete(incomplete: str) -> list[str]:
        shown = [translator(lang).code(kind, code) for lang in LANGUAGES for code in CODES[kind]]
        return _starting([*CODES[kind], *shown], incomplete)

    return complete


def fixed(*values: str) -> Callable[[str], list[str]]:
    """Completion of an option with a fixed list of values (--format, --lang…)."""
    return lambda incomplete: _starting(values, incomplete)


def _pillar_names(kb: KnowledgeBase) -> list[str]:
    names = [p.id for p in kb.pillars] + [PLAN_WIDE]
    names += [alias for p in kb.pillars for alias in p.aliases]
    for lang in LANGUAGES:
        names += [p.name.get(lang) for p in kb.pillars]
        names.append(translator(lang).code("scope", PLAN_WIDE))
    return names


entry_ids = _from_kb(lambda kb: kb.ids())
pillars = _from_kb(_pillar_names)
sectors = _from_kb(
    lambda kb: [s.id for s in kb.sectors] + [s.number for s in kb.sectors if s.number]
)
actors = _from_kb(
    lambda kb: (
        [a.id for a in kb.actors]
        + [x for a in kb.actors if a.acronym for x in a.acronym.all()]
        + [x for a in kb.actors for x in a.name.all()]
    )
)
tags = _from_kb(
    lambda kb: (
        sorted({t for c in kb.commitments for t in c.tags})
        + [label for t in kb.tags for label in t.label.all()]
    )
)
sources = _from_kb(lambda kb: [s.id for s in kb.sources])
