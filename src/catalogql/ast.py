"""The one typed AST that every front end produces and every back end consumes.

Nodes are frozen, slotted dataclasses with structural equality, so two filters that mean the same
thing as written compare equal, and ``parse_filter(to_gbdx(node)) == node`` holds for every node.

* Filters: :class:`And`, :class:`Or`, :class:`Not`, :class:`Comparison` (a property, an operator
  and a :class:`Literal`), and :class:`Match` (a property against a wildcard :data:`Pattern`).
* Type expressions: the same :class:`And`, :class:`Or` and :class:`Not` over :class:`TypeName` and
  :class:`TypePattern`.

``And`` and ``Or`` are n-ary and kept flat: constructing ``And((a, And((b, c))))`` gives
``And((a, b, c))``. Wildcard patterns are kept normalised (adjacent text merged, runs of ``*``
collapsed), so equal patterns compare equal however they were written.

>>> from catalogql.ast import And, Comparison, Literal, LiteralKind, Op
>>> a = Comparison("cloudCover", Op.LT, Literal("20", LiteralKind.NUMBER))
>>> b = Comparison("offNadirAngle", Op.LT, Literal("10", LiteralKind.NUMBER))
>>> And((a, And((a, b)))).items == (a, a, b)
True
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, fields
from typing import Any, TypeAlias, TypeVar, cast

__all__ = [
    "And",
    "Comparison",
    "FilterNode",
    "Literal",
    "LiteralKind",
    "Match",
    "Node",
    "Not",
    "Op",
    "Or",
    "Pattern",
    "TypeName",
    "TypeNode",
    "TypePattern",
    "Wildcard",
    "children_of",
    "fold",
    "iter_nodes",
    "normalize_pattern",
    "transform",
    "tree_bytes",
    "tree_depth",
    "walk",
]

NUMBER_RE = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
"""The text of a number literal (and of text that "parses as a number", SPEC section 4)."""

BAREWORD_RE = re.compile(r"(?:[A-Za-z0-9_.:/+\-]|\\[*\\])+")
"""An escaped bareword without wildcards: letters, digits, ``_ . : / + -`` and the escapes."""

KEYWORDS = frozenset({"AND", "OR", "NOT", "LIKE"})
"""Words that cannot be barewords or property names."""

TYPE_KEYWORDS = frozenset({"AND", "OR", "NOT"})
"""Words that cannot be type names (``LIKE`` can: type expressions have no LIKE)."""

PROPERTY_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")
TYPE_NAME_RE = re.compile(r"[A-Za-z0-9_]+", re.ASCII)


class Op(enum.Enum):
    """A comparison operator, by its canonical spelling."""

    EQ = "="
    NE = "<>"
    LT = "<"
    LE = "<="
    GT = ">"
    GE = ">="

    @classmethod
    def from_text(cls, text: str) -> Op:
        """The operator for its spelling, accepting ``==`` for ``=`` and ``!=`` for ``<>``.

        >>> Op.from_text("!=")
        <Op.NE: '<>'>
        """
        return _OP_SPELLINGS[text]

    @property
    def is_ordering(self) -> bool:
        """Whether this is ``<``, ``<=``, ``>`` or ``>=`` (no wildcards allowed)."""
        return self not in (Op.EQ, Op.NE)


_OP_SPELLINGS = {op.value: op for op in Op} | {"==": Op.EQ, "!=": Op.NE}


class LiteralKind(enum.Enum):
    """How a literal was written: a number, a quoted string, or a bareword."""

    NUMBER = "number"
    QUOTED = "quoted"
    BARE = "bare"


class Wildcard(enum.Enum):
    """A wildcard inside a :data:`Pattern`: ``ANY`` is ``*`` (a run), ``ONE`` is LIKE's ``_``."""

    ANY = "*"
    ONE = "_"


Pattern: TypeAlias = tuple[str | Wildcard, ...]
"""A wildcard pattern: text pieces and wildcards, normalised by :func:`normalize_pattern`."""


def normalize_pattern(parts: tuple[str | Wildcard, ...]) -> Pattern:
    """Merge adjacent text, drop empty text and collapse runs of ``*`` (``**`` means ``*``).

    >>> normalize_pattern(("WV", "03", Wildcard.ANY, Wildcard.ANY, ""))
    ('WV03', <Wildcard.ANY: '*'>)
    """
    out: list[str | Wildcard] = []
    for part in parts:
        if isinstance(part, str):
            if not part:
                continue
            if out and isinstance(out[-1], str):
                out[-1] = out[-1] + part
                continue
        elif part is Wildcard.ANY and out and out[-1] is Wildcard.ANY:
            continue
        out.append(part)
    return tuple(out)


class Node:
    """Base class of every AST node.

    A node kind declares its children once, in :meth:`children` and :meth:`with_children`; every
    walk over the tree (:func:`walk`, :func:`fold`, :func:`transform`, and through them equality,
    hashing, ``repr`` and every back end) reads them from there, with an explicit stack, so a
    tree as deep as any limit allows never hits Python's recursion limit.
    """

    __slots__ = ()

    def children(self) -> tuple[Node, ...]:
        """The node's children in order; a leaf has none.

        >>> TypeName("WV02").children()
        ()
        """
        return ()

    def with_children(self, children: Sequence[Node]) -> Node:
        """The same kind of node over ``children`` (a leaf, which has none, returns itself).

        >>> Not(TypeName("WV02")).with_children([TypeName("WV03")])
        Not(item=TypeName(name='WV03'))
        """
        return self

    def __eq__(self, other: object) -> bool:
        if self is other:
            return True
        if not isinstance(other, Node):
            return NotImplemented
        return _structure(self) == _structure(other)

    def __hash__(self) -> int:
        return hash(_structure(self))

    def __repr__(self) -> str:
        return _repr(self)


def _fields(node: Node) -> tuple[str, ...]:
    """The names of a leaf's fields that take part in equality (and in ``repr``)."""
    names = _COMPARE_FIELDS.get(type(node))
    if names is None:
        names = _COMPARE_FIELDS[type(node)] = tuple(
            f.name
            for f in fields(node)  # type: ignore[arg-type]
            if f.compare and f.name not in ("items", "item")
        )
    return names


_COMPARE_FIELDS: dict[type, tuple[str, ...]] = {}


def _structure(node: Node) -> tuple[object, ...]:
    """The tree as a flat pre-order tuple: node kinds, child counts and leaf fields.

    :func:`walk`'s order, written out: equality and hashing are hot, and a generator costs.
    """
    out: list[object] = []
    stack = [node]
    while stack:
        current = stack.pop()
        out.append(type(current))
        children = current.children()
        if children:
            out.append(len(children))
            stack.extend(reversed(children))
        else:
            out.extend(getattr(current, name) for name in _fields(current))
    return tuple(out)


def tree_bytes(node: Node) -> int:
    """About how many bytes a tree takes: 64 a node and field, plus its texts' characters.

    The estimate :mod:`catalogql.caches` charges for a tree (parsed trees measure 17-35 bytes a
    character of filter text, which this matches within a few percent); one walk, no recursion.
    Every item of :func:`_structure` (a node's kind, its child count or each of its fields)
    counts 64, and a text, a literal's text or a pattern's text pieces their characters. It runs
    on every parse the cache has not seen, so the usual nodes are counted without building the
    structure.

    >>> tree_bytes(Not(TypeName("WV02"))) < tree_bytes(Not(TypeName("WV02" * 100)))
    True
    """
    total = 0
    stack = [node]
    pop = stack.pop
    push = stack.append
    while stack:
        current = pop()
        kind = type(current)
        if kind is Comparison:  # kind, property, op, value
            total += 256 + len(current.property) + len(current.value.text)  # type: ignore[attr-defined]
        elif kind is Match:  # kind, property, pattern, negated
            total += 256 + len(current.property)  # type: ignore[attr-defined]
            for piece in current.pattern:  # type: ignore[attr-defined]
                if isinstance(piece, str):
                    total += len(piece)
        elif kind is And or kind is Or:  # kind, count; comparison items counted here
            total += 128
            for item in current.items:  # type: ignore[attr-defined]
                if type(item) is Comparison:
                    total += 256 + len(item.property) + len(item.value.text)
                else:
                    push(item)
        elif kind is Not:
            total += 128
            push(current.item)  # type: ignore[attr-defined]
        else:
            children = current.children()
            total += 64
            if children:
                total += 64
                stack.extend(children)
                continue
            for name in _fields(current):
                total += 64 + _part_chars(getattr(current, name))
    return total


def _part_chars(part: object) -> int:
    """The characters :func:`tree_bytes` counts for a leaf's field."""
    if isinstance(part, str):
        return len(part)
    if isinstance(part, Literal):
        return len(part.text)
    if isinstance(part, tuple):
        return sum(len(piece) for piece in part if isinstance(piece, str))
    return 0


def _repr(node: Node) -> str:
    """``Kind(field=value, ...)`` as dataclasses write it, built bottom-up by :func:`fold`."""

    def visit(current: object, children: list[str]) -> str:
        name = type(current).__name__
        if isinstance(current, And | Or):
            return f"{name}(items=({', '.join(children)}))"
        if isinstance(current, Not):
            return f"{name}(item={children[0]})"
        args = ", ".join(f"{f}={getattr(current, f)!r}" for f in _fields(cast(Node, current)))
        return f"{name}({args})"

    return fold(node, visit)


@dataclass(frozen=True, slots=True)
class Literal:
    """A value as written: its text (quotes and escapes removed) and its kind.

    The text is never converted when the literal is built: ``1050010018826700`` stays that text,
    and each back end asks :mod:`catalogql.semantics` what it means next to a given property.

    >>> Literal("10.0", LiteralKind.NUMBER).text
    '10.0'
    """

    text: str
    kind: LiteralKind

    def __post_init__(self) -> None:
        if self.kind is LiteralKind.NUMBER and not NUMBER_RE.fullmatch(self.text):
            raise ValueError(f"not a number literal: {self.text!r}")
        if self.kind is LiteralKind.BARE and not is_bareword_text(self.text):
            raise ValueError(f"not a bareword: {self.text!r}")


def is_bareword_text(text: str) -> bool:
    """Whether ``text`` (unescaped, no wildcards) can be written as a non-numeric bareword.

    >>> is_bareword_text("WORLDVIEW03_VNIR"), is_bareword_text("a b"), is_bareword_text("20")
    (True, False, False)
    """
    return (
        BAREWORD_RE.fullmatch(escape_value(text)) is not None
        and text not in KEYWORDS
        and NUMBER_RE.fullmatch(text) is None
    )


def escape_value(text: str) -> str:
    """Escape literal text for a value: ``\\`` becomes ``\\\\`` and ``*`` becomes ``\\*``.

    >>> print(escape_value("a*b"))
    a\\*b
    """
    return text.replace("\\", "\\\\").replace("*", "\\*")


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class Comparison(Node):
    """``property op literal`` without wildcards, e.g. ``cloudCover < 20``.

    ``offsets`` (where the property and the value start in the parsed text) is for error messages
    only and takes no part in equality.
    """

    property: str
    op: Op
    value: Literal
    offsets: tuple[int, int] | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class Match(Node):
    """``property = pattern`` (or ``<>`` when ``negated``) where the pattern has wildcards.

    A wildcard matches the property's text form, so ``catalogID = 1050010*`` works on ids that
    look like numbers.
    """

    property: str
    pattern: Pattern
    negated: bool = False
    offsets: tuple[int, int] | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        pattern = normalize_pattern(self.pattern)
        if not any(isinstance(part, Wildcard) for part in pattern):
            raise ValueError("a Match pattern needs at least one wildcard; use Comparison")
        object.__setattr__(self, "pattern", pattern)


def _flatten(cls: type[And | Or], items: tuple[Node, ...]) -> tuple[Node, ...]:
    if not any(type(item) is cls for item in items):
        return items
    flat: list[Node] = []
    for item in items:
        if type(item) is cls:
            flat.extend(item.items)
        else:
            flat.append(item)
    return tuple(flat)


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class And(Node):
    """All of ``items`` hold (n-ary, kept flat, at least two items)."""

    items: tuple[Node, ...]

    def __post_init__(self) -> None:
        if len(self.items) < 2:
            raise ValueError("And needs at least two items")
        object.__setattr__(self, "items", _flatten(And, tuple(self.items)))

    def children(self) -> tuple[Node, ...]:
        """The items."""
        return self.items

    def with_children(self, children: Sequence[Node]) -> Node:
        """``And(children)``, flattened."""
        return And(tuple(children))


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class Or(Node):
    """Any of ``items`` holds (n-ary, kept flat, at least two items)."""

    items: tuple[Node, ...]

    def __post_init__(self) -> None:
        if len(self.items) < 2:
            raise ValueError("Or needs at least two items")
        object.__setattr__(self, "items", _flatten(Or, tuple(self.items)))

    def children(self) -> tuple[Node, ...]:
        """The items."""
        return self.items

    def with_children(self, children: Sequence[Node]) -> Node:
        """``Or(children)``, flattened."""
        return Or(tuple(children))


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class Not(Node):
    """``NOT item``. On a filter, NOT of an unknown comparison stays unknown (SPEC section 4)."""

    item: Node

    def children(self) -> tuple[Node, ...]:
        """The one item."""
        return (self.item,)

    def with_children(self, children: Sequence[Node]) -> Node:
        """``Not`` of the one child."""
        (item,) = children
        return Not(item)


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class TypeName(Node):
    """A type name, matching a record whose ``type`` list contains it exactly."""

    name: str

    def __post_init__(self) -> None:
        if not TYPE_NAME_RE.fullmatch(self.name) or self.name in TYPE_KEYWORDS:
            raise ValueError(f"not a type name: {self.name!r}")


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class TypePattern(Node):
    """A type pattern such as ``WV03*``, matching a record if any of its types matches."""

    pattern: Pattern

    def __post_init__(self) -> None:
        pattern = normalize_pattern(self.pattern)
        if Wildcard.ANY not in pattern or Wildcard.ONE in pattern:
            raise ValueError("a TypePattern needs a '*' and no other wildcard")
        for part in pattern:
            if isinstance(part, str) and not TYPE_NAME_RE.fullmatch(part):
                raise ValueError(f"not a type name piece: {part!r}")
        object.__setattr__(self, "pattern", pattern)


FilterNode: TypeAlias = And | Or | Not | Comparison | Match
TypeNode: TypeAlias = And | Or | Not | TypeName | TypePattern


# Construction without validation, for the parser only: its output is valid by construction, and
# the checks of __post_init__ would be a third of the parse time. Same objects, same equality.

_new = object.__new__
_set = object.__setattr__


def _slot_setter(cls: type, name: str) -> Any:
    """The C setter of a slot of ``cls`` (its member descriptor's ``__set__``).

    Calling it skips the frozen dataclass's ``__setattr__`` and the lookup of the name that
    ``object.__setattr__`` makes: about a quarter off building a node.
    """
    descriptor = cls.__dict__[name]
    assert type(descriptor).__name__ == "member_descriptor", (cls, name)
    return descriptor.__set__


_LITERAL_TEXT = _slot_setter(Literal, "text")
_LITERAL_KIND = _slot_setter(Literal, "kind")
_COMPARISON_PROPERTY = _slot_setter(Comparison, "property")
_COMPARISON_OP = _slot_setter(Comparison, "op")
_COMPARISON_VALUE = _slot_setter(Comparison, "value")
_COMPARISON_OFFSETS = _slot_setter(Comparison, "offsets")
_MATCH_PROPERTY = _slot_setter(Match, "property")
_MATCH_PATTERN = _slot_setter(Match, "pattern")
_MATCH_NEGATED = _slot_setter(Match, "negated")
_MATCH_OFFSETS = _slot_setter(Match, "offsets")
_AND_ITEMS = _slot_setter(And, "items")
_OR_ITEMS = _slot_setter(Or, "items")


def unchecked_literal(text: str, kind: LiteralKind) -> Literal:
    """``Literal(text, kind)`` without the validity check (the parser's fast path).

    >>> unchecked_literal("20", LiteralKind.NUMBER) == Literal("20", LiteralKind.NUMBER)
    True
    """
    literal = _new(Literal)
    _LITERAL_TEXT(literal, text)
    _LITERAL_KIND(literal, kind)
    return literal


def unchecked_comparison(
    prop: str, op: Op, value: Literal, offsets: tuple[int, int] | None
) -> Comparison:
    """``Comparison(...)`` built directly (the parser's fast path).

    >>> unchecked_comparison("a", Op.LT, Literal("1", LiteralKind.NUMBER), None)
    Comparison(property='a', op=<Op.LT: '<'>, value=Literal(text='1', kind=<LiteralKind.NUMBER: 'number'>))
    """  # noqa: E501
    node = _new(Comparison)
    _COMPARISON_PROPERTY(node, prop)
    _COMPARISON_OP(node, op)
    _COMPARISON_VALUE(node, value)
    _COMPARISON_OFFSETS(node, offsets)
    return node


def unchecked_text_comparison(
    prop: str, op: Op, text: str, kind: LiteralKind, offsets: tuple[int, int] | None
) -> Comparison:
    """``Comparison(prop, op, Literal(text, kind), offsets)`` in one call (the parser's path).

    >>> unchecked_text_comparison("a", Op.EQ, "x", LiteralKind.BARE, (0, 2)).value.text
    'x'
    """
    literal = _new(Literal)
    _LITERAL_TEXT(literal, text)
    _LITERAL_KIND(literal, kind)
    node = _new(Comparison)
    _COMPARISON_PROPERTY(node, prop)
    _COMPARISON_OP(node, op)
    _COMPARISON_VALUE(node, literal)
    _COMPARISON_OFFSETS(node, offsets)
    return node


def unchecked_match(
    prop: str, pattern: Pattern, negated: bool, offsets: tuple[int, int] | None
) -> Match:
    """``Match(...)`` from an already normalised pattern with a wildcard (the parser's path).

    >>> unchecked_match("a", ("x", Wildcard.ANY), False, None) == Match("a", ("x", Wildcard.ANY))
    True
    """
    node = _new(Match)
    _MATCH_PROPERTY(node, prop)
    _MATCH_PATTERN(node, pattern)
    _MATCH_NEGATED(node, negated)
    _MATCH_OFFSETS(node, offsets)
    return node


def unchecked_chain(cls: type[And] | type[Or], items: Sequence[Node]) -> And | Or:
    """``And(items)`` or ``Or(items)`` from two or more items, flattened (the parser's path).

    >>> unchecked_chain(And, [TypeName("A"), And((TypeName("B"), TypeName("C")))])
    And(items=(TypeName(name='A'), TypeName(name='B'), TypeName(name='C')))
    """
    flat = tuple(items)
    for item in flat:  # a loop, not any(): most chains have a few items and nothing to flatten
        if type(item) is cls:
            flat = _flatten(cls, flat)
            break
    node = _new(cls)
    (_AND_ITEMS if cls is And else _OR_ITEMS)(node, flat)
    return node


# --------------------------------------------------------------------------------------------
# The one tree walk: every traversal of a tree (here and in every back end) is one of these.

T = TypeVar("T")
R = TypeVar("R")


def children_of(node: object) -> tuple[Node, ...]:
    """The children of an AST node; anything else (a malformed item) has none.

    >>> children_of(Not(TypeName("WV02"))), children_of("not a node")
    ((TypeName(name='WV02'),), ())
    """
    return node.children() if isinstance(node, Node) else ()


def walk(node: Node) -> Iterator[Node]:
    """Every node of a tree, parents before their children, left to right (pre-order).

    A subtree that occurs twice is walked twice. An explicit stack: any depth.

    >>> [type(n).__name__ for n in walk(And((Not(TypeName("A")), TypeName("B"))))]
    ['And', 'Not', 'TypeName', 'TypeName']
    """
    stack = [node]
    pop, extend = stack.pop, stack.extend
    while stack:
        current = pop()
        yield current
        children = current.children() if isinstance(current, Node) else ()
        if children:
            extend(reversed(children))


def fold(
    root: T,
    visit: Callable[[T, list[R]], R],
    children: Callable[[T], Sequence[T]] = children_of,  # type: ignore[assignment]
) -> R:
    """Fold a tree bottom-up: ``visit(node, results of its children)``, children first.

    Nodes are visited in post-order, left to right (so side effects of ``visit``, such as
    numbering parameters, happen in reading order). A subtree that occurs more than once (the
    same object) is visited once and its result reused. An explicit stack: any depth.

    Args:
        root: The tree (an AST node, or any tree ``children`` describes, such as CQL2 JSON).
        visit: The result for one node, given the results of its children, in order.
        children: A node's children (default: an AST node's, see :func:`children_of`).

    Returns:
        ``visit``'s result for the root.

    >>> fold(Not(And((TypeName("A"), TypeName("B")))), lambda n, kids: 1 + sum(kids))
    4
    >>> fold([1, [2, 3]], lambda n, kids: sum(kids) if kids else n,
    ...      lambda n: n if isinstance(n, list) else ())
    6
    """
    done: dict[int, R] = {}
    stack: list[tuple[T, Sequence[T] | None]] = [(root, None)]
    pop, push, extend = stack.pop, stack.append, stack.extend
    while stack:
        node, kids = pop()
        if kids is not None:  # its children are done
            done[id(node)] = visit(node, [done[id(child)] for child in kids])
        elif id(node) not in done:
            kids = children(node)
            if kids:
                push((node, kids))
                extend([(child, None) for child in reversed(kids)])
            else:
                done[id(node)] = visit(node, [])
    return done[id(root)]


def transform(root: Node, change: Callable[[Node], Node]) -> Node:
    """A tree with ``change`` applied to every node, bottom-up, rebuilding only what changed.

    ``change`` receives each node with its children already changed, and returns it or its
    replacement. A node whose children all come back unchanged (the same objects) is kept as it
    is, so an unchanged tree comes back as the very same object.

    >>> tree = And((TypeName("A"), Not(TypeName("B"))))
    >>> transform(tree, lambda n: TypeName("C") if n == TypeName("B") else n)
    And(items=(TypeName(name='A'), Not(item=TypeName(name='C'))))
    >>> transform(tree, lambda n: n) is tree
    True
    """

    def visit(node: Node, children: list[Node]) -> Node:
        if any(new is not old for new, old in zip(children, node.children(), strict=True)):
            node = node.with_children(children)
        return change(node)

    return fold(root, visit)


def tree_depth(node: Node) -> int:
    """How many levels a tree has (a leaf is 1), by :func:`fold`.

    >>> tree_depth(Not(Not(TypeName("WV02"))))
    3
    """
    return fold(node, _depth)


def _depth(node: object, children: list[int]) -> int:
    return 1 + max(children) if children else 1


def iter_nodes(node: Node) -> list[Node]:
    """Every node of a tree, parents before children (:func:`walk`, as a list).

    >>> len(iter_nodes(Not(TypeName("WV02"))))
    2
    """
    return list(walk(node))
