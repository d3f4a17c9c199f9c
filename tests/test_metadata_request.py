"""The Descartes Metadata ``/search`` and ``/summary`` bodies (``MetadataSearchRequest``)."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import catalogql as cq
from catalogql.ast import Comparison, LiteralKind, Op
from catalogql.errors import CatalogqlError
from catalogql.search.errors import InvalidSearchRequest
from catalogql.search.metadata_request import (
    DEFAULT_PAGE,
    MAX_PAGE,
    MetadataSearchRequest,
    read_geom,
)
from conftest import SHARED_DIR, require_shared
from property_settings import scaled

PID = "ab1a00c82b5e0cc5bf3bf2b8013ebcad8f1f7db1:wiretest"
SQUARE = {
    "type": "Polygon",
    "coordinates": [
        [[-105.5, 39.5], [-104.5, 39.5], [-104.5, 40.5], [-105.5, 40.5], [-105.5, 39.5]]
    ],
}


def problems_of(body: object, kind: str = "search") -> list[tuple[str, str]]:
    with pytest.raises(InvalidSearchRequest) as info:
        MetadataSearchRequest.from_dict(body, kind=kind)  # type: ignore[arg-type]
    for problem in info.value.problems:
        assert problem.hint and problem.message, problem
    return [(p.field, p.code) for p in info.value.problems]


def keep(request: MetadataSearchRequest) -> Any:
    assert request.filter is not None
    return cq.compile_predicate(request.filter)


def image(**properties: Any) -> dict[str, Any]:
    return properties


# --------------------------------------------------------------------------------------------
# Each field


def test_defaults() -> None:
    request = MetadataSearchRequest.from_dict({})
    assert request.filter is None and request.products == () and request.area is None
    assert (request.date, request.date_property, request.start, request.end) == (
        "acquired",
        "timestamp",
        None,
        None,
    )
    assert (request.sort_field, request.sort_property, request.descending) == (
        "acquired",
        "timestamp",
        False,
    )
    assert request.limit == DEFAULT_PAGE and request.random_seed is None and request.fields is None
    assert MetadataSearchRequest.from_dict({}, kind="summary").limit is None


def test_limit() -> None:
    assert MetadataSearchRequest.from_dict({"limit": 1}).limit == 1
    assert MetadataSearchRequest.from_dict({"limit": 10_000}).limit == 10_000
    assert MetadataSearchRequest.from_dict({"limit": 5.0}).limit == 5
    capped = MetadataSearchRequest.from_dict({"limit": 10**40})
    assert capped.limit == MAX_PAGE and capped.warnings[0].code == "request.limit-capped"
    for bad in (0, -1, 1.5, "10", True, float("inf"), [10]):
        assert problems_of({"limit": bad})[0][0] == "limit"
    # a summary has no limit: it is an unknown field there
    summary = MetadataSearchRequest.from_dict({"limit": 5}, kind="summary")
    assert summary.limit is None and summary.warnings[0].code == "request.unknown-field"
    assert "search request" in summary.warnings[0].hint


def test_date_field_and_bounds() -> None:
    request = MetadataSearchRequest.from_dict(
        {"start_datetime": "2020-01-01", "end_datetime": "2020-12-31"}
    )
    assert (request.start, request.end) == ("2020-01-01T00:00:00", "2020-12-31T23:59:59~")
    test = keep(request)
    assert test(image(timestamp="2020-12-31T23:59:59.999Z"))
    assert test(image(timestamp="2020-01-01T00:00:00Z"))
    assert not test(image(timestamp="2021-01-01T00:00:00Z"))
    assert not test(image(timestamp="2019-12-31T23:59:59.9Z"))
    assert not test(image())
    # a zone is honoured, none means UTC, any common ISO form
    request = MetadataSearchRequest.from_dict(
        {"start_datetime": "2020-01-01 10:00:00+02:00", "end_datetime": "2020-01-01T12:00"}
    )
    assert (request.start, request.end) == ("2020-01-01T08:00:00", "2020-01-01T12:00:00")
    processed = MetadataSearchRequest.from_dict(
        {"date": "processed", "start_datetime": "2020-01-01"}
    )
    assert processed.date_property == "processed"
    assert processed.filter == Comparison(
        "processed", Op.GE, cq.ast.Literal("2020-01-01T00:00:00", LiteralKind.QUOTED)
    )
    assert problems_of({"date": "acqired"}) == [("date", "request.bad-choice")]
    assert problems_of({"start_datetime": "yesterday"}) == [("start_datetime", "request.bad-date")]
    assert problems_of({"end_datetime": 20200101}) == [("end_datetime", "request.not-a-string")]
    assert problems_of({"start_datetime": "2021-01-01", "end_datetime": "2020-01-01"}) == [
        ("start_datetime", "request.start-after-end")
    ]
    # the last day of the calendar has no next day: its end is an inclusive bound
    last = MetadataSearchRequest.from_dict({"end_datetime": "9999-12-31"})
    assert keep(last)(image(timestamp="9999-12-31T23:59:59Z"))


def test_products_and_sat_ids() -> None:
    assert MetadataSearchRequest.from_dict({"products": PID}).products == (PID,)
    assert MetadataSearchRequest.from_dict({"products": [PID, "b"]}).products == (PID, "b")
    request = MetadataSearchRequest.from_dict({"sat_ids": "SAT-1"})
    assert keep(request)(image(sat_id="SAT-1")) and not keep(request)(image(sat_id="SAT-2"))
    two = MetadataSearchRequest.from_dict({"sat_ids": ["A", "B"]})
    assert keep(two)(image(sat_id="B"))
    assert problems_of({"products": [PID, 3, ""]}) == [
        ("products[1]", "request.not-a-string"),
        ("products[2]", "request.not-a-string"),
    ]
    assert problems_of({"sat_ids": {"a": 1}}) == [("sat_ids", "request.not-a-list")]


def test_cloud_and_fill_fractions() -> None:
    request = MetadataSearchRequest.from_dict(
        {"cloud_fraction": 0.3, "cloud_fraction_0": 0.5, "fill_fraction": 0.1}
    )
    test = keep(request)
    assert test(image(cloudCover=30, cloud_fraction_0=0.5, fill_fraction=0.1))  # inclusive
    assert not test(image(cloudCover=31, cloud_fraction_0=0.5, fill_fraction=0.1))
    assert not test(image(cloudCover=10, cloud_fraction_0=0.6, fill_fraction=0.1))
    assert not test(image(cloudCover=10, cloud_fraction_0=0.5, fill_fraction=0.05))
    assert not test(image(cloud_fraction_0=0.5, fill_fraction=0.1))  # no cloud cover: no match
    for name in ("cloud_fraction", "cloud_fraction_0", "fill_fraction"):
        assert problems_of({name: 1.5}) == [(name, "request.out-of-range")]
        assert problems_of({name: "0.5"}) == [(name, "request.not-a-number")]
        assert problems_of({name: float("nan")}) == [(name, "request.out-of-range")]
        assert problems_of({name: 10**5000}) == [(name, "request.out-of-range")]


def test_storage_state_fields_token_sort_seed() -> None:
    request = MetadataSearchRequest.from_dict(
        {
            "storage_state": "available",
            "fields": [],
            "continuation_token": "opaque-1",
            "sort_field": "cloud_fraction",
            "sort_order": "desc",
            "random_seed": 42,
        }
    )
    assert keep(request)(image(storage_state="available"))
    assert not keep(request)(image(storage_state="remote"))
    assert request.fields == () and request.continuation_token == "opaque-1"
    assert (request.sort_property, request.descending, request.random_seed) == (
        "cloudCover",
        True,
        42,
    )
    assert MetadataSearchRequest.from_dict({"storage_state": "any"}).filter is None
    assert problems_of({"storage_state": "gone"}) == [("storage_state", "request.bad-choice")]
    assert problems_of({"fields": "id"}) == [("fields", "request.not-a-list")]
    assert problems_of({"continuation_token": 5}) == [
        ("continuation_token", "request.not-a-string")
    ]
    assert problems_of({"sort_order": "up"}) == [("sort_order", "request.bad-choice")]
    assert problems_of({"sort_field": "a b"}) == [("sort_field", "request.bad-sort-field")]
    assert problems_of({"random_seed": "x"}) == [("random_seed", "request.not-an-integer")]


def test_summary_fields() -> None:
    request = MetadataSearchRequest.from_dict({"interval": "M", "pixels": True}, kind="summary")
    assert (request.interval, request.pixels) == ("month", True)
    for short, long in (("y", "year"), ("q", "quarter"), ("w", "week"), ("m", "minute")):
        got = MetadataSearchRequest.from_dict({"interval": short}, kind="summary").interval
        assert got == long
    assert problems_of({"interval": "fortnight"}, "summary") == [("interval", "request.bad-choice")]
    assert problems_of({"pixels": "yes"}, "summary") == [("pixels", "request.not-a-boolean")]
    # a search ignores the summary's fields, with a warning naming the other endpoint
    search = MetadataSearchRequest.from_dict({"interval": "month"})
    assert search.interval is None and "summary" in search.warnings[0].hint


def test_unknown_fields_are_warnings() -> None:
    request = MetadataSearchRequest.from_dict({"limt": 5, 7: 1, "extra": None})
    assert [(w.field, w.code) for w in request.warnings] == [
        ("limt", "request.unknown-field"),
        ("7", "request.unknown-field"),
        ("extra", "request.unknown-field"),
    ]
    assert "did you mean 'limit'" in request.warnings[0].hint


def test_not_an_object() -> None:
    bodies: tuple[object, ...] = (None, [], "{}", 5)
    for body in bodies:
        assert problems_of(body) == [("", "request.not-an-object")]
    with pytest.raises(cq.UsageError):
        MetadataSearchRequest.from_dict({}, kind="sumary")  # type: ignore[arg-type]


def test_geom_forms() -> None:
    text = json.dumps(SQUARE)
    wkt = "POLYGON((-105.5 39.5,-104.5 39.5,-104.5 40.5,-105.5 40.5,-105.5 39.5))"
    areas = [MetadataSearchRequest.from_dict({"geom": g}).area for g in (SQUARE, text, wkt)]
    assert all(a is not None and a.equals(areas[0]) for a in areas)
    feature = {"type": "Feature", "geometry": SQUARE, "properties": {}}
    assert MetadataSearchRequest.from_dict({"geom": feature}).area.equals(areas[0])  # type: ignore[union-attr]
    multi = "MULTIPOLYGON (((0 0, 1 0, 1 1, 0 0)), ((2 2, 3 2, 3 3, 2 2)))"
    assert MetadataSearchRequest.from_dict({"geom": multi}).area.geom_type == "MultiPolygon"  # type: ignore[union-attr]
    point = MetadataSearchRequest.from_dict({"geom": {"type": "Point", "coordinates": [1, 2]}})
    assert point.area is not None and point.area.wkt == "POINT (1 2)"
    bowtie = {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}
    repaired = MetadataSearchRequest.from_dict({"geom": bowtie})
    assert repaired.warnings[0].code == "request.geom-repaired"


@pytest.mark.parametrize(
    ("geom", "field", "code"),
    [
        (5, "geom", "request.geom-type"),
        ({"type": "Circle"}, "geom.type", "request.geojson-type"),
        ({"type": "Polygon"}, "geom.coordinates", "request.geojson"),
        (
            {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [0, 0]]]},
            "geom.coordinates[0]",
            "request.geojson",
        ),
        (
            {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, "x"], [0, 0]]]},
            "geom.coordinates[0][2]",
            "request.geojson",
        ),
        (
            {"type": "Point", "coordinates": [40, 100]},
            "geom.coordinates",
            "request.geom-out-of-range",
        ),
        ({"type": "Point", "coordinates": [True, 1]}, "geom.coordinates", "request.geojson"),
        ({"type": "Feature", "geometry": None}, "geom.geometry", "request.geojson"),
        ('{"type": "Polygon", ', "geom", "syntax.json"),
        ("{" * 10_000, "geom", "limit.depth"),
        ("POLYGON ((0 0, 1 0, 1 1, 0 0)", "geom", "request.wkt-syntax"),
        ("POLYGON ((0 0, 1 0, 1 100, 0 0))", "geom", "request.wkt-out-of-range"),
        ("MULTIPOLYGON (((0 0, 1 0, 1 100, 0 0)))", "geom", "request.geom-out-of-range"),
        ("", "geom", "request.wkt-syntax"),
    ],
)
def test_geom_errors(geom: object, field: str, code: str) -> None:
    assert problems_of({"geom": geom}) == [(field, code)]


def test_read_geom_appends_to_the_lists() -> None:
    problems: list[Any] = []
    assert read_geom(None, problems, []) is None and problems == []


def test_query_expr_uses_the_table_and_keeps_its_statuses() -> None:
    request = MetadataSearchRequest.from_dict(
        {
            "query_expr": {
                "and": [{"range": {"cloud_fraction": {"lt": 0.2}}}, {"eq": {"sat_id": "A"}}]
            }
        }
    )
    assert keep(request)(image(cloudCover=19, sat_id="A"))
    assert not keep(request)(image(cloudCover=20, sat_id="A"))
    assert problems_of({"query_expr": {"and": [{"rnage": {}}]}, "limit": 0}) == [
        ("query_expr.and[0].rnage", "qexpr.unknown-operator"),
        ("limit", "request.limit-range"),
    ]
    huge = {"or": [{"eq": {"a": i}} for i in range(10_001)]}
    with pytest.raises(cq.QueryLimitError) as info:
        MetadataSearchRequest.from_dict({"query_expr": huge})
    assert info.value.status == 413 and info.value.problems[0].field.startswith("query_expr.or")
    with pytest.raises(cq.Inexpressible) as inexpressible:
        MetadataSearchRequest.from_dict({"query_expr": {"and": [{"eq": {"x": None}}]}})
    assert inexpressible.value.status == 422
    # with other problems, the null equality is one more problem of the 400
    assert (
        problems_of({"query_expr": {"eq": {"x": None}}, "limit": 0})[0][1] == "qexpr.null-equality"
    )


# --------------------------------------------------------------------------------------------
# The captured bodies


def _captured() -> dict[int, tuple[str, dict[str, Any]]]:
    path = require_shared(SHARED_DIR / "descartes-v1" / "captured.jsonl")
    out = {}
    for line in path.read_text().splitlines():
        entry = json.loads(line)
        body = (entry.get("body") or {}).get("json")
        if entry["path"] in ("/metadata/v1/search", "/metadata/v1/summary") and isinstance(
            body, dict
        ):
            out[entry["seq"]] = (entry["path"].rsplit("/", 1)[1], body)
    return out


def test_captured_bodies() -> None:
    bodies = _captured()
    for seq in (61, 73, 85, 88):
        assert seq in bodies, seq
    for seq, (endpoint, body) in bodies.items():
        request = MetadataSearchRequest.from_dict(body, kind=endpoint)  # type: ignore[arg-type]
        assert request.warnings == (), (seq, request.warnings)
    r61 = MetadataSearchRequest.from_dict(bodies[61][1])
    assert (r61.limit, r61.products, r61.descending, r61.sort_property) == (
        10,
        (PID,),
        True,
        "timestamp",
    )
    assert r61.area is not None and r61.area.bounds == (-105.5, 39.5, -104.5, 40.5)
    assert (r61.start, r61.end) == ("2020-01-01T00:00:00", "2020-12-31T23:59:59~")
    inside = image(timestamp="2020-06-01T00:00:00Z", cloudCover=10)
    assert keep(r61)(inside) and not keep(r61)({**inside, "cloudCover": 20})
    r73 = MetadataSearchRequest.from_dict(bodies[73][1])
    assert (r73.date, r73.date_property, r73.limit, r73.random_seed, r73.fields) == (
        "processed",
        "processed",
        3,
        42,
        ("acquired", "cloud_fraction"),
    )
    assert keep(r73)(
        image(
            sat_id="SAT-1",
            cloudCover=90,
            cloud_fraction_0=0.9,
            fill_fraction=0.1,
            storage_state="available",
        )
    )
    r85 = MetadataSearchRequest.from_dict(bodies[85][1])
    assert (
        r85.fields == () and keep(r85)(image(cloudCover=10)) and not keep(r85)(image(cloudCover=9))
    )
    r88 = MetadataSearchRequest.from_dict(bodies[88][1], kind="summary")
    assert (r88.interval, r88.pixels, r88.limit) == ("month", True, None)
    assert keep(r88)(image(timestamp="2020-05-01", cloudCover=59, sat_id="SAT-1"))
    assert not keep(r88)(image(timestamp="2020-05-01", cloudCover=60, sat_id="SAT-1"))
    assert keep(r88)(image(timestamp="2021-01-01T23:00:00Z", cloudCover=1, sat_id="SAT-1"))


# --------------------------------------------------------------------------------------------
# Mutated bodies never raise anything but the project's errors

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**6), max_value=10**6),
    st.integers(5000, 5001).map(lambda n: 10**n),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8),
    st.sampled_from(
        [
            "acquired",
            "desc",
            "month",
            "available",
            "2020-01-01",
            "POLYGON ((0 0, 1 0, 1 1, 0 0))",
            "{",
            "[" * 50,
        ]
    ),
)
junk = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.one_of(
                st.text(max_size=6),
                st.sampled_from(["type", "coordinates", "and", "eq", "range", "lt"]),
            ),
            inner,
            max_size=4,
        )
    ),
    max_leaves=12,
)


def _bases() -> list[tuple[str, dict[str, Any]]]:
    bases: list[tuple[str, dict[str, Any]]] = [
        (
            "search",
            {
                "limit": 3,
                "products": [PID],
                "geom": SQUARE,
                "query_expr": {"and": [{"range": {"cloud_fraction": {"lt": 0.2}}}]},
            },
        ),
        (
            "summary",
            {
                "interval": "month",
                "pixels": True,
                "products": [PID],
                "start_datetime": "2020-01-01",
            },
        ),
    ]
    return bases


@settings(max_examples=scaled(400), deadline=None)
@given(st.integers(0, 1), st.data())
def test_mutated_bodies_raise_only_project_errors(which: int, data: st.DataObject) -> None:
    kind, base = _bases()[which]
    body = copy.deepcopy(base)
    names = sorted(
        {
            *base,
            "date",
            "limit",
            "sat_ids",
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
            "interval",
            "pixels",
        }
    )
    for _ in range(data.draw(st.integers(1, 4))):
        body[data.draw(st.sampled_from(names))] = data.draw(junk)
    try:
        request = MetadataSearchRequest.from_dict(body, kind=kind)  # type: ignore[arg-type]
    except CatalogqlError as error:
        assert error.status in (400, 413, 422)
        for problem in error.problems:
            assert problem.message
            root = problem.field.split(".")[0].split("[")[0]
            assert root in names or root == "", problem
        return
    assert request.limit is None or 1 <= request.limit <= MAX_PAGE
