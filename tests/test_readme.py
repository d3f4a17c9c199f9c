"""The README runs as written: every Python block, and every shell line.

* Python: the ```python blocks run in README order in one namespace, in an empty folder. A
  block with ``>>>`` prompts is a doctest (its shown output is compared, ``...`` matching
  anything); a block without is executed as it stands.
* Shell: every line of the ```sh, ```bash, ```shell and ```console blocks (``$ `` lines of a
  console block) is either run, in README order, in one folder holding the files the README's
  commands name (``FILES``), with ``catalogql`` being ``python -m catalogql`` of this tree and a
  bounded time each, or listed in ``EXERCISED`` with the test (or the CI step) that runs it. A
  line's expected exit status is 0 unless its comment says ``exit N``. A new shell line with
  neither fails the test: run it as written, or name what exercises it.
"""

from __future__ import annotations

import ast
import doctest
import gzip
import io
import json
import os
import re
import shlex
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from catalogql.demo import write_tour_geotiff
from catalogql.testing.synthetic import generate_records

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
SHELLS = {"sh", "bash", "shell", "console"}

# Shell lines not run here, each with what exercises it: a test (path::name) or a CI step.
EXERCISED: dict[str, tuple[str, ...]] = {
    "make demo": ("ci:make demo",),
    "make test": ("ci:make test",),
    "catalogql demo [--records N] [--db URL [--force]]": (
        "tests/test_cli_catalog.py::test_search_demo_builds_a_catalog_and_runs_the_documented_searches",
        "tests/test_cli_catalog.py::test_demo_refuses_a_catalog_that_holds_records_unless_forced",
        "tests/test_cli.py::test_demo_tour",
    ),
}

_SERVED = ("tests/test_http.py::test_the_readmes_serving_lines_against_catalogql_serve",)
EXERCISED.update(
    {
        "catalogql serve --db sqlite:///catalog.db": _SERVED,
        "TOKEN=$(catalogql token --sub alice)": _SERVED,
        "curl -s http://127.0.0.1:8000/healthz": _SERVED,
        'curl -s -H Authorization: Bearer $TOKEN -d {"filters": ["cloudCover < 20"], "limit": 5} '
        "http://127.0.0.1:8000/catalog/v2/search": _SERVED,
        "curl -s -H Authorization: Bearer $TOKEN "
        "http://127.0.0.1:8000/catalog/v2/record/1040010019B4A600": _SERVED,
        "curl -s -i http://127.0.0.1:8000/catalog/v2/record/1040010019B4A600": _SERVED,
    }
)

_CONFORMANCE = (
    "tests/test_conformance_runner.py::test_catalogql_serve_passes",
    "tests/test_conformance_runner.py::test_the_command_exits_1_and_reports_a_wrong_server",
)
EXERCISED.update(
    {
        "catalogql conformance http://127.0.0.1:8000 --token $TOKEN --corpus corpus.jsonl "
        "--load-command catalogql load {corpus} --db sqlite:///catalog.db": _CONFORMANCE,
        "catalogql conformance http://127.0.0.1:8000 --token $TOKEN --corpus corpus.jsonl "
        "--loaded --json report.json --junit conformance.xml": _CONFORMANCE,
    }
)

_METADATA = (
    "tests/test_http_metadata.py::test_the_readmes_metadata_lines_against_catalogql_serve",
)
_CURL = "curl -s -H Authorization: Bearer $TOKEN -d "
_V1 = "http://127.0.0.1:8000/metadata/v1"
EXERCISED.update(
    {
        _CURL.replace("-s", "-s -i") + f'{{"limit": 2, "fields": ["acquired"]}} {_V1}/search': (
            _METADATA
        ),
        f'{_CURL}{{"interval": "month", "pixels": true}} {_V1}/summary': _METADATA,
        f'{_CURL}{{"limit": 10, "text": "land"}} {_V1}/products/search': _METADATA,
    }
)

_CLIENT = ("tests/test_descartes_client.py::test_the_real_descartes_client_end_to_end",)
EXERCISED.update(
    {
        "export DESCARTESLABS_ENV=gcp-production": _CLIENT,
        "export DESCARTESLABS_PLATFORM_URL=http://127.0.0.1:8000": _CLIENT,
        "export DESCARTESLABS_TOKEN=$(catalogql token --sub alice)": _CLIENT,
        "unset HTTP_PROXY HTTPS_PROXY http_proxy https_proxy": _CLIENT,
        "python examples/descartes_client.py scene.tif": _CLIENT,
    }
)

_UPLOADED = ("tests/test_http_catalog.py::test_the_readmes_upload_lines_against_catalogql_serve",)
EXERCISED.update(
    {
        "PID=$(curl -s -H Authorization: Bearer $TOKEN -d "
        '{"id": "scenes", "title": "Scenes", "description": "mine"} '
        "http://127.0.0.1:8000/metadata/v1/catalog/products | python3 -c import json, sys; "
        'print(json.load(sys.stdin)["data"]["id"]))': _UPLOADED,
        "UPLOAD_URL=$(curl -s -H Authorization: Bearer $TOKEN -d "
        '{"acquired": "2020-08-01T00:00:00Z"} '
        "http://127.0.0.1:8000/metadata/v1/catalog/products/$PID/images/upload/scene.tif)": (
            _UPLOADED
        ),
        "curl -s -T scene.tif $UPLOAD_URL": _UPLOADED,
        "curl -s -H Authorization: Bearer $TOKEN "
        "http://127.0.0.1:8000/metadata/v1/catalog/products/$PID/uploads/scene.tif": _UPLOADED,
    }
)

IDENTIFIER = "1040010019B4A600"  # the record the README's get and search lines name


def _the_record() -> dict[str, object]:
    return {
        "identifier": IDENTIFIER,
        "type": ["GBDXCatalogRecord", "Acquisition", "WV02"],
        "properties": {
            "timestamp": "2014-06-01T17:42:10.000Z",
            "footprintWkt": "POLYGON ((-105 39.7, -104.9 39.7, -104.9 39.8, -105 39.7))",
            "catalogID": IDENTIFIER,
            "cloudCover": 5,
            "offNadirAngle": 3.2,
        },
    }


def _files() -> dict[str, bytes]:
    """The files the README's shell lines name, as a user following it would have them."""
    records = [*generate_records(40, seed=3), _the_record()]
    jsonl = "".join(json.dumps(record) + "\n" for record in records).encode()
    response = {"results": [*generate_records(5, seed=4), {"identifier": "broken"}]}
    schema = {"type": "object", "properties": {"cloudCover": {"type": "number"}}}
    request = {
        "searchAreaWkt": "POLYGON ((-106 39, -104 39, -104 41, -106 41, -106 39))",
        "startDate": "2014-01-01",
        "endDate": "2014-12-31",
        "filters": ["cloudCover < 20"],
    }
    with tempfile.TemporaryDirectory() as folder:  # a GeoTIFF for `catalogql image upload`
        scene = write_tour_geotiff(Path(folder) / "scene.tif", 500_000.0, 4_430_000.0).read_bytes()
    return {
        "scene.tif": scene,
        "records.jsonl": jsonl,
        "response.json.gz": gzip.compress(json.dumps(response).encode()),
        "queryables.json": json.dumps(schema).encode(),
        "request.json": json.dumps(request).encode(),
    }


# -- reading the README -------------------------------------------------------------------------


@dataclass(frozen=True)
class Block:
    language: str
    line: int  # 1-based line of the block's first content line
    text: str


def blocks(text: str) -> list[Block]:
    """The fenced code blocks of a Markdown text, in order."""
    found: list[Block] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        fence = re.match(r"^```(\w*)\s*$", lines[i])
        if fence is None:
            i += 1
            continue
        end = i + 1
        while end < len(lines) and not lines[end].startswith("```"):
            end += 1
        found.append(Block(fence.group(1).lower(), i + 2, "\n".join(lines[i + 1 : end]) + "\n"))
        i = end + 1
    return found


@dataclass(frozen=True)
class ShellLine:
    line: int
    command: str  # as written, without its comment
    comment: str

    @property
    def key(self) -> str:
        return " ".join(shlex.split(self.command))

    @property
    def status(self) -> int:
        said = re.search(r"\bexit (\d+)", self.comment)
        return int(said.group(1)) if said else 0


def _split_comment(line: str) -> tuple[str, str]:
    """A shell line's command and its trailing comment (a ``#`` outside quotes)."""
    for at in (m.start() for m in re.finditer(r"(?:^|\s)#", line)):
        head = line[:at]
        try:
            shlex.split(head)
        except ValueError:  # the '#' is inside quotes
            continue
        return head.rstrip(), line[at:].strip()
    return line.rstrip(), ""


def shell_lines(text: str) -> list[ShellLine]:
    """Every command line of the README's shell blocks (continuations joined)."""
    found: list[ShellLine] = []
    for block in blocks(text):
        if block.language not in SHELLS:
            continue
        pending, start = "", 0
        for number, raw in enumerate(block.text.splitlines(), block.line):
            line = raw
            if block.language == "console":
                if not pending and not line.startswith("$ "):
                    continue  # output
                line = line.removeprefix("$ ") if not pending else line
            if not pending:
                start = number
            if line.rstrip().endswith("\\"):
                pending += line.rstrip()[:-1] + " "
                continue
            line, pending = pending + line, ""
            command, comment = _split_comment(line)
            if command.strip():
                found.append(ShellLine(start, command.strip(), comment))
    return found


README_TEXT = README.read_text(encoding="utf-8")
SHELL_LINES = shell_lines(README_TEXT)


# -- the extraction itself ----------------------------------------------------------------------


def test_the_extraction_reads_blocks_comments_and_continuations() -> None:
    text = (
        "x\n```sh\n# a comment line\ncatalogql check 'a # b'   # exit 1: not valid\n"
        "catalogql compile \\\n  --to gbdx 'a = 1'\n```\n"
        "```console\n$ catalogql check a=1\nok\n```\n```python\nprint(1)\n```\n"
    )
    lines = shell_lines(text)
    assert [(s.line, s.key, s.status) for s in lines] == [
        (4, "catalogql check a # b", 1),
        (5, "catalogql compile --to gbdx a = 1", 0),
        (9, "catalogql check a=1", 0),
    ]
    assert [b.language for b in blocks(text)] == ["sh", "console", "python"]


def test_the_readme_has_the_blocks_this_test_runs() -> None:
    python = [b for b in blocks(README_TEXT) if b.language == "python"]
    assert len(python) >= 2 and len(SHELL_LINES) >= 10


# -- Python -------------------------------------------------------------------------------------


def test_every_python_block_of_the_readme_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # the blocks may create catalog.db and other files
    monkeypatch.delenv("CATALOGQL_DB", raising=False)
    namespace: dict[str, object] = {"__name__": "readme"}
    parser = doctest.DocTestParser()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    ran = 0
    for block in blocks(README_TEXT):
        if block.language not in ("python", "py", "pycon"):
            continue
        name = f"README.md:{block.line}"
        if ">>>" in block.text:
            test = parser.get_doctest(block.text, namespace, name, str(README), block.line - 1)
            report = io.StringIO()
            result = runner.run(test, out=report.write, clear_globs=False)
            assert result.failed == 0, f"{name}:\n{report.getvalue()}"
            ran += result.attempted
        else:
            exec(compile(block.text, name, "exec"), namespace)
            ran += 1
    assert ran >= 20


# -- shell --------------------------------------------------------------------------------------


def _named_test_exists(name: str) -> bool:
    if name.startswith("ci:make "):
        target = name.removeprefix("ci:make ")
        makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
        return re.search(rf"^{re.escape(target)}:", makefile, re.MULTILINE) is not None
    path, _, function = name.partition("::")
    tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
    return any(isinstance(n, ast.FunctionDef) and n.name == function for n in tree.body)


def test_every_shell_line_is_run_or_exercised_by_a_named_test() -> None:
    for shell in SHELL_LINES:
        if shell.key in EXERCISED:
            for name in EXERCISED[shell.key]:
                assert _named_test_exists(name), f"README.md:{shell.line}: {name} is gone"
            continue
        argv = shlex.split(shell.command)
        assert argv[0] == "catalogql", (
            f"README.md:{shell.line}: {shell.command!r} is neither run by this test nor listed "
            "in EXERCISED with the test that runs it"
        )
    keys = {s.key for s in SHELL_LINES}
    assert set(EXERCISED) <= keys, f"stale entries: {set(EXERCISED) - keys}"


def test_every_catalogql_line_of_the_readme_runs_as_written(tmp_path: Path) -> None:
    for name, data in _files().items():
        (tmp_path / name).write_bytes(data)
    env = {k: v for k, v in os.environ.items() if k != "CATALOGQL_DB"}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), *filter(None, [env.get("PYTHONPATH")])])
    env["CATALOGQL_PYTHON"] = sys.executable
    define = 'catalogql() { "$CATALOGQL_PYTHON" -m catalogql "$@"; }\n'
    ran = 0
    for shell in SHELL_LINES:
        if shell.key in EXERCISED:
            continue
        result = subprocess.run(
            ["bash", "-o", "pipefail", "-c", define + shell.command],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        where = f"README.md:{shell.line}: {shell.command}"
        assert result.returncode == shell.status, f"{where}\n{result.stdout}\n{result.stderr}"
        assert "Traceback" not in result.stdout + result.stderr, where
        ran += 1
    assert ran >= 10
