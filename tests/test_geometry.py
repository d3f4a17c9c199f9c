"""Geometry in the search engine: bounded repair, and the antimeridian (issue 10, items 5 and 18).

* Repair of an invalid polygon (GEOS ``make_valid``) costs time and memory with the number of
  crossings, quadratic in the points for a self-crossing star: past
  :data:`~catalogql.search.geometry.MAX_REPAIR_CROSSINGS` crossings an area is a 400 and a
  footprint an :class:`~catalogql.search.errors.InvalidRecord`; a repair is always reported.
* A ring whose consecutive longitudes jump by more than 180 degrees crosses the antimeridian and
  is split at +-180 (RFC 7946), in search areas and in record footprints, on every store.
"""

from __future__ import annotations

import itertools
import json
import math
import warnings
from typing import Any

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from catalog_fixtures import Factory
from catalogql.search import geometry, open_catalog
from catalogql.search.errors import InvalidRecord, InvalidSearchRequest, RecordWarning
from catalogql.search.geometry import (
    MAX_REPAIR_CROSSINGS,
    MAX_REPAIR_POINTS,
    count_crossings,
    read_area,
    settle_polygonal,
)
from catalogql.search.request import SearchRequest
from property_settings import scaled

CROSSING = "POLYGON ((179.5 -16.5, -179.5 -16.5, -179.5 -15.5, 179.5 -15.5, 179.5 -16.5))"


def star(points: int, radius: float = 10.0) -> str:
    """A closed star polygon of ``points`` vertices that crosses itself about points**2/4 times."""
    step = points // 2 - 1
    while math.gcd(points, step) != 1:
        step -= 1
    ring = [
        (
            radius * math.cos(2 * math.pi * (i * step % points) / points),
            radius * math.sin(2 * math.pi * (i * step % points) / points),
        )
        for i in range(points)
    ]
    ring.append(ring[0])
    return "POLYGON ((" + ", ".join(f"{x!r} {y!r}" for x, y in ring) + "))"


def box(x0: float, y0: float, x1: float, y1: float) -> str:
    return f"POLYGON (({x0} {y0}, {x1} {y0}, {x1} {y1}, {x0} {y1}, {x0} {y0}))"


def record(identifier: str, wkt: str) -> dict[str, Any]:
    return {
        "identifier": identifier,
        "type": ["WV02"],
        "properties": {"timestamp": "2016-01-01T00:00:00Z", "footprintWkt": wkt},
    }


# --------------------------------------------------------------------------------------------
# Item 5: bounded repair


@pytest.mark.parametrize("points", [1001, 5001])
def test_a_self_crossing_star_area_is_refused_not_repaired(points: int) -> None:
    with pytest.raises(InvalidSearchRequest) as caught:
        SearchRequest.from_dict({"searchAreaWkt": star(points)})
    (problem,) = caught.value.problems
    assert (problem.field, problem.code, problem.offset) == (
        "searchAreaWkt",
        "request.wkt-too-complex",
        0,
    )
    assert "split the area" in problem.hint and "self-intersections" in problem.hint
    assert f"{MAX_REPAIR_CROSSINGS:,}" in problem.message


@pytest.mark.parametrize("points", [1001, 5001])
def test_a_self_crossing_star_footprint_is_an_invalid_record(points: int) -> None:
    catalog = open_catalog("memory://")
    with pytest.raises(InvalidRecord) as caught:
        catalog.add_records([record("star", star(points))])
    assert caught.value.field == "properties.footprintWkt"
    assert "too many to repair" in caught.value.reason
    assert "self-intersections" in caught.value.hint
    assert len(catalog) == 0


def test_a_repaired_area_is_a_warning_of_the_search_answer() -> None:
    catalog = open_catalog("memory://")
    catalog.add_records([record("in", box(0.1, 0.1, 0.2, 0.2))])
    answer = catalog.search({"searchAreaWkt": "POLYGON ((0 0, 1 1, 1 0, 0 1, 0 0))"})
    assert [r["identifier"] for r in answer["results"]] == ["in"]
    assert [(w["field"], w["code"]) for w in answer["warnings"]] == [
        ("searchAreaWkt", "request.wkt-repaired")
    ]


def test_a_repaired_footprint_is_reported_with_its_position() -> None:
    bow_tie = "POLYGON ((0 0, 1 1, 1 0, 0 1, 0 0))"
    notes: list[tuple[int, str]] = []
    catalog = open_catalog("memory://")
    catalog.add_records(
        [record("fine", box(0, 0, 1, 1)), record("tie", bow_tie)],
        on_note=lambda position, note: notes.append((position, note.code)),
    )
    assert notes == [(1, "record.wkt-repaired")]
    stored = catalog.get_record("tie")["properties"]["footprintWkt"]
    assert stored == bow_tie  # the record's text is kept; only the indexed geometry is repaired
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        open_catalog("memory://").add_records([record("tie", bow_tie), record("t2", bow_tie)])
    (warning,) = [w.message for w in caught if isinstance(w.message, RecordWarning)]
    assert "[record.wkt-repaired]" in str(warning)
    assert [position for position, _ in warning.notes] == [0, 1]


def _segments_meeting(polygon: shapely.Polygon) -> int:
    """The crossing count by brute force: every pair of non-adjacent segments of every ring."""
    segments: list[tuple[int, int, int, shapely.LineString]] = []
    for number, ring in enumerate([polygon.exterior, *polygon.interiors]):
        xy = shapely.get_coordinates(ring)
        xy = xy[np.r_[True, (np.diff(xy, axis=0) != 0).any(axis=1)]]
        count = len(xy) - 1
        segments.extend((number, i, count, shapely.LineString(xy[i : i + 2])) for i in range(count))
    found = 0
    for (ring_a, i, count, a), (ring_b, j, _, b) in itertools.combinations(segments, 2):
        if ring_a == ring_b and (j - i == 1 or (i == 0 and j == count - 1)):
            continue
        found += bool(a.intersects(b))
    return found


coordinate = st.integers(0, 20).map(float)
rings = st.lists(st.tuples(coordinate, coordinate), min_size=3, max_size=14)


@settings(max_examples=scaled(200), deadline=None)
@given(rings)
def test_random_polygons_are_repaired_within_bounds_or_refused(points: list[Any]) -> None:
    ring = [*points, points[0]]
    wkt = "POLYGON ((" + ", ".join(f"{x} {y}" for x, y in ring) + "))"
    polygon = shapely.from_wkt(wkt)
    crossings = count_crossings(polygon, budget=10**6)
    assert crossings == _segments_meeting(polygon)
    assert count_crossings(polygon, budget=3) == min(crossings, 4)
    try:
        request = SearchRequest.from_dict({"searchAreaWkt": wkt})
    except InvalidSearchRequest as error:
        codes = {problem.code for problem in error.problems}
        assert codes <= {"request.wkt-invalid", "request.wkt-too-complex"}, codes
        return
    codes = [warning.code for warning in request.warnings]
    assert request.area is not None and request.area.is_valid
    collapsed = polygon.area == 0 and shapely.convex_hull(polygon).geom_type != "Polygon"
    if not collapsed and not polygon.is_valid:
        assert codes == ["request.wkt-repaired"]
        assert crossings <= MAX_REPAIR_CROSSINGS
    else:
        assert codes == []


def test_star_polygons_are_refused_exactly_past_the_crossing_budget() -> None:
    for points in (7, 11, 31, 51, 101):
        polygon = shapely.from_wkt(star(points))
        crossings = count_crossings(polygon, budget=10**6)
        try:
            SearchRequest.from_dict({"searchAreaWkt": star(points)})
            assert crossings <= MAX_REPAIR_CROSSINGS, points
        except InvalidSearchRequest as error:
            assert crossings > MAX_REPAIR_CROSSINGS, points
            assert error.problems[0].code == "request.wkt-too-complex"


def twisted_circle(points: int) -> str:
    """A ring of ``points`` points around a circle, two neighbours swapped: one crossing."""
    ring = [
        (
            round(100 * math.cos(2 * math.pi * i / points), 6),
            round(60 * math.sin(2 * math.pi * i / points), 6),
        )
        for i in range(points)
    ]
    ring[10], ring[11] = ring[11], ring[10]
    ring.append(ring[0])
    return "POLYGON ((" + ", ".join(f"{x!r} {y!r}" for x, y in ring) + "))"


def test_a_large_polygon_crossing_itself_once_is_repaired_up_to_the_point_limit() -> None:
    request = SearchRequest.from_dict({"searchAreaWkt": twisted_circle(MAX_REPAIR_POINTS - 1)})
    assert [w.code for w in request.warnings] == ["request.wkt-repaired"]
    assert request.area is not None and request.area.is_valid
    with pytest.raises(InvalidSearchRequest) as caught:
        SearchRequest.from_dict({"searchAreaWkt": twisted_circle(MAX_REPAIR_POINTS + 1)})
    (problem,) = caught.value.problems
    assert problem.code == "request.wkt-too-complex"
    assert f"at most {MAX_REPAIR_POINTS:,}" in problem.message


# --------------------------------------------------------------------------------------------
# Item 18: the antimeridian


def test_a_footprint_across_the_antimeridian_matches_there_and_not_at_zero(
    new_catalog: Factory,
) -> None:
    catalog = new_catalog()
    notes: list[str] = []
    catalog.add_records([record("fiji", CROSSING)], on_note=lambda _, n: notes.append(n.code))
    assert notes == ["record.wkt-antimeridian"]

    def found(area: str) -> list[str]:
        return [r["identifier"] for r in catalog.search({"searchAreaWkt": area})["results"]]

    assert found(box(179.8, -16.2, 180, -16)) == ["fiji"]
    assert found(box(-180, -16.2, -179.8, -16)) == ["fiji"]
    assert found(box(-1, -17, 1, -15)) == []
    long_way = "POLYGON ((-170 -17, 0 -17, 170 -17, 170 -15, 0 -15, -170 -15, -170 -17))"
    assert found(long_way) == []  # between the two halves, the long way round
    assert found(box(-170, -17, 170, -15)) == ["fiji"]  # a step of 340 degrees crosses
    assert catalog.get_record("fiji")["properties"]["footprintWkt"] == CROSSING


def test_an_area_across_the_antimeridian_finds_records_on_both_sides(new_catalog: Factory) -> None:
    catalog = new_catalog()
    catalog.add_records(
        [
            record("east", box(179.6, 10, 179.7, 11)),
            record("west", box(-179.7, 10, -179.6, 11)),
            record("zero", box(-0.5, 10, 0.5, 11)),
            record("far", box(100, 10, 101, 11)),
        ]
    )
    answer = catalog.search({"searchAreaWkt": box(179, 9, -179, 12)})
    assert sorted(r["identifier"] for r in answer["results"]) == ["east", "west"]
    assert [w["code"] for w in answer["warnings"]] == ["request.wkt-antimeridian"]


def test_the_whole_world_and_rings_touching_180_are_not_split() -> None:
    world = SearchRequest.from_dict({"searchAreaWkt": box(-180, -90, 180, 90)})
    assert world.area is not None and world.area.area == 360 * 180 and not world.warnings
    for wkt in (box(170, 0, 180, 10), box(-180, 0, -170, 10)):
        request = SearchRequest.from_dict({"searchAreaWkt": wkt})
        assert request.area is not None and request.area.geom_type == "Polygon"
        assert not request.warnings


def test_a_ring_touching_180_from_the_other_side_is_split_into_one_side_only() -> None:
    notes: list[Any] = []
    # from 170 to exactly -180 and back: it lies east of 170 and touches the antimeridian
    polygon = shapely.from_wkt("POLYGON ((170 0, -180 0, -180 10, 170 10, 170 0))")
    settled = settle_polygonal(polygon, "searchAreaWkt", notes)
    assert settled.geom_type == "Polygon"
    assert settled.bounds == (170.0, 0.0, 180.0, 10.0)


def test_a_polygon_with_a_hole_across_the_antimeridian() -> None:
    wkt = (
        "POLYGON ((170 -10, -170 -10, -170 10, 170 10, 170 -10), "
        "(179 -1, -179 -1, -179 1, 179 1, 179 -1))"
    )
    settled = settle_polygonal(shapely.from_wkt(wkt), "searchAreaWkt", [])
    assert settled.geom_type == "MultiPolygon" and settled.is_valid
    assert settled.area == pytest.approx(20 * 20 - 2 * 2)
    assert not settled.intersects(shapely.Point(179.5, 0))
    assert not settled.intersects(shapely.Point(-179.5, 0))
    assert settled.intersects(shapely.Point(175, 0)) and settled.intersects(shapely.Point(-175, 0))


def test_a_multipolygon_footprint_splits_only_its_crossing_part() -> None:
    wkt = f"MULTIPOLYGON ((({CROSSING[10:-2]})), ((10 10, 11 10, 11 11, 10 10)))"
    settled = settle_polygonal(shapely.from_wkt(wkt), "properties.footprintWkt", [])
    assert settled.geom_type == "MultiPolygon" and len(settled.geoms) == 3
    assert settled.area == pytest.approx(1 + 0.5)


def test_a_ring_around_a_pole_is_closed_along_it() -> None:
    wkt = "POLYGON ((170 80, -170 80, -90 80, 0 80, 90 80, 170 80))"
    settled = settle_polygonal(shapely.from_wkt(wkt), "searchAreaWkt", [])
    assert settled.is_valid
    assert settled.bounds == (-180.0, 80.0, 180.0, 90.0)
    assert settled.area == pytest.approx(360 * 10)
    south = "POLYGON ((170 -80, -170 -80, -90 -80, 0 -80, 90 -80, 170 -80))"
    assert settle_polygonal(shapely.from_wkt(south), "x", []).bounds == (-180, -90, 180, -80)


@st.composite
def crossing_polygons(draw: st.DrawFn) -> tuple[shapely.Polygon, shapely.Polygon]:
    """A valid polygon around a centre near 180 (unwrapped) and the same one wrapped to +-180."""
    centre_x = draw(st.floats(165, 195))
    centre_y = draw(st.floats(-60, 60))
    count = draw(st.integers(3, 12))
    angles = sorted(draw(st.lists(st.floats(0, 2 * math.pi - 0.01), min_size=count,
                                  max_size=count, unique=True)))  # fmt: skip
    radii = draw(st.lists(st.floats(0.5, 14), min_size=count, max_size=count))
    ring = [
        (round(centre_x + r * math.cos(a), 6), round(centre_y + r * math.sin(a), 6))
        for a, r in zip(angles, radii, strict=True)
    ]
    ring.append(ring[0])
    unwrapped = shapely.Polygon(ring)
    wrapped = shapely.Polygon([((x + 180) % 360 - 180, y) for x, y in ring])
    return unwrapped, wrapped


@settings(max_examples=scaled(150), deadline=None)
@given(crossing_polygons())
def test_split_pieces_cover_the_same_area_on_the_shifted_plane(
    drawn: tuple[shapely.Polygon, shapely.Polygon],
) -> None:
    unwrapped, wrapped = drawn
    if not unwrapped.is_valid or unwrapped.area < 1e-6:
        return
    settled = settle_polygonal(wrapped, "searchAreaWkt", [])
    min_x, _, max_x, _ = settled.bounds
    assert min_x >= -180 and max_x <= 180
    pieces = list(getattr(settled, "geoms", [settled]))
    assert all(p.geom_type == "Polygon" for p in pieces)
    east = np.array([360.0, 0.0])  # the unwrapped polygon lies within [151, 209]: west is east
    moved = shapely.union_all(
        [shapely.transform(p, lambda xy: xy + east) if p.bounds[2] <= 0 else p for p in pieces]
    )
    assert sum(p.area for p in pieces) == pytest.approx(unwrapped.area, rel=1e-9, abs=1e-9)
    assert moved.symmetric_difference(unwrapped).area <= 1e-9 * max(1.0, unwrapped.area)


def test_load_reports_each_changed_footprint_at_its_line(
    tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    from catalogql.cli import main

    lines = [record("fiji", CROSSING), record("ok", box(0, 0, 1, 1))]
    lines.append(record("tie", "POLYGON ((0 0, 1 1, 1 0, 0 1, 0 0))"))
    source = tmp_path / "r.jsonl"
    source.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    for extra in ([], ["--dry-run"], ["--skip-bad"]):
        db = tmp_path / f"c{len(extra)}{''.join(extra)}.db"
        assert main(["load", str(source), "--db", f"sqlite:///{db}", *extra]) == 0
        err = capsys.readouterr().err
        assert f"{source}:1: warning: properties.footprintWkt: " in err
        assert "[record.wkt-antimeridian]" in err
        assert f"{source}:3: warning: properties.footprintWkt: " in err
        assert "[record.wkt-repaired]" in err
        assert "warning: 2 footprints were split at the antimeridian or repaired" in err


def test_collapsed_rings_are_their_point_or_line_also_across_the_antimeridian() -> None:
    line = SearchRequest.from_dict(
        {"searchAreaWkt": "POLYGON ((179.5 0, -179.5 0, 179.5 0, 179.5 0))"}
    )
    assert line.area is not None and line.area.geom_type == "MultiLineString"
    assert line.area.length == pytest.approx(1.0)
    assert [w.code for w in line.warnings] == ["request.wkt-antimeridian"]
    catalog = open_catalog("memory://")
    catalog.add_records([record("p", "POLYGON ((1 2, 1 2, 1 2, 1 2, 1 2))")])  # was loaded before
    answer = catalog.search({"searchAreaWkt": box(0, 0, 3, 3)})
    assert [r["identifier"] for r in answer["results"]] == ["p"]


# --------------------------------------------------------------------------------------------
# The plain rectangle read at once: the very answer of the general path


def _read_both(text: str, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, Any, bool]:
    """read_area's answer (WKB or None, problems, warnings) with and without the fast path."""

    def answer() -> tuple[Any, ...]:
        problems: list[Any] = []
        warned: list[Any] = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            area = read_area(text, problems, warned)
        wkb = None if area is None else bytes(shapely.to_wkb(area))
        prepared = area is None or bool(shapely.is_prepared(area))
        return wkb, [p.to_dict() for p in problems], [w.to_dict() for w in warned], prepared

    fast = answer()
    with monkeypatch.context() as patched:
        patched.setattr(geometry, "_plain_rectangle", lambda value: None)
        general = answer()
    return fast, general, geometry._plain_rectangle(text) is not None


_coordinates = st.one_of(
    st.sampled_from(["0", "-0", "180", "-180", "90", "-90", "180.0000001", "-90.5", "1e999"]),
    st.sampled_from(["1e-200", "1e-300", "2.5e-160", "37.52", "+37.72", ".5", "5.", "-1E2"]),
    st.floats(-200, 200, allow_nan=False).map(repr),
    st.integers(-181, 181).map(str),
)


@st.composite
def five_point_texts(draw: st.DrawFn) -> str:
    """A POLYGON of five points, most of them boxes (in any corner order), some not."""
    xs = draw(st.lists(_coordinates, min_size=2, max_size=2, unique=True))
    ys = draw(st.lists(_coordinates, min_size=2, max_size=2, unique=True))
    corners = [(xs[0], ys[0]), (xs[1], ys[0]), (xs[1], ys[1]), (xs[0], ys[1])]
    start = draw(st.integers(0, 3))
    corners = corners[start:] + corners[:start]
    if draw(st.booleans()):
        corners.reverse()
    if draw(st.integers(0, 4)) == 0:  # a point moved: no longer a box (or not closed)
        at = draw(st.integers(0, 3))
        corners[at] = (draw(_coordinates), draw(_coordinates))
    ring = [*corners, corners[0]]
    if draw(st.integers(0, 6)) == 0:
        ring[-1] = (draw(_coordinates), ring[-1][1])
    space = draw(st.sampled_from([" ", "", "  ", "\t", "\n"]))
    tag = draw(st.sampled_from(["POLYGON", "polygon", "Polygon", "POLYGON Z", "MULTIPOLYGON"]))
    points = f",{space}".join(f"{x} {y}" for x, y in ring)
    return f"{space}{tag}{space}(({space}{points}{space})){space}"


@settings(max_examples=scaled(400), deadline=None)
@given(five_point_texts())
def test_a_plain_rectangle_reads_as_the_general_path_reads_it(text: str) -> None:
    with pytest.MonkeyPatch.context() as monkeypatch:
        fast, general, _ = _read_both(text, monkeypatch)
    assert fast == general, text


@pytest.mark.parametrize(
    ("text", "taken"),
    [
        ("POLYGON((37.52 55.66, 37.72 55.66, 37.72 55.86, 37.52 55.86, 37.52 55.66))", True),
        ("polygon ( (1 2,3 2 , 3 4, 1 4, 1 2) ) ", True),
        ("POLYGON((3 4, 3 2, 1 2, 1 4, 3 4))", True),
        ("POLYGON((-180 -90, 180 -90, 180 90, -180 90, -180 -90))", False),  # 360 wide
        ("POLYGON((0 0, 1e-200 0, 1e-200 1e-200, 0 1e-200, 0 0))", False),  # no sure area
        ("POLYGON((0 0, 2 0, 2 1, 0 1, 0 0.5))", False),  # not closed: an error
        ("POLYGON((0 0, 2 0, 0 1, 2 1, 0 0))", False),  # a bow tie: repaired, a warning
        ("POLYGON((0 0, 2 0, 2 1, 0 1, 0 0), (0.5 0.5, 1 0.5, 1 0.7, 0.5 0.5))", False),
        ("POLYGON((0 0, 200 0, 200 1, 0 1, 0 0))", False),  # out of range: an error
        ("POLYGON((0 0,2 0,2 1,0 1,0 0))", True),
        ("POLYGON((0 0 1, 2 0 1, 2 1 1, 0 1 1, 0 0 1))", False),  # 3-D: a warning
        ("POLYGON((1-2, 3 -2, 3 4, 1 4, 1 -2))", False),  # numbers not spaced apart
        ("POLYGON((1e999 0, 2 0, 2 1, 1e999 1, 1e999 0))", False),  # not finite: an error
    ],
)
def test_the_plain_rectangles_taken_and_left(
    text: str, taken: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    fast, general, fast_taken = _read_both(text, monkeypatch)
    assert fast == general
    assert fast_taken is taken
    assert fast[3]  # the area is prepared either way
