"""The History tab of an asset's page (`/assets/{guid}/history`): its timeline, newest first (one entry per
crawl or edit: when, who or which run, what changed from what to what, schema diffs with the breaking ones
first and what they affect downstream), and for a table or view its columns at any point of that history
("Schema at", `?at=`) and the diff between two points ("Compare", `?from=&to=`).

Reads only (gazetteer.assets.changes), from the read replica. A point that is not one is a 400 page with the
tab and the message, never a 500.
"""

from __future__ import annotations

from typing import Any

from fastapi import Query, Request, Response

from gazetteer.assets.changes import (
    HistoryEntry,
    asset_history,
    compare,
    names_of,
    schema_at,
    schema_versions,
)
from gazetteer.assets.history import SCHEMA_TYPES
from gazetteer.errors import InvalidRequest
from gazetteer.web.ui import error_pages
from gazetteer.web.ui.asset_page import page_head
from gazetteer.web.ui.change_format import run_workflows
from gazetteer.web.ui.routing import UserDep, read_engine, render, router

__all__ = ["PAGE_SIZE", "parse_point"]

PAGE_SIZE = 20
ATTRIBUTES_SHOWN = 25  # an entry's changed attributes listed; the rest are counted
COLUMNS_SHOWN = 60  # an entry's column events listed; the rest are counted


def parse_point(text: str, name: str) -> int | None:
    """A point of the history (an event id), or None for "now" (empty or `now`); InvalidRequest otherwise."""
    text = text.strip()
    if text in ("", "now"):
        return None
    if text.isascii() and text.isdigit() and len(text) <= 18:
        return int(text)
    raise InvalidRequest(f"{text[:40]!r} is not a point of this history ({name}): choose one from the list.")


def _linked(conn: Any, entries: tuple[HistoryEntry, ...]) -> dict[str, Any]:
    """What the timeline links to: the downstream assets breaking changes affect, and the runs' workflows."""
    affected = [name for entry in entries for name in entry.affected]
    return {"names": names_of(conn, affected), "workflows": run_workflows(conn, [entry.run for entry in entries])}


def _version_label(version: Any) -> str:
    who = f"crawl {version.run}" if version.run else f"{version.actor} ({version.agent})"
    return f"{version.at:%Y-%m-%d %H:%M:%S} UTC · {version.action} · {who}" + (" · breaking" if version.breaking
                                                                               else "")


@router.get("/assets/{guid}/history")
def history_page(request: Request, user: UserDep, guid: str, page: int = 1, at: str = "",
                 from_: str = Query("", alias="from"), to: str = "") -> Response:
    engine = read_engine(request)
    asset = error_pages.asset(engine, guid)
    context: dict[str, Any] = {**page_head(engine, user, asset, "history"), "schema_tab": False, "error": None}
    status = 200
    with engine.connect() as conn:
        found = asset_history(conn, guid, page=max(1, page), size=PAGE_SIZE)
        context.update(history=found, entries=found.entries, attributes_shown=ATTRIBUTES_SHOWN,
                       columns_shown=COLUMNS_SHOWN, **_linked(conn, found.entries))
        if asset.type_name in SCHEMA_TYPES:
            versions = schema_versions(conn, asset.qualified_name)
            context.update(schema_tab=True, versions=[(v.point, _version_label(v)) for v in versions],
                           at=at, from_=from_, to=to, point=None, schema={}, diff=None)
            try:
                point = parse_point(at, "Schema at")
                context.update(point=point, schema=schema_at(conn, asset.qualified_name, point))
                if from_ or to:
                    old, new = parse_point(from_, "Compare from"), parse_point(to, "Compare to")
                    context.update(diff=compare(conn, asset.qualified_name, old, new), compared=(old, new))
            except InvalidRequest as exc:
                context["error"], status = exc.message, exc.status_code
                if not context["schema"]:
                    context["schema"] = schema_at(conn, asset.qualified_name, None)
            labels = dict(context["versions"])
            context["point_label"] = labels.get(context["point"]) if context["point"] is not None else None
            context["labels"] = labels
    return render(request, "history.html", context, status=status)
