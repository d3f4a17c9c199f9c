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
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from catalogql.ast import NUMBER_RE
from catalogql.errors import InvalidInput, Problem
from catalogql.search.describe import json_kind, shorten
from catalogql.search.errors import InvalidRecord

__all__ = ["MAX_WKT_LENGTH", "read_area", "read_footprint"]

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
_WKT_TOKEN = re.compile(
    rf"(?P<num>{NUMBER_RE.pattern})(?![A-Za-z0-9_.])|(?P<word>[A-Za-z_][A-Za-z0-9_]*)|(?P<punct>[(),])"
)
_WKT_SPACE = re.compile(r"[ \t\r\n]*")
_WKT_RUN = re.compile(r"[^ \t\r\n(),\x00]+")
_NON_FINITE_WORDS = frozenset({"NAN", "INF", "INFINITY"})


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
    """The geometry a polygon stands for: itself, its collapse, or its repair; prepared."""
    geometry = polygon
    hull = shapely.convex_hull(polygon.exterior)
    if polygon.area == 0 and isinstance(hull, shapely.Point | shapely.LineString):
        geometry = hull  # a ring collapsed to a point or a line (gbdxtools' point search)
    elif not polygon.is_valid:
        reason = shapely.is_valid_reason(polygon)
        repaired = shapely.make_valid(polygon, method="structure", keep_collapsed=False)
        if repaired.is_empty or not isinstance(repaired, shapely.Polygon | shapely.MultiPolygon):
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
        warned.append(
            Problem(
                "searchAreaWkt",
                0,
                f"the polygon is invalid ({reason}); it was repaired to the "
                "area its outer rings enclose minus its holes",
                "draw each ring once around the area, without crossing itself",
                "request.wkt-repaired",
            )
        )
        geometry = repaired
    shapely.prepare(geometry)
    return geometry


# --------------------------------------------------------------------------------------------
# Footprints


def read_footprint(wkt: object, position: int) -> BaseGeometry:
    """A record's ``properties.footprintWkt`` as a shapely geometry, checked.

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
    return geometry
