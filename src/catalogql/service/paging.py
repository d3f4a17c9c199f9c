"""Paging of the service's lists: a limit and an opaque continuation token, in id order.

A token says where the previous page ended (the last id it held) and what was listed; it is
base64url JSON, not a secret: a principal who forges one only moves within what they may read.
A token that cannot be decoded, or that belongs to another list, is a 400 on ``continuation``.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import json
from collections.abc import Callable
from typing import Any

from catalogql.errors import InvalidInput, Problem
from catalogql.search.documents import Document, Documents

__all__ = ["MAX_LIMIT", "check_limit", "decode_token", "encode_token", "now", "page"]

MAX_LIMIT = 1000
"""The largest page a list returns."""


def now() -> str:
    """The current UTC time as ISO 8601 with microseconds and ``Z`` (``modified`` fields).

    >>> now().endswith("Z") and now()[10] == "T"
    True
    """
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def check_limit(limit: Any) -> int:
    """A page size from 1 to :data:`MAX_LIMIT`, or a 400 naming ``limit``.

    >>> check_limit(10)
    10
    >>> check_limit(0)
    Traceback (most recent call last):
      ...
    catalogql.errors.InvalidInput: limit must be an integer from 1 to 1000, not 0 (hint: ask \
for at most 1000 per page and follow the continuation token)
    """
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        message = f"limit must be an integer from 1 to {MAX_LIMIT}, not {limit!r}"
        hint = f"ask for at most {MAX_LIMIT} per page and follow the continuation token"
        raise InvalidInput(message, [Problem("limit", None, message, hint, "service.limit")])
    return limit


def encode_token(scope: str, after: str) -> str:
    """A continuation token for the list ``scope``, continuing after the id ``after``.

    >>> decode_token(encode_token("product", "ns:a"), "product")
    'ns:a'
    """
    raw = json.dumps({"s": scope, "a": after}, separators=(",", ":")).encode("utf-8")
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_token(token: Any, scope: str) -> str:
    """The id a token continues after; a 400 on ``continuation`` for a bad or foreign token.

    >>> decode_token("garbage!", "product")
    Traceback (most recent call last):
      ...
    catalogql.errors.InvalidInput: continuation is not a token this list gave: 'garbage!' \
(hint: pass the continuation_token of the previous page unchanged, or none for the first page)
    """
    try:
        if not isinstance(token, str):
            raise ValueError(token)
        padded = token + "=" * (-len(token) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
        if value.get("s") != scope or not isinstance(value.get("a"), str):
            raise ValueError(token)
        after: str = value["a"]
        return after
    except (ValueError, TypeError, AttributeError, binascii.Error, UnicodeError):
        message = f"continuation is not a token this list gave: {token!r}"
        hint = (
            "pass the continuation_token of the previous page unchanged, or none for the first page"
        )
        raise InvalidInput(
            message, [Problem("continuation", None, message, hint, "service.continuation")]
        ) from None


def page(
    store: Documents,
    kind: str,
    scope: str,
    *,
    limit: Any,
    continuation: str | None,
    parent: str | None = None,
    readers: frozenset[str] | None = None,
    keep: Callable[[Document], bool] | None = None,
) -> tuple[list[Document], str | None]:
    """One page of documents: at most ``limit`` in id order, and the token of the next page.

    The token is None on the last page. ``keep`` drops documents the store's filters cannot
    express; the page is filled from further rows until it is full or none are left.

    >>> from catalogql.search import open_catalog
    >>> from catalogql.search.documents import documents
    >>> store = documents(open_catalog("memory://"))
    >>> for name in "abc":
    ...     store.put(Document("product", name, None, "user:x", ("user:x",), {}))
    >>> found, token = page(store, "product", "p", limit=2, continuation=None)
    >>> [d.id for d in found], [d.id for d in page(store, "product", "p", limit=2,
    ...                                                 continuation=token)[0]]
    (['a', 'b'], ['c'])
    """
    size = check_limit(limit)
    after = None if continuation is None else decode_token(continuation, scope)
    found: list[Document] = []
    while len(found) <= size:
        batch = store.list(kind, parent=parent, readers=readers, after=after, limit=size + 1)
        found.extend(d for d in batch if keep is None or keep(d))
        if len(batch) < size + 1:
            break
        after = batch[-1].id
    if len(found) > size:
        return found[:size], encode_token(scope, found[size - 1].id)
    return found, None
