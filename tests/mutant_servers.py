"""Small, deliberately wrong GBDX search servers (ASGI, WSGI) for the conformance tests.

Each one is a tiny search server of its own over a list of records, written the way real
implementations go wrong, with exactly one rule broken (or none: ``TinyServer(records)`` is
meant to agree with the reference); ``pygeofilter=True`` runs the filters through pygeofilter's
own ECQL parser and its native back end instead. Requests are checked by the reference's own
``SearchRequest.from_dict`` (so refusals agree); everything after that is the server's own.
These servers are test code: recursion on their small filter trees is fine here.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import shapely
from pygeofilter.backends.native.evaluate import NativeEvaluator
from pygeofilter.parsers.ecql import parse as parse_ecql

import catalogql as cq
from catalogql.ast import And, Comparison, LiteralKind, Match, Node, Not, Op, Or, Wildcard
from catalogql.search import InvalidSearchRequest, SearchRequest
from catalogql.semantics import instant_key, parse_instant


@dataclass(frozen=True)
class Bugs:
    """Which rule the server breaks (all False: none)."""

    equal_precedence: bool = False  # AND and OR at one level, left to right (pygeofilter's ECQL)
    not_of_missing_true: bool = False  # two-valued logic: NOT (missing = x) is true
    nocase_wildcards: bool = False  # wildcards through a case-insensitive LIKE (SQLite's)
    numeric_ids: bool = False  # catalogID < 1050010018826700 compares numbers
    end_exclusive: bool = False  # timestamp < endDate, a date alone being its midnight
    no_cap: bool = False  # serves limit (or everything) past 1000
    ties_unordered: bool = False  # ORDER BY timestamp DESC only
    pygeofilter: bool = False  # filters through pygeofilter's parser and native evaluator


# ---- filters


_TOKENS = re.compile(r"\s+|\(|\)|'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|[^\s()'\"]+")


def _left_to_right(text: str) -> Node:
    """Read a filter with AND and OR at equal precedence (recursive descent, left fold)."""
    tokens = [t for t in _TOKENS.findall(text)]
    pos = 0

    def atom_end(i: int) -> int:
        while i < len(tokens) and tokens[i] not in ("(", ")", "AND", "OR", "NOT"):
            i += 1
        return i

    def unary() -> Node:
        nonlocal pos
        while tokens[pos].isspace():
            pos += 1
        if tokens[pos] == "NOT":
            pos += 1
            return Not(unary())
        if tokens[pos] == "(":
            pos += 1
            inner = expr()
            while tokens[pos].isspace():
                pos += 1
            pos += 1  # ")"
            return inner
        end = atom_end(pos)
        node = cq.parse_filter("".join(tokens[pos:end]))
        pos = end
        return node

    def expr() -> Node:
        nonlocal pos
        left = unary()
        while True:
            while pos < len(tokens) and tokens[pos].isspace():
                pos += 1
            if pos >= len(tokens) or tokens[pos] not in ("AND", "OR"):
                return left
            op = tokens[pos]
            pos += 1
            right = unary()
            left = And((left, right)) if op == "AND" else Or((left, right))

    return expr()


def _like_regex(pattern: Sequence[str | Wildcard]) -> re.Pattern[str]:
    body = "".join(
        ".*" if part is Wildcard.ANY else "." if part is Wildcard.ONE else re.escape(part)
        for part in pattern
    )
    return re.compile(body, re.IGNORECASE | re.DOTALL)


_OPS: dict[Op, Callable[[float, float], bool]] = {
    Op.EQ: lambda a, b: a == b,
    Op.NE: lambda a, b: a != b,
    Op.LT: lambda a, b: a < b,
    Op.LE: lambda a, b: a <= b,
    Op.GT: lambda a, b: a > b,
    Op.GE: lambda a, b: a >= b,
}


def _values(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _leaf(node: Comparison | Match, props: Mapping[str, Any], bugs: Bugs) -> bool:
    value = props.get(node.property)
    if bugs.nocase_wildcards and isinstance(node, Match):
        regex = _like_regex(node.pattern)
        texts = [v for v in _values(value) if isinstance(v, str)]
        if node.negated:
            return any(not regex.fullmatch(v) for v in texts)
        return any(regex.fullmatch(v) for v in texts)
    if (
        bugs.numeric_ids
        and isinstance(node, Comparison)
        and node.value.kind is LiteralKind.NUMBER
        and any(isinstance(v, str) and v.isdigit() for v in _values(value))
    ):
        wanted = float(node.value.text)
        return any(
            _OPS[node.op](float(v), wanted)
            for v in _values(value)
            if isinstance(v, str) and v.isdigit()
        )
    return cq.compile_predicate(node)(props)


def _evaluate(node: Node, props: Mapping[str, Any], bugs: Bugs) -> bool:
    """Two-valued where ``not_of_missing_true``; otherwise three-valued through the reference."""
    if isinstance(node, Comparison | Match):
        return _leaf(node, props, bugs)
    if isinstance(node, And):
        return all(_evaluate(item, props, bugs) for item in node.items)
    if isinstance(node, Or):
        return any(_evaluate(item, props, bugs) for item in node.items)
    assert isinstance(node, Not)
    if bugs.not_of_missing_true:
        return not _evaluate(node.item, props, bugs)
    if isinstance(node.item, Comparison | Match) and not (
        bugs.nocase_wildcards or bugs.numeric_ids
    ):
        return cq.compile_predicate(node)(props)
    # NOT over a subtree, three-valued: push NOT down (De Morgan), as the reference does.
    item = node.item
    if isinstance(item, Not):
        return _evaluate(item.item, props, bugs)
    if isinstance(item, And):
        return any(_evaluate(Not(kid), props, bugs) for kid in item.items)
    if isinstance(item, Or):
        return all(_evaluate(Not(kid), props, bugs) for kid in item.items)
    # a leaf under a bent comparison: false where the leaf is false (and the value is there)
    if props.get(item.property) is None:
        return False
    return not _leaf(item, props, bugs)


def _native_props(props: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(props)
    moment = parse_instant(str(props.get("timestamp")))
    if moment is not None:
        out["timestamp"] = moment
    return out


def _pygeofilter_predicate(text: str) -> Callable[[Mapping[str, Any]], bool]:
    ecql = cq.to_cql2_text(cq.parse_filter(text))
    native = NativeEvaluator(use_getattr=False).evaluate(parse_ecql(ecql))

    def keep(props: Mapping[str, Any]) -> bool:
        try:
            return bool(native(_native_props(props)))
        except Exception:  # a record the evaluator cannot compare is not selected
            return False

    return keep


# ---- the search


class TinyServer:
    """An ASGI app answering ``POST /catalog/v2/search`` over ``records``, with ``bugs``."""

    def __init__(self, records: Iterable[Mapping[str, Any]], bugs: Bugs = Bugs()) -> None:
        self.records = [dict(r) for r in records]
        self.bugs = bugs
        self.shapes = [shapely.from_wkt(r["properties"]["footprintWkt"]) for r in self.records]
        self.keys = [instant_key(str(r["properties"]["timestamp"])) or "" for r in self.records]

    def search(self, body: Any) -> tuple[int, dict[str, Any]]:
        try:
            request = SearchRequest.from_dict(body)
        except InvalidSearchRequest as error:
            return 400, {"status": "400 Bad Request", "message": str(error)}
        bugs = self.bugs
        if bugs.pygeofilter:
            try:
                filters = [_pygeofilter_predicate(text) for text in request.filters]
            except Exception as error:  # what pygeofilter cannot parse, the server refuses
                return 400, {"status": "400 Bad Request", "message": repr(error)}
        else:
            trees = [
                _left_to_right(text) if bugs.equal_precedence else node
                for text, node in zip(request.filters, request.filter_nodes, strict=True)
            ]
            filters = [lambda props, t=tree: _evaluate(t, props, bugs) for tree in trees]
        types = [cq.compile_types(node) for node in request.type_nodes]
        end, end_strict = request.end, False
        if bugs.end_exclusive and request.end_date is not None:
            end, end_strict = instant_key(request.end_date), True
        hits = []
        for record, shape, key in zip(self.records, self.shapes, self.keys, strict=True):
            if request.start is not None and key < request.start:
                continue
            if end is not None and (key > end or (end_strict and key == end)):
                continue
            if request.area is not None and not shapely.intersects(request.area, shape):
                continue
            if not all(test(record["type"]) for test in types):
                continue
            if not all(keep(record["properties"]) for keep in filters):
                continue
            hits.append((key, record))
        if bugs.ties_unordered:
            hits.sort(key=lambda hit: hashlib.sha1(hit[1]["identifier"].encode()).digest())
        else:
            hits.sort(key=lambda hit: hit[1]["identifier"])
        hits.sort(key=lambda hit: hit[0], reverse=True)
        count = request.limit
        if bugs.no_cap:
            limit = body.get("limit")
            count = limit if isinstance(limit, int) and limit > 0 else len(hits)
        results = [record for _, record in hits[:count]]
        labels = Counter(label for record in results for label in record["type"])
        stats: dict[str, Any] = {
            "recordsReturned": len(results),
            "totalRecords": len(results),
            "typeCounts": dict(labels),
        }
        if request.count_total:
            stats["totalMatched"] = len(hits)
        return 200, {"stats": stats, "results": results}

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        status, answer = self._route(scope["method"], scope["path"], b"".join(chunks))
        payload = json.dumps(answer).encode()
        headers = [(b"content-type", b"application/json")]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": payload})

    def _route(self, method: str, path: str, raw: bytes) -> tuple[int, dict[str, Any]]:
        if method != "POST" or path != "/catalog/v2/search":
            return 404, {"status": "404 Not Found", "message": f"Not Found: {path}"}
        try:
            body = json.loads(raw)
        except ValueError:
            return 400, {"status": "400 Bad Request", "message": "the body is not JSON"}
        return self.search(body)


class TinyWSGIServer:
    """The same server as a WSGI app (for the WSGI transport)."""

    def __init__(self, records: Iterable[Mapping[str, Any]], bugs: Bugs = Bugs()) -> None:
        self.inner = TinyServer(records, bugs)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        size = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(size)
        status, answer = self.inner._route(environ["REQUEST_METHOD"], environ["PATH_INFO"], raw)
        start_response(f"{status} X", [("Content-Type", "application/json")])
        return [json.dumps(answer).encode()]
