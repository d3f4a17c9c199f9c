"""The service's searches on every store: GBDX search and get per principal, the Metadata search
(features, fields, tokens, paging under concurrent inserts) and the summary."""

from __future__ import annotations

import dataclasses
import json
import random
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import catalogql as cq
from catalog_fixtures import Factory
from catalogql.errors import CatalogqlError
from catalogql.search import Catalog
from catalogql.search.engine import Query
from catalogql.search.errors import InvalidSearchRequest, RecordNotFound
from catalogql.semantics import instant_key
from catalogql.service import Service, access, metadata, open_service
from conftest import SHARED_DIR, require_shared
from property_settings import scaled

ALICE = cq.Principal("alice", groups=["owners"])
READER = cq.Principal("ann", groups=["team"])
STRANGER = cq.Principal("mallory")
SQUARE = [[-105.5, 39.5], [-104.5, 39.5], [-104.5, 40.5], [-105.5, 40.5], [-105.5, 39.5]]


def make_service(new_catalog: Factory) -> tuple[Service, str]:
    svc = open_service(new_catalog())
    pid = svc.add_product(ALICE, "wiretest", title="W", description="", read=["group:team"])["id"]
    return svc, pid


def image(pid: str, key: str, **properties: Any) -> dict[str, Any]:
    """An image's search record as the upload layer makes it (SPEC section 7)."""
    props = {
        "timestamp": "2020-06-01T00:00:00Z",
        "footprintWkt": "POINT(-105 40)",
        "cloudCover": 10,
        "product": pid,
        "key": key,
        **properties,
    }
    return {
        "identifier": f"{pid}:{key}",
        "type": ["GBDXCatalogRecord", "UserImage", pid],
        "properties": props,
    }


def add_images(svc: Service, pid: str, images: list[dict[str, Any]]) -> None:
    product = svc.get_product(ALICE, pid)
    svc.catalog.add_records(images, readers=access.readers(product))


def varied(pid: str, count: int, seed: int = 7) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    out = []
    for number in range(count):
        month, day, hour = rng.randint(1, 12), rng.randint(1, 28), rng.randint(0, 23)
        out.append(
            image(
                pid,
                f"img{number:03d}",
                timestamp=f"{rng.choice([2019, 2020, 2021])}-{month:02d}-{day:02d}T{hour:02d}:00Z",
                processed=f"2020-{month:02d}-{day:02d}T00:00:00Z",
                cloudCover=rng.choice([0, 5, 15, 30, 60, 95]),
                cloud_fraction_0=rng.choice([0.1, 0.5, 0.95]),
                fill_fraction=rng.choice([0.05, 0.5, 1.0]),
                sat_id=rng.choice(["SAT-1", "SAT-2"]),
                storage_state="available",
                footprintWkt=rng.choice(["POINT(-105 40)", "POINT(10 10)"]),
                file_sizes=[1000, 24],
                width=10,
                height=20,
                bands=["red", "green"],
            )
        )
    return out


def ids(features: list[dict[str, Any]]) -> list[str]:
    return [feature["id"] for feature in features]


def every_page(svc: Service, principal: cq.Principal, body: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    token = None
    for _ in range(10_000):
        page, token = svc.metadata_search(
            principal, body if token is None else {**body, "continuation_token": token}
        )
        found.extend(page)
        if token is None:
            return found
    raise AssertionError("paging did not end")


# --------------------------------------------------------------------------------------------
# Principals and the GBDX side


def test_visible_names_include_everyone() -> None:
    assert access.visible_names(READER) == READER.names | {cq.search.EVERYONE}


def test_search_and_get_per_principal(new_catalog: Factory) -> None:
    svc, pid = make_service(new_catalog)
    add_images(svc, pid, varied(pid, 12))
    svc.catalog.add_records(  # loaded with catalogql load: every authenticated principal
        [image("public", "x", product="public")]
    )
    body = {"types": ["UserImage"], "countTotal": True}
    assert svc.search(READER, body)["stats"]["totalMatched"] == 13
    assert svc.search(ALICE, body)["stats"]["totalMatched"] == 13
    stranger = svc.search(STRANGER, body)
    assert stranger["stats"]["totalMatched"] == 1
    assert stranger["stats"]["typeCounts"] == {
        "GBDXCatalogRecord": 1,
        "UserImage": 1,
        "public": 1,
    }
    assert svc.get_record(READER, f"{pid}:img000")["identifier"] == f"{pid}:img000"
    with pytest.raises(RecordNotFound):
        svc.get_record(STRANGER, f"{pid}:img000")
    assert svc.get_record(STRANGER, "public:x")["identifier"] == "public:x"


# --------------------------------------------------------------------------------------------
# Features and fields


def test_features_have_descartes_names(new_catalog: Factory) -> None:
    svc, pid = make_service(new_catalog)
    add_images(
        svc, pid, [image(pid, "a", cloudCover=25, footprintWkt="POLYGON((0 0,1 0,1 1,0 0))")]
    )
    (feature,), token = svc.metadata_search(READER, {"products": [pid]})
    assert token is None
    assert feature["id"] == f"{pid}:a" and feature["type"] == "Feature"
    assert feature["geometry"]["type"] == "Polygon"
    props = feature["properties"]
    assert props["acquired"] == "2020-06-01T00:00:00Z"
    assert props["cloud_fraction"] == 0.25
    assert (props["product"], props["key"]) == (pid, "a")
    assert "timestamp" not in props and "cloudCover" not in props and "footprintWkt" not in props
    assert svc.metadata_search(READER, {"products": [pid], "fields": []})[0] == [{"id": f"{pid}:a"}]
    keyed = svc.metadata_search(READER, {"products": [pid], "fields": ["key"]})[0][0]
    assert sorted(keyed) == ["id", "key", "properties"]
    geometry = svc.metadata_search(READER, {"products": [pid], "fields": ["geometry"]})[0][0]
    assert sorted(geometry) == ["geometry", "id", "properties", "type"]


# --------------------------------------------------------------------------------------------
# The captured bodies


def _captured(pid: str) -> dict[int, dict[str, Any]]:
    path = require_shared(SHARED_DIR / "descartes-v1" / "captured.jsonl")
    out = {}
    for line in path.read_text().splitlines():
        entry = json.loads(line)
        body = (entry.get("body") or {}).get("json")
        if entry["seq"] in (61, 73, 85, 88):
            assert isinstance(body, dict)
            text = json.dumps(body)
            for product in body["products"]:
                text = text.replace(product, pid)
            out[entry["seq"]] = json.loads(text)
    return out


def _inside(record: dict[str, Any]) -> bool:
    return bool(record["properties"]["footprintWkt"] == "POINT(-105 40)")


def test_captured_bodies_answer_sensibly(new_catalog: Factory) -> None:
    svc, pid = make_service(new_catalog)
    images = varied(pid, 80)
    add_images(svc, pid, images)
    bodies = _captured(pid)
    assert sorted(bodies) == [61, 73, 85, 88]

    # 61: area, 2020 on acquired, cloud < 0.2, desc, 10 a page
    expected = [
        r
        for r in images
        if _inside(r)
        and r["properties"]["timestamp"].startswith("2020")
        and r["properties"]["cloudCover"] < 20
    ]
    expected.sort(key=lambda r: r["identifier"])  # ties: identifier ascending
    expected.sort(key=lambda r: r["properties"]["timestamp"], reverse=True)
    page, token = svc.metadata_search(READER, bodies[61])
    assert ids(page) == [r["identifier"] for r in expected[:10]]
    assert (token is None) == (len(page) < 10)
    assert ids(every_page(svc, READER, bodies[61])) == [r["identifier"] for r in expected]

    # 73: date=processed, sat_ids, cloud/fill bounds, fields, random_seed, 3 a page
    page, _ = svc.metadata_search(READER, bodies[73])
    assert 0 < len(page) <= 3
    for feature in page:
        assert sorted(feature) == ["id", "properties"]
        assert sorted(feature["properties"]) == ["acquired", "cloud_fraction"]
        record = svc.get_record(READER, feature["id"])["properties"]
        assert record["sat_id"] == "SAT-1" and record["cloudCover"] <= 90
        assert record["fill_fraction"] >= 0.1 and record["cloud_fraction_0"] <= 0.9

    # 85: ids() with q = cloud_fraction >= 0.1
    found = every_page(svc, READER, bodies[85])
    assert all(sorted(feature) == ["id"] for feature in found)
    assert sorted(ids(found)) == sorted(
        r["identifier"] for r in images if r["properties"]["cloudCover"] >= 10
    )

    # 88: summary by month with pixels
    answer = svc.summary(READER, bodies[88])
    matching = [
        r
        for r in images
        if _inside(r)
        and r["properties"]["sat_id"] == "SAT-1"
        and "2020-01-01" <= r["properties"]["timestamp"][:10] <= "2021-01-01"
        and r["properties"]["cloudCover"] < 60
    ]
    assert answer["count"] == len(matching) > 0
    assert answer["bytes"] == 1024 * len(matching)
    assert answer["pixels"] == 400 * len(matching)
    assert answer["products"] == [pid]
    assert sum(item["count"] for item in answer["items"]) == len(matching)
    months = sorted({r["properties"]["timestamp"][:7] for r in matching})
    assert [item["date"][:7] for item in answer["items"]] == months
    assert all(item["date"].endswith("-01T00:00:00.000Z") for item in answer["items"])
    # nobody else's view
    assert svc.summary(STRANGER, bodies[88])["count"] == 0
    assert svc.metadata_search(STRANGER, bodies[61]) == ([], None)


def test_summary_intervals(new_catalog: Factory) -> None:
    svc, pid = make_service(new_catalog)
    add_images(
        svc,
        pid,
        [
            image(pid, "a", timestamp="2020-03-31T23:59:00Z"),
            image(pid, "b", timestamp="2020-04-01T00:10:00Z"),
            image(pid, "c", timestamp="2020-04-01T00:50:00Z"),
        ],
    )
    body: dict[str, Any] = {"products": [pid]}

    def dated(interval: str) -> list[tuple[str, int]]:
        items = svc.summary(READER, {**body, "interval": interval})["items"]
        return [(item["date"], item["count"]) for item in items]

    assert dated("year") == [("2020-01-01T00:00:00.000Z", 3)]
    assert dated("quarter") == [("2020-01-01T00:00:00.000Z", 1), ("2020-04-01T00:00:00.000Z", 2)]
    assert dated("week") == [("2020-03-30T00:00:00.000Z", 3)]  # a Monday
    assert dated("h") == [("2020-03-31T23:00:00.000Z", 1), ("2020-04-01T00:00:00.000Z", 2)]
    assert len(dated("minute")) == 3
    items = svc.summary(READER, {**body, "interval": "month"})["items"]
    assert items[1]["timestamp"] == 1585699200  # 2020-04-01T00:00:00Z
    by_product = svc.summary(READER, {**body, "interval": "product"})["items"]
    assert by_product == [{"product": pid, "count": 3, "bytes": 0}]
    assert svc.summary(READER, body) == {"count": 3, "bytes": 0, "products": [pid]}


def test_summary_past_its_cap_is_refused(
    new_catalog: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    svc, pid = make_service(new_catalog)
    add_images(svc, pid, varied(pid, 6))
    monkeypatch.setattr(metadata, "MAX_SUMMARY", 5)
    with pytest.raises(CatalogqlError) as info:
        svc.summary(READER, {"products": [pid]})
    assert info.value.status == 413 and "more than 5" in str(info.value)
    monkeypatch.setattr(metadata, "MAX_SUMMARY", 6)
    assert svc.summary(READER, {"products": [pid]})["count"] == 6


# --------------------------------------------------------------------------------------------
# Visibility, products, limits


def test_products_and_visibility(new_catalog: Factory) -> None:
    svc, pid = make_service(new_catalog)
    other = svc.add_product(ALICE, "secret", title="S", description="")["id"]
    add_images(svc, pid, varied(pid, 5))
    add_images(svc, other, varied(other, 4))
    everything = every_page(svc, ALICE, {"limit": 2})
    assert len(everything) == 9
    assert len(every_page(svc, READER, {"limit": 2})) == 5
    assert every_page(svc, STRANGER, {}) == []
    # an unreadable product and an unknown one match nothing (no error: nothing leaks)
    assert svc.metadata_search(READER, {"products": [other]}) == ([], None)
    assert svc.metadata_search(READER, {"products": ["nobody:nothing"]}) == ([], None)
    assert len(every_page(svc, ALICE, {"products": [pid, other]})) == 9
    assert svc.summary(READER, {"products": [other]})["count"] == 0
    # a grant changes what a stranger sees (the upload layer's product hook gives the images'
    # records the product's readers; done by hand here)
    product = svc.change_product(ALICE, pid, read=["group:team", STRANGER.user])
    svc.catalog.set_readers(pid, access.readers(product))
    assert len(every_page(svc, STRANGER, {"products": [pid]})) == 5


def test_a_token_carries_no_rights(new_catalog: Factory) -> None:
    svc, pid = make_service(new_catalog)
    add_images(svc, pid, varied(pid, 6))
    page, token = svc.metadata_search(READER, {"limit": 2})
    assert len(page) == 2 and token is not None
    # the stranger replays the reader's token: it only ever shows what the stranger may read
    assert svc.metadata_search(STRANGER, {"limit": 2, "continuation_token": token}) == ([], None)
    # the owner replaying it gets the rest after the position, as the reader would
    rest = every_page(svc, ALICE, {"limit": 2, "continuation_token": token})
    assert len(rest) == 4 and not set(ids(rest)) & set(ids(page))


def _token_problem(svc: Service, body: dict[str, Any]) -> str:
    with pytest.raises(InvalidSearchRequest) as info:
        svc.metadata_search(READER, body)
    assert info.value.status == 400
    (problem,) = info.value.problems
    assert problem.field == "continuation_token"
    return problem.message


def test_tampered_stale_and_foreign_tokens_are_400(new_catalog: Factory) -> None:
    svc, pid = make_service(new_catalog)
    add_images(svc, pid, varied(pid, 6))
    body = {"products": [pid], "limit": 2}
    _, token = svc.metadata_search(READER, body)
    assert token is not None
    head, _, tail = token.partition(".")
    flipped = head[:5] + ("A" if head[5] != "A" else "B") + head[6:]
    for bad in (f"{flipped}.{tail}", f"{head}.{tail[:-2]}", head, "", "%%%", "a.b.c"):
        assert "not a token this catalog made" in _token_problem(
            svc, {**body, "continuation_token": bad}
        )
    stale = _token_problem(svc, {**body, "limit": 3, "continuation_token": token})
    assert "the body changed" in stale
    stale = _token_problem(svc, {**body, "cloud_fraction": 0.5, "continuation_token": token})
    assert "the body changed" in stale
    # another catalog's secret
    other, other_pid = make_service(new_catalog)
    assert other_pid == pid  # the same product id: only the secret differs
    add_images(other, pid, varied(pid, 6))
    with pytest.raises(InvalidSearchRequest) as info:
        other.metadata_search(READER, {**body, "continuation_token": token})
    assert info.value.problems[0].field == "continuation_token"
    # the secret is kept in the catalog: a new service on it accepts the token
    again = open_service(svc.catalog)
    page, _ = again.metadata_search(READER, {**body, "continuation_token": token})
    assert len(page) == 2


def test_limits(new_catalog: Factory) -> None:
    svc, pid = make_service(new_catalog)
    add_images(svc, pid, varied(pid, 3))
    page, token = svc.metadata_search(READER, {"limit": 20_000})
    assert len(page) == 3 and token is None
    page, token = svc.metadata_search(READER, {"limit": 3})
    assert len(page) == 3 and token is not None  # a full page: one more ask gets []
    assert svc.metadata_search(READER, {"limit": 3, "continuation_token": token}) == ([], None)
    for bad in ({"limit": 0}, {"limit": "x"}, {"sort_field": "cloud_fraction"}):
        with pytest.raises(InvalidSearchRequest):
            svc.metadata_search(READER, bad)


def test_the_page_size_is_capped_at_ten_thousand(monkeypatch: pytest.MonkeyPatch) -> None:
    svc = open_service("memory://")
    pid = svc.add_product(ALICE, "big", title="B", description="")["id"]
    add_images(
        svc,
        pid,
        [
            image(pid, f"k{n:05d}", timestamp=f"2020-01-01T00:00:{n % 60:02d}Z")
            for n in range(10_005)
        ],
    )
    page, token = svc.metadata_search(ALICE, {"limit": 50_000})
    assert len(page) == 10_000 and token is not None
    rest, token = svc.metadata_search(ALICE, {"limit": 50_000, "continuation_token": token})
    assert len(rest) == 5 and token is None
    assert not set(ids(page)) & set(ids(rest))


# --------------------------------------------------------------------------------------------
# Keyset paging under concurrent inserts


def test_engine_keyset_pages_are_the_order(new_catalog: Factory) -> None:
    catalog: Catalog = new_catalog()
    rng = random.Random(3)
    records = [
        image("p", f"r{n:03d}", timestamp=f"2020-01-0{rng.randint(1, 4)}") for n in range(40)
    ]
    catalog.add_records(records)
    for ascending in (False, True):
        query = Query.build(limit=6, ascending=ascending, types=[], readers=frozenset({"*"}))
        seen: list[tuple[str, str]] = []
        while True:
            page, _ = catalog.find(query)
            if not page:
                break
            keys = [
                (instant_key(r["properties"]["timestamp"]) or "", r["identifier"]) for r in page
            ]
            seen += keys
            query = dataclasses.replace(query, after=keys[-1])
        expected = sorted(
            ((instant_key(r["properties"]["timestamp"]) or "", r["identifier"]) for r in records),
            key=query.order_key(),
        )
        assert seen == expected


def test_gbdx_answers_keep_their_order(new_catalog: Factory) -> None:
    catalog = new_catalog()
    catalog.add_records(
        [
            image("p", key, timestamp=stamp)
            for key, stamp in [("b", "2020-01-01"), ("a", "2020-01-01"), ("c", "2021-01-01")]
        ]
    )
    assert [r["identifier"] for r in catalog.search({})["results"]] == ["p:c", "p:a", "p:b"]


_TIMES = [f"2020-01-01T00:00:0{n}Z" for n in range(6)]


def test_paging_under_concurrent_inserts(new_catalog: Factory) -> None:
    """Paging while records are added before, at and after the position, on every store.

    The guarantee: every record that existed at the start is returned exactly once, none is
    returned twice, the pages follow the order, and a record added after the current position
    (later in the order) is returned too; one added at or before it may be missed.
    """
    state = {"svc": open_service(new_catalog()), "round": 0}
    svc: Service = state["svc"]  # type: ignore[assignment]
    pid = svc.add_product(ALICE, "paging", title="P", description="", read=["group:team"])["id"]

    @settings(max_examples=scaled(25), deadline=None)
    @given(
        initial=st.lists(st.sampled_from(_TIMES), min_size=0, max_size=25),
        size=st.integers(1, 7),
        descending=st.booleans(),
        inserts=st.lists(st.lists(st.sampled_from(_TIMES), max_size=3), max_size=12),
        hidden=st.booleans(),
    )
    def check(
        initial: list[str],
        size: int,
        descending: bool,
        inserts: list[list[str]],
        hidden: bool,
    ) -> None:
        state["round"] += 1  # type: ignore[operator]
        tag = f"r{state['round']}"  # this example's records, apart from the earlier ones
        counter = iter(range(10_000))
        rng = random.Random(tag)

        def make(stamp: str) -> dict[str, Any]:
            # random identifiers, so inserts land before and after the position within a time
            key = f"{tag}-{rng.randrange(10**6):06d}-{next(counter)}"
            return image(pid, key, timestamp=stamp, round=tag)

        first = [make(stamp) for stamp in initial]
        add_images(svc, pid, first)
        unseen = [make(stamp) for stamp in initial[:3]] if hidden else []
        svc.catalog.add_records(unseen, readers=["group:x"])  # between the reader's ones
        body = {
            "products": [pid],
            "limit": size,
            "sort_order": "desc" if descending else "asc",
            "query_expr": {"eq": {"round": tag}},
        }

        def key(identifier: str, stamp: str) -> tuple[str, str]:
            return (instant_key(stamp) or "", identifier)

        order = Query.build(ascending=not descending).order_key()
        must = {r["identifier"] for r in first}
        seen: list[tuple[str, str]] = []
        token = None
        for step in range(1000):
            page, token = svc.metadata_search(
                READER, body if token is None else {**body, "continuation_token": token}
            )
            seen += [key(f["id"], f["properties"]["acquired"]) for f in page]
            if token is None:
                break
            position = seen[-1]
            batch = [make(stamp) for stamp in inserts[step]] if step < len(inserts) else []
            add_images(svc, pid, batch)
            for record in batch:  # those after the position must appear
                if order(key(record["identifier"], record["properties"]["timestamp"])) > order(
                    position
                ):
                    must.add(record["identifier"])
        identifiers = [identifier for _, identifier in seen]
        assert len(identifiers) == len(set(identifiers)), "a record was returned twice"
        assert seen == sorted(seen, key=order), "the pages left the order"
        assert must <= set(identifiers), "a record that had to appear is missing"
        assert not {r["identifier"] for r in unseen} & set(identifiers)

    check()


def test_sqlite_serves_the_keyset_from_its_time_index(tmp_path: Any) -> None:
    """The position is a range on the (ts DESC, identifier) index, either way.

    Ascending, SQLite reads the index backwards and sorts only the records of one time key by
    identifier (``FOR RIGHT PART OF ORDER BY``), never the whole range.
    """
    import sqlite3

    catalog = cq.search.open_catalog(f"sqlite:///{tmp_path / 'c.db'}", create=True)
    catalog.add_records([image("p", f"k{n}", timestamp=f"2020-01-0{1 + n % 9}") for n in range(50)])
    statements: list[str] = []
    db = catalog._db()  # type: ignore[attr-defined]
    db.set_trace_callback(statements.append)
    for ascending in (False, True):
        statements.clear()
        query = Query.build(limit=5, ascending=ascending, after=("2020-01-05T00:00:00", "p:k3"))
        page, _ = catalog.find(query)
        assert len(page) == 5
        (sql,) = [s for s in statements if "ORDER BY r.ts" in s]
        plan = " ".join(
            row[3]
            for row in sqlite3.connect(tmp_path / "c.db").execute("EXPLAIN QUERY PLAN " + sql)
        )
        index = "records_order (ts>?)" if ascending else "records_order (ts<?)"
        assert f"USING COVERING INDEX {index}" in plan or f"USING INDEX {index}" in plan, plan
        if ascending:  # the ties of one time key only, not a sort of the rows
            assert plan.count("TEMP B-TREE") == plan.count("TEMP B-TREE FOR RIGHT PART"), plan
        else:
            assert "TEMP B-TREE" not in plan, plan
    db.set_trace_callback(None)
    catalog.close()
