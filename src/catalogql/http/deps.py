"""What routes depend on: the service of the app and the principal of the request.

>>> AUTHENTICATED[0].dependency is principal
True
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from catalogql.http.access import PRINCIPAL_STATE
from catalogql.http.auth import principal_of
from catalogql.service import Principal, Service

__all__ = ["AUTHENTICATED", "CurrentPrincipal", "principal", "request_principal", "service"]

_BEARER = HTTPBearer(auto_error=False, description="an HS256 JWT from `catalogql token`")


async def service(request: Request) -> Service:
    """The service the app serves (made by :func:`catalogql.http.create_app`)."""
    found: Service = request.app.state.service
    return found


def request_principal(request: Request) -> Principal:
    """The principal the request's bearer token authenticates (401 otherwise)."""
    secret: bytes = request.app.state.secret
    found = principal_of(secret, request.headers.get("authorization"))
    setattr(request.state, PRINCIPAL_STATE, found)  # for the request's log line
    return found


async def principal(
    request: Request,
    _credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_BEARER)] = None,
) -> Principal:
    """The principal the request's bearer token authenticates (401 otherwise).

    The ``HTTPBearer`` dependency only documents the scheme in the OpenAPI; the header is
    checked by :func:`request_principal`. Both dependencies are coroutines so that FastAPI
    runs them on the event loop: a plain function would cost a hop to the thread pool each
    (a record get's best in-process time went from 2.0-2.6 ms to 1.15-1.5 ms).
    """
    return request_principal(request)


CurrentPrincipal = Annotated[Principal, Depends(principal)]
"""A route parameter of this type receives the request's principal."""

AUTHENTICATED = [Depends(principal)]
"""The dependencies of a router whose every route needs a valid token."""
