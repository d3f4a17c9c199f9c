"""The in-memory store: records in this process, indexed for the search, planned per request.

Indexes (rebuilt on the first search after a write):

- **time**: every record in search order, with its time keys ascending, so a date range is a
  contiguous slice found by bisection, and walking the slice backwards gives the search order;
- **footprints**: a shapely ``STRtree`` over the footprints' bounding boxes, refined exactly;
- **types**: postings (the records carrying each type label);
- **equality keys** of the hot properties (see :mod:`catalogql.search.records`).

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
import functools
from collections import defaultdict
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray

from catalogql.search.engine import Catalog, Page, Query
from catalogql.search.records import StoredRecord

__all__ = ["MemoryCatalog"]

_Slots = NDArray[np.int64]


class MemoryCatalog(Catalog):
    """A catalog held in this process's memory (``memory://``); see the module docstring."""

    def __init__(self, url: str, **options: Any) -> None:
        super().__init__(url, **options)
        self._records: list[StoredRecord] = []
        self._slot: dict[str, int] = {}
        self._types: defaultdict[str, set[int]] = defaultdict(set)
        self._keys: defaultdict[str, set[int]] = defaultdict(set)
        self._stale = True
        self._ascending: list[int] = []  # slots by (time ascending, identifier descending)
        self._times: list[str] = []  # their time keys, ascending
        self._position: _Slots = np.zeros(0, dtype=np.int64)  # slot -> index in _ascending
        self._footprints: NDArray[Any] = np.zeros(0, dtype=object)
        self._tree: shapely.STRtree | None = None

    # -- writing -----------------------------------------------------------------------------

    def _write(self, batch: list[StoredRecord]) -> None:
        for record in batch:
            slot = self._slot.get(record.identifier)
            if slot is None:
                slot = len(self._records)
                self._records.append(record)
                self._slot[record.identifier] = slot
            else:
                old = self._records[slot]
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
            self._stale = True

    def _build(self) -> None:
        records = self._records
        by_identifier = sorted(range(len(records)), key=lambda s: records[s].identifier)
        by_identifier.reverse()
        self._ascending = sorted(by_identifier, key=lambda s: records[s].timestamp)
        self._times = [records[s].timestamp for s in self._ascending]
        position = np.empty(len(records), dtype=np.int64)
        position[np.asarray(self._ascending, dtype=np.int64)] = np.arange(len(records))
        self._position = position
        self._footprints = np.array([r.footprint for r in records], dtype=object)
        self._tree = shapely.STRtree(self._footprints) if records else None
        self._stale = False

    # -- reading -----------------------------------------------------------------------------

    def _get(self, identifier: str) -> Mapping[str, Any] | None:
        slot = self._slot.get(identifier)
        return None if slot is None else self._records[slot].record

    def _count(self) -> int:
        return len(self._records)

    def _select(self, query: Query) -> Page:
        if self._stale:
            self._build()
        low = 0 if query.start is None else bisect.bisect_left(self._times, query.start)
        high = (
            len(self._times) if query.end is None else bisect.bisect_right(self._times, query.end)
        )
        if low >= high:
            return Page([], 0)
        span = high - low
        candidates = self._candidate_sets(query)
        if not candidates:
            return self._walk(query, low, high)
        size, slots = min(candidates, key=lambda candidate: candidate[0])
        if not query.count_total and size**2 > query.limit * span:
            return self._walk(query, low, high)
        return self._refine(query, slots(), low, high)

    def _candidate_sets(self, query: Query) -> list[tuple[int, Callable[[], _Slots]]]:
        """Supersets of the matches, one per indexed constraint (areas as bounding boxes).

        Each is its size and a function making it, so only the chosen one is built.
        """
        sets: list[tuple[int, Callable[[], _Slots]]] = []
        if query.area is not None and self._tree is not None:
            boxes = self._tree.query(query.area).astype(np.int64, copy=False)
            sets.append((len(boxes), lambda: boxes))
        for name in query.required_types:
            posting = self._types.get(name, set())
            sets.append((len(posting), functools.partial(_array, posting)))
        for _, keys in query.equality:
            found: set[int] = set()
            for key in keys:
                found |= self._keys.get(key, set())
            sets.append((len(found), functools.partial(_array, found)))
        return sets

    def _refine(self, query: Query, slots: _Slots, low: int, high: int) -> Page:
        """Test a candidate set, then put the matches in search order."""
        position = self._position[slots]
        inside = (position >= low) & (position < high)
        slots, position = slots[inside], position[inside]
        if query.area is not None and len(slots):
            hits = shapely.intersects(query.area, self._footprints[slots])
            slots, position = slots[hits], position[hits]
        types, keep = query.types_predicate(), query.filter_predicate()
        records = self._records
        matches = [
            (int(p), records[s])
            for s, p in zip(slots.tolist(), position.tolist(), strict=True)
            if (types is None or types(records[s].types))
            and (keep is None or keep(records[s].properties))
        ]
        matches.sort(key=lambda match: match[0], reverse=True)
        page = [record.record for _, record in matches[: query.limit]]
        return Page(page, len(matches))

    def _walk(self, query: Query, low: int, high: int) -> Page:
        """Walk the date range in search order, testing each record, until the limit."""
        area = query.area
        boxes: bytearray | None = None
        if area is not None and self._tree is not None:
            boxes = bytearray(len(self._records))
            for slot in self._tree.query(area).tolist():
                boxes[slot] = 1
        types, keep = query.types_predicate(), query.filter_predicate()
        records, ascending = self._records, self._ascending
        limit = query.limit
        found: list[dict[str, Any]] = []
        total = 0
        for index in range(high - 1, low - 1, -1):
            slot = ascending[index]
            if boxes is not None and not boxes[slot]:
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


def _array(slots: Any) -> _Slots:
    if isinstance(slots, set):
        return np.fromiter(slots, dtype=np.int64, count=len(slots))
    return np.asarray(list(slots), dtype=np.int64)
