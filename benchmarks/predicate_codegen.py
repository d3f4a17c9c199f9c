"""catalogql's two predicate compilers against each other: closures and generated code.

``compile_predicate`` compiles a filter to one generated Python function (inline type dispatch,
NOT pushed down to the comparisons; see ``catalogql.compile.predicate``) unless the tree is
deeper than ``MAX_GENERATED_DEPTH`` levels of AND/OR or has more than ``MAX_GENERATED_LEAVES``
comparisons; those compile to closures (``_compile_closures``), one per node. This section
checks, record for record, that both select the same records, and times both: evaluation over the
real records, and the cost of compiling.

Compiling generated code has three prices: *cold* (nothing cached: the source is generated and
compiled by CPython), *same shape* (a filter that differs from one compiled before only in its
property names and literals: the compiled code is reused, only the constants are bound afresh) and
*cached* (an equal filter compiled before, with the same declared types: ``compile_predicate``
returns the same function).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import catalogql
from benchmarks import report
from benchmarks.filters import CODEGEN_CHECKED, CODEGEN_TIMED, TYPICAL
from benchmarks.predicate import cold, over_records
from benchmarks.timing import Config, Contestant, measure, paired_ratio, repeat_thunk
from catalogql.compile import predicate as compiler

Predicate = Callable[[Mapping[str, Any]], bool]

_ODD_RECORDS: list[dict[str, Any]] = [
    {},
    {"cloudCover": None, "offNadirAngle": None, "sensorPlatformName": None},
    {"cloudCover": "12", "offNadirAngle": "5", "sensorPlatformName": 3},
    {"cloudCover": [5, 50], "offNadirAngle": [], "sensorPlatformName": ["WORLDVIEW03_VNIR", 1]},
    {"cloudCover": [None, 50], "offNadirAngle": [None], "sensorPlatformName": [None, "x"]},
    {"cloudCover": True, "offNadirAngle": False, "flag": True, "tags": ["x", "y1"]},
    {"cloudCover": float("nan"), "offNadirAngle": 9.99, "n": 1, "flag": "false"},
    {"cloudCover": 19.5, "offNadirAngle": 10, "n": 2.5, "tags": "y"},
    {"cloudCover": {"a": 1}, "a": {"b": 1}, "n": 12, "sensorPlatformName": "WORLDVIEW03"},
    {"sensorPlatformName": "WORLDVIEW04", "cloudCover": 10**30},
    {"sensorPlatformName": "WORLDVIEW03\n", "cloudCover": -0.0, "offNadirAngle": float("-inf")},
    {"a.b": "xyz", "catalogID": 1050010018826700, "timestamp": "not a date"},
    {"catalogID": 1030010045539700, "timestamp": "2016-01-01", "sunElevation": 25},
    {"catalogID": "1050010", "timestamp": ["2009-01-01T00:00:00Z", "2017-01-01T00:00:00Z"]},
    {"stereoPair": "x", "bearing": 100.0, "path": 44, "row": 39.5, "vendor": "DigitalGlobe"},
    {"multiResolution": 2, "acquisitionDate": "2017-06-01T10:00:00+02:00", "platformName": "WV"},
]


def verify(records: list[dict[str, Any]]) -> list[tuple[str, int, int]]:
    """(filter, selected, records checked) for every filter, schema-less and with a schema.

    Raises AssertionError on the first record where the two compilers disagree.
    """
    sample = records + _ODD_RECORDS
    schema = catalogql.infer_queryables(records)
    checked: list[tuple[str, int, int]] = []
    texts = [text for _, text in CODEGEN_TIMED] + list(CODEGEN_CHECKED)
    for text in texts:
        node = catalogql.parse_filter(text)
        for label, sch in (("", None), (" [schema]", schema)):
            closures = compiler._compile_closures(node, sch)
            generated = compiler._compile_generated(node, sch)
            selected = 0
            for props in sample:
                want = closures(props)
                got = generated(props)
                assert got is want, (text + label, props, want, got)
                selected += want
            checked.append((text + label, selected, len(sample)))
    return checked


def run(config: Config, records: list[dict[str, Any]]) -> dict[str, Any]:
    print(report.section("Predicates: closures against generated code (compile_predicate)"))
    checked = verify(records)
    n_filters = len(checked)
    print(
        f"checked: {n_filters} filter/schema combinations x {len(records) + len(_ODD_RECORDS):,}"
        f" records ({len(records):,} real + {len(_ODD_RECORDS)} odd-typed): the generated code"
        " selects exactly what the closures select."
    )
    results = []
    for label, text in CODEGEN_TIMED:
        node = catalogql.parse_filter(text)
        closures = compiler._compile_closures(node)
        generated = catalogql.compile_predicate(node)
        assert generated.__code__.co_filename == compiler._FILENAME  # type: ignore[attr-defined]
        stats = measure(
            [
                Contestant("closures", over_records(closures, records), len(records)),
                Contestant("codegen", over_records(generated, records), len(records)),
            ],
            config,
        )
        build = measure(
            [
                Contestant("closures", repeat_thunk(lambda n=node: compiler._compile_closures(n))),
                Contestant("codegen", repeat_thunk(lambda n=node: cold(n))),
                Contestant(
                    "codegen, same shape",
                    repeat_thunk(lambda n=node: compiler._compile_generated(n)),
                ),
                Contestant(
                    "codegen, cached", repeat_thunk(lambda n=node: catalogql.compile_predicate(n))
                ),
            ],
            config,
        )
        selected = sum(map(closures, records))
        results.append(
            {
                "label": label,
                "filter": text,
                "selected": selected,
                "eval_median_ns": {k: v.median for k, v in stats.items()},
                "eval_min_ns": {k: v.low for k, v in stats.items()},
                "compile_median_ns": {k: v.median for k, v in build.items()},
                "compile_min_ns": {k: v.low for k, v in build.items()},
                "speedup": paired_ratio(stats["closures"], stats["codegen"]),
                "stats": {k: v.as_dict() for k, v in stats.items()},
            }
        )
    rows = []
    for r in results:
        e, eb = r["eval_median_ns"], r["eval_min_ns"]
        c, cb = r["compile_median_ns"], r["compile_min_ns"]
        # from the best rounds: the steadiest figures on a throttled machine
        saved = eb["closures"] - eb["codegen"]
        breakeven = {
            kind: (cb[kind] - cb["closures"]) / saved if saved > 0 else None
            for kind in ("codegen", "codegen, same shape")
        }
        rows.append(
            [
                r["label"],
                f"{r['selected']:,}",
                report.pair(e["closures"], eb["closures"], report.ns),
                report.pair(e["codegen"], eb["codegen"], report.ns),
                f"{r['speedup']:.2f}x",
                report.pair(c["closures"], cb["closures"], report.us),
                report.pair(c["codegen"], cb["codegen"], report.us),
                report.pair(c["codegen, same shape"], cb["codegen, same shape"], report.us),
                report.pair(c["codegen, cached"], cb["codegen, cached"], report.us),
                " / ".join(
                    "never" if b is None else f"{max(b, 0):,.0f}" for b in breakeven.values()
                ),
            ]
        )
        r["breakeven_records"] = breakeven
    print(
        report.table(
            [
                "filter",
                "selected",
                "closures ns/rec",
                "codegen ns/rec",
                "speed-up",
                "closures compile µs",
                "codegen cold µs",
                "same shape µs",
                "cached µs",
                "break-even",
            ],
            rows,
        )
    )
    print(
        "Cells: median / best round, over the real records in the same guarded loop as above;\n"
        "speed-up: median of per-round ratios. compile = AST -> callable: cold (source generated\n"
        "and compiled), same shape (another filter of this shape compiled before: only the\n"
        "constants are bound), cached (this filter compiled before). break-even: records a filter\n"
        "must run on before codegen's extra compile time is repaid, cold / same shape (best\n"
        "rounds)."
    )
    for label, text in CODEGEN_TIMED:
        print(f"  {label:<10} {text}")
    typical = catalogql.compile_predicate(catalogql.parse_filter(TYPICAL.gbdx))
    print("\nGenerated source for the typical filter:\n" + str(typical.__doc__).rstrip())
    return {"checked": checked, "filters": results}
