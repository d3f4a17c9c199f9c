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

import contextlib
import itertools
import json
import multiprocessing
import queue
import shlex
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, TextIO

import orjson

from catalogql import __version__
from catalogql.compile.cql2 import to_cql2_text
from catalogql.compile.diagnostics import check
from catalogql.compile.gbdx import to_gbdx
from catalogql.compile.parse import parse_filter_with_diagnostics
from catalogql.compile.predicate import compile_predicate
from catalogql.compile.sql import to_sql
from catalogql.console import counted, result_table
from catalogql.errors import NotFound, UsageError
from catalogql.search import Catalog, InvalidSearchRequest, SearchRequest, open_catalog
from catalogql.search.engine import all_of
from catalogql.search.records import decoded_record
from catalogql.testing.synthetic import generate_records

__all__ = [
    "EXAMPLES",
    "Example",
    "run_search_demo",
    "run_service_tour",
    "service_tour_missing",
    "serving_lines",
    "synthetic_records",
    "write_tour_geotiff",
]

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
    force: bool = False,
) -> None:
    """Build a synthetic SQLite catalog and run the documentation's example searches.

    A catalog given by ``url`` must be empty (the synthetic records would mix with real ones)
    unless ``force``.

    Args:
        out: Where to print.
        records: How many synthetic records to generate and load.
        seed: The generator's seed.
        url: The catalog to fill (an SQLite file in a temporary folder when None).
        progress: Called with (records loaded so far, records in all) after each batch.
        force: Add the synthetic records to a ``url`` catalog that already holds records.

    Raises:
        UsageError: ``url`` names a catalog that holds records, and not ``force``.

    >>> import io
    >>> buffer = io.StringIO()
    >>> run_search_demo(buffer, records=300)
    >>> "Search by all criteria" in buffer.getvalue(), "Invalid Search Request" in buffer.getvalue()
    (True, True)
    """
    with tempfile.TemporaryDirectory(prefix="catalogql-demo-") as folder:
        target = url or f"sqlite:///{Path(folder) / 'catalog.db'}"
        with open_catalog(target) as catalog:
            held = len(catalog)
            if held and not force:
                raise UsageError(
                    f"the catalog {target} already holds {held:,} records: the demo would add "
                    f"{records:,} synthetic records to them",
                    hint="give the demo a new catalog (--db sqlite:///demo.db), or add --force "
                    "to write into this one anyway",
                )
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
    with synthetic_records(records, seed=seed, end=_DEMO_END) as generated:
        # records decoded here from the generating process's lines are handed over: checked
        # where they are, not copied (records generated in this process may share parts)
        owned = isinstance(generated, _Decoded)
        # a small first batch, so the load starts as soon as the first records are made
        first = itertools.islice(generated, _FIRST_BATCH)
        catalog.add_records(first, progress=step, batch_size=_FIRST_BATCH, owned=owned)
        catalog.add_records(generated, progress=step, batch_size=_DEMO_BATCH, owned=owned)
    seconds = time.perf_counter() - began
    rate = records / seconds if seconds else float("inf")
    total = len(catalog)
    also = f"; the catalog holds {total:,}" if total != loaded else ""
    loaded_text = counted(loaded, "record")
    print(f"loaded {loaded_text} in {seconds:.1f} s ({rate:,.0f} records/s){also}\n", file=out)


_DEMO_END = "2018-12-31T23:59:59.000Z"  # the demo's records end with 2018
_DEMO_BATCH = 20_000  # records per transaction: fewer commits, each rewriting fewer index pages
_FIRST_BATCH = 2_000  # the first batch: loading starts while the generator goes on
_CHUNK = 2_000  # records per message from the generating process
_AHEAD = 32  # messages the generating process may have made and not yet sent
_BESIDE = 20_000  # from this many records on, they are generated in a process of their own


@contextlib.contextmanager
def synthetic_records(
    count: int, *, seed: int, end: str = _DEMO_END
) -> Iterator[Iterator[dict[str, Any]]]:
    """The records of :func:`~catalogql.testing.synthetic.generate_records`, made beside the load.

    From :data:`_BESIDE` records on, another process generates them (a core of its own: the
    generator is pure Python) and sends them as JSON lines a chunk at a time while this one
    loads; the records are the same, value for value (JSON round-trips every value the
    generator makes). Fewer records, or a platform that cannot start a process, are generated
    here. Leaving the block early stops the other process.

    Args:
        count: How many records.
        seed: The generator's seed.
        end: The newest time a record may have.

    Yields:
        An iterator over the records, in the generator's order.

    >>> with synthetic_records(3, seed=7) as made:
    ...     [r["identifier"] for r in made] == [
    ...         r["identifier"] for r in generate_records(3, seed=7, end=_DEMO_END)]
    True
    """
    if count < _BESIDE:
        yield generate_records(count, seed=seed, end=end)
        return
    try:
        context = multiprocessing.get_context()
        receiver, sender = context.Pipe(duplex=False)
        worker = context.Process(
            target=_generate_into, args=(sender, count, seed, end), daemon=True
        )
        worker.start()
    except (OSError, ValueError, ImportError):  # no processes here: generate in this one
        yield generate_records(count, seed=seed, end=end)
        return
    sender.close()
    try:
        yield _Decoded(_received(receiver, count))
    finally:
        receiver.close()
        if worker.is_alive():
            worker.terminate()
        worker.join()


def _generate_into(sender: Connection, count: int, seed: int, end: str) -> None:
    """Generate records and send them as chunks of JSON lines (in the generating process).

    A thread of this process sends, so the generating goes on while the loader is busy with a
    batch and not reading (up to :data:`_AHEAD` chunks ahead); before, the two took turns.
    """
    ahead: queue.Queue[bytes | None] = queue.Queue(_AHEAD)
    stopped = threading.Event()  # the loader stopped reading

    def send() -> None:
        try:
            while (message := ahead.get()) is not None:
                sender.send_bytes(message)
        except (BrokenPipeError, OSError):  # the loader stopped early
            stopped.set()
        finally:
            sender.close()

    def put(message: bytes | None) -> bool:
        while not stopped.is_set():
            try:
                ahead.put(message, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    sending = threading.Thread(target=send, name="catalogql-demo-send", daemon=True)
    sending.start()
    try:
        chunk: list[bytes] = []
        for record in generate_records(count, seed=seed, end=end):
            chunk.append(orjson.dumps(record))
            if len(chunk) == _CHUNK:
                if not put(b"\n".join(chunk)):
                    return
                chunk.clear()
        if chunk and not put(b"\n".join(chunk)):
            return
        put(None)
        sending.join()
    except KeyboardInterrupt:  # Ctrl-C: the loader stops too
        pass


class _Decoded(Iterator[dict[str, Any]]):
    """Records just decoded from JSON text, each new (nothing shared with anything else)."""

    def __init__(self, records: Iterator[dict[str, Any]]) -> None:
        self._records = records

    def __next__(self) -> dict[str, Any]:
        return next(self._records)


def _received(receiver: Connection, count: int) -> Iterator[dict[str, Any]]:
    """The records the generating process sends, until ``count`` have come."""
    received = 0
    while received < count:
        try:
            message = receiver.recv_bytes()
        except EOFError:
            raise UsageError(
                f"the process generating the demo's records stopped after {received:,} of "
                f"{count:,}",
                hint="run the demo again; if it stops again, give it fewer --records",
            ) from None
        lines = message.split(b"\n")
        received += len(lines)
        for line in lines:
            yield decoded_record(orjson.loads(line), line)


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
    print(f"   {counted(len(results), 'record')} in {milliseconds:.1f} ms", file=out)
    for line in result_table(results[:_ROWS]):
        print("   " + line, file=out)
    if len(results) > _ROWS:
        print(f"   … and {len(results) - _ROWS} more", file=out)
    print(f"   stats: {json.dumps(answer['stats'])}", file=out)
    print(file=out)


def _shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


# --------------------------------------------------------------------------------------------
# The tour (catalogql demo --tour): the language, without a catalog


_DEMO_SECTIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "Filters, parsed and printed in canonical form",
        (
            "(sensorPlatformName = WORLDVIEW03_VNIR) OR (sensorPlatformName = WORLDVIEW03_SWIR)",
            "sensorPlatformName = WORLDVIEW03* AND cloudCover < 20 AND offNadirAngle < 10",
            "catalogID = 1050010018826700",
            "NOT (cloudCover >= 20 OR offNadirAngle >= 10)",
        ),
    ),
    (
        "Compatibility forms: accepted with a warning, rejected by --strict",
        (
            "sensorPlatformName LIKE 'WORLDVIEW03%'",
            "cloudCover < 20, sensorPlatformName = 'WORLDVIEW03_VNIR'",
        ),
    ),
    (
        "Mistakes: where they are and what to do",
        (
            "cloudCover < 20 and offNadirAngle < 10",
            "cloudCover < WORLDVIEW*",
            "(cloudCover < 20",
        ),
    ),
)

_DEMO_FILTER = "sensorPlatformName = WORLDVIEW03* AND cloudCover < 20 AND offNadirAngle < 10"


def _record(catalog_id: str, platform: str, cloud: int, off_nadir: float | None) -> dict[str, Any]:
    """A GBDX-shaped catalog record (only the properties the demo needs)."""
    return {
        "identifier": catalog_id,
        "type": ["DigitalGlobeAcquisition", "GBDXCatalogRecord"],
        "properties": {
            "catalogID": catalog_id,
            "sensorPlatformName": platform,
            "cloudCover": cloud,
            "offNadirAngle": off_nadir,
            "timestamp": "2016-05-04T18:41:08.000Z",
        },
    }


_DEMO_RECORDS = (
    _record("10400100120FEA00", "WORLDVIEW03_VNIR", 3, 5.2),
    _record("104A0100149B1A00", "WORLDVIEW03_SWIR", 45, 8.0),
    _record("1030010057062200", "WORLDVIEW02", 0, 12.1),
    _record("1040010021E5B900", "WORLDVIEW03_VNIR", 8, None),
    _record("104001001838A000", "WORLDVIEW03_VNIR", 12, 9.5),
)


def _indent(text: str) -> str:
    return "\n".join("    " + line for line in text.splitlines())


def run_demo(out: TextIO) -> None:
    """Print a short tour of catalogql: canonical forms, warnings, caret errors and a search.

    Args:
        out: Where to write the tour.

    >>> import io
    >>> buffer = io.StringIO()
    >>> run_demo(buffer)
    >>> "selected  10400100120FEA00" in buffer.getvalue()
    True
    """
    print(f"catalogql {__version__}: GBDX filter strings, checked, printed and run\n", file=out)
    for number, (title, filters) in enumerate(_DEMO_SECTIONS, start=1):
        print(f"{number}. {title}", file=out)
        for text in filters:
            print(f"  filter:    {text}", file=out)
            diagnostics = check(text)
            if all(d.severity != "error" for d in diagnostics):
                node, _ = parse_filter_with_diagnostics(text)
                print(f"  canonical: {to_gbdx(node)}", file=out)
            for diagnostic in diagnostics:
                print(_indent(diagnostic.render(text)), file=out)
            if any(d.code.startswith("compat.") for d in diagnostics):
                strict = check(text, dialect="strict")[0]
                print(f"    strict: {strict.severity}: {strict.message}", file=out)
        print(file=out)

    keep = compile_predicate(parse_filter_with_diagnostics(_DEMO_FILTER)[0])
    print(f"{len(_DEMO_SECTIONS) + 1}. Running a filter over sample records", file=out)
    print(f"  filter:    {_DEMO_FILTER}", file=out)
    for record in _DEMO_RECORDS:
        props = record["properties"]
        verdict = "selected" if keep(props) else "skipped "
        off_nadir = json.dumps(props["offNadirAngle"])  # None shows as null, as in the JSON
        print(
            f"  {verdict}  {record['identifier']}  {props['sensorPlatformName']:<17} "
            f"cloudCover={props['cloudCover']:<3} offNadirAngle={off_nadir}",
            file=out,
        )
    print("  (a comparison on a missing or null property is false, and so is its NOT)", file=out)


# --------------------------------------------------------------------------------------------
# The service tour: a product, three bands, two GeoTIFFs, and who finds them

TOUR_AREA = "POLYGON ((-105.1 39.9, -104.8 39.9, -104.8 40.1, -105.1 40.1, -105.1 39.9))"
"""Where the tour's scenes lie (UTM zone 13N around its central meridian, north of Denver)."""

TOUR_SCENES = (
    ("scene_a", 500_000.0, 4_430_000.0, "2020-06-01T17:40:00Z", 0.05),
    ("scene_b", 501_920.0, 4_430_000.0, "2020-06-17T17:40:00Z", 0.30),
)
"""The tour's GeoTIFFs: name, upper-left corner in EPSG:32613 metres, acquired, cloud fraction."""


def write_tour_geotiff(path: Path, west: float, north: float, *, size: int = 64) -> Path:
    """Write a small GeoTIFF: ``size`` x ``size`` pixels of 30 m, 3 bands of UInt16, EPSG:32613.

    Args:
        path: The file to write.
        west: The easting of its upper-left corner (metres).
        north: The northing of its upper-left corner (metres).
        size: Its width and height in pixels.

    Returns:
        ``path``.

    >>> import tempfile, rasterio
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     made = write_tour_geotiff(Path(folder) / "a.tif", 500_000.0, 4_430_000.0)
    ...     with rasterio.open(made) as raster:
    ...         print(raster.count, raster.dtypes[0], raster.crs, raster.width)
    3 uint16 EPSG:32613 64
    """
    import numpy as np
    import rasterio
    from rasterio.transform import Affine

    ramp = np.add.outer(np.arange(size), np.arange(size)).astype("uint16")
    data = np.stack([ramp * (band + 1) for band in range(3)])
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=size,
        height=size,
        count=3,
        dtype="uint16",
        crs="EPSG:32613",
        transform=Affine(30.0, 0.0, west, 0.0, -30.0, north),
    ) as raster:
        raster.write(data)
    return path


def _visible(service: Any, principal: Any, product_id: str) -> list[str]:
    """The keys of the product's images a principal finds with a GBDX search over the area."""
    body = {
        "searchAreaWkt": TOUR_AREA,
        "types": ["UserImage"],
        "filters": [f"product = '{product_id}'"],
    }
    answer = service.search(principal, body)
    return sorted(str(record["properties"]["key"]) for record in answer["results"])


def service_tour_missing() -> list[str]:
    """The packages the service tour needs that are not installed (the ``service`` extra).

    >>> service_tour_missing()
    []
    """
    import importlib.util

    return [name for name in ("rasterio", "numpy") if importlib.util.find_spec(name) is None]


def run_service_tour(out: TextIO, *, folder: str | Path | None = None) -> None:
    """The catalog service in a few steps: a product, three bands, two uploads, who sees them.

    Alice creates a product and its bands, makes two GeoTIFFs with rasterio and uploads them;
    a search over their area finds them for her, not for Bob until she grants his group read
    access, and never for a stranger.

    Args:
        out: Where to print.
        folder: Where the tour's SQLite catalog, files and GeoTIFFs go (a temporary folder,
            removed at the end, when None).

    >>> import io
    >>> buffer = io.StringIO()
    >>> run_service_tour(buffer)
    >>> "mallory (a stranger)" in buffer.getvalue()
    True
    """
    from catalogql.service import Principal, open_service

    missing = service_tour_missing()
    if missing:
        raise UsageError(
            f"the service tour needs {' and '.join(missing)}, which are not installed",
            hint="pip install 'catalogql[service]'",
        )
    with tempfile.TemporaryDirectory(prefix="catalogql-tour-") as scratch:
        where = Path(folder) if folder is not None else Path(scratch)
        where.mkdir(parents=True, exist_ok=True)
        alice = Principal("alice", email="alice@example.com", groups=["mapping"])
        bob = Principal("bob", groups=["readers"])
        mallory = Principal("mallory")
        print(
            "The catalog service: a product, its bands, two GeoTIFFs, and who finds them", file=out
        )
        with open_service(f"sqlite:///{where / 'service.db'}") as service:
            product = service.add_product(
                alice,
                "tour_landcover",
                title="Tour land cover",
                description="A demo product",
                resolution="30m",
                revisit="16 days",
            )
            pid = product["id"]
            print(f"  alice creates product {pid}", file=out)
            print(f"    read: {product['read']} (only its owner, {alice.user})", file=out)
            for srcband, name in enumerate(("red", "green", "blue"), start=1):
                service.add_band(
                    alice,
                    pid,
                    name,
                    srcband=srcband,
                    dtype="UInt16",
                    data_range=[0, 10000],
                    type="spectral",
                )
            listed = sorted(service.list_bands(alice, pid)[0], key=lambda band: band["srcband"])
            names = [band["name"] for band in listed]
            print(
                f"  bands: {', '.join(names)} (UInt16, data_range 0-10000, srcband 1-3)", file=out
            )
            for key, west, north, acquired, cloud in TOUR_SCENES:
                path = write_tour_geotiff(where / f"{key}.tif", west, north)
                status = service.upload_image(
                    alice, pid, path, acquired=acquired, cloud_fraction=cloud
                )
                image = service.get_image(alice, pid, status["image_id"])
                print(
                    f"  upload {path.name} (64x64, 3 bands UInt16, EPSG:32613): "
                    f"{status['status']}, image {image['id']}",
                    file=out,
                )
            print(f"  a search over {TOUR_AREA[:40]}... for the product's images, as", file=out)
            _tour_searches(out, service, pid, alice, bob, mallory)
            service.change_product(alice, pid, read=["group:readers"], set_global_permissions=True)
            print(
                "  alice grants read to group:readers (and to the product's images); now", file=out
            )
            _tour_searches(out, service, pid, alice, bob, mallory)
            try:
                service.get_image(mallory, pid, TOUR_SCENES[0][0])
            except NotFound as error:
                print(f"  mallory asks for {TOUR_SCENES[0][0]} by id: {error.message}", file=out)
                print(
                    "    (the answer a missing image gets: its existence does not leak)", file=out
                )
        print(file=out)


def _tour_searches(out: TextIO, service: Any, pid: str, *people: Any) -> None:
    labels = ("alice (the owner)", "bob (group readers)", "mallory (a stranger)")
    for label, principal in zip(labels, people, strict=True):
        keys = _visible(service, principal, pid)
        found = f"finds {', '.join(keys)}" if keys else "finds nothing"
        print(f"    {label:<22} {found}", file=out)


SERVING_SEARCH = {"filters": ["cloudCover < 20"], "limit": 3}
"""The GBDX search the printed ``curl`` line sends (:func:`serving_lines`)."""


def serving_lines(url: str, *, port: int = 8000, sub: str = "demo") -> list[str]:
    """Shell lines that serve the catalog ``url`` and search it with ``curl`` (the demo's end).

    The first starts the server (until Ctrl-C); the other two, in another shell, make a token
    signed with the server's secret (found beside an SQLite catalog, or made there the first
    time) and send :data:`SERVING_SEARCH` with it.

    Args:
        url: The catalog to serve (the demo's ``--db``).
        port: The port on 127.0.0.1.
        sub: The token's subject (the user the search acts as).

    Returns:
        The lines, to print one a line.

    >>> for line in serving_lines("sqlite:///demo.db"):
    ...     print(line)
    catalogql serve --db sqlite:///demo.db --port 8000
    TOKEN=$(catalogql token --db sqlite:///demo.db --sub demo)
    curl -s -H "Authorization: Bearer $TOKEN" -d '{"filters": ["cloudCover < 20"], "limit": 3}' \
http://127.0.0.1:8000/catalog/v2/search
    """
    db = shlex.quote(url)
    body = shlex.quote(json.dumps(SERVING_SEARCH))
    return [
        f"catalogql serve --db {db} --port {port}",
        f"TOKEN=$(catalogql token --db {db} --sub {shlex.quote(sub)})",
        f'curl -s -H "Authorization: Bearer $TOKEN" -d {body} '
        f"http://127.0.0.1:{port}/catalog/v2/search",
    ]
