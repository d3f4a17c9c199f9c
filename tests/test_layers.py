"""The layers of SPEC section 11 hold: import-linter's contracts (pyproject.toml) are kept."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")

pytestmark = pytest.mark.skipif(
    not LINT_IMPORTS.exists() and "CI" not in os.environ,
    reason=f"import-linter is not installed next to {sys.executable} (the 'dev' extra)",
)


def _lint(root: Path) -> subprocess.CompletedProcess[str]:
    """Run lint-imports on the package under ``root/src`` with the contracts of ``root``."""
    env = {**os.environ, "PYTHONPATH": str(root / "src")}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo", str(root / "pyproject.toml")],
        capture_output=True,
        text=True,
        cwd=str(root),
        env=env,
        timeout=600,
        check=False,
    )


def test_every_contract_is_kept() -> None:
    result = _lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def _copy(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "src", tmp_path / "src", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


@pytest.mark.parametrize(
    ("module", "line", "broken"),
    [
        # a lazy import inside a function counts: the parser may not print the canonical text
        (
            "syntax/parser.py",
            "def _late() -> None:\n    import catalogql.compile.gbdx\n",
            "catalogql.syntax is not allowed to import catalogql.compile",
        ),
        # through the facade: the layer below would reach search
        ("compile/gbdx.py", "import catalogql\n", "catalogql.compile is not allowed to import"),
        # a search must never load the test tooling (nor Hypothesis)
        (
            "search/engine.py",
            "import catalogql.testing.synthetic\n",
            "catalogql.search is not allowed to import catalogql.testing",
        ),
        ("demo.py", "import hypothesis\n", "catalogql.demo is not allowed to import hypothesis"),
        ("cli.py", "import catalogql.testing\n", "catalogql.cli is not allowed to import"),
    ],
)
def test_an_import_against_the_layers_is_reported(
    tmp_path: Path, module: str, line: str, broken: str
) -> None:
    root = _copy(tmp_path)
    path = root / "src" / "catalogql" / module
    path.write_text(path.read_text(encoding="utf-8") + "\n" + line, encoding="utf-8")
    result = _lint(root)
    assert result.returncode != 0
    assert broken in result.stdout, result.stdout


def test_a_module_outside_the_layers_is_reported(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    (root / "src" / "catalogql" / "stray.py").write_text('"""Placed nowhere."""\n')
    result = _lint(root)
    assert result.returncode != 0
    assert "catalogql.stray" in result.stdout, result.stdout
