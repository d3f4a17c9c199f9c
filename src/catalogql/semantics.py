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

import difflib
import enum
import functools
import operator
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from catalogql.ast import (
    NUMBER_RE,
    Comparison,
    Literal,
    LiteralKind,
    Match,
    Node,
    Op,
    Pattern,
    Wildcard,
    iter_nodes,
)
from catalogql.syntax.errors import (
    Diagnostic,
    Problem,
    QueryError,
    QueryValidationError,
    line_and_column,
)

__all__ = [
    "OPERATORS",
    "Operands",
    "PropertyType",
    "ValueType",
    "boolean_from_text",
    "check_schema",
    "comparison_operands",
    "infer_queryables",
    "instant_key",
    "is_datetime_name",
    "like_pattern",
    "list_any",
    "literal_boolean",
    "literal_instant",
    "literal_number",
    "match_comparator",
    "not_tri",
    "parse_instant",
    "pattern_regex",
    "property_getter",
    "property_type",
    "scalar_comparator",
    "text_form",
    "typed_literal",
    "validate_filter",
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


@functools.lru_cache(maxsize=4096)
def number_from_text(text: str) -> int | float | None:
    """A number from text as SPEC section 4 reads it, or None.

    >>> [number_from_text(t) for t in ("20", "-1e3", "1e400", "inf", "\u0661", "9" * 5000)]
    [20, -1000.0, inf, None, None, inf]
    """
    stripped = text.strip(" \t\r\n\f")
    if not NUMBER_RE.fullmatch(stripped):
        return None
    if re.fullmatch(r"[+-]?[0-9]+", stripped):
        try:
            return int(stripped)
        except ValueError:  # past CPython's int-from-text digit limit (4300): order as a float
            return float(stripped)
    return float(stripped)  # past the float range this is inf, which still orders correctly


_INSTANT_RE = re.compile(  # ASCII digits only: \d would also take other scripts' digits
    r"(\d{4})-(\d{2})-(\d{2})"
    r"(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?(Z|z|[+-]\d{2}(?::?\d{2})?)?)?",
    re.ASCII,
)


@functools.lru_cache(maxsize=65536)
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
        return str(value)
    if t is float:
        return repr(value)
    return None


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
# Schemas


_SCHEMA_TYPES = {
    "integer": ValueType.NUMBER,
    "number": ValueType.NUMBER,
    "string": ValueType.TEXT,
    "boolean": ValueType.BOOLEAN,
}


def _declared_type(spec: Mapping[str, Any]) -> tuple[ValueType | None, bool]:
    raw = spec.get("type")
    candidates = raw if isinstance(raw, list) else [raw]
    if not all(t is None or isinstance(t, str) for t in candidates):
        return None, False  # not a JSON Schema type: values compare by their own type
    types = [t for t in candidates if t not in (None, "null")]
    if types == ["array"] or (len(types) == 1 and types[0] == "array"):
        items = spec.get("items")
        inner, _ = _declared_type(items) if isinstance(items, Mapping) else (None, False)
        return inner, True
    if set(types) <= {"integer", "number"} and types:
        return ValueType.NUMBER, False
    if len(types) != 1 or not isinstance(types[0], str):
        return None, False
    value_type = _SCHEMA_TYPES.get(types[0])
    if value_type is ValueType.TEXT and spec.get("format") in ("date-time", "date"):
        value_type = ValueType.DATETIME
    return value_type, False


def _schema_entry(schema: Mapping[str, Any], name: str) -> Mapping[str, Any] | None:
    props = schema.get("properties")
    if not isinstance(props, Mapping):
        return None
    entry = props.get(name)
    if isinstance(entry, Mapping):
        return entry
    node: Any = schema
    for key in name.split("."):  # nested objects: properties.a.properties.b
        props = node.get("properties") if isinstance(node, Mapping) else None
        node = props.get(key) if isinstance(props, Mapping) else None
        if not isinstance(node, Mapping):
            return None
    return node  # type: ignore[no-any-return]


def check_schema(schema: object) -> Mapping[str, Any]:
    """Return ``schema`` if it has the shape of a queryables schema, else raise a QueryError.

    The shape: an object whose ``properties`` (if present) maps each name to an object.

    >>> check_schema({"properties": {"cloudCover": {"type": "integer"}}})["properties"]
    {'cloudCover': {'type': 'integer'}}
    >>> check_schema({"properties": {"a": "x"}})
    Traceback (most recent call last):
      ...
    catalogql.syntax.errors.QueryValidationError: property 'a' must be an object such as {"type": "string"} at line 1, column 1 [schema.invalid]
    ...
    """  # noqa: E501
    hint = 'a queryables schema looks like {"properties": {"cloudCover": {"type": "integer"}}}'
    if not isinstance(schema, Mapping):
        raise QueryValidationError(
            f"a queryables schema must hold a JSON object, not {type(schema).__name__}",
            code="schema.invalid",
            hint=hint,
        )
    props = schema.get("properties", {})
    if not isinstance(props, Mapping):
        raise QueryValidationError(
            "the schema's 'properties' must be an object",
            code="schema.invalid",
            hint=hint,
        )
    for name, entry in props.items():
        if not isinstance(name, str) or not isinstance(entry, Mapping):
            raise QueryValidationError(
                f'property {name!r} must be an object such as {{"type": "string"}}',
                code="schema.invalid",
                hint=hint,
            )
        kind = entry.get("type")
        kinds = kind if isinstance(kind, list) else [kind]
        if not all(k is None or isinstance(k, str) for k in kinds):
            raise QueryValidationError(
                f"the type of property {name!r} must be a JSON Schema type name or a list of "
                f"them, not {kind!r}",
                code="schema.invalid",
                hint='write e.g. "type": "integer" or "type": ["string", "null"]',
            )
    return schema


def property_type(schema: Mapping[str, Any] | None, name: str) -> PropertyType | None:
    """The declared type of ``name`` in a queryables schema, or None when it is not declared.

    >>> schema = {"properties": {"timestamp": {"type": "string", "format": "date-time"}}}
    >>> property_type(schema, "timestamp")
    PropertyType(value_type=<ValueType.DATETIME: 'datetime'>, is_list=False, enum=None)
    """
    if schema is None:
        return None
    entry = _schema_entry(schema, name)
    if entry is None:
        return None
    value_type, is_list = _declared_type(entry)
    enum_values = entry.get("enum")
    if is_list and isinstance(entry.get("items"), Mapping):
        enum_values = entry["items"].get("enum")
    return PropertyType(
        value_type, is_list, tuple(enum_values) if isinstance(enum_values, list) else None
    )


def infer_queryables(records: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """A queryables schema inferred from sample records (or from their ``properties``).

    Each property gets the JSON type all its non-null values share (``integer`` widens to
    ``number`` next to floats); a string property whose every value is an ISO 8601 date-time, or
    whose name says it is one, gets ``"format": "date-time"``. Properties whose values disagree get
    no type (they compare by each record's value).

    >>> infer_queryables([{"properties": {"cloudCover": 0, "timestamp": "2015-07-31T10:07:17Z"}}])
    {'type': 'object', 'properties': {'cloudCover': {'type': 'integer'}, 'timestamp': {'type': 'string', 'format': 'date-time'}}}
    """  # noqa: E501
    seen: dict[str, set[str]] = {}
    all_instants: dict[str, bool] = {}
    item_types: dict[str, set[str]] = {}
    for record in records:
        props = record.get("properties", record)
        if not isinstance(props, Mapping):
            continue
        for name, value in props.items():
            kinds = seen.setdefault(name, set())
            if value is None:
                continue
            kind = _json_type(value)
            kinds.add(kind)
            if kind == "string":
                ok = instant_key(value) is not None
                all_instants[name] = all_instants.get(name, True) and ok
            elif kind == "array":
                item_types.setdefault(name, set()).update(
                    _json_type(v) for v in value if v is not None
                )
    properties: dict[str, Any] = {}
    for name in seen:
        kinds = seen[name]
        if kinds == {"integer", "number"}:
            kinds = {"number"}
        spec: dict[str, Any] = {}
        if len(kinds) == 1:
            (kind,) = kinds
            spec["type"] = kind
            if kind == "string" and (all_instants.get(name) or is_datetime_name(name)):
                spec["format"] = "date-time"
            if kind == "array":
                inner = item_types.get(name, set())
                if inner == {"integer", "number"}:
                    inner = {"number"}
                if len(inner) == 1:
                    spec["items"] = {"type": next(iter(inner))}
        properties[name] = spec
    return {"type": "object", "properties": properties}


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | tuple):
        return "array"
    return "object"


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


def pattern_regex(pattern: Pattern) -> re.Pattern[str]:
    """A compiled regular expression for a wildcard pattern, matched against a whole text.

    >>> bool(pattern_regex(("WORLDVIEW03", Wildcard.ANY)).fullmatch("WORLDVIEW03_VNIR"))
    True
    """
    out = []
    for part in pattern:
        if part is Wildcard.ANY:
            out.append(".*")
        elif part is Wildcard.ONE:
            out.append(".")
        else:
            out.append(re.escape(str(part)))
    return re.compile("".join(out), re.DOTALL)


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
    fullmatch = pattern_regex(pattern).fullmatch
    domains = value_domains("", declared)  # which types may match; the name changes none

    def match(value: Any) -> Tri:
        if type(value) not in domains:
            return None
        text = text_form(value)
        return None if text is None else fullmatch(text) is not None

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
        problem = _type_problem(want, leaf)
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


# --------------------------------------------------------------------------------------------
# Validation against a schema


def validate_filter(node: Node, schema: Mapping[str, Any], text: str = "") -> list[Diagnostic]:
    """Check a filter against a queryables schema.

    Unknown properties and type mismatches are errors (with a "did you mean"); values outside an
    ``enum`` are warnings.

    >>> from catalogql.syntax.parser import parse_filter
    >>> schema = {"properties": {"cloudCover": {"type": "integer"}}}
    >>> [d.message for d in validate_filter(parse_filter("cloudCoverr < 20"), schema)]
    ["unknown property 'cloudCoverr'"]
    """
    findings: list[Diagnostic] = []
    known = list(check_schema(schema).get("properties", {}))

    def add(severity: str, code: str, message: str, offset: int, width: int, hint: str) -> None:
        line, column = line_and_column(text, offset)
        problem = Problem("", offset, message, hint, code, line=line, column=column, width=width)
        findings.append(Diagnostic(severity, problem))  # type: ignore[arg-type]

    for leaf in iter_nodes(node):
        if not isinstance(leaf, Comparison | Match):
            continue
        prop_at, value_at = leaf.offsets or (0, 0)
        declared = property_type(schema, leaf.property)
        if declared is None:
            close = difflib.get_close_matches(leaf.property, known, n=1, cutoff=0.6)
            add(
                "error",
                "schema.unknown-property",
                f"unknown property '{leaf.property}'",
                prop_at,
                len(leaf.property),
                f"did you mean '{close[0]}'?" if close else "see the queryables for valid names",
            )
            continue
        if isinstance(leaf, Match) or declared.value_type is None:
            continue
        problem = _type_problem(declared.value_type, leaf)
        if problem:
            add("error", "schema.type-mismatch", problem[0], value_at, 1, problem[1])
        elif declared.enum is not None and leaf.op is Op.EQ:
            allowed = [str(v) for v in declared.enum]
            if leaf.value.text not in allowed:
                close = difflib.get_close_matches(leaf.value.text, allowed, n=1, cutoff=0.6)
                add(
                    "warning",
                    "schema.not-in-enum",
                    f"'{leaf.value.text}' is not one of the values of '{leaf.property}'",
                    value_at,
                    1,
                    f"did you mean '{close[0]}'?" if close else "allowed: " + ", ".join(allowed),
                )
    return findings


def _type_problem(value_type: ValueType, leaf: Comparison) -> tuple[str, str] | None:
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
