"""Compile a filter AST to OGC CQL2, as JSON (``to_cql2_json``) and as text (``to_cql2_text``).

The filter is first written as CQL2 JSON, one small function per AST node kind, and the text is
that JSON printed, one small function per CQL2 operator: the two outputs are one expression by
construction. Both are folds by :func:`catalogql.ast.fold` (an explicit stack), and
``AND``/``OR`` stay n-ary, so a 10,000-term chain or a few hundred nested NOTs never recurse.

**Literal types.** CQL2 literals are typed; ours are text with a kind (SPEC section 4), typed by
the property they meet. With a queryables ``schema`` (read through
:func:`catalogql.queryables.property_type`), a property's declared type decides:

==============  ==========================================================================
declared type   the literal is written as
==============  ==========================================================================
number          a number (``20``, ``10.0``; an int stays an int in JSON), else an error
string          a string, the literal's text as written (``catalogID = 1050010018826700``
                gives ``'1050010018826700'``)
date-time       ``TIMESTAMP('2016-01-01T00:00:00Z')``, normalised to UTC with every
                fractional digit kept (a date means midnight UTC), else an error
boolean         ``TRUE``/``FALSE`` with ``=`` and ``<>``, else an error
array of T      ``=``: ``A_CONTAINS(p, (v))``, "some element equals v"; ``<>``:
                ``NOT (A_CONTAINEDBY(p, (v)))``, "some element differs from v"; the element
                typed as T. Ordering operators, wildcards and arrays of date-times have no
                exact CQL2 form: a :class:`~catalogql.QueryError` ``compile.inexpressible``
==============  ==========================================================================

Without a schema (and for a property the schema does not declare, or declares without a type):
a number literal (``cloudCover < 20``) is a number; a property named like a date-time
(:func:`~catalogql.semantics.is_datetime_name`) against an ISO 8601 literal gets a ``TIMESTAMP``;
a *bare* ``true``/``false`` (any case) with ``=`` or ``<>`` is a boolean, while a quoted
``'true'`` stays a string; everything else is a string. A wildcard is ``LIKE`` (``*`` is ``%``,
LIKE's one-character wildcard is ``_``, and ``%``, ``_`` and ``\\`` in the text are escaped with
CQL2's escape character ``\\``); a negated one is ``NOT (p LIKE ...)``.

**What CQL2 cannot say exactly** (each is tested as a deviation in ``tests/test_cql2.py``).
Without a schema, the value-typed rules of SPEC section 4 cannot be written, because a CQL2
literal has one type and the record's value decides ours:

* a number literal against a text value: ``catalogID = 1050010018826700`` compares the text of an
  id in the predicate; in CQL2 it is a number against a string (unknown; cql2-rs raises);
* a number written as text against a number value: ``cloudCover = '0'`` is numeric in the
  predicate, a string against a number in CQL2;
* booleans: ``flag = true`` does not match the string ``'true'``, and ``flag = 'true'`` does not
  match the boolean ``true``, as both do in the predicate;
* lists: a property that holds a list cannot be known, so the comparison is written for a
  scalar; the predicate's "any element compares true" becomes unknown (cql2-rs raises);
* date-named properties: against a literal that is not ISO 8601 the predicate says unknown, CQL2
  compares text;
* a wildcard against a number or boolean value matches its text form in the predicate
  (``catalogID = 1050010*`` on a numeric id); CQL2's LIKE is for strings.

With or without a schema, these differ between cql2-rs 0.6.0's ``Expr.matches`` and
:func:`~catalogql.compile_predicate`:

* missing and null properties: both are SQL's *unknown*, but where the unknown reaches the top
  (``x = 1`` or ``NOT x = 1`` without ``x``) cql2-rs raises "Could not reduce expression to
  boolean" where the predicate returns False; an AND with a false item or an OR with a true
  item still decides in both;
* a value of another type than the literal's (a string against a number, ...): unknown in both,
  and cql2-rs raises as above; a date-time property holding text that is not a date-time makes
  cql2-rs raise a parse error even where the rest of the filter decides;
* dotted names: ``a.b`` reads the nested path ``{"a": {"b": ...}}`` in both, but the predicate
  first reads a flat key ``"a.b"``, which cql2-rs does not find;
* cql2-rs compares numbers as 64-bit floats: integers past 2**53 may compare equal when they
  differ (the JSON keeps the integer as written); a number past the float range (``1e400``) has
  no CQL2 form at all (``compile.inexpressible``);
* a ``TIMESTAMP`` with more than nine fractional digits is valid CQL2, which cql2-rs cannot
  evaluate (it raises);
* a declared array: a null or mistyped element is unknown in the predicate and merely unequal in
  CQL2; a scalar where the schema declares an array is compared by the predicate and unknown in
  CQL2;
* a wildcard on a property the schema declares as a number or a boolean has no CQL2 form
  (``compile.inexpressible``);
* a record whose properties hold an object under the key ``"properties"``: cql2-rs also looks
  for properties inside it;
* the cql2 Python binding refuses a dict (a filter's JSON or a record) holding an integer past
  64 bits, and its JSON *text* reader stops at 128 levels (about 60 nested NOT/AND/OR); the
  filter's text, and its JSON passed as a dict, read at any depth the parser allows.

>>> from catalogql import parse_filter
>>> to_cql2_text(parse_filter("sensorPlatformName = WORLDVIEW03* AND cloudCover < 20"))
"sensorPlatformName LIKE 'WORLDVIEW03%' AND cloudCover < 20"
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from typing import Any, TypeAlias, cast

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
    fold,
)
from catalogql.queryables import check_schema, property_type
from catalogql.semantics import (
    PropertyType,
    ValueType,
    integer_text,
    like_pattern,
    literal_number,
    typed_literal,
)
from catalogql.syntax.errors import QueryError

__all__ = ["to_cql2_json", "to_cql2_text"]

Json: TypeAlias = dict[str, Any]
"""One CQL2 JSON expression (an ``{"op": ..., "args": [...]}`` object)."""

Schema: TypeAlias = Mapping[str, Any] | None


def to_cql2_json(node: Node, schema: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A filter as a CQL2 JSON expression.

    Args:
        node: A filter AST (from :func:`catalogql.parse_filter`).
        schema: A queryables schema; declared types then decide each literal's CQL2 type.

    Returns:
        The CQL2 JSON expression, ready for ``json.dumps``. ``AND``/``OR`` are n-ary; integers
        stay Python ints (no float rounding of ids).

    Raises:
        QueryError: If ``node`` is not a filter AST (``compile.not-a-filter``), a literal does not
            fit its property's declared type (``schema.type-mismatch``, a
            :class:`~catalogql.QueryValidationError`), or the filter has no exact CQL2 form
            (``compile.inexpressible``).

    >>> from catalogql import parse_filter
    >>> to_cql2_json(parse_filter("cloudCover < 20 AND NOT platformName = WV*"))
    {'op': 'and', 'args': [{'op': '<', 'args': [{'property': 'cloudCover'}, 20]}, {'op': 'not', 'args': [{'op': 'like', 'args': [{'property': 'platformName'}, 'WV%']}]}]}
    >>> schema = {"properties": {"catalogID": {"type": "string"}}}
    >>> to_cql2_json(parse_filter("catalogID = 1050010018826700"), schema)
    {'op': '=', 'args': [{'property': 'catalogID'}, '1050010018826700']}
    """  # noqa: E501
    checked = _checked_schema(schema)

    def visit(current: object, children: list[Json]) -> Json:
        handler = _HANDLERS.get(type(current))
        if handler is None:
            raise _not_a_node(current)
        return handler(current, children, checked)

    return fold(node, visit)


def to_cql2_text(node: Node, schema: Mapping[str, Any] | None = None) -> str:
    """A filter as CQL2 text: the expression of :func:`to_cql2_json`, printed.

    Args:
        node: A filter AST (from :func:`catalogql.parse_filter`).
        schema: A queryables schema; declared types then decide each literal's CQL2 type.

    Returns:
        The text. Properties are written bare when they are plain (dotted) identifiers that are
        not CQL2 words, and double-quoted otherwise; strings are single-quoted with ``'``
        doubled; only the parentheses that precedence needs are written, plus one after each
        ``NOT``.

    Raises:
        QueryError: As :func:`to_cql2_json`.

    >>> from catalogql import parse_filter
    >>> print(to_cql2_text(parse_filter("(a = x OR b = 'it''s') AND timestamp >= 2016-01-01")))
    (a = 'x' OR b = 'it''s') AND timestamp >= TIMESTAMP('2016-01-01T00:00:00Z')
    >>> schema = {"properties": {"bands": {"type": "array", "items": {"type": "string"}}}}
    >>> node = parse_filter("bands = PAN AND _acquisition.productLevel <> LV1B")
    >>> print(to_cql2_text(node, schema))
    A_CONTAINS(bands, ('PAN')) AND "_acquisition.productLevel" <> 'LV1B'
    """
    return _print(to_cql2_json(node, schema))


# --------------------------------------------------------------------------------------------
# Errors


def _not_a_node(node: object) -> QueryError:
    if isinstance(node, TypeName | TypePattern):
        return QueryError(
            f"not a filter node: {type(node).__name__}",
            code="compile.not-a-filter",
            hint="pass the result of parse_filter(); type expressions have no CQL2 form",
        )
    return QueryError(
        f"not a filter AST node: {type(node).__name__}",
        code="compile.not-a-node",
        hint="pass the result of parse_filter()",
    )


def _inexpressible(message: str, hint: str, offset: int = 0) -> QueryError:
    return QueryError(message, code="compile.inexpressible", hint=hint, offset=offset)


def _checked_schema(schema: object) -> Schema:
    if schema is None:
        return None
    return check_schema(schema)


def _declared(schema: Schema, name: str) -> PropertyType | None:
    return None if schema is None else property_type(schema, name)


# --------------------------------------------------------------------------------------------
# AST to CQL2 JSON: one handler per node kind

_Handler = Callable[[Any, list[Json], Schema], Json]


def _and(node: And, children: list[Json], schema: Schema) -> Json:
    return {"op": "and", "args": children}


def _or(node: Or, children: list[Json], schema: Schema) -> Json:
    return {"op": "or", "args": children}


def _not(node: Not, children: list[Json], schema: Schema) -> Json:
    return {"op": "not", "args": children}


def _comparison(node: Comparison, children: list[Json], schema: Schema) -> Json:
    name = _name(node.property)
    if not isinstance(node.op, Op) or not isinstance(node.value, Literal):
        raise _not_a_node(node)
    declared = _declared(schema, name)
    value = _value(node, declared)
    prop = {"property": name}
    if declared is None or not declared.is_list:
        return {"op": node.op.value, "args": [prop, value]}
    # SPEC section 4: a list compares true when some element does.
    if declared.value_type is ValueType.DATETIME:
        raise _inexpressible(
            f"'{name}' is a list of date-times, which compare as instants; CQL2's array "
            "operators compare elements as they are",
            "declare the items as strings to compare their text",
            _prop_at(node),
        )
    if node.op is Op.EQ:
        return {"op": "a_contains", "args": [prop, [value]]}
    if node.op is Op.NE:
        inner = {"op": "a_containedBy", "args": [prop, [value]]}
        return {"op": "not", "args": [inner]}
    raise _inexpressible(
        f"'{name}' is a list: CQL2 has no '{node.op.value}' that holds when some element does",
        "compare a list with = or <> only (A_CONTAINS and NOT A_CONTAINEDBY)",
        _prop_at(node),
    )


def _match(node: Match, children: list[Json], schema: Schema) -> Json:
    name = _name(node.property)
    declared = _declared(schema, name)
    if declared is not None and declared.is_list:
        raise _inexpressible(
            f"'{name}' is a list: CQL2 has no LIKE that holds when some element matches",
            "compare the list with = (A_CONTAINS) instead of a wildcard",
            _prop_at(node),
        )
    if declared is not None and declared.value_type in (ValueType.NUMBER, ValueType.BOOLEAN):
        raise _inexpressible(
            f"'{name}' is a {declared.value_type.value}: CQL2's LIKE matches strings only",
            "compare numbers with <, <=, >, >= instead of a wildcard",
            _prop_at(node),
        )
    like = {"op": "like", "args": [{"property": name}, _like_pattern(node)]}
    if node.negated is True:
        return {"op": "not", "args": [like]}
    if node.negated is False:
        return like
    raise _not_a_node(node)


def _type_node(node: TypeName | TypePattern, children: list[Json], schema: Schema) -> Json:
    raise _not_a_node(node)


_HANDLERS: dict[type, _Handler] = {
    And: _and,
    Or: _or,
    Not: _not,
    Comparison: _comparison,
    Match: _match,
    TypeName: _type_node,
    TypePattern: _type_node,
}


def _prop_at(node: Comparison | Match) -> int:
    return node.offsets[0] if node.offsets else 0


# --------------------------------------------------------------------------------------------
# Literals

_SURROGATE_RE = re.compile("[\ud800-\udfff]")


def _text(text: object, what: str) -> str:
    """``text`` if it is a string CQL2 can hold (any Unicode scalar values), else an error."""
    if not isinstance(text, str):
        raise QueryError(
            f"{what} must be a string, not {type(text).__name__}",
            code="compile.not-a-node",
            hint="pass the result of parse_filter()",
        )
    if not text.isascii() and _SURROGATE_RE.search(text):
        raise _inexpressible(
            f"{what} {text!r} holds a lone surrogate, which no UTF-8 text can",
            "remove the unpaired surrogate code point",
        )
    return text


def _name(name: object) -> str:
    return _text(name, "a property name")


def _value(node: Comparison, declared: PropertyType | None) -> Any:
    """The literal of ``node`` as the CQL2 value its property's type calls for."""
    literal = node.value
    _text(literal.text, "a literal")
    if literal.kind is LiteralKind.NUMBER and literal_number(literal) is None:
        raise _not_a_node(node)  # a hand-built literal that skipped Literal's check
    value_type, value = typed_literal(node, declared)
    if value_type is ValueType.NUMBER:
        return _number(cast(int | float, value), node)
    if value_type is ValueType.DATETIME:
        return {"timestamp": f"{value}Z"}
    return value


def _number(number: int | float, node: Comparison) -> int | float:
    try:
        finite = math.isfinite(number)
    except OverflowError:  # an int past the float range
        finite = False
    if not finite:
        _, value_at = node.offsets or (0, 0)
        raise _inexpressible(
            f"the number {node.value.text[:40]} is past the range of a CQL2 number",
            "CQL2 numbers are 64-bit floats: compare with a smaller number",
            value_at,
        )
    return number


def _like_pattern(node: Match) -> str:
    pattern = node.pattern
    if not isinstance(pattern, tuple):
        raise _not_a_node(node)
    for part in pattern:
        if not isinstance(part, Wildcard):
            _text(part, "a pattern piece")
    return like_pattern(pattern)


# --------------------------------------------------------------------------------------------
# CQL2 JSON to text: one printer per operator

_PLAIN_NAME_RE = re.compile(r"[A-Za-z][A-Za-z0-9_]*(?:\.[A-Za-z][A-Za-z0-9_]*)*")
"""A property name CQL2 text can hold bare (cql2-rs reads no name that starts with ``_``)."""

_RESERVED = frozenset(
    ("AND", "OR", "NOT", "LIKE", "BETWEEN", "IN", "IS", "NULL", "TRUE", "FALSE", "DIV")
)
"""CQL2's operator words: a name with such a part is quoted, whatever its case.

Function names (``TIMESTAMP``, ``S_INTERSECTS``, ``A_CONTAINS`` ...) are words only before ``(``,
which never follows a property here, so ``timestamp`` stays bare.
"""

_PRECEDENCE = {"or": 1, "and": 2}


def _print(root: Json) -> str:
    # Bottom-up by the one tree walk, over the boolean operators; predicates print directly.
    def visit(expr: Json, children: list[str]) -> str:
        op = expr["op"]
        if op in _BOOLEAN_PRINTERS:
            return _BOOLEAN_PRINTERS[op](expr, children)
        return _PREDICATE_PRINTERS[op](expr["args"])

    return fold(root, visit, _boolean_args)


def _boolean_args(expr: Json) -> list[Json]:
    """The operands of a boolean operator; a predicate's arguments are not expressions."""
    return expr["args"] if expr["op"] in _BOOLEAN_PRINTERS else []


def _print_chain(expr: Json, children: list[str]) -> str:
    outer = _PRECEDENCE[expr["op"]]
    parts = []
    for arg, text in zip(expr["args"], children, strict=True):
        parts.append(f"({text})" if _PRECEDENCE.get(arg["op"], 3) < outer else text)
    return f" {expr['op'].upper()} ".join(parts)


def _print_not(expr: Json, children: list[str]) -> str:
    return f"NOT ({children[0]})"


def _comparison_printer(op: str) -> Callable[[list[Any]], str]:
    def print_comparison(args: list[Any]) -> str:
        prop, value = args
        return f"{_print_property(prop)} {op} {_print_value(value)}"

    return print_comparison


def _print_like(args: list[Any]) -> str:
    prop, pattern = args
    return f"{_print_property(prop)} LIKE {_print_value(pattern)}"


def _array_printer(name: str) -> Callable[[list[Any]], str]:
    def print_array(args: list[Any]) -> str:
        prop, values = args
        return f"{name}({_print_property(prop)}, ({', '.join(map(_print_value, values))}))"

    return print_array


_BOOLEAN_PRINTERS: dict[str, Callable[[Json, list[str]], str]] = {
    "and": _print_chain,
    "or": _print_chain,
    "not": _print_not,
}

_PREDICATE_PRINTERS: dict[str, Callable[[list[Any]], str]] = {
    **{op.value: _comparison_printer(op.value) for op in Op},
    "like": _print_like,
    "a_contains": _array_printer("A_CONTAINS"),
    "a_containedBy": _array_printer("A_CONTAINEDBY"),
}


def _print_property(prop: Json) -> str:
    name: str = prop["property"]
    if _PLAIN_NAME_RE.fullmatch(name) and not any(
        part.upper() in _RESERVED for part in name.split(".")
    ):
        return name
    return '"' + name.replace('"', '""') + '"'


def _print_value(value: Any) -> str:
    if isinstance(value, bool):  # before int: a bool is an int
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return integer_text(value)
    if isinstance(value, float):
        return repr(value)  # CQL2 reads 0.5, -500.0, 1e+16 (not .5 or 5.)
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    return f"TIMESTAMP('{value['timestamp']}')"
