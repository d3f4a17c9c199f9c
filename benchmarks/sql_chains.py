"""Long chains through ``to_sql``: before (the whole expression compiled) and after, in one run.

``python -m benchmarks.sql_chains [--sizes 100,1000,10000]``: for OR chains of n comparisons
(seven properties, distinct numbers), the CPU time per comparison of ``to_sql`` as it was (the
SQLAlchemy expression of ``to_sqlalchemy`` compiled as a whole, kept as ``_to_sql_reference``)
and as it is (each leaf shape compiled once and its text reused), best of a few runs, on both
dialects, with cProfile's calls per comparison; then an SQLite search with a 3,000-comparison
filter, its store's ``to_sql`` swapped for the old one and back. The two give the same SQL text
(``tests/test_sql_text.py``), so the ratio is the whole story.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import time
import warnings
from collections.abc import Callable
from typing import Any

import catalogql as cq
from catalogql.compile import sql as sql_module
from catalogql.search.stores import sqlite as sqlite_store
from catalogql.testing.synthetic import generate_records


def _chain(n: int) -> str:
    return " OR ".join(f"p{i % 7} = {i}" for i in range(n))


def _cpu(work: Callable[[], object], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.process_time()
        work()
        best = min(best, time.process_time() - start)
    return best


def _calls(work: Callable[[], object]) -> int:
    profile = cProfile.Profile()
    profile.enable()
    work()
    profile.disable()
    return int(pstats.Stats(profile).total_calls)  # type: ignore[attr-defined]


def main(argv: list[str] | None = None) -> None:
    """Print the table (markdown) of per-comparison times and calls, old and new."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,1000,10000")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    limits = cq.Limits(max_length=10**7)
    new = sql_module._to_sql_cached.__wrapped__
    old = sql_module._to_sql_reference
    print(
        "| comparisons | dialect | old µs/cmp | new µs/cmp | old/new "
        "| old calls/cmp | new calls/cmp |"
    )
    print("| ---: | --- | ---: | ---: | ---: | ---: | ---: |")
    for n in (int(size) for size in args.sizes.split(",")):
        node = cq.parse_filter(_chain(n), limits=limits)
        for dialect in ("sqlite", "postgresql"):
            new(node, dialect, None, "v")  # the leaf shapes, once per process

            def after(node: Any = node, dialect: str = dialect) -> object:
                return new(node, dialect, None, "v")

            def before(node: Any = node, dialect: str = dialect) -> object:
                return old(node, dialect, None, "v")  # type: ignore[arg-type]

            assert after() == (before()[0], before()[1])  # type: ignore[index]
            t_new = _cpu(after, 5 if n < 10_000 else 3) / n * 1e6
            t_old = _cpu(before, 3 if n < 10_000 else 1) / n * 1e6
            c_new, c_old = _calls(after) / n, _calls(before) / n
            print(
                f"| {n:,} | {dialect} | {t_old:,.0f} | {t_new:,.1f} | {t_old / t_new:,.0f}x "
                f"| {c_old:,.0f} | {c_new:,.0f} |"
            )
    catalog = cq.open_catalog("sqlite://")
    catalog.add_records(list(generate_records(1000, seed=7)))
    request = {"filters": [_chain(3000)]}
    timings = {}
    module = vars(sqlite_store)  # the store's own name for to_sql, swapped for the old one
    fast = module["to_sql"]
    for label, compile_ in (("old", lambda *a, **k: _reference(*a, **k)), ("new", fast)):
        module["to_sql"] = compile_
        sql_module._to_sql_cached.cache_clear()
        catalog.search(request)  # warm
        sql_module._to_sql_cached.cache_clear()
        timings[label] = _cpu(lambda: catalog.search(request), 1)
        sql_module._to_sql_cached.cache_clear()
    module["to_sql"] = fast
    print(
        f"\nSQLite search, a 3,000-comparison filter, 1,000 records: old {timings['old']:.2f} s, "
        f"new {timings['new']:.3f} s"
    )


def _reference(
    node: Any, dialect: Any, schema: Any = None, *, parameter_prefix: str = "v"
) -> tuple[str, dict[str, Any]]:
    return sql_module._to_sql_reference(node, dialect, schema, parameter_prefix)


if __name__ == "__main__":
    main()
