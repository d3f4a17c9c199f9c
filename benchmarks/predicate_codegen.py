"""Experimental: predicates as generated Python source instead of closures.

Same three-valued semantics as ``catalogql.compile.predicate`` (SPEC section 4): NOT is pushed
down to the comparisons, and each comparison becomes an expression that is True when the
comparison is *definitely true* (positive) or *definitely false* (negative); a missing or null
property, or a value of another type, is neither. AND/OR above the leaves are then plain Python
``and``/``or``. The difference is only in how the leaves run:

* closures: ``is_(props)`` calls ``get(props)`` and the comparator closure from
  ``catalogql.semantics`` (a few Python calls per comparison);
* generated code: one function whose leaves are inline expressions. Without a schema, the common
  cases are inlined - an int/float value against a number literal, a string against a text
  literal, a string against a wildcard regex - and every other case (lists, booleans, dates,
  mismatched types, schema-typed properties) calls the very comparator closure that
  ``compile_predicate`` uses, bound as a free variable of the generated function.

For ``cloudCover < 20`` (positive) the generated leaf is::

    ((v0 < 20) if (t0 := type(v0 := p.get('cloudCover'))) is int or t0 is float
     else (v0 < '20') if t0 is str else v0 is not None and S0(v0))

(a wildcard or a text literal tests for a string first).

This is a benchmark, not part of the library: ``run`` checks it selects exactly what
``compile_predicate`` selects and times both.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import catalogql
from benchmarks import report
from benchmarks.filters import CODEGEN_CHECKED, CODEGEN_TIMED, TYPICAL
from benchmarks.predicate import over_records
from benchmarks.timing import Config, Contestant, measure, paired_ratio, repeat_thunk
from catalogql.ast import And, Comparison, Match, Node, Not, Op, Or
from catalogql.semantics import (
    Tri,
    is_datetime_name,
    literal_number,
    match_comparator,
    pattern_regex,
    property_getter,
    property_type,
    scalar_comparator,
)
from catalogql.syntax.errors import QueryError

Predicate = Callable[[Mapping[str, Any]], bool]

_PY_OPS = {Op.EQ: "==", Op.NE: "!=", Op.LT: "<", Op.LE: "<=", Op.GT: ">", Op.GE: ">="}


def _not_tri(value: Tri) -> Tri:
    return None if value is None else not value


def _slow(scalar: Callable[[Any], Tri], wanted: bool) -> Callable[[Any], bool]:
    """The closure path for the values the generated code does not inline."""

    def slow(value: Any) -> bool:
        if type(value) is list:
            return any(scalar(v) is True for v in value) is wanted
        return scalar(value) is wanted

    return slow


def _literal_source(value: object) -> str:
    """Source for an int, a finite float or a str that reads back as the same value."""
    text = repr(value)
    assert eval(text) == value  # our own repr of a number or a string
    return text


class _Generator:
    def __init__(self, schema: Mapping[str, Any] | None) -> None:
        self.schema = schema
        self.free: dict[str, Any] = {}
        self.leaves = 0

    def bind(self, prefix: str, value: Any) -> str:
        name = f"{prefix}{len(self.free)}"
        self.free[name] = value
        return name

    def expr(self, node: Node, positive: bool) -> str:
        while isinstance(node, Not):
            node, positive = node.item, not positive
        if isinstance(node, And | Or):
            joiner = " and " if isinstance(node, And) == positive else " or "
            return "(" + joiner.join(self.expr(item, positive) for item in node.items) + ")"
        if isinstance(node, Comparison | Match):
            return self.leaf(node, positive)
        raise QueryError(f"not a filter node: {type(node).__name__}", code="compile.not-a-filter")

    def leaf(self, node: Comparison | Match, positive: bool) -> str:
        k = self.leaves
        self.leaves += 1
        v, t = f"v{k}", f"t{k}"
        declared = property_type(self.schema, node.property)
        if isinstance(node, Comparison):
            scalar = scalar_comparator(node.property, node.op, node.value, declared)
        else:
            matcher = match_comparator(node.pattern, declared)
            scalar = (lambda value: _not_tri(matcher(value))) if node.negated else matcher
        slow = self.bind("S", _slow(scalar, positive))
        if "." in node.property:  # a dotted path: the library's getter
            read = f"{self.bind('G', property_getter(node.property))}(p)"
        else:
            read = f"p.get({node.property!r})"  # a method call: no bound-method object
        fallback = f"{v} is not None and {slow}({v})"
        if declared is not None:  # schema-typed: the comparator decides everything
            return f"(({v} := {read}) is not None and {slow}({v}))"
        number_branch, text_branch = self.inline(node, positive, v, slow)
        if isinstance(node, Match) or literal_number(node.value) is None:  # text first
            return (
                f"({text_branch} if ({t} := type({v} := {read})) is str "
                f"else {number_branch} if {t} is int or {t} is float else {fallback})"
            )
        return (
            f"({number_branch} if ({t} := type({v} := {read})) is int or {t} is float "
            f"else {text_branch} if {t} is str else {fallback})"
        )

    def inline(
        self, node: Comparison | Match, positive: bool, v: str, slow: str
    ) -> tuple[str, str]:
        """The expressions for a number value and for a string value."""
        if isinstance(node, Match):
            fullmatch = self.bind("R", pattern_regex(node.pattern).fullmatch)
            # the comparison is true when (matched != negated); we want it to equal `positive`
            test = "is not None" if positive != node.negated else "is None"
            return f"{slow}({v})", f"{fullmatch}({v}) {test}"
        op = _PY_OPS[node.op]
        neg = "" if positive else "not "
        number = literal_number(node.value)
        if number is None or (isinstance(number, float) and not math.isfinite(number)):
            number_branch = "False"  # a number against text that is not a number: unknown
        else:
            number_branch = f"({neg}{v} {op} {_literal_source(number)})"
        if is_datetime_name(node.property):
            text_branch = f"{slow}({v})"  # instants: parse_instant in the comparator
        else:
            text_branch = f"({neg}{v} {op} {_literal_source(node.value.text)})"
        return number_branch, text_branch


def generate(node: Node, schema: Mapping[str, Any] | None = None) -> tuple[str, dict[str, Any]]:
    """The source of a factory whose free variables are the returned constants."""
    gen = _Generator(schema)
    body = gen.expr(node, positive=True)
    params = ", ".join(gen.free)
    source = (
        f"def make({params}):\n    def predicate(p):\n        return {body}\n    return predicate\n"
    )
    return source, gen.free


def compile_predicate_codegen(node: Node, schema: Mapping[str, Any] | None = None) -> Predicate:
    source, free = generate(node, schema)
    namespace: dict[str, Any] = {}
    exec(compile(source, "<catalogql predicate>", "exec"), namespace)
    predicate: Predicate = namespace["make"](**free)
    return predicate


# --------------------------------------------------------------------------------------------
# The benchmark

_ODD_RECORDS: list[dict[str, Any]] = [
    {},
    {"cloudCover": None, "offNadirAngle": None, "sensorPlatformName": None},
    {"cloudCover": "12", "offNadirAngle": "5", "sensorPlatformName": 3},
    {"cloudCover": [5, 50], "offNadirAngle": [], "sensorPlatformName": ["WORLDVIEW03_VNIR", 1]},
    {"cloudCover": True, "offNadirAngle": False, "flag": True, "tags": ["x", "y1"]},
    {"cloudCover": float("nan"), "offNadirAngle": 9.99, "n": 1, "flag": "false"},
    {"cloudCover": 19.5, "offNadirAngle": 10, "n": 2.5, "tags": "y"},
    {"cloudCover": {"a": 1}, "a": {"b": 1}, "n": 12, "sensorPlatformName": "WORLDVIEW03"},
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
            closures = catalogql.compile_predicate(node, sch)
            generated = compile_predicate_codegen(node, sch)
            selected = 0
            for props in sample:
                want = closures(props)
                got = generated(props)
                assert got is want, (text + label, props, want, got)
                selected += want
            checked.append((text + label, selected, len(sample)))
    return checked


def run(config: Config, records: list[dict[str, Any]]) -> dict[str, Any]:
    print(report.section("Predicates: closures (compile_predicate) against generated code"))
    checked = verify(records)
    n_filters = len(checked)
    print(
        f"checked: {n_filters} filter/schema combinations x {len(records) + len(_ODD_RECORDS):,}"
        f" records ({len(records):,} real + {len(_ODD_RECORDS)} odd-typed): the generated code"
        " selects exactly what compile_predicate selects."
    )
    results = []
    for label, text in CODEGEN_TIMED:
        node = catalogql.parse_filter(text)
        closures = catalogql.compile_predicate(node)
        generated = compile_predicate_codegen(node)
        stats = measure(
            [
                Contestant("closures", over_records(closures, records), len(records)),
                Contestant("codegen", over_records(generated, records), len(records)),
            ],
            config,
        )
        build = measure(
            [
                Contestant("closures", repeat_thunk(lambda n=node: catalogql.compile_predicate(n))),
                Contestant("codegen", repeat_thunk(lambda n=node: compile_predicate_codegen(n))),
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
        breakeven = (cb["codegen"] - cb["closures"]) / saved if saved > 0 else None
        rows.append(
            [
                r["label"],
                f"{r['selected']:,}",
                report.pair(e["closures"], eb["closures"], report.ns),
                report.pair(e["codegen"], eb["codegen"], report.ns),
                f"{r['speedup']:.2f}x",
                report.pair(c["closures"], cb["closures"], report.us),
                report.pair(c["codegen"], cb["codegen"], report.us),
                "never" if breakeven is None else f"{breakeven:,.0f}",
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
                "codegen compile µs",
                "break-even",
            ],
            rows,
        )
    )
    print(
        "Cells: median / best round, over the real records in the same guarded loop as above;\n"
        "speed-up: median of per-round ratios. compile = AST -> callable. break-even: records a\n"
        "filter must be run on before codegen's extra compile time is repaid (best rounds)."
    )
    for label, text in CODEGEN_TIMED:
        print(f"  {label:<10} {text}")
    source, _ = generate(catalogql.parse_filter(TYPICAL.gbdx))
    print("\nGenerated source for the typical filter:\n" + source.rstrip())
    return {"checked": checked, "filters": results}
