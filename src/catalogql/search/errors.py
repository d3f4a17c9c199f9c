"""The search engine's errors: a bad request, a missing record, a record that cannot be stored.

Each derives from :class:`~catalogql.CatalogqlError` and says where the problem is and how to fix
it. A bad request lists every problem at once, in the shape of the HTTP API's 400 body:

>>> error = InvalidSearchRequest([RequestProblem("limit", None, "limit must be at least 1", "")])
>>> error.to_body()["message"]
'Invalid Search Request. limit must be at least 1'
>>> RecordNotFound("nope").to_body()
{'status': '404 Not Found', 'message': 'Not Found: nope'}
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from catalogql.syntax.errors import CatalogqlError

__all__ = [
    "CatalogError",
    "InvalidRecord",
    "InvalidSearchRequest",
    "RecordNotFound",
    "RequestProblem",
]


@dataclass(frozen=True, slots=True)
class RequestProblem:
    """One problem (or warning) of a search request.

    Attributes:
        field: Where: ``searchAreaWkt``, ``filters[1]``, ``limit``, or ``""`` for the whole body.
        offset: 0-based character offset into that field's text, or None when it has no text.
        message: What is wrong.
        hint: How to fix it (may be empty).
        code: A stable, machine-readable code such as ``request.start-after-end``.
    """

    field: str
    offset: int | None
    message: str
    hint: str
    code: str = "request"

    def to_dict(self) -> dict[str, Any]:
        """The JSON form: ``{"field", "offset", "message", "hint", "code"}``."""
        return asdict(self)


class InvalidSearchRequest(CatalogqlError, ValueError):
    """A search request that cannot be run; ``errors`` lists every problem at once.

    Attributes:
        problems: The problems, in the order of the request's fields.
        errors: The same as JSON-ready dicts (``field``, ``offset``, ``message``, ``hint``,
            ``code``).
    """

    def __init__(self, problems: Sequence[RequestProblem]) -> None:
        self.problems = tuple(problems)
        self.errors = [problem.to_dict() for problem in self.problems]
        reasons = "; ".join(
            f"{p.field}: {p.message}" if p.field else p.message for p in self.problems
        )
        if len(self.problems) == 1 and self.problems[0].field in ("limit", ""):
            reasons = self.problems[0].message
        self.message = f"Invalid Search Request. {reasons}"
        super().__init__(self.message)

    def __str__(self) -> str:
        lines = [self.message]
        for problem in self.problems:
            where = problem.field or "request"
            at = f" (offset {problem.offset})" if problem.offset is not None else ""
            lines.append(f"  {where}{at}: {problem.message}")
            if problem.hint:
                lines.append(f"    hint: {problem.hint}")
        return "\n".join(lines)

    def to_body(self) -> dict[str, Any]:
        """The HTTP 400 body of SPEC section 5."""
        return {"status": "400 Bad Request", "message": self.message, "errors": self.errors}


class RecordNotFound(CatalogqlError, LookupError):
    """No record has this identifier.

    Attributes:
        identifier: The identifier asked for.
    """

    def __init__(self, identifier: str) -> None:
        self.identifier = identifier
        super().__init__(f"Not Found: {identifier}")

    def to_body(self) -> dict[str, Any]:
        """The HTTP 404 body of SPEC section 5."""
        return {"status": "404 Not Found", "message": f"Not Found: {self.identifier}"}


class InvalidRecord(CatalogqlError, ValueError):
    """A record that cannot be stored; nothing of its batch was written.

    Attributes:
        position: 0-based position of the record in the input (its line is ``position + 1`` in
            a JSON Lines file read from the start).
        field: The offending field (``identifier``, ``type``, ``properties.timestamp``, …).
        reason: What is wrong.
        hint: How to fix it.
    """

    def __init__(self, position: int, field: str, reason: str, hint: str = "") -> None:
        self.position = position
        self.field = field
        self.reason = reason
        self.hint = hint
        text = f"record {position}: {field}: {reason}"
        super().__init__(text + (f" (hint: {hint})" if hint else ""))


class CatalogError(CatalogqlError):
    """A catalog that cannot be opened or used (a bad URL, a missing driver, a closed store)."""
