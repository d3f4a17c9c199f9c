"""Compile the AST to fast in-memory predicates.

Filters are three-valued (SPEC section 4): a comparison on a missing or null property is unknown,
and NOT of unknown is unknown, so neither ``x < 20`` nor ``NOT x < 20`` selects a record without
``x``. The compilers push NOT down to the comparisons (De Morgan holds in three-valued logic) and
build, for each comparison, a test that is true when the comparison is *true* (positive) or one
that is true when it is *false* (negative). AND and OR above them are then plain two-valued
``and``/``or``, which gives exactly the three-valued result at the top (unknown selects nothing)
without carrying a third value around.

There are two compilers with the same results, record for record:

* **Generated code** (:class:`_Generator`), for trees up to ``MAX_GENERATED_DEPTH`` levels of
  AND/OR and ``MAX_GENERATED_LEAVES`` comparisons, which is every filter anyone writes: one Python
  function whose body is a single expression. Each comparison reads its property once (a later
  comparison of the same property in the same chain reuses the read) and dispatches on the
  value's exact type. Where the comparator's answer is a plain Python comparison it is inlined -
  a number against a number literal, a string against a text literal or as an instant, a string
  against a wildcard (two string comparisons for ``WV03*``, ``endswith``, ``in``, else the
  pattern's regex) - and every other value (lists, booleans, anything else) goes to the very
  comparator of :mod:`catalogql.semantics` that the closures call. No property name or literal
  ever enters the source: each is bound to a generated name, so the source depends only on the
  filter's shape, compiles once per shape, and cannot be injected into. The compiled function is
  also cached per (filter, declared types of its properties).
* **Closures** (:class:`_Compiler`), for deeper or wider trees: one small closure per node, which
  compiles in a few microseconds but runs two to three times as slowly.

``benchmarks/predicate_codegen.py`` times the two against each other, and
``benchmarks/predicate.py`` the generated code against pygeofilter's.

>>> from catalogql import parse_filter
>>> keep = compile_predicate(parse_filter("NOT cloudCover < 20"))
>>> keep({"cloudCover": 30}), keep({"cloudCover": 10}), keep({})
(True, False, False)
"""

from __future__ import annotations

import functools
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from types import CodeType, FunctionType
from typing import Any, ClassVar, cast

from catalogql.ast import (
    And,
    Comparison,
    Match,
    Node,
    Not,
    Op,
    Or,
    TypeName,
    TypePattern,
    Wildcard,
    fold,
    tree_bytes,
    tree_depth,
)
from catalogql.caches import sized_cache
from catalogql.queryables import check_schema, property_type
from catalogql.semantics import (
    PropertyType,
    Tri,
    ValueType,
    instant_key,
    list_any,
    literal_instant,
    literal_number,
    match_comparator,
    not_tri,
    pattern_matcher,
    property_getter,
    scalar_comparator,
    value_domains,
)
from catalogql.syntax.errors import QueryError, QueryLimitError

__all__ = ["Predicate", "TypesPredicate", "compile_predicate", "compile_types"]

Predicate = Callable[[Mapping[str, Any]], bool]
TypesPredicate = Callable[[Sequence[str]], bool]

Declared = tuple[tuple[str, PropertyType | None], ...]
"""The declared type of each property a filter compares (from :func:`property_type`)."""


def compile_predicate(
    node: Node, schema: Mapping[str, Any] | None = None, *, few: bool = False
) -> Predicate:
    """A function of a record's ``properties`` that is True where the filter selects it.

    Never raises on any record: values of unexpected types compare as unknown. Compiling the same
    filter again (with the same declared types) returns the same function from a cache.

    Args:
        node: A filter AST (from :func:`catalogql.parse_filter`).
        schema: A queryables schema; declared types then decide how values compare.
        few: The predicate will test a handful of records: it is built as closures (~6 µs
            for one comparison; cached apart, when there is no schema) instead of generated
            code (~20 µs to build, about twice as fast a record after). The same answers.

    Returns:
        The predicate.

    Raises:
        QueryError: If ``node`` is not a filter AST, or is deeper than ``MAX_COMPILED_DEPTH``.

    >>> from catalogql import parse_filter
    >>> keep = compile_predicate(parse_filter("sensorPlatformName = WORLDVIEW03* AND cloudCover < 20"))
    >>> keep({"sensorPlatformName": "WORLDVIEW03_VNIR", "cloudCover": 5})
    True
    >>> compile_predicate(parse_filter("cloudCover < 20"), few=True)({"cloudCover": 5})
    True
    """  # noqa: E501
    if schema is None and isinstance(node, Node):  # cached by the filter alone
        return _compile_few(node) if few else _compile_plain(node)
    return _compile_closures(node, schema) if few else _compile(node, schema)


def _compile(node: Node, schema: Mapping[str, Any] | None) -> Predicate:
    """:func:`compile_predicate`, uncached (the generated code has a cache of its own)."""
    shape = _Shape(node)
    checked = check_schema(schema) if schema is not None else None
    shape.check_filter()
    if not shape.generated:
        return _Compiler(checked).build(node, True)
    declared = _declared(checked, shape.names)
    try:
        hash(declared)  # a schema's enum may hold unhashable values: then compile afresh
    except TypeError:
        return _generate(node, declared)
    return _generate_cached(node, declared)


MAX_COMPILED_DEPTH = 400
"""The deepest tree the predicate compilers accept.

A predicate of closures is nested closures, one Python call per level when it runs, so a tree
deeper than this could exhaust Python's stack. The parser's default depth limit (256) is well
below it; a tree parsed with a raised :class:`~catalogql.Limits` may not be.
"""

MAX_GENERATED_DEPTH = 40
"""The deepest nesting of AND/OR (NOTs aside) compiled to generated code; deeper: closures.

CPython refuses source nested past 200 parentheses, and compiles deep expressions slowly.
"""

MAX_GENERATED_LEAVES = 128
"""The most comparisons compiled to generated code; more: closures.

CPython compiles the source in about 40 µs per comparison (once per shape of filter), and more
slowly than linearly past a few hundred.
"""

_CACHE_SIZE = 256

_PREDICATE_BYTES = 5
"""A compiled predicate takes about 4.5 times its tree's :func:`tree_bytes` (tracemalloc: 1.4 KB a
comparison of ``a=1 AND a=1 ...``); the cache charges five, plus the tree it is keyed by."""


def _predicate_bytes(args: tuple[Any, ...], value: object) -> int:
    """``(node,)`` or ``(node, declared)``: the tree, its predicate, the declared types."""
    declared = args[1] if len(args) > 1 else ()
    return (1 + _PREDICATE_BYTES) * tree_bytes(args[0]) + 128 * len(declared)


def _depth_error(depth: int) -> QueryLimitError:
    return QueryLimitError(
        f"a tree {depth} levels deep is past the {MAX_COMPILED_DEPTH} levels a predicate "
        "can be compiled to",
        limit="depth",
        hint="flatten the expression (AND and OR chains of any length are fine)",
    )


def _not_a_filter(node: object) -> QueryError:
    return QueryError(
        f"not a filter node: {type(node).__name__}",
        code="compile.not-a-filter",
        hint="pass the result of parse_filter(); type expressions go to compile_types()",
    )


def _check_depth(node: Node) -> None:
    depth = tree_depth(node)
    if depth > MAX_COMPILED_DEPTH:
        raise _depth_error(depth)


_CHAIN_LEVEL: dict[type, int] = {And: 1, Or: 1}
"""The AND/OR nesting a node adds (code generation is limited by it, NOTs aside)."""

_FILTER_LEAVES = frozenset((Comparison, Match))


class _Shape:
    """One walk over a filter: its depth, AND/OR nesting, comparisons and property names.

    Raises the depth error at once; :meth:`check_filter` raises the not-a-filter error, after
    the caller has checked the schema (the order the errors have always come in).
    """

    def __init__(self, node: Node) -> None:
        names: dict[str, None] = {}
        self.stray: object | None = None
        leaves = 0

        def visit(current: object, children: list[tuple[int, int]]) -> tuple[int, int]:
            # (levels, AND/OR nesting) of the subtree under ``current``
            nonlocal leaves
            if children:
                deepest = nested = 0
                for depth, chains in children:  # (a loop: this runs on every compile)
                    deepest = depth if depth > deepest else deepest
                    nested = chains if chains > nested else nested
                return 1 + deepest, _CHAIN_LEVEL.get(type(current), 0) + nested
            if type(current) in _FILTER_LEAVES:
                leaves += 1
                names[cast(Comparison | Match, current).property] = None
            elif self.stray is None:
                self.stray = current
            return 1, 0

        depth, chains = fold(node, visit)
        if depth > MAX_COMPILED_DEPTH:
            raise _depth_error(depth)
        self.names = tuple(names)
        self.generated = chains <= MAX_GENERATED_DEPTH and leaves <= MAX_GENERATED_LEAVES

    def check_filter(self) -> None:
        if self.stray is not None:
            raise _not_a_filter(self.stray)


def _declared(schema: Mapping[str, Any] | None, names: Sequence[str]) -> Declared:
    if schema is None:
        return ()
    return tuple((name, property_type(schema, name)) for name in names)


def _compile_closures(node: Node, schema: Mapping[str, Any] | None = None) -> Predicate:
    """:func:`compile_predicate` with closures, whatever the tree's size (for tests, benchmarks)."""
    _check_depth(node)
    return _Compiler(check_schema(schema) if schema is not None else None).build(node, True)


def _compile_generated(node: Node, schema: Mapping[str, Any] | None = None) -> Predicate:
    """:func:`compile_predicate` as generated code, never cached (for tests and benchmarks).

    Raises:
        QueryLimitError: If the tree is past ``MAX_GENERATED_DEPTH`` or ``MAX_GENERATED_LEAVES``.
    """
    shape = _Shape(node)
    checked = check_schema(schema) if schema is not None else None
    shape.check_filter()
    if not shape.generated:
        raise QueryLimitError(
            "a tree this deep or wide compiles to closures, not generated code", limit="depth"
        )
    return _generate(node, _declared(checked, shape.names))


def _generate(node: Node, declared: Declared) -> Predicate:
    return _Generator(dict(declared)).function(node)


_generate_cached = sized_cache(_CACHE_SIZE, 8 << 20, _predicate_bytes)(_generate)


@sized_cache(_CACHE_SIZE, 16 << 20, _predicate_bytes)
def _compile_few(node: Node) -> Predicate:
    """A filter without a schema as closures (``compile_predicate(few=True)``), cached."""
    return _compile_closures(node)


@sized_cache(_CACHE_SIZE, 16 << 20, _predicate_bytes)
def _compile_plain(node: Node) -> Predicate:
    """A filter without a schema, cached by the filter alone: no walk when it was compiled."""
    return _compile(node, None)


def _leaf_scalar(node: Comparison | Match, declared: PropertyType | None) -> Callable[[Any], Tri]:
    """The three-valued comparison of one scalar value, from :mod:`catalogql.semantics`."""
    if isinstance(node, Comparison):
        return scalar_comparator(node.property, node.op, node.value, declared)
    matcher = match_comparator(node.pattern, declared)
    if node.negated:
        return lambda value: not_tri(matcher(value))
    return matcher


# --------------------------------------------------------------------------------------------
# Closures


Polarities = tuple[Predicate, Predicate]
"""A node's two predicates: true where it is true, and true where it is false."""


class _Compiler:
    """One small handler per node kind, folding each node to its two :data:`Polarities`.

    NOT swaps them, which pushes it down to the comparisons; AND is the conjunction of its
    items' "true" tests and the disjunction of their "false" tests (De Morgan), OR the reverse.
    """

    def __init__(self, schema: Mapping[str, Any] | None) -> None:
        self.schema = schema

    def build(self, node: Node, positive: bool) -> Predicate:
        when_true, when_false = fold(node, self.visit)
        return when_true if positive else when_false

    def visit(self, node: object, parts: list[Polarities]) -> Polarities:
        handler = self.HANDLERS.get(type(node))
        if handler is None:
            raise _not_a_filter(node)
        return handler(self, node, parts)

    def and_(self, node: And, parts: list[Polarities]) -> Polarities:
        return _all([p for p, _ in parts]), _any([n for _, n in parts])

    def or_(self, node: Or, parts: list[Polarities]) -> Polarities:
        return _any([p for p, _ in parts]), _all([n for _, n in parts])

    def not_(self, node: Not, parts: list[Polarities]) -> Polarities:
        when_true, when_false = parts[0]
        return when_false, when_true

    def leaf(self, node: Comparison | Match, parts: list[Polarities]) -> Polarities:
        scalar = _leaf_scalar(node, property_type(self.schema, node.property))
        get = property_getter(node.property)
        is_true, is_false = _value_test(scalar, True), _value_test(scalar, False)
        return (lambda props: is_true(get(props))), (lambda props: is_false(get(props)))

    HANDLERS: ClassVar[Mapping[type, Callable[[_Compiler, Any, list[Polarities]], Polarities]]] = {
        And: and_,
        Or: or_,
        Not: not_,
        Comparison: leaf,
        Match: leaf,
    }


def _value_test(scalar: Callable[[Any], Tri], wanted: bool) -> Callable[[Any], bool]:
    """True where a property's value compares as ``wanted`` (missing or null never does)."""

    def test(value: Any) -> bool:
        if value is None:
            return False
        if type(value) is list:
            return list_any(scalar, value) is wanted
        return scalar(value) is wanted

    return test


def _all(parts: list[Predicate]) -> Predicate:
    if len(parts) == 2:
        a, b = parts
        return lambda props: a(props) and b(props)
    if len(parts) == 3:
        a, b, c = parts
        return lambda props: a(props) and b(props) and c(props)

    def every(props: Mapping[str, Any]) -> bool:
        for part in parts:  # noqa: SIM110 - a loop is faster than all() over a generator
            if not part(props):
                return False
        return True

    return every


def _any(parts: list[Predicate]) -> Predicate:
    if len(parts) == 2:
        a, b = parts
        return lambda props: a(props) or b(props)
    if len(parts) == 3:
        a, b, c = parts
        return lambda props: a(props) or b(props) or c(props)

    def some(props: Mapping[str, Any]) -> bool:
        for part in parts:  # noqa: SIM110 - a loop is faster than any() over a generator
            if part(props):
                return True
        return False

    return some


# --------------------------------------------------------------------------------------------
# Generated code

_PY_OPS = {Op.EQ: "==", Op.NE: "!=", Op.LT: "<", Op.LE: "<=", Op.GT: ">", Op.GE: ">="}
_COMPLEMENT = {Op.EQ: Op.NE, Op.NE: Op.EQ, Op.LT: Op.GE, Op.LE: Op.GT, Op.GT: Op.LE, Op.GE: Op.LT}
"""``not (a op b)`` is ``a complement b`` for strings (a total order), never for floats (NaN)."""

_JOINERS: dict[type, tuple[str, str]] = {And: (" and ", " or "), Or: (" or ", " and ")}
"""How a chain joins its items' source: where it is true, and where it is false (De Morgan)."""

_FILENAME = "<catalogql predicate>"
"""The ``co_filename`` of every generated predicate."""

_SOURCE_RE = re.compile(r"def predicate\(p\):\n    return [\w ():=<>!.]+\n", re.ASCII)
_NUMBER_IN_SOURCE_RE = re.compile(r"(?<![A-Za-z0-9_])[0-9]")
"""What generated source can look like: names and operators; never a quote or a number."""

_BUILTINS: dict[str, Any] = {
    "type": type,
    "int": int,
    "float": float,
    "str": str,
    "len": len,
    "_NoneType": type(None),
    "_instant_key": instant_key,
}
"""The names generated source uses besides its constants (and nothing else: no builtins)."""

_STR, _INT, _FLOAT, _NUMBER, _NONE = "str", "int", "float", "number", "none"
"""The value types a leaf's branches test for, in its order (``_NUMBER``: an int or a float)."""


def _as_int(number: int | float) -> int | float:
    """``number`` as an int if it is a float equal to one, else itself.

    An int compares with an integral float exactly as with its int (CPython compares int and
    float exactly), so the int branch of ``v < 20.0`` may compare with ``20``.

    >>> _as_int(20.0), _as_int(20.5), _as_int(float("inf")), _as_int(7)
    (20, 20.5, inf, 7)
    """
    if type(number) is float and number.is_integer():
        return int(number)
    return number


def _as_float(number: int | float) -> int | float:
    """``number`` as a float if it is an int the float equals exactly, else itself.

    >>> _as_float(20), _as_float(2**53 + 1), _as_float(10**400) == 10**400, _as_float(0.5)
    (20.0, 9007199254740993, True, 0.5)
    """
    if type(number) is int:
        try:
            same = float(number)
        except OverflowError:  # past the float range: keep the int
            return number
        if same == number:
            return same
    return number


_DIGITS = (None, True, False)
"""The digits of a placeholder: constants that need neither quotes nor digits in source."""

_VALUE_RE = re.compile(r"(?<![A-Za-z0-9_])_c([0-9]+)(?![A-Za-z0-9_])")
"""A value constant's name in generated source (``_c7``)."""

_COMPILED_RE = re.compile(r"def predicate\(p\):\n    return [\w ():=<>!.,]+\n", re.ASCII)
"""What the source given to ``compile`` can look like: the value names become placeholders."""


def _placeholder(index: int) -> tuple[bool | None, ...]:
    """The tuple standing for the value constant ``_c{index}`` in compiled source.

    Its digits (base 3, most significant first) are None, True and False, so the source holds
    no number and no quote, and no two indexes share a placeholder.

    >>> _placeholder(0), _placeholder(5), _placeholder_index(_placeholder(1234))
    ((None,), (True, False), 1234)
    """
    digits: list[bool | None] = []
    while True:
        index, digit = divmod(index, 3)
        digits.append(_DIGITS[digit])
        if not index:
            return tuple(reversed(digits))


@functools.lru_cache(maxsize=4096)
def _placeholder_index(placeholder: tuple[object, ...]) -> int:
    """The index :func:`_placeholder` made ``placeholder`` from (cached: every bind asks)."""
    index = 0
    for digit in placeholder:
        index = 3 * index + _DIGITS.index(digit)
    return index


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _code(source: str) -> CodeType:
    """The code of the function ``source`` defines (filters of the same shape share it).

    Each value constant's name (``_c7``) is compiled as a placeholder tuple constant, replaced
    by the value itself in each function's copy of the code (:meth:`_Generator.function`):
    CPython loads a constant faster than a global, and can fuse the load with the one before.
    """
    if not _SOURCE_RE.fullmatch(source) or _NUMBER_IN_SOURCE_RE.search(source):
        raise AssertionError(f"unexpected generated source: {source!r}")  # a generator bug
    compiled = _VALUE_RE.sub(lambda m: repr(_placeholder(int(m.group(1)))), source)
    if not _COMPILED_RE.fullmatch(compiled) or _NUMBER_IN_SOURCE_RE.search(compiled):
        raise AssertionError(f"unexpected compiled source: {compiled!r}")
    module = compile(compiled, _FILENAME, "exec", dont_inherit=True)
    return next(c for c in module.co_consts if isinstance(c, CodeType))


def _bind(code: CodeType, values: Sequence[object]) -> CodeType:
    """A copy of ``code`` whose placeholders are the values they stand for."""
    # Only placeholders are tuples among the constants of generated code.
    consts = tuple(values[_placeholder_index(c)] if type(c) is tuple else c for c in code.co_consts)
    return code.replace(co_consts=consts)


class _Generator:
    """A filter as the source of one Python function, NOT pushed down to the comparisons.

    ``expr`` returns source that is True where the node is true (``positive``) or where it is
    false (not ``positive``). The first comparison of a property (here the k-th) reads it::

        (v0 < _c1 if (t0 := type(v0 := p.get(_c0))) is int
         else v0 < _c2 if t0 is float
         else v0 < _c3 if t0 is str
         else False if v0 is None
         else _k0(v0))

    ``_c0`` is bound to the property name, ``_c1`` and ``_c2`` to the literal as an int and as a
    float where either equals it exactly (else the literal as it is: CPython then specializes
    each comparison for its own two types), ``_c3`` to the literal as text, and ``_k0`` to the
    comparator :mod:`catalogql.semantics` gives, which answers for every other value (lists,
    booleans, unexpected types). The inline branches are that comparator's own answer for those
    types, written out: ``cmp(value, number)`` for an int or a float, ``cmp(value, text)`` or
    ``cmp(instant_key(value), instant)`` for a string, by the same rules and from the same
    ``literal_number``, ``literal_instant`` and declared type. The function returns
    ``True if <the whole test> else False``, so that CPython compiles the test to jumps only.

    The source names nothing from the filter: every property name and literal is bound as a
    constant, so the source depends only on the filter's shape, and compiles once per shape.
    Values (names, literals: ``_c0``, ``_c1``...) become constants of the code (:func:`_code`);
    functions (the comparators: ``_k0``...) stay globals of its namespace.
    """

    def __init__(self, declared: Mapping[str, PropertyType | None]) -> None:
        self.declared = declared
        self.namespace: dict[str, Any] = {"__builtins__": {}, **_BUILTINS}
        self.values: list[object] = []
        self.reads = self.bound = 0

    def function(self, node: Node) -> Predicate:
        body, _ = self.expr(node, True, {})
        # ``True if ... else False``: the whole test compiles to jumps, no value is built on the
        # way, and each comparison is followed by a jump, which CPython specializes it for.
        source = f"def predicate(p):\n    return True if {body} else False\n"
        # A copy of the shared code, with this filter's values: CPython also specializes each
        # code object for the namespace it runs with, so sharing one would undo that.
        predicate = FunctionType(_bind(_code(source), self.values), self.namespace)
        predicate.__doc__ = source  # for a reader in a debugger
        return cast(Predicate, predicate)

    def constant(self, value: object) -> str:
        """A name bound to ``value`` in the function's namespace (for functions it calls)."""
        name = f"_k{self.bound}"
        self.bound += 1
        self.namespace[name] = value
        return name

    def value(self, value: object) -> str:
        """A name for ``value`` that becomes a constant of the code (never called: see _code)."""
        name = f"_c{len(self.values)}"
        self.values.append(value)
        self.namespace[name] = value  # also a global, for a reader of ``__doc__`` in a debugger
        return name

    def expr(
        self, node: Node, positive: bool, known: dict[str, int]
    ) -> tuple[str, tuple[str, int]]:
        """Source for ``node``, and the read (property, k) its evaluation always makes first.

        ``known`` maps the properties already read, whenever this node runs, to their reads.
        """
        # Recursive, by exception: ``known`` flows down and across, and the depth is bounded by
        # MAX_GENERATED_DEPTH (NOTs loop here, and deeper trees compile to closures).
        while type(node) is Not:
            (node,) = node.children()
            positive = not positive
        joiners = _JOINERS.get(type(node))
        if joiners is not None:
            joiner = joiners[0] if positive else joiners[1]
            seen = dict(known)  # items after the first run only after the first read of each
            parts = []
            first: tuple[str, int] | None = None
            for item in node.children():
                text, read = self.expr(item, positive, seen)
                parts.append(text)
                seen.setdefault(*read)
                first = first or read
            assert first is not None
            return "(" + joiner.join(parts) + ")", first
        if type(node) in _FILTER_LEAVES:
            return self.leaf(cast(Comparison | Match, node), positive, known)
        raise _not_a_filter(node)

    def leaf(
        self, node: Comparison | Match, positive: bool, known: dict[str, int]
    ) -> tuple[str, tuple[str, int]]:
        name = node.property
        declared = self.declared.get(name)
        domains = value_domains(name, declared)
        k = known.get(name)
        if k is None:
            k = self.reads
            self.reads += 1
            read = (
                # property_getter's own call for a plain name; interned, as the names of
                # records built in Python are, so that the lookup finds it by identity
                f"p.get({self.value(sys.intern(name))})"
                if "." not in name
                else f"{self.constant(property_getter(name))}(p)"
            )
            t = f"(t{k} := type(v{k} := {read}))"
        else:
            t = f"t{k}"
        v = f"v{k}"
        if isinstance(node, Comparison):
            branches = self.comparison(node, positive, domains, v, k)
        else:
            branches = self.match(node, positive, domains, v)
        branches.append((_NONE, "False"))  # missing or null: unknown
        out = []
        for kind, then in branches:
            if kind is _INT:
                test = f"{t} is int"
            elif kind is _FLOAT:
                test = f"{t} is float"
            elif kind is _NUMBER:
                test = f"{t} is int or t{k} is float"
            elif kind is _STR:
                test = f"{t} is str"
            else:
                test = f"{v} is None" if t == f"t{k}" else f"{t} is _NoneType"
            out.append(f"{then} if {test} else ")
            t = f"t{k}"
        # Any other value: the comparator itself (lists, booleans, unexpected types).
        out.append(f"{self.constant(_value_test(_leaf_scalar(node, declared), positive))}({v})")
        return "(" + "".join(out) + ")", (name, k)

    def comparison(
        self, node: Comparison, positive: bool, domains: Mapping[type, ValueType], v: str, k: int
    ) -> list[tuple[str, str]]:
        """The inline branches of ``scalar_comparator``: for numbers, and for strings."""
        op = node.op
        number = literal_number(node.value)
        branches: list[tuple[str, str]] = []
        if domains.get(int) is ValueType.NUMBER:
            if number is None:
                branches.append((_NUMBER, "False"))  # compare_number: unknown
            else:
                # One branch per type, each against the literal as that type where it is equal
                # to it exactly: CPython then specializes each comparison for its two types.
                for kind, same in ((_INT, _as_int(number)), (_FLOAT, _as_float(number))):
                    test = f"{v} {_PY_OPS[op]} {self.value(same)}"
                    branches.append((kind, test if positive else f"not {test}"))
        string = domains.get(str)
        if string is ValueType.TEXT:
            text_op = op if positive else _COMPLEMENT[op]
            branches.append((_STR, f"{v} {_PY_OPS[text_op]} {self.value(node.value.text)}"))
        elif string is ValueType.DATETIME:
            instant = literal_instant(node.value)
            if instant is None:
                branches.append((_STR, "False"))  # compare_instant: unknown
            else:
                test = f"m{k} {_PY_OPS[op]} {self.value(instant)}"
                then = f"(m{k} := _instant_key({v})) is not None and "
                branches.append((_STR, then + (test if positive else f"not {test}")))
        if number is None:  # a text literal: strings first
            branches.reverse()
        return branches

    def match(
        self, node: Match, positive: bool, domains: Mapping[type, ValueType], v: str
    ) -> list[tuple[str, str]]:
        """The inline branch of ``match_comparator`` for strings (their own text form)."""
        if str not in domains:
            return []
        test = self.pattern_test(node, v)
        matched = positive != node.negated  # the match result that makes the leaf true
        return [(_STR, test if matched else f"not ({test})")]

    def pattern_test(self, node: Match, v: str) -> str:
        """Source true where the string ``v`` matches the pattern (``pattern_matcher``)."""
        parts = node.pattern
        texts = [part for part in parts if isinstance(part, str)]
        shape = tuple(
            "*" if part is Wildcard.ANY else "." if part is Wildcard.ONE else "t" for part in parts
        )
        if shape == ("*",):
            return "True"
        if shape == ("t", "*"):
            return self.prefix_test(texts[0], v)
        if shape == ("*", "t"):
            return f"{v}.endswith({self.value(texts[0])})"
        if shape == ("*", "t", "*"):
            return f"{self.value(texts[0])} in {v}"
        if shape == ("t", "*", "t"):
            head, tail = texts
            size = self.value(len(head) + len(tail))
            return (
                f"len({v}) >= {size} and {self.prefix_test(head, v)}"
                f" and {v}.endswith({self.value(tail)})"
            )
        return f"{self.constant(pattern_matcher(parts))}({v})"

    def prefix_test(self, prefix: str, v: str) -> str:
        """Source true where the string ``v`` starts with ``prefix`` (not empty).

        Strings order by code point, so ``v`` starts with ``prefix`` exactly when
        ``prefix <= v < after``, ``after`` being ``prefix`` with its last code point incremented:
        two string comparisons, which run faster than a call of ``str.startswith``.
        """
        if ord(prefix[-1]) == sys.maxunicode:
            return f"{v}.startswith({self.value(prefix)})"
        after = prefix[:-1] + chr(ord(prefix[-1]) + 1)
        return f"{self.value(prefix)} <= {v} < {self.value(after)}"


# --------------------------------------------------------------------------------------------
# Type expressions


def compile_types(texpr: Node) -> TypesPredicate:
    """A function of a record's ``type`` list that is True where the type expression holds.

    A name matches when the list contains it exactly (case-sensitive); a pattern when any type
    matches it.

    Args:
        texpr: A type-expression AST (from :func:`catalogql.parse_types`).

    Returns:
        The predicate.

    Raises:
        QueryError: If ``texpr`` is not a type-expression AST, or is deeper than
            ``MAX_COMPILED_DEPTH``.

    >>> from catalogql import parse_types
    >>> holds = compile_types(parse_types("WV02 AND NOT IDAHOImage"))
    >>> holds(["GBDXCatalogRecord", "WV02"]), holds(["WV02", "IDAHOImage"])
    (True, False)
    """
    _check_depth(texpr)
    return _compile_types(texpr)


def _compile_types(texpr: Node) -> TypesPredicate:
    def visit(node: object, parts: list[TypesPredicate]) -> TypesPredicate:
        handler = _TYPE_HANDLERS.get(type(node))
        if handler is None:
            raise QueryError(
                f"not a type-expression node: {type(node).__name__}",
                code="compile.not-a-type-expression",
                hint="pass the result of parse_types(); filters go to compile_predicate()",
            )
        return handler(node, parts)

    return fold(texpr, visit)


def _type_name(node: TypeName, parts: list[TypesPredicate]) -> TypesPredicate:
    name = node.name
    return lambda types: name in types


def _type_pattern(node: TypePattern, parts: list[TypesPredicate]) -> TypesPredicate:
    matches = pattern_matcher(node.pattern)
    return lambda types: any(matches(t) for t in types if isinstance(t, str))


def _type_not(node: Not, parts: list[TypesPredicate]) -> TypesPredicate:
    inner = parts[0]
    return lambda types: not inner(types)


def _type_and(node: And, parts: list[TypesPredicate]) -> TypesPredicate:
    return cast(TypesPredicate, _all(cast(list[Predicate], parts)))


def _type_or(node: Or, parts: list[TypesPredicate]) -> TypesPredicate:
    return cast(TypesPredicate, _any(cast(list[Predicate], parts)))


_TYPE_HANDLERS: dict[type, Callable[[Any, list[TypesPredicate]], TypesPredicate]] = {
    TypeName: _type_name,
    TypePattern: _type_pattern,
    Not: _type_not,
    And: _type_and,
    Or: _type_or,
}
"""One handler per type-expression node kind: the node and its children's predicates."""
