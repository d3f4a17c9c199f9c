"""The PostgreSQL store on a throwaway server: what is specific to it.

Persistence, upserts, batch atomicity, code-point order, the cap and counts, JSON values JSONB
would change, filters SQL cannot hold, PostGIS against shapely on the real footprints, and the
same answers as the in-memory store on random records and requests. (The three-store
differential test and the GBDX conformance replay live elsewhere.)
"""

from __future__ import annotations

import contextlib
import random
import uuid
from collections.abc import Iterator, Mapping
from typing import Any

import pytest
import shapely
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from catalogql.search import CatalogError, InvalidRecord, RecordNotFound, open_catalog
from catalogql.search.stores.memory import MemoryCatalog
from catalogql.search.stores.postgres import TABLE, PostgresCatalog, driver_url
from catalogql.testing.postgres_cluster import ThrowawayPostgres
from property_settings import scaled

# -- fixtures ----------------------------------------------------------------------------------


@pytest.fixture
def url(postgres_cluster: ThrowawayPostgres) -> Iterator[str]:
    """A fresh, empty database for one test (PostGIS included), as a plain postgresql:// URL."""
    name = f"store_{uuid.uuid4().hex[:12]}"
    created = postgres_cluster.create_database(name)
    yield created.replace("postgresql+psycopg://", "postgresql://")
    postgres_cluster.drop_database(name)


def record(
    identifier: str,
    timestamp: str = "2016-01-01T10:00:00.000Z",
    wkt: str = "POLYGON((0 0,1 0,1 1,0 1,0 0))",
    types: tuple[str, ...] = ("WV02",),
    **properties: Any,
) -> dict[str, Any]:
    return {
        "identifier": identifier,
        "type": list(types),
        "properties": {"timestamp": timestamp, "footprintWkt": wkt, **properties},
    }


def ids(answer: Mapping[str, Any]) -> list[str]:
    return [r["identifier"] for r in answer["results"]]


# -- opening -----------------------------------------------------------------------------------


def test_open_catalog_takes_every_postgres_spelling(url: str) -> None:
    for spelling in (url, driver_url(url), url.replace("postgresql://", "postgres://")):
        with open_catalog(spelling) as catalog:
            assert isinstance(catalog, PostgresCatalog)
            assert len(catalog) == 0


def test_an_unreachable_server_is_a_catalog_error_with_a_hint(tmp_path: Any) -> None:
    with pytest.raises(CatalogError, match="check the URL"):
        PostgresCatalog(f"postgresql://nobody@/nodb?host={tmp_path}&port=1")


def test_a_closed_catalog_refuses_work(url: str) -> None:
    catalog = open_catalog(url)
    catalog.close()
    with pytest.raises(CatalogError, match="closed"):
        len(catalog)


def test_reopening_finds_the_records(url: str) -> None:
    with open_catalog(url) as catalog:
        assert catalog.add_records([record("a", cloudCover=5), record("b")]) == 2
    with open_catalog(url) as catalog:
        assert len(catalog) == 2
        assert catalog.get_record("a")["properties"]["cloudCover"] == 5
        assert ids(catalog.search({"filters": ["cloudCover = 5"]})) == ["a"]


def test_a_table_of_another_layout_is_refused(url: str) -> None:
    with open_catalog(url) as catalog:
        catalog.add_records([record("a")])
    engine = sa.create_engine(driver_url(url))
    with engine.begin() as connection:
        connection.exec_driver_sql("UPDATE catalogql_meta SET value = '0' WHERE name = 'layout'")
    engine.dispose()
    with pytest.raises(CatalogError, match="layout 0"):
        open_catalog(url)


# -- writing -----------------------------------------------------------------------------------


def test_loading_twice_changes_nothing_and_a_changed_record_replaces_the_old(url: str) -> None:
    records = [record(f"r{i}", cloudCover=i) for i in range(30)]
    with open_catalog(url) as catalog:
        catalog.add_records(records, batch_size=7)
        first = catalog.search({"countTotal": True})
        catalog.add_records(records, batch_size=7)
        assert len(catalog) == 30
        assert catalog.search({"countTotal": True}) == first
        changed = record("r3", timestamp="2017-05-05", types=("WV03",), cloudCover=99)
        catalog.add_records([changed])
        assert len(catalog) == 30
        assert catalog.get_record("r3") == {**changed, "type": ["GBDXCatalogRecord", "WV03"]}
        assert ids(catalog.search({"filters": ["cloudCover = 3"]})) == []
        assert ids(catalog.search({"types": ["WV03"], "filters": ["cloudCover > 50"]})) == ["r3"]
        assert ids(catalog.search({"limit": 1})) == ["r3"]  # its new time is the latest


def test_the_last_copy_in_a_batch_wins(url: str) -> None:
    with open_catalog(url) as catalog:
        catalog.add_records([record("a", cloudCover=1), record("a", cloudCover=2)])
        assert catalog.get_record("a")["properties"]["cloudCover"] == 2


def test_a_bad_record_leaves_nothing_of_its_batch(url: str) -> None:
    good = [record(f"g{i}") for i in range(3)]
    bad = record("x", timestamp="not a time")
    with open_catalog(url) as catalog:
        with pytest.raises(InvalidRecord) as error:
            catalog.add_records([*good, record("h1"), record("h2"), bad], batch_size=3)
        assert error.value.position == 5
        assert len(catalog) == 3
        with pytest.raises(RecordNotFound):
            catalog.get_record("h1")


ESCAPED = ("a\\b", "tab\there", "new\nline", "ret\rurn", 'quo"te', "{br,ace}", " pad ", "\\N", "é")


@pytest.mark.parametrize("in_unit", [False, True], ids=["load", "in-a-unit"])
def test_the_copy_keeps_every_character_of_identifiers_keys_labels_and_readers(
    url: str, in_unit: bool
) -> None:
    records = [record(text, types=(f"T{text}",), catalogID=text, note=text) for text in ESCAPED]
    readers = ["group:a\\b", 'org:"q"', "email:x\ty@z"]
    with open_catalog(url) as catalog:
        with catalog.transaction() if in_unit else contextlib.nullcontext():
            catalog.add_records(records, readers=readers)  # by the writer; in a unit: here
        for original in records:
            got = catalog.get_record(original["identifier"], readers=[readers[1]])
            assert got == {**original, "type": ["GBDXCatalogRecord", *original["type"]]}
            found = catalog.search(
                {"filters": [f"catalogID = {_quoted(original['identifier'])}"]},
                readers=[readers[2]],
            )
            assert ids(found) == [original["identifier"]]
        with catalog.transaction() as unit:  # the columns hold the text, not its escapes
            row = unit.connection.execute(
                sa.text(f"SELECT keys, readers, types::text FROM {TABLE} WHERE identifier = :i"),
                {"i": "tab\there"},
            ).one()
        assert row.readers == sorted(readers)
        assert "catalogID\x1fs:tab\there" in row.keys
        assert row.types == '["GBDXCatalogRecord", "Ttab\\there"]'


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def test_a_batch_stored_meanwhile_by_another_writer_is_upserted(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from catalogql.search.stores import postgres

    with open_catalog(url) as catalog:
        catalog.add_records([record("a", cloudCover=1), record("b", cloudCover=2)])
        # as if the check ran before another writer committed: the COPY meets "a" and "b"
        monkeypatch.setattr(postgres, "_ANY_STORED", "SELECT 1 WHERE %s::text[] IS NULL")
        with catalog.transaction():  # (in a unit: checked and COPYed on this thread)
            catalog.add_records([record("a", cloudCover=5), record("b", cloudCover=2), record("c")])
        assert len(catalog) == 3
        assert catalog.get_record("a")["properties"]["cloudCover"] == 5
        assert ids(catalog.search({"filters": ["cloudCover = 5"]})) == ["a"]
        assert ids(catalog.search({"filters": ["cloudCover = 1"]})) == []


def test_only_a_batch_holding_a_stored_identifier_is_upserted(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A load of new records is inserted (or COPYed, in a unit) without the upsert."""
    from catalogql.search.stores import postgres

    monkeypatch.setattr(postgres, "_UPSERT", "SELECT 1 / 0")  # the upsert would fail
    with open_catalog(url) as catalog:
        catalog.add_records([record(f"r{i}", cloudCover=i) for i in range(10)], batch_size=4)
        with catalog.transaction():
            catalog.add_records([record("s", cloudCover=1)])
        assert len(catalog) == 11
        for unit in (contextlib.nullcontext(), catalog.transaction()):
            with pytest.raises(CatalogError, match="division by zero"), unit:
                catalog.add_records([record("r9", cloudCover=1), record("new", cloudCover=1)])
        monkeypatch.undo()
        catalog.add_records([record("r9", cloudCover=1), record("new", cloudCover=1)])
        assert len(catalog) == 12
        assert ids(catalog.search({"filters": ["cloudCover = 1"]})) == ["new", "r1", "r9", "s"]


@pytest.mark.parametrize("path", ["copy", "upsert"])
def test_a_batch_failing_on_the_writer_thread_stops_the_load_after_the_batches_before_it(
    url: str, monkeypatch: pytest.MonkeyPatch, path: str
) -> None:
    """A new batch is COPYed into the table, a stored one upserted: either failing stops it."""
    from catalogql.search.stores import postgres

    records = [record(f"r{i:04}") for i in range(5000)]
    refused = "r2500"
    with open_catalog(url) as catalog:
        if path == "upsert":  # every record stored, with other properties: each batch upserted
            catalog.add_records([record(f"r{i:04}", cloudCover=1) for i in range(5000)])
            failing = postgres._UPSERT.replace(
                f"FROM {postgres._STAGING}",
                f"FROM {postgres._STAGING} "
                f"WHERE 1 / (CASE WHEN identifier = '{refused}' THEN 0 ELSE 1 END) = 1",
            )
            assert failing != postgres._UPSERT
            monkeypatch.setattr(postgres, "_UPSERT", failing)
            error_text = "division by zero"
        else:  # a rule of the table refuses one row of the third batch's insert
            with catalog.transaction() as unit:
                unit.connection.exec_driver_sql(
                    f"ALTER TABLE {TABLE} ADD CONSTRAINT refused CHECK (identifier <> '{refused}')"
                )
            error_text = "refused"

        def unchanged() -> int:
            found = catalog.search({"filters": ["cloudCover = 1"], "countTotal": True})
            return int(found["stats"]["totalMatched"])

        def progress(count: int) -> None:  # a read here waits for the batch in flight
            try:
                seen.append(unchanged() if path == "upsert" else len(catalog))
            except CatalogError as error:  # swallowed: the load must stop all the same
                seen.append(str(error))

        seen: list[int | str] = []
        with pytest.raises(CatalogError, match=error_text):
            catalog.add_records(records, batch_size=1000, progress=progress)
        if path == "upsert":  # each batch stored takes 1,000 records off cloudCover = 1
            assert seen[:2] == [4000, 3000]
        else:
            assert seen[:2] == [1000, 2000]
        assert len(seen) == 3 and error_text in str(seen[2])
        assert len(catalog) == (5000 if path == "upsert" else 2000)
        assert unchanged() == (3000 if path == "upsert" else 0)
        assert catalog.get_record("r1999")["properties"] == records[1999]["properties"]
        for untouched in ("r2000", "r3000", "r4999"):  # the failing batch and those after it
            if path == "upsert":
                assert catalog.get_record(untouched)["properties"]["cloudCover"] == 1
            else:
                with pytest.raises(RecordNotFound):
                    catalog.get_record(untouched)
        monkeypatch.undo()
        if path == "copy":
            with catalog.transaction() as unit:
                unit.connection.exec_driver_sql(f"ALTER TABLE {TABLE} DROP CONSTRAINT refused")
        catalog.add_records(records, batch_size=1000)
        assert len(catalog) == 5000  # the store is usable again
        assert catalog.get_record("r4999")["properties"] == records[4999]["properties"]


def test_a_load_commits_its_batches_without_waiting_for_the_disk_then_waits_once(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = sa.create_engine(driver_url(url))
    with engine.begin() as connection:  # (the test server's own default is off)
        name = connection.exec_driver_sql("SELECT current_database()").scalar()
        connection.exec_driver_sql(f'ALTER DATABASE "{name}" SET synchronous_commit = on')
    engine.dispose()
    events: list[str] = []
    put, durable = PostgresCatalog._put, PostgresCatalog._make_durable
    insert = PostgresCatalog._insert_staged

    def setting(connection: Any) -> str:
        return str(connection.exec_driver_sql("SHOW synchronous_commit").scalar())

    def seeing(self: PostgresCatalog, connection: Any, *args: Any, **kwargs: Any) -> bool:
        events.append(setting(connection))
        return put(self, connection, *args, **kwargs)

    def inserting(self: PostgresCatalog, connection: Any, identifiers: list[str]) -> None:
        events.append(setting(connection))
        insert(self, connection, identifiers)

    def waiting(self: PostgresCatalog) -> None:
        events.append("durable")
        durable(self)

    monkeypatch.setattr(PostgresCatalog, "_put", seeing)
    monkeypatch.setattr(PostgresCatalog, "_insert_staged", inserting)
    monkeypatch.setattr(PostgresCatalog, "_make_durable", waiting)
    with open_catalog(url) as catalog:
        catalog.add_records([record(f"r{i}") for i in range(10)], batch_size=4)
        assert events == ["off", "off", "off", "durable"]
        events.clear()
        with catalog.transaction():  # the caller's unit: its commit is the caller's
            catalog.add_records([record("s")])
        assert events == ["on"]
        events.clear()
        with pytest.raises(InvalidRecord):  # a load that fails still waits for what it stored
            catalog.add_records(
                [record("t1"), record("t2"), record("x", timestamp="no")], batch_size=2
            )
        assert events == ["off", "durable"]
        assert len(catalog) == 13


def test_a_load_analyses_the_table_once_when_it_ends(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with open_catalog(url) as catalog:
        assert isinstance(catalog, PostgresCatalog)
        analysed: list[int] = []
        original = catalog._grown

        def counting() -> bool:
            grown = original()
            if grown:
                analysed.append(catalog._analyzed)
            return grown

        def estimate() -> tuple[int, int]:
            """The rows the planner expects of the whole table, and those ANALYZE counted."""
            with catalog.transaction() as unit:
                plan = unit.connection.exec_driver_sql(
                    f"EXPLAIN (FORMAT JSON) SELECT * FROM {TABLE}"
                )
                tuples = unit.connection.execute(
                    sa.text("SELECT reltuples FROM pg_class WHERE relname = :t"), {"t": TABLE}
                ).scalar()
            return plan.scalar_one()[0]["Plan"]["Plan Rows"], tuples

        monkeypatch.setattr(catalog, "_grown", counting)
        # the first four batches, analysed while the fifth is inserted
        catalog.add_records([record(f"r{i}") for i in range(5000)], batch_size=1000)
        assert analysed == [4000]
        rows, tuples = estimate()
        assert tuples == 4000
        assert abs(rows - 5000) <= 1000  # within a batch: the server scales them by its pages
        catalog.add_records([record(f"s{i}") for i in range(1000)])  # not doubled: none
        assert analysed == [4000]
        # one batch in flight, as large as the rows before it: analysed when it is in
        catalog.add_records([record(f"u{i}") for i in range(2000)], batch_size=1000)
        assert analysed == [4000, 8000]
        with pytest.raises(InvalidRecord):  # a load that fails still analyses what it stored
            catalog.add_records(
                [*(record(f"t{i}") for i in range(8000)), record("x", timestamp="no")],
                batch_size=4000,
            )
        assert analysed == [4000, 8000, 16000]
        assert estimate()[1] == 16000


def test_a_load_leaves_no_pending_entries_in_the_gin_indexes(url: str) -> None:
    """The load's end merges the GIN indexes' pending lists, which every scan of the index
    would otherwise read through (a catalogID search, a reader's search, a type condition)."""
    clean = (
        "SELECT c.relname, gin_clean_pending_list(i.indexrelid) FROM pg_index i "
        "JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam "
        "WHERE i.indrelid = CAST(:t AS regclass) AND a.amname = 'gin' ORDER BY 1"
    )
    with open_catalog(url) as catalog:
        catalog.add_records(
            [record(f"r{i}", catalogID=f"c{i}", types=("WV02", f"T{i % 50}")) for i in range(3000)],
            readers=["group:a", "org:b"],
        )
        with catalog.transaction() as unit:
            pending = unit.connection.execute(sa.text(clean), {"t": TABLE}).all()
        assert [name for name, _ in pending] == [
            f"{TABLE}_keys",
            f"{TABLE}_readers",
            f"{TABLE}_types",
        ]
        assert [pages for _, pages in pending] == [0, 0, 0]
        with catalog.transaction() as unit:  # and one without the merge has some: the test bites
            unit.connection.execute(
                sa.text(f"INSERT INTO {TABLE} SELECT 'z' || identifier, ts, types, properties, "
                        f"footprint, keys, exotic, properties_json, readers FROM {TABLE}")
            )  # fmt: skip
        with catalog.transaction() as unit:
            pending = unit.connection.execute(sa.text(clean), {"t": TABLE}).all()
        assert all(pages > 0 for _, pages in pending)


# -- reading -----------------------------------------------------------------------------------


def test_ties_are_ordered_by_identifier_code_points(url: str) -> None:
    names = ["b", "É", "a", "B", "\U0001f600", "Z", "aa", "\uffef"]
    with open_catalog(url) as catalog:
        catalog.add_records([record(name) for name in names])
        catalog.add_records([record("late", timestamp="2016-01-01T10:00:00.001Z")])
        assert ids(catalog.search({})) == ["late", *sorted(names)]


def test_the_cap_the_limit_and_count_total(url: str) -> None:
    records = [
        record(f"r{i:04d}", timestamp=f"2016-01-01T{i // 60 % 24:02d}:{i % 60:02d}:00Z")
        for i in range(1203)
    ]
    memory = MemoryCatalog("memory://")
    memory.add_records(records)
    with open_catalog(url) as catalog:
        catalog.add_records(records)
        for body in ({}, {"limit": 7}, {"limit": 5000, "countTotal": True}, {"countTotal": True}):
            answer = catalog.search(body)
            assert answer == memory.search(body)
        answer = catalog.search({"countTotal": True})
        assert answer["stats"]["recordsReturned"] == 1000
        assert answer["stats"]["totalMatched"] == 1203
        assert catalog.search({"limit": 7, "countTotal": True})["stats"]["totalMatched"] == 1203
        none = catalog.search({"filters": ["cloudCover < 0"], "countTotal": True})
        assert none["stats"] == {
            "recordsReturned": 0,
            "totalRecords": 0,
            "typeCounts": {},
            "totalMatched": 0,
        }


def test_type_counts_count_the_returned_records_labels(url: str) -> None:
    with open_catalog(url) as catalog:
        catalog.add_records(
            [
                record("a", types=("WV02", "DigitalGlobeProduct")),
                record("b", types=("WV02",)),
                record("c", types=("LandsatAcquisition",)),
            ]
        )
        answer = catalog.search({"types": ["WV02"]})
        assert answer["stats"]["typeCounts"] == {
            "DigitalGlobeProduct": 1,
            "GBDXCatalogRecord": 2,
            "WV02": 2,
        }
        assert ids(catalog.search({"types": ["WV0* AND NOT DigitalGlobeProduct"]})) == ["b"]


def test_record_not_found(url: str) -> None:
    with open_catalog(url) as catalog:
        catalog.add_records([record("a")])
        for missing in ("b", "A", "a\x00", "\ud800", ""):
            with pytest.raises(RecordNotFound):
                catalog.get_record(missing)


def test_point_search_is_a_collapsed_polygon(url: str) -> None:
    square = "POLYGON((0 0,2 0,2 2,0 2,0 0))"
    with open_catalog(url) as catalog:
        catalog.add_records(
            [
                record("square", wkt=square),
                record("far", wkt="POLYGON((10 10,11 10,11 11,10 10))"),
                record("line", wkt="LINESTRING(3 3,4 4)"),
            ]
        )

        def point(x: float, y: float) -> list[str]:
            ring = ", ".join([f"{x} {y}"] * 5)
            return ids(catalog.search({"searchAreaWkt": f"POLYGON(({ring}))"}))

        assert point(1, 1) == ["square"]
        assert point(2, 1) == ["square"]  # on the boundary: intersects
        assert point(0, 0) == ["square"]  # a vertex
        assert point(3.5, 3.5) == ["line"]
        assert point(5, 5) == []
        segment = ids(catalog.search({"searchAreaWkt": "POLYGON((1 1, 3 3, 1 1, 1 1))"}))
        assert segment == ["line", "square"]


# -- values JSONB would change, filters SQL cannot hold -------------------------------------

AWKWARD: list[dict[str, Any]] = [
    record("one-point-oh", x=1.0, n=1, z=0.0),
    record("negative-zero", x=-0.0, n=0, z=-0.0),
    record("big-int", x=2**70, n=2**53 + 1, z=1e16),
    record("tiny", x=1e-320, n=-(2**63), z=5e-324),
    record("plain", x=2.5, n=3, z=0.1, nested={"b": 1, "a": [1.0, {"é": "\U0001f600"}]}),
    record("text", x="-0.0", n="2361183241434822606848", z="1e16"),
    record("list", x=[2**70, -0.0], n=[1.0, 7], z=[]),
]

AWKWARD_FILTERS = [
    "x = 1",
    "x = 1.0",
    "x = 1*",
    "x = -0*",
    "x = 0",
    "x < 0",
    "x > 1e21",
    "x = 1180591620717411303424",
    "x = 1180591620717411303425",
    "x = *e-320",
    "x = '-0.0'",
    "n = 9007199254740993",
    "n = 9007199254740992",
    "n > 9007199254740992",
    "n = *922*",
    "n = 7",
    "z = 1e+16",
    "z = 1e16*",
    "z = 10000000000000000",
    "z = 5e-324",
    "z > 0",
    "nested.b = 1",
    "x <> 3",
    "NOT x = 1",
]


@pytest.fixture(scope="module")
def awkward(postgres_cluster: ThrowawayPostgres) -> Iterator[tuple[MemoryCatalog, PostgresCatalog]]:
    name = f"awkward_{uuid.uuid4().hex[:12]}"
    catalog = open_catalog(postgres_cluster.create_database(name))
    catalog.add_records(AWKWARD)
    memory = MemoryCatalog("memory://")
    memory.add_records(AWKWARD)
    assert isinstance(catalog, PostgresCatalog)
    yield memory, catalog
    catalog.close()
    postgres_cluster.drop_database(name)


def test_values_jsonb_would_change_come_back_unchanged(
    awkward: tuple[MemoryCatalog, PostgresCatalog],
) -> None:
    memory, catalog = awkward
    for original in AWKWARD:
        stored = catalog.get_record(original["identifier"])
        assert stored == memory.get_record(original["identifier"])
        assert repr(stored) == repr(memory.get_record(original["identifier"]))  # -0.0, 1.0
        assert list(stored["properties"]) == list(original["properties"])  # key order
    assert repr(catalog.search({})) == repr(memory.search({}))


@pytest.mark.parametrize("text", AWKWARD_FILTERS)
def test_filters_on_awkward_values_agree_with_memory(
    awkward: tuple[MemoryCatalog, PostgresCatalog], text: str
) -> None:
    memory, catalog = awkward
    body = {"filters": [text], "countTotal": True}
    assert catalog.search(body) == memory.search(body)


@pytest.mark.parametrize(
    "text",
    [
        "x = 'a\x00b'",  # SQL text cannot hold a NUL
        "NOT " * 140 + "x = 1",  # deeper than compile.sql.MAX_SQL_DEPTH
        "(" * 130 + "x = 1 OR n = 3" + ")" * 130,
    ],
    ids=["nul", "deep-not", "deep-parentheses"],
)
def test_filters_sql_cannot_hold_are_tested_in_python(
    awkward: tuple[MemoryCatalog, PostgresCatalog], text: str
) -> None:
    memory, catalog = awkward
    for limit in (1, 1000):
        body = {"filters": [text, "n = *"], "countTotal": True, "limit": limit}
        assert catalog.search(body) == memory.search(body)


def test_reopening_with_other_hot_properties_keeps_the_answers(url: str) -> None:
    records = [record(f"r{i}", catalogID=f"C{i % 3}", platformName=f"P{i % 4}") for i in range(12)]
    memory = MemoryCatalog("memory://")
    memory.add_records(records)
    with open_catalog(url) as catalog:
        catalog.add_records(records)
    with open_catalog(url, indexed=("platformName", "catalogID")) as catalog:
        catalog.add_records([record("new", platformName="P1", catalogID="C1")])
        memory.add_records([record("new", platformName="P1", catalogID="C1")])
        for text in ("platformName = P1", "catalogID = C1", "catalogID = C1 AND platformName = P1"):
            body = {"filters": [text], "countTotal": True}
            assert catalog.search(body) == memory.search(body)


# -- PostGIS and the real footprints -----------------------------------------------------------


@pytest.fixture(scope="module")
def gbdx_stores(
    postgres_cluster: ThrowawayPostgres, gbdx_records: Mapping[str, dict[str, Any]]
) -> Iterator[tuple[MemoryCatalog, PostgresCatalog]]:
    name = f"gbdx_{uuid.uuid4().hex[:12]}"
    catalog = open_catalog(postgres_cluster.create_database(name))
    catalog.add_records(gbdx_records.values())
    memory = MemoryCatalog("memory://")
    memory.add_records(gbdx_records.values())
    assert isinstance(catalog, PostgresCatalog)
    yield memory, catalog
    catalog.close()
    postgres_cluster.drop_database(name)


def test_areas_agree_with_shapely_on_the_real_footprints(
    gbdx_stores: tuple[MemoryCatalog, PostgresCatalog],
    gbdx_records: Mapping[str, dict[str, Any]],
) -> None:
    memory, catalog = gbdx_stores
    rng = random.Random(7)
    footprints = [shapely.from_wkt(r["properties"]["footprintWkt"]) for r in gbdx_records.values()]
    areas = []
    for footprint in rng.sample(footprints, 40):
        x, y = map(float, shapely.get_coordinates(footprint)[0])  # a vertex: the boundary case
        areas.append(f"POLYGON(({', '.join([f'{x!r} {y!r}'] * 5)}))")
        c = footprint.centroid
        size = rng.choice([0.01, 0.3, 2.0])
        box = shapely.box(c.x - size, c.y - size, c.x + size, c.y + size)
        areas.append(box.wkt)
    for area in areas:
        body = {"searchAreaWkt": area, "countTotal": True}
        assert catalog.search(body) == memory.search(body), area


def test_equality_and_area_searches_use_the_indexes(
    gbdx_stores: tuple[MemoryCatalog, PostgresCatalog],
    gbdx_records: Mapping[str, dict[str, Any]],
) -> None:
    _, catalog = gbdx_stores
    some = next(r for r in gbdx_records.values() if r["properties"].get("catalogID"))
    engine = sa.create_engine(driver_url(catalog.url))
    with engine.begin() as connection:
        connection.exec_driver_sql(f"ANALYZE {TABLE}")
        plan = connection.execute(
            sa.text(
                f"EXPLAIN SELECT identifier FROM {TABLE} WHERE keys && CAST(:k AS text[]) "
                "ORDER BY ts DESC, identifier LIMIT 10"
            ),
            {"k": ["catalogID\x1fs:" + some["properties"]["catalogID"]]},
        ).all()
    engine.dispose()
    assert f"{TABLE}_keys" in "\n".join(row[0] for row in plan)
    body = {"filters": [f"catalogID = {some['properties']['catalogID']}"]}
    assert some["identifier"] in ids(catalog.search(body))


# -- the same answers as the in-memory store -------------------------------------------------

_PLATFORMS = ["WORLDVIEW02", "WORLDVIEW03_VNIR", "GEOEYE01", "LANDSAT8"]
_TYPES = ["WV02", "WV03", "GE01", "Landsat8", "DigitalGlobeProduct", "IDAHOImage"]


def _random_records(count: int, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    out = []
    for i in range(count):
        x, y = rng.uniform(-20, 20), rng.uniform(-10, 10)
        w, h = rng.choice([0.0, 0.5, 3.0]), rng.choice([0.0, 0.5, 3.0])
        wkt = f"POINT({x} {y})" if w == h == 0 else shapely.box(x, y, x + w, y + h).wkt
        props: dict[str, Any] = {
            "cloudCover": rng.choice([0, 5, 12.5, 20, 99, None, "10", -0.0]),
            "offNadirAngle": rng.uniform(0, 40),
            "sensorPlatformName": rng.choice(_PLATFORMS),
            "catalogID": rng.choice(["1030010045539700", "10400100203F1300", 1050010018826700]),
            "tags": rng.sample(["a", "b", "c", 1, 2.0], rng.randint(0, 3)),
        }
        if rng.random() < 0.2:
            del props["cloudCover"]
        stamp = f"201{rng.randint(0, 6)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}"
        if rng.random() < 0.7:
            stamp += f"T{rng.randint(0, 23):02d}:00:00{rng.choice(['Z', '.5Z', '+02:00'])}"
        types = tuple(rng.sample(_TYPES, rng.randint(0, 3)))
        name = rng.choice(["", "x", "É", "_"]) + f"{i:03d}"
        out.append(record(name, timestamp=stamp, wkt=wkt, types=types, **props))
    return out


@pytest.fixture(scope="module")
def random_stores(
    postgres_cluster: ThrowawayPostgres,
) -> Iterator[tuple[MemoryCatalog, PostgresCatalog]]:
    records = _random_records(400, seed=11)
    name = f"random_{uuid.uuid4().hex[:12]}"
    catalog = open_catalog(postgres_cluster.create_database(name))
    catalog.add_records(records, batch_size=97)
    memory = MemoryCatalog("memory://")
    memory.add_records(records)
    assert isinstance(catalog, PostgresCatalog)
    yield memory, catalog
    catalog.close()
    postgres_cluster.drop_database(name)


_FILTERS = st.sampled_from(
    [
        "cloudCover < {n}",
        "cloudCover >= {n}",
        "cloudCover = {n}",
        "cloudCover <> {n}",
        "NOT cloudCover > {n}",
        "offNadirAngle > {n} AND offNadirAngle <= 30",
        "sensorPlatformName = WORLDVIEW0*",
        "sensorPlatformName = GEOEYE01 OR sensorPlatformName = LANDSAT8",
        "catalogID = 1030010045539700",
        "catalogID = 1050010018826700",
        "catalogID = 10400100203F1300 OR cloudCover < {n}",
        "tags = a",
        "tags = 2",
        "cloudCover = *0*",
        "timestamp > 2014-06-01",
    ]
)
_AREAS = st.one_of(
    st.none(),
    st.builds(
        lambda x, y, s: shapely.box(x, y, x + s, y + s).wkt,
        st.integers(-20, 20),
        st.integers(-10, 10),
        st.sampled_from([0.5, 4, 15]),
    ),
    st.builds(
        lambda x, y: f"POLYGON(({x} {y}, {x} {y}, {x} {y}, {x} {y}))",
        st.integers(-20, 20),
        st.integers(-10, 10),
    ),
)


@st.composite
def _requests(draw: st.DrawFn) -> dict[str, Any]:
    body: dict[str, Any] = {
        "searchAreaWkt": draw(_AREAS),
        "limit": draw(st.sampled_from([1, 3, 20, 1000])),
        "countTotal": draw(st.booleans()),
    }
    templates = draw(st.lists(_FILTERS, max_size=2))
    body["filters"] = [t.format(n=draw(st.sampled_from([0, 5, 10, 12.5, 20]))) for t in templates]
    body["types"] = draw(
        st.lists(st.sampled_from([*_TYPES, "WV0* OR GE01", "NOT IDAHOImage"]), max_size=2)
    )
    if draw(st.booleans()):
        body["startDate"] = f"201{draw(st.integers(0, 6))}-01-01"
    if draw(st.booleans()):
        body["endDate"] = f"201{draw(st.integers(3, 6))}-06-30T12:00:00Z"
    return body


@settings(
    max_examples=scaled(30),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(body=_requests())
def test_same_answers_as_the_memory_store(
    random_stores: tuple[MemoryCatalog, PostgresCatalog], body: dict[str, Any]
) -> None:
    memory, catalog = random_stores
    if body.get("startDate", "") > body.get("endDate", "9"):
        body["startDate"], body["endDate"] = body["endDate"][:10], body["startDate"]
    assert catalog.search(body) == memory.search(body)


def test_searches_of_one_shape_each_answer_with_their_own_values(url: str) -> None:
    """SQLAlchemy compiles a statement once per shape and binds each search's own values: one
    catalog, many searches alike but for their literals, each answered as the memory store
    answers it (a cached statement that kept another search's values would not be)."""
    records = [
        record(f"r{i}", f"2016-01-{1 + i % 28:02d}T10:00:00.000Z", catalogID=f"id{i % 7}",
               n=i, m=["a", "b", "c"][i % 3], types=("WV02",) if i % 2 else ("WV03",))
        for i in range(40)
    ]  # fmt: skip
    catalog, memory = open_catalog(url), open_catalog("memory://")
    try:
        catalog.add_records(records)
        memory.add_records(records)
        bodies: list[dict[str, Any]] = []
        for i in range(7):
            bodies.append({"filters": [f"catalogID = 'id{i}'"]})
            bodies.append({"filters": [f"n < {i * 6}", f"NOT m = {'abc'[i % 3]}"], "limit": 5})
            bodies.append({"filters": [f"n >= {i} AND (m = a OR m = {'abc'[i % 3]})"],
                           "types": ["WV02" if i % 2 else "WV03"],
                           "startDate": f"2016-01-{1 + i:02d}"})  # fmt: skip
        for body in bodies + bodies[::-1]:
            assert catalog.search(body) == memory.search(body), body
    finally:
        catalog.close()


# -- the plan -----------------------------------------------------------------------------------


def _scans(plan: Mapping[str, Any]) -> list[tuple[str, str, float]]:
    """Every scan of a JSON plan: (node type, index name, estimated rows), walked with a stack."""
    found, stack = [], [plan]
    while stack:
        node = stack.pop()
        if "Scan" in node["Node Type"]:
            found.append((node["Node Type"], node.get("Index Name", ""), node["Plan Rows"]))
        stack.extend(node.get("Plans", []))
    return found


def test_a_broad_area_walks_the_time_index_and_a_small_one_reads_the_gist_index(url: str) -> None:
    """The area is one condition the planner estimates well (``ST_Intersects`` adds its ``&&``).

    Written twice, the area's selectivity was squared: a broad capped search then read and sorted
    every match in the area's box instead of walking the time index to the limit.
    """
    rng = random.Random(11)
    records = [
        record(
            f"r{i:05d}",
            timestamp=f"20{rng.randint(10, 17)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}",
            wkt=f"POINT({rng.uniform(0, 100)!r} {rng.uniform(0, 10)!r})",
            types=("WV02",),
        )
        for i in range(6000)
    ]
    catalog = open_catalog(url)
    memory = MemoryCatalog("memory://")
    try:
        catalog.add_records(records)
        memory.add_records(records)
        assert isinstance(catalog, PostgresCatalog)
        statements: list[tuple[str, Any]] = []

        def keep(_c: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
            statements.append((statement, parameters))

        sa.event.listen(catalog._engine, "before_cursor_execute", keep)
        broad = {"searchAreaWkt": "POLYGON((0 0, 10 0, 10 10, 0 10, 0 0))", "types": ["WV02"]}
        small = {"searchAreaWkt": "POLYGON((20 2, 21 2, 21 3, 20 3, 20 2))"}
        plans = {}
        for name, body in {"broad": {**broad, "limit": 10}, "small": small}.items():
            statements.clear()
            assert catalog.search(body) == memory.search(body), name
            statement, parameters = next(s for s in statements if "ORDER BY" in s[0])
            with catalog._engine.connect() as connection:
                raw = connection.connection.driver_connection
                assert raw is not None
                with raw.cursor() as cursor:
                    cursor.execute("EXPLAIN (FORMAT JSON) " + statement, parameters)
                    plans[name] = _scans(cursor.fetchone()[0][0]["Plan"])
        inside = sum(
            1 for r in records if float(r["properties"]["footprintWkt"][6:].split()[0]) <= 10
        )
        walk = [scan for scan in plans["broad"] if scan[1] == f"{TABLE}_order"]
        assert walk, plans["broad"]
        assert walk[0][2] > inside / 3, (walk, inside)  # squared, it was about inside / 10
        assert any(scan[1] == f"{TABLE}_footprint" for scan in plans["small"]), plans["small"]
    finally:
        catalog.close()
