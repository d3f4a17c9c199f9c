"""How a value is named in a message: its JSON kind, or its text cut short.

One wording for every problem about a request or a record (:mod:`catalogql.search.request`,
:mod:`catalogql.search.geometry`).

>>> f"limit must be an integer, not {json_kind('10')}"
'limit must be an integer, not a string'
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["json_kind", "safe_str", "shorten"]


def json_kind(value: object) -> str:
    """The JSON name of a value's type, with its article, for messages.

    >>> json_kind(None), json_kind(True), json_kind(3), json_kind([1]), json_kind({})
    ('null', 'a boolean', 'an integer', 'an array', 'an object')
    """
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list | tuple):
        return "an array"
    return f"a {type(value).__name__}"


def safe_str(value: object) -> str:
    """``str(value)``, or its type's name when that fails (a huge int, a broken ``__str__``).

    >>> safe_str(12), safe_str(10**5000)
    ('12', '<int>')
    """
    try:
        return shorten(str(value), 100)
    except Exception:
        return f"<{type(value).__name__}>"


def shorten(text: str, width: int = 60) -> str:
    """``text``, cut to ``width`` characters with an ellipsis when it is longer.

    >>> shorten("sensorPlatformName", 10)
    'sensorPla…'
    """
    return text if len(text) <= width else text[: width - 1] + "…"
