"""Changing assets: curating crawled assets and creating new ones.

What for: pyatlan's `asset.save(...)` (POST /entity/bulk/, parsed into `AssetChange`s by
`gazetteer.api.entities`) and the web UI's edit forms (`update_curated`). What people edit (`EDITABLE`) goes to
`assets.curated`, which a crawl never writes, so a re-crawl keeps it. Everything else on a crawled asset
belongs to the crawl: sending it unchanged is fine (pyatlan echoes what it read), changing it is refused.
New assets hang under an existing parent (a Table under a Schema...) or are Connections. Processes (lineage,
`gazetteer.assets.processes`) hang under their connection; their inputs and outputs must exist, and unlike
crawled assets, a process people sent may be sent again with other inputs, outputs or SQL. Glossaries, their
categories and terms are people's all through (`gazetteer.assets.glossary`), and the terms assigned to an asset
are its `meanings` (`gazetteer.assets.meanings`).
Who may: see `auth.permissions` (EDIT_ASSET, CREATE_ASSET, CREATE_CONNECTION, MANAGE_GLOSSARY).
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from gazetteer.assets import glossary, history, tagging
from gazetteer.assets.meanings import TermsChange, apply_terms
from gazetteer.assets.processes import REFERENCE_KEYS, crawled_prefix, resolve_references
from gazetteer.assets.records import ASSET_TYPES, GLOSSARY_TYPES, LINEAGE_TYPES, content_hash
from gazetteer.assets.relations import RELATIONSHIP_NAMES
from gazetteer.assets.search_fields import CURATED_ATTRIBUTES
from gazetteer.assets.service import connection_attributes
from gazetteer.assets.views import ENUMS, AssetView, epoch_ms
from gazetteer.auth import people
from gazetteer.auth.permissions import Action, authorize
from gazetteer.auth.principal import Principal
from gazetteer.errors import InvalidRequest, NotFound
from gazetteer.store.generation import bump_generation
from gazetteer.store.schema import assets

__all__ = ["AssetChange", "Saved", "SavedAsset", "save_assets", "update_curated", "EDITABLE"]

# Set by the server when a certificate or an announcement changes, never by the caller.
_STAMPS = {"certificateStatus": "certificate", "certificateStatusMessage": "certificate",
           "announcementTitle": "announcement", "announcementMessage": "announcement",
           "announcementType": "announcement"}
EDITABLE = tuple(key for key in CURATED_ATTRIBUTES if not key.endswith(("UpdatedBy", "UpdatedAt")))
_LISTS = {"ownerUsers", "ownerGroups"}
# A new asset's parent: its type and the attributes that may name it.
_PARENTS = {
    "Database": (("Connection",), ("connectionQualifiedName",), ("connection",)),
    "Schema": (("Database",), ("databaseQualifiedName",), ("database",)),
    "Table": (("Schema",), ("schemaQualifiedName",), ("atlanSchema",)),
    "View": (("Schema",), ("schemaQualifiedName",), ("atlanSchema",)),
    "Column": (("Table", "View"), ("tableQualifiedName", "viewQualifiedName"), ("table", "view")),
    **dict.fromkeys(("S3Object", *LINEAGE_TYPES), (("Connection",), ("connectionQualifiedName",), ("connection",))),
}
_DEPTH = {name: depth for depth, name in enumerate(ASSET_TYPES)}


@dataclass(frozen=True, slots=True)
class AssetChange:
    """One asset to create or update: its type, the attributes sent, the guid that names an existing asset (a
    guid starting with "-" is a placeholder for a new one, as in Atlas), where it came from (for errors), and
    the terms to add or remove (the `meanings` attribute, a replacement, is among the attributes)."""

    type_name: str
    attributes: Mapping[str, Any]
    guid: str | None = None
    where: str = "asset"
    tags: tagging.TagEdit = tagging.TagEdit()  # Atlan tags to put on or take off (gazetteer.assets.tagging)
    terms: TermsChange = TermsChange()
    status: str | None = None  # ACTIVE restores an archived glossary item (pyatlan's restore())


@dataclass(frozen=True, slots=True)
class SavedAsset:
    asset: AssetView
    changed: tuple[str, ...]  # the editable attributes the change named


@dataclass(frozen=True, slots=True)
class Saved:
    """What `save_assets` did: the created and updated assets, and placeholder guid → assigned guid."""

    created: tuple[SavedAsset, ...]
    updated: tuple[SavedAsset, ...]
    assigned: Mapping[str, str]


def _check_value(key: str, value: Any, where: str) -> Any:
    if value is None:
        return None
    if key in _LISTS:
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise InvalidRequest(f"{where}: {key!r} must be a list of names")
        return sorted(set(value))
    if not isinstance(value, str):
        raise InvalidRequest(f"{where}: {key!r} must be a string")
    if key in ENUMS and value not in ENUMS[key]:
        raise InvalidRequest(f"{where}: {key!r} must be one of {', '.join(sorted(ENUMS[key]))}")
    return value


def _apply(curated: Mapping[str, Any] | None, changes: Mapping[str, Any], who: str, where: str) -> dict[str, Any]:
    """The curated document after `changes` (None removes a value), with certificate/announcement stamps."""
    out = dict(curated or {})
    stamped: set[str] = set()
    for key, value in changes.items():
        value = _check_value(key, value, where)
        if out.get(key) == value:
            continue
        if value is None:
            out.pop(key, None)
        else:
            out[key] = value
        if key in _STAMPS:
            stamped.add(_STAMPS[key])
    for prefix in stamped:
        out[f"{prefix}UpdatedBy"] = who
        out[f"{prefix}UpdatedAt"] = epoch_ms(datetime.now(UTC))
    return out


def _authorise(conn: Connection, principal: Principal, action: Action, connection_qn: str) -> None:
    authorize(principal, action, connection_attributes(conn, connection_qn) or {"name": connection_qn},
              what=f"in connection {connection_qn!r}")


def _is_reference(value: Any) -> bool:
    items = value if isinstance(value, list) else [value]
    return bool(items) and all(isinstance(i, Mapping) and ("typeName" in i or "guid" in i) for i in items)


def _split(attributes: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """(editable, crawl-owned, relationships) attributes of a request entity."""
    editable, owned, related = {}, {}, {}
    for key, value in attributes.items():
        if key in EDITABLE:
            editable[key] = value
        elif key in RELATIONSHIP_NAMES or key in {"connection"} or _is_reference(value):
            related[key] = value
        elif key not in CURATED_ATTRIBUTES:  # server-set stamps are ignored
            owned[key] = value
    return editable, owned, related


def _references(conn: Connection, type_name: str, attributes: Mapping[str, Any], where: str) -> dict[str, Any]:
    """A process's inputs, outputs (and a column process's parent process) as stored references."""
    if type_name not in LINEAGE_TYPES:
        return {}
    return {key: resolve_references(conn, attributes[key], f"{where}.{key}", single=key == "process")
            for key in REFERENCE_KEYS if attributes.get(key) is not None}


def _crawled_lineage(type_name: str, qualified_name: str, connection_qn: str) -> bool:
    return type_name in LINEAGE_TYPES and qualified_name.startswith(crawled_prefix(connection_qn))


def _update(conn: Connection, row: Any, change: AssetChange, principal: Principal, agent: str) -> Any:
    """Curate an existing asset (or replace a process people sent) and record the change in its history."""
    after = _updated(conn, row, change, principal)
    if history.recording():
        history.record_edit(conn, history.Author(principal.username, agent), row, after)
    return after


def _updated(conn: Connection, row: Any, change: AssetChange, principal: Principal) -> Any:
    where = change.where
    if change.type_name != row.type_name:
        raise InvalidRequest(f"{where}: {row.qualified_name!r} is a {row.type_name}, not a {change.type_name}")
    editable, owned, _ = _split(change.attributes)
    if row.type_name in LINEAGE_TYPES and not _crawled_lineage(row.type_name, row.qualified_name,
                                                                   row.connection_qualified_name):
        return _update_process(conn, row, change, principal, editable, owned)
    stored = {**(row.attributes or {}), "qualifiedName": row.qualified_name, "name": row.name}
    changed = sorted(key for key, value in owned.items() if value is not None and stored.get(key) != value)
    if changed:
        raise InvalidRequest(f"{where}: {', '.join(changed)} of {row.type_name} {row.qualified_name!r} "
                             f"come from the crawl and cannot be changed here; editable: {', '.join(EDITABLE)}")
    _authorise(conn, principal, Action.EDIT_ASSET, row.connection_qualified_name)
    curated = _apply(row.curated, editable, principal.username, where)
    if curated != (row.curated or {}):
        conn.execute(assets.update().where(assets.c.id == row.id).values(
            curated=curated or None, updated_at=datetime.now(UTC), updated_by=principal.username))
    return conn.execute(sa.select(assets).where(assets.c.id == row.id)).one()


def _update_process(conn: Connection, row: Any, change: AssetChange, principal: Principal,
                    editable: Mapping[str, Any], owned: Mapping[str, Any]) -> Any:
    """A process people sent, sent again: what it names replaces what it had (inputs, outputs, SQL...)."""
    _authorise(conn, principal, Action.EDIT_ASSET, row.connection_qualified_name)
    attributes = {**(row.attributes or {}),
                  **{key: value for key, value in owned.items()
                     if value is not None and key not in ("qualifiedName", "name")},
                  **_references(conn, row.type_name, change.attributes, change.where)}
    curated = _apply(row.curated, editable, principal.username, change.where)
    if attributes != (row.attributes or {}) or curated != (row.curated or {}):
        conn.execute(assets.update().where(assets.c.id == row.id).values(
            attributes=attributes, curated=curated or None, updated_at=datetime.now(UTC),
            content_hash=content_hash(row.name, row.parent_qualified_name, None, attributes),
            updated_by=principal.username))
    return conn.execute(sa.select(assets).where(assets.c.id == row.id)).one()


def _parent(conn: Connection, type_name: str, qualified_name: str, attributes: Mapping[str, Any],
            where: str) -> Any:
    types, names, refs = _PARENTS[type_name]
    candidates = [attributes.get(name) for name in names]
    candidates += [(attributes.get(ref) or {}).get("uniqueAttributes", {}).get("qualifiedName")
                   for ref in refs if isinstance(attributes.get(ref), Mapping)]
    parent_qn = next((c for c in candidates if isinstance(c, str) and c), qualified_name.rpartition("/")[0])
    if not qualified_name.startswith(parent_qn + "/"):
        raise InvalidRequest(f"{where}: qualifiedName {qualified_name!r} must start with its parent's "
                             f"{parent_qn!r} followed by '/'")
    parent = conn.execute(sa.select(assets).where(assets.c.qualified_name == parent_qn,
                                                  assets.c.status == "ACTIVE")).first()
    if parent is None or parent.type_name not in types:
        raise NotFound(f"Referenced entity {' or '.join(types)} with unique attribute "
                       f"{{qualifiedName={parent_qn}}} does not exist ({where})")
    return parent


def _inherited(parent: Any) -> dict[str, Any]:
    """The hierarchy attributes a child repeats from its parent (connection, database, schema, table)."""
    keys = ("connectionQualifiedName", "connectionName", "connectorName", "databaseName", "databaseQualifiedName",
            "schemaName", "schemaQualifiedName", "tableName", "tableQualifiedName", "viewName", "viewQualifiedName")
    out = {key: value for key, value in (parent.attributes or {}).items() if key in keys}
    if parent.type_name == "Connection":
        out.update(connectionQualifiedName=parent.qualified_name, connectionName=parent.name,
                   connectorName=(parent.attributes or {}).get("connectorName"))
    else:
        prefix = {"Database": "database", "Schema": "schema", "Table": "table", "View": "view"}[parent.type_name]
        out.update({f"{prefix}Name": parent.name, f"{prefix}QualifiedName": parent.qualified_name})
    return {key: value for key, value in out.items() if value is not None}


def _create(conn: Connection, change: AssetChange, principal: Principal) -> Any:
    type_name, attributes, where = change.type_name, change.attributes, change.where
    qualified_name, name = attributes.get("qualifiedName"), attributes.get("name")
    if not isinstance(qualified_name, str) or not qualified_name or not isinstance(name, str) or not name:
        raise InvalidRequest(f"{where}: a new {type_name} needs attributes.qualifiedName and attributes.name")
    editable, owned, _ = _split(attributes)
    owned = {k: v for k, v in owned.items() if v is not None and k not in ("qualifiedName", "name")}
    if type_name == "Connection":
        parent, connection_qn, schema_qn = None, qualified_name, None
        authorize(principal, Action.CREATE_CONNECTION, {"name": name, **owned})
    else:
        parent = _parent(conn, type_name, qualified_name, attributes, where)
        connection_qn = parent.connection_qualified_name
        schema_qn = qualified_name if type_name == "Schema" else parent.schema_qualified_name
        _authorise(conn, principal, Action.CREATE_ASSET, connection_qn)
        if _crawled_lineage(type_name, qualified_name, connection_qn):
            raise InvalidRequest(f"{where}: qualified names under {crawled_prefix(connection_qn)!r} are kept for the "
                                 "lineage a crawl derives; give the process another processId")
        owned = {**owned, **_inherited(parent), **_references(conn, type_name, attributes, where)}
    curated = _apply({}, editable, principal.username, where)
    parent_qn = parent.qualified_name if parent is not None else None
    now = datetime.now(UTC)
    conn.execute(assets.insert().values(
        guid=str(uuid.uuid4()), type_name=type_name, qualified_name=qualified_name, name=name, status="ACTIVE",
        connection_qualified_name=connection_qn, schema_qualified_name=schema_qn,
        parent_qualified_name=parent_qn, attributes=owned, curated=curated or None,
        content_hash=content_hash(name, parent_qn, None, owned), created_at=now, updated_at=now,
        created_by=principal.username, updated_by=principal.username))
    created = conn.execute(sa.select(assets).where(assets.c.qualified_name == qualified_name)).one()
    if history.recording():
        history.record_edit(conn, history.Author(principal.username, "api"), None, created)
    return created


def _placeholders_replaced(change: AssetChange, assigned: Mapping[str, str]) -> AssetChange:
    """A process's references to assets created earlier in the same request by placeholder guid ("-1"), with
    the guids they were given (processes come after every other type: see ASSET_TYPES)."""
    if change.type_name not in LINEAGE_TYPES or not assigned:
        return change

    def replaced(ref: Any) -> Any:
        if isinstance(ref, Mapping) and ref.get("guid") in assigned:
            return {**ref, "guid": assigned[ref["guid"]]}
        return ref

    attributes = {key: ([replaced(ref) for ref in value] if isinstance(value, list) else replaced(value))
                  if key in REFERENCE_KEYS else value for key, value in change.attributes.items()}
    return dataclasses.replace(change, attributes=attributes)


def _glossary_item(conn: Connection, change: AssetChange, row: Any | None, principal: Principal,
                   assigned: Mapping[str, str]) -> Any:
    """A glossary, category or term created or updated; what people curate on any asset is curated here too."""
    if row is not None and row.type_name != change.type_name:
        raise InvalidRequest(f"{change.where}: {row.qualified_name!r} is a {row.type_name}, not a {change.type_name}")
    editable, _, _ = _split(change.attributes)
    curated = _apply(row.curated if row is not None else {}, editable, principal.username, change.where)
    return glossary.save_item(conn, change.type_name, change.attributes, row, principal, assigned, change.where,
                              CURATED_ATTRIBUTES, curated, restore=change.status == "ACTIVE")


def save_assets(engine: Engine, changes: Sequence[AssetChange], principal: Principal) -> Saved:
    """Update (curate) or create each asset, all or nothing; parents before children, so one call can create
    a schema and its tables."""
    created: list[SavedAsset] = []
    updated: list[SavedAsset] = []
    assigned: dict[str, str] = {}
    for change in changes:
        if change.type_name not in ASSET_TYPES:
            raise InvalidRequest(f"{change.where}: unknown typeName {change.type_name!r}; this catalog holds "
                                 f"{', '.join(ASSET_TYPES)}")
    with engine.begin() as conn:
        for change in sorted(changes, key=lambda change: _DEPTH[change.type_name]):
            change = _placeholders_replaced(change, assigned)
            guid, qualified_name = change.guid, change.attributes.get("qualifiedName")
            if guid and not guid.startswith("-"):
                row = conn.execute(sa.select(assets).where(assets.c.guid == guid)).first()
                if row is None:
                    raise NotFound(f"Given instance guid {guid} is invalid/not found")
            else:
                row = conn.execute(sa.select(assets).where(assets.c.qualified_name == qualified_name)).first() \
                    if isinstance(qualified_name, str) else None
            changed = tuple(sorted(key for key in change.attributes if key in EDITABLE))
            if change.type_name in GLOSSARY_TYPES:
                saved = _glossary_item(conn, change, row, principal, assigned)
            elif row is None:
                saved = _create(conn, change, principal)
            else:
                saved = _update(conn, row, change, principal, "api")
            if row is None:
                tagging.apply_edit(conn, saved, change.tags, principal, "api", where=change.where)
                tagging.refresh_beneath(conn, saved.qualified_name)  # a new column of a tagged table gets its tag
            else:
                tagging.apply_edit(conn, saved, change.tags.for_existing(), principal, "api", where=change.where)
            terms = TermsChange(change.attributes.get("meanings"), change.terms.append, change.terms.remove)
            if apply_terms(conn, saved, terms, principal, assigned, change.where) and row is not None:
                changed = (*changed, "meanings")
            (created if row is None else updated).append(SavedAsset(AssetView.of(saved), changed))
            row_guid = saved.guid
            if guid and guid.startswith("-"):
                assigned[guid] = row_guid
        bump_generation(conn)  # last: searches' cached facets must see the edit (gazetteer.store.generation)
    return Saved(tuple(created), tuple(updated), assigned)


def _check_owners(conn: Connection, row: Any, changes: Mapping[str, Any]) -> None:
    """Refuse owners added by `changes` that are not users (for ownerUsers) or groups (for ownerGroups) of the
    catalog. Owners the asset already has stay allowed, so that removing a user does not block every later edit."""
    current = {**(row.attributes or {}), **(row.curated or {})}
    added = {key: set(changes.get(key) or ()) - set(current.get(key) or ())
             for key in ("ownerUsers", "ownerGroups") if isinstance(changes.get(key), list)}
    found = people.resolve(conn, [name for names in added.values() for name in names])
    wrong = sorted(added.get("ownerUsers", set()) - set(found.users)) + \
        sorted(added.get("ownerGroups", set()) - set(found.groups))
    if wrong:
        raise InvalidRequest(f"No user or group of this catalog is called {', '.join(map(repr, wrong[:5]))}: pick "
                             "owners from the suggestions, or ask an administrator to add them first.")


def update_curated(engine: Engine, guid: str, principal: Principal, changes: Mapping[str, Any], *,
                   known_owners: bool = False) -> AssetView:
    """Change what people curate on one asset (None removes a value) and return the asset. With `known_owners`
    (the web UI), owners it adds must be the catalog's users and groups; the API stores any names, as Atlan's
    does, so that pyatlan scripts that set owners before those people are added keep working."""
    unknown = sorted(set(changes) - set(EDITABLE))
    if unknown:
        raise InvalidRequest(f"{', '.join(unknown)} cannot be edited; editable: {', '.join(EDITABLE)}")
    with engine.begin() as conn:
        row = conn.execute(sa.select(assets).where(assets.c.guid == guid)).first()
        if row is None:
            raise NotFound(f"Given instance guid {guid} is invalid/not found")
        if known_owners:  # who may edit is checked first: a refusal must not tell a guest who the users are
            _authorise(conn, principal, Action.EDIT_ASSET, row.connection_qualified_name)
            _check_owners(conn, row, changes)
        change = AssetChange(row.type_name, dict(changes), where=f"asset {row.qualified_name!r}")
        row = _update(conn, row, change, principal, "ui")
        bump_generation(conn)  # last: searches' cached facets must see the edit (gazetteer.store.generation)
    return AssetView.of(row)
