"""History: an event per change to an asset, written in the transaction that makes the change.

What for: the audit API (pyatlan's `client.audit.search`), a run's report of what it changed, an asset's History
tab and the catalog's Changes page, and the webhooks that say a crawl broke something. Who writes: the
publisher (a crawl's pages, OpenLineage, a workflow's connection) and curation (edits through the API or UI),
each through `record_batch` / `record_edit`, inside their own transaction, so an event exists exactly when its
change does. An unchanged asset is never written, so it never costs an event either.

A crawl is all or nothing (gazetteer.assets.publish): its events carry its `run` and stay hidden (`VISIBLE`)
while its undo log exists; a rollback deletes them (`forget_run`). A table's or view's event carries its schema
`diff` (gazetteer.assets.schema_diff): its columns' changes are read from the column events of the same batch
(a crawl publishes a table with all its columns). Which changes break someone, and whom, comes from lineage
(`lineage_edges`) as it stands when the change is written: before a crawl derives its lineage again, so a
dropped table still shows what read it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from gazetteer.assets.schema_diff import (
    ColumnShape,
    column_changes,
    inputs_gone,
    ordered,
    table_dropped,
    view_sql_changed,
)
from gazetteer.settings import get_settings
from gazetteer.store.schema import asset_events, assets, crawl_undo, lineage_edges

__all__ = ["Author", "ACTIONS", "VISIBLE", "before", "record_batch", "record_edit", "recording", "forget_run",
           "prune", "downstream", "outputs", "read_by_position", "record_tags"]

ACTIONS = ("created", "updated", "archived", "restored")
SCHEMA_TYPES = ("Table", "View")
# Tables read by column position: moving a column breaks their readers (schema_diff's `positional`). Text
# formats always are; Athena reads ORC by position too unless the table sets orc.column.index.access=false.
_POSITIONAL_FORMATS = frozenset({"csv", "text", "textfile", "tsv", "orc"})
# One attribute value kept in an event: a view's SQL may be 400 KB, and an event holds it twice (old and new).
_MAX_TEXT = 20_000
# How many downstream assets a breaking change lists, and how far lineage is followed for them.
AFFECTED_LIMIT = 100
_DEPTH = 10
_CHUNK = 2000
# An event is visible once the crawl that wrote it can no longer be rolled back (it has no undo log left).
VISIBLE = ~sa.exists().where(crawl_undo.c.crawl == asset_events.c.run)
_BEFORE = (assets.c.id, assets.c.guid, assets.c.type_name, assets.c.qualified_name, assets.c.name, assets.c.status,
           assets.c.connection_qualified_name, assets.c.parent_qualified_name, assets.c.attributes, assets.c.curated)


@dataclass(frozen=True, slots=True)
class Author:
    """Who made a change: a user (through the API, the UI or OpenLineage), or a crawl (`run`)."""

    actor: str
    agent: str  # crawl | api | ui | openlineage
    run: str | None = None


def _chunks(items: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start:start + _CHUNK]


def before(conn: Connection, ids: Sequence[int]) -> dict[int, Any]:
    """The rows about to be rewritten, as they are: what their events compare with."""
    found: dict[int, Any] = {}
    for chunk in _chunks(list(ids)):
        found.update((row.id, row) for row in conn.execute(sa.select(*_BEFORE).where(assets.c.id.in_(chunk))))
    return found


def _kept(value: Any) -> Any:
    if isinstance(value, str) and len(value) > _MAX_TEXT:
        return value[:_MAX_TEXT] + "…"
    return value


def _changed(old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> dict[str, list[Any]]:
    """Each attribute whose value differs: [old, new] (None where it was or is not set)."""
    old, new = old or {}, new or {}
    return {key: [_kept(old.get(key)), _kept(new.get(key))]
            for key in sorted(set(old) | set(new)) if old.get(key) != new.get(key)}


def _table_of(type_name: str, attributes: Mapping[str, Any]) -> str | None:
    """A column's table or view (a nested column's too); None for anything else."""
    if type_name != "Column":
        return None
    table = attributes.get("tableQualifiedName") or attributes.get("viewQualifiedName")
    return table if isinstance(table, str) else None


def _top_level(attributes: Mapping[str, Any]) -> bool:
    # A nested field's changes show in its top-level column's type (struct<...>), which is what readers see.
    return not attributes.get("parentColumnQualifiedName")


def _event(author: Author, now: datetime, action: str, *, guid: str, type_name: str, qualified_name: str, name: str,
           connection: str, attributes: Mapping[str, Any], changes: Mapping[str, Any] | None) -> dict[str, Any]:
    return {"at": now, "action": action, "asset_guid": guid, "type_name": type_name,
            "qualified_name": qualified_name, "name": name, "connection_qualified_name": connection,
            "table_qualified_name": _table_of(type_name, attributes), "actor": author.actor, "agent": author.agent,
            "run": author.run, "changes": changes or None, "diff": None, "breaking": False, "affected": None}


def _shape_changes(shape: ColumnShape, *, gone: bool) -> dict[str, list[Any]]:
    """A column's schema as [old, new] pairs: from nothing when it appears, to nothing when it goes."""
    return {key: ([value, None] if gone else [None, value]) for key, value in shape.snapshot().items()}


class _Batch:
    """The events of one write batch, with the column shapes their tables' schema diffs are made of."""

    def __init__(self, conn: Connection, author: Author, now: datetime) -> None:
        self.conn, self.author, self.now = conn, author, now
        self.events: list[dict[str, Any]] = []
        self.tables: dict[str, dict[str, Any]] = {}  # qualified name → its event in this batch
        self.old: dict[str, dict[str, ColumnShape]] = defaultdict(dict)  # table → column name → shape
        self.new: dict[str, dict[str, ColumnShape]] = defaultdict(dict)
        self.gone: list[str] = []  # qualified names archived (what read them lost an input)
        self.created: set[str] = set()

    def add(self, event: dict[str, Any]) -> None:
        self.events.append(event)
        if event["type_name"] in SCHEMA_TYPES:
            self.tables[event["qualified_name"]] = event

    def column(self, table: str | None, name: str, attributes: Mapping[str, Any], *, old: bool) -> ColumnShape | None:
        if table is None or not _top_level(attributes):
            return None
        shape = ColumnShape.of(name, attributes)
        (self.old if old else self.new)[table][name] = shape
        return shape


def record_batch(conn: Connection, author: Author, now: datetime, *, inserted: Sequence[Mapping[str, Any]],
                 updated: Sequence[Mapping[str, Any]], archived: Sequence[int], old: Mapping[int, Any]) -> None:
    """The events of one publisher batch, just written: rows `inserted`, rows `updated` (each with its `row_id`),
    ids `archived`; `old` holds the updated and archived rows as they were (`before`)."""
    batch = _Batch(conn, author, now)
    for row in inserted:
        attributes = row["attributes"]
        shape = batch.column(_table_of(row["type_name"], attributes), row["name"], attributes, old=False)
        batch.created.add(row["qualified_name"])
        batch.add(_event(author, now, "created", guid=row["guid"], type_name=row["type_name"],
                         qualified_name=row["qualified_name"], name=row["name"],
                         connection=row["connection_qualified_name"], attributes=attributes,
                         changes=_shape_changes(shape, gone=False) if shape else None))
    for row in updated:
        prior = old[row["row_id"]]
        restored = prior.status != "ACTIVE"
        changes = _changed(prior.attributes, row["attributes"])
        if row["name"] != prior.name:
            changes["name"] = [prior.name, row["name"]]
        table = _table_of(row["type_name"], row["attributes"])
        if not restored:
            batch.column(table, prior.name, prior.attributes or {}, old=True)
        batch.column(table, row["name"], row["attributes"], old=False)
        if changes or restored or row["type_name"] in SCHEMA_TYPES:  # a table's diff may come from its columns
            batch.add(_event(author, now, "restored" if restored else "updated", guid=prior.guid,
                             type_name=row["type_name"], qualified_name=prior.qualified_name, name=row["name"],
                             connection=row["connection_qualified_name"], attributes=row["attributes"],
                             changes=changes))
    for row_id in archived:
        prior = old[row_id]
        attributes = prior.attributes or {}
        shape = batch.column(_table_of(prior.type_name, attributes), prior.name, attributes, old=True)
        batch.gone.append(prior.qualified_name)
        batch.add(_event(author, now, "archived", guid=prior.guid, type_name=prior.type_name,
                         qualified_name=prior.qualified_name, name=prior.name,
                         connection=prior.connection_qualified_name, attributes=attributes,
                         changes=_shape_changes(shape, gone=True) if shape else None))
    _diff_tables(batch)
    _views_losing_inputs(batch)
    events = [event for event in batch.events
              if event["changes"] or event["diff"] or event["action"] != "updated"]
    if events:
        conn.execute(asset_events.insert(), events)


def _diff_tables(batch: _Batch) -> None:
    """Each table's or view's schema diff, from its own event and its columns' shapes in the batch."""
    for table in sorted(set(batch.old) | set(batch.new)):
        if table in batch.created:
            continue  # a new table: its columns are new with it, nothing to compare
        if table not in batch.tables:  # its columns changed without it (curation never does; a crawl always
            row = batch.conn.execute(sa.select(*_BEFORE).where(assets.c.qualified_name == table)).first()
            if row is None or row.status != "ACTIVE":
                continue
            batch.add(_event(batch.author, batch.now, "updated", guid=row.guid, type_name=row.type_name,
                             qualified_name=row.qualified_name, name=row.name,
                             connection=row.connection_qualified_name, attributes=row.attributes or {}, changes=None))
    for qualified_name, event in batch.tables.items():
        if event["action"] == "archived":
            affected = downstream(batch.conn, [qualified_name])
            diff = [table_dropped(event["type_name"], affected)]
        elif event["action"] == "created":
            continue
        else:
            definition = (event["changes"] or {}).get("definition")
            diff = column_changes(batch.old.get(qualified_name, {}), batch.new.get(qualified_name, {}),
                                  positional=read_by_position(batch.conn, qualified_name))
            if definition is not None and (sql := view_sql_changed(definition[0], definition[1])) is not None:
                diff.append(sql)
        _set_diff(batch.conn, event, diff, [qualified_name])


def _set_diff(conn: Connection, event: dict[str, Any], diff: list[dict[str, Any]], starts: Sequence[str]) -> None:
    if not diff:
        return
    event["diff"] = ordered(diff)
    event["breaking"] = any(change["breaking"] for change in diff)
    if event["breaking"]:
        event["affected"] = downstream(conn, starts) or None


def read_by_position(conn: Connection, table_qualified_name: str) -> bool:
    """Whether the table's files are read by column position, so that moving a column breaks its readers."""
    attributes = conn.execute(sa.select(assets.c.attributes)
                              .where(assets.c.qualified_name == table_qualified_name)).scalar() or {}
    return str(attributes.get("externalLocationFormat") or "").lower() in _POSITIONAL_FORMATS


def _views_losing_inputs(batch: _Batch) -> None:
    """Views that read a table or column archived in this batch now read something gone: breaking."""
    if not batch.gone:
        return
    reading: dict[str, set[str]] = defaultdict(set)
    for source, written in outputs(batch.conn, batch.gone).items():
        for output in written:
            reading[output].add(source)
    rows = {row.qualified_name: row for chunk in _chunks(sorted(reading))
            for row in batch.conn.execute(sa.select(*_BEFORE).where(assets.c.qualified_name.in_(chunk)))}
    lost: dict[str, set[str]] = defaultdict(set)
    for output, sources in reading.items():
        row = rows.get(output)
        if row is None:
            continue
        view = row.qualified_name if row.type_name == "View" else _table_of(row.type_name, row.attributes or {})
        if view is not None and view.startswith(row.connection_qualified_name + "/"):
            lost[view].update(sources)
    for view, sources in sorted(lost.items()):
        if view in batch.gone:
            continue
        row = batch.conn.execute(sa.select(*_BEFORE).where(assets.c.qualified_name == view)).first()
        if row is None or row.type_name != "View" or row.status != "ACTIVE":
            continue
        event = batch.tables.get(view)
        if event is None:
            event = _event(batch.author, batch.now, "updated", guid=row.guid, type_name=row.type_name,
                           qualified_name=row.qualified_name, name=row.name, connection=row.connection_qualified_name,
                           attributes=row.attributes or {}, changes=None)
            batch.add(event)
        names = sorted(_short(source, row.connection_qualified_name) for source in sources)
        _set_diff(batch.conn, event, [*(event["diff"] or []), inputs_gone(names)], [view])


def _short(qualified_name: str, connection: str) -> str:
    """`database.table` (`database.table.column`) for a qualified name under the connection."""
    parts = qualified_name.removeprefix(connection + "/").split("/")
    return ".".join(parts[-3:] if len(parts) >= 4 else parts[-2:])


def outputs(conn: Connection, names: Sequence[str]) -> dict[str, set[str]]:
    """For each of these assets, the outputs of the active processes that read it (one hop of lineage)."""
    read, written = lineage_edges.alias("read"), lineage_edges.alias("written")
    found: dict[str, set[str]] = defaultdict(set)
    for chunk in _chunks(list(names)):
        query = (sa.select(read.c.asset_qualified_name, written.c.asset_qualified_name.label("output"))
                 .join(written, sa.and_(written.c.process_id == read.c.process_id, written.c.direction == "o"))
                 .where(read.c.direction == "i", read.c.asset_qualified_name.in_(chunk)))
        for source, output in conn.execute(query):
            found[source].add(output)
    return found


def downstream(conn: Connection, starts: Sequence[str], *, limit: int = AFFECTED_LIMIT) -> list[str]:
    """The assets lineage says are computed from `starts`, nearest first, at most `limit` of them."""
    seen = set(starts)
    found: list[str] = []
    frontier = list(starts)
    for _ in range(_DEPTH):
        if not frontier or len(found) >= limit:
            break
        following = sorted({output for written in outputs(conn, frontier).values() for output in written} - seen)
        seen.update(following)
        found.extend(following)
        frontier = following
    return found[:limit]


def record_edit(conn: Connection, author: Author, prior: Any | None, after: Any) -> None:
    """The event of one asset created (`prior` None) or edited through the API or the UI: what people curate
    and, for a process people sent, its attributes."""
    if prior is None:
        action, changes = "created", None
    else:
        action = "updated"
        changes = {**_changed(prior.attributes, after.attributes), **_changed(prior.curated, after.curated)}
        if not changes:
            return
    conn.execute(asset_events.insert().values(_event(
        author, datetime.now(UTC), action, guid=after.guid, type_name=after.type_name,
        qualified_name=after.qualified_name, name=after.name, connection=after.connection_qualified_name,
        attributes=after.attributes or {}, changes=changes)))


def record_tags(conn: Connection, author: Author, row: Any, before: Sequence[str], after: Sequence[str]) -> None:
    """The event of the Atlan tags people put on an asset (`row`) changing: `atlanTags`, old and new (display
    names, sorted). Tags that propagate to other assets are not events of those assets."""
    if sorted(before) == sorted(after):
        return
    conn.execute(asset_events.insert().values(_event(
        author, datetime.now(UTC), "updated", guid=row.guid, type_name=row.type_name,
        qualified_name=row.qualified_name, name=row.name, connection=row.connection_qualified_name,
        attributes=row.attributes or {}, changes={"atlanTags": [sorted(before), sorted(after)]})))


def recording() -> bool:
    """Whether changes are recorded at all: GAZETTEER_HISTORY_DAYS=0 turns history off."""
    return get_settings().history_days != 0


def _delete(engine: Engine, which: sa.ColumnElement[bool]) -> int:
    """Delete the events `which` selects, a chunk per transaction: never one long hold of SQLite's write lock."""
    deleted = 0
    while True:
        with engine.begin() as conn:
            ids = sa.select(asset_events.c.id).where(which).limit(_CHUNK)
            count = conn.execute(asset_events.delete().where(asset_events.c.id.in_(ids))).rowcount or 0
        deleted += count
        if count < _CHUNK:
            return deleted


def forget_run(engine: Engine, run: str) -> int:
    """Delete the events of a crawl being rolled back (they never became visible)."""
    return _delete(engine, asset_events.c.run == run)


def prune(engine: Engine, days: int, *, now: datetime | None = None) -> int:
    """Delete the events older than `days` days (GAZETTEER_HISTORY_DAYS)."""
    return _delete(engine, asset_events.c.at < (now or datetime.now(UTC)) - timedelta(days=days))
