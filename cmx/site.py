"""The tracker as a static website: HTML, CSS and a little JavaScript in one folder,
in English, Spanish and French (`cmx export site -o DIR`).

Every page is a Jinja2 template with autoescape on: the knowledge base's text is
untrusted and reaches a page only as escaped text, with control and bidi-override
characters dropped; a link is written only for an http(s) URL. The site works opened
from disk (`file://`) and from any static host: links are relative and the search
index is a script (`<script src>`), not something fetched. Search is Lunr.js (vendored,
templates/static/vendor/README.md) over an index built here by lunr.py: words folded
(lower case, no accents) and stemmed (PyStemmer) as the page's script folds a query.

Presentation only: the files to download (CSV, calendar, database) are written by
cmx.output, which hands them in as `downloads`.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape as xml_escape

from cmx.i18n import LANGUAGE_TABLE, translator
from cmx.model import (
    LANGS,
    PLAN_WIDE,
    Commitment,
    KnowledgeBase,
    Note,
    Pillar,
    Sector,
    Source,
    Status,
    Text,
    date_bounds,
    without_controls,
)
from cmx.tracking import changes

TEMPLATES = Path(__file__).parent / "templates"
MARKER = ".cmx-site"  # written in every site folder: `--force` replaces only such a folder
LANG_NAMES = {"en": "English", "es": "Español", "fr": "Français"}
RECENT = 10  # the home page's "latest developments": the newest changes
SHOWN = 25  # lists in a page (overdue, cited by) show this many, then "and N more"
FEED = 200  # entries in the Atom feed; changes.html shows up to CHANGES rows
CHANGES = 1000
STATUS_COLORS = {  # 3:1 or more against white (WCAG 1.4.11); a label always goes with them
    "planned": "#5b6472",
    "underway": "#1d4ed8",
    "completed": "#047857",
    "not-pursued": "#b42318",
}

# The site's own interface text, English -> (Spanish, French). Codes, headers and dates
# come from the catalog (cmx.i18n); only these sentences are the site's own.
STRINGS: dict[str, tuple[str, str]] = {
    "Canada–Mexico Action Plan tracker": (
        "Seguimiento del Plan de Acción Canadá–México",
        "Suivi du Plan d'action Canada–Mexique",
    ),
    "The Canada–Mexico Comprehensive Strategic Partnership and its Action Plan 2025–2028: "
    "every commitment, with its sources.": (
        "La Asociación Estratégica Integral Canadá–México y su Plan de Acción 2025–2028: "
        "cada compromiso, con sus fuentes.",
        "Le Partenariat stratégique global Canada–Mexique et son Plan d'action 2025–2028 : "
        "chaque engagement, avec ses sources.",
    ),
    "Skip to content": ("Ir al contenido", "Aller au contenu"),
    "Language": ("Idioma", "Langue"),
    "Main": ("Principal", "Principal"),
    "Home": ("Inicio", "Accueil"),
    "Search": ("Buscar", "Rechercher"),
    "Search the tracker": ("Buscar en el seguimiento", "Rechercher dans le suivi"),
    "Sources": ("Fuentes", "Sources"),
    "Commentary": ("Comentarios", "Commentaires"),
    "What changed": ("Qué cambió", "Ce qui a changé"),
    "The plan at a glance": ("El plan de un vistazo", "Le plan en un coup d'œil"),
    "Commitments by pillar and status": (
        "Compromisos por pilar y estado",
        "Engagements par pilier et par statut",
    ),
    "Data as of {date}; newest source: {newest}.": (
        "Datos al {date}; fuente más reciente: {newest}.",
        "Données au {date}; source la plus récente : {newest}.",
    ),
    "Overdue": ("Vencidos", "En retard"),
    "Nothing is overdue.": ("Nada está vencido.", "Rien n'est en retard."),
    "Latest developments": ("Novedades recientes", "Derniers développements"),
    "Pillars": ("Pilares", "Piliers"),
    "Total": ("Total", "Total"),
    "Priority areas": ("Áreas prioritarias", "Domaines prioritaires"),
    "Commitments": ("Compromisos", "Engagements"),
    "No commitment here.": ("Ningún compromiso aquí.", "Aucun engagement ici."),
    "A heading reconstructed from official releases and news, not numbered in the plan.": (
        "Un encabezado reconstruido a partir de comunicados oficiales y noticias, sin número "
        "en el plan.",
        "Une rubrique reconstituée à partir de communiqués officiels et de presse, non "
        "numérotée dans le plan.",
    ),
    "Plan-wide governance": ("Gobernanza de todo el plan", "Gouvernance de l'ensemble du plan"),
    "History": ("Historial", "Historique"),
    "due": ("vence", "échéance"),
    "Facts": ("Datos", "Faits"),
    "not named in the sources": ("no nombrados en las fuentes", "non nommés dans les sources"),
    "Related commentary": ("Comentarios relacionados", "Commentaires liés"),
    "Commentary, not an official commitment": (
        "Comentario, no un compromiso oficial",
        "Commentaire, pas un engagement officiel",
    ),
    "Commentary and analysis about the plan. None of it is an official commitment.": (
        "Comentarios y análisis sobre el plan. Nada de esto es un compromiso oficial.",
        "Commentaires et analyses sur le plan. Rien de tout cela n'est un engagement officiel.",
    ),
    "Every document the tracker cites.": (
        "Todos los documentos que cita el seguimiento.",
        "Tous les documents cités par le suivi.",
    ),
    "cited by": ("citada por", "citée par"),
    "Last checked against its sources: {date}.": (
        "Revisado por última vez contra sus fuentes: {date}.",
        "Dernière vérification auprès de ses sources : {date}.",
    ),
    "Events, status changes and deadlines, newest first.": (
        "Hechos, cambios de estado y plazos, del más reciente al más antiguo.",
        "Événements, changements de statut et échéances, du plus récent au plus ancien.",
    ),
    "Feed of changes (Atom)": ("Canal de cambios (Atom)", "Fil des changements (Atom)"),
    "Downloads": ("Descargas", "Téléchargements"),
    "Commitments (CSV)": ("Compromisos (CSV)", "Engagements (CSV)"),
    "Deadlines and events (calendar, ICS)": (
        "Plazos y hechos (calendario, ICS)",
        "Échéances et événements (calendrier, ICS)",
    ),
    "The whole tracker (SQLite database)": (
        "Todo el seguimiento (base de datos SQLite)",
        "Tout le suivi (base de données SQLite)",
    ),
    "Search needs JavaScript. Browse the pillars from the home page instead.": (
        "La búsqueda necesita JavaScript. Recorra los pilares desde la página de inicio.",
        "La recherche nécessite JavaScript. Parcourez plutôt les piliers depuis l'accueil.",
    ),
    "Results: {n}": ("Resultados: {n}", "Résultats : {n}"),
    "Nothing matched.": ("Nada coincidió.", "Aucun résultat."),
    "Words in English, Spanish or French; accents optional.": (
        "Palabras en español, inglés o francés; los acentos son opcionales.",
        "Mots en français, anglais ou espagnol; les accents sont facultatifs.",
    ),
    "Made with cmx from the knowledge base; every fact cites its source.": (
        "Hecho con cmx a partir de la base de conocimientos; cada dato cita su fuente.",
        "Fait avec cmx à partir de la base de connaissances; chaque fait cite sa source.",
    ),
    "Choose a language": ("Elija un idioma", "Choisissez une langue"),
    "Changes in the Canada–Mexico Action Plan tracker": (
        "Cambios en el seguimiento del Plan de Acción Canadá–México",
        "Changements dans le suivi du Plan d'action Canada–Mexique",
    ),
    "{pillar}: {n}": ("{pillar}: {n}", "{pillar} : {n}"),
    "…and {n} more.": ("…y {n} más.", "…et {n} de plus."),
    "The newest {n} of {total}; every one is in the downloads (CSV, calendar, database).": (
        "Los {n} más recientes de {total}; todos están en las descargas (CSV, calendario, "
        "base de datos).",
        "Les {n} plus récents sur {total}; tous figurent dans les téléchargements (CSV, "
        "calendrier, base de données).",
    ),
    # what `cmx export site` says when it cannot write (cmx.output, cmx.files)
    "a site is a folder; give one: cmx export site -o DIR": (
        "un sitio es una carpeta; indique una: cmx export site -o CARPETA",
        "un site est un dossier; indiquez-en un : cmx export site -o DOSSIER",
    ),
    "{path}: not a folder cmx wrote; cmx replaces only its own (remove it)": (
        "{path}: no es una carpeta escrita por cmx; cmx solo reemplaza las suyas (bórrela)",
        "{path} : ce dossier n'a pas été écrit par cmx; cmx ne remplace que les siens "
        "(supprimez-le)",
    ),
}

# Bidi embeddings, overrides and isolates and the invisible marks: dropped from
# knowledge-base text, so a title cannot reorder the text around it.
_BIDI = dict.fromkeys([0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)])
_SAFE_URL = re.compile(r"^https?://[^\s/?#\"'<>\\]+[^\s\"'<>\\]*$", re.IGNORECASE)


def message_in(lang: str, message: str) -> str:
    """`message` in `lang`: the site's own table (STRINGS), else cmx's catalog."""
    pair = STRINGS.get(message)
    if lang == "en" or lang not in LANGS:
        return message
    return pair[LANGS.index(lang) - 1] if pair else translator(lang).gettext(message)


def plain(text: str | None) -> str:
    """Knowledge-base text as it may appear on a page (autoescape does the rest)."""
    return without_controls(text or "").translate(_BIDI)


def safe_url(url: str | None) -> str | None:
    """`url` if it is an http(s) URL with nothing odd in it, else None (no link)."""
    if not url:
        return None
    return url if _SAFE_URL.match(url) and url.isprintable() else None


# ------------------------------------------------------------------------ search


_SPLIT = re.compile(r"[\s\-'’/]+")
_MARKS = re.compile("[\u0300-\u036f]")
_TRIM = re.compile(r"^[^a-z0-9]+|[^a-z0-9]+$")
# Lunr.js's own English stemmer is Porter's: the index uses the same algorithm.
STEMMERS = {"en": "porter", "es": "spanish", "fr": "french"}


def fold(word: str) -> str:
    """Lower case, no accents, no punctuation at either end: what search.js does."""
    import unicodedata

    low = word.lower().replace("œ", "oe").replace("æ", "ae").replace("ß", "ss")
    return _TRIM.sub("", _MARKS.sub("", unicodedata.normalize("NFD", low)))


class Indexer:
    """Folds, filters and stems the words of one language, remembering each word's stem."""

    def __init__(self, lang: str) -> None:
        import Stemmer  # type: ignore[import-not-found,unused-ignore]

        self.lang = lang
        self.stemmer = Stemmer.Stemmer(STEMMERS[lang])
        self.stop = frozenset(fold(w) for w in LANGUAGE_TABLE[lang].stopwords)
        self.stems: dict[str, str] = {}

    def terms(self, text: str) -> list[str]:
        out = []
        for raw in _SPLIT.split(text):
            word = fold(raw)
            if not word or word in self.stop:
                continue
            stem = self.stems.get(word)
            if stem is None:
                stem = self.stems[word] = self.stemmer.stemWord(word)
            out.append(stem)
        return out


def search_index(lang: str, docs: Sequence[SearchDoc], t: Callable[[str], str]) -> str:
    """The JavaScript file search.js reads: a Lunr index of `docs`, their titles, and
    the word -> stem table (so a query is stemmed as the index was)."""
    from lunr.builder import Builder  # type: ignore[import-untyped,unused-ignore]

    indexer = Indexer(lang)
    builder = Builder()
    builder.ref("ref")
    builder.field("title", boost=10)
    builder.field("body")
    shown: dict[str, list[str]] = {}
    for doc in docs:
        builder.add(
            {"ref": doc.ref, "title": indexer.terms(doc.title), "body": indexer.terms(doc.body)}
        )
        shown[doc.ref] = [doc.title, doc.kind, doc.body[:180]]
    index = builder.build()
    data = {
        "lang": lang,
        "index": index.serialize(),
        "docs": shown,
        "stems": {w: s for w, s in indexer.stems.items() if w != s},
        "keep": " ".join(sorted(w for w, s in indexer.stems.items() if w == s)),
        "stop": sorted(indexer.stop),
        "ui": {"results": t("Results: {n}"), "none": t("Nothing matched.")},
    }
    # ASCII, and no < > & even escaped: nothing in the data can end a string or a script
    text = json.dumps(data, ensure_ascii=True, separators=(",", ":"))
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return f"window.CMX_SEARCH = {text};\n"


@dataclass(frozen=True, slots=True)
class SearchDoc:
    ref: str  # the page, relative to the language's folder (with #anchor)
    kind: str
    title: str
    body: str


# ------------------------------------------------------------------------ pages


class Site:
    """What every template of one language is given: text in that language, links
    relative to the page being written, and the knowledge base's facts."""

    def __init__(self, kb: KnowledgeBase, lang: str, today: dt.date) -> None:
        self.kb, self.lang, self.today = kb, lang, today
        self.t = translator(lang)
        self.notes_of: dict[str, list[Note]] = {}
        for n in kb.notes:
            for rel in n.related:
                self.notes_of.setdefault(rel, []).append(n)
        self.cited_by: dict[str, list[Commitment]] = {}
        self.by_sector: dict[str, list[Commitment]] = {}
        for c in kb.commitments:
            self.by_sector.setdefault(c.sector, []).append(c)
            for sid in c.cited():
                self.cited_by.setdefault(sid, []).append(c)
        self.newest = kb.newest_date()  # found once: every page's footer shows it
        self.counts = kb.counts()
        self._dates: dict[str, str] = {}

    # text
    def tr(self, message: str) -> str:
        """The site's interface text (STRINGS), else the catalog's, in this language."""
        return message_in(self.lang, message)

    def text(self, value: Text | str | None) -> str:
        return plain(value.get(self.lang) if isinstance(value, Text) else value)

    def code(self, kind: str, value: str) -> str:
        return self.t.code(kind, value)

    def header(self, column: str) -> str:
        return self.t.header(column)

    def date(self, iso: str | None) -> str:
        """A date in prose (Babel), each one formatted once."""
        if not iso:
            return ""
        shown = self._dates.get(iso)
        if shown is None:
            shown = self._dates[iso] = self.t.date(iso)
        return shown

    def amount(self, value: float, currency: str) -> str:
        return self.t.amount(value, currency)

    def actor(self, actor_id: str) -> str:
        return plain(self.kb.actor_name(actor_id, self.lang))

    # facts
    def commitments_in(self, sector: Sector) -> list[Commitment]:
        return self.by_sector.get(sector.id, [])

    def pillar_of(self, c: Commitment) -> Pillar | None:
        found = self.kb.get(c.pillar)
        return found if isinstance(found, Pillar) else None

    def sector_of(self, c: Commitment) -> Sector | None:
        found = self.kb.get(c.sector)
        return found if isinstance(found, Sector) else None

    def status_counts(self, items: Iterable[Commitment]) -> dict[str, int]:
        counts = Counter(c.status.value for c in items)
        return {s.value: counts.get(s.value, 0) for s in Status}

    def overdue(self, c: Commitment) -> bool:
        return c.is_overdue(self.today)

    def source(self, source_id: str) -> Source | None:
        return self.kb.source(source_id)

    def url(self, value: str | None) -> str | None:
        return safe_url(value)

    def history(self, c: Commitment) -> list[dict[str, Any]]:
        """The commitment's events and its deadline, oldest first."""
        rows: list[dict[str, Any]] = [
            {
                "date": e.date,
                "what": self.text(e.what),
                "status": e.status,
                "source": e.source,
                "due": False,
            }
            for e in c.events
        ]
        if c.due:
            rows.append({"date": c.due, "what": None, "status": None, "source": None, "due": True})
        rows.sort(key=lambda r: (date_bounds(r["date"])[0], bool(r.get("due"))))
        return rows


def page_paths(kb: KnowledgeBase) -> dict[str, str]:
    """Every entry's page (or anchor), relative to a language's folder."""
    paths: dict[str, str] = {}
    for p in kb.pillars:
        paths[p.id] = f"pillar/{p.id}.html"
        for s in p.sectors:
            paths[s.id] = f"area/{s.id}.html"
    for c in kb.commitments:
        paths[c.id] = f"commitment/{c.id}.html"
    for n in kb.notes:
        paths[n.id] = f"commentary.html#{n.id}"
    for src in kb.sources:
        paths[src.id] = f"sources.html#{src.id}"
    return paths


def chart(site: Site, groups: Sequence[tuple[str, str, dict[str, int]]]) -> dict[str, Any]:
    """Geometry of the home page's stacked bars: one row per pillar, one segment per
    status, widths in a 0..100 scale of the largest pillar (the template draws it)."""
    top = max((sum(c.values()) for _, _, c in groups), default=0) or 1
    rows = []
    for y, (key, label, counts) in enumerate(groups):
        x = 0.0
        parts = []
        for status, n in counts.items():
            w = n / top * 100
            if n:
                parts.append({"status": status, "n": n, "x": x, "w": w})
            x += w
        rows.append({"key": key, "label": label, "parts": parts, "total": sum(counts.values()),
                     "y": y, "end": x})  # fmt: skip
    return {"rows": rows, "colors": STATUS_COLORS}


def _environment() -> Any:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,  # every template: the knowledge base's text is untrusted
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["fmt"] = lambda template, **kw: template.format(**kw)
    return env


def _atom(site: Site, rows: Sequence[dict[str, Any]], paths: Mapping[str, str]) -> str:
    """The changes as an Atom feed (RFC 4287); links are relative to the feed's folder."""
    tr = site.tr
    updated = f"{site.today.isoformat()}T00:00:00Z"
    out = [
        '<?xml version="1.0" encoding="utf-8"?>',
        f'<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="{site.lang}">',
        f"<title>{xml_escape(tr('Changes in the Canada–Mexico Action Plan tracker'))}</title>",
        f"<id>tag:cmx.site,2025:{site.lang}/changes</id>",
        f"<updated>{updated}</updated>",
        '<link rel="alternate" type="text/html" href="changes.html"/>',
        '<link rel="self" type="application/atom+xml" href="changes.atom"/>',
        "<author><name>cmx</name></author>",
    ]
    for n, row in enumerate(rows[:FEED]):
        day = date_bounds(row["date"])[0].isoformat()
        kind = site.code("type", row["type"])
        title = f"{row['date']} · {kind} · {plain(row['title'])}"
        what = plain(row["what"])
        if row["status"] and row["type"] != "event":
            what += f" ({site.code('status', row['status'])})"
        out += [
            "<entry>",
            f"<title>{xml_escape(title)}</title>",
            f"<id>tag:cmx.site,2025:{site.lang}/{row['id']}/{row['date']}/{n}</id>",
            f"<updated>{day}T00:00:00Z</updated>",
            f'<link rel="alternate" type="text/html" href="{xml_escape(paths[row["id"]])}"/>',
            f"<summary>{xml_escape(what)}</summary>",
            "</entry>",
        ]
    out.append("</feed>")
    return without_controls("\n".join(out)) + "\n"


def build(
    folder: Path,
    kb: KnowledgeBase,
    items: Sequence[Commitment],
    *,
    today: dt.date,
    downloads: Mapping[str, Callable[[Path], None]] = {},
) -> None:
    """Write the site for the commitments `items` of `kb` into the empty `folder`."""
    kb = replace(kb, commitments=tuple(items))
    kept = {c.id for c in items}
    kb = replace(
        kb,
        notes=tuple(replace(n, related=tuple(r for r in n.related if r in kept)) for n in kb.notes),
    )
    env = _environment()
    paths = page_paths(kb)
    static = folder / "static"
    shutil.copytree(TEMPLATES / "static", static)
    files = folder / "files"
    files.mkdir()
    for name, fill in downloads.items():
        fill(files / name)
    first = min((date_bounds(d)[0] for d in _dates(kb)), default=today)
    for lang in LANGS:
        site = Site(kb, lang, today)
        _write_language(folder, env, site, paths, first, sorted(downloads))
    root = env.get_template("landing.html").render(
        langs=[(lang, LANG_NAMES[lang], Site(kb, lang, today)) for lang in LANGS]
    )
    (folder / "index.html").write_text(root, encoding="utf-8")
    (folder / MARKER).write_text("written by cmx export site\n", encoding="utf-8")


def _dates(kb: KnowledgeBase) -> list[str]:
    return [e.date for c in kb.commitments for e in c.events] + [
        c.due for c in kb.commitments if c.due
    ]


def _write_language(
    folder: Path,
    env: Any,
    site: Site,
    paths: Mapping[str, str],
    first: dt.date,
    downloads: Sequence[str],
) -> None:
    lang, kb, tr = site.lang, site.kb, site.tr
    out = folder / lang
    for sub in ("pillar", "area", "commitment"):
        (out / sub).mkdir(parents=True)
    all_changes = changes(kb, first, site.today, lang)
    all_changes.sort(key=lambda r: date_bounds(r["date"])[0], reverse=True)

    def page(template: str, path: str, **context: Any) -> None:
        depth = path.count("/")
        base = "../" * depth
        html = env.get_template(template).render(
            site=site,
            _=tr,
            lang=lang,
            langs=LANG_NAMES,
            path=path,
            base=base,
            root=base + "../",
            paths=paths,
            downloads=downloads,
            shown=SHOWN,
            **context,
        )
        (out / path).write_text(html, encoding="utf-8")

    groups = [
        (p.id, site.text(p.name), site.status_counts(c for c in kb.commitments
                                                      if kb.scope(c) == p.id))
        for p in kb.pillars
    ]  # fmt: skip
    plan_wide = [c for c in kb.commitments if kb.scope(c) == PLAN_WIDE]
    if plan_wide:
        groups.append((PLAN_WIDE, tr("Plan-wide governance"), site.status_counts(plan_wide)))
    page(
        "home.html",
        "index.html",
        groups=groups,
        chart=chart(site, groups),
        overdue=[c for c in kb.commitments if site.overdue(c)],
        recent=all_changes[:RECENT],
    )
    for p in kb.pillars:
        page("pillar.html", paths[p.id], pillar=p)
        for s in p.sectors:
            page("area.html", paths[s.id], pillar=p, sector=s)
    for c in kb.commitments:
        page("commitment.html", paths[c.id], c=c)
    page("sources.html", "sources.html")
    page("commentary.html", "commentary.html")
    page("changes.html", "changes.html", rows=all_changes[:CHANGES], total=len(all_changes))
    page("search.html", "search.html")
    (out / "changes.atom").write_text(_atom(site, all_changes, paths), encoding="utf-8")
    (out / "search-index.js").write_text(
        search_index(lang, _search_docs(site, paths), tr), encoding="utf-8"
    )


def _search_docs(site: Site, paths: Mapping[str, str]) -> list[SearchDoc]:
    kb, text = site.kb, site.text
    docs = []
    for p in kb.pillars:
        docs.append(SearchDoc(paths[p.id], site.code("kind", "pillar"), text(p.name),
                              text(p.summary)))  # fmt: skip
        for s in p.sectors:
            docs.append(SearchDoc(paths[s.id], site.code("kind", "sector"), text(s.name),
                                  text(s.summary)))  # fmt: skip
    for c in kb.commitments:
        extra = " ".join([*(site.actor(a) for a in c.actors), *c.tags, *c.aliases])
        events = " ".join(text(e.what) for e in c.events)
        docs.append(SearchDoc(paths[c.id], site.code("kind", "commitment"), text(c.title),
                              f"{text(c.summary)} {events} {plain(extra)}"))  # fmt: skip
    for n in kb.notes:
        docs.append(SearchDoc(paths[n.id], site.code("kind", "note"), text(n.title),
                              text(n.claim)))  # fmt: skip
    for src in kb.sources:
        docs.append(SearchDoc(paths[src.id], site.code("kind", "source"), plain(src.title),
                              plain(f"{src.publisher} {src.date or ''}")))  # fmt: skip
    return docs
