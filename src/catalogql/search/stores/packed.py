"""The memory store's compact parts: growable arrays, WKB footprints, a packed box index.

The memory store keeps its records as columns, one row per slot, rather than an object per
record. This module holds the parts that are not properties (those are
:class:`~catalogql.compile.columnar.PropertyColumns`):

- :class:`Grow`: a numpy array with spare capacity, appended to a batch at a time;
- :class:`Identifiers`: each slot's identifier as UTF-8 in one byte buffer, and a lookup from
  an identifier to its slot (hashes sorted, plus a dict of the slots added since the last merge);
- :class:`Footprints`: each footprint's bounding box as four float32 numbers rounded outward
  (so the box still contains the shape), and its WKB in one byte buffer *when the store needs
  it*: a footprint that is exactly the parse of its record's WKT text (the common case) keeps
  no WKB (an empty entry) and is parsed again from that text by the exact test, for the
  survivors of the box tests only (the text is held anyway, as a property);
- :class:`BoxIndex`: a packed spatial index over those boxes: rows sorted along a Z-order
  curve of their boxes' centres, in blocks of :data:`BLOCK` rows, each block with the box of
  its rows. A query tests the block boxes, then the row boxes of the blocks hit, all
  vectorized; the exact test (:meth:`Footprints.intersecting`) reads the WKB (or the WKT) of
  the survivors only.

>>> footprints = Footprints()
>>> footprints.append([shapely.box(0, 0, 1, 1), shapely.Point(5, 5)])
range(0, 2)
>>> index = BoxIndex.build(footprints.boxes, np.arange(2))
>>> area = Area(shapely.box(0.5, 0.5, 2, 2))
>>> slots = index.query(area)
>>> slots.tolist(), footprints.intersecting(area, slots).tolist()
([0], [0])
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from numpy.typing import DTypeLike, NDArray
from shapely.geometry.base import BaseGeometry

__all__ = [
    "BLOCK",
    "Area",
    "BoxIndex",
    "Footprints",
    "Grow",
    "Identifiers",
    "Texts",
    "outward_boxes",
]

BLOCK = 128
"""Rows per block of the packed spatial index."""

Slots = NDArray[np.int64]

Texts = Callable[[Slots], Sequence[str | None]]
"""Gives the WKT text of some rows, in their order (None: none held)."""


class Grow:
    """A numpy array that grows by appending, with spare capacity (a quarter more each time).

    ``values`` is the filled part (a view: valid until the next append).

    >>> grow = Grow(np.int32)
    >>> grow.extend(np.array([1, 2])); grow.extend(np.array([3]))
    >>> grow.values.tolist(), len(grow)
    ([1, 2, 3], 3)
    """

    def __init__(self, dtype: DTypeLike, width: int = 0) -> None:
        shape = (0, width) if width else (0,)
        self._data: NDArray[Any] = np.zeros(shape, dtype=dtype)
        self._size = 0

    def __len__(self) -> int:
        return self._size

    @property
    def values(self) -> NDArray[Any]:
        """The filled part (a view)."""
        return self._data[: self._size]

    def extend(self, items: NDArray[Any]) -> None:
        """Append ``items`` (rows of the same shape; a text dtype widens when it must).

        >>> grow = Grow("S1")
        >>> grow.extend(np.array([b"a"])); grow.extend(np.array([b"bcd"]))
        >>> grow.values.tolist()
        [b'a', b'bcd']
        """
        count = len(items)
        if not count:
            return
        data = self._data
        if items.dtype.kind == "S" and items.dtype.itemsize > data.dtype.itemsize:
            data = data.astype(items.dtype)
        need = self._size + count
        if need > len(data):
            spare = max(need, len(data) + len(data) // 4, 16)  # a quarter more: little held spare
            grown = np.zeros((spare, *data.shape[1:]), dtype=data.dtype)
            grown[: self._size] = data[: self._size]
            data = grown
        data[self._size : need] = items
        self._data = data
        self._size = need

    def replace(self, values: NDArray[Any]) -> None:
        """Hold exactly ``values`` (a compaction: no spare capacity kept).

        >>> grow = Grow(np.int64); grow.replace(np.array([7])); grow.values.tolist()
        [7]
        """
        self._data = np.ascontiguousarray(values, dtype=self._data.dtype)
        self._size = len(values)


class Area:
    """A search area as the store tests it: a prepared copy, and the box of each of its parts.

    A multipart area (one split at the antimeridian) has a box per part, so its halves do
    not become one box around the whole world.

    >>> Area(shapely.MultiPolygon([shapely.box(0, 0, 1, 1), shapely.box(5, 5, 6, 6)])).boxes
    array([[0., 0., 1., 1.],
           [5., 5., 6., 6.]])
    """

    __slots__ = ("_area", "_blocks", "_shape", "boxes", "rectangles")

    def __init__(self, area: BaseGeometry) -> None:
        self._area = area
        self._shape: BaseGeometry | None = None
        self._blocks: tuple[NDArray[np.float32], list[Slots]] | None = None  # see BoxIndex
        box = _rectangle(area)
        if box is not None:  # the usual area: one rectangle, told from its five points
            self.boxes: NDArray[np.float64] = np.array([box], dtype=np.float64)
            self.rectangles: NDArray[np.float64] = self.boxes
            return
        parts = shapely.get_parts(area) if shapely.get_num_geometries(area) > 1 else [area]
        shapes = np.asarray(parts, dtype=object)
        self.boxes = shapely.bounds(shapes)
        rectangle = shapely.equals(shapes, shapely.box(*self.boxes.T)) & (shapely.area(shapes) > 0)
        self.rectangles = self.boxes[rectangle]
        """The boxes of the parts that are rectangles (a footprint inside one meets the area)."""

    @property
    def shape(self) -> BaseGeometry:
        """The area, prepared (made when the exact test first needs it).

        The area itself when it is prepared (a request's is:
        :func:`~catalogql.search.geometry.read_area`), else its own prepared copy (the caller's
        geometry is not changed).

        >>> area = shapely.box(0, 0, 1, 1)
        >>> Area(area).shape is area, bool(shapely.is_prepared(area))
        (False, False)
        >>> _ = shapely.prepare(area); Area(area).shape is area
        True
        """
        if self._shape is None:
            shape = self._area
            if not shapely.is_prepared(shape):
                shape = shapely.from_wkb(shapely.to_wkb(shape))
                shapely.prepare(shape)
            self._shape = shape
        return self._shape

    def inside(self, boxes: NDArray[np.float32]) -> NDArray[np.bool_]:
        """Which of ``boxes`` lie inside a rectangular part of the area (so their shapes meet it).

        >>> area = Area(shapely.box(0, 0, 10, 10))
        >>> area.inside(outward_boxes(np.array([[1.0, 1, 2, 2], [9.0, 9, 11, 11]]))).tolist()
        [True, False]
        """
        found = np.zeros(len(boxes), dtype=np.bool_)
        for x0, y0, x1, y1 in self.rectangles:  # np.float64: float32 boxes compare exactly
            within = (boxes[:, 0] >= x0) & (boxes[:, 2] <= x1)
            within &= (boxes[:, 1] >= y0) & (boxes[:, 3] <= y1)
            found |= within
        return found

    def near(self, boxes: NDArray[np.float32]) -> NDArray[np.bool_]:
        """Which of ``boxes`` meet the box of a part of the area.

        >>> Area(shapely.box(0, 0, 1, 1)).near(outward_boxes(np.array([[1.0, 1, 2, 2]]))).tolist()
        [True]
        """
        found: NDArray[np.bool_] | None = None
        for x0, y0, x1, y1 in self.boxes:  # np.float64: float32 boxes compare exactly
            near = (boxes[:, 0] <= x1) & (boxes[:, 2] >= x0)
            near &= (boxes[:, 1] <= y1) & (boxes[:, 3] >= y0)
            found = near if found is None else found | near
        assert found is not None  # an area has a part
        return found


def _rectangle(area: BaseGeometry) -> tuple[float, float, float, float] | None:
    """The box ``(xmin, ymin, xmax, ymax)`` of an area that is exactly one, else None.

    Told from the coordinates alone, so it answers None for some rectangles (written with more
    than five points, or as a multipolygon of one part), never for a shape that is not one: a
    polygon of five points (no hole), closed, whose four corners are distinct corners of their
    bounds and whose edges are each horizontal or vertical is its box.

    >>> _rectangle(shapely.box(0, 0, 2, 1)), _rectangle(shapely.Polygon([(0, 0), (2, 0), (0, 1)]))
    ((0.0, 0.0, 2.0, 1.0), None)
    >>> _rectangle(shapely.Polygon([(0, 0), (2, 1), (2, 0), (0, 1), (0, 0)]))  # a bow tie
    """
    if shapely.get_type_id(area) != 3:  # a Polygon
        return None
    points = shapely.get_coordinates(area).tolist()
    if len(points) != 5 or points[0] != points[4]:
        return None
    xs = [x for x, _ in points]
    ys = [y for _, y in points]
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    if not (x0 < x1 and y0 < y1):
        return None
    corners = {(x, y) for x, y in points[:4] if x in (x0, x1) and y in (y0, y1)}
    if len(corners) != 4:
        return None
    for (xa, ya), (xb, yb) in itertools.pairwise(points):  # each edge along one axis
        if (xa == xb) == (ya == yb):
            return None
    return x0, y0, x1, y1


class Identifiers:
    """Identifiers by slot (UTF-8 in one buffer), and a lookup from identifier to current slot.

    An identifier may have had several slots (a replaced record takes a new one); the store
    says which slots are current (``live``), and at most one slot of an identifier is. The
    lookup is the hashes of the identifiers, sorted with their slots, plus a dict of those
    added since they were last merged into it (every :data:`MERGE_EVERY` additions, or more
    as the table grows).

    >>> identifiers = Identifiers()
    >>> identifiers.append(["a", "b"])
    >>> live = np.array([True, True])
    >>> identifiers.find(["b", "c"], live), identifiers.at(1), len(identifiers)
    ([1, None], 'b', 2)
    """

    MERGE_EVERY = 65536

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._offsets = Grow(np.int64)
        self._offsets.extend(np.zeros(1, dtype=np.int64))
        self._hashes = np.zeros(0, dtype=np.int64)  # merged: ascending
        self._slots = np.zeros(0, dtype=np.int32)  # ... and their slots
        self._recent: dict[str, int] = {}  # added since the last merge: identifier -> slot

    def __len__(self) -> int:
        return len(self._offsets) - 1

    def append(self, identifiers: Sequence[str]) -> None:
        """Give the next slots to these identifiers (each their current slot from now on)."""
        if not identifiers:
            return
        start = len(self)
        if all(map(str.isascii, identifiers)):  # a character a byte: encoded at once
            lengths = np.fromiter(map(len, identifiers), dtype=np.int64, count=len(identifiers))
            joined = "".join(identifiers).encode("utf-8")
        else:
            blobs = [identifier.encode("utf-8") for identifier in identifiers]
            lengths = np.fromiter(map(len, blobs), dtype=np.int64, count=len(blobs))
            joined = b"".join(blobs)
        self._offsets.extend(self._offsets.values[-1] + np.cumsum(lengths))
        self._buffer += joined
        self._recent.update(zip(identifiers, range(start, start + len(identifiers)), strict=True))

    def merge(self, live: NDArray[np.bool_], force: bool = False) -> None:
        """Fold the recent identifiers into the sorted lookup when there are enough of them.

        The entries of slots no longer current are dropped.
        """
        recent = self._recent
        if not recent or not (force or len(recent) >= max(self.MERGE_EVERY, len(self) // 8)):
            return
        hashes = np.fromiter((hash(i) for i in recent), dtype=np.int64, count=len(recent))
        slots = np.fromiter(recent.values(), dtype=np.int32, count=len(recent))
        current = live[self._slots]
        hashes = np.concatenate([self._hashes[current], hashes])
        slots = np.concatenate([self._slots[current], slots])
        order = np.argsort(hashes, kind="stable")
        self._hashes, self._slots = hashes[order], slots[order]
        self._recent = {}

    def find(self, identifiers: Sequence[str], live: NDArray[np.bool_]) -> list[int | None]:
        """The current slot of each identifier, or None."""
        found: list[int | None] = list(map(self._recent.get, identifiers))
        if found.count(None) < len(found):
            for at, slot in enumerate(found):
                if slot is not None and not live[slot]:  # the newest slot of it, removed
                    found[at] = None
        hashes, slots = self._hashes, self._slots
        if not len(hashes):
            return found
        keys = np.fromiter(map(hash, identifiers), dtype=np.int64, count=len(identifiers))
        lows = np.searchsorted(hashes, keys)
        highs = np.searchsorted(hashes, keys, side="right")
        for at in np.flatnonzero(highs > lows).tolist():  # a hash met: compare the identifiers
            identifier = identifiers[at]
            if identifier in self._recent:
                continue
            for candidate in slots[lows[at] : highs[at]].tolist():
                if live[candidate] and self.at(candidate) == identifier:
                    found[at] = candidate
                    break
        return found

    def at(self, slot: int) -> str:
        """The identifier of a slot."""
        offsets = self._offsets.values
        return self._buffer[offsets[slot] : offsets[slot + 1]].decode("utf-8")

    def many(self, slots: NDArray[np.integer[Any]]) -> list[str]:
        """The identifiers of these slots."""
        offsets, buffer = self._offsets.values, self._buffer
        starts, ends = offsets[slots].tolist(), offsets[slots + 1].tolist()
        return [buffer[s:e].decode("utf-8") for s, e in zip(starts, ends, strict=True)]

    def take(self, slots: NDArray[np.int64]) -> Identifiers:
        """A new table of these slots, renumbered 0, 1, ... (a compaction; ``slots`` current).

        >>> identifiers = Identifiers(); identifiers.append(["a", "b", "c"])
        >>> taken = identifiers.take(np.array([2, 0]))
        >>> taken.find(["a", "b", "c"], np.ones(2, dtype=bool))
        [1, None, 0]
        """
        taken = Identifiers()
        taken.append(self.many(slots))
        taken.merge(np.ones(len(slots), dtype=np.bool_), force=True)
        return taken

    def nbytes(self) -> int:
        """Memory held (buffers, arrays, and the recent dict estimated).

        >>> Identifiers().nbytes() > 0
        True
        """
        recent = sum(100 + len(identifier) for identifier in self._recent)
        arrays = self._offsets._data.nbytes + self._hashes.nbytes + self._slots.nbytes
        return len(self._buffer) + arrays + recent


def outward_boxes(bounds: NDArray[np.float64]) -> NDArray[np.float32]:
    """float32 boxes ``(xmin, ymin, xmax, ymax)`` that contain the float64 ``bounds``.

    Each minimum is rounded down and each maximum up to the next float32, so a box test on the
    float32 box never misses what the exact box holds.

    >>> box = outward_boxes(np.array([[0.1, 0.1, 0.3, 0.3]]))
    >>> bool(box[0, 0] <= 0.1 and box[0, 2] >= 0.3), box.dtype
    (True, dtype('float32'))
    """
    boxes = bounds.astype(np.float32)
    low, high = boxes[:, :2], boxes[:, 2:]
    down = low.astype(np.float64) > bounds[:, :2]
    low[down] = np.nextafter(low[down], np.float32(-np.inf))
    up = high.astype(np.float64) < bounds[:, 2:]
    high[up] = np.nextafter(high[up], np.float32(np.inf))
    return boxes


class Footprints:
    """Footprints' float32 boxes, and their WKB in one buffer (with offsets) where held.

    A row appended with an empty WKB holds none: its geometry is the parse of its WKT text,
    which the caller supplies when it is needed (``texts``: rows to their texts).

    >>> footprints = Footprints()
    >>> footprints.append([shapely.Point(1, 2)])
    range(0, 1)
    >>> footprints.geometries(np.array([0]))[0].wkt
    'POINT (1 2)'
    >>> footprints.append_wkb(np.array([b""], dtype=object), np.array([[3.0, 4, 3, 4]]))
    range(1, 2)
    >>> [g.wkt for g in footprints.geometries(np.array([1, 0]), lambda rows: ["POINT (3 4)"])]
    ['POINT (3 4)', 'POINT (1 2)']
    """

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._offsets = Grow(np.int64)
        self._offsets.extend(np.zeros(1, dtype=np.int64))
        self._boxes = Grow(np.float32, 4)

    def __len__(self) -> int:
        return len(self._boxes)

    @property
    def boxes(self) -> NDArray[np.float32]:
        """Each row's box, ``(xmin, ymin, xmax, ymax)`` rounded outward."""
        return self._boxes.values

    def append(self, geometries: Sequence[BaseGeometry]) -> range:
        """Add footprints (their WKB held); returns their rows."""
        shapes = np.asarray(geometries, dtype=object)
        if not len(shapes):
            return range(len(self), len(self))
        return self.append_wkb(shapely.to_wkb(shapes), shapely.bounds(shapes))

    def append_wkb(self, blobs: NDArray[Any], bounds: NDArray[np.float64]) -> range:
        """Add footprints given as WKB with their float64 bounds; returns their rows.

        An empty WKB (``b""``) holds none: that row's geometry is read from its text.

        >>> blobs = shapely.to_wkb(np.array([shapely.Point(0, 0)]))
        >>> Footprints().append_wkb(blobs, np.zeros((1, 4)))
        range(0, 1)
        """
        start = len(self)
        if not len(blobs):
            return range(start, start)
        lengths = np.fromiter((len(blob) for blob in blobs), dtype=np.int64, count=len(blobs))
        end = self._offsets.values[-1]
        self._offsets.extend(end + np.cumsum(lengths))
        self._buffer += b"".join(blobs)
        self._boxes.extend(outward_boxes(bounds))
        return range(start, len(self))

    def wkb(self, rows: Slots) -> list[bytes]:
        """The WKB of these rows (``b""`` for a row that holds none)."""
        offsets, buffer = self._offsets.values, self._buffer
        starts, ends = offsets[rows].tolist(), offsets[rows + 1].tolist()
        return [bytes(buffer[s:e]) for s, e in zip(starts, ends, strict=True)]

    def held(self, rows: Slots) -> NDArray[np.bool_]:
        """Which of these rows hold their WKB (the others are read from their text).

        >>> footprints = Footprints(); footprints.append([shapely.Point(0, 0)])
        range(0, 1)
        >>> footprints.held(np.array([0])).tolist()
        [True]
        """
        offsets = self._offsets.values
        return np.asarray(offsets[rows + 1] > offsets[rows], dtype=np.bool_)

    def geometries(self, rows: Slots, texts: Texts | None = None) -> NDArray[Any]:
        """These rows' footprints as shapely geometries (new objects).

        Args:
            rows: The rows.
            texts: Gives the WKT text of rows (in their order) for the rows that hold no WKB;
                needed only when some of ``rows`` hold none.

        Returns:
            One geometry per row, in order.

        Raises:
            ValueError: If a row holds no WKB and ``texts`` is missing or gives no text for it.
        """
        held = self.held(rows)
        if held.all():
            return shapely.from_wkb(np.asarray(self.wkb(rows), dtype=object))  # type: ignore[no-any-return]
        shapes = np.empty(len(rows), dtype=object)
        if held.any():
            shapes[held] = shapely.from_wkb(np.asarray(self.wkb(rows[held]), dtype=object))
        unheld = rows[~held]
        wkt = [] if texts is None else texts(unheld)
        if texts is None or any(text is None for text in wkt):
            raise ValueError(
                f"footprints: rows {unheld[:5].tolist()}... hold no WKB and no WKT text was "
                "given for them; pass texts= (the store reads its footprintWkt column)"
            )
        shapes[~held] = shapely.from_wkt(np.asarray(wkt, dtype=object))
        return shapes

    def intersecting(
        self, area: Area, rows: Slots, *, boxed: bool = False, texts: Texts | None = None
    ) -> Slots:
        """Those of ``rows`` whose footprint intersects ``area`` (exactly), in the same order.

        The rows whose box misses the area's boxes are dropped before any WKB is read (unless
        ``boxed``: the caller did that already), and those whose box lies inside a rectangular
        part of the area are in without reading theirs. ``texts`` reads the WKT of the rows
        that hold no WKB (see :meth:`geometries`).
        """
        if not boxed and len(rows):
            rows = rows[area.near(self._boxes.values[rows])]
        if not len(rows):
            return rows
        hits = area.inside(self._boxes.values[rows]) if len(area.rectangles) else None
        if hits is None:
            hits = shapely.intersects(area.shape, self.geometries(rows, texts))
        elif not hits.all():  # the exact test for those not inside a rectangle of the area
            unsure = np.flatnonzero(~hits)
            hits[unsure] = shapely.intersects(area.shape, self.geometries(rows[unsure], texts))
        return rows[hits]

    def take(self, rows: Slots) -> Footprints:
        """A new table of these rows, in this order (a compaction)."""
        taken = Footprints()
        blobs = self.wkb(rows)
        lengths = np.fromiter((len(blob) for blob in blobs), dtype=np.int64, count=len(blobs))
        taken._offsets.replace(np.concatenate([np.zeros(1, dtype=np.int64), np.cumsum(lengths)]))
        taken._buffer = bytearray(b"".join(blobs))
        taken._boxes.replace(self._boxes.values[rows])
        return taken

    def nbytes(self) -> int:
        """Memory held (buffers and arrays, spare capacity included).

        >>> Footprints().nbytes() > 0
        True
        """
        return len(self._buffer) + self._offsets._data.nbytes + self._boxes._data.nbytes


def _spread(values: NDArray[np.uint32]) -> NDArray[np.uint32]:
    """The bits of 16-bit values spread to the even bit positions (for a Z-order code)."""
    v = values & 0xFFFF
    v = (v | (v << 8)) & 0x00FF00FF
    v = (v | (v << 4)) & 0x0F0F0F0F
    v = (v | (v << 2)) & 0x33333333
    return np.asarray((v | (v << 1)) & 0x55555555, dtype=np.uint32)


@dataclass(frozen=True, slots=True)
class BoxIndex:
    """A packed spatial index: rows along a Z-order curve, in blocks with their boxes.

    The rows' boxes (and their keys, when given) are held here again in curve order, so a
    query reads the rows of the blocks it meets from contiguous memory rather than gathering
    them at random from the per-row arrays (which cost a cache miss a row at a million rows).

    Attributes:
        rows: The rows indexed, in curve order.
        sides: Each block's box (the union of its rows' boxes), float32 ``(4, n)``: one row a
            side (west, south, east, north), each read contiguously by every query's block test.
        boxes: The rows' boxes, in curve order, float32 ``(len(rows), 4)``.
        keys: A number per row, in curve order, that a query may restrict to a range (the
            memory store's: each row's place in time order), or None.
    """

    rows: NDArray[np.int32]
    sides: NDArray[np.float32]
    boxes: NDArray[np.float32]
    keys: NDArray[np.int32] | None = None

    @classmethod
    def build(
        cls,
        boxes: NDArray[np.float32],
        rows: NDArray[np.integer[Any]],
        keys: NDArray[np.int32] | None = None,
    ) -> BoxIndex:
        """The index of ``rows`` (their boxes are ``boxes[rows]``, their keys ``keys[rows]``).

        >>> boxes = outward_boxes(np.array([[0.0, 0, 1, 1], [10, 10, 11, 11]]))
        >>> BoxIndex.build(boxes, np.arange(2)).sides.T.tolist()
        [[0.0, 0.0, 11.0, 11.0]]
        """
        if not len(rows):
            none = np.zeros((0, 4), dtype=np.float32)
            no_keys = None if keys is None else np.zeros(0, dtype=np.int32)
            return cls(np.zeros(0, dtype=np.int32), none.T.copy(), none, no_keys)
        own = boxes[rows].astype(np.float64)
        x = np.clip((own[:, 0] + own[:, 2]) * 0.5, -180.0, 180.0)
        y = np.clip((own[:, 1] + own[:, 3]) * 0.5, -90.0, 90.0)
        x = np.nan_to_num(x)
        y = np.nan_to_num(y)
        qx = ((x + 180.0) * (65535.0 / 360.0)).astype(np.uint32)
        qy = ((y + 90.0) * (65535.0 / 180.0)).astype(np.uint32)
        order = np.argsort(_spread(qx) | (_spread(qy) << 1), kind="stable")
        ordered = rows[order].astype(np.int32)
        sorted_boxes = boxes[ordered]
        starts = np.arange(0, len(ordered), BLOCK)
        blocks = np.empty((len(starts), 4), dtype=np.float32)
        blocks[:, :2] = np.minimum.reduceat(sorted_boxes[:, :2], starts, axis=0)
        blocks[:, 2:] = np.maximum.reduceat(sorted_boxes[:, 2:], starts, axis=0)
        sorted_keys = None if keys is None else keys[ordered].astype(np.int32)
        return cls(ordered, np.ascontiguousarray(blocks.T), sorted_boxes, sorted_keys)

    def nbytes(self) -> int:
        """Memory held by the index."""
        held = self.rows.nbytes + self.sides.nbytes + self.boxes.nbytes
        return int(held + (0 if self.keys is None else self.keys.nbytes))

    def estimate(self, area: Area) -> int:
        """At least as many rows as :meth:`query` finds: those of the blocks the area meets.

        >>> boxes = outward_boxes(np.array([[0.0, 0, 1, 1], [10, 10, 11, 11]]))
        >>> BoxIndex.build(boxes, np.arange(2)).estimate(Area(shapely.box(0, 0, 1, 1)))
        2
        """
        found = sum(len(chosen) for chosen in self._blocks_met(area)) * BLOCK
        return min(found, len(self.rows))

    def _blocks_met(self, area: Area) -> list[Slots]:
        """The blocks each box of ``area`` meets (kept in the area: :meth:`query` reuses them)."""
        memo = area._blocks
        if memo is not None and memo[0] is self.sides:
            return memo[1]
        west, south, east, north = self.sides
        met = []
        for x0, y0, x1, y1 in area.boxes:  # np.float64 (a Python float would become float32)
            hit = west <= x1
            hit &= east >= x0
            hit &= south <= y1
            hit &= north >= y0
            met.append(np.flatnonzero(hit))
        area._blocks = (self.sides, met)
        return met

    def query(self, area: Area, within: tuple[int, int] | None = None) -> Slots:
        """The rows whose box meets the box of a part of ``area``, ascending.

        Args:
            area: The area.
            within: ``(low, high)``: only the rows whose key is in ``low <= key < high`` (an
                index built with keys), tested before their boxes.

        Returns:
            The rows found, ascending.

        >>> boxes = outward_boxes(np.array([[0.0, 0, 1, 1], [0.5, 0.5, 2, 2], [5, 5, 6, 6]]))
        >>> index = BoxIndex.build(boxes, np.arange(3), keys=np.array([2, 0, 1], np.int32))
        >>> area = Area(shapely.box(0.5, 0.5, 5, 5))
        >>> index.query(area).tolist(), index.query(area, within=(1, 3)).tolist()
        ([0, 1, 2], [0, 2])
        """
        if not len(self.rows):
            return np.zeros(0, dtype=np.int64)
        if within is not None and self.keys is None:
            raise ValueError("a range of keys asked of a box index built without keys")
        found: list[NDArray[np.int32]] = []
        for (x0, y0, x1, y1), chosen in zip(area.boxes, self._blocks_met(area), strict=True):
            if not len(chosen):
                continue
            positions = (chosen[:, np.newaxis] * BLOCK + _IN_BLOCK).reshape(-1)
            if chosen[-1] == self.sides.shape[1] - 1:  # the last block may be short
                positions = positions[positions < len(self.rows)]
            if within is not None:
                assert self.keys is not None
                keys = self.keys[positions]
                positions = positions[(keys >= within[0]) & (keys < within[1])]
            own = self.boxes[positions]
            near = (own[:, 0] <= x1) & (own[:, 2] >= x0) & (own[:, 1] <= y1) & (own[:, 3] >= y0)
            found.append(self.rows[positions[near]])
        if not found:
            return np.zeros(0, dtype=np.int64)
        rows = found[0] if len(found) == 1 else np.unique(np.concatenate(found))
        result = rows.astype(np.int64)
        result.sort()
        return result


_IN_BLOCK = np.arange(BLOCK, dtype=np.int64)
