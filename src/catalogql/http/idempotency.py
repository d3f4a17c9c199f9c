"""Idempotent writes: a retried call with the same ``X-Request-Group`` gets the first answer.

The real Descartes client sends a fresh ``X-Request-Group`` with each call and the same one on each
automatic retry of it (it retries even POSTs after a 5xx or a read timeout, WIRE.md section 2).
:class:`Idempotency` is an ASGI middleware over every POST, PUT, PATCH and DELETE that carries one
and a valid bearer token (the reads of :data:`READ_ONLY` and :data:`READ_ONLY_PATTERN` aside):
the first answer under 500 is kept (status, content type and body, in the catalog's documents,
kind ``idempotency``, keyed by the sha256 of principal, request group, method and path, for
:data:`KEEP_SECONDS`), and a later call with the same key gets it back instead of running again
(so a retried create answers as the first one did, not with a 409). A retry that overtakes a
first call still running may get that call's 409; the middleware then looks again and answers
with the first call's answer once it is kept.

>>> key_of("alice", "0f" * 16, "POST", "/metadata/v1/catalog/products")[:12]
'1f5be00aa90c'
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import time
from collections.abc import Iterable
from typing import Any

import anyio.to_thread
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from catalogql.errors import Conflict
from catalogql.http.auth import TokenRejected, principal_of
from catalogql.search import Catalog
from catalogql.search.documents import Document, documents

__all__ = [
    "KEEP_SECONDS",
    "KIND",
    "METHODS",
    "READ_ONLY",
    "READ_ONLY_PATTERN",
    "Idempotency",
    "key_of",
]

KIND = "idempotency"
"""The document kind kept answers are stored as."""

KEEP_SECONDS = 24 * 3600
"""How long an answer is kept for retries (a day: the client retries within seconds)."""

METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
"""The methods whose answers are kept."""

MAX_KEPT = 1 << 20
"""The largest answer body kept, in bytes (a larger answer is not kept)."""

READ_ONLY = frozenset(
    {
        "/catalog/v2/search",
        "/metadata/v1/search",
        "/metadata/v1/summary",
        "/metadata/v1/products/search",
        "/metadata/v1/bands/search",
        "/metadata/v1/bands/derived/search",
        "/metadata/v1/batch/images",
    }
)
"""The paths whose POSTs only read: answered afresh on a retry, never kept (no write per search)."""

READ_ONLY_PATTERN = re.compile(r"/metadata/v1/catalog/products/[^/]+/uploads")
"""The paths of :data:`READ_ONLY` that hold an id: a product's ``upload_results`` pages."""

HEADER = b"x-request-group"


def key_of(sub: str, group: str, method: str, path: str) -> str:
    """The document id of a kept answer: the sha256 of who, which call group, method and path.

    >>> len(key_of("a", "g", "PUT", "/x"))
    64
    """
    text = "\x00".join((sub, group, method.upper(), path))
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()


class Idempotency:
    """The ASGI middleware (see the module docstring).

    Args:
        app: The application it wraps.
        catalog: The catalog whose documents keep the answers.
        secret: The server's token secret (the key needs the principal).
        read_only: The paths whose POSTs only read (searches): run again on a retry, not kept.
    """

    def __init__(
        self,
        app: ASGIApp,
        catalog: Catalog,
        secret: bytes,
        read_only: Iterable[str] = READ_ONLY,
    ) -> None:
        self.app = app
        self.catalog = catalog
        self.secret = secret
        self.read_only = frozenset(read_only)

    def _kept(self, key: str) -> dict[str, Any] | None:
        store = documents(self.catalog)
        found = store.get(KIND, key)
        if found is None:
            return None
        if found.body.get("expires", 0) < time.time():
            store.delete(KIND, key)
            return None
        return found.body

    def _keep(self, key: str, owner: str, answer: dict[str, Any]) -> None:
        store = documents(self.catalog)
        self._kept(key)  # drops an expired one
        with contextlib.suppress(Conflict):  # a concurrent retry kept its answer first
            store.put(Document(KIND, key, None, owner, (), answer), create=True)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer a kept answer again, or run the call and keep its answer."""
        if (
            scope["type"] != "http"
            or scope["method"] not in METHODS
            or scope["path"] in self.read_only
            or READ_ONLY_PATTERN.fullmatch(scope["path"]) is not None
        ):
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        group = headers.get(HEADER, b"").decode("latin-1").strip()
        if not group or len(group) > 200:
            await self.app(scope, receive, send)
            return
        authorization = headers.get(b"authorization", b"").decode("latin-1")
        try:
            principal = principal_of(self.secret, authorization)
        except TokenRejected:
            await self.app(scope, receive, send)  # the route answers the 401
            return
        key = key_of(principal.sub, group, scope["method"], scope["path"])
        kept = await anyio.to_thread.run_sync(self._kept, key)
        if kept is not None:
            await _replay(kept, send)
            return
        started: dict[str, Any] = {}
        body: list[bytes] = []
        size = 0

        async def capture(message: Message) -> None:
            nonlocal size
            if message["type"] == "http.response.start":
                started.update(message)
                if message["status"] == 409:  # perhaps a retry overtook its first call
                    return
            elif message["type"] == "http.response.body" and size <= MAX_KEPT:
                chunk = message.get("body", b"")
                size += len(chunk)
                body.append(chunk)
                if started.get("status") == 409:
                    if message.get("more_body", False):
                        return
                    again = await anyio.to_thread.run_sync(self._kept, key)
                    if again is not None:
                        await _replay(again, send)
                        return
                    await send(started)
                    await send({"type": "http.response.body", "body": b"".join(body)})
                    return
            await send(message)

        await self.app(scope, receive, capture)
        status = int(started.get("status", 500))
        if status < 500 and status != 409 and size <= MAX_KEPT:
            content_type = dict(started.get("headers", [])).get(b"content-type", b"")
            answer = {
                "status": status,
                "content_type": content_type.decode("latin-1"),
                "body": b"".join(body).decode("utf-8", "replace"),
                "expires": time.time() + KEEP_SECONDS,
            }
            await anyio.to_thread.run_sync(self._keep, key, principal.user, answer)


async def _replay(kept: dict[str, Any], send: Send) -> None:
    body = str(kept.get("body", "")).encode("utf-8")
    headers = [(b"content-length", str(len(body)).encode()), (b"x-idempotent-replay", b"true")]
    if kept.get("content_type"):
        headers.append((b"content-type", str(kept["content_type"]).encode("latin-1")))
    await send({"type": "http.response.start", "status": int(kept["status"]), "headers": headers})
    await send({"type": "http.response.body", "body": body})
