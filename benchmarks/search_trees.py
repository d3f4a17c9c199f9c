"""Search latency on two or more checkouts of catalogql, their rounds alternating in one run.

``python -m benchmarks.search_trees --tree OLD --tree NEW [--records N] [--rounds R] [--store S]``

The before and after of a change to a store's search path, at the size where it matters
(1,000,000 records by default): :mod:`benchmarks.search` measures one checkout, and two of its
runs on this shared machine differ by more than most changes. Here the records
(:func:`catalogql.testing.synthetic.generate_records`, this checkout's) and the request mix
(:func:`benchmarks.search.build_mix`: city, dates, catalogID and broad requests) are made once
and written to a temporary JSON Lines file; each tree gets a child process
(``PYTHONPATH=<tree>/src``) that loads them into a new catalog of the store (``memory://`` by
default), runs every request once and reports a digest of its answers (the trees must agree),
then waits. A round asks each child in turn (the order flipped every round) to run the whole mix
``--reps`` times in a shuffled order and report, per kind, the median CPU time of a request
(``time.process_time``: a busy machine slows the wall clock far more than the CPU time). The
table gives each tree's median over the rounds with the range, and the median of the per-round
ratios against the first tree.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import IO, Any

from benchmarks import report

KINDS = ("city", "dates", "catalogID", "broad")

_CHILD = r"""
import hashlib, json, random, sys, time
import orjson
from catalogql.search import open_catalog
records_path, mix_path, url, seed = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
with open(records_path, "rb") as lines:
    records = [orjson.loads(line) for line in lines]
with open(mix_path, "rb") as f:
    mix = orjson.loads(f.read())
catalog = open_catalog(url)
started = time.perf_counter()
catalog.add_records(records, batch_size=10_000)
catalog.search({"startDate": "2016-01-01", "endDate": "2016-01-01", "limit": 1})
loaded = time.perf_counter() - started
del records
answers = [orjson.dumps(catalog.search(body), option=orjson.OPT_SORT_KEYS) for _, body in mix]
digest = hashlib.sha256(b"".join(answers)).hexdigest()[:16]
print(json.dumps({"digest": digest, "load_s": loaded}), flush=True)
rng = random.Random(seed)
for command in sys.stdin:
    reps = int(command)
    if reps <= 0:
        break
    cpu = {}
    order = list(range(len(mix)))
    for _ in range(reps):
        rng.shuffle(order)
        for at in order:
            kind, body = mix[at]
            began = time.process_time_ns()
            catalog.search(body)
            cpu.setdefault(kind, []).append((time.process_time_ns() - began) / 1e6)
    print(json.dumps({k: sorted(v)[len(v) // 2] for k, v in cpu.items()}), flush=True)
catalog.close()
"""


def _write_inputs(folder: Path, records: int, seed: int) -> tuple[Path, Path]:
    import orjson

    from benchmarks.search import build_mix
    from catalogql.testing.synthetic import generate_records

    made = list(generate_records(records, seed=seed))
    mix = build_mix(made, per_kind=20, seed=seed)
    records_path, mix_path = folder / "records.jsonl", folder / "mix.json"
    with records_path.open("wb") as out:
        for record in made:
            out.write(orjson.dumps(record) + b"\n")
    mix_path.write_bytes(orjson.dumps([[request.kind, request.body] for request in mix]))
    return records_path, mix_path


def _ask(child: subprocess.Popen[str], reps: int) -> dict[str, float]:
    stdin, stdout = child.stdin, child.stdout
    assert stdin is not None and stdout is not None
    stdin.write(f"{reps}\n")
    stdin.flush()
    return _reply(stdout)


def _reply(stdout: IO[str]) -> dict[str, Any]:
    line = stdout.readline()
    if not line:
        raise RuntimeError("a child stopped (its error is above)")
    return json.loads(line)  # type: ignore[no-any-return]


def run(
    trees: list[Path], records: int, rounds: int, reps: int, store: str, seed: int = 2026
) -> dict[str, Any]:
    """Load every tree's child, alternate the rounds, return each tree's per-round figures."""
    with tempfile.TemporaryDirectory(prefix="catalogql-trees-") as tmp:
        folder = Path(tmp)
        print(f"generating {records:,} records ...", flush=True)
        records_path, mix_path = _write_inputs(folder, records, seed)
        children: list[subprocess.Popen[str]] = []
        try:
            for at, tree in enumerate(trees):
                url = "memory://" if store == "memory" else f"sqlite:///{folder / f'{at}.db'}"
                env = {**os.environ, "PYTHONPATH": str(tree.resolve() / "src")}
                args = [str(records_path), str(mix_path), url, str(seed)]
                children.append(
                    subprocess.Popen(
                        [sys.executable, "-c", _CHILD, *args],
                        env=env,
                        stdin=subprocess.PIPE,
                        stdout=subprocess.PIPE,
                        text=True,
                    )
                )
            digests = []
            for tree, child in zip(trees, children, strict=True):
                assert child.stdout is not None
                ready = _reply(child.stdout)
                digests.append(ready["digest"])
                print(f"  {tree}: loaded in {ready['load_s']:.1f} s, answers {ready['digest']}")
            per_round: list[list[dict[str, float]]] = [[] for _ in trees]
            for number in range(rounds):
                turn = list(range(len(trees)))
                for at in turn if number % 2 == 0 else turn[::-1]:
                    per_round[at].append(_ask(children[at], reps))
                print(f"  round {number + 1} of {rounds}", flush=True)
        finally:
            for child in children:
                if child.poll() is None and child.stdin is not None:
                    child.stdin.write("0\n")
                    child.stdin.close()
                child.wait()
    return {"trees": [str(t) for t in trees], "digests": digests, "rounds": per_round}


def table(result: dict[str, Any]) -> str:
    """Each tree's median (range) per kind, and the median per-round ratio to the first tree."""
    trees, rounds = result["trees"], result["rounds"]
    rows = []
    for kind in KINDS:
        row = [kind]
        first = [r[kind] for r in rounds[0]]
        for at in range(len(trees)):
            mine = [r[kind] for r in rounds[at]]
            cell = f"{statistics.median(mine):.3g} ({min(mine):.3g}-{max(mine):.3g})"
            if at:
                ratio = statistics.median(m / f for m, f in zip(mine, first, strict=True))
                cell += f", {ratio:.2f}x"
            row.append(cell)
        rows.append(row)
    same = "the same" if len(set(result["digests"])) == 1 else "DIFFERENT"
    return (
        report.table(["CPU ms per request", *trees], rows)
        + f"\nAnswers: {same} on every tree ({', '.join(result['digests'])})."
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.search_trees", description=__doc__)
    ap.add_argument("--tree", type=Path, action="append", required=True, help="a checkout")
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--rounds", type=int, default=8)
    ap.add_argument("--reps", type=int, default=3, help="runs of the whole mix a round")
    ap.add_argument("--store", choices=("memory", "sqlite"), default="memory")
    ap.add_argument("--json", metavar="FILE", type=Path)
    args = ap.parse_args(argv)
    result = run(args.tree, args.records, args.rounds, args.reps, args.store)
    print(table(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))
    return 0 if len(set(result["digests"])) == 1 else 1


if __name__ == "__main__":
    raise SystemExit(main())
