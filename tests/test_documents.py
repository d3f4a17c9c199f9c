"""The documents beside the records (catalogql.search.documents) on every store."""

from __future__ import annotations

import threading

import pytest

from catalog_fixtures import Factory
from catalogql.errors import Conflict
from catalogql.search.documents import Document, documents


def _doc(id: str, *, parent: str | None = None, readers: tuple[str, ...] = ("user:a",)) -> Document:
    return Document("thing", id, parent, "user:a", readers, {"id": id, "list": [1, {"x": None}]})


def test_put_get_delete_and_list_filters(new_catalog: Factory) -> None:
    catalog = new_catalog()
    store = documents(catalog)
    assert store.get("thing", "a") is None
    store.put(_doc("a", readers=("group:g", "user:a")))
    store.put(_doc("b", parent="a"))
    store.put(_doc("c", parent="a", readers=("org:o",)))
    store.put(Document("other", "a", None, "user:b", ("group:g",), {}))
    found = store.get("thing", "a")
    assert found == _doc("a", readers=("group:g", "user:a"))
    assert [d.id for d in store.list("thing")] == ["a", "b", "c"]
    assert [d.id for d in store.list("thing", parent="a")] == ["b", "c"]
    assert [d.id for d in store.list("thing", readers=["group:g", "org:o"])] == ["a", "c"]
    assert [d.id for d in store.list("thing", readers=[])] == []
    assert [d.id for d in store.list("thing", after="a", limit=1)] == ["b"]
    assert [d.id for d in store.list("other", owner="user:b")] == ["a"]
    assert store.list("thing", owner="user:b") == []
    store.put(_doc("a", readers=("user:z",)))  # replaces
    assert store.get("thing", "a") == _doc("a", readers=("user:z",))
    assert store.delete("thing", "a") is True
    assert store.delete("thing", "a") is False
    assert store.get("thing", "a") is None
    assert len(catalog) == 0  # never records


def test_create_refuses_an_existing_id_and_a_unit_rolls_back_whole(new_catalog: Factory) -> None:
    catalog = new_catalog()
    store = documents(catalog)
    store.put(_doc("a"), create=True)
    with pytest.raises(Conflict):
        store.put(_doc("a"), create=True)
    with pytest.raises(KeyError), catalog.transaction():
        store.put(_doc("b"))
        assert store.get("thing", "b") == _doc("b")  # a unit reads its own writes
        assert [d.id for d in store.list("thing")] == ["a", "b"]
        store.delete("thing", "a")
        raise KeyError("later")
    assert [d.id for d in store.list("thing")] == ["a"]


def test_a_returned_document_is_a_copy(new_catalog: Factory) -> None:
    store = documents(new_catalog())
    store.put(_doc("a"))
    found = store.get("thing", "a")
    assert found is not None
    found.body["list"].append(2)
    assert store.get("thing", "a") == _doc("a")


def test_concurrent_creates_of_one_id_one_wins(new_catalog: Factory) -> None:
    store = documents(new_catalog())
    barrier = threading.Barrier(6)
    outcomes: list[str] = []

    def create(i: int) -> None:
        barrier.wait()
        try:
            with store.catalog.transaction():
                if store.get("thing", "x", lock=True) is None:
                    store.put(_doc("x"), create=True)
            outcomes.append("ok")
        except Conflict:
            outcomes.append("409")

    threads = [threading.Thread(target=create, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("ok") >= 1
    assert [d.id for d in store.list("thing")] == ["x"]
    assert set(outcomes) <= {"409", "ok"} and len(outcomes) == 6
