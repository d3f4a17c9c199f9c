"""Documents: small JSON objects kept beside the records, in the same database and unit of work.

The catalog service (products, bands, images, tasks) keeps its objects here. A document is a
``kind`` and an ``id`` (unique together), an optional ``parent`` id (a band's product), an
``owner`` name, the ``readers`` (principal names that may find it in a filtered list) and a JSON
``body``. They live in their own table (``catalogql_documents``), never in the records' table,
and every write runs inside the catalog's unit of work (:meth:`Catalog.transaction`), so that a
document and a record commit together or not at all.

:func:`documents` gives a catalog's :class:`Documents`, whatever its store:

- **memory**: a dict, changed only at the unit's commit (under the store's write lock, with the
  unit's records). A unit that touches documents holds the documents' lock until it ends, so
  read-check-write sequences (add if absent) are serialised; reads inside the unit see its own
  writes.
- **SQLite**: a table written on the unit's connection (``BEGIN IMMEDIATE`` already serialises
  writers).
- **PostgreSQL**: a table written on the unit's connection; an insert of an existing id is
  refused (``ON CONFLICT DO NOTHING``, then :class:`~catalogql.errors.Conflict`), and
  :meth:`Documents.get` with ``lock=True`` takes a row lock (``FOR UPDATE``) until the commit.

>>> from catalogql.search import open_catalog
>>> catalog = open_catalog("memory://")
>>> store = documents(catalog)
>>> with catalog.transaction():
...     store.put(Document("product", "ns:a", None, "user:ns", ("user:ns",), {"title": "A"}))
>>> store.get("product", "ns:a").body
{'title': 'A'}
"""

from __future__ import annotations

import dataclasses
import json
import threading
import weakref
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from catalogql.errors import Conflict
from catalogql.search.engine import Catalog, Transaction
from catalogql.search.errors import CatalogError

__all__ = ["POSTGRES_SCHEMA", "SQLITE_SCHEMA", "TABLE", "Document", "Documents", "documents"]

TABLE = "catalogql_documents"
"""The SQL table documents live in (beside the records' table, never inside it)."""


@dataclass(frozen=True, slots=True)
class Document:
    """One stored document.

    Attributes:
        kind: What it is (``product``, ``band``, ``deletion_task``, …).
        id: Its id, unique within its kind.
        parent: The id of the document it belongs to (a band's product), or None.
        owner: The principal name that owns it (``user:<namespace>``).
        readers: The principal names a filtered :meth:`Documents.list` finds it for.
        body: Its JSON object.

    >>> Document("band", "ns:p:red", "ns:p", "user:ns", ("user:ns",), {}).parent
    'ns:p'
    """

    kind: str
    id: str
    parent: str | None
    owner: str
    readers: tuple[str, ...]
    body: dict[str, Any]


class Documents:
    """A catalog's documents (made by :func:`documents`; one per catalog).

    Writes join the calling thread's unit of work, or run in one of their own.
    """

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog

    def get(self, kind: str, id: str, *, lock: bool = False) -> Document | None:
        """The document of this kind and id, or None.

        Args:
            kind: Its kind.
            id: Its id.
            lock: Inside a unit of work: keep others from changing it until the unit ends.

        >>> from catalogql.search import open_catalog
        >>> documents(open_catalog("memory://")).get("product", "nope") is None
        True
        """
        raise NotImplementedError

    def put(self, document: Document, *, create: bool = False) -> None:
        """Store a document, replacing the one with its kind and id.

        Args:
            document: What to store.
            create: Refuse (:class:`~catalogql.errors.Conflict`) if the kind and id exist.

        >>> from catalogql.search import open_catalog
        >>> store = documents(open_catalog("memory://"))
        >>> store.put(Document("product", "a", None, "user:x", (), {}), create=True)
        >>> store.put(Document("product", "a", None, "user:x", (), {}), create=True)
        Traceback (most recent call last):
          ...
        catalogql.errors.Conflict: product 'a' exists already (hint: choose another id, or \
change or replace the existing one)
        """
        raise NotImplementedError

    def delete(self, kind: str, id: str) -> bool:
        """Delete a document; whether there was one.

        >>> from catalogql.search import open_catalog
        >>> documents(open_catalog("memory://")).delete("product", "a")
        False
        """
        raise NotImplementedError

    def list(
        self,
        kind: str,
        *,
        parent: str | None = None,
        readers: Iterable[str] | None = None,
        owner: str | None = None,
        after: str | None = None,
        limit: int = 100,
    ) -> list[Document]:
        """Documents of a kind in id order: the first ``limit`` after the id ``after``.

        Args:
            kind: Their kind.
            parent: Only those of this parent.
            readers: Only those with at least one of these names among their readers.
            owner: Only those of this owner.
            after: Only ids greater than this one (the previous page's last id).
            limit: At most this many.

        >>> from catalogql.search import open_catalog
        >>> store = documents(open_catalog("memory://"))
        >>> for name in "cab":
        ...     store.put(Document("product", name, None, "user:x", ("group:g",), {}))
        >>> [d.id for d in store.list("product", readers=["group:g"], after="a")]
        ['b', 'c']
        >>> store.list("product", readers=["group:other"])
        []
        """
        raise NotImplementedError

    def _conflict(self, document: Document) -> Conflict:
        return Conflict(
            f"{document.kind} {document.id!r} exists already",
            hint="choose another id, or change or replace the existing one",
        )


_MADE: weakref.WeakKeyDictionary[Catalog, Documents] = weakref.WeakKeyDictionary()
_MADE_LOCK = threading.Lock()


def documents(catalog: Catalog) -> Documents:
    """The documents of a catalog (memory, SQLite or PostgreSQL), made once per catalog.

    >>> from catalogql.search import open_catalog
    >>> catalog = open_catalog("memory://")
    >>> documents(catalog) is documents(catalog)
    True
    """
    with _MADE_LOCK:
        made = _MADE.get(catalog)
        if made is None:
            from catalogql.search.stores.memory import MemoryCatalog
            from catalogql.search.stores.sqlite import SQLiteCatalog

            if isinstance(catalog, MemoryCatalog):
                made = _MemoryDocuments(catalog)
            elif isinstance(catalog, SQLiteCatalog):
                made = _SQLiteDocuments(catalog)
            else:
                from catalogql.search.stores.postgres import PostgresCatalog

                if not isinstance(catalog, PostgresCatalog):
                    raise CatalogError(f"the catalog {catalog.url} cannot hold documents")
                made = _PostgresDocuments(catalog)
            _MADE[catalog] = made
        return made


def _matches(
    document: Document,
    parent: str | None,
    readers: frozenset[str] | None,
    owner: str | None,
    after: str | None,
) -> bool:
    return (
        (parent is None or document.parent == parent)
        and (readers is None or not readers.isdisjoint(document.readers))
        and (owner is None or document.owner == owner)
        and (after is None or document.id > after)
    )


def _copy(document: Document) -> Document:
    return dataclasses.replace(document, body=json.loads(json.dumps(document.body)))


class _MemoryDocuments(Documents):
    """Documents of the memory store (see the module docstring)."""

    def __init__(self, catalog: Catalog) -> None:
        super().__init__(catalog)
        self._committed: dict[tuple[str, str], Document] = {}
        self._lock = threading.Lock()  # held by the one unit that touches documents
        self._staged: dict[int, dict[tuple[str, str], Document | None]] = {}

    def _unit_overlay(self, unit: Transaction) -> dict[tuple[str, str], Document | None]:
        overlay = self._staged.get(id(unit))
        if overlay is None:
            self._lock.acquire()
            overlay = {}
            self._staged[id(unit)] = overlay

            def apply() -> None:  # under the store's write lock, with the unit's records
                for key, document in overlay.items():
                    if document is None:
                        self._committed.pop(key, None)
                    else:
                        self._committed[key] = document

            def end() -> None:
                self._staged.pop(id(unit), None)
                self._lock.release()

            unit.on_commit(apply)
            unit.on_end(end)
        return overlay

    def _reading(self) -> dict[tuple[str, str], Document | None] | None:
        unit = self.catalog._current()
        return None if unit is None else self._unit_overlay(unit)

    def get(self, kind: str, id: str, *, lock: bool = False) -> Document | None:
        overlay = self._reading()
        key = (kind, id)
        staged = overlay is not None and key in overlay
        found = overlay[key] if staged else self._committed.get(key)  # type: ignore[index]
        return None if found is None else _copy(found)

    def put(self, document: Document, *, create: bool = False) -> None:
        with self.catalog.transaction() as unit:
            overlay = self._unit_overlay(unit)
            key = (document.kind, document.id)
            exists = overlay[key] is not None if key in overlay else key in self._committed
            if create and exists:
                raise self._conflict(document)
            overlay[key] = _copy(document)

    def delete(self, kind: str, id: str) -> bool:
        with self.catalog.transaction() as unit:
            overlay = self._unit_overlay(unit)
            key = (kind, id)
            exists = overlay[key] is not None if key in overlay else key in self._committed
            overlay[key] = None
            return exists

    def list(
        self,
        kind: str,
        *,
        parent: str | None = None,
        readers: Iterable[str] | None = None,
        owner: str | None = None,
        after: str | None = None,
        limit: int = 100,
    ) -> list[Document]:
        overlay = self._reading() or {}
        names = None if readers is None else frozenset(readers)
        with self.catalog._lock.reading():  # type: ignore[attr-defined]
            merged = {k: d for k, d in self._committed.items() if k[0] == kind}
        for key, staged in overlay.items():
            if key[0] == kind:
                merged[key] = staged  # type: ignore[assignment]
        found = sorted(
            (
                d
                for d in merged.values()
                if d is not None and _matches(d, parent, names, owner, after)
            ),
            key=lambda d: d.id,
        )
        return [_copy(d) for d in found[:limit]]


SQLITE_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS {TABLE} (
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    parent TEXT,
    owner TEXT NOT NULL,
    readers TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (kind, id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS {TABLE}_parent ON {TABLE} (kind, parent, id);
"""

_COLUMNS = "kind, id, parent, owner, readers, body"


def _where(
    kind: str,
    parent: str | None,
    readers: Sequence[str] | None,
    owner: str | None,
    after: str | None,
    readers_clause: str,
) -> tuple[str, dict[str, Any]]:
    clauses = ["kind = :kind"]
    values: dict[str, Any] = {"kind": kind}
    if parent is not None:
        clauses.append("parent = :parent")
        values["parent"] = parent
    if owner is not None:
        clauses.append("owner = :owner")
        values["owner"] = owner
    if after is not None:
        clauses.append("id > :after")
        values["after"] = after
    if readers is not None:
        clauses.append(readers_clause)
        values["names"] = list(readers)
    return " AND ".join(clauses), values


class _SQLiteDocuments(Documents):
    """Documents of the SQLite store: a table of the catalog's file (made with its schema)."""

    def _read(self, sql: str, values: Sequence[Any] | dict[str, Any]) -> list[Any]:
        catalog: Any = self.catalog
        unit = catalog._current()
        if unit is not None:
            return list(unit.connection.execute(sql, values))
        with catalog._guard():
            return list(
                catalog._retry(lambda: catalog._db().execute(sql, values).fetchall(), "read")
            )

    def get(self, kind: str, id: str, *, lock: bool = False) -> Document | None:
        rows = self._read(f"SELECT {_COLUMNS} FROM {TABLE} WHERE kind = ? AND id = ?", (kind, id))
        return _from_row(rows[0]) if rows else None

    def put(self, document: Document, *, create: bool = False) -> None:
        row = _to_row(document)
        with self.catalog.transaction() as unit:
            verb = "INSERT OR IGNORE" if create else "INSERT OR REPLACE"
            cursor = unit.connection.execute(
                f"{verb} INTO {TABLE} ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)", row
            )
            if create and cursor.rowcount == 0:
                raise self._conflict(document)

    def delete(self, kind: str, id: str) -> bool:
        with self.catalog.transaction() as unit:
            cursor = unit.connection.execute(
                f"DELETE FROM {TABLE} WHERE kind = ? AND id = ?", (kind, id)
            )
            return bool(cursor.rowcount)

    def list(
        self,
        kind: str,
        *,
        parent: str | None = None,
        readers: Iterable[str] | None = None,
        owner: str | None = None,
        after: str | None = None,
        limit: int = 100,
    ) -> list[Document]:
        names = None if readers is None else sorted(set(readers))
        where, values = _where(
            kind,
            parent,
            names,
            owner,
            after,
            f"EXISTS (SELECT 1 FROM json_each({TABLE}.readers) WHERE value IN "
            f"(SELECT value FROM json_each(:names)))",
        )
        if names is not None:
            values["names"] = json.dumps(names)
        values["limit"] = limit
        rows = self._read(
            f"SELECT {_COLUMNS} FROM {TABLE} WHERE {where} ORDER BY id LIMIT :limit", values
        )
        return [_from_row(row) for row in rows]


POSTGRES_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS {TABLE} (
    kind text COLLATE "C" NOT NULL,
    id text COLLATE "C" NOT NULL,
    parent text COLLATE "C",
    owner text NOT NULL,
    readers text[] NOT NULL,
    body text NOT NULL,
    PRIMARY KEY (kind, id)
);
CREATE INDEX IF NOT EXISTS {TABLE}_parent ON {TABLE} (kind, parent, id);
CREATE INDEX IF NOT EXISTS {TABLE}_readers ON {TABLE} USING gin (readers);
"""


class _PostgresDocuments(Documents):
    """Documents of the PostgreSQL store: a table of its database (made with its schema)."""

    def __init__(self, catalog: Catalog) -> None:
        super().__init__(catalog)
        import sqlalchemy as sa

        self._sa = sa

    def _execute(self, sql: str, values: dict[str, Any]) -> Any:
        catalog: Any = self.catalog
        statement = self._sa.text(sql)
        return catalog._run(lambda connection: list(connection.execute(statement, values)))

    def get(self, kind: str, id: str, *, lock: bool = False) -> Document | None:
        lock = lock and self.catalog._current() is not None
        rows = self._execute(
            f"SELECT {_COLUMNS} FROM {TABLE} WHERE kind = :kind AND id = :id"
            + (" FOR UPDATE" if lock else ""),
            {"kind": kind, "id": id},
        )
        return _from_row(rows[0]) if rows else None

    def put(self, document: Document, *, create: bool = False) -> None:
        kind, id, parent, owner, _, body = _to_row(document)
        values = {
            "kind": kind,
            "id": id,
            "parent": parent,
            "owner": owner,
            "readers": list(document.readers),
            "body": body,
        }
        conflict = (
            "DO NOTHING"
            if create
            else "DO UPDATE SET parent = EXCLUDED.parent, owner = EXCLUDED.owner, "
            "readers = EXCLUDED.readers, body = EXCLUDED.body"
        )
        with self.catalog.transaction():
            rows = self._execute(
                f"INSERT INTO {TABLE} ({_COLUMNS}) VALUES "
                "(:kind, :id, :parent, :owner, :readers, :body) "
                f"ON CONFLICT (kind, id) {conflict} RETURNING id",
                values,
            )
            if not rows:
                raise self._conflict(document)

    def delete(self, kind: str, id: str) -> bool:
        with self.catalog.transaction():
            rows = self._execute(
                f"DELETE FROM {TABLE} WHERE kind = :kind AND id = :id RETURNING id",
                {"kind": kind, "id": id},
            )
            return bool(rows)

    def list(
        self,
        kind: str,
        *,
        parent: str | None = None,
        readers: Iterable[str] | None = None,
        owner: str | None = None,
        after: str | None = None,
        limit: int = 100,
    ) -> list[Document]:
        names = None if readers is None else sorted(set(readers))
        where, values = _where(
            kind, parent, names, owner, after, "readers && CAST(:names AS text[])"
        )
        values["limit"] = limit
        rows = self._execute(
            f"SELECT {_COLUMNS} FROM {TABLE} WHERE {where} ORDER BY id LIMIT :limit", values
        )
        return [_from_row(row) for row in rows]


def _to_row(document: Document) -> tuple[str, str, str | None, str, str, str]:
    return (
        document.kind,
        document.id,
        document.parent,
        document.owner,
        json.dumps(list(document.readers)),
        json.dumps(document.body, ensure_ascii=False, allow_nan=False),
    )


def _from_row(row: Sequence[Any]) -> Document:
    kind, id, parent, owner, readers, body = row
    if isinstance(readers, str):
        readers = json.loads(readers)
    return Document(kind, id, parent, owner, tuple(readers), json.loads(body))
