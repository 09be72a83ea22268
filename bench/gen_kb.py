#!/usr/bin/env python3
"""Write a synthetic knowledge base of N commitments, built from the real ones.

usage: python bench/gen_kb.py N OUT_DIR [--seed S]

Pillars, sectors, sources and notes are the shipped ones; every synthetic commitment
copies a real one (so pillar, sector and source references stay valid) and varies
its text: words from another commitment's title are mixed in, its summary keeps one
or two sentences, and its id, due date and status change. The result passes
`cmx validate`.
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


def first_sentences(text: str, rng: random.Random) -> str:
    parts = [p.strip() for p in text.split(". ") if p.strip()]
    keep = parts[: rng.randint(1, 2)]
    return ". ".join(keep).rstrip(".") + "."


def synthetic(base: dict, other: dict, n: int, rng: random.Random) -> dict:
    c = {
        "id": f"syn-{n:06d}-{base['id']}"[:60],
        "pillar": base["pillar"],
        "sector": base["sector"],
        "title": {
            lang: vary(base["title"][lang], other["title"][lang], rng)
            for lang in ("en", "es", "fr")
        },
        "summary": {
            lang: first_sentences(base["summary"][lang], rng) for lang in ("en", "es", "fr")
        },
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
            c["status"] = rng.choice(STATUSES[1:3])
            c["events"] = [event]
    return c


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
    for name in ("pillars.yaml", "sources.yaml", "notes.yaml"):
        shutil.copy(DATA / name, args.out / name)
    real = yaml.load(
        (DATA / "commitments.yaml").read_text(encoding="utf-8"), Loader=yaml.CSafeLoader
    )
    real = real["commitments"]
    items = list(real)  # the real ones first: notes refer to them
    while len(items) < args.n:
        items.append(synthetic(rng.choice(real), rng.choice(real), len(items), rng))
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
    return 0


if __name__ == "__main__":
    sys.exit(main())
