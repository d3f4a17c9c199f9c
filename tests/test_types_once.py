"""A type expression is decided once per distinct type list in a search, not once per record.

The fuzzer found a 54 KB type expression that took seconds on the memory store: its size was paid
for each record. Records share few type lists, so the engine decides each list once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

import catalogql as cq
from catalogql.compile import predicate as compiled
from catalogql.search import engine


def _records(n: int) -> list[dict[str, Any]]:
    kinds = [["A", "B"], ["A"], ["C", "ORBIT7"], []]
    return [
        {
            "identifier": f"r{i}",
            "type": kinds[i % len(kinds)],
            "properties": {
                "timestamp": f"2020-01-{1 + i % 28:02d}T00:00:00Z",
                "footprintWkt": "POLYGON ((0 0, 1 0, 1 1, 0 1, 0 0))",
            },
        }
        for i in range(n)
    ]


def test_each_distinct_type_list_is_decided_once(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[str, ...]] = []
    real = compiled.compile_types

    def counting(node: Any) -> Any:
        decide = real(node)

        def counted(types: Sequence[str]) -> bool:
            seen.append(tuple(types))
            return decide(types)

        return counted

    monkeypatch.setattr(engine, "compile_types", counting)
    catalog = cq.open_catalog("memory://")
    catalog.add_records(_records(400))
    big = " OR ".join(f"NOT NOT ORBIT{i}*" for i in range(300))
    answer = catalog.search({"types": [big], "limit": 1000})
    assert {r["identifier"] for r in answer["results"]} == {f"r{i}" for i in range(2, 400, 4)}
    assert sorted(seen) == sorted(set(seen))  # every list decided once
    assert len(seen) <= 4


def test_the_memo_answers_as_the_predicate_does() -> None:
    tree = cq.parse_types("A AND NOT B")
    once = engine._once_per_type_list(compiled.compile_types(tree))
    direct = compiled.compile_types(tree)
    for types in (["A"], ["A", "B"], (), ("B",), ["A"], ("A", "B")):
        assert once(types) == direct(types)
