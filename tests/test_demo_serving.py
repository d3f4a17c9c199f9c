"""``make demo`` ends with the lines that serve its catalog and search it with curl: run for real.

The demo runs as ``make demo`` runs it (``catalogql demo --db sqlite:///demo.db`` in a fresh
folder, fewer records); the printed ``catalogql serve`` line is started as a subprocess (no
``--secret-file``: it finds or makes the secret beside the catalog, as a user's would), and the
printed token and ``curl`` lines run in bash as written but for the port.
"""

from __future__ import annotations

import io
import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from catalogql.cli import _print_serving, main
from catalogql.demo import SERVING_SEARCH
from http_fixtures import ROOT, serving

MAKE_DEMO_DB = "sqlite:///demo.db"


def _makefile_demo_db() -> str:
    """The ``--db`` the Makefile's demo target gives ``catalogql demo``."""
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    (line,) = [line for line in text.splitlines() if line.startswith("DEMO_DB")]
    return line.split("=", 1)[1].strip()


def test_make_demo_ends_with_serving_lines_that_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _makefile_demo_db() == MAKE_DEMO_DB
    monkeypatch.chdir(tmp_path)
    assert main(["demo", "--records", "400", "--db", MAKE_DEMO_DB]) == 0
    printed = capsys.readouterr().out.rstrip("\n").splitlines()
    header = printed.index(
        "Serve this catalog over HTTP (Ctrl-C stops it), then search it from another shell:"
    )
    serve, token, curl = (line.removeprefix("  ") for line in printed[header + 1 :])
    assert len(printed) == header + 4, "the serving lines are the demo's end"
    argv = shlex.split(serve)
    assert argv == ["catalogql", "serve", "--db", MAKE_DEMO_DB, "--port", "8000"]
    assert token.startswith("TOKEN=$(catalogql token") and "127.0.0.1:8000" in curl
    with serving(argv[3], tmp_path, secret=False) as server:
        env = {
            "PATH": os.environ["PATH"],
            "PYTHONPATH": str(ROOT / "src"),
            "CATALOGQL_PYTHON": sys.executable,
        }
        define = 'catalogql() { "$CATALOGQL_PYTHON" -m catalogql "$@"; }\n'
        command = curl.replace("http://127.0.0.1:8000", server.url)
        done = subprocess.run(
            ["bash", "-c", f"{define}{token}\n{command}"],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
    log = server.log_text()  # read once the server stopped: a line is written after its answer
    answer = json.loads(done.stdout)
    assert 0 < answer["stats"]["recordsReturned"] <= SERVING_SEARCH["limit"]
    assert all(r["properties"]["cloudCover"] < 20 for r in answer["results"])
    assert (tmp_path / "demo.db.secret").exists()  # the server and the token found one secret
    (line,) = [line for line in log.splitlines() if '"POST /catalog/v2/search HTTP/1.1"' in line]
    assert " 200 " in line and line.endswith(" sub=demo"), line


@pytest.mark.parametrize("db", [None, "memory://"])
def test_a_demo_catalog_that_does_not_last_says_how_to_keep_one(db: str | None) -> None:
    out = io.StringIO()
    _print_serving(db, out)
    assert "catalogql demo --db sqlite:///demo.db" in out.getvalue()
    assert "catalogql serve" not in out.getvalue()
