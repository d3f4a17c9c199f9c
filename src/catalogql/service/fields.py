"""Field checks shared by products and bands: each value checked, every problem positioned.

A *field table* maps each field name to a check; :func:`check_fields` runs them over a body and
collects every problem (``Problem(field, …)``, ``field`` such as ``data_range[1]``) before
:func:`raise_problems` raises one 400 listing them all.
"""

from __future__ import annotations

import datetime
import difflib
import math
import re
from collections.abc import Callable, Mapping
from typing import Any

from catalogql.errors import InvalidInput, Problem
from catalogql.service.access import check_grants

__all__ = [
    "Check",
    "check_fields",
    "check_id_text",
    "date",
    "grants",
    "integer",
    "json_value",
    "number",
    "number_or_text",
    "pair",
    "raise_problems",
    "text",
    "text_list",
]

Check = Callable[[Any, str, list[Problem]], Any]
"""Checks a value of a field (named by the second argument), appends problems, returns the value
to store."""

_CODE = "service.field"


def _problem(field: str, message: str, hint: str, code: str = _CODE) -> Problem:
    return Problem(field, None, message, hint, code)


def raise_problems(problems: list[Problem]) -> None:
    """Raise one :class:`~catalogql.errors.InvalidInput` (400) listing every problem, if any.

    >>> raise_problems([])
    >>> raise_problems([Problem("title", None, "title must be text", "quote it", "x")])
    Traceback (most recent call last):
      ...
    catalogql.errors.InvalidInput: title must be text (hint: quote it)
    """
    if problems:
        first = problems[0]
        more = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
        raise InvalidInput(first.message + more, problems)


def text(value: Any, field: str, problems: list[Problem]) -> Any:
    """A string.

    >>> problems = []; text(3, "title", problems); problems[0].message
    3
    'title must be a string, not 3'
    """
    if not isinstance(value, str):
        problems.append(_problem(field, f"{field} must be a string, not {value!r}", "quote it"))
    return value


def text_list(value: Any, field: str, problems: list[Problem]) -> Any:
    """A list of strings.

    >>> problems = []; _ = text_list(["a", 2], "tags", problems); problems[0].field
    'tags[1]'
    """
    if not isinstance(value, list | tuple):
        problems.append(
            _problem(field, f"{field} must be a list of strings, not {value!r}", '["a", "b"]')
        )
        return value
    for index, item in enumerate(value):
        text(item, f"{field}[{index}]", problems)
    return list(value)


def number(value: Any, field: str, problems: list[Problem]) -> Any:
    """A finite number (not a boolean).

    >>> problems = []; _ = number(float("nan"), "nodata", problems); problems[0].message
    'nodata must be a finite number, not nan'
    """
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        problems.append(
            _problem(field, f"{field} must be a finite number, not {value!r}", "e.g. 0 or 10.5")
        )
    return value


def integer(minimum: int | None = None) -> Check:
    """An integer, at least ``minimum``.

    >>> problems = []; _ = integer(1)(0, "srcband", problems); problems[0].message
    'srcband must be at least 1, not 0'
    """

    def check(value: Any, field: str, problems: list[Problem]) -> Any:
        if isinstance(value, bool) or not isinstance(value, int):
            problems.append(_problem(field, f"{field} must be an integer, not {value!r}", "e.g. 1"))
        elif minimum is not None and value < minimum:
            problems.append(
                _problem(
                    field,
                    f"{field} must be at least {minimum}, not {value}",
                    f"give {minimum} or more" + (" (bands count from 1)" if minimum == 1 else ""),
                )
            )
        return value

    return check


def number_or_text(value: Any, field: str, problems: list[Problem]) -> Any:
    """A number or a string (``resolution`` may be ``10`` or ``"10m"``).

    >>> problems = []; _ = number_or_text([], "resolution", problems); problems[0].hint
    'a number or a string such as "10m"'
    """
    if isinstance(value, str):
        return value
    inner: list[Problem] = []
    number(value, field, inner)
    if inner:
        problems.append(
            _problem(
                field,
                f"{field} must be a number or a string, not {value!r}",
                'a number or a string such as "10m"',
            )
        )
    return value


def json_value(value: Any, field: str, problems: list[Problem]) -> Any:
    """Any JSON value (kept as given).

    >>> json_value({"a": [1]}, "extra", [])
    {'a': [1]}
    """
    return value


def date(value: Any, field: str, problems: list[Problem]) -> Any:
    """An ISO 8601 date or date-time string (``2020-01-01``, ``2020-01-01T00:00:00Z``).

    >>> problems = []; _ = date("yesterday", "start_datetime", problems); problems[0].hint
    'write an ISO 8601 date such as 2020-01-01 or 2020-01-01T10:00:00Z'
    """
    ok = isinstance(value, str)
    if ok:
        try:
            datetime.datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            ok = False
    if not ok:
        problems.append(
            _problem(
                field,
                f"{field} is not a date: {value!r}",
                "write an ISO 8601 date such as 2020-01-01 or 2020-01-01T10:00:00Z",
            )
        )
    return value


def pair(value: Any, field: str, problems: list[Problem]) -> Any:
    """Two numbers ``[low, high]`` with low ≤ high.

    >>> problems = []; _ = pair([0, "x"], "data_range", problems); problems[0].field
    'data_range[1]'
    """
    if not isinstance(value, list | tuple) or len(value) != 2:
        problems.append(
            _problem(field, f"{field} must be a list of two numbers, not {value!r}", "[0, 255]")
        )
        return value
    before = len(problems)
    for index, item in enumerate(value):
        number(item, f"{field}[{index}]", problems)
    if len(problems) == before and value[0] > value[1]:
        problems.append(
            _problem(
                field,
                f"{field} goes down: {value[0]!r} is greater than {value[1]!r}",
                "write the low end first",
            )
        )
    return list(value)


def grants(value: Any, field: str, problems: list[Problem]) -> Any:
    """Grant names (see :func:`catalogql.service.access.check_grants`).

    >>> grants(["org:acme"], "writers", [])
    ['org:acme']
    """
    names, found = check_grants(value, field)
    problems.extend(found)
    return names


_BAD_ID = re.compile(r"[/?#\x00-\x1f\x7f]")


def check_id_text(value: Any, field: str, problems: list[Problem], *, colon: bool = True) -> Any:
    """An id or name: a non-empty string without ``/ ? #`` or control characters.

    (The client puts ids into URL paths unescaped, WIRE.md §1.)

    >>> problems = []; _ = check_id_text("a/b", "product_id", problems); problems[0].hint
    'use letters, digits, - _ . and : (no / ? # or control characters)'
    """
    if not isinstance(value, str) or not value or len(value) > 1000:
        problems.append(
            _problem(
                field,
                f"{field} must be a non-empty string of at most 1000 characters, not {value!r}",
                "give a name such as landcover",
                "service.id",
            )
        )
    elif _BAD_ID.search(value) or (not colon and ":" in value):
        allowed = "letters, digits, - _ ." + (" and :" if colon else "")
        banned = "/ ? #" + ("" if colon else " :")
        problems.append(
            _problem(
                field,
                f"{field} {value!r} contains a character ids may not hold",
                f"use {allowed} (no {banned} or control characters)",
                "service.id",
            )
        )
    return value


def check_fields(
    body: Mapping[str, Any], table: Mapping[str, Check], problems: list[Problem]
) -> dict[str, Any]:
    """Check every field of ``body`` with its check in ``table``; unknown fields are problems.

    A value of None means "not set" and is kept as None (clearing the field).

    >>> problems = []
    >>> check_fields({"titel": "x"}, {"title": text}, problems)
    {}
    >>> problems[0].message, problems[0].hint
    ("unknown field 'titel'", "did you mean 'title'? (fields: title)")
    """
    checked: dict[str, Any] = {}
    for name, value in body.items():
        check = table.get(name)
        if check is None:
            close = difflib.get_close_matches(str(name), list(table), n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            problems.append(
                _problem(
                    str(name),
                    f"unknown field {name!r}",
                    f"{hint}(fields: {', '.join(sorted(table))})",
                    "service.unknown-field",
                )
            )
            continue
        checked[name] = None if value is None else check(value, name, problems)
    return checked
