"""The targets of ``catalogql compile --to``: each back end as a function to printable text.

The SQL targets print the SQL, its parameters, and the helper functions it calls (if any) as
SQL comment lines (``-- parameters: ...``, ``-- needs: ...``), so the output pastes as it is.

One registry for every front end that offers a choice of target (the CLI's ``compile --to``, an
HTTP route): a target name maps to a :data:`Compiler`, which takes the parsed expression and the
queryables schema (or None). SQLAlchemy is imported only when an SQL target runs, and pygeofilter
only when the ``pygeofilter`` target runs.

>>> from catalogql import parse_filter
>>> sorted(COMPILERS)
['cql2-json', 'cql2-text', 'gbdx', 'pygeofilter', 'sql', 'sql-postgresql']
>>> COMPILERS["cql2-text"](parse_filter("sensorPlatformName = WORLDVIEW03*"), None)
"sensorPlatformName LIKE 'WORLDVIEW03%'"
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from catalogql.ast import Node
from catalogql.compile.cql2 import to_cql2_json, to_cql2_text
from catalogql.compile.gbdx import to_gbdx
from catalogql.compile.pygeofilter import to_pygeofilter

if TYPE_CHECKING:
    from catalogql.compile.sql import SQLDialect

__all__ = ["COMPILERS", "Compiler", "Schema"]

Schema = dict[str, Any]
"""A queryables JSON Schema, as parsed JSON."""

Compiler = Callable[[Node, Schema | None], str]
"""A ``compile --to`` target: the parsed expression and the schema (or None) to printable text."""


def _gbdx(node: Node, schema: Schema | None) -> str:
    return to_gbdx(node)


def _sql(dialect: SQLDialect) -> Compiler:
    def compile_sql(node: Node, schema: Schema | None) -> str:
        from catalogql.compile.sql import needed_functions, to_sql  # SQLAlchemy: when asked for

        sql, params = to_sql(node, dialect, schema)
        text = f"{sql}\n-- parameters: {json.dumps(params, ensure_ascii=False)}"
        needs = needed_functions(sql)
        if needs and dialect == "postgresql":
            how = "catalogql compile --to sql-postgresql --functions prints the CREATE FUNCTION"
            text += f"\n-- needs: {', '.join(needs)} ({how})"
        elif needs:
            how = "Python functions: catalogql.install_functions(connection) creates them"
            text += f"\n-- needs: {', '.join(needs)} ({how})"
        return text

    return compile_sql


def _cql2_text(node: Node, schema: Schema | None) -> str:
    return to_cql2_text(node, schema)


def _cql2_json(node: Node, schema: Schema | None) -> str:
    return json.dumps(to_cql2_json(node, schema), indent=2, ensure_ascii=False)


def _pygeofilter(node: Node, schema: Schema | None) -> str:
    return repr(to_pygeofilter(node, schema))


COMPILERS: dict[str, Compiler] = {
    "sql": _sql("sqlite"),
    "sql-postgresql": _sql("postgresql"),
    "cql2-text": _cql2_text,
    "cql2-json": _cql2_json,
    "gbdx": _gbdx,
    "pygeofilter": _pygeofilter,
}
"""The targets of ``compile --to``; a new back end is one more entry here."""
