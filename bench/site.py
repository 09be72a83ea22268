#!/usr/bin/env python3
"""Static-site benchmark: how long `cmx export site` takes and how big the folder is.

usage: python bench/site.py [--sizes 10000] [--rounds 1] [--out bench/out]

For the shipped knowledge base and for each synthetic size (bench/gen_kb.py, kept in
--out for the next run) it times `cmx --data D --quiet export site -o DIR` end to end
(store built first, so the time is the site's), then reports:
  build         seconds (median of --rounds), and the peak memory of the child
  folder        total bytes and files of the site
  search index  bytes of one language's search-index.js (loaded by the search page only)
  home          what a browser transfers for en/index.html: the page, style.css and
                favicon.svg (the home page loads no script), raw and gzip -6 as a static
                host would serve it
"""

from __future__ import annotations

import argparse
import gzip
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
SHIPPED = HERE.parent / "data"
TODAY = "2026-11-30"


def build(data: Path, out: Path, cache: Path) -> tuple[float, float]:
    """(seconds, peak MB) of one `cmx export site` into a fresh `out`."""
    shutil.rmtree(out, ignore_errors=True)
    argv = [CMX, "--data", str(data), "--quiet", "--today", TODAY, "export", "site", "-o", str(out)]
    start = time.perf_counter()
    proc = subprocess.Popen(
        argv,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=os.environ | {"CMX_CACHE_DIR": str(cache)},
    )
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"cmx export site failed on {data}")
    return elapsed, usage.ru_maxrss / 1024


def home_transfer(site: Path) -> tuple[int, int]:
    """Bytes a browser fetches for the English home page: raw and gzipped."""
    parts = [
        site / "en" / "index.html",
        site / "static" / "style.css",
        site / "static" / "favicon.svg",
    ]
    raw = sum(p.stat().st_size for p in parts)
    zipped = sum(len(gzip.compress(p.read_bytes(), compresslevel=6)) for p in parts)
    return raw, zipped


def measure(name: str, data: Path, out: Path, rounds: int) -> None:
    cache = out / f"cache-{name}"
    site = out / f"site-{name}"
    env = os.environ | {"CMX_CACHE_DIR": str(cache)}  # the store first: time the site only
    argv = [CMX, "--data", str(data), "--quiet", "pillars", "-f", "json"]
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, env=env)
    runs = [build(data, site, cache) for _ in range(rounds)]
    seconds = statistics.median(r[0] for r in runs)
    peak = max(r[1] for r in runs)
    files = [p for p in site.rglob("*") if p.is_file()]
    total = sum(p.stat().st_size for p in files)
    index = (site / "en" / "search-index.js").stat().st_size
    raw, zipped = home_transfer(site)
    print(
        f"{name:>10}  build {seconds:7.2f} s  peak {peak:6.0f} MB  folder {total / 1e6:8.1f} MB "
        f"in {len(files):6d} files  search index (en) {index / 1e6:6.2f} MB  "
        f"home {raw / 1e3:6.1f} kB ({zipped / 1e3:5.1f} kB gzip)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--out", type=Path, default=HERE / "out")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    measure("shipped", SHIPPED, args.out, max(args.rounds, 3))
    for size in (int(s) for s in args.sizes.split(",") if s):
        kb = args.out / f"kb-{size}"
        if not (kb / "commitments.yaml").exists():
            subprocess.run([PY, str(HERE / "gen_kb.py"), str(size), str(kb)], check=True)
        measure(f"{size:,}", kb, args.out, args.rounds)


if __name__ == "__main__":
    main()
