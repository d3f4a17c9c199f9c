"""The in-memory store: records in this process, indexed for the search, planned per request.

Threads: any number of threads may search while others write. A readers-writer lock guards the
records: searches hold it shared (they run side by side), and a commit holds it alone while it
applies a unit's batches, so a search sees every batch of a unit or none of it. Writes inside a
unit (:meth:`~catalogql.search.engine.Catalog.transaction`, and each batch of ``add_records``)
are kept aside in the unit and applied only at its commit, so a rollback has nothing to undo.
The sorted indexes are rebuilt by the first search after a commit, into new objects that are
swapped in whole; a search never sees one half-built.

Indexes (rebuilt on the first search after a write):

- **time**: every record in search order, with its time keys ascending, so a date range is a
  contiguous slice found by bisection, and walking the slice backwards gives the search order;
- **footprints**: a shapely ``STRtree`` over the footprints' bounding boxes, refined exactly;
- **types**: postings (the records carrying each type label);
- **equality keys** of the hot properties (see :mod:`catalogql.search.records`);
- **readers**: postings (the records each reader name may see), and each record's reader set.

A search restricted to some reader names tests every record it considers against them, in the
walk and in the refinement alike, before the limit and the count; the readers' postings are one
more candidate set (the union of the names' postings), chosen when it is the smallest.

A search starts from its most selective constraint and never scans the catalog for a selective
query. It either takes a candidate set (the records an area, a type name or an identifier
lookup allows), refines it and sorts the matches by search order; or it walks the date range in
search order, testing each record, and stops at the limit. It walks when that is cheaper:
when the smallest candidate set ``k`` is so large that ``limit`` matches are expected within
``limit * range / k`` records of the walk (``k * k > limit * range``), and no total is asked for.

>>> catalog = MemoryCatalog("memory://")
>>> catalog.add_records([{"identifier": str(i), "type": ["WV02"], "properties": {
...     "timestamp": f"2016-01-0{i}", "footprintWkt": f"POINT({i} {i})"}} for i in range(1, 4)])
3
>>> page = catalog.search({"searchAreaWkt": "POLYGON((1.5 1.5, 4 1.5, 4 4, 1.5 4, 1.5 1.5))"})
>>> [record["identifier"] for record in page["results"]]
['3', '2']
"""

from __future__ import annotations

import bisect
import contextlib
import functools
import threading
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray

from catalogql.search.engine import Catalog, Page, Query, Transaction
from catalogql.search.records import StoredRecord

__all__ = ["MemoryCatalog"]

_Slots = NDArray[np.int64]


class _ReadWriteLock:
    """Many readers or one writer; a waiting writer goes before new readers (no starvation).

    The writing thread may also read (a staged action that searches does not deadlock).
    """

    def __init__(self) -> None:
        self._condition = threading.Condition(threading.Lock())
        self._readers = 0
        self._writer: int | None = None  # the writing thread's ident
        self._waiting = 0  # writers waiting

    def reading(self) -> _ReadWriteLock:
        """The lock as a context manager taking it shared (``with lock.reading(): ...``)."""
        return self

    def __enter__(self) -> None:  # shared; a plain method pair: cheaper than a generator
        with self._condition:
            if self._writer == threading.get_ident():
                self._readers += 1  # the writer reading: it holds the lock already
                return
            while self._writer is not None or self._waiting:
                self._condition.wait()
            self._readers += 1

    def __exit__(self, *exc: object) -> None:
        with self._condition:
            self._readers -= 1
            if not self._readers:
                self._condition.notify_all()

    @contextlib.contextmanager
    def writing(self) -> Iterator[None]:
        with self._condition:
            self._waiting += 1
            while self._writer is not None or self._readers:  # never its own: it waits first
                self._condition.wait()
            self._waiting -= 1
            self._writer = threading.get_ident()
        try:
            yield
        finally:
            with self._condition:
                self._writer = None
                self._condition.notify_all()


@dataclass(frozen=True, slots=True)
class _Index:
    """The sorted indexes of one version of the records (built whole, then swapped in)."""

    version: int
    ascending: list[int]  # slots by (time ascending, identifier descending)
    times: list[str]  # their time keys, ascending
    position: _Slots  # slot -> index in ascending
    footprints: NDArray[Any]
    tree: shapely.STRtree | None


@dataclass(frozen=True, slots=True)
class _Removal:
    """A unit's staged removal: these identifiers, and the records carrying this label."""

    identifiers: frozenset[str]
    label: str | None


_EMPTY = _Index(0, [], [], np.zeros(0, dtype=np.int64), np.zeros(0, dtype=object), None)


class MemoryCatalog(Catalog):
    """A catalog held in this process's memory (``memory://``); see the module docstring."""

    _actions_after_commit = False  # _commit runs them under the write lock

    def __init__(self, url: str, **options: Any) -> None:
        super().__init__(url, **options)
        self._records: list[StoredRecord] = []
        self._slot: dict[str, int] = {}
        self._types: defaultdict[str, set[int]] = defaultdict(set)
        self._keys: defaultdict[str, set[int]] = defaultdict(set)
        self._readers: list[frozenset[str]] = []  # slot -> its reader names
        self._readable: defaultdict[str, set[int]] = defaultdict(set)  # name -> slots
        self._version = 0  # bumped by every commit that changed something
        self._index = _EMPTY
        self._lock = _ReadWriteLock()
        self._build_lock = threading.Lock()  # one index build at a time

    # -- writing -----------------------------------------------------------------------------

    def _begin(self, unit: Transaction) -> None:
        unit.state = []  # applied at commit: (batch, readers) or (label, readers), in order

    def _write(self, batch: list[StoredRecord], unit: Transaction, readers: frozenset[str]) -> None:
        unit.state.append((batch, readers))

    def _set_readers(self, label: str, readers: frozenset[str], unit: Transaction) -> int:
        with self._lock.reading():
            carrying = {self._records[slot].identifier for slot in self._types.get(label, ())}
        self._staged(carrying, label, unit)
        unit.state.append((label, readers))
        return len(carrying)

    def _staged(self, carrying: set[str], label: str | None, unit: Transaction) -> None:
        """Bring ``carrying`` (identifiers with ``label``) up to the unit's earlier changes."""
        for change, _ in unit.state:  # what the unit's earlier writes will have made of it
            if isinstance(change, list):
                for record in change:
                    if label is not None and label in record.types:
                        carrying.add(record.identifier)
                    else:
                        carrying.discard(record.identifier)
            elif isinstance(change, _Removal):
                carrying.difference_update(change.identifiers)
                if change.label == label:
                    carrying.clear()

    def _remove(self, identifiers: frozenset[str], label: str | None, unit: Transaction) -> int:
        with self._lock.reading():
            carrying = (
                {self._records[slot].identifier for slot in self._types.get(label, ())}
                if label is not None
                else set()
            )
            present = set(self._slot)
        self._staged(carrying, label, unit)
        for change, _ in unit.state:  # which of the identifiers the unit stored or removed
            if isinstance(change, list):
                present.update(record.identifier for record in change)
            elif isinstance(change, _Removal):
                present.difference_update(change.identifiers)
        stored = {i for i in identifiers if i in present}
        unit.state.append((_Removal(identifiers, label), frozenset()))
        return len(stored | carrying)

    def _drop(self, removal: _Removal) -> None:
        """Remove records (under the write lock): the slots are renumbered."""
        gone = {self._slot[i] for i in removal.identifiers if i in self._slot}
        if removal.label is not None:
            gone.update(self._types.get(removal.label, ()))
        if not gone:
            return
        kept = [slot for slot in range(len(self._records)) if slot not in gone]
        records = [self._records[slot] for slot in kept]
        readers = [self._readers[slot] for slot in kept]
        self._records, self._slot, self._readers = [], {}, []
        self._types, self._keys = defaultdict(set), defaultdict(set)
        self._readable = defaultdict(set)
        for record, names in zip(records, readers, strict=True):
            self._apply([record], names)

    def _rollback(self, unit: Transaction) -> None:
        unit.state = []

    def _commit(self, unit: Transaction) -> None:
        changes: list[tuple[list[StoredRecord] | str | _Removal, frozenset[str]]] = unit.state
        unit.state = []
        if not changes and not unit._actions:
            return
        with self._lock.writing():
            try:
                for change, readers in changes:
                    if isinstance(change, list):
                        self._apply(change, readers)
                    elif isinstance(change, _Removal):
                        self._drop(change)
                    else:
                        for slot in self._types.get(change, ()):
                            self._give(slot, readers)
                for action in unit._actions:
                    action()
            finally:
                self._version += 1

    def _give(self, slot: int, readers: frozenset[str]) -> None:
        """Replace the readers of the record in ``slot``."""
        for name in self._readers[slot]:
            self._readable[name].discard(slot)
        self._readers[slot] = readers
        for name in readers:
            self._readable[name].add(slot)

    def _apply(self, batch: list[StoredRecord], readers: frozenset[str]) -> None:
        for record in batch:
            slot = self._slot.get(record.identifier)
            if slot is None:
                slot = len(self._records)
                self._records.append(record)
                self._slot[record.identifier] = slot
                self._readers.append(frozenset())
                self._give(slot, readers)
            else:
                old = self._records[slot]
                if self._readers[slot] != readers:
                    self._give(slot, readers)
                if old.record == record.record:
                    continue
                for label in old.types:
                    self._types[label].discard(slot)
                for key in old.keys:
                    self._keys[key].discard(slot)
                self._records[slot] = record
            for label in record.types:
                self._types[label].add(slot)
            for key in record.keys:
                self._keys[key].add(slot)

    def _fresh_index(self) -> _Index:
        """The indexes of the records as they are (call with the read lock held)."""
        index = self._index
        if index.version == self._version:
            return index
        with self._build_lock:
            index = self._index
            if index.version != self._version:
                index = self._build()
                self._index = index
        return index

    def _build(self) -> _Index:
        records = self._records
        by_identifier = sorted(range(len(records)), key=lambda s: records[s].identifier)
        by_identifier.reverse()
        ascending = sorted(by_identifier, key=lambda s: records[s].timestamp)
        position = np.empty(len(records), dtype=np.int64)
        position[np.asarray(ascending, dtype=np.int64)] = np.arange(len(records))
        footprints = np.array([r.footprint for r in records], dtype=object)
        return _Index(
            self._version,
            ascending,
            [records[s].timestamp for s in ascending],
            position,
            footprints,
            shapely.STRtree(footprints) if records else None,
        )

    # -- reading -----------------------------------------------------------------------------

    def _get(self, identifier: str, readers: frozenset[str] | None) -> Mapping[str, Any] | None:
        with self._lock.reading():
            slot = self._slot.get(identifier)
            if slot is None or (readers is not None and readers.isdisjoint(self._readers[slot])):
                return None
            return self._records[slot].record

    def _count(self) -> int:
        with self._lock.reading():
            return len(self._records)

    def _select(self, query: Query) -> Page:
        with self._lock.reading():
            return self._select_now(query, self._fresh_index())

    def _select_now(self, query: Query, index: _Index) -> Page:
        times = index.times
        low = 0 if query.start is None else bisect.bisect_left(times, query.start)
        high = len(times) if query.end is None else bisect.bisect_right(times, query.end)
        if query.after is not None:  # the keyset: the rest of the order is a slice, give or
            # take the records of the position's own time (tested one by one)
            if query.ascending:
                low = max(low, bisect.bisect_left(times, query.after[0]))
            else:
                high = min(high, bisect.bisect_right(times, query.after[0]))
        if low >= high:
            return Page([], 0)
        span = high - low
        candidates = self._candidate_sets(query, index)
        if not candidates:
            return self._walk(query, index, low, high)
        size, slots = min(candidates, key=lambda candidate: candidate[0])
        if not query.count_total and size**2 > query.limit * span:
            return self._walk(query, index, low, high)
        return self._refine(query, index, slots(), low, high)

    def _candidate_sets(
        self, query: Query, index: _Index
    ) -> list[tuple[int, Callable[[], _Slots]]]:
        """Supersets of the matches, one per indexed constraint (areas as bounding boxes).

        Each is its size and a function making it, so only the chosen one is built.
        """
        sets: list[tuple[int, Callable[[], _Slots]]] = []
        if query.area is not None and index.tree is not None:
            boxes = index.tree.query(query.area).astype(np.int64, copy=False)
            sets.append((len(boxes), lambda: boxes))
        for name in query.required_types:
            posting = self._types.get(name, set())
            sets.append((len(posting), functools.partial(_array, posting)))
        for _, keys in query.equality:
            found: set[int] = set()
            for key in keys:
                found |= self._keys.get(key, set())
            sets.append((len(found), functools.partial(_array, found)))
        if query.readers is not None:
            postings = [self._readable.get(name, set()) for name in query.readers]
            size = sum(len(posting) for posting in postings)  # at least the union's size
            sets.append((size, functools.partial(_union, postings)))
        return sets

    def _refine(self, query: Query, index: _Index, slots: _Slots, low: int, high: int) -> Page:
        """Test a candidate set, then put the matches in search order."""
        position = index.position[slots]
        inside = (position >= low) & (position < high)
        slots, position = slots[inside], position[inside]
        if query.area is not None and len(slots):
            hits = shapely.intersects(query.area, index.footprints[slots])
            slots, position = slots[hits], position[hits]
        types, keep = query.types_predicate(), query.filter_predicate()
        records, names, readers = self._records, query.readers, self._readers
        matches = [
            (int(p), records[s])
            for s, p in zip(slots.tolist(), position.tolist(), strict=True)
            if (names is None or not names.isdisjoint(readers[s]))
            and (types is None or types(records[s].types))
            and (keep is None or keep(records[s].properties))
            and (query.after is None or query.beyond(records[s].timestamp, records[s].identifier))
        ]
        if query.ascending:
            matches.sort(key=lambda match: (match[1].timestamp, match[1].identifier))
        else:
            matches.sort(key=lambda match: match[0], reverse=True)
        page = [record.record for _, record in matches[: query.limit]]
        return Page(page, len(matches))

    def _walk(self, query: Query, index: _Index, low: int, high: int) -> Page:
        """Walk the date range in search order, testing each record, until the limit."""
        area = query.area
        boxes: bytearray | None = None
        if area is not None and index.tree is not None:
            boxes = bytearray(len(self._records))
            for slot in index.tree.query(area).tolist():
                boxes[slot] = 1
        types, keep = query.types_predicate(), query.filter_predicate()
        records, ascending = self._records, index.ascending
        names, readers = query.readers, self._readers
        limit = query.limit
        found: list[dict[str, Any]] = []
        total = 0
        after = query.after
        for at in _order(query, index, low, high):
            slot = ascending[at]
            if after is not None and not query.beyond(index.times[at], records[slot].identifier):
                continue
            if boxes is not None and not boxes[slot]:
                continue
            if names is not None and names.isdisjoint(readers[slot]):
                continue
            record = records[slot]
            if types is not None and not types(record.types):
                continue
            if keep is not None and not keep(record.properties):
                continue
            if area is not None and not area.intersects(record.footprint):
                continue
            total += 1
            if len(found) < limit:
                found.append(record.record)
            elif not query.count_total:
                break
        return Page(found, total if query.count_total else None)


def _order(query: Query, index: _Index, low: int, high: int) -> Iterator[int]:
    """The positions of ``index.ascending[low:high]`` in the query's order.

    Descending is the slice walked backwards; ascending walks it forwards a time at a time,
    each run of one time key backwards (the index holds a time's records by identifier
    descending).
    """
    if not query.ascending:
        yield from range(high - 1, low - 1, -1)
        return
    times = index.times
    at = low
    while at < high:
        end = min(high, bisect.bisect_right(times, times[at], at, high))
        yield from range(end - 1, at - 1, -1)
        at = end


def _union(postings: list[set[int]]) -> _Slots:
    found: set[int] = set()
    for posting in postings:
        found |= posting
    return _array(found)


def _array(slots: Any) -> _Slots:
    if isinstance(slots, set):
        return np.fromiter(slots, dtype=np.int64, count=len(slots))
    return np.asarray(list(slots), dtype=np.int64)
