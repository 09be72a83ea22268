"""The README and docs/ tell the truth: every console example is run and its output
compared (as sqlite-utils keeps its docs from drifting), and every link resolves.

A console example is a ```console block: each `$ command` line is run with bash from the
repository's root, with the installed `cmx` first on PATH, piped (plain text), and the
lines under it up to the next `$` line are what it must print. Regenerate an example on
purpose by running its command the same way: CMX_QUIET=1 CMX_TODAY=2026-12-06
COLUMNS=100 NO_COLOR=1."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def examples() -> list[tuple[str, str, str]]:
    """(file, command, expected output) of every console example."""
    found = []
    for path in DOCS:
        inside, command, lines = False, None, []
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.startswith("```console"):
                inside, command, lines = True, None, []
            elif inside and line.startswith("```"):
                if command:
                    found.append((path.name, command, "\n".join(lines).rstrip("\n")))
                inside = False
            elif inside and line.startswith("$ "):
                if command:
                    found.append((path.name, command, "\n".join(lines).rstrip("\n")))
                command, lines = line[2:], []
            elif inside:
                lines.append(line)
    return found


EXAMPLES = examples()


def test_the_docs_have_examples():
    assert len(EXAMPLES) >= 8
    assert {name for name, _, _ in EXAMPLES} >= {"README.md", "commands.md"}


@pytest.mark.parametrize(
    ("doc", "command", "expected"), EXAMPLES, ids=[f"{d}: {c}" for d, c, _ in EXAMPLES]
)
def test_a_console_example_prints_what_the_docs_say(doc, command, expected, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CMX_") or k == "CMX_CACHE_DIR"}
    env.update(CMX_QUIET="1", CMX_TODAY="2026-12-06", COLUMNS="100", NO_COLOR="1", LANG="C.UTF-8")
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    done = subprocess.run(
        ["bash", "-c", command], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.stdout.rstrip("\n") == expected, f"{doc}: `{command}` now prints:\n{done.stdout}"


def test_every_link_between_the_docs_resolves():
    for path in DOCS:
        for target in re.findall(r"\]\(([^)#:]+\.md)\)", path.read_text(encoding="utf-8")):
            assert (path.parent / target).exists(), f"{path.name} links to missing {target}"
