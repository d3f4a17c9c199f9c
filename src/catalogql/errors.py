"""One error model: every error catalogql raises, its HTTP status, its problems and its renderings.

This is the lowest layer: it imports nothing of catalogql, and every other module may import it.

* :class:`Problem` is the one shape of "what is wrong, where, and how to fix it": every error's
  ``problems`` and every :class:`~catalogql.syntax.errors.Diagnostic` of ``check()`` hold them.
* :class:`CatalogqlError` is the root of every exception catalogql raises on purpose. Each class
  carries an HTTP-ready ``status`` (400 invalid input, 401, 403, 404 not found, 409 conflict,
  413 too large, 422 valid but not processable, 500 otherwise) and a non-empty tuple of problems.
* The renderings are functions of the error, written once here: :func:`render` (the human text:
  message, caret line under the input, expected, hint, as the CLI prints it) and
  :func:`error_body` (the JSON body an HTTP layer answers with, beside ``error.status``).

>>> error = UsageError("--records must be at least 1", hint="pass --records 1 or more")
>>> error.status, error.problems[0].code
(400, 'usage')
>>> print(render(error))
--records must be at least 1 (hint: pass --records 1 or more)
>>> error_body(NotFound("Not Found: nope"))
{'status': '404 Not Found', 'message': 'Not Found: nope'}
"""

from __future__ import annotations

import dataclasses
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

__all__ = [
    "REASONS",
    "CatalogqlError",
    "Conflict",
    "Forbidden",
    "InvalidInput",
    "NotFound",
    "Problem",
    "TooLarge",
    "Unauthorized",
    "Unprocessable",
    "UsageError",
    "argument_error",
    "caret_lines",
    "cell_width",
    "error_body",
    "line_and_column",
    "render",
    "render_problem",
]

REASONS: dict[int, str] = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    413: "Content Too Large",
    422: "Unprocessable Content",
    500: "Internal Server Error",
}
"""The reason phrase of each status an error carries (fixed here rather than taken from
:class:`http.HTTPStatus`, whose phrases for 413 and 422 differ between Python versions)."""

_BODY_LISTS_PROBLEMS = frozenset({400, 413, 422})
"""The statuses whose body lists the problems (``errors``): those about the client's input. The
others (404, 409, 401, 403, 500) answer with the status and the message only, as GBDX's 404."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem (or finding): where it is, what is wrong, how to fix it, and a stable code.

    The first five fields are required and positional, in the order of the JSON form
    (:meth:`to_dict`); the others, keyword-only, say more about a problem located in a text.

    Attributes:
        field: Where in a structured input: ``searchAreaWkt``, ``filters[1]``, ``limit``,
            ``properties.timestamp``, or ``""`` for the whole input.
        offset: 0-based character offset into that field's text, or None when it has no text.
        message: What is wrong, in one sentence.
        hint: How to fix it (may be empty).
        code: A stable, machine-readable code such as ``syntax.unexpected-token``.
        line: 1-based line of ``offset`` in the text, when the text is known.
        column: 1-based column of ``offset`` in the text, when the text is known.
        expected: What would have been valid at ``offset`` (may be empty).
        width: How many characters the caret line underlines.

    >>> problem = Problem("limit", None, "limit must be at least 1", "use 1 to 1000",
    ...                   "request.limit-range")
    >>> problem.to_dict()["code"]
    'request.limit-range'
    """

    field: str
    offset: int | None
    message: str
    hint: str
    code: str
    line: int | None = dataclasses.field(default=None, kw_only=True)
    column: int | None = dataclasses.field(default=None, kw_only=True)
    expected: tuple[str, ...] = dataclasses.field(default=(), kw_only=True)
    width: int = dataclasses.field(default=1, kw_only=True)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form, as error bodies list it: ``field, offset, message, hint, code``.

        >>> Problem("filters[0]", 16, "'and' is not an operator", "write AND", "syntax.x").to_dict()
        {'field': 'filters[0]', 'offset': 16, 'message': "'and' is not an operator", \
'hint': 'write AND', 'code': 'syntax.x'}
        """
        return {
            "field": self.field,
            "offset": self.offset,
            "message": self.message,
            "hint": self.hint,
            "code": self.code,
        }


def line_and_column(text: str, offset: int) -> tuple[int, int]:
    """The 1-based line and column of a 0-based ``offset`` into ``text``.

    >>> line_and_column("a = 1 AND\\nb = ", 14)
    (2, 5)
    """
    offset = max(0, min(offset, len(text)))
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return line, column


TAB_SIZE = 8
"""Tab stops of the echoed input line, as terminals set them."""

_WINDOW = 100
"""Display cells of a long input line kept around the caret."""


def cell_width(char: str) -> int:
    """The terminal cells one character takes: 2 for East Asian wide ones, 0 for combining marks.

    Wide and fullwidth characters (CJK, most emoji) take two cells, combining marks and format
    characters (a zero-width joiner, a variation selector) none, everything else one. Tabs are
    not single characters on screen: :func:`caret_lines` expands them.

    >>> [cell_width(c) for c in "a界😀\u0301\u200d"]
    [1, 2, 2, 0, 0]
    """
    if unicodedata.combining(char) or unicodedata.category(char) in ("Mn", "Me", "Cf"):
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def _shown(line: str) -> list[tuple[str, int]]:
    """Each character of ``line`` as it is echoed and the cells it takes (tabs expanded)."""
    pieces: list[tuple[str, int]] = []
    cells = 0
    for char in line:
        if char == "\t":
            shown = " " * (TAB_SIZE - cells % TAB_SIZE)
            width = len(shown)
        elif unicodedata.category(char) == "Cc":  # never echo a terminal control character
            shown, width = "\N{REPLACEMENT CHARACTER}", 1
        else:
            shown, width = char, cell_width(char)
        pieces.append((shown, width))
        cells += width
    return pieces


def caret_lines(text: str, offset: int, width: int = 1) -> str:
    """The line of ``text`` holding ``offset`` with a caret line under it (long lines trimmed).

    The caret is placed in display cells: tabs are expanded to stops of :data:`TAB_SIZE` in the
    echoed line (so a terminal draws both lines alike), and wide characters (CJK, emoji) count
    two cells (:func:`cell_width`). A line longer than 100 cells is cut around the caret.

    Args:
        text: The input.
        offset: The 0-based character offset of the first character to mark.
        width: How many characters to mark.

    Returns:
        Two lines, each indented by two spaces: the input line and the carets.

    >>> print(caret_lines("cloudCover < WORLDVIEW*", 13, 10))
      cloudCover < WORLDVIEW*
                   ^^^^^^^^^^
    >>> print(caret_lines("\\t名前 and x", 4, 3))
              名前 and x
                   ^^^
    """
    offset = max(0, min(offset, len(text)))
    start = text.rfind("\n", 0, offset) + 1
    end = text.find("\n", offset)
    line = text[start : end if end >= 0 else len(text)]
    column = offset - start
    pieces = _shown(line)
    starts = [0]
    for _, cells in pieces:
        starts.append(starts[-1] + cells)
    first = starts[column]  # the caret's first cell
    marked = starts[min(column + max(1, width), len(pieces))] - first
    lead, keep = "", range(len(pieces))
    if starts[-1] > _WINDOW:  # keep the caret in view on a long line
        left = max(0, first - _WINDOW // 2)
        kept = [i for i in keep if starts[i] >= left and starts[i + 1] <= left + _WINDOW]
        if kept and kept[0] > 0:
            lead = "\N{HORIZONTAL ELLIPSIS}"
        keep = range(kept[0], kept[-1] + 1) if kept else range(0)
        shift = starts[keep.start] if kept else first
        first = first - shift + len(lead)
        marked = min(marked, max(1, left + _WINDOW - starts[column]))
    shown = lead + "".join(pieces[i][0] for i in keep)
    return f"  {shown}\n  {' ' * first}{'^' * max(1, marked)}"


class CatalogqlError(Exception):
    """The root of every error catalogql raises on purpose.

    Subclasses set ``status`` and ``default_code``; an error built from a message alone has one
    problem saying that message about the whole input.

    Args:
        message: What is wrong, in one sentence (the error's ``str`` starts with it).
        problems: Every problem, in input order; when empty, one problem is made of ``message``,
            ``hint`` and ``code``.
        hint: How to fix it, when ``problems`` is empty.
        code: The problem's code, when ``problems`` is empty (``default_code`` if None).

    Attributes:
        status: The HTTP status this error answers with.
        message: What is wrong.
        problems: The problems, never empty.

    >>> error = CatalogqlError("the store is closed", hint="open the catalog again")
    >>> error.status, [p.to_dict() for p in error.problems][0]["hint"]
    (500, 'open the catalog again')
    """

    status: ClassVar[int] = 500
    default_code: ClassVar[str] = "error"

    def __init__(
        self,
        message: str,
        problems: Sequence[Problem] = (),
        *,
        hint: str = "",
        code: str | None = None,
    ) -> None:
        self.message = message
        self.problems: tuple[Problem, ...] = tuple(problems) or (
            Problem("", None, message, hint, code or self.default_code),
        )
        super().__init__(message)

    @property
    def source(self) -> str | None:
        """The text the problems' offsets point into, when the error has one (for caret lines)."""
        return None

    def render(self) -> str:
        """The human text of this error (:func:`render`).

        >>> print(NotFound("Not Found: nope").render())
        Not Found: nope
        """
        return render(self)

    def to_body(self) -> dict[str, Any]:
        """The JSON body of this error (:func:`error_body`).

        >>> Conflict("the product exists").to_body()
        {'status': '409 Conflict', 'message': 'the product exists'}
        """
        return error_body(self)

    def __str__(self) -> str:
        return render(self)

    def __reduce__(self) -> tuple[Any, ...]:
        # Rebuilt from its state, not by calling __init__ again with ``args`` (subclasses take
        # other arguments): errors cross processes (pickle) and copies whole.
        return (_restore, (type(self), self.args), self.__dict__)


def _restore(cls: type[CatalogqlError], args: tuple[Any, ...]) -> CatalogqlError:
    """An error of ``cls`` with ``args`` and no other state yet (pickle sets its ``__dict__``)."""
    error = cls.__new__(cls, *args)
    error.args = args
    return error


class InvalidInput(CatalogqlError, ValueError):
    """Input that cannot be used: 400 Bad Request (a ``ValueError`` too)."""

    status = 400
    default_code = "invalid"


class UsageError(InvalidInput):
    """A problem with the command line's inputs rather than with an expression (CLI exit status 2).

    >>> UsageError("--batch-size must be at least 1").status
    400
    """

    default_code = "usage"


class NotFound(CatalogqlError, LookupError):
    """Nothing has this name or identifier, or the caller may not see it: 404 (a LookupError)."""

    status = 404
    default_code = "not-found"


class Conflict(CatalogqlError):
    """The request conflicts with what exists (a duplicate, a stale version): 409."""

    status = 409
    default_code = "conflict"


class TooLarge(CatalogqlError):
    """The input is past a limit on its size: 413."""

    status = 413
    default_code = "too-large"


class Unprocessable(CatalogqlError):
    """The input is well-formed but cannot be processed as asked: 422."""

    status = 422
    default_code = "unprocessable"


class Unauthorized(CatalogqlError):
    """No credentials, or credentials that are not valid: 401."""

    status = 401
    default_code = "unauthorized"


class Forbidden(CatalogqlError):
    """Valid credentials that do not allow this action: 403."""

    status = 403
    default_code = "forbidden"


def render_problem(problem: Problem, text: str | None = None, *, message: str | None = None) -> str:
    """One problem as text: message, where, what was expected and the hint.

    A problem located in a text (it has a ``line``) takes several lines: the message with its
    line, column and code, a caret line under ``text`` (when given), what was expected and the
    hint. Any other problem is one line: ``message (offset N) (expected: …) (hint: …)``.

    Args:
        problem: The problem.
        text: The input its offset points into; no caret line when None.
        message: The headline instead of the problem's message (an error's own message).

    Returns:
        The lines, joined by newlines.

    >>> problem = Problem("", 12, "unexpected end of input", "add a value after '<'",
    ...                   "syntax.missing-value", line=1, column=13)
    >>> print(render_problem(problem, "cloudCover <"))
    unexpected end of input at line 1, column 13 [syntax.missing-value]
      cloudCover <
                  ^
    hint: add a value after '<'
    """
    head = problem.message if message is None else message
    expected = ", ".join(problem.expected)
    if problem.line is None:  # not located in a text: one line
        at = f" (offset {problem.offset})" if problem.offset is not None else ""
        more = f" (expected: {expected})" if expected else ""
        hint = f" (hint: {problem.hint})" if problem.hint else ""
        return f"{head}{at}{more}{hint}"
    parts = [f"{head} at line {problem.line}, column {problem.column} [{problem.code}]"]
    if text is not None:
        parts.append(caret_lines(text, problem.offset or 0, problem.width))
    if expected:
        parts.append(f"expected: {expected}")
    if problem.hint:
        parts.append(f"hint: {problem.hint}")
    return "\n".join(parts)


def render(error: CatalogqlError) -> str:
    """The human text of an error, as the CLI prints it and ``str(error)`` gives it.

    An error with one problem is :func:`render_problem` of it under the error's message (and its
    ``source``, for the caret line). An error with several is its message, then each problem on
    its own lines: field, offset, message and hint.

    >>> print(render(InvalidInput("Invalid request", [
    ...     Problem("limit", None, "limit must be at least 1", "use 1 to 1000", "limit"),
    ...     Problem("filters[0]", 16, "'and' is not an operator", "write AND", "syntax")])))
    Invalid request
      limit: limit must be at least 1
        hint: use 1 to 1000
      filters[0] (offset 16): 'and' is not an operator
        hint: write AND
    """
    problems = error.problems
    if len(problems) == 1:
        return render_problem(problems[0], error.source, message=error.message)
    lines = [error.message]
    for problem in problems:
        at = f" (offset {problem.offset})" if problem.offset is not None else ""
        lines.append(f"  {problem.field or 'request'}{at}: {problem.message}")
        if problem.hint:
            lines.append(f"    hint: {problem.hint}")
    return "\n".join(lines)


def argument_error(function: str, argument: str, value: object, expected: str) -> UsageError:
    """The error for an argument of the wrong type: which function, which argument, what it takes.

    Public functions check their arguments' types up front with it, so a wrong one is a
    :class:`UsageError` naming it rather than a ``TypeError`` or ``AttributeError`` from deep
    inside (``usage.argument``).

    >>> print(argument_error("check", "limits", None, "a catalogql.Limits"))
    check(): limits must be a catalogql.Limits, not None (hint: pass a catalogql.Limits as limits)
    """
    got = "None" if value is None else type(value).__name__
    return UsageError(
        f"{function}(): {argument} must be {expected}, not {got}",
        code="usage.argument",
        hint=f"pass {expected} as {argument}",
    )


def error_body(error: CatalogqlError) -> dict[str, Any]:
    """The JSON body of an HTTP answer to ``error`` (sent with ``error.status``).

    ``{"status": "<code> <reason>", "message": ...}``, and for errors about the client's input
    (400, 413, 422) the problems as ``"errors"``: a list of :meth:`Problem.to_dict`.

    >>> error_body(UsageError("limit must be at least 1", code="request.limit-range"))["errors"]
    [{'field': '', 'offset': None, 'message': 'limit must be at least 1', 'hint': '', \
'code': 'request.limit-range'}]
    >>> error_body(Forbidden("alice may not read this product"))
    {'status': '403 Forbidden', 'message': 'alice may not read this product'}
    """
    if not isinstance(error, CatalogqlError):
        raise argument_error("error_body", "error", error, "a catalogql error (CatalogqlError)")
    status = error.status
    body: dict[str, Any] = {"status": f"{status} {REASONS.get(status, 'Error')}"}
    body["message"] = error.message
    if status in _BODY_LISTS_PROBLEMS:
        body["errors"] = [problem.to_dict() for problem in error.problems]
    return body
