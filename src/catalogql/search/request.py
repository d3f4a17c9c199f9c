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
('2008-01-01T00:00:00', '2012-01-03T23:59:59~', 1000)
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
  a MultiPolygon. If nothing polygonal is left, the polygon is an error with that reason. Repair
  costs time and memory with the number of edge crossings, so a polygon whose edges cross more
  than :data:`~catalogql.search.geometry.MAX_REPAIR_CROSSINGS` times is refused
  (``request.wkt-too-complex``, with a hint to split the area or fix its self-intersections);
  validity is checked first (fast), and crossings are counted only for an invalid polygon,
  stopping at the budget.
* **The antimeridian.** A ring whose consecutive longitudes step by more than 180 degrees
  crosses it (RFC 7946): the area is split at +-180 into a MultiPolygon, with a warning
  ``request.wkt-antimeridian`` (see :func:`~catalogql.search.geometry.settle_polygonal`). A
  step from -180 to 180 exactly is not a crossing (the whole world's box).
* **Coordinates out of range**: one error (``request.wkt-out-of-range``) positioned at the first
  offending point, counting the others; when swapping that point's numbers would fix it, the
  hint says that WKT is longitude first.
* **Dates** follow :func:`catalogql.semantics.instant_key`, which also accepts a space for ``T``,
  a lowercase ``z``, ``+hhmm`` offsets and any number of fractional digits. Text longer than
  100 characters is not a date. ``start == end`` is valid (both bounds are inclusive). A date
  alone (``2014-12-31``) covers its whole UTC day (SPEC section 5): as ``startDate`` its key is
  the day's first instant, as ``endDate`` it is :func:`day_end_key`, which sorts after every
  instant of that day, to any number of fractional digits, and before the next day.
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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import shapely
from shapely.geometry.base import BaseGeometry

from catalogql.ast import Node, walk
from catalogql.compile.parse import parse_filter_with_diagnostics
from catalogql.errors import Problem
from catalogql.queryables import check_schema
from catalogql.semantics import instant_key
from catalogql.syntax.errors import QueryError
from catalogql.syntax.parser import (
    DEFAULT_LIMITS,
    Limits,
    QueryDialect,
    parse_types,
)

from .describe import json_kind, safe_str, shorten
from .errors import InvalidSearchRequest, RequestTooLarge
from .geometry import MAX_WKT_LENGTH, read_area

__all__ = ["DEFAULT_LIMIT", "MAX_LIMIT", "MAX_WKT_LENGTH", "SearchRequest", "day_end_key"]

MAX_LIMIT = 1000
"""The most records one search returns; a larger ``limit`` is served as this."""

DEFAULT_LIMIT = 1000
"""The ``limit`` of a request that does not send one."""

_MAX_DATE_LENGTH = 100

KNOWN_FIELDS = ("searchAreaWkt", "startDate", "endDate", "types", "filters", "limit", "countTotal")

_DATE_HINT = (
    'write an ISO 8601 date-time such as "2014-01-01T00:00:00.000Z" (Z or an offset such as '
    '+02:00), a date such as "2014-01-01" (its whole UTC day), or null for an open bound'
)

_DATE_ALONE_LENGTH = len("2014-12-31")

DAY_END = "T23:59:59~"
"""What follows a day in :func:`day_end_key`: ``~`` sorts after ``.`` and every digit."""


def day_end_key(key: str) -> str:
    """The inclusive upper bound that covers the whole UTC day of an instant key.

    Instant keys compare as text (:func:`catalogql.semantics.instant_key`); this bound is above
    every key of that day, however many fractional digits it has, and below the next day's.

    >>> end = day_end_key("2014-12-31T00:00:00")
    >>> end
    '2014-12-31T23:59:59~'
    >>> "2014-12-31T23:59:59.999999999" <= end < "2015-01-01T00:00:00"
    True
    """
    return key[:_DATE_ALONE_LENGTH] + DAY_END


# --------------------------------------------------------------------------------------------
# The other fields


def _read_date(name: str, value: object, problems: list[Problem]) -> tuple[str | None, str | None]:
    """The date as sent and its instant key, or (None, None)."""
    if value is None:
        return None, None
    if not isinstance(value, str):
        problems.append(
            Problem(
                name,
                None,
                f"{name} must be a string or null, not {json_kind(value)}",
                _DATE_HINT,
                "request.not-a-string",
            )
        )
        return None, None
    key = instant_key(value) if len(value) <= _MAX_DATE_LENGTH else None
    if key is None:
        problems.append(
            Problem(
                name,
                0,
                f"{name} {shorten(value, 40)!r} is not an ISO 8601 date or date-time",
                _DATE_HINT,
                "request.bad-date",
            )
        )
        return None, None
    if name == "endDate" and len(value) == _DATE_ALONE_LENGTH:  # a date alone: its whole day
        key = day_end_key(key)
    return value, key


def _read_texts(name: str, value: object, problems: list[Problem]) -> list[tuple[int, str]] | None:
    """The (index, text) entries of a types/filters list; None when it is not one."""
    if value is None:
        return []
    example = '["Acquisition"]' if name == "types" else '["cloudCover < 20"]'
    if not isinstance(value, list | tuple):
        hint = f"send a list of strings such as {example}, or null"
        if isinstance(value, str):
            hint = f"wrap the text in a list: [{shorten(value, 40)!r}]".replace("'", '"')
        problems.append(
            Problem(
                name,
                None,
                f"{name} must be a list of strings or null, not {json_kind(value)}",
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
                Problem(
                    f"{name}[{i}]",
                    None,
                    f"{name}[{i}] must be a string, not {json_kind(item)}",
                    f"send a list of strings such as {example}",
                    "request.not-a-string",
                )
            )
    return entries


def _problem(field: str, error: QueryError) -> Problem:
    return Problem(field, error.offset, error.message, error.hint, error.code)


class _ComparisonBudget:
    """The comparisons of one request counted against its limit, entry by entry."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.count = 0

    def spend(self, field: str, node: Node) -> None:
        """Count ``node``'s comparisons (its leaves); past the limit, raise for ``field``."""
        self.count += sum(1 for part in walk(node) if not part.children())
        if self.count > self.limit:
            raise RequestTooLarge(field, self.count, self.limit)


def _read_limit(value: object, problems: list[Problem], warned: list[Problem]) -> int:
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
        what = repr(value) if isinstance(value, float) else json_kind(value)
        problems.append(
            Problem(
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
            Problem("limit", None, "limit must be at least 1", hint, "request.limit-range")
        )
        return DEFAULT_LIMIT
    if number > MAX_LIMIT:
        shown = str(number) if number.bit_length() < 100 else "past 10^30"
        warned.append(
            Problem(
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


def _read_count_total(value: object, problems: list[Problem]) -> bool:
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    problems.append(
        Problem(
            "countTotal",
            None,
            f"countTotal must be true, false or null, not {json_kind(value)}",
            'send "countTotal": true to get stats.totalMatched',
            "request.not-a-boolean",
        )
    )
    return False


def _unknown_field(key: object) -> Problem:
    field = key if isinstance(key, str) else safe_str(key)
    lowered = {known.lower(): known for known in KNOWN_FIELDS}
    close = difflib.get_close_matches(field[:100].lower(), list(lowered), n=1, cutoff=0.6)
    hint = (
        f"did you mean {lowered[close[0]]!r}?"
        if close
        else ("known fields: " + ", ".join(KNOWN_FIELDS))
    )
    return Problem(
        field,
        None,
        f"unknown field {shorten(field, 40)!r} is ignored",
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
        end: The inclusive upper bound, likewise; for a date alone, :func:`day_end_key` of it
            (the whole day is included).
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
    warnings: tuple[Problem, ...] = ()

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
            RequestTooLarge: The filters and type expressions hold more comparisons in all than
                ``limits.max_request_comparisons`` (413; raised as soon as the count passes it,
                so the rest of the request is not parsed).
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
                    Problem(
                        "",
                        None,
                        f"the request body must be a JSON object, not {json_kind(body)}",
                        'send an object such as {"types": ["Acquisition"]}',
                        "request.not-an-object",
                    )
                ]
            )
        problems: list[Problem] = []
        warned: list[Problem] = []

        wkt = body.get("searchAreaWkt")
        area = read_area(wkt, problems, warned)
        start_date, start = _read_date("startDate", body.get("startDate"), problems)
        end_date, end = _read_date("endDate", body.get("endDate"), problems)
        if start is not None and end is not None and start > end:
            problems.append(
                Problem(
                    "startDate",
                    None,
                    f"startDate {start_date} is after endDate {end_date}",
                    "swap the dates; both bounds are inclusive, so equal dates are fine",
                    "request.start-after-end",
                )
            )

        budget = _ComparisonBudget(limits.max_request_comparisons)
        type_entries = _read_texts("types", body.get("types"), problems)
        type_nodes: list[Node] = []
        for i, text in type_entries or ():
            try:
                type_nodes.append(parse_types(text, limits=limits))
            except QueryError as error:
                problems.append(_problem(f"types[{i}]", error))
                continue
            budget.spend(f"types[{i}]", type_nodes[-1])

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
            budget.spend(f"filters[{i}]", node)
            for diag in diagnostics:
                hint = diag.hint
                if diag.rewrite is not None:
                    rewrite = f"canonical form: {diag.rewrite}"
                    hint = f"{hint}; {rewrite}" if hint else rewrite
                warned.append(Problem(f"filters[{i}]", diag.offset, diag.summary, hint, diag.code))

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
                value = shorten(value)
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
