"""The ``load`` benchmark runs end to end on a small size (no timing asserted)."""

from __future__ import annotations

from pathlib import Path

import pytest
from benchmarks import load
from benchmarks.timing import QUICK

from conftest import GBDX_RECORDS, require_shared

ROOT = Path(__file__).resolve().parents[1]


def test_this_tree_and_another_load_the_same_records(capsys: pytest.CaptureFixture[str]) -> None:
    source = require_shared(GBDX_RECORDS)
    res = load.run(QUICK, 300, repeat=1, stores=("memory", "sqlite"), trees=[ROOT], source=source)
    assert res["errors"] == []
    assert len(res["floor_s"]) == 1
    assert set(res["load_s"]) == {"this tree", str(ROOT)}
    for stores in res["load_s"].values():
        assert {store: len(times) for store, times in stores.items()} == {"memory": 1, "sqlite": 1}
    table = load.summary(res)
    assert "memory (this tree)" in table and f"sqlite ({ROOT})" in table


def test_every_tree_named_is_measured(monkeypatch: pytest.MonkeyPatch) -> None:
    """``--tree A --tree B`` and ``--tree A B`` both measure A and B (not only the last)."""
    seen: list[list[Path]] = []

    def run(*_: object, trees: list[Path], **__: object) -> dict[str, str]:
        seen.append(list(trees))
        return {"skipped": "not run"}

    monkeypatch.setattr(load, "run", run)
    load.main(["--tree", "a", "--tree", "b"])
    load.main(["--tree", "a", "b"])
    load.main([])
    assert seen == [[Path("a"), Path("b")], [Path("a"), Path("b")], []]
