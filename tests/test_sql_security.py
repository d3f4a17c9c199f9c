"""Injection through values and property names never changes the database, and never raises
anything but a QueryError, on SQLite and on PostgreSQL, through every compiler."""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.dialects import postgresql

import catalogql as cq
from catalogql.ast import Comparison, Literal, LiteralKind, Match, Op, Wildcard
from catalogql.compile.sql import Layout, install_functions, to_sql, to_sqlalchemy
from property_settings import scaled

pytest_plugins = ["postgres_fixtures"]

ATTACKS = [
    "'; DROP TABLE canary; --",
    "' OR '1'='1",
    "x'); DELETE FROM records; --",
    '"; DROP TABLE canary; --',
    "1; UPDATE records SET properties = '{}'",
    "/* comment */ OR 1=1",
    "-- comment",
    "\\'; DROP TABLE canary; --",
    "\\",
    "%' OR 'a' LIKE '%",
    "*] OR [*",
    "$$; DROP TABLE canary; $$",
    "\u02bc; DROP TABLE canary; --",  # a modifier letter apostrophe
    "\uff07; DROP TABLE canary; --",  # a fullwidth apostrophe
    "\u2028; DROP TABLE canary",
    "😀'; DROP TABLE canary; --",
    "\x00'; DROP TABLE canary; --",
]

NAMES = [
    "a'; DROP TABLE canary; --",
    'a"; DROP TABLE canary; --',
    "a') OR 1=1 --",
    "a]; DROP TABLE canary",
    "a.b'c",
    "$.a",
    "a b",
    "",
    "a\x00",
    "é",
    "a;",
    "a--",
]

ROWS = [{"x": "WORLDVIEW02", "n": 1}, {"x": "'; DROP TABLE canary; --", "n": 2}]


def leaves(value: str) -> list[Any]:
    """Every leaf kind that puts ``value`` into a query."""
    return [
        Comparison("x", op, Literal(value, LiteralKind.QUOTED)) for op in (Op.EQ, Op.LT, Op.NE)
    ] + [
        Match("x", (value, Wildcard.ANY), False),
        Match("x", (Wildcard.ANY, value), True),
        Comparison("n", Op.GE, Literal(value, LiteralKind.QUOTED)),
    ]


class SQLiteTarget:
    dialect = "sqlite"

    def __init__(self) -> None:
        self.connection = sqlite3.connect(":memory:")
        install_functions(self.connection)
        self.connection.executescript(
            "CREATE TABLE canary (v TEXT); INSERT INTO canary VALUES ('alive');"
            "CREATE TABLE records (id INTEGER PRIMARY KEY, properties TEXT, types TEXT);"
        )
        self.connection.executemany(
            "INSERT INTO records VALUES (?, ?, '[]')",
            [(i, json.dumps(row)) for i, row in enumerate(ROWS)],
        )
        self.connection.commit()

    def run(self, node: Any) -> set[int]:
        sql, params = to_sql(node, "sqlite")
        return {
            i for (i,) in self.connection.execute(f"SELECT id FROM records WHERE {sql}", params)
        }

    def intact(self) -> bool:
        canary = self.connection.execute("SELECT v FROM canary").fetchall()
        rows = self.connection.execute("SELECT properties FROM records ORDER BY id").fetchall()
        return canary == [("alive",)] and [json.loads(r) for (r,) in rows] == ROWS


class PostgresTarget:
    dialect = "postgresql"

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        install_functions(engine)
        self.records = sa.Table(
            "records",
            sa.MetaData(),
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("properties", postgresql.JSONB),
            sa.Column("types", postgresql.JSONB),
        )
        with engine.begin() as connection:
            connection.exec_driver_sql(
                "CREATE TABLE canary (v TEXT); INSERT INTO canary VALUES ('alive')"
            )
            self.records.metadata.create_all(connection)
            connection.execute(
                self.records.insert(),
                [{"id": i, "properties": row, "types": []} for i, row in enumerate(ROWS)],
            )

    def run(self, node: Any) -> set[int]:
        layout = Layout("postgresql", self.records.c.properties, types=self.records.c.types)
        query = sa.select(self.records.c.id).where(to_sqlalchemy(node, layout))
        with self.engine.connect() as connection:
            return set(connection.execute(query).scalars())

    def intact(self) -> bool:
        with self.engine.connect() as connection:
            canary = connection.exec_driver_sql("SELECT v FROM canary").fetchall()
            rows = connection.exec_driver_sql("SELECT properties FROM records ORDER BY id")
            return canary == [("alive",)] and [r for (r,) in rows] == ROWS


@pytest.fixture(scope="module")
def sqlite_target() -> SQLiteTarget:
    return SQLiteTarget()


@pytest.fixture(scope="module")
def postgres_target(postgres_cluster: Any) -> Iterator[PostgresTarget]:
    engine = sa.create_engine(postgres_cluster.create_database("test_sql_security"))
    yield PostgresTarget(engine)
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def target(request: pytest.FixtureRequest) -> SQLiteTarget | PostgresTarget:
    name = "sqlite_target" if request.param == "sqlite" else "postgres_target"
    return request.getfixturevalue(name)  # type: ignore[no-any-return]


@pytest.mark.parametrize("value", ATTACKS)
def test_values_are_data_never_sql(target: SQLiteTarget | PostgresTarget, value: str) -> None:
    for node in leaves(value):
        predicate = cq.compile_predicate(node)
        try:
            got = target.run(node)
        except cq.QueryError as error:  # only NUL, which SQL text cannot hold
            assert "\x00" in value and error.code == "compile.invalid-text", error
            continue
        assert got == {i for i, row in enumerate(ROWS) if predicate(row)}
        assert target.intact()
    if value == ATTACKS[0]:  # the stored attack text is found, as text
        eq = Comparison("x", Op.EQ, Literal(value, LiteralKind.QUOTED))
        assert target.run(eq) == {1}


@pytest.mark.parametrize("name", NAMES)
def test_property_names_are_checked(target: SQLiteTarget | PostgresTarget, name: str) -> None:
    for node in (
        Comparison(name, Op.EQ, Literal("1", LiteralKind.NUMBER)),
        Match(name, ("a", Wildcard.ANY), False),
    ):
        with pytest.raises(cq.QueryError) as caught:
            target.run(node)
        assert caught.value.code == "compile.invalid-property"
    assert target.intact()


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize(
    "compiler",
    [
        cq.compile_predicate,
        cq.to_gbdx,
        cq.to_cql2_text,
        cq.to_cql2_json,
        cq.to_pygeofilter,
        lambda node: to_sql(node, "sqlite"),
        lambda node: to_sql(node, "postgresql"),
    ],
    ids=["predicate", "gbdx", "cql2-text", "cql2-json", "pygeofilter", "sqlite", "postgresql"],
)
def test_every_compiler_gives_a_result_or_a_query_error(compiler: Any, name: str) -> None:
    node = Comparison(name, Op.EQ, Literal("'; DROP TABLE canary; --", LiteralKind.QUOTED))
    with contextlib.suppress(cq.QueryError):
        compiler(node)


_ANY_TEXT = st.text(min_size=0, max_size=12)


@settings(max_examples=scaled(300), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=st.one_of(st.sampled_from(["x", "n", "a.b"]), _ANY_TEXT),
    value=_ANY_TEXT,
    op=st.sampled_from(Op),
)
def test_any_name_and_value_run_on_sqlite_or_raise_a_query_error(
    name: str, value: str, op: Op
) -> None:
    target = SQLiteTarget()
    for node in (
        Comparison(name, op, Literal(value, LiteralKind.QUOTED)),
        Match(name, (value, Wildcard.ANY), op is Op.NE),
    ):
        with contextlib.suppress(cq.QueryError):
            target.run(node)
    assert target.intact()
