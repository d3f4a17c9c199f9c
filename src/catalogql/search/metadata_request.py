"""The bodies of the Descartes Metadata ``POST /search`` and ``POST /summary``, checked.

:meth:`MetadataSearchRequest.from_dict` reads the body the ``descarteslabs`` 1.12.1 client sends
(WIRE.md section 4) and returns the pieces a search engine needs: one filter AST (the
``query_expr`` AND the cloud, fill, satellite, storage and date conditions), the products (type
labels), the area, the sort and the page size; or it raises
:class:`~catalogql.search.errors.InvalidSearchRequest` listing every problem, each named by the
field as it is on the wire (``geom.coordinates[0][2]``, ``query_expr.and[0].range.x.lt``).
Nothing else is raised for any body (a ``query_expr`` past the parser's limits is the 413
:class:`~catalogql.QueryLimitError`, ``{"eq": {"x": null}}`` the 422
:class:`~catalogql.Inexpressible`, as :mod:`catalogql.syntax.qexpr` says).

Descartes names and record properties (the one table, :data:`IMAGE_PROPERTIES`): an image's
search record stores ``acquired`` as ``timestamp`` and ``cloud_fraction`` as ``cloudCover`` =
100 x cloud_fraction (SPEC section 7); every other Descartes name (``processed``,
``fill_fraction``, ``cloud_fraction_0``, ``sat_id``, ``storage_state``, ``product``, ``key``,
the user's own properties) is stored under its own name. ``query_expr``, ``date``,
``sort_field`` and the condition fields all go through the table.

What the wire leaves open, decided here:

* ``limit`` (search only) is the page size: an integer from 1; above :data:`MAX_PAGE` (10,000) it
  is served as 10,000 with a warning; default :data:`DEFAULT_PAGE` (100, the client's default).
* ``date`` is one of :data:`DATE_FIELDS` (default ``acquired``); ``start_datetime`` and
  ``end_datetime`` (both inclusive) are ISO 8601 texts in any of the forms
  :func:`catalogql.semantics.instant_key` reads (a missing zone is UTC); a date alone as
  ``end_datetime`` covers its whole UTC day, as the GBDX search does. On ``acquired`` the bounds
  are also given as :attr:`start`/:attr:`end` instant keys (the time index); on every date field
  they are conditions in :attr:`filter` (the date-named ``timestamp`` compares as instants; the
  service should store the other date fields as ISO 8601 UTC text, which compares as text).
* ``cloud_fraction`` and ``cloud_fraction_0`` are inclusive maxima, ``fill_fraction`` an
  inclusive minimum, each a number from 0 to 1; an image without the property does not match.
* ``products`` and ``sat_ids``: a list of strings, or one string (wrapped); any of them matches.
* ``storage_state``: ``available``, ``remote`` or ``any`` (no condition).
* ``geom``: a GeoJSON geometry (or Feature) object, GeoJSON text, or WKT text: Polygon,
  MultiPolygon, Point, LineString and their multi forms, in lon/lat; an invalid polygon is
  repaired with a warning (as ``searchAreaWkt`` is); a POLYGON in WKT is read by the GBDX
  area scanner, so its mistakes carry their offset.
* ``sort_field`` (default ``acquired``) and ``sort_order`` (``asc`` default, or ``desc``); ties
  break on the identifier, ascending. ``random_seed`` (an integer) asks for a random order
  instead, the same for the same seed.
* ``fields`` (a list of strings, possibly empty) and ``continuation_token`` (a string, opaque
  here) are carried as sent.
* ``interval`` (summary only): ``year``/``y``, ``quarter``/``q``, ``month``/``M``,
  ``week``/``w``, ``day``/``d``, ``hour``/``h``, ``minute``/``m`` or ``product``, given back in
  its long form; ``pixels`` (summary only) is a boolean.
* A field of the other endpoint, and any unknown field, is a warning (``request.unknown-field``).

>>> request = MetadataSearchRequest.from_dict({"date": "acquired", "limit": 10,
...     "products": "ns:wiretest", "start_datetime": "2020-01-01", "end_datetime": "2020-12-31",
...     "query_expr": {"and": [{"range": {"cloud_fraction": {"lt": 0.2}}}]}})
>>> request.products, request.start, request.end, request.limit
(('ns:wiretest',), '2020-01-01T00:00:00', '2020-12-31T23:59:59~', 10)
>>> from catalogql import to_gbdx
>>> to_gbdx(request.filter)
"cloudCover < 20.0 AND timestamp >= '2020-01-01T00:00:00' AND timestamp < '2021-01-01T00:00:00'"
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from catalogql.ast import (
    PROPERTY_RE,
    And,
    Comparison,
    LiteralKind,
    Node,
    Op,
    Or,
    unchecked_literal,
)
from catalogql.errors import Problem
from catalogql.semantics import instant_key
from catalogql.syntax.errors import Inexpressible, QueryError, QueryLimitError
from catalogql.syntax.parser import DEFAULT_LIMITS, Limits
from catalogql.syntax.qexpr import QueryAlias, load_json_guarded, parse_query_expr

from .describe import json_kind, safe_str, shorten
from .errors import InvalidSearchRequest
from .geometry import MAX_WKT_LENGTH, read_area
from .request import day_end_key

__all__ = [
    "DATE_FIELDS",
    "DEFAULT_PAGE",
    "IMAGE_PROPERTIES",
    "INTERVALS",
    "MAX_PAGE",
    "MetadataSearchRequest",
    "record_property",
]

IMAGE_PROPERTIES: dict[str, QueryAlias] = {
    "acquired": QueryAlias("timestamp"),
    "cloud_fraction": QueryAlias("cloudCover", 100),
}
"""Descartes image field -> the search record's property (and the factor on its values).

The one table: a Descartes name not in it is the record property of the same name.
"""

DATE_FIELDS = ("acquired", "processed", "published", "created", "modified")
"""The fields ``date`` may name."""

INTERVALS: dict[str, str] = {
    "year": "year",
    "y": "year",
    "quarter": "quarter",
    "q": "quarter",
    "month": "month",
    "M": "month",
    "week": "week",
    "w": "week",
    "day": "day",
    "d": "day",
    "hour": "hour",
    "h": "hour",
    "minute": "minute",
    "m": "minute",
    "product": "product",
}
"""``interval`` values of a summary, to their long form."""

MAX_PAGE = 10_000
"""The largest page a search serves; a larger ``limit`` is served as this."""

DEFAULT_PAGE = 100
"""The page size of a search body without ``limit`` (the client's default)."""

MAX_GEOJSON_POINTS = 100_000
"""The most positions a GeoJSON ``geom`` may have."""

SEARCH_FIELDS = (
    "date",
    "limit",
    "sat_ids",
    "products",
    "geom",
    "start_datetime",
    "end_datetime",
    "cloud_fraction",
    "cloud_fraction_0",
    "fill_fraction",
    "storage_state",
    "fields",
    "query_expr",
    "sort_field",
    "sort_order",
    "random_seed",
    "continuation_token",
)
SUMMARY_FIELDS = (
    "sat_ids",
    "products",
    "date",
    "interval",
    "geom",
    "start_datetime",
    "end_datetime",
    "cloud_fraction",
    "cloud_fraction_0",
    "fill_fraction",
    "query_expr",
    "pixels",
    "storage_state",
)
STORAGE_STATES = ("available", "remote", "any")

_DATE_HINT = (
    'send an ISO 8601 date-time such as "2020-01-01T00:00:00Z" (no zone means UTC) or a date '
    'such as "2020-01-01" (its whole UTC day), or leave the field out'
)
_GEOM_HINT = (
    'send a GeoJSON geometry such as {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], '
    "[1, 1], [0, 0]]]}, its JSON text, or WKT text such as POLYGON ((0 0, 1 0, 1 1, 0 0))"
)
_GEOJSON_DEPTH = {
    "Point": 1,
    "MultiPoint": 2,
    "LineString": 2,
    "Polygon": 3,
    "MultiLineString": 3,
    "MultiPolygon": 4,
}


def record_property(name: str) -> str:
    """The search record's property for a Descartes field name (:data:`IMAGE_PROPERTIES`).

    >>> record_property("acquired"), record_property("sat_id")
    ('timestamp', 'sat_id')
    """
    alias = IMAGE_PROPERTIES.get(name)
    return alias.property if alias is not None else name


def _problem(field: str, message: str, hint: str, code: str, offset: int | None = None) -> Problem:
    return Problem(field, offset, message, hint, code)


def _number(name: str, value: object, problems: list[Problem], low: float, high: float) -> str:
    """The text of a number field in [low, high], or "" (with a problem)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        problems.append(
            _problem(
                name,
                f"{name} must be a number, not {json_kind(value)}",
                f"send a number from {low:g} to {high:g}, or leave {name} out",
                "request.not-a-number",
            )
        )
        return ""
    if (isinstance(value, float) and not math.isfinite(value)) or not low <= value <= high:
        problems.append(
            _problem(
                name,
                f"{name} {safe_str(value)} is outside [{low:g}, {high:g}]",
                f"send a number from {low:g} to {high:g}",
                "request.out-of-range",
            )
        )
        return ""
    return repr(value) if isinstance(value, float) else str(value)


def _strings(name: str, value: object, problems: list[Problem], wrap: bool) -> tuple[str, ...]:
    """A list of strings (one string wrapped when ``wrap``), or () with problems."""
    if isinstance(value, str) and wrap:
        value = [value]
    if not isinstance(value, list | tuple):
        problems.append(
            _problem(
                name,
                f"{name} must be a list of strings, not {json_kind(value)}",
                f'send a list such as ["a", "b"], or leave {name} out',
                "request.not-a-list",
            )
        )
        return ()
    out: list[str] = []
    for i, item in enumerate(value):
        if not isinstance(item, str) or not item:
            problems.append(
                _problem(
                    f"{name}[{i}]",
                    f"{name}[{i}] must be a non-empty string, not {json_kind(item)}",
                    f"send a list of strings such as {json.dumps([name[:-1] + '-1'])}",
                    "request.not-a-string",
                )
            )
        else:
            out.append(item)
    return tuple(out)


def _choice(name: str, value: object, choices: Sequence[str], problems: list[Problem]) -> str:
    if isinstance(value, str) and value in choices:
        return value
    shown = shorten(value, 30) if isinstance(value, str) else json_kind(value)
    close = (
        difflib.get_close_matches(value[:40], list(choices), n=1) if isinstance(value, str) else []
    )
    hint = (f"did you mean {close[0]!r}? " if close else "") + "one of " + ", ".join(choices)
    problems.append(_problem(name, f"{name} {shown!r} is not known", hint, "request.bad-choice"))
    return ""


def _date(name: str, value: object, problems: list[Problem]) -> tuple[str | None, bool]:
    """The instant key of a date field and whether it was a date alone."""
    if not isinstance(value, str):
        problems.append(
            _problem(
                name,
                f"{name} must be a string, not {json_kind(value)}",
                _DATE_HINT,
                "request.not-a-string",
            )
        )
        return None, False
    text = value.strip()
    key = instant_key(text) if len(text) <= 100 else None
    if key is None:
        problems.append(
            _problem(
                name,
                f"{name} {shorten(value, 40)!r} is not an ISO 8601 date or date-time",
                _DATE_HINT,
                "request.bad-date",
                0,
            )
        )
        return None, False
    return key, len(text) == len("2020-01-01")


def _next_day(key: str) -> str | None:
    """The first instant of the UTC day after the day of ``key``, or None after year 9999."""
    try:
        day = datetime.strptime(key[:10], "%Y-%m-%d") + timedelta(days=1)
    except (ValueError, OverflowError):
        return None
    return f"{day.year:04d}-{day.month:02d}-{day.day:02d}T00:00:00"


def _integer(name: str, value: object, problems: list[Problem]) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    problems.append(
        _problem(
            name,
            f"{name} must be an integer, not {value!r}"
            if isinstance(value, float)
            else f"{name} must be an integer, not {json_kind(value)}",
            f"send an integer such as 42, or leave {name} out",
            "request.not-an-integer",
        )
    )
    return None


# --------------------------------------------------------------------------------------------
# geom


def _rename_area_problem(problem: Problem) -> Problem:
    return dataclasses.replace(
        problem,
        field="geom",
        message=problem.message.replace("searchAreaWkt", "geom"),
        hint=problem.hint.replace("searchAreaWkt", "geom"),
    )


def _positions(coords: object, depth: int, path: str, problems: list[Problem]) -> int:
    """Check nested coordinate lists ``depth`` levels deep (explicit stack); count positions."""
    count = 0
    stack: list[tuple[object, int, str]] = [(coords, depth, path)]
    while stack:
        value, level, where = stack.pop()
        if not isinstance(value, list | tuple):
            problems.append(
                _problem(
                    where,
                    f"{where} must be a list, not {json_kind(value)}",
                    _GEOM_HINT,
                    "request.geojson",
                )
            )
            return count
        if level == 1:
            count += 1
            ok = 2 <= len(value) <= 3 and all(
                isinstance(n, int | float) and not isinstance(n, bool) and math.isfinite(n)
                for n in value
            )
            if not ok:
                problems.append(
                    _problem(
                        where,
                        f"{where} must be a position [lon, lat], not "
                        f"{shorten(safe_str(value), 40)}",
                        "write each position as two finite numbers, longitude first",
                        "request.geojson",
                    )
                )
                return count
            lon, lat = value[0], value[1]
            if abs(lon) > 180 or abs(lat) > 90:
                swap = abs(lat) <= 180 and abs(lon) <= 90
                problems.append(
                    _problem(
                        where,
                        f"{where} [{lon}, {lat}] is outside lon [-180, 180], lat [-90, 90]",
                        "GeoJSON puts the longitude first: [lon, lat]"
                        if swap
                        else "coordinates are lon/lat degrees (EPSG:4326)",
                        "request.geom-out-of-range",
                    )
                )
                return count
            if count > MAX_GEOJSON_POINTS:
                problems.append(
                    _problem(
                        path,
                        f"geom has more than {MAX_GEOJSON_POINTS} positions",
                        "simplify the geometry (fewer points)",
                        "request.geom-too-large",
                    )
                )
                return count
            continue
        if level == 2 and depth in (3, 4) and len(value) < 4:
            problems.append(
                _problem(
                    where,
                    f"{where}: a ring needs at least 4 positions, not {len(value)}",
                    "close each ring: its last position repeats its first",
                    "request.geojson",
                )
            )
            return count
        stack.extend(
            (item, level - 1, f"{where}[{i}]") for i, item in reversed(list(enumerate(value)))
        )
    return count


def _read_geojson(
    value: Mapping[Any, Any], problems: list[Problem], warned: list[Problem]
) -> BaseGeometry | None:
    field = "geom"
    if value.get("type") == "Feature":
        value = value.get("geometry")  # type: ignore[assignment]
        field = "geom.geometry"
        if not isinstance(value, Mapping):
            problems.append(
                _problem(field, "the Feature has no geometry object", _GEOM_HINT, "request.geojson")
            )
            return None
    kind = value.get("type")
    depth = _GEOJSON_DEPTH.get(kind) if isinstance(kind, str) else None
    if depth is None:
        problems.append(
            _problem(
                f"{field}.type",
                f"geom type {shorten(safe_str(kind), 30)} is not a GeoJSON geometry searched here",
                "use Polygon, MultiPolygon, Point, MultiPoint, LineString or MultiLineString",
                "request.geojson-type",
            )
        )
        return None
    before = len(problems)
    _positions(value.get("coordinates"), depth, f"{field}.coordinates", problems)
    if len(problems) > before:
        return None
    try:
        with np.errstate(all="ignore"):
            geometry = shapely.geometry.shape({"type": kind, "coordinates": value["coordinates"]})
    except Exception as exc:  # shapely/GEOS refusals of what the checks let through
        problems.append(
            _problem(field, f"not a usable geometry: {exc}", _GEOM_HINT, "request.geojson")
        )
        return None
    return _settle(geometry, field, problems, warned)


def _settle(
    geometry: BaseGeometry, field: str, problems: list[Problem], warned: list[Problem]
) -> BaseGeometry | None:
    if geometry.is_empty:
        problems.append(_problem(field, "geom is empty", _GEOM_HINT, "request.geom-empty"))
        return None
    if shapely.has_z(geometry):
        geometry = shapely.force_2d(geometry)
    if isinstance(geometry, shapely.Polygon | shapely.MultiPolygon) and not geometry.is_valid:
        reason = shapely.is_valid_reason(geometry)
        repaired = shapely.make_valid(geometry, method="structure", keep_collapsed=False)
        if repaired.is_empty:
            problems.append(
                _problem(
                    field,
                    f"the polygon is invalid and encloses nothing: {reason}",
                    "draw each ring once around the area, without crossing itself",
                    "request.geom-invalid",
                )
            )
            return None
        warned.append(
            _problem(
                field,
                f"the polygon is invalid ({reason}); it was repaired",
                "draw each ring once around the area, without crossing itself",
                "request.geom-repaired",
            )
        )
        geometry = repaired
    shapely.prepare(geometry)
    return geometry


def read_geom(value: object, problems: list[Problem], warned: list[Problem]) -> BaseGeometry | None:
    """The area of a ``geom`` field: GeoJSON object, GeoJSON text or WKT text; None if absent.

    Args:
        value: ``geom`` as sent.
        problems: Where each error is added.
        warned: Where each warning is added.

    Returns:
        The prepared geometry, or None (no area, or after an error).

    >>> problems = []
    >>> read_geom('{"type": "Point", "coordinates": [10, 20]}', problems, []).wkt
    'POINT (10 20)'
    >>> read_geom({"type": "Point", "coordinates": [20, 100]}, problems, []), problems[0].field
    (None, 'geom.coordinates')
    """
    if value is None:
        return None
    if isinstance(value, Mapping):
        return _read_geojson(value, problems, warned)
    if not isinstance(value, str):
        problems.append(
            _problem(
                "geom",
                f"geom must be a GeoJSON object or text, or WKT text, not {json_kind(value)}",
                _GEOM_HINT,
                "request.geom-type",
            )
        )
        return None
    text = value.strip()
    if text.startswith("{"):
        try:
            decoded = load_json_guarded(text, field="geom", max_depth=16, max_length=MAX_WKT_LENGTH)
        except QueryError as error:
            problems.append(dataclasses.replace(error.problems[0], line=None, column=None))
            return None
        if not isinstance(decoded, Mapping):  # pragma: no cover - text starting with { is one
            problems.append(
                _problem("geom", "geom is not a JSON object", _GEOM_HINT, "request.geojson")
            )
            return None
        return _read_geojson(decoded, problems, warned)
    mine: list[Problem] = []
    mine_warned: list[Problem] = []
    area = read_area(value, mine, mine_warned)
    warned.extend(_rename_area_problem(p) for p in mine_warned)
    if mine and mine[0].code == "request.wkt-not-a-polygon":  # another WKT type: read it whole
        try:
            with np.errstate(all="ignore"):
                geometry = shapely.from_wkt(value)
        except Exception:  # the scanner found it well-formed; GEOS may still refuse
            geometry = None
        if geometry is not None and not isinstance(geometry, shapely.GeometryCollection):
            kind = geometry.geom_type
            if kind in _GEOJSON_DEPTH:
                coords = shapely.get_coordinates(geometry)
                if (
                    not np.isfinite(coords).all()
                    or (np.abs(coords[:, 0]) > 180).any()
                    or (np.abs(coords[:, 1]) > 90).any()
                ):
                    problems.append(
                        _problem(
                            "geom",
                            "a coordinate of geom is outside lon [-180, 180], lat [-90, 90]",
                            "WKT puts the longitude first: lon lat",
                            "request.geom-out-of-range",
                        )
                    )
                    return None
                return _settle(geometry, "geom", problems, warned)
    problems.extend(_rename_area_problem(p) for p in mine)
    return area


# --------------------------------------------------------------------------------------------
# The request


def _cmp(prop: str, op: Op, text: str, kind: LiteralKind = LiteralKind.NUMBER) -> Comparison:
    return Comparison(prop, op, unchecked_literal(text, kind))


def _scaled(name: str, text: str) -> str:
    alias = IMAGE_PROPERTIES.get(name)
    if alias is None or alias.scale == 1:
        return text
    from decimal import Decimal, localcontext

    with localcontext() as context:
        context.prec = len(text) + 20
        return str(Decimal(text) * alias.scale)


@dataclass(frozen=True, slots=True)
class MetadataSearchRequest:
    """A checked Metadata ``/search`` or ``/summary`` body, as pieces for an engine.

    Attributes:
        kind: ``"search"`` or ``"summary"``.
        filter: Every property condition ANDed (``query_expr``, cloud and fill bounds,
            ``sat_ids``, ``storage_state``, the dates), over record properties
            (:data:`IMAGE_PROPERTIES`); None when there is none.
        query_expr: The ``query_expr`` alone, parsed (None without one).
        products: Product ids; a record matches when it carries one of them as a type label
            (empty: every product the caller may read).
        area: The prepared geometry a footprint must intersect, or None.
        date: The Descartes date field the bounds apply to.
        date_property: Its record property.
        start: The inclusive lower bound as an instant key, or None.
        end: The inclusive upper bound as an instant key (a date alone: its day's end), or None.
        sort_field: The Descartes field to sort on.
        sort_property: Its record property.
        descending: Whether the sort is descending (ties: identifier ascending).
        random_seed: A seed for a random order instead of the sort, or None.
        limit: The page size (search), 1 to :data:`MAX_PAGE`; None for a summary.
        fields: The ``fields`` as sent, or None.
        continuation_token: The token as sent, or None.
        interval: The summary interval in its long form, or None.
        pixels: Whether the summary counts pixels.
        warnings: What was accepted but deserves a look (unknown fields, a capped limit, ...).

    >>> MetadataSearchRequest.from_dict({"products": ["p"], "date": "acquired"},
    ...                                 kind="summary").interval is None
    True
    """

    kind: Literal["search", "summary"]
    filter: Node | None
    query_expr: Node | None
    products: tuple[str, ...]
    area: BaseGeometry | None
    date: str
    date_property: str
    start: str | None
    end: str | None
    sort_field: str
    sort_property: str
    descending: bool
    random_seed: int | None
    limit: int | None
    fields: tuple[str, ...] | None
    continuation_token: str | None
    interval: str | None
    pixels: bool
    warnings: tuple[Problem, ...]

    @classmethod
    def from_dict(
        cls,
        body: object,
        *,
        kind: Literal["search", "summary"] = "search",
        limits: Limits = DEFAULT_LIMITS,
    ) -> MetadataSearchRequest:
        """Check a Metadata ``/search`` (or ``/summary``) body.

        Args:
            body: The decoded JSON body (an object).
            kind: ``"search"`` or ``"summary"``: which endpoint's fields are known.
            limits: The limits of the ``query_expr`` (the filter parser's).

        Returns:
            The request, with its warnings.

        Raises:
            InvalidSearchRequest: Every problem of the body (400), each with its wire field.
            QueryLimitError: ``query_expr`` past a limit (413), its field the JSON path.
            Inexpressible: ``query_expr`` asks for what the filter AST cannot hold (422), and
                the body has no other problem.
            UsageError: ``kind`` or ``limits`` is not one of the accepted values.

        >>> request = MetadataSearchRequest.from_dict({"limit": 20000, "sort_order": "desc",
        ...     "geom": "POLYGON ((0 0, 1 0, 1 1, 0 0))", "cloud_fraction": 0.5, "x": 1})
        >>> request.limit, request.descending, request.area.area, [w.code for w in request.warnings]
        (10000, True, 0.5, ['request.limit-capped', 'request.unknown-field'])
        >>> try:
        ...     MetadataSearchRequest.from_dict({"limit": 0, "date": "acqired"})
        ... except InvalidSearchRequest as error:
        ...     [(p.field, p.code) for p in error.problems]
        [('date', 'request.bad-choice'), ('limit', 'request.limit-range')]
        """
        from catalogql.errors import argument_error

        if kind not in ("search", "summary"):
            raise argument_error(
                "MetadataSearchRequest.from_dict", "kind", kind, "'search' or 'summary'"
            )
        if not isinstance(limits, Limits):
            raise argument_error(
                "MetadataSearchRequest.from_dict", "limits", limits, "a catalogql.Limits"
            )
        if not isinstance(body, Mapping):
            raise InvalidSearchRequest(
                [
                    _problem(
                        "",
                        f"the request body must be a JSON object, not {json_kind(body)}",
                        'send an object such as {"products": ["<product id>"], "limit": 10}',
                        "request.not-an-object",
                    )
                ]
            )
        known = SEARCH_FIELDS if kind == "search" else SUMMARY_FIELDS
        problems: list[Problem] = []
        warned: list[Problem] = []
        conditions: list[Node] = []

        def get(name: str) -> object:
            return body.get(name) if name in known else None

        # date and its bounds
        date = "acquired"
        if get("date") is not None:
            date = _choice("date", get("date"), DATE_FIELDS, problems) or "acquired"
        date_property = record_property(date)
        start = end = None
        if get("start_datetime") is not None:
            start, _ = _date("start_datetime", get("start_datetime"), problems)
        end_cut: tuple[Op, str] | None = None
        if get("end_datetime") is not None:
            end, alone = _date("end_datetime", get("end_datetime"), problems)
            if end is not None:
                following = _next_day(end) if alone else None
                if alone:
                    end = day_end_key(end)
                if following is not None:
                    end_cut = (Op.LT, following)
                else:  # a date alone on the calendar's last day, or an instant: inclusive
                    end_cut = (Op.LE, end[:10] + "T23:59:59.999999999" if alone else end)
        if start is not None and end is not None and start > end:
            problems.append(
                _problem(
                    "start_datetime",
                    f"start_datetime is after end_datetime ({start} > {end})",
                    "swap them; both bounds are inclusive",
                    "request.start-after-end",
                )
            )

        # products and the other lists
        products = (
            _strings("products", get("products"), problems, wrap=True)
            if get("products") is not None
            else ()
        )
        sat_ids = (
            _strings("sat_ids", get("sat_ids"), problems, wrap=True)
            if get("sat_ids") is not None
            else ()
        )
        fields: tuple[str, ...] | None = None
        if get("fields") is not None:
            fields = _strings("fields", get("fields"), problems, wrap=False)

        area = read_geom(get("geom"), problems, warned)

        # query_expr
        query_node: Node | None = None
        deferred: QueryError | None = None
        if get("query_expr") is not None:
            try:
                query_node = parse_query_expr(
                    get("query_expr"), limits=limits, field="query_expr", aliases=IMAGE_PROPERTIES
                )
            except QueryLimitError:
                raise
            except Inexpressible as error:
                deferred = error
                problems.append(error.problems[0])
            except QueryError as error:
                problems.append(error.problems[0])
        if query_node is not None:
            conditions.append(query_node)

        # the bounds of the condition fields
        for name, op in (
            ("cloud_fraction", Op.LE),
            ("cloud_fraction_0", Op.LE),
            ("fill_fraction", Op.GE),
        ):
            if get(name) is not None:
                text = _number(name, get(name), problems, 0.0, 1.0)
                if text:
                    conditions.append(_cmp(record_property(name), op, _scaled(name, text)))
        if sat_ids:
            items = [_cmp("sat_id", Op.EQ, s, LiteralKind.QUOTED) for s in sat_ids]
            conditions.append(items[0] if len(items) == 1 else Or(tuple(items)))
        if get("storage_state") is not None:
            state = _choice("storage_state", get("storage_state"), STORAGE_STATES, problems)
            if state and state != "any":
                conditions.append(_cmp("storage_state", Op.EQ, state, LiteralKind.QUOTED))
        if start is not None:
            conditions.append(_cmp(date_property, Op.GE, start, LiteralKind.QUOTED))
        if end_cut is not None:
            conditions.append(_cmp(date_property, end_cut[0], end_cut[1], LiteralKind.QUOTED))

        # sort and page
        sort_field = "acquired"
        if get("sort_field") is not None:
            value = get("sort_field")
            if isinstance(value, str) and PROPERTY_RE.fullmatch(value):
                sort_field = value
            else:
                problems.append(
                    _problem(
                        "sort_field",
                        f"sort_field must be a field name, not {shorten(safe_str(value), 30)}",
                        'send a field such as "acquired" or "cloud_fraction"',
                        "request.bad-sort-field",
                    )
                )
        descending = False
        if get("sort_order") is not None:
            descending = (
                _choice("sort_order", get("sort_order"), ("asc", "desc"), problems) == "desc"
            )
        random_seed = None
        if get("random_seed") is not None:
            random_seed = _integer("random_seed", get("random_seed"), problems)
        limit: int | None = None
        if kind == "search":
            limit = DEFAULT_PAGE
            if get("limit") is not None:
                number = _integer("limit", get("limit"), problems)
                if number is not None and number < 1:
                    problems.append(
                        _problem(
                            "limit",
                            "limit must be at least 1",
                            f"send a page size from 1 to {MAX_PAGE}",
                            "request.limit-range",
                        )
                    )
                elif number is not None and number > MAX_PAGE:
                    warned.append(
                        _problem(
                            "limit",
                            f"limit {number if number.bit_length() < 100 else 'past 10^30'} is "
                            f"served as {MAX_PAGE}, the largest page",
                            "page with the continuation token to see more",
                            "request.limit-capped",
                        )
                    )
                    limit = MAX_PAGE
                elif number is not None:
                    limit = number
        token = get("continuation_token")
        if token is not None and not isinstance(token, str):
            problems.append(
                _problem(
                    "continuation_token",
                    f"continuation_token must be a string, not {json_kind(token)}",
                    "send back the X-Continuation-Token header of the previous page as it is",
                    "request.not-a-string",
                )
            )
            token = None
        interval = None
        if get("interval") is not None:
            interval = INTERVALS.get(
                _choice("interval", get("interval"), list(INTERVALS), problems)
            )
        pixels = False
        if get("pixels") is not None:
            if isinstance(get("pixels"), bool):
                pixels = bool(get("pixels"))
            else:
                problems.append(
                    _problem(
                        "pixels",
                        f"pixels must be true or false, not {json_kind(get('pixels'))}",
                        "send true to count pixels",
                        "request.not-a-boolean",
                    )
                )
        for key in body:
            if key not in known:
                warned.append(_unknown_field(key, known, kind))

        if problems:
            if deferred is not None and len(problems) == 1:
                raise deferred
            raise InvalidSearchRequest(problems)
        node: Node | None = None
        if conditions:
            node = conditions[0] if len(conditions) == 1 else And(tuple(conditions))
        return cls(
            kind=kind,
            filter=node,
            query_expr=query_node,
            products=products,
            area=area,
            date=date,
            date_property=date_property,
            start=start,
            end=end,
            sort_field=sort_field,
            sort_property=record_property(sort_field),
            descending=descending,
            random_seed=random_seed,
            limit=limit,
            fields=fields,
            continuation_token=token if isinstance(token, str) else None,
            interval=interval,
            pixels=pixels,
            warnings=tuple(warned),
        )


def _unknown_field(key: object, known: Sequence[str], kind: str) -> Problem:
    field = key if isinstance(key, str) else safe_str(key)
    other = SUMMARY_FIELDS if kind == "search" else SEARCH_FIELDS
    if field in other:
        hint = f"{field} belongs to the {'summary' if kind == 'search' else 'search'} request"
    else:
        close = difflib.get_close_matches(field[:60], list(known), n=1, cutoff=0.6)
        hint = f"did you mean {close[0]!r}?" if close else "known fields: " + ", ".join(known)
    return _problem(
        field, f"unknown field {shorten(field, 40)!r} is ignored", hint, "request.unknown-field"
    )
