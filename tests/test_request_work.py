"""The total work of one search request is bounded (issue 10, item 9).

A request may carry many filters and type expressions; their comparisons are counted together
against ``Limits.max_request_comparisons`` (413 past it), and compiling a chain of comparisons to
SQL costs work linear in its length (counted in function calls, not timed).
"""

from __future__ import annotations

import cProfile
import functools
import pstats
import warnings
from collections.abc import Callable

import pytest
import sqlalchemy as sa

import catalogql as cq
from catalogql.ast import Node
from catalogql.compile import sql as sql_module
from catalogql.compile.sql import Layout, to_sql, to_sqlalchemy
from catalogql.errors import TooLarge
from catalogql.search import RequestTooLarge, SearchRequest, open_catalog


def _chain(n: int, word: str = "OR") -> str:
    return f" {word} ".join(f"p{i % 7} = {i}" for i in range(n))


def test_comparisons_are_capped_per_request_not_per_filter() -> None:
    limits = cq.Limits(max_request_comparisons=100)
    fits = {"filters": [_chain(40), _chain(40)], "types": ["A OR B", "NOT C"] * 5}
    assert len(SearchRequest.from_dict(fits, limits=limits).filter_nodes) == 2  # 80 + 15 + 5
    too_many = {"filters": [_chain(40), _chain(40), _chain(40)], "types": ["A OR B"]}
    with pytest.raises(RequestTooLarge) as caught:
        SearchRequest.from_dict(too_many, limits=limits)
    error = caught.value
    assert isinstance(error, TooLarge)
    assert error.status == 413
    assert (error.field, error.count, error.limit) == ("filters[2]", 122, 100)
    (problem,) = error.problems
    assert problem.field == "filters[2]"
    assert problem.code == "limit.request-comparisons"
    assert "122" in problem.message and "100" in problem.message
    assert "split the search" in problem.hint and "max_request_comparisons" in problem.hint


def test_type_expressions_count_too_and_the_default_is_ten_thousand() -> None:
    assert cq.Limits().max_request_comparisons == 10_000
    names = " OR ".join(f"T{i}" for i in range(2_500))
    with pytest.raises(RequestTooLarge) as caught:
        SearchRequest.from_dict({"types": [names] * 5})
    assert caught.value.field == "types[4]"
    # Many filters of the per-filter maximum each: refused before most of them are parsed.
    with pytest.raises(RequestTooLarge) as by_filters:
        SearchRequest.from_dict({"filters": [" OR ".join(["a=1"] * 6_000)] * 50})
    assert by_filters.value.field == "filters[1]"


def test_a_catalog_applies_its_limits() -> None:
    limits = cq.Limits(max_request_comparisons=10)
    for url in ("memory://", "sqlite://"):
        catalog = open_catalog(url, limits=limits)
        assert catalog.search({"filters": [_chain(5), _chain(5)]})["results"] == []
        with pytest.raises(RequestTooLarge):
            catalog.search({"filters": [_chain(5), _chain(5)], "types": ["A"]})
    with pytest.raises(cq.UsageError, match=r"limits must be a catalogql\.Limits"):
        open_catalog("memory://", limits=10)  # type: ignore[arg-type]


def _calls(work: Callable[[], object]) -> int:
    profile = cProfile.Profile()
    profile.enable()
    work()
    profile.disable()
    return int(pstats.Stats(profile).total_calls)  # type: ignore[attr-defined]


def _ratio(compile_: Callable[[Node], object], small: Node, large: Node) -> float:
    """The work (function calls) of compiling ``large`` over that of ``small``."""
    return _calls(lambda: compile_(large)) / _calls(lambda: compile_(small))


@pytest.mark.parametrize("word", ["OR", "AND"])
def test_compiling_twice_the_comparisons_costs_about_twice_the_work(word: str) -> None:
    records = sa.table("records", sa.column("properties"), sa.column("types"))
    small, large = (cq.parse_filter(_chain(n, word)) for n in (150, 300))
    for dialect in ("sqlite", "postgresql"):
        layout = Layout(dialect, records.c.properties, types=records.c.types)
        to_sql(small, dialect=dialect)  # type: ignore[arg-type]
        # Steady state: the leaf shapes are compiled (once per process); the results are not.
        sql_module._to_sql_cached.cache_clear()
        ratios = [
            _ratio(functools.partial(to_sqlalchemy, layout=layout), small, large),
            _ratio(functools.partial(to_sql, dialect=dialect), small, large),
        ]
        assert all(ratio <= 2.5 for ratio in ratios), (dialect, ratios)


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_to_sql_costs_a_bounded_number_of_calls_per_comparison(dialect: str) -> None:
    # Each leaf shape is compiled once and its text reused: a long chain costs about 125 calls
    # per comparison (compiling it through SQLAlchemy as a whole took about 2,000).
    for word in ("OR", "AND"):
        node = cq.parse_filter(_chain(2_000, word), limits=cq.Limits(max_length=10**6))
        sql_module._to_sql_cached.cache_clear()
        calls = _calls(lambda node=node: to_sql(node, dialect=dialect))  # type: ignore[misc]
        assert calls / 2_000 <= 200, (word, calls / 2_000)
    # The fuzzer's "hang": a comma chain of double negations of a wildcard.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", cq.QueryWarning)  # the comma form
        fuzzed = cq.parse_filter(",".join(["NOT NOT and = *WORLDVIEW0*"] * 1000))
    sql_module._to_sql_cached.cache_clear()
    assert _calls(lambda: to_sql(fuzzed, dialect=dialect)) / 1000 <= 200  # type: ignore[arg-type]


def test_the_postgres_store_filter_costs_a_bounded_number_of_calls_per_comparison() -> None:
    # The PostgreSQL store places to_sqlalchemy_shaped's expression in its statement (typed
    # JSONB columns of a real table): building it and compiling the statement costs about what
    # to_sql does per comparison (about 320 calls, the expression written twice), where
    # to_sqlalchemy's expression cost about 2,000.
    from sqlalchemy.dialects import postgresql as pg

    from catalogql.search.stores import postgres as store

    assert vars(store)["to_sqlalchemy_shaped"] is sql_module.to_sqlalchemy_shaped
    table = sa.Table(
        "records",
        sa.MetaData(),
        sa.Column("types", pg.JSONB),
        sa.Column("properties", pg.JSONB),
    )
    layout = Layout("postgresql", table.c.properties, types=table.c.types, parameter_prefix="f")
    dialect = sql_module._DIALECTS["postgresql"]
    for word in ("OR", "AND"):
        node = cq.parse_filter(_chain(2_000, word), limits=cq.Limits(max_length=10**6))

        def compile_(node: Node = node) -> object:
            where = sql_module.to_sqlalchemy_shaped(node, layout)
            count = sa.select(sa.func.count()).select_from(table).where(where).scalar_subquery()
            return sa.select(table.c.types, count.label("n")).where(where).compile(dialect=dialect)

        compile_()  # the shapes, once per process
        calls = _calls(compile_)
        assert calls / 2_000 <= 400, (word, calls / 2_000)  # the expression is written twice
