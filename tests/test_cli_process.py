"""The ``catalogql`` process as a shell sees it: help, the one shape of errors, pipes, memory://.

Each test runs ``python -m catalogql`` of this tree in a subprocess, since exit statuses, pipes and
standard error are properties of the process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from catalogql.search import open_catalog
from catalogql.testing.synthetic import generate_records

SRC = Path(__file__).resolve().parents[1] / "src"


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "CATALOGQL_DB"}
    env["PYTHONPATH"] = os.pathsep.join([str(SRC), *filter(None, [env.get("PYTHONPATH")])])
    return env


def cli(*argv: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "catalogql", *argv],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=cwd,
        env=_env(),
    )


def piped_to_head(*argv: str) -> tuple[int, bytes, bytes]:
    """``catalogql ARGV | head -1`` through a real pipe: catalogql's status, head's output, err."""
    with subprocess.Popen(
        [sys.executable, "-m", "catalogql", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=_env(),
    ) as writer:
        assert writer.stdout is not None and writer.stderr is not None
        with subprocess.Popen(["head", "-1"], stdin=writer.stdout, stdout=subprocess.PIPE) as head:
            writer.stdout.close()  # head alone reads it: its exit closes the pipe
            shown, _ = head.communicate(timeout=120)
        err = writer.stderr.read()
        status = writer.wait(timeout=120)
    return status, shown, err


# -- help ---------------------------------------------------------------------------------------


def test_the_help_says_what_catalogql_is_and_what_each_option_does() -> None:
    top = cli("--help")
    assert top.returncode == 0
    assert "query satellite-imagery catalogs" in top.stdout
    assert "GBDX" in top.stdout and "SQL" in top.stdout and "search" in top.stdout
    get = cli("get", "--help")
    assert "Print the record with this identifier as JSON" in get.stdout
    assert "the record's identifier" in get.stdout
    assert "(default: 5000)" in cli("load", "--help").stdout
    assert "(default: 100000)" in cli("demo", "--help").stdout
    search = " ".join(cli("search", "--help").stdout.split())
    assert "repeated --types are ANDed" in search
    assert "repeated --filter are ANDed" in search


# -- one shape of errors ------------------------------------------------------------------------


def test_every_command_prints_its_errors_in_one_shape(tmp_path: Path) -> None:
    checked = cli("check", "cloudCover <")
    assert checked.returncode == 1 and checked.stdout.startswith("error: missing value after")
    compiled = cli("compile", "--to", "sql", "cloudCover <")
    assert compiled.returncode == 1 and compiled.stdout == ""
    assert compiled.stderr.startswith("error: missing value after '<' at line 1, column 13")
    assert "\n  cloudCover <\n              ^\n" in compiled.stderr
    types = cli("compile", "--to", "gbdx", "--types", "WV02 OR")
    assert types.returncode == 1 and types.stderr.startswith("error: ")
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"identifier": "a"}\nnot json\n', encoding="utf-8")
    loaded = cli("load", str(bad), "--dry-run")
    assert loaded.returncode == 1
    errors = [line for line in loaded.stderr.splitlines() if f"{bad}:" in line]
    assert len(errors) == 2 and all(line.startswith(f"error: {bad}:") for line in errors)
    usage = cli("compile", "--to", "gbdx", "--types", "--schema", "x.json", "WV02")
    assert usage.returncode == 2
    assert usage.stderr.startswith("catalogql compile: error: --schema applies to filters")
    for result in (checked, compiled, types, loaded, usage):
        assert "Traceback" not in result.stdout + result.stderr


# -- a reader that goes away --------------------------------------------------------------------


def test_a_reader_that_goes_away_ends_the_command_quietly_with_status_0(tmp_path: Path) -> None:
    status, shown, err = piped_to_head("demo", "--tour")
    assert (status, err) == (0, b"")
    assert shown.startswith(b"catalogql ") and shown.count(b"\n") == 1

    db = f"sqlite:///{tmp_path / 'c.db'}"
    with open_catalog(db) as catalog:
        catalog.add_records(generate_records(1_200, seed=7))
    # about 2 MB of JSON: far past a pipe's buffer, so the write meets the closed pipe
    status, shown, err = piped_to_head("search", "--db", db, "--limit", "1000")
    assert (status, shown, err) == (0, b"{\n", b"")
    status, shown, err = piped_to_head("search", "--db", db, "--limit", "1000", "--table")
    assert status == 0 and err == b"" and shown.count(b"\n") == 1


def test_a_pipe_closed_before_anything_is_written() -> None:
    with subprocess.Popen(
        [sys.executable, "-m", "catalogql", "demo", "--tour"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=_env(),
    ) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.close()
        err = proc.stderr.read()
        status = proc.wait(timeout=60)
    assert (status, err) == (0, b"")


# -- memory:// ------------------------------------------------------------------------------------


def test_load_into_memory_says_that_nothing_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "records.jsonl"
    path.write_text(
        "".join(json.dumps(r) + "\n" for r in generate_records(3, seed=1)), encoding="utf-8"
    )
    loaded = cli("load", str(path), "--db", "memory://")
    assert loaded.returncode == 0, loaded.stderr
    assert "warning: memory:// keeps nothing: the catalog ends with this command" in loaded.stderr
    assert loaded.stdout.startswith("stored 3 records in memory://")
    on_disk = cli("load", str(path), "--db", f"sqlite:///{tmp_path / 'c.db'}")
    assert on_disk.returncode == 0 and "warning" not in on_disk.stderr


@pytest.mark.parametrize("argv", [["search"], ["get", "x"]])
def test_search_and_get_refuse_a_memory_catalog(argv: list[str]) -> None:
    result = cli(*argv, "--db", "memory://")
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith(f"catalogql {argv[0]}: error: memory:// is empty here")
    assert "hint: load the records into sqlite:///FILE.db" in result.stderr
