"""Pytest fixtures for empty catalogs of every store kind (a plugin module).

Registered by ``pytest_plugins`` in ``conftest.py``. ``new_catalog`` is parametrized over
:data:`STORES`: a test that takes it runs once per store, and gets a factory of empty catalogs
(memory; SQLite in a file; PostgreSQL in a fresh database of the session's throwaway server),
closed (and dropped) after the test.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from catalogql.search import Catalog, open_catalog

STORES = ["memory", "sqlite", "postgresql"]

DURABLE_STORES = ["sqlite", "postgresql"]
"""The stores whose catalogs outlive their process.

Use: ``parametrize("new_catalog", DURABLE_STORES, indirect=True)``.
"""

Factory = Callable[..., Catalog]
"""Makes an empty catalog of the test's store kind; keyword arguments go to open_catalog."""


@pytest.fixture(params=STORES)
def new_catalog(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Factory]:
    """Makes empty catalogs of one store kind, closed (and dropped) after the test."""
    made: list[Catalog] = []
    names: list[str] = []

    def make(**options: Any) -> Catalog:
        if request.param == "memory":
            catalog = open_catalog("memory://", **options)
        elif request.param == "sqlite":
            catalog = open_catalog(f"sqlite:///{tmp_path / f'c{len(made)}.db'}", **options)
        else:
            cluster = request.getfixturevalue("postgres_cluster")
            names.append(f"catalog_{uuid.uuid4().hex[:12]}")
            catalog = open_catalog(cluster.create_database(names[-1]), **options)
        made.append(catalog)
        return catalog

    yield make
    for catalog in made:
        catalog.close()
    if names:
        cluster = request.getfixturevalue("postgres_cluster")
        for name in names:
            cluster.drop_database(name)
