"""Issue 14, cold parsing: the tuned Lark front end of :mod:`catalogql.syntax.parser`.

The reductions are installed straight into Lark's LALR callbacks, and the usual tokens take the
whitespace after them. What must not change: the trees (offsets included), the errors and their
positions, on either Lark loop (lark_cython's or pure Python's).
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import lark
import pytest

import catalogql as cq
from catalogql.ast import Node, walk
from catalogql.syntax import parser as parser_module

CORPUS = Path(__file__).parent / "corpus"


def _corpus_inputs() -> list[str]:
    texts = []
    for name in ("canonical.tsv", "errors.tsv"):
        for line in (CORPUS / name).read_text(encoding="utf-8").split("\n"):
            if line and not line.startswith("#"):
                texts.append(line.split("\t")[0])
    return texts


def _outcome(parse: Any, text: str, dialect: str = "default") -> tuple[Any, ...]:
    """A tree, its nodes' offsets and its warnings' codes, or the error catalogql makes of it."""
    found: list[Any] = []
    token = parser_module._CONTEXT.set((text, dialect, found))
    try:
        node: Node = parse(text)
    except cq.QueryError as exc:
        return ("error", exc.code, exc.offset, str(exc))
    except lark.exceptions.UnexpectedInput as exc:
        error = parser_module._syntax_error(exc, text, "filter", dialect)
        return ("error", error.code, error.offset, str(error))
    finally:
        parser_module._CONTEXT.reset(token)
    offsets = [getattr(n, "offsets", None) for n in walk(node)]
    return ("ok", node, offsets, [d.code for d in found])


def test_every_rule_of_both_grammars_has_a_reduction() -> None:
    for kind in ("filter", "types"):
        for plugins in (None, parser_module._PLUGINS):
            assert callable(parser_module.build_front_end(kind, plugins))


def test_a_rule_without_a_reduction_is_refused_when_the_parser_is_built(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    grammar = parser_module.grammar_text("types").replace(
        "| TYPE                    -> type_", "| TYPE                    -> type_\n| TYPE TYPE"
    )
    monkeypatch.setattr(parser_module, "grammar_text", lambda kind: grammar)
    with pytest.raises(RuntimeError, match=r"grammar/types.lark: no reduction for type_unary"):
        parser_module.build_front_end("types")


@pytest.mark.skipif(parser_module._PLUGINS is None, reason="lark_cython is not installed")
def test_the_pure_python_and_the_compiled_loop_agree_on_the_corpora() -> None:
    compiled = parser_module.build_front_end("filter")
    python = parser_module.build_front_end("filter", None)
    texts = _corpus_inputs()
    assert len(texts) > 200
    for text in texts:
        for dialect in ("default", "strict"):
            assert _outcome(python, text, dialect) == _outcome(compiled, text, dialect), text


SHAPES = [
    "sensorPlatformName{_}={_}WORLDVIEW03*{_}AND{_}cloudCover{_}<{_}20{_}AND{_}offNadirAngle<10",
    "NOT{_}({_}a{_}={_}'x  y'{_}OR{_}b<>\"q\"{_}){_}AND{_}NOT{_}c>=-1.5e3",
    "a{_}={_}1{_},{_}b{_}LIKE{_}'x%'{_},{_}c{_}NOT{_}LIKE{_}y_",
    "({_}({_}a=1{_}){_}){_}OR{_}x.y{_}<={_}2016-01-01T00:00:00Z",
    "a\\*b{_}={_}c\\\\*",
]
SPACES = [" ", "  ", "\t", "\n", " \r\n\t", "\f"]


@pytest.mark.parametrize("shape", SHAPES)
def test_whitespace_after_a_token_changes_neither_the_tree_nor_the_offsets(shape: str) -> None:
    reference = shape.replace("{_}", " ")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", cq.QueryWarning)
            expected = cq.parse_filter(reference)
    except cq.QueryError:
        expected = None
    for space in SPACES:
        text = shape.replace("{_}", space)
        if expected is None:
            with pytest.raises(cq.QueryError):
                cq.parse_filter(text)
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", cq.QueryWarning)
            node = cq.parse_filter(text)
        assert node == expected, repr(text)
        for item in walk(node):
            offsets = getattr(item, "offsets", None)
            if offsets is not None:  # the property, then the value, where they are written
                assert text.startswith(item.property, offsets[0]), (text, offsets)  # type: ignore[attr-defined]
                assert offsets[1] > offsets[0] + len(item.property)  # type: ignore[attr-defined]
                assert not text[offsets[1]].isspace()


@pytest.mark.parametrize(
    ("shape", "code", "at"),
    [
        ("a = 1{_}AND{_}AND b = 2", "syntax.expected-condition", "AND b"),
        ("a = 1{_}b = 2", "syntax.missing-conjunction", "b = 2"),
        ("a = 1{_}OR{_}", "syntax.unexpected-end", None),
        ("NOT{_}", "syntax.unexpected-end", None),
        ("({_}a = 1{_})){_}", "syntax.unbalanced-parentheses", "){_}"),
        ("a = 1{_},{_},{_}b = 2", "syntax.unexpected-comma", ",{_}b"),
        ("a <{_}x*{_}AND b = 1", "validation.wildcard-ordering", "x*"),
    ],
)
def test_errors_after_whitespace_point_where_they_did(
    shape: str, code: str, at: str | None
) -> None:
    for space in SPACES:
        text = shape.replace("{_}", space)
        offset = len(text) if at is None else text.rindex(at.replace("{_}", space))
        with pytest.raises(cq.QueryError) as caught:
            cq.parse_filter(text)
        assert (caught.value.code, caught.value.offset) == (code, offset), repr(text)


def test_a_quoted_value_keeps_its_own_spaces() -> None:
    node = cq.parse_filter("a = ' x  '   AND b = \"\t\"\n")
    assert [item.value.text for item in node.children()] == [" x  ", "\t"]  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("text", "offset"),
    [
        ("a=1 ANDROID=2", 4),  # was read as `a=1 AND ROID=2`
        ("a=1 ORx=2", 4),
        ("a=1 AND b=2 NOTICE", 12),
        ("a LIKEx", 2),
        ("a NOTLIKE x", 2),
    ],
)
def test_a_keyword_is_a_whole_word(text: str, offset: int) -> None:
    """AND, OR, NOT and LIKE end at a word boundary: a longer word is not a keyword and a name."""
    with pytest.raises(cq.QuerySyntaxError) as caught:
        cq.parse_filter(text)
    assert caught.value.offset == offset, caught.value


@pytest.mark.parametrize("text", ["WV02 ANDROID", "WV02 ORX", "NOT WV02 ANDX"])
def test_a_type_keyword_is_a_whole_word(text: str) -> None:
    with pytest.raises(cq.QuerySyntaxError):
        cq.parse_types(text)


def test_keywords_before_punctuation_still_read() -> None:
    assert cq.parse_filter("a=1 AND(b=2)") == cq.parse_filter("a=1 AND (b=2)")
    assert cq.parse_filter("NOT(a=1)") == cq.parse_filter("NOT (a=1)")
    assert cq.parse_types("NOT(WV02)") == cq.parse_types("NOT (WV02)")
    # a name that begins with a keyword is a name
    assert cq.parse_filter("NOTx=1") == cq.parse_filter("NOTx = 1")
