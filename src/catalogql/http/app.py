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

from catalogql.http.auth import resolve_secret
from catalogql.http.errors import JSONBody, install_error_handlers
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
        A FastAPI application; the service is opened at once and closed on the app's shutdown.
    """
    svc = catalog_url if isinstance(catalog_url, Service) else open_service(catalog_url, storage)
    if secret is None:
        key = resolve_secret(svc.catalog.url)
    else:
        key = secret.encode() if isinstance(secret, str) else bytes(secret)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
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
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("catalogql")
    except PackageNotFoundError:  # pragma: no cover - run from a source tree
        return "0"
