"""Parsing: catalogql against pygeofilter and cql2, and lark_cython against pure-Python Lark."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import catalogql
from benchmarks import report
from benchmarks.filters import PARSE_FILTERS
from benchmarks.timing import (
    Config,
    Contestant,
    geomean,
    measure,
    paired_ratio,
    repeat_call,
    time_once_ns,
)
from catalogql.syntax import parser as cq_parser


def load_peers() -> tuple[Callable[[str], Any] | None, Callable[[str], Any] | None]:
    try:
        from pygeofilter.parsers.cql2_text import parse as pgf_parse
    except ImportError:
        pgf_parse = None
    # Importing cql2_text sets lark's global logger to DEBUG, which would tax catalogql's Lark.
    logging.getLogger("lark").setLevel(logging.WARNING)
    try:
        import cql2

        cql2_parse = cql2.parse_text
    except ImportError:
        cql2_parse = None
    return pgf_parse, cql2_parse


def _front_end(plugins: dict[str, Any] | None) -> Callable[[str], Any]:
    """A filter parser as catalogql builds it, with or without the lark_cython plugins."""
    return cq_parser.build_front_end("filter", plugins)


def cold_parse(text: str) -> Any:
    """catalogql.parse_filter with its parse cache emptied first: every call parses for real."""
    cq_parser.clear_cache()
    return catalogql.parse_filter(text)


def _raw_parse(parse: Callable[[str], Any]) -> Callable[[str], Any]:
    """Lark's parse alone, with the per-parse context set the way catalogql's ``_parse`` does."""
    context_var = cq_parser._CONTEXT

    def run(text: str) -> Any:
        token = context_var.set((text, "default", []))
        try:
            return parse(text)
        finally:
            context_var.reset(token)

    return run


_RATIOS = (
    ("pygeofilter", "catalogql"),
    ("cql2", "catalogql"),
    ("lark_python", "lark_cython"),
)


def _fmt_ratio(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}x"


def run(config: Config) -> dict[str, Any]:
    print(report.section("Parsing (µs per parse, median of the rounds)"))
    pgf_parse, cql2_parse = load_peers()
    plugins = cq_parser._PLUGINS
    build_runs = 3 if config.quick else 7
    raw_python = _raw_parse(_front_end(None))
    python_build = time_once_ns(lambda: _front_end(None), build_runs)
    raw_cython = _raw_parse(_front_end(plugins)) if plugins else None
    cython_build = time_once_ns(lambda: _front_end(plugins), build_runs) if plugins else None

    results: list[dict[str, Any]] = []
    for f in PARSE_FILTERS:
        node = catalogql.parse_filter(f.gbdx)
        contestants = [
            Contestant("catalogql", repeat_call(cold_parse, f.gbdx)),
            Contestant("catalogql_cached", repeat_call(catalogql.parse_filter, f.gbdx)),
        ]
        assert raw_python(f.gbdx) == node, f.gbdx
        contestants.append(Contestant("lark_python", repeat_call(raw_python, f.gbdx)))
        if raw_cython is not None:
            assert raw_cython(f.gbdx) == node, f.gbdx
            contestants.append(Contestant("lark_cython", repeat_call(raw_cython, f.gbdx)))
        if pgf_parse is not None:
            pgf_parse(f.cql2)
            contestants.append(Contestant("pygeofilter", repeat_call(pgf_parse, f.cql2)))
        if cql2_parse is not None:
            cql2_parse(f.cql2)
            contestants.append(Contestant("cql2", repeat_call(cql2_parse, f.cql2)))
        stats = measure(contestants, config)
        results.append(
            {
                "label": f.label,
                "gbdx": f.gbdx,
                "cql2": f.cql2,
                "stats": {k: v.as_dict() for k, v in stats.items()},
                "median_ns": {k: v.median for k, v in stats.items()},
                "min_ns": {k: v.low for k, v in stats.items()},
                "ratio": {
                    f"{a}/{b}": paired_ratio(stats[a], stats[b])
                    for a, b in _RATIOS
                    if a in stats and b in stats
                },
            }
        )

    def med(r: dict[str, Any], key: str) -> float:
        value: float = r["median_ns"].get(key, float("nan"))
        return value

    def rat(r: dict[str, Any], key: str) -> float | None:
        value: float | None = r["ratio"].get(key)
        return value

    def gm_ratio(key: str) -> float | None:
        values = [rat(r, key) for r in results]
        return None if None in values else geomean(values)  # type: ignore[arg-type]

    def best(r: dict[str, Any], key: str) -> float:
        value: float = r["min_ns"].get(key, float("nan"))
        return value

    def cell(r: dict[str, Any], key: str) -> str:
        return report.pair(med(r, key), best(r, key), report.us)

    names = ("catalogql", "catalogql_cached", "pygeofilter", "cql2", "lark_python", "lark_cython")
    gm = {k: geomean([med(r, k) for r in results]) for k in names}
    gm_best = {k: geomean([best(r, k) for r in results]) for k in names}
    summary_row = {"label": "geometric mean", "median_ns": gm, "min_ns": gm_best}

    rows = []
    for r in [*results, summary_row]:
        ratios = (
            [rat(r, k) for k in ("pygeofilter/catalogql", "cql2/catalogql")]
            if "ratio" in r
            else [gm_ratio("pygeofilter/catalogql"), gm_ratio("cql2/catalogql")]
        )
        rows.append(
            [r["label"], cell(r, "catalogql"), cell(r, "pygeofilter"), cell(r, "cql2")]
            + [_fmt_ratio(x) for x in ratios]
        )
    print(report.table(["filter", "catalogql", "pygeofilter", "cql2", "pgf/cq", "cql2/cq"], rows))
    print(
        "Cells: median / best round. Ratios: the median of the per-round ratios (both timed in\n"
        "the same round); above 1x, catalogql is faster. catalogql's figures are cold parses\n"
        "(its parse cache emptied before each call). The peers parse the CQL2-text\n"
        "equivalents (LIKE '..%', quoted values, TIMESTAMP('...')):"
    )
    cached = summary_row["median_ns"]["catalogql_cached"]
    print(
        f"A filter parsed before comes from catalogql's parse cache: {report.us(cached)} µs"
        " (geometric mean)."
    )
    for r in results:
        print(f"  {r['label']:<24} {r['gbdx']}")
        print(f"  {'':<24} {r['cql2']}")

    print(report.section("catalogql front ends: lark_cython against pure-Python Lark (µs)"))
    rows = []
    for r in [*results, summary_row]:
        key = "lark_python/lark_cython"
        speedup = rat(r, key) if "ratio" in r else gm_ratio(key)
        rows.append(
            [
                r["label"],
                cell(r, "catalogql"),
                cell(r, "lark_cython"),
                cell(r, "lark_python"),
                _fmt_ratio(speedup),
            ]
        )
    print(
        report.table(
            ["filter", "parse_filter", "lark_cython", "pure Python", "python/cython"],
            rows,
        )
    )
    build_py = min(python_build)
    build_cy = min(cython_build) if cython_build else float("nan")
    print(
        "lark_cython and pure Python: the front end alone (context var set; no limits check,\n"
        "no warnings), the same grammar and reductions; parse_filter is the public call (with\n"
        "lark_cython).\n"
        f"Building the parser (best of {build_runs}): lark_cython {report.ms(build_cy)} ms, pure"
        f" Python {report.ms(build_py)} ms: the same LALR\n"
        "table construction, as the plugins replace only the lexer and the parser loop."
    )
    if plugins is None:
        print("lark_cython is not installed: its column is empty.")
    return {
        "filters": results,
        "geomean_ns": gm,
        "geomean_min_ns": gm_best,
        "geomean_ratio": {key: gm_ratio(key) for key in (f"{a}/{b}" for a, b in _RATIOS)},
        "parser_build_ns": {"lark_cython": cython_build, "lark_python": python_build},
        "peers": {"pygeofilter": pgf_parse is not None, "cql2": cql2_parse is not None},
    }
