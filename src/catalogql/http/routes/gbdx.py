"""The GBDX Catalog v2 routes (SPEC section 5): the search and the record.

Both answer over what the caller may read.

>>> sorted(route.path for route in router.routes)
['/catalog/v2/record/{identifier}', '/catalog/v2/search']
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from starlette.concurrency import run_in_threadpool

from catalogql.http.deps import AUTHENTICATED, CurrentPrincipal, service
from catalogql.http.errors import JSONBody, read_json, responses_for
from catalogql.http.schemas import ref
from catalogql.search.request import SearchRequest
from catalogql.service import Service

__all__ = ["router"]

router = APIRouter(prefix="/catalog/v2", tags=["GBDX Catalog v2"], dependencies=AUTHENTICATED)


def _json(schema: str, description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": ref(schema)}}}


@router.post(
    "/search",
    response_class=JSONBody,
    operation_id="gbdxSearch",
    summary="Search the catalog (GBDX v2)",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": ref("GBDXSearchRequest")}},
        }
    },
    responses={
        200: {
            **_json("GBDXSearchResponse", "the matching records, newest first"),
            "links": {
                "GetFirstRecord": {
                    "operationId": "gbdxRecord",
                    "parameters": {"identifier": "$response.body#/results/0/identifier"},
                    "description": "the first record found, by its identifier",
                }
            },
        },
        **responses_for(400, 401, 413, 422),
    },
)
async def search(
    request: Request, who: CurrentPrincipal, svc: Annotated[Service, Depends(service)]
) -> JSONBody:
    """The records matching the body (at most 1000), among those the caller may read."""
    body = await read_json(request)
    parsed = SearchRequest.from_dict(body)  # every problem at once, as the engine reports them
    answer = await run_in_threadpool(svc.search, who, parsed)
    return JSONBody(answer)


@router.get(
    "/record/{identifier}",
    response_class=JSONBody,
    operation_id="gbdxRecord",
    summary="One record (GBDX v2)",
    responses={
        200: _json("GBDXRecord", "the record"),
        **responses_for(401, 404),
    },
)
async def record(
    identifier: Annotated[str, Path(description="the record's identifier (percent-decoded)")],
    who: CurrentPrincipal,
    svc: Annotated[Service, Depends(service)],
) -> JSONBody:
    """The record with this identifier, or the GBDX 404 (also when the caller may not read it)."""
    answer = await run_in_threadpool(svc.get_record, who, identifier)
    return JSONBody(answer)
