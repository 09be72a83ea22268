"""Hard to break, round three (issue 25): the store under kills, pauses and concurrent
runs; exports onto a full disk; hostile text in Markdown; huge fields; the calendar's ends.

Runs are real processes (`python -m cmx`) on a copy of the shipped knowledge base, each
with its own cache folder; every wait is bounded."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cmx import store

SHIPPED = Path(__file__).parent.parent / "data"

# Wraps a store function of the run with a pause: the run prints a line, then stops
# itself (SIGSTOP) or sleeps, for the test to kill or resume it there. Works on any
# version of the store (the wrapper takes whatever arguments the function takes).
WRAPPED = """
import os, signal, sys, time
from cmx import process, store
how, name = sys.argv.pop(1), sys.argv.pop(1)
real = getattr(store, name)
def wrapped(*args, **kwargs):
    if how == "stop-before":
        print("paused", flush=True)
        os.kill(os.getpid(), signal.SIGSTOP)
        return real(*args, **kwargs)
    result = real(*args, **kwargs)
    print("paused", flush=True)
    time.sleep(60)
    return result
setattr(store, name, wrapped)
sys.argv = ["cmx", *sys.argv[1:]]
process.main()
"""


@pytest.fixture
def kb(tmp_path: Path) -> Path:
    """A writable copy of the shipped knowledge base."""
    import shutil

    dest = tmp_path / "kb"
    shutil.copytree(SHIPPED, dest)
    return dest


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "CMX_CACHE_DIR": str(tmp_path / "cache"), "CMX_QUIET": "1"}


def cmx(
    kb: Path, env: dict[str, str], *args: str, check: bool = False
) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "cmx", "--data", str(kb), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "Traceback" not in done.stderr, done.stderr
    if check:
        assert done.returncode == 0, done.stderr
    return done


_UNCACHED: dict[tuple[str, ...], tuple[int, str]] = {}


def uncached(kb: Path, env: dict[str, str], *args: str) -> tuple[int, str]:
    """The exit code and output of a run without the cache (of the shipped knowledge
    base computed once: its copies give the same)."""
    unchanged = all((kb / f.name).read_bytes() == f.read_bytes() for f in SHIPPED.glob("*"))
    if unchanged and args in _UNCACHED:
        return _UNCACHED[args]
    done = cmx(kb, env, "--no-cache", *args)
    if unchanged:
        _UNCACHED[args] = (done.returncode, done.stdout)
    return done.returncode, done.stdout


def same_as_uncached(kb: Path, env: dict[str, str], *args: str) -> None:
    done = cmx(kb, env, *args)
    assert (done.returncode, done.stdout) == uncached(kb, env, *args)


def store_file(env: dict[str, str]) -> Path:
    (path,) = [p for p in Path(env["CMX_CACHE_DIR"]).iterdir() if p.name.endswith(".sqlite")]
    return path


def leftovers(folder: Path) -> list[str]:
    """cmx's temporary files and journals in `folder`."""
    return sorted(
        p.name for p in folder.iterdir() if p.name.endswith((".tmp", "-journal", ".tmp-journal"))
    )


def has_index(path: Path) -> bool:
    with sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True) as conn:
        return store._has_index(conn)


def identity(path: Path) -> tuple[int, int]:
    st = path.stat()
    return (st.st_ino, st.st_mtime_ns)


def wait_stopped(pid: int) -> None:
    """Until the process `pid` is stopped (SIGSTOP), at most 30 s."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with open(f"/proc/{pid}/stat") as fh:
            if fh.read().rsplit(")", 1)[1].split()[0] == "T":
                return
        time.sleep(0.01)
    raise AssertionError("the run never paused")


def start_wrapped(
    kb: Path, env: dict[str, str], how: str, name: str, *args: str
) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [sys.executable, "-c", WRAPPED, how, name, "--data", str(kb), *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline() == b"paused\n"
    return proc


needs_proc = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")


# ------------------------------------------------------------------ 1. the right store


@needs_proc
def test_a_paused_search_never_indexes_a_store_built_for_other_text(kb, env):
    """A search paused between opening the store and adding its index, while another
    run rebuilds the store for edited YAML: resumed, it must not index the new store
    with the old text (later searches would find old words over new records)."""
    cmx(kb, env, "pillars", check=True)  # a store without an index
    paused = start_wrapped(kb, env, "stop-before", "_add_index", "search", "energy", "-f", "json")
    wait_stopped(paused.pid)
    for f in kb.glob("*.yaml"):
        f.write_text(f.read_text().replace("ambassador", "zorblattian"))
    cmx(kb, env, "pillars", check=True)  # the store is rebuilt for the edited files
    paused.send_signal(signal.SIGCONT)
    paused.communicate(timeout=60)
    assert paused.returncode == 0
    for word in ("zorblattian", "ambassador", "energy"):
        same_as_uncached(kb, env, "search", word, "-f", "json")
    assert cmx(kb, env, "search", "zorblattian").returncode == 0
    assert has_index(store_file(env))
    assert leftovers(Path(env["CMX_CACHE_DIR"])) == []


def _concurrent(kb: Path, env: dict[str, str], n: int, *args: str) -> list[tuple[int, str]]:
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "cmx", "--data", str(kb), *args],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(n)
    ]
    results = []
    for p in procs:
        out, errors = p.communicate(timeout=120)
        assert "Traceback" not in errors, errors
        results.append((p.returncode, out))
    return results


@pytest.mark.parametrize("cache", ["cold", "warm"])
def test_concurrent_first_searches_all_answer_right_and_leave_an_indexed_store(kb, env, cache):
    args = ("search", "energy", "security", "-f", "json")
    expected = uncached(kb, env, *args)
    if cache == "warm":
        cmx(kb, env, *args, check=True)
    results = _concurrent(kb, env, 8, *args)
    assert results == [expected] * 8
    path = store_file(env)
    assert has_index(path)
    assert leftovers(path.parent) == []
    before = identity(path)
    same_as_uncached(kb, env, *args)
    # used as it is, not rebuilt: a rebuilt store is a new file put in its place, so it
    # never has the inode of the one it replaced (a run may record the files' stat in it)
    assert identity(path)[0] == before[0]


# ------------------------------------------------------------------ 2. journals, temps


def test_a_killed_index_build_does_not_wedge_the_cache(kb, env):
    """SIGKILL while the first search writes the index leaves a hot journal: the next
    run rolls it back and uses the store; later runs reuse it as it is."""
    cmx(kb, env, "pillars", check=True)
    path = store_file(env)
    built = identity(path)
    proc = start_wrapped(kb, env, "sleep-after", "write_index", "search", "energy")
    assert Path(f"{path}-journal").exists()  # mid-write
    proc.kill()
    proc.wait(timeout=20)
    same_as_uncached(kb, env, "pillars")
    assert identity(path)[0] == built[0]  # rolled back, not rebuilt
    assert leftovers(path.parent) == []
    same_as_uncached(kb, env, "search", "energy", "-f", "json")  # adds the index
    assert has_index(path)
    then = identity(path)
    for _ in range(2):
        same_as_uncached(kb, env, "search", "energy", "-f", "json")
        same_as_uncached(kb, env, "pillars")
        assert identity(path)[0] == then[0]  # the same file, not rebuilt (see above)
        assert has_index(path)


JOURNALS = {"zeros": b"\0" * 512, "random": b"\xd9" + os.urandom(4095), "empty": b""}


@pytest.mark.parametrize("journal", JOURNALS)
def test_a_stray_journal_is_removed_and_the_store_kept(kb, env, journal):
    cmx(kb, env, "pillars", check=True)
    path = store_file(env)
    built = identity(path)
    Path(f"{path}-journal").write_bytes(JOURNALS[journal])
    same_as_uncached(kb, env, "pillars")
    assert leftovers(path.parent) == []
    assert identity(path)[0] == built[0]
    same_as_uncached(kb, env, "pillars")
    assert identity(path)[0] == built[0]


def test_a_journal_beside_a_store_put_in_place_is_removed(kb, env):
    """A killed run's journal of an older store must never be played into a new one."""
    cmx(kb, env, "pillars", check=True)
    path = store_file(env)
    proc = start_wrapped(kb, env, "sleep-after", "write_index", "search", "energy")
    proc.kill()
    proc.wait(timeout=20)
    assert Path(f"{path}-journal").exists()
    (kb / "pillars.yaml").write_text((kb / "pillars.yaml").read_text() + "\n")  # new key
    same_as_uncached(kb, env, "pillars")
    assert leftovers(path.parent) == []
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    same_as_uncached(kb, env, "search", "energy", "-f", "json")


# ------------------------------------------------------------------ 7. kills at any moment


def _kill_at(kb: Path, env: dict[str, str], delay: float, *args: str) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "cmx", "--data", str(kb), *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(delay)
    proc.kill()
    proc.wait(timeout=20)


def _kill_paused(kb: Path, env: dict[str, str], point: str, *args: str) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "cmx", "--data", str(kb), *args],
        env={**env, "CMX_TEST_PAUSE": point},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_stopped(proc.pid)
    proc.kill()
    proc.wait(timeout=20)


MOMENTS = [0.15, 0.3, "before-install", "before-index", "in-index"]


@needs_proc
@pytest.mark.parametrize("moment", MOMENTS, ids=str)
def test_a_run_killed_at_any_moment_leaves_a_cache_that_answers_right(kb, env, moment):
    args = ("search", "energy", "-f", "json")
    if moment == "before-index" or moment == "in-index":
        cmx(kb, env, "pillars", check=True)  # the store is there; the index is not
    if isinstance(moment, str):
        _kill_paused(kb, env, moment, *args)
    else:
        _kill_at(kb, env, moment, *args)
    same_as_uncached(kb, env, *args)
    cache = Path(env["CMX_CACHE_DIR"])
    assert leftovers(cache) == []
    path = store_file(env)
    assert has_index(path)
    then = identity(path)
    same_as_uncached(kb, env, *args)
    same_as_uncached(kb, env, "pillars")
    assert identity(path)[0] == then[0]  # reused, not rebuilt (see above)


def _table(path: Path) -> list[tuple[object, ...]]:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT * FROM commitments ORDER BY position").fetchall()


@pytest.mark.parametrize("kind", ["sqlite", "csv"])
@pytest.mark.parametrize("delay", [0.2, 0.4])
def test_an_export_killed_at_any_moment_keeps_the_old_file_and_no_temporary(
    kb, env, tmp_path, kind, delay
):
    out = tmp_path / "out" / f"plan.{kind}"
    out.parent.mkdir()
    out.write_bytes(b"the old file")
    args = ("export", kind, "-o", str(out), "--force")
    _kill_at(kb, env, delay, *args)
    fresh = tmp_path / f"fresh.{kind}"
    cmx(kb, env, "--no-cache", "export", kind, "-o", str(fresh), check=True)
    if out.read_bytes() != b"the old file":  # killed after the move: the whole new file
        assert out.read_bytes() == fresh.read_bytes() if kind == "csv" else _table(out)
    cmx(kb, env, *args, check=True)
    assert leftovers(out.parent) == []
    if kind == "sqlite":
        assert _table(out) == _table(fresh)
    else:
        assert out.read_bytes() == fresh.read_bytes()


# ------------------------------------------------------------------ 3, 8. a full disk


def _limited(limit: int):
    def apply() -> None:
        import resource

        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX resource limits")
@pytest.mark.parametrize(
    ("kind", "reason"),
    [("sqlite", "disk I/O error"), ("csv", "File too large")],  # EFBIG, as SQLite says it
)
def test_an_export_that_cannot_grow_is_a_clear_error_and_keeps_the_old_file(
    kb, env, tmp_path, kind, reason
):
    """Files may not grow past 8 kB (RLIMIT_FSIZE; Python ignores SIGXFSZ): the write
    fails as on a full disk, without root."""
    out = tmp_path / f"plan.{kind}"
    out.write_bytes(b"the old file")
    args = ("export", kind, "-o", str(out), "--force")
    done = subprocess.run(
        [sys.executable, "-m", "cmx", "--data", str(kb), "--no-cache", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=_limited(8 * 1024),
    )
    assert done.returncode == 2, done.stderr
    assert reason in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.splitlines()) == 1
    assert out.read_bytes() == b"the old file"
    assert leftovers(tmp_path) == []


@pytest.fixture
def full_disk(tmp_path: Path):
    """A small tmpfs, filled up (root only; skipped where mounting is not allowed)."""
    where = tmp_path / "small"
    where.mkdir()
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(where)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip("mounting a tmpfs is not allowed here")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def _fill(folder: Path) -> None:
    """Fill the file system of `folder` (exit of the block: the last write failed)."""
    fd = os.open(folder / "filler", os.O_WRONLY | os.O_CREAT)
    try:
        while True:
            os.write(fd, b"\0" * 4096)
    except OSError:
        pass
    finally:
        os.close(fd)


@pytest.mark.parametrize(
    ("kind", "reasons"),
    [
        ("sqlite", ("database or disk is full", "No space left on device")),
        ("csv", ("No space left on device",)),
    ],
)
def test_an_export_onto_a_full_disk_is_exit_2_and_keeps_the_old_file(
    kb, env, full_disk, kind, reasons
):
    out = full_disk / f"plan.{kind}"
    out.write_bytes(b"the old file")
    _fill(full_disk)
    done = cmx(kb, env, "export", kind, "-o", str(out), "--force")
    assert done.returncode == 2, done.stderr
    assert any(r in done.stderr for r in reasons), done.stderr
    assert out.read_bytes() == b"the old file"
    assert leftovers(full_disk) == []


@pytest.mark.parametrize("cache", ["cold", "warm"])
def test_a_full_cache_folder_does_not_break_a_read(kb, env, full_disk, cache):
    env = {**env, "CMX_CACHE_DIR": str(full_disk / "cache")}
    if cache == "warm":
        cmx(kb, env, "pillars", check=True)  # a store without its index
    _fill(full_disk)
    for args in (("pillars",), ("search", "energy", "-f", "json"), ("commitments", "-f", "csv")):
        same_as_uncached(kb, env, *args)
    assert leftovers(full_disk / "cache") == []


# ------------------------------------------------------------------ 5. huge fields


def _old_folded(text: str) -> tuple[str, list[int]]:
    from cmx.search import fold

    parts, where = [], []
    for i, ch in enumerate(text):
        f = fold(ch)
        parts.append(f)
        where.extend([i] * len(f))
    return "".join(parts), where


def _old_snippet(text: str, terms: list[str], width: int = 160) -> str:
    """The snippet as it was (the whole field folded), for reference."""
    import re

    if len(text) <= width:
        return text
    folded, where = _old_folded(text)
    found = []
    for t in terms:
        m = re.search(rf"(?<!\w){re.escape(t)}", folded)
        if m:
            found.append(m.start())
    first = where[min(found)] if found else 0
    start = max(0, min(first - width // 3, len(text) - width))
    floor = max(0, start - width)
    while start > floor and not text[start - 1].isspace():
        start -= 1
    body = (
        text[start : start + width].rsplit(" ", 1)[0] if start + width < len(text) else text[start:]
    )
    return ("…" if start else "") + body + ("…" if start + len(body) < len(text) else "")


def _old_spans(text: str, terms: list[str]) -> list[tuple[int, int]]:
    import re

    folded, where = _old_folded(text)
    spans = []
    for term in dict.fromkeys(t for t in terms if t):
        stem = term[: max(4, len(term) - 2)] if len(term) > 4 else term
        for m in re.finditer(rf"(?<!\w){re.escape(stem)}\w*", folded):
            spans.append((where[m.start()], where[m.end() - 1] + 1))
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


PIECES = ["energía", "Énergie", "ENERGY", "straße", "ss", " ", ", ", "e\u0301", "…", "ﬁn", "x", "é"]


@pytest.mark.parametrize("window", [3, 7, 64])
def test_snippets_and_highlights_by_window_equal_the_whole_field_folded(monkeypatch, window):
    """Window by window (small windows: many boundaries) gives what folding the whole
    field gave, for text where folding changes lengths."""
    import random

    from cmx import search

    monkeypatch.setattr(search, "_WINDOW", window)
    rng = random.Random(window)
    term_sets = [["energia"], ["energie", "strasse"], ["fin"], ["ss", "energy"], ["zzz"], ["e"]]
    for _ in range(120):
        text = "".join(rng.choice(PIECES) for _ in range(rng.randrange(0, 80)))
        for terms in term_sets:
            assert search.highlight_spans(text, terms) == _old_spans(text, terms), (text, terms)
            assert search.snippet(text, terms, 20) == _old_snippet(text, terms, 20), (text, terms)


@pytest.mark.parametrize("kind", ["ascii", "accented"])
def test_a_snippet_of_a_multi_megabyte_field_is_right_and_small(kind):
    import tracemalloc

    from cmx.search import highlight_spans, snippet

    word = "energy " if kind == "ascii" else "énergie "
    text = word * 700_000 + "the needle is here " + word * 10  # ~5 MB
    tracemalloc.start()
    try:
        shown = snippet(text, ["needle"])
        spans = highlight_spans(shown, ["needle"])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert "the needle is here" in shown and len(shown) <= 162
    assert [shown[s:e] for s, e in spans] == ["needle"]
    assert peak < 4_000_000, peak  # the old snippet kept one int per character: ~200 MB
    tracemalloc.start()
    try:
        assert snippet(text, ["absent"]).startswith(word.strip())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4_000_000, peak


# ------------------------------------------------------------------ 4. hostile Markdown

HOSTILE = (
    "<script>alert(1)</script> <img src=x onerror=alert(1)> [see](javascript:alert(2)) "
    "![i](javascript:alert(3)) <javascript:alert(4)> <https://ok.example/> "
    "\u202eevil\u202c `code` ``x`` **bold** __u__ *a* _b_ ~~s~~ &lt;b&gt; "
    "&#106;avascript:alert(5) <!-- c --> | pipe \\ [r]\n\n# heading\n<div>x</div>\n"
    "- item\n1. one\n[r]: javascript:alert(6)\n> quote\n    code\n"
)
HOSTILE_KEYS = {"title", "summary", "what", "claim", "name", "publisher", "section"}


def _hostile(value: object, key: str = "") -> object:
    if isinstance(value, dict):
        return {k: _hostile(v, k if k in HOSTILE_KEYS else key) for k, v in value.items()}
    if isinstance(value, list):
        return [_hostile(v, key) for v in value]
    if isinstance(value, str) and key == "summary":  # a summary begins a paragraph
        return f"> {HOSTILE} {value}"
    if isinstance(value, str) and key in HOSTILE_KEYS:
        return f"{value} {HOSTILE}"
    return value


@pytest.fixture
def hostile_kb(tmp_path: Path) -> Path:
    import yaml

    dest = tmp_path / "hostile"
    dest.mkdir()
    for f in (Path(__file__).parent / "data" / "small").glob("*.yaml"):
        data = _hostile(yaml.safe_load(f.read_text(encoding="utf-8")))
        (dest / f.name).write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return dest


def _markdown_outputs(kb: Path) -> dict[str, str]:
    from typer.testing import CliRunner

    from cmx.cli import app

    runner = CliRunner()
    base = ["--data", str(kb), "--today", "2026-06-01"]
    outputs = {}
    for name, args in {
        "summary": ["export", "markdown"],
        "dossier": ["export", "markdown", "--full"],
        "changes": ["changes", "--since", "2025-01-01", "-f", "markdown"],
    }.items():
        done = runner.invoke(app, [*base, *args])
        assert done.exit_code == 0, done.output
        assert "onerror" in done.stdout  # the text is there, as text
        outputs[name] = done.stdout
    return outputs


def _check_html(html: str) -> None:
    import re

    lowered = html.lower()
    for tag in ("<script", "<img", "<div", "<!--", "<iframe"):
        assert tag not in lowered, (tag, html)
    for href in re.findall(r'(?:href|src)\s*=\s*"([^"]*)"', html, flags=re.IGNORECASE):
        assert href.lower().startswith(("http://", "https://", "#")), href


def test_hostile_text_never_becomes_markup_in_markdown_exports(hostile_kb):
    from markdown_it import MarkdownIt

    parser = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
    for name, text in _markdown_outputs(hostile_kb).items():
        tokens = parser.parse(text)
        flat = [t for tok in tokens for t in [tok, *(tok.children or [])]]
        assert not [t for t in flat if t.type in ("html_block", "html_inline")], name
        assert not [t for t in flat if t.type in ("image", "code_inline", "code_block")], name
        assert not [t for t in flat if t.type in ("s_open", "blockquote_open")], name
        html = parser.render(text)
        for literal in ("**bold**", "__u__", "*a*", "_b_", "~~s~~", "`code`", "[see]"):
            assert literal in html, (name, literal)  # shown as written, not as markup
        for t in flat:
            if t.type == "link_open":
                assert str(t.attrs["href"]).startswith(("http://", "https://")), (name, t.attrs)
        assert "\u202e" not in text
        _check_html(parser.render(text))


@pytest.mark.skipif(
    subprocess.run(["sh", "-c", "command -v pandoc"], capture_output=True).returncode != 0,
    reason="pandoc is not installed",
)
def test_hostile_text_never_becomes_markup_in_pandoc(hostile_kb):
    for name, text in _markdown_outputs(hostile_kb).items():
        for reader in ("markdown", "gfm", "commonmark"):
            html = subprocess.run(
                ["pandoc", "-f", reader, "-t", "html"],
                input=text,
                capture_output=True,
                text=True,
                timeout=60,
                check=True,
            ).stdout
            _check_html(html)
            assert "**bold**" in html and "[see](javascript:alert(2))" in html, (name, reader)


def test_a_source_url_that_could_end_a_link_is_refused(kb_copy):
    from cmx.kb import KBError, load_kb

    path = kb_copy / "sources.yaml"
    for bad in ("https://example.org/a>b", 'https://example.org/"x', "https://example.org/`x`"):
        path.write_text(
            path.read_text(encoding="utf-8").replace(
                "https://example.org/plan", bad.replace('"', '\\"')
            ),
            encoding="utf-8",
        )
        with pytest.raises(KBError) as info:
            load_kb(kb_copy)
        assert any("sources.yaml:" in p and "URL" in p for p in info.value.problems)
        path.write_text(
            path.read_text(encoding="utf-8").replace(
                bad.replace('"', '\\"'), "https://example.org/plan"
            ),
            encoding="utf-8",
        )


def test_md_url_encodes_what_could_end_an_autolink():
    from cmx.brief import md, md_url

    assert md_url("https://a.example/x>y z") == "<https://a.example/x%3Ey%20z>"
    assert md_url("javascript:alert(1)") == md("javascript:alert(1)")
    assert md("1. one", starts_line=True) == "1\\. one" and md("1. one") == "1. one"
    assert md("# h") == "\\# h" and md("-x", starts_line=True) == "\\-x"
    assert md("a\n\nb") == "a b"


# ------------------------------------------------------------------ 6. the calendar's ends


def test_shift_holds_at_the_calendars_ends():
    import datetime as dt

    from cmx.tracking import shift

    assert shift(dt.date(2026, 3, 1), -1) == dt.date(2026, 2, 28)
    assert shift(dt.date.min, -90) == dt.date.min
    assert shift(dt.date.max, 183) == dt.date.max
    assert shift(dt.date(2000, 1, 1), 10**12) == dt.date.max


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
def test_summary_at_the_calendars_ends(kb_dir, day):
    import datetime as dt

    from cmx import brief
    from cmx.kb import load_kb

    data = load_kb(kb_dir)
    today = dt.date.fromisoformat(day)
    assert brief.summary(data, data.commitments, today=today).startswith("# ")
    from typer.testing import CliRunner

    from cmx.cli import app

    done = CliRunner().invoke(app, ["--data", str(kb_dir), "--today", day, "export", "markdown"])
    assert done.exit_code == 0, done.output
