"""Hypothesis strategies: valid filters, type expressions, GBDX records and awkward property values.

Meant for test suites, catalogql's own and those of catalog servers that want to property-test their
search semantics against the reference engine:

* :func:`filter_nodes` and :func:`type_nodes` generate ASTs; :func:`filter_texts` and
  :func:`type_texts` generate text that is guaranteed to parse, written in canonical and in
  non-canonical spellings (``==``, ``!=``, double quotes, extra parentheses and whitespace, and,
  unless ``compat=False``, the ``LIKE`` and comma compatibility forms); :func:`spellings` writes a
  given node in such spellings.
* :func:`records` generates GBDX-shaped records and :func:`properties_dicts` arbitrary JSON-ish
  property dicts (``None``, booleans, huge integers, ``-0.0``, nested lists and objects).
* :func:`search_requests` generates valid search request bodies (``POST /catalog/v2/search``)
  whose areas, dates, types and filters are drawn from what you give it, so that they hit.
* :func:`mutated_texts` damages valid texts a little, for checking that bad input only ever raises
  :class:`~catalogql.QueryError`.

The values are chosen to be awkward: quotes, backslashes, literal stars, keywords in quotes,
unicode, id-like digit strings (``1050010018826700``, 28-digit ids) and ISO dates. Every strategy
shrinks towards the plain case (short names, canonical spelling, no mutation).

>>> import catalogql as cq
>>> from hypothesis import given, settings
>>> @settings(max_examples=25, deadline=None)
... @given(filter_nodes(compat=False))
... def test_print_then_parse_is_identity(node):
...     assert cq.parse_filter(cq.to_gbdx(node)) == node
>>> test_print_then_parse_is_identity()
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, cast

from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

from catalogql.ast import (
    BAREWORD_RE,
    KEYWORDS,
    NUMBER_RE,
    TYPE_KEYWORDS,
    And,
    Comparison,
    FilterNode,
    Literal,
    LiteralKind,
    Match,
    Node,
    Not,
    Op,
    Or,
    Pattern,
    TypeName,
    TypeNode,
    TypePattern,
    Wildcard,
    escape_value,
    fold,
    is_bareword_text,
    iter_nodes,
    normalize_pattern,
)
from catalogql.compile.gbdx import to_gbdx

__all__ = [
    "GBDX_PROPERTIES",
    "NOISE_TOKENS",
    "SENSOR_PLATFORMS",
    "filter_nodes",
    "filter_texts",
    "json_values",
    "literals",
    "mutated_texts",
    "patterns",
    "properties_dicts",
    "property_names",
    "queryables",
    "records",
    "search_requests",
    "spellings",
    "type_names",
    "type_nodes",
    "type_texts",
]

# Strategies are built once, at import or on first use (functools.cache), never per example:
# building and validating a strategy costs more than drawing from it.

SENSOR_PLATFORMS = (
    "WORLDVIEW01",
    "WORLDVIEW02",
    "WORLDVIEW03_VNIR",
    "WORLDVIEW03_SWIR",
    "GEOEYE01",
    "QUICKBIRD02",
    "IKONOS",
    "LANDSAT08",
)
"""The ``sensorPlatformName`` values of the GBDX catalog."""

_LABELS = {  # the type label of each DigitalGlobe platform
    "WORLDVIEW01": "WV01",
    "WORLDVIEW02": "WV02",
    "WORLDVIEW03_VNIR": "WV03_VNIR",
    "WORLDVIEW03_SWIR": "WV03_SWIR",
    "GEOEYE01": "GE01",
    "QUICKBIRD02": "QB02",
}

GBDX_PROPERTIES = (
    "timestamp",
    "footprintWkt",
    "cloudCover",
    "offNadirAngle",
    "sensorPlatformName",
    "platformName",
    "catalogID",
    "vendor",
    "sunElevation",
    "sunAzimuth",
    "targetAzimuth",
    "bearing",
    "multiResolution",
    "panResolution",
    "imageBands",
    "scanDirection",
    "stereoPair",
    "browseURL",
    "path",
    "row",
    "acquisitionDate",
    "ingestDate",
    "bands",
    "isHidden",
    "_acquisition.productLevel",
)
"""Property names of GBDX records (the ones :func:`records` generates), for filters over them."""

_TYPE_LABELS = (
    "GBDXCatalogRecord",
    "DigitalGlobeAcquisition",
    "DigitalGlobeProduct",
    "Acquisition",
    "WV01",
    "WV02",
    "WV03_VNIR",
    "WV03_SWIR",
    "GE01",
    "QB02",
    "IKONOS",
    "Landsat8",
    "1BProduct",
    "IDAHOImage",
    "UserImage",
    "LandsatAcquisition",
    "IKONOSAcquisition",
)

# Words that look like keywords but are not: a parser must not mistake them.
_NEAR_KEYWORDS = ("ANDROID", "ORBIT", "NOTE", "LIKELY", "AND_", "OR1", "NOTx", "and", "or", "not")

_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_"
_DIGITS = "0123456789"
_HEX = "0123456789ABCDEF"


def _joined(*parts: SearchStrategy[str]) -> SearchStrategy[str]:
    """The concatenation of one draw from each strategy (much cheaper than ``st.from_regex``)."""
    return st.tuples(*parts).map("".join)


def _chars(alphabet: str, min_size: int, max_size: int) -> SearchStrategy[str]:
    return st.text(alphabet=alphabet, min_size=min_size, max_size=max_size)


def _names(
    names: Sequence[str] | SearchStrategy[str] | None, default: SearchStrategy[str]
) -> SearchStrategy[str]:
    """A strategy from a sequence of names, a strategy, or None for ``default``."""
    if names is None:
        return default
    if isinstance(names, SearchStrategy):
        return names
    if isinstance(names, str) or not names:
        raise ValueError("pass a non-empty sequence of names, or a strategy")
    return st.sampled_from(tuple(names))


# --------------------------------------------------------------------------------------------
# Property names

_NAME = _joined(st.sampled_from(_LETTERS), _chars(_LETTERS + _DIGITS, 0, 11)).filter(
    lambda name: name not in KEYWORDS
)


@functools.cache
def property_names() -> SearchStrategy[str]:
    """Property names and dotted paths: GBDX names, one-letter names and awkward ones.

    Every name is valid in a filter: ``name ("." name)*``, and never a keyword as a whole
    (``NOT.x`` and ``a.AND`` are valid paths).

    Returns:
        A strategy of property names.

    >>> from hypothesis import given, settings
    >>> from catalogql.ast import PROPERTY_RE
    >>> @settings(max_examples=50)
    ... @given(property_names())
    ... def check(name):
    ...     assert PROPERTY_RE.fullmatch(name)
    >>> check()
    """
    segment = _NAME | st.sampled_from(sorted(KEYWORDS))
    return st.one_of(
        st.sampled_from(("a", "b", "c", "x", "_", "Z")),
        st.sampled_from(GBDX_PROPERTIES),
        _NAME,
        st.sampled_from((*_NEAR_KEYWORDS, "true", "null", "properties")),
        st.lists(segment, min_size=2, max_size=3).map(".".join),
    )


# --------------------------------------------------------------------------------------------
# Literals

_ID_NUMBERS = (
    "1050010018826700",
    "1030010098312600",
    "1234567890123456789012345678",
    "9007199254740993",
    "0",
    "-0",
    "007",
    "1e400",
    "0.1",
    "+5",
    "5.",
    ".5",
    "-.5E+3",
    "26.5",
    "100",
)

_BAREWORDS = (
    "WORLDVIEW03_VNIR",
    "WORLDVIEW02",
    "LC08_L1TP_044034_20180601_20180615_01_T1",
    "1030010098312600_P002_PAN_010754443010",
    "10400100112AE600",
    "2018-06-01T12:00:00.000Z",
    "2015-07-31",
    "LV1B",
    "true",
    "FALSE",
    "null",
    "and",
    "or",
    "ANDROID",
    "NOTE",
    "OR-",
    "x*y",
    "*",
    "a\\b",
    "\\",
    "-",
    "+",
    ".",
    "1.2.3",
    "1e",
    "e1",
    "inf",
    "NaN",
    "http://example.com/a+b",
)

_QUOTED_PIECES = (
    "'",
    "''",
    '"',
    "\\",
    "\\\\",
    "*",
    "\\*",
    "%",
    "_",
    " ",
    "\t",
    "\n",
    "(",
    ")",
    ",",
    "=",
    "AND",
    "OR",
    "NOT",
    "LIKE",
    "é",
    "日本",
    "🛰",
    "1050010018826700",
    "2015-07-31T10:07:17.000Z",
    "WORLDVIEW",
)


def _write_moment(moment: datetime, style: int) -> str:
    if style == 0:
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    if style == 1:
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    if style == 2:
        return moment.strftime("%Y-%m-%d")
    return moment.replace(tzinfo=UTC).isoformat()


_MOMENTS = st.datetimes(min_value=datetime(1999, 1, 1), max_value=datetime(2030, 12, 31))
_TIMESTAMPS = st.builds(_write_moment, _MOMENTS, st.just(0))
"""GBDX timestamps: ``2015-07-31T10:07:17.000Z``."""
_ISO_TEXTS = st.builds(_write_moment, _MOMENTS, st.integers(0, 3))
"""ISO 8601 dates and date-times in several styles."""

_CATALOG_IDS = st.one_of(
    _joined(st.just("10"), st.sampled_from("123456"), st.just("0010"), _chars(_HEX, 9, 9)),
    _joined(st.just("10"), st.sampled_from("123456"), st.just("0010"), _chars(_DIGITS, 9, 9)),
)
"""16-character catalog ids such as ``1030010044E3B000``, some all digits (``1050010018826700``)."""

_NUMBER_TEXTS = st.one_of(
    st.integers(0, 100).map(str),
    st.sampled_from(_ID_NUMBERS),
    st.integers().map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    _joined(
        st.sampled_from(("", "+", "-")),
        _chars(_DIGITS, 1, 12) | _joined(st.just("."), _chars(_DIGITS, 1, 6)),
        st.sampled_from(("", ".")) | _joined(st.just("."), _chars(_DIGITS, 1, 6)),
        st.just("")
        | _joined(st.sampled_from("eE"), st.sampled_from(("", "+", "-")), _chars(_DIGITS, 1, 3)),
    ).filter(lambda text: NUMBER_RE.fullmatch(text) is not None),
)

_BARE_TEXTS = st.one_of(
    st.sampled_from(SENSOR_PLATFORMS),
    st.sampled_from(_BAREWORDS),
    _CATALOG_IDS.filter(is_bareword_text),
    _ISO_TEXTS.filter(is_bareword_text),
    _chars(_LETTERS + _DIGITS + ".:/+-*\\", 1, 16).filter(is_bareword_text),
)

_QUOTED_TEXTS = st.one_of(
    st.sampled_from((*SENSOR_PLATFORMS, *_QUOTED_PIECES, "", "0", "15.0", "true")),
    st.text(max_size=12),
    _ISO_TEXTS,
    _CATALOG_IDS,
    st.lists(st.sampled_from(_QUOTED_PIECES) | st.text(max_size=3), max_size=5).map("".join),
)


@functools.cache
def literals() -> SearchStrategy[Literal]:
    """Literals of every kind with valid texts: realistic values and awkward ones.

    Numbers are ASCII (``1050010018826700``, 28-digit ids, ``-.5E+3``); barewords include ISO
    dates, literal stars and backslashes (``x*y`` is the text of ``x\\*y``); quoted texts are
    anything at all (quotes, keywords, unicode, the empty string).

    Returns:
        A strategy of :class:`~catalogql.ast.Literal`.

    >>> from hypothesis import given, settings
    >>> @settings(max_examples=50)
    ... @given(literals())
    ... def check(literal):
    ...     assert isinstance(literal.text, str)
    >>> check()
    """
    return st.one_of(
        _NUMBER_TEXTS.map(lambda text: Literal(text, LiteralKind.NUMBER)),
        _BARE_TEXTS.map(lambda text: Literal(text, LiteralKind.BARE)),
        _QUOTED_TEXTS.map(lambda text: Literal(text, LiteralKind.QUOTED)),
    )


# --------------------------------------------------------------------------------------------
# Patterns

_PATTERN_PIECES = (
    "WORLDVIEW03",
    "WORLDVIEW0",
    "_VNIR",
    "1050010",
    "10400100",
    "2015-",
    "1",
    "LC08",
    "'",
    '"',
    "\\",
    "%",
    "_",
    " ",
    "é",
    "AND",
    "NOT",
    ".",
)


def _with_wildcard(parts: list[str | Wildcard]) -> Pattern:
    if not any(isinstance(part, Wildcard) for part in parts):
        parts.append(Wildcard.ANY)
    return normalize_pattern(tuple(parts))


@functools.cache
def patterns(like: bool = True) -> SearchStrategy[Pattern]:
    """Wildcard patterns for :class:`~catalogql.ast.Match`, normalised, with at least one wildcard.

    Args:
        like: Also use LIKE's one-character wildcard (:data:`~catalogql.ast.Wildcard.ONE`), which
            only the ``LIKE`` compatibility form can write.

    Returns:
        A strategy of patterns.

    >>> from hypothesis import given, settings
    >>> from catalogql.ast import Wildcard
    >>> @settings(max_examples=50)
    ... @given(patterns(like=False))
    ... def check(pattern):
    ...     assert Wildcard.ANY in pattern and Wildcard.ONE not in pattern
    >>> check()
    """
    wildcard = st.sampled_from((Wildcard.ANY, Wildcard.ONE)) if like else st.just(Wildcard.ANY)
    piece = st.sampled_from(_PATTERN_PIECES) | st.text(min_size=1, max_size=4)
    return st.lists(wildcard | piece, min_size=1, max_size=5).map(_with_wildcard)


# --------------------------------------------------------------------------------------------
# Filters


def filter_nodes(
    properties: Sequence[str] | SearchStrategy[str] | None = None,
    *,
    values: SearchStrategy[Literal] | None = None,
    max_leaves: int = 8,
    compat: bool = True,
) -> SearchStrategy[FilterNode]:
    """Filter ASTs: ``And``/``Or`` (flat, two or more items), ``Not``, comparisons and matches.

    Args:
        properties: Names to compare (a sequence or a strategy); :func:`property_names` by default.
        values: Literals to compare with; :func:`literals` by default.
        max_leaves: About how many comparisons a filter has at most.
        compat: Also generate patterns with LIKE's ``_`` wildcard, which print in the ``LIKE``
            form (parsing them warns; the strict dialect rejects them).

    Returns:
        A strategy of filter nodes.

    >>> import catalogql as cq
    >>> from hypothesis import given, settings
    >>> @settings(max_examples=25, deadline=None)
    ... @given(filter_nodes(["cloudCover", "sensorPlatformName"], compat=False))
    ... def check(node):
    ...     assert cq.parse_filter(cq.to_gbdx(node), dialect="strict") == node
    >>> check()
    """
    names = _names(properties, property_names())
    literal = literals() if values is None else values
    leaves: SearchStrategy[FilterNode] = st.one_of(
        st.builds(Comparison, names, st.sampled_from(Op), literal),
        st.builds(Match, names, patterns(like=compat), st.booleans()),
    )
    return st.recursive(leaves, _combine, max_leaves=max_leaves)


def _combine(children: SearchStrategy[Any]) -> SearchStrategy[Any]:
    """``Not``, ``And`` and ``Or`` over smaller trees (of filters or of type expressions)."""
    items = st.lists(children, min_size=2, max_size=4).map(tuple)
    return st.one_of(children.map(Not), items.map(And), items.map(Or))


# --------------------------------------------------------------------------------------------
# Type expressions

_TYPE_NAME = _chars(_LETTERS + _DIGITS, 1, 12).filter(lambda name: name not in TYPE_KEYWORDS)


@functools.cache
def type_names() -> SearchStrategy[str]:
    """Type names: ``[A-Za-z0-9_]+`` but not AND, OR or NOT (``1BProduct``, ``LIKE``, ``_``).

    Returns:
        A strategy of type names.

    >>> from hypothesis import given, settings
    >>> from catalogql.ast import TypeName
    >>> @settings(max_examples=50)
    ... @given(type_names())
    ... def check(name):
    ...     assert TypeName(name).name == name
    >>> check()
    """
    return st.one_of(
        st.sampled_from(_TYPE_LABELS),
        st.sampled_from((*_NEAR_KEYWORDS, "LIKE", "like", "_", "0", "LIKE_")),
        _TYPE_NAME,
    )


def _type_pattern(parts: list[str | Wildcard]) -> TypePattern:
    if Wildcard.ANY not in parts:
        parts.append(Wildcard.ANY)
    return TypePattern(tuple(parts))


def _cut(name: str, at: int) -> TypePattern:
    """A pattern matching ``name`` with one character (or none) replaced by ``*``."""
    at = min(at, len(name))
    return TypePattern((name[:at], Wildcard.ANY, name[at + 1 :]))


def type_nodes(
    names: Sequence[str] | SearchStrategy[str] | None = None, *, max_leaves: int = 6
) -> SearchStrategy[TypeNode]:
    """Type-expression ASTs: ``And``/``Or``/``Not`` over type names and patterns (``WV03*``).

    Args:
        names: Type names to use (a sequence or a strategy); :func:`type_names` by default.
            Patterns are built from the same names.
        max_leaves: About how many names an expression has at most.

    Returns:
        A strategy of type-expression nodes.

    >>> import catalogql as cq
    >>> from hypothesis import given, settings
    >>> @settings(max_examples=25, deadline=None)
    ... @given(type_nodes())
    ... def check(texpr):
    ...     assert cq.parse_types(cq.to_gbdx(texpr)) == texpr
    >>> check()
    """
    chosen = _names(names, type_names())
    leaves: SearchStrategy[TypeNode] = st.one_of(
        chosen.map(TypeName),
        st.builds(_cut, chosen, st.integers(0, 12)),
        st.lists(chosen | st.just(Wildcard.ANY), min_size=1, max_size=4).map(_type_pattern),
    )
    return st.recursive(leaves, _combine, max_leaves=max_leaves)


# --------------------------------------------------------------------------------------------
# Spellings: text that parses to a given node

_CHOICES = st.binary(min_size=64, max_size=256)
"""The random choices of one spelling; all zeros (what shrinking reaches) is the canonical text."""

_SPACES = (" ", "  ", "\t", "\n", "\r\n", " \f ", "\t ")
_QUOTES = ("'", '"')


def spellings(node: Node, *, compat: bool = True) -> SearchStrategy[str]:
    """Texts that parse back to ``node``: the canonical one and non-canonical spellings.

    The spellings use ``==`` and ``!=``, single or double quotes, quoting of patterns that could be
    bare, optional escapes, redundant parentheses and any whitespace (or none where none is needed).
    With ``compat``, a filter may also use ``LIKE``/``NOT LIKE`` and commas between top-level
    conditions (accepted with a :class:`~catalogql.QueryWarning` in the default dialect). A node
    with LIKE's ``_`` wildcard is always written in the ``LIKE`` form.

    Args:
        node: A filter or type-expression AST.
        compat: Whether compatibility forms may be used.

    Returns:
        A strategy of texts ``t`` with ``parse_filter(t) == node`` (or ``parse_types``).

    >>> import catalogql as cq
    >>> from hypothesis import given, settings
    >>> node = cq.parse_filter("sensorPlatformName = 'WORLDVIEW03*' OR NOT (a = 1 AND b <> x)")
    >>> @settings(max_examples=25)
    ... @given(spellings(node, compat=False))
    ... def check(text):
    ...     assert cq.parse_filter(text, dialect="strict") == node
    >>> check()
    """
    return _CHOICES.map(lambda choices: _Speller(choices, compat).top(node))


Written = tuple[str, int]
"""A node as written, and its precedence (OR 1, AND 2, NOT 3, a comparison 4)."""


class _Speller:
    """Writes one node in the spelling that a string of random bytes picks.

    Each decision reads one byte; a zero byte (and the end of the bytes) picks the canonical
    choice, so the all-zero string is the canonical text.
    """

    def __init__(self, choices: bytes, compat: bool) -> None:
        self.choices = choices
        self.at = 0
        self.compat = compat
        self.extra_parens = 0

    def pick(self, n: int) -> int:
        """A number in ``range(n)``; 0 is the canonical choice."""
        if self.at >= len(self.choices):
            return 0
        self.at += 1
        return self.choices[self.at - 1] % n

    def one_in(self, n: int) -> bool:
        """True about once in ``n`` decisions (never for a zero byte)."""
        return self.pick(n) == n - 1

    def space(self, needed: bool = True) -> str:
        if not needed and self.one_in(4):
            return ""
        return " " if self.pick(3) else _SPACES[self.pick(len(_SPACES))]

    def top(self, node: Node) -> str:
        if self.pick(5) == 0:
            return to_gbdx(node)
        lead, trail = ("", "") if self.pick(3) else (self.space(), self.space())
        is_filter = any(isinstance(n, Comparison | Match) for n in iter_nodes(node))
        if self.compat and is_filter and isinstance(node, And) and self.one_in(2):
            items = [fold(item, self.visit) for item in node.items]
            return lead + self.comma_chain(items) + trail
        return lead + self.wrap(fold(node, self.visit), 0) + trail

    def comma_chain(self, items: list[Written]) -> str:
        """``a, b AND c``: commas (read as AND) between some items, ANDs between the others."""
        groups: list[list[Written]] = [[items[0]]]
        for item in items[1:]:
            if self.pick(2) == 0:
                groups.append([item])
            else:
                groups[-1].append(item)
        written = []
        for group in groups:
            if len(group) == 1:
                written.append(self.wrap(group[0], 1))
            else:
                written.append(self.joined(group, "AND", 2))
        return ",".join(self.space(needed=False) + w + self.space(needed=False) for w in written)

    def joined(self, items: Sequence[Written], word: str, precedence: int) -> str:
        out = self.wrap(items[0], precedence)
        for item in items[1:]:
            right = self.wrap(item, precedence)
            before = self.space(needed=not out.endswith((")", "'", '"')))
            out += before + word + self.space(needed=not right.startswith("(")) + right
        return out

    def visit(self, node: object, children: list[Written]) -> Written:
        """One node written (by :func:`~catalogql.ast.fold`), and its precedence."""
        if isinstance(node, And):
            return self.joined(children, "AND", 2), 2
        if isinstance(node, Or):
            return self.joined(children, "OR", 1), 1
        if isinstance(node, Not):
            inner = self.wrap(children[0], 3)
            return "NOT" + self.space(needed=not inner.startswith("(")) + inner, 3
        return self.leaf(cast(Node, node)), 4

    def wrap(self, written: Written, outer: int) -> str:
        """A written node inside an operator of precedence ``outer``: in parentheses if needed."""
        text, mine = written
        extra = self.extra_parens < 8 and self.one_in(6)
        if mine < outer or extra:
            self.extra_parens += extra
            return "(" + self.space(needed=False) + text + self.space(needed=False) + ")"
        return text

    def leaf(self, node: Node) -> str:
        if isinstance(node, TypeName):
            return node.name
        if isinstance(node, TypePattern):
            return "".join("*" if p is Wildcard.ANY else str(p) for p in node.pattern)
        if isinstance(node, Comparison):
            return self.comparison(node)
        if isinstance(node, Match):
            return self.match(node)
        raise TypeError(f"not an AST node: {type(node).__name__}")

    def operator(self, op: Op) -> str:
        spelling = op.value
        if op is Op.EQ and self.one_in(2):
            spelling = "=="
        elif op is Op.NE and self.one_in(2):
            spelling = "!="
        if self.one_in(3):
            return spelling
        return self.space(needed=False) + spelling + self.space(needed=False)

    def like(self, node: Comparison | Match, pattern: Pattern, negated: bool) -> str:
        """``property LIKE 'pattern'`` with ``%``, ``_`` and ``\\`` escaped in the text."""
        pieces = []
        for part in pattern:
            if isinstance(part, Wildcard):
                pieces.append("%" if part is Wildcard.ANY else "_")
            else:
                pieces.append("".join("\\" + c if c in "\\%_" else c for c in part))
        word = "NOT" + self.space() + "LIKE" if negated else "LIKE"
        value = self.quoted("".join(pieces))
        return f"{node.property}{self.space()}{word}{self.space(needed=False)}{value}"

    def comparison(self, node: Comparison) -> str:
        literal = node.value
        likeable = literal.kind is LiteralKind.QUOTED and node.op in (Op.EQ, Op.NE)
        if likeable and self.compat and self.one_in(4):
            return self.like(node, (literal.text,), negated=node.op is Op.NE)
        if literal.kind is LiteralKind.QUOTED:
            value = self.quoted(self.escaped(literal.text))
        elif literal.kind is LiteralKind.BARE:
            value = escape_value(literal.text)
        else:
            value = literal.text
        return node.property + self.operator(node.op) + value

    def match(self, node: Match) -> str:
        if Wildcard.ONE in node.pattern or (self.compat and self.one_in(4)):
            return self.like(node, node.pattern, node.negated)
        texts = [part for part in node.pattern if isinstance(part, str)]
        bare = all(BAREWORD_RE.fullmatch(escape_value(part)) for part in texts)
        if bare and not self.one_in(2):
            value = "".join(
                "*" if isinstance(part, Wildcard) else escape_value(part) for part in node.pattern
            )
        else:
            last = len(node.pattern) - 1
            value = self.quoted(
                "".join(
                    "*" if isinstance(part, Wildcard) else self.escaped(part, before_star=i < last)
                    for i, part in enumerate(node.pattern)
                )
            )
        return node.property + self.operator(Op.NE if node.negated else Op.EQ) + value

    def escaped(self, text: str, before_star: bool = False) -> str:
        """``escape_value``, leaving some lone backslashes unescaped (they read as themselves).

        ``before_star`` says that a wildcard ``*`` follows the text, so a final backslash must be
        escaped.
        """
        out = []
        for i, char in enumerate(text):
            if char == "*":
                out.append("\\*")
            elif char == "\\":
                following = text[i + 1 : i + 2] or ("*" if before_star else "")
                lone = following not in ("*", "\\") and self.one_in(3)
                out.append("\\" if lone else "\\\\")
            else:
                out.append(char)
        return "".join(out)

    def quoted(self, text: str) -> str:
        quote = _QUOTES[self.pick(2)]
        return quote + text.replace(quote, quote * 2) + quote


def filter_texts(
    properties: Sequence[str] | SearchStrategy[str] | None = None,
    *,
    values: SearchStrategy[Literal] | None = None,
    max_leaves: int = 8,
    compat: bool = True,
) -> SearchStrategy[str]:
    """Filter strings guaranteed to parse, in canonical and non-canonical spellings.

    Args:
        properties: Names to compare; see :func:`filter_nodes`.
        values: Literals to compare with; see :func:`filter_nodes`.
        max_leaves: About how many comparisons a filter has at most.
        compat: Also use ``LIKE`` and commas. Those parse with a
            :class:`~catalogql.QueryWarning`; with ``compat=False`` every text also parses in
            ``dialect="strict"``.

    Returns:
        A strategy of filter strings.

    >>> import catalogql as cq
    >>> from hypothesis import given, settings
    >>> @settings(max_examples=25, deadline=None)
    ... @given(filter_texts(compat=False))
    ... def check(text):
    ...     cq.parse_filter(text, dialect="strict")
    >>> check()
    """
    nodes = filter_nodes(properties, values=values, max_leaves=max_leaves, compat=compat)
    return st.builds(lambda node, choices: _Speller(choices, compat).top(node), nodes, _CHOICES)


def type_texts(
    names: Sequence[str] | SearchStrategy[str] | None = None, *, max_leaves: int = 6
) -> SearchStrategy[str]:
    """Type expressions guaranteed to parse, in canonical and non-canonical spellings.

    Args:
        names: Type names to use; see :func:`type_nodes`.
        max_leaves: About how many names an expression has at most.

    Returns:
        A strategy of type-expression strings.

    >>> import catalogql as cq
    >>> from hypothesis import given, settings
    >>> @settings(max_examples=25, deadline=None)
    ... @given(type_texts(["WV02", "WV03_VNIR", "IDAHOImage"]))
    ... def check(text):
    ...     cq.parse_types(text)
    >>> check()
    """
    nodes = type_nodes(names, max_leaves=max_leaves)
    return st.builds(lambda node, choices: _Speller(choices, True).top(node), nodes, _CHOICES)


# --------------------------------------------------------------------------------------------
# Broken texts

NOISE_TOKENS = (  # keywords in every case, operators, quotes, escapes: what broken filters hold
    "AND",
    "OR",
    "NOT",
    "LIKE",
    "NOT LIKE",
    "and",
    "or",
    "(",
    ")",
    "'",
    '"',
    "''",
    "=",
    "==",
    "!=",
    "<>",
    "<",
    "<=",
    ">",
    ">=",
    "*",
    "\\",
    "\\*",
    ",",
    " ",
    "\n",
    "%",
    "_",
    ".",
    "a",
    "1",
    "1e5",
    "\x00",
    "é",
    "🛰",
)
_MUTATION = st.tuples(
    st.sampled_from(("insert", "delete", "replace", "swap", "duplicate")),
    st.integers(0, 2**16),
    st.integers(0, 2**16),
    st.sampled_from(NOISE_TOKENS) | st.characters(),
)


def _mutate(text: str, mutations: list[tuple[str, int, int, str]]) -> str:
    for kind, first, second, noise in mutations:
        at = first % (len(text) + 1)
        if kind == "insert":
            text = text[:at] + noise + text[at:]
        elif kind == "delete":
            text = text[:at] + text[at + 1 + second % 4 :]
        elif kind == "replace":
            text = text[:at] + noise + text[at + 1 :]
        elif kind == "duplicate":
            end = at + second % (len(text) - at + 1)
            text = text[:end] + text[at:end] + text[end:]
        else:
            tokens = re.split(r"(\s+)", text)
            words = [i for i, token in enumerate(tokens) if token and not token.isspace()]
            if len(words) >= 2:
                i, j = words[first % len(words)], words[second % len(words)]
                tokens[i], tokens[j] = tokens[j], tokens[i]
                text = "".join(tokens)
    return text


def mutated_texts(texts: SearchStrategy[str], *, max_mutations: int = 3) -> SearchStrategy[str]:
    """Texts from ``texts`` with a few characters or tokens inserted, deleted, replaced or swapped.

    Most results are invalid in interesting ways (an unclosed quote, a lowercase ``and``, a
    dangling operator); parsing them must raise :class:`~catalogql.QueryError` and nothing else.

    Args:
        texts: Valid texts to damage, e.g. :func:`filter_texts`.
        max_mutations: Most mutations applied to one text.

    Returns:
        A strategy of strings.

    >>> import catalogql as cq
    >>> from hypothesis import given, settings
    >>> @settings(max_examples=25, deadline=None)
    ... @given(mutated_texts(st.just("cloudCover < 20 AND sensorPlatformName = 'WORLDVIEW02'")))
    ... def check(text):
    ...     try:
    ...         cq.parse_filter(text)
    ...     except cq.QueryError:
    ...         pass
    >>> check()
    """
    mutations = st.lists(_MUTATION, min_size=1, max_size=max_mutations)
    return st.builds(_mutate, texts, mutations)


# --------------------------------------------------------------------------------------------
# Property values


@functools.cache
def json_values(*, allow_nan: bool = False, max_leaves: int = 8) -> SearchStrategy[Any]:
    """Any JSON value: None, booleans, huge integers, floats (``-0.0`` too), text, lists, objects.

    Args:
        allow_nan: Also generate ``nan``, ``inf`` and ``-inf`` (Python's json writes them).
        max_leaves: About how many scalars one value holds at most.

    Returns:
        A strategy of JSON-ish values.

    >>> import json
    >>> from hypothesis import given, settings
    >>> @settings(max_examples=50)
    ... @given(json_values())
    ... def check(value):
    ...     json.dumps(value)
    >>> check()
    """
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.sampled_from((0, -1, 2**53 + 1, 10**30, -(10**40), 1050010018826700)),
        st.floats(allow_nan=allow_nan, allow_infinity=allow_nan),
        st.sampled_from((0.0, -0.0, 1e308, 5e-324, 26.5, 0.1)),
        st.text(max_size=10),
        st.sampled_from(
            ("", "WORLDVIEW02", "1050010018826700", "2015-07-31T10:07:17.000Z", "true", "*")
        ),
        _ISO_TEXTS,
    )
    keys = st.sampled_from(("a", "b", "x", "productLevel")) | st.text(max_size=5)
    return st.recursive(
        scalars,
        lambda children: (
            st.lists(children, max_size=4) | st.dictionaries(keys, children, max_size=4)
        ),
        max_leaves=max_leaves,
    )


def properties_dicts(
    keys: Sequence[str] | SearchStrategy[str] | None = None,
    *,
    max_size: int = 8,
    allow_nan: bool = False,
) -> SearchStrategy[dict[str, Any]]:
    """Arbitrary property dicts (any JSON values), for checking that predicates never raise.

    Args:
        keys: Property names (a sequence or a strategy); :func:`property_names` by default, so a
            dotted name may be one key (``"a.b"``) or a path through nested objects.
        max_size: Most properties in one dict.
        allow_nan: Also use ``nan`` and infinities.

    Returns:
        A strategy of dicts.

    >>> import catalogql as cq
    >>> from hypothesis import given, settings
    >>> keep = cq.compile_predicate(cq.parse_filter("a < 20 OR NOT b = x*"))
    >>> @settings(max_examples=50)
    ... @given(properties_dicts(["a", "b"]))
    ... def check(properties):
    ...     assert keep(properties) in (True, False)
    >>> check()
    """
    names = _names(keys, property_names())
    return st.dictionaries(names, json_values(allow_nan=allow_nan), max_size=max_size)


_SCHEMA_ENTRIES: tuple[dict[str, Any], ...] = (
    {"type": "integer"},
    {"type": "number"},
    {"type": "string"},
    {"type": "string", "format": "date-time"},
    {"type": "boolean"},
    {"type": "array", "items": {"type": "string"}},
    {"type": "array", "items": {"type": "number"}},
    {},
)


def queryables(names: Sequence[str]) -> SearchStrategy[dict[str, Any]]:
    """Queryables schemas over ``names``: each name typed, untyped (``{}``) or left out.

    Args:
        names: The property names the schemas may declare.

    Returns:
        A strategy of JSON Schema dicts, ``{"type": "object", "properties": {...}}``.

    >>> import catalogql as cq
    >>> from hypothesis import given, settings
    >>> @settings(max_examples=25)
    ... @given(queryables(["cloudCover", "timestamp"]))
    ... def check(schema):
    ...     cq.compile_predicate(cq.parse_filter("cloudCover < 20"), schema)
    >>> check()
    """
    entry = st.none() | st.sampled_from(_SCHEMA_ENTRIES)
    return st.fixed_dictionaries({name: entry for name in names}).map(
        lambda picked: {
            "type": "object",
            "properties": {k: dict(v) for k, v in picked.items() if v is not None},
        }
    )


# --------------------------------------------------------------------------------------------
# Records


def _footprint(lon: float, lat: float, width: float, height: float) -> str:
    x0, y0 = round(lon, 6), round(lat, 6)
    x1, y1 = round(lon + width, 6), round(lat + height, 6)
    ring = f"{x0} {y0}, {x1} {y0}, {x1} {y1}, {x0} {y1}, {x0} {y0}"
    return f"MULTIPOLYGON((({ring})))"


def _sometimes_null(values: SearchStrategy[Any]) -> SearchStrategy[Any]:
    return st.one_of(values, values, values, st.none())


def _angle(low: float, high: float) -> SearchStrategy[float]:
    return st.floats(low, high, exclude_max=True).map(lambda v: round(v, 6))


@functools.cache
def _gbdx_properties() -> SearchStrategy[dict[str, Any]]:
    """The properties of a record, except the ones that depend on its platform and id."""
    required = {
        "timestamp": st.one_of(_TIMESTAMPS, _TIMESTAMPS, _TIMESTAMPS, _ISO_TEXTS, st.none()),
        "footprintWkt": st.builds(
            _footprint,
            st.floats(-180, 179),
            st.floats(-90, 89),
            st.floats(0.01, 1),
            st.floats(0.01, 1),
        ),
        "cloudCover": st.integers(0, 100) | st.integers(0, 100) | st.none(),
    }
    optional = {
        "offNadirAngle": _sometimes_null(_angle(0, 45) | st.integers(0, 45)),
        "sunElevation": _sometimes_null(_angle(-10, 90)),
        "sunAzimuth": _angle(0, 360),
        "targetAzimuth": _angle(0, 360),
        "bearing": _sometimes_null(_angle(179.9, 180.1)),
        "multiResolution": _sometimes_null(st.sampled_from((0.0, 1.24, 1.85, 2.29, 30.0))),
        "panResolution": st.sampled_from((0.0, 0.31, 0.46, 0.57, 15.0)),
        "imageBands": st.sampled_from(("PAN_MS1", "PAN_MS1_MS2", "PAN", "SWIR")),
        "scanDirection": st.sampled_from(("Forward", "Reverse")),
        "stereoPair": st.none(),
        "ingestDate": _TIMESTAMPS,
        # Rarer shapes: a list, a boolean, a nested object (read as _acquisition.productLevel).
        "bands": st.lists(st.sampled_from(("PAN", "MS1", "MS2", "SWIR")), max_size=4),
        "isHidden": st.booleans(),
        "_acquisition": st.fixed_dictionaries({"productLevel": st.sampled_from(("LV1B", "LV2A"))}),
    }
    return st.fixed_dictionaries(required, optional=optional)


_GBDX_KEYS = frozenset(GBDX_PROPERTIES) | {"_acquisition"}
_DG_IDS = _joined(
    st.just("10"),
    st.sampled_from("123456"),
    st.sampled_from("0A"),
    st.just("0100"),
    _chars(_HEX, 6, 6),
    st.just("00") | _chars(_HEX, 2, 2),
)
_IDS = {
    "dg": _DG_IDS | _CATALOG_IDS,
    "landsat": _joined(st.just("LC8"), _chars(_DIGITS, 13, 13), st.just("LGN00")),
    "ikonos": _chars(_DIGITS, 28, 28),
    "idaho": st.uuids().map(str),
}
_PLATFORM_LISTS = st.lists(st.sampled_from(SENSOR_PLATFORMS), max_size=3)


@st.composite
def _record(
    draw: st.DrawFn, labels: SearchStrategy[list[str]], extra: SearchStrategy[dict[str, Any]]
) -> dict[str, Any]:
    platform = draw(st.sampled_from(SENSOR_PLATFORMS))
    kind = {"LANDSAT08": "landsat", "IKONOS": "ikonos"}.get(platform, "dg")
    catalog_id = draw(_IDS[kind])
    identifier = catalog_id
    if platform == "LANDSAT08":
        type_list = ["GBDXCatalogRecord", "Acquisition", "Landsat8", "LandsatAcquisition"]
    elif platform == "IKONOS":
        type_list = ["GBDXCatalogRecord", "Acquisition", "IKONOS", "IKONOSAcquisition"]
    elif draw(st.integers(0, 7)) == 7:
        kind = "idaho"
        identifier = draw(_IDS["idaho"])
        type_list = ["GBDXCatalogRecord", "IDAHOImage", "DigitalGlobeProduct", _LABELS[platform]]
    else:
        type_list = ["GBDXCatalogRecord", "Acquisition", "DigitalGlobeAcquisition"]
        type_list.append(_LABELS[platform])
    # Mostly the record's platform; sometimes a list of platforms, or null.
    sensor = draw(st.sampled_from((platform, platform, platform, None)) | _PLATFORM_LISTS)
    properties: dict[str, Any] = {
        "catalogID": catalog_id,
        "sensorPlatformName": sensor,
        "platformName": platform,
        "vendor": {"landsat": "Landsat"}.get(kind, "DigitalGlobe"),
        **draw(_gbdx_properties()),
    }
    if kind == "dg":
        properties["browseURL"] = (
            f"https://geobigdata.io/thumbnails/v1/browse/{catalog_id}.large.png"
        )
    elif kind == "landsat":
        path, row = draw(st.integers(1, 233)), draw(st.integers(1, 248))
        prefix = f"L8/{path:03d}/{row:03d}/{catalog_id}"
        properties.update(path=path, row=row, bucketName="landsat-pds", bucketPrefix=prefix)
    elif kind == "idaho":
        properties.update(acquisitionDate=properties["timestamp"], vendorName="DigitalGlobe")
    properties.update((k, v) for k, v in draw(extra).items() if k not in _GBDX_KEYS)
    type_list += [label for label in draw(labels) if label not in type_list]
    return {"identifier": identifier, "type": type_list, "properties": properties}


def records(
    types: Sequence[str] | SearchStrategy[str] | None = None, *, extra: bool = True
) -> SearchStrategy[dict[str, Any]]:
    """GBDX-shaped records: ``{"identifier", "type", "properties"}`` like the real catalog's.

    Records are DigitalGlobe acquisitions (``WV01`` ... ``QB02``; a few are ``IDAHOImage``
    products), Landsat 8 and IKONOS scenes, typed as GBDX types them (``["GBDXCatalogRecord",
    "Acquisition", "DigitalGlobeAcquisition", "WV02"]``). Properties follow the GBDX catalog:
    ``timestamp`` (``2015-07-31T10:07:17.000Z``), ``footprintWkt`` (a small ``MULTIPOLYGON``),
    ``cloudCover`` (0-100), ``offNadirAngle``, ``sensorPlatformName``, ``catalogID`` (hex-ish
    ``1040010019B4A600``, all-digit ``1050010018826700``, 28-digit IKONOS ids, Landsat scene ids)
    and more. Some values are null and some keys missing; ``sensorPlatformName`` is sometimes a
    list, and a few properties hold a boolean, a list or a nested object.

    Args:
        types: Extra type labels to add to some records (a sequence or a strategy).
        extra: Also add a few arbitrary properties (:func:`properties_dicts`) under other names.

    Returns:
        A strategy of record dicts.

    >>> from hypothesis import given, settings
    >>> @settings(max_examples=25)
    ... @given(records())
    ... def check(record):
    ...     assert "GBDXCatalogRecord" in record["type"]
    ...     assert record["properties"]["footprintWkt"].startswith("MULTIPOLYGON(((")
    >>> check()
    """
    labels: SearchStrategy[list[str]] = st.just([])
    if types is not None:
        labels = st.lists(_names(types, type_names()), max_size=3, unique=True)
    return _record(labels, properties_dicts(max_size=3) if extra else st.just({}))


# --------------------------------------------------------------------------------------------
# Search requests


def _box(x0: float, y0: float, width: float, height: float) -> str:
    x1, y1 = x0 + width, y0 + height
    return f"POLYGON (({x0} {y0}, {x1} {y0}, {x1} {y1}, {x0} {y1}, {x0} {y0}))"


def _point(x: float, y: float) -> str:  # gbdxtools' point search: one point five times
    return "POLYGON ((" + ", ".join([f"{x} {y}"] * 5) + "))"


@st.composite
def _dates(draw: st.DrawFn, instants: SearchStrategy[str]) -> tuple[str | None, str | None]:
    start, end = draw(st.one_of(st.none(), instants)), draw(st.one_of(st.none(), instants))
    if start is not None and end is not None:
        from catalogql.semantics import instant_key

        if (instant_key(start) or "") > (instant_key(end) or ""):
            start, end = end, start
    return start, end


_EMPTY_LISTS: SearchStrategy[list[str] | None] = st.sampled_from([None, []])


@st.composite
def _search_request(
    draw: st.DrawFn,
    bounds: tuple[float, float, float, float],
    instants: SearchStrategy[str],
    types: SearchStrategy[str],
    filters: SearchStrategy[str],
    max_limit: int,
) -> dict[str, Any]:
    min_x, min_y, max_x, max_y = bounds
    xs, ys = st.floats(min_x, max_x), st.floats(min_y, max_y)
    sizes = st.floats(0.0, max(max_x - min_x, max_y - min_y) / 2)
    area = draw(
        st.one_of(
            st.none(),
            st.builds(
                lambda x, y, w, h: _box(x, y, min(w, max_x - x), min(h, max_y - y)),
                xs, ys, sizes, sizes,
            ),
            st.builds(_point, xs, ys),
        )
    )  # fmt: skip
    body: dict[str, Any] = {}
    if area is not None or draw(st.booleans()):
        body["searchAreaWkt"] = area
    start, end = draw(_dates(instants))
    if start is not None or draw(st.booleans()):
        body["startDate"] = start
    if end is not None or draw(st.booleans()):
        body["endDate"] = end
    type_list = draw(st.lists(types, max_size=2))
    if type_list:
        body["types"] = type_list
    elif draw(st.booleans()):
        body["types"] = draw(_EMPTY_LISTS)
    filter_list = draw(st.lists(filters, max_size=3))
    if filter_list:
        body["filters"] = filter_list
    elif draw(st.booleans()):
        body["filters"] = draw(_EMPTY_LISTS)
    if draw(st.booleans()):
        body["limit"] = draw(st.integers(1, max_limit))
    if draw(st.booleans()):
        body["countTotal"] = draw(st.booleans())
    return body


def search_requests(
    *,
    bounds: tuple[float, float, float, float] = (-180.0, -90.0, 180.0, 90.0),
    instants: Sequence[str] | SearchStrategy[str] | None = None,
    types: Sequence[str] | SearchStrategy[str] | None = None,
    filters: Sequence[str] | SearchStrategy[str] | None = None,
    max_limit: int = 1200,
) -> SearchStrategy[dict[str, Any]]:
    """Valid GBDX search request bodies, as a client sends them.

    Areas are boxes (possibly degenerate: zero width or height makes a line) and gbdxtools-style
    points inside ``bounds``; dates are drawn from ``instants`` and put in order; ``types`` and
    ``filters`` hold up to two type expressions and three filters. Keys are sometimes missing and
    sometimes null; ``limit`` may pass 1000 (served as 1000); ``countTotal`` is sometimes set.

    Args:
        bounds: (min lon, min lat, max lon, max lat) of the areas.
        instants: Dates or date-times for the bounds; GBDX timestamps by default.
        types: Type-expression texts; :func:`type_texts` by default.
        filters: Filter texts; :func:`filter_texts` (``compat=False``) by default.
        max_limit: The largest ``limit`` drawn.

    Returns:
        A strategy of request dicts that ``SearchRequest.from_dict`` accepts.

    >>> from hypothesis import given, settings
    >>> from catalogql.search import SearchRequest
    >>> @settings(max_examples=25, deadline=None)
    ... @given(search_requests(bounds=(0, 0, 10, 10)))
    ... def check(body):
    ...     SearchRequest.from_dict(body)
    >>> check()
    """
    return _search_request(
        bounds,
        _TIMESTAMPS if instants is None else _names(instants, _TIMESTAMPS),
        type_texts() if types is None else _names(types, type_texts()),
        filter_texts(compat=False) if filters is None else _names(filters, filter_texts()),
        max_limit,
    )
