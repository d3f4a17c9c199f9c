"""The ``catalogql`` command line: check and compile filters, load and search catalogs, a demo.

::

    catalogql check [--types] [--strict] [--schema FILE] [--json] TEXT
    catalogql compile --to TARGET [--types] [--strict] [--schema FILE] [--functions] TEXT
    catalogql compile --to sql-postgresql --all-functions
    catalogql load FILE [--db URL] [--batch-size N] [--dry-run | --skip-bad]
    catalogql search [REQUEST.json] [--db URL] [--area WKT] [--start DATE] [--end DATE]
                     [--types EXPR]... [--filter TEXT]... [--limit N] [--count-total] [--table]
    catalogql get ID [--db URL]
    catalogql demo [--records N] [--db URL [--force]] [--tour | --service]
    catalogql product|band|image|upload ACTION ... --as SUB[,email=E][,group=G]...[,org=O]
    catalogql --version

``--db`` defaults to ``$CATALOGQL_DB``, else ``sqlite:///catalog.db``.

``TARGET`` is one of ``sql`` (SQLite), ``sql-postgresql``, ``cql2-text``, ``cql2-json``, ``gbdx``
and ``pygeofilter``. ``TEXT`` may be ``-`` to read the expression from standard input. Exit
status: 0 when the input is valid (warnings allowed), 1 when it is not (an invalid expression,
request or record, a record not found), 2 for bad usage (unknown options, an unreadable file, a
catalog that cannot be opened). No input ends in a traceback.

Every problem is printed in one shape, led by its severity: ``error: ...`` or ``warning: ...``
(``check`` on standard output, every other command on standard error), with the caret line,
``expected:`` and ``hint:`` of :func:`~catalogql.errors.render_problem`; a usage error (status
2) is led by the command, as argparse prints its own: ``catalogql COMMAND: error: ...``. The
search and get commands print the HTTP API's JSON body of an invalid request (400) or a missing
record (404) instead.

A reader that goes away (``catalogql search ... | head -1``) ends the command quietly with
status 0, as if it had finished: the output was not wanted any more, which is not an error (and
a shell's ``pipefail`` stays quiet). ``load --db memory://`` stores into a catalog that ends
with the command: it says so on standard error (a check that the records load, nothing kept);
``search`` and ``get`` refuse ``memory://``, which is always empty in a new process.

>>> main(["compile", "--to", "gbdx", "(platform == WV03) OR (cloudCover < 5)"])
platform = WV03 OR cloudCover < 5
0
>>> main(["compile", "--to", "cql2-text", "sensorPlatformName = WORLDVIEW03*"])
sensorPlatformName LIKE 'WORLDVIEW03%'
0
"""

from __future__ import annotations

import argparse
import contextlib
import io
import itertools
import json
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

from catalogql import __version__
from catalogql.ast import Node
from catalogql.cli_service import DEFAULT_DB, add_service_commands
from catalogql.compile.diagnostics import check
from catalogql.compile.gbdx import to_gbdx
from catalogql.compile.parse import parse_filter_with_diagnostics
from catalogql.compile.targets import COMPILERS, Compiler, Schema
from catalogql.console import counted
from catalogql.errors import CatalogqlError, Problem, UsageError, render, render_problem
from catalogql.queryables import check_schema
from catalogql.syntax.errors import Diagnostic, QueryError
from catalogql.syntax.parser import QueryDialect, parse_types

__all__ = ["COMPILERS", "Compiler", "build_parser", "main"]


# --------------------------------------------------------------------------------------------
# Inputs


def _read_text(arg: str) -> str:
    """The expression: ``arg`` itself, or standard input (trailing newlines dropped) for ``-``."""
    if arg != "-":
        return arg
    if sys.stdin is None:
        raise UsageError("cannot read the expression: there is no standard input")
    try:
        text = sys.stdin.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read the expression from standard input: {exc}") from None
    return text.rstrip("\r\n")


def _load_schema(path: str | None) -> Schema | None:
    """Read a queryables JSON Schema file; every way it can be unusable is a :class:`UsageError`."""
    if path is None:
        return None
    try:
        raw = Path(path).read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise UsageError(f"cannot read schema file {path!r}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise UsageError(f"schema file {path!r} is not UTF-8 text") from None
    try:
        schema = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise UsageError(
            f"schema file {path!r} is not valid JSON: {exc.msg} at line {exc.lineno}, "
            f"column {exc.colno}"
        ) from None
    except RecursionError:
        raise UsageError(f"schema file {path!r} is nested too deeply") from None
    try:
        check_schema(schema)
    except QueryError as exc:
        raise UsageError(f"in schema file {path!r}: {exc.message}", hint=exc.hint) from None
    return schema  # type: ignore[no-any-return]


def _dialect(args: argparse.Namespace) -> QueryDialect:
    return "strict" if args.strict else "default"


def _parse(
    text: str, types: bool, dialect: QueryDialect, schema: Schema | None
) -> tuple[Node, list[Diagnostic]]:
    """The AST and warnings of a filter, or of a type expression when ``types``."""
    if types:
        return parse_types(text), []
    return parse_filter_with_diagnostics(text, dialect=dialect, schema=schema)


def _inputs(args: argparse.Namespace) -> tuple[str, Schema | None]:
    if args.types and args.schema is not None:
        raise UsageError("--schema applies to filters, not to type expressions (--types)")
    return _read_text(args.text), _load_schema(args.schema)


# --------------------------------------------------------------------------------------------
# Commands


def _run_check(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    text, schema = _inputs(args)
    dialect = _dialect(args)
    diagnostics = check(text, "types" if args.types else "filter", dialect, schema)
    valid = all(d.severity != "error" for d in diagnostics)
    if args.json:
        report = {"valid": valid, "diagnostics": [d.to_dict() for d in diagnostics]}
        print(json.dumps(report, indent=2), file=out)
        return 0 if valid else 1
    if valid:
        print("ok", file=out)
    for diagnostic in diagnostics:
        print(diagnostic.render(text), file=out)
    if valid:
        canonical = to_gbdx(_parse(text, args.types, dialect, schema)[0])
        if canonical != text and all(d.rewrite != canonical for d in diagnostics):
            print(f"canonical: {canonical}", file=out)
    return 0 if valid else 1


def _run_compile(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    if (args.functions or args.all_functions) and args.to != "sql-postgresql":
        raise UsageError(
            f"--functions and --all-functions print PostgreSQL functions, not {args.to}'s",
            hint="use --to sql-postgresql; SQLite's helper is a Python function: "
            "catalogql.install_functions(connection) creates it",
        )
    if args.all_functions:
        from catalogql.compile.sql import functions_sql

        print(functions_sql(), end="", file=out)
        return 0
    if args.text is None:
        raise UsageError("compile needs TEXT, the expression (or - to read standard input)")
    text, schema = _inputs(args)
    node, warnings = _parse(text, args.types, _dialect(args), schema)
    for warning in warnings:
        print(warning.render(text), file=err)
    try:
        compiled = COMPILERS[args.to](node, schema)
    except QueryError as error:  # compilers raise without the text: point into it here
        raise error.locate(text) from None
    if args.functions:  # the CREATE FUNCTION text the SQL needs, and only that (maybe none)
        from catalogql.compile.sql import functions_sql, needed_functions

        needs = needed_functions(compiled)
        if not needs:
            print("note: this SQL calls no helper function; nothing to create", file=err)
        print(functions_sql(needs), end="", file=out)
        return 0
    print(compiled, file=out)
    return 0


def _run_demo(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from catalogql.demo import (
        run_demo,
        run_search_demo,
        run_service_tour,
        service_tour_missing,
    )

    if args.tour:
        run_demo(out)
        return 0
    if args.service:
        run_service_tour(out)
        return 0

    if args.records < 1:
        raise UsageError("--records must be at least 1")
    bar = ProgressBar(err, "records")
    run_search_demo(
        out,
        records=args.records,
        url=args.db,
        progress=lambda n, total: bar.update(n, n / total),
        force=args.force,
    )
    bar.close()
    print(file=out)
    if service_tour_missing():  # the service extra is not installed: the searches were the demo
        print(f"(the service tour needs {' and '.join(service_tour_missing())}: pip install "
              "'catalogql[service]', then catalogql demo --service)\n", file=out)  # fmt: skip
    else:
        run_service_tour(out)
    _print_serving(args.db, out)
    return 0


def _print_serving(db: str | None, out: TextIO) -> None:
    """The demo's end: how to serve its catalog and search it over HTTP."""
    from catalogql.demo import serving_lines

    if db is None or db.startswith("memory:"):
        print("To serve a demo catalog over HTTP, keep one: catalogql demo --db "
              "sqlite:///demo.db, which ends with the lines that serve and search it.",
              file=out)  # fmt: skip
        return
    print("Serve this catalog over HTTP (Ctrl-C stops it), then search it from another shell:",
          file=out)  # fmt: skip
    for line in serving_lines(db):
        print(f"  {line}", file=out)


# --------------------------------------------------------------------------------------------
# Catalogs: load, search, get


class ProgressBar:
    """A progress line on a terminal (redrawn in place), or a line per tenth elsewhere.

    >>> import io
    >>> stream = io.StringIO()
    >>> bar = ProgressBar(stream, "records")
    >>> bar.update(50, 0.5); bar.update(100, 1.0); bar.close()
    >>> print(stream.getvalue().strip())
    50% 50 records
    100% 100 records
    """

    def __init__(self, stream: TextIO, unit: str) -> None:
        self.stream = stream
        self.unit = unit
        self.began = time.perf_counter()
        self.tty = bool(getattr(stream, "isatty", lambda: False)())
        self.shown = -1
        self.drawn = False

    def update(self, done: int, fraction: float | None) -> None:
        """Show ``done`` units, a ``fraction`` of the whole (None when the whole is unknown)."""
        if self.tty:
            seconds = time.perf_counter() - self.began
            rate = f" {done / seconds:,.0f}/s" if seconds > 0 else ""
            if fraction is None:
                line = f"{done:,} {self.unit}{rate}"
            else:
                filled = int(30 * min(fraction, 1.0))
                bar = "#" * filled + "-" * (30 - filled)
                line = f"[{bar}] {fraction:4.0%} {done:,} {self.unit}{rate}"
            self.stream.write("\r" + line)
            self.stream.flush()
            self.drawn = True
            return
        tenth = int(10 * fraction) if fraction is not None else done // 100_000
        if tenth > self.shown:
            self.shown = tenth
            shown = f"{fraction:.0%} " if fraction is not None else ""
            self.stream.write(f"{shown}{done:,} {self.unit}\n")

    def close(self) -> None:
        """End the progress line."""
        if self.drawn:
            self.stream.write("\n")
            self.drawn = False


def _db(args: argparse.Namespace) -> str:
    return str(args.db or os.environ.get("CATALOGQL_DB") or DEFAULT_DB)


def _in_memory(url: str) -> bool:
    return url.startswith("memory:")


_MEMORY_WARNING = (
    "warning: memory:// keeps nothing: the catalog ends with this command (the records are "
    "checked and stored, then dropped); load into sqlite:///FILE.db or postgresql://... to "
    "keep them"
)


def _open(url: str, *, create: bool = False) -> Any:
    """The catalog at ``url``; only ``load`` (and ``demo``) may create one (``create``).

    ``search`` and ``get`` (``create`` false) refuse ``memory://``: a new process's memory
    catalog is always empty.
    """
    from catalogql.search import CatalogError, open_catalog

    if not create and _in_memory(url):
        raise UsageError(
            f"{url} is empty here: a memory catalog lives only as long as one command",
            hint="load the records into sqlite:///FILE.db (catalogql load FILE --db URL) and "
            "search that",
        )

    try:
        return open_catalog(url, create=create)
    except CatalogError as error:
        raise UsageError(str(error)) from None


def _run_load(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from catalogql.search import InvalidRecord
    from catalogql.search.records import EQUALITY_INDEXED, check_records
    from catalogql.search.sources import Entry, read_entries

    if args.batch_size < 1:
        raise UsageError("--batch-size must be at least 1")
    if args.dry_run and args.skip_bad:
        raise UsageError("--dry-run stores nothing, so --skip-bad has nothing to skip: use one")
    path = Path(args.file)
    try:
        size = path.stat().st_size if args.file != "-" else None
        stream = sys.stdin.buffer if args.file == "-" else path.open("rb")
    except OSError as exc:
        raise UsageError(f"cannot read {args.file}: {exc.strerror or exc}") from None
    checked = args.dry_run or args.skip_bad  # every record is checked as it is read
    bar = ProgressBar(err, "records")
    # where each record handed to the store came from (line, item): not the entry, which would
    # keep the record alive after the store has taken what it keeps
    places: list[tuple[int, str]] = []

    def place(at: int) -> str:
        return Entry(*places[at]).where

    bad = 0

    def report(where: str, problem: Problem) -> None:
        nonlocal bad
        bad += 1
        bar.close()
        print(_error(problem, f"{args.file}:{where}: {problem.message}"), file=err)

    catalog = None if args.dry_run else _open(_db(args), create=True)
    if catalog is not None and _in_memory(_db(args)):
        print(_MEMORY_WARNING, file=err)
    indexed = EQUALITY_INDEXED if catalog is None else catalog.indexed
    changed = 0  # footprints split at the antimeridian or repaired to be indexed

    def note(where: str, problem: Problem) -> None:
        nonlocal changed
        changed += 1
        if changed <= _NOTES_SHOWN:
            bar.close()
            print(f"{args.file}:{where}: warning: {problem.field}: {problem.message} "
                  f"[{problem.code}]", file=err)  # fmt: skip

    def records() -> Iterator[Any]:
        if checked:
            yield from checked_records()
            return
        for entry in read_entries(stream):
            if entry.error is not None:
                problem = Problem("", None, entry.error, _BAD_TEXT_HINT, "load.not-json")
                raise _BadLine(entry.where, problem)
            places.append((entry.line, entry.item))
            yield entry.record

    def checked_records() -> Iterator[Any]:
        """Every record checked a batch at a time; each bad one reported, in file order."""
        entries = read_entries(stream)
        while chunk := list(itertools.islice(entries, args.batch_size)):
            readable = [entry.record for entry in chunk if entry.error is None]
            outcomes = iter(check_records(readable, len(places), indexed, owned=True))
            for entry in chunk:
                if entry.error is not None:
                    report(entry.where, Problem("", None, entry.error, _BAD_TEXT_HINT,
                                                "load.not-json"))  # fmt: skip
                    continue
                outcome = next(outcomes)
                if isinstance(outcome, InvalidRecord):
                    field = outcome.problems[0]
                    report(entry.where, Problem(outcome.field, None,
                                                f"{outcome.field}: {outcome.reason}",
                                                field.hint, field.code))  # fmt: skip
                    continue
                for problem in outcome.notes:
                    note(entry.where, problem)
                places.append((entry.line, entry.item))
                yield entry.record

    def fraction() -> float | None:
        if not size or stream is sys.stdin.buffer:
            return None
        with contextlib.suppress(OSError, ValueError):
            return stream.tell() / size
        return None

    began = time.perf_counter()
    stored = 0

    def progress(count: int) -> None:
        nonlocal stored
        stored += count
        bar.update(stored, fraction())

    try:
        if catalog is None:  # --dry-run: read and check everything, store nothing
            for _ in records():
                if len(places) % args.batch_size == 0:
                    bar.update(len(places), fraction())
            bar.close()
            _noted(changed, err)
            print(
                f"dry run: {counted(len(places), 'record')} "
                f"{'is' if len(places) == 1 else 'are'} valid, {bad:,} "
                f"{'is' if bad == 1 else 'are'} not; nothing was stored",
                file=out,
            )
            return 1 if bad else 0
        before = len(catalog)
        catalog.add_records(
            records(),
            readers=args.readers,
            batch_size=args.batch_size,
            progress=progress,
            on_note=(lambda _, __: None) if checked else lambda at, p: note(place(at), p),
            owned=True,  # read_entries decoded them: no one else holds them
        )
        added = len(catalog) - before
    except _BadLine as exc:
        bar.close()
        print(_error(exc.problems[0], f"{args.file}:{exc.where}: {exc.message}"), file=err)
        print(_stopped(catalog), file=err)
        return 1
    except InvalidRecord as exc:
        bar.close()
        line = place(exc.position) if exc.position < len(places) else "?"
        where = f"{args.file}:{line}: {exc.field}: {exc.reason}"
        print(_error(exc.problems[0], where), file=err)
        print(_stopped(catalog), file=err)
        return 1
    except KeyboardInterrupt:
        bar.close()
        held = _held(catalog)
        print(
            f"interrupted after storing {counted(stored, 'record')} of {args.file}; {held} "
            "(batches are stored whole: run the same command again to finish, loading is "
            "idempotent)",
            file=err,
        )
        return 130
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()
        if catalog is not None:
            catalog.close()
    bar.close()
    _noted(changed, err)
    seconds = time.perf_counter() - began
    rate = f", {stored / seconds:,.0f} records/s" if seconds > 0 and stored else ""
    print(
        f"stored {counted(stored, 'record')} in {_db(args)}: {added:,} added, {stored - added:,} "
        f"replaced, {bad:,} skipped, in {seconds:.1f} s{rate}",
        file=out,
    )
    return 0


def _error(problem: Problem, message: str) -> str:
    """A problem of a records file in the one shape of the CLI's errors (``error: ...``).

    >>> print(_error(Problem("", None, "not JSON", "one record a line", "load.not-json"),
    ...              "records.jsonl:2: not JSON"))
    error: records.jsonl:2: not JSON (hint: one record a line)
    """
    return "error: " + render_problem(problem, message=message)


_NOTES_SHOWN = 10  # footprint notes printed one by one; the rest are counted


def _noted(changed: int, err: TextIO) -> None:
    """The closing line about footprints changed to be indexed, if any.

    >>> import io; buffer = io.StringIO(); _noted(12, buffer); print(buffer.getvalue(), end="")
    warning: 12 footprints were split at the antimeridian or repaired to be indexed (2 not shown); their footprintWkt text is stored as sent
    """  # noqa: E501
    if changed:
        hidden = f" ({changed - _NOTES_SHOWN:,} not shown)" if changed > _NOTES_SHOWN else ""
        print(
            f"warning: {counted(changed, 'footprint')} "
            f"{'was' if changed == 1 else 'were'} split at the antimeridian or repaired to be "
            f"indexed{hidden}; their footprintWkt text is stored as sent",
            file=err,
        )


def _stopped(catalog: Any) -> str:
    """What a load stopped by a bad record left in the catalog."""
    return f"nothing of that batch was stored; {_held(catalog)} ({_RERUN})"


def _held(catalog: Any) -> str:
    """How many records a catalog holds, as a clause ("" without a catalog)."""
    if catalog is None:
        return ""
    n = len(catalog)
    return f"{counted(n, 'record')} {'is' if n == 1 else 'are'} in {catalog.url}"


_BAD_TEXT_HINT = (
    "each line must hold one JSON record (JSON Lines), or the file one JSON array of records "
    'or a search response ({"results": [...]})'
)
_RERUN = (
    "loading is idempotent: fix it and load the file again; --dry-run lists every bad line, "
    "--skip-bad loads the rest"
)


class _BadLine(CatalogqlError):
    """Text of a records file that is not JSON (reported with where it is)."""

    status = 400
    default_code = "load.not-json"

    def __init__(self, where: str, problem: Problem) -> None:
        self.where = where
        super().__init__(problem.message, (problem,))


def _run_search(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from catalogql.search import InvalidSearchRequest, SearchRequest

    body: dict[str, Any] = {}
    if args.request is not None:
        raw = _read_text(args.request) if args.request == "-" else _read_file(args.request)
        try:
            loaded = json.loads(raw)
        except ValueError as exc:
            raise UsageError(f"{args.request} is not JSON: {exc}") from None
        if not isinstance(loaded, dict):
            raise UsageError(f"{args.request} must hold a JSON object (the request body)")
        body.update(loaded)
    for key, value in (
        ("searchAreaWkt", args.area),
        ("startDate", args.start),
        ("endDate", args.end),
        ("limit", args.limit),
    ):
        if value is not None:
            body[key] = value
    if args.types:
        body["types"] = [*(body.get("types") or []), *args.types]
    if args.filters:
        body["filters"] = [*(body.get("filters") or []), *args.filters]
    if args.count_total:
        body["countTotal"] = True
    try:  # the request is checked first: its errors are reported whatever the catalog
        request = SearchRequest.from_dict(body)
    except InvalidSearchRequest as error:
        print(json.dumps(error.to_body(), indent=2, ensure_ascii=False), file=err)
        return 1
    catalog = _open(_db(args))
    try:
        answer = catalog.search(request, readers=args.as_readers)
    finally:
        catalog.close()
    for warning in answer.get("warnings", ()):
        print(_warning_line(warning), file=err)
    if args.table:
        from catalogql.console import result_table

        for line in result_table(answer["results"]):
            print(line, file=out)
        print(json.dumps(answer["stats"]), file=out)
    else:
        print(json.dumps(answer, indent=2, ensure_ascii=False), file=out)
    return 0


def _warning_line(warning: dict[str, Any]) -> str:
    """One request warning of a search answer as a line of text for standard error.

    >>> _warning_line({"field": "limt", "offset": None, "message": "unknown field 'limt' is "
    ...     "ignored", "hint": "did you mean 'limit'?", "code": "request.unknown-field"})
    "warning: limt: unknown field 'limt' is ignored [request.unknown-field] (hint: did you mean 'limit'?)"
    """  # noqa: E501
    at = f" (offset {warning['offset']})" if warning.get("offset") is not None else ""
    hint = f" (hint: {warning['hint']})" if warning.get("hint") else ""
    where = f"{warning['field']}: " if warning.get("field") else ""
    return f"warning: {where}{warning['message']}{at} [{warning['code']}]{hint}"


def _read_file(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise UsageError(f"{path} is not UTF-8 text") from None


def _run_get(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from catalogql.search import RecordNotFound

    catalog = _open(_db(args))
    try:
        record = catalog.get_record(args.identifier, readers=args.as_readers)
    except RecordNotFound as error:
        print(json.dumps(error.to_body()), file=err)
        return 1
    finally:
        catalog.close()
    print(json.dumps(record, indent=2, ensure_ascii=False), file=out)
    return 0


def _server_module(name: str) -> Any:
    """A module of the HTTP layer, or a usage error naming the extra it needs."""
    import importlib

    try:
        return importlib.import_module(f"catalogql.http.{name}")
    except ModuleNotFoundError as exc:
        if exc.name is not None and exc.name.startswith("catalogql"):
            raise
        raise UsageError(
            f"the HTTP server needs {exc.name}, which is not installed",
            hint="install the server extra: pip install 'catalogql[server]'",
        ) from None


def _run_serve(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    _server_module("serve").serve(
        _db(args),
        storage=args.storage,
        host=args.host,
        port=args.port,
        workers=args.workers,
        secret_file=args.secret_file,
    )
    return 0


def _run_token(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    auth = _server_module("auth")
    secret = auth.resolve_secret(_db(args), args.secret_file)
    token = auth.make_token(
        secret,
        args.sub,
        email=args.email,
        groups=args.groups or (),
        org=args.org,
        ttl=auth.parse_ttl(args.ttl),
    )
    print(token, file=out)
    return 0


def _conformance_module() -> Any:
    """``catalogql.testing.conformance``, loaded on demand: it needs the testing extra.

    The CLI does not import the test tooling (pyproject's contracts): only this command loads
    it, when it runs, so that the other commands work without Hypothesis installed.
    """
    import importlib

    try:
        return importlib.import_module("catalogql.testing.conformance")
    except ModuleNotFoundError as exc:
        if exc.name is not None and exc.name.startswith("catalogql"):
            raise
        raise UsageError(
            f"catalogql conformance needs {exc.name}, which is not installed",
            hint="install the testing extra: pip install 'catalogql[testing]'",
        ) from None


def _load_corpus(args: argparse.Namespace, path: Path, err: TextIO) -> None:
    """Run --load-command with {corpus} replaced, or wait for the user to load the corpus."""
    import shlex
    import subprocess

    if args.load_command:
        command = args.load_command.replace("{corpus}", shlex.quote(str(path)))
        print(f"loading the corpus: {command}", file=err)
        done = subprocess.run(command, shell=True, check=False)  # the user's own command
        if done.returncode != 0:
            raise UsageError(
                f"the load command failed with exit status {done.returncode}: {command}",
                hint="fix --load-command: it runs in a shell, {corpus} replaced by the corpus file",
            )
    elif not args.loaded:
        print(f"Load {path} into the server at {args.url} (for a catalogql server: "
              f"catalogql load {path} --db URL), then press Enter.", file=err)  # fmt: skip
        if not sys.stdin.isatty():
            raise UsageError(
                "no --load-command, and no terminal to wait on",
                hint="give --load-command '...{corpus}...', or load the corpus yourself and "
                "pass --loaded",
            )
        sys.stdin.readline()


def _run_conformance(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    conformance = _conformance_module()
    for name in ("examples", "max_time", "size"):
        if getattr(args, name) <= 0:
            raise UsageError(f"--{name.replace('_', '-')} must be positive")
    records = conformance.corpus(seed=args.seed, size=args.size)
    path = Path(args.corpus or f"catalogql-conformance-{args.seed}.jsonl")
    conformance.write_corpus(records, str(path))
    print(f"wrote {len(records)} records to {path}", file=err)
    _load_corpus(args, path, err)
    target = conformance.HTTPTarget(args.url, token=args.token, timeout=args.timeout)
    try:
        report = conformance.run(
            target,
            records,
            examples=args.examples,
            max_time=args.max_time,
            seed=args.seed,
            name=args.url,
        )
    finally:
        target.close()
    if args.json:
        Path(args.json).write_text(
            json.dumps(report.to_json(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
    if args.junit:
        Path(args.junit).write_text(report.junit(), encoding="utf-8")
    print(report.text(), file=out)
    return 0 if report.ok else 1


# --------------------------------------------------------------------------------------------
# The parser and main


def _add_expression_arguments(parser: argparse.ArgumentParser, optional: bool = False) -> None:
    parser.add_argument(
        "--types", action="store_true", help="TEXT is a type expression, not a filter"
    )
    parser.add_argument(
        "--strict",
        action="store_true",
        help="reject the compatibility forms (LIKE, a comma between conditions)",
    )
    parser.add_argument(
        "--schema",
        metavar="FILE",
        help="a queryables JSON Schema: unknown properties and type mismatches become errors",
    )
    parser.add_argument(
        "text",
        metavar="TEXT",
        nargs="?" if optional else None,
        help="the expression, or - to read standard input",
    )


def build_parser() -> argparse.ArgumentParser:
    """The ``catalogql`` argument parser; each subcommand sets ``run`` to its handler.

    Returns:
        The parser.

    >>> build_parser().parse_args(["check", "--strict", "a = 1"]).strict
    True
    """
    parser = argparse.ArgumentParser(
        prog="catalogql",
        description="catalogql: query satellite-imagery catalogs. Check GBDX-style filters "
        "and type expressions and compile them to SQL, CQL2, canonical GBDX text or "
        "pygeofilter; load records into a catalog (SQLite, PostgreSQL or memory) and run GBDX "
        "Catalog v2 searches on it; or see it all in a demo.",
        epilog="Run catalogql COMMAND --help for a command's options. Exit status: 0 valid, "
        "1 invalid input, 2 bad usage.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    check_parser = commands.add_parser(
        "check",
        help="validate a filter or type expression",
        description="Validate a filter (or a type expression with --types). Exit status 0 when "
        "it is valid (warnings allowed), 1 when it is not.",
    )
    _add_expression_arguments(check_parser)
    check_parser.add_argument(
        "--json", action="store_true", help='print {"valid": ..., "diagnostics": [...]}'
    )
    check_parser.set_defaults(run=_run_check)

    compile_parser = commands.add_parser(
        "compile",
        help="compile a filter or type expression",
        description="Print the expression compiled for a target; errors go to standard error "
        "with exit status 1.",
    )
    compile_parser.add_argument(
        "--to", required=True, choices=sorted(COMPILERS), help="the target language"
    )
    functions = compile_parser.add_mutually_exclusive_group()
    functions.add_argument(
        "--functions",
        action="store_true",
        help="with --to sql-postgresql: print, instead of the SQL, the CREATE FUNCTION text of "
        "the helper functions it calls (nothing when it calls none; the SQL's '-- needs:' line "
        "names them)",
    )
    functions.add_argument(
        "--all-functions",
        action="store_true",
        help="with --to sql-postgresql: print the CREATE FUNCTION text of every helper "
        "function (no TEXT needed)",
    )
    _add_expression_arguments(compile_parser, optional=True)
    compile_parser.set_defaults(run=_run_compile)

    def db_option(command: argparse.ArgumentParser) -> None:
        command.add_argument(
            "--db", help=f"the catalog URL (default: $CATALOGQL_DB, else {DEFAULT_DB})"
        )

    load_parser = commands.add_parser(
        "load",
        help="load records into a catalog",
        description="Load records into a catalog, in batches, each stored whole or not at all; "
        "a record whose identifier is stored replaces it. The file holds JSON Lines, a JSON "
        "array, or a search response (GBDX's, or catalogql search's); gzip is read as such. "
        "A bad record stops the load (the batches before it stay stored) unless --skip-bad; "
        "--dry-run lists every bad record.",
    )
    load_parser.add_argument(
        "file", help="a .jsonl/.json file (gzip allowed), or - for standard input"
    )
    db_option(load_parser)
    load_parser.add_argument(
        "--batch-size",
        type=int,
        default=5000,
        metavar="N",
        help="records per batch, each stored whole (default: %(default)s)",
    )
    load_parser.add_argument(
        "--dry-run",
        action="store_true",
        help="check every record and list every bad one; store nothing (no --db needed)",
    )
    load_parser.add_argument(
        "--skip-bad", action="store_true", help="load the good records, list the bad ones"
    )
    load_parser.add_argument(
        "--reader", dest="readers", action="append", metavar="NAME",
        help="who may read the records: user:<sha1>, group:G, org:O, email:E or '*' (repeat; "
        "default '*', every authenticated principal)",
    )  # fmt: skip
    load_parser.set_defaults(run=_run_load)

    search_parser = commands.add_parser(
        "search",
        help="run a GBDX search",
        description="Run a search from a request body (a JSON file, or - for standard input) "
        "and/or options, and print the GBDX response.",
    )
    search_parser.add_argument(
        "request", nargs="?", metavar="REQUEST", help="REQUEST.json, or - for standard input"
    )
    db_option(search_parser)
    search_parser.add_argument("--area", help="searchAreaWkt: a WKT POLYGON in lon/lat")
    search_parser.add_argument("--start", help="startDate (inclusive)")
    search_parser.add_argument(
        "--end", help="endDate (inclusive; a date alone, 2014-12-31, includes its whole UTC day)"
    )
    search_parser.add_argument(
        "--types",
        action="append",
        default=[],
        metavar="EXPR",
        help="a type expression; repeated --types are ANDed (a record must match each)",
    )
    search_parser.add_argument(
        "--filter", dest="filters", action="append", default=[], metavar="TEXT",
        help="a filter; repeated --filter are ANDed",
    )  # fmt: skip
    search_parser.add_argument("--limit", type=int, help="at most this many records (1-1000)")
    search_parser.add_argument(
        "--count-total", action="store_true", help="also count every match (stats.totalMatched)"
    )
    search_parser.add_argument(
        "--table", action="store_true", help="print a table and the stats instead of JSON"
    )
    search_parser.add_argument(
        "--as-reader", dest="as_readers", action="append", metavar="NAME",
        help="see only what these reader names may read (repeat; include '*' for the records "
        "every authenticated principal reads); default: everything",
    )  # fmt: skip
    search_parser.set_defaults(run=_run_search)

    get_parser = commands.add_parser(
        "get",
        help="print one record by identifier",
        description="Print the record with this identifier as JSON. A record that is not in "
        "the catalog prints the 404 body on standard error, with exit status 1.",
    )
    get_parser.add_argument("identifier", metavar="ID", help="the record's identifier")
    db_option(get_parser)
    get_parser.add_argument(
        "--as-reader", dest="as_readers", action="append", metavar="NAME",
        help="see only what these reader names may read (repeat; include '*' for the records "
        "every authenticated principal reads); default: everything",
    )  # fmt: skip
    get_parser.set_defaults(run=_run_get)

    serve_parser = commands.add_parser(
        "serve",
        help="serve the catalog over HTTP (GBDX v2 search and record, bearer tokens)",
        description="Serve the catalog over HTTP with uvicorn: POST /catalog/v2/search, "
        "GET /catalog/v2/record/{id}, GET /healthz and GET /openapi.json. Every route but "
        "/healthz and /openapi.json needs 'Authorization: Bearer TOKEN' (catalogql token). "
        "The secret: --secret-file, else $CATALOGQL_SECRET, else a file made with mode 0600 "
        "beside an SQLite catalog (DB.secret) or in ~/.config/catalogql/secret. Ctrl-C or "
        "SIGTERM stops it after running requests finish.",
    )
    db_option(serve_parser)
    serve_parser.add_argument("--storage", metavar="DIR", help="the folder uploads go to")
    serve_parser.add_argument(
        "--host", default="127.0.0.1", help="the address to listen on (default: %(default)s)"
    )
    serve_parser.add_argument(
        "--port", type=int, default=8000, help="the port to listen on (default: %(default)s)"
    )
    serve_parser.add_argument(
        "--workers", type=int, default=1, metavar="N",
        help="worker processes (default: 1); several share an SQLite file or PostgreSQL",
    )  # fmt: skip
    serve_parser.add_argument("--secret-file", metavar="FILE", help="the token secret's file")
    serve_parser.set_defaults(run=_run_serve)

    token_parser = commands.add_parser(
        "token",
        help="print a bearer token for the server",
        description="Print an HS256 JWT signed with the server's secret (found as serve finds "
        "it: --secret-file, $CATALOGQL_SECRET, or the file beside the --db catalog).",
    )
    token_parser.add_argument("--sub", required=True, help="the user id (the token's subject)")
    token_parser.add_argument("--email", help="their e-mail address")
    token_parser.add_argument(
        "--group", dest="groups", action="append", metavar="GROUP", help="a group (repeat)"
    )
    token_parser.add_argument("--org", help="their organisation")
    token_parser.add_argument(
        "--ttl", default="30d", help="how long it is valid: 90s, 45m, 12h, 30d (default: 30d)"
    )
    db_option(token_parser)
    token_parser.add_argument("--secret-file", metavar="FILE", help="the token secret's file")
    token_parser.set_defaults(run=_run_token)

    conformance_parser = commands.add_parser(
        "conformance",
        help="test another GBDX search server against the reference (needs the testing extra)",
        description="Property-test a running GBDX-style search server against catalogql's "
        "reference engine: write a seeded corpus (--corpus), load it into the server "
        "(--load-command, or wait until you have), send Hypothesis-drawn search requests to "
        "both, and report every disagreement shrunk to a minimal request with the rule of the "
        "SPEC it breaks. Exit status 0 when the server agrees, 1 on any disagreement, 2 bad "
        "usage.",
    )
    conformance_parser.add_argument("url", metavar="URL", help="the server's base URL")
    conformance_parser.add_argument("--token", help="the bearer token to send")
    conformance_parser.add_argument(
        "--corpus", metavar="FILE",
        help="where to write the corpus, JSON lines (default: catalogql-conformance-SEED.jsonl)",
    )  # fmt: skip
    conformance_parser.add_argument(
        "--load-command", metavar="COMMAND",
        help="a shell command that loads the corpus into the server; {corpus} is its file",
    )  # fmt: skip
    conformance_parser.add_argument(
        "--loaded", action="store_true", help="the corpus is loaded already: do not wait"
    )
    conformance_parser.add_argument(
        "--examples", type=int, default=200, metavar="N",
        help="requests to draw (default: %(default)s; shrinking sends more)",
    )  # fmt: skip
    conformance_parser.add_argument(
        "--max-time", type=float, default=300.0, metavar="S",
        help="seconds at most (default: %(default)s)",
    )  # fmt: skip
    conformance_parser.add_argument(
        "--seed", type=int, default=0, help="seed of the corpus and the requests (default: 0)"
    )
    conformance_parser.add_argument(
        "--size", type=int, default=1200, metavar="N",
        help="records in the corpus (default: %(default)s; past 1000 the cap shows)",
    )  # fmt: skip
    conformance_parser.add_argument(
        "--timeout", type=float, default=60.0, metavar="S",
        help="seconds to wait for each answer (default: %(default)s)",
    )  # fmt: skip
    conformance_parser.add_argument("--json", metavar="FILE", help="write the report as JSON")
    conformance_parser.add_argument("--junit", metavar="FILE", help="write a JUnit XML report")
    conformance_parser.set_defaults(run=_run_conformance)

    add_service_commands(commands, f"the catalog URL (default: $CATALOGQL_DB, else {DEFAULT_DB})")

    demo_parser = commands.add_parser(
        "demo",
        help="build a synthetic catalog and run the GBDX documentation's searches",
        description="Build an SQLite catalog from the synthetic generator and run the example "
        "searches of the GBDX documentation, printing the request, its SQL and CQL2, the "
        "results and the stats; then a tour of the catalog service (--service: that tour "
        "alone). --tour prints a short tour of the query language instead.",
    )
    demo_parser.add_argument(
        "--records",
        type=int,
        default=100_000,
        metavar="N",
        help="records in the synthetic catalog (default: %(default)s)",
    )
    demo_parser.add_argument(
        "--db", help="fill this catalog (default: an SQLite file in a temporary folder)"
    )
    demo_parser.add_argument(
        "--force",
        action="store_true",
        help="write the synthetic records into a --db catalog that already holds records",
    )
    demo_parser.add_argument(
        "--tour", action="store_true", help="a tour of the query language instead"
    )
    demo_parser.add_argument(
        "--service",
        action="store_true",
        help="only the service tour (a product, three bands, two GeoTIFFs uploaded, who finds "
        "them), which the demo runs after its searches",
    )
    demo_parser.set_defaults(run=_run_demo)
    return parser


def _tolerate_unencodable_output() -> None:
    """Let text the terminal cannot encode (a lone surrogate from argv) print as escapes."""
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            with contextlib.suppress(ValueError):
                stream.reconfigure(errors="backslashreplace")


def _silence_stdout() -> None:
    """After a broken pipe, point stdout at devnull so the interpreter's final flush is quiet."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


def main(argv: list[str] | None = None) -> int:
    """Run the ``catalogql`` command line.

    Args:
        argv: The arguments after the program name; ``sys.argv[1:]`` when None.

    Returns:
        The exit status: 0 valid (or the reader of the output went away), 1 invalid input, 2
        bad usage.

    >>> main(["check", "cloudCover < 20"])
    ok
    0
    >>> main(["check", "cloudCover < 20 and offNadirAngle < 10"])  # doctest: +ELLIPSIS
    error: 'and' is not an operator: operators must be uppercase at line 1, column 17 [...]
      cloudCover < 20 and offNadirAngle < 10
                      ^^^
    ...
    1
    """
    _tolerate_unencodable_output()
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # --help, --version, and usage errors (already printed)
        return exc.code if isinstance(exc.code, int) else 0 if exc.code is None else 2
    try:
        status: int = args.run(args, sys.stdout, sys.stderr)
        sys.stdout.flush()
    except UsageError as exc:
        command = " ".join(filter(None, (args.command, getattr(args, "action", None))))
        print(f"catalogql {command}: error: {render(exc)}", file=sys.stderr)
        return 2
    except CatalogqlError as exc:
        print(f"error: {render(exc)}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # the reader went away, as in `catalogql demo | head -1`
        _silence_stdout()
        return 0
    except KeyboardInterrupt:
        return 130
    return status
