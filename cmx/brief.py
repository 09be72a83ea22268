"""The Markdown brief: overview, pillar → sector → commitment, commentary, numbered sources."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from cmx import __version__
from cmx.model import Commitment, KnowledgeBase, Status, date_bounds
from cmx.render import flat

LABELS = {
    "en": {
        "title": "Canada–Mexico Action Plan 2025–2028: brief",
        "generated": "Generated {today} with cmx {version}; newest source dated {newest}.",
        "selection": "Selection: {n} of {total} commitments.",
        "overview": "Overview",
        "pillar": "Pillar",
        "total": "Total",
        "map": "Map of pillars and priority areas",
        "reconstructed": (
            "heading reconstructed from official releases and news; "
            "the plan's own number and title for it are not known"
        ),
        "status": "Status",
        "due": "Due",
        "instrument": "Instrument",
        "actors": "Actors",
        "no_actors": "not named in the sources",
        "reviewed": "Last reviewed against its sources",
        "amount": "Amount",
        "events": "Events",
        "basis": "Basis",
        "commentary": "Commentary (analysis, not official commitments)",
        "commentary_intro": "Claims made by analysts about the plan, with how far the official "
        "text supports them.",
        "support": "support",
        "related": "Related",
        "sources": "Sources",
        "overdue": "overdue",
        "no_url": "(no URL recorded)",
        "colon": ":",
        Status.PLANNED: "planned",
        Status.UNDERWAY: "underway",
        Status.COMPLETED: "completed",
        Status.NOT_PURSUED: "not pursued",
    },
    "es": {
        "title": "Plan de Acción Canadá–México 2025–2028: nota informativa",
        "generated": "Generado el {today} con cmx {version}; fuente más reciente del {newest}.",
        "selection": "Selección: {n} de {total} compromisos.",
        "overview": "Panorama general",
        "pillar": "Pilar",
        "total": "Total",
        "map": "Mapa de pilares y áreas prioritarias",
        "reconstructed": (
            "encabezado reconstruido a partir de comunicados oficiales y noticias; "
            "no se conocen el número ni el título que le da el plan"
        ),
        "status": "Estado",
        "due": "Fecha límite",
        "instrument": "Instrumento",
        "actors": "Actores",
        "no_actors": "las fuentes no los nombran",
        "reviewed": "Última revisión frente a sus fuentes",
        "amount": "Monto",
        "events": "Avances",
        "basis": "Fundamento",
        "commentary": "Comentarios (análisis, no compromisos oficiales)",
        "commentary_intro": "Afirmaciones de analistas sobre el plan y en qué medida las "
        "respalda el texto oficial.",
        "support": "respaldo",
        "related": "Relacionado con",
        "sources": "Fuentes",
        "overdue": "vencido",
        "no_url": "(sin URL registrada)",
        "colon": ":",
        Status.PLANNED: "previsto",
        Status.UNDERWAY: "en curso",
        Status.COMPLETED: "cumplido",
        Status.NOT_PURSUED: "no continuado",
    },
    "fr": {
        "title": "Plan d'action Canada–Mexique 2025–2028 : note d'information",
        "generated": "Produit le {today} avec cmx {version}; source la plus récente : {newest}.",
        "selection": "Sélection : {n} engagements sur {total}.",
        "overview": "Vue d'ensemble",
        "pillar": "Pilier",
        "total": "Total",
        "map": "Carte des piliers et des domaines prioritaires",
        "reconstructed": (
            "rubrique reconstituée à partir de communiqués officiels et d'articles; "
            "le numéro et le titre que lui donne le plan ne sont pas connus"
        ),
        "status": "État",
        "due": "Échéance",
        "instrument": "Instrument",
        "actors": "Acteurs",
        "no_actors": "non nommés dans les sources",
        "reviewed": "Dernière vérification auprès des sources",
        "amount": "Montant",
        "events": "Faits marquants",
        "basis": "Fondement",
        "commentary": "Commentaires (analyses, et non engagements officiels)",
        "commentary_intro": "Affirmations d'analystes sur le plan, et la mesure dans laquelle "
        "le texte officiel les appuie.",
        "support": "appui",
        "related": "Lié à",
        "sources": "Sources",
        "overdue": "en retard",
        "no_url": "(URL non consignée)",
        "colon": " :",
        Status.PLANNED: "prévu",
        Status.UNDERWAY: "en cours",
        Status.COMPLETED: "réalisé",
        Status.NOT_PURSUED: "abandonné",
    },
}


VALUES = {  # enum values shown in a brief, by language (English shows them as they are)
    "es": {
        "dialogue": "diálogo",
        "mou": "memorándum de entendimiento",
        "working-group": "grupo de trabajo",
        "funding": "financiamiento",
        "mission": "misión",
        "meeting": "reunión",
        "program": "programa",
        "agreement": "acuerdo",
        "other": "otro",
        "official": "oficial",
        "news": "prensa",
        "analysis": "análisis",
        "announced": "anunciado",
        "committed": "comprometido",
        "disbursed": "desembolsado",
        "stated": "explícito",
        "interpretation": "interpretación",
        "not-in-official-text": "no figura en el texto oficial",
        "official-reproduced": "oficial (reproducido)",
    },
    "fr": {
        "dialogue": "dialogue",
        "mou": "protocole d'entente",
        "working-group": "groupe de travail",
        "funding": "financement",
        "mission": "mission",
        "meeting": "rencontre",
        "program": "programme",
        "agreement": "accord",
        "other": "autre",
        "official": "officiel",
        "news": "presse",
        "analysis": "analyse",
        "announced": "annoncé",
        "committed": "engagé",
        "disbursed": "versé",
        "stated": "explicite",
        "interpretation": "interprétation",
        "not-in-official-text": "absent du texte officiel",
        "official-reproduced": "officiel (reproduit)",
    },
}


def _value(lang: str, value: str) -> str:
    return VALUES.get(lang, {}).get(value, value)


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
    t = LABELS.get(lang, LABELS["en"])
    cites = _Citations()
    chosen = {c.id for c in items}
    dates = [s.date for s in kb.sources if s.date]
    newest = max(dates, key=lambda d: date_bounds(d)[0]) if dates else "—"
    lines = [
        f"# {t['title']}",
        "",
        t["generated"].format(today=today.isoformat(), version=__version__, newest=newest),
        t["selection"].format(n=len(items), total=len(kb.commitments)),
        "",
        f"## {t['overview']}",
        "",
    ]
    statuses = list(Status)
    lines.append("| " + " | ".join([t["pillar"], *(t[s] for s in statuses), t["total"]]) + " |")
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
                lines += _commitment_block(c, kb, lang, cites, today)
    notes = [n for n in kb.notes if chosen.intersection(n.related)]
    if notes:
        lines += [f"## {t['commentary']}", "", t["commentary_intro"], ""]
        for n in notes:
            related = ", ".join(r for r in n.related if r in chosen)
            support = _value(lang, n.support.value)
            lines.append(
                f"- **{n.title.get(lang)}** ({t['support']}{t['colon']} {support}). "
                f"{n.claim.get(lang)} {cites.ref(n.source, n.section)} "
                f"_{t['related']}{t['colon']} {related}_"
            )
        lines.append("")
    lines += [f"## {t['sources']}", ""]
    for i, sid in enumerate(cites.order, 1):
        src = kb.source(sid)
        if src is None:
            continue
        when = src.date or "n.d."
        url = f"<{src.url}>" if src.url else t["no_url"]
        kind = _value(lang, src.kind.value)
        lines.append(f"{i}. {src.title}. {src.publisher}, {when}. {kind}. {url}")
    return "\n".join(lines).rstrip() + "\n"


def _commitment_block(
    c: Commitment, kb: KnowledgeBase, lang: str, cites: _Citations, today: dt.date
) -> list[str]:
    """One commitment: heading, key facts, summary with citations, actors, amount, events."""
    t = LABELS.get(lang, LABELS["en"])
    status = t[c.status]
    if c.is_overdue(today):
        status += f" ({t['overdue']})"
    facts = [f"**{t['status']}:** {status}"]
    if c.due:
        facts.append(f"**{t['due']}:** {c.due}")
    facts.append(f"**{t['instrument']}:** {_value(lang, c.instrument.value)}")
    facts.append(f"**{t['basis']}:** {_value(lang, kb.basis(c).value)}")
    refs = "".join(cites.ref(x.source, x.section) for x in c.sources)
    lines = [f"#### {c.title.get(lang)}", "", " · ".join(facts), ""]
    lines += [f"{c.summary.get(lang)} {refs}", ""]
    named = ", ".join(kb.actor_name(a, lang) for a in c.actors) or f"_{t['no_actors']}_"
    lines += [f"**{t['actors']}:** {named}", ""]
    if c.amount:
        a = c.amount
        ref = cites.ref(a.source) if a.source else ""
        value = f"{a.value:,.0f}" if a.value == int(a.value) else flat(a.value)
        stage = _value(lang, a.stage.value)
        lines += [f"**{t['amount']}:** {value} {a.currency} ({stage}) {ref}", ""]
    if c.events:
        lines += [f"**{t['events']}:**", ""]
        lines += [f"- {e.date}: {e.what.get(lang)} {cites.ref(e.source)}" for e in c.events]
        lines.append("")
    if c.reviewed:
        lines += [f"_{t['reviewed']}: {c.reviewed}_", ""]
    return lines
