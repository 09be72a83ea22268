#!/usr/bin/env python3
"""Write a synthetic knowledge base of N commitments, built from the real ones.

usage: python bench/gen_kb.py N OUT_DIR [--seed S]

Pillars, sectors, sources, notes, actors and concepts are the shipped ones; every synthetic
commitment copies a real one (so pillar, sector, actor and source references stay
valid) and varies its text: words from another commitment's title are mixed in, and
its summary is drawn word by word from the real knowledge base's vocabulary in that
language, with the real frequencies, at the length of a real summary. So frequent
words stay frequent: the script prints the share of commitments whose English text
contains "energy" (real KB and generated). The result passes `cmx validate`.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
from pathlib import Path

import yaml

DATA = Path(__file__).resolve().parent.parent / "data"
LANGS = ("en", "es", "fr")
STATUSES = ["planned", "underway", "completed", "not-pursued"]


def vary(text: str, other: str, rng: random.Random) -> str:
    words = text.split()
    extra = rng.sample(other.split(), k=min(3, len(other.split())))
    at = rng.randrange(len(words) + 1)
    return " ".join(words[:at] + extra + words[at:])


class Vocabulary:
    """Word frequencies and summary lengths of the real commitments, per language."""

    def __init__(self, real: list[dict]) -> None:
        self.words: dict[str, list[str]] = {}
        self.lengths: dict[str, list[int]] = {}
        for lang in LANGS:
            texts = [c["summary"][lang] for c in real] + [c["title"][lang] for c in real]
            self.words[lang] = [w for t in texts for w in t.split()]
            self.lengths[lang] = [len(c["summary"][lang].split()) for c in real]

    def summary(self, lang: str, rng: random.Random) -> str:
        n = rng.choice(self.lengths[lang])
        return " ".join(rng.choices(self.words[lang], k=n)).rstrip(".,;:") + "."


def synthetic(base: dict, other: dict, n: int, rng: random.Random, vocab: Vocabulary) -> dict:
    c = {
        "id": f"syn-{n:06d}-{base['id']}"[:60],
        "pillar": base["pillar"],
        "sector": base["sector"],
        "title": {
            lang: vary(base["title"][lang], other["title"][lang], rng)
            for lang in ("en", "es", "fr")
        },
        "summary": {lang: vocab.summary(lang, rng) for lang in LANGS},
        "instrument": base.get("instrument", "other"),
        "status": "planned",
        "sources": base["sources"],
        "tags": base.get("tags", []),
    }
    if base.get("actors"):
        c["actors"] = base["actors"]
    if rng.random() < 0.3:
        c["due"] = f"{rng.randint(2025, 2028)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    if rng.random() < 0.2:
        event = dict(rng.choice(base["events"])) if base.get("events") else None
        if event:
            c["status"] = event["status"] = rng.choice(STATUSES[1:3])
            c["events"] = [event]
    return c


def energy_share(items: list[dict]) -> float:
    """Share of commitments whose English title or summary contains the word "energy"."""
    if not items:
        return 0.0
    found = [c for c in items if "energy" in f"{c['title']['en']} {c['summary']['en']}".lower()]
    return len(found) / len(items)


class _Dumper(yaml.CSafeDumper):
    """Writes shared values out in full: cmx refuses YAML aliases."""

    def ignore_aliases(self, data: object) -> bool:
        return True


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("n", type=int)
    ap.add_argument("out", type=Path)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    for path in DATA.glob("*.yaml"):  # every file but the commitments, as shipped
        if path.name != "commitments.yaml":
            shutil.copy(path, args.out / path.name)
    real = yaml.load(
        (DATA / "commitments.yaml").read_text(encoding="utf-8"), Loader=yaml.CSafeLoader
    )
    real = real["commitments"]
    vocab = Vocabulary(real)
    items = list(real)  # the real ones first: notes refer to them
    while len(items) < args.n:
        items.append(synthetic(rng.choice(real), rng.choice(real), len(items), rng, vocab))
    with open(args.out / "commitments.yaml", "w", encoding="utf-8") as fh:
        yaml.dump(
            {"commitments": items[: max(args.n, len(real))]},
            fh,
            Dumper=_Dumper,
            allow_unicode=True,
            sort_keys=False,
            width=100,
        )
    size = (args.out / "commitments.yaml").stat().st_size
    print(f"{args.out}: {max(args.n, len(real))} commitments, commitments.yaml {size / 1e6:.1f} MB")
    print(
        f'share with "energy" in English: real {energy_share(real):.1%}, '
        f"generated {energy_share(items[len(real) : args.n]):.1%}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
