"""The search semantics on the real GBDX traffic of ../shared/fixtures/gbdx-v2 (see its README).

Spatial intersection is not tested here: each area search starts from the records the service
returned for the recorded ``test_catalog_search_wkt_only.yaml`` area (508 records), and the dates,
types and filters of the other recorded requests, compiled by catalogql, must select exactly what
the service returned. Dates are inclusive bounds on ``properties.timestamp``, written as filters.
"""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import pytest

import catalogql as cq

Record = Mapping[str, Any]
Records = Mapping[str, dict[str, Any]]
Cases = list[dict[str, Any]]

AREA = "test_catalog_search_wkt_only.yaml"


def search_case(cases: Cases, cassette: str) -> dict[str, Any]:
    """The recorded ``POST /catalog/v2/search`` of a cassette (the only one it has)."""
    (case,) = [c for c in cases if c["cassette"] == cassette and c["path"] == "/catalog/v2/search"]
    return case


def filter_of(text: str) -> Callable[[Record], bool]:
    """A record predicate for one filter string (on the record's properties)."""
    keep = cq.compile_predicate(cq.parse_filter(text, dialect="strict"))
    return lambda record: keep(record["properties"])


def types_of(text: str) -> Callable[[Record], bool]:
    """A record predicate for one type expression (on the record's type list)."""
    holds = cq.compile_types(cq.parse_types(text))
    return lambda record: holds(record["type"])


def date_filters(request: Mapping[str, Any]) -> list[str]:
    """``startDate``/``endDate`` as inclusive filters on ``timestamp``."""
    out = []
    if request.get("startDate"):
        out.append(f"timestamp >= '{request['startDate']}'")
    if request.get("endDate"):
        out.append(f"timestamp <= '{request['endDate']}'")
    return out


def request_predicate(request: Mapping[str, Any]) -> Callable[[Record], bool]:
    """Everything of a search request but its area: dates, types and filters, all ANDed."""
    parts = [filter_of(text) for text in date_filters(request) + list(request.get("filters") or [])]
    parts += [types_of(text) for text in request.get("types") or []]
    return lambda record: all(part(record) for part in parts)


def ids(records: Iterable[Record]) -> set[str]:
    return {record["identifier"] for record in records}


def select(records: Iterable[Record], *predicates: Callable[[Record], bool]) -> list[Record]:
    return [r for r in records if all(p(r) for p in predicates)]


@pytest.fixture(scope="module")
def area(gbdx_records: Records, gbdx_cases: Cases) -> list[Record]:
    """The 508 records the service returned for the recorded area search."""
    result_ids = search_case(gbdx_cases, AREA)["result_ids"]
    return [gbdx_records[identifier] for identifier in result_ids]


def test_the_area_search_is_the_readme_one(area: list[Record], gbdx_cases: Cases) -> None:
    case = search_case(gbdx_cases, AREA)
    assert len(area) == len(ids(area)) == 508
    assert case["request"]["types"] == ["Acquisition"]
    assert not case["request"]["startDate"] and not case["request"]["endDate"]
    assert all("Acquisition" in record["type"] for record in area)


def test_filters1_selects_exactly_the_recorded_records(
    area: list[Record], gbdx_cases: Cases
) -> None:
    case = search_case(gbdx_cases, "test_catalog_search_filters1.yaml")
    request = case["request"]
    assert request["searchAreaWkt"] == search_case(gbdx_cases, AREA)["request"]["searchAreaWkt"]
    assert len(request["filters"]) == 3
    selected = select(area, request_predicate(request))
    assert ids(selected) == set(case["result_ids"])
    assert len(selected) == case["stats"]["recordsReturned"] == 4
    assert type_counts(selected) == case["stats"]["typeCounts"]


def test_filters1_readme_counts(area: list[Record], gbdx_cases: Cases) -> None:
    request = search_case(gbdx_cases, "test_catalog_search_filters1.yaml")["request"]
    dated = select(area, *(filter_of(text) for text in date_filters(request)))
    filters = [filter_of(text) for text in request["filters"]]
    assert len(dated) == 78
    assert sum(any(f(r) for f in filters) for r in dated) == 62  # the filters ORed
    assert len(select(area, *filters)) == 15  # ANDed, without the date range
    assert len(select(dated, *filters)) == 4


def test_the_three_filters_as_one_filter_string(area: list[Record], gbdx_cases: Cases) -> None:
    case = search_case(gbdx_cases, "test_catalog_search_filters1.yaml")
    request = case["request"]
    joined = " AND ".join(f"({text})" for text in date_filters(request) + request["filters"])
    assert ids(select(area, filter_of(joined))) == set(case["result_ids"])
    with_commas = ", ".join(date_filters(request) + request["filters"])
    with pytest.warns(cq.QueryWarning):
        node = cq.parse_filter(with_commas)
    keep = cq.compile_predicate(node)
    assert {r["identifier"] for r in area if keep(r["properties"])} == set(case["result_ids"])


@pytest.mark.parametrize(
    ("text", "count"),
    [
        ("sensorPlatformName = 'WORLDVIEW03'", 0),  # = is an exact match
        ("sensorPlatformName = WORLDVIEW03_VNIR", 61),
        ("sensorPlatformName = WORLDVIEW03_SWIR", 13),
        ("sensorPlatformName = WORLDVIEW03*", 74),
        ("sensorPlatformName = 'WORLDVIEW03*'", 74),
        ("sensorPlatformName LIKE 'WORLDVIEW03%'", 74),
        ("sensorPlatformName LIKE 'WORLDVIEW03_____'", 74),
        ("sensorPlatformName = worldview03*", 0),
        ("sensorPlatformName <> WORLDVIEW03*", 508 - 74),
        ("timestamp >= 2012-01-01", 416),
        ("timestamp <= 2012-01-01", 92),
        ("NOT timestamp >= 2012-01-01", 92),
        ("timestamp >= 2012-01-01 AND timestamp <= 2012-01-01", 0),
        ("timestamp >= '2012-01-01T00:00:00.000Z' OR timestamp <= '2012-01-01T00:00:00Z'", 508),
        ("timestamp >= '2012-01-01T01:00:00+01:00'", 416),
        # offNadirAngle is missing on the 87 Landsat records: neither x nor NOT x selects them
        ("offNadirAngle < 10 OR NOT offNadirAngle < 10", 508 - 87),
        ("offNadirAngle <> -1", 508 - 87),
        ("cloudCover < 20 OR NOT cloudCover < 20", 508),
        # stereoPair is null or missing everywhere
        ("stereoPair = x OR NOT stereoPair = x OR stereoPair = *", 0),
    ],
)
def test_area_counts(area: list[Record], text: str, count: int) -> None:
    keep = cq.compile_predicate(parse_allowing_compat(text))
    assert sum(keep(r["properties"]) for r in area) == count


def parse_allowing_compat(text: str) -> cq.ast.Node:
    """Parse in the default dialect, where LIKE and commas are accepted with a warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", cq.QueryWarning)
        return cq.parse_filter(text)


def test_filters2_worldview03_returned_nothing(area: list[Record], gbdx_cases: Cases) -> None:
    case = search_case(gbdx_cases, "test_catalog_search_filters2.yaml")
    assert case["result_ids"] == [] and case["stats"]["recordsReturned"] == 0
    assert select(area, request_predicate(case["request"])) == []


@pytest.mark.parametrize(
    ("cassette", "count"),
    [
        ("test_catalog_search_wkt_and_startDate.yaml", 416),
        ("test_catalog_search_wkt_and_endDate.yaml", 92),
        ("test_catalog_search_types1.yaml", 87),
    ],
)
def test_area_searches_select_exactly_the_recorded_records(
    area: list[Record], gbdx_cases: Cases, cassette: str, count: int
) -> None:
    case = search_case(gbdx_cases, cassette)
    assert (
        case["request"]["searchAreaWkt"]
        == search_case(gbdx_cases, AREA)["request"]["searchAreaWkt"]
    )
    selected = select(area, request_predicate(case["request"]))
    assert ids(selected) == set(case["result_ids"])
    assert len(selected) == count
    assert type_counts(selected) == case["stats"]["typeCounts"]


def test_start_and_end_of_2012_split_the_area_exactly(
    area: list[Record], gbdx_cases: Cases
) -> None:
    after = ids(select(area, filter_of("timestamp >= '2012-01-01T00:00:00.000Z'")))
    before = ids(select(area, filter_of("timestamp <= '2012-01-01T00:00:00.000Z'")))
    assert (len(after), len(before)) == (416, 92)
    assert after.isdisjoint(before)  # no record sits exactly on the boundary
    assert after | before == ids(area)
    assert after == set(
        search_case(gbdx_cases, "test_catalog_search_wkt_and_startDate.yaml")["result_ids"]
    )
    assert before == set(
        search_case(gbdx_cases, "test_catalog_search_wkt_and_endDate.yaml")["result_ids"]
    )


def test_types1_landsat(area: list[Record], gbdx_cases: Cases) -> None:
    case = search_case(gbdx_cases, "test_catalog_search_types1.yaml")
    assert case["request"]["types"] == ["LandsatAcquisition"]
    assert len(select(area, types_of("LandsatAcquisition"))) == 87
    assert len(select(area, types_of("Landsat*"))) == 87
    assert len(select(area, types_of("Acquisition AND NOT LandsatAcquisition"))) == 508 - 87


def test_a_search_without_area_selects_exactly_the_recorded_records(
    gbdx_records: Records, gbdx_cases: Cases
) -> None:
    # Dates and types only, not capped: no other recorded record falls in the week.
    cassette = "test_catalog_search_startDate_and_endDate_only_less_than_one_week_apart.yaml"
    case = search_case(gbdx_cases, cassette)
    assert case["request"]["searchAreaWkt"] is None
    selected = select(gbdx_records.values(), request_predicate(case["request"]))
    assert ids(selected) == set(case["result_ids"])
    assert len(selected) == 643


def test_every_recorded_result_satisfies_its_request(
    gbdx_records: Records, gbdx_cases: Cases
) -> None:
    searches = [c for c in gbdx_cases if c["path"] == "/catalog/v2/search"]
    assert len(searches) == 16
    for case in searches:
        keep = request_predicate(case["request"])
        failing = [i for i in case["result_ids"] if not keep(gbdx_records[i])]
        assert failing == [], case["cassette"]


def test_type_counts_match_the_recorded_results(gbdx_records: Records, gbdx_cases: Cases) -> None:
    searches = [c for c in gbdx_cases if c["path"] == "/catalog/v2/search"]
    for case in searches:
        counts = type_counts(gbdx_records[i] for i in case["result_ids"])
        stats = case["stats"]
        assert counts == stats["typeCounts"], case["cassette"]
        assert stats["recordsReturned"] == stats["totalRecords"] == len(case["result_ids"])
        assert len(set(case["result_ids"])) == len(case["result_ids"]), case["cassette"]


def type_counts(records: Iterable[Record]) -> dict[str, int]:
    """``stats.typeCounts``: every type label of the returned records, counted."""
    return dict(Counter(label for record in records for label in record["type"]))


def test_every_record_is_a_gbdx_catalog_record(gbdx_records: Records) -> None:
    assert len(gbdx_records) == 3670
    assert all("GBDXCatalogRecord" in r["type"] for r in gbdx_records.values())
    assert all(
        cq.semantics.parse_instant(r["properties"]["timestamp"]) for r in gbdx_records.values()
    )


def test_inferred_queryables_of_the_real_records(gbdx_records: Records) -> None:
    schema = cq.infer_queryables(gbdx_records.values())
    props = schema["properties"]
    assert len(props) == 70
    assert props["cloudCover"]["type"] == "integer"
    assert props["offNadirAngle"]["type"] == "number"
    assert props["timestamp"] == {"type": "string", "format": "date-time"}
    assert props["catalogID"]["type"] == "string"
    assert props["sensorPlatformName"]["type"] == "string"


def test_the_inferred_schema_selects_the_same_records(
    area: list[Record], gbdx_records: Records, gbdx_cases: Cases
) -> None:
    schema = cq.infer_queryables(gbdx_records.values())
    case = search_case(gbdx_cases, "test_catalog_search_filters1.yaml")
    texts = date_filters(case["request"]) + case["request"]["filters"]
    nodes = [cq.parse_filter(text, schema=schema) for text in texts]
    keeps = [cq.compile_predicate(node, schema) for node in nodes]
    selected = [r for r in area if all(k(r["properties"]) for k in keeps)]
    assert ids(selected) == set(case["result_ids"])
    with pytest.raises(cq.QueryValidationError) as excinfo:
        cq.parse_filter("cloudCovr < 10", schema=schema)
    assert "cloudCover" in excinfo.value.hint


def test_ids_compare_as_text_on_the_real_records(gbdx_records: Records) -> None:
    # IKONOS catalog ids have 28 digits: any float rounding would merge neighbouring ids.
    by_id = Counter(r["properties"].get("catalogID") for r in gbdx_records.values())
    long_ids = sorted(i for i in by_id if isinstance(i, str) and i.isdigit() and len(i) == 28)
    assert len(long_ids) >= 20
    for catalog_id in long_ids[:20]:
        for probe in (catalog_id, str(int(catalog_id) + 1), str(int(catalog_id) - 1)):
            keep = filter_of(f"catalogID = {probe}")
            assert sum(keep(r) for r in gbdx_records.values()) == by_id.get(probe, 0), probe
