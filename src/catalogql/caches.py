"""Caches bounded by the bytes they hold as well as by their number of entries.

Every cache in catalogql that can hold user input (filter texts, their trees, compiled SQL and
predicates, literal texts) is one of these: a count alone does not bound memory when one entry
may be a 64 KiB filter and its tree (``make fuzz`` saw a worker grow past 370 MiB over many
large distinct inputs with count-bounded ``functools.lru_cache``\\ s). The rule, in one place:

* an entry is charged ``size(args, value)`` bytes (an estimate of the key's and the value's
  memory, computed once, when the value is computed);
* an entry larger than ``max_bytes // 8`` is not kept (computed again when asked again);
* past ``max_entries`` entries or ``max_bytes`` bytes the oldest entries go first.

A cache is a ``dict`` (a hit is one lookup in C, as fast as ``functools.lru_cache``; a function of
one argument is called as the dict's own ``__getitem__``, with no Python frame), and a miss goes
through ``__missing__``. A hit does not reorder: entries leave in the order they came. Errors are
never cached.

>>> @sized_cache(max_entries=2, max_bytes=1000, size=lambda args, value: len(args[0]))
... def shout(text: str) -> str:
...     return text.upper()
>>> shout("abc"), len(shout("x" * 500)), shout.held, len(shout)
('ABC', 500, 3, 1)
"""

from __future__ import annotations

import functools
import sys
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable
from typing import Any, ParamSpec, Protocol, TypeVar

__all__ = ["ENTRY_FRACTION", "CachedFunction", "SizedCache", "caches", "sized_cache", "text_bytes"]

P = ParamSpec("P")
R = TypeVar("R")
R_co = TypeVar("R_co", covariant=True)
V = TypeVar("V")

ENTRY_FRACTION = 8
"""An entry larger than ``max_bytes // ENTRY_FRACTION`` is not kept."""

_ALL: list[SizedCache[Any]] = []


class SizedCache(dict[Hashable, V]):
    """A dict bounded by its number of entries and by the bytes they are charged.

    Entries go in through :meth:`put` (or, in a cached function, ``__missing__``), which charges
    them and evicts the oldest past the bounds.

    Attributes:
        name: Where the cache is (``module.function``), for reports.
        max_entries: The most entries kept.
        max_bytes: The most bytes (as charged) kept in all.
        held: The bytes the kept entries are charged.
        sizes: Each key's charge, oldest first.
        skipped: How many values were too large to keep.

    >>> cache: SizedCache[int] = SizedCache("demo", max_entries=3, max_bytes=80)
    >>> for n in range(5):
    ...     cache.put((n,), n * n, 10)
    >>> sorted(cache.values()), cache.held
    ([4, 9, 16], 30)
    >>> cache.put(("big",), 0, 11), cache.skipped, cache.held <= cache.max_bytes
    (None, 1, True)
    """

    def __init__(self, name: str, max_entries: int, max_bytes: int) -> None:
        super().__init__()
        if max_entries < 1 or max_bytes < ENTRY_FRACTION:
            raise ValueError(f"cache {name}: max_entries >= 1 and max_bytes >= {ENTRY_FRACTION}")
        self.name = name
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.sizes: OrderedDict[Hashable, int] = OrderedDict()
        self.held = 0
        self.skipped = 0
        _ALL.append(self)

    def __hash__(self) -> int:  # type: ignore[override]
        return id(self)  # a cached function stays usable as a key (dicts are not hashable)

    def __eq__(self, other: object) -> bool:
        return self is other

    def put(self, key: Hashable, value: V, size: int) -> None:
        """Keep ``value`` under ``key``, charged ``size`` bytes, unless it is too large.

        Args:
            key: The key (a cached function's arguments).
            value: The value.
            size: Its estimated bytes (key and value).
        """
        if size > self.max_bytes // ENTRY_FRACTION:
            self.skipped += 1
            return
        sizes = self.sizes
        old = sizes.pop(key, None)
        if old is not None:
            self.held -= old
        self[key] = value
        sizes[key] = size
        self.held += size
        while self.held > self.max_bytes or len(sizes) > self.max_entries:
            gone, charged = sizes.popitem(last=False)
            del self[gone]
            self.held -= charged

    def clear(self) -> None:
        """Forget every entry.

        >>> SizedCache("x", 1, 8).clear()
        """
        super().clear()
        self.sizes.clear()
        self.held = 0

    def cache_clear(self) -> None:
        """Forget every entry (``functools.lru_cache``'s name for :meth:`clear`).

        >>> SizedCache("x", 1, 8).cache_clear()
        """
        self.clear()


class _Hashed(tuple[Any, ...]):
    """Arguments whose hash is computed once (a tree's hash walks it): the key kept on a miss."""

    def __new__(cls, args: tuple[Any, ...]) -> _Hashed:
        key = super().__new__(cls, args)
        key.hashed = hash(args)
        return key

    hashed: int

    def __hash__(self) -> int:
        return self.hashed


class _Cached(SizedCache[Any]):
    """A cached function of several arguments: the key is the tuple of the arguments."""

    def __init__(
        self,
        function: Callable[..., Any],
        max_entries: int,
        max_bytes: int,
        size: Callable[[tuple[Any, ...], Any], int],
    ) -> None:
        super().__init__(f"{function.__module__}.{function.__qualname__}", max_entries, max_bytes)
        self.function = function
        self.size = size

    @property
    def cache(self) -> SizedCache[Any]:
        """The cache itself (the function is its own cache)."""
        return self

    def __call__(self, *args: Any) -> Any:
        return self[_Hashed(args)]  # hashed once, for the lookup and the insertion

    def __missing__(self, args: tuple[Any, ...]) -> Any:
        value = self.function(*args)
        key = args if type(args) is _Hashed else _Hashed(args)
        self.put(key, value, self.size(args, value))
        return value


class _UnaryCached(_Cached):
    """A cached function of one ``str``: the key is the text, the call ``__getitem__``."""

    __call__ = dict.__getitem__

    def __missing__(self, arg: Any) -> Any:
        value = self.function(arg)
        self.put(arg, value, self.size((arg,), value))
        return value


class CachedFunction(Protocol[P, R_co]):
    """A function with a :class:`SizedCache` (what :func:`sized_cache` returns)."""

    @property
    def cache(self) -> SizedCache[Any]:
        """The cache."""

    @property
    def __wrapped__(self) -> Callable[P, R_co]:
        """The function, uncached."""

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R_co:
        """The value, from the cache when it holds it."""

    def __getitem__(self, args: Any) -> R_co:
        """The value for the tuple of the arguments (the argument alone, for one): no frame."""

    def cache_clear(self) -> None:
        """Forget every entry."""


def sized_cache(
    max_entries: int,
    max_bytes: int,
    size: Callable[[tuple[Any, ...], Any], int],
    *,
    text_key: bool = False,
) -> Callable[[Callable[P, R]], CachedFunction[P, R]]:
    """Cache a function of hashable positional arguments in a :class:`SizedCache`.

    The cached function takes its arguments by position only (as catalogql calls them); it is
    its own cache (a dict: ``len``, ``in``, ``held``, ``cache_clear()``), and ``__wrapped__`` is
    the uncached function.

    Args:
        max_entries: The most entries kept.
        max_bytes: The most estimated bytes kept.
        size: The estimated bytes of an entry, from its arguments (a tuple) and its value.
        text_key: The function takes one ``str``: the text is the key, and a call is the
            dict's ``__getitem__`` (no Python frame: for functions called per record value).

    Returns:
        A decorator.

    >>> @sized_cache(16, 1024, lambda args, value: text_bytes(args[0]))
    ... def length(text: str) -> int:
    ...     return len(text)
    >>> length("abc"), length.cache.held > 0, length.__wrapped__("x" * 9)
    (3, True, 9)
    """

    def decorate(function: Callable[P, R]) -> CachedFunction[P, R]:
        kind = _UnaryCached if text_key else _Cached
        cached = kind(function, max_entries, max_bytes, size)
        functools.update_wrapper(cached, function)
        return cached  # type: ignore[return-value]

    return decorate


def text_bytes(text: str | None) -> int:
    """The bytes a ``str`` (or ``None``) takes (``sys.getsizeof``, which is constant time).

    >>> text_bytes("abc") < text_bytes("abc" * 100), text_bytes(None)
    (True, 16)
    """
    return sys.getsizeof(text)


def caches() -> Iterable[SizedCache[Any]]:
    """Every sized cache made so far (the tests check their bounds through this).

    >>> all(cache.held <= cache.max_bytes for cache in caches())
    True
    """
    return tuple(_ALL)
