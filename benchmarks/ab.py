"""A/B: the same operations timed on two versions of catalogql, alternated in one run.

``python -m benchmarks.ab OLD NEW [--rounds 3]`` where OLD and NEW are git revisions (checked out
into temporary worktrees) or ``.`` for the working tree. Each round runs every version in a fresh
child process (``PYTHONPATH=<tree>/src``) that times each operation best-of-9, versions in
alternation, so that a busy machine slows both alike; the table gives the best time of each and
the per-round ratios (NEW over OLD), whose spread says how far to trust a difference.

The operations: parse, compile a predicate, evaluate it over the recorded GBDX records, the
GBDX/CQL2/pygeofilter/SQL back ends, and four searches on a 20,000-record synthetic catalog on
the memory and SQLite stores.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import timeit
import warnings
from pathlib import Path
from typing import Any

from benchmarks.records import DEFAULT_RECORDS

ROOT = Path(__file__).resolve().parents[1]
TEXT = "sensorPlatformName = WORLDVIEW03* AND cloudCover < 20 AND offNadirAngle < 10"


def measure(records_path: Path) -> dict[str, float]:
    """Best-of-9 microseconds per operation, for the catalogql on ``sys.path``."""
    warnings.simplefilter("ignore")
    import catalogql as cq
    from catalogql.compile import sql as sql_module
    from catalogql.testing.synthetic import generate_records

    node = cq.parse_filter(TEXT)
    chain = cq.parse_filter(" OR ".join(f"a{i} = {i}" for i in range(100)))
    with records_path.open(encoding="utf-8") as lines:
        props = [
            json.loads(line)["properties"] for line, _ in zip(lines, range(2000), strict=False)
        ]
    predicate = cq.compile_predicate(node)
    uncached_sql = sql_module._to_sql_cached.__wrapped__
    out: dict[str, float] = {}

    def best(label: str, work: Any, number: int) -> None:
        out[label] = min(timeit.repeat(work, number=number, repeat=9)) / number * 1e6

    best("parse (cached)", lambda: cq.parse_filter(TEXT), 300)
    best("compile_predicate", lambda: cq.compile_predicate(node), 200)
    best("evaluate 2,000 records", lambda: [predicate(p) for p in props], 5)
    best("to_gbdx", lambda: cq.to_gbdx(node), 500)
    best("to_gbdx, a 100-OR chain", lambda: cq.to_gbdx(chain), 50)
    best("to_cql2_text", lambda: cq.to_cql2_text(node), 300)
    best("to_pygeofilter", lambda: cq.to_pygeofilter(node), 300)
    best("to_sql sqlite (uncached)", lambda: uncached_sql(node, "sqlite", None, "v"), 20)
    best("to_sql postgresql (uncached)", lambda: uncached_sql(node, "postgresql", None, "v"), 20)
    records = list(generate_records(20_000, seed=7))
    requests = {
        "continent + type, cap": {
            "searchAreaWkt": "POLYGON ((-125 25, -66 25, -66 50, -125 50, -125 25))",
            "types": ["DigitalGlobeAcquisition"],
            "limit": 1000,
        },
        "a month": {"startDate": "2012-01-01T00:00:00Z", "endDate": "2012-02-01T00:00:00Z"},
        "catalogID": {"filters": [f"catalogID = {records[123]['properties'].get('catalogID')}"]},
        "type + 2 filters": {
            "filters": ["cloudCover < 20", "offNadirAngle < 10"],
            "types": ["WV02"],
            "limit": 100,
        },
    }
    with tempfile.TemporaryDirectory() as folder:
        for url in ("memory://", f"sqlite:///{folder}/ab.db"):
            catalog = cq.open_catalog(url)
            catalog.add_records(records)
            for name, request in requests.items():
                catalog.search(request)
                best(
                    f"search {url.split(':')[0]}: {name}",
                    lambda c=catalog, r=request: c.search(r),
                    3,
                )
            catalog.close()
    return out


def _tree(revision: str, scratch: Path) -> Path:
    if revision == ".":
        return ROOT
    path = scratch / revision.replace("/", "_")
    subprocess.run(
        ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(path), revision],
        check=True,
        capture_output=True,
    )
    return path


def _child(tree: Path, records: Path) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": f"{tree / 'src'}{os.pathsep}{ROOT}"}
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.ab", "--measure", str(records)],
        check=True,
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
    )
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.ab", description=__doc__)
    ap.add_argument("old", nargs="?", help="git revision, or . for the working tree")
    ap.add_argument("new", nargs="?", default=".", help="git revision, or . (the default)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--records", type=Path, default=DEFAULT_RECORDS)
    ap.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.measure is not None:
        print(json.dumps(measure(args.measure)))
        return 0
    if args.old is None:
        ap.error("name the revision to compare with, e.g. python -m benchmarks.ab HEAD~5")
    with tempfile.TemporaryDirectory() as scratch:
        trees = {name: _tree(name, Path(scratch)) for name in (args.old, args.new)}
        try:
            runs: dict[str, list[dict[str, float]]] = {name: [] for name in trees}
            for round_ in range(args.rounds):
                for name, tree in trees.items():
                    print(f"round {round_ + 1}/{args.rounds}: {name}", file=sys.stderr, flush=True)
                    runs[name].append(_child(tree, args.records))
        finally:
            for tree in trees.values():
                if tree != ROOT:
                    subprocess.run(
                        ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)],
                        check=False,
                        capture_output=True,
                    )
    old, new = runs[args.old], runs[args.new]
    print(f"| operation, µs (best of 9) | {args.old} | {args.new} | new/old | per-round ratios |")
    print("| --- | ---: | ---: | ---: | --- |")
    for label in old[0]:
        before, after = min(r[label] for r in old), min(r[label] for r in new)
        ratios = " ".join(f"{n[label] / o[label]:.2f}" for o, n in zip(old, new, strict=True))
        print(f"| {label} | {before:,.1f} | {after:,.1f} | {after / before:.2f} | {ratios} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
