"""Text to AST: the Lark parser, the error hierarchy and the diagnostics of ``check``."""

from catalogql.syntax.diagnostics import check
from catalogql.syntax.errors import (
    CatalogqlError,
    Diagnostic,
    Inexpressible,
    QueryError,
    QueryLimitError,
    QuerySyntaxError,
    QueryValidationError,
)
from catalogql.syntax.parser import Limits, QueryWarning, parse_filter, parse_types

__all__ = [
    "CatalogqlError",
    "Diagnostic",
    "Inexpressible",
    "Limits",
    "QueryError",
    "QueryLimitError",
    "QuerySyntaxError",
    "QueryValidationError",
    "QueryWarning",
    "check",
    "parse_filter",
    "parse_types",
]
