"""Publishing crawl records: batched upserts keyed by qualifiedName, archive and restore, all undoable.

The publisher never reads or writes more than one batch at a time, so a crawl's memory does not grow with
the catalog. An unchanged asset costs one indexed read and no write: each row keeps a digest of its
crawl-owned attributes, and a batch only writes the rows whose digest moved.

A crawl is all or nothing, yet it cannot hold one transaction open while it reads Glue for minutes (SQLite
has one writer, and run progress and people's edits write meanwhile). So an undoable publisher keeps an undo
log (`crawl_undo`) in the same transactions as its writes: `commit` drops it, `roll_back` puts the catalog
back as it was, now or after a restart.
"""

from __future__ import annotations

import random
import secrets
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from gazetteer.assets import history, tagging
from gazetteer.assets.records import AssetRecord, content_hash
from gazetteer.assets.run_changes import notify
from gazetteer.store.generation import bump_generation
from gazetteer.store.schema import assets, crawl_undo

__all__ = ["Publisher", "CHANGE_KINDS", "roll_back"]

CHANGE_KINDS = ("created", "updated", "archived", "restored", "unchanged")
# Keep IN lists well below SQLite's bound-parameter limit.
_CHUNK = 2000
# What a crawl writes into an existing asset, so what a rollback puts back (never `curated`): the crawled
# columns, and the stamps of the last change.
_CRAWLED = ("type_name", "name", "status", "connection_qualified_name", "schema_qualified_name",
            "parent_qualified_name", "attributes", "content_hash", "source_hash")
_STAMPS = ("updated_at", "updated_by")
_guids = random.Random(secrets.randbits(256))


def _new_guid() -> str:
    # Random version-4 UUIDs without a system call each: a first crawl makes hundreds of thousands.
    return str(uuid.UUID(int=_guids.getrandbits(128), version=4))


def _known(attributes: Iterable[tuple[str, Any]]) -> dict[str, Any]:
    return {key: value for key, value in attributes if value is not None}


def _chunks(items: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def roll_back(engine: Engine, actor: str) -> bool:
    """Undo everything the undoable publisher `actor` wrote; False if it left nothing to undo.

    Assets it rewrote get their crawl-owned columns back (their `curated` part, and the stamp of whoever
    edited them since, are kept); assets it created are deleted. Like the crawl's own writes, this goes
    about a page of assets per transaction, each dropping the part of the log it undid: a rollback never
    holds SQLite's single write lock for long, and one cut short goes on where it stopped when called again.
    """
    history.forget_run(engine, actor)  # first: the events hide only while the log lasts
    logged = crawl_undo.c.crawl == actor
    # In the log's index order; any order gives the same end, full-text index included.
    entries = (sa.select(crawl_undo.c.id, crawl_undo.c.asset_id, crawl_undo.c.created_through)
               .where(logged).order_by(crawl_undo.c.asset_id).limit(_CHUNK))
    untouched_since = assets.c.updated_by == actor
    created = assets.alias("created")
    undone = False
    while True:
        with engine.begin() as conn:
            batch = _about_a_page(conn.execute(entries).all())
            if not batch:
                return undone
            in_batch = sa.and_(logged, crawl_undo.c.id.in_(batch))
            conn.execute(
                assets.update()
                .where(assets.c.id == crawl_undo.c.asset_id, in_batch, crawl_undo.c.created_through.is_(None))
                .values(**{column: crawl_undo.c[column] for column in _CRAWLED},
                        **{stamp: sa.case((untouched_since, crawl_undo.c[stamp]), else_=assets.c[stamp])
                           for stamp in _STAMPS})
            )
            ours = (sa.select(created.c.id)
                    .join(crawl_undo, created.c.id.between(crawl_undo.c.asset_id, crawl_undo.c.created_through))
                    .where(in_batch, created.c.created_by == actor))
            # Tables before their columns: SQLite's full-text triggers re-index a table each time one of its
            # columns goes, unless the table is gone already.
            for kind in (created.c.type_name != "Column", created.c.type_name == "Column"):
                conn.execute(assets.delete().where(assets.c.id.in_(ours.where(kind))))
            conn.execute(crawl_undo.delete().where(crawl_undo.c.id.in_(batch)))
            bump_generation(conn)  # last: searches see the assets put back (see gazetteer.store.generation)
        undone = True


def _about_a_page(entries: Sequence[Any]) -> list[int]:
    """The ids of the first undo log entries that undo about _CHUNK assets between them (at least one)."""
    batch: list[int] = []
    size = 0
    for entry in entries:
        size += 1 if entry.created_through is None else entry.created_through - entry.asset_id + 1
        if batch and size > _CHUNK:
            break
        batch.append(entry.id)
    return batch


class Publisher:
    """Writes one connection's crawl records into the store and counts what changed.

    An `undoable` publisher logs how to undo each write, under its `actor`, which must then be unique to it:
    the actor also stamps the assets it creates (their created_by), which is how a rollback finds them.

    A `fence` runs first in every write transaction and raises to refuse the write: a workflow run's fence
    checks that its worker still holds the run's lease, so a worker that lost it (it hung, and the run was
    ended elsewhere) can write nothing more, commit included.
    """

    def __init__(self, engine: Engine, *, actor: str = "gazetteer", clock: Callable[[], datetime] | None = None,
                 undoable: bool = False, fence: Callable[[Connection], None] | None = None, agent: str = "api",
                 record_history: bool | None = None):
        self.engine = engine
        self.actor = actor
        self.undoable = undoable
        # Who the history says made the changes: an undoable publisher is a crawl, and its actor names its run.
        recording = history.recording() if record_history is None else record_history
        self.author = (history.Author(actor, "crawl", actor) if undoable else history.Author(actor, agent)
                       ) if recording else None
        self._fence = fence
        self._clock = clock or (lambda: datetime.now(UTC))
        self.changes: Counter[str] = Counter({kind: 0 for kind in CHANGE_KINDS})
        self.writes = 0

    def publish(self, records: Sequence[AssetRecord], *, complete_parents: Sequence[str] = ()) -> None:
        """Upsert `records` in one transaction.

        `complete_parents` names records whose children were listed completely in this batch: any active
        child of theirs that is not among `records` is archived (a column dropped from a table, say).
        """
        if not records:
            return
        names = [record.qualified_name for record in records]
        with self._begin() as conn:
            existing = self._existing(conn, names, complete_parents)
            inserts, updates = self._plan(conn, records, existing)
            seen = set(names)
            parents = set(complete_parents)
            gone = [row["id"] for qn, row in existing.items()
                    if qn not in seen and row["status"] == "ACTIVE" and row["parent_qualified_name"] in parents]
            self._write(conn, inserts, updates, gone)

    @contextmanager
    def _begin(self, *, final: bool = False) -> Iterator[Connection]:
        with self.engine.begin() as conn:
            if self._fence is not None:
                self._fence(conn)
            writes = self.writes
            yield conn
            if final or self.writes != writes:
                # Last in the transaction: each page is visible to searches once it commits, before the crawl
                # ends; cached facets may lag an undoable crawl's pages briefly, never its end (see
                # gazetteer.store.generation).
                bump_generation(conn, crawl_page=self.undoable and not final)

    def _existing(self, conn: Connection, names: Sequence[str], parents: Sequence[str]) -> dict[str, dict[str, Any]]:
        cols = (assets.c.id, assets.c.guid, assets.c.qualified_name, assets.c.status, assets.c.content_hash,
                assets.c.parent_qualified_name)
        found: dict[str, dict[str, Any]] = {}
        for chunk in _chunks(list(names)):
            for row in conn.execute(sa.select(*cols).where(assets.c.qualified_name.in_(chunk))).mappings():
                found[row["qualified_name"]] = dict(row)
        for chunk in _chunks(list(parents)):
            query = sa.select(*cols).where(assets.c.parent_qualified_name.in_(chunk), assets.c.status == "ACTIVE")
            for row in conn.execute(query).mappings():
                found.setdefault(row["qualified_name"], dict(row))
        return found

    def _plan(self, conn: Connection, records: Sequence[AssetRecord],
              existing: dict[str, dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        now = self._clock()
        inserts: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        for record in records:
            attributes = _known(record.attributes.items())
            row = existing.get(record.qualified_name)
            digest = content_hash(record.name, record.parent_qualified_name, record.source_hash, attributes)
            if row is not None and digest != row["content_hash"] and len(attributes) < len(record.attributes):
                # Some attributes are unknown this time: keep the stored values rather than dropping them.
                stored = conn.execute(sa.select(assets.c.attributes).where(assets.c.id == row["id"])).scalar_one()
                unknown = [key for key, value in record.attributes.items() if value is None and key in stored]
                attributes.update({key: stored[key] for key in unknown})
                digest = content_hash(record.name, record.parent_qualified_name, record.source_hash, attributes)
            if row is None:
                inserts.append(self._row(record, attributes, digest, now, guid=_new_guid(), created=True))
                self.changes["created"] += 1
            elif row["status"] != "ACTIVE":
                updates.append(self._row(record, attributes, digest, now, row_id=row["id"]))
                self.changes["restored"] += 1
            elif digest != row["content_hash"]:
                updates.append(self._row(record, attributes, digest, now, row_id=row["id"]))
                self.changes["updated"] += 1
            else:
                self.changes["unchanged"] += 1
        return inserts, updates

    def _row(self, record: AssetRecord, attributes: dict[str, Any], digest: str, now: datetime, *,
             guid: str | None = None, row_id: int | None = None, created: bool = False) -> dict[str, Any]:
        row: dict[str, Any] = {
            "type_name": record.type_name,
            "name": record.name,
            "status": "ACTIVE",
            "connection_qualified_name": record.connection_qualified_name,
            "schema_qualified_name": record.schema_qualified_name,
            "parent_qualified_name": record.parent_qualified_name,
            "attributes": attributes,
            "content_hash": digest,
            "source_hash": record.source_hash,
            "updated_at": now,
            "updated_by": self.actor,
        }
        if created:
            row.update(guid=guid, qualified_name=record.qualified_name, created_at=now, created_by=self.actor)
        else:
            row["row_id"] = row_id
        return row

    def _write(self, conn: Connection, inserts: list[dict[str, Any]], updates: list[dict[str, Any]],
               gone: list[int]) -> None:
        old = history.before(conn, [*(row["row_id"] for row in updates), *gone]) if self.author else {}
        if inserts:
            self._insert(conn, inserts)
        if updates:
            self._remember(conn, [row["row_id"] for row in updates])
            statement = assets.update().where(assets.c.id == sa.bindparam("row_id"))
            conn.execute(statement, updates)
        if gone:
            self._archive_ids(conn, gone)
        self.writes += len(inserts) + len(updates) + len(gone)
        if self.author:
            history.record_batch(conn, self.author, self._clock(), inserted=inserts, updated=updates, archived=gone,
                                 old=old)

    def _insert(self, conn: Connection, rows: list[dict[str, Any]]) -> None:
        if not self.undoable:
            conn.execute(assets.insert(), rows)
            return
        # The new rows' ids are above every id this transaction saw before inserting: SQLite numbers them on
        # from the largest, PostgreSQL's sequence has handed the smaller ones out already. Other sessions'
        # rows may fall in the same range on PostgreSQL; created_by tells them apart.
        last_id = sa.select(sa.func.max(assets.c.id))
        first = (conn.execute(last_id).scalar() or 0) + 1
        conn.execute(assets.insert(), rows)
        conn.execute(crawl_undo.insert().values(crawl=self.actor, asset_id=first,
                                                created_through=conn.execute(last_id).scalar()))

    def _remember(self, conn: Connection, ids: Sequence[int]) -> None:
        """Log these assets' crawl-owned columns before this publisher first rewrites them."""
        if not self.undoable:
            return
        logged = sa.exists().where(crawl_undo.c.crawl == self.actor, crawl_undo.c.asset_id == assets.c.id,
                                   crawl_undo.c.created_through.is_(None))
        for chunk in _chunks(ids):
            # Assets this publisher created need no old values: a rollback deletes them.
            old = sa.select(sa.literal(self.actor), assets.c.id, *(assets.c[c] for c in (*_CRAWLED, *_STAMPS))).where(
                assets.c.id.in_(chunk), assets.c.created_by != self.actor, ~logged)
            conn.execute(crawl_undo.insert().from_select(["crawl", "asset_id", *_CRAWLED, *_STAMPS], old))

    def _archive_ids(self, conn: Connection, ids: Sequence[int]) -> None:
        now = self._clock()
        for chunk in _chunks(ids):
            self._remember(conn, chunk)
            conn.execute(
                assets.update()
                .where(assets.c.id.in_(chunk), assets.c.status == "ACTIVE")
                .values(status="DELETED", updated_at=now, updated_by=self.actor)
            )
        self.changes["archived"] += len(ids)

    def commit(self) -> None:
        """Keep everything written so far: drop the undo log (an unchanged crawl wrote none, and writes none)."""
        if self.undoable and self.writes:
            with self._begin(final=True) as conn:
                conn.execute(crawl_undo.delete().where(crawl_undo.c.crawl == self.actor))
                # In the same transaction: new columns of a tagged table, new lineage, archived assets.
                tagging.refresh_all(conn)
                if self.author:  # in the same transaction: webhooks tell of exactly the crawls that were kept
                    notify(conn, self.actor, self._clock())

    def unchanged_sources(self, digests: dict[str, str]) -> dict[str, Mapping[str, Any]]:
        """Of these containers (qualified name → source digest), the active ones whose source is unchanged, each
        with its stored attributes. They and their children (`columnCount` columns and `nestedColumnCount` nested
        ones) count as unchanged and are not written."""
        found: dict[str, Mapping[str, Any]] = {}
        with self.engine.connect() as conn:
            for chunk in _chunks(list(digests)):
                query = sa.select(assets.c.qualified_name, assets.c.source_hash, assets.c.attributes).where(
                    assets.c.qualified_name.in_(chunk), assets.c.status == "ACTIVE")
                for qualified_name, source_hash, attributes in conn.execute(query):
                    if source_hash == digests[qualified_name]:
                        found[qualified_name] = attributes
        children = sum(int(a.get("columnCount") or 0) + int(a.get("nestedColumnCount") or 0) for a in found.values())
        self.changes["unchanged"] += len(found) + children
        return found

    def archive(self, qualified_names: Sequence[str]) -> None:
        """Archive these assets and every active asset beneath them (columns of a table, tables of a schema)."""
        if not qualified_names:
            return
        with self._begin() as conn:
            ids: list[int] = []
            for chunk in _chunks(list(qualified_names)):
                beneath = sa.or_(
                    assets.c.qualified_name.in_(chunk),
                    assets.c.parent_qualified_name.in_(chunk),
                    assets.c.schema_qualified_name.in_(chunk),
                )
                query = sa.select(assets.c.id).where(beneath, assets.c.status == "ACTIVE")
                ids.extend(conn.execute(query).scalars())
            ids = sorted(set(ids))
            if ids:
                self._write(conn, [], [], ids)

    def active_names(self, *, types: Sequence[str], schema: str | None = None,
                     connection: str | None = None) -> set[str]:
        """Qualified names of the active assets of these types in one schema or connection."""
        query = sa.select(assets.c.qualified_name).where(assets.c.type_name.in_(types), assets.c.status == "ACTIVE")
        if schema is not None:
            query = query.where(assets.c.schema_qualified_name == schema)
        if connection is not None:
            query = query.where(assets.c.connection_qualified_name == connection)
        with self.engine.connect() as conn:
            return set(conn.execute(query).scalars())
