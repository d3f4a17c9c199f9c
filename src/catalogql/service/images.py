"""Images of a product (SPEC section 7, WIRE.md section 3), each also a search record.

An image is a document of kind ``image`` whose parent is its product; its id is
``<product id>:<image key>``. What a principal may do with it is what
:func:`catalogql.service.access.authorize` says for its product (reading needs ``read``,
everything else ``write``). Its attributes are the fields of :data:`IMAGE_FIELDS` (metadata as the
client sends it: ``acquired``, ``geometry``, ``cs_code``, ``raster_size``, ``geotrans``,
``files``, ``cloud_fraction``, ``extra_properties``, ``storage_state`` …), returned flat with
``id``, ``product``, ``modified`` and the grants of the product (``read``, ``writers``,
``owners``, which follow it on ``set_global_permissions``); an uploaded image also carries
what the upload found (``file_sha256s``, ``band_dtypes``, ``nodata``, ``band_count``), kept
across change and replace.

Each image is also a **search record**, written in the same unit of work as its document
(:meth:`Catalog.transaction`), so that both exist or neither does (:func:`image_record`):

- ``identifier``: the image id, ``<product id>:<image key>``;
- ``type``: ``["GBDXCatalogRecord", "UserImage", "<product id>"]``;
- ``properties``: every Descartes field under its record name (:data:`IMAGE_PROPERTIES`, the one
  table: ``timestamp`` = ``acquired``, ``cloudCover`` = 100 x ``cloud_fraction``; any other under
  its own name), ``footprintWkt`` (``geometry`` as WKT), ``product``, ``key``, ``bands`` (the
  product's band names, by ``srcband``), ``crs`` (``cs_code``), ``width`` and ``height``
  (``raster_size``), and the user's ``extra_properties`` beside them (a name the record already
  uses is refused);
- readers: the product's readers (:func:`catalogql.service.access.readers`). The record follows
  the product through :class:`ImageRecords`, the :class:`~catalogql.service.products.ProductHook`
  the service registers: new grants reach the records, a cascade removes them.

A record needs a time and a footprint: ``acquired`` and ``geometry`` are required.

>>> from catalogql.search import open_catalog
>>> from catalogql.service.products import add_product
>>> catalog, alice = open_catalog("memory://"), Principal("alice")
>>> pid = add_product(catalog, alice, "p", title="P", description="")["id"]
>>> image = add_image(catalog, alice, pid, "img_a", acquired="2020-03-01T10:00:00Z",
...     geometry={"type": "Point", "coordinates": [-105.0, 40.0]}, cloud_fraction=0.05)
>>> image["id"] == f"{pid}:img_a"
True
>>> record = catalog.get_record(image["id"])
>>> record["type"][2] == pid, record["properties"]["cloudCover"]
(True, 5.0)
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

from catalogql.errors import Conflict, Problem
from catalogql.search.documents import Document, documents
from catalogql.search.engine import Catalog
from catalogql.search.metadata_request import IMAGE_PROPERTIES, record_property
from catalogql.service.access import readers
from catalogql.service.fields import (
    Check,
    check_fields,
    check_id_text,
    date,
    grants,
    integer,
    json_value,
    number,
    raise_problems,
    text,
    text_list,
)
from catalogql.service.paging import now
from catalogql.service.principals import Principal
from catalogql.service.products import child_id, list_children, load_child, load_product

__all__ = [
    "IMAGE",
    "IMAGE_FIELDS",
    "RECORD_TYPES",
    "SERVER_FIELDS",
    "ImageRecords",
    "add_image",
    "change_image",
    "check_image",
    "get_image",
    "image_id",
    "image_record",
    "list_images",
    "remove_image",
    "replace_image",
    "write_image",
]

IMAGE = "image"
"""The document kind of images."""

RECORD_TYPES = ("GBDXCatalogRecord", "UserImage")
"""The type labels of every image's record (before the product id)."""


def _fraction(value: Any, field: str, problems: list[Problem]) -> Any:
    inner: list[Problem] = []
    number(value, field, inner)
    if inner or not 0 <= value <= 1:
        problems.append(
            Problem(
                field,
                None,
                f"{field} must be a number from 0 to 1, not {value!r}",
                f"give a fraction such as 0.05 (5%), or leave {field} out",
                "service.field",
            )
        )
    return value


def _numbers(count: int | None) -> Check:
    def check(value: Any, field: str, problems: list[Problem]) -> Any:
        if not isinstance(value, list | tuple) or (count is not None and len(value) != count):
            size = "a list of numbers" if count is None else f"a list of {count} numbers"
            problems.append(
                Problem(
                    field,
                    None,
                    f"{field} must be {size}, not {value!r}",
                    "e.g. [0, 1]",
                    "service.field",
                )
            )
            return value
        for index, item in enumerate(value):
            number(item, f"{field}[{index}]", problems)
        return list(value)

    return check


def _raster_size(value: Any, field: str, problems: list[Problem]) -> Any:
    if not isinstance(value, list | tuple) or len(value) != 2:
        problems.append(
            Problem(
                field,
                None,
                f"{field} must be [width, height], not {value!r}",
                "give two positive integers, e.g. [16, 16]",
                "service.field",
            )
        )
        return value
    for index, item in enumerate(value):
        integer(1)(item, f"{field}[{index}]", problems)
    return list(value)


def _storage_state(value: Any, field: str, problems: list[Problem]) -> Any:
    if value not in ("available", "remote"):
        problems.append(
            Problem(
                field,
                None,
                f"{field} must be 'available' or 'remote', not {value!r}",
                "give available (the file is stored here) or remote",
                "service.field",
            )
        )
    return value


def _geometry(value: Any, field: str, problems: list[Problem]) -> Any:
    """A GeoJSON geometry (or Feature) object, its JSON text, or WKT; stored as GeoJSON."""
    import shapely
    import shapely.geometry

    shape: Any = None
    error = ""
    try:
        parsed = value
        if isinstance(value, str):
            stripped = value.lstrip()
            parsed = json.loads(value) if stripped.startswith("{") else None
            if parsed is None:
                shape = shapely.from_wkt(value)
        if shape is None:
            if isinstance(parsed, Mapping) and parsed.get("type") == "Feature":
                parsed = parsed.get("geometry")
            if not isinstance(parsed, Mapping):
                raise ValueError("not a GeoJSON object")
            shape = shapely.geometry.shape(parsed)
    except Exception as caught:  # shapely and json raise many kinds; each is a bad input
        error = str(caught) or type(caught).__name__
        shape = None
    if shape is None or shape.is_empty or not _finite_lonlat(shape):
        reason = error or "it is empty, or not in lon/lat (-180..180, -90..90)"
        problems.append(
            Problem(
                field,
                None,
                f"{field} is not a geometry: {reason}",
                'give a GeoJSON geometry in lon/lat, e.g. {"type": "Point", "coordinates": '
                "[-105.0, 40.0]}, its JSON text, or WKT",
                "service.geometry",
            )
        )
        return value
    return json.loads(json.dumps(shapely.geometry.mapping(shape)))


def _finite_lonlat(shape: Any) -> bool:
    west, south, east, north = shape.bounds
    return all(map(math.isfinite, shape.bounds)) and (
        -180 <= west <= east <= 180 and -90 <= south <= north <= 90
    )


def _extra(value: Any, field: str, problems: list[Problem]) -> Any:
    if not isinstance(value, Mapping):
        problems.append(
            Problem(
                field,
                None,
                f"{field} must be a JSON object, not {value!r}",
                'e.g. {"tile": "img_a", "score": 3}',
                "service.field",
            )
        )
        return value
    for name in value:
        if not isinstance(name, str) or not name or name in _RECORD_NAMES:
            problems.append(
                Problem(
                    f"{field}.{name}",
                    None,
                    f"{field}.{name} is not a name an image's extra property may have: the "
                    "record uses it, or it is empty",
                    f"rename it (the record's own names: {', '.join(sorted(_RECORD_NAMES))})",
                    "service.extra-property",
                )
            )
    return dict(value)


IMAGE_FIELDS: dict[str, Check] = {
    "acquired": date,
    "acquired_end": date,
    "processed": date,
    "published": date,
    "geometry": _geometry,
    "cs_code": text,
    "proj4": text,
    "wkt_srs": text,
    "projcs": text,
    "datum": text,
    "raster_size": _raster_size,
    "geotrans": _numbers(6),
    "files": text_list,
    "file_sizes": _numbers(None),
    "file_md5s": text_list,
    "bucket": text,
    "directory": text_list,
    "extra_properties": _extra,
    "cloud_fraction": _fraction,
    "cloud_fraction_0": _fraction,
    "fill_fraction": _fraction,
    "bright_fraction": _fraction,
    "alt_cloud_fraction": _fraction,
    "degraded_fraction_0": _fraction,
    "other_cloud_fraction": _fraction,
    "storage_state": _storage_state,
    "sat_id": text,
    "provider_id": text,
    "provider_url": text,
    "preview_url": text,
    "preview_file": text,
    "identifier": text,
    "descartes_version": text,
    "sw_version": text,
    "terrain_correction": text,
    "bits_per_pixel": _numbers(None),
    "reflectance_scale": _numbers(None),
    "incidence_angle": number,
    "roll_angle": number,
    "solar_azimuth_angle": number,
    "solar_elevation_angle": number,
    "view_angle": number,
    "azimuth_angle": number,
    "area": number,
    "tags": text_list,
    "notes": json_value,
    "read": grants,
    "writers": grants,
    "owners": grants,
}
"""Every field an image may be given, with its check (SPEC section 7, WIRE.md section 3)."""

SERVER_FIELDS = ("file_sha256s", "band_dtypes", "band_count", "nodata", "upload_id")
"""Fields only an upload sets (what it found in the file); change and replace keep them."""

_GRANT_FIELDS = ("read", "writers", "owners")

_NOT_IN_RECORD = frozenset(
    {"geometry", "extra_properties", "raster_size", "cs_code", "file_sha256s", *_GRANT_FIELDS}
)
"""Image fields the record does not copy under their own name (they are the record's
footprint, crs, width and height, or not what a search is about)."""

_RECORD_NAMES = frozenset(
    {"footprintWkt", "product", "key", "bands", "crs", "width", "height", "identifier"}
    | {alias.property for alias in IMAGE_PROPERTIES.values()}
    | {record_property(name) for name in IMAGE_FIELDS if name not in _NOT_IN_RECORD}
    | set(SERVER_FIELDS)
)
"""Every property name an image's record sets itself (extra properties may not use them)."""


def image_id(product_id: str, key: str) -> str:
    """The id of an image (and of its record): ``<product id>:<image key>``.

    >>> image_id("ns:landcover", "scene_001")
    'ns:landcover:scene_001'
    """
    return child_id(product_id, key)


def _key(key: Any, field: str = "image_id") -> str:
    problems: list[Problem] = []
    check_id_text(key, field, problems)
    raise_problems(problems)
    return str(key)


def check_image(fields: Mapping[str, Any], *, partial: bool) -> dict[str, Any]:
    """Check an image's fields (every problem positioned); None values are kept (to clear).

    Args:
        fields: The fields as given.
        partial: Whether ``acquired`` and ``geometry`` may be missing (a change).

    >>> check_image({"acquired": "2020-01-01", "geometry": "POINT (1 2)"}, partial=False)
    {'acquired': '2020-01-01', 'geometry': {'type': 'Point', 'coordinates': [1.0, 2.0]}}
    >>> check_image({"cloud_fraction": 2}, partial=True)
    Traceback (most recent call last):
      ...
    catalogql.errors.InvalidInput: cloud_fraction must be a number from 0 to 1, not 2 (hint: \
give a fraction such as 0.05 (5%), or leave cloud_fraction out)
    """
    problems: list[Problem] = []
    checked = check_fields(fields, IMAGE_FIELDS, problems)
    if not partial:
        for name in ("acquired", "geometry"):
            if checked.get(name) is None and not any(p.field == name for p in problems):
                problems.append(
                    Problem(
                        name,
                        None,
                        f"{name} is required",
                        "an image is a search record: it needs its time (acquired, ISO 8601) "
                        "and its footprint (geometry, GeoJSON in lon/lat)",
                        "service.required",
                    )
                )
    raise_problems(problems)
    return checked


def _band_names(catalog: Catalog, product_id: str, band_count: int | None) -> list[str]:
    """The product's band names in ``srcband`` order (those the file holds, if known)."""
    store = documents(catalog)
    found: list[tuple[int, str]] = []
    after: str | None = None
    while batch := store.list("band", parent=product_id, after=after, limit=1000):
        for band in batch:
            srcband = band.body.get("srcband")
            if isinstance(srcband, int) and (band_count is None or srcband <= band_count):
                found.append((srcband, str(band.body.get("name", band.id))))
        after = batch[-1].id
    return [name for _, name in sorted(found)]


def image_record(
    product_id: str, key: str, body: Mapping[str, Any], bands: Sequence[str]
) -> dict[str, Any]:
    """The search record of an image (see the module docstring).

    >>> record = image_record("ns:p", "a", {"acquired": "2020-01-01T00:00:00Z",
    ...     "geometry": {"type": "Point", "coordinates": [1.0, 2.0]}, "cloud_fraction": 0.25,
    ...     "raster_size": [4, 3], "cs_code": "EPSG:32613", "extra_properties": {"tile": "t"}},
    ...     ["red"])
    >>> record["identifier"], record["type"]
    ('ns:p:a', ['GBDXCatalogRecord', 'UserImage', 'ns:p'])
    >>> p = record["properties"]
    >>> p["timestamp"], p["cloudCover"], p["footprintWkt"], p["width"], p["crs"], p["tile"]
    ('2020-01-01T00:00:00Z', 25.0, 'POINT (1 2)', 4, 'EPSG:32613', 't')
    """
    import shapely.geometry

    properties: dict[str, Any] = {}
    for name, value in body.items():
        if name in _NOT_IN_RECORD or value is None:
            continue
        alias = IMAGE_PROPERTIES.get(name)
        if alias is None:
            properties[name] = value
        else:
            scaled = value * alias.scale if alias.scale != 1 else value
            if isinstance(scaled, float):
                scaled = round(scaled, 12)
            properties[alias.property] = scaled
    for name, value in (body.get("extra_properties") or {}).items():
        properties[name] = value
    properties["footprintWkt"] = shapely.geometry.shape(body["geometry"]).wkt
    properties["product"] = product_id
    properties["key"] = key
    properties["bands"] = list(bands)
    if body.get("cs_code") is not None:
        properties["crs"] = body["cs_code"]
    size = body.get("raster_size")
    if isinstance(size, list) and len(size) == 2:
        properties["width"], properties["height"] = size
    return {
        "identifier": image_id(product_id, key),
        "type": [*RECORD_TYPES, product_id],
        "properties": properties,
    }


def _result(document: Document) -> dict[str, Any]:
    return {"id": document.id, **document.body}


def write_image(
    catalog: Catalog,
    product: Document,
    key: str,
    body: dict[str, Any],
    *,
    create: bool,
) -> Document:
    """Store an image's document and its record together (inside the caller's unit of work).

    Args:
        catalog: Where the product lives.
        product: The product's document (already authorized and locked by the caller).
        key: The image key.
        body: The checked fields (None values dropped), server fields included.
        create: Refuse (:class:`~catalogql.errors.Conflict`) an existing image.

    >>> from catalogql.search import open_catalog
    >>> from catalogql.service.products import add_product
    >>> catalog, alice = open_catalog("memory://"), Principal("alice")
    >>> pid = add_product(catalog, alice, "p", title="P", description="")["id"]
    >>> product = load_product(catalog, alice, pid, "write")
    >>> with catalog.transaction():
    ...     doc = write_image(catalog, product, "k", {"acquired": "2020-01-01",
    ...         "geometry": {"type": "Point", "coordinates": [1, 2]}}, create=True)
    >>> doc.id == f"{pid}:k", len(catalog)
    (True, 1)
    """
    product_id = product.id
    for name in _GRANT_FIELDS:
        body.setdefault(name, list(product.body.get(name) or []))
    body.update(product=product_id, modified=now())
    band_count = body.get("band_count")
    bands = _band_names(catalog, product_id, band_count if isinstance(band_count, int) else None)
    ident = image_id(product_id, key)
    document = Document(IMAGE, ident, product_id, product.owner, readers(product.body), body)
    with catalog.transaction():
        documents(catalog).put(document, create=create)
        catalog.add_records(
            [image_record(product_id, key, body, bands)], readers=readers(product.body)
        )
    return document


def add_image(
    catalog: Catalog, principal: Principal, product_id: str, image_id: str, **fields: Any
) -> dict[str, Any]:
    """Add an image's metadata (no file) to a product; needs ``write`` on it.

    Args:
        catalog: Where the product lives.
        principal: Who adds it.
        product_id: The product.
        image_id: The image key (the id is ``<product id>:<key>``).
        **fields: ``acquired`` and ``geometry`` (required) and any of :data:`IMAGE_FIELDS`;
            ``storage_state`` defaults to ``available``.

    Raises:
        InvalidInput: A field is unknown or invalid, each problem named.
        NotFound: No such product, or the principal may not read it.
        Forbidden: The principal may read the product but not write it.
        Conflict: The product has an image of this key.

    >>> from catalogql.search import open_catalog
    >>> from catalogql.service.products import add_product
    >>> catalog, alice = open_catalog("memory://"), Principal("alice")
    >>> pid = add_product(catalog, alice, "p", title="P", description="")["id"]
    >>> add_image(catalog, alice, pid, "a", acquired="2020-01-01")
    Traceback (most recent call last):
      ...
    catalogql.errors.InvalidInput: geometry is required (hint: an image is a search record: it \
needs its time (acquired, ISO 8601) and its footprint (geometry, GeoJSON in lon/lat))
    """
    key = _key(image_id)
    checked = check_image(fields, partial=False)
    body = {k: v for k, v in checked.items() if v is not None}
    body.setdefault("storage_state", "available")
    with catalog.transaction():
        product = load_product(catalog, principal, product_id, "write", lock=True)
        document = write_image(catalog, product, key, body, create=True)
    return _result(document)


def _load(
    catalog: Catalog, principal: Principal, product_id: str, key: Any, need: Any, *, lock: bool
) -> tuple[Document, Document]:
    return load_child(catalog, principal, product_id, IMAGE, key, need, lock=lock)


def get_image(
    catalog: Catalog, principal: Principal, product_id: str, image_id: str
) -> dict[str, Any]:
    """An image's attributes, if ``principal`` may read its product (else 404).

    >>> from catalogql.search import open_catalog
    >>> get_image(open_catalog("memory://"), Principal("a"), "ns:p", "x")
    Traceback (most recent call last):
      ...
    catalogql.errors.NotFound: image 'ns:p:x' not found (hint: check the id; ids of products \
are namespaced: <namespace>:<name>)
    """
    return _result(_load(catalog, principal, product_id, image_id, "read", lock=False)[1])


def list_images(
    catalog: Catalog,
    principal: Principal,
    product_id: str,
    *,
    limit: int = 100,
    continuation: str | None = None,
) -> tuple[list[dict[str, Any]], str | None]:
    """A product's images in id order, a page at a time (needs ``read``).

    >>> from catalogql.search import open_catalog
    >>> from catalogql.service.products import add_product
    >>> catalog, alice = open_catalog("memory://"), Principal("alice")
    >>> pid = add_product(catalog, alice, "p", title="P", description="")["id"]
    >>> list_images(catalog, alice, pid)
    ([], None)
    """
    found, token = list_children(
        catalog, principal, product_id, IMAGE, limit=limit, continuation=continuation
    )
    return [_result(d) for d in found], token


def _rewrite(
    catalog: Catalog,
    principal: Principal,
    product_id: str,
    key: Any,
    fields: Mapping[str, Any],
    *,
    replace: bool,
) -> dict[str, Any]:
    checked = check_image(fields, partial=not replace)
    with catalog.transaction():
        product, old = _load(catalog, principal, product_id, key, "write", lock=True)
        kept = {k: old.body[k] for k in SERVER_FIELDS if k in old.body}
        if replace:
            body = {k: v for k, v in checked.items() if v is not None}
            body.setdefault("storage_state", "available")
        else:
            body = dict(old.body)
            for name, value in checked.items():
                if value is None:
                    body.pop(name, None)
                else:
                    body[name] = value
        body.update(kept)
        check_image({k: v for k, v in body.items() if k in IMAGE_FIELDS}, partial=False)
        document = write_image(catalog, product, str(key), body, create=False)
    return _result(document)


def change_image(
    catalog: Catalog, principal: Principal, product_id: str, image_id: str, **fields: Any
) -> dict[str, Any]:
    """Change only the given fields of an image (PATCH; None clears one); its record follows.

    >>> from catalogql.search import open_catalog
    >>> from catalogql.service.products import add_product
    >>> catalog, alice = open_catalog("memory://"), Principal("alice")
    >>> pid = add_product(catalog, alice, "p", title="P", description="")["id"]
    >>> _ = add_image(catalog, alice, pid, "a", acquired="2020-01-01", geometry="POINT (1 2)")
    >>> change_image(catalog, alice, pid, "a", cloud_fraction=0.12)["cloud_fraction"]
    0.12
    >>> catalog.get_record(f"{pid}:a")["properties"]["cloudCover"]
    12.0
    """
    return _rewrite(catalog, principal, product_id, image_id, fields, replace=False)


def replace_image(
    catalog: Catalog, principal: Principal, product_id: str, image_id: str, **fields: Any
) -> dict[str, Any]:
    """Replace every field of an image (PUT): fields not given are dropped (server ones kept).

    >>> from catalogql.search import open_catalog
    >>> from catalogql.service.products import add_product
    >>> catalog, alice = open_catalog("memory://"), Principal("alice")
    >>> pid = add_product(catalog, alice, "p", title="P", description="")["id"]
    >>> _ = add_image(catalog, alice, pid, "a", acquired="2020-01-01", geometry="POINT (1 2)",
    ...               sat_id="S1")
    >>> "sat_id" in replace_image(catalog, alice, pid, "a", acquired="2020-01-02",
    ...                           geometry="POINT (1 2)")
    False
    """
    return _rewrite(catalog, principal, product_id, image_id, fields, replace=True)


def remove_image(catalog: Catalog, principal: Principal, product_id: str, image_id: str) -> None:
    """Remove an image and its record together (needs ``write`` on the product).

    Its stored file, if no other image shares it, is removed by the next
    :meth:`catalogql.service.Service.gc`.

    >>> from catalogql.search import open_catalog
    >>> from catalogql.service.products import add_product
    >>> catalog, alice = open_catalog("memory://"), Principal("alice")
    >>> pid = add_product(catalog, alice, "p", title="P", description="")["id"]
    >>> _ = add_image(catalog, alice, pid, "a", acquired="2020-01-01", geometry="POINT (1 2)")
    >>> remove_image(catalog, alice, pid, "a")
    >>> len(catalog), list_images(catalog, alice, pid)[0]
    (0, [])
    """
    with catalog.transaction():
        _, image = _load(catalog, principal, product_id, image_id, "write", lock=True)
        documents(catalog).delete(IMAGE, image.id)
        catalog.remove_records([image.id])


class ImageRecords:
    """The :class:`~catalogql.service.products.ProductHook` that keeps images' records in step.

    - ``permissions_changed``: the product's readers become its records' readers
      (:meth:`Catalog.set_readers` on the product id, the label every record of its images
      carries);
    - ``remove_children``: the records of the product's images are removed (those carrying its
      id as a type label; the documents are removed by the product's cascade).

    >>> ImageRecords(None)  # doctest: +ELLIPSIS
    <catalogql.service.images.ImageRecords object at ...>
    """

    def __init__(self, catalog: Any) -> None:
        self.catalog = catalog

    def permissions_changed(self, product_id: str, product: Mapping[str, Any]) -> int:
        """Give the product's records its readers (inside the caller's unit of work)."""
        count: int = self.catalog.set_readers(product_id, readers(product))
        return count

    def remove_children(self, product_id: str) -> int:
        """Remove the records of the product's images (all carry its id as a label); how many."""
        removed: int = self.catalog.remove_records(type_label=product_id)
        return removed


_ = Conflict  # raised by Documents.put(create=True) for an existing image
