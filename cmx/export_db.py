"""`cmx export sqlite`: the store's tables as a file Datasette and sqlite-utils read as is.

On top of the tables cmx itself reads (cmx.tables), an export has:

- label tables for the codes it counts by (`scopes`: the four pillars and the plan's own
  governance, as `cmx pillars` counts them; `statuses`; `instruments`), each with its
  label in three languages, so a facet or a link reads "Security", not `security`;
- full-text tables tied to their content tables the way sqlite-utils makes them
  (`commitments_fts`, `notes_fts`, `sources_fts`: FTS5, `content=[table]`, accents
  folded), and `entries_fts` over every entry;
- per-language views that read as the tracker does (`commitments_en`, `_es`, `_fr`),
  and the overdue and due-soon ones, judged on the date in `meta.today`;
- `meta`: cmx's version, the schema version and hash, the date statuses were judged
  on (`today`), the as-of date if any, the newest source date.

`metadata()` writes Datasette's metadata (titles, descriptions, column descriptions,
facets, sort order, canned queries) in one language; `schema_markdown()` documents the
tables in docs/sqlite.md (tests/test_datasette.py keeps the two equal).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import errno
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cmx import __version__, tables
from cmx.i18n import CODES, translator
from cmx.model import CLOSED, LANGS, PLAN_WIDE, Commitment, KnowledgeBase
from cmx.store import SCHEMA_VERSION, build_file, write_fts, write_tables

SOON_DAYS = 90  # "due soon": the deadline falls within this many days of meta.today

# Code tables: (table, kind of code in cmx.i18n.CODES).
CODE_TABLES = (("statuses", "status"), ("instruments", "instrument"), ("bases", "basis"))
# Full-text tables: content table -> its indexed columns.
FTS = {
    "commitments": [f"{f}_{lang}" for f in ("title", "summary") for lang in LANGS],
    "notes": [f"{f}_{lang}" for f in ("title", "claim") for lang in LANGS],
    "sources": ["title", "publisher"],
}
TOKENIZE = "unicode61 remove_diacritics 2"


def consistent(kb: KnowledgeBase, items: Sequence[Commitment]) -> KnowledgeBase:
    """`kb` with only the commitments `items`, and nothing that points to the others."""
    kept = {c.id for c in items}
    known = {s.id for s in kb.sources}  # as of a date: only the sources known by then
    notes = tuple(
        dataclasses.replace(n, related=tuple(r for r in n.related if r in kept)) for n in kb.notes
    )

    def cited(entry: Any) -> Any:
        return dataclasses.replace(
            entry, sources=tuple(x for x in entry.sources if x.source in known)
        )

    pillars = tuple(
        dataclasses.replace(cited(p), sectors=tuple(cited(s) for s in p.sectors))
        for p in kb.pillars
    )
    return dataclasses.replace(kb, pillars=pillars, commitments=tuple(items), notes=notes)


def export_sqlite(
    kb: KnowledgeBase,
    path: Path,
    *,
    items: Sequence[Commitment] | None = None,
    today: dt.date | None = None,
    as_of: dt.date | None = None,
) -> None:
    """Write `kb` (only the commitments `items` when given) as a standalone SQLite file."""
    chosen = consistent(kb, kb.commitments if items is None else items)
    day = today or dt.date.today()
    meta = {
        "schema_version": SCHEMA_VERSION,
        "cmx_version": __version__,
        "generator": "cmx",
        "today": day.isoformat(),
        "as_of": as_of.isoformat() if as_of else "",
    }

    def fill(conn: sqlite3.Connection) -> None:
        write_tables(conn, chosen, meta)
        _code_tables(conn, chosen)
        write_fts(conn, chosen)
        for table, columns in FTS.items():
            cols = ", ".join(f"[{c}]" for c in columns)
            conn.execute(
                f"CREATE VIRTUAL TABLE [{table}_fts] USING FTS5 ({cols}, "
                f"tokenize='{TOKENIZE}', content=[{table}])"
            )
            conn.execute(f"INSERT INTO [{table}_fts]([{table}_fts]) VALUES('rebuild')")
        for view in views():
            conn.execute(view)

    try:
        build_file(path, fill)
    except sqlite3.Error as error:  # "database or disk is full": an OSError for the caller
        raise OSError(errno.EIO, str(error)) from error


def _code_tables(conn: sqlite3.Connection, kb: KnowledgeBase) -> None:
    ts = [translator(lang) for lang in LANGS]
    labels = ", ".join(f"label_{lang} TEXT NOT NULL" for lang in LANGS)
    marks = ",".join("?" * (len(LANGS) + 2))
    conn.execute(f"CREATE TABLE scopes (id TEXT PRIMARY KEY, position INTEGER NOT NULL, {labels})")
    rows: list[tuple[Any, ...]] = [(p.id, i, *p.name.all()) for i, p in enumerate(kb.pillars, 1)]
    governance = [t.gettext("Whole plan (governance)") for t in ts]
    rows.append((PLAN_WIDE, len(rows) + 1, *governance))
    conn.executemany(f"INSERT INTO scopes VALUES ({marks})", rows)
    for table, kind in CODE_TABLES:
        conn.execute(
            f"CREATE TABLE {table} (id TEXT PRIMARY KEY, position INTEGER NOT NULL, {labels})"
        )
        conn.executemany(
            f"INSERT INTO {table} VALUES ({marks})",
            ((code, i, *(t.code(kind, code) for t in ts)) for i, code in enumerate(CODES[kind], 1)),
        )


def views() -> list[str]:
    """The readable views: one per language, and its overdue and due-soon rows."""
    today = "(SELECT value FROM meta WHERE key = 'today')"
    closed = ", ".join(f"'{s.value}'" for s in sorted(CLOSED))
    out = []
    for lang in LANGS:
        actors = (
            f"(SELECT group_concat(name, '; ') FROM (SELECT a.name_{lang} AS name "
            "FROM commitment_actors ca JOIN actors a ON a.id = ca.actor "
            "WHERE ca.commitment = c.id ORDER BY ca.position))"
        )
        out.append(
            f"CREATE VIEW commitments_{lang} AS SELECT c.position AS position, c.id AS id, "
            f"c.title_{lang} AS title, sc.label_{lang} AS pillar, se.name_{lang} AS sector, "
            f"st.label_{lang} AS status, c.due AS due, "
            f"(c.due_by IS NOT NULL AND c.due_by < {today} AND c.status NOT IN ({closed})) "
            "AS overdue, "
            f"{actors} AS actors, ins.label_{lang} AS instrument, ba.label_{lang} AS basis, "
            f"c.summary_{lang} AS summary, c.scope AS pillar_id, c.status AS status_id, "
            "c.due_by AS due_by "
            "FROM commitments c JOIN scopes sc ON sc.id = c.scope "
            "JOIN sectors se ON se.id = c.sector JOIN statuses st ON st.id = c.status "
            "JOIN instruments ins ON ins.id = c.instrument JOIN bases ba ON ba.id = c.basis"
        )
        out.append(
            f"CREATE VIEW overdue_{lang} AS SELECT * FROM commitments_{lang} WHERE overdue "
            "ORDER BY position"
        )
        out.append(
            f"CREATE VIEW due_soon_{lang} AS SELECT * FROM commitments_{lang} "
            f"WHERE status_id NOT IN ({closed}) AND due_by >= {today} "
            f"AND due_by <= date({today}, '+{SOON_DAYS} days') ORDER BY due_by, position"
        )
    return out


def overdue_sql(lang: str) -> str:
    """The canned query of overdue commitments, judged on :today (empty: meta.today)."""
    return (
        f"SELECT id, title, pillar, status, due, actors FROM commitments_{lang}\n"
        "WHERE status_id NOT IN ('completed', 'not-pursued') AND due_by < coalesce(\n"
        "  nullif(:today, ''), (SELECT value FROM meta WHERE key = 'today'))\n"
        "ORDER BY position"
    )


# ------------------------------------------------------------------------ metadata

# Titles and descriptions of the metadata file, in each language.
WORDS: dict[str, dict[str, str]] = {
    "title": {
        "en": "Canada–Mexico Action Plan 2025–2028",
        "es": "Plan de Acción Canadá–México 2025–2028",
        "fr": "Plan d'action Canada–Mexique 2025–2028",
    },
    "description": {
        "en": "The plan's commitments, their status, deadlines, events and sources "
        "(written by cmx; statuses judged on {today}).",
        "es": "Los compromisos del plan, su estado, plazos, hechos y fuentes "
        "(escrito por cmx; estados evaluados al {today}).",
        "fr": "Les engagements du plan, leur état, échéances, faits et sources "
        "(écrit par cmx ; états évalués au {today}).",
    },
    "commitments": {
        "en": "Commitments (all languages)",
        "es": "Compromisos (todos los idiomas)",
        "fr": "Engagements (toutes les langues)",
    },
    "view": {
        "en": "Commitments: the tracker",
        "es": "Compromisos: el seguimiento",
        "fr": "Engagements : le suivi",
    },
    "view_description": {
        "en": "One row per commitment in the plan's order, in {language}.",
        "es": "Una fila por compromiso en el orden del plan, en {language}.",
        "fr": "Une ligne par engagement dans l'ordre du plan, en {language}.",
    },
    "overdue": {"en": "Overdue", "es": "Vencidos", "fr": "En retard"},
    "overdue_description": {
        "en": "Past their deadline and neither completed nor dropped, on the date given "
        "(empty: the export's date).",
        "es": "Con el plazo vencido y ni cumplidos ni abandonados, a la fecha indicada "
        "(vacía: la fecha de la exportación).",
        "fr": "Échéance passée, ni réalisés ni abandonnés, à la date donnée "
        "(vide : la date de l'export).",
    },
    "due_soon": {
        "en": "Due in the next 90 days",
        "es": "Vencen en los próximos 90 días",
        "fr": "Échéance dans les 90 prochains jours",
    },
    "pillars": {"en": "Pillars", "es": "Pilares", "fr": "Piliers"},
    "sectors": {"en": "Priority areas", "es": "Áreas prioritarias", "fr": "Domaines prioritaires"},
    "sources": {"en": "Sources", "es": "Fuentes", "fr": "Sources"},
    "notes": {"en": "Commentary", "es": "Comentarios", "fr": "Commentaires"},
    "actors": {"en": "Actors", "es": "Actores", "fr": "Acteurs"},
    "events": {"en": "Events", "es": "Hechos", "fr": "Faits"},
    "scopes": {
        "en": "Pillars as counted (plan-wide apart)",
        "es": "Pilares como se cuentan (el plan en su conjunto aparte)",
        "fr": "Piliers tels que comptés (l'ensemble du plan à part)",
    },
    "language": {"en": "English", "es": "español", "fr": "français"},
}

# What each column of the tracker's tables holds (English; the docs say the same).
COLUMNS: dict[str, str] = {
    "id": "the entry's id (what `cmx show ID` takes)",
    "position": "the plan's order (1, 2, …)",
    "pillar": "the pillar the entry is filed under",
    "scope": "the pillar it counts under, or plan-wide (the plan's governance), "
    "as `cmx pillars` counts",
    "sector": "the priority area",
    "status": "planned, underway, completed or not-pursued",
    "due": "the deadline as the sources give it (2026, 2026-03 or 2026-03-31)",
    "due_by": "the last day the deadline covers",
    "basis": "the best kind of source behind it: official, news or analysis",
    "instrument": "dialogue, mou, working-group, funding, mission, meeting, program, "
    "agreement or other",
    "overdue": "1: past its deadline on meta.today and neither completed nor dropped",
    "actors": "the governments, agencies and people named, in order",
    "tags": "tags (a JSON list)",
    "aliases": "other names (a JSON list)",
    "concepts": "ids of the thesaurus concepts it is about (a JSON list)",
    "reviewed": "when the entry was last checked against its sources",
}


# The same, as the metadata of a Spanish or French export shows them.
COLUMNS_IN: dict[str, dict[str, str]] = {
    "es": {
        "id": "el identificador de la entrada (el que recibe `cmx show ID`)",
        "position": "el orden del plan (1, 2, …)",
        "pillar": "el pilar en el que figura la entrada",
        "scope": "el pilar en el que se cuenta, o plan-wide (la gobernanza del plan), "
        "como cuenta `cmx pillars`",
        "sector": "el área prioritaria",
        "status": "planned, underway, completed o not-pursued (previsto, en curso, "
        "cumplido o descartado)",
        "due": "el plazo tal como lo dan las fuentes (2026, 2026-03 o 2026-03-31)",
        "due_by": "el último día que cubre el plazo",
        "basis": "el mejor tipo de fuente que lo respalda: official, news o analysis",
        "instrument": "el mecanismo: dialogue, mou, working-group, funding, mission, "
        "meeting, program, agreement u other",
        "overdue": "1: plazo vencido en meta.today, sin haberse cumplido ni abandonado",
        "actors": "los gobiernos, organismos y personas que se nombran, en orden",
        "tags": "etiquetas (una lista JSON)",
        "aliases": "otros nombres (una lista JSON)",
        "concepts": "identificadores de los conceptos del tesauro que trata (una lista JSON)",
        "reviewed": "cuándo se cotejó la entrada con sus fuentes por última vez",
    },
    "fr": {
        "id": "l'identifiant de l'entrée (celui que prend `cmx show ID`)",
        "position": "l'ordre du plan (1, 2, …)",
        "pillar": "le pilier sous lequel l'entrée est classée",
        "scope": "le pilier sous lequel elle compte, ou plan-wide (la gouvernance du "
        "plan), comme compte `cmx pillars`",
        "sector": "le domaine prioritaire",
        "status": "planned, underway, completed ou not-pursued (prévu, en cours, "
        "réalisé ou abandonné)",
        "due": "l'échéance telle que les sources la donnent (2026, 2026-03 ou 2026-03-31)",
        "due_by": "le dernier jour que couvre l'échéance",
        "basis": "le meilleur type de source qui l'appuie : official, news ou analysis",
        "instrument": "le mécanisme : dialogue, mou, working-group, funding, mission, "
        "meeting, program, agreement ou other",
        "overdue": "1 : échéance passée à meta.today, ni réalisé ni abandonné",
        "actors": "les gouvernements, organismes et personnes nommés, dans l'ordre",
        "tags": "étiquettes (une liste JSON)",
        "aliases": "autres noms (une liste JSON)",
        "concepts": "identifiants des concepts du thésaurus dont il traite (une liste JSON)",
        "reviewed": "quand l'entrée a été vérifiée pour la dernière fois auprès de ses sources",
    },
}


def _w(key: str, lang: str) -> str:
    return WORDS[key].get(lang) or WORDS[key]["en"]


def metadata(database: str, lang: str, today: dt.date) -> dict[str, Any]:
    """Datasette's metadata for the export `database` (its file name without .db)."""
    label = {
        "pillars": f"name_{lang}",
        "sectors": f"name_{lang}",
        "actors": f"name_{lang}",
        "scopes": f"label_{lang}",
        "statuses": f"label_{lang}",
        "instruments": f"label_{lang}",
        "bases": f"label_{lang}",
        "commitments": f"title_{lang}",
        "notes": f"title_{lang}",
        "tags": f"label_{lang}",
        "concepts": f"label_{lang}",
        "sources": "title",
    }
    described = {
        "commitments": "commitments",
        "pillars": "pillars",
        "sectors": "sectors",
        "sources": "sources",
        "notes": "notes",
        "actors": "actors",
        "events": "events",
        "scopes": "scopes",
    }
    tables_meta: dict[str, Any] = {}
    for table, column in label.items():
        entry: dict[str, Any] = {"label_column": column}
        if table in described:
            entry["title"] = _w(described[table], lang)
        entry["sort"] = "position"
        tables_meta[table] = entry
    tables_meta["events"] = {"title": _w("events", lang), "sort_desc": "date", "facets": ["status"]}
    commitments = tables_meta["commitments"]
    commitments["facets"] = ["scope", "status", "instrument", "basis"]
    commitments["fts_table"] = "commitments_fts"
    worded = COLUMNS_IN.get(lang, {})
    commitments["columns"] = {k: worded.get(k, v) for k, v in COLUMNS.items() if k != "overdue"}
    tables_meta["sectors"]["facets"] = ["pillar"]
    tables_meta["sources"]["facets"] = ["kind"]
    tables_meta["sources"]["fts_table"] = "sources_fts"
    tables_meta["notes"]["facets"] = ["support"]
    tables_meta["notes"]["fts_table"] = "notes_fts"
    tables_meta["actors"]["facets"] = ["kind"]
    for code in LANGS:
        view: dict[str, Any] = {
            "title": f"{_w('view', lang)} ({_w('language', code)})",
            "description": _w("view_description", lang).format(language=_w("language", code)),
            "sort": "position",
            "facets": ["pillar", "status", "overdue"],
            "fts_table": "commitments_fts",
            "fts_pk": "position",
            # no column descriptions: on a view they push the rows below the fold
        }
        if code != lang:
            view["hidden"] = True
        tables_meta[f"commitments_{code}"] = view
        tables_meta[f"overdue_{code}"] = {"hidden": code != lang, "title": _w("overdue", lang)}
        tables_meta[f"due_soon_{code}"] = {"hidden": code != lang, "title": _w("due_soon", lang)}
    for hidden in ("meta", "citations", "commitment_actors", "note_commitments", "entries_fts"):
        tables_meta.setdefault(hidden, {})["hidden"] = True
    queries = {
        "overdue": {
            "title": _w("overdue", lang),
            "description": _w("overdue_description", lang),
            "sql": overdue_sql(lang),
        },
        "due_soon": {
            "title": _w("due_soon", lang),
            "sql": f"SELECT id, title, pillar, status, due FROM due_soon_{lang}",
        },
    }
    return {
        "title": _w("title", lang),
        "description": _w("description", lang).format(today=today.isoformat()),
        "source": "cmx",
        "databases": {database: {"tables": tables_meta, "queries": queries}},
    }


def metadata_yaml(database: str, lang: str, today: dt.date) -> str:
    import yaml

    data = metadata(database, lang, today)
    return str(yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100))


# ------------------------------------------------------------------------ the docs


def schema_markdown() -> str:
    """The tables cmx writes, as docs/sqlite.md lists them (generated from cmx.tables)."""
    mapping = tables.schema()
    lines = [
        "| table | columns |",
        "|---|---|",
    ]
    for statement in mapping.ddl.split(";"):
        statement = statement.strip()
        if not statement:
            continue
        head, _, body = statement.partition("(")
        name = head.split()[-1]
        cols = [
            part.strip().split()[0]
            for part in body.rsplit(")", 1)[0].split(",\n")
            if not part.strip().startswith("PRIMARY KEY")
        ]
        lines.append(f"| `{name}` | {', '.join(f'`{c}`' for c in cols)} |")
    return "\n".join(lines) + "\n"
