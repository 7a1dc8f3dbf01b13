"""Atlan's OpenLineage endpoint (POST /events/openlineage/{connector}/api/v1/lineage): run events in, 202 out.

What for: pyatlan's `client.open_lineage.send(event, connector_type)` and any OpenLineage HTTP transport
pointed at it (Spark's listener, Airflow, dbt), with the API token as its Bearer key. The answer is short text,
as Atlan's is (pyatlan reads it as text); what the events become is `gazetteer.assets.openlineage`.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse
from starlette.concurrency import run_in_threadpool

from gazetteer.assets.openlineage import receive_events
from gazetteer.web.deps import EngineDep, PrincipalDep
from gazetteer.web.openapi import errors

__all__ = ["router"]

router = APIRouter(prefix="/events/openlineage", tags=["lineage"])

_EVENT = {"type": "object", "required": ["job"], "description": "An OpenLineage RunEvent",
          "properties": {"eventType": {"type": "string"}, "eventTime": {"type": "string"},
                         "job": {"type": "object"}, "run": {"type": "object"}, "producer": {"type": "string"},
                         "inputs": {"type": "array", "items": {"type": "object"}},
                         "outputs": {"type": "array", "items": {"type": "object"}}}}
# The answer is text, so FastAPI would document the errors as text too: they are the JSON Atlan error body.
_ERRORS = {status: {"description": spec["description"], "content": {"application/json": {"schema": {
    "$ref": "#/components/schemas/AtlanError"}}}} for status, spec in errors(401, 403).items()}
_BODY = {"requestBody": {"required": True, "content": {"application/json": {"schema": {
    "oneOf": [_EVENT, {"type": "array", "items": _EVENT, "minItems": 1, "maxItems": 100}]}}}}}


@router.post("/{connector}/api/v1/lineage", status_code=202, response_class=PlainTextResponse,
             responses={**_ERRORS, 202: {"content": {"text/plain": {"schema": {"type": "string"}}},
                                             "description": "What the events became, in one line"}},
             openapi_extra=_BODY)
async def lineage_events(connector: str, request: Request, engine: EngineDep,
                         principal: PrincipalDep) -> PlainTextResponse:
    """Record lineage from OpenLineage run events: a Process per job between the crawled tables it read and
    wrote, a ColumnProcess per output column of its columnLineage facet. Datasets that are no crawled table
    are named in the answer, not refused."""
    # The body is read here and parsed by the core, which names what is wrong with it; the database work
    # runs off the event loop, as FastAPI runs plain routes.
    body = await request.body()
    text = await run_in_threadpool(receive_events, engine, principal, connector, body)
    return PlainTextResponse(text, status_code=202)
