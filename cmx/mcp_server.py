"""`cmx mcp`: the knowledge base for AI assistants, as a Model Context Protocol server.

Built on the official `mcp` SDK (an optional extra: pip install "cmx[mcp]"), over
stdio. Its tools read only, and call cmx.api: the same filters, the same resolvers,
the same messages as the command line. Every answer carries the reader's language
(`lang`) and its citations: for each source its id, title, publisher, URL, date and
kind (official, official-reproduced, news or analysis), and whether it is official.
Commitments say their basis (the best kind of source behind them); commentary notes
are analysis, never official commitments, and say so.

A value the assistant got wrong (an unknown id, a bad date, a language cmx does not
speak) comes back as a tool error carrying cmx's message, "did you mean" included; the
server goes on serving. Tools run one at a time on the server's event loop: the store
is a SQLite connection that belongs to the thread that opened it, and each answer
takes milliseconds.

This module imports the SDK at the top: only `cmx mcp` imports it, so no other
command pays for it.
"""

from __future__ import annotations

import functools
import gc
from collections.abc import Callable, Iterable
from typing import Annotated, Any, TypeVar

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ToolError
from mcp.types import ToolAnnotations
from pydantic import Field

from cmx import __version__
from cmx.api import Plan
from cmx.errors import CmxError, KBError
from cmx.filters import Filters
from cmx.i18n import translator
from cmx.model import Commitment, KnowledgeBase, Note, Pillar, Sector, Source, kind_of
from cmx.output import Hits, why_text
from cmx.rows import actor_row, commitment_row, entry_row, hit_row, pillar_row

COMMENTARY = (
    "Commentary notes (kind 'note') are analysis or interpretation, never an official "
    "commitment; a commitment whose basis is 'news' or 'analysis' has no official text "
    "behind it yet."
)
INSTRUCTIONS = (
    "A read-only knowledge base of the Canada–Mexico Comprehensive Strategic Partnership "
    "and its Action Plan 2025–2028: four pillars, their priority areas, the commitments, "
    "their sources and commentary on them. Every answer lists its citations (source id, "
    "title, publisher, URL, date, kind, official or not): cite them when you use a fact. "
    f"{COMMENTARY} Each tool takes `lang` (en, es or fr) for the text of its answer."
)

Lang = Annotated[str, Field(description="Language of the answer: en, es or fr.")]
PillarArg = Annotated[
    str | None,
    Field(
        description="A pillar by id, number or name in any language (security, III, "
        "seguridad), or 'plan-wide' for the plan's own governance."
    ),
]
DateArg = Annotated[str | None, Field(description="A date, YYYY-MM-DD.")]
READ_ONLY = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True)

F = TypeVar("F", bound=Callable[..., Any])


# ------------------------------------------------------------------------ answers


def citation(s: Source) -> dict[str, Any]:
    """One source as an answer cites it."""
    return {
        "id": s.id,
        "title": s.title,
        "publisher": s.publisher,
        "url": s.url,
        "date": s.date,
        "kind": s.kind.value,
        "official": s.official,
    }


def citations(kb: KnowledgeBase, source_ids: Iterable[str]) -> list[dict[str, Any]]:
    """The sources named, each once, in the order first named."""
    return [citation(s) for sid in dict.fromkeys(source_ids) if (s := kb.source(sid))]


def cited_ids(entry: object) -> list[str]:
    """The ids of the sources an entry rests on (a source: itself)."""
    if isinstance(entry, Source):
        return [entry.id]
    if isinstance(entry, Commitment):
        return entry.cited()
    if isinstance(entry, Note):
        return [entry.source]
    if isinstance(entry, Pillar | Sector):
        return [c.source for c in entry.sources]
    return []


def basis_of(kb: KnowledgeBase, entry: object) -> str:
    """What kind of statement an entry is: a commitment's basis (official, news,
    analysis), 'commentary' for a note, a source's kind; structure (pillars, priority
    areas) 'official' when an official text names it."""
    if isinstance(entry, Commitment):
        return kb.basis(entry).value
    if isinstance(entry, Note):
        return "commentary"
    if isinstance(entry, Source):
        return entry.kind.value
    if isinstance(entry, Sector) and not entry.official:
        return "reconstructed"
    cited = [s for x in cited_ids(entry) if (s := kb.source(x))]
    return "official" if any(s.official for s in cited) else "reported"


def answer(lang: str, kb: KnowledgeBase, source_ids: Iterable[str], **data: Any) -> dict[str, Any]:
    """An answer: its data, its language and its citations."""
    return {"lang": lang, **data, "citations": citations(kb, source_ids)}


def _cmx_errors(fn: F) -> F:
    """cmx's own errors become tool errors carrying its message, so that the client
    reads "did you mean…" and the server goes on; anything else is a bug (the SDK
    answers it with a generic tool error, and logs the traceback on stderr)."""

    @functools.wraps(fn)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return await fn(*args, **kwargs)
        except (CmxError, KBError) as error:
            raise ToolError(str(error)) from None

    return wrapper  # type: ignore[return-value]


# ------------------------------------------------------------------------ the server


def build_server(plan: Plan) -> MCPServer:
    """The MCP server of one opened knowledge base (tested in process with the SDK's
    `Client(server)`; `serve` runs it over stdio)."""
    server = MCPServer(
        "cmx",
        title="Canada–Mexico Action Plan 2025–2028",
        instructions=INSTRUCTIONS,
        version=__version__,
        log_level="WARNING",  # stderr: a failed call is the client's to show, not ours
    )

    # Tools are coroutines: they run on the event loop's thread, the one the store's
    # SQLite connection belongs to (a plain function would run in a worker thread).

    @server.tool(
        annotations=READ_ONLY,
        description="Search everything (pillars, priority areas, commitments, commentary "
        "notes, sources) in English, Spanish or French, typo-tolerant. Each hit has its "
        "kind, id, title, snippet, confidence (high, medium, low), why it matched, its "
        f"basis and citations. Use `show` for an entry in full. {COMMENTARY}",
    )
    @_cmx_errors
    async def search(
        query: Annotated[str, Field(description="Words to look for, e.g. fentanilo.")],
        lang: Lang = "en",
        kind: Annotated[
            str | None, Field(description="Only pillar, sector, commitment, note or source.")
        ] = None,
        pillar: PillarArg = None,
        limit: Annotated[int, Field(ge=1, le=50, description="How many hits.")] = 10,
    ) -> dict[str, Any]:
        hits = plan.search(query, kind=kind, pillar=pillar, limit=limit, lang=lang)
        kb = plan.kb()
        t = translator(lang)
        plan_wide = kb.plan_wide_sectors()
        rows = []
        for h in hits:
            row = hit_row(h, lang, plan_wide=plan_wide)
            rows.append(
                {
                    **{k: row[k] for k in ("kind", "id", "pillar", "title", "snippet")},
                    "confidence": h.confidence,
                    "why": [why_text(w, t) for w in h.why],
                    "basis": basis_of(kb, h.entry),
                    "citations": citations(kb, cited_ids(h.entry)),
                }
            )
        suggested = plan.suggestions(query) if not hits else []
        verdict = Hits(hits, rows, [], suggestions=suggested, columns=[]).verdict(t)
        note = {"note": verdict} if verdict else {}
        return {"lang": lang, "query": query, "hits": rows, **note}

    @server.tool(
        annotations=READ_ONLY,
        description="One entry in full by its id (or the plan's number: III, I.1): a "
        "pillar, priority area, commitment, commentary note, source or actor, with its "
        "basis, its events and the sources it cites. An unknown id is an error that "
        f"suggests the closest id. {COMMENTARY}",
    )
    @_cmx_errors
    async def show(
        id: Annotated[str, Field(description="An entry id, e.g. drug-trafficking-fentanyl.")],
        lang: Lang = "en",
        today: DateArg = None,
    ) -> dict[str, Any]:
        entry = plan.get(id, lang=lang)
        kb = plan.kb()
        day = plan.day(today, lang=lang)
        if isinstance(entry, Pillar | Sector | Commitment | Note | Source):
            row = entry_row(entry, kb, lang, day)
        else:
            row = actor_row(entry, kb, lang)
        extra: dict[str, Any] = {}
        if isinstance(entry, Commitment):
            extra["commentary"] = [n.id for n in kb.notes if entry.id in n.related]
        return answer(
            lang,
            kb,
            cited_ids(entry),
            entry={"kind": kind_of(entry), **row, "basis": basis_of(kb, entry), **extra},
        )

    @server.tool(
        annotations=READ_ONLY,
        description="The commitments of the plan, filtered as `cmx commitments` filters "
        "them (every filter optional; values in any language): each with its pillar, "
        "status, due date, basis and cited sources. Commentary notes are never listed "
        "here: they are not commitments.",
    )
    @_cmx_errors
    async def list_commitments(
        pillar: PillarArg = None,
        sector: Annotated[str | None, Field(description="A priority area by id or name.")] = None,
        status: Annotated[
            str | None, Field(description="planned, underway, completed or not-pursued.")
        ] = None,
        instrument: Annotated[
            str | None, Field(description="e.g. agreement, funding, dialogue.")
        ] = None,
        actor: Annotated[str | None, Field(description="An actor's name or acronym.")] = None,
        source: Annotated[
            str | None, Field(description="Only those citing this source id.")
        ] = None,
        tag: Annotated[str | None, Field(description="Only those with this tag.")] = None,
        due_before: DateArg = None,
        overdue: Annotated[bool, Field(description="Only those past due and still open.")] = False,
        basis: Annotated[
            str | None, Field(description="official, news or analysis: the best source kind.")
        ] = None,
        lang: Lang = "en",
        today: DateArg = None,
    ) -> dict[str, Any]:
        filters = Filters(
            pillar=pillar, sector=sector, status=status, instrument=instrument, actor=actor,
            source=source, tag=tag, due_before=due_before, overdue=overdue, basis=basis,
        )  # fmt: skip
        day = plan.day(today, lang=lang)
        items = plan.commitments(filters, lang=lang, today=day)
        kb = plan.kb()
        rows = [commitment_row(c, kb, lang, day) for c in items]
        return answer(
            lang,
            kb,
            (sid for c in items for sid in c.cited()),
            count=len(rows),
            commitments=rows,
        )

    @server.tool(
        annotations=READ_ONLY,
        description="What happened in a period (default: the 90 days up to today): "
        "events, status changes and deadlines that fell due, grouped by pillar, newest "
        "first, each with the source that records it.",
    )
    @_cmx_errors
    async def changes(
        since: DateArg = None,
        until: DateArg = None,
        pillar: PillarArg = None,
        lang: Lang = "en",
    ) -> dict[str, Any]:
        rows = plan.changes(since=since, until=until, pillar=pillar, lang=lang)
        return answer(lang, plan.kb(), (r["source"] for r in rows), count=len(rows), changes=rows)

    @server.tool(
        annotations=READ_ONLY,
        description="The one-page summary of the plan in Markdown (where things stand, "
        "what changed, what is due, highlights per pillar), every fact line numbered to "
        "its source; optionally for one pillar.",
    )
    @_cmx_errors
    async def summary(
        lang: Lang = "en",
        pillar: PillarArg = None,
        since: Annotated[
            str | None, Field(description="What changed since this date (YYYY-MM-DD).")
        ] = None,
    ) -> dict[str, Any]:
        filters = Filters(pillar=pillar)
        items = plan.commitments(filters, lang=lang)
        text = plan.summary(filters, lang=lang, since=since)
        kb = plan.kb()
        return answer(lang, kb, (sid for c in items for sid in c.cited()), markdown=text)

    @server.tool(
        annotations=READ_ONLY,
        description="The sources an entry cites (id, title, publisher, URL, date, kind, "
        "official or not), to check a fact or quote it. Official and "
        "official-reproduced sources are the governments' texts; news and analysis are not.",
    )
    @_cmx_errors
    async def sources(
        id: Annotated[str, Field(description="An entry id (a commitment, note, pillar…).")],
        lang: Lang = "en",
    ) -> dict[str, Any]:
        found = plan.sources_of(id, lang=lang)
        entry = plan.get(id, lang=lang)
        kb = plan.kb()
        return answer(lang, kb, (s.id for s in found), id=id, basis=basis_of(kb, entry))

    # -------------------------------------------------------------- resources

    def pillars_json(lang: str) -> dict[str, Any]:
        try:
            pillars = plan.pillars(lang=lang)
            counts = plan.counts()
        except (CmxError, KBError) as error:
            raise ResourceError(str(error)) from None
        kb = plan.kb()
        rows = [pillar_row(p, counts, lang) for p in pillars]
        return answer(lang, kb, (x.source for p in pillars for x in p.sources), pillars=rows)

    def overview(lang: str) -> str:
        try:
            return plan.summary(lang=lang)
        except (CmxError, KBError) as error:
            raise ResourceError(str(error)) from None

    @server.resource(
        "cmx://pillars",
        name="pillars",
        description="The four pillars with their priority areas and counts (JSON, English).",
        mime_type="application/json",
    )
    async def pillars_en() -> dict[str, Any]:
        return pillars_json("en")

    @server.resource(
        "cmx://pillars/{lang}",
        name="pillars-in",
        description="The pillars in a language: en, es or fr (JSON).",
        mime_type="application/json",
    )
    async def pillars_in(lang: str) -> dict[str, Any]:
        return pillars_json(lang)

    @server.resource(
        "cmx://overview",
        name="overview",
        description="The plan at a glance: the one-page cited summary (Markdown, English).",
        mime_type="text/markdown",
    )
    async def overview_en() -> str:
        return overview("en")

    @server.resource(
        "cmx://overview/{lang}",
        name="overview-in",
        description="The one-page cited summary in a language: en, es or fr (Markdown).",
        mime_type="text/markdown",
    )
    async def overview_in(lang: str) -> str:
        return overview(lang)

    return server


def serve(plan: Plan) -> None:
    """Serve `plan` over stdio until the client closes the connection."""
    gc.enable()  # cmx.process turns it off for short runs; a server runs for long
    build_server(plan).run("stdio")
