#!/usr/bin/env python3
"""Search quality: cmx against two baselines on the shipped KB, and how far cmx's
confidence can be trusted.

usage: python bench/search_quality.py [QUERIES.yaml ...] [--show] [--no-baselines]

Default: bench/queries.yaml, bench/heldout.yaml (a held-out-style set written before
the concept search was tuned) and bench/calibration.yaml (written blind for issue 23,
the set the confidence thresholds were chosen on).

Baselines, over every entry's title and summary in all three languages:
- substring: case-insensitive substring match of the whole query, title hits first;
- wratio: rapidfuzz WRatio (default_process) of the query against title + summary.
Relevance is the rule of ../shared/eval/score.py (pillar, and a word in the English
title or summary). Reported per file: hit@1, hit@3 and MRR@5 for all queries and by
language and kind, with "ok+conf" (the first hit right AND at least medium: what a
reader can act on); then, per confidence level of the first hit, how many first hits
had it and how many of them were right (the level's precision); then the no-answer
list, scored as ../shared/eval/score.py --noanswer does: handled when cmx finds
nothing or marks every hit low (the baselines have no confidence: handled only when
they find nothing).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cmx.kb import load_kb  # noqa: E402
from cmx.rows import hit_row  # noqa: E402
from cmx.search import Hit, build_index, search  # noqa: E402

LEVELS = ("high", "medium", "low")


def relevant(row: dict, case: dict) -> bool:
    pillar = case.get("pillar", "any")
    if pillar != "any" and row.get("pillar") != pillar:
        return False
    text = f"{row.get('title') or ''} {row.get('summary') or ''}".lower()
    return any(word.lower() in text for word in case["any"])


def all_text(entry: Any) -> tuple[str, str]:
    """(titles, summaries) in every language."""
    row = {lang: hit_row(Hit(entry, 0.0, ()), lang) for lang in ("en", "es", "fr")}
    return (
        " ".join(r["title"] or "" for r in row.values()),
        " ".join(r["summary"] or "" for r in row.values()),
    )


def substring(entries: list, query: str) -> list[Hit]:
    q = query.lower()
    scored = []
    for n, entry in enumerate(entries):
        title, summary = all_text(entry)
        if q in title.lower():
            scored.append((0, n, entry))
        elif q in summary.lower():
            scored.append((1, n, entry))
    return [Hit(e, 1.0, (), "") for _, _, e in sorted(scored, key=lambda s: s[:2])[:5]]


def wratio(entries: list, query: str) -> list[Hit]:
    from rapidfuzz import fuzz, process, utils

    choices = [" ".join(all_text(e)) for e in entries]
    found = process.extract(
        query, choices, scorer=fuzz.WRatio, processor=utils.default_process, limit=5
    )
    return [Hit(entries[i], 1.0, (), "") for _, _, i in found]


class Tally:
    def __init__(self) -> None:
        self.firsts: list[int | None] = []
        self.levels: list[str] = []

    def add(self, first: int | None, level: str) -> None:
        self.firsts.append(first)
        self.levels.append(level)

    def row(self) -> tuple[float, float, float, float, int]:
        n = len(self.firsts) or 1
        f = self.firsts
        sure = sum(
            x == 1 and lv in ("high", "medium") for x, lv in zip(f, self.levels, strict=True)
        )
        return (
            sum(x == 1 for x in f) / n,
            sum(x is not None and x <= 3 for x in f) / n,
            sum(1 / x for x in f if x) / n,
            sure / n,
            len(f),
        )


def evaluate(
    name: str, ranker: Callable[[str], list[Hit]], cases: list[dict], show: bool
) -> dict[str, Tally]:
    groups: dict[str, Tally] = {"all": Tally()}
    for case in cases:
        hits = ranker(case["q"])[:5]
        rows = [hit_row(h, "en") for h in hits]
        ranks = [i for i, r in enumerate(rows) if relevant(r, case)]
        first = ranks[0] + 1 if ranks else None
        level = hits[0].confidence if hits else "none"
        for g in ("all", f"lang={case.get('lang', '-')}", f"kind={case.get('kind', '-')}"):
            groups.setdefault(g, Tally()).add(first, level)
        if show and name == "cmx" and (first != 1 or level == "low"):
            top = f"{rows[0]['id']} ({level})" if rows else "-"
            print(f"  {name:9} rank={first} q={case['q']!r} top={top}")
    return groups


def noanswer(methods: dict, cases: list[dict], show: bool) -> dict[str, tuple[int, list[str]]]:
    out = {}
    for name, fn in methods.items():
        handled, levels = 0, []
        for case in cases:
            hits = fn(case["q"])
            ok = not hits or (name == "cmx" and all(h.confidence == "low" for h in hits))
            handled += ok
            levels.append(hits[0].confidence if hits else "none")
            if show and not ok and name == "cmx":
                print(
                    f"  {name:9} no-answer q={case['q']!r} gave {hits[0].entry.id} ({levels[-1]})"
                )
        out[name] = (handled, levels)
    return out


def report(path: str, methods: dict, show: bool) -> None:
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    cases = data.get("queries") or []
    results = {name: evaluate(name, fn, cases, show) for name, fn in methods.items()}
    print(f"\n### {Path(path).name}: {len(cases)} queries\n")
    others = [m for m in methods if m != "cmx"]
    print(
        "| group | n | cmx hit@1 | hit@3 | MRR@5 | ok+conf |"
        + "".join(f" {m} hit@3 |" for m in others)
    )
    print("|---|---|---|---|---|---|" + "---|" * len(others))
    for group, tally in sorted(results["cmx"].items(), key=lambda g: (g[0] != "all", g[0])):
        h1, h3, mrr, sure, n = tally.row()
        extra = "".join(f" {results[m][group].row()[1]:.3f} |" for m in others)
        print(f"| {group} | {n} | {h1:.3f} | {h3:.3f} | {mrr:.3f} | {sure:.3f} |{extra}")
    tally = results["cmx"]["all"]
    print("\n| first hit's confidence | first hits | right | precision |\n|---|---|---|---|")
    for level in (*LEVELS, "none"):
        firsts = [f for f, lv in zip(tally.firsts, tally.levels, strict=True) if lv == level]
        if firsts or level != "none":
            right = sum(f == 1 for f in firsts)
            prec = f"{right / len(firsts):.3f}" if firsts else "-"
            print(f"| {level} | {len(firsts)} | {right} | {prec} |")
    wrong_sure = sum(
        f != 1 and lv in ("high", "medium")
        for f, lv in zip(tally.firsts, tally.levels, strict=True)
    )
    print(f"\nwrong first hit at medium or high: {wrong_sure} of {len(cases)}")
    if data.get("noanswer"):
        na = data["noanswer"]
        handled = noanswer(methods, na, show)
        levels = handled["cmx"][1]
        print(
            f"no-answer ({len(na)}): "
            + ", ".join(f"{m} {k}/{len(na)}" for m, (k, _) in handled.items())
            + " (cmx first hit: "
            + ", ".join(f"{lv} {levels.count(lv)}" for lv in (*LEVELS, "none"))
            + ")"
        )


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument(
        "queries",
        nargs="*",
        default=[
            str(ROOT / "bench" / n) for n in ("queries.yaml", "heldout.yaml", "calibration.yaml")
        ],
    )
    ap.add_argument("--show", action="store_true", help="list cmx's misses and low first hits")
    ap.add_argument("--no-baselines", action="store_true", help="cmx only (faster)")
    args = ap.parse_args()
    kb = load_kb(ROOT / "data")
    index = build_index(kb)
    entries = list(index._entries)

    def cmx(q: str) -> list[Hit]:
        return search(index, q, limit=5)

    methods: dict[str, Callable[[str], list[Hit]]] = {"cmx": cmx}
    if not args.no_baselines:
        methods = {
            "cmx": cmx,
            "substring": lambda q: substring(entries, q),
            "wratio": lambda q: wratio(entries, q),
        }
    for path in args.queries:
        report(path, methods, args.show)
    return 0


if __name__ == "__main__":
    sys.exit(main())
