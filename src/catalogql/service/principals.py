"""Principals: who calls the service, and the names grants are written with (SPEC section 7).

A :class:`Principal` is a user id (``sub``, the JWT's subject) with an optional e-mail address,
groups and organisation. It holds the names ``user:<namespace>``, ``email:<email>``,
``group:<group>`` and ``org:<org>``; the namespace is the sha1 hex of ``sub``, as the real
client's ``Auth.namespace``.

>>> alice = Principal("alice", email="alice@example.com", groups=["team"], org="acme")
>>> alice.namespace
'522b276a356bdf39013dfabea2cd43e141ecc9e8'
>>> sorted(alice.names)[1:]
['group:team', 'org:acme', 'user:522b276a356bdf39013dfabea2cd43e141ecc9e8']
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from catalogql.errors import InvalidInput, Problem

__all__ = ["Principal", "namespace_of"]

_MAX_NAME = 1000


def namespace_of(sub: str) -> str:
    """The namespace of a user id: the sha1 hex of its UTF-8 bytes.

    >>> namespace_of("google-oauth2|111111111111111111111")
    'ab1a00c82b5e0cc5bf3bf2b8013ebcad8f1f7db1'
    """
    return hashlib.sha1(sub.encode("utf-8")).hexdigest()


def _text(value: Any, name: str, problems: list[Problem], *, optional: bool) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > _MAX_NAME:
        problems.append(
            Problem(
                name,
                None,
                f"{name} must be a non-empty string of at most {_MAX_NAME} characters, "
                f"not {value!r}",
                f"give {name} as text" + (", or leave it out" if optional else ""),
                "principal.invalid",
            )
        )
        return None
    if any(ord(c) < 32 for c in value):
        problems.append(
            Problem(
                name,
                None,
                f"{name} contains a control character: {value!r}",
                "remove line breaks, tabs and other control characters",
                "principal.invalid",
            )
        )
    return value


@dataclass(frozen=True, init=False)
class Principal:
    """A caller of the service (frozen; hashable; equal when its four fields are).

    Args:
        sub: The user id (a JWT's ``sub``).
        email: Their e-mail address, if known.
        groups: The groups they belong to (any iterable of strings; kept as a sorted tuple).
        org: Their organisation, if any.

    Attributes:
        namespace: The sha1 hex of ``sub``.
        names: Every name grants may use for them (``user:``, ``email:``, ``group:``, ``org:``).

    Raises:
        InvalidInput: For an empty or non-string ``sub``, or a malformed other field (400,
            each problem naming its field: ``sub``, ``email``, ``groups[2]``, ``org``).

    >>> Principal("bob").names
    frozenset({'user:48181acd22b3edaebc8a447868a7df7ce629920a'})
    >>> Principal("")
    Traceback (most recent call last):
      ...
    catalogql.errors.InvalidInput: sub must be a non-empty string of at most 1000 characters, \
not '' (hint: give sub as text)
    """

    sub: str
    email: str | None
    groups: tuple[str, ...]
    org: str | None
    namespace: str = field(init=False, repr=False, compare=False)
    names: frozenset[str] = field(init=False, repr=False, compare=False)

    def __init__(
        self,
        sub: str,
        email: str | None = None,
        groups: Iterable[str] = (),
        org: str | None = None,
    ) -> None:
        problems: list[Problem] = []
        _text(sub, "sub", problems, optional=False)
        _text(email, "email", problems, optional=True)
        _text(org, "org", problems, optional=True)
        given: Any = groups
        if isinstance(given, str) or not isinstance(given, Iterable):
            problems.append(
                Problem(
                    "groups",
                    None,
                    f"groups must be a list of strings, not {given!r}",
                    'write groups=["team"]',
                    "principal.invalid",
                )
            )
            given = ()
        given = tuple(given)
        for index, group in enumerate(given):
            _text(group, f"groups[{index}]", problems, optional=False)
        if problems:
            raise InvalidInput(problems[0].message, problems, hint=problems[0].hint)
        namespace = namespace_of(sub)
        names = {f"user:{namespace}"}
        if email is not None:
            names.add(f"email:{email}")
        names.update(f"group:{group}" for group in given)
        if org is not None:
            names.add(f"org:{org}")
        for name, value in (
            ("sub", sub),
            ("email", email),
            ("groups", tuple(sorted(set(given)))),
            ("org", org),
            ("namespace", namespace),
            ("names", frozenset(names)),
        ):
            object.__setattr__(self, name, value)

    @property
    def user(self) -> str:
        """The principal's own name, ``user:<namespace>`` (what ``owners`` lists).

        >>> Principal("bob").user
        'user:48181acd22b3edaebc8a447868a7df7ce629920a'
        """
        return f"user:{self.namespace}"
