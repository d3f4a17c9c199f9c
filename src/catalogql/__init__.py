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

The reference search engine runs GBDX searches over a memory, SQLite or PostgreSQL store:

>>> catalog = cq.open_catalog("memory://")
>>> catalog.add_records([{"identifier": "a", "type": ["WV03_VNIR"], "properties": {
...     "timestamp": "2016-01-01T00:00:00.000Z", "footprintWkt": "POLYGON((0 0,1 0,1 1,0 0))",
...     "sensorPlatformName": "WORLDVIEW03_VNIR", "cloudCover": 3}}])
1
>>> catalog.search({"filters": ["sensorPlatformName = WORLDVIEW03* AND cloudCover < 20"]})["stats"]
{'recordsReturned': 1, 'totalRecords': 1, 'typeCounts': {'GBDXCatalogRecord': 1, 'WV03_VNIR': 1}}
"""

from typing import TYPE_CHECKING, Any

from catalogql import ast
from catalogql import compile as _compile
from catalogql.compile.cql2 import to_cql2_json, to_cql2_text
from catalogql.compile.diagnostics import check
from catalogql.compile.gbdx import to_gbdx
from catalogql.compile.parse import parse_filter
from catalogql.compile.predicate import compile_predicate, compile_types
from catalogql.compile.pygeofilter import to_pygeofilter
from catalogql.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    Problem,
    TooLarge,
    Unauthorized,
    Unprocessable,
    UsageError,
    error_body,
)
from catalogql.queryables import infer_queryables
from catalogql.syntax.errors import (
    CatalogqlError,
    Diagnostic,
    Inexpressible,
    InexpressibleDepth,
    QueryError,
    QueryLimitError,
    QuerySyntaxError,
    QueryValidationError,
)
from catalogql.syntax.parser import Limits, QueryWarning, parse_types

if TYPE_CHECKING:
    from catalogql.compile.sql import (
        Layout,
        functions_sql,
        install_functions,
        needed_functions,
        to_sql,
        to_sqlalchemy,
    )
    from catalogql.search import (
        Catalog,
        CatalogError,
        CatalogNotFound,
        InvalidRecord,
        InvalidSearchRequest,
        RecordNotFound,
        RequestTooLarge,
        SearchRequest,
        open_catalog,
    )
    from catalogql.service import Principal, Service, open_service
    from catalogql.syntax.qexpr import QueryAlias, parse_query_expr, to_query_expr

_SEARCH = frozenset(
    {"Catalog", "CatalogError", "CatalogNotFound", "InvalidRecord", "InvalidSearchRequest",
     "RecordNotFound", "RequestTooLarge", "SearchRequest", "open_catalog"}
)  # fmt: skip
"""Names of :mod:`catalogql.search` (which imports shapely and the stores): loaded on first use."""

_QEXPR = frozenset({"QueryAlias", "parse_query_expr", "to_query_expr"})
"""Names of :mod:`catalogql.syntax.qexpr` (the Descartes ``q`` JSON): loaded on first use."""

_SERVICE = frozenset({"Principal", "Service", "open_service"})
"""Names of :mod:`catalogql.service` (the catalog service, over the stores): loaded on first use."""

__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    if name in _compile.LAZY:  # the SQL names, which load SQLAlchemy on first use
        return getattr(_compile, name)
    if name in _QEXPR:
        import catalogql.syntax.qexpr

        return getattr(catalogql.syntax.qexpr, name)
    if name in _SEARCH:
        import catalogql.search

        return getattr(catalogql.search, name)
    if name in _SERVICE:
        import catalogql.service

        return getattr(catalogql.service, name)
    raise AttributeError(f"module 'catalogql' has no attribute {name!r}")


def __dir__() -> list[str]:
    """The module's names, those loaded on first use included (for ``dir()`` and completion)."""
    return sorted({*globals(), *_compile.LAZY, *_SEARCH, *_QEXPR, *_SERVICE})


__all__ = [
    "Catalog",
    "CatalogError",
    "CatalogNotFound",
    "CatalogqlError",
    "Conflict",
    "Diagnostic",
    "Forbidden",
    "Inexpressible",
    "InexpressibleDepth",
    "InvalidInput",
    "InvalidRecord",
    "InvalidSearchRequest",
    "Layout",
    "Limits",
    "NotFound",
    "Principal",
    "Problem",
    "QueryAlias",
    "QueryError",
    "QueryLimitError",
    "QuerySyntaxError",
    "QueryValidationError",
    "QueryWarning",
    "RecordNotFound",
    "RequestTooLarge",
    "SearchRequest",
    "Service",
    "TooLarge",
    "Unauthorized",
    "Unprocessable",
    "UsageError",
    "ast",
    "check",
    "compile_predicate",
    "compile_types",
    "error_body",
    "functions_sql",
    "infer_queryables",
    "install_functions",
    "needed_functions",
    "open_catalog",
    "open_service",
    "parse_filter",
    "parse_query_expr",
    "parse_types",
    "to_cql2_json",
    "to_cql2_text",
    "to_gbdx",
    "to_pygeofilter",
    "to_query_expr",
    "to_sql",
    "to_sqlalchemy",
]
