"""Markdown for memos: the one-page summary, the full dossier and the list of changes.

Every fact line carries a numbered citation that resolves to a Sources list holding
only what the text cites."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence

from cmx import __version__
from cmx.detail import locator, publisher_of
from cmx.i18n import Translator, translator
from cmx.model import (
    PLAN_WIDE,
    Basis,
    Commitment,
    Instrument,
    KnowledgeBase,
    Pillar,
    Sector,
    Status,
    date_bounds,
)
from cmx.tracking import shift


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
    """Numbers sources in order of first use; locators in the reader's language."""

    def __init__(self, kb: KnowledgeBase | None = None, tr: Translator | None = None) -> None:
        self.order: list[str] = []
        self.kb, self.tr = kb, tr

    def ref(self, source_id: str, section: str | None = None) -> str:
        if source_id not in self.order:
            self.order.append(source_id)
        n = self.order.index(source_id) + 1
        if section and self.tr is not None:
            section = locator(section, self.kb, self.tr)
        return f"[{n}, {md(section)}]" if section else f"[{n}]"


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
    mindmap: bool = True,
) -> str:
    """The full dossier of `items` (`cmx export markdown --full`): every commitment with
    its facts, events and citations, the commentary, and the numbered Sources list."""
    tr = translator(lang)
    t = _labels(tr)
    cites = _Citations(kb, tr)
    chosen = {c.id for c in items}
    dates = [s.date for s in kb.sources if s.date]
    newest = max(dates, key=lambda d: date_bounds(d)[0]) if dates else "—"
    lines = [
        f"# {t['title']}",
        "",
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
        refs = "".join(cites.ref(c.source, c.section) for c in p.sources)
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
    refs = "".join(cites.ref(x.source, x.section) for x in c.sources)
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


SUMMARY_WORDS = 600  # at most, before the Sources list (300 for one pillar)
SOON_DAYS = 183  # "falls due in the next six months"
# How much of each list the summary shows, most first; it takes the first that fits.
SUMMARY_SHAPES = (  # (lines per list, highlights per pillar, words per quoted event)
    (5, 2, 22),
    (4, 2, 16),
    (3, 2, 12),
    (3, 1, 12),
    (2, 1, 10),
    (1, 1, 8),
)


def summary(
    kb: KnowledgeBase,
    items: Sequence[Commitment],
    *,
    lang: str = "en",
    today: dt.date,
    since: dt.date | None = None,
) -> str:
    """The one-page summary (`cmx export markdown`): where things stand, what changed,
    what is overdue or due soon, and a few highlights per pillar, every fact line cited.

    Highlights, per pillar: entries with recorded progress first (completed, then
    underway), then those with an amount of money, then those an official text
    supports; then the most recent event first; ties keep the plan's order. The page
    holds at most SUMMARY_WORDS words before its Sources list (half for one pillar):
    longer lists are cut, each with the command that gives the rest."""
    page = _SummaryFacts(kb, items, lang, today, since or shift(today, -90))
    limit = SUMMARY_WORDS // 2 if len(page.highlights) == 1 else SUMMARY_WORDS
    text = ""
    for shape in SUMMARY_SHAPES:  # the fullest shape that fits
        text = _summary(page, shape)
        if reading_words(text) <= limit:
            break
    return text


def reading_words(markdown: str) -> int:
    """Words before the Sources list, which is the last section, counted as `wc -w`
    does (a table's bars and a list's dashes count too: the strictest count)."""
    lines = markdown.splitlines()
    heads = [i for i, line in enumerate(lines) if line.startswith("## ")]
    if heads:
        lines = lines[: heads[-1]]
    return len(" ".join(lines).split())


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
        from cmx.tracking import changes

        self.kb, self.items, self.today, self.since = kb, items, today, since
        self.tr = translator(lang)
        self.newest = kb.newest_date()
        chosen = {c.id for c in items}
        self.changed = [r for r in changes(kb, since, today, lang) if r["id"] in chosen]
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
        # per pillar present, best first (the rule in summary's docstring)
        self.highlights = [
            (label, sorted(mine, key=lambda c: _highlight_rank(kb, c)))
            for label, scope in labels
            if (mine := [c for c in items if kb.scope(c) == scope])
        ]


def _summary(page: _SummaryFacts, shape: tuple[int, int, int]) -> str:
    n_list, n_highlights, n_words = shape
    kb, items, today, since, tr = page.kb, page.items, page.today, page.since, page.tr
    _ = tr.gettext
    t = _labels(tr)
    cites = _Citations(kb, tr)
    newest = page.newest
    lines = [
        "# " + _("Canada–Mexico Action Plan 2025–2028: summary"),
        "",
        _("As of {today}; newest source: {newest}.").format(
            today=tr.day(today), newest=tr.date(newest) if newest else "—"
        )
        + (
            " " + t["selection"].format(n=len(items), total=len(kb.commitments))
            if len(items) < len(kb.commitments)
            else ""
        ),
        "",
        "## " + _("Where things stand"),
        "",
        *_status_rows(kb, items, tr),
        "",
    ]
    lines += ["## " + _("What changed since {date}").format(date=tr.day(since)), ""]
    if page.changed:
        for r in page.changed[:n_list]:
            r = {**r, "what": _short(str(r["what"]), n_words)}
            lines.append(f"- {_change_line(r, tr)} {cites.ref(str(r['source']))}")
        command = f"cmx changes --since {since.isoformat()} --until {today.isoformat()}"
        lines += _more(len(page.changed), n_list, tr, command)
    else:
        lines.append(_("No change recorded in this period."))
    lines.append("")
    for title, group, due, hint in (
        (_("Overdue"), page.late, _("was due {date}; still {status}"), "cmx commitments --overdue"),
        (_("Due in the next six months"), page.soon, _("due {date}, {status}"), "cmx timeline"),
    ):
        if not group:
            continue
        lines += [f"## {title}", ""]
        for c in group[:n_list]:
            facts = due.format(date=tr.date(c.due or ""), status=tr.code("status", c.status.value))
            title = f"**{md(c.title.get(tr.lang))}**{_mark(kb, c)}"
            lines.append(f"- {title}{tr.colon()} {facts} {cites.ref(c.sources[0].source)}")
        lines += _more(len(group), n_list, tr, hint)
        lines.append("")
    per_pillar = n_highlights + (1 if len(page.highlights) == 1 else 0)
    lines += ["## " + _("Highlights"), ""]
    for label, ranked in page.highlights:
        lines += [f"### {label}", ""]
        for c in ranked[:per_pillar]:
            lines.append(f"- {_highlight(kb, c, tr, cites, n_words)}")
        lines.append("")
    if "‡" in "\n".join(lines):
        lines += [_("‡ No official text supports this entry: it rests on news or analysis."), ""]
    lines += _sources_list(kb, cites, tr)
    return "\n".join(lines).rstrip() + "\n"


def _short(text: str, words: int = 22) -> str:
    """The text if it has at most `words` words; else its first sentence if that is
    short enough; else its first `words` words, with "…"."""
    parts = text.split()
    if len(parts) <= words:
        return text
    first = text.split(". ", 1)[0].rstrip(".") + "."
    if len(first.split()) <= words and len(first) < len(text):
        return first
    return " ".join(parts[:words]).rstrip(",;:") + "…"


def _more(n: int, shown: int, tr: Translator, command: str) -> list[str]:
    """'…and N more: `cmx …`' under a list cut at `shown` lines."""
    if n <= shown:
        return []
    rest = n - shown
    text = tr.ngettext("…and {n} more: `{command}`", "…and {n} more: `{command}`", rest)
    return ["", text.format(n=rest, command=command)]


def _mark(kb: KnowledgeBase, c: Commitment) -> str:
    """‡ after an entry that no official text supports (news or analysis only)."""
    return "" if kb.basis(c) is Basis.OFFICIAL else " ‡"


def _highlight_rank(kb: KnowledgeBase, c: Commitment) -> tuple[int, int, int, float]:
    progress = {Status.COMPLETED: 0, Status.UNDERWAY: 1}.get(c.status, 2)
    latest = max((date_bounds(e.date)[0].toordinal() for e in c.events), default=0)
    money = 0 if c.amount else 1
    official = 0 if kb.basis(c) is Basis.OFFICIAL else 1
    return (progress, money, official, -latest)


def _highlight(
    kb: KnowledgeBase, c: Commitment, tr: Translator, cites: _Citations, n_words: int
) -> str:
    """One line: the title, its status, then its amount of money (the fact a memo
    wants) or else its latest event, cited."""
    status = tr.code("status", c.status.value)
    line = f"**{md(c.title.get(tr.lang))}**{_mark(kb, c)}{tr.colon()} {status}"
    if c.amount:
        amount = tr.amount(c.amount.value, c.amount.currency)
        stage = tr.code("stage", c.amount.stage.value)
        source = c.amount.source or c.sources[0].source
        return f"{line}; {amount} ({stage}) {cites.ref(source)}"
    latest = max(c.events, key=lambda e: date_bounds(e.date)[0], default=None)
    if latest is not None:
        what = md(_short(latest.what.get(tr.lang), n_words))
        return f"{line}; {tr.date(latest.date)}{tr.colon()} {what} {cites.ref(latest.source)}"
    return f"{line}. {cites.ref(c.sources[0].source, c.sources[0].section)}"
