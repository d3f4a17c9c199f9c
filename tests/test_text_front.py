"""Issue 10, the text front end: hints that fit the dialect, schema type names, lint warnings
for comparisons that can never match, and the canonical round trip at the length limit."""

from __future__ import annotations

from typing import Any

import pytest

import catalogql as cq
from catalogql.queryables import JSON_SCHEMA_TYPES, check_schema

# --------------------------------------------------------------------------------------------
# Hints suggest only what the dialect accepts


@pytest.mark.parametrize(
    "text", ["cloudCover NOT", "(cloudCover NOT", "a like 'x%'", "a NOT like 'x%'"]
)
def test_strict_hints_never_suggest_like(text: str) -> None:
    strict = cq.check(text, dialect="strict")
    assert strict[0].severity == "error"
    assert "LIKE" not in strict[0].hint.replace("no LIKE", "").replace("for NOT LIKE", "")
    assert "<>" in strict[0].hint or "=" in strict[0].hint
    default = cq.check(text)
    assert "LIKE" in default[0].hint  # the default dialect reads LIKE: its hint may offer it


def test_strict_hint_for_a_trailing_not_is_accepted_by_strict() -> None:
    (error,) = cq.check("cloudCover NOT", dialect="strict")
    assert "NOT cloudCover = VALUE" in error.hint
    assert cq.check("NOT cloudCover = 1", dialect="strict") == []
    assert cq.check("cloudCover <> x*", dialect="strict") == []


# --------------------------------------------------------------------------------------------
# Schemas: only JSON Schema's type names


@pytest.mark.parametrize(
    ("schema", "field"),
    [
        ({"properties": {"a": {"type": "weird"}}}, "properties.a.type"),
        ({"properties": {"a": {"type": ["string", "wierd"]}}}, "properties.a.type[1]"),
        (
            {"properties": {"a": {"type": "array", "items": {"type": "int"}}}},
            "properties.a.items.type",
        ),
        ({"properties": {"a": {"type": "datetime"}}}, "properties.a.type"),
    ],
)
def test_unknown_schema_types_are_refused_where_they_are(schema: Any, field: str) -> None:
    with pytest.raises(cq.QueryError) as caught:
        check_schema(schema)
    problem = caught.value.problems[0]
    assert problem.field == field
    assert problem.code == "schema.unknown-type"
    assert all(f'"{name}"' in problem.hint for name in JSON_SCHEMA_TYPES)
    (diagnostic,) = cq.check("a = 1", schema=schema)
    assert diagnostic.severity == "error" and diagnostic.problem.field == field


def test_every_json_schema_type_is_accepted() -> None:
    for name in JSON_SCHEMA_TYPES:
        check_schema({"properties": {"a": {"type": name}, "b": {"type": [name, "null"]}}})


def test_cli_check_refuses_a_weird_schema_type(tmp_path: Any, capsys: Any) -> None:
    from catalogql.cli import main

    path = tmp_path / "schema.json"
    path.write_text('{"properties": {"a": {"type": "weird"}}}')
    assert main(["check", "--schema", str(path), "a = 1"]) == 2
    err = capsys.readouterr().err
    assert "properties.a.type" in err and '"string"' in err


# --------------------------------------------------------------------------------------------
# Lint: comparisons that can never be true


@pytest.mark.parametrize(
    ("text", "offset", "width"),
    [
        ("timestamp > yesterday", 12, 9),
        ("acquisitionDate = 'today'", 18, 7),
        ("cloudCover < 20 AND NOT startDate <= now", 37, 3),
    ],
)
def test_a_date_property_against_a_word_is_linted(text: str, offset: int, width: int) -> None:
    (finding,) = cq.check(text)
    assert (finding.severity, finding.code) == ("warning", "lint.not-a-date")
    assert (finding.offset, finding.width) == (offset, width)
    assert "2016-01-01" in finding.hint
    node = cq.parse_filter(text)  # valid: the lint is advice, and the comparison indeed never holds
    records = [
        {"timestamp": t, "acquisitionDate": t, "startDate": t, "cloudCover": 1}
        for t in ("yesterday", "today", "now", "2016-01-01T00:00:00Z", 5)
    ]
    holds = cq.compile_predicate(node)
    assert not any(holds(r) for r in records)


@pytest.mark.parametrize(
    "text",
    [
        "timestamp > 2016-01-01",
        "timestamp < 20",
        "timestamp = true",
        "catalogID = yesterday",
        "timestamp = 2016*",
        "x = 'null'",
        "x < null",
    ],
)
def test_comparisons_that_can_hold_are_not_linted(text: str) -> None:
    assert [d for d in cq.check(text) if d.code.startswith("lint.")] == []


def test_a_schema_decides_what_is_a_date() -> None:
    text_schema = {"properties": {"timestamp": {"type": "string"}}}
    assert cq.check("timestamp > yesterday", schema=text_schema) == []  # text, by the schema
    date_schema = {"properties": {"when": {"type": "string", "format": "date-time"}}}
    codes = [d.code for d in cq.check("when > yesterday", schema=date_schema)]
    assert codes == ["schema.type-mismatch"]  # the schema's error, no second finding


@pytest.mark.parametrize(
    ("text", "offset"), [("x = null", 4), ("x <> NULL", 5), ("a = 1 AND x = Null", 14)]
)
def test_a_bare_null_is_linted_with_a_way_to_say_it(text: str, offset: int) -> None:
    (finding,) = cq.check(text)
    assert (finding.code, finding.offset, finding.width) == ("lint.null-literal", offset, 4)
    assert "IS NULL" in finding.hint and "'" in finding.hint
    assert "missing" in finding.hint


def test_lint_warnings_are_one_per_kind() -> None:
    (finding,) = cq.check(" AND ".join(f"timestamp > day{i}" for i in range(100)))
    assert finding.count == 100


# --------------------------------------------------------------------------------------------
# The canonical round trip holds at the length limit (issue 10 item 7)

SMALL = cq.Limits(max_length=600, max_comparisons=200)
SMALL_TYPES = cq.Limits(max_length=160, max_comparisons=200)
COMPACT_FILTERS = ["a=1", "b<2", "c='x'", 'd="\'"', "e LIKE 'x_'", "NOT f=1", "g=\\\\", "h='\\'"]
"""Short spellings whose canonical text is longer: spaces around the operator, quotes doubled,
a backslash escaped, a LIKE pattern quoted."""
COMPACT_TYPES = ["A", "(A OR B)", "NOT(C)", "(D OR NOT(E))", "(F* OR G)"]


def _joined_texts(pieces: Any, limits: cq.Limits) -> Any:
    """Lists of ever longer texts: generated expressions joined one more at a time.

    The drawn pieces are used in turn until a text is twice as long as ``limits.max_length``,
    so that each list crosses the length limit, and its last accepted text is within one piece
    of a limit.
    """
    from hypothesis import strategies as st

    separators = st.sampled_from([" AND ", " OR ", ", ", ",", ")AND(", ")OR(", "AND", "OR"])

    def grow(parts: list[str], seps: list[str]) -> list[str]:
        text = parts[0]
        texts = [text]
        step = 0
        while len(text) <= 2 * limits.max_length:
            step += 1
            part, sep = parts[step % len(parts)], seps[step % len(seps)]
            if sep in ("AND", "OR") and not (text.endswith(")") and part.startswith("(")):
                sep = f" {sep} "  # no space is needed between parentheses only
            if sep.startswith(")") and "," not in text + part:  # commas: top level only
                text = f"({text}{sep}{part})"
            else:
                text = text + {")AND(": " AND ", ")OR(": " OR "}.get(sep, sep) + part
            texts.append(text)
        return texts

    return st.builds(
        grow, st.lists(pieces, min_size=1, max_size=12), st.lists(separators, min_size=1)
    )


def _round_trip(
    parse: Any, texts: list[str], tally: dict[str, int], small: cq.Limits = SMALL
) -> None:
    for text in texts:
        if not _round_trip_one(parse, text, tally, small):
            return  # past a limit: the longer texts are too


def _round_trip_one(parse: Any, text: str, tally: dict[str, int], small: cq.Limits) -> bool:
    from catalogql.compile.parse import CANONICAL_GROWTH
    from catalogql.syntax.errors import QueryLimitError

    unlimited = parse(text, cq.Limits(max_length=10**7, max_depth=10**4, max_comparisons=10**6))
    # the bound that lets a short filter skip printing its canonical text
    assert len(cq.to_gbdx(unlimited)) <= CANONICAL_GROWTH * len(text)
    try:
        node = parse(text, small)
    except QueryLimitError:
        tally["refused"] += 1
        return False
    canonical = cq.to_gbdx(node)
    assert len(canonical) <= small.max_length
    assert parse(canonical, small) == node  # the law, under the same limits
    tally["accepted"] += 1
    if len(canonical) > 0.8 * small.max_length:
        tally["near"] += 1
    return True


def test_the_canonical_text_of_every_accepted_filter_is_accepted() -> None:
    import warnings

    from hypothesis import given, settings
    from hypothesis import strategies as st

    from catalogql.testing.strategies import filter_texts
    from property_settings import scaled

    tally = {"accepted": 0, "refused": 0, "near": 0}

    def parse(text: str, limits: cq.Limits) -> Any:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", cq.QueryWarning)
            return cq.parse_filter(text, limits=limits)

    pieces = st.one_of(st.sampled_from(COMPACT_FILTERS), filter_texts(max_leaves=6))

    @settings(max_examples=scaled(40), deadline=None)
    @given(_joined_texts(pieces, SMALL))
    def run(texts: list[str]) -> None:
        _round_trip(parse, texts, tally)

    run()
    assert tally["accepted"] and tally["refused"] and tally["near"], tally  # both sides were tried


def test_the_canonical_text_of_every_accepted_type_expression_is_accepted() -> None:
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from catalogql.testing.strategies import type_texts
    from property_settings import scaled

    tally = {"accepted": 0, "refused": 0, "near": 0}

    def parse(text: str, limits: cq.Limits) -> Any:
        return cq.parse_types(text, limits=limits)

    pieces = st.one_of(
        st.sampled_from(COMPACT_TYPES), type_texts(max_leaves=6).filter(lambda t: "," not in t)
    )

    @settings(max_examples=scaled(40), deadline=None)
    @given(_joined_texts(pieces, SMALL_TYPES).map(lambda ts: [t.replace(",", " AND ") for t in ts]))
    def run(texts: list[str]) -> None:
        _round_trip(parse, texts, tally, SMALL_TYPES)

    run()
    assert tally["accepted"] and tally["refused"] and tally["near"], tally


def test_the_reproducer_of_item_7() -> None:
    """``"a=1," * 9999 + "a=1"`` (40 KB) has a 100 KB canonical text: refused, as is its form."""
    import warnings

    from catalogql.syntax.errors import QueryLimitError

    with pytest.raises(QueryLimitError) as caught:
        cq.parse_filter("a=1," * 9999 + "a=1")
    assert caught.value.limit == "length" and "canonical" in caught.value.message
    # the longest such filter whose canonical text fits is accepted, and its canonical text too
    fits = (cq.Limits().max_length - 5) // 10  # "a = 1 AND " per comparison, "a = 1" last
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", cq.QueryWarning)
        node = cq.parse_filter("a=1," * fits + "a=1")
        with pytest.raises(QueryLimitError):
            cq.parse_filter("a=1," * (fits + 1) + "a=1")
    canonical = cq.to_gbdx(node)
    assert len(canonical) <= cq.Limits().max_length < len(canonical) + 10
    assert cq.parse_filter(canonical) == node
    assert [d.code for d in cq.check("a=1," * 9999 + "a=1")] == ["limit.length"]


def test_a_type_expression_whose_canonical_text_is_too_long_is_refused() -> None:
    from catalogql.syntax.errors import QueryLimitError

    text = "(AA OR BB)AND" * 4900 + " A"  # 63,702 characters; printed with spaces, 73,501
    with pytest.raises(QueryLimitError) as caught:
        cq.parse_types(text)
    assert caught.value.limit == "length" and "73501" in caught.value.message


@pytest.mark.parametrize(
    "unit", ["(A OR B)AND", "(A OR B)AND NOT", "NOT(A OR B)OR ", "(A OR B)AND("]
)
def test_type_expressions_swept_through_the_length_limit(unit: str) -> None:
    from catalogql.syntax.errors import QueryLimitError

    accepted = 0
    for k in range(1, 60):
        text = unit * k + " C" + ")" * (k if unit.endswith("(") else 0)
        try:
            node = cq.parse_types(text, limits=SMALL_TYPES)
        except QueryLimitError:
            break
        assert cq.parse_types(cq.to_gbdx(node), limits=SMALL_TYPES) == node
        accepted += 1
    assert 0 < accepted < 59
