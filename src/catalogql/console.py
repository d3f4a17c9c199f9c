"""Search answers as terminal text: ``catalogql search --table`` and the demo print these.

>>> for line in result_table([{"identifier": "10400100120FEA00", "properties": {
...         "timestamp": "2016-05-04T18:41:08.000Z", "sensorPlatformName": "WORLDVIEW03_VNIR",
...         "cloudCover": 3}}]):
...     print(line)
identifier                           time                     platform           cloud
10400100120FEA00                     2016-05-04T18:41:08.000Z WORLDVIEW03_VNIR       3
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

__all__ = ["counted", "result_table"]


def counted(n: int, noun: str) -> str:
    """``n`` and the noun, singular for one, with thousands separators.

    >>> counted(1, "record"), counted(1500, "record"), counted(0, "record")
    ('1 record', '1,500 records', '0 records')
    """
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {noun}s"


def result_table(results: list[dict[str, Any]]) -> Iterator[str]:
    """The lines of a compact table of search results: a header, then one line per record.

    The columns are the identifier, ``timestamp``, ``sensorPlatformName`` and ``cloudCover``
    (blank where a record has none); no results give no lines at all.

    Args:
        results: The ``results`` of a search answer (GBDX-shaped records).

    Yields:
        The header line, then one line per record.

    >>> list(result_table([]))
    []
    >>> list(result_table([{"identifier": "a", "properties": {}}]))[1].rstrip()
    'a'
    """
    if not results:
        return
    yield f"{'identifier':<36} {'time':<24} {'platform':<18} {'cloud':>5}"
    for record in results:
        props = record["properties"]
        yield (
            f"{record['identifier']:<36} {props.get('timestamp', ''):<24} "
            f"{props.get('sensorPlatformName', '')!s:<18} {props.get('cloudCover', '')!s:>5}"
        )
