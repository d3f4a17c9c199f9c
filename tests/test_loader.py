"""The batch loader gives what one record at a time gave: the same records, notes and errors.

Each fast path is checked against the general path it stands in for: ``prepare_records``
against ``prepare_record`` one record at a time, the orjson check-and-copy against the standard
library's, the number walk against ``jsonb_faithful`` and the 64-bit rule, orjson line reading
against ``json.loads``, the UTC timestamp form against the regular expression.
"""

from __future__ import annotations

import gc
import io
import json
import sqlite3
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import shapely
from hypothesis import example, given, settings
from hypothesis import strategies as st

from catalog_fixtures import Factory
from catalogql.search import InvalidRecord, open_catalog
from catalogql.search.records import (
    DecodedRecord,
    StoredRecord,
    _check_json,
    _checked_copy,
    _json_text,
    _number_key,
    _number_traits,
    _owned_traits,
    _properties_json,
    _text_keys,
    check_records,
    decoded_shape,
    prepare_record,
    prepare_records,
    value_keys,
)
from catalogql.search.sources import _decode, read_entries
from catalogql.search.stores.postgres import jsonb_faithful
from catalogql.semantics import (
    _general_instant_key,
    _utc_instant_key,
    boolean_from_text,
    instant_key,
    instant_keys,
    number_from_text,
)
from catalogql.testing.strategies import json_values
from property_settings import scaled

DEEP: list[Any] = []
for _ in range(70):
    DEEP = [DEEP]

# -- timestamps ------------------------------------------------------------------------------

_TWO = st.integers(0, 99).map(lambda n: f"{n:02d}")
_UTC_FORMS = st.builds(
    lambda y, mo, d, h, mi, s, frac, sep, t, z: (
        f"{y:04d}-{mo}-{d}{t}{h}:{mi}:{s}" + (f"{sep}{frac}" if frac is not None else "") + z
    ),
    st.integers(0, 9999),
    st.sampled_from(["00", "01", "02", "04", "09", "12", "13"]) | _TWO,
    st.sampled_from(["00", "01", "28", "29", "30", "31", "32"]) | _TWO,
    st.sampled_from(["00", "23", "24"]) | _TWO,
    st.sampled_from(["00", "59", "60"]) | _TWO,
    st.sampled_from(["00", "59", "60"]) | _TWO,
    st.none() | st.text("0123456789", min_size=0, max_size=12) | st.just("5x"),
    st.sampled_from([".", ",", ":"]),
    st.sampled_from(["T", " ", "t"]),
    st.sampled_from(["Z", "z", "+00:00", ""]),
)


@settings(max_examples=scaled(400))
@given(_UTC_FORMS | st.text(max_size=30))
@example("2016-02-29T23:59:59.000Z")  # a leap day
@example("1900-02-29T00:00:00Z")  # not one
@example("0000-01-01T00:00:00Z")
@example("2016-01-01T00:00:00.Z")
@example("2016-01-01T00:00:00Z")
@example("٢٠١٦-01-01T00:00:00Z")  # other scripts' digits
def test_the_utc_fast_path_gives_the_general_key(text: str) -> None:
    fast = _utc_instant_key(text)
    general = _general_instant_key(text)
    assert fast is None or fast == general
    assert instant_key(text) == general
    if general is not None and text.endswith("Z") and text[10:11] == "T" and "," not in text:
        assert fast == general  # the common form does take the fast path


@settings(max_examples=scaled(200))
@given(
    st.lists(_UTC_FORMS | st.text(max_size=30) | st.none() | st.integers(), max_size=40),
    st.integers(0, 40),
)
def test_a_batch_of_instant_keys_is_each_key(texts: list[Any], repeat: int) -> None:
    # texts repeated so that groups of one length reach the batch's size (numpy's path)
    batch = texts + [text for text in texts if isinstance(text, str)] * repeat
    assert instant_keys(batch) == [
        instant_key(text) if isinstance(text, str) else None for text in batch
    ]


def test_a_batch_of_common_times_takes_the_vectorized_path() -> None:
    texts = [
        f"2016-0{1 + n % 9}-{10 + n % 19}T{n % 24:02d}:00:0{n % 10}.{n:03d}Z" for n in range(40)
    ]
    texts += ["2015-02-29T10:00:00.000Z", "2016-02-29T10:00:00.000Z", "2016-13-01T00:00:00.000Z"]
    texts += ["2016-01-01T24:00:00.000Z", "2016-01-01T10:60:00.000Z", "0000-01-01T00:00:00.000Z"]
    texts += ["2016-01-01T10:00:00,120Z", "2016-01-01 10:00:00.000Z", "2016-01-01T10:00:00.0a0Z"]
    assert instant_keys(texts) == [instant_key(text) for text in texts]
    assert instant_keys(texts)[-9:] == [
        None, "2016-02-29T10:00:00", None, None, None, None,
        "2016-01-01T10:00:00.12", "2016-01-01T10:00:00", None,
    ]  # fmt: skip


# -- the check-and-copy ------------------------------------------------------------------------


def _old_copy(properties: Any, position: int) -> tuple[Any, str]:
    """The standard library's check-and-copy, as prepare_record did it before orjson."""
    text = _properties_json(properties, position)
    copy = json.loads(text)
    if copy != properties:
        _check_json(properties, position)
    return copy, text


def _typed(value: Any) -> str:
    """A text that tells 1 from 1.0 and -0.0 from 0.0 (== does not)."""
    return json.dumps(value, allow_nan=True)


_ODD = st.sampled_from(
    [
        float("nan"),
        float("inf"),
        (1, 2),
        {1: "a"},
        "a\x00b",
        "\ud800",
        2**64,
        -(2**63) - 1,
        2**63,
        1e-5,
        1.5e-7,
        1e16,
        DEEP,
        "{[" * 40,
    ]
)


@settings(max_examples=scaled(300))
@given(st.dictionaries(st.text(max_size=6), json_values(allow_nan=True) | _ODD, max_size=6))
@example({"a": {1: "x", "1": "y"}})
@example({"a": float("nan")})
@example({"deep": DEEP})
def test_the_orjson_copy_keeps_the_same_values_and_errors(properties: dict[str, Any]) -> None:
    try:
        expected: Any = _old_copy(properties, 3)
    except InvalidRecord as error:
        expected = error
    try:
        got: Any = _checked_copy(properties, 3)
    except InvalidRecord as error:
        got = error
    if isinstance(expected, InvalidRecord):
        assert isinstance(got, InvalidRecord)
        assert str(got) == str(expected)
        return
    assert not isinstance(got, InvalidRecord), got
    copy, text, *_ = got
    assert _typed(copy) == _typed(expected[0])
    assert _typed(json.loads(text)) == _typed(copy)  # the text holds the same values
    assert copy is not properties


@settings(max_examples=scaled(300))
@given(st.dictionaries(st.text(max_size=6), json_values(allow_nan=True) | _ODD, max_size=6))
@example({"a": {1: "x", "1": "y"}})
@example({"a": float("nan"), "b": float("-inf")})
@example({"deep": DEEP})
@example({"s": "{[" * 40})  # brackets in a string: orjson's text is not kept (see _json_text)
@example({"s": "\\u0000"})  # an escaped backslash before u0000: the same
@example({"k\x00": 1})
@example({"\udc80": 1})
@example({"a": [2**64, -0.0, 5e-324, True, None]})
@example({"a": [-5e-324, 1e-300, -1e-300, 1e-301, -1.5, 0.0, 1e308, -(2**53), 2**53 - 1]})
@example({"a": 0.0, "b": -1e-301, "c": float("inf")})
def test_owned_properties_are_checked_in_place_as_the_copy_checks_them(
    properties: dict[str, Any],
) -> None:
    """A handed-over record's properties: kept only where the copy would be equal, same traits."""
    try:
        copy, text, wide, inexact = _checked_copy(properties, 3)
    except InvalidRecord:
        assert _owned_traits(properties) is None  # refused: the copying path says why
        return
    traits = _owned_traits(properties)
    if traits is None:
        return  # the copying path decides, as without owned
    assert traits == (wide, inexact)
    assert _typed(properties) == _typed(copy)
    assert _json_text(properties) == text


@settings(max_examples=scaled(300))
@given(json_values(max_leaves=12))
@example({"a": [2**53, -(2**53), 2**53 - 1]})
@example({"a": [5e-324, -0.0, 1e-300, -1e-301, 2**63, 2**64, -(2**63) - 1]})
@example([9007199254740993])
@example([1, -9007199254740993])
@example({"b": 2**63 - 1})
@example(-0.0)
@example([0.5, 1e-310])
@example({"id": "9007199254740993", "t": "x:-0000000000000000"})
def test_the_number_walk_agrees_with_jsonb_faithful_and_the_64_bit_rule(value: Any) -> None:
    try:
        properties, _, wide, inexact = _checked_copy({"v": value}, 0)
    except InvalidRecord:
        return  # refused at load (a NUL, a lone surrogate): never stored, never walked
    assert (wide, inexact) == _number_traits(properties)  # the text's shortcut: the same
    assert inexact == (not jsonb_faithful(properties))
    stack, widest = [value], False
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif type(item) is int and not -(2**63) <= item < 2**63:
            widest = True
    assert wide == widest


# -- a batch against one record at a time --------------------------------------------------

_WKTS = st.sampled_from(
    [
        "POINT (1 2)",
        "MULTIPOINT ((-179 0), (179 0))",
        "POLYGON ((0 0, 1 0, 1 1, 0 1, 0 0))",
        "POLYGON ((0 0, 1 1, 1 0, 0 1, 0 0))",  # a bowtie: repaired, noted
        "POLYGON ((179.5 -16.5, -179.5 -16.5, -179.5 -15.5, 179.5 -15.5, 179.5 -16.5))",
        "POLYGON ((0 0, 1 0, 2 0, 0 0))",  # no area: searched as the line it spans
        "MULTIPOLYGON (((10 10, 11 10, 11 11, 10 10)))",
        "LINESTRING (0 0, 3 4)",
        "LINESTRING (-170 0, 170 0)",
        "GEOMETRYCOLLECTION (POINT (1 1), POLYGON ((0 0, 1 0, 1 1, 0 0)))",
        "POINT (200 0)",
        "POINT (0 95)",
        "POINT (nan 1)",
        "LINESTRING (0 0, 1 nan)",
        "POLYGON ((0 0, 1 0, nan 1, 0 0))",  # non-finite and areal: refused by is_valid
        "MULTIPOLYGON (((0 0, 1 0, 1 1, 0 0)), ((5 5, 6 5, 6 inf, 5 5)))",
        "GEOMETRYCOLLECTION (POINT (1 1), LINESTRING (0 0, 1e400 1))",
        "POLYGON Z ((0 0 nan, 1 0 1, 1 1 1, 0 0 1))",  # only z: x and y are what count
        "POINT EMPTY",
        "POLYGON ((0 0, 1 0",
        "not wkt at all",
        "POLYGON Z ((0 0 1, 1 0 1, 1 1 1, 0 0 1))",
        "CIRCULARSTRING (0 0, 1 1, 2 0)",
        "",
    ]
)
_STAMPS = st.sampled_from(
    ["2016-01-01T10:00:00.000Z", "2016-01-01", "2015-07-31T12:07:17.5+02:00", "yesterday"]
)


@st.composite
def _records(draw: st.DrawFn) -> Any:
    if draw(st.integers(0, 30)) == 0:
        return draw(st.sampled_from([None, [], "x", {"identifier": "z"}]))
    properties: dict[str, Any] = {
        "timestamp": draw(_STAMPS),
        "footprintWkt": draw(_WKTS | st.sampled_from([None, 5])),
        "catalogID": draw(st.sampled_from(["1030010045539700", "A1", 5, [1, "2"], None])),
    }
    if draw(st.booleans()):
        properties["x"] = draw(json_values(allow_nan=True))
    return {
        "identifier": draw(st.sampled_from(["a", "b", "c", ""])),
        "type": draw(st.sampled_from([[], ["WV02"], ["WV02", "WV02"], "WV02"])),
        "properties": properties,
    }


def _same(got: StoredRecord, want: StoredRecord) -> None:
    assert (got.identifier, got.types, got.timestamp, got.keys) == (
        want.identifier,
        want.types,
        want.timestamp,
        want.keys,
    )
    assert _typed(got.record) == _typed(want.record)
    assert (got.wide, got.inexact) == (want.wide, want.inexact)
    assert [n.to_dict() for n in got.notes] == [n.to_dict() for n in want.notes]
    assert shapely.to_wkb(got.footprint) == shapely.to_wkb(want.footprint)
    assert got.footprint.geom_type == want.footprint.geom_type


@settings(max_examples=scaled(150))
@given(st.lists(_records(), min_size=0, max_size=8), st.integers(0, 10))
def test_a_batch_is_prepared_as_one_record_at_a_time(records: list[Any], start: int) -> None:
    want: list[StoredRecord] = []
    error: InvalidRecord | None = None
    for offset, obj in enumerate(records):
        try:
            want.append(prepare_record(obj, start + offset))
        except InvalidRecord as raised:
            error = raised
            break
    if error is not None:
        with pytest.raises(InvalidRecord) as caught:
            prepare_records(records, start)
        assert str(caught.value) == str(error)
        assert caught.value.problems[0].to_dict() == error.problems[0].to_dict()
        return
    got = prepare_records(records, start)
    assert len(got) == len(want)
    for a, b in zip(got, want, strict=True):
        _same(a, b)


@settings(max_examples=scaled(150))
@given(st.lists(_records(), min_size=0, max_size=8), st.integers(0, 10))
def test_a_checked_batch_is_each_record_checked_alone(records: list[Any], start: int) -> None:
    """check_records (load --skip-bad, --dry-run): each record's stored form or its error."""
    got = check_records(records, start)
    assert len(got) == len(records)
    for offset, (obj, outcome) in enumerate(zip(records, got, strict=True)):
        try:
            want = prepare_record(obj, start + offset)
        except InvalidRecord as error:
            assert isinstance(outcome, InvalidRecord)
            assert str(outcome) == str(error)
            assert outcome.problems[0].to_dict() == error.problems[0].to_dict()
            continue
        assert isinstance(outcome, StoredRecord)
        _same(outcome, want)


def _prepared_alike(
    copies: list[Any], handed: list[Any], start: int
) -> tuple[list[StoredRecord], list[StoredRecord]] | None:
    """The records handed over (``owned=True``) and their copies prepared as usual, or None
    when both raise: then the same first error."""
    try:
        want = prepare_records(copies, start)
    except InvalidRecord as error:
        with pytest.raises(InvalidRecord) as caught:
            prepare_records(handed, start, owned=True)
        assert caught.value.problems[0].to_dict() == error.problems[0].to_dict()
        return None
    got = prepare_records(handed, start, owned=True)
    assert len(got) == len(want)
    return got, want


@settings(max_examples=scaled(150))
@given(st.lists(_records(), min_size=0, max_size=8), st.integers(0, 10))
def test_handed_over_records_are_prepared_as_copied_ones(records: list[Any], start: int) -> None:
    """owned=True (decoded records, kept as they are) gives the records, texts and errors of
    the copying path; the copying path never keeps a caller's dicts."""
    decoded = [json.loads(json.dumps(record, allow_nan=True)) for record in records]
    prepared = _prepared_alike(decoded, decoded, start)
    if prepared is None:
        return
    got, want = prepared
    for a, b, obj in zip(got, want, decoded, strict=True):
        _same(a, b)
        assert a.properties_json == b.properties_json
        assert b.properties is not obj["properties"]
        assert a.properties is obj["properties"] or a.properties_text is not None
    for outcome, b in zip(check_records(decoded, start, owned=True), want, strict=True):
        assert isinstance(outcome, StoredRecord)
        _same(outcome, b)


_TEXT_ODDITIES = st.sampled_from(
    [
        {"n": "a\x00b"},  # written as an escaped NUL
        {"n": DEEP},  # more than 64 brackets
        {"n": [[[[1]]]] * 20},  # 81 brackets, none nested deeper than 5
        {"n": "{[" * 40, "m": [1, ["x"]]},  # 80 brackets in a string, 3 lists and dicts
        {"n": -0.0, "m": 5e-324, "k": 2**53 + 1, "j": -(2**63)},  # the traits, no NUL
        {"n": 2**64, "s": "1" * 30},  # read by json
        {"n": "\ud800"},  # refused by orjson
        {"n": float("nan")},  # refused by orjson, read by json
    ]
)


@settings(max_examples=scaled(200))
@given(
    st.lists(
        st.tuples(
            _records().filter(lambda r: type(r) is dict)
            | st.builds(
                lambda x: _record("g", x=x, catalogID="1030010045539700"),
                json_values(allow_nan=True),
            ),
            st.none() | _TEXT_ODDITIES,
        ),
        min_size=1,
        max_size=4,
    ),
    st.sampled_from([None, 1]),
    st.integers(0, 10),
)
def test_decoded_records_are_prepared_as_copied_ones(
    pairs: list[tuple[dict[str, Any], dict[str, Any] | None]], indent: int | None, start: int
) -> None:
    """A line read_entries decodes as a DecodedRecord (its properties kept unwalked, their
    traits found when asked) gives the records, traits and errors of the copying path."""
    records = []
    for record, more in pairs:
        if more is not None and isinstance(record.get("properties"), dict):
            record = {**record, "properties": {**record["properties"], **more}}
        records.append(record)
    raws = [json.dumps(r, allow_nan=True, indent=indent).encode() for r in records]
    entries = list(read_entries(io.BytesIO(b"\n".join(r.replace(b"\n", b"") for r in raws))))
    decoded = [entry.record for entry in entries]
    assert all(entry.error is None for entry in entries)
    for raw, value in zip(raws, decoded, strict=True):
        assert _typed(value) == _typed(json.loads(raw))
        if type(value) is DecodedRecord:  # what the text and the values vouch for
            assert b"\\u0000" not in raw and decoded_shape(value)[0] <= 64
    prepared = _prepared_alike([json.loads(raw) for raw in raws], decoded, start)
    if prepared is None:
        return
    got, want = prepared
    for a, b, obj in zip(got, want, decoded, strict=True):
        if type(obj) is DecodedRecord:
            assert a.properties is obj["properties"] and a.found_traits is None  # unwalked
        _same(a, b)  # the traits too, found now
        assert a.properties_json == b.properties_json


def test_common_lines_are_decoded_records_and_the_others_are_not() -> None:
    plain = (
        b'{"identifier": "a", "type": [], "properties": {"n": -0.0, "id": "12345678901234567890"}}'
    )
    others = [
        b'{"identifier": "b", "properties": {"s": "\\u0000"}}',
        b'{"identifier": "c", "properties": {"n": 12345678901234567890123}}',
        b'{"identifier": "d", "properties": {"n": ' + b"[" * 64 + b"]" * 64 + b"}}",
        b'{"results": [{"identifier": "e"}]}',
    ]
    # brackets in strings are not dicts and lists: 63 of them in all, 67 brackets in the text
    bracketed = b'{"identifier": "f", "properties": {"s": "' + b"{" * 4 + b'", "n": '
    bracketed += b"[" * 61 + b"]" * 61 + b"}}"
    entries = list(read_entries(io.BytesIO(b"\n".join([plain, *others, bracketed]))))
    kinds = ["DecodedRecord"] + ["dict"] * 4 + ["DecodedRecord"]
    assert [type(e.record).__name__ for e in entries] == kinds
    assert entries[2].record["properties"]["n"] == 12345678901234567890123  # exact, by json
    assert entries[4].item == "results[0]"


def test_the_first_bad_record_is_the_one_named() -> None:
    good = _record("a")
    bad_time = _record("a", timestamp="soon")
    bad_wkt = _record("a", footprintWkt="POINT (1")
    with pytest.raises(InvalidRecord, match=r"^record 2: properties\.timestamp"):
        prepare_records([good, good, bad_time, bad_wkt])
    with pytest.raises(InvalidRecord, match=r"^record 1: properties\.footprintWkt: not WKT"):
        prepare_records([good, bad_wkt, bad_time])


def test_the_real_records_prepare_the_same_in_a_batch(
    gbdx_records: Mapping[str, dict[str, Any]],
) -> None:
    records = list(gbdx_records.values())
    got = prepare_records(records, 0)
    for offset, record in enumerate(got):
        _same(record, prepare_record(records[offset], offset))
    decoded = [json.loads(json.dumps(record)) for record in records]
    owned = prepare_records(decoded, 0, owned=True)
    for offset, record in enumerate(owned):
        assert record.properties is decoded[offset]["properties"]  # kept, not copied
        assert record.properties_text is None  # written only when asked
        _same(record, got[offset])
        assert record.properties_json == got[offset].properties_json


# -- reading lines ---------------------------------------------------------------------------

_LINE_ODDITIES = st.sampled_from(
    [
        b'{"a": NaN}',
        b'{"a": 1e400}',
        b'{"a": 18446744073709551616}',
        b'{"a": -9223372036854775809}',
        b'{"a": 9223372036854775808}',
        b'"\\ud800"',
        b'"\xed\xa0\x80"',
        b'\xef\xbb\xbf{"a": 1}',
        b'{"a": 1,}',
        b'{"a": "1234567890123456789"}',
        b"[1.0, -0.0, 0, -0, 1e-400, 1E5]",
    ]
)


@settings(max_examples=scaled(300))
@given(
    json_values(allow_nan=True).map(lambda v: json.dumps(v).encode())
    | _LINE_ODDITIES
    | st.binary(max_size=20)
)
def test_lines_read_with_orjson_read_as_json_loads_reads_them(raw: bytes) -> None:
    value, error = _decode(raw)
    try:
        expected = json.loads(raw)
    except (ValueError, RecursionError):
        assert error is not None
        return
    assert error is None
    assert _typed(value) == _typed(expected)


# -- loads -----------------------------------------------------------------------------------


def _record(identifier: str, **properties: Any) -> dict[str, Any]:
    stamp, wkt = "2016-01-01T10:00:00.000Z", "POINT (1 2)"
    return {"identifier": identifier, "type": ["WV02"], "properties": {
        "timestamp": stamp, "footprintWkt": wkt, **properties}}  # fmt: skip


def test_the_collector_is_paused_during_a_load_and_restored_after_an_error() -> None:
    catalog = open_catalog("memory://")
    seen: list[bool] = []

    def records() -> Any:
        for i in range(3):
            seen.append(gc.isenabled())
            yield _record(f"r{i}")
        yield {"identifier": "bad"}

    assert gc.isenabled()
    with pytest.raises(InvalidRecord):
        catalog.add_records(records(), batch_size=2)
    assert seen == [False, False, False]
    assert gc.isenabled()
    assert len(catalog) == 2  # the first batch stays stored


def test_sqlite_checkpoints_rarely_during_a_load_and_restores_them(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'c.db'}"
    catalog = open_catalog(url)
    settings_seen: list[int] = []
    db = catalog._db()  # type: ignore[attr-defined]

    def records() -> Any:
        for i in range(4):
            settings_seen.append(db.execute("PRAGMA wal_autocheckpoint").fetchone()[0])
            yield _record(f"r{i}")
        raise RuntimeError("the source broke")

    with pytest.raises(RuntimeError):
        catalog.add_records(records(), batch_size=2)
    page = db.execute("PRAGMA page_size").fetchone()[0]  # 16 KiB in a new file
    assert settings_seen == [256 * 2**20 // page] * 4  # 256 MiB of log between checkpoints
    assert db.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 4 * 2**20 // page
    assert db.execute("PRAGMA journal_size_limit").fetchone()[0] == 64 * 2**20
    assert len(catalog) == 4
    catalog.close()


def test_loading_the_same_file_twice_gives_the_same_catalog(
    new_catalog: Factory, tmp_path: Path, gbdx_records: Mapping[str, dict[str, Any]]
) -> None:
    path = tmp_path / "records.jsonl"
    chosen = list(gbdx_records.values())[:300]
    path.write_text("".join(json.dumps(r) + "\n" for r in chosen), encoding="utf-8")
    catalog = new_catalog()
    answers = []
    for _ in range(2):
        with path.open("rb") as f:
            catalog.add_records((entry.record for entry in read_entries(f)), batch_size=128)
        answers.append(catalog.search({"limit": 1000}))
        answers.append(catalog.search({"filters": ["cloudCover < 20"], "limit": 1000}))
    assert len(catalog) == 300
    assert answers[0] == answers[2] and answers[1] == answers[3]
    assert answers[0]["stats"]["recordsReturned"] == 300
    if catalog.url.startswith("sqlite:"):
        catalog.close()
        with sqlite3.connect(catalog.url[len("sqlite:///") :]) as db:
            assert db.execute("SELECT count(*) FROM records").fetchone()[0] == 300
            assert db.execute("SELECT max(id) FROM records").fetchone()[0] == 300  # none rewritten


@settings(max_examples=scaled(300))
@given(
    st.text("0123456789", min_size=1, max_size=30)
    | st.text("0123456789٣²-.eE+ \t\n\r\f\vF", max_size=12)
    | st.text(max_size=8)
    | st.sampled_from(["", "0", "007", "1" * 400, "9" * 4000, "9" * 4001, "2016-01-01"])
    | st.sampled_from(["10400100203F1300", " 1e5 ", "\v5", "-.5", "TRUE", "fAlse", "inf"])
)
def test_an_identifiers_digits_are_keyed_as_any_text_is(text: str) -> None:
    """value_keys' and _text_keys' shortcuts give the keys of every reading of the text."""
    keys = {"s:" + text}
    number = number_from_text(text)
    if number is not None and _number_key(number) is not None:
        keys.add(str(_number_key(number)))
    if instant_key(text) is not None:
        keys.add(f"t:{instant_key(text)}")
    if boolean_from_text(text) is not None:
        keys.add(f"b:{str(boolean_from_text(text)).lower()}")
    assert _text_keys(text) == keys
    assert value_keys("catalogID", text) == {"catalogID\x1f" + key for key in keys}


def test_handed_over_records_load_and_answer_as_copied_ones(
    new_catalog: Factory, gbdx_records: Mapping[str, dict[str, Any]]
) -> None:
    """add_records(owned=True) stores what add_records stores: the same answers on every store
    (the SQL stores write the properties' JSON text when they store the record)."""
    chosen = list(gbdx_records.values())[:300]
    copied, owned = new_catalog(), new_catalog()
    copied.add_records(chosen, batch_size=128)
    owned.add_records([json.loads(json.dumps(r)) for r in chosen], batch_size=128, owned=True)
    some_id = chosen[7]["properties"]["catalogID"]
    for request in (
        {"limit": 1000},
        {"filters": ["cloudCover < 20"], "limit": 1000},
        {"filters": [f"catalogID = '{some_id}'"], "limit": 1000},
        {"filters": ["offNadirAngle > 10", "sunElevation < 60"], "types": ["WV02"]},
    ):
        assert owned.search(request) == copied.search(request)
    assert owned.get_record(chosen[3]["identifier"]) == copied.get_record(chosen[3]["identifier"])
