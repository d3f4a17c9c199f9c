"""The ``catalogql`` command line: exit statuses, caret output, JSON, schemas, stdin, the demo."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from catalogql import __version__
from catalogql.cli import COMPILERS, main
from catalogql.demo import run_demo

SCHEMA = {
    "type": "object",
    "properties": {
        "cloudCover": {"type": "integer"},
        "offNadirAngle": {"type": "number"},
        "sensorPlatformName": {"type": "string"},
        "timestamp": {"type": "string", "format": "date-time"},
    },
}


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


# (argv, exit status, text expected in stdout, text expected in stderr)
CASES = [
    # check: valid filters, canonical rewrites
    (["check", "cloudCover < 20"], 0, ["ok"], []),
    (["check", "(sensorPlatformName == WORLDVIEW03_VNIR)"], 0,
     ["ok", "canonical: sensorPlatformName = WORLDVIEW03_VNIR"], []),
    (["check", "catalogID = 1050010018826700"], 0, ["ok"], []),
    # check: errors with a caret under the input, exit 1
    (["check", "cloudCover < 20 and offNadirAngle < 10"], 1,
     ["error: 'and' is not an operator: operators must be uppercase at line 1, column 17",
      "[syntax.lowercase-operator]",
      "  cloudCover < 20 and offNadirAngle < 10\n                  ^^^\n",
      "hint: write AND"], []),
    (["check", "cloudCover < WORLDVIEW*"], 1,
     ["[validation.wildcard-ordering]",
      "  cloudCover < WORLDVIEW*\n               ^^^^^^^^^^\n"], []),
    (["check", "(cloudCover < 20"], 1, ["[syntax.unbalanced-parentheses]"], []),
    (["check", "cloudCover <"], 1,
     ["error: missing value after '<' at line 1, column 13 [syntax.missing-value]",
      "hint: add a value: a number"], []),
    (["check", ""], 1, ["error: empty filter"], []),
    # compatibility forms: warnings (exit 0) by default, errors under --strict
    (["check", "sensorPlatformName LIKE 'WORLDVIEW03%'"], 0,
     ["ok", "warning: LIKE is a compatibility form", "[compat.like]",
      "rewrite: sensorPlatformName = WORLDVIEW03*"], []),
    (["check", "cloudCover < 20, offNadirAngle < 10"], 0,
     ["ok", "warning:", "[compat.comma]", "                 ^\n",
      "rewrite: cloudCover < 20 AND offNadirAngle < 10"], []),
    (["check", "--strict", "sensorPlatformName LIKE 'WORLDVIEW03%'"], 1,
     ["error: LIKE is a compatibility form (not accepted in the strict dialect)",
      "[compat.like]"], []),
    (["check", "--strict", "cloudCover < 20, offNadirAngle < 10"], 1,
     ["error:", "[compat.comma]"], []),
    (["check", "--strict", "cloudCover < 20 AND offNadirAngle < 10"], 0, ["ok"], []),
    # type expressions
    (["check", "--types", "WV02 AND DigitalGlobeProduct"], 0, ["ok"], []),
    (["check", "--types", "(WV02 OR WV03*)   AND 1BProduct"], 0,
     ["ok", "canonical: (WV02 OR WV03*) AND 1BProduct"], []),
    (["check", "--types", "WV02 and WV03"], 1, ["[syntax.lowercase-operator]"], []),
    (["check", "--types", "WV02 AND"], 1, ["error: the type expression ends too early"], []),
    # compile
    (["compile", "--to", "gbdx",
      "(sensorPlatformName == WORLDVIEW03_VNIR) OR (sensorPlatformName == WORLDVIEW03_SWIR)"], 0,
     ["sensorPlatformName = WORLDVIEW03_VNIR OR sensorPlatformName = WORLDVIEW03_SWIR\n"], []),
    (["compile", "--to", "gbdx", "NOT (cloudCover >= 20 OR offNadirAngle >= 10)"], 0,
     ["NOT (cloudCover >= 20 OR offNadirAngle >= 10)\n"], []),
    (["compile", "--to", "gbdx", "sensorPlatformName LIKE 'WORLDVIEW03%', cloudCover < 20"], 0,
     ["sensorPlatformName = WORLDVIEW03* AND cloudCover < 20\n"],
     ["warning: LIKE is a compatibility form", "warning: a comma between conditions"]),
    (["compile", "--to", "gbdx", "--strict", "a LIKE 'x%'"], 1, [],
     ["LIKE is a compatibility form (not accepted in the strict dialect)", "  a LIKE 'x%'\n"]),
    (["compile", "--to", "gbdx", "cloudCover <"], 1, [],
     ["missing value after '<' at line 1, column 13", "  cloudCover <\n              ^\n"]),
    (["compile", "--to", "gbdx", "--types", "( WV02 OR WV03* ) AND NOT IDAHOImage"], 0,
     ["(WV02 OR WV03*) AND NOT IDAHOImage\n"], []),
    (["compile", "--to", "gbdx", "--types", "WV02 OR"], 1, [], ["ends too early"]),
    # bad usage: argparse's exit status 2
    ([], 2, [], ["usage: catalogql"]),
    (["check"], 2, [], ["the following arguments are required: TEXT"]),
    (["compile", "a = 1"], 2, [], ["--to"]),
    (["compile", "--to", "nosuchtarget", "a = 1"], 2, [], ["invalid choice: 'nosuchtarget'"]),
    (["frobnicate"], 2, [], ["invalid choice: 'frobnicate'"]),
    (["check", "--types", "--schema", "queryables.json", "WV02"], 2, [],
     ["--schema applies to filters"]),
    (["--version"], 0, [f"catalogql {__version__}"], []),
    (["check", "--help"], 0, ["--strict", "--schema FILE", "--json"], []),
]  # fmt: skip


@pytest.mark.parametrize(("argv", "status", "outs", "errs"), CASES, ids=lambda v: repr(v)[:60])
def test_cli(
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    status: int,
    outs: list[str],
    errs: list[str],
) -> None:
    got, out, err = run(capsys, *argv)
    assert got == status, (out, err)
    for text in outs:
        assert text in out
    for text in errs:
        assert text in err
    assert "Traceback" not in out + err


def test_check_ok_is_the_first_line_and_only_line_for_a_canonical_filter(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert run(capsys, "check", "cloudCover < 20") == (0, "ok\n", "")


def test_compile_prints_only_the_canonical_text(capsys: pytest.CaptureFixture[str]) -> None:
    text = "sensorPlatformName = WORLDVIEW03* AND cloudCover < 20 AND offNadirAngle < 10"
    assert run(capsys, "compile", "--to", "gbdx", text) == (0, text + "\n", "")


def test_compile_targets_come_from_one_table() -> None:
    assert set(COMPILERS) == {
        "sql", "sql-postgresql", "cql2-text", "cql2-json", "gbdx", "pygeofilter"
    }  # fmt: skip


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("sql", ["json_extract(properties, '$.cloudCover') < :v1", "GLOB :v3",
                 '-- parameters: {"v1": 20, "v2": "20", "v3": "WORLDVIEW03*"}']),
        ("sql-postgresql", ["jsonb_typeof(properties -> 'cloudCover')", "LIKE %(v3)s",
                            "ESCAPE '\\'", '"v3": "WORLDVIEW03%"']),
        ("cql2-text", ["cloudCover < 20 AND sensorPlatformName LIKE 'WORLDVIEW03%'"]),
        ("cql2-json", ['"op": "and"', '"op": "like"', '"WORLDVIEW03%"']),
        ("pygeofilter", ["And(lhs=LessThan(lhs=ATTRIBUTE cloudCover, rhs=20)",
                         "pattern='WORLDVIEW03%'"]),
    ],
)  # fmt: skip
def test_compile_to_every_target(
    capsys: pytest.CaptureFixture[str], target: str, expected: list[str]
) -> None:
    status, out, err = run(
        capsys, "compile", "--to", target, "cloudCover < 20 AND sensorPlatformName = WORLDVIEW03*"
    )
    assert (status, err) == (0, "")
    for piece in expected:
        assert piece in out


def test_a_compile_error_points_into_the_input(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    schema = tmp_path / "schema.json"
    schema.write_text('{"properties": {"tags": {"type": "array", "items": {"type": "string"}}}}')
    status, out, err = run(
        capsys, "compile", "--to", "cql2-text", "--schema", str(schema), "tags < x"
    )
    assert (status, out) == (1, "")
    assert "[compile.inexpressible]" in err and "  tags < x" in err


@pytest.mark.parametrize(
    ("text", "valid", "codes"),
    [
        ("cloudCover < 20", True, []),
        ("cloudCover < 20, offNadirAngle < 10", True, ["compat.comma"]),
        ("cloudCover < 20 and offNadirAngle < 10", False, ["syntax.lowercase-operator"]),
    ],
)
def test_check_json(
    capsys: pytest.CaptureFixture[str], text: str, valid: bool, codes: list[str]
) -> None:
    status, out, _ = run(capsys, "check", "--json", text)
    report = json.loads(out)
    assert status == (0 if valid else 1)
    assert set(report) == {"valid", "diagnostics"}
    assert report["valid"] is valid
    assert [d["code"] for d in report["diagnostics"]] == codes
    for d in report["diagnostics"]:
        assert {"severity", "code", "message", "offset", "line", "column", "hint"} <= set(d)


def test_check_json_positions_the_error(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, "check", "--json", "cloudCover < 20 and offNadirAngle < 10")
    (diag,) = json.loads(out)["diagnostics"]
    assert (diag["severity"], diag["offset"], diag["line"], diag["column"]) == ("error", 16, 1, 17)


def test_check_json_rewrite_for_a_compatibility_form(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, "check", "--json", "name LIKE 'QUICK%'")
    (diag,) = json.loads(out)["diagnostics"]
    assert (diag["severity"], diag["rewrite"]) == ("warning", "name = QUICK*")


# --------------------------------------------------------------------------------------------
# --schema


@pytest.fixture
def schema_file(tmp_path: Path) -> Path:
    path = tmp_path / "queryables.json"
    path.write_text(json.dumps(SCHEMA), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("text", "status", "outs"),
    [
        ("cloudCover < 20 AND timestamp >= 2016-01-01", 0, ["ok"]),
        (
            "cloudCovr < 20",
            1,
            ["error: unknown property 'cloudCovr'", "did you mean 'cloudCover'?", "  ^^^^^^^^^"],
        ),
        ("cloudCover < cloudy", 1, ["[schema.type-mismatch]"]),
        ("timestamp > yesterday", 1, ["[schema.type-mismatch]"]),
    ],
)
def test_check_with_schema(
    capsys: pytest.CaptureFixture[str], schema_file: Path, text: str, status: int, outs: list[str]
) -> None:
    got, out, _ = run(capsys, "check", "--schema", str(schema_file), text)
    assert got == status
    for expected in outs:
        assert expected in out


def test_compile_with_schema_rejects_an_unknown_property(
    capsys: pytest.CaptureFixture[str], schema_file: Path
) -> None:
    status, out, err = run(capsys, "compile", "--to", "gbdx", "--schema", str(schema_file), "x = 1")
    assert (status, out) == (1, "")
    assert "unknown property 'x'" in err


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot read schema file"),  # missing
        ("{", "is not valid JSON"),
        ("", "is not valid JSON"),
        ("[1, 2]", "must hold a JSON object"),
        ('"properties"', "must hold a JSON object"),
        ('{"properties": [1, 2]}', "'properties' must be an object"),
        ('{"properties": {"cloudCover": "integer"}}', "property 'cloudCover' must be an object"),
        ("[" * 100_000, "schema file"),
        (b"\xff\xfe{}", "is not UTF-8 text"),
    ],
)
def test_unusable_schema_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, content: str | bytes | None, message: str
) -> None:
    path = tmp_path / "queryables.json"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content, encoding="utf-8")
    status, out, err = run(capsys, "check", "--schema", str(path), "cloudCover < 20")
    assert (status, out) == (2, "")
    assert err.startswith("catalogql check: error: ")
    assert message in err
    assert "Traceback" not in err


def test_schema_that_is_a_directory(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    status, _, err = run(capsys, "compile", "--to", "gbdx", "--schema", str(tmp_path), "a = 1")
    assert status == 2
    assert "cannot read schema file" in err


def test_schema_with_a_byte_order_mark(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "queryables.json"
    path.write_text("\ufeff" + json.dumps(SCHEMA), encoding="utf-8")
    assert run(capsys, "check", "--schema", str(path), "cloudCover < 20")[0] == 0


# --------------------------------------------------------------------------------------------
# Standard input


@pytest.mark.parametrize(
    ("argv", "stdin", "status", "out"),
    [
        (["check", "-"], "cloudCover < 20\n", 0, "ok\n"),
        (["check", "--types", "-"], "WV02 OR WV03*\r\n", 0, "ok\n"),
        (["compile", "--to", "gbdx", "-"], "(a == 1)\n", 0, "a = 1\n"),
        (["check", "-"], "cloudCover < 20 AND\noffNadirAngle < \n", 1, "at line 2, column 17"),
        (["check", "-"], "", 1, "empty filter"),
    ],
)
def test_stdin(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    argv: list[str],
    stdin: str,
    status: int,
    out: str,
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    got, stdout, _ = run(capsys, *argv)
    assert got == status
    assert out in stdout


# --------------------------------------------------------------------------------------------
# No input ends in a traceback


@pytest.mark.parametrize(
    "text",
    [
        "",
        " ",
        "(",
        ")",
        "'",
        '"',
        "\\",
        "a = '",
        "a = 'unterminated AND b = 1",
        "a = \udcff",
        "\x00",
        "a = 1 " + "AND a = 1 " * 20_000,
        "(" * 300 + "a = 1" + ")" * 300,
        "NOT " * 1_000 + "a = 1",
        "x" * 70_000,
        "cloudCover < 20 \u2028 AND b = 1",
    ],
    ids=lambda t: repr(t)[:30],
)
@pytest.mark.parametrize("command", [["check"], ["check", "--json"], ["compile", "--to", "gbdx"]])
def test_no_traceback(capsys: pytest.CaptureFixture[str], command: list[str], text: str) -> None:
    for kind in ([], ["--types"]):
        status, out, err = run(capsys, *command, *kind, text)
        assert status in (0, 1)
        assert out or err
        assert "Traceback" not in out + err


# --------------------------------------------------------------------------------------------
# The demo


def test_demo_tour(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "demo", "--tour")
    assert (status, err) == (0, "")
    # canonical forms
    assert (
        "canonical: sensorPlatformName = WORLDVIEW03_VNIR OR sensorPlatformName = WORLDVIEW03_SWIR"
        in out
    )
    assert "canonical: catalogID = 1050010018826700" in out
    # compatibility warnings with rewrites, and their strict-dialect errors
    assert "rewrite: sensorPlatformName = WORLDVIEW03*" in out
    assert "[compat.comma]" in out
    assert "strict: error:" in out
    # a caret error for lowercase operators
    assert "'and' is not an operator: operators must be uppercase" in out
    assert "      cloudCover < 20 and offNadirAngle < 10\n" + " " * 22 + "^^^\n" in out
    # the filter run over sample records: selected and skipped, a null property never selected
    assert "selected  10400100120FEA00" in out
    assert "selected  104001001838A000" in out
    assert "skipped   104A0100149B1A00" in out
    assert "skipped   1030010057062200" in out
    assert "skipped   1040010021E5B900  WORLDVIEW03_VNIR  cloudCover=8   offNadirAngle=null" in out


def test_run_demo_writes_to_the_stream_it_is_given() -> None:
    buffer = io.StringIO()
    run_demo(buffer)
    assert buffer.getvalue().startswith(f"catalogql {__version__}")


# --------------------------------------------------------------------------------------------
# The installed console script


def _script() -> str:
    beside = Path(sys.executable).parent / "catalogql"
    found = str(beside) if beside.exists() else shutil.which("catalogql")
    if found is None:
        pytest.skip("the catalogql console script is not installed")
    return found


def test_installed_script(tmp_path: Path) -> None:
    script = _script()

    def call(*argv: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [script, *argv], input=stdin, capture_output=True, text=True, timeout=60, check=False
        )

    ok = call("check", "cloudCover < 20")
    assert (ok.returncode, ok.stdout, ok.stderr) == (0, "ok\n", "")

    bad = call("check", "cloudCover < 20 and offNadirAngle < 10")
    assert bad.returncode == 1
    assert "  cloudCover < 20 and offNadirAngle < 10\n                  ^^^\n" in bad.stdout

    usage = call("check", "--no-such-option", "a = 1")
    assert usage.returncode == 2
    assert "unrecognized arguments: --no-such-option" in usage.stderr

    piped = call("compile", "--to", "gbdx", "-", stdin="(cloudCover == 5)\n")
    assert (piped.returncode, piped.stdout) == (0, "cloudCover = 5\n")

    schema = tmp_path / "queryables.json"
    schema.write_text(json.dumps(SCHEMA), encoding="utf-8")
    unknown = call("check", "--json", "--schema", str(schema), "cloudcover < 20")
    assert unknown.returncode == 1
    report = json.loads(unknown.stdout)
    assert report["valid"] is False
    assert report["diagnostics"][0]["hint"] == "did you mean 'cloudCover'?"

    missing = call("check", "--schema", str(tmp_path / "nope.json"), "a = 1")
    assert missing.returncode == 2
    assert "Traceback" not in missing.stderr

    version = call("--version")
    assert (version.returncode, version.stdout) == (0, f"catalogql {__version__}\n")

    demo = call("demo", "--tour")
    assert demo.returncode == 0
    assert "selected  10400100120FEA00" in demo.stdout


def test_installed_script_survives_a_closed_pipe() -> None:
    """`catalogql demo | head -0`: the reader is gone before anything is written."""
    with subprocess.Popen(
        [_script(), "demo", "--tour"], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    ) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.close()
        err = proc.stderr.read()
        status = proc.wait(timeout=60)
    assert status == 0  # a reader that went away is not an error (see test_cli_process.py)
    assert b"Traceback" not in err
    assert b"BrokenPipeError" not in err


def test_the_demo_generates_beside_the_load_the_same_records() -> None:
    """Generated in another process and sent as JSON lines: the records, value for value."""
    from catalogql.demo import synthetic_records
    from catalogql.testing.synthetic import generate_records

    count = 20_500  # past the size generated in this process, and not a whole number of chunks
    with synthetic_records(count, seed=11) as made:
        received = list(made)
    here = list(generate_records(count, seed=11, end="2018-12-31T23:59:59.000Z"))
    assert len(received) == count
    assert received == here
    assert [type(v) for r in received[:50] for v in r["properties"].values()] == [
        type(v) for r in here[:50] for v in r["properties"].values()
    ]


def test_the_demo_stops_its_generating_process_when_the_load_stops() -> None:
    from catalogql.demo import synthetic_records

    with synthetic_records(40_000, seed=1) as made:
        first = next(iter(made))
    assert first["identifier"]
    import multiprocessing

    assert not [p for p in multiprocessing.active_children() if p.is_alive()]


def test_the_demo_loads_every_record_made_beside_it_as_generated() -> None:
    """The demo's fill (a small first batch, then the rest, handed over as decoded) loads the
    generator's records exactly."""
    import io

    from catalogql.demo import _fill
    from catalogql.search import open_catalog
    from catalogql.testing.synthetic import generate_records

    count = 20_500  # past the size generated in this process
    catalog = open_catalog("memory://")
    seen: list[int] = []
    _fill(catalog, io.StringIO(), count, 5, lambda done, total: seen.append(done))
    assert len(catalog) == count
    assert seen[0] == 2_000 and seen[-1] == count
    here = generate_records(count, seed=5, end="2018-12-31T23:59:59.000Z")
    for number, record in enumerate(here):
        if number % 997 == 0 or number in (1_999, 2_000, count - 1):
            stored = catalog.get_record(record["identifier"])
            assert stored is not None
            assert stored["properties"] == record["properties"]
