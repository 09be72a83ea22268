#!/usr/bin/env python3
"""Scale benchmark: cmx on large knowledge bases against its floors, side by side.

usage: python bench/scale.py [--sizes 10000,100000] [--rounds 3] [--out bench/out]

For each size, writes a synthetic KB with bench/gen_kb.py (kept in --out for the next
run), then runs in turn, round after round (A B C D E, A B C D E, …), so that machine
noise hits every command alike:
  import typer     `python -c "import typer"` (the floor of every cmx command)
  CSafeLoader      PyYAML's C loader reading every KB file (the floor of a first load)
  first load       `cmx --data D pillars -f json` with an empty cache: parses and
                   validates the YAML and builds the store (the search index is added
                   by the first search, not here)
  first search     `cmx --data D search energy -f json` with an empty cache: all of the
                   above and the search index
  search           `cmx --data D search energy -f json` with the store built
  search, 2 words  `cmx --data D search energy security -f json`
Ratios are of medians; peak memory is the child's maximum resident set (getrusage).
Targets (the store issue): search ≤ 2× import typer at 10,000 commitments and ≤ 5× at
100,000 (both queries); first load ≤ 1.2× CSafeLoader; first load of 100,000 ≤ 500 MB.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PY = sys.executable
CMX = shutil.which("cmx", path=str(Path(PY).parent)) or "cmx"
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
YAML_FLOOR = """
import sys, yaml
from pathlib import Path
for path in sorted(Path(sys.argv[1]).glob("*.yaml")):
    with open(path, "rb") as fh:
        yaml.load(fh, Loader=yaml.CSafeLoader)
"""
SEARCH_LIMIT = {10_000: 2.0, 100_000: 5.0}


def run(argv: list[str], cache: Path) -> tuple[float, float, int]:
    """(seconds, peak MB, exit code) of one child process."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        argv,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=ENV | {"CMX_CACHE_DIR": str(cache)},
    )
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    return elapsed, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status)


def measure(kb: Path, cache: Path, rounds: int) -> dict[str, list[tuple[float, float, int]]]:
    base = [PY, CMX, "--data", str(kb)]
    commands = {
        "import typer": [PY, "-c", "import typer"],
        "CSafeLoader": [PY, "-c", YAML_FLOOR, str(kb)],
        "first load": [*base, "pillars", "-f", "json"],
        "first search": [*base, "search", "energy", "-f", "json"],  # leaves the whole store
        "search": [*base, "search", "energy", "-f", "json"],
        "search, 2 words": [*base, "search", "energy", "security", "-f", "json"],
    }
    out: dict[str, list[tuple[float, float, int]]] = {name: [] for name in commands}
    for _ in range(rounds):
        for name, argv in commands.items():
            if name in ("first load", "first search"):
                shutil.rmtree(cache, ignore_errors=True)
            out[name].append(run(argv, cache))
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="10000,100000")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--out", type=Path, default=HERE / "out")
    args = ap.parse_args()
    failed = 0
    for n in [int(s) for s in args.sizes.split(",")]:
        kb = args.out / f"kb-{n}"
        if not (kb / "commitments.yaml").exists():
            subprocess.run([PY, str(HERE / "gen_kb.py"), str(n), str(kb)], check=True)
        size_mb = (kb / "commitments.yaml").stat().st_size / 1e6
        runs = measure(kb, args.out / f"cache-{n}", args.rounds)
        med = {name: statistics.median(r[0] for r in rs) for name, rs in runs.items()}
        peak = {name: max(r[1] for r in rs) for name, rs in runs.items()}
        codes = {r[2] for rs in runs.values() for r in rs}
        print(f"\n{n:,} commitments, commitments.yaml {size_mb:.1f} MB, {args.rounds} rounds")
        print("| command | median s | peak MB |")
        print("|---|---|---|")
        for name in runs:
            print(f"| {name} | {med[name]:.3f} | {peak[name]:.0f} |")
        checks = [
            ("search / import typer", med["search"] / med["import typer"], SEARCH_LIMIT.get(n)),
            (
                "search, 2 words / import typer",
                med["search, 2 words"] / med["import typer"],
                SEARCH_LIMIT.get(n),
            ),
            ("first load / CSafeLoader", med["first load"] / med["CSafeLoader"], 1.2),
            ("first search / CSafeLoader", med["first search"] / med["CSafeLoader"], None),
        ]
        print("\n| target | ratio | limit |")
        print("|---|---|---|")
        for name, ratio, limit in checks:
            verdict = "" if limit is None else (" ok" if ratio <= limit else " OVER")
            failed += verdict == " OVER"
            shown = f"{limit:.1f}" if limit is not None else "—"
            print(f"| {name} | {ratio:.2f} | {shown}{verdict} |")
        if n >= 100_000:
            ok = peak["first load"] <= 500
            failed += not ok
            print(
                f"| first load peak MB | {peak['first load']:.0f} | 500{' ok' if ok else ' OVER'} |"
            )
        if codes != {0}:
            print(f"exit codes seen: {sorted(codes)}")
            failed += 1
    print(f"\npython {sys.version.split()[0]}, {os.cpu_count()} cores")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
