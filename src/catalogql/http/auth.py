"""Bearer tokens: the server's secret, signed tokens, and the principal a request acts as.

Every route but ``/healthz`` and ``/openapi.json`` needs ``Authorization: Bearer <JWT>``, an
HS256 token signed with the server's secret, with the claims ``sub`` and ``exp`` (required) and
``email``, ``groups``, ``org`` (optional); they make the :class:`~catalogql.service.Principal` the
request acts as (SPEC section 8). A missing, malformed, wrongly signed or expired token is a 401
(:class:`TokenRejected`) whose ``WWW-Authenticate`` header says why, as RFC 6750 does.

The secret is, in this order: the file given (``--secret-file``), the ``CATALOGQL_SECRET``
environment variable, or a file made with mode 0600 the first time it is needed: beside a SQLite
catalog (``<database file>.secret``), else ``$XDG_CONFIG_HOME/catalogql/secret`` (by default
``~/.config/catalogql/secret``). ``catalogql token`` signs with the same secret.

>>> secret = b"k" * 32
>>> token = make_token(secret, "alice", groups=["team"], ttl=60)
>>> principal_of(secret, f"Bearer {token}")
Principal(sub='alice', email=None, groups=('team',), org=None)
"""

from __future__ import annotations

import os
import re
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt

from catalogql.errors import InvalidInput, Unauthorized, UsageError
from catalogql.service.principals import Principal

__all__ = [
    "ALGORITHM",
    "SECRET_ENV",
    "UPLOAD_TTL",
    "UploadGrant",
    "default_secret_file",
    "make_token",
    "make_upload_token",
    "parse_ttl",
    "principal_of",
    "read_upload_token",
    "resolve_secret",
]

ALGORITHM = "HS256"
"""The one signing algorithm tokens may use (any other is rejected, ``none`` included)."""

SECRET_ENV = "CATALOGQL_SECRET"
"""The environment variable that may hold the secret itself."""

UPLOAD_TTL = 3600
"""Seconds an upload URL stays valid (an hour: the client PUTs at once)."""

UPLOAD_USE = "upload"
"""The ``use`` claim of an upload URL's token (a bearer token has none; each refuses the other)."""

MIN_SECRET = 32
"""The fewest bytes a secret may have (HS256 wants at least its hash's 32)."""

_TTL = re.compile(r"\s*(\d+)\s*([smhdw]?)\s*")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_HINT = "send 'Authorization: Bearer <token>' with a token from `catalogql token --sub NAME`"
_UPLOAD_HINT = (
    "ask for a new upload URL: POST /metadata/v1/catalog/products/<product>/images/upload/"
    "<upload id>"
)


class TokenRejected(Unauthorized):
    """A request's credentials are missing or not valid: 401 with ``WWW-Authenticate``.

    Internal to the HTTP layer (not in ``__all__``): callers catch
    :class:`~catalogql.errors.Unauthorized`, which it is.

    Attributes:
        bearer_error: The RFC 6750 error code (``invalid_request`` or ``invalid_token``), or
            ``""`` when no credentials were sent (the challenge then names none).

    >>> TokenRejected("the token has expired", "invalid_token").challenge()
    'Bearer realm="catalogql", error="invalid_token", error_description="the token has expired"'
    """

    def __init__(
        self, message: str, bearer_error: str = "invalid_token", *, hint: str = _HINT
    ) -> None:
        self.bearer_error = bearer_error
        super().__init__(message, hint=hint, code=f"auth.{bearer_error or 'missing'}")

    def challenge(self) -> str:
        """The ``WWW-Authenticate`` header value of this rejection."""
        if not self.bearer_error:
            return 'Bearer realm="catalogql"'
        description = self.message.replace("\\", "").replace('"', "'")
        return (
            f'Bearer realm="catalogql", error="{self.bearer_error}", '
            f'error_description="{description}"'
        )


def parse_ttl(text: str) -> int:
    """Seconds of a lifetime written ``90``, ``90s``, ``45m``, ``12h``, ``30d`` or ``2w``.

    Raises:
        UsageError: Not such a lifetime, or zero.

    >>> parse_ttl("30d"), parse_ttl("90")
    (2592000, 90)
    """
    match = _TTL.fullmatch(text)
    if match is None or int(match.group(1)) <= 0:
        raise UsageError(
            f"--ttl {text!r} is not a lifetime",
            hint="write a positive number with an optional unit: 90s, 45m, 12h, 30d or 2w",
        )
    return int(match.group(1)) * _UNITS[match.group(2)]


def default_secret_file(catalog_url: str) -> Path:
    """Where the secret file is kept when none is given (see the module docstring).

    >>> str(default_secret_file("sqlite:///data/catalog.db"))
    'data/catalog.db.secret'
    """
    if catalog_url.startswith("sqlite:"):
        from catalogql.search.stores.sqlite import sqlite_path

        path = sqlite_path(catalog_url)
        if path not in ("", ":memory:"):
            return Path(f"{path}.secret")
    config = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(config) / "catalogql" / "secret"


def _check_length(secret: bytes, where: str) -> bytes:
    if len(secret) < MIN_SECRET:
        raise UsageError(
            f"the secret in {where} has {len(secret)} bytes; it needs at least {MIN_SECRET}",
            hint="use a longer random secret, e.g. `python -c 'import secrets; "
            "print(secrets.token_hex(32))'`",
        )
    return secret


def resolve_secret(catalog_url: str, secret_file: str | Path | None = None) -> bytes:
    """The server's secret: from ``secret_file``, ``$CATALOGQL_SECRET``, or the default file.

    The default file (:func:`default_secret_file`) is made, with mode 0600, when it is missing.

    Raises:
        UsageError: The given file is missing or unreadable, or a secret is too short.

    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> url = f"sqlite:///{folder / 'c.db'}"
    >>> resolve_secret(url) == resolve_secret(url), oct((folder / 'c.db.secret').stat().st_mode)
    (True, '0o100600')
    """
    if secret_file is not None:
        try:
            text = Path(secret_file).read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(
                f"--secret-file {secret_file}: cannot be read ({exc})",
                hint="give a readable file holding the secret as text",
            ) from exc
        return _check_length(text.encode(), str(secret_file))
    from_env = os.environ.get(SECRET_ENV, "").strip()
    if from_env:
        return _check_length(from_env.encode(), f"${SECRET_ENV}")
    path = default_secret_file(catalog_url)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process made it first: theirs is the one
        else:
            with os.fdopen(descriptor, "w", encoding="utf-8") as file:
                file.write(secrets.token_hex(32) + "\n")
    return resolve_secret(catalog_url, path)


def make_token(
    secret: bytes,
    sub: str,
    *,
    email: str | None = None,
    groups: Iterable[str] = (),
    org: str | None = None,
    ttl: int = 30 * 86400,
    now: float | None = None,
) -> str:
    """A token for ``sub`` signed with ``secret``, valid for ``ttl`` seconds.

    Raises:
        InvalidInput: The claims do not make a principal (an empty ``sub``, …).

    >>> make_token(b"k" * 32, "alice", ttl=60).count(".")
    2
    """
    principal = Principal(sub, email=email, groups=groups, org=org)
    return jwt.encode(_claims(principal, ttl, now), secret, algorithm=ALGORITHM)


def _claims(principal: Principal, ttl: int, now: float | None) -> dict[str, Any]:
    """The claims naming ``principal``, issued now (or at ``now``) for ``ttl`` seconds."""
    issued = int(time.time() if now is None else now)
    claims: dict[str, Any] = {"sub": principal.sub, "iat": issued, "exp": issued + ttl}
    if principal.email is not None:
        claims["email"] = principal.email
    if principal.groups:
        claims["groups"] = list(principal.groups)
    if principal.org is not None:
        claims["org"] = principal.org
    return claims


def principal_of(secret: bytes, authorization: str | None) -> Principal:
    """The principal an ``Authorization`` header value authenticates.

    Raises:
        TokenRejected: No header, not ``Bearer <token>``, or a token that is malformed, wrongly
            signed, expired, without ``sub`` or ``exp``, or whose claims are not valid.

    >>> principal_of(b"k" * 32, None)
    Traceback (most recent call last):
      ...
    catalogql.http.auth.TokenRejected: no bearer token was sent (hint: send \
'Authorization: Bearer <token>' with a token from `catalogql token --sub NAME`)
    """
    if authorization is None or not authorization.strip():
        raise TokenRejected("no bearer token was sent", "")
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or " " in token:
        raise TokenRejected("the Authorization header is not 'Bearer <token>'", "invalid_request")
    claims = _decode(secret, token)
    if "use" in claims:
        raise TokenRejected(
            f"the token is a {claims['use']!r} token (of an upload URL), not a bearer token"
        )
    return _principal(claims)


def _decode(secret: bytes, token: str) -> dict[str, Any]:
    """The claims of a token signed with ``secret`` (TokenRejected otherwise)."""
    try:
        claims = jwt.decode(
            token, secret, algorithms=[ALGORITHM], options={"require": ["sub", "exp"]}
        )
    except jwt.ExpiredSignatureError as exc:
        raise TokenRejected("the token has expired") from exc
    except jwt.InvalidSignatureError as exc:
        raise TokenRejected("the token's signature is not valid") from exc
    except jwt.MissingRequiredClaimError as exc:
        raise TokenRejected(f"the token has no {exc.claim!r} claim") from exc
    except jwt.InvalidTokenError as exc:
        raise TokenRejected(f"the token is malformed ({exc})") from exc
    return dict(claims)


def _principal(claims: dict[str, Any]) -> Principal:
    """The principal the (verified) claims name (TokenRejected if they name none)."""
    groups = claims.get("groups", [])
    if not isinstance(groups, list):
        raise TokenRejected(f"the token's groups claim is not a list of strings: {groups!r}")
    try:
        return Principal(
            claims["sub"], email=claims.get("email"), groups=groups, org=claims.get("org")
        )
    except InvalidInput as exc:
        raise TokenRejected(f"the token's claims are not valid: {exc.message}") from exc


@dataclass(frozen=True, slots=True)
class UploadGrant:
    """What an upload URL's token allows: one PUT of one upload's file.

    Attributes:
        principal: Who asked for the URL (the upload runs as them).
        product_id: The product.
        upload_id: The upload (its status document waits, ``pending``, for the file).
        created: The upload's ``created`` time: the URL is for that upload only (a new upload of
            the same id, after a failure, needs a new URL).
        extra: What the PUT needs besides the bytes (an ndarray's ``geotrans`` and CRS).
    """

    principal: Principal
    product_id: str
    upload_id: str
    created: str
    extra: dict[str, Any]


def make_upload_token(
    secret: bytes,
    grant: UploadGrant,
    *,
    ttl: int = UPLOAD_TTL,
    now: float | None = None,
) -> str:
    """The token of an upload URL: ``grant`` signed with ``secret``, valid for ``ttl`` seconds.

    It names the principal as a bearer token does, plus ``use: "upload"``, the product, the
    upload and its ``created`` time; :func:`principal_of` refuses it as a bearer token.

    >>> grant = UploadGrant(Principal("alice"), "ns:p", "a.tif", "2020-01-01T00:00:00Z", {})
    >>> read_upload_token(b"k" * 32, make_upload_token(b"k" * 32, grant)) == grant
    True
    """
    claims = _claims(grant.principal, ttl, now)
    claims.update(
        use=UPLOAD_USE,
        pid=grant.product_id,
        uid=grant.upload_id,
        created=grant.created,
        extra=grant.extra,
    )
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def read_upload_token(secret: bytes, token: str) -> UploadGrant:
    """The grant of an upload URL's token.

    Raises:
        TokenRejected: The token is malformed, not signed with ``secret``, expired, or not an
            upload URL's token (a bearer token is refused here too).

    >>> read_upload_token(b"k" * 32, make_token(b"k" * 32, "alice"))
    Traceback (most recent call last):
      ...
    catalogql.http.auth.TokenRejected: the token is not an upload URL's token; ask for a new \
upload URL: POST /metadata/v1/catalog/products/<product>/images/upload/<upload id> (hint: ask \
for a new upload URL: POST /metadata/v1/catalog/products/<product>/images/upload/<upload id>)
    """
    try:
        claims = _decode(secret, token)
    except TokenRejected as exc:
        message = exc.message.replace("the token", "the upload URL's token", 1)
        raise TokenRejected(f"{message}; {_UPLOAD_HINT}", hint=_UPLOAD_HINT) from exc
    fields = (claims.get("pid"), claims.get("uid"), claims.get("created"))
    extra = claims.get("extra", {})
    if (
        claims.get("use") != UPLOAD_USE
        or not all(isinstance(field, str) for field in fields)
        or not isinstance(extra, dict)
    ):
        raise TokenRejected(
            f"the token is not an upload URL's token; {_UPLOAD_HINT}", hint=_UPLOAD_HINT
        )
    return UploadGrant(
        _principal(claims), str(fields[0]), str(fields[1]), str(fields[2]), dict(extra)
    )
