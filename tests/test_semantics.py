"""SPEC section 4, row by row: how a property value and a literal compare.

Each table is ``(filter, record properties, selected?)`` run through compile_predicate, so the rows
read like the spec: numbers, ids as text, date-times, booleans, lists, missing values, wildcards,
case and code point order, dotted paths. Then the same with a queryables schema, and type
expressions through compile_types.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import pytest

import catalogql as cq

Row = tuple[str, Mapping[str, Any], bool]


def selects(text: str, props: Mapping[str, Any], schema: Mapping[str, Any] | None = None) -> bool:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", cq.QueryWarning)
        node = cq.parse_filter(text)
    return cq.compile_predicate(node, dict(schema) if schema is not None else None)(props)


def table(rows: Sequence[Row]) -> Any:
    """Parametrize a test with ``(text, props, expected)`` rows, ids read as the row."""
    return pytest.mark.parametrize(
        ("text", "props", "expected"),
        rows,
        ids=[f"{text} on {props!r} is {expected}" for text, props, expected in rows],
    )


NUMBERS: list[Row] = [
    ("cloudCover = 0", {"cloudCover": 0}, True),
    ("cloudCover = '0'", {"cloudCover": 0}, True),  # quoted text that parses as a number
    ('cloudCover = "0"', {"cloudCover": 0}, True),
    ("cloudCover = 0.0", {"cloudCover": 0}, True),
    ("cloudCover < 20", {"cloudCover": 19}, True),
    ("cloudCover < 20", {"cloudCover": 20}, False),
    ("cloudCover <= 20", {"cloudCover": 20}, True),
    ("cloudCover > 20", {"cloudCover": 20}, False),
    ("cloudCover >= 20", {"cloudCover": 20}, True),
    ("cloudCover <> 20", {"cloudCover": 21}, True),
    ("cloudCover <> 20", {"cloudCover": 20}, False),
    ("offNadirAngle <= '15.0'", {"offNadirAngle": 15}, True),
    ("offNadirAngle < 10", {"offNadirAngle": 9.999}, True),
    ("offNadirAngle < 10", {"offNadirAngle": 26.5}, False),
    ("x = -5", {"x": -5}, True),
    ("x > -5", {"x": -4.5}, True),
    ("x = +5", {"x": 5}, True),
    ("x = 1e3", {"x": 1000}, True),
    ("x < '1e1'", {"x": 5}, True),
    ("x = 10.0", {"x": 10}, True),
    ("x = 1", {"x": 1.0}, True),
    ("x = .5", {"x": 0.5}, True),
    ("x = 00123", {"x": 123}, True),
    ("x = 0.1", {"x": 0.1}, True),
    ("x < 0.1", {"x": 0.1}, False),
    # exact integers: no float rounding
    ("x = 9007199254740993", {"x": 9007199254740992}, False),
    ("x = 9007199254740993", {"x": 9007199254740993}, True),
    ("x > 9007199254740992", {"x": 9007199254740993}, True),
    # a number against text that is not a number: false, and so is its NOT
    ("cloudCover = abc", {"cloudCover": 0}, False),
    ("NOT cloudCover = abc", {"cloudCover": 0}, False),
    ("cloudCover <> abc", {"cloudCover": 0}, False),
    ("NOT cloudCover <> abc", {"cloudCover": 0}, False),
    ("cloudCover < 'twenty'", {"cloudCover": 0}, False),
    ("NOT cloudCover < 'twenty'", {"cloudCover": 0}, False),
    ("cloudCover = WORLDVIEW03", {"cloudCover": 0}, False),
    ("NOT cloudCover = WORLDVIEW03", {"cloudCover": 0}, False),
]


@table(NUMBERS)
def test_numbers(text: str, props: Mapping[str, Any], expected: bool) -> None:
    assert selects(text, props) is expected


IDS: list[Row] = [
    # string ids compare as the literal's source text, whatever its kind
    ("catalogID = 1050010018826700", {"catalogID": "1050010018826700"}, True),
    ("catalogID = '1050010018826700'", {"catalogID": "1050010018826700"}, True),
    ("catalogID = 1050010018826701", {"catalogID": "1050010018826700"}, False),
    ("catalogID <> 1050010018826701", {"catalogID": "1050010018826700"}, True),
    ("catalogID = 1050010018826700.0", {"catalogID": "1050010018826700"}, False),
    (
        "catalogID = 2015011801450290000011603246",
        {"catalogID": "2015011801450290000011603246"},
        True,
    ),
    (
        "catalogID = 2015011801450290000011603247",
        {"catalogID": "2015011801450290000011603246"},
        False,
    ),
    (
        "catalogID = 2015011801450290000011603246",
        {"catalogID": "2015011801450290000011603247"},
        False,
    ),
    ("catalogID = 10400100203F1300", {"catalogID": "10400100203F1300"}, True),
    ("catalogID = '10400100203F1300'", {"catalogID": "10400100203F1300"}, True),
    ("catalogID = 10400100203f1300", {"catalogID": "10400100203F1300"}, False),
    # an id that arrives as a JSON number is still compared exactly
    ("catalogID = 1050010018826700", {"catalogID": 1050010018826700}, True),
    ("catalogID = 1050010018826701", {"catalogID": 1050010018826700}, False),
    (
        "catalogID = 2015011801450290000011603247",
        {"catalogID": 2015011801450290000011603246},
        False,
    ),
    # text comparison of numeric-looking strings is by text, not by value
    ("x = 5", {"x": "5"}, True),
    ("x = 5", {"x": "5.0"}, False),
    ("x = 5.0", {"x": "5"}, False),
    ("x < 10", {"x": "9"}, False),  # "9" > "10" as text
]


@table(IDS)
def test_ids_are_text(text: str, props: Mapping[str, Any], expected: bool) -> None:
    assert selects(text, props) is expected


TS = "2016-01-01T00:00:00.000Z"
DATETIMES: list[Row] = [
    ("timestamp = 2016-01-01", {"timestamp": TS}, True),  # a date is midnight UTC
    ("timestamp >= '2016-01-01'", {"timestamp": TS}, True),
    ("timestamp > '2016-01-01'", {"timestamp": TS}, False),
    ("timestamp <= 2016-01-01", {"timestamp": TS}, True),  # inclusive
    ("timestamp <= 2016-01-01", {"timestamp": "2016-01-01T00:00:00.001Z"}, False),
    ("timestamp < 2016-01-01", {"timestamp": "2015-12-31T23:59:59.999Z"}, True),
    ("timestamp >= '2016-01-01T00:00:00.000Z'", {"timestamp": "2015-12-31T23:59:59.999Z"}, False),
    ("timestamp = '2016-01-01T00:00:00Z'", {"timestamp": TS}, True),  # fraction or not
    ("timestamp = 2016-01-01T00:00:00Z", {"timestamp": TS}, True),  # bare
    ("timestamp = '2016-01-01T00:00:00'", {"timestamp": TS}, True),  # no offset: UTC
    ("timestamp = '2016-01-01T02:00:00+02:00'", {"timestamp": TS}, True),  # offsets: as instants
    ("timestamp = '2016-01-01T02:00:00+0200'", {"timestamp": TS}, True),
    ("timestamp = '2015-12-31T19:00:00-05:00'", {"timestamp": TS}, True),
    ("timestamp < '2016-01-01T02:00:00+02:00'", {"timestamp": TS}, False),
    ("timestamp <= '2016-01-01T02:00:00+02:00'", {"timestamp": TS}, True),
    ("timestamp > '2016-01-01T01:00:00+02:00'", {"timestamp": TS}, True),
    ("timestamp = 2016-01-01", {"timestamp": "2016-01-01T01:00:00+01:00"}, True),
    ("timestamp = '2016-01-01T00:00:00.5Z'", {"timestamp": "2016-01-01T00:00:00.500Z"}, True),
    # instants, not text: different spellings of one instant are equal
    ("timestamp <> '2016-01-01T00:00:00+00:00'", {"timestamp": TS}, False),
    # precision finer than a microsecond is still an ordering (currently truncated)
    (
        "timestamp = '2016-01-01T00:00:00.1234567Z'",
        {"timestamp": "2016-01-01T00:00:00.123456Z"},
        False,
    ),
    (
        "timestamp < '2016-01-01T00:00:00.1234567Z'",
        {"timestamp": "2016-01-01T00:00:00.123456Z"},
        True,
    ),
    # a literal that is not a date-time: false, and so is its NOT
    ("timestamp < yesterday", {"timestamp": TS}, False),
    ("NOT timestamp < yesterday", {"timestamp": TS}, False),
    ("timestamp > 5", {"timestamp": TS}, False),
    ("NOT timestamp > 5", {"timestamp": TS}, False),
    ("timestamp > 2016-01-01", {"timestamp": "garbage"}, False),
    ("NOT timestamp > 2016-01-01", {"timestamp": "garbage"}, False),
    # the names that hold date-times: timestamp, acquisitionDate, *Date, *_datetime
    ("acquisitionDate >= 2016-01-01", {"acquisitionDate": "2016-01-01T00:00:00+01:00"}, False),
    ("acquisitionDate < 2016-01-01", {"acquisitionDate": "2016-01-01T00:00:00+01:00"}, True),
    ("startDate = 2016-06-01", {"startDate": "2016-06-01T00:00:00Z"}, True),
    ("end_datetime = 2016-06-01", {"end_datetime": "2016-06-01T00:00:00Z"}, True),
    ("a.timestamp = 2016-06-01", {"a": {"timestamp": "2016-06-01T00:00:00Z"}}, True),
    # any other string property compares as text
    ("name = 2016-01-01", {"name": "2016-01-01T00:00:00Z"}, False),
    ("name < 2016-01-02", {"name": "2016-01-01T00:00:00Z"}, True),
    # a wildcard matches the text form of a date-time
    ("timestamp = 2016*", {"timestamp": TS}, True),
    ("timestamp = '*T00:00:00.000Z'", {"timestamp": TS}, True),
]


@table(DATETIMES)
def test_datetimes(text: str, props: Mapping[str, Any], expected: bool) -> None:
    assert selects(text, props) is expected


BOOLEANS: list[Row] = [
    ("available = 'true'", {"available": True}, True),
    ("available = true", {"available": True}, True),
    ("available = TRUE", {"available": True}, True),
    ('available = "True"', {"available": True}, True),
    ("available = false", {"available": False}, True),
    ("available = false", {"available": True}, False),
    ("available <> 'true'", {"available": True}, False),
    ("available <> 'true'", {"available": False}, True),
    ("NOT available = 'true'", {"available": False}, True),
    ("NOT available = 'true'", {"available": True}, False),
    ("(ordered = 'true' AND available <> 'true')", {"ordered": True, "available": False}, True),
    # not a boolean literal: false either way
    ("available = 1", {"available": True}, False),
    ("available = yes", {"available": True}, False),
    ("NOT available = yes", {"available": True}, False),
    # a boolean against the string "true" is a text comparison (case-sensitive)
    ("available = 'true'", {"available": "true"}, True),
    ("available = 'TRUE'", {"available": "true"}, False),
    ("available <> 'true'", {"available": "false"}, True),
    # a wildcard matches a boolean's JSON text
    ("available = tr*", {"available": True}, True),
]


@table(BOOLEANS)
def test_booleans(text: str, props: Mapping[str, Any], expected: bool) -> None:
    assert selects(text, props) is expected


LISTS: list[Row] = [
    ("bands = Multi", {"bands": ["Pan", "Multi"]}, True),
    ("bands = Multi", {"bands": ["Pan"]}, False),
    ("bands = Multi", {"bands": []}, False),
    ("bands <> Multi", {"bands": ["Pan", "Multi"]}, True),  # some element is not Multi
    ("bands <> Multi", {"bands": ["Multi"]}, False),
    ("NOT bands = Multi", {"bands": ["Multi"]}, False),
    ("NOT bands = Multi", {"bands": ["Pan"]}, True),
    ("bands = M*", {"bands": ["Pan", "Multi"]}, True),
    ("bands = m*", {"bands": ["Pan", "Multi"]}, False),
    ("n > 5", {"n": [1, 7]}, True),
    ("n > 5", {"n": [1, 2]}, False),
    ("n = '7'", {"n": [1, 7]}, True),
    ("n = 5", {"n": [None, 5]}, True),
    ("n = 5", {"n": [[5]]}, False),
    ("ids = 1050010018826700", {"ids": ["1050010018826700", "x"]}, True),
    ("times >= 2016-01-01", {"times": ["2015-01-01T00:00:00Z", "2017-01-01T00:00:00Z"]}, True),
]


@table(LISTS)
def test_lists_match_when_any_element_does(
    text: str, props: Mapping[str, Any], expected: bool
) -> None:
    assert selects(text, props) is expected


OPERATORS = ["=", "<>", "<", "<=", ">", ">="]
MISSING: list[Row] = (
    [
        (f"{prefix}x {op} {value}", props, False)
        for op in OPERATORS
        for value in ("5", "'abc'", "2016-01-01", "true")
        for props in ({}, {"x": None}, {"y": 5})
        for prefix in ("", "NOT ")
    ]
    + [
        (f"{prefix}x {op} {value}", props, False)
        for op in ("=", "<>")
        for value in ("*", "a*", "'*x*'")
        for props in ({}, {"x": None})
        for prefix in ("", "NOT ")
    ]
    + [
        ("x = 1", {"x": {"a": 1}}, False),  # an object is not comparable
        ("NOT x = 1", {"x": {"a": 1}}, False),
        ("x = *", {"x": {"a": 1}}, False),
        ("NOT x <> 5 AND y = 1", {"y": 1}, False),
        ("x = 5 OR y = 1", {"y": 1}, True),
        ("NOT (x = 5 OR y = 2)", {"y": 1}, False),  # unknown OR false is unknown
        ("NOT (x = 5 AND y = 2)", {"y": 1}, True),  # unknown AND false is false
        ("NOT NOT x = 5", {}, False),
        ("NOT NOT NOT x = 5", {}, False),
        ("x <> 5", {"x": 6}, True),
    ]
)


@table(MISSING)
def test_missing_and_null_are_false_for_every_operator(
    text: str, props: Mapping[str, Any], expected: bool
) -> None:
    assert selects(text, props) is expected


WILDCARDS: list[Row] = [
    ("sensorPlatformName = WORLDVIEW03*", {"sensorPlatformName": "WORLDVIEW03_VNIR"}, True),
    ("sensorPlatformName = WORLDVIEW03*", {"sensorPlatformName": "WORLDVIEW03"}, True),  # zero
    ("sensorPlatformName = WORLDVIEW03*", {"sensorPlatformName": "WORLDVIEW02"}, False),
    ("sensorPlatformName = 'WORLDVIEW03*'", {"sensorPlatformName": "WORLDVIEW03_SWIR"}, True),
    ("sensorPlatformName = worldview03*", {"sensorPlatformName": "WORLDVIEW03_SWIR"}, False),
    ("sensorPlatformName <> WORLDVIEW03*", {"sensorPlatformName": "WORLDVIEW03_SWIR"}, False),
    ("sensorPlatformName <> WORLDVIEW03*", {"sensorPlatformName": "WORLDVIEW02"}, True),
    ("NOT sensorPlatformName <> WORLDVIEW03*", {"sensorPlatformName": "WORLDVIEW03"}, True),
    ("sensorPlatformName = 'WORLDVIEW03'", {"sensorPlatformName": "WORLDVIEW03_VNIR"}, False),
    ("x = *VNIR", {"x": "WORLDVIEW03_VNIR"}, True),
    ("x = W*3*R", {"x": "WORLDVIEW03_VNIR"}, True),
    ("x = *", {"x": ""}, True),
    ("x = 'a*b'", {"x": "ab"}, True),
    ("x = 'a*b'", {"x": "a\nb"}, True),
    ("x = 'a*b'", {"x": "abc"}, False),
    # regular-expression characters are literal
    ("x = 'a.b*'", {"x": "axbc"}, False),
    ("x = 'a.b*'", {"x": "a.bc"}, True),
    ("x = 'a+(b)?*'", {"x": "a+(b)?!"}, True),
    ("x = '[ab]*'", {"x": "a"}, False),
    # \* is a literal star
    ("x = WV\\*", {"x": "WV*"}, True),
    ("x = WV\\*", {"x": "WV02"}, False),
    ("x = 'a\\*b'", {"x": "a*b"}, True),
    ("x = 'a\\*b'", {"x": "aXb"}, False),
    ("x = 'a\\**'", {"x": "a*bc"}, True),
    ("x = 'a\\**'", {"x": "abc"}, False),
    ("x < WV\\*", {"x": "WV"}, True),
    # a wildcard matches the text form of a number
    ("catalogID = 1050010*", {"catalogID": "1050010018826700"}, True),
    ("catalogID = 1050010*", {"catalogID": 1050010018826700}, True),
    ("catalogID = 1050010*", {"catalogID": 1040010018826700}, False),
    ("catalogID <> 1050010*", {"catalogID": 1050010018826700}, False),
    ("catalogID <> 1050010*", {"catalogID": 2050010018826700}, True),
    ("x = 26.5*", {"x": 26.5}, True),
    ("x = '*.5'", {"x": 0.5}, True),
    # LIKE: % any run, _ one character, \ escapes
    ("x LIKE 'QUICK%'", {"x": "QUICKBIRD02"}, True),
    ("x LIKE 'QUICK%'", {"x": "quickbird02"}, False),
    ("x LIKE 'a_c'", {"x": "abc"}, True),
    ("x LIKE 'a_c'", {"x": "abbc"}, False),
    ("x LIKE 'a_c'", {"x": "ac"}, False),
    ("x LIKE 'a\\_c'", {"x": "a_c"}, True),
    ("x LIKE 'a\\_c'", {"x": "abc"}, False),
    ("x LIKE 'a\\%'", {"x": "a%"}, True),
    ("x LIKE 'a\\%'", {"x": "ab"}, False),
    ("x LIKE 'a*'", {"x": "a*"}, True),  # '*' is literal in LIKE
    ("x LIKE 'a*'", {"x": "ab"}, False),
    ("x NOT LIKE 'QUICK%'", {"x": "QUICKBIRD02"}, False),
    ("x NOT LIKE 'QUICK%'", {"x": "IKONOS"}, True),
    ("x NOT LIKE 'QUICK%'", {}, False),
]


@table(WILDCARDS)
def test_wildcards(text: str, props: Mapping[str, Any], expected: bool) -> None:
    assert selects(text, props) is expected


TEXT: list[Row] = [
    ("x = a", {"x": "A"}, False),  # case-sensitive
    ("x = 'WV02'", {"x": "wv02"}, False),
    ("x = 'a b'", {"x": "a b"}, True),
    ("x = 'a b'", {"x": "a  b"}, False),
    ("x = 'it''s'", {"x": "it's"}, True),
    ('x = "say ""hi"""', {"x": 'say "hi"'}, True),
    ("x = ''", {"x": ""}, True),
    ("x = 'x\\\\y'", {"x": "x\\y"}, True),
    ("vendorName = 'DigitalGlobe, Inc.'", {"vendorName": "DigitalGlobe, Inc."}, True),
    # code point order: uppercase before lowercase, accents after z, astral after the BMP
    ("x < a", {"x": "Z"}, True),
    ("x > Z", {"x": "a"}, True),
    ("x < b", {"x": "a"}, True),
    ("x < ab", {"x": "a"}, True),
    ("x < 'é'", {"x": "z"}, True),
    ("x > 'ﬁ'", {"x": "\U0001f600"}, True),  # U+1F600 after U+FB01 (UTF-16 would say before)
    ("x < '\U0001f600'", {"x": "ﬁ"}, True),
    ("x >= 'WORLDVIEW'", {"x": "WORLDVIEW03"}, True),
    # property names are case-sensitive too
    ("CloudCover < 20", {"cloudCover": 5}, False),
    ("NOT CloudCover < 20", {"cloudCover": 5}, False),
]


@table(TEXT)
def test_text_is_case_sensitive_in_code_point_order(
    text: str, props: Mapping[str, Any], expected: bool
) -> None:
    assert selects(text, props) is expected


PATHS: list[Row] = [
    ("a.b = 1", {"a": {"b": 1}}, True),
    ("a.b = 1", {"a.b": 1}, True),  # a dotted key is looked up as one key first
    ("a.b = 1", {"a.b": 2, "a": {"b": 1}}, False),
    ("a.b.c = x", {"a": {"b": {"c": "x"}}}, True),
    ("a.b = 1", {"a": 1}, False),
    ("NOT a.b = 1", {"a": 1}, False),
    ("a.b = 1", {"a": None}, False),
    ("NOT a.b = 1", {"a": {}}, False),
    ("a.b = 1", {"a": [{"b": 1}]}, False),
    ("_acquisition.productLevel = 'LV1B'", {"_acquisition": {"productLevel": "LV1B"}}, True),
    ("_acquisition.productLevel = LV1*", {"_acquisition": {"productLevel": "LV1B"}}, True),
    ("x = 1", {"x": 1}, True),  # one-letter names
    ("_ = 1", {"_": 1}, True),
]


@table(PATHS)
def test_dotted_paths(text: str, props: Mapping[str, Any], expected: bool) -> None:
    assert selects(text, props) is expected


LOGIC: list[Row] = [
    ("a = 1 OR b = 2 AND c = 3", {"a": 1, "b": 0, "c": 0}, True),  # a OR (b AND c)
    ("a = 1 OR b = 2 AND c = 3", {"a": 0, "b": 2, "c": 0}, False),
    ("(a = 1 OR b = 2) AND c = 3", {"a": 1, "b": 0, "c": 0}, False),
    ("NOT a = 1 AND b = 2", {"a": 0, "b": 2}, True),  # (NOT a) AND b
    ("NOT (a = 1 AND b = 2)", {"a": 1, "b": 0}, True),
    ("NOT (a = 1 OR b = 2)", {"a": 0, "b": 0}, True),
    ("NOT NOT a = 1", {"a": 1}, True),
    ("a = 1, b = 2", {"a": 1, "b": 2}, True),  # the comma is AND
    ("a = 1, b = 2", {"a": 1, "b": 3}, False),
    ("a = 1 OR b = 2, c = 3", {"a": 1, "c": 0}, False),
]


@table(LOGIC)
def test_precedence_and_logic(text: str, props: Mapping[str, Any], expected: bool) -> None:
    assert selects(text, props) is expected


def test_a_long_chain_neither_recurses_nor_overflows() -> None:
    text = " OR ".join(f"x = {i}" for i in range(5000))
    keep = cq.compile_predicate(cq.parse_filter(text))
    assert keep({"x": 4999}) is True
    assert keep({"x": 5000}) is False
    assert cq.compile_predicate(cq.parse_filter(f"NOT ({text})"))({}) is False


# ----------------------------------------------------------------------------------------------
# With a queryables schema

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "cloudCover": {"type": "integer"},
        "offNadirAngle": {"type": "number"},
        "timestamp": {"type": "string", "format": "date-time"},
        "sensorPlatformName": {
            "type": "string",
            "enum": ["WORLDVIEW02", "WORLDVIEW03_VNIR", "WORLDVIEW03_SWIR"],
        },
        "catalogID": {"type": "string"},
        "available": {"type": "boolean"},
        "bands": {"type": "array", "items": {"type": "string"}},
        "acquired": {"type": "string", "format": "date-time"},
        "_acquisition": {"type": "object", "properties": {"productLevel": {"type": "string"}}},
    },
}


@pytest.mark.parametrize(
    ("text", "wrong", "suggestion"),
    [
        ("cloudCoverr < 20", "cloudCoverr", "cloudCover"),
        ("cloudcover < 20", "cloudcover", "cloudCover"),
        ("CloudCover < 20", "CloudCover", "cloudCover"),
        ("sensorPlatform = WORLDVIEW02", "sensorPlatform", "sensorPlatformName"),
        ("offNadir < 10", "offNadir", "offNadirAngle"),
        ("timestmp >= 2016-01-01", "timestmp", "timestamp"),
        ("cloudCover < 20 AND catalogId = 1050010018826700", "catalogId", "catalogID"),
        ("(cloudCover < 20) OR NOT (cloudCovr > 50)", "cloudCovr", "cloudCover"),
    ],
)
def test_unknown_property_is_an_error_with_did_you_mean(
    text: str, wrong: str, suggestion: str
) -> None:
    with pytest.raises(cq.QueryValidationError) as excinfo:
        cq.parse_filter(text, schema=SCHEMA)
    err = excinfo.value
    assert err.code == "schema.unknown-property"
    assert "did you mean" in err.hint
    assert f"'{suggestion}'" in err.hint
    assert err.column == text.index(wrong) + 1
    assert "^" * len(wrong) in str(err)
    diagnostics = cq.check(text, schema=SCHEMA)
    assert [(d.severity, d.code, d.column) for d in diagnostics] == [
        ("error", "schema.unknown-property", err.column)
    ]


def test_unknown_property_far_from_every_name_still_has_a_hint() -> None:
    with pytest.raises(cq.QueryValidationError) as excinfo:
        cq.parse_filter("zzz = 1", schema=SCHEMA)
    assert excinfo.value.code == "schema.unknown-property"
    assert excinfo.value.hint


@pytest.mark.parametrize(
    "text",
    [
        "cloudCover < abc",
        "cloudCover = 'x'",
        "offNadirAngle <= WORLDVIEW03",
        "timestamp > yesterday",
        "timestamp >= 5",
        "available = yes",
        "available = 1",
        "available < true",
        "cloudCover < 20 AND acquired = soon",
    ],
)
def test_type_mismatch_is_an_error(text: str) -> None:
    with pytest.raises(cq.QueryValidationError) as excinfo:
        cq.parse_filter(text, schema=SCHEMA)
    assert excinfo.value.code == "schema.type-mismatch"
    assert excinfo.value.hint
    diagnostics = cq.check(text, schema=SCHEMA)
    assert [(d.severity, d.code) for d in diagnostics] == [("error", "schema.type-mismatch")]


@pytest.mark.parametrize(
    "text",
    [
        "cloudCover = '5'",  # numeric text is a number
        "offNadirAngle <= '15.0'",
        "timestamp >= 2016-01-01",
        "timestamp >= '2016-01-01T00:00:00.000Z'",
        "available = 'TRUE'",
        "catalogID = 1050010018826700",  # a number literal against a string is its text
        "sensorPlatformName = WORLDVIEW02",
        "sensorPlatformName = WORLDVIEW0*",  # patterns are not checked against the enum
        "bands = Multi",
        "_acquisition.productLevel = LV1B",
        "cloudCover = 5*",
    ],
)
def test_values_of_the_declared_type_are_clean(text: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", cq.QueryWarning)
        cq.parse_filter(text, schema=SCHEMA)
    assert cq.check(text, schema=SCHEMA) == []


def test_a_value_outside_the_enum_is_a_warning() -> None:
    text = "sensorPlatformName = WORLDVIEW03"
    diagnostics = cq.check(text, schema=SCHEMA)
    assert [(d.severity, d.code) for d in diagnostics] == [("warning", "schema.not-in-enum")]
    (diag,) = diagnostics
    assert diag.column == text.index("WORLDVIEW03") + 1
    assert diag.hint
    with pytest.warns(cq.QueryWarning, match=r"schema\.not-in-enum"):
        node = cq.parse_filter(text, schema=SCHEMA)
    assert cq.compile_predicate(node, SCHEMA)({"sensorPlatformName": "WORLDVIEW03"}) is True


def test_the_enum_warning_reads_well() -> None:
    # The QueryWarning text ends "; canonical form: None" for a schema finding.
    with pytest.warns(cq.QueryWarning) as record:
        cq.parse_filter("sensorPlatformName = WORLDVIEW2", schema=SCHEMA)
    (warning,) = record
    assert "None" not in str(warning.message)


SCHEMA_ROWS: list[Row] = [
    ("cloudCover = '5'", {"cloudCover": 5}, True),
    ("cloudCover = 5", {"cloudCover": "5"}, False),  # declared a number: a string is unknown
    ("NOT cloudCover = 5", {"cloudCover": "5"}, False),
    ("cloudCover < 20", {"cloudCover": 19.5}, True),
    ("catalogID = 1050010018826700", {"catalogID": "1050010018826700"}, True),
    ("catalogID = 1050010018826701", {"catalogID": "1050010018826700"}, False),
    ("catalogID = 1050010018826700", {"catalogID": 1050010018826700}, False),
    ("NOT catalogID = 1050010018826700", {"catalogID": 1050010018826700}, False),
    ("catalogID = 1050010*", {"catalogID": "1050010018826700"}, True),
    ("timestamp <= 2016-01-01", {"timestamp": "2016-01-01T00:00:00Z"}, True),
    ("timestamp <= 2016-01-01", {"timestamp": "2016-01-01T01:00:00+02:00"}, True),
    ("acquired >= 2016-01-01", {"acquired": "2016-01-01T00:00:00Z"}, True),  # by the schema
    ("acquired >= 2016-01-01", {"acquired": "2015-12-31T23:00:00-02:00"}, True),
    ("available = 'true'", {"available": True}, True),
    ("available = 'true'", {"available": "true"}, False),  # declared a boolean
    ("bands = Multi", {"bands": ["Pan", "Multi"]}, True),
    ("_acquisition.productLevel = LV1B", {"_acquisition": {"productLevel": "LV1B"}}, True),
    ("cloudCover < 20", {}, False),
    ("NOT cloudCover < 20", {"cloudCover": None}, False),
]


@table(SCHEMA_ROWS)
def test_declared_types_decide(text: str, props: Mapping[str, Any], expected: bool) -> None:
    assert selects(text, props, SCHEMA) is expected


def test_infer_queryables_on_sample_records() -> None:
    records = [
        {"properties": {"cloudCover": 0, "offNadirAngle": 1, "timestamp": "2015-07-31T10:07:17Z"}},
        {"properties": {"cloudCover": 5, "offNadirAngle": 26.5, "catalogID": "1050010018826700"}},
        {"properties": {"stereoPair": None, "available": True, "mixed": 1, "bands": ["Pan"]}},
        {"properties": {"mixed": "one", "acquisitionDate": "soon"}},
    ]
    props = cq.infer_queryables(records)["properties"]
    assert props["cloudCover"] == {"type": "integer"}
    assert props["offNadirAngle"] == {"type": "number"}  # integer widens next to floats
    assert props["timestamp"] == {"type": "string", "format": "date-time"}
    assert props["catalogID"] == {"type": "string"}
    assert props["available"] == {"type": "boolean"}
    assert props["bands"] == {"type": "array", "items": {"type": "string"}}
    assert props["acquisitionDate"]["format"] == "date-time"  # by its name
    assert "type" not in props["mixed"]
    assert "stereoPair" in props


# ----------------------------------------------------------------------------------------------
# Type expressions

TYPES: list[tuple[str, Sequence[str], bool]] = [
    ("WV02", ["GBDXCatalogRecord", "WV02"], True),
    ("WV02", ["GBDXCatalogRecord", "WV03_VNIR"], False),
    ("wv02", ["WV02"], False),  # case-sensitive
    ("WV0", ["WV02"], False),  # exact names
    ("WV02 AND DigitalGlobeProduct", ["WV02", "DigitalGlobeProduct"], True),
    ("WV02 AND DigitalGlobeProduct", ["WV02"], False),
    ("WV02 OR WV03_VNIR", ["WV03_VNIR"], True),
    ("WV03*", ["GBDXCatalogRecord", "WV03_SWIR"], True),
    ("WV03*", ["WV03"], True),
    ("WV03*", ["WV02"], False),
    ("*Product", ["DigitalGlobeProduct"], True),
    ("*Product", ["Products"], False),
    ("*Acquisition", ["LandsatAcquisition"], True),
    ("1BProduct", ["1BProduct"], True),
    ("NOT IDAHOImage", ["WV02"], True),
    ("NOT IDAHOImage", ["IDAHOImage", "WV02"], False),
    ("NOT IDAHOImage", [], True),
    ("WV02 AND NOT IDAHOImage", ["IDAHOImage", "WV02"], False),
    ("(WV02 OR WV03*) AND NOT IDAHOImage", ["WV03_VNIR"], True),
    ("(IDAHOImage) AND (WV02)", ["IDAHOImage", "WV02"], True),
    ("WV02 OR WV03 AND IDAHOImage", ["WV02"], True),  # WV02 OR (WV03 AND IDAHOImage)
    ("(WV02 OR WV03) AND IDAHOImage", ["WV02"], False),
    ("GBDXCatalogRecord", ["GBDXCatalogRecord"], True),
    ("*", [], False),
    ("*", ["x"], True),
]


@pytest.mark.parametrize(
    ("text", "types", "expected"),
    TYPES,
    ids=[f"{text} on {types} is {expected}" for text, types, expected in TYPES],
)
def test_type_expressions(text: str, types: Sequence[str], expected: bool) -> None:
    assert cq.compile_types(cq.parse_types(text))(types) is expected


def test_predicates_reject_the_wrong_kind_of_ast() -> None:
    with pytest.raises(cq.QueryError):
        cq.compile_predicate(cq.parse_types("WV02"))
    with pytest.raises(cq.QueryError):
        cq.compile_types(cq.parse_filter("a = 1"))


def test_a_number_past_the_int_digit_limit_still_compares() -> None:
    huge = "9" * 5000  # CPython refuses int() of more than 4300 digits
    keep = cq.compile_predicate(cq.parse_filter(f"cloudCover < {huge}"))
    assert keep({"cloudCover": 5}) is True
    assert keep({"cloudCover": "x"}) is False
