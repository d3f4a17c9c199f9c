"""Caches that hold user input are bounded by size, not only by count (issue 10, fuzz memory).

``make fuzz`` at 100,000 inputs saw a worker's resident size grow past its 256 MiB budget (peak
374 MiB): the parse cache (4,096 entries), the ``to_sql`` and predicate caches (256 each) were
``functools.lru_cache``\\ s bounded by count, and one entry can be a 64 KiB filter with its tree,
SQL or closures (megabytes). Every such cache is now a :class:`catalogql.caches.SizedCache`. These
tests feed many large distinct inputs through the entry points and check the caches' accounting
against their bounds, and the accounting against what tracemalloc sees them hold.
"""

from __future__ import annotations

import gc
import random
import tracemalloc
from typing import Any

import pytest

import catalogql as cq
from catalogql.caches import ENTRY_FRACTION, SizedCache, caches, sized_cache
from catalogql.compile import predicate as predicate_module
from catalogql.compile import sql as sql_module
from catalogql.search import open_catalog
from catalogql.semantics import instant_key, number_from_text
from catalogql.syntax import parser as parser_module

MiB = 1 << 20


def _large_filters(n: int, comparisons: int, seed: int) -> list[str]:
    """Distinct filters of ``comparisons`` comparisons each (about 18 characters apiece)."""
    rng = random.Random(seed)
    return [
        " AND ".join(f"p{j % 7} = {rng.randrange(10**9)}" for j in range(comparisons))
        for _ in range(n)
    ]


def _check_accounting() -> int:
    """Every cache within its bounds, its ``held`` the sum of its entries' charges; the total."""
    total = 0
    for cache in caches():
        assert len(cache) <= cache.max_entries, cache.name
        assert cache.held <= cache.max_bytes, cache.name
        assert cache.held == sum(cache.sizes.values()), cache.name
        assert list(cache) == list(cache.sizes), cache.name
        total += cache.held
    return total


def _clear_all() -> None:
    for cache in caches():
        cache.clear()


def test_a_sized_cache_evicts_the_oldest_past_its_bytes_and_skips_what_is_too_large() -> None:
    cache: SizedCache[str] = SizedCache("test", max_entries=100, max_bytes=800)
    for n in range(10):
        cache.put((n,), str(n), 100)  # 100 is the largest kept (800 // 8)
    assert cache.held == 800 and list(cache) == [(n,) for n in range(2, 10)]
    cache.put(("big",), "big", 101)
    assert ("big",) not in cache and cache.skipped == 1 and cache.held == 800
    cache.put((9,), "again", 10)  # a key charged anew, not twice
    assert cache.held == 710 and cache[(9,)] == "again" and cache.sizes[(9,)] == 10
    cache.clear()
    assert cache.held == 0 and len(cache) == 0


def test_a_sized_function_keeps_values_and_never_caches_errors() -> None:
    calls: list[str] = []

    @sized_cache(4, 8 * 64, lambda args, value: len(args[0]), text_key=True)
    def parse(text: str) -> int:
        calls.append(text)
        if not text.isdigit():
            raise ValueError(text)
        return int(text)

    assert parse("12") == parse("12") == 12 and calls == ["12"]
    for _ in range(2):
        with pytest.raises(ValueError):
            parse("x")
    assert calls == ["12", "x", "x"] and len(parse.cache) == 1
    assert parse("9" * 65) == int("9" * 65) and len(parse.cache) == 1  # 65 > 512 // 8: not kept
    assert parse.__wrapped__("7") == 7 and len(parse.cache) == 1
    parse.cache_clear()
    assert len(parse.cache) == 0


def test_every_cache_of_user_input_is_sized() -> None:
    names = {cache.name for cache in caches()}
    for function in (
        sql_module._to_sql_cached,
        sql_module._match_facts_cached,
        predicate_module._compile_plain,
        predicate_module._compile_few,
        predicate_module._generate_cached,
        number_from_text,
        instant_key,
    ):
        assert function.cache.name in names
    assert sql_module._SHAPES.name in names and parser_module._PARSES.name in names
    for cache in caches():  # one entry is at most an eighth: a few huge inputs cannot fill one
        assert cache.max_bytes // ENTRY_FRACTION < cache.max_bytes


def _feed(action: Any, *args: Any) -> Any:
    try:
        return action(*args)
    except cq.CatalogqlError:  # refused (e.g. an integer SQL cannot hold): cached nothing
        return None


SHRINK = 8
"""The test divides every cache's byte bound by this, to reach the bounds with few inputs."""


def test_many_large_distinct_inputs_stay_within_the_caches_bounds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Large distinct filters through every entry point that caches, the bounds shrunk 8 times.

    Before the fix the count-bounded caches kept every one of them (the parse cache 4,096, the
    SQL and predicate caches 256): a 21 KB filter is a 0.4 MB tree, 2 x 0.8 MB of SQL and 3 MB of
    closures. Now what the caches hold is bounded by bytes, and tracemalloc confirms the
    accounting (clearing the caches releases about what they were charged, no more).
    """
    for cache in caches():
        monkeypatch.setattr(cache, "max_bytes", cache.max_bytes // SHRINK)
    filters = _large_filters(12, 600, seed=10)
    wildcards = [f"q = *{'ab' * 2000}{i}*" for i in range(12)]
    numbers = [f"n = {'9' * 1000}{i}" for i in range(12)]
    catalog = open_catalog("memory://")
    properties = {"timestamp": "2015-01-01T00:00:00Z", "footprintWkt": "POINT (1 2)", "p0": 1}
    catalog.add_records([{"identifier": "a", "type": ["WV02"], "properties": properties}])
    _clear_all()
    gc.collect()
    tracemalloc.start(1)
    try:
        before = tracemalloc.get_traced_memory()[0]
        for text in filters + wildcards + numbers:
            node = cq.parse_filter(text)
            _feed(cq.to_sql, node, "sqlite")
            _feed(cq.to_sql, node, "postgresql")
            cq.compile_predicate(node)({"p0": 1, "q": "abab", "n": 7})
            cq.compile_predicate(node, few=True)({"p0": 1, "q": "abab", "n": 7})
        for text in filters[:2] + wildcards[:2]:
            catalog.search({"filters": [text]})
        for i in range(1000):  # long texts that look like numbers and dates
            number_from_text(f"{i}{'0' * 1000}")
            instant_key(f"2015-01-01T00:00:00.{i}{'0' * 1000}Z")
        gc.collect()
        held = _check_accounting()
        grown = tracemalloc.get_traced_memory()[0] - before
        parse_cache, numbers_cache = parser_module._PARSES, number_from_text.cache
        full = {"parse": (len(parse_cache), parse_cache.held, parse_cache.max_bytes)}
        full["numbers"] = (len(numbers_cache), numbers_cache.held, numbers_cache.max_bytes)
        _clear_all()
        gc.collect()
        released = grown - (tracemalloc.get_traced_memory()[0] - before)
    finally:
        tracemalloc.stop()
    # evicted by size, far below their 4,096 entries, and full: the test reached their bounds
    assert full["parse"][0] < 36 and full["numbers"][0] < 1000, full
    assert all(held > bound // 2 for _, held, bound in full.values()), full
    bound = sum(cache.max_bytes for cache in caches())
    assert grown <= bound + 4 * MiB, (grown / MiB, bound / MiB)
    # the charges are not underestimates: what clearing releases is about what was charged
    assert released <= 1.25 * held + 2 * MiB, (released / MiB, held / MiB)


def test_a_typical_filter_is_cached_everywhere() -> None:
    """The bound costs typical inputs nothing: a small filter is kept by every cache it meets."""
    text = "cloudCover < 20 AND sensorPlatformName = WORLDVIEW03* AND acquisitionDate > 2015-01-01"
    node = cq.parse_filter(text)
    assert cq.parse_filter(text) is node
    assert cq.compile_predicate(node) is cq.compile_predicate(cq.parse_filter(text))
    cq.to_sql(node, "sqlite")
    key: Any = (node, "sqlite", None, "v")
    assert key in sql_module._to_sql_cached.cache
