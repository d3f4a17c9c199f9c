"""A brute-force GBDX search: what every store must answer, computed record by record.

Written independently of the stores (no index, no SQL): shapely for areas, the predicates for
types and filters, a Python sort for the order.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from typing import Any

import shapely

from catalogql import compile_predicate, compile_types, parse_filter, parse_types
from catalogql.semantics import instant_key


def matching(records: Iterable[dict[str, Any]], body: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every record satisfying a request body, in search order (the last copy of an id wins)."""
    area = None
    if body.get("searchAreaWkt"):
        area = shapely.from_wkt(body["searchAreaWkt"])
        if area.area == 0:  # a collapsed ring is its point or line
            area = shapely.MultiPoint(shapely.get_coordinates(area)).convex_hull
    start = instant_key(body["startDate"]) if body.get("startDate") else None
    end = instant_key(body["endDate"]) if body.get("endDate") else None
    next_day = None  # an end date alone covers its whole UTC day: before the next day's midnight
    if end is not None and len(body["endDate"]) == len("2014-12-31"):
        day = datetime.date.fromisoformat(body["endDate"])
        if day < datetime.date.max:  # the last day of year 9999 has no next day: nothing is after
            following = day + datetime.timedelta(days=1)
            next_day, end = instant_key(following.isoformat()), None
        else:
            end = None
    types = [compile_types(parse_types(t)) for t in body.get("types") or []]
    filters = [compile_predicate(parse_filter(f)) for f in body.get("filters") or []]
    latest = {r["identifier"]: r for r in records}
    found = []
    for record in latest.values():
        props = record["properties"]
        key = instant_key(props["timestamp"]) or ""
        if (start is not None and key < start) or (end is not None and key > end):
            continue
        if next_day is not None and key >= next_day:
            continue
        if area is not None and not area.intersects(shapely.from_wkt(props["footprintWkt"])):
            continue
        if all(t(record["type"]) for t in types) and all(f(props) for f in filters):
            found.append(record)
    found.sort(key=lambda r: r["identifier"])
    found.sort(key=lambda r: instant_key(r["properties"]["timestamp"]) or "", reverse=True)
    return found
