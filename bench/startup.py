#!/usr/bin/env python3
"""Start-up benchmark: cmx commands against their floors, interleaved, medians and ratios.

usage: python bench/startup.py [--runs N]

Each round runs every command once, in turn (A B C … A B C …), so machine noise hits
all of them alike. Commands that print a Rich table run on a pseudo-terminal, as a
person would see them. Ratios are against bare `python -c pass` and against the
floors the performance issue names; absolute times are shown only for reference.
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

PY = sys.executable
CMX = shutil.which("cmx", path=str(Path(PY).parent)) or shutil.which("cmx")

COMMANDS: dict[str, tuple[list[str], bool]] = {  # name -> (argv, on a terminal)
    "python -c pass": ([PY, "-c", "pass"], False),
    "import typer": ([PY, "-c", "import typer"], False),
    "import typer, rich.console, rich.table": (
        [PY, "-c", "import typer, rich.console, rich.table"],
        False,
    ),
    "cmx pillars (tty)": ([PY, CMX or "cmx", "pillars"], True),
    "cmx pillars --format json": ([PY, CMX or "cmx", "pillars", "--format", "json"], False),
    "cmx search energy (tty)": ([PY, CMX or "cmx", "search", "energy"], True),
}
TARGETS = [  # (command, floor, allowed ratio) from the performance issue
    ("cmx pillars (tty)", "import typer, rich.console, rich.table", 1.2),
    ("cmx pillars --format json", "import typer", 1.2),
    ("cmx search energy (tty)", "import typer, rich.console, rich.table", 1.3),
]


# Byte-code caching on, as on a normal machine (some sandboxes turn it off, which makes
# every run recompile cmx from source and measures the sandbox, not cmx).
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"} | {"COLUMNS": "120"}


def run_once(argv: list[str], tty: bool) -> float:
    env = ENV
    if tty:
        master, slave = os.openpty()
        start = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=slave, stderr=subprocess.DEVNULL, env=env)
        os.close(slave)
        while True:  # drain the terminal so the child never blocks on a full buffer
            try:
                if not os.read(master, 65536):
                    break
            except OSError:
                break
        proc.wait()
        elapsed = time.perf_counter() - start
        os.close(master)
    else:
        start = time.perf_counter()
        subprocess.run(
            argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, check=False
        )
        elapsed = time.perf_counter() - start
    return elapsed


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=21)
    args = ap.parse_args()
    if CMX is None:
        sys.exit("cmx is not installed in this Python's environment")
    for argv, tty in COMMANDS.values():  # warm the file cache and cmx's own KB cache
        run_once(argv, tty)
    times: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for _ in range(args.runs):
        for name, (argv, tty) in COMMANDS.items():
            times[name].append(run_once(argv, tty))
    med = {name: statistics.median(values) for name, values in times.items()}
    base = med["python -c pass"]
    print(f"{'command':42} {'median ms':>10} {'× python':>9}")
    for name, value in med.items():
        print(f"{name:42} {value * 1000:10.1f} {value / base:9.2f}")
    print()
    print(f"{'target':70} {'ratio':>6} {'limit':>6}")
    failed = 0
    for name, floor, limit in TARGETS:
        ratio = med[name] / med[floor]
        ok = ratio <= limit
        failed += not ok
        print(f"{name + ' / ' + floor:70} {ratio:6.2f} {limit:6.2f} {'ok' if ok else 'OVER'}")
    print(f"\n{args.runs} interleaved runs each; python {sys.version.split()[0]}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
