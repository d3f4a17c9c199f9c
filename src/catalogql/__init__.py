"""catalogql: query satellite-imagery catalogs.

GBDX-style filter strings and type expressions are parsed into one typed AST and compiled to
in-memory predicates, SQL (SQLite and PostgreSQL, through SQLAlchemy), OGC CQL2 (text and JSON),
canonical GBDX text and pygeofilter's AST, all with the same meaning.

>>> import catalogql as cq
>>> node = cq.parse_filter("sensorPlatformName = WORLDVIEW03* AND cloudCover < 20")
>>> cq.compile_predicate(node)({"sensorPlatformName": "WORLDVIEW03_SWIR", "cloudCover": 3})
True
>>> cq.to_gbdx(node)
'sensorPlatformName = WORLDVIEW03* AND cloudCover < 20'
>>> cq.to_cql2_text(node)
"sensorPlatformName LIKE 'WORLDVIEW03%' AND cloudCover < 20"
"""

from typing import TYPE_CHECKING, Any

from catalogql import ast
from catalogql import compile as _compile
from catalogql.compile.cql2 import to_cql2_json, to_cql2_text
from catalogql.compile.gbdx import to_gbdx
from catalogql.compile.predicate import compile_predicate, compile_types
from catalogql.compile.pygeofilter import to_pygeofilter
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

if TYPE_CHECKING:
    from catalogql.compile.sql import Layout, to_sql, to_sqlalchemy

__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    if name in _compile.LAZY:  # the SQL names, which load SQLAlchemy on first use
        return getattr(_compile, name)
    raise AttributeError(f"module 'catalogql' has no attribute {name!r}")


__all__ = [
    "CatalogqlError",
    "Diagnostic",
    "Layout",
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
    "to_cql2_json",
    "to_cql2_text",
    "to_gbdx",
    "to_pygeofilter",
    "to_sql",
    "to_sqlalchemy",
]
