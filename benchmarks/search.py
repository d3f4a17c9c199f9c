"""Search: load rate and latency of a realistic mix of searches on each store, beside a naive scan.

The records come from :func:`catalogql.testing.synthetic.generate_records` (1,000,000 by default,
20,000 under ``--quick``), generated once in this process and shared by every contestant. The mix
has four kinds of request, built from a seeded random generator:

* ``city``: a 0.2-degree square around a place of :data:`catalogql.testing.synthetic.PLACES` (drawn
  by weight), one calendar year (2010-2017), one type expression and 2-3 filters;
* ``dates``: a date range only, 7 to 31 days between 2000 and 2017;
* ``catalogID``: ``catalogID = <id>``, the id of a record drawn from the generated ones;
* ``broad``: a continent-sized box, a broad type and no dates: it hits the cap of 1000.

Each store runs in a child process forked after the records are generated (so it shares them and
adds only its own memory): ``add_records``, then a first search (the memory store builds its
indexes there, SQLite reads its planner statistics), then every request once (the answers are
compared between stores: identical JSON is required) and then ``reps`` timed rounds over the whole
mix, in a shuffled order each round, with the garbage collector on, as a server would run. A
latency is the wall time of ``catalog.search(body)``: request parsing, planning, the store's work
and building the response. p50/p95 are nearest-rank percentiles over every timed run of a kind.

Memory: the child's peak resident set growth (``VmHWM`` after resetting it at the start, minus
``VmRSS`` at the start): what loading and searching allocate on top of the shared records. For
SQLite, the database file's size too; for PostgreSQL, ``pg_database_size`` (the server's memory is
its own processes': ``shared_buffers`` is set to 1 GB).

The naive peer is what one would write without an engine: the records in a list, each with its
``timestamp`` parsed to an aware ``datetime`` and its footprint parsed by shapely once (timed
apart, as its preparation); per request, a Python loop over every record testing the types (set
intersection), the dates (``datetime`` comparisons), the filters (pygeofilter 0.4.0's native
evaluator on :func:`catalogql.to_pygeofilter` of the parsed filters, with a queryables schema so
``catalogID`` stays text; a ``TypeError`` on a missing value counts as no match) and the area
(shapely, prepared), then a sort by (timestamp desc, identifier) and the cap. It runs once per
request (it is slow) in its own forked child, on the first ``naive_per_kind`` requests of each
kind; its answers are compared with the stores' by identifiers (a difference is reported, since
pygeofilter is not catalogql's semantics, but none is expected on this mix).
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import hashlib
import json
import math
import multiprocessing
import random
import statistics
import sys
import tempfile
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import catalogql
import catalogql.ast
from benchmarks import report
from benchmarks.timing import Config

Record = dict[str, Any]

STORES = ("memory", "sqlite", "postgresql")
KINDS = ("city", "dates", "catalogID", "broad")
TARGET_P50_MS = {"memory": 20.0, "sqlite": 100.0, "postgresql": 50.0}
BATCH_SIZE = {"memory": 10_000, "sqlite": 5_000, "postgresql": 5_000}
POSTGRES_SETTINGS = {"shared_buffers": "1GB", "max_wal_size": "8GB"}

FULL_RECORDS = 1_000_000
QUICK_RECORDS = 20_000

SCHEMA = {  # for the naive peer: how pygeofilter should type the literals
    "properties": {
        "catalogID": {"type": "string"},
        "sensorPlatformName": {"type": "string"},
        "cloudCover": {"type": "number"},
        "offNadirAngle": {"type": "number"},
        "timestamp": {"type": "string", "format": "date-time"},
    }
}

CITY_TYPES = (
    "DigitalGlobeAcquisition",
    "WV02 OR WV03_VNIR",
    "WV01 OR WV02 OR WV03_VNIR",
    "Acquisition",
)
CITY_FILTERS = {  # property: choices (2-3 different properties per request)
    "cloudCover": ("cloudCover < 20", "cloudCover < 50"),
    "offNadirAngle": ("offNadirAngle < 25", "offNadirAngle < 30"),
    "sensorPlatformName": ("sensorPlatformName = WORLDVIEW0*",),
}
CONTINENTS = {  # (west, south, east, north)
    "North America": (-125.0, 25.0, -65.0, 50.0),
    "Europe": (-10.0, 36.0, 30.0, 60.0),
    "Africa": (-17.0, -35.0, 50.0, 35.0),
    "South America": (-80.0, -55.0, -35.0, 12.0),
    "Asia": (60.0, 5.0, 145.0, 55.0),
}
BROAD_TYPES = ("Acquisition", "DigitalGlobeAcquisition", "GBDXCatalogRecord")


@dataclass(frozen=True)
class SearchConfig:
    records: int
    per_kind: int  # requests of each kind in the mix
    reps: int  # timed runs of each request (after one untimed run)
    naive_per_kind: int  # requests of each kind the naive scan runs (once each)
    stores: tuple[str, ...] = STORES
    seed: int = 2026


def search_config(config: Config, records: int | None = None) -> SearchConfig:
    if config.quick:
        return SearchConfig(records or QUICK_RECORDS, per_kind=10, reps=3, naive_per_kind=10)
    return SearchConfig(records or FULL_RECORDS, per_kind=20, reps=5, naive_per_kind=10)


@dataclass(frozen=True)
class Request:
    kind: str
    body: dict[str, Any]
    types: tuple[frozenset[str], ...] = ()  # the type expressions, as OR-alternatives (naive)
    label: str = ""


# -- the mix --------------------------------------------------------------------------------------


def build_mix(records: Sequence[Record], per_kind: int, seed: int) -> list[Request]:
    from catalogql.testing.synthetic import PLACES, city_area

    rng = random.Random(seed)
    weights = [p.weight for p in PLACES]
    mix: list[Request] = []
    for _ in range(per_kind):
        place = rng.choices(PLACES, weights)[0]
        year = rng.randint(2010, 2017)
        types = rng.choice(CITY_TYPES)
        chosen = rng.sample(sorted(CITY_FILTERS), rng.randint(2, 3))
        filters = [rng.choice(CITY_FILTERS[name]) for name in chosen]
        body = {
            "searchAreaWkt": city_area(place, 0.2),
            "startDate": f"{year}-01-01T00:00:00.000Z",
            "endDate": f"{year}-12-31T23:59:59.999Z",
            "types": [types],
            "filters": filters,
        }
        mix.append(Request("city", body, _alternatives([types]), f"{place.name} {year}"))
    for _ in range(per_kind):
        first = datetime(rng.randint(2000, 2017), 1, 1).toordinal() + rng.randrange(330)
        start = datetime.fromordinal(first).date()
        end = datetime.fromordinal(first + rng.randint(6, 30)).date()
        body = {
            "startDate": f"{start}T00:00:00.000Z",
            "endDate": f"{end}T23:59:59.999Z",
        }
        mix.append(Request("dates", body, label=f"{start} to {end}"))
    for record in rng.sample(list(records), per_kind):
        ident = record["properties"]["catalogID"]
        body = {"filters": [f"catalogID = '{ident}'"]}
        mix.append(Request("catalogID", body, label=ident))
    for _ in range(per_kind):
        name = rng.choice(sorted(CONTINENTS))
        west, south, east, north = (v + rng.uniform(-2.0, 2.0) for v in CONTINENTS[name])
        types = rng.choice(BROAD_TYPES)
        wkt = (
            f"POLYGON(({west:.4f} {south:.4f}, {east:.4f} {south:.4f}, {east:.4f} {north:.4f}, "
            f"{west:.4f} {north:.4f}, {west:.4f} {south:.4f}))"
        )
        body = {"searchAreaWkt": wkt, "types": [types]}
        mix.append(Request("broad", body, _alternatives([types]), f"{name}, {types}"))
    return mix


def _alternatives(expressions: Iterable[str]) -> tuple[frozenset[str], ...]:
    return tuple(frozenset(e.split(" OR ")) for e in expressions)


# -- measuring a store, in a child process ------------------------------------------------------


class _PeakRss:
    """Peak resident set growth of this process from now on (Linux ``/proc``)."""

    def __init__(self) -> None:
        try:  # "5" resets VmHWM to the current RSS (Linux 4.0+)
            with open("/proc/self/clear_refs", "w", encoding="ascii") as f:
                f.write("5")
            self.reset = True
        except OSError:
            self.reset = False
        self.start_kib = report.status_kib("VmRSS")

    def growth_mib(self) -> float:
        return (report.status_kib("VmHWM") - self.start_kib) / 1024


def _digest(response: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(response, sort_keys=True).encode()).hexdigest()


def _progress(store: str, total: int, started: float) -> Callable[[int], None]:
    done = 0
    step = max(total // 10, 1)
    mark = step

    def progress(n: int) -> None:
        nonlocal done, mark
        done += n
        if done >= mark and total >= 100_000:
            rate = done / (time.perf_counter() - started)
            print(f"  {store}: {done:,} records stored ({rate:,.0f}/s)", flush=True)
            mark += step

    return progress


def _measure_store(
    store: str, records: list[Record], mix: list[Request], cfg: SearchConfig
) -> dict[str, Any]:
    from catalogql.search import open_catalog

    peak = _PeakRss()
    out: dict[str, Any] = {"store": store, "batch_size": BATCH_SIZE[store]}
    with tempfile.TemporaryDirectory(prefix="catalogql-bench-") as tmp:
        server = None
        try:
            if store == "memory":
                url = "memory://"
            elif store == "sqlite":
                url = f"sqlite:///{Path(tmp) / 'catalog.db'}"
            else:
                from catalogql.testing.postgres_cluster import ThrowawayPostgres

                server = ThrowawayPostgres(settings=POSTGRES_SETTINGS).start()
                url = server.create_database("bench")
                out["postgis"] = server.ensure_postgis("bench")
            catalog = open_catalog(url)
            started = time.perf_counter()
            catalog.add_records(
                records,
                batch_size=BATCH_SIZE[store],
                progress=_progress(store, len(records), started),
            )
            out["add_s"] = time.perf_counter() - started
            started = time.perf_counter()
            catalog.search({"startDate": "2016-01-01", "endDate": "2016-01-01", "limit": 1})
            out["first_search_s"] = time.perf_counter() - started
            out["load_rate"] = len(records) / (out["add_s"] + out["first_search_s"])
            print(
                f"  {store}: {len(records):,} records in {out['add_s']:.1f} s + first search"
                f" {out['first_search_s']:.2f} s ({out['load_rate']:,.0f} records/s)",
                flush=True,
            )
            answers = []
            for request in mix:  # the first, untimed run: the answers
                response = catalog.search(request.body)
                answers.append(
                    {
                        "digest": _digest(response),
                        "returned": response["stats"]["recordsReturned"],
                        "ids": [r["identifier"] for r in response["results"]],
                    }
                )
            out["answers"] = answers
            samples: list[list[float]] = [[] for _ in mix]
            rng = random.Random(cfg.seed)
            order = list(range(len(mix)))
            search = catalog.search
            for _ in range(cfg.reps):
                rng.shuffle(order)
                for i in order:
                    body = mix[i].body
                    t0 = time.perf_counter_ns()
                    search(body)
                    samples[i].append((time.perf_counter_ns() - t0) / 1e6)
            out["samples_ms"] = samples
            if store == "sqlite":
                out["disk_mib"] = sum(p.stat().st_size for p in Path(tmp).iterdir()) / 2**20
            elif server is not None:
                (size,) = server.execute("SELECT pg_database_size('bench')")[0]
                out["disk_mib"] = size / 2**20
            catalog.close()
        except Exception:
            out["error"] = traceback.format_exc()
        finally:
            if server is not None:
                server.stop()
    out["peak_rss_growth_mib"] = peak.growth_mib()
    out["peak_rss_exact"] = peak.reset
    return out


# -- the naive scan ---------------------------------------------------------------------------


def _naive_scan(records: list[Record], mix: list[Request], cfg: SearchConfig) -> dict[str, Any]:
    import logging

    import shapely
    from pygeofilter.backends.native.evaluate import NativeEvaluator

    logging.getLogger("lark").setLevel(logging.WARNING)
    peak = _PeakRss()
    started = time.perf_counter()
    footprints = shapely.from_wkt([r["properties"]["footprintWkt"] for r in records]).tolist()
    prepared = [
        (
            datetime.fromisoformat(r["properties"]["timestamp"]),
            r["identifier"],
            frozenset(r["type"]),
            r["properties"],
            geometry,
            r,
        )
        for r, geometry in zip(records, footprints, strict=True)
    ]
    del footprints
    prep_s = time.perf_counter() - started
    print(f"  naive scan: prepared {len(records):,} records in {prep_s:.1f} s", flush=True)
    chosen = _naive_selection(mix, cfg.naive_per_kind)
    times: dict[int, float] = {}
    ids: dict[int, list[str]] = {}
    for i in chosen:
        request = mix[i]
        t0 = time.perf_counter_ns()
        found = _naive_search(prepared, request, NativeEvaluator, shapely)
        times[i] = (time.perf_counter_ns() - t0) / 1e6
        ids[i] = [r["identifier"] for r in found["results"]]
    return {
        "prep_s": prep_s,
        "times_ms": times,
        "ids": ids,
        "peak_rss_growth_mib": peak.growth_mib(),
    }


def _naive_selection(mix: list[Request], per_kind: int) -> list[int]:
    seen: Counter[str] = Counter()
    chosen = []
    for i, request in enumerate(mix):
        if seen[request.kind] < per_kind:
            seen[request.kind] += 1
            chosen.append(i)
    return chosen


def _naive_search(
    prepared: list[tuple[Any, ...]], request: Request, evaluator: Any, shapely: Any
) -> dict[str, Any]:
    body = request.body
    area = None
    if body.get("searchAreaWkt"):
        area = shapely.from_wkt(body["searchAreaWkt"])
        shapely.prepare(area)
    start = datetime.fromisoformat(body["startDate"]) if body.get("startDate") else None
    end = datetime.fromisoformat(body["endDate"]) if body.get("endDate") else None
    keep = None
    if body.get("filters"):
        nodes = [catalogql.parse_filter(text) for text in body["filters"]]
        node = nodes[0] if len(nodes) == 1 else catalogql.ast.And(tuple(nodes))
        keep = evaluator(use_getattr=False).evaluate(catalogql.to_pygeofilter(node, SCHEMA))
    types = request.types
    matches = []
    for stamp, _ident, labels, properties, footprint, record in prepared:
        if types and not all(not labels.isdisjoint(alternatives) for alternatives in types):
            continue
        if start is not None and stamp < start:
            continue
        if end is not None and stamp > end:
            continue
        if keep is not None:
            try:
                if not keep(properties):
                    continue
            except TypeError:  # None < 20 on a missing property: no match
                continue
        if area is not None and not area.intersects(footprint):
            continue
        matches.append((stamp, record))
    matches.sort(key=lambda m: m[1]["identifier"])
    matches.sort(key=lambda m: m[0], reverse=True)
    results = [record for _, record in matches[: min(body.get("limit", 1000), 1000)]]
    counts: Counter[str] = Counter()
    for record in results:
        counts.update(record["type"])
    stats = {
        "recordsReturned": len(results),
        "totalRecords": len(results),
        "typeCounts": dict(sorted(counts.items())),
    }
    return {"stats": stats, "results": results}


# -- running children ---------------------------------------------------------------------------


def _in_child(work: Callable[..., dict[str, Any]], *args: Any) -> dict[str, Any]:
    """Run ``work(*args)`` in a forked child (sharing the parent's records); return its dict."""
    ctx = multiprocessing.get_context("fork")
    receive, send = ctx.Pipe(duplex=False)

    def target() -> None:
        try:
            result = work(*args)
        except BaseException:
            result = {"error": traceback.format_exc()}
        send.send(result)
        send.close()

    child = ctx.Process(target=target)
    child.start()
    send.close()
    try:
        result: dict[str, Any] = receive.recv()
    except EOFError:
        result = {"error": f"the child process died (exit code {child.exitcode})"}
    child.join()
    if child.exitcode not in (0, None) and "error" not in result:
        result["error"] = f"the child process exited with code {child.exitcode}"
    return result


# -- figures ------------------------------------------------------------------------------------


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


@dataclass
class StoreFigures:
    store: str
    raw: dict[str, Any]
    kinds: dict[str, dict[str, float]] = field(default_factory=dict)
    overall: dict[str, float] = field(default_factory=dict)


def _figures(raw: dict[str, Any], mix: list[Request], naive: dict[str, Any] | None) -> StoreFigures:
    fig = StoreFigures(raw["store"], raw)
    if "samples_ms" not in raw:
        return fig
    samples = raw["samples_ms"]
    everything: list[float] = []
    for kind in KINDS:
        idx = [i for i, r in enumerate(mix) if r.kind == kind]
        values = [v for i in idx for v in samples[i]]
        everything += values
        entry = {"p50_ms": percentile(values, 50), "p95_ms": percentile(values, 95)}
        entry["max_ms"] = max(values)
        returned = [raw["answers"][i]["returned"] for i in idx]
        entry["returned_mean"] = statistics.fmean(returned)
        entry["capped"] = sum(n == 1000 for n in returned)
        if naive is not None and "times_ms" in naive:
            pairs = [
                naive["times_ms"][i] / statistics.median(samples[i])
                for i in idx
                if i in naive["times_ms"]
            ]
            if pairs:
                entry["naive_over_store"] = statistics.median(pairs)
        fig.kinds[kind] = entry
    fig.overall = {"p50_ms": percentile(everything, 50), "p95_ms": percentile(everything, 95)}
    return fig


def _compare(
    raws: dict[str, dict[str, Any]], mix: list[Request], naive: dict[str, Any] | None
) -> dict[str, Any]:
    """Every store must give the same JSON answer; the naive scan the same identifiers."""
    answered = {s: r["answers"] for s, r in raws.items() if "answers" in r}
    mismatches = []
    if len(answered) > 1:
        (first, reference), *others = answered.items()
        for store, answers in others:
            for i, (a, b) in enumerate(zip(reference, answers, strict=True)):
                if a["digest"] != b["digest"]:
                    mismatches.append(
                        {
                            "request": i,
                            "kind": mix[i].kind,
                            "body": mix[i].body,
                            "stores": [first, store],
                            "returned": [a["returned"], b["returned"]],
                            "same_ids": a["ids"] == b["ids"],
                        }
                    )
    naive_diff = []
    if naive is not None and "ids" in naive and answered:
        store, reference = next(iter(answered.items()))
        for i, ids in naive["ids"].items():
            if ids != reference[i]["ids"]:
                naive_diff.append(
                    {
                        "request": i,
                        "kind": mix[i].kind,
                        "body": mix[i].body,
                        "returned": [len(ids), reference[i]["returned"]],
                        "compared_with": store,
                    }
                )
    return {"store_mismatches": mismatches, "naive_differences": naive_diff}


def _fmt(value: float) -> str:
    if value != value:
        return "n/a"
    return f"{value:.3g}" if value < 100 else f"{value:,.0f}"


def tables(
    figs: dict[str, StoreFigures], naive: dict[str, Any] | None, mix: list[Request], n: int
) -> tuple[list[str], list[list[str]], list[str], list[list[str]]]:
    """(headers, rows) of the latency table and of the load/memory table."""
    stores = [s for s, f in figs.items() if f.kinds]
    naive_times = (naive or {}).get("times_ms", {})
    headers = ["request kind (ms)"] + [f"{s} p50 / p95" for s in stores]
    headers += ["naive scan p50 / p95"] + [f"naive/{s}" for s in stores]
    rows = []
    for kind in KINDS:
        row = [f"{kind} (returned {_returned(figs, stores, kind)})"]
        for s in stores:
            k = figs[s].kinds[kind]
            row.append(f"{_fmt(k['p50_ms'])} / {_fmt(k['p95_ms'])}")
        nt = [t for i, t in naive_times.items() if mix[i].kind == kind]
        row.append(f"{_fmt(percentile(nt, 50))} / {_fmt(percentile(nt, 95))} ({len(nt)})")
        for s in stores:
            r = figs[s].kinds[kind].get("naive_over_store", math.nan)
            row.append("n/a" if r != r else f"{_fmt(r)}x")
        rows.append(row)
    overall = ["whole mix"]
    for s in stores:
        o = figs[s].overall
        overall.append(f"{_fmt(o['p50_ms'])} / {_fmt(o['p95_ms'])}")
    nt = list(naive_times.values())
    overall.append(f"{_fmt(percentile(nt, 50))} / {_fmt(percentile(nt, 95))} ({len(nt)})")
    overall += [""] * len(stores)
    rows.append(overall)
    target = ["p50 target"]
    for s in stores:
        goal = TARGET_P50_MS[s]
        ok = figs[s].overall["p50_ms"] <= goal
        target.append(f"≤ {goal:.0f} {'✓' if ok else '✗'}")
    target += [""] * (1 + len(stores))
    rows.append(target)

    load_headers = [
        f"{n:,} records",
        "batch",
        "add_records, s",
        "first search, s",
        "records/s",
        "peak RSS growth, MiB",
        "on disk, MiB",
    ]
    load_rows = []
    for s, f in figs.items():
        raw = f.raw
        if "add_s" not in raw:
            load_rows.append([s, str(raw["batch_size"]), "failed", "", "", "", ""])
            continue
        disk = raw.get("disk_mib")
        load_rows.append(
            [
                s,
                f"{raw['batch_size']:,}",
                f"{raw['add_s']:,.1f}",
                f"{raw['first_search_s']:.2f}",
                f"{raw['load_rate']:,.0f}",
                f"{raw['peak_rss_growth_mib']:,.0f}",
                "" if disk is None else f"{disk:,.0f}",
            ]
        )
    if naive is not None and "prep_s" in naive:
        load_rows.append(
            [
                "naive scan (parse times and footprints)",
                "",
                f"{naive['prep_s']:,.1f}",
                "",
                f"{n / naive['prep_s']:,.0f}",
                f"{naive['peak_rss_growth_mib']:,.0f}",
                "",
            ]
        )
    return headers, rows, load_headers, load_rows


def _returned(figs: dict[str, StoreFigures], stores: list[str], kind: str) -> str:
    k = figs[stores[0]].kinds[kind]
    return f"~{k['returned_mean']:,.0f}" + (f", {k['capped']} capped" if k["capped"] else "")


# -- the section --------------------------------------------------------------------------------


def run(
    config: Config, records_n: int | None = None, stores: Sequence[str] = STORES
) -> dict[str, Any]:
    cfg = search_config(config, records_n)
    cfg = SearchConfig(cfg.records, cfg.per_kind, cfg.reps, cfg.naive_per_kind, tuple(stores))
    from catalogql.testing.synthetic import generate_records

    print(report.section(f"Search: {cfg.records:,} synthetic records, a mix of four kinds"))
    code = _code_version(cfg.stores)
    print(f"code: {code}")
    started = time.perf_counter()
    base = _PeakRss()
    records = list(generate_records(cfg.records, seed=cfg.seed))
    generate_s = time.perf_counter() - started
    records_mib = base.growth_mib()
    print(
        f"generated {len(records):,} records in {generate_s:.1f} s"
        f" ({records_mib:,.0f} MiB as Python objects, shared by every contestant)"
    )
    mix = build_mix(records, cfg.per_kind, cfg.seed)
    gc.collect()
    gc.freeze()  # the shared records: no child walks or copies them for a collection
    raws: dict[str, dict[str, Any]] = {}
    for store in cfg.stores:
        print(f"{store}: loading and searching in a child process", flush=True)
        raws[store] = _in_child(_measure_store, store, records, mix, cfg)
        if "error" in raws[store]:
            print(f"  {store} FAILED:\n{_indent(raws[store]['error'])}")
    print("naive scan: pygeofilter's native evaluator over every record, in a child", flush=True)
    naive: dict[str, Any] | None = _in_child(_naive_scan, records, mix, cfg)
    if naive is not None and "error" in naive:
        print(f"  naive scan FAILED:\n{_indent(naive['error'])}")
    gc.unfreeze()
    figs = {s: _figures(raw, mix, naive) for s, raw in raws.items()}
    checks = _compare(raws, mix, naive)
    headers, rows, load_headers, load_rows = tables(figs, naive, mix, cfg.records)
    print()
    print(report.table(headers, rows))
    print(
        f"\n{cfg.per_kind} requests per kind, each timed {cfg.reps} times warm (shuffled rounds);"
        " p50/p95 are nearest-rank\nover every timed run. Naive scan: one run per request on the"
        f" first {cfg.naive_per_kind} of each kind (count in\nparentheses); naive/store is the"
        " median over those requests of naive time / store median time."
    )
    print()
    print(report.table(load_headers, load_rows))
    print(
        "records/s counts add_records and the first search (which builds the memory store's"
        " indexes).\nPeak RSS growth: the child's peak resident set over its start (the records"
        " are shared)."
    )
    _print_checks(checks, raws, mix)
    return {
        "records": cfg.records,
        "seed": cfg.seed,
        "code": code,
        "per_kind": cfg.per_kind,
        "reps": cfg.reps,
        "naive_per_kind": cfg.naive_per_kind,
        "generate_s": generate_s,
        "records_mib": records_mib,
        "targets_p50_ms": TARGET_P50_MS,
        "postgres_settings": POSTGRES_SETTINGS,
        "mix": [{"kind": r.kind, "label": r.label, "body": r.body} for r in mix],
        "stores": {
            s: {
                "error": f.raw.get("error"),
                "batch_size": f.raw.get("batch_size"),
                "add_s": f.raw.get("add_s"),
                "first_search_s": f.raw.get("first_search_s"),
                "load_rate": f.raw.get("load_rate"),
                "peak_rss_growth_mib": f.raw.get("peak_rss_growth_mib"),
                "disk_mib": f.raw.get("disk_mib"),
                "kinds": f.kinds,
                "overall": f.overall,
                "meets_target": bool(f.overall) and f.overall["p50_ms"] <= TARGET_P50_MS[s],
                "samples_ms": f.raw.get("samples_ms"),
                "returned": [a["returned"] for a in f.raw.get("answers", [])],
            }
            for s, f in figs.items()
        },
        "naive": None
        if naive is None
        else {
            "error": naive.get("error"),
            "prep_s": naive.get("prep_s"),
            "peak_rss_growth_mib": naive.get("peak_rss_growth_mib"),
            "times_ms": {str(k): v for k, v in naive.get("times_ms", {}).items()},
        },
        "checks": checks,
        "table": {"headers": headers, "rows": rows},
        "load_table": {"headers": load_headers, "rows": load_rows},
    }


def _code_version(stores: Sequence[str]) -> str:
    """Import the stores now, so that every child runs this code; say which commit it is."""
    import importlib
    import subprocess

    for store in stores:
        module = "postgres" if store == "postgresql" else store
        # a store that fails to import fails again in its child, which reports it
        with contextlib.suppress(Exception):
            importlib.import_module(f"catalogql.search.stores.{module}")
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "src"], capture_output=True, text=True
        ).stdout.split("\n")
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    changed = [line[3:] for line in dirty if line.strip()]
    return head + (f" with uncommitted changes in {', '.join(changed)}" if changed else "")


def _print_checks(
    checks: dict[str, Any], raws: dict[str, dict[str, Any]], mix: list[Request]
) -> None:
    answered = [s for s, r in raws.items() if "answers" in r]
    bad = checks["store_mismatches"]
    if bad:
        print(f"\n!!! STORES DISAGREE on {len(bad)} request(s) (this is a bug) !!!")
        for m in bad[:10]:
            print(
                f"  request {m['request']} ({m['kind']}): {m['stores'][0]} returned"
                f" {m['returned'][0]}, {m['stores'][1]} {m['returned'][1]}"
                f" (same identifiers: {m['same_ids']}); body {json.dumps(m['body'])}"
            )
    elif len(answered) > 1:
        print(f"\nAll {len(answered)} stores gave identical answers on all {len(mix)} requests.")
    diff = checks["naive_differences"]
    if diff:
        print(f"The naive scan differs on {len(diff)} request(s):")
        for d in diff[:5]:
            print(
                f"  request {d['request']} ({d['kind']}): naive {d['returned'][0]} records,"
                f" {d['compared_with']} {d['returned'][1]}; body {json.dumps(d['body'])}"
            )
    elif answered:
        print("The naive scan returned the same records, in the same order, on every request.")


def summary(res: dict[str, Any]) -> str:
    """The Markdown tables for the README."""
    return "\n".join(
        [
            report.markdown(res["table"]["headers"], res["table"]["rows"]),
            "",
            report.markdown(res["load_table"]["headers"], res["load_table"]["rows"]),
        ]
    )


def _indent(text: str) -> str:
    return "\n".join("    " + line for line in text.rstrip().splitlines())


def main(argv: list[str] | None = None) -> int:
    """``python -m benchmarks.search [--quick] [--records N] [--stores ...] [--json FILE]``."""
    from benchmarks.timing import FULL, QUICK

    ap = argparse.ArgumentParser(prog="python -m benchmarks.search", description=__doc__)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--records", type=int, help="how many records (default 1,000,000)")
    ap.add_argument("--stores", nargs="+", choices=STORES, default=list(STORES))
    ap.add_argument("--json", metavar="FILE", type=Path)
    args = ap.parse_args(argv)
    print(report.describe(report.machine()))
    res = run(QUICK if args.quick else FULL, args.records, args.stores)
    print()
    print(summary(res))
    if args.json:
        args.json.write_text(json.dumps(res, indent=2, default=str) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
