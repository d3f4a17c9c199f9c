"""Issue 10 item 15: SQL that can be pasted. Helper calls only where a value could need them,
the CREATE FUNCTION text the SQL needs (``compile --functions``), and ``cq.install_functions``."""

from __future__ import annotations

import json
from typing import Any

import pytest
import sqlalchemy as sa

import catalogql as cq
from catalogql.cli import main
from catalogql.compile.sql import POSTGRES_FUNCTIONS, functions_sql, needed_functions

pytest_plugins = ["postgres_fixtures"]

CORPUS = [
    # filter, the helper functions its PostgreSQL needs
    ("sensorPlatformName = WORLDVIEW03*", ()),
    ("sensorPlatformName <> WORLDVIEW03*", ()),
    ("name = a*b*", ()),
    ("cloudCover < 20 AND offNadirAngle >= 5", ()),
    ("catalogID = 1050*", ("catalogql_number_text",)),
    ("catalogID <> *00", ("catalogql_number_text",)),
    ("x = *e+1*", ("catalogql_number_text",)),
    ("timestamp >= 2016-01-01", ("catalogql_instant",)),
    (
        "timestamp < '2016-01-01T12:00:00+02:00' OR catalogID = 10*",
        ("catalogql_instant", "catalogql_number_text"),
    ),
    ("NOT (cloudCover > 50 OR sensorPlatformName = 'WV*')", ()),
]
RECORDS = [
    {"sensorPlatformName": "WORLDVIEW03_VNIR", "catalogID": "1050010", "cloudCover": 10},
    {
        "sensorPlatformName": "WORLDVIEW02",
        "catalogID": 1050010018826700,
        "timestamp": "2015-07-31T12:07:17Z",
    },
    {"sensorPlatformName": 3, "catalogID": 1000, "timestamp": "2016-01-01T09:00:00Z", "x": 1e21},
    {"name": "axb-1", "catalogID": 2.5e-7, "cloudCover": 60, "offNadirAngle": 7, "x": 2},
    {"name": ["a_bc", 12], "timestamp": ["2017-01-01", 5], "catalogID": [10, "x"]},
    {},
]


@pytest.mark.parametrize(("text", "needs"), CORPUS)
def test_the_sql_calls_only_the_helpers_it_needs(text: str, needs: tuple[str, ...]) -> None:
    sql, _ = cq.to_sql(cq.parse_filter(text), "postgresql")
    assert set(needed_functions(sql)) == set(needs)
    for name in POSTGRES_FUNCTIONS:
        assert (f"{name}(" in sql) == (name in needs)


def test_a_match_that_no_number_can_meet_is_known_false_for_numbers() -> None:
    node = cq.parse_filter("sensorPlatformName = WORLDVIEW03*")
    assert "WHEN 'integer' THEN 0 WHEN 'real' THEN 0" in cq.to_sql(node, "sqlite")[0]
    assert "WHEN 'number' THEN false" in cq.to_sql(node, "postgresql")[0]
    negated = cq.to_sql(cq.parse_filter("sensorPlatformName <> WORLDVIEW03*"), "postgresql")[0]
    assert "WHEN 'number' THEN true" in negated  # a number is known not to match: <> holds


def test_install_functions_and_the_function_text_are_exported() -> None:
    assert {"install_functions", "needed_functions", "functions_sql"} <= set(dir(cq))
    assert {"install_functions", "needed_functions", "functions_sql"} <= set(cq.__all__)
    assert cq.install_functions is cq.compile.sql.install_functions  # type: ignore[attr-defined]
    assert functions_sql([]) == ""
    assert functions_sql().count("CREATE OR REPLACE FUNCTION") == len(POSTGRES_FUNCTIONS)
    with pytest.raises(cq.QueryError) as caught:
        functions_sql(["catalogql_nope"])
    assert "catalogql_instant" in caught.value.hint


def test_compile_says_which_functions_the_sql_needs(capsys: Any) -> None:
    assert main(["compile", "--to", "sql-postgresql", "catalogID = 1050*"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[-1].startswith("-- needs: catalogql_number_text (catalogql compile")
    assert main(["compile", "--to", "sql-postgresql", "sensorPlatformName = WORLDVIEW03*"]) == 0
    assert "-- needs" not in capsys.readouterr().out
    assert main(["compile", "--to", "sql", "timestamp > 2016-01-01"]) == 0
    assert "-- needs: catalogql_instant (Python functions: catalogql.install_functions" in (
        capsys.readouterr().out
    )


def test_compile_functions_prints_what_the_sql_needs_and_nothing_else(capsys: Any) -> None:
    assert main(["compile", "--to", "sql-postgresql", "--functions", "WV = x*"]) == 0
    captured = capsys.readouterr()
    assert captured.out == "" and "no helper function" in captured.err
    assert main(["compile", "--to", "sql-postgresql", "--functions", "catalogID = 1*"]) == 0
    out = capsys.readouterr().out
    assert out == POSTGRES_FUNCTIONS["catalogql_number_text"]
    assert main(["compile", "--to", "sql-postgresql", "--all-functions"]) == 0
    assert capsys.readouterr().out == functions_sql()
    assert main(["compile", "--to", "sql", "--functions", "a = 1"]) == 2
    assert "--to sql-postgresql" in capsys.readouterr().err
    assert main(["compile", "--to", "gbdx"]) == 2  # TEXT is needed without --all-functions
    assert "TEXT" in capsys.readouterr().err


def _printed(capsys: Any, *args: str) -> str:
    assert main(["compile", "--to", "sql-postgresql", *args]) == 0
    return capsys.readouterr().out  # type: ignore[no-any-return]


def test_printed_functions_and_sql_run_on_postgresql(postgres_db: sa.Engine, capsys: Any) -> None:
    """Each filter's SQL runs with only the functions ``--functions`` printed for it."""
    with postgres_db.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE records (id int, properties jsonb)")
        for i, record in enumerate(RECORDS):
            connection.exec_driver_sql(
                "INSERT INTO records VALUES (%(i)s, %(p)s::jsonb)",
                {"i": i, "p": json.dumps(record)},
            )
    drop = ", ".join(
        f"{name}({'text' if name == 'catalogql_instant' else 'jsonb'})"
        for name in POSTGRES_FUNCTIONS
    )
    for text, needs in CORPUS:
        functions = _printed(capsys, "--functions", text)
        assert functions.count("CREATE OR REPLACE FUNCTION") == len(needs), text
        compiled = _printed(capsys, text)
        lines = compiled.splitlines()
        params_line = next(line for line in lines if line.startswith("-- parameters: "))
        params = json.loads(params_line.removeprefix("-- parameters: "))
        sql = "\n".join(line for line in lines if not line.startswith("-- "))  # psycopg reads
        # '%' in comments as a placeholder: the comment lines are for the reader
        with postgres_db.begin() as connection:
            connection.exec_driver_sql(f"DROP FUNCTION IF EXISTS {drop}")
            if functions:
                connection.exec_driver_sql(functions)
            rows = connection.exec_driver_sql(
                f"SELECT id FROM records WHERE {sql}\nORDER BY id", params
            ).fetchall()
        holds = cq.compile_predicate(cq.parse_filter(text))
        assert [r[0] for r in rows] == [i for i, r in enumerate(RECORDS) if holds(r)], text
