"""The Descartes Catalog v1 routes over HTTP (issue 12, item 1, Catalog half; WIRE.md 3 and 6).

Products, bands and images through their JSON:API documents; the exact Content-Type rule of
``DELETE /products``; the signed upload URL (absolute, works once, expires, a forged one is
refused, no Authorization needed); GeoTIFF uploads (the shared files and generated ones),
ndarray and multi-file uploads end to end until the image is searchable; the upload size limit;
a second user who sees nothing; and a replay of the Catalog requests of ``captured.jsonl``.
"""

from __future__ import annotations

import base64
import io
import json
import os
import shlex
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import numpy as np
import pytest
import rasterio
from fastapi.testclient import TestClient
from rasterio.transform import from_origin

import catalogql as cq
from catalogql.http import create_app
from catalogql.http.auth import UploadGrant, make_upload_token
from catalogql.service import Service
from catalogql.service.principals import Principal
from conftest import SHARED_DIR, require_shared
from http_fixtures import ROOT, SECRET, bearer, serving

BASE = "/metadata/v1/catalog"
ALICE = bearer("alice")
BOB = bearer("bob")
RED = {"name": "red", "srcband": 1, "dtype": "UInt16", "data_range": [0, 10000], "type": "spectral"}


@pytest.fixture
def svc(tmp_path: Path) -> Iterator[Service]:
    service = cq.open_service("memory://", storage=tmp_path / "files")
    yield service


@pytest.fixture
def client(svc: Service) -> Iterator[TestClient]:
    with TestClient(create_app(svc, secret=SECRET)) as test_client:
        yield test_client


def _product(client: TestClient, name: str = "p", headers: dict[str, str] = ALICE) -> str:
    answer = client.post(
        f"{BASE}/products", json={"id": name, "title": "T", "description": "d"}, headers=headers
    )
    assert answer.status_code == 201, answer.text
    product_id: str = answer.json()["data"]["id"]
    return product_id


def _geotiff(
    bands: int = 1, dtype: str = "uint16", west: float = -105.0, north: float = 40.0
) -> bytes:
    """A small GeoTIFF in EPSG:4326 (16 x 16 pixels of 0.001 degrees)."""
    buffer = io.BytesIO()
    data = np.arange(16 * 16 * bands, dtype=dtype).reshape(bands, 16, 16)
    with rasterio.open(
        buffer,
        "w",
        driver="GTiff",
        width=16,
        height=16,
        count=bands,
        dtype=dtype,
        crs="EPSG:4326",
        transform=from_origin(west, north, 0.001, 0.001),
    ) as dataset:
        dataset.write(data)
    return buffer.getvalue()


def _ask(
    client: TestClient, pid: str, upload_id: str, body: dict[str, Any], headers: dict[str, str]
) -> str:
    answer = client.post(
        f"{BASE}/products/{pid}/images/upload/{upload_id}", json=body, headers=headers
    )
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain")
    return answer.text


# -- products, bands, images -------------------------------------------------------------------


def test_products_are_json_api_documents_created_read_changed_replaced(client: TestClient) -> None:
    pid = _product(client)
    assert pid.endswith(":p") and len(pid.split(":")[0]) == 40
    got = client.get(f"{BASE}/products/{pid}", headers=ALICE)
    assert got.status_code == 200
    doc = got.json()["data"]
    assert doc["type"] == "product" and doc["id"] == pid and doc["attributes"]["title"] == "T"
    assert doc["meta"]["owner_type"] == "user" and doc["meta"]["modified"].endswith("Z")
    changed = client.patch(
        f"{BASE}/products/{pid}?set_global_permissions=true",
        json={"title": "T2", "read": ["group:public"]},
        headers=ALICE,
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["data"]["attributes"]["title"] == "T2"
    assert changed.json()["data"]["attributes"]["description"] == "d"  # kept by PATCH
    replaced = client.put(
        f"{BASE}/products/{pid}?set_global_permissions=True",
        json={"title": "R", "description": "r2"},
        headers=ALICE,
    )
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["data"]["attributes"]["read"] == []  # PUT replaces every field
    duplicate = client.post(
        f"{BASE}/products", json={"id": "p", "title": "x", "description": "y"}, headers=ALICE
    )
    assert duplicate.status_code == 409 and "exists" in duplicate.json()["message"]


def test_every_problem_of_a_body_at_once_and_bad_bodies_are_400(client: TestClient) -> None:
    answer = client.post(
        f"{BASE}/products",
        json={"id": "q", "title": 5, "description": "d", "read": ["nonsense"], "titel": "x"},
        headers=ALICE,
    )
    assert answer.status_code == 400
    fields = {e["field"] for e in answer.json()["errors"]}
    assert {"title", "titel"} <= fields and any(f.startswith("read") for f in fields), fields
    for body in ([1, 2], "text", None, 3):
        bad = client.post(f"{BASE}/products", json=body, headers=ALICE)
        assert bad.status_code == 400, body
    missing_id = client.post(
        f"{BASE}/products", json={"title": "t", "description": "d"}, headers=ALICE
    )
    assert missing_id.status_code == 400 and missing_id.json()["errors"][0]["field"] == "id"
    reserved = client.post(
        f"{BASE}/products",
        json={"id": "q", "title": "t", "description": "d", "principal": "x", "self": 1},
        headers=ALICE,
    )
    assert reserved.status_code == 400
    assert {e["field"] for e in reserved.json()["errors"]} == {"principal", "self"}
    pid = _product(client)
    other = client.patch(f"{BASE}/products/{pid}", json={"id": "elsewhere"}, headers=ALICE)
    assert other.status_code == 400 and other.json()["errors"][0]["code"] == "request.id-mismatch"
    flag = client.patch(
        f"{BASE}/products/{pid}?set_global_permissions=maybe", json={}, headers=ALICE
    )
    assert flag.status_code == 400
    not_json = client.post(
        f"{BASE}/products", content=b"{nope", headers={**ALICE, "Content-Type": "application/json"}
    )
    assert not_json.status_code == 400 and not_json.json()["errors"][0]["offset"] is not None


def test_delete_content_type_rule(client: TestClient) -> None:
    plain = _product(client, "plain")
    answer = client.delete(f"{BASE}/products/{plain}?cascade=False", headers=ALICE)
    assert answer.status_code == 200 and answer.content == b""
    assert answer.headers["content-type"].startswith("text/plain")  # present, and not JSON
    assert client.get(f"{BASE}/products/{plain}", headers=ALICE).status_code == 404
    full = _product(client, "full")
    assert client.post(f"{BASE}/products/{full}/bands", json=RED, headers=ALICE).status_code == 201
    refused = client.delete(f"{BASE}/products/{full}?cascade=False", headers=ALICE)
    assert refused.status_code in (400, 409) and "band" in refused.json()["message"]
    cascade = client.delete(f"{BASE}/products/{full}?cascade=True", headers=ALICE)
    assert cascade.status_code == 200
    assert cascade.headers["content-type"] == "application/json"  # exactly: no charset
    task = cascade.json()["deletion_task"]
    status = client.get(f"{BASE}/products/deletion_tasks/{task}", headers=ALICE)
    assert status.status_code == 200 and status.json()["completed"] is True
    unknown = client.get(f"{BASE}/products/deletion_tasks/nope", headers=ALICE)
    assert unknown.status_code == 404 and "deletion task" in unknown.json()["message"]
    assert client.get(f"{BASE}/products/{full}/bands/red", headers=ALICE).status_code == 404


def test_bands_and_images(client: TestClient) -> None:
    pid = _product(client)
    added = client.post(f"{BASE}/products/{pid}/bands", json=RED, headers=ALICE)
    assert added.status_code == 201 and added.json()["data"]["id"] == f"{pid}:red"
    assert added.json()["data"]["type"] == "band"
    assert client.post(f"{BASE}/products/{pid}/bands", json=RED, headers=ALICE).status_code == 409
    band = f"{BASE}/products/{pid}/bands/red"
    assert client.get(band, headers=ALICE).json()["data"]["attributes"]["srcband"] == 1
    patched = client.patch(band, json={"description": "the red one"}, headers=ALICE)
    assert patched.json()["data"]["attributes"]["description"] == "the red one"
    replaced = client.put(band, json={k: v for k, v in RED.items() if k != "name"}, headers=ALICE)
    assert (
        replaced.status_code == 200 and "description" not in replaced.json()["data"]["attributes"]
    )
    assert client.put(band, json={**RED, "name": "blue"}, headers=ALICE).status_code == 400
    removed = client.delete(band, headers=ALICE)
    assert removed.status_code == 200 and removed.json()["meta"]["removed"]["id"] == "red"
    assert client.get(band, headers=ALICE).status_code == 404

    ring = [[-105.0, 40.0], [-104.9, 40.0], [-104.9, 40.1], [-105.0, 40.1], [-105.0, 40.0]]
    body = {
        "id": "img_a",
        "acquired": "2020-03-01T10:00:00Z",
        "geometry": json.dumps({"type": "Polygon", "coordinates": [ring]}),  # a JSON string
        "storage_state": "available",
    }
    made = client.post(f"{BASE}/products/{pid}/images", json=body, headers=ALICE)
    assert made.status_code == 201, made.text
    assert made.json()["data"]["id"] == f"{pid}:img_a"
    image = f"{BASE}/products/{pid}/images/img_a"
    assert client.get(image, headers=ALICE).json()["data"]["type"] == "image"
    patched = client.patch(image, json={"cloud_fraction": 0.12}, headers=ALICE)
    assert patched.json()["data"]["attributes"]["cloud_fraction"] == 0.12
    replaced = client.put(
        image,
        json={"acquired": "2020-07-02", "geometry": {"type": "Polygon", "coordinates": [ring]},
              "storage_state": "available"},
        headers=ALICE,
    )  # fmt: skip
    assert (
        replaced.status_code == 200
        and "cloud_fraction" not in replaced.json()["data"]["attributes"]
    )
    assert client.post(f"{BASE}/products/{pid}/images", json=body, headers=ALICE).status_code == 409
    assert client.delete(image, headers=ALICE).status_code == 200
    assert client.get(image, headers=ALICE).status_code == 404


def test_ids_are_percent_decoded_and_split_ids_are_clear_404s(client: TestClient) -> None:
    missing = client.get(f"{BASE}/products/ns:my%20prod", headers=ALICE)
    assert missing.status_code == 404 and "'ns:my prod'" in missing.json()["message"]
    for path in ("/products/ns:a/b", "/products/ns:a%2Fb/x/y", "/nothing", "/products/x/y/z/w"):
        answer = client.get(BASE + path, headers=ALICE)
        assert answer.status_code == 404, path
        assert "/ ? #" in answer.json()["message"], path
        assert client.get(BASE + path).status_code == 401, path  # no token: 401 first
    for method, path, allow in [
        ("GET", "/products/x/bands", "POST"),
        ("PUT", "/products", "POST"),
        ("OPTIONS", "/products/x", "DELETE, GET, PATCH, PUT"),
    ]:
        answer = client.request(method, BASE + path, headers=ALICE)
        assert answer.status_code == 405 and answer.headers["allow"] == allow, (method, path)


def test_a_second_user_sees_nothing(client: TestClient) -> None:
    pid = _product(client)
    assert client.post(f"{BASE}/products/{pid}/bands", json=RED, headers=ALICE).status_code == 201
    _ask(client, pid, "a.tif", {"acquired": "2020-01-01"}, ALICE)
    for method, path, body in [
        ("GET", f"/products/{pid}", None),
        ("PATCH", f"/products/{pid}", {"title": "mine"}),
        ("DELETE", f"/products/{pid}?cascade=True", None),
        ("GET", f"/products/{pid}/bands/red", None),
        ("POST", f"/products/{pid}/bands", {**RED, "name": "nir"}),
        ("POST", f"/products/{pid}/images/upload/b.tif", {"acquired": "2020-01-01"}),
        ("POST", f"/products/{pid}/uploads", {"limit": 10}),
        ("GET", f"/products/{pid}/uploads/a.tif", None),
    ]:
        answer = client.request(method, BASE + path, json=body, headers=BOB)
        assert answer.status_code == 404, (method, path, answer.text)
    assert (
        client.get(f"{BASE}/products/{pid}", headers=ALICE).json()["data"]["attributes"]["title"]
        == "T"
    )


# -- uploads -----------------------------------------------------------------------------------


def _searchable(svc: Service, who: Principal, pid: str) -> list[str]:
    features, _ = svc.metadata_search(who, {"products": [pid], "limit": 100})
    return sorted(str(f["id"]) for f in features)


def test_the_signed_url_is_absolute_needs_no_authorization_and_works_once(
    client: TestClient, svc: Service
) -> None:
    pid = _product(client)
    assert client.post(f"{BASE}/products/{pid}/bands", json=RED, headers=ALICE).status_code == 201
    url = _ask(client, pid, "scene.tif", {"acquired": "2020-08-01T00:00:00Z"}, ALICE)
    assert url.startswith(f"http://testserver{BASE}/uploads/") and url.endswith("/scene.tif")
    assert "\n" not in url and not url.startswith('"')
    sent = client.put(url, content=_geotiff(), headers={"Content-Type": "application/octet-stream"})
    assert sent.status_code == 200, sent.text
    assert sent.headers["content-type"].startswith("text/plain") and sent.text.startswith("SUCCESS")
    again = client.put(url, content=_geotiff())
    assert again.status_code == 403 and "used already" in again.json()["message"]
    result = client.get(f"{BASE}/products/{pid}/uploads/scene.tif", headers=ALICE)
    assert result.status_code == 200
    assert result.json()["data"]["attributes"]["status"] == "SUCCESS"
    assert _searchable(svc, Principal("alice"), pid) == [f"{pid}:scene"]
    image = client.get(f"{BASE}/products/{pid}/images/scene", headers=ALICE).json()["data"]
    assert image["attributes"]["raster_size"] == [16, 16]
    # the URL's token is no bearer token, and a bearer token is no URL token
    token = url.split("/uploads/", 1)[1].split("/", 1)[0]
    as_bearer = client.get(f"{BASE}/products/{pid}", headers={"Authorization": f"Bearer {token}"})
    assert as_bearer.status_code == 401 and "upload" in as_bearer.json()["message"]
    bearer_token = ALICE["Authorization"].split()[1]
    assert client.put(f"{BASE}/uploads/{bearer_token}/scene.tif", content=b"x").status_code == 401


def test_forged_expired_and_misnamed_upload_urls_are_refused(
    client: TestClient, svc: Service
) -> None:
    pid = _product(client)
    url = _ask(client, pid, "a.tif", {"acquired": "2020-01-01"}, ALICE)
    head, payload, signature = url.split("/uploads/", 1)[1].split("/", 1)[0].split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["sub"] = "mallory"
    forged_payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    forged = f"{BASE}/uploads/{head}.{forged_payload}.{signature}/a.tif"
    answer = client.put(forged, content=_geotiff())
    assert answer.status_code == 401 and "signature" in answer.json()["message"]
    assert answer.headers["www-authenticate"].startswith("Bearer")
    other_secret = jwt.encode(claims, b"x" * 32, algorithm="HS256")
    assert client.put(f"{BASE}/uploads/{other_secret}/a.tif", content=b"x").status_code == 401
    assert client.put(f"{BASE}/uploads/garbage/a.tif", content=b"x").status_code == 401
    status = svc.upload_status(Principal("alice"), pid, "a.tif")
    grant = UploadGrant(Principal("alice"), pid, "a.tif", str(status["created"]), {})
    expired = make_upload_token(SECRET, grant, ttl=60, now=time.time() - 3600)
    late = client.put(f"{BASE}/uploads/{expired}/a.tif", content=_geotiff())
    assert late.status_code == 401 and "expired" in late.json()["message"]
    misnamed = client.put(url.rsplit("/", 1)[0] + "/b.tif", content=_geotiff())
    assert misnamed.status_code == 404
    # none of these touched the upload: the real URL still works
    assert svc.upload_status(Principal("alice"), pid, "a.tif")["status"] == "pending"
    assert client.put(url, content=_geotiff()).status_code == 200


def test_an_upload_url_expires(client: TestClient) -> None:
    client.app.state.upload_ttl = 1  # type: ignore[attr-defined]
    pid = _product(client)
    url = _ask(client, pid, "a.tif", {"acquired": "2020-01-01"}, ALICE)
    time.sleep(2.1)
    late = client.put(url, content=_geotiff())
    assert late.status_code == 401 and "expired" in late.json()["message"]


def test_a_new_upload_of_the_same_id_needs_a_new_url(client: TestClient) -> None:
    pid = _product(client)
    first = _ask(client, pid, "a.tif", {"acquired": "2020-01-01"}, ALICE)
    assert client.put(first, content=b"not a tiff").text.startswith("FAILURE")
    failed = client.get(f"{BASE}/products/{pid}/uploads/a.tif", headers=ALICE).json()["data"]
    assert failed["attributes"]["status"] == "FAILURE"
    assert failed["attributes"]["errors"][0]["code"] == "upload.not-geotiff"
    second = _ask(client, pid, "a.tif", {"acquired": "2020-01-01"}, ALICE)
    assert second != first
    assert client.put(first, content=_geotiff()).status_code == 403
    assert client.put(second, content=_geotiff()).text.startswith("SUCCESS")


def test_the_shared_geotiffs_upload_end_to_end(client: TestClient, svc: Service) -> None:
    folder = require_shared(SHARED_DIR / "descartes-v1" / "files")
    pid = _product(client)
    for index, band in enumerate(("red", "green", "blue")):
        body = {**RED, "name": band, "srcband": index + 1}
        assert (
            client.post(f"{BASE}/products/{pid}/bands", json=body, headers=ALICE).status_code == 201
        )
    metadata = {"acquired": "2020-08-01T00:00:00Z", "bits_per_pixel": [16], "cloud_fraction": 0.1}
    url = _ask(
        client,
        pid,
        "scene_001.tif",
        {**metadata, "process_controls": {"upload_type": "file"}},
        ALICE,
    )
    with (folder / "scene_001.tif").open("rb") as file:
        sent = client.put(url, content=file.read())
    assert sent.status_code == 200 and sent.text.startswith("SUCCESS"), sent.text
    assert _searchable(svc, Principal("alice"), pid) == [f"{pid}:scene_001"]
    image = client.get(f"{BASE}/products/{pid}/images/scene_001", headers=ALICE).json()["data"]
    assert image["attributes"]["cloud_fraction"] == 0.1


def test_a_multi_file_upload_makes_one_image(client: TestClient, svc: Service) -> None:
    pid = _product(client)
    for index, name in enumerate(("b1", "b2")):
        body = {**RED, "name": name, "srcfile": index}
        assert (
            client.post(f"{BASE}/products/{pid}/bands", json=body, headers=ALICE).status_code == 201
        )
    controls = {
        "upload_type": "file",
        "multi_file": {"image_files": ["part1.tif", "part2.tif"], "image_id": "scene_multi"},
    }
    body = {"acquired": "2020-09-01", "process_controls": controls}
    first = _ask(client, pid, "part1.tif", body, ALICE)
    second = _ask(client, pid, "part2.tif", body, ALICE)
    waiting = client.put(first, content=_geotiff())
    assert waiting.status_code == 200 and waiting.text.startswith("PENDING"), waiting.text
    assert client.put(first, content=_geotiff()).status_code == 403  # the part arrived already
    done = client.put(second, content=_geotiff())
    assert done.status_code == 200 and done.text.startswith("SUCCESS"), done.text
    for part in ("part1.tif", "part2.tif"):
        status = client.get(f"{BASE}/products/{pid}/uploads/{part}", headers=ALICE).json()
        assert status["data"]["attributes"]["status"] == "SUCCESS", part
    assert _searchable(svc, Principal("alice"), pid) == [f"{pid}:scene_multi"]
    image = svc.get_image(Principal("alice"), pid, "scene_multi")
    assert len(image["file_sha256s"]) == 2


def test_an_ndarray_upload(client: TestClient, svc: Service) -> None:
    pid = _product(client)
    bands = [{**RED, "name": "b1"}, {**RED, "name": "b2", "srcband": 2}]
    for band in bands:
        assert (
            client.post(f"{BASE}/products/{pid}/bands", json=band, headers=ALICE).status_code == 201
        )
    body = {
        "acquired": "2020-10-01T00:00:00Z",
        "cloud_fraction": 0.0,
        "process_controls": {"upload_type": "ndarray", "overviews": [2, 4],
                             "overview_resampler": "average"},
        "proj4": "+proj=longlat +datum=WGS84 +no_defs",
        "geotrans": [-105.0, 0.001, 0.0, 40.1, 0.0, -0.001],
    }  # fmt: skip
    url = _ask(client, pid, "nd_scene", body, ALICE)
    assert url.endswith("/nd_scene.tif")
    array = np.arange(8 * 8 * 2, dtype="uint16").reshape(8, 8, 2)
    npy = io.BytesIO()
    np.save(npy, array, allow_pickle=False)
    sent = client.put(url, content=npy.getvalue())
    assert sent.status_code == 200 and sent.text.startswith("SUCCESS"), sent.text
    result = client.get(f"{BASE}/products/{pid}/uploads/nd_scene.tif", headers=ALICE).json()
    assert result["data"]["id"] == "nd_scene.tif"
    assert result["data"]["attributes"]["status"] == "SUCCESS"
    assert svc.get_image(Principal("alice"), pid, "nd_scene")["raster_size"] == [8, 8]
    assert _searchable(svc, Principal("alice"), pid) == [f"{pid}:nd_scene"]
    # a CRS that is none is refused at the POST, every problem named, nothing pending
    bad = client.post(
        f"{BASE}/products/{pid}/images/upload/nd_bad",
        json={**body, "proj4": "+proj=nonsense", "geotrans": [1, 2]},
        headers=ALICE,
    )
    assert bad.status_code == 400
    assert {e["field"] for e in bad.json()["errors"]} == {"proj4", "geotrans"}
    assert client.get(f"{BASE}/products/{pid}/uploads/nd_bad.tif", headers=ALICE).status_code == 404
    # a body that is no .npy ends the upload failed, with why
    url = _ask(client, pid, "nd_two", body, ALICE)
    assert client.put(url, content=b"not numpy").text.startswith("FAILURE")
    failed = client.get(f"{BASE}/products/{pid}/uploads/nd_two.tif", headers=ALICE).json()
    assert failed["data"]["attributes"]["errors"][0]["code"] == "upload.npy"


@pytest.mark.parametrize("announced", [True, False], ids=["content-length", "streamed"])
def test_an_oversized_put_is_413_and_stores_nothing(
    client: TestClient, svc: Service, announced: bool
) -> None:
    svc.max_upload_size = 2_000
    pid = _product(client)
    url = _ask(client, pid, "big.tif", {"acquired": "2020-01-01"}, ALICE)
    payload = _geotiff(bands=4)
    assert len(payload) > svc.max_upload_size
    if announced:
        answer = client.put(url, content=payload)
    else:
        chunks = (payload[i : i + 4096] for i in range(0, len(payload), 4096))
        answer = client.put(url, content=chunks)  # chunked: no Content-Length
    assert answer.status_code == 413, answer.text
    assert "2000 bytes" in answer.json()["message"]
    assert svc.files.hashes() == [] and svc.files.temporary_files() == []
    status = client.get(f"{BASE}/products/{pid}/uploads/big.tif", headers=ALICE).json()
    assert status["data"]["attributes"]["status"] == "FAILURE"
    assert client.get(f"{BASE}/products/{pid}/images/big", headers=ALICE).status_code == 404
    assert client.put(url, content=b"x").status_code == 403
    # the same upload id can be asked for again (it is not left pending)
    again = _ask(client, pid, "big.tif", {"acquired": "2020-01-01"}, ALICE)
    assert client.put(again, content=_geotiff()).text.startswith("SUCCESS")


def test_upload_requests_are_checked(client: TestClient, svc: Service) -> None:
    pid = _product(client)
    path = f"{BASE}/products/{pid}/images/upload/a.tif"
    when = {"acquired": "2020-01-01"}
    multi = {"multi_file": {"image_files": ["x.tif"], "image_id": "s"}}
    for body, field in [
        ({}, "acquired"),
        ({**when, "process_controls": "file"}, "process_controls"),
        ({**when, "process_controls": {"upload_type": "zip"}}, "process_controls.upload_type"),
        ({**when, "overwrite": "yes"}, "overwrite"),
        ({**when, "process_controls": multi}, "multi_file.image_files"),
    ]:
        answer = client.post(path, json=body, headers=ALICE)
        assert answer.status_code == 400, (body, answer.text)
        assert field in {e["field"] for e in answer.json()["errors"]}, (body, answer.text)
    _ask(client, pid, "a.tif", {"acquired": "2020-01-01"}, ALICE)
    busy = client.post(path, json={"acquired": "2020-01-01"}, headers=ALICE)
    assert busy.status_code == 409 and "pending" in busy.json()["message"]
    nobody = client.post(
        f"{BASE}/products/ns:none/images/upload/a.tif",
        json={"acquired": "2020-01-01"},
        headers=ALICE,
    )
    assert nobody.status_code == 404


def test_upload_results_page_with_a_token_always_present(client: TestClient) -> None:
    pid = _product(client)
    for name in ("a.tif", "b.tif", "c.tif"):
        url = _ask(client, pid, name, {"acquired": "2020-01-01"}, ALICE)
        content = b"bad" if name == "b.tif" else _geotiff()
        assert client.put(url, content=content).status_code == 200
    seen: list[str] = []
    token: str | None = None
    pages = 0
    while True:
        body: dict[str, Any] = {"limit": 1}
        if token is not None:
            body["continuation_token"] = token
        answer = client.post(f"{BASE}/products/{pid}/uploads", json=body, headers=ALICE)
        assert answer.status_code == 200, answer.text
        page = answer.json()
        assert "continuation_token" in page["meta"]
        seen += [item["id"] for item in page["data"]]
        token = page["meta"]["continuation_token"]
        pages += 1
        if token is None:
            break
        assert pages < 10
    assert seen == ["a.tif", "b.tif", "c.tif"]
    success = client.post(
        f"{BASE}/products/{pid}/uploads",
        json={"limit": 5, "offset": 0, "status": "SUCCESS", "updated": "2020-01-01T00:00:00Z",
              "created": 1577836800},
        headers=ALICE,
    ).json()  # fmt: skip
    assert [item["id"] for item in success["data"]] == ["a.tif", "c.tif"]
    assert success["meta"]["continuation_token"] is None
    offset = client.post(
        f"{BASE}/products/{pid}/uploads", json={"limit": 5, "offset": 1}, headers=ALICE
    )
    assert [item["id"] for item in offset.json()["data"]] == ["b.tif", "c.tif"]
    future = client.post(
        f"{BASE}/products/{pid}/uploads", json={"created": "2999-01-01"}, headers=ALICE
    )
    assert future.json() == {"data": [], "meta": {"continuation_token": None}}
    bad = client.post(
        f"{BASE}/products/{pid}/uploads",
        json={"limit": 0, "offset": -1, "created": "someday", "colour": 1},
        headers=ALICE,
    )
    assert bad.status_code == 400
    assert {e["field"] for e in bad.json()["errors"]} == {"offset", "created", "colour"}
    assert client.get(f"{BASE}/products/{pid}/uploads/zzz.tif", headers=ALICE).status_code == 404


def test_retried_creates_get_the_first_answer(client: TestClient) -> None:
    group = {**ALICE, "X-Request-Group": "0f" * 16}
    body = {"id": "again", "title": "t", "description": "d"}
    first = client.post(f"{BASE}/products", json=body, headers=group)
    second = client.post(f"{BASE}/products", json=body, headers=group)
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json() and second.headers.get("x-idempotent-replay") == "true"
    pid = first.json()["data"]["id"]
    path = f"{BASE}/products/{pid}/images/upload/a.tif"
    upload = {**ALICE, "X-Request-Group": "1e" * 16}
    url = client.post(path, json={"acquired": "2020-01-01"}, headers=upload)
    retried = client.post(path, json={"acquired": "2020-01-01"}, headers=upload)
    assert url.status_code == retried.status_code == 200 and url.text == retried.text
    assert client.put(url.text, content=_geotiff()).text.startswith("SUCCESS")
    delete = {**ALICE, "X-Request-Group": "2d" * 16}
    gone = client.delete(f"{BASE}/products/{pid}?cascade=True", headers=delete)
    replay = client.delete(f"{BASE}/products/{pid}?cascade=True", headers=delete)
    assert gone.status_code == replay.status_code == 200
    assert replay.headers["content-type"] == "application/json" and replay.json() == gone.json()


def test_openapi_documents_the_catalog_routes(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    paths = spec["paths"]
    for path, methods in [
        ("/products", {"post"}),
        ("/products/{product_id}", {"get", "put", "patch", "delete"}),
        ("/products/deletion_tasks/{task_id}", {"get"}),
        ("/products/{product_id}/bands", {"post"}),
        ("/products/{product_id}/bands/{name}", {"get", "put", "patch", "delete"}),
        ("/products/{product_id}/images", {"post"}),
        ("/products/{product_id}/images/{image_id}", {"get", "put", "patch", "delete"}),
        ("/products/{product_id}/images/upload/{upload_id}", {"post"}),
        ("/products/{product_id}/uploads", {"post"}),
        ("/products/{product_id}/uploads/{upload_id}", {"get"}),
        ("/uploads/{token}/{name}", {"put"}),
    ]:
        assert set(paths[BASE + path]) == methods, path
    upload = paths[f"{BASE}/products/{{product_id}}/images/upload/{{upload_id}}"]["post"]
    assert set(upload["responses"]["200"]["content"]) == {"text/plain"}
    assert "requestBody" in upload
    delete = paths[f"{BASE}/products/{{product_id}}"]["delete"]["responses"]["200"]["content"]
    assert set(delete) == {"application/json", "text/plain"}
    put = paths[f"{BASE}/uploads/{{token}}/{{name}}"]["put"]
    assert "413" in put["responses"] and "application/octet-stream" in put["requestBody"]["content"]
    assert not put.get("security")
    for path, operations in paths.items():
        for operation in operations.values() if path.startswith(BASE) else ():
            assert {"400", "401", "404"} <= set(operation["responses"]), path


# -- the replay of the real client's requests --------------------------------------------------

REPLAY_EXPECTED = {
    1: 201, 2: 201, 3: 409, 4: 200, 5: 200, 6: 200, 7: 200, 8: 200,
    10: 201, 11: 201, 12: 201, 13: 201, 14: 200, 15: 200, 16: 200, 17: 200,
    23: 201, 24: 201, 25: 201, 26: 201, 27: 201, 28: 200, 29: 200, 30: 200, 31: 200,
    36: 400,  # upload_image(path) without acquired: this service requires it
    38: 200, 42: 200, 44: 200, 46: 200, 48: 400,  # 48: ndarray without acquired
    50: 200, 51: 200, 52: 200, 56: 200, 57: 200,
    134: 200, 137: 400,  # cascade=False with bands: 400, as the stub and the docstring
    138: 404, 195: 200, 196: 200, 197: 404, 198: 404,
    194: 201, 193: 201,  # the retried create (same X-Request-Group) gets the first answer
}  # fmt: skip
"""What this service answers to the recorded requests (the stub's answers were scripted)."""


def test_replay_of_the_recorded_catalog_requests(svc: Service) -> None:
    folder = require_shared(SHARED_DIR / "descartes-v1")
    requests = [json.loads(line) for line in (folder / "captured.jsonl").read_text().splitlines()]
    statuses: dict[int, int] = {}
    with TestClient(create_app(svc, secret=SECRET)) as client:
        for request in requests:
            if not request["path"].startswith(BASE):
                continue
            token = request["headers"]["Authorization"].split()[1]
            sub = jwt.decode(token, options={"verify_signature": False})["sub"]
            headers = {**bearer(sub), "Content-Type": "application/json"}
            if "X-Request-Group" in request["headers"]:
                headers["X-Request-Group"] = request["headers"]["X-Request-Group"]
            body = request.get("body") or {}
            raw = body.get("raw") if isinstance(body, dict) else None
            path = request["path"] + (f"?{request['raw_query']}" if request["raw_query"] else "")
            answer = client.request(
                request["method"], path, content=raw.encode() if raw else None, headers=headers
            )
            assert answer.status_code < 500, (request["seq"], answer.text)
            assert answer.headers.get("content-type"), request["seq"]
            statuses[request["seq"]] = answer.status_code
            if answer.status_code == 200 and request["path"].endswith(
                "/images/upload/" + request["path"].rsplit("/", 1)[1]
            ):
                assert answer.text.startswith("http://testserver/"), request["seq"]
    assert len(statuses) > 100
    wrong = {
        seq: (statuses.get(seq), want)
        for seq, want in REPLAY_EXPECTED.items()
        if statuses.get(seq) != want
    }
    assert not wrong, wrong


# -- served for real ---------------------------------------------------------------------------


def test_the_readmes_upload_lines_against_catalogql_serve(tmp_path: Path) -> None:
    """The README's serve and token lines, then its upload lines as written but for the port."""
    from test_readme import SHELL_LINES

    (serve,) = [s for s in SHELL_LINES if s.key.startswith("catalogql serve")]
    (token,) = [s for s in SHELL_LINES if s.command.startswith("TOKEN=")]
    start = next(i for i, s in enumerate(SHELL_LINES) if s.command.startswith("PID=$(curl"))
    lines = SHELL_LINES[start : start + 4]
    assert "curl -s -T scene.tif" in lines[2].command
    (tmp_path / "scene.tif").write_bytes(_geotiff())
    argv = shlex.split(serve.command)
    with serving(argv[3], tmp_path, *argv[4:], secret=False) as server:
        script = "\n".join([token.command, *(s.command for s in lines)])
        script = script.replace("http://127.0.0.1:8000", server.url)
        define = 'catalogql() { "$CATALOGQL_PYTHON" -m catalogql "$@"; }\nset -e\n'
        env = {
            "PATH": os.environ["PATH"],
            "PYTHONPATH": str(ROOT / "src"),
            "CATALOGQL_PYTHON": sys.executable,
        }
        done = subprocess.run(
            ["bash", "-c", define + script],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, (done.stdout, done.stderr, server.log_text())
    put_answer, result = done.stdout.split("\n", 1)
    assert put_answer.startswith("SUCCESS: upload 'scene.tif'"), done.stdout
    assert json.loads(result)["data"]["attributes"]["status"] == "SUCCESS"


def test_sigterm_during_an_upload_put_lets_it_finish(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'c.db'}"
    payload = _geotiff(bands=3)
    alice = bearer("alice")
    with serving(db, tmp_path) as server:
        base = server.url + BASE
        made = httpx.post(
            f"{base}/products",
            json={"id": "p", "title": "t", "description": "d"},
            headers=alice,
        )
        pid = made.json()["data"]["id"]
        url = httpx.post(
            f"{base}/products/{pid}/images/upload/slow.tif",
            json={"acquired": "2020-01-01"},
            headers=alice,
        ).text
        stopped = threading.Event()

        def body() -> Iterator[bytes]:
            yield payload[:1000]
            server.process.send_signal(signal.SIGTERM)  # mid-body
            stopped.set()
            time.sleep(1.5)
            yield payload[1000:]

        answer = httpx.put(url, content=body(), timeout=60)
        assert stopped.is_set()
        assert answer.status_code == 200 and answer.text.startswith("SUCCESS"), answer.text
        assert server.process.wait(timeout=30) in (0, -15)  # uvicorn re-raises the signal
    assert "Finished server process" in server.log_text()
    with serving(db, tmp_path) as again:
        result = httpx.get(f"{again.url}{BASE}/products/{pid}/uploads/slow.tif", headers=alice)
        assert result.json()["data"]["attributes"]["status"] == "SUCCESS"
        image = httpx.get(f"{again.url}{BASE}/products/{pid}/images/slow", headers=alice)
        assert image.status_code == 200 and image.json()["data"]["attributes"]["raster_size"]


def test_an_upload_killed_mid_body_is_pending_and_its_url_works_after_a_restart(
    tmp_path: Path,
) -> None:
    db = f"sqlite:///{tmp_path / 'c.db'}"
    alice = bearer("alice")
    with serving(db, tmp_path) as server:
        base = server.url + BASE
        made = httpx.post(
            f"{base}/products", json={"id": "p", "title": "t", "description": "d"}, headers=alice
        )
        pid = made.json()["data"]["id"]
        url = httpx.post(
            f"{base}/products/{pid}/images/upload/k.tif",
            json={"acquired": "2020-01-01"},
            headers=alice,
        ).text

        def body() -> Iterator[bytes]:
            yield b"II*\x00" + b"\x00" * 5000
            server.process.kill()
            server.process.wait()
            yield b"\x00" * 5000

        with pytest.raises(httpx.HTTPError):
            httpx.put(url, content=body(), timeout=30)
    files = tmp_path / "c.db.files" / "objects"
    with serving(db, tmp_path) as again:
        assert not [p for p in files.iterdir() if p.name.startswith(".tmp-")]  # recovered
        status = httpx.get(f"{again.url}{BASE}/products/{pid}/uploads/k.tif", headers=alice)
        assert status.json()["data"]["attributes"]["status"] == "PENDING"
        url = url.replace(server.url, again.url)
        answer = httpx.put(url, content=_geotiff())
        assert answer.status_code == 200 and answer.text.startswith("SUCCESS"), answer.text


def test_the_catalog_routes_on_every_store(new_catalog: Any, tmp_path: Path) -> None:
    """Products, bands, an upload until searchable, results and a cascade, on each store."""
    service = Service(new_catalog(), storage=tmp_path / "files")
    with TestClient(create_app(service, secret=SECRET)) as client:
        pid = _product(client)
        assert (
            client.post(f"{BASE}/products/{pid}/bands", json=RED, headers=ALICE).status_code == 201
        )
        url = _ask(client, pid, "s.tif", {"acquired": "2020-01-01", "cloud_fraction": 0.2}, ALICE)
        assert client.put(url, content=_geotiff()).text.startswith("SUCCESS")
        assert client.put(url, content=_geotiff()).status_code == 403
        assert _searchable(service, Principal("alice"), pid) == [f"{pid}:s"]
        assert _searchable(service, Principal("bob"), pid) == []
        page = client.post(f"{BASE}/products/{pid}/uploads", json={}, headers=ALICE).json()
        assert [u["id"] for u in page["data"]] == ["s.tif"]
        assert page["meta"] == {"continuation_token": None}
        assert client.get(f"{BASE}/products/{pid}", headers=BOB).status_code == 404
        gone = client.delete(f"{BASE}/products/{pid}?cascade=True", headers=ALICE)
        assert gone.headers["content-type"] == "application/json"
        assert _searchable(service, Principal("alice"), pid) == []


def test_upload_results_are_not_kept_for_retries(client: TestClient, svc: Service) -> None:
    from catalogql.http.idempotency import KIND
    from catalogql.search.documents import documents

    pid = _product(client)
    kept = len(documents(svc.catalog).list(KIND, limit=1000))
    group = {**ALICE, "X-Request-Group": "3c" * 16}
    first = client.post(f"{BASE}/products/{pid}/uploads", json={}, headers=group)
    _ask(client, pid, "a.tif", {"acquired": "2020-01-01"}, ALICE)
    again = client.post(f"{BASE}/products/{pid}/uploads", json={}, headers=group)
    assert first.json()["data"] == [] and [u["id"] for u in again.json()["data"]] == ["a.tif"]
    assert len(documents(svc.catalog).list(KIND, limit=1000)) == kept  # a read keeps nothing
