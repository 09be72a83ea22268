"""The store: the validated knowledge base and its search index in one SQLite file.

This is the only module that knows about caching. Each knowledge-base folder gets one
database under the user cache folder, keyed by a hash of the bytes the YAML parser
read: a store is used only when the files hash to the same key now, so no edit,
however timed, is ever served from an older store. A store is built in one
transaction in a temporary file and renamed into place, so readers never see half of
one, and a crash, SIGTERM or full disk leaves nothing behind. A store that does not
open, has another schema version or key, or holds anything unexpected is rebuilt from
the YAML without a word: nothing stored can make cmx fail.

The public tables (PUBLIC_SCHEMA) are also what `cmx export sqlite` writes, so
Datasette, sqlite-utils and any SQLite client read what cmx reads; the export adds an
FTS5 full-text table for them, and the store keeps cmx's own index instead.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import functools
import json
import os
import sqlite3
import time
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cmx import __version__, tables
from cmx.errors import KBError
from cmx.kbfiles import check_data_dir, file_stats
from cmx.model import (
    CLOSED,
    LANGS,
    PLAN_WIDE,
    Actor,
    Commitment,
    Entry,
    KnowledgeBase,
    Note,
    Pillar,
    Sector,
    Source,
    Status,
    Text,
    iter_entries,
    newest_reviews,
)
from cmx.places import TEMP, cache_dir, keep, ours, temporaries

if TYPE_CHECKING:  # imported where a search runs: a listing does not pay for it (~4 ms)
    from cmx import search

SCHEMA_VERSION = "14"  # 2: concepts; 3: stems by vocabulary; 4: labels as plain text;
# 5: postings by field level; 6: plan-wide governance (sectors.plan_wide, in the index),
# meta newest_date; 7: source annotations (via, copy_of, copy_on, agency, aggregator),
# event headlines, tags; 8: stems per language of the text, weak stems, @actor postings;
# 9: tables derived from the model (cmx.tables), meta schema_hash, scope/due_by columns;
# 10: sources.version_of, commitments.due_source (from the model), composite indexes;
# 11: the index's long texts in a table of their own (_cmx_low): titles read compactly;
# 12: meta label_words (the longest concept label, counted when the index is written);
# 13: the composite indexes end with due_by (a --due-before listing reads only its rows);
# 14: the index keeps each word's stems (_cmx_word_stems): a search loads no stemmer
STORE_TEMP = TEMP  # the prefix of a store being built (then random, then .tmp)

# Everything a stored value can raise when the file is damaged or not ours.
_BAD_STORE = (sqlite3.Error, ValueError, TypeError, KeyError, IndexError, AttributeError)


# Made after the rows are in (faster than keeping them up to date row by row).
PUBLIC_INDEXES = """
CREATE INDEX commitments_pillar ON commitments(pillar);
CREATE INDEX commitments_sector ON commitments(sector);
CREATE INDEX commitments_status ON commitments(status);
CREATE INDEX events_date ON events(date);
CREATE INDEX citations_source ON citations(source);
CREATE INDEX commitments_due_by ON commitments(due_by);
CREATE INDEX commitments_sector_status ON commitments(sector, status, instrument, due_by);
CREATE INDEX commitments_scope_status ON commitments(scope, status, instrument, due_by);
CREATE INDEX commitment_actors_actor ON commitment_actors(actor);
CREATE INDEX note_commitments_commitment ON note_commitments(commitment);
"""

# A full-text index for other tools (`cmx export sqlite` only: cmx searches its own).
FTS_SCHEMA = """
CREATE VIRTUAL TABLE entries_fts USING fts5(
  kind UNINDEXED, id UNINDEXED, title, body, tokenize = 'unicode61 remove_diacritics 2');
"""

# cmx's own search index: an inverted index that keeps cmx's ranking (typo tiers,
# field weights, phrase lift) exactly; FTS5 above is for other tools.
INDEX_SCHEMA = """
CREATE TABLE _cmx_docs (
  doc INTEGER PRIMARY KEY, kind TEXT NOT NULL, id TEXT NOT NULL, pillar TEXT, sector TEXT,
  status TEXT, high TEXT NOT NULL);
CREATE TABLE _cmx_low (doc INTEGER PRIMARY KEY, low TEXT NOT NULL);
CREATE TABLE _cmx_terms (term TEXT PRIMARY KEY, df INTEGER NOT NULL, postings BLOB NOT NULL)
  WITHOUT ROWID;
CREATE TABLE _cmx_labels (label TEXT PRIMARY KEY, concepts TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE _cmx_stems (stem TEXT PRIMARY KEY, words TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE _cmx_word_stems (word TEXT PRIMARY KEY, stems TEXT NOT NULL) WITHOUT ROWID;
"""


def read_kb(data_dir: Path) -> tuple[KnowledgeBase, str]:
    """cmx.kb.read_kb, imported only when a run parses the YAML (a cached run never does)."""
    from cmx import kb

    return kb.read_kb(data_dir)


def current_key(data_dir: Path) -> str:
    """cmx.kb.current_key, imported only when the files must be hashed."""
    from cmx import kb

    return kb.current_key(data_dir)


# ------------------------------------------------------------------------ where


def store_path(data_dir: Path) -> Path | None:
    """The store file of a KB folder: one per folder, named by a hash of its path."""
    folder = cache_dir()
    if folder is None:
        return None
    name = os.fsencode(str(data_dir.resolve()))  # bytes: any folder name, UTF-8 or not
    where = f"{zlib.crc32(name):08x}{zlib.adler32(name):08x}"
    return folder / f"kb-{where}.sqlite"


# ------------------------------------------------------------------------ writing


def _json(items: Sequence[str]) -> str:
    return json.dumps(list(items), ensure_ascii=False)


def _fresh(value: str) -> str:
    """A string to bind: sqlite3 caches the UTF-8 form of a non-ASCII str inside the
    object, for as long as the object lives, so a KB's text bound as it is would be held
    twice for the rest of the run (~100 MB at 100,000 commitments). A short-lived copy's
    cache goes with the copy."""
    return value if value.isascii() else (value + " ")[:-1]


def _tx(text: Text) -> tuple[str, str, str]:
    """The three languages of a text, ready to bind."""
    return (_fresh(text.en), _fresh(text.es), _fresh(text.fr))


def _texts(text: Text | None) -> tuple[str | None, str | None, str | None]:
    return _tx(text) if text else (None, None, None)


def _create(conn: sqlite3.Connection, schema: str) -> None:
    """Run DDL statements one by one (executescript would commit the open transaction)."""
    for statement in schema.split(";"):
        if statement.strip():
            conn.execute(statement)


def write_tables(conn: sqlite3.Connection, kb: KnowledgeBase, meta: dict[str, str]) -> None:
    """Write the public tables of `kb` (the store's, and those of `cmx export sqlite`):
    their schema derived from the model (cmx.tables), its hash kept in `meta`."""
    mapping = tables.schema()
    _create(conn, mapping.ddl)
    newest = kb.newest_date()  # read on every run (the freshness note): kept, not queried
    conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    conn.executemany(
        "INSERT INTO meta VALUES (?, ?)",
        {
            **meta,
            "schema_hash": mapping.hash,
            "newest_date": newest or "",
            "counts": json.dumps(kb.counts()),  # `cmx pillars` reads it as it is
        }.items(),
    )
    tables.write_rows(conn, kb, mapping)
    _create(conn, PUBLIC_INDEXES)
    conn.execute("ANALYZE")  # statistics: a filter uses its most selective index


def write_fts(conn: sqlite3.Connection, kb: KnowledgeBase) -> None:
    """The full-text table of an export: every entry's title and text, accents folded."""
    _create(conn, FTS_SCHEMA)
    conn.executemany("INSERT INTO entries_fts VALUES (?,?,?,?)", _fts_rows(kb))


def _fts_rows(kb: KnowledgeBase) -> Iterator[tuple[str, str, str, str]]:
    from cmx import search

    for entry in iter_entries(kb):
        high, middle, low = search.entry_texts(entry)
        yield (type(entry).__name__.lower(), entry.id, "\n".join(high), "\n".join(middle + low))


def write_index(conn: sqlite3.Connection, kb: KnowledgeBase) -> None:
    """Write cmx's search index: one row per entry, one row per word with its postings."""
    from cmx import search

    _create(conn, INDEX_SCHEMA)
    postings = search.new_postings()

    lows = conn.cursor()  # the long texts, row by row beside the others

    def docs() -> Iterator[tuple[Any, ...]]:
        for doc, indexed in enumerate(search.indexed_docs(kb)):
            search.add_postings(postings, doc, indexed.words)
            lows.execute("INSERT INTO _cmx_low VALUES (?,?)", (doc, indexed.low))
            yield (doc, *indexed.info.row(), indexed.high)

    conn.executemany("INSERT INTO _cmx_docs VALUES (?,?,?,?,?,?,?)", docs())
    conn.executemany(
        "INSERT INTO _cmx_terms VALUES (?,?,?)",
        ((term, search.df_of(p), _pack(p)) for term, p in postings.items()),
    )
    conn.executemany(
        "INSERT INTO _cmx_stems VALUES (?,?)",
        ((term, _json(ws)) for term, ws in search.stem_table(postings).items()),
    )
    conn.executemany(
        "INSERT INTO _cmx_word_stems VALUES (?,?)",
        ((word, " ".join(found)) for word, found in search.word_stems(postings)),
    )
    labels = search.concept_labels(kb)
    conn.executemany(
        "INSERT INTO _cmx_labels VALUES (?,?)",
        ((key, " ".join(ids)) for key, ids in labels.items()),  # ids: no spaces
    )
    conn.execute(
        "INSERT INTO meta VALUES ('kind_starts', ?)", (json.dumps(search.kind_starts(kb)),)
    )
    conn.execute("INSERT INTO meta VALUES ('label_words', ?)", (str(search.label_words(labels)),))


def build_file(path: Path, fill: Callable[[sqlite3.Connection], None]) -> None:
    """Write a new SQLite database at `path` (an empty or new file) in one transaction."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode = OFF")  # a private temporary file: no journal
        conn.execute("PRAGMA synchronous = OFF")
        conn.execute("BEGIN")
        fill(conn)
        conn.execute("COMMIT")
    finally:
        conn.close()


def _meta(key: str, stats: str = "") -> dict[str, str]:
    return {
        "file_stats": stats,
        "schema_version": SCHEMA_VERSION,
        "cmx_version": __version__,
        "content_key": key,
        "built": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


# How a store file is told apart from another at the same path: (device, inode, size,
# mtime in ns); a connection's own file by the first two (held open, its inode is not
# reused). None: nothing at the path. UNSURE: never equal to what is there, so a run
# that could not look does not replace anything.
Ident = tuple[int, int, int, int]
UNSURE: Ident = (-1, -1, -1, -1)
LOCK_WAIT = 10.0  # seconds a run waits for another's write to the store, then goes on without


def _ident(path: Path) -> Ident | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def _journal(path: Path) -> Path:
    return Path(f"{path}-journal")


def _busy(error: BaseException) -> bool:
    """SQLITE_BUSY or SQLITE_LOCKED: another run holds the file (nothing is damaged)."""
    code = getattr(error, "sqlite_errorcode", None)
    return isinstance(code, int) and code & 0xFF in (5, 6)


def _pause(point: str) -> None:
    """Test hook, free when unset: CMX_TEST_PAUSE=<point> stops this run there (SIGSTOP)
    so that a test can kill or resume it at a known moment. Points: before-install,
    before-index, in-index."""
    if os.environ.get("CMX_TEST_PAUSE") == point:
        import signal

        os.kill(os.getpid(), signal.SIGSTOP)


def _write_store(
    path: Path, kb: KnowledgeBase, key: str, found: Ident | None, stats: str = ""
) -> bool:
    """Build the store for `kb` beside `path` and move it into place if `path` still
    holds what this run found there (`found`); False if it did not (another run's store
    stays) or failed (a store we cannot write only costs time).

    The search index is not part of it: it is added by the first search (`_add_index`),
    so listing a new or edited KB does not pay for tokenizing all of it."""

    def fill(conn: sqlite3.Connection) -> None:
        write_tables(conn, kb, _meta(key, stats))

    import tempfile

    from cmx.files import writing

    if found == UNSURE:
        return False
    tmp: str | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        with writing(path.parent):  # a sweep by another run leaves this temporary file
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=STORE_TEMP, suffix=".tmp")
            os.close(fd)
            build_file(Path(tmp), fill)
            _pause("before-install")
            if _install(Path(tmp), path, found):
                tmp = None
                return True
            return False
    except (OSError, sqlite3.Error):
        return False
    finally:
        if tmp is not None:  # also on Ctrl-C and SIGTERM (cmx turns it into an exception)
            Path(tmp).unlink(missing_ok=True)


def _install(tmp: Path, path: Path, found: Ident | None) -> bool:
    """Move the new store `tmp` to `path`, only if `path` still holds `found` (None:
    nothing), and so that no journal is ever left beside a file it does not belong to.

    SQLite keeps a write's rollback journal at `<path>-journal`, whichever file is at
    `path`. So a file is replaced only while this run holds the write lock of the one
    there (no run is writing in it, and a journal its killed writer left has just been
    rolled back by SQLite), and the new file is locked before it appears at `path`; any
    journal still beside `path` then belongs to no live write, and is removed.
    """
    new = sqlite3.connect(tmp, isolation_level=None, timeout=0)
    old: sqlite3.Connection | None = None
    try:
        new.execute("BEGIN IMMEDIATE")  # no run writes in the new file before we are done
        if found is None:
            if _ident(path) is not None:
                return False  # another run's store came first: it stays
            try:
                os.link(tmp, path)  # fails if anything is there by now
            except FileExistsError:
                return False
            except OSError:  # no hard links on this file system
                if _ident(path) is not None:
                    return False
                os.replace(tmp, path)
            else:
                os.unlink(tmp)
            _journal(path).unlink(missing_ok=True)
            return True
        if _ident(path) != found:
            return False
        if ours(path):  # else no run of ours ever writes in it
            old = sqlite3.connect(
                f"{path.resolve().as_uri()}?mode=rw", uri=True, isolation_level=None,
                timeout=LOCK_WAIT,
            )  # fmt: skip
            if (_ident(path) or UNSURE)[:2] != found[:2]:
                return False  # replaced while connecting
            try:
                old.execute("BEGIN IMMEDIATE")  # waits for a run writing in it; rolls back
            except sqlite3.Error as error:  # a killed one's journal
                if _busy(error):
                    return False
                # not a database, or damaged: no run can be writing in it
            if (_ident(path) or UNSURE)[:2] != found[:2]:
                return False
        _journal(path).unlink(missing_ok=True)
        os.replace(tmp, path)
        return True
    finally:
        for conn in (old, new):
            if conn is not None:
                with contextlib.suppress(sqlite3.Error):
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                conn.close()


def _has_index(conn: sqlite3.Connection) -> bool:
    found = conn.execute("SELECT 1 FROM sqlite_master WHERE name = '_cmx_terms'").fetchone()
    return found is not None


def _matches(conn: sqlite3.Connection, key: str, schema_hash: str) -> bool:
    """Whether the store of `conn` was built by this version for the content `key`."""
    meta = dict(conn.execute("SELECT key, value FROM meta"))
    return (
        meta.get("schema_version") == SCHEMA_VERSION
        and meta.get("schema_hash") == schema_hash
        and meta.get("cmx_version") == __version__
        and meta.get("content_key") == key
    )


def _add_index(
    conn: sqlite3.Connection,
    inode: tuple[int, int],
    path: Path,
    key: str,
    kb: KnowledgeBase,
    schema_hash: str,
) -> bool:
    """Add cmx's search index to this run's store in one transaction (SQLite's own
    journal: a crash, SIGTERM or full disk rolls it back, and readers never see half
    an index); False when it was not (this run searches in memory, its answer the same).

    Inside the write transaction it checks that `path` still holds the connection's
    file and that this holds `key`: a run paused since it opened the store never
    writes an index for other text into a store another run has since put there. Two
    runs adding it at once take turns; the second finds it there."""
    try:
        conn.execute("BEGIN IMMEDIATE")
    except sqlite3.Error:
        return False
    try:
        here = _ident(path)
        if here is None or here[:2] != inode or not _matches(conn, key, schema_hash):
            return False
        if not _has_index(conn):
            write_index(conn, kb)
        _pause("in-index")
        conn.execute("COMMIT")
        return True
    except (OSError, sqlite3.Error):
        return False  # an index we cannot store only costs time: memory serves this run
    finally:
        with contextlib.suppress(sqlite3.Error):
            if conn.in_transaction:
                conn.execute("ROLLBACK")


def _code_path() -> Path | None:
    """Where the readers' code objects are kept (Schema.code): one file per bytecode
    version of Python, beside the stores."""
    import importlib.util

    folder = cache_dir()
    return folder / f"readers-{importlib.util.MAGIC_NUMBER.hex()}.marshal" if folder else None


def kept_code() -> dict[str, Any]:
    """The readers' code objects an earlier run kept, by their text; none if the file is
    not this user's own, or not what cmx writes (then they are compiled again)."""
    import marshal
    import types

    path = _code_path()
    if path is None or not ours(path):
        return {}
    try:
        found = marshal.loads(path.read_bytes())
    except (OSError, ValueError, EOFError, TypeError):
        return {}
    if not isinstance(found, dict):
        return {}
    return {k: v for k, v in found.items() if isinstance(k, str) and isinstance(v, types.CodeType)}


def keep_code(code: dict[str, Any]) -> None:
    """Keep the readers' code objects for the next runs."""
    import marshal

    path = _code_path()
    if path is not None:
        keep(path, marshal.dumps(code))


def _sweep(folder: Path) -> None:
    """Remove temporary files that killed runs (SIGKILL, power loss) left (cmx.files,
    imported only when there are some)."""
    if temporaries(folder, STORE_TEMP):
        from cmx.files import sweep

        sweep(folder, STORE_TEMP)


# ------------------------------------------------------------------------ reading


def _connect(path: Path) -> sqlite3.Connection:
    """A connection to the store at `path`: read-write, so that SQLite rolls back a
    journal a killed write left (read-only if the file is write-protected)."""
    return sqlite3.connect(
        f"{path.resolve().as_uri()}?mode=rw", uri=True, isolation_level=None, timeout=LOCK_WAIT
    )


def trusted_key(conn: sqlite3.Connection, stats: str) -> str | None:
    """The content key the store recorded, if the KB files stat as they did when the
    store was built from them (cmx.kb.file_stats); else None: hash the files."""
    if not stats:
        return None
    meta = dict(
        conn.execute("SELECT key, value FROM meta WHERE key IN ('file_stats', 'content_key')")
    )
    return str(meta["content_key"]) if meta.get("file_stats") == stats else None


def _record_stats(conn: sqlite3.Connection, stats: str) -> None:
    """Record how the KB files stat, once their hash has matched the store's content key
    (a store built while they were too new to be trusted): later runs skip the hashing.
    Never waits for another run's write; a store that cannot be written stays as it is."""
    try:
        conn.execute("PRAGMA busy_timeout = 0")
        with conn:
            sql = "INSERT OR REPLACE INTO meta (key, value) VALUES ('file_stats', ?)"
            conn.execute(sql, (stats,))
    except sqlite3.Error:
        pass
    finally:
        with contextlib.suppress(sqlite3.Error):
            conn.execute(f"PRAGMA busy_timeout = {int(LOCK_WAIT * 1000)}")


def _open_matching(
    path: Path, key: str | Callable[[sqlite3.Connection], str], schema_hash: str
) -> tuple[sqlite3.Connection | None, Ident | None]:
    """This run's connection to the store at `path` if it was built for `key` (or for
    the key `key(conn)` finds), and the identity of the file found there (None:
    nothing; UNSURE: it could not be read now), whose first two items are also the
    connection's file's."""
    for _ in range(3):
        before = _ident(path)
        if before is None or not ours(path):
            return None, before
        try:
            conn = _connect(path)
        except sqlite3.Error:
            return None, before
        after = _ident(path)
        if after is None or after[:2] != before[:2]:
            conn.close()
            continue  # replaced while connecting: look again
        try:
            if _journal(path).exists():
                _tidy(conn, path, after[:2])
            try:
                wanted = key if isinstance(key, str) else key(conn)
            except BaseException:
                conn.close()
                raise
            if _matches(conn, wanted, schema_hash):
                now = _ident(path)  # the size changes when a journal was rolled back
                return conn, now if now and now[:2] == after[:2] else after
        except _BAD_STORE as error:
            if _busy(error):
                after = UNSURE
        conn.close()
        return None, after
    return None, UNSURE


def _tidy(conn: sqlite3.Connection, path: Path, inode: tuple[int, int]) -> None:
    """Remove a journal that no write of a live run owns (a killed run's, already
    rolled back by SQLite as the write lock is taken, or bytes that are no journal)."""
    try:
        conn.execute("PRAGMA busy_timeout = 100")
        conn.execute("BEGIN IMMEDIATE")  # busy: another run is writing; its journal stays
    except sqlite3.Error:
        return
    finally:
        conn.execute(f"PRAGMA busy_timeout = {int(LOCK_WAIT * 1000)}")
    try:
        if (_ident(path) or UNSURE)[:2] == inode:
            _journal(path).unlink(missing_ok=True)
    except OSError:
        pass
    finally:
        conn.execute("ROLLBACK")


def _list(value: str) -> tuple[str, ...]:
    return tables.read_list(value)


def _pillars(conn: sqlite3.Connection, mapping: tables.Schema) -> tuple[Pillar, ...]:
    return tuple(tables.read_records(conn, mapping, "pillars"))


def _commitments(
    conn: sqlite3.Connection, ids: Sequence[str] | None = None, mapping: tables.Schema | None = None
) -> list[Commitment]:
    """Commitments in plan order: all of them, or those with the given ids."""
    return tables.read_records(conn, mapping or tables.schema(), "commitments", ids)


def read_kb_from(conn: sqlite3.Connection, mapping: tables.Schema | None = None) -> KnowledgeBase:
    """The whole knowledge base from a store (or a `cmx export sqlite` file)."""
    return tables.read_kb(conn, mapping or tables.schema())


def _pack(levels: search.Levels) -> bytes:
    """A term's postings as stored: the counts at levels 0 and 1, then the docs of each
    level in turn (32-bit machine ints)."""
    from array import array  # searches only: not on every run's start

    packed = array("i", (len(levels[0]), len(levels[1])))
    for docs in levels:
        packed.extend(docs)
    return packed.tobytes()


def _unpack(blob: bytes, n_docs: int) -> search.Levels:
    """The inverse of _pack; anything malformed is a ValueError (the store is rebuilt)."""
    from array import array

    codes = array("i")
    codes.frombytes(blob)
    if len(codes) < 2:
        raise ValueError("postings too short")
    one, two = 2 + codes[0], 2 + codes[0] + codes[1]
    if not 2 <= one <= two <= len(codes):
        raise ValueError("postings counts out of range")
    levels = (codes[2:one], codes[one:two], codes[two:])
    for docs in levels:  # each level is in doc order: its first and last bound it
        if docs and not (docs[0] >= 0 and docs[-1] < n_docs):
            raise ValueError("postings out of range")
    return levels


_SMALL_PARTS = ("sources", "notes", "actors", "concepts", "tags")  # with the pillars: small()
_INDEX_META = ("kind_starts", "label_words")  # what the index keeps in `meta`
_KIND_TABLES = {"pillar": "pillars", "sector": "pillars", "note": "notes", "source": "sources"}


class SqliteIndex:  # a search.Index
    """cmx's search index read from a store: only the words a query needs are read."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        mapping: tables.Schema | None = None,
        pillars: Callable[[], tuple[Pillar, ...]] | None = None,
    ) -> None:
        from cmx import search

        self._conn = conn
        self._mapping = mapping or tables.schema()
        # the pillars as the store has read them for this run (else read here)
        self._pillars = pillars or (lambda: _pillars(conn, self._mapping))
        meta = dict(conn.execute("SELECT key, value FROM meta WHERE key IN (?, ?)", _INDEX_META))
        starts = json.loads(meta["kind_starts"])
        if not (isinstance(starts, list) and len(starts) == len(search.KINDS) + 1):
            raise ValueError("not an index")
        self.starts = [int(s) for s in starts]
        self.n_docs = self.starts[-1]
        self._df: dict[str, int] = {}
        self._vocab: list[str] | None = None
        self._label_words = int(meta["label_words"])  # counted when the index was written
        self._small: dict[str, Entry] = {}  # the entries but commitments read so far, by id
        self._postings: dict[str, search.Levels] = {}  # read by this run, by term

    def df(self, term: str) -> int:
        if term not in self._df:
            self.prefetch([term])
        return self._df[term]

    def prefetch(self, terms: Sequence[str]) -> None:
        """Read the df of these terms in one statement (`df` then asks nothing)."""
        self._fill(self._df, terms, "df", 0, int)

    def _fill(
        self, kept: dict[str, Any], terms: Sequence[str], column: str, none: Any, read: Any
    ) -> None:
        """`kept[term]` = `read(column)` of each term not kept yet, in one statement
        (`none` for a term the index lacks)."""
        wanted = [t for t in dict.fromkeys(terms) if t not in kept]
        if wanted:
            rows = self._rows(f"SELECT term, {column} FROM _cmx_terms", wanted, "term")
            kept.update(dict.fromkeys(wanted, none))
            kept.update({str(t): read(v) for t, v in rows})

    def with_prefix(self, prefix: str) -> list[str]:
        rows = self._conn.execute(
            "SELECT term, df FROM _cmx_terms WHERE term >= ? AND term < ? ORDER BY term",
            (prefix, prefix + "\U0010ffff"),
        )
        out = []
        for term, df in rows:
            self._df[term] = int(df)
            out.append(str(term))
        return out

    def word_stems(self, ws: Sequence[str]) -> Mapping[str, Sequence[str]]:
        if not ws:
            return {}
        rows = self._rows("SELECT word, stems FROM _cmx_word_stems", ws, "word")
        found = {str(w): str(st).split(" ") for w, st in rows}
        return {w: v for w, v in found.items() if len(v) == len(LANGS)}

    def stem_words(self, term: str) -> Sequence[str]:
        row = self._conn.execute("SELECT words FROM _cmx_stems WHERE stem = ?", (term,))
        found = row.fetchone()
        return _list(found[0]) if found else ()

    def vocab(self) -> Sequence[str]:
        from cmx import search

        if self._vocab is None:
            rows = self._conn.execute("SELECT term FROM _cmx_terms ORDER BY term")
            self._vocab = [str(r[0]) for r in rows if not search.is_special(str(r[0]))]
        return self._vocab

    def postings(self, term: str) -> search.Levels:
        if term not in self._postings:
            self.preload([term])
        return self._postings[term]

    def preload(self, terms: Sequence[str]) -> None:
        """Read the postings of these terms in one statement, kept for this search."""
        from cmx.search import NO_POSTINGS

        unpack = functools.partial(_unpack, n_docs=self.n_docs)
        self._fill(self._postings, terms, "postings", NO_POSTINGS, unpack)

    def _rows(self, sql: str, values: Iterable[Any], column: str = "doc") -> Any:
        """`sql` (SELECT … FROM a table) for its rows whose `column` is one of `values`,
        in one statement."""
        return self._conn.execute(
            f"{sql} WHERE {column} IN (SELECT value FROM json_each(?))", (json.dumps(list(values)),)
        )

    def infos(self, docs: Iterable[int]) -> dict[int, search.DocInfo]:
        from cmx import search

        rows = self._rows("SELECT doc, kind, id, pillar, sector, status FROM _cmx_docs", docs)
        return {int(r[0]): search.DocInfo(*r[1:]) for r in rows}

    def phrases(self, docs: Iterable[int]) -> dict[int, tuple[str, str]]:
        wanted = list(docs)
        lows = self.summaries(wanted)
        return {d: (high, lows[d]) for d, high in self.titles(wanted).items()}

    def titles(self, docs: Sequence[int]) -> dict[int, str]:
        return {int(d): str(t) for d, t in self._rows("SELECT doc, high FROM _cmx_docs", docs)}

    def summaries(self, docs: Sequence[int]) -> dict[int, str]:
        if not docs:
            return {}
        return {int(d): str(t) for d, t in self._rows("SELECT doc, low FROM _cmx_low", docs)}

    def concepts_of(self, keys: Sequence[str]) -> dict[str, Sequence[str]]:
        rows = self._rows("SELECT label, concepts FROM _cmx_labels", keys, "label")
        return {str(k): str(v).split() for k, v in rows}

    def label_words(self) -> int:
        return self._label_words

    def entries(self, docs: Sequence[int]) -> dict[int, Entry]:
        infos = self.infos(docs)
        wanted = [i.id for d in docs if (i := infos[d]).kind == "commitment"]
        found: dict[str, Entry] = {c.id: c for c in _commitments(self._conn, wanted, self._mapping)}
        small = self._small  # ids are unique across kinds
        missing: dict[str, list[str]] = {}  # the entries of other kinds not read yet
        for d in docs:
            info = infos[d]
            if info.kind != "commitment" and info.id not in small:
                missing.setdefault(_KIND_TABLES[info.kind], []).append(info.id)
        for table, ids in missing.items():  # only these, from the tables of their kinds
            items: list[Entry]
            if table == "pillars":
                pillars = self._pillars()
                items = [*pillars, *(s for p in pillars for s in p.sectors)]
            else:
                items = tables.read_records(self._conn, self._mapping, table, ids)
            for item in items:
                small.setdefault(item.id, item)
        found.update(small)
        return {d: found[infos[d].id] for d in docs}


# ------------------------------------------------------------------------ the store


class Store:
    """An opened knowledge base: its records and its search index.

    Built from a matching store file when there is one (records are read only when
    asked for), else from the YAML, which is then stored for the next run.
    """

    def __init__(self, data_dir: Path, *, use_cache: bool = True) -> None:
        self.data_dir = data_dir
        self._kb: KnowledgeBase | None = None
        # This run's connection to the store it opened and verified (its file: `_found`,
        # whose first two items stay its file's), or None: the KB is in memory only.
        self._conn: sqlite3.Connection | None = None
        self._found: Ident | None = UNSURE  # what is at the path, as last seen
        self._key: str | None = None
        self._index: search.Index | None = None
        self._small: KnowledgeBase | None = None
        self._pillars: tuple[Pillar, ...] | None = None
        self._schema: tables.Schema | None = None
        self._code_kept = 0  # how many compiled readers the cache folder holds
        check_data_dir(data_dir)
        self._path = store_path(data_dir) if use_cache else None
        if self._path is not None:
            _sweep(self._path.parent)  # before any connection: it opens no store file
            stats = file_stats(data_dir)  # unchanged files: the store's key, no hashing

            hashed = False

            def find_key(conn: sqlite3.Connection) -> str:
                nonlocal hashed
                trusted = trusted_key(conn, stats)
                hashed = trusted is None
                self._key = trusted or current_key(data_dir)
                return self._key

            try:
                self._conn, self._found = _open_matching(self._path, find_key, self._mapping().hash)
            except (OSError, KBError):
                self._conn = None  # parsing reports the problem properly
            if self._conn is not None and hashed and stats and file_stats(data_dir) == stats:
                _record_stats(self._conn, stats)  # the files hash as stored: next run trusts them
        if self._conn is None:
            self._load_yaml()

    def _load_yaml(self) -> None:
        """Parse the YAML (raises KBError), then store it for the next run: the store
        replaces only what this run found at the path (none, or one it could not use)."""
        stats = file_stats(self.data_dir) if self._path is not None else ""
        kb, key = read_kb(self.data_dir)
        if stats and file_stats(self.data_dir) != stats:
            stats = ""  # changed while read: the next run hashes the files
        self._close()
        self._kb, self._index, self._key = kb, None, key
        if self._path is None or self._found == UNSURE:
            return
        _write_store(self._path, kb, key, self._found, stats)
        # ours, or one that another run has just put there for the same files
        self._conn, self._found = _open_matching(self._path, key, self._mapping().hash)

    def _close(self) -> None:
        if self._conn is not None:
            self._conn.close()
        self._conn = None

    def _recover(self, error: BaseException) -> None:
        """The store failed while read: answer from the YAML. A damaged store is
        rebuilt, replacing it only if the path still holds it; a busy one is left."""
        found, was = UNSURE, self._found
        if not _busy(error) and self._conn is not None and self._path and was is not None:
            now = _ident(self._path)
            if now is not None and now[:2] == was[:2]:
                found = now  # still the file this run opened and verified
        self._found = found
        self._load_yaml()

    def _read(self, what: Callable[[sqlite3.Connection], Any], fallback: Callable[[], Any]) -> Any:
        """`what` read from the store when the KB is not in memory; else `fallback()`."""
        if self._kb is None and self._conn is not None:
            try:
                found = what(self._conn)
            except _BAD_STORE as error:
                self._recover(error)
            else:
                if self._schema is not None and len(self._schema.code) > self._code_kept:
                    self._code_kept = len(self._schema.code)  # compiled new readers: kept
                    keep_code(self._schema.code)
                return found
        return fallback()

    def pillars(self) -> tuple[Pillar, ...]:
        """The pillars with their sectors, without reading any commitment (read once)."""
        if self._kb is not None:
            return self._kb.pillars
        if self._pillars is None:
            found: tuple[Pillar, ...] = self._read(
                lambda conn: _pillars(conn, self._mapping()), lambda: self.kb().pillars
            )
            self._pillars = found
        return self._pillars

    def counts(self) -> dict[str, int]:
        """Commitments per pillar id and per sector id, without reading any commitment."""

        def count(conn: sqlite3.Connection) -> dict[str, int]:
            row = conn.execute("SELECT value FROM meta WHERE key = 'counts'").fetchone()
            if row is not None:  # counted when the store was written
                stored = json.loads(row[0])
                if not isinstance(stored, dict):
                    raise ValueError("counts")
                return {str(k): int(n) for k, n in stored.items()}
            out: dict[str, int] = {}
            scopes = conn.execute(
                "SELECT CASE WHEN s.plan_wide THEN ? ELSE c.pillar END, count(*) "
                "FROM commitments c JOIN sectors s ON s.id = c.sector GROUP BY 1",
                (PLAN_WIDE,),
            )
            out.update({str(k): int(n) for k, n in scopes})
            sql = "SELECT sector, count(*) FROM commitments GROUP BY sector"
            out.update({str(k): int(n) for k, n in conn.execute(sql)})
            return out

        found: dict[str, int] = self._read(count, lambda: self.kb().counts())
        return found

    def stats(self, today: dt.date) -> dict[str, Any] | None:
        """cmx.tracking.stats counted in SQL (the same counts, in the same order), with
        no commitment read; None: no store to ask (count the knowledge base instead)."""
        pillars = self.pillars()

        def ranked(conn: sqlite3.Connection, column: str, table: str) -> dict[str, int]:
            # Counter.most_common: the most first, ties in the order first met (plan order)
            sql = (
                f"SELECT {column}, count(*) FROM {table} GROUP BY 1 ORDER BY 2 DESC, min(position)"
            )
            return {str(k): int(n) for k, n in conn.execute(sql)}

        def count(conn: sqlite3.Connection) -> dict[str, Any]:
            total, dated = conn.execute(
                "SELECT count(*), count(CASE WHEN due != '' THEN 1 END) FROM commitments"
            ).fetchone()
            scopes = dict(conn.execute("SELECT scope, count(*) FROM commitments GROUP BY 1"))
            statuses = dict(conn.execute("SELECT status, count(*) FROM commitments GROUP BY 1"))
            closed = sorted(s.value for s in CLOSED)
            late = conn.execute(
                f"SELECT id FROM commitments WHERE due_by < ? "
                f"AND status NOT IN ({', '.join('?' * len(closed))})",
                (today.isoformat(), *closed),
            )
            (notes,) = conn.execute("SELECT count(*) FROM notes").fetchone()
            (sources,) = conn.execute("SELECT count(*) FROM sources").fetchone()
            return {
                "commitments": int(total),
                "by_pillar": {
                    scope: int(scopes.get(scope, 0))
                    for scope in (*(p.id for p in pillars), PLAN_WIDE)
                    if scopes.get(scope) or scope != PLAN_WIDE
                },
                "by_status": {s.value: int(statuses.get(s.value, 0)) for s in Status},
                "by_instrument": ranked(conn, "instrument", "commitments"),
                "by_basis": ranked(conn, "basis", "commitments"),
                "by_source_kind": ranked(conn, "kind", "sources"),
                "overdue": sorted(str(r[0]) for r in late),
                "with_due_date": int(dated),
                "notes": int(notes),
                "sources": int(sources),
            }

        found: dict[str, Any] | None = self._read(count, lambda: None)
        return found

    def accessed(self) -> dict[str, str] | None:
        """KnowledgeBase.accessed from the columns it needs (no commitment read); None:
        no store to ask."""

        def read(conn: sqlite3.Connection) -> dict[str, str]:
            rows = conn.execute(_REVIEWS)
            return newest_reviews((str(reviewed), str(sid)) for reviewed, sid in rows)

        found: dict[str, str] | None = self._read(read, lambda: None)
        return found

    def newest_date(self) -> str | None:
        """KnowledgeBase.newest_date, without reading the commitments from a store."""

        def newest(conn: sqlite3.Connection) -> str | None:
            row = conn.execute("SELECT value FROM meta WHERE key = 'newest_date'").fetchone()
            if row is None:
                raise ValueError("no newest_date")  # not a store of this version: rebuilt
            return str(row[0]) or None

        found: str | None = self._read(newest, lambda: self.kb().newest_date())
        return found

    def small(self) -> KnowledgeBase:
        """Everything but the commitments (pillars, sectors, sources, notes, actors,
        concepts, tags): what resolving a name or rendering an entry needs."""
        if self._small is None:
            every = {"pillars", *_SMALL_PARTS}
            self._small = self._read(lambda conn: self._parts(conn, every), self.kb)
        assert self._small is not None
        return self._small

    def partial(self, parts: Iterable[str], sources: Sequence[str] | None = None) -> KnowledgeBase:
        """A knowledge base with only these parts of `small()` (the rest empty), for code
        that reads no other (cmx.filters.Filters.parts): a listing need not read every
        source and concept to check a --sector. With `sources`, only those sources."""
        if self._small is not None or self._conn is None or self._kb is not None:
            return self.small()
        wanted = set(parts)
        found: KnowledgeBase = self._read(
            lambda conn: self._parts(conn, wanted, sources), self.small
        )
        return found

    def _parts(
        self, conn: sqlite3.Connection, wanted: set[str], sources: Sequence[str] | None = None
    ) -> KnowledgeBase:
        """A knowledge base of the `wanted` parts read from the store, the rest empty."""
        mapping = self._mapping()
        found = {
            n: tuple(tables.read_records(conn, mapping, n, sources if n == "sources" else None))
            for n in _SMALL_PARTS
            if n in wanted
        }
        pillars = self.pillars() if "pillars" in wanted else ()
        return KnowledgeBase(pillars, (), found.pop("sources", ()), **found)

    def _mapping(self) -> tables.Schema:
        if self._schema is None:
            self._schema = tables.schema()
            if self._path is not None:
                self._schema.code.update(kept_code())
                self._code_kept = len(self._schema.code)
        return self._schema

    def _where(self, where: str, args: Sequence[Any]) -> list[Commitment] | None:
        """The commitments a SQL condition keeps, in plan order; None: no store to ask."""
        if self._kb is not None or self._conn is None:
            return None

        def read(conn: sqlite3.Connection) -> list[Commitment]:
            return tables.read_records(conn, self._mapping(), "commitments", where=where, args=args)

        found: list[Commitment] | None = self._read(read, lambda: None)
        return found

    def entry(self, entry_id: str) -> Entry | None:
        """The entry with this id, reading one commitment at most."""
        if self._kb is not None or self._conn is None:
            return self.kb().get(entry_id)
        known = self.small().get(entry_id)
        if isinstance(known, Pillar | Sector):  # the knowledge base's own order of kinds
            return known
        found = self._where("id = ?", (entry_id,))
        if found is None:
            return self.kb().get(entry_id)
        return found[0] if found else known

    def context(
        self, entries: Sequence[object], parts: Iterable[str] | None = None
    ) -> KnowledgeBase:
        """A knowledge base with every entry but the commitments (with `parts`, only
        those, and of the sources only those its commitments cite), and the commitments
        `entries` are or name (a sector's, a source's citers, an actor's…): enough to
        show them; the whole one when there is no store to ask. With no entries, the
        pillars only: all an empty listing names."""
        if not entries:
            return self.partial({"pillars"})
        ids: list[str] = []
        for entry in entries:
            found = self._around(entry)
            if found is None:
                return self.kb()
            ids += [c.id for c in found]
        kept = {c.id: c for c in entries if isinstance(c, Commitment)}
        missing = [i for i in dict.fromkeys(ids) if i not in kept]
        if missing:
            more = self._where("id IN (SELECT value FROM json_each(?))", (json.dumps(missing),))
            if more is None:
                return self.kb()
            kept.update({c.id: c for c in more})
        order = {cid: n for n, cid in enumerate(dict.fromkeys([*kept]))}
        chosen = sorted(kept.values(), key=lambda c: order[c.id])
        if parts is None:
            base = self.small()
        else:
            cited = dict.fromkeys(s for c in chosen for s in c.cited())
            base = self.partial(parts, list(cited))
        return dataclasses.replace(base, commitments=tuple(chosen))

    def _around(self, entry: object) -> list[Commitment] | None:
        if isinstance(entry, Commitment):
            return [entry]
        if isinstance(entry, Sector):
            return self._where("sector = ?", (entry.id,))
        if isinstance(entry, Pillar):
            return self._where("pillar = ? OR scope = ?", (entry.id, entry.id))
        if isinstance(entry, Source):
            return self._where(_CITING, (entry.id, entry.id))
        if isinstance(entry, Actor):
            return self._where(_WITH_ACTOR, (json.dumps([entry.id]),))
        if isinstance(entry, Note):
            ids = json.dumps(entry.related)
            return self._where("id IN (SELECT value FROM json_each(?))", (ids,))
        return []

    def select(self, chosen: dict[str, Any]) -> list[Commitment] | None:
        """The commitments resolved filters keep (cmx.filters.Filters.resolve), found
        in SQL; None: no store to ask (filter the knowledge base instead)."""
        conds: list[str] = []
        args: list[Any] = []
        for key, sql in _FILTERS:
            value = chosen.get(key)
            if value is None or value is False:
                continue
            if key == "actors":
                value = json.dumps(list(value))
            elif isinstance(value, dt.date):
                value = value.isoformat()
            conds.append(sql)
            args += [value] * sql.count("?")
        if chosen.get("overdue_on") is not None:
            conds.append(f"status NOT IN ({', '.join('?' * len(CLOSED))})")
            args += sorted(s.value for s in CLOSED)
        if chosen.get("tag") is not None:
            return None  # tags match folded (cmx.search.filter_commitments)
        return self._where(" AND ".join(conds) or "1", args)

    def dated(
        self, scope: str | None, start: dt.date | None, end: dt.date | None
    ) -> KnowledgeBase | None:
        """A knowledge base with the commitments of `scope` that have an event or a
        deadline that may fall from `start` to `end` (a superset: cmx.tracking.timeline
        decides); None: no store to ask."""
        first = start.isoformat() if start else ""
        last = end.isoformat() if end else "9999"
        # A partial date (2026, 2026-07) covers the days that start with it: it may end
        # on or after `first` if it followed by "~" sorts after `first`; it starts on or
        # before `last` if it sorts before `last`.
        where = (
            "(? = '' OR scope = ?) AND ((due IS NOT NULL AND due_by >= ? AND due <= ?) "
            "OR id IN (SELECT commitment FROM events WHERE date >= substr(?, 1, 4) "
            "AND date || '~' >= ? AND date <= ?))"
        )
        found = self._where(where, (scope or "", scope, first, last, first, first, last))
        if found is None:
            return None
        return dataclasses.replace(self.small(), commitments=tuple(found))

    def kb(self) -> KnowledgeBase:
        if self._kb is None:
            try:
                assert self._conn is not None
                self._kb = read_kb_from(self._conn, self._mapping())
            except _BAD_STORE as error:
                self._recover(error)
        assert self._kb is not None
        return self._kb

    def index(self) -> search.Index:
        """The search index: the store's (added to it by the first search), else one
        built in memory (no store, or one that cannot be written)."""
        from cmx import search

        if self._index is None:
            try:
                if self._conn is not None and (_has_index(self._conn) or self._store_index()):
                    self._index = SqliteIndex(self._conn, self._mapping(), self.pillars)
            except _BAD_STORE as error:
                self._recover(error)
                self._index = None
            if self._index is None:
                self._index = search.MemoryIndex(self.kb())
        return self._index

    def _store_index(self) -> bool:
        """Add the index to this run's store; False: it was not (see _add_index)."""
        kb = self.kb()  # read before the write lock is taken: other runs wait less
        conn, found, path, key = self._conn, self._found, self._path, self._key
        if conn is None or found is None or path is None or key is None:
            return False  # kb() fell back to the YAML: memory serves this run
        _pause("before-index")
        return _add_index(conn, found[:2], path, key, kb, self._mapping().hash)

    def search(self, query: str, **options: Any) -> list[search.Hit]:
        """Ranked hits (see cmx.search.search); a damaged store is rebuilt, not fatal."""
        from cmx import search

        try:
            return search.search(self.index(), query, **options)
        except _BAD_STORE as error:
            if not isinstance(self._index, SqliteIndex):
                raise
            self._recover(error)
        self._index = search.MemoryIndex(self.kb())
        return search.search(self._index, query, **options)

    def suggestions(self, query: str) -> list[str]:
        from cmx import search

        try:
            return search.suggestions(self.index(), query)
        except _BAD_STORE:
            return []


# (review date, cited source) of every reviewed commitment, in plan order: the sources
# KnowledgeBase.accessed takes from Commitment.cited().
_REVIEWS = (
    "SELECT c.reviewed, x.source FROM commitments c JOIN ("
    "SELECT entry AS id, source FROM citations WHERE entry_kind = 'commitment' "
    "UNION ALL SELECT commitment, source FROM events "
    "UNION ALL SELECT id, amount_source FROM commitments WHERE amount_source IS NOT NULL "
    "UNION ALL SELECT id, due_source FROM commitments WHERE due_source IS NOT NULL"
    ") x ON x.id = c.id WHERE c.reviewed IS NOT NULL AND c.reviewed != '' ORDER BY c.position"
)
_CITING = (
    "id IN (SELECT entry FROM citations WHERE entry_kind = 'commitment' AND source = ? "
    "UNION SELECT commitment FROM events WHERE source = ?)"
)
_WITH_ACTOR = (
    "id IN (SELECT commitment FROM commitment_actors "
    "WHERE actor IN (SELECT value FROM json_each(?)))"
)
# Resolved filters (cmx.filters.Filters.resolve) as SQL over the commitments table.
_FILTERS = (
    ("scope", "scope = ?"),
    ("sector", "sector = ?"),
    ("status", "status = ?"),
    ("instrument", "instrument = ?"),
    ("basis", "basis = ?"),
    ("actors", _WITH_ACTOR),
    ("source", _CITING),
    ("due_before", "due_by < ?"),
    ("overdue_on", "due_by < ?"),
)


def open_store(data_dir: Path, *, use_cache: bool = True) -> Store:
    """The knowledge base in `data_dir`; raises KBError when it is invalid."""
    return Store(data_dir, use_cache=use_cache)
