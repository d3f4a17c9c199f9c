"""The HTTP API (issue 12, part 1): auth, JSON errors, limits, idempotency, OpenAPI, GBDX routes.

Most tests drive the app in process (Starlette's TestClient); a few start ``catalogql serve`` for
real on 127.0.0.1 (``http_fixtures.serving``). The GBDX replay sends every recorded call of
``../shared/fixtures/gbdx-v2/cases.json`` as an HTTP request and compares the answers as
``test_conformance`` compares the engine's.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from fastapi import FastAPI, Request
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

import catalogql as cq
from catalogql.cli import main
from catalogql.errors import Conflict
from catalogql.http import create_app
from catalogql.http.errors import JSONBody, install_error_handlers
from catalogql.http.idempotency import KIND, Idempotency
from catalogql.http.routes import ROUTERS
from catalogql.search.documents import Document, documents
from catalogql.testing.synthetic import generate_records
from http_fixtures import ROOT, SECRET, bearer, serving
from property_settings import scaled
from search_oracle import matching
from test_conformance import NEAR_MISSES, search_cases, snapshot_of, snapshot_records

RECORDS = list(generate_records(30, seed=12))
PUBLIC = ("/healthz", "/openapi.json")
SIGNED = ("/metadata/v1/catalog/uploads/{token}/{name}",)


@pytest.fixture
def app() -> FastAPI:
    svc = cq.open_service("memory://")
    svc.catalog.add_records(RECORDS)
    return create_app(svc, secret=SECRET)


def _api_routes(app: FastAPI) -> list[APIRoute]:
    """The app's own routes and those of every API router it mounts."""
    own = [r for r in app.routes if isinstance(r, APIRoute)]
    return own + [r for router in ROUTERS for r in router.routes if isinstance(r, APIRoute)]


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


# -- auth ------------------------------------------------------------------------------------


def _token(claims: dict[str, Any], secret: bytes | None = SECRET, algorithm: str = "HS256") -> str:
    return jwt.encode(claims, secret, algorithm=algorithm)  # type: ignore[arg-type]


LATER = int(time.time()) + 3600
AUTH_TABLE: list[tuple[str, dict[str, str], str]] = [
    ("missing", {}, ""),
    ("not bearer", {"Authorization": "Basic YWxpY2U6cHc="}, "invalid_request"),
    ("bearer alone", {"Authorization": "Bearer"}, "invalid_request"),
    ("malformed", {"Authorization": "Bearer not.a.jwt"}, "invalid_token"),
    ("forged", {"Authorization": "Bearer " + _token({"sub": "a", "exp": LATER}, b"x" * 32)},
     "invalid_token"),
    ("expired", {"Authorization": "Bearer " + _token({"sub": "a", "exp": 1_000_000})},
     "invalid_token"),
    ("no exp", {"Authorization": "Bearer " + _token({"sub": "a"})}, "invalid_token"),
    ("no sub", {"Authorization": "Bearer " + _token({"exp": LATER})}, "invalid_token"),
    ("alg none", {"Authorization": "Bearer " + _token({"sub": "a", "exp": LATER}, None, "none")},
     "invalid_token"),
    ("bad groups", {"Authorization": "Bearer " + _token({"sub": "a", "exp": LATER, "groups": "g"})},
     "invalid_token"),
    ("empty sub", {"Authorization": "Bearer " + _token({"sub": " ", "exp": LATER})},
     "invalid_token"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "headers", "error"), AUTH_TABLE, ids=[c[0] for c in AUTH_TABLE])
def test_rejected_tokens_are_401_json_with_a_challenge(
    client: TestClient, case: str, headers: dict[str, str], error: str
) -> None:
    answer = client.post("/catalog/v2/search", json={}, headers=headers)
    assert answer.status_code == 401, case
    assert answer.headers["content-type"] == "application/json"
    body = answer.json()
    assert body["status"] == "401 Unauthorized" and body["message"], case
    challenge = answer.headers["www-authenticate"]
    assert challenge.startswith('Bearer realm="catalogql"'), case
    assert (f'error="{error}"' in challenge) if error else ("error=" not in challenge), challenge


def test_a_valid_token_is_the_principal(client: TestClient) -> None:
    answer = client.post("/catalog/v2/search", json={"limit": 5}, headers=bearer("alice"))
    assert answer.status_code == 200
    assert answer.json()["stats"]["recordsReturned"] == 5


def test_no_route_but_health_and_openapi_answers_without_a_token(
    app: FastAPI, client: TestClient
) -> None:
    routes = _api_routes(app)
    assert {r.path for r in routes} >= {"/catalog/v2/search", "/catalog/v2/record/{identifier}"}
    for route in routes:
        path = route.path.replace("{identifier}", "x")
        for method in route.methods:
            answer = client.request(method, path, json={})
            if route.path in PUBLIC:
                assert answer.status_code == 200, (method, path)
            else:
                assert answer.status_code == 401, (method, path)
    assert client.get("/openapi.json").status_code == 200


def test_token_command_signs_with_the_servers_secret(tmp_path: Path, capsys: Any) -> None:
    secret_file = tmp_path / "secret"
    secret_file.write_bytes(SECRET)
    args = ["token", "--sub", "alice", "--email", "a@example.com", "--group", "team"]
    assert main([*args, "--org", "acme", "--ttl", "2h", "--secret-file", str(secret_file)]) == 0
    token = capsys.readouterr().out.strip()
    claims = jwt.decode(token, SECRET, algorithms=["HS256"])
    assert claims["sub"] == "alice" and claims["groups"] == ["team"] and claims["org"] == "acme"
    assert 7100 < claims["exp"] - time.time() <= 7200
    assert main([*args, "--ttl", "soon", "--secret-file", str(secret_file)]) == 2
    assert "--ttl 'soon' is not a lifetime" in capsys.readouterr().err


def test_the_default_secret_file_is_made_once_with_mode_0600(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    monkeypatch.delenv("CATALOGQL_SECRET", raising=False)
    db = f"sqlite:///{tmp_path / 'c.db'}"
    assert main(["token", "--sub", "alice", "--db", db]) == 0
    first = capsys.readouterr().out.strip()
    made = tmp_path / "c.db.secret"
    assert made.stat().st_mode & 0o777 == 0o600
    secret = made.read_text().strip().encode()
    assert jwt.decode(first, secret, algorithms=["HS256"])["sub"] == "alice"
    monkeypatch.setenv("CATALOGQL_SECRET", "short")
    assert main(["token", "--sub", "alice", "--db", db]) == 2
    assert "needs at least 32" in capsys.readouterr().err


# -- errors ----------------------------------------------------------------------------------


def test_every_problem_of_a_search_at_once_positioned(client: TestClient) -> None:
    body = {"filters": ["cloudCover <", "x = 1 and y = 2"], "limit": 0, "types": "Acquisition"}
    answer = client.post("/catalog/v2/search", json=body, headers=bearer())
    assert answer.status_code == 400
    got = answer.json()
    assert got["status"] == "400 Bad Request"
    assert got["message"].startswith("Invalid Search Request.")
    fields = {e["field"] for e in got["errors"]}
    assert {"filters[0]", "filters[1]", "limit", "types"} <= fields
    positioned = {e["field"]: e["offset"] for e in got["errors"]}
    assert positioned["filters[0]"] == 12 and positioned["filters[1]"] == 6
    assert all(e["hint"] and e["code"] for e in got["errors"])


@pytest.mark.parametrize(
    ("content", "where"),
    [(b'{"limit": 5,,}', 12), (b"", 0), (b"\xff\xfe", 0), (b'{"limit": NaN}', 10)],
)
def test_a_body_that_is_not_json_is_a_positioned_400(
    client: TestClient, content: bytes, where: int
) -> None:
    answer = client.post("/catalog/v2/search", content=content, headers=bearer())
    assert answer.status_code == 400, answer.text
    (problem,) = answer.json()["errors"]
    assert problem["code"] == "request.json" and problem["offset"] == where


@pytest.mark.parametrize("body", [[], "x", 5, None, {"limit": "5"}, {"filters": [1]}])
def test_bodies_of_the_wrong_shape_are_400_never_500(client: TestClient, body: Any) -> None:
    answer = client.post("/catalog/v2/search", json=body, headers=bearer())
    assert answer.status_code == 400, answer.text
    assert answer.json()["errors"]


def test_unknown_route_wrong_method_and_missing_record_are_json(client: TestClient) -> None:
    for method, path, status in [
        ("GET", "/nope", 404),
        ("GET", "/catalog/v2/search", 405),
        ("DELETE", "/healthz", 405),
        ("GET", "/catalog/v2/record/", 404),
    ]:
        answer = client.request(method, path, headers=bearer())
        assert answer.status_code == status, (method, path)
        assert answer.headers["content-type"] == "application/json"
        assert answer.json()["status"].startswith(str(status)), (method, path)
    missing = client.get("/catalog/v2/record/no%20such%3Aid", headers=bearer())
    assert missing.status_code == 404
    assert missing.json() == {"status": "404 Not Found", "message": "Not Found: no such:id"}


def test_a_record_by_percent_decoded_id(client: TestClient) -> None:
    svc = client.app.state.service  # type: ignore[attr-defined]
    record = {**RECORDS[0], "identifier": "a b:é"}
    svc.catalog.add_records([record])
    answer = client.get("/catalog/v2/record/a%20b:%C3%A9", headers=bearer())
    assert answer.status_code == 200 and answer.json()["identifier"] == "a b:é"


def test_bodies_past_1_mib_are_413_while_streaming(client: TestClient) -> None:
    big = b'{"filters": ["' + b"a" * (2 << 20) + b'"]}'
    answer = client.post("/catalog/v2/search", content=big, headers=bearer())
    assert answer.status_code == 413
    assert answer.json()["status"] == "413 Content Too Large"
    assert answer.json()["errors"][0]["code"] == "request.too-large"
    sent: list[int] = []

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit holds while reading
        for _ in range(32):
            sent.append(1)
            yield b" " * (64 << 10)

    answer = client.post("/catalog/v2/search", content=chunks(), headers=bearer())
    assert answer.status_code == 413
    assert answer.json()["errors"][0]["code"] == "request.too-large"


def test_an_unexpected_failure_is_a_500_that_says_nothing_internal(
    app: FastAPI, client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*args: object) -> None:
        raise RuntimeError("internal detail: password=hunter2")

    app.state.service.search = broken
    answer = client.post("/catalog/v2/search", json={}, headers=bearer())
    assert answer.status_code == 500
    assert answer.json() == {
        "status": "500 Internal Server Error",
        "message": "the server failed; the failure is in its log",
    }
    assert "hunter2" not in answer.text
    assert "hunter2" in caplog.text  # logged, with the traceback


# -- idempotency -----------------------------------------------------------------------------


def _creating_app() -> tuple[FastAPI, cq.Service]:
    """An app with one create route (409 on a second create of the same name), as the
    Descartes routes will have, behind the idempotency middleware."""
    svc = cq.open_service("memory://")
    app = FastAPI()
    install_error_handlers(app)
    calls: list[str] = []

    @app.post("/things/{name}")
    async def create(name: str, request: Request) -> JSONBody:
        calls.append(name)
        try:
            documents(svc.catalog).put(Document("thing", name, None, "user:x", (), {}), create=True)
        except Conflict as error:
            raise error
        return JSONBody({"id": name, "call": len(calls)}, status_code=201)

    app.add_middleware(Idempotency, catalog=svc.catalog, secret=SECRET)
    app.state.calls = calls
    return app, svc


def test_a_retried_create_gets_the_first_answer() -> None:
    app, svc = _creating_app()
    with TestClient(app) as client:
        group = {"X-Request-Group": "0123456789abcdef0123456789abcdef"}
        first = client.post("/things/a", headers={**bearer(), **group})
        again = client.post("/things/a", headers={**bearer(), **group})
        assert first.status_code == again.status_code == 201
        assert again.json() == first.json() == {"id": "a", "call": 1}
        assert again.headers["x-idempotent-replay"] == "true"
        assert app.state.calls == ["a"]
        other_group = client.post("/things/a", headers={**bearer(), "X-Request-Group": "b" * 32})
        assert other_group.status_code == 409
        other_user = client.post("/things/a", headers={**bearer("bob"), **group})
        assert other_user.status_code == 409  # a key is per principal
        no_group = client.post("/things/a", headers=bearer())
        assert no_group.status_code == 409
        unauthenticated = client.post("/things/b", headers=group)
        assert "x-idempotent-replay" not in unauthenticated.headers
        # expired answers are forgotten
        store = documents(svc.catalog)
        for kept in store.list(KIND, limit=100):
            store.put(Document(KIND, kept.id, None, kept.owner, (), {**kept.body, "expires": 0}))
        expired = client.post("/things/a", headers={**bearer(), **group})
        assert expired.status_code == 409


def test_a_retried_search_runs_again_and_keeps_nothing(client: TestClient) -> None:
    headers = {**bearer(), "X-Request-Group": "c" * 32}
    first = client.post("/catalog/v2/search", json={"limit": 3}, headers=headers)
    again = client.post("/catalog/v2/search", json={"limit": 3}, headers=headers)
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json()
    assert "x-idempotent-replay" not in again.headers
    svc = client.app.state.service  # type: ignore[attr-defined]
    assert documents(svc.catalog).list(KIND) == []


# -- OpenAPI ---------------------------------------------------------------------------------


def _refs(node: object) -> Iterator[str]:
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if isinstance(item.get("$ref"), str):
                yield item["$ref"]
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def test_openapi_lists_every_route_with_its_schemas(app: FastAPI, client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert spec["openapi"].startswith("3.1")
    paths = spec["paths"]
    routes = {(m, r.path) for r in _api_routes(app) for m in r.methods}
    documented = {(m.upper(), p) for p, ops in paths.items() for m in ops}
    assert routes - {("GET", "/openapi.json")} <= documented
    search = paths["/catalog/v2/search"]["post"]
    assert search["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/GBDXSearchRequest"
    }
    for path, operations in paths.items():
        for method, operation in operations.items():
            answers = operation["responses"]
            success = [status for status in answers if status.startswith("2")]
            assert success in (["200"], ["201"]), (method, path)  # 201: the creates
            assert "content" in answers[success[0]], (method, path)
            if path not in PUBLIC:
                assert {"401"} <= set(answers), (method, path)
                # the upload PUT's credential is the signed token in its URL, not a bearer
                assert bool(operation.get("security")) == (path not in SIGNED), (method, path)
                assert "WWW-Authenticate" in answers["401"]["headers"]
    assert {"400", "413"} <= set(search["responses"])
    assert "404" in paths["/catalog/v2/record/{identifier}"]["get"]["responses"]
    schemas = spec["components"]["schemas"]
    for ref in _refs(spec):
        assert ref.startswith("#/components/schemas/") and ref.rsplit("/", 1)[1] in schemas, ref
    assert spec["components"]["securitySchemes"]


# -- the GBDX replay -------------------------------------------------------------------------


def _replay(
    post: Callable[[dict[str, Any], str], httpx.Response],
    get: Callable[[str, str], httpx.Response],
    cases: list[dict[str, Any]],
    records: Mapping[str, dict[str, Any]],
    versions: tuple[str, ...] = ("1.0", "1.1"),
) -> int:
    """Replay the recorded calls; ``post(body, version)`` and ``get(path, version)`` send them.
    Compared as ``test_conformance`` compares the engine's answers. Returns the calls checked."""
    checked = 0
    for case in search_cases(cases):
        body, recorded = case["request"], case["result_ids"]
        version = snapshot_of(records, recorded) or "1.0"
        if version not in versions:
            continue
        name = case["cassette"]
        response = post(body, version)
        assert response.status_code == 200, (name, response.text)
        answer = response.json()
        got = [r["identifier"] for r in answer["results"]]
        stats = answer["stats"]
        assert stats["recordsReturned"] == stats["totalRecords"] == len(got), name
        assert stats["typeCounts"] == dict(
            Counter(label for r in answer["results"] for label in r["type"])
        ), name
        truth = matching(snapshot_records(records, version), body)
        if case["stats"]["recordsReturned"] < 1000:
            expected = set(recorded) - NEAR_MISSES.get(name, set())
            assert set(got) == expected and len(got) == len(expected), name
            recorded_counts = Counter(case["stats"]["typeCounts"])
            for identifier in NEAR_MISSES.get(name, set()):
                recorded_counts.subtract(records[identifier]["type"])
            assert stats["typeCounts"] == {k: v for k, v in recorded_counts.items() if v}, name
        else:
            assert len(got) == min(1000, len(truth)), name
        assert got == [r["identifier"] for r in truth][:1000], f"{name}: order or cap"
        checked += 1
    for case in cases:
        if case["method"] != "GET":
            continue
        identifier = case["path"].rsplit("/", 1)[1].split("?", 1)[0]
        version = "1.0" if case["status"] == 404 else snapshot_of(records, [identifier]) or "1.0"
        if version not in versions:
            continue
        response = get(case["path"], version)
        assert response.status_code == case["status"], case["path"]
        if case["status"] == 404:
            assert response.json() == case["error_body"], case["path"]
        else:
            assert response.json() == records[identifier], case["path"]
        checked += 1
    return checked


def test_gbdx_replay_over_http(
    gbdx_cases: list[dict[str, Any]], gbdx_records: Mapping[str, dict[str, Any]]
) -> None:
    clients: dict[str, TestClient] = {}
    for version in ("1.0", "1.1"):
        svc = cq.open_service("memory://")
        svc.catalog.add_records(snapshot_records(gbdx_records, version), batch_size=500)
        clients[version] = TestClient(create_app(svc, secret=SECRET))
    headers = bearer("someone")
    checked = _replay(
        lambda body, version: clients[version].post(
            "/catalog/v2/search", json=body, headers=headers
        ),
        lambda path, version: clients[version].get(path, headers=headers),
        gbdx_cases,
        gbdx_records,
    )
    assert checked == 16 + 7


# -- the real server -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def gbdx_server(
    tmp_path_factory: pytest.TempPathFactory, gbdx_records: Mapping[str, dict[str, Any]]
) -> Iterator[Any]:
    """``catalogql serve --workers 2`` on an SQLite catalog of the recorded records (1.0)."""
    folder = tmp_path_factory.mktemp("serve")
    db = f"sqlite:///{folder / 'gbdx.db'}"
    with cq.open_service(db) as svc:
        svc.catalog.add_records(snapshot_records(gbdx_records, "1.0"), batch_size=500)
    with serving(db, folder, "--workers", "2") as server:
        yield server


def test_served_for_real_gbdx_replay_and_errors(
    gbdx_server: Any, gbdx_cases: list[dict[str, Any]], gbdx_records: Mapping[str, Any]
) -> None:
    headers = bearer("someone")
    with httpx.Client(base_url=gbdx_server.url, timeout=30) as http:
        assert http.get("/healthz").json() == {"status": "ok"}
        assert http.get("/openapi.json").json()["paths"]
        refused = http.post("/catalog/v2/search", json={})
        assert refused.status_code == 401 and "www-authenticate" in refused.headers
        bad = http.post("/catalog/v2/search", json={"limit": -1}, headers=headers)
        assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "limit"
        huge = http.post("/catalog/v2/search", content=b" " * (2 << 20), headers=headers)
        assert huge.status_code == 413
        checked = _replay(
            lambda body, _: http.post("/catalog/v2/search", json=body, headers=headers),
            lambda path, _: http.get(path, headers=headers),
            gbdx_cases,
            gbdx_records,
            versions=("1.0",),
        )
        assert checked >= 15
    assert '"POST /catalog/v2/search HTTP/1.1" 200' in gbdx_server.log_text()


def test_serve_stops_gracefully_on_sigterm(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'c.db'}"
    with serving(db, tmp_path) as server:
        answer = httpx.post(f"{server.url}/catalog/v2/search", json={"limit": 1}, headers=bearer())
        assert answer.status_code == 200
        server.process.terminate()
        # uvicorn finishes, then re-raises the signal it stopped on: -15 (or 0 if it exits)
        assert server.process.wait(timeout=15) in (0, -15)
    log = server.log_text()
    assert "Shutting down" in log and "Finished server process" in log


def test_serve_refuses_workers_on_a_memory_catalog(capsys: Any) -> None:
    assert main(["serve", "--db", "memory://", "--workers", "2"]) == 2
    assert "several workers cannot share a memory catalog" in capsys.readouterr().err


# -- no client input reaches a 500 ------------------------------------------------------------

_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
_FILTER = st.sampled_from(
    ["cloudCover < 20", "sensorPlatformName = WORLDVIEW*", "x >", "a = 1 AND (b", "'", "NOT NOT a"]
) | st.text(max_size=30)
_BODY = st.fixed_dictionaries(
    {},
    optional={
        "searchAreaWkt": st.sampled_from(
            ["POLYGON ((0 0, 1 0, 1 1, 0 0))", "POINT (0 0)", "POLYGON ((0 0))", "x", ""]
        )
        | _JSON,
        "startDate": st.sampled_from(["2014-01-01", "2014-13-01", "1", ""]) | _JSON,
        "endDate": st.sampled_from(["2015-01-01T00:00:00Z", "9999-99-99"]) | _JSON,
        "types": st.lists(_FILTER, max_size=3) | _JSON,
        "filters": st.lists(_FILTER, max_size=3) | _JSON,
        "limit": st.integers(-5, 5000) | _JSON,
        "countTotal": _JSON,
    },
)


@settings(max_examples=scaled(150), deadline=None)
@given(body=_BODY | _JSON)
def test_no_search_body_is_a_500(body: Any) -> None:
    answer = _FUZZ_CLIENT.post("/catalog/v2/search", json=body, headers=_FUZZ_HEADERS)
    assert answer.status_code in (200, 400, 413, 422), (body, answer.text)
    assert answer.headers["content-type"] == "application/json"


def _fuzz_client() -> TestClient:
    svc = cq.open_service("memory://")
    svc.catalog.add_records(RECORDS)
    return TestClient(create_app(svc, secret=SECRET), raise_server_exceptions=True)


_FUZZ_CLIENT = _fuzz_client()
_FUZZ_HEADERS = bearer("fuzz")


# -- the README's lines ---------------------------------------------------------------------


def test_the_readmes_serving_lines_against_catalogql_serve(tmp_path: Path) -> None:
    """The README's `catalogql serve` line on its records in a fresh folder (its own secret file,
    made there), then its token line and each curl line as written but for the port."""
    from test_readme import SHELL_LINES, _files

    (tmp_path / "records.jsonl").write_bytes(_files()["records.jsonl"])
    db = f"sqlite:///{tmp_path / 'catalog.db'}"
    assert main(["load", str(tmp_path / "records.jsonl"), "--db", db]) == 0
    (serve,) = [s for s in SHELL_LINES if s.key.startswith("catalogql serve")]
    (token,) = [s for s in SHELL_LINES if s.command.startswith("TOKEN=")]
    lines = [  # the upload lines: tests/test_http_catalog.py; the client's: test_descartes_client
        s
        for s in SHELL_LINES
        if "127.0.0.1:8000" in s.command
        and "/metadata/" not in s.command
        and "DESCARTESLABS_" not in s.command
    ]
    assert len(lines) == 4
    argv = shlex.split(serve.command)
    assert argv[:2] == ["catalogql", "serve"]
    with serving(argv[3], tmp_path, *argv[4:], secret=False) as server:
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
    assert (tmp_path / "catalog.db.secret").stat().st_mode & 0o777 == 0o600
    health, search, record, refused = outputs
    assert json.loads(health) == {"status": "ok"}
    found = json.loads(search)
    assert 0 < found["stats"]["recordsReturned"] <= 5
    assert all(r["properties"]["cloudCover"] < 20 for r in found["results"])
    assert json.loads(record)["identifier"] == "1040010019B4A600"
    assert refused.startswith("HTTP/1.1 401") and "www-authenticate: Bearer" in refused


@pytest.mark.parametrize("store", ["sqlite", "postgresql"])
def test_two_workers_share_one_catalog(
    store: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """`serve --workers 2` on one SQLite file (WAL) or one PostgreSQL database: concurrent
    searches and record gets all answer, and both workers serve."""
    if store == "sqlite":
        db = f"sqlite:///{tmp_path / 'shared.db'}"
    else:
        cluster = request.getfixturevalue("postgres_cluster")
        name = f"http_{uuid.uuid4().hex[:12]}"
        db = cluster.create_database(name)
        request.addfinalizer(lambda: cluster.drop_database(name))
    with cq.open_service(db) as svc:
        svc.catalog.add_records(RECORDS)
    identifiers = [r["identifier"] for r in RECORDS]
    with serving(db, tmp_path, "--workers", "2") as server:

        def client(seed: int) -> list[int]:
            statuses = []
            with httpx.Client(base_url=server.url, headers=bearer(f"u{seed}"), timeout=30) as h:
                for i in range(15):
                    if i % 2:
                        answer = h.get(f"/catalog/v2/record/{identifiers[(seed + i) % 30]}")
                    else:
                        answer = h.post("/catalog/v2/search", json={"limit": 10 + i})
                    statuses.append(answer.status_code)
            return statuses

        with ThreadPoolExecutor(4) as pool:
            statuses = [s for run in pool.map(client, range(4)) for s in run]
        assert statuses == [200] * 60
    assert server.log_text().count("Started server process") == 2


def test_the_frameworks_validation_errors_are_400_json() -> None:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/count")
    async def count(k: int) -> JSONBody:
        return JSONBody({"k": k})

    with TestClient(app) as client:
        answer = client.get("/count", params={"k": "many"})
        assert answer.status_code == 400
        body = answer.json()
        assert body["status"] == "400 Bad Request"
        assert body["errors"][0]["field"] == "query.k"
        assert body["errors"][0]["code"] == "request.invalid"
        assert client.get("/count").json()["errors"][0]["field"] == "query.k"


_CLAIM = (
    st.none() | st.booleans() | st.integers() | st.text(max_size=12) | st.lists(_JSON, max_size=2)
)


@settings(max_examples=scaled(100), deadline=None)
@given(
    claims=st.fixed_dictionaries(
        {},
        optional={
            "sub": _CLAIM | st.just("alice"),
            "exp": _CLAIM | st.just(LATER) | st.floats(allow_nan=False, allow_infinity=False),
            "email": _CLAIM,
            "groups": _CLAIM | st.lists(st.text(max_size=5), max_size=3),
            "org": _CLAIM,
            "nbf": _CLAIM,
            "iat": _CLAIM,
        },
    )
)
def test_no_token_is_a_500(claims: dict[str, Any]) -> None:
    token = jwt.encode(claims, SECRET, algorithm="HS256")
    headers = {"Authorization": f"Bearer {token}"}
    answer = _FUZZ_CLIENT.post("/catalog/v2/search", json={"limit": 1}, headers=headers)
    assert answer.status_code in (200, 401), (claims, answer.text)
    if answer.status_code == 401:
        assert 'error="invalid_token"' in answer.headers["www-authenticate"]


WEIRD_IDS = ["%00", "a%00b", "%ED%A0%80", "%FF", "%ZZ", "a%0Ab", "x" * 4000, "%25", "%2E%2E"]


def test_no_record_id_is_a_500_on_any_store(new_catalog: Any) -> None:
    catalog = new_catalog()
    catalog.add_records(RECORDS[:3])
    app = create_app(cq.Service(catalog), secret=SECRET)
    with TestClient(app) as client:  # a 500 raises here
        for weird in WEIRD_IDS:
            answer = client.get(f"/catalog/v2/record/{weird}", headers=bearer())
            assert answer.status_code == 404, (weird, answer.text)
            assert answer.json()["message"].startswith("Not Found: ")
        found = client.get(f"/catalog/v2/record/{RECORDS[0]['identifier']}", headers=bearer())
        assert found.status_code == 200


NASTY_BODIES: list[Any] = [
    {"filters": ["sensorPlatformName = 'a\x00b'"]},
    {"filters": ["catalogID = 'é\udcff'"]},
    {"types": ["WV02\x00"]},
    {"searchAreaWkt": "POLYGON ((0 0, 1 0, 1 1, 0 0))\x00"},
    {"startDate": "2014-01-01\x00"},
    {"filters": ["cloudCover < 99999999999999999999999999"]},
    {"filters": ["cloudCover < 1e400"]},
    {"filters": ["x LIKE '%\\\\'"]},
    {"filters": ["(" * 200 + "a = 1" + ")" * 200]},
    {"limit": 10**30},
]


def test_no_nasty_search_body_is_a_500_on_any_store(new_catalog: Any) -> None:
    catalog = new_catalog()
    catalog.add_records(RECORDS[:3])
    app = create_app(cq.Service(catalog), secret=SECRET)
    with TestClient(app) as client:  # a 500 raises here
        for body in NASTY_BODIES:
            content = json.dumps(body).encode()  # lone surrogates escaped, as clients send them
            answer = client.post("/catalog/v2/search", content=content, headers=bearer())
            assert answer.status_code in (200, 400, 413, 422), (body, answer.text)
