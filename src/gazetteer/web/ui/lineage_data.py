"""What the UI shows of lineage, read through the core: the walk (`gazetteer.assets.lineage.lineage_list`) and
the search (for a process's endpoints, a table's columns that have lineage, the tables columns belong to).

What for: the Lineage tab (`lineage_page`) and the asset pages (a view's "Reads:", a process's inputs and
outputs). The walk starts from an asset; a process is no end of any edge, so a walk from one would find
nothing: its lineage starts from the assets it reads (upstream) and writes (downstream), one hop away.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Engine

from gazetteer.assets.lineage import EntityFilter, Filters, LineagePage, LineageQuery, lineage_list
from gazetteer.assets.records import LINEAGE_TYPES
from gazetteer.assets.search import search_assets
from gazetteer.assets.views import AssetView
from gazetteer.search import Bool, SearchRequest, Term, Terms
from gazetteer.web.ui.lineage_graph import is_process

__all__ = ["ALL", "NOT_PROCESS", "Reached", "Side", "ColumnLineage", "walk", "endpoints", "parents_of",
           "column_lineage", "has_lineage", "lineage_badge"]

ALL = 1_000_000  # "all": as deep as the graph goes (what LineageQuery takes for it)
# A walk stops once it has this many entities: enough to count what a page leaves out, cheap on a big graph.
FETCH = 1000
COLUMN_FETCH = 100  # a column's direct sources or dependants
NOT_PROCESS = Filters(tuple(EntityFilter("__typeName", "!=", name) for name in LINEAGE_TYPES))
EVERYTHING = Filters()


def has_lineage(asset: AssetView) -> bool:
    """What the asset was read with (`__hasLineage`, from `get_asset` and the search)."""
    return bool(asset.attributes.get("__hasLineage"))


def lineage_badge(asset: AssetView) -> bool:
    """Whether search results and the page header badge the asset: a process always has lineage, no news."""
    return has_lineage(asset) and not is_process(asset)


@dataclass(frozen=True, slots=True)
class Reached:
    """An entity a walk reached, its depth (hops, as Atlan counts them), and for a column its table or view."""

    asset: AssetView
    depth: int
    parent: AssetView | None = None


@dataclass(slots=True)
class Side:
    """One direction of the lineage of an asset: what was reached, nearest first; the edges followed (qualified
    names, upstream end first); `more` when the walk stopped before the end."""

    reached: list[Reached] = field(default_factory=list)
    edges: set[tuple[str, str]] = field(default_factory=set)
    more: bool = False

    def add(self, page: LineagePage, base: int) -> None:
        known = {item.asset.qualified_name for item in self.reached}
        for entity in page.entities:
            if entity.asset.qualified_name not in known:
                known.add(entity.asset.qualified_name)
                self.reached.append(Reached(entity.asset, entity.depth + base))
            self.edges.update((near.qualified_name, entity.asset.qualified_name) for near in entity.upstream)
            self.edges.update((entity.asset.qualified_name, far.qualified_name) for far in entity.downstream)
        self.more = self.more or page.has_more


def _lookup(engine: Engine, field_name: str, values: Sequence[str]) -> dict[str, AssetView]:
    """Assets (archived ones too) by guid or qualified name, in one search."""
    if not values:
        return {}
    found = search_assets(engine, SearchRequest(size=len(values), query=Terms(field_name, tuple(values))))
    key = "guid" if field_name == "__guid" else "qualified_name"
    return {getattr(asset, key): asset for asset in found.assets}


def endpoints(engine: Engine, process: AssetView, key: str) -> list[AssetView]:
    """The assets a process's `inputs` or `outputs` (or, for `process`, its parent process) refer to, in order."""
    value: Any = process.attributes.get(key)
    references = [value] if isinstance(value, Mapping) else value if isinstance(value, list) else []
    guids = list(dict.fromkeys(ref["guid"] for ref in references[:FETCH]
                               if isinstance(ref, Mapping) and isinstance(ref.get("guid"), str)))
    found = _lookup(engine, "__guid", guids)
    return [found[guid] for guid in guids if guid in found]


def walk(engine: Engine, start: AssetView, downstream: bool, depth: int, include: Filters = EVERYTHING) -> Side:
    """What is `depth` hops upstream or downstream of `start` (those `include` keeps), at most FETCH of it."""
    side = Side()
    if not is_process(start):
        side.add(lineage_list(engine, LineageQuery(start.guid, downstream, depth, size=FETCH, include=include)), 0)
        return side
    seeds = endpoints(engine, start, "outputs" if downstream else "inputs")
    side.reached = [Reached(seed, 1) for seed in seeds if include.matches(seed)]
    side.edges = {(start.qualified_name, seed.qualified_name) if downstream
                  else (seed.qualified_name, start.qualified_name) for seed in seeds}
    for seed in seeds if depth > 1 else ():
        if len(side.reached) >= FETCH:
            side.more = True
            break
        side.add(lineage_list(engine, LineageQuery(seed.guid, downstream, depth - 1, size=FETCH - len(side.reached),
                                                   include=include)), 1)
    return side


def parents_of(engine: Engine, reached: Iterable[Reached]) -> list[Reached]:
    """`reached` with each column's table or view (one search for all of them)."""
    items = list(reached)

    def parent_name(asset: AssetView) -> str | None:
        name = asset.attributes.get("tableQualifiedName") or asset.attributes.get("viewQualifiedName")
        return name if asset.type_name == "Column" and isinstance(name, str) else None

    wanted = list(dict.fromkeys(name for item in items if (name := parent_name(item.asset))))
    found = _lookup(engine, "qualifiedName", wanted)
    return [Reached(item.asset, item.depth, found.get(parent_name(item.asset) or "")) for item in items]


@dataclass(frozen=True, slots=True)
class ColumnLineage:
    """A column of a table or view, the columns it is computed from and those computed from it (one hop)."""

    column: AssetView
    sources: tuple[AssetView, ...]
    dependants: tuple[AssetView, ...]


def column_lineage(engine: Engine, table: AssetView, limit: int) -> tuple[list[ColumnLineage], int]:
    """The lineage of the first `limit` columns of `table` that have any, and how many have any in all."""
    query = Bool(filter=(Term("__parentQualifiedName", table.qualified_name), Term("__typeName.keyword", "Column"),
                         Term("__state", "ACTIVE"), Term("__hasLineage", True)))
    found = search_assets(engine, SearchRequest(size=limit, query=query))
    columns = sorted(found.assets, key=lambda column: (column.attributes.get("order") or 0, column.name))
    lineage = []
    for column in columns:
        sides = [lineage_list(engine, LineageQuery(column.guid, downstream, 1, size=COLUMN_FETCH, include=NOT_PROCESS))
                 for downstream in (False, True)]
        lineage.append(ColumnLineage(column, *(tuple(entity.asset for entity in side.entities) for side in sides)))
    return lineage, found.total
