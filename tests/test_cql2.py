"""CQL2 text and JSON: what each filter becomes, that cql2 0.6.0 reads it, and what it selects.

* The table says, one line per fact, what a GBDX filter (with or without a queryables schema)
  becomes in CQL2 text and JSON.
* Every output is valid CQL2 for ``cql2.Expr``, and the text reads back as the JSON.
* ``cql2.Expr(out).matches(properties)`` agrees with :func:`catalogql.compile_predicate` wherever
  each comparison's value has the type of the CQL2 literal (:func:`fits`), over Hypothesis filters
  and records and over the 3,670 recorded GBDX records; cql2-rs raising counts as SQL's unknown.
* Every deviation that ``catalogql.compile.cql2``'s docstring lists is a test below, written as
  the deviation it is.
* Anything that is not a filter, or cannot be CQL2, raises :class:`catalogql.QueryError` only.
"""

from __future__ import annotations

import inspect
import json
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import pytest
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
    TypePattern,
    Wildcard,
    iter_nodes,
    unchecked_comparison,
    unchecked_literal,
    unchecked_match,
)
from catalogql.compile.cql2 import to_cql2_json, to_cql2_text
from catalogql.queryables import property_type
from catalogql.semantics import instant_key, is_datetime_name, property_getter
from catalogql.testing.strategies import (
    GBDX_PROPERTIES,
    SENSOR_PLATFORMS,
    filter_nodes,
    json_values,
    literals,
    patterns,
    properties_dicts,
    records,
)
from property_settings import scaled

cql2 = pytest.importorskip("cql2")

pytestmark = pytest.mark.filterwarnings("ignore::catalogql.QueryWarning")

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "cloudCover": {"type": "integer"},
        "offNadirAngle": {"type": "number"},
        "sunElevation": {"type": "number"},
        "path": {"type": "integer"},
        "catalogID": {"type": "string"},
        "sensorPlatformName": {"type": "string"},
        "platformName": {"type": "string"},
        "timestamp": {"type": "string", "format": "date-time"},
        "ingestDate": {"type": "string", "format": "date-time"},
        "acquisitionDate": {"type": "string", "format": "date-time"},
        "isHidden": {"type": "boolean"},
        "bands": {"type": "array", "items": {"type": "string"}},
        "sizes": {"type": "array", "items": {"type": "integer"}},
        "dates": {"type": "array", "items": {"type": "string", "format": "date-time"}},
        "_acquisition": {"type": "object", "properties": {"productLevel": {"type": "string"}}},
    },
}
"""The queryables of the GBDX records that :func:`catalogql.testing.strategies.records` makes."""


def prop(name: str) -> dict[str, str]:
    return {"property": name}


def op(name: str, *args: Any) -> dict[str, Any]:
    return {"op": name, "args": list(args)}


# --------------------------------------------------------------------------------------------
# The table: GBDX filter (and schema) -> CQL2 text and JSON

S = SCHEMA
TABLE: list[tuple[str, dict[str, Any] | None, str, dict[str, Any]]] = [
    # plain comparisons, without a schema: a number literal is a number, other text a string
    ("cloudCover < 20", None, "cloudCover < 20", op("<", prop("cloudCover"), 20)),
    ("cloudCover <= 10.0", None, "cloudCover <= 10.0", op("<=", prop("cloudCover"), 10.0)),
    (
        "offNadirAngle > -.5E+3",
        None,
        "offNadirAngle > -500.0",
        op(">", prop("offNadirAngle"), -500.0),
    ),
    ("cloudCover >= +5", None, "cloudCover >= 5", op(">=", prop("cloudCover"), 5)),
    ("cloudCover = '0'", None, "cloudCover = '0'", op("=", prop("cloudCover"), "0")),
    ("a != x", None, "a <> 'x'", op("<>", prop("a"), "x")),
    ("a == x", None, "a = 'x'", op("=", prop("a"), "x")),
    (
        "catalogID = 1050010018826700",
        None,
        "catalogID = 1050010018826700",
        op("=", prop("catalogID"), 1050010018826700),
    ),
    (
        "catalogID = '1050010018826700'",
        None,
        "catalogID = '1050010018826700'",
        op("=", prop("catalogID"), "1050010018826700"),
    ),
    (
        "sensorPlatformName = WORLDVIEW03_VNIR",
        None,
        "sensorPlatformName = 'WORLDVIEW03_VNIR'",
        op("=", prop("sensorPlatformName"), "WORLDVIEW03_VNIR"),
    ),
    # strings: ' doubled; backslashes, newlines and unicode as they are
    ("vendorName = 'it''s'", None, "vendorName = 'it''s'", op("=", prop("vendorName"), "it's")),
    (
        'vendorName = "say ""hi"""',
        None,
        "vendorName = 'say \"hi\"'",
        op("=", prop("vendorName"), 'say "hi"'),
    ),
    ("p = 'a\\\\b'", None, "p = 'a\\b'", op("=", prop("p"), "a\\b")),
    (
        "p = 'ligne\nsuivante é 🛰'",
        None,
        "p = 'ligne\nsuivante é 🛰'",
        op("=", prop("p"), "ligne\nsuivante é 🛰"),
    ),
    ("p = 'x\\*y'", None, "p = 'x*y'", op("=", prop("p"), "x*y")),
    # booleans without a schema: bare true/false is a boolean, quoted is a string
    ("isHidden = true", None, "isHidden = TRUE", op("=", prop("isHidden"), True)),
    ("isHidden <> FALSE", None, "isHidden <> FALSE", op("<>", prop("isHidden"), False)),
    ("available = 'true'", None, "available = 'true'", op("=", prop("available"), "true")),
    ("flag < true", None, "flag < 'true'", op("<", prop("flag"), "true")),
    # date-named properties with an ISO 8601 literal: a UTC TIMESTAMP, every fractional digit
    (
        "timestamp >= '2016-01-01T00:00:00.000Z'",
        None,
        "timestamp >= TIMESTAMP('2016-01-01T00:00:00Z')",
        op(">=", prop("timestamp"), {"timestamp": "2016-01-01T00:00:00Z"}),
    ),
    (
        "acquisitionDate < 2015-07-31",
        None,
        "acquisitionDate < TIMESTAMP('2015-07-31T00:00:00Z')",
        op("<", prop("acquisitionDate"), {"timestamp": "2015-07-31T00:00:00Z"}),
    ),
    (
        "endDate = '2015-07-31T12:07:17.123456+02:00'",
        None,
        "endDate = TIMESTAMP('2015-07-31T10:07:17.123456Z')",
        op("=", prop("endDate"), {"timestamp": "2015-07-31T10:07:17.123456Z"}),
    ),
    (
        "a.start_datetime > '2015-07-31 10:07:17.1234567891z'",
        None,
        "a.start_datetime > TIMESTAMP('2015-07-31T10:07:17.1234567891Z')",
        op(">", prop("a.start_datetime"), {"timestamp": "2015-07-31T10:07:17.1234567891Z"}),
    ),
    (
        "timestamp = yesterday",
        None,
        "timestamp = 'yesterday'",
        op("=", prop("timestamp"), "yesterday"),
    ),
    (
        "updated >= 2016-01-01",
        None,
        "updated >= '2016-01-01'",
        op(">=", prop("updated"), "2016-01-01"),
    ),
    # wildcards: LIKE with % and _, and %, _ and \ escaped with \
    (
        "sensorPlatformName = WORLDVIEW03*",
        None,
        "sensorPlatformName LIKE 'WORLDVIEW03%'",
        op("like", prop("sensorPlatformName"), "WORLDVIEW03%"),
    ),
    (
        "sensorPlatformName <> *_VNIR",
        None,
        "NOT (sensorPlatformName LIKE '%\\_VNIR')",
        op("not", op("like", prop("sensorPlatformName"), "%\\_VNIR")),
    ),
    ("p = '100%*'", None, "p LIKE '100\\%%'", op("like", prop("p"), "100\\%%")),
    ("p = 'a\\\\*'", None, "p LIKE 'a\\\\%'", op("like", prop("p"), "a\\\\%")),
    ("p = 'it''s*'", None, "p LIKE 'it''s%'", op("like", prop("p"), "it's%")),
    (
        "catalogID = 1050010*",
        None,
        "catalogID LIKE '1050010%'",
        op("like", prop("catalogID"), "1050010%"),
    ),
    ("p LIKE 'QUICK_IRD%'", None, "p LIKE 'QUICK_IRD%'", op("like", prop("p"), "QUICK_IRD%")),
    # AND, OR, NOT: n-ary, parentheses only where precedence needs them, always after NOT
    (
        "a = 1 AND b = 2 AND c = 3",
        None,
        "a = 1 AND b = 2 AND c = 3",
        op("and", op("=", prop("a"), 1), op("=", prop("b"), 2), op("=", prop("c"), 3)),
    ),
    (
        "a = 1 OR b = 2 AND c = 3",
        None,
        "a = 1 OR b = 2 AND c = 3",
        op("or", op("=", prop("a"), 1), op("and", op("=", prop("b"), 2), op("=", prop("c"), 3))),
    ),
    (
        "(a = 1 OR b = 2) AND c = 3",
        None,
        "(a = 1 OR b = 2) AND c = 3",
        op("and", op("or", op("=", prop("a"), 1), op("=", prop("b"), 2)), op("=", prop("c"), 3)),
    ),
    (
        "NOT cloudCover < 20",
        None,
        "NOT (cloudCover < 20)",
        op("not", op("<", prop("cloudCover"), 20)),
    ),
    (
        "NOT NOT (a = 1 OR b = 2)",
        None,
        "NOT (NOT (a = 1 OR b = 2))",
        op("not", op("not", op("or", op("=", prop("a"), 1), op("=", prop("b"), 2)))),
    ),
    (
        "cloudCover < 20, offNadirAngle < 10",
        None,
        "cloudCover < 20 AND offNadirAngle < 10",
        op("and", op("<", prop("cloudCover"), 20), op("<", prop("offNadirAngle"), 10)),
    ),
    # property names: bare when plain, "quoted" otherwise (leading _, CQL2 operator words)
    (
        "_acquisition.productLevel = LV1B",
        None,
        "\"_acquisition.productLevel\" = 'LV1B'",
        op("=", prop("_acquisition.productLevel"), "LV1B"),
    ),
    ("a.b.c = 1", None, "a.b.c = 1", op("=", prop("a.b.c"), 1)),
    ("_ = 1", None, '"_" = 1', op("=", prop("_"), 1)),
    ("true = 1", None, '"true" = 1', op("=", prop("true"), 1)),
    ("NOT.x = 1", None, '"NOT.x" = 1', op("=", prop("NOT.x"), 1)),
    ("a.like = 1", None, '"a.like" = 1', op("=", prop("a.like"), 1)),
    ("ANDROID = 1", None, "ANDROID = 1", op("=", prop("ANDROID"), 1)),
    # with a schema, the declared type decides
    (
        "catalogID = 1050010018826700",
        S,
        "catalogID = '1050010018826700'",
        op("=", prop("catalogID"), "1050010018826700"),
    ),
    ("catalogID = 1.50", S, "catalogID = '1.50'", op("=", prop("catalogID"), "1.50")),
    ("cloudCover = '0'", S, "cloudCover = 0", op("=", prop("cloudCover"), 0)),
    ("offNadirAngle <= '15.0'", S, "offNadirAngle <= 15.0", op("<=", prop("offNadirAngle"), 15.0)),
    (
        "cloudCover < 1234567890123456789012345678",
        S,
        "cloudCover < 1234567890123456789012345678",
        op("<", prop("cloudCover"), 1234567890123456789012345678),
    ),
    (
        "sensorPlatformName = 20",
        S,
        "sensorPlatformName = '20'",
        op("=", prop("sensorPlatformName"), "20"),
    ),
    (
        "timestamp >= 2016-01-01",
        S,
        "timestamp >= TIMESTAMP('2016-01-01T00:00:00Z')",
        op(">=", prop("timestamp"), {"timestamp": "2016-01-01T00:00:00Z"}),
    ),
    (
        "ingestDate < '2016-01-01T01:00:00+01:00'",
        S,
        "ingestDate < TIMESTAMP('2016-01-01T00:00:00Z')",
        op("<", prop("ingestDate"), {"timestamp": "2016-01-01T00:00:00Z"}),
    ),
    ("isHidden = 'TRUE'", S, "isHidden = TRUE", op("=", prop("isHidden"), True)),
    (
        "_acquisition.productLevel = 1",
        S,
        "\"_acquisition.productLevel\" = '1'",
        op("=", prop("_acquisition.productLevel"), "1"),
    ),
    ("undeclared = 5", S, "undeclared = 5", op("=", prop("undeclared"), 5)),
    (
        "timestamp = 2016-01-01T00:00:00Z*",
        S,
        "timestamp LIKE '2016-01-01T00:00:00Z%'",
        op("like", prop("timestamp"), "2016-01-01T00:00:00Z%"),
    ),
    # declared arrays: = is "some element equals", <> is "some element differs"
    ("bands = PAN", S, "A_CONTAINS(bands, ('PAN'))", op("a_contains", prop("bands"), ["PAN"])),
    (
        "bands <> PAN",
        S,
        "NOT (A_CONTAINEDBY(bands, ('PAN')))",
        op("not", op("a_containedBy", prop("bands"), ["PAN"])),
    ),
    (
        "NOT bands = PAN",
        S,
        "NOT (A_CONTAINS(bands, ('PAN')))",
        op("not", op("a_contains", prop("bands"), ["PAN"])),
    ),
    ("sizes = '3'", S, "A_CONTAINS(sizes, (3))", op("a_contains", prop("sizes"), [3])),
]


def table_id(case: tuple[str, Any, str, Any]) -> str:
    return ("schema: " if case[1] else "") + case[0]


@pytest.mark.parametrize(
    ("gbdx", "schema", "text", "expected_json"), TABLE, ids=map(table_id, TABLE)
)
def test_table(
    gbdx: str, schema: dict[str, Any] | None, text: str, expected_json: dict[str, Any]
) -> None:
    node = cq.parse_filter(gbdx)
    assert to_cql2_text(node, schema) == text
    out = to_cql2_json(node, schema)
    assert out == expected_json
    assert json.dumps(out) == json.dumps(expected_json)  # ints stay ints, bools stay bools
    assert_valid_and_same(text, out)


# --------------------------------------------------------------------------------------------
# Text and JSON are one valid CQL2 expression


def as_cql2_reads(expr: dict[str, Any]) -> Any:
    """Our JSON as cql2-rs gives it back from ``to_json()``: every number a float."""
    return json.loads(json.dumps(expr), parse_int=float)


def assert_valid_and_same(text: str, expr: dict[str, Any], validate: bool = True) -> None:
    """The text is valid CQL2 and reads back as the JSON (``validate()`` takes ~40 ms a call)."""
    from_text = cql2.Expr(text)
    if validate:
        from_text.validate()
    from_json = cql2_from_json(expr)
    assert from_text.to_json() == as_cql2_reads(expr)
    # cql2-rs's JSON reader rounds integers past 64 bits less exactly than its text reader
    assert to_15_digits(from_json.to_json()) == to_15_digits(from_text.to_json())


def cql2_from_json(expr: dict[str, Any]) -> Any:
    """``cql2.Expr`` of our JSON: as a dict, or as JSON text where the binding refuses the dict.

    The binding refuses integers past 64 bits in a dict
    (:func:`test_json_ints_past_64_bits_are_json_that_the_cql2_binding_refuses_as_a_dict`), and
    its JSON text reader stops at 128 levels (:func:`test_cql2_rs_reads_deep_json_only_as_a_dict`).
    """
    try:
        return cql2.Expr(expr)
    except Exception:
        return cql2.Expr(json.dumps(expr))


def to_15_digits(expr: Any) -> Any:
    def number(text: str) -> float:
        return float(f"{float(text):.15g}")

    return json.loads(json.dumps(expr), parse_int=number, parse_float=number)


def compiled(node: Node, schema: Mapping[str, Any] | None) -> tuple[str, dict[str, Any]] | None:
    """Text and JSON, or None where a literal does not fit the schema or CQL2 has no form."""
    try:
        text = to_cql2_text(node, schema)
    except cq.QueryError as exc:
        assert exc.code in ("schema.type-mismatch", "compile.inexpressible"), exc
        with pytest.raises(cq.QueryError):
            to_cql2_json(node, schema)
        return None
    return text, to_cql2_json(node, schema)


def examples(n: int) -> settings:
    return settings(
        max_examples=scaled(n), deadline=None, suppress_health_check=[HealthCheck.too_slow]
    )


SCHEMA_NAMES = [*sorted(SCHEMA["properties"]), "_acquisition.productLevel", "other"]


@examples(40)
@given(filter_nodes())
def test_text_and_json_are_the_same_valid_cql2(node: Node) -> None:
    out = compiled(node, None)
    if out is not None:
        assert_valid_and_same(*out)


@examples(40)
@given(filter_nodes(SCHEMA_NAMES))
def test_text_and_json_are_the_same_valid_cql2_with_a_schema(node: Node) -> None:
    out = compiled(node, SCHEMA)
    if out is not None:
        assert_valid_and_same(*out)


@examples(200)
@given(filter_nodes(), st.booleans())
def test_text_reads_back_as_the_json(node: Node, with_schema: bool) -> None:
    out = compiled(node, SCHEMA if with_schema else None)
    if out is not None:
        assert_valid_and_same(*out, validate=False)


# --------------------------------------------------------------------------------------------
# Agreement with compile_predicate


def cql2_verdict(expr: Any, properties: Mapping[str, Any]) -> bool | None:
    """What cql2-rs says: True, False, or None where it raises (its way of saying unknown)."""
    try:
        return bool(expr.matches(dict(properties)))
    except Exception:
        return None


def predicate_verdict(
    node: Node, schema: Mapping[str, Any] | None, props: Mapping[str, Any]
) -> bool | None:
    """The predicate's three-valued answer: unknown is neither the filter nor its NOT."""
    if cq.compile_predicate(node, schema)(props):
        return True
    if cq.compile_predicate(Not(node), schema)(props):
        return False
    return None


def float_exact(number: Any) -> bool:
    """Whether cql2-rs's 64-bit float holds ``number`` exactly (so it orders it exactly)."""
    try:
        return float(number) == number
    except OverflowError:
        return False


def fits_value(name: str, schema: Mapping[str, Any] | None, value: Any, literal: Any) -> bool:
    """Whether a scalar ``value`` has the type of the CQL2 ``literal`` it is compared with."""
    if type(literal) is bool:
        return type(value) is bool
    if type(literal) in (int, float):
        return type(value) in (int, float) and float_exact(value) and float_exact(literal)
    if type(literal) is str:
        declared = property_type(schema, name)
        typed = declared is not None and declared.value_type is not None
        # a date-named property without a type: the predicate compares instants, CQL2 text
        return type(value) is str and (typed or not is_datetime_name(name))
    key = instant_key(value) if type(value) is str else None
    digits = len(key.partition(".")[2]) if key else 0
    return key is not None and digits <= 9 and len(literal["timestamp"]) <= 30


def _path_meets_a_non_object(name: str, props: Mapping[str, Any]) -> bool:
    """Whether a dotted path runs into a value that is not an object before its last segment.

    The predicate reads such a property as missing (unknown); cql2-rs raises "Unexpected value
    reached while traversing path" for the whole filter, whatever the other comparisons say.
    """
    value: Any = props
    for segment in name.split(".")[:-1]:
        if segment not in value:
            return False
        value = value[segment]
        if not isinstance(value, dict):
            return True
    return False


def fits(node: Node, schema: Mapping[str, Any] | None, props: Mapping[str, Any]) -> bool:
    """Whether every comparison of ``node`` meets, in ``props``, a value of its literal's type.

    Missing and null values fit (both sides say unknown). Outside this domain lie the
    deviations of the module docstring, each tested on its own below.
    """
    if isinstance(props.get("properties"), dict):
        return False  # cql2-rs also looks inside an object named "properties"
    for leaf in iter_nodes(node):
        if not isinstance(leaf, Comparison | Match):
            continue
        name = leaf.property
        if "." in name and name in props:
            return False  # a flat dotted key, which cql2-rs does not read
        if _path_meets_a_non_object(name, props):
            return False  # cql2-rs raises for the whole filter, where ours reads "missing"
        value = property_getter(name)(props)
        if value is None:
            continue
        expr = to_cql2_json(leaf, schema)
        if expr["op"] == "not":
            expr = expr["args"][0]
        literal = expr["args"][1]
        if expr["op"] in ("a_contains", "a_containedBy"):
            if type(value) is not list:
                return False
            if not all(fits_value(name, schema, item, literal[0]) for item in value):
                return False
        elif type(value) is list:
            return False
        elif expr["op"] == "like":
            if type(value) is not str:
                return False
        elif not fits_value(name, schema, value, literal):
            return False
    return True


def assert_agrees(
    node: Node, schema: Mapping[str, Any] | None, props_list: list[dict[str, Any]]
) -> int:
    """cql2-rs and the predicate agree on every record where :func:`fits`; returns how many."""
    out = compiled(node, schema)
    if out is None:
        return 0
    text, expr = out
    from_text, from_json = cql2.Expr(text), cql2_from_json(expr)
    checked = 0
    read = {
        leaf.property.split(".")[0]
        for leaf in iter_nodes(node)
        if isinstance(leaf, Comparison | Match)
    }
    for whole in props_list:
        if not fits(node, schema, whole):
            continue
        # Only what the filter reads: cql2's binding refuses a record holding an integer past
        # 64 bits anywhere (test_records_with_integers_past_64_bits)
        props = {key: value for key, value in whole.items() if key.split(".")[0] in read}
        ours = predicate_verdict(node, schema, props)
        assert cql2_verdict(from_text, props) is ours, (text, props)
        assert cql2_verdict(from_json, props) is ours, (expr, props)
        checked += 1
    return checked


@st.composite
def typed_leaves(draw: st.DrawFn) -> Node:
    """Comparisons and matches of SCHEMA's properties, with literals of their declared types."""
    kind = draw(st.sampled_from(["number", "text", "date", "bool", "list", "match"]))
    if kind == "number":
        name = draw(st.sampled_from(["cloudCover", "offNadirAngle", "sunElevation", "path"]))
        number = draw(
            st.integers(-5, 105).map(str) | st.floats(-10, 100).map(lambda f: repr(round(f, 2)))
        )
        literal = Literal(number, draw(st.sampled_from([LiteralKind.NUMBER, LiteralKind.QUOTED])))
        return Comparison(name, draw(st.sampled_from(Op)), literal)
    if kind == "text":
        name = draw(
            st.sampled_from(
                ["sensorPlatformName", "platformName", "catalogID", "_acquisition.productLevel"]
            )
        )
        literal = draw(
            st.sampled_from(SENSOR_PLATFORMS).map(lambda t: Literal(t, LiteralKind.BARE))
            | literals()
        )
        return Comparison(name, draw(st.sampled_from(Op)), literal)
    if kind == "date":
        name = draw(st.sampled_from(["timestamp", "ingestDate", "acquisitionDate"]))
        moment = draw(
            st.datetimes(
                min_value=datetime(1998, 1, 1),
                max_value=datetime(2031, 1, 1),
            )
        )
        text = draw(
            st.sampled_from(
                [
                    moment.strftime("%Y-%m-%d"),
                    moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                    moment.isoformat() + "+02:00",
                ]
            )
        )
        return Comparison(name, draw(st.sampled_from(Op)), Literal(text, LiteralKind.QUOTED))
    if kind == "bool":
        text = draw(st.sampled_from(["true", "false", "TRUE", "False"]))
        return Comparison(
            "isHidden", draw(st.sampled_from([Op.EQ, Op.NE])), Literal(text, LiteralKind.BARE)
        )
    if kind == "list":
        text = draw(st.sampled_from(["PAN", "MS1", "MS2", "SWIR", "X"]))
        return Comparison(
            "bands", draw(st.sampled_from([Op.EQ, Op.NE])), Literal(text, LiteralKind.BARE)
        )
    name = draw(st.sampled_from(["sensorPlatformName", "platformName", "catalogID", "timestamp"]))
    return Match(
        name,
        draw(
            patterns()
            | st.sampled_from(
                [("WORLDVIEW0", Wildcard.ANY), (Wildcard.ANY, "_VNIR"), ("10", Wildcard.ANY, "0")]
            )
        ),
        draw(st.booleans()),
    )


def combine(children: st.SearchStrategy[Node]) -> st.SearchStrategy[Node]:
    items = st.lists(children, min_size=2, max_size=4)
    return (
        children.map(Not)
        | items.map(lambda xs: And(tuple(xs)))
        | items.map(lambda xs: Or(tuple(xs)))
    )


TYPED_FILTERS = st.recursive(typed_leaves(), combine, max_leaves=6)


@examples(150)
@given(TYPED_FILTERS, st.lists(records(), min_size=1, max_size=6))
def test_cql2_agrees_with_predicate_with_a_schema(node: Node, recs: list[dict[str, Any]]) -> None:
    assert_agrees(node, SCHEMA, [r["properties"] for r in recs])


@examples(150)
@given(filter_nodes(GBDX_PROPERTIES) | TYPED_FILTERS, st.lists(records(), min_size=1, max_size=6))
def test_cql2_agrees_with_predicate_without_a_schema(
    node: Node, recs: list[dict[str, Any]]
) -> None:
    assert_agrees(node, None, [r["properties"] for r in recs])


NAMES = ["a", "b", "timestamp", "x.y"]
SMALL_LITERALS = st.one_of(
    st.integers(-3, 3).map(lambda i: Literal(str(i), LiteralKind.NUMBER)),
    st.sampled_from(["x", "y", "true", "FALSE", "2015-07-31", "2015-07-31T10:07:17.000Z"]).map(
        lambda t: Literal(t, LiteralKind.BARE)
    ),
    st.sampled_from(["x", "", "1", "true", "2015-07-31T10:07:17Z", "it's", "é"]).map(
        lambda t: Literal(t, LiteralKind.QUOTED)
    ),
    literals(),
)
SMALL_VALUES = st.one_of(
    st.integers(-3, 3),
    st.sampled_from([0.5, -0.0, 2**53, 2**53 + 1, 1e300]),
    st.sampled_from(["x", "y", "", "1", "true", "it's", "é", "2015-07-31T10:07:17.000Z"]),
    st.booleans(),
    st.none(),
    st.lists(st.sampled_from(["x", 1, None]), max_size=2),
    json_values(),
)


@examples(150)
@given(
    filter_nodes(NAMES, values=SMALL_LITERALS),
    st.lists(
        st.dictionaries(st.sampled_from(["a", "b", "timestamp", "x", "x.y"]), SMALL_VALUES)
        | properties_dicts(["a", "b", "timestamp", "x", "x.y"]),
        min_size=1,
        max_size=6,
    ),
)
@example(  # found by a fresh clone's run: a path through a number
    cq.parse_filter("a = 1 AND x.y = 0"), [{"a": 0, "x": 0}]
)
def test_cql2_agrees_with_predicate_on_any_values(
    node: Node, props_list: list[dict[str, Any]]
) -> None:
    assert_agrees(node, None, props_list)


def test_a_path_through_a_non_object_is_a_known_deviation() -> None:
    # Ours: x.y is missing, so the AND is false (a = 1 is false). cql2-rs raises for the whole
    # filter instead, so such records are outside the domain that the agreement tests compare.
    node = cq.parse_filter("a = 1 AND x.y = 0")
    props = {"a": 0, "x": 0}
    assert predicate_verdict(node, None, props) is False
    text, _ = compiled(node, None) or ("", None)
    assert cql2_verdict(cql2.Expr(text), props) is None
    assert not fits(node, None, props)
    assert fits(node, None, {"a": 0, "x": {"y": 0}})


LEAVES = st.one_of(
    st.builds(Comparison, st.sampled_from(["a", "timestamp"]), st.sampled_from(Op), SMALL_LITERALS),
    st.builds(Match, st.sampled_from(["a", "timestamp"]), patterns(), st.booleans()),
)


@examples(300)
@given(LEAVES, SMALL_VALUES, st.booleans())
def test_each_comparison_agrees_on_any_value_of_its_literals_type(
    leaf: Comparison | Match, value: Any, negate: bool
) -> None:
    node = Not(leaf) if negate else leaf
    assert assert_agrees(node, None, [{leaf.property: value}]) in (0, 1)


# --------------------------------------------------------------------------------------------
# The recorded GBDX records

REAL_FILTERS = [
    "cloudCover < 20",
    "cloudCover = '0'",
    "catalogID = 1050010018826700",
    "catalogID = 1050010*",
    "sensorPlatformName = WORLDVIEW03* AND cloudCover < 20 AND offNadirAngle < 10",
    "sensorPlatformName <> WORLDVIEW02 OR NOT cloudCover >= 50",
    "NOT (sensorPlatformName = WORLDVIEW03_VNIR OR sensorPlatformName = WORLDVIEW02)",
    "timestamp >= '2016-01-01T00:00:00.000Z' AND timestamp < 2017-01-01",
    "acquisitionDate > 2015-01-01 OR vendorName = 'DigitalGlobe'",
    "offNadirAngle <= '15.0' AND sunElevation > 40",
    "platformName = *03* AND NOT imageBands = PAN*",
    "scanDirection = Forward AND stereoPair = x",
    "path < 100 AND row >= 30",
    "browseURL = *.png",
]


@pytest.fixture(scope="module")
def real_properties(gbdx_records: Mapping[str, dict[str, Any]]) -> list[dict[str, Any]]:
    return [record["properties"] for record in gbdx_records.values()]


@pytest.mark.parametrize("text", REAL_FILTERS)
def test_cql2_selects_what_the_predicate_selects_on_the_real_records(
    text: str, real_properties: list[dict[str, Any]]
) -> None:
    schema = cq.infer_queryables(real_properties)
    node = cq.parse_filter(text)
    checked = assert_agrees(node, schema, real_properties)
    assert checked == len(real_properties)  # with the inferred schema, every record fits


def test_without_a_schema_the_real_records_differ_only_where_documented(
    real_properties: list[dict[str, Any]],
) -> None:
    node = cq.parse_filter("catalogID = 1050010018826700 OR cloudCover = '0'")
    assert sum(not fits(node, None, props) for props in real_properties) == len(real_properties)
    expr = cql2.Expr(to_cql2_text(node))
    keep = cq.compile_predicate(node)
    selected = [props for props in real_properties if keep(props)]
    assert selected  # the id and the clear images
    assert all(cql2_verdict(expr, props) is None for props in selected)  # a text id, a number


# --------------------------------------------------------------------------------------------
# The deviations of the module docstring, one test each


def verdicts(
    text: str, props: dict[str, Any], schema: Mapping[str, Any] | None = None
) -> tuple[bool | None, bool | None]:
    """(cql2-rs, predicate) on one record."""
    node = cq.parse_filter(text)
    return cql2_verdict(cql2.Expr(to_cql2_text(node, schema)), props), predicate_verdict(
        node, schema, props
    )


@pytest.mark.parametrize(
    ("text", "props", "schema", "cql2_says", "predicate_says"),
    [
        # without a schema, a CQL2 literal has one type and our value decides
        ("catalogID = 1050010018826700", {"catalogID": "1050010018826700"}, None, None, True),
        ("cloudCover = '0'", {"cloudCover": 0}, None, None, True),
        ("flag = true", {"flag": "true"}, None, None, True),
        ("flag = 'true'", {"flag": True}, None, None, True),
        (
            "sensorPlatformName = WORLDVIEW02",
            {"sensorPlatformName": ["WORLDVIEW02"]},
            None,
            None,
            True,
        ),
        ("timestamp = yesterday", {"timestamp": "yesterday"}, None, True, None),
        ("catalogID = 1050010*", {"catalogID": 1050010018826700}, None, None, True),
        # missing and null: unknown in both, but cql2-rs raises where it reaches the top
        ("x = 1", {}, None, None, None),
        ("NOT x = 1", {"x": None}, None, None, None),
        ("x = 1 OR y = 1", {"y": 1}, None, True, True),
        ("x = 1 AND y = 1", {"y": 2}, None, False, False),
        # a date-time that is not one: cql2-rs raises even where the OR is decided
        ("timestamp > 2015-01-01 OR y = 1", {"timestamp": "soon", "y": 1}, None, None, True),
        # a flat dotted key
        ("a.b = 1", {"a.b": 1}, None, None, True),
        ("a.b = 1", {"a": {"b": 1}}, None, True, True),
        # 64-bit floats
        ("x = 9007199254740993", {"x": 9007199254740992}, None, True, False),
        # declared arrays: null elements, and a scalar where the schema says array
        ("bands <> PAN", {"bands": ["PAN", None]}, S, True, None),
        ("bands = PAN", {"bands": "PAN"}, S, None, True),
        # an object named "properties"
        ("x = 1", {"properties": {"x": 1}}, None, True, None),
    ],
)
def test_documented_deviation(
    text: str,
    props: dict[str, Any],
    schema: Mapping[str, Any] | None,
    cql2_says: bool | None,
    predicate_says: bool | None,
) -> None:
    assert verdicts(text, props, schema) == (cql2_says, predicate_says)


def test_missing_properties_make_cql2_rs_raise_rather_than_say_false() -> None:
    expr = cql2.Expr(to_cql2_text(cq.parse_filter("cloudCover < 20")))
    with pytest.raises(Exception, match="Could not reduce expression to boolean"):
        expr.matches({})
    assert cq.compile_predicate(cq.parse_filter("cloudCover < 20"))({}) is False


def test_timestamps_past_nine_fractional_digits_are_valid_cql2_that_cql2_rs_cannot_evaluate() -> (
    None
):
    node = cq.parse_filter("timestamp = '2015-07-31T10:07:17.1234567891Z'")
    text = to_cql2_text(node)
    assert text == "timestamp = TIMESTAMP('2015-07-31T10:07:17.1234567891Z')"
    cql2.Expr(text).validate()
    with pytest.raises(Exception, match="unparsed input"):
        cql2.Expr(text).matches({"timestamp": "2015-07-31T10:07:17.1234567891Z"})
    assert cq.compile_predicate(node)({"timestamp": "2015-07-31T10:07:17.1234567891Z"})


def test_json_ints_past_64_bits_are_json_that_the_cql2_binding_refuses_as_a_dict() -> None:
    out = to_cql2_json(cq.parse_filter("x < 1234567890123456789012345678"))
    assert out["args"][1] == 1234567890123456789012345678  # as written, no float rounding
    with pytest.raises(Exception, match="invalid type"):
        cql2.Expr(out)
    assert cql2.Expr(json.dumps(out)).to_json()["args"][1] == pytest.approx(1.2345678901234568e27)


def test_records_with_integers_past_64_bits_make_cql2_rs_raise() -> None:
    expr = cql2.Expr("x = 1")
    with pytest.raises(Exception, match="out of range"):
        expr.matches({"x": 1, "other": 2**64})


@pytest.mark.parametrize(
    ("text", "schema", "word"),
    [
        ("x = 1e400", None, "range"),
        ("cloudCover < " + "9" * 400, S, "range"),
        ("bands < PAN", S, "list"),
        ("bands = PAN*", S, "list"),
        ("dates = 2016-01-01", S, "date-times"),
        ("cloudCover = 1*", S, "LIKE"),
        ("isHidden <> tr*", S, "LIKE"),
    ],
)
def test_what_cql2_cannot_say_is_a_query_error(
    text: str, schema: Mapping[str, Any] | None, word: str
) -> None:
    node = cq.parse_filter(text)
    for compile_to in (to_cql2_text, to_cql2_json):
        with pytest.raises(cq.QueryError, match=word) as caught:
            compile_to(node, schema)
        assert caught.value.code == "compile.inexpressible"
        assert caught.value.hint


# --------------------------------------------------------------------------------------------
# Errors: QueryError and nothing else


@pytest.mark.parametrize(
    ("text", "offset"),
    [
        ("cloudCover = abc", 13),
        ("cloudCover < 20 AND offNadirAngle > ten", 36),
        ("timestamp >= yesterday", 13),
        ("isHidden = maybe", 11),
        ("isHidden < true", 11),
    ],
)
def test_a_literal_that_does_not_fit_the_schema_is_a_positioned_validation_error(
    text: str, offset: int
) -> None:
    node = cq.parse_filter(text)
    with pytest.raises(cq.QueryValidationError) as caught:
        to_cql2_text(node, SCHEMA)
    assert caught.value.code == "schema.type-mismatch"
    assert caught.value.offset == offset
    assert caught.value.hint


@pytest.mark.parametrize(
    "node",
    [
        TypeName("WV02"),
        TypePattern(("WV03", Wildcard.ANY)),
        And((TypeName("WV02"), Not(TypeName("IDAHOImage")))),
        cq.parse_types("WV02 OR WV03*"),
    ],
    ids=repr,
)
def test_type_expressions_are_not_filters(node: Node) -> None:
    for compile_to in (to_cql2_text, to_cql2_json):
        with pytest.raises(cq.QueryError) as caught:
            compile_to(node)
        assert caught.value.code == "compile.not-a-filter"


LITERAL = Literal("x", LiteralKind.BARE)


def safe_id(value: object) -> str:
    try:
        return repr(value)
    except Exception:
        return type(value).__name__


@pytest.mark.parametrize(
    "node",
    [
        None,
        "cloudCover < 20",
        42,
        And((Comparison("a", Op.EQ, LITERAL), "b = 1")),  # type: ignore[arg-type]
        Not(None),  # type: ignore[arg-type]
        unchecked_comparison(7, Op.EQ, LITERAL, None),  # type: ignore[arg-type]
        unchecked_comparison("a", "=", LITERAL, None),  # type: ignore[arg-type]
        unchecked_comparison("a", Op.EQ, "x", None),  # type: ignore[arg-type]
        unchecked_comparison("a", Op.EQ, unchecked_literal("x", LiteralKind.NUMBER), None),
        unchecked_comparison("a", Op.EQ, unchecked_literal(None, LiteralKind.QUOTED), None),  # type: ignore[arg-type]
        unchecked_comparison("a\ud800", Op.EQ, LITERAL, None),
        unchecked_comparison("a", Op.EQ, unchecked_literal("\udfff", LiteralKind.QUOTED), None),
        unchecked_match("a", ("x", 5), False, None),  # type: ignore[arg-type]
        unchecked_match("a", ("\ud83d", Wildcard.ANY), False, None),
        unchecked_match("a", "x*", False, None),  # type: ignore[arg-type]
        unchecked_match("a", ("x", Wildcard.ANY), None, None),  # type: ignore[arg-type]
    ],
    ids=safe_id,
)
def test_hand_built_junk_is_a_query_error(node: Any) -> None:
    for compile_to in (to_cql2_text, to_cql2_json):
        with pytest.raises(cq.QueryError):
            compile_to(node)


@pytest.mark.parametrize(
    "schema",
    [[], {"properties": []}, {"properties": {"a": 1}}, {"properties": {"a": {"type": [["x"]]}}}],
    ids=repr,
)
def test_a_schema_of_the_wrong_shape_is_a_query_error(schema: Any) -> None:
    with pytest.raises(cq.QueryError):
        to_cql2_text(cq.parse_filter("a = 1"), schema)


WEIRD_NAMES = [
    "",
    "_",
    "a b",
    'say "hi"',
    "it's",
    "é",
    "日本.名前",
    "🛰",
    "a\x00b",
    "a\nb",
    "a\\b",
    "1a",
    "a..b",
    ".a",
    "a.",
    "AND",
    "a.NULL",
    "not",
    "-x",
    "(",
    "a=b",
]


@examples(100)
@given(st.one_of(st.sampled_from(WEIRD_NAMES), st.text(max_size=8)), literals(), patterns())
def test_any_property_name_and_text_gives_valid_cql2_naming_it(
    name: str, literal: Literal, pattern: Any
) -> None:
    for node in (Comparison(name, Op.LE, literal), Match(name, pattern, negated=True)):
        out = compiled(node, None)  # a number past the float range: compile.inexpressible
        if out is None:
            continue
        text, expr = out
        assert_valid_and_same(text, expr, validate=False)
        read = cql2.Expr(text).to_json()
        if read["op"] == "not":
            read = read["args"][0]
        assert read["args"][0] == {"property": name}


# --------------------------------------------------------------------------------------------
# Size and depth: no recursion


@contextmanager
def shallow_stack(frames: int = 60) -> Iterator[None]:
    """Run with only ``frames`` more Python frames allowed than the caller has."""
    depth = len(inspect.stack(0))
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(depth + frames)
    try:
        yield
    finally:
        sys.setrecursionlimit(old)


def test_a_10000_term_and_chain_stays_one_n_ary_and() -> None:
    node = And(
        tuple(Comparison("c", Op.LT, Literal(str(i), LiteralKind.NUMBER)) for i in range(10_000))
    )
    with shallow_stack():
        text, expr = to_cql2_text(node), to_cql2_json(node)
    assert expr["op"] == "and" and len(expr["args"]) == 10_000
    assert text.count(" AND ") == 9_999 and "(" not in text
    read = cql2.Expr(text).to_json()
    assert read["op"] == "and" and len(read["args"]) == 10_000


@pytest.mark.parametrize("depth", [300, 2_000])
def test_deep_trees_do_not_recurse(depth: int) -> None:
    nots: Node = Comparison("x", Op.EQ, Literal("1", LiteralKind.NUMBER))
    mixed: Node = nots
    for i in range(depth):
        nots = Not(nots)
        other = Comparison(f"y{i}", Op.LT, Literal(str(i), LiteralKind.NUMBER))
        mixed = And((Or((mixed, other)), other)) if i % 2 else Or((And((mixed, other)), other))
    with shallow_stack():
        outputs = [(to_cql2_text(node), to_cql2_json(node)) for node in (nots, mixed)]
    assert outputs[0][0] == "NOT (" * depth + "x = 1" + ")" * depth
    if depth <= 300:  # what cql2-rs reads (and json.dumps writes) without deep recursion of its own
        for text, expr in outputs:
            assert_valid_and_same(text, expr, validate=False)


def test_parsed_filters_as_deep_as_the_parser_allows() -> None:
    node = cq.parse_filter("NOT " * 100 + "(" * 150 + "a = 1 OR b = 2" + ")" * 150)
    text = to_cql2_text(node)
    assert text == "NOT (" * 100 + "a = 1 OR b = 2" + ")" * 100
    assert_valid_and_same(text, to_cql2_json(node), validate=False)


def test_cql2_rs_reads_deep_json_only_as_a_dict() -> None:
    expr = to_cql2_json(cq.parse_filter("NOT " * 70 + "a = 1"))
    assert cql2.Expr(expr).to_json() == as_cql2_reads(expr)
    with pytest.raises(Exception, match="recursion limit"):
        cql2.Expr(json.dumps(expr))
