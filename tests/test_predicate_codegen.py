"""The two predicate compilers - generated code and closures - select the same records.

``compile_predicate`` compiles filters up to ``MAX_GENERATED_DEPTH`` levels of AND/OR and
``MAX_GENERATED_LEAVES`` comparisons to generated Python source, and bigger ones to closures. The
closures are the plain reading of :mod:`catalogql.semantics`; the generated code inlines the
common cases. These tests hold the two to the same answer on every record, and check that the
generated source never contains anything taken from the filter.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Mapping
from typing import Any

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
    Or,
    TypeName,
    Wildcard,
    iter_nodes,
)
from catalogql.compile import predicate as compiler
from catalogql.compile.predicate import (
    MAX_GENERATED_DEPTH,
    MAX_GENERATED_LEAVES,
    _compile_closures,
    _compile_generated,
)
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

pytestmark = pytest.mark.filterwarnings("ignore::catalogql.QueryWarning")

EXAMPLES = settings(
    max_examples=scaled(300), deadline=None, suppress_health_check=[HealthCheck.too_slow]
)

# Names that filters and property dicts share: plain, dotted, and named like dates (compared as
# instants without a schema).
NAMES = (
    "a",
    "b",
    "a.b",
    "_acquisition.productLevel",
    "timestamp",
    "acquisitionDate",
    "startDate",
    "end_datetime",
    "cloudCover",
    "sensorPlatformName",
    "catalogID",
    "tags",
)
SHARED = st.sampled_from(NAMES)


def is_generated(predicate: Callable[..., Any]) -> bool:
    code = getattr(predicate, "__code__", None)
    return code is not None and code.co_filename == compiler._FILENAME


def assert_agree(node: Node, rows: list[dict[str, Any]], schema: Mapping[str, Any] | None) -> None:
    generated = _compile_generated(node, schema)
    closures = _compile_closures(node, schema)
    public = cq.compile_predicate(node, schema)
    few = cq.compile_predicate(node, schema, few=True)  # closures, for a handful of records
    assert is_generated(generated) and not is_generated(closures) and not is_generated(few)
    for row in rows:
        want = closures(row)
        assert type(want) is bool
        assert generated(row) is want, (cq.to_gbdx(node), row, generated.__doc__)
        assert public(row) is want
        assert few(row) is want


def schemas(rows: list[dict[str, Any]]) -> list[Mapping[str, Any] | None]:
    return [None, cq.infer_queryables([{"properties": row} for row in rows])]


# --------------------------------------------------------------------------------------------
# The law: generated code agrees with the closures, on any record


@EXAMPLES
@given(
    filter_nodes(SHARED | property_names(), max_leaves=10),
    st.lists(properties_dicts(SHARED, allow_nan=True), min_size=1, max_size=4),
)
def test_generated_code_agrees_with_closures(node: Node, rows: list[dict[str, Any]]) -> None:
    for schema in schemas(rows):
        assert_agree(node, [*rows, {}], schema)


def _near(leaf: Comparison | Match) -> list[Any]:
    """Values on either side of a comparison's literal, or that nearly match a pattern."""
    out: list[Any] = [None, True, False, 0, -0.0, math.nan, math.inf, -math.inf, 10**30, ""]
    if isinstance(leaf, Comparison):
        text = leaf.value.text
        out += [text, text + "\x00", text[:-1], text + "0", text.upper(), text.lower()]
        number = literal_number(leaf.value)
        if number is not None and abs(number) < 1e300:
            out += [number, number + 1, number - 1, float(number), int(number), str(number)]
        moment = instant_key(text)
        if moment is not None:
            out += [moment, moment + "Z", moment + "+01:00", moment + ".000000001Z"]
            out += [moment[:10], moment.replace("T", " ")]
    else:
        pieces = [part for part in leaf.pattern if isinstance(part, str)]
        for piece in pieces:
            after = piece[:-1] + chr(min(ord(piece[-1]) + 1, sys.maxunicode))
            before = piece[:-1] + chr(max(ord(piece[-1]) - 1, 0))
            out += [piece, after, before, piece[:-1], piece + "x", "x" + piece, piece + "\n"]
        joined = "".join(pieces)
        out += [joined, "x".join(pieces), "\n".join(pieces), joined + joined, "x" + joined + "x"]
        out += [int(joined)] if joined.isascii() and joined.isdigit() else []
    return out + [[value] for value in out[-3:]] + [{"a": out[-1]}]


@EXAMPLES
@given(filter_nodes(SHARED, max_leaves=6), st.data())
def test_generated_code_agrees_near_the_literals(node: Node, data: st.DataObject) -> None:
    leaves = [leaf for leaf in iter_nodes(node) if isinstance(leaf, Comparison | Match)]
    by_name: dict[str, list[Any]] = {}
    for leaf in leaves:
        by_name.setdefault(leaf.property, []).extend(_near(leaf))
    values = {
        name: st.sampled_from(near) | json_values(allow_nan=True) for name, near in by_name.items()
    }
    row_strategy = st.fixed_dictionaries({}, optional=values)
    rows = data.draw(st.lists(row_strategy, min_size=1, max_size=6))
    for schema in schemas(rows):
        assert_agree(node, rows, schema)


@EXAMPLES
@given(
    filter_nodes(st.sampled_from(GBDX_PROPERTIES), max_leaves=8), st.lists(records(), max_size=3)
)
def test_generated_code_agrees_on_gbdx_shaped_records(
    node: Node, generated_records: list[dict[str, Any]]
) -> None:
    rows = [record["properties"] for record in generated_records]
    for schema in schemas(rows):
        assert_agree(node, [*rows, {}], schema)


# --------------------------------------------------------------------------------------------
# The real records

REAL_FILTERS = [
    "sensorPlatformName = WORLDVIEW03* AND cloudCover < 20 AND offNadirAngle < 10",
    "(sensorPlatformName = WORLDVIEW02 OR sensorPlatformName = WORLDVIEW03*) AND cloudCover < 50"
    " AND offNadirAngle < 30 AND sunElevation > 20 AND timestamp >= '2010-01-01T00:00:00.000Z'",
    "NOT (cloudCover < 20 OR offNadirAngle > 10)",
    "offNadirAngle <> 10.5 OR NOT sunElevation >= 30",
    "sensorPlatformName <> WORLDVIEW0*",
    "NOT sensorPlatformName = *03_*",
    "sensorPlatformName = *_VNIR OR sensorPlatformName = W*R",
    "catalogID = 1050010* OR catalogID = 10*00",
    "catalogID = 1030010045539700 OR catalogID > 1040000000000000",
    "cloudCover = '0' OR cloudCover = abc OR cloudCover <> abc",
    "path = 44 AND row < 40",
    "NOT bearing > 100 OR multiResolution <> 2",
    "stereoPair = x OR NOT stereoPair = x",
    "timestamp < 2012-01-01 OR NOT timestamp >= '2016-01-01T00:00:00.000Z'",
    "acquisitionDate >= 2017-01-01 OR timestamp = 2015*",
    "vendor = DigitalGlobe AND platformName = WORLDVIEW* AND imageBands = PAN_*MS*",
    "sensorPlatformName LIKE 'WORLDVIEW0_'",
]


@pytest.mark.parametrize("text", REAL_FILTERS)
def test_generated_code_agrees_on_the_real_records(
    text: str, gbdx_records: Mapping[str, dict[str, Any]]
) -> None:
    rows = [record["properties"] for record in gbdx_records.values()]
    node = cq.parse_filter(text)
    schema = cq.infer_queryables(gbdx_records.values())
    for with_schema in (None, schema):
        assert_agree(node, rows, with_schema)


def test_the_typical_filter_selects_what_it_always_did(
    gbdx_records: Mapping[str, dict[str, Any]],
) -> None:
    keep = cq.compile_predicate(cq.parse_filter(REAL_FILTERS[0]))
    assert is_generated(keep)
    selected = [r for r in gbdx_records.values() if keep(r["properties"])]
    assert len(selected) == 14
    for record in selected:
        props = record["properties"]
        assert props["sensorPlatformName"].startswith("WORLDVIEW03")
        assert props["cloudCover"] < 20 and props["offNadirAngle"] < 10


# --------------------------------------------------------------------------------------------
# Hand-picked values: one fact per line

WILDCARD_CASES = [
    # pattern, value, the comparison's value (None: unknown)
    (("WV", Wildcard.ANY), "WV", True),
    (("WV", Wildcard.ANY), "WV02", True),
    (("WV", Wildcard.ANY), "WW", False),
    (("WV", Wildcard.ANY), "WU\U0010ffff", False),
    (("WV", Wildcard.ANY), "W", False),
    (("WV", Wildcard.ANY), "", False),
    (("WV", Wildcard.ANY), "WV\n", True),
    (("WV", Wildcard.ANY), ["WV1", "WV2"], True),  # every element: for the negated match too
    (("WV", Wildcard.ANY), 12, False),
    (("12", Wildcard.ANY), 123, True),
    (("12", Wildcard.ANY), 12.5, True),
    (("tr", Wildcard.ANY), True, True),
    (("a\U0010ffff", Wildcard.ANY), "a\U0010ffffb", True),
    (("a\U0010ffff", Wildcard.ANY), "b", False),
    (("\ud800", Wildcard.ANY), "\ud800x", True),
    (("\ud800", Wildcard.ANY), "\ud801", False),
    ((Wildcard.ANY, "_VNIR"), "WV03_VNIR", True),
    ((Wildcard.ANY, "_VNIR"), "_VNIRx", False),
    ((Wildcard.ANY, "03", Wildcard.ANY), "WV03_VNIR", True),
    ((Wildcard.ANY, "03", Wildcard.ANY), "0", False),
    (("ab", Wildcard.ANY, "ba"), "aba", False),
    (("ab", Wildcard.ANY, "ba"), "abba", True),
    (("ab", Wildcard.ANY, "ba"), "ab\nba", True),
    ((Wildcard.ANY,), "", True),
    ((Wildcard.ANY,), "anything\n", True),
    ((Wildcard.ANY,), None, None),
    ((Wildcard.ANY,), {"a": 1}, None),
    (("a", Wildcard.ONE, "c", Wildcard.ANY), "abcd", True),
    (("a", Wildcard.ONE, "c", Wildcard.ANY), "ac", False),
]


@pytest.mark.parametrize(("pattern", "value", "result"), WILDCARD_CASES)
@pytest.mark.parametrize("negated", [False, True])
def test_wildcards(
    pattern: tuple[Any, ...], value: Any, result: bool | None, negated: bool
) -> None:
    node = Match("p", pattern, negated)
    comparison = None if result is None else result != negated
    for compile_ in (_compile_generated, _compile_closures):
        assert compile_(node)({"p": value}) is (comparison is True)
        assert compile_(Not(node))({"p": value}) is (comparison is False)


COMPARISON_CASES = [
    # filter, value, the comparison's value (None: unknown)
    ("x < 20", 19, True),
    ("x < 20", 19.999, True),
    ("x < 20", 20, False),
    ("x < 20", math.nan, False),
    ("x <> 20", math.nan, True),
    ("x = 20", math.nan, False),
    ("x < 20", True, None),
    ("x = 1", True, None),
    ("x < 20", "19", True),  # text comparison
    ("x < 20", "3", False),
    ("x = 9007199254740993", 9007199254740993, True),
    ("x = 9007199254740993", 9007199254740992.0, False),
    ("x < 1e400", 10**400, True),
    ("x > -1e400", -math.inf, False),
    ("x = 1050010018826700", "1050010018826700", True),
    ("x = abc", 5, None),
    ("x <> abc", 5, None),
    ("x = abc", "abc", True),
    ("x >= abc", "abd", True),
    ("x = true", True, True),
    ("x = 'FALSE'", False, True),
    ("x < true", True, None),
    ("x = 1", [0, 1], True),
    ("x = 1", [0, None], None),
    ("x = 1", [0, 2], False),
    ("x = 1", [], False),
    ("x = 1", {"x": 1}, None),
    ("x = 1", None, None),
    ("timestamp < 2016-01-01", "2015-12-31T23:59:59.999Z", True),
    ("timestamp < 2016-01-01", "2016-01-01T01:00:00+02:00", True),
    ("timestamp = 2016-01-01", "2016-01-01T00:00:00.000Z", True),
    ("timestamp < 2016-01-01", "yesterday", None),
    ("timestamp < 2016", "2015-01-01", None),
    ("timestamp < 2016", 2015, True),
    ("timestamp = x", "x", None),
    ("a.b = 1", {"b": 1}, True),
]


@pytest.mark.parametrize(("text", "value", "result"), COMPARISON_CASES)
def test_comparisons(text: str, value: Any, result: bool | None) -> None:
    node = cq.parse_filter(text)
    name = next(leaf.property for leaf in iter_nodes(node) if isinstance(leaf, Comparison))
    props = {"a": value} if name == "a.b" else {name: value}
    for compile_ in (_compile_generated, _compile_closures):
        assert compile_(node)(props) is (result is True), compile_
        assert compile_(Not(node))(props) is (result is False), compile_


LITERALS = [
    Literal("20", LiteralKind.NUMBER),
    Literal("-0.5", LiteralKind.NUMBER),
    Literal("1e400", LiteralKind.NUMBER),
    Literal("1050010018826700", LiteralKind.NUMBER),
    Literal("15.0", LiteralKind.QUOTED),
    Literal("WORLDVIEW02", LiteralKind.BARE),
    Literal("", LiteralKind.QUOTED),
    Literal("true", LiteralKind.BARE),
    Literal("2016-01-01T00:00:00.000Z", LiteralKind.QUOTED),
    Literal("2016-01-01", LiteralKind.BARE),
]


@pytest.mark.parametrize("name", ["x", "timestamp"])
@pytest.mark.parametrize("op", list(Op))
@pytest.mark.parametrize("literal", LITERALS, ids=lambda literal: literal.text)
def test_every_operator_agrees_near_its_literal(name: str, op: Op, literal: Literal) -> None:
    node = Comparison(name, op, literal)
    rows = [{name: value} for value in _near(node)]
    schema = {"properties": {name: {"type": "string"}}}
    for with_schema in (None, *schemas(rows), schema):
        assert_agree(node, rows, with_schema)
        assert_agree(Not(node), rows, with_schema)


def test_a_property_read_once_serves_the_later_comparisons() -> None:
    keep = cq.compile_predicate(cq.parse_filter("s = A OR s = B* OR NOT (s = C AND t = 1)"))
    assert keep.__doc__ is not None and keep.__doc__.count("p.get(") == 2
    assert keep({"s": "A"}) and keep({"s": "Bx"}) and keep({"s": "D"}) and keep({"s": "C", "t": 2})
    assert not keep({"s": "C", "t": 1}) and not keep({"t": 1}) and not keep({"s": "C"})


# --------------------------------------------------------------------------------------------
# Nothing from the filter ever reaches the source

HOSTILE = [
    "a'); import os; ('",
    'a"); import os; ("',
    "a'''\nimport os\n'''",
    "__import__('os').system('echo pwned')",
    "p.get",
    "_k0",
    "\\",
    "x\ny",
    "é\U0001f6f0\ud800",
    "1e400",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_property_names_and_literals_are_inert(text: str) -> None:
    literal = Literal(text, LiteralKind.QUOTED)
    node = Or(
        (
            Comparison(text, Op.EQ, literal),
            Comparison(text, Op.LT, literal),
            Match(text, (text, Wildcard.ANY, text), negated=True),
            Match(text, (Wildcard.ANY, text)),
            Not(Comparison("timestamp", Op.GE, literal)),
        )
    )
    keep = _compile_generated(node)
    source = keep.__doc__
    assert source is not None and compiler._SOURCE_RE.fullmatch(source)
    assert not compiler._NUMBER_IN_SOURCE_RE.search(source)
    assert "'" not in source and '"' not in source and "import" not in source
    assert keep({text: text}) is True
    assert keep({text: None, "timestamp": text}) is False  # unknown, and NOT unknown
    assert keep({}) is False
    assert keep({text: text + text}) is True  # it ends with the text
    assert keep({"timestamp": "2000-01-01"}) is False  # unknown
    for value in (text, text + text, [text], None, 5):
        assert keep({text: value}) is _compile_closures(node)({text: value})


def test_filters_of_the_same_shape_share_compiled_code() -> None:
    a = _compile_generated(cq.parse_filter("cloudCover < 20 AND s = WV*"))
    hits = compiler._code.cache_info().hits
    b = _compile_generated(cq.parse_filter("offNadirAngle < 3.5 AND x = its*"))
    assert compiler._code.cache_info().hits == hits + 1
    assert a.__code__.co_code == b.__code__.co_code
    assert a.__code__ is not b.__code__  # each specializes for its own constants
    assert a({"cloudCover": 5, "s": "WV2"}) and not b({"cloudCover": 5, "s": "WV2"})
    assert b({"offNadirAngle": 3, "x": "itself"}) and not a({"offNadirAngle": 3, "x": "itself"})


# --------------------------------------------------------------------------------------------
# Which compiler, caching, errors


def _alternating(levels: int) -> Node:
    """``levels`` levels of alternating AND/OR, each a comparison and the next level."""

    def leaf(i: int) -> Comparison:
        return Comparison(f"x{i}", Op.EQ, Literal(str(i), LiteralKind.NUMBER))

    node: Node = leaf(levels + 1)
    for level in range(levels, 0, -1):
        node = And((leaf(level), node)) if level % 2 else Or((leaf(level), node))
    return node


@pytest.mark.parametrize(
    ("levels", "generated"), [(MAX_GENERATED_DEPTH, True), (MAX_GENERATED_DEPTH + 1, False)]
)
def test_deep_trees_compile_to_closures(levels: int, generated: bool) -> None:
    node = _alternating(levels)
    everything = {f"x{i}": i for i in range(1, levels + 2)}
    for tree in (node, Not(node)):
        keep = cq.compile_predicate(tree)
        assert is_generated(keep) is generated
        reference = _compile_closures(tree)
        for props in (everything, {}, {"x1": 1}, {"x1": 1, "x2": 0}, {"x1": 0, "x2": 2}):
            assert keep(props) is reference(props)
        assert keep(everything) is (tree is node)
    if not generated:
        with pytest.raises(cq.QueryLimitError):
            _compile_generated(node)


@pytest.mark.parametrize(
    ("leaves", "generated"), [(MAX_GENERATED_LEAVES, True), (MAX_GENERATED_LEAVES + 1, False)]
)
def test_wide_trees_compile_to_closures(leaves: int, generated: bool) -> None:
    node = cq.parse_filter(" OR ".join(f"p{i} = {i}" for i in range(leaves)))
    keep = cq.compile_predicate(node)
    assert is_generated(keep) is generated
    assert keep({f"p{leaves - 1}": leaves - 1}) is True
    assert keep({f"p{leaves - 1}": "x"}) is False
    assert cq.compile_predicate(Not(node))({"p0": 1}) is False  # p1 ... are unknown


def test_long_not_chains_compile_to_generated_code() -> None:
    node = cq.parse_filter("NOT " * 199 + "a = 1")
    keep = cq.compile_predicate(node)
    assert is_generated(keep)
    assert keep({"a": 2}) is True and keep({"a": 1}) is False and keep({}) is False


def test_equal_filters_share_a_compiled_predicate() -> None:
    text = "cloudCover < 20 AND sensorPlatformName = WORLDVIEW03*"
    first = cq.compile_predicate(cq.parse_filter(text))
    assert cq.compile_predicate(cq.parse_filter(text)) is first
    schema = {"properties": {"cloudCover": {"type": "integer"}}}
    typed = cq.compile_predicate(cq.parse_filter(text), schema)
    assert typed is not first
    assert cq.compile_predicate(cq.parse_filter(text), dict(schema)) is typed
    assert first({"cloudCover": "1", "sensorPlatformName": "WORLDVIEW03"}) is True
    assert typed({"cloudCover": "1", "sensorPlatformName": "WORLDVIEW03"}) is False


def test_schemas_with_unhashable_enums_compile() -> None:
    schema = {"properties": {"x": {"type": "string", "enum": [["a"], {"b": 1}]}}}
    keep = cq.compile_predicate(cq.parse_filter("x = a"), schema)
    assert is_generated(keep) and keep({"x": "a"}) and not keep({"x": 1})


def compile_few(node: Any, schema: Mapping[str, Any] | None = None) -> Any:
    return cq.compile_predicate(node, schema, few=True)


def test_errors_are_the_same_on_both_paths() -> None:
    stray = And((Comparison("a", Op.EQ, Literal("1", LiteralKind.NUMBER)), TypeName("WV02")))
    for not_a_tree in ({"a": 1}, ["a = 1"]):  # unhashable: never a cache's key
        for compile_ in (cq.compile_predicate, compile_few):
            with pytest.raises(cq.QueryError) as info:
                compile_(not_a_tree)
            assert info.value.code == "compile.not-a-filter"
    for compile_ in (cq.compile_predicate, compile_few, _compile_generated, _compile_closures):
        with pytest.raises(cq.QueryError) as info:
            compile_(stray)
        assert info.value.code == "compile.not-a-filter"
        with pytest.raises(cq.QueryError) as info:
            compile_(stray, {"properties": {"a": "x"}})  # the schema is checked first
        assert info.value.code == "schema.invalid"
    too_deep = cq.parse_filter("NOT " * 401 + "a = 1", limits=cq.Limits(max_depth=500))
    for compile_ in (cq.compile_predicate, compile_few, _compile_generated, _compile_closures):
        with pytest.raises(cq.QueryLimitError) as limit:
            compile_(too_deep)
        assert limit.value.limit == "depth"


# --------------------------------------------------------------------------------------------
# Fast paths: numbers compare with the literal as their own type; values are code constants

EDGE_LITERALS = [
    "20",
    "20.0",
    "-0",
    "-0.0",
    "0.1",
    "1e20",
    "100000000000000000001",
    "9007199254740992",
    "9007199254740993",  # 2**53 + 1: no float equals it
    "-9007199254740993",
    "1e400",
    "-1e400",
    "1" + "0" * 309,  # an int past the float range
]

EDGE_VALUES: list[Any] = [
    True,
    False,
    0,
    -0.0,
    0.0,
    20,
    20.0,
    19.999999999999996,
    2**53,
    2**53 + 1,
    float(2**53),
    -(2**53) - 1,
    -float(2**53),
    1e20,
    10**20,
    10**20 + 1,
    10**309,
    0.1,
    math.nan,
    math.inf,
    -math.inf,
    "20",
    "9007199254740993",
    "",
    [2**53 + 1],
    [True, 20],
    [],
    {"x": 1},
    None,
]


@pytest.mark.parametrize("text", EDGE_LITERALS)
def test_numbers_compare_with_the_literal_as_their_own_type(text: str) -> None:
    rows = [{"x": value} for value in EDGE_VALUES] + [{}]
    number_schema = {"properties": {"x": {"type": "number"}}}
    for op in Op:
        node = Comparison("x", op, Literal(text, LiteralKind.NUMBER))
        for schema in (None, number_schema):
            assert_agree(node, rows, schema)
            assert_agree(Not(node), rows, schema)


def test_each_number_type_has_its_own_exact_literal() -> None:
    def numbers(text: str) -> list[tuple[type, object]]:
        keep = _compile_generated(cq.parse_filter(text))
        return [(type(c), c) for c in keep.__code__.co_consts if type(c) in (int, float)]

    assert numbers("x < 20") == [(int, 20), (float, 20.0)]
    assert numbers("x < 20.0") == [(int, 20), (float, 20.0)]
    assert numbers("x < 0.5") == [(float, 0.5), (float, 0.5)]
    assert numbers("x < 9007199254740993") == [(int, 2**53 + 1), (int, 2**53 + 1)]
    keep = _compile_generated(cq.parse_filter("x < 9007199254740993"))
    assert keep({"x": float(2**53)}) is True  # 2**53 as a float would say False
    assert keep({"x": True}) is False and keep({"x": 1}) is True  # a bool is not a number
    negated = _compile_generated(cq.parse_filter("NOT x >= 20"))
    assert negated({"x": False}) is False and negated({"x": 19.5}) is True
    assert (
        negated({"x": math.nan})
        is True
        is _compile_closures(Not(cq.parse_filter("x >= 20")))({"x": math.nan})
    )


def test_values_are_constants_of_the_code_and_functions_globals() -> None:
    text = "s = A* AND x < 20 AND y = *b* AND t <= 2016-01-01 AND u = a*b"
    odd = Match("w", ("[", Wildcard.ONE, "]", Wildcard.ANY))  # a pattern's own matcher
    keep = _compile_generated(And((cq.parse_filter(text), odd)))
    consts = keep.__code__.co_consts
    assert not any(type(c) is tuple for c in consts)  # no placeholder left
    assert {"s", "A", "x", 20, "y", "b", "t", "u", "w"} <= set(consts)
    assert not any(callable(c) for c in consts)
    assert keep.__doc__ is not None and "_c0" in keep.__doc__
    assert "(None," not in keep.__doc__  # the readable source; placeholders are compiled
    row = {"s": "AB", "x": 3, "y": "abc", "t": "2015-06-01", "u": "a-b", "w": "[a]x"}
    assert keep(row) is True
    assert keep({**row, "w": "q"}) is False and keep({**row, "u": "ab-"}) is False


@pytest.mark.parametrize("index", [0, 1, 2, 3, 8, 9, 26, 27, 1000, 3**12])
def test_placeholders_stand_for_one_index_each(index: int) -> None:
    placeholder = compiler._placeholder(index)
    assert compiler._placeholder_index(placeholder) == index
    assert set(placeholder) <= {None, True, False}
    assert placeholder[0] is not None or len(placeholder) == 1
    assert compiler._placeholder(index + 1) != placeholder
