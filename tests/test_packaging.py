"""The wheel carries the grammars, and an installed (even zipped) package finds them."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from hatchling.builders.wheel import WheelBuilder

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    return Path(next(WheelBuilder(str(ROOT)).build(directory=str(out))))


def test_wheel_contains_the_grammars(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "catalogql/grammar/filter.lark" in names
    assert "catalogql/grammar/types.lark" in names
    assert "catalogql/py.typed" in names


def test_installed_package_parses_without_the_checkout(wheel: Path) -> None:
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); import catalogql as cq; "
        "assert cq.__file__.startswith(sys.argv[1]), cq.__file__; "
        "print(cq.to_gbdx(cq.parse_filter('a == 1 OR b = x*')), cq.to_gbdx(cq.parse_types('WV02')))"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run(
        [sys.executable, "-c", code, str(wheel)],
        capture_output=True,
        text=True,
        cwd=str(wheel.parent),
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["a", "=", "1", "OR", "b", "=", "x*", "WV02"]


def test_a_search_loads_no_test_tooling() -> None:
    code = (
        "import sys, catalogql as cq; "
        "c = cq.open_catalog('memory://'); "
        "c.add_records([{'identifier': 'a', 'type': ['T'], 'properties': {"
        "'timestamp': '2016-01-01T00:00:00Z', 'footprintWkt': 'POLYGON((0 0,1 0,1 1,0 0))'}}]); "
        "assert c.search({'filters': ['x = 1']})['stats']['recordsReturned'] == 0; "
        "cq.to_sql(cq.parse_filter('a = 1')); "
        "print(sorted(m for m in sys.modules if m.startswith(('hypothesis', 'catalogql.testing'))))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_python_dash_m_runs_the_command_line() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "catalogql", "--version"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("catalogql ")


def test_dir_lists_the_lazily_loaded_names_without_loading_them() -> None:
    code = (
        "import sys, catalogql as cq; names = dir(cq); "
        "print(all(n in names for n in cq.__all__), 'catalogql.search' in sys.modules, "
        "'sqlalchemy' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "False", "False"]
