"""Pytest fixtures for a throwaway PostgreSQL server with PostGIS (a plugin module).

Registered by ``pytest_plugins = ["postgres_fixtures"]``. Each pytest process (each xdist worker)
starts its own server the first time a test asks for one, and stops it at the end of the session.

- ``postgres_cluster``: the running :class:`~catalogql.testing.postgres_cluster.ThrowawayPostgres`,
  with PostGIS in ``postgres`` and in ``template1`` (so every database created later has it).
- ``postgres_engine``: a SQLAlchemy engine on its ``postgres`` database.
- ``postgres_db``: a SQLAlchemy engine on a fresh, empty database (PostGIS included) made for one
  test and dropped after it.

When no server can be started (no binaries, no PostGIS, no psycopg), the tests that need one are
skipped with the reason, except when ``CATALOGQL_REQUIRE_POSTGRES=1`` (CI), where they fail.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import NoReturn

import pytest
import sqlalchemy as sa

from catalogql.testing.postgres_cluster import PostgresUnavailable, ThrowawayPostgres

REQUIRE_ENV = "CATALOGQL_REQUIRE_POSTGRES"


def postgres_required() -> bool:
    """Whether a missing PostgreSQL is a failure (``CATALOGQL_REQUIRE_POSTGRES=1``), not a skip."""
    return os.environ.get(REQUIRE_ENV, "").strip().lower() in ("1", "true", "yes")


def postgres_unavailable(reason: str) -> NoReturn:
    """Skip the test for ``reason``, or fail it when PostgreSQL is required."""
    if postgres_required():
        pytest.fail(f"{reason}\n({REQUIRE_ENV}=1, so this is a failure)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[ThrowawayPostgres]:
    """A running throwaway server with PostGIS, for the whole session (do not stop it)."""
    cluster = ThrowawayPostgres()
    try:
        cluster.start()
        cluster.ensure_postgis("template1")
        cluster.ensure_postgis("postgres")
    except PostgresUnavailable as exc:
        reason = str(exc)
    else:
        reason = ""
    if reason:
        cluster.stop()
        postgres_unavailable(reason)
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def postgres_engine(postgres_cluster: ThrowawayPostgres) -> Iterator[sa.Engine]:
    """A SQLAlchemy engine on the session server's ``postgres`` database (shared: clean up)."""
    engine = sa.create_engine(postgres_cluster.url)
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.fixture
def postgres_db(postgres_cluster: ThrowawayPostgres) -> Iterator[sa.Engine]:
    """A SQLAlchemy engine on a fresh database with PostGIS, dropped after the test."""
    name = f"tmp_{uuid.uuid4().hex[:16]}"
    engine = sa.create_engine(postgres_cluster.create_database(name))
    try:
        yield engine
    finally:
        engine.dispose()
        postgres_cluster.drop_database(name)
