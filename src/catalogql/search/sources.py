"""Records from the files users have: JSON Lines, a JSON array, a GBDX search response, gzip.

:func:`read_entries` reads a byte stream (a file, standard input) and yields each record with
where it came from, or what is wrong with the text there, so a loader can report every bad line
in one pass instead of stopping at the first. What it reads:

* **JSON Lines**: one JSON value a line, blank lines skipped. A line that is not JSON is an
  :class:`Entry` with an ``error``; the lines after it are read on.
* **One JSON document** over several lines (a pretty-printed array or object): read whole.
* **gzip**: recognised by its magic bytes, whatever the file is called.

A first line that is neither a whole JSON value nor the start of a document (``[`` or ``{``)
means JSON Lines. A document is held in memory while it is read; so is a JSON Lines file whose
first line starts with ``{`` but is not JSON (it is then reported line by line).

Whatever the form, a JSON value becomes records the same way: an array is its items; an object
with a ``results`` list and no ``identifier`` (a GBDX search response, or the output of
``catalogql search``) is its results; anything else is one record (checked by the store).

>>> import io
>>> text = b'{"identifier": "a"}\\n\\n{oops\\n{"stats": {}, "results": [{"identifier": "b"}]}\\n'
>>> [(e.line, e.item, e.error is None) for e in read_entries(io.BytesIO(text))]
[(1, '', True), (3, '', False), (4, 'results[0]', True)]
"""

from __future__ import annotations

import gzip
import io
import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

import orjson

from catalogql.search.records import TEXT_SHAPES, DecodedRecord, decoded_record, decoded_shape

__all__ = ["Entry", "read_entries"]

_GZIP_MAGIC = b"\x1f\x8b"
_BOM = b"\xef\xbb\xbf"


@dataclass(slots=True)
class Entry:
    """One record read from a stream, or the text there that is not one.

    Attributes:
        line: The 1-based line where the value starts.
        item: Where in that value, when it holds several records (``[3]``, ``results[3]``),
            else ``""``.
        record: The decoded JSON value (None when ``error`` is set).
        error: Why the text is not JSON, or None.
    """

    line: int
    item: str = ""
    record: Any = None
    error: str | None = None

    @property
    def where(self) -> str:
        """The line, and the item within it when there is one: ``7`` or ``1 results[3]``.

        >>> Entry(1, "results[3]").where
        '1 results[3]'
        """
        return f"{self.line} {self.item}" if self.item else str(self.line)


def read_entries(stream: IO[bytes]) -> Iterator[Entry]:
    """Every record of a stream, in order, each with where it is (see the module docstring).

    Args:
        stream: A binary stream: an open file or ``sys.stdin.buffer``, gzip-compressed or not.

    Yields:
        An :class:`Entry` per record, or per piece of text that is not JSON.

    >>> import gzip, io
    >>> packed = gzip.compress(b'[{"identifier": "a"},\\n {"identifier": "b"}]')
    >>> [(e.line, e.item, e.record["identifier"]) for e in read_entries(io.BytesIO(packed))]
    [(1, '[0]', 'a'), (1, '[1]', 'b')]
    """
    lines = _lines(stream)
    held: list[tuple[int, bytes]] = []  # the first value's lines, while its form is unknown
    for number, raw in lines:
        if not raw.strip():
            if held:
                held.append((number, raw))
            continue
        if not held:
            value, error = _decode(raw)
            if error is None:  # a whole value on one line: JSON Lines
                yield from _expand(number, value)
                yield from _json_lines(lines)
                return
            if raw.lstrip()[:1] not in (b"[", b"{"):  # not the start of a document either
                yield Entry(number, error=error)
                yield from _json_lines(lines)
                return
        held.append((number, raw))
    if not held:
        return
    value, error = _decode(b"".join(raw for _, raw in held))
    if error is None:  # one document over several lines
        yield from _expand(held[0][0], value)
    else:  # not one document: report it line by line, as JSON Lines
        yield from _json_lines(iter(held))


def _lines(stream: IO[bytes]) -> Iterator[tuple[int, bytes]]:
    """The numbered lines of a stream, decompressed if it is gzip.

    The first without a byte order mark; the others numbered by ``enumerate`` itself, with no
    Python frame a line.
    """
    reader: Any = stream if hasattr(stream, "peek") else io.BufferedReader(stream)
    if reader.peek(2)[:2] == _GZIP_MAGIC:
        reader = gzip.GzipFile(fileobj=reader, mode="rb")
    first = reader.readline()
    if not first:
        return iter(())
    return itertools.chain([(1, first.removeprefix(_BOM))], enumerate(reader, start=2))


def _json_lines(lines: Iterator[tuple[int, bytes]]) -> Iterator[Entry]:
    for number, raw in lines:
        if not raw or raw.isspace():  # blank: what raw.strip() empties, without copying it
            continue
        value, error = _decode(raw)
        if error is not None:
            yield Entry(number, error=error)
        elif (type(value) is DecodedRecord or type(value) is dict) and "identifier" in value:
            # the common line: one record
            yield Entry(number, "", value)
        else:
            yield from _expand(number, value)


_LONG_RUN = b"0" * 19  # an integer past 64 bits has at least 19 digits (TEXT_SHAPES: "0"s)


def _decode(raw: bytes) -> tuple[Any, str | None]:
    """The JSON value of some text, or why it is not one.

    orjson reads the common line. What it refuses (NaN, a lone surrogate escape, a number
    past the float range, text that is not UTF-8) is read by the standard library, which
    accepts what it always accepted and words the errors. orjson reads an integer past 64 bits
    as a float, so a value holding a float of 2**63 or more (or -2**63 or less) whose text has
    19 digits in a row somewhere (a long identifier, say) is read by the standard library too.
    A record that orjson read is a :class:`~catalogql.search.records.DecodedRecord` when its
    text and values say that its properties pass the checks as they are
    (:func:`~catalogql.search.records.decoded_record`). The values are walked once for both
    (:func:`~catalogql.search.records.decoded_shape`): cheaper than scanning the text.

    >>> _decode(b'{"a": 18446744073709551616, "b": NaN}')
    ({'a': 18446744073709551616, 'b': nan}, None)
    >>> _decode(b'[18446744073709551616, "18446744073709551616", 1e19]')
    ([18446744073709551616, '18446744073709551616', 1e+19], None)
    >>> _decode(b"123456789012345678901234567890"), _decode(b'"123456789012345678901234567890"')
    ((123456789012345678901234567890, None), ('123456789012345678901234567890', None))
    >>> type(_decode(b'{"identifier": "a", "properties": {"b": 1.5}}')[0]).__name__
    'DecodedRecord'
    """
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        pass
    else:
        containers, wide = decoded_shape(value)
        if not wide or _LONG_RUN not in raw.translate(TEXT_SHAPES):
            return decoded_record(value, raw, containers), None
    try:
        return json.loads(raw), None
    except json.JSONDecodeError as exc:
        return None, f"not JSON: {exc.msg} (column {exc.colno})"
    except UnicodeDecodeError as exc:
        return None, f"not UTF-8 text: {exc.reason} at byte {exc.start}"
    except (ValueError, RecursionError) as exc:
        return None, f"not JSON: {exc}"


def _expand(line: int, value: Any) -> Iterator[Entry]:
    if isinstance(value, list):
        for i, item in enumerate(value):
            yield Entry(line, f"[{i}]", item)
    elif (
        isinstance(value, dict)
        and "identifier" not in value
        and isinstance(value.get("results"), list)
    ):
        for i, item in enumerate(value["results"]):
            yield Entry(line, f"results[{i}]", item)
    else:
        yield Entry(line, "", value)
