"""Filter evaluation per record, side by side: catalogql's scalar predicate and its columnar
evaluator against pygeofilter's native evaluator, cql2-rs and polars.

``python -m benchmarks --only filter`` (or ``python -m benchmarks.filter``). The dict-at-a-time
evaluators (``compile_predicate``, pygeofilter, cql2) run over the real GBDX records' property
dicts; the columnar ones (``compile_columnar`` over a :class:`PropertyColumns`, and polars over a
``DataFrame`` of the same records) over those records tiled to about a million rows (by
``take``), so that one call's fixed cost does not hide the cost per record. Every tool must
select the same records: the section checks it on the records themselves, and on the tiled table
for the two columnar tools, and prints it. It also prints the table's ``nbytes()`` per record.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from typing import Any

import numpy as np
import orjson

import catalogql
from benchmarks import report
from benchmarks.filters import PREDICATE_FILTERS, Filter
from benchmarks.timing import FULL, QUICK, Batch, Config, Contestant, measure, paired_ratio
from catalogql.compile.columnar import ColumnarPredicate, PropertyColumns, compile_columnar

Props = dict[str, Any]

TILED_ROWS = 1_000_000
"""Rows of the tiled table the columnar tools run over (a fifth of that with ``--quick``)."""


def _polars_expr(pl: Any, f: Filter) -> Any:
    """The filter as a polars expression (the three benchmark filters; nulls select nothing)."""
    parts = {
        "sensorPlatformName = WORLDVIEW03*": pl.col("sensorPlatformName").str.starts_with(
            "WORLDVIEW03"
        ),
        "cloudCover < 20": pl.col("cloudCover") < 20,
        "offNadirAngle < 10": pl.col("offNadirAngle") < 10,
    }
    clauses = f.gbdx.split(" AND ")
    expr = parts[clauses[0]]
    for clause in clauses[1:]:
        expr = expr & parts[clause]
    return expr


def _over_dicts(pred: Callable[[Props], Any], records: list[Props]) -> Batch:
    """One repetition: ``pred`` over every record, each call guarded alike (the peers raise)."""

    def batch(n: int) -> None:
        for _ in range(n):
            for props in records:
                try:
                    pred(props)
                except Exception:
                    continue

    return batch


def _selected(pred: Callable[[Props], Any], records: list[Props]) -> tuple[set[int], int]:
    """The records ``pred`` selects, and how many calls raised (a raise selects nothing)."""
    chosen, raised = set(), 0
    for i, props in enumerate(records):
        try:
            if pred(props):
                chosen.add(i)
        except Exception:
            raised += 1
    return chosen, raised


def _repeat(call: Callable[[], object]) -> Batch:
    def batch(n: int) -> None:
        for _ in range(n):
            call()

    return batch


def _peers() -> tuple[Any, Any, Any, Any]:
    try:
        from pygeofilter.backends.native.evaluate import NativeEvaluator
        from pygeofilter.parsers.cql2_text import parse as pgf_parse
    except ImportError:
        NativeEvaluator = pgf_parse = None
    logging.getLogger("lark").setLevel(logging.WARNING)
    try:
        import cql2
    except ImportError:
        cql2 = None
    try:
        import polars as pl
    except ImportError:
        pl = None
    return NativeEvaluator, pgf_parse, cql2, pl


def memory(records: list[Props]) -> dict[str, float]:
    """``nbytes()`` per record of a table of the records (and of the records' JSON, to compare)."""
    table = PropertyColumns()
    table.append(records)
    held = table.nbytes()
    text = sum(len(orjson.dumps(props)) for props in records)
    return {"nbytes_per_record": held / len(records), "json_bytes_per_record": text / len(records)}


def run(config: Config, records: list[Props]) -> dict[str, Any]:
    tiled = TILED_ROWS // 5 if config.quick else TILED_ROWS
    print(
        report.section(
            f"Filter evaluation, ns per record ({len(records):,} real records; the columnar tools"
            f" over them tiled to {tiled:,} rows)"
        )
    )
    native_evaluator, pgf_parse, cql2, pl = _peers()
    table = PropertyColumns()
    table.append(records)
    order = np.arange(tiled, dtype=np.int64) % len(records)
    big = table.take(order)
    frame = big_frame = None
    if pl is not None:
        frame = pl.DataFrame(records, infer_schema_length=None)
        big_frame = frame[order]
    results: list[dict[str, Any]] = []
    for f in PREDICATE_FILTERS:
        node = catalogql.parse_filter(f.gbdx)
        scalar = catalogql.compile_predicate(node)
        columnar: ColumnarPredicate = compile_columnar(node)
        contestants = [
            Contestant("catalogql scalar", _over_dicts(scalar, records), len(records)),
            Contestant("catalogql columnar", _repeat(lambda c=columnar: c(big)), tiled),
        ]
        chosen = {"catalogql scalar": _selected(scalar, records)}
        hits = np.flatnonzero(columnar(table))
        chosen["catalogql columnar"] = (set(hits.tolist()), 0)
        tiled_counts = {"catalogql columnar": int(np.count_nonzero(columnar(big)))}
        if native_evaluator is not None:
            native = native_evaluator(use_getattr=False).evaluate(pgf_parse(f.cql2))
            contestants.append(
                Contestant("pygeofilter", _over_dicts(native, records), len(records))
            )
            chosen["pygeofilter"] = _selected(native, records)
        if cql2 is not None:
            matches = cql2.Expr(f.cql2).matches
            contestants.append(Contestant("cql2", _over_dicts(matches, records), len(records)))
            chosen["cql2"] = _selected(matches, records)
        if pl is not None:
            expr = _polars_expr(pl, f)
            contestants.append(
                Contestant("polars filter", _repeat(lambda e=expr: big_frame.filter(e)), tiled)
            )
            contestants.append(
                Contestant("polars mask", _repeat(lambda e=expr: big_frame.select(e)), tiled)
            )
            mask = frame.select(expr.fill_null(False)).to_series().to_numpy()
            chosen["polars"] = (set(np.flatnonzero(mask).tolist()), 0)
            tiled_counts["polars"] = big_frame.filter(expr).height
        stats = measure(contestants, config)
        want = chosen["catalogql scalar"][0]
        results.append(
            {
                "label": f.label,
                "gbdx": f.gbdx,
                "median_ns": {k: v.median for k, v in stats.items()},
                "min_ns": {k: v.low for k, v in stats.items()},
                "stats": {k: v.as_dict() for k, v in stats.items()},
                "ratio": {
                    f"{k}/catalogql columnar": paired_ratio(stats[k], stats["catalogql columnar"])
                    for k in ("polars filter", "polars mask")
                    if k in stats
                }
                | (
                    {
                        "pygeofilter/catalogql scalar": paired_ratio(
                            stats["pygeofilter"], stats["catalogql scalar"]
                        )
                    }
                    if "pygeofilter" in stats
                    else {}
                ),
                "selected": {k: len(v[0]) for k, v in chosen.items()},
                "raised": {k: v[1] for k, v in chosen.items()},
                "same_records": {k: v[0] == want for k, v in chosen.items()},
                "tiled_selected": tiled_counts,
            }
        )

    nan = float("nan")
    names = ("catalogql scalar", "catalogql columnar", "pygeofilter", "cql2", "polars filter")
    names += ("polars mask",)
    rows = []
    for r in results:
        m, b = r["median_ns"], r["min_ns"]
        row = [r["label"]] + [report.pair(m.get(k, nan), b.get(k, nan), report.ns) for k in names]
        ratio = r["ratio"].get("polars mask/catalogql columnar")
        row.append("n/a" if ratio is None else f"{ratio:.1f}x")
        rows.append(row)
    print(
        report.table(
            [
                *("filter", "cq scalar", "cq columnar", "pygeofilter", "cql2"),
                *("polars filter", "polars mask", "polars mask/columnar"),
            ],
            rows,
        )
    )
    print(
        "Cells: median / best round, ns per record. Dict at a time (catalogql scalar =\n"
        "compile_predicate, pygeofilter = NativeEvaluator(use_getattr=False), cql2 =\n"
        "cql2.Expr(text).matches(dict)): one pass over the records, every call in the same\n"
        "try/except. Columnar: compile_columnar(node)(table) -> a boolean mask over the tiled\n"
        "PropertyColumns; polars filter = df.filter(expr) (a new DataFrame of the selected rows,\n"
        "all 70 columns), polars mask = df.select(expr) (the boolean column alone: the same work\n"
        "as the columnar evaluator). polars may use both cores; catalogql uses one."
    )
    print(
        "\nRecords selected on the records themselves (raised: calls that raised, = not selected):"
    )
    rows = []
    tools = ("catalogql scalar", "catalogql columnar", "pygeofilter", "cql2", "polars")
    for r in results:
        row = [r["label"]]
        for k in tools:
            if k not in r["selected"]:
                row.append("n/a")
                continue
            raised = r["raised"][k]
            cell = f"{r['selected'][k]:,}" + (f" (raised {raised:,})" if raised else "")
            row.append(cell + ("" if r["same_records"][k] else " DIFFERENT"))
        tiled_counts = r["tiled_selected"]
        row.append(", ".join(f"{v:,}" for v in tiled_counts.values()))
        rows.append(row)
    print(report.table(["filter", *tools, f"tiled ({', '.join(tiled_counts)})"], rows))
    all_same = all(all(r["same_records"].values()) for r in results) and all(
        len(set(r["tiled_selected"].values())) == 1 for r in results
    )
    print("Every tool selects the same records:", "yes" if all_same else "NO")

    held = memory(records)
    print(
        f"\nPropertyColumns.nbytes(): {held['nbytes_per_record']:,.0f} bytes per record "
        f"(the properties as compact JSON text: {held['json_bytes_per_record']:,.0f} bytes)"
    )
    return {
        "records": len(records),
        "tiled_rows": tiled,
        "filters": results,
        "same_records": all_same,
        "memory": held,
    }


def main(argv: list[str] | None = None) -> int:
    """``python -m benchmarks.filter [--quick]``: this section alone."""
    from benchmarks.records import DEFAULT_RECORDS, load

    args = sys.argv[1:] if argv is None else argv
    records = load(DEFAULT_RECORDS)
    if records is None:
        return 0
    result = run(QUICK if "--quick" in args else FULL, records)
    return 0 if result["same_records"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
