#!/usr/bin/env python3
"""The query targets of the store, as ratios to `python -c "import typer"`, in one run.

usage: python bench/queries.py KB_DIR [KB_DIR ...] [--runs N]

For each knowledge base (make them with bench/gen_kb.py 10000 / 100000), the store is
warmed first (a listing and a search build it and its index), then each command and
`import typer` run in turn, A B A B …, and the ratio of each pair is kept: the median
ratio is the figure (the machine's drift cancels out pair by pair); the CPU-time ratio
(user + system, as the kernel accounts each child) is given beside it, as it moves less
with the other tenants of a shared machine. Peak memory is the largest resident size of
the command's runs. Targets (issue 28): show, pillars and a
filtered listing ≤ 1.3×; searches ≤ 1.3× at 10,000 and ≤ 2× at 100,000.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from cmx.store import store_path

HERE = Path(__file__).resolve().parent
PYTHON = sys.executable


CMX = shutil.which("cmx", path=str(Path(PYTHON).parent)) or "cmx"


def cmx(*args: str) -> list[str]:
    return [PYTHON, CMX, *args]


def timed(argv: list[str], env: dict[str, str]) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds (user + system, the kernel's accounting of the child)
    and exit code of one run."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    return wall, usage.ru_utime + usage.ru_stime, os.waitstatus_to_exitcode(status)


def peak_kb() -> int:
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss


def few_rows_filter(store: Path) -> list[str]:
    """A filter that prints between 1 and 50 commitments of this knowledge base: a
    sector, status and instrument, and a --due-before date when that is still too many."""
    with sqlite3.connect(store) as conn:
        sector, status, instrument, n = conn.execute(
            "SELECT sector, status, instrument, count(*) FROM commitments GROUP BY 1, 2, 3 "
            "ORDER BY count(*) <= 50 DESC, abs(count(*) - 40) LIMIT 1"
        ).fetchone()
        chosen = ["--sector", sector, "--status", status, "--instrument", instrument]
        if n <= 50:
            return chosen
        (day,) = conn.execute(
            "SELECT due_by FROM commitments WHERE sector = ? AND status = ? AND instrument = ? "
            "AND due_by IS NOT NULL ORDER BY due_by LIMIT 1 OFFSET 45",
            (sector, status, instrument),
        ).fetchone()
    return [*chosen, "--due-before", day]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("kbs", nargs="+", type=Path)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--cache", type=Path, help="reuse this cache folder (its stores)")
    opts = ap.parse_args()
    cache = opts.cache or Path(tempfile.mkdtemp(prefix="cmx-bench-"))
    # Byte-code caching on, as on a normal machine (as bench/startup.py does).
    base = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env = {**base, "CMX_CACHE_DIR": str(cache), "CMX_QUIET": "1", "CMX_TODAY": "2026-12-06"}
    floor = [PYTHON, "-c", "import typer"]
    print("| KB | command | ratio to import typer (median, min–max) | CPU time (median) | rows |")
    print("|---|---|---|---|---|")
    for kb in opts.kbs:
        data = ["--data", str(kb)]
        timed(cmx(*data, "pillars"), env)  # builds the store
        timed(cmx(*data, "search", "energy"), env)  # adds the search index
        os.environ["CMX_CACHE_DIR"] = str(cache)
        store = store_path(kb)  # where cmx keeps this knowledge base's store
        assert store is not None, kb
        assert store.exists(), store
        few = few_rows_filter(store)
        commands = {
            "show research-mou": ["show", "research-mou"],
            "pillars": ["pillars"],
            f"commitments {' '.join(few)} -f json": ["commitments", *few, "-f", "json"],
            "commitments (matching nothing) -f json": [
                "commitments", "--pillar", "security", "--status", "not-pursued",
                "--instrument", "agreement", "--due-before", "2000-01-01", "-f", "json",
            ],
            "search energy": ["search", "energy"],
            "search energy security": ["search", "energy security"],
        }  # fmt: skip
        for name, args in commands.items():
            argv = cmx(*data, *args)
            rows = subprocess.run(argv, env=env, capture_output=True, text=True).stdout
            shown = rows.count('"id"') if "-f" in args else max(len(rows.splitlines()) - 1, 0)
            ratios, cpu = [], []
            for _ in range(opts.runs):
                a, a_cpu, _code = timed(argv, env)
                b, b_cpu, _ = timed(floor, env)
                ratios.append(a / b)
                cpu.append(a_cpu / b_cpu)
            med = statistics.median(ratios)
            print(
                f"| {kb.name} | `cmx {name}` | {med:.2f}× ({min(ratios):.2f}–{max(ratios):.2f})"
                f" | {statistics.median(cpu):.2f}× | {shown} |",
                flush=True,
            )
    print(f"\npeak memory of any command run: {peak_kb() / 1024:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
