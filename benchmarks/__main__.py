"""``python -m benchmarks [--quick] [--json FILE] [--records PATH] [--only SECTION ...]``.

Sections: imports, parse, predicate, filter (scalar and columnar filters beside pygeofilter, cql2
and polars; see :mod:`benchmarks.filter`), codegen, sql, load (``--load-records N``,
``--load-tree PATH``: see :mod:`benchmarks.load`), memory (RSS per record of the memory store,
``--memory-records N``, 1,000,000 by default; see :mod:`benchmarks.memory`), search, service
(``--service-records N``: the records of its visibility part, 1,000,000 by default; see
:mod:`benchmarks.service`), serve (``catalogql serve --workers 2`` under load; see
:mod:`benchmarks.serve`; its result says PASS or FAIL, and a FAIL makes the command exit 1).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks import (
    filter,
    imports,
    load,
    memory,
    parse,
    predicate,
    predicate_codegen,
    report,
    search,
    serve,
    service,
    sql,
)
from benchmarks.records import DEFAULT_RECORDS
from benchmarks.records import load as load_records
from benchmarks.timing import FULL, QUICK, noise_probe

SECTIONS = (
    "imports",
    "parse",
    "predicate",
    "filter",
    "codegen",
    "sql",
    "load",
    "memory",
    "search",
    "service",
    "serve",
)


def summary(
    info: dict[str, Any], results: dict[str, Any], quick: bool, steadiness: dict[str, float]
) -> str:
    nan = float("nan")
    peers = ("pygeofilter", "cql2")
    rows: list[list[str]] = []

    def cell(value: float, fmt: Any, rel: float | None) -> str:
        if value != value:
            return "n/a"
        return fmt(value) if rel is None else f"{fmt(value)} ({rel:.2f}x)"

    if "imports" in results:
        imp = results["imports"]
        base = imp["catalogql"]["total_ns"]
        rows.append(
            ["import + first parse, ms", report.ms(base)]
            + [cell(imp[k]["total_ns"], report.ms, imp[k]["total_ns"] / base) for k in peers]
        )
    if "parse" in results:
        first = results["parse"]["filters"][0]
        m, ratio = first["median_ns"], first["ratio"]
        rows.append(
            ["parse the typical 3-clause filter, µs", report.us(m["catalogql"])]
            + [cell(m.get(k, nan), report.us, ratio.get(f"{k}/catalogql")) for k in peers]
        )
        gm, gm_ratio = results["parse"]["geomean_ns"], results["parse"]["geomean_ratio"]
        n = len(results["parse"]["filters"])
        rows.append(
            [f"parse, geometric mean of the {n} SPEC filters, µs", report.us(gm["catalogql"])]
            + [cell(gm[k], report.us, gm_ratio.get(f"{k}/catalogql")) for k in peers]
        )
    if "predicate" in results:
        pred = results["predicate"]
        first = pred["filters"][0]
        m, ratio = first["median_ns"], first["ratio"]
        rows.append(
            [
                f"evaluate the typical filter, ns per record ({pred['records']:,} records)",
                report.ns(m["catalogql"]),
            ]
            + [cell(m.get(k, nan), report.ns, ratio.get(f"{k}/catalogql")) for k in peers]
        )
        c, c_ratio = first["compile_median_ns"], first["compile_ratio"]
        rows.append(
            [
                "AST to predicate, µs",
                report.us(c["catalogql"]),
                cell(c.get("pygeofilter", nan), report.us, c_ratio.get("pygeofilter/catalogql")),
                "(none needed)",
            ]
        )
    if "filter" in results:
        typical = results["filter"]["filters"][0]
        m = typical["median_ns"]
        polars = typical["ratio"].get("polars mask/catalogql columnar")
        held = results["filter"]["memory"]["nbytes_per_record"]
        rows.append(
            [
                "evaluate the typical filter a column at a time, ns per record (polars: "
                + cell(m.get("polars mask", nan), report.ns, polars)
                + f"; the columns hold {held:,.0f} B per record)",
                report.ns(m["catalogql columnar"]),
                "n/a",
                "n/a",
            ]
        )
    out = []
    vers = info["versions"]
    out.append(
        f"Machine: {info['nproc']} CPUs (`nproc`), {info['cpu']}; {info['python']}; "
        + ", ".join(f"{k} {v}" for k, v in vers.items())
        + (" (`--quick` run)" if quick else "")
        + "."
    )
    if rows:
        out.append("")
        out.append(
            report.markdown(
                ["", "catalogql", f"pygeofilter {vers['pygeofilter']}", f"cql2 {vers['cql2']}"],
                rows,
            )
        )
        out.append("")
        out.append(
            "Medians over interleaved rounds; in parentheses, the peer's time over catalogql's, as"
            " the median of per-round ratios (above 1x: catalogql is faster). The peers parse the"
            " CQL2-text equivalents; evaluation runs every call in the same guarded loop (included"
            f" in every figure). Steadiness: {steadiness['slow_share']:.0%} of 2-ms slices of"
            " identical work ran over 1.25x the fastest."
            + (
                " On this machine the host slows the process in bursts, so absolute medians run"
                " high; `--json` has the best rounds too."
                if steadiness["slow_share"] > 0.2
                else ""
            )
        )
    extra: list[list[str]] = []
    if "parse" in results:
        gm = results["parse"]["geomean_ns"]
        build = results["parse"]["parser_build_ns"]
        if build["lark_cython"]:
            py_b, cy_b = min(build["lark_python"]), min(build["lark_cython"])
            extra.append(
                [
                    "Lark parse, geometric mean of the SPEC filters, µs",
                    report.us(gm["lark_cython"]),
                    report.us(gm["lark_python"]),
                    f"{results['parse']['geomean_ratio']['lark_python/lark_cython']:.2f}x",
                ]
            )
            extra.append(
                [
                    "building the parser (best run), ms",
                    report.ms(cy_b),
                    report.ms(py_b),
                    report.ratio(py_b, cy_b),
                ]
            )
    if extra:
        out.append("")
        out.append(
            report.markdown(["", "lark_cython", "pure-Python Lark", "lark_cython speed-up"], extra)
        )
    if "codegen" in results:
        rows = []
        for r in results["codegen"]["filters"]:
            e, eb = r["eval_median_ns"], r["eval_min_ns"]
            c, cb = r["compile_median_ns"], r["compile_min_ns"]
            rows.append(
                [
                    r["label"],
                    report.pair(e["closures"], eb["closures"], report.ns),
                    report.pair(e["codegen"], eb["codegen"], report.ns),
                    f"{r['speedup']:.2f}x",
                    report.pair(c["closures"], cb["closures"], report.us),
                    report.pair(c["codegen"], cb["codegen"], report.us),
                ]
            )
        out.append("")
        out.append(
            report.markdown(
                [
                    "predicate (median / best)",
                    "closures, ns/record",
                    "generated code, ns/record",
                    "speed-up",
                    "closures, compile µs",
                    "generated code, compile µs",
                ],
                rows,
            )
        )
    if "sql" in results:
        out.append("")
        out.append(sql_summary(results["sql"]))
    if "load" in results:
        out.append("")
        out.append(load.summary(results["load"]))
    if "search" in results:
        out.append("")
        out.append(search.summary(results["search"]))
    if "service" in results:
        out.append("")
        out.append(service.summary(results["service"]))
    if "serve" in results:
        out.append("")
        out.append(serve.summary(results["serve"]))
    return "\n".join(out)


def sql_summary(res: dict[str, Any]) -> str:
    compile_rows = [
        [label] + [report.us(v) for v in medians.values()]
        for label, medians in res["compile_median_ns"].items()
    ]
    targets = list(next(iter(res["compile_median_ns"].values())))
    rows = []

    def cell(r: dict[str, Any], key: str) -> str:
        if key not in r["median_ns"]:
            return "n/a"
        rel = r["ratio"].get(f"{key}/catalogql")
        return report.ms(r["median_ns"][key]) + (f" ({rel:.2f}x)" if rel is not None else "")

    for r in res["filters"]:
        rows.append(
            [r["label"]]
            + [cell(r, k) for k in ("catalogql", "catalogql typed", "pygeofilter", "plain SQLite")]
        )
    return "\n".join(
        [
            report.markdown(["compile, µs", *targets], compile_rows),
            "",
            report.markdown(
                [
                    f"SQLite, {res['records']:,} JSON records, ms",
                    "catalogql (JSON)",
                    "catalogql (typed columns, indexed)",
                    "pygeofilter sqlalchemy",
                    "hand-written json_extract",
                ],
                rows,
            ),
        ]
    )


def warm_up(seconds: float) -> dict[str, float]:
    """Warm up (imports, caches, the CPU) and gauge how steady the machine is."""
    import catalogql
    from benchmarks.filters import TYPICAL

    probe = noise_probe(lambda: catalogql.parse_filter(TYPICAL.gbdx), seconds)
    print(
        f"machine steadiness: {probe['slow_share']:.0%} of {probe['slices']:.0f} 2-ms slices of"
        " identical work ran over 1.25x the fastest (median slice"
        f" {probe['median_over_fastest']:.2f}x the fastest)."
    )
    if probe["slow_share"] > 0.2:
        print(
            "  This machine is being slowed in bursts (a throttled or shared VM): the medians are\n"
            "  inflated and vary between runs; the ratios (paired per round) and best rounds hold."
        )
    return probe


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    ap.add_argument("--quick", action="store_true", help="fewer, shorter rounds (under 30 s)")
    ap.add_argument("--json", metavar="FILE", type=Path, help="also write the figures as JSON")
    ap.add_argument("--records", metavar="PATH", type=Path, default=DEFAULT_RECORDS)
    ap.add_argument(
        "--search-records", metavar="N", type=int, help="synthetic records for the search section"
    )
    ap.add_argument(
        "--service-records",
        metavar="N",
        type=int,
        help="records of the service section's visibility part (default 1,000,000)",
    )
    ap.add_argument("--load-records", metavar="N", type=int, help="records of the load section")
    ap.add_argument(
        "--memory-records",
        metavar="N",
        type=int,
        help="records the memory section loads (default 1,000,000; --quick 20,000)",
    )
    ap.add_argument(
        "--load-tree",
        metavar="PATH",
        type=Path,
        nargs="*",
        action="extend",  # --load-tree A --load-tree B: both
        default=[],
        help="other checkouts whose loads run beside this tree's (before and after)",
    )
    ap.add_argument("--only", nargs="+", choices=SECTIONS, help="run only these sections")
    args = ap.parse_args(argv)
    config = QUICK if args.quick else FULL
    wanted = set(args.only or SECTIONS)
    started = time.perf_counter()
    info = report.machine()
    print("catalogql benchmarks" + (" (--quick)" if args.quick else ""))
    print(report.describe(info))
    print(
        f"{config.rounds} interleaved rounds of about {config.round_ns / 1e6:.0f} ms per"
        " contestant, after calibration and a warm-up round; GC off while timing."
    )
    results: dict[str, Any] = {}
    steadiness = warm_up(0.5 if args.quick else 2.0)
    if "imports" in wanted:
        results["imports"] = imports.run(config)
    if "parse" in wanted:
        results["parse"] = parse.run(config)
    if wanted & {"predicate", "filter", "codegen", "sql"}:
        records = load_records(args.records)
        if records is not None:
            if "predicate" in wanted:
                results["predicate"] = predicate.run(config, records)
            if "filter" in wanted:
                results["filter"] = filter.run(config, records)
            if "codegen" in wanted:
                results["codegen"] = predicate_codegen.run(config, records)
            if "sql" in wanted:
                results["sql"] = sql.run(config, records)
    if "load" in wanted:
        results["load"] = load.run(
            config, args.load_records, trees=args.load_tree, source=args.records
        )
    if "memory" in wanted:
        results["memory"] = memory.run(config, args.memory_records)
    if "search" in wanted:
        results["search"] = search.run(config, args.search_records)
    if "service" in wanted:
        results["service"] = service.run(config, args.service_records)
    if "serve" in wanted:
        results["serve"] = serve.run(config)
    elapsed = time.perf_counter() - started
    text = summary(info, results, args.quick, steadiness)
    print(report.section("Summary (Markdown, for the README)"))
    print(text)
    print(f"\n(run took {elapsed:.0f} s)")
    if args.json:
        payload = {
            "machine": info,
            "config": {
                "rounds": config.rounds,
                "round_ns": config.round_ns,
                "import_runs": config.import_runs,
                "quick": config.quick,
            },
            "elapsed_s": elapsed,
            "steadiness": steadiness,
            "results": results,
            "summary_markdown": text,
        }
        args.json.write_text(json.dumps(payload, indent=2, default=str) + "\n", encoding="utf-8")
        print(f"figures written to {args.json}")
    if results.get("serve", {}).get("verdict", "PASS") != "PASS":
        print(f"serve: {results['serve']['verdict']}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
