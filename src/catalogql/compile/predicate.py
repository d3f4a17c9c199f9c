"""Compile the AST to fast in-memory predicates.

Filters are three-valued (SPEC section 4): a comparison on a missing or null property is unknown,
and NOT of unknown is unknown, so neither ``x < 20`` nor ``NOT x < 20`` selects a record without
``x``. The compiler pushes NOT down to the comparisons (De Morgan holds in three-valued logic) and
builds two closures per comparison: one true when it is *true*, one true when it is *false*. The
AND/OR closures above them are then plain two-valued ``and``/``or``, which gives exactly the
three-valued result at the top (unknown selects nothing) without carrying a third value around.

Closures were measured against generated source code (``benchmarks/predicate_codegen.py``); see
the README for the figures and the choice.

>>> from catalogql.syntax.parser import parse_filter
>>> keep = compile_predicate(parse_filter("NOT cloudCover < 20"))
>>> keep({"cloudCover": 30}), keep({"cloudCover": 10}), keep({})
(True, False, False)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from catalogql.ast import (
    And,
    Comparison,
    Match,
    Node,
    Not,
    Or,
    TypeName,
    TypePattern,
    tree_depth,
)
from catalogql.semantics import (
    Tri,
    check_schema,
    match_comparator,
    pattern_regex,
    property_getter,
    property_type,
    scalar_comparator,
)
from catalogql.syntax.errors import QueryError, QueryLimitError

__all__ = ["Predicate", "TypesPredicate", "compile_predicate", "compile_types"]

Predicate = Callable[[Mapping[str, Any]], bool]
TypesPredicate = Callable[[Sequence[str]], bool]


def compile_predicate(node: Node, schema: Mapping[str, Any] | None = None) -> Predicate:
    """A function of a record's ``properties`` that is True where the filter selects it.

    Never raises on any record: values of unexpected types compare as unknown.

    Args:
        node: A filter AST (from :func:`catalogql.parse_filter`).
        schema: A queryables schema; declared types then decide how values compare.

    Returns:
        The predicate.

    Raises:
        QueryError: If ``node`` is not a filter AST, or is deeper than ``MAX_COMPILED_DEPTH``.

    >>> from catalogql import parse_filter
    >>> keep = compile_predicate(parse_filter("sensorPlatformName = WORLDVIEW03* AND cloudCover < 20"))
    >>> keep({"sensorPlatformName": "WORLDVIEW03_VNIR", "cloudCover": 5})
    True
    """  # noqa: E501
    _check_depth(node)
    return _Compiler(check_schema(schema) if schema is not None else None).build(node, True)


MAX_COMPILED_DEPTH = 400
"""The deepest tree the predicate compilers accept.

A compiled predicate is nested closures, one Python call per level when it runs, so a tree
deeper than this could exhaust Python's stack. The parser's default depth limit (256) is well
below it; a tree parsed with a raised :class:`~catalogql.Limits` may not be.
"""


def _check_depth(node: Node) -> None:
    depth = tree_depth(node)
    if depth > MAX_COMPILED_DEPTH:
        raise QueryLimitError(
            f"a tree {depth} levels deep is past the {MAX_COMPILED_DEPTH} levels a predicate "
            "can be compiled to",
            limit="depth",
            hint="flatten the expression (AND and OR chains of any length are fine)",
        )


class _Compiler:
    """One small method per node kind; ``positive`` selects "is true" versus "is false"."""

    def __init__(self, schema: Mapping[str, Any] | None) -> None:
        self.schema = schema

    def build(self, node: Node, positive: bool) -> Predicate:
        # Chains are n-ary and NOT collapses two at a time, so depth here is the nesting the
        # parser's depth limit already bounds.
        while isinstance(node, Not):
            node, positive = node.item, not positive
        if isinstance(node, And | Or):
            parts = [self.build(item, positive) for item in node.items]
            conjunctive = isinstance(node, And) == positive
            return _all(parts) if conjunctive else _any(parts)
        if isinstance(node, Comparison | Match):
            return self.leaf(node, positive)
        raise QueryError(
            f"not a filter node: {type(node).__name__}",
            code="compile.not-a-filter",
            hint="pass the result of parse_filter(); type expressions go to compile_types()",
        )

    def leaf(self, node: Comparison | Match, positive: bool) -> Predicate:
        declared = property_type(self.schema, node.property)
        if isinstance(node, Comparison):
            scalar = scalar_comparator(node.property, node.op, node.value, declared)
        else:
            matcher = match_comparator(node.pattern, declared)
            scalar = (lambda v: not_tri(matcher(v))) if node.negated else matcher
        get = property_getter(node.property)
        wanted = positive  # the comparison's value that makes this closure true

        def is_(props: Mapping[str, Any]) -> bool:
            value = get(props)
            if value is None:
                return False
            if type(value) is list:
                return list_any(scalar, value) is wanted
            return scalar(value) is wanted

        return is_


def list_any(scalar: Callable[[Any], Tri], values: list[Any]) -> Tri:
    """Three-valued "some element compares true" (SPEC section 4's list rule).

    True if an element compares true; otherwise unknown if one is unknown; otherwise False (an
    empty list included).

    >>> is_two = lambda v: None if v is None else v == 2
    >>> list_any(is_two, [1, 2]), list_any(is_two, [1, None]), list_any(is_two, [])
    (True, None, False)
    """
    unknown = False
    for value in values:
        result = scalar(value)
        if result is True:
            return True
        if result is None:
            unknown = True
    return None if unknown else False


def not_tri(value: Tri) -> Tri:
    """Three-valued NOT: None stays None.

    >>> not_tri(True), not_tri(None)
    (False, None)
    """
    return None if value is None else not value


def _all(parts: list[Predicate]) -> Predicate:
    if len(parts) == 2:
        a, b = parts
        return lambda props: a(props) and b(props)
    if len(parts) == 3:
        a, b, c = parts
        return lambda props: a(props) and b(props) and c(props)

    def every(props: Mapping[str, Any]) -> bool:
        for part in parts:  # noqa: SIM110 - a loop is faster than all() over a generator
            if not part(props):
                return False
        return True

    return every


def _any(parts: list[Predicate]) -> Predicate:
    if len(parts) == 2:
        a, b = parts
        return lambda props: a(props) or b(props)
    if len(parts) == 3:
        a, b, c = parts
        return lambda props: a(props) or b(props) or c(props)

    def some(props: Mapping[str, Any]) -> bool:
        for part in parts:  # noqa: SIM110 - a loop is faster than any() over a generator
            if part(props):
                return True
        return False

    return some


def compile_types(texpr: Node) -> TypesPredicate:
    """A function of a record's ``type`` list that is True where the type expression holds.

    A name matches when the list contains it exactly (case-sensitive); a pattern when any type
    matches it.

    Args:
        texpr: A type-expression AST (from :func:`catalogql.parse_types`).

    Returns:
        The predicate.

    Raises:
        QueryError: If ``texpr`` is not a type-expression AST, or is deeper than
            ``MAX_COMPILED_DEPTH``.

    >>> from catalogql import parse_types
    >>> holds = compile_types(parse_types("WV02 AND NOT IDAHOImage"))
    >>> holds(["GBDXCatalogRecord", "WV02"]), holds(["WV02", "IDAHOImage"])
    (True, False)
    """
    _check_depth(texpr)
    return _compile_types(texpr)


def _compile_types(texpr: Node) -> TypesPredicate:
    if isinstance(texpr, TypeName):
        name = texpr.name
        return lambda types: name in types
    if isinstance(texpr, TypePattern):
        fullmatch = pattern_regex(texpr.pattern).fullmatch
        return lambda types: any(fullmatch(t) is not None for t in types if isinstance(t, str))
    if isinstance(texpr, Not):
        inner = _compile_types(texpr.item)
        return lambda types: not inner(types)
    if isinstance(texpr, And | Or):
        parts = [_compile_types(item) for item in texpr.items]
        combined = _all(parts) if isinstance(texpr, And) else _any(parts)  # type: ignore[arg-type]
        return combined  # type: ignore[return-value]
    raise QueryError(
        f"not a type-expression node: {type(texpr).__name__}",
        code="compile.not-a-type-expression",
        hint="pass the result of parse_types(); filters go to compile_predicate()",
    )
