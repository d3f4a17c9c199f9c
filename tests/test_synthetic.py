"""The synthetic catalog: deterministic, valid, and shaped like the recorded GBDX records."""

from __future__ import annotations

import json
import math
from collections import Counter, defaultdict
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import shapely

from catalogql import infer_queryables
from catalogql.semantics import instant_key
from catalogql.testing.synthetic import (
    OPERATING,
    PLACES,
    TYPE_MIX,
    city_area,
    generate_records,
    write_jsonl,
)

N = 40_000


@pytest.fixture(scope="module")
def sample() -> list[dict[str, Any]]:
    """40,000 records of seed 0, shared by the tests of this module (do not mutate)."""
    return list(generate_records(N, seed=0))


@pytest.fixture(scope="module")
def footprints(sample: list[dict[str, Any]]) -> Any:
    return shapely.from_wkt([r["properties"]["footprintWkt"] for r in sample])


def kind_of(types: list[str] | tuple[str, ...]) -> str:
    """The OPERATING key of a type list."""
    if types[1] == "IDAHOImage":
        return "IDAHOImage"
    return types[2] if types[2] in ("Landsat8", "IKONOS") else types[-1]


def dumps(records: Any) -> list[str]:
    return [json.dumps(r, sort_keys=True) for r in records]


# determinism and identity -------------------------------------------------------------------


def test_same_seed_gives_the_same_records_byte_for_byte(sample: list[dict[str, Any]]) -> None:
    again = generate_records(2_000, seed=0)
    assert iter(again) is again  # a stream, not a list
    assert dumps(again) == dumps(sample[:2_000])


def test_another_seed_gives_other_records(sample: list[dict[str, Any]]) -> None:
    other = list(generate_records(2_000, seed=1))
    mine = sample[:2_000]
    same = sum(a == b for a, b in zip(dumps(other), dumps(mine), strict=True))
    assert same == 0
    # a Landsat id names a scene (path, row, day), which two catalogs may well share
    shared = {r["identifier"] for r in other} & {r["identifier"] for r in mine}
    assert all(ident.startswith("L") for ident in shared), shared


def test_identifiers_are_unique(sample: list[dict[str, Any]]) -> None:
    ids = Counter(r["identifier"] for r in sample)
    assert [i for i, c in ids.items() if c > 1] == []


def test_acquisitions_are_their_own_catalog_id(sample: list[dict[str, Any]]) -> None:
    for r in sample:
        props = r["properties"]
        if r["type"][1] == "Acquisition":
            assert props["catalogID"] == r["identifier"]
            if "browseURL" in props:
                assert r["identifier"] in props["browseURL"]
        else:
            assert props["idahoImageId"] == r["identifier"]
            assert props["catalogID"] in props["vendorDatasetIdentifier"]


def test_digitalglobe_ids_name_their_sensor(sample: list[dict[str, Any]]) -> None:
    heads = {"WV01": "102", "WV02": "103", "WV03_VNIR": "104", "WV03_SWIR": "104", "QB02": "101"}
    heads["GE01"] = "105"
    for r in sample:
        if r["type"][2] == "DigitalGlobeAcquisition":
            ident = r["identifier"]
            assert len(ident) == 16 and ident.endswith("00"), ident
            assert int(ident, 16) >= 0
            assert ident.startswith(heads[r["type"][-1]]), ident


# geometry -----------------------------------------------------------------------------------


def test_every_footprint_is_a_valid_multipolygon_in_range(footprints: Any) -> None:
    assert (shapely.get_type_id(footprints) == 6).all()  # MultiPolygon
    assert shapely.is_valid(footprints).all()
    bounds = shapely.bounds(footprints)
    assert bounds[:, 0].min() >= -180 and bounds[:, 2].max() <= 180
    assert bounds[:, 1].min() >= -90 and bounds[:, 3].max() <= 90
    # nothing wraps around the antimeridian: no footprint is wider than half the world
    assert (bounds[:, 2] - bounds[:, 0]).max() < 90


def test_footprint_shapes_follow_the_sensor(sample: list[dict[str, Any]], footprints: Any) -> None:
    bounds = shapely.bounds(footprints)
    vertices = shapely.get_num_coordinates(footprints)
    by_kind: dict[str, list[tuple[float, float, int]]] = defaultdict(list)
    for r, (x0, y0, x1, y1), nv in zip(sample, bounds, vertices, strict=True):
        coslat = math.cos(math.radians((y0 + y1) / 2))
        ground = sorted(((x1 - x0) * coslat, y1 - y0))
        by_kind[kind_of(r["type"])].append((ground[0], ground[1], int(nv)))
    landsat = by_kind.pop("Landsat8")
    assert {nv for _, _, nv in landsat} == {5}
    assert all(1.9 < across < 2.3 for across, _, _ in landsat)
    for kind in ("WV01", "WV02", "QB02", "GE01"):
        across = sorted(a for a, _, _ in by_kind[kind])
        along = sorted(b for _, b, _ in by_kind[kind])
        nverts = sorted(nv for _, _, nv in by_kind[kind])
        assert 0.12 < across[len(across) // 2] < 0.25, kind  # narrow strips
        assert 0.7 < along[len(along) // 2] < 1.2, kind  # about a degree long
        assert 25 <= nverts[len(nverts) // 2] <= 60, kind  # many vertices on the long edges


def test_footprints_cluster_around_places(sample: list[dict[str, Any]], footprints: Any) -> None:
    tree = shapely.STRtree(footprints)

    def hits(wkt: str) -> int:
        return len(tree.query(shapely.from_wkt(wkt), predicate="intersects"))

    boulder = hits(city_area("Boulder"))
    tokyo = hits(city_area("Tokyo"))
    remote = hits("POLYGON((-140 -30, -139.8 -30, -139.8 -29.8, -140 -29.8, -140 -30))")
    assert boulder >= 100, boulder  # a few thousand on 1,000,000 records
    assert tokyo >= 50, tokyo
    assert remote <= 10, remote  # the South Pacific


# time ---------------------------------------------------------------------------------------


def test_timestamps_parse_and_fall_in_their_sensors_years(sample: list[dict[str, Any]]) -> None:
    windows = {kind: (first, last or "9999-12-31") for kind, (first, last) in OPERATING.items()}
    for r in sample:
        stamp = r["properties"]["timestamp"]
        key = instant_key(stamp)
        assert key is not None, stamp
        assert len(stamp) == 24 and stamp.endswith("Z"), stamp
        first, last = windows[kind_of(r["type"])]
        assert first <= key[:10] <= last, (r["type"], stamp)
        assert "1999-09-24T00:00:00" <= key <= "2017-12-31T23:59:59", stamp


def test_a_time_window_leaves_out_the_sensors_not_flying() -> None:
    records = list(generate_records(2_000, seed=5, start="2003-01-01", end="2005-12-31"))
    assert {r["type"][-1] for r in records} == {"QB02", "IKONOSAcquisition"}
    assert all(
        "2003-01-01" <= r["properties"]["timestamp"] <= "2005-12-31T23:59:59" for r in records
    )


def test_daytime_images_have_the_sun_up(sample: list[dict[str, Any]]) -> None:
    elevations = [
        r["properties"]["sunElevation"] for r in sample if "sunElevation" in r["properties"]
    ]
    assert min(elevations) >= 5.0
    assert max(elevations) <= 90.0


def test_landsat_ids_agree_with_path_row_and_date(sample: list[dict[str, Any]]) -> None:
    days: dict[tuple[int, int], list[int]] = defaultdict(list)
    for r in sample:
        if r["type"][2] != "Landsat8":
            continue
        ident, props = r["identifier"], r["properties"]
        path, row = props["path"], props["row"]
        assert ident[3:9] == f"{path:03d}{row:03d}", ident
        year, doy = int(ident[9:13]), int(ident[13:16])
        acquired = date.fromisoformat(props["timestamp"][:10])
        assert (acquired.year, acquired.timetuple().tm_yday) == (year, doy), ident
        assert 1 <= path <= 233 and 1 <= row <= 248
        if props["cloudCover"] == -1:
            assert row > 122  # only night (ascending) scenes lack a cloud estimate
        days[path, row].append(acquired.toordinal())
    # a path/row is revisited every 16 days
    for cell, ordinals in days.items():
        assert all((d - ordinals[0]) % 16 == 0 for d in ordinals), cell


# the mix and the properties -----------------------------------------------------------------


def test_type_mix_matches_the_declared_shares(sample: list[dict[str, Any]]) -> None:
    counts = Counter(tuple(r["type"]) for r in sample)
    assert set(counts) == set(TYPE_MIX)
    for types, share in TYPE_MIX.items():
        tolerance = 4 * math.sqrt(share * (1 - share) / N) + 0.001
        assert abs(counts[types] / N - share) < tolerance, (types, counts[types] / N, share)


def test_property_names_per_kind_are_the_real_ones(
    sample: list[dict[str, Any]], gbdx_records: Mapping[str, dict[str, Any]]
) -> None:
    real: dict[tuple[str, ...], set[str]] = defaultdict(set)
    for r in gbdx_records.values():
        real[tuple(r["type"])] |= set(r["properties"])
    generated: dict[tuple[str, ...], set[str]] = defaultdict(set)
    for r in sample:
        generated[tuple(r["type"])] |= set(r["properties"])
    assert set(generated) == set(real)
    for types, names in real.items():
        assert generated[types] == names, (types, generated[types] ^ names)


def test_property_types_are_the_real_ones(
    sample: list[dict[str, Any]], gbdx_records: Mapping[str, dict[str, Any]]
) -> None:
    real = infer_queryables(gbdx_records.values())["properties"]
    generated = infer_queryables(sample)["properties"]
    assert set(generated) == set(real)
    for name, schema in real.items():
        assert generated[name] == schema, name


def test_resolution_grows_with_off_nadir(sample: list[dict[str, Any]]) -> None:
    wv02 = sorted(
        (r["properties"]["offNadirAngle"], r["properties"]["panResolution"])
        for r in sample
        if r["type"][-1] == "WV02"
    )
    pans = [pan for _, pan in wv02]
    assert pans == sorted(pans)
    assert 0.45 < pans[0] < 0.48 and pans[-1] > 0.8
    for r in sample[:5_000]:
        p = r["properties"]
        for name in ("offNadirAngle", "panResolution", "multiResolution", "targetAzimuth"):
            if f"{name}_min" in p:
                assert p[f"{name}_min"] <= p[f"{name}_max"]
                assert {p[f"{name}_start"], p[f"{name}_end"]} == {
                    p[f"{name}_min"],
                    p[f"{name}_max"],
                }


# helpers ------------------------------------------------------------------------------------


def test_city_area_is_a_valid_polygon_around_each_place() -> None:
    areas = shapely.from_wkt([city_area(place) for place in PLACES])
    assert (shapely.get_type_id(areas) == 3).all()  # Polygon
    assert shapely.is_valid(areas).all()
    points = shapely.points([(p.lon, p.lat) for p in PLACES])
    assert shapely.contains(areas, points).all()
    bounds = shapely.bounds(areas)
    assert bounds[:, 0].min() >= -180 and bounds[:, 2].max() <= 180
    assert bounds[:, 1].min() >= -90 and bounds[:, 3].max() <= 90
    assert bounds[:, 2] - bounds[:, 0] == pytest.approx(0.2)
    assert bounds[:, 3] - bounds[:, 1] == pytest.approx(0.2)
    assert len({p.name for p in PLACES}) == len(PLACES) >= 100


def test_city_area_by_name_and_size() -> None:
    assert city_area("Cairo", 1.0) == (
        "POLYGON((30.74 29.54, 31.74 29.54, 31.74 30.54, 30.74 30.54, 30.74 29.54))"
    )
    with pytest.raises(KeyError, match="Atlantis"):
        city_area("Atlantis")


def test_write_jsonl_writes_the_generated_records(tmp_path: Path) -> None:
    out = tmp_path / "catalog.jsonl"
    assert write_jsonl(out, 300, seed=9) == 300
    lines = out.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in lines] == list(generate_records(300, seed=9))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n": -1}, "negative"),
        ({"n": 1, "start": "2016-01-02", "end": "2016-01-01"}, "after"),
        ({"n": 1, "start": "1980-01-01", "end": "1990-01-01"}, "no sensor"),
    ],
)
def test_bad_arguments_are_errors(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        list(generate_records(**kwargs))
