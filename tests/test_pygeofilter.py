"""``to_pygeofilter``: the AST it builds, and what pygeofilter's back ends then select.

The AST is checked node for node (exact pygeofilter classes, exact Python types of the values).
Selection is checked against ``compile_predicate`` through two of pygeofilter's back ends:

* the native back end (``NativeEvaluator``: a generated Python ``lambda``), over the 3,670 recorded
  GBDX records and over Hypothesis records and filters;
* the SQLAlchemy back end (``to_filter``), over the recorded records in an in-memory SQLite table
  with typed columns for the hot properties.

Where a back end means something else than SPEC section 4 by design, the difference is written
down in ``catalogql.compile.pygeofilter``'s docstring and tested here *as a deviation*: it shows up
exactly where expected (records with missing or null values, LIKE escapes, SQLite's LIKE case
folding, dotted names, deep trees) and nowhere else.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from pygeofilter import ast as pgf
from pygeofilter.backends.native.evaluate import NativeEvaluator
from pygeofilter.backends.sqlalchemy import to_filter
from pygeofilter.util import like_pattern_to_re

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
    Or,
    Wildcard,
    iter_nodes,
)
from catalogql.compile.pygeofilter import to_pygeofilter, typed_value
from catalogql.queryables import property_type
from catalogql.semantics import instant_key, is_datetime_name, like_pattern, parse_instant
from catalogql.testing.strategies import (
    GBDX_PROPERTIES,
    SENSOR_PLATFORMS,
    filter_nodes,
    properties_dicts,
    records,
)
from property_settings import scaled

pytestmark = pytest.mark.filterwarnings("ignore::catalogql.QueryWarning")

EXAMPLES = settings(
    max_examples=scaled(150), deadline=None, suppress_health_check=[HealthCheck.too_slow]
)

A = pgf.Attribute
LIKE = {"nocase": False, "wildcard": "%", "singlechar": "_", "escapechar": "\\"}
EXACT_CLASSES = {
    pgf.And,
    pgf.Or,
    pgf.Not,
    pgf.Equal,
    pgf.NotEqual,
    pgf.LessThan,
    pgf.LessEqual,
    pgf.GreaterThan,
    pgf.GreaterEqual,
    pgf.Like,
    pgf.Attribute,
}


def shape(node: Any) -> Any:
    """A pygeofilter tree as nested tuples: exact classes, attribute names, values with types.

    Comparing shapes is stricter than ``==`` on pygeofilter nodes (which takes ``20 == 20.0``
    and ignores exact classes), and walks with a stack.
    """
    done: dict[int, Any] = {}
    stack: list[tuple[Any, bool]] = [(node, False)]
    while stack:
        current, children_done = stack.pop()
        kind = type(current)
        assert kind in EXACT_CLASSES, f"not one of pygeofilter's own classes: {kind}"
        if kind in (pgf.And, pgf.Or, pgf.Not):
            children = (current.sub_node,) if kind is pgf.Not else (current.lhs, current.rhs)
            if not children_done:
                stack.append((current, True))
                stack.extend((child, False) for child in children)
                continue
            done[id(current)] = (kind.__name__, *(done[id(c)] for c in children))
        elif kind is pgf.Like:
            assert type(current.lhs) is pgf.Attribute
            fields = (current.nocase, current.wildcard, current.singlechar, current.escapechar)
            assert fields == (False, "%", "_", "\\")
            done[id(current)] = ("Like", current.lhs.name, current.pattern, current.not_)
        else:
            assert type(current.lhs) is pgf.Attribute
            value = current.rhs
            done[id(current)] = (kind.__name__, current.lhs.name, type(value), value)
    return done[id(node)]


def tree_depth(node: Any) -> int:
    deepest, stack = 0, [(node, 1)]
    while stack:
        current, depth = stack.pop()
        deepest = max(deepest, depth)
        if type(current) in (pgf.And, pgf.Or):
            stack += [(current.lhs, depth + 1), (current.rhs, depth + 1)]
        elif type(current) is pgf.Not:
            stack.append((current.sub_node, depth + 1))
    return deepest


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, us: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, us, tzinfo=UTC)


NUMBERS = {"properties": {"cloudCover": {"type": "integer"}, "catalogID": {"type": "string"}}}
BOOLEANS = {"properties": {"isHidden": {"type": "boolean"}}}
DATES = {"properties": {"published": {"type": "string", "format": "date-time"}}}

# ------------------------------------------------------------------------------------------
# The AST, node for node

AST_CASES: list[tuple[str, dict[str, Any] | None, Any]] = [
    ("cloudCover < 20", None, pgf.LessThan(A("cloudCover"), 20)),
    ("cloudCover <= 20.5", None, pgf.LessEqual(A("cloudCover"), 20.5)),
    ("cloudCover > 10.0", None, pgf.GreaterThan(A("cloudCover"), 10.0)),
    ("cloudCover >= -1e3", None, pgf.GreaterEqual(A("cloudCover"), -1000.0)),
    ("cloudCover == 0", None, pgf.Equal(A("cloudCover"), 0)),
    ("cloudCover != 0", None, pgf.NotEqual(A("cloudCover"), 0)),
    # value-typed: without a schema the literal's form decides, with one the declared type
    ("cloudCover = '0'", None, pgf.Equal(A("cloudCover"), "0")),
    ("cloudCover = '0'", NUMBERS, pgf.Equal(A("cloudCover"), 0)),
    ("cloudCover = 15.0", NUMBERS, pgf.Equal(A("cloudCover"), 15.0)),
    ("catalogID = 1050010018826700", None, pgf.Equal(A("catalogID"), 1050010018826700)),
    ("catalogID = 1050010018826700", NUMBERS, pgf.Equal(A("catalogID"), "1050010018826700")),
    ("catalogID = 1040010019B4A600", None, pgf.Equal(A("catalogID"), "1040010019B4A600")),
    ("cloudCover < 20", {"properties": {}}, pgf.LessThan(A("cloudCover"), 20)),  # undeclared
    (
        "sensorPlatformName <> WORLDVIEW02",
        None,
        pgf.NotEqual(A("sensorPlatformName"), "WORLDVIEW02"),
    ),
    ("vendor = 'Digital Globe'", None, pgf.Equal(A("vendor"), "Digital Globe")),
    ("vendor = 'it''s'", None, pgf.Equal(A("vendor"), "it's")),
    # date-times: aware, in UTC
    ("timestamp >= 2016-01-01", None, pgf.GreaterEqual(A("timestamp"), utc(2016, 1, 1))),
    (
        "timestamp < '2015-07-31T12:07:17.5+02:00'",
        None,
        pgf.LessThan(A("timestamp"), utc(2015, 7, 31, 10, 7, 17, 500000)),
    ),
    (
        "acquisitionDate > 2015-01-01T00:00:00Z",
        None,
        pgf.GreaterThan(A("acquisitionDate"), utc(2015, 1, 1)),
    ),
    ("ingestDate = yesterday", None, pgf.Equal(A("ingestDate"), "yesterday")),
    ("published = 2015-01-01", None, pgf.Equal(A("published"), "2015-01-01")),  # not date-named
    ("published = 2015-01-01", DATES, pgf.Equal(A("published"), utc(2015, 1, 1))),
    # booleans: a bare true/false with = or <>; quoted stays text; a schema decides
    ("isHidden = true", None, pgf.Equal(A("isHidden"), True)),
    ("isHidden <> FALSE", None, pgf.NotEqual(A("isHidden"), False)),
    ("isHidden = 'true'", None, pgf.Equal(A("isHidden"), "true")),
    ("isHidden > true", None, pgf.GreaterThan(A("isHidden"), "true")),
    ("isHidden = 'TRUE'", BOOLEANS, pgf.Equal(A("isHidden"), True)),
    # wildcards: LIKE with %, _ and \ escapes
    (
        "sensorPlatformName = WORLDVIEW03*",
        None,
        pgf.Like(A("sensorPlatformName"), "WORLDVIEW03%", not_=False, **LIKE),
    ),
    (
        "sensorPlatformName <> WORLDVIEW03_*",
        None,
        pgf.Like(A("sensorPlatformName"), "WORLDVIEW03\\_%", not_=True, **LIKE),
    ),
    (
        "sensorPlatformName LIKE 'WORLDVIEW0_'",
        None,
        pgf.Like(A("sensorPlatformName"), "WORLDVIEW0_", not_=False, **LIKE),
    ),
    ("catalogID = 1050010*", NUMBERS, pgf.Like(A("catalogID"), "1050010%", not_=False, **LIKE)),
    ("name = 'a\\*b*'", None, pgf.Like(A("name"), "a*b%", not_=False, **LIKE)),
    ("name = '50%*'", None, pgf.Like(A("name"), "50\\%%", not_=False, **LIKE)),
    ("name = 'C:\\\\*'", None, pgf.Like(A("name"), "C:\\\\%", not_=False, **LIKE)),
    ("name = *", None, pgf.Like(A("name"), "%", not_=False, **LIKE)),
    ("_acquisition.productLevel = LV1B", None, pgf.Equal(A("_acquisition.productLevel"), "LV1B")),
    # AND/OR: balanced binary trees, order kept; NOT as it is
    (
        "a = 1 AND b = 2 AND c = 3",
        None,
        pgf.And(pgf.And(pgf.Equal(A("a"), 1), pgf.Equal(A("b"), 2)), pgf.Equal(A("c"), 3)),
    ),
    (
        "a = 1 OR b = 2 OR c = 3 OR d = 4",
        None,
        pgf.Or(
            pgf.Or(pgf.Equal(A("a"), 1), pgf.Equal(A("b"), 2)),
            pgf.Or(pgf.Equal(A("c"), 3), pgf.Equal(A("d"), 4)),
        ),
    ),
    (
        "a = 1 OR b = 2 AND c = 3",
        None,
        pgf.Or(pgf.Equal(A("a"), 1), pgf.And(pgf.Equal(A("b"), 2), pgf.Equal(A("c"), 3))),
    ),
    (
        "NOT (a = 1 OR b <> x) AND NOT NOT c > 2",
        None,
        pgf.And(
            pgf.Not(pgf.Or(pgf.Equal(A("a"), 1), pgf.NotEqual(A("b"), "x"))),
            pgf.Not(pgf.Not(pgf.GreaterThan(A("c"), 2))),
        ),
    ),
]


@pytest.mark.parametrize(
    ("text", "schema", "expected"),
    AST_CASES,
    ids=[f"{text} [{'schema' if schema else '-'}]" for text, schema, _ in AST_CASES],
)
def test_ast_is_pygeofilters_own(text: str, schema: dict[str, Any] | None, expected: Any) -> None:
    built = to_pygeofilter(cq.parse_filter(text), schema)
    assert built == expected
    assert shape(built) == shape(expected)


def test_like_pattern_escapes_only_like_characters() -> None:
    pattern = ("a%b_c\\d*", Wildcard.ANY, "x", Wildcard.ONE)
    assert like_pattern(pattern) == "a\\%b\\_c\\\\d*%x_"


@pytest.mark.parametrize(("chain", "pgf_kind"), [(And, pgf.And), (Or, pgf.Or)])
def test_balanced_chain_of_10000_terms_runs_in_both_back_ends(
    chain: type[And | Or], pgf_kind: Any
) -> None:
    items = tuple(
        Comparison(f"p{i % 7}", Op.GT, Literal(str(-i), LiteralKind.NUMBER)) for i in range(10_000)
    )
    built = to_pygeofilter(chain(items))
    assert type(built) is pgf_kind
    assert tree_depth(built) == 15  # 14 levels of AND/OR above the comparisons
    values = [n.rhs for n in _leaves(built)]
    assert values == [-i for i in range(10_000)]  # left-to-right order kept
    keep = NativeEvaluator(use_getattr=False).evaluate(built)
    assert keep({f"p{i}": 1 for i in range(7)}) is True
    table = sa.Table("t", sa.MetaData(), *(sa.Column(f"p{i}", sa.Float) for i in range(7)))
    where = to_filter(built, {f"p{i}": table.c[f"p{i}"] for i in range(7)})
    assert str(where).count(f" {pgf_kind.op.value} ") == 9_999


def _leaves(node: Any) -> list[Any]:
    out, stack = [], [node]
    while stack:
        current = stack.pop()
        if type(current) in (pgf.And, pgf.Or):
            stack += [current.rhs, current.lhs]
        else:
            out.append(current)
    return out


def test_shared_subtrees_convert() -> None:
    a, b = cq.parse_filter("a = 1"), cq.parse_filter("b = 2")
    built = to_pygeofilter(And((a, Not(a), Or((a, b)))))
    one, two = pgf.Equal(A("a"), 1), pgf.Equal(A("b"), 2)
    assert shape(built) == shape(pgf.And(pgf.And(one, pgf.Not(one)), pgf.Or(one, two)))


def test_deep_not_converts_without_recursion() -> None:
    node: Node = Comparison("a", Op.LT, Literal("1", LiteralKind.NUMBER))
    for i in range(5000):
        node = (
            Not(node)
            if i % 3
            else And((node, Comparison("b", Op.EQ, Literal("x", LiteralKind.BARE))))
        )
    built = to_pygeofilter(node)
    assert tree_depth(built) == 5001


# ------------------------------------------------------------------------------------------
# Errors: only QueryError


@pytest.mark.parametrize(
    ("text", "schema", "code"),
    [
        ("cloudCover = abc", NUMBERS, "schema.type-mismatch"),
        ("cloudCover < '2016-01-01'", NUMBERS, "schema.type-mismatch"),
        ("published >= yesterday", DATES, "schema.type-mismatch"),
        ("isHidden = maybe", BOOLEANS, "schema.type-mismatch"),
        ("isHidden < true", BOOLEANS, "schema.type-mismatch"),
        ("cloudCover < 20", {"properties": 3}, "schema.invalid"),
        ("cloudCover < 20", {"properties": {"cloudCover": "integer"}}, "schema.invalid"),
        ("a < 1", {"properties": {"a": {"type": [["integer"]]}}}, "schema.invalid"),
    ],
)
def test_schema_errors(text: str, schema: Any, code: str) -> None:
    with pytest.raises(cq.QueryValidationError) as caught:
        to_pygeofilter(cq.parse_filter(text), schema)
    assert caught.value.code == code


@pytest.mark.parametrize(
    ("node", "code"),
    [
        (cq.parse_types("WV02 AND NOT IDAHOImage"), "compile.not-a-filter"),
        (cq.parse_types("WV03*"), "compile.not-a-filter"),
        ("cloudCover < 20", "compile.not-a-node"),
        (None, "compile.not-a-node"),
        (And((cq.parse_filter("a = 1"), "b = 2")), "compile.not-a-node"),  # type: ignore[arg-type]
        (Comparison("a", "<", Literal("1", LiteralKind.NUMBER)), "compile.not-a-node"),  # type: ignore[arg-type]
        (Comparison("a", Op.LT, "1"), "compile.not-a-node"),  # type: ignore[arg-type]
    ],
    ids=["types", "type-pattern", "text", "none", "text-item", "text-op", "text-literal"],
)
def test_not_a_filter_is_a_query_error(node: Any, code: str) -> None:
    with pytest.raises(cq.QueryError) as caught:
        to_pygeofilter(node)
    assert caught.value.code == code


SCHEMA_NAMES = ("a", "b", "cloudCover", "timestamp", "isHidden")
SCHEMA_ENTRIES: tuple[dict[str, Any], ...] = (
    {"type": "integer"},
    {"type": "number"},
    {"type": "boolean"},
    {"type": "string"},
    {"type": "string", "format": "date-time"},
    {"type": ["integer", "null"]},
    {"type": "array", "items": {"type": "integer"}},
    {"type": [["integer"]]},
    {"type": {"oneOf": 1}},
    {"enum": [[1], {"a": 2}]},
    {},
)


@EXAMPLES
@given(
    filter_nodes(SCHEMA_NAMES),
    st.dictionaries(st.sampled_from(SCHEMA_NAMES), st.sampled_from(SCHEMA_ENTRIES)),
)
def test_any_filter_and_schema_give_an_ast_or_a_query_error(
    node: Node, declared: dict[str, Any]
) -> None:
    try:
        built = to_pygeofilter(node, {"properties": declared})
    except cq.QueryError:
        return
    shape(built)


# ------------------------------------------------------------------------------------------
# Running the AST: pygeofilter's native back end is plain Python on the stored values

COMPARE = {
    pgf.Equal: operator.eq,
    pgf.NotEqual: operator.ne,
    pgf.LessThan: operator.lt,
    pgf.LessEqual: operator.le,
    pgf.GreaterThan: operator.gt,
    pgf.GreaterEqual: operator.ge,
}

Outcome = bool | type[BaseException]
"""What running a filter on one record gave: its answer, or the class of what it raised."""


def native(built: Any) -> Callable[[Mapping[str, Any]], Outcome]:
    """pygeofilter's native predicate over a properties dict, with exceptions as outcomes."""
    keep = NativeEvaluator(use_getattr=False).evaluate(built)

    def run(item: Mapping[str, Any]) -> Outcome:
        try:
            return keep(item)  # type: ignore[no-any-return]
        except Exception as error:
            return type(error)

    return run


def python_model(built: Any, item: Mapping[str, Any]) -> Outcome:
    """The deviation, stated exactly: Python's own operators on the stored values, two-valued.

    A missing property is ``None``; a dotted name is a chain of ``.get``; AND and OR
    short-circuit left to right; LIKE is pygeofilter's own regex, ``match``ed on the value.
    """

    def value(name: str) -> Any:
        current: Any = item
        for part in name.split("."):
            current = current.get(part)
        return current

    def run(node: Any) -> bool:
        kind = type(node)
        if kind is pgf.And:
            return run(node.lhs) and run(node.rhs)
        if kind is pgf.Or:
            return run(node.lhs) or run(node.rhs)
        if kind is pgf.Not:
            return not run(node.sub_node)
        if kind is pgf.Like:
            regex = like_pattern_to_re(node.pattern, False, "%", "_", "\\")
            return (regex.match(value(node.lhs.name)) is None) is node.not_
        return COMPARE[kind](value(node.lhs.name), node.rhs)  # type: ignore[no-any-return]

    try:
        return run(built)
    except Exception as error:
        return type(error)


def native_item(props: Mapping[str, Any], schema: Mapping[str, Any] | None) -> dict[str, Any]:
    """The properties as pygeofilter needs them stored: date-times as aware ``datetime``."""
    item = dict(props)
    for name, stored in props.items():
        declared = property_type(schema, name)
        dated = (
            declared.value_type is cq.semantics.ValueType.DATETIME
            if declared is not None and declared.value_type is not None
            else is_datetime_name(name)
        )
        if dated and type(stored) is str and _microseconds_or_coarser(stored):
            item[name] = parse_instant(stored)
    return item


def _microseconds_or_coarser(text: str) -> bool:
    key = instant_key(text)
    return key is not None and len(key.partition(".")[2]) <= 6


def _category(value: Any) -> str | None:
    return {bool: "boolean", int: "number", float: "number", str: "text", datetime: "instant"}.get(
        type(value)
    )


def fits(leaf: Comparison | Match, item: Mapping[str, Any], schema: Any = None) -> bool:
    """Whether the stored value is one pygeofilter compares as SPEC section 4 does.

    A scalar of the literal's own type (for a wildcard: text without a line break, and a
    pattern without a ``%``, ``_`` or ``\\`` in its text), not a text date-time, and date-times
    to the microsecond.
    """
    stored = item.get(leaf.property)
    if isinstance(leaf, Match):
        return (
            type(stored) is str
            and "\n" not in stored
            and not any(c in part for part in leaf.pattern if isinstance(part, str) for c in "%_\\")
        )
    literal = typed_value(leaf.property, leaf.op, leaf.value, property_type(schema, leaf.property))
    kind = _category(literal)
    if _category(stored) != kind:
        return False
    if kind == "text" and schema is None and is_datetime_name(leaf.property):
        return False  # catalogql reads a date-named text as an instant (or unknown)
    return kind != "instant" or _microseconds_or_coarser(leaf.value.text)


def leaves(node: Node) -> list[Comparison | Match]:
    return [n for n in iter_nodes(node) if isinstance(n, Comparison | Match)]


# -- the recorded GBDX records

CORPUS = [
    "sensorPlatformName = WORLDVIEW02",
    "sensorPlatformName = WORLDVIEW*",
    "sensorPlatformName = *VIEW0*",
    "sensorPlatformName <> WORLDVIEW*",
    "sensorPlatformName = QUICKBIRD02 OR sensorPlatformName = GEOEYE01",
    "platformName <> LANDSAT08 AND platformName <> IKONOS",
    "cloudCover < 20",
    "cloudCover <= 10 AND cloudCover >= 5",
    "cloudCover = '0'",
    "cloudCover > 50.5",
    "offNadirAngle < 15",
    "offNadirAngle >= 20 AND offNadirAngle < 30",
    "NOT offNadirAngle > 10",
    "cloudCover < 20 AND offNadirAngle < 10 AND sensorPlatformName = WORLDVIEW0*",
    "NOT (cloudCover < 20 OR offNadirAngle < 10)",
    "(platformName = WORLDVIEW01 OR platformName = QUICKBIRD02) AND NOT cloudCover > 30",
    "catalogID = 1030010045539700",
    "catalogID = 10500100*",
    "catalogID <> 103*",
    "catalogID > 1040010000000000",
    "catalogID = LC8*LGN00",
    "timestamp >= 2016-01-01",
    "timestamp < '2015-07-31T10:07:17.000Z'",
    "timestamp >= 2015-01-01 AND timestamp < 2015-07-01T00:00:00Z",
    "timestamp > '2016-06-01T12:00:00+02:00' AND cloudCover < 50",
    "NOT timestamp < 2011-01-01 AND NOT cloudCover > 80",
    "vendor = DigitalGlobe AND NOT platformName = LANDSAT08",
    "imageBands = PAN_MS1 OR imageBands = PAN",
    "scanDirection <> Forward",
    "multiResolution > 2 AND panResolution < 0.6",
    "sunElevation > 40 OR sunAzimuth < 90",
    "path = 100 OR row >= 30",
]


@pytest.fixture(scope="module")
def gbdx(gbdx_records: Mapping[str, dict[str, Any]]) -> tuple[dict[str, Any], list[Any]]:
    """The queryables of the recorded records, and (identifier, properties, native item)."""
    schema = cq.infer_queryables(gbdx_records.values())
    rows = [
        (identifier, record["properties"], native_item(record["properties"], schema))
        for identifier, record in gbdx_records.items()
    ]
    return schema, rows


@pytest.mark.parametrize("text", CORPUS)
def test_native_agrees_on_recorded_records(text: str, gbdx: tuple[Any, list[Any]]) -> None:
    schema, rows = gbdx
    node = cq.parse_filter(text)
    ours = cq.compile_predicate(node, schema)
    built = to_pygeofilter(node, schema)
    theirs = native(built)
    names = {leaf.property for leaf in leaves(node)}
    selected = 0
    for _, props, item in rows:
        outcome = theirs(item)
        assert outcome == python_model(built, item)
        if all(item.get(name) is not None for name in names):  # every value there: no deviation
            assert outcome == ours(props)
        elif outcome != ours(props):  # a missing value, so the deviation: never selects more
            assert outcome is TypeError or not ours(props)
        selected += ours(props)
    assert 0 < selected < len(rows)


def test_native_deviates_exactly_on_missing_values(gbdx: tuple[Any, list[Any]]) -> None:
    schema, rows = gbdx
    missing = {ident for ident, props, _ in rows if props.get("offNadirAngle") is None}
    assert len(missing) == 677
    # NOT of a comparison on a missing value: catalogql says false, Python raises on None > 10
    theirs = native(to_pygeofilter(cq.parse_filter("NOT offNadirAngle > 10"), schema))
    raised = {ident for ident, _, item in rows if theirs(item) is TypeError}
    assert raised == missing
    # <> on a missing value: catalogql says false, Python says None != 'Forward'
    node = cq.parse_filter("scanDirection <> Forward")
    ours, theirs = cq.compile_predicate(node, schema), native(to_pygeofilter(node, schema))
    differ = {ident for ident, props, item in rows if ours(props) != theirs(item)}
    assert differ == {ident for ident, props, _ in rows if props.get("scanDirection") is None}
    assert len(differ) == 895


def test_native_like_escapes_match_nothing(gbdx: tuple[Any, list[Any]]) -> None:
    schema, rows = gbdx
    node = cq.parse_filter("sensorPlatformName = WORLDVIEW03_*")
    ours, theirs = cq.compile_predicate(node, schema), native(to_pygeofilter(node, schema))
    assert sum(ours(props) for _, props, _ in rows) == 217
    assert not any(theirs(item) for _, _, item in rows)


NATIVE_DEVIATIONS: list[tuple[str, str, dict[str, Any] | None, dict[str, Any], bool, Outcome]] = [
    # (why, filter, schema, stored properties, catalogql's answer, native's outcome)
    ("null <>", "cloudCover <> 5", None, {"cloudCover": None}, False, True),
    ("missing <>", "cloudCover <> 5", None, {}, False, True),
    ("NOT of missing", "NOT cloudCover = 5", None, {}, False, True),
    ("missing ordered", "cloudCover < 20", None, {}, False, TypeError),
    (
        "list any",
        "sensorPlatformName = WORLDVIEW02",
        None,
        {"sensorPlatformName": ["WORLDVIEW02", "X"]},
        True,
        False,
    ),
    ("list ordered", "cloudCover < 20", None, {"cloudCover": [10, 30]}, True, TypeError),
    ("untyped '0'", "cloudCover = '0'", None, {"cloudCover": 0}, True, False),
    ("untyped 20", "name = 20", None, {"name": "20"}, True, False),
    ("text vs number", "name < 20", None, {"name": "abc"}, False, TypeError),
    (
        "text date-time",
        "timestamp >= 2016-01-01",
        None,
        {"timestamp": "2016-05-01T00:00:00Z"},
        True,
        TypeError,
    ),
    (
        "wildcard on a number",
        "catalogID = 1050010*",
        None,
        {"catalogID": 1050010018826700},
        True,
        TypeError,
    ),
    ("wildcard on a boolean", "isHidden = t*", None, {"isHidden": True}, True, TypeError),
    ("escaped _", "name = a_*", None, {"name": "a_b"}, True, False),
    ("escaped %", "name = '50%*'", None, {"name": "50% off"}, True, False),
    ("line break in *", "name = a*", None, {"name": "a\nb"}, True, False),
    ("trailing line break", "name = *b", None, {"name": "ab\n"}, False, True),
    (
        "flat dotted key",
        "_acquisition.productLevel = LV1B",
        None,
        {"_acquisition.productLevel": "LV1B"},
        True,
        AttributeError,
    ),
    (
        "sub-microsecond",
        "timestamp = '2015-07-31T10:07:17.0000001Z'",
        None,
        {"timestamp": utc(2015, 7, 31, 10, 7, 17)},
        False,
        True,
    ),
    ("bool is 1", "isHidden = 1", None, {"isHidden": True}, False, True),
]


@pytest.mark.parametrize(
    ("why", "text", "schema", "props", "ours", "theirs"),
    NATIVE_DEVIATIONS,
    ids=[case[0] for case in NATIVE_DEVIATIONS],
)
def test_native_deviation(
    why: str, text: str, schema: Any, props: dict[str, Any], ours: bool, theirs: Outcome
) -> None:
    node = cq.parse_filter(text)
    stored = dict(props)
    if isinstance(stored.get("timestamp"), datetime):  # catalogql reads date-times as text
        stored["timestamp"] = stored["timestamp"].strftime("%Y-%m-%dT%H:%M:%SZ")
    assert cq.compile_predicate(node, schema)(stored) is ours
    built = to_pygeofilter(node, schema)
    assert native(built)(props) == theirs
    assert python_model(built, props) == theirs


def test_native_deviation_goes_away_with_schema_and_stored_types() -> None:
    schema = {"properties": {"cloudCover": {"type": "integer"}}}
    node = cq.parse_filter("cloudCover = '0'")
    assert native(to_pygeofilter(node, schema))({"cloudCover": 0}) is True
    stored = {"timestamp": "2016-05-01T00:00:00Z"}
    built = to_pygeofilter(cq.parse_filter("timestamp >= 2016-01-01"))
    assert native(built)(native_item(stored, None)) is True
    nested = {"_acquisition": {"productLevel": "LV1B"}}
    assert native(to_pygeofilter(cq.parse_filter("_acquisition.productLevel = LV1B")))(nested)


def test_native_fails_on_trees_nested_past_python_parser_limit() -> None:
    node: Node = Comparison("a", Op.LT, Literal("1", LiteralKind.NUMBER))
    for _ in range(150):
        node = Not(node)
    assert native(to_pygeofilter(node))({"a": 0}) is True
    for _ in range(150):
        node = Not(node)
    with pytest.raises(SyntaxError, match="too many nested parentheses"):
        NativeEvaluator(use_getattr=False).evaluate(to_pygeofilter(node))


# -- Hypothesis records and filters

NAMES = [name for name in GBDX_PROPERTIES if "." not in name]
PROPERTIES = st.one_of(
    records().map(lambda record: record["properties"]), properties_dicts(NAMES, max_size=6)
)
NUMBER_NAMES = ("cloudCover", "offNadirAngle", "sunElevation", "bearing", "multiResolution", "path")
TEXT_NAMES = ("sensorPlatformName", "platformName", "vendor", "imageBands", "scanDirection")
DATE_NAMES = ("timestamp", "ingestDate", "acquisitionDate")
TEXTS = (*SENSOR_PLATFORMS, "DigitalGlobe", "Landsat", "PAN_MS1", "SWIR", "Forward", "Reverse")


def _quoted(text: str) -> Literal:
    return Literal(text, LiteralKind.QUOTED)


def _number(value: float) -> Literal:
    return Literal(repr(value), LiteralKind.NUMBER)


def _iso(moment: datetime) -> Literal:
    return _quoted(moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ"))


OPS = st.sampled_from(Op)
TYPED_LEAVES: st.SearchStrategy[Node] = st.one_of(
    st.builds(
        Comparison,
        st.sampled_from(NUMBER_NAMES),
        OPS,
        st.integers(-5, 200).map(_number) | st.floats(-5, 200).map(lambda f: _number(round(f, 3))),
    ),
    st.builds(Comparison, st.sampled_from(TEXT_NAMES), OPS, st.sampled_from(TEXTS).map(_quoted)),
    st.builds(
        Comparison,
        st.sampled_from(DATE_NAMES),
        OPS,
        st.datetimes(datetime(1999, 1, 1), datetime(2031, 1, 1)).map(_iso),
    ),
    st.builds(
        lambda name, text, cut, suffix, negated: Match(
            name,
            (text[:cut], Wildcard.ANY, *((text[-cut:],) if suffix else ())),
            negated,
        ),
        st.sampled_from(TEXT_NAMES),
        st.sampled_from(TEXTS),
        st.integers(0, 9),
        st.booleans(),
        st.booleans(),
    ),
)
TYPED_FILTERS: st.SearchStrategy[Node] = st.recursive(
    TYPED_LEAVES,
    lambda children: st.one_of(
        children.map(Not),
        st.lists(children, min_size=2, max_size=3).map(lambda items: And(tuple(items))),
        st.lists(children, min_size=2, max_size=3).map(lambda items: Or(tuple(items))),
    ),
    max_leaves=6,
)
"""Filters over GBDX properties with literals of their types, so that most values fit."""

FULL_PROPERTIES = st.fixed_dictionaries(
    {
        **{name: st.integers(-5, 200) | st.floats(-5, 200) for name in NUMBER_NAMES},
        **{name: st.sampled_from(TEXTS) for name in TEXT_NAMES},
        **{
            name: st.datetimes(datetime(1999, 1, 1), datetime(2031, 1, 1)).map(
                lambda moment: moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            )
            for name in DATE_NAMES
        },
    }
)
"""Records holding every property :data:`TYPED_FILTERS` compares, each of its type."""


def check_native(node: Node, props: dict[str, Any]) -> None:
    """Native is plain Python on the stored values, and agrees with catalogql where they fit."""
    built = to_pygeofilter(node)
    item = native_item(props, None)
    outcome = native(built)(item)
    assert outcome == python_model(built, item)
    if all(fits(leaf, item) for leaf in leaves(node)):
        event("every value fits")
        assert outcome == cq.compile_predicate(node)(props)


@EXAMPLES
@given(TYPED_FILTERS, st.one_of(FULL_PROPERTIES, records().map(lambda r: r["properties"])))
def test_native_agrees_with_predicate_where_values_fit(node: Node, props: dict[str, Any]) -> None:
    check_native(node, props)


@EXAMPLES
@given(filter_nodes(NAMES, max_leaves=6), PROPERTIES)
def test_native_is_plain_python_on_any_values(node: Node, props: dict[str, Any]) -> None:
    check_native(node, props)


# ------------------------------------------------------------------------------------------
# Running the AST: pygeofilter's SQLAlchemy back end on SQLite

COLUMNS = {
    "cloudCover": sa.Integer,
    "offNadirAngle": sa.Float,
    "multiResolution": sa.Float,
    "panResolution": sa.Float,
    "sensorPlatformName": sa.Text,
    "platformName": sa.Text,
    "catalogID": sa.Text,
    "vendor": sa.Text,
    "imageBands": sa.Text,
    "scanDirection": sa.Text,
    "timestamp": sa.DateTime,
}


@pytest.fixture(scope="module")
def sqlite(gbdx: tuple[Any, list[Any]]) -> tuple[sa.Engine, sa.Table]:
    """The recorded records in an in-memory SQLite table, hot properties as typed columns."""
    _, rows = gbdx
    table = sa.Table(
        "records",
        sa.MetaData(),
        sa.Column("identifier", sa.Text, primary_key=True),
        *(sa.Column(name, kind) for name, kind in COLUMNS.items()),
    )
    engine = sa.create_engine("sqlite://")
    table.metadata.create_all(engine)
    with engine.begin() as connection:
        connection.execute(
            table.insert(),
            [{"identifier": i, **{c: item.get(c) for c in COLUMNS}} for i, _, item in rows],
        )
    return engine, table


def sql_select(sqlite: tuple[sa.Engine, sa.Table], built: Any, *pragmas: str) -> set[str]:
    engine, table = sqlite
    where = to_filter(built, {name: table.c[name] for name in COLUMNS})
    with engine.connect() as connection:
        for pragma in pragmas:
            connection.exec_driver_sql(pragma)
        selected = {
            row[0] for row in connection.execute(sa.select(table.c.identifier).where(where))
        }
        for pragma in pragmas:
            connection.exec_driver_sql(pragma.replace("ON", "OFF"))
    return selected


SQL_CORPUS = [
    text
    for text in CORPUS
    if all(leaf.property in COLUMNS for leaf in leaves(cq.parse_filter(text)))
]


@pytest.mark.parametrize("text", SQL_CORPUS)
def test_sqlalchemy_agrees_on_recorded_records(
    text: str, gbdx: tuple[Any, list[Any]], sqlite: tuple[sa.Engine, sa.Table]
) -> None:
    schema, rows = gbdx
    node = cq.parse_filter(text)
    ours = cq.compile_predicate(node, schema)
    expected = {ident for ident, props, _ in rows if ours(props)}
    assert sql_select(sqlite, to_pygeofilter(node, schema)) == expected


def test_sql_corpus_is_most_of_the_corpus() -> None:
    assert len(SQL_CORPUS) >= 25


def test_sqlalchemy_like_folds_case_on_sqlite(
    gbdx: tuple[Any, list[Any]], sqlite: tuple[sa.Engine, sa.Table]
) -> None:
    schema, rows = gbdx
    lower = to_pygeofilter(cq.parse_filter("sensorPlatformName = worldview03*"), schema)
    upper = cq.compile_predicate(cq.parse_filter("sensorPlatformName = WORLDVIEW03*"), schema)
    ours = cq.compile_predicate(cq.parse_filter("sensorPlatformName = worldview03*"), schema)
    assert not any(ours(props) for _, props, _ in rows)
    folded = {ident for ident, props, _ in rows if upper(props)}
    assert len(folded) == 217
    assert sql_select(sqlite, lower) == folded  # the deviation
    assert sql_select(sqlite, lower, "PRAGMA case_sensitive_like = ON") == set()  # the remedy


def test_sqlalchemy_like_has_no_escape(
    gbdx: tuple[Any, list[Any]], sqlite: tuple[sa.Engine, sa.Table]
) -> None:
    schema, rows = gbdx
    node = cq.parse_filter("sensorPlatformName = WORLDVIEW03_*")
    ours = cq.compile_predicate(node, schema)
    assert sum(ours(props) for _, props, _ in rows) == 217
    built = to_pygeofilter(node, schema)
    assert "ESCAPE" not in str(to_filter(built, {"sensorPlatformName": sa.column("x")}))
    assert sql_select(sqlite, built) == set()  # \_ is a backslash and any character in SQLite
