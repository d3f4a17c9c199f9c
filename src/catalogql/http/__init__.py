"""The HTTP API (SPEC section 8): an ASGI app over the catalog service.

:func:`create_app` makes it; ``catalogql serve`` runs it with uvicorn; ``catalogql token``
makes bearer tokens. Routes: ``GET /healthz``, ``GET /openapi.json``, the GBDX Catalog v2
search and record (:mod:`catalogql.http.routes.gbdx`), and the Descartes Metadata v1 routes
(:mod:`catalogql.http.routes.metadata`). Needs the ``server`` extra.

>>> from fastapi.testclient import TestClient
>>> from catalogql.http.auth import make_token
>>> app = create_app("memory://", secret=b"s" * 32)
>>> with TestClient(app) as client:
...     client.post("/catalog/v2/search", json={}).status_code
...     token = make_token(b"s" * 32, "alice", ttl=60)
...     client.post("/catalog/v2/search", json={"limit": 5},
...                 headers={"Authorization": f"Bearer {token}"}).json()["stats"]
401
{'recordsReturned': 0, 'totalRecords': 0, 'typeCounts': {}}
"""

from __future__ import annotations

from catalogql.http.app import create_app

__all__ = ["create_app"]
