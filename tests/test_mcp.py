"""`cmx mcp`: the MCP server, driven by the official SDK's own client, in process and
as a real `python -m cmx mcp` subprocess; and the start-up of other commands without it."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from mcp import Client, StdioServerParameters

from cmx.api import open_kb
from cmx.kb import default_data_dir
from cmx.mcp_server import build_server

TIMEOUT = 60  # seconds for a whole conversation: a hang fails the test, never the suite
TOOLS = {"search", "show", "list_commitments", "changes", "summary", "sources"}


def converse(talk: Callable[[Client], Awaitable[Any]], server: Any = None) -> Any:
    """Run `talk` with a client connected to `server` (default: in process, on the
    shipped knowledge base with today fixed), bounded in time."""

    async def main() -> Any:
        target = server or build_server(open_kb(default_data_dir(), today="2026-01-01"))
        async with Client(target) as client:
            return await talk(client)

    return asyncio.run(asyncio.wait_for(main(), TIMEOUT))


def data(result: Any) -> dict[str, Any]:
    assert not result.is_error, result.content
    assert result.structured_content is not None
    return dict(result.structured_content)


def error_text(result: Any) -> str:
    assert result.is_error
    return " ".join(c.text for c in result.content)


def test_the_tools_are_listed_read_only_and_say_what_they_are_for():
    async def talk(client: Client) -> Any:
        return (await client.list_tools()).tools

    tools = converse(talk)
    assert {t.name for t in tools} == TOOLS
    for tool in tools:
        assert tool.description and len(tool.description) > 60, tool.name
        assert tool.annotations is not None and tool.annotations.read_only_hint, tool.name
        assert "lang" in tool.input_schema["properties"], tool.name
    described = {t.name: t.description or "" for t in tools}
    assert "never an official commitment" in described["search"]
    assert "not commitments" in described["list_commitments"]


def test_search_answers_with_hits_and_their_citations():
    async def talk(client: Client) -> Any:
        return await client.call_tool("search", {"query": "fentanilo", "lang": "es", "limit": 3})

    answer = data(converse(talk))
    assert answer["lang"] == "es"
    first = answer["hits"][0]
    assert first["id"] == "drug-trafficking-fentanyl" and first["confidence"] == "high"
    assert "fentanilo" in first["title"].lower()  # the title in the reader's language
    assert first["why"] and "fentanilo" in first["why"][0]
    assert first["basis"] in ("official", "news", "analysis")
    cites = first["citations"]
    assert cites and all(c["url"].startswith("https://") for c in cites)
    assert all({"id", "title", "url", "date", "kind", "official"} <= set(c) for c in cites)
    assert "note" not in answer


def test_show_an_entry_with_its_basis_and_citations():
    async def talk(client: Client) -> Any:
        return (
            await client.call_tool("show", {"id": "drug-trafficking-fentanyl", "lang": "fr"}),
            await client.call_tool("show", {"id": "III"}),
            await client.call_tool("sources", {"id": "drug-trafficking-fentanyl"}),
        )

    commitment, pillar, sources = (data(r) for r in converse(talk))
    entry = commitment["entry"]
    assert commitment["lang"] == "fr" and entry["kind"] == "commitment"
    assert entry["id"] == "drug-trafficking-fentanyl" and entry["basis"] == "news"
    cited = open_kb(default_data_dir()).sources_of("drug-trafficking-fentanyl")
    assert [c["id"] for c in commitment["citations"]] == [s.id for s in cited]
    assert pillar["entry"]["id"] == "security" and pillar["entry"]["kind"] == "pillar"
    assert {c["id"] for c in sources["citations"]} == {c["id"] for c in commitment["citations"]}


def test_commentary_says_it_is_not_an_official_commitment():
    kb = open_kb(default_data_dir()).kb()
    note = kb.notes[0]

    async def talk(client: Client) -> Any:
        return await client.call_tool("show", {"id": note.id})

    answer = data(converse(talk))
    assert answer["entry"]["kind"] == "note" and answer["entry"]["basis"] == "commentary"
    assert [c["id"] for c in answer["citations"]] == [note.source]


def test_bad_input_is_a_tool_error_with_cmxs_message_and_the_server_goes_on():
    async def talk(client: Client) -> Any:
        return (
            await client.call_tool("show", {"id": "drug-trafficking-fentanil"}),
            await client.call_tool("changes", {"since": "2026-13-01"}),
            await client.call_tool("summary", {"lang": "de"}),
            await client.call_tool("list_commitments", {"pillar": "securty", "lang": "es"}),
            await client.call_tool("search", {"query": "   "}),
            await client.call_tool("show", {"id": "III"}),  # still serving
        )

    unknown, bad_date, bad_lang, bad_pillar, empty, after = converse(talk)
    assert "did you mean 'drug-trafficking-fentanyl'?" in error_text(unknown)
    assert "'2026-13-01' is not a date" in error_text(bad_date)
    assert "--lang: 'de' is not valid; choose from: en, es, fr" in error_text(bad_lang)
    assert "seguridad" in error_text(bad_pillar)
    assert "the query is empty" in error_text(empty)
    assert data(after)["entry"]["id"] == "security"


def test_list_commitments_and_changes_agree_with_the_api():
    plan = open_kb(default_data_dir(), today="2026-01-01")

    async def talk(client: Client) -> Any:
        return (
            await client.call_tool("list_commitments", {"pillar": "security"}),
            await client.call_tool("changes", {"since": "2025-09-01", "until": "2026-01-01"}),
        )

    listed, changed = (data(r) for r in converse(talk, build_server(plan)))
    from cmx.filters import Filters

    assert [r["id"] for r in listed["commitments"]] == [
        c.id for c in plan.commitments(Filters(pillar="security"))
    ]
    assert listed["count"] == len(listed["commitments"]) and listed["citations"]
    assert [r["id"] for r in changed["changes"]] == [
        r["id"] for r in plan.changes(since="2025-09-01", until="2026-01-01")
    ]
    sources = {c["id"] for c in changed["citations"]}
    assert {r["source"] for r in changed["changes"]} <= sources


def test_the_summary_and_the_resources():
    async def talk(client: Client) -> Any:
        resources = [str(r.uri) for r in (await client.list_resources()).resources]
        templates = [
            t.uri_template for t in (await client.list_resource_templates()).resource_templates
        ]
        pillars = await client.read_resource("cmx://pillars/es")
        overview = await client.read_resource("cmx://overview")
        summary = await client.call_tool("summary", {"lang": "fr", "pillar": "security"})
        return resources, templates, pillars, overview, summary

    resources, templates, pillars, overview, summary = converse(talk)
    assert resources == ["cmx://pillars", "cmx://overview"]
    assert templates == ["cmx://pillars/{lang}", "cmx://overview/{lang}"]
    listed = json.loads(pillars.contents[0].text)
    assert listed["lang"] == "es" and [p["name"] for p in listed["pillars"]][2] == "Seguridad"
    assert listed["citations"]
    assert overview.contents[0].text.startswith("# ")
    page = data(summary)
    assert page["lang"] == "fr" and page["markdown"].startswith("# ") and page["citations"]


def test_calls_in_flight_together_each_get_their_own_answer():
    ids = ["drug-trafficking-fentanyl", "security", "prosperity", "mobility", "environment"]

    async def talk(client: Client) -> Any:
        calls = [client.call_tool("show", {"id": i, "lang": "es"}) for i in ids]
        calls += [client.call_tool("search", {"query": q}) for q in ("fentanilo", "energía")]
        calls.append(client.call_tool("show", {"id": "nope-nope"}))
        return await asyncio.gather(*calls)

    *shown, fentanyl, energy, miss = converse(talk)
    assert [data(r)["entry"]["id"] for r in shown] == ids
    assert all(data(r)["lang"] == "es" for r in shown)
    assert data(fentanyl)["hits"][0]["id"] == "drug-trafficking-fentanyl"
    assert data(energy)["hits"]
    assert "no entry with id 'nope-nope'" in error_text(miss)


def _env() -> dict[str, str]:
    return {**os.environ, "CMX_QUIET": "1", "CMX_TODAY": "2026-01-01"}


def test_cmx_mcp_over_stdio_in_a_subprocess():
    params = StdioServerParameters(command=sys.executable, args=["-m", "cmx", "mcp"], env=_env())

    async def talk(client: Client) -> Any:
        tools = {t.name for t in (await client.list_tools()).tools}
        found = await client.call_tool("search", {"query": "fentanilo", "limit": 2})
        missing = await client.call_tool("show", {"id": "drug-trafficking-fentanil"})
        return tools, found, missing

    tools, found, missing = converse(talk, params)  # leaving the client ends the process
    assert tools == TOOLS
    assert data(found)["hits"][0]["citations"][0]["url"].startswith("https://")
    assert "did you mean" in error_text(missing)


def test_cmx_mcp_without_the_extra_says_how_to_add_it():
    script = (
        "import sys; sys.modules['mcp'] = None; sys.argv = ['cmx', 'mcp']; "
        "from cmx.process import main; main()"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        env=_env(),
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        'cmx: error: the MCP server needs the mcp extra: pip install "cmx[mcp]"'
    ]
    assert result.stdout == ""


@pytest.mark.parametrize("args", [["pillars"], ["search", "energía"], ["--help"]])
def test_other_commands_never_import_the_sdk(args):
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "cmx", *args],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        env=_env(),
        check=False,
    )
    assert result.returncode == 0, result.stderr
    modules = {
        line.split("|")[-1].strip().split(".")[0]
        for line in result.stderr.splitlines()
        if line.startswith("import time:")
    }
    assert modules and "cmx" in modules
    assert not modules & {"mcp", "mcp_types", "anyio", "pydantic", "starlette", "httpx"}


def test_cmx_mcp_on_a_broken_knowledge_base_exits_2_before_serving(runner, kb_copy):
    from cmx.cli import app

    (kb_copy / "pillars.yaml").write_text("pillars:\n  - title: no id\n")
    result = runner.invoke(app, ["--data", str(kb_copy), "mcp"])
    assert result.exit_code == 2 and "pillars.yaml:2" in result.stderr
    assert result.stdout == ""
