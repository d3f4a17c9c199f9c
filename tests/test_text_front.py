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
