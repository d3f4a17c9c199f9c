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

__all__ = ["AUTHENTICATED", "CurrentPrincipal", "principal", "service"]

_BEARER = HTTPBearer(auto_error=False, description="an HS256 JWT from `catalogql token`")


def service(request: Request) -> Service:
    """The service the app serves (made by :func:`catalogql.http.create_app`)."""
    found: Service = request.app.state.service
    return found


def principal(
    request: Request,
    _credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_BEARER)] = None,
) -> Principal:
    """The principal the request's bearer token authenticates (401 otherwise).

    The ``HTTPBearer`` dependency only documents the scheme in the OpenAPI; the header is
    checked by :func:`catalogql.http.auth.principal_of`.
    """
    secret: bytes = request.app.state.secret
    found = principal_of(secret, request.headers.get("authorization"))
    setattr(request.state, PRINCIPAL_STATE, found)  # for the request's log line
    return found


CurrentPrincipal = Annotated[Principal, Depends(principal)]
"""A route parameter of this type receives the request's principal."""

AUTHENTICATED = [Depends(principal)]
"""The dependencies of a router whose every route needs a valid token."""
