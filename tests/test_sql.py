"""The SQL back end means what the predicates mean, on SQLite and on a real PostgreSQL.

The laws: ``test_sql_agrees_with_predicate_*`` (Hypothesis: schema, records and filter drawn
together; JSON and typed-column layouts) and the same over the 3,670 real GBDX records. The
tables spell out the semantics that matter most, one fact per line, on both databases.
"""

from __future__ import annotations

import json
import sqlite3
import sys
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.dialects import postgresql

import catalogql as cq
from catalogql.ast import And, Comparison, Literal, LiteralKind, Match, Not, Op, Or, Wildcard
from catalogql.compile.sql import (
    MAX_SQL_DEPTH,
    Layout,
    TypesTable,
    install_functions,
    to_sql,
    to_sqlalchemy,
    typed_column_value,
)
from catalogql.queryables import property_type
from catalogql.semantics import ValueType, instant_key, text_form
from catalogql.testing import strategies as cs
from property_settings import scaled

pytest_plugins = ["postgres_fixtures"]

EXAMPLES = scaled(300)
"""Examples per differential test; raise it for a long run (the closing note's 5,000)."""

NAMES = ["a", "b", "a.b", "timestamp", "cloudCover", "catalogID"]

# --------------------------------------------------------------------------------------------
# Databases


class SQLiteDB:
    """An in-memory SQLite database with a ``records`` table (JSON properties, optional typed
    columns) and the catalogql functions installed."""

    dialect = "sqlite"

    def __init__(self) -> None:
        self.connection = sqlite3.connect(":memory:")
        install_functions(self.connection)

    def load(
        self,
        rows: Sequence[Mapping[str, Any]],
        typed: Mapping[str, ValueType] | None = None,
        types: Sequence[Sequence[str]] | None = None,
    ) -> sa.Table:
        table = _records_table(sa.JSON(), typed or {})
        self.connection.execute("DROP TABLE IF EXISTS records")
        columns = ", ".join(["id INTEGER PRIMARY KEY", "properties TEXT", "types TEXT"])
        extra = "".join(f", {column.name}" for column in list(table.c)[3:])
        self.connection.execute(f"CREATE TABLE records ({columns}{extra})")
        for i, row in enumerate(rows):
            values = [i, json.dumps(row), json.dumps(list(types[i]) if types else [])]
            values += [_typed_value(row, name, vt) for name, vt in (typed or {}).items()]
            marks = ", ".join("?" * len(values))
            self.connection.execute(f"INSERT INTO records VALUES ({marks})", values)
        return table

    def select(self, table: sa.Table, where: sa.ColumnElement[Any]) -> set[int]:
        query = sa.select(table.c.id).where(where)
        compiled = query.compile(dialect=sa.dialects.sqlite.dialect(paramstyle="named"))
        return {i for (i,) in self.connection.execute(str(compiled), compiled.params)}


class PostgresDB:
    """A database of the throwaway PostgreSQL cluster, same shape as :class:`SQLiteDB`."""

    dialect = "postgresql"

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        install_functions(engine)

    def load(
        self,
        rows: Sequence[Mapping[str, Any]],
        typed: Mapping[str, ValueType] | None = None,
        types: Sequence[Sequence[str]] | None = None,
    ) -> sa.Table:
        table = _records_table(postgresql.JSONB(), typed or {})
        with self.engine.begin() as connection:
            connection.exec_driver_sql("DROP TABLE IF EXISTS records")
            table.metadata.create_all(connection)
            if rows:
                connection.execute(
                    table.insert(),
                    [
                        {
                            "id": i,
                            "properties": row,
                            "types": list(types[i]) if types else [],
                            **{
                                _column(name): _typed_value(row, name, vt)
                                for name, vt in (typed or {}).items()
                            },
                        }
                        for i, row in enumerate(rows)
                    ],
                )
        return table

    def select(self, table: sa.Table, where: sa.ColumnElement[Any]) -> set[int]:
        with self.engine.connect() as connection:
            return {i for (i,) in connection.execute(sa.select(table.c.id).where(where))}


_SQL_TYPES = {
    ValueType.NUMBER: sa.Float(),
    ValueType.TEXT: sa.Text(),
    ValueType.DATETIME: sa.Text(),
    ValueType.BOOLEAN: sa.Boolean(),
}


def _column(name: str) -> str:
    return "c_" + name.replace(".", "_")


def _records_table(json_type: Any, typed: Mapping[str, ValueType]) -> sa.Table:
    return sa.Table(
        "records",
        sa.MetaData(),
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("properties", json_type),
        sa.Column("types", json_type),
        *[sa.Column(_column(name), _SQL_TYPES[vt]) for name, vt in typed.items()],
    )


def _typed_value(row: Mapping[str, Any], name: str, value_type: ValueType) -> Any:
    return typed_column_value(row.get(name), value_type)


@pytest.fixture(scope="module")
def sqlite_db() -> SQLiteDB:
    return SQLiteDB()


@pytest.fixture(scope="module")
def postgres(postgres_cluster: Any) -> Iterator[PostgresDB]:
    # PostgreSQL's JIT spends seconds compiling filters of a few hundred comparisons (20 s for 200)
    url = postgres_cluster.create_database("test_sql")
    engine = sa.create_engine(url, connect_args={"options": "-c jit=off"})
    yield PostgresDB(engine)
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest) -> SQLiteDB | PostgresDB:
    name = "sqlite_db" if request.param == "sqlite" else "postgres"
    return request.getfixturevalue(name)  # type: ignore[no-any-return]


def selected(
    db: SQLiteDB | PostgresDB,
    node: cq.ast.Node,
    rows: Sequence[Mapping[str, Any]],
    schema: Mapping[str, Any] | None = None,
    typed: Mapping[str, ValueType] | None = None,
) -> set[int]:
    table = db.load(rows, typed)
    columns = {name: table.c[_column(name)] for name in typed or {}}
    layout = Layout(db.dialect, table.c.properties, columns, schema)  # type: ignore[arg-type]
    return db.select(table, to_sqlalchemy(node, layout))


def predicate_selects(
    node: cq.ast.Node, rows: Sequence[Mapping[str, Any]], schema: Mapping[str, Any] | None = None
) -> set[int]:
    keep = cq.compile_predicate(node, schema)
    return {i for i, row in enumerate(rows) if keep(row)}


# --------------------------------------------------------------------------------------------
# The semantics, one fact per line, on both databases

ROWS: list[dict[str, Any]] = [
    {"cloudCover": 10, "sensorPlatformName": "WORLDVIEW03_VNIR", "catalogID": "1050010018826700"},
    {"cloudCover": 30.5, "sensorPlatformName": "worldview03_vnir", "catalogID": "104001001"},
    {"cloudCover": None, "sensorPlatformName": ["WORLDVIEW02", "GEOEYE01"], "catalogID": 1050010},
    {"cloudCover": "0", "sensorPlatformName": "WV*", "timestamp": "2015-07-31T10:07:17.000Z"},
    {"timestamp": "2015-07-31T12:07:17.5+02:00", "flag": True, "a.b": 1, "a": {"b": 2}},
    {"timestamp": "2016-01-01", "flag": False, "a": {"b": 3}, "tags": []},
    {"timestamp": "not a date", "tags": ["x", None], "cloudCover": [5, 50]},
]

SEMANTICS = [
    # (filter, the rows it selects)
    ("cloudCover < 20", {0, 3, 6}),  # a number, a numeric text compared as text '0' < '20', a list
    ("NOT cloudCover < 20", {1}),  # missing and null are unknown, NOT unknown too; 5 < 20
    ("cloudCover <> 10", {1, 3, 6}),
    ("sensorPlatformName = WORLDVIEW03*", {0}),  # wildcards are case-sensitive
    ("sensorPlatformName = 'WV\\*'", {3}),  # an escaped star is a star
    ("sensorPlatformName <> WORLDVIEW0*", {1, 2, 3}),  # a list: some element does not match
    ("sensorPlatformName = GEOEYE01", {2}),
    ("catalogID = 1050010018826700", {0}),  # a text id compares as text, exactly
    ("catalogID = 1050010*", {0, 2}),  # a wildcard matches a number's text
    ("catalogID > 105", {0, 2}),  # text against text ('104001001' < '105'), number vs number
    ("timestamp >= 2015-07-31T10:07:17.5Z", {4, 5}),  # instants in UTC, fraction exact
    ("timestamp < 2016-01-01T00:00:00.000001Z", {3, 4, 5}),
    ("timestamp = 2015*", {3, 4}),  # a wildcard matches the text as written
    ("flag = true", {4}),
    ("flag <> TRUE", {5}),
    ("a.b = 1", {4}),  # a dotted name is a key first ...
    ("a.b > 1", {5}),  # ... then a path
    ("tags = x", {6}),
    ("NOT tags = y", {5}),  # an empty list: no element compares, so the comparison is false
    ("cloudCover > 40 OR flag = false", {5, 6}),
]


@pytest.mark.parametrize(("text", "expected"), SEMANTICS, ids=[t for t, _ in SEMANTICS])
def test_semantics_table(db: SQLiteDB | PostgresDB, text: str, expected: set[int]) -> None:
    node = cq.parse_filter(text)
    assert predicate_selects(node, ROWS) == expected
    assert selected(db, node, ROWS) == expected


SCHEMA = {
    "properties": {
        "cloudCover": {"type": "number"},
        "catalogID": {"type": "string"},
        "timestamp": {"type": "string", "format": "date-time"},
        "flag": {"type": "boolean"},
    }
}
TYPED = {
    "cloudCover": ValueType.NUMBER,
    "catalogID": ValueType.TEXT,
    "timestamp": ValueType.DATETIME,
    "flag": ValueType.BOOLEAN,
}
TYPED_ROWS = [{k: v for k, v in row.items() if not isinstance(v, list)} for row in ROWS]

SCHEMA_SEMANTICS = [
    ("cloudCover < 20", {0}),  # declared a number: the text '0' is of another type, unknown
    ("catalogID = 1050010*", {0}),  # declared text: the number 1050010 is unknown
    ("timestamp > 2015-07-31T10:07:17Z", {4, 5}),
    ("flag <> false", {4}),
    ("NOT cloudCover = abc", set()),  # a literal the declared type cannot meet: unknown
]


@pytest.mark.parametrize("layout", ["json", "typed"])
@pytest.mark.parametrize(
    ("text", "expected"), SCHEMA_SEMANTICS, ids=[t for t, _ in SCHEMA_SEMANTICS]
)
def test_schema_semantics_table(
    db: SQLiteDB | PostgresDB, layout: str, text: str, expected: set[int]
) -> None:
    node = cq.parse_filter(text)
    assert predicate_selects(node, TYPED_ROWS, SCHEMA) == expected
    typed = TYPED if layout == "typed" else None
    assert selected(db, node, TYPED_ROWS, SCHEMA, typed) == expected


TYPE_ROWS = [
    ["GBDXCatalogRecord", "Acquisition", "WV02"],
    ["GBDXCatalogRecord", "WV03_VNIR", "IDAHOImage"],
    ["GBDXCatalogRecord", "1BProduct", "wv02"],
]
TYPE_EXPRESSIONS = [
    ("WV02", {0}),
    ("WV0*", {0, 1}),
    ("*Product OR IDAHOImage", {1, 2}),
    ("NOT WV02 AND GBDXCatalogRecord", {1, 2}),
    ("(WV02 OR WV03*) AND NOT IDAHOImage", {0}),
]


@pytest.mark.parametrize(
    ("text", "expected"), TYPE_EXPRESSIONS, ids=[t for t, _ in TYPE_EXPRESSIONS]
)
def test_type_expressions(db: SQLiteDB | PostgresDB, text: str, expected: set[int]) -> None:
    texpr = cq.parse_types(text)
    holds = cq.compile_types(texpr)
    assert {i for i, types in enumerate(TYPE_ROWS) if holds(types)} == expected
    table = db.load([{}] * len(TYPE_ROWS), types=TYPE_ROWS)
    layout = Layout(db.dialect, table.c.properties, types=table.c.types)  # type: ignore[arg-type]
    assert db.select(table, to_sqlalchemy(texpr, layout)) == expected


def test_type_expressions_over_a_types_table(sqlite_db: SQLiteDB) -> None:
    sqlite_db.connection.executescript(
        "DROP TABLE IF EXISTS record_types; CREATE TABLE record_types (record INTEGER, label TEXT);"
    )
    sqlite_db.connection.executemany(
        "INSERT INTO record_types VALUES (?, ?)",
        [(i, label) for i, types in enumerate(TYPE_ROWS) for label in types],
    )
    table = sqlite_db.load([{}] * len(TYPE_ROWS))
    labels = sa.table("record_types", sa.column("record"), sa.column("label"))
    layout = Layout(
        "sqlite",
        table.c.properties,
        types_table=TypesTable(labels.c.label, labels.c.record, table.c.id),
    )
    for text, expected in TYPE_EXPRESSIONS:
        assert sqlite_db.select(table, to_sqlalchemy(cq.parse_types(text), layout)) == expected


# --------------------------------------------------------------------------------------------
# The law, over generated schemas, records and filters

_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**53), 2**53),  # I-JSON's exact integers (RFC 7493)
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from((0, 20, 26.5, 0.1, 1e16, 1.5e-05, 1e-07, 1.2345678901234567e19)),
    # SQL text holds no NUL: PostgreSQL refuses it, SQLite's JSON and string functions stop at it
    st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=6),
    st.sampled_from(
        (
            "",
            "WORLDVIEW02",
            "1050010018826700",
            "2015-07-31T10:07:17.000Z",
            "2015-07-31T12:07:17.5+02:00",
            "0999-12-31T23:00-02:00",
            "2015-02-30",
            "true",
            "*",
            "20",
            "a*b",
            "[x]",
            "a%b_c\\d",
        )
    ),
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.just("b"), inner, max_size=1)
    ),
    max_leaves=5,
)
_ROWS = st.lists(st.dictionaries(st.sampled_from(NAMES), _VALUES, max_size=4), max_size=8)


def _postgres_can_hold(value: Any) -> bool:
    """JSONB keeps no sign on zero."""
    if isinstance(value, float):
        return not (value == 0 and str(value).startswith("-"))
    if isinstance(value, list):
        return all(_postgres_can_hold(v) for v in value)
    if isinstance(value, dict):
        return all(_postgres_can_hold(v) for v in value.values())
    return True


def _typed_columns(
    schema: Mapping[str, Any], rows: Sequence[Mapping[str, Any]]
) -> dict[str, ValueType]:
    """Typed columns for the declared scalar properties whose values are never lists."""
    out = {}
    for name in NAMES:
        declared = property_type(schema, name)
        if declared is None or declared.value_type is None or declared.is_list or "." in name:
            continue
        if not any(isinstance(row.get(name), list) for row in rows):
            out[name] = declared.value_type
    return out


_DIFFERENTIAL = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


def _sql_can_hold(node: Any) -> bool:
    try:
        to_sql(node)
    except cq.Inexpressible:
        return False
    return True


_NODES = cs.filter_nodes(
    NAMES, values=cs.literals().filter(lambda literal: "\x00" not in literal.text), max_leaves=5
).filter(_sql_can_hold)
"""Filters SQL can hold (no NUL, no integer past 64 bits: :func:`test_nul_is_refused`,
:func:`test_an_integer_past_64_bits_is_inexpressible`); the stores decide the others in Python."""


@_DIFFERENTIAL
@given(
    rows=_ROWS,
    node=_NODES,
    schema=st.none() | cs.queryables(NAMES),
    typed=st.booleans(),
)
def test_sql_agrees_with_predicate_on_sqlite(
    rows: list[dict[str, Any]], node: Any, schema: dict[str, Any] | None, typed: bool
) -> None:
    db = SQLiteDB()
    columns = _typed_columns(schema, rows) if schema and typed else None
    assert selected(db, node, rows, schema, columns) == predicate_selects(node, rows, schema)


def test_sql_agrees_with_predicate_on_postgresql(postgres: PostgresDB) -> None:
    @_DIFFERENTIAL
    @given(
        rows=_ROWS.filter(_postgres_can_hold),
        node=_NODES,
        schema=st.none() | cs.queryables(NAMES),
        typed=st.booleans(),
    )
    def agree(
        rows: list[dict[str, Any]], node: Any, schema: dict[str, Any] | None, typed: bool
    ) -> None:
        columns = _typed_columns(schema, rows) if schema and typed else None
        got = selected(postgres, node, rows, schema, columns)
        assert got == predicate_selects(node, rows, schema)

    agree()


# --------------------------------------------------------------------------------------------
# The SQL functions against their Python twins


_INSTANT_TEXTS = st.one_of(
    st.from_regex(
        r"\A[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}([.,][0-9]{1,12})?)?"
        r"(Z|z|[+-][0-9]{2}(:?[0-9]{2})?)?)?\Z"
    ),
    st.datetimes().map(lambda moment: moment.isoformat()),
    st.text(max_size=12),
)


@settings(max_examples=EXAMPLES, deadline=None)
@given(texts=st.lists(_INSTANT_TEXTS, min_size=1, max_size=20))
def test_sqlite_instant_function_is_instant_key(texts: list[str]) -> None:
    connection = sqlite3.connect(":memory:")
    install_functions(connection)
    for text in texts:
        (key,) = connection.execute("SELECT catalogql_instant(?)", (text,)).fetchone()
        assert key == instant_key(text)


def test_postgresql_functions_are_their_python_twins(postgres: PostgresDB) -> None:
    @settings(max_examples=EXAMPLES, deadline=None)
    @given(
        texts=st.lists(_INSTANT_TEXTS.filter(lambda t: "\x00" not in t), min_size=1, max_size=20),
        numbers=st.lists(
            st.integers(-(2**53), 2**53) | st.floats(allow_nan=False, allow_infinity=False),
            min_size=1,
            max_size=20,
        ),
    )
    def agree(texts: list[str], numbers: list[float]) -> None:
        with postgres.engine.connect() as connection:
            keys = connection.execute(
                sa.text("SELECT catalogql_instant(t) FROM unnest(CAST(:texts AS text[])) AS t"),
                {"texts": texts},
            ).scalars()
            assert list(keys) == [instant_key(text) for text in texts]
            numbers = [n for n in numbers if not (n == 0 and str(n).startswith("-"))]
            written = connection.execute(
                sa.text(
                    "SELECT catalogql_number_text(j) "
                    "FROM jsonb_array_elements(CAST(:numbers AS jsonb)) AS j"
                ),
                {"numbers": json.dumps(numbers)},
            ).scalars()
            assert list(written) == [text_form(n) for n in numbers]

    agree()


# --------------------------------------------------------------------------------------------
# The real records


REAL_FILTERS = [
    "sensorPlatformName = WORLDVIEW03_VNIR AND cloudCover < 20",
    "sensorPlatformName = WORLDVIEW0* AND offNadirAngle < 10",
    "cloudCover < 10 OR offNadirAngle > 30",
    "NOT cloudCover < 50",
    "catalogID = 1050010*",
    "catalogID = 103001004BA0B600",
    "timestamp >= 2016-01-01 AND timestamp < 2016-07-01T00:00:00.000Z",
    "acquisitionDate > 2015-06-01T00:00:00Z",
    "sunElevation > 40 AND NOT sensorPlatformName = LANDSAT08",
    "vendorName = DigitalGlobe AND (cloudCover < 5 OR offNadirAngle < 5)",
    "productLevel = LV1B",
    "imageBands = Pan_MS1* OR imageBands = '*SWIR*'",
    "platformName = WORLDVIEW02",
    "targetAzimuth >= 100.5 AND targetAzimuth <= 200",
    "sensorPlatformName <> WORLDVIEW02",
    "browseURL = 'https://*'",
    "cloudCover = 0",
    "scanDirection = Forward",
]


@pytest.mark.parametrize("with_schema", [False, True], ids=["value-typed", "schema"])
def test_sql_agrees_with_predicate_on_real_records(
    db: SQLiteDB | PostgresDB, gbdx_records: Mapping[str, Mapping[str, Any]], with_schema: bool
) -> None:
    rows = [record["properties"] for record in gbdx_records.values()]
    schema = cq.infer_queryables(gbdx_records.values()) if with_schema else None
    table = db.load(rows)
    layout = Layout(db.dialect, table.c.properties, schema=schema)  # type: ignore[arg-type]
    counts = []
    for text in REAL_FILTERS:
        node = cq.parse_filter(text)
        want = predicate_selects(node, rows, schema)
        assert db.select(table, to_sqlalchemy(node, layout)) == want, text
        counts.append(len(want))
    assert sum(1 for count in counts if count) >= len(REAL_FILTERS) - 3  # the corpus selects


# --------------------------------------------------------------------------------------------
# Shapes, sizes and errors


def test_every_literal_is_a_bound_parameter() -> None:
    node = cq.parse_filter("catalogID = 'x'' OR 1=1 --' AND cloudCover < 20")
    for dialect in ("sqlite", "postgresql"):
        sql, params = to_sql(node, dialect)  # type: ignore[arg-type]
        assert "1=1" not in sql and "20" not in sql
        assert "x' OR 1=1 --" in params.values() and 20 in params.values()


def test_parameters_are_named_for_each_driver() -> None:
    node = cq.parse_filter("cloudCover < 20")
    assert ":v1" in to_sql(node, "sqlite")[0]
    assert "%(v1)s" in to_sql(node, "postgresql")[0]


def test_wildcards_compile_case_sensitively() -> None:
    node = cq.parse_filter("sensorPlatformName = 'WV_3%*'")
    sqlite_sql, sqlite_params = to_sql(node, "sqlite")
    assert " GLOB " in sqlite_sql and " LIKE " not in sqlite_sql
    assert sqlite_params == {"v1": "WV_3%*"}
    pg_sql, pg_params = to_sql(node, "postgresql")
    assert "ESCAPE '\\'" in pg_sql
    assert pg_params == {"v1": "WV\\_3\\%%"}


def test_glob_metacharacters_in_values_are_literal(sqlite_db: SQLiteDB) -> None:
    rows = [{"x": "a[b]c"}, {"x": "a?c"}, {"x": "abc"}, {"x": "a*c"}]
    for text, expected in [("x = 'a[b]*'", {0}), ("x = 'a?c'", {1}), ("x = 'a\\*c'", {3})]:
        assert selected(sqlite_db, cq.parse_filter(text), rows) == expected


def test_text_orders_by_code_point(db: SQLiteDB | PostgresDB) -> None:
    rows = [{"x": "B"}, {"x": "a"}, {"x": "é"}, {"x": "😀"}, {"x": "Z"}]
    assert selected(db, cq.parse_filter("x > Z"), rows) == {1, 2, 3}
    assert selected(db, cq.parse_filter("x < a"), rows) == {0, 4}


def test_long_chains_run(db: SQLiteDB | PostgresDB) -> None:
    # Past SQLite's expression depth limit (1,000): the chain is parenthesised in groups. Both
    # work at 10,000 terms, in about 20 s (SQLAlchemy builds and compiles ~1 ms per comparison,
    # and PostgreSQL plans one subplan per comparison), so the suite runs shorter chains.
    terms = 3_000 if db.dialect == "sqlite" else 1_000
    leaves = [
        Comparison("cloudCover", Op.NE, Literal(str(i), LiteralKind.NUMBER)) for i in range(terms)
    ]
    rows = [{"cloudCover": 5}, {"cloudCover": terms + 1}, {}]
    assert selected(db, And(tuple(leaves)), rows) == {1}
    assert selected(db, Or(tuple(leaves)), rows) == {0, 1}


def test_deep_trees_are_refused_with_a_limit_error() -> None:
    def alternating(levels: int) -> Any:
        node: Any = Comparison("a", Op.EQ, Literal("1", LiteralKind.NUMBER))
        for i in range(levels):
            node = (And if i % 2 else Or)(
                (node, Comparison("b", Op.LT, Literal("2", LiteralKind.NUMBER)))
            )
        return node

    for dialect in ("sqlite", "postgresql"):
        with pytest.raises(cq.QueryLimitError) as caught:
            to_sql(alternating(MAX_SQL_DEPTH + 1), dialect)  # type: ignore[arg-type]
        assert caught.value.limit == "depth"
    assert to_sql(alternating(MAX_SQL_DEPTH - 2), "postgresql")[0]
    # SQLite's parser stack (100 entries) is the tighter bound there: Inexpressible, not an error
    # of the input, so the stores decide such a filter in Python.
    with pytest.raises(cq.Inexpressible) as refused:
        to_sql(alternating(MAX_SQL_DEPTH - 2), "sqlite")
    assert "parser stack" in str(refused.value)


def test_a_deep_caller_stack_still_compiles_a_tree_within_the_depth_limit() -> None:
    """SQLAlchemy's compiler recurses: from a deep caller stack (seen in CI after other tests)
    to_sql makes room once, and never raises RecursionError."""
    node: Any = Comparison("a", Op.EQ, Literal("1", LiteralKind.NUMBER))
    for i in range(MAX_SQL_DEPTH - 2):
        node = (And if i % 2 else Or)(
            (node, Comparison("b", Op.LT, Literal("2", LiteralKind.NUMBER)))
        )
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(300)
    try:
        assert to_sql(node, "postgresql", parameter_prefix="stack")[0]  # a new cache key
    finally:
        sys.setrecursionlimit(old)


def test_not_not_x_compiles_as_x() -> None:
    """Kleene: NOT NOT x is x, so a NOT chain of any length is one NOT at most in the SQL."""
    leaf: Any = Comparison("a", Op.EQ, Literal("1", LiteralKind.NUMBER))
    for dialect in ("sqlite", "postgresql"):
        even, odd = leaf, Not(leaf)
        for _ in range(MAX_SQL_DEPTH):
            even, odd = Not(Not(even)), Not(Not(odd))
        assert to_sql(even, dialect) == to_sql(leaf, dialect)  # type: ignore[arg-type]
        assert to_sql(odd, dialect) == to_sql(Not(leaf), dialect)  # type: ignore[arg-type]


def test_nul_is_refused() -> None:
    for dialect in ("sqlite", "postgresql"):
        for node in (
            Comparison("a", Op.EQ, Literal("a\x00b", LiteralKind.QUOTED)),
            Match("a", ("\x00", Wildcard.ANY), True),
        ):
            with pytest.raises(cq.QueryError, match="NUL"):
                to_sql(node, dialect)  # type: ignore[arg-type]


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
@pytest.mark.parametrize(
    ("text", "holds"),
    [
        ("x = 9223372036854775807", True),
        ("x = -9223372036854775808", True),
        ("x = 9223372036854775808", False),  # a double would round it to 2**63
        ("x < -9223372036854775809", False),
        ("x = 1" + "0" * 400, False),  # float() of it overflows
        ("x = 1" + "0" * 5000, False),  # past int()'s 4,300 digits: still an exact integer
        ("x = 1e400", True),  # a decimal literal is a double anyway
    ],
)
def test_an_integer_past_64_bits_is_inexpressible(text: str, holds: bool, dialect: str) -> None:
    node = cq.parse_filter(text)
    if holds:
        to_sql(node, dialect)  # type: ignore[arg-type]
        return
    with pytest.raises(cq.Inexpressible, match="past the 64-bit integers") as caught:
        to_sql(node, dialect)  # type: ignore[arg-type]
    assert caught.value.code == "compile.inexpressible"
    assert caught.value.status == 422


@pytest.mark.parametrize(
    ("node", "dialect", "code"),
    [
        (
            Comparison("a'; DROP TABLE records; --", Op.EQ, Literal("1", LiteralKind.NUMBER)),
            "sqlite",
            "compile.invalid-property",
        ),
        (
            Match('x") OR 1=1 --', ("a", Wildcard.ANY), False),
            "postgresql",
            "compile.invalid-property",
        ),
        (
            Comparison("a", Op.EQ, Literal("a\x00", LiteralKind.QUOTED)),
            "sqlite",
            "compile.invalid-text",
        ),
        (
            Comparison("a", Op.EQ, Literal("\ud800", LiteralKind.QUOTED)),
            "sqlite",
            "compile.invalid-text",
        ),
        (cq.parse_types("WV02"), "mysql", "compile.dialect"),
        (Comparison("a", Op.EQ, 5), "sqlite", "compile.not-a-node"),  # type: ignore[arg-type]
    ],
)
def test_what_cannot_be_compiled_is_a_query_error(node: Any, dialect: Any, code: str) -> None:
    with pytest.raises(cq.QueryError) as caught:
        to_sql(node, dialect)
    assert caught.value.code == code
    assert caught.value.hint


def test_a_typed_column_needs_a_declared_scalar_type() -> None:
    table = sa.table("records", sa.column("properties"), sa.column("cc"))
    with pytest.raises(cq.QueryError, match="scalar type"):
        Layout("sqlite", table.c.properties, {"cloudCover": table.c.cc})
    with pytest.raises(cq.QueryError, match="types column"):
        to_sqlalchemy(cq.parse_types("WV02"), Layout("sqlite", table.c.properties))


def test_install_functions_refuses_other_targets() -> None:
    with pytest.raises(cq.QueryError, match="cannot install"):
        install_functions("sqlite:///x.db")


def test_install_functions_on_a_sqlite_engine(tmp_path: Any) -> None:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'x.db'}")
    install_functions(engine)
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT catalogql_instant('2016-01-01')").scalar() == (
            "2016-01-01T00:00:00"
        )
    engine.dispose()
