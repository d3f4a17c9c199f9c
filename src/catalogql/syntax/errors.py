"""Errors and diagnostics: every problem says where it is, what is wrong and what to do.

All errors raised by catalogql derive from :class:`CatalogqlError`; every problem with a filter or a
type expression is a :class:`QueryError` (a :class:`QuerySyntaxError`, a
:class:`QueryValidationError` or a :class:`QueryLimitError`). Each carries the offending text, a
0-based ``offset``, 1-based ``line`` and ``column``, what was ``expected``, a ``hint`` and a stable
``code``, and renders a caret line under the input:

>>> err = QuerySyntaxError("unexpected end of input", text="cloudCover <", offset=12,
...                        code="syntax.missing-value", hint="add a value after '<'")
>>> print(err)
unexpected end of input at line 1, column 13 [syntax.missing-value]
  cloudCover <
              ^
hint: add a value after '<'
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "CatalogqlError",
    "Diagnostic",
    "QueryError",
    "QueryLimitError",
    "QuerySyntaxError",
    "QueryValidationError",
    "caret_lines",
    "line_and_column",
]


class CatalogqlError(Exception):
    """Base class of every error catalogql raises on purpose."""


def line_and_column(text: str, offset: int) -> tuple[int, int]:
    """The 1-based line and column of a 0-based ``offset`` into ``text``.

    >>> line_and_column("a = 1 AND\\nb = ", 14)
    (2, 5)
    """
    offset = max(0, min(offset, len(text)))
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return line, column


def caret_lines(text: str, offset: int, width: int = 1) -> str:
    """The line of ``text`` holding ``offset`` with a caret line under it (long lines trimmed).

    >>> print(caret_lines("cloudCover < WORLDVIEW*", 13, 10))
      cloudCover < WORLDVIEW*
                   ^^^^^^^^^^
    """
    offset = max(0, min(offset, len(text)))
    start = text.rfind("\n", 0, offset) + 1
    end = text.find("\n", offset)
    line = text[start : end if end >= 0 else len(text)]
    column = offset - start
    if len(line) > 100:  # keep the caret in view on a long line
        left = max(0, column - 50)
        line = ("…" if left else "") + line[left : left + 100]
        column = column - left + (1 if left else 0)
    width = max(1, min(width, len(line) - column))
    return f"  {line}\n  {' ' * column}{'^' * width}"


class QueryError(CatalogqlError, ValueError):
    """A filter or type expression that cannot be used, with where and why.

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
        self.message = message
        self.text = text
        self.offset = offset
        self.line, self.column = line_and_column(text, offset)
        self.expected = tuple(expected)
        self.hint = hint
        self.code = code or self.default_code
        self.width = width
        super().__init__(message)

    def locate(self, text: str) -> QueryError:
        """Attach the input ``text`` to an error raised without it (by a compiler); returns self.

        >>> error = QueryError("no such thing", offset=4).locate("a = no")
        >>> error.line, error.column
        (1, 5)
        """
        if not self.text:
            self.text = text
            self.line, self.column = line_and_column(text, self.offset)
        return self

    def render(self) -> str:
        """The message, a caret line under the input and the hint, as the CLI prints them."""
        parts = [f"{self.message} at line {self.line}, column {self.column} [{self.code}]"]
        if self.text or self.offset == 0:
            parts.append(caret_lines(self.text, self.offset, self.width))
        if self.expected:
            parts.append("expected: " + ", ".join(self.expected))
        if self.hint:
            parts.append(f"hint: {self.hint}")
        return "\n".join(parts)

    def __str__(self) -> str:
        return self.render()

    def to_diagnostic(self) -> Diagnostic:
        """This error as an ``error`` :class:`Diagnostic`."""
        return Diagnostic(
            severity="error",
            code=self.code,
            message=self.message,
            offset=self.offset,
            line=self.line,
            column=self.column,
            hint=self.hint,
            expected=self.expected,
            width=self.width,
        )


class QuerySyntaxError(QueryError):
    """The text does not follow the grammar."""

    default_code = "syntax"


class QueryValidationError(QueryError):
    """The text parses but means nothing usable (a wildcard with ``<``, an unknown property, …)."""

    default_code = "validation"


class QueryLimitError(QueryError):
    """The input is past a configured limit; ``limit`` names it (``length``, ``depth``, …)."""

    default_code = "limit"

    def __init__(self, message: str, *, limit: str, **kwargs: object) -> None:
        self.limit = limit
        kwargs.setdefault("code", f"limit.{limit}")
        super().__init__(message, **kwargs)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One finding of :func:`catalogql.check`: an error or a warning, positioned.

    Attributes:
        severity: ``"error"`` or ``"warning"``.
        code: Stable code, e.g. ``compat.comma`` or ``syntax.lowercase-operator``.
        message: What was found.
        offset: 0-based character offset.
        line: 1-based line.
        column: 1-based column.
        hint: How to fix it.
        expected: What would have been valid there (errors only).
        width: How many characters the finding spans.
        rewrite: For compatibility warnings, the whole input rewritten in the canonical form.
    """

    severity: Literal["error", "warning"]
    code: str
    message: str
    offset: int
    line: int
    column: int
    hint: str = ""
    expected: tuple[str, ...] = ()
    width: int = 1
    rewrite: str | None = None

    def render(self, text: str) -> str:
        """Human-readable form with a caret line under ``text``.

        >>> d = Diagnostic("warning", "compat.comma", "comma between conditions", 15, 1, 16)
        >>> print(d.render("cloudCover < 20, offNadirAngle < 10"))
        warning: comma between conditions at line 1, column 16 [compat.comma]
          cloudCover < 20, offNadirAngle < 10
                         ^
        """
        parts = [
            f"{self.severity}: {self.message} at line {self.line}, column {self.column} "
            f"[{self.code}]",
            caret_lines(text, self.offset, self.width),
        ]
        if self.expected:
            parts.append("expected: " + ", ".join(self.expected))
        if self.hint:
            parts.append(f"hint: {self.hint}")
        if self.rewrite is not None:
            parts.append(f"rewrite: {self.rewrite}")
        return "\n".join(parts)

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready dict (the CLI's ``--json`` output)."""
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
        }
