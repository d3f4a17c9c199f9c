"""``check``: every finding about a filter or type expression, as data, without raising."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from catalogql.compile.parse import parse_filter_with_diagnostics
from catalogql.errors import argument_error
from catalogql.syntax.errors import Diagnostic, QueryError
from catalogql.syntax.parser import (
    DEFAULT_LIMITS,
    Limits,
    QueryDialect,
    parse_types,
)

__all__ = ["check"]


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
    diagnostics carrying a canonical rewrite. An empty list means the text is clean.

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
        _, diagnostics = parse_filter_with_diagnostics(
            text,
            dialect=dialect,
            schema=schema,
            limits=limits,
        )
    except QueryError as exc:
        return [exc.to_diagnostic()]
    return diagnostics
