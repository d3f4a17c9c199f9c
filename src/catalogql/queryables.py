"""Queryables schemas: reading one, inferring one from records, checking a filter against one.

A queryables schema (OGC API Features / STAC ``queryables``) is a JSON Schema object whose
``properties`` declare each property's type. This module reads it (:func:`check_schema`,
:func:`property_type`), infers one from sample records (:func:`infer_queryables`) and checks a
parsed filter against one (:func:`validate_filter`). What a declared type then means for a
comparison is the typing table of :mod:`catalogql.semantics`, which this module reads its
:class:`~catalogql.semantics.PropertyType` and :class:`~catalogql.semantics.ValueType` from.

>>> schema = infer_queryables([{"properties": {"cloudCover": 3, "sensorPlatformName": "WV03"}}])
>>> property_type(schema, "cloudCover")
PropertyType(value_type=<ValueType.NUMBER: 'number'>, is_list=False, enum=None)
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from catalogql.ast import Comparison, Match, Node, Op, iter_nodes
from catalogql.errors import argument_error
from catalogql.semantics import (
    PropertyType,
    ValueType,
    instant_key,
    is_datetime_name,
    type_problem,
)
from catalogql.syntax.errors import Diagnostic, Problem, QueryValidationError, line_and_column

__all__ = ["check_schema", "infer_queryables", "property_type", "validate_filter"]


# --------------------------------------------------------------------------------------------
# Schemas


_SCHEMA_TYPES = {
    "integer": ValueType.NUMBER,
    "number": ValueType.NUMBER,
    "string": ValueType.TEXT,
    "boolean": ValueType.BOOLEAN,
}


def _declared_type(spec: Mapping[str, Any]) -> tuple[ValueType | None, bool]:
    raw = spec.get("type")
    candidates = raw if isinstance(raw, list) else [raw]
    if not all(t is None or isinstance(t, str) for t in candidates):
        return None, False  # not a JSON Schema type: values compare by their own type
    types = [t for t in candidates if t not in (None, "null")]
    if types == ["array"] or (len(types) == 1 and types[0] == "array"):
        items = spec.get("items")
        inner, _ = _declared_type(items) if isinstance(items, Mapping) else (None, False)
        return inner, True
    if set(types) <= {"integer", "number"} and types:
        return ValueType.NUMBER, False
    if len(types) != 1 or not isinstance(types[0], str):
        return None, False
    value_type = _SCHEMA_TYPES.get(types[0])
    if value_type is ValueType.TEXT and spec.get("format") in ("date-time", "date"):
        value_type = ValueType.DATETIME
    return value_type, False


def _schema_entry(schema: Mapping[str, Any], name: str) -> Mapping[str, Any] | None:
    props = schema.get("properties")
    if not isinstance(props, Mapping):
        return None
    entry = props.get(name)
    if isinstance(entry, Mapping):
        return entry
    node: Any = schema
    for key in name.split("."):  # nested objects: properties.a.properties.b
        props = node.get("properties") if isinstance(node, Mapping) else None
        node = props.get(key) if isinstance(props, Mapping) else None
        if not isinstance(node, Mapping):
            return None
    return node  # type: ignore[no-any-return]


def check_schema(schema: object) -> Mapping[str, Any]:
    """Return ``schema`` if it has the shape of a queryables schema, else raise a QueryError.

    The shape: an object whose ``properties`` (if present) maps each name to an object.

    >>> check_schema({"properties": {"cloudCover": {"type": "integer"}}})["properties"]
    {'cloudCover': {'type': 'integer'}}
    >>> check_schema({"properties": {"a": "x"}})
    Traceback (most recent call last):
      ...
    catalogql.syntax.errors.QueryValidationError: property 'a' must be an object such as {"type": "string"} at line 1, column 1 [schema.invalid]
    ...
    """  # noqa: E501
    hint = 'a queryables schema looks like {"properties": {"cloudCover": {"type": "integer"}}}'
    if not isinstance(schema, Mapping):
        raise QueryValidationError(
            f"a queryables schema must hold a JSON object, not {type(schema).__name__}",
            code="schema.invalid",
            hint=hint,
        )
    props = schema.get("properties", {})
    if not isinstance(props, Mapping):
        raise QueryValidationError(
            "the schema's 'properties' must be an object",
            code="schema.invalid",
            hint=hint,
        )
    for name, entry in props.items():
        if not isinstance(name, str) or not isinstance(entry, Mapping):
            raise QueryValidationError(
                f'property {name!r} must be an object such as {{"type": "string"}}',
                code="schema.invalid",
                hint=hint,
            )
        kind = entry.get("type")
        kinds = kind if isinstance(kind, list) else [kind]
        if not all(k is None or isinstance(k, str) for k in kinds):
            raise QueryValidationError(
                f"the type of property {name!r} must be a JSON Schema type name or a list of "
                f"them, not {kind!r}",
                code="schema.invalid",
                hint='write e.g. "type": "integer" or "type": ["string", "null"]',
            )
        _check_type_names(entry, f"properties.{name}")
    return schema


JSON_SCHEMA_TYPES = ("array", "boolean", "integer", "null", "number", "object", "string")
"""The type names of JSON Schema; a queryables schema may use no other."""


def _check_type_names(entry: Mapping[str, Any], where: str) -> None:
    """Refuse a ``type`` (in ``entry`` or its ``items``, at any depth) that JSON Schema lacks.

    ``where`` names ``entry`` in the schema (``properties.cloudCover``); the error's field is
    the path of the wrong ``type`` (``properties.cloudCover.type``, ``...items.type[1]``).
    """
    while True:  # items of items of ...: a loop, not a recursion
        kind = entry.get("type")
        listed = isinstance(kind, list)
        kinds: list[Any] = kind if isinstance(kind, list) else [kind]
        for i, k in enumerate(kinds):
            if k is None or k in JSON_SCHEMA_TYPES:
                continue
            field = f"{where}.type[{i}]" if listed else f"{where}.type"
            accepted = ", ".join(f'"{t}"' for t in JSON_SCHEMA_TYPES)
            error = QueryValidationError(
                f"{field}: {k!r} is not a JSON Schema type",
                code="schema.unknown-type",
                hint=f'use one of {accepted} (a date-time is "string" with "format": "date-time")',
            )
            error.problems = (
                replace(error.problem, field=field, offset=None, line=None, column=None),
            )
            raise error
        items = entry.get("items")
        if not isinstance(items, Mapping):
            return
        entry, where = items, f"{where}.items"


def property_type(schema: Mapping[str, Any] | None, name: str) -> PropertyType | None:
    """The declared type of ``name`` in a queryables schema, or None when it is not declared.

    >>> schema = {"properties": {"timestamp": {"type": "string", "format": "date-time"}}}
    >>> property_type(schema, "timestamp")
    PropertyType(value_type=<ValueType.DATETIME: 'datetime'>, is_list=False, enum=None)
    """
    if schema is None:
        return None
    entry = _schema_entry(schema, name)
    if entry is None:
        return None
    value_type, is_list = _declared_type(entry)
    enum_values = entry.get("enum")
    if is_list and isinstance(entry.get("items"), Mapping):
        enum_values = entry["items"].get("enum")
    return PropertyType(
        value_type, is_list, tuple(enum_values) if isinstance(enum_values, list) else None
    )


def infer_queryables(records: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """A queryables schema inferred from sample records (or from their ``properties``).

    Each property gets the JSON type all its non-null values share (``integer`` widens to
    ``number`` next to floats); a string property whose every value is an ISO 8601 date-time, or
    whose name says it is one, gets ``"format": "date-time"``. Properties whose values disagree get
    no type (they compare by each record's value).

    >>> infer_queryables([{"properties": {"cloudCover": 0, "timestamp": "2015-07-31T10:07:17Z"}}])
    {'type': 'object', 'properties': {'cloudCover': {'type': 'integer'}, 'timestamp': {'type': 'string', 'format': 'date-time'}}}
    """  # noqa: E501
    if isinstance(records, str | bytes | Mapping) or not isinstance(records, Iterable):
        raise argument_error("infer_queryables", "records", records, "a list of record dicts")
    seen: dict[str, set[str]] = {}
    all_instants: dict[str, bool] = {}
    item_types: dict[str, set[str]] = {}
    for i, record in enumerate(records):
        if not isinstance(record, Mapping):
            raise argument_error("infer_queryables", f"records[{i}]", record, "a record dict")
        props = record.get("properties", record)
        if not isinstance(props, Mapping):
            continue
        for name, value in props.items():
            kinds = seen.setdefault(name, set())
            if value is None:
                continue
            kind = _json_type(value)
            kinds.add(kind)
            if kind == "string":
                ok = instant_key(value) is not None
                all_instants[name] = all_instants.get(name, True) and ok
            elif kind == "array":
                item_types.setdefault(name, set()).update(
                    _json_type(v) for v in value if v is not None
                )
    properties: dict[str, Any] = {}
    for name in seen:
        kinds = seen[name]
        if kinds == {"integer", "number"}:
            kinds = {"number"}
        spec: dict[str, Any] = {}
        if len(kinds) == 1:
            (kind,) = kinds
            spec["type"] = kind
            if kind == "string" and (all_instants.get(name) or is_datetime_name(name)):
                spec["format"] = "date-time"
            if kind == "array":
                inner = item_types.get(name, set())
                if inner == {"integer", "number"}:
                    inner = {"number"}
                if len(inner) == 1:
                    spec["items"] = {"type": next(iter(inner))}
        properties[name] = spec
    return {"type": "object", "properties": properties}


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | tuple):
        return "array"
    return "object"


# --------------------------------------------------------------------------------------------
# Validation against a schema


def validate_filter(node: Node, schema: Mapping[str, Any], text: str = "") -> list[Diagnostic]:
    """Check a filter against a queryables schema.

    Unknown properties and type mismatches are errors (with a "did you mean"); values outside an
    ``enum`` are warnings.

    >>> from catalogql import parse_filter
    >>> schema = {"properties": {"cloudCover": {"type": "integer"}}}
    >>> [d.message for d in validate_filter(parse_filter("cloudCoverr < 20"), schema)]
    ["unknown property 'cloudCoverr'"]
    """
    findings: list[Diagnostic] = []
    known = list(check_schema(schema).get("properties", {}))

    def add(severity: str, code: str, message: str, offset: int, width: int, hint: str) -> None:
        line, column = line_and_column(text, offset)
        problem = Problem("", offset, message, hint, code, line=line, column=column, width=width)
        findings.append(Diagnostic(severity, problem))  # type: ignore[arg-type]

    for leaf in iter_nodes(node):
        if not isinstance(leaf, Comparison | Match):
            continue
        prop_at, value_at = leaf.offsets or (0, 0)
        declared = property_type(schema, leaf.property)
        if declared is None:
            close = difflib.get_close_matches(leaf.property, known, n=1, cutoff=0.6)
            add(
                "error",
                "schema.unknown-property",
                f"unknown property '{leaf.property}'",
                prop_at,
                len(leaf.property),
                f"did you mean '{close[0]}'?" if close else "see the queryables for valid names",
            )
            continue
        if isinstance(leaf, Match) or declared.value_type is None:
            continue
        problem = type_problem(declared.value_type, leaf)
        if problem:
            add("error", "schema.type-mismatch", problem[0], value_at, 1, problem[1])
        elif declared.enum is not None and leaf.op is Op.EQ:
            allowed = [str(v) for v in declared.enum]
            if leaf.value.text not in allowed:
                close = difflib.get_close_matches(leaf.value.text, allowed, n=1, cutoff=0.6)
                add(
                    "warning",
                    "schema.not-in-enum",
                    f"'{leaf.value.text}' is not one of the values of '{leaf.property}'",
                    value_at,
                    1,
                    f"did you mean '{close[0]}'?" if close else "allowed: " + ", ".join(allowed),
                )
    return findings
