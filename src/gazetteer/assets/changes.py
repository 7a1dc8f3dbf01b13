"""Reading the history: an asset's timeline, a table's schema at any past point, diffs between two points, and
the catalog's changes.

What for: the History tab of asset pages and the catalog-wide Changes page (gazetteer.web.ui.history_page and
changes_page). Everything here reads `asset_events` (gazetteer.assets.history) and never writes.

A table's or view's timeline holds its own events and its columns', one entry per crawl (its `run`) or per edit
(an author's events written at one moment): a crawl's column changes show as its table's schema diff. Only
visible events are listed (`history.VISIBLE`): a crawl that can still be rolled back shows nothing yet.

A table's schema at a point (an event id) is worked out backwards from the present: its active top-level
columns now, with the column events written after that point undone, newest first (a column created since is
taken away, one archived since put back from the snapshot its event kept, one updated since gets its old
values). So a table that existed before history began still has a schema at every point history knows. Every
event counts when rewinding, hidden ones too: the rows as they are now already hold a running crawl's writes.

Bounded throughout: pages of at most MAX_PAGE entries, at most ENTRY_COLUMNS column events per entry, at most
MAX_VERSIONS schema versions, at most MAX_REWIND events undone; the Changes page is paged by id (keyset), never
by OFFSET, and uses the indexes of migration 0014.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from gazetteer.assets import history
from gazetteer.assets.history import ACTIONS, SCHEMA_TYPES, VISIBLE
from gazetteer.assets.schema_diff import ColumnShape, column_changes
from gazetteer.errors import InvalidRequest
from gazetteer.store.schema import asset_events, assets

__all__ = ["ChangeEvent", "HistoryEntry", "HistoryPage", "SchemaVersion", "ChangesPage", "asset_history",
           "schema_at", "schema_versions", "compare", "catalog_changes", "SHAPE_KEYS", "SCHEMA_CHANGE_KINDS",
           "names_of", "short_name", "MAX_PAGE", "ENTRY_COLUMNS", "MAX_VERSIONS", "MAX_REWIND", "MAX_CHANGES_PAGE"]

MAX_PAGE = 100  # timeline entries per page
ENTRY_COLUMNS = 200  # column events listed per timeline entry (a first crawl creates every column at once)
MAX_VERSIONS = 500  # schema versions offered to pick from, newest first
MAX_REWIND = 100_000  # column events undone to reach a point; further back is refused
MAX_CHANGES_PAGE = 200  # events per page of the Changes page
_OWN_EVENTS = 5_000  # a table's own events read to find its schema versions
# What a column's schema is made of: the attributes a ColumnShape reads, as its events name them.
SHAPE_KEYS = ("dataType", "order", "isPartition", "partitionOrder", "description")
# The diff entries that change a table's columns (a view's SQL or lost inputs do not, by themselves).
SCHEMA_CHANGE_KINDS = frozenset({"column_added", "column_dropped", "type_changed", "column_moved",
                                 "description_changed", "partition_keys_changed"})
_COLUMNS = (asset_events.c.id, asset_events.c.at, asset_events.c.action, asset_events.c.asset_guid,
            asset_events.c.type_name, asset_events.c.qualified_name, asset_events.c.name,
            asset_events.c.connection_qualified_name, asset_events.c.table_qualified_name, asset_events.c.actor,
            asset_events.c.agent, asset_events.c.run, asset_events.c.changes, asset_events.c.diff,
            asset_events.c.breaking, asset_events.c.affected)
# One timeline entry: a crawl's events (by run), or one author's events written at one moment (one edit, one
# OpenLineage batch). `at` and `actor` only count for events without a run.
_EDIT_AT = sa.case((asset_events.c.run.is_(None), asset_events.c.at), else_=None)
_EDIT_ACTOR = sa.case((asset_events.c.run.is_(None), asset_events.c.actor), else_=None)


@dataclass(frozen=True, slots=True)
class ChangeEvent:
    """One change to one asset, as `asset_events` holds it."""

    id: int
    at: datetime
    action: str  # created | updated | archived | restored
    guid: str
    type_name: str
    qualified_name: str
    name: str
    connection: str
    table: str | None  # a column's table or view
    actor: str
    agent: str  # crawl | api | ui | openlineage
    run: str | None
    changes: Mapping[str, list[Any]]  # attribute → [old, new]
    diff: tuple[Mapping[str, Any], ...]  # a table's or view's schema changes, breaking first
    breaking: bool
    affected: tuple[str, ...]  # downstream qualified names

    @classmethod
    def of(cls, row: Any) -> ChangeEvent:
        return cls(id=row.id, at=row.at, action=row.action, guid=row.asset_guid, type_name=row.type_name,
                   qualified_name=row.qualified_name, name=row.name, connection=row.connection_qualified_name,
                   table=row.table_qualified_name, actor=row.actor, agent=row.agent, run=row.run,
                   changes=row.changes or {}, diff=tuple(row.diff or ()), breaking=bool(row.breaking),
                   affected=tuple(row.affected or ()))

    @property
    def schema_changed(self) -> bool:
        """Whether this event changed a table's columns (its own event) or a column's schema (a column's)."""
        if self.action != "updated":
            return True
        if self.type_name == "Column":
            return any(key in self.changes for key in SHAPE_KEYS)
        return any(change.get("change") in SCHEMA_CHANGE_KINDS for change in self.diff)


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One entry of a timeline: what one crawl, or one edit, did to the asset (and, for a table or view, to its
    columns). `point` is its newest event's id: what `schema_at` and `compare` take to mean "right after it"."""

    point: int
    at: datetime
    actor: str
    agent: str
    run: str | None
    own: tuple[ChangeEvent, ...]  # the asset's own events (usually one)
    columns: tuple[ChangeEvent, ...]  # its columns' events, breaking ones first, at most ENTRY_COLUMNS
    column_count: int  # how many column events the entry holds in all

    @property
    def action(self) -> str:
        """What happened to the asset: its own event's action ("updated" when only its columns changed)."""
        actions = [event.action for event in self.own]
        return next((action for action in ("created", "archived", "restored") if action in actions), "updated")

    @property
    def breaking(self) -> bool:
        return any(event.breaking for event in (*self.own, *self.columns))

    @property
    def diff(self) -> list[Mapping[str, Any]]:
        """The schema changes of the asset's own events, breaking first."""
        found = [change for event in self.own for change in event.diff]
        return sorted(found, key=lambda change: not change.get("breaking"))

    @property
    def affected(self) -> list[str]:
        return list(dict.fromkeys(name for event in self.own for name in event.affected))

    @property
    def changes(self) -> dict[str, list[Any]]:
        """The attributes the asset's own events changed: [old, new] (the first old, the last new)."""
        found: dict[str, list[Any]] = {}
        for event in sorted(self.own, key=lambda event: event.id):
            for key, (old, new) in event.changes.items():
                found[key] = [found[key][0] if key in found else old, new]
        return found

    @property
    def schema_changed(self) -> bool:
        return any(event.schema_changed for event in (*self.own, *self.columns))


@dataclass(frozen=True, slots=True)
class HistoryPage:
    entries: tuple[HistoryEntry, ...]
    total: int  # entries in all
    page: int
    size: int

    @property
    def pages(self) -> int:
        return max(1, (self.total + self.size - 1) // self.size)


@dataclass(frozen=True, slots=True)
class SchemaVersion:
    """A point a table's schema can be shown at: a crawl or edit that changed its columns."""

    point: int  # the newest event id of that crawl or edit for the table and its columns
    at: datetime
    actor: str
    agent: str
    run: str | None
    action: str  # the table's own action then (created, updated, ...)
    breaking: bool


@dataclass(frozen=True, slots=True)
class ChangesPage:
    events: tuple[ChangeEvent, ...]
    older: int | None  # the `before_id` of the next (older) page; None on the last page


def _size(size: int, largest: int) -> int:
    return max(1, min(size, largest))


def _top_level(table_qn: str) -> sa.ColumnElement[bool]:
    """A column event of one of `table_qn`'s own columns (not a nested field: its name is a path below one)."""
    return asset_events.c.qualified_name == sa.literal(table_qn + "/", sa.Text) + asset_events.c.name


def _whose(guid: str, asset: Any | None) -> sa.ColumnElement[bool]:
    """An asset's own events, and for a table or view its columns' (nested ones too: their changes show)."""
    own = asset_events.c.asset_guid == guid
    if asset is None or asset.type_name not in SCHEMA_TYPES:
        return own
    return sa.or_(own, asset_events.c.table_qualified_name == asset.qualified_name)


def asset_history(conn: Connection, guid: str, *, page: int = 1, size: int = 20) -> HistoryPage:
    """The asset's timeline, newest first, `size` entries (at most MAX_PAGE) to a page (from 1)."""
    size, page = _size(size, MAX_PAGE), max(1, page)
    asset = conn.execute(sa.select(assets.c.type_name, assets.c.qualified_name).where(assets.c.guid == guid)).first()
    whose = sa.and_(_whose(guid, asset), VISIBLE)
    groups = (sa.select(asset_events.c.run, _EDIT_AT.label("edit_at"), _EDIT_ACTOR.label("edit_actor"),
                        sa.func.min(asset_events.c.id).label("first"), sa.func.max(asset_events.c.id).label("last"),
                        sa.func.count().label("events"))
              .where(whose).group_by(asset_events.c.run, _EDIT_AT, _EDIT_ACTOR))
    total = conn.execute(sa.select(sa.func.count()).select_from(groups.subquery())).scalar_one()
    chosen = conn.execute(groups.order_by(sa.desc("last")).offset((page - 1) * size).limit(size)).all()
    entries = []
    for group in chosen:
        # The id range keeps each look-up on the asset's indexes, however big the crawl was.
        same = [whose, asset_events.c.id.between(group.first, group.last)]
        if group.run is not None:
            same.append(asset_events.c.run == group.run)
        else:
            same += [asset_events.c.run.is_(None), asset_events.c.at == group.edit_at,
                     asset_events.c.actor == group.edit_actor]
        own_first = sa.case((asset_events.c.asset_guid == guid, 0), else_=1)
        rows = conn.execute(sa.select(*_COLUMNS).where(*same)
                            .order_by(own_first, asset_events.c.breaking.desc(), asset_events.c.id)
                            .limit(ENTRY_COLUMNS + 10)).all()
        events = [ChangeEvent.of(row) for row in rows]
        own = tuple(event for event in events if event.guid == guid)
        columns = tuple(event for event in events if event.guid != guid)[:ENTRY_COLUMNS]
        newest = max(events, key=lambda event: event.id)
        entries.append(HistoryEntry(point=group.last, at=newest.at, actor=newest.actor, agent=newest.agent,
                                    run=group.run, own=own, columns=columns,
                                    column_count=group.events - len(own)))
    return HistoryPage(tuple(entries), total, page, size)


def _current_columns(conn: Connection, table_qn: str) -> dict[str, dict[str, Any]]:
    """The table's active top-level columns now: qualified name → {"name", and the snapshot's attributes}."""
    query = sa.select(assets.c.qualified_name, assets.c.name, assets.c.attributes).where(
        assets.c.parent_qualified_name == table_qn, assets.c.type_name == "Column", assets.c.status == "ACTIVE",
        assets.c.qualified_name == sa.literal(table_qn + "/", sa.Text) + assets.c.name)
    found = {}
    for qualified_name, name, attributes in conn.execute(query):
        if (attributes or {}).get("parentColumnQualifiedName"):
            continue
        found[qualified_name] = {"name": name, **ColumnShape.of(name, attributes or {}).snapshot()}
    return found


def _undo(columns: dict[str, dict[str, Any]], event: Any) -> None:
    """Take one column event back: the column as it was right before it."""
    changes: Mapping[str, list[Any]] = event.changes or {}
    if event.action in ("created", "restored"):
        columns.pop(event.qualified_name, None)
    elif event.action == "archived":
        columns[event.qualified_name] = {"name": event.name, **{
            key: pair[0] for key, pair in changes.items() if key in SHAPE_KEYS and pair and pair[0] is not None}}
    else:
        column = columns.setdefault(event.qualified_name, {"name": event.name})
        for key in (*SHAPE_KEYS, "name"):
            if key in changes and changes[key]:
                old = changes[key][0]
                if old is None and key != "name":
                    column.pop(key, None)
                elif old is not None:
                    column[key] = old


def schema_at(conn: Connection, table_qualified_name: str, event_id: int | None) -> dict[str, ColumnShape]:
    """The table's (or view's) top-level columns right after event `event_id` (None: now), by name, in column
    order. InvalidRequest when more than MAX_REWIND column events were written since."""
    columns = _current_columns(conn, table_qualified_name)
    if event_id is not None:
        since = (sa.select(asset_events.c.id, asset_events.c.action, asset_events.c.qualified_name,
                           asset_events.c.name, asset_events.c.changes)
                 .where(asset_events.c.table_qualified_name == table_qualified_name,
                        asset_events.c.id > event_id, asset_events.c.type_name == "Column",
                        _top_level(table_qualified_name))
                 .order_by(asset_events.c.id.desc()).limit(MAX_REWIND + 1))
        rows = conn.execute(since).all()
        if len(rows) > MAX_REWIND:
            raise InvalidRequest(f"Over {MAX_REWIND:,} column changes were recorded since that point; choose a "
                                 f"later one.")
        for row in rows:
            _undo(columns, row)
    shapes = [ColumnShape.from_snapshot(values["name"], values) for values in columns.values()]
    shapes.sort(key=lambda shape: (shape.order is None, shape.order or 0, shape.name))
    return {shape.name: shape for shape in shapes}


def _group_key(run: str | None, at: datetime, actor: str) -> tuple[Any, ...]:
    return ("run", run) if run is not None else ("edit", at, actor)


def schema_versions(conn: Connection, table_qualified_name: str) -> list[SchemaVersion]:
    """The points the table's schema can be shown at, newest first (at most MAX_VERSIONS): each crawl or edit that
    created, archived or restored it or changed its columns. A table older than history has none before its
    first change: its schema then is the one at its oldest version, or the present."""
    own = conn.execute(
        sa.select(*_COLUMNS).where(asset_events.c.qualified_name == table_qualified_name,
                                   asset_events.c.type_name.in_(SCHEMA_TYPES), VISIBLE)
        .order_by(asset_events.c.id.desc()).limit(_OWN_EVENTS)).all()
    chosen: dict[tuple[Any, ...], ChangeEvent] = {}
    for event in map(ChangeEvent.of, own):
        if event.schema_changed:
            chosen.setdefault(_group_key(event.run, event.at, event.actor), event)
            if len(chosen) >= MAX_VERSIONS:
                break
    if not chosen:
        return []
    # The newest event of each of those crawls or edits among the table's columns: a crawl writes a table's
    # event before the events of the columns it archives.
    last: dict[tuple[Any, ...], int] = {}
    if any(event.run is not None for event in chosen.values()):
        # Read along the table's index (a run's may hold a whole first crawl): `coalesce` keeps the run's out.
        query = (sa.select(asset_events.c.run, sa.func.max(asset_events.c.id))
                 .where(asset_events.c.table_qualified_name == table_qualified_name,
                        sa.func.coalesce(asset_events.c.run, "") != "")
                 .group_by(asset_events.c.run))
        last.update((("run", run), newest) for run, newest in conn.execute(query) if ("run", run) in chosen)
    for key, event in chosen.items():
        if event.run is None:
            newest = conn.execute(sa.select(sa.func.max(asset_events.c.id)).where(
                asset_events.c.table_qualified_name == table_qualified_name, asset_events.c.run.is_(None),
                asset_events.c.at == event.at, asset_events.c.actor == event.actor)).scalar()
            if newest is not None:
                last[key] = newest
    versions = [SchemaVersion(point=max(event.id, last.get(key, event.id)), at=event.at, actor=event.actor,
                              agent=event.agent, run=event.run, action=event.action, breaking=event.breaking)
                for key, event in chosen.items()]
    return sorted(versions, key=lambda version: version.point, reverse=True)


def compare(conn: Connection, table_qualified_name: str, from_event: int | None,
            to_event: int | None) -> list[dict[str, Any]]:
    """The schema changes from the table's columns right after `from_event` to those right after `to_event`
    (None: now), breaking first (gazetteer.assets.schema_diff)."""
    return column_changes(schema_at(conn, table_qualified_name, from_event),
                          schema_at(conn, table_qualified_name, to_event),
                          positional=history.read_by_position(conn, table_qualified_name))


def catalog_changes(conn: Connection, *, connection: str | None = None, type_name: str | None = None,
                    action: str | None = None, breaking: bool = False, run: str | None = None,
                    before_id: int | None = None, size: int = 50) -> ChangesPage:
    """Visible events newest first, `size` (at most MAX_CHANGES_PAGE) to a page, the next page starting below
    `before_id`. Column events only when `type_name` asks for them: a crawl's column changes are in their table's
    diff."""
    if action is not None and action not in ACTIONS:
        raise InvalidRequest(f"{action[:40]!r} is not an action: choose one of {', '.join(ACTIONS)}.")
    size = _size(size, MAX_CHANGES_PAGE)
    where: list[sa.ColumnElement[bool]] = [VISIBLE]
    where.append(asset_events.c.type_name == type_name if type_name else asset_events.c.type_name != "Column")
    if connection:
        where.append(asset_events.c.connection_qualified_name == connection)
    if action:
        where.append(asset_events.c.action == action)
    if breaking:
        where.append(asset_events.c.breaking.is_(True))
    if run:
        where.append(asset_events.c.run == run)
    if before_id is not None:
        where.append(asset_events.c.id < before_id)
    rows = conn.execute(sa.select(*_COLUMNS).where(*where).order_by(asset_events.c.id.desc()).limit(size + 1)).all()
    events = tuple(ChangeEvent.of(row) for row in rows[:size])
    return ChangesPage(events, events[-1].id if len(rows) > size else None)


def short_name(qualified_name: str) -> str:
    """How people name an asset in a list: `sales.orders`, `sales.orders.amount`, `lineage/job/etl`, from its
    qualified name (a connection's is tenant/connector/epoch; Glue's assets sit below the catalog's id)."""
    parts = qualified_name.split("/")
    if len(parts) <= 3:
        return qualified_name
    below = parts[3:]
    if below[0] == "lineage" and len(below) > 2 and below[1] == "s3":
        return "s3://" + "/".join(below[2:])
    if below[0] == "lineage":
        return "/".join(below[1:])
    if len(below) > 1 and (below[0] == "AwsDataCatalog" or below[0].isdigit()):
        below = below[1:]
    return ".".join(below)


def names_of(conn: Connection, qualified_names: Iterable[str]) -> dict[str, tuple[str, str]]:
    """The assets the catalog holds under these qualified names: qualified name → (guid, type name)."""
    wanted = sorted(set(qualified_names))
    found: dict[str, tuple[str, str]] = {}
    for start in range(0, len(wanted), 1000):
        query = sa.select(assets.c.qualified_name, assets.c.guid, assets.c.type_name).where(
            assets.c.qualified_name.in_(wanted[start:start + 1000]))
        found.update((qualified_name, (guid, type_name)) for qualified_name, guid, type_name in conn.execute(query))
    return found

