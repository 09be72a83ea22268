"""The store: used when it matches, never stale, rebuilt when broken, never trusted blindly."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cmx import kb, kbfiles, store
from cmx.cli import app
from cmx.search import MemoryIndex, search


@pytest.fixture
def counting(monkeypatch):
    """Counts how often the YAML files are actually parsed."""
    calls = {"n": 0}
    real = kb.read_kb

    def read_kb(data_dir, *args, **kwargs):
        calls["n"] += 1
        return real(data_dir, *args, **kwargs)

    monkeypatch.setattr(store, "read_kb", read_kb)
    return calls


def stores_and_temps(cache: Path) -> list[str]:
    """The stores and temporary files in a cache folder (not the kept readers/dates)."""
    kept = ("readers-", "dates.json")
    return sorted(p.name for p in cache.iterdir() if not p.name.startswith(kept))


@pytest.fixture
def hashed(monkeypatch):
    """Counts how often the YAML files are hashed to find the store's key."""
    calls = {"n": 0}
    real = store.current_key

    def current_key(data_dir):
        calls["n"] += 1
        return real(data_dir)

    monkeypatch.setattr(store, "current_key", current_key)
    return calls


def opened(path: Path) -> store.Store:
    return store.open_store(path)


def test_second_open_comes_from_the_store(kb_copy, counting):
    first = opened(kb_copy).kb()
    again = opened(kb_copy)
    assert again.kb() == first
    assert counting["n"] == 1
    path = store.store_path(kb_copy)
    assert path is not None and path.exists()
    assert first == kb.load_kb(kb_copy)  # the store holds exactly what the YAML says


def test_shipped_kb_round_trips_through_the_store(shipped_dir):
    parsed = kb.load_kb(shipped_dir)
    opened(shipped_dir)
    assert opened(shipped_dir).kb() == parsed


def test_search_over_the_store_ranks_like_the_memory_index(shipped_dir):
    s = opened(shipped_dir)
    opened_again = opened(shipped_dir)
    assert isinstance(opened_again.index(), store.SqliteIndex)
    memory = MemoryIndex(s.kb())
    for query in ["energy", "fentanil", "T-MEC", "pomme de terre", "9,9 millones", "protectd"]:
        mine = [(h.entry.id, h.score) for h in opened_again.search(query, limit=10)]
        assert mine == [(h.entry.id, h.score) for h in search(memory, query, limit=10)], query
        assert mine, query


def test_an_edited_file_is_seen_at_once(kb_copy, counting):
    opened(kb_copy)
    path = kb_copy / "commitments.yaml"
    path.write_text(path.read_text().replace("Upgrade the port", "Rebuild the port"))
    assert opened(kb_copy).kb().get("port-upgrade").title.en == "Rebuild the port of Manzanillo"
    assert counting["n"] == 2


def test_same_size_same_mtime_edit_is_still_seen(kb_copy):
    opened(kb_copy)
    path = kb_copy / "commitments.yaml"
    st = path.stat()
    path.write_text(path.read_text().replace("Manzanillo", "Manzanilla"))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert "Manzanilla" in opened(kb_copy).kb().get("port-upgrade").title.en


def test_a_file_replaced_during_the_first_load_is_never_served_stale(kb_copy, monkeypatch):
    """The parser reads version A; the file then becomes B with A's mtime. The store is
    keyed by what the parser read (A), so the next run sees that B differs and parses it."""
    path = kb_copy / "commitments.yaml"
    original = path.read_text()
    st = path.stat()
    real = kb.read_yaml

    def read_then_replace(p, *args, **kwargs):
        value = real(p, *args, **kwargs)
        if p.name == "commitments.yaml":
            path.write_text(original.replace("Manzanillo", "Veracruzz1"))  # same length
            os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
        return value

    monkeypatch.setattr(kb, "read_yaml", read_then_replace)
    first = opened(kb_copy).kb()
    monkeypatch.setattr(kb, "read_yaml", real)
    assert "Manzanillo" in first.get("port-upgrade").title.en  # what the parser read
    assert "Veracruzz1" in opened(kb_copy).kb().get("port-upgrade").title.en


def test_an_edit_that_breaks_the_kb_is_reported_not_hidden(kb_copy):
    opened(kb_copy)
    path = kb_copy / "commitments.yaml"
    path.write_text(path.read_text().replace("status: planned", "status: planed"))
    with pytest.raises(kb.KBError):
        opened(kb_copy)


@pytest.mark.parametrize(
    "content", [b"", b"{not sqlite", b"\x00\xff" * 100, b"SQLite format 3\x00"]
)
def test_a_broken_store_file_is_rebuilt_silently(kb_copy, counting, content):
    opened(kb_copy)
    path = store.store_path(kb_copy)
    path.write_bytes(content)
    assert opened(kb_copy).kb().get("port-upgrade") is not None
    assert counting["n"] == 2
    assert opened(kb_copy).kb().get("port-upgrade") is not None
    assert counting["n"] == 2  # rewritten: the third open uses it


def test_a_truncated_store_is_rebuilt(kb_copy, counting):
    opened(kb_copy)
    path = store.store_path(kb_copy)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    s = opened(kb_copy)
    assert len(s.kb().commitments) == 4
    assert [h.entry.id for h in s.search("cranes")] == ["port-upgrade"]


SABOTAGE = [
    "UPDATE commitments SET status = 'bogus'",
    'UPDATE commitments SET tags = \'{"not": "a list"}\'',
    "UPDATE pillars SET aliases = 'nonsense'",
    "DROP TABLE events",
    "UPDATE _cmx_terms SET postings = x'01020304050607'",
    "UPDATE _cmx_terms SET postings = x'ffffff7f'",
    "UPDATE meta SET value = '[1, 2]' WHERE key = 'kind_starts'",
    "DELETE FROM _cmx_docs",
    "DELETE FROM _cmx_low",
]


@pytest.mark.parametrize("sql", SABOTAGE)
def test_a_matching_store_with_malformed_content_never_crashes(runner, kb_copy, sql):
    args = ["--data", str(kb_copy)]
    assert runner.invoke(app, [*args, "search", "cranes"]).exit_code == 0  # store + index
    path = store.store_path(kb_copy)
    os.chmod(path, 0o600)
    conn = sqlite3.connect(path)
    conn.execute(sql)
    conn.commit()
    conn.close()
    found = runner.invoke(app, [*args, "search", "cranes", "-f", "json"])
    assert found.exit_code == 0, found.output
    assert json.loads(found.stdout)[0]["id"] == "port-upgrade"
    listed = runner.invoke(app, [*args, "commitments", "-f", "json"])
    assert listed.exit_code == 0, listed.output
    statuses = {c.id: c.status.value for c in kb.load_kb(kb_copy).commitments}
    assert {c["id"]: c["status"] for c in json.loads(listed.stdout)} == statuses


def test_a_store_others_can_write_is_ignored(kb_copy, counting):
    opened(kb_copy)
    os.chmod(store.store_path(kb_copy), 0o666)
    opened(kb_copy)
    assert counting["n"] == 2
    assert not store.store_path(kb_copy).stat().st_mode & 0o022  # replaced by a private one


def test_another_schema_version_is_rebuilt(kb_copy, counting, monkeypatch):
    opened(kb_copy)
    monkeypatch.setattr(store, "SCHEMA_VERSION", "999")
    opened(kb_copy)
    assert counting["n"] == 2


def test_no_cache_option_and_env(runner, kb_copy, counting):
    runner.invoke(app, ["--data", str(kb_copy), "pillars"])
    runner.invoke(app, ["--data", str(kb_copy), "--no-cache", "pillars"])
    runner.invoke(app, ["--data", str(kb_copy), "pillars"], env={"CMX_NO_CACHE": "1"})
    assert counting["n"] == 3
    runner.invoke(app, ["--data", str(kb_copy), "pillars"], env={"CMX_NO_CACHE": "0"})
    assert counting["n"] == 3  # 0 means off: the store is used


def test_unwritable_cache_dir_costs_only_time(kb_copy, monkeypatch, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    monkeypatch.setenv("CMX_CACHE_DIR", str(blocker / "sub"))
    assert opened(kb_copy).kb().get("ports") is not None


def test_no_home_directory_runs_without_a_store(runner, kb_copy, monkeypatch):
    monkeypatch.delenv("CMX_CACHE_DIR")
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.delenv("HOME", raising=False)
    monkeypatch.setattr(Path, "home", classmethod(lambda cls: (_ for _ in ()).throw(RuntimeError)))
    assert store.cache_dir() is None
    result = runner.invoke(app, ["--data", str(kb_copy), "search", "cranes", "-f", "json"])
    assert result.exit_code == 0, result.output


def test_a_relative_xdg_cache_home_is_ignored(monkeypatch, tmp_path):
    monkeypatch.delenv("CMX_CACHE_DIR")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/cache")
    assert store.cache_dir() == tmp_path / ".cache" / "cmx"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert store.cache_dir() == tmp_path / "xdg" / "cmx"


def test_store_is_per_folder_even_with_a_non_utf8_name(kb_copy, tmp_path):
    other = tmp_path / os.fsdecode(b"caf\xe9-kb")
    shutil.copytree(kb_copy, other)
    (other / "notes.yaml").unlink()
    assert len(opened(kb_copy).kb().notes) == 1
    assert len(opened(other).kb().notes) == 0
    assert store.store_path(kb_copy) != store.store_path(other)


def test_search_follows_edits(runner, kb_copy):
    args = ["--data", str(kb_copy), "search"]
    assert json.loads(runner.invoke(app, [*args, "cranes", "-f", "json"]).stdout)[0]["id"] == (
        "port-upgrade"
    )
    path = kb_copy / "commitments.yaml"
    path.write_text(path.read_text().replace("cranes", "gantries").replace("Cranes", "Gantries"))
    assert runner.invoke(app, [*args, "cranes"]).exit_code == 1  # the old index is not served
    hits = json.loads(runner.invoke(app, [*args, "gantries", "-f", "json"]).stdout)
    assert hits[0]["id"] == "port-upgrade"


def _cmx(*args: str, env: dict[str, str], **kwargs) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "cmx", *args], env=env, **kwargs)


def test_concurrent_first_runs_all_succeed(kb_copy, tmp_path):
    """Several processes building the same store at once: each gets the KB, none a torn file."""
    env = {**os.environ, "CMX_CACHE_DIR": str(tmp_path / "shared-cache")}
    args = ("--data", str(kb_copy), "search", "cranes", "-f", "json")
    procs = [_cmx(*args, env=env, stdout=subprocess.PIPE) for _ in range(4)]
    outs = [p.communicate()[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0, 0]
    assert all(json.loads(o)[0]["id"] == "port-upgrade" for o in outs)
    names = stores_and_temps(tmp_path / "shared-cache")
    assert len(names) == 1 and names[0].endswith(".sqlite")


SLOW = """
import sys, time
from cmx import process, store
name = sys.argv.pop(1)
real = getattr(store, name)
def slow(*args):
    real(*args)
    print("building", flush=True)
    time.sleep(60)
setattr(store, name, slow)
sys.argv = ["cmx", *sys.argv[1:]]
process.main()
"""


def test_sigterm_during_a_store_build_leaves_nothing_behind(kb_copy, tmp_path):
    cache = tmp_path / "cache"
    env = {**os.environ, "CMX_CACHE_DIR": str(cache)}
    proc = subprocess.Popen(
        [sys.executable, "-c", SLOW, "write_tables", "--data", str(kb_copy), "pillars"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline() == b"building\n"
    assert [p.name for p in cache.iterdir() if p.name.endswith(".tmp")]  # mid-build
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=20)
    assert proc.returncode == 143
    assert stores_and_temps(cache) == []  # no temporary file, no half-built store


def test_the_first_search_adds_the_index_and_sigterm_rolls_it_back(runner, kb_copy, tmp_path):
    cache = tmp_path / "cache"
    env = {**os.environ, "CMX_CACHE_DIR": str(cache)}
    listing = subprocess.run(
        [sys.executable, "-m", "cmx", "--data", str(kb_copy), "pillars"], env=env, check=True
    )
    assert listing.returncode == 0
    (name,) = stores_and_temps(cache)
    path = cache / name
    with sqlite3.connect(path) as conn:  # a listing does not pay for the search index
        assert not store._has_index(conn)
    proc = subprocess.Popen(
        [sys.executable, "-c", SLOW, "write_index", "--data", str(kb_copy), "search", "cranes"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline() == b"building\n"
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=20)
    assert proc.returncode == 143
    assert stores_and_temps(cache) == [path.name]  # no journal, no temporary file
    with sqlite3.connect(path) as conn:
        assert not store._has_index(conn)  # rolled back whole
    found = subprocess.run(
        [sys.executable, "-m", "cmx", "--data", str(kb_copy), "search", "cranes", "-f", "json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(found.stdout)[0]["id"] == "port-upgrade"
    with sqlite3.connect(path) as conn:
        assert store._has_index(conn)


def test_old_leftover_temporary_files_are_swept(kb_copy, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    cache.mkdir()
    monkeypatch.setenv("CMX_CACHE_DIR", str(cache))
    old = cache / ".kb-crashed.tmp"
    old.write_bytes(b"half")
    os.utime(old, (time.time() - 7200, time.time() - 7200))
    fresh = cache / ".kb-running.tmp"
    fresh.write_bytes(b"another run's")
    from cmx.files import writing

    with writing(cache):  # a live run is writing there: its young file stays
        opened(kb_copy)
    assert not old.exists() and fresh.exists()
    dead = cache / ".kb-killed.tmp"
    dead.write_bytes(b"")  # a run killed just now (even inside mkstemp): no lock held
    opened(kb_copy)
    assert not dead.exists() and not fresh.exists()


# ------------------------------------------------------------------ export sqlite


def test_export_sqlite_opens_in_sqlite3_with_full_text_search(runner, kb_dir, tmp_path):
    out = tmp_path / "plan.db"
    result = runner.invoke(app, ["--data", str(kb_dir), "export", "sqlite", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "wrote 4 commitments" in result.stderr
    conn = sqlite3.connect(out)
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {
        "pillars",
        "sectors",
        "commitments",
        "events",
        "sources",
        "citations",
        "notes",
    } <= tables
    assert not any(t.startswith("_cmx") for t in tables)  # cmx's own index stays in the store
    hits = conn.execute("SELECT id FROM entries_fts WHERE entries_fts MATCH 'grues'").fetchall()
    assert ("port-upgrade",) in hits
    row = conn.execute(
        "SELECT title_es, status, amount_value FROM commitments WHERE id = 'fentanyl-funding'"
    ).fetchone()
    assert row == ("Financiamiento contra el fentanilo", "underway", 4400000.0)
    fks = conn.execute("PRAGMA foreign_key_list(events)").fetchall()
    assert {(fk[2], fk[3]) for fk in fks} == {("commitments", "commitment"), ("sources", "source")}
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    assert store.read_kb_from(conn) == kb.load_kb(kb_dir)  # everything cmx knows is there


def test_export_sqlite_applies_filters_and_refuses_to_overwrite(runner, kb_dir, tmp_path):
    out = tmp_path / "plan.db"
    args = ["--data", str(kb_dir), "export", "sqlite", "-o", str(out), "--pillar", "security"]
    assert runner.invoke(app, args).exit_code == 0
    conn = sqlite3.connect(out)
    assert conn.execute("SELECT count(*) FROM commitments").fetchone() == (2,)
    conn.close()
    before = out.read_bytes()
    refused = runner.invoke(app, args)
    assert refused.exit_code == 2 and "--force" in refused.stderr
    assert out.read_bytes() == before
    assert runner.invoke(app, [*args, "--force"]).exit_code == 0


def test_export_sqlite_needs_a_file(runner, kb_dir):
    result = runner.invoke(app, ["--data", str(kb_dir), "export", "sqlite"])
    assert result.exit_code == 2 and "-o" in result.stderr


def test_tags_headlines_and_source_annotations_round_trip_on_a_cached_run(kb_copy, counting):
    (kb_copy / "tags.yaml").write_text(
        "tags:\n"
        + "".join(
            f"  - id: {t}\n    label: {{en: {t}, es: {t}-es, fr: {t}-fr}}\n"
            for t in ("ports", "energy", "fentanyl", "funding")
        ),
        encoding="utf-8",
    )
    commitments = kb_copy / "commitments.yaml"
    text = commitments.read_text(encoding="utf-8")
    commitments.write_text(
        text.replace(
            "        source: paper\n        status: completed\n",
            "        source: paper\n        status: completed\n"
            "        headline: {en: Cranes arrived., es: Llegaron grúas., fr: Grues arrivées.}\n",
        ),
        encoding="utf-8",
    )
    sources = kb_copy / "sources.yaml"
    sources.write_text(
        sources.read_text(encoding="utf-8").replace(
            "    publisher: Test Daily\n",
            "    publisher: Test Daily\n    via: CNW\n    copy_of: Test Ministry\n"
            "    copy_on: example.org\n    agency: EFE\n    aggregator: true\n",
        ),
        encoding="utf-8",
    )
    first = opened(kb_copy).kb()
    again = opened(kb_copy).kb()  # from the store: the YAML is not parsed again
    assert counting["n"] == 1
    assert again == first == kb.load_kb(kb_copy)
    assert again.tag("funding").label.fr == "funding-fr"
    assert again.get("port-upgrade").events[0].headline.es == "Llegaron grúas."
    assert again.get("fentanyl-funding").events[0].headline is None
    paper = again.source("paper")
    assert (paper.via, paper.copy_of, paper.copy_on, paper.agency, paper.aggregator) == (
        "CNW", "Test Ministry", "example.org", "EFE", True,
    )  # fmt: skip
    assert again.source("plan").aggregator is False


def test_unchanged_files_are_not_hashed_and_an_edit_that_restores_the_mtime_is_noticed(
    kb_copy, counting, hashed, monkeypatch
):
    monkeypatch.setattr(kbfiles, "RACY_NS", 0)  # the files were just copied: trust them now
    opened(kb_copy).kb()
    assert opened(kb_copy).kb() is not None and hashed["n"] == 0  # stat, not hash
    assert counting["n"] == 1
    path = kb_copy / "commitments.yaml"
    before = path.stat()
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text.replace("Upgrade the port", "Upgrade the fort", 1), encoding="utf-8"
    )  # same size
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert path.stat().st_size == before.st_size
    assert path.stat().st_mtime_ns == before.st_mtime_ns
    again = opened(kb_copy)
    assert hashed["n"] == 1 and counting["n"] == 2  # the ctime moved: hashed, then parsed
    assert any(c.title.en == "Upgrade the fort of Manzanillo" for c in again.kb().commitments)


def test_files_too_new_to_trust_are_hashed_once_then_trusted(
    kb_copy, counting, hashed, monkeypatch
):
    """A store built right after an edit cannot trust the files' stat (same clock tick);
    the first later run that hashes them and finds the store's content records their
    stat, and the runs after it hash nothing (a 100,000-commitment KB: ~0.25 s a run)."""
    monkeypatch.setattr(kbfiles, "RACY_NS", 10**30)  # every file is "just changed"
    opened(kb_copy).kb()
    assert opened(kb_copy).kb() is not None and hashed["n"] == 1  # not trusted: hashed
    monkeypatch.setattr(kbfiles, "RACY_NS", 0)  # time has passed
    assert opened(kb_copy).kb() is not None and hashed["n"] == 2  # hashed, stat recorded
    assert opened(kb_copy).kb() is not None and hashed["n"] == 2  # stat, not hash
    assert opened(kb_copy).kb() is not None and hashed["n"] == 2
    assert counting["n"] == 1  # parsed once, by the first run


def test_readers_compiled_once_are_kept_for_the_next_runs(kb_copy, monkeypatch):
    """Compiling the store's readers is most of a small read: a run keeps them in the
    cache folder, and the next one reads with them without compiling."""
    from cmx import tables

    opened(kb_copy).kb()  # builds the store
    first = store.Store(kb_copy)
    small = first.small()
    assert store.kept_code()

    def compile_again(*args: object, **kwargs: object) -> None:
        raise AssertionError("a kept reader was compiled again")

    monkeypatch.setattr(tables, "compile", compile_again, raising=False)
    again = store.Store(kb_copy)
    assert again.small() == small
    assert again.entry("ports") == first.entry("ports")


@pytest.mark.parametrize("damage", ["garbage", "not-a-dict", "writable-by-others"])
def test_a_damaged_or_foreign_readers_file_is_compiled_again(kb_copy, damage):
    import marshal

    opened(kb_copy).kb()
    expected = store.Store(kb_copy).small()
    path = store._code_path()
    assert path is not None and path.exists()
    if damage == "garbage":
        path.write_bytes(b"\x00not marshal")
    elif damage == "not-a-dict":
        path.write_bytes(marshal.dumps(["def read(row): return 1"]))
    else:
        os.chmod(path, 0o666)
    assert store.kept_code() == {}
    assert store.Store(kb_copy).small() == expected


NEVER = {"yaml", "cmx.kb", "cmx.files", "babel"}  # on a cached run, whatever it does
SEARCH = {"cmx.search", "Stemmer", "array"}  # a search's code, and its postings' reader


@pytest.mark.parametrize(
    ("args", "unwanted"),
    [
        (["commitments", "--sector", "cusma", "--status", "underway", "-f", "json"], SEARCH),
        (["show", "research-mou"], SEARCH),
        (["pillars"], SEARCH),
        (["search", "energy"], {"Stemmer", "unicodedata"}),
        (["search", "energía", "seguridad"], {"Stemmer", "unicodedata"}),
        (["commitments", "--pillar", "Sécurité", "-f", "json"], {"unicodedata", *SEARCH}),
    ],
)
def test_a_cached_run_imports_only_what_it_uses(args, unwanted):
    """Start-up: once the store is built, a run reads no YAML (yaml, cmx.kb), writes no
    file (cmx.files) and finds no dates through Babel; a listing, a card or the pillars
    import no search code and unpack no postings (array); a search of the KB's words
    takes their stems from the index (no PyStemmer), and accented Latin text is folded
    without unicodedata."""
    env = {**os.environ, "CMX_QUIET": "1", "CMX_TODAY": "2026-01-01"}
    first = subprocess.run([sys.executable, "-m", "cmx", *args], env=env, capture_output=True)
    assert first.returncode == 0, first.stderr
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "cmx", *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    modules = {
        line.split("|")[-1].strip()
        for line in result.stderr.splitlines()
        if line.startswith("import time:")
    }
    assert "cmx.store" in modules
    assert not modules & (NEVER | unwanted)


def test_the_stems_the_index_keeps_are_the_stemmers(kb_dir):
    """A search takes its words' stems from the index (start-up): each kept stem is
    PyStemmer's for that word and language, and a search finds the same hits whether
    the stems come from the index or from the stemmer."""
    from cmx import search
    from cmx.api import open_kb
    from cmx.model import LANGS

    plan = open_kb(kb_dir)
    before = [(h.entry.id, h.score, h.confidence) for h in plan.search("energía renovable")]
    path = store.store_path(kb_dir)
    with sqlite3.connect(path) as conn:
        kept = dict(conn.execute("SELECT word, stems FROM _cmx_word_stems"))
    assert len(kept) > 100
    for word, stems in kept.items():
        stemmer_says = [search._stemmer(lang).stemWord(word) for lang in LANGS]
        assert stems.split(" ") == stemmer_says, word
    search._STEM_CACHE.clear()
    search.stem.cache_clear()
    after = [
        (h.entry.id, h.score, h.confidence) for h in open_kb(kb_dir).search("energía renovable")
    ]
    assert after == before and before
