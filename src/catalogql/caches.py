"""Caches bounded by the bytes they hold as well as by their number of entries.

Every cache in catalogql that can hold user input (filter texts, their trees, compiled SQL and
predicates, literal texts) is one of these: a count alone does not bound memory when one entry
may be a 64 KiB filter and its tree (``make fuzz`` saw a worker grow past 370 MiB over many
large distinct inputs with count-bounded ``functools.lru_cache``\\ s). The rule, in one place:

* an entry is charged ``size(args, value)`` bytes (an estimate of the key's and the value's
  memory, computed once, when the value is computed);
* an entry larger than ``max_bytes // 8`` is not kept (computed again when asked again);
* past ``max_entries`` entries or ``max_bytes`` bytes the oldest entries go first.

A hit is one dictionary lookup (no reordering, so the key is hashed once, as ``lru_cache``
does); entries leave in the order they came. Errors are never cached.

>>> @sized_cache(max_entries=2, max_bytes=1000, size=lambda args, value: len(args[0]))
... def shout(text: str) -> str:
...     return text.upper()
>>> shout("abc"), len(shout("x" * 500)), shout.cache.held, len(shout.cache)
('ABC', 500, 3, 1)
"""

from __future__ import annotations

import functools
import sys
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable
from typing import Any, Generic, ParamSpec, Protocol, TypeVar

__all__ = ["ENTRY_FRACTION", "CachedFunction", "SizedCache", "caches", "sized_cache", "text_bytes"]

P = ParamSpec("P")
R = TypeVar("R")
R_co = TypeVar("R_co", covariant=True)
V = TypeVar("V")

ENTRY_FRACTION = 8
"""An entry larger than ``max_bytes // ENTRY_FRACTION`` is not kept."""

_ALL: list[SizedCache[Any]] = []


class SizedCache(Generic[V]):
    """A map from argument tuples to values, bounded by entries and by estimated bytes.

    Attributes:
        name: Where the cache is (``module.function``), for reports.
        max_entries: The most entries kept.
        max_bytes: The most bytes (as estimated by the cache's ``size``) kept in all.
        held: The bytes the kept entries are charged.
        skipped: How many values were too large to keep.

    >>> cache: SizedCache[int] = SizedCache("demo", max_entries=3, max_bytes=80)
    >>> for n in range(5):
    ...     cache.put((n,), n * n, 10)
    >>> sorted(value for value, _ in cache.entries.values()), cache.held
    ([4, 9, 16], 30)
    >>> cache.put(("big",), 0, 11), cache.skipped, cache.held <= cache.max_bytes
    (None, 1, True)
    """

    __slots__ = ("entries", "held", "max_bytes", "max_entries", "name", "skipped")

    def __init__(self, name: str, max_entries: int, max_bytes: int) -> None:
        if max_entries < 1 or max_bytes < ENTRY_FRACTION:
            raise ValueError(f"cache {name}: max_entries >= 1 and max_bytes >= {ENTRY_FRACTION}")
        self.name = name
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.entries: OrderedDict[Hashable, tuple[V, int]] = OrderedDict()
        self.held = 0
        self.skipped = 0
        _ALL.append(self)

    def __len__(self) -> int:
        return len(self.entries)

    def put(self, key: Hashable, value: V, size: int) -> None:
        """Keep ``value`` under ``key``, charged ``size`` bytes, unless it is too large.

        Args:
            key: The arguments.
            value: The value.
            size: Its estimated bytes (key and value).
        """
        if size > self.max_bytes // ENTRY_FRACTION:
            self.skipped += 1
            return
        entries = self.entries
        old = entries.pop(key, None)
        if old is not None:
            self.held -= old[1]
        entries[key] = (value, size)
        self.held += size
        while self.held > self.max_bytes or len(entries) > self.max_entries:
            _, (_, gone) = entries.popitem(last=False)
            self.held -= gone

    def clear(self) -> None:
        """Forget every entry.

        >>> SizedCache("x", 1, 8).clear()
        """
        self.entries.clear()
        self.held = 0


class CachedFunction(Protocol[P, R_co]):
    """A function with a :class:`SizedCache` (what :func:`sized_cache` returns)."""

    cache: SizedCache[Any]

    @property
    def __wrapped__(self) -> Callable[P, R_co]:
        """The function, uncached."""

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R_co:
        """The value, from the cache when it holds it."""

    def cache_clear(self) -> None:
        """Forget every entry."""


def sized_cache(
    max_entries: int, max_bytes: int, size: Callable[[tuple[Any, ...], Any], int]
) -> Callable[[Callable[P, R]], CachedFunction[P, R]]:
    """Cache a function of hashable positional arguments in a :class:`SizedCache`.

    Args:
        max_entries: The most entries kept.
        max_bytes: The most estimated bytes kept.
        size: The estimated bytes of an entry, from its arguments and value.

    Returns:
        A decorator; the function it returns has ``cache``, ``cache_clear()`` and
        ``__wrapped__`` (the uncached function).

    >>> @sized_cache(16, 1024, lambda args, value: text_bytes(args[0]))
    ... def length(text: str) -> int:
    ...     return len(text)
    >>> length("abc"), length.cache.held > 0, length.__wrapped__("x" * 9)
    (3, True, 9)
    """

    def decorate(function: Callable[P, R]) -> CachedFunction[P, R]:
        cache: SizedCache[R] = SizedCache(
            f"{function.__module__}.{function.__qualname__}", max_entries, max_bytes
        )
        get = cache.entries.get
        put = cache.put
        call: Callable[..., R] = function

        def cached(*args: Any, **kwargs: Any) -> Any:
            if kwargs:  # not the way catalogql calls them: computed, not kept
                return call(*args, **kwargs)
            found = get(args)
            if found is not None:
                return found[0]
            value = call(*args)
            put(args, value, size(args, value))
            return value

        wrapper: Any = functools.update_wrapper(cached, function)
        wrapper.cache = cache
        wrapper.cache_clear = cache.clear
        return wrapper  # type: ignore[no-any-return]

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
