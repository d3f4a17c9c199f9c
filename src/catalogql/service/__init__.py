"""The catalog service (SPEC section 7): products, bands, images and uploads, per principal.

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

import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from catalogql.errors import Problem, UsageError
from catalogql.search import Catalog, open_catalog
from catalogql.search.request import SearchRequest
from catalogql.service import bands, images, metadata, products, reads, uploads
from catalogql.service.access import visible_names
from catalogql.service.fields import raise_problems
from catalogql.service.principals import Principal
from catalogql.service.products import ProductHook
from catalogql.service.storage import FileStore

__all__ = ["MAX_UPLOAD_SIZE", "Principal", "ProductHook", "Service", "open_service"]

MAX_UPLOAD_SIZE = 2 << 30
"""The largest file an upload takes by default (2 GiB, SPEC section 8)."""


class Service:
    """The catalog service on one catalog (see the module docstring).

    Attributes:
        catalog: The catalog its objects and records live in.
        storage: The folder uploaded files go to: as given, else ``<database file>.files``
            beside a SQLite catalog, a new temporary folder for a memory catalog (made by the
            first upload); None (no uploads) for PostgreSQL unless given.
        hooks: What follows a product's removal and grants beyond its documents: the images'
            search records (:class:`~catalogql.service.images.ImageRecords`) first, then any
            given.
        upload_hook: Called at each upload's stages (:data:`catalogql.service.uploads.Hook`;
            tests crash or fail there).
        max_upload_size: The largest file an upload takes, in bytes.
    """

    def __init__(
        self,
        catalog: Catalog,
        storage: str | Path | None = None,
        hooks: Sequence[ProductHook] = (),
    ) -> None:
        self.catalog = catalog
        self.storage = _default_storage(catalog) if storage is None else Path(storage)
        self._temporary = storage is None and catalog.url.startswith("memory:")
        self.hooks: list[ProductHook] = [images.ImageRecords(catalog), *hooks]
        self.upload_hook: uploads.Hook | None = None
        self.max_upload_size = MAX_UPLOAD_SIZE
        self._files: FileStore | None = None
        self._secret: bytes | None = None  # the catalog's token secret, read once

    @property
    def files(self) -> FileStore:
        """The file storage (:class:`~catalogql.service.storage.FileStore`) at :attr:`storage`.

        >>> open_service("memory://").files  # doctest: +ELLIPSIS
        <FileStore at ...>
        """
        if self._files is None:
            if self.storage is None and self._temporary:
                self.storage = Path(tempfile.mkdtemp(prefix="catalogql-files-"))
            if self.storage is None:
                raise UsageError(
                    f"the service on {self.catalog.url} has no file storage",
                    hint="open it with storage=DIR (catalogql serve --storage DIR) to upload",
                )
            self._files = FileStore(self.storage)
        return self._files

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

    # -- images ------------------------------------------------------------------------------

    def add_image(
        self, principal: Principal, product_id: str, image_id: str, **fields: Any
    ) -> dict[str, Any]:
        """Add an image's metadata and its record (:func:`catalogql.service.images.add_image`).

        >>> svc, a = open_service("memory://"), Principal("a")
        >>> pid = svc.add_product(a, "p", title="P", description="")["id"]
        >>> svc.add_image(a, pid, "img", acquired="2020-01-01",
        ...               geometry="POINT (1 2)")["storage_state"]
        'available'
        """
        return images.add_image(self.catalog, principal, product_id, image_id, **fields)

    def get_image(self, principal: Principal, product_id: str, image_id: str) -> dict[str, Any]:
        """An image (:func:`catalogql.service.images.get_image`).

        >>> svc, a = open_service("memory://"), Principal("a")
        >>> pid = svc.add_product(a, "p", title="P", description="")["id"]
        >>> _ = svc.add_image(a, pid, "img", acquired="2020-01-01", geometry="POINT (1 2)")
        >>> svc.get_image(a, pid, "img")["acquired"]
        '2020-01-01'
        """
        return images.get_image(self.catalog, principal, product_id, image_id)

    def list_images(
        self,
        principal: Principal,
        product_id: str,
        *,
        limit: int = 100,
        continuation: str | None = None,
    ) -> tuple[list[dict[str, Any]], str | None]:
        """A product's images, paged (:func:`catalogql.service.images.list_images`).

        >>> svc, a = open_service("memory://"), Principal("a")
        >>> svc.list_images(a, svc.add_product(a, "p", title="P", description="")["id"])
        ([], None)
        """
        return images.list_images(
            self.catalog, principal, product_id, limit=limit, continuation=continuation
        )

    def change_image(
        self, principal: Principal, product_id: str, image_id: str, **fields: Any
    ) -> dict[str, Any]:
        """Change the given fields of an image (:func:`.images.change_image`).

        >>> svc, a = open_service("memory://"), Principal("a")
        >>> pid = svc.add_product(a, "p", title="P", description="")["id"]
        >>> _ = svc.add_image(a, pid, "img", acquired="2020-01-01", geometry="POINT (1 2)")
        >>> svc.change_image(a, pid, "img", cloud_fraction=0.5)["cloud_fraction"]
        0.5
        """
        return images.change_image(self.catalog, principal, product_id, image_id, **fields)

    def replace_image(
        self, principal: Principal, product_id: str, image_id: str, **fields: Any
    ) -> dict[str, Any]:
        """Replace every field of an image (:func:`.images.replace_image`).

        >>> svc, a = open_service("memory://"), Principal("a")
        >>> pid = svc.add_product(a, "p", title="P", description="")["id"]
        >>> _ = svc.add_image(a, pid, "img", acquired="2020-01-01", geometry="POINT (1 2)")
        >>> svc.replace_image(a, pid, "img", acquired="2021-01-01",
        ...                   geometry="POINT (1 2)")["acquired"]
        '2021-01-01'
        """
        return images.replace_image(self.catalog, principal, product_id, image_id, **fields)

    def remove_image(self, principal: Principal, product_id: str, image_id: str) -> None:
        """Remove an image and its record (:func:`.images.remove_image`; its file goes at gc).

        >>> svc, a = open_service("memory://"), Principal("a")
        >>> pid = svc.add_product(a, "p", title="P", description="")["id"]
        >>> _ = svc.add_image(a, pid, "img", acquired="2020-01-01", geometry="POINT (1 2)")
        >>> svc.remove_image(a, pid, "img")
        """
        images.remove_image(self.catalog, principal, product_id, image_id)

    # -- uploads -----------------------------------------------------------------------------

    def upload_image(
        self,
        principal: Principal,
        product_id: str,
        source: uploads.Source,
        *,
        image_id: str | None = None,
        upload_id: str | None = None,
        overwrite: bool = False,
        multi_file: Mapping[str, Any] | None = None,
        **metadata: Any,
    ) -> dict[str, Any]:
        """Upload a GeoTIFF as an image of a product; the upload's final status.

        Runs in the call (:func:`catalogql.service.uploads.begin_upload`, then
        :func:`~catalogql.service.uploads.run_upload`); its status passes through ``pending``
        and ``running`` to ``success`` or ``failure`` (with ``errors``), and a failure inside
        the upload is that status, never an exception. The request's own errors (the product,
        the metadata, an existing image without ``overwrite``) raise before any status exists.

        Args:
            principal: Who uploads (needs ``write`` on the product).
            product_id: The product.
            source: A path, the bytes, or a binary file object.
            image_id: The image key; default: the upload id without ``.tif``/``.tiff``.
            upload_id: The upload's id; default (the client's rule): ``image_id`` if given,
                else the source's base name (a path's, or a file object's ``name``); for a
                part of ``multi_file``, its base name.
            overwrite: Replace an existing image of this key (else 409).
            multi_file: ``{"image_files": [names…], "image_id": key}``: this file is one of
                several that make one image (see :mod:`catalogql.service.uploads`).
            **metadata: The image's fields (:data:`catalogql.service.images.IMAGE_FIELDS`);
                ``acquired`` is required. What the file says (geometry, raster_size, geotrans,
                cs_code, proj4, wkt_srs) replaces what is given for those.

        Returns:
            The status: ``{"id", "product", "image_id", "status", "errors", …}``.

        >>> svc, a = open_service("memory://"), Principal("a")
        >>> pid = svc.add_product(a, "p", title="P", description="")["id"]
        >>> svc.upload_image(a, pid, b"not a tiff", image_id="x",
        ...                  acquired="2020-01-01")["status"]
        'failure'
        """
        name = _source_name(source)
        if upload_id is None:
            upload_id = image_id if image_id is not None else name
        if upload_id is None:
            raise_problems(
                [
                    Problem(
                        "image_id",
                        None,
                        "an upload of bytes needs an image_id",
                        "give image_id='scene_001' (a path or a named file names itself)",
                        "service.required",
                    )
                ]
            )
        assert upload_id is not None
        if multi_file is not None and isinstance(multi_file, Mapping):
            key = multi_file.get("image_id")
            upload_id = name if name is not None else upload_id
        else:
            key = image_id if image_id is not None else uploads.image_key_of(upload_id)
        uploads.begin_upload(
            self.catalog,
            principal,
            product_id,
            upload_id,
            image_key=key if isinstance(key, str) else str(key),
            overwrite=overwrite,
            metadata=metadata,
            multi_file=multi_file,
        )
        return uploads.run_upload(
            self.catalog,
            self.files,
            principal,
            product_id,
            upload_id,
            source,
            hook=self.upload_hook,
            max_size=self.max_upload_size,
        )

    def upload_ndarray(
        self,
        principal: Principal,
        product_id: str,
        ndarray: Any,
        image_id: str,
        *,
        geotrans: Sequence[float],
        proj4: str | None = None,
        wkt_srs: str | None = None,
        overwrite: bool = False,
        **metadata: Any,
    ) -> dict[str, Any]:
        """Upload an array (``.npy`` bytes or numpy; bands on the last axis) as a GeoTIFF.

        The upload's id is ``<image_id>.tif`` (what the client asks ``upload_result`` for).

        >>> import numpy as np
        >>> svc, a = open_service("memory://"), Principal("a")
        >>> pid = svc.add_product(a, "p", title="P", description="")["id"]
        >>> status = svc.upload_ndarray(a, pid, np.zeros((8, 8, 2), dtype="uint16"), "nd",
        ...     geotrans=[-105.0, 0.001, 0.0, 40.1, 0.0, -0.001],
        ...     proj4="+proj=longlat +datum=WGS84 +no_defs", acquired="2020-10-01T00:00:00Z")
        >>> status["id"], status["status"], svc.get_image(a, pid, "nd")["raster_size"]
        ('nd.tif', 'success', [8, 8])
        """
        data = uploads.ndarray_geotiff(ndarray, geotrans=geotrans, proj4=proj4, wkt_srs=wkt_srs)
        return self.upload_image(
            principal,
            product_id,
            data,
            image_id=image_id,
            upload_id=f"{image_id}.tif",
            overwrite=overwrite,
            **metadata,
        )

    def upload_status(
        self, principal: Principal, product_id: str, upload_id: str
    ) -> dict[str, Any]:
        """An upload's status (:func:`catalogql.service.uploads.upload_status`).

        >>> svc, a = open_service("memory://"), Principal("a")
        >>> pid = svc.add_product(a, "p", title="P", description="")["id"]
        >>> _ = svc.upload_image(a, pid, b"x", image_id="x", acquired="2020-01-01")
        >>> svc.upload_status(a, pid, "x")["errors"][0]["code"]
        'upload.not-geotiff'
        """
        return uploads.upload_status(self.catalog, principal, product_id, upload_id)

    def list_uploads(
        self,
        principal: Principal,
        product_id: str,
        *,
        status: str | None = None,
        limit: int = 100,
        continuation: str | None = None,
    ) -> dict[str, Any]:
        """A product's uploads, WIRE.md's ``upload_results`` shape (:func:`.uploads.list_uploads`).

        >>> svc, a = open_service("memory://"), Principal("a")
        >>> pid = svc.add_product(a, "p", title="P", description="")["id"]
        >>> _ = svc.upload_image(a, pid, b"x", image_id="x", acquired="2020-01-01")
        >>> [u["attributes"]["status"] for u in svc.list_uploads(a, pid)["data"]]
        ['FAILURE']
        """
        return uploads.list_uploads(
            self.catalog,
            principal,
            product_id,
            status=status,
            limit=limit,
            continuation=continuation,
        )

    def gc(self) -> dict[str, Any]:
        """Recover from crashes and remove unreferenced files (also run on opening).

        Uploads whose process died end as ``failure`` (``upload.interrupted``); temporary files
        of dead processes go; then every stored file no image and no pending or running upload
        references goes (a scan, under the storage's lock held alone).

        Returns:
            ``{"interrupted_uploads": [...], "removed_files": [sha256, ...]}``.

        >>> open_service("memory://").gc()
        {'interrupted_uploads': [], 'removed_files': []}
        """
        interrupted = uploads.recover_uploads(self.catalog)
        if self.storage is None:
            return {"interrupted_uploads": interrupted, "removed_files": []}
        removed = self.files.collect(lambda: uploads.referenced_files(self.catalog))
        return {"interrupted_uploads": interrupted, "removed_files": removed}

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

    # -- the Metadata API's reads (WIRE.md section 4; :mod:`catalogql.service.reads`) ---------

    def image_by_id(self, principal: Principal, image_id: str) -> dict[str, Any]:
        """An image by its full id, flat with ``key`` (:func:`.reads.image_by_id`).

        >>> svc, a = open_service("memory://"), Principal("a")
        >>> pid = svc.add_product(a, "p", title="P", description="")["id"]
        >>> _ = svc.add_image(a, pid, "img", acquired="2020-01-01", geometry="POINT (1 2)")
        >>> svc.image_by_id(a, f"{pid}:img")["key"]
        'img'
        """
        return reads.image_by_id(self.catalog, principal, image_id)

    def images_by_ids(self, principal: Principal, body: object) -> list[dict[str, Any]]:
        """A ``batch/images`` body's images (:func:`.reads.images_by_ids`).

        >>> open_service("memory://").images_by_ids(Principal("a"), {"ids": ["ns:p:x"]})
        []
        """
        return reads.images_by_ids(self.catalog, principal, body)

    def band_by_id(self, principal: Principal, band_id: str) -> dict[str, Any]:
        """A band by its full id (:func:`.reads.band_by_id`).

        >>> svc, a = open_service("memory://"), Principal("a")
        >>> pid = svc.add_product(a, "p", title="P", description="")["id"]
        >>> _ = svc.add_band(a, pid, "red", srcband=1, dtype="Byte", data_range=[0, 255],
        ...                  type="spectral")
        >>> svc.band_by_id(a, f"{pid}:red")["name"]
        'red'
        """
        return reads.band_by_id(self.catalog, principal, band_id)

    def bands_of_product(self, principal: Principal, product_id: str) -> dict[str, Any]:
        """``{band id: band}`` of a product, ``{}`` if unknown (:func:`.reads.bands_of_product`).

        >>> open_service("memory://").bands_of_product(Principal("a"), "ns:p")
        {}
        """
        return reads.bands_of_product(self.catalog, principal, product_id)

    def bands_of_image(self, principal: Principal, image_id: str) -> dict[str, Any]:
        """``{band id: band}`` of an image's product (:func:`.reads.bands_of_image`).

        >>> svc, a = open_service("memory://"), Principal("a")
        >>> pid = svc.add_product(a, "p", title="P", description="")["id"]
        >>> _ = svc.add_image(a, pid, "img", acquired="2020-01-01", geometry="POINT (1 2)")
        >>> svc.bands_of_image(a, f"{pid}:img")
        {}
        """
        return reads.bands_of_image(self.catalog, principal, image_id)

    def search_products(
        self, principal: Principal, body: object
    ) -> tuple[list[dict[str, Any]], str | None]:
        """A ``products/search`` body's page and next token (:func:`.reads.search_products`).

        >>> open_service("memory://").search_products(Principal("a"), {"limit": 10})
        ([], None)
        """
        return reads.search_products(self.catalog, principal, body)

    def search_bands(self, principal: Principal, body: object) -> list[dict[str, Any]]:
        """A ``bands/search`` body's bands (:func:`.reads.search_bands`).

        >>> open_service("memory://").search_bands(Principal("a"), {"products": ["ns:p"]})
        []
        """
        return reads.search_bands(self.catalog, principal, body)

    def search_derived_bands(self, principal: Principal, body: object) -> list[dict[str, Any]]:
        """A ``bands/derived/search`` body's derived bands (:func:`.reads.search_derived_bands`).

        >>> [b["id"] for b in open_service("memory://").search_derived_bands(
        ...     Principal("a"), {"bands": ["red", "nir"], "require_bands": True})]
        ['derived:ndvi']
        """
        return reads.search_derived_bands(body)

    def derived_band(self, principal: Principal, band_id: str) -> dict[str, Any]:
        """A derived band by id (:func:`.reads.derived_band`).

        >>> open_service("memory://").derived_band(Principal("a"), "derived:ndwi")["bands"]
        ['green', 'nir']
        """
        return reads.derived_band(band_id)

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
        storage: The folder uploaded files are stored in (see :attr:`Service.storage`); when
            it holds files already, :meth:`Service.gc` runs (startup recovery).
        **options: Passed to :func:`catalogql.search.open_catalog`.

    >>> open_service("memory://")
    <Service on memory://>
    """
    options.setdefault("create", True)
    catalog = url if isinstance(url, Catalog) else open_catalog(url, **options)
    service = Service(catalog, storage)
    if service.storage is not None and (service.storage / "objects").is_dir():
        service.gc()  # startup recovery: interrupted uploads, temporary and unreferenced files
    return service


def _default_storage(catalog: Catalog) -> Path | None:
    if catalog.url.startswith("sqlite:"):
        from catalogql.search.stores.sqlite import sqlite_path

        path = sqlite_path(catalog.url)
        return None if path in ("", ":memory:") else Path(f"{path}.files")
    return None


def _source_name(source: uploads.Source) -> str | None:
    if isinstance(source, str | os.PathLike):
        return os.path.basename(os.fspath(source))
    name = getattr(source, "name", None)
    return os.path.basename(name) if isinstance(name, str) and name else None
