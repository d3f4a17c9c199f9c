"""``check``: every finding about a filter or type expression, as data, without raising.

Besides the parser's and the schema's findings, :func:`check` lints the filter
(:func:`lint_filter`): a comparison no value can make true is valid, but almost certainly not
what was meant.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from catalogql.ast import Comparison, LiteralKind, Node, Op, iter_nodes
from catalogql.compile.parse import parse_filter_with_diagnostics
from catalogql.errors import argument_error
from catalogql.queryables import property_type
from catalogql.semantics import ValueType, comparison_operands, is_datetime_name
from catalogql.syntax.errors import Diagnostic, Problem, QueryError, line_and_column, merge_warnings
from catalogql.syntax.parser import (
    DEFAULT_LIMITS,
    Limits,
    QueryDialect,
    parse_types,
)

__all__ = ["check", "lint_filter"]


def check(
    text: str,
    kind: Literal["filter", "types"] = "filter",
    dialect: QueryDialect = "default",
    schema: Mapping[str, Any] | None = None,
    *,
    limits: Limits = DEFAULT_LIMITS,
) -> list[Diagnostic]:
    """Validate a filter or type expression and return its errors and warnings.

    Never raises on bad input: an unusable expression gives one ``error`` diagnostic (the first
    problem, positioned, with a hint); compatibility forms and schema findings give ``warning``
    diagnostics carrying a canonical rewrite, and comparisons that can never be true give
    ``lint.*`` warnings (:func:`lint_filter`). An empty list means the text is clean.

    Args:
        text: The expression.
        kind: ``"filter"`` or ``"types"``.
        dialect: ``"default"`` or ``"strict"`` (filters only).
        schema: A queryables schema to check property names and types against (filters only).
        limits: Input limits.

    Returns:
        The diagnostics, errors first.

    >>> [(d.severity, d.code) for d in check("cloudCover < 20 and offNadirAngle < 10")]
    [('error', 'syntax.lowercase-operator')]
    >>> [(d.severity, d.code, d.rewrite) for d in check("name LIKE 'QUICK%'")]
    [('warning', 'compat.like', 'name = QUICK*')]
    >>> [(d.code, d.offset) for d in check("timestamp > yesterday")]
    [('lint.not-a-date', 12)]
    """
    if not isinstance(limits, Limits):  # a wrong argument is the caller's error, not a finding
        raise argument_error("check", "limits", limits, "a catalogql.Limits")
    try:
        if kind == "types":
            parse_types(text, limits=limits)
            return []
        if kind != "filter":
            raise QueryError(
                f"unknown kind {kind!r}",
                code="usage.kind",
                hint="use kind='filter' or kind='types'",
            )
        node, diagnostics = parse_filter_with_diagnostics(
            text,
            dialect=dialect,
            schema=schema,
            limits=limits,
        )
    except QueryError as exc:
        return [exc.to_diagnostic()]
    return merge_warnings(diagnostics + lint_filter(node, text, schema))


def lint_filter(
    node: Node, text: str = "", schema: Mapping[str, Any] | None = None
) -> list[Diagnostic]:
    """Warnings for comparisons that are valid but can never be true (one per kind, counted).

    * ``lint.not-a-date``: a date-time property (by the ``schema``, or without one by its name,
      as :func:`catalogql.semantics.is_datetime_name` reads it: ``timestamp``, ``*Date``, ...)
      compared with a literal that is neither a date nor anything else its values can be, such
      as ``timestamp > yesterday``: every value compares as unknown, so neither the comparison
      nor its ``NOT`` ever selects a record.
    * ``lint.null-literal``: ``x = null`` (or ``<>``) with a bare ``null`` compares with the
      text "null". The language has no ``IS NULL``: a missing or null property makes every
      comparison on it unknown.

    Args:
        node: A parsed filter.
        text: Its text, to give the findings a line and column.
        schema: The queryables schema the filter is read with, or None.

    Returns:
        The warnings, in the order of the text.

    >>> from catalogql import parse_filter
    >>> [d.code for d in lint_filter(parse_filter("cloudCover = null"))]
    ['lint.null-literal']
    >>> lint_filter(parse_filter("timestamp > 2016-01-01 AND cloudCover < 20"))
    []
    """
    findings: list[Diagnostic] = []

    def add(code: str, offset: int, width: int, message: str, hint: str) -> None:
        line, column = line_and_column(text, offset)
        problem = Problem("", offset, message, hint, code, line=line, column=column, width=width)
        findings.append(Diagnostic("warning", problem))

    for leaf in iter_nodes(node):
        if not isinstance(leaf, Comparison):
            continue
        name, literal = leaf.property, leaf.value
        at = (leaf.offsets or (0, 0))[1]
        width = len(literal.text) + (2 if literal.kind is LiteralKind.QUOTED else 0)
        if literal.kind is LiteralKind.BARE and literal.text.lower() == "null":
            if leaf.op in (Op.EQ, Op.NE):
                add(
                    "lint.null-literal",
                    at,
                    width,
                    f"{name} {leaf.op.value} {literal.text} compares {name} with the text "
                    f"'{literal.text}', not with a missing value",
                    f'the language has no "{name} IS NULL": a comparison on a missing or null '
                    f"property is never true, nor is its NOT, so records without {name} are "
                    f"left out by every condition on it; to mean the text, quote it: "
                    f"{name} {leaf.op.value} '{literal.text}'",
                )
            continue
        declared = property_type(schema, name)
        dated = (
            declared.value_type is ValueType.DATETIME
            if declared is not None
            else is_datetime_name(name)
        )
        if not dated:
            continue
        operands = comparison_operands(name, leaf.op, literal, declared)
        if all(v is None for v in (operands.number, operands.text, operands.instant)) and (
            operands.boolean is None
        ):
            by = "the schema" if declared is not None else "its name"
            add(
                "lint.not-a-date",
                at,
                width,
                f"'{literal.text}' is not a date, and {name} holds date-times (by {by}): "
                "this comparison can never be true, nor can its NOT",
                "write an ISO 8601 date or date-time, such as 2016-01-01 or "
                "2016-01-01T12:00:00Z (relative dates such as 'yesterday' are not read)",
            )
    return findings
