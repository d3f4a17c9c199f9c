"""The Descartes Metadata v1 routes over HTTP (issue 12, item 1, Metadata half; WIRE.md section 4).

The app runs over an open service loaded directly (products, bands, images); the requests are
those the real client sends (WIRE.md sections 4, 5 and 7), and the answers are compared with an
oracle computed here from what was loaded. The Metadata requests of ``captured.jsonl`` are
replayed against the app at the end (no 5xx).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import shapely
import shapely.geometry
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import catalogql as cq
from catalogql.http import create_app
from catalogql.http.idempotency import KIND
from catalogql.search.documents import documents
from catalogql.service import Service
from http_fixtures import ROOT, SECRET, bearer, serving
from property_settings import scaled

WIRE_SUB = "google-oauth2|111111111111111111111"  # the sub of captured.jsonl's token
ALICE, BOB = "alice", "bob"
N_IMAGES = 24
BASE = "/metadata/v1"


def _box(lon: float, lat: float, size: float = 0.4) -> dict[str, Any]:
    ring = [[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size]]
    return {"type": "Polygon", "coordinates": [[*ring, [lon, lat]]]}


def _image(i: int) -> dict[str, Any]:
    return {
        "acquired": (date(2020, 1, 1) + timedelta(days=10 * i)).isoformat() + "T10:00:00Z",
        "geometry": _box(-110 + 0.5 * i, 40.0),
        "cloud_fraction": (i % 10) / 10,
        "fill_fraction": 1 - (i % 4) / 4,
        "sat_id": f"SAT-{i % 3}",
        "raster_size": [10, 20],
        "file_sizes": [1000 + i],
        "extra_properties": {"tile": f"LC08_{i:03d}" if i % 2 else f"S2_{i:03d}", "score": i},
    }


IMAGES = {f"img_{i:02d}": _image(i) for i in range(N_IMAGES)}


def _load(svc: Service) -> dict[str, str]:
    """Load alice's product (images, then bands), bob's product, and the wire test's product."""
    alice, bob = cq.Principal(ALICE), cq.Principal(BOB)
    pid = svc.add_product(
        alice, "scenes", title="Scenes", description="test scenes", tags=["optical"]
    )["id"]
    for key, fields in IMAGES.items():
        svc.add_image(alice, pid, key, **fields)
    bands = [
        ("red", 1, 600.0, ["visible"]),
        ("green", 2, 500.0, ["visible"]),
        ("nir", 3, 780.0, ["infrared"]),
    ]
    for name, src, low, tags in bands:
        svc.add_band(
            alice,
            pid,
            name,
            srcband=src,
            dtype="UInt16",
            data_range=[0, 10000],
            type="spectral",
            wavelength_min=low,
            wavelength_max=low + 100,
            resolution=10 if name != "nir" else "20m",
            tags=tags,
        )
    for name in ("forest", "water", "urban", "ice", "sand"):
        svc.add_product(alice, name, title=name.title(), description=f"{name} cover")
    other = svc.add_product(bob, "private", title="Bob's", description="")["id"]
    svc.add_image(bob, other, "b1", acquired="2020-02-01", geometry=_box(-110, 40))
    wire = cq.Principal(WIRE_SUB)
    wid = svc.add_product(wire, "wiretest", title="Wire Test", description="capture run")["id"]
    svc.add_band(
        wire, wid, "red", srcband=1, dtype="UInt16", data_range=[0, 10000], type="spectral"
    )
    svc.add_image(
        wire,
        wid,
        "img_a",
        acquired="2020-03-01T10:00:00Z",
        geometry=_box(-105, 40),
        cloud_fraction=0.05,
        sat_id="SAT-1",
    )
    svc.add_image(wire, wid, "imagé 1", acquired="2020-03-02", geometry=_box(-105, 40))
    return {"pid": pid, "bob": other, "wire": wid}


@pytest.fixture(scope="module")
def loaded() -> Iterator[tuple[TestClient, dict[str, str], Service]]:
    svc = cq.open_service("memory://")
    ids = _load(svc)
    with TestClient(create_app(svc, secret=SECRET), raise_server_exceptions=False) as client:
        yield client, ids, svc


@pytest.fixture
def client(loaded: tuple[TestClient, dict[str, str], Service]) -> TestClient:
    return loaded[0]


@pytest.fixture
def pid(loaded: tuple[TestClient, dict[str, str], Service]) -> str:
    return loaded[1]["pid"]


def post(client: TestClient, path: str, body: Any, who: str = ALICE) -> Any:
    return client.post(BASE + path, json=body, headers=bearer(who))


def ok(response: Any) -> Any:
    assert response.status_code == 200, response.text
    return response.json()


def expected(pid: str, keep: Callable[[dict[str, Any]], bool]) -> list[str]:
    """The ids of alice's images that ``keep`` accepts, in the search's order."""
    chosen = [(f["acquired"], f"{pid}:{k}") for k, f in IMAGES.items() if keep(f)]
    return [ident for _, ident in sorted(chosen)]


def search_ids(client: TestClient, pid: str, **body: Any) -> list[str]:
    body = {"date": "acquired", "limit": 1000, "products": [pid], **body}
    return [f["id"] for f in ok(post(client, "/search", body))]


# -- search ----------------------------------------------------------------------------------

AREA = _box(-106.2, 39.9, 2.0)


def test_search_answers_a_bare_feature_list_with_the_header(client: TestClient, pid: str) -> None:
    response = post(client, "/search", {"date": "acquired", "limit": 5, "products": [pid]})
    features = ok(response)
    assert isinstance(features, list) and len(features) == 5
    assert response.headers["x-continuation-token"]  # a full page: a token
    first = features[0]
    assert first["type"] == "Feature" and first["geometry"]["type"] == "Polygon"
    assert first["properties"]["product"] == pid and first["properties"]["key"] == "img_00"
    assert first["properties"]["cloud_fraction"] == 0.0


@pytest.mark.parametrize("form", ["object", "json text", "wkt"])
def test_search_geom_in_every_form(client: TestClient, pid: str, form: str) -> None:
    geom: Any = {
        "object": AREA,
        "json text": json.dumps(AREA),
        "wkt": shapely.geometry.shape(AREA).wkt,
    }[form]
    area = shapely.geometry.shape(AREA)
    want = expected(pid, lambda f: shapely.geometry.shape(f["geometry"]).intersects(area))
    assert 0 < len(want) < N_IMAGES
    assert search_ids(client, pid, geom=geom) == want


def test_search_dates_and_conditions(client: TestClient, pid: str) -> None:
    got = search_ids(client, pid, start_datetime="2020-03-01", end_datetime="2020-05-31")
    assert got == expected(pid, lambda f: "2020-03-01" <= f["acquired"][:10] <= "2020-05-31")
    got = search_ids(client, pid, cloud_fraction=0.3, fill_fraction=0.5, sat_ids="SAT-1")
    want = expected(
        pid,
        lambda f: (
            f["cloud_fraction"] <= 0.3 and f["fill_fraction"] >= 0.5 and f["sat_id"] == "SAT-1"
        ),
    )
    assert got == want and want


def _cf(f: dict[str, Any]) -> float:
    return float(f["cloud_fraction"])


QUERIES: list[tuple[str, dict[str, Any], Callable[[dict[str, Any]], bool]]] = [
    ("lt", {"range": {"cloud_fraction": {"lt": 0.2}}}, lambda f: _cf(f) < 0.2),
    ("lte", {"range": {"cloud_fraction": {"lte": 0.2}}}, lambda f: _cf(f) <= 0.2),
    ("gt", {"range": {"cloud_fraction": {"gt": 0.7}}}, lambda f: _cf(f) > 0.7),
    ("gte", {"range": {"cloud_fraction": {"gte": 0.7}}}, lambda f: _cf(f) >= 0.7),
    (
        "chained",
        {"range": {"cloud_fraction": {"gt": 0.1, "lte": 0.3}}},
        lambda f: 0.1 < _cf(f) <= 0.3,
    ),
    (
        "dates",
        {"range": {"acquired": {"gte": "2020-02-01", "lt": "2020-04-01"}}},
        lambda f: "2020-02-01" <= f["acquired"] < "2020-04-01",
    ),
    (
        "instant",
        {"range": {"acquired": {"gt": "2020-06-15T00:00:00Z"}}},
        lambda f: f["acquired"] > "2020-06-15T00:00:00Z",
    ),
    ("eq", {"eq": {"sat_id": "SAT-1"}}, lambda f: f["sat_id"] == "SAT-1"),
    ("ne", {"ne": {"sat_id": "SAT-1"}}, lambda f: f["sat_id"] != "SAT-1"),
    (
        "any_of",
        {"or": [{"eq": {"sat_id": "SAT-0"}}, {"eq": {"sat_id": "SAT-2"}}]},
        lambda f: f["sat_id"] in ("SAT-0", "SAT-2"),
    ),
    (
        "and",
        {"and": [{"range": {"cloud_fraction": {"lt": 0.5}}}, {"eq": {"sat_id": "SAT-0"}}]},
        lambda f: _cf(f) < 0.5 and f["sat_id"] == "SAT-0",
    ),
    (
        "or of and",
        {
            "or": [
                {
                    "and": [
                        {"range": {"cloud_fraction": {"lt": 0.2}}},
                        {"range": {"acquired": {"gt": "2020-03-15"}}},
                    ]
                },
                {"eq": {"sat_id": "SAT-2"}},
            ]
        },
        lambda f: (_cf(f) < 0.2 and f["acquired"] > "2020-03-15") or f["sat_id"] == "SAT-2",
    ),
    (
        "two ranges",
        {
            "and": [
                {"range": {"cloud_fraction": {"gt": 0.1}}},
                {"range": {"cloud_fraction": {"lt": 0.5}}},
            ]
        },
        lambda f: 0.1 < _cf(f) < 0.5,
    ),
    (
        "like",
        {"like": {"tile": "LC08%"}},
        lambda f: f["extra_properties"]["tile"].startswith("LC08"),
    ),
    (
        "extra number",
        {"range": {"score": {"gte": 20}}},
        lambda f: f["extra_properties"]["score"] >= 20,
    ),
]


@pytest.mark.parametrize(("name", "expr", "keep"), QUERIES, ids=[q[0] for q in QUERIES])
def test_search_query_expr_every_form(
    client: TestClient, pid: str, name: str, expr: dict[str, Any], keep: Callable[..., bool]
) -> None:
    want = expected(pid, keep)
    assert want, f"{name}: the oracle finds nothing; the case tests nothing"
    assert search_ids(client, pid, query_expr={"and": [expr]}) == want
    assert search_ids(client, pid, query_expr={"and": [{"and": [expr]}]}) == want  # doubled


def test_search_fields(client: TestClient, pid: str) -> None:
    body = {"date": "acquired", "limit": 2, "products": [pid]}
    assert ok(post(client, "/search", {**body, "fields": []})) == [
        {"id": f"{pid}:img_00"},
        {"id": f"{pid}:img_01"},
    ]
    keyed = ok(post(client, "/search", {**body, "fields": ["key"]}))[0]
    assert sorted(keyed) == ["id", "key", "properties"] and keyed["key"] == "img_00"
    shaped = ok(post(client, "/search", {**body, "fields": ["geometry", "cloud_fraction"]}))[1]
    assert sorted(shaped) == ["geometry", "id", "properties", "type"]
    assert shaped["properties"] == {"cloud_fraction": 0.1}


def test_search_sort(client: TestClient, pid: str) -> None:
    ascending = search_ids(client, pid, sort_field="acquired", sort_order="asc")
    descending = search_ids(client, pid, sort_field="acquired", sort_order="desc")
    assert ascending == expected(pid, lambda f: True) and descending == ascending[::-1]
    response = post(client, "/search", {"products": [pid], "sort_field": "cloud_fraction"})
    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == ["sort_field"]


@pytest.mark.parametrize("size", [1, 5, 7, N_IMAGES, 1000])
def test_search_paging_as_the_client_does(client: TestClient, pid: str, size: int) -> None:
    """features(): re-POST with the header's token until an empty page or an empty header."""
    body: dict[str, Any] = {
        "date": "acquired",
        "limit": size,
        "products": [pid],
        "query_expr": {"and": [{"range": {"cloud_fraction": {"lt": 0.9}}}]},
    }
    unpaged = search_ids(client, pid, query_expr=body["query_expr"])
    seen: list[str] = []
    pages = 0
    while True:
        response = post(client, "/search", body)
        page = ok(response)
        pages += 1
        if not page:
            break
        assert "x-continuation-token" in response.headers, "a non-empty page without the header"
        seen.extend(f["id"] for f in page)
        token = response.headers["x-continuation-token"]
        if not token:
            break
        body = {**body, "continuation_token": token}
        assert pages <= N_IMAGES + 2
    assert seen == unpaged and len(set(seen)) == len(seen)
    assert pages == len(unpaged) // size + 1  # a full last page is followed by one []


def test_search_token_of_another_body_is_a_400(client: TestClient, pid: str) -> None:
    response = post(client, "/search", {"limit": 2, "products": [pid]})
    token = response.headers["x-continuation-token"]
    again = post(client, "/search", {"limit": 3, "products": [pid], "continuation_token": token})
    assert again.status_code == 400
    assert again.json()["errors"][0]["field"] == "continuation_token"


# -- summary ---------------------------------------------------------------------------------


def test_summary_with_intervals_and_pixels(client: TestClient, pid: str) -> None:
    answer = ok(
        post(
            client,
            "/summary",
            {"products": [pid], "date": "acquired", "interval": "month", "pixels": True},
        )
    )
    assert answer["count"] == N_IMAGES
    assert answer["bytes"] == sum(f["file_sizes"][0] for f in IMAGES.values())
    assert answer["pixels"] == N_IMAGES * 10 * 20
    assert answer["products"] == [pid]
    months: dict[str, int] = {}
    for fields in IMAGES.values():
        month = fields["acquired"][:7] + "-01T00:00:00.000Z"
        months[month] = months.get(month, 0) + 1
    assert [(i["date"], i["count"]) for i in answer["items"]] == sorted(months.items())
    assert all(i["pixels"] == i["count"] * 200 for i in answer["items"])
    plain = ok(post(client, "/summary", {"products": [pid], "cloud_fraction": 0.2}))
    assert plain == {
        "count": len(expected(pid, lambda f: _cf(f) <= 0.2)),
        "bytes": sum(f["file_sizes"][0] for f in IMAGES.values() if _cf(f) <= 0.2),
        "products": [pid],
    }
    by_product = ok(post(client, "/summary", {"products": [pid], "interval": "product"}))
    assert by_product["items"] == [{"product": pid, "count": N_IMAGES, "bytes": answer["bytes"]}]


# -- get and batch ---------------------------------------------------------------------------


def test_get_image(client: TestClient, pid: str) -> None:
    image = ok(client.get(f"{BASE}/get/{pid}:img_03", headers=bearer()))
    assert image["id"] == f"{pid}:img_03" and image["key"] == "img_03"
    assert image["product"] == pid and image["acquired"] == IMAGES["img_03"]["acquired"]
    assert "data" not in image  # flat, no JSON:API envelope
    missing = client.get(f"{BASE}/get/{pid}:nope", headers=bearer())
    assert missing.status_code == 404 and "not found" in missing.json()["message"]
    encoded = client.get(f"{BASE}/get/{pid}%3Aimg_03", headers=bearer())
    assert ok(encoded)["id"] == f"{pid}:img_03"


def test_ids_are_percent_decoded(loaded: tuple[TestClient, dict[str, str], Service]) -> None:
    """WIRE.md section 1: the client sends ids unescaped; requests encodes space and non-ASCII."""
    client, ids = loaded[0], loaded[1]
    path = f"{BASE}/get/{ids['wire']}:imag%C3%A9%201"
    assert ok(client.get(path, headers=bearer(WIRE_SUB)))["key"] == "imagé 1"
    bands = ok(client.get(path.replace("/get/", "/bands/id/"), headers=bearer(WIRE_SUB)))
    assert list(bands) == [f"{ids['wire']}:red"]
    assert client.get(f"{BASE}/get/{ids['wire']}:imag/x", headers=bearer()).status_code == 404


def test_batch_images(client: TestClient, pid: str) -> None:
    ids = [f"{pid}:img_05", f"{pid}:nope", f"{pid}:img_01"]
    found = ok(post(client, "/batch/images", {"ids": ids, "ignore_not_found": True}))
    assert [i["id"] for i in found] == [ids[0], ids[2]]
    assert ok(post(client, "/batch/images", {"ids": ids}))[0]["key"] == "img_05"  # default
    strict = post(client, "/batch/images", {"ids": ids, "ignore_not_found": False})
    assert strict.status_code == 404 and "nope" in strict.json()["message"]
    slim = ok(post(client, "/batch/images", {"ids": ids[:1], "fields": ["acquired"]}))
    assert slim == [{"id": ids[0], "acquired": IMAGES["img_05"]["acquired"]}]


# -- products --------------------------------------------------------------------------------


def test_products_search_pages_through_the_header(client: TestClient, pid: str) -> None:
    body: dict[str, Any] = {"limit": 2}
    seen: list[str] = []
    while True:
        response = post(client, "/products/search", body)
        page = ok(response)
        seen.extend(p["id"] for p in page)
        token = response.headers.get("x-continuation-token")
        if not token or not page:
            break
        body = {"limit": 2, "continuation_token": token}
    everything = [p["id"] for p in ok(post(client, "/products/search", {"limit": 1000}))]
    assert seen == everything == sorted(everything) and len(everything) == 6
    assert "x-continuation-token" not in post(client, "/products/search", {"limit": 1000}).headers
    assert pid in everything and not any("private" in p for p in everything)
    skipped = ok(post(client, "/products/search", {"limit": 2, "offset": 3}))
    assert [p["id"] for p in skipped] == everything[3:5]


def test_products_search_filters(client: TestClient, pid: str) -> None:
    def titles(body: dict[str, Any], who: str = ALICE) -> list[str]:
        return [p["title"] for p in ok(post(client, "/products/search", body, who))]

    assert titles({"limit": 1000, "text": "WATER"}) == ["Water"]
    assert titles({"limit": 1000, "bands": ["red", "nir"]}) == ["Scenes"]
    assert titles({"limit": 1000, "owner": WIRE_SUB}) == []  # alice sees none of the wire's
    assert titles({"limit": 1000, "owner": WIRE_SUB}, WIRE_SUB) == ["Wire Test"]  # own_products
    assert titles({"limit": 1000, "owner": ALICE, "text": "cover"}) == sorted(
        ["Forest", "Water", "Urban", "Ice", "Sand"], key=lambda t: t.lower()
    )


def test_get_product_is_flat(client: TestClient, pid: str) -> None:
    product = ok(client.get(f"{BASE}/products/{pid}", headers=bearer()))
    assert product["id"] == pid and product["title"] == "Scenes" and "data" not in product


# -- bands -----------------------------------------------------------------------------------


def test_bands_routes(client: TestClient, pid: str) -> None:
    every = ok(client.get(f"{BASE}/bands/all/{pid}", headers=bearer()))
    assert sorted(every) == [f"{pid}:green", f"{pid}:nir", f"{pid}:red"]
    assert every[f"{pid}:red"]["srcband"] == 1
    assert ok(client.get(f"{BASE}/bands/all/ns:nope", headers=bearer())) == {}
    assert ok(client.get(f"{BASE}/bands/id/{pid}:img_02", headers=bearer())) == every
    assert client.get(f"{BASE}/bands/id/{pid}:nope", headers=bearer()).status_code == 404
    assert ok(client.get(f"{BASE}/bands/{pid}:nir", headers=bearer()))["wavelength_min"] == 780
    assert client.get(f"{BASE}/bands/{pid}:blue", headers=bearer()).status_code == 404


def test_bands_search(client: TestClient, pid: str) -> None:
    def names(**body: Any) -> list[str]:
        return [b["name"] for b in ok(post(client, "/bands/search", {"products": [pid], **body}))]

    assert names(limit=10) == ["green", "nir", "red"]
    assert names(wavelength=650) == ["red"]
    assert names(tags=["visible"]) == ["green", "red"]
    assert names(resolution=20) == ["nir"] and names(resolution=10) == ["green", "red"]
    assert names(limit=1, offset=1) == ["nir"]
    missing = post(client, "/bands/search", {"limit": 10})
    assert missing.status_code == 400 and missing.json()["errors"][0]["field"] == "products"


def test_derived_bands(client: TestClient) -> None:
    found = ok(
        post(
            client,
            "/bands/derived/search",
            {"bands": ["red", "nir"], "require_bands": True, "limit": 5},
        )
    )
    assert [b["id"] for b in found] == ["derived:ndvi"]
    assert len(ok(post(client, "/bands/derived/search", {"bands": ["nir"]}))) == 5  # all use nir
    green = ok(post(client, "/bands/derived/search", {"bands": ["green"]}))
    assert [b["name"] for b in green] == ["ndwi"]
    ndvi = ok(client.get(f"{BASE}/bands/derived/derived:ndvi", headers=bearer()))
    assert ndvi["bands"] == ["nir", "red"]
    assert client.get(f"{BASE}/bands/derived/derived:nope", headers=bearer()).status_code == 404


# -- who sees what ---------------------------------------------------------------------------


def test_a_second_user_sees_nothing(client: TestClient, pid: str) -> None:
    body = {"date": "acquired", "limit": 100, "products": [pid]}
    response = post(client, "/search", body, BOB)
    assert ok(response) == [] and response.headers["x-continuation-token"] == ""
    assert ok(post(client, "/search", {"limit": 100}, BOB))[0]["id"].endswith(":private:b1")
    assert ok(post(client, "/summary", {"products": [pid]}, BOB))["count"] == 0
    for path in (
        f"/get/{pid}:img_00",
        f"/products/{pid}",
        f"/bands/{pid}:red",
        f"/bands/id/{pid}:img_00",
    ):
        assert client.get(BASE + path, headers=bearer(BOB)).status_code == 404, path
    assert ok(client.get(f"{BASE}/bands/all/{pid}", headers=bearer(BOB))) == {}
    assert ok(post(client, "/batch/images", {"ids": [f"{pid}:img_00"]}, BOB)) == []
    assert ok(post(client, "/bands/search", {"products": [pid]}, BOB)) == []
    titles = [p["title"] for p in ok(post(client, "/products/search", {"limit": 1000}, BOB))]
    assert titles == ["Bob's"]


def test_every_route_needs_a_token(client: TestClient, pid: str) -> None:
    for method, path in [
        ("POST", "/search"),
        ("POST", "/summary"),
        ("GET", f"/get/{pid}:x"),
        ("POST", "/products/search"),
        ("GET", "/bands/all/x"),
    ]:
        response = client.request(method, BASE + path, json={})
        assert response.status_code == 401 and "www-authenticate" in response.headers


# -- malformed bodies ------------------------------------------------------------------------

POSTS = [
    "/search",
    "/summary",
    "/batch/images",
    "/products/search",
    "/bands/search",
    "/bands/derived/search",
]


@pytest.mark.parametrize("path", POSTS)
def test_malformed_bodies_are_positioned_400s(client: TestClient, path: str) -> None:
    broken = client.post(BASE + path, content=b'{"limit": 5,', headers=bearer())
    assert broken.status_code == 400 and broken.json()["errors"][0]["offset"] == 12
    assert client.post(BASE + path, content=b"[1, 2]", headers=bearer()).status_code == 400
    wrong = post(client, path, {"limit": "ten", "products": 3, "ids": [1], "bands": "red"})
    assert wrong.status_code == 400, wrong.text
    fields = {e["field"] for e in wrong.json()["errors"]}
    assert fields and fields <= {"limit", "products", "ids[0]", "bands"}, fields


def test_several_problems_come_at_once(client: TestClient) -> None:
    wrong = post(client, "/bands/search", {"products": [1, "x"], "limit": 0, "tags": "a"})
    assert [e["field"] for e in wrong.json()["errors"]] == ["products[0]", "limit", "tags"]
    wrong = post(client, "/search", {"limit": 0, "cloud_fraction": 2, "geom": "POLYGON((0 0"})
    assert {e["field"] for e in wrong.json()["errors"]} >= {"limit", "cloud_fraction", "geom"}


_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=10,
)
_FIELDS = st.sampled_from(
    [
        "limit",
        "offset",
        "products",
        "sat_ids",
        "geom",
        "date",
        "start_datetime",
        "end_datetime",
        "cloud_fraction",
        "fill_fraction",
        "storage_state",
        "fields",
        "query_expr",
        "sort_field",
        "sort_order",
        "continuation_token",
        "interval",
        "pixels",
        "ids",
        "ignore_not_found",
        "bands",
        "owner",
        "text",
        "wavelength",
        "resolution",
        "tags",
        "require_bands",
    ]
)


@settings(
    max_examples=scaled(120),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(path=st.sampled_from(POSTS), body=st.dictionaries(_FIELDS, _JSON, max_size=5))
def test_no_body_is_a_server_error(client: TestClient, path: str, body: dict[str, Any]) -> None:
    response = post(client, path, body)
    assert response.status_code in (200, 400, 404, 413, 422), response.text
    if response.status_code == 200 and path == "/search" and response.json():
        assert "x-continuation-token" in response.headers


# -- idempotency and OpenAPI -----------------------------------------------------------------


def test_searches_are_not_kept_for_retries(
    loaded: tuple[TestClient, dict[str, str], Service],
) -> None:
    client, ids, svc = loaded
    headers = {**bearer(), "X-Request-Group": "0f" * 16}
    for path in POSTS:
        body = {"products": [ids["pid"]], "ids": [f"{ids['pid']}:img_00"], "limit": 1}
        first = client.post(BASE + path, json=body, headers=headers)
        again = client.post(BASE + path, json=body, headers=headers)
        assert first.status_code == again.status_code == 200, (path, first.text)
    assert documents(svc.catalog).list(KIND, limit=10) == []


def test_openapi_documents_every_metadata_route(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    paths = {
        p: v
        for p, v in spec["paths"].items()
        if p.startswith(BASE + "/") and not p.startswith(BASE + "/catalog")
    }
    assert len(paths) == 12
    for path, operations in paths.items():
        for method, operation in operations.items():
            answers = operation["responses"]
            assert "200" in answers and "401" in answers, (method, path)
            if method == "post":
                schema = operation["requestBody"]["content"]["application/json"]["schema"]
                assert schema["$ref"].split("/")[-1] in spec["components"]["schemas"]
    for path, operations in spec["paths"].items():  # every route's answer is its schema alone
        for method, operation in operations.items():
            success = [a for s, a in operation["responses"].items() if s.startswith("2")]
            assert success, (method, path)
            for answer in success:  # (a Catalog route may answer 201, or text/plain)
                schema = answer.get("content", {}).get("application/json", {}).get("schema")
                if schema is not None:
                    assert list(schema) == ["$ref"], (method, path, schema)  # no "type" beside
    search = paths[BASE + "/search"]["post"]["responses"]["200"]
    assert "X-Continuation-Token" in search["headers"]
    for name in ("FeatureList", "MetadataSummary", "MetadataBandMap", "DerivedBand"):
        assert name in spec["components"]["schemas"]


# -- the captured client ---------------------------------------------------------------------


def test_replay_the_captured_metadata_requests(
    loaded: tuple[TestClient, dict[str, str], Service], shared_dir: Path
) -> None:
    """Every Metadata request the real client sent (WIRE.md captured.jsonl): never a 5xx."""
    client = loaded[0]
    headers = {**bearer(WIRE_SUB), "Content-Type": "application/json"}
    replayed: dict[str, int] = {}
    statuses: dict[int, int] = {}
    with (shared_dir / "descartes-v1" / "captured.jsonl").open(encoding="utf-8") as lines:
        for line in lines:
            request = json.loads(line)
            path: str = request["path"]
            if not path.startswith(BASE + "/") or path.startswith(BASE + "/catalog"):
                continue
            body = request.get("body") or {}
            content = body.get("raw")
            if content is None and "json" in body:
                content = json.dumps(body["json"])
            if request.get("raw_query"):
                path += "?" + request["raw_query"]
            response = client.request(request["method"], path, content=content, headers=headers)
            assert response.status_code < 500, (request["seq"], path, response.text)
            assert response.status_code in (200, 400, 404), (request["seq"], response.text)
            if response.status_code == 400:  # only the stub's tokens, which this server never made
                fields = {e["field"] for e in response.json()["errors"]}
                assert fields <= {"continuation_token", "continuation"}, (request["seq"], fields)
            replayed[path.split("/")[3]] = replayed.get(path.split("/")[3], 0) + 1
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
            if response.status_code == 200 and path == BASE + "/search" and response.json():
                assert "x-continuation-token" in response.headers
    assert statuses[200] > 100, statuses  # most are answered, not refused
    assert sum(replayed.values()) > 150 and {"search", "summary", "bands", "get"} <= set(replayed)


# -- the README ------------------------------------------------------------------------------


def test_the_readmes_metadata_lines_against_catalogql_serve(tmp_path: Path) -> None:
    """The README's Metadata curl lines against `catalogql serve` on a catalog where alice has a
    product ``landcover`` with three images (as the README's shell section makes them)."""
    from test_readme import SHELL_LINES

    db = f"sqlite:///{tmp_path / 'catalog.db'}"
    alice = cq.Principal(ALICE)
    with cq.open_service(db) as svc:
        pid = svc.add_product(alice, "landcover", title="Land cover", description="")["id"]
        for key in ("img_00", "img_01", "img_02"):
            svc.add_image(alice, pid, key, **IMAGES[key])
    (token,) = [s for s in SHELL_LINES if s.command.startswith("TOKEN=")]
    lines = [
        s
        for s in SHELL_LINES
        if "127.0.0.1:8000/metadata/v1/" in s.command and "/metadata/v1/catalog/" not in s.command
    ]  # the Catalog lines: tests/test_http_catalog.py
    assert len(lines) == 3
    with serving(db, tmp_path, secret=False) as server:
        env = {
            "PATH": os.environ["PATH"],
            "PYTHONPATH": str(ROOT / "src"),
            "CATALOGQL_PYTHON": sys.executable,
        }
        define = 'catalogql() { "$CATALOGQL_PYTHON" -m catalogql "$@"; }\n'
        outputs = []
        for shell in lines:
            command = shell.command.replace("http://127.0.0.1:8000", server.url)
            done = subprocess.run(
                ["bash", "-c", f"{define}{token.command}\n{command}"],
                env=env,
                cwd=tmp_path,
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert done.returncode == 0, (shell.command, done.stderr)
            outputs.append(done.stdout)
    search, summary, products = outputs
    head, _, body = search.replace("\r\n", "\n").partition("\n\n")
    assert head.startswith("HTTP/1.1 200")
    assert re.search(r"(?im)^x-continuation-token: \S+$", head), head  # a full page: a token
    assert json.loads(body) == [
        {"id": f"{pid}:{key}", "properties": {"acquired": IMAGES[key]["acquired"]}}
        for key in ("img_00", "img_01")
    ]
    counted = json.loads(summary)
    assert counted["count"] == 3 and counted["pixels"] == 3 * 200 and len(counted["items"]) == 1
    assert [p["id"] for p in json.loads(products)] == [pid]


# -- every store -----------------------------------------------------------------------------


def test_the_routes_on_every_store(new_catalog: Callable[..., Any]) -> None:
    """The same answers over memory, SQLite and PostgreSQL: paging, ids, bands, products."""
    svc = cq.open_service(new_catalog())
    ids = _load(svc)
    pid = ids["pid"]
    with TestClient(create_app(svc, secret=SECRET), raise_server_exceptions=False) as client:
        body: dict[str, Any] = {"date": "acquired", "limit": 5, "products": [pid]}
        seen: list[str] = []
        while True:
            response = post(client, "/search", body)
            page = ok(response)
            if not page:
                break
            seen.extend(f["id"] for f in page)
            if not response.headers["x-continuation-token"]:
                break
            body = {**body, "continuation_token": response.headers["x-continuation-token"]}
        assert seen == expected(pid, lambda f: True)
        assert ok(post(client, "/summary", {"products": [pid]}))["count"] == N_IMAGES
        assert ok(client.get(f"{BASE}/get/{pid}:img_07", headers=bearer()))["key"] == "img_07"
        batch = {"ids": [f"{pid}:img_01", f"{pid}:x"], "ignore_not_found": True}
        assert [i["key"] for i in ok(post(client, "/batch/images", batch))] == ["img_01"]
        assert len(ok(client.get(f"{BASE}/bands/all/{pid}", headers=bearer()))) == 3
        assert ok(client.get(f"{BASE}/bands/{pid}:red", headers=bearer()))["name"] == "red"
        first = post(client, "/products/search", {"limit": 4})
        token = first.headers["x-continuation-token"]
        rest = ok(post(client, "/products/search", {"limit": 4, "continuation_token": token}))
        assert len(ok(first)) + len(rest) == 6
        assert ok(post(client, "/search", {"limit": 10, "products": [pid]}, BOB)) == []
        assert client.get(f"{BASE}/get/{pid}:img_07", headers=bearer(BOB)).status_code == 404
    svc.close()
