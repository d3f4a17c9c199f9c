"""The routers of the HTTP API, one module per API, in the order :func:`create_app` mounts them.

``gbdx``: the GBDX Catalog v2 search and record routes; ``metadata``: the Descartes Metadata v1
routes. (The Descartes v1 Catalog routes are to come as a module beside them.)

>>> [router.prefix for router in ROUTERS]
['/catalog/v2', '/metadata/v1']
"""

from __future__ import annotations

from fastapi import APIRouter

from catalogql.http.routes import gbdx, metadata

__all__ = ["ROUTERS"]

ROUTERS: list[APIRouter] = [gbdx.router, metadata.router]
"""Every API router, each needing a valid bearer token on every route."""
