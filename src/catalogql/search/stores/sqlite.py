"""The embedded store (the default): one SQLite file, through the standard library's ``sqlite3``.

Tables:

- ``records``: ``id``, ``identifier`` (unique), ``ts`` (the time key), ``types`` and
  ``properties`` as JSON text (JSON1 reads them), ``footprint`` as WKB; an index on
  ``(ts DESC, identifier)`` gives the search order, and read backwards the ascending order (with
  only the records of one time key sorted by identifier: one index to write, not two);
- ``footprints``: an R*Tree over the footprints' bounding boxes (stored as 32-bit floats rounded
  outwards, so a box never shrinks), refined exactly with shapely;
- ``record_types`` and ``record_keys``: (label, record) and (equality key, record) rows, the type
  postings and the identifier lookups;
- ``record_readers``: (record, reader) rows, the names that may read each record (keyed by
  record, so a row's check is a primary-key lookup), with an index on (reader, record), the
  readers' postings. A catalog made before it existed gains it on opening, every record readable
  by :data:`~catalogql.search.engine.EVERYONE`.

A new file has 16 KiB pages (:data:`_PAGE_SIZE`; a file made with SQLite's 4 KiB keeps them, and
both work alike), and every connection reads through a memory map (:data:`_MMAP_BYTES`). A load
writes each batch's rows a table at a time (``executemany`` over prebuilt tuples); the type
postings are written a label at a time, each label bound with the ids of the batch's records
carrying it as one JSON array (``json_each``), and the readers of its new records copied by
SQLite from their rows, not bound from Python a row at a time.

A load into an empty store (a new file, or one whose records were all removed; outside a unit
of work) is one transaction, each batch a savepoint in it, and the R*Tree is filled once, when
the load ends: packed bottom-up (Sort-Tile-Recursive) and written straight into its node tables
in SQLite's own format, the same float32 values an ``INSERT`` writes (inserting a box costs
~8 us, a third of a record's write; packing ~1.5). The order index is dropped in the same
transaction and made again (sorted) when the load ends (~1 us a record less). What this keeps
and changes:

- a batch is still atomic: a failing batch is rolled back to its savepoint, and the load ends
  with the batches before it committed, also on an exception or ``KeyboardInterrupt``; if that
  commit fails too (a second interrupt while the tree is packed), the whole load is rolled back;
- the store is never seen without its indexes: other connections (threads, processes) see the
  store as before the load (empty) until it commits, whole; a search on the loading thread
  (from a ``progress`` callback) first builds what was deferred, and the load goes on
  inserting boxes and index entries as they come;
- a process killed mid-load leaves the store as before the load (nothing committed), where a
  load one transaction a batch keeps the batches before;
- another writer waits for the whole load (up to :data:`BUSY_SECONDS`), not for one batch;
- loading again into a store that holds records (the same records: nothing changes) writes a
  transaction a batch, as before, with the R*Tree updated row by row.

A search restricted to reader names checks, for every row it considers, that one of the names is
among the row's readers (``EXISTS`` on the primary key), and may drive from the names' postings
when they are the smallest candidate set.

Filters and type expressions run in SQL (:func:`catalogql.compile.sql.to_sql`, with the same
meaning as the predicates). A search is planned the way the memory store plans it: from the
smallest candidate set (an area's boxes, a type name, an identifier lookup), sorted, or by walking
the order index through the date range and stopping at the limit, whichever is cheaper
(:mod:`catalogql.search.stores.memory` explains the rule). The exact footprint test runs on the rows
SQLite returns, in order, until the limit is reached.

Threads and processes: a file is in WAL mode, so readers never wait for the writer and see only
committed units. Each thread gets its own connection (opened on first use, all closed by
:meth:`~catalogql.search.engine.Catalog.close`). A unit of work is one ``BEGIN IMMEDIATE`` ...
``COMMIT`` on its thread's connection; another writer (thread or process) waits for it. Waiting
for a lock is bounded by :data:`BUSY_SECONDS`: SQLite's busy handler waits, the statement is
retried, and only past that bound does the caller get a
:class:`~catalogql.search.errors.CatalogError` (never SQLite's "database is locked"). The
in-memory database (``sqlite://``) lives in one connection, which threads share in turn (a unit
holds it until it ends).

>>> catalog = SQLiteCatalog("sqlite://")
>>> catalog.add_records([{"identifier": "a", "type": ["WV02"], "properties": {
...     "timestamp": "2016-01-01", "footprintWkt": "POINT(1 1)", "cloudCover": 3}}])
1
>>> catalog.search({"filters": ["cloudCover < 5"]})["stats"]["recordsReturned"]
1
"""

from __future__ import annotations

import bisect
import contextlib
import functools
import json
import math
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import orjson
import shapely
from numpy.typing import NDArray

from catalogql.ast import Node, walk
from catalogql.compile.predicate import Predicate, TypesPredicate
from catalogql.compile.sql import install_functions, to_sql
from catalogql.search.documents import SQLITE_SCHEMA as DOCUMENTS_SCHEMA
from catalogql.search.engine import EVERYONE, Catalog, Page, Query, Transaction
from catalogql.search.errors import CatalogError, CatalogNotFound
from catalogql.search.records import StoredRecord, decode_stored, stored_labels
from catalogql.syntax.errors import Inexpressible

__all__ = ["BUSY_SECONDS", "SQLiteCatalog", "sqlite_path"]

BUSY_SECONDS = 60.0
"""How long an operation waits, in all, for a lock another writer holds before it fails."""

T = TypeVar("T")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    id INTEGER PRIMARY KEY,
    identifier TEXT NOT NULL UNIQUE,
    ts TEXT NOT NULL,
    types TEXT NOT NULL,
    properties TEXT NOT NULL,
    footprint BLOB NOT NULL,
    exotic INTEGER NOT NULL
);
CREATE VIRTUAL TABLE IF NOT EXISTS footprints USING rtree (id, min_x, max_x, min_y, max_y);
CREATE TABLE IF NOT EXISTS record_types (
    label TEXT NOT NULL, record INTEGER NOT NULL, PRIMARY KEY (label, record)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS record_keys (
    key TEXT NOT NULL, record INTEGER NOT NULL, PRIMARY KEY (key, record)
) WITHOUT ROWID;
"""

_ORDER_INDEX = "CREATE INDEX IF NOT EXISTS records_order ON records (ts DESC, identifier)"

_READERS_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS record_readers ("
    "record INTEGER NOT NULL, reader TEXT NOT NULL, PRIMARY KEY (record, reader)"
    ") WITHOUT ROWID",
    "CREATE INDEX IF NOT EXISTS record_readers_reader ON record_readers (reader, record)",
)

_PAGE_SIZE = 16384
"""The page size of a new file (bytes); a file made with SQLite's default 4 KiB keeps its own.

Against 4 KiB pages, a load writes ~18% less CPU time (the store's share of the 20,000 real
records: 44 -> 36 us a record; ``catalogql load`` of them 11,019 -> 12,203 records/s, one run of
three interleaved rounds) and the file is 12% smaller (a record's row is ~2.5 KB: one to a 4 KiB
page, six to a 16 KiB one). The price would be paid by a search that walks the time index: it
reads rows scattered over the table, a page each, and a 16 KiB page copied into SQLite's cache
for a ~2.5 KB row is four times the bytes to copy and to hold. On 300,000 synthetic records the
twenty broad searches of the search benchmark, repeated with a 256 MiB cache, spent 36-45 ms of
system time a search copying pages the cache could not hold (none with 4 KiB pages). Reading
through a memory map (:data:`_MMAP_BYTES`) copies nothing: the same searches took 72-78 ms of
CPU a search against 85-90 with 4 KiB pages and no map. 64 KiB pages were no faster to write.
"""
_MMAP_BYTES = 2**40
"""How much of a file SQLite reads through a memory map (``PRAGMA mmap_size``), capped by its
build (2 GiB here): pages are read where the OS keeps them, not copied into each connection's
cache. A file past the cap reads the rest as before. (SQLite's caveat: an I/O error on a
mapped page is a signal, not an error it can report; the file is local.)
"""
_AUTOCHECKPOINT_BYTES = 4 * 2**20  # SQLite's default (1,000 pages of 4 KiB): WAL that checkpoints
_BULK_AUTOCHECKPOINT_BYTES = 256 * 2**20  # during a load: WAL between checkpoints
_WAL_KEPT = 64 * 2**20  # journal_size_limit: the WAL file is cut to this when it is reset
_SAMPLE_EVERY = 64  # one time key in this many is kept in memory, to size date ranges

SQL_COMPARISONS = 1500
"""Past this many comparisons a filter or type expression is decided in Python, not in SQL.

SQLite prepares a WHERE clause in time quadratic in its terms (measured on 3.40.1, AND chains of
distinct comparisons: 1,000 terms 0.26 s, 2,000 1.07 s, 3,000 2.2 s, 4,000 4.2 s of CPU before
the first row), while the compiled predicate costs linear time (4,000: 0.33 s on the memory
store). At 1,500 the preparation stays near half a second; the answers are the same either way.
"""


def sqlite_path(url: str) -> str:
    """The database path of a ``sqlite:`` URL (or of a bare path).

    >>> sqlite_path("sqlite:///catalog.db"), sqlite_path("sqlite:////tmp/c.db")
    ('catalog.db', '/tmp/c.db')
    >>> sqlite_path("sqlite://"), sqlite_path("data/c.db")
    (':memory:', 'data/c.db')
    """
    if not url.startswith("sqlite:"):
        return url
    rest = url[len("sqlite:") :]
    if rest in ("", "//", "///:memory:", "//:memory:"):
        return ":memory:"
    if rest.startswith("///"):
        return rest[3:]
    raise CatalogError(
        f"not an SQLite URL: {url!r}: write sqlite:///relative/path.db or sqlite:////absolute.db"
    )


def _require_catalog(url: str, path: str) -> None:
    """Raise :class:`CatalogNotFound` unless ``path`` is an SQLite file with a catalog in it."""
    if not Path(path).is_file():
        what = "is not a file" if Path(path).exists() else "does not exist"
        raise CatalogNotFound(url, f"the file {path} {what}")
    try:
        with contextlib.closing(sqlite3.connect(path, timeout=BUSY_SECONDS)) as db:
            found = db.execute(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'records'"
            ).fetchone()[0]
    except sqlite3.Error as error:
        raise CatalogError(f"cannot open {url}: {error}") from None
    if not found:
        raise CatalogNotFound(url, f"the SQLite file {path} holds no catalog (no records table)")


class SQLiteCatalog(Catalog):
    """A catalog in an SQLite file (``sqlite:///path``); see the module docstring."""

    busy_seconds = BUSY_SECONDS
    """The bound on waiting for another writer's lock (seconds), per operation."""

    def __init__(self, url: str, **options: Any) -> None:
        super().__init__(url, **options)
        path = sqlite_path(url)
        if path != ":memory:":
            folder = Path(path).parent
            if not folder.is_dir():
                if not self.create:
                    raise CatalogNotFound(url, f"the folder {folder} does not exist")
                raise CatalogError(f"cannot open {url}: the folder {folder} does not exist")
            if not self.create:
                _require_catalog(url, path)
        self._path = path
        self._shared = path == ":memory:"  # one database per connection: share the one
        self._lock = threading.RLock()  # serialises the shared connection's users
        self._threads = threading.local()  # .db: this thread's connection
        self._connections: dict[int, tuple[threading.Thread, sqlite3.Connection]] = {}
        self._connections_lock = threading.Lock()
        self._statistics: _Statistics | None = None
        try:
            first = self._retry(lambda: self._connect(first=True), "open")
        except sqlite3.Error as error:
            raise CatalogError(f"cannot open {url}: {error}") from None
        self._first = first  # the shared connection of an in-memory database; closed last
        if not self._shared:
            self._register(first)

    def _connect(self, *, first: bool = False) -> sqlite3.Connection:
        timeout = min(self.busy_seconds, 5.0)  # SQLite's busy handler waits this, then we retry
        db = sqlite3.connect(
            self._path, check_same_thread=False, isolation_level=None, timeout=timeout
        )
        try:
            if first:
                db.execute(f"PRAGMA page_size = {_PAGE_SIZE}")  # a no-op on an existing file
                db.executescript(_SCHEMA)
                db.execute(_ORDER_INDEX)
                db.executescript(DOCUMENTS_SCHEMA)  # the service's table
                if not self._shared:
                    db.execute("PRAGMA journal_mode = WAL")
                self._add_readers(db)
            db.execute("PRAGMA synchronous = NORMAL")
            db.execute(f"PRAGMA cache_size = {-262144 if first else -65536}")  # KiB
            db.execute("PRAGMA temp_store = MEMORY")
            db.execute(f"PRAGMA mmap_size = {_MMAP_BYTES}")
            db.execute(f"PRAGMA journal_size_limit = {_WAL_KEPT}")
            (page,) = db.execute("PRAGMA page_size").fetchone()
            db.execute(f"PRAGMA wal_autocheckpoint = {_AUTOCHECKPOINT_BYTES // page}")
        except BaseException:
            db.close()
            raise
        install_functions(db)
        return db

    @staticmethod
    def _add_readers(db: sqlite3.Connection) -> None:
        """Create the readers table if it is missing, an older catalog's records readable by all.

        One transaction: another process opening the file at once waits, then finds it made.
        """
        exists = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'record_readers'"
        if db.execute(exists).fetchone() is not None:
            return
        db.execute("BEGIN IMMEDIATE")
        try:
            if db.execute(exists).fetchone() is None:
                for statement in _READERS_SCHEMA:
                    db.execute(statement)
                db.execute("INSERT INTO record_readers SELECT id, ? FROM records", (EVERYONE,))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def _register(self, db: sqlite3.Connection) -> None:
        """Keep this thread's connection (closing those of threads that have ended)."""
        self._threads.db = db
        with self._connections_lock:
            for ident, (thread, old) in list(self._connections.items()):
                if not thread.is_alive():
                    old.close()
                    del self._connections[ident]
            self._connections[threading.get_ident()] = (threading.current_thread(), db)

    def _db(self) -> sqlite3.Connection:
        """This thread's connection (the shared one for an in-memory database)."""
        if self._shared:
            return self._first
        db: sqlite3.Connection | None = getattr(self._threads, "db", None)
        if db is None:
            self._check_open()
            try:
                db = self._retry(self._connect, "open")
            except sqlite3.Error as error:
                raise CatalogError(f"cannot open {self.url}: {error}") from None
            self._register(db)
        return db

    def _retry(self, work: Callable[[], T], what: str) -> T:
        """Run ``work``, again while another writer holds the lock, up to ``busy_seconds``."""
        deadline = time.monotonic() + self.busy_seconds
        pause = 0.01
        while True:
            try:
                return work()
            except sqlite3.OperationalError as error:
                if not _busy(error):
                    raise
                if time.monotonic() >= deadline:
                    raise CatalogError(
                        f"cannot {what} {self.url}: another writer kept the database locked "
                        f"for more than {self.busy_seconds:g} seconds ({error}); retry when "
                        "its load has finished, or make its units of work smaller"
                    ) from None
            time.sleep(pause)
            pause = min(pause * 2, 0.5)

    def _guard(self) -> Any:
        """The lock a reader of the shared in-memory connection holds; none for a file."""
        return self._lock if self._shared else _NO_LOCK

    # -- writing -----------------------------------------------------------------------------

    @contextlib.contextmanager
    def _bulk(self) -> Iterator[None]:
        """Around a whole load: into an empty store, one transaction; else rare checkpoints.

        Into an empty store (and outside a unit), the load is one transaction, each batch a
        savepoint in it, and the R*Tree is filled once when it ends (see the module
        docstring). Otherwise each batch is its own transaction, and the write-ahead log is
        checkpointed rarely: by default SQLite copies it into the database at almost every
        commit of a batch; during a load this connection does so only when the log holds 256
        MiB (``_BULK_AUTOCHECKPOINT_BYTES``), and once at the end, which also cuts the log
        file to nothing (``TRUNCATE``; it waits for readers still holding old pages up to the
        busy timeout, then leaves the rest to later checkpoints). The log stays bounded:
        deferring every checkpoint of a 1,000,000-record load left a 14 GiB log beside a 3.3
        GiB database, since each commit appends the index pages it rewrites; a reset log is
        cut back to 64 MiB (``journal_size_limit``). A load into an empty store, one
        transaction, writes its whole size to the log first: the checkpoint at its end copies
        it and empties the file (a 1,000,000-record load otherwise left a 2.6 GB log beside
        the database while the catalog stayed open).
        """
        if self._shared:
            yield
            return
        db = self._db()
        (page,) = db.execute("PRAGMA page_size").fetchone()
        db.execute(f"PRAGMA wal_autocheckpoint = {_BULK_AUTOCHECKPOINT_BYTES // page}")
        try:
            if db.in_transaction or getattr(self._threads, "load", None) is not None:
                yield  # inside a unit, or a load on this thread already (from its progress)
            else:
                with self._load(db):
                    yield
        finally:
            db.execute(f"PRAGMA wal_autocheckpoint = {_AUTOCHECKPOINT_BYTES // page}")
            if not db.in_transaction:  # inside a unit: its commit checkpoints as usual
                with contextlib.suppress(sqlite3.Error):
                    db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()

    @contextlib.contextmanager
    def _load(self, db: sqlite3.Connection) -> Iterator[None]:
        """A load into an empty store as one transaction, its order index and R*Tree built last.

        Whatever ends the load (its end, an error, an interrupt), the batches written until
        then are committed with their boxes placed; if that fails too, all is rolled back
        (the store as before the load: empty, its tables and indexes whole).
        """
        self._retry(lambda: db.execute("BEGIN IMMEDIATE"), "write to")
        try:
            (empty,) = db.execute(
                "SELECT NOT EXISTS (SELECT 1 FROM records) "
                "AND NOT EXISTS (SELECT 1 FROM footprints_rowid)"
            ).fetchone()
        except BaseException:
            db.execute("ROLLBACK")
            raise
        if not empty:
            db.execute("ROLLBACK")  # nothing written: batches commit one at a time
            yield
            return
        try:
            db.execute("DROP INDEX records_order")  # made again, sorted, when the load ends
        except BaseException:
            db.execute("ROLLBACK")
            raise
        load = _Load()
        self._threads.load = load
        try:
            yield
        finally:
            self._threads.load = None
            if db.in_transaction:  # (an error SQLite rolled back itself ends it)
                self._commit_or_roll_back(db, lambda: self._place_boxes(db, load))
            else:
                self._statistics = None

    def _place_deferred(self, db: sqlite3.Connection, load: _Load) -> None:
        """Place a load's deferred boxes now: a search on its own thread needs the R*Tree.

        Inside a unit (a savepoint), the unit's own boxes too, and the load's are kept aside
        until it ends: its rollback undoes the placing, and the load defers again.
        """
        unit = self._current()
        batch = unit.state if unit is not None and isinstance(unit.state, _Batch) else None
        if batch is not None:
            batch.placed = (list(load.ids), list(load.bounds))
            load.ids, load.bounds = load.ids + batch.ids, load.bounds + batch.bounds
            batch.ids, batch.bounds = [], []
        self._place_boxes(db, load)

    def _place_boxes(self, db: sqlite3.Connection, load: _Load) -> None:
        """Build what a load deferred: the order index, and its boxes in the R*Tree.

        The boxes are packed when the R*Tree is empty. A record written several times keeps
        its last box; a record removed since has none. From then on the load writes its boxes
        as they come (``load.deferred`` is False).
        """
        if not load.deferred:
            return
        load.deferred = False
        db.execute(_ORDER_INDEX)
        if not load.ids:
            return
        ids, bounds = np.concatenate(load.ids), np.concatenate(load.bounds)
        load.ids, load.bounds = [], []
        _, last = np.unique(ids[::-1], return_index=True)  # sorted by id, the last of each
        ids, bounds = ids[::-1][last], bounds[::-1][last]
        stored = np.fromiter((row for (row,) in db.execute("SELECT id FROM records")), np.int64)
        kept = np.isin(ids, stored)
        ids, bounds = ids[kept], bounds[kept]
        empty = "SELECT NOT EXISTS (SELECT 1 FROM footprints_rowid)"
        if len(ids) and db.execute(empty).fetchone()[0]:
            db.execute("SAVEPOINT pack")
            try:
                _pack_rtree(db, "footprints", ids, bounds)
            except sqlite3.DatabaseError:  # node tables SQLite will not let be written: insert
                db.execute("ROLLBACK TO pack")
            else:
                ids = ids[:0]
            db.execute("RELEASE pack")
        boxes = zip(ids.tolist(), *bounds[: len(ids)].T.tolist(), strict=True)
        db.executemany("INSERT INTO footprints VALUES (?, ?, ?, ?, ?)", boxes)

    def _begin(self, unit: Transaction) -> None:
        load: _Load | None = None if self._shared else getattr(self._threads, "load", None)
        if load is not None:  # a batch of a load into an empty store: a savepoint in its unit
            db = self._db()
            db.execute("SAVEPOINT unit")
            unit.connection, unit.state = db, _Batch(load)
            return
        if self._shared:
            self._lock.acquire()  # held until the unit ends: the connection is the database
        try:
            db = self._db()
            self._retry(lambda: db.execute("BEGIN IMMEDIATE"), "write to")
        except BaseException:
            if self._shared:
                self._lock.release()
            raise
        unit.connection = db

    def _write(self, batch: list[StoredRecord], unit: Transaction, readers: frozenset[str]) -> None:
        try:
            state = unit.state
            boxes = state if isinstance(state, _Batch) and state.load.deferred else None
            self._write_batch(unit.connection, batch, sorted(readers), boxes)
        except sqlite3.OperationalError as error:
            if _busy(error):  # not expected under BEGIN IMMEDIATE; never SQLite's own message
                raise CatalogError(
                    f"cannot write to {self.url}: the database is locked ({error}); retry"
                ) from None
            raise

    def _set_readers(self, label: str, readers: frozenset[str], unit: Transaction) -> int:
        db: sqlite3.Connection = unit.connection
        carrying = "SELECT record FROM record_types WHERE label = ?"
        db.execute(f"DELETE FROM record_readers WHERE record IN ({carrying})", (label,))
        db.executemany(
            "INSERT INTO record_readers SELECT record, ? FROM record_types WHERE label = ?",
            [(name, label) for name in sorted(readers)],
        )
        (count,) = db.execute(f"SELECT count(*) FROM ({carrying})", (label,)).fetchone()
        return int(count)

    def _remove(self, identifiers: frozenset[str], label: str | None, unit: Transaction) -> int:
        db: sqlite3.Connection = unit.connection
        found: set[int] = set()
        chosen = sorted(identifiers)
        for start in range(0, len(chosen), 500):
            chunk = chosen[start : start + 500]
            marks = ",".join("?" * len(chunk))
            sql = f"SELECT id FROM records WHERE identifier IN ({marks})"
            found.update(row[0] for row in db.execute(sql, chunk))
        if label is not None:
            sql = "SELECT record FROM record_types WHERE label = ?"
            found.update(row[0] for row in db.execute(sql, (label,)))
        rows = [(record,) for record in sorted(found)]
        db.executemany("DELETE FROM records WHERE id = ?", rows)
        db.executemany("DELETE FROM footprints WHERE id = ?", rows)
        db.executemany("DELETE FROM record_types WHERE record = ?", rows)
        db.executemany("DELETE FROM record_keys WHERE record = ?", rows)
        db.executemany("DELETE FROM record_readers WHERE record = ?", rows)
        return len(rows)

    def _commit(self, unit: Transaction) -> None:
        db: sqlite3.Connection = unit.connection
        if isinstance(unit.state, _Batch):
            try:
                db.execute("RELEASE unit")
            except BaseException:
                self._rollback(unit)
                raise
            finally:
                self._statistics = None
            unit.state.load.ids.extend(unit.state.ids)
            unit.state.load.bounds.extend(unit.state.bounds)
            return
        try:
            self._commit_or_roll_back(db)
        finally:
            if self._shared:
                self._lock.release()

    def _commit_or_roll_back(
        self, db: sqlite3.Connection, first: Callable[[], None] | None = None
    ) -> None:
        """Commit ``db``'s transaction (after ``first``); anything raised rolls it back.

        The planner's statistics are read again either way: the catalog may have changed.
        """
        try:
            if first is not None:
                first()
            self._retry(lambda: db.execute("COMMIT"), "commit to")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        finally:
            self._statistics = None

    def _rollback(self, unit: Transaction) -> None:
        db: sqlite3.Connection = unit.connection
        if isinstance(unit.state, _Batch):
            batch = unit.state
            if batch.placed is not None:  # the boxes placed in the unit are undone with it
                batch.load.ids, batch.load.bounds = batch.placed
                batch.load.deferred = True
            if db.in_transaction:  # (else SQLite rolled the whole load back itself)
                db.execute("ROLLBACK TO unit")
                db.execute("RELEASE unit")
            return
        try:
            if db.in_transaction:
                db.execute("ROLLBACK")
        finally:
            if self._shared:
                self._lock.release()

    def _write_batch(
        self,
        db: sqlite3.Connection,
        batch: list[StoredRecord],
        readers: list[str],
        deferred: _Batch | None = None,
    ) -> None:
        """Write a batch's rows; its boxes into ``deferred`` when given, else the R*Tree."""
        existing: dict[str, tuple[int, str, str]] = {}
        identifiers = [record.identifier for record in batch]
        for start in range(0, len(identifiers), 500):
            chunk = identifiers[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for row in db.execute(
                "SELECT identifier, id, types, properties FROM records "
                f"WHERE identifier IN ({marks})",
                chunk,
            ):
                existing[row[0]] = (row[1], row[2], row[3])
        (next_id,) = db.execute("SELECT coalesce(max(id), 0) + 1 FROM records").fetchone()
        first_new = next_id  # the new records take the ids first_new .. next_id - 1, in order
        replaced: list[tuple[int]] = []
        kept: list[tuple[int]] = []  # records stored as they are: only their readers are written
        written: list[StoredRecord] = []
        ids: list[int] = []
        for record in batch:
            old = existing.get(record.identifier)
            if old is not None:
                if old[1] == _types_text(record.types) and old[2] == record.properties_json:
                    kept.append((old[0],))  # already stored as it is
                    continue
                replaced.append((old[0],))
                ids.append(old[0])
            else:
                ids.append(next_id)
                next_id += 1
            written.append(record)
        # the rows of each table, a column at a time (the boxes and WKB in one shapely call each)
        footprints = [record.footprint for record in written]
        wkbs = shapely.to_wkb(footprints).tolist() if written else []
        extents = shapely.bounds(footprints) if written else np.empty((0, 4))
        rows = [
            (
                record_id,
                record.identifier,
                record.timestamp,
                _types_text(record.types),
                record.properties_json,
                wkb,
                record.wide,
            )
            for record_id, record, wkb in zip(ids, written, wkbs, strict=True)
        ]
        boxes = []
        if deferred is not None:
            deferred.ids.append(np.array(ids, np.int64))
            deferred.bounds.append(extents[:, [0, 2, 1, 3]])
        else:
            boxes = [
                (record_id, box[0], box[2], box[1], box[3])
                for record_id, box in zip(ids, extents.tolist(), strict=True)
            ]
        # The type postings: each set of labels once, bound as itself, with the ids carrying
        # it as one JSON array SQLite reads (a statement a label of each set, no Python tuple
        # a row); the readers of the new records copied by SQLite from their rows.
        new = (first_new, next_id - 1)
        carrying: dict[tuple[str, ...], list[int]] = {}
        for record_id, record in zip(ids, written, strict=True):
            carrying.setdefault(record.types, []).append(record_id)
        labels = [
            (label, orjson.dumps(group).decode())
            for types, group in carrying.items()
            for label in types
        ]
        keys = [
            (key, record_id)
            for record_id, record in zip(ids, written, strict=True)
            for key in record.keys
        ]
        named = [
            (record_id, name)
            for record_id in ids + [row[0] for row in kept]
            if record_id < first_new
            for name in readers
        ]  # (record, reader), the new records' below
        if replaced:
            db.executemany("DELETE FROM records WHERE id = ?", replaced)
            db.executemany("DELETE FROM footprints WHERE id = ?", replaced)
            db.executemany("DELETE FROM record_types WHERE record = ?", replaced)
            db.executemany("DELETE FROM record_keys WHERE record = ?", replaced)
        if replaced or kept:
            db.executemany("DELETE FROM record_readers WHERE record = ?", replaced + kept)
        db.executemany("INSERT INTO records VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
        if boxes:
            db.executemany("INSERT INTO footprints VALUES (?, ?, ?, ?, ?)", boxes)
        db.executemany("INSERT INTO record_types SELECT ?, value FROM json_each(?)", labels)
        db.executemany("INSERT INTO record_keys VALUES (?, ?)", keys)
        db.executemany("INSERT INTO record_readers VALUES (?, ?)", named)
        if new[0] <= new[1]:
            db.executemany(
                "INSERT INTO record_readers SELECT id, ? FROM records WHERE id BETWEEN ? AND ?",
                [(name, *new) for name in readers],
            )

    # -- reading -----------------------------------------------------------------------------

    def _get(self, identifier: str, readers: frozenset[str] | None) -> Mapping[str, Any] | None:
        sql = (
            "SELECT identifier, types, properties, exotic FROM records AS r WHERE identifier = :id"
        )
        params: dict[str, Any] = {"id": identifier}
        if readers is not None:
            sql += " AND " + _readable(readers, params)

        def get() -> Any:
            return self._db().execute(sql, params).fetchone()

        with self._guard():
            row = self._retry(get, "read")
        return None if row is None else decode_stored(row[0], row[1], row[2], wide=row[3])

    def _count(self) -> int:
        with self._guard():
            (count,) = self._retry(
                lambda: self._db().execute("SELECT count(*) FROM records").fetchone(), "read"
            )
        return int(count)

    def _close(self) -> None:
        with self._lock, self._connections_lock:
            for _, db in self._connections.values():
                db.close()
            self._connections.clear()
            self._first.close()

    def _select(self, query: Query) -> Page:
        with self._guard():
            return self._retry(lambda: self._select_locked(query), "search")

    def _select_locked(self, query: Query) -> Page:
        db = self._db()
        load: _Load | None = None if self._shared else getattr(self._threads, "load", None)
        if load is not None and load.deferred:  # a search on the loading thread
            self._place_deferred(db, load)
        statistics = self._statistics_now(db)
        span = statistics.span(query.start, query.end)
        if span == 0:
            return Page([], 0)
        params: dict[str, Any] = {}
        conditions: list[str] = []
        candidates: list[tuple[int, str]] = []  # (size, "id IN (…)" subquery)
        # A candidate set is worth driving from only below this size (see the module docstring):
        # counting stops there, so a continent-sized area costs no more than a city.
        worth = span if query.count_total else min(span, math.isqrt(query.limit * span))
        params["worth"] = worth + 1
        if query.area is not None:
            min_x, min_y, max_x, max_y = shapely.bounds(query.area).tolist()
            params.update(ax1=min_x, ay1=min_y, ax2=max_x, ay2=max_y)
            boxes = (
                "SELECT id AS rid FROM footprints WHERE min_x <= :ax2 AND max_x >= :ax1 "
                "AND min_y <= :ay2 AND max_y >= :ay1"
            )
            (size,) = db.execute(f"SELECT count(*) FROM ({boxes} LIMIT :worth)", params).fetchone()
            candidates.append((size, boxes))
        for index, name in enumerate(query.required_types):
            params[f"label{index}"] = name
            candidates.append(
                (
                    statistics.labels.get(name, 0),
                    f"SELECT record AS rid FROM record_types WHERE label = :label{index}",
                )
            )
        if query.readers is not None:
            conditions.append(_readable(query.readers, params))
            if query.readers:
                names = ", ".join(f":rd{number}" for number in range(len(query.readers)))
                lookup = (
                    "SELECT DISTINCT record AS rid FROM record_readers "
                    f"INDEXED BY record_readers_reader WHERE reader IN ({names})"
                )
                size = sum(statistics.readers.get(name, 0) for name in query.readers)
                candidates.append((size, lookup))
        for index, (_, keys) in enumerate(query.equality):
            marks = []
            for number, key in enumerate(sorted(keys)):  # none: a text no record holds
                params[f"key{index}_{number}"] = key
                marks.append(f":key{index}_{number}")
            lookup = (
                f"SELECT DISTINCT record AS rid FROM record_keys WHERE key IN ({', '.join(marks)})"
                if marks
                else "SELECT NULL AS rid WHERE 0"
            )
            (size,) = db.execute(f"SELECT count(*) FROM ({lookup} LIMIT :worth)", params).fetchone()
            candidates.append((size, lookup))
        if query.start is not None:
            conditions.append("r.ts >= :start")
            params["start"] = query.start
        if query.end is not None:
            conditions.append("r.ts <= :end")
            params["end"] = query.end
        if query.after is not None:  # the keyset: a range on the time index, then the tie
            params["after_ts"], params["after_id"] = query.after
            side = ">" if query.ascending else "<"
            conditions.append(
                f"r.ts {side}= :after_ts AND (r.ts {side} :after_ts OR r.identifier > :after_id)"
            )
        types_in_python = None
        filter_in_sql = False
        for prefix, node in (("tv", query.types), ("fv", query.filter)):
            if node is None:
                continue
            try:
                if _comparisons(node) > SQL_COMPARISONS:
                    raise Inexpressible("too many comparisons for SQLite to prepare quickly")
                sql, values = to_sql(node, "sqlite", query.schema, parameter_prefix=prefix)
            except Inexpressible:  # SQL cannot hold it (too deep, a NUL, too long): in Python
                if node is query.types:
                    types_in_python = query.types_predicate()
                continue
            params.update(values)
            if node is query.filter:  # exotic records pass here and are decided in Python
                conditions.append(f"(r.exotic OR ({sql}))")
                filter_in_sql = True
            else:
                conditions.append(f"({sql})")
        in_python = None if query.filter is None else query.filter_predicate()
        everywhere = query.filter is not None and not filter_in_sql
        # Only the driving set joins: the other constraints are decided exactly anyway (types and
        # filters in SQL, the area in Python), and building a large set costs more than testing.
        # A walk checks each row's box by its id, so few rows reach the exact test.
        candidates.sort(key=lambda candidate: candidate[0])
        columns = "r.identifier, r.types, r.properties, r.footprint, r.exotic"
        if not candidates or candidates[0][0] > worth:
            # ascending, SQLite reads the index backwards and sorts only the ties of a time key
            source = "records AS r INDEXED BY records_order"
            if query.area is not None:  # one R*Tree lookup per row, before any WKB is read
                conditions.append(
                    "EXISTS (SELECT 1 FROM footprints AS f WHERE f.id = r.id AND f.min_x <= :ax2 "
                    "AND f.max_x >= :ax1 AND f.min_y <= :ay2 AND f.max_y >= :ay1)"
                )
        else:
            source = f"({candidates[0][1]}) AS c CROSS JOIN records AS r ON r.id = c.rid"
        where = " AND ".join(conditions) or "1"
        direction = "" if query.ascending else " DESC"
        sql = f"SELECT {columns} FROM {source} WHERE {where} ORDER BY r.ts{direction}, r.identifier"
        rows = db.execute(sql, params)
        return _collect(rows, query, in_python, everywhere, types_in_python)

    def _statistics_now(self, db: sqlite3.Connection) -> _Statistics:
        """The planner's statistics, read again when the catalog has grown a lot since.

        Other connections (threads, processes) write too, so the cached figures are checked
        against the largest row id: they are re-read when it has doubled, or when they say
        the catalog is empty and it is not (an empty catalog's plan answers nothing).
        """
        statistics = self._statistics
        if statistics is not None:
            (top,) = db.execute("SELECT coalesce(max(id), 0) FROM records").fetchone()
            if top > 2 * statistics.top or (statistics.count == 0 and top > 0):
                statistics = None
        if statistics is None:
            labels = dict(db.execute("SELECT label, count(*) FROM record_types GROUP BY label"))
            readers = dict(
                db.execute("SELECT reader, count(*) FROM record_readers GROUP BY reader")
            )
            (count,) = db.execute("SELECT count(*) FROM records").fetchone()
            sample = [
                ts
                for (ts,) in db.execute(
                    f"SELECT ts FROM records WHERE id % {_SAMPLE_EVERY} = 0 ORDER BY ts"
                )
            ]
            (top,) = db.execute("SELECT coalesce(max(id), 0) FROM records").fetchone()
            statistics = _Statistics(int(count), labels, readers, sample, int(top))
            self._statistics = statistics
        return statistics


class _Load:
    """A load into an empty store, running on one thread's connection as one transaction.

    Attributes:
        ids: The row ids of the boxes deferred, an array per committed batch.
        bounds: Their boxes, ``(min_x, max_x, min_y, max_y)`` rows, an array per batch.
        deferred: Whether boxes are still deferred (False once they have been placed).
    """

    def __init__(self) -> None:
        self.ids: list[NDArray[np.int64]] = []
        self.bounds: list[NDArray[np.float64]] = []
        self.deferred = True


class _Batch:
    """A unit of work during a load (a savepoint): the boxes it deferred until it commits.

    Attributes:
        load: The load it belongs to.
        ids: Its boxes' row ids, as :attr:`_Load.ids`.
        bounds: Its boxes, as :attr:`_Load.bounds`.
        placed: The load's deferred boxes before they were placed inside this unit (restored
            if it rolls back), or None.
    """

    def __init__(self, load: _Load) -> None:
        self.load = load
        self.ids: list[NDArray[np.int64]] = []
        self.bounds: list[NDArray[np.float64]] = []
        self.placed: tuple[list[NDArray[np.int64]], list[NDArray[np.float64]]] | None = None


def _comparisons(node: Node) -> int:
    """The comparisons (leaves) of a filter or type expression.

    >>> from catalogql import parse_filter
    >>> _comparisons(parse_filter("a = 1 AND (b = 2 OR NOT c = 3)"))
    3
    """
    return sum(1 for part in walk(node) if not part.children())


class _Statistics:
    """What the planner knows without scanning: counts per label and reader, a sample of times.

    Counts may be stale (they are read again when the catalog has doubled): they only choose a
    plan, never what it answers.
    """

    def __init__(
        self,
        count: int,
        labels: dict[str, int],
        readers: dict[str, int],
        sample: list[str],
        top: int,
    ) -> None:
        self.count = count
        self.labels = labels
        self.readers = readers
        self.sample = sample
        self.top = top  # the largest row id when read

    def span(self, start: str | None, end: str | None) -> int:
        """About how many records lie between the bounds (exact 0 only when none can)."""
        if start is not None and end is not None and start > end:
            return 0
        if self.count == 0:
            return 0
        if start is None and end is None:
            return self.count
        low = 0 if start is None else bisect.bisect_left(self.sample, start)
        high = len(self.sample) if end is None else bisect.bisect_right(self.sample, end)
        return max(1, round((high - low) * self.count / max(1, len(self.sample))))


def _collect(
    rows: sqlite3.Cursor,
    query: Query,
    in_python: Predicate | None,
    everywhere: bool,
    types_in_python: TypesPredicate | None,
) -> Page:
    """Refine rows in search order with the exact footprint test, up to the limit.

    ``in_python`` decides the filter for exotic records, or for every record when
    ``everywhere`` (a filter SQL could not hold); ``types_in_python`` decides type
    expressions SQL could not hold. Rows are read a chunk at a time (doubling from
    :data:`_FIRST_CHUNK`, so a walk that fills a small page early reads little past it), and a
    chunk's footprints are decoded and tested against the area in one vectorized call each.
    """
    area = query.area
    limit = query.limit
    found: list[dict[str, Any]] = []
    total = 0
    size = _FIRST_CHUNK
    while chunk := rows.fetchmany(size):
        size = min(2 * size, _LAST_CHUNK)
        if not query.count_total:  # no more than the page still lacks, were every row a hit
            size = min(size, max(_FIRST_CHUNK, limit - len(found)))
        if area is not None:
            hits = shapely.intersects(area, shapely.from_wkb([row[3] for row in chunk]))
            chunk = [row for row, hit in zip(chunk, hits.tolist(), strict=True) if hit]
        for identifier, types, properties, _, exotic in chunk:
            record = None
            if types_in_python is not None and not types_in_python(stored_labels(types)):
                continue
            if in_python is not None and (everywhere or exotic):
                record = decode_stored(identifier, types, properties, wide=exotic)
                if not in_python(record["properties"]):
                    continue
            total += 1
            if len(found) < limit:
                found.append(record or decode_stored(identifier, types, properties, wide=exotic))
            elif not query.count_total:
                return Page(found, None, fresh=True)
    return Page(found, total if query.count_total else None, fresh=True)


_FIRST_CHUNK, _LAST_CHUNK = 64, 4096
"""The rows :func:`_collect` reads at a time: the first chunk, and the most a chunk grows to."""


_NO_LOCK = contextlib.nullcontext()


def _readable(readers: frozenset[str], params: dict[str, Any]) -> str:
    """The condition that one of ``readers`` may read the row ``r`` (binding ``:rd<n>``)."""
    if not readers:
        return "0"
    marks = []
    for number, name in enumerate(sorted(readers)):
        params[f"rd{number}"] = name
        marks.append(f":rd{number}")
    return (
        "EXISTS (SELECT 1 FROM record_readers AS rr WHERE rr.record = r.id "
        f"AND rr.reader IN ({', '.join(marks)}))"
    )


def _busy(error: sqlite3.OperationalError) -> bool:
    """Whether SQLite said another connection holds a lock (SQLITE_BUSY or SQLITE_LOCKED)."""
    code = getattr(error, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
    text = str(error)
    return "locked" in text or "busy" in text


@functools.lru_cache(maxsize=1024)
def _types_text(types: tuple[str, ...]) -> str:
    """A record's type labels as JSON text (few sets of labels recur: each written once)."""
    return _dumps(list(types))


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


# -- the R*Tree of an initial load, packed ----------------------------------------------------

_RND_TOWARDS = 1.0 - 1.0 / 8388608.0  # SQLite's rtree.c RNDTOWARDS and RNDAWAY: the factors it
_RND_AWAY = 1.0 + 1.0 / 8388608.0  # rounds a coordinate outwards by when float32 falls inside
_CELL = np.dtype([("id", ">i8"), ("box", ">f4", (4,))])  # an R*Tree cell as SQLite stores it


def _rtree_boxes(bounds: NDArray[np.float64]) -> NDArray[np.float32]:
    """Boxes ``(min_x, max_x, min_y, max_y)`` as the R*Tree stores them: float32, rounded outwards.

    The rule of SQLite's ``rtreeValueDown`` and ``rtreeValueUp`` (rtree.c), so a packed tree
    holds exactly the values an ``INSERT`` would have written.

    >>> db = sqlite3.connect(":memory:")
    >>> _ = db.execute("CREATE VIRTUAL TABLE t USING rtree (id, x1, x2, y1, y2)")
    >>> _ = db.execute("INSERT INTO t VALUES (1, 0.1, 0.1, -0.1, -0.1)")
    >>> [list(db.execute("SELECT x1, x2, y1, y2 FROM t").fetchone())] == _rtree_boxes(
    ...     np.array([[0.1, 0.1, -0.1, -0.1]])).tolist()
    True
    """
    with np.errstate(over="ignore"):  # past float32's range: infinity, as SQLite's own cast
        single = bounds.astype(np.float32)
        low = np.array([True, False, True, False])
        down = (single > bounds) & low  # a lower bound that rounded up
        up = (single < bounds) & ~low  # an upper bound that rounded down
        if down.any():
            factor = np.where(bounds < 0, _RND_AWAY, _RND_TOWARDS)
            single[down] = (bounds * factor).astype(np.float32)[down]
        if up.any():
            factor = np.where(bounds < 0, _RND_TOWARDS, _RND_AWAY)
            single[up] = (bounds * factor).astype(np.float32)[up]
    return single


def _str_nodes(
    boxes: NDArray[np.float32], capacity: int
) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Sort-Tile-Recursive grouping of boxes into nodes of at most ``capacity`` cells.

    Returns the order of the boxes and where each node starts in it: the boxes are cut into
    vertical slices by the x of their centres, each slice sorted by y and cut into nodes.

    >>> boxes = np.array([[x, x, y, y] for x in range(4) for y in range(4)], np.float32)
    >>> order, starts = _str_nodes(boxes, 4)
    >>> starts.tolist(), sorted(boxes[order[:4]][:, [0, 2]].tolist())  # 2 by 2 tiles
    ([0, 4, 8, 12], [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    """
    count = len(boxes)
    nodes = -(-count // capacity)
    slices = max(1, math.isqrt(nodes - 1) + 1)  # ceil(sqrt(nodes))
    per_slice = capacity * -(-nodes // slices)
    centre_x = boxes[:, 0].astype(np.float64) + boxes[:, 1]
    centre_y = boxes[:, 2].astype(np.float64) + boxes[:, 3]
    slice_of = np.empty(count, np.intp)
    slice_of[np.argsort(centre_x, kind="stable")] = np.arange(count) // per_slice
    order = np.lexsort((centre_y, slice_of))
    ordered = slice_of[order]
    within = np.arange(count) - np.searchsorted(ordered, ordered)
    node = ordered * (per_slice // capacity + 1) + within // capacity
    starts = np.concatenate(([0], np.flatnonzero(np.diff(node)) + 1))
    return order, starts


def _pack_rtree(
    db: sqlite3.Connection, name: str, ids: NDArray[np.int64], bounds: NDArray[np.float64]
) -> None:
    """Fill the empty R*Tree ``name`` with these entries at once, writing its node tables.

    A tree packed bottom-up (Sort-Tile-Recursive: full nodes of nearby boxes), in SQLite's own
    format (rtree.c): a node is a blob of its size, two bytes of depth (the root's; 0 in the
    others), two of cell count, then cells of a big-endian 64-bit id (a row's, or a child
    node's number) and four float32 coordinates; ``<name>_rowid`` maps each row to its leaf and
    ``<name>_parent`` each node but the root (number 1) to its parent. ``rtreecheck`` accepts
    it (the tests check), and an ``INSERT`` after it works on it as on any tree.

    Args:
        db: A connection inside a transaction.
        name: The R*Tree table, with no row yet.
        ids: The row ids, each once.
        bounds: Their boxes, a row ``(min_x, max_x, min_y, max_y)`` each, no NaN.
    """
    (size,) = db.execute(f"SELECT length(data) FROM {name}_node WHERE nodeno = 1").fetchone()
    capacity = (size - 4) // _CELL.itemsize
    keys = ids.astype(np.int64)
    boxes = _rtree_boxes(bounds)
    depth = 0
    number = 1  # the last node number given (1 is the root's)
    nodes: list[tuple[int, bytes]] = []
    parents: list[tuple[int, int]] = []
    leaves: list[NDArray[np.int64]] = [keys]  # the row ids of each leaf, the leaves in order
    children: NDArray[np.int64] | None = None  # the node numbers of the level being grouped
    while len(keys) > capacity:
        order, starts = _str_nodes(boxes, capacity)
        keys, boxes = keys[order], boxes[order]
        cells = np.empty(len(keys), _CELL)
        cells["id"], cells["box"] = keys, boxes
        data = cells.tobytes()
        ends = np.append(starts[1:], len(keys))
        numbers = np.arange(number + 1, number + 1 + len(starts), dtype=np.int64)
        number += len(starts)
        for node, start, end in zip(numbers.tolist(), starts.tolist(), ends.tolist(), strict=True):
            head = (end - start).to_bytes(4, "big")  # depth 0, then the count
            cells_of = data[start * _CELL.itemsize : end * _CELL.itemsize]
            nodes.append((node, (head + cells_of).ljust(size, b"\0")))
        if children is None:
            leaves = np.split(keys, starts[1:])  # the leaves are the nodes 2, 3, ...
        else:
            owner = np.repeat(numbers, ends - starts)
            parents.extend(zip(keys.tolist(), owner.tolist(), strict=True))
        children = numbers
        keys = numbers
        boxes = np.stack(
            [
                np.minimum.reduceat(boxes[:, 0], starts),
                np.maximum.reduceat(boxes[:, 1], starts),
                np.minimum.reduceat(boxes[:, 2], starts),
                np.maximum.reduceat(boxes[:, 3], starts),
            ],
            axis=1,
        )
        depth += 1
    if children is not None:
        parents.extend((node, 1) for node in keys.tolist())
    cells = np.empty(len(keys), _CELL)
    cells["id"], cells["box"] = keys, boxes
    root = (depth.to_bytes(2, "big") + len(keys).to_bytes(2, "big") + cells.tobytes()).ljust(
        size, b"\0"
    )
    db.execute(f"UPDATE {name}_node SET data = ? WHERE nodeno = 1", (root,))
    db.executemany(f"INSERT INTO {name}_node VALUES (?, ?)", nodes)
    # each row's leaf, by SQLite from one JSON text of the leaves' ids, in row order (a third
    # of the time of an executemany over (row, leaf) pairs)
    db.execute(
        f"INSERT INTO {name}_rowid SELECT row.value, leaf.key + ? "
        "FROM json_each(?) AS leaf, json_each(leaf.value) AS row ORDER BY 1",
        (1 if children is None else 2, orjson.dumps(leaves, option=orjson.OPT_SERIALIZE_NUMPY)),
    )
    db.executemany(f"INSERT INTO {name}_parent VALUES (?, ?)", sorted(parents))
