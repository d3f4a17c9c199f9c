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


@dataclass(frozen=True)
class Principal:
    """A caller of the service (frozen; hashable).

    Args:
        sub: The user id (a JWT's ``sub``).
        email: Their e-mail address, if known.
        groups: The groups they belong to (any iterable of strings; kept as a sorted tuple).
        org: Their organisation, if any.

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
    email: str | None = None
    groups: tuple[str, ...] = ()
    org: str | None = None
    namespace: str = field(init=False, repr=False, compare=False)
    names: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        problems: list[Problem] = []
        _text(self.sub, "sub", problems, optional=False)
        _text(self.email, "email", problems, optional=True)
        _text(self.org, "org", problems, optional=True)
        groups: Any = self.groups
        if isinstance(groups, str) or not isinstance(groups, Iterable):
            problems.append(
                Problem(
                    "groups",
                    None,
                    f"groups must be a list of strings, not {groups!r}",
                    'write groups=["team"]',
                    "principal.invalid",
                )
            )
            groups = ()
        groups = tuple(groups)
        for index, group in enumerate(groups):
            _text(group, f"groups[{index}]", problems, optional=False)
        if problems:
            raise InvalidInput(problems[0].message, problems, hint=problems[0].hint)
        object.__setattr__(self, "groups", tuple(sorted(set(groups))))
        namespace = namespace_of(self.sub)
        names = {f"user:{namespace}"}
        if self.email is not None:
            names.add(f"email:{self.email}")
        names.update(f"group:{group}" for group in self.groups)
        if self.org is not None:
            names.add(f"org:{self.org}")
        object.__setattr__(self, "namespace", namespace)
        object.__setattr__(self, "names", frozenset(names))

    @property
    def user(self) -> str:
        """The principal's own name, ``user:<namespace>`` (what ``owners`` lists).

        >>> Principal("bob").user
        'user:48181acd22b3edaebc8a447868a7df7ce629920a'
        """
        return f"user:{self.namespace}"
