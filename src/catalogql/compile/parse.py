"""The public parse of a filter: the parser's, plus what needs the layers above it.

The parser (:mod:`catalogql.syntax.parser`) finds the compatibility forms; this module, above the
back ends and the queryables, adds each warning's canonical rewrite (the filter printed by
:func:`~catalogql.compile.gbdx.to_gbdx`) and the findings of a queryables schema
(:func:`~catalogql.queryables.validate_filter`). :func:`catalogql.check` returns the same findings
as data (:mod:`catalogql.compile.diagnostics`).

>>> node, diags = parse_filter_with_diagnostics("name LIKE 'QUICK%'")
>>> [(d.code, d.rewrite) for d in diags]
[('compat.like', 'name = QUICK*')]
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from catalogql.ast import FilterNode
from catalogql.compile.gbdx import to_gbdx
from catalogql.queryables import validate_filter
from catalogql.syntax.errors import Diagnostic, QueryValidationError
from catalogql.syntax.parser import (
    DEFAULT_LIMITS,
    Limits,
    QueryDialect,
    QueryWarning,
    parse_filter_syntax,
)

__all__ = ["parse_filter", "parse_filter_with_diagnostics"]


def parse_filter_with_diagnostics(
    text: str,
    *,
    dialect: QueryDialect = "default",
    schema: Mapping[str, Any] | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> tuple[FilterNode, list[Diagnostic]]:
    """Parse a filter and also return its warnings (compatibility forms, schema findings).

    Raises:
        QueryError: The first error; the warnings are not returned then.

    >>> node, diags = parse_filter_with_diagnostics("cloudCover < 20, offNadirAngle < 10")
    >>> [d.code for d in diags]
    ['compat.comma']
    """
    node, diags = parse_filter_syntax(text, dialect=dialect, limits=limits)
    if diags:
        rewrite = to_gbdx(node)  # the rewrite is the canonical text
        diags = [replace(d, rewrite=rewrite) for d in diags]
    if schema is not None:
        findings = validate_filter(node, schema, text)
        for finding in findings:
            if finding.severity == "error":
                raise QueryValidationError(
                    finding.message,
                    text=text,
                    offset=finding.offset,
                    hint=finding.hint,
                    code=finding.code,
                    width=finding.width,
                )
        diags = diags + findings
    return node, diags


def parse_filter(
    text: str,
    dialect: QueryDialect = "default",
    schema: Mapping[str, Any] | None = None,
    *,
    limits: Limits = DEFAULT_LIMITS,
) -> FilterNode:
    """Parse a GBDX filter string into an AST node.

    Compatibility forms (``LIKE``, a comma between conditions) are accepted with a
    :class:`QueryWarning` in the default dialect and rejected in ``dialect="strict"``. With a
    queryables ``schema``, unknown properties and type mismatches are errors.

    Args:
        text: The filter, e.g. ``"sensorPlatformName = WORLDVIEW03* AND cloudCover < 20"``.
        dialect: ``"default"`` or ``"strict"``.
        schema: An OGC/STAC queryables JSON Schema, or None.
        limits: Input limits.

    Returns:
        The AST: an And, Or, Not, Comparison or Match.

    Raises:
        QueryError: Where the text is wrong, what was expected, and a hint.

    >>> parse_filter("cloudCover < 20")
    Comparison(property='cloudCover', op=<Op.LT: '<'>, value=Literal(text='20', kind=<LiteralKind.NUMBER: 'number'>))
    >>> parse_filter("cloudCover < 20 and offNadirAngle < 10")
    Traceback (most recent call last):
      ...
    catalogql.syntax.errors.QuerySyntaxError: 'and' is not an operator: operators must be uppercase at line 1, column 17 [syntax.lowercase-operator]
      cloudCover < 20 and offNadirAngle < 10
                      ^^^
    expected: ',', AND, OR, the end of the input
    hint: write AND; a word in another case is read as a name or a value
    """  # noqa: E501
    node, diags = parse_filter_with_diagnostics(text, dialect=dialect, schema=schema, limits=limits)
    for diag in diags:
        if diag.severity == "warning":
            advice = f"canonical form: {diag.rewrite}" if diag.rewrite is not None else diag.hint
            warnings.warn(
                f"{diag.message} at column {diag.column} [{diag.code}]; {advice}",
                QueryWarning,
                stacklevel=2,
            )
    return node
