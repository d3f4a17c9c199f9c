"""``catalogql serve`` under load: throughput and latency per kind of request, and nothing lost.

``python -m benchmarks --only serve`` (or ``python -m benchmarks.serve [--quick] [--stores ...]``).

**The server.** ``catalogql serve --workers 2`` runs as a subprocess on 127.0.0.1 (loopback
only; its own process group, its request log to a file) over SQLite in a temporary folder, and
over PostgreSQL when a throwaway cluster can be started (:class:`ThrowawayPostgres`; not in
``--quick``). Before it starts, the catalog gets the GBDX fixture records (``records.jsonl``,
the IDAHO snapshot 1.0, as the conformance tests load them), and a product of the principal
``bench`` with three UInt16 bands and :data:`PRELOADED_IMAGES` images (so a Metadata search
pages).

**The load.** ``clients`` asyncio tasks, each with its own ``httpx.AsyncClient`` (one
connection each), in this process, send requests back to back for a fixed time. A *phase* is
one of: ``healthz`` alone (``GET /healthz``, the same stack's trivial endpoint: the ceiling of
uvicorn + FastAPI + the middleware on this machine), ``get`` alone (``GET
/catalog/v2/record/{id}`` of a random fixture record), and the *mix*, each client cycling
through :data:`MIX`: record gets, GBDX searches (:data:`GBDX_BODIES`, limit 100), Metadata
searches of the product that follow ``X-Continuation-Token`` to the end (pages of 50; one
search is one figure, however many pages), and uploads (the POST that answers the signed URL,
then the PUT of a small generated GeoTIFF; one upload is one figure, both requests). After an
untimed warm-up of the mix (the workers import rasterio on their first upload, open their
connections, fill their caches), the phases run in that order ``rounds`` times (interleaved,
so a slow spell of the machine hits all of them); a figure is the median over rounds, with
the spread (min-max) beside it. A kind whose route the server does not serve (its
``/openapi.json`` lacks it) is left out of the mix and named.

**Nothing lost (the checks; any failure makes the result FAIL).** Every response must be a 2xx
(every other answer or transport error is printed: kind, status, body); every Metadata search
must list every preloaded image, each once; after the load, every acknowledged upload (PUT
answered 2xx) must end ``success`` (read in process), be found by ``GET
/catalog/v2/record/{id}`` (and ``GET /metadata/v1/get/{id}`` when served), be in a full Metadata
search of the product, and have its file in the storage; the product's image count must be the
preloaded images plus the acknowledged uploads, exactly; and the server must stop on SIGTERM
with exit status 0.

**Serialization.** In process, the engine's answer to a GBDX search returning 1,000 records
(``types: ["Acquisition"]``) is turned into the bytes the route sends (the route's
``JSONBody``, orjson) ``reps`` times; the median and best, beside the standard library's
``json.dumps`` of the same answer.

The load generator shares the machine's cores with the two workers (and with whatever else
runs), so the absolute figures are a floor; the ratios to ``healthz`` in the same round are
what to read.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks import report
from benchmarks.records import DEFAULT_RECORDS
from benchmarks.search import percentile
from benchmarks.timing import Config

ROOT = Path(__file__).resolve().parents[1]
STORES = ("sqlite", "postgresql")
OWNER = "bench"
SECRET = b"secret-of-the-serve-benchmark-0123456789"
PRELOADED_IMAGES = 120
METADATA_PAGE = 50
MIX = ("get", "gbdx", "get", "metadata", "get", "upload", "get", "gbdx")
KINDS = ("healthz", "get", "gbdx", "metadata", "upload")
GBDX_BODIES: tuple[dict[str, Any], ...] = (
    {"types": ["Acquisition"], "limit": 100},
    {
        "types": ["DigitalGlobeAcquisition"],
        "startDate": "2015-01-01T00:00:00.000Z",
        "endDate": "2016-12-31T23:59:59.999Z",
        "filters": ["cloudCover < 20"],
        "limit": 100,
    },
    {
        "searchAreaWkt": "POLYGON((-10 30, 40 30, 40 60, -10 60, -10 30))",
        "types": ["Acquisition"],
        "limit": 100,
    },
    {"types": ["WV01"], "filters": ["offNadirAngle < 20", "sunElevation > 30"], "limit": 100},
)
UPLOAD_POOL = 32  # distinct small GeoTIFFs; an upload takes the next one


@dataclass(frozen=True)
class ServeConfig:
    clients: int
    seconds: dict[str, float]  # per phase
    rounds: int
    stores: tuple[str, ...]
    serialize_reps: int
    warm_up_s: float = 2.0  # of the mix, untimed, before the rounds
    seed: int = 2026
    max_records: int | None = None  # the first N fixture records only (the test's short run)


def serve_config(config: Config, stores: Sequence[str] | None = None) -> ServeConfig:
    """The section's sizes for a ``make bench`` run (``--quick``: one short round, SQLite)."""
    if config.quick:
        return ServeConfig(
            clients=8,
            seconds={"healthz": 1.5, "get": 1.5, "mix": 3.0},
            rounds=1,
            stores=tuple(stores or ("sqlite",)),
            serialize_reps=15,
            warm_up_s=1.5,
        )
    return ServeConfig(
        clients=8,
        seconds={"healthz": 4.0, "get": 4.0, "mix": 10.0},
        rounds=3,
        stores=tuple(stores or STORES),
        serialize_reps=50,
        warm_up_s=4.0,
    )


# -- the catalog and the server ---------------------------------------------------------------


def fixture_records(path: Path = DEFAULT_RECORDS) -> list[dict[str, Any]] | None:
    """The GBDX fixture records (whole), IDAHO snapshot 1.0 only; None when the file is absent."""
    if not path.is_file():
        return None
    with path.open(encoding="utf-8") as f:
        records = [json.loads(line) for line in f if line.strip()]
    return [
        r
        for r in records
        if "IDAHOImage" not in r["type"] or r["properties"].get("version") == "1.0"
    ]


def _image_geometry(k: int) -> dict[str, Any]:
    lon, lat = -105.0 + (k % 20) * 0.05, 39.0 + (k // 20) * 0.05
    ring = [[lon, lat], [lon + 0.04, lat], [lon + 0.04, lat + 0.04], [lon, lat + 0.04], [lon, lat]]
    return {"type": "Polygon", "coordinates": [ring]}


def prepare(url: str, storage: Path, records: list[dict[str, Any]]) -> dict[str, Any]:
    """Load the records and the product (bands, preloaded images); what the load needs."""
    import catalogql as cq

    owner = cq.Principal(OWNER)
    with cq.open_service(url, storage=storage) as svc:
        svc.catalog.add_records(records, batch_size=1000)
        pid = svc.add_product(owner, "serve-bench", title="Serve bench", description="")["id"]
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
        images = []
        for k in range(PRELOADED_IMAGES):
            key = f"pre{k:04d}"
            svc.add_image(
                owner,
                pid,
                key,
                acquired=f"2019-{k % 12 + 1:02d}-{k % 28 + 1:02d}T10:00:00Z",
                geometry=_image_geometry(k),
                cloud_fraction=(k % 10) / 10,
            )
            images.append(f"{pid}:{key}")
    return {
        "product": pid,
        "record_ids": [r["identifier"] for r in records],
        "images": images,
    }


def make_tiffs(n: int, seed: int) -> list[bytes]:
    """``n`` distinct small GeoTIFFs (3 UInt16 bands, 32 x 32, UTM 13N near Denver)."""
    import numpy as np
    from rasterio.io import MemoryFile
    from rasterio.transform import Affine

    rng = np.random.default_rng(seed)
    out = []
    for k in range(n):
        profile = {
            "driver": "GTiff",
            "width": 32,
            "height": 32,
            "count": 3,
            "dtype": "uint16",
            "crs": "EPSG:32613",
            "transform": Affine(10.0, 0.0, 500_000.0 + 400 * k, 0.0, -10.0, 4_430_000.0),
        }
        with MemoryFile() as mem:
            with mem.open(**profile) as dst:
                dst.write(rng.integers(0, 10_000, (3, 32, 32), dtype=np.uint16))
            out.append(bytes(mem.read()))
    return out


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Server:
    """A ``catalogql serve`` subprocess (its own process group) and where it answers."""

    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def log_tail(self, lines: int = 30) -> str:
        text = self.log.read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 40.0) -> int | None:
        """Signal the group (SIGTERM: gracefully); the exit status (None: it had to be killed)."""
        if self.process.poll() is None:
            with suppress(ProcessLookupError):
                os.killpg(self.process.pid, sig)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
            return None


def start_server(db: str, storage: Path, folder: Path, workers: int = 2) -> Server:
    """Start ``catalogql serve`` on a free loopback port; wait for ``/healthz``."""
    import httpx

    secret_file = folder / "secret"
    secret_file.write_bytes(SECRET)
    port = _free_port()
    log = folder / f"serve-{port}.log"
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    for proxy in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY"):
        env.pop(proxy, None)
    env.pop("CATALOGQL_SECRET", None)
    command = [sys.executable, "-m", "catalogql", "serve", "--db", db, "--port", str(port)]
    command += ["--storage", str(storage), "--workers", str(workers)]
    command += ["--secret-file", str(secret_file)]
    with log.open("wb") as out:
        process = subprocess.Popen(
            command,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=folder,
            start_new_session=True,
        )
    server = Server(f"http://127.0.0.1:{port}", process, log)
    deadline = time.monotonic() + 60
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"serve exited with {process.returncode}:\n{server.log_tail()}")
        try:
            if httpx.get(f"{server.url}/healthz", timeout=1.0).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            server.stop(signal.SIGKILL)
            raise RuntimeError(f"serve did not answer /healthz in 60 s:\n{server.log_tail()}")
        time.sleep(0.1)


def token() -> str:
    from catalogql.http.auth import make_token

    return make_token(SECRET, OWNER, ttl=3 * 3600)


# -- the load ---------------------------------------------------------------------------------


@dataclass
class Shared:
    """What the clients of one store share: the routes, the data, and what they saw."""

    base: str
    headers: dict[str, str]
    product: str
    record_ids: list[str]
    preloaded: frozenset[str]
    tiffs: list[bytes]
    served: frozenset[str]
    uploads_sent: int = 0
    acknowledged: list[str] = field(default_factory=list)  # upload ids whose PUT answered 2xx
    failures: list[str] = field(default_factory=list)
    pages: list[int] = field(default_factory=list)


class Failed(Exception):
    """A request that did not answer as it must (its description is the message)."""


def _check(response: Any, kind: str) -> None:
    if not 200 <= response.status_code < 300:
        raise Failed(
            f"{kind}: {response.request.method} {response.request.url.path} answered"
            f" {response.status_code}: {response.text[:300]}"
        )


async def _op(
    kind: str, client: Any, bare: Any, shared: Shared, rng: random.Random, tag: str
) -> None:
    if kind == "healthz":
        _check(await client.get("/healthz"), kind)
    elif kind == "get":
        identifier = rng.choice(shared.record_ids)
        _check(await client.get(f"/catalog/v2/record/{identifier}"), kind)
    elif kind == "gbdx":
        response = await client.post("/catalog/v2/search", json=rng.choice(GBDX_BODIES))
        _check(response, kind)
    elif kind == "metadata":
        await _metadata_all(client, shared, kind)
    elif kind == "upload":
        await _upload(client, bare, shared, tag)
    else:  # pragma: no cover - a programming error
        raise AssertionError(kind)


async def _metadata_all(client: Any, shared: Shared, kind: str) -> list[str]:
    """Every image of the product, following the continuation header to the end."""
    body: dict[str, Any] = {
        "date": "acquired",
        "limit": METADATA_PAGE,
        "products": [shared.product],
        "sort_order": "asc",
    }
    seen: list[str] = []
    pages = 0
    while True:
        response = await client.post("/metadata/v1/search", json=body)
        _check(response, kind)
        pages += 1
        page = response.json()
        if not isinstance(page, list):
            raise Failed(f"{kind}: a page is not a JSON list: {response.text[:200]}")
        seen += [str(feature.get("id")) for feature in page]
        next_token = response.headers.get("X-Continuation-Token")
        if page and next_token is None:
            raise Failed(f"{kind}: a non-empty page came without X-Continuation-Token")
        if not page or not next_token:
            break
        if pages > 10_000:
            raise Failed(f"{kind}: more than 10,000 pages: the continuation never ends")
        body["continuation_token"] = next_token
    shared.pages.append(pages)
    if len(set(seen)) != len(seen):
        raise Failed(f"{kind}: a search listed {len(seen) - len(set(seen))} images twice")
    missing = shared.preloaded - set(seen)
    if missing:
        raise Failed(
            f"{kind}: a search missed {len(missing)} preloaded images, e.g. {min(missing)}"
        )
    return seen


async def _upload(client: Any, bare: Any, shared: Shared, tag: str) -> None:
    """The client's two requests: the POST answering a URL, the PUT of the bytes (no token)."""
    upload_id = f"{tag}.tif"
    data = shared.tiffs[shared.uploads_sent % len(shared.tiffs)]
    shared.uploads_sent += 1
    response = await client.post(
        f"/metadata/v1/catalog/products/{shared.product}/images/upload/{upload_id}",
        json={
            "acquired": "2021-06-01T00:00:00Z",
            "process_controls": {"upload_type": "file"},
        },
    )
    _check(response, "upload (POST)")
    url = response.text
    put = await bare.put(url, content=data, headers={"Content-Type": "application/octet-stream"})
    _check(put, "upload (PUT)")
    shared.acknowledged.append(upload_id)


async def _request_group(request: Any) -> None:
    """As the real client: a fresh ``X-Request-Group`` on every call (the idempotency key)."""
    request.headers["X-Request-Group"] = uuid.uuid4().hex


async def _client(
    number: int,
    plan: Sequence[str],
    seconds: float,
    shared: Shared,
    samples: dict[str, list[float]],
    label: str,
    seed: int,
) -> None:
    import httpx

    rng = random.Random(seed * 1000 + number)
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    async with (
        httpx.AsyncClient(
            base_url=shared.base,
            headers=shared.headers,
            limits=limits,
            timeout=60.0,
            trust_env=False,
            event_hooks={"request": [_request_group]},
        ) as client,
        httpx.AsyncClient(
            limits=limits,
            timeout=60.0,
            trust_env=False,
            event_hooks={"request": [_request_group]},
        ) as bare,
    ):
        deadline = time.perf_counter() + seconds
        step = number  # the clients start at different places of the plan
        while time.perf_counter() < deadline:
            kind = plan[step % len(plan)]
            step += 1
            started = time.perf_counter()
            try:
                await _op(kind, client, bare, shared, rng, f"{label}-c{number}-{step}")
            except Failed as exc:
                shared.failures.append(str(exc))
            except httpx.HTTPError as exc:
                shared.failures.append(f"{kind}: {type(exc).__name__}: {exc}")
            else:
                samples.setdefault(kind, []).append(time.perf_counter() - started)


def phase(
    shared: Shared, plan: Sequence[str], seconds: float, clients: int, label: str, seed: int
) -> dict[str, Any]:
    """Run ``clients`` clients through ``plan`` for ``seconds``; per kind: count, rate, p50, p99."""
    samples: dict[str, list[float]] = {}
    failures_before = len(shared.failures)

    async def all_clients() -> float:
        started = time.perf_counter()
        await asyncio.gather(
            *(_client(n, plan, seconds, shared, samples, label, seed) for n in range(clients))
        )
        return time.perf_counter() - started

    cpu = time.process_time()
    wall = asyncio.run(all_clients())
    cpu = time.process_time() - cpu
    kinds = {
        kind: {
            "count": len(values),
            "per_s": len(values) / wall,
            "p50_ms": percentile(values, 50) * 1e3,
            "p99_ms": percentile(values, 99) * 1e3,
        }
        for kind, values in samples.items()
    }
    return {
        "wall_s": wall,
        "client_cpu": cpu / wall,  # the load generator's share of one core
        "kinds": kinds,
        "failures": len(shared.failures) - failures_before,
    }


# -- after the load: nothing lost --------------------------------------------------------------


def verify(
    url: str, storage: Path, shared: Shared, server: Server, timeout: float = 60.0
) -> list[str]:
    """The lost writes and inconsistencies after the load (empty: none)."""
    import httpx

    import catalogql as cq

    problems: list[str] = []
    owner = cq.Principal(OWNER)
    pid = shared.product
    acked = set(shared.acknowledged)
    with cq.open_service(url, storage=storage) as svc:
        deadline = time.monotonic() + timeout
        statuses: dict[str, dict[str, Any]] = {}
        for upload_id in sorted(acked):
            while True:
                status = svc.upload_status(owner, pid, upload_id)
                if status["status"] not in ("pending", "running") or time.monotonic() > deadline:
                    break
                time.sleep(0.2)
            statuses[upload_id] = status
            if status["status"] != "success":
                problems.append(
                    f"acknowledged upload {upload_id} ended {status['status']}:"
                    f" {status.get('errors')}"
                )
        image_ids = {f"{pid}:{status['image_id']}" for status in statuses.values()}
        with httpx.Client(base_url=shared.base, headers=shared.headers, trust_env=False) as client:
            for identifier in sorted(image_ids):
                response = client.get(f"/catalog/v2/record/{identifier}")
                if response.status_code != 200:
                    problems.append(f"GET /catalog/v2/record/{identifier}: {response.status_code}")
                if "metadata_get" in shared.served:
                    response = client.get(f"/metadata/v1/get/{identifier}")
                    if response.status_code != 200:
                        problems.append(
                            f"GET /metadata/v1/get/{identifier}: {response.status_code}"
                        )
            if "metadata" in shared.served:

                async def listing() -> list[str]:
                    async with httpx.AsyncClient(
                        base_url=shared.base, headers=shared.headers, trust_env=False
                    ) as aclient:
                        return await _metadata_all(aclient, shared, "final metadata search")

                try:
                    listed = set(asyncio.run(listing()))
                except Failed as exc:
                    problems.append(str(exc))
                    listed = set()
            else:
                listed = set()
                body: dict[str, Any] = {"products": [pid], "limit": 1000}
                while True:
                    page, next_token = svc.metadata_search(owner, body)
                    listed |= {str(f["id"]) for f in page}
                    if not page or not next_token:
                        break
                    body["continuation_token"] = next_token
        lost = sorted(image_ids - listed)
        if lost:
            problems.append(f"{len(lost)} uploaded images not found by the search, e.g. {lost[0]}")
        expected = len(shared.preloaded) + len(image_ids)
        if len(listed) != expected:
            problems.append(
                f"the search lists {len(listed)} images; expected {expected}"
                f" ({len(shared.preloaded)} preloaded + {len(image_ids)} acknowledged uploads)"
            )
        count = svc.summary(owner, {"products": [pid]})["count"]
        if count != expected:
            problems.append(f"the summary counts {count} images; expected {expected}")
        for identifier in sorted(image_ids):
            key = identifier[len(pid) + 1 :]
            image = svc.get_image(owner, pid, key)
            for sha in image.get("file_sha256s") or ():
                if not svc.files.exists(sha):
                    problems.append(f"image {identifier}: its file {sha} is not in the storage")
    code = server.stop(signal.SIGTERM)
    if code != 0:
        problems.append(f"serve did not stop cleanly on SIGTERM (exit status {code})")
    return problems


# -- serialization ----------------------------------------------------------------------------


def measure_serialization(url: str, reps: int) -> dict[str, Any]:
    """The route's bytes of a 1,000-record GBDX search answer: median and best, and json's."""
    import catalogql as cq
    from catalogql.http.errors import JSONBody

    with cq.open_service(url) as svc:
        answer = svc.search(cq.Principal(OWNER), {"types": ["Acquisition"], "limit": 1000})
    returned = answer["stats"]["recordsReturned"]
    times: dict[str, list[float]] = {"orjson": [], "json": []}
    size = len(JSONBody(answer).body)
    for _ in range(reps):
        started = time.perf_counter_ns()
        JSONBody(answer)
        times["orjson"].append(time.perf_counter_ns() - started)
        started = time.perf_counter_ns()
        json.dumps(answer, separators=(",", ":"), ensure_ascii=False).encode()
        times["json"].append(time.perf_counter_ns() - started)
    return {
        "records": returned,
        "bytes": size,
        "median_ns": {k: statistics.median(v) for k, v in times.items()},
        "min_ns": {k: min(v) for k, v in times.items()},
    }


def measure_in_process(url: str, storage: Path, record_ids: list[str], reps: int) -> dict[str, Any]:
    """Each kind's time through the whole ASGI app in process, one request at a time (no
    sockets, no other process): what a request costs the stack itself, median and best."""
    import httpx

    from catalogql.http import create_app

    app = create_app(url, storage=storage, secret=SECRET)
    headers = {"Authorization": f"Bearer {token()}"}
    rng = random.Random(7)
    calls: dict[str, Any] = {
        "healthz": lambda c: c.get("/healthz"),
        "get": lambda c: c.get(f"/catalog/v2/record/{rng.choice(record_ids)}"),
        "gbdx": lambda c: c.post("/catalog/v2/search", json=GBDX_BODIES[0]),
    }

    async def measure() -> dict[str, list[float]]:
        times: dict[str, list[float]] = {kind: [] for kind in calls}
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://bench", headers=headers
        ) as client:
            for call in calls.values():
                await call(client)  # warm
            for _ in range(reps):
                for kind, call in calls.items():
                    started = time.perf_counter_ns()
                    response = await call(client)
                    times[kind].append(time.perf_counter_ns() - started)
                    if response.status_code != 200:
                        raise RuntimeError(f"in process, {kind} answered {response.status_code}")
        return times

    try:
        times = asyncio.run(measure())
    finally:
        app.state.service.close()
    return {
        "median_ns": {k: statistics.median(v) for k, v in times.items()},
        "min_ns": {k: min(v) for k, v in times.items()},
        "reps": reps,
    }


# -- one store ----------------------------------------------------------------------------------


@contextmanager
def _database(store: str, folder: Path) -> Iterator[str]:
    if store == "sqlite":
        yield f"sqlite:///{folder / 'catalog.db'}"
        return
    from catalogql.testing.postgres_cluster import ThrowawayPostgres

    with ThrowawayPostgres() as cluster:
        url = cluster.create_database("servebench")
        cluster.ensure_postgis("servebench")
        yield url


def served_kinds(base: str) -> frozenset[str]:
    """Which optional routes the server has (from its ``/openapi.json``)."""
    import httpx

    paths = set(httpx.get(f"{base}/openapi.json", trust_env=False).json()["paths"])
    served = set()
    if "/metadata/v1/search" in paths:
        served.add("metadata")
    if any("/images/upload/" in p for p in paths):
        served.add("upload")
    if any(p.startswith("/metadata/v1/get/") for p in paths):
        served.add("metadata_get")
    return frozenset(served)


def run_store(
    store: str, cfg: ServeConfig, records: list[dict[str, Any]], tiffs: list[bytes]
) -> dict[str, Any]:
    """The load on one store: the rounds of phases, the checks, the serialization."""
    out: dict[str, Any] = {"store": store}
    with tempfile.TemporaryDirectory(prefix="catalogql-servebench-") as tmp:
        folder = Path(tmp)
        storage = folder / "files"
        try:
            db_context = _database(store, folder)
            url = db_context.__enter__()
        except Exception as exc:  # no PostgreSQL here: said, not fatal
            out["skipped"] = f"{type(exc).__name__}: {exc}"
            return out
        try:
            started = time.perf_counter()
            ready = prepare(url, storage, records)
            out["prepare_s"] = time.perf_counter() - started
            if store == "sqlite":
                out["serialization"] = measure_serialization(url, cfg.serialize_reps)
            out["in_process"] = measure_in_process(
                url, storage, ready["record_ids"], cfg.serialize_reps
            )
            server = start_server(url, storage, folder)
            try:
                served = served_kinds(server.url)
                shared = Shared(
                    base=server.url,
                    headers={"Authorization": f"Bearer {token()}"},
                    product=ready["product"],
                    record_ids=ready["record_ids"],
                    preloaded=frozenset(ready["images"]),
                    tiffs=tiffs,
                    served=served,
                )
                plan = [k for k in MIX if k in ("get", "gbdx") or k in served]
                out["not_served"] = sorted({"metadata", "upload"} - served)
                out["plan"] = plan
                # untimed: both workers import what the kinds need (rasterio for an upload),
                # open their connections and fill their caches; its failures count all the same
                out["warm_up"] = phase(
                    shared, plan, cfg.warm_up_s, cfg.clients, f"{store}-warm", cfg.seed
                )
                rounds: list[dict[str, Any]] = []
                for number in range(cfg.rounds):
                    one: dict[str, Any] = {}
                    for name, kinds in (("healthz", ["healthz"]), ("get", ["get"]), ("mix", plan)):
                        one[name] = phase(
                            shared,
                            kinds,
                            cfg.seconds[name],
                            cfg.clients,
                            f"{store}-r{number}-{name}",
                            cfg.seed + number,
                        )
                    rounds.append(one)
                    print(f"  {store} round {number + 1}: " + _round_line(one), flush=True)
                out["rounds"] = rounds
                out["pages"] = statistics.median(shared.pages) if shared.pages else None
                out["uploads_acknowledged"] = len(shared.acknowledged)
                out["failures"] = list(shared.failures)
                out["problems"] = verify(url, storage, shared, server)
            finally:
                server.stop(signal.SIGKILL, timeout=5)
                out["server_log_tail"] = server.log_tail(10)
        finally:
            db_context.__exit__(None, None, None)
    return out


def _round_line(one: dict[str, Any]) -> str:
    mix = one["mix"]["kinds"]
    parts = [
        f"healthz {one['healthz']['kinds'].get('healthz', {}).get('per_s', 0):.0f}/s",
        f"get {one['get']['kinds'].get('get', {}).get('per_s', 0):.0f}/s",
        "mix " + ", ".join(f"{k} {v['per_s']:.1f}/s" for k, v in sorted(mix.items())),
    ]
    failures = sum(p["failures"] for p in one.values())
    cpu = max(p["client_cpu"] for p in one.values())
    parts.append(f"the clients used up to {cpu:.0%} of a core")
    return "; ".join(parts) + (f"; {failures} FAILED requests" if failures else "")


# -- figures ------------------------------------------------------------------------------------


def _spread(values: Sequence[float], fmt: str = "{:.0f}") -> str:
    if not values:
        return "n/a"
    med = fmt.format(statistics.median(values))
    if len(values) == 1:
        return med
    return f"{med} ({fmt.format(min(values))}-{fmt.format(max(values))})"


def store_rows(res: dict[str, Any]) -> list[list[str]]:
    """Per kind: requests/s (median, spread), ratio to healthz, p50 and p99 ms."""
    rounds = res["rounds"]
    rows = []
    ceiling = [r["healthz"]["kinds"]["healthz"]["per_s"] for r in rounds]
    for name, kind in (("healthz", "healthz"), ("get", "get")):
        per_s = [r[name]["kinds"].get(kind, {}).get("per_s", 0.0) for r in rounds]
        ratios = [p / c for p, c in zip(per_s, ceiling, strict=True)]
        p50 = [r[name]["kinds"].get(kind, {}).get("p50_ms", float("nan")) for r in rounds]
        p99 = [r[name]["kinds"].get(kind, {}).get("p99_ms", float("nan")) for r in rounds]
        rows.append(
            [
                res["store"],
                f"{kind} alone",
                _spread(per_s),
                _spread(ratios, "{:.2f}"),
                _spread(p50, "{:.1f}"),
                _spread(p99, "{:.1f}"),
            ]
        )
    for kind in ("get", "gbdx", "metadata", "upload"):
        if kind not in res["plan"]:
            continue
        cells = [r["mix"]["kinds"].get(kind) for r in rounds]
        got = [c for c in cells if c]
        rows.append(
            [
                res["store"],
                f"{kind} in the mix"
                + (f" ({res['pages']:.0f} pages)" if kind == "metadata" else ""),
                _spread([c["per_s"] for c in got], "{:.1f}"),
                "",
                _spread([c["p50_ms"] for c in got], "{:.1f}"),
                _spread([c["p99_ms"] for c in got], "{:.1f}"),
            ]
        )
    return rows


HEADERS = ["store", "requests", "per s", "/ healthz", "p50 ms", "p99 ms"]


def verdict(res: dict[str, Any]) -> str:
    """PASS, or FAIL with the count of failed requests and lost writes."""
    bad = 0
    for store in res["stores"].values():
        bad += len(store.get("failures", [])) + len(store.get("problems", []))
    return "PASS" if bad == 0 else f"FAIL ({bad} failed requests or lost writes; see above)"


def run(
    config: Config, stores: Sequence[str] | None = None, cfg: ServeConfig | None = None
) -> dict[str, Any]:
    """The section: the load on each store, the checks, the serialization."""
    cfg = cfg or serve_config(config, stores)
    print(report.section("Serve: catalogql serve --workers 2 under load (loopback)"))
    print(f"load average at the start: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    records = fixture_records()
    if records is not None and cfg.max_records is not None:
        records = records[: cfg.max_records]
    if records is None:
        print(f"(skipped: {DEFAULT_RECORDS} not found; this section needs ../shared/fixtures)")
        return {"skipped": "no fixture records"}
    started = time.perf_counter()
    tiffs = make_tiffs(UPLOAD_POOL, cfg.seed)
    results: dict[str, Any] = {
        "clients": cfg.clients,
        "seconds": cfg.seconds,
        "rounds": cfg.rounds,
        "records": len(records),
        "stores": {},
    }
    for store in cfg.stores:
        print(f"{store}: {len(records):,} records, {PRELOADED_IMAGES} images", flush=True)
        res = run_store(store, cfg, records, tiffs)
        results["stores"][store] = res
        if "skipped" in res:
            print(f"  {store} skipped: {res['skipped']}")
            continue
        if res["not_served"]:
            print(f"  not served yet, left out of the mix: {', '.join(res['not_served'])}")
        for failure in res["failures"][:20]:
            print(f"  FAILED: {failure}")
        if len(res["failures"]) > 20:
            print(f"  ... and {len(res['failures']) - 20} more failed requests")
        for problem in res["problems"]:
            print(f"  LOST/INCONSISTENT: {problem}")
        print(
            f"  {res['uploads_acknowledged']} uploads acknowledged;"
            f" {len(res['failures'])} failed requests; {len(res['problems'])} problems after"
        )
    results["elapsed_s"] = time.perf_counter() - started
    results["verdict"] = verdict(results)
    print()
    print(summary(results))
    print(f"load average at the end: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    return results


def summary(res: dict[str, Any]) -> str:
    """The Markdown table and lines for the README."""
    if "skipped" in res:
        return f"Serve: skipped ({res['skipped']})."
    rows: list[list[str]] = []
    for store in res["stores"].values():
        if "rounds" in store:
            rows.append(store_rows(store)[0])
            rows += store_rows(store)[1:]
    out = [
        f"Serve ({res['clients']} clients, {res['rounds']} round(s) of"
        f" {res['seconds']['healthz']:g} s healthz, {res['seconds']['get']:g} s get,"
        f" {res['seconds']['mix']:g} s mix; median (min-max over rounds)): {res['verdict']}",
        "",
        report.markdown(HEADERS, rows, left=2),
    ]
    for name, store in res["stores"].items():
        if "skipped" in store:
            out.append(f"\n{name}: skipped ({store['skipped']})")
        elif store.get("not_served"):
            out.append(f"\n{name}: not served, left out: {', '.join(store['not_served'])}")
    for name, store in res["stores"].items():
        inproc = store.get("in_process")
        if inproc:
            med, best = inproc["median_ns"], inproc["min_ns"]
            out.append(
                f"\n{name}, in process through the ASGI app, one request at a time, median / best"
                f" of {inproc['reps']}: "
                + ", ".join(
                    f"{kind} {report.ms(med[kind])} / {report.ms(best[kind])} ms" for kind in med
                )
                + "."
            )
    ser = next((s["serialization"] for s in res["stores"].values() if "serialization" in s), None)
    if ser:
        out.append(
            f"\nSerializing a {ser['records']:,}-record GBDX search answer"
            f" ({ser['bytes'] / 1e6:.2f} MB): {report.ms(ser['median_ns']['orjson'])} ms median,"
            f" {report.ms(ser['min_ns']['orjson'])} ms best (the route's JSONBody, orjson);"
            f" json.dumps: {report.ms(ser['median_ns']['json'])} ms."
        )
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    """``python -m benchmarks.serve [--quick] [--stores ...] [--json FILE]``."""
    from benchmarks.timing import FULL, QUICK

    ap = argparse.ArgumentParser(prog="python -m benchmarks.serve", description=__doc__)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--stores", nargs="+", choices=STORES)
    ap.add_argument("--json", metavar="FILE", type=Path)
    args = ap.parse_args(argv)
    print(report.describe(report.machine()))
    res = run(QUICK if args.quick else FULL, args.stores)
    if args.json:
        args.json.write_text(json.dumps(res, indent=2, default=str) + "\n", encoding="utf-8")
    return 0 if res.get("verdict", "PASS") == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
