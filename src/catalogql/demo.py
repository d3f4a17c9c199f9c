"""The main job: build an embedded catalog and run the GBDX documentation's example searches.

``catalogql demo`` (and ``make demo``) generates a realistic synthetic catalog
(:mod:`catalogql.testing.synthetic`), loads it into an SQLite file with a progress bar, and runs the
example searches of the GBDX Catalog v2 documentation. For each it prints the request, the SQL
and CQL2 its filters compile to, a compact table of the results and the stats. The synthetic
catalog holds acquisitions and IDAHO images, not 1B products, so the examples that name the type
``1BProduct`` ask for ``DigitalGlobeAcquisition`` instead; the example catalog id is replaced by
one from the generated catalog. Both substitutions are printed.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TextIO

from catalogql.compile.cql2 import to_cql2_text
from catalogql.compile.sql import to_sql
from catalogql.search import Catalog, InvalidSearchRequest, SearchRequest, open_catalog
from catalogql.search.engine import all_of
from catalogql.testing.synthetic import generate_records

__all__ = ["EXAMPLES", "Example", "run_search_demo"]

DENVER = (
    "POLYGON ((-105.35202026367188 39.48113956424843, -105.35202026367188 40.044848254075546, "
    "-104.65988159179688 40.044848254075546, -104.65988159179688 39.48113956424843, "
    "-105.35202026367188 39.48113956424843))"
)
SAN_FRANCISCO = (
    "POLYGON ((-122.41189956665039 37.59415685597818, -122.41189956665039 37.64460175855099, "
    "-122.34529495239259 37.64460175855099, -122.34529495239259 37.59415685597818, "
    "-122.41189956665039 37.59415685597818))"
)
KATHMANDU = (
    "POLYGON ((85.12055941 27.08074442, 85.31423408 27.10157442, 85.31502922 26.960545, "
    "85.11922108 26.93735095, 85.12055941 27.08074442))"
)
CATALOG_ID = "1050010018826700"  # the documentation's example id

Example = tuple[str, dict[str, Any]]

EXAMPLES: tuple[Example, ...] = (
    (
        "Search by all criteria",
        {
            "searchAreaWkt": DENVER,
            "startDate": "2014-01-01T00:00:00.000Z",
            "endDate": "2014-12-31T23:59:59.999Z",
            "filters": [
                "(sensorPlatformName = WORLDVIEW03_VNIR) OR (sensorPlatformName = WORLDVIEW03_SWIR)"
            ],
            "types": ["1BProduct"],
            "limit": 3,
        },
    ),
    ("Search by spatial area", {"searchAreaWkt": SAN_FRANCISCO, "startDate": None, "limit": 3}),
    (
        "Search by date range",
        {
            "searchAreaWkt": None,
            "startDate": "2018-06-01T12:00:00.000Z",
            "endDate": "2018-06-06T12:00:00.000Z",
            "limit": 3,
        },
    ),
    ("Search by a single type", {"searchAreaWkt": KATHMANDU, "types": ["WV02"], "limit": 5}),
    (
        "Search by type using a partial string",
        {
            "searchAreaWkt": DENVER,
            "startDate": "2017-01-01T00:00:00.000Z",
            "endDate": "2018-09-01T23:59:59.999Z",
            "types": ["WV03*"],
            "limit": 5,
        },
    ),
    (
        "Search by multiple types",
        {
            "searchAreaWkt": DENVER,
            "startDate": "2014-01-01T00:00:00.000Z",
            "endDate": "2014-12-31T23:59:59.999Z",
            "types": ["WV02 OR WV03_VNIR"],
            "limit": 5,
        },
    ),
    (
        "Filter by cloud cover",
        {
            "searchAreaWkt": DENVER,
            "startDate": "2017-01-01T00:00:00.000Z",
            "endDate": "2018-09-01T23:59:59.999Z",
            "types": ["1BProduct"],
            "filters": ["cloudCover < 20"],
            "limit": 5,
        },
    ),
    ("Filter by catalog ID", {"filters": [f"catalogID = {CATALOG_ID}"]}),
    (
        "Filter by catalog ID, acquisitions only",
        {"types": ["Acquisition"], "filters": [f"catalogID = {CATALOG_ID}"]},
    ),
    (
        "Filter by multiple properties",
        {
            "searchAreaWkt": DENVER,
            "startDate": "2017-01-01T00:00:00.000Z",
            "endDate": "2018-12-31T23:59:59.999Z",
            "types": ["1BProduct"],
            "filters": [
                "(sensorPlatformName = WORLDVIEW03_VNIR OR sensorPlatformName = WORLDVIEW03_SWIR)",
                "cloudCover < 20",
                "offNadirAngle < 10",
            ],
            "limit": 5,
        },
    ),
    ("The 1000-record cap, and the true count", {"types": ["Acquisition"], "countTotal": True}),
    (
        "A request the service refuses (400), every problem listed",
        {
            "searchAreaWkt": "MULTIPOLYGON (((0 0, 1 0, 1 1, 0 0)))",
            "startDate": "2018-01-01",
            "endDate": "2017-01-01",
            "filters": ["cloudCover < 20 and offNadirAngle < 10"],
            "limit": 0,
        },
    ),
)
"""The examples of the GBDX Catalog v2 search documentation (seed document 004), in order."""

_ROWS = 5  # result rows printed per search


def run_search_demo(
    out: TextIO,
    *,
    records: int = 100_000,
    seed: int = 2017,
    url: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> None:
    """Build a synthetic SQLite catalog and run the documentation's example searches.

    Args:
        out: Where to print.
        records: How many synthetic records to generate and load.
        seed: The generator's seed.
        url: The catalog to fill (an SQLite file in a temporary folder when None).
        progress: Called with (records loaded so far, records in all) after each batch.

    >>> import io
    >>> buffer = io.StringIO()
    >>> run_search_demo(buffer, records=300)
    >>> "Search by all criteria" in buffer.getvalue(), "Invalid Search Request" in buffer.getvalue()
    (True, True)
    """
    with tempfile.TemporaryDirectory(prefix="catalogql-demo-") as folder:
        target = url or f"sqlite:///{Path(folder) / 'catalog.db'}"
        with open_catalog(target) as catalog:
            _fill(catalog, out, records, seed, progress)
            substitutes = {"1BProduct": "DigitalGlobeAcquisition", CATALOG_ID: _some_id(catalog)}
            for number, (title, body) in enumerate(EXAMPLES, start=1):
                _run_example(catalog, out, number, title, _substitute(body, substitutes))


def _fill(
    catalog: Catalog,
    out: TextIO,
    records: int,
    seed: int,
    progress: Callable[[int, int], None] | None,
) -> None:
    print(f"Building {catalog.url} from {records:,} synthetic records (seed {seed})", file=out)
    loaded = 0

    def step(count: int) -> None:
        nonlocal loaded
        loaded += count
        if progress is not None:
            progress(loaded, records)

    began = time.perf_counter()
    generated = generate_records(records, seed=seed, end="2018-12-31T23:59:59.000Z")
    catalog.add_records(generated, batch_size=2000, progress=step)
    seconds = time.perf_counter() - began
    rate = records / seconds if seconds else float("inf")
    print(f"loaded {len(catalog):,} records in {seconds:.1f} s ({rate:,.0f} records/s)\n", file=out)


def _some_id(catalog: Catalog) -> str:
    """A catalog id of the generated catalog that several records share, if there is one."""
    answer = catalog.search({"types": ["IDAHOImage"], "limit": 1})
    if not answer["results"]:
        answer = catalog.search({"limit": 1})
    if not answer["results"]:
        return CATALOG_ID
    return str(answer["results"][0]["properties"].get("catalogID", CATALOG_ID))


def _substitute(body: dict[str, Any], substitutes: dict[str, str]) -> dict[str, Any]:
    text = json.dumps(body)
    for old, new in substitutes.items():
        text = text.replace(old, new)
    return json.loads(text)  # type: ignore[no-any-return]


def _run_example(
    catalog: Catalog, out: TextIO, number: int, title: str, body: dict[str, Any]
) -> None:
    print(f"{number}. {title}", file=out)
    print(f"   request: {json.dumps(body)}", file=out)
    try:
        request = SearchRequest.from_dict(body)
    except InvalidSearchRequest as error:
        print("   400 " + json.dumps(error.to_body(), indent=2).replace("\n", "\n   "), file=out)
        print(file=out)
        return
    for label, node in (
        ("filters", all_of(request.filter_nodes)),
        ("types", all_of(request.type_nodes)),
    ):
        if node is None:
            continue
        sql, params = to_sql(node, "sqlite")
        print(f"   {label} as SQL:  {_shorten(' '.join(sql.split()), 160)}", file=out)
        print(f"   parameters:    {json.dumps(params)}", file=out)
        if label == "filters":
            print(f"   filters as CQL2: {to_cql2_text(node)}", file=out)
    began = time.perf_counter()
    answer = catalog.search(request)
    milliseconds = (time.perf_counter() - began) * 1000
    results = answer["results"]
    print(f"   {len(results)} records in {milliseconds:.1f} ms", file=out)
    for line in _table(results[:_ROWS]):
        print("   " + line, file=out)
    if len(results) > _ROWS:
        print(f"   … and {len(results) - _ROWS} more", file=out)
    print(f"   stats: {json.dumps(answer['stats'])}", file=out)
    print(file=out)


def _table(results: list[dict[str, Any]]) -> Iterator[str]:
    if not results:
        return
    yield f"{'identifier':<36} {'time':<24} {'platform':<18} {'cloud':>5}"
    for record in results:
        props = record["properties"]
        yield (
            f"{record['identifier']:<36} {props.get('timestamp', ''):<24} "
            f"{props.get('sensorPlatformName', '')!s:<18} {props.get('cloudCover', '')!s:>5}"
        )


def _shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
