"""Request logging (issue 12, item 4): a line per request with method, path, status, time and
the principal's ``sub``; never a token, never the query string (signed URLs carry one)."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

import catalogql as cq
from catalogql.http import create_app
from catalogql.http.access import LOG
from catalogql.testing.synthetic import generate_records
from http_fixtures import SECRET, bearer, serving

RECORDS = list(generate_records(5, seed=3))
LINE = re.compile(
    r'(?P<client>\S+) - "(?P<method>[A-Z]+) (?P<path>\S+) HTTP/1\.1" (?P<status>\d{3}) '
    r"(?P<ms>\d+\.\d) ms sub=(?P<sub>\S+)$"
)


def _requests(client: httpx.Client | TestClient) -> list[tuple[str, str, int, str]]:
    """Send the requests the tests log; what each line must then say."""
    identifier = RECORDS[0]["identifier"]
    token = bearer("alice")
    client.get("/healthz")
    client.post("/catalog/v2/search", json={"limit": 1}, headers=token)
    client.get(f"/catalog/v2/record/{identifier}?signature=QUERYSECRET", headers=token)
    client.get("/catalog/v2/record/x%20y", headers=bearer("bob"))
    client.post("/catalog/v2/search", json={}, headers={"Authorization": "Bearer forged.to.ken"})
    return [
        ("GET", "/healthz", 200, "-"),
        ("POST", "/catalog/v2/search", 200, "alice"),
        ("GET", f"/catalog/v2/record/{identifier}", 200, "alice"),
        ("GET", "/catalog/v2/record/x%20y", 404, "bob"),
        ("POST", "/catalog/v2/search", 401, "-"),
    ]


def _parsed(lines: list[str]) -> list[tuple[str, str, int, str]]:
    found = []
    for line in lines:
        match = LINE.search(line)
        assert match, line
        assert float(match["ms"]) >= 0
        found.append((match["method"], match["path"], int(match["status"]), match["sub"]))
    return found


def _no_secrets(text: str) -> None:
    assert "QUERYSECRET" not in text and "signature" not in text
    assert "Bearer" not in text and "forged.to.ken" not in text
    assert "eyJ" not in text  # the start of every JWT


def test_each_request_is_logged_once_with_who_and_how_long(
    caplog: pytest.LogCaptureFixture,
) -> None:
    svc = cq.open_service("memory://")
    svc.catalog.add_records(RECORDS)
    with (
        TestClient(create_app(svc, secret=SECRET)) as client,
        caplog.at_level(logging.INFO, LOG.name),
    ):
        expected = _requests(client)
    lines = [r.getMessage() for r in caplog.records if r.name == LOG.name]
    assert _parsed(lines) == expected
    _no_secrets("\n".join(lines))


def test_catalogql_serve_logs_the_same_lines(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'c.db'}"
    with cq.open_service(db) as svc:
        svc.catalog.add_records(RECORDS)
    with serving(db, tmp_path) as server, httpx.Client(base_url=server.url) as client:
        expected = _requests(client)
    log = server.log_text()
    lines = [line for line in log.splitlines() if " HTTP/1.1" in line]
    # the /healthz calls serving() made while waiting for the server come first
    assert _parsed(lines)[-len(expected) :] == expected
    assert all(line.startswith("INFO:") for line in lines)
    _no_secrets(log)
