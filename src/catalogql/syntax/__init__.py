"""Text to AST: the Lark parser and the error hierarchy.

What needs the layers above (a warning's canonical rewrite, a queryables schema's findings) is
added by :mod:`catalogql.compile.parse`: :func:`catalogql.parse_filter` and
:func:`catalogql.check`.
"""

from catalogql.syntax.errors import (
    CatalogqlError,
    Diagnostic,
    Inexpressible,
    QueryError,
    QueryLimitError,
    QuerySyntaxError,
    QueryValidationError,
)
from catalogql.syntax.parser import Limits, QueryWarning, parse_filter_syntax, parse_types

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
    "parse_filter_syntax",
    "parse_types",
]
