"""Faults of ``catalogql serve`` (issue 12, item 8): SIGKILL under load, SIGTERM during an upload.

``catalogql serve --workers 2`` runs as a subprocess in its own process group, on SQLite and on
PostgreSQL (the throwaway cluster). Client threads upload small GeoTIFFs as the real client does
(the POST that answers a signed URL, then the PUT of the bytes) and add products and images,
concurrently, while the whole group is SIGKILLed at a different moment in each of three cycles;
the server is restarted on the same catalog and storage after each, and must then answer for
every write acknowledged so far. The last server gets SIGTERM while a PUT streams in: it must
exit 0 and that upload must have ended. Then, in process, every acknowledged write (a 200/201
received) must be there, every upload must have ended ``success`` (image, record and file
present, the file's hash its name) or ``failure`` (no image) -- only an upload whose PUT never
began may still wait, ``pending``, for its file -- no stored file may be unreferenced after
``gc``, no temporary file may be left, and the catalog must answer a search.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import signal
import subprocess
import threading
import time
import uuid
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

import catalogql as cq
from catalogql.search.documents import documents
from catalogql.service.uploads import UPLOAD, referenced_files
from http_fixtures import bearer, launch

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")

OWNER = "alice"
UPLOAD_ROUTE = "/metadata/v1/catalog/products/{product_id}/images/upload/{upload_id}"
KILL_AFTER = (0.05, 0.4, 1.1)
"""Seconds between a cycle's first acknowledged upload and its SIGKILL: different moments (the
first upload of a worker waits for rasterio's import, so the clock starts after it)."""


# -- a server that can be killed whole -----------------------------------------------------------


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def signal(self, sig: int) -> None:
        """Send ``sig`` to the whole group: the uvicorn supervisor and its workers."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, sig)

    def wait(self, timeout: float) -> int:
        return self.process.wait(timeout=timeout)

    def kill(self) -> None:
        self.signal(signal.SIGKILL)
        self.process.wait(timeout=30)
        _wait_group_gone(self.process.pid)


def _group_alive(pgid: int) -> bool:
    """Whether a process of the group still runs (zombies, which no init may reap in a
    container, do not count; without ``/proc``, any member does)."""
    proc = Path("/proc")
    if not proc.is_dir():
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return False
        return True
    for stat in proc.glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # it ended meanwhile
        if fields[0] != "Z" and int(fields[2]) == pgid:
            return True
    return False


def _wait_group_gone(pgid: int, timeout: float = 15.0) -> None:
    """Wait until no process of the group is left (the workers die with the supervisor)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _group_alive(pgid):
            return
        time.sleep(0.05)
    raise AssertionError(f"processes of group {pgid} still run {timeout} s after SIGKILL")


def start(db: str, storage: Path, folder: Path, workers: int = 2) -> Server:
    """``catalogql serve`` in its own process group on a free port, answering ``/healthz``."""
    served = launch(
        db,
        folder,
        "--storage",
        str(storage),
        "--workers",
        str(workers),
        timeout=60,
        new_session=True,
    )
    return Server(served.url, served.process, served.log)


@pytest.fixture
def servers() -> Iterator[list[Server]]:
    """The servers a test starts; any still running at its end is killed."""
    started: list[Server] = []
    yield started
    for server in started:
        if server.process.poll() is None:
            server.kill()


# -- the writes -----------------------------------------------------------------------------------


def tiff(k: int, side: int = 24) -> bytes:
    """A small, distinct 3-band UInt16 GeoTIFF (UTM 13N)."""
    import numpy as np
    from rasterio.io import MemoryFile
    from rasterio.transform import Affine

    data = np.random.default_rng(k).integers(0, 10_000, (3, side, side), dtype=np.uint16)
    profile = {
        "driver": "GTiff",
        "width": side,
        "height": side,
        "count": 3,
        "dtype": "uint16",
        "crs": "EPSG:32613",
        "transform": Affine(10.0, 0.0, 500_000.0 + 300 * k, 0.0, -10.0, 4_430_000.0),
    }
    with MemoryFile() as mem:
        with mem.open(**profile) as dst:
            dst.write(data)
        return bytes(mem.read())


@dataclass
class Ledger:
    """What the clients sent, and what the server acknowledged."""

    uploads_asked: set[str] = field(default_factory=set)  # the POST answered a URL
    uploads_acked: set[str] = field(default_factory=set)  # the PUT answered 2xx
    products_acked: set[str] = field(default_factory=set)
    images_acked: set[str] = field(default_factory=set)  # keys of images added by POST
    must_end: set[str] = field(default_factory=set)  # uploads whose PUT a graceful stop met
    refused: list[str] = field(default_factory=list)  # a 4xx/5xx answer: never expected
    lock: threading.Lock = field(default_factory=threading.Lock)


def _refused(ledger: Ledger, response: httpx.Response) -> None:
    with ledger.lock:
        ledger.refused.append(
            f"{response.request.method} {response.request.url.path}: {response.status_code}"
            f" {response.text[:300]}"
        )


def uploader(base: str, product: str, ledger: Ledger, stop: threading.Event, tag: str) -> None:
    """Upload as the client does until stopped or the server goes away."""
    auth = bearer(OWNER)
    with (
        httpx.Client(base_url=base, headers=auth, timeout=30, trust_env=False) as api,
        httpx.Client(timeout=30, trust_env=False) as bare,
    ):
        n = 0
        while not stop.is_set():
            n += 1
            upload_id = f"{tag}-{n}.tif"
            try:
                asked = api.post(
                    UPLOAD_ROUTE.format(product_id=product, upload_id=upload_id),
                    json={
                        "acquired": "2021-03-01T00:00:00Z",
                        "process_controls": {"upload_type": "file"},
                    },
                )
                if asked.status_code >= 300:
                    _refused(ledger, asked)
                    continue
                with ledger.lock:
                    ledger.uploads_asked.add(upload_id)
                put = bare.put(
                    asked.text,
                    content=tiff(zlib.crc32(upload_id.encode()) % 10_000),
                    headers={"Content-Type": "application/octet-stream"},
                )
            except httpx.TransportError:
                return  # the server is gone (killed)
            if put.status_code >= 300:
                _refused(ledger, put)
                continue
            with ledger.lock:
                ledger.uploads_acked.add(upload_id)


def writer(base: str, product: str, ledger: Ledger, stop: threading.Event, tag: str) -> None:
    """Add products and images of ``product`` until stopped or the server goes away."""
    with httpx.Client(base_url=base, headers=bearer(OWNER), timeout=30, trust_env=False) as api:
        n = 0
        while not stop.is_set():
            n += 1
            try:
                made = api.post(
                    "/metadata/v1/catalog/products",
                    json={"id": f"{tag}-p{n}", "title": f"P {n}", "description": "fault test"},
                )
                if made.status_code >= 300:
                    _refused(ledger, made)
                    continue
                with ledger.lock:
                    ledger.products_acked.add(made.json()["data"]["id"])
                key = f"{tag}-i{n}"
                lon = -105.0 + (n % 50) * 0.01
                added = api.post(
                    f"/metadata/v1/catalog/products/{product}/images",
                    json={
                        "id": key,
                        "acquired": "2021-02-01T00:00:00Z",
                        "geometry": {
                            "type": "Polygon",
                            "coordinates": [
                                [[lon, 40.0], [lon + 0.01, 40.0], [lon + 0.01, 40.01], [lon, 40.0]]
                            ],
                        },
                        "storage_state": "available",
                    },
                )
            except httpx.TransportError:
                return
            if added.status_code >= 300:
                _refused(ledger, added)
                continue
            with ledger.lock:
                ledger.images_acked.add(key)


def make_product(db: str, storage: Path) -> str:
    """The product the uploads go to (three UInt16 bands), made in process."""
    owner = cq.Principal(OWNER)
    with cq.open_service(db, storage) as svc:
        pid: str = svc.add_product(owner, "faults", title="Faults", description="")["id"]
        for band, color in enumerate(("red", "green", "blue"), start=1):
            svc.add_band(
                owner, pid, color, srcband=band, dtype="UInt16", data_range=[0, 10000],
                type="spectral",
            )  # fmt: skip
    return pid


# -- the checks -------------------------------------------------------------------------------


def check_served(server: Server, product: str, ledger: Ledger) -> None:
    """Through the restarted server: every acknowledged product and image, and a search."""
    with httpx.Client(
        base_url=server.url, headers=bearer(OWNER), timeout=30, trust_env=False
    ) as api:
        for pid in sorted(ledger.products_acked):
            got = api.get(f"/metadata/v1/catalog/products/{pid}")
            assert got.status_code == 200, f"acknowledged product {pid}: {got.status_code}"
        for key in sorted(ledger.images_acked):
            got = api.get(f"/metadata/v1/catalog/products/{product}/images/{key}")
            assert got.status_code == 200, f"acknowledged image {key}: {got.status_code}"
            record = api.get(f"/catalog/v2/record/{product}:{key}")
            assert record.status_code == 200, f"the record of image {key}: {record.status_code}"
        found = api.post(
            "/catalog/v2/search", json={"types": ["UserImage"], "limit": 1000}
        )  # the catalog answers a search
        assert found.status_code == 200, found.text


def check_stored(db: str, storage: Path, product: str, ledger: Ledger) -> None:
    """In the catalog: nothing half-written, every upload ended, gc leaves no orphan file."""
    owner = cq.Principal(OWNER)
    with cq.open_service(db, storage) as svc:  # opening runs gc: interrupted uploads end
        svc.gc()
        store = documents(svc.catalog)
        statuses = {
            doc.body["upload_id"]: doc.body
            for doc in _all(lambda after: store.list(UPLOAD, after=after, limit=1000))
        }
        assert ledger.uploads_asked <= set(statuses), "an upload whose POST was answered is gone"
        images = {
            key: svc.get_image(owner, product, key)
            for key in (s["image_id"] for s in statuses.values() if s["status"] == "success")
        }
        for upload_id, status in sorted(statuses.items()):
            state = status["status"]
            if upload_id in ledger.uploads_acked:
                assert state == "success", f"acknowledged upload {upload_id} is {state}: {status}"
            if upload_id in ledger.must_end:
                assert state in ("success", "failure"), f"{upload_id} outlived the stop: {status}"
            if state == "pending":  # its PUT never began: no process, no file
                assert upload_id not in ledger.uploads_acked, status
                assert status.get("worker") is None and status.get("sha256") is None, status
            else:
                assert state in ("success", "failure"), f"upload {upload_id} is {state}"
            if state == "failure":  # nothing of it is kept
                with pytest.raises(cq.NotFound):
                    svc.get_image(owner, product, status["image_id"])
        for key, image in images.items():
            assert svc.get_record(owner, f"{product}:{key}")["identifier"] == f"{product}:{key}"
            for sha in image["file_sha256s"]:
                path = svc.files.path(sha)
                assert path.is_file(), f"image {key}: its file {sha} is missing"
                assert hashlib.sha256(path.read_bytes()).hexdigest() == sha, f"{key}: damaged"
        for key in sorted(ledger.images_acked):
            assert svc.get_image(owner, product, key)["id"] is not None
        counts = {state: 0 for state in ("success", "failure", "pending")}
        for status in statuses.values():
            counts[status["status"]] = counts.get(status["status"], 0) + 1
        print(  # shown with -s: what the kills cut off
            f"uploads {counts}, acknowledged {len(ledger.uploads_acked)}; products"
            f" {len(ledger.products_acked)}, images {len(ledger.images_acked)} acknowledged"
        )
        referenced = referenced_files(svc.catalog)
        stored = set(svc.files.hashes())
        assert stored <= referenced, (
            f"stored files nobody references: {sorted(stored - referenced)}"
        )
        assert not svc.files.temporary_files(), "temporary files left after gc"
        page, _ = svc.metadata_search(owner, {"products": [product], "limit": 1000})
        listed = {feature["id"] for feature in page}
        expected = {f"{product}:{key}" for key in images} | {
            f"{product}:{key}" for key in ledger.images_acked
        }
        assert expected <= listed, f"not found by a search: {sorted(expected - listed)[:5]}"


def _all(batch_after: Callable[[str | None], list[Any]]) -> Iterator[Any]:
    after: str | None = None
    while batch := batch_after(after):
        yield from batch
        after = batch[-1].id


# -- the tests ----------------------------------------------------------------------------------


def _catalog(store: str, request: pytest.FixtureRequest, tmp: Path) -> str:
    if store == "sqlite":
        return f"sqlite:///{tmp / 'catalog.db'}"
    cluster = request.getfixturevalue("postgres_cluster")
    name = f"faults_{uuid.uuid4().hex[:12]}"
    url: str = cluster.create_database(name)
    return url


def graceful_stop_during_an_upload(server: Server, product: str, ledger: Ledger) -> None:
    """SIGTERM while a PUT streams in: the server lets it finish (or fails it), then exits 0."""
    data = tiff(7, side=400)  # about 1 MB, sent in 64 KiB pieces, 0.1 s apart
    upload_id = "slow.tif"
    asked = httpx.post(
        server.url + UPLOAD_ROUTE.format(product_id=product, upload_id=upload_id),
        json={"acquired": "2021-03-01T00:00:00Z", "process_controls": {"upload_type": "file"}},
        headers=bearer(OWNER),
        timeout=30,
        trust_env=False,
    )
    assert asked.status_code == 200, asked.text
    ledger.uploads_asked.add(upload_id)
    ledger.must_end.add(upload_id)
    sent = threading.Event()
    answer: list[httpx.Response | httpx.HTTPError] = []

    def slowly() -> Iterator[bytes]:
        for offset in range(0, len(data), 65536):
            if offset >= len(data) // 3:
                sent.set()
            yield data[offset : offset + 65536]
            time.sleep(0.1)

    def put() -> None:
        try:
            answer.append(
                httpx.put(
                    asked.text,
                    content=slowly(),
                    headers={
                        "Content-Type": "application/octet-stream",
                        "Content-Length": str(len(data)),
                    },
                    timeout=60,
                    trust_env=False,
                )
            )
        except httpx.HTTPError as exc:
            answer.append(exc)

    thread = threading.Thread(target=put)
    thread.start()
    assert sent.wait(timeout=30), "the PUT did not get going"
    server.signal(signal.SIGTERM)
    thread.join(timeout=60)
    assert server.wait(timeout=40) == 0, server.log_text()[-3000:]
    (got,) = answer
    if isinstance(got, httpx.Response) and got.status_code == 200:
        ledger.uploads_acked.add(upload_id)  # then it must have ended success (check_stored)


@pytest.mark.parametrize("store", ["sqlite", "postgresql"])
def test_kills_under_load_and_a_graceful_stop_lose_no_acknowledged_write(
    store: str, request: pytest.FixtureRequest, tmp_path: Path, servers: list[Server]
) -> None:
    """Three SIGKILLs under load, a restart after each, then SIGTERM during an upload."""
    db = _catalog(store, request, tmp_path)
    storage = tmp_path / "files"
    product = make_product(db, storage)
    ledger = Ledger()
    for cycle, after in enumerate(KILL_AFTER):
        server = start(db, storage, tmp_path)
        servers.append(server)
        check_served(server, product, ledger)  # what the previous kills cut off is settled
        stop = threading.Event()
        threads = [
            threading.Thread(
                target=uploader, args=(server.url, product, ledger, stop, f"u{cycle}{k}")
            )
            for k in range(2)
        ] + [threading.Thread(target=writer, args=(server.url, product, ledger, stop, f"w{cycle}"))]
        acked = len(ledger.uploads_acked)
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 60
        while len(ledger.uploads_acked) == acked and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(after)
        server.kill()  # mid-way: whatever is in flight is cut off
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
            assert not thread.is_alive()
    assert not ledger.refused, "\n".join(ledger.refused[:10])
    assert ledger.uploads_acked and ledger.products_acked and ledger.images_acked, (
        f"the load acknowledged too little to test anything: {ledger}"
    )
    server = start(db, storage, tmp_path)
    servers.append(server)
    check_served(server, product, ledger)
    graceful_stop_during_an_upload(server, product, ledger)
    check_stored(db, storage, product, ledger)
