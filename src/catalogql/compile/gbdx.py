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
    # Bottom-up with an explicit stack: a tree as deep as any limit allows never recurses.
    done: dict[int, str] = {}
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        if isinstance(node, And | Or | Not) and not children_done:
            stack.append((node, True))
            children = node.items if isinstance(node, And | Or) else (node.item,)
            stack.extend((child, False) for child in children)
            continue
        if isinstance(node, And | Or):
            word = " AND " if isinstance(node, And) else " OR "
            done[id(node)] = word.join(
                _wrap(item, done, _PRECEDENCE[type(node)]) for item in node.items
            )
        elif isinstance(node, Not):
            done[id(node)] = "NOT " + _wrap(node.item, done, _PRECEDENCE[Not])
        else:
            done[id(node)] = _leaf(node)
    return done[id(root)]


def _wrap(node: Node, done: dict[int, str], outer: int) -> str:
    text = done[id(node)]
    return f"({text})" if _PRECEDENCE.get(type(node), 4) < outer else text


def _leaf(node: Node) -> str:
    if isinstance(node, Comparison):
        return f"{node.property} {node.op.value} {_literal(node.value)}"
    if isinstance(node, Match):
        return _match(node)
    if isinstance(node, TypeName):
        return node.name
    if isinstance(node, TypePattern):
        return "".join("*" if part is Wildcard.ANY else str(part) for part in node.pattern)
    raise QueryError(
        f"not an AST node: {type(node).__name__}",
        code="compile.not-a-node",
        hint="pass the result of parse_filter() or parse_types()",
    )


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _literal(literal: Literal) -> str:
    if literal.kind is LiteralKind.QUOTED:
        return _quote(escape_value(literal.text))
    return escape_value(literal.text)  # numbers and barewords are written as they were


def _match(node: Match) -> str:
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
