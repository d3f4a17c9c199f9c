"""Load rate per store, beside the floor measured in the same run.

A JSON Lines file of N records is written once: the real GBDX fixture records replicated, each
copy with a new identifier (``<id>-<copy>``). Each load is ``catalogql load FILE --db URL`` run
in-process in a fresh child process (its own interpreter, so one load's memory and caches never
help the next), timed from the call to its return (imports excluded). After a PostgreSQL load
its database is dropped and the server checkpoints (untimed), so that nothing of it runs beside
the next child. The stores: memory,
SQLite (a new file), PostgreSQL (a new database in a throwaway cluster started for the run).

The floor is the least any loader must do with the same file: ``orjson.loads`` of every line and
shapely's (vectorized) WKT parse of every footprint, a batch of 5,000 at a time as the loader
reads them, also in a fresh child, with the cyclic garbage collector off (as the loader runs).
The figure that matters is the loader's time over that floor.

``--tree PATH`` runs the same loads with another checkout's ``src`` first on the path (say
``/work/main``): the before and after of a change, in one run, rounds interleaved.

``python -m benchmarks.load [--records N] [--repeat K] [--stores ...] [--tree PATH ...]``
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks import report
from benchmarks.records import DEFAULT_RECORDS
from benchmarks.timing import Config

STORES = ("memory", "sqlite", "postgresql")
FULL_RECORDS = 20_000
QUICK_RECORDS = 5_000
POSTGRES_SETTINGS = {"shared_buffers": "512MB", "max_wal_size": "8GB"}

_ROOT = Path(__file__).resolve().parents[1]

# One load, in a child: prints {"seconds": …, "held": …} as its last line. Imports are not
# timed: the modules ``catalogql load`` imports when it runs (the store's, the sources', the
# database drivers, SQLAlchemy: ~50 ms for memory, 330-660 ms for SQLite on this machine, most
# of it compiling when no bytecode is cached) are imported before the clock starts, as the
# floor imports orjson and shapely before its clock; a throwaway catalog of the same kind is
# opened and closed for that.
_LOAD = """
import json, sys, time
path, url = sys.argv[1], sys.argv[2]
from catalogql.cli import main
from catalogql.search import open_catalog
from catalogql.search import sources
if url.startswith("postgresql"):
    from catalogql.search.stores import postgres
else:
    open_catalog("memory://" if url.startswith("memory:") else "sqlite://").close()
started = time.perf_counter()
status = main(["load", path, "--db", url])  # its own lines go before the last one
seconds = time.perf_counter() - started
held = None
if not url.startswith("memory:"):
    catalog = open_catalog(url, create=False)
    held = len(catalog)
    catalog.close()
print(json.dumps({"seconds": seconds, "status": status, "held": held}))
"""

# The floor, in a child: orjson-parse every line, WKT-parse every footprint (vectorized), a batch
# of 5,000 lines at a time (the loader's default batch), each batch dropped before the next, with
# the cyclic garbage collector off as the loader runs (on, its collections walk every record
# held and made the floor four times slower than the parsing itself). Holding all the records at
# once, as it did before, cost the floor more in page faults (this machine's dearest thing: 10-60
# us each) than the parsing itself, and more than a loader that streams pays.
_FLOOR = """
import gc, itertools, json, sys, time
import orjson, shapely
path = sys.argv[1]
gc.disable()
started = time.perf_counter()
held = 0
with open(path, "rb") as f:
    lines = (line for line in f if line.strip())
    while batch := list(itertools.islice(lines, 5000)):
        records = [orjson.loads(line) for line in batch]
        shapely.from_wkt([r["properties"]["footprintWkt"] for r in records])
        held += len(records)
print(json.dumps({"seconds": time.perf_counter() - started, "status": 0, "held": held}))
"""


def write_records(source: Path, count: int, target: Path) -> int:
    """Write ``count`` records to ``target`` (JSON Lines): ``source``'s, replicated, new ids."""
    with source.open(encoding="utf-8") as f:
        originals = [json.loads(line) for line in f if line.strip()]
    written = 0
    with target.open("w", encoding="utf-8") as out:
        while written < count:
            for record in originals:
                if written == count:
                    break
                copy = dict(record)
                copy["identifier"] = f"{record['identifier']}-{written // len(originals)}"
                out.write(json.dumps(copy, separators=(",", ":")) + "\n")
                written += 1
    return written


def _child(code: str, args: Sequence[str], tree: Path | None) -> dict[str, Any]:
    env = dict(os.environ)
    src = str((tree or _ROOT) / "src")
    env["PYTHONPATH"] = src + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=tempfile.gettempdir(),
        check=False,
    )
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        return {"error": (done.stderr or done.stdout)[-2000:]}
    result: dict[str, Any] = json.loads(lines[-1])
    return result


def _settle(server: Any, database: str) -> None:
    """After a PostgreSQL load, untimed: leave the server idle for whatever runs next.

    Without it, autovacuum's work on the table just loaded and the checkpoint of its WAL ran
    beside the next child (the next round's floor, or the next tree's memory load) and took up
    to 5x off its rate.
    """
    server.drop_database(database)
    server.execute("CHECKPOINT")


def run(
    config: Config,
    records: int | None = None,
    *,
    repeat: int | None = None,
    stores: Sequence[str] = STORES,
    trees: Sequence[Path] = (),
    source: Path = DEFAULT_RECORDS,
) -> dict[str, Any]:
    """Measure; return the figures (and print them as they come)."""
    count = records or (QUICK_RECORDS if config.quick else FULL_RECORDS)
    rounds = repeat or (2 if config.quick else 3)
    print(report.section(f"Load: {count:,} records from a JSON Lines file, {rounds} rounds"))
    if not source.is_file():
        print(f"(skipped: {source} not found; the load benchmark needs ../shared/fixtures)")
        return {"skipped": f"{source} not found"}
    named: list[tuple[str, Path | None]] = [("this tree", None)]
    named += [(str(tree), tree) for tree in trees]
    samples: dict[str, dict[str, list[float]]] = {
        label: {store: [] for store in stores} for label, _ in named
    }
    floor: list[float] = []
    errors: list[str] = []
    server = None
    with tempfile.TemporaryDirectory(prefix="catalogql-load-") as tmp:
        path = Path(tmp) / "records.jsonl"
        write_records(source, count, path)
        size_mib = path.stat().st_size / 2**20
        print(f"  {path.name}: {count:,} records, {size_mib:.1f} MiB")
        try:
            if "postgresql" in stores:
                from catalogql.testing.postgres_cluster import ThrowawayPostgres

                server = ThrowawayPostgres(settings=POSTGRES_SETTINGS).start()
            made = 0
            for round_ in range(rounds):
                result = _child(_FLOOR, [str(path)], None)
                if "error" in result:
                    errors.append(f"floor: {result['error']}")
                else:
                    floor.append(result["seconds"])
                for label, tree in named:
                    for store in stores:
                        made += 1
                        if store == "memory":
                            url = "memory://"
                        elif store == "sqlite":
                            url = f"sqlite:///{Path(tmp) / f'c{made}.db'}"
                        else:
                            assert server is not None
                            url = server.create_database(f"load{made}")
                            server.ensure_postgis(f"load{made}")
                        result = _child(_LOAD, [str(path), url], tree)
                        if "error" in result or result["status"] != 0:
                            errors.append(f"{label} {store}: {result}")
                            continue
                        if result["held"] not in (None, count):
                            errors.append(f"{label} {store}: holds {result['held']}, not {count}")
                        samples[label][store].append(result["seconds"])
                        print(
                            f"  round {round_ + 1}: {label}, {store}: {result['seconds']:.2f} s"
                            f" ({count / result['seconds']:,.0f} records/s)",
                            flush=True,
                        )
                        if store == "sqlite":
                            for suffix in ("", "-wal", "-shm"):
                                Path(url[len("sqlite:///") :] + suffix).unlink(missing_ok=True)
                        elif store == "postgresql":
                            assert server is not None
                            _settle(server, f"load{made}")
        finally:
            if server is not None:
                server.stop()
    for error in errors:
        print(f"  !!! {error}")
    return {
        "records": count,
        "rounds": rounds,
        "file_mib": size_mib,
        "floor_s": floor,
        "load_s": samples,
        "errors": errors,
    }


def summary(res: dict[str, Any]) -> str:
    """The Markdown table for the README: records/s (median, range) and the ratio over the floor."""
    if "skipped" in res:
        return f"(load: {res['skipped']})"
    count = res["records"]
    floor = statistics.median(res["floor_s"]) if res["floor_s"] else float("nan")
    rows: list[list[str]] = []

    def rate(seconds: list[float]) -> str:
        if not seconds:
            return "n/a"
        rates = sorted(count / s for s in seconds)
        return f"{count / statistics.median(seconds):,.0f} ({rates[0]:,.0f} to {rates[-1]:,.0f})"

    rows.append(["floor (orjson + WKT parse)", rate(res["floor_s"]), "1.00x"])
    for label, stores in res["load_s"].items():
        for store, seconds in stores.items():
            over = statistics.median(seconds) / floor if seconds else float("nan")
            rows.append([f"{store} ({label})", rate(seconds), f"{over:.2f}x"])
    return report.markdown(
        [f"{count:,} records, `catalogql load`", "records/s: median (range)", "time over floor"],
        rows,
    )


def main(argv: list[str] | None = None) -> int:
    """``python -m benchmarks.load [--quick] [--records N] [--repeat K] [--stores ...]``."""
    from benchmarks.timing import FULL, QUICK

    ap = argparse.ArgumentParser(prog="python -m benchmarks.load", description=__doc__)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--records", type=int, help=f"how many records (default {FULL_RECORDS:,})")
    ap.add_argument("--repeat", type=int, help="rounds (default 3)")
    ap.add_argument("--stores", nargs="+", choices=STORES, default=list(STORES))
    ap.add_argument(
        "--tree",
        nargs="*",
        action="extend",
        type=Path,
        default=[],
        help="other checkouts to measure",
    )  # --tree A --tree B and --tree A B: both
    ap.add_argument("--json", metavar="FILE", type=Path)
    args = ap.parse_args(argv)
    print(report.describe(report.machine()))
    res = run(
        QUICK if args.quick else FULL,
        args.records,
        repeat=args.repeat,
        stores=args.stores,
        trees=args.tree,
    )
    print()
    print(summary(res))
    if args.json:
        args.json.write_text(json.dumps(res, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
