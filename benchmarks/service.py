"""The catalog service: upload throughput beside ``cp``, and search latency with visibility on/off.

``python -m benchmarks --only service [--service-records N]`` (or ``python -m benchmarks.service``).

**Uploads.** GeoTIFFs of about 1 MB and 50 MB (UInt16, 3 bands, pixel-interleaved, striped,
*uncompressed*, uniformly random values 0-9999, so neither the file nor a copy can take a
shortcut on repeated content) are written with rasterio into a temporary folder once per run, a
distinct file per repetition (the file store keeps each content once, so uploading the same bytes
twice would skip the write), and fsynced before anything is timed. Each file is then, in an order
rotated per file: uploaded (``svc.upload_image``) into a SQLite catalog with its file storage, and
into a memory catalog with its file storage; copied with ``shutil.copyfile`` followed by an
``fsync`` of the copy; and copied by ``cp`` in a subprocess, followed by an ``fsync`` of the copy
(``cp`` itself does not sync; the upload does). A time is the wall time of one such operation.
The ratios are upload / ``cp``, the median (and min, max) of the per-file ratios, each pair timed
side by side. One more 50 MB upload into SQLite runs under cProfile for the breakdown of its cost.

**Search with visibility.** ``--service-records`` synthetic records
(:func:`catalogql.testing.synthetic.generate_records`, 1,000,000 by default) are images of
10,000 products of 100 principals: record ``k`` belongs to product ``k mod 10,000``, which is
named ``<sha1(owner)>:p<j>`` and carried as a type label as the service's image records carry
it; each product is owned by principal ``j mod 100`` and grants ``read`` to 1-3 of 20 groups;
each principal is in 2 groups. The records of a product are written with
``catalog.add_records(records, readers=access.readers(product))`` (50 products per
transaction). The principal searching is the one whose visible share is the median of the 100.
Four kinds of request, ``per_kind`` of each: **city** and **dates** and **broad** from the search
section's mix (:func:`benchmarks.search.build_mix`), and **type** (one sensor type label and a
month; a product id cannot be named in a GBDX ``types`` entry, which refuses ``:``). Each request
runs once with ``readers=<the principal's names>`` and once with ``readers=None`` to warm, then
``reps`` times each, alternating; the ratio on/off is the median over the requests of a kind of
(median on / median off). Every result of a restricted search is checked to be readable by the
principal. Each store runs in a forked child, as in the search section.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import math
import os
import pstats
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks import report
from benchmarks.search import STORES, Request, _in_child, _PeakRss, build_mix
from benchmarks.timing import Config

FULL_RECORDS = 1_000_000
QUICK_RECORDS = 20_000
PRODUCTS = 10_000
PRINCIPALS = 100
GROUPS = 20
PRODUCTS_PER_TRANSACTION = 50
KINDS = ("city", "dates", "type", "broad")
TYPE_LABELS = ("WV02", "WV03_VNIR", "GE01", "QB02", "WV01")
POSTGRES_SETTINGS = {"shared_buffers": "1GB", "max_wal_size": "8GB"}
MB = 2**20


@dataclass(frozen=True)
class ServiceConfig:
    records: int
    sizes_mb: tuple[float, ...]  # file sizes of the upload part
    files: tuple[int, ...]  # distinct files (timed repetitions) per size
    per_kind: int
    reps: int
    stores: tuple[str, ...] = STORES
    profile: bool = True
    seed: int = 2026


def service_config(
    config: Config, records: int | None = None, stores: Sequence[str] = STORES
) -> ServiceConfig:
    """The section's sizes for a ``make bench`` run (``--quick``: smaller)."""
    if config.quick:
        return ServiceConfig(
            records or QUICK_RECORDS, (1.0, 50.0), (5, 2), per_kind=5, reps=3, stores=tuple(stores)
        )
    return ServiceConfig(
        records or FULL_RECORDS, (1.0, 50.0), (15, 5), per_kind=10, reps=5, stores=tuple(stores)
    )


# -- uploads ----------------------------------------------------------------------------------


def make_geotiff(path: Path, megabytes: float, seed: int) -> int:
    """Write an uncompressed UInt16 3-band GeoTIFF of about ``megabytes``; its size in bytes."""
    import numpy as np
    import rasterio
    from rasterio.transform import Affine

    side = max(16, int(math.sqrt(megabytes * MB / 6)))
    data = np.random.default_rng(seed).integers(0, 10_000, (3, side, side), dtype=np.uint16)
    profile = {
        "driver": "GTiff",
        "width": side,
        "height": side,
        "count": 3,
        "dtype": "uint16",
        "crs": "EPSG:32613",
        "transform": Affine(10.0, 0.0, 500_000.0, 0.0, -10.0, 4_430_000.0),
        "compress": None,
    }
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data)
    with open(path, "rb") as f:
        os.fsync(f.fileno())  # nothing of the source is left to flush while timing
    return path.stat().st_size


def _copy_fsync(src: Path, dst: Path) -> None:
    shutil.copyfile(src, dst)
    with open(dst, "rb") as f:
        os.fsync(f.fileno())


def _cp_fsync(src: Path, dst: Path) -> None:
    subprocess.run(["cp", str(src), str(dst)], check=True)
    with open(dst, "rb") as f:
        os.fsync(f.fileno())


def _open_services(tmp: Path) -> tuple[dict[str, Any], Any, dict[str, str]]:
    import catalogql as cq

    owner = cq.Principal("uploader")
    services: dict[str, Any] = {}
    products: dict[str, str] = {}
    for name, url in (
        ("sqlite", f"sqlite:///{tmp / 'upload.db'}"),
        ("memory", "memory://"),
    ):
        svc = cq.open_service(url, storage=tmp / f"{name}-files")
        pid = svc.add_product(owner, "bench", title="Bench", description="")["id"]
        for band, color in enumerate(("red", "green", "blue"), start=1):
            svc.add_band(
                owner,
                pid,
                color,
                srcband=band,
                dtype="UInt16",
                data_range=[0, 10000],
                type="spectral",
            )
        services[name] = svc
        products[name] = pid
    return services, owner, products


def _upload(svc: Any, owner: Any, pid: str, path: Path, key: str) -> None:
    status = svc.upload_image(owner, pid, path, image_id=key, acquired="2020-01-01T00:00:00Z")
    if status["status"] != "success":
        raise RuntimeError(f"the upload of {path} failed: {status.get('errors')}")


def run_uploads(cfg: ServiceConfig) -> dict[str, Any]:
    """Time uploads beside copies; the figures per size (and the profile's breakdown)."""
    out: dict[str, Any] = {"sizes": []}
    with tempfile.TemporaryDirectory(prefix="catalogql-bench-upload-") as folder:
        tmp = Path(folder)
        services, owner, products = _open_services(tmp)
        (tmp / "copies").mkdir()
        for size_mb, count in zip(cfg.sizes_mb, cfg.files, strict=True):
            sources = []
            started = time.perf_counter()
            for i in range(count):
                path = tmp / f"src-{size_mb:g}mb-{i}.tif"
                make_geotiff(path, size_mb, seed=cfg.seed + i + int(size_mb * 1000))
                sources.append(path)
            size = sources[0].stat().st_size
            print(
                f"  {count} files of {size / MB:.2f} MiB ({size:,} bytes) written in"
                f" {time.perf_counter() - started:.1f} s",
                flush=True,
            )
            contestants: list[tuple[str, Callable[[Path, str], None]]] = [
                (
                    "upload sqlite",
                    lambda p, k: _upload(services["sqlite"], owner, products["sqlite"], p, k),
                ),
                (
                    "upload memory",
                    lambda p, k: _upload(services["memory"], owner, products["memory"], p, k),
                ),
                ("copyfile+fsync", lambda p, k: _copy_fsync(p, tmp / "copies" / k)),
                ("cp+fsync", lambda p, k: _cp_fsync(p, tmp / "copies" / f"cp-{k}")),
            ]
            times: dict[str, list[float]] = {name: [] for name, _ in contestants}
            order = list(contestants)
            for i, path in enumerate(sources):
                key = f"s{size_mb:g}-{i}"
                for name, act in order:
                    t0 = time.perf_counter()
                    act(path, key)
                    times[name].append(time.perf_counter() - t0)
                order = order[1:] + order[:1]
                for copy in (tmp / "copies").iterdir():
                    copy.unlink()
            entry: dict[str, Any] = {"size_mb": size_mb, "bytes": size, "files": count}
            entry["times_s"] = times
            entry["ratio_to_cp"] = {}
            for name in times:
                pairs = [a / b for a, b in zip(times[name], times["cp+fsync"], strict=True)]
                entry["ratio_to_cp"][name] = {
                    "median": statistics.median(pairs),
                    "min": min(pairs),
                    "max": max(pairs),
                }
            out["sizes"].append(entry)
            for path in sources:
                path.unlink()
        if cfg.profile:
            out["profile"] = _profile_upload(
                services["sqlite"], owner, products["sqlite"], tmp, cfg
            )
        for svc in services.values():
            svc.close()
    return out


# (label, file suffix, function names, cumulative?) for the profile's breakdown
_PARTS: tuple[tuple[str, str, tuple[str, ...], bool], ...] = (
    ("read and check with rasterio (read_raster)", "uploads.py", ("read_raster",), True),
    ("sha256 (hash.update)", "~", ("<method 'update' of '_hashlib.HASH' objects>",), False),
    (
        "read the source file",
        "~",
        (
            "<method 'read' of '_io.BufferedReader' objects>",
            "<method 'readinto' of '_io.BufferedReader' objects>",
        ),
        False,
    ),
    ("write the stored file (os.write)", "~", ("<built-in method posix.write>",), False),
    ("fsync (file and folder)", "~", ("<built-in method posix.fsync>",), False),
    ("footprint (densify, transform, split)", "uploads.py", ("footprint",), True),
    ("image and record write (write_image)", "images.py", ("write_image",), True),
    ("SQLite commits", "~", ("<method 'commit' of 'sqlite3.Connection' objects>",), False),
)


def _profile_upload(
    svc: Any, owner: Any, pid: str, tmp: Path, cfg: ServiceConfig
) -> dict[str, Any]:
    size_mb = max(cfg.sizes_mb)
    path = tmp / "profiled.tif"
    make_geotiff(path, size_mb, seed=cfg.seed - 1)
    profiler = cProfile.Profile()
    t0 = time.perf_counter()
    profiler.enable()
    _upload(svc, owner, pid, path, "profiled")
    profiler.disable()
    wall = time.perf_counter() - t0
    stats = pstats.Stats(profiler)
    table: dict[tuple[str, int, str], tuple[Any, ...]] = stats.stats  # type: ignore[attr-defined]
    total = max(entry[3] for entry in table.values())
    parts: list[dict[str, Any]] = []
    for label, suffix, funcs, cumulative in _PARTS:
        seconds = 0.0
        for (filename, _line, name), (_cc, _nc, tt, ct, _callers) in table.items():
            if name in funcs and filename.endswith(suffix):
                seconds += ct if cumulative else tt
        parts.append({"part": label, "s": seconds, "share": seconds / total if total else 0.0})
    top = sorted(table.items(), key=lambda kv: kv[1][2], reverse=True)[:12]
    return {
        "size_mb": size_mb,
        "bytes": path.stat().st_size,
        "wall_s": wall,
        "profiled_total_s": total,
        "parts": parts,
        "top_tottime": [
            {"function": f"{Path(k[0]).name}:{k[1]}({k[2]})", "tottime_s": v[2], "calls": v[1]}
            for k, v in top
        ],
    }


# -- search with visibility ---------------------------------------------------------------------


@dataclass(frozen=True)
class Layout:
    """Who owns and reads which product, and which product holds which record."""

    principals: list[Any]
    product_ids: list[str]
    product_readers: list[tuple[str, ...]]
    chosen: int  # the principal that searches


def layout(seed: int) -> Layout:
    import catalogql as cq
    from catalogql.service.access import readers
    from catalogql.service.principals import namespace_of

    rng = random.Random(seed)
    principals = []
    for i in range(PRINCIPALS):
        groups = rng.sample(range(GROUPS), 2)
        principals.append(cq.Principal(f"user{i}", groups=[f"g{g}" for g in groups]))
    ids, grants = [], []
    for j in range(PRODUCTS):
        owner = j % PRINCIPALS
        ids.append(f"{namespace_of(f'user{owner}')}:p{j:05d}")
        read = [f"group:g{g}" for g in rng.sample(range(GROUPS), rng.randint(1, 3))]
        grants.append(readers({"owners": [f"user:{namespace_of(f'user{owner}')}"], "read": read}))
    shares = []
    for i, p in enumerate(principals):
        seen = sum(1 for names in grants if p.names.intersection(names))
        shares.append((seen, i))
    shares.sort()
    return Layout(principals, ids, grants, shares[len(shares) // 2][1])


def _search_mix(records: list[dict[str, Any]], per_kind: int, seed: int) -> list[Request]:
    rng = random.Random(seed + 1)
    mix = [r for r in build_mix(records, per_kind, seed) if r.kind in ("city", "dates", "broad")]
    for _ in range(per_kind):
        label = rng.choice(TYPE_LABELS)
        year, month = rng.randint(2010, 2017), rng.randint(1, 12)
        body = {
            "types": [label],
            "startDate": f"{year}-{month:02d}-01T00:00:00.000Z",
            "endDate": f"{year}-{month:02d}-28T23:59:59.999Z",
        }
        mix.append(Request("type", body, label=f"{label} {year}-{month:02d}"))
    return mix


def _measure_visibility(
    store: str, records: list[dict[str, Any]], lay: Layout, mix: list[Request], cfg: ServiceConfig
) -> dict[str, Any]:
    from catalogql.search import open_catalog

    peak = _PeakRss()
    out: dict[str, Any] = {"store": store}
    names = lay.principals[lay.chosen].names
    readable = {
        pid
        for pid, r in zip(lay.product_ids, lay.product_readers, strict=True)
        if names.intersection(r)
    }
    with tempfile.TemporaryDirectory(prefix="catalogql-bench-vis-") as tmp:
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
                server.ensure_postgis("bench")
            catalog = open_catalog(url, create=True)
            started = time.perf_counter()
            step = max(PRODUCTS // 10, 1)
            for first in range(0, PRODUCTS, PRODUCTS_PER_TRANSACTION):
                with catalog.transaction():
                    for j in range(first, min(first + PRODUCTS_PER_TRANSACTION, PRODUCTS)):
                        batch = records[j::PRODUCTS]
                        if batch:
                            catalog.add_records(
                                batch, readers=lay.product_readers[j], batch_size=len(batch)
                            )
                done = first + PRODUCTS_PER_TRANSACTION
                if done % step == 0 and len(records) >= 100_000:
                    rate = min(done, PRODUCTS) * len(records) / PRODUCTS
                    rate /= time.perf_counter() - started
                    print(
                        f"  {store}: {done:,} products stored ({rate:,.0f} records/s)", flush=True
                    )
            catalog.search({"startDate": "2016-01-01", "endDate": "2016-01-01", "limit": 1})
            out["load_s"] = time.perf_counter() - started
            print(f"  {store}: {len(records):,} records in {out['load_s']:.1f} s", flush=True)
            rows = []
            leaks = 0
            for request in mix:
                answers = {}
                for label, readers in (("on", names), ("off", None)):
                    answers[label] = catalog.search(request.body, readers=readers)
                for record in answers["on"]["results"]:
                    pid = ":".join(record["identifier"].split(":", 2)[:2])
                    leaks += pid not in readable
                samples: dict[str, list[float]] = {"on": [], "off": []}
                for rep in range(cfg.reps):
                    pair = (("on", names), ("off", None))
                    for label, readers in pair if rep % 2 == 0 else pair[::-1]:
                        t0 = time.perf_counter_ns()
                        catalog.search(request.body, readers=readers)
                        samples[label].append((time.perf_counter_ns() - t0) / 1e6)
                rows.append(
                    {
                        "kind": request.kind,
                        "label": request.label,
                        "on_ms": samples["on"],
                        "off_ms": samples["off"],
                        "returned_on": answers["on"]["stats"]["recordsReturned"],
                        "returned_off": answers["off"]["stats"]["recordsReturned"],
                    }
                )
            out["requests"] = rows
            out["leaks"] = leaks
            catalog.close()
        except Exception:
            import traceback

            out["error"] = traceback.format_exc()
        finally:
            if server is not None:
                server.stop()
    out["peak_rss_growth_mib"] = peak.growth_mib()
    return out


def _visibility_figures(raw: dict[str, Any]) -> dict[str, dict[str, float]]:
    figures = {}
    for kind in KINDS:
        rows = [r for r in raw.get("requests", []) if r["kind"] == kind]
        if not rows:
            continue
        on = [v for r in rows for v in r["on_ms"]]
        off = [v for r in rows for v in r["off_ms"]]
        ratios = [statistics.median(r["on_ms"]) / statistics.median(r["off_ms"]) for r in rows]
        figures[kind] = {
            "on_p50_ms": statistics.median(on),
            "off_p50_ms": statistics.median(off),
            "on_min_ms": min(on),
            "on_max_ms": max(on),
            "off_min_ms": min(off),
            "off_max_ms": max(off),
            "ratio_median": statistics.median(ratios),
            "ratio_min": min(ratios),
            "ratio_max": max(ratios),
            "returned_on": statistics.fmean(r["returned_on"] for r in rows),
            "returned_off": statistics.fmean(r["returned_off"] for r in rows),
        }
    return figures


def run_visibility(cfg: ServiceConfig) -> dict[str, Any]:
    import gc

    from catalogql.testing.synthetic import generate_records

    started = time.perf_counter()
    lay = layout(cfg.seed)
    records = list(generate_records(cfg.records, seed=cfg.seed))
    for k, record in enumerate(records):
        pid = lay.product_ids[k % PRODUCTS]
        record["identifier"] = f"{pid}:{record['identifier']}"
        record["type"] = [*record["type"], pid]
    mix = _search_mix(records, cfg.per_kind, cfg.seed)
    chosen = lay.principals[lay.chosen]
    visible = sum(1 for r in lay.product_readers if chosen.names.intersection(r))
    print(
        f"  {len(records):,} records of {PRODUCTS:,} products generated in"
        f" {time.perf_counter() - started:.1f} s; the searching principal ({chosen.sub},"
        f" groups {', '.join(chosen.groups)}) reads {visible:,} products"
        f" ({visible / PRODUCTS:.0%})",
        flush=True,
    )
    gc.collect()
    gc.freeze()
    stores: dict[str, Any] = {}
    for store in cfg.stores:
        print(f"  {store}: loading and searching in a child process", flush=True)
        raw = _in_child(_measure_visibility, store, records, lay, mix, cfg)
        if "error" in raw:
            print(f"  {store} FAILED:\n{raw['error']}")
        stores[store] = {**raw, "kinds": _visibility_figures(raw)}
    gc.unfreeze()
    return {
        "records": cfg.records,
        "products": PRODUCTS,
        "principals": PRINCIPALS,
        "groups": GROUPS,
        "visible_products": visible,
        "mix": [{"kind": r.kind, "label": r.label, "body": r.body} for r in mix],
        "stores": stores,
    }


# -- the section ----------------------------------------------------------------------------------


def _ms(value: float) -> str:
    return f"{value:.3g}" if value < 100 else f"{value:,.0f}"


def upload_table(res: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    headers = [
        "file (repetitions)",
        "contestant",
        "s min / median / max",
        "files/s",
        "MB/s",
        "÷ cp, median (min-max)",
    ]
    rows = []
    for entry in res["sizes"]:
        size = entry["bytes"]
        for name, times in entry["times_s"].items():
            median = statistics.median(times)
            ratio = entry["ratio_to_cp"][name]
            rows.append(
                [
                    f"{size / 1e6:.1f} MB ({entry['files']})",
                    name,
                    f"{min(times):.3f} / {median:.3f} / {max(times):.3f}",
                    f"{1 / median:.1f}",
                    f"{size / 1e6 / median:.0f}",
                    f"{ratio['median']:.2f}x ({ratio['min']:.2f}-{ratio['max']:.2f})",
                ]
            )
    return headers, rows


def visibility_table(res: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    headers = [
        "store",
        "request kind",
        "returned off / on",
        "off p50, ms",
        "on p50, ms",
        "on/off median (min-max)",
    ]
    rows = []
    for store, raw in res["stores"].items():
        if "error" in raw:
            rows.append([store, "failed", "", "", "", ""])
            continue
        for kind, f in raw["kinds"].items():
            rows.append(
                [
                    store,
                    kind,
                    f"{f['returned_off']:,.0f} / {f['returned_on']:,.0f}",
                    _ms(f["off_p50_ms"]),
                    _ms(f["on_p50_ms"]),
                    f"{f['ratio_median']:.2f}x ({f['ratio_min']:.2f}-{f['ratio_max']:.2f})",
                ]
            )
    return headers, rows


def profile_table(profile: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    headers = [f"one {profile['bytes'] / 1e6:.0f} MB upload into SQLite, profiled", "s", "share"]
    rows = [[p["part"], f"{p['s']:.3f}", f"{p['share']:.0%}"] for p in profile["parts"]]
    rows.append(
        [
            "whole upload (profiled / unprofiled wall)",
            f"{profile['profiled_total_s']:.3f} / {profile['wall_s']:.3f}",
            "100%",
        ]
    )
    return headers, rows


def run(
    config: Config,
    records_n: int | None = None,
    stores: Sequence[str] = STORES,
    cfg: ServiceConfig | None = None,
) -> dict[str, Any]:
    """The section: uploads, then search with visibility; the figures."""
    cfg = cfg or service_config(config, records_n, stores)
    print(report.section("Service: uploads beside cp, and search with visibility on/off"))
    print(f"load average at the start: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    started = time.perf_counter()
    uploads = run_uploads(cfg)
    headers, rows = upload_table(uploads)
    print()
    print(report.table(headers, rows, left=2))
    if "profile" in uploads:
        print()
        print(report.table(*profile_table(uploads["profile"])))
        print("top functions by own time:")
        for entry in uploads["profile"]["top_tottime"]:
            print(f"  {entry['tottime_s']:8.3f} s {entry['calls']:>8} calls  {entry['function']}")
    print(f"\nsearch with visibility: {cfg.records:,} records", flush=True)
    visibility = run_visibility(cfg)
    headers, vrows = visibility_table(visibility)
    print()
    print(report.table(headers, vrows, left=2))
    for store, raw in visibility["stores"].items():
        if "leaks" in raw:
            print(
                f"{store}: {raw['leaks']} results of restricted searches unreadable by the"
                " principal (must be 0)"
            )
    print(f"load average at the end: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    return {
        "records": cfg.records,
        "elapsed_s": time.perf_counter() - started,
        "uploads": uploads,
        "visibility": visibility,
        "tables": {"uploads": [headers, rows], "visibility": [headers, vrows]},
    }


def summary(res: dict[str, Any]) -> str:
    """The Markdown tables for the README."""
    out = [report.markdown(*upload_table(res["uploads"]), left=2)]
    if "profile" in res["uploads"]:
        out += ["", report.markdown(*profile_table(res["uploads"]["profile"]))]
    out += ["", report.markdown(*visibility_table(res["visibility"]), left=2)]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    """``python -m benchmarks.service [--quick] [--records N] [--stores ...] [--json FILE]``."""
    from benchmarks.timing import FULL, QUICK

    ap = argparse.ArgumentParser(prog="python -m benchmarks.service", description=__doc__)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--records", type=int, help="records of the visibility part (1,000,000)")
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
