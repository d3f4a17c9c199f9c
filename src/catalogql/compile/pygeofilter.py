"""Compile a filter AST to pygeofilter's AST, which opens pygeofilter's back ends.

:func:`to_pygeofilter` builds pygeofilter 0.4.0's own node classes, exactly those classes (its
back ends dispatch on the exact class: a subclass raises ``NotImplementedError``):

============================  ===============================================================
catalogql                     pygeofilter
============================  ===============================================================
``And`` / ``Or`` (n-ary)      ``And`` / ``Or`` (binary), as a *balanced* tree: 10,000 terms
                              are 14 levels deep, not 10,000, so pygeofilter's recursive back
                              ends do not hit ``RecursionError``
``Not``                       ``Not``
``Comparison`` ``= <> < <= >  ``Equal``, ``NotEqual``, ``LessThan``, ``LessEqual``,
>=``                          ``GreaterThan``, ``GreaterEqual`` of ``Attribute(name)`` and a
                              typed Python value (below)
``Match`` (wildcards)         ``Like(Attribute(name), pattern, nocase=False, wildcard="%",
                              singlechar="_", escapechar="\\\\", not_=negated)``; ``%``, ``_``
                              and ``\\`` in the pattern's text are escaped with ``\\``
type expressions              :class:`~catalogql.QueryError` (``compile.not-a-filter``)
============================  ===============================================================

A literal becomes a typed value, as SPEC section 4 reads it, once, at compile time:

* With a queryables ``schema`` that declares the property: a number property gets an ``int``
  (when the literal is integral as written, so ``1050010018826700`` loses no digit) or a
  ``float``; a date-time property an aware UTC ``datetime``; a text property the literal's text
  (``catalogID = 1050010018826700`` stays the string); a boolean property a ``bool``. A literal
  that does not fit the declared type is a :class:`~catalogql.QueryValidationError`
  (``schema.type-mismatch``), and so is ``<``, ``<=``, ``>`` or ``>=`` on a boolean.
* Otherwise (no schema, or a property the schema does not declare or types loosely): a number
  literal (``20``, ``26.5``) becomes a number; an ISO 8601 literal next to a property named like a
  date (``timestamp``, ``acquisitionDate``, ``*Date``, ``*_datetime``) a ``datetime``; a *bare*
  ``true`` or ``false`` (any case) with ``=`` or ``<>`` a ``bool`` (a quoted ``'true'`` stays
  text); anything else the literal's text.

What does not map exactly (each is tested as a deviation in ``tests/test_pygeofilter.py``).
pygeofilter compares a property's value as it is stored with one typed value, in its back end's
own logic; catalogql decides per record (SPEC section 4):

1. *Value-typed comparison*: without a schema a literal's type is fixed at compile time, so
   ``cloudCover = '0'`` misses the number ``0`` and ``name = 20`` misses the text ``"20"``.
   A schema types literals by property.
2. *Lists*: pygeofilter has no "any element compares true" for scalar comparisons; a list is
   compared whole (never equal to a scalar; ordering it raises ``TypeError`` in the native
   back end).
3. *Missing or null properties*: SQL back ends agree with SPEC section 4 (three-valued logic);
   the native back end is two-valued Python: ``None < 20`` raises ``TypeError``, and
   ``x <> 20`` and ``NOT x = 20`` are true on a missing ``x``.
4. *Stored types* (native back end): values are compared as stored, so text against a number
   raises ``TypeError``, date-times must be stored as aware ``datetime`` objects (text raises
   ``TypeError``), a wildcard on a number or boolean raises ``TypeError`` (catalogql matches its
   text, so ``catalogID = 1050010*`` selects an integer id), and ``True == 1`` (``isHidden = 1``).
5. *Dotted names* (native back end): ``a.b`` is only ``item["a"]["b"]``; a flat ``"a.b"`` key is
   not seen, and a missing ``a`` raises ``AttributeError``.
6. *Date-times* are cut to the microsecond (catalogql compares every fractional digit).
7. *LIKE, native back end*: pygeofilter 0.4.0 mistranslates the escapes ``\\%`` and ``\\_``,
   so a ``%`` or ``_`` in a pattern's text never matches (``WORLDVIEW03_*`` selects nothing);
   ``%`` and ``_`` do not match a line break, and a trailing line break is ignored.
8. *LIKE, SQLAlchemy back end*: no ``ESCAPE`` clause, so ``\\`` is an ordinary character (the
   same effect as 7), and SQLite's LIKE ignores ASCII case (``worldview03*`` selects
   ``WORLDVIEW03_VNIR``; ``PRAGMA case_sensitive_like = ON`` restores case).
9. *Nesting, native back end*: the filter becomes one Python expression, which Python's parser
   refuses past about 200 nested levels (``SyntaxError``); chains stay shallow, but NOT and
   parentheses are kept as written.

pygeofilter is imported when :func:`to_pygeofilter` is first called (it is an optional
dependency; ``pip install pygeofilter``).

>>> from catalogql import parse_filter
>>> to_pygeofilter(parse_filter("sensorPlatformName = WORLDVIEW* AND cloudCover < 20"))
And(lhs=Like(lhs=ATTRIBUTE sensorPlatformName, pattern='WORLDVIEW%', nocase=False, wildcard='%', singlechar='_', escapechar='\\\\', not_=False), rhs=LessThan(lhs=ATTRIBUTE cloudCover, rhs=20))
"""  # noqa: E501

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

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
    children_of,
    fold,
)
from catalogql.queryables import check_schema, property_type
from catalogql.semantics import PropertyType, ValueType, like_pattern, parse_instant, typed_literal
from catalogql.syntax.errors import QueryError

if TYPE_CHECKING:  # pygeofilter has no type information: its nodes are Any to mypy
    from pygeofilter.ast import Node as PygeofilterNode
else:
    PygeofilterNode = Any

__all__ = ["to_pygeofilter", "typed_value"]

Schema = Mapping[str, Any] | None

Value = int | float | str | bool | datetime
"""A literal as pygeofilter receives it."""

_COMPARISONS = {
    Op.EQ: "Equal",
    Op.NE: "NotEqual",
    Op.LT: "LessThan",
    Op.LE: "LessEqual",
    Op.GT: "GreaterThan",
    Op.GE: "GreaterEqual",
}
"""The pygeofilter class of each operator, by name in ``pygeofilter.ast``."""


def to_pygeofilter(node: Node, schema: Mapping[str, Any] | None = None) -> PygeofilterNode:
    """The pygeofilter AST of a filter, ready for any of pygeofilter's back ends.

    Walks the tree with an explicit stack (a tree as deep as any limit allows never recurses
    here) and folds each AND/OR chain into a balanced binary tree.

    Args:
        node: A filter AST (from :func:`catalogql.parse_filter`).
        schema: A queryables schema; declared types then decide each literal's Python type.

    Returns:
        A ``pygeofilter.ast.Node`` (``And``, ``Or``, ``Not``, a comparison or ``Like``).

    Raises:
        QueryError: If ``node`` is not a filter AST (a type expression, say), or the schema is
            malformed; a :class:`~catalogql.QueryValidationError` if a literal does not fit
            its property's declared type.

    >>> from catalogql import parse_filter
    >>> negated = to_pygeofilter(parse_filter("NOT catalogID = 1050010018826700"))
    >>> type(negated).__name__, negated.sub_node
    ('Not', Equal(lhs=ATTRIBUTE catalogID, rhs=1050010018826700))
    >>> schema = {"properties": {"catalogID": {"type": "string"}}}
    >>> to_pygeofilter(parse_filter("catalogID = 1050010018826700"), schema).rhs
    '1050010018826700'
    """
    pgf = _pygeofilter_ast()
    checked = check_schema(schema) if schema is not None else None

    def visit(current: object, children: list[Any]) -> Any:
        handler = _HANDLERS.get(type(current))
        if handler is None:
            raise _not_a_filter(current)
        return handler(pgf, current, children[::-1], checked)

    # Right to left, as this back end always has: of two literals that do not fit the schema,
    # the last is reported (the other back ends report the first).
    return fold(node, visit, _right_to_left)


def typed_value(name: str, op: Op, literal: Literal, declared: PropertyType | None = None) -> Value:
    """The Python value a literal compares as, next to property ``name`` (module docstring).

    Args:
        name: The property compared.
        op: The operator (a boolean takes only ``=`` and ``<>``).
        literal: The literal as written.
        declared: The property's type in a queryables schema, if it declares one.

    Returns:
        An ``int``, ``float``, ``str``, ``bool`` or aware UTC ``datetime``.

    Raises:
        QueryValidationError: If the literal does not fit the declared type.

    >>> from catalogql.ast import LiteralKind as K
    >>> typed_value("cloudCover", Op.LT, Literal("20", K.NUMBER))
    20
    >>> typed_value("timestamp", Op.GE, Literal("2016-01-01", K.BARE))
    datetime.datetime(2016, 1, 1, 0, 0, tzinfo=datetime.timezone.utc)
    >>> typed_value("cloudCover", Op.EQ, Literal("0", K.QUOTED), PropertyType(ValueType.NUMBER))
    0
    >>> typed_value("cloudCover", Op.EQ, Literal("0", K.QUOTED))
    '0'
    """
    return _typed(Comparison(name, op, literal), declared)


def _typed(leaf: Comparison, declared: PropertyType | None) -> Value:
    value_type, value = typed_literal(leaf, declared)
    moment = parse_instant(leaf.value.text) if value_type is ValueType.DATETIME else None
    return value if moment is None else moment  # a date-time as pygeofilter's own type


# --------------------------------------------------------------------------------------------
# One small function per node kind


def _pygeofilter_ast() -> Any:
    try:
        from pygeofilter import ast as pgf
    except ImportError as error:  # an installation problem, not a query problem
        raise ImportError(
            "to_pygeofilter needs pygeofilter: pip install 'catalogql[pygeofilter]'"
        ) from error
    return pgf


def _right_to_left(node: object) -> tuple[Node, ...]:
    return children_of(node)[::-1]


def _chain(pgf: Any, node: And | Or, children: list[Any], schema: Schema) -> Any:
    items = node.items
    if not isinstance(items, tuple) or len(items) < 2:
        raise _bad_leaf(f"{type(node).__name__} needs a tuple of two or more items")
    return _balanced(pgf.And if isinstance(node, And) else pgf.Or, children)


def _not(pgf: Any, node: Not, children: list[Any], schema: Schema) -> Any:
    return pgf.Not(children[0])


def _balanced(combine: Callable[[Any, Any], Any], items: list[Any]) -> Any:
    """Fold items into a balanced binary tree of ``combine``, keeping their order."""
    while len(items) > 1:
        paired = [combine(items[i], items[i + 1]) for i in range(0, len(items) - 1, 2)]
        if len(items) % 2:
            paired.append(items[-1])
        items = paired
    return items[0]


def _comparison(pgf: Any, node: Comparison, children: list[Any], schema: Schema) -> Any:
    name, op, literal = node.property, node.op, node.value
    if not isinstance(name, str) or not isinstance(op, Op) or not _is_literal(literal):
        raise _bad_leaf(f"malformed comparison: {node!r}")
    value = _typed(node, _declared(schema, name))
    return getattr(pgf, _COMPARISONS[op])(pgf.Attribute(name), value)


def _like(pgf: Any, node: Match, children: list[Any], schema: Schema) -> Any:
    if not isinstance(node.property, str) or not isinstance(node.pattern, tuple):
        raise _bad_leaf(f"malformed match: {node!r}")
    return pgf.Like(
        pgf.Attribute(node.property),
        like_pattern(node.pattern),
        nocase=False,
        wildcard="%",
        singlechar="_",
        escapechar="\\",
        not_=bool(node.negated),
    )


_HANDLERS: dict[type, Callable[[Any, Any, list[Any], Schema], Any]] = {
    And: _chain,
    Or: _chain,
    Not: _not,
    Comparison: _comparison,
    Match: _like,
}
"""One handler per filter node kind: the node, its children converted, and the schema."""


def _is_literal(literal: object) -> bool:
    return (
        isinstance(literal, Literal)
        and isinstance(literal.text, str)
        and isinstance(literal.kind, LiteralKind)
    )


def _declared(schema: Mapping[str, Any] | None, name: str) -> PropertyType | None:
    return None if schema is None else property_type(schema, name)


# --------------------------------------------------------------------------------------------
# Errors


def _not_a_filter(node: object) -> QueryError:
    if isinstance(node, Node):
        return QueryError(
            f"not a filter node: {type(node).__name__}",
            code="compile.not-a-filter",
            hint="pass the result of parse_filter(); type expressions go to compile_types()",
        )
    return QueryError(
        f"not an AST node: {type(node).__name__}",
        code="compile.not-a-node",
        hint="pass the result of parse_filter()",
    )


def _bad_leaf(message: str) -> QueryError:
    return QueryError(
        message, code="compile.not-a-node", hint="build nodes with parse_filter() or catalogql.ast"
    )
