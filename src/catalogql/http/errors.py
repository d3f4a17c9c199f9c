"""Errors on the wire: one table from the error model to HTTP answers, JSON bodies everywhere.

:data:`ERRORS` is the one table: each status an answer may carry, its reason and description (the
OpenAPI ``responses`` are made from it too). :func:`error_response` turns any
:class:`~catalogql.errors.CatalogqlError` into its answer (:func:`~catalogql.errors.error_body`
with the error's status; a 401 adds ``WWW-Authenticate``); :func:`install_error_handlers` makes
the framework's own errors (validation, unknown route, wrong method) answer the same way, and
anything unexpected a 500 that says nothing internal (the traceback goes to the log).

:func:`read_json` reads a request body as a stream, refusing it (413) as soon as it passes
:data:`MAX_JSON_BODY`, and decodes it with orjson (400 with the position of a syntax error).

>>> from catalogql.errors import NotFound
>>> answer = error_response(NotFound("Not Found: x"))
>>> answer.status_code, answer.body
(404, b'{"status":"404 Not Found","message":"Not Found: x"}')
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, Response

from catalogql.errors import CatalogqlError, InvalidInput, Problem, TooLarge, error_body

__all__ = [
    "ERRORS",
    "MAX_JSON_BODY",
    "ErrorAnswer",
    "JSONBody",
    "error_response",
    "install_error_handlers",
    "read_json",
    "responses_for",
]

LOG = logging.getLogger("catalogql.http")

MAX_JSON_BODY = 1 << 20
"""The largest JSON request body, in bytes (1 MiB, SPEC section 8); past it: 413."""


@dataclass(frozen=True, slots=True)
class ErrorAnswer:
    """One row of :data:`ERRORS`: a status, its reason phrase, and what it means here."""

    status: int
    reason: str
    description: str
    lists_problems: bool


ERRORS: dict[int, ErrorAnswer] = {
    row.status: row
    for row in (
        ErrorAnswer(400, "Bad Request", "the request is not valid: every problem", True),
        ErrorAnswer(401, "Unauthorized", "no valid bearer token (see WWW-Authenticate)", False),
        ErrorAnswer(403, "Forbidden", "the principal may not do this", False),
        ErrorAnswer(404, "Not Found", "no such route, or nothing the principal may see", False),
        ErrorAnswer(405, "Method Not Allowed", "the route does not take this method", False),
        ErrorAnswer(409, "Conflict", "it conflicts with what exists", False),
        ErrorAnswer(413, "Content Too Large", "the body or the request is past a limit", True),
        ErrorAnswer(422, "Unprocessable Content", "valid, but cannot be processed", True),
        ErrorAnswer(500, "Internal Server Error", "a bug of the server (logged)", False),
    )
}  # fmt: skip
"""The one table of error answers: every status a route may answer with besides success."""

_INTERNAL = "the server failed; the failure is in its log"


class JSONBody(JSONResponse):
    """A JSON answer serialized with orjson (the standard library for integers past 64 bits).

    A :class:`~starlette.responses.JSONResponse` so that FastAPI's OpenAPI leaves a route's
    documented answer schema alone (for any other response class it adds ``"type": "string"``
    beside the route's ``$ref``, which no JSON object or list then matches).

    >>> JSONBody({"a": [1, 2]}).body
    b'{"a":[1,2]}'
    """

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        """The body of ``content``: orjson, or the standard library past 64-bit integers."""
        try:
            return orjson.dumps(content)
        except TypeError:  # an integer past 64 bits: exact, through the standard library
            return json.dumps(content, separators=(",", ":"), ensure_ascii=False).encode()


def _status_line(status: int) -> str:
    row = ERRORS.get(status)
    return f"{status} {row.reason if row else 'Error'}"


def error_response(error: CatalogqlError) -> JSONBody:
    """The answer to an error: its body and status (500s say nothing internal).

    >>> from catalogql.errors import InvalidInput
    >>> error_response(InvalidInput("limit must be at least 1")).status_code
    400
    """
    status = error.status if error.status in ERRORS else 500
    if status >= 500:
        return JSONBody({"status": _status_line(500), "message": _INTERNAL}, status_code=500)
    body = error_body(error)
    body["status"] = _status_line(status)
    headers = {}
    challenge = getattr(error, "challenge", None)
    if status == 401 and callable(challenge):
        headers["WWW-Authenticate"] = str(challenge())
    elif status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="catalogql"'
    return JSONBody(body, status_code=status, headers=headers)


def _validation_problem(error: dict[str, Any]) -> Problem:
    where = ".".join(str(part) for part in error.get("loc", ()))
    return Problem(
        where,
        None,
        f"{where or 'the request'}: {error.get('msg', 'not valid')}",
        "see /openapi.json for what this route takes",
        "request.invalid",
    )


def install_error_handlers(app: FastAPI) -> None:
    """Make every error of ``app`` a JSON answer (see the module docstring).

    >>> app = FastAPI()
    >>> install_error_handlers(app)
    >>> Exception in app.exception_handlers
    True
    """

    async def on_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, CatalogqlError)
        if exc.status >= 500:
            LOG.error("%s %s failed: %r", request.method, request.url.path, exc, exc_info=exc)
        return error_response(exc)

    async def on_validation(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        problems = [_validation_problem(dict(e)) for e in exc.errors()]
        message = problems[0].message if problems else "the request is not valid"
        return error_response(InvalidInput(message, problems))

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        status = exc.status_code
        if status == 404:
            message = f"Not Found: no route {request.url.path}"
        elif status == 405:
            message = f"{request.method} is not allowed on {request.url.path}"
        else:
            message = str(exc.detail)
        headers = dict(exc.headers or {})
        return JSONBody(
            {"status": _status_line(status), "message": message},
            status_code=status,
            headers=headers,
        )

    async def on_crash(request: Request, exc: Exception) -> Response:
        LOG.error("%s %s failed", request.method, request.url.path, exc_info=exc)
        return JSONBody({"status": _status_line(500), "message": _INTERNAL}, status_code=500)

    app.add_exception_handler(CatalogqlError, on_error)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(Exception, on_crash)


async def read_json(request: Request, limit: int = MAX_JSON_BODY) -> Any:
    """The request's JSON body, read as a stream and refused as soon as it passes ``limit``.

    Raises:
        TooLarge: The body (or its announced ``Content-Length``) is past ``limit`` (413).
        InvalidInput: The body is not JSON (400, with the offset of the error).
    """
    announced = request.headers.get("content-length", "")
    if announced.isdigit() and int(announced) > limit:
        raise _too_large(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    data = b"".join(chunks)
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        problem = Problem(
            "",
            exc.pos,
            f"the body is not JSON: {exc.msg}" if data.strip() else "the body is empty",
            "send a JSON object, UTF-8 encoded, with Content-Type: application/json",
            "request.json",
        )
        raise InvalidInput(problem.message, [problem]) from None


def _too_large(limit: int) -> TooLarge:
    return TooLarge(
        f"the request body is larger than {limit} bytes",
        hint=f"send at most {limit} bytes of JSON (ask for fewer things at once)",
        code="request.too-large",
    )


_ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["status", "message"],
    "properties": {
        "status": {"type": "string", "examples": ["400 Bad Request"]},
        "message": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "offset", "message", "hint", "code"],
                "properties": {
                    "field": {"type": "string"},
                    "offset": {"type": ["integer", "null"]},
                    "message": {"type": "string"},
                    "hint": {"type": "string"},
                    "code": {"type": "string"},
                },
            },
        },
    },
}


def responses_for(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` of the error answers ``statuses`` (rows of :data:`ERRORS`).

    >>> sorted(responses_for(401, 404))
    [401, 404]
    """
    answers: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        row = ERRORS[status]
        answers[status] = {
            "description": f"{row.reason}: {row.description}",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
        if status == 401:
            answers[status]["headers"] = {
                "WWW-Authenticate": {
                    "description": "Bearer, with error= as RFC 6750",
                    "schema": {"type": "string"},
                }
            }
    return answers


ERROR_SCHEMA = _ERROR_SCHEMA
"""The JSON Schema of every error body (``components.schemas.Error`` of the OpenAPI)."""
