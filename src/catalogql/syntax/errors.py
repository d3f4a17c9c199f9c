"""The errors of filters and type expressions, and the diagnostics of ``check()``.

Every problem with a filter or a type expression is a :class:`QueryError` (a
:class:`QuerySyntaxError`, a :class:`QueryValidationError` or a :class:`QueryLimitError`), in the
one error model of :mod:`catalogql.errors`: one :class:`~catalogql.errors.Problem` holding the
0-based ``offset``, 1-based ``line`` and ``column``, what was ``expected``, a ``hint`` and a stable
``code``; the error renders a caret line under the input:

>>> err = QuerySyntaxError("unexpected end of input", text="cloudCover <", offset=12,
...                        code="syntax.missing-value", hint="add a value after '<'")
>>> print(err)
unexpected end of input at line 1, column 13 [syntax.missing-value]
  cloudCover <
              ^
hint: add a value after '<'
>>> err.status, err.problems[0].column
(400, 13)

A valid input that SQL cannot hold (a tree deeper than the SQL compiler goes, text with a NUL) is
an :class:`Inexpressible`, so that a store decides it in Python instead of failing.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from catalogql.errors import (
    CatalogqlError,
    InvalidInput,
    Problem,
    TooLarge,
    caret_lines,
    line_and_column,
    render_problem,
)

__all__ = [
    "CatalogqlError",
    "Diagnostic",
    "Inexpressible",
    "InexpressibleDepth",
    "Problem",
    "ProblemFields",
    "QueryError",
    "QueryLimitError",
    "QuerySyntaxError",
    "QueryValidationError",
    "caret_lines",
    "line_and_column",
    "merge_warnings",
]


class _HasProblem(Protocol):
    @property
    def problem(self) -> Problem: ...


class ProblemFields:
    """The fields of an object's one :class:`Problem`, read through (no second copy of them).

    Shared by :class:`QueryError` and :class:`Diagnostic`: ``offset`` reads 0 and ``line`` and
    ``column`` read 1 where the problem has none.
    """

    __slots__ = ()

    @property
    def offset(self: _HasProblem) -> int:
        """0-based character offset of the problem in its text."""
        return self.problem.offset or 0

    @property
    def line(self: _HasProblem) -> int:
        """1-based line of ``offset``."""
        return self.problem.line or 1

    @property
    def column(self: _HasProblem) -> int:
        """1-based column of ``offset``."""
        return self.problem.column or 1

    @property
    def expected(self: _HasProblem) -> tuple[str, ...]:
        """What would have been valid at ``offset`` (may be empty)."""
        return self.problem.expected

    @property
    def hint(self: _HasProblem) -> str:
        """How to fix it (may be empty)."""
        return self.problem.hint

    @property
    def code(self: _HasProblem) -> str:
        """A stable, machine-readable code such as ``syntax.unexpected-token``."""
        return self.problem.code

    @property
    def width(self: _HasProblem) -> int:
        """How many characters the caret line underlines."""
        return self.problem.width


class QueryError(ProblemFields, InvalidInput):
    """A filter or type expression that cannot be used, with where and why (status 400).

    Its one problem (``problems[0]``) says where; the attributes below read it.

    Attributes:
        message: What is wrong, in one sentence.
        text: The input the error is about.
        offset: 0-based character offset of the problem in ``text``.
        line: 1-based line of ``offset``.
        column: 1-based column of ``offset``.
        expected: What would have been valid at ``offset`` (may be empty).
        hint: How to fix it (may be empty).
        code: A stable, machine-readable code such as ``syntax.unexpected-token``.
        width: How many characters the caret line underlines.
    """

    default_code = "query"

    def __init__(
        self,
        message: str,
        *,
        text: str = "",
        offset: int = 0,
        expected: Sequence[str] = (),
        hint: str = "",
        code: str | None = None,
        width: int = 1,
    ) -> None:
        self.text = text
        line, column = line_and_column(text, offset)
        problem = Problem(
            "",
            offset,
            message,
            hint,
            code or self.default_code,
            line=line,
            column=column,
            expected=tuple(expected),
            width=width,
        )
        super().__init__(message, (problem,))

    @property
    def problem(self) -> Problem:
        """The one problem of this error."""
        return self.problems[0]

    @property
    def source(self) -> str | None:
        """The input, for the caret line (none for an error raised without it, past offset 0)."""
        return self.text if self.text or self.offset == 0 else None

    def locate(self, text: str) -> QueryError:
        """Attach the input ``text`` to an error raised without it (by a compiler); returns self.

        >>> error = QueryError("no such thing", offset=4).locate("a = no")
        >>> error.line, error.column
        (1, 5)
        """
        if not self.text:
            self.text = text
            line, column = line_and_column(text, self.offset)
            self.problems = (dataclasses.replace(self.problem, line=line, column=column),)
        return self

    def to_diagnostic(self) -> Diagnostic:
        """This error as an ``error`` :class:`Diagnostic`.

        >>> QueryError("no such thing", text="a = no", offset=4).to_diagnostic().column
        5
        """
        return Diagnostic("error", self.problem)


class QuerySyntaxError(QueryError):
    """The text does not follow the grammar."""

    default_code = "syntax"


class QueryValidationError(QueryError):
    """The text parses but means nothing usable (a wildcard with ``<``, an unknown property, …)."""

    default_code = "validation"


class QueryLimitError(QueryError, TooLarge):
    """The input is past a configured limit; ``limit`` names it (``length``, ``depth``, …).

    Every limit is on the input's size (its length, nesting depth, number of comparisons), so the
    status is 413 (a :class:`~catalogql.errors.TooLarge`), and it is a :class:`QueryError` too.
    """

    status = 413
    default_code = "limit"

    def __init__(self, message: str, *, limit: str, **kwargs: Any) -> None:
        self.limit = limit
        kwargs.setdefault("code", f"limit.{limit}")
        super().__init__(message, **kwargs)


class Inexpressible(QueryError):
    """A valid input that a compiler's target cannot hold (SQL: text with a NUL, too deep a tree).

    The explicit signal for "decide this another way": a store that catches it evaluates the
    filter in Python instead. Status 422 (well-formed, but not processable by that target).
    """

    status = 422
    default_code = "compile.inexpressible"


class InexpressibleDepth(Inexpressible, QueryLimitError):
    """A tree deeper than the target compiles (``limit == "depth"``): a limit of the target."""

    status = 422


@dataclass(frozen=True, slots=True)
class Diagnostic(ProblemFields):
    """One finding of :func:`catalogql.check`: an error or a warning, and its :class:`Problem`.

    The problem's fields read through: ``code``, ``message``, ``offset``, ``line``, ``column``,
    ``hint``, ``expected`` and ``width``.

    Attributes:
        severity: ``"error"`` or ``"warning"``.
        problem: Where, what and how to fix it.
        rewrite: The whole input rewritten in the canonical form, on the first compatibility
            warning of an input (one rewrite per input, however many warnings).
        count: How many times this kind of finding occurs in the input; the problem is the
            first (one warning per kind per input, :func:`merge_warnings`).
    """

    severity: Literal["error", "warning"]
    problem: Problem
    rewrite: str | None = None
    count: int = 1

    @property
    def summary(self) -> str:
        """The message, with how many times it occurs when more than once.

        >>> problem = Problem("", 15, "comma between conditions", "", "compat.comma")
        >>> Diagnostic("warning", problem, count=3).summary
        'comma between conditions (3 times in the input; the first is shown)'
        """
        if self.count == 1:
            return self.problem.message
        return f"{self.problem.message} ({self.count} times in the input; the first is shown)"

    @property
    def message(self) -> str:
        """What was found."""
        return self.problem.message

    def render(self, text: str) -> str:
        """Human-readable form with a caret line under ``text``.

        >>> problem = Problem("", 15, "comma between conditions", "", "compat.comma",
        ...                   line=1, column=16)
        >>> print(Diagnostic("warning", problem).render("cloudCover < 20, offNadirAngle < 10"))
        warning: comma between conditions at line 1, column 16 [compat.comma]
          cloudCover < 20, offNadirAngle < 10
                         ^
        """
        problem = self.problem
        if self.count != 1:
            problem = dataclasses.replace(problem, message=self.summary)
        rendered = f"{self.severity}: " + render_problem(problem, text)
        if self.rewrite is not None:
            rendered += f"\nrewrite: {self.rewrite}"
        return rendered

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready dict (the CLI's ``--json`` output).

        >>> problem = Problem("", 0, "odd", "", "compat.x", line=1, column=1)
        >>> sorted(Diagnostic("warning", problem).to_dict())[:3]
        ['code', 'column', 'count']
        """
        return {
            "severity": self.severity,
            "code": self.code,
            "message": self.message,
            "offset": self.offset,
            "line": self.line,
            "column": self.column,
            "hint": self.hint,
            "expected": list(self.expected),
            "rewrite": self.rewrite,
            "count": self.count,
        }


def merge_warnings(diagnostics: Sequence[Diagnostic]) -> list[Diagnostic]:
    """One warning per kind (code): the first of each, counting the rest; errors stay as they are.

    An input with 10,000 commas has one ``compat.comma`` warning with ``count == 10000``, so
    the findings of an input stay as small as its kinds, never as large as its length.

    >>> a = Problem("", 3, "comma", "", "compat.comma")
    >>> b = Problem("", 9, "comma", "", "compat.comma")
    >>> [(d.offset, d.count) for d in merge_warnings([Diagnostic("warning", a),
    ...                                                Diagnostic("warning", b)])]
    [(3, 2)]
    """
    merged: list[Diagnostic] = []
    first: dict[str, int] = {}
    for diag in diagnostics:
        if diag.severity != "warning":
            merged.append(diag)
            continue
        at = first.get(diag.code)
        if at is None:
            first[diag.code] = len(merged)
            merged.append(diag)
        else:
            kept = merged[at]
            merged[at] = dataclasses.replace(
                kept, count=kept.count + diag.count, rewrite=kept.rewrite or diag.rewrite
            )
    return merged
