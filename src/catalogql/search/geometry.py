"""Geometry in, checked: a search's area (``searchAreaWkt``) and a record's footprint.

The area is read by a small WKT scanner before shapely builds it, so a mistake is reported at
its offset and only a well-formed ``POLYGON`` ever reaches GEOS; then its Z and M values are
dropped, its coordinates checked, a collapsed ring searched as the point or line it spans and an
invalid polygon repaired (the decisions are listed in :mod:`catalogql.search.request`). A
record's footprint is any WKT geometry in lon/lat range.

>>> problems = []
>>> read_area("POLYGON ((0 0, 0 1, 1 1, 1 0, 0 0)", problems, [])
>>> problems[0].message
"expected ',' or ')', found the end of the text"
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry.base import BaseGeometry

from catalogql.ast import NUMBER_RE
from catalogql.errors import InvalidInput, Problem
from catalogql.search.describe import json_kind, shorten
from catalogql.search.errors import InvalidRecord

__all__ = [
    "MAX_REPAIR_CROSSINGS",
    "MAX_REPAIR_POINTS",
    "MAX_WKT_LENGTH",
    "count_crossings",
    "read_area",
    "read_footprint",
    "read_footprints",
    "read_wkt",
    "settle_polygonal",
]

MAX_WKT_LENGTH = 1_000_000
"""The longest ``searchAreaWkt`` accepted, in characters (about 40,000 points)."""


_WKT_EXAMPLE = "POLYGON ((30.1 9.9, 30.1 10.1, 29.9 10.1, 29.9 9.9, 30.1 9.9))"
_POLYGON_HINT = f"send one WKT POLYGON in lon/lat, such as {_WKT_EXAMPLE}, or null for no area"
_TYPE_HINTS = {
    "MULTIPOLYGON": "send one POLYGON: split a multipolygon into several searches, one per part",
    "POINT": "send the point as a polygon that repeats it, as gbdxtools does: "
    "POLYGON ((x y, x y, x y, x y, x y))",
    "LINESTRING": "send the line as a polygon that goes along it and back: "
    "POLYGON ((x1 y1, x2 y2, x1 y1, x1 y1))",
}
_WKT_TYPES = frozenset(
    {
        "POINT",
        "LINESTRING",
        "LINEARRING",
        "POLYGON",
        "MULTIPOINT",
        "MULTILINESTRING",
        "MULTIPOLYGON",
        "GEOMETRYCOLLECTION",
        "CIRCULARSTRING",
        "COMPOUNDCURVE",
        "CURVEPOLYGON",
        "MULTICURVE",
        "MULTISURFACE",
        "TRIANGLE",
        "TIN",
        "POLYHEDRALSURFACE",
    }
)
_DIMENSIONS = {"Z": 3, "M": 3, "ZM": 4}
_WKT_NUMBER = rf"{NUMBER_RE.pattern}(?![A-Za-z0-9_.])"
"""A number of WKT text, as the scanner and the plain rectangle read it."""
_WKT_TOKEN = re.compile(
    rf"(?P<num>{_WKT_NUMBER})|(?P<word>[A-Za-z_][A-Za-z0-9_]*)|(?P<punct>[(),])"
)
_WKT_SPACE = re.compile(r"[ \t\r\n]*")
_WKT_RUN = re.compile(r"[^ \t\r\n(),\x00]+")
_NON_FINITE_WORDS = frozenset({"NAN", "INF", "INFINITY"})
_WKT_POINT = rf"[ \t\r\n]*({_WKT_NUMBER})[ \t\r\n]+({_WKT_NUMBER})[ \t\r\n]*"
_PLAIN_RECTANGLE = re.compile(
    r"[ \t\r\n]*[Pp][Oo][Ll][Yy][Gg][Oo][Nn][ \t\r\n]*\([ \t\r\n]*\("
    + ",".join([_WKT_POINT] * 5)
    + r"\)[ \t\r\n]*\)[ \t\r\n]*"
)
"""The usual search area: a POLYGON of one ring of five 2-D points, written plainly (it may
still not be a rectangle: :func:`_plain_rectangle` checks the points)."""


# --------------------------------------------------------------------------------------------
# searchAreaWkt


@dataclass(frozen=True, slots=True)
class _Scan:
    """What the scanner learnt of a well-formed POLYGON text."""

    empty_at: int | None  # offset of EMPTY, if the polygon is empty
    point_offsets: tuple[int, ...]  # offset of each point, in the text's (and shapely's) order


class _WktError(InvalidInput):
    def __init__(self, offset: int, message: str, hint: str, code: str = "request.wkt-syntax"):
        self.problem = Problem("searchAreaWkt", offset, message, hint, code)
        super().__init__(message, (self.problem,))


class _WktScanner:
    """Checks that a text is one WKT POLYGON, reporting the first mistake at its offset."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def token(self) -> tuple[str, str, int]:
        """The next token as (kind, text, offset); kind is num, word, punct, end or bad."""
        self.pos = _WKT_SPACE.match(self.text, self.pos).end()  # type: ignore[union-attr]
        at = self.pos
        if at == len(self.text):
            return "end", "", at
        m = _WKT_TOKEN.match(self.text, at)
        if m is None or m.lastgroup is None:
            run = _WKT_RUN.match(self.text, at)
            return "bad", run.group() if run else self.text[at], at
        self.pos = m.end()
        return m.lastgroup, m.group(), at

    def fail(self, found: tuple[str, str, int], expected: str) -> _WktError:
        kind, text, at = found
        if kind == "end":
            what = "the end of the text"
        elif kind == "bad" and text == "\x00":
            what = "a NUL character"
        else:
            what = repr(shorten(text, 20))
        return _WktError(at, f"expected {expected}, found {what}", _POLYGON_HINT)

    def expect(self, punct: str, expected: str) -> int:
        found = self.token()
        if found[0] != "punct" or found[1] != punct:
            raise self.fail(found, expected)
        return found[2]

    def number(self) -> float:
        found = self.token()
        kind, text, at = found
        if kind == "word" and text.upper() in _NON_FINITE_WORDS:
            raise _WktError(
                at,
                f"coordinate {text!r} is not a finite number",
                "every coordinate must be a finite number of degrees",
                "request.wkt-not-finite",
            )
        if kind != "num":
            raise self.fail(found, "a number")
        value = float(text)
        if not math.isfinite(value):
            raise _WktError(
                at,
                f"coordinate {shorten(text, 30)} is too large to be a finite number",
                "every coordinate must be a finite number of degrees",
                "request.wkt-not-finite",
            )
        return value

    def scan(self) -> _Scan:
        if "\x00" in self.text:
            at = self.text.index("\x00")
            raise _WktError(at, "the WKT holds a NUL character", _POLYGON_HINT)
        kind, tag, at = self.token()
        if kind != "word" or tag.upper() not in _WKT_TYPES:
            if tag.upper() == "SRID":
                raise _WktError(
                    at,
                    "an EWKT SRID prefix is not WKT",
                    "drop the SRID=...; prefix: coordinates are always lon/lat (EPSG:4326)",
                )
            raise self.fail((kind, tag, at), "a WKT geometry such as POLYGON")
        if tag.upper() != "POLYGON":
            raise _WktError(
                at,
                f"searchAreaWkt must be a POLYGON, not a {tag.upper()}",
                _TYPE_HINTS.get(tag.upper(), _POLYGON_HINT),
                "request.wkt-not-a-polygon",
            )
        found = self.token()
        width: int | None = None
        if found[0] == "word" and found[1].upper() in _DIMENSIONS:
            width = _DIMENSIONS[found[1].upper()]
            found = self.token()
        if found[0] == "word" and found[1].upper() == "EMPTY":
            self.end()
            return _Scan(found[2], ())
        if found[:2] != ("punct", "("):
            raise self.fail(found, "'(' or EMPTY")
        offsets: list[int] = []
        while True:
            width = self.ring(offsets, width)
            found = self.token()
            if found[:2] == ("punct", ")"):
                break
            if found[:2] != ("punct", ","):
                raise self.fail(found, "',' or ')'")
        self.end()
        return _Scan(None, tuple(offsets))

    def ring(self, offsets: list[int], width: int | None) -> int:
        ring_at = self.expect("(", "'(' starting a ring")
        points: list[tuple[float, float]] = []
        while True:
            self.pos = _WKT_SPACE.match(self.text, self.pos).end()  # type: ignore[union-attr]
            point_at = self.pos
            numbers = [self.number(), self.number()]
            while True:
                found = self.token()
                if found[0] == "num" or (
                    found[0] == "word" and found[1].upper() in _NON_FINITE_WORDS
                ):
                    self.pos = found[2]
                    numbers.append(self.number())
                    continue
                break
            if width is None:
                width = len(numbers)
            if len(numbers) != width or width > 4:
                raise _WktError(
                    point_at,
                    f"this point has {len(numbers)} coordinates, not {width}",
                    "give every point the same coordinates: lon lat (a Z or M value is dropped)",
                )
            offsets.append(point_at)
            points.append((numbers[0], numbers[1]))
            if found[:2] == ("punct", ")"):
                break
            if found[:2] != ("punct", ","):
                raise self.fail(found, "',' or ')'")
        if len(points) < 4:
            raise _WktError(
                ring_at,
                f"a polygon ring needs at least 4 points, this one has {len(points)}",
                "close the ring by repeating its first point at the end; for a point, repeat it "
                "five times as gbdxtools does",
                "request.wkt-ring",
            )
        if points[0] != points[-1]:
            raise _WktError(
                ring_at,
                "this ring is not closed: its last point must repeat its first",
                f"add the first point, {points[0][0]!r} {points[0][1]!r}, at the end of the ring",
                "request.wkt-ring",
            )
        return width

    def end(self) -> None:
        found = self.token()
        if found[0] != "end":
            raise self.fail(found, "the end of the WKT")


def read_area(value: object, problems: list[Problem], warned: list[Problem]) -> BaseGeometry | None:
    """The geometry to intersect, or None (with problems added) when there is none.

    Args:
        value: The request's ``searchAreaWkt``, as sent.
        problems: Where each error is added.
        warned: Where each warning is added.

    Returns:
        The prepared geometry, or None (for no area, or after an error).

    >>> problems, warned = [], []
    >>> read_area("POLYGON ((0 0, 1 0, 1 1, 0 1, 0 0))", problems, warned).area
    1.0
    >>> read_area("POINT (0 0)", problems, warned), problems[0].code
    (None, 'request.wkt-not-a-polygon')
    """
    if value is None:
        return None
    field = "searchAreaWkt"
    if not isinstance(value, str):
        problems.append(
            Problem(
                field,
                None,
                f"searchAreaWkt must be a string or null, not {json_kind(value)}",
                _POLYGON_HINT,
                "request.not-a-string",
            )
        )
        return None
    if len(value) > MAX_WKT_LENGTH:
        problems.append(
            Problem(
                field,
                MAX_WKT_LENGTH,
                f"searchAreaWkt of {len(value)} characters is past the limit of {MAX_WKT_LENGTH}",
                "simplify the polygon (fewer points), e.g. with shapely's simplify",
                "request.wkt-too-long",
            )
        )
        return None
    if not value.strip():
        problems.append(
            Problem(
                field,
                0,
                "searchAreaWkt is blank",
                "send null (or leave the field out) to search everywhere, or a POLYGON",
                "request.wkt-syntax",
            )
        )
        return None
    plain = _plain_rectangle(value)
    if plain is not None:
        return plain
    try:
        scan = _WktScanner(value).scan()
    except _WktError as error:
        problems.append(error.problem)
        return None
    if scan.empty_at is not None:
        problems.append(
            Problem(
                field,
                scan.empty_at,
                "an empty polygon covers nothing to search",
                "send a polygon with points, or null to search everywhere",
                "request.wkt-empty",
            )
        )
        return None
    try:
        with np.errstate(all="ignore"):
            geometry = shapely.from_wkt(value)
    except Exception as exc:  # GEOS may still refuse what the scanner let through
        problems.append(
            Problem(
                field, 0, f"not a usable WKT polygon: {exc}", _POLYGON_HINT, "request.wkt-syntax"
            )
        )
        return None
    if not isinstance(geometry, shapely.Polygon) or geometry.is_empty:
        kind = "empty" if geometry is None else geometry.geom_type
        problems.append(
            Problem(
                field,
                0,
                f"searchAreaWkt must be a POLYGON, not {kind}",
                _POLYGON_HINT,
                "request.wkt-not-a-polygon",
            )
        )
        return None
    if shapely.has_z(geometry) or shapely.has_m(geometry):
        warned.append(
            Problem(
                field,
                0,
                "the polygon's Z or M values are ignored: the search is 2-D",
                "send lon lat pairs only",
                "request.wkt-dimensions",
            )
        )
        geometry = shapely.force_2d(geometry)
    if not _check_range(geometry, scan, problems):
        return None
    return _settle(geometry, problems, warned)


_SURE_AREA = 1e-200
"""A box at least this large in square degrees has an area that no rounding makes zero."""


def _plain_rectangle(value: str) -> BaseGeometry | None:
    """The prepared area of a plain rectangle, or None: then the general path reads the text.

    A search area is most often a box: a POLYGON of five 2-D points, the last repeating the
    first, each edge along one axis, in lon/lat range and less than 180 degrees wide. The
    general path would find such a text well formed (the scanner), in range, valid, neither
    collapsed nor crossing the antimeridian, and return shapely's parse of it, prepared,
    without a warning: this returns that parse at once, checking those points in Python
    rather than scanning the text token by token and asking GEOS about its validity. Any
    other text (an error, a warning, another shape) gets None.

    >>> _plain_rectangle("POLYGON((1 2, 3 2, 3 4, 1 4, 1 2))").bounds
    (1.0, 2.0, 3.0, 4.0)
    >>> _plain_rectangle("POLYGON((1 2, 3 2, 3 4, 1 4, 1 3))") is None  # not closed: an error
    True
    """
    match = _PLAIN_RECTANGLE.fullmatch(value)
    if match is None:
        return None
    numbers = [float(text) for text in match.groups()]
    xs, ys = numbers[0::2], numbers[1::2]
    if xs[0] != xs[4] or ys[0] != ys[4]:
        return None
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    if not (-180.0 <= x0 < x1 <= 180.0 and -90.0 <= y0 < y1 <= 90.0 and x1 - x0 <= 180.0):
        return None  # (an infinite coordinate fails these too)
    if (x1 - x0) * (y1 - y0) < _SURE_AREA:  # GEOS might compute no area: collapsed
        return None
    corners = {
        (x, y) for x, y in zip(xs[:4], ys[:4], strict=True) if x in (x0, x1) and y in (y0, y1)
    }
    if len(corners) != 4:
        return None
    for at in range(4):  # each edge along one axis: then the ring goes once round the box
        if (xs[at] == xs[at + 1]) == (ys[at] == ys[at + 1]):
            return None
    with np.errstate(all="ignore"):
        geometry = shapely.from_wkt(value)
    shapely.prepare(geometry)
    return geometry


def _check_range(polygon: BaseGeometry, scan: _Scan, problems: list[Problem]) -> bool:
    """Whether every coordinate is a longitude and a latitude; one problem if not."""
    coords = shapely.get_coordinates(polygon)
    lon_bad = ~np.isfinite(coords[:, 0]) | (np.abs(coords[:, 0]) > 180)
    lat_bad = ~np.isfinite(coords[:, 1]) | (np.abs(coords[:, 1]) > 90)
    bad = np.flatnonzero(lon_bad | lat_bad)
    if bad.size == 0:
        return True
    first = int(bad[0])
    lon, lat = float(coords[first, 0]), float(coords[first, 1])
    offset = scan.point_offsets[first] if len(scan.point_offsets) == len(coords) else 0
    name, number, bound = ("longitude", lon, 180) if lon_bad[first] else ("latitude", lat, 90)
    message = f"{name} {number!r} of point {first + 1} is outside [-{bound}, {bound}]"
    if bad.size > 1:
        message += f" ({bad.size - 1} more points are out of range)"
    hint = "coordinates are lon/lat degrees (EPSG:4326)"
    if abs(lat) <= 180 and abs(lon) <= 90:
        hint = "WKT puts the longitude first: write each point as lon lat, not lat lon"
    problems.append(Problem("searchAreaWkt", offset, message, hint, "request.wkt-out-of-range"))
    return False


def _settle(
    polygon: BaseGeometry, problems: list[Problem], warned: list[Problem]
) -> BaseGeometry | None:
    """The geometry a polygon stands for: itself, its collapse, split or repair; prepared."""
    notes: list[Problem] = []
    try:
        geometry = settle_polygonal(polygon, "searchAreaWkt", notes)
    except _Refused as refused:
        problems.append(refused.problem)
        return None
    warned.extend(notes)
    if geometry is None or geometry.is_empty:
        reason = shapely.is_valid_reason(polygon)
        problems.append(
            Problem(
                "searchAreaWkt",
                0,
                f"the polygon is invalid and encloses nothing: {reason}",
                "draw each ring once around the area, without crossing itself, holes inside "
                "the outer ring",
                "request.wkt-invalid",
            )
        )
        return None
    shapely.prepare(geometry)
    return geometry


# --------------------------------------------------------------------------------------------
# Repair (bounded) and the antimeridian, for areas and footprints alike

MAX_REPAIR_CROSSINGS = 1_000
"""The most segment crossings an invalid polygon may have and still be repaired.

Repair (GEOS ``make_valid``) nodes every crossing, so its time and memory grow with the number of
crossings, which a self-crossing star makes quadratic in its points: 1,001 points cost 20 s and
1.1 GB. Up to this many crossings repair takes milliseconds (measured: 0.02 s for a
1,100-crossing star, 7 ms for a 40,000-point ring twisted once); past it the polygon is refused,
as it is past :data:`MAX_REPAIR_POINTS` points. Counting stops at the budget: refusing a
5,001-point star takes about 0.1 s and 10 MB."""

MAX_REPAIR_POINTS = 10_000
"""The most points an invalid polygon may have and still be repaired (its crossings counted).

Validity itself is checked for any size (GEOS stops at the first fault); counting the crossings
of an invalid polygon costs time with its points, so past this many it is refused."""

_POLYGONAL = (shapely.Polygon, shapely.MultiPolygon, shapely.GeometryCollection)
_CROSSING_CHUNK = 16  # the fewest segments queried at a time
_MAX_PAIRS = 1_000_000  # candidate pairs held at once, at most (chunk x segments)


class _Refused(InvalidInput):
    """A geometry that cannot be settled within bounds; carries the problem to report."""

    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        super().__init__(problem.message, (problem,))


def count_crossings(geometry: BaseGeometry, budget: int = MAX_REPAIR_CROSSINGS) -> int:
    """How many pairs of non-adjacent ring segments meet, counting no further than ``budget + 1``.

    The work stops as soon as the budget is passed, so a polygon crossing itself a million
    times costs no more than one crossing it a thousand times.

    Args:
        geometry: A Polygon or MultiPolygon (other kinds have no rings: 0).
        budget: Stop counting past this many.

    Returns:
        The number of crossings, or ``budget + 1`` if there are more.

    >>> count_crossings(shapely.from_wkt("POLYGON ((0 0, 1 1, 1 0, 0 1, 0 0))"))
    1
    >>> count_crossings(shapely.from_wkt("POLYGON ((0 0, 1 0, 1 1, 0 1, 0 0))"))
    0
    """
    rings = [
        ring
        for part in getattr(geometry, "geoms", (geometry,))
        if isinstance(part, shapely.Polygon) and not part.is_empty
        for ring in (part.exterior, *part.interiors)
    ]
    starts: list[NDArray[np.float64]] = []
    ends: list[NDArray[np.float64]] = []
    first: list[int] = []
    size = 0
    for ring in rings:
        xy = _distinct_steps(shapely.get_coordinates(ring))
        if len(xy) < 2:
            continue
        starts.append(xy[:-1])
        ends.append(xy[1:])
        first.append(size)
        size += len(xy) - 1
    if size < 2:
        return 0
    start, end = np.concatenate(starts), np.concatenate(ends)
    boxes = shapely.box(
        np.minimum(start[:, 0], end[:, 0]),
        np.minimum(start[:, 1], end[:, 1]),
        np.maximum(start[:, 0], end[:, 0]),
        np.maximum(start[:, 1], end[:, 1]),
    )
    ring_of = np.repeat(np.arange(len(first)), np.diff([*first, size]))
    ring_first = np.asarray(first)[ring_of]
    ring_last = np.asarray([*first[1:], size])[ring_of] - 1
    tree = shapely.STRtree(boxes)
    # Pairs of boxes that meet, a chunk of segments at a time: a chunk holds at most
    # chunk x size pairs, kept under _MAX_PAIRS, and counting stops once past the budget.
    most = max(_CROSSING_CHUNK, _MAX_PAIRS // size)
    chunk, begin, found = _CROSSING_CHUNK, 0, 0
    while begin < size:
        left, j = tree.query(boxes[begin : begin + chunk])
        i = left + begin
        begin += chunk
        if left.size < _MAX_PAIRS // 16:  # sparse so far: take more segments at a time
            chunk = min(2 * chunk, most)
        same = ring_of[i] == ring_of[j]
        keep = (
            (i < j) & ~(same & (j - i == 1)) & ~(same & (i == ring_first[i]) & (j == ring_last[i]))
        )
        i, j = i[keep], j[keep]
        if i.size:
            found += int(np.count_nonzero(_segments_meet(start[i], end[i], start[j], end[j])))
        if found > budget:
            return budget + 1
    return found


def _segments_meet(
    a: NDArray[np.float64], b: NDArray[np.float64], c: NDArray[np.float64], d: NDArray[np.float64]
) -> NDArray[np.bool_]:
    """Whether segments ab and cd meet, for pairs whose bounding boxes already meet.

    Each segment's ends are on both sides of (or on) the other's line: the orientation test,
    with the boxes' overlap deciding the collinear case.
    """

    def side(p: NDArray[np.float64], q: NDArray[np.float64], r: NDArray[np.float64]) -> Any:
        return np.sign(
            (q[:, 0] - p[:, 0]) * (r[:, 1] - p[:, 1]) - (q[:, 1] - p[:, 1]) * (r[:, 0] - p[:, 0])
        )

    meet: NDArray[np.bool_] = (side(a, b, c) * side(a, b, d) <= 0) & (
        side(c, d, a) * side(c, d, b) <= 0
    )
    return meet


def _distinct_steps(xy: NDArray[np.float64]) -> NDArray[np.float64]:
    """The points without those that repeat the point before them."""
    keep = np.ones(len(xy), dtype=bool)
    keep[1:] = (np.diff(xy, axis=0) != 0).any(axis=1)
    return xy[keep]


def settle_polygonal(geometry: BaseGeometry, field: str, notes: list[Problem]) -> BaseGeometry:
    """A geometry split at the antimeridian and repaired if invalid, each change noted.

    A ring whose consecutive longitudes jump by more than 180 degrees crosses the antimeridian:
    its longitudes are shifted to a continuous range, the geometry is repaired there if invalid
    (only with at most :data:`MAX_REPAIR_CROSSINGS` crossings), cut at +-180 and shifted back,
    as RFC 7946 section 3.1.9 asks. A ring that winds once around a pole is closed along it.

    Args:
        geometry: Any shapely geometry in lon/lat.
        field: The field named by the notes and the problem.
        notes: Where a note (a warning) is added for each change made.

    Returns:
        The geometry to index or search (possibly empty when an invalid one encloses nothing).

    Raises:
        InvalidInput: When repair would cost too much, or a ring winds around a pole twice.

    >>> notes = []
    >>> settle_polygonal(shapely.from_wkt(
    ...     "POLYGON ((179.5 -16.5, -179.5 -16.5, -179.5 -15.5, 179.5 -15.5, 179.5 -16.5))"),
    ...     "searchAreaWkt", notes).wkt
    'MULTIPOLYGON ...'
    >>> [note.code for note in notes]
    ['request.wkt-antimeridian']
    """
    shifted, crossing = _unwrap(geometry, field)
    collapsed = _collapsed(shifted)
    if collapsed is not None:  # a ring collapsed to a point or a line (gbdxtools' point search)
        shifted = collapsed
    elif isinstance(shifted, _POLYGONAL) and not shifted.is_valid:
        reason = shapely.is_valid_reason(shifted)
        points = int(shapely.get_num_coordinates(shifted))
        if points > MAX_REPAIR_POINTS:
            raise _Refused(
                Problem(
                    field,
                    0,
                    f"the polygon is invalid ({reason}) and has {points:,} points: too many to "
                    f"repair (at most {MAX_REPAIR_POINTS:,})",
                    "split the area into simpler polygons or fix its self-intersections "
                    "(each ring drawn once around its area, without crossing itself)",
                    f"{_code_prefix(field)}.wkt-too-complex",
                )
            )
        crossings = count_crossings(shifted)
        if crossings > MAX_REPAIR_CROSSINGS:
            raise _Refused(
                Problem(
                    field,
                    0,
                    f"the polygon is invalid ({reason}) and its edges cross each other more than "
                    f"{MAX_REPAIR_CROSSINGS:,} times: too many to repair",
                    "split the area into simpler polygons or fix its self-intersections "
                    "(each ring drawn once around its area, without crossing itself)",
                    f"{_code_prefix(field)}.wkt-too-complex",
                )
            )
        shifted = shapely.make_valid(shifted, method="structure", keep_collapsed=False)
        if not shifted.is_valid:  # GEOS may leave parts that share an edge: merge them
            shifted = shapely.union_all(shapely.get_parts(shifted))
        notes.append(
            Problem(
                field,
                0,
                f"the polygon is invalid ({reason}); it was repaired to the area its outer "
                "rings enclose minus its holes",
                "draw each ring once around the area, without crossing itself",
                f"{_code_prefix(field)}.wkt-repaired",
            )
        )
    if crossing is None:
        return shifted
    pieces = _cut_and_shift(shifted)
    notes.append(
        Problem(
            field,
            0,
            f"the geometry crosses the antimeridian ({crossing}); it is split there into "
            f"{len(pieces)} parts, one each side of +-180 (RFC 7946)",
            "to mean the long way round instead, add points so that no step between two "
            "points spans more than 180 degrees of longitude",
            f"{_code_prefix(field)}.wkt-antimeridian",
        )
    )
    return _collect(pieces, shifted)


def _collapsed(geometry: BaseGeometry) -> BaseGeometry | None:
    """The point or line a polygonal geometry of no area spans (its shells' hull), or None."""
    if not isinstance(geometry, shapely.Polygon | shapely.MultiPolygon) or geometry.area != 0:
        return None
    shells = [part.exterior for part in getattr(geometry, "geoms", (geometry,))]
    hull = shapely.convex_hull(shapely.MultiLineString(shells))
    return hull if isinstance(hull, shapely.Point | shapely.LineString) else None


def _code_prefix(field: str) -> str:
    return "request" if field == "searchAreaWkt" else "record"


def _unwrap(geometry: BaseGeometry, field: str) -> tuple[BaseGeometry, str | None]:
    """The geometry with each crossing part's longitudes made continuous, and where it crossed."""
    if isinstance(geometry, shapely.Point | shapely.MultiPoint):
        return geometry, None
    min_x, _, max_x, _ = shapely.bounds(geometry).tolist()
    if max_x - min_x <= 180:  # no step can span more (the common case, decided in one call)
        return geometry, None
    parts = list(getattr(geometry, "geoms", (geometry,)))
    if not any(_jumps(part) for part in parts):
        return geometry, None
    where: str | None = None
    shifted_parts: list[BaseGeometry] = []
    for part in parts:
        if not _jumps(part):
            shifted_parts.append(part)
            continue
        if isinstance(part, shapely.Polygon):
            exterior, at = _unwrap_ring(shapely.get_coordinates(part.exterior), field, True)
            where = where or at
            middle = (exterior[:, 0].min() + exterior[:, 0].max()) / 2
            holes = []
            for interior in part.interiors:
                hole, _ = _unwrap_ring(shapely.get_coordinates(interior), field, True)
                hole[:, 0] += 360.0 * np.round((middle - hole[0, 0]) / 360.0)
                holes.append(hole)
            shifted_parts.append(shapely.Polygon(exterior, holes))
        elif isinstance(part, shapely.LineString):
            line, at = _unwrap_ring(shapely.get_coordinates(part), field, False)
            where = where or at
            shifted_parts.append(shapely.LineString(line))
        else:  # a nested collection: kept as it is
            shifted_parts.append(part)
    return _collect(shifted_parts, geometry), where


def _jumps(part: BaseGeometry) -> bool:
    """Whether a polygon's or a line's longitudes step by more than 180 degrees somewhere."""
    if isinstance(part, shapely.Polygon):
        lines = [part.exterior, *part.interiors]
    elif isinstance(part, shapely.LineString):
        lines = [part]
    else:
        return False
    return any(bool(_crossing_steps(shapely.get_coordinates(line)[:, 0]).any()) for line in lines)


def _crossing_steps(lon: NDArray[np.float64]) -> NDArray[np.bool_]:
    """Which steps between consecutive longitudes cross the antimeridian.

    A step of more than 180 degrees does, except one from -180 to 180 or back: both ends are
    on the antimeridian, and such a step runs along the map's edge (as in the whole world,
    ``POLYGON ((-180 -90, 180 -90, 180 90, -180 90, -180 -90))``).
    """
    if len(lon) < 2:
        return np.zeros(0, dtype=bool)
    edge = np.abs(lon) == 180
    crossing: NDArray[np.bool_] = (np.abs(np.diff(lon)) > 180) & ~(edge[:-1] & edge[1:])
    return crossing


def _unwrap_ring(
    xy: NDArray[np.float64], field: str, closed: bool
) -> tuple[NDArray[np.float64], str | None]:
    """Longitudes made continuous (each step the short way); a ring around a pole is closed."""
    steps = np.diff(xy[:, 0])
    crossing = _crossing_steps(xy[:, 0])
    big = np.flatnonzero(crossing)
    at = None
    if big.size:
        k = int(big[0])
        at = (
            f"a step of {abs(float(steps[k])):g} degrees of longitude, from "
            f"{xy[k, 0]:g} to {xy[k + 1, 0]:g}"
        )
    steps[crossing] -= 360.0 * np.round(steps[crossing] / 360.0)  # the short way round
    out = xy.copy()
    out[1:, 0] = xy[0, 0] + np.cumsum(steps)
    if not closed:
        return out, at
    turns = int(np.round((out[-1, 0] - out[0, 0]) / 360.0))
    if turns == 0:
        out[-1] = out[0]
        return out, at
    if abs(turns) > 1:
        raise _Refused(
            Problem(
                field,
                0,
                f"a ring winds around a pole {abs(turns)} times",
                "draw each ring once around its area",
                f"{_code_prefix(field)}.wkt-invalid",
            )
        )
    pole = 90.0 if xy[:, 1].mean() >= 0 else -90.0  # the nearer pole is the one it encloses
    closing = np.array([[out[-1, 0], pole], [out[0, 0], pole], out[0]])
    return np.concatenate([out, closing]), at


def _cut_and_shift(shifted: BaseGeometry) -> list[BaseGeometry]:
    """The parts of an unwrapped geometry in each copy of the world it reaches, moved back.

    A ring that steps east over and over (each step under 180 degrees) may reach several copies.
    """
    pieces: list[BaseGeometry] = []
    dimension = int(shapely.get_dimensions(shifted))
    min_x, _, max_x, _ = shapely.bounds(shifted).tolist()
    for copy in range(math.floor((min_x + 180) / 360), math.ceil((max_x - 180) / 360) + 1):
        low, move = 360.0 * copy - 180.0, -360.0 * copy
        cut = shapely.intersection(shifted, shapely.box(low, -90.0, low + 360.0, 90.0))
        for piece in getattr(cut, "geoms", (cut,)):
            if piece.is_empty or int(shapely.get_dimensions(piece)) != dimension:
                continue
            pieces.append(
                shapely.transform(piece, lambda xy, move=move: xy + np.array([move, 0.0]))
            )
    return pieces


def _collect(parts: list[BaseGeometry], like: BaseGeometry) -> BaseGeometry:
    """Parts as one geometry: a Multi* of one kind, or a collection."""
    if not parts:
        return like
    if len(parts) == 1:
        return parts[0]
    if all(isinstance(p, shapely.Polygon) for p in parts):
        multi = shapely.MultiPolygon(parts)
        # pieces of a ring around a pole meet along a meridian: merge them into one
        return multi if multi.is_valid else shapely.union_all(parts)
    if all(isinstance(p, shapely.LineString) for p in parts):
        return shapely.MultiLineString(parts)
    flat: list[BaseGeometry] = []
    for p in parts:
        flat.extend(getattr(p, "geoms", (p,)))
    return shapely.GeometryCollection(flat)


# --------------------------------------------------------------------------------------------
# A batch WKT reader for the common footprint

# The plain form read without GEOS's tokenizer: the keyword POLYGON or MULTIPOLYGON, in capitals,
# then only spaces, parentheses, commas and numbers written -?digits[.digits] (at most 16
# characters, the digits forming an integer below 2**53), two numbers a point, every ring closed
# (its last point the same bits as its first) with at least 4 points. Such a number is read
# exactly: its digits as an integer m below 2**53 and its f digits after the point give m / 10**f,
# one IEEE division of two exact doubles, so correctly rounded, as strtod (GEOS's reader) is.
# Everything else (exponents, Z/M, EMPTY, other types, lower case, tabs, longer numbers) is read
# by shapely.from_wkt, as is every text of the plain form the checks below cannot prove.
# The reading is vectorized over a chunk of texts joined into one buffer: numbers and marks
# ( ) , are found by two scans; the marks of each text (its "skeleton", remembered) give its
# rings and how many numbers must follow each mark, which the scans must match; each number is
# read from the 16 bytes that end it as two 64-bit words (SWAR: a byte per digit); the
# geometries are built by shapely.from_ragged_array.

_PLAIN_CHARACTERS = b"0123456789.- (),"
_SEPARATOR = b"*"  # between texts in the joined buffer: a byte no plain text holds
_PAD = 16  # spaces before the buffer: every number's 16-byte window lies inside it
_MAX_NUMBER = 16  # characters in a number read here
# texts read at once: a chunk's arrays stay in the CPU's caches; inside a load, glibc hands freed
# heap back to the system between chunks, and larger chunks fault more pages in again
_CHUNK = 256
_POW10 = np.array([10**k for k in range(20)], dtype=np.uint64)
_FLOAT10 = np.array([10.0**k for k in range(20)], dtype=np.float64)
_EXACT = np.uint64(2**53)
_LOW7 = np.uint64(0x7F7F7F7F7F7F7F7F)
_HIGH_BITS = np.uint64(0x8080808080808080)
_DOTS = np.uint64(0x2E2E2E2E2E2E2E2E)
_MINUS = np.uint64(0x2D2D2D2D2D2D2D2D)


def _high_bits(first: int, last: int) -> int:
    """A word's 0x80 bits in its bytes first..last (byte 0 the lowest)."""
    return sum(0x80 << (8 * j) for j in range(first, last + 1))


# for a number of n characters ending at the end of a 16-byte window, 0x80 in its own bytes:
# in the window's first word (bytes 0-7, from 16 - n on) and its last (8-15, from 8 - n on)
_MINE = np.array(
    [[_high_bits(16 - n, 7), _high_bits(max(8 - n, 0), 7)] for n in range(17)], dtype="<u8"
).view("V16")[:, 0]
_SEVEN = np.uint64(7)
_LOW4 = np.uint64(15)  # times 1 in a byte: 0x0F there
_TO_HIGH_BIT = np.uint64(0x5050505050505050)  # '0' (48) + 80 = 128
_INVERSE_OF_5 = np.uint64(0xCCCCCCCCCCCCCCCD)  # 5 times it is 1 (mod 2**64)
_NO_POINT = np.uint64(19)  # 10**19 passes any 16-digit number
_NEGATIVE = np.uint64(20)
_TOP = np.uint64(56)
_AFTER = np.uint64(0x0706050403020100)  # byte k: k digits follow byte 7 - k of a word
_EIGHT = np.uint64(8)
_DIVISORS = np.concatenate([_FLOAT10, -_FLOAT10])  # 10**decimals, negated for a '-'


@dataclass(frozen=True, slots=True)
class _Skeleton:
    """What the parentheses and commas of a plain text say: its rings, parts and numbers."""

    numbers: NDArray[np.uint8]  # numbers after the separator before the text, and each mark
    ring_sizes: NDArray[np.int64]  # points in each ring, in order
    part_rings: NDArray[np.int64]  # rings in each polygon, in order


_skeletons: dict[int, dict[bytes, _Skeleton | None]] = {3: {}, 6: {}}  # by kind, remembered
_MAX_SKELETONS = 4096


def _read_skeleton(kind: int, marks: bytes) -> _Skeleton | None:
    """The structure of a plain POLYGON (kind 3) or MULTIPOLYGON (6), or None if not one.

    ``marks`` is the text's punctuation in order (the numbers and spaces removed). A ring of
    fewer than 4 points is None: GEOS refuses it, and the text is left to it.
    """
    depth_of_rings = 2 if kind == 3 else 3
    numbers = np.zeros(len(marks) + 1, dtype=np.uint8)
    ring_sizes: list[int] = []
    part_rings: list[int] = []
    depth = 0
    previous = 0
    for at, mark in enumerate(marks):
        if mark == 40:  # (
            if depth and previous not in (40, 44):
                return None
            depth += 1
            if depth > depth_of_rings:
                return None
            if depth == depth_of_rings:
                ring_sizes.append(1)
                numbers[at + 1] = 2
            elif depth == depth_of_rings - 1:
                part_rings.append(0)
        elif mark == 41:  # )
            if depth == depth_of_rings:
                if ring_sizes[-1] < 4:
                    return None
                part_rings[-1] += 1
            elif previous != 41:  # an empty list: (), or ((  ))
                return None
            depth -= 1
            if depth == 0 and at != len(marks) - 1:
                return None
        elif mark == 44:  # ,
            if depth == depth_of_rings:
                ring_sizes[-1] += 1
                numbers[at + 1] = 2
            elif depth == 0 or previous != 41:
                return None
        else:
            return None
        previous = mark
    if depth != 0 or not ring_sizes:
        return None
    if kind == 3 and len(part_rings) != 1:
        return None
    return _Skeleton(
        numbers, np.array(ring_sizes, dtype=np.int64), np.array(part_rings, dtype=np.int64)
    )


def _eight_digits(words: NDArray[np.uint64]) -> None:
    """Words whose bytes are digit values (0-9), first byte first, made their 8-digit numbers."""
    words *= np.uint64(2561)  # 10 a + b in every other byte
    words >>= np.uint64(8)
    words &= np.uint64(0x00FF00FF00FF00FF)
    words *= np.uint64(6553601)  # 100 ab + cd in every other 16 bits
    words >>= np.uint64(16)
    words &= np.uint64(0x0000FFFF0000FFFF)
    words *= np.uint64(42949672960001)  # 10000 abcd + efgh
    words >>= np.uint64(32)


def _plain_wkt(texts: Sequence[object]) -> tuple[list[int], NDArray[np.object_]]:
    """The texts of the plain form, read: their positions and their geometries.

    A text that is not plain, or that these checks cannot prove is read exactly as GEOS reads
    it, is left out (its position is not listed).
    """
    multi: list[int] = []
    single: list[int] = []
    for position, text in enumerate(texts):
        if type(text) is not str or not text.isascii():
            continue
        if text.startswith("MULTIPOLYGON"):
            multi.append(position)
        elif text.startswith("POLYGON"):
            single.append(position)
    found: list[int] = []
    shapes: list[NDArray[np.object_]] = []
    for kind, positions, skip in ((6, multi, 12), (3, single, 7)):
        for first in range(0, len(positions), _CHUNK):
            chunk = positions[first : first + _CHUNK]
            bodies = [texts[at][skip:] for at in chunk]  # type: ignore[index]
            read, geometries = _read_plain(kind, bodies)
            found.extend(chunk[at] for at in read)
            shapes.append(geometries)
    return found, np.concatenate(shapes) if shapes else np.empty(0, dtype=object)


def _read_plain(kind: int, bodies: list[str]) -> tuple[list[int], NDArray[np.object_]]:
    """The bodies (each text after its keyword) of one kind, read: which, and their geometries."""
    index = list(range(len(bodies)))
    buffer = b" " * _PAD + _SEPARATOR + "*".join(bodies).encode() + _SEPARATOR
    if buffer.translate(None, _PLAIN_CHARACTERS) != _SEPARATOR * (len(bodies) + 1):
        index = [at for at in index if not bodies[at].encode().translate(None, _PLAIN_CHARACTERS)]
        if not index:
            return [], np.empty(0, dtype=object)
        buffer = b" " * _PAD + _SEPARATOR + "*".join(bodies[at] for at in index).encode()
        buffer += _SEPARATOR
    u = np.frombuffer(buffer, dtype=np.uint8)
    # numbers are runs of the bytes 45..57 (- . / 0-9), marks the bytes 40..44 (( ) * + ,);
    # '/' and '+' are in no plain text; the buffer starts and ends with a mark
    scratch = u - np.uint8(45)
    numeric = scratch < 13
    edges = np.flatnonzero(numeric[1:] != numeric[:-1])
    edges += 1
    starts, ends = edges[0::2], edges[1::2]
    np.subtract(u, np.uint8(40), out=scratch)
    marks_at = np.flatnonzero(np.less(scratch, 5, out=numeric))
    del scratch, numeric
    marks = u[marks_at]
    separators = np.flatnonzero(marks == 42)  # where each text's marks start, and the end
    known = _skeletons[kind]
    skeletons: list[_Skeleton | None] = []
    for text_marks in marks.tobytes().split(_SEPARATOR)[1:-1]:
        try:
            skeletons.append(known[text_marks])
        except KeyError:
            if len(known) >= _MAX_SKELETONS:
                known.clear()
            skeletons.append(known.setdefault(text_marks, _read_skeleton(kind, text_marks)))
    bad = np.array([skeleton is None for skeleton in skeletons], dtype=bool)
    expected = np.concatenate(  # numbers after each mark
        [
            np.zeros(separators[at + 1] - separators[at], dtype=np.uint8)
            if skeleton is None
            else skeleton.numbers
            for at, skeleton in enumerate(skeletons)
        ]
    )
    # every number where the skeletons put one: when there are as many numbers as the marks
    # ask for, the k-th point's two numbers must both lie after the k-th mark that asks for one
    # and before the mark after it (then no gap holds more or fewer); else each text is checked
    # on its own, by the numbers between each pair of marks
    asking = np.flatnonzero(expected)
    if (
        not bad.any()
        and len(starts) == 2 * len(asking)
        and bool((marks_at[asking] < starts[0::2]).all())
        and bool((ends[1::2] <= marks_at[asking + 1]).all())
    ):
        firsts = 2 * np.searchsorted(asking, separators)  # each text's first number, and the end
    else:
        numbers_before = np.searchsorted(starts, marks_at)  # numbers before each mark
        wrong = np.flatnonzero(np.diff(numbers_before) != expected)
        if wrong.size:
            bad[np.searchsorted(separators, wrong, side="right") - 1] = True
        firsts = numbers_before[separators]
    values, wrong_numbers = _numbers(buffer, u, starts, ends)
    if wrong_numbers.size:
        bad[np.searchsorted(firsts, wrong_numbers, side="right") - 1] = True
    if not bad.any():  # the common chunk: its offsets come from its marks
        coordinates = values.reshape(-1, 2)
        offsets, ring_open = _ragged_offsets(kind, marks, asking, separators)
        unclosed = _unclosed(coordinates, offsets[0])
        if not unclosed.size:
            geometries = shapely.from_ragged_array(shapely.GeometryType(kind), coordinates, offsets)
            return index, geometries
        bad[np.searchsorted(separators, ring_open[unclosed], side="right") - 1] = True
    while True:
        good = np.flatnonzero(~bad)
        if not good.size:
            return [], np.empty(0, dtype=object)
        if bad.any():
            coordinates = values[np.repeat(~bad, np.diff(firsts))].reshape(-1, 2)
        else:
            coordinates = values.reshape(-1, 2)
        chosen = [
            skeleton
            for skeleton, left_out in zip(skeletons, bad.tolist(), strict=True)
            if skeleton is not None and not left_out
        ]
        ring_sizes = np.concatenate([skeleton.ring_sizes for skeleton in chosen])
        part_rings = np.concatenate([skeleton.part_rings for skeleton in chosen])
        parts = [len(skeleton.part_rings) for skeleton in chosen]
        ring_offsets = _offsets(ring_sizes)
        unclosed = _unclosed(coordinates, ring_offsets)
        if not unclosed.size:
            break
        ring_text = np.repeat(np.repeat(np.arange(good.size), parts), part_rings)
        bad[good[ring_text[unclosed]]] = True  # GEOS refuses an unclosed ring: left to it
    offsets = (ring_offsets, _offsets(part_rings))
    if kind == 6:
        offsets += (_offsets(parts),)
    geometries = shapely.from_ragged_array(shapely.GeometryType(kind), coordinates, offsets)
    return [index[at] for at in good.tolist()], geometries


def _ragged_offsets(
    kind: int, marks: NDArray[np.uint8], asking: NDArray[np.intp], separators: NDArray[np.intp]
) -> tuple[tuple[NDArray[np.intp], ...], NDArray[np.intp]]:
    """The offsets of ``shapely.from_ragged_array`` for a chunk of good texts, from its marks.

    ``asking`` holds the marks each point follows: a point after a '(' opens a ring, and a ring
    whose '(' follows another '(' opens a polygon; a text's polygons start after its separator.
    Also returns each ring's opening mark.
    """
    ring_first = np.flatnonzero(marks[asking] == 40)  # the points that open a ring
    ring_open = asking[ring_first]
    part_first = np.flatnonzero(marks[ring_open - 1] == 40)  # the rings that open a polygon
    offsets: tuple[NDArray[np.intp], ...] = (
        np.append(ring_first, len(asking)),
        np.append(part_first, len(ring_first)),
    )
    if kind == 6:
        offsets += (np.searchsorted(ring_open[part_first], separators),)
    return offsets, ring_open


def _unclosed(coordinates: NDArray[np.float64], ring_offsets: NDArray[np.intp]) -> NDArray[np.intp]:
    """The rings whose last point is not their first, bit for bit."""
    bits = coordinates.view(np.uint64)
    first, last = ring_offsets[:-1], ring_offsets[1:] - 1
    return np.flatnonzero((bits[first, 0] != bits[last, 0]) | (bits[first, 1] != bits[last, 1]))


def _offsets(sizes: NDArray[np.int64] | list[int]) -> NDArray[np.int64]:
    """Offsets of consecutive runs of these sizes: 0 and the running totals."""
    offsets = np.zeros(len(sizes) + 1, dtype=np.int64)
    np.cumsum(sizes, out=offsets[1:])
    return offsets


def _numbers(
    buffer: bytes, u: NDArray[np.uint8], starts: NDArray[np.intp], ends: NDArray[np.intp]
) -> tuple[NDArray[np.float64], NDArray[np.intp]]:
    """The value of each number, and which are not -?digits[.digits] read exactly here.

    Each number's last 16 bytes are two 64-bit words (every byte one of ' '..'9'); the bytes
    before the number are masked off. Its digit bytes become one integer (the point and the
    sign counting as the digit 0), the point's 0 is taken out, and the integer (below 2**53) is
    divided by the power of ten of its decimals: one correctly rounded division of two exact
    doubles (the sign goes with the divisor, so -0 stays -0.0).
    """
    # in place where it can be: fewer arrays alive at once, fewer fresh pages in a load
    lengths = ends - starts
    wrong = lengths > _MAX_NUMBER
    width = np.minimum(lengths, _MAX_NUMBER)
    windows = np.ndarray((len(buffer) - 15,), dtype="V16", buffer=buffer, strides=(1,))
    # each number's window as two words: its bytes 0-7 and 8-15 (columns 0 and 1)
    words = windows[ends - 16].view("<u8").reshape(-1, 2)
    mine = _MINE[width].view("<u8").reshape(-1, 2)  # 0x80 in the number's own bytes
    del width
    # 0x80 in each byte of the number that is a digit (the bytes 48..57: those that reach 128
    # when 80 is added; no byte passes 255), and in each that is '.' (46: the others, less '-')
    digits = words + _TO_HIGH_BIT
    digits &= mine
    dots = mine ^ digits
    odd = words << _SEVEN  # '-' is odd, '.' even
    dots &= np.invert(odd, out=odd)
    del odd
    has_dot = (dots[:, 0] | dots[:, 1]) != 0
    negative = u[starts] == 45
    dashes, periods = np.count_nonzero(u == 45), np.count_nonzero(u == 46)  # (not bytes.count)
    if dashes != np.count_nonzero(negative) or periods != np.count_nonzero(has_dot):
        # a '-' not first, or two points: which numbers
        minus = np.bitwise_count(_bytes_equal(words, _MINUS) & mine)
        wrong |= minus[:, 0] + minus[:, 1] != negative
        points = np.bitwise_count(dots)
        wrong |= points[:, 0] + points[:, 1] > 1
    del mine
    wrong |= lengths - negative - has_dot < 1  # no digit
    del lengths
    # a point in byte j: dots >> 7 is 1 << 8 j, and times C its top byte is C's byte 7 - j;
    # 8 more digits follow a point in the first word
    decimals = _EIGHT * (dots[:, 0] != 0)
    dots >>= _SEVEN
    dots *= _AFTER
    dots >>= _TOP
    decimals += dots[:, 0]
    decimals += dots[:, 1]
    del dots
    decimals &= np.uint64(15)  # 15 at most with one point (more points: wrong, kept in range)
    digits >>= _SEVEN
    digits *= _LOW4
    digits &= words  # each digit's value (0-9) in its byte, 0 elsewhere
    del words
    _eight_digits(digits)
    spread = digits[:, 0] * np.uint64(10**8)
    spread += digits[:, 1]
    del digits
    # the point counts as a 0 digit: take it out (no point: the whole is the fraction)
    fraction = spread % _POW10[decimals + _NO_POINT * ~has_dot]
    spread -= fraction
    spread >>= np.uint64(1)
    spread *= _INVERSE_OF_5  # exact: a multiple of 10, divided by 10
    spread += fraction  # the number's digits without the point
    del fraction
    wrong |= spread >= _EXACT
    values = spread.astype(np.float64)
    values /= _DIVISORS[decimals + _NEGATIVE * negative]
    return values, np.flatnonzero(wrong)


def _bytes_equal(words: NDArray[np.uint64], pattern: np.uint64) -> NDArray[np.uint64]:
    """0x80 in each byte of the words equal to the pattern's byte, 0 elsewhere."""
    differ = words ^ pattern
    nonzero = ((differ & _LOW7) + _LOW7) | differ  # no carry crosses a byte
    return ~nonzero & _HIGH_BITS


def read_footprint(wkt: object, position: int, notes: list[Problem] | None = None) -> BaseGeometry:
    """A record's ``properties.footprintWkt`` as the shapely geometry to index, checked.

    A footprint that crosses the antimeridian is split there, and an invalid polygon is
    repaired (if it crosses itself at most :data:`MAX_REPAIR_CROSSINGS` times), as a search area
    is (:func:`settle_polygonal`); each change adds a note. The record's text is not changed:
    only the geometry the stores index and match.

    Args:
        wkt: The record's ``properties.footprintWkt``.
        position: The record's position in its input, for the error.
        notes: Where a note is added for each change (none when None).

    Returns:
        The geometry to index.

    Raises:
        InvalidRecord: If it is missing, not WKT, empty, or not in lon/lat range.

    >>> read_footprint("POLYGON ((0 0, 1 0, 1 1, 0 0))", 0).geom_type
    'Polygon'
    >>> read_footprint("POINT (200 0)", 3)
    Traceback (most recent call last):
      ...
    catalogql.search.errors.InvalidRecord: record 3: properties.footprintWkt: a longitude is outside [-180, 180]
    """  # noqa: E501
    field = "properties.footprintWkt"
    if not isinstance(wkt, str):
        raise InvalidRecord(
            position, field, "missing or not WKT text",
            "every record needs its footprint, e.g. MULTIPOLYGON(((lon lat, …)))",
        )  # fmt: skip
    try:
        geometry = shapely.from_wkt(wkt)
    except Exception as error:  # shapely raises GEOSException, ShapelyError or ValueError
        raise InvalidRecord(position, field, f"not WKT: {error}") from None
    if geometry is None or geometry.is_empty:
        raise InvalidRecord(position, field, "an empty geometry")
    if not np.isfinite(shapely.get_coordinates(geometry)).all():
        raise InvalidRecord(position, field, "a coordinate is not a finite number")
    min_x, min_y, max_x, max_y = shapely.bounds(geometry).tolist()
    if min_x < -180 or max_x > 180:
        raise InvalidRecord(position, field, "a longitude is outside [-180, 180]")
    if min_y < -90 or max_y > 90:
        raise InvalidRecord(position, field, "a latitude is outside [-90, 90]")
    if isinstance(geometry, shapely.Point | shapely.MultiPoint):
        return geometry
    changes: list[Problem] = []
    try:
        settled = settle_polygonal(geometry, field, changes)
    except _Refused as refused:
        raise InvalidRecord(
            position, field, refused.problem.message, refused.problem.hint
        ) from None
    if settled.is_empty:
        raise InvalidRecord(
            position, field, f"an invalid geometry that encloses nothing: "
            f"{shapely.is_valid_reason(geometry)}",
            "draw each ring once around the footprint, without crossing itself",
        )  # fmt: skip
    if notes is not None:
        notes.extend(changes)
    return settled


_POINTS = (0, 4)  # shapely's type ids of Point and MultiPoint
_AREAL = (3, 6, 7)  # Polygon, MultiPolygon, GeometryCollection: checked for validity
_SURFACES = (3, 6)  # Polygon, MultiPolygon: a ring of no area is searched as what it spans


def read_wkt(texts: Sequence[object]) -> NDArray[np.object_]:
    """``shapely.from_wkt(texts, on_invalid="ignore")``, the common footprint read faster.

    A POLYGON or MULTIPOLYGON of the plain form (see above) is read a batch at a time without
    GEOS's tokenizer, to the same geometry (same type, same coordinates bit for bit); every other
    text goes to ``shapely.from_wkt``. Anything not of type ``str`` is None (as
    :func:`read_footprints` has always treated it), as is text GEOS refuses.

    Args:
        texts: WKT texts (anything else reads as None).

    Returns:
        One geometry or None a text, in order.

    >>> [g.wkt for g in read_wkt(["POLYGON((0 0, 1 0, 1 1, 0 0))", "POINT (1 2)"])]
    ['POLYGON ((0 0, 1 0, 1 1, 0 0))', 'POINT (1 2)']
    >>> read_wkt(["POLYGON((0 0, 1 0, 1 1, 0 1))", 7]).tolist()
    [None, None]
    """
    geometries = np.empty(len(texts), dtype=object)
    found, plain = _plain_wkt(texts)
    geometries[found] = plain
    rest = np.ones(len(texts), dtype=bool)
    rest[found] = False
    others = [
        text if type(text) is str else None
        for text in (texts[at] for at in np.flatnonzero(rest).tolist())
    ]
    if others:
        with np.errstate(invalid="ignore", over="ignore"):  # NaN, 1e400: the caller decides
            geometries[rest] = shapely.from_wkt(np.array(others, dtype=object), on_invalid="ignore")
    return geometries


def read_footprints(texts: Sequence[str | None]) -> list[BaseGeometry | None]:
    """Footprints read a batch at a time: each the geometry :func:`read_footprint` returns, or None.

    The common footprint (WKT in lon/lat range, finite, valid, spanning at most 180 degrees of
    longitude, with an area if it is a polygon) is parsed by :func:`read_wkt` (exactly
    ``shapely.from_wkt``'s geometry, the plain POLYGON / MULTIPOLYGON text without GEOS's
    tokenizer), checked in a few vectorized shapely calls, and is its own index geometry with no
    note. None means "read this one with
    :func:`read_footprint`": not text, not WKT, empty, out of range, invalid, crossing the
    antimeridian or collapsed (its error or its notes come from there).

    >>> [None if g is None else g.geom_type
    ...  for g in read_footprints(["POINT (1 2)", "POINT (200 0)", None, "oops"])]
    ['Point', None, None, None]
    """
    if not texts:
        return []
    try:
        geometries = read_wkt(texts)
    except Exception:  # anything unexpected: every footprint is read alone, as before
        return [None] * len(texts)
    fast = ~shapely.is_missing(geometries)
    fast[fast] = ~shapely.is_empty(geometries[fast])
    bounds = shapely.bounds(geometries)
    with np.errstate(invalid="ignore"):
        fast &= (bounds[:, 0] >= -180) & (bounds[:, 2] <= 180)
        fast &= (bounds[:, 1] >= -90) & (bounds[:, 3] <= 90)
        kinds = shapely.get_type_id(geometries)
        points = np.isin(kinds, _POINTS)
        fast &= points | (bounds[:, 2] - bounds[:, 0] <= 180)
        fast &= (kinds >= 0) & (kinds <= 7)  # the simple features: curves are read alone
    areal = fast & np.isin(kinds, _AREAL)
    # a NaN or an infinity in a coordinate: GEOS calls an areal geometry holding one invalid
    # (so is_valid below refuses it); the others' coordinates are looked at here
    other = np.flatnonzero(fast & ~areal)
    if other.size:
        coordinates, which = shapely.get_coordinates(geometries[other], return_index=True)
        unfinite = which[~np.isfinite(coordinates).all(axis=1)]
        if unfinite.size:
            fast[other[np.unique(unfinite)]] = False
    if areal.any():
        picked = np.flatnonzero(areal)
        fast[picked] = shapely.is_valid(geometries[picked])
    surfaces = fast & np.isin(kinds, _SURFACES)
    if surfaces.any():
        picked = np.flatnonzero(surfaces)
        fast[picked] = shapely.area(geometries[picked]) != 0
    geometries[~fast] = None
    result: list[BaseGeometry | None] = geometries.tolist()
    return result
