"""The catalog service (SPEC section 7): products and bands over a catalog, per principal.

Open one with :func:`open_service` on any store (``memory://``, ``sqlite:///…``,
``postgresql://…``); each call takes the :class:`Principal` acting, and every permission is
decided by :func:`catalogql.service.access.authorize`. The service's objects live in the same
database as the catalog's records, and each write runs in the catalog's unit of work.

>>> import catalogql as cq
>>> svc = cq.open_service("memory://")
>>> alice = cq.Principal("alice", groups=["team"])
>>> pid = svc.add_product(alice, "landcover", title="Land cover", description="")["id"]
>>> _ = svc.add_band(alice, pid, "red", srcband=1, dtype="UInt16", data_range=[0, 10000],
...                  type="spectral")
>>> [b["id"] for b in svc.list_bands(alice, pid)[0]] == [f"{pid}:red"]
True
>>> svc.get_product(cq.Principal("mallory"), pid)  # doctest: +ELLIPSIS
Traceback (most recent call last):
  ...
catalogql.errors.NotFound: product '...' not found (hint: check the id; ids of products are \
namespaced: <namespace>:<name>)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from catalogql.search import Catalog, open_catalog
from catalogql.search.request import SearchRequest
from catalogql.service import bands, metadata, products
from catalogql.service.access import visible_names
from catalogql.service.principals import Principal
from catalogql.service.products import ProductHook

__all__ = ["Principal", "ProductHook", "Service", "open_service"]


class Service:
    """The catalog service on one catalog (see the module docstring).

    Attributes:
        catalog: The catalog its objects and records live in.
        storage: The folder uploaded files go to (None until uploads exist).
        hooks: What follows a product's removal and grants beyond its documents (images'
            search records, added by the layers to come).
    """

    def __init__(
        self,
        catalog: Catalog,
        storage: str | Path | None = None,
        hooks: Sequence[ProductHook] = (),
    ) -> None:
        self.catalog = catalog
        self.storage = None if storage is None else Path(storage)
        self.hooks: list[ProductHook] = list(hooks)
        self._secret: bytes | None = None  # the catalog's token secret, read once

    # -- products ----------------------------------------------------------------------------

    def add_product(self, principal: Principal, product_id: str, **fields: Any) -> dict[str, Any]:
        """Create a product (:func:`catalogql.service.products.add_product`).

        >>> svc = open_service("memory://")
        >>> svc.add_product(Principal("a"), "p", title="P", description="")["title"]
        'P'
        """
        return products.add_product(self.catalog, principal, product_id, **fields)

    def get_product(self, principal: Principal, product_id: str) -> dict[str, Any]:
        """A product (:func:`catalogql.service.products.get_product`).

        >>> svc, a = open_service("memory://"), Principal("a")
        >>> svc.get_product(a, svc.add_product(a, "p", title="P", description="")["id"])["title"]
        'P'
        """
        return products.get_product(self.catalog, principal, product_id)

    def list_products(
        self,
        principal: Principal,
        *,
        owned: bool = False,
        owner: str | None = None,
        limit: int = 100,
        continuation: str | None = None,
    ) -> tuple[list[dict[str, Any]], str | None]:
        """The products a principal may read, paged (:func:`.products.list_products`).

        >>> open_service("memory://").list_products(Principal("a"))
        ([], None)
        """
        return products.list_products(
            self.catalog,
            principal,
            owned=owned,
            owner=owner,
            limit=limit,
            continuation=continuation,
        )

    def change_product(
        self,
        principal: Principal,
        product_id: str,
        *,
        set_global_permissions: bool = False,
        **fields: Any,
    ) -> dict[str, Any]:
        """Change the given fields (:func:`catalogql.service.products.change_product`).

        >>> svc, a = open_service("memory://"), Principal("a")
        >>> pid = svc.add_product(a, "p", title="P", description="")["id"]
        >>> svc.change_product(a, pid, notes="n")["notes"]
        'n'
        """
        return products.change_product(
            self.catalog,
            principal,
            product_id,
            set_global_permissions=set_global_permissions,
            hooks=self.hooks,
            **fields,
        )

    def replace_product(
        self,
        principal: Principal,
        product_id: str,
        *,
        set_global_permissions: bool = False,
        **fields: Any,
    ) -> dict[str, Any]:
        """Replace every field (:func:`catalogql.service.products.replace_product`).

        >>> svc, a = open_service("memory://"), Principal("a")
        >>> pid = svc.add_product(a, "p", title="P", description="", notes="n")["id"]
        >>> "notes" in svc.replace_product(a, pid, title="P", description="")
        False
        """
        return products.replace_product(
            self.catalog,
            principal,
            product_id,
            set_global_permissions=set_global_permissions,
            hooks=self.hooks,
            **fields,
        )

    def remove_product(
        self, principal: Principal, product_id: str, *, cascade: bool = False
    ) -> dict[str, Any] | None:
        """Remove a product (:func:`catalogql.service.products.remove_product`).

        >>> svc, a = open_service("memory://"), Principal("a")
        >>> pid = svc.add_product(a, "p", title="P", description="")["id"]
        >>> sorted(svc.remove_product(a, pid, cascade=True))
        ['deletion_task']
        """
        return products.remove_product(
            self.catalog, principal, product_id, cascade=cascade, hooks=self.hooks
        )

    def product_deletion_status(self, principal: Principal, task_id: str) -> dict[str, Any]:
        """A cascade deletion's status (:func:`.products.product_deletion_status`).

        >>> svc, a = open_service("memory://"), Principal("a")
        >>> pid = svc.add_product(a, "p", title="P", description="")["id"]
        >>> task = svc.remove_product(a, pid, cascade=True)["deletion_task"]
        >>> svc.product_deletion_status(a, task)["completed"]
        True
        """
        return products.product_deletion_status(self.catalog, principal, task_id)

    def set_global_permissions(self, principal: Principal, product_id: str) -> dict[str, Any]:
        """Copy a product's grants to its children (:func:`.products.set_global_permissions`).

        >>> svc, a = open_service("memory://"), Principal("a")
        >>> pid = svc.add_product(a, "p", title="P", description="")["id"]
        >>> svc.set_global_permissions(a, pid)["id"] == pid
        True
        """
        return products.set_global_permissions(
            self.catalog, principal, product_id, hooks=self.hooks
        )

    # -- bands -------------------------------------------------------------------------------

    def add_band(
        self, principal: Principal, product_id: str, name: str, **fields: Any
    ) -> dict[str, Any]:
        """Add a band (:func:`catalogql.service.bands.add_band`).

        >>> svc, a = open_service("memory://"), Principal("a")
        >>> pid = svc.add_product(a, "p", title="P", description="")["id"]
        >>> svc.add_band(a, pid, "red", srcband=1, dtype="Byte", data_range=[0, 255],
        ...              type="spectral")["nbits"]
        8
        """
        return bands.add_band(self.catalog, principal, product_id, name, **fields)

    def get_band(self, principal: Principal, product_id: str, name: str) -> dict[str, Any]:
        """A band (:func:`catalogql.service.bands.get_band`).

        >>> svc, a = open_service("memory://"), Principal("a")
        >>> pid = svc.add_product(a, "p", title="P", description="")["id"]
        >>> _ = svc.add_band(a, pid, "red", srcband=1, dtype="Byte", data_range=[0, 255],
        ...                  type="spectral")
        >>> svc.get_band(a, pid, "red")["srcband"]
        1
        """
        return bands.get_band(self.catalog, principal, product_id, name)

    def list_bands(
        self,
        principal: Principal,
        product_id: str,
        *,
        limit: int = 100,
        continuation: str | None = None,
    ) -> tuple[list[dict[str, Any]], str | None]:
        """A product's bands, paged (:func:`catalogql.service.bands.list_bands`).

        >>> svc, a = open_service("memory://"), Principal("a")
        >>> svc.list_bands(a, svc.add_product(a, "p", title="P", description="")["id"])
        ([], None)
        """
        return bands.list_bands(
            self.catalog, principal, product_id, limit=limit, continuation=continuation
        )

    def change_band(
        self, principal: Principal, product_id: str, name: str, **fields: Any
    ) -> dict[str, Any]:
        """Change the given fields of a band (:func:`catalogql.service.bands.change_band`).

        >>> svc, a = open_service("memory://"), Principal("a")
        >>> pid = svc.add_product(a, "p", title="P", description="")["id"]
        >>> _ = svc.add_band(a, pid, "red", srcband=1, dtype="Byte", data_range=[0, 255],
        ...                  type="spectral")
        >>> svc.change_band(a, pid, "red", nodata=0)["nodata"]
        0
        """
        return bands.change_band(self.catalog, principal, product_id, name, **fields)

    def replace_band(
        self, principal: Principal, product_id: str, name: str, **fields: Any
    ) -> dict[str, Any]:
        """Replace every field of a band (:func:`catalogql.service.bands.replace_band`).

        >>> svc, a = open_service("memory://"), Principal("a")
        >>> pid = svc.add_product(a, "p", title="P", description="")["id"]
        >>> _ = svc.add_band(a, pid, "red", srcband=1, dtype="Byte", data_range=[0, 255],
        ...                  type="spectral")
        >>> svc.replace_band(a, pid, "red", srcband=1, dtype="Byte", data_range=[0, 9],
        ...                  type="mask")["type"]
        'mask'
        """
        return bands.replace_band(self.catalog, principal, product_id, name, **fields)

    def remove_band(self, principal: Principal, product_id: str, name: str) -> None:
        """Remove a band (:func:`catalogql.service.bands.remove_band`).

        >>> svc, a = open_service("memory://"), Principal("a")
        >>> pid = svc.add_product(a, "p", title="P", description="")["id"]
        >>> _ = svc.add_band(a, pid, "red", srcband=1, dtype="Byte", data_range=[0, 255],
        ...                  type="spectral")
        >>> svc.remove_band(a, pid, "red")
        """
        bands.remove_band(self.catalog, principal, product_id, name)

    # -- searches ----------------------------------------------------------------------------

    def search(
        self, principal: Principal, request: SearchRequest | Mapping[str, Any]
    ) -> dict[str, Any]:
        """The GBDX search (SPEC section 5) over what the principal may read.

        The same answer as :meth:`Catalog.search <catalogql.search.Catalog.search>` with
        ``readers=`` :func:`~catalogql.service.access.visible_names` of the principal: the
        records of the products it may read and the records loaded for everyone.

        >>> svc = open_service("memory://")
        >>> svc.search(Principal("a"), {"types": ["UserImage"]})["stats"]["recordsReturned"]
        0
        """
        return self.catalog.search(request, readers=visible_names(principal))

    def get_record(self, principal: Principal, identifier: str) -> dict[str, Any]:
        """The search record with this identifier, if the principal may read it.

        Raises:
            RecordNotFound: There is none, or the principal may not read it (the same error).

        >>> open_service("memory://").get_record(Principal("a"), "nope")
        Traceback (most recent call last):
          ...
        catalogql.search.errors.RecordNotFound: Not Found: nope
        """
        return self.catalog.get_record(identifier, readers=visible_names(principal))

    def metadata_search(
        self, principal: Principal, body: object
    ) -> tuple[list[dict[str, Any]], str | None]:
        """One page of the Descartes Metadata search (:func:`.metadata.metadata_search`).

        Returns:
            The page's GeoJSON features and the continuation token (None on the last page).

        >>> open_service("memory://").metadata_search(Principal("a"), {"limit": 10})
        ([], None)
        """
        if self._secret is None:
            self._secret = metadata.catalog_secret(self.catalog)
        return metadata.metadata_search(self.catalog, principal, body, secret=self._secret)

    def summary(self, principal: Principal, body: object) -> dict[str, Any]:
        """The Descartes Metadata summary (:func:`.metadata.summary`).

        >>> open_service("memory://").summary(Principal("a"), {"products": ["ns:p"]})
        {'count': 0, 'bytes': 0, 'products': []}
        """
        return metadata.summary(self.catalog, principal, body)

    # -- the catalog -------------------------------------------------------------------------

    def close(self) -> None:
        """Close the catalog.

        >>> open_service("memory://").close()
        """
        self.catalog.close()

    def __enter__(self) -> Service:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Service on {self.catalog.url}>"


def open_service(url: str | Catalog, storage: str | Path | None = None, **options: Any) -> Service:
    """The catalog service on the catalog at ``url`` (created if missing), or on an open catalog.

    Args:
        url: ``memory://``, ``sqlite:///path``, ``postgresql://…``, or a :class:`Catalog`.
        storage: The folder uploaded files are stored in (used by uploads, to come).
        **options: Passed to :func:`catalogql.search.open_catalog`.

    >>> open_service("memory://")
    <Service on memory://>
    """
    options.setdefault("create", True)
    catalog = url if isinstance(url, Catalog) else open_catalog(url, **options)
    return Service(catalog, storage)
