"""Records' properties held as typed columns, and filters evaluated a column at a time.

(First version: the interface, with a slow reference implementation behind it.)

>>> from catalogql import parse_filter
>>> columns = PropertyColumns()
>>> columns.append([{"cloudCover": 10}, {"cloudCover": 30}, {}])
range(0, 3)
>>> compile_columnar(parse_filter("cloudCover < 20"))(columns).tolist()
[True, False, False]
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from catalogql.ast import Node
from catalogql.compile.predicate import Predicate, compile_predicate

__all__ = ["ColumnarPredicate", "PropertyColumns", "compile_columnar"]


class PropertyColumns:
    """A table of records' properties, one row per record, held as typed columns.

    >>> columns = PropertyColumns()
    >>> columns.append([{"a": 1, "b": "x"}])
    range(0, 1)
    >>> columns.row(0), len(columns)
    ({'a': 1, 'b': 'x'}, 1)
    """

    def __init__(self) -> None:
        self._rows: list[dict[str, Any]] = []

    def __len__(self) -> int:
        return len(self._rows)

    def append(self, batch: Sequence[Mapping[str, Any]]) -> range:
        """Add rows (records' properties, JSON values); return their row numbers.

        >>> PropertyColumns().append([{}, {"a": None}])
        range(0, 2)
        """
        start = len(self._rows)
        self._rows.extend(copy.deepcopy(dict(props)) for props in batch)
        return range(start, len(self._rows))

    def row(self, i: int) -> dict[str, Any]:
        """The properties of row ``i``, exactly as appended.

        >>> columns = PropertyColumns()
        >>> _ = columns.append([{"z": -0.0, "a": [1, "x"]}])
        >>> columns.row(0)
        {'z': -0.0, 'a': [1, 'x']}
        """
        return copy.deepcopy(self._rows[i])

    def rows(self, indices: Iterable[int]) -> list[dict[str, Any]]:
        """The properties of many rows, in the order given.

        >>> columns = PropertyColumns()
        >>> _ = columns.append([{"a": 1}, {"a": 2}])
        >>> columns.rows([1, 0])
        [{'a': 2}, {'a': 1}]
        """
        return [self.row(int(i)) for i in indices]

    def take(self, indices: NDArray[np.int64]) -> PropertyColumns:
        """A new table of the rows at ``indices``, in that order.

        >>> columns = PropertyColumns()
        >>> _ = columns.append([{"a": 1}, {"a": 2}])
        >>> columns.take(np.array([1, 1, 0])).rows(range(3))
        [{'a': 2}, {'a': 2}, {'a': 1}]
        """
        out = PropertyColumns()
        out._rows = [self._rows[int(i)] for i in indices]
        return out

    def nbytes(self) -> int:
        """About how many bytes the table holds.

        >>> PropertyColumns().nbytes() >= 0
        True
        """
        return 0


class ColumnarPredicate:
    """A compiled filter: called on a table, the rows where the filter is definitely true."""

    def __init__(self, predicate: Predicate) -> None:
        self._predicate = predicate

    def __call__(
        self, columns: PropertyColumns, rows: NDArray[np.int64] | None = None
    ) -> NDArray[np.bool_]:
        """One boolean per row (or per ``rows``, in that order): True where the filter holds."""
        indices = range(len(columns)) if rows is None else rows
        keep = self._predicate
        return np.array([keep(columns._rows[int(i)]) for i in indices], dtype=np.bool_)


def compile_columnar(node: Node, schema: Mapping[str, Any] | None = None) -> ColumnarPredicate:
    """A filter as a function of a :class:`PropertyColumns`: where it selects each row.

    Selects exactly what :func:`~catalogql.compile.predicate.compile_predicate` selects.

    >>> from catalogql import parse_filter
    >>> columns = PropertyColumns()
    >>> _ = columns.append([{"a": "WV03"}, {"a": 3}])
    >>> compile_columnar(parse_filter("a = WV*"))(columns).tolist()
    [True, False]
    """
    return ColumnarPredicate(compile_predicate(node, schema))
