"""What one crawl changed, for its report: counts by action, and the assets with their schema diffs.

What for: the run report (API, CLI `workflow logs`, UI) and a crawl plan (gazetteer.packages.glue.plan) list
what a run created, changed, archived and restored, breaking changes first. Read from the run's history events
(gazetteer.assets.history); a column's changes are listed in its table's diff, not on their own.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from gazetteer.assets.history import ACTIONS, VISIBLE, downstream
from gazetteer.assets.schema_diff import table_dropped
from gazetteer.store.schema import asset_events, assets
from gazetteer.webhooks.outbox import enqueue

__all__ = ["run_changes", "refused_changes", "notify", "entry", "REPORT_LIMIT"]

# A first crawl creates every asset: the report lists the first of them; the Changes page has them all.
REPORT_LIMIT = 200
# The assets one webhook delivery can name (it says how many more there were).
_NOTIFIED = 1000
_RANK = sa.case((asset_events.c.breaking, 0), (asset_events.c.diff.is_not(None), 1),
                (asset_events.c.type_name.in_(("Table", "View")), 2), else_=3)


def entry(row: Any) -> dict[str, Any]:
    """One event as a report lists it: the asset, what happened, and for an update which attributes changed."""
    found: dict[str, Any] = {"guid": row.asset_guid, "typeName": row.type_name, "qualifiedName": row.qualified_name,
                             "name": row.name, "action": row.action, "breaking": row.breaking}
    if row.action == "updated" and row.changes:
        found["changed"] = sorted(row.changes)
    if row.diff:
        found["diff"] = row.diff
    if row.affected:
        found["affected"] = row.affected
    return found


def run_changes(conn: Connection, run: str, *, pending: bool = False, limit: int = REPORT_LIMIT) -> dict[str, Any]:
    """The changes of `run`: {"counts": {action: n}, "breaking": n, "assets": [...], "more": n}. `pending` reads
    them before the run commits (a circuit breaker's refusal shows what the crawl would have done)."""
    mine = asset_events.c.run == run
    where = mine if pending else sa.and_(mine, VISIBLE)
    counts: Counter[str] = Counter(dict.fromkeys(ACTIONS, 0))
    breaking = 0
    query = (sa.select(asset_events.c.action, asset_events.c.breaking, sa.func.count())
             .where(where).group_by(asset_events.c.action, asset_events.c.breaking))
    for action, is_breaking, count in conn.execute(query):
        counts[action] += count
        breaking += count if is_breaking else 0
    listed = sa.and_(where, asset_events.c.type_name != "Column")
    rows = conn.execute(sa.select(asset_events).where(listed).order_by(_RANK, asset_events.c.id).limit(limit)).all()
    total = conn.execute(sa.select(sa.func.count()).select_from(asset_events).where(listed)).scalar_one()
    return {"counts": dict(counts), "breaking": breaking, "assets": [entry(row) for row in rows],
            "more": max(0, total - len(rows))}


def refused_changes(conn: Connection, run: str, doomed: Sequence[str], *, limit: int = REPORT_LIMIT) -> dict[str, Any]:
    """What a crawl refused by its circuit breaker would have done: what it wrote before the refusal (about to
    be rolled back) and the archiving it refused, each dropped table with what reads it."""
    found = run_changes(conn, run, pending=True, limit=limit)
    rows = {row.qualified_name: row for chunk in range(0, len(doomed), 2000)
            for row in conn.execute(sa.select(assets).where(assets.c.qualified_name.in_(doomed[chunk:chunk + 2000])))}
    archived = []
    for qualified_name in doomed[:limit]:
        row = rows.get(qualified_name)
        if row is None:
            continue
        affected = downstream(conn, [qualified_name])
        item = {"guid": row.guid, "typeName": row.type_name, "qualifiedName": qualified_name, "name": row.name,
                "action": "archived", "breaking": bool(affected), "diff": [table_dropped(row.type_name, affected)]}
        archived.append({**item, "affected": affected} if affected else item)
    archived.sort(key=lambda item: not item["breaking"])
    found["counts"]["archived"] += len(doomed)
    found["breaking"] += sum(item["breaking"] for item in archived)
    total = len(doomed) + len(found["assets"]) + found["more"]
    found["assets"] = (archived + found["assets"])[:limit]
    found["more"] = total - len(found["assets"])
    return found


def notify(conn: Connection, run: str, at: datetime) -> None:
    """Queue the webhooks a committed crawl's changes call for, in the transaction that commits it: its breaking
    schema changes, and what it archived (tables and views before their columns). Call it once the run's
    events are visible, i.e. after its undo log is gone in the same transaction."""
    mine = sa.and_(asset_events.c.run == run, VISIBLE)
    for kind, which in (("breaking_change", sa.and_(mine, asset_events.c.breaking)),
                        ("asset_archived", sa.and_(mine, asset_events.c.action == "archived"))):
        connections = conn.execute(sa.select(asset_events.c.connection_qualified_name).where(which).distinct())
        for connection in connections.scalars().all():
            theirs = sa.and_(which, asset_events.c.connection_qualified_name == connection)
            first = sa.select(asset_events).where(theirs).order_by(asset_events.c.type_name == "Column",
                                                                   asset_events.c.id)
            rows = conn.execute(first.limit(_NOTIFIED)).all()
            total = conn.execute(sa.select(sa.func.count()).select_from(asset_events).where(theirs)).scalar_one()
            what = "breaking schema change" if kind == "breaking_change" else "asset archived"
            body = {"connectionQualifiedName": connection, "run": run, "at": at.isoformat(),
                    "summary": f"{total} {what}{'' if total == 1 else 's'} in run {run}"}
            enqueue(conn, kind, key=f"{run}:{kind}:{connection}", connection_qualified_name=connection, body=body,
                    assets=[entry(row) for row in rows])
