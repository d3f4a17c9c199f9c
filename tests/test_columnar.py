"""The columnar back end: a table gives its rows back exactly, and a filter evaluated a column at a
time selects exactly what ``compile_predicate`` selects on those rows.

The law is checked on Hypothesis filters and rows (any JSON values, several types per property,
dotted names, names like dates, values near the literals), with and without a queryables schema,
on GBDX-shaped records, and on the 3,670 real GBDX records of ``../shared``.
"""

from __future__ import annotations

import contextlib
import math
import sys
import threading
from collections.abc import Iterator, Mapping
from typing import Any
from unittest import mock

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import catalogql as cq
from catalogql.ast import (
    And,
    Comparison,
    Literal,
    LiteralKind,
    Match,
    Node,
    Not,
    Op,
    TypeName,
    Wildcard,
    iter_nodes,
)
from catalogql.compile import columnar
from catalogql.compile.columnar import PropertyColumns, compile_columnar
from catalogql.semantics import instant_key, literal_number
from catalogql.testing.strategies import (
    GBDX_PROPERTIES,
    filter_nodes,
    json_values,
    properties_dicts,
    property_names,
    records,
)
from property_settings import scaled
from test_predicate_codegen import REAL_FILTERS

pytestmark = pytest.mark.filterwarnings("ignore::catalogql.QueryWarning")

EXAMPLES = settings(
    max_examples=scaled(300), deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
TABLES = settings(  # the arbitrary-JSON tables draw slowly: fewer examples
    max_examples=scaled(100), deadline=None, suppress_health_check=[HealthCheck.too_slow]
)

NAMES = (
    "a",
    "b",
    "a.b",
    "_acquisition.productLevel",
    "_acquisition",
    "timestamp",
    "acquisitionDate",
    "end_datetime",
    "cloudCover",
    "sensorPlatformName",
    "catalogID",
    "tags",
)
SHARED = st.sampled_from(NAMES)


def table_of(rows: list[dict[str, Any]], batches: int = 1) -> PropertyColumns:
    """A table of ``rows``, appended in about ``batches`` batches."""
    table = PropertyColumns()
    step = max(1, -(-len(rows) // batches))
    for start in range(0, len(rows), step):
        assert table.append(rows[start : start + step]) == range(
            start, start + len(rows[start : start + step])
        )
    return table


def schemas(rows: list[dict[str, Any]]) -> list[Mapping[str, Any] | None]:
    return [None, cq.infer_queryables([{"properties": row} for row in rows])]


def assert_selects_the_same(
    node: Node, rows: list[dict[str, Any]], schema: Mapping[str, Any] | None, batches: int = 1
) -> None:
    keep = cq.compile_predicate(node, schema)
    want = [keep(row) for row in rows]
    table = table_of(rows, batches)
    got = compile_columnar(node, schema)(table)
    assert got.dtype == np.bool_ and len(got) == len(rows)
    assert got.tolist() == want, (
        cq.to_gbdx(node),
        [r for r, w, g in zip(rows, want, got, strict=True) if w != g],
    )
    # the same on a few rows, in another order (the ``rows`` argument)
    some = np.arange(len(rows), dtype=np.int64)[::-2]
    picked = compile_columnar(node, schema)(table, some)
    assert picked.tolist() == [want[i] for i in some.tolist()]


def same_json(a: Any, b: Any) -> bool:
    """Equal, with the same JSON types all the way down (``1`` is not ``1.0``; ``-0.0`` keeps its
    sign; nan equals nan)."""
    stack = [(a, b)]
    while stack:
        x, y = stack.pop()
        if type(x) is not type(y):
            return False
        if isinstance(x, dict):
            if list(x) != list(y):
                return False
            stack.extend((x[k], y[k]) for k in x)
        elif isinstance(x, list):
            if len(x) != len(y):
                return False
            stack.extend(zip(x, y, strict=True))
        elif isinstance(x, float):
            if not (x == y and math.copysign(1, x) == math.copysign(1, y)) and not (
                math.isnan(x) and math.isnan(y)
            ):
                return False
        elif x != y:
            return False
    return True


# --------------------------------------------------------------------------------------------
# The table gives back what it was given


@TABLES
@given(
    st.lists(properties_dicts(SHARED | property_names(), allow_nan=True), max_size=8),
    st.integers(1, 3),
)
def test_rows_round_trip_exactly(rows: list[dict[str, Any]], batches: int) -> None:
    table = table_of(rows, batches)
    assert len(table) == len(rows)
    for i, row in enumerate(rows):
        assert same_json(table.row(i), row), (table.row(i), row)
    assert all(
        same_json(got, want) for got, want in zip(table.rows(range(len(rows))), rows, strict=True)
    )
    # many rows at once (a column at a time, grouped by shape), past the few-rows path
    tripled = table.take(np.tile(np.arange(len(rows), dtype=np.int64), 3))
    assert all(
        same_json(got, want)
        for got, want in zip(tripled.rows(range(3 * len(rows))), rows * 3, strict=True)
    )


@TABLES
@given(st.lists(properties_dicts(SHARED, allow_nan=True), min_size=1, max_size=8), st.data())
def test_rows_with_known_values_are_the_same_rows(
    rows: list[dict[str, Any]], data: st.DataObject
) -> None:
    """Values passed as known (read before, e.g. a footprint's text) stand in for reading them."""
    table = table_of(rows, 2)
    indices = data.draw(st.lists(st.integers(0, len(rows) - 1), max_size=30))
    known: dict[str, dict[int, Any]] = {}
    for i in set(indices):
        for name in data.draw(st.sets(st.sampled_from(sorted(rows[i]) or ["absent"]))):
            if name in rows[i]:
                known.setdefault(name, {})[i] = table.row(i)[name]
    known.setdefault("not a key of any row", {})[0] = "ignored"
    got = table.rows(indices, known)
    assert all(same_json(row, rows[i]) for row, i in zip(got, indices, strict=True))
    assert [list(row) for row in got] == [list(rows[i]) for i in indices]  # the key order


@TABLES
@given(st.lists(properties_dicts(SHARED, allow_nan=True), min_size=1, max_size=8), st.data())
def test_take_is_those_rows_in_that_order(rows: list[dict[str, Any]], data: st.DataObject) -> None:
    table = table_of(rows, 2)
    indices = data.draw(st.lists(st.integers(0, len(rows) - 1), max_size=12))
    taken = table.take(np.array(indices, dtype=np.int64))
    assert len(taken) == len(indices)
    assert all(
        same_json(got, rows[i])
        for got, i in zip(taken.rows(range(len(indices))), indices, strict=True)
    )
    # appending to a taken table leaves the table it came from as it was
    taken.append(rows)
    assert all(same_json(table.row(i), row) for i, row in enumerate(rows))


def test_the_exact_json_types_come_back() -> None:
    row = {
        "z": -0.0,
        "i": 1,
        "f": 1.0,
        "big": 2**53 + 1,
        "huge": -(10**40),
        "nan": math.nan,
        "inf": -math.inf,
        "t": True,
        "n": None,
        "s": "\ud800 lone surrogate",
        "nul": "a\x00",
        "astral": "\U0001f600",
        "list": [1, 1.0, "x", None, [2, [3]], {"k": [4]}, False],
        "empty": [],
        "obj": {"b": {"c": 1}},
    }
    table = table_of([row, {}, {"i": "text now", "z": [0.0]}])
    assert same_json(table.row(0), row)
    assert table.row(1) == {} and same_json(table.row(2), {"i": "text now", "z": [0.0]})
    assert same_json(table.row(-1), table.row(2))
    got = table.row(0)
    got["list"][4][1].append(9)  # the caller owns what it gets back
    assert same_json(table.row(0), row)
    again = [row, {}, {"i": "text now", "z": [0.0]}] * 5
    many = table.take(np.array([0, 1, 2] * 5, dtype=np.int64)).rows(range(15))
    assert all(same_json(g, w) for g, w in zip(many, again, strict=True))
    many[0]["list"][4][1].append(9)
    assert same_json(table.row(0), row)


@pytest.mark.parametrize(
    "column",
    [
        [1.5, None, -0.0, math.nan, None, 2.0],  # floats and nulls (a nan is not a null)
        [1, None, 2**53, -(2**53), None],  # ints and nulls, to the last exact one
        [1, None, 2**53 + 1, 3],  # an int past the floats: kept exactly
        [10**400, None, 1],  # past float64 altogether
        [1, 1.0, None, -0.0, 2, math.inf],  # ints and floats stay apart
        ["a", None, "", None, "b" * 300],  # text and nulls, a long string among them
        ["a", None, "é", "\ud800"],  # text that is not ASCII, a lone surrogate
        [None, None],
    ],
)
def test_a_column_of_nulls_among_plain_values_comes_back(column: list[Any]) -> None:
    rows = [{"v": value} for value in column]
    table = table_of(rows)
    assert all(
        same_json(got, want) for got, want in zip(table.rows(range(len(rows))), rows, strict=True)
    )
    assert all(same_json(table.row(i), row) for i, row in enumerate(rows))
    for text in ("v = 1", "v > 1", "v = 'a'", "NOT v > 1", "v < 'b'"):
        node = cq.parse_filter(text)
        want = [cq.compile_predicate(node)(row) is True for row in rows]
        assert compile_columnar(node)(table).tolist() == want, text


def test_an_empty_table() -> None:
    table = PropertyColumns()
    assert (
        len(table) == 0
        and table.rows([]) == []
        and len(table.take(np.array([], dtype=np.int64))) == 0
    )
    assert compile_columnar(cq.parse_filter("a < 1"))(table).tolist() == []
    assert table.append([]) == range(0, 0)
    with pytest.raises(IndexError):
        table.row(0)


def test_a_filter_on_a_property_no_row_has() -> None:
    table = table_of([{"a": 1}, {"b": "x"}])
    for text in ("nothing = 1", "NOT nothing = 1", "nothing = x* OR NOT nothing.deep < 3"):
        assert compile_columnar(cq.parse_filter(text))(table).tolist() == [False, False]
    assert compile_columnar(cq.parse_filter("NOT nothing = 1 OR a = 1"))(table).tolist() == [
        True,
        False,
    ]


def test_a_column_that_most_rows_lack_is_read_right() -> None:
    rows: list[dict[str, Any]] = [{"a": i} for i in range(10)] + [{"b": "x", "a": None}] + [{}] * 30
    table = table_of(rows, 4)
    assert compile_columnar(cq.parse_filter("a >= 5 OR b = x"))(table).tolist() == [
        5 <= i <= 10 for i in range(41)
    ]
    assert all(same_json(table.row(i), row) for i, row in enumerate(rows))


def test_numbers_compare_exactly_past_the_floats() -> None:
    values = [
        2**53,
        2**53 + 1,
        float(2**53),
        2**53 + 2,
        1e308,
        math.inf,
        -math.inf,
        math.nan,
        -0.0,
        0,
        10**30,
    ]
    rows = [{"x": v} for v in values]
    for literal in (
        "9007199254740993",
        "9007199254740992",
        "1" + "0" * 400,
        "-" + "9" * 400,
        "0",
        "-0.0",
        "1e400",
    ):
        for op in Op:
            node = Comparison("x", op, Literal(literal, LiteralKind.NUMBER))
            for negate in (False, True):
                assert_selects_the_same(Not(node) if negate else node, rows, None)


def test_the_same_errors_as_compile_predicate() -> None:
    deep: Node = Comparison("a", Op.EQ, Literal("1", LiteralKind.NUMBER))
    for _ in range(500):
        deep = Not(deep)
    for bad, schema in (
        (TypeName("WV02"), None),
        (deep, None),
        (Comparison("a", Op.EQ, Literal("1", LiteralKind.NUMBER)), {"properties": {"a": "x"}}),
    ):
        with pytest.raises(cq.QueryError) as want:
            cq.compile_predicate(bad, schema)
        with pytest.raises(cq.QueryError) as got:
            compile_columnar(bad, schema)
        assert type(got.value) is type(want.value) and str(got.value) == str(want.value)


def test_compiled_filters_are_cached() -> None:
    node = cq.parse_filter("cloudCover < 20")
    assert compile_columnar(node) is compile_columnar(cq.parse_filter("cloudCover < 20"))
    schema = {"properties": {"cloudCover": {"type": "integer"}}}
    assert compile_columnar(node, schema) is compile_columnar(node, dict(schema))


# --------------------------------------------------------------------------------------------
# The law: the columns select what the predicate selects


@EXAMPLES
@given(
    filter_nodes(SHARED | property_names(), max_leaves=10),
    st.lists(properties_dicts(SHARED, allow_nan=True), min_size=1, max_size=6),
    st.integers(1, 3),
)
def test_columnar_agrees_with_the_predicate(
    node: Node, rows: list[dict[str, Any]], batches: int
) -> None:
    for schema in schemas(rows):
        assert_selects_the_same(node, [*rows, {}], schema, batches)


def _near(leaf: Comparison | Match) -> list[Any]:
    """Values on either side of a comparison's literal, or that nearly match a pattern."""
    out: list[Any] = [
        None,
        True,
        False,
        0,
        -0.0,
        math.nan,
        math.inf,
        -math.inf,
        10**30,
        "",
        2**53 + 1,
    ]
    if isinstance(leaf, Comparison):
        text = leaf.value.text
        out += [text, text + "\x00", text[:-1], text + "0", text.upper(), text.lower()]
        out += [text + "é" * 200, text * (300 // max(1, len(text)) + 1)]  # long: packed apart
        number = literal_number(leaf.value)
        if number is not None and abs(number) < 1e300:
            out += [number, number + 1, number - 1, float(number), int(number), str(number)]
            out += [
                math.nextafter(float(number), math.inf),
                math.nextafter(float(number), -math.inf),
            ]
        moment = instant_key(text)
        if moment is not None:
            out += [moment, moment + "Z", moment + "+01:00", moment + ".000000001Z"]
            out += [moment[:10], moment.replace("T", " ")]
    else:
        pieces = [part for part in leaf.pattern if isinstance(part, str)]
        for piece in pieces:
            after = piece[:-1] + chr(min(ord(piece[-1]) + 1, sys.maxunicode))
            out += [piece, after, piece[:-1], piece + "x", "x" + piece, piece + "\n"]
        joined = "".join(pieces)
        out += [joined, "x".join(pieces), joined + joined, "x" + joined + "x"]
        out += [joined + "é" * 300, "W" * 300 + joined]  # long strings: packed apart
        out += [int(joined)] if joined.isascii() and joined.isdigit() else []
        out += (
            [float(joined)] if joined.isascii() and joined.isdigit() and len(joined) < 300 else []
        )
    return out + [[value] for value in out[-3:]] + [[], [None, out[-1]], {"b": out[-1]}]


@EXAMPLES
@given(filter_nodes(SHARED, max_leaves=6), st.data())
def test_columnar_agrees_near_the_literals(node: Node, data: st.DataObject) -> None:
    by_name: dict[str, list[Any]] = {}
    for leaf in iter_nodes(node):
        if isinstance(leaf, Comparison | Match):
            by_name.setdefault(leaf.property, []).extend(_near(leaf))
            first = leaf.property.split(".")[0]
            if first != leaf.property:
                by_name.setdefault(first, []).extend(
                    {leaf.property.split(".", 1)[1]: v} for v in _near(leaf)[:8]
                )
    values = {
        name: st.sampled_from(near) | json_values(allow_nan=True) for name, near in by_name.items()
    }
    rows = data.draw(st.lists(st.fixed_dictionaries({}, optional=values), min_size=1, max_size=8))
    for schema in schemas(rows):
        assert_selects_the_same(node, rows, schema, data.draw(st.integers(1, 3)))


@EXAMPLES
@given(
    filter_nodes(st.sampled_from(GBDX_PROPERTIES), max_leaves=8), st.lists(records(), max_size=6)
)
def test_columnar_agrees_on_gbdx_shaped_records(
    node: Node, generated: list[dict[str, Any]]
) -> None:
    rows = [record["properties"] for record in generated]
    for schema in schemas(rows):
        assert_selects_the_same(node, [*rows, {}], schema)


def test_lists_follow_the_list_rule() -> None:
    rows: list[dict[str, Any]] = [
        {"tags": ["WV02", "x"]},
        {"tags": [None, "y"]},
        {"tags": []},
        {"tags": [["WV02"], 3]},
        {"tags": [1, 2.5, True]},
    ]
    for text in (
        "tags = WV02",
        "NOT tags = WV02",
        "tags > 2",
        "NOT tags > 2",
        "tags = true",
        "tags = W*",
        "NOT tags = 2*",
    ):
        assert_selects_the_same(cq.parse_filter(text), rows, None)


def test_nul_characters_are_compared_as_python_compares_them() -> None:
    # numpy's string functions drop trailing NULs: of an operand, and of a string to endswith
    rows: list[dict[str, Any]] = [
        {"name": "x"},
        {"name": "x\x00"},
        {"name": "x\x00y"},
        {"name": "\x00"},
        {"name": "y\x00"},
        {"name": ""},
        {},
    ]
    for text in (
        "name = 'x\x00'",
        "name < 'x\x00'",
        "name >= 'x\x00'",
        "name = 'x\x00*'",
        "name = '\x00*'",
        "name = '*y'",
        "name = '*\x00'",
        "name = 'x*y'",
        "name = '*\x00*'",
        "NOT name = x",
        "name = x*",
    ):
        node = cq.parse_filter(text)
        assert_selects_the_same(node, rows, None)
        assert_selects_the_same(node, rows, None, batches=3)


def test_dotted_names_read_the_key_first_then_the_path() -> None:
    rows: list[dict[str, Any]] = [
        {"a.b": 1, "a": {"b": 5}},
        {"a": {"b": 5}},
        {"a": {"b": {"c": 2}}},
        {"a": {"c": 1}},
        {"a": 3},
        {"a.b": None, "a": {"b": 5}},
        {"a": {"b": [1, 7]}},
    ]
    for text in ("a.b > 2", "NOT a.b > 2", "a.b.c = 2", "a.b = 1*", "NOT a.b = 5 OR a.b = 1"):
        assert_selects_the_same(cq.parse_filter(text), rows, None)


def test_wildcards_of_every_shape() -> None:
    words = [
        "WORLDVIEW03_VNIR",
        "WORLDVIEW02",
        "WV03",
        "03",
        "",
        "a\nb",
        "é03é",
        1050010,
        26.5,
        -0.0,
        True,
        None,
    ]
    rows = [{"s": w} for w in words]
    patterns: list[tuple[str | Wildcard, ...]] = [
        ("WORLDVIEW", Wildcard.ANY),
        (Wildcard.ANY, "03"),
        (Wildcard.ANY, "03", Wildcard.ANY),
        ("W", Wildcard.ANY, "R"),
        (Wildcard.ANY,),
        ("W", Wildcard.ONE, Wildcard.ANY, "3"),
        ("1050", Wildcard.ANY),
        (Wildcard.ANY, ".5"),
        ("tr", Wildcard.ANY),
        ("-0", Wildcard.ANY),
    ]
    for pattern in patterns:
        for negated in (False, True):
            match = Match("s", pattern, negated)
            for node in (
                match,
                Not(match),
                And((match, Not(Comparison("s", Op.EQ, Literal("WV03", LiteralKind.QUOTED))))),
            ):
                assert_selects_the_same(node, rows, None)
                assert_selects_the_same(node, rows, {"properties": {"s": {"type": "string"}}})


# --------------------------------------------------------------------------------------------
# The real records


@pytest.fixture(scope="module")
def real_rows(gbdx_records: Mapping[str, dict[str, Any]]) -> list[dict[str, Any]]:
    return [record["properties"] for record in gbdx_records.values()]


@pytest.mark.parametrize("text", REAL_FILTERS)
def test_columnar_agrees_on_the_real_records(text: str, real_rows: list[dict[str, Any]]) -> None:
    node = cq.parse_filter(text)
    for schema in (None, cq.infer_queryables([{"properties": row} for row in real_rows])):
        assert_selects_the_same(node, real_rows, schema, batches=3)


def test_the_real_records_round_trip(real_rows: list[dict[str, Any]]) -> None:
    table = table_of(real_rows, 4)
    got = table.rows(np.arange(len(real_rows)))
    assert all(same_json(g, w) for g, w in zip(got, real_rows, strict=True))
    order = np.arange(len(real_rows))[::-1].copy()
    assert all(
        same_json(g, real_rows[i])
        for g, i in zip(table.take(order).rows(range(len(order))), order.tolist(), strict=True)
    )


@pytest.mark.parametrize("few", [0, 24, 10**6])
def test_pages_of_the_real_records_come_back_exactly(
    few: int, real_rows: list[dict[str, Any]]
) -> None:
    """Pages of any size, read a value at a time or a column at a time (``few``: the rows of a
    shape read a value at a time), in any order, with repeats: the rows appended, new objects."""
    rows = [*real_rows, {}, {"catalogID": 7, "cloudCover": "x", "extra": [1, {"k": None}]}]
    table = table_of(rows, 3)
    rng = np.random.default_rng(14)
    with mock.patch.object(columnar, "_FEW_ROWS", few):
        for size in (1, 2, 5, 30, 300, len(rows)):
            page = rng.choice(len(rows), size, replace=size > len(rows) // 2)
            got = table.rows(page)
            assert all(same_json(g, rows[i]) for g, i in zip(got, page.tolist(), strict=True))
            wkt = [rows[i].get("footprintWkt") for i in page.tolist()]
            assert table.texts("footprintWkt", page) == [
                w if isinstance(w, str) else None for w in wkt
            ]
            assert table.texts("catalogID", page) == [
                rows[i].get("catalogID") if isinstance(rows[i].get("catalogID"), str) else None
                for i in page.tolist()
            ]
        got = table.rows(list(range(len(rows))))
        got[-1]["extra"][1]["k"] = 1  # the caller owns what it gets back
        assert same_json(table.row(len(rows) - 1), rows[-1])


@pytest.mark.parametrize("few", [0, 10**6])
def test_every_kind_of_column_reads_back_both_ways(few: int) -> None:
    """Columns of one kind (dense and sparse), of several kinds, texts of a small dictionary
    (read through a list) and of a large one (its index dropped), long texts, lists, others."""
    rows: list[dict[str, Any]] = []
    for i in range(600):
        row: dict[str, Any] = {"f": i / 7, "i": i - 300, "small": f"s{i % 5}", "unique": f"u{i}"}
        row["note"] = ("n" * 300 if i % 2 else "") + str(i)  # long and short, no index
        if i % 3 == 0:
            row["sparse"] = i
        if i % 50 == 0:
            row["rare"] = "r" * (300 + i)  # long texts, in few rows
            row["mixed"] = [i, "x", {"deep": [i]}] if i % 100 else 2**60 + i
        row["b"] = None if i % 4 == 0 else i % 4 == 1
        row["m"] = [1.0, "t", None, True, 2**70, -0.0][i % 6]
        rows.append(dict(reversed(list(row.items()))) if i % 7 == 0 else row)
    table = table_of(rows, 4)
    assert table._settle().columns["unique"].values.dictionary.index is None  # not listed
    order = np.random.default_rng(3).permutation(len(rows))
    with mock.patch.object(columnar, "_FEW_ROWS", few):
        got = table.rows(order)
        assert all(same_json(g, rows[i]) for g, i in zip(got, order.tolist(), strict=True))
        assert all(same_json(table.row(i), rows[i]) for i in (0, 1, 50, 100, 599))
        for name in ("rare", "small", "unique", "note", "m", "nothing"):
            for page in (order[:3], order):
                assert table.texts(name, page) == [
                    v if isinstance(v := rows[i].get(name), str) else None for i in page.tolist()
                ]


def test_readers_beside_a_writer_see_whole_snapshots() -> None:
    """A writer appends while readers filter and read: every answer is that of some prefix."""
    table = PropertyColumns()
    keep = compile_columnar(cq.parse_filter("a < 300 AND s = x*"))
    stop = threading.Event()
    problems: list[str] = []

    def write() -> None:
        for start in range(0, 2000, 50):
            table.append([{"a": i, "s": f"x{i}"} for i in range(start, start + 50)])
        stop.set()

    def read() -> None:
        while True:  # at least once after the writer is done
            mask = keep(table)
            if mask.tolist() != [i < 300 for i in range(len(mask))]:
                problems.append(f"a mask of {len(mask)} rows")
            size = len(mask)
            if size and table.row(size - 1) != {"a": size - 1, "s": f"x{size - 1}"}:
                problems.append(f"row {size - 1}")
            if stop.is_set():
                break

    readers = [threading.Thread(target=read) for _ in range(3)]
    writer = threading.Thread(target=write)
    for thread in [*readers, writer]:
        thread.start()
    for thread in [writer, *readers]:
        thread.join(timeout=120)
    assert not problems, problems[:3]
    assert keep(table).tolist() == [i < 300 for i in range(2000)]


def test_long_strings_compare_and_come_back() -> None:
    """Strings past 255 UTF-8 bytes live in a packed buffer: every comparison still sees them."""
    moment = "2015-07-31T10:07:17." + "0" * 300 + "1Z"  # a long instant
    words = [
        "POLYGON ((" + "1.5 2.5, " * 60 + "1.5 2.5))",
        "é" * 200,
        "WORLDVIEW03" + "x" * 300,
        moment,
        "short",
        "WORLDVIEW03_VNIR",
    ]
    rows = [{"s": w, "timestamp": w} for w in words * 3]
    table = table_of(rows, 3)
    assert all(same_json(table.row(i), row) for i, row in enumerate(rows))
    assert all(same_json(g, w) for g, w in zip(table.rows(range(len(rows))), rows, strict=True))
    for text in (
        "s = WORLDVIEW03*",
        "s = *x",
        "s = '*é*'",
        "s > WORLDVIEW03",
        "s <= 'POLYGON ((1.5'",
        "NOT s = short",
        "s = 'P*))'",
        "s = *0_*",
        "timestamp > 2015-07-31T10:07:17Z",
        "NOT timestamp <= '2015-07-31T10:07:17.000001Z'",
    ):
        assert_selects_the_same(cq.parse_filter(text), rows, None, batches=2)
        assert_selects_the_same(
            cq.parse_filter(text), rows, {"properties": {"s": {"type": "string"}}}
        )


@contextlib.contextmanager
def small_folds() -> Iterator[None]:
    """Dictionary chunks of 3 strings and folds from 4 rows: a few rows take every path."""
    from catalogql.compile import columnar

    with (
        mock.patch.object(columnar._Dictionary, "_CHUNK", 3),
        mock.patch.object(columnar.PropertyColumns, "_FOLD_ROWS", 4),
    ):
        yield


def test_rows_folded_while_appending_read_back_the_same(real_rows: list[dict[str, Any]]) -> None:
    table = PropertyColumns()
    with small_folds():
        for start in range(0, len(real_rows), 7):
            table.append(real_rows[start : start + 7])
            settled = table._now.size
            assert settled <= len(table) < max(8, 2 * settled + 7)  # folded as the rows double
    got = table.rows(np.arange(len(real_rows)))
    assert all(same_json(g, w) for g, w in zip(got, real_rows, strict=True))
    reference = table_of(real_rows)
    for text in REAL_FILTERS:
        node = cq.parse_filter(text)
        assert compile_columnar(node)(table).tolist() == compile_columnar(node)(reference).tolist()


@TABLES
@given(
    filter_nodes(SHARED, max_leaves=6),
    st.lists(properties_dicts(SHARED, allow_nan=True), min_size=1, max_size=24),
    st.integers(1, 12),
)
def test_folding_while_appending_selects_the_same(
    node: Node, rows: list[dict[str, Any]], batches: int
) -> None:
    with small_folds():
        assert_selects_the_same(node, rows, None, batches)


@pytest.mark.parametrize(
    "text",
    [
        "name = n0123",
        "name < n0500",
        "name >= n1990 OR name = n0007",
        "name = n00*",
        "NOT name LIKE 'n01%'",
        "note = " + "x" * 300 + "7",
        "note = x*7",
        "startDate < 2016-01-10",
        "NOT startDate >= 2016-01-20",
    ],
)
def test_a_few_rows_compare_only_their_own_strings(text: str) -> None:
    """Candidate rows far fewer than the shared dictionary's strings take their own path."""
    rows = [
        {
            "name": f"n{i:04d}",
            "note": "x" * 300 + str(i),  # long strings: the packed buffer
            "startDate": f"2016-01-{1 + i % 28:02d}T00:00:00Z",
            "other": f"o{i}",
        }
        for i in range(2_000)
    ]
    columns = PropertyColumns()
    columns.append(rows)
    node = cq.parse_filter(text)
    keep = cq.compile_predicate(node)
    picked = np.array([7, 123, 499, 500, 1_990, 1_999, 20, 101, 117, 17], dtype=np.int64)
    few = compile_columnar(node)(columns, picked)
    assert len(picked) * 8 < 2_000  # fewer than an eighth of each column's strings
    assert few.tolist() == [keep(rows[i]) is True for i in picked.tolist()]
    every = compile_columnar(node)(columns)  # the dictionary-wide path agrees
    assert every[picked].tolist() == few.tolist()


@pytest.mark.parametrize(
    "text",
    [
        "a < '\udfff'",
        "a = '\udfff'",
        "a >= '\udfff'",
        "a LIKE '\udfff%'",
        "a LIKE '%\udfff'",
        "a LIKE 'x%\udfff'",
    ],
)
def test_a_literal_with_a_lone_surrogate_compares_like_the_predicate(text: str) -> None:
    """numpy's strings cannot hold one: those comparisons go a string at a time."""
    values = ("x", "\udfff", "y\udc80z", "\ue000", "x" * 300 + "\udfff", "x" * 300)
    rows = [{"a": value} for value in values]
    columns = PropertyColumns()
    columns.append(rows)
    node = cq.parse_filter(text)
    keep = cq.compile_predicate(node)
    assert compile_columnar(node)(columns).tolist() == [keep(row) is True for row in rows]
    assert compile_columnar(node)(columns, np.array([4, 1])).tolist() == [
        keep(rows[4]) is True,
        keep(rows[1]) is True,
    ]
