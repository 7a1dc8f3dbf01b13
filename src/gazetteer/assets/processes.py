"""Lineage assets as the catalog keeps them: Process and ColumnProcess, with their inputs and outputs.

What for: the crawl (lineage it derives from Glue), the API (pyatlan's `Process.creator` through entity/bulk) and
OpenLineage events all write processes the same way. A process keeps `inputs` and `outputs` in its attributes
as Atlas references (`reference`), exactly as they are served; migration 0013's triggers index them for the
lineage walk (`gazetteer.assets.lineage`).

What a crawl derives lives under `<connection>/lineage/` (`crawled_prefix`): a crawl archives what it no longer
derives there, and nobody else may write there, so lineage people send (under any other name) is never
archived or overwritten by a crawl.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from gazetteer.assets.records import AssetRecord
from gazetteer.errors import InvalidRequest, NotFound
from gazetteer.store.schema import assets

__all__ = ["Endpoint", "reference", "crawled_prefix", "process_record", "resolve_references", "REFERENCE_KEYS"]

# The attributes of a process that hold references: its two sides, and a column process's parent process.
REFERENCE_KEYS = ("inputs", "outputs", "process")
# Enough for any real process; bounds what one request can make the triggers index.
_MAX_REFERENCES = 1000


@dataclass(frozen=True, slots=True)
class Endpoint:
    """An asset a process reads or writes."""

    type_name: str
    guid: str
    qualified_name: str


def reference(endpoint: Endpoint) -> dict[str, Any]:
    """An Atlas reference, as stored and served (the triggers read its uniqueAttributes.qualifiedName)."""
    return {"typeName": endpoint.type_name, "guid": endpoint.guid,
            "uniqueAttributes": {"qualifiedName": endpoint.qualified_name}}


def crawled_prefix(connection_qualified_name: str) -> str:
    """Where a crawl keeps the lineage it derives in a connection (see the module docstring)."""
    return f"{connection_qualified_name}/lineage/"


def process_record(connection: Mapping[str, Any], qualified_name: str, name: str, inputs: Sequence[Endpoint],
                   outputs: Sequence[Endpoint], *, type_name: str = "Process", parent: Endpoint | None = None,
                   **attributes: Any) -> AssetRecord:
    """A Process (or a ColumnProcess of the Process `parent`) for a publisher: `connection` gives the
    connection's qualifiedName and connectorName; `attributes` adds e.g. `sql` or `code` (None: left out)."""
    values: dict[str, Any] = {
        "connectionQualifiedName": connection["qualifiedName"],
        "connectorName": connection.get("connectorName"),
        "inputs": [reference(endpoint) for endpoint in inputs],
        "outputs": [reference(endpoint) for endpoint in outputs],
        **{key: value for key, value in attributes.items() if value is not None},
    }
    if parent is not None:
        values["process"] = reference(parent)
    parent_name = parent.qualified_name if parent is not None else connection["qualifiedName"]
    return AssetRecord(type_name, qualified_name, name, parent_name, values)


def resolve_references(conn: Connection, value: Any, where: str, *, single: bool = False) -> Any:
    """Request references (by guid, or by qualifiedName in uniqueAttributes or attributes) as stored references
    to existing assets; NotFound names the first that does not exist."""
    items = [value] if single else value
    if not isinstance(items, list) or len(items) > _MAX_REFERENCES:
        raise InvalidRequest(f"{where}: expected {'a reference' if single else 'a list of references'} "
                             f"(at most {_MAX_REFERENCES:,}) like {{\"typeName\": \"Table\", \"guid\": \"...\"}}")
    resolved = [reference(_endpoint(conn, item, f"{where}[{i}]" if not single else where))
                for i, item in enumerate(items)]
    return resolved[0] if single else resolved


def _endpoint(conn: Connection, item: Any, where: str) -> Endpoint:
    if not isinstance(item, Mapping):
        raise InvalidRequest(f"{where}: a reference must be an object with a guid or a qualifiedName")
    guid = item.get("guid")
    names = [(item.get(key) or {}).get("qualifiedName") for key in ("uniqueAttributes", "attributes")
             if isinstance(item.get(key), Mapping)]
    qualified_name = next((name for name in names if isinstance(name, str) and name), None)
    if isinstance(guid, str) and guid and not guid.startswith("-"):
        condition, shown = assets.c.guid == guid, f"guid {guid}"
    elif qualified_name is not None:
        condition, shown = assets.c.qualified_name == qualified_name, f"qualifiedName={qualified_name}"
    else:
        raise InvalidRequest(f"{where}: a reference needs the guid or the qualifiedName of an existing asset")
    row = conn.execute(sa.select(assets.c.type_name, assets.c.guid, assets.c.qualified_name)
                       .where(condition, assets.c.status == "ACTIVE")).first()
    if row is None:
        raise NotFound(f"Referenced entity with {shown} does not exist ({where})")
    return Endpoint(row.type_name, row.guid, row.qualified_name)
