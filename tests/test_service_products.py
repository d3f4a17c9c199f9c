"""The catalog service's products and bands (SPEC section 7) on every store.

Every permission rule as a table (principal x action -> outcome), ids, paging, conflicts,
cascade deletion tasks, and the unit of work the service's writes run in.
"""

from __future__ import annotations

import dataclasses
import pickle
import threading
from collections.abc import Callable
from typing import Any

import pytest

import catalogql as cq
from catalog_fixtures import DURABLE_STORES, Factory
from catalogql.errors import CatalogqlError, Conflict, Forbidden, InvalidInput, NotFound
from catalogql.search import open_catalog
from catalogql.service import Principal, Service
from catalogql.service.principals import namespace_of

OWNER = Principal("alice")
WRITER = Principal("wendy", groups=["editors"])
READER = Principal("rita", email="r@x.org")
ORG_READER = Principal("olga", org="acme")
STRANGER = Principal("mallory", email="m@evil.example", groups=["other"], org="evil")
PRINCIPALS = {
    "owner": OWNER,
    "writer": WRITER,
    "reader": READER,
    "org": ORG_READER,
    "stranger": STRANGER,
}

BAND = {"srcband": 1, "dtype": "UInt16", "data_range": [0, 10000], "type": "spectral"}


def _product(svc: Service, name: str) -> str:
    product = svc.add_product(
        OWNER,
        name,
        title=name,
        description="a product of the table",
        writers=["group:editors"],
        read=["email:r@x.org", "org:acme"],
    )
    svc.add_band(OWNER, product["id"], "red", **BAND)
    return str(product["id"])


Action = Callable[[Service, Principal, str], Any]

ACTIONS: dict[str, Action] = {
    "get_product": lambda s, p, pid: s.get_product(p, pid),
    "change_product": lambda s, p, pid: s.change_product(p, pid, title="changed"),
    "change_owners": lambda s, p, pid: s.change_product(p, pid, owners=[OWNER.user, p.user]),
    "replace_product": lambda s, p, pid: s.replace_product(
        p, pid, title="t", description="d", writers=["group:editors"], read=["org:acme"]
    ),
    "set_global_permissions": lambda s, p, pid: s.set_global_permissions(p, pid),
    "remove_product": lambda s, p, pid: s.remove_product(p, pid, cascade=True),
    "add_band": lambda s, p, pid: s.add_band(p, pid, "nir", **{**BAND, "srcband": 2}),
    "get_band": lambda s, p, pid: s.get_band(p, pid, "red"),
    "list_bands": lambda s, p, pid: s.list_bands(p, pid),
    "change_band": lambda s, p, pid: s.change_band(p, pid, "red", description="x"),
    "replace_band": lambda s, p, pid: s.replace_band(p, pid, "red", **BAND),
    "remove_band": lambda s, p, pid: s.remove_band(p, pid, "red"),
}

# SPEC section 7: owner and writers write; owner, writers and read principals read; who cannot
# read gets 404 (as for no product), a reader who writes gets 403; owners change and removal
# need an owner.
RULES = """
action                  owner  writer  reader  org  stranger
get_product             ok     ok      ok      ok   404
change_product          ok     ok      403     403  404
change_owners           ok     403     403     403  404
replace_product         ok     ok      403     403  404
set_global_permissions  ok     ok      403     403  404
remove_product          ok     403     403     403  404
add_band                ok     ok      403     403  404
get_band                ok     ok      ok      ok   404
list_bands              ok     ok      ok      ok   404
change_band             ok     ok      403     403  404
replace_band            ok     ok      403     403  404
remove_band             ok     ok      403     403  404
"""


def _rules() -> list[tuple[str, str, str]]:
    lines = [line.split() for line in RULES.strip().splitlines()]
    header, rows = lines[0][1:], lines[1:]
    return [
        (row[0], who, outcome) for row in rows for who, outcome in zip(header, row[1:], strict=True)
    ]


def _outcome(action: Action, svc: Service, principal: Principal, pid: str) -> str:
    try:
        action(svc, principal, pid)
    except NotFound:
        return "404"
    except Forbidden:
        return "403"
    return "ok"


def test_every_rule_of_the_permission_table(new_catalog: Factory) -> None:
    svc = Service(new_catalog())
    wrong = []
    rules = _rules()
    assert len(rules) == len(ACTIONS) * len(PRINCIPALS)
    for index, (action, who, expected) in enumerate(rules):
        pid = _product(svc, f"p{index}")
        got = _outcome(ACTIONS[action], svc, PRINCIPALS[who], pid)
        if got != expected:
            wrong.append(f"{who} {action}: expected {expected}, got {got}")
        if got == "404" or got == "403":  # a refusal changes nothing
            assert svc.get_product(OWNER, pid)["title"] == f"p{index}"
            assert [b["name"] for b in svc.list_bands(OWNER, pid)[0]] == ["red"]
    assert not wrong, "\n".join(wrong)


def test_a_hidden_product_answers_exactly_as_a_missing_one(new_catalog: Factory) -> None:
    svc = Service(new_catalog())
    pid = _product(svc, "secret")
    for action in ACTIONS.values():
        with pytest.raises(NotFound) as hidden:
            action(svc, STRANGER, pid)
        with pytest.raises(NotFound) as missing:
            action(svc, STRANGER, pid + "x")
        assert hidden.value.status == missing.value.status == 404
        assert hidden.value.to_body() == {
            **missing.value.to_body(),
            "message": missing.value.to_body()["message"].replace(pid + "x", pid),
        }


def test_the_list_shows_what_each_principal_may_read(new_catalog: Factory) -> None:
    svc = Service(new_catalog())
    shared = _product(svc, "shared")
    private = svc.add_product(OWNER, "private", title="p", description="")["id"]
    own = svc.add_product(STRANGER, "theirs", title="t", description="")["id"]
    seen = {who: {p["id"] for p in svc.list_products(p)[0]} for who, p in PRINCIPALS.items()}
    assert seen == {
        "owner": {shared, private},
        "writer": {shared},
        "reader": {shared},
        "org": {shared},
        "stranger": {own},
    }
    assert {p["id"] for p in svc.list_products(OWNER, owned=True)[0]} == {shared, private}
    assert [p["id"] for p in svc.list_products(WRITER, owned=True)[0]] == []
    assert [p["id"] for p in svc.list_products(READER, owner=OWNER.user)[0]] == [shared]
    assert [p["id"] for p in svc.list_products(OWNER, owner=STRANGER.user)[0]] == []


def test_grants_take_effect_when_changed(new_catalog: Factory) -> None:
    svc = Service(new_catalog())
    pid = svc.add_product(OWNER, "p", title="p", description="")["id"]
    with pytest.raises(NotFound):
        svc.get_product(READER, pid)
    svc.change_product(OWNER, pid, read=["email:r@x.org"])
    assert svc.get_product(READER, pid)["read"] == ["email:r@x.org"]
    assert [p["id"] for p in svc.list_products(READER)[0]] == [pid]
    svc.change_product(OWNER, pid, read=None)  # None clears: back to the default
    with pytest.raises(NotFound):
        svc.get_product(READER, pid)
    assert svc.get_product(OWNER, pid)["read"] == []


# -- ids ----------------------------------------------------------------------------------------


def test_product_and_band_ids_are_namespaced(new_catalog: Factory) -> None:
    svc = Service(new_catalog())
    acme = Principal("google-oauth2|111111111111111111111", org="acme")
    ns = "ab1a00c82b5e0cc5bf3bf2b8013ebcad8f1f7db1"  # WIRE.md's <ns>
    assert acme.namespace == namespace_of(acme.sub) == ns
    assert acme.user == f"user:{ns}"
    assert svc.add_product(acme, "wiretest", title="t", description="")["id"] == f"{ns}:wiretest"
    assert svc.add_product(acme, f"{ns}:other", title="t", description="")["id"] == f"{ns}:other"
    assert svc.add_product(acme, "acme:shared", title="t", description="")["id"] == "acme:shared"
    # someone else's namespace is not kept: it becomes part of the name
    foreign = svc.add_product(OWNER, "acme:x", title="t", description="")["id"]
    assert foreign == f"{OWNER.namespace}:acme:x"
    band = svc.add_band(acme, f"{ns}:wiretest", "red", **BAND)
    assert band["id"] == f"{ns}:wiretest:red"
    assert band["product"] == f"{ns}:wiretest" and band["name"] == "red"


def test_a_duplicate_product_or_band_is_a_conflict(new_catalog: Factory) -> None:
    svc = Service(new_catalog())
    pid = svc.add_product(OWNER, "p", title="p", description="")["id"]
    with pytest.raises(Conflict) as error:
        svc.add_product(OWNER, "p", title="again", description="")
    assert error.value.status == 409 and pid in error.value.message
    svc.add_band(OWNER, pid, "red", **BAND)
    with pytest.raises(Conflict):
        svc.add_band(OWNER, pid, "red", **BAND)
    assert svc.get_product(OWNER, pid)["title"] == "p"


def test_two_writers_adding_the_same_product_one_wins(new_catalog: Factory) -> None:
    catalog = new_catalog()
    svc = Service(catalog)
    outcomes: list[str] = []
    barrier = threading.Barrier(4)

    def add(title: str) -> None:
        barrier.wait()
        try:
            svc.add_product(OWNER, "race", title=title, description="")
            outcomes.append("ok")
        except Conflict:
            outcomes.append("409")

    threads = [threading.Thread(target=add, args=(f"t{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["409", "409", "409", "ok"]
    assert len(svc.list_products(OWNER)[0]) == 1


# -- defaults and fields ------------------------------------------------------------------------


def test_products_carry_every_field_and_the_defaults(new_catalog: Factory) -> None:
    svc = Service(new_catalog())
    fields = {
        "read": ["group:public", "email:friend@example.com"],
        "writers": ["org:acme"],
        "start_datetime": "2020-01-01",
        "end_datetime": "2020-12-31",
        "resolution": "10m",
        "revisit": 5,
        "spectral_bands": 3,
        "native_bands": ["red", "green", "blue"],
        "tags": ["test"],
        "notes": "n",
        "orbit": "sun-synchronous",
        "processing_level": "L1C",
        "sensor": "MSI",
        "swath": 290,
    }
    product = svc.add_product(OWNER, "wiretest", title="Wire Test", description="d", **fields)
    assert {k: product[k] for k in fields} == fields
    assert product["owners"] == [OWNER.user] and product["owner_type"] == "user"
    assert product["modified"].endswith("Z")
    bare = svc.add_product(OWNER, "bare", title="t", description="")
    assert (bare["read"], bare["writers"]) == ([], [])
    document = cq.service.products.jsonapi("product", product)
    assert document["data"]["id"] == product["id"]
    assert document["data"]["attributes"]["title"] == "Wire Test"
    assert set(document["data"]["meta"]) == {"modified", "owner_type"}


def test_bands_carry_every_field_and_the_defaults(new_catalog: Factory) -> None:
    svc = Service(new_catalog())
    pid = svc.add_product(OWNER, "p", title="p", description="", read=["group:team"])["id"]
    fields = {  # WIRE.md #10
        "nodata": 0,
        "color": "Red",
        "default_range": [0, 4000],
        "physical_range": [0.0, 1.0],
        "data_unit": "reflectance",
        "wavelength_min": 600.0,
        "wavelength_max": 700.0,
        "wavelength_unit": "nm",
        "resolution": 10,
        "resolution_unit": "meters",
        "jpx_layer": 0,
        "srcfile": 0,
        "srcband": 1,
        "dtype": "UInt16",
        "data_range": [0, 10000],
        "type": "spectral",
    }
    band = svc.add_band(OWNER, pid, "red", **fields)
    assert {k: band[k] for k in fields} == fields
    assert band["nbits"] == 16
    assert band["read"] == ["group:team"] and band["owners"] == [OWNER.user]
    mask = svc.add_band(
        OWNER, pid, "mask", srcband=2, dtype="Byte", data_range=[0, 1], type="mask", nbits=1,
        colormap_name="viridis",
    )  # fmt: skip
    assert (mask["nbits"], mask["srcfile"], mask["jpx_layer"]) == (1, 0, 0)
    colormap = [[i, i, i, 255] for i in range(256)]
    classes = svc.add_band(
        OWNER, pid, "classes", srcband=3, dtype="Byte", data_range=[0, 255], type="class",
        colormap=colormap,
    )  # fmt: skip
    assert classes["colormap"] == colormap


# -- validation ---------------------------------------------------------------------------------

BAD_BANDS = [
    ({"dtype": "UInt8"}, "dtype", "service.choice"),
    ({"nbits": 9, "dtype": "Byte", "data_range": [0, 255]}, "nbits", "service.nbits"),
    ({"data_range": [0, 70000]}, "data_range[1]", "service.range"),
    ({"data_range": [-1, 100]}, "data_range[0]", "service.range"),
    ({"default_range": [0, 65536]}, "default_range[1]", "service.range"),
    ({"data_range": [0, "x"]}, "data_range[1]", "service.field"),
    ({"data_range": [10, 0]}, "data_range", "service.field"),
    ({"data_range": [0]}, "data_range", "service.field"),
    ({"colormap": [[0, 0, 0, 255]] * 255}, "colormap", "service.colormap"),
    ({"colormap": [[0, 0, 0]] * 256}, "colormap[0]", "service.colormap"),
    ({"colormap": [[0, 0, 0, 256]] * 256}, "colormap[0]", "service.colormap"),
    ({"colormap_name": "rainbowz"}, "colormap_name", "service.choice"),
    ({"type": "spectrall"}, "type", "service.choice"),
    ({"srcband": 0}, "srcband", "service.field"),
    ({"srcband": True}, "srcband", "service.field"),
    ({"srcband": None}, "srcband", "service.required"),
    ({"wavelength_min": float("nan")}, "wavelength_min", "service.field"),
    ({"read": ["team"]}, "read[0]", "service.grant-prefix"),
    ({"colour": "Red"}, "colour", "service.unknown-field"),
]


@pytest.mark.parametrize(("change", "field", "code"), BAD_BANDS, ids=[b[1] for b in BAD_BANDS])
def test_band_validation_names_the_field(change: dict[str, Any], field: str, code: str) -> None:
    svc = cq.open_service("memory://")
    pid = svc.add_product(OWNER, "p", title="p", description="")["id"]
    with pytest.raises(InvalidInput) as error:
        svc.add_band(OWNER, pid, "red", **{**BAND, **change})
    assert error.value.status == 400
    assert [(p.field, p.code) for p in error.value.problems] == [(field, code)]
    assert all(p.hint for p in error.value.problems)
    assert svc.list_bands(OWNER, pid) == ([], None)


def test_every_band_problem_is_listed_at_once() -> None:
    svc = cq.open_service("memory://")
    pid = svc.add_product(OWNER, "p", title="p", description="")["id"]
    with pytest.raises(InvalidInput) as error:
        svc.add_band(OWNER, pid, "red", srcband=0, dtype="Int8", data_range=[0], typ="x")
    fields = {p.field for p in error.value.problems}
    assert fields == {"srcband", "dtype", "data_range", "typ", "type"}
    assert "did you mean 'type'" in next(p.hint for p in error.value.problems if p.field == "typ")


def test_a_changed_band_is_checked_whole(new_catalog: Factory) -> None:
    svc = Service(new_catalog())
    pid = svc.add_product(OWNER, "p", title="p", description="")["id"]
    svc.add_band(OWNER, pid, "red", **BAND)
    with pytest.raises(InvalidInput) as error:
        svc.change_band(OWNER, pid, "red", dtype="Byte")  # data_range [0, 10000] no longer fits
    assert error.value.problems[0].field == "data_range[1]"
    changed = svc.change_band(OWNER, pid, "red", dtype="Byte", data_range=[0, 255])
    assert (changed["dtype"], changed["nbits"], changed["srcband"]) == ("Byte", 8, 1)
    assert svc.get_band(OWNER, pid, "red") == changed
    with pytest.raises(InvalidInput) as error:
        svc.change_band(OWNER, pid, "red", srcband=None)
    assert error.value.problems[0].field == "srcband"
    with pytest.raises(InvalidInput):
        svc.replace_band(OWNER, pid, "red", srcband=1, dtype="Byte", type="mask")


BAD_PRODUCTS = [
    ({"read": ["group:a", "friends"]}, "read[1]", "service.grant-prefix"),
    ({"writers": "org:acme"}, "writers", "service.grants"),
    ({"writers": ["group:"]}, "writers[0]", "service.grant-empty"),
    ({"title": 3}, "title", "service.field"),
    ({"title": None}, "title", "service.required"),
    ({"start_datetime": "yesterday"}, "start_datetime", "service.field"),
    (
        {"start_datetime": "2021-01-01", "end_datetime": "2020-01-01"},
        "end_datetime",
        "service.field",
    ),
    ({"spectral_bands": -1}, "spectral_bands", "service.field"),
    ({"native_bands": [1]}, "native_bands[0]", "service.field"),
    ({"tags": "x"}, "tags", "service.field"),
    ({"titel": "x"}, "titel", "service.unknown-field"),
    ({"id": "x"}, "id", "service.unknown-field"),
]


@pytest.mark.parametrize(
    ("change", "field", "code"), BAD_PRODUCTS, ids=[b[1] for b in BAD_PRODUCTS]
)
def test_product_validation_names_the_field(change: dict[str, Any], field: str, code: str) -> None:
    svc = cq.open_service("memory://")
    with pytest.raises(InvalidInput) as error:
        svc.add_product(OWNER, "p", **{"title": "t", "description": "", **change})
    assert [(p.field, p.code) for p in error.value.problems] == [(field, code)]
    assert svc.list_products(OWNER) == ([], None)


def test_grant_prefix_hint_lists_the_prefixes() -> None:
    svc = cq.open_service("memory://")
    with pytest.raises(InvalidInput) as error:
        svc.add_product(OWNER, "p", title="t", description="", read=["user:x", "everyone"])
    (problem,) = error.value.problems
    assert problem.field == "read[1]"
    for prefix in ("user:", "email:", "group:", "org:"):
        assert prefix in problem.hint


@pytest.mark.parametrize("bad", ["", "a/b", "a?b", "a#b", "a\nb", 3])
def test_ids_with_url_characters_are_refused(bad: Any) -> None:
    svc = cq.open_service("memory://")
    with pytest.raises(InvalidInput) as error:
        svc.add_product(OWNER, bad, title="t", description="")
    assert error.value.problems[0].field == "product_id"
    pid = svc.add_product(OWNER, "p", title="t", description="")["id"]
    with pytest.raises(InvalidInput) as error:
        svc.add_band(OWNER, pid, bad if bad else "a:b", **BAND)
    assert error.value.problems[0].field == "name"


def test_principals_are_validated() -> None:
    with pytest.raises(InvalidInput) as error:
        Principal("alice", groups=["ok", ""])
    assert error.value.problems[0].field == "groups[1]"
    with pytest.raises(InvalidInput):
        Principal("alice", groups="team")
    with pytest.raises(InvalidInput):
        Principal(None)  # type: ignore[arg-type]
    alice = Principal("alice", email="a@x", groups=["b", "a", "a"], org="acme")
    assert alice.groups == ("a", "b")
    assert alice.names == {alice.user, "email:a@x", "group:a", "group:b", "org:acme"}
    assert alice == Principal("alice", email="a@x", groups=["a", "b"], org="acme")
    assert cq.Principal is Principal and cq.open_service is not None and cq.Service is Service
    assert pickle.loads(pickle.dumps(alice)).names == alice.names  # crosses processes whole
    moved = dataclasses.replace(alice, org="other")
    assert "org:other" in moved.names and "org:acme" not in moved.names


# -- change and replace -------------------------------------------------------------------------


def test_change_touches_only_the_given_fields_and_replace_all(new_catalog: Factory) -> None:
    svc = Service(new_catalog())
    pid = svc.add_product(
        OWNER, "p", title="t", description="d", tags=["a"], notes="n", read=["group:g"]
    )["id"]
    changed = svc.change_product(OWNER, pid, notes="m")
    assert (changed["title"], changed["tags"], changed["notes"], changed["read"]) == (
        "t", ["a"], "m", ["group:g"],
    )  # fmt: skip
    replaced = svc.replace_product(OWNER, pid, title="T", description="D")
    assert "tags" not in replaced and "notes" not in replaced
    assert (replaced["read"], replaced["owners"]) == ([], [OWNER.user])
    assert svc.get_product(OWNER, pid) == replaced
    with pytest.raises(InvalidInput) as error:
        svc.replace_product(OWNER, pid, title="T")
    assert error.value.problems[0].field == "description"
    with pytest.raises(InvalidInput) as error:
        svc.change_product(OWNER, pid, owners=[])
    assert error.value.problems[0].field == "owners"


def test_set_global_permissions_copies_grants_to_bands(new_catalog: Factory) -> None:
    svc = Service(new_catalog())
    pid = svc.add_product(OWNER, "p", title="t", description="")["id"]
    svc.add_band(OWNER, pid, "red", **BAND)
    svc.change_product(OWNER, pid, read=["group:g"], writers=["org:o"])
    assert svc.get_band(OWNER, pid, "red")["read"] == []
    svc.change_product(OWNER, pid, read=["group:h"], set_global_permissions=True)
    band = svc.get_band(OWNER, pid, "red")
    assert (band["read"], band["writers"]) == (["group:h"], ["org:o"])
    svc.replace_product(
        OWNER, pid, title="t", description="", read=["email:e@x"], set_global_permissions=True
    )
    assert svc.get_band(OWNER, pid, "red")["read"] == ["email:e@x"]


# -- paging -------------------------------------------------------------------------------------


def test_lists_page_with_a_limit_and_a_continuation(new_catalog: Factory) -> None:
    svc = Service(new_catalog())
    made = [
        svc.add_product(OWNER, f"p{i:02d}", title="t", description="", read=["group:g"])["id"]
        for i in range(25)
    ]
    hidden = svc.add_product(STRANGER, "zz", title="t", description="")["id"]
    reader = Principal("r", groups=["g"])
    seen: list[str] = []
    token = None
    pages = 0
    while True:
        page, token = svc.list_products(reader, limit=10, continuation=token)
        seen.extend(p["id"] for p in page)
        pages += 1
        if token is None:
            break
    assert pages == 3 and seen == sorted(made) and hidden not in seen
    exact, token = svc.list_products(reader, limit=25)
    assert len(exact) == 25 and token is None
    pid = made[0]
    for i in range(5):
        svc.add_band(OWNER, pid, f"b{i}", **BAND)
    first, token = svc.list_bands(reader, pid, limit=3)
    rest, end = svc.list_bands(reader, pid, limit=3, continuation=token)
    assert [b["name"] for b in first + rest] == [f"b{i}" for i in range(5)] and end is None


@pytest.mark.parametrize("limit", [0, -1, 1001, "10", True, 2.5])
def test_a_bad_limit_is_a_400_on_limit(limit: Any) -> None:
    svc = cq.open_service("memory://")
    with pytest.raises(InvalidInput) as error:
        svc.list_products(OWNER, limit=limit)
    assert error.value.problems[0].field == "limit"


def test_a_bad_or_foreign_continuation_is_a_400() -> None:
    svc = cq.open_service("memory://")
    for i in range(3):
        pid = svc.add_product(OWNER, f"p{i}", title="t", description="")["id"]
        svc.add_band(OWNER, pid, f"b{i}", **BAND)
        svc.add_band(OWNER, pid, f"c{i}", **BAND)
    _, token = svc.list_products(OWNER, limit=1)
    assert token is not None
    _, band_token = svc.list_bands(OWNER, pid, limit=1)
    for bad in ("x", token[:-3], 42, band_token):
        with pytest.raises(InvalidInput) as error:
            svc.list_products(OWNER, limit=1, continuation=bad)  # type: ignore[arg-type]
        assert error.value.problems[0].field == "continuation"
    with pytest.raises(InvalidInput):
        svc.list_bands(OWNER, pid, continuation=token)


# -- removal ------------------------------------------------------------------------------------


def test_removal_is_refused_while_bands_exist_unless_cascade(new_catalog: Factory) -> None:
    svc = Service(new_catalog())
    pid = _product(svc, "p")
    svc.add_band(OWNER, pid, "nir", **{**BAND, "srcband": 2})
    with pytest.raises(InvalidInput) as error:  # 400, as the Descartes service answered
        svc.remove_product(OWNER, pid)
    assert error.value.status == 400 and "cascade" in error.value.problems[0].hint
    assert svc.get_product(OWNER, pid)["id"] == pid
    answer = svc.remove_product(OWNER, pid, cascade=True)
    assert answer is not None and set(answer) == {"deletion_task"}
    status = svc.product_deletion_status(OWNER, answer["deletion_task"])
    assert status["completed"] is True and status["product"] == pid
    assert status["response"]["deleted"] == 3 and status["response"]["failures"] == []
    for key in ("batches", "deleted", "failures", "total", "took", "version_conflicts"):
        assert key in status["response"]
    with pytest.raises(NotFound):
        svc.get_product(OWNER, pid)
    with pytest.raises(NotFound):
        svc.get_band(OWNER, pid, "red")
    with pytest.raises(NotFound):
        svc.product_deletion_status(STRANGER, answer["deletion_task"])
    with pytest.raises(NotFound):
        svc.product_deletion_status(OWNER, "no-such-task")
    # the name is free again, without bands
    again = svc.add_product(OWNER, "p", title="again", description="")
    assert again["id"] == pid and svc.list_bands(OWNER, pid) == ([], None)
    assert svc.remove_product(OWNER, pid) is None


def test_a_failed_cascade_leaves_everything_and_a_failed_task(
    new_catalog: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    svc = Service(new_catalog())
    pid = _product(svc, "p")

    class Broken:
        def permissions_changed(self, product_id: str, product: Any) -> int:
            return 0

        def remove_children(self, product_id: str) -> int:
            raise CatalogqlError("the image store is down")

    svc.hooks.append(Broken())
    tasks: list[str] = []
    real_uuid = cq.service.products.uuid.uuid4

    def uuid4() -> Any:
        made = real_uuid()
        tasks.append(made.hex)
        return made

    monkeypatch.setattr(cq.service.products.uuid, "uuid4", uuid4)
    with pytest.raises(CatalogqlError, match="image store is down"):
        svc.remove_product(OWNER, pid, cascade=True)
    assert svc.get_band(OWNER, pid, "red")["name"] == "red"  # rolled back whole
    status = svc.product_deletion_status(OWNER, tasks[0])
    assert status["completed"] is True
    assert status["response"]["failures"] == ["the image store is down"]


# -- the unit of work and persistence -----------------------------------------------------------


def test_service_writes_join_the_catalogs_unit_of_work(new_catalog: Factory) -> None:
    catalog = new_catalog()
    svc = Service(catalog)
    record = {
        "identifier": "r1",
        "type": ["X"],
        "properties": {"timestamp": "2020-01-01", "footprintWkt": "POINT(1 2)"},
    }
    with pytest.raises(KeyError), catalog.transaction():
        svc.add_product(OWNER, "p", title="t", description="")
        catalog.add_records([record])
        raise KeyError("something later failed")
    assert svc.list_products(OWNER) == ([], None) and len(catalog) == 0
    with catalog.transaction():
        pid = svc.add_product(OWNER, "p", title="t", description="")["id"]
        catalog.add_records([record])
    assert svc.get_product(OWNER, pid)["id"] == pid and len(catalog) == 1


@pytest.mark.parametrize("new_catalog", DURABLE_STORES, indirect=True)
def test_products_persist_across_reopening(new_catalog: Factory) -> None:
    catalog = new_catalog()
    svc = Service(catalog)
    pid = _product(svc, "kept")
    again = cq.open_service(catalog.url)
    try:
        assert again.get_product(READER, pid)["title"] == "kept"
        assert again.get_band(READER, pid, "red")["dtype"] == "UInt16"
        with pytest.raises(NotFound):
            again.get_product(STRANGER, pid)
    finally:
        again.close()


def test_documents_stay_out_of_the_records(new_catalog: Factory) -> None:
    catalog = new_catalog()
    svc = Service(catalog)
    _product(svc, "p")
    assert len(catalog) == 0
    assert catalog.search({})["stats"]["totalRecords"] == 0


def test_open_service_makes_a_catalog_on_any_url(tmp_path: Any) -> None:
    url = f"sqlite:///{tmp_path / 'service.db'}"
    with cq.open_service(url) as svc:
        pid = svc.add_product(OWNER, "p", title="t", description="")["id"]
    catalog = open_catalog(url, create=False)
    try:
        assert cq.open_service(catalog).get_product(OWNER, pid)["title"] == "t"
    finally:
        catalog.close()
