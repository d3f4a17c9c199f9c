"""SQL: compile time per target, and SQL run over 100,000 JSON records on SQLite.

The records are the real GBDX records, copied until there are 100,000, each copy with fresh
identifiers and its cloud cover and off-nadir angle redrawn (seeded), in one table with a JSON
``properties`` column, as :func:`catalogql.to_sql` expects. Each filter runs as:

* catalogql: ``to_sql`` on the JSON layout (the exact semantics: typed CASE per comparison);
* catalogql typed: ``to_sqlalchemy`` on the typed-column layout, with an index per column;
* pygeofilter: its sqlalchemy back end on ``to_pygeofilter``'s AST, each property mapped to
  ``json_extract(properties, '$.name')`` (LIKE without ESCAPE, case-insensitive on SQLite);
* plain SQLite: the hand-written ``json_extract(...) < 20 AND ...`` a person would write.
"""

from __future__ import annotations

import json
import logging
import random
import sqlite3
from collections.abc import Callable
from typing import Any, cast

import sqlalchemy as sa

import catalogql
from benchmarks import report
from benchmarks.filters import TYPICAL
from benchmarks.predicate import cold
from benchmarks.timing import Config, Contestant, measure, paired_ratio, repeat_thunk
from catalogql.compile.sql import (
    Layout,
    _to_sql_cached,
    install_functions,
    to_sql,
    to_sqlalchemy,
    typed_column_value,
)
from catalogql.queryables import property_type
from catalogql.semantics import PropertyType

Props = dict[str, Any]

RECORDS = 100_000

SCHEMA = {
    "properties": {
        "sensorPlatformName": {"type": "string"},
        "cloudCover": {"type": "number"},
        "offNadirAngle": {"type": "number"},
        "catalogID": {"type": "string"},
        "timestamp": {"type": "string", "format": "date-time"},
    }
}

TYPED_COLUMNS = {  # column: property
    "c_platform": "sensorPlatformName",
    "c_cloud": "cloudCover",
    "c_nadir": "offNadirAngle",
    "c_id": "catalogID",
    "c_time": "timestamp",
}
_SQLITE_TYPES = {"c_cloud": "NUMERIC", "c_nadir": "NUMERIC"}  # the others: TEXT

SQL_FILTERS = (
    (TYPICAL.label, TYPICAL.gbdx, "json_extract(properties, '$.sensorPlatformName') GLOB "
     "'WORLDVIEW03*' AND json_extract(properties, '$.cloudCover') < 20 AND "
     "json_extract(properties, '$.offNadirAngle') < 10"),
    ("cloudCover < 20", "cloudCover < 20", "json_extract(properties, '$.cloudCover') < 20"),
    ("catalogID prefix", "catalogID = 1030010*",
     "json_extract(properties, '$.catalogID') GLOB '1030010*'"),
    ("a year", "timestamp >= 2016-01-01 AND timestamp < 2017-01-01",
     "json_extract(properties, '$.timestamp') >= '2016-01-01' AND "
     "json_extract(properties, '$.timestamp') < '2017-01-01'"),
)  # fmt: skip

TARGETS: dict[str, Callable[[Any], object]] = {
    "predicate (cold)": cold,
    "gbdx": catalogql.to_gbdx,
    "sql (sqlite)": lambda node: (_to_sql_cached.cache_clear(), to_sql(node, "sqlite")),
    "sql (postgresql)": lambda node: (_to_sql_cached.cache_clear(), to_sql(node, "postgresql")),
    "sql (cached)": lambda node: to_sql(node, "sqlite"),
    "cql2-text": catalogql.to_cql2_text,
    "cql2-json": catalogql.to_cql2_json,
    "pygeofilter": catalogql.to_pygeofilter,
}


def grow(records: list[Props], n: int, seed: int = 7) -> list[Props]:
    """``n`` records from the real ones: copies with new ids and redrawn cloud cover/off-nadir."""
    rng = random.Random(seed)
    out: list[Props] = []
    copy = 0
    while len(out) < n:
        for props in records:
            if len(out) == n:
                break
            p = dict(props)
            if copy:
                p["catalogID"] = f"{p.get('catalogID', '')}{copy:03d}"
                if isinstance(p.get("cloudCover"), int | float):
                    p["cloudCover"] = rng.randint(0, 100)
                if isinstance(p.get("offNadirAngle"), int | float):
                    p["offNadirAngle"] = round(rng.uniform(0, 45), 2)
            out.append(p)
        copy += 1
    return out


def _database(rows: list[Props]) -> sqlite3.Connection:
    db = sqlite3.connect(":memory:")
    install_functions(db)
    db.execute(
        "CREATE TABLE records (id INTEGER PRIMARY KEY, properties TEXT, "
        + ", ".join(f"{column} {_SQLITE_TYPES.get(column, 'TEXT')}" for column in TYPED_COLUMNS)
        + ")"
    )

    names = list(TYPED_COLUMNS.values())
    kinds = [cast(PropertyType, property_type(SCHEMA, name)).value_type for name in names]
    db.executemany(
        "INSERT INTO records VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            (
                i,
                json.dumps(p),
                *(typed_column_value(p.get(n), k) for n, k in zip(names, kinds, strict=True)),
            )
            for i, p in enumerate(rows)
        ),
    )
    for column in TYPED_COLUMNS:
        db.execute(f"CREATE INDEX ix_{column} ON records ({column})")
    db.commit()
    return db


def _run(db: sqlite3.Connection, sql: str, params: Any) -> Callable[[], int]:
    query = f"SELECT count(*) FROM records WHERE {sql}"
    return lambda: int(db.execute(query, params).fetchone()[0])


def run(config: Config, records: list[Props]) -> dict[str, Any]:
    print(report.section("Compiling a parsed filter to each target (µs per filter)"))
    compile_rows = []
    compile_results: dict[str, dict[str, float]] = {}
    for label, gbdx, _ in SQL_FILTERS:
        node = catalogql.parse_filter(gbdx)
        stats = measure(
            [Contestant(k, repeat_thunk(lambda f=f, n=node: f(n))) for k, f in TARGETS.items()],
            config,
        )
        compile_results[label] = {k: v.median for k, v in stats.items()}
        compile_rows.append([label] + [report.us(stats[k].median) for k in TARGETS])
    print(report.table(["filter", *TARGETS], compile_rows))

    rows = grow(records, RECORDS)
    print(report.section(f"SQL over {len(rows):,} JSON records on SQLite (ms per query)"))
    db = _database(rows)
    table = sa.table("records", *(sa.column(c) for c in TYPED_COLUMNS))
    layout = Layout(
        "sqlite",
        sa.literal_column("properties"),
        {name: table.c[column] for column, name in TYPED_COLUMNS.items()},
        SCHEMA,
    )
    dialect = sa.dialects.sqlite.dialect(paramstyle="named")
    pgf = _pygeofilter()
    results = []
    for label, gbdx, plain in SQL_FILTERS:
        node = catalogql.parse_filter(gbdx)
        queries: dict[str, Callable[[], int]] = {"catalogql": _run(db, *to_sql(node, "sqlite"))}
        typed = to_sqlalchemy(node, layout).compile(dialect=dialect)
        queries["catalogql typed"] = _run(db, str(typed).replace("records.", ""), typed.params)
        if pgf is not None:
            expr = pgf(catalogql.to_pygeofilter(node, SCHEMA))
            compiled = expr.compile(dialect=dialect, compile_kwargs={"literal_binds": False})
            queries["pygeofilter"] = _run(db, str(compiled), compiled.params)
        queries["plain SQLite"] = _run(db, plain, {})
        counts = {k: q() for k, q in queries.items()}
        stats = measure([Contestant(k, repeat_thunk(q)) for k, q in queries.items()], config)
        results.append(
            {
                "label": label,
                "gbdx": gbdx,
                "median_ns": {k: v.median for k, v in stats.items()},
                "min_ns": {k: v.low for k, v in stats.items()},
                "ratio": {
                    f"{k}/catalogql": paired_ratio(stats[k], stats["catalogql"])
                    for k in stats
                    if k != "catalogql"
                },
                "selected": counts,
            }
        )
    table_rows = []
    for r in results:
        m, b = r["median_ns"], r["min_ns"]
        table_rows.append(
            [r["label"]]
            + [
                report.pair(m[k], b[k], report.ms) if k in m else "n/a"
                for k in ("catalogql", "catalogql typed", "pygeofilter", "plain SQLite")
            ]
            + [f"{r['ratio'].get('pygeofilter/catalogql', float('nan')):.2f}x"]
            + [" / ".join(f"{v:,}" for v in r["selected"].values())]
        )
    print(
        report.table(
            ["filter", "catalogql", "typed+index", "pygeofilter", "plain", "pgf/cq", "selected"],
            table_rows,
        )
    )
    print(
        "Cells: median / best round. pgf/cq above 1x: catalogql's SQL is faster. 'selected' in\n"
        "the same order: pygeofilter's LIKE ignores case and has no ESCAPE, and the plain SQL\n"
        "compares the timestamp text as written, so their counts can differ."
    )
    return {"records": len(rows), "compile_median_ns": compile_results, "filters": results}


def _pygeofilter() -> Callable[[Any], sa.ColumnElement[bool]] | None:
    try:
        from pygeofilter.backends.sqlalchemy import to_filter
    except ImportError:
        return None
    logging.getLogger("lark").setLevel(logging.WARNING)
    names = [str(name) for name in SCHEMA["properties"]]
    mapping = {
        name: sa.func.json_extract(sa.literal_column("properties"), f"$.{name}") for name in names
    }
    return lambda ast: to_filter(ast, mapping)
