"""`catalogql conformance` and ``catalogql.testing.conformance``: it finds real bugs, only those.

Each deliberately wrong server of ``mutant_servers`` breaks one rule the way real servers break
it; the runner must find it, shrink it and name that rule. The correct tiny server, the
project's own app in process (ASGI) and ``catalogql serve`` (a subprocess, on SQLite and on
PostgreSQL) must get no finding. Runs are bounded (examples, seconds) and seeded.
"""

from __future__ import annotations

import json
import sys
import threading
import time
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import catalogql as cq
from catalogql.ast import Comparison, Match, walk
from catalogql.cli import main
from catalogql.http import create_app
from catalogql.http.auth import make_token
from catalogql.testing.conformance import (
    RULES,
    HTTPTarget,
    Report,
    corpus,
    equal_precedence,
    run,
)
from http_fixtures import SECRET, free_port, serving
from mutant_servers import Bugs, TinyServer, TinyWSGIServer

SMALL = corpus(seed=0, size=300)  # fast; the cap and tie mutants need the full corpus
FULL = corpus(seed=0)

MUTANTS = [  # (bug, the rule it breaks, the corpus)
    ("equal_precedence", "precedence", SMALL),
    ("not_of_missing_true", "three-valued-not", SMALL),
    ("nocase_wildcards", "case-sensitive-wildcards", SMALL),
    ("numeric_ids", "text-ids", SMALL),
    ("end_exclusive", "date-bounds", SMALL),
    ("no_cap", "cap", FULL),
    ("ties_unordered", "order", FULL),
]


def _run(app: Any, records: list[dict[str, Any]], **options: Any) -> Report:
    target = HTTPTarget(app=app)
    try:
        return run(target, records, seed=0, **{"examples": 150, "max_time": 120, **options})
    finally:
        target.close()


@pytest.mark.parametrize(("bug", "rule", "records"), MUTANTS, ids=[m[0] for m in MUTANTS])
def test_every_mutant_is_found_with_the_rule_it_breaks(
    bug: str, rule: str, records: list[dict[str, Any]]
) -> None:
    report = _run(TinyServer(records, Bugs(**{bug: True})), records, stop_after=1)
    assert [finding.rule for finding in report.findings] == [rule], report.text()
    finding = report.findings[0]
    assert finding.found_after <= report.requests
    # Shrunk: a minimal request has at most one filter, and it is short.
    assert len(finding.request.get("filters") or []) <= 1, finding.request
    assert all(len(text) < 200 for text in finding.request.get("filters") or [])


def test_shrunk_findings_name_the_records_that_decide_them() -> None:
    report = _run(TinyServer(SMALL, Bugs(not_of_missing_true=True)), SMALL, stop_after=1)
    (finding,) = report.findings
    assert finding.request == {"filters": [finding.request["filters"][0]]}
    (text,) = finding.request["filters"]
    assert "NOT" in text, text
    names = {
        node.property
        for node in walk(cq.parse_filter(text))
        if isinstance(node, Comparison | Match)
    }
    # The deciding records lack a value the filter reads; the server returned them.
    assert finding.records, finding
    for record in finding.records:
        assert any(record["properties"].get(name) is None for name in names), (text, record)
    assert finding.server["count"] > finding.reference["count"]


def test_a_server_on_pygeofilter_is_reported_rule_by_rule() -> None:
    """Filters through pygeofilter's ECQL parser and native evaluator: several rules break."""
    report = _run(TinyServer(SMALL, Bugs(pygeofilter=True)), SMALL, stop_after=3, examples=300)
    rules = [finding.rule for finding in report.findings]
    assert "list-values" in rules, report.text()
    assert set(rules) <= {
        "list-values", "missing-values", "valid-request-refused", "precedence",
        "three-valued-not", "text-ids", "results",
    }, report.text()  # fmt: skip


@pytest.mark.parametrize("server", [TinyServer, TinyWSGIServer], ids=["asgi", "wsgi"])
def test_a_correct_server_gets_no_finding(server: type) -> None:
    report = _run(server(SMALL), SMALL, examples=80)
    assert report.ok, report.text()
    assert report.requests >= 80


def test_the_projects_app_in_process_gets_no_finding() -> None:
    svc = cq.open_service("memory://")
    svc.catalog.add_records(FULL)
    app = create_app(svc, secret=SECRET)
    target = HTTPTarget(token=make_token(SECRET, "alice", ttl=600), app=app)
    try:
        report = run(target, FULL, examples=60, max_time=120, seed=1)
    finally:
        target.close()
        svc.close()
    assert report.ok, report.text()


def test_equal_precedence_reads_left_to_right() -> None:
    cases = {
        "a = 1 OR b = 2 AND c = 3": "(a = 1 OR b = 2) AND c = 3",
        "a = 1 AND (b = 2 OR c = 3)": "a = 1 AND (b = 2 OR c = 3)",
        "NOT a = 1 OR b = 'x AND y'": "NOT a = 1 OR b = 'x AND y'",
        "NOT NOT (a = 1 OR b = 2)": "NOT NOT (a = 1 OR b = 2)",
    }
    for text, expected in cases.items():
        assert cq.to_gbdx(equal_precedence(text)) == expected


def test_the_report_as_json_and_junit() -> None:
    report = _run(TinyServer(FULL, Bugs(no_cap=True)), FULL, stop_after=1)
    data = json.loads(json.dumps(report.to_json()))
    assert data["ok"] is False and data["findings"][0]["rule"] == "cap"
    suite = ET.fromstring(report.junit())
    assert suite.get("tests") == str(len(RULES)) and suite.get("failures") == "1"
    failed = [case.get("name") for case in suite if case.find("failure") is not None]
    assert failed == ["cap"]


def test_the_pytest_fixture_passes_a_correct_app(
    conformance_check: Any, conformance_corpus: list[dict[str, Any]]
) -> None:
    report = conformance_check(TinyServer(conformance_corpus), examples=40)
    assert report.ok


def test_the_pytest_fixture_fails_a_wrong_app(
    conformance_check: Any, conformance_corpus: list[dict[str, Any]]
) -> None:
    with pytest.raises(pytest.fail.Exception, match="cap"):
        conformance_check(TinyServer(conformance_corpus, Bugs(no_cap=True)), examples=40)


# ---- the command line, against real servers


def _load_command(db: str) -> str:
    return f"{sys.executable} -m catalogql load {{corpus}} --db '{db}'"


def _conformance(url: str, folder: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    report = folder / "report.json"
    status = main(
        [
            "conformance", url, "--token", make_token(SECRET, "alice", ttl=600),
            "--corpus", str(folder / "corpus.jsonl"), "--examples", "60", "--max-time", "180",
            "--json", str(report), "--junit", str(folder / "junit.xml"), *extra,
        ]
    )  # fmt: skip
    return status, json.loads(report.read_text())


@pytest.mark.parametrize("store", ["sqlite", "postgresql"])
def test_catalogql_serve_passes(store: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    if store == "sqlite":
        db = f"sqlite:///{tmp_path / 'served.db'}"
    else:
        cluster = request.getfixturevalue("postgres_cluster")
        name = f"conformance_{uuid.uuid4().hex[:12]}"
        db = cluster.create_database(name)
        request.addfinalizer(lambda: cluster.drop_database(name))
    cq.open_service(db).close()  # the schema, before the server and the loader share it
    with serving(db, tmp_path) as server:
        status, report = _conformance(server.url, tmp_path, "--load-command", _load_command(db))
    assert status == 0 and report["ok"], json.dumps(report["findings"], indent=1)[:4000]
    assert report["requests"] >= 60
    assert len((tmp_path / "corpus.jsonl").read_text().splitlines()) == 1200


@pytest.fixture
def wrong_server() -> Iterator[str]:
    """The no-cap mutant served by uvicorn on a free port (the CLI needs a URL)."""
    import uvicorn

    port = free_port()
    config = uvicorn.Config(TinyServer(FULL, Bugs(no_cap=True)), port=port, log_level="error")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def test_the_command_exits_1_and_reports_a_wrong_server(
    wrong_server: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, report = _conformance(wrong_server, tmp_path, "--loaded")
    assert status == 1
    assert [finding["rule"] for finding in report["findings"]] == ["cap"]
    printed = capsys.readouterr().out
    assert "cap: SPEC 5" in printed and "minimal request: {}" in printed
    assert ET.parse(tmp_path / "junit.xml").getroot().get("failures") == "1"


def test_a_failing_load_command_is_a_usage_error(tmp_path: Path) -> None:
    args = ["conformance", "http://127.0.0.1:9", "--corpus", str(tmp_path / "c.jsonl")]
    assert main([*args, "--load-command", "exit 3"]) == 2
