#!/usr/bin/env python3
"""Scale benchmark: load, search and validate times and peak memory for large KBs.

usage: python bench/scale.py [--sizes 1000,10000,100000] [--out bench/out]

For each size, writes a synthetic KB with bench/gen_kb.py (kept in --out for the next
run) and a fresh cache folder, then runs the installed `cmx` as a user would:
  validate      `cmx --data D validate` (always parses the YAML)
  search cold   `cmx --data D search energy -f json` with an empty cache (builds it)
  search warm   the same again, median of 3 (the performance issue's target)
  pillars warm  `cmx --data D pillars -f json` with the cache (builds every commitment)
Peak memory is the child's maximum resident set size (getrusage).
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


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1000,10000,100000")
    ap.add_argument("--out", type=Path, default=HERE / "out")
    args = ap.parse_args()
    rows = []
    for n in [int(s) for s in args.sizes.split(",")]:
        kb = args.out / f"kb-{n}"
        if not (kb / "commitments.yaml").exists():
            subprocess.run([PY, str(HERE / "gen_kb.py"), str(n), str(kb)], check=True)
        size_mb = (kb / "commitments.yaml").stat().st_size / 1e6
        cache = args.out / f"cache-{n}"
        shutil.rmtree(cache, ignore_errors=True)
        base = [PY, CMX, "--data", str(kb)]
        validate = run([*base, "validate"], cache)
        cold = run([*base, "search", "energy", "-f", "json"], cache)
        warm = [run([*base, "search", "energy", "-f", "json"], cache) for _ in range(3)]
        pillars = run([*base, "pillars", "-f", "json"], cache)
        codes = {validate[2], cold[2], pillars[2], *(w[2] for w in warm)}
        warm_s = statistics.median(w[0] for w in warm)
        warm_mb = max(w[1] for w in warm)
        rows.append((n, size_mb, validate, cold, warm_s, warm_mb, pillars, codes))
    print(
        "| commitments | YAML MB | validate s (MB) | search, first s (MB) "
        "| search, cached s (MB) | pillars, cached s (MB) |"
    )
    print("|---|---|---|---|---|---|")
    for n, size_mb, validate, cold, warm_s, warm_mb, pillars, codes in rows:
        print(
            f"| {n:,} | {size_mb:.1f} | {validate[0]:.2f} ({validate[1]:.0f}) "
            f"| {cold[0]:.2f} ({cold[1]:.0f}) | {warm_s:.2f} ({warm_mb:.0f}) "
            f"| {pillars[0]:.2f} ({pillars[1]:.0f}) |"
            + ("" if codes == {0} else f" exit codes {sorted(codes)}")
        )
    print(f"\npython {sys.version.split()[0]}, {os.cpu_count()} cores")
    return 0


if __name__ == "__main__":
    sys.exit(main())
