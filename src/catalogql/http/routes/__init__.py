"""The routers of the HTTP API, one module per API, in the order :func:`create_app` mounts them.

``gbdx``: the GBDX Catalog v2 search and record routes; ``catalog``: the Descartes Catalog v1
routes (its ``router`` needs a bearer token; its ``signed`` router holds the upload PUT, whose
URL's token is its credential, and the 404 of unknown paths under its prefix, so it comes after);
``metadata``: the Descartes Metadata v1 routes.

>>> [router.prefix for router in ROUTERS]
['/catalog/v2', '/metadata/v1/catalog', '/metadata/v1/catalog', '/metadata/v1']
"""

from __future__ import annotations

from fastapi import APIRouter

from catalogql.http.routes import catalog, gbdx, metadata

__all__ = ["ROUTERS"]

ROUTERS: list[APIRouter] = [gbdx.router, catalog.router, catalog.signed, metadata.router]
"""Every API router; each route needs a valid bearer token but those of ``catalog.signed``."""
