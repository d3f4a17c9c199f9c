"""Reading records from files (``catalogql.search.sources``): every form gives the same records.

The law: whatever form a list of records is written in (JSON Lines, a JSON array, a search
response, compact or pretty, gzip or not, with or without a BOM), :func:`read_entries` gives the
records back in order; and in JSON Lines, every line that is not JSON is reported, by number,
and the records around it are still read.
"""

from __future__ import annotations

import gzip
import io
import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from catalogql.search.sources import read_entries
from catalogql.testing.strategies import json_values
from property_settings import scaled

RECORDS = st.lists(
    st.dictionaries(st.text(max_size=5), json_values(max_leaves=4), max_size=4).map(
        lambda d: {"identifier": "x", **d}
    ),
    max_size=8,
)


def write(records: list[dict[str, Any]], form: str, indent: int | None) -> bytes:
    if form == "lines":
        return "".join(json.dumps(r) + "\n" for r in records).encode()
    value: Any = records if form == "array" else {"stats": {}, "results": records}
    return json.dumps(value, indent=indent).encode()


@settings(max_examples=scaled(200), deadline=None)
@given(
    records=RECORDS,
    form=st.sampled_from(["lines", "array", "response"]),
    indent=st.sampled_from([None, 2]),
    packed=st.booleans(),
    bom=st.booleans(),
)
def test_every_form_reads_back_the_same_records(
    records: list[dict[str, Any]], form: str, indent: int | None, packed: bool, bom: bool
) -> None:
    data = (b"\xef\xbb\xbf" if bom else b"") + write(records, form, indent)
    if packed:
        data = gzip.compress(data)
    entries = list(read_entries(io.BytesIO(data)))
    assert [e.error for e in entries] == [None] * len(entries)
    assert [e.record for e in entries] == records


@settings(max_examples=scaled(200), deadline=None)
@given(
    records=RECORDS.filter(bool),
    bad=st.lists(st.sampled_from(["{oops", "[1, 2", "not json", '{"a": }', "\x00"]), max_size=4),
    data=st.data(),
)
def test_every_bad_line_is_reported_and_the_rest_are_read(
    records: list[dict[str, Any]], bad: list[str], data: st.DataObject
) -> None:
    lines: list[str] = [json.dumps(r) for r in records]
    for text in bad:
        lines.insert(data.draw(st.integers(0, len(lines))), text)
    lines.insert(data.draw(st.integers(0, len(lines))), "")  # blank lines are skipped
    stream = io.BytesIO("".join(f"{line}\n" for line in lines).encode())
    entries = list(read_entries(stream))
    assert [e.record for e in entries if e.error is None] == records
    bad_lines = [n for n, line in enumerate(lines, 1) if line and not line.startswith('{"')]
    bad_lines += [n for n, line in enumerate(lines, 1) if line == '{"a": }']
    assert sorted(e.line for e in entries if e.error is not None) == sorted(bad_lines)
