"""The corpora of canonical forms and errors (tests/corpus/*.tsv), one fact per line.

``canonical.tsv``: ``input<TAB>canonical``; printing the parsed input gives the canonical text,
parsing the canonical text gives the same AST, and printing is idempotent.

``errors.tsv``: ``input<TAB>code<TAB>column[<TAB>hint]``; the input is rejected with that QueryError
code at that 1-based column, in both dialects, with a caret line and a hint (which starts with the
fourth field, when there is one), and ``check`` reports it.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path
from typing import Any

import pytest

import catalogql as cq

CORPUS = Path(__file__).parent / "corpus"
CARET_LINE = re.compile(r"^ *\^+$", re.MULTILINE)


def read_corpus(name: str, columns: int, optional: int = 0) -> list[Any]:
    """The lines of a corpus file as pytest params (comments and blank lines skipped).

    The last ``optional`` of the ``columns`` fields may be left out (they are then "").
    """
    params = []
    for lineno, raw in enumerate((CORPUS / name).read_text(encoding="utf-8").split("\n"), 1):
        line = raw.removesuffix("\r")
        if not line or line.startswith("#"):
            continue
        fields = line.split("\t")
        assert columns - optional <= len(fields) <= columns, (
            f"{name}:{lineno}: expected {columns} fields: {line!r}"
        )
        fields += [""] * (columns - len(fields))
        text = fields[0]
        params.append(pytest.param(*fields, id=text if text.strip() else repr(text)))
    return params


def parse(text: str, dialect: str = "default") -> cq.ast.Node:
    """Parse a filter, ignoring compatibility warnings (LIKE and comma forms)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", cq.QueryWarning)
        return cq.parse_filter(text, dialect=dialect)  # type: ignore[arg-type]


CANONICAL = read_corpus("canonical.tsv", 2)
ERRORS = read_corpus("errors.tsv", 4, optional=1)


def test_the_corpora_are_large_enough() -> None:
    assert len(CANONICAL) >= 80
    assert len(ERRORS) >= 40


@pytest.mark.parametrize(("text", "canonical"), CANONICAL)
def test_canonical_form(text: str, canonical: str) -> None:
    node = parse(text)
    assert cq.to_gbdx(node) == canonical
    again = parse(canonical)
    assert again == node
    assert cq.to_gbdx(again) == canonical


@pytest.mark.parametrize(("text", "canonical"), CANONICAL)
def test_canonical_text_needs_no_compatibility_form(text: str, canonical: str) -> None:
    # Only a pattern with LIKE's one-character wildcard has no '=' spelling (see compile/gbdx.py).
    if " LIKE " in canonical:
        assert "_" in canonical
        return
    with warnings.catch_warnings():
        warnings.simplefilter("error", cq.QueryWarning)
        assert cq.parse_filter(canonical, dialect="strict") == parse(text)


@pytest.mark.parametrize(("text", "code", "column", "hint"), ERRORS)
def test_error(text: str, code: str, column: str, hint: str) -> None:
    for dialect in ("default", "strict"):
        with pytest.raises(cq.QueryError) as excinfo:
            parse(text, dialect)
        err = excinfo.value
        assert (err.code, err.line, err.column) == (code, 1, int(column)), (dialect, err.message)
        assert err.hint, err.code
        if dialect == "strict" and "LIKE" in hint:  # strict has no LIKE: its hint offers none
            offered = err.hint.replace("no LIKE", "").replace("for NOT LIKE", "")
            assert "LIKE" not in offered and "<>" in err.hint, err.hint
        else:
            assert err.hint.startswith(hint), (err.hint, hint)
        rendered = str(err)
        caret = CARET_LINE.search(rendered)
        assert caret, rendered
        assert caret.group().index("^") == 2 + err.column - 1, rendered  # under the column
        diagnostics = cq.check(text, dialect=dialect)  # type: ignore[arg-type]
        assert [(d.severity, d.code, d.column) for d in diagnostics] == [
            ("error", code, int(column))
        ]


# Type expressions: the same grammar of AND/OR/NOT and parentheses over names and patterns.

TYPES_CANONICAL = [
    ("WV02 AND DigitalGlobeProduct", "WV02 AND DigitalGlobeProduct"),
    ("WV02 OR WV03_VNIR", "WV02 OR WV03_VNIR"),
    ("(IDAHOImage) AND (WV02)", "IDAHOImage AND WV02"),
    ("((WV02))", "WV02"),
    ("1BProduct", "1BProduct"),
    ("WV03*", "WV03*"),
    ("**Product", "*Product"),
    ("W*V*", "W*V*"),
    ("*", "*"),
    ("A OR B AND C", "A OR B AND C"),
    ("A OR (B AND C)", "A OR B AND C"),
    ("(A OR B) AND C", "(A OR B) AND C"),
    ("A AND (B AND C)", "A AND B AND C"),
    ("(A OR B) OR (C OR D)", "A OR B OR C OR D"),
    ("NOT A", "NOT A"),
    ("NOT (A)", "NOT A"),
    ("NOT NOT A", "NOT NOT A"),
    ("NOT (A OR B)", "NOT (A OR B)"),
    ("(WV02 OR WV03*) AND NOT IDAHOImage", "(WV02 OR WV03*) AND NOT IDAHOImage"),
    ("ANDROID OR NOTE", "ANDROID OR NOTE"),
    ("and", "and"),  # a lowercase word alone is a type name
    ("  WV02  ", "WV02"),
]


@pytest.mark.parametrize(
    ("text", "canonical"), TYPES_CANONICAL, ids=[t for t, _ in TYPES_CANONICAL]
)
def test_types_canonical_form(text: str, canonical: str) -> None:
    node = cq.parse_types(text)
    assert cq.to_gbdx(node) == canonical
    assert cq.parse_types(canonical) == node
    assert cq.to_gbdx(cq.parse_types(canonical)) == canonical


TYPES_ERRORS = [
    ("WV02 and DigitalGlobeProduct", "syntax.lowercase-operator", 6),
    ("WV02 or WV03", "syntax.lowercase-operator", 6),
    ("not WV02", "syntax.lowercase-operator", 1),
    ("WV02 AND not WV03", "syntax.lowercase-operator", 10),
    ("WV02 AND", "syntax.unexpected-end", 9),
    ("WV02 OR", "syntax.unexpected-end", 8),
    ("NOT", "syntax.unexpected-end", 4),
    ("", "syntax.empty", 1),
    ("(WV02", "syntax.unbalanced-parentheses", 6),
    ("(WV02 OR WV03", "syntax.unbalanced-parentheses", 14),
    ("WV02)", "syntax.unbalanced-parentheses", 5),
    ("WV02 WV03", "syntax.missing-conjunction", 6),
    ("WV02 NOT WV03", "syntax.missing-conjunction", 6),
    ("AND WV02", "syntax.expected-condition", 1),
    ("WV02 AND AND WV03", "syntax.expected-condition", 10),
    ("'WV02'", "syntax.unexpected-token", 1),
    ("WV-02", "syntax.unexpected-token", 3),
]


@pytest.mark.parametrize(
    ("text", "code", "column"), TYPES_ERRORS, ids=[t or "<empty>" for t, _, _ in TYPES_ERRORS]
)
def test_types_error(text: str, code: str, column: int) -> None:
    with pytest.raises(cq.QueryError) as excinfo:
        cq.parse_types(text)
    err = excinfo.value
    assert (err.code, err.column) == (code, column), err.message
    assert err.hint
    assert CARET_LINE.search(str(err))
    diagnostics = cq.check(text, kind="types")
    assert [(d.severity, d.code, d.column) for d in diagnostics] == [("error", code, column)]
