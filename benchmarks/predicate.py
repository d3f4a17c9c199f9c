"""Predicate evaluation over the real records: catalogql against pygeofilter and cql2.

catalogql's predicate is ``compile_predicate``'s generated code. Preparing one is timed three
ways: cold (no cache: the source generated and compiled by CPython, the figure compared with
pygeofilter's), same shape (another filter of this shape was compiled before) and cached (this
filter was compiled before: ``compile_predicate`` returns the same function).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import catalogql
from benchmarks import report
from benchmarks.filters import PREDICATE_FILTERS
from benchmarks.timing import Batch, Config, Contestant, measure, paired_ratio, repeat_thunk
from catalogql.ast import Node
from catalogql.compile import predicate as compiler

Props = dict[str, Any]


def over_records(pred: Callable[[Props], Any], records: list[Props]) -> Batch:
    """One repetition = one pass of ``pred`` over every record, each call guarded alike."""

    def batch(n: int) -> None:
        for _ in range(n):
            for props in records:
                try:
                    pred(props)
                except Exception:  # the peers raise on missing values
                    continue

    return batch


def cold(node: Node) -> Callable[[Props], bool]:
    """Generated code with nothing cached: generate the source and have CPython compile it."""
    compiler._code.cache_clear()
    return compiler._compile_generated(node)


def count(pred: Callable[[Props], Any], records: list[Props]) -> tuple[int, int, str]:
    """(selected, raised, the first error message)."""
    selected = raised = 0
    first = ""
    for props in records:
        try:
            if pred(props):
                selected += 1
        except Exception as exc:
            raised += 1
            first = first or f"{type(exc).__name__}: {exc}"
    return selected, raised, first


def _peers() -> tuple[Any, Any, Any]:
    try:
        from pygeofilter.backends.native.evaluate import NativeEvaluator
        from pygeofilter.parsers.cql2_text import parse as pgf_parse
    except ImportError:
        NativeEvaluator = pgf_parse = None
    logging.getLogger("lark").setLevel(logging.WARNING)  # see parse.load_peers
    try:
        import cql2
    except ImportError:
        cql2 = None
    return NativeEvaluator, pgf_parse, cql2


def _fmt_ratio(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}x"


def run(config: Config, records: list[Props]) -> dict[str, Any]:
    print(
        report.section(f"Predicate evaluation over {len(records):,} real records (ns per record)")
    )
    native_evaluator, pgf_parse, cql2 = _peers()
    results: list[dict[str, Any]] = []
    for f in PREDICATE_FILTERS:
        node = catalogql.parse_filter(f.gbdx)
        preds: dict[str, Callable[[Props], Any]] = {"catalogql": catalogql.compile_predicate(node)}
        prepare: dict[str, Contestant] = {
            "catalogql": Contestant("catalogql", repeat_thunk(lambda node=node: cold(node))),
            "catalogql, same shape": Contestant(
                "catalogql, same shape",
                repeat_thunk(lambda node=node: compiler._compile_generated(node)),
            ),
            "catalogql, cached": Contestant(
                "catalogql, cached",
                repeat_thunk(lambda node=node: catalogql.compile_predicate(node)),
            ),
        }
        if native_evaluator is not None:
            pgf_node = pgf_parse(f.cql2)
            # use_getattr=False: the generated lambda reads item.get(name) from the dict.
            preds["pygeofilter"] = native_evaluator(use_getattr=False).evaluate(pgf_node)
            prepare["pygeofilter"] = Contestant(
                "pygeofilter",
                repeat_thunk(lambda n=pgf_node: native_evaluator(use_getattr=False).evaluate(n)),
            )
        if cql2 is not None:
            preds["cql2"] = cql2.Expr(f.cql2).matches
        baseline = "empty loop"
        contestants = [
            Contestant(k, over_records(p, records), len(records)) for k, p in preds.items()
        ]
        contestants.append(
            Contestant(baseline, over_records(lambda p: False, records), len(records))
        )
        stats = measure(contestants, config)
        compile_stats = measure(list(prepare.values()), config)
        counts = {k: count(p, records) for k, p in preds.items()}
        results.append(
            {
                "label": f.label,
                "gbdx": f.gbdx,
                "cql2": f.cql2,
                "stats": {k: v.as_dict() for k, v in stats.items()},
                "median_ns": {k: v.median for k, v in stats.items()},
                "min_ns": {k: v.low for k, v in stats.items()},
                "compile_median_ns": {k: v.median for k, v in compile_stats.items()},
                "compile_min_ns": {k: v.low for k, v in compile_stats.items()},
                "ratio": {
                    f"{k}/catalogql": paired_ratio(stats[k], stats["catalogql"])
                    for k in ("pygeofilter", "cql2")
                    if k in stats
                },
                "compile_ratio": {
                    "pygeofilter/catalogql": paired_ratio(
                        compile_stats["pygeofilter"], compile_stats["catalogql"]
                    )
                }
                if "pygeofilter" in compile_stats
                else {},
                "selected": {k: c[0] for k, c in counts.items()},
                "raised": {k: c[1] for k, c in counts.items()},
                "first_error": {k: c[2] for k, c in counts.items() if c[2]},
            }
        )

    nan = float("nan")

    def cell(r: dict[str, Any], key: str, prefix: str = "", fmt: Any = report.ns) -> str:
        m, b = r[f"{prefix}median_ns"], r[f"{prefix}min_ns"]
        return report.pair(m.get(key, nan), b.get(key, nan), fmt)

    rows = []
    for r in results:
        rows.append(
            [
                r["label"],
                cell(r, "catalogql"),
                cell(r, "pygeofilter"),
                cell(r, "cql2"),
                _fmt_ratio(r["ratio"].get("pygeofilter/catalogql")),
                _fmt_ratio(r["ratio"].get("cql2/catalogql")),
                cell(r, "empty loop"),
            ]
        )
    print(
        report.table(
            ["filter", "catalogql", "pygeofilter", "cql2", "pgf/cq", "cql2/cq", "empty loop"],
            rows,
        )
    )
    print(
        "Cells: median / best round; ratios: median of per-round ratios (above 1x: catalogql is\n"
        "faster). Every call runs inside the same try/except in the same loop for every library;\n"
        "'empty loop' is that loop around `lambda p: False` (included in every figure).\n"
        "pygeofilter: NativeEvaluator(use_getattr=False).evaluate(ast) -> generated lambda;\n"
        "cql2: cql2.Expr(cql2_text).matches(properties) (the dict crosses into Rust on each\n"
        "call)."
    )

    print("\nRecords selected (raised = calls that raised instead of answering):")
    rows = []
    for r in results:
        row = [r["label"]]
        for k in ("catalogql", "pygeofilter", "cql2"):
            if k in r["selected"]:
                raised = r["raised"][k]
                row.append(f"{r['selected'][k]:,}" + (f" (raised {raised:,})" if raised else ""))
            else:
                row.append("n/a")
        sel = set(r["selected"].values())
        row.append("yes" if len(sel) == 1 else "NO")
        rows.append(row)
    print(report.table(["filter", "catalogql", "pygeofilter", "cql2", "same count"], rows))
    for r in results:
        for k, msg in r["first_error"].items():
            print(f"  {r['label']}: {k} raised, e.g. {msg[:90]}")

    print("\nPreparing a predicate from a parsed filter (µs): compile_predicate(ast) versus")
    print("NativeEvaluator().evaluate(ast) (source text + eval); cql2 needs no step after parsing.")
    print("catalogql cold: nothing cached; same shape: a filter differing only in names and")
    print("literals was compiled before; cached: this filter was. pgf/cq: against cold.")
    rows = []
    for r in results:
        rows.append(
            [
                r["label"],
                cell(r, "catalogql", "compile_", report.us),
                cell(r, "catalogql, same shape", "compile_", report.us),
                cell(r, "catalogql, cached", "compile_", report.us),
                cell(r, "pygeofilter", "compile_", report.us),
                _fmt_ratio(r["compile_ratio"].get("pygeofilter/catalogql")),
            ]
        )
    print(
        report.table(
            ["filter", "catalogql cold", "same shape", "cached", "pygeofilter", "pgf/cq"], rows
        )
    )
    return {"filters": results, "records": len(records)}
