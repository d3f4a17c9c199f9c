"""Hypothesis properties of the query language, each test named after the law it checks.

The generators are the public ones of :mod:`catalogql.testing.strategies`; the reference evaluator
at the bottom is written independently of :mod:`catalogql.compile.predicate` (plain Kleene logic, no
NOT push-down) so that the two can be compared.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Callable, Mapping
from typing import Any

import pytest
import shapely.wkt
from hypothesis import HealthCheck, example, given, settings
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
from catalogql.queryables import property_type
from catalogql.semantics import match_comparator, parse_instant, scalar_comparator
from catalogql.testing.strategies import (
    GBDX_PROPERTIES,
    NOISE_TOKENS,
    filter_nodes,
    filter_texts,
    mutated_texts,
    properties_dicts,
    property_names,
    records,
    spellings,
    type_nodes,
    type_texts,
)
from property_settings import scaled

# The LIKE form (printed for patterns with LIKE's '_') and commas parse with a QueryWarning.
pytestmark = pytest.mark.filterwarnings("ignore::catalogql.QueryWarning")


def examples(n: int) -> settings:
    """Settings for ``n`` examples (times SCALE), with no deadline: CI machines are slow."""
    return settings(
        max_examples=scaled(n),
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )


SOME = examples(200)

LONG = cq.Limits(max_length=10**6)

# Property names for filters over records: the GBDX ones (most of the time) and any others.
RECORD_PROPERTIES = st.sampled_from(GBDX_PROPERTIES) | property_names()
# Names shared by generated filters and property dicts, so that filters meet values.
SHARED_NAMES = st.sampled_from(("a", "b", "x", "a.b", "_acquisition", *GBDX_PROPERTIES))


# --------------------------------------------------------------------------------------------
# Printing and parsing


@SOME
@given(filter_nodes())
def test_print_then_parse_is_identity(node: Node) -> None:
    text = cq.to_gbdx(node)
    assert cq.parse_filter(text) == node
    assert cq.to_gbdx(cq.parse_filter(text)) == text


@SOME
@given(type_nodes())
def test_print_then_parse_is_identity_for_types(texpr: Node) -> None:
    text = cq.to_gbdx(texpr)
    assert cq.parse_types(text) == texpr
    assert cq.to_gbdx(cq.parse_types(text)) == text


NUMBER = LiteralKind.NUMBER


@pytest.mark.parametrize(
    "node",
    [
        Comparison("catalogID", Op.EQ, Literal("1050010018826700", NUMBER)),
        Comparison("catalogID", Op.EQ, Literal("1234567890123456789012345678", NUMBER)),
        Comparison("a", Op.NE, Literal("x*y\\", LiteralKind.BARE)),
        Comparison("a", Op.EQ, Literal('it\'s "*" \\*', LiteralKind.QUOTED)),
        Comparison("a", Op.EQ, Literal("AND", LiteralKind.QUOTED)),
        Comparison("a", Op.EQ, Literal("", LiteralKind.QUOTED)),
        Comparison("NOT.x", Op.LT, Literal("-.5E+3", NUMBER)),
        Match("a", ("x\\", Wildcard.ANY, "'", Wildcard.ONE, "%_")),
        Match("a", (Wildcard.ANY, "AND"), negated=True),
        Not(
            Not(Or((Comparison("x", Op.GE, Literal("1", NUMBER)), Match("y", ("1", Wildcard.ANY)))))
        ),
    ],
    ids=repr,
)
def test_print_then_parse_is_identity_on_hand_picked_nodes(node: Node) -> None:
    assert cq.parse_filter(cq.to_gbdx(node)) == node


@pytest.mark.parametrize("text", ["\u0661\u0662", "\uff11", "1\u0662.5"])
def test_print_then_parse_is_identity_for_non_ascii_digits(text: str) -> None:
    """A NUMBER literal is ASCII: other scripts' digits are refused, or they would not reparse."""
    try:
        node = Comparison("a", Op.EQ, Literal(text, NUMBER))
    except ValueError:
        return
    assert cq.parse_filter(cq.to_gbdx(node)) == node


@SOME
@given(filter_texts())
def test_texts_parse(text: str) -> None:
    node = cq.parse_filter(text)
    assert cq.parse_filter(cq.to_gbdx(node)) == node


@SOME
@given(type_texts())
def test_type_texts_parse(text: str) -> None:
    texpr = cq.parse_types(text)
    assert cq.parse_types(cq.to_gbdx(texpr)) == texpr


@SOME
@given(st.data())
def test_every_spelling_parses_to_its_node(data: st.DataObject) -> None:
    node = data.draw(filter_nodes())
    assert cq.parse_filter(data.draw(spellings(node))) == node
    texpr = data.draw(type_nodes())
    assert cq.parse_types(data.draw(spellings(texpr))) == texpr


@SOME
@given(filter_texts(compat=False))
def test_strict_texts_parse_without_warnings(text: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        node = cq.parse_filter(text, dialect="strict")
    # only lint findings (about meaning, such as timestamp = '', not about the dialect) may remain
    assert [
        d.code for d in cq.check(text, dialect="strict") if not d.code.startswith("lint.")
    ] == []
    assert cq.parse_filter(cq.to_gbdx(node), dialect="strict") == node


# --------------------------------------------------------------------------------------------
# Bad input


_TOKENS = NOISE_TOKENS  # the words and symbols of broken filters, as the strategies use them
_SPACES = ("", " ", " ", "\n", "\t")

token_soup = st.lists(
    st.tuples(st.sampled_from(_TOKENS) | st.text(max_size=2), st.sampled_from(_SPACES)),
    max_size=12,
).map(lambda pairs: "".join(token + space for token, space in pairs))

NOISE = {
    "text": st.text(),
    "tokens": token_soup,
    "mutated-filters": mutated_texts(filter_texts(max_leaves=4)),
    "mutated-types": mutated_texts(type_texts(max_leaves=4)),
}


def _parses(parse: Callable[[], Node]) -> Node | None:
    """The node, or None when the text is refused with a QueryError (any other error escapes)."""
    try:
        return parse()
    except cq.QueryError:
        return None


def _only_query_errors(text: str) -> None:
    """Parse and check ``text`` every way; refusals must be QueryErrors, successes consistent."""
    node = _parses(lambda: cq.parse_filter(text))
    _parses(lambda: cq.parse_filter(text, dialect="strict"))
    texpr = _parses(lambda: cq.parse_types(text))
    for kind in ("filter", "types"):
        diagnostics = cq.check(text, kind=kind)  # type: ignore[arg-type]
        assert all(isinstance(d, cq.Diagnostic) for d in diagnostics)
        has_error = any(d.severity == "error" for d in diagnostics)
        assert has_error == ((node if kind == "filter" else texpr) is None)
    # Whatever parses prints back to itself, and selects nothing from an empty record.
    if node is not None:
        assert cq.parse_filter(cq.to_gbdx(node)) == node
        assert cq.compile_predicate(node)({}) is False
    if texpr is not None:
        assert cq.parse_types(cq.to_gbdx(texpr)) == texpr


@pytest.mark.parametrize(
    ("source", "count"),
    [("text", 2000), ("tokens", 1500), ("mutated-filters", 1000), ("mutated-types", 1000)],
)
def test_any_string_raises_only_query_error(source: str, count: int) -> None:
    @examples(count)
    @given(NOISE[source])
    def check(text: str) -> None:
        _only_query_errors(text)

    check()


@pytest.mark.parametrize("text", ["LIKE", "WV02 AND LIKE", "NOT LIKE"])
def test_any_string_raises_only_query_error_on_hand_picked_types(text: str) -> None:
    _only_query_errors(text)


@examples(200)
@given(st.one_of(st.none(), st.integers(), st.binary(), st.lists(st.text())))
def test_non_strings_raise_only_query_error(value: Any) -> None:
    with pytest.raises(cq.QueryError):
        cq.parse_filter(value)
    with pytest.raises(cq.QueryError):
        cq.parse_types(value)
    assert [d.severity for d in cq.check(value)] == ["error"]


# --------------------------------------------------------------------------------------------
# Predicates


@SOME
@given(
    filter_nodes(SHARED_NAMES | property_names()),
    st.lists(properties_dicts(SHARED_NAMES, allow_nan=True), min_size=1, max_size=4),
    type_nodes(),
    st.lists(st.text(max_size=5) | st.sampled_from(["WV02", "*", ""])),
)
def test_predicates_never_raise(
    node: Node, samples: list[dict[str, Any]], texpr: Node, type_list: list[str]
) -> None:
    schema = cq.infer_queryables([{"properties": sample} for sample in samples])
    for with_schema in (None, schema):
        keep = cq.compile_predicate(node, with_schema)
        for sample in [*samples, {}]:
            assert type(keep(sample)) is bool
    assert type(cq.compile_types(texpr)(type_list)) is bool


@SOME
@given(filter_nodes(RECORD_PROPERTIES), records())
def test_predicates_never_raise_on_records(node: Node, record: dict[str, Any]) -> None:
    schema = cq.infer_queryables([record])
    for with_schema in (None, schema):
        assert type(cq.compile_predicate(node, with_schema)(record["properties"])) is bool


# The properties of GBDX records, or arbitrary property dicts.
PROPERTIES = records().map(lambda record: record["properties"]) | properties_dicts(SHARED_NAMES)


@SOME
@given(filter_nodes(RECORD_PROPERTIES), PROPERTIES)
def test_not_is_three_valued(node: Node, properties: dict[str, Any]) -> None:
    selected = cq.compile_predicate(node)(properties)
    rejected = cq.compile_predicate(Not(node))(properties)
    assert not (selected and rejected)
    # With every property it compares missing or null, a filter and its NOT are both false.
    names = {leaf.property for leaf in iter_nodes(node) if isinstance(leaf, Comparison | Match)}
    for unknown in ({}, dict.fromkeys(names)):
        assert cq.compile_predicate(node)(unknown) is False
        assert cq.compile_predicate(Not(node))(unknown) is False


# --- the reference evaluator: Kleene logic over per-leaf truth values

Tri = bool | None


def _lookup(properties: Mapping[str, Any], name: str) -> Any:
    """A property as SPEC section 4 reads it: the key itself, else a path through objects."""
    if name in properties:
        return properties[name]
    value: Any = properties
    for key in name.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def _leaf_truth(leaf: Comparison | Match, properties: Mapping[str, Any], schema: Any) -> Tri:
    declared = property_type(schema, leaf.property)
    compare: Callable[[Any], Tri]
    if isinstance(leaf, Comparison):
        compare = scalar_comparator(leaf.property, leaf.op, leaf.value, declared)
    else:
        matches = match_comparator(leaf.pattern, declared)
        negated = leaf.negated

        def compare(value: Any) -> Tri:
            result = matches(value)
            return None if result is None else result != negated

    value = _lookup(properties, leaf.property)
    if value is None:
        return None
    if isinstance(value, list):  # list-any, in Kleene logic: true, else unknown, else false
        truths = [compare(item) for item in value]
        if any(t is True for t in truths):
            return True
        return None if any(t is None for t in truths) else False
    return compare(value)


def _kleene(node: Node, properties: Mapping[str, Any], schema: Any) -> Tri:
    if isinstance(node, Not):
        inner = _kleene(node.item, properties, schema)
        return None if inner is None else not inner
    if isinstance(node, And | Or):
        values = [_kleene(item, properties, schema) for item in node.items]
        dominant = isinstance(node, Or)  # True decides an OR, False decides an AND
        if any(v is dominant for v in values):
            return dominant
        return None if any(v is None for v in values) else not dominant
    assert isinstance(node, Comparison | Match)
    return _leaf_truth(node, properties, schema)


@examples(400)
@given(filter_nodes(RECORD_PROPERTIES, max_leaves=10), st.lists(PROPERTIES, min_size=1, max_size=3))
def test_predicate_agrees_with_kleene_reference(node: Node, rows: list[dict[str, Any]]) -> None:
    schema = cq.infer_queryables([{"properties": row} for row in rows])
    for with_schema in (None, schema):
        keep = cq.compile_predicate(node, with_schema)
        for row in rows:
            assert keep(row) is (_kleene(node, row, with_schema) is True)


@SOME
@given(records(types=["DigitalGlobeProduct", "1BProduct"]))
def test_records_are_gbdx_shaped(record: dict[str, Any]) -> None:
    assert set(record) == {"identifier", "type", "properties"}
    assert isinstance(record["identifier"], str) and record["identifier"]
    assert record["type"][0] == "GBDXCatalogRecord"
    assert len(set(record["type"])) == len(record["type"])
    properties = record["properties"]
    footprint = shapely.wkt.loads(properties["footprintWkt"])
    assert footprint.geom_type == "MultiPolygon" and footprint.is_valid
    assert properties["timestamp"] is None or parse_instant(properties["timestamp"]) is not None
    assert properties.get("cloudCover") is None or 0 <= properties["cloudCover"] <= 100
    assert isinstance(properties["catalogID"], str)
    if "IDAHOImage" not in record["type"]:
        assert record["identifier"] == properties["catalogID"]
    if properties["timestamp"] is not None:
        schema = cq.infer_queryables([record])
        assert schema["properties"]["timestamp"] == {"type": "string", "format": "date-time"}


# --------------------------------------------------------------------------------------------
# Limits


def _chain(word: str, n: int) -> str:
    return f" {word} ".join(f"p{i} = {i}" for i in range(n))


@pytest.mark.parametrize("word", ["AND", "OR"])
def test_long_chains(word: str) -> None:
    text = _chain(word, 10_000)
    assert len(text) > 64 * 1024
    node = cq.parse_filter(text, limits=LONG)
    assert isinstance(node, And if word == "AND" else Or)
    assert len(node.items) == 10_000
    assert cq.to_gbdx(node) == text
    everything = {f"p{i}": i for i in range(10_000)}
    one = {"p9999": 9999}
    keep, reject = cq.compile_predicate(node), cq.compile_predicate(Not(node))
    assert keep(everything) is True and reject(everything) is False
    assert keep(one) is (word == "OR")
    assert keep({}) is False and reject({}) is False
    with pytest.raises(cq.QueryLimitError) as info:
        cq.parse_filter(_chain(word, 10_001), limits=LONG)
    assert info.value.limit == "comparisons"
    # The same chains of type names.
    types_text = f" {word} ".join(f"T{i}" for i in range(10_000))
    holds = cq.compile_types(cq.parse_types(types_text, limits=LONG))
    assert holds(["T9999"]) is (word == "OR")


def test_long_mixed_chain() -> None:
    text = " OR ".join(f"a{i} = {i} AND NOT b{i} = x" for i in range(5_000))
    node = cq.parse_filter(text, limits=LONG)
    assert isinstance(node, Or) and len(node.items) == 5_000
    assert cq.compile_predicate(node)({"a4999": 4999, "b4999": "y"}) is True
    assert cq.compile_predicate(node)({"a4999": 4999}) is False


def _nested(shape: str, depth: int) -> str:
    """``depth`` levels of nesting: parentheses, NOTs, or alternating AND/OR groups."""
    if shape == "parens":
        return "(" * depth + "a = 1" + ")" * depth
    if shape == "nots":
        return "NOT " * depth + "a = 1"
    text = f"x{depth} = {depth}"
    for level in range(depth - 1, 0, -1):
        text = f"x{level} = {level} {'AND' if level % 2 else 'OR'} ({text})"
    return text


def _nested_types(shape: str, depth: int) -> str:
    if shape == "parens":
        return "(" * depth + "WV02" + ")" * depth
    if shape == "nots":
        return "NOT " * depth + "WV02"
    text = f"T{depth}"
    for level in range(depth - 1, 0, -1):
        text = f"T{level} {'AND' if level % 2 else 'OR'} ({text})"
    return text


SHAPES = ["parens", "nots", "alternating"]


@pytest.mark.parametrize("shape", SHAPES)
def test_depth_limit(shape: str) -> None:
    for text, parse in [
        (_nested(shape, 300), cq.parse_filter),
        (_nested_types(shape, 300), cq.parse_types),
    ]:
        with pytest.raises(cq.QueryLimitError) as info:
            parse(text)  # type: ignore[operator]
        assert info.value.limit == "depth"
    assert [d.code for d in cq.check(_nested(shape, 300))] == ["limit.depth"]
    assert [d.code for d in cq.check(_nested_types(shape, 300), kind="types")] == ["limit.depth"]

    node = cq.parse_filter(_nested(shape, 200))
    assert cq.parse_filter(cq.to_gbdx(node)) == node
    assert cq.compile_predicate(node)({}) is False
    assert cq.compile_predicate(Not(node))({}) is False
    texpr = cq.parse_types(_nested_types(shape, 200))
    assert cq.parse_types(cq.to_gbdx(texpr)) == texpr
    assert type(cq.compile_types(texpr)(["WV02"])) is bool


@pytest.mark.parametrize("shape", SHAPES)
def test_depth_limit_at_the_longest_input(shape: str) -> None:
    """As deep as 64 KiB allows: a QueryError naming the depth, never a RecursionError."""
    depth = 64 * 1024 // {"parens": 2, "nots": 4, "alternating": 20}[shape] - 10
    text = _nested(shape, depth)
    assert len(text) <= 64 * 1024
    with pytest.raises(cq.QueryLimitError) as info:
        cq.parse_filter(text)
    assert info.value.limit == "depth"


@pytest.mark.parametrize("shape", SHAPES)
def test_deepest_accepted_filter_prints_and_compiles(shape: str) -> None:
    """The deepest nesting the default limit accepts still prints, compares and compiles."""
    depth = 200
    while True:
        try:
            cq.parse_filter(_nested(shape, depth + 1))
        except cq.QueryLimitError:
            break
        depth += 1
    node = cq.parse_filter(_nested(shape, depth))
    assert cq.parse_filter(cq.to_gbdx(node)) == node
    assert hash(node) == hash(cq.parse_filter(cq.to_gbdx(node)))
    assert cq.compile_predicate(Not(node))({"a": 2, "x1": 2}) in (True, False)


@pytest.mark.parametrize("shape", SHAPES)
def test_raised_depth_limit_never_overflows(shape: str) -> None:
    """Limits are configurable; past Python's stack, compiling must not raise RecursionError."""
    limits = cq.Limits(max_depth=2_000)
    node = cq.parse_filter(_nested(shape, 1_500), limits=limits)
    for compile_ in (cq.to_gbdx, cq.compile_predicate):
        with contextlib.suppress(cq.QueryError):
            compile_(node)  # type: ignore[operator]


def test_length_limit() -> None:
    text = "a = '" + "x" * (64 * 1024) + "'"
    with pytest.raises(cq.QueryLimitError) as info:
        cq.parse_filter(text)
    assert info.value.limit == "length"
    with pytest.raises(cq.QueryLimitError) as info:
        cq.parse_types("WV02 OR " * 10_000 + "WV02")
    assert info.value.limit == "length"
    assert [d.code for d in cq.check(text)] == ["limit.length"]
    assert cq.parse_filter(text, limits=LONG) == Comparison(
        "a", Op.EQ, Literal("x" * (64 * 1024), LiteralKind.QUOTED)
    )


@example(TypeName("WV02"))
@SOME
@given(type_nodes())
def test_types_not_is_two_valued(texpr: Node) -> None:
    """Type expressions have no unknown: exactly one of an expression and its NOT holds."""
    holds, fails = cq.compile_types(texpr), cq.compile_types(Not(texpr))
    for type_list in (["GBDXCatalogRecord"], ["WV02", "WV03_VNIR"], []):
        assert holds(type_list) is not fails(type_list)


@examples(100)
@given(text=filter_texts(RECORD_PROPERTIES, max_leaves=4))
def test_a_hint_at_the_end_of_the_input_names_nothing_that_is_not_there(text: str) -> None:
    """Every prefix of a filter: a missing value at the end says to add one (issue 10, item 19).

    The operator hint ("write the operator as one of ... (not =<)") is only for an operator
    character that is really at the error; at the end of the input there is none.
    """
    for cut in range(1, len(text)):
        for prefix in (text[:cut], text[:cut] + " "):
            try:
                cq.parse_filter(prefix, limits=LONG)
            except cq.QueryError as error:
                assert error.hint, prefix
                if error.hint.startswith("write the operator as one of"):
                    assert prefix[error.offset : error.offset + 1] in ("<", ">", "="), prefix
                if error.code == "syntax.missing-value" and error.offset == len(prefix):
                    assert error.hint.startswith("add a value"), (prefix, error.hint)
