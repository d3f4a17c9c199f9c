"""The Descartes ``q`` JSON (``query_expr``) to the AST, and back: a third front end.

The Descartes Labs v1 client sends its property filter as JSON (WIRE.md section 7)::

    {"and": [EXPR, ...]}   {"or": [EXPR, ...]}            lists of one item or more
    {"eq": {NAME: VALUE}}  {"ne": {NAME: VALUE}}          VALUE: number, string, true/false, null
    {"range": {NAME: {OP: VALUE [, OP: VALUE]}}}          OP: lt, lte, gt, gte (any key order)
    {"like": {NAME: PATTERN}}                             SQL LIKE: % any run, _ one character

:func:`parse_query_expr` reads it into the same AST as a GBDX filter text, so every back end
(predicate, SQL, CQL2, canonical text) serves it unchanged; :func:`to_query_expr` writes a node
back. What this module decides (the wire does not say):

* **Values.** A JSON number is a number literal with its shortest text (``0.2``, ``12``; an
  integral float keeps its ``.0``); a string is quoted text, compared as GBDX compares it (a date
  is plain text, compared as an instant on a date-time property such as ``timestamp``; text that
  is a number compares numerically with a number property); ``true``/``false`` are the boolean
  barewords. NaN and the infinities are not JSON numbers and are refused.
* **null.** ``{"ne": {"x": null}}`` means "x is present and not null": ``x = *`` (a
  :class:`~catalogql.ast.Match` on any text, false on a missing or null value). ``{"eq": {"x":
  null}}`` means "x is missing or null", which the AST cannot express (every comparison on a
  missing property is unknown, and NOT keeps it unknown): it is refused with an
  :class:`~catalogql.syntax.errors.Inexpressible` (422) naming its path. A null range bound or
  ``like`` pattern is a 400.
* **like.** ``%`` is the AST's ``*`` wildcard and ``_`` its one-character wildcard; a backslash
  makes the next character literal (``\\%``, ``\\_``, ``\\\\``). A ``*`` in a LIKE pattern is a
  literal star (the AST holds literal text apart from wildcards, so nothing is lost). A pattern
  without wildcards is an equality with its text, as the GBDX ``LIKE`` is.
* **range** with two bounds is the AND of two comparisons, in the object's key order; ``eq`` is
  exact equality (a ``*`` in its value is a literal star).
* **Limits** are the parser's :class:`~catalogql.syntax.parser.Limits`: ``max_depth`` nested
  ``and``/``or`` levels, ``max_comparisons`` comparisons (each range bound is one), and
  ``max_length`` characters of names and strings in all (or of the JSON text); past one, a
  :class:`~catalogql.syntax.errors.QueryLimitError` (413). The walk uses an explicit stack, and
  JSON text is depth-scanned before :func:`json.loads` (which recurses), so a 100,000-deep input
  is refused cleanly.

Every problem is a :class:`~catalogql.syntax.errors.QueryError` whose problem's ``field`` is the
JSON path of the offending part (``query_expr.and[0].range.cloud_fraction.lt``), with a hint.

>>> parse_query_expr({"and": [{"range": {"cloud_fraction": {"gte": 0.1, "lt": 0.3}}},
...                           {"like": {"key": "img_%"}}]})  # doctest: +ELLIPSIS
And(items=(Comparison(property='cloud_fraction', op=<Op.GE: '>='>, ...), Match(...)))
>>> to_query_expr(parse_query_expr({"or": [{"eq": {"sat_id": "A"}}, {"ne": {"x": 1}}]}))
{'or': [{'eq': {'sat_id': 'A'}}, {'ne': {'x': 1}}]}
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import math
import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation, localcontext
from typing import Any, NamedTuple

from catalogql.ast import (
    NUMBER_RE,
    PROPERTY_RE,
    And,
    Comparison,
    FilterNode,
    Literal,
    LiteralKind,
    Match,
    Node,
    Op,
    Or,
    Wildcard,
    fold,
    unchecked_chain,
    unchecked_comparison,
    unchecked_literal,
    unchecked_match,
)
from catalogql.syntax.errors import (
    Inexpressible,
    QueryError,
    QueryLimitError,
    QuerySyntaxError,
    QueryValidationError,
)
from catalogql.syntax.parser import DEFAULT_LIMITS, Limits, _like_pieces

__all__ = [
    "QueryAlias",
    "json_depth",
    "load_json_guarded",
    "parse_query_expr",
    "to_query_expr",
]

OPERATORS = ("and", "or", "eq", "ne", "range", "like")
BOUNDS = {"lt": Op.LT, "lte": Op.LE, "gt": Op.GT, "gte": Op.GE}
_BOUND_NAMES = {op: name for name, op in BOUNDS.items()}
_EXAMPLE = '{"and": [{"range": {"cloud_fraction": {"lt": 0.2}}}]}'
_MAX_INT_DIGITS = 4000  # below Python's int-to-text limit (4300 digits)
_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"?|[\[\]{}]', re.DOTALL)


class QueryAlias(NamedTuple):
    """What a ``q`` name stands for in the records: a property, and a factor on its values.

    ``QueryAlias("cloudCover", 100)`` reads ``cloud_fraction < 0.2`` as ``cloudCover < 20``
    (exactly, in decimal: the literal ``0.2`` becomes ``20.0``).

    >>> QueryAlias("timestamp").scale
    1
    """

    property: str
    scale: int = 1


def _path_key(path: str, key: str) -> str:
    """``path.key``, or ``path["key"]`` when the key is not a plain name."""
    if PROPERTY_RE.fullmatch(key):
        return f"{path}.{key}" if path else key
    return f"{path}[{json.dumps(key)}]"


def _show(key: object) -> str:
    """A key as text for a path or a message, whatever it is (a huge int, a broken __str__)."""
    if isinstance(key, str):
        return key
    try:
        text = str(key)
    except Exception:
        return f"<{type(key).__name__}>"
    return text if len(text) <= 60 else text[:59] + "…"


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, Mapping):
        return "an object"
    return type(value).__name__


def _at(path: str, message: str) -> str:
    """``path: message``, a very long path (deep nesting) cut at its start in the message."""
    if not path:
        return message
    shown = path if len(path) <= 120 else "…" + path[-100:]
    if message.startswith(path):
        return shown + message[len(path) :]
    return f"{shown}: {message}"


def _error(cls: type[QueryError], path: str, message: str, hint: str, code: str) -> QueryError:
    """A QueryError whose problem names the JSON ``path`` as its field (and its message too)."""
    message = _at(path, message)
    error = cls(message, hint=hint, code=code)
    error.problems = (
        dataclasses.replace(error.problem, field=path, offset=None, line=None, column=None),
    )
    return error


def _limit(path: str, message: str, limit: str, hint: str) -> QueryError:
    message = _at(path, message)
    error = QueryLimitError(message, limit=limit, hint=hint)
    error.problems = (
        dataclasses.replace(error.problem, field=path, offset=None, line=None, column=None),
    )
    return error


# --------------------------------------------------------------------------------------------
# JSON text, guarded


def json_depth(text: str) -> int:
    """How deeply the arrays and objects of a JSON text nest (strings skipped), without parsing.

    >>> json_depth('{"and": [{"eq": {"a": "[[["}}]}')
    4
    """
    depth = deepest = 0
    for m in _JSON_TOKEN.finditer(text):
        token = m.group()
        if token in ("[", "{"):
            depth += 1
            deepest = max(deepest, depth)
        elif token in ("]", "}"):
            depth -= 1
    return deepest


def load_json_guarded(
    text: str | bytes | bytearray,
    *,
    field: str = "",
    max_depth: int = 600,
    max_length: int = 64 * 1024,
) -> Any:
    """``json.loads`` of ``text``, refusing first what would make it recurse too deep.

    ``json.loads`` recurses once per nesting level and raises ``RecursionError`` on a deep text;
    this scans the depth first (no recursion) and raises a :class:`QueryLimitError` instead, and
    a :class:`QuerySyntaxError` with the offset for text that is not JSON.

    Args:
        text: The JSON text (bytes are read as UTF-8).
        field: The name of the input, for the error's ``field``.
        max_depth: The deepest nesting accepted.
        max_length: The longest text accepted, in characters.

    Returns:
        The decoded value.

    Raises:
        QueryError: Not JSON (syntax, with the offset), too long or too deep (limit, 413).

    >>> load_json_guarded('{"a": [1]}')
    {'a': [1]}
    >>> load_json_guarded("[" * 10_000)
    Traceback (most recent call last):
      ...
    catalogql.syntax.errors.QueryLimitError: JSON nesting depth 10000 is past the limit of 600 ...
    """
    if isinstance(text, bytes | bytearray):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise _error(
                QuerySyntaxError,
                field,
                f"the JSON text is not UTF-8 (byte {exc.start})",
                "send UTF-8 text",
                "syntax.json",
            ) from None
    if len(text) > max_length:
        raise _limit(
            field,
            f"JSON text of {len(text)} characters is past the limit of {max_length}",
            "length",
            "send a shorter expression, or raise Limits.max_length",
        )
    depth = json_depth(text)
    if depth > max_depth:
        raise _limit(
            field,
            f"JSON nesting depth {depth} is past the limit of {max_depth}",
            "depth",
            "flatten the expression: and/or take lists of any length",
        )
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:
        offset = getattr(exc, "pos", 0)
        error = QuerySyntaxError(
            f"{field or 'the input'} is not JSON: {getattr(exc, 'msg', str(exc))}",
            text=text,
            offset=offset,
            hint=f"send a JSON object such as {_EXAMPLE}",
            code="syntax.json",
        )
        error.problems = (dataclasses.replace(error.problem, field=field),)
        raise error from None


# --------------------------------------------------------------------------------------------
# JSON to AST


class _Budget:
    """The running size of the input, against its limits."""

    __slots__ = ("chars", "comparisons", "limits")

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.chars = 0
        self.comparisons = 0

    def text(self, path: str, text: str) -> None:
        self.chars += len(text)
        if self.chars > self.limits.max_length:
            raise _limit(
                path,
                f"the expression's names and strings are past the limit of "
                f"{self.limits.max_length} characters",
                "length",
                "send a shorter expression, or raise Limits.max_length",
            )

    def comparison(self, path: str) -> None:
        self.comparisons += 1
        if self.comparisons > self.limits.max_comparisons:
            raise _limit(
                path,
                f"more than {self.limits.max_comparisons} comparisons",
                "comparisons",
                "split the expression, or raise Limits.max_comparisons",
            )


def _one_entry(value: object, path: str, what: str, example: str) -> tuple[str, object]:
    """The one ``NAME: value`` entry of an object, or a positioned error."""
    if not isinstance(value, Mapping):
        raise _error(
            QuerySyntaxError,
            path,
            f"{path} must be an object with one {what}, not {_kind(value)}",
            f"write it as {example}",
            "qexpr.not-an-object",
        )
    if len(value) != 1:
        count = "no" if not value else str(len(value))
        hint = f"write it as {example}"
        if len(value) > 1:
            hint = 'one condition per object: join several with {"and": [...]}'
        raise _error(
            QuerySyntaxError,
            path,
            f"{path} must hold exactly one {what}, not {count}",
            hint,
            "qexpr.one-key",
        )
    ((key, inner),) = value.items()
    return key, inner


def _property(
    name: object, path: str, budget: _Budget, aliases: Mapping[str, QueryAlias]
) -> tuple[str, int]:
    """The record property a ``q`` name stands for, and its scale."""
    if not isinstance(name, str) or not PROPERTY_RE.fullmatch(name):
        raise _error(
            QueryValidationError,
            path,
            f"{json.dumps(name)[:60] if isinstance(name, str) else _kind(name)} "
            "is not a property name",
            "a name is letters, digits and '_' (not starting with a digit), dots between parts",
            "qexpr.bad-name",
        )
    budget.text(path, name)
    alias = aliases.get(name)
    return (alias.property, alias.scale) if alias is not None else (name, 1)


def _number_text(value: int | float, path: str) -> str:
    if isinstance(value, float):
        if not math.isfinite(value):
            raise _error(
                QueryValidationError,
                path,
                f"{value!r} is not a JSON number",
                "send a finite number",
                "qexpr.not-finite",
            )
        return repr(value)
    if value.bit_length() > _MAX_INT_DIGITS * 3:
        raise _error(
            QueryValidationError,
            path,
            f"an integer of about {int(value.bit_length() * 0.30103)} digits is too long",
            f"send at most {_MAX_INT_DIGITS} digits",
            "qexpr.number-too-long",
        )
    return str(value)


def _scaled(text: str, scale: int) -> str:
    """``text`` (a number) times ``scale``, exactly, in decimal."""
    if scale == 1:
        return text
    with localcontext() as context:
        context.prec = len(text) + 20
        try:
            return str(Decimal(text) * scale)
        except (InvalidOperation, ValueError):  # pragma: no cover - NUMBER_RE text always reads
            return text


def _literal(value: object, path: str, scale: int, budget: _Budget, bound: bool) -> Literal:
    """The literal of a JSON scalar (eq/ne values and range bounds)."""
    if isinstance(value, bool) and not bound:
        return unchecked_literal("true" if value else "false", LiteralKind.BARE)
    if isinstance(value, int | float) and not isinstance(value, bool):
        text = _number_text(value, path)
        budget.text(path, text)
        return unchecked_literal(_scaled(text, scale), LiteralKind.NUMBER)
    if isinstance(value, str):
        budget.text(path, value)
        if scale != 1 and NUMBER_RE.fullmatch(value.strip()):
            return unchecked_literal(_scaled(value.strip(), scale), LiteralKind.QUOTED)
        return unchecked_literal(value, LiteralKind.QUOTED)
    what = "a number or a string" if bound else "a number, a string, true, false or null"
    hint = 'compare with one value; for several, use {"or": [{"eq": ...}, ...]}'
    if bound:
        hint = 'a bound is a number or a string (dates are strings, e.g. "2020-01-01")'
    raise _error(
        QueryValidationError,
        path,
        f"{path} must be {what}, not {_kind(value)}",
        hint,
        "qexpr.value-type",
    )


def _leaf(
    op: str, body: object, path: str, budget: _Budget, aliases: Mapping[str, QueryAlias]
) -> FilterNode:
    """The node of an ``eq``, ``ne``, ``range`` or ``like`` object."""
    here = f"{path}.{op}"
    if op == "range":
        name, bounds = _one_entry(body, here, "property", '{"range": {"x": {"lt": 1}}}')
        where = _path_key(here, _show(name))
        prop, scale = _property(name, where, budget, aliases)
        if not isinstance(bounds, Mapping) or not 1 <= len(bounds) <= 2:
            got = _kind(bounds) if not isinstance(bounds, Mapping) else f"{len(bounds)} bounds"
            raise _error(
                QuerySyntaxError,
                where,
                f"{where} must be an object of one or two bounds, not {got}",
                'write {"gt": 0.1, "lte": 0.3}: bounds are lt, lte, gt and gte',
                "qexpr.range-bounds",
            )
        items: list[Node] = []
        for key, value in bounds.items():
            at = _path_key(where, _show(key))
            bound_op = BOUNDS.get(key) if isinstance(key, str) else None
            if bound_op is None:
                raise _error(
                    QuerySyntaxError,
                    at,
                    f"unknown range bound {json.dumps(_show(key))[:40]}",
                    "bounds are lt, lte, gt and gte",
                    "qexpr.unknown-bound",
                )
            budget.comparison(at)
            literal = _literal(value, at, scale, budget, bound=True)
            items.append(unchecked_comparison(prop, bound_op, literal, None))
        if len(items) == 1:
            return items[0]  # type: ignore[return-value]
        return unchecked_chain(And, items)
    name, value = _one_entry(body, here, "property", f'{{"{op}": {{"sat_id": "SAT-1"}}}}')
    where = _path_key(here, _show(name))
    prop, scale = _property(name, where, budget, aliases)
    budget.comparison(where)
    if op == "like":
        if not isinstance(value, str):
            raise _error(
                QueryValidationError,
                where,
                f"a like pattern must be a string, not {_kind(value)}",
                "write a SQL LIKE pattern such as \"LC08%\" ('%' any run, '_' one character)",
                "qexpr.value-type",
            )
        if scale != 1:
            raise _error(
                QueryValidationError,
                where,
                f"{name} is stored scaled (x{scale}): a pattern cannot match its text",
                "compare it with range or eq instead",
                "qexpr.like-scaled",
            )
        budget.text(where, value)
        pieces = _like_pieces(value)
        if any(isinstance(piece, Wildcard) for piece in pieces):
            return unchecked_match(prop, pieces, False, None)
        text = pieces[0] if pieces else ""
        assert isinstance(text, str)
        return unchecked_comparison(prop, Op.EQ, unchecked_literal(text, LiteralKind.QUOTED), None)
    if value is None:
        if op == "ne":  # present and not null: any text at all
            return unchecked_match(prop, (Wildcard.ANY,), False, None)
        raise _error(
            Inexpressible,
            where,
            f'{where}: null ("{name} is missing or null") cannot be searched: '
            "the filter language has no test for a missing property",
            f'drop the condition, or use {{"ne": {{"{name}": null}}}} for "{name} is present"',
            "qexpr.null-equality",
        )
    literal = _literal(value, where, scale, budget, bound=False)
    return unchecked_comparison(prop, Op.EQ if op == "eq" else Op.NE, literal, None)


def parse_query_expr(
    obj: object,
    *,
    limits: Limits = DEFAULT_LIMITS,
    field: str = "query_expr",
    aliases: Mapping[str, QueryAlias] | None = None,
) -> FilterNode:
    """Parse a Descartes ``q`` JSON (``query_expr``) into the filter AST.

    Args:
        obj: The decoded JSON (an object), or its JSON text (depth-checked before decoding).
        limits: Depth, comparison and size limits (the parser's).
        field: The name of the input, the first part of every error's path.
        aliases: ``q`` names that stand for other record properties (see :class:`QueryAlias`);
            names not in it are used as they are.

    Returns:
        The AST (an And, Or, Comparison or Match).

    Raises:
        QueryError: A :class:`QuerySyntaxError` or :class:`QueryValidationError` (400) for a
            malformed input, a :class:`QueryLimitError` (413) past a limit, an
            :class:`Inexpressible` (422) for ``{"eq": {"x": null}}``; its problem's ``field``
            is the JSON path of the part at fault.

    >>> parse_query_expr({"and": [{"eq": {"sat_id": "SAT-1"}}]})
    Comparison(property='sat_id', op=<Op.EQ: '='>, value=Literal(text='SAT-1', kind=<LiteralKind.QUOTED: 'quoted'>))
    >>> parse_query_expr({"and": [{"range": {"cloud_fraction": {"lt": "x", "gt": 0}}}]},
    ...                  aliases={"cloud_fraction": QueryAlias("cloudCover", 100)}).items[1].value
    Literal(text='0', kind=<LiteralKind.NUMBER: 'number'>)
    >>> parse_query_expr({"and": [{"range": {"x": {"under": 1}}}]})
    Traceback (most recent call last):
      ...
    catalogql.syntax.errors.QuerySyntaxError: query_expr.and[0].range.x.under: unknown range bound "under" (hint: bounds are lt, lte, gt and gte)
    """  # noqa: E501
    if not isinstance(limits, Limits):
        from catalogql.errors import argument_error

        raise argument_error("parse_query_expr", "limits", limits, "a catalogql.Limits")
    aliases = aliases or {}
    if isinstance(obj, str | bytes | bytearray):
        obj = load_json_guarded(
            obj, field=field, max_depth=2 * limits.max_depth + 8, max_length=limits.max_length
        )
    budget = _Budget(limits)
    # Explicit stack: ("visit", value, path, depth) or ("build", op, count, path).
    results: list[Node] = []
    stack: list[tuple[str, object, str, int]] = [("visit", obj, field, 1)]
    while stack:
        action, value, path, depth = stack.pop()
        if action == "build":
            count = depth
            items = results[len(results) - count :]
            del results[len(results) - count :]
            if count == 1:
                results.append(items[0])
            else:
                results.append(unchecked_chain(And if value == "and" else Or, items))
            continue
        key, body = _one_entry(value, path, "operator", _EXAMPLE)
        if key not in OPERATORS:
            close = difflib.get_close_matches(_show(key)[:20].lower(), OPERATORS, n=1)
            raise _error(
                QuerySyntaxError,
                _path_key(path, _show(key)),
                f"unknown operator {json.dumps(_show(key))[:40]}",
                (f"did you mean {close[0]!r}? " if close else "")
                + "operators are and, or, eq, ne, range and like",
                "qexpr.unknown-operator",
            )
        if key in ("and", "or"):
            here = f"{path}.{key}"
            if depth > limits.max_depth:
                raise _limit(
                    here,
                    f"nesting depth {depth} is past the limit of {limits.max_depth}",
                    "depth",
                    "flatten the expression: and/or take lists of any length",
                )
            if not isinstance(body, list | tuple) or not body:
                got = "an empty list" if isinstance(body, list | tuple) else _kind(body)
                raise _error(
                    QuerySyntaxError,
                    here,
                    f"{here} must be a list of one condition or more, not {got}",
                    f'write {{"{key}": [{{"eq": {{"sat_id": "A"}}}}, ...]}}',
                    "qexpr.empty-list" if isinstance(body, list | tuple) else "qexpr.not-a-list",
                )
            if len(body) > limits.max_comparisons:
                raise _limit(
                    here,
                    f"a list of {len(body)} conditions is past the limit of "
                    f"{limits.max_comparisons} comparisons",
                    "comparisons",
                    "split the expression, or raise Limits.max_comparisons",
                )
            stack.append(("build", key, here, len(body)))
            stack.extend(
                ("visit", body[i], f"{here}[{i}]", depth + 1) for i in range(len(body) - 1, -1, -1)
            )
            continue
        results.append(_leaf(key, body, path, budget, aliases))
    return results[0]  # type: ignore[return-value]


# --------------------------------------------------------------------------------------------
# AST to JSON


def _json_value(literal: Literal) -> object:
    """The JSON value of a literal.

    ``parse_query_expr`` reads it back as the same literal when it can, otherwise as one that
    compares the same (SPEC section 4).
    """
    text = literal.text
    if literal.kind is LiteralKind.BARE and text in ("true", "false"):
        return text == "true"
    if literal.kind is LiteralKind.NUMBER:
        if re.fullmatch(r"-?(?:0|[1-9][0-9]*)", text) and len(text) <= _MAX_INT_DIGITS:
            return int(text)
        try:
            number = float(text)
        except ValueError:  # pragma: no cover - NUMBER_RE text always reads
            return text
        if math.isfinite(number) and repr(number) == text:
            return number
    # Quoted text, a bareword, or a number whose text JSON cannot keep exactly ("1e5", "+2",
    # "1.50"): a string, which compares as the literal does (text that is a number compares
    # numerically with a number property, and by its text with a string property).
    return text


def _like_text(pattern: tuple[str | Wildcard, ...]) -> str:
    out = []
    for part in pattern:
        if part is Wildcard.ANY:
            out.append("%")
        elif part is Wildcard.ONE:
            out.append("_")
        else:
            assert isinstance(part, str)
            out.append(re.sub(r"([\\%_])", r"\\\1", part))
    return "".join(out)


def _inexpressible(what: str, hint: str) -> Inexpressible:
    return Inexpressible(f"the q JSON cannot express {what}", hint=hint, code="qexpr.inexpressible")


def _to_json(node: object, children: list[Any]) -> Any:
    if isinstance(node, And):
        return {"and": children}
    if isinstance(node, Or):
        return {"or": children}
    if isinstance(node, Comparison):
        value = _json_value(node.value)
        if node.op is Op.EQ:
            return {"eq": {node.property: value}}
        if node.op is Op.NE:
            return {"ne": {node.property: value}}
        return {"range": {node.property: {_BOUND_NAMES[node.op]: value}}}
    if isinstance(node, Match):
        if node.negated:
            raise _inexpressible(
                "a negated pattern (<> with a wildcard)", "the q JSON has no negation"
            )
        return {"like": {node.property: _like_text(node.pattern)}}
    raise _inexpressible(
        f"a {type(node).__name__} node",
        "the q JSON has and, or, eq, ne, range and like over properties: no NOT, no types",
    )


def to_query_expr(node: Node) -> dict[str, Any]:
    """The ``q`` JSON of a filter AST: ``parse_query_expr(to_query_expr(n)) == n``.

    The identity holds for every node :func:`parse_query_expr` makes; a literal it does not make
    (a bareword, a number written ``1e5``) is written as a string that compares the same way.

    Raises:
        Inexpressible: NOT, a negated pattern, or a type expression: the q JSON has none.

    >>> to_query_expr(parse_query_expr({"like": {"key": "img\\\\_%"}}))
    {'like': {'key': 'img\\\\_%'}}
    >>> from catalogql.ast import Not
    >>> to_query_expr(Not(parse_query_expr({"eq": {"a": 1}})))
    Traceback (most recent call last):
      ...
    catalogql.syntax.errors.Inexpressible: the q JSON cannot express a Not node ...
    """
    if not isinstance(node, Node):
        from catalogql.errors import argument_error

        raise argument_error("to_query_expr", "node", node, "a filter AST node")
    result: dict[str, Any] = fold(node, _to_json)
    return result
