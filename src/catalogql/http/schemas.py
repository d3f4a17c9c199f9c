"""The JSON Schemas of the HTTP bodies, as ``/openapi.json`` lists them (``components.schemas``).

The routes read their bodies themselves (this project's validation reports every problem at
once, positioned), so the schemas are written here rather than derived from models.

>>> sorted(SCHEMAS)[:6]
['Band', 'BandBody', 'DeletionStatus', 'DeletionTask', 'Error', 'GBDXRecord']
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


def _body(description: str, required: list[str]) -> dict[str, Any]:
    return {
        "type": "object",
        "description": description,
        "required": required,
        "additionalProperties": True,
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
        "ProductBody": _body(
            "A product's fields (WIRE.md section 3: title, description, read, writers, …); "
            "on POST also its id (namespaced as <namespace>:<id> unless it is already).",
            [],
        ),
        "BandBody": _body(
            "A band's fields (srcband, dtype, data_range, type, …); on POST also its name.", []
        ),
        "ImageBody": _body(
            "An image's fields (acquired, geometry, …); on POST also its id (the image key).", []
        ),
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
