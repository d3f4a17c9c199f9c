"""What a store keeps of a record: checked once at load, with the keys its indexes need.

A search record is ``{"identifier": str, "type": [str, ...], "properties": {...}}`` as the GBDX
service returned them (SPEC section 4). :func:`prepare_record` checks one and derives what every
store indexes: the time key of ``properties.timestamp``, the footprint geometry of
``properties.footprintWkt``, and the *equality keys* of the hot properties.

Decisions where the source documents are silent:

- Every record needs an ``identifier`` (a non-empty string), a ``type`` list of strings, and
  ``properties`` with a ``timestamp`` (an ISO 8601 date or date-time) and a ``footprintWkt`` (WKT
  in lon/lat). A search record without a time or a place cannot be searched the GBDX way, so it is
  refused with :class:`~catalogql.search.errors.InvalidRecord` rather than stored half-usable.
- The footprint indexed is ``footprintWkt`` split at the antimeridian and repaired if invalid
  (:func:`~catalogql.search.geometry.read_footprint`; repair refused past
  :data:`~catalogql.search.geometry.MAX_REPAIR_CROSSINGS` edge crossings); each change is a note
  on :attr:`StoredRecord.notes`. The record's ``footprintWkt`` text is kept as sent.
- ``GBDXCatalogRecord`` is on every record (SPEC section 3): a record without it gets it as its
  first type. Repeated type labels are kept once, so ``typeCounts`` counts records.

Equality keys make ``catalogID = 1030010045539700`` an index lookup instead of a scan, without
deciding what ``=`` means (:mod:`catalogql.semantics` does that). Each value of a hot property
yields every key under which some typing rule could find it equal to a literal (its text form,
its number, its instant, its boolean), and a literal yields the same kinds of keys. The keys of
a record that a comparison selects always meet the literal's keys, so the keys narrow the
candidates and the exact predicate decides.

>>> record = prepare_record({"identifier": "a", "type": ["WV02"], "properties": {
...     "timestamp": "2016-01-01T10:00:00.000Z", "footprintWkt": "POLYGON((0 0,1 0,1 1,0 0))",
...     "catalogID": "1030010045539700"}}, 0)
>>> record.types, record.timestamp
(('GBDXCatalogRecord', 'WV02'), '2016-01-01T10:00:00')
>>> sorted(record.keys)
['catalogID\\x1fn:1030010045539700.0', 'catalogID\\x1fs:1030010045539700']
"""

from __future__ import annotations

import functools
import itertools
import json
import math
import operator
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import compress
from typing import Any, TypeVar

import numpy as np
import orjson
from numpy.typing import NDArray
from shapely.geometry.base import BaseGeometry

from catalogql.ast import Literal
from catalogql.caches import sized_cache, text_bytes
from catalogql.errors import Problem
from catalogql.search.errors import InvalidRecord
from catalogql.search.geometry import read_footprint, read_footprints
from catalogql.semantics import (
    NUMBER_CHARACTERS,
    boolean_from_text,
    instant_key,
    instant_keys,
    number_from_text,
    property_getter,
    text_form,
)

__all__ = [
    "EQUALITY_INDEXED",
    "GBDX_RECORD_TYPE",
    "DecodedRecord",
    "StoredRecord",
    "check_records",
    "copy_json",
    "decode_stored",
    "decoded_record",
    "decoded_shape",
    "hashed_keys",
    "in_search_order",
    "literal_keys",
    "prepare_record",
    "prepare_records",
    "stored_labels",
    "value_keys",
]

GBDX_RECORD_TYPE = "GBDXCatalogRecord"

EQUALITY_INDEXED: tuple[str, ...] = ("catalogID", "idahoImageId", "bucketPrefix")
"""The hot properties every store indexes by equality keys: identifiers that searches look up."""

T = TypeVar("T")

_SEPARATOR = "\x1f"  # the unit separator: between a property name and its key


@dataclass(slots=True, eq=False)
class StoredRecord:
    """A checked record and what the indexes need of it (read-only, by convention).

    Not a frozen dataclass: a load makes one a record, and a frozen one's constructor costs
    three times as much; nothing changes one after it is made but the caches of what a store
    asks for first (:attr:`properties_json`, :attr:`keys`, :attr:`wide` and :attr:`inexact`).
    Two are equal only when they are the same object.

    Attributes:
        identifier: The record's identifier.
        types: Its type labels, each once, ``GBDXCatalogRecord`` included.
        properties: Its properties (the same object as ``record["properties"]``).
        timestamp: ``properties.timestamp`` as an :func:`~catalogql.semantics.instant_key`.
        footprint: ``properties.footprintWkt`` as a shapely geometry.
        indexed: The hot properties, each with its reader: :attr:`keys` are theirs.
        found_keys: :attr:`keys` once found, else None.
        properties_text: ``properties`` as compact JSON text, or None until it is first asked
            for (:attr:`properties_json` writes it then: a record handed over by its owner is
            not written out at load, and the memory store never asks).
        found_traits: :attr:`wide` and :attr:`inexact` once found, else None.
        notes: What was changed to index the footprint (split at the antimeridian, repaired),
            as warnings; the record's ``footprintWkt`` text itself is kept.
        parsed: Whether ``footprint`` is known to be exactly ``shapely.from_wkt`` of the
            ``footprintWkt`` text (read by the batch path: nothing split, repaired or
            collapsed), so a store may keep the text alone and parse it again when needed.
            False says nothing either way.
    """

    identifier: str
    types: tuple[str, ...]
    properties: Mapping[str, Any]
    timestamp: str
    footprint: BaseGeometry
    indexed: _Readers
    properties_text: str | None
    found_traits: tuple[bool, bool] | None
    notes: tuple[Problem, ...] = ()
    parsed: bool = False
    found_keys: frozenset[str] | None = None

    @property
    def record(self) -> dict[str, Any]:
        """The record as stored and returned: identifier, type, properties (made when asked).

        >>> prepare_records([{"identifier": "a", "type": ["WV02"], "properties": {
        ...     "timestamp": "2016-01-01", "footprintWkt": "POINT(1 2)"}}])[0].record["type"]
        ['GBDXCatalogRecord', 'WV02']
        """
        return {
            "identifier": self.identifier,
            "type": list(self.types),
            "properties": self.properties,
        }

    @property
    def wide(self) -> bool:
        """Whether a property holds an integer past 64 bits.

        SQLite's JSON1 reads one as a float, so the SQLite store tests such a record's filters
        in Python. Found with :attr:`inexact` when a store first asks (the memory store never
        does), unless the checks found them at load.

        >>> record = prepare_records([{"identifier": "a", "type": [], "properties": {
        ...     "timestamp": "2016-01-01", "footprintWkt": "POINT(1 2)", "n": 2**64}}])
        >>> record[0].wide, record[0].inexact
        (True, True)
        """
        return self._traits()[0]

    @property
    def inexact(self) -> bool:
        """Whether a property holds a number PostgreSQL's JSONB would change in a way a filter sees.

        An integer past 2**53, ``-0.0``, a subnormal float (see
        :func:`~catalogql.search.stores.postgres.jsonb_faithful`); found as :attr:`wide` is.

        >>> record = prepare_records([{"identifier": "a", "type": [], "properties": {
        ...     "timestamp": "2016-01-01", "footprintWkt": "POINT(1 2)", "n": -0.0}}])
        >>> record[0].wide, record[0].inexact
        (False, True)
        """
        return self._traits()[1]

    def _traits(self) -> tuple[bool, bool]:
        traits = self.found_traits
        if traits is None:
            properties = self.properties
            assert type(properties) is dict, "stored properties are a dict (checked, or a copy)"
            traits = self.found_traits = _number_traits(properties)
        return traits

    @property
    def keys(self) -> frozenset[str]:
        """The equality keys of its hot properties (see the module docstring), found once.

        Found when a store first asks (the SQL stores, as they write the record): the memory
        store keeps their hashes, found a batch at a time (:func:`hashed_keys`), and never asks.

        >>> record = prepare_records([{"identifier": "a", "type": [], "properties": {
        ...     "timestamp": "2016-01-01", "footprintWkt": "POINT(1 2)", "catalogID": "x"}}])
        >>> record[0].found_keys, record[0].keys
        (None, frozenset({'catalogID\\x1fs:x'}))
        """
        keys = self.found_keys
        if keys is None:
            found: set[str] = set()
            for name, reader in self.indexed:
                value = reader(self.properties)
                if value is not None:
                    found.update(value_keys(name, value))
            keys = self.found_keys = frozenset(found)
        return keys

    @property
    def properties_json(self) -> str:
        """``properties`` as compact JSON text (what the SQL stores keep), written once.

        The same text whether it was written at load or now (:func:`_json_text`).

        >>> record = prepare_records([{"identifier": "a", "type": [], "properties": {
        ...     "timestamp": "2016-01-01", "footprintWkt": "POINT(1 2)", "n": 1.5}}], owned=True)
        >>> record[0].properties_text is None, record[0].properties_json
        (True, '{"timestamp":"2016-01-01","footprintWkt":"POINT(1 2)","n":1.5}')
        """
        text = self.properties_text
        if text is None:
            text = _json_text(self.properties)
            self.properties_text = text  # a cache: the value is fixed
        return text


def prepare_records(
    objs: Sequence[object],
    start: int = 0,
    indexed: Sequence[str] = EQUALITY_INDEXED,
    *,
    owned: bool = False,
) -> list[StoredRecord]:
    """Check a batch of records: the same records, checks and errors as :func:`prepare_record`.

    The footprints are parsed and checked a batch at a time (:func:`read_footprints`); a
    footprint that needs more than the common checks (one that is not WKT, out of range,
    invalid or crossing the antimeridian) is read again alone, as :func:`prepare_record` reads
    it, so the notes and the errors are the same. Records are checked in order and the first
    bad one raises, naming its position.

    A stored record never shares a caller's dicts and lists: its properties are a copy, unless
    ``owned`` says the caller hands the records over. Then the properties of plain JSON values
    (``dict``, ``list``, ``str``, ``int``, ``float``, ``bool``, None, as ``json.loads`` and
    ``orjson.loads`` give them) are checked where they are and kept, not copied; their JSON
    text is written only when a store asks (:attr:`StoredRecord.properties_json`). Anything
    else is copied as without ``owned``: the records, checks and errors are the same.

    Args:
        objs: The records, as decoded from JSON.
        start: The 0-based position of the first in the input, for the error message.
        indexed: The hot properties to derive equality keys for.
        owned: Whether the records are handed over: just decoded from JSON text and held by
            nothing else (what :func:`~catalogql.search.sources.read_entries` yields), so the
            store may keep their dicts and lists. The caller must not change them afterwards.

    Returns:
        The stored forms, in order.

    Raises:
        InvalidRecord: For the first bad record, saying which field is wrong and how to fix it.

    >>> good = {"identifier": "a", "type": [], "properties": {
    ...     "timestamp": "2016-01-01", "footprintWkt": "POINT(1 2)"}}
    >>> [r.identifier for r in prepare_records([good, dict(good, identifier="b")])]
    ['a', 'b']
    >>> prepare_records([good, {"identifier": "c"}], 10)
    Traceback (most recent call last):
      ...
    catalogql.search.errors.InvalidRecord: record 11: type: must be a list of strings (hint: e.g. ["GBDXCatalogRecord", "WV02"])
    """  # noqa: E501
    footprints, times = _batch_fields(objs)
    readers = _readers(indexed)
    return [
        _prepare(obj, start + offset, readers, footprint, owned, time)
        for offset, (obj, footprint, time) in enumerate(zip(objs, footprints, times, strict=True))
    ]


def check_records(
    objs: Sequence[object],
    start: int = 0,
    indexed: Sequence[str] = EQUALITY_INDEXED,
    *,
    owned: bool = False,
) -> list[StoredRecord | InvalidRecord]:
    """Check a batch of records, each on its own: its stored form, or the error it raises.

    What :func:`prepare_record` returns or raises for each record, with the footprints read a
    batch at a time as :func:`prepare_records` reads them: for a load that reports every bad
    record and goes on (``catalogql load --skip-bad``, ``--dry-run``).

    Args:
        objs: The records, as decoded from JSON.
        start: The 0-based position of the first in the input, for the error messages.
        indexed: The hot properties to derive equality keys for.
        owned: Whether the records are handed over (see :func:`prepare_records`).

    Returns:
        For each record in order, its stored form or its :class:`InvalidRecord`.

    >>> good = {"identifier": "a", "type": [], "properties": {
    ...     "timestamp": "2016-01-01", "footprintWkt": "POINT(1 2)"}}
    >>> [getattr(r, "identifier", None) or str(r) for r in check_records([{}, good], 4)]
    ['record 4: identifier: missing or not a non-empty string', 'a']
    """
    checked: list[StoredRecord | InvalidRecord] = []
    readers = _readers(indexed)
    footprints, times = _batch_fields(objs)
    for offset, (obj, footprint, time) in enumerate(zip(objs, footprints, times, strict=True)):
        try:
            checked.append(_prepare(obj, start + offset, readers, footprint, owned, time))
        except InvalidRecord as error:
            checked.append(error)
    return checked


def _batch_fields(
    objs: Sequence[object],
) -> tuple[list[BaseGeometry | None], list[str | None]]:
    """The records' footprints and time keys, read a batch at a time (None: read it alone)."""
    texts: list[str | None] = []
    stamps: list[object] = []
    for obj in objs:
        # read directly when a dict (another Mapping may define get as it likes)
        properties = (
            obj.get("properties") if type(obj) is dict or type(obj) is DecodedRecord else None
        )
        if type(properties) is dict:
            wkt = properties.get("footprintWkt")
            texts.append(wkt if type(wkt) is str else None)
            stamps.append(properties.get("timestamp"))
        else:
            texts.append(None)
            stamps.append(None)
    return read_footprints(texts), instant_keys(stamps)


def prepare_record(
    obj: object, position: int, indexed: Sequence[str] = EQUALITY_INDEXED
) -> StoredRecord:
    """Check one record and derive its index keys.

    Args:
        obj: The record, as decoded from JSON.
        position: Its 0-based position in the input, for the error message.
        indexed: The hot properties to derive equality keys for.

    Returns:
        The stored form.

    Raises:
        InvalidRecord: Saying which field is wrong and how to fix it.

    >>> prepare_record({"identifier": "x", "type": [], "properties": {}}, 7)
    Traceback (most recent call last):
      ...
    catalogql.search.errors.InvalidRecord: record 7: properties.timestamp: missing (hint: every record needs its time, an ISO 8601 date-time such as 2016-01-01T10:00:00.000Z)
    """  # noqa: E501
    return _prepare(obj, position, _readers(indexed), None, False, None)


def _prepare(
    obj: object,
    position: int,
    readers: _Readers,
    footprint: BaseGeometry | None,
    owned: bool,
    time: str | None,
) -> StoredRecord:
    """:func:`prepare_record`, with the footprint already read and checked when not None.

    ``owned``: the properties may be kept rather than copied (see :func:`prepare_records`);
    ``time``: the time key, when the batch found it (else it is found here).
    """
    if type(obj) is not DecodedRecord and type(obj) is not dict and not isinstance(obj, Mapping):
        raise InvalidRecord(
            position, "", f"a record is a JSON object, not {type(obj).__name__}",
            'send {"identifier": …, "type": […], "properties": {…}}',
        )  # fmt: skip
    identifier = obj.get("identifier")
    if not isinstance(identifier, str) or not identifier:
        raise InvalidRecord(position, "identifier", "missing or not a non-empty string")
    if "\x00" in identifier or not (identifier.isascii() or encodable(identifier)):
        raise InvalidRecord(position, "identifier", "holds a NUL or a lone surrogate")
    types = obj.get("type")
    if not isinstance(types, list) or not all(map(_is_text, types)):
        raise InvalidRecord(
            position, "type", "must be a list of strings", 'e.g. ["GBDXCatalogRecord", "WV02"]'
        )
    labels = _labels(tuple(types))
    if labels is None:
        raise InvalidRecord(position, "type", "a type label is empty or holds a NUL")
    properties = obj.get("properties")
    if type(properties) is not dict and not isinstance(properties, Mapping):
        raise InvalidRecord(position, "properties", "missing or not a JSON object")
    stamp = properties.get("timestamp")
    if stamp is None:
        raise InvalidRecord(
            position, "properties.timestamp", "missing",
            "every record needs its time, an ISO 8601 date-time such as 2016-01-01T10:00:00.000Z",
        )  # fmt: skip
    # uncached: a load's times are mostly new, and would only push out a filter's literals
    key = time if time is not None else _instant_key(stamp) if isinstance(stamp, str) else None
    if key is None:
        raise InvalidRecord(
            position, "properties.timestamp", f"{stamp!r} is not an ISO 8601 date or date-time",
            "write it as 2016-01-01T10:00:00.000Z",
        )  # fmt: skip
    notes: list[Problem] = []
    parsed = footprint is not None  # the batch path: the text's parse itself (read_footprints)
    if footprint is None:
        footprint = read_footprint(properties.get("footprintWkt"), position, notes)
    kept: dict[str, Any] | None = properties if owned and type(properties) is dict else None
    text: str | None
    traits: tuple[bool, bool] | None
    if kept is not None and type(obj) is DecodedRecord:
        copy, text, traits = kept, None, None  # its text was checked; the traits when asked
    elif kept is not None and (traits := _owned_traits(kept)) is not None:
        copy, text = kept, None  # checked where it is; its text when asked
    else:
        copy, text, wide, inexact = _checked_copy(properties, position)
        traits = (wide, inexact)
    return StoredRecord(
        identifier,
        labels,
        copy,
        key,
        footprint,
        readers,
        text,
        traits,
        tuple(notes),
        parsed,
    )


_is_text: Callable[[object], bool] = str.__instancecheck__  # isinstance(t, str), without a frame


@functools.lru_cache(maxsize=1024)
def _labels(types: tuple[str, ...]) -> tuple[str, ...] | None:
    """A record's type labels, each once, ``GBDXCatalogRecord`` first if missing; None if bad.

    Few lists of types recur in a catalog: each is checked once.

    >>> _labels(("WV02", "WV02")), _labels(("",))
    (('GBDXCatalogRecord', 'WV02'), None)
    """
    labels = tuple(dict.fromkeys(types))
    if GBDX_RECORD_TYPE not in labels:
        labels = (GBDX_RECORD_TYPE, *labels)
    if not all(label and encodable(label) and "\x00" not in label for label in labels):
        return None
    return labels


def _checked_copy(
    properties: Mapping[str, Any], position: int
) -> tuple[dict[str, Any], str, bool, bool]:
    """A copy of the properties (every dict and list new), their compact JSON text, and traits.

    The traits are :func:`_number_traits` of the copy (``wide``, ``inexact``): the values are
    walked only when orjson's text holds a number that could have one.

    orjson writes and reads the common case. It writes NaN and the infinities as ``null`` and
    tuples as lists, so a copy that differs from the original, or anything orjson refuses (an
    integer past 64 bits, a key that is not a string, a lone surrogate, a value that is not
    JSON), a NUL, or more brackets than the depth limit, takes the standard library's path,
    which says what is wrong and where (:func:`_properties_json`).
    """
    if type(properties) is dict and (raw := _orjson_text(properties)) is not None:
        copy = orjson.loads(raw)
        if copy == properties:
            shapes = raw.translate(_NUMBER_SHAPES)
            if (
                _LONG_BARE not in shapes
                and _LONG_NEGATIVE not in shapes
                and b"-0.0" not in shapes
                and b"e-000" not in shapes
            ):
                return copy, raw.decode(), False, False
            return copy, raw.decode(), *_number_traits(copy)
    text = _properties_json(properties, position)
    copy = json.loads(text)
    if copy != properties:  # the encoder changed something: a key that is not a string, say
        _check_json(properties, position)  # (json.dumps turns 1 into "1", keeps one of 1/"1")
    return copy, text, *_number_traits(copy)


def _owned_traits(
    properties: dict[str, Any], limit: float | None = None, *, checked: bool = False
) -> tuple[bool, bool] | None:
    """:func:`_number_traits` of properties that pass every check unchanged; else None.

    What :func:`_checked_copy` would keep exactly as it is, checked without copying: plain
    JSON values only (no subclass, no tuple), string keys, every float finite, no NUL or lone
    surrogate in a key or a string, at most ``limit`` (None: :data:`_MAX_JSON_DEPTH`) dicts and
    lists in all (so none nested deeper). None: something else, which :func:`_checked_copy` decides
    (and copies or refuses, saying where). ``checked``: the values passed the checks already,
    only the traits are wanted (keys and strings are not looked at).

    >>> _owned_traits({"a": [1, 2**64], "b": "x"}), _owned_traits({"a": float("nan")})
    ((True, True), None)
    >>> _owned_traits({"a": "x\\x00"}), _owned_traits({"a": (1,)}), _owned_traits({1: 2})
    (None, None, None)
    """
    most = _MAX_JSON_DEPTH if limit is None else limit
    wide = inexact = False
    texts: list[str] = []
    keep = texts.append
    stack: list[Any] = [properties]
    containers = 0
    tiny, exact, inf = _TINY, _EXACT, math.inf  # locals: this loop runs for every value loaded
    while stack:
        container = stack.pop()
        containers += 1
        if containers > most:
            return None
        if type(container) is dict:
            if not checked:
                try:
                    keep("".join(container))  # every key is a str, or join raises
                except TypeError:
                    return None
            items = container.values()
        else:
            items = container
        for item in items:
            kind = type(item)
            if kind is float:  # the most common value first
                if not tiny <= item < inf and not -inf < item <= -tiny:
                    if item != item or item == inf or item == -inf:
                        return None  # NaN or an infinity
                    if item != 0.0 or math.copysign(1.0, item) < 0:
                        inexact = True  # -0.0 or subnormal
            elif kind is str:
                if not checked:
                    keep(item)
            elif kind is int:
                if not -exact < item < exact:
                    inexact = True
                    wide = wide or not _INT64_LOW <= item <= _INT64_HIGH
            elif kind is dict or kind is list:
                stack.append(item)
            elif item is not None and kind is not bool:
                return None
    joined = "".join(texts)
    if "\x00" in joined or not encodable(joined):
        return None
    return wide, inexact


class DecodedRecord(dict[str, Any]):
    """A record dict orjson just decoded from JSON text in which the checks have nothing to find.

    :func:`decoded_record` makes one. Handed over (``owned=True``), its properties are kept
    without walking their values: orjson made them of plain JSON values with string keys and
    refused a NaN, an infinity, a lone surrogate or a control character, the text had no
    escaped NUL, and the record holds at most 64 dicts and lists. Their number traits
    (:attr:`StoredRecord.wide`, :attr:`StoredRecord.inexact`) are found when a store first asks.
    Making one by hand vouches for the same.

    >>> DecodedRecord({"identifier": "a"}) == {"identifier": "a"}
    True
    """

    __slots__ = ()


TEXT_SHAPES = bytes(
    0x30 if 0x30 <= byte <= 0x39 else 0x7B if byte in b"{[" else 0x20 for byte in range(256)
)
"""A translation table for JSON text: a digit becomes ``0``, a bracket ``{``, the rest a space.

What tells whether orjson may have read the text differently from the standard library (an
integer of 19 digits or more, which orjson reads as a float: ``0`` 19 times in a row)."""

_WIDE = float(2**63)  # orjson reads an integer as an int from -2**63 to 2**64 - 1


def decoded_shape(value: Any) -> tuple[int, bool]:
    """The dicts and lists in a decoded JSON value, and whether it holds a float of 2**63 or more.

    How many dicts and lists (the value itself included), and whether a float is ``2**63`` or
    more, or ``-2**63`` or less: one walk over the values, for :func:`decoded_record` (the dicts
    and lists) and for a reader that must know whether orjson may have read an integer past 64
    bits as such a float.

    >>> decoded_shape({"a": [1, {"b": 2.0**64}], "c": "x"}), decoded_shape([1e18, -1.5])
    ((3, True), (1, False))
    >>> decoded_shape("x"), decoded_shape(-(2.0**63))
    ((0, False), (0, True))
    """
    kind = type(value)
    if kind is not dict and kind is not list:
        return 0, kind is float and not -_WIDE < value < _WIDE
    containers = 0
    wide = False
    high, low = _WIDE, -_WIDE  # locals: this loop runs for every record loaded
    stack: list[Any] = [value]
    while stack:
        container = stack.pop()
        containers += 1
        for item in container.values() if type(container) is dict else container:
            kind = type(item)
            if kind is float:
                if item >= high or item <= low:
                    wide = True
            elif kind is dict or kind is list:
                stack.append(item)
    return containers, wide


def decoded_record(value: Any, raw: bytes, containers: int | None = None) -> Any:
    """``value``, what orjson decoded from ``raw``, as a :class:`DecodedRecord` where it may be.

    That is, when ``value`` is a dict holding at most 64 dicts and lists in all (itself
    included) and the text holds no escaped NUL (``\\u0000``).

    Args:
        value: What ``orjson.loads(raw)`` returned, and exactly what the text says: orjson reads
            an integer past 64 bits as a float, so text with such an integer is for the
            standard library's ``json`` (and its values are not for this function).
        raw: The JSON text.
        containers: ``decoded_shape(value)[0]``, if the caller has it already.

    Returns:
        A :class:`DecodedRecord` of ``value``'s items, or ``value`` itself.

    >>> raw = b'{"identifier": "a", "properties": {"n": -0.0, "s": "x"}}'
    >>> type(decoded_record(orjson.loads(raw), raw)).__name__
    'DecodedRecord'
    >>> nul, deep = b'{"s": "\\\\u0000"}', b'{"a": ' + b"[" * 64 + b"]" * 64 + b"}"
    >>> [type(decoded_record(orjson.loads(t), t)).__name__ for t in (nul, deep, b"[1]")]
    ['dict', 'dict', 'list']
    """
    if type(value) is not dict:
        return value
    # a backslash first: a single byte is found at memchr's speed, and most lines hold none
    if b"\\" in raw and b"\\u0000" in raw:
        return value
    if containers is None:
        containers = decoded_shape(value)[0]
    if containers > _MAX_JSON_DEPTH:
        return value
    return DecodedRecord(value)


def _json_text(properties: Mapping[str, Any]) -> str:
    """The JSON text :func:`_checked_copy` writes for properties that pass its checks.

    >>> _json_text({"a": 1.0, "b": [2**64]}), _json_text({"a": 1.0})
    ('{"a":1.0,"b":[18446744073709551616]}', '{"a":1.0}')
    """
    raw = _orjson_text(properties)
    if raw is not None:
        return raw.decode()
    return json.dumps(properties, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def _orjson_text(properties: Mapping[str, Any]) -> bytes | None:
    """The compact JSON text orjson writes of properties, or None: the standard library decides.

    None when orjson refuses them (an integer past 64 bits, a key that is not a string, a lone
    surrogate, a value that is not JSON) or its text holds a NUL or more brackets than the
    depth limit (those in strings count too: this only sends them the slower way).

    >>> _orjson_text({"a": [1.5]}), _orjson_text({"a": 2**64}), _orjson_text({"a": "\\x00"})
    (b'{"a":[1.5]}', None, None)
    """
    try:
        raw = orjson.dumps(properties)
    except (orjson.JSONEncodeError, TypeError):
        return None
    if b"\\u0000" in raw or raw.count(b"{") + raw.count(b"[") > _MAX_JSON_DEPTH:
        return None
    return raw


# orjson's text, reduced to what tells whether a number may be one _number_traits flags: an
# integer of 16 digits or more (bare: after ":", "," or "["; in a string it is after something
# else), -0.0, or a float with an exponent of three digits below zero (orjson writes a float
# under 1e-300 as 5e-324: its digits become "0e-000").
# Any other text is never flagged; a match only means "walk the values".
_NUMBER_SHAPES = bytes(
    0x30 if 0x30 <= byte <= 0x39 else 0x3A if byte in b":,[" else byte if byte in b"-.e" else 0x20
    for byte in range(256)
)
_LONG_BARE, _LONG_NEGATIVE = b":" + b"0" * 16, b":-" + b"0" * 16


_INT64_LOW, _INT64_HIGH = -(2**63), 2**63 - 1
_EXACT = 2**53
_TINY = 1e-300  # below it a nonzero float may be subnormal, which JSONB does not keep


def _number_traits(value: dict[str, Any]) -> tuple[bool, bool]:
    """Whether checked properties hold an integer past 64 bits; a number JSONB would change.

    The values are those of a checked copy: JSON types only, every float finite, no NUL or
    lone surrogate: :func:`_owned_traits`, without its limit on containers, always answers.

    >>> _number_traits({"a": [1, 2.5, {"b": 2**64}]}), _number_traits({"a": -0.0, "b": "x"})
    ((True, True), (False, True))
    """
    traits = _owned_traits(value, limit=math.inf, checked=True)
    assert traits is not None, "a checked copy passes every check"
    return traits


@sized_cache(256, 2 << 20, lambda args, value: 512 + 2 * text_bytes(args[0]), text_key=True)
def _reader(name: str) -> Callable[[Mapping[str, Any]], Any]:
    return property_getter(name)


_Readers = Sequence[tuple[str, Callable[[Mapping[str, Any]], Any]]]


def _readers(indexed: Sequence[str]) -> _Readers:
    """Each hot property with the predicates' reader of it (dotted paths too): once a batch."""
    return [(name, _reader(name)) for name in indexed]


def _properties_json(properties: Mapping[str, Any], position: int) -> str:
    """The properties as compact JSON text; what no store could keep raises InvalidRecord.

    The C encoder does the common case; only a failure walks the value to say where it is.
    """
    try:
        text = json.dumps(properties, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
        text.encode("utf-8")  # lone surrogates
    except (ValueError, TypeError, RecursionError, UnicodeEncodeError):
        _check_json(properties, position)
        raise InvalidRecord(position, "properties", "cannot be written as JSON") from None
    if "\\u0000" in text:
        _check_json(properties, position)
    if text.count("{") + text.count("[") > 1 and _too_deep(text):
        _check_json(properties, position)
    return text


def _too_deep(text: str) -> bool:
    depth = deepest = 0
    if text.count("{") + text.count("[") <= _MAX_JSON_DEPTH:
        return False
    for char in text:  # brackets inside strings count too: this only decides to look closer
        if char in "{[":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "}]":
            depth -= 1
    return deepest > _MAX_JSON_DEPTH


_MAX_JSON_DEPTH = 64


def _check_json(properties: Mapping[str, Any], position: int) -> None:
    """Refuse what a store could not keep as JSON.

    NaN, infinities, NUL, lone surrogates, keys that are not strings.
    """
    stack: list[tuple[Any, str, int]] = [(properties, "properties", 1)]
    while stack:
        value, field, depth = stack.pop()
        kind = type(value)
        if kind is str:
            if "\x00" in value or not encodable(value):
                raise InvalidRecord(
                    position, field, "a string holds a NUL or a lone surrogate",
                    "remove the character: the SQL stores cannot keep it",
                )  # fmt: skip
        elif isinstance(value, float):
            if not math.isfinite(value):
                raise InvalidRecord(
                    position,
                    field,
                    f"{value!r} is not a JSON number",
                    "use null or a finite number",
                )
        elif isinstance(value, Mapping | list | tuple):
            if depth > _MAX_JSON_DEPTH:
                raise InvalidRecord(position, field, f"nested deeper than {_MAX_JSON_DEPTH} levels")
            if isinstance(value, Mapping):
                for key, item in value.items():
                    if not isinstance(key, str):
                        raise InvalidRecord(
                            position, field, f"a key is not a string: {key!r}",
                            "JSON object keys are strings: write the key as text, once",
                        )  # fmt: skip
                    stack.append((key, f"{field} (a key)", depth))
                    stack.append((item, f"{field}.{key}", depth + 1))
            else:
                stack.extend((item, f"{field}[{i}]", depth + 1) for i, item in enumerate(value))
        elif not (kind is int or kind is bool or value is None or isinstance(value, int | float)):
            raise InvalidRecord(
                position, field, f"a {kind.__name__} is not a JSON value", "use JSON values only"
            )


def encodable(text: str) -> bool:
    """Whether ``text`` encodes as UTF-8 (holds no lone surrogate).

    >>> encodable("WV02"), encodable(chr(0xDFFF))
    (True, False)
    """
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def value_keys(name: str, value: Any) -> set[str]:
    """The equality keys of one property value (a list gives its elements' keys).

    >>> sorted(value_keys("catalogID", ["A1", 5]))
    ['catalogID\\x1fn:5.0', 'catalogID\\x1fs:5', 'catalogID\\x1fs:A1']
    """
    prefix = name + _SEPARATOR
    if type(value) is str:  # the common hot value: one string, whose keys are its text's
        if value.isdigit() and value.isascii():
            # an identifier's digits: its text and its number, nothing else (an instant has a
            # dash, a boolean no digit): what _text_keys gives
            digits = _number_from_text(value)
            number = None if digits is None else _number_key(digits)
            if number is None:
                return {prefix + "s:" + value}
            return {prefix + "s:" + value, prefix + number}
        return {prefix + key for key in _text_keys(value)}
    keys: set[str] = set()
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
            continue
        text = text_form(item)
        if text is None:
            continue
        keys.update(prefix + key for key in _text_keys(text))
        if isinstance(item, bool):
            continue
        if isinstance(item, int | float):
            key = _number_key(item)
            if key is not None:
                keys.add(prefix + key)
    return keys


_CHARACTERS = itertools.repeat(NUMBER_CHARACTERS)
_FIFTH = itertools.repeat(slice(4, 5))
_DASH = itertools.repeat("-")
_DIGITS_AT_MOST = 308
"""ASCII digits up to this many are a finite float (their number key needs no check)."""


def _column(properties: Sequence[Mapping[str, Any]], name: str) -> list[Any]:
    """Each record's value of property ``name`` (None where it has none), as the filters read it.

    >>> _column([{"a": 1}, {}, {"a.b": 2}, {"a": {"b": 3}}], "a.b")
    [None, None, 2, 3]
    """
    if "." not in name:
        try:  # the usual properties: dicts, read without a Python call each
            get: Callable[[Mapping[str, Any], str], Any] = dict.get  # type: ignore[assignment]
            return list(map(get, properties, itertools.repeat(name)))
        except TypeError:  # a Mapping that is not a dict
            pass
    return list(map(property_getter(name), properties))


def _plain_digits(text: str) -> bool:
    """Whether ``text`` is ASCII digits whose number is a finite float (a number key as is)."""
    return text.isdigit() and text.isascii() and len(text) <= _DIGITS_AT_MOST


def hashed_keys(
    properties: Sequence[Mapping[str, Any]], indexed: Sequence[str] = EQUALITY_INDEXED
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """A batch's equality keys, hashed, and whose they are (the index into ``properties``).

    The keys of :attr:`StoredRecord.keys` (:func:`value_keys` of each hot property's value),
    for a store that keeps their hashes (the memory store), a batch at a time: a hot property
    at a time, the common values keyed without :func:`value_keys`' general path: an
    identifier's ASCII digits (its text and its number), and a string that cannot be a number,
    an instant or a boolean (by the first tests of :func:`_text_keys`: its text alone).

    >>> batch = [{"catalogID": "10"}, {}, {"catalogID": "x"}]
    >>> hashes, owners = hashed_keys(batch, ["catalogID"])
    >>> keys = ["catalogID\x1fs:10", "catalogID\x1fn:10.0", "catalogID\x1fs:x"]
    >>> sorted(hashes.tolist()) == sorted(map(hash, keys)), sorted(owners.tolist())
    (True, [0, 0, 2])
    """
    hashes: list[NDArray[np.int64]] = [np.zeros(0, dtype=np.int64)]
    owners: list[NDArray[np.int64]] = [np.zeros(0, dtype=np.int64)]
    rest_hashes: list[int] = []
    rest_owners: list[int] = []
    for name in indexed:
        values = _column(properties, name)
        held = np.fromiter(map(operator.is_not, values, itertools.repeat(None)), bool, len(values))
        held_at = np.flatnonzero(held)  # a record without the property has no key of it
        if len(held_at) < len(values):
            values = list(compress(values, held.tolist()))
        is_text = np.fromiter(map(operator.is_, map(type, values), itertools.repeat(str)), bool)
        text_at = held_at[is_text]
        texts = values if len(text_at) == len(values) else list(compress(values, is_text.tolist()))
        # the strings that may have a key besides their text: digits only or a number's
        # characters (number_from_text's test), "true"/"false" (boolean_from_text's lengths),
        # or YYYY-… (instant_key's test); every other one has its text's key alone
        count = len(texts)
        numeric = np.fromiter(map(operator.not_, map(str.strip, texts, _CHARACTERS)), bool, count)
        sizes = np.fromiter(map(len, texts), np.int64, count)
        fifth = map(operator.getitem, texts, _FIFTH)
        dashed = np.fromiter(map(operator.eq, fifth, _DASH), bool, count)
        more = numeric | (sizes == 4) | (sizes == 5) | dashed
        plain = ~more
        hashes.append(
            np.fromiter(
                map(hash, map((name + _SEPARATOR + "s:").__add__, compress(texts, plain))),
                np.int64,
            )
        )
        owners.append(text_at[plain])
        candidates = text_at[more]
        others = list(compress(texts, more))
        digits = np.fromiter(map(_plain_digits, others), bool, len(others))
        numbers = list(compress(others, digits))  # value_keys' own fast path: text and number
        forms: tuple[Iterable[str], ...] = (
            map("s:".__add__, numbers),
            # _number_key of a finite float of 0 or more, without a Python call each
            map("n:".__add__, map(repr, map(float, numbers))),
        )
        for written in forms:
            added = map(hash, map((name + _SEPARATOR).__add__, written))
            hashes.append(np.fromiter(added, np.int64, len(numbers)))
            owners.append(candidates[digits])
        special = list(zip(candidates[~digits].tolist(), compress(others, ~digits), strict=True))
        if len(text_at) < len(values):
            special.extend(zip(held_at[~is_text].tolist(), compress(values, ~is_text), strict=True))
        for at, value in special:  # the rest: by value_keys itself
            keys = value_keys(name, value)
            rest_hashes.extend(map(hash, keys))
            rest_owners.extend(itertools.repeat(at, len(keys)))
    hashes.append(np.array(rest_hashes, dtype=np.int64))
    owners.append(np.array(rest_owners, dtype=np.int64))
    return np.concatenate(hashes), np.concatenate(owners)


def literal_keys(name: str, literal: Literal) -> set[str]:
    """The equality keys under which a record could equal ``name = literal``.

    >>> from catalogql.ast import LiteralKind
    >>> sorted(literal_keys("catalogID", Literal("10400100203F1300", LiteralKind.QUOTED)))
    ['catalogID\\x1fs:10400100203F1300']

    A text no stored value can hold (a NUL, a lone surrogate: :func:`check_properties`
    refuses them) has no keys, so no store is asked for one.

    >>> literal_keys("catalogID", Literal(chr(0xDFFF), LiteralKind.QUOTED))
    set()
    """
    if "\x00" in literal.text or not encodable(literal.text):
        return set()
    return {name + _SEPARATOR + key for key in _text_keys(literal.text)}


def _text_keys(text: str) -> set[str]:
    keys = {"s:" + text}
    # the uncached readers: a record's values are mostly new (identifiers), and each would
    # cost a cache entry and push out one that a filter's literal may need again
    number = _number_from_text(text)
    key = None if number is None else _number_key(number)
    if key is not None:
        keys.add(key)
    instant = _instant_key(text)
    if instant is not None:
        keys.add("t:" + instant)
    if len(text) in (4, 5):  # "true" or "false", in any case
        boolean = boolean_from_text(text)
        if boolean is not None:
            keys.add("b:true" if boolean else "b:false")
    return keys


_number_from_text = number_from_text.__wrapped__
_instant_key = instant_key.__wrapped__


def _number_key(number: int | float) -> str | None:
    """The key of a number: numbers the predicates call equal get equal keys.

    The predicates compare numbers with Python's ``==`` (SPEC section 4), which is exact across
    ``int`` and ``float``: ``1 == 1.0`` and ``-0.0 == 0``. Two numbers that are equal have the
    same nearest float, so the key is that float written by ``repr``, with the sign of zero
    dropped. Numbers that are not equal may share a key (``2**53 + 1`` and ``2**53``): keys only
    narrow the candidates; the exact predicate decides.

    Nothing compares equal to an infinity (a JSON value is never one; a literal such as
    ``1030012469E02100`` overflows to one), so keying it would only gather unrelated ids.
    An integer past the float range keeps its exact digits (no float equals it).

    >>> _number_key(5), _number_key(5.0), _number_key(-0.0), _number_key(0)
    ('n:5.0', 'n:5.0', 'n:0.0', 'n:0.0')
    >>> _number_key(float("inf")), _number_key(10**400)[:6]
    (None, 'i:1000')
    """
    try:
        value = float(number)
    except OverflowError:
        try:
            return f"i:{int(number)}"
        except ValueError:  # past Python's limit on int-to-text digits: one shared key
            return "i:huge"
    if not math.isfinite(value):
        return None
    return "n:" + repr(value + 0.0)  # -0.0 + 0.0 is 0.0: one key for both zeros


def in_search_order(
    items: Iterable[T], time: Callable[[T], str], identifier: Callable[[T], str]
) -> list[T]:
    """Items in the search order: time key descending, then identifier ascending (code points).

    >>> rows = [("2001-01-01", "b"), ("2001-01-01", "a"), ("2002-01-01", "c")]
    >>> in_search_order(rows, lambda row: row[0], lambda row: row[1])
    [('2002-01-01', 'c'), ('2001-01-01', 'a'), ('2001-01-01', 'b')]
    """
    by_identifier = sorted(items, key=identifier)
    return sorted(by_identifier, key=time, reverse=True)


def decode_stored(
    identifier: str, types: str, properties: str, *, wide: bool = False
) -> dict[str, Any]:
    """A record from the JSON texts an SQL store keeps of it (its type labels, its properties).

    orjson reads the properties, except those of a ``wide`` record (an integer past 64 bits,
    which orjson would read as a float): the standard library reads those exactly. A store may
    pass a broader flag (PostgreSQL's ``exotic``); the answer is the same.

    >>> decode_stored("a", '["WV02","Acquisition"]', '{"cloudCover":1.5}')
    {'identifier': 'a', 'type': ['WV02', 'Acquisition'], 'properties': {'cloudCover': 1.5}}
    >>> decode_stored("b", '["WV02"]', '{"big":123456789012345678901234567890}', wide=True)
    {'identifier': 'b', 'type': ['WV02'], 'properties': {'big': 123456789012345678901234567890}}
    """
    return {
        "identifier": identifier,
        "type": list(stored_labels(types)),
        "properties": json.loads(properties) if wide else orjson.loads(properties),
    }


@functools.lru_cache(maxsize=1024)
def stored_labels(types: str) -> tuple[str, ...]:
    """A record's type labels from the JSON text a store keeps (few sets recur: each read once).

    >>> stored_labels('["GBDXCatalogRecord", "WV02"]')
    ('GBDXCatalogRecord', 'WV02')
    """
    return tuple(orjson.loads(types))


def copy_json(value: Any) -> Any:
    """A copy of a JSON value: every dict and list new, scalars shared.

    >>> nested = {"a": [1, {"b": 2}]}
    >>> copy = copy_json(nested)
    >>> copy == nested, copy["a"] is nested["a"]
    (True, False)
    """
    kind = type(value)
    if kind in _SCALARS:
        return value
    if kind is dict or isinstance(value, Mapping):
        return {key: copy_json(item) for key, item in value.items()}
    if kind is list or kind is tuple:
        return [copy_json(item) for item in value]
    return value


_SCALARS = frozenset({str, int, float, bool, type(None)})
