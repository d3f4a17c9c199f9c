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


def test_load_for_readers_then_search_and_get_as_a_reader(
    capsys: pytest.CaptureFixture[str], jsonl: Path, tmp_path: Path
) -> None:
    db = f"sqlite:///{tmp_path / 'c.db'}"
    team = tmp_path / "team.jsonl"
    team.write_text(json.dumps(record("t1")) + "\n")
    assert run(capsys, "load", str(jsonl), "--db", db)[0] == 0  # every authenticated principal
    status, _, err = run(
        capsys, "load", str(team), "--db", db, "--reader", "group:team", "--reader", "org:acme"
    )
    assert status == 0, err

    def found(*argv: str) -> list[str]:
        status, out, err = run(capsys, "search", "--db", db, "--count-total", *argv)
        assert status == 0, err
        answer = json.loads(out)
        assert answer["stats"]["totalMatched"] == len(answer["results"])
        return sorted(r["identifier"] for r in answer["results"])

    assert len(found()) == 31  # no --as-reader: a trusted local caller sees everything
    assert found("--as-reader", "org:acme") == ["t1"]
    assert len(found("--as-reader", "*", "--as-reader", "group:team")) == 31
    assert len(found("--as-reader", "*")) == 30
    assert found("--as-reader", "user:someone") == []
    status, out, _ = run(capsys, "get", "t1", "--db", db, "--as-reader", "group:team")
    assert status == 0 and json.loads(out)["identifier"] == "t1"
    status, _, err = run(capsys, "get", "t1", "--db", db, "--as-reader", "*")
    assert status == 1
    assert json.loads(err) == {"status": "404 Not Found", "message": "Not Found: t1"}


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
    # then the service tour (tests/test_cli_service.py::test_the_demo_tour_of_the_service)
    assert out.index("Filter by catalog ID") < out.index("The catalog service: a product")


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


# -- load on real files (issue 10, item 16) ----------------------------------------------------


@pytest.fixture
def messy(tmp_path: Path) -> Path:
    """A JSON Lines file with good records and three bad lines among them."""
    broken = record("x")
    broken["properties"]["timestamp"] = "soon"
    lines = [json.dumps(record(f"g{i}")) for i in range(6)]
    lines[1:1] = ["{not json"]  # line 2
    lines[4:4] = ["", json.dumps(broken)]  # line 6
    lines.append('{"identifier": "y", "type": [')  # line 10
    path = tmp_path / "messy.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_load_dry_run_reports_every_bad_line_and_stores_nothing(
    capsys: pytest.CaptureFixture[str], messy: Path, tmp_path: Path
) -> None:
    db = tmp_path / "c.db"
    status, out, err = run(capsys, "load", str(messy), "--db", f"sqlite:///{db}", "--dry-run")
    assert status == 1
    assert f"{messy}:2: not JSON" in err
    assert f"{messy}:6: properties.timestamp: 'soon' is not an ISO 8601" in err
    assert f"{messy}:10: not JSON" in err
    assert "dry run: 6 records are valid, 3 are not; nothing was stored" in out
    assert not db.exists()
    good = tmp_path / "good.jsonl"
    good.write_text(json.dumps(record("g")) + "\n")
    assert run(capsys, "load", str(good), "--dry-run")[:2] == (
        0,
        "dry run: 1 record is valid, 0 are not; nothing was stored\n",
    )
    status, out, err = run(capsys, "load", str(good), "--db", f"sqlite:///{tmp_path / 'g.db'}")
    assert status == 0, err
    assert "stored 1 record in " in out  # one record, not "1 records"


def test_load_skip_bad_loads_the_rest_and_lists_what_it_skipped(
    capsys: pytest.CaptureFixture[str], messy: Path, tmp_path: Path
) -> None:
    db = f"sqlite:///{tmp_path / 'c.db'}"
    status, out, err = run(
        capsys, "load", str(messy), "--db", db, "--skip-bad", "--batch-size", "2"
    )
    assert status == 0, err
    skipped = [line for line in err.splitlines() if line.startswith(f"error: {messy}")]
    assert [line.split(": ")[1] for line in skipped] == [
        f"{messy}:2", f"{messy}:6", f"{messy}:10",
    ]  # fmt: skip
    assert re.search(r"stored 6 records in .*: 6 added, 0 replaced, 3 skipped, in [\d.]+ s", out)
    status, out, _ = run(capsys, "load", str(messy), "--db", db, "--skip-bad")
    assert "stored 6 records in " in out and ": 0 added, 6 replaced, 3 skipped" in out
    status, out, _ = run(capsys, "search", "--db", db, "--count-total", "--limit", "1")
    assert json.loads(out)["stats"]["totalMatched"] == 6
    status, _, err = run(capsys, "load", str(messy), "--db", db)  # without it: stops at line 2
    assert status == 1 and f"{messy}:2: not JSON" in err and "--skip-bad" in err
    assert f"{messy}:6" not in err


def test_load_reads_arrays_search_responses_gzip_and_its_own_search_output(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import gzip
    import io

    records = [record(f"r{i}", cloudCover=i) for i in range(5)]
    forms = {
        "array.json": json.dumps(records, indent=2).encode(),
        "gbdx.json": json.dumps({"stats": {"recordsReturned": 5}, "results": records}).encode(),
        "pretty.json": json.dumps({"stats": {}, "results": records}, indent=2).encode(),
        "records.jsonl.gz": gzip.compress("\n".join(map(json.dumps, records)).encode()),
        "array.json.gz": gzip.compress(("\ufeff" + json.dumps(records)).encode()),
    }
    for name, data in forms.items():
        (tmp_path / name).write_bytes(data)
        db = f"sqlite:///{tmp_path / (name + '.db')}"
        status, out, err = run(capsys, "load", str(tmp_path / name), "--db", db)
        assert (status, err.count("Traceback")) == (0, 0), (name, err)
        assert "stored 5 records" in out, name
        status, out, _ = run(capsys, "get", "r3", "--db", db)
        assert json.loads(out) == records[3], name

    source = f"sqlite:///{tmp_path / 'array.json.db'}"
    status, answer, _ = run(capsys, "search", "--db", source, "--filter", "cloudCover < 3")
    assert status == 0
    stdin = io.TextIOWrapper(io.BytesIO(answer.encode()))
    monkeypatch.setattr("sys.stdin", stdin)
    db = f"sqlite:///{tmp_path / 'piped.db'}"
    status, out, err = run(capsys, "load", "-", "--db", db)
    assert (status, "stored 3 records" in out) == (0, True), err


def test_load_through_a_real_pipe(jsonl: Path, tmp_path: Path) -> None:
    """catalogql search ... | catalogql load - ...: the search output is a loadable file."""
    import os
    import subprocess
    import sys

    command = [sys.executable, "-c", "import sys; from catalogql.cli import main; sys.exit(main())"]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1] / "src")}
    source, target = f"sqlite:///{tmp_path / 'a.db'}", f"sqlite:///{tmp_path / 'b.db'}"
    subprocess.run([*command, "load", str(jsonl), "--db", source], env=env, check=True,
                   capture_output=True, timeout=60)  # fmt: skip
    search = subprocess.Popen(
        [*command, "search", "--db", source, "--filter", "cloudCover >= 20"],
        env=env,
        stdout=subprocess.PIPE,
    )
    load = subprocess.run(
        [*command, "load", "-", "--db", target],
        env=env,
        stdin=search.stdout,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert search.stdout is not None
    search.stdout.close()
    assert search.wait(timeout=60) == 0
    assert load.returncode == 0, load.stderr
    assert "stored 10 records in " in load.stdout and "10 added, 0 replaced" in load.stdout


def test_load_interrupted_says_how_much_is_stored(
    capsys: pytest.CaptureFixture[str], jsonl: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from catalogql.search import sources

    real = sources.read_entries

    def interrupted(stream: Any) -> Any:
        for number, entry in enumerate(real(stream)):
            if number == 12:
                raise KeyboardInterrupt
            yield entry

    monkeypatch.setattr(sources, "read_entries", interrupted)
    db = f"sqlite:///{tmp_path / 'c.db'}"
    status, _, err = run(capsys, "load", str(jsonl), "--db", db, "--batch-size", "5")
    assert status == 130
    assert "interrupted after storing 10 records of" in err
    assert f"10 records are in {db}" in err and "run the same command again" in err
