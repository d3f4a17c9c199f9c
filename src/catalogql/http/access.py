"""Request logging: one line per request, with who made it and how long it took.

:class:`AccessLog` is the outermost ASGI middleware of the app: for every HTTP request it logs,
at INFO on the ``catalogql.http.access`` logger, as the last bytes of the answer are sent (so a
client that has its answer finds the line in the log)::

    127.0.0.1:50512 - "POST /catalog/v2/search HTTP/1.1" 200 3.1 ms sub=alice

the client, the method, the path as sent (percent-encoded) **without its query string** (signed
upload URLs carry their signature there), the status, the time to answer, and the ``sub`` of the
principal the request's bearer token authenticated (``-`` when none did). Never a token.
``catalogql serve`` logs these lines instead of uvicorn's own access lines, which print the
query string.

>>> line = access_line(("127.0.0.1", 5), "GET", b"/x%20y", "1.1", 404, 0.0021, None)
>>> line
'127.0.0.1:5 - "GET /x%20y HTTP/1.1" 404 2.1 ms sub=-'
"""

from __future__ import annotations

import logging
import time
from typing import Any
from urllib.parse import quote

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["LOG", "PRINCIPAL_STATE", "AccessLog", "access_line"]

LOG = logging.getLogger("catalogql.http.access")
"""The logger of the request lines."""

PRINCIPAL_STATE = "principal"
"""The request state key the route's authentication leaves the principal under."""


def _printable(text: str) -> str:
    return "".join(c if c.isprintable() and c != " " else f"\\x{ord(c):02x}" for c in text)


def access_line(
    client: Any,
    method: str,
    raw_path: bytes,
    http_version: str,
    status: int,
    seconds: float,
    sub: str | None,
) -> str:
    """The log line of one request (see the module docstring).

    >>> access_line(None, "POST", b"/s", "1.1", 200, 0.5, "bob")
    '- - "POST /s HTTP/1.1" 200 500.0 ms sub=bob'
    """
    where = f"{client[0]}:{client[1]}" if client else "-"
    path = raw_path.decode("latin-1")
    who = "-" if sub is None else _printable(sub)
    return (
        f'{where} - "{method} {_printable(path)} HTTP/{http_version}" {status} '
        f"{seconds * 1000:.1f} ms sub={who}"
    )


class AccessLog:
    """The ASGI middleware that logs each HTTP request (see the module docstring).

    Args:
        app: The application it wraps.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the request, logging its line as the answer's last bytes go (or when it fails)."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        state = scope.setdefault("state", {})  # shared with the routes' request.state
        status = 500
        logged = False

        def log() -> None:
            nonlocal logged
            logged = True
            principal = state.get(PRINCIPAL_STATE)
            raw = scope.get("raw_path") or quote(scope["path"]).encode()
            LOG.info(
                "%s",
                access_line(
                    scope.get("client"),
                    scope["method"],
                    raw.split(b"?", 1)[0],
                    scope.get("http_version", "1.1"),
                    status,
                    time.perf_counter() - started,
                    getattr(principal, "sub", None),
                ),
            )

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                log()  # before the last of the body goes: a client that has it sees the line
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            if not logged:
                log()
