"""The search engine's errors: a bad request, a missing record, a record that cannot be stored.

Each is a :class:`~catalogql.errors.CatalogqlError` of the one error model (a ``status`` and its
:class:`~catalogql.errors.Problem` list) and says where the problem is and how to fix it. A bad
request lists every problem at once, in the shape of the HTTP API's 400 body:

>>> error = InvalidSearchRequest([Problem("limit", None, "limit must be at least 1", "",
...                                       "request.limit-range")])
>>> error.status, error.to_body()["message"]
(400, 'Invalid Search Request. limit must be at least 1')
>>> RecordNotFound("nope").to_body()
{'status': '404 Not Found', 'message': 'Not Found: nope'}
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from catalogql.errors import CatalogqlError, InvalidInput, NotFound, Problem, TooLarge

__all__ = [
    "CatalogError",
    "CatalogNotFound",
    "InvalidRecord",
    "InvalidSearchRequest",
    "Problem",
    "RecordNotFound",
    "RecordWarning",
    "RequestProblem",
    "RequestTooLarge",
]

RequestProblem = Problem
"""Deprecated: the name :class:`~catalogql.errors.Problem` had when only requests used it."""


class InvalidSearchRequest(InvalidInput):
    """A search request that cannot be run (400); ``problems`` lists every problem at once.

    Attributes:
        problems: The problems, in the order of the request's fields.
        errors: The same as JSON-ready dicts (``field``, ``offset``, ``message``, ``hint``,
            ``code``), as the 400 body lists them.
    """

    default_code = "request"

    def __init__(self, problems: Sequence[Problem]) -> None:
        problems = tuple(problems)
        reasons = "; ".join(f"{p.field}: {p.message}" if p.field else p.message for p in problems)
        if len(problems) == 1 and problems[0].field in ("limit", ""):
            reasons = problems[0].message
        super().__init__(f"Invalid Search Request. {reasons}", problems)

    @property
    def errors(self) -> list[dict[str, Any]]:
        """The problems as JSON-ready dicts."""
        return [problem.to_dict() for problem in self.problems]


class RequestTooLarge(TooLarge):
    """A search request past a limit on its total size (413): too many comparisons in all.

    Attributes:
        field: The request field whose entry went past the limit (``filters[3]``, ``types[0]``).
        count: The comparisons counted up to and including that entry.
        limit: The limit (:attr:`~catalogql.syntax.parser.Limits.max_request_comparisons`).

    >>> error = RequestTooLarge("filters[2]", 10_500, 10_000)
    >>> error.status, error.problems[0].code
    (413, 'limit.request-comparisons')
    >>> print(error.message)
    filters[2]: the request holds at least 10,500 comparisons, past the limit of 10,000 per request
    """

    default_code = "limit.request-comparisons"

    def __init__(self, field: str, count: int, limit: int) -> None:
        self.field = field
        self.count = count
        self.limit = limit
        message = (
            f"the request holds at least {count:,} comparisons, past the limit of {limit:,} "
            "per request"
        )
        hint = (
            "split the search into several requests, or combine comparisons on one property "
            "(x = 1 OR x = 2 ...) into fewer; a server can raise Limits.max_request_comparisons"
        )
        super().__init__(
            f"{field}: {message}",
            [Problem(field, None, message, hint, self.default_code)],
        )


class RecordNotFound(NotFound):
    """No record has this identifier (404; a ``LookupError``).

    Attributes:
        identifier: The identifier asked for.
    """

    default_code = "record.not-found"

    def __init__(self, identifier: str) -> None:
        self.identifier = identifier
        super().__init__(f"Not Found: {identifier}")  # GBDX's 404 message, no more


class InvalidRecord(InvalidInput):
    """A record that cannot be stored (400); nothing of its batch was written.

    Attributes:
        position: 0-based position of the record in the input (its line is ``position + 1`` in
            a JSON Lines file read from the start).
        field: The offending field (``identifier``, ``type``, ``properties.timestamp``, …).
        reason: What is wrong.
        hint: How to fix it.
    """

    default_code = "record.invalid"

    def __init__(self, position: int, field: str, reason: str, hint: str = "") -> None:
        self.position = position
        self.field = field
        self.reason = reason
        self.hint = hint
        problem = Problem(field, None, reason, hint, self.default_code)
        super().__init__(f"record {position}: {field}: {reason}", (problem,))


class RecordWarning(UserWarning):
    """Issued by ``Catalog.add_records`` when footprints were changed to be indexed.

    One per kind of change per call, with the same text for every call (so Python's warning
    registries hold one entry per kind); which records and what was done are on :attr:`notes`.
    The records' own ``footprintWkt`` text is kept as it was sent.

    Attributes:
        notes: ``(position, problem)`` of each record changed, in input order.

    >>> warning = RecordWarning("footprints were split [record.wkt-antimeridian]", [(3, None)])
    >>> warning.notes[0][0]
    3
    """

    def __init__(self, message: str, notes: Sequence[tuple[int, Any]] = ()) -> None:
        super().__init__(message)
        self.notes = list(notes)


class CatalogError(CatalogqlError):
    """A catalog that cannot be opened or used (a bad URL, a missing driver, a closed store).

    Status 500: the server's configuration or state, not the client's input.
    """

    default_code = "catalog"


class CatalogNotFound(NotFound, CatalogError):
    """A catalog opened with ``create=False`` that does not exist (no file, no table): 404.

    Only loading creates a catalog: searching a URL with a typo must not answer "nothing found"
    from a new, empty catalog. The URL is the caller's mistake, so this is a
    :class:`~catalogql.errors.NotFound` (404, a ``LookupError``), and still a
    :class:`CatalogError` for code that catches every failure to open a catalog.

    Attributes:
        url: The catalog URL asked for.

    >>> print(CatalogNotFound("sqlite:///catalgo.db", "the file catalgo.db does not exist"))
    no catalog at sqlite:///catalgo.db: the file catalgo.db does not exist (hint: check the URL; \
a catalog is created by loading records into it: catalogql load FILE --db URL, or \
open_catalog(url) in Python)
    """

    default_code = "catalog.not-found"

    def __init__(self, url: str, reason: str) -> None:
        self.url = url
        super().__init__(
            f"no catalog at {url}: {reason}",
            hint="check the URL; a catalog is created by loading records into it: "
            "catalogql load FILE --db URL, or open_catalog(url) in Python",
        )
