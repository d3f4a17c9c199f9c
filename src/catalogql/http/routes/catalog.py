"""The Descartes Catalog v1 routes (WIRE.md sections 3 and 6) under ``/metadata/v1/catalog``.

Products, bands and images: ``POST`` creates (201), ``GET`` reads, ``PUT`` replaces, ``PATCH``
changes, ``DELETE`` removes; every answer the client reads as JSON is a JSON:API document
(:func:`catalogql.service.products.jsonapi`). Bodies are read by
:func:`~catalogql.http.errors.read_json` (1 MiB) and checked by the service (every problem at
once, 400). ``DELETE /products/{pid}?cascade=True`` answers ``{"deletion_task": id}`` with the
Content-Type exactly ``application/json`` (the client compares it as a string); without cascade
an empty ``text/plain`` answer (the client then returns None; an answer without Content-Type
would crash it).

**Uploads** (WIRE.md section 6), two requests per file:

1. ``POST /products/{pid}/images/upload/{upload_id}`` (bearer token) checks the metadata and
   records the upload ``pending`` (:func:`catalogql.service.uploads.begin_upload`), then answers
   ``text/plain``: an absolute URL on this server, ``<base>/metadata/v1/catalog/uploads/<token>/
   <upload id>``, whose token (:func:`catalogql.http.auth.make_upload_token`) is signed with the
   server's secret, expires (:data:`~catalogql.http.auth.UPLOAD_TTL`) and names the principal,
   the product, the upload and its ``created`` time. An ndarray upload
   (``process_controls.upload_type == "ndarray"``) is recorded as ``<image_id>.tif``; its
   ``geotrans`` and ``proj4``/``wkt_srs`` are checked here and travel in the token.
2. ``PUT`` of that URL (no Authorization: the token is the only credential) streams the body to a
   temporary file of the file store (never whole in memory; past the service's
   ``max_upload_size`` a 413, also when ``Content-Length`` says so up front, and the upload ends
   ``failure``), then runs :func:`catalogql.service.uploads.run_upload` in a thread and answers
   200 ``text/plain`` with the upload's status (``SUCCESS``, ``FAILURE: <why>``, or ``PENDING``
   for a part of a multi-file upload waiting for the others). What went wrong inside the file is
   the upload's status (``upload_result``), as on the real service, which processed uploads
   later; what is wrong with the request is its answer: 401 for an expired, forged or
   malformed token, 403 when the URL was used already.

   A URL works once: a repeated PUT of it (a retry after a lost answer included) is a 403 that
   says the URL was used and what the upload's status is; a new upload needs a new URL. (The
   ``X-Request-Group`` idempotency does not cover the PUT: it has no bearer token.)

   When the server stops (SIGTERM) during a PUT, uvicorn lets the request finish (up to
   :data:`catalogql.http.serve.GRACE_SECONDS`); a process killed before that leaves the upload
   ``running`` under its dead pid, and the next start's recovery
   (:func:`catalogql.service.uploads.recover_uploads`) marks it ``failure``; files are stored
   atomically (:class:`~catalogql.service.storage.FileStore`), so nothing is half-written.

``POST /products/{pid}/uploads`` pages the uploads (``meta.continuation_token`` always present,
null on the last page); ``GET /products/{pid}/uploads/{upload_id}`` is one upload's status.

Ids arrive percent-decoded; an id holding ``/``, ``?`` or ``#`` cannot arrive as one path
segment (WIRE.md section 1), and any path under the prefix that no route takes is a 404 saying
so.

>>> sorted({route.path for route in router.routes})[:3]
['/metadata/v1/catalog/products', '/metadata/v1/catalog/products/deletion_tasks/{task_id}', \
'/metadata/v1/catalog/products/{product_id}']
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from pathlib import Path as FilePath
from typing import Annotated, Any, BinaryIO, cast
from urllib.parse import quote

from fastapi import APIRouter, Depends, Path, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from catalogql.errors import (
    CatalogqlError,
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    Problem,
    TooLarge,
)
from catalogql.http.auth import UPLOAD_TTL, UploadGrant, make_upload_token, read_upload_token
from catalogql.http.deps import AUTHENTICATED, CurrentPrincipal, request_principal, service
from catalogql.http.errors import JSONBody, read_json, responses_for
from catalogql.http.schemas import ref
from catalogql.service import Service, uploads
from catalogql.service.products import jsonapi

__all__ = ["PREFIX", "RESERVED", "router", "signed"]

PREFIX = "/metadata/v1/catalog"
"""Where the Catalog v1 API lives (the client's ``catalog_url``)."""

RESERVED = frozenset(
    {
        "self",
        "catalog",
        "principal",
        "product_id",
        "image_id",
        "name",
        "id",
        "hooks",
        "set_global_permissions",
        "cascade",
        "overwrite",
        "multi_file",
        "upload_id",
        "source",
        "continuation",
        "limit",
    }
)
"""Body keys that are no field of a product, band or image (the service's own parameters)."""

router = APIRouter(prefix=PREFIX, tags=["Descartes Catalog v1"], dependencies=AUTHENTICATED)
"""Every Catalog route that needs a bearer token."""

signed = APIRouter(prefix=PREFIX, tags=["Descartes Catalog v1"])
"""The upload PUT (its URL's token is its credential) and the 404 of paths no route takes."""

Svc = Annotated[Service, Depends(service)]
ProductId = Annotated[str, Path(description="the product's id, <namespace>:<name>")]
BandName = Annotated[str, Path(description="the band's name")]
ImageKey = Annotated[str, Path(description="the image's key (its id without the product's)")]
UploadId = Annotated[str, Path(description="the upload's id (the file's name)")]
Flag = Annotated[
    str | None,
    Query(description="true or false (also Python's True/False)", pattern="(?i)^(true|false|1|0)$"),
]

_HINT_ID = "ids cannot hold / ? # (a / splits the path, ? starts the query, # ends the URL)"


def _json(schema: str, description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": ref(schema)}}}


def _body_schema(schema: str) -> dict[str, Any]:
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": ref(schema)}},
        }
    }


_READ_ERRORS = responses_for(400, 401, 403, 404)
_WRITE_ERRORS = responses_for(400, 401, 403, 404, 409, 413, 422)


def _flag(name: str, value: str | None) -> bool:
    """A query flag: ``true``/``True``/``1`` or ``false``/``False``/``0``; absent is false."""
    if value is None:
        return False
    lowered = value.strip().lower()
    if lowered in ("true", "1"):
        return True
    if lowered in ("false", "0"):
        return False
    message = f"{name} must be true or false, not {value!r}"
    raise InvalidInput(message, [Problem(name, None, message, f"?{name}=True", "request.flag")])


async def _object(request: Request) -> dict[str, Any]:
    """The request's body, which must be a JSON object."""
    body = await read_json(request)
    if not isinstance(body, dict):
        message = f"the body must be a JSON object, not {type(body).__name__}"
        hint = 'send {"field": value, ...}'
        raise InvalidInput(message, [Problem("", None, message, hint, "request.object")])
    return body


def _fields(body: dict[str, Any], **path: str) -> dict[str, Any]:
    """The body's fields for the service; keys naming the path's ids must agree with the path.

    ``path`` maps a body key (``id``, ``name``) to the id the path gives; a body key of
    :data:`RESERVED` that is no such key is refused (it is no field of anything).
    """
    problems: list[Problem] = []
    fields = dict(body)
    for key, value in path.items():
        if key in fields:
            given = fields.pop(key)
            if given != value and not (isinstance(given, str) and value.endswith(f":{given}")):
                message = f"{key} {given!r} in the body is not the {key} of the path, {value!r}"
                hint = f"leave {key} out of the body (the path names it)"
                problems.append(Problem(key, None, message, hint, "request.id-mismatch"))
    for key in sorted(RESERVED & fields.keys()):
        del fields[key]
        message = f"unknown field {key!r}"
        problems.append(
            Problem(key, None, message, "leave it out of the body", "service.unknown-field")
        )
    if problems:
        raise InvalidInput(problems[0].message, problems)
    return fields


def _required_id(body: dict[str, Any], key: str) -> str:
    value = body.pop(key, None)
    if not isinstance(value, str) or not value:
        message = f"{key} is required (a non-empty string), not {value!r}"
        raise InvalidInput(
            message, [Problem(key, None, message, f'send "{key}": "..."', "service.required")]
        )
    return value


def _doc(kind: str, resource: Mapping[str, Any], status: int = 200) -> JSONBody:
    return JSONBody(jsonapi(kind, resource), status_code=status)


# -- products ----------------------------------------------------------------------------------


@router.post(
    "/products",
    status_code=201,
    response_class=JSONBody,
    summary="Create a product (add_product)",
    openapi_extra=_body_schema("ProductCreate"),
    responses={201: _json("Product", "the product, with its final id"), **_WRITE_ERRORS},
)
async def add_product(request: Request, who: CurrentPrincipal, svc: Svc) -> JSONBody:
    """Create the product ``id`` (namespaced unless it is already) with the body's fields."""
    body = await _object(request)
    product_id = _required_id(body, "id")
    fields = _fields(body)
    created = await run_in_threadpool(lambda: svc.add_product(who, product_id, **fields))
    return _doc("product", created, 201)


@router.get(
    "/products/deletion_tasks/{task_id}",
    response_class=JSONBody,
    summary="A cascade deletion's status (product_deletion_status)",
    responses={200: _json("DeletionStatus", "the task's status"), **_READ_ERRORS},
)
async def deletion_status(
    task_id: Annotated[str, Path(description="the task id remove_product answered")],
    who: CurrentPrincipal,
    svc: Svc,
) -> JSONBody:
    """The status of a cascade deletion (routed before ``/products/{product_id}``)."""
    return JSONBody(await run_in_threadpool(svc.product_deletion_status, who, task_id))


@router.get(
    "/products/{product_id}",
    response_class=JSONBody,
    summary="A product (get_product)",
    responses={200: _json("Product", "the product"), **_READ_ERRORS},
)
async def get_product(product_id: ProductId, who: CurrentPrincipal, svc: Svc) -> JSONBody:
    """The product, if the principal may read it (else 404)."""
    return _doc("product", await run_in_threadpool(svc.get_product, who, product_id))


@router.put(
    "/products/{product_id}",
    response_class=JSONBody,
    summary="Replace a product's fields (replace_product)",
    openapi_extra=_body_schema("ProductReplace"),
    responses={200: _json("Product", "the product"), **_WRITE_ERRORS},
)
async def replace_product(
    request: Request,
    product_id: ProductId,
    who: CurrentPrincipal,
    svc: Svc,
    set_global_permissions: Flag = None,
) -> JSONBody:
    """Replace every field (title and description required); optionally copy grants down."""
    glob = _flag("set_global_permissions", set_global_permissions)
    fields = _fields(await _object(request), id=product_id)
    answer = await run_in_threadpool(
        lambda: svc.replace_product(who, product_id, set_global_permissions=glob, **fields)
    )
    return _doc("product", answer)


@router.patch(
    "/products/{product_id}",
    response_class=JSONBody,
    summary="Change a product's given fields (change_product)",
    openapi_extra=_body_schema("ProductChange"),
    responses={200: _json("Product", "the product"), **_WRITE_ERRORS},
)
async def change_product(
    request: Request,
    product_id: ProductId,
    who: CurrentPrincipal,
    svc: Svc,
    set_global_permissions: Flag = None,
) -> JSONBody:
    """Change the given fields; optionally copy the grants to the bands and images."""
    glob = _flag("set_global_permissions", set_global_permissions)
    fields = _fields(await _object(request), id=product_id)
    answer = await run_in_threadpool(
        lambda: svc.change_product(who, product_id, set_global_permissions=glob, **fields)
    )
    return _doc("product", answer)


@router.delete(
    "/products/{product_id}",
    summary="Remove a product (remove_product)",
    responses={
        200: {
            "description": "cascade=True: the deletion task, Content-Type exactly "
            "application/json; else an empty text/plain answer",
            "content": {
                "application/json": {"schema": ref("DeletionTask")},
                "text/plain": {"schema": {"type": "string", "maxLength": 0}},
            },
        },
        **_WRITE_ERRORS,
    },
)
async def remove_product(
    product_id: ProductId,
    who: CurrentPrincipal,
    svc: Svc,
    cascade: Flag = None,
) -> Response:
    """Remove the product; with ``cascade=True`` its bands and images too (a deletion task)."""
    with_children = _flag("cascade", cascade)
    answer = await run_in_threadpool(
        lambda: svc.remove_product(who, product_id, cascade=with_children)
    )
    if answer is None:
        return Response(b"", media_type="text/plain")
    return JSONBody(answer)  # Content-Type: application/json, no charset


# -- bands -------------------------------------------------------------------------------------


@router.post(
    "/products/{product_id}/bands",
    status_code=201,
    response_class=JSONBody,
    summary="Add a band (add_band)",
    openapi_extra=_body_schema("BandCreate"),
    responses={201: _json("Band", "the band"), **_WRITE_ERRORS},
)
async def add_band(
    request: Request, product_id: ProductId, who: CurrentPrincipal, svc: Svc
) -> JSONBody:
    """Add the band ``name`` (srcband, dtype, data_range and type required)."""
    body = await _object(request)
    name = _required_id(body, "name")
    fields = _fields(body)
    created = await run_in_threadpool(lambda: svc.add_band(who, product_id, name, **fields))
    return _doc("band", created, 201)


@router.get(
    "/products/{product_id}/bands/{name}",
    response_class=JSONBody,
    summary="A band (get_band)",
    responses={200: _json("Band", "the band"), **_READ_ERRORS},
)
async def get_band(
    product_id: ProductId, name: BandName, who: CurrentPrincipal, svc: Svc
) -> JSONBody:
    """The band, if the principal may read it (else 404)."""
    return _doc("band", await run_in_threadpool(svc.get_band, who, product_id, name))


@router.put(
    "/products/{product_id}/bands/{name}",
    response_class=JSONBody,
    summary="Replace a band's fields (replace_band)",
    openapi_extra=_body_schema("BandReplace"),
    responses={200: _json("Band", "the band"), **_WRITE_ERRORS},
)
async def replace_band(
    request: Request, product_id: ProductId, name: BandName, who: CurrentPrincipal, svc: Svc
) -> JSONBody:
    """Replace every field of the band."""
    fields = _fields(await _object(request), name=name)
    answer = await run_in_threadpool(lambda: svc.replace_band(who, product_id, name, **fields))
    return _doc("band", answer)


@router.patch(
    "/products/{product_id}/bands/{name}",
    response_class=JSONBody,
    summary="Change a band's given fields (change_band)",
    openapi_extra=_body_schema("BandChange"),
    responses={200: _json("Band", "the band"), **_WRITE_ERRORS},
)
async def change_band(
    request: Request, product_id: ProductId, name: BandName, who: CurrentPrincipal, svc: Svc
) -> JSONBody:
    """Change the given fields of the band."""
    fields = _fields(await _object(request), name=name)
    answer = await run_in_threadpool(lambda: svc.change_band(who, product_id, name, **fields))
    return _doc("band", answer)


@router.delete(
    "/products/{product_id}/bands/{name}",
    response_class=JSONBody,
    summary="Remove a band (remove_band)",
    responses={200: _json("Removed", "removed (the client ignores the body)"), **_WRITE_ERRORS},
)
async def remove_band(
    product_id: ProductId, name: BandName, who: CurrentPrincipal, svc: Svc
) -> JSONBody:
    """Remove the band (the client ignores the answer's body)."""
    await run_in_threadpool(svc.remove_band, who, product_id, name)
    return JSONBody({"meta": {"removed": {"type": "band", "product": product_id, "id": name}}})


# -- images ------------------------------------------------------------------------------------


@router.post(
    "/products/{product_id}/images",
    status_code=201,
    response_class=JSONBody,
    summary="Add an image's metadata (add_image)",
    openapi_extra=_body_schema("ImageCreate"),
    responses={201: _json("Image", "the image"), **_WRITE_ERRORS},
)
async def add_image(
    request: Request, product_id: ProductId, who: CurrentPrincipal, svc: Svc
) -> JSONBody:
    """Add the image ``id`` (its key) with the body's fields (and its search record)."""
    body = await _object(request)
    key = _required_id(body, "id")
    fields = _fields(body)
    created = await run_in_threadpool(lambda: svc.add_image(who, product_id, key, **fields))
    return _doc("image", created, 201)


@router.get(
    "/products/{product_id}/images/{image_id}",
    response_class=JSONBody,
    summary="An image (get_image)",
    responses={200: _json("Image", "the image"), **_READ_ERRORS},
)
async def get_image(
    product_id: ProductId, image_id: ImageKey, who: CurrentPrincipal, svc: Svc
) -> JSONBody:
    """The image, if the principal may read it (else 404)."""
    return _doc("image", await run_in_threadpool(svc.get_image, who, product_id, image_id))


@router.put(
    "/products/{product_id}/images/{image_id}",
    response_class=JSONBody,
    summary="Replace an image's fields (replace_image)",
    openapi_extra=_body_schema("ImageReplace"),
    responses={200: _json("Image", "the image"), **_WRITE_ERRORS},
)
async def replace_image(
    request: Request, product_id: ProductId, image_id: ImageKey, who: CurrentPrincipal, svc: Svc
) -> JSONBody:
    """Replace every field of the image (and its search record)."""
    fields = _fields(await _object(request), id=image_id)
    answer = await run_in_threadpool(lambda: svc.replace_image(who, product_id, image_id, **fields))
    return _doc("image", answer)


@router.patch(
    "/products/{product_id}/images/{image_id}",
    response_class=JSONBody,
    summary="Change an image's given fields (change_image)",
    openapi_extra=_body_schema("ImageChange"),
    responses={200: _json("Image", "the image"), **_WRITE_ERRORS},
)
async def change_image(
    request: Request, product_id: ProductId, image_id: ImageKey, who: CurrentPrincipal, svc: Svc
) -> JSONBody:
    """Change the given fields of the image (and its search record)."""
    fields = _fields(await _object(request), id=image_id)
    answer = await run_in_threadpool(lambda: svc.change_image(who, product_id, image_id, **fields))
    return _doc("image", answer)


@router.delete(
    "/products/{product_id}/images/{image_id}",
    response_class=JSONBody,
    summary="Remove an image (remove_image)",
    responses={200: _json("Removed", "removed (the client ignores the body)"), **_WRITE_ERRORS},
)
async def remove_image(
    product_id: ProductId, image_id: ImageKey, who: CurrentPrincipal, svc: Svc
) -> JSONBody:
    """Remove the image and its search record (the client ignores the answer's body)."""
    await run_in_threadpool(svc.remove_image, who, product_id, image_id)
    return JSONBody({"meta": {"removed": {"type": "image", "product": product_id, "id": image_id}}})


# -- uploads -----------------------------------------------------------------------------------


def _controls(body: dict[str, Any]) -> tuple[str, Mapping[str, Any] | None, bool]:
    """``process_controls``' upload type and multi_file, and the body's ``overwrite``."""
    problems: list[Problem] = []
    controls = body.pop("process_controls", None)
    if controls is None:
        controls = {}
    if not isinstance(controls, dict):
        message = f"process_controls must be an object, not {controls!r}"
        problems.append(
            Problem(
                "process_controls",
                None,
                message,
                'e.g. {"upload_type": "file"}',
                "upload.controls",
            )
        )
        controls = {}
    kind = controls.get("upload_type", "file")
    if kind not in ("file", "ndarray"):
        message = f"process_controls.upload_type must be file or ndarray, not {kind!r}"
        problems.append(
            Problem(
                "process_controls.upload_type",
                None,
                message,
                "file: a GeoTIFF; ndarray: a .npy",
                "upload.controls",
            )
        )
    multi = controls.get("multi_file")
    if multi is not None and not isinstance(multi, dict):
        message = f"process_controls.multi_file must be an object, not {multi!r}"
        problems.append(
            Problem(
                "process_controls.multi_file",
                None,
                message,
                '{"image_files": ["a.tif", "b.tif"], "image_id": "scene"}',
                "upload.multi-file",
            )
        )
    overwrite = body.pop("overwrite", False)
    if not isinstance(overwrite, bool):
        message = f"overwrite must be true or false, not {overwrite!r}"
        problems.append(Problem("overwrite", None, message, "overwrite: true", "upload.overwrite"))
    if problems:
        raise InvalidInput(problems[0].message, problems)
    return str(kind), multi, bool(overwrite)


def _check_ndarray(body: dict[str, Any]) -> dict[str, Any]:
    """The ndarray's georeferencing from the body (popped), checked as the PUT will use it."""
    import numpy as np

    params = {
        "geotrans": body.pop("geotrans", None),
        "proj4": body.pop("proj4", None),
        "wkt_srs": body.pop("wkt_srs", None),
    }
    for ignored in ("overviews", "overview_resampler"):
        body.pop(ignored, None)  # no overviews are built; the GeoTIFF is stored as sent
    uploads.ndarray_geotiff(np.zeros((1, 1), dtype="uint8"), **params)  # 400: each named
    return params


def _upload_url(request: Request, token: str, upload_id: str) -> str:
    base = str(request.base_url).rstrip("/")
    return f"{base}{PREFIX}/uploads/{token}/{quote(upload_id, safe='')}"


@router.post(
    "/products/{product_id}/images/upload/{upload_id}",
    response_class=PlainTextResponse,
    summary="Begin an upload: its metadata in, a signed PUT URL out (upload_image)",
    openapi_extra=_body_schema("UploadBody"),
    responses={
        200: {
            "description": "the absolute URL to PUT the file to (no Authorization needed: "
            "the URL carries a signed token, valid once, for an hour)",
            "content": {"text/plain": {"schema": {"type": "string", "format": "uri"}}},
        },
        **_WRITE_ERRORS,
    },
)
async def begin_upload(
    request: Request,
    product_id: ProductId,
    upload_id: UploadId,
    who: CurrentPrincipal,
    svc: Svc,
) -> PlainTextResponse:
    """Record the upload ``pending`` and answer the URL its file goes to (WIRE.md section 6)."""
    body = await _object(request)
    kind, multi, overwrite = _controls(body)
    extra: dict[str, Any] = {}
    if kind == "ndarray":
        extra["ndarray"] = await run_in_threadpool(_check_ndarray, body)
        key, upload_id = upload_id, f"{upload_id}.tif"
    elif multi is not None:
        key = str(multi.get("image_id"))
    else:
        key = uploads.image_key_of(upload_id)

    def begin() -> dict[str, Any]:
        svc.files  # noqa: B018 - a service without file storage refuses here (400), not later
        return uploads.begin_upload(
            svc.catalog,
            who,
            product_id,
            upload_id,
            image_key=key,
            overwrite=overwrite,
            metadata=body,
            multi_file=multi,
        )

    status = await run_in_threadpool(begin)
    grant = UploadGrant(who, product_id, upload_id, str(status["created"]), extra)
    secret: bytes = request.app.state.secret
    ttl: int = getattr(request.app.state, "upload_ttl", UPLOAD_TTL)
    token = make_upload_token(secret, grant, ttl=ttl)
    return PlainTextResponse(_upload_url(request, token, upload_id))


class _Refused:
    """A source whose first read raises ``error``: run_upload then ends the upload failed."""

    name = "refused"

    def __init__(self, error: CatalogqlError) -> None:
        self.error = error

    def read(self, size: int = -1) -> bytes:
        raise self.error


def _refused(error: CatalogqlError) -> BinaryIO:
    return cast(BinaryIO, _Refused(error))


def _used(status: Mapping[str, Any], upload_id: str) -> Forbidden:
    state = str(status.get("status", "")).upper()
    hint = (
        "check it with upload_result; to send a file again, ask for a new URL "
        "(POST …/images/upload/<upload id>)"
    )
    return Forbidden(
        f"this upload URL was used already: upload {upload_id!r} is {state}; {hint}",
        hint=hint,
        code="upload.url-used",
    )


def _too_large(limit: int) -> TooLarge:
    return TooLarge(
        f"the file is larger than this server's upload limit of {limit} bytes",
        hint="upload a smaller file (or ask the operator to raise the limit)",
        code="upload.too-large",
    )


def _run(svc: Service, grant: UploadGrant, source: uploads.Source) -> dict[str, Any]:
    """Run the pending upload on ``source`` (in a thread); a second run of it is a 403."""
    who, pid, uid = grant.principal, grant.product_id, grant.upload_id
    params = grant.extra.get("ndarray")
    if isinstance(params, dict) and not isinstance(source, _Refused):
        try:
            source = uploads.ndarray_geotiff(FilePath(str(source)).read_bytes(), **params)
        except InvalidInput as error:
            source = _refused(error)
    try:
        return uploads.run_upload(
            svc.catalog,
            svc.files,
            who,
            pid,
            uid,
            source,
            hook=svc.upload_hook,
            max_size=svc.max_upload_size,
        )
    except Conflict:
        raise _used(uploads.upload_status(svc.catalog, who, pid, uid), uid) from None


def _waiting(svc: Service, grant: UploadGrant) -> None:
    """Refuse (403) unless the grant's upload is still waiting for its file."""
    status = uploads.upload_status(svc.catalog, grant.principal, grant.product_id, grant.upload_id)
    if (
        status.get("created") != grant.created
        or status.get("status") != "pending"
        or status.get("sha256")
    ):
        raise _used(status, grant.upload_id)


def _answer(status: Mapping[str, Any]) -> PlainTextResponse:
    state = str(status.get("status", "")).upper()
    text = f"{state}: upload {status.get('id')!r} of product {status.get('product')!r}"
    errors = status.get("errors") or []
    if errors and isinstance(errors[0], Mapping):
        text += f": {errors[0].get('message')}"
    return PlainTextResponse(text + "\n")


@signed.put(
    "/uploads/{token}/{name}",
    response_class=PlainTextResponse,
    summary="Send an upload's file to the URL the upload POST answered (no Authorization)",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/octet-stream": {
                    "schema": {"type": "string", "format": "binary"},
                }
            },
        }
    },
    responses={
        200: {
            "description": "the file was received and processed; the body says the upload's "
            "status (SUCCESS, FAILURE: why, PENDING for a part of a multi-file upload)",
            "content": {"text/plain": {"schema": {"type": "string"}}},
        },
        **responses_for(400, 401, 403, 404, 413),
    },
)
async def put_upload(
    request: Request,
    token: Annotated[str, Path(description="the signed token of the URL")],
    name: Annotated[str, Path(description="the upload's id")],
    svc: Svc,
) -> PlainTextResponse:
    """Stream the body to a temporary file, then run the upload on it (see the module doc)."""
    secret: bytes = request.app.state.secret
    grant = read_upload_token(secret, token)
    if name != grant.upload_id:
        raise NotFound(
            f"the upload URL names {name!r} but its token is for {grant.upload_id!r}: "
            "PUT to the URL exactly as the upload POST answered it",
            hint="PUT to the URL exactly as the upload POST answered it",
            code="upload.url",
        )
    await run_in_threadpool(_waiting, svc, grant)
    limit = svc.max_upload_size
    announced = request.headers.get("content-length", "")
    if announced.isdigit() and int(announced) > limit:
        error = _too_large(limit)
        await run_in_threadpool(_run, svc, grant, _refused(error))
        raise error
    spool = await run_in_threadpool(lambda: svc.files.temporary())
    try:
        size = 0
        with spool.open("wb") as file:
            try:
                async for chunk in request.stream():
                    size += len(chunk)
                    if size > limit:
                        break
                    file.write(chunk)
            except ClientDisconnect:
                raise InvalidInput(  # nobody reads it; the upload waits for a PUT again
                    "the client disconnected before the whole file arrived",
                    hint="PUT the file to the same URL again",
                    code="upload.incomplete",
                ) from None
        if size > limit:
            error = _too_large(limit)
            await run_in_threadpool(_run, svc, grant, _refused(error))
            raise error
        status = await run_in_threadpool(_run, svc, grant, spool)
    finally:
        await run_in_threadpool(lambda: spool.unlink(missing_ok=True))
    return _answer(status)


def _since(name: str, value: Any, problems: list[Problem]) -> str | None:
    """An ISO 8601 time or unix seconds as the statuses' own text (``…T…Z``), to compare."""
    if value is None:
        return None
    try:
        if isinstance(value, int | float) and not isinstance(value, bool):
            moment = datetime.datetime.fromtimestamp(value, datetime.UTC)
        elif isinstance(value, str):
            moment = datetime.datetime.fromisoformat(value)
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=datetime.UTC)
        else:
            raise TypeError(value)
        return moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    except (TypeError, ValueError, OverflowError, OSError):
        message = f"{name} must be an ISO 8601 time or unix seconds, not {value!r}"
        problems.append(
            Problem(name, None, message, f'e.g. "{name}": "2020-01-01T00:00:00Z"', "upload.time")
        )
        return None


_RESULTS_FIELDS = ("limit", "offset", "status", "created", "updated", "continuation_token")


@router.post(
    "/products/{product_id}/uploads",
    response_class=JSONBody,
    summary="A page of a product's uploads (upload_results)",
    openapi_extra=_body_schema("UploadResultsBody"),
    responses={
        200: _json("UploadResults", "the page; meta.continuation_token is null on the last"),
        **_READ_ERRORS,
        **responses_for(413),
    },
)
async def upload_results(
    request: Request, product_id: ProductId, who: CurrentPrincipal, svc: Svc
) -> JSONBody:
    """The uploads in id order; ``created``/``updated``: only those at or after that time.

    ``offset`` skips that many on the first page (without ``continuation_token``); the time
    filters apply to each page, so a page may hold fewer than ``limit`` (the token goes on).
    """
    body = await _object(request)
    problems: list[Problem] = []
    for key in sorted(body.keys() - set(_RESULTS_FIELDS)):
        message = f"unknown field {key!r}"
        hint = f"upload_results takes {', '.join(_RESULTS_FIELDS)}"
        problems.append(Problem(key, None, message, hint, "service.unknown-field"))
    limit = body.get("limit", 100)
    offset = body.get("offset", 0)
    if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
        message = f"offset must be a non-negative integer, not {offset!r}"
        problems.append(Problem("offset", None, message, '"offset": 0', "service.offset"))
    created = _since("created", body.get("created"), problems)
    updated = _since("updated", body.get("updated"), problems)
    if problems:
        raise InvalidInput(problems[0].message, problems)
    status = body.get("status")
    token = body.get("continuation_token")

    def pages() -> dict[str, Any]:
        nonlocal token
        skip = offset if token is None else 0
        while skip > 0:
            step = min(skip, 1000)
            skipped = svc.list_uploads(
                who, product_id, status=status, limit=step, continuation=token
            )
            skip -= step
            token = skipped["meta"]["continuation_token"]
            if token is None:
                svc.list_uploads(who, product_id, status=status, limit=limit)  # checks limit
                return {"data": [], "meta": {"continuation_token": None}}
        answer = svc.list_uploads(who, product_id, status=status, limit=limit, continuation=token)
        answer["data"] = [
            item
            for item in answer["data"]
            if (created is None or str(item["attributes"].get("created") or "") >= created)
            and (updated is None or str(item["attributes"].get("updated") or "") >= updated)
        ]
        return answer

    return JSONBody(await run_in_threadpool(pages))


@router.get(
    "/products/{product_id}/uploads/{upload_id}",
    response_class=JSONBody,
    summary="One upload's status (upload_result)",
    responses={200: _json("UploadResult", "the upload"), **_READ_ERRORS},
)
async def upload_result(
    product_id: ProductId, upload_id: UploadId, who: CurrentPrincipal, svc: Svc
) -> JSONBody:
    """The upload's status (an ndarray upload's id is ``<image_id>.tif``)."""
    status = await run_in_threadpool(svc.upload_status, who, product_id, upload_id)
    return JSONBody({"data": uploads.wire_status(status)})


# -- the rest ----------------------------------------------------------------------------------


async def _no_route(request: Request) -> Response:
    """Any other path under the prefix: 405 (another method takes it), 401, or a clear 404."""
    allowed: set[str] = set()
    for route in [*router.routes, *signed.routes]:
        pattern = getattr(route, "path_regex", None)
        methods = getattr(route, "methods", None)
        if getattr(route, "endpoint", None) is _no_route or pattern is None or not methods:
            continue
        if pattern.match(request.scope["path"]) and request.method not in methods:
            allowed.update(methods)
    if allowed:
        raise StarletteHTTPException(405, headers={"Allow": ", ".join(sorted(allowed))})
    request_principal(request)  # then 401, as on every route
    raise NotFound(
        f"Not Found: no route {request.method} {request.url.path} ({_HINT_ID})",
        hint=_HINT_ID + "; see /openapi.json for the routes",
        code="request.no-route",
    )


signed.routes.append(
    Route(
        PREFIX + "/{rest:path}",
        _no_route,
        methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
        include_in_schema=False,
    )
)
