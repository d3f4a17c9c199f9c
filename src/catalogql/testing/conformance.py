"""Test someone else's GBDX catalog server against the reference engine (SPEC section 10).

The runner writes a seeded corpus of records chosen to make the search semantics bite (ids as
text and as numbers, nulls and missing keys, lists, shared timestamps, timestamps at the edges of
days, footprints on integer edges and across the antimeridian, values in several cases), the
user loads it into their server, and then Hypothesis draws search requests (areas, dates, types,
filters, limits past the cap, and some invalid requests) from :mod:`catalogql.testing.strategies`.
Each request goes to the server and to the reference (an in-memory catalog holding the same
corpus); the answers are compared: the ids, their order, the cap, ``stats``, and the status (a
request the reference refuses must be a 4xx on the server too).

Every disagreement is shrunk by Hypothesis to a minimal request, reported with the records that
decide it, and classified by the rule it breaks: the minimal request is re-run under variants of
the reference semantics (AND and OR at equal precedence, NOT two-valued, wildcards without case,
text ids compared as numbers, exclusive date bounds, no cap, ties unordered) and the variant
that gives the server's answer names the rule. After a finding the run goes on, with that rule
excused, until ``examples`` or ``max_time`` run out.

* :func:`corpus` makes the records; :func:`requests` the request strategy.
* :class:`HTTPTarget` sends requests over HTTP (a URL, or an in-process ASGI or WSGI app through
  an httpx transport, no network); any ``Callable[[dict], Outcome]`` is a target too.
* :func:`run` runs the checks and returns a :class:`Report` (``text()``, ``to_json()``,
  ``junit()``).
* As a pytest plugin (``pytest_plugins = ["catalogql.testing.conformance"]``) it gives the
  fixtures ``conformance_corpus`` and ``conformance_check``.

>>> from catalogql.search import open_catalog
>>> catalog = open_catalog("memory://")
>>> _ = catalog.add_records(corpus(seed=1, size=60))
>>> report = run(reference_target(catalog), corpus(seed=1, size=60), examples=5, seed=1)
>>> report.findings, report.requests > 0
([], True)
"""

from __future__ import annotations

import asyncio
import importlib.util
import itertools
import json
import random
import re
import threading
import time
import warnings
from collections import Counter
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape, quoteattr

import httpx
import shapely
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st
from hypothesis.errors import HypothesisWarning
from hypothesis.strategies import SearchStrategy

from catalogql.ast import And, Comparison, LiteralKind, Match, Node, Not, Op, Or, fold
from catalogql.compile.gbdx import to_gbdx
from catalogql.compile.parse import parse_filter
from catalogql.compile.predicate import compile_predicate, compile_types
from catalogql.errors import CatalogqlError
from catalogql.search import Catalog, SearchRequest, open_catalog
from catalogql.semantics import instant_key, literal_number
from catalogql.syntax.errors import QueryError
from catalogql.testing.strategies import search_requests, spellings

__all__ = [
    "RULES",
    "Finding",
    "HTTPTarget",
    "Outcome",
    "Report",
    "classify",
    "corpus",
    "reference_target",
    "requests",
    "run",
]

SEARCH_PATH = "/catalog/v2/search"
CAP = 1000
SHRINK_SECONDS = 60.0
"""How long Hypothesis may shrink one disagreement before the smallest so far is reported."""

RULES: dict[str, str] = {
    "precedence": "SPEC 2: NOT binds tightest, then AND, then OR: a OR b AND c is a OR (b AND c)",
    "three-valued-not": "SPEC 4: a comparison on a missing or null property is false, and so is "
    "its NOT (SQL three-valued logic)",
    "case-sensitive-wildcards": "SPEC 4: text comparison, wildcards included, is case-sensitive "
    "(by code point; not SQLite's LIKE)",
    "text-ids": "SPEC 4: a string property compares as text with the literal's source text, "
    "even where both look like numbers (catalogID = 1050010018826700)",
    "missing-values": "SPEC 4: a comparison on a missing or null property is false for every "
    "operator, <> included",
    "list-values": "SPEC 4: a comparison on a list property is true if any element compares true",
    "date-bounds": "SPEC 5: startDate and endDate are both inclusive; a date alone as endDate "
    "covers its whole UTC day",
    "cap": "SPEC 5: at most min(limit, 1000) records; a larger limit is served as 1000",
    "order": "SPEC 5: records in timestamp descending order, ties by identifier ascending, so "
    "the capped set is deterministic",
    "stats": "SPEC 5: recordsReturned = totalRecords = the records returned; typeCounts counts "
    "their type labels; countTotal adds totalMatched",
    "refusal": "SPEC 5: a request the reference refuses (400) must be refused with a 4xx",
    "valid-request-refused": "SPEC 5: a valid request is answered 200",
    "response-shape": "SPEC 5: the answer is {stats, results: [records]}",
    "results": "SPEC 2-5 (unclassified): the records differ and no single-rule variant of the "
    "reference explains the difference",
}
"""Each rule a disagreement can break, with where the SPEC states it."""


# --------------------------------------------------------------------------------------------
# The corpus

_PLATFORMS = (
    ("WORLDVIEW02", "WV02"),
    ("WORLDVIEW03_VNIR", "WV03_VNIR"),
    ("GEOEYE01", "GE01"),
    ("QUICKBIRD02", "QB02"),
)
_DIGIT_IDS = ("9", "10", "99", "100", "1050010018826700", "105001001882670", "20000315171121400000")
_DAYS = ("2015-07-31", "2016-01-31", "2016-02-01", "2016-12-31")
_TIMES = ("00:00:00.000", "00:00:00.001", "10:07:17.000", "23:59:59.999")
_WORDS = ("Forward", "forward", "FORWARD", "Reverse", "PAN_MS1", "pan_ms1", "N/A", "")
_CORE = ("sensorPlatformName", "catalogID", "cloudCover", "offNadirAngle", "scanDirection")


def _box_wkt(x: float, y: float, w: float, h: float) -> str:
    ring = f"{x} {y}, {x + w} {y}, {x + w} {y + h}, {x} {y + h}, {x} {y}"
    return f"MULTIPOLYGON((({ring})))"


def _antimeridian_wkt(y: float, w: float, h: float) -> str:
    east = f"{180 - w} {y}, 180 {y}, 180 {y + h}, {180 - w} {y + h}, {180 - w} {y}"
    west = f"-180 {y}, {-180 + w} {y}, {-180 + w} {y + h}, -180 {y + h}, -180 {y}"
    return f"MULTIPOLYGON((({east})), (({west})))"


def corpus(seed: int = 0, size: int = 1200) -> list[dict[str, Any]]:
    """A seeded corpus of GBDX records chosen to make the search semantics bite.

    The same seed gives the same records. ``size`` past 1000 lets the cap show: a search without
    filters then matches more than it may return.

    * ids: hex-ish DigitalGlobe ids, and ids of digits only of different lengths (``"9"``,
      ``"10"``, ``"1050010018826700"``), which order differently as text and as numbers;
      ``catalogID`` holds them as text;
    * ``cloudCover``, ``offNadirAngle``: numbers, some null, some missing;
    * ``sensorPlatformName``: a platform in several cases (``WORLDVIEW02``, ``worldview02``,
      ``WorldView02``), a list of platforms, null or missing; ``scanDirection`` likewise;
    * timestamps: few distinct instants (many ties), at the edges of days
      (``23:59:59.999``, ``00:00:00.000``);
    * footprints: boxes on whole degrees (their edges touch search areas' edges) in
      (-10, -10)-(10, 10), a few across the antimeridian.

    Args:
        seed: The seed.
        size: How many records.

    Returns:
        The records, each ``{"identifier", "type", "properties"}``; identifiers are unique.

    >>> records = corpus(seed=3, size=20)
    >>> len(records), records == corpus(seed=3, size=20)
    (20, True)
    >>> sorted(records[0])
    ['identifier', 'properties', 'type']
    """
    rnd = random.Random(seed)
    records: list[dict[str, Any]] = []
    used: set[str] = set()
    for index in range(size):
        if index < len(_DIGIT_IDS) * 3 and index % 3 == 0:
            identifier = _DIGIT_IDS[index // 3]
        elif rnd.random() < 0.25:
            identifier = str(rnd.randrange(1, 10 ** rnd.randint(1, 17)))
        else:
            identifier = f"10{rnd.choice('1234')}{rnd.choice('0A')}0100{rnd.randrange(16**8):08X}"
        if identifier in used:
            identifier = f"{identifier}_{index}"
        used.add(identifier)
        platform, label = rnd.choice(_PLATFORMS)
        properties: dict[str, Any] = {
            "timestamp": f"{rnd.choice(_DAYS)}T{rnd.choice(_TIMES)}Z",
            "catalogID": identifier,
        }
        if rnd.random() < 0.04:
            properties["footprintWkt"] = _antimeridian_wkt(
                rnd.randint(-3, 3), rnd.choice((0.5, 1)), rnd.choice((0.5, 1))
            )
        else:
            properties["footprintWkt"] = _box_wkt(
                rnd.randint(-10, 9), rnd.randint(-10, 9), rnd.choice((0.5, 1, 2)), 1
            )
        pick = rnd.random()
        if pick < 0.55:
            properties["sensorPlatformName"] = platform
        elif pick < 0.7:
            properties["sensorPlatformName"] = rnd.choice((platform.lower(), platform.title()))
        elif pick < 0.8:
            properties["sensorPlatformName"] = [platform, rnd.choice(_PLATFORMS)[0]]
        elif pick < 0.9:
            properties["sensorPlatformName"] = None
        for name, values in (
            ("cloudCover", lambda: rnd.randint(0, 100)),
            ("offNadirAngle", lambda: round(rnd.uniform(0, 45), 1)),
            ("scanDirection", lambda: rnd.choice(_WORDS)),
        ):
            pick = rnd.random()
            if pick < 0.8:
                properties[name] = values()
            elif pick < 0.9:
                properties[name] = None
        types = ["GBDXCatalogRecord", "Acquisition", "DigitalGlobeAcquisition", label]
        if rnd.random() < 0.1:
            types.append(label.lower())
        records.append({"identifier": identifier, "type": types, "properties": properties})
    return records


# --------------------------------------------------------------------------------------------
# Requests


def _literal_text(value: Any) -> list[str]:
    """Ways of writing a value of the corpus as a literal (number, bareword, quoted)."""
    if isinstance(value, bool) or value is None:
        return []
    if isinstance(value, int | float):
        return [str(value)]
    text = str(value)
    quoted = "'" + text.replace("'", "''") + "'"
    out = [quoted]
    if re.fullmatch(r"[A-Za-z0-9_./:+-]+", text) and text.upper() not in ("AND", "OR", "NOT"):
        out.append(text)
    return out


def _leaf_texts(records: Sequence[Mapping[str, Any]]) -> list[list[str]]:
    """Leaves over the corpus's properties and values, in groups drawn equally often.

    The groups: comparisons with the corpus's own values; wildcard matches in several cases;
    comparisons of text ids with number literals; bounds on ``timestamp``.
    """
    values: dict[str, set[Any]] = {name: set() for name in _CORE}
    for record in records:
        for name in _CORE:
            value = record["properties"].get(name)
            for item in value if isinstance(value, list) else [value]:
                if item is not None and not isinstance(item, bool):
                    values[name].add(item)
    compared: list[str] = []
    for name in _CORE:
        for value in sorted(values[name], key=str)[:40]:
            for literal in _literal_text(value):
                compared += [f"{name} {op} {literal}" for op in ("=", "<>", "<", ">=")]
    matches: list[str] = []
    for prefix in ("WORLDVIEW", "worldview", "WorldView", "GEO", "Geo", "*VNIR", "*vnir"):
        pattern = prefix if prefix.startswith("*") else prefix + "*"
        matches += [f"sensorPlatformName = {pattern}", f"sensorPlatformName <> {pattern}"]
    for prefix in ("for", "For", "FOR", "pan*", "PAN"):
        pattern = prefix if prefix.endswith("*") else prefix + "*"
        matches.append(f"scanDirection = {pattern}")
    ids = [f"catalogID = {prefix}*" for prefix in ("105001", "10", "9", "1040")]
    for literal in ("1050010018826700", "99", "100", "9", "20000315171121400000"):
        ids += [f"catalogID {op} {literal}" for op in ("=", "<", ">")]
    dates: list[str] = []
    for day in _DAYS:
        dates += [f"timestamp >= {day}", f"timestamp < {day}T23:59:59.999Z"]
    return [compared, matches, ids, dates]


def _combine(children: SearchStrategy[Node]) -> SearchStrategy[Node]:
    items = st.lists(children, min_size=2, max_size=3).map(tuple)
    return st.one_of(children.map(Not), items.map(And), items.map(Or))


_INVALID: tuple[dict[str, Any], ...] = (
    {"limit": 0},
    {"limit": -5},
    {"startDate": "2016-02-01", "endDate": "2016-01-31"},
    {"searchAreaWkt": "MULTIPOLYGON(((0 0, 1 0, 1 1, 0 0)))"},
    {"searchAreaWkt": "POLYGON((0 0, 200 0, 200 1, 0 0))"},
    {"filters": ["cloudCover < 20 and cloudCover > 5"]},
    {"filters": "cloudCover < 20"},
    {"types": "WV02"},
    {"filters": ["cloudCover < 2*"]},
    {"startDate": "yesterday"},
)


def requests(records: Sequence[Mapping[str, Any]]) -> SearchStrategy[dict[str, Any]]:
    """Search request bodies over ``records``: mostly valid ones that hit, a few invalid ones.

    Valid bodies come from :func:`catalogql.testing.strategies.search_requests` with filters
    built from the corpus's own properties and values (spelled canonically and not, by
    :func:`catalogql.testing.strategies.spellings`), its days and instants as bounds and its
    type labels; invalid ones are requests the reference refuses (limit 0, start after end, a
    MULTIPOLYGON area, lowercase ``and``, ...).

    Args:
        records: The corpus.

    Returns:
        A strategy of request dicts.

    >>> from hypothesis import given, settings
    >>> @settings(max_examples=10, deadline=None)
    ... @given(requests(corpus(size=30)))
    ... def check(body):
    ...     assert isinstance(body, dict)
    >>> check()
    """
    groups = [st.sampled_from(group) for group in _leaf_texts(records)]
    leaves = st.one_of(*groups).map(parse_filter)
    # Trees of up to four leaves, and the shape that tells precedence apart: a OR b AND c.
    mixed = st.builds(lambda a, b, c: Or((a, And((b, c)))), leaves, leaves, leaves)
    nodes = st.recursive(leaves, _combine, max_leaves=4) | mixed
    filters = nodes.flatmap(lambda node: spellings(node, compat=False))
    labels = sorted({label for record in records for label in record["type"]})
    types = st.sampled_from(labels) | st.sampled_from(("WV0*", "*VNIR", "wv02", "GE01 OR QB02"))
    instants = st.sampled_from(
        sorted({record["properties"]["timestamp"] for record in records}) + list(_DAYS)
    )
    valid = search_requests(
        bounds=(-11.0, -11.0, 11.0, 11.0),
        instants=instants,
        types=types,
        filters=filters,
        max_limit=1200,
    )
    return st.one_of(valid, valid, valid, valid, valid, st.sampled_from(_INVALID))


# --------------------------------------------------------------------------------------------
# Targets


@dataclass(frozen=True)
class Outcome:
    """A server's (or the reference's) answer to one request: the HTTP status and JSON body."""

    status: int
    body: Any


Target = Callable[[dict[str, Any]], Outcome]
"""Anything that answers a search request body with an :class:`Outcome`."""


def reference_target(catalog: Catalog) -> Target:
    """The reference as a target: the catalog's search, errors as their status and body.

    Args:
        catalog: An open catalog holding the corpus.

    Returns:
        A target.

    >>> from catalogql.search import open_catalog
    >>> reference_target(open_catalog("memory://"))({"limit": 0}).status
    400
    """

    def answer(body: dict[str, Any]) -> Outcome:
        try:
            return Outcome(200, catalog.search(body))
        except CatalogqlError as error:
            return Outcome(error.status, {"message": str(error)})

    return answer


class _AsyncBridge(httpx.BaseTransport):
    """A synchronous transport over httpx's ASGI transport: one event loop in its own thread."""

    def __init__(self, app: Any) -> None:
        self._transport = httpx.ASGITransport(app=app)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        async def send() -> tuple[int, list[tuple[bytes, bytes]], bytes]:
            body = request.read()
            inner = httpx.Request(
                request.method, request.url, headers=request.headers, content=body
            )
            response = await self._transport.handle_async_request(inner)
            content = await response.aread()
            return response.status_code, response.headers.raw, content

        future = asyncio.run_coroutine_threadsafe(send(), self._loop)
        status, headers, content = future.result()
        return httpx.Response(status, headers=headers, content=content, request=request)

    def close(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        self._loop.close()


class HTTPTarget:
    """A GBDX search server over HTTP: ``POST {url}/catalog/v2/search`` with a bearer token.

    Give ``url`` for a running server, or ``app`` for an in-process ASGI application (an
    ``async def app(scope, receive, send)``, such as FastAPI's or Starlette's) or WSGI
    application (Flask, Django): requests then go through an httpx transport, no network.

    Args:
        url: The server's base URL (``http://127.0.0.1:8000``); for an app, any base.
        token: The bearer token; None sends no Authorization header.
        app: An ASGI or WSGI application to call in process instead of the network.
        timeout: Seconds to wait for each answer.

    >>> target = HTTPTarget("http://127.0.0.1:9", token="t")
    >>> target.url
    'http://127.0.0.1:9'
    >>> target.close()
    """

    def __init__(
        self,
        url: str = "http://conformance.test",
        token: str | None = None,
        *,
        app: Any = None,
        timeout: float = 60.0,
    ) -> None:
        self.url = url.rstrip("/")
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        transport: httpx.BaseTransport | None = None
        if app is not None:
            transport = _AsyncBridge(app) if _is_asgi(app) else httpx.WSGITransport(app=app)
        self.client = httpx.Client(
            base_url=self.url,
            headers=headers,
            timeout=timeout,
            transport=transport,
            trust_env=False,
        )

    def __call__(self, body: dict[str, Any]) -> Outcome:
        """POST the body to the search route; the status and the JSON (or the text) back."""
        response = self.client.post(SEARCH_PATH, json=body)
        try:
            answer: Any = response.json()
        except ValueError:
            answer = response.text
        return Outcome(response.status_code, answer)

    def close(self) -> None:
        """Close the connection pool (and the ASGI bridge's event loop)."""
        self.client.close()


def _is_asgi(app: Any) -> bool:
    import inspect

    return inspect.iscoroutinefunction(app) or inspect.iscoroutinefunction(
        getattr(app, "__call__", None)  # noqa: B004
    )


# --------------------------------------------------------------------------------------------
# Variants of the reference, for classification


@dataclass(frozen=True)
class _Variant:
    """The reference semantics with at most one rule bent."""

    precedence: bool = False  # AND and OR at equal precedence, left to right
    two_valued_not: bool = False  # unknown is false, and NOT of it true
    nocase: bool = False  # wildcard matches ignore case
    numeric_ids: bool = False  # a number literal compares a numeric-looking string as a number
    whole_lists: bool = False  # a list value compares as one value: never equal to a scalar
    missing_differs: bool = False  # <> (and a negated wildcard) is true on a missing/null value
    end: str = "inclusive"  # "exclusive", "midnight" (a date alone is its first instant)
    start_exclusive: bool = False
    no_cap: bool = False


_VARIANTS: tuple[tuple[str, _Variant], ...] = (
    ("precedence", _Variant(precedence=True)),
    ("three-valued-not", _Variant(two_valued_not=True)),
    ("case-sensitive-wildcards", _Variant(nocase=True)),
    ("text-ids", _Variant(numeric_ids=True)),
    ("list-values", _Variant(whole_lists=True)),
    ("missing-values", _Variant(missing_differs=True)),
    ("date-bounds", _Variant(end="exclusive")),
    ("date-bounds", _Variant(end="midnight")),
    ("date-bounds", _Variant(end="midnight-exclusive")),
    ("date-bounds", _Variant(start_exclusive=True)),
    ("cap", _Variant(no_cap=True)),
)

_TOKEN_RE = re.compile(r"\s+|\(|\)|'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|[^\s()'\"]+")


def equal_precedence(text: str) -> Node:
    """How a parser with AND and OR at equal precedence (left to right) reads a filter.

    pygeofilter's ECQL grammar reads ``a OR b AND c`` as ``(a OR b) AND c``; this is that
    reading, as an AST of catalogql (comparisons parsed by catalogql's own parser).

    Args:
        text: A filter that :func:`catalogql.parse_filter` accepts.

    Returns:
        The AST of the equal-precedence reading.

    Raises:
        QueryError: ``text`` is not a filter.

    >>> from catalogql import to_gbdx
    >>> to_gbdx(equal_precedence("a = 1 OR b = 2 AND c = 3"))
    '(a = 1 OR b = 2) AND c = 3'
    """
    atoms: list[Any] = []  # "(", ")", "AND", "OR", "NOT", or a comparison's node
    pending: list[str] = []

    def flush() -> None:
        if "".join(pending).strip():
            atoms.append(parse_filter("".join(pending).strip()))
        pending.clear()

    for match in _TOKEN_RE.finditer(text):
        token = match.group()
        if token in ("(", ")", "AND", "OR", "NOT"):
            flush()
            atoms.append(token)
        else:
            pending.append(token)
    flush()
    # Shunting-yard: NOT binds tightest; AND and OR share one level, left-associative.
    output: list[Node] = []
    operators: list[str] = []

    def apply(operator: str) -> None:
        if operator == "NOT":
            output.append(Not(output.pop()))
            return
        right, left = output.pop(), output.pop()
        output.append((And if operator == "AND" else Or)((left, right)))

    for atom in atoms:
        if isinstance(atom, Node):
            output.append(atom)
            while operators and operators[-1] == "NOT":
                apply(operators.pop())
        elif atom in ("NOT", "("):
            operators.append(atom)
        elif atom == ")":
            while operators and operators[-1] != "(":
                apply(operators.pop())
            if operators:
                operators.pop()
            while operators and operators[-1] == "NOT":
                apply(operators.pop())
        else:
            while operators and operators[-1] in ("AND", "OR"):
                apply(operators.pop())
            operators.append(atom)
    while operators:
        operator = operators.pop()
        if operator != "(":
            apply(operator)
    if len(output) != 1:
        raise QueryError(f"cannot read {text!r} at equal precedence")
    return output[0]


def _bent(variant: _Variant) -> dict[str, Any]:
    """The fields of a variant that differ from the reference."""
    plain = _Variant()
    return {
        name: getattr(variant, name)
        for name in variant.__dataclass_fields__
        if getattr(variant, name) != getattr(plain, name)
    }


def _lower(value: Any) -> Any:
    if isinstance(value, str):
        return value.lower()
    if isinstance(value, list):
        return [_lower(item) for item in value]
    return value


def _numeric(value: Any) -> Any:
    if isinstance(value, str) and re.fullmatch(r"-?\d+(\.\d+)?", value):
        return float(value) if "." in value else int(value)
    if isinstance(value, list):
        return [_numeric(item) for item in value]
    return value


def _leaf_truth(leaf: Comparison | Match, properties: Mapping[str, Any], variant: _Variant) -> Any:
    """True, False, or None (unknown) for one comparison under the variant."""
    node: Node = leaf
    if variant.nocase and isinstance(leaf, Match):
        parts = tuple(part.lower() if isinstance(part, str) else part for part in leaf.pattern)
        node = Match(leaf.property, parts, leaf.negated)
        properties = {**properties, leaf.property: _lower(properties.get(leaf.property))}
    if (
        variant.numeric_ids
        and isinstance(leaf, Comparison)
        and leaf.value.kind is LiteralKind.NUMBER
        and literal_number(leaf.value) is not None
    ):
        properties = {**properties, leaf.property: _numeric(properties.get(leaf.property))}
    value = properties.get(leaf.property)
    if variant.missing_differs and value is None:
        differs = leaf.negated if isinstance(leaf, Match) else leaf.op is Op.NE
        return True if differs else None
    if variant.whole_lists and isinstance(value, list):
        return (leaf.op is Op.NE) if isinstance(leaf, Comparison) else leaf.negated
    if compile_predicate(node)(properties):
        return True
    if compile_predicate(Not(node))(properties):
        return False
    return None


def _truth(root: Node, properties: Mapping[str, Any], variant: _Variant) -> bool:
    def visit(node: Node, kids: list[Any]) -> Any:
        if isinstance(node, Comparison | Match):
            value = _leaf_truth(node, properties, variant)
            return bool(value) if variant.two_valued_not else value
        if isinstance(node, Not):
            (kid,) = kids
            return None if kid is None else not kid
        if isinstance(node, And):
            return False if False in kids else None if None in kids else True
        return True if True in kids else None if None in kids else False

    return fold(root, visit) is True


class _Oracle:
    """The reference semantics re-stated over the corpus, with switches to bend one rule."""

    def __init__(self, records: Sequence[Mapping[str, Any]]) -> None:
        self.records = list(records)
        self.by_id = {record["identifier"]: record for record in self.records}
        self.shapes = [shapely.from_wkt(r["properties"]["footprintWkt"]) for r in self.records]
        self.keys = [instant_key(str(r["properties"].get("timestamp"))) or "" for r in self.records]
        self._cache_key = ""
        self._cached: tuple[SearchRequest, list[int]] = (SearchRequest.build(), [])

    def _placed(self, body: Mapping[str, Any]) -> tuple[SearchRequest, list[int]]:
        """The request, and the records in its area and of its types (no variant bends those)."""
        cache_key = json.dumps(body, sort_keys=True, default=str)
        if self._cache_key != cache_key:
            request = SearchRequest.from_dict(body)
            types = [compile_types(node) for node in request.type_nodes]
            placed = [
                index
                for index, (record, shape) in enumerate(zip(self.records, self.shapes, strict=True))
                if (request.area is None or shapely.intersects(request.area, shape))
                and all(test(record["type"]) for test in types)
            ]
            self._cache_key, self._cached = cache_key, (request, placed)
        return self._cached

    def matching(
        self, body: Mapping[str, Any], variant: _Variant, *, capped: bool = True
    ) -> list[str]:
        """The ids the request selects under the variant, in order, capped (unless not)."""
        request, placed = self._placed(body)
        trees: list[Node] = list(request.filter_nodes)
        if variant.precedence:
            trees = [equal_precedence(text) for text in request.filters]
        start, end = request.start, request.end
        if end is not None and variant.end != "inclusive":
            raw = instant_key(str(request.end_date)) or end
            end = raw if variant.end.startswith("midnight") else end
        strict_end = variant.end in ("exclusive", "midnight-exclusive")
        chosen: list[tuple[str, str]] = []
        for index in placed:
            record, key = self.records[index], self.keys[index]
            if start is not None and (key < start or (variant.start_exclusive and key == start)):
                continue
            if end is not None and (key > end or (strict_end and key == end)):
                continue
            if not all(_truth(tree, record["properties"], variant) for tree in trees):
                continue
            chosen.append((key, record["identifier"]))
        chosen.sort(key=lambda pair: pair[1])
        chosen.sort(key=lambda pair: pair[0], reverse=True)
        count = request.limit if capped else len(chosen)
        if variant.no_cap and capped:
            limit = body.get("limit")
            wanted = isinstance(limit, int) and not isinstance(limit, bool) and limit > 0
            count = limit if isinstance(limit, int) and wanted else len(chosen)
        return [identifier for _, identifier in chosen[:count]]


# --------------------------------------------------------------------------------------------
# Comparison and classification


@dataclass
class Finding:
    """One disagreement, shrunk: the rule it breaks, the minimal request, what decides it.

    Attributes:
        rule: A key of :data:`RULES`.
        request: The minimal request body.
        detail: What differs, in words.
        records: The records that decide it (in the server's answer or the reference's, not
            both; or the ones whose order differs), at most ten.
        server: The server's status and a summary of its answer.
        reference: The reference's, likewise.
        found_after: Requests sent when it was first seen.
        seconds: Seconds from the start when it was first seen.
    """

    rule: str
    request: dict[str, Any]
    detail: str
    records: list[dict[str, Any]] = field(default_factory=list)
    server: dict[str, Any] = field(default_factory=dict)
    reference: dict[str, Any] = field(default_factory=dict)
    found_after: int = 0
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """The finding as JSON-ready data (``rule``, ``spec``, ``request``, ...).

        >>> Finding("cap", {"limit": 5}, "6 records").to_dict()["spec"][:6]
        'SPEC 5'
        """
        return {
            "rule": self.rule,
            "spec": RULES[self.rule],
            "request": self.request,
            "detail": self.detail,
            "records": self.records,
            "server": self.server,
            "reference": self.reference,
            "found_after_requests": self.found_after,
            "found_after_seconds": round(self.seconds, 3),
        }


def _ids(body: Any) -> list[str] | None:
    if not isinstance(body, dict) or not isinstance(body.get("results"), list):
        return None
    out: list[str] = []
    for record in body["results"]:
        if not isinstance(record, dict) or not isinstance(record.get("identifier"), str):
            return None
        out.append(record["identifier"])
    return out


def _summary(outcome: Outcome) -> dict[str, Any]:
    ids = _ids(outcome.body)
    if outcome.status != 200 or ids is None:
        text = json.dumps(outcome.body)[:300] if not isinstance(outcome.body, str) else outcome.body
        return {"status": outcome.status, "body": text[:300]}
    stats = outcome.body.get("stats")
    return {"status": 200, "count": len(ids), "ids": ids[:20], "stats": stats}


def classify(
    oracle: _Oracle,
    body: dict[str, Any],
    reference: Outcome,
    server: Outcome,
    ask: Target | None = None,
    prefer: Collection[str] = (),
) -> tuple[str, str, list[str]] | None:
    """The rule a server's answer breaks, with a sentence and the deciding ids; None if it agrees.

    Args:
        oracle: The reference semantics over the corpus (built by :func:`run`).
        body: The request.
        reference: The reference's outcome.
        server: The server's.
        ask: The server, to ask a follow-up question (the same request with a limit of 1000,
            which tells ties chosen in another order from records it does not select).
        prefer: Rules to name first where several explain the answer (those reported already,
            so that a rule is not reported twice under two names).

    Returns:
        ``(rule, detail, ids)`` or None.

    >>> oracle = _Oracle(corpus(size=20))
    >>> classify(oracle, {"limit": 0}, Outcome(400, {}), Outcome(200, {"results": []}))[0]
    'refusal'
    """
    if reference.status != 200:
        if 400 <= server.status < 500:
            return None
        return (
            "refusal",
            f"the reference refuses it ({reference.status}), the server answered {server.status}",
            [],
        )
    if server.status != 200:
        return (
            "valid-request-refused",
            f"the server answered {server.status} to a valid request",
            [],
        )
    mine, theirs = _ids(reference.body), _ids(server.body)
    if theirs is None or not isinstance(server.body.get("stats"), dict):
        return "response-shape", "the answer has no stats or no list of records with ids", []
    assert mine is not None
    if mine == theirs:
        verdict = _stats_difference(reference.body, server.body)
        if verdict is not None and verdict[1].startswith("stats.totalMatched"):
            counted = server.body["stats"].get("totalMatched")
            for rule, variant in _VARIANTS:
                try:
                    if len(oracle.matching(body, variant, capped=False)) == counted:
                        return rule, verdict[1] + f" (as under the {rule} variant)", []
                except (CatalogqlError, ValueError, IndexError):
                    continue
        return verdict
    if set(mine) == set(theirs) and len(theirs) == len(mine):
        moved = [a for a, b in zip(mine, theirs, strict=True) if a != b]
        return "order", "the same records in another order", moved[:10]
    extra = [i for i in theirs if i not in set(mine)]
    missing = [i for i in mine if i not in set(theirs)]
    deciding = (extra + missing)[:10]
    said = f"{len(extra)} record(s) only the server returned, {len(missing)} only the reference"
    limit = body.get("limit")
    wanted = limit if isinstance(limit, int) and 0 < limit < CAP else CAP
    if ask is not None and wanted < CAP:
        wide = {**body, "limit": CAP}
        mine_wide = oracle.matching(wide, _Variant())
        theirs_wide = _ids(ask(wide).body)
        same_set = theirs_wide is not None and set(theirs_wide) == set(mine_wide) != set()
        if same_set and theirs_wide != mine_wide:
            return (
                "order",
                said + ": records of equal timestamp, other than by identifier "
                f"(asked with limit {CAP}: the same records, in another order)",
                deciding,
            )
    explained, relevant = _explained_by(oracle, body, mine, theirs)
    if explained:
        rule = next((r for r in explained if r in prefer), explained[0])
        return rule, said, deciding
    for (rule, one), (other, two) in itertools.combinations(relevant, 2):
        both = _Variant(**{**_bent(one), **_bent(two)})
        try:
            if oracle.matching(body, both) == theirs:
                return rule, f"{said} (together with {other})", deciding
        except (CatalogqlError, ValueError, IndexError, TypeError):
            continue
    if _ties_reordered(oracle, body, mine, theirs):
        return "order", said + ": records of equal timestamp, other than by identifier", deciding
    if len(theirs) > wanted:
        return "cap", said + f"; at most {wanted} may be returned", deciding
    return "results", said, deciding


def _explained_by(
    oracle: _Oracle, body: dict[str, Any], mine: list[str], theirs: list[str]
) -> tuple[list[str], list[tuple[str, _Variant]]]:
    """The rules whose variant gives the server's answer; the variants that change anything."""
    explained: list[str] = []
    relevant: list[tuple[str, _Variant]] = []
    for rule, variant in _VARIANTS:
        try:
            answer = oracle.matching(body, variant)
        except (CatalogqlError, ValueError, IndexError):  # the variant cannot read the request
            continue
        if answer == theirs and rule not in explained:
            explained.append(rule)
        if answer != mine:
            relevant.append((rule, variant))
    return explained, relevant


def _ties_reordered(
    oracle: _Oracle, body: Mapping[str, Any], mine: list[str], theirs: list[str]
) -> bool:
    """Whether the server returned matching records, by timestamp, with other ties at the cut."""
    if len(mine) != len(theirs) or len(set(theirs)) != len(theirs):
        return False
    full = set(oracle.matching({**body, "limit": None, "countTotal": False}, _Variant(no_cap=True)))
    if not set(theirs) <= full:
        return False
    key = {r["identifier"]: k for r, k in zip(oracle.records, oracle.keys, strict=True)}
    times = [key[i] for i in theirs]
    if any(a < b for a, b in itertools.pairwise(times)):
        return False
    return Counter(times) == Counter(key[i] for i in mine)


def _stats_difference(
    mine: Mapping[str, Any], theirs: Mapping[str, Any]
) -> tuple[str, str, list[str]] | None:
    ours, yours = mine["stats"], theirs["stats"]
    for name in ("recordsReturned", "totalRecords", "typeCounts", "totalMatched"):
        if name in ours and ours.get(name) != yours.get(name):
            return (
                "stats",
                f"stats.{name} is {yours.get(name)!r}, the reference says {ours[name]!r}",
                [],
            )
    return None


# --------------------------------------------------------------------------------------------
# The run


@dataclass
class Report:
    """What a run found.

    Attributes:
        findings: One per rule broken, each shrunk.
        requests: Requests sent to the server (shrinking included).
        seconds: How long the run took.
        seed: The seed of the corpus and of the requests.
        corpus_size: Records in the corpus.
        target: What was tested (a URL or an app's name).
        stopped: Why the run ended (``examples`` or ``max-time``).
    """

    findings: list[Finding]
    requests: int
    seconds: float
    seed: int
    corpus_size: int
    target: str = ""
    stopped: str = "examples"

    @property
    def ok(self) -> bool:
        """True when the server agreed with the reference on every request."""
        return not self.findings

    def to_json(self) -> dict[str, Any]:
        """The report as JSON-ready data.

        >>> Report([], 10, 1.5, 0, 1200).to_json()["ok"]
        True
        """
        return {
            "ok": self.ok,
            "target": self.target,
            "seed": self.seed,
            "corpus_size": self.corpus_size,
            "requests": self.requests,
            "seconds": round(self.seconds, 3),
            "stopped": self.stopped,
            "findings": [finding.to_dict() for finding in self.findings],
        }

    def text(self) -> str:
        """The report for a person to read.

        >>> print(Report([], 10, 1.5, 0, 1200, "http://x").text())
        http://x: agrees with the reference on 10 requests (1.5 s, seed 0, 1200 records).
        """
        head = (
            f"{self.target or 'server'}: "
            + ("agrees with the reference" if self.ok else f"{len(self.findings)} rule(s) broken")
            + f" on {self.requests} requests ({self.seconds:.1f} s, seed {self.seed}, "
            f"{self.corpus_size} records)."
        )
        lines = [head]
        for number, finding in enumerate(self.findings, 1):
            lines += [
                "",
                f"{number}. {finding.rule}: {RULES[finding.rule]}",
                f"   found after {finding.found_after} requests, {finding.seconds:.1f} s",
                f"   minimal request: {json.dumps(finding.request, ensure_ascii=False)}",
                f"   {finding.detail}",
                f"   server:    {json.dumps(finding.server, ensure_ascii=False)[:400]}",
                f"   reference: {json.dumps(finding.reference, ensure_ascii=False)[:400]}",
            ]
            for record in finding.records:
                lines.append(f"   record: {json.dumps(record, ensure_ascii=False)}")
        return "\n".join(lines)

    def junit(self) -> str:
        """The report as JUnit XML: one test case per rule, failed where it is broken.

        >>> '<testsuite name="catalogql-conformance" tests="' in Report([], 1, 0.1, 0, 9).junit()
        True
        """
        broken = {finding.rule: finding for finding in self.findings}
        cases = []
        for rule in RULES:
            name = quoteattr(rule)
            if rule in broken:
                finding = broken[rule]
                message = quoteattr(f"{finding.detail}; request {json.dumps(finding.request)}")
                body = escape(json.dumps(finding.to_dict(), indent=2, ensure_ascii=False))
                cases.append(
                    f'  <testcase classname="conformance" name={name}>'
                    f"<failure message={message}>{body}</failure></testcase>"
                )
            else:
                cases.append(f'  <testcase classname="conformance" name={name}/>')
        return (
            '<?xml version="1.0" encoding="utf-8"?>\n'
            f'<testsuite name="catalogql-conformance" tests="{len(RULES)}" '
            f'failures="{len(broken)}" time="{self.seconds:.3f}">\n'
            + "\n".join(cases)
            + "\n</testsuite>\n"
        )


_Verdict = tuple[str, str, list[str]]
"""A rule broken, what differs in words, and the ids that decide it."""


class _Found(CatalogqlError):
    """Raised inside the Hypothesis test for a disagreement not yet reported.

    It never escapes: :func:`run` catches it and reports the finding.
    """


def run(
    target: Target,
    records: Sequence[Mapping[str, Any]],
    *,
    examples: int = 200,
    max_time: float = 300.0,
    seed: int = 0,
    name: str = "",
    stop_after: int | None = None,
) -> Report:
    """Check a server against the reference on ``records`` (which the server must hold).

    Hypothesis draws up to ``examples`` requests (:func:`requests`); the first disagreement is
    shrunk to a minimal request and classified, then the search goes on with that rule
    excused, until the examples or ``max_time`` run out.

    Args:
        target: The server (an :class:`HTTPTarget`, or any callable body -> :class:`Outcome`).
        records: The corpus the server holds (:func:`corpus`).
        examples: Requests to draw (shrinking comes on top).
        max_time: Seconds at most; the run stops sending when they are up.
        seed: Hypothesis's seed (the same seed draws the same requests).
        name: What the report calls the server.
        stop_after: Stop after this many findings (None: look for every rule).

    Returns:
        The report.

    >>> from catalogql.search import open_catalog
    >>> records = corpus(size=40)
    >>> catalog = open_catalog("memory://")
    >>> _ = catalog.add_records(records)
    >>> run(reference_target(catalog), records, examples=5).ok
    True
    """
    session = _Session(target, records, max_time)
    strategy = requests(records)
    drawn = 0
    stopped = "examples"
    try:
        for attempt in range(len(RULES) + 1):
            if drawn >= examples or session.out_of_time():
                break
            found, seen = session.search(strategy, examples - drawn, seed + attempt)
            drawn += seen
            if found is None:
                break
            found = _simplify(found, session.same_rule(found))
            session.findings[found.rule] = found
            if stop_after is not None and len(session.findings) >= stop_after:
                stopped = "stop-after"
                break
    finally:
        session.close()
    if session.out_of_time() and stopped != "stop-after":
        stopped = "max-time"
    return Report(
        list(session.findings.values()),
        session.sent,
        time.monotonic() - session.started,
        seed,
        len(records),
        name,
        stopped,
    )


class _Session:
    """One run's state: the target, the reference, the findings so far, the clock."""

    def __init__(self, target: Target, records: Sequence[Mapping[str, Any]], max_time: float):
        self.target = target
        self.catalog = open_catalog("memory://")
        self.catalog.add_records([dict(record) for record in records])
        self.reference = reference_target(self.catalog)
        self.oracle = _Oracle(records)
        self.max_time = max_time
        self.started = time.monotonic()
        self.findings: dict[str, Finding] = {}
        self.sent = 0

    def out_of_time(self) -> bool:
        return time.monotonic() - self.started > self.max_time

    def close(self) -> None:
        self.catalog.close()

    def check(self, body: dict[str, Any]) -> tuple[_Verdict | None, Outcome, Outcome]:
        """Send one request to both; the verdict and the two outcomes."""
        self.sent += 1
        ours, theirs = self.reference(body), self.target(body)
        return classify(self.oracle, body, ours, theirs, self.target, self.findings), ours, theirs

    def finding(
        self, body: dict[str, Any], verdict: tuple[str, str, list[str]], ours: Outcome,
        theirs: Outcome, first: Finding | None,
    ) -> Finding:  # fmt: skip
        rule, detail, ids = verdict
        return Finding(
            rule, body, detail,
            [dict(self.oracle.by_id[i]) for i in ids if i in self.oracle.by_id],
            _summary(theirs), _summary(ours),
            first.found_after if first else self.sent,
            first.seconds if first else time.monotonic() - self.started,
        )  # fmt: skip

    def search(
        self, strategy: SearchStrategy[dict[str, Any]], examples: int, seed: int
    ) -> tuple[Finding | None, int]:
        """One Hypothesis search for a disagreement with a rule not found yet, shrunk.

        Returns:
            The finding (or None), and how many examples were drawn before it was first seen.
        """
        last: list[Finding] = []
        seen = [0]
        shrinking = [0.0]

        def probe(body: dict[str, Any]) -> None:
            if self.out_of_time():
                return
            if last and time.monotonic() - shrinking[0] > SHRINK_SECONDS:
                return  # shrinking has had its time: keep the smallest failure so far
            if not last:
                seen[0] += 1
            verdict, ours, theirs = self.check(body)
            if verdict is None or verdict[0] in self.findings:
                return
            if not last:
                shrinking[0] = time.monotonic()
            last.append(self.finding(body, verdict, ours, theirs, last[0] if last else None))
            raise _Found(verdict[0])

        test = settings(
            max_examples=examples,
            deadline=None,
            database=None,
            derandomize=False,
            phases=(Phase.generate, Phase.shrink),
            suppress_health_check=list(HealthCheck),
            report_multiple_bugs=False,
        )(given(strategy)(probe))
        try:
            with warnings.catch_warnings():  # the strategy's repr is long: nobody reads it
                warnings.simplefilter("ignore", HypothesisWarning)
                hypothesis_seed(seed)(test)()
        except Exception:  # _Found, or Flaky when time ran out while shrinking
            if not last:
                raise
        # The last failure Hypothesis ran is the smallest (it replays its shrunk example).
        return (last[-1] if last else None), seen[0]

    def same_rule(self, first: Finding) -> Callable[[dict[str, Any]], Finding | None]:
        """A test of a request: its finding if it breaks ``first``'s rule, else None."""

        def test(body: dict[str, Any]) -> Finding | None:
            if self.out_of_time():
                return None
            verdict, ours, theirs = self.check(body)
            if verdict is None or verdict[0] != first.rule:
                return None
            return self.finding(body, verdict, ours, theirs, first)

        return test


def _simpler(body: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Smaller versions of a request.

    A field left out, a filter or type left out, a filter written canonically.
    """
    for key in body:
        yield {k: v for k, v in body.items() if k != key}
    for key in ("filters", "types"):
        items = body.get(key)
        if isinstance(items, list) and len(items) > 1:
            for index in range(len(items)):
                yield {**body, key: items[:index] + items[index + 1 :]}
    filters = body.get("filters")
    if isinstance(filters, list):
        for index, text in enumerate(filters):
            try:
                canonical = to_gbdx(parse_filter(text))
            except (QueryError, TypeError):
                continue
            if canonical != text:
                yield {**body, "filters": [*filters[:index], canonical, *filters[index + 1 :]]}


def _simplify(finding: Finding, same_rule: Callable[[dict[str, Any]], Finding | None]) -> Finding:
    """After Hypothesis's shrinking, a greedy pass: keep any simpler request that breaks the rule.

    Hypothesis shrinks through its own representation of the draws and can stop at, say, two
    filters where one is enough; this pass tries the request's own simplifications directly.
    """
    improved = True
    while improved:
        improved = False
        for body in _simpler(finding.request):
            smaller = same_rule(body)
            if smaller is not None:
                finding, improved = smaller, True
                break
    return finding


def write_corpus(records: Sequence[Mapping[str, Any]], path: str) -> None:
    """Write records as JSON lines (what ``catalogql load`` reads).

    Args:
        records: The records.
        path: The file to write.

    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "corpus.jsonl")
    >>> write_corpus(corpus(size=3), path)
    >>> len(open(path).read().splitlines())
    3
    """
    with open(path, "w", encoding="utf-8") as out:
        for record in records:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")


# --------------------------------------------------------------------------------------------
# The pytest plugin: pytest_plugins = ["catalogql.testing.conformance"]

if importlib.util.find_spec("pytest") is not None:
    import pytest

    @pytest.fixture(scope="session")
    def conformance_corpus() -> list[dict[str, Any]]:
        """The seeded corpus (seed 0, 1200 records): load it into your app's store."""
        return corpus()

    @pytest.fixture
    def conformance_check(
        conformance_corpus: list[dict[str, Any]],
    ) -> Iterator[Callable[..., Report]]:
        """A function ``check(app, token=None, examples=100, max_time=120, seed=0)``.

        It runs the checks against an in-process ASGI or WSGI app (no network) that holds
        ``conformance_corpus``, and fails the test with the report on any disagreement.
        """
        targets: list[HTTPTarget] = []

        def check(
            app: Any,
            token: str | None = None,
            *,
            examples: int = 100,
            max_time: float = 120.0,
            seed: int = 0,
        ) -> Report:
            target = HTTPTarget(token=token, app=app)
            targets.append(target)
            report = run(
                target,
                conformance_corpus,
                examples=examples,
                max_time=max_time,
                seed=seed,
                name=type(app).__name__,
            )
            if not report.ok:
                pytest.fail(report.text(), pytrace=False)
            return report

        yield check
        for target in targets:
            target.close()
