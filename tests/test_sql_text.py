"""``to_sql``'s fast text equals the SQL of ``to_sqlalchemy``'s expression, byte for byte.

:func:`~catalogql.compile.sql.to_sql` compiles each leaf's shape once and reuses its text (the
parameters renamed, the anonymous labels renumbered), while SQLAlchemy composes the AND, OR and
NOT around the leaves. ``_to_sql_reference`` compiles :func:`~catalogql.to_sqlalchemy`'s whole
expression, as ``to_sql`` did before: the two must give the same text, the same parameters in the
same order, and the same errors, for every filter and type expression, on both dialects.
"""

from __future__ import annotations

import warnings
from dataclasses import replace
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.dialects import postgresql as pg

import catalogql as cq
from catalogql.ast import And, Comparison, Literal, LiteralKind, Match, Node, Not, Op, Or, Wildcard
from catalogql.compile import sql as sql_module
from catalogql.compile.sql import Layout, SQLDialect
from catalogql.testing import strategies as cs
from property_settings import scaled

SCHEMA = {
    "properties": {
        "cloudCover": {"type": "number"},
        "name": {"type": "string"},
        "timestamp": {"type": "string", "format": "date-time"},
        "flag": {"type": "boolean"},
        "bands": {"type": "array", "items": {"type": "string"}},
    }
}
NAMES = ["cloudCover", "name", "timestamp", "flag", "bands", "a.b", "anon_1", "cqtemplate1"]
"""Property names: the schema's, a dotted one, and two that look like what the fast path
renames (an anonymous label, a template parameter): they must be left alone."""


def _outcome(compile_: Any) -> tuple[str, Any]:
    try:
        sql, params = compile_()
    except cq.CatalogqlError as error:
        return "error", (type(error).__name__, getattr(error, "code", None), str(error))
    return "sql", (sql, list(params.items()))


def _assert_same(node: Node, dialect: SQLDialect, schema: Any, prefix: str) -> None:
    sql_module._to_sql_cached.cache_clear()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fast = _outcome(lambda: cq.to_sql(node, dialect, schema, parameter_prefix=prefix))
        slow = _outcome(lambda: sql_module._to_sql_reference(node, dialect, schema, prefix))
    assert fast == slow, (dialect, schema is not None, prefix)


@settings(max_examples=scaled(150), deadline=None)
@given(
    cs.filter_nodes(NAMES, max_leaves=12),
    st.sampled_from(["sqlite", "postgresql"]),
    st.sampled_from([None, SCHEMA]),
    st.sampled_from(["v", "f2_"]),
)
def test_filters_compile_to_the_same_text_as_the_whole_expression(
    node: Node, dialect: SQLDialect, schema: Any, prefix: str
) -> None:
    _assert_same(node, dialect, schema, prefix)


@settings(max_examples=scaled(100), deadline=None)
@given(cs.type_nodes(max_leaves=10), st.sampled_from(["sqlite", "postgresql"]))
def test_type_expressions_compile_to_the_same_text(node: Node, dialect: SQLDialect) -> None:
    _assert_same(node, dialect, None, "v")


def _leaf(i: int) -> Node:
    kinds: list[Node] = [
        Comparison("cloudCover", Op.LT, Literal(str(i % 5), LiteralKind.NUMBER)),
        Not(Comparison("name", Op.EQ, Literal("x", LiteralKind.BARE))),
        Match("a.b", ("x", Wildcard.ANY), negated=bool(i % 2)),
        Comparison("flag", Op.NE, Literal("true", LiteralKind.BARE)),
        Not(Not(Comparison("timestamp", Op.GE, Literal("2016-01-01", LiteralKind.BARE)))),
    ]
    return kinds[i % len(kinds)]


@pytest.mark.parametrize("size", [2, 32, 33, 34, 65, 1025])
@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_long_chains_and_their_chunks_compile_to_the_same_text(
    size: int, dialect: SQLDialect
) -> None:
    # Chains past 32 items are parenthesised in chunks; 33 and 65 leave a chunk of one item.
    leaves = tuple(_leaf(i) for i in range(size))
    # The same leaf objects twice (a shared subtree) write the same anonymous labels twice.
    forms = (Or(leaves), And(leaves), Not(And(leaves)), And((Or(leaves), Not(Or(leaves)))))
    for node in forms if size < 100 else forms[2:3]:  # the slow reference: 2 ms a comparison
        for schema in (None, SCHEMA):
            _assert_same(node, dialect, schema, "v")


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_errors_are_the_same(dialect: SQLDialect) -> None:
    bad = [
        Or((Comparison("a", Op.EQ, Literal("1", LiteralKind.NUMBER)), _leaf(1), _leaf(2))),
        Or((_leaf(0), Comparison("a", Op.EQ, Literal("1" + "0" * 30, LiteralKind.NUMBER)))),
        And((_leaf(3), Comparison("a", Op.EQ, Literal("x\x00", LiteralKind.QUOTED)))),
        And((_leaf(3), Comparison("a-b", Op.EQ, Literal("x", LiteralKind.QUOTED)))),
        Or((_leaf(4), Match("a", ("[" * 20_000, Wildcard.ANY)))),
    ]
    for node in bad:
        _assert_same(node, dialect, None, "v")


# The PostgreSQL store's layout: a JSONB ``properties`` and ``types`` of a real table, the
# expressions placed in a statement beside others (as the store's page and its count).
_STORE = sa.Table(
    "records",
    sa.MetaData(),
    sa.Column("identifier", sa.Text, primary_key=True),
    sa.Column("types", pg.JSONB, nullable=False),
    sa.Column("properties", pg.JSONB),
    sa.Column("exotic", sa.Boolean, nullable=False),
)


def _statement(compile_: Any, nodes: list[Node], schema: Any) -> tuple[str, Any]:
    c = _STORE.c
    layout = Layout("postgresql", c.properties, schema=schema, types=c.types)
    try:
        where = [
            compile_(node, replace(layout, parameter_prefix=f"f{number}_v"))
            for number, node in enumerate(nodes)
        ]
    except cq.CatalogqlError as error:
        return "error", (type(error).__name__, getattr(error, "code", None), str(error))
    where += [c.identifier > sa.bindparam("after_id", "x"), sa.not_(c.exotic)]
    total = sa.select(sa.func.count()).select_from(_STORE).where(*where).scalar_subquery()
    page = sa.select(c.identifier, total.label("total")).where(*where).limit(10)
    compiled = page.compile(dialect=sql_module._DIALECTS["postgresql"])
    return "sql", (str(compiled), list(compiled.params.items()))


def _assert_store_same(nodes: list[Node], schema: Any) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fast = _statement(sql_module.to_sqlalchemy_shaped, nodes, schema)
        slow = _statement(sql_module.to_sqlalchemy, nodes, schema)
    assert fast == slow


@settings(max_examples=scaled(100), deadline=None)
@given(
    st.lists(cs.filter_nodes(NAMES, max_leaves=10), min_size=1, max_size=2),
    cs.type_nodes(max_leaves=6),
    st.sampled_from([None, SCHEMA]),
)
def test_the_store_layout_compiles_to_the_same_statement(
    filters: list[Node], types: Node, schema: Any
) -> None:
    _assert_store_same([*filters, types], schema)


def test_the_store_layout_long_chains_and_errors() -> None:
    leaves = tuple(_leaf(i) for i in range(70))
    for schema in (None, SCHEMA):
        _assert_store_same([Or(leaves), Not(And((Or(leaves), Not(Or(leaves)))))], schema)
    bad = Or((_leaf(0), Comparison("a", Op.EQ, Literal("1" + "0" * 30, LiteralKind.NUMBER))))
    _assert_store_same([bad], None)
    assert _statement(sql_module.to_sqlalchemy_shaped, [bad], None)[0] == "error"


def test_a_leaf_is_compiled_once_whatever_subquery_holds_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A shape's text is kept for any subquery it is compiled in (a new one per statement, as
    the PostgreSQL store's page): the second statement compiles no leaf again, and every
    statement's text is the one SQLAlchemy writes for the plain expression."""
    made: list[int] = []
    template = sql_module._Shape.template

    def counted(self: Any, kw: dict[str, Any]) -> Any:
        before = len(self.pieces)
        texts = template(self, kw)
        made.append(len(self.pieces) - before)
        return texts

    monkeypatch.setattr(sql_module._Shape, "template", counted)
    node = cq.parse_filter("cloudCover < 20 OR sensorPlatformName = WORLDVIEW03* AND x = 'a'")
    c = _STORE.c
    layout = Layout("postgresql", c.properties, types=c.types)

    def statement(compile_: Any) -> str:
        page = sa.select(c.identifier).where(compile_(node, layout)).limit(5).subquery("page")
        query = sa.select(page.c.identifier).order_by(page.c.identifier)
        return str(query.compile(dialect=sql_module._DIALECTS["postgresql"]))

    want = statement(sql_module.to_sqlalchemy)
    for round_ in range(3):
        made.clear()
        assert statement(sql_module.to_sqlalchemy_shaped) == want
        assert len(made) == 3  # the three leaves, each from its shape
        if round_:
            assert made == [0, 0, 0]
