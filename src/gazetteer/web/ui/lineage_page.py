"""The Lineage tab of an asset's page (`/assets/{guid}/lineage`): its upstream and downstream graph to a chosen
depth, a table's column-level lineage on request, and what depends on it at any depth (the impact list).

Everything is bounded: the graph shows at most GRAPH_CAP nodes and the lists LIST_CAP entries, nearest first,
and say how many more there are (the walks stop at `lineage_data.FETCH`, beyond which it says "more than").
A depth that is not one says so on the page with a 400, never a 500.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from fastapi import Request, Response
from sqlalchemy.engine import Engine

from gazetteer.assets.views import AssetView
from gazetteer.errors import InvalidRequest
from gazetteer.web.ui import error_pages
from gazetteer.web.ui.asset_page import page_head
from gazetteer.web.ui.lineage_data import (
    ALL,
    NOT_PROCESS,
    ColumnLineage,
    Reached,
    Side,
    column_lineage,
    has_lineage,
    parents_of,
    walk,
)
from gazetteer.web.ui.lineage_graph import Graph, Placed, is_process, layout
from gazetteer.web.ui.routing import UserDep, read_engine, render, router

__all__ = ["DEPTHS", "DEFAULT_DEPTH", "GRAPH_CAP", "LIST_CAP", "COLUMN_CAP", "parse_depth"]

DEPTHS = ("1", "2", "3", "5", "all")  # offered as links; any whole number up to MAX_DEPTH works too
DEFAULT_DEPTH = "2"
MAX_DEPTH = 99
GRAPH_CAP = 200
LIST_CAP = 200
COLUMN_CAP = 50


def parse_depth(text: str) -> int:
    """`all` or a whole number from 1 to MAX_DEPTH; InvalidRequest says what is accepted."""
    if text == "all":
        return ALL
    if text.isascii() and text.isdigit() and 1 <= int(text) <= MAX_DEPTH:
        return int(text)
    raise InvalidRequest(f"{text[:40]!r} is not a depth: choose 1, 2, 3, 5 or all (any whole number from 1 to "
                         f"{MAX_DEPTH} works too).")


def _slot(center: AssetView, item: Reached, sign: int) -> int:
    """Hops along the edges from the middle: an asset's process sits between it and the assets it links."""
    return sign * (2 * item.depth - is_process(item.asset) - is_process(center))


def _steps(side: Side, downstream: bool) -> list[Reached]:
    """What a side reached, nearest first, each process right before the assets it leads to at its depth: a
    graph cut short then shows whole steps, not a column of processes with nothing on their far side."""
    far: dict[str, list[str]] = defaultdict(list)
    for source, target in sorted(side.edges):
        far[source if downstream else target].append(target if downstream else source)
    by_name = {item.asset.qualified_name: item for item in side.reached}
    ordered: dict[str, Reached] = {}
    for item in sorted(side.reached, key=lambda item: item.depth):
        ordered.setdefault(item.asset.qualified_name, item)
        for name in far[item.asset.qualified_name] if is_process(item.asset) else ():
            if name in by_name and by_name[name].depth == item.depth:
                ordered.setdefault(name, by_name[name])
    return list(ordered.values())


def _graph(center: AssetView, up: Side, down: Side) -> tuple[Graph, int]:
    """The graph of both sides, nearest first up to GRAPH_CAP nodes (the two sides taking turns at each
    depth), and how many nodes were left out."""
    turns = [(item.depth, rank, sign, item) for sign, side in ((-1, up), (1, down))
             for rank, item in enumerate(_steps(side, sign > 0))]
    items = [(item, sign) for _, _, sign, item in sorted(turns, key=lambda turn: turn[:3])]
    shown: dict[str, Placed] = {center.qualified_name: Placed(center, 0, center=True)}
    for item, sign in items:
        if len(shown) > GRAPH_CAP:
            break
        shown.setdefault(item.asset.qualified_name, Placed(item.asset, _slot(center, item, sign)))
    hidden = len({item.asset.qualified_name for item, _ in items} - shown.keys())
    return layout(list(shown.values()), sorted(up.edges | down.edges)), hidden


def _column_graph(lineage: Sequence[ColumnLineage]) -> Graph:
    """A table's columns in the middle, the columns each is computed from to the left, those computed from
    it to the right (their processes left out: each links one column to its sources)."""
    shown: dict[str, Placed] = {item.column.qualified_name: Placed(item.column, 0, center=True) for item in lineage}
    edges: list[tuple[str, str]] = []
    for item in lineage:
        for source in item.sources:
            shown.setdefault(source.qualified_name, Placed(source, -1))
            edges.append((source.qualified_name, item.column.qualified_name))
        for dependant in item.dependants:
            shown.setdefault(dependant.qualified_name, Placed(dependant, 1))
            edges.append((item.column.qualified_name, dependant.qualified_name))
    return layout(list(shown.values()), edges)


def _listed(engine: Engine, side: Side) -> dict[str, Any]:
    """The assets (not processes) of one side as a list: nearest first, each column with its table."""
    assets = [item for item in side.reached if not is_process(item.asset)]
    return {"items": parents_of(engine, assets[:LIST_CAP]), "hidden": max(len(assets) - LIST_CAP, 0),
            "more": side.more}


def lineage_context(engine: Engine, asset: AssetView, depth: int, columns: bool) -> dict[str, Any]:
    """The graph to `depth`, the upstream list at that depth, the impact list at any depth, and with `columns`
    (tables and views) the lineage of each column."""
    up, down = walk(engine, asset, False, depth), walk(engine, asset, True, depth)
    graph, hidden = _graph(asset, up, down)
    context: dict[str, Any] = {"graph": graph, "hidden": hidden, "more": up.more or down.more,
                               "upstream": _listed(engine, up),
                               "impact": _listed(engine, walk(engine, asset, True, ALL, NOT_PROCESS))}
    if columns and asset.type_name in ("Table", "View"):
        lineage, total = column_lineage(engine, asset, COLUMN_CAP)
        context.update(column_lineage=lineage, column_graph=_column_graph(lineage) if lineage else None,
                       columns_with_lineage=total)
    return context


@router.get("/assets/{guid}/lineage")
def lineage_page(request: Request, user: UserDep, guid: str, depth: str = DEFAULT_DEPTH,
                 columns: bool = False) -> Response:
    engine = read_engine(request)
    asset = error_pages.asset(engine, guid)
    context: dict[str, Any] = {**page_head(engine, user, asset, "lineage"), "depth": depth, "depths": DEPTHS,
                               "columns": columns, "column_toggle": asset.type_name in ("Table", "View")}
    try:
        levels = parse_depth(depth)
    except InvalidRequest as exc:
        # The tab with its depth links and the message, rather than a bare error page.
        return render(request, "lineage.html", {**context, "depth": DEFAULT_DEPTH, "error": exc.message},
                      status=exc.status_code)
    if has_lineage(asset):
        context.update(lineage_context(engine, asset, levels, columns))
    return render(request, "lineage.html", context)
