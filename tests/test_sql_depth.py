"""Every filter and type expression the parser accepts runs on every store, with one answer.

SQLite refuses SQL past its parser stack (``parser stack overflow``, 100 entries) and GLOB/LIKE
patterns past 50,000 bytes (``LIKE or GLOB pattern too complex``). The compiler keeps its SQL
within both (NOT NOT x compiles as x; past a measured bound the expression is
:class:`~catalogql.Inexpressible` and the stores decide it in Python), so that no input the parser
accepts makes a store fail or answer differently from the memory store (issue 10, items 2, 3).
"""

from __future__ import annotations

import sqlite3
import warnings
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import catalogql as cq
from catalog_fixtures import Factory
from catalogql.ast import And, Comparison, Literal, LiteralKind, Node, Not, Op, Or, TypeName
from catalogql.compile.sql import SQLITE_MAX_PATTERN_BYTES, install_functions, to_sql
from catalogql.search import Catalog, open_catalog
from catalogql.testing import strategies as cs
from property_settings import scaled

NAMES = ["a", "b", "c.d"]

SMALL_LITERALS = st.one_of(
    st.integers(-3, 3).map(lambda i: Literal(str(i), LiteralKind.NUMBER)),
    st.sampled_from(["x", "y", "true", "2015-07-31", "2015-07-31T10:07:17.000Z"]).map(
        lambda t: Literal(t, LiteralKind.BARE)
    ),
    st.sampled_from(["x", "", "1", "it's"]).map(lambda t: Literal(t, LiteralKind.QUOTED)),
    cs.literals(),
)

VALUES: list[Any] = [
    0,
    1,
    -2,
    2.5,
    "x",
    "y",
    "",
    "1",
    "2015-07-31",
    "2015-07-31T12:07:17+02:00",
    True,
    False,
    None,
    [1, "x"],
    [],
    ["y", None],
]


def _records() -> list[dict[str, Any]]:
    """Records holding every kind of value under the test's names (or missing them)."""
    out = []
    for i in range(24):
        props: dict[str, Any] = {"timestamp": f"2016-01-01T00:00:{i:02d}Z"}
        if i % 5:
            props["a"] = VALUES[i % len(VALUES)]
        if i % 3:
            props["b"] = VALUES[(i * 7) % len(VALUES)]
        if i % 4:
            props["c"] = {"d": VALUES[(i * 5) % len(VALUES)]}
        if i % 6 == 1:
            props["c.d"] = VALUES[(i * 3) % len(VALUES)]
        labels = ["Acquisition", "WV02", "WV03_VNIR", "A", "B", "AB", "_", "LIKE"]
        types = [labels[j] for j in range(len(labels)) if (i >> (j % 5)) & 1 or j == i % 8]
        out.append(
            {
                "identifier": f"r{i:02d}",
                "type": ["GBDXCatalogRecord", *types],
                "properties": {
                    **props,
                    "footprintWkt": "POLYGON((0 0, 1 0, 1 1, 0 1, 0 0))",
                },
            }
        )
    return out


def _deep(leaves: st.SearchStrategy[Node], most: int) -> st.SearchStrategy[Node]:
    """Deep shapes: a leaf wrapped in up to ``most`` levels of NOT, AND and OR with a sibling."""
    wrap = st.tuples(st.sampled_from("NAOAO"), leaves)
    levels = st.integers(0, most).flatmap(lambda n: st.lists(wrap, min_size=n, max_size=n))
    return st.builds(_wrapped, leaves, levels)


def _wrapped(leaf: Node, wraps: list[tuple[str, Node]]) -> Node:
    node = leaf
    for kind, other in wraps:
        node = Not(node) if kind == "N" else (And if kind == "A" else Or)((other, node))
    return node


FILTERS = st.one_of(
    cs.filter_nodes(NAMES, values=SMALL_LITERALS, max_leaves=10),
    _deep(cs.filter_nodes(NAMES, values=SMALL_LITERALS, max_leaves=2), 70),
)
TYPES = st.one_of(
    cs.type_nodes(["A", "B", "AB", "WV02", "_", "LIKE"], max_leaves=8),
    _deep(cs.type_nodes(["A", "B", "AB", "WV0", "_"], max_leaves=2), 90),
)


def _ids(catalog: Catalog, body: dict[str, Any]) -> list[str]:
    return [r["identifier"] for r in catalog.search({**body, "limit": 1000})["results"]]


def _parseable(node: Node, parse: Callable[[str], Node]) -> str | None:
    """The node's text if the parser accepts it (depth and size limits), else None."""
    text = cq.to_gbdx(node)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", cq.QueryWarning)
            parse(text)
    except cq.QueryError:
        return None
    return text


def test_every_parseable_filter_and_type_expression_runs_on_every_store(
    new_catalog: Factory,
) -> None:
    memory = open_catalog("memory://")
    store = new_catalog()
    records = _records()
    memory.add_records(records)
    store.add_records(records)

    @settings(max_examples=scaled(60), deadline=None)
    @given(FILTERS, TYPES, st.booleans())
    def check(filter_node: Node, type_node: Node, both: bool) -> None:
        filter_text = _parseable(filter_node, cq.parse_filter)
        type_text = _parseable(type_node, cq.parse_types)
        bodies = [{"filters": [filter_text]}, {"types": [type_text]}]
        if both:
            bodies.append({"filters": [filter_text, "a >= 0"], "types": [type_text, "NOT B"]})
        for body in bodies:
            if None in body.get("filters", ()) or None in body.get("types", ()):
                continue
            assert _ids(store, body) == _ids(memory, body), body

    check()


# -- the measured bound ------------------------------------------------------------------------

LEAVES = ["b=0", "b.c.d=0", "b=*x*", "b!=*x*", "b.c=2015-01-01", "b<true", "b=abc"]
TYPE_LEAVES = ["A", "A*", "*A*"]


def _alternating(leaf: str, levels: int, sibling: str = "b=1") -> str:
    opened = "".join(f"{sibling} {'AND' if i % 2 else 'OR'} (" for i in range(levels))
    return opened + leaf + ")" * levels


def _not_and(leaf: str, levels: int, sibling: str = "b=0") -> str:
    return f"NOT ({sibling} AND " * levels + leaf + ")" * levels


def _runs_or_is_refused(node: Node) -> bool:
    """True if its SQL runs on SQLite inside a store-like statement, False if Inexpressible."""
    try:
        sql, params = to_sql(node)
    except cq.Inexpressible:
        return False
    db = sqlite3.connect(":memory:")
    install_functions(db)
    db.execute("CREATE TABLE records (id INTEGER PRIMARY KEY, properties, types, ts, exotic)")
    db.execute("INSERT INTO records VALUES (1, '{\"b\": [0]}', '[\"A\"]', 'x', 0)")
    statement = (
        "SELECT r.id FROM (SELECT id AS rid FROM records LIMIT 10) AS c CROSS JOIN records AS r "
        f"ON r.id = c.rid WHERE r.ts >= :start AND r.ts <= :end AND (r.exotic OR ({sql})) "
        "ORDER BY r.ts DESC, r.id"
    )
    db.execute(statement, {**params, "start": "a", "end": "z"}).fetchall()
    return True


@pytest.mark.parametrize("leaf", LEAVES)
def test_sqlite_sql_stays_within_the_parser_stack(leaf: str) -> None:
    """Any depth either runs or is Inexpressible, and moderate depths stay in SQL."""
    for shape in (_alternating, _not_and):
        compiled = [
            _runs_or_is_refused(cq.parse_filter(shape(leaf, levels))) for levels in range(0, 40, 3)
        ]
        assert compiled[:4] == [True] * 4, shape  # up to 9 levels: SQL
        assert compiled[-1] is False, shape
    nots = cq.parse_filter("NOT " * 200 + leaf)
    assert _runs_or_is_refused(nots)


@pytest.mark.parametrize("leaf", TYPE_LEAVES)
def test_sqlite_type_sql_stays_within_the_parser_stack(leaf: str) -> None:
    for levels in range(0, 60, 4):
        alternating = _alternating(leaf, levels, sibling="B")
        assert _runs_or_is_refused(cq.parse_types(alternating)) or levels > 12
        nested = _not_and(leaf, levels, sibling="B")
        assert _runs_or_is_refused(cq.parse_types(nested)) or levels > 8
    nots = cq.parse_types("NOT " * 201 + leaf)
    assert _runs_or_is_refused(nots)
    assert to_sql(nots)[0].count("NOT") == 1


def test_the_reported_reproducers_run_on_every_store(new_catalog: Factory) -> None:
    memory = open_catalog("memory://")
    store = new_catalog()
    records = _records()
    memory.add_records(records)
    store.add_records(records)
    not_and = "b=0"
    for _ in range(18):
        not_and = f"NOT (b=0 AND {not_and})"
    bodies: list[dict[str, Any]] = [
        {"filters": [not_and]},
        {"filters": [_alternating("a=1", 28)]},
        {"types": ["NOT " * 41 + "A"]},
        {"types": ["NOT " * 40 + "A"]},
        {"types": [_alternating("A", 40, sibling="B")]},
    ]
    for body in bodies:
        assert _ids(store, body) == _ids(memory, body), body


# -- long patterns (item 3) --------------------------------------------------------------------


def test_patterns_past_sqlites_limit_are_decided_in_python(new_catalog: Factory) -> None:
    memory = open_catalog("memory://")
    store = new_catalog()
    long_label = "A" * 50_001
    records = [
        *_records(),
        {
            "identifier": "long",
            "type": [long_label + "Z"],
            "properties": {
                "timestamp": "2017-01-01T00:00:00Z",
                "x": long_label + "Z",
                "footprintWkt": "POLYGON((0 0, 1 0, 1 1, 0 1, 0 0))",
            },
        },
    ]
    memory.add_records(records)
    store.add_records(records)
    bodies: list[dict[str, Any]] = [
        {"types": [long_label + "*"]},
        {"filters": [f"x LIKE '{'[' * 16_667}%'"]},  # 3 bytes each in GLOB's spelling
        {"filters": [f"x = {long_label}*"]},
        {"filters": [f"x NOT LIKE '{'?' * 20_000}%'"]},
        {"filters": [f"x = {'A' * 40_000}*"]},  # within the limit: SQL
    ]
    for body in bodies:
        assert _ids(store, body) == _ids(memory, body), body
    assert _ids(store, {"types": [long_label + "*"]}) == ["long"]
    assert _ids(store, {"filters": [f"x = {long_label}*"]}) == ["long"]


def test_glob_patterns_are_refused_past_the_limit_by_bytes() -> None:
    fits = cq.parse_types("A" * (SQLITE_MAX_PATTERN_BYTES - 1) + "*")
    assert to_sql(fits)[1]["v1"].endswith("*")
    with pytest.warns(cq.QueryWarning, match="LIKE is a compatibility form"):
        wide = cq.parse_filter(f"x LIKE '{'é' * 25_000}%'")  # 2 bytes each in UTF-8
    for node in (cq.parse_types("A" * SQLITE_MAX_PATTERN_BYTES + "*"), wide):
        with pytest.raises(cq.Inexpressible, match="past SQLite's limit of 50,000") as caught:
            to_sql(node)
        assert caught.value.code == "compile.inexpressible"
    # PostgreSQL's LIKE has no such limit: the pattern stays in SQL there.
    assert to_sql(cq.parse_types("A" * 60_000 + "*"), "postgresql")[1]["v1"].endswith("%")


def test_long_chains_stay_in_sql() -> None:
    leaf: Any = Comparison("a", Op.EQ, Literal("1", LiteralKind.NUMBER))
    chain = And(
        tuple(Not(Comparison("a", Op.EQ, Literal(str(i), LiteralKind.NUMBER))) for i in range(300))
    )
    assert to_sql(chain)[0]
    assert to_sql(Or((leaf, chain)))[0]
    assert to_sql(Not(Or((TypeName("A"), TypeName("B")))))[0].startswith("NOT")


def test_a_lone_surrogate_in_an_indexed_equality_matches_nothing_on_every_store(
    new_catalog: Factory,
) -> None:
    """Found by ``make fuzz``: SQLite's key lookup raised UnicodeEncodeError for such a key."""
    catalog = new_catalog()
    catalog.add_records(
        [
            {
                "identifier": "a",
                "type": ["X"],
                "properties": {"catalogID": "a", "timestamp": "2020-01-01T00:00:00Z",
                               "footprintWkt": "POINT (1 2)"},
            }
        ]
    )  # fmt: skip
    lone = "\udfff"
    for filters in ([f"catalogID = '{lone}'"], [f"catalogID = '{lone}' OR catalogID = a"]):
        found = catalog.search({"filters": filters})["results"]
        assert [r["identifier"] for r in found] == ([] if "OR" not in filters[0] else ["a"])
