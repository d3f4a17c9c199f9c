"""Print the AST as canonical GBDX text: ``parse_filter(to_gbdx(node)) == node`` for every node.

The canonical form uses ``=`` and ``<>``, uppercase keywords, single quotes, and only the
parentheses that precedence needs (an OR inside an AND, an AND or OR under NOT). Values are
written bare when they can be and quoted otherwise. A pattern with LIKE's one-character wildcard
has no ``=`` spelling, so it is printed in the LIKE form.

>>> from catalogql import parse_filter
>>> to_gbdx(parse_filter("(sensorPlatformName == WORLDVIEW03_VNIR) OR (cloudCover < '0')"))
"sensorPlatformName = WORLDVIEW03_VNIR OR cloudCover < '0'"
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from catalogql.ast import (
    BAREWORD_RE,
    And,
    Comparison,
    Literal,
    LiteralKind,
    Match,
    Node,
    Not,
    Or,
    Pattern,
    TypeName,
    TypePattern,
    Wildcard,
    escape_value,
    fold,
)
from catalogql.semantics import like_pattern
from catalogql.syntax.errors import QueryError

__all__ = ["to_gbdx"]

_PRECEDENCE = {Or: 1, And: 2, Not: 3}


def to_gbdx(node: Node) -> str:
    """Canonical GBDX text for a filter or type-expression AST.

    Args:
        node: Any AST node.

    Returns:
        The text; parsing it gives back an equal node.

    Raises:
        QueryError: If ``node`` is not an AST node.

    >>> from catalogql import parse_types
    >>> to_gbdx(parse_types("(WV02 OR WV03*) AND NOT IDAHOImage"))
    '(WV02 OR WV03*) AND NOT IDAHOImage'
    """
    return _print(node)


def _print(root: Node) -> str:
    # Bottom-up by the one tree walk: a tree as deep as any limit allows never recurses.
    def visit(node: object, children: list[str]) -> str:
        printer = _PRINTERS.get(type(node))
        if printer is None:
            raise QueryError(
                f"not an AST node: {type(node).__name__}",
                code="compile.not-a-node",
                hint="pass the result of parse_filter() or parse_types()",
            )
        return printer(node, children)

    return fold(root, visit)


# --------------------------------------------------------------------------------------------
# One printer per node kind: the node, and its children already printed


def _chain(node: And | Or, children: list[str]) -> str:
    outer = _PRECEDENCE[type(node)]
    word = " AND " if outer == _PRECEDENCE[And] else " OR "
    return word.join(
        _wrap(item, text, outer) for item, text in zip(node.items, children, strict=True)
    )


def _not(node: Not, children: list[str]) -> str:
    return "NOT " + _wrap(node.item, children[0], _PRECEDENCE[Not])


def _wrap(node: Node, text: str, outer: int) -> str:
    return f"({text})" if _PRECEDENCE.get(type(node), 4) < outer else text


def _comparison(node: Comparison, children: list[str]) -> str:
    return f"{node.property} {node.op.value} {_literal(node.value)}"


def _type_name(node: TypeName, children: list[str]) -> str:
    return node.name


def _type_pattern(node: TypePattern, children: list[str]) -> str:
    return "".join("*" if part is Wildcard.ANY else str(part) for part in node.pattern)


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _literal(literal: Literal) -> str:
    if literal.kind is LiteralKind.QUOTED:
        return _quote(escape_value(literal.text))
    return escape_value(literal.text)  # numbers and barewords are written as they were


def _match(node: Match, children: list[str]) -> str:
    if Wildcard.ONE in node.pattern:
        return f"{node.property} {'NOT LIKE' if node.negated else 'LIKE'} {_like(node.pattern)}"
    text = "".join(
        "*" if part is Wildcard.ANY else escape_value(str(part)) for part in node.pattern
    )
    bare = all(BAREWORD_RE.fullmatch(escape_value(part)) for part in _pieces(node.pattern))
    value = text if bare else _quote(text)
    return f"{node.property} {'<>' if node.negated else '='} {value}"


def _pieces(pattern: Pattern) -> list[str]:
    return [part for part in pattern if isinstance(part, str)]


def _like(pattern: Pattern) -> str:
    return _quote(like_pattern(pattern))


_PRINTERS: dict[type, Callable[[Any, list[str]], str]] = {
    And: _chain,
    Or: _chain,
    Not: _not,
    Comparison: _comparison,
    Match: _match,
    TypeName: _type_name,
    TypePattern: _type_pattern,
}
