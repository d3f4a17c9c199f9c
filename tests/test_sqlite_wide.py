"""Filters too wide for SQLite to prepare quickly are decided in Python, with the same answers.

SQLite prepares a WHERE clause in time quadratic in its terms: the fuzzer's slowest inputs were
filters of 3,000 comparisons, about 2 s of CPU each before the first row (4,000: 4.2 s).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import catalogql as cq
from catalogql.search.stores import sqlite as store
from catalogql.testing.fuzz import make_pools, small_catalog

RECORDS = make_pools(1, 1).records


def _ids(answer: dict[str, Any]) -> list[str]:
    return [record["identifier"] for record in answer["results"]]


@pytest.mark.parametrize("joint", [" AND ", " OR "])
def test_a_wide_filter_skips_sql_and_answers_as_memory(
    joint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    n = store.SQL_COMPARISONS + 1
    # cloudCover is null in half the records: three-valued NOT and <> matter
    first = "NOT cloudCover = 3" if joint == " AND " else "cloudCover = 0"
    wide = joint.join([first, *(f"cloudCover <> {1000 + i}" for i in range(1, n))])
    narrow = joint.join([first, *(f"cloudCover <> {1000 + i}" for i in range(1, 40))])
    memory = small_catalog("memory://", RECORDS)
    sqlite = small_catalog(f"sqlite:///{tmp_path / 'c.db'}", RECORDS)
    compiled: list[int] = []
    real = store.to_sql

    def spy(node: Any, *args: Any, **kwargs: Any) -> Any:
        compiled.append(store._comparisons(node))
        return real(node, *args, **kwargs)

    monkeypatch.setattr(store, "to_sql", spy)
    for text in (wide, narrow):
        body = {"filters": [text], "limit": 1000}
        expected = _ids(memory.search(body))
        assert 0 < len(expected) < len(RECORDS)
        assert _ids(sqlite.search(body)) == expected, text[:40]
    assert compiled and max(compiled) <= store.SQL_COMPARISONS  # the narrow one went to SQL


def test_the_threshold_is_within_the_request_limits() -> None:
    assert 1 < store.SQL_COMPARISONS < cq.Limits().max_request_comparisons
