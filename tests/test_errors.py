"""The one error model (``catalogql.errors``): statuses, problems, renderings, bodies, hierarchy.

Every exception class defined anywhere under ``catalogql`` derives from ``CatalogqlError`` (found by
walking the modules, so a new one that does not is caught); each has an HTTP status and at least
one ``Problem``; the text and the JSON body are functions of the error, written once; and the SQL
stores decide in Python exactly what SQL cannot hold (``Inexpressible``), nothing else.
"""

from __future__ import annotations

import ast as pyast
import copy
import dataclasses
import importlib
import inspect
import json
import pickle
import pkgutil
import unicodedata
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import catalogql
import catalogql as cq
from catalogql import errors
from catalogql.ast import And, Comparison, Literal, LiteralKind, Op, Or
from catalogql.cli import main
from catalogql.compile.sql import MAX_SQL_DEPTH, to_sql
from catalogql.errors import (
    REASONS,
    CatalogqlError,
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    Problem,
    TooLarge,
    Unauthorized,
    Unprocessable,
    UsageError,
    caret_lines,
    error_body,
    render,
)
from catalogql.search import (
    CatalogError,
    CatalogNotFound,
    InvalidRecord,
    InvalidSearchRequest,
    RecordNotFound,
    RequestTooLarge,
    SearchRequest,
    open_catalog,
)
from catalogql.syntax.errors import Inexpressible, InexpressibleDepth
from property_settings import scaled

# -- every public error class: a status, problems, a text and a body ---------------------------

SAMPLES: dict[str, tuple[Callable[[], CatalogqlError], int]] = {
    "CatalogqlError": (lambda: CatalogqlError("broken", hint="look"), 500),
    "InvalidInput": (lambda: InvalidInput("bad input", hint="fix it"), 400),
    "UsageError": (lambda: UsageError("--records must be at least 1"), 400),
    "NotFound": (lambda: NotFound("Not Found: p1"), 404),
    "Conflict": (lambda: Conflict("product p1 exists", hint="pick another name"), 409),
    "TooLarge": (lambda: TooLarge("the upload is past 1 GiB", hint="split it"), 413),
    "Unprocessable": (lambda: Unprocessable("no band named nir"), 422),
    "Unauthorized": (lambda: Unauthorized("no bearer token", hint="send Authorization"), 401),
    "Forbidden": (lambda: Forbidden("alice may not write p1"), 403),
    "QueryError": (lambda: cq.QueryError("bad", text="a = ", offset=4, code="syntax.x"), 400),
    "QuerySyntaxError": (lambda: cq.QuerySyntaxError("bad", text="a <", offset=3), 400),
    "QueryValidationError": (lambda: cq.QueryValidationError("bad", text="a < b*"), 400),
    "QueryLimitError": (lambda: cq.QueryLimitError("too long", limit="length", text="x"), 413),
    "Inexpressible": (lambda: Inexpressible("NUL", code="compile.invalid-text"), 422),
    "InexpressibleDepth": (lambda: InexpressibleDepth("deep", limit="depth"), 422),
    "InvalidSearchRequest": (
        lambda: InvalidSearchRequest(
            [Problem("limit", None, "limit must be at least 1", "use 1", "request.limit-range")]
        ),
        400,
    ),
    "RecordNotFound": (lambda: RecordNotFound("nope"), 404),
    "RequestTooLarge": (lambda: RequestTooLarge("filters[3]", 12_000, 10_000), 413),
    "InvalidRecord": (lambda: InvalidRecord(3, "identifier", "missing", "add one"), 400),
    "CatalogError": (lambda: CatalogError("the catalog is closed"), 500),
    "CatalogNotFound": (lambda: CatalogNotFound("sqlite:///c.db", "no file c.db"), 404),
}


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_every_error_has_a_status_problems_a_text_and_a_body(name: str) -> None:
    make, status = SAMPLES[name]
    error = make()
    assert type(error).__name__ == name
    assert error.status == status and status in REASONS
    assert error.problems and all(isinstance(p, Problem) for p in error.problems)
    assert all(p.message and p.code for p in error.problems)
    text = render(error)
    assert text == str(error) == error.render()
    assert text.startswith(error.message)
    body = error_body(error)
    assert body == error.to_body()
    assert body["status"] == f"{status} {REASONS[status]}"
    assert body["message"] == error.message
    assert ("errors" in body) == (status in (400, 413, 422))
    assert json.loads(json.dumps(body)) == body


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_every_error_survives_pickle_and_copy(name: str) -> None:
    error = SAMPLES[name][0]()
    for twin in (pickle.loads(pickle.dumps(error)), copy.deepcopy(error)):
        assert type(twin) is type(error) and twin.args == error.args
        assert twin.problems == error.problems and str(twin) == str(error)
        assert error_body(twin) == error_body(error)


def test_every_public_error_class_is_sampled() -> None:
    public = {
        name
        for module in (errors, cq, catalogql.search, catalogql.syntax.errors)
        for name in getattr(module, "__all__", ())
        if isinstance(getattr(module, name), type)
        and issubclass(getattr(module, name), BaseException)
        and not issubclass(getattr(module, name), Warning)
    }
    assert public <= set(SAMPLES), public - set(SAMPLES)


def _public_error_classes() -> Iterator[tuple[str, type[BaseException]]]:
    """Every error class some module of catalogql (but ``testing``) lists in its ``__all__``."""
    for info in pkgutil.walk_packages(catalogql.__path__, "catalogql."):
        if info.name.startswith("catalogql.testing"):
            continue  # test tooling (the testing extra), not the library's API
        module = importlib.import_module(info.name)
        for name in getattr(module, "__all__", ()):
            value = getattr(module, name)
            is_error = isinstance(value, type) and issubclass(value, Exception)
            if is_error and not issubclass(value, Warning):
                yield name, value


def test_every_public_error_class_is_reachable_from_catalogql() -> None:
    found = dict(_public_error_classes())
    assert {"CatalogError", "CatalogNotFound", "InexpressibleDepth"} <= set(found)
    for name, cls in found.items():
        assert getattr(cq, name, None) is cls, f"catalogql.{name} is missing"
        assert name in cq.__all__ and name in dir(cq), name


def test_a_catalog_that_does_not_exist_is_a_404_with_a_hint(tmp_path: Path) -> None:
    with pytest.raises(cq.CatalogNotFound) as caught:
        cq.open_catalog(f"sqlite:///{tmp_path / 'catalgo.db'}", create=False)
    error = caught.value
    assert isinstance(error, NotFound) and isinstance(error, LookupError)
    assert isinstance(error, cq.CatalogError)  # code catching every failure to open still does
    assert error.status == 404
    assert error.problems[0].code == "catalog.not-found"
    assert "catalogql load FILE --db URL" in error.problems[0].hint
    assert error_body(error) == {"status": "404 Not Found", "message": error.message}


def test_statuses_and_the_built_in_bases_users_catch() -> None:
    assert issubclass(cq.QueryError, ValueError)
    assert issubclass(InvalidSearchRequest, ValueError)
    assert issubclass(InvalidRecord, ValueError)
    assert issubclass(UsageError, ValueError)
    assert issubclass(RecordNotFound, LookupError) and issubclass(RecordNotFound, NotFound)
    assert issubclass(cq.QueryLimitError, TooLarge) and issubclass(
        cq.QueryLimitError, cq.QueryError
    )
    assert issubclass(InexpressibleDepth, cq.QueryLimitError)
    assert issubclass(InexpressibleDepth, Inexpressible)
    assert not issubclass(cq.QueryLimitError, Inexpressible)


def test_import_paths_stay() -> None:
    import catalogql.cli
    import catalogql.search.errors
    import catalogql.syntax
    import catalogql.syntax.errors

    assert cq.QueryError is catalogql.syntax.QueryError is catalogql.syntax.errors.QueryError
    assert cq.CatalogqlError is catalogql.syntax.errors.CatalogqlError is CatalogqlError
    assert cq.InvalidSearchRequest is catalogql.search.errors.InvalidSearchRequest
    assert cq.RecordNotFound is catalogql.search.RecordNotFound
    assert catalogql.search.RequestProblem is catalogql.search.errors.RequestProblem is Problem
    assert catalogql.cli.UsageError is UsageError  # type: ignore[attr-defined]
    assert cq.NotFound is NotFound and cq.Problem is Problem


# -- the hierarchy: every exception class under catalogql -------------------------------------


def _exception_classes() -> Iterator[type[BaseException]]:
    for info in pkgutil.walk_packages(catalogql.__path__, "catalogql."):
        module = importlib.import_module(info.name)
        for _, value in inspect.getmembers(module, inspect.isclass):
            if value.__module__ == module.__name__ and issubclass(value, BaseException):
                yield value


def test_every_exception_class_under_catalogql_is_a_catalogql_error() -> None:
    found = set(_exception_classes())
    names = {cls.__qualname__ for cls in found}
    assert {"QueryError", "InvalidSearchRequest", "_BadLine", "_WktError"} <= names  # not vacuous
    # Warnings are not errors (QueryWarning is a UserWarning, issued, never raised).
    strays = [
        f"{cls.__module__}.{cls.__qualname__}"
        for cls in found
        if not issubclass(cls, Warning) and not issubclass(cls, CatalogqlError)
    ]
    assert strays == [], f"derive these from catalogql.errors.CatalogqlError: {strays}"


def test_the_errors_module_imports_nothing_of_catalogql() -> None:
    source = Path(errors.__file__).read_text(encoding="utf-8")
    imported: list[str] = []
    for node in pyast.walk(pyast.parse(source)):
        if isinstance(node, pyast.Import):
            imported.extend(alias.name for alias in node.names)
        elif isinstance(node, pyast.ImportFrom):
            imported.append("." * node.level + (node.module or ""))
    assert imported and not [m for m in imported if m.startswith(("catalogql", "."))], imported


# -- problems and renderings -------------------------------------------------------------------


def test_a_problem_is_one_frozen_shape_with_the_body_form() -> None:
    problem = Problem("filters[0]", 16, "'and' is not an operator", "write AND", "syntax.x")
    assert problem.to_dict() == {
        "field": "filters[0]",
        "offset": 16,
        "message": "'and' is not an operator",
        "hint": "write AND",
        "code": "syntax.x",
    }
    with pytest.raises(dataclasses.FrozenInstanceError):
        problem.message = "other"  # type: ignore[misc]
    assert not hasattr(problem, "__dict__")  # slotted


def test_a_query_error_is_one_located_problem_and_keeps_its_attributes() -> None:
    with pytest.raises(cq.QuerySyntaxError) as caught:
        cq.parse_filter("cloudCover < 20 and offNadirAngle < 10")
    error = caught.value
    (problem,) = error.problems
    assert (problem.field, problem.offset, problem.line, problem.column) == ("", 16, 1, 17)
    assert (error.offset, error.line, error.column, error.code) == (16, 1, 17, problem.code)
    assert error.hint == problem.hint and error.text.startswith("cloudCover")
    assert render(error).splitlines()[2].strip() == "^^^"
    located = cq.QueryError("no such thing", offset=4, code="compile.x").locate("a\nb = no")
    assert (located.problems[0].line, located.problems[0].column) == (2, 3)
    assert located.problems[0].offset == 4 and located.code == "compile.x"


def test_diagnostics_are_a_severity_and_a_problem() -> None:
    (diagnostic,) = cq.check("name LIKE 'QUICK%'")
    assert isinstance(diagnostic.problem, Problem)
    assert (diagnostic.severity, diagnostic.code) == ("warning", diagnostic.problem.code)
    assert list(diagnostic.to_dict()) == [
        "severity",
        "code",
        "message",
        "offset",
        "line",
        "column",
        "hint",
        "expected",
        "rewrite",
        "count",
    ]
    (error,) = cq.check("cloudCover <")
    assert error.severity == "error" and error.problem.expected
    assert "expected: " in error.render("cloudCover <")


def test_the_400_body_of_an_invalid_search_request_is_unchanged() -> None:
    with pytest.raises(InvalidSearchRequest) as caught:
        SearchRequest.from_dict({"filters": ["cloudCover < 20 and x = 1"], "limit": -1})
    body = caught.value.to_body()
    assert body == {
        "status": "400 Bad Request",
        "message": "Invalid Search Request. filters[0]: 'and' is not an operator: operators "
        "must be uppercase; limit: limit must be at least 1",
        "errors": [
            {
                "field": "filters[0]",
                "offset": 16,
                "message": "'and' is not an operator: operators must be uppercase",
                "hint": body["errors"][0]["hint"],
                "code": "syntax.lowercase-operator",
            },
            {
                "field": "limit",
                "offset": None,
                "message": "limit must be at least 1",
                "hint": body["errors"][1]["hint"],
                "code": "request.limit-range",
            },
        ],
    }
    assert all(e["hint"] for e in body["errors"])
    assert caught.value.errors == body["errors"]
    assert str(caught.value).splitlines()[1:3] == [
        "  filters[0] (offset 16): 'and' is not an operator: operators must be uppercase",
        f"    hint: {body['errors'][0]['hint']}",
    ]


def test_the_404_body_and_the_texts_of_records() -> None:
    assert RecordNotFound("x1").to_body() == {"status": "404 Not Found", "message": "Not Found: x1"}
    assert str(RecordNotFound("x1")) == "Not Found: x1"
    error = InvalidRecord(7, "properties.timestamp", "missing", "add a timestamp")
    assert str(error) == "record 7: properties.timestamp: missing (hint: add a timestamp)"
    assert error.problems == (
        Problem("properties.timestamp", None, "missing", "add a timestamp", "record.invalid"),
    )
    assert error.to_body()["errors"][0]["field"] == "properties.timestamp"


def test_a_body_never_lists_problems_for_404_409_401_403() -> None:
    for error in (NotFound("gone"), Conflict("taken"), Unauthorized("who"), Forbidden("no")):
        assert set(error_body(error)) == {"status", "message"}


# -- the CLI: usage errors and error printing through the one renderer ---------------------------


def test_cli_usage_errors_exit_2_with_the_error_prefix(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["search", "/nonexistent/body.json", "--db", "memory://"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("catalogql search: error: cannot read /nonexistent/body.json")


def test_cli_usage_errors_carry_the_hint_of_the_error_they_wrap(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    schema = tmp_path / "schema.json"
    schema.write_text('{"properties": 5}', encoding="utf-8")
    assert main(["check", "--schema", str(schema), "a = 1"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("catalogql check: error: in schema file ")
    assert "must be an object (hint: a queryables schema looks like" in err


def test_cli_query_errors_exit_1_with_the_rendered_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["compile", "cloudCover <", "--to", "sql"]) == 1
    err = capsys.readouterr().err
    with pytest.raises(cq.QueryError) as caught:
        cq.parse_filter("cloudCover <")
    assert err == "error: " + render(caught.value) + "\n"


# -- "SQL cannot hold this" is its own signal ----------------------------------------------------


def _deep(levels: int) -> Any:
    node: Any = Comparison("x", Op.EQ, Literal("1", LiteralKind.NUMBER))
    for i in range(levels):  # alternating AND/OR: NOT NOT x compiles as x, so NOTs alone nest not
        node = (And if i % 2 else Or)(
            (node, Comparison("y", Op.EQ, Literal("2", LiteralKind.NUMBER)))
        )
    return node


def test_the_sql_compiler_says_inexpressible_only_for_valid_input_sql_cannot_hold() -> None:
    with pytest.raises(InexpressibleDepth) as deep:
        to_sql(_deep(MAX_SQL_DEPTH + 1))
    assert deep.value.limit == "depth" and deep.value.code == "limit.depth"
    with pytest.raises(Inexpressible) as nul:
        to_sql(Comparison("x", Op.EQ, Literal("a\x00b", LiteralKind.QUOTED)))
    assert nul.value.code == "compile.invalid-text"
    for bad, code in (
        (lambda: to_sql(Comparison("x;--", Op.EQ, Literal("1", LiteralKind.NUMBER))), "property"),
        (lambda: to_sql(_deep(1), "mysql"), "dialect"),  # type: ignore[arg-type]
    ):
        with pytest.raises(cq.QueryError) as invalid:
            bad()
        assert not isinstance(invalid.value, Inexpressible) and code in invalid.value.code


RECORDS = [
    {
        "identifier": f"r{i}",
        "type": ["WV02"],
        "properties": {
            "timestamp": "2016-01-01T10:00:00.000Z",
            "footprintWkt": "POLYGON((0 0,1 0,1 1,0 1,0 0))",
            "x": value,
        },
    }
    for i, value in enumerate([1, 2, "a", "b"])
]


@pytest.fixture(params=["sqlite", "postgresql"])
def sql_catalog(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[cq.Catalog]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'errors.db'}"
        cluster = None
        name = ""
    else:
        cluster = request.getfixturevalue("postgres_cluster")
        name = f"errors_{uuid.uuid4().hex[:12]}"
        url = cluster.create_database(name).replace("postgresql+psycopg://", "postgresql://")
    catalog = open_catalog(url)
    catalog.add_records(RECORDS)
    try:
        yield catalog
    finally:
        catalog.close()
        if cluster is not None:
            cluster.drop_database(name)


def _ids(answer: dict[str, Any]) -> list[str]:
    return sorted(r["identifier"] for r in answer["results"])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("x < 'a\x00b'", ["r2"]),  # SQL text cannot hold a NUL
        ("NOT " * (MAX_SQL_DEPTH + 2) + "x = 1", ["r0"]),  # deeper than SQL compiles
    ],
    ids=["nul", "deep"],
)
def test_a_store_answers_what_sql_cannot_hold_in_python(
    sql_catalog: cq.Catalog, text: str, expected: list[str]
) -> None:
    assert _ids(sql_catalog.search({"filters": [text]})) == expected
    assert _ids(sql_catalog.search({"types": ["WV02"], "filters": [text, "x = *"]})) == expected


def test_a_store_does_not_swallow_an_invalid_filter(sql_catalog: cq.Catalog) -> None:
    valid = SearchRequest.from_dict({"filters": ["x = 1"]})
    bad = Comparison("x') OR 1=1 --", Op.EQ, Literal("1", LiteralKind.NUMBER))
    request = dataclasses.replace(valid, filter_nodes=(bad,))
    with pytest.raises(cq.QueryError) as caught:
        sql_catalog.search(request)
    assert caught.value.code == "compile.invalid-property"
    assert not isinstance(caught.value, Inexpressible)


# -- the caret line: display cells, tabs expanded alike in both lines ---------------------------

_ALPHABET = ["a", "b", " ", "<", "\t", "界", "前", "😀", "e\u0301", "\u200d", "\x1b"]


def _cells_of(char: str) -> int:
    """The test's own terminal model of one character's cells (tabs handled by the caller)."""
    if unicodedata.combining(char) or char == "\u200d":
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def _at_cell(shown: str, cell: int) -> str:
    """The character of an echoed line (no tabs) that starts at ``cell``, or '' past its end."""
    column = 0
    for char in shown:
        if column == cell and _cells_of(char):
            return char
        column += _cells_of(char)
    return ""


@settings(max_examples=scaled(300))
@given(
    pieces=st.lists(st.sampled_from(_ALPHABET), max_size=160),
    before=st.sampled_from(["", "x = 1\n", "\t\n界\n"]),
    after=st.sampled_from(["", "\nb = 2"]),
    data=st.data(),
)
def test_the_caret_is_under_the_marked_character_in_display_cells(
    pieces: list[str], before: str, after: str, data: st.DataObject
) -> None:
    line = "".join(pieces)
    offset = data.draw(st.integers(0, len(line)))
    width = data.draw(st.integers(1, 4))
    echo, carets = caret_lines(before + line + after, len(before) + offset, width).split("\n")
    assert echo.startswith("  ") and carets.startswith("  ")
    shown, carets = echo[2:], carets[2:]
    assert "\t" not in shown and "\x1b" not in shown  # tabs expanded, no terminal controls
    first = len(carets) - len(carets.lstrip(" "))
    assert set(carets[first:]) == {"^"}
    # the terminal model: tabs to stops of 8 cells, wide characters two cells, marks none
    cell, starts = 0, []
    for char in line:
        starts.append(cell)
        cell = cell + 8 - cell % 8 if char == "\t" else cell + _cells_of(char)
    starts.append(cell)
    if cell <= 100:  # the whole line is echoed: the caret is at the reference cell
        assert first == starts[offset]
        end = min(offset + width, len(line))
        assert len(carets) - first == max(1, starts[end] - starts[offset])
    under = _at_cell(shown, first)
    if offset < len(line) and _cells_of(line[offset]) and line[offset] not in "\t\x1b":
        assert under == line[offset], (line, offset, shown, first)
    elif offset < len(line) and line[offset] == "\t":
        assert under == " "


@pytest.mark.parametrize(
    ("text", "offset", "caret"),
    [
        ("\tcloudCover < 20 and x", 17, " " * 24 + "^^^"),
        ("名前 = 1 and x", 7, " " * 9 + "^^^"),
        ("😀 = 1 and x", 6, " " * 7 + "^^^"),
        ("ab\tc and x", 5, " " * 10 + "^^^"),
    ],
)
def test_carets_after_tabs_and_wide_characters(text: str, offset: int, caret: str) -> None:
    echo, carets = caret_lines(text, offset, 3).split("\n")
    assert carets == "  " + caret
    assert "\t" not in echo


def test_the_cli_puts_the_caret_under_the_word_after_a_tab(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["check", "\tcloudCover < 20 and offNadirAngle < 10"]) == 1
    out = capsys.readouterr().out
    assert f"\n  {' ' * 8}cloudCover < 20 and offNadirAngle < 10\n  {' ' * 24}^^^\n" in out
