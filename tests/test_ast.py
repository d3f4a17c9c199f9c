"""The one tree walk: children declared once on the node kinds, walked with an explicit stack.

The laws: :func:`~catalogql.ast.walk` is pre-order and :func:`~catalogql.ast.fold` post-order
(every parent after its children, left to right); a shared subtree is folded once; trees
100,000 levels deep and chains 10,000 long walk without recursion; :func:`~catalogql.ast.transform`
rebuilds only the nodes on a path to a change.
"""

from __future__ import annotations

from typing import Any

import pytest

import catalogql as cq
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
    children_of,
    fold,
    iter_nodes,
    transform,
    tree_bytes,
    tree_depth,
    walk,
)
from catalogql.ast import _structure as structure

A, B, C, D = (TypeName(name) for name in "ABCD")
DEEP = 100_000


def _nots(depth: int, leaf: Node = A) -> Node:
    node = leaf
    for _ in range(depth):
        node = Not(node)
    return node


def _name(node: object) -> str:
    return node.name if isinstance(node, TypeName) else type(node).__name__


def test_children_are_declared_once_on_each_kind() -> None:
    chain = And((A, Or((B, C)), Not(D)))
    assert chain.children() == (A, Or((B, C)), Not(D))
    assert Not(D).children() == (D,)
    comparison = Comparison("a", Op.LT, Literal("1", LiteralKind.NUMBER))
    match = Match("a", ("x", Wildcard.ANY))
    for leaf in (A, TypePattern(("WV", Wildcard.ANY)), comparison, match):
        assert leaf.children() == ()
        assert leaf.with_children([]) is leaf
    assert children_of("not a node") == () and children_of(None) == ()


def test_with_children_rebuilds_the_same_kind_and_flattens() -> None:
    assert And((A, B)).with_children([A, And((C, D))]) == And((A, C, D))
    assert Or((A, B)).with_children([C, D]) == Or((C, D))
    assert Not(A).with_children([B]) == Not(B)
    with pytest.raises(ValueError):
        Not(A).with_children([A, B])


def test_walk_is_pre_order_left_to_right() -> None:
    tree = And((Not(A), Or((B, C)), D))
    assert [_name(n) for n in walk(tree)] == ["And", "Not", "A", "Or", "B", "C", "D"]
    assert iter_nodes(tree) == list(walk(tree))


def test_fold_visits_parents_after_children_left_to_right() -> None:
    tree = And((Not(A), Or((B, C)), D))
    order: list[str] = []

    def visit(node: Node, children: list[str]) -> str:
        order.append(_name(node))
        return f"{_name(node)}[{','.join(children)}]" if children else _name(node)

    assert fold(tree, visit) == "And[Not[A],Or[B,C],D]"
    assert order == ["A", "Not", "B", "C", "Or", "D", "And"]


def test_fold_visits_a_shared_subtree_once_and_reuses_its_result() -> None:
    shared = Or((A, B))
    tree = And((shared, Not(shared), shared))
    visits: dict[int, int] = {}

    def visit(node: Node, children: list[int]) -> int:
        visits[id(node)] = visits.get(id(node), 0) + 1
        return 1 + sum(children)

    assert fold(tree, visit) == 1 + 3 + 4 + 3
    assert visits[id(shared)] == 1 and set(visits.values()) == {1}
    assert len(iter_nodes(tree)) == 11  # walk sees every occurrence


def test_fold_takes_any_children_function() -> None:
    tree: dict[str, Any] = {
        "op": "and",
        "args": [{"op": "x", "args": []}, {"op": "not", "args": [{"op": "y"}]}],
    }

    def visit(node: dict[str, Any], children: list[str]) -> str:
        return f"{node['op']}({' '.join(children)})"

    def args(node: dict[str, Any]) -> list[dict[str, Any]]:
        kids: list[dict[str, Any]] = node.get("args", [])
        return kids

    assert fold(tree, visit, args) == "and(x() not(y()))"


def test_a_leaf_that_is_not_a_node_is_folded_as_a_leaf() -> None:
    tree = And((A, "garbage"))  # type: ignore[arg-type]
    assert fold(tree, lambda node, children: len(children)) == 2
    with pytest.raises(cq.QueryError) as caught:
        cq.to_gbdx(tree)
    assert caught.value.code == "compile.not-a-node" and "str" in str(caught.value)


def test_walk_and_fold_take_100_000_levels_without_recursion() -> None:
    deep = _nots(DEEP)
    assert tree_depth(deep) == DEEP + 1
    assert sum(1 for _ in walk(deep)) == DEEP + 1
    assert fold(deep, lambda node, children: 1 + sum(children)) == DEEP + 1
    assert repr(_nots(2_000)).count("Not(") == 2_000  # (a deep repr is quadratic in size)
    assert deep == _nots(DEEP) and hash(deep) == hash(_nots(DEEP))
    assert deep != _nots(DEEP, B)


def test_chains_10_000_long_fold_in_order() -> None:
    items = tuple(TypeName(f"T{i}") for i in range(10_000))
    chain = Or(items)
    names = fold(chain, lambda node, kids: [n for kid in kids for n in kid] or [_name(node)])
    assert names == [f"T{i}" for i in range(10_000)]
    assert tree_depth(chain) == 2


def test_transform_rebuilds_only_the_path_to_a_change() -> None:
    left, right = Or((A, B)), Not(C)
    tree = And((left, right))
    changed = transform(tree, lambda node: D if node == C else node)
    assert changed == And((left, Not(D)))
    assert isinstance(changed, And)
    assert changed.items[0] is left  # untouched subtree kept, not rebuilt
    assert changed is not tree and changed.items[1] is not right


def test_transform_without_a_change_returns_the_same_tree() -> None:
    tree = And((Or((A, B)), Not(C)))
    assert transform(tree, lambda node: node) is tree


def test_transform_sees_children_already_transformed() -> None:
    tree = Not(Not(A))

    def drop_double_not(node: Node) -> Node:
        if isinstance(node, Not) and isinstance(node.item, Not):
            return node.item.item
        return node

    assert transform(And((tree, Not(tree))), drop_double_not) == And((A, Not(A)))


def test_transform_flattens_a_chain_that_a_change_makes_nested() -> None:
    tree = And((A, B))
    assert transform(tree, lambda node: And((C, D)) if node == B else node) == And((A, C, D))


def test_transform_takes_100_000_levels() -> None:
    deep = _nots(DEEP)
    renamed = transform(deep, lambda node: B if node is A else node)  # (== is O(size))
    assert tree_depth(renamed) == DEEP + 1 and renamed == _nots(DEEP, B)


def _structure_bytes(node: Node) -> int:
    """tree_bytes as documented: 64 an item of the structure, plus its texts' characters."""
    total = 0
    for part in structure(node):
        total += 64
        if isinstance(part, str):
            total += len(part)
        elif isinstance(part, Literal):
            total += len(part.text)
        elif isinstance(part, tuple):
            total += sum(len(piece) for piece in part if isinstance(piece, str))
    return total


@pytest.mark.parametrize(
    "tree",
    [
        cq.parse_filter(
            "sensorPlatformName = WORLDVIEW03* AND cloudCover < 20 AND offNadirAngle < 10"
        ),
        cq.parse_filter("NOT (a = 'x y' OR b <> *q\\*r*) AND NOT NOT c >= -1.5e3"),
        cq.parse_types("(WV02 OR WV03*) AND NOT *Product*"),
        And(
            (
                Comparison("p", Op.EQ, Literal("", LiteralKind.QUOTED)),
                Match("q", ("", Wildcard.ONE)),
            )
        ),
        Not(And((A, Or((B, C)), TypePattern(("x", Wildcard.ANY, "yz"))))),
        A,
    ],
)
def test_tree_bytes_counts_every_item_of_the_structure(tree: Node) -> None:
    """The fast walk of tree_bytes (the parse cache's charge) agrees with its definition."""
    assert tree_bytes(tree) == _structure_bytes(tree) > 0


def test_tree_bytes_takes_100_000_levels() -> None:
    assert tree_bytes(_nots(DEEP)) == 128 * DEEP + 64 + 64 + 1
