"""SPEC section 5, field by field: what a search request body may hold and what it means.

Tables of (body, expected request fields) and (body, expected problems: field, code, offset),
the recorded GBDX request bodies, then Hypothesis laws: a request survives ``to_dict`` and
``from_dict``, and no body whatever raises anything but InvalidSearchRequest.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import catalogql as cq
from catalogql.search.errors import InvalidSearchRequest, RequestProblem
from catalogql.search.request import MAX_WKT_LENGTH, SearchRequest
from catalogql.semantics import instant_key
from catalogql.testing import strategies as cqs
from property_settings import scaled

BOX = "POLYGON ((30.1 9.9, 30.1 10.1, 29.9 10.1, 29.9 9.9, 30.1 9.9))"
POINT_POLYGON = (
    "POLYGON ((-105.2705456 40.0149856, -105.2705456 40.0149856, -105.2705456 40.0149856, "
    "-105.2705456 40.0149856, -105.2705456 40.0149856))"
)
CHIP = (
    "POLYGON ((-105.00032901763916 39.91207173503864,-105.00032901763916 39.91310862390189,"
    "-104.99874114990234 39.91310862390189,-104.99874114990234 39.91207173503864,"
    "-105.00032901763916 39.91207173503864))"
)


def problems_of(body: object, **kwargs: Any) -> list[tuple[str, str, int | None]]:
    """The (field, code, offset) of each problem of a body that must be invalid."""
    with pytest.raises(InvalidSearchRequest) as caught:
        SearchRequest.from_dict(body, **kwargs)
    return [(p.field, p.code, p.offset) for p in caught.value.problems]


def warning_codes(request: SearchRequest) -> list[tuple[str, str]]:
    return [(w.field, w.code) for w in request.warnings]


# --------------------------------------------------------------------------------------------
# Valid bodies and what they mean


VALID: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    ("empty body: everything, 1000 at most", {}, {"area": None, "limit": 1000, "types": ()}),
    (
        "gbdx wkt_only",
        {"startDate": None, "endDate": None, "types": ["Acquisition"], "searchAreaWkt": BOX},
        {"start": None, "end": None, "types": ("Acquisition",), "search_area_wkt": BOX},
    ),
    (
        "gbdx point search: the collapsed ring is its point",
        {
            "startDate": None,
            "endDate": None,
            "types": ["Acquisition"],
            "searchAreaWkt": POINT_POLYGON,
        },
        {"area": shapely.Point(-105.2705456, 40.0149856)},
    ),
    (
        "gbdx idaho chip: no date keys at all",
        {
            "filters": ["catalogID = '10400100203F1300'"],
            "types": ["IDAHOImage"],
            "searchAreaWkt": CHIP,
        },
        {"filters": ("catalogID = '10400100203F1300'",), "start_date": None, "end_date": None},
    ),
    (
        "collinear ring is the line it spans",
        {"searchAreaWkt": "POLYGON ((0 0, 1 1, 2 2, 0 0))"},
        {"area": shapely.LineString([(0, 0), (2, 2)])},
    ),
    (
        "lowercase keyword and whitespace variants of WKT",
        {"searchAreaWkt": "polygon((0 0,1 0,1 1,0 0))\n"},
        {"area": shapely.Polygon([(0, 0), (1, 0), (1, 1), (0, 0)])},
    ),
    (
        "a polygon with a hole",
        {"searchAreaWkt": "POLYGON ((0 0, 10 0, 10 10, 0 10, 0 0), (2 2, 3 2, 3 3, 2 2))"},
        {"area": shapely.Polygon([(0, 0), (10, 0), (10, 10), (0, 10)], [[(2, 2), (3, 2), (3, 3)]])},
    ),
    (
        "coordinates at the edges of the range",
        {"searchAreaWkt": "POLYGON ((-180 -90, 180 -90, 180 90, -180 90, -180 -90))"},
        {"area": shapely.box(-180, -90, 180, 90).reverse().reverse()},
    ),
    (
        "date-time with millis and Z",
        {"startDate": "2008-01-01T00:00:00.000Z", "endDate": "2012-01-03T00:00:00.000Z"},
        {"start": "2008-01-01T00:00:00", "end": "2012-01-03T00:00:00"},
    ),
    (
        "date-time without fraction, with an offset",
        {"startDate": "2015-07-31T12:07:17+02:00", "endDate": "2015-07-31T10:07:17.5Z"},
        {"start": "2015-07-31T10:07:17", "end": "2015-07-31T10:07:17.5"},
    ),
    (
        "a start date alone is its day's midnight UTC",
        {"startDate": "2014-01-01"},
        {"start": "2014-01-01T00:00:00", "end": None, "start_date": "2014-01-01"},
    ),
    (
        "an end date alone covers its whole UTC day",
        {"startDate": "2014-12-31", "endDate": "2014-12-31"},
        {"start": "2014-12-31T00:00:00", "end": "2014-12-31T23:59:59~"},
    ),
    (
        "start == end is valid: both bounds are inclusive",
        {"startDate": "2014-01-01", "endDate": "2014-01-01T00:00:00Z"},
        {"start": "2014-01-01T00:00:00", "end": "2014-01-01T00:00:00"},
    ),
    ("types [] is no type filter", {"types": []}, {"types": (), "type_nodes": ()}),
    (
        "types null is no type filter",
        {"types": None, "filters": None},
        {"types": (), "filters": ()},
    ),
    (
        "type expressions are parsed",
        {"types": ["WV02 OR WV03*", "DigitalGlobeProduct"]},
        {"type_nodes": (cq.parse_types("WV02 OR WV03*"), cq.parse_types("DigitalGlobeProduct"))},
    ),
    (
        "filters are parsed",
        {"filters": ["cloudCover < 10", "sensorPlatformName = WORLDVIEW03*"]},
        {
            "filter_nodes": (
                cq.parse_filter("cloudCover < 10"),
                cq.parse_filter("sensorPlatformName = WORLDVIEW03*"),
            )
        },
    ),
    ("limit 1", {"limit": 1}, {"limit": 1}),
    ("limit 1000", {"limit": 1000}, {"limit": 1000}),
    ("limit null is 1000", {"limit": None}, {"limit": 1000}),
    ("an integral float counts as that integer", {"limit": 10.0}, {"limit": 10}),
    ("countTotal true", {"countTotal": True}, {"count_total": True}),
    ("countTotal false", {"countTotal": False}, {"count_total": False}),
    ("countTotal null", {"countTotal": None}, {"count_total": False}),
    ("a Python tuple of types", {"types": ("Acquisition",)}, {"types": ("Acquisition",)}),
]


@pytest.mark.parametrize(("body", "expected"), [c[1:] for c in VALID], ids=[c[0] for c in VALID])
def test_valid_body_means(body: dict[str, Any], expected: dict[str, Any]) -> None:
    request = SearchRequest.from_dict(body)
    for name, value in expected.items():
        got = getattr(request, name)
        if isinstance(value, shapely.Geometry):
            assert shapely.equals(got, value), (name, got)
            assert got.geom_type == value.geom_type
        else:
            assert got == value, name
    assert request.warnings == ()


def test_area_is_prepared() -> None:
    area = SearchRequest.from_dict({"searchAreaWkt": BOX}).area
    assert area is not None
    assert shapely.is_prepared(area)
    assert area.intersects(shapely.Point(30, 10))
    assert not area.intersects(shapely.Point(31, 10))


def test_recorded_gbdx_search_bodies_are_valid(gbdx_cases: list[dict[str, Any]]) -> None:
    bodies = [c["request"] for c in gbdx_cases if c["path"] == "/catalog/v2/search"]
    assert len(bodies) >= 10
    for body in bodies:
        request = SearchRequest.from_dict(body)
        assert request.warnings == (), body
        assert request.types
        if body.get("searchAreaWkt"):
            assert request.area is not None


# --------------------------------------------------------------------------------------------
# Invalid bodies: which field, which code, where


INVALID: list[tuple[str, object, list[tuple[str, str, int | None]]]] = [
    ("body a list", [], [("", "request.not-an-object", None)]),
    ("body a string", "types=Acquisition", [("", "request.not-an-object", None)]),
    ("body null", None, [("", "request.not-an-object", None)]),
    (
        "MULTIPOLYGON",
        {"searchAreaWkt": "MULTIPOLYGON (((0 0, 1 0, 1 1, 0 0)))"},
        [("searchAreaWkt", "request.wkt-not-a-polygon", 0)],
    ),
    (
        "POINT",
        {"searchAreaWkt": "POINT (1 2)"},
        [("searchAreaWkt", "request.wkt-not-a-polygon", 0)],
    ),
    (
        "LINESTRING",
        {"searchAreaWkt": "LINESTRING (1 2, 3 4)"},
        [("searchAreaWkt", "request.wkt-not-a-polygon", 0)],
    ),
    (
        "GEOMETRYCOLLECTION",
        {"searchAreaWkt": "GEOMETRYCOLLECTION (POLYGON ((0 0, 1 0, 1 1, 0 0)))"},
        [("searchAreaWkt", "request.wkt-not-a-polygon", 0)],
    ),
    (
        "longitude out of range",
        {"searchAreaWkt": "POLYGON ((0 0, 200 0, 1 1, 0 0))"},
        [("searchAreaWkt", "request.wkt-out-of-range", 15)],
    ),
    (
        "latitude out of range",
        {"searchAreaWkt": "POLYGON ((0 0, 1 0, 1 -90.5, 0 0))"},
        [("searchAreaWkt", "request.wkt-out-of-range", 20)],
    ),
    (
        "infinite coordinate",
        {"searchAreaWkt": "POLYGON ((1e400 0, 1 0, 1 1, 1e400 0))"},
        [("searchAreaWkt", "request.wkt-not-finite", 10)],
    ),
    (
        "nan coordinate",
        {"searchAreaWkt": "POLYGON ((0 0, nan 0, 1 1, 0 0))"},
        [("searchAreaWkt", "request.wkt-not-finite", 15)],
    ),
    (
        "empty polygon",
        {"searchAreaWkt": "POLYGON EMPTY"},
        [("searchAreaWkt", "request.wkt-empty", 8)],
    ),
    ("blank WKT", {"searchAreaWkt": "  "}, [("searchAreaWkt", "request.wkt-syntax", 0)]),
    (
        "unclosed paren",
        {"searchAreaWkt": "POLYGON ((0 0, 1 0, 1 1, 0 0)"},
        [("searchAreaWkt", "request.wkt-syntax", 29)],
    ),
    (
        "text after",
        {"searchAreaWkt": BOX + " x"},
        [("searchAreaWkt", "request.wkt-syntax", len(BOX) + 1)],
    ),
    (
        "text after a NUL, which GEOS would ignore",
        {"searchAreaWkt": BOX + "\x00junk"},
        [("searchAreaWkt", "request.wkt-syntax", len(BOX))],
    ),
    ("not WKT", {"searchAreaWkt": "hello"}, [("searchAreaWkt", "request.wkt-syntax", 0)]),
    (
        "EWKT prefix",
        {"searchAreaWkt": "SRID=4326;" + BOX},
        [("searchAreaWkt", "request.wkt-syntax", 0)],
    ),
    (
        "ring not closed",
        {"searchAreaWkt": "POLYGON ((0 0, 1 0, 1 1, 0 1))"},
        [("searchAreaWkt", "request.wkt-ring", 9)],
    ),
    (
        "ring of three points",
        {"searchAreaWkt": "POLYGON ((0 0, 1 0, 0 0))"},
        [("searchAreaWkt", "request.wkt-ring", 9)],
    ),
    (
        "mixed dimensions",
        {"searchAreaWkt": "POLYGON ((0 0, 1 0 5, 1 1, 0 0))"},
        [("searchAreaWkt", "request.wkt-syntax", 15)],
    ),
    (
        "hexadecimal number",
        {"searchAreaWkt": "POLYGON ((0x1 0, 1 0, 1 1, 0x1 0))"},
        [("searchAreaWkt", "request.wkt-syntax", 10)],
    ),
    (
        "a hole equal to its shell leaves nothing",
        {"searchAreaWkt": "POLYGON ((0 0, 1 0, 1 1, 0 1, 0 0), (0 0, 1 0, 1 1, 0 1, 0 0))"},
        [("searchAreaWkt", "request.wkt-invalid", 0)],
    ),
    ("WKT a number", {"searchAreaWkt": 5}, [("searchAreaWkt", "request.not-a-string", None)]),
    (
        "WKT too long",
        {"searchAreaWkt": "POLYGON ((" + "0" * MAX_WKT_LENGTH + "))"},
        [("searchAreaWkt", "request.wkt-too-long", MAX_WKT_LENGTH)],
    ),
    ("startDate not a date", {"startDate": "yesterday"}, [("startDate", "request.bad-date", 0)]),
    ("endDate a number", {"endDate": 20140101}, [("endDate", "request.not-a-string", None)]),
    ("impossible date", {"startDate": "2014-02-30"}, [("startDate", "request.bad-date", 0)]),
    (
        "very long date",
        {"endDate": "2014-01-01T00:00:00." + "0" * 1000 + "Z"},
        [("endDate", "request.bad-date", 0)],
    ),
    (
        "start after end",
        {"startDate": "2014-01-02", "endDate": "2014-01-01T23:59:59.999Z"},
        [("startDate", "request.start-after-end", None)],
    ),
    ("types a bare string", {"types": "Acquisition"}, [("types", "request.not-a-list", None)]),
    ("types an object", {"types": {"Acquisition": 1}}, [("types", "request.not-a-list", None)]),
    (
        "types with a number",
        {"types": ["Acquisition", 7]},
        [("types[1]", "request.not-a-string", None)],
    ),
    ("a bad type expression", {"types": ["WV02 AND"]}, [("types[0]", "syntax.unexpected-end", 8)]),
    (
        "filters a bare string",
        {"filters": "cloudCover < 10"},
        [("filters", "request.not-a-list", None)],
    ),
    ("filters a number", {"filters": 3}, [("filters", "request.not-a-list", None)]),
    ("filters with null", {"filters": [None]}, [("filters[0]", "request.not-a-string", None)]),
    (
        "lowercase and",
        {"filters": ["cloudCover < 10", "cloudCover < 20 and offNadirAngle < 10"]},
        [("filters[1]", "syntax.lowercase-operator", 16)],
    ),
    (
        "wildcard with <",
        {"filters": ["cloudCover < 2*"]},
        [
            (
                "filters[0]",
                cq.check("cloudCover < 2*")[0].code,
                cq.check("cloudCover < 2*")[0].offset,
            )
        ],
    ),
    ("limit 0", {"limit": 0}, [("limit", "request.limit-range", None)]),
    ("limit -1", {"limit": -1}, [("limit", "request.limit-range", None)]),
    ("limit a string", {"limit": "10"}, [("limit", "request.limit-type", None)]),
    ("limit true", {"limit": True}, [("limit", "request.limit-type", None)]),
    ("limit a fraction", {"limit": 10.5}, [("limit", "request.limit-type", None)]),
    ("limit NaN", {"limit": math.nan}, [("limit", "request.limit-type", None)]),
    ("limit infinity", {"limit": math.inf}, [("limit", "request.limit-type", None)]),
    (
        "countTotal a string",
        {"countTotal": "true"},
        [("countTotal", "request.not-a-boolean", None)],
    ),
    ("countTotal 1", {"countTotal": 1}, [("countTotal", "request.not-a-boolean", None)]),
]


@pytest.mark.parametrize(
    ("body", "expected"), [c[1:] for c in INVALID], ids=[c[0] for c in INVALID]
)
def test_invalid_body_problems(body: object, expected: list[tuple[str, str, int | None]]) -> None:
    assert problems_of(body) == expected


def test_every_problem_is_listed_at_once() -> None:
    body = {
        "searchAreaWkt": "MULTIPOLYGON (((0 0, 1 0, 1 1, 0 0)))",
        "startDate": 5,
        "endDate": "yesterday",
        "types": "Acquisition",
        "filters": ["a = 1", 3, "b = 1 and c = 2"],
        "limit": 0,
        "countTotal": "yes",
        "searchAreaWKT": BOX,
    }
    with pytest.raises(InvalidSearchRequest) as caught:
        SearchRequest.from_dict(body)
    assert [(e["field"], e["code"]) for e in caught.value.errors] == [
        ("searchAreaWkt", "request.wkt-not-a-polygon"),
        ("startDate", "request.not-a-string"),
        ("endDate", "request.bad-date"),
        ("types", "request.not-a-list"),
        ("filters[1]", "request.not-a-string"),
        ("filters[2]", "syntax.lowercase-operator"),
        ("limit", "request.limit-range"),
        ("countTotal", "request.not-a-boolean"),
    ]
    for error in caught.value.errors:
        assert set(error) == {"field", "offset", "message", "hint", "code"}
        assert error["message"] and error["hint"]
    body400 = caught.value.to_body()
    assert body400["status"] == "400 Bad Request"
    assert body400["message"].startswith("Invalid Search Request. searchAreaWkt: ")


@pytest.mark.parametrize(
    ("wkt", "words"),
    [
        ("MULTIPOLYGON (((0 0, 1 0, 1 1, 0 0)))", ("MULTIPOLYGON", "split")),
        ("POINT (1 2)", ("POINT", "repeat")),
        ("POLYGON ((40 100, 41 100, 41 101, 40 100))", ("latitude 100.0", "lon lat")),
        ("POLYGON ((0 0, 200 0, 1 1, 0 0))", ("longitude 200.0", "")),
    ],
)
def test_wkt_messages_name_what_was_found(wkt: str, words: tuple[str, str]) -> None:
    with pytest.raises(InvalidSearchRequest) as caught:
        SearchRequest.from_dict({"searchAreaWkt": wkt})
    (problem,) = caught.value.problems
    assert words[0] in problem.message
    assert words[1] in problem.hint


def test_lowercase_and_says_operators_are_uppercase() -> None:
    with pytest.raises(InvalidSearchRequest) as caught:
        SearchRequest.from_dict({"filters": ["cloudCover < 20 and offNadirAngle < 10"]})
    (problem,) = caught.value.problems
    assert "uppercase" in problem.message
    assert "AND" in problem.hint


def test_bad_dialect_or_schema_is_a_configuration_error() -> None:
    with pytest.raises(cq.QueryError) as caught:
        SearchRequest.from_dict({}, dialect="loose")  # type: ignore[arg-type]
    assert not isinstance(caught.value, InvalidSearchRequest)
    with pytest.raises(cq.QueryError):
        SearchRequest.from_dict({}, schema={"properties": {"a": "x"}})


def test_schema_and_strict_dialect_apply_to_filters() -> None:
    schema = {"properties": {"cloudCover": {"type": "integer"}}}
    assert problems_of({"filters": ["cloudCovr < 10"]}, schema=schema)[0][0] == "filters[0]"
    assert SearchRequest.from_dict({"filters": ["cloudCover < 10"]}, schema=schema).filters
    assert problems_of({"filters": ["x LIKE 'A%'"]}, dialect="strict")[0][0] == "filters[0]"


def test_limits_apply_to_each_expression() -> None:
    limits = cq.Limits(max_length=10)
    assert problems_of({"types": ["A", "B" * 11]}, limits=limits) == [
        ("types[1]", "limit.length", 10)
    ]


# --------------------------------------------------------------------------------------------
# Warnings: accepted, but reported


WARNED: list[tuple[str, dict[str, Any], list[tuple[str, str]]]] = [
    ("limit above 1000", {"limit": 1001}, [("limit", "request.limit-capped")]),
    ("a huge limit", {"limit": 10**5000}, [("limit", "request.limit-capped")]),
    ("LIKE compatibility form", {"filters": ["x LIKE 'A%'"]}, [("filters[0]", "compat.like")]),
    ("comma compatibility form", {"filters": ["a < 1, b > 2"]}, [("filters[0]", "compat.comma")]),
    (
        "Z values dropped",
        {"searchAreaWkt": "POLYGON Z ((0 0 1, 1 0 1, 1 1 1, 0 0 1))"},
        [("searchAreaWkt", "request.wkt-dimensions")],
    ),
    (
        "self-intersecting polygon repaired",
        {"searchAreaWkt": "POLYGON ((0 0, 1 1, 1 0, 0 1, 0 0))"},
        [("searchAreaWkt", "request.wkt-repaired")],
    ),
    ("unknown field", {"foo": 1}, [("foo", "request.unknown-field")]),
    (
        "unknown fields in order",
        {"searchAreaWKT": BOX, "startdate": "2014-01-01", "filter": ["a = 1"]},
        [
            ("searchAreaWKT", "request.unknown-field"),
            ("startdate", "request.unknown-field"),
            ("filter", "request.unknown-field"),
        ],
    ),
]


@pytest.mark.parametrize(("body", "expected"), [c[1:] for c in WARNED], ids=[c[0] for c in WARNED])
def test_warned_body(body: dict[str, Any], expected: list[tuple[str, str]]) -> None:
    assert warning_codes(SearchRequest.from_dict(body)) == expected


def test_capped_limit_is_served_as_1000() -> None:
    assert SearchRequest.from_dict({"limit": 1001}).limit == 1000


def test_z_values_are_dropped_from_the_area() -> None:
    area = SearchRequest.from_dict({"searchAreaWkt": "POLYGON ((0 0 1, 1 0 1, 1 1 1, 0 0 1))"}).area
    assert area is not None and not shapely.has_z(area)


def test_repaired_polygon_covers_both_lobes() -> None:
    area = SearchRequest.from_dict({"searchAreaWkt": "POLYGON ((0 0, 1 1, 1 0, 0 1, 0 0))"}).area
    assert area is not None and area.geom_type == "MultiPolygon"
    assert area.intersects(shapely.Point(0.1, 0.5)) and area.intersects(shapely.Point(0.9, 0.5))


@pytest.mark.parametrize(
    ("key", "suggestion"),
    [
        ("searchAreaWKT", "searchAreaWkt"),
        ("startdate", "startDate"),
        ("end_date", "endDate"),
        ("filter", "filters"),
        ("type", "types"),
        ("counttotal", "countTotal"),
    ],
)
def test_unknown_field_did_you_mean(key: str, suggestion: str) -> None:
    (warning,) = SearchRequest.from_dict({key: None}).warnings
    assert warning == RequestProblem(
        key, None, warning.message, f"did you mean {suggestion!r}?", "request.unknown-field"
    )


def test_filter_warning_carries_offset_and_rewrite() -> None:
    (warning,) = SearchRequest.from_dict(
        {"filters": ["cloudCover < 20, offNadirAngle < 10"]}
    ).warnings
    assert warning.offset == 15
    assert "cloudCover < 20 AND offNadirAngle < 10" in warning.hint


def test_filter_warning_does_not_reach_python_warnings() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        SearchRequest.from_dict({"filters": ["x LIKE 'A%'"]})


# --------------------------------------------------------------------------------------------
# build, to_dict, repr


def test_build_goes_through_the_same_checks() -> None:
    request = SearchRequest.build(
        area=BOX, start_date="2014-01-01", types=["Acquisition"], limit=5, count_total=True
    )
    assert request == SearchRequest.from_dict(
        {
            "searchAreaWkt": BOX,
            "startDate": "2014-01-01",
            "types": ["Acquisition"],
            "limit": 5,
            "countTotal": True,
        }
    )
    with pytest.raises(InvalidSearchRequest):
        SearchRequest.build(limit=0)


def test_build_takes_a_shapely_polygon_at_full_precision() -> None:
    polygon = shapely.box(-105.00032901763916, 39.91207173503864, -104.99874114990234, 39.913)
    area = SearchRequest.build(area=polygon).area
    assert area is not None and shapely.equals_exact(area, polygon, tolerance=0)


def test_to_dict_is_the_canonical_body() -> None:
    request = SearchRequest.from_dict({"types": None, "limit": 5000, "countTotal": False})
    assert request.to_dict() == {
        "searchAreaWkt": None,
        "startDate": None,
        "endDate": None,
        "types": [],
        "filters": [],
        "limit": 1000,
    }
    assert SearchRequest.build(count_total=True).to_dict()["countTotal"] is True


def test_repr_is_short() -> None:
    wkt = "POLYGON ((" + ", ".join(f"{i} 0" for i in range(50)) + ", 0 1, 0 0))"
    text = repr(SearchRequest.from_dict({"searchAreaWkt": wkt, "countTotal": True}))
    assert len(text) < 150
    assert "count_total=True" in text


def test_requests_are_hashable_values() -> None:
    a = SearchRequest.from_dict({"searchAreaWkt": BOX, "types": ["Acquisition"]})
    b = SearchRequest.from_dict({"searchAreaWkt": BOX, "types": ["Acquisition"]})
    assert a == b and hash(a) == hash(b)
    assert len({a, b}) == 1


# --------------------------------------------------------------------------------------------
# Laws

WKTS = [
    BOX,
    POINT_POLYGON,
    CHIP,
    "POLYGON ((0 0, 1 1, 2 2, 0 0))",
    "POLYGON ((0 0, 10 0, 10 10, 0 10, 0 0), (2 2, 3 2, 3 3, 2 2))",
    "POLYGON ((0 0, 1 1, 1 0, 0 1, 0 0))",
    "POLYGON Z ((0 0 1, 1 0 1, 1 1 1, 0 0 1))",
]
DATES = [
    "2008-01-01T00:00:00.000Z",
    "2012-01-01",
    "2015-07-31T12:07:17+02:00",
    "2015-07-31T10:07:17.5Z",
    "1999-12-31T23:59:59Z",
]


@st.composite
def _boxes(draw: st.DrawFn) -> str:
    lon = draw(st.floats(-180, 179))
    lat = draw(st.floats(-90, 89))
    w = draw(st.floats(0, 1))
    h = draw(st.floats(0, 1))
    return shapely.to_wkt(shapely.box(lon, lat, lon + w, lat + h), rounding_precision=-1)


@st.composite
def valid_bodies(draw: st.DrawFn) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if draw(st.booleans()):
        body["searchAreaWkt"] = draw(st.sampled_from(WKTS) | _boxes() | st.none())
    dates = sorted(draw(st.lists(st.sampled_from(DATES), max_size=2)), key=instant_key)
    if dates:
        body["startDate"] = dates[0]
        body["endDate"] = dates[-1]
    if draw(st.booleans()):
        body["types"] = draw(st.lists(cqs.type_texts(max_leaves=3), max_size=3))
    if draw(st.booleans()):
        body["filters"] = draw(st.lists(cqs.filter_texts(max_leaves=3), max_size=3))
    if draw(st.booleans()):
        body["limit"] = draw(st.integers(1, 5000) | st.none())
    if draw(st.booleans()):
        body["countTotal"] = draw(st.booleans() | st.none())
    return body


@settings(max_examples=scaled(150), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(valid_bodies())
def test_to_dict_then_from_dict_is_identity(body: dict[str, Any]) -> None:
    request = SearchRequest.from_dict(body)
    again = SearchRequest.from_dict(request.to_dict())
    assert replace(again, warnings=()) == replace(request, warnings=())
    assert again.to_dict() == request.to_dict()


JSON_ISH = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.sampled_from((10**400, -(10**400), 2**63))
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=10,
)
KNOWN = ("searchAreaWkt", "startDate", "endDate", "types", "filters", "limit", "countTotal")
FIELD_VALUES = (
    JSON_ISH
    | cqs.json_values(allow_nan=True)
    | st.sampled_from(WKTS + DATES)
    | cqs.mutated_texts(st.sampled_from(WKTS))
    | cqs.mutated_texts(st.sampled_from(DATES))
    | st.lists(cqs.mutated_texts(cqs.filter_texts(max_leaves=3)), max_size=3)
    | st.lists(cqs.mutated_texts(cqs.type_texts(max_leaves=3)), max_size=3)
)


def _only_catalogql_errors(body: object) -> None:
    try:
        request = SearchRequest.from_dict(body)
    except InvalidSearchRequest as error:
        assert error.problems
        for problem in error.problems:
            assert isinstance(problem.message, str) and problem.message
            assert problem.offset is None or problem.offset >= 0
        str(error)
        error.to_body()
    else:
        assert 1 <= request.limit <= 1000
        assert request.area is None or request.area.geom_type in (
            "Polygon",
            "MultiPolygon",
            "Point",
            "LineString",
        )
        repr(request)


@settings(max_examples=scaled(300), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(JSON_ISH | cqs.json_values(allow_nan=True))
def test_any_json_value_is_a_request_or_invalid(body: object) -> None:
    _only_catalogql_errors(body)


@settings(max_examples=scaled(400), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from(KNOWN) | st.text(max_size=15), FIELD_VALUES, max_size=8))
def test_any_body_with_known_keys_is_a_request_or_invalid(body: dict[str, Any]) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # not even a RuntimeWarning from numpy or GEOS
        _only_catalogql_errors(body)


@settings(max_examples=scaled(200), deadline=None)
@given(cqs.mutated_texts(st.sampled_from(WKTS), max_mutations=4))
def test_wkt_errors_point_into_the_text(wkt: str) -> None:
    try:
        SearchRequest.from_dict({"searchAreaWkt": wkt})
    except InvalidSearchRequest as error:
        (problem,) = error.problems
        assert problem.field == "searchAreaWkt"
        assert problem.code.startswith("request.wkt")
        assert problem.offset is not None and 0 <= problem.offset <= len(wkt)


EXTREME: dict[str, Mapping[Any, Any]] = {
    "10,000 types": {"types": ["A"] * 10_000},
    "100,000 parentheses in a filter": {"filters": ["(" * 100_000 + "a = 1" + ")" * 100_000]},
    "nested lists as a type": {"types": [[[[[[[[[[[[[[["deep"]]]]]]]]]]]]]]]},
    "100,000 parentheses in WKT": {
        "searchAreaWkt": "POLYGON " + "(" * 100_000 + "0 0" + ")" * 100_000
    },
    "deep collection WKT": {"searchAreaWkt": "GEOMETRYCOLLECTION " + "(" * 100_000},
    "a megabyte date": {"startDate": "9" * 1_000_000},
    "a megabyte key": {"x" * 1_000_000: 1},
    "odd keys": {10**5000: 1, None: 2, (1, 2): 3},
    "a huge negative limit": {"limit": -(10**5000)},
    "limit 1e308": {"limit": 1e308},
    "a 400-digit coordinate": {"searchAreaWkt": "POLYGON ((" + "1" * 400 + " 0, 1 0, 1 1, 0 0))"},
}


@pytest.mark.parametrize("body", list(EXTREME.values()), ids=list(EXTREME))
def test_extreme_inputs_are_answered(body: Mapping[Any, Any]) -> None:
    _only_catalogql_errors(body)


def test_deeply_nested_body_value() -> None:
    value: Any = "x"
    for _ in range(10_000):
        value = [value]
    _only_catalogql_errors({"types": value, "filters": [value], "limit": value})
