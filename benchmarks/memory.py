"""Memory: what the memory store holds per record, measured in a child process.

``python -m benchmarks.memory [--records N] [--tree PATH ...]`` loads ``N`` synthetic records
(:func:`catalogql.testing.synthetic.generate_records`, streamed: the parent never holds them)
into a ``memory://`` catalog in a fresh child process per tree (``PYTHONPATH=<tree>/src``; the
default is this checkout), runs one search (which builds the indexes), and prints:

- **RSS growth per record**: the child's resident set after the load and the first search,
  after a full garbage collection and ``malloc_trim(0)`` (so memory freed by the load and not
  yet returned to the system is not counted), minus the resident set before the load, over
  ``N``; and the peak growth (``VmHWM``) over ``N``: what the load needed at most;
- **bytes per record by part**: ``MemoryCatalog.nbytes()`` (identifiers, per-slot arrays,
  footprints, properties, equality keys, indexes) over ``N``, where the tree has it;
- the load's rate (records/s, ``add_records`` plus the first search).

Compare two revisions with ``--tree /path/to/old/checkout --tree .``.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import gc
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks import report
from benchmarks.timing import Config

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_RECORDS = 200_000


def _trimmed_rss_kib() -> int:
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):  # not glibc: untrimmed
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    return report.status_kib("VmRSS")


def child(records: int, batch: int) -> dict[str, Any]:
    """Load ``records`` synthetic records into a memory catalog here; the figures (per record)."""
    import warnings

    import catalogql.search
    from catalogql.testing.synthetic import generate_records

    warnings.simplefilter("ignore")
    catalog = catalogql.search.open_catalog("memory://")
    catalog.search({"limit": 1})  # imports and first-use caches, before the baseline
    with open("/proc/self/clear_refs", "w", encoding="ascii") as f:
        f.write("5")  # VmHWM := VmRSS
    start = _trimmed_rss_kib()
    started = time.perf_counter()
    catalog.add_records(generate_records(records), batch_size=batch)
    loaded = time.perf_counter()
    catalog.search({"limit": 1})  # builds the indexes
    searched = time.perf_counter()
    end = _trimmed_rss_kib()
    peak = report.status_kib("VmHWM")
    parts: dict[str, float] = {}
    nbytes = getattr(catalog, "nbytes", None)
    if callable(nbytes):
        parts = {name: size / records for name, size in nbytes().items()}
    return {
        "records": records,
        "rss_per_record": (end - start) * 1024 / records,
        "peak_per_record": (peak - start) * 1024 / records,
        "rss_mib": (end - start) / 1024,
        "add_records_s": loaded - started,
        "first_search_s": searched - loaded,
        "records_per_s": records / (searched - started),
        "parts_per_record": parts,
    }


def measure(tree: Path, records: int, batch: int) -> dict[str, Any]:
    """Run :func:`child` in a fresh interpreter on ``tree``'s catalogql."""
    env = dict(os.environ, PYTHONPATH=f"{tree / 'src'}{os.pathsep}{ROOT}")
    command = [sys.executable, "-m", "benchmarks.memory", "--child", str(records), str(batch)]
    out = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, check=True)
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    result["tree"] = str(tree)
    return result


def table(results: list[dict[str, Any]]) -> str:
    """The figures as a Markdown table, one column per tree."""
    names = sorted({name for r in results for name in r["parts_per_record"]})
    rows = [
        ("RSS growth per record, bytes", [f"{r['rss_per_record']:,.0f}" for r in results]),
        ("peak RSS growth per record, bytes", [f"{r['peak_per_record']:,.0f}" for r in results]),
        ("RSS growth, MiB", [f"{r['rss_mib']:,.0f}" for r in results]),
        ("add_records, s", [f"{r['add_records_s']:.1f}" for r in results]),
        ("first search, s", [f"{r['first_search_s']:.2f}" for r in results]),
        ("records/s (both)", [f"{r['records_per_s']:,.0f}" for r in results]),
    ]
    for name in names:
        cells = [
            f"{r['parts_per_record'][name]:,.0f}" if name in r["parts_per_record"] else ""
            for r in results
        ]
        rows.append((f"nbytes: {name}, bytes per record", cells))
    total = [
        f"{sum(r['parts_per_record'].values()):,.0f}" if r["parts_per_record"] else ""
        for r in results
    ]
    rows.append(("nbytes: all parts, bytes per record", total))
    header = "| memory store, {:,} records | {} |".format(
        results[0]["records"], " | ".join(r["tree"] for r in results)
    )
    lines = [header, "| --- |" + " ---: |" * len(results)]
    lines += [f"| {label} | {' | '.join(cells)} |" for label, cells in rows]
    return "\n".join(lines)


FULL_RECORDS = 1_000_000
QUICK_RECORDS = 20_000


def run(config: Config, records: int | None = None, batch: int = 10_000) -> dict[str, Any]:
    """The ``memory`` section of ``python -m benchmarks``: this tree, ``records`` records."""
    count = records or (QUICK_RECORDS if config.quick else FULL_RECORDS)
    print(report.section(f"Memory: the memory store holding {count:,} synthetic records"))
    result = measure(ROOT, count, batch)
    result["tree"] = "this tree"
    print(table([result]))
    return result


def main(argv: list[str] | None = None) -> int:
    """``python -m benchmarks.memory [--records N] [--batch N] [--tree PATH ...]``."""
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["--child"]:
        print(json.dumps(child(int(args[1]), int(args[2]))))
        return 0
    ap = argparse.ArgumentParser(prog="python -m benchmarks.memory", description=__doc__)
    ap.add_argument("--records", type=int, default=DEFAULT_RECORDS)
    ap.add_argument("--batch", type=int, default=10_000)
    ap.add_argument("--tree", type=Path, action="append", help="a checkout (default: this one)")
    ap.add_argument("--json", metavar="FILE", type=Path)
    parsed = ap.parse_args(args)
    trees = parsed.tree or [ROOT]
    results = [measure(tree.resolve(), parsed.records, parsed.batch) for tree in trees]
    print(table(results))
    if parsed.json:
        parsed.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
