"""catalogql: query satellite-imagery catalogs.

GBDX-style filter strings and type expressions are parsed into one typed AST and compiled to
in-memory predicates and canonical GBDX text (SQL, CQL2 and pygeofilter follow).

>>> import catalogql as cq
>>> node = cq.parse_filter("sensorPlatformName = WORLDVIEW03* AND cloudCover < 20")
>>> cq.compile_predicate(node)({"sensorPlatformName": "WORLDVIEW03_SWIR", "cloudCover": 3})
True
>>> cq.to_gbdx(node)
'sensorPlatformName = WORLDVIEW03* AND cloudCover < 20'
"""

from catalogql import ast
from catalogql.compile.gbdx import to_gbdx
from catalogql.compile.predicate import compile_predicate, compile_types
from catalogql.semantics import infer_queryables
from catalogql.syntax.diagnostics import check
from catalogql.syntax.errors import (
    CatalogqlError,
    Diagnostic,
    QueryError,
    QueryLimitError,
    QuerySyntaxError,
    QueryValidationError,
)
from catalogql.syntax.parser import Limits, QueryWarning, parse_filter, parse_types

__version__ = "0.1.0"

__all__ = [
    "CatalogqlError",
    "Diagnostic",
    "Limits",
    "QueryError",
    "QueryLimitError",
    "QuerySyntaxError",
    "QueryValidationError",
    "QueryWarning",
    "ast",
    "check",
    "compile_predicate",
    "compile_types",
    "infer_queryables",
    "parse_filter",
    "parse_types",
    "to_gbdx",
]
