"""The parsed-KB cache: used when fresh, never stale, rebuilt when broken, never trusted blindly."""

from __future__ import annotations

import json
import os
import shutil

import pytest

from cmx import cache, kb
from cmx.cli import app


@pytest.fixture
def counting(monkeypatch):
    """Counts how often the YAML files are actually parsed."""
    calls = {"n": 0}
    real = kb.read_raw

    def read_raw(data_dir, *args, **kwargs):
        calls["n"] += 1
        return real(data_dir, *args, **kwargs)

    monkeypatch.setattr(kb, "read_raw", read_raw)
    return calls


def test_second_load_comes_from_the_cache(kb_copy, counting):
    first = kb.load_kb(kb_copy)
    second = kb.load_kb(kb_copy)
    assert counting["n"] == 1
    assert second == first
    assert cache.kb_cache_file(kb_copy).exists()


def test_an_edited_file_is_seen_at_once(kb_copy, counting):
    kb.load_kb(kb_copy)
    path = kb_copy / "commitments.yaml"
    path.write_text(path.read_text().replace("Upgrade the port", "Rebuild the port"))
    assert kb.load_kb(kb_copy).get("port-upgrade").title.en == "Rebuild the port of Manzanillo"
    assert counting["n"] == 2


def test_same_size_same_mtime_edit_is_still_seen(kb_copy):
    kb.load_kb(kb_copy)
    path = kb_copy / "commitments.yaml"
    st = path.stat()
    path.write_text(path.read_text().replace("Manzanillo", "Manzanilla"))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert "Manzanilla" in kb.load_kb(kb_copy).get("port-upgrade").title.en


def test_an_edit_that_breaks_the_kb_is_reported_not_hidden(kb_copy):
    kb.load_kb(kb_copy)
    path = kb_copy / "commitments.yaml"
    path.write_text(path.read_text().replace("status: planned", "status: planed"))
    with pytest.raises(kb.KBError):
        kb.load_kb(kb_copy)


@pytest.mark.parametrize(
    "content", [b"", b"{not json", b'{"key": 1, "raw": []}', b"\x00\xff" * 100, b"[]"]
)
def test_a_broken_cache_is_rebuilt_silently(kb_copy, counting, content):
    kb.load_kb(kb_copy)
    cache.kb_cache_file(kb_copy).write_bytes(content)
    assert kb.load_kb(kb_copy).get("port-upgrade") is not None
    assert counting["n"] == 2
    assert json.loads(cache.kb_cache_file(kb_copy).read_bytes().splitlines()[0])["ids"]  # rewritten


def test_a_truncated_cache_is_rebuilt(kb_copy, counting):
    kb.load_kb(kb_copy)
    path = cache.kb_cache_file(kb_copy)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    assert len(kb.load_kb(kb_copy).commitments) == 4
    assert counting["n"] == 2


def test_a_valid_looking_but_wrong_cache_is_rebuilt(kb_copy, counting):
    kb.load_kb(kb_copy)
    path = cache.kb_cache_file(kb_copy)
    lines = path.read_bytes().splitlines(keepends=True)
    header = json.loads(lines[0])
    header["small"]["pillars"] = {"pillars": [{"id": 5}]}
    path.write_bytes(json.dumps(header).encode() + b"\n" + b"".join(lines[1:]))
    assert len(kb.load_kb(kb_copy).commitments) == 4
    assert counting["n"] == 2


def test_an_altered_commitment_line_is_caught(kb_copy, counting):
    kb.load_kb(kb_copy)
    path = cache.kb_cache_file(kb_copy)
    path.write_bytes(path.read_bytes().replace(b"Manzanillo", b"Manzanillx"))
    assert kb.load_kb(kb_copy).get("port-upgrade").title.en == "Upgrade the port of Manzanillo"
    assert counting["n"] == 2


def test_commitments_are_built_only_when_used(kb_copy):
    kb.load_kb(kb_copy)
    cached = kb.load_kb(kb_copy)
    assert cached.commitments._items == [None] * 4  # nothing built yet
    assert cached.get("border-talks").title.en == "Border security talks"
    assert sum(item is not None for item in cached.commitments._items) == 1


def test_a_cache_others_can_write_is_ignored(kb_copy, counting):
    kb.load_kb(kb_copy)
    path = cache.kb_cache_file(kb_copy)
    os.chmod(path, 0o666)
    kb.load_kb(kb_copy)
    assert counting["n"] == 2


def test_no_cache_option_and_env(runner, kb_copy, counting):
    runner.invoke(app, ["--data", str(kb_copy), "pillars"])
    runner.invoke(app, ["--data", str(kb_copy), "--no-cache", "pillars"])
    runner.invoke(app, ["--data", str(kb_copy), "pillars"], env={"CMX_NO_CACHE": "1"})
    assert counting["n"] == 3


def test_unwritable_cache_dir_costs_only_time(kb_copy, monkeypatch, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    monkeypatch.setenv("CMX_CACHE_DIR", str(blocker / "sub"))
    assert kb.load_kb(kb_copy).get("ports") is not None


def test_cache_is_per_folder(kb_copy, tmp_path):
    other = tmp_path / "other"
    shutil.copytree(kb_copy, other)
    (other / "notes.yaml").unlink()
    assert len(kb.load_kb(kb_copy).notes) == 1
    assert len(kb.load_kb(other).notes) == 0


def test_search_index_is_cached_and_follows_edits(runner, kb_copy):
    args = ["--data", str(kb_copy), "search", "cranes", "-f", "json"]
    assert json.loads(runner.invoke(app, args).stdout)[0]["id"] == "port-upgrade"
    index_file = cache.cache_file(kb_copy, "index", ".bin")
    assert index_file.exists()
    assert json.loads(runner.invoke(app, args).stdout)[0]["id"] == "port-upgrade"
    path = kb_copy / "commitments.yaml"
    path.write_text(path.read_text().replace("Manzanillo", "Lazaro"))
    assert (
        runner.invoke(app, [*args[:3], "manzanillo"]).exit_code == 1
    )  # the old index is not served
    assert (
        json.loads(runner.invoke(app, [*args[:3], "lazaro", "-f", "json"]).stdout)[0]["id"]
        == "port-upgrade"
    )


@pytest.mark.parametrize("content", [b"garbage", b'{"key": null, "raw": {}}'])
def test_a_broken_index_cache_is_rebuilt(runner, kb_copy, content):
    args = ["--data", str(kb_copy), "search", "cranes", "-f", "json"]
    runner.invoke(app, args)
    cache.cache_file(kb_copy, "index", ".bin").write_bytes(content)
    assert json.loads(runner.invoke(app, args).stdout)[0]["id"] == "port-upgrade"


def test_an_index_for_another_kb_shape_is_rebuilt(runner, kb_copy):
    args = ["--data", str(kb_copy), "search", "cranes", "-f", "json"]
    runner.invoke(app, args)
    path = cache.cache_file(kb_copy, "index", ".bin")
    head, _, body = path.read_bytes().partition(b"\n")
    header = json.loads(head)
    header["starts"] = [[0], [0], [0]]
    path.write_bytes(json.dumps(header).encode() + b"\n" + body)
    assert json.loads(runner.invoke(app, args).stdout)[0]["id"] == "port-upgrade"


def test_a_truncated_index_is_rebuilt(runner, kb_copy):
    args = ["--data", str(kb_copy), "search", "cranes", "-f", "json"]
    runner.invoke(app, args)
    path = cache.cache_file(kb_copy, "index", ".bin")
    path.write_bytes(path.read_bytes()[:-20])
    assert json.loads(runner.invoke(app, args).stdout)[0]["id"] == "port-upgrade"


def test_concurrent_first_runs_all_succeed(kb_copy, tmp_path):
    """Several processes building the same cache at once: each gets the KB, none a torn file."""
    import subprocess
    import sys

    env = {**os.environ, "CMX_CACHE_DIR": str(tmp_path / "shared-cache")}
    cmd = [sys.executable, "-m", "cmx", "--data", str(kb_copy), "search", "cranes", "-f", "json"]
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, env=env) for _ in range(4)]
    outs = [p.communicate()[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0, 0]
    assert all(json.loads(o)[0]["id"] == "port-upgrade" for o in outs)
    leftovers = [p.name for p in (tmp_path / "shared-cache").iterdir() if p.name.endswith(".tmp")]
    assert leftovers == []
