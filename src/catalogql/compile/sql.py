"""Compile the AST to SQL through SQLAlchemy Core: SQLite (JSON1) and PostgreSQL (JSONB).

The SQL means exactly what :func:`~catalogql.compile_predicate` means, record for record. Every
comparison compiles to a three-valued SQL expression (true, false or NULL for unknown) built from
the typing table of :mod:`catalogql.semantics` (:func:`~catalogql.semantics.value_domains`): a
``CASE`` on the JSON type of the value (``json_type`` on SQLite, ``jsonb_typeof`` on PostgreSQL)
with one arm per row of the table the literal can meet, and ``NULL`` for every other value. SQL's
own AND, OR and NOT are Kleene's, as the predicates are, so a WHERE clause selects a record exactly
when the predicate does.

============================  ====================================================================
value                         SQL (SQLite / PostgreSQL)
============================  ====================================================================
number                        ``json_extract(...) < :v`` / ``CAST(j AS FLOAT) < %(v)s``
text                          ``json_extract(...) = :v`` / ``(j #>> '{}') COLLATE "C" = %(v)s``
date-time (by schema or name) ``catalogql_instant(...) >= :v``: both sides as exact UTC keys
boolean                       constants: the literal is known when the SQL is built
list                          a subquery over ``json_each`` / ``jsonb_array_elements``: true if an
                              element compares true, else NULL if one is unknown, else false
wildcard                      ``GLOB`` on SQLite (its LIKE ignores case), ``LIKE ... ESCAPE '\\'``
                              on PostgreSQL; a number matches its JSON text
============================  ====================================================================

Safety: every literal is a bound parameter; a property name is checked against the grammar's
name rule (``name(.name)*``) and anything else is refused with a :class:`~catalogql.QueryError`,
so the JSON paths and keys written into the SQL can hold no quote. Typed columns are SQLAlchemy
columns, quoted by SQLAlchemy.

Speed: :func:`to_sql` compiles each leaf's *shape* (property, operator, which domains its
literal meets, negation, schema, dialect) once per process and reuses that text, the parameters
renamed and SQLAlchemy's anonymous labels renumbered, while SQLAlchemy still composes the AND,
OR and NOT around the leaves: about 125 function calls a comparison instead of about 2,000, and
the same text as compiling :func:`to_sqlalchemy`'s expression. :func:`to_sqlalchemy` builds
Core objects for every leaf (about 1,350 calls a comparison). :func:`to_sqlalchemy_shaped` is
the same fast path for any :class:`Layout`, as an expression to place in a statement (the
PostgreSQL store's): its parameters and anonymous labels are the statement's, its SQL that of
:func:`to_sqlalchemy`'s expression in the same statement.

Two layouts (:class:`Layout`): the *JSON* layout reads every property from one JSON column
(``properties``); the *typed* layout also maps properties of a queryables schema to typed columns
(numbers, text, booleans, and date-times stored as :func:`~catalogql.semantics.instant_key`
text), so that indexes on them serve the query.

Date-times compare through ``catalogql_instant(text)``, the SQL twin of
:func:`~catalogql.semantics.instant_key`, and wildcards on PostgreSQL numbers through
``catalogql_number_text(jsonb)``: :func:`install_functions` creates them (a Python function on a
SQLite connection, SQL functions in a PostgreSQL database).

Limits, written down: on PostgreSQL numbers compare as double precision, which is exact for the
numbers of I-JSON (RFC 7493: integers within 2**53); a wildcard matches a number's text as stored
in the JSON (the same as Python's when ``json.dumps`` wrote it, as catalogql's stores do);
SQL text cannot hold NUL (PostgreSQL refuses it; SQLite's string and JSON functions stop at it),
so a literal with one is refused on both; an integer literal past 64 bits would compare as a
rounded double (or overflow past 1.8e308), so it is refused too; on SQLite, so is an
expression nested past what its parser stack holds (:data:`SQLITE_PARSER_BUDGET`; NOT NOT x
compiles as x, exact under Kleene's logic) and a pattern past its 50,000 bytes. These refusals are
:class:`~catalogql.Inexpressible` (422), the signal on which catalogql's stores decide a filter
in Python instead.

>>> from catalogql import parse_filter
>>> sql, params = to_sql(parse_filter("cloudCover < 20"))
>>> print(sql)  # doctest: +ELLIPSIS
CASE json_type(properties, '$.cloudCover') WHEN 'integer' THEN json_extract(properties, '$.cloudCover') < :v1 ...
>>> params
{'v1': 20, 'v2': '20'}
"""  # noqa: E501

from __future__ import annotations

import json
import re
import sqlite3
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, ClassVar, Literal, cast

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg_dialect
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal

from catalogql import ast
from catalogql.ast import (
    PROPERTY_RE,
    And,
    Comparison,
    Match,
    Node,
    Not,
    Op,
    Or,
    Pattern,
    TypeName,
    TypePattern,
    Wildcard,
    fold,
)
from catalogql.caches import SizedCache, sized_cache, text_bytes
from catalogql.errors import argument_error
from catalogql.queryables import check_schema, property_type
from catalogql.semantics import (
    OPERATORS,
    PropertyType,
    ValueType,
    comparison_operands,
    instant_key,
    like_pattern,
    match_comparator,
    may_match_a_number,
    value_domains,
)
from catalogql.syntax.errors import Inexpressible, InexpressibleDepth, QueryError

__all__ = [
    "INT64",
    "POSTGRES_FUNCTIONS",
    "SQLITE_FUNCTIONS",
    "Layout",
    "SQLDialect",
    "TypesTable",
    "functions_sql",
    "install_functions",
    "needed_functions",
    "to_sql",
    "to_sqlalchemy",
    "to_sqlalchemy_shaped",
    "typed_column_value",
]

SQLDialect = Literal["sqlite", "postgresql"]
"""The SQL databases compiled for. (How strictly GBDX text is read is
:data:`catalogql.syntax.parser.QueryDialect`.)"""
Bool = ColumnElement[Any]
"""A three-valued SQL expression: true, false or NULL (SQLite writes them 1, 0, NULL)."""

Whens = list[tuple[str, Any]]
"""The arms of a ``CASE`` on a JSON value's type: (type name, the comparison for that type)."""

MAX_SQL_DEPTH = 128
"""The deepest AND/OR/NOT nesting compiled to SQL (SQLAlchemy's compiler recurses per level)."""

_CHUNK = 32
"""Longer AND/OR chains are parenthesised in groups, so that SQLite's expression depth limit
(1000) is never reached however long the chain."""

SQLITE_MAX_PATTERN_BYTES = 50_000
"""SQLite's longest GLOB/LIKE pattern, in bytes (``SQLITE_MAX_LIKE_PATTERN_LENGTH``): a longer
pattern is :class:`~catalogql.Inexpressible` on SQLite."""

_PARAMETER_PREFIX = re.compile(r"[A-Za-z][A-Za-z0-9_]*")

INT64 = range(-(2**63), 2**63)
"""The integers SQL holds exactly (SQLite's INTEGER, PostgreSQL's bigint)."""


@dataclass(frozen=True, slots=True)
class TypesTable:
    """Record types kept as rows of their own table: one row per (record, type label).

    Attributes:
        type_column: The column holding one type label.
        record_key: The column of the types table naming its record.
        parent_key: The column of the records table it refers to.
    """

    type_column: ColumnElement[Any]
    record_key: ColumnElement[Any]
    parent_key: ColumnElement[Any]


@dataclass(frozen=True)
class Layout:
    """Where a query finds a record's properties and types.

    Attributes:
        dialect: ``"sqlite"`` or ``"postgresql"``.
        properties: The JSON column holding each record's properties (SQLite: TEXT with JSON1;
            PostgreSQL: JSONB).
        columns: Typed columns by property name (the typed layout). Each property must be
            declared in ``schema`` with a scalar type; its column holds the value when it is of
            that type (date-times as :func:`~catalogql.semantics.instant_key` text) and NULL
            otherwise. Wildcards and properties without a column read ``properties``.
        schema: A queryables schema deciding how values compare (as for the predicates).
        types: A JSON array column of each record's type labels, for type expressions.
        types_table: Or a table of (record, type label) rows.
        parameter_prefix: The prefix of the bound parameters' names (``v1``, ``v2``, … by default);
            expressions compiled with different prefixes fit in one statement.

    >>> import sqlalchemy as sa
    >>> table = sa.table("records", sa.column("properties"), sa.column("cloud_cover"))
    >>> schema = {"properties": {"cloudCover": {"type": "number"}}}
    >>> layout = Layout("sqlite", table.c.properties, {"cloudCover": table.c.cloud_cover}, schema)
    >>> from catalogql import parse_filter
    >>> str(to_sqlalchemy(parse_filter("cloudCover < 20"), layout))
    'records.cloud_cover < :v1'
    """

    dialect: SQLDialect
    properties: ColumnElement[Any]
    columns: Mapping[str, ColumnElement[Any]] = field(default_factory=dict)
    schema: Mapping[str, Any] | None = None
    types: ColumnElement[Any] | None = None
    types_table: TypesTable | None = None
    parameter_prefix: str = "v"

    def __post_init__(self) -> None:
        if self.dialect not in ("sqlite", "postgresql"):
            raise QueryError(
                f"unknown SQL dialect {self.dialect!r}",
                code="compile.dialect",
                hint="use 'sqlite' or 'postgresql'",
            )
        if not _PARAMETER_PREFIX.fullmatch(self.parameter_prefix):
            raise QueryError(
                f"not a parameter prefix: {self.parameter_prefix!r}",
                code="compile.layout",
                hint="use letters, digits and '_', starting with a letter",
            )
        if self.schema is not None:
            check_schema(self.schema)
        for name in self.columns:
            declared = property_type(self.schema, name)
            if declared is None or declared.value_type is None or declared.is_list:
                raise QueryError(
                    f"the typed column for '{name}' needs a scalar type for it in the schema",
                    code="compile.layout",
                    hint='declare it, e.g. {"properties": {"cloudCover": {"type": "number"}}}',
                )


def typed_column_value(value: Any, value_type: ValueType) -> Any:
    """What a typed column of :class:`Layout` holds for a property's value, or None (NULL).

    The value itself when it is of the declared type (a date-time as its
    :func:`~catalogql.semantics.instant_key`), NULL otherwise: a value of another type compares
    as unknown, as it does in the predicates.

    >>> typed_column_value("2015-07-31T12:07:17.5+02:00", ValueType.DATETIME)
    '2015-07-31T10:07:17.5'
    >>> typed_column_value(True, ValueType.NUMBER) is None
    True
    """
    domain = value_domains("", PropertyType(value_type)).get(type(value))
    if domain is None:
        return None
    return instant_key(value) if domain is ValueType.DATETIME else value


def to_sqlalchemy(node: Node, layout: Layout) -> ColumnElement[Any]:
    """A SQLAlchemy boolean expression selecting the records that ``node`` selects.

    Filters read ``layout.properties`` (and its typed columns); type expressions read
    ``layout.types`` or ``layout.types_table``. The expression is three-valued: in a WHERE clause
    unknown selects nothing, as the predicates do.

    Args:
        node: A filter or a type-expression AST.
        layout: Where the properties and types are.

    Returns:
        The expression, with every literal a bound parameter.

    Raises:
        QueryError: For a property name outside the grammar's rule, a literal the database
            cannot hold, a tree deeper than ``MAX_SQL_DEPTH`` (NOT NOT x counted as x), on
            SQLite an expression nested past :data:`SQLITE_PARSER_BUDGET` or a pattern past
            50,000 bytes (those are :class:`~catalogql.Inexpressible`), or a type expression
            without a types column in the layout.

    >>> import sqlalchemy as sa
    >>> from catalogql import parse_types
    >>> records = sa.table("records", sa.column("properties"), sa.column("types"))
    >>> layout = Layout("postgresql", records.c.properties, types=records.c.types)
    >>> print(to_sqlalchemy(parse_types("WV02"), layout).compile(dialect=_DIALECTS["postgresql"]))
    records.types @> jsonb_build_array(%(v1)s::VARCHAR)
    """
    _check_depth(node, layout)
    return _Compiler(layout).build(node)


def to_sqlalchemy_shaped(node: Node, layout: Layout) -> ColumnElement[Any]:
    """:func:`to_sqlalchemy`'s expression with each leaf compiled once per shape (fast).

    The same SQL text and parameters as :func:`to_sqlalchemy` once compiled in a statement, at
    the cost per comparison of :func:`to_sql` (about 100 times less work on long chains): each
    leaf is written as the text of its shape, compiled once per process, while SQLAlchemy
    composes the AND, OR and NOT around the leaves. For layouts without a ``types_table``
    (with one, this is :func:`to_sqlalchemy`). Compile it with the layout's dialect.

    Args:
        node: A filter or a type-expression AST.
        layout: Where the properties and types are.

    Returns:
        The expression, with every literal a bound parameter.

    Raises:
        QueryError: As :func:`to_sqlalchemy`.

    >>> import sqlalchemy as sa
    >>> from catalogql import parse_filter
    >>> records = sa.table("records", sa.column("properties"))
    >>> layout = Layout("postgresql", records.c.properties, parameter_prefix="f")
    >>> where = to_sqlalchemy_shaped(parse_filter("name = a OR name = b"), layout)
    >>> compiled = sa.select(records).where(where).compile(dialect=_DIALECTS["postgresql"])
    >>> compiled.params
    {'f1': 'a', 'f2': 'b'}
    >>> str(compiled) == str(
    ...     sa.select(records)
    ...     .where(to_sqlalchemy(parse_filter("name = a OR name = b"), layout))
    ...     .compile(dialect=_DIALECTS["postgresql"])
    ... )
    True
    """
    _check_depth(node, layout)
    if layout.types_table is not None:
        return _Compiler(layout).build(node)
    schema_json = (
        None
        if layout.schema is None
        else json.dumps(check_schema(layout.schema), sort_keys=True, default=repr)
    )
    where = (
        _column_key(layout.properties),
        None if layout.types is None else _column_key(layout.types),
        tuple((name, _column_key(column)) for name, column in sorted(layout.columns.items())),
    )
    return _TextCompiler(layout, schema_json, where, bind=True).build(node)


def _column_key(column: ColumnElement[Any]) -> tuple[str, str]:
    """What of a column its SQL text depends on: how it is written and its type."""
    return str(column), repr(column.type)


def _check_depth(node: Node, layout: Layout) -> None:
    """Refuse a tree nested past what the SQL compiler and SQLite's parser hold."""
    levels, cost, _ = fold(node, _nesting)
    if levels > MAX_SQL_DEPTH:
        raise InexpressibleDepth(
            f"a tree {levels} levels deep (NOT NOT x counted as x) is past the {MAX_SQL_DEPTH} "
            "levels compiled to SQL",
            limit="depth",
            hint="flatten the expression (AND and OR chains of any length are fine)",
        )
    if layout.dialect == "sqlite" and cost > SQLITE_PARSER_BUDGET:
        raise InexpressibleDepth(
            f"the SQL of this expression would nest about {cost} levels of SQLite's parser "
            f"stack, past the {SQLITE_PARSER_BUDGET} compiled to SQL (SQLite refuses SQL past "
            "its parser stack of 100 entries: 'parser stack overflow')",
            limit="depth",
            hint="catalogql's stores decide such an expression in Python; to keep it in SQL, "
            "nest fewer alternating AND/OR groups and NOT (...) levels",
        )


_FRAMES_PER_LEVEL = 16
"""Python frames SQLAlchemy's compiler may take per nesting level (about 8 measured), for the
room :meth:`_TextCompiler.text` makes when a deep caller stack leaves too little."""

SQLITE_PARSER_BUDGET = 88
"""The most parser-stack entries (by :func:`_nesting`'s estimate) an expression may take on
SQLite: its parser stack holds 100 (``YYSTACKDEPTH``), and the statement around the expression
(a store's SELECT, WHERE and the other conditions) takes a few."""

_LEAF_COST = 16
"""Parser-stack entries a comparison's SQL takes at most (its CASE, list subquery and dotted
path), measured: ``tests/test_sql_depth.py``."""

_CHAIN_COST = 4
"""Entries one level of AND/OR (or one chunk level of a long chain) adds: ``expr AND (``."""

_NOT_COST = 3
"""Entries one NOT adds: ``NOT (``."""

_Nesting = tuple[int, int, Any]
"""SQL nesting levels, parser-stack estimate, and (for a NOT) the nesting of what it negates."""


def _nesting(node: object, parts: list[_Nesting]) -> _Nesting:
    """The nesting of ``node``'s SQL, a :func:`fold` visitor: NOT NOT x compiles as x.

    Under Kleene's three-valued logic NOT NOT x is x (NOT unknown is unknown), as in the
    predicates (:mod:`catalogql.compile.predicate` swaps true and false), so the compiler drops
    double negations and a NOT chain costs one level at most.
    """
    if type(node) is Not:
        inner = parts[0]
        if inner[2] is not None:
            return cast(_Nesting, inner[2])
        return inner[0] + 1, inner[1] + _NOT_COST, inner
    if not parts:
        return 0, _LEAF_COST, None
    layers = _chunk_layers(len(parts))
    return (
        max(part[0] for part in parts) + layers,
        max(part[1] for part in parts) + _CHAIN_COST * layers,
        None,
    )


def _chunk_layers(count: int) -> int:
    """The levels of a chain of ``count`` items, parenthesised in groups of ``_CHUNK``."""
    layers = 1
    while count > _CHUNK:
        count = -(-count // _CHUNK)
        layers += 1
    return layers


def to_sql(
    node: Node,
    dialect: SQLDialect = "sqlite",
    schema: Mapping[str, Any] | None = None,
    *,
    parameter_prefix: str = "v",
) -> tuple[str, dict[str, Any]]:
    """A WHERE-clause body and its parameters, over a table with a JSON ``properties`` column.

    Type expressions read a JSON array column ``types``. Parameters are named (``:v1`` on SQLite,
    ``%(v1)s`` on PostgreSQL, as ``sqlite3`` and ``psycopg`` take them). Date-time comparisons
    call functions that :func:`install_functions` creates.

    Args:
        node: A filter or type-expression AST.
        dialect: ``"sqlite"`` or ``"postgresql"``.
        schema: A queryables schema deciding how values compare.
        parameter_prefix: The prefix of the parameters' names, so that several results can be
            combined in one statement.

    Returns:
        The SQL text and its parameters.

    Raises:
        QueryError: As :func:`to_sqlalchemy`.

    >>> from catalogql import parse_filter
    >>> sql, params = to_sql(parse_filter("catalogID = 1050010*"), "postgresql")
    >>> params
    {'v1': '1050010%'}
    >>> to_sql(parse_filter("cloudCover < 20"), parameter_prefix="f")[1]
    {'f1': 20, 'f2': '20'}
    >>> print(sql[:96])
    CASE jsonb_typeof(properties -> 'catalogID') WHEN 'string' THEN ((properties -> 'catalogID') #>>
    """
    if not isinstance(dialect, str) or dialect not in _DIALECTS:
        raise QueryError(
            f"unknown SQL dialect {dialect!r}",
            code="compile.dialect",
            hint="use 'sqlite' or 'postgresql'",
        )
    if not isinstance(node, Node):
        raise QueryError(
            f"to_sql(): node must be a filter or type-expression AST, not {type(node).__name__}",
            code="compile.not-a-node",
            hint="pass the result of parse_filter() or parse_types()",
        )
    if not isinstance(parameter_prefix, str):
        raise argument_error("to_sql", "parameter_prefix", parameter_prefix, "a str such as 'v'")
    key = None if schema is None else json.dumps(check_schema(schema), sort_keys=True, default=repr)
    sql, params = _to_sql_cached(node, dialect, key, parameter_prefix)
    return sql, dict(params)


def _sql_bytes(args: tuple[Any, ...], value: tuple[str, Mapping[str, Any]]) -> int:
    """A compiled filter's bytes: its SQL text and parameters, and its tree (the key).

    The tree is charged as twice the SQL's bytes (the SQL of a comparison is longer than its
    tree's texts; a walk over the tree would cost as much as the cache saves on a long chain).
    """
    sql, params = value
    return 3 * text_bytes(sql) + 128 * len(params) + sum(map(sys.getsizeof, params.values()))


@sized_cache(max_entries=256, max_bytes=16 << 20, size=_sql_bytes)
def _to_sql_cached(
    node: Node, dialect: SQLDialect, schema_json: str | None, parameter_prefix: str
) -> tuple[str, Mapping[str, Any]]:
    """:func:`to_sql`, cached (about 30 µs a comparison uncached, more for the first of a shape).

    Each leaf's SQL is compiled once per shape (:class:`_TextCompiler`), byte for byte what
    compiling :func:`to_sqlalchemy`'s expression gives (:func:`_to_sql_reference`).
    """
    schema = None if schema_json is None else json.loads(schema_json)
    records = sa.table("records", sa.column("properties"), sa.column("types"))
    layout = Layout(
        dialect,
        _bare(records.c.properties),
        schema=schema,
        types=_bare(records.c.types),
        parameter_prefix=parameter_prefix,
    )
    _check_depth(node, layout)
    sql, params = _TextCompiler(layout, schema_json).text(node)
    return sql, MappingProxyType(params)


def _to_sql_reference(
    node: Node, dialect: SQLDialect, schema: Mapping[str, Any] | None, parameter_prefix: str
) -> tuple[str, dict[str, Any]]:
    """:func:`to_sql` the slow way: :func:`to_sqlalchemy`'s expression compiled as a whole.

    What :func:`to_sql` must equal byte for byte (the tests compare them).
    """
    records = sa.table("records", sa.column("properties"), sa.column("types"))
    layout = Layout(
        dialect,
        _bare(records.c.properties),
        schema=schema,
        types=_bare(records.c.types),
        parameter_prefix=parameter_prefix,
    )
    compiled = to_sqlalchemy(node, layout).compile(dialect=_DIALECTS[dialect])
    return str(compiled), dict(compiled.params)


def _bare(column: ColumnElement[Any]) -> ColumnElement[Any]:
    """The column written without its table's name (``properties``, not ``records.properties``)."""
    return sa.literal_column(cast(Any, column).name)


_DIALECTS: dict[str, sa.engine.Dialect] = {
    "sqlite": sqlite_dialect.dialect(paramstyle="named"),
    "postgresql": pg_dialect.psycopg.dialect(),  # type: ignore[no-untyped-call]
}


# --------------------------------------------------------------------------------------------
# The compiler: one method per node kind


class _Compiler:
    """One handler per node kind (``HANDLERS``); ``self.sql``: how the dialect reads JSON."""

    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        self.sql: _Dialect = _DIALECT_CLASSES[layout.dialect](layout)
        self.params: dict[tuple[type, object], sa.BindParameter[Any]] = {}
        self.negations: dict[int, tuple[Bool, Bool]] = {}
        """Each NOT built, by id: (the NOT, what it negates)."""

    def build(self, root: Node) -> Bool:
        # Bottom-up by the one tree walk, left to right (parameters are numbered in reading
        # order): chains of any length never recurse here.
        return fold(root, self.visit)

    def visit(self, node: object, parts: list[Bool]) -> Bool:
        handler = self.HANDLERS.get(type(node))
        if handler is None:
            raise _not_a_node(node)
        return handler(self, node, parts)

    def chain(self, node: And | Or, parts: list[Bool]) -> Bool:
        return _chain(node, parts)

    def not_(self, node: Not, parts: list[Bool]) -> Bool:
        inner = parts[0]
        negated = self.negations.get(id(inner))
        if negated is not None and negated[0] is inner:  # NOT NOT x is x (Kleene)
            return negated[1]
        out = sa.not_(inner)
        self.negations[id(out)] = (out, inner)
        return out

    def comparison_node(self, node: Comparison, parts: list[Bool]) -> Bool:
        if not isinstance(node.value, ast.Literal) or not isinstance(node.op, Op):
            raise _not_a_node(node)
        return self.comparison(node)

    def match_node(self, node: Match, parts: list[Bool]) -> Bool:
        if not isinstance(node.pattern, tuple):
            raise _not_a_node(node)
        return self.match(node)

    def type_name_node(self, node: TypeName, parts: list[Bool]) -> Bool:
        return self.type_name(node)

    def type_pattern_node(self, node: TypePattern, parts: list[Bool]) -> Bool:
        return self.type_pattern(node)

    HANDLERS: ClassVar[Mapping[type, Callable[[_Compiler, Any, list[Bool]], Bool]]] = {
        And: chain,
        Or: chain,
        Not: not_,
        Comparison: comparison_node,
        Match: match_node,
        TypeName: type_name_node,
        TypePattern: type_pattern_node,
    }

    # Parameters: one per distinct value, named v1, v2, ... (the layout's prefix) in order of use.

    def param(self, value: object) -> sa.BindParameter[Any]:
        key = (type(value), value)
        bound = self.params.get(key)
        if bound is None:
            _check_value(value, self.layout.dialect)
            name = f"{self.layout.parameter_prefix}{len(self.params) + 1}"
            bound = sa.bindparam(name, value, type_=_SQL_TYPES[type(value)])
            self.params[key] = bound
        return bound

    # Filters

    def comparison(self, node: Comparison) -> Bool:
        plan = self.comparison_plan(node)
        return self.comparison_sql(plan, [self.param(value) for value in plan.values])

    def comparison_plan(self, node: Comparison) -> _Plan:
        """What a comparison's SQL is built from: its shape and its parameters' values."""
        name = _checked_name(node.property)
        declared = property_type(self.layout.schema, name)
        operands = comparison_operands(name, node.op, node.value, declared)
        boolean, cmp = operands.boolean, OPERATORS[node.op]
        booleans = None if boolean is None else (cmp(True, boolean), cmp(False, boolean))
        slots = (operands.number, operands.text, operands.instant)
        values = tuple(value for value in slots if value is not None)
        shape = (
            "comparison",
            name,
            node.op,
            tuple(None if value is None else type(value) for value in slots),
            booleans,
        )
        return _Plan(shape, values, (name, declared, node.op, booleans))

    def comparison_sql(self, plan: _Plan, bound: Sequence[sa.BindParameter[Any]]) -> Bool:
        """A comparison's SQL from its plan, its parameters bound as ``bound``."""
        name, declared, op, booleans = plan.facts
        given = iter(bound)
        number, text, instant = (None if kind is None else next(given) for kind in plan.shape[3])
        arms = _Arms(number=number, text=text, instant=instant, boolean=booleans)
        column = self.layout.columns.get(name)
        if column is not None and declared is not None:
            return self.sql.typed(column, declared, op, arms)
        return self.sql.json(name, lambda ref: self.sql.scalar(ref, op, arms))

    def match(self, node: Match) -> Bool:
        plan = self.match_plan(node)
        return self.match_sql(plan, [self.param(value) for value in plan.values])

    def match_plan(self, node: Match) -> _Plan:
        """What a wildcard comparison's SQL is built from: its shape and its pattern."""
        name = _checked_name(node.property)
        declared = property_type(self.layout.schema, name)
        pattern, booleans, numbers = _match_facts(type(self.sql), node.pattern, declared)
        shape = ("match", name, node.negated, booleans, numbers)
        return _Plan(shape, (pattern,), (name, declared, node.negated, booleans, numbers))

    def match_sql(self, plan: _Plan, bound: Sequence[sa.BindParameter[Any]]) -> Bool:
        """A wildcard comparison's SQL from its plan, the pattern bound as ``bound[0]``."""
        name, declared, negated, booleans, numbers = plan.facts
        domains = value_domains(name, declared)
        pattern = bound[0]
        column = self.layout.columns.get(name)
        if column is not None and declared is not None and declared.value_type is ValueType.TEXT:
            matched = self.sql.matches(column, pattern)
            return sa.not_(matched) if negated else matched

        def scalar(ref: Any) -> Whens:
            whens = self.sql.scalar_match(
                ref, pattern, str in domains, int in domains, float in domains, booleans, numbers
            )
            return [(k, sa.not_(v)) for k, v in whens] if negated else whens

        return self.sql.json(name, scalar)

    # Type expressions: two-valued (every record has a type list)

    def type_name(self, node: TypeName) -> Bool:
        return self.sql.has_type(self.types(), self.param(node.name), None)

    def type_pattern(self, node: TypePattern) -> Bool:
        return self.sql.has_type(self.types(), None, self.param(self.sql.pattern(node.pattern)))

    def leaf_plan(self, node: Node) -> _Plan:
        """The plan of any leaf (a comparison, wildcard, type name or type pattern)."""
        kind = type(node)
        if kind is Comparison:
            assert isinstance(node, Comparison)
            if not isinstance(node.value, ast.Literal) or not isinstance(node.op, Op):
                raise _not_a_node(node)
            return self.comparison_plan(node)
        if kind is Match:
            assert isinstance(node, Match)
            if not isinstance(node.pattern, tuple):
                raise _not_a_node(node)
            return self.match_plan(node)
        if kind is TypeName:
            assert isinstance(node, TypeName)
            return _Plan(("type", True), (node.name,), ())
        if kind is TypePattern:
            assert isinstance(node, TypePattern)
            return _Plan(("type", False), (self.sql.pattern(node.pattern),), ())
        raise _not_a_node(node)

    def leaf_sql(self, plan: _Plan, bound: Sequence[sa.BindParameter[Any]]) -> Bool:
        """A leaf's SQL from its plan (:meth:`leaf_plan`), its parameters bound as ``bound``."""
        kind = plan.shape[0]
        if kind == "comparison":
            return self.comparison_sql(plan, bound)
        if kind == "match":
            return self.match_sql(plan, bound)
        if plan.shape[1]:
            return self.sql.has_type(self.types(), bound[0], None)
        return self.sql.has_type(self.types(), None, bound[0])

    def types(self) -> ColumnElement[Any] | TypesTable:
        if self.layout.types_table is not None:
            return self.layout.types_table
        if self.layout.types is None:
            raise QueryError(
                "a type expression needs the layout's types column or types table",
                code="compile.layout",
                hint="pass Layout(..., types=table.c.types)",
            )
        return self.layout.types


def _match_facts(
    dialect: type[_Dialect], pattern: Pattern, declared: PropertyType | None
) -> tuple[str, tuple[bool, bool] | None, bool]:
    """What a wildcard's SQL needs, worked out once per pattern (a long chain repeats a few).

    Its spelling in ``dialect``, its answers for a true and a false value (None: booleans cannot
    match), and whether a number's text may match it.
    """
    try:
        hash(declared)
    except TypeError:  # a schema enum holding a list: not cached
        return _match_facts_cached.__wrapped__(dialect.__name__, pattern, declared)
    return _match_facts_cached(dialect.__name__, pattern, declared)


def _match_facts_bytes(args: tuple[Any, ...], value: tuple[str, Any, bool]) -> int:
    """The pattern (key) and its spelling."""
    pieces = sum(len(piece) for piece in args[1] if isinstance(piece, str))
    return 256 + 64 * len(args[1]) + pieces + text_bytes(value[0])


@sized_cache(max_entries=256, max_bytes=4 << 20, size=_match_facts_bytes)
def _match_facts_cached(
    dialect: str, pattern: Pattern, declared: PropertyType | None
) -> tuple[str, tuple[bool, bool] | None, bool]:
    spelled = _DIALECT_NAMES[dialect].pattern(pattern)
    matches = match_comparator(pattern, declared)
    when_true, when_false = matches(True), matches(False)
    booleans = None if when_true is None or when_false is None else (when_true, when_false)
    return spelled, booleans, may_match_a_number(pattern)


@dataclass(frozen=True, slots=True)
class _Plan:
    """A leaf's SQL before its parameters are bound.

    ``shape`` decides the SQL text (with the compiler's layout and dialect), ``values`` are its
    parameters' values in the order bound, ``facts`` what the builder needs.
    """

    shape: tuple[Any, ...]
    values: tuple[Any, ...]
    facts: tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class _Arms:
    """What a comparison's literal can meet: the bound value per domain, or None if nothing.

    ``boolean`` is the comparison's answer, known when the SQL is built, for a true and for a
    false value.
    """

    number: sa.BindParameter[Any] | None
    text: sa.BindParameter[Any] | None
    instant: sa.BindParameter[Any] | None
    boolean: tuple[bool, bool] | None


_SQL_TYPES: dict[type, Any] = {
    int: sa.BigInteger(),
    float: sa.Float(),
    str: sa.String(),
    bool: sa.Boolean(),
}


def _not_a_node(node: object) -> QueryError:
    return QueryError(
        f"not an AST node: {type(node).__name__}",
        code="compile.not-a-node",
        hint="pass the result of parse_filter() or parse_types()",
    )


def _compare(left: ColumnElement[Any], op: Op, right: Any) -> Bool:
    return cast(Bool, OPERATORS[op](left, right))


def _chain(node: And | Or, parts: Sequence[Bool]) -> Bool:
    join = sa.and_ if isinstance(node, And) else sa.or_
    while len(parts) > _CHUNK:
        parts = [_Parenthesized(join(*parts[i : i + _CHUNK])) for i in range(0, len(parts), _CHUNK)]
    return join(*parts)


class _Parenthesized(ColumnElement[Any]):
    """An expression in parentheses that SQLAlchemy does not flatten into an outer chain."""

    inherit_cache = True
    type = sa.Boolean()

    def __init__(self, inner: Bool) -> None:
        self.inner = inner

    def get_children(self, **kw: Any) -> tuple[Bool]:
        return (self.inner,)


@compiles(_Parenthesized)
def _compile_parenthesized(element: _Parenthesized, compiler: Any, **kw: Any) -> str:
    return f"({compiler.process(element.inner, **kw)})"


def _checked_name(name: str) -> str:
    if not isinstance(name, str) or PROPERTY_RE.fullmatch(name) is None:
        raise QueryError(
            f"property name {name!r} cannot be compiled to SQL",
            code="compile.invalid-property",
            hint="a property name is name(.name)* with name := [A-Za-z_][A-Za-z0-9_]*",
        )
    return name


def _check_value(value: object, dialect: SQLDialect) -> None:
    """Refuse a literal that SQL cannot hold (:class:`~catalogql.Inexpressible`)."""
    if isinstance(value, str):
        _check_text(value, dialect)
    if type(value) is int and value not in INT64:
        digits = len(str(abs(value))) if value.bit_length() < 14_000 else "thousands of"
        raise Inexpressible(
            f"an integer of {digits} digits is past the 64-bit integers SQL compares "
            "exactly (a double would round it, and overflows past about 1.8e308)",
            code="compile.inexpressible",
            hint="catalogql's stores decide such a filter in Python, exactly; in your own "
            "SQL, compare with a decimal literal such as 1e20 if a rounded value will do",
        )


def _check_text(text: str, dialect: SQLDialect) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        raise Inexpressible(
            f"the value {text!r} is not valid Unicode text (a lone surrogate at {error.start})",
            code="compile.invalid-text",
            hint="databases store UTF-8: remove the lone surrogate",
        ) from None
    if "\x00" in text:
        raise Inexpressible(
            f"the value {text!r} holds a NUL character, which SQL text cannot hold",
            code="compile.invalid-text",
            hint="remove the NUL character (PostgreSQL text cannot contain one, and SQLite's "
            "string and JSON functions stop reading at one)",
        )


# --------------------------------------------------------------------------------------------
# to_sql's text, fast: each leaf's SQL compiled once per shape


_TEMPLATE_PREFIX = "cqtemplate"
"""The parameter names of a leaf's template SQL (``cqtemplate1``, ...), renamed when used."""

_TEMPLATE_PIECES = {
    "sqlite": re.compile(rf":{_TEMPLATE_PREFIX}(\d+)(?!\w)|(?<![\w.'\"$])anon_(\d+)(?!\w)"),
    "postgresql": re.compile(rf"%\({_TEMPLATE_PREFIX}(\d+)\)s|(?<![\w.'\"$])anon_(\d+)(?!\w)"),
}
"""A template's parameters and anonymous labels (``AS anon_1``): property names are never
preceded by ``:`` or ``%(``, and stand in quotes after ``.``, ``'`` or ``"``."""

_PARAMETER_STYLE = {"sqlite": ":{}", "postgresql": "%({})s"}

_MAX_SHAPES = 512
"""The most leaf shapes kept (per process); past it (or past 16 MiB) the oldest go first. A shape
keeps its SQLAlchemy expression, about 26 KB (tracemalloc: 1,000 shapes kept 26 MiB), and its
property name several times (in the key, the expression and each compiled text). A chain of more
distinct shapes than this (hundreds of distinct property names) costs about what it did before
the cache, ~2 ms a comparison."""

_SHAPE_BYTES = 26_000


_LINT_ONLY = frozenset({"from_linter"})
"""Compile arguments that never change the text (SQLAlchemy's cartesian-product linter)."""

_ENCLOSED = "enclosed"
"""What a template's key holds for the subquery a leaf is compiled in (``enclosing_alias``), a
new object with each statement. SQLAlchemy reads it only where it renders that alias's own
element (a select made after the leaf, so never inside it) or a table the alias wraps (such an
alias is kept in the key as it is); so the leaf's text is the same in any such subquery, and
one key serves them all. Before, every search of the PostgreSQL store compiled each leaf again
(about 1 ms a search)."""


class _Shape:
    """One leaf's SQL, compiled once.

    An SQLAlchemy expression (``proto``) whose parameters are named ``cqtemplate<i>``, its texts
    per compile context (``pieces``), and its groupings (``variants``: what ``self_group`` made
    of it).
    """

    __slots__ = ("dialect", "pieces", "proto", "variants")

    def __init__(self, proto: ColumnElement[Any], dialect: str) -> None:
        self.proto = proto
        self.dialect = dialect
        self.pieces: dict[Any, tuple[list[str], list[int]]] = {}
        self.variants: dict[Any, _Shape | None] = {}

    def template(self, kw: dict[str, Any]) -> tuple[list[str], list[int]]:
        """The SQL text in ``kw``'s context, in pieces.

        Texts, and between them the template parameter numbers (positive) or anonymous label
        numbers (negative), in reading order.
        """
        kw = {name: value for name, value in kw.items() if name not in _LINT_ONLY}
        tables = kw.get("ambiguous_table_name_map")
        if tables is not None:  # in a statement: which same-named tables it holds
            kw["ambiguous_table_name_map"] = tuple(sorted(tables.items()))
        alias = kw.get("enclosing_alias")
        if alias is not None and not isinstance(alias.element, sa.Table):  # see _ENCLOSED
            kw["enclosing_alias"] = _ENCLOSED
        else:
            alias = None
        try:
            key: Any = tuple(sorted(kw.items()))
            hash(key)
        except TypeError:
            key = None
        found = self.pieces.get(key) if key is not None else None
        if found is not None:
            return found
        if tables is not None:
            kw["ambiguous_table_name_map"] = tables
        if alias is not None:
            kw["enclosing_alias"] = alias
        compiled = self.proto.compile(dialect=_DIALECTS[self.dialect], compile_kwargs=kw)
        text = str(compiled)
        names = set(compiled.params)
        texts: list[str] = []
        marks: list[int] = []
        start = 0
        for hit in _TEMPLATE_PIECES[self.dialect].finditer(text):
            texts.append(text[start : hit.start()])
            number, label = hit.group(1), hit.group(2)
            marks.append(int(number) if number is not None else -int(label))
            start = hit.end()
        texts.append(text[start:])
        used = {f"{_TEMPLATE_PREFIX}{mark}" for mark in marks if mark > 0}
        if used != names:  # a parameter the template cannot rename: an internal error
            raise AssertionError(f"template parameters {sorted(names)} != {sorted(used)}")
        result = (texts, marks)
        if key is not None:
            self.pieces[key] = result
        return result

    def grouped(self, against: Any) -> _Shape | None:
        """The shape of ``proto.self_group(against)``, or None when that is ``proto`` itself."""
        if against in self.variants:
            return self.variants[against]
        group = self.proto.self_group(against=against)
        variant = None if group is self.proto else _Shape(group, self.dialect)
        self.variants[against] = variant
        return variant


class _Emitted:
    """What one :class:`_TextCompiler` text has emitted: anonymous labels and parameters."""

    __slots__ = ("binds", "labels", "params", "values")

    def __init__(self, bind: bool = False) -> None:
        self.labels = 0
        self.params: dict[str, Any] = {}
        self.values: dict[str, Any] = {}
        self.binds: dict[str, sa.BindParameter[Any]] | None = {} if bind else None
        """With ``bind`` (:func:`to_sqlalchemy_shaped`): each parameter as a bound parameter,
        registered with the statement's compiler where it is written."""


class _Occurrence:
    """One leaf of the tree: its parameters' names, and where its anonymous labels start.

    ``labels`` is the number before its first label once it is written: a leaf written twice
    (a shared subtree, or x and NOT x) writes the same labels, as SQLAlchemy does for one object.
    """

    __slots__ = ("labels", "names")

    def __init__(self, names: tuple[str, ...]) -> None:
        self.names = names
        self.labels: int | None = None


class _Unit(ColumnElement[Any]):
    """One leaf in the tree compiled for :func:`to_sql`, written as its shape's text.

    SQLAlchemy composes the AND, OR and NOT around it as around the leaf's own SQL
    (``self_group`` answers as the leaf does); its text is the shape's, the parameters renamed
    and the labels renumbered.

    In a statement (:func:`to_sqlalchemy_shaped`) SQLAlchemy caches the compiled statement:
    the leaf's cache key is its shape (the object, kept alive by the key: a shape made anew has
    another key), its parameters' names and its bound parameters, whose values SQLAlchemy takes
    from each new statement of the same key, as for its own elements.
    """

    __visit_name__ = "catalogql_unit"
    inherit_cache = True
    _traverse_internals = [  # noqa: RUF012 (SQLAlchemy's declaration, read by its cache keys)
        ("shape", InternalTraversal.dp_plain_obj),
        ("names", InternalTraversal.dp_plain_obj),
        ("binds", InternalTraversal.dp_clauseelement_tuple),
    ]
    operator = None
    """Not an AND/OR list (a leaf never is): read when SQLAlchemy flattens a chain, and
    set here so that the lookup does not fall through to the column comparator."""

    def __init__(
        self,
        shape: _Shape,
        occurrence: _Occurrence,
        emitted: _Emitted,
        plan: _Plan | None = None,
    ) -> None:
        self.shape = shape
        self.occurrence = occurrence
        self.emitted = emitted
        self.plan = plan
        self.type = shape.proto.type
        self.names = occurrence.names
        binds = emitted.binds
        self.binds = () if binds is None else tuple(binds[name] for name in occurrence.names)

    def self_group(self, against: Any = None) -> ColumnElement[Any]:
        variant = self.shape.grouped(against)
        return self if variant is None else _Unit(variant, self.occurrence, self.emitted)


@compiles(_Unit)
def _compile_unit(element: _Unit, compiler: Any, **kw: Any) -> str:
    texts, marks = element.shape.template(kw)
    emitted, occurrence = element.emitted, element.occurrence
    names = occurrence.names
    style = _PARAMETER_STYLE[element.shape.dialect]
    if emitted.binds is not None:  # in a statement: its compiler numbers the labels
        labels = {-mark for mark in marks if mark < 0}
        anon_map = compiler.anon_map
        statement_labels = {
            number: anon_map[f"cq{id(occurrence)}_{number} anon"] for number in sorted(labels)
        }
    if occurrence.labels is None:
        occurrence.labels = emitted.labels
    base = occurrence.labels
    out = [texts[0]]
    for mark, text in zip(marks, texts[1:], strict=True):
        if mark > 0:
            name = names[mark - 1]
            if name not in emitted.params:
                emitted.params[name] = emitted.values[name]
            placeholder = style.format(name)
            if emitted.binds is not None:
                _register(compiler, emitted.binds[name], placeholder, kw)
            out.append(placeholder)
        elif emitted.binds is not None:
            out.append(statement_labels[-mark])
        else:
            number = base - mark
            emitted.labels = max(emitted.labels, number)
            out.append(f"anon_{number}")
        out.append(text)
    return "".join(out)


def _register(
    compiler: Any, bound: sa.BindParameter[Any], placeholder: str, kw: dict[str, Any]
) -> None:
    """Registers a parameter (one object a name: :meth:`_TextCompiler.name`) with the compiler."""
    written = compiler.process(bound, **kw)
    if not written.startswith(placeholder):  # another parameter style: an internal error
        raise AssertionError(f"compile with the layout's dialect: {written!r} for {placeholder!r}")


_SHAPES: SizedCache[_Shape] = SizedCache("catalogql.compile.sql._SHAPES", _MAX_SHAPES, 16 << 20)


def _shape_bytes(plan: _Plan) -> int:
    """A shape's bytes: the expression, and its property name (in comparisons and matches)."""
    name = plan.shape[1] if plan.shape[0] in ("comparison", "match") else ""
    return _SHAPE_BYTES + 4 * len(name)


class _TextCompiler(_Compiler):
    """:func:`to_sql`'s compiler: each leaf a :class:`_Unit` of its shape, compiled once.

    A chain of n comparisons costs n cache hits and one compile of the AND/OR around them, and
    gives the same text as compiling :func:`to_sqlalchemy`'s expression (``tests/test_sql_text``).
    """

    def __init__(
        self,
        layout: Layout,
        schema_json: str | None,
        where: tuple[Any, ...] = (),
        *,
        bind: bool = False,
    ) -> None:
        super().__init__(layout)
        self.emitted = _Emitted(bind)
        self.context = (layout.dialect, schema_json, where)
        self.negated_units: dict[int, tuple[_Unit, _Unit]] = {}
        self.names: dict[tuple[type, object], str] = {}

    def text(self, root: Node) -> tuple[str, dict[str, Any]]:
        built = self.build(root)
        try:
            sql = str(built.compile(dialect=_DIALECTS[self.layout.dialect]))
        except RecursionError:  # SQLAlchemy's compiler recurses (about 8 frames a level): a
            # caller deep in its own stack may leave too little for MAX_SQL_DEPTH levels, so
            # make room for them once, then it is a limit, never a crash
            old = sys.getrecursionlimit()
            sys.setrecursionlimit(old + _FRAMES_PER_LEVEL * MAX_SQL_DEPTH)
            try:
                sql = str(built.compile(dialect=_DIALECTS[self.layout.dialect]))
            except RecursionError:
                raise InexpressibleDepth(
                    "the SQL compiler ran out of Python stack for this expression's nesting",
                    limit="depth",
                    hint="flatten the expression (AND and OR chains of any length are fine)",
                ) from None
            finally:
                sys.setrecursionlimit(old)
        return sql, dict(self.emitted.params)

    def unit(self, node: Node) -> _Unit:
        plan = self.leaf_plan(node)
        names = tuple(self.name(value) for value in plan.values)
        return _Unit(self.shape(plan, False), _Occurrence(names), self.emitted, plan)

    def shape(self, plan: _Plan, negated: bool) -> _Shape:
        key = (self.context, plan.shape, negated)
        found = _SHAPES.get(key)
        if found is not None:
            return found
        bound = [
            sa.bindparam(f"{_TEMPLATE_PREFIX}{number}", value, type_=_SQL_TYPES[type(value)])
            for number, value in enumerate(plan.values, 1)
        ]
        proto = self.leaf_sql(plan, bound)
        assert getattr(proto, "operator", None) not in (operators.and_, operators.or_)
        shape = _Shape(sa.not_(proto) if negated else proto, self.layout.dialect)
        _SHAPES.put(key, shape, _shape_bytes(plan))
        return shape

    def name(self, value: object) -> str:
        """A parameter's name, as :meth:`_Compiler.param` numbers them, without building one."""
        key = (type(value), value)
        name = self.names.get(key)
        if name is None:
            _check_value(value, self.layout.dialect)
            name = f"{self.layout.parameter_prefix}{len(self.names) + 1}"
            self.names[key] = name
            self.emitted.values[name] = value
            if self.emitted.binds is not None:  # one bound parameter a name, as _Unit says
                self.emitted.binds[name] = sa.bindparam(name, value, type_=_SQL_TYPES[type(value)])
        return name

    def not_(self, node: Not, parts: list[Bool]) -> Bool:
        inner = parts[0]
        if type(inner) is not _Unit:
            return super().not_(node, parts)
        unit = inner
        negated = self.negated_units.get(id(unit))
        if negated is not None and negated[0] is unit:  # NOT NOT x is x (Kleene)
            return negated[1]
        plan = cast(_Plan, unit.plan)
        out = _Unit(self.shape(plan, True), unit.occurrence, self.emitted, plan)
        self.negated_units[id(out)] = (out, unit)
        return out

    def leaf(self, node: Node, parts: list[Bool]) -> Bool:
        return self.unit(node)

    HANDLERS: ClassVar[Mapping[type, Callable[[_Compiler, Any, list[Bool]], Bool]]] = {
        And: _Compiler.chain,
        Or: _Compiler.chain,
        Not: not_,  # type: ignore[dict-item]
        Comparison: leaf,  # type: ignore[dict-item]
        Match: leaf,  # type: ignore[dict-item]
        TypeName: leaf,  # type: ignore[dict-item]
        TypePattern: leaf,  # type: ignore[dict-item]
    }


# --------------------------------------------------------------------------------------------
# The dialects: how each reads JSON values


_SQLITE_TRUTH: tuple[ColumnElement[Any], ColumnElement[Any]] = (
    sa.literal_column("1"),
    sa.literal_column("0"),
)


class _Dialect:
    """How a database reads JSON values: the base of the dialects, which override what differs.

    ``json(name, scalar)`` is the CASE on the JSON type of property ``name``, its arms made by
    ``scalar`` for one value (the property's, or a list element's); ``scalar`` and
    ``scalar_match`` make those arms for a comparison and a wildcard; ``matches`` and
    ``pattern`` are the dialect's wildcard match and its spelling of a pattern.
    """

    COLLATE = False
    """Whether text on a typed column compares with ``COLLATE "C"`` (code point order)."""

    def __init__(self, layout: Layout) -> None:
        self.doc = layout.properties

    def json(self, name: str, scalar: Callable[[Any], Whens]) -> Bool:
        raise NotImplementedError

    def scalar(self, ref: Any, op: Op, arms: _Arms) -> Whens:
        raise NotImplementedError

    def scalar_match(
        self,
        ref: Any,
        pattern: sa.BindParameter[Any],
        texts: bool,
        ints: bool,
        floats: bool,
        booleans: tuple[bool, bool] | None,
        number_text: bool = True,
    ) -> Whens:
        raise NotImplementedError

    def matches(self, text: ColumnElement[Any], pattern: sa.BindParameter[Any]) -> Bool:
        raise NotImplementedError

    @staticmethod
    def pattern(pattern: Pattern) -> str:
        raise NotImplementedError

    def typed(
        self, column: ColumnElement[Any], declared: PropertyType, op: Op, arms: _Arms
    ) -> Bool:
        return _typed(column, declared, op, arms, collate=self.COLLATE)

    def has_type(
        self,
        types: ColumnElement[Any] | TypesTable,
        name: sa.BindParameter[Any] | None,
        pattern: sa.BindParameter[Any] | None,
    ) -> Bool:
        if not isinstance(types, TypesTable):
            return self.has_type_json(types, name, pattern)
        label = types.type_column
        test = label == name if name is not None else self.matches(label, _bound(pattern))
        return sa.exists(sa.select(1).where(types.record_key == types.parent_key, test))

    def has_type_json(
        self,
        types: ColumnElement[Any],
        name: sa.BindParameter[Any] | None,
        pattern: sa.BindParameter[Any] | None,
    ) -> Bool:
        raise NotImplementedError


def _bound(pattern: sa.BindParameter[Any] | None) -> sa.BindParameter[Any]:
    return cast(sa.BindParameter[Any], pattern)


class _SQLite(_Dialect):
    """SQLite's JSON1: ``json_type`` and ``json_extract`` on a path, ``json_each`` for lists."""

    NUMBER = ("integer", "real")

    def json(self, name: str, scalar: Callable[[Any], Whens]) -> Bool:
        path = self.path(name)
        kind = sa.func.json_type(self.doc, path)
        whens = scalar((kind, sa.func.json_extract(self.doc, path), self.doc.op("->")(path)))
        return _case(kind, [*whens, ("array", self.elements(path, scalar))])

    def path(self, name: str) -> ColumnElement[Any]:
        if "." not in name:
            return sa.literal_column(f"'$.{name}'")
        # A dotted name is one key if the record has that key, else a path (property_getter).
        whole: ColumnElement[Any] = sa.literal_column(f"'$.\"{name}\"'")
        return sa.case(
            (sa.func.json_type(self.doc, whole).is_(None), sa.literal_column(f"'$.{name}'")),
            else_=whole,
        )

    def elements(self, path: ColumnElement[Any], scalar: Callable[[Any], Whens]) -> Bool:
        each = sa.func.json_each(self.doc, path).table_valued("type", "value", "fullkey")
        e = each.alias("e")
        whens = scalar((e.c.type, e.c.value, self.doc.op("->")(e.c.fullkey)))
        return _any_element(e, _case(e.c.type, whens), _SQLITE_TRUTH)

    def scalar(self, ref: Any, op: Op, arms: _Arms) -> Whens:
        _, value, _ = ref
        whens: Whens = []
        if arms.number is not None:
            whens += [(k, _compare(value, op, arms.number)) for k in self.NUMBER]
        if arms.text is not None:
            whens.append(("text", _compare(value, op, arms.text)))
        elif arms.instant is not None:
            whens.append(("text", _compare(sa.func.catalogql_instant(value), op, arms.instant)))
        if arms.boolean is not None:
            whens += [("true", _truth(arms.boolean[0])), ("false", _truth(arms.boolean[1]))]
        return whens

    def scalar_match(
        self,
        ref: Any,
        pattern: sa.BindParameter[Any],
        texts: bool,
        ints: bool,
        floats: bool,
        booleans: tuple[bool, bool] | None,
        number_text: bool = True,
    ) -> Whens:
        _, value, raw = ref
        whens: Whens = []
        if texts:
            whens.append(("text", _glob(value, pattern)))
        if ints:
            whens.append(("integer", _glob(raw, pattern) if number_text else _truth(False)))
        if floats:
            whens.append(("real", _glob(raw, pattern) if number_text else _truth(False)))
        if booleans is not None:
            whens += [("true", _truth(booleans[0])), ("false", _truth(booleans[1]))]
        return whens

    def matches(self, column: ColumnElement[Any], pattern: sa.BindParameter[Any]) -> Bool:
        return _glob(column, pattern)

    @staticmethod
    def pattern(pattern: Pattern) -> str:
        """GLOB's spelling: ``*`` and ``?``, with ``*``, ``?`` and ``[`` as classes."""
        out = []
        for part in pattern:
            if part is Wildcard.ANY:
                out.append("*")
            elif part is Wildcard.ONE:
                out.append("?")
            else:
                out.append(str(part).replace("[", "[[]").replace("*", "[*]").replace("?", "[?]"))
        glob = "".join(out)
        size = len(glob.encode("utf-8", "surrogatepass"))
        if size > SQLITE_MAX_PATTERN_BYTES:
            raise Inexpressible(
                f"the pattern is {size:,} bytes in GLOB's spelling, past SQLite's limit of "
                f"{SQLITE_MAX_PATTERN_BYTES:,} ('LIKE or GLOB pattern too complex'; '[', '*' "
                "and '?' as text take 3 bytes each)",
                code="compile.inexpressible",
                hint="catalogql's stores decide such a pattern in Python; in your own SQL, "
                "shorten the pattern",
            )
        return glob

    def has_type_json(
        self,
        types: ColumnElement[Any],
        name: sa.BindParameter[Any] | None,
        pattern: sa.BindParameter[Any] | None,
    ) -> Bool:
        e = sa.func.json_each(types).table_valued("type", "value").alias("t")
        test = e.c.value == name if name is not None else _glob(e.c.value, pattern)
        found = sa.select(1).select_from(e).where(e.c.type == _const("text"), test)
        return sa.exists(found.correlate_except(e))


class _Postgres(_Dialect):
    """PostgreSQL's JSONB: ``->``, ``jsonb_typeof``, ``jsonb_array_elements``."""

    COLLATE = True

    def json(self, name: str, scalar: Callable[[Any], Whens]) -> Bool:
        value = self.value(name)
        whens = scalar(value)
        kind = sa.func.jsonb_typeof(value)
        return _case(kind, [*whens, ("array", self.elements(value, scalar))])

    def value(self, name: str) -> ColumnElement[Any]:
        if "." not in name:
            return cast(ColumnElement[Any], self.doc.op("->")(sa.literal_column(f"'{name}'")))
        keys = ", ".join(f"'{key}'" for key in name.split("."))
        return sa.case(
            (
                sa.func.jsonb_exists(self.doc, sa.literal_column(f"'{name}'")),
                self.doc.op("->")(sa.literal_column(f"'{name}'")),
            ),
            else_=sa.func.jsonb_extract_path(self.doc, sa.literal_column(keys)),
        )

    def elements(self, value: ColumnElement[Any], scalar: Callable[[Any], Whens]) -> Bool:
        e = sa.func.jsonb_array_elements(value).table_valued("value").alias("e")
        test = _case(sa.func.jsonb_typeof(e.c.value), scalar(e.c.value))
        return _any_element(e, test, (sa.true(), sa.false()))

    @staticmethod
    def text(value: ColumnElement[Any]) -> ColumnElement[Any]:
        text = value.op("#>>", return_type=sa.Text())(sa.literal_column("'{}'"))
        return cast(ColumnElement[Any], text.self_group())

    def scalar(self, value: ColumnElement[Any], op: Op, arms: _Arms) -> Whens:
        whens: Whens = []
        if arms.number is not None:
            whens.append(("number", _compare(sa.cast(value, sa.Float()), op, arms.number)))
        if arms.text is not None:
            whens.append(("string", _compare(self.text(value).collate("C"), op, arms.text)))
        elif arms.instant is not None:
            key = sa.func.catalogql_instant(self.text(value)).collate("C")
            whens.append(("string", _compare(key, op, arms.instant)))
        if arms.boolean is not None:
            whens.append(("boolean", _boolean_arm(value, arms.boolean)))
        return whens

    def scalar_match(
        self,
        value: ColumnElement[Any],
        pattern: sa.BindParameter[Any],
        texts: bool,
        ints: bool,
        floats: bool,
        booleans: tuple[bool, bool] | None,
        number_text: bool = True,
    ) -> Whens:
        whens: Whens = []
        if texts:
            whens.append(("string", self.matches(self.text(value), pattern)))
        if (ints or floats) and number_text:
            number = sa.func.catalogql_number_text(value)
            whens.append(("number", self.matches(number, pattern)))
        elif ints or floats:  # no number's text can match: known false, and no helper call
            whens.append(("number", _truth(False)))
        if booleans is not None:
            whens.append(("boolean", _boolean_arm(value, booleans)))
        return whens

    def matches(self, text: ColumnElement[Any], pattern: sa.BindParameter[Any]) -> Bool:
        return cast(Bool, text.like(pattern, escape="\\"))

    @staticmethod
    def pattern(pattern: Pattern) -> str:
        """LIKE's spelling: ``%`` and ``_``, escaped with a backslash."""
        return like_pattern(pattern)

    def has_type_json(
        self,
        types: ColumnElement[Any],
        name: sa.BindParameter[Any] | None,
        pattern: sa.BindParameter[Any] | None,
    ) -> Bool:
        if name is not None:  # containment: a GIN index on the column serves it
            return cast(
                Bool, types.op("@>", return_type=sa.Boolean())(sa.func.jsonb_build_array(name))
            )
        e = sa.func.jsonb_array_elements(types).table_valued("value").alias("t")
        test = self.matches(self.text(e.c.value), cast(sa.BindParameter[Any], pattern))
        found = sa.select(1).select_from(e)
        found = found.where(sa.func.jsonb_typeof(e.c.value) == _const("string"), test)
        return sa.exists(found.correlate_except(e))


def _any_element(elements: Any, test: Bool, truth: tuple[Any, Any]) -> Bool:
    """The list rule over a table of elements: true if one is true, else NULL if one is unknown.

    One aggregate reads each element's test once: true ranks 2, unknown 1, false 0.
    """
    rank = sa.case(
        {truth[0]: sa.literal_column("2"), truth[1]: sa.literal_column("0")},
        value=test,
        else_=sa.literal_column("1"),
    )
    verdict = sa.case(
        {sa.literal_column("2"): sa.true(), sa.literal_column("1"): sa.null()},
        value=sa.func.max(rank),
        else_=sa.false(),  # every element false, or no element at all
    )
    return sa.select(verdict).select_from(elements).correlate_except(elements).scalar_subquery()


_UNKNOWN: Bool = sa.cast(sa.null(), sa.Boolean())
"""Unknown, typed: PostgreSQL cannot compare an untyped NULL with true."""


def _case(kind: ColumnElement[Any], whens: Whens) -> Bool:
    """``CASE kind WHEN ... END``: NULL (unknown) for every type without an arm."""
    if not whens:
        return _UNKNOWN
    return sa.case({_const(k): v for k, v in whens}, value=kind, else_=sa.null())


def _const(text: str) -> ColumnElement[Any]:
    """A constant of the compiler's own (a JSON type name), written into the SQL as it is."""
    return sa.literal_column(f"'{text}'")


def _glob(text: ColumnElement[Any], pattern: Any) -> Bool:
    """SQLite's case-sensitive wildcard match (its LIKE ignores ASCII case)."""
    return cast(Bool, text.op("GLOB", return_type=sa.Boolean())(pattern))


def _truth(value: bool) -> Bool:
    return sa.true() if value else sa.false()


def _boolean_arm(value: ColumnElement[Any], answers: tuple[bool, bool]) -> Bool:
    if answers[0] == answers[1]:
        return _truth(answers[0])
    is_true = value == sa.literal_column("'true'::jsonb")
    return cast(Bool, is_true if answers[0] else sa.not_(is_true))


def _typed(
    column: ColumnElement[Any], declared: PropertyType, op: Op, arms: _Arms, collate: bool
) -> Bool:
    """A comparison on a typed column: NULL (unknown) where the literal cannot meet it."""
    value_type = declared.value_type
    if value_type is ValueType.NUMBER and arms.number is not None:
        return _compare(column, op, arms.number)
    if value_type is ValueType.TEXT and arms.text is not None:
        return _compare(column.collate("C") if collate else column, op, arms.text)
    if value_type is ValueType.DATETIME and arms.instant is not None:
        return _compare(column.collate("C") if collate else column, op, arms.instant)
    if value_type is ValueType.BOOLEAN and arms.boolean is not None:
        when_true, when_false = arms.boolean
        if when_true == when_false:
            return sa.case((column.is_(None), sa.null()), else_=_truth(when_true))
        return column if when_true else sa.not_(column)
    return _UNKNOWN


_DIALECT_CLASSES: dict[str, type[_Dialect]] = {"sqlite": _SQLite, "postgresql": _Postgres}
_DIALECT_NAMES: dict[str, type[_Dialect]] = {kind.__name__: kind for kind in (_SQLite, _Postgres)}


# --------------------------------------------------------------------------------------------
# The SQL functions the compiled SQL calls


_POSTGRES_FUNCTIONS = r"""
CREATE OR REPLACE FUNCTION catalogql_instant(t text) RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    m text[];
    moment timestamp;
    zone text;
    digits text;
    shift integer := 0;
    fraction text;
BEGIN
    m := regexp_match(t, '^([0-9]{4})-([0-9]{2})-([0-9]{2})(?:[T ]([0-9]{2}):([0-9]{2})'
                         '(?::([0-9]{2})(?:[.,]([0-9]+))?)?(Z|z|[+-][0-9]{2}(?::?[0-9]{2})?)?)?$');
    IF m IS NULL THEN
        RETURN NULL;
    END IF;
    IF m[1]::int < 1 OR m[2]::int NOT BETWEEN 1 AND 12 OR m[3]::int < 1
       OR m[3]::int > extract(day FROM make_date(m[1]::int, m[2]::int, 1)
                                        + interval '1 month - 1 day')
       OR coalesce(m[4], '0')::int > 23 OR coalesce(m[5], '0')::int > 59
       OR coalesce(m[6], '0')::int > 59 THEN
        RETURN NULL;
    END IF;
    moment := make_timestamp(m[1]::int, m[2]::int, m[3]::int, coalesce(m[4], '0')::int,
                             coalesce(m[5], '0')::int, coalesce(m[6], '0')::int);
    zone := m[8];
    IF zone IS NOT NULL AND zone NOT IN ('Z', 'z') THEN
        digits := replace(substr(zone, 2), ':', '');
        shift := substr(digits, 1, 2)::int * 60 + coalesce(nullif(substr(digits, 3), ''), '0')::int;
        IF shift >= 1440 THEN
            RETURN NULL;
        END IF;
        IF substr(zone, 1, 1) = '-' THEN
            moment := moment + make_interval(mins => shift);
        ELSE
            moment := moment - make_interval(mins => shift);
        END IF;
        IF moment < timestamp '0001-01-01' OR moment >= timestamp '10000-01-01' THEN
            RETURN NULL;
        END IF;
    END IF;
    fraction := rtrim(coalesce(m[7], ''), '0');
    RETURN to_char(moment, 'YYYY-MM-DD"T"HH24:MI:SS')
           || CASE WHEN fraction = '' THEN '' ELSE '.' || fraction END;
END
$$;

CREATE OR REPLACE FUNCTION catalogql_number_text(j jsonb) RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    n numeric;
    t text;
    sign text := '';
    body text;
    digits text;
    exponent integer;
BEGIN
    IF jsonb_typeof(j) <> 'number' THEN
        RETURN NULL;
    END IF;
    n := j::numeric;
    t := j::text;
    -- Python writes an integer, or a float between 1e-4 and 1e16, as it is stored ...
    IF n = 0 OR (abs(n) >= 0.0001 AND abs(n) < 1e16) OR (scale(n) = 0 AND abs(n) < 1e16) THEN
        RETURN t;
    END IF;
    -- ... and any other float in scientific notation: 1e+16, 1.5e-05.
    IF left(t, 1) = '-' THEN
        sign := '-';
        t := substr(t, 2);
    END IF;
    IF position('.' IN t) > 0 AND split_part(t, '.', 1) = '0' THEN
        body := split_part(t, '.', 2);
        digits := ltrim(body, '0');
        exponent := -(length(body) - length(digits) + 1);
    ELSE
        body := split_part(t, '.', 1);
        digits := body || split_part(t, '.', 2);
        exponent := length(body) - 1;
    END IF;
    digits := rtrim(digits, '0');
    RETURN sign || left(digits, 1)
        || CASE WHEN length(digits) > 1 THEN '.' || substr(digits, 2) ELSE '' END
        || 'e' || CASE WHEN exponent < 0 THEN '-' ELSE '+' END
        || CASE WHEN abs(exponent) < 10 THEN '0' ELSE '' END || abs(exponent)::text;
END
$$;
"""


def _split_functions(script: str) -> dict[str, str]:
    """The ``CREATE FUNCTION`` statements of ``script``, by function name."""
    head = "CREATE OR REPLACE FUNCTION "
    parts = [head + part.strip() + "\n" for part in script.split(head) if part.strip()]
    return {part[len(head) :].split("(", 1)[0]: part for part in parts}


POSTGRES_FUNCTIONS = MappingProxyType(_split_functions(_POSTGRES_FUNCTIONS))
"""The helper functions PostgreSQL's compiled SQL may call, by name: their ``CREATE FUNCTION``."""

SQLITE_FUNCTIONS = ("catalogql_instant",)
"""The helper functions SQLite's compiled SQL may call: Python functions on the connection."""

_CALL_RE = re.compile(r"\b(catalogql_[a-z_]+)\(")


def needed_functions(sql: str) -> tuple[str, ...]:
    """The helper functions a compiled SQL text calls, in order of first use.

    Property names are JSON keys in quotes and literals are bound parameters, so a name
    followed by ``(`` in the SQL is a call.

    Args:
        sql: SQL from :func:`to_sql` (or an SQLAlchemy expression of :func:`to_sqlalchemy`,
            compiled to text).

    Returns:
        The names of the ``catalogql_*`` functions it calls; empty when it calls none.

    >>> from catalogql import parse_filter
    >>> needed_functions(to_sql(parse_filter("catalogID = 1050*"), "postgresql")[0])
    ('catalogql_number_text',)
    >>> needed_functions(to_sql(parse_filter("sensorPlatformName = WORLDVIEW03*"), "postgresql")[0])
    ()
    """
    return tuple(dict.fromkeys(_CALL_RE.findall(sql)))


def functions_sql(names: Sequence[str] | None = None) -> str:
    """The ``CREATE OR REPLACE FUNCTION`` text of PostgreSQL helper functions, to run as it is.

    What :func:`install_functions` runs on PostgreSQL, for pasting into ``psql`` or a migration.

    Args:
        names: The functions (e.g. :func:`needed_functions` of a compiled SQL); None for all.

    Returns:
        The statements, one after the other ("" for no names).

    Raises:
        QueryError: For a name that is not one of :data:`POSTGRES_FUNCTIONS`.

    >>> print(functions_sql(["catalogql_number_text"]).splitlines()[0])
    CREATE OR REPLACE FUNCTION catalogql_number_text(j jsonb) RETURNS text
    """
    chosen = list(POSTGRES_FUNCTIONS) if names is None else list(names)
    unknown = [name for name in chosen if name not in POSTGRES_FUNCTIONS]
    if unknown:
        raise QueryError(
            f"no such helper function: {unknown[0]!r}",
            code="compile.unknown-function",
            hint="the helper functions are " + ", ".join(POSTGRES_FUNCTIONS),
        )
    return "\n".join(POSTGRES_FUNCTIONS[name] for name in chosen)


def install_functions(target: Any) -> None:
    """Create the SQL functions the compiled SQL calls, on a connection or an engine.

    * SQLite: ``catalogql_instant`` as a deterministic Python function on the connection (on an
      SQLAlchemy engine: on each connection it opens). Takes a ``sqlite3.Connection`` too.
    * PostgreSQL: ``catalogql_instant(text)`` and ``catalogql_number_text(jsonb)`` as immutable
      functions of the database (``CREATE OR REPLACE``, so running it again is harmless).

    Args:
        target: A ``sqlite3.Connection``, or an SQLAlchemy ``Engine`` or ``Connection``.

    Raises:
        QueryError: For any other kind of target.

    >>> import sqlite3
    >>> connection = sqlite3.connect(":memory:")
    >>> install_functions(connection)
    >>> connection.execute("SELECT catalogql_instant('2015-07-31T12:07:17.50+02:00')").fetchone()
    ('2015-07-31T10:07:17.5',)
    """
    if isinstance(target, sqlite3.Connection):
        target.create_function("catalogql_instant", 1, _sqlite_instant, deterministic=True)
        return
    if isinstance(target, sa.Engine):
        if target.dialect.name == "sqlite":
            sa.event.listen(target, "connect", lambda dbapi, _: install_functions(dbapi))
            target.dispose()  # connections opened before now get the function when reopened
            return
        with target.begin() as connection:
            install_functions(connection)
        return
    if isinstance(target, sa.Connection):
        if target.dialect.name == "sqlite":
            install_functions(target.connection.dbapi_connection)
        else:
            target.exec_driver_sql(functions_sql())
        return
    raise QueryError(
        f"cannot install functions on a {type(target).__name__}",
        code="compile.install",
        hint="pass a sqlite3.Connection or an SQLAlchemy Engine or Connection",
    )


def _sqlite_instant(value: object) -> str | None:
    return instant_key(value) if isinstance(value, str) else None
