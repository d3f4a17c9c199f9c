"""Units of work and concurrency, on every store (memory, an SQLite file, PostgreSQL).

- ``Catalog.transaction()``: the writes of a unit are seen all at once or not at all; an
  exception rolls all of them back; nested use joins the outer unit; the SQL stores expose their
  connection for other rows of the same unit, the memory store stages changes with
  ``on_commit``.
- A writer thread loads marked batches while reader threads search in a loop: every answer is a
  consistent snapshot (each batch whole or absent, counts never shrink, a rolled-back unit never
  seen). For SQLite, a second process reads while this one writes.

No assertion depends on timing: the writer waits (with a bound) for the readers to have searched
between its batches, so reads and writes interleave, and every loop stops by itself.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from catalog_fixtures import Factory
from catalogql.search import Catalog, CatalogError, InvalidRecord, open_catalog
from catalogql.search.stores.sqlite import SQLiteCatalog

BATCHES = 10
BATCH = 24  # records per batch
READERS = 3
DOOMED = -1  # the batch number of the unit that is rolled back


def marked_batch(batch: int, size: int = BATCH) -> list[dict[str, Any]]:
    """``size`` records carrying their batch number (so a reader can tell a part of a batch)."""
    return [
        {
            "identifier": f"b{batch:03d}-{i:03d}",
            "type": ["GBDXCatalogRecord", "WV02"],
            "properties": {
                "timestamp": f"2016-01-{1 + i % 28:02d}T00:00:00.000Z",
                "footprintWkt": f"POINT({i % 10} {batch % 10})",
                "batch": batch,
                "catalogID": f"C{batch:03d}",
            },
        }
        for i in range(size)
    ]


def ids(answer: dict[str, Any]) -> list[str]:
    return [record["identifier"] for record in answer["results"]]


# -- units of work -----------------------------------------------------------------------------


def test_a_unit_commits_all_its_batches_together(new_catalog: Factory) -> None:
    catalog = new_catalog()
    with catalog.transaction() as unit:
        assert catalog.add_records(marked_batch(0), batch_size=5) == BATCH
        catalog.add_records(marked_batch(1))
        assert unit.catalog is catalog and not unit.failed
    assert len(catalog) == 2 * BATCH
    answer = catalog.search({"filters": ["batch = 1"], "countTotal": True})
    assert answer["stats"]["totalMatched"] == BATCH


def test_an_exception_rolls_the_whole_unit_back(new_catalog: Factory) -> None:
    catalog = new_catalog()
    catalog.add_records(marked_batch(0))
    with pytest.raises(ZeroDivisionError), catalog.transaction():
        catalog.add_records(marked_batch(1), batch_size=7)
        catalog.add_records([{**marked_batch(0)[0], "type": ["Replaced"]}])
        _ = 1 / 0
    assert len(catalog) == BATCH
    assert catalog.search({"filters": ["batch = 1"]})["results"] == []
    assert catalog.get_record("b000-000")["type"] == ["GBDXCatalogRecord", "WV02"]
    catalog.add_records(marked_batch(1))  # the catalog still takes writes
    assert len(catalog) == 2 * BATCH


def test_a_bad_record_inside_a_unit_rolls_back_the_batches_before_it(new_catalog: Factory) -> None:
    catalog = new_catalog()
    bad = {"identifier": "bad", "type": [], "properties": {}}
    with (
        pytest.raises(InvalidRecord, match=r"record 3: properties\.timestamp"),
        catalog.transaction(),
    ):
        catalog.add_records([*marked_batch(0, 3), bad], batch_size=3)
    assert len(catalog) == 0


def test_nested_units_join_the_outer_one(new_catalog: Factory) -> None:
    catalog = new_catalog()
    with catalog.transaction() as outer:
        with catalog.transaction() as inner:
            assert inner is outer
            catalog.add_records(marked_batch(0))
        catalog.add_records(marked_batch(1))
    assert len(catalog) == 2 * BATCH
    with pytest.raises(CatalogError, match="rolled back: a block inside it raised"):  # noqa: SIM117
        with catalog.transaction():
            catalog.add_records(marked_batch(2))
            with pytest.raises(KeyError), catalog.transaction():
                raise KeyError("caught inside the outer block")
            catalog.add_records(marked_batch(3))
    assert len(catalog) == 2 * BATCH


def test_a_unit_is_invisible_to_other_threads_until_it_ends(new_catalog: Factory) -> None:
    catalog = new_catalog()
    catalog.add_records(marked_batch(0))
    seen: list[tuple[int, int]] = []

    def look() -> None:
        answer = catalog.search({"countTotal": True})
        seen.append((len(catalog), answer["stats"]["totalMatched"]))

    with catalog.transaction():
        catalog.add_records(marked_batch(1))
        reader = threading.Thread(target=look)
        reader.start()
        reader.join(timeout=60)
        assert not reader.is_alive()
    look()
    assert seen == [(BATCH, BATCH), (2 * BATCH, 2 * BATCH)]


def test_staged_changes_run_only_when_the_unit_commits(new_catalog: Factory) -> None:
    catalog = new_catalog()
    done: list[str] = []
    with pytest.raises(RuntimeError), catalog.transaction() as unit:
        unit.on_commit(lambda: done.append("never"))
        raise RuntimeError
    with catalog.transaction() as unit:
        catalog.add_records(marked_batch(0))
        unit.on_commit(lambda: done.append(f"after {len(catalog)}"))
        unit.on_commit(lambda: done.append("second"))
    assert done == [f"after {BATCH}", "second"]


def test_the_sql_stores_expose_their_connection_for_other_rows(new_catalog: Factory) -> None:
    """The service's rows go in the same unit: committed with the records, or rolled back."""
    catalog = new_catalog()
    if catalog.url.startswith("memory"):
        with catalog.transaction() as unit:
            assert unit.connection is None
        return
    if isinstance(catalog, SQLiteCatalog):

        def run(unit: Any, sql: str) -> Any:
            return unit.connection.execute(sql).fetchall()
    else:

        def run(unit: Any, sql: str) -> Any:
            result = unit.connection.exec_driver_sql(sql)
            return result.fetchall() if result.returns_rows else None

    with catalog.transaction() as unit:
        run(unit, "CREATE TABLE products (name text)")
        run(unit, "INSERT INTO products VALUES ('kept')")
        catalog.add_records(marked_batch(0))
    with pytest.raises(LookupError), catalog.transaction() as unit:
        run(unit, "INSERT INTO products VALUES ('dropped')")
        catalog.add_records(marked_batch(1))
        raise LookupError
    with catalog.transaction() as unit:
        assert run(unit, "SELECT name FROM products") == [("kept",)]
    assert len(catalog) == BATCH


def test_sqlite_never_says_database_is_locked(tmp_path: Path) -> None:
    """Another process's writer holding the lock: wait (bounded), then the library's error."""
    path = tmp_path / "c.db"
    catalog = open_catalog(f"sqlite:///{path}")
    assert isinstance(catalog, SQLiteCatalog)
    catalog.busy_seconds = 0.3
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(CatalogError, match="another writer kept the database locked"):
            catalog.add_records(marked_batch(0))
        assert len(catalog) == 0  # readers are not blocked by the writer (WAL)
    finally:
        other.execute("ROLLBACK")
        other.close()
    catalog.add_records(marked_batch(0))
    assert len(catalog) == BATCH
    catalog.close()


def test_sqlite_closes_every_thread_connection(tmp_path: Path) -> None:
    catalog = open_catalog(f"sqlite:///{tmp_path / 'c.db'}")
    assert isinstance(catalog, SQLiteCatalog)
    threads = [threading.Thread(target=lambda: len(catalog)) for _ in range(3)]
    for thread in threads:
        thread.start()
        thread.join()
    assert 2 <= len(catalog._connections) <= 4  # ended threads' connections are closed early
    connections = [db for _, db in catalog._connections.values()]
    catalog.close()
    for db in connections:
        with pytest.raises(sqlite3.ProgrammingError):
            db.execute("SELECT 1")


# -- readers while a writer loads --------------------------------------------------------------


def check_snapshot(answer: dict[str, Any]) -> int:
    """The number of whole batches an answer holds; fails on a part of a batch or a doomed one."""
    batches = Counter(record["properties"]["batch"] for record in answer["results"])
    assert DOOMED not in batches, "a rolled-back unit was seen"
    partial = {batch: count for batch, count in batches.items() if count != BATCH}
    assert not partial, f"a reader saw part of a batch: {partial}"
    assert answer["stats"]["totalMatched"] == len(answer["results"])
    return len(batches)


class Readers:
    """Reader threads searching in a loop until told to stop, checking every answer."""

    def __init__(self, catalog: Catalog, count: int) -> None:
        self.catalog = catalog
        self.stop = threading.Event()
        self.searches = 0
        self.progress = threading.Condition()
        self.errors: list[BaseException] = []
        self.final: list[int] = []
        self.threads = [
            threading.Thread(target=self.run, args=(n,), daemon=True) for n in range(count)
        ]

    def run(self, number: int) -> None:
        bodies: list[dict[str, Any]] = [
            {"countTotal": True},
            {"filters": ["batch >= 0"], "countTotal": True},
            {"types": ["WV02"], "searchAreaWkt": "POLYGON((-1 -1,11 -1,11 11,-1 11,-1 -1))",
             "countTotal": True},
        ]  # fmt: skip
        last = 0
        try:
            for turn in range(100_000):  # bounded; stops long before, when told to
                stopping = self.stop.is_set()
                whole = check_snapshot(self.catalog.search(bodies[(number + turn) % 3]))
                assert whole >= last, f"the catalog shrank from {last} to {whole} batches"
                last = whole
                size = len(self.catalog)
                assert size % BATCH == 0 and size >= whole * BATCH
                with self.progress:
                    self.searches += 1
                    self.progress.notify_all()
                if stopping:  # one full search after the writer finished
                    self.final.append(whole)
                    return
        except BaseException as error:  # reported by the test thread
            self.errors.append(error)
            with self.progress:
                self.progress.notify_all()

    def wait_for_searches(self, since: int) -> None:
        """Wait (at most 10 s, no assertion) until the readers searched since ``since``."""
        with self.progress:
            self.progress.wait_for(lambda: self.searches > since or self.errors, timeout=10)


def test_readers_see_whole_batches_while_a_writer_loads(new_catalog: Factory) -> None:
    catalog = new_catalog()
    readers = Readers(catalog, READERS)
    for thread in readers.threads:
        thread.start()
    for batch in range(BATCHES):
        readers.wait_for_searches(readers.searches)
        if batch == BATCHES // 2:  # a unit that fails half-way: never seen
            with pytest.raises(RuntimeError), catalog.transaction():
                catalog.add_records(marked_batch(DOOMED)[:10], batch_size=4)
                raise RuntimeError("the unit fails")
        if batch % 2:
            catalog.add_records(marked_batch(batch), batch_size=BATCH)
        else:  # one unit of several batches and calls
            with catalog.transaction():
                catalog.add_records(marked_batch(batch)[:10], batch_size=3)
                catalog.add_records(marked_batch(batch)[10:], batch_size=5)
    readers.stop.set()
    for thread in readers.threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in readers.threads), "a reader did not stop"
    if readers.errors:
        raise readers.errors[0]
    assert readers.final == [BATCHES] * READERS
    assert readers.searches >= BATCHES


_CHILD = """
import json, sys
from collections import Counter
from catalogql.search import open_catalog

url, batches, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
catalog = open_catalog(url)
print("ready", flush=True)
last, seen, problems = 0, set(), []
for turn in range(200_000):
    answer = catalog.search({"countTotal": True, "limit": 1000})
    counts = Counter(r["properties"]["batch"] for r in answer["results"])
    if -1 in counts or any(n != size for n in counts.values()):
        problems.append(dict(counts))
    if len(counts) < last:
        problems.append(f"shrank from {last} to {len(counts)}")
    last = len(counts)
    seen.add(last)
    if last == batches or problems:
        break
print(json.dumps({"final": last, "seen": sorted(seen), "problems": problems[:3]}), flush=True)
"""


def test_sqlite_a_reader_process_sees_only_committed_units(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'c.db'}"
    catalog = open_catalog(url)
    catalog.add_records(marked_batch(0))
    source = str(Path(__file__).resolve().parents[1] / "src")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([source, *sys.path])}
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, url, str(BATCHES), str(BATCH)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ready"
        for batch in range(1, BATCHES):
            if batch == 3:
                with pytest.raises(RuntimeError), catalog.transaction():
                    catalog.add_records(marked_batch(DOOMED), batch_size=5)
                    raise RuntimeError("the unit fails")
            with catalog.transaction():
                catalog.add_records(marked_batch(batch), batch_size=5)
        out, err = child.communicate(timeout=120)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        catalog.close()
    assert child.returncode == 0, err
    report = json.loads(out.strip().splitlines()[-1])
    assert report["problems"] == []
    assert report["final"] == BATCHES


def test_sqlite_in_memory_outlives_the_thread_that_opened_it() -> None:
    made: list[Catalog] = []
    opener = threading.Thread(target=lambda: made.append(open_catalog("sqlite://")))
    opener.start()
    opener.join()
    catalog = made[0]
    catalog.add_records(marked_batch(0))
    helper = threading.Thread(target=lambda: catalog.add_records(marked_batch(1)))
    helper.start()
    helper.join()
    assert len(catalog) == 2 * BATCH
    catalog.close()
