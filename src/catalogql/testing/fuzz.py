"""A bounded fuzzer: generated and mutated inputs through every entry point, under a watchdog.

The contract (SPEC §2) is that no input makes the library raise anything but its own
:class:`~catalogql.CatalogqlError`, hang, or take unbounded memory. :func:`run` checks it for a
fixed budget of inputs: valid inputs drawn from the property tests' generators
(:mod:`catalogql.testing.strategies`: filters, type expressions, records, search requests) and
read from corpora (TSV files whose lines hold filter or type texts), then mutated (bit flips,
inserted, deleted and duplicated spans, splices of two inputs, deep ``NOT (`` nesting, long
repeats, tabs, wide characters, NUL and lone surrogates, huge numbers and wildcards, mutated JSON
request bodies). Each input goes through every entry point that takes it: ``parse_filter``,
``check``, the ``to_gbdx`` round trip, ``to_sql`` (SQLite and PostgreSQL), ``to_cql2_text`` and
``to_cql2_json``, ``compile_predicate`` on records, ``parse_types`` and ``compile_types``,
``SearchRequest.from_dict``, and searches on a small memory and SQLite catalog.

Inputs run in worker processes. Each step has a budget of CPU time, so that a loaded machine
does not make hangs (``ITIMER_PROF`` inside the worker; the parent kills a worker stuck in C code,
or one waiting a minute) and a memory budget (growth of the peak resident size;
``RLIMIT_AS`` keeps a runaway input from taking the machine). A finding is one of:

* ``foreign``: an exception that is not a ``CatalogqlError``;
* ``hang``: a step over the time budget;
* ``memory``: a step over the memory budget (or out of address space);
* ``crash``: a worker that died (a signal, an abort in C code);
* ``law``: a broken law (``parse_filter(to_gbdx(n)) == n``; the memory and SQLite stores
  answering one search differently).

Each distinct finding (class, entry point, exception) is shrunk by delta debugging and written
with its reproducer to the output directory; the summary counts inputs, entry points and
findings, and lists the slowest steps and the peak memory.

Run it as ``python -m catalogql.testing.fuzz --inputs 100000`` (``make fuzz``).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import gc
import hashlib
import json
import math
import multiprocessing
import multiprocessing.connection
import os
import random
import resource
import signal
import sys
import time
import traceback
import warnings
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from multiprocessing.sharedctypes import Synchronized, SynchronizedString
from pathlib import Path
from typing import Any

import catalogql as cq
from catalogql.errors import CatalogqlError

FILTER_STEPS = (
    "parse_filter",
    "check",
    "to_gbdx",
    "to_sql:sqlite",
    "to_sql:postgresql",
    "to_cql2_text",
    "to_cql2_json",
    "compile_predicate",
    "search:memory",
    "search:sqlite",
)
TYPES_STEPS = (
    "parse_types",
    "check:types",
    "to_sql:sqlite",
    "to_sql:postgresql",
    "compile_types",
    "search:memory",
    "search:sqlite",
)
REQUEST_STEPS = ("SearchRequest.from_dict", "search:memory", "search:sqlite")
CLASSES = ("foreign", "hang", "memory", "crash", "law")

# --------------------------------------------------------------------------------------------
# Inputs


@dataclasses.dataclass(frozen=True)
class Case:
    """One fuzz input.

    Attributes:
        kind: ``"filter"``, ``"types"`` or ``"request"``.
        payload: The filter or type text, or the request body (any JSON-like value).
        origin: How it was made (``generated``, ``corpus``, the mutations applied).
    """

    kind: str
    payload: Any
    origin: str = ""


@dataclasses.dataclass
class Pools:
    """The valid inputs that mutation starts from, and the records searched and matched."""

    filters: list[str]
    types: list[str]
    requests: list[dict[str, Any]]
    records: list[dict[str, Any]]


def _draw(strategy: Any, n: int, seed: int) -> list[Any]:
    """Up to ``n`` values of a Hypothesis strategy, the same ones for the same seed."""
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as with_seed

    drawn: list[Any] = []
    if n < 1:  # Hypothesis refuses max_examples=0 (a reproducer's make_pools(1, 1) asks for it)
        return drawn

    @with_seed(seed)
    @settings(
        max_examples=n,
        database=None,
        deadline=None,
        derandomize=False,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def collect(value: Any) -> None:
        drawn.append(value)

    collect()
    return drawn


def read_corpus(paths: Iterable[str | Path]) -> list[tuple[str, str]]:
    """Filter and type texts from TSV corpora: ``(kind, text)`` pairs.

    A line's text is its first field, unless the first field names the kind (``filter`` or
    ``types``): then the next field, or the one after an ``ok``/``warn:``/``error`` expectation.
    Missing paths are skipped; a directory means its ``*.tsv`` files.

    Args:
        paths: Files or directories.

    Returns:
        The texts with their kinds.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     lines = "# c\\nfilter\\tok\\ta = 1\\ntypes\\tWV02\\tx\\n"
    ...     _ = (Path(folder) / "a.tsv").write_text(lines)
    ...     read_corpus([folder, Path(folder) / "missing.tsv"])
    [('filter', 'a = 1'), ('types', 'WV02')]
    """
    found: list[tuple[str, str]] = []
    files: list[Path] = []
    for path in map(Path, paths):
        files.extend(
            sorted(path.glob("*.tsv")) if path.is_dir() else [path] if path.exists() else []
        )
    for file in files:
        for line in file.read_text(encoding="utf-8").splitlines():
            if not line or line.startswith("#"):
                continue
            fields = line.split("\t")
            if fields[0] in ("filter", "types") and len(fields) > 1:
                expect = fields[1] in ("ok", "error") or fields[1].startswith("warn:")
                text = fields[2] if expect and len(fields) > 2 else fields[1]
                found.append((fields[0], text))
            else:
                found.append(("filter", fields[0]))
    return found


def make_pools(seed: int, size: int = 300) -> Pools:
    """Draw the valid inputs from the property tests' strategies.

    Args:
        seed: The Hypothesis seed.
        size: About how many filters to draw (fewer types and requests).

    Returns:
        The pools.
    """
    from catalogql.testing import strategies as s

    records = _draw(s.records(types=["WV02", "WV03_VNIR", "IDAHOImage"]), 60, seed)
    for i, record in enumerate(records):
        record["identifier"] = f"fuzz-{i}"
    return Pools(
        filters=_draw(s.filter_texts(), size, seed)
        + _draw(s.filter_texts(compat=False), size // 3, seed),
        types=_draw(s.type_texts(), max(10, size // 3), seed),
        requests=_draw(s.search_requests(), max(10, size // 3), seed),
        records=records,
    )


def small_catalog(url: str, records: Sequence[dict[str, Any]]) -> Any:
    """A catalog at ``url`` holding the records it accepts of ``records`` (one at a time).

    Args:
        url: ``memory://`` or ``sqlite://``.
        records: The records to add.

    Returns:
        The catalog.

    >>> good = {"identifier": "x", "type": ["T"], "properties": {"timestamp": "2016-01-01",
    ...     "footprintWkt": "POLYGON((0 0,1 0,1 1,0 0))"}}
    >>> len(small_catalog("memory://", [good, {"identifier": "y"}]))
    1
    """
    from catalogql.search import open_catalog

    catalog = open_catalog(url)
    try:
        catalog.add_records(list(records))
    except CatalogqlError:
        for record in records:
            with contextlib.suppress(CatalogqlError):
                catalog.add_records([record])
    return catalog


# --------------------------------------------------------------------------------------------
# Mutation

_NOISE = (
    "AND", "OR", "NOT", "LIKE", "NOT LIKE", "and", "(", ")", "'", '"', "''", "=", "<>", "!=", "<",
    ">=", "*", "\\", "\\*", ",", " ", "\t", "\n", "\r\n", "%", "_", ".", "1e5", "1e999", "-0",
    "NaN", "\x00", "\ud800", "\udfff", "é", "全角", "\u3000", "\u202e", "\ufeff", "🛰",
    "\U0010ffff", "null", "true",
)  # fmt: skip
_HUGE_NUMBERS = (
    "9" * 20, "-9223372036854775809", "1" + "0" * 309, "9" * 5000, "1e308", "1e-400",
    "0." + "0" * 400 + "1", "18446744073709551616",
)  # fmt: skip
_DEPTHS = (2, 10, 17, 30, 60, 200, 1000, 5000)


class Mutator:
    """Seeded mutation of texts and request bodies.

    >>> mutator = Mutator(random.Random(1), ["a = 1", "b < 2"])
    >>> text, how = mutator.text("cloudCover < 20")
    >>> isinstance(text, str) and how != ""
    True
    """

    def __init__(self, rng: random.Random, others: Sequence[str]) -> None:
        """A mutator drawing from ``rng``, splicing with ``others``."""
        self.rng = rng
        self.others = others

    def _span(self, text: str) -> tuple[int, int]:
        at = self.rng.randrange(len(text) + 1)
        return at, min(len(text), at + self.rng.choice((1, 2, 4, 16, 256)))

    def _noise(self) -> str:
        rng = self.rng
        roll = rng.random()
        if roll < 0.6:
            return rng.choice(_NOISE)
        if roll < 0.8:
            return rng.choice(_HUGE_NUMBERS)
        return chr(rng.choice((rng.randrange(0x80), rng.randrange(0x110000))))

    def once(self, text: str) -> tuple[str, str]:
        """One mutation of ``text`` and its name."""
        rng = self.rng
        kind = rng.choice(
            ("flip", "insert", "insert", "delete", "duplicate", "splice", "nest", "repeat",
             "number", "wildcard", "replace")
        )  # fmt: skip
        at, end = self._span(text)
        if kind == "flip" and text:
            data = bytearray(text.encode("utf-8", "surrogatepass"))
            data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
            return data.decode("utf-8", "surrogateescape"), kind
        if kind == "insert":
            return text[:at] + self._noise() + text[at:], kind
        if kind == "replace":
            return text[:at] + self._noise() + text[end:], kind
        if kind == "delete":
            return text[:at] + text[end:], kind
        if kind == "duplicate":
            return text[:end] + text[at:end] * rng.choice((1, 2, 10, 1000)) + text[end:], kind
        if kind == "splice" and self.others:
            other = rng.choice(self.others)
            return text[:at] + other[rng.randrange(len(other) + 1) :], kind
        if kind == "nest":
            depth = rng.choice(_DEPTHS)
            opener = rng.choice(("NOT (", "(", "NOT ", "(b=0 AND ", "NOT (b=0 OR "))
            closer = "" if opener == "NOT " else ")"
            return opener * depth + text + closer * depth, f"nest{depth}"
        if kind == "repeat":
            times = rng.choice((3, 10, 30, 100, 300, 3000))
            joiner = rng.choice((" AND ", " OR ", ",", " AND NOT "))
            return joiner.join([text] * times), f"repeat{times}"
        if kind == "number":
            return text[:at] + rng.choice(_HUGE_NUMBERS) + text[end:], kind
        if kind == "wildcard":
            times = rng.choice((3, 10, 100, 2000))
            return f"x = {'*a' * times}b" if not text else text[:at] + "*a" * times + text[
                at:
            ], kind
        return text + self._noise(), "append"

    def text(self, text: str) -> tuple[str, str]:
        """``text`` mutated one to four times (kept under 300,000 characters)."""
        names = []
        for _ in range(self.rng.choice((1, 1, 2, 3, 4))):
            text, name = self.once(text)
            names.append(name)
            if len(text) > 300_000:
                text = text[:300_000]
        return text, "+".join(names)

    def value(self, texts: Sequence[str]) -> Any:
        """A JSON-like value that a request field should not hold (or a mutated text)."""
        rng = self.rng
        return rng.choice(
            (
                None, True, 0, -1, 2**64, 10**400, 1.5, math.inf, math.nan, "", [], {}, [[]],
                [None], {"a": 1}, "x" * 100_000, [self.text(rng.choice(texts))[0]],
                self.text(rng.choice(texts))[0], [rng.choice(texts)] * 50, _star(rng),
                _star(rng), "POLYGON ((0 0, 1e308 0, 1e308 1e308, 0 0))", "POINT (1 2)",
                "2015-02-30", "9999-12-31T23:59:59.999Z", "0000-01-01",
            )
        )  # fmt: skip

    def request(
        self, body: dict[str, Any], filters: Sequence[str], types: Sequence[str]
    ) -> tuple[Any, str]:
        """A mutated request body."""
        rng = self.rng
        body = dict(body)
        names = []
        for _ in range(rng.choice((1, 2, 3))):
            kind = rng.choice(("field", "field", "filters", "types", "key", "json", "area"))
            names.append(kind)
            keys = [
                "searchAreaWkt",
                "startDate",
                "endDate",
                "types",
                "filters",
                "limit",
                "countTotal",
            ]
            if kind == "field":
                body[rng.choice(keys)] = self.value(filters)
            elif kind == "filters":
                body["filters"] = [
                    self.text(rng.choice(filters))[0] for _ in range(rng.choice((1, 3)))
                ]
            elif kind == "types":
                body["types"] = [self.text(rng.choice(types))[0]]
            elif kind == "area":
                area = body.get("searchAreaWkt")
                body["searchAreaWkt"] = self.text(area if isinstance(area, str) else _star(rng))[0]
            elif kind == "key":
                key = rng.choice(keys)
                body[rng.choice((key.upper(), key[:-1], key + " ", "limt"))] = body.pop(key, 1)
            else:
                text, _ = self.text(json.dumps(body))
                try:
                    return json.loads(text), "+".join(names)
                except ValueError:
                    continue
        return body, "+".join(names)


def _star(rng: random.Random) -> str:
    """A self-crossing star polygon of some vertices (polygon repair's worst case)."""
    n = rng.choice((5, 7, 51, 201, 1001))
    step = n // 2
    points = [
        (
            10 * math.cos(2 * math.pi * (i * step % n) / n),
            10 * math.sin(2 * math.pi * (i * step % n) / n),
        )
        for i in range(n)
    ]
    points.append(points[0])
    return "POLYGON ((" + ", ".join(f"{x:.6f} {y:.6f}" for x, y in points) + "))"


def cases(pools: Pools, corpus: Sequence[tuple[str, str]], seed: int) -> Iterator[Case]:
    """An endless, seeded stream of inputs: a quarter as drawn, the rest mutated.

    Args:
        pools: The generated inputs.
        corpus: Corpus texts with their kinds.
        seed: The seed of the mutations.

    Yields:
        Cases: about 55% filters, 20% type expressions and 25% requests.
    """
    rng = random.Random(seed)
    filters = pools.filters + [text for kind, text in corpus if kind == "filter"]
    types = pools.types + [text for kind, text in corpus if kind == "types"]
    mutator = Mutator(rng, filters + types)
    while True:
        roll, mutate = rng.random(), rng.random() < 0.75
        if roll < 0.55:
            text = rng.choice(filters)
            yield Case("filter", *mutator.text(text)) if mutate else Case("filter", text, "drawn")
        elif roll < 0.75:
            text = rng.choice(types)
            yield Case("types", *mutator.text(text)) if mutate else Case("types", text, "drawn")
        else:
            body = rng.choice(pools.requests)
            if mutate:
                yield Case("request", *mutator.request(body, filters, types))
            else:
                yield Case("request", body, "drawn")


# --------------------------------------------------------------------------------------------
# Running one input (in a worker)


_OVER_BUDGET = "catalogql fuzz: the step went over its CPU-time budget"
"""The alarm raises ``KeyboardInterrupt(_OVER_BUDGET)`` inside a step: a BaseException, which
``except Exception`` in the library does not swallow (workers ignore real SIGINTs). The fuzzer
defines no exception classes of its own: every class under ``catalogql`` is a CatalogqlError."""


@dataclasses.dataclass(frozen=True)
class LawBroken:
    """What a step returns when a law that the library promises does not hold.

    Attributes:
        message: Which law, and for what.
    """

    message: str


@dataclasses.dataclass
class Outcome:
    """What one step did.

    Attributes:
        step: The entry point.
        result: ``ok``, ``rejected`` (a CatalogqlError) or a finding class.
        seconds: How long it took (CPU seconds).
        grown_kb: How much the process's peak resident size grew (KiB).
        error: The exception's type and message, for findings.
        where: The innermost library frame of the traceback, for findings.
        trace: The traceback's last lines, for findings.
    """

    step: str
    result: str
    seconds: float
    grown_kb: int = 0
    error: str = ""
    where: str = ""
    trace: str = ""


def _where(error: BaseException) -> str:
    frames = traceback.extract_tb(error.__traceback__)
    ours = [f for f in frames if "catalogql" in f.filename and "testing" not in f.filename]
    if not (ours or frames):
        return ""
    frame = (ours or frames)[-1]
    return f"{Path(frame.filename).name}:{frame.name}"


class _Runner:
    """Runs the steps of one input in a worker, each under the time and memory budgets."""

    def __init__(
        self,
        pools: Pools,
        step_seconds: float,
        memory_kb: int,
        stage: SynchronizedString | None = None,
        started: Synchronized[float] | None = None,
        wall: Synchronized[float] | None = None,
    ) -> None:
        self.records = pools.records
        self.step_seconds = step_seconds
        self.memory_kb = memory_kb
        self.stage = stage
        self.started = started
        self.wall = wall
        self.memory = small_catalog("memory://", pools.records)
        self.sqlite = small_catalog("sqlite://", pools.records)
        self.outcomes: list[Outcome] = []

    def step(self, name: str, action: Callable[[], Any]) -> tuple[bool, Any]:
        if self.stage is not None and self.started is not None:
            self.stage.value = name.encode()[:63]
            self.started.value = time.process_time()
        if self.wall is not None:
            self.wall.value = time.monotonic()
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        start = time.process_time()
        value: Any = None
        error: BaseException | None = None
        # Re-fired every 0.25 s past the budget: an alarm raised inside a gc callback is lost.
        signal.setitimer(signal.ITIMER_PROF, self.step_seconds, 0.25)
        try:
            try:
                value = action()
            finally:
                signal.setitimer(signal.ITIMER_PROF, 0)
        except (Exception, KeyboardInterrupt) as caught:
            error = caught
        seconds = time.process_time() - start
        grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
        result = "ok"
        if isinstance(error, KeyboardInterrupt):
            result = "hang"
        elif isinstance(error, MemoryError) or grown > self.memory_kb:
            result = "memory"
        elif isinstance(value, LawBroken):
            result = "law"
        elif isinstance(error, CatalogqlError):
            result = "rejected"
        elif error is not None:
            result = "foreign"
        outcome = Outcome(name, result, seconds, grown)
        if result not in ("ok", "rejected"):
            if isinstance(value, LawBroken):
                outcome.error, outcome.where = value.message, name
            elif error is None:
                outcome.error = f"peak resident size grew {grown // 1024} MiB"
            else:
                outcome.error = f"{type(error).__name__}: {str(error)[:500]}"
                outcome.where = _where(error)
                outcome.trace = "".join(traceback.format_exception(error)[-6:])[-3000:]
            if result == "hang":
                outcome.error = f"over {self.step_seconds} s of CPU"
        self.outcomes.append(outcome)
        return error is None, value

    def run(self, case: Case, only: str | None = None) -> list[Outcome]:
        """Run every step that takes ``case`` (or only the step ``only`` and what it needs)."""
        self.outcomes = []
        if case.kind == "filter":
            self._filter(case.payload, only)
        elif case.kind == "types":
            self._types(case.payload, only)
        else:
            self._request(case.payload, only)
        return self.outcomes

    def _wanted(self, only: str | None, *names: str) -> bool:
        return only is None or only in names

    def _filter(self, text: str, only: str | None) -> None:
        ok, node = self.step("parse_filter", lambda: cq.parse_filter(text))
        if self._wanted(only, "check"):
            self.step("check", lambda: cq.check(text))
        if ok:
            if self._wanted(only, "to_gbdx"):
                self.step("to_gbdx", lambda: _round_trip(node))
            for dialect in ("sqlite", "postgresql"):
                if self._wanted(only, f"to_sql:{dialect}"):
                    self.step(f"to_sql:{dialect}", lambda d=dialect: cq.to_sql(node, d))  # type: ignore[misc]
            if self._wanted(only, "to_cql2_text"):
                self.step("to_cql2_text", lambda: cq.to_cql2_text(node))
            if self._wanted(only, "to_cql2_json"):
                self.step("to_cql2_json", lambda: cq.to_cql2_json(node))
            if self._wanted(only, "compile_predicate"):
                self.step("compile_predicate", lambda: _on_records(node, self.records))
        self._searches({"filters": [text]}, only)

    def _types(self, text: str, only: str | None) -> None:
        ok, node = self.step("parse_types", lambda: cq.parse_types(text))
        if self._wanted(only, "check:types"):
            self.step("check:types", lambda: cq.check(text, "types"))
        if ok:
            for dialect in ("sqlite", "postgresql"):
                if self._wanted(only, f"to_sql:{dialect}"):
                    self.step(f"to_sql:{dialect}", lambda d=dialect: cq.to_sql(node, d))  # type: ignore[misc]
            if self._wanted(only, "compile_types"):
                self.step("compile_types", lambda: _on_types(node, self.records))
        self._searches({"types": [text]}, only)

    def _request(self, body: Any, only: str | None) -> None:
        from catalogql.search import SearchRequest

        self.step("SearchRequest.from_dict", lambda: SearchRequest.from_dict(body))
        self._searches(body, only)

    def _searches(self, body: Any, only: str | None) -> None:
        if not self._wanted(only, "search:memory", "search:sqlite"):
            return
        answers = []
        for name, catalog in (("memory", self.memory), ("sqlite", self.sqlite)):
            ok, answer = self.step(f"search:{name}", lambda c=catalog: _search(c, body))  # type: ignore[misc]
            answers.append((ok, answer, self.outcomes[-1].result))
        (_, ids1, r1), (_, ids2, r2) = answers
        if r1 in ("ok", "rejected") and r2 in ("ok", "rejected") and (r1, ids1) != (r2, ids2):
            law = Outcome("search:sqlite", "law", 0.0)
            law.error = f"stores disagree: memory {r1} {ids1!r:.300}, sqlite {r2} {ids2!r:.300}"
            law.where = "search"
            self.outcomes.append(law)


def _search(catalog: Any, body: Any) -> list[str]:
    answer = catalog.search(body)
    return sorted(str(record.get("identifier")) for record in answer["results"])


def _round_trip(node: Any) -> LawBroken | None:
    text = cq.to_gbdx(node)
    try:
        again = cq.parse_filter(text)
    except CatalogqlError as error:
        return LawBroken(
            f"round trip rejected: parse_filter(to_gbdx(n)) raised {type(error).__name__}: {error}"[
                :500
            ]
        )
    if again != node:
        return LawBroken(f"round trip differs: parse_filter(to_gbdx(n)) != n for {text[:200]!r}")
    return None


def _on_records(node: Any, records: Sequence[dict[str, Any]]) -> None:
    predicate = cq.compile_predicate(node)
    for record in records[:20]:
        predicate(record.get("properties", {}))


def _on_types(node: Any, records: Sequence[dict[str, Any]]) -> None:
    matches = cq.compile_types(node)
    for types in [record.get("type", []) for record in records[:10]] + [["A" * 1000], [], [""]]:
        matches(types)


def _on_alarm(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt(_OVER_BUDGET)


def _worker_main(
    conn: multiprocessing.connection.Connection,
    pools: Pools,
    step_seconds: float,
    memory_kb: int,
    stage: SynchronizedString,
    started: Synchronized[float],
    wall: Synchronized[float],
) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGPROF, _on_alarm)
    warnings.showwarning = lambda *args, **kwargs: None
    gc.callbacks.clear()  # Hypothesis's (inherited): an alarm raised inside one would be lost
    with contextlib.suppress(ValueError, OSError):
        os.nice(0)
    runner = _Runner(pools, step_seconds, memory_kb, stage, started, wall)
    with contextlib.suppress(ValueError, OSError):
        size = _vm_size_bytes()
        limit = size + max(4 * memory_kb * 1024, 1 << 30)
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    baseline = _rss_kb()
    parent = os.getppid()
    while True:
        try:
            while not conn.poll(1.0):
                if os.getppid() != parent:  # the parent died: its end of the pipe may live on
                    return
            message = conn.recv()
        except (EOFError, OSError):
            return
        case, only = message
        outcomes = runner.run(case, only)
        stage.value = b""
        restart = any(o.result in ("hang", "memory") for o in outcomes)
        if not restart and _rss_kb() - baseline > memory_kb:
            outcomes.append(
                Outcome("(process)", "memory", 0.0, error="resident size grew past the budget "
                        "over many inputs (a leak?)", where="process")
            )  # fmt: skip
            restart = True
        conn.send((outcomes, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, restart))
        if restart:
            return


def _vm_size_bytes() -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    raise OSError("no VmSize")


def _rss_kb() -> int:
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            return int(statm.read().split()[1]) * (os.sysconf("SC_PAGE_SIZE") // 1024)
    except OSError:
        return 0


# --------------------------------------------------------------------------------------------
# The parent: workers, findings, shrinking, the summary


class _Worker:
    def __init__(self, pools: Pools, step_seconds: float, memory_kb: int) -> None:
        context = multiprocessing.get_context("fork")
        self.stage = context.Array("c", 64, lock=False)
        self.started = context.Value("d", 0.0, lock=False)
        self.wall = context.Value("d", time.monotonic(), lock=False)
        self.conn, child = context.Pipe()
        self.process = context.Process(
            target=_worker_main,
            args=(child, pools, step_seconds, memory_kb, self.stage, self.started, self.wall),
            daemon=True,
        )
        self.process.start()
        child.close()
        self.case: Case | None = None
        self.only: str | None = None

    def send(self, case: Case, only: str | None = None) -> None:
        self.case, self.only = case, only
        self.stage.value = b""
        self.started.value = math.inf
        self.wall.value = time.monotonic()
        self.conn.send((case, only))

    def stuck_for(self) -> tuple[float, float]:
        """CPU and wall-clock seconds in the current step."""
        try:
            with open(f"/proc/{self.process.pid}/stat", encoding="ascii") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError, ValueError):
            cpu = 0.0
        return max(0.0, cpu - self.started.value), time.monotonic() - self.wall.value

    def kill(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join(5)
        self.conn.close()


@dataclasses.dataclass
class Finding:
    """A distinct finding with the input that showed it first.

    Attributes:
        cls: The class (``foreign``, ``hang``, ``memory``, ``crash``, ``law``).
        step: The entry point.
        error: The exception or what went over budget.
        where: The innermost library frame.
        case: The input.
        trace: The traceback's last lines.
        count: How many inputs showed it.
        shrunk: The minimal input found by delta debugging, when shrunk.
    """

    cls: str
    step: str
    error: str
    where: str
    case: Case
    trace: str = ""
    count: int = 1
    shrunk: Any = None

    @property
    def key(self) -> tuple[str, str, str, str]:
        """What makes two findings the same: class, step, exception type, library frame."""
        return self.cls, self.step, self.error.split(":")[0], self.where


@dataclasses.dataclass
class Report:
    """What a fuzz run found.

    Attributes:
        inputs: Inputs run.
        steps: Steps run, per entry point.
        rejected: Steps that raised a CatalogqlError, per entry point.
        findings: Distinct findings, in the order found.
        slowest: The slowest steps: (seconds, step, input preview).
        peak_kb: The largest peak resident size of a worker (KiB).
        seconds: Wall-clock time.
    """

    inputs: int = 0
    steps: Counter[str] = dataclasses.field(default_factory=Counter)
    rejected: Counter[str] = dataclasses.field(default_factory=Counter)
    findings: list[Finding] = dataclasses.field(default_factory=list)
    slowest: list[tuple[float, str, str]] = dataclasses.field(default_factory=list)
    peak_kb: int = 0
    seconds: float = 0.0

    def by_class(self) -> Counter[str]:
        """How many inputs showed findings, per class."""
        counts: Counter[str] = Counter()
        for finding in self.findings:
            counts[finding.cls] += finding.count
        return counts

    def add(self, case: Case, outcomes: Sequence[Outcome]) -> None:
        """Count one input's outcomes and keep its findings."""
        self.inputs += 1
        for outcome in outcomes:
            self.steps[outcome.step] += 1
            if outcome.result == "rejected":
                self.rejected[outcome.step] += 1
            self.slowest.append((outcome.seconds, outcome.step, _preview(case.payload)))
            if outcome.result not in ("ok", "rejected"):
                self.found(Finding(outcome.result, outcome.step, outcome.error, outcome.where,
                                   case, outcome.trace))  # fmt: skip
        if len(self.slowest) > 200:
            self.slowest = sorted(self.slowest, reverse=True)[:10]

    def found(self, finding: Finding) -> None:
        """Keep a finding, or count it against the same one found before."""
        for known in self.findings:
            if known.key == finding.key:
                known.count += 1
                return
        self.findings.append(finding)

    def summary(self) -> str:
        """The human-readable summary."""
        lines = [f"fuzz: {self.inputs} inputs in {self.seconds:.0f} s"]
        lines.append("entry point                 steps  rejected")
        for step, count in sorted(self.steps.items()):
            lines.append(f"  {step:<24} {count:>7}  {self.rejected[step]:>8}")
        classes = self.by_class()
        lines.append(
            "findings: " + ", ".join(f"{cls} {classes[cls]}" for cls in CLASSES)
            + f" ({len(self.findings)} distinct)"
        )  # fmt: skip
        for finding in self.findings:
            shown = finding.shrunk if finding.shrunk is not None else finding.case.payload
            lines.append(f"  [{finding.cls}] {finding.step}: {finding.error[:160]}"
                         f" at {finding.where} ({finding.count}x)")  # fmt: skip
            lines.append(f"      {finding.case.kind} {_preview(shown, 150)}")
        lines.append("slowest steps:")
        for seconds, step, preview in sorted(self.slowest, reverse=True)[:5]:
            lines.append(f"  {seconds:7.3f} s CPU  {step:<24} {preview}")
        lines.append(f"peak resident size of a worker: {self.peak_kb // 1024} MiB")
        return "\n".join(lines)


def _preview(payload: Any, width: int = 80) -> str:
    text = repr(payload)
    return text if len(text) <= width else f"{text[: width - 20]}...({len(text)} chars)"


class Fuzzer:
    """Runs cases in worker processes with a watchdog.

    Args:
        pools: Generated inputs and records (workers build their catalogs from the records).
        workers: How many worker processes.
        step_seconds: The CPU-time budget of one step.
        memory_mb: The memory budget of one step (growth of the peak resident size).
    """

    def __init__(self, pools: Pools, workers: int = 2, step_seconds: float = 2.0,
                 memory_mb: int = 256) -> None:  # fmt: skip
        self.pools = pools
        self.step_seconds = step_seconds
        self.memory_kb = memory_mb * 1024
        self.workers = [self._new() for _ in range(workers)]

    def _new(self) -> _Worker:
        return _Worker(self.pools, self.step_seconds, self.memory_kb)

    def close(self) -> None:
        """Stop the workers."""
        for worker in self.workers:
            worker.kill()

    def run(self, stream: Iterator[Case | tuple[Case, str | None]], report: Report,
            deadline: float = math.inf) -> None:  # fmt: skip
        """Run cases from ``stream`` until it ends or ``deadline`` (monotonic) passes.

        Each result is added to ``report``.
        """
        busy: dict[int, _Worker] = {}
        exhausted = False
        while True:
            for i, worker in enumerate(self.workers):
                if i not in busy and not exhausted and time.monotonic() < deadline:
                    item = next(stream, None)
                    if item is None:
                        exhausted = True
                        break
                    case, only = item if isinstance(item, tuple) else (item, None)
                    worker.send(case, only)
                    busy[i] = worker
            if not busy:
                return
            ready = multiprocessing.connection.wait([w.conn for w in busy.values()], timeout=0.25)
            for i, worker in list(busy.items()):
                assert worker.case is not None
                if worker.conn in ready:
                    try:
                        outcomes, peak, restart = worker.conn.recv()
                    except (EOFError, OSError):
                        worker.process.join(2)
                        code = worker.process.exitcode
                        report.add(worker.case, [Outcome(
                            worker.stage.value.decode() or "(worker)", "crash", 0.0,
                            error=f"worker died (exit code {code})", where="worker")])  # fmt: skip
                        restart, outcomes = True, None
                    if outcomes is not None:
                        report.add(worker.case, outcomes)
                        report.peak_kb = max(report.peak_kb, peak)
                    del busy[i]
                    if restart:
                        worker.kill()
                        self.workers[i] = self._new()
                elif worker.stage.value and self._stuck(worker):
                    step = worker.stage.value.decode()
                    seconds = worker.stuck_for()[1]
                    worker.kill()
                    report.add(worker.case, [Outcome(step, "hang", seconds,
                               error=f"over {self.step_seconds} s (stuck in C code; killed)",
                               where="watchdog")])  # fmt: skip
                    del busy[i]
                    self.workers[i] = self._new()

    def _stuck(self, worker: _Worker) -> bool:
        cpu, wall = worker.stuck_for()
        return cpu > 2 * self.step_seconds + 1 or wall > max(60.0, 30 * self.step_seconds)

    def reproduces(self, finding: Finding, payload: Any) -> bool:
        """Whether ``payload`` shows the same finding (run in a worker, only the needed steps)."""
        report = Report()
        case = dataclasses.replace(finding.case, payload=payload)
        self.run(iter([(case, finding.step if finding.step.startswith(("to_", "compile_", "check"))
                        else None)]), report)  # fmt: skip
        return any(known.key == finding.key for known in report.findings)

    def shrink(self, finding: Finding, seconds: float) -> Any:
        """A smaller input showing ``finding``: rounds of delta debugging within ``seconds``."""
        deadline = time.monotonic() + seconds
        payload = finding.case.payload
        if isinstance(payload, str):
            return _ddmin(payload, lambda text: self.reproduces(finding, text), deadline)
        if isinstance(payload, dict):
            body = dict(payload)
            for key in list(body):
                if time.monotonic() > deadline:
                    break
                smaller = {k: v for k, v in body.items() if k != key}
                if self.reproduces(finding, smaller):
                    body = smaller
            for key, value in list(body.items()):
                values = value if isinstance(value, list) else [value]
                for at, item in enumerate(values):
                    if isinstance(item, str) and time.monotonic() < deadline:

                        def with_item(
                            text: str, key: str = key, at: int = at, base: dict[str, Any] = body
                        ) -> dict[str, Any]:
                            copy = dict(base)
                            if isinstance(copy[key], list):
                                copy[key] = [*copy[key][:at], text, *copy[key][at + 1 :]]
                            else:
                                copy[key] = text
                            return copy

                        best = _ddmin(
                            item, lambda t: self.reproduces(finding, with_item(t)), deadline
                        )
                        body = with_item(best)
            return body
        return payload


def _ddmin(text: str, still: Callable[[str], bool], deadline: float) -> str:
    """Delta debugging: remove ever smaller chunks while the finding still shows."""
    chunk = max(1, len(text) // 2)
    while time.monotonic() < deadline:
        at, removed = 0, False
        while at < len(text) and time.monotonic() < deadline:
            candidate = text[:at] + text[at + chunk :]
            if candidate != text and still(candidate):
                text, removed = candidate, True
            else:
                at += chunk
        if chunk == 1 and not removed:
            break
        chunk = max(1, chunk // 2) if not removed or chunk > len(text) else chunk
    return text


_REPRO = {
    "parse_filter": "cq.parse_filter({t})",
    "check": "cq.check({t})",
    "to_gbdx": "n = cq.parse_filter({t}); assert cq.parse_filter(cq.to_gbdx(n)) == n",
    "to_sql:sqlite": "cq.to_sql(cq.parse_{k}({t}), 'sqlite')",
    "to_sql:postgresql": "cq.to_sql(cq.parse_{k}({t}), 'postgresql')",
    "to_cql2_text": "cq.to_cql2_text(cq.parse_filter({t}))",
    "to_cql2_json": "cq.to_cql2_json(cq.parse_filter({t}))",
    "compile_predicate": (
        "[cq.compile_predicate(cq.parse_filter({t}))(r['properties']) for r in RECORDS]"
    ),
    "parse_types": "cq.parse_types({t})",
    "check:types": "cq.check({t}, 'types')",
    "compile_types": "[cq.compile_types(cq.parse_types({t}))(r['type']) for r in RECORDS]",
    "SearchRequest.from_dict": "SearchRequest.from_dict({b})",
}


def reproducer(finding: Finding, seed: int) -> str:
    """Python that shows ``finding`` (``RECORDS`` and the catalogs are the fuzz run's).

    >>> f = Finding("foreign", "parse_filter", "KeyError: 'x'", "", Case("filter", "a=1"))
    >>> print(reproducer(f, 0).splitlines()[-1])
    cq.parse_filter('a=1')
    """
    payload = finding.shrunk if finding.shrunk is not None else finding.case.payload
    kind = "types" if finding.case.kind == "types" else "filter"
    body = {"filters": [payload]} if kind == "filter" else {"types": [payload]}
    if finding.case.kind == "request":
        body = payload
    lines = ["import catalogql as cq", "from catalogql.search import SearchRequest"]
    if "RECORDS" in _REPRO.get(finding.step, "RECORDS") or finding.step.startswith("search"):
        lines += ["from catalogql.testing.fuzz import make_pools, small_catalog",
                  f"RECORDS = make_pools({seed}, 1).records"]  # fmt: skip
    if finding.step.startswith("search"):
        store = finding.step.split(":")[1]
        url = "memory://" if store == "memory" else "sqlite://"
        lines.append(f"small_catalog({url!r}, RECORDS).search({body!r})")
    else:
        template = _REPRO.get(finding.step, "{t}")
        lines.append(template.format(t=repr(payload), k=kind, b=repr(body)))
    return "\n".join(lines)


def write_findings(report: Report, out: Path, seed: int) -> None:
    """Write each finding (with its reproducer) and the summary to ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    for finding in report.findings:
        name = hashlib.sha256(repr(finding.key).encode()).hexdigest()[:10]
        step = finding.step.replace(":", "-").replace(".", "-").replace("(", "").replace(")", "")
        body = {
            "class": finding.cls, "step": finding.step, "error": finding.error,
            "where": finding.where, "count": finding.count, "kind": finding.case.kind,
            "origin": finding.case.origin, "input": finding.case.payload,
            "shrunk": finding.shrunk, "trace": finding.trace,
            "reproducer": reproducer(finding, seed),
        }  # fmt: skip
        text = json.dumps(body, indent=1, ensure_ascii=True, default=repr)
        (out / f"{finding.cls}-{step}-{name}.json").write_text(text, encoding="utf-8")
    (out / "summary.txt").write_text(report.summary() + "\n", encoding="utf-8")


def run(
    inputs: int,
    seed: int = 0,
    *,
    corpus: Sequence[str | Path] = (),
    workers: int = 2,
    step_seconds: float = 2.0,
    memory_mb: int = 256,
    max_seconds: float = math.inf,
    shrink_seconds: float = 120.0,
    pool_size: int = 300,
    out: Path | None = None,
    progress: Callable[[str], None] | None = None,
) -> Report:
    """Fuzz every entry point with ``inputs`` generated and mutated inputs.

    Args:
        inputs: How many inputs.
        seed: The seed of generation and mutation.
        corpus: TSV corpora of filter and type texts (see :func:`read_corpus`).
        workers: Worker processes.
        step_seconds: The CPU-time budget of one step of one input.
        memory_mb: The memory budget of one step.
        max_seconds: The wall-clock cap of the run (shrinking not included).
        shrink_seconds: The time for shrinking all findings.
        pool_size: About how many valid filters to draw.
        out: Where to write findings and the summary (nothing written when None).
        progress: Called with a progress line now and then.

    Returns:
        The report.
    """
    started = time.monotonic()
    pools = make_pools(seed, pool_size)
    stream = cases(pools, read_corpus(corpus), seed)
    report = Report()
    fuzzer = Fuzzer(pools, workers, step_seconds, memory_mb)
    try:
        deadline = started + max_seconds
        chunk = 1000
        while report.inputs < inputs and time.monotonic() < deadline:
            take = min(chunk, inputs - report.inputs)
            fuzzer.run((next(stream) for _ in range(take)), report, deadline)
            if progress is not None:
                classes = report.by_class()
                progress(f"{report.inputs} inputs, {time.monotonic() - started:.0f} s, findings "
                         + " ".join(f"{c}={classes[c]}" for c in CLASSES))  # fmt: skip
        report.seconds = time.monotonic() - started
        per_finding = shrink_seconds / max(1, len(report.findings))
        for finding in report.findings:
            finding.shrunk = fuzzer.shrink(finding, per_finding)
    finally:
        fuzzer.close()
    if out is not None:
        write_findings(report, out, seed)
    return report


def main(argv: Sequence[str] | None = None) -> int:
    """The command line: ``python -m catalogql.testing.fuzz``; exit 1 when anything is found.

    Args:
        argv: The arguments (``sys.argv[1:]`` by default).

    Returns:
        The exit status.
    """
    parser = argparse.ArgumentParser(prog="python -m catalogql.testing.fuzz", description=__doc__
                                     .split("\n\n")[0])  # fmt: skip
    env = os.environ.get
    parser.add_argument("--inputs", type=int, default=int(env("FUZZ_N", "100000")))
    parser.add_argument("--seed", type=int, default=int(env("FUZZ_SEED", "0")))
    parser.add_argument("--max-seconds", type=float, default=float(env("FUZZ_MAX_SECONDS", "inf")))
    parser.add_argument("--step-seconds", type=float, default=2.0)
    parser.add_argument("--memory-mb", type=int, default=256)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--shrink-seconds", type=float, default=120.0)
    parser.add_argument("--corpus", action="append", default=[], help="a TSV file or directory")
    parser.add_argument("--out", type=Path, default=Path("fuzz-findings"))
    args = parser.parse_args(argv)
    report = run(
        args.inputs, args.seed, corpus=args.corpus, workers=args.workers,
        step_seconds=args.step_seconds, memory_mb=args.memory_mb, max_seconds=args.max_seconds,
        shrink_seconds=args.shrink_seconds, out=args.out,
        progress=lambda line: print(line, file=sys.stderr, flush=True),
    )  # fmt: skip
    print(report.summary())
    print(f"findings written to {args.out}/")
    return 1 if report.findings else 0


if __name__ == "__main__":
    sys.exit(main())
