"""Back ends: one module per target, each one small function per node kind.

* :mod:`catalogql.compile.predicate`: in-memory Python predicates (filters and type expressions).
* :mod:`catalogql.compile.gbdx`: canonical GBDX filter text.
* :mod:`catalogql.compile.sql`: SQL through SQLAlchemy Core (SQLite JSON1, PostgreSQL JSONB).
* :mod:`catalogql.compile.cql2`: OGC CQL2 text and JSON.
* :mod:`catalogql.compile.pygeofilter`: pygeofilter's AST (imports pygeofilter on first use).

Above the back ends:

* :mod:`catalogql.compile.parse`: :func:`catalogql.parse_filter`, the parser's result plus each
  warning's canonical rewrite and a queryables schema's findings.
* :mod:`catalogql.compile.diagnostics`: :func:`catalogql.check`, the same findings as data.
* :mod:`catalogql.compile.targets`: the registry of targets by name (``compile --to``).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from catalogql.compile.cql2 import to_cql2_json, to_cql2_text
from catalogql.compile.gbdx import to_gbdx
from catalogql.compile.predicate import compile_predicate, compile_types
from catalogql.compile.pygeofilter import to_pygeofilter

if TYPE_CHECKING:
    from catalogql.compile.sql import (
        Layout,
        functions_sql,
        install_functions,
        needed_functions,
        to_sql,
        to_sqlalchemy,
    )

LAZY = frozenset(
    {"Layout", "functions_sql", "install_functions", "needed_functions", "to_sql", "to_sqlalchemy"}
)
"""Names of :mod:`catalogql.compile.sql`, which imports SQLAlchemy (about 0.3 s): loaded on first
use, here and in :mod:`catalogql`."""


def __getattr__(name: str) -> Any:
    if name in LAZY:
        return getattr(importlib.import_module("catalogql.compile.sql"), name)
    raise AttributeError(f"module 'catalogql.compile' has no attribute {name!r}")


__all__ = [
    "Layout",
    "compile_predicate",
    "compile_types",
    "functions_sql",
    "install_functions",
    "needed_functions",
    "to_cql2_json",
    "to_cql2_text",
    "to_gbdx",
    "to_pygeofilter",
    "to_sql",
    "to_sqlalchemy",
]
