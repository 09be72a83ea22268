"""Markdown for memos: the one-page summary, the full dossier and the list of changes.

Every fact line carries a numbered citation that resolves to a Sources list holding
only what the text cites."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Sequence
from enum import IntEnum

from cmx import __version__
from cmx.detail import locator, publisher_of
from cmx.i18n import LANGUAGE_TABLE, Translator, translator
from cmx.model import (
    CLOSED,
    PLAN_WIDE,
    Basis,
    Commitment,
    Event,
    Instrument,
    KnowledgeBase,
    Pillar,
    Sector,
    SourceKind,
    Status,
    date_bounds,
)
from cmx.tracking import shift, status_on


def _labels(t: Translator) -> dict[str, str]:
    """The brief's words in the translator's language (catalog messages)."""
    _ = t.gettext
    return {
        "title": _("Canada–Mexico Action Plan 2025–2028: dossier"),
        "generated": _("Generated {today} with cmx {version}; newest source dated {newest}."),
        "selection": _("Selection: {n} of {total} commitments."),
        "overview": _("Overview"),
        "pillar": _("Pillar"),
        "total": _("Total"),
        "map": _("Map of pillars and priority areas"),
        "about": _("About the sources"),
        "about_text": _(
            "The published text of the plan numbers and titles only its first priority area "
            "(I.1). Headings marked † are reconstructed from official releases and news. "
            "Each commitment states its basis: official when an official text supports it, "
            "otherwise news or analysis; such entries are marked ‡."
        ),
        "whole_plan": _("Whole plan (governance)"),
        "status": _("Status"),
        "due": _("Due"),
        "instrument": _("Instrument"),
        "actors": _("Actors"),
        "no_actors": _("not named in the sources"),
        "reviewed": _("Last reviewed against its sources"),
        "amount": _("Amount"),
        "events": _("Events"),
        "basis": _("Basis"),
        "commentary": _("Commentary (analysis, not official commitments)"),
        "commentary_intro": _(
            "Claims made by analysts about the plan, with how far the official text supports them."
        ),
        "support": _("support"),
        "related": _("Related"),
        "sources": _("Sources"),
        "no_url": _("(no URL recorded)"),
        "no_date": _("n.d."),
        "label": _("{label}: {value}"),
    }


class _Citations:
    """Cites a source in the version the reader's language calls for (KnowledgeBase.
    version), with its locator in that language: numbered in order of first use
    (`[1, para. 4]`), or as pandoc citation keys (`[@source-id, para. 4]`)."""

    def __init__(
        self, kb: KnowledgeBase | None = None, tr: Translator | None = None, style: str = "numbered"
    ) -> None:
        self.order: list[str] = []
        self.kb, self.tr, self.style = kb, tr, style
        self._versions: dict[str, str] = {}

    def chosen(self, source_id: str) -> str:
        """The id cited for `source_id` (its version in the reader's language)."""
        if self.kb is None or self.tr is None:
            return source_id
        if source_id not in self._versions:
            self._versions[source_id] = self.kb.version(source_id, self.tr.lang)
        return self._versions[source_id]

    def ref(self, source_id: str, section: str | None = None) -> str:
        source_id = self.chosen(source_id)
        if source_id not in self.order:
            self.order.append(source_id)
        if section and self.tr is not None:
            section = locator(section, self.kb, self.tr)
        if self.style == "pandoc":
            return f"[@{source_id}, {md(section)}]" if section else f"[@{source_id}]"
        n = self.order.index(source_id) + 1
        return f"[{n}, {md(section)}]" if section else f"[{n}]"


def front_matter(title: str, day: dt.date, tr: Translator) -> list[str]:
    """YAML front matter for pandoc: the title, the date, and the language (so a DOCX
    or HTML file is tagged es-MX or fr-CA, not en-US)."""
    lang = LANGUAGE_TABLE[tr.lang].locale.replace("_", "-")
    return [
        "---",
        f"title: {json.dumps(title, ensure_ascii=False)}",
        f"date: {json.dumps(tr.day(day), ensure_ascii=False)}",
        f"lang: {lang}",
        "---",
        "",
    ]


# ------------------------------------------------------------------------ escaping

# Markdown punctuation that starts markup anywhere in a line (code, emphasis, links,
# strike-through, table cells, headings); raw HTML and entities are written as entities.
_MD_ANYWHERE = str.maketrans(
    {c: "\\" + c for c in "\\`*_[]#|~"} | {"<": "&lt;", ">": "&gt;", "&": "&amp;"}
)
# Line breaks and other control characters become a space (a knowledge-base text is
# one paragraph, one list item or one table cell); bidirectional controls go.
_MD_BREAKS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
_MD_BIDI = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# What starts a block at the start of a line: a list, quote, heading, definition,
# fenced div... (any ASCII punctuation), or an ordered list ("1.", "iv)", "A.").
_MD_LEADING = re.compile(r"[!-/:-@^{}]|([0-9A-Za-z]{1,9})([.)])")


def md(text: str, *, starts_line: bool = False) -> str:
    """Knowledge-base text as Markdown that shows exactly that text, and never makes
    markup: no HTML, no link, no emphasis, no code, no new block (CommonMark, GitHub
    and pandoc alike). Every piece of knowledge-base text a writer puts in Markdown
    goes through it; `starts_line`: it begins a line (a paragraph), where "1." or "-"
    would start a list."""
    flat = _MD_BREAKS.sub(" ", _MD_BIDI.sub("", text)).strip(" ")
    escaped = flat.translate(_MD_ANYWHERE)
    lead = _MD_LEADING.match(escaped) if starts_line else None
    if lead is None:
        return escaped
    if lead.group(2):  # "1." -> "1\."
        return f"{lead.group(1)}\\{lead.group(2)}{escaped[lead.end() :]}"
    return "\\" + escaped


def md_url(url: str) -> str:
    """A source's URL as a Markdown autolink (http and https only, as kb.py checks;
    anything that could end the link is %-encoded), else as plain text."""
    if not re.match(r"(?i:https?)://", url):
        return md(url)
    safe = re.sub(r'[\s<>"\\`\x00-\x1f\x7f]', lambda m: f"%{ord(m.group()):02X}", url)
    return f"<{safe}>"


def _mermaid_text(text: str) -> str:
    """A label of the mind map (a code block: nothing that ends a label or the block)."""
    flat = _MD_BREAKS.sub(" ", _MD_BIDI.sub("", text))
    return "".join(ch for ch in flat if ch not in '()[]{}"`<>&').strip()


def to_markdown(
    kb: KnowledgeBase,
    items: Sequence[Commitment],
    *,
    lang: str = "en",
    today: dt.date,
    mindmap: bool = False,
    cite: str = "numbered",
    front: bool = False,
) -> str:
    """The full dossier of `items` (`cmx export markdown --full`): every commitment with
    its facts, events and citations, the commentary, and the Sources list (`cite`:
    numbered, or pandoc keys for citeproc); `front`: YAML front matter for pandoc;
    `mindmap`: a Mermaid mind map of the pillars (only on request: most converters
    print it as code)."""
    tr = translator(lang)
    t = _labels(tr)
    cites = _Citations(kb, tr, cite)
    chosen = {c.id for c in items}
    dates = [s.date for s in kb.sources if s.date]
    newest = max(dates, key=lambda d: date_bounds(d)[0]) if dates else "—"
    head = front_matter(t["title"], today, tr) if front else [f"# {t['title']}", ""]
    lines = [
        *head,
        t["generated"].format(
            today=tr.day(today),
            version=__version__,
            newest=tr.date(newest) if newest != "—" else newest,
        ),
        t["selection"].format(n=len(items), total=len(kb.commitments)),
        "",
        f"## {t['overview']}",
        "",
    ]
    lines += _status_rows(kb, items, tr)
    lines.append("")
    if mindmap:
        lines += [f"### {t['map']}", "", "```mermaid", "mindmap"]
        lines.append(f"  root(({_mermaid_text(t['title'].split(':')[0])}))")
        for p in kb.pillars:
            sectors = [
                s for s in p.sectors if not s.plan_wide and any(c.sector == s.id for c in items)
            ]
            if not sectors:
                continue
            lines.append(f"    {_mermaid_text(p.number + '. ' + p.name.get(lang))}")
            for s in sectors:
                label = f"{s.number} {s.name.get(lang)}" if s.number else s.name.get(lang)
                lines.append(f"      {_mermaid_text(label)}")
        lines += ["```", ""]
    lines += [f"## {t['about']}", "", t["about_text"], ""]
    plan_wide = kb.plan_wide_sectors()
    for p in kb.pillars:
        mine = [c for c in items if c.pillar == p.id and c.sector not in plan_wide]
        if not mine:
            continue
        refs = "".join(dict.fromkeys(cites.ref(c.source, c.section) for c in p.sources))
        lines += [f"## {md(p.number)}. {md(p.name.get(lang))}", ""]
        lines += [f"{md(p.summary.get(lang), starts_line=True)} {refs}", ""]
        lines += _sectors(kb, p.sectors, mine, lang, cites, today, tr, level="###")
    governance = [c for c in items if c.sector in plan_wide]
    if governance:
        lines += [f"## {t['whole_plan']}", ""]
        sectors = [s for s in kb.sectors if s.plan_wide]
        lines += _sectors(kb, sectors, governance, lang, cites, today, tr, level="###")
    notes = [n for n in kb.notes if chosen.intersection(n.related)]
    if notes:
        lines += [f"## {t['commentary']}", "", t["commentary_intro"], ""]
        for n in notes:
            related = ", ".join(md(r) for r in n.related if r in chosen)
            support = t["label"].format(
                label=t["support"], value=tr.code("support", n.support.value)
            )
            related_line = t["label"].format(label=t["related"], value=related)
            lines.append(
                f"- **{md(n.title.get(lang))}** ({support}). "
                f"{md(n.claim.get(lang))} {cites.ref(n.source, n.section)} _{related_line}_"
            )
        lines.append("")
    lines += _sources_list(kb, cites, tr)
    return "\n".join(lines).rstrip() + "\n"


def _sectors(
    kb: KnowledgeBase,
    sectors: Sequence[Sector],
    items: Sequence[Commitment],
    lang: str,
    cites: _Citations,
    today: dt.date,
    tr: Translator,
    *,
    level: str,
) -> list[str]:
    """The commitments of each priority area, under its heading († when reconstructed)."""
    lines: list[str] = []
    for s in sectors:
        in_sector = [c for c in items if c.sector == s.id]
        if not in_sector:
            continue
        name = md(s.name.get(lang))
        heading = f"{md(s.number)} {name}" if s.number else name
        lines += [f"{level} {heading}{'' if s.official else ' †'}", ""]
        for c in in_sector:
            lines += _commitment_block(c, kb, lang, cites, today, tr)
    return lines


def _status_rows(kb: KnowledgeBase, items: Sequence[Commitment], tr: Translator) -> list[str]:
    """A Markdown table: commitments by status for each pillar, then the plan's own
    governance in a row of its own, then the total."""
    statuses = list(Status)
    shown = [tr.code("status", s.value) for s in statuses]
    t = _labels(tr)
    lines = ["| " + " | ".join([t["pillar"], *shown, t["total"]]) + " |"]
    lines.append("|" + "---|" * (len(statuses) + 2))
    groups = [(f"{md(p.number)}. {md(p.name.get(tr.lang))}", p.id) for p in kb.pillars]
    groups.append((t["whole_plan"], PLAN_WIDE))
    for label, scope in groups:
        mine = [c for c in items if kb.scope(c) == scope]
        if mine:
            counts = [str(sum(1 for c in mine if c.status is s)) for s in statuses]
            lines.append(f"| {label} | " + " | ".join(counts) + f" | {len(mine)} |")
    if len(lines) > 3:  # more than one row: their total
        totals = [str(sum(1 for c in items if c.status is s)) for s in statuses]
        lines.append(f"| {t['total']} | " + " | ".join(totals) + f" | {len(items)} |")
    return lines


def _fact(tr: Translator, label: str, value: str) -> str:
    """**Label:** value, with the language's own colon ("Statut : …" in French)."""
    return f"**{label}{tr.colon()}** {value}".rstrip()


def _commitment_block(
    c: Commitment, kb: KnowledgeBase, lang: str, cites: _Citations, today: dt.date, tr: Translator
) -> list[str]:
    """One commitment: heading, key facts, summary with citations, actors, amount, events."""
    t = _labels(tr)
    status = tr.code("status", c.status.value)
    if c.is_overdue(today):
        status += f" ({tr.code('mark', 'overdue')})"
    facts = [_fact(tr, t["status"], status)]
    if c.due:
        facts.append(_fact(tr, t["due"], tr.date(c.due)))
    if c.instrument is not Instrument.OTHER:  # "other" says nothing: left out
        facts.append(_fact(tr, t["instrument"], tr.code("instrument", c.instrument.value)))
    basis = kb.basis(c)
    facts.append(_fact(tr, t["basis"], tr.code("basis", basis.value)))
    # two sources may be cited by one version in the reader's language: each once
    refs = "".join(dict.fromkeys(cites.ref(x.source, x.section) for x in c.sources))
    mark = "" if basis is Basis.OFFICIAL else " ‡"
    lines = [f"#### {md(c.title.get(lang))}{mark}", "", " · ".join(facts), ""]
    lines += [f"{md(c.summary.get(lang), starts_line=True)} {refs}", ""]
    named = ", ".join(md(kb.actor_name(a, lang)) for a in c.actors) or f"_{t['no_actors']}_"
    lines += [_fact(tr, t["actors"], named), ""]
    if c.amount:
        a = c.amount
        ref = cites.ref(a.source) if a.source else ""
        stage = tr.code("stage", a.stage.value)
        lines += [_fact(tr, t["amount"], f"{tr.amount(a.value, a.currency)} ({stage}) {ref}"), ""]
    if c.events:
        lines += [_fact(tr, t["events"], ""), ""]
        lines += [
            f"- {tr.date(e.date)}: {md(e.what.get(lang))} {cites.ref(e.source)}" for e in c.events
        ]
        lines.append("")
    if c.reviewed:
        lines += ["_" + t["label"].format(label=t["reviewed"], value=tr.date(c.reviewed)) + "_", ""]
    return lines


def changes_markdown(
    kb: KnowledgeBase,
    rows: Sequence[dict[str, object]],
    *,
    since: dt.date,
    until: dt.date,
    lang: str,
) -> str:
    """`cmx changes` as Markdown: a heading per pillar (the plan's own governance last),
    newest first, each line with its numbered source; a Sources list at the end."""
    tr = translator(lang)
    _ = tr.gettext
    cites = _Citations(kb, tr)
    lines = [
        "# "
        + _("Changes from {since} to {until}").format(since=tr.day(since), until=tr.day(until)),
        "",
    ]
    scopes = [*(p.id for p in kb.pillars), PLAN_WIDE]
    for scope in scopes:
        mine = [r for r in rows if r["pillar"] == scope]
        if not mine:
            continue
        lines += [f"## {_scope_name(kb, scope, tr)}", ""]
        for r in mine:
            lines.append(f"- {_change_line(r, tr)} {cites.ref(str(r['source']))}")
        lines.append("")
    if not rows:
        lines += [_("Nothing recorded in this period."), ""]
    lines += _sources_list(kb, cites, tr)
    return "\n".join(lines).rstrip() + "\n"


def _scope_name(kb: KnowledgeBase, scope: str, tr: Translator) -> str:
    """A pillar's number and name, or the heading of the plan's own governance."""
    if scope == PLAN_WIDE:
        return tr.gettext("Whole plan (governance)")
    pillar = kb.get(scope)
    if not isinstance(pillar, Pillar):
        return md(scope)
    return f"{md(pillar.number)}. {md(pillar.name.get(tr.lang))}"


def _change_line(r: dict[str, object], tr: Translator) -> str:
    """One change: date, commitment, and what happened (an event, a status change or a
    deadline that fell due, with the status reached by then)."""
    c = tr.colon()
    when = tr.date(str(r["date"]))
    title = f"**{md(str(r['title']))}**"
    status = tr.code("status", str(r["status"])) if r.get("status") else ""
    if r["type"] == "deadline":
        text = tr.gettext("deadline reached; status then: {status}").format(status=status)
        return f"{when}{c} {title}{c} {text}."
    if r["type"] == "status":
        moved = tr.gettext("now {status}").format(status=status)
        return f"{when}{c} {title} ({moved}){c} {md(str(r['what']))}"
    return f"{when}{c} {title}{c} {md(str(r['what']))}"


def _sources_list(kb: KnowledgeBase, cites: _Citations, tr: Translator) -> list[str]:
    """The numbered Sources list: only what the text cites, in order of first use."""
    t = _labels(tr)
    if not cites.order:
        return []
    if cites.style == "pandoc":  # citeproc writes the references into this div
        return [f"## {t['sources']}", "", "::: {#refs}", ":::"]
    lines = [f"## {t['sources']}", ""]
    for i, sid in enumerate(cites.order, 1):
        src = kb.source(sid)
        if src is None:
            continue
        when = tr.date(src.date) if src.date else t["no_date"]
        url = md_url(src.url) if src.url else t["no_url"]
        kind = tr.code("source_kind", src.kind.value)
        stop = "" if when.endswith(".") else "."
        kind = kind[:1].upper() + kind[1:]  # it starts a sentence
        title, publisher = md(src.title), md(publisher_of(src, kb, tr))
        lines.append(f"{i}. {title}. {publisher}, {when}{stop} {kind}. {url}")
    return lines


SOON_DAYS = 183  # "falls due in the next six months"
# How much the summary shows, most first; it takes the first that fits its page:
# (what changed, deadlines, highlights per pillar).
SUMMARY_SHAPES = (  # deadlines are kept longest, then one highlight per pillar
    (4, 3, 2),
    (3, 3, 2),
    (3, 3, 1),
    (2, 3, 1),
    (1, 3, 1),
    (1, 2, 1),
    (1, 1, 1),
    (1, 1, 0),  # a pillar that cannot fit half a page otherwise: no highlight
)
# The page it must fit, as pandoc's standalone HTML prints in Chromium (its stylesheet:
# Georgia 16 px, 24 px lines, 16 px between blocks, a 576 px column; Letter with
# Chromium's default margins gives 979 px of height, A4 1045 px). bench/pages.py
# measures the real thing; these estimates only choose how much to show.
PAGE_PX = 880  # the whole plan: one Letter page (979 px, less the 66 px under the last line)
PILLAR_PX = 520  # one pillar: half a Letter page (the estimate runs 10-35 px high)
LINE_PX, GAP_PX = 24, 16
TITLE_PX, TITLE_LINE_PX, TITLE_CHARS = 204, 48, 38  # the title block, each title line
PARA_CHARS, ITEM_CHARS = 82, 76  # characters per printed line: paragraph, list item
LATEST_DAYS = 120  # an empty window: the latest developments, within this of the newest


class Tier(IntEnum):
    """The significance rule: what a summary shows first (docs/summary.md). Lower wins;
    within a tier, the newer fact first."""

    CLOSED = 0  # a status change that completes or drops a commitment (an MoU signed)
    MOVED = 1  # another status change (work began)
    MONEY = 2  # an amount of money
    DEADLINE = 3  # a due date, or a deadline that fell due
    OUTCOME = 4  # a dated outcome of a leaders' or ministers' meeting or dialogue
    OTHER = 5  # logistics, context
    COMMENTARY = 6  # what an analyst or a blog said (never an official commitment)


# Commitments whose events are meetings of leaders and ministers (their outcomes count).
MEETING_INSTRUMENTS = frozenset(
    {Instrument.MEETING, Instrument.DIALOGUE, Instrument.MOU, Instrument.AGREEMENT}
)


class Fact:
    """One dated thing a summary can say about a commitment, with the source that
    states it and its significance (Tier)."""

    __slots__ = ("commitment", "date", "event", "source", "tier")

    def __init__(
        self, commitment: Commitment, date: str, tier: Tier, source: str, event: Event | None
    ) -> None:
        self.commitment, self.date, self.tier = commitment, date, tier
        self.source, self.event = source, event

    def key(self) -> tuple[int, int, str]:
        """Most significant first, then newest, then the plan's order (stable)."""
        return (self.tier, -date_bounds(self.date)[0].toordinal(), self.commitment.id)


def event_tier(kb: KnowledgeBase, c: Commitment, e: Event) -> Tier:
    """Where an event stands in the significance rule (see Tier)."""
    if e.status in CLOSED:
        return Tier.CLOSED
    if e.status is not None:
        return Tier.MOVED
    src = kb.source(e.source)
    if src is not None and src.kind is SourceKind.ANALYSIS:
        return Tier.COMMENTARY
    dated = len(e.date) == len("2026-01-01")
    if dated and (c.instrument in MEETING_INSTRUMENTS or kb.scope(c) == PLAN_WIDE):
        return Tier.OUTCOME
    return Tier.OTHER


def facts_of(kb: KnowledgeBase, c: Commitment) -> list[Fact]:
    """Every fact the summary may show about `c`, each with the source that states it."""
    out = [Fact(c, e.date, event_tier(kb, c, e), e.source, e) for e in c.events]
    if c.due:
        out.append(Fact(c, c.due, Tier.DEADLINE, due_source(c), None))
    return out


def due_source(c: Commitment) -> str:
    """The source that states a commitment's due date."""
    return c.due_source or c.sources[0].source


def summary(
    kb: KnowledgeBase,
    items: Sequence[Commitment],
    *,
    lang: str = "en",
    today: dt.date,
    since: dt.date | None = None,
    cite: str = "numbered",
    front: bool = False,
) -> str:
    """The one-page summary (`cmx export markdown`): where things stand, what changed,
    the deadlines, and each pillar's most significant facts; every fact line is one
    whole sentence written to be shown whole (an event's headline), cited to the source
    that states it, most significant first (Tier). It takes the fullest shape whose
    printed height (printed_height) fits one page, half a page for one pillar."""
    page = _SummaryFacts(kb, items, lang, today, since or shift(today, -90))
    limit = PILLAR_PX if len(page.highlights) == 1 else PAGE_PX
    text = ""
    for shape in SUMMARY_SHAPES:  # the fullest shape that fits
        text = _summary(page, shape, cite, front)
        if printed_height(text) <= limit:
            break
    return text


_MARKUP = re.compile(r"\*\*|\\(?=\S)|\[(?:\d+|@[^\]]+)(?:, [^\]]+)?\]")


def printed_height(markdown: str) -> int:
    """An estimate of the height, in CSS px, that the text before the Sources list takes
    when pandoc makes it a standalone HTML page and Chromium prints it (see PAGE_PX):
    the title block, then each paragraph and list by its lines."""
    text = markdown
    height = TITLE_PX
    if text.startswith("---\n"):
        head, _, text = text[4:].partition("\n---\n")
        title = next((h for h in head.splitlines() if h.startswith("title: ")), "title: ")
        title_chars = len(title) - len('title: ""')
    else:
        first, _, text = text.partition("\n")
        title_chars = len(first) - 2
    height += TITLE_LINE_PX * max(1, -(-title_chars // TITLE_CHARS))
    for block in text.split("\n\n"):
        block = block.strip("\n")
        if not block:
            continue
        if block.startswith("## "):  # the Sources list: not counted
            break
        height += GAP_PX
        for line in block.split("\n"):
            chars = len(_MARKUP.sub("", line))
            per_line = ITEM_CHARS if line.startswith("- ") else PARA_CHARS
            height += LINE_PX * max(1, -(-chars // per_line))
    return height


class _SummaryFacts:
    """What the summary says, found once; each shape tried only lays it out."""

    def __init__(
        self,
        kb: KnowledgeBase,
        items: Sequence[Commitment],
        lang: str,
        today: dt.date,
        since: dt.date,
    ) -> None:
        self.kb, self.items, self.today, self.since = kb, items, today, since
        self.tr = translator(lang)
        self.newest = kb.newest_date()
        every = sorted((f for c in items for f in facts_of(kb, c)), key=Fact.key)
        happened = [f for f in every if date_bounds(f.date)[0] <= today]
        self.changed = [
            f for f in happened if since <= date_bounds(f.date)[0] or (
                f.event is None and since <= date_bounds(f.date)[1])
        ]  # fmt: skip
        # Nothing in the window: the latest developments instead, newest first (events,
        # not deadlines; not commentary), most significant first on the same day.
        latest = [f for f in happened if f.event is not None and f.tier is not Tier.COMMENTARY]
        latest.sort(key=lambda f: (-date_bounds(f.date)[0].toordinal(), f.tier))
        self.latest = latest
        by_due = sorted((c for c in items if c.due), key=lambda c: date_bounds(c.due or "")[1])
        self.late = [c for c in by_due if c.is_overdue(today)]
        self.soon = [
            c
            for c in by_due
            if not c.is_overdue(today)
            and c.status in (Status.PLANNED, Status.UNDERWAY)
            and today <= date_bounds(c.due or "")[1] <= shift(today, SOON_DAYS)
        ]
        labels = [(f"{md(p.number)}. {md(p.name.get(lang))}", p.id) for p in kb.pillars]
        labels.append((_labels(self.tr)["whole_plan"], PLAN_WIDE))
        best = {c.id: _best(kb, c, happened) for c in items}
        self.best = best
        # per pillar present, best first (the significance rule)
        self.highlights = [
            (label, sorted(mine, key=lambda c: best[c.id][0]))
            for label, scope in labels
            if (mine := [c for c in items if kb.scope(c) == scope])
        ]


def _best(
    kb: KnowledgeBase, c: Commitment, happened: Sequence[Fact]
) -> tuple[tuple[int, int, str], Fact | None]:
    """A commitment's most significant fact to highlight (an event that happened, or
    its money), with its rank; deadlines have their own sections."""
    mine = [f for f in happened if f.commitment is c and f.event is not None]
    if c.amount:
        money = Fact(c, "1900", Tier.MONEY, c.amount.source or c.sources[0].source, None)
        mine.append(money)
    if not mine:
        return ((len(Tier), 0, c.id), None)
    top = min(mine, key=Fact.key)
    return (top.key(), top)


def _summary(page: _SummaryFacts, shape: tuple[int, int, int], cite: str, front: bool) -> str:
    """One layout of the summary: the counts in a sentence, what changed (or the latest
    developments), deadlines, and each pillar's most significant fact; every fact one
    line, one whole sentence, cited."""
    n_list, n_deadlines, n_highlights = shape
    kb, items, today, since, tr = page.kb, page.items, page.today, page.since, page.tr
    _ = tr.gettext
    cites = _Citations(kb, tr, cite)
    newest = page.newest
    title = _("Canada–Mexico Action Plan 2025–2028")  # short: one line in print
    if len(page.highlights) == 1:  # one pillar: its name
        title = _("Canada–Mexico: {pillar}").format(pillar=page.highlights[0][0])
    lines = front_matter(title, today, tr) if front else ["# " + title, ""]
    newest_day = tr.date(newest) if newest else "—"
    if front:  # the title block gives today's date
        intro = _("Newest source: {newest}.").format(newest=newest_day)
    else:
        intro = _("As of {today}; newest source: {newest}.").format(
            today=tr.day(today), newest=newest_day
        )
    lines += [f"{intro} {_counts(items, len(kb.commitments), tr)}", ""]
    window = {"since": tr.day(since), "until": tr.day(today)}
    head = _("What changed from {since} to {until}").format(**window)
    head = f"**{head}{_of(len(page.changed), n_list, tr)}.**"
    shown: set[tuple[str, str]] = set()  # (date, source): a fact said once
    chosen = page.changed[:n_list]
    if not page.changed:
        chosen = page.latest[:n_list]
        head += (
            " "
            + tr.ngettext(
                "Nothing recorded in this period. The latest development on record:",
                "Nothing recorded in this period. The latest developments on record:",
                len(chosen),
            )
            if chosen
            else " " + _("Nothing recorded in this period.")
        )
    else:
        chosen.sort(key=lambda f: date_bounds(f.date)[0], reverse=True)
    changed = []
    for f in chosen:
        changed.append(_fact_line(f, tr, cites))
        shown.add((f.date, f.source))
    lines += _section(head, changed)
    listed: set[str] = set()
    # Overdue, then due soon; an official commitment before one resting on news alone.
    late = sorted(page.late, key=lambda c: kb.basis(c) is not Basis.OFFICIAL)
    soon = sorted(page.soon, key=lambda c: kb.basis(c) is not Basis.OFFICIAL)
    deadlines = [(c, _("was due {date}; still {status}")) for c in late]
    deadlines += [(c, _("due {date}, {status}")) for c in soon]
    due_lines = []
    for c, due in deadlines[:n_deadlines]:
        when = f"{tr.date(c.due or '')} {cites.ref(due_source(c))}"
        facts = due.format(date=when, status=tr.code("status", c.status.value))
        name = f"**{md(c.title.get(tr.lang))}**{_unofficial(kb, c, tr)}"
        due_lines.append(f"{name}{tr.colon()} {facts}.")
        listed.add(c.id)
    if due_lines:
        head = _("Deadlines")  # (outside the f-string, where the extractor finds it)
        head = f"**{head}{_of(len(deadlines), n_deadlines, tr)}.**"
        lines += _section(head, due_lines)
    per_pillar = n_highlights
    highlights = []
    for label, ranked in page.highlights:
        fresh = [c for c in ranked if c.id not in listed]
        picked = 0
        for c in fresh:
            best = page.best[c.id][1]
            said = (best.date, best.source) if best and best.event else None
            if picked == per_pillar or said in shown:
                continue
            lead = f"**{label}.** " if len(page.highlights) > 1 else ""
            highlights.append(f"{lead}{_highlight(kb, c, best, tr, cites)}")
            picked += 1
            if said:
                shown.add(said)
    if highlights:
        lines += _section("**" + _("Highlights") + ".**", highlights)
    lines += _sources_list(kb, cites, tr)
    return "\n".join(lines).rstrip() + "\n"


def _section(head: str, items: Sequence[str]) -> list[str]:
    """A run-in head and its list; one item runs on after the head (a list of one
    costs its own block on the printed page)."""
    if len(items) <= 1:  # a bold title after the bold head would read as one heading
        run_on = re.sub(r"^\*\*(.+?)\*\*", r"\1", items[0]) if items else ""
        return [f"{head} {run_on}".rstrip(), ""]
    return [head, "", *(f"- {item}" for item in items), ""]


def _of(total: int, shown: int, tr: Translator) -> str:
    """' (3 of 12)' after a heading whose list shows only the first `shown`."""
    if total <= shown:
        return ""
    return " (" + tr.gettext("{shown} of {total}").format(shown=shown, total=total) + ")"


def _unofficial(kb: KnowledgeBase, c: Commitment, tr: Translator) -> str:
    """' (no official text)' after an entry that rests on news or analysis only."""
    if kb.basis(c) is Basis.OFFICIAL:
        return ""
    return " (" + tr.gettext("no official text") + ")"


def _counts(items: Sequence[Commitment], total: int, tr: Translator) -> str:
    """'47 commitments: completed 4, underway 9, planned 34.' (statuses held only), or
    '13 of 47 commitments: …' for a selection."""
    held = [
        f"{tr.code('status', s.value)}{tr.colon()} {n}"
        for s in (Status.COMPLETED, Status.UNDERWAY, Status.PLANNED, Status.NOT_PURSUED)
        if (n := sum(1 for c in items if c.status is s))
    ]
    if len(items) < total:
        text = tr.ngettext(
            "{n} of {total} commitments: {counts}.", "{n} of {total} commitments: {counts}.", total
        )
    else:
        text = tr.ngettext("{n} commitment: {counts}.", "{n} commitments: {counts}.", len(items))
    return text.format(n=len(items), total=total, counts="; ".join(held))


def _headline(e: Event, lang: str) -> str:
    """An event as one whole sentence: its headline (written to be shown whole), else
    its full text; never cut."""
    text = e.headline.get(lang) if e.headline else e.what.get(lang)
    return text if text.endswith((".", "!", "?")) else text + "."


def _fact_line(f: Fact, tr: Translator, cites: _Citations) -> str:
    """A dated fact: its date, then one whole sentence (an event's headline, written to
    stand alone), cited to the source that states it."""
    when = tr.date(f.date)
    if f.event is None:  # a deadline that fell due
        c = f.commitment
        reached = status_on(c.events, date_bounds(c.due or f.date)[1])
        text = tr.gettext("deadline reached; status then: {status}").format(
            status=tr.code("status", reached.value)
        )
        return f"{when}{tr.colon()} **{md(c.title.get(tr.lang))}**{tr.colon()} {text}. " + (
            cites.ref(f.source)
        )
    return f"{when}{tr.colon()} {md(_headline(f.event, tr.lang))} {cites.ref(f.source)}"


def _mark(kb: KnowledgeBase, c: Commitment) -> str:
    """‡ after an entry that no official text supports (news or analysis only)."""
    return "" if kb.basis(c) is Basis.OFFICIAL else " ‡"


def _highlight(
    kb: KnowledgeBase, c: Commitment, best: Fact | None, tr: Translator, cites: _Citations
) -> str:
    """A commitment's most significant fact: its money (with its title), or an event's
    headline with its date, cited to the source that states it."""
    if best is None or (best.event is None and c.amount is None):
        status = tr.code("status", c.status.value)
        name = f"**{md(c.title.get(tr.lang))}**{_unofficial(kb, c, tr)}"
        return f"{name}{tr.colon()} {status} {cites.ref(c.sources[0].source)}"
    if best.event is None and c.amount:
        amount = tr.amount(c.amount.value, c.amount.currency)
        stage = tr.code("stage", c.amount.stage.value)
        name = f"{md(c.title.get(tr.lang))}{_unofficial(kb, c, tr)}"
        return f"{name}{tr.colon()} {amount} ({stage}) {cites.ref(best.source)}"
    assert best.event is not None
    return _fact_line(best, tr, cites)
