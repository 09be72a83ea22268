#!/usr/bin/env python3
"""Search quality: cmx against two baselines on the shipped KB.

usage: python bench/search_quality.py [QUERIES.yaml ...] [--show]

Default: bench/queries.yaml and bench/heldout.yaml (a held-out-style set written
before the concept search was tuned).

Baselines, over every entry's title and summary in all three languages:
- substring: case-insensitive substring match of the whole query, title hits first;
- wratio: rapidfuzz WRatio (default_process) of the query against title + summary.
Relevance is the rule of ../shared/eval/score.py (pillar, and a word in the English
title or summary). Reported: hit@1, hit@3 and MRR@5, for all queries, then by
language (en, es, fr) and by kind (concept, question, typo, acronym, amount; "-" when
a query has no kind). A file's `noanswer:` list is scored as ../shared/eval/score.py
--noanswer does: handled when cmx finds nothing or marks every hit low (the baselines
have no confidence: handled only when they find nothing).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cmx.kb import load_kb  # noqa: E402
from cmx.render import hit_row  # noqa: E402
from cmx.search import Hit, build_index, search  # noqa: E402


def relevant(row: dict, case: dict) -> bool:
    pillar = case.get("pillar", "any")
    if pillar != "any" and row.get("pillar") != pillar:
        return False
    text = f"{row.get('title') or ''} {row.get('summary') or ''}".lower()
    return any(word.lower() in text for word in case["any"])


def all_text(entry) -> tuple[str, str]:
    """(titles, summaries) in every language."""
    row = {lang: hit_row(Hit(entry, 0.0, ()), lang) for lang in ("en", "es", "fr")}
    return (
        " ".join(r["title"] for r in row.values()),
        " ".join(r["summary"] for r in row.values()),
    )


def substring(entries, query: str) -> list:
    q = query.lower()
    scored = []
    for n, entry in enumerate(entries):
        title, summary = all_text(entry)
        if q in title.lower():
            scored.append((0, n, entry))
        elif q in summary.lower():
            scored.append((1, n, entry))
    return [e for _, _, e in sorted(scored)[:5]]


def wratio(entries, query: str) -> list:
    from rapidfuzz import fuzz, process, utils

    choices = [" ".join(all_text(e)) for e in entries]
    found = process.extract(
        query, choices, scorer=fuzz.WRatio, processor=utils.default_process, limit=5
    )
    return [entries[i] for _, _, i in found]


def evaluate(name: str, ranker, cases: list[dict], show: bool) -> dict:
    groups: dict[str, list] = {"all": []}
    for case in cases:
        hits = ranker(case["q"])
        rows = [hit_row(Hit(e, 0.0, ()), "en") for e in hits[:5]]
        ranks = [i for i, r in enumerate(rows) if relevant(r, case)]
        first = ranks[0] + 1 if ranks else None
        for g in ("all", f"lang={case.get('lang', '-')}", f"kind={case.get('kind', '-')}"):
            groups.setdefault(g, []).append(first)
        if show and (first is None or first > 3):
            top = rows[0]["id"] if rows else "-"
            print(f"  {name:9} rank={first} q={case['q']!r} top={top}")
    out = {}
    for g, firsts in groups.items():
        n = len(firsts) or 1
        out[g] = (
            sum(f == 1 for f in firsts) / n,
            sum(f is not None and f <= 3 for f in firsts) / n,
            sum(1 / f for f in firsts if f) / n,
            len(firsts),
        )
    return out


def noanswer(methods: dict, cases: list[dict], show: bool) -> dict[str, int]:
    out = {}
    for name, fn in methods.items():
        handled = 0
        for case in cases:
            hits = fn(case["q"], full=True) if name == "cmx" else fn(case["q"])
            ok = not hits or (name == "cmx" and all(h.confidence == "low" for h in hits))
            handled += ok
            if show and not ok:
                print(f"  {name:9} no-answer q={case['q']!r} gave hits")
        out[name] = handled
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument(
        "queries",
        nargs="*",
        default=[str(ROOT / "bench" / "queries.yaml"), str(ROOT / "bench" / "heldout.yaml")],
    )
    ap.add_argument("--show", action="store_true", help="list the queries each method misses at 3")
    args = ap.parse_args()
    kb = load_kb(ROOT / "data")
    index = build_index(kb)
    entries = list(index._entries)

    def cmx(q: str, full: bool = False) -> list:
        hits = search(index, q, limit=5)
        return hits if full else [h.entry for h in hits]

    methods = {
        "substring": lambda q: substring(entries, q),
        "wratio": lambda q: wratio(entries, q),
        "cmx": cmx,
    }
    for path in args.queries:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        cases = data.get("queries") or []
        results = {name: evaluate(name, fn, cases, args.show) for name, fn in methods.items()}
        print(f"\n{len(cases)} queries ({Path(path).name})\n")
        print("| group | queries | " + " | ".join(f"{m} hit@3 / MRR@5" for m in methods) + " |")
        print("|---|---|" + "---|" * len(methods))
        for group in results["cmx"]:
            n = results["cmx"][group][3]
            cells = [f"{results[m][group][1]:.3f} / {results[m][group][2]:.3f}" for m in methods]
            print(f"| {group} | {n} | " + " | ".join(cells) + " |")
        if data.get("noanswer"):
            na = data["noanswer"]
            handled = noanswer(methods, na, args.show)
            print(
                f"\nno-answer ({len(na)}): "
                + ", ".join(f"{m} {k}/{len(na)}" for m, k in handled.items())
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
