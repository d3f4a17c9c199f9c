"""Shared test helpers: where the shared fixtures live, and read-only loaders for them.

The conformance data (``wild-filters.tsv``, the recorded GBDX traffic of ``gbdx-v2/``) lives in
``../shared`` next to the repository and is never copied into it. A test that needs it skips with
a reason when it is absent, except under CI (``CI=true``), where a missing fixture is a failure.

Tests that take a ``wild_filter_line`` or ``wild_types_line`` argument are parametrized with the
filter or types lines of ``wild-filters.tsv`` (ids are the lines' text).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest

pytest_plugins = ["postgres_fixtures", "catalog_fixtures", "catalogql.testing.conformance"]

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DIR = REPO_ROOT.parent / "shared"
FIXTURES_DIR = SHARED_DIR / "fixtures"
WILD_FILTERS_TSV = FIXTURES_DIR / "wild-filters.tsv"
GBDX_DIR = FIXTURES_DIR / "gbdx-v2"
GBDX_RECORDS = GBDX_DIR / "records.jsonl"
GBDX_CASES = GBDX_DIR / "cases.json"


def in_ci() -> bool:
    """Whether the suite runs under CI, where missing shared fixtures are failures."""
    return os.environ.get("CI", "").strip().lower() in ("true", "1")


def require_shared(path: Path = SHARED_DIR) -> Path:
    """Return ``path`` if it exists; otherwise skip the test, or fail it under ``CI=true``."""
    if path.exists():
        return path
    reason = (
        f"shared fixture {path} is absent: the suite expects ../shared next to the repository "
        f"({SHARED_DIR})"
    )
    if in_ci():
        pytest.fail(reason + " and CI=true, so this is a failure", pytrace=False)
    pytest.skip(reason)


@dataclass(frozen=True, slots=True)
class WildFilter:
    """One line of ``wild-filters.tsv``: ``kind<TAB>expect<TAB>text``."""

    kind: str  # "filter" or "types"
    expect: str  # "ok", "error" or "warn:<what>"
    text: str  # exactly as in the file: trailing spaces kept, may be empty
    lineno: int

    @property
    def id(self) -> str:
        """The pytest id: the text itself (``<empty>`` for the empty line)."""
        return self.text if self.text else "<empty>"


def read_wild_filters(path: Path = WILD_FILTERS_TSV) -> list[WildFilter] | None:
    """The lines of ``wild-filters.tsv`` (comments skipped), or None when the file is absent."""
    if not path.is_file():
        return None
    out = []
    for lineno, raw in enumerate(path.read_text(encoding="utf-8").split("\n"), start=1):
        line = raw.removesuffix("\r")
        if not line or line.startswith("#"):
            continue
        kind, expect, text = line.split("\t", 2)
        out.append(WildFilter(kind, expect, text, lineno))
    return out


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    for argname, kind in (("wild_filter_line", "filter"), ("wild_types_line", "types")):
        if argname not in metafunc.fixturenames:
            continue
        lines = read_wild_filters()
        if lines is None:  # one placeholder case, which the fixture turns into a skip or a failure
            metafunc.parametrize(argname, [None], ids=["wild-filters.tsv-absent"], indirect=True)
            continue
        selected = [line for line in lines if line.kind == kind]
        metafunc.parametrize(argname, selected, ids=[line.id for line in selected], indirect=True)


@pytest.fixture
def wild_filter_line(request: pytest.FixtureRequest) -> WildFilter:
    """One ``filter`` line of ``wild-filters.tsv`` (see :func:`pytest_generate_tests`)."""
    if request.param is None:
        require_shared(WILD_FILTERS_TSV)
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
def wild_types_line(request: pytest.FixtureRequest) -> WildFilter:
    """One ``types`` line of ``wild-filters.tsv`` (see :func:`pytest_generate_tests`)."""
    if request.param is None:
        require_shared(WILD_FILTERS_TSV)
    return request.param  # type: ignore[no-any-return]


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The ``../shared`` folder (skip, or fail under CI, when it is absent)."""
    return require_shared(SHARED_DIR)


@pytest.fixture(scope="session")
def wild_filters() -> list[WildFilter]:
    """Every line of ``wild-filters.tsv``."""
    lines = read_wild_filters(require_shared(WILD_FILTERS_TSV))
    assert lines is not None
    return lines


@pytest.fixture(scope="session")
def gbdx_records() -> Mapping[str, dict[str, Any]]:
    """The 3,670 recorded GBDX records by identifier (shared by the session: do not mutate)."""
    path = require_shared(GBDX_RECORDS)
    records: dict[str, dict[str, Any]] = {}
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                record = json.loads(line)
                records[record["identifier"]] = record
    return MappingProxyType(records)


@pytest.fixture(scope="session")
def gbdx_cases() -> list[dict[str, Any]]:
    """The 24 recorded GBDX calls of ``cases.json`` (shared by the session: do not mutate)."""
    path = require_shared(GBDX_CASES)
    cases: list[dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))
    return cases
