"""Products (SPEC section 7, WIRE.md section 3): add, get, list, change, replace, remove.

A product is a document of kind ``product`` in the catalog's documents
(:mod:`catalogql.search.documents`), so it commits in the catalog's unit of work. Its
attributes are the fields of :data:`PRODUCT_FIELDS`, plus ``owners`` (``["user:<namespace>"]``
of its creator unless given) and ``modified``; the functions return them flat, with ``id``::

    {"id": "<namespace>:landcover", "title": …, "description": …, "read": [], "writers": [],
     "owners": ["user:<namespace>"], …, "modified": "2026-01-01T00:00:00.000000Z",
     "owner_type": "user"}

(:func:`jsonapi` gives the JSON:API document the HTTP layer answers with.) Every permission is
decided by :func:`catalogql.service.access.authorize`: reading needs ``read``, changing needs
``write``, changing ``owners`` or removing the product needs ``own``.

What lives in a product (bands, images) is listed in :data:`CHILD_KINDS`; a
:class:`ProductHook` lets a later layer (images and their search records) take part in removal
and in :func:`set_global_permissions`, in the same unit of work.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from catalogql.errors import InvalidInput, NotFound, Problem
from catalogql.search.documents import Document, documents
from catalogql.search.engine import Catalog
from catalogql.service.access import Permission, authorize, not_found, readers
from catalogql.service.fields import (
    Check,
    check_fields,
    check_id_text,
    date,
    grants,
    integer,
    number_or_text,
    raise_problems,
    text,
    text_list,
)
from catalogql.service.paging import now, page
from catalogql.service.principals import Principal

__all__ = [
    "CHILD_KINDS",
    "DELETION_TASK",
    "PRODUCT",
    "PRODUCT_FIELDS",
    "ProductHook",
    "add_product",
    "change_product",
    "get_product",
    "jsonapi",
    "list_products",
    "load_product",
    "product_deletion_status",
    "product_id_for",
    "remove_product",
    "replace_product",
    "set_global_permissions",
]

PRODUCT = "product"
"""The document kind of products."""

DELETION_TASK = "deletion_task"
"""The document kind of cascade deletion tasks."""

CHILD_KINDS: tuple[str, ...] = ("band", "image")
"""Document kinds that live in a product (``parent`` = the product id): a product holding any
is not removed without ``cascade``; ``set_global_permissions`` copies grants to them."""

_GRANT_FIELDS = ("read", "writers", "owners")


def _native_bands(value: Any, field: str, problems: list[Problem]) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        return integer(0)(value, field, problems)
    return text_list(value, field, problems)


PRODUCT_FIELDS: dict[str, Check] = {
    "title": text,
    "description": text,
    "read": grants,
    "writers": grants,
    "owners": grants,
    "start_datetime": date,
    "end_datetime": date,
    "resolution": number_or_text,
    "revisit": number_or_text,
    "spectral_bands": integer(0),
    "native_bands": _native_bands,
    "tags": text_list,
    "notes": text,
    "orbit": text,
    "processing_level": text,
    "sensor": text,
    "swath": number_or_text,
}
"""Every field a product may have, with its check (SPEC section 7, WIRE.md section 3)."""

_DEFAULTS: dict[str, Any] = {"read": [], "writers": []}


class ProductHook(Protocol):
    """Something kept outside the product's documents that follows the product (images' records).

    Each method runs inside the unit of work of the operation that calls it.
    """

    def permissions_changed(self, product_id: str, product: Mapping[str, Any]) -> int:
        """The product's grants changed, or were copied to its children; follow them."""
        ...

    def remove_children(self, product_id: str) -> int:
        """The product is being removed with cascade: remove what belongs to it; how many."""
        ...


def product_id_for(principal: Principal, product_id: Any) -> str:
    """The final id of a new product: ``<namespace>:<name>`` unless already namespaced.

    An id that already starts with the principal's namespace or organisation (``acme:…``) is
    kept (SPEC section 7).

    >>> alice = Principal("alice", org="acme")
    >>> product_id_for(alice, "landcover") == f"{alice.namespace}:landcover"
    True
    >>> product_id_for(alice, "acme:landcover")
    'acme:landcover'
    >>> product_id_for(alice, "a/b")
    Traceback (most recent call last):
      ...
    catalogql.errors.InvalidInput: product_id 'a/b' contains a character ids may not hold \
(hint: use letters, digits, - _ . and : (no / ? # or control characters))
    """
    problems: list[Problem] = []
    check_id_text(product_id, "product_id", problems)
    raise_problems(problems)
    prefixes = [f"{principal.namespace}:"]
    if principal.org is not None:
        prefixes.append(f"{principal.org}:")
    for prefix in prefixes:
        if product_id.startswith(prefix) and len(product_id) > len(prefix):
            return str(product_id)
    return f"{principal.namespace}:{product_id}"


def _check_product(body: Mapping[str, Any]) -> dict[str, Any]:
    problems: list[Problem] = []
    checked = check_fields(body, PRODUCT_FIELDS, problems)
    start, end = checked.get("start_datetime"), checked.get("end_datetime")
    dated = not problems and isinstance(start, str) and isinstance(end, str)
    if dated and str(start)[:10] > str(end)[:10]:
        problems.append(
            Problem(
                "end_datetime",
                None,
                f"end_datetime {end!r} is before start_datetime {start!r}",
                "swap them, or correct one",
                "service.field",
            )
        )
    raise_problems(problems)
    return checked


def _required(checked: dict[str, Any], names: Sequence[str]) -> None:
    problems = [
        Problem(
            name,
            None,
            f"{name} is required",
            f"give {name} (a string)",
            "service.required",
        )
        for name in names
        if checked.get(name) is None
    ]
    raise_problems(problems)


def _result(document: Document) -> dict[str, Any]:
    return {"id": document.id, **document.body}


def _document(product_id: str, owner: str, body: dict[str, Any]) -> Document:
    return Document(PRODUCT, product_id, None, owner, readers(body), body)


def load_product(
    catalog: Catalog, principal: Principal, product_id: Any, need: Permission, *, lock: bool = False
) -> Document:
    """The product document, once ``principal`` is allowed ``need`` on it (else 404/403).

    >>> from catalogql.search import open_catalog
    >>> load_product(open_catalog("memory://"), Principal("a"), "x", "read")
    Traceback (most recent call last):
      ...
    catalogql.errors.NotFound: product 'x' not found (hint: check the id; ids of products are \
namespaced: <namespace>:<name>)
    """
    if not isinstance(product_id, str):
        raise not_found(PRODUCT, str(product_id))
    found = documents(catalog).get(PRODUCT, product_id, lock=lock)
    authorize(principal, None if found is None else found.body, need, product_id=product_id)
    assert found is not None
    return found


def add_product(
    catalog: Catalog, principal: Principal, product_id: str, **fields: Any
) -> dict[str, Any]:
    """Create a product owned by ``principal``; its attributes with the final ``id``.

    Args:
        catalog: Where it lives.
        principal: Its owner.
        product_id: Its name (namespaced by :func:`product_id_for`).
        **fields: ``title`` and ``description`` (required) and any of :data:`PRODUCT_FIELDS`.

    Raises:
        InvalidInput: A field is unknown or invalid (every problem named, e.g. ``read[1]``).
        Conflict: A product with this id exists (409).

    >>> from catalogql.search import open_catalog
    >>> catalog, alice = open_catalog("memory://"), Principal("alice")
    >>> p = add_product(catalog, alice, "landcover", title="Land cover", description="")
    >>> p["id"] == f"{alice.namespace}:landcover", p["read"], p["owners"] == [alice.user]
    (True, [], True)
    """
    final = product_id_for(principal, product_id)
    checked = _check_product(fields)
    _required(checked, ("title", "description"))
    body = {**_DEFAULTS, **{k: v for k, v in checked.items() if v is not None}}
    body.setdefault("owners", [principal.user])
    body["modified"] = now()
    body["owner_type"] = "user"
    document = _document(final, principal.user, body)
    with catalog.transaction():
        documents(catalog).put(document, create=True)
    return _result(document)


def get_product(catalog: Catalog, principal: Principal, product_id: str) -> dict[str, Any]:
    """A product's attributes, if ``principal`` may read it (else 404, as for no product).

    >>> from catalogql.search import open_catalog
    >>> catalog, alice = open_catalog("memory://"), Principal("alice")
    >>> pid = add_product(catalog, alice, "p", title="P", description="")["id"]
    >>> get_product(catalog, alice, pid)["title"]
    'P'
    """
    return _result(load_product(catalog, principal, product_id, "read"))


def list_products(
    catalog: Catalog,
    principal: Principal,
    *,
    owned: bool = False,
    owner: str | None = None,
    limit: int = 100,
    continuation: str | None = None,
) -> tuple[list[dict[str, Any]], str | None]:
    """The products ``principal`` may read (or owns), in id order, a page at a time.

    Args:
        catalog: Where they live.
        principal: Who asks: only products it may read are listed.
        owned: Only those it owns.
        owner: Only those among whose ``owners`` this name is (``user:<namespace>``; the
            Metadata ``products(owner=sub)`` filter once ``sub`` is made a name).
        limit: The page size, 1 to 1000.
        continuation: The token of the previous page, None for the first.

    Returns:
        The page's products and the continuation token of the next page (None on the last).

    >>> from catalogql.search import open_catalog
    >>> catalog, alice, bob = open_catalog("memory://"), Principal("alice"), Principal("bob")
    >>> for name in ("a", "b"):
    ...     _ = add_product(catalog, alice, name, title=name, description="", read=[bob.user])
    >>> _ = add_product(catalog, bob, "c", title="c", description="")
    >>> sorted(p["title"] for p in list_products(catalog, bob)[0])  # in id order: by namespace
    ['a', 'b', 'c']
    >>> [p["title"] for p in list_products(catalog, bob, owned=True)[0]]
    ['c']
    >>> sorted(p["title"] for p in list_products(catalog, bob, owner=alice.user)[0])
    ['a', 'b']
    """

    def keep(document: Document) -> bool:
        owners = document.body.get("owners") or ()
        return (not owned or not principal.names.isdisjoint(owners)) and (
            owner is None or owner in owners
        )

    scope = "products" + (":owned" if owned else "") + ("" if owner is None else f":{owner}")
    found, token = page(
        documents(catalog),
        PRODUCT,
        scope,
        limit=limit,
        continuation=continuation,
        readers=principal.names,
        keep=keep if owned or owner is not None else None,
    )
    return [_result(d) for d in found], token


def _write(
    catalog: Catalog,
    principal: Principal,
    product_id: str,
    fields: Mapping[str, Any],
    *,
    replace: bool,
    set_global: bool,
    hooks: Sequence[ProductHook],
) -> dict[str, Any]:
    checked = _check_product(fields)
    if replace:
        _required(checked, ("title", "description"))
    with catalog.transaction():
        old = load_product(catalog, principal, product_id, "write", lock=True)
        if replace:
            body = {**_DEFAULTS, **{k: v for k, v in checked.items() if v is not None}}
            body.setdefault("owners", old.body.get("owners"))
        else:
            body = dict(old.body)
            for name, value in checked.items():
                if value is None:
                    body.pop(name, None)
                    body.update({k: v for k, v in _DEFAULTS.items() if k == name})
                else:
                    body[name] = value
        if body.get("owners") != old.body.get("owners"):
            authorize(principal, old.body, "own", product_id=product_id)
            if not body.get("owners"):
                raise_problems(
                    [
                        Problem(
                            "owners",
                            None,
                            "a product needs at least one owner",
                            f"keep {principal.user!r} among owners",
                            "service.owners",
                        )
                    ]
                )
        body["modified"] = now()
        body["owner_type"] = old.body.get("owner_type", "user")
        document = _document(product_id, old.owner, body)
        documents(catalog).put(document)
        if set_global:
            _copy_grants(catalog, document, hooks)
        elif readers(body) != readers(old.body):
            for hook in hooks:  # who may read the product changed: its images' records follow
                hook.permissions_changed(product_id, body)
    return _result(document)


def change_product(
    catalog: Catalog,
    principal: Principal,
    product_id: str,
    *,
    set_global_permissions: bool = False,
    hooks: Sequence[ProductHook] = (),
    **fields: Any,
) -> dict[str, Any]:
    """Change only the given fields of a product (PATCH); None clears a field.

    Needs ``write`` (``own`` to change ``owners``). With ``set_global_permissions``, the new
    grants are copied to the product's bands and images (:func:`set_global_permissions`).

    >>> from catalogql.search import open_catalog
    >>> catalog, alice = open_catalog("memory://"), Principal("alice")
    >>> pid = add_product(catalog, alice, "p", title="P", description="d", tags=["x"])["id"]
    >>> changed = change_product(catalog, alice, pid, title="Q")
    >>> changed["title"], changed["description"], changed["tags"]
    ('Q', 'd', ['x'])
    """
    return _write(
        catalog,
        principal,
        product_id,
        fields,
        replace=False,
        set_global=set_global_permissions,
        hooks=hooks,
    )


def replace_product(
    catalog: Catalog,
    principal: Principal,
    product_id: str,
    *,
    set_global_permissions: bool = False,
    hooks: Sequence[ProductHook] = (),
    **fields: Any,
) -> dict[str, Any]:
    """Replace every field of a product (PUT): fields not given return to their defaults.

    ``title`` and ``description`` are required; ``owners`` is kept unless given.

    >>> from catalogql.search import open_catalog
    >>> catalog, alice = open_catalog("memory://"), Principal("alice")
    >>> pid = add_product(catalog, alice, "p", title="P", description="d", tags=["x"])["id"]
    >>> "tags" in replace_product(catalog, alice, pid, title="R", description="r")
    False
    """
    return _write(
        catalog,
        principal,
        product_id,
        fields,
        replace=True,
        set_global=set_global_permissions,
        hooks=hooks,
    )


def _children(catalog: Catalog, product_id: str, kind: str) -> list[Document]:
    store = documents(catalog)
    found: list[Document] = []
    after: str | None = None
    while batch := store.list(kind, parent=product_id, after=after, limit=1000):
        found.extend(batch)
        after = batch[-1].id
    return found


def _copy_grants(catalog: Catalog, product: Document, hooks: Sequence[ProductHook]) -> int:
    store = documents(catalog)
    copied = 0
    grants_of = {name: list(product.body.get(name) or []) for name in _GRANT_FIELDS}
    names = readers(product.body)
    for kind in CHILD_KINDS:
        for child in _children(catalog, product.id, kind):
            body = {**child.body, **grants_of, "modified": now()}
            store.put(Document(kind, child.id, child.parent, child.owner, names, body))
            copied += 1
    for hook in hooks:
        copied += hook.permissions_changed(product.id, product.body)
    return copied


def set_global_permissions(
    catalog: Catalog,
    principal: Principal,
    product_id: str,
    *,
    hooks: Sequence[ProductHook] = (),
) -> dict[str, Any]:
    """Copy a product's ``read``, ``writers`` and ``owners`` to its bands and images.

    Needs ``write`` on the product. Returns the product.

    >>> from catalogql.search import open_catalog
    >>> from catalogql.service.bands import add_band, get_band
    >>> catalog, alice = open_catalog("memory://"), Principal("alice")
    >>> pid = add_product(catalog, alice, "p", title="P", description="")["id"]
    >>> _ = add_band(catalog, alice, pid, "red", srcband=1, dtype="Byte", data_range=[0, 255],
    ...              type="spectral")
    >>> _ = change_product(catalog, alice, pid, read=["group:team"])
    >>> get_band(catalog, alice, pid, "red")["read"]
    []
    >>> _ = set_global_permissions(catalog, alice, pid)
    >>> get_band(catalog, alice, pid, "red")["read"]
    ['group:team']
    """
    with catalog.transaction():
        product = load_product(catalog, principal, product_id, "write", lock=True)
        _copy_grants(catalog, product, hooks)
    return _result(product)


def remove_product(
    catalog: Catalog,
    principal: Principal,
    product_id: str,
    *,
    cascade: bool = False,
    hooks: Sequence[ProductHook] = (),
) -> dict[str, Any] | None:
    """Remove a product (needs ``own``).

    Without ``cascade`` a product that holds bands or images is refused (400, as the Descartes
    service answered: ``BadRequestError`` in its client). With it, the removal runs as a
    deletion task: ``{"deletion_task": "<task id>"}`` is returned, and
    :func:`product_deletion_status` tells how it went. The task is recorded before the removal
    starts; the removal of the product, its children and the task's completion commit together.

    >>> from catalogql.search import open_catalog
    >>> catalog, alice = open_catalog("memory://"), Principal("alice")
    >>> pid = add_product(catalog, alice, "p", title="P", description="")["id"]
    >>> remove_product(catalog, alice, pid) is None
    True
    """
    if not cascade:
        with catalog.transaction():
            load_product(catalog, principal, product_id, "own", lock=True)
            for kind in CHILD_KINDS:
                if documents(catalog).list(kind, parent=product_id, limit=1):
                    raise InvalidInput(  # a 400, as the Descartes service answered (WIRE.md 3)
                        f"product {product_id!r} still holds {kind}s",
                        hint="remove them first, or remove the product with cascade=True",
                        code="product.not-empty",
                    )
            documents(catalog).delete(PRODUCT, product_id)
        return None
    product = load_product(catalog, principal, product_id, "own")
    task_id = uuid.uuid4().hex
    task_readers = tuple(sorted({principal.user, *(product.body.get("owners") or ())}))
    task = {"completed": False, "product": product_id, "created": now(), "task": {"total": 0}}
    store = documents(catalog)
    with catalog.transaction():
        store.put(Document(DELETION_TASK, task_id, None, principal.user, task_readers, task))
    started = now()
    try:
        with catalog.transaction():
            load_product(catalog, principal, product_id, "own", lock=True)
            deleted = 0
            for kind in CHILD_KINDS:
                for child in _children(catalog, product_id, kind):
                    deleted += store.delete(kind, child.id)
            for hook in hooks:
                deleted += hook.remove_children(product_id)
            deleted += store.delete(PRODUCT, product_id)
            done = {**task, "completed": True, "response": _response(deleted, started, [])}
            del done["task"]
            store.put(Document(DELETION_TASK, task_id, None, principal.user, task_readers, done))
    except Exception as error:
        failed = {**task, "completed": True, "response": _response(0, started, [str(error)])}
        del failed["task"]
        with catalog.transaction():
            store.put(Document(DELETION_TASK, task_id, None, principal.user, task_readers, failed))
        raise
    return {"deletion_task": task_id}


def _response(deleted: int, started: str, failures: list[str]) -> dict[str, Any]:
    """The deletion task's ``response`` (the shape WIRE.md section 3 documents)."""
    return {
        "batches": 1,
        "created": 0,
        "deleted": deleted,
        "failures": failures,
        "noops": 0,
        "requests_per_second": -1.0,
        "retries": {"bulk": 0, "search": 0},
        "throttled_millis": 0,
        "throttled_until_millis": 0,
        "timed_out": False,
        "took": 0,
        "total": deleted,
        "updated": 0,
        "version_conflicts": 0,
        "started": started,
        "finished": now(),
    }


def product_deletion_status(catalog: Catalog, principal: Principal, task_id: str) -> dict[str, Any]:
    """The status of a cascade deletion task, for whoever started it or owned the product.

    ``{"completed": bool, "product": id, "created": …, "response": {…}}`` once done
    (``response.failures`` lists what went wrong), ``"task": {…}`` instead while running.

    >>> from catalogql.search import open_catalog
    >>> catalog, alice = open_catalog("memory://"), Principal("alice")
    >>> pid = add_product(catalog, alice, "p", title="P", description="")["id"]
    >>> task = remove_product(catalog, alice, pid, cascade=True)["deletion_task"]
    >>> status = product_deletion_status(catalog, alice, task)
    >>> status["completed"], status["response"]["deleted"]
    (True, 1)
    """
    found = documents(catalog).get(DELETION_TASK, task_id) if isinstance(task_id, str) else None
    try:
        authorize(
            principal,
            None if found is None else {"read": list(found.readers)},
            "read",
            product_id=str(task_id),
            kind="deletion task",
        )
    except NotFound:
        raise not_found("deletion task", str(task_id)) from None
    assert found is not None
    return dict(found.body)


def jsonapi(kind: str, resource: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON:API document of a product, band or image (WIRE.md section 3).

    >>> jsonapi("product", {"id": "ns:p", "title": "P", "modified": "m", "owner_type": "user"})
    {'data': {'type': 'product', 'id': 'ns:p', 'attributes': {'title': 'P'}, 'meta': \
{'modified': 'm', 'owner_type': 'user'}}}
    """
    meta_names = ("modified", "owner_type")
    attributes = {k: v for k, v in resource.items() if k != "id" and k not in meta_names}
    meta = {k: resource[k] for k in meta_names if k in resource}
    return {"data": {"type": kind, "id": resource["id"], "attributes": attributes, "meta": meta}}


def child_id(product_id: str, key: str) -> str:
    """The id of a product's band or image: ``<product id>:<name or image key>``.

    >>> child_id("ns:landcover", "red")
    'ns:landcover:red'
    """
    return f"{product_id}:{key}"


def load_child(
    catalog: Catalog,
    principal: Principal,
    product_id: str,
    kind: str,
    key: Any,
    need: Permission,
    *,
    lock: bool,
) -> tuple[Document, Document]:
    """A product and one of its children (a band or an image), if ``principal`` may ``need``.

    A child's access is its product's (:func:`~catalogql.service.access.authorize`): someone
    who may not read the product gets the 404 a missing child gets.

    >>> from catalogql.search import open_catalog
    >>> load_child(open_catalog("memory://"), Principal("a"), "ns:p", "band", "red", "read",
    ...            lock=False)
    Traceback (most recent call last):
      ...
    catalogql.errors.NotFound: band 'ns:p:red' not found (hint: check the id; ids of products \
are namespaced: <namespace>:<name>)
    """
    product = documents(catalog).get(PRODUCT, product_id, lock=lock)
    ident = child_id(product_id, str(key))
    body = None if product is None else product.body
    authorize(principal, body, need, product_id=product_id, kind=kind, id=ident)
    assert product is not None
    child = documents(catalog).get(kind, ident) if isinstance(key, str) else None
    if child is None:
        raise not_found(kind, ident)
    return product, child


def list_children(
    catalog: Catalog,
    principal: Principal,
    product_id: str,
    kind: str,
    *,
    limit: int,
    continuation: str | None,
) -> tuple[list[Document], str | None]:
    """A page of a product's children of one kind, in id order (needs ``read`` on it).

    >>> from catalogql.search import open_catalog
    >>> catalog, alice = open_catalog("memory://"), Principal("alice")
    >>> pid = add_product(catalog, alice, "p", title="P", description="")["id"]
    >>> list_children(catalog, alice, pid, "band", limit=10, continuation=None)
    ([], None)
    """
    load_product(catalog, principal, product_id, "read")
    return page(
        documents(catalog),
        kind,
        f"{kind}s:{product_id}",
        limit=limit,
        continuation=continuation,
        parent=product_id,
    )
