"""The memory store's compact storage (issue 14, item 2): box index, compaction, records.

The store keeps no object per record: footprints as float32 boxes with a packed index (and WKB
only where the shape indexed is not the parse of the record's WKT text),
properties as columns, slots compacted after removals. These tests check that every answer is
still the exact one: the box index against shapely over every footprint (antimeridian-split ones
included), the slots after removals and replacements, and each record rebuilt equal to the one
added, JSON types and all.
"""

from __future__ import annotations

import json
import warnings
from typing import Any

import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray

from catalogql.search import open_catalog
from catalogql.search.geometry import read_area, read_footprint
from catalogql.search.records import hashed_keys, value_keys
from catalogql.search.stores.memory import MemoryCatalog
from catalogql.search.stores.packed import (
    BLOCK,
    Area,
    BoxIndex,
    Footprints,
    Identifiers,
    _rectangle,
    outward_boxes,
)
from catalogql.semantics import property_getter

# -- footprints: boxes, points, polygons, and some that cross the antimeridian ----------------

longitudes = st.floats(-180, 180, allow_nan=False, allow_infinity=False)
latitudes = st.floats(-89, 89, allow_nan=False, allow_infinity=False)
sizes = st.floats(1e-7, 30, allow_nan=False, allow_infinity=False)


@st.composite
def footprint_wkt(draw: st.DrawFn) -> str:
    """A footprint as WKT: a box, a point, a triangle, or a box across the antimeridian."""
    kind = draw(st.sampled_from(["box", "point", "triangle", "antimeridian"]))
    x, y = draw(longitudes), draw(latitudes)
    if kind == "point":
        return f"POINT ({x!r} {y!r})"
    w, h = draw(sizes), min(draw(sizes), 89 - y + 0.5)
    if kind == "antimeridian":  # from east of 180 - w to west of -180 + w2: it jumps the line
        west = 180 - draw(st.floats(0.01, 20))
        east = -180 + draw(st.floats(0.01, 20))
        return (
            f"POLYGON (({west!r} {y!r}, {east!r} {y!r}, {east!r} {y + h!r}, "
            f"{west!r} {y + h!r}, {west!r} {y!r}))"
        )
    x = min(x, 180 - w)
    if kind == "box":
        return shapely.box(x, y, x + w, y + h).wkt
    return f"POLYGON (({x!r} {y!r}, {x + w!r} {y!r}, {x!r} {y + h!r}, {x!r} {y!r}))"


@st.composite
def search_area(draw: st.DrawFn) -> shapely.Geometry:
    """A search area: a box or a triangle anywhere, or a box split at the antimeridian."""
    x, y = draw(longitudes), draw(latitudes)
    w, h = draw(st.floats(1e-6, 200)), draw(st.floats(1e-6, 90))
    h = min(h, 90 - y)
    if draw(st.booleans()):  # an area split at the antimeridian, as a search's is
        return shapely.MultiPolygon(
            [shapely.box(180 - w / 2, y, 180, y + h), shapely.box(-180, y, -180 + w / 2, y + h)]
        )
    x1, y1 = min(180, x + w), min(90, y + h)
    if draw(st.booleans()):  # not a rectangle: every footprint near it is tested exactly
        return shapely.Polygon([(x, y), (x1, y), (x, y1), (x, y)])
    return shapely.box(x, y, x1, y1)


def _read(texts: list[str]) -> tuple[Footprints, list[Any], NDArray[np.int64]]:
    """The footprints of these texts: the table, the geometries, and their rows."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        shapes = [read_footprint(text, at) for at, text in enumerate(texts)]
    footprints = Footprints()
    footprints.append(shapes)
    return footprints, shapes, np.arange(len(shapes), dtype=np.int64)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(footprint_wkt(), min_size=1, max_size=3 * BLOCK),
    st.lists(search_area(), min_size=1, max_size=4),
)
def test_the_packed_index_finds_exactly_what_shapely_finds(
    texts: list[str], areas: list[shapely.Geometry]
) -> None:
    footprints, shapes, rows = _read(texts)
    index = BoxIndex.build(footprints.boxes, rows)
    assert sorted(index.rows.tolist()) == rows.tolist()
    for area in areas:
        exact = np.flatnonzero(shapely.intersects(area, np.asarray(shapes, dtype=object)))
        boxed = index.query(Area(area))
        assert set(exact.tolist()) <= set(boxed.tolist())  # the boxes never miss
        assert footprints.intersecting(Area(area), boxed).tolist() == exact.tolist()
        assert footprints.intersecting(Area(area), rows).tolist() == exact.tolist()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(footprint_wkt(), min_size=1, max_size=3 * BLOCK),
    search_area(),
    st.integers(-2, 3 * BLOCK + 2),
    st.integers(-2, 3 * BLOCK + 2),
)
def test_a_range_of_keys_is_the_rows_of_those_keys(
    texts: list[str], area: shapely.Geometry, low: int, high: int
) -> None:
    """The index's keys (the store's time order) restrict a query to exactly those rows."""
    footprints, shapes, rows = _read(texts)
    keys = np.random.default_rng(len(texts)).permutation(len(shapes)).astype(np.int32)
    index = BoxIndex.build(footprints.boxes, rows, keys)
    everything = index.query(Area(area))
    ranged = index.query(Area(area), within=(low, high))
    assert ranged.tolist() == [row for row in everything.tolist() if low <= keys[row] < high]
    with pytest.raises(ValueError, match="without keys"):
        BoxIndex.build(footprints.boxes, rows).query(Area(area), within=(low, high))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(longitudes, latitudes, longitudes, latitudes), min_size=1, max_size=20))
def test_float32_boxes_contain_the_float64_bounds(bounds: list[tuple[float, ...]]) -> None:
    exact = np.asarray(bounds, dtype=np.float64)
    exact[:, 2] = np.maximum(exact[:, 0], exact[:, 2])
    exact[:, 3] = np.maximum(exact[:, 1], exact[:, 3])
    boxes = outward_boxes(exact).astype(np.float64)
    assert (boxes[:, :2] <= exact[:, :2]).all() and (boxes[:, 2:] >= exact[:, 2:]).all()


def _record(identifier: str, wkt: str, day: int = 1, **properties: Any) -> dict[str, Any]:
    return {
        "identifier": identifier,
        "type": ["GBDXCatalogRecord", "Acquisition", "WV02"] if day % 2 else ["WV03"],
        "properties": {"timestamp": f"2016-01-{day:02d}T10:00:00.000Z", "footprintWkt": wkt}
        | properties,
    }


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(footprint_wkt(), min_size=1, max_size=300), search_area())
@example(["POLYGON ((1 0, 1 1, 0 1, 0 0, 1 0))"], shapely.box(-1, 0, 180, 1))  # over 180 wide
def test_a_search_finds_exactly_the_footprints_shapely_finds(
    texts: list[str], area: shapely.Geometry
) -> None:
    catalog = open_catalog("memory://")
    records = [_record(f"r{at:04d}", text, 1 + at % 28) for at, text in enumerate(texts)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        catalog.add_records(records)
        shapes = [read_footprint(text, at) for at, text in enumerate(texts)]
    query_shape = area.geoms[0] if isinstance(area, shapely.MultiPolygon) else area
    problems: list[Any] = []
    searched = read_area(query_shape.wkt, problems, [])  # as the search reads it: an area
    assert searched is not None, problems  # wider than 180 degrees crosses the antimeridian
    expected = {
        records[at]["identifier"]
        for at in np.flatnonzero(shapely.intersects(searched, np.asarray(shapes, dtype=object)))
    }
    for limit in (1, 1000):  # a small limit walks, a large one refines a candidate set
        body = {"searchAreaWkt": query_shape.wkt, "limit": limit}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            found = {r["identifier"] for r in catalog.search(body)["results"]}
        if limit == 1000:
            assert found == expected
        else:
            assert found <= expected and len(found) == min(1, len(expected))


# -- slots: removals, replacements, compaction ------------------------------------------------


@pytest.fixture(params=[Identifiers.MERGE_EVERY, 2], ids=["recent", "merged"])
def merging(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Identifier lookups from the dict of recent ones, or merged into the sorted hashes."""
    monkeypatch.setattr(Identifiers, "MERGE_EVERY", request.param)


def _ids(page: dict[str, Any]) -> list[str]:
    return [record["identifier"] for record in page["results"]]


def test_removals_compact_the_slots_and_every_answer_stays(merging: None) -> None:
    catalog = open_catalog("memory://")
    assert isinstance(catalog, MemoryCatalog)
    records = [
        _record(f"r{i:03d}", f"POINT ({i % 50} {i % 40})", 1 + i % 28, catalogID=f"C{i}")
        for i in range(200)
    ]
    catalog.add_records(records)
    before = _ids(catalog.search({"limit": 1000}))
    gone = {f"r{i:03d}" for i in range(0, 200, 3)}  # a third: past the share that compacts
    assert catalog.remove_records(gone) == len(gone)
    assert len(catalog._identifiers) == 200 - len(gone)  # compacted: no dead slot left
    assert catalog._dead == 0
    kept = [identifier for identifier in before if identifier not in gone]
    assert _ids(catalog.search({"limit": 1000})) == kept
    assert _ids(catalog.search({"filters": ["catalogID = C4"]})) == ["r004"]
    assert _ids(catalog.search({"filters": ["catalogID = C3"]})) == []
    assert catalog.get_record("r004") == records[4]
    area = "POLYGON ((0 0, 4.5 0, 4.5 4.5, 0 4.5, 0 0))"
    expected = [
        r["identifier"]
        for r in records
        if r["identifier"] not in gone
        and shapely.intersects(
            shapely.from_wkt(area), shapely.from_wkt(r["properties"]["footprintWkt"])
        )
    ]
    assert sorted(_ids(catalog.search({"searchAreaWkt": area}))) == sorted(expected)
    catalog.add_records([records[3]])  # back again, in a new slot
    assert _ids(catalog.search({"filters": ["catalogID = C3"]})) == ["r003"]
    assert len(catalog) == 200 - len(gone) + 1


def test_a_few_removals_leave_dead_slots_that_no_search_sees(merging: None) -> None:
    catalog = open_catalog("memory://")
    assert isinstance(catalog, MemoryCatalog)
    catalog.add_records(_record(f"r{i:03d}", "POINT (1 1)", 1 + i % 28) for i in range(100))
    catalog.remove_records(["r007"])
    assert catalog._dead == 1 and len(catalog._identifiers) == 100  # below the share: kept
    assert "r007" not in _ids(catalog.search({"limit": 1000}))
    assert len(_ids(catalog.search({"limit": 1000}))) == 99
    assert len(catalog) == 99


def test_a_replacement_takes_a_new_slot_and_an_identical_record_none(merging: None) -> None:
    catalog = open_catalog("memory://")
    assert isinstance(catalog, MemoryCatalog)
    catalog.compact_share = 1.0  # no compaction while one slot of two is dead
    first = _record("a", "POINT (1 1)", 3, catalogID="X1", cloudCover=5)
    catalog.add_records([first, _record("b", "POINT (2 2)", 4)])
    catalog.add_records([first], readers=["group:team"])  # the same record: its readers only
    assert len(catalog._identifiers) == 2
    assert _ids(catalog.search({}, readers=["group:team"])) == ["a"]
    changed = _record("a", "POINT (50 50)", 5, catalogID="X2", cloudCover=50)
    catalog.add_records([changed])
    assert len(catalog._identifiers) == 3 and catalog._dead == 1
    assert catalog.get_record("a") == changed
    assert _ids(catalog.search({"filters": ["catalogID = X1"]})) == []
    assert _ids(catalog.search({"filters": ["catalogID = X2"]})) == ["a"]
    assert _ids(catalog.search({"filters": ["cloudCover < 10"]})) == []
    assert _ids(catalog.search({"searchAreaWkt": "POLYGON ((0 0, 3 0, 3 3, 0 3, 0 0))"})) == ["b"]


def test_the_removal_of_a_label_and_new_readers_of_a_label(merging: None) -> None:
    catalog = open_catalog("memory://")
    catalog.add_records(_record(f"r{i}", "POINT (1 1)", 1 + i) for i in range(10))  # odd days: WV02
    assert catalog.set_readers("WV03", ["group:b"]) == 5
    assert sorted(_ids(catalog.search({}, readers=["group:b"]))) == [
        f"r{i}" for i in range(1, 10, 2)
    ]
    assert catalog.remove_records(type_label="WV02") == 5
    assert sorted(_ids(catalog.search({}))) == [f"r{i}" for i in range(1, 10, 2)]


# -- records rebuilt exactly ------------------------------------------------------------------

safe_text = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=8
)
json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    safe_text,
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(safe_text, inner, max_size=3),
    max_leaves=8,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.dictionaries(st.sampled_from(["a", "b", "cloudCover", "x.y"]), json_values),
        min_size=1,
        max_size=12,
    )
)
def test_records_come_back_exactly_as_added(extras: list[dict[str, Any]]) -> None:
    catalog = open_catalog("memory://")
    records = [
        _record(f"r{at:02d}", "POINT (1 2)", 1 + at % 28) | {"properties": {
            "timestamp": f"2016-01-{1 + at % 28:02d}T10:00:00.000Z", "footprintWkt": "POINT (1 2)"
        } | extra}
        for at, extra in enumerate(extras)
    ]  # fmt: skip
    catalog.add_records(records)
    results = catalog.search({"limit": 1000})["results"]
    expected = {r["identifier"]: r for r in records}
    for got in results:
        want = dict(expected[got["identifier"]])
        if want["type"][0] != "GBDXCatalogRecord":
            want["type"] = ["GBDXCatalogRecord", *want["type"]]
        assert json.dumps(got) == json.dumps(want)  # key order and JSON types too
        assert json.dumps(catalog.get_record(got["identifier"])) == json.dumps(want)
    assert len(results) == len(records)


def test_nbytes_counts_every_part() -> None:
    catalog = open_catalog("memory://")
    assert isinstance(catalog, MemoryCatalog)
    catalog.add_records(_record(f"r{i}", "POINT (1 1)", 1 + i % 28) for i in range(100))
    catalog.search({})  # builds the indexes
    parts = catalog.nbytes()
    assert all(parts[name] > 0 for name in ("identifiers", "slots", "indexes")), parts
    assert parts["footprints"] >= 100 * 16  # a box each (their WKT is held as a property)
    assert not catalog._footprints.held(np.arange(100)).any()  # no WKB: the text's parse


def test_a_split_or_repaired_footprint_keeps_its_wkb_and_the_others_their_text() -> None:
    """Only a footprint that is not the parse of its text holds WKB; each intersects exactly."""
    crossing = "POLYGON ((179 10, -179 10, -179 12, 179 12, 179 10))"  # split at +-180
    bowtie = "POLYGON ((10 10, 12 12, 12 10, 10 12, 10 10))"  # crosses itself: repaired
    plain = "POLYGON ((20 20, 22 20, 22 22, 20 22, 20 20))"
    catalog = open_catalog("memory://")
    assert isinstance(catalog, MemoryCatalog)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        catalog.add_records(
            _record(name, wkt)
            for name, wkt in (("crossing", crossing), ("bowtie", bowtie), ("plain", plain))
        )
    assert catalog._footprints.held(np.arange(3)).tolist() == [True, True, False]
    texts = catalog._properties.texts("footprintWkt", np.arange(3))
    assert texts == [crossing, bowtie, plain]
    areas = {  # (area, who meets it exactly): none is inside a rectangle, so each is parsed
        "crossing": ("POLYGON ((179.5 10.5, 180 10.5, 180 11, 179.5 10.5))", ["crossing"]),
        # the text read as it is (unsplit) would span the globe and meet this area
        "not crossing": ("POLYGON ((0 10.5, 1 10.5, 1 11, 0 10.5))", []),
        # the repaired bowtie is its left and right triangles: not the gap below their apex
        "bowtie": ("POLYGON ((10.2 10.9, 10.4 10.9, 10.3 11.1, 10.2 10.9))", ["bowtie"]),
        "under the bowtie": ("POLYGON ((10.9 10.1, 11.1 10.1, 11 10.3, 10.9 10.1))", []),
        "plain": ("POLYGON ((21 21, 21.5 21, 21.5 21.5, 21 21))", ["plain"]),
        "near plain": ("POLYGON ((19 19, 20.5 19, 19 20.5, 19 19))", []),
        "corner of plain": ("POLYGON ((19 19, 20.6 19, 19 20.6, 19 19))", []),
        "into plain": ("POLYGON ((19 19, 21 19, 19 21, 19 19))", ["plain"]),
    }
    for name, (area, expected) in areas.items():
        for limit in (1, 1000):
            found = _ids(catalog.search({"searchAreaWkt": area, "limit": limit}))
            assert found == expected[:limit], (name, limit, found)
    assert catalog.remove_records({"crossing"}) == 1  # a third: compacted, WKB and text moved
    assert catalog._dead == 0
    assert catalog._footprints.held(np.arange(2)).tolist() == [True, False]
    assert catalog._properties.texts("footprintWkt", np.arange(2)) == [bowtie, plain]
    for name, (area, expected) in areas.items():
        found = _ids(catalog.search({"searchAreaWkt": area, "limit": 1000}))
        assert found == [e for e in expected if e != "crossing"], (name, found)


def test_boxes_compare_with_the_area_in_float64() -> None:
    """A bound that float32 would round (2.3e-117 to 0) must not let a point at 0 in or out."""
    footprints = Footprints()
    footprints.append([shapely.Point(0, 0), shapely.Point(0.1, 0.5)])
    area = Area(shapely.box(0, 2.3e-117, 1, 1))
    rows = np.arange(2, dtype=np.int64)
    assert area.inside(footprints.boxes).tolist() == [False, True]
    assert footprints.intersecting(area, rows).tolist() == [1]
    index = BoxIndex.build(footprints.boxes, rows)
    below = Area(shapely.box(-1, -1, 0.1 - 1e-12, 1))  # x1 just under 0.1: float32 rounds down
    assert index.query(below).tolist() == [0, 1]  # a box may over-include
    assert footprints.intersecting(below, rows).tolist() == [0]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from([0.0, 1.5, 2.0, -3.0]), st.sampled_from([0.0, 1.0, 7.25])),
        min_size=3,
        max_size=6,
    ),
    st.booleans(),
)
def test_an_area_is_told_a_rectangle_exactly(points: list[tuple[float, float]], hole: bool) -> None:
    """Area's rectangle test from the coordinates agrees with shapely's equality with the box."""
    ring = [*points, points[0]]
    inner = [(0.1, 0.1), (0.2, 0.1), (0.2, 0.2), (0.1, 0.1)] if hole else None
    polygon = shapely.Polygon(ring, None if inner is None else [inner])
    if not polygon.is_valid:  # a bow tie, a spike, a line: never a rectangle
        assert _rectangle(polygon) is None, polygon.wkt
        return
    general = (
        shapely.get_num_geometries(polygon) == 1
        and shapely.area(polygon) > 0
        and bool(shapely.equals(polygon, shapely.box(*shapely.bounds(polygon))))
    )
    area = Area(polygon)
    assert len(area.rectangles) == int(general), (polygon.wkt, area.rectangles)
    if general:
        assert area.rectangles.tolist() == [list(shapely.bounds(polygon))]
    five = shapely.get_num_coordinates(polygon) == 5  # then told without shapely.equals
    assert (_rectangle(polygon) is not None) == (general and five), polygon.wkt
    assert area.boxes.dtype == np.float64
    assert bool(shapely.equals(area.shape, polygon))


def test_every_filter_applies_when_the_first_leaves_few_slots() -> None:
    """Found by the brute-force test: a first filter leaving few slots skipped the second."""
    catalog = open_catalog("memory://")
    catalog.add_records(
        _record(f"r{i:03d}", "POINT (1 1)", 1 + i % 28, cloudCover=i % 10, rank=i)
        for i in range(100)
    )
    found = catalog.search({"filters": ["rank < 3", "cloudCover = 1"], "limit": 1000})["results"]
    assert [r["identifier"] for r in found] == ["r001"]  # the first leaves 3: rows at a time
    for filters in (["cloudCover < 3", "cloudCover = 1"], ["cloudCover < 9", "cloudCover = 1"]):
        found = catalog.search({"filters": filters, "limit": 1000})["results"]
        assert sorted(r["identifier"] for r in found) == [f"r{i:03d}" for i in range(1, 100, 10)]


def test_a_lone_surrogate_in_a_filter_compares_on_many_rows() -> None:
    """The columns cannot hold the literal: such a filter is tested a row at a time."""
    catalog = open_catalog("memory://")
    catalog.add_records(
        _record(f"r{i:03d}", "POINT (1 1)", 1 + i % 28, catalogID=f"a{i}") for i in range(20)
    )
    lone = "\udfff"
    assert len(catalog.search({"filters": [f"catalogID < '{lone}'"]})["results"]) == 20
    assert catalog.search({"filters": [f"catalogID = '{lone}'"]})["results"] == []


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from(["a", "b", "c", "zz"]), st.booleans()), max_size=40),
    st.randoms(use_true_random=False),
)
def test_time_orders_break_ties_by_identifier(slots: list[tuple[str, bool]], rng: Any) -> None:
    """Both time orders: by time key, then by identifier ascending and descending."""
    catalog = MemoryCatalog("memory://")
    names = rng.sample([f"id{i}" for i in range(100)], len(slots))
    catalog._identifiers.append(names)
    catalog._times.extend(np.array([t.encode() for t, _ in slots], dtype="S2"))
    live = np.flatnonzero(np.array([alive for _, alive in slots], dtype=bool))
    ascending, descending = catalog._time_orders(live)
    key = [(slots[s][0], names[s]) for s in live.tolist()]
    want = [live[i] for i in sorted(range(len(key)), key=key.__getitem__)]
    assert ascending.tolist() == [int(s) for s in want]
    by_name_backward = sorted(range(len(key)), key=lambda i: key[i][1], reverse=True)
    backward = sorted(by_name_backward, key=lambda i: key[i][0])  # stable: names stay backward
    assert descending.tolist() == [int(live[i]) for i in backward]


_TIME_KEYS = st.builds(
    lambda moment, fraction: moment.strftime("%Y-%m-%dT%H:%M:%S") + fraction,
    st.datetimes(),
    st.sampled_from(["", ".5", ".05", ".123456789", ".1234567890123", ".9"]),
)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.one_of(_TIME_KEYS, st.sampled_from(["2016-01-01T00:00:00", "2016-01-01T00:00:00.5"])),
        max_size=40,
    )
)
@example(["2016-01-01T00:00:00"] * 3)
@example(["2016-01-01", "2016-01-01T00:00:00"])  # not the usual form: numpy's sort
@example(["2016-01-01T00:00:00x", "2016-01-01T00:00:0a"])
def test_time_keys_sort_as_their_bytes(keys: list[str]) -> None:
    from catalogql.search.stores.memory import _time_order

    times = np.asarray([key.encode() for key in keys], dtype=np.bytes_)
    assert _time_order(times).tolist() == np.argsort(times, kind="stable").tolist()


# -- equality keys: derived by the store from the properties, the same as records' --------------

hot_texts = (
    st.sampled_from(
        [
            "10",
            "0012",
            "1030010045539700",
            "1030012469E02100",
            "10400100203F1300",
            "LC8174053",
            "true",
            "FALSE",
            "truth",
            "2016-01-01",
            "2016-01-01T10:00:00Z",
            "2016-13-01",
            " 12 ",
            "-1e3",
            "1e400",
            "inf",
            "١٢",
            "9" * 308,
            "9" * 309,
            "9" * 5000,
            "",
            "x" + chr(0xDFFF),
        ]
    )
    | st.text(alphabet="0123456789eE+-. TtrufalsRUFALSE:Z-", max_size=24)
    | st.text(max_size=12)
)
hot_values = st.recursive(
    hot_texts | st.integers() | st.floats() | st.booleans() | st.none(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(safe_text, inner, max_size=2),
    max_leaves=6,
)  # fmt: skip


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.dictionaries(st.sampled_from(["catalogID", "bucketPrefix", "a.b", "a"]), hot_values),
        max_size=12,
    )
)
@example([{"catalogID": "1030010045539700"}, {}, {"catalogID": ["7", True, 2.5, None]}])
def test_the_store_derives_the_equality_keys_that_records_derive(
    properties: list[dict[str, Any]],
) -> None:
    indexed = ["catalogID", "bucketPrefix", "a.b"]
    hashes, owners = hashed_keys(properties, indexed)
    got = sorted(zip(hashes.tolist(), owners.tolist(), strict=True))
    readers = [(name, property_getter(name)) for name in indexed]
    want = sorted(
        (hash(key), at)
        for at, props in enumerate(properties)
        for key in {
            key
            for name, read in readers
            if read(props) is not None
            for key in value_keys(name, read(props))
        }
    )
    assert got == want
