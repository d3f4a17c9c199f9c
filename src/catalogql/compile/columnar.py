"""Records' properties held as typed columns, and filters evaluated a column at a time.

:class:`PropertyColumns` holds the ``properties`` of many records, one row per record, as numpy
columns; :func:`compile_columnar` compiles a filter to a :class:`ColumnarPredicate`, which
answers for every row at once what :func:`~catalogql.compile.predicate.compile_predicate`
answers for one record: the same selection, always.

**The layout.** Per property name, one column. A column holds one entry per row that has the
key (``rows``, when fewer than half the rows have it) or one per row of the table (then a row
without the key is *absent*). The entries are typed as SPEC section 4 types values: a
``kind`` code per entry (null, int, float, text, true, false, list, other), and one array per
kind met:

* numbers: one ``float64`` array (``nan`` where the entry is not a number). An int is held
  there only when the float is exactly it (``abs(v) <= 2**53``); the kind code says int or
  float, so a row comes back as it went in (``1`` stays ``1``, ``1.0`` stays ``1.0``, ``-0.0``
  keeps its sign);
* text: codes into the column's :class:`_Dictionary` of distinct strings (numpy's
  variable-width UTF-8 ``StringDType``, which orders by code point as Python does): code 0 means
  "not text", code ``k + 1`` the ``k``-th string, in the smallest unsigned type that holds them;
* true and false: the kind code alone;
* lists: their elements flattened into a column of their own (typed the same way) with
  offsets;
* everything else (integers past ``2**53``, nested objects, strings that UTF-8 cannot hold,
  lists inside lists): an *other* part of Python values, compared one value at a time by the
  very comparator of :mod:`catalogql.semantics` the predicates call.

Key order lives in one *shape* code per row, into a list of key tuples.

**Using it** (a store). :meth:`PropertyColumns.append` takes a batch of records' ``properties``
and gives their row numbers; appended rows are folded into the columns when first read, or once
they are as many as the rows already folded (so the folds cost ``O(rows)`` in all, and the first
read after a large load has at most half of the rows left to fold in).
:meth:`~PropertyColumns.rows` builds a page of results (through readers made once per
snapshot: a value at a time for the few rows of a shape, a column at a time for many);
:meth:`~PropertyColumns.take` makes a new table of some rows, in an order (to compact after
removals, or to keep rows sorted by time). ``compile_columnar(node, schema)`` is cached like
``compile_predicate``; calling it on a table gives a boolean mask over every row, or over the
candidate rows passed as ``rows`` (the positions a spatial or time index found), in that order.
Readers may run in several threads beside one writer: a read works on a snapshot of the settled
columns, which an append replaces and never changes. ``nbytes()`` estimates the memory held
(numpy's arrays, the ``StringDType`` arena as measured, the Python values).

**The evaluation.** The tree is flattened into a postfix program with NOT pushed down to the
comparisons (De Morgan holds in three-valued logic), as the predicate compiler does: each
comparison is evaluated in the polarity it needs, as the mask of rows where it is definitely
true or the mask where it is definitely false, and AND and OR over those masks are then
two-valued, which is exactly Kleene logic at the top (unknown selects nothing). A comparison
compares a whole number column against its literal with one numpy operation (an integer literal
that no float equals is first replaced by the float next to it, which keeps the comparison
exact); a text comparison, a date-time comparison (by :func:`~catalogql.semantics.instant_key`)
or a wildcard match is evaluated *once per distinct string* of the dictionary and the answer
indexed by the codes. The typing is :mod:`catalogql.semantics`' (``comparison_operands``,
``value_domains``, ``pattern_matcher``, ``text_form``, ``property_getter``'s dotted-name rule).

>>> from catalogql import parse_filter
>>> columns = PropertyColumns()
>>> columns.append([{"cloudCover": 10}, {"cloudCover": 30}, {}])
range(0, 3)
>>> compile_columnar(parse_filter("cloudCover < 20"))(columns).tolist()
[True, False, False]
>>> compile_columnar(parse_filter("NOT cloudCover < 20"))(columns).tolist()
[False, True, False]
"""

from __future__ import annotations

import bisect
import copy
import itertools
import math
import operator
import sys
import threading
from array import array as packed
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
from numpy.typing import NDArray

from catalogql.ast import And, Comparison, Match, Node, Not, Op, Or, Wildcard
from catalogql.caches import sized_cache
from catalogql.compile.predicate import (
    Declared,
    _declared,
    _leaf_scalar,
    _predicate_bytes,
    _Shape,
    _value_test,
)
from catalogql.queryables import check_schema
from catalogql.semantics import (
    OPERATORS,
    Operands,
    PropertyType,
    comparison_operands,
    instant_key,
    may_match_a_number,
    pattern_matcher,
    property_getter,
    text_form,
    value_domains,
)

__all__ = ["ColumnarPredicate", "PropertyColumns", "compile_columnar"]

Bools = NDArray[np.bool_]
Indices = NDArray[np.int64]

_STRINGS = np.dtypes.StringDType()
"""numpy's variable-width UTF-8 strings: compared by code point, like Python's ``str``."""

# The kind of each entry of a column.
ABSENT, NULL, INT, FLOAT, TEXT, TRUE, FALSE, LIST, OTHER = range(9)
_KINDS = 9
_CONSTANTS: dict[int, Any] = {NULL: None, TRUE: True, FALSE: False, ABSENT: None}
"""The value of each kind that has no value of its own (an absent entry reads as None)."""

_EXACT_INT = 2**53
"""Integers up to this size are held exactly as float64; larger ones go to the other part."""

_INLINE_TEXT = 15
"""``StringDType`` keeps strings up to this many UTF-8 bytes inside its 16-byte entry."""

_LONG_TEXT = 255
"""Strings past this many UTF-8 bytes go to a dictionary's packed chunks (see _Dictionary)."""

_FEW_ROWS = 12
"""A page's rows of one shape are read a value at a time up to this many (else a column at a
time: a handful of numpy calls per column costs more than reading a few values one by one).

Where the crossover lies depends on the cache: at 1,000,000 rows of 43 columns, random rows read
from cold memory cost ~19 µs a row a value at a time and ~15 a column at a time at 20 rows (the
numpy gathers overlap their cache misses), with the two level at 12 to 15 rows and a value at a
time ahead below; warm, a value at a time is ahead up to ~24."""

_FEW_ROWS_SHARE = 8
"""A text comparison over fewer entries than an eighth of the dictionary compares only their
strings (else every string of the dictionary once, looked up by code)."""

_LISTED_STRINGS = 4096
"""A dictionary of at most this many strings, which keeps its index (so its strings are Python
strings already), is read through a list of them (a pointer each) rather than from numpy."""

_UFUNCS: dict[Op, Any] = {
    Op.EQ: np.equal,
    Op.NE: np.not_equal,
    Op.LT: np.less,
    Op.LE: np.less_equal,
    Op.GT: np.greater,
    Op.GE: np.greater_equal,
}


# --------------------------------------------------------------------------------------------
# Storage


class _Dictionary:
    """The distinct strings of a column (codes index them), growing at the end only.

    A code's string never changes, so tables made by :meth:`PropertyColumns.take` share their
    dictionaries with the table they came from. A string past ``_LONG_TEXT`` UTF-8 bytes (a
    footprint's WKT) is kept packed instead of in ``StringDType``'s arena, which holds about a
    fifth more (its entry holds ``""``, and :meth:`view` says which entries are long): the long
    strings of one encode joined in one chunk, a ``str`` when ASCII (its own UTF-8, and sliced
    without decoding), else UTF-8 bytes; the chunks are kept as made, never copied into one
    growing buffer (a load's page faults). A string holding a NUL is kept there too, whatever
    its length: ``np.strings.startswith``, ``endswith`` and ``str_len`` drop a string's trailing
    NULs (``"y\\x00"`` ends with ``"y"`` to them). Comparisons answer for those entries one at a
    time, in Python.

    While the strings repeat (no more than
    ``_INDEX_LIMIT`` distinct ones, or at most one in ``_REPEATS`` of those met), an index (string
    to code) keeps them distinct; past that the index is dropped (it would hold a second copy of
    every string: ids, URLs, footprints) and every string met is added as it comes. A repeated
    string then costs one more entry, never a wrong answer.
    """

    _INDEX_LIMIT = 256
    _REPEATS = 4
    _CHUNK = 16_384
    """New strings are moved into a ``StringDType`` chunk this many at a time."""

    def __init__(self) -> None:
        self._view: tuple[NDArray[Any], Bools] = (
            np.empty(0, dtype=_STRINGS),
            np.empty(0, dtype=bool),
        )
        self._pending: list[str] = []  # new entries as Python strings (a few thousand at most)
        self._chunks: list[NDArray[Any]] = []  # then as StringDType arrays, until read
        self._long_codes = packed("q")  # the long entries, ascending
        self._long_ends = packed("q")  # where each ends in their UTF-8 bytes, all one after another
        self._long_chunks: list[str | bytes] = []  # an append's long strings joined: their text
        self._long_starts: list[int] = []  # (ASCII, as a str) or UTF-8; where each chunk starts
        self._long_size = 0  # the long strings' UTF-8 bytes in all
        self._long_held = 0  # the chunks' bytes
        self._long_pending: list[int] = []
        self._long: tuple[Indices, Indices] = (np.empty(0, np.int64), np.empty(0, np.int64))
        self.index: dict[str, int] | None = {}
        self.size = 0
        self.met = 0  # strings encoded
        self.heap = 0  # UTF-8 bytes of the strings StringDType keeps outside its entries
        self._instant_heap = 0
        self._lock = threading.Lock()  # tables made by take() share the dictionary
        self._instants: tuple[NDArray[Any], Bools] = (
            np.empty(0, dtype=_STRINGS),
            np.empty(0, bool),
        )

    def encode(self, texts: Sequence[str], *, ascii: bool = False) -> Indices:
        """The codes of ``texts`` (UTF-8-encodable strings), adding the new ones.

        ``ascii``: the caller knows every one is ASCII.
        """
        with self._lock:
            return self._encode(texts, ascii)

    def known(self, texts: Sequence[str]) -> Indices | None:
        """The codes of ``texts`` when the index holds every one of them (else None).

        One pass, without adding anything: a column of a few repeated strings, after its first
        appends (its strings were checked when they were added).
        """
        index = self.index
        if index is None or not texts:
            return None
        with self._lock:
            if self.index is not index:
                return None
            try:
                codes = np.fromiter(map(index.__getitem__, texts), np.int64, len(texts))
            except KeyError:
                return None
            self.met += len(texts)
            return codes

    def _encode(self, texts: Sequence[str], ascii: bool = False) -> Indices:
        self.met += len(texts)
        index = self.index
        if index is None:  # every string as it comes
            start = self.size
            self._add(texts, ascii)
            return np.arange(start, self.size, dtype=np.int64)
        new = [text for text in dict.fromkeys(texts) if text not in index]
        index.update(zip(new, range(self.size, self.size + len(new)), strict=True))
        codes = np.fromiter(map(index.__getitem__, texts), dtype=np.int64, count=len(texts))
        self._add(new, ascii)
        if len(index) > self._INDEX_LIMIT and len(index) * self._REPEATS > self.met:
            self.index = None
        return codes

    def _add(self, new: Sequence[str], ascii: bool = False) -> None:
        """New entries at the end (the caller holds the lock); ``ascii``: known to be."""
        widths = _widths(new, ascii)
        aside = widths > _LONG_TEXT
        if "\x00" in "".join(new):  # numpy's string functions drop trailing NULs
            aside |= np.fromiter(("\x00" in text for text in new), dtype=bool, count=len(new))
        long = np.flatnonzero(aside)
        if len(long):  # the long strings' UTF-8, joined and encoded at once
            if len(long) == len(new):
                joined = "".join(new)
                new = [""] * len(new)
            else:
                picked = long.tolist()
                joined = "".join([new[i] for i in picked])
                new = list(new)
                for i in picked:
                    new[i] = ""
            # kept as joined (no copy into one growing buffer): ASCII text is its own UTF-8
            chunk: str | bytes = joined if joined.isascii() else joined.encode("utf-8")
            ends = self._long_size + np.cumsum(widths[long])
            codes = (long + self.size).tolist()
            self._long_chunks.append(chunk)
            self._long_starts.append(self._long_size)
            self._long_size = int(ends[-1])
            self._long_held += sys.getsizeof(chunk)
            self._long_codes.extend(codes)
            self._long_ends.extend(ends.tolist())  # after the codes and the bytes: readers
            self._long_pending.extend(codes)
        medium = widths[(widths > _INLINE_TEXT) & ~aside]
        self.heap += int((medium + 6).sum())
        self._pending.extend(new)
        self.size += len(new)
        if len(self._pending) >= self._CHUNK:  # held compactly until read (bounds the peak)
            self._chunks.append(np.array(self._pending, dtype=_STRINGS))
            self._pending = []

    def view(self) -> tuple[NDArray[Any], Bools]:
        """Every entry by code (``StringDType``; ``""`` for a long one), and which are long.

        A long entry's string is in :meth:`long_texts`.
        """
        if self._pending or self._chunks:
            with self._lock:
                if self._pending or self._chunks:
                    array, is_long = self._view
                    added = [*self._chunks, np.array(self._pending, dtype=_STRINGS)]
                    flags = np.zeros(self.size - len(array), dtype=bool)
                    if self._long_pending:
                        flags[np.array(self._long_pending, dtype=np.int64) - len(array)] = True
                        count = len(self._long_ends)  # the mirrors first: see long_texts
                        self._long = (
                            np.array(self._long_codes[:count], dtype=np.int64),
                            np.array(self._long_ends[:count], dtype=np.int64),
                        )
                    self._view = (
                        np.concatenate([array, *added]),
                        np.concatenate([is_long, flags]),
                    )
                    self._pending, self._chunks, self._long_pending = [], [], []
        return self._view

    @property
    def strings(self) -> NDArray[Any]:
        """Every entry by code (``""`` for a long one: see :meth:`view`)."""
        return self.view()[0]

    def long_texts(self, codes: Indices) -> list[str]:
        """The strings of long entries (of a :meth:`view`: its long entries are all here)."""
        long_codes, ends = self._long
        at = np.searchsorted(long_codes, codes)
        starts = np.where(at > 0, ends[at - 1], 0)
        piece = self._long_piece
        return [
            piece(start, end) for start, end in zip(starts.tolist(), ends[at].tolist(), strict=True)
        ]

    def _long_piece(self, start: int, end: int) -> str:
        """The long string at UTF-8 bytes ``start`` to ``end`` of them all (within one chunk)."""
        at = bisect.bisect_right(self._long_starts, start) - 1
        base = self._long_starts[at]
        piece = self._long_chunks[at][start - base : end - base]
        return piece if isinstance(piece, str) else piece.decode("utf-8")

    def long_text(self, code: int) -> str:
        """The string of one long entry of a :meth:`view` (see :meth:`long_texts`)."""
        long_codes, ends = self._long
        at = int(long_codes.searchsorted(code))
        start = ends.item(at - 1) if at else 0
        return self._long_piece(start, ends.item(at))

    def listed(self) -> list[str | None] | None:
        """``[None, s0, s1, ...]``: every string by code + 1, when few and indexed (else None).

        The list holds the index's own string objects (a pointer each): see
        :data:`_LISTED_STRINGS`.
        """
        with self._lock:
            index = self.index
            if index is None or len(index) > _LISTED_STRINGS or len(index) != self.size:
                return None
            return [None, *index]  # the index keeps insertion order: code order

    def patch(
        self,
        answers: NDArray[Any],
        is_long: Bools,
        answer: Callable[[str], Any],
        entries: Indices | None = None,
    ) -> None:
        """Set ``answers[i] = answer(string)`` for the long entries of a :meth:`view`.

        With ``entries``, ``answers`` and ``is_long`` are those entries' (``i`` indexes them).
        """
        at = np.flatnonzero(is_long)
        if not len(at):
            return
        codes = at if entries is None else entries[at]
        for i, text in zip(at.tolist(), self.long_texts(codes), strict=True):
            answers[i] = answer(text)

    def texts(self, start: int, stop: int) -> list[str]:
        """The strings of entries ``start`` to ``stop``, as Python strings (long ones too)."""
        array, is_long = self.view()
        texts: list[str] = array[start:stop].tolist()
        codes = np.flatnonzero(is_long[start:stop]) + start
        for code, text in zip(codes.tolist(), self.long_texts(codes), strict=True):
            texts[code - start] = text
        return texts

    def instants(self) -> tuple[NDArray[Any], Bools]:
        """Each string's :func:`~catalogql.semantics.instant_key` ('' for None), and where valid.

        Computed once per string, when first asked for.
        """
        keys, valid = self._instants
        strings = self.strings
        if len(keys) < len(strings):
            first = len(keys)
            texts = self.texts(first, len(strings))
            with self._lock:
                keys, valid = self._instants
                new = [instant_key(text) for text in texts[len(keys) - first :]]
                keys = np.concatenate([keys, np.array([k or "" for k in new], dtype=_STRINGS)])
                self._instant_heap += _heap_bytes(k for k in new if k)
                valid = np.concatenate([valid, np.array([k is not None for k in new], dtype=bool)])
                self._instants = keys, valid
        return keys[: len(strings)], valid[: len(strings)]

    def nbytes(self) -> int:
        """Bytes held: the entries, the strings outside them, the index, the instant keys."""
        held = 16 * self.size + self.heap + sum(sys.getsizeof(t) for t in self._pending)
        held += self._long_held + 16 * len(self._long_codes)
        if self.index is not None:
            held += sys.getsizeof(self.index) + sum(sys.getsizeof(t) for t in self.index)
        keys, valid = self._instants
        return held + 16 * len(keys) + valid.nbytes + self._instant_heap


def _widths(texts: Sequence[str], ascii: bool = False) -> Indices:
    """Each string's UTF-8 bytes (``ascii``: every one is known to be ASCII)."""
    if ascii or all(map(str.isascii, texts)):
        return np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
    return np.array([len(text.encode("utf-8")) for text in texts], dtype=np.int64)


def _heap_bytes(texts: Iterable[str]) -> int:
    """What ``StringDType`` holds outside its entries for ``texts``.

    Strings past 15 UTF-8 bytes sit in an arena with a header; measured (RSS, numpy 2.4): about
    ``width + 6`` bytes up to 255 bytes, ``1.17 * width + 8`` past that.
    """
    widths = _widths(list(texts))
    long = widths[widths > 255]
    medium = widths[(widths > _INLINE_TEXT) & (widths <= 255)]
    return int(((117 * long) // 100 + 8).sum()) + int((medium + 6).sum())


def _code_type(size: int) -> type[np.unsignedinteger[Any]]:
    """The smallest unsigned type for codes 0 to ``size``."""
    if size < 0xFF:
        return np.uint8
    return np.uint16 if size < 0xFFFF else np.uint32


@dataclass(slots=True)
class _Values:
    """A sequence of JSON values, typed: see the module docstring.

    Attributes:
        kind: Each entry's kind (``ABSENT`` ... ``OTHER``).
        num: Numbers as float64 (``nan`` elsewhere), or None when there are none.
        code: Text codes into ``dictionary`` (``k + 1`` for the k-th string, 0 elsewhere), or
            None when there is no text.
        dictionary: The strings the codes index.
        list_at: The entries that hold lists, ascending (None: no lists).
        offsets: Where each list's elements start and end in ``elements``.
        elements: The lists' elements, typed the same way (never lists of lists: those
            elements are ``OTHER``).
        other_at: The entries held as Python values, ascending (None: none).
        other: Those values.
    """

    kind: NDArray[np.int8]
    num: NDArray[np.float64] | None
    code: NDArray[np.unsignedinteger[Any]] | None
    dictionary: _Dictionary
    list_at: Indices | None = None
    offsets: Indices | None = None
    elements: _Values | None = None
    other_at: Indices | None = None
    other: list[Any] | None = None
    _counts: NDArray[np.int64] | None = None

    def __len__(self) -> int:
        return len(self.kind)

    def counts(self) -> NDArray[np.int64]:
        """How many entries of each kind (computed once: a ``_Values`` never changes)."""
        if self._counts is None:
            self._counts = np.bincount(self.kind, minlength=_KINDS)
        return self._counts

    def nbytes(self) -> int:
        """Bytes held (the dictionary aside: columns share it)."""
        held = self.kind.nbytes
        for array in (self.num, self.code, self.list_at, self.offsets, self.other_at):
            held += 0 if array is None else array.nbytes
        if self.elements is not None:
            held += self.elements.nbytes()
        if self.other is not None:
            held += sum(_python_bytes(value) for value in self.other) + 8 * len(self.other)
        return held

    def take(self, positions: Indices) -> _Values:
        """The entries at ``positions`` (-1: an absent entry), in that order."""
        missing = positions < 0
        anything_missing = bool(missing.any())
        kind = self.kind[positions]
        num = None if self.num is None else self.num[positions]
        code = None if self.code is None else self.code[positions]
        if anything_missing:
            kind[missing] = ABSENT
            if num is not None:
                num[missing] = np.nan
            if code is not None:
                code[missing] = 0
        taken = _Values(kind, num, code, self.dictionary)
        if self.list_at is not None and self.offsets is not None and self.elements is not None:
            at = np.flatnonzero(kind == LIST)
            if len(at):
                which = np.searchsorted(self.list_at, positions[at])
                starts = self.offsets[which]
                lengths = self.offsets[which + 1] - starts
                offsets = np.zeros(len(at) + 1, dtype=np.int64)
                np.cumsum(lengths, out=offsets[1:])
                picked = np.repeat(starts - offsets[:-1], lengths) + np.arange(
                    offsets[-1], dtype=np.int64
                )
                taken.list_at, taken.offsets = at.astype(np.int64), offsets
                taken.elements = self.elements.take(picked)
        if self.other_at is not None and self.other is not None:
            at = np.flatnonzero(kind == OTHER)
            if len(at):
                which = np.searchsorted(self.other_at, positions[at])
                values = self.other
                taken.other_at = at.astype(np.int64)
                taken.other = [values[i] for i in which.tolist()]
        return taken

    def value_at(self, position: int) -> Any:
        """The Python value of one entry (a few rows: cheaper than :meth:`values_at`)."""
        kind = self.kind.item(position)  # .item: a Python scalar without a numpy one first
        if kind == FLOAT:
            return cast("NDArray[np.float64]", self.num).item(position)
        if kind == TEXT:
            code = cast("NDArray[Any]", self.code).item(position) - 1
            array, is_long = self.dictionary.view()
            if is_long.item(code):
                return self.dictionary.long_text(code)
            return array.item(code)
        if kind == INT:
            return int(cast("NDArray[np.float64]", self.num).item(position))
        if kind in _CONSTANTS:
            return _CONSTANTS[kind]
        return self.values_at(np.array([position], dtype=np.int64))[0]

    def _texts_at(self, codes: NDArray[Any]) -> list[Any]:
        """The strings of dictionary entries ``codes`` (long ones decoded)."""
        array, is_long = self.dictionary.view()
        texts: list[Any] = array[codes].tolist()
        at = np.flatnonzero(is_long[codes])
        if len(at):
            for i, text in zip(at.tolist(), self.dictionary.long_texts(codes[at]), strict=True):
                texts[i] = text
        return texts

    def values_at(self, positions: Indices) -> list[Any]:
        """The Python values of the entries at ``positions`` (None where absent or null)."""
        size = len(positions)
        whole = self.counts()
        if size and int(whole.max()) == len(self) and int(positions.min()) >= 0:
            counts = np.zeros(_KINDS, dtype=np.int64)  # one kind in all: no need to look
            counts[int(whole.argmax())] = size
            kind = None
        else:
            kind = self.kind[positions]
            kind[positions < 0] = ABSENT
            counts = np.bincount(kind, minlength=_KINDS)
        if counts[FLOAT] == size and self.num is not None:  # one kind: no sorting out
            return cast("list[Any]", self.num[positions].tolist())
        if counts[TEXT] == size and self.code is not None:
            return self._texts_at(self.code[positions] - 1)
        if counts[INT] == size and self.num is not None:
            return cast("list[Any]", self.num[positions].astype(np.int64).tolist())
        if kind is None:
            kind = self.kind[positions]
        out = np.empty(size, dtype=object)
        if counts[INT] and self.num is not None:
            at = np.flatnonzero(kind == INT)
            out[at] = self.num[positions[at]].astype(np.int64).tolist()
        if counts[FLOAT] and self.num is not None:
            at = np.flatnonzero(kind == FLOAT)
            out[at] = self.num[positions[at]].tolist()
        if counts[TEXT] and self.code is not None:
            at = np.flatnonzero(kind == TEXT)
            out[at] = self._texts_at(self.code[positions[at]] - 1)
        if counts[TRUE]:
            out[kind == TRUE] = True
        if counts[FALSE]:
            out[kind == FALSE] = False
        if counts[LIST] and self.list_at is not None:
            assert self.offsets is not None and self.elements is not None
            at = np.flatnonzero(kind == LIST)
            which = np.searchsorted(self.list_at, positions[at])
            starts, ends = self.offsets[which], self.offsets[which + 1]
            picked = np.concatenate(
                [np.arange(s, e, dtype=np.int64) for s, e in zip(starts, ends, strict=True)]
                or [np.empty(0, dtype=np.int64)]
            )
            items = self.elements.values_at(picked)
            begin = 0
            for j, size in zip(at.tolist(), (ends - starts).tolist(), strict=True):
                out[j] = items[begin : begin + size]
                begin += size
        if counts[OTHER] and self.other_at is not None and self.other is not None:
            at = np.flatnonzero(kind == OTHER)
            which = np.searchsorted(self.other_at, positions[at])
            for j, i in zip(at.tolist(), which.tolist(), strict=True):
                out[j] = copy.deepcopy(self.other[i])
        values: list[Any] = out.tolist()
        return values


def _python_bytes(value: Any) -> int:
    """About how many bytes a Python value holds (one level deep is enough for the estimate)."""
    size = sys.getsizeof(value)
    if isinstance(value, dict):
        size += sum(sys.getsizeof(k) + sys.getsizeof(v) for k, v in value.items())
    elif isinstance(value, list):
        size += sum(sys.getsizeof(v) for v in value)
    return size


def _absent(size: int, dictionary: _Dictionary) -> _Values:
    return _Values(np.zeros(size, dtype=np.int8), None, None, dictionary)


def _build(values: Sequence[Any], dictionary: _Dictionary, elements: _Dictionary | None) -> _Values:
    """Typed entries for ``values``.

    Lists go to the list part when ``elements`` is given (the top level), else to the other part
    (the elements of a list).
    """
    size = len(values)
    kinds = list(map(type, values))  # (counting one is cheaper than a set of them)
    if size and kinds.count(kinds[0]) == size:  # the usual column: one type, without a loop
        uniform = _build_uniform(kinds[0], values, dictionary)
        if uniform is not None:
            return uniform
    else:
        types = set(kinds)
        if types <= _PLAIN_NUMBERS or types == _PLAIN_TEXTS:  # nulls among numbers, or text
            mixed = _build_mixed(types, values, dictionary)
            if mixed is not None:
                return mixed
    kind = bytearray(size)
    num: list[float | int] | None = None
    text_at: list[int] = []
    texts: list[str] = []
    list_at: list[int] = []
    offsets = [0]
    items: list[Any] = []
    other_at: list[int] = []
    other: list[Any] = []
    for i, value in enumerate(values):
        t = type(value)
        if t is float:
            kind[i] = FLOAT
        elif t is str:
            if value.isascii() or _encodable(value):
                kind[i] = TEXT
                text_at.append(i)
                texts.append(value)
            else:
                kind[i] = OTHER
                other_at.append(i)
                other.append(value)
            continue
        elif t is int and -_EXACT_INT <= value <= _EXACT_INT:
            kind[i] = INT
        elif value is None:
            kind[i] = NULL
            continue
        elif t is bool:
            kind[i] = TRUE if value else FALSE
            continue
        elif t is list and elements is not None:
            kind[i] = LIST
            list_at.append(i)
            items.extend(value)
            offsets.append(len(items))
            continue
        else:
            kind[i] = OTHER
            other_at.append(i)
            other.append(copy.deepcopy(value))
            continue
        if num is None:
            num = [math.nan] * size
        num[i] = value
    built = _Values(
        np.frombuffer(kind, dtype=np.int8).copy(),
        None if num is None else np.array(num, dtype=np.float64),
        None,
        dictionary,
    )
    if texts:
        codes = dictionary.encode(texts)
        code = np.zeros(size, dtype=_code_type(dictionary.size))
        code[text_at] = codes + 1
        built.code = code
    if list_at:
        assert elements is not None
        built.list_at = np.array(list_at, dtype=np.int64)
        built.offsets = np.array(offsets, dtype=np.int64)
        built.elements = _build(items, elements, None)
    if other_at:
        built.other_at = np.array(other_at, dtype=np.int64)
        built.other = other
    return built


def _build_uniform(t: type, values: Sequence[Any], dictionary: _Dictionary) -> _Values | None:
    """:func:`_build` of values all of type ``t``, or None when a loop must decide."""
    size = len(values)
    if t is float or (t is int and min(values) >= -_EXACT_INT and max(values) <= _EXACT_INT):
        kind = np.full(size, FLOAT if t is float else INT, dtype=np.int8)
        return _Values(kind, np.fromiter(values, np.float64, size), None, dictionary)
    if t is str:
        codes = dictionary.known(values)  # every one already a code: encodable, none new
        if codes is None and all(map(str.isascii, values)):
            codes = dictionary.encode(values, ascii=True)
        if codes is not None:
            code = (codes + 1).astype(_code_type(dictionary.size))
            return _Values(np.full(size, TEXT, dtype=np.int8), None, code, dictionary)
    if t is type(None):
        return _Values(np.full(size, NULL, dtype=np.int8), None, None, dictionary)
    if t is bool:
        kind = np.where(np.array(values, dtype=bool), TRUE, FALSE).astype(np.int8)
        return _Values(kind, None, None, dictionary)
    return None


_PLAIN_NUMBERS = frozenset({int, float, type(None)})
_PLAIN_TEXTS = frozenset({str, type(None)})


def _build_mixed(
    types: set[type], values: Sequence[Any], dictionary: _Dictionary
) -> _Values | None:
    """:func:`_build` of nulls and numbers, or nulls and text, without a loop in Python.

    None when a loop must decide (an integer past ``2**53``, a string that is not ASCII).
    """
    size = len(values)
    if float in types or int in types:
        try:
            num = np.array(values, dtype=np.float64)  # None gives nan
        except OverflowError:
            return None
        kind = np.full(size, FLOAT if float in types else INT, dtype=np.int8)
        if int in types and float in types:
            ints = np.fromiter(map(operator.is_, map(type, values), itertools.repeat(int)), bool)
            kind[ints] = INT
        if int in types and bool((np.abs(num[kind == INT]) >= _EXACT_INT).any()):
            return None  # kept exactly by the loop
        gaps = np.flatnonzero(np.isnan(num))  # nulls, or a float nan
        if len(gaps):
            picked = map(values.__getitem__, gaps.tolist())
            nulls = np.fromiter(map(operator.is_, picked, itertools.repeat(None)), bool, len(gaps))
            kind[gaps[nulls]] = NULL
        return _Values(kind, num, None, dictionary)
    held = np.fromiter(map(operator.is_not, values, itertools.repeat(None)), bool, size)
    at = np.flatnonzero(held)
    texts = list(itertools.compress(values, held.tolist()))
    if not all(map(str.isascii, texts)):
        return None
    kind = np.full(size, NULL, dtype=np.int8)
    kind[at] = TEXT
    codes = dictionary.encode(texts)
    code = np.zeros(size, dtype=_code_type(dictionary.size))
    code[at] = codes + 1
    return _Values(kind, None, code, dictionary)


def _comparable(text: str) -> bool:
    """Whether numpy's string functions compare ``text`` right.

    Not when it holds a lone surrogate (StringDType cannot hold one) or a NUL (a ``str``
    operand loses its trailing NULs).

    >>> _comparable("WORLDVIEW03"), _comparable("x\\x00"), _comparable("x" + chr(0xDFFF))
    (True, False, False)
    """
    return "\x00" not in text and _encodable(text)


def _encodable(text: str) -> bool:
    """Whether numpy's strings can hold ``text`` (not when it holds a lone surrogate).

    >>> _encodable("WORLDVIEW03"), _encodable("x" + chr(0xDFFF))
    (True, False)
    """
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: StringDType cannot hold it
        return False
    return True


def _concat(parts: list[_Values], dictionary: _Dictionary) -> _Values:
    """The entries of ``parts`` one after the other (they share ``dictionary``)."""
    if len(parts) == 1:
        return parts[0]
    sizes = [len(part) for part in parts]
    kind = np.concatenate([part.kind for part in parts])
    num = code = None
    if any(part.num is not None for part in parts):
        num = np.concatenate(
            [
                p.num if p.num is not None else np.full(s, np.nan)
                for p, s in zip(parts, sizes, strict=True)
            ]
        )
    if any(part.code is not None for part in parts):
        code = np.concatenate(
            [
                p.code if p.code is not None else np.zeros(s, dtype=np.uint8)
                for p, s in zip(parts, sizes, strict=True)
            ]
        )
    joined = _Values(kind, num, code, dictionary)
    starts = np.cumsum([0, *sizes])
    lists = [(p, int(s)) for p, s in zip(parts, starts[:-1], strict=True) if p.list_at is not None]
    if lists:
        list_at, offsets, items = [], [np.zeros(1, dtype=np.int64)], []
        base = 0
        for part, start in lists:
            assert part.list_at is not None and part.offsets is not None
            assert part.elements is not None
            list_at.append(part.list_at + start)
            offsets.append(part.offsets[1:] + base)
            items.append(part.elements)
            base += int(part.offsets[-1])
        joined.list_at = np.concatenate(list_at)
        joined.offsets = np.concatenate(offsets)
        joined.elements = _concat(items, items[0].dictionary)
    others = [
        (p, int(s)) for p, s in zip(parts, starts[:-1], strict=True) if p.other_at is not None
    ]
    if others:
        joined.other_at = np.concatenate([p.other_at + s for p, s in others])  # type: ignore[operator]
        joined.other = [value for p, _ in others for value in (p.other or ())]
    return joined


@dataclass(slots=True)
class _Column:
    """One property's entries.

    One per row of the table (``rows`` None), or one per row in ``rows`` (ascending) when fewer
    than half the rows have the property.
    """

    values: _Values
    rows: Indices | None
    elements: _Dictionary  # the dictionary of its lists' elements

    def position(self, row: int) -> int:
        """The entry of a row that has one."""
        return row if self.rows is None else self.rows.searchsorted(row).item()

    def positions(self, rows: Indices) -> Indices:
        """Each row's entry (-1 where the row has no entry)."""
        if self.rows is None:
            return rows
        found = np.searchsorted(self.rows, rows)
        found[found >= len(self.rows)] = 0
        hit = self.rows[found] == rows if len(self.rows) else np.zeros(len(rows), dtype=bool)
        return np.where(hit, found, -1)


class _ColumnReader:
    """Reads one column of a snapshot back into Python values (made once per snapshot).

    Every entry read is one a row *has* (a row is read through the keys of its shape), so an
    absent entry is never asked for: a column whose entries are all of one kind, absent ones
    aside (the usual column), is read without looking at the kinds. ``one(row)`` reads one
    row's value with a few scalar calls; :meth:`many` reads many rows' with a few numpy calls.
    """

    __slots__ = ("_at", "_column", "_longs", "_single", "_strings", "one")

    def __init__(self, column: _Column) -> None:
        self._column = column
        values = column.values
        kinds = np.flatnonzero(values.counts()[1:]) + 1  # ABSENT aside
        self._single = int(kinds[0]) if len(kinds) == 1 else None
        self._strings = None if values.code is None else values.dictionary.listed()
        self._longs: bool | None = None  # whether every string is long, or none is (None: some)
        if values.code is not None and self._strings is None:
            is_long = values.dictionary.view()[1]
            self._longs = True if is_long.all() else False if not is_long.any() else None
        at = self._at = self.entry_reader()
        rows = column.rows
        if rows is None:
            self.one: Callable[[int], Any] = at
        else:
            search: Callable[[int], Any] = rows.searchsorted  # a numpy integer: an index
            self.one = lambda row: at(search(row))

    def entry_reader(self) -> Callable[[int], Any]:
        """Reads the value of one entry (by position in the column), with no kind test if it can."""
        values, single = self._column.values, self._single
        if single == FLOAT:
            return cast("NDArray[np.float64]", values.num).item
        if single == INT:
            number = cast("NDArray[np.float64]", values.num).item
            return lambda position: int(number(position))
        if single in _CONSTANTS:
            constant = _CONSTANTS[single]
            return lambda position: constant
        if single == TEXT:
            return self._text_reader()
        return values.value_at

    def _text_reader(self) -> Callable[[int], Any]:
        values = self._column.values
        code = cast("NDArray[Any]", values.code).item
        strings = self._strings
        if strings is not None:
            listed = strings
            return lambda position: listed[code(position)]
        dictionary = values.dictionary
        array, is_long = dictionary.view()  # every string the snapshot's codes stand for
        string, long, text = array.item, is_long.item, dictionary.long_text
        if self._longs is False:  # no long strings
            return lambda position: string(code(position) - 1)
        if self._longs:  # only long ones (footprints' WKT)
            return lambda position: text(code(position) - 1)

        def read(position: int) -> Any:
            at = code(position) - 1
            return text(at) if long(at) else string(at)

        return read

    def text(self, row: int) -> str | None:
        """One row's string, or None when the row has no entry or its entry is no text."""
        column = self._column
        values, rows = column.values, column.rows
        position = row
        if rows is not None:
            position = int(rows.searchsorted(row))
            if position >= len(rows) or rows.item(position) != row:
                return None
        if values.kind.item(position) != TEXT:
            return None
        return cast("str", (self._at if self._single == TEXT else values.value_at)(position))

    def many(self, rows: Indices) -> list[Any]:
        """The values of these rows (each has an entry), in their order."""
        column = self._column
        values, single = column.values, self._single
        positions = rows if column.rows is None else column.rows.searchsorted(rows)
        if single == FLOAT:
            return cast("list[Any]", cast("NDArray[Any]", values.num)[positions].tolist())
        if single == INT:
            numbers = cast("NDArray[Any]", values.num)[positions]
            return cast("list[Any]", numbers.astype(np.int64).tolist())
        if single == TEXT:
            codes = cast("NDArray[Any]", values.code)[positions]
            if self._strings is not None:
                return list(map(self._strings.__getitem__, codes.tolist()))
            at = codes.astype(np.int64) - 1
            if self._longs is False:
                return list(map(values.dictionary.view()[0].item, at.tolist()))
            if self._longs:
                return values.dictionary.long_texts(at)
            return values._texts_at(at)
        if single in _CONSTANTS:
            return [_CONSTANTS[single]] * len(rows)
        return values.values_at(positions)


@dataclass(frozen=True, slots=True)
class _Reading:
    """What reads rows of one snapshot: a reader per column, and per shape its keys' readers."""

    now: _Settled
    columns: dict[str, _ColumnReader]  # made when first read
    shapes: dict[int, tuple[tuple[str, ...], tuple[Callable[[int], Any], ...]]]

    def column(self, name: str) -> _ColumnReader:
        """The reader of column ``name`` (one the snapshot has)."""
        reader = self.columns.get(name)
        if reader is None:
            reader = self.columns[name] = _ColumnReader(self.now.columns[name])
        return reader


class PropertyColumns:
    """A table of records' properties, one row per record, held as typed columns.

    See the module docstring for the layout. Rows are added with :meth:`append` and read back
    exactly with :meth:`row` and :meth:`rows`; :meth:`take` makes a table of some rows.

    >>> columns = PropertyColumns()
    >>> columns.append([{"a": 1, "b": "x"}, {"b": "y", "a": 2.0}])
    range(0, 2)
    >>> columns.row(1), len(columns)
    ({'b': 'y', 'a': 2.0}, 2)
    """

    _FOLD_ROWS = 65_536
    """Appended rows are folded in once they are this many and as many as the settled ones."""

    def __init__(self) -> None:
        self._size = 0
        self._now = _Settled(0, {}, np.empty(0, dtype=np.int32))  # appended rows wait in _pending
        self._dictionaries: dict[str, tuple[_Dictionary, _Dictionary]] = {}
        self._pending: dict[str, list[tuple[Indices, _Values]]] = {}
        self._shapes: list[tuple[str, ...]] = []
        self._shape_index: dict[tuple[str, ...], int] = {}
        self._pending_shapes: list[NDArray[np.int32]] = []
        self._lock = threading.Lock()  # appends and the folding of them into the columns

    def __len__(self) -> int:
        return self._size

    def append(self, batch: Sequence[Mapping[str, Any]]) -> range:
        """Add rows: records' properties as JSON values (copied); return their row numbers.

        Args:
            batch: The properties of each record, in order.

        Returns:
            The row numbers the batch's records got.

        >>> columns = PropertyColumns()
        >>> columns.append([{}, {"a": None}]), columns.append([{"a": [1]}])
        (range(0, 2), range(2, 3))
        """
        with self._lock:
            return self._append(batch)

    def _append(self, batch: Sequence[Mapping[str, Any]]) -> range:
        start = self._size
        shape_index, shapes = self._shape_index, self._shapes
        tuples = list(map(tuple, batch))
        codes = list(map(shape_index.get, tuples))  # each row's shape (None: new)
        if None in codes:
            for i, keys in enumerate(tuples):
                if codes[i] is None:
                    code = shape_index.get(keys)
                    if code is None:
                        code = shape_index[keys] = len(shapes)
                        shapes.append(keys)
                    codes[i] = code
        shape_codes = np.array(codes, dtype=np.int32)
        groups: list[tuple[Indices, list[Mapping[str, Any]] | Sequence[Mapping[str, Any]]]] = []
        if len(batch) and int(shape_codes.min()) == int(shape_codes.max()):  # one shape
            groups.append((np.arange(start, start + len(batch), dtype=np.int64), batch))
        elif len(batch):
            order = np.argsort(shape_codes, kind="stable")
            cuts = np.flatnonzero(np.diff(shape_codes[order])) + 1
            for at in np.split(order, cuts):
                groups.append((at + start, [batch[i] for i in at.tolist()]))
        by_name: dict[str, tuple[list[Indices], list[Sequence[Any]]]] = {}
        for rows, members in groups:  # each group's columns, by one transpose
            keys = shapes[shape_codes.item(int(rows[0]) - start)]
            if not keys:
                continue
            if len(keys) == 1:
                (only,) = keys
                columns: Iterable[Sequence[Any]] = [[props[only] for props in members]]
            else:
                read: Callable[[Mapping[str, Any]], Any] = operator.itemgetter(*keys)
                columns = zip(*map(read, members), strict=True)
            for name, values in zip(keys, columns, strict=True):
                entry = by_name.get(name)
                if entry is None:
                    by_name[name] = ([rows], [values])
                else:
                    entry[0].append(rows)
                    entry[1].append(values)
        chunks = []
        for name, (parts_rows, parts) in by_name.items():  # rows ascending within each group
            dictionaries = self._dictionaries.get(name)
            if dictionaries is None:
                dictionaries = self._dictionaries[name] = (_Dictionary(), _Dictionary())
            if len(parts) == 1:
                at, values = parts_rows[0], parts[0]
            else:
                at, values = np.concatenate(parts_rows), list(itertools.chain.from_iterable(parts))
            chunks.append((name, at, _build(values, *dictionaries)))
        for name, at, built in chunks:  # nothing raises past here: a batch goes in whole
            self._pending.setdefault(name, []).append((at, built))
        self._pending_shapes.append(shape_codes)
        self._size = start + len(batch)
        settled = self._now.size
        if self._size - settled >= max(self._FOLD_ROWS, settled):  # folds double: O(rows) in all
            self._now = self._fold(self._now)
        return range(start, self._size)

    def _settle(self) -> _Settled:
        """The columns, with the appended rows folded in (when first read, if not yet).

        Readers work on the snapshot this returns: an append (or a fold) in another thread
        replaces the snapshot, never changes one.
        """
        now = self._now
        if now.size == self._size:
            return now
        with self._lock:
            if self._now.size != self._size:
                self._now = self._fold(self._now)
            return self._now

    def _fold(self, now: _Settled) -> _Settled:
        size, settled = self._size, now.size
        shape_codes = np.concatenate([now.shape_codes, *self._pending_shapes])
        self._pending_shapes = []
        for dictionaries in self._dictionaries.values():
            for dictionary in dictionaries:
                dictionary.strings  # noqa: B018 - the new strings into the StringDType array
        columns = dict(now.columns)
        for name in [*columns, *(n for n in self._pending if n not in columns)]:
            column = columns.get(name)
            chunks = self._pending.pop(name, [])
            dictionary, elements = self._dictionaries[name]
            dense = column is not None and column.rows is None
            if dense or (column is None and 2 * sum(len(r) for r, _ in chunks) >= size):
                placed = _placed(None if column is None else column.values, chunks, size)
                if placed is not None:  # the new entries written in place: one pass
                    columns[name] = _Column(placed, None, elements)
                    continue
            if column is not None and column.rows is None:  # dense: extended as it is
                added = _absent(size - settled, dictionary)
                if chunks:
                    at = np.concatenate([r for r, _ in chunks]) - settled
                    positions = np.full(size - settled, -1, dtype=np.int64)
                    positions[at] = np.arange(len(at), dtype=np.int64)
                    added = _concat([c for _, c in chunks], dictionary).take(positions)
                values = _concat([column.values, added], dictionary)
                columns[name] = _Column(values, None, elements)
                continue
            rows: list[Indices] = []
            parts: list[_Values] = []
            if column is not None:
                rows.append(cast("Indices", column.rows))
                parts.append(column.values)
            for chunk_rows, chunk in chunks:
                rows.append(chunk_rows)
                parts.append(chunk)
            columns[name] = _settled_column(
                np.concatenate(rows), _concat(parts, dictionary), size, elements
            )
        return _Settled(size, columns, shape_codes)

    def row(self, i: int) -> dict[str, Any]:
        """The properties of row ``i``, exactly as appended (keys, their order, values, types).

        >>> columns = PropertyColumns()
        >>> _ = columns.append([{"z": -0.0, "a": [1, "x", 2**70]}])
        >>> columns.row(0)
        {'z': -0.0, 'a': [1, 'x', 1180591620717411303424]}
        """
        size = self._settle().size
        if not -size <= i < size:
            raise IndexError(f"row {i} of a table of {size} rows")
        return self.rows([i % size])[0]

    def rows(
        self,
        indices: Iterable[int] | Indices,
        known: Mapping[str, Mapping[int, Any]] | None = None,
    ) -> list[dict[str, Any]]:
        """The properties of many rows, in the order given (new objects, equal to those appended).

        A row of a shape few rows of the page have is read a value at a time (a scalar read
        per key); the rows of a shape many have, a column at a time.

        Args:
            indices: The row numbers.
            known: Values of some rows read already (by :meth:`texts`, say): property name to
                row to value, each the value that row holds (an immutable one: it is used as
                it is, not copied). Those are not read again (a footprint's long text is the
                costliest value of a row to read).

        Returns:
            Each row's properties, in the order given.

        >>> columns = PropertyColumns()
        >>> _ = columns.append([{"a": 1}, {"a": 2, "b": True}])
        >>> columns.rows([1, 0])
        [{'a': 2, 'b': True}, {'a': 1}]
        >>> columns.rows([1, 0], known={"b": {1: True}})
        [{'a': 2, 'b': True}, {'a': 1}]
        """
        wanted = indices.tolist() if isinstance(indices, np.ndarray) else list(indices)
        if not wanted:
            return []
        now = self._settle()
        reading = self._reading(now)
        size = now.size
        if min(wanted) < 0 or max(wanted) >= size:
            raise IndexError(f"a row number past the table's {size} rows")
        shape_of = now.shape_codes.item
        shapes = reading.shapes
        if len(wanted) <= _FEW_ROWS:  # a value at a time
            out = []
            for row in wanted:
                code = shape_of(row)
                keys, ones = shapes.get(code) or self._shape_readers(reading, code)
                if known:
                    ones = _known_first(keys, ones, known, row)
                out.append(dict(zip(keys, [one(row) for one in ones], strict=True)))
            return out
        at = np.asarray(wanted, dtype=np.int64)
        codes = now.shape_codes[at]
        order = np.argsort(codes, kind="stable")  # the page's rows grouped by shape
        cuts = (np.flatnonzero(np.diff(codes[order])) + 1).tolist()
        made: list[dict[str, Any]] = [{}] * len(wanted)
        for js in np.split(order, cuts):
            code = int(codes[js[0]])
            keys, ones = shapes.get(code) or self._shape_readers(reading, code)
            positions = js.tolist()
            if len(positions) <= _FEW_ROWS:
                for j in positions:
                    row = wanted[j]
                    readers = _known_first(keys, ones, known, row) if known else ones
                    made[j] = dict(zip(keys, [one(row) for one in readers], strict=True))
                continue
            group = at[js]
            columns = [reading.column(name).many(group) for name in keys]
            if not keys:
                for j in positions:
                    made[j] = {}
                continue
            for j, values in zip(positions, zip(*columns, strict=True), strict=True):
                made[j] = dict(zip(keys, values, strict=True))
        return made

    _read: _Reading | None = None  # the readers of the last snapshot read

    def _reading(self, now: _Settled) -> _Reading:
        """The readers of snapshot ``now`` (made once per snapshot, each column's when first read).

        Readers in several threads may make the same reader twice; either is right.
        """
        reading = self._read
        if reading is None or reading.now is not now:
            reading = self._read = _Reading(now, {}, {})
        return reading

    def _shape_readers(
        self, reading: _Reading, code: int
    ) -> tuple[tuple[str, ...], tuple[Callable[[int], Any], ...]]:
        """The keys of shape ``code`` and their columns' one-row readers."""
        keys = self._shapes[code]
        shape = reading.shapes[code] = (keys, tuple(reading.column(k).one for k in keys))
        return shape

    def texts(self, name: str, indices: Iterable[int] | Indices) -> list[str | None]:
        """One column's text for some rows, in the order given (None where not held as text).

        A row without the property, or whose value is not a string (or is one the columns
        keep as a Python value: a lone surrogate), gives None. Cheaper than :meth:`rows` when
        one property is wanted (the memory store reads footprints' WKT this way).

        Args:
            name: The property (a top-level key: no dotted path).
            indices: The row numbers.

        Returns:
            Each row's string, or None.

        >>> columns = PropertyColumns()
        >>> _ = columns.append([{"w": "POINT (1 2)"}, {"w": 3}, {}, {"w": "x" * 300}])
        >>> [t if t is None else t[:11] for t in columns.texts("w", [3, 0, 1, 2])]
        ['xxxxxxxxxxx', 'POINT (1 2)', None, None]
        """
        now = self._settle()
        few = indices.tolist() if isinstance(indices, np.ndarray) else list(indices)
        if few and (min(few) < 0 or max(few) >= now.size):
            raise IndexError(f"a row number past the table's {now.size} rows")
        out: list[str | None] = [None] * len(few)
        column = now.columns.get(name)
        values = None if column is None else column.values
        if column is None or values is None or values.code is None or not few:
            return out
        if len(few) <= _FEW_ROWS:  # a value at a time
            text = self._reading(now).column(name).text
            return [text(row) for row in few]
        wanted = np.asarray(few, dtype=np.int64)
        positions = column.positions(wanted)
        kind = values.kind[positions]
        kind[positions < 0] = ABSENT
        at = np.flatnonzero(kind == TEXT)
        if len(at):
            found = values._texts_at(values.code[positions[at]].astype(np.int64) - 1)
            for j, text in zip(at.tolist(), found, strict=True):
                out[j] = text
        return out

    def take(self, indices: Indices | Sequence[int]) -> PropertyColumns:
        """A new table of the rows at ``indices``, in that order (dictionaries are shared).

        >>> columns = PropertyColumns()
        >>> _ = columns.append([{"a": 1}, {"b": "x"}])
        >>> columns.take(np.array([1, 1, 0])).rows(range(3))
        [{'b': 'x'}, {'b': 'x'}, {'a': 1}]
        """
        return self._subset(None, np.asarray(indices, dtype=np.int64).reshape(-1))

    def _subset(self, names: Iterable[str] | None, indices: Indices) -> PropertyColumns:
        """:meth:`take`, of the columns ``names`` only (None: all)."""
        out = PropertyColumns()
        taken = self._taken(names, indices, shapes=True)
        with self._lock:  # what appends change
            out._shapes = list(self._shapes)
            out._shape_index = dict(self._shape_index)
            out._dictionaries = dict(self._dictionaries)
        out._size = taken.size
        out._now = taken
        return out

    def _taken(self, names: Iterable[str] | None, indices: Indices, shapes: bool) -> _Settled:
        """The columns ``names`` (None: all) of the rows at ``indices``, as a snapshot."""
        now = self._settle()
        if len(indices) and (indices.min() < 0 or indices.max() >= now.size):
            raise IndexError(f"a row number past the table's {now.size} rows")
        columns: dict[str, _Column] = {}
        for name in now.columns if names is None else names:
            column = now.columns.get(name)
            if column is None:
                continue
            positions = column.positions(indices)
            if column.rows is None:
                columns[name] = _Column(column.values.take(positions), None, column.elements)
            else:
                rows = np.flatnonzero(positions >= 0)
                columns[name] = _settled_column(
                    rows, column.values.take(positions[rows]), len(indices), column.elements
                )
        codes = now.shape_codes[indices] if shapes else now.shape_codes[:0]
        return _Settled(len(indices), columns, codes)

    def nbytes(self) -> int:
        """About how many bytes the table holds (its arrays, dictionaries and Python values).

        >>> columns = PropertyColumns()
        >>> _ = columns.append([{"a": 1.5}] * 100)
        >>> 900 <= columns.nbytes() < 2000
        True
        """
        now = self._settle()
        held = now.shape_codes.nbytes + sum(sys.getsizeof(s) for s in list(self._shapes))
        counted: set[int] = set()
        for column in now.columns.values():
            held += column.values.nbytes()
            held += 0 if column.rows is None else column.rows.nbytes
            for dictionary in (column.values.dictionary, column.elements):
                if id(dictionary) not in counted:
                    counted.add(id(dictionary))
                    held += dictionary.nbytes()
        read = self._read  # the readers' lists of small dictionaries' strings (pointers)
        if read is not None:
            listed = [reader._strings for reader in list(read.columns.values())]
            held += sum(sys.getsizeof(strings) for strings in listed if strings is not None)
        return held


def _known_first(
    keys: tuple[str, ...],
    ones: tuple[Callable[[int], Any], ...],
    known: Mapping[str, Mapping[int, Any]],
    row: int,
) -> tuple[Callable[[int], Any], ...]:
    """A row's readers, those of the keys whose value for ``row`` is known replaced by it."""
    replaced: list[Callable[[int], Any]] | None = None
    for name, values in known.items():
        if row in values and name in keys:
            if replaced is None:
                replaced = list(ones)
            replaced[keys.index(name)] = _constant(values[row])
    return ones if replaced is None else tuple(replaced)


def _constant(value: Any) -> Callable[[int], Any]:
    return lambda row: value


@dataclass(frozen=True, slots=True)
class _Settled:
    """A table's columns as of its first ``size`` rows (replaced whole, never changed)."""

    size: int
    columns: Mapping[str, _Column]
    shape_codes: NDArray[np.int32]


def _placed(
    old: _Values | None, chunks: list[tuple[Indices, _Values]], size: int
) -> _Values | None:
    """Dense entries for ``size`` rows: ``old``'s first, then each chunk's at its rows.

    The rows no entry is given for are absent. None when a part holds lists or Python values
    (then :func:`_concat` and :meth:`_Values.take` do it).
    """
    parts = [part for _, part in chunks] + ([] if old is None else [old])
    if not parts or any(p.list_at is not None or p.other_at is not None for p in parts):
        return None
    dictionary = parts[0].dictionary
    settled = 0 if old is None else len(old)
    kind = np.zeros(size, dtype=np.int8)  # ABSENT
    num = code = None
    if any(part.num is not None for part in parts):
        num = np.full(size, np.nan)
    codes = [part.code.dtype for part in parts if part.code is not None]
    if codes:
        code = np.zeros(size, dtype=np.result_type(*codes))
    if old is not None:
        kind[:settled] = old.kind
        if num is not None and old.num is not None:
            num[:settled] = old.num
        if code is not None and old.code is not None:
            code[:settled] = old.code
    for rows, part in chunks:
        kind[rows] = part.kind
        if num is not None and part.num is not None:
            num[rows] = part.num
        if code is not None and part.code is not None:
            code[rows] = part.code
    return _Values(kind, num, code, dictionary)


def _settled_column(rows: Indices, values: _Values, size: int, elements: _Dictionary) -> _Column:
    """A column of ``values`` at ``rows`` of a table of ``size`` rows.

    Dense when at least half the rows have an entry, else sparse.
    """
    if 2 * len(rows) >= size:
        positions = np.full(size, -1, dtype=np.int64)
        positions[rows] = np.arange(len(rows), dtype=np.int64)
        return _Column(values.take(positions), None, elements)
    if len(rows) > 1 and bool((rows[1:] < rows[:-1]).any()):
        order = np.argsort(rows, kind="stable")
        rows, values = rows[order], values.take(order)
    return _Column(values, rows.astype(np.int64, copy=False), elements)


# --------------------------------------------------------------------------------------------
# Evaluation


def _number_test(op: Op, number: int | float) -> tuple[Any, float] | bool:
    """How float64 values compare with ``number`` exactly as Python compares them.

    A ufunc and a float, or a constant (True: every number compares true; False: none does):
    an integer that no float equals is replaced by the float below or above it.
    """
    if type(number) is float:
        return _UFUNCS[op], number
    try:
        near = float(number)
    except OverflowError:
        near = math.inf if number > 0 else -math.inf
    if near == number:
        return _UFUNCS[op], near
    if op is Op.EQ:
        return False
    if op is Op.NE:
        return True
    if near < number:
        below, above = near, math.nextafter(near, math.inf)
    else:
        below, above = math.nextafter(near, -math.inf), near
    if op in (Op.LT, Op.LE):
        return np.less_equal, below
    return np.greater_equal, above


class _Leaf:
    """One comparison or match, compiled: its masks over a column's entries."""

    def __init__(self, node: Comparison | Match, declared: PropertyType | None) -> None:
        self.node = node
        self.name = node.property
        self.scalar = _leaf_scalar(node, declared)  # the other part's comparator
        self.domains = value_domains(self.name, declared)
        self.first = self.name.split(".", 1)[0] if "." in self.name else None
        self.getter = property_getter(self.name) if self.first else None
        self.number: tuple[Any, float] | bool | None = None
        self.operands: Operands | None = None
        self.op = node.op if isinstance(node, Comparison) else Op.EQ
        if isinstance(node, Comparison):
            self.operands = comparison_operands(self.name, node.op, node.value, declared)
            if self.operands.number is not None:
                self.number = _number_test(node.op, self.operands.number)
        self.matches = pattern_matcher(node.pattern) if isinstance(node, Match) else _never
        self.numbers_match = isinstance(node, Match) and (
            int in self.domains and may_match_a_number(node.pattern)
        )

    # ---- the polarity flip of a match: where the leaf is true, or false, given the match

    def _flip(self, matched: Bools, positive: bool) -> Bools:
        assert isinstance(self.node, Match)
        return matched if positive != self.node.negated else ~matched

    def masks(self, values: _Values, positive: bool) -> Bools:
        """Where each entry makes the leaf true (``positive``) or false: a fresh array."""
        counts = values.counts()
        parts: list[Bools] = []  # fresh arrays, each the answer of one kind of entry
        numbers = int(counts[INT] + counts[FLOAT])
        if numbers and values.num is not None:
            part = self._numbers(values, values.num, positive, numbers == len(values))
            if part is not None:
                parts.append(part)
        if counts[TEXT] and values.code is not None:
            part = self._text_masks(values, values.code, positive)
            if part is not None:
                parts.append(part)
        if counts[TRUE] or counts[FALSE]:
            for kind, value in ((TRUE, True), (FALSE, False)):
                if counts[kind] and self._boolean(value) is positive:
                    parts.append(values.kind == kind)
        out = parts[0] if parts else np.zeros(len(values), dtype=bool)
        for part in parts[1:]:
            out |= part
        if counts[LIST] and values.list_at is not None:
            assert values.offsets is not None and values.elements is not None
            hits = self.masks(values.elements, positive)  # elements hold no lists: one level
            seen = np.zeros(len(hits) + 1, dtype=np.int64)
            np.cumsum(hits, out=seen[1:])
            offsets = values.offsets
            found = seen[offsets[1:]] - seen[offsets[:-1]]
            # any element true; or (false polarity) every element false, an empty list too
            out[values.list_at] = found > 0 if positive else found == np.diff(offsets)
        if counts[OTHER] and values.other_at is not None and values.other is not None:
            scalar = self.scalar
            at = [
                i
                for i, v in zip(values.other_at.tolist(), values.other, strict=True)
                if scalar(v) is positive
            ]
            out[at] = True
        return out

    def _numbers(
        self, values: _Values, num: NDArray[np.float64], positive: bool, only: bool
    ) -> Bools | None:
        """Where the number entries make the leaf true or false; None: nowhere."""
        kind = values.kind

        def is_number() -> Bools:
            return cast("Bools", (kind == INT) | (kind == FLOAT))

        if isinstance(self.node, Match):
            if int not in self.domains:
                return None
            return self._flip(self._number_matches(values, num), positive) & is_number()
        test = self.number
        if test is None:
            return None
        if isinstance(test, bool):
            return is_number() if test is positive else None
        ufunc, literal = test
        hit: Bools = ufunc(num, literal)
        if positive:
            # nan (where there is no number) compares false, except with <>
            return hit if only or self.op is not Op.NE else hit & is_number()
        return ~hit if only else ~hit & is_number()

    def _number_matches(self, values: _Values, num: NDArray[np.float64]) -> Bools:
        """Whether each number's text form matches the pattern (once per distinct number)."""
        matched = np.zeros(len(values), dtype=bool)
        if not self.numbers_match:
            return matched
        for kind, convert in ((INT, int), (FLOAT, float)):
            at = np.flatnonzero(values.kind == kind)
            if not len(at):
                continue
            bits, inverse = np.unique(num[at].view(np.int64), return_inverse=True)
            distinct = bits.view(np.float64).tolist()
            found = [self.matches(text_form(convert(v)) or "") for v in distinct]
            matched[at] = np.array(found, dtype=bool)[inverse.reshape(-1)]
        return matched

    def _text_masks(
        self, values: _Values, code: NDArray[np.unsignedinteger[Any]], positive: bool
    ) -> Bools | None:
        """Where the text entries make the leaf true or false; None: nowhere.

        The dictionary is shared by every column and can hold millions of strings: for a few
        rows (a search's candidates) only the strings they hold are compared, else every
        string once and the answers looked up by code.
        """
        dictionary = values.dictionary
        if len(code) * _FEW_ROWS_SHARE < dictionary.size:
            present = np.flatnonzero(code)
            distinct, inverse = np.unique(code[present], return_inverse=True)
            lut = self._texts(dictionary, positive, distinct.astype(np.int64) - 1)
            if lut is None:
                return None
            out = np.zeros(len(code), dtype=bool)
            out[present] = lut[inverse.reshape(-1)]
            return out
        lut = self._texts(dictionary, positive)
        return None if lut is None else _look_up(lut, code)

    def _texts(
        self, dictionary: _Dictionary, positive: bool, entries: Indices | None = None
    ) -> Bools | None:
        """Per dictionary entry: whether it makes the leaf true (or false); None: never.

        With ``entries``, per one of those entries only, in their order.
        """
        strings, is_long = dictionary.view()
        if entries is not None:
            strings, is_long = strings[entries], is_long[entries]
        if isinstance(self.node, Match):
            if str not in self.domains:
                return None
            pieces = [part for part in self.node.pattern if isinstance(part, str)]
            if all(map(_comparable, pieces)):
                matched = _pattern_lut(self.node, strings, self.matches)
            else:  # a lone surrogate or a NUL: one string at a time
                matched = _each_string(strings, self.matches)
            dictionary.patch(matched, is_long, self.matches, entries)
            return self._flip(matched, positive)
        operands = self.operands
        assert operands is not None
        ufunc = _UFUNCS[self.op]
        if operands.text is not None:
            text, compare = operands.text, OPERATORS[self.op]
            if _comparable(text):
                hit = ufunc(strings, text)
            else:  # a lone surrogate or a NUL: one string at a time
                hit = _each_string(strings, lambda value: compare(value, text))
            dictionary.patch(hit, is_long, lambda value: compare(value, text), entries)
            return cast("Bools", hit if positive else ~hit)
        if operands.instant is not None:
            keys, valid = dictionary.instants()  # computed once per string, kept
            if entries is not None:
                keys, valid = keys[entries], valid[entries]
            hit = ufunc(keys, operands.instant)
            return cast("Bools", valid & (hit if positive else ~hit))
        return None

    def _boolean(self, value: bool) -> bool | None:
        """What a boolean value makes the leaf: True, False, or None (unknown)."""
        if isinstance(self.node, Match):
            if bool not in self.domains:
                return None
            return self.matches("true" if value else "false") != self.node.negated
        assert self.operands is not None
        if self.operands.boolean is None:
            return None
        return bool(OPERATORS[self.op](value, self.operands.boolean))

    def evaluate(self, table: _Settled, positive: bool) -> Bools:
        """Where the leaf is true (``positive``) or false, for every row of ``table``."""
        size = table.size
        column = table.columns.get(self.name)
        if column is None:
            out = np.zeros(size, dtype=bool)
        elif column.rows is None:
            out = self.masks(column.values, positive)
        else:
            out = np.zeros(size, dtype=bool)
            out[column.rows] = self.masks(column.values, positive)
        if self.first is not None:
            self._paths(table, column, positive, out)
        return out

    def _paths(self, table: _Settled, column: _Column | None, positive: bool, out: Bools) -> None:
        """A dotted name read through nested objects, where no key is the whole name."""
        assert self.first is not None and self.getter is not None
        outer = table.columns.get(self.first)
        if outer is None or outer.values.other_at is None or outer.values.other is None:
            return
        test = _value_test(self.scalar, positive)
        getter, first = self.getter, self.first
        at = outer.values.other_at
        rows = at if outer.rows is None else outer.rows[at]
        own = np.zeros(0, dtype=np.int64) if column is None else column.rows
        for row, value in zip(rows.tolist(), outer.values.other, strict=True):
            if type(value) is not dict:
                continue
            if column is not None and _has_entry(column, row, own):
                continue  # the whole name is a key of this row: it decides
            if test(getter({first: value})):
                out[row] = True


def _each_string(strings: NDArray[Any], test: Callable[[str], Any]) -> Bools:
    """``test`` of each string, in Python (``""`` stands for a long one: patched after)."""
    return np.fromiter(map(test, strings.tolist()), dtype=bool, count=len(strings))


def _look_up(lut: Bools, code: NDArray[np.unsignedinteger[Any]]) -> Bools | None:
    """``lut[code - 1]`` where ``code`` is not 0, else False; None where it is False everywhere.

    A few codes (the usual case: ``sensorPlatformName = WORLDVIEW03*`` holds for two strings)
    are compared one by one, which is several times faster than a gather.
    """
    top = np.iinfo(code.dtype).max  # codes past it are strings of other columns' rows
    hits = np.flatnonzero(lut[:top]) + 1
    if not len(hits):
        return None
    if len(hits) <= 4:
        found: Bools = code == int(hits[0])
        for hit in hits[1:].tolist():
            found |= code == hit
        return found
    misses = np.flatnonzero(~lut[:top]) + 1
    if len(misses) <= 2:
        found = code != 0
        for miss in misses.tolist():
            found &= code != miss
        return found
    return np.take(np.concatenate([np.zeros(1, dtype=bool), lut[:top]]), code)


def _never(text: str) -> bool:
    return False


def _has_entry(column: _Column, row: int, rows: Indices | None) -> bool:
    if rows is None:
        return bool(column.values.kind[row] != ABSENT)
    found = int(np.searchsorted(rows, row))
    return found < len(rows) and int(rows[found]) == row


def _pattern_lut(node: Match, strings: NDArray[Any], matches: Callable[[str], bool]) -> Bools:
    """Whether each string matches the pattern.

    numpy's string functions for the common shapes, else
    :func:`~catalogql.semantics.pattern_matcher` once per string.
    """
    parts = node.pattern
    texts = [part for part in parts if isinstance(part, str)]
    shape = tuple("*" if p is Wildcard.ANY else "_" if p is Wildcard.ONE else "t" for p in parts)
    if shape == ("*",):
        return np.ones(len(strings), dtype=bool)
    if shape == ("t", "*"):
        return np.strings.startswith(strings, texts[0])
    if shape == ("*", "t"):
        return np.strings.endswith(strings, texts[0])
    if shape == ("*", "t", "*"):
        return np.strings.find(strings, texts[0]) >= 0
    if shape == ("t", "*", "t"):
        head, tail = texts
        return (
            (np.strings.str_len(strings) >= len(head) + len(tail))
            & np.strings.startswith(strings, head)
            & np.strings.endswith(strings, tail)
        )
    return np.fromiter((matches(s) for s in strings.tolist()), dtype=bool, count=len(strings))


_AND, _OR = -1, -2  # program steps besides leaves: (_AND or _OR, how many masks they join)


class ColumnarPredicate:
    """A compiled filter: called on a :class:`PropertyColumns`, where the filter selects.

    Attributes:
        leaves: The compiled comparisons, in the program's order.
        program: The postfix program: ``(i, positive)`` evaluates leaf ``i`` in that polarity;
            ``(_AND, k)`` / ``(_OR, k)`` joins the last ``k`` masks.
    """

    def __init__(self, leaves: list[_Leaf], program: list[tuple[int, int]]) -> None:
        self.leaves = leaves
        self.program = program
        self.names = tuple(
            dict.fromkeys(n for leaf in leaves for n in (leaf.name, leaf.first) if n is not None)
        )

    def __call__(self, columns: PropertyColumns, rows: Indices | None = None) -> Bools:
        """One boolean per row of ``columns`` (or per row of ``rows``, in that order).

        Args:
            columns: The table.
            rows: Row numbers to answer for (None: every row).

        Returns:
            True where the filter is definitely true.

        >>> from catalogql import parse_filter
        >>> table = PropertyColumns()
        >>> _ = table.append([{"a": 1}, {"a": 5}, {"a": 9}])
        >>> compile_columnar(parse_filter("a > 2"))(table, np.array([2, 0])).tolist()
        [True, False]
        """
        if rows is None:
            table = columns._settle()
        else:
            table = columns._taken(self.names, _indices(rows), shapes=False)
        stack: list[Bools] = []
        leaves = self.leaves
        for step, arg in self.program:
            if step >= 0:
                stack.append(leaves[step].evaluate(table, bool(arg)))
                continue
            joined = stack[-arg]
            join = np.logical_and if step == _AND else np.logical_or
            for mask in stack[len(stack) - arg + 1 :]:
                join(joined, mask, out=joined)
            del stack[len(stack) - arg + 1 :]
        return stack[0]


def _indices(rows: Any) -> Indices:
    return np.asarray(rows, dtype=np.int64).reshape(-1)


def compile_columnar(node: Node, schema: Mapping[str, Any] | None = None) -> ColumnarPredicate:
    """A filter as a function of a :class:`PropertyColumns`: where it selects each row.

    Selects exactly the rows whose :meth:`PropertyColumns.row` :func:`compile_predicate` selects,
    with the same errors for the same input; compiling the same filter again (with the same
    declared types) returns the same object from a cache.

    Args:
        node: A filter AST (from :func:`catalogql.parse_filter`).
        schema: A queryables schema; declared types then decide how values compare.

    Returns:
        The compiled filter.

    Raises:
        QueryError: If ``node`` is not a filter AST, or is deeper than ``MAX_COMPILED_DEPTH``.

    >>> from catalogql import parse_filter
    >>> columns = PropertyColumns()
    >>> _ = columns.append([{"a": "WV03"}, {"a": 3}, {"a": ["x", "WV02"]}])
    >>> compile_columnar(parse_filter("a = WV*"))(columns).tolist()
    [True, False, True]
    """
    if schema is None and isinstance(node, Node):
        return _compile_plain(node)
    return _compile(node, schema)


def _compile(node: Node, schema: Mapping[str, Any] | None) -> ColumnarPredicate:
    shape = _Shape(node)  # the predicate compiler's checks, in its order
    checked = check_schema(schema) if schema is not None else None
    shape.check_filter()
    declared = _declared(checked, shape.names)
    try:
        hash(declared)  # a schema's enum may hold unhashable values: then compile afresh
    except TypeError:
        return _program(node, declared)
    return _program_cached(node, declared)


def _program(node: Node, declared: Declared) -> ColumnarPredicate:
    """The filter as a postfix program, NOT pushed down to the leaves (an explicit stack)."""
    types = dict(declared)
    leaves: list[_Leaf] = []
    numbered: dict[tuple[int, bool], int] = {}
    program: list[tuple[int, int]] = []
    stack: list[tuple[Node, bool, bool]] = [(node, True, False)]
    while stack:
        current, positive, done = stack.pop()
        kind = type(current)
        while kind is Not:
            current, positive = cast("Not", current).item, not positive
            kind = type(current)
        if kind is And or kind is Or:
            items = cast("And | Or", current).items
            if done:
                program.append(((_AND if (kind is And) == positive else _OR), len(items)))
                continue
            stack.append((current, positive, True))
            stack.extend((item, positive, False) for item in reversed(items))
            continue
        leaf = cast("Comparison | Match", current)
        index = numbered.get((id(leaf), positive))
        if index is None:
            index = numbered[(id(leaf), positive)] = len(leaves)
            leaves.append(_Leaf(leaf, types.get(leaf.property)))
        program.append((index, int(positive)))
    return ColumnarPredicate(leaves, program)


_program_cached = sized_cache(256, 8 << 20, _predicate_bytes)(_program)


@sized_cache(256, 16 << 20, _predicate_bytes)
def _compile_plain(node: Node) -> ColumnarPredicate:
    """A filter without a schema, cached by the filter alone."""
    return _compile(node, None)
