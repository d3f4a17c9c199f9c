"""``catalogql load``, ``search``, ``get`` and the search demo, as a user runs them."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from catalogql.cli import main
from catalogql.testing.synthetic import write_jsonl


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def record(identifier: str, **props: Any) -> dict[str, Any]:
    return {
        "identifier": identifier,
        "type": ["GBDXCatalogRecord", "Acquisition", "WV02"],
        "properties": {
            "timestamp": "2016-05-04T18:41:08.000Z",
            "footprintWkt": "MULTIPOLYGON(((0 0, 1 0, 1 1, 0 0)))",
            **props,
        },
    }


@pytest.fixture
def jsonl(tmp_path: Path) -> Path:
    path = tmp_path / "records.jsonl"
    lines = [json.dumps(record(f"r{i}", cloudCover=i, catalogID=f"C{i}")) for i in range(30)]
    path.write_text("\n".join(lines[:15]) + "\n\n" + "\n".join(lines[15:]) + "\n")
    return path


def test_load_then_search_then_get(
    capsys: pytest.CaptureFixture[str], jsonl: Path, tmp_path: Path
) -> None:
    db = f"sqlite:///{tmp_path / 'c.db'}"
    status, out, err = run(capsys, "load", str(jsonl), "--db", db, "--batch-size", "7")
    assert status == 0, err
    assert "stored 30 records" in out
    assert "100% 30 records" in err  # the progress lines (not a terminal: one per tenth)

    status, out, _ = run(capsys, "search", "--db", db, "--filter", "cloudCover < 3", "--limit", "2")
    answer = json.loads(out)
    assert status == 0
    assert [r["identifier"] for r in answer["results"]] == ["r0", "r1"]
    assert answer["stats"]["recordsReturned"] == 2

    request = tmp_path / "request.json"
    request.write_text(json.dumps({"filters": ["catalogID = C7"], "types": ["WV02"]}))
    status, out, _ = run(capsys, "search", str(request), "--db", db, "--count-total", "--table")
    assert status == 0
    assert out.splitlines()[1].startswith("r7 ")
    assert json.loads(out.splitlines()[-1])["totalMatched"] == 1

    status, out, _ = run(capsys, "get", "r7", "--db", db)
    assert (status, json.loads(out)) == (0, record("r7", cloudCover=7, catalogID="C7"))
    status, _, err = run(capsys, "get", "nope", "--db", db)
    assert status == 1
    assert json.loads(err) == {"status": "404 Not Found", "message": "Not Found: nope"}


def test_a_bad_request_prints_the_400_body(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    db = f"sqlite:///{tmp_path / 'c.db'}"
    status, _, err = run(
        capsys,
        "search",
        "--db",
        db,
        "--area",
        "POINT (1 2)",
        "--filter",
        "a < 1 and b",
        "--limit",
        "0",
    )
    body = json.loads(err)
    assert status == 1
    assert body["status"] == "400 Bad Request"
    assert [e["field"] for e in body["errors"]] == ["searchAreaWkt", "filters[0]", "limit"]


def test_load_names_the_bad_line_and_keeps_the_earlier_batches(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "bad.jsonl"
    good = [json.dumps(record(f"g{i}")) for i in range(5)]
    broken = record("x")
    broken["properties"]["timestamp"] = "soon"
    path.write_text("\n".join([*good, "", json.dumps(broken), json.dumps(record("late"))]) + "\n")
    db = f"sqlite:///{tmp_path / 'c.db'}"
    status, _, err = run(capsys, "load", str(path), "--db", db, "--batch-size", "4")
    assert status == 1
    assert f"{path}:7: properties.timestamp: 'soon' is not an ISO 8601" in err
    assert "4 records are in sqlite:" in err
    assert "Traceback" not in err

    path.write_text(good[0] + "\n{not json\n")
    status, _, err = run(capsys, "load", str(path), "--db", db)
    assert status == 1
    assert f"{path}:2: not JSON" in err


def test_catalog_usage_errors(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    status, _, err = run(capsys, "load", str(tmp_path / "missing.jsonl"), "--db", "memory://")
    assert status == 2 and "cannot read" in err
    status, _, err = run(capsys, "load", "-", "--batch-size", "0")
    assert status == 2 and "--batch-size" in err
    status, _, err = run(capsys, "get", "x", "--db", "ftp://nowhere")
    assert status == 2 and "no store" in err
    (tmp_path / "r.json").write_text("[1]")
    status, _, err = run(capsys, "search", str(tmp_path / "r.json"), "--db", "memory://")
    assert status == 2 and "JSON object" in err


def test_search_demo_builds_a_catalog_and_runs_the_documented_searches(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    db = f"sqlite:///{tmp_path / 'demo.db'}"
    status, out, err = run(capsys, "demo", "--records", "3000", "--db", db)
    assert status == 0, err
    assert "loaded 3,000 records" in out
    for title in ("Search by all criteria", "Search by multiple types", "Filter by catalog ID"):
        assert title in out
    assert "filters as SQL:  CASE json_type(properties, '$.sensorPlatformName')" in out
    assert "filters as CQL2: sensorPlatformName = 'WORLDVIEW03_VNIR' OR" in out
    capped = re.search(r'"recordsReturned": 1000, .*"totalMatched": (\d+)', out)
    assert capped is not None and int(capped.group(1)) > 2000  # 1000 returned, all counted
    assert "400 {" in out and '"field": "searchAreaWkt"' in out
    assert "100% 3,000 records" in err


def test_write_jsonl_round_trips_through_load(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "synthetic.jsonl"
    assert write_jsonl(path, 500, seed=3) == 500
    db = f"sqlite:///{tmp_path / 'c.db'}"
    assert run(capsys, "load", str(path), "--db", db)[0] == 0
    status, out, _ = run(capsys, "search", "--db", db, "--limit", "1000", "--count-total")
    assert (status, json.loads(out)["stats"]["totalMatched"]) == (0, 500)


def test_search_shows_request_warnings_on_stderr_and_in_the_body(
    capsys: pytest.CaptureFixture[str], jsonl: Path, tmp_path: Path
) -> None:
    """A typo in a field name or a capped limit is not silent (issue 10, item 11)."""
    db = f"sqlite:///{tmp_path / 'c.db'}"
    assert run(capsys, "load", str(jsonl), "--db", db)[0] == 0
    request = tmp_path / "typo.json"
    request.write_text(json.dumps({"filters": ["cloudCover < 3"], "limt": 1, "SearchAreaWkt": ""}))
    status, out, err = run(capsys, "search", str(request), "--db", db, "--limit", "5000")
    assert status == 0
    assert "warning: limt: unknown field 'limt' is ignored" in err
    assert "did you mean 'limit'?" in err
    assert "did you mean 'searchAreaWkt'?" in err
    assert "warning: limit: limit 5000 is served as 1000" in err
    answer = json.loads(out)
    assert [w["code"] for w in answer["warnings"]] == [
        "request.limit-capped", "request.unknown-field", "request.unknown-field",
    ]  # fmt: skip
    status, out, err = run(capsys, "search", str(request), "--db", db, "--table")
    assert status == 0 and "warning: limt:" in err and "warning" not in out

    status, out, err = run(capsys, "search", "--db", db, "--filter", "cloudCover < 3")
    assert (status, err) == (0, "")
    assert "warnings" not in json.loads(out)


def test_search_and_get_refuse_a_catalog_that_does_not_exist(
    capsys: pytest.CaptureFixture[str], jsonl: Path, tmp_path: Path
) -> None:
    """Only load creates a catalog: a typo in --db is an error, not an empty answer (item 12)."""
    for db in (f"sqlite:///{tmp_path / 'catalgo.db'}", str(tmp_path / "catalgo.db")):
        for argv in (["search", "--db", db], ["get", "r1", "--db", db]):
            status, out, err = run(capsys, *argv)
            assert (status, out) == (2, ""), argv
            assert f"catalogql {argv[0]}: error: no catalog at {db}: the file " in err
            assert "does not exist" in err and "catalogql load FILE --db URL" in err
    assert not (tmp_path / "catalgo.db").exists()
    db = f"sqlite:///{tmp_path / 'catalog.db'}"
    assert run(capsys, "load", str(jsonl), "--db", db)[0] == 0  # load creates it
    assert run(capsys, "get", "r1", "--db", db)[0] == 0


def test_demo_refuses_a_catalog_that_holds_records_unless_forced(
    capsys: pytest.CaptureFixture[str], jsonl: Path, tmp_path: Path
) -> None:
    """demo --db does not mix synthetic records into a real catalog by accident (item 17)."""
    db = f"sqlite:///{tmp_path / 'real.db'}"
    assert run(capsys, "load", str(jsonl), "--db", db)[0] == 0
    status, out, err = run(capsys, "demo", "--records", "200", "--db", db)
    assert (status, out) == (2, "")
    assert f"catalogql demo: error: the catalog {db} already holds 30 records" in err
    assert "--force" in err
    status, out, err = run(capsys, "search", "--db", db, "--count-total", "--limit", "1")
    assert json.loads(out)["stats"]["totalMatched"] == 30  # untouched

    status, out, err = run(capsys, "demo", "--records", "200", "--db", db, "--force")
    assert status == 0, err
    assert "loaded 200 records in " in out and "; the catalog holds 230" in out
