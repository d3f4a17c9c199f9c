"""Import and first-use cost, each in a fresh interpreter (so nothing is already imported)."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks import report
from benchmarks.filters import TYPICAL
from benchmarks.timing import Config

ROOT = Path(__file__).resolve().parents[1]

# Each script prints [import ns, first parse ns, second parse ns]. The first parse of catalogql
# builds its LALR tables (lazily); pygeofilter builds its grammar at import time.
_SCRIPT = """
import json, logging, time
t0 = time.perf_counter_ns()
{imports}
t1 = time.perf_counter_ns()
{parse}
t2 = time.perf_counter_ns()
{parse}
t3 = time.perf_counter_ns()
print(json.dumps([t1 - t0, t2 - t1, t3 - t2]))
"""

SUBJECTS = {
    "catalogql": (
        "import catalogql",
        f"catalogql.parse_filter({TYPICAL.gbdx!r})",
    ),
    "pygeofilter": (
        "from pygeofilter.parsers.cql2_text import parse",
        f"parse({TYPICAL.cql2!r})",
    ),
    "cql2": (
        "import cql2",
        f"cql2.parse_text({TYPICAL.cql2!r})",
    ),
}


def _run_once(imports: str, parse: str, env: dict[str, str]) -> list[int]:
    script = _SCRIPT.format(imports=imports, parse=parse)
    out = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    result: list[int] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def run(config: Config) -> dict[str, dict[str, float]]:
    print(report.section("Import and first use (fresh interpreter each run)"))
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="catalogql-bench-pyc-") as pyc:
        # Byte code for every library in one throwaway cache, written by the warm-up run, so no
        # library pays for compiling its sources (an editable install with
        # PYTHONDONTWRITEBYTECODE set would otherwise recompile catalogql on every run).
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPYCACHEPREFIX"] = pyc
        for name, (imports, parse) in SUBJECTS.items():
            _run_once(imports, parse, env)  # warm the byte-code cache and the OS file cache
            runs = [_run_once(imports, parse, env) for _ in range(config.import_runs)]
            results[name] = {
                "import_ns": statistics.median(r[0] for r in runs),
                "first_parse_ns": statistics.median(r[1] for r in runs),
                "second_parse_ns": statistics.median(r[2] for r in runs),
                "total_ns": statistics.median(r[0] + r[1] for r in runs),
            }
    rows = [
        [
            name,
            report.ms(r["import_ns"]),
            report.ms(r["first_parse_ns"]),
            report.ms(r["total_ns"]),
            report.us(r["second_parse_ns"]),
        ]
        for name, r in results.items()
    ]
    print(
        report.table(
            ["library", "import ms", "1st parse ms", "total ms", "2nd parse µs"],
            rows,
        )
    )
    print(
        f"Median of {config.import_runs} runs, byte code cached; the parse is the typical\n"
        "3-clause filter. catalogql builds its LALR tables on first use, pygeofilter's cql2_text\n"
        "builds its grammar at import; the 2nd parse is a cold single call, not a steady state."
    )
    return results
