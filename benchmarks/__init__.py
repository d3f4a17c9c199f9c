"""Side-by-side benchmarks of catalogql and its peers (pygeofilter, cql2): ``python -m benchmarks``.

Sections: import and first-use cost (fresh interpreters), parsing the SPEC's example filters,
lark_cython against pure-Python Lark, predicate evaluation over the real GBDX records, and
closures against generated code for predicates (``benchmarks/predicate_codegen.py``). Figures are
medians of per-call times over interleaved rounds, after calibration and a warm-up round.
"""
