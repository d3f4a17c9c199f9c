"""Every filter and type string seen in public client code behaves as wild-filters.tsv says.

``ok``: parses with no warning in both dialects. ``warn:<what>``: parses in the default dialect with
exactly one ``compat.<what>`` warning (as a Diagnostic and as a QueryWarning) and is rejected by
``dialect="strict"``. ``error``: a QueryError in both dialects, and one error Diagnostic.
"""

from __future__ import annotations

import re
import warnings
from typing import TYPE_CHECKING

import pytest

import catalogql as cq

if TYPE_CHECKING:
    from conftest import WildFilter

CARET_LINE = re.compile(r"^ *\^+$", re.MULTILINE)
DIALECTS = ("default", "strict")


def parse_quietly(text: str, dialect: str = "default") -> tuple[cq.ast.Node, list[str]]:
    """Parse a filter and return the QueryWarnings it issued, as text."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        node = cq.parse_filter(text, dialect=dialect)  # type: ignore[arg-type]
    return node, [str(w.message) for w in caught if issubclass(w.category, cq.QueryWarning)]


def test_the_file_has_only_known_kinds_and_expectations(wild_filters: list[WildFilter]) -> None:
    assert wild_filters, "wild-filters.tsv has no lines"
    for line in wild_filters:
        assert line.kind in ("filter", "types"), line
        assert line.expect in ("ok", "error") or re.fullmatch(r"warn:[a-z-]+", line.expect), line


def test_filter_line(wild_filter_line: WildFilter) -> None:
    line = wild_filter_line
    if line.expect == "ok":
        check_ok(line.text)
    elif line.expect.startswith("warn:"):
        check_warn(line.text, "compat." + line.expect.removeprefix("warn:"))
    elif line.expect == "error":
        check_error(line.text)
    else:
        pytest.fail(f"line {line.lineno}: unknown expectation {line.expect!r}")


def check_ok(text: str) -> None:
    for dialect in DIALECTS:
        node, warned = parse_quietly(text, dialect)
        assert warned == [], dialect
        assert cq.check(text, dialect=dialect) == [], dialect  # type: ignore[arg-type]
    # The canonical text means the same, and a filter never selects a record without properties.
    assert cq.parse_filter(cq.to_gbdx(node), dialect="strict") == node
    assert cq.compile_predicate(node)({}) is False
    assert cq.compile_predicate(cq.ast.Not(node))({}) is False


def check_warn(text: str, code: str) -> None:
    node, warned = parse_quietly(text)
    assert len(warned) == 1, warned
    assert f"[{code}]" in warned[0]

    diagnostics = cq.check(text)
    assert [(d.severity, d.code) for d in diagnostics] == [("warning", code)]
    (diag,) = diagnostics
    assert diag.hint
    assert diag.rewrite is not None
    assert 0 <= diag.offset < len(text)
    # The suggested rewrite is clean in the strict dialect and means the same.
    assert cq.check(diag.rewrite, dialect="strict") == []
    assert cq.parse_filter(diag.rewrite, dialect="strict") == node

    with pytest.raises(cq.QueryError) as excinfo:
        cq.parse_filter(text, dialect="strict")
    assert excinfo.value.code == code
    assert CARET_LINE.search(str(excinfo.value))
    strict = cq.check(text, dialect="strict")
    assert [(d.severity, d.code) for d in strict] == [("error", code)]


def check_error(text: str) -> None:
    for dialect in DIALECTS:
        with pytest.raises(cq.QueryError) as excinfo:
            cq.parse_filter(text, dialect=dialect)  # type: ignore[arg-type]
        err = excinfo.value
        assert err.code.startswith(("syntax.", "validation.")), err.code
        assert err.hint, err.code
        assert CARET_LINE.search(str(err)), str(err)
        diagnostics = cq.check(text, dialect=dialect)  # type: ignore[arg-type]
        assert [(d.severity, d.code, d.column) for d in diagnostics] == [
            ("error", err.code, err.column)
        ]


def test_types_line(wild_types_line: WildFilter) -> None:
    line = wild_types_line
    text = line.text
    if line.expect == "ok":
        node = cq.parse_types(text)
        assert cq.check(text, kind="types") == []
        assert cq.parse_types(cq.to_gbdx(node)) == node
    elif line.expect == "error":
        with pytest.raises(cq.QueryError) as excinfo:
            cq.parse_types(text)
        err = excinfo.value
        assert err.code.startswith("syntax."), err.code
        assert CARET_LINE.search(str(err)), str(err)
        diagnostics = cq.check(text, kind="types")
        assert [(d.severity, d.code, d.column) for d in diagnostics] == [
            ("error", err.code, err.column)
        ]
    else:
        pytest.fail(f"line {line.lineno}: unexpected expectation {line.expect!r} for types")
