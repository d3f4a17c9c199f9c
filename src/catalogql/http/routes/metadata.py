"""The Descartes Metadata v1 routes (WIRE.md section 4), under ``/metadata/v1``.

Flat JSON answers (no JSON:API envelope), over what the caller may read: what it may not read
is a 404, or simply not found by a search. Bodies are read by :func:`~catalogql.http.errors.
read_json` and checked by the service (every problem at once, each named by its field); unknown
body fields are ignored (the client forwards unknown keyword arguments verbatim).

* ``POST /search``: a bare JSON list of GeoJSON Features, with the ``X-Continuation-Token``
  header on every answer: a token when the page is full (the next page may be ``[]``), else
  empty (WIRE.md section 4: without the header on a non-empty page the client crashes).
* ``POST /summary``: counts, bytes, pixels, products and interval items.
* ``GET /get/{image_id}``, ``POST /batch/images``: images by full id.
* ``POST /products/search`` (``X-Continuation-Token`` only when more pages follow),
  ``GET /products/{product_id}``.
* ``POST /bands/search``, ``POST /bands/derived/search``, ``GET /bands/derived/{band_id}``,
  ``GET /bands/all/{product_id}``, ``GET /bands/id/{image_id}``, ``GET /bands/{band_id}``.
  Derived bands are the fixed table :data:`catalogql.service.reads.DERIVED_BANDS`.

>>> paths = sorted({route.path for route in router.routes})
>>> len(paths), paths[0], paths[-1]
(12, '/metadata/v1/bands/all/{product_id}', '/metadata/v1/summary')
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from starlette.concurrency import run_in_threadpool

from catalogql.http.deps import AUTHENTICATED, CurrentPrincipal, service
from catalogql.http.errors import JSONBody, read_json, responses_for
from catalogql.http.schemas import ref
from catalogql.service import Service

__all__ = ["CONTINUATION", "router"]

router = APIRouter(
    prefix="/metadata/v1", tags=["Descartes Metadata v1"], dependencies=AUTHENTICATED
)

CONTINUATION = "X-Continuation-Token"
"""The response header that carries the next page's token (sent back as ``continuation_token``)."""

Svc = Annotated[Service, Depends(service)]


def _ok(schema: str, description: str, *, token: str | None = None) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "description": description,
        "content": {"application/json": {"schema": ref(schema)}},
    }
    if token is not None:
        answer["headers"] = {
            CONTINUATION: {"description": token, "schema": {"type": "string"}},
        }
    return answer


def _body(schema: str) -> dict[str, Any]:
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": ref(schema)}},
        }
    }


def _id(what: str) -> Any:
    return Path(description=f"the {what} (percent-decoded; contains ':')")


_READ_ERRORS = responses_for(400, 401, 413, 422)
_GET_ERRORS = responses_for(401, 404)


@router.post(
    "/search",
    response_class=JSONBody,
    summary="Search images (Descartes Metadata)",
    openapi_extra=_body("MetadataSearchRequest"),
    responses={
        200: _ok(
            "FeatureList",
            "one page of GeoJSON Features",
            token="on every answer: the token of the next page when this one is full "
            "(the next may be empty), else empty",
        ),
        **_READ_ERRORS,
    },
)
async def search(request: Request, who: CurrentPrincipal, svc: Svc) -> JSONBody:
    """One page of the images matching the body; the next page's token in the header."""
    body = await read_json(request)
    features, token = await run_in_threadpool(svc.metadata_search, who, body)
    return JSONBody(features, headers={CONTINUATION: token or ""})


@router.post(
    "/summary",
    response_class=JSONBody,
    summary="Count images (Descartes Metadata)",
    openapi_extra=_body("MetadataSummaryRequest"),
    responses={200: _ok("MetadataSummary", "counts of the matching images"), **_READ_ERRORS},
)
async def summary(request: Request, who: CurrentPrincipal, svc: Svc) -> JSONBody:
    """Count, bytes, pixels (if asked), products and per-interval items of the matches."""
    body = await read_json(request)
    return JSONBody(await run_in_threadpool(svc.summary, who, body))


@router.get(
    "/get/{image_id}",
    response_class=JSONBody,
    summary="One image by id (Descartes Metadata)",
    responses={200: _ok("MetadataImage", "the image, flat"), **_GET_ERRORS},
)
async def get_image(
    image_id: Annotated[str, _id("image id")], who: CurrentPrincipal, svc: Svc
) -> JSONBody:
    """The image ``<product id>:<key>``, or 404 (also when the caller may not read it)."""
    return JSONBody(await run_in_threadpool(svc.image_by_id, who, image_id))


@router.post(
    "/batch/images",
    response_class=JSONBody,
    summary="Images by ids (Descartes Metadata)",
    openapi_extra=_body("BatchImagesRequest"),
    responses={
        200: _ok("MetadataImageList", "the images found, in the order of ids"),
        **responses_for(400, 401, 404, 413, 422),
    },
)
async def batch_images(request: Request, who: CurrentPrincipal, svc: Svc) -> JSONBody:
    """The images of ``ids``; those not found left out, or a 404 with ``ignore_not_found`` false."""
    body = await read_json(request)
    return JSONBody(await run_in_threadpool(svc.images_by_ids, who, body))


@router.post(
    "/products/search",
    response_class=JSONBody,
    summary="Search products (Descartes Metadata)",
    openapi_extra=_body("ProductsSearchRequest"),
    responses={
        200: _ok(
            "MetadataProductList",
            "one page of products, in id order",
            token="only when more pages follow: send it back as continuation_token",
        ),
        **_READ_ERRORS,
    },
)
async def search_products(request: Request, who: CurrentPrincipal, svc: Svc) -> JSONBody:
    """A page of the products the caller may read that match the body."""
    body = await read_json(request)
    found, token = await run_in_threadpool(svc.search_products, who, body)
    return JSONBody(found, headers={CONTINUATION: token} if token else None)


@router.get(
    "/products/{product_id}",
    response_class=JSONBody,
    summary="One product (Descartes Metadata)",
    responses={200: _ok("MetadataProduct", "the product, flat"), **_GET_ERRORS},
)
async def get_product(
    product_id: Annotated[str, _id("product id")], who: CurrentPrincipal, svc: Svc
) -> JSONBody:
    """The product, or 404 (also when the caller may not read it)."""
    return JSONBody(await run_in_threadpool(svc.get_product, who, product_id))


@router.post(
    "/bands/search",
    response_class=JSONBody,
    summary="Search the bands of products (Descartes Metadata)",
    openapi_extra=_body("BandsSearchRequest"),
    responses={200: _ok("MetadataBandList", "the matching bands"), **_READ_ERRORS},
)
async def search_bands(request: Request, who: CurrentPrincipal, svc: Svc) -> JSONBody:
    """The bands of ``products`` the caller may read, filtered by the body."""
    body = await read_json(request)
    return JSONBody(await run_in_threadpool(svc.search_bands, who, body))


@router.post(
    "/bands/derived/search",
    response_class=JSONBody,
    summary="Search the derived bands (Descartes Metadata)",
    openapi_extra=_body("DerivedBandsSearchRequest"),
    responses={200: _ok("DerivedBandList", "the matching derived bands"), **_READ_ERRORS},
)
async def search_derived_bands(request: Request, who: CurrentPrincipal, svc: Svc) -> JSONBody:
    """The derived bands (a fixed table of classic indices) that fit ``bands``."""
    body = await read_json(request)
    return JSONBody(await run_in_threadpool(svc.search_derived_bands, who, body))


@router.get(
    "/bands/derived/{band_id}",
    response_class=JSONBody,
    summary="One derived band (Descartes Metadata)",
    responses={200: _ok("DerivedBand", "the derived band"), **_GET_ERRORS},
)
async def get_derived_band(
    band_id: Annotated[str, _id("derived band id")], who: CurrentPrincipal, svc: Svc
) -> JSONBody:
    """The derived band ``derived:<name>``, or 404."""
    return JSONBody(await run_in_threadpool(svc.derived_band, who, band_id))


@router.get(
    "/bands/all/{product_id}",
    response_class=JSONBody,
    summary="Every band of a product (Descartes Metadata)",
    responses={
        200: _ok("MetadataBandMap", "{band id: band}; {} for a product not found"),
        **responses_for(401),
    },
)
async def bands_of_product(
    product_id: Annotated[str, _id("product id")], who: CurrentPrincipal, svc: Svc
) -> JSONBody:
    """``{band id: band}`` of the product; ``{}`` when the caller may not read it or it is none."""
    return JSONBody(await run_in_threadpool(svc.bands_of_product, who, product_id))


@router.get(
    "/bands/id/{image_id}",
    response_class=JSONBody,
    summary="Every band of an image's product (Descartes Metadata)",
    responses={200: _ok("MetadataBandMap", "{band id: band}"), **_GET_ERRORS},
)
async def bands_of_image(
    image_id: Annotated[str, _id("image id")], who: CurrentPrincipal, svc: Svc
) -> JSONBody:
    """``{band id: band}`` of the image's product, or 404 for an image not found."""
    return JSONBody(await run_in_threadpool(svc.bands_of_image, who, image_id))


@router.get(
    "/bands/{band_id}",
    response_class=JSONBody,
    summary="One band by id (Descartes Metadata)",
    responses={200: _ok("MetadataBand", "the band, flat"), **_GET_ERRORS},
)
async def get_band(
    band_id: Annotated[str, _id("band id")], who: CurrentPrincipal, svc: Svc
) -> JSONBody:
    """The band ``<product id>:<name>``, or 404 (also when the caller may not read it)."""
    return JSONBody(await run_in_threadpool(svc.band_by_id, who, band_id))
