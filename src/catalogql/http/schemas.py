"""The JSON Schemas of the HTTP bodies, as ``/openapi.json`` lists them (``components.schemas``).

The routes read their bodies themselves (this project's validation reports every problem at
once, positioned), so the schemas are written here rather than derived from models.

>>> sorted(SCHEMAS)
['Error', 'GBDXRecord', 'GBDXSearchRequest', 'GBDXSearchResponse', 'Health']
"""

from __future__ import annotations

from typing import Any

from catalogql.http.errors import ERROR_SCHEMA

__all__ = ["SCHEMAS", "ref"]


def ref(name: str) -> dict[str, str]:
    """A reference to the schema ``name``.

    >>> ref("Error")
    {'$ref': '#/components/schemas/Error'}
    """
    return {"$ref": f"#/components/schemas/{name}"}


_STRINGS = {"type": ["array", "null"], "items": {"type": "string"}}

SCHEMAS: dict[str, dict[str, Any]] = {
    "Error": ERROR_SCHEMA,
    "Health": {
        "type": "object",
        "required": ["status"],
        "properties": {"status": {"type": "string", "const": "ok"}},
    },
    "GBDXSearchRequest": {
        "type": "object",
        "description": "A GBDX Catalog v2 search (SPEC section 5); unknown fields are ignored.",
        "properties": {
            "searchAreaWkt": {"type": ["string", "null"], "description": "WKT POLYGON, lon/lat"},
            "startDate": {"type": ["string", "null"], "description": "ISO 8601 date-time or date"},
            "endDate": {"type": ["string", "null"], "description": "ISO 8601 date-time or date"},
            "types": {**_STRINGS, "description": "type expressions, ANDed"},
            "filters": {**_STRINGS, "description": "filter strings, ANDed"},
            "limit": {"type": ["integer", "null"], "minimum": 1, "description": "1 to 1000"},
            "countTotal": {"type": ["boolean", "null"], "description": "add stats.totalMatched"},
        },
    },
    "GBDXRecord": {
        "type": "object",
        "required": ["identifier", "type", "properties"],
        "properties": {
            "identifier": {"type": "string"},
            "type": {"type": "array", "items": {"type": "string"}},
            "properties": {"type": "object"},
        },
    },
    "GBDXSearchResponse": {
        "type": "object",
        "required": ["stats", "results"],
        "properties": {
            "stats": {
                "type": "object",
                "required": ["recordsReturned", "totalRecords", "typeCounts"],
                "properties": {
                    "recordsReturned": {"type": "integer"},
                    "totalRecords": {"type": "integer"},
                    "totalMatched": {"type": "integer"},
                    "typeCounts": {
                        "type": "object",
                        "additionalProperties": {"type": "integer"},
                    },
                },
            },
            "results": {"type": "array", "items": ref("GBDXRecord")},
            "warnings": {"type": "array", "items": {"type": "object"}},
        },
    },
}
"""Every schema ``/openapi.json`` lists under ``components.schemas``."""
