"""The ASGI application: :func:`create_app` over a catalog URL.

>>> from fastapi.testclient import TestClient
>>> with TestClient(create_app("memory://", secret=b"s" * 32)) as client:
...     client.get("/healthz").json()
{'status': 'ok'}
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from catalogql.http.access import AccessLog
from catalogql.http.auth import resolve_secret
from catalogql.http.errors import JSONBody, install_error_handlers, responses_for
from catalogql.http.idempotency import Idempotency
from catalogql.http.routes import ROUTERS
from catalogql.http.schemas import SCHEMAS, ref
from catalogql.service import Service, open_service

__all__ = ["TITLE", "create_app"]

LOG = logging.getLogger("catalogql.http")

TITLE = "catalogql"


def create_app(
    catalog_url: str | Service,
    *,
    storage: str | Path | None = None,
    secret: bytes | str | None = None,
) -> FastAPI:
    """The HTTP API over the catalog at ``catalog_url`` (or over an open service).

    Args:
        catalog_url: ``memory://``, ``sqlite:///path``, ``postgresql://…`` (opened, and
            created if missing, by :func:`catalogql.open_service`), or a service.
        storage: The folder uploaded files go to (see :attr:`Service.storage`).
        secret: The token secret; None: :func:`catalogql.http.auth.resolve_secret` (the
            ``CATALOGQL_SECRET`` variable, or the secret file beside the catalog).

    Returns:
        A FastAPI application. A service it opens from a URL is opened at once and closed on
        the app's shutdown; a service given is left open (its opener closes it), so the app
        may be started and stopped several times over it (test clients, Schemathesis).
    """
    owned = not isinstance(catalog_url, Service)
    svc = catalog_url if isinstance(catalog_url, Service) else open_service(catalog_url, storage)
    if secret is None:
        key = resolve_secret(svc.catalog.url)
    else:
        key = secret.encode() if isinstance(secret, str) else bytes(secret)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        if owned:  # a service the caller opened is the caller's to close
            svc.close()

    app = FastAPI(
        title=TITLE,
        summary="GBDX Catalog v2 search over a catalogql catalog",
        version=_version(),
        openapi_url="/openapi.json",
        docs_url=None,
        redoc_url=None,
        default_response_class=JSONBody,
        lifespan=lifespan,
    )
    app.state.service = svc
    app.state.secret = key
    install_error_handlers(app)

    @app.get(
        "/healthz",
        summary="Whether the server is up (no token needed)",
        responses={
            200: {"description": "up", "content": {"application/json": {"schema": ref("Health")}}}
        },
    )
    async def healthz() -> JSONBody:
        return JSONBody({"status": "ok"})

    for router in ROUTERS:
        app.include_router(router)
    app.add_middleware(Idempotency, catalog=svc.catalog, secret=key)
    app.add_middleware(AccessLog)  # the outermost: every answer, a kept one too, is logged

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                summary=app.summary,
                routes=app.routes,
            )
            components = schema.setdefault("components", {})
            components.setdefault("schemas", {}).update(SCHEMAS)
            app.openapi_schema = _as_answered(schema)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


_FRAMEWORK_422 = "#/components/schemas/HTTPValidationError"


def _as_answered(schema: dict[str, Any]) -> dict[str, Any]:
    """The OpenAPI ``schema`` with the answers the app really gives.

    FastAPI documents a 422 ``HTTPValidationError`` on every route with parameters or a body,
    but the app answers the framework's validation errors as 400s with the :data:`Error` body
    (:func:`catalogql.http.errors.install_error_handlers`): each such 422 becomes that 400, and
    the framework's schemas go. Every operation that needs a token documents the 401.
    """
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]
            framework = responses.get("422", {}).get("content", {}).get("application/json", {})
            if framework.get("schema", {}).get("$ref") == _FRAMEWORK_422:
                del responses["422"]
                responses.setdefault("400", responses_for(400)[400])
            if operation.get("security"):
                responses.setdefault("401", responses_for(401)[401])
    names = schema.get("components", {}).get("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        names.pop(name, None)
    return schema


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("catalogql")
    except PackageNotFoundError:  # pragma: no cover - run from a source tree
        return "0"
