"""Visibility inside the query (SPEC section 7, issue 11 item 5), on every store.

A search, a count, ``typeCounts``, the cap and a get-by-id restricted to some reader names see only
the records those names may read. The property test keeps, beside the catalog, what readers each
record was given; its oracle is the *unrestricted* answer (every match: fewer than 1000 records
are stored) filtered here, in Python, by those readers.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from catalog_fixtures import Factory
from catalogql.errors import InvalidInput
from catalogql.search import EVERYONE, Catalog, RecordNotFound, open_catalog
from catalogql.search.stores.sqlite import SQLiteCatalog
from catalogql.testing.strategies import filter_texts, records, search_requests
from property_settings import scaled

NAMES = [EVERYONE, "user:u1", "user:u2", "group:team", "group:other", "org:acme", "email:a@b.c"]
PRODUCTS = ["p1", "p2", "p3"]


def rec(identifier: str, *types: str, when: str = "2016-01-01T00:00:00.000Z") -> dict[str, Any]:
    return {
        "identifier": identifier,
        "type": ["GBDXCatalogRecord", *types],
        "properties": {"timestamp": when, "footprintWkt": "POLYGON((0 0,1 0,1 1,0 1,0 0))"},
    }


def ids(answer: dict[str, Any]) -> list[str]:
    return [record["identifier"] for record in answer["results"]]


def everything(catalog: Catalog, readers: Iterable[str] | None = None) -> list[str]:
    names = None if readers is None else list(readers)
    return sorted(ids(catalog.search({"limit": 1000}, readers=names)))


# -- the property ------------------------------------------------------------------------------


def _storable(record: dict[str, Any]) -> dict[str, Any]:
    """The record with a time (the strategy sometimes leaves it out, to test loading)."""
    properties = record["properties"]
    if properties.get("timestamp") is None:
        properties["timestamp"] = "2016-01-01T00:00:00.000Z"
    return record


_records = records(PRODUCTS, extra=False).map(_storable)
_readers = st.none() | st.sets(st.sampled_from(NAMES), max_size=3)
_batches = st.lists(
    st.tuples(st.lists(records(PRODUCTS, extra=False).map(_storable), max_size=6), _readers),
    max_size=3,
)
_grants = st.lists(
    st.tuples(st.sampled_from([*PRODUCTS, "WV02", "Acquisition"]), _readers), max_size=2
)
_principals = st.sets(st.sampled_from([*NAMES, "group:nobody"]), max_size=4)
_requests = search_requests(
    types=st.sampled_from([*PRODUCTS, "WV02", "Acquisition", "NOT p1", "p1 OR p2", "WV0*"]),
    filters=filter_texts(["cloudCover", "offNadirAngle", "sensorPlatformName"], max_leaves=3),
    max_limit=40,
)


def test_no_answer_shows_a_record_its_names_cannot_read(new_catalog: Factory) -> None:
    """Random records with random readers, grants, principals and requests, on every store."""
    state: dict[str, Any] = {"catalog": new_catalog(), "readers": {}}

    @settings(max_examples=scaled(40), deadline=None)
    @given(batches=_batches, grants=_grants, names=_principals, body=_requests)
    def check(
        batches: list[tuple[list[dict[str, Any]], set[str] | None]],
        grants: list[tuple[str, set[str] | None]],
        names: set[str],
        body: dict[str, Any],
    ) -> None:
        if len(state["readers"]) > 800:  # the oracle needs every match in one answer
            state["catalog"], state["readers"] = new_catalog(), {}
        catalog: Catalog = state["catalog"]
        readers: dict[str, frozenset[str]] = state["readers"]
        for batch, given_readers in batches:
            stored = frozenset({EVERYONE} if given_readers is None else given_readers)
            if given_readers is None:
                catalog.add_records(batch)
            else:
                catalog.add_records(batch, readers=given_readers)
            readers.update((record["identifier"], stored) for record in batch)
        for label, grant in grants:
            granted = frozenset(grant or ())
            count = catalog.set_readers(label, granted)
            carrying = catalog.search({"types": [label], "limit": 1000, "countTotal": True})
            assert count == carrying["stats"]["totalMatched"]
            for identifier in ids(carrying):
                readers[identifier] = granted
        assert len(catalog) == len(readers) < 1000

        unrestricted = catalog.search({**body, "limit": 1000, "countTotal": True})
        assert unrestricted["stats"]["totalMatched"] == len(unrestricted["results"])
        visible = [r for r in unrestricted["results"] if readers[r["identifier"]] & names]
        limit = min(body.get("limit") or 1000, 1000)
        expected = visible[:limit]
        answer = catalog.search(body, readers=names)
        assert all(readers[r["identifier"]] & names for r in answer["results"])
        assert answer["results"] == expected
        counts = Counter(label for record in expected for label in record["type"])
        assert answer["stats"]["typeCounts"] == dict(sorted(counts.items()))
        assert answer["stats"]["recordsReturned"] == len(expected)
        if body.get("countTotal"):
            assert answer["stats"]["totalMatched"] == len(visible)
        for identifier, allowed in readers.items():
            if allowed & names:
                assert catalog.get_record(identifier, readers=names)["identifier"] == identifier
            else:
                with pytest.raises(RecordNotFound, match=f"^Not Found: {identifier}$"):
                    catalog.get_record(identifier, readers=names)

    check()


# -- the rules, as tables ----------------------------------------------------------------------


def test_records_loaded_without_readers_are_for_every_authenticated_principal(
    new_catalog: Factory,
) -> None:
    catalog = new_catalog()
    catalog.add_records([rec("a"), rec("b")])
    assert everything(catalog, [EVERYONE, "user:u1"]) == ["a", "b"]
    assert everything(catalog, ["user:u1", "group:team"]) == []  # EVERYONE is a name like others
    assert everything(catalog, []) == []
    assert everything(catalog) == ["a", "b"]  # None: a trusted local caller


def test_hidden_records_are_not_counted_nor_found_by_id(new_catalog: Factory) -> None:
    catalog = new_catalog()
    catalog.add_records([rec("open", "p1"), rec("mine", "p1", "p2")], readers=["user:u1"])
    catalog.add_records([rec("theirs", "p2")], readers=["group:other"])
    answer = catalog.search({"countTotal": True, "limit": 1}, readers=["user:u1"])
    assert answer["stats"]["totalMatched"] == 2
    assert answer["stats"]["typeCounts"] == {"GBDXCatalogRecord": 1, "p1": 1, "p2": 1}
    answer = catalog.search({"types": ["p2"], "countTotal": True}, readers=["user:u1"])
    assert ids(answer) == ["mine"] and answer["stats"]["totalMatched"] == 1
    with pytest.raises(RecordNotFound) as hidden:
        catalog.get_record("theirs", readers=["user:u1"])
    with pytest.raises(RecordNotFound) as missing:
        catalog.get_record("nothing", readers=["user:u1"])
    assert str(hidden.value) == "Not Found: theirs" and hidden.value.status == 404
    assert type(hidden.value) is type(missing.value)
    assert catalog.get_record("theirs")["identifier"] == "theirs"
    assert catalog.get_record("theirs", readers=("group:other",))["identifier"] == "theirs"


def test_replacing_a_record_replaces_its_readers(new_catalog: Factory) -> None:
    catalog = new_catalog()
    catalog.add_records([rec("a"), rec("b")], readers=["user:u1"])
    catalog.add_records([rec("a")], readers=["group:team"])  # the same content, new readers
    changed = rec("b", "p1")
    catalog.add_records([changed])  # new content, the default readers
    assert everything(catalog, ["user:u1"]) == []
    assert everything(catalog, ["group:team"]) == ["a"]
    assert everything(catalog, [EVERYONE]) == ["b"]
    assert catalog.get_record("b", readers=[EVERYONE])["type"] == changed["type"]
    catalog.add_records([rec("a")], readers=[])
    assert everything(catalog, NAMES) == ["b"] and len(catalog) == 2


def test_set_readers_replaces_the_readers_of_a_label(new_catalog: Factory) -> None:
    catalog = new_catalog()
    catalog.add_records([rec("a", "p1"), rec("b", "p1", "p2")], readers=["user:u1"])
    catalog.add_records([rec("c", "p2")], readers=["user:u1"])
    assert catalog.set_readers("p1", ["group:team", "org:acme"]) == 2
    assert everything(catalog, ["user:u1"]) == ["c"]
    assert everything(catalog, ["org:acme"]) == ["a", "b"]
    assert catalog.set_readers("p2", []) == 2
    assert everything(catalog, NAMES) == ["a"]
    assert catalog.set_readers("no-such-label", ["user:u1"]) == 0
    assert everything(catalog) == ["a", "b", "c"]


def test_set_readers_joins_the_open_unit(new_catalog: Factory) -> None:
    catalog = new_catalog()
    catalog.add_records([rec("a", "p1")], readers=["user:u1"])
    with pytest.raises(KeyError), catalog.transaction():
        assert catalog.set_readers("p1", ["group:team"]) == 1
        raise KeyError("a later step failed")
    assert everything(catalog, ["user:u1"]) == ["a"]  # rolled back with the unit
    with catalog.transaction():
        catalog.add_records([rec("b", "p1"), rec("c", "p2")], readers=["user:u2"])
        assert catalog.set_readers("p1", ["group:team"]) == 2  # the unit's own record counts
        catalog.add_records([rec("d", "p1")], readers=["user:u2"])  # after it: its own readers
    assert everything(catalog, ["group:team"]) == ["a", "b"]
    assert everything(catalog, ["user:u2"]) == ["c", "d"]


@pytest.mark.parametrize(
    "readers",
    ["group:team", b"group:team", {"group:team": True}, 7, [7], [""], ["a\x00b"], [None]],
    ids=["str", "bytes", "dict", "int", "int-name", "empty-name", "nul-name", "none-name"],
)
def test_readers_of_the_wrong_type_fail_closed(new_catalog: Factory, readers: Any) -> None:
    catalog = new_catalog()
    catalog.add_records([rec("a")], readers=["g"])
    for call in (
        lambda: catalog.search({}, readers=readers),
        lambda: catalog.get_record("a", readers=readers),
        lambda: catalog.add_records([rec("b")], readers=readers),
        lambda: catalog.set_readers("GBDXCatalogRecord", readers),
    ):
        with pytest.raises(InvalidInput, match=r"readers(\[0\])? must be") as error:
            call()
        assert error.value.status == 400
    assert everything(catalog) == ["a"] and everything(catalog, ["g"]) == ["a"]


def test_a_search_needs_a_collection_of_names_not_a_one_shot_iterator() -> None:
    catalog = open_catalog("memory://")
    with pytest.raises(InvalidInput, match="collection of reader names"):
        catalog.search({}, readers=iter(["g"]))  # type: ignore[arg-type]
    assert catalog.add_records([rec("a")], readers=iter(["g"])) == 1  # loading: any iterable
    assert everything(catalog, {"g"}) == ["a"]


# -- migration: catalogs made before readers existed (d1f1d6b) ---------------------------------

# The schema d1f1d6b's SQLite store created, verbatim.
OLD_SQLITE_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    id INTEGER PRIMARY KEY,
    identifier TEXT NOT NULL UNIQUE,
    ts TEXT NOT NULL,
    types TEXT NOT NULL,
    properties TEXT NOT NULL,
    footprint BLOB NOT NULL,
    exotic INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS records_order ON records (ts DESC, identifier);
CREATE VIRTUAL TABLE IF NOT EXISTS footprints USING rtree (id, min_x, max_x, min_y, max_y);
CREATE TABLE IF NOT EXISTS record_types (
    label TEXT NOT NULL, record INTEGER NOT NULL, PRIMARY KEY (label, record)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS record_keys (
    key TEXT NOT NULL, record INTEGER NOT NULL, PRIMARY KEY (key, record)
) WITHOUT ROWID;
"""


def _schema(path: Path) -> set[tuple[str, str]]:
    with sqlite3.connect(path) as db:
        return set(db.execute("SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL"))


def test_an_sqlite_catalog_made_before_readers_opens_readable_by_everyone(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with open_catalog(f"sqlite:///{path}") as catalog:
        catalog.add_records([rec("a", "p1"), rec("b", "p2")], readers=["user:u1"])
    with sqlite3.connect(path) as db:  # back to d1f1d6b's file: its tables, no readers
        db.execute("DROP TABLE record_readers")
        db.execute("DROP TABLE catalogql_documents")  # the service's table came later too
    old = tmp_path / "reference.db"
    with sqlite3.connect(old) as db:
        db.executescript(OLD_SQLITE_SCHEMA)
    assert _schema(path) == _schema(old)

    with open_catalog(f"sqlite:///{path}", create=False) as catalog:
        assert everything(catalog, [EVERYONE]) == ["a", "b"]
        assert everything(catalog, ["user:u1"]) == []
        assert catalog.get_record("a", readers=[EVERYONE])["identifier"] == "a"
        assert catalog.set_readers("p1", ["user:u1"]) == 1
        catalog.add_records([rec("c")], readers=["user:u1"])
        assert everything(catalog, ["user:u1"]) == ["a", "c"]
    with open_catalog(f"sqlite:///{path}", create=False) as catalog:  # migrated once
        assert everything(catalog, [EVERYONE]) == ["b"]
    with sqlite3.connect(path) as db:  # one time index serves both orders: none was added
        made = "SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE 'records_order%'"
        assert db.execute(made).fetchall() == [("records_order",)]


def test_a_postgresql_catalog_of_layout_1_opens_readable_by_everyone(postgres_cluster: Any) -> None:
    url = postgres_cluster.create_database("visibility_migration")
    try:
        with open_catalog(url) as catalog:
            catalog.add_records([rec("a", "p1"), rec("b", "p2")], readers=["user:u1"])
        engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
        with engine.begin() as connection:  # back to d1f1d6b's table: no readers, layout 1
            connection.exec_driver_sql("ALTER TABLE catalogql_records DROP COLUMN readers")
            connection.exec_driver_sql(
                "UPDATE catalogql_meta SET value = '1' WHERE name = 'layout'"
            )
        with open_catalog(url, create=False) as catalog:
            assert everything(catalog, [EVERYONE]) == ["a", "b"]
            assert everything(catalog, ["user:u1"]) == []
            assert catalog.set_readers("p1", ["user:u1"]) == 1
            assert everything(catalog, ["user:u1"]) == ["a"]
        with engine.begin() as connection:
            layout = connection.exec_driver_sql(
                "SELECT value FROM catalogql_meta WHERE name = 'layout'"
            ).scalar()
            default = connection.exec_driver_sql(
                "SELECT column_default FROM information_schema.columns "
                "WHERE table_name = 'catalogql_records' AND column_name = 'readers'"
            ).scalar()
        engine.dispose()
        assert layout == "2" and default is None  # a row written without readers is refused
    finally:
        postgres_cluster.drop_database("visibility_migration")


# -- the plans use the indexes -----------------------------------------------------------------


def _plans(catalog: SQLiteCatalog, body: dict[str, Any], names: list[str]) -> list[str]:
    """The query plans of the statements a search runs (EXPLAIN QUERY PLAN of each)."""
    statements: list[str] = []
    db = catalog._db()
    db.set_trace_callback(statements.append)
    try:
        catalog.search(body, readers=names)
    finally:
        db.set_trace_callback(None)
    plans = []
    for statement in statements:
        if statement.startswith("SELECT r.identifier") and "ORDER BY r.ts DESC" in statement:
            rows = db.execute(f"EXPLAIN QUERY PLAN {statement}").fetchall()
            plans.append("\n".join(row[-1] for row in rows))
    return plans


def test_sqlite_checks_readers_by_index_never_by_scanning_them(tmp_path: Path) -> None:
    catalog = open_catalog(f"sqlite:///{tmp_path / 'c.db'}")
    assert isinstance(catalog, SQLiteCatalog)
    many = [rec(f"r{i:04d}", "p1", when=f"2016-01-{1 + i % 28:02d}") for i in range(2000)]
    catalog.add_records(many)
    catalog.add_records([rec("few", "p2")], readers=["user:u1"])
    walk = _plans(catalog, {"limit": 5}, [EVERYONE, "user:u1"])
    assert walk and "USING PRIMARY KEY" in walk[-1] and "rr" in walk[-1]
    assert "SCAN rr" not in walk[-1]
    driven = _plans(catalog, {"limit": 5, "countTotal": True}, ["user:u1"])
    assert driven and "record_readers_reader" in driven[-1], driven
    assert "SCAN rr" not in driven[-1]
    assert ids(catalog.search({"limit": 5}, readers=["user:u1"])) == ["few"]
    catalog.close()


def test_postgresql_serves_readers_by_its_gin_index(postgres_cluster: Any) -> None:
    url = postgres_cluster.create_database("visibility_plan")
    try:
        with open_catalog(url) as catalog:
            catalog.add_records([rec(f"r{i}") for i in range(300)])
            catalog.add_records([rec("few")], readers=["user:u1"])
        engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
        with engine.begin() as connection:
            connection.exec_driver_sql("ANALYZE catalogql_records")
            connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
            plan = "\n".join(
                row[0]
                for row in connection.exec_driver_sql(
                    "EXPLAIN SELECT identifier FROM catalogql_records "
                    "WHERE readers && ARRAY['user:u1']::text[]"
                )
            )
        engine.dispose()
        assert "catalogql_records_readers" in plan, plan
    finally:
        postgres_cluster.drop_database("visibility_plan")
