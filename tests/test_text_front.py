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
