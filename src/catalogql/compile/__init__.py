"""Back ends: one module per target, each one small function per node kind.

* :mod:`catalogql.compile.predicate`: in-memory Python predicates (filters and type expressions).
* :mod:`catalogql.compile.gbdx`: canonical GBDX filter text.
"""

from catalogql.compile.gbdx import to_gbdx
from catalogql.compile.predicate import compile_predicate, compile_types

__all__ = ["compile_predicate", "compile_types", "to_gbdx"]
