"""The Markdown brief: overview, pillar → sector → commitment, commentary, numbered sources."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from cmx import __version__
from cmx.i18n import Translator, translator
from cmx.model import Commitment, KnowledgeBase, Status, date_bounds


def _labels(t: Translator) -> dict[str, str]:
    """The brief's words in the translator's language (catalog messages)."""
    _ = t.gettext
    return {
        "title": _("Canada–Mexico Action Plan 2025–2028: brief"),
        "generated": _("Generated {today} with cmx {version}; newest source dated {newest}."),
        "selection": _("Selection: {n} of {total} commitments."),
        "overview": _("Overview"),
        "pillar": _("Pillar"),
        "total": _("Total"),
        "map": _("Map of pillars and priority areas"),
        "reconstructed": _(
            "heading reconstructed from official releases and news; "
            "the plan's own number and title for it are not known"
        ),
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
    """Numbers sources in order of first use."""

    def __init__(self) -> None:
        self.order: list[str] = []

    def ref(self, source_id: str, section: str | None = None) -> str:
        if source_id not in self.order:
            self.order.append(source_id)
        n = self.order.index(source_id) + 1
        return f"[{n}, {section}]" if section else f"[{n}]"


def _mermaid_text(text: str) -> str:
    return "".join(ch for ch in text if ch not in '()[]{}"`').strip()


def to_markdown(
    kb: KnowledgeBase,
    items: Sequence[Commitment],
    *,
    lang: str = "en",
    today: dt.date,
    mindmap: bool = True,
) -> str:
    """A paste-ready brief of `items` with numbered citations resolving to a Sources list."""
    tr = translator(lang)
    t = _labels(tr)
    cites = _Citations()
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
    statuses = list(Status)
    shown = [tr.code("status", s.value) for s in statuses]
    lines.append("| " + " | ".join([t["pillar"], *shown, t["total"]]) + " |")
    lines.append("|" + "---|" * (len(statuses) + 2))
    for p in kb.pillars:
        mine = [c for c in items if c.pillar == p.id]
        if not mine:
            continue
        counts = [str(sum(1 for c in mine if c.status is s)) for s in statuses]
        lines.append(
            f"| {p.number}. {p.name.get(lang)} | " + " | ".join(counts) + f" | {len(mine)} |"
        )
    lines.append("")
    if mindmap:
        lines += [f"### {t['map']}", "", "```mermaid", "mindmap"]
        lines.append(f"  root(({_mermaid_text(t['title'].split(':')[0])}))")
        for p in kb.pillars:
            sectors = [s for s in p.sectors if any(c.sector == s.id for c in items)]
            if not sectors:
                continue
            lines.append(f"    {_mermaid_text(p.number + '. ' + p.name.get(lang))}")
            for s in sectors:
                label = f"{s.number} {s.name.get(lang)}" if s.number else s.name.get(lang)
                lines.append(f"      {_mermaid_text(label)}")
        lines += ["```", ""]
    for p in kb.pillars:
        mine = [c for c in items if c.pillar == p.id]
        if not mine:
            continue
        refs = "".join(cites.ref(c.source, c.section) for c in p.sources)
        lines += [f"## {p.number}. {p.name.get(lang)}", "", f"{p.summary.get(lang)} {refs}", ""]
        for s in p.sectors:
            in_sector = [c for c in mine if c.sector == s.id]
            if not in_sector:
                continue
            heading = f"{s.number} {s.name.get(lang)}" if s.number else s.name.get(lang)
            lines.append(f"### {heading}")
            lines.append("")
            if not s.official:
                lines += [f"_({t['reconstructed']})_", ""]
            for c in in_sector:
                lines += _commitment_block(c, kb, lang, cites, today, tr)
    notes = [n for n in kb.notes if chosen.intersection(n.related)]
    if notes:
        lines += [f"## {t['commentary']}", "", t["commentary_intro"], ""]
        for n in notes:
            related = ", ".join(r for r in n.related if r in chosen)
            support = t["label"].format(
                label=t["support"], value=tr.code("support", n.support.value)
            )
            related_line = t["label"].format(label=t["related"], value=related)
            lines.append(
                f"- **{n.title.get(lang)}** ({support}). "
                f"{n.claim.get(lang)} {cites.ref(n.source, n.section)} _{related_line}_"
            )
        lines.append("")
    lines += [f"## {t['sources']}", ""]
    for i, sid in enumerate(cites.order, 1):
        src = kb.source(sid)
        if src is None:
            continue
        when = tr.date(src.date) if src.date else t["no_date"]
        url = f"<{src.url}>" if src.url else t["no_url"]
        kind = tr.code("source_kind", src.kind.value)
        stop = "" if when.endswith(".") else "."
        lines.append(f"{i}. {src.title}. {src.publisher}, {when}{stop} {kind}. {url}")
    return "\n".join(lines).rstrip() + "\n"


def _fact(t: dict[str, str], label: str, value: str) -> str:
    """**Label:** value, with the language's own colon ("Statut : …" in French)."""
    colon = t["label"].format(label="", value="").rstrip()  # ":" or " :" (French)
    return f"**{label}{colon}** {value}".rstrip()


def _commitment_block(
    c: Commitment, kb: KnowledgeBase, lang: str, cites: _Citations, today: dt.date, tr: Translator
) -> list[str]:
    """One commitment: heading, key facts, summary with citations, actors, amount, events."""
    t = _labels(tr)
    status = tr.code("status", c.status.value)
    if c.is_overdue(today):
        status += f" ({tr.code('mark', 'overdue')})"
    facts = [_fact(t, t["status"], status)]
    if c.due:
        facts.append(_fact(t, t["due"], tr.date(c.due)))
    facts.append(_fact(t, t["instrument"], tr.code("instrument", c.instrument.value)))
    facts.append(_fact(t, t["basis"], tr.code("basis", kb.basis(c).value)))
    refs = "".join(cites.ref(x.source, x.section) for x in c.sources)
    lines = [f"#### {c.title.get(lang)}", "", " · ".join(facts), ""]
    lines += [f"{c.summary.get(lang)} {refs}", ""]
    named = ", ".join(kb.actor_name(a, lang) for a in c.actors) or f"_{t['no_actors']}_"
    lines += [_fact(t, t["actors"], named), ""]
    if c.amount:
        a = c.amount
        ref = cites.ref(a.source) if a.source else ""
        stage = tr.code("stage", a.stage.value)
        lines += [_fact(t, t["amount"], f"{tr.amount(a.value, a.currency)} ({stage}) {ref}"), ""]
    if c.events:
        lines += [_fact(t, t["events"], ""), ""]
        lines += [
            f"- {tr.date(e.date)}: {e.what.get(lang)} {cites.ref(e.source)}" for e in c.events
        ]
        lines.append("")
    if c.reviewed:
        lines += ["_" + t["label"].format(label=t["reviewed"], value=tr.date(c.reviewed)) + "_", ""]
    return lines
