"""Parse filter strings and type expressions into the AST of :mod:`catalogql.ast`.

The grammars are the ``.lark`` files of the top-level ``grammar/`` folder (shipped inside the wheel
as ``catalogql/grammar``). Both are parsed by Lark's LALR parser with the contextual lexer; this
module's reductions are installed in Lark's LALR loop (:func:`build_front_end`), so no parse tree
is ever built; the compiled ``lark_cython`` loop and lexer are used when installed. Lark's errors
are turned into :class:`QueryError` with a position, what was expected and a hint for the
mistakes real clients make.

>>> node, found = parse_filter_syntax("sensorPlatformName = WORLDVIEW03* AND cloudCover < 20")
>>> node  # doctest: +ELLIPSIS
And(items=(Match(property='sensorPlatformName', pattern=('WORLDVIEW03', <Wildcard.ANY: '*'>), ...
"""

from __future__ import annotations

import contextvars
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from importlib import resources
from operator import itemgetter
from pathlib import Path
from typing import Any, TypeAlias
from typing import Literal as TypingLiteral

import lark
from lark import Lark
from lark.grammar import Rule
from lark.lexer import LexerThread

from catalogql.ast import (
    NUMBER_RE,
    And,
    FilterNode,
    LiteralKind,
    Node,
    Not,
    Op,
    Or,
    Pattern,
    TypeName,
    TypeNode,
    TypePattern,
    Wildcard,
    fold,
    normalize_pattern,
    tree_bytes,
    tree_depth,
    unchecked_chain,
    unchecked_comparison,
    unchecked_literal,
    unchecked_match,
    unchecked_text_comparison,
    walk,
)
from catalogql.caches import SizedCache, text_bytes
from catalogql.errors import argument_error
from catalogql.syntax.errors import (
    Diagnostic,
    Problem,
    QueryError,
    QueryLimitError,
    QuerySyntaxError,
    QueryValidationError,
    line_and_column,
    merge_warnings,
)

try:  # the compiled LALR front end: about 1.6x faster, same grammar, same errors
    import lark_cython

    _PLUGINS: dict[str, Any] | None = lark_cython.plugins
except ImportError:  # pragma: no cover - exercised only where lark_cython is not installed
    _PLUGINS = None

__all__ = [
    "Limits",
    "QueryDialect",
    "QueryWarning",
    "parse_filter_syntax",
    "parse_types",
]

QueryDialect = TypingLiteral["default", "strict"]
"""How strictly GBDX text is read: ``"default"`` accepts the compatibility forms with a warning,
``"strict"`` rejects them. (The SQL databases are :data:`catalogql.compile.sql.SQLDialect`.)"""


class QueryWarning(UserWarning):
    """Issued by :func:`parse_filter` for compatibility forms the default dialect accepts.

    One per kind of finding per input. Its text is the same for every input with that kind
    (so Python's warning registries hold one entry per kind, not one per filter); where, how
    many times and the canonical rewrite are on :attr:`diagnostic`.

    Attributes:
        diagnostic: The finding (position of the first occurrence, ``count``, ``rewrite``), or
            None for a warning built by hand.

    >>> QueryWarning("a comma between conditions [compat.comma]").diagnostic is None
    True
    """

    def __init__(self, message: str, diagnostic: Diagnostic | None = None) -> None:
        super().__init__(message)
        self.diagnostic = diagnostic


@dataclass(frozen=True, slots=True)
class Limits:
    """Input limits; past one, parsing raises a :class:`QueryLimitError` naming it.

    The length limit holds for the input and for its canonical text (what ``to_gbdx`` prints),
    so that the canonical text of every accepted expression is accepted under the same limits
    (``parse_filter(to_gbdx(n)) == n`` always holds); the depth and comparison limits count the
    tree, which spelling does not change.

    Attributes:
        max_length: Longest accepted input, and longest canonical text, in characters (64 KiB).
        max_depth: Deepest nesting of parentheses and NOTs.
        max_comparisons: Most comparisons in one filter (or names in one type expression).
        max_request_comparisons: Most comparisons in one search request: the comparisons of all
            its filters and the names of all its type expressions, summed (the work of one
            request; :class:`~catalogql.search.SearchRequest` refuses more with a 413).

    >>> Limits().max_depth
    256
    >>> Limits(max_request_comparisons=500).max_request_comparisons
    500
    """

    max_length: int = 64 * 1024
    max_depth: int = 256
    max_comparisons: int = 10_000
    max_request_comparisons: int = 10_000


DEFAULT_LIMITS = Limits()


def grammar_text(kind: str) -> str:
    """The text of ``grammar/<kind>.lark`` (``kind`` is ``filter`` or ``types``).

    An installed wheel carries the grammars as package data, ``catalogql/grammar`` (read through
    importlib.resources, so a zipped install works too); a source checkout has them in the
    top-level ``grammar/`` folder.

    >>> "COMPARISON" in grammar_text("filter")
    True
    """
    packaged = resources.files("catalogql").joinpath("grammar", f"{kind}.lark")
    if packaged.is_file():
        return packaged.read_text(encoding="utf-8")
    checkout = Path(__file__).resolve().parents[3] / "grammar" / f"{kind}.lark"
    return checkout.read_text(encoding="utf-8")


# --------------------------------------------------------------------------------------------
# Per-parse context: the text, the dialect and the warnings collected by the reductions; a plain
# tuple, made in C (a class's __init__ would be a Python frame on every parse).

_Context: TypeAlias = tuple[str, str, list[Diagnostic]]
"""(text, dialect, warnings) of the parse under way."""

_CONTEXT: contextvars.ContextVar[_Context] = contextvars.ContextVar("catalogql_parse")

_FAST_RE = re.compile(
    r"([A-Za-z_][A-Za-z0-9_.]*)[ \t\f\r\n]*(==|!=|<>|<=|>=|=|<|>)[ \t\f\r\n]*(.*)", re.DOTALL
)
_SPACE = " \t\f\r\n"
"""The characters the grammars skip between tokens."""
_VALUE_PIECES = re.compile(r"\\[*\\]|\*|[^\\*]+|\\")
_LIKE_PIECES = re.compile(r"\\.|%|_|[^\\%_]+|\\", re.DOTALL)


def _unquote(raw: str) -> str:
    """The text of a quoted value: outer quotes off, a doubled quote read as one."""
    quote = raw[0]
    text = raw[1:-1]
    return text.replace(quote + quote, quote) if quote in text else text


def _value_pieces(text: str) -> Pattern:
    """Split a value into text and ``*`` wildcards; ``\\*`` and ``\\\\`` are escapes."""
    if "\\" not in text:  # no escapes: every star is a wildcard
        pieces: list[str | Wildcard] = []
        for i, piece in enumerate(text.split("*")):
            if i:
                pieces.append(Wildcard.ANY)
            pieces.append(piece)
        return normalize_pattern(tuple(pieces))
    pieces = []
    for m in _VALUE_PIECES.finditer(text):
        piece = m.group()
        if piece == "*":
            pieces.append(Wildcard.ANY)
        elif piece in ("\\*", "\\\\"):
            pieces.append(piece[1])
        else:
            pieces.append(piece)
    return normalize_pattern(tuple(pieces))


def _like_pieces(text: str) -> Pattern:
    """Split a LIKE pattern: ``%`` any run, ``_`` one character, ``\\`` escapes the next."""
    pieces: list[str | Wildcard] = []
    for m in _LIKE_PIECES.finditer(text):
        piece = m.group()
        if piece == "%":
            pieces.append(Wildcard.ANY)
        elif piece == "_":
            pieces.append(Wildcard.ONE)
        elif len(piece) == 2 and piece[0] == "\\":
            pieces.append(piece[1])
        else:
            pieces.append(piece)
    return normalize_pattern(tuple(pieces))


_OP_BY_TEXT = {text: Op.from_text(text) for text in ("=", "==", "<>", "!=", "<", "<=", ">", ">=")}


_ORDERING_TEXT = frozenset(("<", "<=", ">", ">="))
_NUMBER_START = frozenset("+-.0123456789")
_ANY = Wildcard.ANY


def _star_pieces(value: str) -> Pattern:
    """The pattern of a value with ``*`` and no backslash: every star a wildcard.

    What :func:`_value_pieces` gives for such a value, without its general normalisation: the
    text between stars never touches other text, and a run of stars is one wildcard.
    """
    parts = value.split("*")
    first = parts[0]
    pieces: list[str | Wildcard] = [first] if first else []
    for part in parts[1:]:
        if not pieces or pieces[-1] is not _ANY:
            pieces.append(_ANY)
        if part:
            pieces.append(part)
    return tuple(pieces)


def _build_comparison(prop: str, op_text: str, raw: str, prop_at: int, value_at: int) -> Node:
    """A Comparison or a Match from the pieces of ``property op value`` as written.

    It runs once per comparison of every parse: the common values (a number, a word, a word
    with stars) take the shortest path. ``raw`` is a lexer's token, ASCII only, so
    ``str.isdigit`` is ``[0-9]+`` there.
    """
    first = raw[0]
    if first == "'" or first == '"':
        value = _unquote(raw)
        kind = LiteralKind.QUOTED
    else:
        value = raw
        if raw.isdigit() or (first in _NUMBER_START and NUMBER_RE.fullmatch(raw)):
            kind = LiteralKind.NUMBER
        else:
            kind = LiteralKind.BARE
    offsets = (prop_at, value_at)
    if "\\" not in value:
        if "*" not in value:  # the common case: plain text, nothing to split
            return unchecked_text_comparison(prop, _OP_BY_TEXT[op_text], value, kind, offsets)
        if op_text in _ORDERING_TEXT:
            _wildcard_ordering(op_text, raw, value_at)
        return unchecked_match(
            prop, _star_pieces(value), op_text == "<>" or op_text == "!=", offsets
        )
    op = _OP_BY_TEXT[op_text]
    pieces = _value_pieces(value)
    if op.is_ordering and any(isinstance(p, Wildcard) for p in pieces):
        _wildcard_ordering(op_text, raw, value_at)
    return _match_or_comparison(prop, op, pieces, kind, offsets)


def _wildcard_ordering(op_text: str, raw: str, value_at: int) -> None:
    """Raise the error of a wildcard compared with ``<``, ``<=``, ``>`` or ``>=``."""
    raise QueryValidationError(
        f"a wildcard cannot be used with '{_OP_BY_TEXT[op_text].value}'",
        text=_CONTEXT.get()[0],
        offset=value_at,
        width=len(raw),
        code="validation.wildcard-ordering",
        hint="wildcards ('*') work with = and <> only; write '\\*' for a literal star",
    )


def _match_or_comparison(
    prop: str, op: Op, pieces: Pattern, kind: LiteralKind, offsets: tuple[int, int]
) -> Node:
    """A Match when the value has a wildcard (``=``/``<>`` only), else a plain Comparison."""
    if any(isinstance(p, Wildcard) for p in pieces):
        return unchecked_match(prop, pieces, op is Op.NE, offsets)
    text = pieces[0] if pieces else ""
    assert isinstance(text, str)
    return unchecked_comparison(prop, op, unchecked_literal(text, kind), offsets)


def _compat_warning(
    code: str, message: str, offset: int, width: int, hint: str, count: int = 1
) -> None:
    """Record a compatibility-form warning, or raise it as an error in the strict dialect.

    ``count`` occurrences of the kind, the first at ``offset`` (what :func:`merge_warnings`
    makes of that many warnings).
    """
    text, dialect, warnings_ = _CONTEXT.get()
    if dialect == "strict":
        raise QuerySyntaxError(
            f"{message} (not accepted in the strict dialect)",
            text=text,
            offset=offset,
            width=width,
            code=code,
            hint=hint,
        )
    line, column = line_and_column(text, offset)
    problem = Problem("", offset, message, hint, code, line=line, column=column, width=width)
    warnings_.append(Diagnostic("warning", problem, count=count))


# --------------------------------------------------------------------------------------------
# Reductions: Lark's LALR loop calls one function per grammar rule with the rule's children as
# they lie on its stack (every symbol, the `_`-named ones too). They are installed straight into
# the parser's table of callbacks instead of going through a lark Transformer, whose wrappers
# (a child filter, a single-child expander, a Tree for each repeat of a `*`) were a fifth of a
# parse. Rules that only pass a child on are C functions (``itemgetter``), and the helper rule
# Lark makes for each ``(SEP item)*`` is reduced by ``tuple``: ``(SEP, item)`` for the first
# repeat, ``(rest, SEP, item)`` for the next, unrolled in a loop by the rule that owns the star.

_FIRST = itemgetter(0)
_SECOND = itemgetter(1)


def _repeats(rest: tuple[Any, ...]) -> tuple[list[Any], list[Any]]:
    """The items and separators of a star's ``tuple`` chain, in input order (no recursion)."""
    items: list[Any] = []
    seps: list[Any] = []
    while len(rest) == 3:
        items.append(rest[2])
        seps.append(rest[1])
        rest = rest[0]
    items.append(rest[1])
    seps.append(rest[0])
    items.reverse()
    seps.reverse()
    return items, seps


def _fast_comparison(children: list[Any]) -> Node:
    """A whole ``property op value`` token (COMPARISON): most comparisons of most filters.

    A number or a plain word is built here, without :func:`_build_comparison`'s frame.
    """
    token = children[0]
    m = _FAST_RE.match(token.value)
    assert m is not None  # the COMPARISON terminal guarantees the shape
    prop, op_text, raw = m.group(1, 2, 3)
    raw = raw.rstrip(_SPACE)  # the token takes the whitespace after it; no value ends with any
    at = token.start_pos
    first = raw[0]
    if first != "'" and first != '"' and "*" not in raw and "\\" not in raw:
        if raw.isdigit() or (first in _NUMBER_START and NUMBER_RE.fullmatch(raw)):
            kind = LiteralKind.NUMBER
        else:
            kind = LiteralKind.BARE
        op = _OP_BY_TEXT[op_text]
        return unchecked_text_comparison(prop, op, raw, kind, (at, at + m.start(3)))
    return _build_comparison(prop, op_text, raw, at, at + m.start(3))


def _comparison(children: list[Any]) -> Node:
    prop, op, value = children
    return _build_comparison(prop.value, op.value, value.value, prop.start_pos, value.start_pos)


def _like(prop: Any, value: Any, negated: bool) -> Node:
    raw: str = value.value
    word = "NOT LIKE" if negated else "LIKE"
    _compat_warning(
        "compat.like",
        f"{word} is a compatibility form",
        prop.start_pos,
        value.start_pos + len(raw) - prop.start_pos,
        f"write {prop.value} {'<>' if negated else '='} PATTERN with '*' as the wildcard",
    )
    pieces = _like_pieces(_unquote(raw) if raw[0] in "'\"" else raw)
    return _match_or_comparison(
        prop.value,
        Op.NE if negated else Op.EQ,
        pieces,
        LiteralKind.QUOTED,  # a LIKE without wildcards is an equality with that text
        (prop.start_pos, value.start_pos),
    )


def _chain(cls: type[And] | type[Or], children: list[Any]) -> Node:
    """``first (SEP item)*`` as one And or Or: :func:`_repeats` inlined (it runs on most parses)."""
    first, rest = children
    items = []
    while len(rest) == 3:
        items.append(rest[2])
        rest = rest[0]
    items.append(rest[1])
    items.append(first)
    items.reverse()
    return unchecked_chain(cls, items)


def _comma_chain(children: list[Any]) -> Node:
    items, commas = _repeats(children[1])
    items.insert(0, children[0])
    _compat_warning(  # one warning, counting the commas (a line and column each was quadratic)
        "compat.comma",
        "a comma between conditions is a compatibility form, read as AND",
        commas[0].start_pos,
        1,
        "write AND between conditions, or pass them as separate filters",
        count=len(commas),
    )
    return unchecked_chain(And, items)


def _type_name(children: list[Any]) -> Node:
    name: str = children[0].value
    if "*" in name:
        return TypePattern(_value_pieces(name))
    return TypeName(name)


def _type_chain(cls: type[And] | type[Or]) -> Callable[[list[Any]], Node]:
    def reduce(children: list[Any]) -> Node:
        items, _ = _repeats(children[1])
        return cls((children[0], *items))

    return reduce


_Reduction = Callable[[list[Any]], Any]
_STAR = "*"  # a helper rule of Lark's for a repeat, in the shapes below

_REDUCTIONS: dict[str, dict[tuple[str, tuple[str, ...]], _Reduction]] = {
    "filter": {
        ("start", ("or_expr",)): _FIRST,
        ("start", ("or_expr", _STAR)): _comma_chain,
        ("or_expr", ("and_expr",)): _FIRST,
        ("or_expr", ("and_expr", _STAR)): partial(_chain, Or),
        ("and_expr", ("unary",)): _FIRST,
        ("and_expr", ("unary", _STAR)): partial(_chain, And),
        ("unary", ("_NOT", "unary")): lambda c: Not(c[1]),
        ("unary", ("_LPAR", "or_expr", "_RPAR")): _SECOND,
        ("unary", ("COMPARISON",)): _fast_comparison,
        ("unary", ("PROPERTY", "OP", "value")): _comparison,
        ("unary", ("PROPERTY", "_LIKE", "value")): lambda c: _like(c[0], c[2], False),
        ("unary", ("PROPERTY", "_NOT", "_LIKE", "value")): lambda c: _like(c[0], c[3], True),
        ("value", ("QUOTED",)): _FIRST,
        ("value", ("BARE",)): _FIRST,
    },
    "types": {
        ("start", ("type_or",)): _FIRST,
        ("type_or", ("type_and",)): _FIRST,
        ("type_or", ("type_and", _STAR)): _type_chain(Or),
        ("type_and", ("type_unary",)): _FIRST,
        ("type_and", ("type_unary", _STAR)): _type_chain(And),
        ("type_unary", ("_NOT", "type_unary")): lambda c: Not(c[1]),
        ("type_unary", ("_LPAR", "type_or", "_RPAR")): _SECOND,
        ("type_unary", ("TYPE",)): _type_name,
    },
}
"""Each grammar's reductions by rule shape: (rule, the names of its symbols)."""


class _IdentityRule(Rule):
    """A Lark rule equal only to itself, hashed by identity (the parser's table holds each once).

    The LALR loop asserts ``rule != end_state`` and looks the rule's callback up at every
    reduction; Rule answers both in Python (``__eq__``, ``__hash__``), this class in C.
    """

    __slots__ = ()
    __eq__ = object.__eq__
    __ne__ = object.__ne__
    __hash__ = object.__hash__


def build_front_end(kind: str, plugins: dict[str, Any] | None = _PLUGINS) -> Callable[[str], Any]:
    """A parse function for ``filter`` or ``types``: Lark's LALR parser, this module's reductions.

    Lark builds the parse table and the contextual lexer (with ``plugins``, lark_cython's
    compiled lexer and loop); the reductions of :data:`_REDUCTIONS` replace Lark's tree builder,
    and a parse calls the LALR loop directly (no per-call option checks). The per-parse context
    (:data:`_CONTEXT`) must be set around a call.

    Args:
        kind: ``filter`` or ``types``.
        plugins: ``lark_cython.plugins``, or None for pure-Python Lark.

    Returns:
        A function from the text to the AST; Lark's ``UnexpectedInput`` errors pass through.

    Raises:
        RuntimeError: The grammar has a rule with no reduction (a grammar edit needs one).

    >>> parse = build_front_end("types")
    >>> parse("WV02 OR NOT WV03")
    Or(items=(TypeName(name='WV02'), Not(item=TypeName(name='WV03'))))
    """
    options: dict[str, Any] = {"parser": "lalr", "lexer": "contextual"}
    if plugins is not None:
        options["_plugins"] = plugins
    parser = Lark(grammar_text(kind), **options)
    frontend = parser.parser
    lalr = frontend.parser
    callbacks = lalr.parser_conf.callbacks  # the dict the LALR loop reads, keyed by Rule
    reductions = _REDUCTIONS[kind]
    for rule in [key for key in callbacks if isinstance(key, Rule)]:
        origin = str(rule.origin.name)
        if origin.startswith("__"):  # Lark's helper for a `(SEP item)*`: see _repeats
            reduce: _Reduction = tuple
        else:
            shape = tuple(_STAR if s.name.startswith("__") else str(s.name) for s in rule.expansion)
            found = reductions.get((origin, shape))
            if found is None:
                raise RuntimeError(f"grammar/{kind}.lark: no reduction for {origin}: {shape}")
            reduce = found
        callbacks[rule] = reduce
        rule.origin.name = origin  # a plain str: the loop looks the name up once per reduction
        rule.__class__ = _IdentityRule
    entries = list(callbacks.items())  # the same dict (the loop holds it), rehashed by identity
    callbacks.clear()
    callbacks.update(entries)
    threads = plugins["LexerThread"] if plugins is not None else LexerThread
    new_thread = threads.from_text
    lexer = frontend.lexer
    loop = lalr.parser.parse

    def parse(text: str) -> Any:
        return loop(new_thread(lexer, text), "start")

    return parse


_FRONT_ENDS: dict[str, Callable[[str], Any]] = {}


def _front_end(kind: str) -> Callable[[str], Any]:
    """The parse function for ``filter`` or ``types``, built once (about 10 ms) on first use."""
    parse = _FRONT_ENDS.get(kind)
    if parse is None:
        parse = _FRONT_ENDS[kind] = build_front_end(kind)
    return parse


# --------------------------------------------------------------------------------------------
# Turning Lark's errors into QueryErrors with hints.

_TERMINAL_NAMES = {
    "PROPERTY": "a property name",
    "COMPARISON": "a comparison",
    "OP": "an operator (= <> < <= > >=)",
    "QUOTED": "a quoted value",
    "BARE": "a value",
    "TYPE": "a type name",
    "_LPAR": "'('",
    "_RPAR": "')'",
    "_AND": "AND",
    "_OR": "OR",
    "_NOT": "NOT",
    "_LIKE": "LIKE",
    "COMMA": "','",
    "$END": "the end of the input",
}
_KEYWORDS = ("AND", "OR", "NOT", "LIKE")
_WORD_AT = re.compile(r"[^\s()]+")


def _describe_expected(expected: set[str]) -> tuple[str, ...]:
    names = {_TERMINAL_NAMES.get(name, name) for name in expected}
    if "a comparison" in names:  # the fast terminal is an implementation detail
        names.discard("a comparison")
        names.add("a property name")
    if "a quoted value" in names and "a value" in names:
        names.discard("a quoted value")
    return tuple(sorted(names))


def _table_expectations(exc: lark.exceptions.UnexpectedInput) -> set[str]:
    """Terminals the parse table accepts where the error happened.

    This adds ``$END``, which the contextual lexer's own list leaves out.
    """
    state = getattr(exc, "state", None)
    try:
        actions = state.parse_conf.parse_table.states[state.position]  # type: ignore[union-attr]
    except (AttributeError, KeyError, TypeError):
        return set()
    return {name for name in actions if name.isupper() or name == "$END"}  # terminals only


_PARENS_RE = re.compile(r"'(?:[^']|'')*'?|\"(?:[^\"]|\"\")*\"?|[()]")
"""Parentheses, and quoted text (possibly unterminated) to step over."""


def _unclosed_paren(text: str) -> int:
    """Offset of the last '(' left open (quoted text skipped), or -1."""
    opened: list[int] = []
    for m in _PARENS_RE.finditer(text):
        if m.group() == "(":
            opened.append(m.start())
        elif m.group() == ")" and opened:
            opened.pop()
    return opened[-1] if opened else -1


def _name_start(before: str) -> int:
    """Where the run of characters other than spaces and parentheses that ends ``before`` starts.

    A scan back from the end: linear (``re.search(r"[^\\s()]*$", ...)`` tries every start
    position, quadratic in the text: 2 s for a 60 KB input, found by ``make fuzz``).

    >>> text = "a = 1 AND (cloudCover"
    >>> text[_name_start(text):]
    'cloudCover'
    """
    start = len(before)
    while start > 0 and not before[start - 1].isspace() and before[start - 1] not in "()":
        start -= 1
    return start


def _syntax_error(
    exc: lark.exceptions.UnexpectedInput, text: str, kind: str, dialect: str = "default"
) -> QueryError:
    """The QueryError, with a hint, for a Lark parse error.

    A hint suggests only what ``dialect`` accepts (no LIKE in the strict dialect).
    """
    subject = "filter" if kind == "filter" else "type expression"
    bad_character = isinstance(exc, lark.exceptions.UnexpectedCharacters)
    if isinstance(exc, lark.exceptions.UnexpectedToken):
        at_end = exc.token.type == "$END"
        offset = len(text) if at_end else exc.token.start_pos
        expected_terms = set(exc.expected)
    elif isinstance(exc, lark.exceptions.UnexpectedCharacters):
        at_end = False
        offset = exc.pos_in_stream
        expected_terms = set(exc.allowed or ())
    else:  # UnexpectedEOF
        at_end = True
        offset = len(text)
        expected_terms = set(getattr(exc, "expected", ()) or ())
    expected_terms |= _table_expectations(exc)
    open_paren = _unclosed_paren(text[:offset])
    # LALR merges states: drop what the balance of parentheses rules out.
    expected_terms.discard("$END" if open_paren >= 0 else "_RPAR")
    expected = _describe_expected(expected_terms)
    word_match = _WORD_AT.match(text, offset) if not at_end else None
    word = word_match.group() if word_match else text[offset : offset + 1]
    first = word[:1]  # "" at the end of the input, which ``in "<>="`` would wrongly accept
    before = text[:offset].rstrip()
    previous = before.rsplit(None, 1)[-1] if before.split() else ""
    name = before[_name_start(before) :]

    def error(message: str, code: str, hint: str, at: int = offset, width: int = 0) -> QueryError:
        return QuerySyntaxError(
            message,
            text=text,
            offset=at,
            expected=expected,
            hint=hint,
            code=code,
            width=width or max(1, len(word)),
        )

    if not text.strip():
        example = "cloudCover < 20" if kind == "filter" else "WV02"
        return error(f"empty {subject}", "syntax.empty", f"write something such as {example}", 0)
    # A keyword in the wrong case, at the error or just before it ("not a = 1" fails at "a").
    for candidate, at in ((word, offset), (previous, len(before) - len(previous))):
        upper = candidate.upper()
        if upper in _KEYWORDS and candidate != upper and (kind == "filter" or upper != "LIKE"):
            hint = f"write {upper}; a word in another case is read as a name or a value"
            if upper == "LIKE" and dialect == "strict":
                hint = (
                    "write PROPERTY = PATTERN, or PROPERTY <> PATTERN for NOT LIKE, with '*' as "
                    "the wildcard (strict has no LIKE)"
                )
            return error(
                f"'{candidate}' is not an operator: operators must be uppercase",
                "syntax.lowercase-operator",
                hint,
                at,
                len(candidate),
            )
    if bad_character:
        char = text[offset]
        if char in "'\"" and kind == "filter":
            return error(
                f"unterminated quoted string: the {char} is never closed",
                "syntax.unterminated-quote",
                f"end the value with {char}; inside it, write {char}{char} for one {char}",
                width=1,
            )
        if kind == "types":
            hint = "a type name holds only letters, digits, '_' and the wildcard '*'"
        elif "a value" in expected:
            hint = f"quote the value, as in '{word}'"
        elif "an operator (= <> < <= > >=)" in expected:
            hint = "write one of = <> < <= > >= between the property and the value"
        elif "a property name" in expected:
            hint = "a condition starts with a property name, as in cloudCover < 20"
        else:
            hint = f"join conditions with AND or OR; quote a value that holds '{char}'"
        return error(f"unexpected character '{char}'", "syntax.unexpected-token", hint, width=1)
    if at_end and "')'" in expected and open_paren >= 0:
        line, column = line_and_column(text, open_paren)
        return error(
            "unbalanced parentheses: a '(' is never closed",
            "syntax.unbalanced-parentheses",
            f"add ')' to close the '(' at line {line}, column {column}",
        )
    if word.startswith(")") and open_paren < 0:
        return error(
            "unbalanced parentheses: this ')' has no matching '('",
            "syntax.unbalanced-parentheses",
            "remove the ')' or add the '(' it closes",
            width=1,
        )
    if "a value" in expected:
        op = re.search(r"(==|!=|<>|<=|>=|=|<|>|LIKE)$", before)
        if word in _KEYWORDS:
            hint = f"quote it to compare with the word itself: '{word}'"
        elif first and first in "<>=":
            written = (op.group() if op else "") + first
            hint = f"write the operator as one of = <> < <= > >= (not {written})"
        else:
            hint = "add a value: a number, a 'quoted string' or a bareword such as WORLDVIEW03*"
        return error(
            f"missing value after '{op.group()}'" if op else "missing value",
            "syntax.missing-value",
            hint,
        )
    if "an operator (= <> < <= > >=)" in expected:
        if at_end:
            return error(
                f"missing operator and value after '{name}'",
                "syntax.missing-operator",
                f"write a comparison such as {name} = VALUE",
            )
        hint = "put one of = <> < <= > >= between the property and the value"
        if word == "NOT":
            hint = f"NOT goes before the condition: NOT {name} ..."
        return error(
            f"missing operator between '{name}' and '{word}'", "syntax.missing-operator", hint
        )
    condition = "condition" if kind == "filter" else "type name"
    if ("a property name" in expected or "a type name" in expected) and not at_end:
        if kind == "filter" and first and first in "=<>!":
            return error(
                f"missing property name before '{word}'",
                "syntax.missing-property",
                "write the property first, as in cloudCover < 20",
            )
        if word.startswith(","):
            return error(
                f"a comma must stand between two {condition}s",
                "syntax.unexpected-comma",
                "remove the extra comma",
                width=1,
            )
        if word.startswith(")"):
            return error(
                "empty parentheses",
                "syntax.expected-condition",
                f"put a {condition} inside the parentheses, or remove them",
                width=1,
            )
        return error(
            f"expected a {condition}, found '{word}'",
            "syntax.expected-condition",
            "a condition is PROPERTY OP VALUE, for example cloudCover < 20"
            if kind == "filter"
            else "a type expression joins type names with AND, OR and NOT",
        )
    if at_end:
        what = f"'{previous}'" if previous in ("AND", "OR", "NOT", ",", "(") else "the input"
        if previous.endswith(","):
            return error(
                "a trailing comma must be followed by a condition",
                "syntax.unexpected-end",
                "remove the trailing comma",
            )
        negated = re.search(r"([^\s()]+)\s+NOT$", before)
        if negated and "LIKE" in expected and "a property name" not in expected:  # "a NOT"
            prop = negated.group(1)
            if dialect == "strict":  # strict has no LIKE: the forms it does accept
                hint = (
                    f"to negate a condition, put NOT before it, as in NOT {prop} = VALUE; "
                    f"for a pattern that must not match, write {prop} <> PATTERN with '*' as "
                    "the wildcard"
                )
            else:
                hint = (
                    f"NOT after a property must be followed by LIKE and a pattern, as in "
                    f"{prop} NOT LIKE 'x%'; to negate a condition, put NOT before it"
                )
            return error(f"the {subject} ends too early", "syntax.unexpected-end", hint)
        return error(
            f"the {subject} ends too early",
            "syntax.unexpected-end",
            f"{what} must be followed by a {condition}",
        )
    if "AND" in expected or "OR" in expected:
        hint = "join conditions with AND or OR (uppercase)"
        if kind == "filter":
            hint += "; quote values that contain spaces"
        return error(f"missing AND or OR before '{word}'", "syntax.missing-conjunction", hint)
    return error(
        f"unexpected '{word}'", "syntax.unexpected-token", "check the spelling near the caret"
    )


# --------------------------------------------------------------------------------------------
# Limits


def _check_limits(node: Node, text: str, limits: Limits, kind: str) -> None:
    """Raise a QueryLimitError when the parsed ``node`` is past the depth or comparison limits."""
    # Cheap upper bounds first: every level of nesting and every comparison takes a character or
    # more, so short texts need no counting; then nesting needs '(' or NOT, and each comparison
    # one of = < > LIKE.
    if len(text) + 2 <= min(limits.max_depth, limits.max_comparisons):
        return
    may_nest = text.count("(") + text.count("NOT") + 2 > limits.max_depth
    if kind == "filter":
        upper = text.count("=") + text.count("<") + text.count(">") + text.count("LIKE")
    else:
        upper = len(text) // 2 + 1
    if not may_nest and upper <= limits.max_comparisons:
        return
    if may_nest:
        depth = max(_paren_depth(text), tree_depth(node))
        if depth > limits.max_depth:
            raise QueryLimitError(
                f"nesting depth {depth} is past the limit of {limits.max_depth}",
                limit="depth",
                text=text,
                offset=0,
                hint="flatten the expression, or raise Limits.max_depth",
            )
    leaves = sum(1 for n in walk(node) if not n.children())
    if leaves > limits.max_comparisons:
        raise QueryLimitError(
            f"{leaves} comparisons is past the limit of {limits.max_comparisons}",
            limit="comparisons",
            text=text,
            offset=0,
            hint="split the filter, or raise Limits.max_comparisons",
        )


_PRECEDENCE: dict[type, int] = {Or: 1, And: 2, Not: 3}


def types_canonical_length(node: Node) -> int:
    """The length of a type expression's canonical text (``len(to_gbdx(node))``), without it.

    The parser holds type expressions to the length limit in both forms (as
    :func:`catalogql.parse_filter` does filters), so the canonical text of every type expression
    it accepts is accepted too. Type names are printed as written, ``*`` as itself; AND and OR
    take a space on each side; a child of lower precedence takes parentheses.

    Args:
        node: A type-expression AST.

    Returns:
        The number of characters of its canonical text.

    >>> types_canonical_length(parse_types("(A OR B)AND NOT(C)"))  # (A OR B) AND NOT C
    18
    """

    def size(item: Node, children: list[int]) -> int:
        if isinstance(item, TypeName):
            return len(item.name)
        if isinstance(item, TypePattern):
            return sum(1 if part is Wildcard.ANY else len(str(part)) for part in item.pattern)
        outer = _PRECEDENCE.get(type(item), 4)
        kids = item.children()
        wrapped = 2 * sum(1 for kid in kids if _PRECEDENCE.get(type(kid), 4) < outer)
        if isinstance(item, Not):
            return 4 + children[0] + wrapped
        word = 5 if isinstance(item, And) else 4  # " AND ", " OR "
        return sum(children) + word * (len(children) - 1) + wrapped

    return fold(node, size)


def _paren_depth(text: str) -> int:
    depth = deepest = 0
    for m in _PARENS_RE.finditer(text):
        if m.group() == "(":
            depth += 1
            deepest = max(deepest, depth)
        elif m.group() == ")":
            depth -= 1
    return deepest


# --------------------------------------------------------------------------------------------
# Entry points


def _parse(text: object, kind: str, dialect: str, limits: Limits) -> tuple[Node, list[Diagnostic]]:
    """Parse with a cache: ASTs are immutable, and a catalog sees the same filters again and again.

    The key is a tuple of strings and ints, hashed in C (a :class:`Limits` would hash in Python
    at each of the dict operations of a miss); it holds the limits that parsing checks. Errors
    are not cached (they are cheap to find again and may be many distinct strings).
    """
    if type(text) is str and type(limits) is Limits and type(dialect) is str:
        key = (text, kind, dialect, limits.max_length, limits.max_depth, limits.max_comparisons)
        found = _PARSES.get(key)
        if found is None:
            node, warnings_ = _parse_text(text, kind, dialect, limits)
            size = text_bytes(text) + tree_bytes(node)
            for w in warnings_:
                size += 512 + text_bytes(w.message) + text_bytes(w.rewrite)
            _PARSES.put(key, (node, tuple(warnings_)), size)
            return node, warnings_
        return found[0], list(found[1])
    return _parse_text(text, kind, dialect, limits)


_PARSES: SizedCache[tuple[Node, tuple[Diagnostic, ...]]] = SizedCache(
    f"{__name__}.parses", max_entries=4096, max_bytes=16 << 20
)
"""Parses by (text, kind, dialect, the limits parsing checks), each charged its text's bytes,
its tree's (:func:`~catalogql.ast.tree_bytes`) and 512 and its texts' for each warning."""


def clear_cache() -> None:
    """Forget the parses remembered so far (the benchmarks use this to time cold parses).

    >>> clear_cache()
    """
    _PARSES.clear()


def _parse_text(
    text: object, kind: str, dialect: str, limits: Limits
) -> tuple[Node, list[Diagnostic]]:
    if not isinstance(text, str):
        raise QuerySyntaxError(
            f"a {kind} must be a string, not {type(text).__name__}",
            code="syntax.not-a-string",
            hint="pass the expression as text",
        )
    if not isinstance(limits, Limits):
        function = "parse_types" if kind == "types" else "parse_filter"
        raise argument_error(function, "limits", limits, "a catalogql.Limits")
    if not isinstance(dialect, str) or dialect not in ("default", "strict"):
        raise QueryError(
            f"unknown dialect {dialect!r}",
            code="usage.dialect",
            hint="use dialect='default' or dialect='strict'",
        )
    if len(text) > limits.max_length:
        raise QueryLimitError(
            f"input of {len(text)} characters is past the limit of {limits.max_length}",
            limit="length",
            text=text[: limits.max_length],
            offset=limits.max_length,
            hint="shorten the expression, or raise Limits.max_length",
        )
    found: list[Diagnostic] = []
    token = _CONTEXT.set((text, dialect, found))
    try:
        node: Node = (_FRONT_ENDS.get(kind) or _front_end(kind))(text)
    except lark.exceptions.UnexpectedInput as exc:
        raise _syntax_error(exc, text, kind, dialect) from None
    finally:
        _CONTEXT.reset(token)
    if len(text) + 2 > min(limits.max_depth, limits.max_comparisons):  # else no need to count
        _check_limits(node, text, limits, kind)
    # The canonical text of a type expression is never more than twice as long as the input
    # (a space around AND/OR next to a parenthesis: "(A)OR(B)"); past half the limit, measure.
    if kind == "types" and 2 * len(text) > limits.max_length:
        size = types_canonical_length(node)
        if size > limits.max_length:
            raise QueryLimitError(
                f"the type expression's canonical text (its spaced-out form, the form catalogql "
                f"prints) is {size} characters, past the limit of {limits.max_length}",
                limit="length",
                text=text,
                offset=0,
                width=0,
                hint="the limit holds for both forms so that the printed expression reads back; "
                "split it (the entries of a types list are ANDed), or raise Limits.max_length",
            )
    return node, merge_warnings(found) if found else found


def parse_filter_syntax(
    text: str, *, dialect: QueryDialect = "default", limits: Limits = DEFAULT_LIMITS
) -> tuple[FilterNode, list[Diagnostic]]:
    """Parse a filter and return its compatibility findings, without their canonical rewrite.

    The syntax half of :func:`catalogql.parse_filter`: the layers above add each warning's
    rewrite (the filter's canonical text) and the findings of a queryables schema
    (:mod:`catalogql.compile.parse`).

    Raises:
        QueryError: The first error.

    >>> node, diags = parse_filter_syntax("cloudCover < 20, offNadirAngle < 10")
    >>> [(d.code, d.rewrite) for d in diags]
    [('compat.comma', None)]
    """
    node, diags = _parse(text, "filter", dialect, limits)
    return node, diags  # type: ignore[return-value]


def parse_types(text: str, *, limits: Limits = DEFAULT_LIMITS) -> TypeNode:
    """Parse a type expression (``WV02 AND DigitalGlobeProduct``, ``WV03*``) into an AST node.

    Args:
        text: The type expression.
        limits: Input limits.

    Returns:
        The AST: an And, Or, Not, TypeName or TypePattern.

    Raises:
        QueryError: Where the text is wrong, what was expected, and a hint.

    >>> parse_types("WV02 OR WV03*")
    Or(items=(TypeName(name='WV02'), TypePattern(pattern=('WV03', <Wildcard.ANY: '*'>))))
    """
    node, _ = _parse(text, "types", "default", limits)
    return node  # type: ignore[return-value]
