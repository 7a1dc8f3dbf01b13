"""Atlan's audit search on the wire (POST /api/meta/entity/auditSearch): its body in, EntityAudits out.

What for: pyatlan's `client.audit.search(AuditSearchRequest...)` sends `{dsl: {from, size, query, sort,
aggregations, track_total_hits}, attributes}`; its `dsl` is parsed as every search's is and checked by
`gazetteer.assets.audit`, and the events found are answered as Atlan does: `entityAudits` (newest first unless
sorted otherwise), `count` (this page's) and `totalCount`, and `aggregations` (terms aggregations, `{}` without).

An event is an EntityAudit: the asset's entityId, entityQualifiedName and typeName; `created` and `timestamp`
(epoch milliseconds); `user` (the person, or the crawl's run); `action` (ENTITY_CREATE, ENTITY_UPDATE or
ENTITY_DELETE); `eventKey`; `detail`, the asset as the change left it (typeName, guid, status, and attributes
with its qualifiedName, name and the new value of each attribute that changed); `entityDetail`, the asset as it
is now (with the `attributes` the request names); `headers` saying how the change was made when not by a
person in the UI (a crawl's are a workflow's: agent, package, workflow and run). Gazetteer adds its own keys,
which pyatlan ignores: `gazetteerAction` (created, updated, archived or restored), `agent`, `run`,
`connectionQualifiedName`, `tableQualifiedName`, `changes` (each changed attribute's old and new values),
`diff` (a table's or view's schema changes), `breaking` and `affected` (what lineage says it breaks).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Body
from sqlalchemy.engine import Engine

from gazetteer.api.entities import entity_header
from gazetteer.assets.audit import ATLAN_ACTIONS, CLAUSES, AuditEvent, audit_request, search_events
from gazetteer.assets.views import ENUMS, epoch_ms
from gazetteer.errors import InvalidRequest
from gazetteer.search import parse_search_request, terms_agg_result
from gazetteer.search.limits import MAX_PAGING
from gazetteer.web.deps import PrincipalDep, ReadEngineDep
from gazetteer.web.openapi import errors
from gazetteer.workflows.models import runs, workflows

__all__ = ["router", "audit_search"]

router = APIRouter(prefix="/api/meta", tags=["assets"], responses=errors(401))
JsonObject = Annotated[dict[str, Any], Body()]
_MAX_ATTRIBUTES = 100
_DSL = ("from", "size", "query", "post_filter", "sort", "track_total_hits", "aggregations", "aggs", "_source")
# What Atlan's headers say of an agent other than a workflow (a person in the UI sends none).
_AGENTS = {"api": "sdk"}


@router.post("/entity/auditSearch")
def entity_audit_search(body: JsonObject, engine: ReadEngineDep, _: PrincipalDep) -> dict[str, Any]:
    """Search the history of changes to assets (client.audit.search): by asset, by user, by time, by action."""
    return audit_search(engine, body)


def audit_search(engine: Engine, body: Any) -> dict[str, Any]:
    """The answer to POST /api/meta/entity/auditSearch."""
    if not isinstance(body, Mapping):
        raise InvalidRequest("malformed audit search request: expected a JSON object with a 'dsl' object")
    dsl = body.get("dsl", {})
    if not isinstance(dsl, Mapping):
        raise InvalidRequest("malformed 'dsl': expected an object")
    wanted = _attributes(body.get("attributes"))
    for key in dsl:
        if key not in _DSL:
            raise InvalidRequest(f"unsupported audit search option {key!r} in 'dsl'; an audit search takes "
                                 f"{', '.join(repr(name) for name in _DSL)}")
    try:
        # A size above the page limit is refused (audit_request), not capped: pyatlan pages on by the size it asked.
        parsed = parse_search_request(dsl, max_size=MAX_PAGING)
    except InvalidRequest as exc:
        if exc.message.startswith("unsupported"):
            raise InvalidRequest(f"{exc.message}; an audit search supports {CLAUSES}") from None
        raise
    request = audit_request(parsed)
    page = search_events(engine, request)
    agents = _workflows(engine, {event.run for event in page.events if event.agent == "crawl" and event.run})
    return {
        "entityAudits": [_audit(event, agents, wanted) for event in page.events],
        "count": len(page.events),
        "totalCount": page.total,
        "aggregations": {name: terms_agg_result(rows) for name, rows in page.aggregations.items()},
    }


def _attributes(value: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise InvalidRequest("malformed 'attributes': expected a list of attribute names")
    if len(value) > _MAX_ATTRIBUTES:
        raise InvalidRequest(f"malformed 'attributes': {len(value):,} names; at most {_MAX_ATTRIBUTES} are accepted")
    return value


def _workflows(engine: Engine, names: set[str]) -> dict[str, tuple[str, str | None]]:
    """Each crawl run's workflow and package, for its events' headers (a crawl run outside a workflow has none)."""
    if not names:
        return {}
    query = (sa.select(runs.c.name, runs.c.workflow_name, workflows.c.package)
             .join(workflows, workflows.c.name == runs.c.workflow_name, isouter=True)
             .where(runs.c.name.in_(sorted(names))))
    with engine.connect() as conn:
        return {name: (workflow, package) for name, workflow, package in conn.execute(query)}


def _headers(event: AuditEvent, agents: Mapping[str, tuple[str, str | None]]) -> dict[str, str] | None:
    """How the change was made, as Atlan's headers say it: a workflow's run, an API client, nothing for the UI."""
    if event.agent == "crawl":
        run = event.run or event.actor
        headers = {"x-atlan-agent": "workflow", "x-atlan-agent-id": run}
        if run in agents:
            workflow, package = agents[run]
            headers["x-atlan-agent-workflow-id"] = workflow
            if package:
                headers["x-atlan-agent-package-name"] = package
        return headers
    if event.agent == "ui":
        return None
    return {"x-atlan-agent": _AGENTS.get(event.agent, event.agent)}


def _detail(event: AuditEvent) -> dict[str, Any]:
    """The asset as the change left it: its identity and the new value of each attribute that changed.

    Always an asset (typeName, guid, status and attributes): pyatlan tries the shapes of a custom metadata or a
    tag change first, which this never fits. Values pyatlan would refuse (an enum it does not know) are left
    out, as they are of every asset served."""
    attributes: dict[str, Any] = {"qualifiedName": event.qualified_name, "name": event.name}
    if event.action != "archived":  # what an archived asset lost is in `changes`
        for key, values in (event.changes or {}).items():
            new = values[1] if isinstance(values, list) and len(values) == 2 else None
            if key in attributes or (key in ENUMS and new is not None and new not in ENUMS[key]):
                continue
            attributes[key] = new
    return {"typeName": event.type_name, "guid": event.guid,
            "status": "DELETED" if event.action == "archived" else "ACTIVE", "attributes": attributes}


def _changes(changes: Mapping[str, Sequence[Any]] | None) -> dict[str, dict[str, Any]]:
    return {key: {"old": values[0], "new": values[1]} for key, values in (changes or {}).items()
            if isinstance(values, list) and len(values) == 2}


def _audit(event: AuditEvent, agents: Mapping[str, tuple[str, str | None]], wanted: Sequence[str]) -> dict[str, Any]:
    moment = epoch_ms(event.at)
    return {
        "entityQualifiedName": event.qualified_name,
        "typeName": event.type_name,
        "entityId": event.guid,
        "timestamp": moment,
        "created": moment,
        "user": event.actor,
        "action": ATLAN_ACTIONS[event.action],
        "details": None,
        "eventKey": f"{event.guid}:{event.id}",
        "entity": None,
        "type": None,
        "detail": _detail(event),
        "entityDetail": None if event.asset is None else entity_header(event.asset, wanted),
        "headers": _headers(event, agents),
        # Gazetteer's own, which pyatlan ignores.
        "gazetteerAction": event.action,
        "agent": event.agent,
        "run": event.run,
        "connectionQualifiedName": event.connection_qualified_name,
        "tableQualifiedName": event.table_qualified_name,
        "changes": _changes(event.changes),
        "diff": list(event.diff or ()),
        "breaking": event.breaking,
        "affected": list(event.affected or ()),
    }
