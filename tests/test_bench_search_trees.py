"""The ``search_trees`` benchmark runs end to end on a small size (no timing asserted)."""

from __future__ import annotations

from pathlib import Path

from benchmarks import search_trees

ROOT = Path(__file__).resolve().parents[1]


def test_two_children_of_one_tree_agree_and_report_every_kind() -> None:
    result = search_trees.run([ROOT, ROOT], records=400, rounds=2, reps=1, store="sqlite")
    first, second = result["digests"]
    assert first == second
    for rounds in result["rounds"]:
        assert len(rounds) == 2
        for figures in rounds:
            assert set(figures) == set(search_trees.KINDS)
            assert all(ms > 0 for ms in figures.values())
    text = search_trees.table(result)
    assert "the same on every tree" in text
    assert text.count("x") >= len(search_trees.KINDS)  # a ratio to the first tree a kind


def test_a_tree_that_answers_differently_is_reported() -> None:
    result = {
        "trees": ["a", "b"],
        "digests": ["1", "2"],
        "rounds": [
            [dict.fromkeys(search_trees.KINDS, 1.0)],
            [dict.fromkeys(search_trees.KINDS, 2.0)],
        ],
    }
    text = search_trees.table(result)
    assert "DIFFERENT" in text
    assert "2.00x" in text
