"""The search engine: one interface over every store, and the GBDX answer built in one place.

A store says how to keep records (:meth:`Catalog._write`), how to find them
(:meth:`Catalog._select`, given a :class:`Query`) and how to fetch one by identifier. Everything the
answer is made of is decided here, once for all stores: request parsing, the order (``timestamp``
descending, then ``identifier``), the cap of ``min(limit, 1000)``, ``stats`` with ``typeCounts``
over every returned record's labels, ``totalRecords == recordsReturned`` (as the original service
answered), and ``totalMatched`` when the request asks ``countTotal``.

>>> from catalogql.search import open_catalog
>>> catalog = open_catalog("memory://")
>>> catalog.add_records([{"identifier": "a", "type": ["WV02"], "properties": {
...     "timestamp": "2016-01-01T10:00:00.000Z", "footprintWkt": "POLYGON((0 0,1 0,1 1,0 0))",
...     "cloudCover": 5}}])
1
>>> catalog.search({"filters": ["cloudCover < 10"], "types": ["WV02"]})["stats"]
{'recordsReturned': 1, 'totalRecords': 1, 'typeCounts': {'GBDXCatalogRecord': 1, 'WV02': 1}}
"""

from __future__ import annotations

import abc
import contextlib
import gc
import itertools
import operator
import threading
import warnings
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from shapely.geometry.base import BaseGeometry

from catalogql.ast import And, Comparison, Node, Op, TypeName
from catalogql.compile.predicate import Predicate, TypesPredicate, compile_predicate, compile_types
from catalogql.errors import Problem, argument_error
from catalogql.search.errors import CatalogError, RecordNotFound, RecordWarning
from catalogql.search.records import (
    EQUALITY_INDEXED,
    StoredRecord,
    copy_json,
    encodable,
    literal_keys,
    prepare_records,
)
from catalogql.search.request import SearchRequest
from catalogql.syntax.errors import QueryLimitError
from catalogql.syntax.parser import DEFAULT_LIMITS, Limits, QueryDialect

__all__ = [
    "DEFAULT_BATCH",
    "EVERYONE",
    "MAX_RESULTS",
    "Catalog",
    "Page",
    "Progress",
    "Query",
    "Transaction",
    "all_of",
    "copy_record",
    "reader_names",
]

MAX_RESULTS = 1000
"""The most records one search returns, whatever its limit (the GBDX cap)."""

EVERYONE = "*"
"""The reader name that stands for every authenticated principal.

A record stored without readers has this one; a principal's names (what a caller passes as
``readers`` to :meth:`Catalog.search`) include it, so such a record is seen by everyone who
is authenticated. It is matched like any other name: a set of names without it does not see it.
"""

Progress = Callable[[int], None]
"""Called after each stored batch with the number of records it held."""

DEFAULT_BATCH = 5000
"""Records per batch (and per transaction) of :meth:`Catalog.add_records` unless told."""

_IDENTIFIER = operator.attrgetter("identifier")  # of a StoredRecord, read without a frame
_NOTES = operator.attrgetter("notes")


@dataclass(frozen=True, slots=True)
class Query:
    """A checked request in the form the stores plan from.

    Attributes:
        request: The GBDX request it was made from (None: built by :meth:`build`).
        area: The geometry a footprint must intersect, or None.
        start: The inclusive lower bound on the time key, or None.
        end: The inclusive upper bound on the time key, or None.
        type_nodes: The type expressions; a record must satisfy all of them.
        filter_nodes: The filters; a record must satisfy all of them.
        filter: The AND of the filters as one node (None without filters), for SQL compilers.
        types: The AND of the type expressions as one node (None without any).
        required_types: Type names every match carries (from plain names in the expressions).
        equality: For some hot properties compared with ``=``: (property, keys), where a
            match has at least one of the keys (see :mod:`catalogql.search.records`).
        limit: How many records to return at most.
        count_total: Whether to count every match (``stats.totalMatched``).
        schema: The catalog's queryables schema, or None.
        readers: The caller's names: only records whose readers meet them match (the store
            decides it in its query); None: every record (a trusted local caller).
        ascending: The order: False (the GBDX search order) is time key descending, True is
            time key ascending; ties break on the identifier ascending (code points) in both.
        after: A keyset position ``(time key, identifier)``: only records strictly after it
            in the order match (the next page of a paged search); None: from the start.
            Every store serves it from its time index (see :func:`after_position`).
    """

    request: SearchRequest | None
    area: BaseGeometry | None
    start: str | None
    end: str | None
    type_nodes: tuple[Node, ...]
    filter_nodes: tuple[Node, ...]
    filter: Node | None
    types: Node | None
    required_types: tuple[str, ...]
    equality: tuple[tuple[str, frozenset[str]], ...]
    limit: int
    count_total: bool
    schema: Mapping[str, Any] | None
    readers: frozenset[str] | None = None
    ascending: bool = False
    after: tuple[str, str] | None = None

    def beyond(self, time: str, identifier: str) -> bool:
        """Whether a record with these keys lies after :attr:`after` in the order (True if None).

        >>> from catalogql.search.request import SearchRequest
        >>> query = Query.from_request(SearchRequest.from_dict({}))
        >>> import dataclasses
        >>> query = dataclasses.replace(query, after=("2020", "b"))
        >>> query.beyond("2019", "a"), query.beyond("2020", "c"), query.beyond("2020", "b")
        (True, True, False)
        """
        after = self.after
        if after is None:
            return True
        if time == after[0]:
            return identifier > after[1]
        return time > after[0] if self.ascending else time < after[0]

    def order_key(self) -> Callable[[tuple[str, str]], Any]:
        """A sort key of ``(time key, identifier)`` pairs giving this query's order.

        >>> from catalogql.search.request import SearchRequest
        >>> query = Query.from_request(SearchRequest.from_dict({}))
        >>> sorted([("1", "b"), ("2", "a"), ("1", "a")], key=query.order_key())
        [('2', 'a'), ('1', 'a'), ('1', 'b')]
        """
        if self.ascending:
            return lambda pair: pair
        return _descending_time

    @classmethod
    def from_request(
        cls,
        request: SearchRequest,
        schema: Mapping[str, Any] | None = None,
        indexed: Sequence[str] = EQUALITY_INDEXED,
        readers: frozenset[str] | None = None,
    ) -> Query:
        """Plan-ready form of a request.

        >>> from catalogql.search.request import SearchRequest
        >>> query = Query.from_request(SearchRequest.from_dict({
        ...     "types": ["WV02 AND DigitalGlobeProduct"], "filters": ["catalogID = 10"]}))
        >>> query.required_types, [name for name, _ in query.equality], query.limit
        (('WV02', 'DigitalGlobeProduct'), ['catalogID'], 1000)
        """
        filters = tuple(request.filter_nodes)
        return cls(
            request=request,
            area=request.area,
            start=request.start,
            end=request.end,
            type_nodes=tuple(request.type_nodes),
            filter_nodes=filters,
            filter=all_of(filters),
            types=all_of(request.type_nodes),
            required_types=_required_types(request.type_nodes),
            equality=_equality(filters, frozenset(indexed)),
            limit=min(request.limit, MAX_RESULTS),
            count_total=request.count_total,
            schema=schema,
            readers=readers,
        )

    @classmethod
    def build(
        cls,
        *,
        filters: Sequence[Node] = (),
        types: Sequence[Node] = (),
        area: BaseGeometry | None = None,
        start: str | None = None,
        end: str | None = None,
        limit: int = MAX_RESULTS,
        count_total: bool = False,
        schema: Mapping[str, Any] | None = None,
        indexed: Sequence[str] = EQUALITY_INDEXED,
        readers: frozenset[str] | None = None,
        ascending: bool = False,
        after: tuple[str, str] | None = None,
    ) -> Query:
        """A query from its parts, for callers other than the GBDX search (no cap on ``limit``).

        >>> from catalogql import parse_filter
        >>> query = Query.build(filters=[parse_filter("cloudCover < 10")], limit=5000,
        ...                     ascending=True, after=("2020-01-01T00:00:00", "a"))
        >>> query.limit, query.beyond("2020-01-01T00:00:00", "b")
        (5000, True)
        """
        filter_nodes = tuple(filters)
        return cls(
            request=None,
            area=area,
            start=start,
            end=end,
            type_nodes=tuple(types),
            filter_nodes=filter_nodes,
            filter=all_of(filter_nodes),
            types=all_of(tuple(types)),
            required_types=_required_types(types),
            equality=_equality(filter_nodes, frozenset(indexed)),
            limit=limit,
            count_total=count_total,
            schema=schema,
            readers=readers,
            ascending=ascending,
            after=after,
        )

    def types_predicate(self) -> TypesPredicate | None:
        """One predicate of a record's type list for all the type expressions, or None."""
        if not self.type_nodes:
            return None
        parts = [compile_types(node) for node in self.type_nodes]
        whole = parts[0] if len(parts) == 1 else lambda types: all(part(types) for part in parts)
        return _once_per_type_list(whole)

    def filter_predicate(self, *, few: bool = False) -> Predicate | None:
        """One predicate of a record's properties for all the filters, or None.

        ``few``: for a handful of records (see :func:`~catalogql.compile_predicate`).
        """
        if not self.filter_nodes:
            return None
        whole = all_of(self.filter_nodes)  # (built as ``filter`` is: the cache knows it)
        assert whole is not None
        try:  # one predicate for all the filters: one generated function, no call per filter
            return compile_predicate(whole, self.schema, few=few)
        except QueryLimitError:
            if len(self.filter_nodes) == 1:
                raise
        # Together one level deeper than each: past MAX_COMPILED_DEPTH, each on its own.
        parts = [compile_predicate(node, self.schema, few=few) for node in self.filter_nodes]
        return lambda properties: all(part(properties) for part in parts)


def _once_per_type_list(predicate: TypesPredicate) -> TypesPredicate:
    """``predicate``, deciding each distinct type list once (for one search).

    Records share few type lists (the GBDX records: a handful), so a type expression of
    thousands of patterns costs its size once per distinct list, not once per record. The
    memo lives as long as the search's predicate and holds at most one entry per record seen.

    >>> calls = []
    >>> once = _once_per_type_list(lambda types: calls.append(types) or "A" in types)
    >>> [once(["A", "B"]), once(("A", "B")), once(["C"])], len(calls)
    ([True, True, False], 2)
    """
    decided: dict[tuple[str, ...], bool] = {}

    def decide(types: Sequence[str]) -> bool:
        key = types if type(types) is tuple else tuple(types)
        try:
            known = decided.get(key)
        except TypeError:  # an element that cannot be hashed: decide it alone
            return predicate(types)
        if known is None:
            known = decided[key] = predicate(key)
        return known

    return decide


class _Reversed(str):
    """A text that sorts in the reverse order (for one key of a mixed-direction sort)."""

    __slots__ = ()

    def __lt__(self, other: object) -> bool:
        return str.__gt__(self, other)  # type: ignore[operator]

    def __gt__(self, other: object) -> bool:
        return str.__lt__(self, other)  # type: ignore[operator]


def _descending_time(pair: tuple[str, str]) -> tuple[str, str]:
    return (_Reversed(pair[0]), pair[1])


def all_of(nodes: Sequence[Node]) -> Node | None:
    """The AND of several filters (or type expressions) as one node; None for none.

    >>> from catalogql import parse_filter
    >>> all_of([parse_filter("a = 1")]), all_of([])
    (Comparison(property='a', op=<Op.EQ: '='>, value=Literal(text='1', kind=<LiteralKind.NUMBER: 'number'>)), None)
    """  # noqa: E501
    if not nodes:
        return None
    return nodes[0] if len(nodes) == 1 else And(tuple(nodes))


def _required_types(nodes: Iterable[Node]) -> tuple[str, ...]:
    names: dict[str, None] = {}
    for node in nodes:
        items = node.items if isinstance(node, And) else (node,)
        for item in items:
            if isinstance(item, TypeName):
                names[item.name] = None
    return tuple(names)


def _equality(
    filters: Iterable[Node], indexed: frozenset[str]
) -> tuple[tuple[str, frozenset[str]], ...]:
    found: list[tuple[str, frozenset[str]]] = []
    for node in filters:
        items = node.items if isinstance(node, And) else (node,)
        for item in items:
            if isinstance(item, Comparison) and item.op is Op.EQ and item.property in indexed:
                found.append((item.property, frozenset(literal_keys(item.property, item.value))))
    return tuple(found)


@dataclass(frozen=True, slots=True)
class Page:
    """What a store found: the first records in search order, and the count of all matches.

    Attributes:
        records: At most ``query.limit`` records, in search order, as the store keeps them.
        total: Every match counted (only when ``query.count_total``), else None.
        fresh: Whether the records are new objects the store keeps no reference to (decoded
            from the database), so the answer needs no copy of them.
    """

    records: Sequence[Mapping[str, Any]]
    total: int | None = None
    fresh: bool = False


@dataclass(eq=False)
class Transaction:
    """One unit of work on a catalog: every write inside it is committed together, or none is.

    Made by :meth:`Catalog.transaction`; a store fills in ``connection`` and ``state``.

    Attributes:
        catalog: The catalog it writes to.
        connection: The store's connection the unit runs on, for writing other rows in the same
            commit: an ``sqlite3.Connection`` (SQLite) or a SQLAlchemy ``Connection``
            (PostgreSQL), inside its open transaction; None for the memory store.
        state: What the store keeps for the unit (the memory store's staged batches).
        failed: Whether a block inside it raised: the unit can then only roll back.
    """

    catalog: Catalog
    connection: Any = None
    state: Any = None
    failed: bool = False
    _actions: list[Callable[[], None]] = field(default_factory=list)
    _endings: list[Callable[[], None]] = field(default_factory=list)

    def on_commit(self, action: Callable[[], None]) -> None:
        """Run ``action`` when the unit commits (never if it rolls back), in the order staged.

        This is how the memory store takes changes other than records into the same unit: the
        actions run under its write lock, after the unit's records are applied and before any
        reader can see them, so a reader sees the records and the staged changes together or
        neither. On the SQL stores they run just after the database commit (to update caches);
        rows go through :attr:`connection` instead. An action that raises leaves the unit
        committed and its exception propagates.

        >>> from catalogql.search import open_catalog
        >>> catalog, rows = open_catalog("memory://"), []
        >>> with catalog.transaction() as unit:
        ...     unit.on_commit(lambda: rows.append("product"))
        ...     rows
        []
        >>> rows
        ['product']
        """
        self._actions.append(action)

    def on_end(self, action: Callable[[], None]) -> None:
        """Run ``action`` when the unit ends, committed or rolled back (to release a lock).

        The actions run after the commit (and its :meth:`on_commit` actions) or the rollback,
        in the order staged; each runs even if one before it raised.

        >>> from catalogql.search import open_catalog
        >>> catalog, ended = open_catalog("memory://"), []
        >>> try:
        ...     with catalog.transaction() as unit:
        ...         unit.on_end(lambda: ended.append("released"))
        ...         raise KeyError("rolled back")
        ... except KeyError:
        ...     pass
        >>> ended
        ['released']
        """
        self._endings.append(action)

    def _end(self) -> None:
        """Run the :meth:`on_end` actions (each once, every one even if one raises)."""
        endings, self._endings = self._endings, []
        error: BaseException | None = None
        for action in endings:
            try:
                action()
            except BaseException as raised:  # re-raised below, after the others have run
                error = error or raised
        if error is not None:
            raise error


class Catalog(abc.ABC):
    """A searchable catalog of GBDX records, the same answers whatever the store.

    Open one with :func:`catalogql.search.open_catalog`. Records go in with
    :meth:`add_records`, requests with :meth:`search`, identifiers with :meth:`get_record`.

    Attributes:
        url: Where the catalog lives (``memory://``, ``sqlite:///…``, ``postgresql://…``).
        schema: The queryables schema filters are typed and validated with, or None (values are
            typed by what they are, SPEC section 4).
        dialect: The filter dialect requests are parsed in.
        indexed: The hot properties indexed by equality keys.
        create: Whether opening may create the catalog; when False, a store raises
            :class:`~catalogql.search.errors.CatalogNotFound` for a catalog that does not exist
            (no SQLite file or no table in it, no table in the PostgreSQL database). The memory
            store is new whenever it is opened, and ignores it.
        limits: The input limits requests are parsed with (the length and depth of each filter,
            and :attr:`~catalogql.Limits.max_request_comparisons`, the work of one request).
    """

    def __init__(
        self,
        url: str,
        *,
        schema: Mapping[str, Any] | None = None,
        dialect: QueryDialect = "default",
        indexed: Sequence[str] = EQUALITY_INDEXED,
        create: bool = True,
        limits: Limits = DEFAULT_LIMITS,
    ) -> None:
        if not isinstance(limits, Limits):
            raise argument_error("open_catalog", "limits", limits, "a catalogql.Limits")
        self.limits = limits
        self.url = url
        self.create = create
        self.schema = schema
        self.dialect: QueryDialect = dialect
        self.indexed = tuple(indexed)
        self._closed = False
        self._local = threading.local()  # .transaction: the unit this thread has open

    # -- the interface -------------------------------------------------------------------------

    def add_records(
        self,
        records: Iterable[Mapping[str, Any]],
        *,
        readers: Iterable[str] | None = None,
        batch_size: int = DEFAULT_BATCH,
        progress: Progress | None = None,
        on_note: Callable[[int, Problem], None] | None = None,
        owned: bool = False,
    ) -> int:
        """Store records, a batch at a time; a record whose identifier is stored replaces it.

        Every record stored gets ``readers``: the names that may see it in a search or a
        get-by-id restricted to some names (its readers and its content are replaced together
        when its identifier is stored again).

        Each batch is checked whole before any of it is written, and written in one
        transaction: a bad record raises :class:`~catalogql.search.errors.InvalidRecord` naming
        its position, and the batches before it stay stored. Inside :meth:`transaction`, the
        batches join that unit instead, and an error rolls back the whole unit. Loading the
        same records again changes nothing.

        A batch is checked a batch at a time (:func:`~catalogql.search.records.prepare_records`:
        the footprints in a few vectorized shapely calls, the properties copied with orjson, or
        checked where they are when ``owned``),
        with the same checks and errors as one record at a time. While records load, Python's
        cyclic garbage collector is paused (a load makes no cycles; a collection would walk
        every record held), and restored when the last concurrent load ends, also on error.
        The SQLite store defers WAL checkpoints until the load ends, and loads an empty store as
        one unit, a savepoint a batch, with its R*Tree packed at the end (its module says what
        that keeps and changes).

        Args:
            records: Record dicts (``identifier``, ``type``, ``properties``).
            readers: Reader names (``user:<sha1>``, ``group:team``, ``org:acme``,
                ``email:a@b``, :data:`EVERYONE`); None: ``(EVERYONE,)``, every authenticated
                principal (SPEC section 7); an empty list: no restricted caller.
            batch_size: Records per transaction.
            progress: Called with each stored batch's size.
            on_note: Called with the position and the note of each footprint changed to be
                indexed (split at the antimeridian, or repaired: see
                :func:`~catalogql.search.geometry.read_footprint`). Without it, each kind of
                change is one :class:`~catalogql.search.errors.RecordWarning` at the end.
            owned: Whether the records are handed over: just decoded from JSON text and held
                by nothing else (what :func:`~catalogql.search.sources.read_entries` yields),
                so the store may keep their dicts and lists instead of copies. The same checks
                and answers; without it, nothing stored shares a caller's dicts and lists.

        Returns:
            How many records were read and stored.

        >>> from catalogql.search import open_catalog
        >>> catalog = open_catalog("memory://")
        >>> record = {"identifier": "a", "type": [], "properties": {
        ...     "timestamp": "2016-01-01", "footprintWkt": "POINT(1 2)"}}
        >>> catalog.add_records([record, record]), len(catalog)
        (2, 1)
        >>> catalog.add_records([record], readers=["group:team"])
        1
        >>> catalog.search({}, readers=[EVERYONE])["stats"]["recordsReturned"]
        0
        """
        self._check_open()
        if not isinstance(batch_size, int) or batch_size < 1:
            raise CatalogError(f"batch_size must be a positive integer, not {batch_size!r}")
        if isinstance(records, str | bytes | Mapping) or not isinstance(records, Iterable):
            raise argument_error("add_records", "records", records, "an iterable of record dicts")
        names = _EVERYONE if readers is None else reader_names("add_records", readers)
        stored = 0
        noted: dict[str, list[tuple[int, Problem]]] = {}
        iterator = iter(records)
        with _collector_paused(), self._bulk():
            while batch := list(itertools.islice(iterator, batch_size)):
                checked = prepare_records(batch, stored, self.indexed, owned=owned)
                if any(map(_NOTES, checked)):
                    for offset, record in enumerate(checked):
                        for note in record.notes:
                            if on_note is not None:
                                on_note(stored + offset, note)
                            else:
                                noted.setdefault(note.code, []).append((stored + offset, note))
                if len(set(map(_IDENTIFIER, checked))) < len(checked):  # an identifier again
                    prepared: dict[str, StoredRecord] = {}
                    for record in checked:  # the last copy wins, in input order
                        prepared.pop(record.identifier, None)
                        prepared[record.identifier] = record
                    checked = list(prepared.values())
                with self.transaction() as unit:
                    self._write(checked, unit, names)
                stored += len(batch)
                if progress is not None:
                    progress(len(batch))
        for code, notes in noted.items():
            text = _NOTE_TEXTS.get(code, "footprints were changed to be indexed")
            warnings.warn(RecordWarning(f"{text} [{code}]", notes), stacklevel=2)
        return stored

    def search(
        self,
        request: SearchRequest | Mapping[str, Any],
        *,
        readers: Collection[str] | None = None,
    ) -> dict[str, Any]:
        """Run a GBDX search (SPEC section 5).

        Args:
            request: A :class:`SearchRequest`, or a request body to parse into one.
            readers: The caller's names (an authenticated principal's include
                :data:`EVERYONE`): only records whose readers meet them are seen, in the
                results, ``typeCounts``, ``totalMatched`` and the cap alike; the store decides
                it in its query. None: every record (a trusted local caller). An empty
                collection sees nothing.

        Returns:
            ``{"stats": {"recordsReturned", "totalRecords", "typeCounts"[, "totalMatched"]},
            "results": [record, …]}``, and ``"warnings"`` (each ``field, offset, message,
            hint, code``, as an error body lists its problems) when the request has any: an
            unknown field (a typo such as ``limt``), a capped ``limit``, a compatibility form.

        Raises:
            InvalidSearchRequest: For a body that breaks the rules, listing every problem.
            UsageError: For ``readers`` that are not a collection of names (a bare string).
            RequestTooLarge: For a body with more comparisons in all than the catalog's
                ``limits.max_request_comparisons`` (413).

        >>> from catalogql.search import open_catalog
        >>> answer = open_catalog("memory://").search({"limt": 5})
        >>> [(w["field"], w["hint"]) for w in answer["warnings"]]
        [('limt', "did you mean 'limit'?")]
        >>> "warnings" in open_catalog("memory://").search({"limit": 5})
        False
        """
        self._check_open()
        names = None if readers is None else reader_names("search", readers, collection=True)
        if not isinstance(request, SearchRequest):
            request = SearchRequest.from_dict(
                request, dialect=self.dialect, schema=self.schema, limits=self.limits
            )
        query = Query.from_request(request, self.schema, self.indexed, names)
        page = self._select(query)
        chosen = page.records[: query.limit]
        results = _answer_records(chosen, page.fresh)
        counts = Counter(itertools.chain.from_iterable(record["type"] for record in results))
        stats: dict[str, Any] = {
            "recordsReturned": len(results),
            "totalRecords": len(results),
            "typeCounts": dict(sorted(counts.items())),
        }
        if query.count_total:
            stats["totalMatched"] = page.total if page.total is not None else len(results)
        answer: dict[str, Any] = {"stats": stats, "results": results}
        if request.warnings:
            answer["warnings"] = [warning.to_dict() for warning in request.warnings]
        return answer

    def find(self, query: Query) -> tuple[list[dict[str, Any]], int | None]:
        """The first ``query.limit`` matches of a planned query in its order, and their count.

        The records are copies; the count is given when ``query.count_total`` (else None).
        What the service's searches page with (:meth:`Query.build`, :attr:`Query.after`);
        visibility is ``query.readers``, decided in the store's query as for :meth:`search`.

        >>> from catalogql.search import open_catalog
        >>> catalog = open_catalog("memory://")
        >>> catalog.add_records([{"identifier": i, "type": [], "properties": {
        ...     "timestamp": "2016-01-01", "footprintWkt": "POINT(1 2)"}} for i in "abc"])
        3
        >>> records, _ = catalog.find(Query.build(limit=2, after=("2016-01-01T00:00:00", "a")))
        >>> [record["identifier"] for record in records]
        ['b', 'c']
        """
        self._check_open()
        page = self._select(query)
        chosen = page.records[: query.limit]
        records = _answer_records(chosen, page.fresh)
        return records, page.total

    def get_record(
        self, identifier: str, *, readers: Collection[str] | None = None
    ) -> dict[str, Any]:
        """The record with this identifier.

        Args:
            identifier: The record's identifier.
            readers: The caller's names, as for :meth:`search`: a record they cannot read is
                not found, exactly as a missing one. None: any record.

        Raises:
            RecordNotFound: If there is none (or ``readers`` cannot read it).
            UsageError: For ``readers`` that are not a collection of names.

        >>> from catalogql.search import open_catalog
        >>> open_catalog("memory://").get_record("nope")
        Traceback (most recent call last):
          ...
        catalogql.search.errors.RecordNotFound: Not Found: nope
        """
        self._check_open()
        names = None if readers is None else reader_names("get_record", readers, collection=True)
        record = self._get(identifier, names) if isinstance(identifier, str) else None
        if record is None:
            raise RecordNotFound(str(identifier))
        return copy_record(record)

    def remove_records(
        self, identifiers: Iterable[str] = (), *, type_label: str | None = None
    ) -> int:
        """Remove the records with these identifiers, and those carrying ``type_label``.

        Inside :meth:`transaction` the removal joins that unit (applied in order with its other
        writes, rolled back with them); otherwise it is a unit of its own. An identifier that is
        not stored is no error.

        Args:
            identifiers: The identifiers to remove.
            type_label: Also remove every record carrying this label (a product's images).

        Returns:
            How many stored records are removed.

        Raises:
            UsageError: For identifiers that are not an iterable of strings (a bare string is
                refused), or a label that is not a non-empty string.

        >>> from catalogql.search import open_catalog
        >>> catalog = open_catalog("memory://")
        >>> catalog.add_records([{"identifier": i, "type": ["p1"], "properties": {
        ...     "timestamp": "2016-01-01", "footprintWkt": "POINT(1 2)"}} for i in "abc"])
        3
        >>> catalog.remove_records(["a", "nope"]), len(catalog)
        (1, 2)
        >>> catalog.remove_records(type_label="p1"), len(catalog)
        (2, 0)
        """
        self._check_open()
        if isinstance(identifiers, str | bytes | Mapping) or not isinstance(identifiers, Iterable):
            raise argument_error(
                "remove_records", "identifiers", identifiers, "an iterable of identifiers"
            )
        chosen = frozenset(identifiers)
        if not all(isinstance(i, str) for i in chosen):
            raise argument_error(
                "remove_records", "identifiers", sorted(map(repr, chosen)), "identifiers (str)"
            )
        if type_label is not None and (not isinstance(type_label, str) or not type_label):
            raise argument_error("remove_records", "type_label", type_label, "a type label")
        if not chosen and type_label is None:
            return 0
        with self.transaction() as unit:
            return self._remove(chosen, type_label, unit)

    def set_readers(self, type_label: str, readers: Iterable[str]) -> int:
        """Replace the readers of every record carrying a type label (a product's grants).

        Inside :meth:`transaction` the change joins that unit (it is applied in order with the
        unit's other writes, and rolled back with them); otherwise it is a unit of its own.

        Args:
            type_label: The label (a product id: its images' records carry it).
            readers: The new reader names (see :meth:`add_records`).

        Returns:
            How many records carry the label (and now have these readers).

        Raises:
            UsageError: For a label that is not a non-empty string, or readers that are not
                an iterable of names.

        >>> from catalogql.search import open_catalog
        >>> catalog = open_catalog("memory://")
        >>> catalog.add_records([{"identifier": "a", "type": ["p1"], "properties": {
        ...     "timestamp": "2016-01-01", "footprintWkt": "POINT(1 2)"}}], readers=[])
        1
        >>> catalog.set_readers("p1", ["group:team"])
        1
        >>> catalog.search({}, readers=["group:team"])["stats"]["recordsReturned"]
        1
        """
        self._check_open()
        if not isinstance(type_label, str) or not type_label:
            raise argument_error("set_readers", "type_label", type_label, "a type label (a str)")
        names = reader_names("set_readers", readers)
        with self.transaction() as unit:
            return self._set_readers(type_label, names, unit)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """A unit of work: the writes inside the block are committed together when it ends.

        ``add_records`` inside the block writes nothing other readers (threads, processes) can
        see until the block ends; then all of it becomes visible at once. An exception leaving
        the block rolls all of it back, on every store, and propagates.

        Decisions:

        - A unit belongs to the thread that opened it. Nested use on that thread *joins* the
          outer unit (the same :class:`Transaction` is yielded; only the outermost block
          commits). If an inner block raises, the whole unit is doomed: even if the exception
          is caught inside the outer block, the outer block rolls back and raises
          :class:`~catalogql.search.errors.CatalogError`.
        - Other rows go in the same unit: on the SQL stores through
          :attr:`Transaction.connection` (the store's connection, inside the open transaction);
          on the memory store as actions staged with :meth:`Transaction.on_commit`.
        - Reads on the thread that owns the unit see its writes on the SQL stores (they run on
          the unit's connection) but not on the memory store (its writes are kept aside until
          the commit). Do not rely on either: read after the block.
        - Writers elsewhere: on SQLite a unit holds the database's one write lock, so other
          writers (threads, processes) wait for it to end (bounded, see
          :mod:`catalogql.search.stores.sqlite`); on PostgreSQL they wait only for the rows the
          unit wrote; on the memory store other threads' units stage their own writes and the
          commits are applied one at a time (the last committed copy of a record wins).

        Raises:
            CatalogError: If the catalog is closed, a unit cannot commit, or an inner block
                failed.

        >>> from catalogql.search import open_catalog
        >>> catalog = open_catalog("memory://")
        >>> record = {"identifier": "a", "type": [], "properties": {
        ...     "timestamp": "2016-01-01", "footprintWkt": "POINT(1 2)"}}
        >>> try:
        ...     with catalog.transaction():
        ...         stored = catalog.add_records([record])
        ...         raise KeyError("something else failed")
        ... except KeyError:
        ...     pass
        >>> len(catalog)
        0
        >>> with catalog.transaction():
        ...     catalog.add_records([record])
        1
        >>> len(catalog)
        1
        """
        self._check_open()
        current: Transaction | None = getattr(self._local, "transaction", None)
        if current is not None:
            try:
                yield current
            except BaseException:
                current.failed = True
                raise
            return
        unit = Transaction(self)
        self._begin(unit)
        self._local.transaction = unit
        try:
            try:
                yield unit
            except BaseException:
                unit.failed = True
                self._rollback(unit)
                raise
            if unit.failed:
                self._rollback(unit)
                raise CatalogError(
                    f"the transaction on {self.url} was rolled back: a block inside it raised an "
                    "error that was caught; let the error leave the outer block, or open a "
                    "separate transaction for the part that may fail"
                )
            self._commit(unit)
        finally:
            self._local.transaction = None
            if unit._endings:
                unit._end()
        for action in unit._actions if self._actions_after_commit else ():
            action()

    def _current(self) -> Transaction | None:
        """The unit this thread has open on this catalog, or None."""
        return getattr(self._local, "transaction", None)

    def __len__(self) -> int:
        """How many records the catalog holds."""
        self._check_open()
        return self._count()

    def close(self) -> None:
        """Release the store (connections, files); the catalog cannot be used afterwards."""
        if not self._closed:
            self._closed = True
            self._close()

    def __enter__(self) -> Catalog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.url}>"

    def _check_open(self) -> None:
        if self._closed:
            raise CatalogError(f"the catalog {self.url} is closed")

    # -- what a store implements -------------------------------------------------------------

    _actions_after_commit = True
    """Whether :meth:`transaction` runs the staged actions after ``_commit`` (False: the store's
    ``_commit`` runs them itself, atomically with the records)."""

    @abc.abstractmethod
    def _begin(self, unit: Transaction) -> None:
        """Open a unit of work: set ``unit.connection`` / ``unit.state``."""

    @abc.abstractmethod
    def _commit(self, unit: Transaction) -> None:
        """Make the unit's writes visible to every reader at once (or raise CatalogError)."""

    @abc.abstractmethod
    def _rollback(self, unit: Transaction) -> None:
        """Forget the unit's writes."""

    @abc.abstractmethod
    def _write(self, batch: list[StoredRecord], unit: Transaction, readers: frozenset[str]) -> None:
        """Store a batch in ``unit`` for ``readers``, replacing same-identifier records."""

    @abc.abstractmethod
    def _set_readers(self, label: str, readers: frozenset[str], unit: Transaction) -> int:
        """In ``unit``, give every record carrying ``label`` these readers; how many carry it."""

    @abc.abstractmethod
    def _remove(self, identifiers: frozenset[str], label: str | None, unit: Transaction) -> int:
        """In ``unit``, remove these records and those carrying ``label``; how many there are."""

    @abc.abstractmethod
    def _select(self, query: Query) -> Page:
        """The first ``query.limit`` matches in search order (and their count if asked).

        Only records whose readers meet ``query.readers`` (unless it is None) may match, decided
        in the store's query, before the limit and the count.
        """

    @abc.abstractmethod
    def _get(self, identifier: str, readers: frozenset[str] | None) -> Mapping[str, Any] | None:
        """The stored record with this identifier, if ``readers`` (None: anyone) may read it."""

    @abc.abstractmethod
    def _count(self) -> int:
        """How many records are stored."""

    def _close(self) -> None:  # noqa: B027 - a store without resources has nothing to close
        """Release resources."""

    def _bulk(self) -> contextlib.AbstractContextManager[None]:
        """What a store does around a whole load (SQLite defers its checkpoints); nothing here."""
        return contextlib.nullcontext()


_EVERYONE = frozenset({EVERYONE})

_paused_lock = threading.Lock()
_paused_loads = 0  # loads running with the collector paused
_paused_enabled = False  # whether the collector ran when the first of them began


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while records load (whatever threads load).

    The first load to begin notes whether the collector runs and pauses it; the last to end
    restores it, even when a load raises. A load creates no reference cycles, and a collection
    during it would walk every record already held.

    >>> was = gc.isenabled()
    >>> with _collector_paused():
    ...     gc.isenabled()
    False
    >>> gc.isenabled() == was
    True
    """
    global _paused_loads, _paused_enabled
    with _paused_lock:
        if _paused_loads == 0:
            _paused_enabled = gc.isenabled()
            gc.disable()
        _paused_loads += 1
    try:
        yield
    finally:
        with _paused_lock:
            _paused_loads -= 1
            if _paused_loads == 0 and _paused_enabled:
                gc.enable()


def reader_names(function: str, readers: object, *, collection: bool = False) -> frozenset[str]:
    """Check reader names given to ``function`` (never a bare string: that fails closed).

    Args:
        function: The public function they were given to, for the error.
        readers: The names.
        collection: Whether a collection (``len`` and repeated iteration) is required, not
            just an iterable.

    Returns:
        The names as a frozenset.

    Raises:
        UsageError: For a string, a mapping, something not iterable, or a name that is not a
            non-empty string without NUL characters.

    >>> sorted(reader_names("search", ["group:team", EVERYONE]))
    ['*', 'group:team']
    >>> reader_names("search", "group:team")
    Traceback (most recent call last):
      ...
    catalogql.errors.UsageError: search(): readers must be a collection of reader names such as ['group:team'], not str (hint: pass a collection of reader names such as ['group:team'] as readers)
    """  # noqa: E501
    expected = "a collection of reader names such as ['group:team']"
    kind = Collection if collection else Iterable
    if isinstance(readers, str | bytes | bytearray | Mapping) or not isinstance(readers, kind):
        raise argument_error(function, "readers", readers, expected)
    names: set[str] = set()
    for position, name in enumerate(readers):
        if not isinstance(name, str) or not name or "\x00" in name or not encodable(name):
            raise argument_error(
                function,
                f"readers[{position}]",
                name,
                "a reader name: a non-empty str without NUL, such as 'group:team' or '*'",
            )
        names.add(name)
    return frozenset(names)


_NOTE_TEXTS = {
    "record.wkt-antimeridian": "footprints crossing the antimeridian were split there to be "
    "indexed (their footprintWkt text is kept)",
    "record.wkt-repaired": "invalid footprints were repaired to be indexed (their footprintWkt "
    "text is kept)",
}


def copy_record(record: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of a record that shares no list or dict with the store's own.

    >>> stored = {"identifier": "a", "type": ["X"], "properties": {"tags": ["p"]}}
    >>> copy = copy_record(stored)
    >>> copy["properties"]["tags"].append("q"); stored["properties"]["tags"]
    ['p']
    """
    return copy_json(dict(record))  # type: ignore[no-any-return]


def _answer_records(records: Sequence[Mapping[str, Any]], fresh: bool) -> list[dict[str, Any]]:
    """The records an answer holds: the store's new dicts as they are, anything else copied.

    >>> mine = {"identifier": "a", "type": [], "properties": {}}
    >>> [_answer_records([mine], fresh)[0] is mine for fresh in (True, False)]
    [True, False]
    """
    if not fresh:
        return [copy_record(record) for record in records]
    return [record if type(record) is dict else dict(record) for record in records]
