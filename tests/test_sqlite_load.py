"""A load into an empty SQLite store: one transaction, a savepoint a batch, the R*Tree packed.

The packed tree holds exactly what inserting the boxes one at a time holds (the same float32
values, ``rtreecheck`` passing, the same window answers, and it takes inserts and deletes
after); a load keeps its promises whatever ends it: a failing batch, an interrupt, a search
or a removal from the loading thread, a process killed mid-load.
"""

from __future__ import annotations

import os
import random
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from catalogql.search import InvalidRecord, open_catalog
from catalogql.search.stores import sqlite as store

WINDOWS = [(-180.0, -90.0, 180.0, 90.0), (0.0, 0.0, 10.0, 10.0), (-50.5, -20.25, -49.0, 15.0)]


def _boxes(count: int, seed: int) -> list[tuple[int, float, float, float, float]]:
    """Boxes of every size: points, small tiles, continents, and values float32 rounds."""
    rng = random.Random(seed)
    made = []
    for row in range(1, count + 1):
        x, y = rng.uniform(-180, 179), rng.uniform(-89, 89)
        width, height = rng.choice([0.0, 1e-7, 0.01, 0.3, 40.0]), rng.random() * 0.7
        made.append((row * 3, x, min(x + width, 180.0), y, min(y + height, 90.0)))
    return made


def _rtree(boxes: list[tuple[int, float, float, float, float]], *, packed: bool) -> Any:
    db = sqlite3.connect(":memory:", isolation_level=None)
    db.execute("PRAGMA page_size = 16384")
    db.execute("CREATE VIRTUAL TABLE footprints USING rtree (id, min_x, max_x, min_y, max_y)")
    db.execute("BEGIN")
    if packed:
        ids = np.array([box[0] for box in boxes], np.int64)
        bounds = np.array([box[1:] for box in boxes], np.float64).reshape(-1, 4)
        store._pack_rtree(db, "footprints", ids, bounds)
    else:
        db.executemany("INSERT INTO footprints VALUES (?, ?, ?, ?, ?)", boxes)
    db.execute("COMMIT")
    return db


def _window(db: Any, window: tuple[float, float, float, float]) -> list[int]:
    x1, y1, x2, y2 = window
    sql = (
        "SELECT id FROM footprints WHERE min_x <= ? AND max_x >= ? AND min_y <= ? "
        "AND max_y >= ? ORDER BY id"
    )
    return [row for (row,) in db.execute(sql, (x2, x1, y2, y1))]


@pytest.mark.parametrize("count", [1, 50, 51, 52, 700, 2602, 6000])
def test_a_packed_tree_holds_what_inserting_holds(count: int) -> None:
    boxes = _boxes(count, count)
    packed, inserted = _rtree(boxes, packed=True), _rtree(boxes, packed=False)
    everything = "SELECT * FROM footprints ORDER BY id"
    assert packed.execute(everything).fetchall() == inserted.execute(everything).fetchall()
    assert packed.execute("SELECT rtreecheck('footprints')").fetchone() == ("ok",)
    (depth,) = packed.execute("SELECT substr(data, 1, 2) FROM footprints_node WHERE nodeno = 1")
    assert int.from_bytes(depth[0], "big") == (0 if count <= 51 else 1 if count <= 2601 else 2)
    for window in WINDOWS:
        assert _window(packed, window) == _window(inserted, window)
    more = [(row + 1, *box) for row, *box in _boxes(300, -count)]  # odd ids: none stored
    gone = [(box[0],) for box in boxes[::3]]
    for db in (packed, inserted):
        db.execute("BEGIN")
        db.executemany("INSERT INTO footprints VALUES (?, ?, ?, ?, ?)", more)
        db.executemany("DELETE FROM footprints WHERE id = ?", gone)
        db.execute("COMMIT")
    assert packed.execute("SELECT rtreecheck('footprints')").fetchone() == ("ok",)
    assert packed.execute(everything).fetchall() == inserted.execute(everything).fetchall()
    for window in WINDOWS:
        assert _window(packed, window) == _window(inserted, window)


def test_float32_rounding_is_sqlites_own() -> None:
    rng = np.random.default_rng(7)
    values = np.concatenate(
        [
            rng.uniform(-200, 200, (2000, 4)),
            rng.normal(0, 1e-30, (50, 4)),
            [[-1e300, 1e300, -3.41e38, 3.41e38], [-1e-320, 1e-320, 0.1, 0.3]],
        ]
    )
    values[:, :2].sort(axis=1)
    values[:, 2:].sort(axis=1)
    db = sqlite3.connect(":memory:")
    db.execute("CREATE VIRTUAL TABLE t USING rtree (id, x1, x2, y1, y2)")
    db.executemany(
        "INSERT INTO t VALUES (?, ?, ?, ?, ?)",
        [(row, *box) for row, box in enumerate(values.tolist())],
    )
    written = np.array(db.execute("SELECT x1, x2, y1, y2 FROM t ORDER BY id").fetchall())
    assert np.array_equal(written, store._rtree_boxes(values).astype(np.float64))


def record(identifier: str, x: float, y: float, **properties: Any) -> dict[str, Any]:
    wkt = f"POLYGON(({x} {y}, {x + 0.5} {y}, {x + 0.5} {y + 0.5}, {x} {y + 0.5}, {x} {y}))"
    return {
        "identifier": identifier,
        "type": ["WV02"],
        "properties": {"timestamp": "2016-01-01T00:00:00Z", "footprintWkt": wkt, **properties},
    }


def records(count: int, seed: int = 1) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    return [
        record(f"r{index:04}", rng.uniform(-170, 170), rng.uniform(-80, 80))
        for index in range(count)
    ]


def _area(window: tuple[float, float, float, float]) -> str:
    x1, y1, x2, y2 = window
    return f"POLYGON(({x1} {y1}, {x2} {y1}, {x2} {y2}, {x1} {y2}, {x1} {y1}))"


def _found(catalog: Any, window: tuple[float, float, float, float] = WINDOWS[0]) -> list[str]:
    answer = catalog.search({"searchAreaWkt": _area(window), "limit": 1000})
    return sorted(result["identifier"] for result in answer["results"])


def _check(path: Path) -> int:
    """The file's R*Tree is whole and holds a box for each record, and no other; the count."""
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT rtreecheck('footprints')").fetchone() == ("ok",)
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        indexes = "SELECT name FROM sqlite_master WHERE type = 'index' AND name = 'records_order'"
        assert db.execute(indexes).fetchall() == [("records_order",)]
        (count,) = db.execute("SELECT count(*) FROM records").fetchone()
        joined = "SELECT count(*) FROM footprints JOIN records USING (id)"
        assert db.execute(joined).fetchone() == (count,)
        assert db.execute("SELECT count(*) FROM footprints").fetchone() == (count,)
    return int(count)


def _rows(path: Path) -> list[Any]:
    with sqlite3.connect(path) as db:
        return db.execute(
            "SELECT r.identifier, r.ts, r.types, r.properties, r.footprint, f.min_x, f.max_x, "
            "f.min_y, f.max_y FROM records AS r JOIN footprints AS f USING (id) "
            "ORDER BY r.identifier"
        ).fetchall()


def test_a_load_into_an_empty_file_stores_what_a_load_a_batch_at_a_time_does(
    tmp_path: Path,
) -> None:
    loaded = records(700)
    bulk = open_catalog(f"sqlite:///{tmp_path / 'bulk.db'}")
    plain = open_catalog(f"sqlite:///{tmp_path / 'plain.db'}")
    plain.add_records([record("first", 1, 1)])  # not empty: a transaction a batch
    assert bulk.add_records(loaded, batch_size=64) == plain.add_records(loaded, batch_size=64)
    plain.remove_records(["first"])
    assert _rows(tmp_path / "bulk.db") == _rows(tmp_path / "plain.db")
    for window in WINDOWS:
        assert _found(bulk, window) == _found(plain, window)
    before = _rows(tmp_path / "bulk.db")
    bulk.add_records(loaded, batch_size=64)  # again: nothing changes
    assert _rows(tmp_path / "bulk.db") == before
    bulk.close()
    plain.close()
    assert _check(tmp_path / "bulk.db") == 700


def test_a_failing_batch_ends_the_load_with_the_batches_before_it_and_their_boxes(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'c.db'}"
    loaded = records(500)
    loaded[250]["properties"]["footprintWkt"] = "POLYGON((0 0, 1 1"
    seen: list[tuple[int, list[str]]] = []
    with open_catalog(url) as catalog, open_catalog(url) as other:

        def progress(count: int) -> None:  # another connection: the store as before the load
            seen.append((len(other), _found(other)))

        with pytest.raises(InvalidRecord, match="record 250"):
            catalog.add_records(loaded, batch_size=100, progress=progress)
        assert seen == [(0, [])] * 2
        assert len(catalog) == len(other) == 200
        assert _found(other) == sorted(item["identifier"] for item in loaded[:200])
    assert _check(tmp_path / "c.db") == 200


def test_an_interrupt_commits_the_batches_stored_before_it(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'c.db'}"
    loaded = records(500)

    def progress(count: int) -> None:
        if len(catalog) >= 300:
            raise KeyboardInterrupt

    with open_catalog(url) as catalog:
        with pytest.raises(KeyboardInterrupt):
            catalog.add_records(loaded, batch_size=100, progress=progress)
        assert len(catalog) == 300
    assert _check(tmp_path / "c.db") == 300
    with open_catalog(url) as catalog:  # the rest, into the packed tree a row at a time
        catalog.add_records(loaded, batch_size=100)
        assert _found(catalog) == sorted(item["identifier"] for item in loaded)
    assert _check(tmp_path / "c.db") == 500


def test_the_loading_thread_searches_what_it_has_stored(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'c.db'}"
    loaded = records(500)
    names = [item["identifier"] for item in loaded]
    seen: list[list[str]] = []
    with open_catalog(url) as catalog:

        def progress(count: int) -> None:
            stored = len(catalog)
            if stored == 200:  # boxes placed inside a unit that fails: the load defers again
                with pytest.raises(RuntimeError), catalog.transaction():
                    assert _found(catalog) == sorted(names[:200])
                    catalog.add_records(loaded[400:], batch_size=50)
                    assert _found(catalog) == sorted(names[:200] + names[400:])
                    raise RuntimeError("undone")
            if stored in (100, 300):
                seen.append(_found(catalog))

        catalog.add_records(loaded, batch_size=100, progress=progress)
        assert seen == [sorted(names[:100]), sorted(names[:300])]
        assert _found(catalog) == sorted(names)
    assert _check(tmp_path / "c.db") == 500
    with sqlite3.connect(tmp_path / "c.db") as db:  # searched since: the boxes inserted
        assert db.execute("SELECT count(*) FROM footprints_node").fetchone()[0] > 11


def test_a_load_defers_again_after_a_unit_that_placed_its_boxes_rolls_back(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'c.db'}"
    loaded = records(500)
    with open_catalog(url) as catalog:

        def progress(count: int) -> None:
            if len(catalog) == 100:
                with pytest.raises(RuntimeError), catalog.transaction():
                    assert len(_found(catalog)) == 100
                    raise RuntimeError("undone")

        catalog.add_records(loaded, batch_size=100, progress=progress)
        assert len(_found(catalog)) == 500
    assert _check(tmp_path / "c.db") == 500
    with sqlite3.connect(tmp_path / "c.db") as db:  # packed: 10 full leaves and the root
        assert db.execute("SELECT count(*) FROM footprints_node").fetchone() == (11,)


def test_records_replaced_or_removed_during_a_load_keep_only_their_last_box(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'c.db'}"
    loaded = records(300)
    loaded.append(record("r0000", 100, 50, moved=True))  # the last copy wins
    with open_catalog(url) as catalog:

        def progress(count: int) -> None:
            if len(catalog) == 200:
                assert catalog.remove_records(["r0150", "r0151"]) == 2

        catalog.add_records(loaded, batch_size=100, progress=progress)
        assert catalog.get_record("r0000")["properties"]["moved"] is True
        assert _found(catalog, (99.9, 49.9, 100.7, 50.7)) == ["r0000"]
        expected = sorted(item["identifier"] for item in loaded[:300])
        assert _found(catalog) == [name for name in expected if name not in ("r0150", "r0151")]
    assert _check(tmp_path / "c.db") == 298


_KILLED = """
import os, sys
from catalogql.search import open_catalog
sys.path.insert(0, sys.argv[2])
from test_sqlite_load import records
catalog = open_catalog(sys.argv[1])
def progress(count):
    if len(catalog) >= 200:
        os._exit(3)
catalog.add_records(records(500), batch_size=100, progress=progress)
"""


def test_a_process_killed_mid_load_leaves_the_store_as_before_it(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'c.db'}"
    source = str(Path(__file__).resolve().parents[1] / "src")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([source, *sys.path])}
    done = subprocess.run(
        [sys.executable, "-c", _KILLED, url, str(Path(__file__).parent)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 3, done.stderr
    assert _check(tmp_path / "c.db") == 0
    with open_catalog(url) as catalog:
        assert catalog.add_records(records(500), batch_size=100) == 500
        assert len(_found(catalog)) == 500
    assert _check(tmp_path / "c.db") == 500


def test_a_load_leaves_no_write_ahead_log_behind(tmp_path: Path) -> None:
    """The end of a load checkpoints and cuts the log file, though the catalog stays open
    (a load into an empty store writes its whole size to the log first)."""
    path = tmp_path / "c.db"
    with open_catalog(f"sqlite:///{path}") as catalog:
        loaded = records(3000)
        catalog.add_records(loaded[:2900], batch_size=500)
        assert len(catalog) == 2900
        wal = Path(f"{path}-wal")
        assert not wal.exists() or wal.stat().st_size == 0
        catalog.add_records(loaded[2900:], batch_size=50)  # not empty: a transaction a batch
        assert len(catalog) == 3000
        assert not wal.exists() or wal.stat().st_size == 0
