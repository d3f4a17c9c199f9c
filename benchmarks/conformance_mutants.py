"""The README's mutant table: each wrong server of ``tests/mutant_servers.py`` against the runner.

``python -m benchmarks.conformance_mutants [--examples N] [--seed N]`` runs
:func:`catalogql.testing.conformance.run` against every mutant, in process (ASGI), on the
default corpus (seed 0, 1,200 records), and prints a Markdown table: the rules found, and for the
first finding the requests sent and the seconds until it was first seen, then the total with
shrinking. The requests are seeded, so the counts repeat; the seconds depend on the machine.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from catalogql.testing.conformance import HTTPTarget, corpus, run
from mutant_servers import Bugs, TinyServer

MUTANTS = (
    ("AND and OR at equal precedence", Bugs(equal_precedence=True)),
    ("NOT of a missing property true", Bugs(not_of_missing_true=True)),
    ("case-insensitive wildcards (LIKE)", Bugs(nocase_wildcards=True)),
    ("text ids compared as numbers", Bugs(numeric_ids=True)),
    ("endDate exclusive", Bugs(end_exclusive=True)),
    ("no cap", Bugs(no_cap=True)),
    ("ties unordered", Bugs(ties_unordered=True)),
    ("pygeofilter's parser and native back end", Bugs(pygeofilter=True)),
    ("none (a correct server)", Bugs()),
)


def main(argv: list[str] | None = None) -> int:
    """Print the table."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.conformance_mutants")
    parser.add_argument("--examples", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    records = corpus(seed=0)
    print("| mutant | rules reported | first found after | whole run |")
    print("| --- | --- | --- | --- |")
    for label, bugs in MUTANTS:
        target = HTTPTarget(app=TinyServer(records, bugs))
        try:
            report = run(target, records, examples=args.examples, max_time=600, seed=args.seed)
        finally:
            target.close()
        rules = ", ".join(f"`{f.rule}`" for f in report.findings) or "none"
        first = report.findings[0] if report.findings else None
        found = f"{first.found_after} requests, {first.seconds:.1f} s" if first else "-"
        whole = f"{report.requests} requests, {report.seconds:.0f} s"
        print(f"| {label} | {rules} | {found} | {whole} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
