"""Bands of a product (SPEC section 7, WIRE.md section 3): add, get, list, change, replace, remove.

A band is a document of kind ``band`` whose parent is its product; its id is
``<product id>:<name>``. What a principal may do with it is what
:func:`catalogql.service.access.authorize` says for its product: reading needs ``read``,
everything else ``write``. Its attributes are the fields of :data:`BAND_FIELDS`, returned flat
with ``id``, ``name``, ``product`` and ``modified``; ``nbits`` defaults to the dtype's bits,
``srcfile`` and ``jpx_layer`` to 0, and ``read``/``writers``/``owners`` to the product's (they
follow it on :func:`~catalogql.service.products.set_global_permissions`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from catalogql.errors import Problem
from catalogql.search.documents import Document, documents
from catalogql.search.engine import Catalog
from catalogql.service.access import readers
from catalogql.service.fields import (
    Check,
    check_fields,
    check_id_text,
    grants,
    integer,
    number,
    number_or_text,
    pair,
    raise_problems,
    text,
    text_list,
)
from catalogql.service.paging import now
from catalogql.service.principals import Principal
from catalogql.service.products import child_id, list_children, load_child, load_product

__all__ = [
    "BAND",
    "BAND_FIELDS",
    "BAND_TYPES",
    "COLORMAPS",
    "DTYPES",
    "add_band",
    "band_id",
    "change_band",
    "get_band",
    "list_bands",
    "remove_band",
    "replace_band",
]

BAND = "band"
"""The document kind of bands."""

_F32 = 3.4028234663852886e38
_F64 = 1.7976931348623157e308

DTYPES: dict[str, tuple[int, float, float]] = {
    "Byte": (8, 0, 255),
    "UInt16": (16, 0, 65535),
    "Int16": (16, -32768, 32767),
    "UInt32": (32, 0, 2**32 - 1),
    "Int32": (32, -(2**31), 2**31 - 1),
    "Float32": (32, -_F32, _F32),
    "Float64": (64, -_F64, _F64),
}
"""Each band dtype: its bits, and the lowest and highest value it holds."""

BAND_TYPES = ("spectral", "mask", "class", "derived", "other")
"""The values of a band's ``type``."""

COLORMAPS = (
    "Accent",
    "Blues",
    "BrBG",
    "BuGn",
    "BuPu",
    "CMRmap",
    "Dark2",
    "GnBu",
    "Greens",
    "Greys",
    "OrRd",
    "Oranges",
    "PRGn",
    "Paired",
    "Pastel1",
    "Pastel2",
    "PiYG",
    "PuBu",
    "PuBuGn",
    "PuOr",
    "PuRd",
    "Purples",
    "RdBu",
    "RdGy",
    "RdPu",
    "RdYlBu",
    "RdYlGn",
    "Reds",
    "Set1",
    "Set2",
    "Set3",
    "Spectral",
    "Wistia",
    "YlGn",
    "YlGnBu",
    "YlOrBr",
    "YlOrRd",
    "afmhot",
    "autumn",
    "binary",
    "bone",
    "brg",
    "bwr",
    "cool",
    "coolwarm",
    "copper",
    "cubehelix",
    "flag",
    "gist_earth",
    "gist_gray",
    "gist_heat",
    "gist_ncar",
    "gist_rainbow",
    "gist_stern",
    "gist_yarg",
    "gnuplot",
    "gnuplot2",
    "gray",
    "hot",
    "hsv",
    "inferno",
    "jet",
    "magma",
    "nipy_spectral",
    "ocean",
    "pink",
    "plasma",
    "prism",
    "rainbow",
    "seismic",
    "spring",
    "summer",
    "terrain",
    "viridis",
    "winter",
)
"""The names ``colormap_name`` may take."""

_REQUIRED = ("srcband", "dtype", "data_range", "type")


def _choice(choices: tuple[str, ...], what: str) -> Check:
    def check(value: Any, field: str, problems: list[Problem]) -> Any:
        if value not in choices:
            shown = ", ".join(choices) if len(choices) <= 10 else f"{', '.join(choices[:8])}, …"
            problems.append(
                Problem(
                    field,
                    None,
                    f"{field} {value!r} is not a known {what}",
                    f"use one of {shown}",
                    "service.choice",
                )
            )
        return value

    return check


def _colormap(value: Any, field: str, problems: list[Problem]) -> Any:
    if not isinstance(value, list | tuple) or len(value) != 256:
        size = len(value) if isinstance(value, list | tuple) else "not a list"
        problems.append(
            Problem(
                field,
                None,
                f"{field} must be a list of 256 RGBA entries ({size})",
                "give one [r, g, b, a] (each 0 to 255) per value 0 to 255, or a colormap_name",
                "service.colormap",
            )
        )
        return value
    for index, entry in enumerate(value):
        where = f"{field}[{index}]"
        if (
            not isinstance(entry, list | tuple)
            or len(entry) != 4
            or not all(
                isinstance(c, int) and not isinstance(c, bool) and 0 <= c <= 255 for c in entry
            )
        ):
            problems.append(
                Problem(
                    where,
                    None,
                    f"{where} is not an RGBA entry: {entry!r}",
                    "write four integers from 0 to 255: [r, g, b, a]",
                    "service.colormap",
                )
            )
            break  # one is enough to show the form
    return [list(entry) for entry in value] if not problems else value


BAND_FIELDS: dict[str, Check] = {
    "srcband": integer(1),
    "srcfile": integer(0),
    "jpx_layer": integer(0),
    "dtype": _choice(tuple(DTYPES), "dtype"),
    "nbits": integer(1),
    "data_range": pair,
    "default_range": pair,
    "physical_range": pair,
    "type": _choice(BAND_TYPES, "band type"),
    "nodata": number,
    "colormap_name": _choice(COLORMAPS, "colormap"),
    "colormap": _colormap,
    "description": text,
    "color": text,
    "data_unit": text,
    "data_unit_description": text,
    "physical_range_unit": text,
    "wavelength_min": number,
    "wavelength_center": number,
    "wavelength_max": number,
    "wavelength_fwhm": number,
    "wavelength_unit": text,
    "resolution": number_or_text,
    "resolution_unit": text,
    "name_common": text,
    "name_vendor": text,
    "vendor_order": integer(0),
    "processing_level": text,
    "tags": text_list,
    "read": grants,
    "writers": grants,
    "owners": grants,
}
"""Every field a band may have, with its check (SPEC section 7, WIRE.md section 3)."""


def _cross_check(body: Mapping[str, Any], problems: list[Problem]) -> None:
    """The rules between fields: nbits and ranges within the dtype; one colormap."""
    dtype = body.get("dtype")
    if dtype in DTYPES:
        bits, low, high = DTYPES[dtype]
        nbits = body.get("nbits")
        if isinstance(nbits, int) and nbits > bits:
            problems.append(
                Problem(
                    "nbits",
                    None,
                    f"nbits {nbits} is more than {dtype} holds ({bits} bits)",
                    f"give nbits from 1 to {bits}, or a wider dtype",
                    "service.nbits",
                )
            )
        for name in ("data_range", "default_range"):
            value = body.get(name)
            if not isinstance(value, list) or len(value) != 2:
                continue
            for index, end in enumerate(value):
                number = isinstance(end, int | float) and not isinstance(end, bool)
                if number and not low <= end <= high:
                    problems.append(
                        Problem(
                            f"{name}[{index}]",
                            None,
                            f"{name}[{index}] = {end!r} is outside the range of {dtype} "
                            f"({low:g} to {high:g})",
                            f"keep {name} within {low:g} to {high:g}, or choose a wider dtype",
                            "service.range",
                        )
                    )
    if body.get("colormap_name") is not None and body.get("colormap") is not None:
        problems.append(
            Problem(
                "colormap",
                None,
                "give colormap_name or colormap, not both",
                "remove one of them",
                "service.colormap",
            )
        )


def band_id(product_id: str, name: str) -> str:
    """The id of a band: ``<product id>:<name>``.

    >>> band_id("ns:landcover", "red")
    'ns:landcover:red'
    """
    return child_id(product_id, name)


def _check_band(fields: Mapping[str, Any], *, partial: bool) -> dict[str, Any]:
    problems: list[Problem] = []
    checked = check_fields(fields, BAND_FIELDS, problems)
    if not partial:
        for name in _REQUIRED:
            if checked.get(name) is None and not any(p.field == name for p in problems):
                problems.append(
                    Problem(
                        name,
                        None,
                        f"{name} is required",
                        "a band needs srcband, dtype, data_range and type",
                        "service.required",
                    )
                )
    raise_problems(problems)
    return checked


def _complete(body: dict[str, Any], product: Mapping[str, Any]) -> dict[str, Any]:
    problems: list[Problem] = []
    _cross_check(body, problems)
    raise_problems(problems)
    dtype = body.get("dtype")
    if body.get("nbits") is None and dtype in DTYPES:
        body["nbits"] = DTYPES[dtype][0]
    body.setdefault("srcfile", 0)
    body.setdefault("jpx_layer", 0)
    for name in ("read", "writers", "owners"):
        body.setdefault(name, list(product.get(name) or []))
    return body


def _result(document: Document) -> dict[str, Any]:
    return {"id": document.id, **document.body}


def _name(name: Any) -> str:
    problems: list[Problem] = []
    check_id_text(name, "name", problems, colon=False)
    raise_problems(problems)
    return str(name)


def add_band(
    catalog: Catalog, principal: Principal, product_id: str, name: str, **fields: Any
) -> dict[str, Any]:
    """Add a band to a product (needs ``write`` on it); the band's attributes with its ``id``.

    Args:
        catalog: Where the product lives.
        principal: Who adds it.
        product_id: The product.
        name: The band's name (no ``:``).
        **fields: ``srcband``, ``dtype``, ``data_range``, ``type`` (required) and any of
            :data:`BAND_FIELDS`.

    Raises:
        InvalidInput: A field is unknown or invalid, each problem named (``data_range[1]``).
        NotFound: No such product, or the principal may not read it.
        Forbidden: The principal may read the product but not write it.
        Conflict: The product has a band of this name.

    >>> from catalogql.search import open_catalog
    >>> from catalogql.service.products import add_product
    >>> catalog, alice = open_catalog("memory://"), Principal("alice")
    >>> pid = add_product(catalog, alice, "p", title="P", description="")["id"]
    >>> band = add_band(catalog, alice, pid, "red", srcband=1, dtype="UInt16",
    ...                 data_range=[0, 10000], type="spectral")
    >>> band["id"] == f"{pid}:red", band["nbits"]
    (True, 16)
    >>> add_band(catalog, alice, pid, "nir", srcband=2, dtype="Byte", data_range=[0, 300],
    ...          type="spectral")
    Traceback (most recent call last):
      ...
    catalogql.errors.InvalidInput: data_range[1] = 300 is outside the range of Byte (0 to 255) \
(hint: keep data_range within 0 to 255, or choose a wider dtype)
    """
    name = _name(name)
    checked = _check_band(fields, partial=False)
    with catalog.transaction():
        product = load_product(catalog, principal, product_id, "write", lock=True)
        body = {k: v for k, v in checked.items() if v is not None}
        body = _complete(body, product.body)
        body.update(name=name, product=product_id, modified=now())
        document = Document(
            BAND, band_id(product_id, name), product_id, product.owner, readers(product.body), body
        )
        documents(catalog).put(document, create=True)
    return _result(document)


def _load_band(
    catalog: Catalog, principal: Principal, product_id: str, name: Any, need: Any, *, lock: bool
) -> tuple[Document, Document]:
    return load_child(catalog, principal, product_id, BAND, name, need, lock=lock)


def get_band(catalog: Catalog, principal: Principal, product_id: str, name: str) -> dict[str, Any]:
    """A band's attributes, if ``principal`` may read its product (else 404).

    >>> from catalogql.search import open_catalog
    >>> get_band(open_catalog("memory://"), Principal("a"), "ns:p", "red")
    Traceback (most recent call last):
      ...
    catalogql.errors.NotFound: band 'ns:p:red' not found (hint: check the id; ids of products \
are namespaced: <namespace>:<name>)
    """
    return _result(_load_band(catalog, principal, product_id, name, "read", lock=False)[1])


def list_bands(
    catalog: Catalog,
    principal: Principal,
    product_id: str,
    *,
    limit: int = 100,
    continuation: str | None = None,
) -> tuple[list[dict[str, Any]], str | None]:
    """A product's bands in id order, a page at a time (needs ``read`` on the product).

    >>> from catalogql.search import open_catalog
    >>> from catalogql.service.products import add_product
    >>> catalog, alice = open_catalog("memory://"), Principal("alice")
    >>> pid = add_product(catalog, alice, "p", title="P", description="")["id"]
    >>> for i, n in enumerate(["red", "green", "blue"]):
    ...     _ = add_band(catalog, alice, pid, n, srcband=i + 1, dtype="Byte",
    ...                  data_range=[0, 255], type="spectral")
    >>> bands, token = list_bands(catalog, alice, pid, limit=2)
    >>> [b["name"] for b in bands], [b["name"] for b in list_bands(
    ...     catalog, alice, pid, limit=2, continuation=token)[0]]
    (['blue', 'green'], ['red'])
    """
    found, token = list_children(
        catalog, principal, product_id, BAND, limit=limit, continuation=continuation
    )
    return [_result(d) for d in found], token


def _write(
    catalog: Catalog,
    principal: Principal,
    product_id: str,
    name: str,
    fields: Mapping[str, Any],
    *,
    replace: bool,
) -> dict[str, Any]:
    checked = _check_band(fields, partial=not replace)
    with catalog.transaction():
        product, old = _load_band(catalog, principal, product_id, name, "write", lock=True)
        if replace:
            body = {k: v for k, v in checked.items() if v is not None}
        else:
            body = {k: v for k, v in old.body.items() if k not in ("name", "product", "modified")}
            if "dtype" in checked and "nbits" not in checked:
                body.pop("nbits", None)  # follows the new dtype unless given
            for key, value in checked.items():
                if value is None:
                    body.pop(key, None)
                else:
                    body[key] = value
            missing = [k for k in _REQUIRED if body.get(k) is None]
            if missing:
                raise_problems(
                    [
                        Problem(
                            k, None, f"{k} is required", "a band cannot lose it", "service.required"
                        )
                        for k in missing
                    ]
                )
        body = _complete(body, product.body)
        body.update(name=old.body["name"], product=product_id, modified=now())
        document = Document(BAND, old.id, product_id, old.owner, old.readers, body)
        documents(catalog).put(document)
    return _result(document)


def change_band(
    catalog: Catalog, principal: Principal, product_id: str, name: str, **fields: Any
) -> dict[str, Any]:
    """Change only the given fields of a band (PATCH; needs ``write`` on its product).

    The whole band is checked again (a new ``dtype`` must still hold ``data_range``).

    >>> from catalogql.search import open_catalog
    >>> from catalogql.service.products import add_product
    >>> catalog, alice = open_catalog("memory://"), Principal("alice")
    >>> pid = add_product(catalog, alice, "p", title="P", description="")["id"]
    >>> _ = add_band(catalog, alice, pid, "red", srcband=1, dtype="Byte", data_range=[0, 255],
    ...              type="spectral")
    >>> change_band(catalog, alice, pid, "red", description="the red one")["description"]
    'the red one'
    """
    return _write(catalog, principal, product_id, name, fields, replace=False)


def replace_band(
    catalog: Catalog, principal: Principal, product_id: str, name: str, **fields: Any
) -> dict[str, Any]:
    """Replace every field of a band (PUT): ``srcband, dtype, data_range, type`` required.

    >>> from catalogql.search import open_catalog
    >>> from catalogql.service.products import add_product
    >>> catalog, alice = open_catalog("memory://"), Principal("alice")
    >>> pid = add_product(catalog, alice, "p", title="P", description="")["id"]
    >>> _ = add_band(catalog, alice, pid, "red", srcband=1, dtype="Byte", data_range=[0, 255],
    ...              type="spectral", color="Red")
    >>> band = replace_band(catalog, alice, pid, "red", srcband=2, dtype="UInt16",
    ...                     data_range=[0, 4000], type="spectral")
    >>> band["srcband"], "color" in band
    (2, False)
    """
    return _write(catalog, principal, product_id, name, fields, replace=True)


def remove_band(catalog: Catalog, principal: Principal, product_id: str, name: str) -> None:
    """Remove a band (needs ``write`` on its product).

    >>> from catalogql.search import open_catalog
    >>> from catalogql.service.products import add_product
    >>> catalog, alice = open_catalog("memory://"), Principal("alice")
    >>> pid = add_product(catalog, alice, "p", title="P", description="")["id"]
    >>> _ = add_band(catalog, alice, pid, "red", srcband=1, dtype="Byte", data_range=[0, 255],
    ...              type="spectral")
    >>> remove_band(catalog, alice, pid, "red")
    >>> list_bands(catalog, alice, pid)
    ([], None)
    """
    with catalog.transaction():
        _, band = _load_band(catalog, principal, product_id, name, "write", lock=True)
        documents(catalog).delete(BAND, band.id)
