"""The body of ``POST /catalog/v2/search``, checked field by field (SPEC section 5).

:meth:`SearchRequest.from_dict` reads a JSON body, checks every field and either returns a
:class:`SearchRequest` ready for the engine (the area as a prepared shapely geometry, the dates as
sortable UTC keys, the types and filters parsed) or raises
:class:`~catalogql.search.errors.InvalidSearchRequest` listing *every* problem at once, each with
its field, an offset into that field's text, a message, a hint and a code. Nothing else is raised
for any body, however malformed.

>>> request = SearchRequest.from_dict({
...     "searchAreaWkt": "POLYGON ((30.1 9.9, 30.1 10.1, 29.9 10.1, 29.9 9.9, 30.1 9.9))",
...     "startDate": "2008-01-01T00:00:00.000Z", "endDate": "2012-01-03",
...     "types": ["Acquisition"], "filters": ["cloudCover < 10"]})
>>> request.start, request.end, request.limit
('2008-01-01T00:00:00', '2012-01-03T00:00:00', 1000)
>>> SearchRequest.from_dict({"limit": 0, "types": "Acquisition"})
Traceback (most recent call last):
  ...
catalogql.search.errors.InvalidSearchRequest: Invalid Search Request. types: ...

Where SPEC section 5 is silent, this module decides:

* **WKT.** The text is checked by a small scanner before shapely builds the geometry, so a
  mistake is reported at its offset and only a well-formed ``POLYGON`` ever reaches GEOS. The
  scanner accepts the usual WKT spellings (any case, ``POLYGON Z``/``M``/``ZM``, exponents, a
  leading ``+``) but not GEOS's extras: hexadecimal numbers, ``nan``/``inf`` and text after a NUL
  (which GEOS silently ignores). An EWKT ``SRID=...;`` prefix is an error with a hint to drop it.
  WKT longer than :data:`MAX_WKT_LENGTH` characters is refused.
* **Z and M values** are dropped with a warning (``request.wkt-dimensions``): the search is 2-D.
* **A collapsed ring** (zero area, every point on one line) is searched as the Point or the
  LineString it spans (its convex hull), silently: gbdxtools' point search sends one point five
  times on purpose. Holes of a collapsed polygon are ignored.
* **An invalid polygon** (self-intersection, a hole outside its shell, ...) is repaired with
  ``shapely.make_valid(method="structure")`` (the shells' union minus the holes) and a warning
  ``request.wkt-repaired`` that gives GEOS's reason and location; the area is then a Polygon or
  a MultiPolygon. If nothing polygonal is left, the polygon is an error with that reason.
* **Coordinates out of range**: one error (``request.wkt-out-of-range``) positioned at the first
  offending point, counting the others; when swapping that point's numbers would fix it, the
  hint says that WKT is longitude first.
* **Dates** follow :func:`catalogql.semantics.instant_key`, which also accepts a space for ``T``,
  a lowercase ``z``, ``+hhmm`` offsets and any number of fractional digits. Text longer than
  100 characters is not a date. ``start == end`` is valid (both bounds are inclusive).
* **limit** is a JSON integer; an integral float such as ``10.0`` counts as that integer, as
  JSON Schema's ``integer`` does; booleans, strings, fractions, NaN and infinities are errors;
  above 1000 (any size) it is served as 1000 with a warning (``request.limit-capped``).
* **types and filters** may be JSON arrays (or Python lists/tuples) of strings; an empty string
  is parsed like any other text (and so is an error). Filter warnings (compatibility forms,
  schema findings) become request warnings at ``filters[i]`` with the parser's offset, code and
  canonical rewrite.
* **Unknown fields** (any key, including a non-string one) are warnings
  (``request.unknown-field``) with a "did you mean" hint for near misses, found case-insensitively.
* A bad ``dialect`` or ``schema`` argument is the caller's configuration, not the request's
  fault: it raises :class:`~catalogql.QueryError` (``usage.dialect``, ``schema.invalid``) before
  the body is read.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from catalogql.ast import NUMBER_RE, Node
from catalogql.errors import InvalidInput
from catalogql.semantics import check_schema, instant_key
from catalogql.syntax.errors import QueryError
from catalogql.syntax.parser import (
    DEFAULT_LIMITS,
    Limits,
    QueryDialect,
    parse_filter_with_diagnostics,
    parse_types,
)

from .errors import InvalidSearchRequest, RequestProblem

__all__ = ["DEFAULT_LIMIT", "MAX_LIMIT", "MAX_WKT_LENGTH", "SearchRequest"]

MAX_LIMIT = 1000
"""The most records one search returns; a larger ``limit`` is served as this."""

DEFAULT_LIMIT = 1000
"""The ``limit`` of a request that does not send one."""

MAX_WKT_LENGTH = 1_000_000
"""The longest ``searchAreaWkt`` accepted, in characters (about 40,000 points)."""

_MAX_DATE_LENGTH = 100

KNOWN_FIELDS = ("searchAreaWkt", "startDate", "endDate", "types", "filters", "limit", "countTotal")

_DATE_HINT = (
    'write an ISO 8601 date-time such as "2014-01-01T00:00:00.000Z" (Z or an offset such as '
    '+02:00), a date such as "2014-01-01" (midnight UTC), or null for an open bound'
)
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


def _kind(value: object) -> str:
    """The JSON name of a value's type, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list | tuple):
        return "an array"
    return f"a {type(value).__name__}"


def _safe_str(value: object) -> str:
    """``str(value)``, or its type's name when that fails (a huge int, a broken ``__str__``)."""
    try:
        return _shorten(str(value), 100)
    except Exception:
        return f"<{type(value).__name__}>"


def _shorten(text: str, width: int = 60) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


# --------------------------------------------------------------------------------------------
# searchAreaWkt


@dataclass(frozen=True, slots=True)
class _Scan:
    """What the scanner learnt of a well-formed POLYGON text."""

    empty_at: int | None  # offset of EMPTY, if the polygon is empty
    point_offsets: tuple[int, ...]  # offset of each point, in the text's (and shapely's) order


class _WktError(InvalidInput):
    def __init__(self, offset: int, message: str, hint: str, code: str = "request.wkt-syntax"):
        self.problem = RequestProblem("searchAreaWkt", offset, message, hint, code)
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
            what = repr(_shorten(text, 20))
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
                f"coordinate {_shorten(text, 30)} is too large to be a finite number",
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


def _read_area(
    value: object, problems: list[RequestProblem], warned: list[RequestProblem]
) -> BaseGeometry | None:
    """The geometry to intersect, or None (with problems added) when there is none."""
    if value is None:
        return None
    field = "searchAreaWkt"
    if not isinstance(value, str):
        problems.append(
            RequestProblem(
                field,
                None,
                f"searchAreaWkt must be a string or null, not {_kind(value)}",
                _POLYGON_HINT,
                "request.not-a-string",
            )
        )
        return None
    if len(value) > MAX_WKT_LENGTH:
        problems.append(
            RequestProblem(
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
            RequestProblem(
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
            RequestProblem(
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
            RequestProblem(
                field, 0, f"not a usable WKT polygon: {exc}", _POLYGON_HINT, "request.wkt-syntax"
            )
        )
        return None
    if not isinstance(geometry, shapely.Polygon) or geometry.is_empty:
        kind = "empty" if geometry is None else geometry.geom_type
        problems.append(
            RequestProblem(
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
            RequestProblem(
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


def _check_range(polygon: BaseGeometry, scan: _Scan, problems: list[RequestProblem]) -> bool:
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
    problems.append(
        RequestProblem("searchAreaWkt", offset, message, hint, "request.wkt-out-of-range")
    )
    return False


def _settle(
    polygon: BaseGeometry, problems: list[RequestProblem], warned: list[RequestProblem]
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
                RequestProblem(
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
            RequestProblem(
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
# The other fields


def _read_date(
    name: str, value: object, problems: list[RequestProblem]
) -> tuple[str | None, str | None]:
    """The date as sent and its instant key, or (None, None)."""
    if value is None:
        return None, None
    if not isinstance(value, str):
        problems.append(
            RequestProblem(
                name,
                None,
                f"{name} must be a string or null, not {_kind(value)}",
                _DATE_HINT,
                "request.not-a-string",
            )
        )
        return None, None
    key = instant_key(value) if len(value) <= _MAX_DATE_LENGTH else None
    if key is None:
        problems.append(
            RequestProblem(
                name,
                0,
                f"{name} {_shorten(value, 40)!r} is not an ISO 8601 date or date-time",
                _DATE_HINT,
                "request.bad-date",
            )
        )
        return None, None
    return value, key


def _read_texts(
    name: str, value: object, problems: list[RequestProblem]
) -> list[tuple[int, str]] | None:
    """The (index, text) entries of a types/filters list; None when it is not one."""
    if value is None:
        return []
    example = '["Acquisition"]' if name == "types" else '["cloudCover < 20"]'
    if not isinstance(value, list | tuple):
        hint = f"send a list of strings such as {example}, or null"
        if isinstance(value, str):
            hint = f"wrap the text in a list: [{_shorten(value, 40)!r}]".replace("'", '"')
        problems.append(
            RequestProblem(
                name,
                None,
                f"{name} must be a list of strings or null, not {_kind(value)}",
                hint,
                "request.not-a-list",
            )
        )
        return None
    entries: list[tuple[int, str]] = []
    for i, item in enumerate(value):
        if isinstance(item, str):
            entries.append((i, item))
        else:
            problems.append(
                RequestProblem(
                    f"{name}[{i}]",
                    None,
                    f"{name}[{i}] must be a string, not {_kind(item)}",
                    f"send a list of strings such as {example}",
                    "request.not-a-string",
                )
            )
    return entries


def _problem(field: str, error: QueryError) -> RequestProblem:
    return RequestProblem(field, error.offset, error.message, error.hint, error.code)


def _read_limit(value: object, problems: list[RequestProblem], warned: list[RequestProblem]) -> int:
    """The limit that is served."""
    if value is None:
        return DEFAULT_LIMIT
    hint = f"send an integer from 1 to {MAX_LIMIT}, such as 100, or leave limit out"
    number: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, float) and math.isfinite(value) and value.is_integer():
        number = int(value)
    if number is None:
        what = repr(value) if isinstance(value, float) else _kind(value)
        problems.append(
            RequestProblem(
                "limit",
                None,
                f"limit must be an integer, not {what}",
                hint,
                "request.limit-type",
            )
        )
        return DEFAULT_LIMIT
    if number < 1:
        problems.append(
            RequestProblem("limit", None, "limit must be at least 1", hint, "request.limit-range")
        )
        return DEFAULT_LIMIT
    if number > MAX_LIMIT:
        shown = str(number) if number.bit_length() < 100 else "past 10^30"
        warned.append(
            RequestProblem(
                "limit",
                None,
                f"limit {shown} is served as {MAX_LIMIT}, the most one search returns",
                f"page through results with narrower searches (dates, area) to see more than "
                f"{MAX_LIMIT}",
                "request.limit-capped",
            )
        )
        return MAX_LIMIT
    return number


def _read_count_total(value: object, problems: list[RequestProblem]) -> bool:
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    problems.append(
        RequestProblem(
            "countTotal",
            None,
            f"countTotal must be true, false or null, not {_kind(value)}",
            'send "countTotal": true to get stats.totalMatched',
            "request.not-a-boolean",
        )
    )
    return False


def _unknown_field(key: object) -> RequestProblem:
    field = key if isinstance(key, str) else _safe_str(key)
    lowered = {known.lower(): known for known in KNOWN_FIELDS}
    close = difflib.get_close_matches(field[:100].lower(), list(lowered), n=1, cutoff=0.6)
    hint = (
        f"did you mean {lowered[close[0]]!r}?"
        if close
        else ("known fields: " + ", ".join(KNOWN_FIELDS))
    )
    return RequestProblem(
        field,
        None,
        f"unknown field {_shorten(field, 40)!r} is ignored",
        hint,
        "request.unknown-field",
    )


# --------------------------------------------------------------------------------------------
# The request


@dataclass(frozen=True, slots=True)
class SearchRequest:
    """A checked search request, ready for the engine (SPEC section 5).

    Build one with :meth:`from_dict` (a JSON body) or :meth:`build` (keyword arguments); both
    check every field the same way.

    Attributes:
        search_area_wkt: The WKT as sent, or None.
        area: The prepared shapely geometry to intersect: a Polygon (a MultiPolygon if an invalid
            polygon was repaired), or the Point or LineString a collapsed ring is; None for
            anywhere.
        start_date: ``startDate`` as sent, or None.
        end_date: ``endDate`` as sent, or None.
        start: The inclusive lower bound on ``properties.timestamp`` as an instant key
            (:func:`catalogql.semantics.instant_key`), or None.
        end: The inclusive upper bound, likewise.
        types: The type-expression texts, ANDed.
        filters: The filter texts, ANDed.
        type_nodes: ``parse_types`` of each type expression.
        filter_nodes: ``parse_filter`` of each filter.
        limit: The number of records served at most: 1 to 1000.
        count_total: Whether to add ``stats.totalMatched``.
        warnings: What was accepted but deserves a look (unknown fields, a capped limit,
            compatibility forms, ...), in the order of the fields.

    >>> SearchRequest.build(types=["WV02 OR WV03*"], limit=5)
    SearchRequest(types=['WV02 OR WV03*'], limit=5)
    """

    search_area_wkt: str | None
    area: BaseGeometry | None
    start_date: str | None
    end_date: str | None
    start: str | None
    end: str | None
    types: tuple[str, ...]
    filters: tuple[str, ...]
    type_nodes: tuple[Node, ...]
    filter_nodes: tuple[Node, ...]
    limit: int = DEFAULT_LIMIT
    count_total: bool = False
    warnings: tuple[RequestProblem, ...] = ()

    @classmethod
    def from_dict(
        cls,
        body: object,
        *,
        dialect: QueryDialect = "default",
        schema: Mapping[str, Any] | None = None,
        limits: Limits = DEFAULT_LIMITS,
    ) -> SearchRequest:
        """Check a JSON request body and return the request it asks for.

        Args:
            body: The decoded JSON body: an object with ``searchAreaWkt``, ``startDate``,
                ``endDate``, ``types``, ``filters``, ``limit`` and ``countTotal``, all optional.
            dialect: The filter dialect, ``"default"`` or ``"strict"``.
            schema: A queryables schema the filters are checked against, or None.
            limits: Input limits for each filter and type expression.

        Returns:
            The request, with its warnings.

        Raises:
            InvalidSearchRequest: Every problem of the body, each with field, offset, message,
                hint and code.
            QueryError: ``dialect`` or ``schema`` is unusable (a configuration error).

        >>> request = SearchRequest.from_dict({"searchAreaWkt": "POLYGON ((-105.27 40.01, "
        ...     "-105.27 40.01, -105.27 40.01, -105.27 40.01, -105.27 40.01))", "limit": 5000})
        >>> request.area.wkt, request.limit, [w.code for w in request.warnings]
        ('POINT (-105.27 40.01)', 1000, ['request.limit-capped'])
        >>> try:
        ...     SearchRequest.from_dict({"filters": ["cloudCover < 20 and x = 1"], "limit": -1})
        ... except InvalidSearchRequest as error:
        ...     [(e["field"], e["offset"], e["code"]) for e in error.errors]
        [('filters[0]', 16, 'syntax.lowercase-operator'), ('limit', None, 'request.limit-range')]
        """
        if dialect not in ("default", "strict"):
            raise QueryError(
                f"unknown dialect {dialect!r}",
                code="usage.dialect",
                hint="use dialect='default' or dialect='strict'",
            )
        if schema is not None:
            check_schema(schema)
        if not isinstance(body, Mapping):
            raise InvalidSearchRequest(
                [
                    RequestProblem(
                        "",
                        None,
                        f"the request body must be a JSON object, not {_kind(body)}",
                        'send an object such as {"types": ["Acquisition"]}',
                        "request.not-an-object",
                    )
                ]
            )
        problems: list[RequestProblem] = []
        warned: list[RequestProblem] = []

        wkt = body.get("searchAreaWkt")
        area = _read_area(wkt, problems, warned)
        start_date, start = _read_date("startDate", body.get("startDate"), problems)
        end_date, end = _read_date("endDate", body.get("endDate"), problems)
        if start is not None and end is not None and start > end:
            problems.append(
                RequestProblem(
                    "startDate",
                    None,
                    f"startDate {start_date} is after endDate {end_date}",
                    "swap the dates; both bounds are inclusive, so equal dates are fine",
                    "request.start-after-end",
                )
            )

        type_entries = _read_texts("types", body.get("types"), problems)
        type_nodes: list[Node] = []
        for i, text in type_entries or ():
            try:
                type_nodes.append(parse_types(text, limits=limits))
            except QueryError as error:
                problems.append(_problem(f"types[{i}]", error))

        filter_entries = _read_texts("filters", body.get("filters"), problems)
        filter_nodes: list[Node] = []
        for i, text in filter_entries or ():
            try:
                node, diagnostics = parse_filter_with_diagnostics(
                    text, dialect=dialect, schema=schema, limits=limits
                )
            except QueryError as error:
                problems.append(_problem(f"filters[{i}]", error))
                continue
            filter_nodes.append(node)
            for diag in diagnostics:
                hint = diag.hint
                if diag.rewrite is not None:
                    rewrite = f"canonical form: {diag.rewrite}"
                    hint = f"{hint}; {rewrite}" if hint else rewrite
                warned.append(
                    RequestProblem(f"filters[{i}]", diag.offset, diag.message, hint, diag.code)
                )

        limit = _read_limit(body.get("limit"), problems, warned)
        count_total = _read_count_total(body.get("countTotal"), problems)
        warned.extend(_unknown_field(key) for key in body if key not in KNOWN_FIELDS)

        if problems:
            raise InvalidSearchRequest(problems)
        return cls(
            search_area_wkt=wkt if isinstance(wkt, str) else None,
            area=area,
            start_date=start_date,
            end_date=end_date,
            start=start,
            end=end,
            types=tuple(text for _, text in type_entries or ()),
            filters=tuple(text for _, text in filter_entries or ()),
            type_nodes=tuple(type_nodes),
            filter_nodes=tuple(filter_nodes),
            limit=limit,
            count_total=count_total,
            warnings=tuple(warned),
        )

    @classmethod
    def build(
        cls,
        area: str | BaseGeometry | None = None,
        start_date: str | None = None,
        end_date: str | None = None,
        types: Sequence[str] | None = None,
        filters: Sequence[str] | None = None,
        limit: int | None = None,
        count_total: bool = False,
        *,
        dialect: QueryDialect = "default",
        schema: Mapping[str, Any] | None = None,
        limits: Limits = DEFAULT_LIMITS,
    ) -> SearchRequest:
        """A request from keyword arguments, checked exactly as :meth:`from_dict` checks a body.

        Args:
            area: WKT text, or a shapely Polygon (written as WKT at full precision), or None.
            start_date: ``startDate``.
            end_date: ``endDate``.
            types: Type expressions.
            filters: Filter strings.
            limit: ``limit`` (None for the default, 1000).
            count_total: ``countTotal``.
            dialect: See :meth:`from_dict`.
            schema: See :meth:`from_dict`.
            limits: See :meth:`from_dict`.

        Returns:
            The request.

        Raises:
            InvalidSearchRequest: As :meth:`from_dict`.

        >>> from shapely import box
        >>> SearchRequest.build(box(29.9, 9.9, 30.1, 10.1), filters=["cloudCover < 10"]).area.bounds
        (29.9, 9.9, 30.1, 10.1)
        """
        wkt: object = area
        if isinstance(area, BaseGeometry):
            wkt = shapely.to_wkt(area, rounding_precision=-1, trim=True)
        body: dict[str, Any] = {
            "searchAreaWkt": wkt,
            "startDate": start_date,
            "endDate": end_date,
            "types": list(types) if isinstance(types, list | tuple) else types,
            "filters": list(filters) if isinstance(filters, list | tuple) else filters,
            "limit": limit,
            "countTotal": count_total,
        }
        return cls.from_dict(body, dialect=dialect, schema=schema, limits=limits)

    def to_dict(self) -> dict[str, Any]:
        """The canonical JSON body; :meth:`from_dict` of it gives this request back.

        ``countTotal`` appears only when true.

        >>> SearchRequest.build(types=["Acquisition"], start_date="2014-01-01").to_dict()
        {'searchAreaWkt': None, 'startDate': '2014-01-01', 'endDate': None, 'types': ['Acquisition'], 'filters': [], 'limit': 1000}
        """  # noqa: E501
        body: dict[str, Any] = {
            "searchAreaWkt": self.search_area_wkt,
            "startDate": self.start_date,
            "endDate": self.end_date,
            "types": list(self.types),
            "filters": list(self.filters),
            "limit": self.limit,
        }
        if self.count_total:
            body["countTotal"] = True
        return body

    def __repr__(self) -> str:
        parts = []
        for key, value in self.to_dict().items():
            if value in (None, []) or (key == "limit" and value == DEFAULT_LIMIT):
                continue
            if key == "searchAreaWkt":
                value = _shorten(value)
            parts.append(f"{_SNAKE.get(key, key)}={value!r}")
        if self.warnings:
            parts.append(f"warnings={[w.code for w in self.warnings]!r}")
        return f"SearchRequest({', '.join(parts)})"


_SNAKE = {
    "searchAreaWkt": "search_area_wkt",
    "startDate": "start_date",
    "endDate": "end_date",
    "countTotal": "count_total",
}
