"""The public parse of a filter: the parser's, plus what needs the layers above it.

The parser (:mod:`catalogql.syntax.parser`) finds the compatibility forms; this module, above the
back ends and the queryables, adds the canonical rewrite to an input's first warning (the filter
printed by :func:`~catalogql.compile.gbdx.to_gbdx`) and the findings of a queryables schema
(:func:`~catalogql.queryables.validate_filter`), one warning per kind (a count for the rest).
:func:`catalogql.check` returns the same findings as data (:mod:`catalogql.compile.diagnostics`).

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
from catalogql.syntax.errors import (
    Diagnostic,
    QueryLimitError,
    QueryValidationError,
    merge_warnings,
)
from catalogql.syntax.parser import (
    DEFAULT_LIMITS,
    Limits,
    QueryDialect,
    QueryWarning,
    parse_filter_syntax,
)

__all__ = ["CANONICAL_GROWTH", "parse_filter", "parse_filter_with_diagnostics"]

CANONICAL_GROWTH = 8
"""No filter's canonical text is longer than this many characters per character of its input.

The worst cases: a comma (one character) becomes `` AND `` and may add the parentheses of the OR
before it; ``a=1`` (three) becomes ``a = 1`` (five); a quote or a backslash in a quoted value is
written twice. A filter shorter than ``max_length / CANONICAL_GROWTH`` therefore needs no printing
to know that its canonical text fits the length limit (a property test holds the bound).
"""


def parse_filter_with_diagnostics(
    text: str,
    *,
    dialect: QueryDialect = "default",
    schema: Mapping[str, Any] | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> tuple[FilterNode, list[Diagnostic]]:
    """Parse a filter and also return its warnings (compatibility forms, schema findings).

    The length limit (``limits.max_length``) holds for the text *and* for its canonical text
    (what :func:`~catalogql.compile.gbdx.to_gbdx` prints), so that every filter accepted here
    has a canonical text accepted here too: ``parse_filter(to_gbdx(n)) == n`` for every ``n``
    this returns (the depth and comparison limits count the tree, which spelling does not
    change).

    Raises:
        QueryError: The first error; the warnings are not returned then.

    >>> node, diags = parse_filter_with_diagnostics("cloudCover < 20, offNadirAngle < 10")
    >>> [d.code for d in diags]
    ['compat.comma']
    """
    node, diags = parse_filter_syntax(text, dialect=dialect, limits=limits)
    canonical = None
    if len(text) * CANONICAL_GROWTH > limits.max_length:  # it may not fit: print it and see
        canonical = to_gbdx(node)
        _check_canonical_length(text, canonical, limits)
    if diags:  # one rewrite per input (the canonical text), on its first warning
        diags = [replace(diags[0], rewrite=canonical or to_gbdx(node)), *diags[1:]]
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
        diags = merge_warnings(diags + findings)
    return node, diags


def _check_canonical_length(text: str, canonical: str, limits: Limits) -> None:
    """Refuse a filter whose canonical text is past ``limits.max_length`` (``limit.length``)."""
    if len(canonical) <= limits.max_length:
        return
    raise QueryLimitError(
        f"the filter's canonical text (its spaced-out form, the form catalogql prints) is "
        f"{len(canonical)} characters, past the limit of {limits.max_length}",
        limit="length",
        text=text,
        offset=0,
        width=0,
        hint="the limit holds for both forms so that the printed filter reads back; split the "
        "filter (separate filters are ANDed), or raise Limits.max_length",
    )


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
            warnings.warn(QueryWarning(_warning_text(diag), diag), stacklevel=2)
    return node


_WARNING_TEXTS = {
    "compat.comma": "a comma between conditions is a compatibility form, read as AND",
    "compat.like": "LIKE is a compatibility form",
    "schema.not-in-enum": "a value is not one of the values the schema lists for its property",
}
"""The text of each kind of warning, the same for every input (see :class:`QueryWarning`)."""


def _warning_text(diag: Diagnostic) -> str:
    """A warning's text: its kind, never the input (where and the rewrite are on the warning)."""
    what = _WARNING_TEXTS.get(diag.code, "a finding about the filter")
    return (
        f"{what} [{diag.code}]; catalogql.check() or the warning's .diagnostic says where,"
        " how many times and the canonical form"
    )
