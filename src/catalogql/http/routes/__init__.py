"""The routers of the HTTP API, one module per API, in the order :func:`create_app` mounts them.

``gbdx``: the GBDX Catalog v2 search and record routes. (The Descartes v1 Catalog and Metadata
routes are to come as modules beside it, added to :data:`ROUTERS`.)

>>> [router.prefix for router in ROUTERS]
['/catalog/v2']
"""

from __future__ import annotations

from fastapi import APIRouter

from catalogql.http.routes import gbdx

__all__ = ["ROUTERS"]

ROUTERS: list[APIRouter] = [gbdx.router]
"""Every API router, each needing a valid bearer token on every route."""
