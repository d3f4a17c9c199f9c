"""The PostgreSQL store: PostGIS footprints, JSONB properties, a search as one SQL query.

For catalogs past one machine's memory (SPEC section 6). One table, ``catalogql_records``:

==============  =================================  ==========================================
column          type                               index
==============  =================================  ==========================================
identifier      ``text COLLATE "C"``               primary key (upserts by identifier)
ts              ``text COLLATE "C"``               btree ``(ts DESC, identifier)``: the search
                                                   order, so a date range read in index order
                                                   is already sorted
types           ``jsonb`` array of labels          GIN ``jsonb_path_ops`` (``types @> [...]``)
properties      ``jsonb``                          none: filters are compiled to SQL over it
footprint       ``geometry(Geometry, 4326)``       GiST (``footprint && area``)
keys            ``text[]``: the equality keys      GIN (``keys && ARRAY[...]``)
exotic          ``boolean``                        partial index ``WHERE exotic``
properties_json ``text``: the properties' JSON     none: what a search returns, unchanged
readers         ``text[]``: who may read it         GIN (``readers && ARRAY[names]``)
==============  =================================  ==========================================

A search or a get-by-id restricted to reader names adds ``readers && ARRAY[names]`` to its
conditions, so the page, its count and the type counts see only what the names may read. A table
of layout 1 (before readers existed) gains the column on opening, every record readable by
:data:`~catalogql.search.engine.EVERYONE`, and becomes layout 2; the column then has no default,
so a row written without readers is refused rather than readable by all.

``ts`` is the :func:`~catalogql.semantics.instant_key` of ``properties.timestamp``, which sorts
as text; with ``COLLATE "C"`` (bytes of UTF-8, which is code-point order) the database orders
identifiers exactly as Python orders strings.

A search is one statement: the area (``ST_Intersects(footprint, area)``, GEOS-exact as shapely
is), the time range, each type expression and each filter compiled by
:func:`~catalogql.compile.sql.to_sqlalchemy_shaped` over the JSONB columns (``to_sqlalchemy``'s
SQL, each comparison's shape compiled once per process; so ``=`` means what it means
everywhere, SPEC section 4), the equality keys of the hot properties as an index prefilter, then
``ORDER BY ts DESC, identifier LIMIT n``, with ``count(*)`` of the same conditions when the
request asks ``countTotal``.

The planner chooses, as the other stores' planners do, between reading the area's GiST matches
and sorting them, and walking the ``(ts DESC, identifier)`` index in search order, testing each
row, until the limit (a continent's broad search: a few thousand rows instead of every record
in its box). It can, because the statement says what it means once: ``ST_Intersects`` adds the
``footprint && area`` index condition itself, and writing that condition beside it made the
planner multiply the area's selectivity by itself (a tenth of the table estimated as a
hundredth), so that the walk to the limit looked ten times longer than it is. Connections run
without parallel workers (their start costs more than a search's work, and a Gather Merge
delays the walk's stop at the limit) and always plan a statement for its values, prepared or
not.

Decisions where the source documents are silent:

- Properties are returned from ``properties_json``, the JSON text written at load, never from JSONB,
  which changes what it stores: ``1e2`` becomes ``100``, keys are reordered, and ``NaN``,
  ``Infinity``, NUL characters and lone surrogates are refused.
- A record whose properties JSONB cannot hold *faithfully* for the filters (a non-finite or
  negative-zero float, an integer past 2**53, text with a NUL or a lone surrogate, see
  :func:`jsonb_faithful`) is kept *exotic*: its filters are tested in Python with
  :func:`~catalogql.compile_predicate` on the stored JSON, after SQL has narrowed it by area,
  time and types. So is every record for a filter that SQL cannot hold (a NUL in a literal, a
  tree deeper than :data:`~catalogql.compile.sql.MAX_SQL_DEPTH`). Answers stay those of the
  in-memory store; only speed differs.
- The equality keys serve a property only if every stored record has keys for it: reopening a
  catalog with another ``indexed`` list narrows the keyed properties to those in both lists
  (kept in ``catalogql_meta``).
- Loading (:meth:`~catalogql.search.engine.Catalog.add_records`) sends each batch by binary
  ``COPY`` into a temporary table (its rows built by hand: footprints as EWKB, the JSON as
  text); a writer thread then inserts it into the table in one statement, a plain ``INSERT``
  when none of its identifiers is stored (the common first load), else ``INSERT ... ON CONFLICT
  (identifier) DO UPDATE`` (skipping records whose JSON, types and readers are unchanged), and
  commits it, while the loading thread checks the next batch and COPYs it: the server parses the
  JSONB and updates the indexes of one batch beside the client's work on the next. One batch is
  in flight at most and batches commit in order; a batch the server refuses raises its error at
  the next batch or when the load ends, with the batches before it stored and none after it. A
  load's batches commit without waiting for the WAL to reach the disk (``synchronous_commit =
  off`` for their transactions); when the load ends, also on error, one transaction that commits
  as the server's setting says waits for all of them. So a load is as durable as any commit once
  it returns; a server crash during it may lose the last batches reported stored, and loading
  the same records again completes it (loads are idempotent). Batches written inside a caller's
  :meth:`~catalogql.search.engine.Catalog.transaction` are written in place: COPYed straight
  into the table (JSONB and text) when none of their identifiers is stored, else upserted. The
  table is ``ANALYZE``\\ d whenever it has doubled since the last time (once at the end of a
  load, beside the insert of its last batch when the batches before it have doubled the
  table), so plans follow a bulk load, and its GIN indexes' pending lists are merged when the
  load ends (on a second connection), so that no search reads through them.
- Threads share the catalog: SQLAlchemy's pool hands each operation its own connection. A unit
  of work (:meth:`~catalogql.search.engine.Catalog.transaction`) is one database transaction on
  one connection, kept by the thread that opened it until the unit ends; reads on that thread
  use it too (and see the unit's writes), other threads see the unit when it commits. A search
  runs in ``REPEATABLE READ``, so its page and its count come from one snapshot.

Open one with :func:`catalogql.search.open_catalog`::

    catalog = open_catalog("postgresql://user@host/dbname")
    catalog.add_records(records)
    catalog.search({"filters": ["cloudCover < 10"], "limit": 10})

>>> driver_url("postgres://me@db.example/catalog")
'postgresql+psycopg://me@db.example/catalog'
"""

from __future__ import annotations

import contextlib
import functools
import json
import math
import re
import struct
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any

import shapely
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg
from sqlalchemy.sql.elements import ColumnElement

from catalogql.compile.predicate import compile_predicate, compile_types
from catalogql.compile.sql import Layout, install_functions, to_sqlalchemy_shaped
from catalogql.search.documents import POSTGRES_SCHEMA as DOCUMENTS_SCHEMA
from catalogql.search.engine import Catalog, Page, Query, Transaction
from catalogql.search.errors import CatalogError, CatalogNotFound
from catalogql.search.records import StoredRecord, decode_stored, in_search_order
from catalogql.syntax.errors import Inexpressible

__all__ = ["TABLE", "PostgresCatalog", "driver_url", "jsonb_faithful"]

TABLE = "catalogql_records"
"""The records table."""

META = "catalogql_meta"
"""Name/value settings of the catalog (the keyed properties)."""

LAYOUT_VERSION = "2"
"""The version of the table layout, kept in ``catalogql_meta`` and checked on opening."""

_STAGING = "catalogql_staging"
_NO_DATABASE = re.compile(r'FATAL:  database ".*" does not exist')
_MAX_EXACT_INT = 2**53
_LOCK = 0x63716C  # the advisory lock serialising catalog set-up ("cql")

_DDL = """
CREATE TABLE IF NOT EXISTS {TABLE} (
    identifier text COLLATE "C" PRIMARY KEY,
    ts text COLLATE "C" NOT NULL,
    types jsonb NOT NULL,
    properties jsonb {compression},
    footprint geometry(Geometry, 4326) NOT NULL,
    keys text[] NOT NULL,
    exotic boolean NOT NULL,
    properties_json text {compression} NOT NULL
);
ALTER TABLE {TABLE} ALTER COLUMN properties_json SET STATISTICS 0,
                    ALTER COLUMN properties SET STATISTICS 0;
CREATE INDEX IF NOT EXISTS {TABLE}_order ON {TABLE} (ts DESC, identifier);
CREATE INDEX IF NOT EXISTS {TABLE}_order_asc ON {TABLE} (ts, identifier);
CREATE INDEX IF NOT EXISTS {TABLE}_footprint ON {TABLE} USING gist (footprint);
CREATE INDEX IF NOT EXISTS {TABLE}_types ON {TABLE} USING gin (types jsonb_path_ops);
CREATE INDEX IF NOT EXISTS {TABLE}_keys ON {TABLE} USING gin (keys);
CREATE INDEX IF NOT EXISTS {TABLE}_exotic ON {TABLE} (ts) WHERE exotic;
CREATE TABLE IF NOT EXISTS {META} (name text PRIMARY KEY, value text NOT NULL);
"""

_READERS_DDL = """
ALTER TABLE {TABLE} ADD COLUMN IF NOT EXISTS readers text[] NOT NULL DEFAULT '{{"*"}}';
ALTER TABLE {TABLE} ALTER COLUMN readers DROP DEFAULT;
CREATE INDEX IF NOT EXISTS {TABLE}_readers ON {TABLE} USING gin (readers);
"""

_STAGING_DDL = f"""
CREATE TEMPORARY TABLE IF NOT EXISTS {_STAGING} (
    identifier text, ts text, types jsonb, footprint geometry, keys text[], exotic boolean,
    properties_json text, readers text[]
) WITH (toast_tuple_target = 8160) ON COMMIT DELETE ROWS
"""

_COLUMNS = "(identifier, ts, types, properties, footprint, keys, exotic, properties_json, readers)"

_COPY_STAGING = (
    f"COPY {_STAGING} (identifier, ts, types, footprint, keys, exotic, properties_json, readers) "
    "FROM STDIN (FORMAT BINARY)"
)

_COPY_TABLE = f"COPY {TABLE} {_COLUMNS} FROM STDIN (FORMAT BINARY)"

_ANY_STORED = f"SELECT 1 FROM {TABLE} WHERE identifier = ANY(%s) LIMIT 1"

_ASYNC_COMMIT = "SET LOCAL synchronous_commit = off"
"""For a load's batches: the commit does not wait for the WAL to reach the disk."""

_DURABLE = "SELECT pg_current_xact_id()"
"""A transaction that commits (it has an id) as the server's setting says: at a load's end, its
commit waits for the WAL up to it, the load's batches included, to be on the disk."""

_CLEAN_PENDING = f"""
SELECT gin_clean_pending_list(i.indexrelid)
FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam
WHERE i.indrelid = '{TABLE}'::regclass AND a.amname = 'gin'
"""
"""Move the pending entries of the table's GIN indexes (keys, types, readers) into the indexes.

A GIN index takes new entries into a pending list (up to ``gin_pending_list_limit``, 4 MB),
which every scan of the index reads through until a vacuum merges it: after a load, each
catalogID search read its index's whole list (50,000 records: 3.9 ms of execution against 0.15
once merged). Done beside the ``ANALYZE`` after a load or a doubling, in bulk."""

_INSERT = f"""
INSERT INTO {TABLE} AS r {_COLUMNS}
SELECT identifier, ts, types, CASE WHEN exotic THEN NULL ELSE properties_json::jsonb END,
       footprint, keys, exotic, properties_json, readers
FROM {_STAGING}
"""

_UPSERT = (
    _INSERT
    + """ON CONFLICT (identifier) DO UPDATE SET
    ts = EXCLUDED.ts, types = EXCLUDED.types, properties = EXCLUDED.properties,
    footprint = EXCLUDED.footprint, keys = EXCLUDED.keys, exotic = EXCLUDED.exotic,
    properties_json = EXCLUDED.properties_json, readers = EXCLUDED.readers
WHERE (r.properties_json, r.types, r.readers)
    IS DISTINCT FROM (EXCLUDED.properties_json, EXCLUDED.types, EXCLUDED.readers)
"""
)

_HINT = (
    "check the URL (postgresql://user@host:port/dbname), that the server runs and accepts you, "
    "and that PostGIS is installed on it (Debian: apt install postgresql-15-postgis-3)"
)


def driver_url(url: str) -> str:
    """The SQLAlchemy URL for ``url`` with the psycopg 3 driver.

    ``postgresql://`` and ``postgres://`` URLs get ``+psycopg``; a URL naming a driver keeps it.

    >>> driver_url("postgresql://u@/db?host=/tmp")
    'postgresql+psycopg://u@/db?host=/tmp'
    >>> driver_url("postgresql+psycopg://u@h/db")
    'postgresql+psycopg://u@h/db'
    """
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def jsonb_faithful(value: Any) -> bool:
    """Whether PostgreSQL's JSONB holds ``value`` so that every filter reads it as Python does.

    False for what JSONB refuses or changes in a way a filter can see: NaN and infinities,
    ``-0.0`` (numeric has no negative zero: a wildcard would see ``0.0``), integers past 2**53
    (compared as doubles in SQL), subnormal floats, text (values or keys) holding a NUL or a
    lone surrogate. Anything that is not JSON (a tuple, a date, a non-text key) raises.

    Raises:
        TypeError: For a value that is not JSON.

    >>> jsonb_faithful({"cloudCover": 5, "tags": ["a", 1.5, None, True], "n": {"x": "é"}})
    True
    >>> [jsonb_faithful(v) for v in (float("nan"), -0.0, 2**60, "a\\x00b", "\\ud800", 0.0)]
    [False, False, False, False, False, True]
    >>> jsonb_faithful({1: "a"})
    Traceback (most recent call last):
      ...
    TypeError: a JSON object key must be text, not int
    """
    stack = [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is str:
            if not _text_faithful(item):
                return False
        elif kind is dict:
            for key in item:
                if type(key) is not str:
                    raise TypeError(f"a JSON object key must be text, not {type(key).__name__}")
                if not _text_faithful(key):
                    return False
            stack.extend(item.values())
        elif kind is list:
            stack.extend(item)
        elif kind is float:
            if not math.isfinite(item) or (item == 0.0 and math.copysign(1.0, item) < 0):
                return False
            if item != 0.0 and abs(item) < 1e-300:
                return False
        elif kind is int:
            if not -_MAX_EXACT_INT < item < _MAX_EXACT_INT:
                return False
        elif isinstance(item, int | float) and kind is not bool:
            return False  # a subclass (numpy's float64, an IntEnum): JSON text loses its kind
        elif kind is not bool and item is not None:
            raise TypeError(f"a {kind.__name__} is not a JSON value")
    return True


def _text_faithful(text: str) -> bool:
    if "\x00" in text:
        return False
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


@functools.lru_cache(maxsize=1024)
def _types_text(types: tuple[str, ...]) -> str:
    """A record's type labels as JSON text (few sets of labels recur: each written once)."""
    return json.dumps(list(types))


_COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)  # signature, flags, no extension
_COPY_TRAILER = b"\xff\xff"
_TEXT_OID = 25
_int32 = struct.Struct(">i").pack
_EWKB_SRID = b"\x20" + (4326).to_bytes(4, "little")  # the SRID flag, then the SRID
_BOOLEANS = {False: _int32(1) + b"\x00", True: _int32(1) + b"\x01"}
_NO_KEYS = struct.pack(">iiii", 12, 0, 0, _TEXT_OID)  # an empty text[]
_NULL = b"\xff\xff\xff\xff"  # a NULL field
_CHUNK = 1 << 18  # bytes of COPY rows built at a time


def _text_array(items: Sequence[str]) -> bytes:
    """A ``text[]`` field in COPY's binary format (its length first).

    >>> _text_array(["ab"]).hex(" ", -4)
    '0000001a 00000001 00000000 00000019 00000001 00000001 00000002 6162'
    """
    if not items:
        return _NO_KEYS
    parts = [struct.pack(">iiiii", 1, 0, _TEXT_OID, len(items), 1)]
    for item in items:
        data = item.encode("utf-8")
        parts += (_int32(len(data)), data)
    body = b"".join(parts)
    return _int32(len(body)) + body


@functools.lru_cache(maxsize=1024)
def _types_field(types: tuple[str, ...]) -> bytes:
    """A record's type labels as a ``jsonb`` field in COPY's binary format (few sets recur)."""
    data = b"\x01" + _types_text(types).encode("utf-8")  # jsonb's binary form: version 1, text
    return _int32(len(data)) + data


def _ewkb(wkb: bytes) -> bytes:
    """Little-endian 2D WKB as EWKB with SRID 4326 (what PostGIS's binary input reads).

    >>> _ewkb(bytes.fromhex("0101000000" + "00" * 16)).hex()[:18]
    '0101000020e6100000'
    """
    if wkb[0] != 1 or wkb[4] != 0:
        raise ValueError("expected little-endian WKB of a 2D geometry")
    return wkb[:4] + _EWKB_SRID + wkb[5:]


def _copy_chunks(
    batch: Sequence[StoredRecord], readers: frozenset[str], *, properties: bool
) -> Iterator[bytes]:
    """The rows of ``batch`` in COPY's binary format.

    In pieces of about :data:`_CHUNK` bytes, made as the COPY sends them: the server parses
    one while the next is built, and no batch-sized buffer is ever made (fresh memory costs a
    page fault per page on some machines). Footprints go as EWKB. With ``properties``, for
    :data:`_COPY_TABLE`, the JSON text goes twice: into the JSONB column (NULL for an exotic
    record) and as text; without, for :data:`_COPY_STAGING`, as text only (the insert from
    the temporary table makes the JSONB).

    Raises:
        CatalogError: For text PostgreSQL cannot hold (a lone surrogate), which the record
            checks refuse before a batch gets here.

    >>> from catalogql.search.records import prepare_records
    >>> stored = prepare_records([{"identifier": "a", "type": [], "properties": {
    ...     "timestamp": "2016-01-01", "footprintWkt": "POINT(1 2)"}}])
    >>> rows = b"".join(_copy_chunks(stored, frozenset({"*"}), properties=True))
    >>> rows[19:26].hex(" "), rows.endswith(_COPY_TRAILER)  # 9 fields; the identifier's 1 byte
    ('00 09 00 00 00 01 61', True)
    >>> b"".join(_copy_chunks(stored, frozenset({"*"}), properties=False))[19:21].hex(" ")
    '00 08'
    """
    wkbs = shapely.to_wkb(
        [record.footprint for record in batch], output_dimension=2, byte_order=1
    ).tolist()
    names = _text_array(sorted(readers))
    int32 = _int32
    types_field = _types_field
    fields = (9 if properties else 8).to_bytes(2, "big")
    parts = [_COPY_HEADER]
    size = 0
    try:
        for record, wkb in zip(batch, wkbs, strict=True):
            # record.inexact is jsonb_faithful's answer for checked properties (one walk, at load)
            exotic = record.inexact
            identifier = record.identifier.encode("utf-8")
            timestamp = record.timestamp.encode("utf-8")
            text = record.properties_json.encode("utf-8")
            ewkb = _ewkb(wkb)
            parts += (
                fields,
                int32(len(identifier)),
                identifier,
                int32(len(timestamp)),
                timestamp,
                types_field(record.types),
            )
            if properties:
                parts += (
                    _NULL if exotic else int32(len(text) + 1) + b"\x01",
                    b"" if exotic else text,
                )
            parts += (
                int32(len(ewkb)),
                ewkb,
                _NO_KEYS if exotic or not record.keys else _text_array(sorted(record.keys)),
                _BOOLEANS[exotic],
                int32(len(text)),
                text,
                names,
            )
            size += 2 * len(text) + len(ewkb) + 100
            if size >= _CHUNK:
                yield b"".join(parts)
                parts = []
                size = 0
    except UnicodeEncodeError as error:
        raise CatalogError(
            f"a record holds text PostgreSQL cannot hold ({error.reason}): check the records"
        ) from None
    parts.append(_COPY_TRAILER)
    yield b"".join(parts)


def _sql_text(text: str) -> bool:
    return _text_faithful(text)


class _Geometry(sa.types.UserDefinedType[bytes]):
    """The ``footprint`` column's type: PostGIS ``geometry``, only ever compared in SQL.

    (Searches never read it back nor bind one: GeoAlchemy2's type, and its import, which took
    a tenth of a second of every load, are not needed.)

    >>> _Geometry().get_col_spec()
    'geometry(Geometry, 4326)'
    """

    cache_ok = True

    def get_col_spec(self, **_: Any) -> str:
        return "geometry(Geometry, 4326)"


@dataclass
class _Unit:
    """What the store keeps of a unit of work (``Transaction.state``)."""

    rows: int = 0
    """Rows written in it, for :meth:`PostgresCatalog._analyze_grown`."""
    loading: bool = False
    """Whether a load on this thread began it (its batch may be staged, see ``_bulk``)."""
    staged: list[str] | None = None
    """The identifiers of a load's batch waiting in the temporary table for the writer."""
    staging: bool = False
    """Whether the temporary table holds rows of the unit (emptied only when it commits)."""


class PostgresCatalog(Catalog):
    """A catalog in a PostgreSQL database with PostGIS (``postgresql://…``).

    Opening creates what is missing (the PostGIS extension, the table and its indexes, the SQL
    functions of :func:`~catalogql.compile.sql.install_functions`) and reuses what is there, so
    a catalog opened again finds its records. Every database error is raised as a
    :class:`~catalogql.search.errors.CatalogError` saying what to check. See the module
    docstring for the table and how a search runs.

    Args:
        url: ``postgresql://user@host:port/dbname`` (also ``postgres://`` or
            ``postgresql+psycopg://``; libpq parameters such as ``?host=/socket/dir`` work).
        **options: ``schema``, ``dialect`` and ``indexed``, as for
            :class:`~catalogql.search.engine.Catalog`.

    Raises:
        CatalogError: When psycopg is missing, the server cannot be reached, or
            PostGIS cannot be installed.

    Usage (needs a server)::

        with PostgresCatalog("postgresql://me@localhost/catalog") as catalog:
            catalog.add_records(records)
            page = catalog.search({"types": ["WV02"], "limit": 5, "countTotal": True})

    >>> PostgresCatalog("ftp://nowhere")
    Traceback (most recent call last):
      ...
    catalogql.search.errors.CatalogError: cannot open 'ftp://nowhere' as a PostgreSQL catalog: use postgresql://user@host:port/dbname
    """

    def __init__(self, url: str, **options: Any) -> None:
        super().__init__(url, **options)
        if not url.startswith(("postgresql:", "postgresql+", "postgres:")):
            raise CatalogError(
                f"cannot open {url!r} as a PostgreSQL catalog: use postgresql://user@host:port/dbname"
            )
        try:
            import psycopg
        except ImportError as error:
            raise CatalogError(
                f"the PostgreSQL store needs psycopg 3 ({error}): pip install 'catalogql[postgres]'"
            ) from None
        self._driver_errors: tuple[type[BaseException], ...] = (
            sa.exc.SQLAlchemyError,
            psycopg.Error,
        )
        metadata = sa.MetaData()
        self._table = sa.Table(
            TABLE,
            metadata,
            sa.Column("identifier", sa.Text, primary_key=True),
            sa.Column("ts", sa.Text, nullable=False),
            sa.Column("types", pg.JSONB, nullable=False),
            sa.Column("properties", pg.JSONB),
            sa.Column("footprint", _Geometry()),
            sa.Column("keys", pg.ARRAY(sa.Text), nullable=False),
            sa.Column("exotic", sa.Boolean, nullable=False),
            sa.Column("properties_json", sa.Text, nullable=False),
            sa.Column("readers", pg.ARRAY(sa.Text), nullable=False),
        )
        self._keyed: frozenset[str] = frozenset()
        self._unique_violation = psycopg.errors.UniqueViolation
        self._not_allowed = psycopg.errors.InsufficientPrivilege
        self._loads = threading.local()  # depth: the loads running on this thread
        self._counting = threading.Lock()  # guards the two counters below
        self._analyzed = 0  # rows when the table was last analysed
        self._unanalyzed = 0  # rows written since
        try:
            self._engine = sa.create_engine(driver_url(url), pool_pre_ping=True)
        except (ImportError, sa.exc.ArgumentError) as error:
            raise CatalogError(f"cannot open {url!r}: {error} ({_HINT})") from None
        sa.event.listen(self._engine, "connect", _on_connect)
        try:
            self._set_up()
        except self._driver_errors as error:
            self._engine.dispose()
            reason = _reason(error)
            if not self.create and _NO_DATABASE.search(reason):  # libpq gives no SQLSTATE here
                raise CatalogNotFound(url, reason) from None
            raise CatalogError(f"cannot open {url!r}: {_reason(error)} ({_HINT})") from None
        except BaseException:
            self._engine.dispose()
            raise

    # -- set-up ------------------------------------------------------------------------------

    def _set_up(self) -> None:
        with self._engine.begin() as connection:
            connection.execute(sa.text("SELECT pg_advisory_xact_lock(:lock)"), {"lock": _LOCK})
            if (
                not self.create
                and connection.execute(
                    sa.text("SELECT to_regclass(:t) IS NULL"), {"t": TABLE}
                ).scalar()
            ):
                raise CatalogNotFound(self.url, f"the database has no {TABLE} table")
            encoding = connection.exec_driver_sql("SHOW server_encoding").scalar()
            if encoding != "UTF8":
                raise CatalogError(
                    f"the database {self.url!r} is encoded {encoding}: the PostgreSQL store "
                    "needs UTF8 (CREATE DATABASE ... ENCODING 'UTF8' TEMPLATE template0)"
                )
            has_postgis = connection.exec_driver_sql(
                "SELECT 1 FROM pg_extension WHERE extname = 'postgis'"
            ).scalar()
            if not has_postgis:
                connection.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS postgis")
            lz4 = connection.exec_driver_sql(
                "SELECT 'lz4' = ANY(enumvals) FROM pg_settings "
                "WHERE name = 'default_toast_compression'"
            ).scalar()
            compression = "COMPRESSION lz4" if lz4 else ""  # 30% faster loads than pglz
            connection.exec_driver_sql(_DDL.format(TABLE=TABLE, META=META, compression=compression))
            connection.exec_driver_sql(DOCUMENTS_SCHEMA)  # the service's table
            install_functions(connection)
            self._check_layout(connection)  # (after the DDL: a layout-1 table gains its readers)
            self._keyed = self._settle_keyed(connection)
            self._analyzed = int(
                connection.execute(
                    sa.text(
                        "SELECT greatest(reltuples, 0) FROM pg_class "
                        "WHERE oid = CAST(:t AS regclass)"
                    ),
                    {"t": TABLE},
                ).scalar()
                or 0
            )

    def _check_layout(self, connection: sa.Connection) -> None:
        """Refuse a table written by another layout of this store (rather than misread it)."""
        stored = connection.execute(
            sa.text(f"SELECT value FROM {META} WHERE name = 'layout'")
        ).scalar()
        if stored in (None, "1"):  # new, or made before readers: every record readable by all
            connection.exec_driver_sql(_READERS_DDL.format(TABLE=TABLE))
            connection.execute(
                sa.text(
                    f"INSERT INTO {META} (name, value) VALUES ('layout', :v) "
                    "ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value"
                ),
                {"v": LAYOUT_VERSION},
            )
        elif stored != LAYOUT_VERSION:
            raise CatalogError(
                f"the catalog in {self.url!r} has table layout {stored}, this catalogql reads "
                f"layout {LAYOUT_VERSION}: load it again into a new database"
            )

    def _settle_keyed(self, connection: sa.Connection) -> frozenset[str]:
        """The properties every stored record has equality keys for, from now on."""
        stored = connection.execute(
            sa.text(f"SELECT value FROM {META} WHERE name = 'keyed'")
        ).scalar()
        empty = connection.execute(sa.text(f"SELECT NOT EXISTS (SELECT 1 FROM {TABLE})")).scalar()
        keyed = set(self.indexed)
        if stored is not None and not empty:
            keyed &= set(json.loads(stored))
        value = json.dumps(sorted(keyed))
        if value != stored:
            connection.execute(
                sa.text(
                    f"INSERT INTO {META} (name, value) VALUES ('keyed', :value) "
                    "ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value"
                ),
                {"value": value},
            )
        return frozenset(keyed)

    # -- writing -----------------------------------------------------------------------------

    def _begin(self, unit: Transaction) -> None:
        loading = getattr(self._loads, "depth", 0) == 1
        if not loading:  # a load's own unit waits for the batch in flight only to commit
            self._drain()  # any other: a load's batch in flight on this thread commits first
        try:
            connection = self._engine.connect()
            try:
                connection.begin()
            except BaseException:
                connection.close()
                raise
        except self._driver_errors as error:
            raise CatalogError(f"writing to {self.url} failed: {_reason(error)}") from None
        unit.connection = connection
        unit.state = _Unit(loading=loading)

    def _commit(self, unit: Transaction) -> None:
        state: _Unit = unit.state
        try:
            self._drain()  # batches commit in order; one that failed stops this one
        except BaseException:
            self._rollback(unit)
            raise
        if state.staged is not None:  # a load's batch: inserted and committed by the writer
            load = self._loads
            if load.writer is None:
                load.writer = ThreadPoolExecutor(1, thread_name_prefix="catalogql-load")
            load.sent = load.writer.submit(self._finish, unit.connection, state.staged, state.rows)
            return
        self._end(unit.connection, state.rows)
        if not getattr(self._loads, "depth", 0):  # a load analyses once, when it ends
            self._analyze_grown()

    def _finish(self, connection: sa.Connection, identifiers: list[str], rows: int) -> None:
        """On the load's writer thread: insert a staged batch, then commit it."""
        try:
            connection.exec_driver_sql(_ASYNC_COMMIT)  # the load's end makes it durable
            self._insert_staged(connection, identifiers)
        except self._driver_errors as error:
            with contextlib.suppress(*self._driver_errors):
                connection.rollback()
            connection.close()
            raise CatalogError(f"writing to {self.url} failed: {_reason(error)}") from None
        except BaseException:
            connection.close()
            raise
        self._end(connection, rows)

    def _end(self, connection: sa.Connection, rows: int) -> None:
        """Commit a unit's transaction and count its rows for :meth:`_analyze_grown`."""
        try:
            connection.commit()
        except self._driver_errors as error:
            raise CatalogError(f"committing to {self.url} failed: {_reason(error)}") from None
        finally:
            connection.close()
        with self._counting:
            self._unanalyzed += rows

    def _drain(self) -> None:
        """Wait for this thread's load's batch in flight; raise its error, if it failed.

        The error stays: every later unit or read on this thread raises it again until the
        load ends, so no batch after a failed one is written.
        """
        load = self._loads
        failure: BaseException | None = getattr(load, "failure", None)
        if failure is not None:
            raise failure
        sent, load.sent = getattr(load, "sent", None), None
        if sent is not None:
            try:
                sent.result()
            except BaseException as error:
                load.failure = error
                raise

    def _grown(self) -> bool:
        """Whether the committed rows have doubled the table (or added 1,000 rows).

        Since the last ``ANALYZE``; if so, they count as analysed from now (the caller analyses).
        """
        with self._counting:
            if self._unanalyzed < max(1000, self._analyzed):
                return False
            self._analyzed += self._unanalyzed
            self._unanalyzed = 0
            return True

    def _analyze_grown(self, *, merge: bool = False) -> None:
        """``ANALYZE`` the table if it has doubled (or grown by 1,000 rows) since the last time.

        Its GIN indexes' pending lists are merged (:meth:`_clean_pending`) at the same time, on
        another connection and thread: the server's two processes run side by side (neither
        waits for the other's locks) instead of one after the other, 0.04 s less of a
        20,000-record load's end (0.21 s instead of 0.25). ``merge``: merge them even if the
        table is not analysed.
        """
        analyze = self._grown()
        if not analyze and not merge:
            return
        with ThreadPoolExecutor(1, thread_name_prefix="catalogql-pending") as merging:
            merged = merging.submit(self._clean_pending)
            if analyze:
                self._analyze()
            try:
                merged.result()
            except self._driver_errors as error:
                raise CatalogError(f"analysing {self.url} failed: {_reason(error)}") from None

    def _analyze(self) -> None:
        """``ANALYZE`` the table, on a connection of its own."""
        try:
            with self._engine.begin() as other:
                other.exec_driver_sql(f"ANALYZE {TABLE}")
        except self._driver_errors as error:
            raise CatalogError(f"analysing {self.url} failed: {_reason(error)}") from None

    def _analyze_beside(self, analyzing: ThreadPoolExecutor) -> Future[None] | None:
        """While a load's last batch is inserted: ``ANALYZE`` what the load has committed.

        Only if those rows alone have doubled the table (:meth:`_grown`): the statistics then
        describe all of the table but that batch (at most ``batch_size`` rows; a bulk load's
        last fifth at 20,000 records), and the rows the planner estimates follow the table's
        size anyway (the server scales its row count by the table's pages). The rule is applied
        again when the batch is in (:meth:`_end_load`), so a last batch as large as the rest
        before it is analysed too. The server's two processes (the insert and the ``ANALYZE``)
        run side by side while the loading thread waits: 0.2 s of a 20,000-record load's 1.7.
        """
        if self._loads.sent is None or not self._grown():
            return None
        return analyzing.submit(self._analyze)

    def _clean_pending(self) -> None:
        """Merge the GIN indexes' pending lists (:data:`_CLEAN_PENDING`), if this user may."""
        try:
            with self._engine.begin() as other:
                other.exec_driver_sql(_CLEAN_PENDING)
        except sa.exc.DBAPIError as error:
            if not isinstance(error.orig, self._not_allowed):
                raise
            # not the table's owner: autovacuum merges the lists in its time

    @contextlib.contextmanager
    def _bulk(self) -> Iterator[None]:
        """While records load on this thread: the server's work beside the next batch's checks.

        Each batch of the load (a unit begun by the load itself, not a unit the caller holds
        open) is COPYed into a temporary table, and its insert and commit go to a writer
        thread (see :meth:`_insert_staged`), so that the server inserts one batch (parsing its
        JSONB, updating the indexes) while this thread checks the next and COPYs it. At most
        one batch is in flight: a load's unit waits for it before it commits, any other unit or
        read on this thread before it begins, so batches commit in order and a read here sees
        every batch reported to ``progress``. A batch that fails raises its error there, or
        when the load ends, and again at every later unit or read until then: the batches
        before it stay stored, none after it is written. The load returns (or raises) once
        every batch sent is committed, and durably: the batches' commits do not wait for the
        disk, and the load's end waits once for all of them. The table is analysed once, when
        the load ends (beside its last batch's insert: :meth:`_analyze_beside`), not after
        every doubling (a 20,000-record load analysed three times, about a fifth of the
        server's work); a load that raises still analyses what it stored, and an error doing
        so does not hide the load's own.
        """
        load = self._loads
        load.depth = getattr(load, "depth", 0) + 1
        if load.depth == 1:
            load.writer = load.sent = load.failure = None
        error: BaseException | None = None
        try:
            yield
        except BaseException as raised:
            error = raised
            raise
        finally:
            load.depth -= 1
            if not load.depth:
                self._end_load(error)

    def _end_load(self, error: BaseException | None) -> None:
        """Wait for the load's last batch, stop its writer, analyse; ``error``: the load's own."""
        load = self._loads
        failure: BaseException | None = None
        sent = load.writer is not None
        with ThreadPoolExecutor(1, thread_name_prefix="catalogql-analyze") as analyzing:
            analyzed = self._analyze_beside(analyzing)
            try:
                self._drain()
            except BaseException as raised:
                failure = raised
            finally:
                self._stop_writer()
                load.failure = None
            try:
                if sent:  # the batches were committed without waiting for the disk: wait now
                    self._make_durable()
                if analyzed is not None:
                    analyzed.result()
                self._analyze_grown(merge=analyzed is not None)
            except CatalogError:
                if error is None and failure is None:
                    raise
        if failure is not None and failure is not error:
            raise failure from error

    def _make_durable(self) -> None:
        """Wait until every commit so far is on the disk (as durable as the server makes any)."""
        try:
            with self._engine.begin() as connection:
                connection.exec_driver_sql(_DURABLE)
        except self._driver_errors as error:
            raise CatalogError(f"committing to {self.url} failed: {_reason(error)}") from None

    def _stop_writer(self) -> None:
        writer, self._loads.writer = self._loads.writer, None
        if writer is not None:
            writer.shutdown(wait=True)

    def _rollback(self, unit: Transaction) -> None:
        connection: sa.Connection = unit.connection
        try:
            connection.rollback()
        except self._driver_errors:
            pass  # the connection is broken: closing it discards the transaction too
        finally:
            connection.close()

    def _write(self, batch: list[StoredRecord], unit: Transaction, readers: frozenset[str]) -> None:
        """Write a batch: COPY it straight into the table when none of it is stored, else upsert.

        A load's own batch is COPYed into the temporary table here, and inserted from there by
        the load's writer thread when the unit commits (see :meth:`_bulk` and
        :meth:`_insert_staged`); any other batch is written here (see :meth:`_put`). The rows
        go in COPY's binary format (:func:`_copy_chunks`).
        """
        if not batch:
            return
        state: _Unit = unit.state
        connection: sa.Connection = unit.connection
        try:
            if state.loading and self._loads.depth == 1 and not state.rows:  # a load's batch
                raw = connection.connection.driver_connection
                assert raw is not None
                with raw.cursor() as cursor:
                    cursor.execute(_STAGING_DDL)
                    with cursor.copy(_COPY_STAGING) as copy:
                        for chunk in _copy_chunks(batch, readers, properties=False):
                            copy.write(chunk)
                state.staged = [record.identifier for record in batch]
                state.staging = True
            else:
                if state.staged is not None:  # a second batch in a load's unit: the first first
                    self._insert_staged(connection, state.staged)
                    state.staged = None
                state.staging = self._put(connection, batch, readers, staging=state.staging)
        except self._driver_errors as error:
            raise CatalogError(f"writing to {self.url} failed: {_reason(error)}") from None
        state.rows += len(batch)

    def _insert_staged(self, connection: sa.Connection, identifiers: list[str]) -> None:
        """Insert the batch in the temporary table (``identifiers``) into the table.

        One statement, so the server's work (parsing the JSONB, updating the indexes) needs
        nothing of this process while it runs: a writer thread streaming a COPY instead was
        slowed 2-3x by waiting for Python's interpreter lock while the loading thread checked
        the next batch. A plain ``INSERT`` when none of the identifiers is stored (inside a
        savepoint: should another writer store one meanwhile, a unique violation, it is
        rolled back), else the upsert (:data:`_UPSERT`).
        """
        raw = connection.connection.driver_connection
        assert raw is not None
        with raw.cursor() as cursor:
            if cursor.execute(_ANY_STORED, (identifiers,)).fetchone() is None:
                cursor.execute("SAVEPOINT catalogql_insert")
                try:
                    cursor.execute(_INSERT)
                except self._unique_violation:  # stored since by another writer: upsert
                    cursor.execute("ROLLBACK TO SAVEPOINT catalogql_insert")
                else:
                    cursor.execute("RELEASE SAVEPOINT catalogql_insert")
                    return
                cursor.execute("RELEASE SAVEPOINT catalogql_insert")
            cursor.execute(_UPSERT)

    def _put(
        self,
        connection: sa.Connection,
        batch: Sequence[StoredRecord],
        readers: frozenset[str],
        *,
        staging: bool,
    ) -> bool:
        """Write a batch in ``connection``'s transaction; whether staging now holds rows.

        If no identifier of the batch is stored (the common first load), the rows are COPYed
        straight into the table, inside a savepoint; should another writer store one of them
        meanwhile (a unique violation), the savepoint is rolled back and the batch takes the
        upsert path: COPY into the temporary table (``staging``: it holds earlier rows of the
        same transaction, to delete first), then ``INSERT ... ON CONFLICT``, which skips
        records whose JSON, types and readers are unchanged.
        """
        raw = connection.connection.driver_connection
        assert raw is not None
        with raw.cursor() as cursor:
            identifiers = [record.identifier for record in batch]
            direct = cursor.execute(_ANY_STORED, (identifiers,)).fetchone() is None
            if direct:
                cursor.execute("SAVEPOINT catalogql_copy")
                try:
                    with cursor.copy(_COPY_TABLE) as copy:
                        for chunk in _copy_chunks(batch, readers, properties=True):
                            copy.write(chunk)
                except self._unique_violation:  # stored since by another writer: upsert
                    cursor.execute("ROLLBACK TO SAVEPOINT catalogql_copy")
                    direct = False
                cursor.execute("RELEASE SAVEPOINT catalogql_copy")
            if direct:
                return staging
            cursor.execute(_STAGING_DDL)
            if staging:
                cursor.execute(f"DELETE FROM {_STAGING}")
            with cursor.copy(_COPY_STAGING) as copy:
                for chunk in _copy_chunks(batch, readers, properties=False):
                    copy.write(chunk)
            cursor.execute(_UPSERT)
        return True

    def _set_readers(self, label: str, readers: frozenset[str], unit: Transaction) -> int:
        connection: sa.Connection = unit.connection
        try:
            result = connection.execute(
                sa.text(
                    f"UPDATE {TABLE} SET readers = :readers WHERE types @> CAST(:label AS jsonb)"
                ).bindparams(sa.bindparam("readers", type_=pg.ARRAY(sa.Text))),
                {"readers": sorted(readers), "label": json.dumps([label])},
            )
        except self._driver_errors as error:
            raise CatalogError(f"writing to {self.url} failed: {_reason(error)}") from None
        return int(result.rowcount)

    def _remove(self, identifiers: frozenset[str], label: str | None, unit: Transaction) -> int:
        connection: sa.Connection = unit.connection
        try:
            result = connection.execute(
                sa.text(
                    f"DELETE FROM {TABLE} WHERE identifier = ANY(:ids) "
                    "OR (CAST(:label AS jsonb) IS NOT NULL AND types @> CAST(:label AS jsonb))"
                ).bindparams(sa.bindparam("ids", type_=pg.ARRAY(sa.Text))),
                {
                    "ids": sorted(i for i in identifiers if _sql_text(i)),
                    "label": None if label is None else json.dumps([label]),
                },
            )
        except self._driver_errors as error:
            raise CatalogError(f"writing to {self.url} failed: {_reason(error)}") from None
        unit.state.rows += int(result.rowcount)
        return int(result.rowcount)

    # -- reading -----------------------------------------------------------------------------

    def _get(self, identifier: str, readers: frozenset[str] | None) -> Mapping[str, Any] | None:
        if not _sql_text(identifier):
            return None
        table = self._table
        c = table.c
        statement = sa.select(c.identifier, _types_text_of(c), c.properties_json, c.exotic).where(
            c.identifier == identifier
        )
        if readers is not None:
            statement = statement.where(_readable(c.readers, readers))
        row = self._run(lambda connection: connection.execute(statement).first())
        if row is None:
            return None
        return decode_stored(row.identifier, row.types, row.properties_json, wide=row.exotic)

    def _count(self) -> int:
        statement = sa.select(sa.func.count()).select_from(self._table)
        return int(self._run(lambda connection: connection.execute(statement).scalar()) or 0)

    def _close(self) -> None:
        self._engine.dispose()

    def _connection(self) -> contextlib.AbstractContextManager[sa.Connection]:
        """The connection a read runs on: this thread's unit's, or one from the pool."""
        self._drain()  # a read on a loading thread sees the load's batches so far
        unit = self._current()
        if unit is not None:
            return contextlib.nullcontext(unit.connection)
        return self._engine.connect()

    def _run(self, work: Callable[[sa.Connection], Any]) -> Any:
        """One statement's read; outside a unit in autocommit.

        Autocommit spares the BEGIN and ROLLBACK round trips, and psycopg keeps the statement
        prepared (a ROLLBACK discards its prepared statements).
        """
        try:
            with self._connection() as connection:
                if self._current() is None:
                    connection = connection.execution_options(isolation_level="AUTOCOMMIT")
                return work(connection)
        except self._driver_errors as error:
            raise CatalogError(f"reading from {self.url} failed: {_reason(error)}") from None

    def _select(self, query: Query) -> Page:
        plan = _Plan(self._table, query, self._keyed)
        in_unit = self._current() is not None
        try:
            with self._connection() as connection:
                if not in_unit:  # a unit's transaction has begun: its level is set
                    connection = connection.execution_options(isolation_level="REPEATABLE READ")
                whole: Page | None = None
                if plan.python_filters or plan.python_types:
                    found, scanned = plan.scan(connection, everything=True)
                    records = [record for _, _, record in found]
                    whole = Page(records, scanned if query.count_total else None, fresh=True)
                else:
                    page, total, exotic = plan.page(connection)
                    if not exotic:
                        whole = Page([record for _, _, record in page], total, fresh=True)
                    else:
                        more, more_total = plan.scan(connection, everything=False)
                if not in_unit:  # it only read: a commit ends it as a rollback would, but keeps
                    connection.commit()  # psycopg's prepared statements (a rollback drops them)
        except self._driver_errors as error:
            raise CatalogError(f"searching {self.url} failed: {_reason(error)}") from None
        if whole is not None:
            return whole
        if query.ascending:
            merged = sorted([*page, *more], key=lambda r: (r[0], r[1]))[: query.limit]
        else:
            merged = in_search_order([*page, *more], lambda r: r[0], lambda r: r[1])
            merged = merged[: query.limit]
        if total is not None:
            total += more_total
        return Page([record for _, _, record in merged], total, fresh=True)


Row = tuple[str, str, dict[str, Any]]
"""A found record with its sort keys: (time key, identifier, record)."""


class _Plan:
    """One search in SQL: the conditions, and what is left for Python to test."""

    def __init__(self, table: sa.Table, query: Query, keyed: frozenset[str]) -> None:
        self.table = table
        self.query = query
        c = table.c
        layout = Layout("postgresql", c.properties, schema=query.schema, types=c.types)
        base: list[ColumnElement[bool]] = []
        if query.area is not None:
            wkb = shapely.to_wkb(query.area, output_dimension=2)
            area = sa.func.ST_GeomFromWKB(sa.bindparam("area", wkb, type_=sa.LargeBinary), 4326)
            base.append(sa.func.ST_Intersects(c.footprint, area, type_=sa.Boolean))
        if query.start is not None:
            base.append(c.ts >= sa.bindparam("start", query.start, type_=sa.Text))
        if query.end is not None:
            base.append(c.ts <= sa.bindparam("end", query.end, type_=sa.Text))
        if query.after is not None:  # the keyset: a range on the time index, then the tie
            after_ts = sa.bindparam("after_ts", query.after[0], type_=sa.Text)
            after_id = sa.bindparam("after_id", query.after[1], type_=sa.Text)
            if query.ascending:
                base.append(c.ts >= after_ts)
                base.append(sa.or_(c.ts > after_ts, c.identifier > after_id))
            else:
                base.append(c.ts <= after_ts)
                base.append(sa.or_(c.ts < after_ts, c.identifier > after_id))
        if query.readers is not None:
            base.append(_readable(c.readers, query.readers))
        self.python_types: list[Callable[[Sequence[str]], bool]] = []
        for number, node in enumerate(query.type_nodes):
            try:
                base.append(
                    to_sqlalchemy_shaped(node, replace(layout, parameter_prefix=f"t{number}_v"))
                )
            except Inexpressible:  # SQL cannot hold it: decided in Python
                self.python_types.append(compile_types(node))
        # Only for records JSONB holds faithfully:
        faithful: list[ColumnElement[bool]] = []
        self.python_filters: list[Callable[[Mapping[str, Any]], bool]] = []
        for number, node in enumerate(query.filter_nodes):
            try:
                prefixed = replace(layout, parameter_prefix=f"f{number}_v")
                faithful.append(to_sqlalchemy_shaped(node, prefixed))
            except Inexpressible:  # SQL cannot hold it: decided in Python
                self.python_filters.append(compile_predicate(node, query.schema))
        for number, (name, keys) in enumerate(query.equality):
            if name in keyed:
                safe = sorted(keys)  # literal_keys gives none a record cannot hold
                array = sa.bindparam(f"k{number}", safe, type_=pg.ARRAY(sa.Text))
                faithful.append(c["keys"].overlap(array))
        self.base = base
        self.faithful = faithful
        self.exotic_filter = query.filter_predicate()

    def _order(self, statement: sa.Select[Any]) -> sa.Select[Any]:
        c = self.table.c
        time = c.ts.asc() if self.query.ascending else c.ts.desc()
        return statement.order_by(time, c.identifier)

    def page(self, connection: sa.Connection) -> tuple[list[Row], int | None, bool]:
        """The first faithful matches, their count if asked, whether exotic records exist."""
        c = self.table.c
        query = self.query
        where = [*self.base, *self.faithful, sa.not_(c.exotic)]
        columns = (c.ts, c.identifier, _types_text_of(c), c.properties_json)
        page = self._order(sa.select(*columns).where(*where))
        page_rows = page.limit(sa.bindparam("limit", query.limit)).subquery("page")
        total: ColumnElement[Any] = sa.null()
        if query.count_total:
            counted = sa.select(sa.func.count()).select_from(self.table).where(*where)
            total = counted.correlate(None).scalar_subquery()
        exotic = sa.exists(sa.select(1).select_from(self.table).where(c.exotic)).correlate(None)
        one = sa.select(sa.literal(1).label("one")).subquery("one")
        statement = (
            sa.select(
                page_rows.c.ts,
                page_rows.c.identifier,
                page_rows.c.types,
                page_rows.c.properties_json,
                total.label("total"),
                exotic.label("exotic"),
            )
            .select_from(one.outerjoin(page_rows, sa.true()))
            .order_by(
                page_rows.c.ts.asc() if query.ascending else page_rows.c.ts.desc(),
                page_rows.c.identifier,
            )
        )
        rows = connection.execute(statement).all()
        found = [
            (r.ts, r.identifier, decode_stored(r.identifier, r.types, r.properties_json))
            for r in rows
            if r.identifier is not None
        ]
        count = rows[0].total if query.count_total else None
        return found, count, bool(rows[0].exotic)

    def scan(self, connection: sa.Connection, *, everything: bool) -> tuple[list[Row], int]:
        """Matches tested in Python, in search order: the exotic records, or every record."""
        c = self.table.c
        query = self.query
        where = list(self.base)
        if everything:
            where.append(sa.or_(c.exotic, sa.and_(sa.true(), *self.faithful)))
        else:
            where.append(c.exotic)
        columns = (c.ts, c.identifier, c.exotic, _types_text_of(c), c.properties_json)
        statement = self._order(sa.select(*columns).where(*where))
        found: list[Row] = []
        total = 0
        result = connection.execution_options(stream_results=True, yield_per=500).execute(statement)
        try:
            for row in result:
                record = decode_stored(
                    row.identifier, row.types, row.properties_json, wide=row.exotic
                )
                if not all(test(record["type"]) for test in self.python_types):
                    continue
                if row.exotic:
                    if self.exotic_filter is not None and not self.exotic_filter(
                        record["properties"]
                    ):
                        continue
                elif not all(test(record["properties"]) for test in self.python_filters):
                    continue
                total += 1
                if len(found) < query.limit:
                    found.append((row.ts, row.identifier, record))
                elif not query.count_total:
                    break
        finally:
            result.close()
        return found, total


def _readable(column: sa.Column[Any], readers: frozenset[str]) -> ColumnElement[bool]:
    """The condition that one of ``readers`` may read the row (the GIN index serves ``&&``)."""
    if not readers:
        return sa.false()
    names = sa.bindparam("readers", sorted(readers), type_=pg.ARRAY(sa.Text))
    overlap: ColumnElement[bool] = column.overlap(names)
    return overlap


def _types_text_of(c: Any) -> ColumnElement[str]:
    """The ``types`` column as JSON text (which ``records.stored_labels`` reads)."""
    return sa.cast(c.types, sa.Text).label("types")


def _reason(error: BaseException) -> str:
    """A driver error in one line, without SQLAlchemy's statement dump and links."""
    original = getattr(error, "orig", None) or error
    text = str(original).strip().splitlines()
    return text[0] if text else type(original).__name__


def _on_connect(dbapi_connection: Any, _record: Any) -> None:
    """Every new connection's settings, in one round trip.

    - JIT off: compiling the filters' big CASE expressions costs seconds.
    - No parallel workers: starting them costs more than a search's work on a few cores, and a
      walk of the time index stops at the limit, which a Gather Merge of workers delays.
    - Custom plans always: psycopg prepares a statement run five times on a connection, and a
      search's plan must follow its values (a continent walks the time index in order to the
      limit, a city reads the GiST index and sorts), not a generic plan made for any area.
    """
    with dbapi_connection.cursor() as cursor:
        cursor.execute(
            "SET jit = off; SET max_parallel_workers_per_gather = 0; "
            "SET plan_cache_mode = force_custom_plan"
        )
    dbapi_connection.commit()
