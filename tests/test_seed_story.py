"""The Done-when script of issue 11: ``examples/seed_story.py`` runs the seed's story on each store.

The story (product, bands, uploads, search, grants, a stranger who sees nothing, removal with
cascade) asserts each of its steps itself; these tests run it on memory, SQLite and PostgreSQL,
as a program once, and check that it keeps to the public API.
"""

from __future__ import annotations

import ast
import importlib.util
import subprocess
import sys
import uuid
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "examples" / "seed_story.py"
STEPS = 7


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("seed_story", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("store", ["memory", "sqlite", "postgresql"])
def test_the_seed_story_holds_on_every_store(
    store: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    said: list[str] = []
    dropped: list[Any] = []
    if store == "memory":
        url = "memory://"
    elif store == "sqlite":
        url = f"sqlite:///{tmp_path / 'story.db'}"
    else:
        cluster = request.getfixturevalue("postgres_cluster")
        name = f"story_{uuid.uuid4().hex[:12]}"
        url = cluster.create_database(name)
        dropped.append((cluster, name))
    try:
        _script().story(url, tmp_path / "files", say=said.append)
    finally:
        for cluster, name in dropped:
            cluster.drop_database(name)
    assert [line.split(".")[0] for line in said] == [str(n) for n in range(1, STEPS + 1)]
    assert "bob finds both" in said[4] and "mallory finds nothing" in said[5]


def test_the_seed_story_runs_as_a_program(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(SCRIPT), f"sqlite:///{tmp_path / 'story.db'}"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "the story holds"
    assert (tmp_path / "story.db.files").is_dir() is False  # --storage not given: a temp folder


def test_the_seed_story_uses_only_the_public_api() -> None:
    tree = ast.parse(SCRIPT.read_text(encoding="utf-8"))
    catalogql_imports = [
        node
        for node in ast.walk(tree)
        if (isinstance(node, ast.ImportFrom) and (node.module or "").startswith("catalogql"))
        or (
            isinstance(node, ast.Import)
            and any(alias.name.startswith("catalogql") for alias in node.names)
        )
    ]
    assert len(catalogql_imports) == 1
    only = catalogql_imports[0]
    assert isinstance(only, ast.Import) and [(a.name, a.asname) for a in only.names] == [
        ("catalogql", "cq")
    ]
    used = {
        node.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "cq"
    }
    import catalogql

    assert used <= set(catalogql.__all__), used - set(catalogql.__all__)
