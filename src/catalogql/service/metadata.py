"""The Descartes Metadata search and summary over images' search records (WIRE.md section 4).

:func:`metadata_search` answers a ``POST /search`` body with a page of GeoJSON Features and a
continuation token; :func:`summary` a ``POST /summary`` body with counts. Both see only what the
principal may read (:func:`~catalogql.service.access.visible_names`, decided in the store's
query) and only images (records typed ``UserImage``, as the upload layer stores them: identifier
``<product id>:<image key>``, properties named by
:data:`~catalogql.search.metadata_request.IMAGE_PROPERTIES`).

Decisions where the wire is silent:

* **Products.** ``products`` narrows to images whose ``product`` property is one of them. An id
  that is unknown or that the principal may not read simply matches nothing (never a 404): an
  error would tell a stranger which ids exist; an empty answer is the same for both.
* **Sort.** Only ``acquired`` (the record's time key, which every record has, so none is missing
  a sort value) can be sorted on, ascending (the client's default) or descending; ties break on
  the identifier ascending. Another ``sort_field`` is a 400 naming it. ``random_seed`` is
  accepted and does not change the order (a random order cannot be paged by position).
* **Pages and tokens.** A page holds at most ``limit`` (≤ 10,000) features. A full page comes
  with a continuation token; a shorter one ends the search (None). A token is opaque text:
  the last feature's time key and identifier, a fingerprint of the body without its
  ``continuation_token`` (sha256 of its canonical JSON), signed with HMAC-SHA256 under a secret
  made once per catalog and kept in it (a document, see :func:`catalog_secret`). A token that
  does not verify (tampered, made by another catalog) or whose body differs (stale) is a 400
  naming ``continuation_token``. A token is signed, not encrypted: it shows the position it
  holds (a record its holder was shown). It carries no rights: every page is searched with the
  names of the principal who sends it, so a token handed to someone else shows them only what
  they may read themselves.
* **Guarantee under concurrent writes.** Each page is the next ``limit`` matches after the
  token's position in the order ``(time key, identifier)``, read when the page is asked. So
  paging through a search returns every record that matched at its start and still matches
  (and was not removed) exactly once, in order, and never returns one twice; a record added
  *after* the position (later in the order) while paging appears on a later page; one added
  *before* it (at or earlier than the position) is not returned. Only a record *changed* while
  paging can break "once": one whose ``acquired`` moves from behind the position to after it is
  returned again, and one that moves the other way is not returned.
* **fields.** None: whole features. A list: the feature keeps ``id``; ``type`` and ``geometry``
  if ``geometry`` is listed; ``properties`` holding the listed properties it has; and the listed
  ``key``/``product`` beside ``id`` too (the client's e2e test expects ``id, key, properties``
  for ``["key"]``). ``[]``: only ``id``.
* **Summary.** Computed over the matches in Python, at most :data:`MAX_SUMMARY` of them (a
  413 naming the body past it: narrow it by date or area). ``bytes`` is the sum of the images'
  ``file_sizes`` (0 for an image without it); ``pixels``, when asked, the sum of
  ``width`` x ``height`` x the number of ``bands`` (1 if not listed) of each image (SPEC section
  7's properties; 0 without a size).
  ``items`` (with ``interval``) are the buckets with matches, in order: for a date interval
  ``{"date": "<bucket start>.000Z", "timestamp": <epoch seconds>, "count", "bytes"[, "pixels"]}``
  (weeks start on Monday, UTC; an image without the ``date`` field falls in no bucket); for
  ``product``, ``{"product": <id>, "count", "bytes"[, "pixels"]}``.

>>> import catalogql as cq
>>> from catalogql.search import open_catalog
>>> catalog = open_catalog("memory://")
>>> _ = catalog.add_records([{"identifier": "ns:p:a", "type": ["GBDXCatalogRecord", "UserImage",
...     "ns:p"], "properties": {"timestamp": "2020-05-01T00:00:00Z", "cloudCover": 10,
...     "footprintWkt": "POINT(1 2)", "product": "ns:p", "key": "a"}}], readers=["group:team"])
>>> reader = cq.Principal("ann", groups=["team"])
>>> features, token = metadata_search(catalog, reader, {"products": ["ns:p"], "limit": 5})
>>> features[0]["id"], features[0]["properties"]["cloud_fraction"], token
('ns:p:a', 0.1, None)
>>> metadata_search(catalog, cq.Principal("stranger"), {"products": ["ns:p"]})
([], None)
"""

from __future__ import annotations

import base64
import binascii
import calendar
import hashlib
import hmac
import json
import secrets
from collections import Counter
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import shapely
import shapely.geometry

from catalogql.ast import Comparison, LiteralKind, Node, Op, Or, TypeName, unchecked_literal
from catalogql.errors import Conflict, Problem, TooLarge
from catalogql.search.documents import Document, documents
from catalogql.search.engine import Catalog, Query
from catalogql.search.errors import InvalidSearchRequest
from catalogql.search.metadata_request import IMAGE_PROPERTIES, MetadataSearchRequest
from catalogql.semantics import instant_key
from catalogql.service.access import visible_names
from catalogql.service.principals import Principal

__all__ = [
    "IMAGE_TYPE",
    "MAX_SUMMARY",
    "catalog_secret",
    "metadata_search",
    "summary",
    "to_feature",
]

IMAGE_TYPE = "UserImage"
"""The type label every image's search record carries (what the Metadata search searches)."""

MAX_SUMMARY = 100_000
"""The most matches a summary counts; past it the summary is refused (413)."""

_SECRET_KIND, _SECRET_ID = "catalog_secret", "continuation_token"
_TOKEN_VERSION = 1
_FROM_RECORD = {alias.property: (name, alias.scale) for name, alias in IMAGE_PROPERTIES.items()}
_TOKEN_HINT = (
    "send the continuation token of the previous page with the same body, unchanged; to start "
    "over, leave continuation_token out"
)


def catalog_secret(catalog: Catalog) -> bytes:
    """The catalog's secret for signing continuation tokens (made once, kept in the catalog).

    It is a document (kind ``catalog_secret``) written in the catalog's unit of work the first
    time it is needed; two processes racing to make it keep the first one committed.

    >>> from catalogql.search import open_catalog
    >>> catalog = open_catalog("memory://")
    >>> catalog_secret(catalog) == catalog_secret(catalog), len(catalog_secret(catalog))
    (True, 32)
    """
    store = documents(catalog)
    found = store.get(_SECRET_KIND, _SECRET_ID)
    if found is None:
        made = Document(_SECRET_KIND, _SECRET_ID, None, "", (), {"key": secrets.token_hex(32)})
        try:
            with catalog.transaction():
                store.put(made, create=True)
        except Conflict:
            pass  # another writer made it first: theirs is the one
        found = store.get(_SECRET_KIND, _SECRET_ID)
        if found is None:  # pragma: no cover - a committed document is found
            raise RuntimeError("the catalog's secret could not be stored")
    return bytes.fromhex(found.body["key"])


def _fingerprint(body: Mapping[str, Any]) -> str:
    rest = {key: value for key, value in body.items() if key != "continuation_token"}
    text = json.dumps(rest, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _make_token(secret: bytes, body: Mapping[str, Any], time: str, identifier: str) -> str:
    payload = json.dumps([_TOKEN_VERSION, time, identifier, _fingerprint(body)]).encode()
    signature = hmac.new(secret, payload, hashlib.sha256).digest()
    return f"{_b64(payload)}.{_b64(signature)}"


def _token_error(message: str) -> InvalidSearchRequest:
    return InvalidSearchRequest(
        [Problem("continuation_token", None, message, _TOKEN_HINT, "request.continuation-token")]
    )


def _read_token(secret: bytes, body: Mapping[str, Any], token: str) -> tuple[str, str]:
    """The position a token holds, checked against the secret and the body."""
    head, dot, tail = token.partition(".")
    try:
        payload, signature = _unb64(head), _unb64(tail)
    except (binascii.Error, ValueError):
        payload, signature = b"", b""
    expected = hmac.new(secret, payload, hashlib.sha256).digest()
    if not dot or not payload or not hmac.compare_digest(signature, expected):
        raise _token_error(
            "continuation_token is not a token this catalog made (changed, cut, or from "
            "another catalog)"
        )
    version, time, identifier, fingerprint = json.loads(payload)
    if version != _TOKEN_VERSION:  # pragma: no cover - one version so far
        raise _token_error("continuation_token was made by another version")
    if fingerprint != _fingerprint(body):
        raise _token_error(
            "continuation_token belongs to another search: the body changed since the page "
            "that gave it"
        )
    return str(time), str(identifier)


def _query(
    catalog: Catalog,
    principal: Principal,
    request: MetadataSearchRequest,
    *,
    limit: int,
    after: tuple[str, str] | None = None,
) -> Query:
    filters: list[Node] = [] if request.filter is None else [request.filter]
    if request.products:
        items: list[Node] = [
            Comparison("product", Op.EQ, unchecked_literal(product, LiteralKind.QUOTED))
            for product in request.products
        ]
        filters.append(items[0] if len(items) == 1 else Or(tuple(items)))
    return Query.build(
        filters=filters,
        types=[TypeName(IMAGE_TYPE)],
        area=request.area,
        start=request.start if request.date == "acquired" else None,
        end=request.end if request.date == "acquired" else None,
        limit=limit,
        schema=catalog.schema,
        indexed=catalog.indexed,
        readers=visible_names(principal),
        ascending=not request.descending,
        after=after,
    )


def to_feature(record: Mapping[str, Any], fields: tuple[str, ...] | None = None) -> dict[str, Any]:
    """An image's search record as the GeoJSON Feature the Metadata search answers.

    Properties get their Descartes names back (``timestamp`` -> ``acquired``, ``cloudCover``
    -> ``cloud_fraction`` / 100, :data:`IMAGE_PROPERTIES`); ``footprintWkt`` becomes the
    ``geometry``; ``product`` and ``key`` come from the identifier ``<product>:<key>`` when the
    record lacks them. ``fields`` as the module docstring says.

    >>> record = {"identifier": "ns:p:k", "type": ["UserImage", "ns:p"], "properties": {
    ...     "timestamp": "2020-01-01T00:00:00Z", "cloudCover": 25, "footprintWkt": "POINT(1 2)"}}
    >>> feature = to_feature(record)
    >>> feature["geometry"], feature["properties"]["cloud_fraction"]
    ({'type': 'Point', 'coordinates': (1.0, 2.0)}, 0.25)
    >>> to_feature(record, ("key",))
    {'id': 'ns:p:k', 'key': 'k', 'properties': {'key': 'k'}}
    >>> to_feature(record, ())
    {'id': 'ns:p:k'}
    """
    identifier = record["identifier"]
    properties: dict[str, Any] = {}
    wkt = None
    for name, value in record["properties"].items():
        if name == "footprintWkt":
            wkt = value
            continue
        back = _FROM_RECORD.get(name)
        if back is None:
            properties.setdefault(name, value)
        elif back[1] != 1 and isinstance(value, int | float) and not isinstance(value, bool):
            properties[back[0]] = value / back[1]
        else:
            properties[back[0]] = value
    products = [label for label in record["type"] if ":" in label and identifier.startswith(label)]
    if products and "product" not in properties:
        properties["product"] = products[0]
    if "product" in properties and "key" not in properties:
        prefix = f"{properties['product']}:"
        if identifier.startswith(prefix):
            properties["key"] = identifier[len(prefix) :]
    geometry = None
    if isinstance(wkt, str):
        try:
            geometry = shapely.geometry.mapping(shapely.from_wkt(wkt))
        except shapely.errors.GEOSException:  # stored records' footprints were read once
            geometry = None
    if fields is None:
        return {"id": identifier, "type": "Feature", "geometry": geometry, "properties": properties}
    feature: dict[str, Any] = {"id": identifier}
    if not fields:
        return feature
    for name in ("key", "product"):
        if name in fields and name in properties:
            feature[name] = properties[name]
    if "geometry" in fields:
        feature["type"] = "Feature"
        feature["geometry"] = geometry
    feature["properties"] = {name: properties[name] for name in fields if name in properties}
    return feature


def metadata_search(
    catalog: Catalog,
    principal: Principal,
    body: object,
    *,
    secret: bytes | None = None,
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of a Metadata ``POST /search`` (see the module docstring for every rule).

    Args:
        catalog: The catalog the images' records live in.
        principal: Who searches: only what they may read is found.
        body: The decoded JSON body.
        secret: The token secret (default: :func:`catalog_secret` of the catalog).

    Returns:
        The page's features and the token of the next page (None on the last page).

    Raises:
        InvalidSearchRequest: A body that breaks the rules (each problem named by its field),
            a ``sort_field`` other than ``acquired``, a token that does not verify or belongs
            to another body.

    >>> from catalogql.search import open_catalog
    >>> metadata_search(open_catalog("memory://"), Principal("a"), {"sort_field": "key"})
    Traceback (most recent call last):
      ...
    catalogql.search.errors.InvalidSearchRequest: Invalid Search Request. sort_field: only \
acquired can be sorted on here, not 'key' (hint: leave sort_field out, or send "acquired")
    """
    request = MetadataSearchRequest.from_dict(body, kind="search")
    assert isinstance(body, Mapping)  # from_dict refuses anything else
    if request.sort_field != "acquired":
        raise InvalidSearchRequest(
            [
                Problem(
                    "sort_field",
                    None,
                    f"only acquired can be sorted on here, not {request.sort_field!r}",
                    'leave sort_field out, or send "acquired"',
                    "request.sort-field",
                )
            ]
        )
    key = catalog_secret(catalog) if secret is None else secret
    after = None
    if request.continuation_token is not None:
        after = _read_token(key, body, request.continuation_token)
    limit = request.limit or 1
    query = _query(catalog, principal, request, limit=limit, after=after)
    records, _ = catalog.find(query)
    features = [to_feature(record, request.fields) for record in records]
    token = None
    if len(records) == limit:
        last = records[-1]
        time = instant_key(last["properties"]["timestamp"])
        assert time is not None  # a stored record's time was read when it was stored
        token = _make_token(key, body, time, last["identifier"])
    return features, token


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0
    return value


def _bytes(properties: Mapping[str, Any]) -> float:
    sizes = properties.get("file_sizes")
    return sum(_number(size) for size in sizes) if isinstance(sizes, list) else 0


def _pixels(properties: Mapping[str, Any]) -> float:
    width, height = properties.get("width"), properties.get("height")
    if width is None or height is None:
        size = properties.get("raster_size")
        if isinstance(size, list) and len(size) == 2:
            width, height = size
    bands = properties.get("bands")
    count = len(bands) if isinstance(bands, list | dict) and bands else 1
    return _number(width) * _number(height) * count


def _bucket(key: str, interval: str) -> datetime:
    """The start of the interval holding an instant key (UTC)."""
    moment = datetime.fromisoformat(key[:19].rstrip("~")).replace(tzinfo=UTC)
    if interval == "year":
        return moment.replace(month=1, day=1, hour=0, minute=0, second=0)
    if interval == "quarter":
        month = 3 * ((moment.month - 1) // 3) + 1
        return moment.replace(month=month, day=1, hour=0, minute=0, second=0)
    if interval == "month":
        return moment.replace(day=1, hour=0, minute=0, second=0)
    day = moment.replace(hour=0, minute=0, second=0)
    if interval == "week":
        return day - timedelta(days=moment.weekday())
    if interval == "day":
        return day
    if interval == "hour":
        return moment.replace(minute=0, second=0)
    return moment.replace(second=0)


def summary(catalog: Catalog, principal: Principal, body: object) -> dict[str, Any]:
    """A Metadata ``POST /summary``: counts over what the principal may read.

    Returns:
        ``{"count", "bytes"[, "pixels"], "products", ["items"]}`` (see the module docstring).

    Raises:
        InvalidSearchRequest: A body that breaks the rules.
        TooLarge: More than :data:`MAX_SUMMARY` matches.

    >>> from catalogql.search import open_catalog
    >>> summary(open_catalog("memory://"), Principal("a"), {"interval": "month", "pixels": True})
    {'count': 0, 'bytes': 0, 'pixels': 0, 'products': [], 'items': []}
    """
    request = MetadataSearchRequest.from_dict(body, kind="summary")
    query = _query(catalog, principal, request, limit=MAX_SUMMARY + 1)
    records, _ = catalog.find(query)
    if len(records) > MAX_SUMMARY:
        raise TooLarge(
            f"the summary matches more than {MAX_SUMMARY} images",
            [
                Problem(
                    "",
                    None,
                    f"more than {MAX_SUMMARY} images match",
                    "narrow the body: start_datetime/end_datetime, geom or products",
                    "request.summary-too-large",
                )
            ],
            hint="narrow the body: start_datetime/end_datetime, geom or products",
        )
    total_bytes: float = 0
    total_pixels: float = 0
    products: dict[str, None] = {}
    counts: Counter[str] = Counter()
    sizes: dict[str, float] = {}
    pixels: dict[str, float] = {}
    for record in records:
        feature = to_feature(record)["properties"]
        size, area = _bytes(feature), _pixels(feature)
        total_bytes += size
        total_pixels += area
        product = feature.get("product")
        if isinstance(product, str):
            products[product] = None
        if request.interval is None:
            continue
        if request.interval == "product":
            if not isinstance(product, str):
                continue
            group = product
        else:
            value = feature.get(request.date)
            key = instant_key(value) if isinstance(value, str) else None
            if key is None:
                continue
            group = _bucket(key, request.interval).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        counts[group] += 1
        sizes[group] = sizes.get(group, 0) + size
        pixels[group] = pixels.get(group, 0) + area
    answer: dict[str, Any] = {"count": len(records), "bytes": _whole(total_bytes)}
    if request.pixels:
        answer["pixels"] = _whole(total_pixels)
    answer["products"] = sorted(products)
    if request.interval is not None:
        items: list[dict[str, Any]] = []
        for group in sorted(counts):
            item: dict[str, Any]
            if request.interval == "product":
                item = {"product": group}
            else:
                moment = datetime.strptime(group, "%Y-%m-%dT%H:%M:%S.000Z")
                item = {"date": group, "timestamp": calendar.timegm(moment.timetuple())}
            item["count"] = counts[group]
            item["bytes"] = _whole(sizes[group])
            if request.pixels:
                item["pixels"] = _whole(pixels[group])
            items.append(item)
        answer["items"] = items
    return answer


def _whole(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value
