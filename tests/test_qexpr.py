"""The Descartes ``q`` JSON front end (``catalogql.syntax.qexpr``): errors, limits, round trip.

Checked against the real client's output (``qfilter_examples.json`` and every ``query_expr`` of
``captured.jsonl`` in ``../shared/descartes-v1``) and, on random q JSON over random records,
against a small evaluator written here from WIRE.md section 7 and SPEC section 4.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import catalogql as cq
from catalogql.ast import And, Comparison, Literal, LiteralKind, Match, Not, Op, Or, Wildcard
from catalogql.syntax.qexpr import QueryAlias, load_json_guarded, parse_query_expr, to_query_expr
from conftest import SHARED_DIR, require_shared
from property_settings import scaled

DESCARTES = SHARED_DIR / "descartes-v1"


def num(text: str) -> Literal:
    return Literal(text, LiteralKind.NUMBER)


def quoted(text: str) -> Literal:
    return Literal(text, LiteralKind.QUOTED)


def field_of(q: object, **kwargs: Any) -> tuple[str, str, int]:
    with pytest.raises(cq.QueryError) as info:
        parse_query_expr(q, **kwargs)
    problem = info.value.problems[0]
    assert problem.hint, problem
    assert problem.field in str(info.value)
    return problem.field, problem.code, info.value.status


# --------------------------------------------------------------------------------------------
# The grammar


def test_every_operator() -> None:
    cf = "cloud_fraction"
    assert parse_query_expr({"range": {cf: {"lt": 0.2}}}) == Comparison(cf, Op.LT, num("0.2"))
    assert parse_query_expr({"range": {cf: {"lte": 1}}}) == Comparison(cf, Op.LE, num("1"))
    two = parse_query_expr({"range": {cf: {"lte": 0.3, "gt": 0.1}}})
    assert two == And((Comparison(cf, Op.LE, num("0.3")), Comparison(cf, Op.GT, num("0.1"))))
    assert parse_query_expr({"eq": {"sat_id": "SAT-1"}}) == Comparison(
        "sat_id", Op.EQ, quoted("SAT-1")
    )
    assert parse_query_expr({"ne": {"n": -2.5e-7}}) == Comparison("n", Op.NE, num("-2.5e-07"))
    assert parse_query_expr({"eq": {"flag": True}}) == Comparison(
        "flag", Op.EQ, Literal("true", LiteralKind.BARE)
    )
    assert parse_query_expr({"like": {"key": "img_%"}}) == Match(
        "key", ("img", Wildcard.ONE, Wildcard.ANY)
    )
    assert parse_query_expr({"or": [{"eq": {"a": 1}}, {"eq": {"a": 2}}]}) == Or(
        (Comparison("a", Op.EQ, num("1")), Comparison("a", Op.EQ, num("2")))
    )
    # one-item lists stand for their item; a doubled and flattens
    assert parse_query_expr({"and": [{"or": [{"eq": {"a": 1}}]}]}) == Comparison(
        "a", Op.EQ, num("1")
    )
    inner = {"and": [{"eq": {"a": 1}}, {"eq": {"b": 2}}]}
    assert parse_query_expr({"and": [inner]}) == parse_query_expr(inner)


def test_like_escapes_and_literal_stars() -> None:
    # a '*' in a LIKE pattern or an eq value is a literal star, kept as text
    assert parse_query_expr({"like": {"k": "a*b%"}}) == Match("k", ("a*b", Wildcard.ANY))
    assert parse_query_expr({"eq": {"k": "a*b"}}) == Comparison("k", Op.EQ, quoted("a*b"))
    # backslash escapes % _ and itself; a pattern without wildcards is an equality
    assert parse_query_expr({"like": {"k": "a\\_b\\%"}}) == Comparison("k", Op.EQ, quoted("a_b%"))
    assert parse_query_expr({"like": {"k": "a\\\\%"}}) == Match("k", ("a\\", Wildcard.ANY))
    keep = cq.compile_predicate(parse_query_expr({"like": {"k": "x*%"}}))
    assert keep({"k": "x*yz"}) and not keep({"k": "xyz"})


def test_null() -> None:
    present = parse_query_expr({"ne": {"x": None}})
    assert present == Match("x", (Wildcard.ANY,))
    keep = cq.compile_predicate(present)
    assert [keep(p) for p in ({"x": 0}, {"x": ""}, {"x": False}, {"x": None}, {})] == [
        True,
        True,
        True,
        False,
        False,
    ]
    path, code, status = field_of({"and": [{"eq": {"cloud_fraction": None}}]})
    assert (path, code, status) == (
        "query_expr.and[0].eq.cloud_fraction",
        "qexpr.null-equality",
        422,
    )
    with pytest.raises(cq.Inexpressible):
        parse_query_expr({"eq": {"x": None}})


def test_aliases_rename_and_scale_exactly() -> None:
    aliases = {"cloud_fraction": QueryAlias("cloudCover", 100), "acquired": QueryAlias("timestamp")}
    node = parse_query_expr(
        {
            "and": [
                {"range": {"cloud_fraction": {"lt": 0.07}}},
                {"range": {"acquired": {"gt": "2020-06-01"}}},
            ]
        },
        aliases=aliases,
    )
    assert node == And(
        (
            Comparison("cloudCover", Op.LT, num("7.00")),
            Comparison("timestamp", Op.GT, quoted("2020-06-01")),
        )
    )
    assert cq.compile_predicate(node)({"cloudCover": 6, "timestamp": "2021-01-01T00:00:00Z"})
    assert parse_query_expr({"eq": {"cloud_fraction": "0.5"}}, aliases=aliases) == Comparison(
        "cloudCover", Op.EQ, quoted("50.0")
    )
    assert field_of({"like": {"cloud_fraction": "1%"}}, aliases=aliases)[1] == "qexpr.like-scaled"


@pytest.mark.parametrize(
    ("q", "path", "code"),
    [
        ([], "query_expr", "qexpr.not-an-object"),
        ("not json", "query_expr", "syntax.json"),
        ({}, "query_expr", "qexpr.one-key"),
        ({"and": [], "or": []}, "query_expr", "qexpr.one-key"),
        ({"nand": []}, "query_expr.nand", "qexpr.unknown-operator"),
        ({"and": []}, "query_expr.and", "qexpr.empty-list"),
        ({"or": {"eq": {}}}, "query_expr.or", "qexpr.not-a-list"),
        ({"and": [{"eq": {"a": 1, "b": 2}}]}, "query_expr.and[0].eq", "qexpr.one-key"),
        ({"and": [{"eq": {}}]}, "query_expr.and[0].eq", "qexpr.one-key"),
        ({"and": [1]}, "query_expr.and[0]", "qexpr.not-an-object"),
        ({"and": [{"eq": {"a": [1]}}]}, "query_expr.and[0].eq.a", "qexpr.value-type"),
        ({"and": [{"eq": {"a": {"b": 1}}}]}, "query_expr.and[0].eq.a", "qexpr.value-type"),
        ({"eq": {"a b": 1}}, 'query_expr.eq["a b"]', "qexpr.bad-name"),
        ({"eq": {"1a": 1}}, 'query_expr.eq["1a"]', "qexpr.bad-name"),
        ({"eq": {"a": float("nan")}}, "query_expr.eq.a", "qexpr.not-finite"),
        ({"range": {"cf": {"lt": None}}}, "query_expr.range.cf.lt", "qexpr.value-type"),
        ({"range": {"cf": {"lt": True}}}, "query_expr.range.cf.lt", "qexpr.value-type"),
        ({"range": {"cf": {"below": 1}}}, "query_expr.range.cf.below", "qexpr.unknown-bound"),
        ({"range": {"cf": {}}}, "query_expr.range.cf", "qexpr.range-bounds"),
        (
            {"range": {"cf": {"lt": 1, "gt": 0, "lte": 2}}},
            "query_expr.range.cf",
            "qexpr.range-bounds",
        ),
        ({"range": {"cf": 0.2}}, "query_expr.range.cf", "qexpr.range-bounds"),
        ({"like": {"k": 5}}, "query_expr.like.k", "qexpr.value-type"),
        ({"like": {"k": None}}, "query_expr.like.k", "qexpr.value-type"),
        (
            {"and": [{"or": [{"eq": {"a": 1}}, {"rnage": {}}]}]},
            "query_expr.and[0].or[1].rnage",
            "qexpr.unknown-operator",
        ),
    ],
)
def test_positioned_errors(q: object, path: str, code: str) -> None:
    got_path, got_code, status = field_of(q)
    assert (got_path, got_code, status) == (path, code, 400)


def test_did_you_mean() -> None:
    with pytest.raises(cq.QuerySyntaxError, match="did you mean 'range'"):
        parse_query_expr({"rnage": {"a": {"lt": 1}}})


def test_limits_are_the_parsers() -> None:
    limits = cq.Limits(max_depth=5, max_comparisons=10, max_length=100)
    deep: dict[str, Any] = {"eq": {"a": 1}}
    for _ in range(6):
        deep = {"and": [deep]}
    path, code, status = field_of(deep, limits=limits)
    assert (code, status) == ("limit.depth", 413) and path.startswith("query_expr.and[0]")
    wide = {"or": [{"eq": {"a": i}} for i in range(11)]}
    assert field_of(wide, limits=limits)[1:] == ("limit.comparisons", 413)
    bounds = {"or": [{"range": {"a": {"gt": i, "lt": i + 1}}} for i in range(6)]}
    assert field_of(bounds, limits=limits)[1:] == ("limit.comparisons", 413)
    assert field_of({"eq": {"a": "x" * 101}}, limits=limits)[1:] == ("limit.length", 413)
    assert field_of({"eq": {"a": 10**5000}})[1] == "qexpr.number-too-long"
    huge = {"or": [{"eq": {"a": i}} for i in range(20_000)]}
    with pytest.raises(cq.QueryLimitError) as info:
        parse_query_expr(huge)
    assert info.value.limit == "comparisons"


def test_deep_inputs_are_refused_without_recursion() -> None:
    deep: dict[str, Any] = {"eq": {"a": 1}}
    for _ in range(100_000):
        deep = {"and": [deep]}
    with pytest.raises(cq.QueryLimitError) as info:
        parse_query_expr(deep)
    assert info.value.limit == "depth"
    text = '{"and": [' * 100_000 + '{"eq": {"a": 1}}' + "]}" * 100_000
    limits = cq.Limits(max_length=10**7)
    with pytest.raises(cq.QueryLimitError) as info:
        parse_query_expr(text, limits=limits)
    assert info.value.limit == "depth"
    with pytest.raises(cq.QueryLimitError):
        load_json_guarded("[" * 100_000, max_length=10**6)
    # JSON text within the limits is read as the object it holds
    assert parse_query_expr('{"and": [{"eq": {"a": 1}}]}') == Comparison("a", Op.EQ, num("1"))
    assert field_of('{"and": [}')[1] == "syntax.json"
    assert field_of(b"\xff")[1] == "syntax.json"


def test_lazy_export() -> None:
    assert cq.parse_query_expr is parse_query_expr and cq.to_query_expr is to_query_expr
    assert "parse_query_expr" in dir(cq)


def test_to_query_expr_refuses_what_q_cannot_say() -> None:
    a = Comparison("a", Op.EQ, num("1"))
    for node in (Not(a), Match("a", ("x", Wildcard.ANY), negated=True), cq.parse_types("WV02")):
        with pytest.raises(cq.Inexpressible):
            to_query_expr(node)
    with pytest.raises(cq.UsageError):
        to_query_expr("a = 1")  # type: ignore[arg-type]
    # literals the q parser does not make are written as text that compares the same
    gbdx = cq.parse_filter("a = 1e5 AND b = WV02 AND c = 1.50 AND d = true")
    assert to_query_expr(gbdx) == {
        "and": [
            {"eq": {"a": "1e5"}},
            {"eq": {"b": "WV02"}},
            {"eq": {"c": "1.50"}},
            {"eq": {"d": True}},
        ]
    }


# --------------------------------------------------------------------------------------------
# The real client's output


def _examples() -> list[object]:
    path = require_shared(DESCARTES / "qfilter_examples.json")
    data = json.loads(path.read_text())
    out = []
    for value in data.values():
        if value.get("serialize") is not None:
            out.append(value["serialize"])
        if value.get("sent_as_query_expr") is not None:
            out.append(value["sent_as_query_expr"])
    return out


def test_qfilter_examples_all_parse() -> None:
    examples = _examples()
    assert len(examples) >= 15
    refused = []
    for q in examples:
        if isinstance(q, list):  # q=[a, b] as serialize() shows it; the wire wraps it in and
            q = {"and": q}
        try:
            node = parse_query_expr(q)
        except cq.Inexpressible as error:
            refused.append(error.problems[0].field)
            continue
        assert parse_query_expr(to_query_expr(node)) == node
    # the one example the AST cannot hold: p.cloud_fraction == None ("missing or null")
    assert set(refused) == {"query_expr.eq.cloud_fraction", "query_expr.and[0].eq.cloud_fraction"}


def test_captured_query_exprs_parse() -> None:
    path = require_shared(DESCARTES / "captured.jsonl")
    seen = 0
    for line in path.read_text().splitlines():
        entry = json.loads(line)
        body = (entry.get("body") or {}).get("json")
        if isinstance(body, dict) and "query_expr" in body:
            node = parse_query_expr(body["query_expr"])
            assert parse_query_expr(to_query_expr(node)) == node
            seen += 1
    assert seen >= 6


# --------------------------------------------------------------------------------------------
# Properties: round trip, and agreement with an evaluator written from the wire's grammar

NUMERIC = ("n1", "n2")
TEXT = ("s1", "s2")
BOOLEAN = ("b",)
numbers = st.one_of(st.integers(-5, 5), st.sampled_from([0.5, -1.25, 2.0, 3.75]))
texts = st.text(alphabet="ab_%*\\", max_size=4)


def leaves() -> st.SearchStrategy[dict[str, Any]]:
    num_prop = st.sampled_from(NUMERIC)
    text_prop = st.sampled_from(TEXT)
    bound_ops = st.sampled_from(["lt", "lte", "gt", "gte"])
    return st.one_of(
        st.builds(lambda p, v, op: {op: {p: v}}, num_prop, numbers, st.sampled_from(["eq", "ne"])),
        st.builds(lambda p, v, op: {op: {p: v}}, text_prop, texts, st.sampled_from(["eq", "ne"])),
        st.builds(lambda v, op: {op: {"b": v}}, st.booleans(), st.sampled_from(["eq", "ne"])),
        st.builds(
            lambda p, op: {"ne": {p: None}}, st.sampled_from(NUMERIC + TEXT + BOOLEAN), st.just(0)
        ),
        st.builds(
            lambda p, bounds: {"range": {p: bounds}},
            num_prop,
            st.dictionaries(bound_ops, numbers, min_size=1, max_size=2),
        ),
        st.builds(
            lambda p, bounds: {"range": {p: bounds}},
            text_prop,
            st.dictionaries(bound_ops, texts, min_size=1, max_size=2),
        ),
        st.builds(lambda p, v: {"like": {p: v}}, text_prop, texts),
    )


q_json = st.recursive(
    leaves(),
    lambda inner: st.builds(
        lambda op, items: {op: items},
        st.sampled_from(["and", "or"]),
        st.lists(inner, min_size=1, max_size=4),
    ),
    max_leaves=12,
)

records = st.fixed_dictionaries(
    {},
    optional={
        "n1": st.one_of(st.none(), numbers),
        "n2": st.one_of(st.none(), numbers),
        "s1": st.one_of(st.none(), texts),
        "s2": st.one_of(st.none(), texts),
        "b": st.one_of(st.none(), st.booleans()),
    },
)


def _like(pattern: str, value: str) -> bool:
    """SQL LIKE with backslash escapes, by dynamic programming over (pattern piece, position)."""
    pieces: list[tuple[str, str]] = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\" and i + 1 < len(pattern):
            pieces.append(("lit", pattern[i + 1]))
            i += 2
            continue
        pieces.append(("any", "") if c == "%" else ("one", "") if c == "_" else ("lit", c))
        i += 1
    reach = {0}
    for kind, ch in pieces:
        nxt: set[int] = set()
        for at in reach:
            if kind == "any":
                nxt.update(range(at, len(value) + 1))
            elif at < len(value) and (kind == "one" or value[at] == ch):
                nxt.add(at + 1)
        reach = nxt
    return len(value) in reach


def _cmp(op: str, a: Any, b: Any) -> bool:
    table: dict[str, bool] = {
        "eq": a == b,
        "ne": a != b,
        "lt": a < b,
        "lte": a <= b,
        "gt": a > b,
        "gte": a >= b,
    }
    return table[op]


def evaluate(q: dict[str, Any], record: dict[str, Any]) -> bool:
    """The q JSON on a record: a missing or null property makes every condition on it false."""
    stack: list[tuple[dict[str, Any], list[bool] | None]] = []
    results: list[bool] = []
    todo: list[Any] = [q]
    while todo:
        item = todo.pop()
        if isinstance(item, tuple):  # ("and"|"or", count)
            op, count = item
            values = results[len(results) - count :]
            del results[len(results) - count :]
            results.append(all(values) if op == "and" else any(values))
            continue
        ((op, body),) = item.items()
        if op in ("and", "or"):
            todo.append((op, len(body)))
            todo.extend(reversed(body))
            continue
        ((name, arg),) = body.items()
        value = record.get(name)
        if value is None:
            results.append(False)
        elif op == "like":
            results.append(_like(arg, value))
        elif op == "range":
            results.append(all(_cmp(bop, _norm(value), _norm(bv)) for bop, bv in arg.items()))
        elif arg is None:  # ne null: present
            results.append(True)
        else:
            results.append(_cmp(op, _norm(value), _norm(arg)))
    del stack
    return results[0]


def _norm(value: Any) -> Any:
    if isinstance(value, bool | str):
        return value
    return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)


@settings(max_examples=scaled(300), deadline=None)
@given(q_json, st.lists(records, min_size=1, max_size=8))
def test_predicate_agrees_with_an_independent_evaluator(
    q: dict[str, Any], rows: list[dict[str, Any]]
) -> None:
    node = parse_query_expr({"and": [q]})
    keep = cq.compile_predicate(node)
    for row in rows:
        assert keep(row) == evaluate(q, row), (q, row)


@settings(max_examples=scaled(300), deadline=None)
@given(q_json)
def test_round_trip(q: dict[str, Any]) -> None:
    node = parse_query_expr(q)
    assert parse_query_expr(to_query_expr(node)) == node
    assert parse_query_expr(json.dumps(q)) == node


@settings(max_examples=scaled(300), deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
        lambda inner: (
            st.lists(inner, max_size=3)
            | st.dictionaries(
                st.sampled_from(["and", "or", "eq", "ne", "range", "like", "lt", "gt", "x", "a b"]),
                inner,
                max_size=3,
            )
        ),
        max_leaves=15,
    )
)
def test_junk_raises_only_query_errors(junk: object) -> None:
    try:
        parse_query_expr(junk)
    except cq.QueryError as error:
        assert error.problems[0].field.startswith("query_expr")
