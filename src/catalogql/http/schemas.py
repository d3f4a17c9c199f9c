"""The JSON Schemas of the HTTP bodies, as ``/openapi.json`` lists them (``components.schemas``).

The routes read their bodies themselves (this project's validation reports every problem at
once, positioned), so the schemas are written here rather than derived from models.

>>> {"Error", "GBDXSearchRequest", "MetadataSearchRequest", "Product", "UploadBody"} <= set(SCHEMAS)
True
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

_STRING_LIST = {"type": "array", "items": {"type": "string"}}
_FRACTION = {"type": "number", "minimum": 0, "maximum": 1}
_FLAT = {"type": "object", "required": ["id"], "properties": {"id": {"type": "string"}}}
_PAGE = {"type": "integer", "minimum": 1, "maximum": 1000}
_OFFSET = {"type": "integer", "minimum": 0}
_QUERY = {
    "type": "object",
    "description": "WIRE.md section 7: {and|or: [...]}, {eq|ne: {name: value}}, "
    "{range: {name: {lt|lte|gt|gte: value}}}, {like: {name: pattern}}",
}
_CONDITIONS: dict[str, Any] = {
    "date": {
        "type": "string",
        "description": "the date field start/end_datetime bound (default acquired)",
        "examples": ["acquired", "processed"],
    },
    "sat_ids": {"type": ["array", "string"], "items": {"type": "string"}},
    "products": {"type": ["array", "string"], "items": {"type": "string"}},
    "geom": {
        "type": ["object", "string"],
        "description": "a GeoJSON geometry object, GeoJSON text, or WKT text (lon/lat)",
    },
    "start_datetime": {"type": "string", "description": "ISO 8601 (no zone: UTC), inclusive"},
    "end_datetime": {"type": "string", "description": "ISO 8601; a date alone: its whole day"},
    "cloud_fraction": {**_FRACTION, "description": "a maximum, inclusive"},
    "cloud_fraction_0": {**_FRACTION, "description": "a maximum, inclusive"},
    "fill_fraction": {**_FRACTION, "description": "a minimum, inclusive"},
    "storage_state": {"type": "string", "enum": ["available", "remote", "any"]},
    "query_expr": _QUERY,
}


def _null_is_absent(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` with ``null`` allowed for each optional property.

    The bodies read by :mod:`catalogql.service.reads` take a null as the field left out (the
    real client sends nulls for arguments not given); Schemathesis found nulls answered 200
    where these schemas said they would be refused.
    """
    required = set(schema.get("required", ()))
    properties = {}
    for name, prop in schema["properties"].items():
        if name not in required:
            kinds = prop["type"] if isinstance(prop["type"], list) else [prop["type"]]
            prop = {**prop, "type": [*kinds, "null"] if "null" not in kinds else kinds}
        properties[name] = prop
    return {**schema, "properties": properties}


SCHEMAS.update(
    {
        "MetadataSearchRequest": {
            "type": "object",
            "description": "A Descartes Metadata search (WIRE.md section 4); unknown fields are "
            "ignored.",
            "properties": {
                **_CONDITIONS,
                "limit": {"type": "integer", "minimum": 1, "description": "the page size"},
                "fields": {**_STRING_LIST, "description": "[]: only id; else id and these"},
                "sort_field": {"type": "string", "enum": ["acquired"]},
                "sort_order": {"type": "string", "enum": ["asc", "desc"]},
                "random_seed": {"type": "integer", "description": "accepted; order unchanged"},
                "continuation_token": {
                    "type": "string",
                    "description": "the X-Continuation-Token of the previous page, same body",
                },
            },
        },
        "MetadataSummaryRequest": {
            "type": "object",
            "description": "A Descartes Metadata summary; unknown fields are ignored.",
            "properties": {
                **_CONDITIONS,
                "interval": {
                    "type": "string",
                    "enum": [
                        "year",
                        "y",
                        "quarter",
                        "q",
                        "month",
                        "M",
                        "week",
                        "w",
                        "day",
                        "d",
                        "hour",
                        "h",
                        "minute",
                        "m",
                        "product",
                    ],
                },
                "pixels": {"type": "boolean"},
            },
        },
        "Feature": {
            "type": "object",
            "description": "An image as a GeoJSON Feature (with fields: id and what was asked)",
            "required": ["id"],
            "properties": {
                "id": {"type": "string"},
                "type": {"type": "string", "const": "Feature"},
                "geometry": {"type": ["object", "null"]},
                "properties": {"type": "object"},
                "key": {"type": "string"},
                "product": {"type": "string"},
            },
        },
        "FeatureList": {"type": "array", "items": ref("Feature")},
        "MetadataSummary": {
            "type": "object",
            "required": ["count", "bytes", "products"],
            "properties": {
                "count": {"type": "integer", "minimum": 0},
                "bytes": {"type": "number", "minimum": 0},
                "pixels": {"type": "number", "minimum": 0},
                "products": _STRING_LIST,
                "items": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["count", "bytes"],
                        "properties": {
                            "date": {"type": "string"},
                            "timestamp": {"type": "integer"},
                            "product": {"type": "string"},
                            "count": {"type": "integer"},
                            "bytes": {"type": "number"},
                            "pixels": {"type": "number"},
                        },
                    },
                },
            },
        },
        "MetadataImage": {**_FLAT, "description": "An image, flat (id, key, product, ...)"},
        "MetadataImageList": {"type": "array", "items": ref("MetadataImage")},
        "BatchImagesRequest": _null_is_absent(
            {
                "type": "object",
                "required": ["ids"],
                "properties": {
                    "ids": {**_STRING_LIST, "maxItems": 1000},
                    "ignore_not_found": {"type": "boolean", "description": "default true"},
                    "fields": _STRING_LIST,
                },
            }
        ),
        "ProductsSearchRequest": _null_is_absent(
            {
                "type": "object",
                "description": "Unknown fields are ignored.",
                "properties": {
                    "limit": _PAGE,
                    "offset": _OFFSET,
                    "bands": {**_STRING_LIST, "description": "products having a band of each name"},
                    "owner": {"type": "string", "description": "a user id (JWT sub) or grant name"},
                    "text": {
                        "type": "string",
                        "description": "in the id, title, description, tags",
                    },
                    "continuation_token": {"type": "string"},
                },
            }
        ),
        "MetadataProduct": {**_FLAT, "description": "A product, flat"},
        "MetadataProductList": {"type": "array", "items": ref("MetadataProduct")},
        "BandsSearchRequest": _null_is_absent(
            {
                "type": "object",
                "required": ["products"],
                "properties": {
                    "products": _STRING_LIST,
                    "limit": _PAGE,
                    "offset": _OFFSET,
                    "wavelength": {"type": "number"},
                    "resolution": {"type": ["number", "string"]},
                    "tags": {**_STRING_LIST, "description": "bands with at least one of them"},
                },
            }
        ),
        "MetadataBand": {**_FLAT, "description": "A band, flat"},
        "MetadataBandList": {"type": "array", "items": ref("MetadataBand")},
        "MetadataBandMap": {"type": "object", "additionalProperties": ref("MetadataBand")},
        "DerivedBandsSearchRequest": _null_is_absent(
            {
                "type": "object",
                "properties": {
                    "bands": _STRING_LIST,
                    "require_bands": {"type": "boolean"},
                    "limit": _PAGE,
                    "offset": _OFFSET,
                },
            }
        ),
        "DerivedBand": {
            "type": "object",
            "required": ["id", "name", "bands"],
            "properties": {
                "id": {"type": "string"},
                "name": {"type": "string"},
                "bands": _STRING_LIST,
            },
        },
        "DerivedBandList": {"type": "array", "items": ref("DerivedBand")},
    }
)


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
