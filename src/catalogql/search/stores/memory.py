"""The in-memory store: records in this process, indexed for the search, planned per request.

Threads: any number of threads may search while others write. A readers-writer lock guards the
records: searches hold it shared (they run side by side), and a commit holds it alone while it
applies a unit's batches, so a search sees every batch of a unit or none of it. Writes inside a
unit (:meth:`~catalogql.search.engine.Catalog.transaction`, and each batch of ``add_records``)
are kept aside in the unit and applied only at its commit, so a rollback has nothing to undo.
The sorted indexes are rebuilt by the first search after a commit, into new objects that are
swapped in whole; a search never sees one half-built.

Storage: no object per record. Each record has a *slot*, a row number shared by arrays:

- identifiers: a list, and a dict from identifier to live slot;
- type lists and reader sets: each distinct one held once, a per-slot int32 code into them;
- time keys: a fixed-width UTF-8 array (UTF-8 bytes sort as the text's code points);
- footprints: float32 bounding boxes rounded outward, and WKB in one buffer only for the
  footprints that are not simply the parse of their ``footprintWkt`` text (split at the
  antimeridian, repaired, or read alone: :attr:`~catalogql.search.records.StoredRecord.parsed`
  false); the others are parsed from that text (held once, in the properties) by the exact
  area test, for the survivors of the box tests only (:mod:`catalogql.search.stores.packed`);
- properties: a :class:`~catalogql.compile.columnar.PropertyColumns` table (typed,
  dictionary-encoded columns), filtered a column at a time by
  :func:`~catalogql.compile.columnar.compile_columnar`;
- equality keys: (hash of the key, slot) pairs.

A record returned is rebuilt from them (a new dict, equal to the one added). A record removed
or replaced leaves a dead slot (a replacement takes a new slot); slots stay stable between
commits, and a commit that leaves at least :attr:`MemoryCatalog.compact_share` of them dead
compacts the arrays (renumbering the slots) under the write lock.

Indexes (rebuilt on the first search after a write, as arrays):

- **time**: the live slots in time order twice (ties by identifier descending, and ascending),
  with their time keys, so a date range is a contiguous slice found by bisection, and walking
  it gives either order; a keyset position (the next page) narrows the slice by bisection too;
- **footprints**: a packed index of the boxes (:class:`~catalogql.search.stores.packed.BoxIndex`:
  blocks of rows along a Z-order curve), refined by the exact shapely test on the survivors;
- **types** and **readers**: the live slots grouped by type-list code and by reader-set code
  (the postings of a label are the groups of the lists holding it);
- **equality keys** of the hot properties (see :mod:`catalogql.search.records`): the hashes
  sorted, with their slots.

A search restricted to some reader names tests every record it considers against them, in the
walk and in the refinement alike, before the limit and the count; the readers' postings are one
more candidate set (the union of the names' postings), chosen when it is the smallest.

A search starts from its most selective constraint and never scans the catalog for a selective
query. It either takes a candidate set (the records an area, a type name or an identifier
lookup allows), refines it and sorts the matches by search order; or it walks the date range in
search order, testing a chunk of records at a time (a few thousand, doubling), and stops at the
limit. Every test applies to many slots at once: a type expression is decided once per distinct
type list, a reader restriction once per distinct reader set, the filters a column at a time,
the area by boxes first and exactly on the survivors. It walks when that is cheaper:
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

import contextlib
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray

from catalogql.compile.columnar import ColumnarPredicate, PropertyColumns, compile_columnar
from catalogql.search.engine import Catalog, Page, Query, Transaction
from catalogql.search.records import StoredRecord, hashed_keys
from catalogql.search.stores.packed import Area, BoxIndex, Footprints, Grow, Identifiers
from catalogql.semantics import INSTANT_DIGITS, INSTANT_MARKS

__all__ = ["MemoryCatalog"]

_Slots = NDArray[np.int64]
_Mask = NDArray[np.bool_]

_FIRST_CHUNK = 2048  # rows tested at once by the first step of a walk (doubling after it)
_LAST_CHUNK = 65536  # ... and at most
_SCALAR_AT_MOST = 4  # at most this many slots are filtered a row at a time (see _Tests._few)


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
class _Batch:
    """A unit's staged batch: what the store keeps of its records (their StoredRecords dropped).

    ``key_hashes[i]`` is an equality key of record ``key_owners[i]`` (see
    :mod:`catalogql.search.records`), hashed: a hash only narrows the candidates, the filter
    decides. ``wkb[i]`` is record ``i``'s footprint as WKB, or ``b""`` when it is exactly the
    parse of its ``footprintWkt`` text (then read from that text when needed).
    """

    identifiers: list[str]
    labels: list[tuple[str, ...]]
    properties: list[Mapping[str, Any]]
    times: NDArray[np.bytes_]
    wkb: NDArray[Any]
    bounds: NDArray[np.float64]
    key_hashes: NDArray[np.int64]
    key_owners: NDArray[np.int64]

    @classmethod
    def of(cls, records: Sequence[StoredRecord], indexed: Sequence[str]) -> _Batch:
        properties = [record.properties for record in records]
        hashes, owners = hashed_keys(properties, indexed)
        footprints = np.asarray([record.footprint for record in records], dtype=object)
        parsed = np.fromiter((record.parsed for record in records), np.bool_, len(records))
        wkb = np.full(len(records), b"", dtype=object)  # b"": the WKT text is read instead
        if not parsed.all():
            wkb[~parsed] = shapely.to_wkb(footprints[~parsed])
        return cls(
            [record.identifier for record in records],
            [record.types for record in records],
            properties,
            np.asarray([record.timestamp for record in records], dtype=np.bytes_),  # ASCII
            wkb,
            shapely.bounds(footprints),
            hashes,
            owners,
        )


@dataclass(frozen=True, slots=True)
class _Grouped:
    """Live slots grouped by a per-slot code: the postings of each code, in one array."""

    slots: NDArray[np.int32]  # grouped by code, ascending within a code
    bounds: NDArray[np.int64]  # code c's slots are slots[bounds[c]:bounds[c + 1]]

    @classmethod
    def of(cls, live: _Slots, codes: NDArray[np.int32], count: int) -> _Grouped:
        mine = codes[live]
        order = np.argsort(mine, kind="stable")
        sizes = np.bincount(mine, minlength=count)
        bounds = np.concatenate([np.zeros(1, dtype=np.int64), np.cumsum(sizes)])
        return cls(live[order].astype(np.int32), bounds)

    def size(self, codes: Sequence[int]) -> int:
        bounds, top = self.bounds, len(self.bounds) - 1
        return sum(int(bounds[c + 1] - bounds[c]) for c in codes if c < top)

    def gather(self, codes: Sequence[int]) -> _Slots:
        top = len(self.bounds) - 1
        parts = [self.slots[self.bounds[c] : self.bounds[c + 1]] for c in codes if c < top]
        if not parts:
            return np.zeros(0, dtype=np.int64)
        return np.concatenate(parts).astype(np.int64)


@dataclass(frozen=True, slots=True)
class _Index:
    """The sorted indexes of one version of the records (built whole, then swapped in)."""

    version: int
    descending: NDArray[np.int32]  # slots by (time ascending, identifier descending)
    ascending: NDArray[np.int32]  # slots by (time ascending, identifier ascending)
    times: NDArray[np.bytes_]  # the time keys of both, ascending (UTF-8)
    position: NDArray[np.int32]  # slot -> its index in ``descending`` (-1: not live)
    position_ascending: NDArray[np.int32]  # slot -> its index in ``ascending``
    types: _Grouped  # by type-list code
    readers: _Grouped  # by reader-set code
    key_hashes: NDArray[np.int64]  # the live slots' equality keys, hashed, ascending
    key_slots: NDArray[np.int32]  # ... and whose they are
    boxes: BoxIndex

    def nbytes(self) -> int:
        arrays = (
            self.descending, self.ascending, self.times, self.position, self.position_ascending,
            self.types.slots, self.types.bounds, self.readers.slots, self.readers.bounds,
            self.key_hashes, self.key_slots,
        )  # fmt: skip
        return sum(int(array.nbytes) for array in arrays) + self.boxes.nbytes()


@dataclass(frozen=True, slots=True)
class _Removal:
    """A unit's staged removal: these identifiers, and the records carrying this label."""

    identifiers: frozenset[str]
    label: str | None


_NONE = np.zeros(0, dtype=np.int32)
_EMPTY = _Index(
    0, _NONE, _NONE, np.zeros(0, dtype="S1"), _NONE, _NONE,
    _Grouped(_NONE, np.zeros(1, dtype=np.int64)), _Grouped(_NONE, np.zeros(1, dtype=np.int64)),
    np.zeros(0, dtype=np.int64), _NONE, BoxIndex.build(np.zeros((0, 4), np.float32), _NONE, _NONE),
)  # fmt: skip


class MemoryCatalog(Catalog):
    """A catalog held in this process's memory (``memory://``); see the module docstring."""

    _actions_after_commit = False  # _commit runs them under the write lock
    compact_share = 0.25
    """Compact the slots when at least this share of them is dead (removed or replaced)."""

    def __init__(self, url: str, **options: Any) -> None:
        super().__init__(url, **options)
        self._identifiers = Identifiers()  # slot -> identifier, and back (current slots)
        self._live = Grow(np.bool_)  # slot -> whether it holds its identifier's current record
        self._dead = 0
        self._type_lists: list[tuple[str, ...]] = []  # code -> type labels
        self._type_code: dict[tuple[str, ...], int] = {}
        self._label_codes: dict[str, list[int]] = {}  # label -> the codes of lists holding it
        self._types = Grow(np.int32)  # slot -> type-list code
        self._reader_sets: list[frozenset[str]] = []  # code -> reader names (interned)
        self._reader_code: dict[frozenset[str], int] = {}
        self._readers = Grow(np.int32)  # slot -> reader-set code
        self._times = Grow("S1")  # slot -> time key (UTF-8)
        self._footprints = Footprints()
        self._properties = PropertyColumns()
        self._key_hashes = Grow(np.int64)  # (hash of an equality key, its slot), appended
        self._key_slots = Grow(np.int32)
        self._version = 0  # bumped by every commit that changed something
        self._index = _EMPTY
        self._lock = _ReadWriteLock()
        self._build_lock = threading.Lock()  # one index build at a time

    def nbytes(self) -> dict[str, int]:
        """The memory the records take, by part, in bytes (Python objects estimated).

        >>> catalog = MemoryCatalog("memory://")
        >>> sorted(catalog.nbytes())
        ['footprints', 'identifiers', 'indexes', 'keys', 'properties', 'slots']
        """
        with self._lock.reading():
            slots = sum(
                grow._data.nbytes for grow in (self._live, self._types, self._readers, self._times)
            )
            return {
                "identifiers": self._identifiers.nbytes(),
                "slots": slots,
                "footprints": self._footprints.nbytes(),
                "properties": self._properties.nbytes(),
                "keys": self._key_hashes._data.nbytes + self._key_slots._data.nbytes,
                "indexes": self._index.nbytes(),
            }

    def _footprint_texts(self, slots: _Slots) -> list[str | None]:
        """The ``footprintWkt`` texts of these slots (for the footprints held as text only)."""
        return self._properties.texts("footprintWkt", slots)

    # -- writing -----------------------------------------------------------------------------

    def _begin(self, unit: Transaction) -> None:
        unit.state = []  # applied at commit: (batch, readers) or (label, readers), in order

    def _write(self, batch: list[StoredRecord], unit: Transaction, readers: frozenset[str]) -> None:
        unit.state.append((_Batch.of(batch, self.indexed), readers))

    def _carrying(self, label: str) -> _Slots:
        """The live slots whose records carry ``label`` (call with a lock held)."""
        codes = self._label_codes.get(label)
        if not codes:
            return np.zeros(0, dtype=np.int64)
        found = np.isin(self._types.values, codes) & self._live.values
        return np.flatnonzero(found)

    def _set_readers(self, label: str, readers: frozenset[str], unit: Transaction) -> int:
        with self._lock.reading():
            carrying = set(self._identifiers.many(self._carrying(label)))
        self._staged(carrying, label, unit)
        unit.state.append((label, readers))
        return len(carrying)

    def _staged(self, carrying: set[str], label: str | None, unit: Transaction) -> None:
        """Bring ``carrying`` (identifiers with ``label``) up to the unit's earlier changes."""
        for change, _ in unit.state:  # what the unit's earlier writes will have made of it
            if isinstance(change, _Batch):
                for identifier, labels in zip(change.identifiers, change.labels, strict=True):
                    if label is not None and label in labels:
                        carrying.add(identifier)
                    else:
                        carrying.discard(identifier)
            elif isinstance(change, _Removal):
                carrying.difference_update(change.identifiers)
                if change.label == label:
                    carrying.clear()

    def _remove(self, identifiers: frozenset[str], label: str | None, unit: Transaction) -> int:
        with self._lock.reading():
            carrying = (
                set(self._identifiers.many(self._carrying(label))) if label is not None else set()
            )
            asked = list(identifiers)
            slots = self._identifiers.find(asked, self._live.values)
            present = {i for i, slot in zip(asked, slots, strict=True) if slot is not None}
        self._staged(carrying, label, unit)
        for change, _ in unit.state:  # which of the identifiers the unit stored or removed
            if isinstance(change, _Batch):
                present.update(i for i in change.identifiers if i in identifiers)
            elif isinstance(change, _Removal):
                present.difference_update(change.identifiers)
        unit.state.append((_Removal(identifiers, label), frozenset()))
        return len(present | carrying)

    def _drop(self, removal: _Removal) -> None:
        """Remove records (under the write lock): their slots die (see :meth:`_compact`)."""
        live = self._live.values
        found = self._identifiers.find(list(removal.identifiers), live)
        gone = {slot for slot in found if slot is not None}
        if removal.label is not None:
            gone.update(self._carrying(removal.label).tolist())
        if not gone:
            return
        live[np.fromiter(gone, dtype=np.int64, count=len(gone))] = False
        self._dead += len(gone)

    def _compact(self) -> None:
        """Renumber the live slots 0, 1, ... dropping the dead (under the write lock)."""
        kept = np.flatnonzero(self._live.values)
        renumbered = np.full(len(self._live), -1, dtype=np.int64)
        renumbered[kept] = np.arange(len(kept))
        self._identifiers = self._identifiers.take(kept)
        for grow in (self._live, self._types, self._readers, self._times):
            grow.replace(grow.values[kept])
        self._footprints = self._footprints.take(kept)
        self._properties = self._properties.take(kept)
        owners = renumbered[self._key_slots.values]
        alive = owners >= 0
        self._key_hashes.replace(self._key_hashes.values[alive])
        self._key_slots.replace(owners[alive])
        self._dead = 0

    def _rollback(self, unit: Transaction) -> None:
        unit.state = []

    def _commit(self, unit: Transaction) -> None:
        changes: list[tuple[_Batch | str | _Removal, frozenset[str]]] = unit.state
        unit.state = []
        if not changes and not unit._actions:
            return
        with self._lock.writing():
            try:
                for change, readers in changes:
                    if isinstance(change, _Batch):
                        self._apply(change, readers)
                    elif isinstance(change, _Removal):
                        self._drop(change)
                    else:
                        self._readers.values[self._carrying(change)] = self._intern(readers)
                if self._dead and self._dead >= self.compact_share * len(self._live):
                    self._compact()
                for action in unit._actions:
                    action()
            finally:
                self._version += 1

    def _intern(self, readers: frozenset[str]) -> int:
        """The code of a reader set (each distinct set is held once)."""
        code = self._reader_code.get(readers)
        if code is None:
            code = self._reader_code[readers] = len(self._reader_sets)
            self._reader_sets.append(readers)
        return code

    def _type_list(self, labels: tuple[str, ...]) -> int:
        """The code of a type list (each distinct list is held once)."""
        code = self._type_code.get(labels)
        if code is None:
            code = self._type_code[labels] = len(self._type_lists)
            self._type_lists.append(labels)
            for label in labels:
                self._label_codes.setdefault(label, []).append(code)
        return code

    def _replace(
        self,
        batch: _Batch,
        last: dict[str, int],
        slots: list[int | None],
        reader_code: int,
        kept: list[int],
    ) -> None:
        """Of a batch's records stored already, keep those unchanged; the others go to ``kept``."""
        live, codes = self._live.values, self._types.values
        stored = [  # the records stored under these identifiers with the same type lists
            (at, slot)
            for at, slot in zip(last.values(), slots, strict=True)
            if slot is not None and self._type_lists[codes[slot]] == batch.labels[at]
        ]
        same = set()
        if stored:  # their properties, rebuilt at once: equal ones keep their slots
            properties = self._properties.rows([slot for _, slot in stored])
            same = {
                at
                for (at, _), old in zip(stored, properties, strict=True)
                if old == batch.properties[at]
            }
        for at, slot in zip(last.values(), slots, strict=True):
            if slot is not None:
                if at in same:  # the same record: only its readers may change
                    self._readers.values[slot] = reader_code
                    continue
                live[slot] = False
                self._dead += 1
            kept.append(at)

    def _apply(self, batch: _Batch, readers: frozenset[str]) -> None:
        reader_code = self._intern(readers)
        last = dict(zip(batch.identifiers, range(len(batch.identifiers)), strict=True))
        start = len(self._identifiers)
        kept: list[int] = []
        live = self._live.values
        slots = self._identifiers.find(list(last), live)
        if slots.count(None) == len(slots):  # every record new (a load): nothing to compare
            kept = list(last.values())
        else:
            self._replace(batch, last, slots, reader_code, kept)
        if not kept:
            return
        chosen = np.asarray(kept, dtype=np.int64)
        self._identifiers.append([batch.identifiers[at] for at in kept])
        self._live.extend(np.ones(len(kept), dtype=np.bool_))
        known = self._type_code.get
        lists = [batch.labels[at] for at in kept]
        type_codes = [known(labels) for labels in lists]
        if None in type_codes:
            type_codes = [self._type_list(labels) for labels in lists]
        self._types.extend(np.asarray(type_codes, dtype=np.int32))
        self._readers.extend(np.full(len(kept), reader_code, dtype=np.int32))
        self._times.extend(batch.times[chosen])
        self._footprints.append_wkb(batch.wkb[chosen], batch.bounds[chosen])
        self._properties.append([batch.properties[at] for at in kept])
        slot_of = np.full(len(batch.identifiers), -1, dtype=np.int64)
        slot_of[chosen] = np.arange(start, start + len(kept))
        owners = slot_of[batch.key_owners]
        mine = owners >= 0
        self._key_hashes.extend(batch.key_hashes[mine])
        self._key_slots.extend(owners[mine].astype(np.int32))
        self._identifiers.merge(self._live.values)

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
        live = np.flatnonzero(self._live.values)
        ascending, descending = self._time_orders(live)
        slots = len(self._identifiers)
        position = np.full(slots, -1, dtype=np.int32)
        position[descending] = np.arange(len(live), dtype=np.int32)
        position_ascending = np.full(slots, -1, dtype=np.int32)
        position_ascending[ascending] = np.arange(len(live), dtype=np.int32)
        key_slots = self._key_slots.values
        alive = self._live.values[key_slots]
        key_hashes = self._key_hashes.values[alive]
        key_order = np.argsort(key_hashes, kind="stable")
        return _Index(
            self._version,
            descending,
            ascending,
            self._times.values[ascending],
            position,
            position_ascending,
            _Grouped.of(live, self._types.values, len(self._type_lists)),
            _Grouped.of(live, self._readers.values, len(self._reader_sets)),
            key_hashes[key_order],
            key_slots[alive][key_order],
            BoxIndex.build(self._footprints.boxes, live, position),
        )

    def _time_orders(self, live: _Slots) -> tuple[NDArray[np.int32], NDArray[np.int32]]:
        """The live slots by time key, ties by identifier ascending, and by identifier descending.

        Sorted by time (numpy); only the runs of equal time keys are then ordered by identifier,
        so only their identifiers are read.
        """
        times = self._times.values[live]
        order = _time_order(times)
        keys = times[order]
        equal = keys[1:] == keys[:-1]  # position i + 1 ties with position i
        ascending = live[order]
        descending = ascending.copy()
        if bool(equal.any()):
            starts = np.flatnonzero(np.concatenate([[True], ~equal]))  # each run's first position
            lengths = np.diff(np.append(starts, len(keys)))
            tied = lengths > 1
            begin, size = starts[tied], lengths[tied]
            positions = np.repeat(begin - np.cumsum(size) + size, size) + np.arange(size.sum())
            run = np.repeat(np.arange(len(begin)), size)
            names = self._identifiers.many(ascending[positions])
            by_name = sorted(range(len(names)), key=names.__getitem__)
            within = np.argsort(run[np.asarray(by_name, dtype=np.int64)], kind="stable")
            picked = positions[np.asarray(by_name, dtype=np.int64)[within]]  # run by run, by name
            ascending[positions] = live[order[picked]]
            first = np.repeat(begin, size)  # a run's names backward: mirrored within the run
            mirrored = 2 * first + np.repeat(size, size) - 1 - positions
            descending[mirrored] = ascending[positions]
        return ascending.astype(np.int32), descending.astype(np.int32)

    # -- reading -----------------------------------------------------------------------------

    def _records(
        self,
        slots: _Slots,
        rebuilt: dict[int, dict[str, Any]] | None = None,
        footprints: Mapping[int, str] | None = None,
    ) -> list[dict[str, Any]]:
        """The records in these slots, rebuilt (new objects).

        ``rebuilt``: properties known; ``footprints``: ``footprintWkt`` texts read already
        (by the exact area test), not read again.
        """
        lists, codes = self._type_lists, self._types.values
        listed = slots.tolist()
        known = {"footprintWkt": footprints} if footprints else None
        if rebuilt:  # the rows the filters rebuilt are used once; the others read now
            missing = [slot for slot in listed if slot not in rebuilt]
            read = dict(zip(missing, self._properties.rows(missing, known), strict=True))
            properties = [rebuilt.pop(slot) if slot in rebuilt else read[slot] for slot in listed]
        else:
            properties = self._properties.rows(listed, known)
        return [
            {"identifier": identifier, "type": list(lists[code]), "properties": row}
            for identifier, code, row in zip(
                self._identifiers.many(slots), codes[slots].tolist(), properties, strict=True
            )
        ]

    def _get(self, identifier: str, readers: frozenset[str] | None) -> Mapping[str, Any] | None:
        with self._lock.reading():
            slot = self._identifiers.find([identifier], self._live.values)[0]
            if slot is None:
                return None
            if readers is not None and readers.isdisjoint(
                self._reader_sets[self._readers.values[slot]]
            ):
                return None
            return self._records(np.asarray([slot], dtype=np.int64))[0]

    def _count(self) -> int:
        with self._lock.reading():
            return len(self._identifiers) - self._dead

    def _select(self, query: Query) -> Page:
        with self._lock.reading():
            return self._select_now(query, self._fresh_index())

    def _select_now(self, query: Query, index: _Index) -> Page:
        times = index.times
        low = 0 if query.start is None else int(np.searchsorted(times, query.start.encode()))
        high = (
            len(times)
            if query.end is None
            else int(np.searchsorted(times, query.end.encode(), side="right"))
        )
        if query.after is not None:  # the keyset: the rest of the order is a slice
            low, high = self._after(query, index, low, high)
        if low >= high:
            return Page([], 0)
        span = high - low
        tests = _Tests(self, query)
        # The box index holds each row's place in ``descending``: the same records in a range
        # of either order when the range starts and ends between time keys (no keyset).
        ranged = not query.ascending or query.after is None
        candidates = self._candidate_sets(query, index, tests, (low, high) if ranged else None)
        if not candidates:
            return self._walk(query, index, tests, low, high)
        size, slots, boxed = min(candidates, key=lambda candidate: candidate[0])
        if not query.count_total and size**2 > query.limit * span:
            return self._walk(query, index, tests, low, high)
        return self._refine(
            query, index, tests, slots(), low, high, boxed=boxed, in_range=boxed and ranged
        )

    def _after(self, query: Query, index: _Index, low: int, high: int) -> tuple[int, int]:
        """``low`` and ``high`` narrowed to the records after ``query.after`` in its order.

        In time-ascending order the records after ``(time, identifier)`` are those of a later
        time and those of that time with a greater identifier: in ``index.ascending`` (ties by
        identifier ascending) they start after that time's identifiers up to ``identifier``.
        In the search order (time descending), they are those of an earlier time and the same
        ones of that time: in ``index.descending`` (ties by identifier descending) they end
        after that time's identifiers greater than ``identifier``.
        """
        assert query.after is not None
        time, identifier = query.after
        key = time.encode()
        first = int(np.searchsorted(index.times, key))
        end = int(np.searchsorted(index.times, key, side="right"))
        identifiers = self._identifiers
        order = index.ascending if query.ascending else index.descending
        at, stop = first, end
        while at < stop:  # the first of the run not in its leading part
            middle = (at + stop) // 2
            other = identifiers.at(int(order[middle]))
            if (other <= identifier) if query.ascending else (other > identifier):
                at = middle + 1
            else:
                stop = middle
        if query.ascending:
            return max(low, at), high
        return low, min(high, at)

    def _candidate_sets(
        self, query: Query, index: _Index, tests: _Tests, within: tuple[int, int] | None
    ) -> list[tuple[int, Callable[[], _Slots], bool]]:
        """Supersets of the matches, one per indexed constraint (areas as bounding boxes).

        Each is its size, a function making it (so only the chosen one is built) and whether
        it is the area's: records whose boxes meet the area's, and of the date range when
        ``within`` is given (the range, as places in ``index.descending``, when the box index
        may apply it: see :meth:`_select_now`).
        """
        sets: list[tuple[int, Callable[[], _Slots], bool]] = []
        area = tests.area
        if area is not None:  # its size by blocks: the rows are gathered only if it is chosen
            boxes = index.boxes
            sets.append((boxes.estimate(area), lambda: boxes.query(area, within), True))
        for name in query.required_types:
            codes = self._label_codes.get(name, [])
            sets.append((index.types.size(codes), _bind(index.types.gather, codes), False))
        hashes = index.key_hashes
        for _, keys in query.equality:
            parts = []
            for key in keys:
                value = hash(key)
                start = int(hashes.searchsorted(value))
                end = int(hashes.searchsorted(value, side="right"))
                if end > start:
                    parts.append(index.key_slots[start:end])
            if len(parts) == 1 and len(parts[0]) == 1:  # one id: one slot (the usual lookup)
                found = parts[0].astype(np.int64)
            else:
                found = np.unique(np.concatenate(parts or [_NONE])).astype(np.int64)
            sets.append((len(found), _bind(_same, found), False))
        if tests.readable is not None:
            codes = np.flatnonzero(tests.readable).tolist()
            sets.append((index.readers.size(codes), _bind(index.readers.gather, codes), False))
        return sets

    def _refine(
        self,
        query: Query,
        index: _Index,
        tests: _Tests,
        slots: _Slots,
        low: int,
        high: int,
        *,
        boxed: bool = False,
        in_range: bool = False,
    ) -> Page:
        """Test a candidate set, then put the matches in search order.

        ``boxed``: the set is the box index's answer, whose boxes meet the area's;
        ``in_range``: its records are all in the date range (the index was given it).
        """
        positions = index.position_ascending if query.ascending else index.position
        if not in_range:
            position = positions[slots]
            slots = slots[(position >= low) & (position < high)]
        slots = tests.matching(slots, boxed=boxed)
        order = np.argsort(positions[slots], kind="stable")
        if not query.ascending:
            order = order[::-1]
        chosen = slots[order[: query.limit]]
        return Page(self._records(chosen, tests.rebuilt, tests.texts), len(slots), fresh=True)

    def _walk(self, query: Query, index: _Index, tests: _Tests, low: int, high: int) -> Page:
        """Walk the date range in the query's order, testing a chunk of records at a time.

        It stops at the limit, unless every match is counted. Each chunk is tested at once
        (the cheap tests first; the exact area test last, on the survivors only).
        """
        limit, everything = query.limit, query.count_total
        order = index.ascending if query.ascending else index.descending
        found: list[_Slots] = []
        kept = total = 0
        size = _LAST_CHUNK if everything else max(_FIRST_CHUNK, 2 * limit)
        at = low if query.ascending else high
        while low < at if not query.ascending else at < high:
            if query.ascending:
                chunk = order[at : min(high, at + size)]
                at += len(chunk)
            else:
                chunk = order[max(low, at - size) : at][::-1]
                at -= len(chunk)
            matched = tests.matching(chunk.astype(np.int64), boxed=False)
            total += len(matched)
            if kept < limit:
                found.append(matched[: limit - kept])
                kept += len(found[-1])
            if kept >= limit and not everything:
                break
            size = min(2 * size, _LAST_CHUNK)
        chosen = np.concatenate(found) if found else np.zeros(0, dtype=np.int64)
        records = self._records(chosen, tests.rebuilt, tests.texts)
        return Page(records, total if everything else None, fresh=True)


class _Tests:
    """A search's tests of a record, made once per search and applied to many slots at once."""

    def __init__(self, store: MemoryCatalog, query: Query) -> None:
        self.store = store
        self.area = None if query.area is None else Area(query.area)
        names = query.readers
        self.readable: NDArray[np.bool_] | None = None
        if names is not None:
            self.readable = np.asarray(
                [not names.isdisjoint(readers) for readers in store._reader_sets], dtype=np.bool_
            ).reshape(-1)
        decide = query.types_predicate()
        self.types: NDArray[np.bool_] | None = None
        if decide is not None:
            self.types = np.asarray(
                [bool(decide(labels)) for labels in store._type_lists], dtype=np.bool_
            ).reshape(-1)
        self._filters: list[ColumnarPredicate] | None = None  # compiled when first needed
        self.query = query
        self.rebuilt: dict[int, dict[str, Any]] = {}  # slot -> properties rebuilt to be tested
        self.texts: dict[int, str] = {}  # slot -> footprintWkt read for the exact area test

    def matching(self, slots: _Slots, *, boxed: bool) -> _Slots:
        """Those of ``slots`` whose records pass every test, in the same order."""
        store = self.store
        if self.readable is not None and len(slots):
            slots = slots[self.readable[store._readers.values[slots]]]
        if self.types is not None and len(slots):
            slots = slots[self.types[store._types.values[slots]]]
        area = self.area
        if area is not None and not boxed and len(slots):
            slots = slots[area.near(store._footprints.boxes[slots])]
        for at in range(len(self.query.filter_nodes)):  # a column at a time while many are left
            if not len(slots):
                break
            if len(slots) <= _SCALAR_AT_MOST:  # then every filter, a row each
                slots = self._few(slots)
                break
            slots = slots[self._columnar()[at](store._properties, slots)]
        if area is not None and len(slots):
            slots = store._footprints.intersecting(
                area, slots, boxed=True, texts=self._footprint_texts
            )
        return slots

    def _columnar(self) -> list[ColumnarPredicate]:
        """The filters compiled to column-at-a-time tests, when a search first needs them.

        A search whose candidates are few (a catalogID's one record) tests them a row at a
        time and never does: compiling them cost it ~25 µs of its ~150 at 200,000 records.
        """
        if self._filters is None:
            query = self.query
            self._filters = [compile_columnar(node, query.schema) for node in query.filter_nodes]
        return self._filters

    def _footprint_texts(self, slots: _Slots) -> list[str | None]:
        """The ``footprintWkt`` texts of these slots, kept for the page (:attr:`texts`)."""
        texts = self.store._footprint_texts(slots)
        for slot, text in zip(slots.tolist(), texts, strict=True):
            if text is not None:
                self.texts[slot] = text
        return texts

    def _few(self, slots: _Slots) -> _Slots:
        """The filters on a few slots: their rows rebuilt once and tested one by one.

        A column-at-a-time test costs its columns' dictionaries (once per distinct text), too
        much for a handful of rows; the rows rebuilt are kept for the page
        (:attr:`rebuilt`). The predicates select exactly what the columnar filters select.
        """
        keep = self.query.filter_predicate(few=True)  # closures: quick to build, for a few rows
        assert keep is not None
        rows = self.store._properties.rows(slots)
        chosen = [keep(row) for row in rows]
        for slot, row, kept in zip(slots.tolist(), rows, chosen, strict=True):
            if kept:
                self.rebuilt[slot] = row
        return slots[np.asarray(chosen, dtype=np.bool_)]


_DIGITS = np.array(INSTANT_DIGITS)
"""Where the digits of a time key ``YYYY-MM-DDTHH:MM:SS…`` are."""
_SEPARATED = np.array([at for at, _ in INSTANT_MARKS])
_SEPARATORS = np.frombuffer("".join(mark for _, mark in INSTANT_MARKS).encode(), dtype=np.uint8)


def _time_order(times: NDArray[np.bytes_]) -> NDArray[np.intp]:
    """``np.argsort(times, kind="stable")`` of time keys (UTF-8 bytes), a few times faster.

    Keys of the usual form (``YYYY-MM-DDTHH:MM:SS``, then a fraction or nothing) sort by their
    14 digits read as one integer, then by the bytes after them as big-endian words (the same
    order as the bytes'); anything else falls back to numpy's string sort.

    >>> keys = np.array([b"2016-01-01T00:00:00.5", b"2015-12-31T23:59:59", b"2016-01-01T00:00:00"])
    >>> _time_order(keys).tolist(), np.argsort(keys, kind="stable").tolist()
    ([1, 2, 0], [1, 2, 0])
    """
    width, count = times.dtype.itemsize, len(times)
    if count < 2 or width < 19 or times.dtype.kind != "S":
        return np.argsort(times, kind="stable")
    table = np.ascontiguousarray(times).view(np.uint8).reshape(count, width)
    digits = table[:, _DIGITS]
    if bool((table[:, _SEPARATED] != _SEPARATORS).any()) or bool(
        ((digits < 48) | (digits > 57)).any()
    ):
        return np.argsort(times, kind="stable")
    number = np.zeros(count, dtype=np.int64)
    for column in range(len(_DIGITS)):
        number *= 10
        number += digits[:, column]
    number -= int(np.sum(48 * 10 ** np.arange(len(_DIGITS), dtype=np.int64)))
    rest = table[:, 19:]
    if not rest.size or not bool(rest.any()):
        return np.argsort(number, kind="stable")
    padded = np.zeros((count, -(-rest.shape[1] // 8) * 8), dtype=np.uint8)
    padded[:, : rest.shape[1]] = rest
    words = padded.view(">u8")
    return np.lexsort([*(words[:, j] for j in reversed(range(words.shape[1]))), number])


def _bind(function: Callable[[Any], _Slots], argument: Any) -> Callable[[], _Slots]:
    return lambda: function(argument)


def _same(slots: _Slots) -> _Slots:
    return slots
