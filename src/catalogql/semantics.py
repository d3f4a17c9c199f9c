"""What a comparison means: the value-typing table of SPEC section 4, in one place.

Every back end asks this module, and only this module, how a property value and a literal compare:

============================  ==========================================  ========================
property value                literal                                     comparison
============================  ==========================================  ========================
number                        number, or text that parses as a number     numeric (exact for ints)
number                        text that is not a number                   unknown
string                        anything                                    text of the literal, by
                                                                          code point
datetime (schema, or a string ISO 8601 date or date-time                  instants, in UTC
named like a date)
boolean                       ``true``/``false``, any case (= and <> only)  boolean
list                          anything                                    any element compares true
missing, null, object         anything                                    unknown
============================  ==========================================  ========================

*Unknown* is SQL's third truth value: a comparison that is unknown is false, and so is its NOT
(SPEC section 4). With a queryables schema, the schema decides a property's type instead of the
record's value, and a record value of another type is unknown.

A wildcard :class:`~catalogql.ast.Match` compares the value's *text form* (:func:`text_form`).

>>> from catalogql.ast import Literal, LiteralKind, Op
>>> compare = scalar_comparator("cloudCover", Op.LT, Literal("20", LiteralKind.NUMBER))
>>> compare(10), compare(30), compare("abc"), compare(None)
(True, False, False, None)
"""

from __future__ import annotations

import calendar
import decimal
import enum
import operator
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from catalogql.ast import (
    NUMBER_RE,
    Comparison,
    Literal,
    LiteralKind,
    Op,
    Pattern,
    Wildcard,
)
from catalogql.caches import sized_cache, text_bytes
from catalogql.syntax.errors import QueryError, QueryValidationError

__all__ = [
    "INSTANT_DIGITS",
    "INSTANT_LAYOUT",
    "INSTANT_MARKS",
    "NUMBER_CHARACTERS",
    "NUMBER_TEXT_CHARACTERS",
    "OPERATORS",
    "Operands",
    "PropertyType",
    "ValueType",
    "boolean_from_text",
    "comparison_operands",
    "instant_key",
    "instant_keys",
    "integer_text",
    "is_datetime_name",
    "like_pattern",
    "list_any",
    "literal_boolean",
    "literal_instant",
    "literal_number",
    "match_comparator",
    "may_match_a_number",
    "not_tri",
    "parse_instant",
    "pattern_matcher",
    "property_getter",
    "scalar_comparator",
    "text_form",
    "type_problem",
    "typed_literal",
    "value_domains",
]

Tri = bool | None
"""Three-valued truth: True, False, or None for unknown."""


class ValueType(enum.Enum):
    """The comparison domains of SPEC section 4."""

    NUMBER = "number"
    TEXT = "text"
    DATETIME = "datetime"
    BOOLEAN = "boolean"


@dataclass(frozen=True, slots=True)
class PropertyType:
    """A property's type as a queryables schema declares it.

    Attributes:
        value_type: The comparison domain of the property's values (or of its items, for a list).
        is_list: Whether the property holds a list (``"type": "array"``).
        enum: The allowed values, if the schema lists them.
    """

    value_type: ValueType | None
    is_list: bool = False
    enum: tuple[Any, ...] | None = None


# --------------------------------------------------------------------------------------------
# Literals and values


_DATETIME_NAME = re.compile(r"timestamp|acquisitionDate|.*Date|.*_datetime")


def is_datetime_name(name: str) -> bool:
    """Whether a string property with this name holds date-times (SPEC section 4).

    >>> is_datetime_name("timestamp"), is_datetime_name("startDate"), is_datetime_name("catalogID")
    (True, True, False)
    """
    return _DATETIME_NAME.fullmatch(name.rsplit(".", 1)[-1]) is not None


def literal_number(literal: Literal) -> int | float | None:
    """The literal as a number, if its text is one: an ``int`` when integral as written.

    Integers stay integers, so ``1050010018826700`` loses no digit; other numbers are floats.

    >>> from catalogql.ast import LiteralKind
    >>> literal_number(Literal("15.0", LiteralKind.QUOTED)), literal_number(Literal("x", LiteralKind.BARE))
    (15.0, None)
    """  # noqa: E501
    return number_from_text(literal.text)


_PLAIN_DIGITS = 4000  # below CPython's limit on the digits int() converts
NUMBER_CHARACTERS = "0123456789+-.eE \t\r\n\f"
"""Every character a number's text may hold: :func:`number_from_text` refuses any other at once."""


def _number_bytes(args: tuple[Any, ...], value: int | float | None) -> int:
    return text_bytes(args[0]) + sys.getsizeof(value)


@sized_cache(max_entries=4096, max_bytes=4 << 20, size=_number_bytes, text_key=True)
def number_from_text(text: str) -> int | float | None:
    """A number from text as SPEC section 4 reads it, or None.

    An integer is exact at any length (past CPython's 4,300-digit limit of ``int(text)`` too).

    >>> [number_from_text(t) for t in ("20", "-1e3", "1e400", "inf", "\u0661")]
    [20, -1000.0, inf, None, None]
    >>> number_from_text("9" * 5000) == 10**5000 - 1
    True
    """
    if text.isascii() and text.isdigit() and len(text) <= _PLAIN_DIGITS:
        return int(text)  # the common case (an identifier's digits), without the expressions
    if text.strip(NUMBER_CHARACTERS):  # a character no number has ("10400100203F1300")
        return None  # (without the expression)
    stripped = text.strip(" \t\r\n\f")
    if not NUMBER_RE.fullmatch(stripped):
        return None
    if re.fullmatch(r"[+-]?[0-9]+", stripped):
        try:
            return int(stripped)
        except ValueError:  # past the digit limit: decimal converts exactly, without it
            return int(decimal.Decimal(stripped))
    return float(stripped)  # past the float range this is inf, which still orders correctly


def integer_text(value: int) -> str:
    """An integer's decimal text, exact at any length (``str()`` refuses past 4,300 digits).

    >>> integer_text(-42), len(integer_text(10**5000))
    ('-42', 5001)
    """
    try:
        return str(value)
    except ValueError:  # CPython's int-to-text digit limit: decimal has none and is exact
        return str(decimal.Decimal(value))


_INSTANT_RE = re.compile(  # ASCII digits only: \d would also take other scripts' digits
    r"(\d{4})-(\d{2})-(\d{2})"
    r"(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?(Z|z|[+-]\d{2}(?::?\d{2})?)?)?",
    re.ASCII,
)


def _instant_bytes(args: tuple[Any, ...], value: str | None) -> int:
    return 64 + text_bytes(args[0]) + text_bytes(value)


@sized_cache(max_entries=65536, max_bytes=16 << 20, size=_instant_bytes, text_key=True)
def instant_key(text: str) -> str | None:
    """An ISO 8601 date or date-time as a sortable UTC key, or None if it is not one.

    The key is ``YYYY-MM-DDTHH:MM:SS`` in UTC followed by the fraction of a second as written,
    trailing zeros dropped: comparing keys as text compares the instants exactly, to any number
    of fractional digits. A date means midnight UTC; a date-time without an offset is UTC.

    >>> instant_key("2015-07-31T10:07:17.000Z"), instant_key("2015-07-31T12:07:17.5+02:00")
    ('2015-07-31T10:07:17', '2015-07-31T10:07:17.5')
    >>> instant_key("2014-01-01"), instant_key("0999-12-31T23:00-02:00"), instant_key("today")
    ('2014-01-01T00:00:00', '1000-01-01T01:00:00', None)
    """
    if len(text) < 10 or text[4] != "-":  # not YYYY-…: neither form can match
        return None
    fast = _utc_instant_key(text)
    return fast if fast is not None else _general_instant_key(text)


_uncached_instant_key = instant_key.__wrapped__


def _general_instant_key(text: str) -> str | None:
    """:func:`instant_key` by the regular expression and ``datetime``: every form.

    >>> _general_instant_key("2015-07-31 12:07:17,5+02"), _general_instant_key("2015")
    ('2015-07-31T10:07:17.5', None)
    """
    m = _INSTANT_RE.fullmatch(text)
    if m is None:
        return None
    year, month, day, hour, minute, second, fraction, zone = m.groups()
    try:
        moment = datetime(
            int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0)
        )
        if zone and zone not in ("Z", "z"):
            sign = -1 if zone[0] == "-" else 1
            digits = zone[1:].replace(":", "")
            offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:] or 0))
            if offset >= timedelta(hours=24):
                return None
            moment -= sign * offset
    except (ValueError, OverflowError):
        return None
    fraction = (fraction or "").rstrip("0")
    # not strftime: its %Y drops the leading zeros of years before 1000 on glibc
    key = (
        f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}"
        f"T{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}"
    )
    return key + (f".{fraction}" if fraction else "")


_DAYS = (0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)  # a month's most days


def _utc_instant_key(text: str) -> str | None:
    """:func:`instant_key` of the common form ``YYYY-MM-DDTHH:MM:SS[.fff…]Z``; else None.

    None means "not this form, or not a real instant": the general path decides. Tests check
    that it agrees with the general path wherever it answers.

    >>> _utc_instant_key("2015-07-31T10:07:17.000Z"), _utc_instant_key("2015-02-29T10:07:17Z")
    ('2015-07-31T10:07:17', None)
    """
    if (
        len(text) < 20
        or text[-1] != "Z"
        or text[4] != "-"
        or text[7] != "-"
        or text[10] != "T"
        or text[13] != ":"
        or text[16] != ":"
        or not text.isascii()
    ):
        return None
    digits = text[:4] + text[5:7] + text[8:10] + text[11:13] + text[14:16] + text[17:19]
    if not digits.isdigit():
        return None
    fraction = ""
    if len(text) > 20:
        fraction = text[20:-1]
        if text[19] not in ".," or not fraction.isdigit():
            return None
        fraction = fraction.rstrip("0")
    year, month, day = int(digits[:4]), int(digits[4:6]), int(digits[6:8])
    if (
        year == 0
        or not 1 <= month <= 12
        or not 1 <= day <= _DAYS[month]
        or (month == 2 and day == 29 and not calendar.isleap(year))
        or int(digits[8:10]) > 23
        or int(digits[10:12]) > 59
        or int(digits[12:14]) > 59
    ):
        return None
    return text[:19] + "." + fraction if fraction else text[:19]


def instant_keys(texts: Sequence[object]) -> list[str | None]:
    """:func:`instant_key` of each of many texts (None for what is not a ``str``), a batch at once.

    The same answers as one :func:`instant_key` at a time (uncached), faster for a load: texts
    of the common form ``YYYY-MM-DDTHH:MM:SS[.fff…]Z`` that share a length (a catalog's times
    mostly do) are checked together with numpy, by the rule of :func:`_utc_instant_key`, on
    their code points; every other text goes through :func:`instant_key`'s own path.

    >>> instant_keys(["2015-07-31T10:07:17.000Z", "2015-07-31T10:07:17.250Z", "2014-01-01", 5])
    ['2015-07-31T10:07:17', '2015-07-31T10:07:17.25', '2014-01-01T00:00:00', None]
    """
    keys: list[str | None] = [None] * len(texts)
    lengths: dict[int, list[tuple[int, str]]] = {}
    for at, text in enumerate(texts):
        if type(text) is str:
            if len(text) >= 20 and text[-1] == "Z":
                lengths.setdefault(len(text), []).append((at, text))
            else:
                keys[at] = _uncached_instant_key(text)
    for length, group in lengths.items():
        if len(group) < _BATCH_LEAST:
            for at, text in group:
                keys[at] = _uncached_instant_key(text)
            continue
        found = _utc_instant_keys([text for _, text in group], length)
        for (at, text), key in zip(group, found, strict=True):
            keys[at] = key if key is not None else _uncached_instant_key(text)
    return keys


_BATCH_LEAST = 16  # fewer texts of one length are read one at a time
INSTANT_LAYOUT = "0000-00-00T00:00:00"
"""The first 19 characters of every :func:`instant_key` (``0``: a digit); the common form
``YYYY-MM-DDTHH:MM:SS[.fff…]Z`` starts so too."""
INSTANT_DIGITS = tuple(at for at, char in enumerate(INSTANT_LAYOUT) if char == "0")
"""Where :data:`INSTANT_LAYOUT` has a digit."""
INSTANT_MARKS = tuple((at, char) for at, char in enumerate(INSTANT_LAYOUT) if char != "0")
"""Where :data:`INSTANT_LAYOUT` has a mark, and which: ``((4, "-"), (7, "-"), (10, "T"), …)``."""


def _utc_instant_keys(texts: list[str], length: int) -> list[str | None]:
    """:func:`_utc_instant_key` of texts all ``length`` long, ending in ``Z``, at once."""
    import numpy as np  # here: the typing table is used by many that never load a batch

    chars = np.array(texts, dtype=f"<U{length}")
    codes = chars.view(np.uint32).reshape(len(texts), length)
    good = np.ones(len(texts), dtype=bool)
    for at, mark in INSTANT_MARKS:
        good &= codes[:, at] == ord(mark)
    digits = codes[:, INSTANT_DIGITS] - 0x30  # a code point below "0" wraps to a large number
    good &= (digits < 10).all(axis=1)
    zeros = np.ones(len(texts), dtype=bool)  # a fraction of zeros only, or none
    if length > 20:
        fraction = codes[:, 20 : length - 1] - 0x30
        good &= ((codes[:, 19] == 0x2E) | (codes[:, 19] == 0x2C)) & (fraction < 10).all(axis=1)
        zeros = (fraction == 0).all(axis=1)
    values = digits.astype(np.int64)
    year = values[:, 0] * 1000 + values[:, 1] * 100 + values[:, 2] * 10 + values[:, 3]
    month, day, hour, minute, second = (
        values[:, i] * 10 + values[:, i + 1] for i in range(4, 14, 2)
    )
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    good &= (
        (year != 0)
        & (month >= 1)
        & (month <= 12)
        & (day >= 1)
        & (day <= np.asarray(_DAYS)[np.clip(month, 0, 12)])
        & ~((month == 2) & (day == 29) & ~leap)
        & (hour <= 23)
        & (minute <= 59)
        & (second <= 59)
    )
    keys: list[str | None] = chars.astype("<U19").tolist()
    for at in np.flatnonzero(~good | ~zeros).tolist():
        keys[at] = _utc_instant_key(texts[at]) if good[at] else None
    return keys


def parse_instant(text: str) -> datetime | None:
    """An ISO 8601 date or date-time as an aware UTC datetime (to the microsecond), or None.

    Comparisons use :func:`instant_key`, which keeps every fractional digit.

    >>> parse_instant("2015-07-31T10:07:17.000Z")
    datetime.datetime(2015, 7, 31, 10, 7, 17, tzinfo=datetime.timezone.utc)
    """
    key = instant_key(text)
    if key is None:
        return None
    whole, _, fraction = key.partition(".")
    moment = datetime.strptime(whole, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)
    return moment.replace(microsecond=int((fraction + "000000")[:6]))


def literal_instant(literal: Literal) -> str | None:
    """The literal as an instant key (:func:`instant_key`), or None.

    >>> from catalogql.ast import LiteralKind
    >>> literal_instant(Literal("2016-01-01T00:00:00.000Z", LiteralKind.QUOTED))
    '2016-01-01T00:00:00'
    """
    return instant_key(literal.text)


def literal_boolean(literal: Literal) -> bool | None:
    """The literal as a boolean (``true``/``false`` in any case), or None.

    >>> from catalogql.ast import LiteralKind
    >>> literal_boolean(Literal("TRUE", LiteralKind.BARE)), literal_boolean(Literal("1", LiteralKind.NUMBER))
    (True, None)
    """  # noqa: E501
    return boolean_from_text(literal.text)


def boolean_from_text(text: str) -> bool | None:
    """``true``/``false`` in any case as a boolean, or None.

    >>> boolean_from_text("False"), boolean_from_text("yes")
    (False, None)
    """
    lowered = text.lower()
    return True if lowered == "true" else False if lowered == "false" else None


def text_form(value: Any) -> str | None:
    """The text a wildcard matches in a scalar value.

    Strings as they are, numbers and booleans as JSON writes them; None for anything else.

    >>> text_form("WV02"), text_form(1050010018826700), text_form(26.5), text_form(True)
    ('WV02', '1050010018826700', '26.5', 'true')
    """
    t = type(value)
    if t is str:
        return value  # type: ignore[no-any-return]
    if t is bool:
        return "true" if value else "false"
    if t is int:
        return integer_text(value)
    if t is float:
        return repr(value)
    return None


NUMBER_TEXT_CHARACTERS = frozenset("0123456789+-.e" + "infa")
"""Every character :func:`text_form` can write for a number (``-1.5e-05``, ``inf``, ``nan``)."""


def may_match_a_number(pattern: Pattern) -> bool:
    """Whether a wildcard pattern can match the :func:`text_form` of any number.

    Only patterns whose text pieces use no character outside :data:`NUMBER_TEXT_CHARACTERS`
    can; a back end need not build the number arm of a match (nor the SQL helper it calls) for
    the others: a number never matches them.

    Args:
        pattern: A wildcard pattern (text pieces and :class:`~catalogql.ast.Wildcard`).

    Returns:
        False when no number's text can match it.

    >>> may_match_a_number(("1050010", Wildcard.ANY)), may_match_a_number(("WV03", Wildcard.ANY))
    (True, False)
    """
    return all(
        not isinstance(part, str) or NUMBER_TEXT_CHARACTERS.issuperset(part) for part in pattern
    )


def property_getter(name: str) -> Callable[[Mapping[str, Any]], Any]:
    """A function reading a property from a record's properties.

    A dotted name (``_acquisition.productLevel``) is first looked up as one key, then as a path
    through nested objects.

    >>> property_getter("a.b")({"a": {"b": 1}}), property_getter("a.b")({"a.b": 2})
    (1, 2)
    """
    if "." not in name:
        return lambda props: props.get(name)
    path = name.split(".")

    def get(props: Mapping[str, Any]) -> Any:
        if name in props:
            return props[name]
        value: Any = props
        for key in path:
            if not isinstance(value, Mapping):
                return None
            value = value.get(key)
        return value

    return get


# --------------------------------------------------------------------------------------------
# The comparators: the table above, as code


OPERATORS: Mapping[Op, Callable[[Any, Any], Any]] = {
    Op.EQ: operator.eq,
    Op.NE: operator.ne,
    Op.LT: operator.lt,
    Op.LE: operator.le,
    Op.GT: operator.gt,
    Op.GE: operator.ge,
}
"""Each operator as a function: on Python values, and on SQLAlchemy expressions alike."""


def value_domains(name: str, declared: PropertyType | None = None) -> Mapping[type, ValueType]:
    """The rows of the table a value of property ``name`` can fall in, by its Python type.

    A value whose type is not a key (None, an object, a list element that is itself a list, or a
    value the schema's declared type rules out) compares as unknown. Every back end takes its
    type dispatch from here.

    >>> value_domains("timestamp")[str], value_domains("catalogID")[str]
    (<ValueType.DATETIME: 'datetime'>, <ValueType.TEXT: 'text'>)
    >>> list(value_domains("cloudCover", PropertyType(ValueType.NUMBER)))
    [<class 'int'>, <class 'float'>]
    """
    want = declared.value_type if declared is not None else None
    dated = want is ValueType.DATETIME or (want is None and is_datetime_name(name))
    string = ValueType.DATETIME if dated else ValueType.TEXT
    if want is None:
        return {
            int: ValueType.NUMBER,
            float: ValueType.NUMBER,
            str: string,
            bool: ValueType.BOOLEAN,
        }
    return _DECLARED_DOMAINS[want]


_DECLARED_DOMAINS: dict[ValueType, Mapping[type, ValueType]] = {
    ValueType.NUMBER: {int: ValueType.NUMBER, float: ValueType.NUMBER},
    ValueType.TEXT: {str: ValueType.TEXT},
    ValueType.DATETIME: {str: ValueType.DATETIME},
    ValueType.BOOLEAN: {bool: ValueType.BOOLEAN},
}


@dataclass(frozen=True, slots=True)
class Operands:
    """A comparison's literal in each domain of the table it can meet; None where it cannot.

    Attributes:
        number: The literal as a number, if numbers compare numerically with it.
        text: Its source text, if strings compare as text.
        instant: Its :func:`instant_key`, if strings compare as date-times (and it is one).
        boolean: It as a boolean, if booleans compare with it (``=`` and ``<>`` only).
    """

    number: int | float | None
    text: str | None
    instant: str | None
    boolean: bool | None


def comparison_operands(
    name: str, op: Op, literal: Literal, declared: PropertyType | None = None
) -> Operands:
    """What a comparison's literal is in each domain a value of ``name`` can fall in.

    The predicates' comparators and the SQL compiler both build from this.

    >>> from catalogql.ast import LiteralKind
    >>> comparison_operands("cloudCover", Op.LT, Literal("20", LiteralKind.NUMBER))
    Operands(number=20, text='20', instant=None, boolean=None)
    >>> comparison_operands("timestamp", Op.EQ, Literal("2016-01-01", LiteralKind.BARE))
    Operands(number=None, text=None, instant='2016-01-01T00:00:00', boolean=None)
    """
    domains = value_domains(name, declared)
    number = literal_number(literal)
    instant = literal_instant(literal)
    boolean = literal_boolean(literal) if op in (Op.EQ, Op.NE) else None
    return Operands(
        number if domains.get(int) is ValueType.NUMBER else None,
        literal.text if domains.get(str) is ValueType.TEXT else None,
        instant if domains.get(str) is ValueType.DATETIME else None,
        boolean if bool in domains else None,
    )


def scalar_comparator(
    name: str, op: Op, literal: Literal, declared: PropertyType | None = None
) -> Callable[[Any], Tri]:
    """The three-valued comparison of one scalar value against ``literal`` (lists aside).

    Without ``declared``, the value's own JSON type picks the row of the table; with it, the
    declared type does, and a value of another type is unknown (:func:`value_domains`).

    >>> from catalogql.ast import LiteralKind
    >>> eq = scalar_comparator("catalogID", Op.EQ, Literal("1050010018826700", LiteralKind.NUMBER))
    >>> eq("1050010018826700"), eq(1050010018826700), eq(1050010018826701)
    (True, True, False)
    """
    cmp: Callable[[Any, Any], bool] = OPERATORS[op]
    # read once here: nothing is looked up per value
    operands = comparison_operands(name, op, literal, declared)
    number, text, instant, boolean = (
        operands.number,
        operands.text,
        operands.instant,
        operands.boolean,
    )
    numbers, texts = number is not None, text is not None
    instants, booleans = instant is not None, boolean is not None

    def compare(value: Any) -> Tri:
        t = type(value)
        if t is int or t is float:
            return cmp(value, number) if numbers else None
        if t is str:
            if texts:
                return cmp(value, text)
            if not instants:
                return None
            moment = instant_key(value)
            return None if moment is None else cmp(moment, instant)
        if t is bool:
            return cmp(value, boolean) if booleans else None
        return None

    return compare


def list_any(scalar: Callable[[Any], Tri], values: list[Any]) -> Tri:
    """The list rule: some element compares true, in three-valued logic.

    True if an element compares true; otherwise unknown if one is unknown; otherwise False (an
    empty list included).

    >>> is_two = lambda v: None if v is None else v == 2
    >>> list_any(is_two, [1, 2]), list_any(is_two, [1, None]), list_any(is_two, [])
    (True, None, False)
    """
    unknown = False
    for value in values:
        result = scalar(value)
        if result is True:
            return True
        if result is None:
            unknown = True
    return None if unknown else False


def not_tri(value: Tri) -> Tri:
    """Three-valued NOT: unknown stays unknown.

    >>> not_tri(True), not_tri(None)
    (False, None)
    """
    return None if value is None else not value


def pattern_matcher(pattern: Pattern) -> Callable[[str], bool]:
    """A function true where a whole text matches a wildcard pattern, in time linear in the text.

    The one wildcard rule of every predicate: ``*`` matches any run of characters (newlines
    too), ``_`` (:attr:`Wildcard.ONE`) exactly one character, text itself. No backtracking:
    the ``*``-separated segments have fixed lengths, so the first must start the text, the last
    end it, and each one between is taken at its leftmost place after the one before (the
    earliest end leaves the most room to the rest). A segment is found with ``str.find`` on its
    longest text piece and checked with ``str.startswith`` at its other pieces' offsets: the
    work is at most the text's length times the pattern's, never exponential.

    >>> m = pattern_matcher(("WORLDVIEW03", Wildcard.ANY))
    >>> m("WORLDVIEW03_VNIR"), m("WORLDVIEW02")
    (True, False)
    >>> pattern_matcher((Wildcard.ANY, "a", Wildcard.ANY, "a", Wildcard.ANY, "b"))("a" * 1000)
    False
    >>> pattern_matcher(("W", Wildcard.ONE, Wildcard.ANY, "3"))("WV03")
    True
    """
    segments = _pattern_segments(pattern)
    if len(segments) == 1:  # no '*': the text is exactly one segment long
        only = segments[0]
        size = only[0]
        return lambda text: len(text) == size and _segment_at(text, only, 0)
    first, middle, last = segments[0], segments[1:-1], segments[-1]
    first_size, last_size = first[0], last[0]
    if not middle and not first[1] and not last[1] and not first_size and not last_size:
        return lambda text: True  # '*' alone
    ends = first_size + last_size

    def matches(text: str) -> bool:
        size = len(text)
        if size < ends or not _segment_at(text, first, 0):
            return False
        end = size - last_size
        if not _segment_at(text, last, end):
            return False
        at = first_size
        for segment in middle:
            found = _segment_find(text, segment, at, end)
            if found < 0:
                return False
            at = found + segment[0]
        return True

    return matches


_Segment = tuple[int, tuple[tuple[int, str], ...], int]
"""A ``*``-free run of a pattern: its length in characters, its text pieces with their offsets
(``_`` fills the gaps), and the index of its longest piece (the one searched for)."""


def _pattern_segments(pattern: Pattern) -> list[_Segment]:
    """The pattern cut at each ``*`` (an empty segment where ``*`` starts or ends it)."""
    segments: list[_Segment] = []
    size = 0
    pieces: list[tuple[int, str]] = []
    for part in [*pattern, Wildcard.ANY]:
        if part is Wildcard.ANY:
            longest = max(range(len(pieces)), key=lambda i: len(pieces[i][1]), default=-1)
            segments.append((size, tuple(pieces), longest))
            size, pieces = 0, []
        elif part is Wildcard.ONE:
            size += 1
        elif isinstance(part, str):
            if part:
                pieces.append((size, part))
                size += len(part)
        else:
            raise QueryError(
                f"a pattern piece must be text or a Wildcard, not {part!r}",
                code="compile.not-a-node",
                hint="build nodes with parse_filter() or catalogql.ast",
            )
    return segments


def _segment_at(text: str, segment: _Segment, start: int) -> bool:
    """Whether ``segment`` matches ``text`` at ``start`` (the caller checked the length)."""
    return all(text.startswith(piece, start + offset) for offset, piece in segment[1])


def _segment_find(text: str, segment: _Segment, start: int, end: int) -> int:
    """The leftmost place in ``text[start:end]`` where ``segment`` matches whole, or -1."""
    size, pieces, longest = segment
    last = end - size  # the last place the segment may start
    if not pieces:
        return start if start <= last else -1
    offset, anchor = pieces[longest]
    stop = last + offset + len(anchor)
    at = start
    while at <= last:
        found = text.find(anchor, at + offset, stop)
        if found < 0:
            return -1
        at = found - offset
        if _segment_at(text, segment, at):
            return at
        at += 1
    return -1


def like_pattern(pattern: Pattern) -> str:
    """A wildcard pattern in LIKE's spelling: ``%``, ``_``, and ``\\`` escaping ``% _ \\``.

    The one spelling every back end writes (GBDX's LIKE form, CQL2, pygeofilter, PostgreSQL).

    Raises:
        QueryError: If a piece is neither text nor a :class:`~catalogql.ast.Wildcard`.

    >>> print(like_pattern(("WORLDVIEW03_", Wildcard.ANY, "50%", Wildcard.ONE)))
    WORLDVIEW03\\_%50\\%_
    """
    out = []
    for part in pattern:
        if part is Wildcard.ANY:
            out.append("%")
        elif part is Wildcard.ONE:
            out.append("_")
        elif isinstance(part, str):
            out.append(part.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_"))
        else:
            raise QueryError(
                f"a pattern piece must be text or a Wildcard, not {part!r}",
                code="compile.not-a-node",
                hint="build nodes with parse_filter() or catalogql.ast",
            )
    return "".join(out)


def match_comparator(
    pattern: Pattern, declared: PropertyType | None = None
) -> Callable[[Any], Tri]:
    """The three-valued wildcard match of one scalar value (its :func:`text_form`).

    >>> m = match_comparator(("1050010", Wildcard.ANY))
    >>> m("1050010018826700"), m(1050010018826700), m(None)
    (True, True, None)
    """
    matches = pattern_matcher(pattern)
    domains = value_domains("", declared)  # which types may match; the name changes none

    def match(value: Any) -> Tri:
        if type(value) not in domains:
            return None
        text = text_form(value)
        return None if text is None else matches(text)

    return match


def typed_literal(
    leaf: Comparison, declared: PropertyType | None = None
) -> tuple[ValueType, int | float | str | bool]:
    """The domain and value a comparison's literal takes, for targets that type it up front.

    The predicates and SQL decide per record, by the value met (the table above); CQL2 and
    pygeofilter must write the literal as one typed value. With a declared type, that type,
    and a literal that does not fit it is a validation error. Without one, the literal's own
    form decides: an ISO date next to a date-time property (by name), a number literal, a bare
    ``true``/``false`` with ``=`` or ``<>``, else text. Date-times come as
    :func:`instant_key` text.

    Raises:
        QueryValidationError: If the literal does not fit the declared type
            (``schema.type-mismatch``, at the literal).

    >>> from catalogql.ast import LiteralKind
    >>> typed_literal(Comparison("catalogID", Op.EQ, Literal("1050010", LiteralKind.NUMBER)))
    (<ValueType.NUMBER: 'number'>, 1050010)
    >>> typed_literal(Comparison("catalogID", Op.EQ, Literal("1050010", LiteralKind.NUMBER)),
    ...               PropertyType(ValueType.TEXT))
    (<ValueType.TEXT: 'text'>, '1050010')
    """
    literal = leaf.value
    want = declared.value_type if declared is not None else None
    if want is not None:
        problem = type_problem(want, leaf)
        if problem is not None:
            _, value_at = leaf.offsets or (0, 0)
            raise QueryValidationError(
                problem[0],
                code="schema.type-mismatch",
                offset=value_at,
                width=max(1, len(literal.text)),
                hint=problem[1],
            )
    if want is ValueType.TEXT:
        return want, literal.text
    instant = literal_instant(literal)
    dated = want is ValueType.DATETIME or (want is None and is_datetime_name(leaf.property))
    if dated and instant is not None:
        return ValueType.DATETIME, instant
    number = literal_number(literal)
    if number is not None and (want is ValueType.NUMBER or literal.kind is LiteralKind.NUMBER):
        return ValueType.NUMBER, number
    boolean = literal_boolean(literal)
    if boolean is not None and (
        want is ValueType.BOOLEAN or (literal.kind is LiteralKind.BARE and not leaf.op.is_ordering)
    ):
        return ValueType.BOOLEAN, boolean
    return ValueType.TEXT, literal.text


def type_problem(value_type: ValueType, leaf: Comparison) -> tuple[str, str] | None:
    """Why ``leaf``'s literal does not fit ``value_type``: (message, hint), or None when it fits.

    The one rule for literals against a declared type, used by :func:`typed_literal` and by
    :func:`catalogql.queryables.validate_filter`.

    >>> low = Comparison("cloudCover", Op.LT, Literal("low", LiteralKind.BARE))
    >>> type_problem(ValueType.NUMBER, low)
    ("'cloudCover' is a number, and 'low' is not", 'compare it with a number')
    >>> twenty = Comparison("cloudCover", Op.LT, Literal("20", LiteralKind.NUMBER))
    >>> print(type_problem(ValueType.NUMBER, twenty))
    None
    """
    name, literal = leaf.property, leaf.value
    if value_type is ValueType.NUMBER and literal_number(literal) is None:
        return f"'{name}' is a number, and '{literal.text}' is not", "compare it with a number"
    if value_type is ValueType.DATETIME and literal_instant(literal) is None:
        return (
            f"'{name}' is a date-time, and '{literal.text}' is not one",
            "write an ISO 8601 date or date-time such as 2016-01-01T00:00:00Z",
        )
    if value_type is ValueType.BOOLEAN:
        if literal_boolean(literal) is None:
            return f"'{name}' is a boolean, and '{literal.text}' is not", "write true or false"
        if leaf.op.is_ordering:
            return f"'{name}' is a boolean: only = and <> apply", "write = true or = false"
    return None
