"""The JSON Schemas of the HTTP bodies, as ``/openapi.json`` lists them (``components.schemas``).

The routes read their bodies themselves (this project's validation reports every problem at
once, positioned), so the schemas are written here rather than derived from models.

>>> sorted(SCHEMAS)[:6]
['Band', 'BandChange', 'BandCreate', 'BandReplace', 'DeletionStatus', 'DeletionTask']
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from catalogql.http.errors import ERROR_SCHEMA
from catalogql.service.bands import BAND_FIELDS
from catalogql.service.images import IMAGE_FIELDS
from catalogql.service.products import PRODUCT_FIELDS

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


def _jsonapi(kind: str) -> dict[str, Any]:
    return {
        "type": "object",
        "description": f"A JSON:API document of one {kind} (WIRE.md section 3).",
        "required": ["data"],
        "properties": {
            "data": {
                "type": "object",
                "required": ["type", "id", "attributes", "meta"],
                "properties": {
                    "type": {"type": "string", "const": kind},
                    "id": {"type": "string"},
                    "attributes": {"type": "object"},
                    "meta": {
                        "type": "object",
                        "properties": {
                            "modified": {"type": "string"},
                            "owner_type": {"type": "string", "enum": ["user", "core"]},
                        },
                    },
                },
            }
        },
    }


_TYPES: dict[str, dict[str, Any]] = {
    "id": {"type": "string", "minLength": 1},
    "name": {"type": "string", "minLength": 1},
    "title": {"type": "string"},
    "description": {"type": "string"},
    "acquired": {"type": "string"},
    "srcband": {"type": "integer"},
    "dtype": {"type": "string"},
    "type": {"type": "string"},
    "data_range": {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2},
}


def _bodies(
    kind: str, fields: Mapping[str, Any], key: str, required: tuple[str, ...]
) -> dict[str, dict[str, Any]]:
    """The POST, PUT and PATCH bodies of a kind: the service's fields (each value its check)."""
    properties = {name: _TYPES.get(name, {}) for name in (key, *sorted(fields))}
    lower = kind.lower()

    def body(description: str, needed: list[str]) -> dict[str, Any]:
        return {
            "type": "object",
            "description": description,
            "required": needed,
            "properties": properties,
            "additionalProperties": False,
        }

    return {
        f"{kind}Create": body(
            f"A new {lower}: its {key} and fields (WIRE.md section 3).", [key, *required]
        ),
        f"{kind}Replace": body(
            f"Every field of a {lower} ({key}, if given, must be the path's).", list(required)
        ),
        f"{kind}Change": body(f"The fields of a {lower} to change.", []),
    }


_UPLOAD: dict[str, Any] = {
    "type": "object",
    "required": ["id", "type", "attributes"],
    "properties": {
        "id": {"type": "string"},
        "type": {"type": "string", "const": "upload"},
        "attributes": {
            "type": "object",
            "required": ["status"],
            "properties": {
                "status": {"type": "string", "enum": ["PENDING", "RUNNING", "SUCCESS", "FAILURE"]},
                "created": {"type": ["string", "null"]},
                "updated": {"type": ["string", "null"]},
                "errors": {"type": "array", "items": {"type": "object"}},
            },
        },
    },
}

SCHEMAS.update(
    {
        "Product": _jsonapi("product"),
        "Band": _jsonapi("band"),
        "Image": _jsonapi("image"),
        **_bodies("Product", PRODUCT_FIELDS, "id", ("title", "description")),
        **_bodies("Band", BAND_FIELDS, "name", ("srcband", "dtype", "data_range", "type")),
        **_bodies("Image", IMAGE_FIELDS, "id", ("acquired", "geometry")),
        "UploadBody": {
            "type": "object",
            "description": "The image's metadata (acquired is required) and process_controls "
            "(WIRE.md section 6): upload_type file (a GeoTIFF; multi_file: several files make "
            "one image) or ndarray (a .npy; geotrans and proj4 or wkt_srs in the body).",
            "properties": {
                "process_controls": {
                    "type": "object",
                    "properties": {
                        "upload_type": {"type": "string", "enum": ["file", "ndarray"]},
                        "multi_file": {
                            "type": "object",
                            "properties": {
                                "image_files": {"type": "array", "items": {"type": "string"}},
                                "image_id": {"type": "string"},
                            },
                        },
                    },
                },
                "acquired": {"type": "string"},
            },
            "additionalProperties": True,
        },
        "UploadResultsBody": {
            "type": "object",
            "description": "A page of a product's uploads (WIRE.md section 3, upload_results).",
            "properties": {
                "limit": {"type": "integer", "minimum": 1, "maximum": 1000},
                "offset": {"type": "integer", "minimum": 0},
                "status": {"type": "string"},
                "created": {"type": ["string", "integer"]},
                "updated": {"type": ["string", "integer"]},
                "continuation_token": {"type": ["string", "null"]},
            },
        },
        "Upload": _UPLOAD,
        "UploadResult": {
            "type": "object",
            "required": ["data"],
            "properties": {"data": {"$ref": "#/components/schemas/Upload"}},
        },
        "UploadResults": {
            "type": "object",
            "required": ["data", "meta"],
            "properties": {
                "data": {"type": "array", "items": {"$ref": "#/components/schemas/Upload"}},
                "meta": {
                    "type": "object",
                    "required": ["continuation_token"],
                    "properties": {"continuation_token": {"type": ["string", "null"]}},
                },
            },
        },
        "Removed": {
            "type": "object",
            "required": ["meta"],
            "properties": {
                "meta": {
                    "type": "object",
                    "required": ["removed"],
                    "properties": {
                        "removed": {
                            "type": "object",
                            "properties": {
                                "type": {"type": "string"},
                                "product": {"type": "string"},
                                "id": {"type": "string"},
                            },
                        }
                    },
                }
            },
        },
        "DeletionTask": {
            "type": "object",
            "required": ["deletion_task"],
            "properties": {"deletion_task": {"type": "string"}},
        },
        "DeletionStatus": {
            "type": "object",
            "description": "A cascade deletion's status (WIRE.md section 3).",
            "required": ["completed"],
            "properties": {
                "completed": {"type": "boolean"},
                "response": {"type": "object"},
                "task": {"type": "object"},
            },
        },
    }
)
