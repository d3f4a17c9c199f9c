"""Golden SQL: one line per fact, input filter to the exact SQL and parameters, per dialect.

``tests/corpus/sql.tsv`` holds one case a line, tab-separated:
``kind  input  dialect  schema  sql  params``, where ``kind`` is ``filter`` or ``types``, ``schema``
names one of :data:`SCHEMAS`, ``sql`` is :func:`~catalogql.compile.sql.to_sql`'s text with
backslashes, tabs and line breaks escaped (``\\\\``, ``\\t``, ``\\n``), and ``params`` its
parameters as JSON. The corpus was written from the compiler's output and pins it byte for byte:
a refactoring of the compiler must leave every line as it is.

To regenerate it on purpose (after a change meant to alter the SQL)::

    PYTHONPATH=src python tests/test_sql_golden.py --regenerate

then review ``git diff tests/corpus/sql.tsv`` line by line: every changed line is a change in the
SQL that the stores run, and must be one you meant.
"""

from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path
from typing import Any

import pytest

import catalogql as cq
from catalogql.compile.sql import SQLDialect, to_sql

CORPUS = Path(__file__).parent / "corpus" / "sql.tsv"

SCHEMAS: dict[str, dict[str, Any] | None] = {
    "none": None,
    "typed": {
        "properties": {
            "cloudCover": {"type": "number"},
            "catalogID": {"type": "string"},
            "timestamp": {"type": "string", "format": "date-time"},
            "flag": {"type": "boolean"},
            "bands": {"type": "array", "items": {"type": "string"}},
        }
    },
}
"""The schemas a corpus line can name."""

HEADER = """\
# Golden SQL: kind, input, dialect, schema, to_sql's text, its parameters (JSON); tab-separated.
# In the SQL column, backslash, tab and line break are escaped as \\\\, \\t and \\n.
# Written from the compiler's output: regenerate only on purpose, then review the diff line by
# line (PYTHONPATH=src python tests/test_sql_golden.py --regenerate; see tests/test_sql_golden.py).
"""

FILTERS = [
    "cloudCover < 20",
    "cloudCover >= 10.5",
    "cloudCover = '0'",
    "cloudCover <> 0",
    "cloudCover > -1e3",
    "catalogID = 1050010018826700",
    "catalogID = 9223372036854775807",  # the largest integer SQL compares exactly
    "name = 'it''s'",
    "sensorPlatformName = WORLDVIEW03_VNIR",
    "sensorPlatformName <> WORLDVIEW03_VNIR",
    "sensorPlatformName <= 'WORLDVIEW'",
    "timestamp >= 2016-01-01",
    "acquisitionDate < '2015-07-31T12:07:17.5+02:00'",
    "timestamp = yesterday",
    "flag = true",
    "flag = 'true'",
    "flag <> FALSE",
    "flag < true",
    "catalogID = 1050010*",
    "sensorPlatformName <> WORLDVIEW*",
    "name LIKE 'a_b%'",
    "name NOT LIKE '%x'",
    "name = 'a[b]?*'",
    "name = '100\\%*'",
    "a.b = 1",
    "a.b.c LIKE 'x%'",
    "NOT cloudCover < 20",
    "NOT NOT a = 1",
    "a = 1 AND b = 2 AND c = 3",
    "a = 1 OR b = x",
    "(a = 1 OR b = 2) AND NOT c = x",
    "a = 1 AND b = 1 AND c = '1'",
    " OR ".join(f"a = {i}" for i in range(34)),
]
"""Filters without a schema: every row of SPEC section 4's typing table and every node kind."""

SCHEMA_FILTERS = [
    "cloudCover < 20",
    "cloudCover = abc",
    "catalogID = 1050010018826700",
    "catalogID = 1050010*",
    "timestamp > 2015-07-31T10:07:17Z",
    "flag <> false",
    "flag = TRUE",
    "bands = PAN",
    "bands <> P*",
]
"""Filters with the ``typed`` schema: declared types decide."""

TYPES = ["WV02", "WV03*", "WV02 OR WV03*", "(WV02 OR WV03*) AND NOT IDAHOImage"]
"""Type expressions (a JSON array column ``types``)."""

DIALECTS: tuple[SQLDialect, ...] = ("sqlite", "postgresql")


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


def _unescape(text: str) -> str:
    out, i = [], 0
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text):
            out.append({"\\": "\\", "t": "\t", "n": "\n"}[text[i + 1]])
            i += 2
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def _compile(kind: str, text: str, dialect: SQLDialect, schema: str) -> tuple[str, dict[str, Any]]:
    with warnings.catch_warnings():  # LIKE is a compatibility form: tested here all the same
        warnings.simplefilter("ignore", cq.QueryWarning)
        node = cq.parse_filter(text) if kind == "filter" else cq.parse_types(text)
    return to_sql(node, dialect, SCHEMAS[schema])


def _cases() -> list[tuple[str, str, str]]:
    cases = [("filter", text, "none") for text in FILTERS]
    cases += [("filter", text, "typed") for text in SCHEMA_FILTERS]
    cases += [("types", text, "none") for text in TYPES]
    return cases


def regenerate() -> None:
    """Write the corpus from the compiler's output now (then review the diff)."""
    lines = [HEADER]
    for kind, text, schema in _cases():
        for dialect in DIALECTS:
            sql, params = _compile(kind, text, dialect, schema)
            row = (kind, _escape(text), dialect, schema, _escape(sql), json.dumps(params))
            lines.append("\t".join(row) + "\n")
    CORPUS.write_text("".join(lines), encoding="utf-8")


def _corpus() -> list[Any]:
    rows: list[Any] = []
    if not CORPUS.is_file():  # while regenerating it
        return rows
    for number, line in enumerate(CORPUS.read_text(encoding="utf-8").splitlines(), 1):
        if not line or line.startswith("#"):
            continue
        kind, text, dialect, schema, sql, params = line.split("\t")
        rows.append(
            pytest.param(
                kind,
                _unescape(text),
                dialect,
                schema,
                _unescape(sql),
                json.loads(params),
                id=f"line{number}-{dialect}",
            )
        )
    return rows


def test_corpus_covers_every_case() -> None:
    written = {(p.values[0], p.values[1], p.values[2], p.values[3]) for p in _corpus()}
    wanted = {(k, t, d, s) for k, t, s in _cases() for d in DIALECTS}
    assert written == wanted


@pytest.mark.parametrize(("kind", "text", "dialect", "schema", "sql", "params"), _corpus())
def test_sql_is_golden(
    kind: str, text: str, dialect: SQLDialect, schema: str, sql: str, params: dict[str, Any]
) -> None:
    assert _compile(kind, text, dialect, schema) == (sql, params)


if __name__ == "__main__":
    if sys.argv[1:] != ["--regenerate"]:
        sys.exit("usage: PYTHONPATH=src python tests/test_sql_golden.py --regenerate")
    regenerate()
    print(f"wrote {CORPUS}: review the diff before committing")
