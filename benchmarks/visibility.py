"""Search latency with visibility on and off (issue 11 item 5; not a ``make bench`` section yet).

``python -m benchmarks.visibility [--records N] [--stores memory sqlite] [--per-kind K]``

The synthetic catalog (:mod:`catalogql.testing.synthetic`) is loaded once per store with reader
names: half the records readable by everyone (``*``), the other half spread over 100 groups.
Each request of the search benchmark's mix (city, dates, catalogID, broad) runs unrestricted
(``readers=None``: "off") and as a principal holding ``*``, one group and a user name ("on"),
warm, several times each; the table gives the median per kind and the ratio on/off.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections import defaultdict
from typing import Any

from benchmarks.search import build_mix
from catalogql.search import EVERYONE, open_catalog
from catalogql.testing.synthetic import generate_records

PRINCIPAL = frozenset({EVERYONE, "group:g7", "user:someone"})


def _readers(index: int) -> tuple[str, ...]:
    return (EVERYONE,) if index % 2 == 0 else (f"group:g{(index // 2) % 100}",)


def main(argv: list[str] | None = None) -> None:
    """Run the measurement and print one table per store."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--stores", nargs="+", default=["memory", "sqlite"])
    parser.add_argument("--per-kind", type=int, default=10)
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args(argv)
    records = list(generate_records(args.records, seed=3))
    buckets: defaultdict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
    for index, record in enumerate(records):
        buckets[_readers(index)].append(record)
    mix = build_mix(records, args.per_kind, seed=5)
    folder = tempfile.mkdtemp(prefix="visibility-")
    for store in args.stores:
        url = "memory://" if store == "memory" else f"sqlite:///{folder}/{store}.db"
        catalog = open_catalog(url)
        began = time.perf_counter()
        for readers, bucket in buckets.items():
            catalog.add_records(bucket, readers=readers, batch_size=2000)
        loaded = time.perf_counter() - began
        print(f"\n{store}: {len(records):,} records loaded in {loaded:.1f} s")
        print(f"{'kind':<10} {'off ms':>9} {'on ms':>9} {'on/off':>7}  results off/on")
        per_kind: defaultdict[str, list[tuple[float, float, int, int]]] = defaultdict(list)
        for request in mix:
            timings: dict[str, list[float]] = {"off": [], "on": []}
            found = {}
            for name, names in (("off", None), ("on", PRINCIPAL)):
                catalog.search(request.body, readers=names)  # warm
                for _ in range(args.reps):
                    start = time.perf_counter()
                    answer = catalog.search(request.body, readers=names)
                    timings[name].append(time.perf_counter() - start)
                found[name] = answer["stats"]["recordsReturned"]
            per_kind[request.kind].append(
                (
                    statistics.median(timings["off"]),
                    statistics.median(timings["on"]),
                    found["off"],
                    found["on"],
                )
            )
        for kind, rows in per_kind.items():
            off = statistics.median(row[0] for row in rows) * 1000
            on = statistics.median(row[1] for row in rows) * 1000
            returned = f"{sum(r[2] for r in rows)}/{sum(r[3] for r in rows)}"
            print(f"{kind:<10} {off:>9.2f} {on:>9.2f} {on / off:>7.2f}  {returned}")
        catalog.close()


if __name__ == "__main__":
    main()
