"""The Descartes Metadata API's reads (WIRE.md section 4): by id, and the product and band searches.

The Metadata API answers flat dicts (no JSON:API envelope) and finds things by their full ids,
where the Catalog API names a product and a child: :func:`image_by_id` (``GET /get/<id>``),
:func:`images_by_ids` (``POST /batch/images``), :func:`band_by_id` (``GET /bands/<id>``),
:func:`bands_of_product` and :func:`bands_of_image` (``GET /bands/all/<pid>``, ``GET
/bands/id/<image id>``), :func:`search_products` (``POST /products/search``),
:func:`search_bands` (``POST /bands/search``) and the derived bands
(:data:`DERIVED_BANDS`, :func:`search_derived_bands`, :func:`derived_band`).

Decisions where the wire is silent:

* **Visibility.** Everything is read through the product's grants
  (:func:`~catalogql.service.access.authorize`): what the principal may not read is the 404 of
  what does not exist, and a search simply does not find it. ``bands/all`` of an unknown or
  unreadable product is ``{}`` (the client's docstring), never a 404.
* **Unknown body fields are ignored** (the client forwards unknown keyword arguments verbatim,
  WIRE.md section 1); every known field is checked and every problem is reported at once, named
  by its field (``ids[2]``, ``tags[0]``).
* **Products search.** ``owner`` is a user id (the client's ``own_products`` sends the raw JWT
  ``sub``) or a grant name (``user:…``, ``email:…``, ``group:…``, ``org:…``): the products
  whose ``owners`` list it. ``text`` matches case-insensitively in the id, title, description
  or a tag. ``bands``: products that have a band of every listed name. ``offset`` skips that
  many matches of the first page (with a ``continuation_token`` it is ignored). Order: by id.
* **Bands search.** ``products`` is required (as the client requires it); bands of the listed
  products the principal may read, in product order then by id; ``wavelength``: bands whose
  ``wavelength_min`` ≤ it ≤ ``wavelength_max``; ``resolution``: equal to the band's (a number
  also matches a text such as ``"10m"`` that starts with it); ``tags``: bands with at least one
  of them.
* **Derived bands** are a fixed table of classic normalized-difference indices
  (:data:`DERIVED_BANDS`); this server stores none of its own. ``bands`` with
  ``require_bands`` true finds those computable from the listed bands alone; without it, those
  using any listed band.

>>> import catalogql as cq
>>> from catalogql.search import open_catalog
>>> catalog, alice = open_catalog("memory://"), cq.Principal("alice")
>>> from catalogql.service import products, images
>>> pid = products.add_product(catalog, alice, "p", title="P", description="")["id"]
>>> _ = images.add_image(catalog, alice, pid, "a", acquired="2020-01-01", geometry="POINT (1 2)")
>>> image_by_id(catalog, alice, f"{pid}:a")["key"]
'a'
>>> image_by_id(catalog, cq.Principal("mallory"), f"{pid}:a")  # doctest: +ELLIPSIS
Traceback (most recent call last):
  ...
catalogql.errors.NotFound: image '...:p:a' not found (hint: check the id; ...)
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from typing import Any

from catalogql.errors import InvalidInput, NotFound, Problem
from catalogql.search.documents import Document, documents
from catalogql.search.engine import Catalog
from catalogql.service.access import not_found
from catalogql.service.bands import BAND, get_band, list_bands
from catalogql.service.fields import (
    integer,
    number,
    number_or_text,
    raise_problems,
    text,
    text_list,
)
from catalogql.service.images import IMAGE, get_image
from catalogql.service.paging import MAX_LIMIT, page
from catalogql.service.principals import Principal, namespace_of
from catalogql.service.products import PRODUCT, child_id

__all__ = [
    "DERIVED_BANDS",
    "MAX_IDS",
    "band_by_id",
    "bands_of_image",
    "bands_of_product",
    "derived_band",
    "image_by_id",
    "images_by_ids",
    "search_bands",
    "search_derived_bands",
    "search_products",
]

MAX_IDS = 1000
"""The most ids one ``batch/images`` body may ask for."""

_GRANT_PREFIXES = ("user:", "email:", "group:", "org:")


def _derived(name: str, bands: list[str], formula: str, description: str) -> dict[str, Any]:
    return {
        "id": f"derived:{name}",
        "name": name,
        "type": "derived",
        "bands": bands,
        "function_name": f"{name}_uint16",
        "formula": formula,
        "description": description,
        "dtype": "UInt16",
        "data_range": [0, 65535],
        "physical_range": [-1.0, 1.0],
        "data_unit": "ratio",
    }


DERIVED_BANDS: dict[str, dict[str, Any]] = {
    band["id"]: band
    for band in (
        _derived(
            "ndvi",
            ["nir", "red"],
            "(nir - red) / (nir + red)",
            "Normalized Difference Vegetation Index",
        ),
        _derived(
            "ndwi",
            ["green", "nir"],
            "(green - nir) / (green + nir)",
            "Normalized Difference Water Index (McFeeters)",
        ),
        _derived(
            "ndmi",
            ["nir", "swir1"],
            "(nir - swir1) / (nir + swir1)",
            "Normalized Difference Moisture Index",
        ),
        _derived("nbr", ["nir", "swir2"], "(nir - swir2) / (nir + swir2)", "Normalized Burn Ratio"),
        _derived(
            "ndbi",
            ["swir1", "nir"],
            "(swir1 - nir) / (swir1 + nir)",
            "Normalized Difference Built-up Index",
        ),
    )
}
"""The derived bands this server knows, by id (``derived:<name>``): classic indices, scaled to
UInt16 over the physical range -1 to 1."""


def _body(
    body: object,
    fields: Mapping[str, Callable[[Any, str, list[Problem]], Any]],
    *,
    required: tuple[str, ...] = (),
) -> dict[str, Any]:
    """The known fields of a JSON object body, each checked (every problem at once)."""
    if not isinstance(body, Mapping):
        message = f"the body must be a JSON object, not {type(body).__name__}"
        raise InvalidInput(
            message,
            [Problem("", None, message, 'send {"limit": 10, ...}', "request.body")],
        )
    problems: list[Problem] = []
    checked = {}
    for name, check in fields.items():
        value = body.get(name)
        if value is not None:
            checked[name] = check(value, name, problems)
        elif name in required:
            problems.append(
                Problem(
                    name,
                    None,
                    f"{name} is required",
                    f'send "{name}": [...] in the body',
                    "request.required",
                )
            )
    raise_problems(problems)
    return checked


def _split(document: Document | None, kind: str, ident: str) -> tuple[str, str]:
    """The product id and the key of a child document (a 404 when there is none)."""
    if document is None or document.parent is None:
        raise not_found(kind, ident)
    return document.parent, ident[len(document.parent) + 1 :]


def image_by_id(catalog: Catalog, principal: Principal, image_id: str) -> dict[str, Any]:
    """An image by its full id ``<product id>:<key>``, flat, with ``key`` (else 404).

    Raises:
        NotFound: No such image, or the principal may not read its product (the same 404).

    >>> from catalogql.search import open_catalog
    >>> image_by_id(open_catalog("memory://"), Principal("a"), "ns:p:x")
    Traceback (most recent call last):
      ...
    catalogql.errors.NotFound: image 'ns:p:x' not found (hint: check the id; ids of products \
are namespaced: <namespace>:<name>)
    """
    found = documents(catalog).get(IMAGE, image_id)
    product_id, key = _split(found, IMAGE, image_id)
    image = get_image(catalog, principal, product_id, key)
    image.setdefault("key", key)
    return image


def images_by_ids(catalog: Catalog, principal: Principal, body: object) -> list[dict[str, Any]]:
    """A ``POST /batch/images``: the images of ``ids`` in their order (flat dicts).

    Body: ``ids`` (required, at most :data:`MAX_IDS`), ``ignore_not_found`` (default true:
    leave out the ids not found; false: a 404 naming every one), ``fields`` (keep only these
    keys, and ``id``).

    >>> from catalogql.search import open_catalog
    >>> images_by_ids(open_catalog("memory://"), Principal("a"), {"ids": ["ns:p:x"]})
    []
    >>> images_by_ids(open_catalog("memory://"), Principal("a"), {"ids": ["ns:p:x"],
    ...               "ignore_not_found": False})
    Traceback (most recent call last):
      ...
    catalogql.errors.NotFound: image 'ns:p:x' not found (hint: check the ids; ids of images are \
<product id>:<key>)
    """
    checked = _body(body, {"ids": text_list, "ignore_not_found": _boolean, "fields": text_list})
    problems: list[Problem] = []
    ids = checked.get("ids")
    if ids is None:
        problems.append(
            Problem(
                "ids",
                None,
                "ids is required",
                'send {"ids": ["<image id>", ...]}',
                "request.required",
            )
        )
    elif len(ids) > MAX_IDS:
        problems.append(
            Problem(
                "ids",
                None,
                f"ids lists {len(ids)} ids, more than {MAX_IDS}",
                f"ask for at most {MAX_IDS} at once",
                "request.too-many",
            )
        )
    raise_problems(problems)
    fields = checked.get("fields")
    found: list[dict[str, Any]] = []
    missing: list[str] = []
    for ident in ids or ():
        try:
            image = image_by_id(catalog, principal, ident)
        except NotFound:
            missing.append(ident)
            continue
        if fields is not None:
            image = {k: v for k, v in image.items() if k == "id" or k in fields}
        found.append(image)
    if missing and checked.get("ignore_not_found") is False:
        shown = ", ".join(repr(m) for m in missing[:10]) + (" ..." if len(missing) > 10 else "")
        raise NotFound(
            f"image {shown} not found" if len(missing) == 1 else f"images {shown} not found",
            hint="check the ids; ids of images are <product id>:<key>",
        )
    return found


def _limit(value: Any, field: str, problems: list[Problem]) -> Any:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_LIMIT:
        problems.append(
            Problem(
                field,
                None,
                f"{field} must be an integer from 1 to {MAX_LIMIT}, not {value!r}",
                f"ask for at most {MAX_LIMIT} per page",
                "service.limit",
            )
        )
    return value


def _boolean(value: Any, field: str, problems: list[Problem]) -> Any:
    if not isinstance(value, bool):
        problems.append(
            Problem(
                field,
                None,
                f"{field} must be true or false, not {value!r}",
                "send true or false",
                "service.field",
            )
        )
    return value


def band_by_id(catalog: Catalog, principal: Principal, band_id: str) -> dict[str, Any]:
    """A band by its full id ``<product id>:<name>``, flat (else 404).

    >>> from catalogql.search import open_catalog
    >>> band_by_id(open_catalog("memory://"), Principal("a"), "ns:p:red")
    Traceback (most recent call last):
      ...
    catalogql.errors.NotFound: band 'ns:p:red' not found (hint: check the id; ids of products \
are namespaced: <namespace>:<name>)
    """
    product_id, name = _split(documents(catalog).get(BAND, band_id), BAND, band_id)
    return get_band(catalog, principal, product_id, name)


def _all_bands(catalog: Catalog, principal: Principal, product_id: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    token: str | None = None
    while True:
        batch, token = list_bands(
            catalog, principal, product_id, limit=MAX_LIMIT, continuation=token
        )
        found.extend(batch)
        if token is None:
            return found


def bands_of_product(
    catalog: Catalog, principal: Principal, product_id: str
) -> dict[str, dict[str, Any]]:
    """``{band id: band}`` of a product; ``{}`` for one unknown or that the principal may not read.

    >>> from catalogql.search import open_catalog
    >>> bands_of_product(open_catalog("memory://"), Principal("a"), "ns:nope")
    {}
    """
    try:
        return {band["id"]: band for band in _all_bands(catalog, principal, product_id)}
    except NotFound:
        return {}


def bands_of_image(
    catalog: Catalog, principal: Principal, image_id: str
) -> dict[str, dict[str, Any]]:
    """``{band id: band}`` of the product of an image (a 404 for an image not found).

    >>> from catalogql.search import open_catalog
    >>> bands_of_image(open_catalog("memory://"), Principal("a"), "ns:p:x")
    Traceback (most recent call last):
      ...
    catalogql.errors.NotFound: image 'ns:p:x' not found (hint: check the id; ids of products \
are namespaced: <namespace>:<name>)
    """
    image = image_by_id(catalog, principal, image_id)
    return bands_of_product(catalog, principal, image["product"])


def _owner_name(owner: str) -> str:
    if owner.startswith(_GRANT_PREFIXES):
        return owner
    return f"user:{namespace_of(owner)}"


def _matches_text(product: Mapping[str, Any], needle: str) -> bool:
    hay = [product.get(name) for name in ("id", "title", "description")]
    hay.extend(product.get("tags") or ())
    return any(isinstance(h, str) and needle in h.casefold() for h in hay)


def search_products(
    catalog: Catalog, principal: Principal, body: object
) -> tuple[list[dict[str, Any]], str | None]:
    """A ``POST /products/search``: a page of the products the principal may read.

    Body: ``limit`` (1 to 1000, default 100), ``offset``, ``owner``, ``text``, ``bands``,
    ``continuation_token`` (see the module docstring).

    Returns:
        The page's flat products and the token of the next page (None when none follows).

    >>> import catalogql as cq
    >>> from catalogql.search import open_catalog
    >>> from catalogql.service.products import add_product
    >>> catalog, alice = open_catalog("memory://"), cq.Principal("alice")
    >>> for name in ("forest", "water", "urban"):
    ...     _ = add_product(catalog, alice, name, title=name.title(), description="")
    >>> found, token = search_products(catalog, alice, {"limit": 2})
    >>> [p["title"] for p in found], token is not None
    (['Forest', 'Urban'], True)
    >>> [p["title"] for p in search_products(catalog, alice, {"limit": 2,
    ...                                                    "continuation_token": token})[0]]
    ['Water']
    >>> [p["title"] for p in search_products(catalog, alice, {"text": "wat",
    ...                                                    "owner": "alice"})[0]]
    ['Water']
    """
    checked = _body(
        body,
        {
            "limit": _limit,
            "offset": integer(0),
            "owner": text,
            "text": text,
            "bands": text_list,
            "continuation_token": text,
        },
    )
    limit = checked.get("limit", 100)
    owner = checked.get("owner")
    owner_name = None if owner is None else _owner_name(owner)
    needle = checked.get("text")
    needle = None if needle is None else needle.casefold()
    wanted = checked.get("bands") or []
    store = documents(catalog)

    def keep(document: Document) -> bool:
        product = {"id": document.id, **document.body}
        if owner_name is not None and owner_name not in (product.get("owners") or ()):
            return False
        if needle is not None and not _matches_text(product, needle):
            return False
        return all(store.get(BAND, child_id(document.id, name)) is not None for name in wanted)

    filters = json.dumps([owner_name, needle, wanted], sort_keys=True)
    scope = "products/search:" + hashlib.sha256(filters.encode()).hexdigest()[:16]
    token = checked.get("continuation_token")
    skip = 0 if token is not None else checked.get("offset", 0)
    while skip > 0:  # the offset: whole pages skipped, to the position after it
        step = min(skip, MAX_LIMIT)
        skipped, token = page(
            store,
            PRODUCT,
            scope,
            limit=step,
            continuation=token,
            readers=principal.names,
            keep=keep,
        )
        skip = 0 if token is None else skip - len(skipped)
        if token is None:
            return [], None
    found, token = page(
        store, PRODUCT, scope, limit=limit, continuation=token, readers=principal.names, keep=keep
    )
    return [{"id": d.id, **d.body} for d in found], token


def _resolution_matches(band: Any, wanted: Any) -> bool:
    if band == wanted:
        return True
    if isinstance(band, str) and isinstance(wanted, int | float) and not isinstance(wanted, bool):
        digits = band.strip().rstrip("abcdefghijklmnopqrstuvwxyz").strip()
        try:
            return float(digits) == float(wanted)
        except ValueError:
            return False
    return False


def _window(found: list[dict[str, Any]], checked: Mapping[str, Any]) -> list[dict[str, Any]]:
    limit = checked.get("limit", 100)
    offset = checked.get("offset", 0)
    return found[offset : offset + limit]


def search_bands(catalog: Catalog, principal: Principal, body: object) -> list[dict[str, Any]]:
    """A ``POST /bands/search``: the bands of ``products`` the principal may read, filtered.

    Body: ``products`` (required), ``limit`` (1 to 1000, default 100), ``offset``,
    ``wavelength``, ``resolution``, ``tags`` (see the module docstring).

    >>> import catalogql as cq
    >>> from catalogql.search import open_catalog
    >>> from catalogql.service.products import add_product
    >>> from catalogql.service.bands import add_band
    >>> catalog, alice = open_catalog("memory://"), cq.Principal("alice")
    >>> pid = add_product(catalog, alice, "p", title="P", description="")["id"]
    >>> for i, (name, low) in enumerate([("red", 600.0), ("nir", 780.0)]):
    ...     _ = add_band(catalog, alice, pid, name, srcband=i + 1, dtype="UInt16",
    ...                  data_range=[0, 10000], type="spectral", wavelength_min=low,
    ...                  wavelength_max=low + 100)
    >>> [b["name"] for b in search_bands(catalog, alice, {"products": [pid], "wavelength": 650})]
    ['red']
    >>> search_bands(catalog, alice, {"limit": 0})
    Traceback (most recent call last):
      ...
    catalogql.errors.InvalidInput: products is required (and 1 more problems)
      products: products is required
        hint: send "products": [...] in the body
      limit: limit must be an integer from 1 to 1000, not 0
        hint: ask for at most 1000 per page
    """
    checked = _body(
        body,
        {
            "products": text_list,
            "limit": _limit,
            "offset": integer(0),
            "wavelength": number,
            "resolution": number_or_text,
            "tags": text_list,
        },
        required=("products",),
    )
    wavelength = checked.get("wavelength")
    resolution = checked.get("resolution")
    tags = set(checked.get("tags") or ())
    found: list[dict[str, Any]] = []
    for product_id in dict.fromkeys(checked["products"]):
        try:
            bands = _all_bands(catalog, principal, product_id)
        except NotFound:
            continue
        for band in bands:
            if wavelength is not None:
                low, high = band.get("wavelength_min"), band.get("wavelength_max")
                if low is None or high is None or not low <= wavelength <= high:
                    continue
            if resolution is not None and not _resolution_matches(
                band.get("resolution"), resolution
            ):
                continue
            if tags and tags.isdisjoint(band.get("tags") or ()):
                continue
            found.append(band)
    return _window(found, checked)


def search_derived_bands(body: object) -> list[dict[str, Any]]:
    """A ``POST /bands/derived/search``: the derived bands of :data:`DERIVED_BANDS` that fit.

    Body: ``bands``, ``require_bands``, ``limit`` (1 to 1000, default 100), ``offset``.

    >>> [b["name"] for b in search_derived_bands({"bands": ["red", "nir"], "require_bands": True})]
    ['ndvi']
    >>> [b["name"] for b in search_derived_bands({"bands": ["swir2"]})]
    ['nbr']
    """
    checked = _body(
        body,
        {"bands": text_list, "require_bands": _boolean, "limit": _limit, "offset": integer(0)},
    )
    given = checked.get("bands")
    found = []
    for band in DERIVED_BANDS.values():
        if given is not None:
            uses = set(band["bands"])
            fits = uses <= set(given) if checked.get("require_bands") else bool(uses & set(given))
            if not fits:
                continue
        found.append(dict(band))
    return _window(found, checked)


def derived_band(band_id: str) -> dict[str, Any]:
    """A derived band by id (``derived:ndvi``; the bare name works too), else 404.

    >>> derived_band("derived:ndvi")["bands"]
    ['nir', 'red']
    >>> derived_band("ndvi")["id"]
    'derived:ndvi'
    """
    found = DERIVED_BANDS.get(band_id) or DERIVED_BANDS.get(f"derived:{band_id}")
    if found is None:
        raise NotFound(
            f"derived band {band_id!r} not found",
            hint=f"the derived bands here are {', '.join(DERIVED_BANDS)}",
        )
    return dict(found)
