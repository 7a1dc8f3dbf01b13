"""Walking lineage: the processes and assets upstream or downstream of an asset, nearest first.

What for: pyatlan's `client.asset.get_lineage_list` and `FluentLineage` (POST /api/meta/lineage/list), the UI's
Lineage tab and `gazetteer lineage`. The graph is Atlan's: assets linked through the processes (Process, and
ColumnProcess between columns) that read them (`inputs`) and write them (`outputs`); `lineage_edges` indexes
those references (migration 0013), so each hop is one statement for the whole frontier, whatever its size. The
walk reads narrow rows (names, types, stamps; attributes only when a filter names one) and whole assets only for
the page it answers and their neighbours.

Depth counts hops as Atlan does: depth 1 is the processes that read (downstream) or wrote (upstream) the
starting asset, and the assets on their other side. The walk stops as soon as it has the page asked for (plus
one, to tell whether there is more), so a deep request over a big graph costs what its page needs
(docs/design.md, Atlan contract §8).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from gazetteer.assets.lineage_filters import EntityFilter, Filters
from gazetteer.assets.views import AssetView, attributes_of
from gazetteer.errors import InvalidRequest, NotFound
from gazetteer.store.schema import assets, lineage_edges

__all__ = ["EntityFilter", "Filters", "LineageQuery", "LineageEntity", "LineagePage", "lineage_list", "MAX_WALK"]

# However deep a request goes, a walk visits at most this many entities (the answer then says there is more).
MAX_WALK = 20_000
_CHUNK = 2000
# What a hop reads of each process and asset it reaches: its identity and stamps. A filter on an attribute makes
# hops read the attributes too (`_WIDE`).
_NARROW = ("guid", "type_name", "qualified_name", "name", "status", "created_by", "updated_by", "created_at",
           "updated_at")
_WIDE = (*_NARROW, "attributes", "curated")


@dataclass(frozen=True, slots=True)
class LineageQuery:
    """What to walk: from the asset `guid`, `downstream` or up, at most `depth` hops; which entities to show
    (`include`), which ones the walk may pass (`traverse`, checked on assets, and `relationships`, checked on
    the processes that link them: beyond one that fails, nothing is reached through it); one page of the
    results (`offset`, `size`)."""

    guid: str
    downstream: bool = True
    depth: int = 1_000_000
    offset: int = 0
    size: int = 10
    include: Filters = Filters()
    traverse: Filters = Filters()
    relationships: Filters = Filters()


@dataclass(frozen=True, slots=True)
class LineageEntity:
    """An asset or process reached by the walk, its hop count from the start, and its neighbours in the walk
    (by qualified name) on the upstream and the downstream side."""

    asset: AssetView
    depth: int
    upstream: tuple[AssetView, ...] = ()
    downstream: tuple[AssetView, ...] = ()


@dataclass(frozen=True, slots=True)
class LineagePage:
    start: AssetView
    entities: tuple[LineageEntity, ...]
    has_more: bool


def _hop_statement(columns: Sequence[str]) -> sa.Select[Any]:
    """One hop for a whole frontier: its edges on the near side, their active processes, the edges on those
    processes' far side and the active assets there (a process may have none), as narrow rows."""
    near, process, far, asset = (lineage_edges.alias("near"), assets.alias("process"), lineage_edges.alias("far"),
                                 assets.alias("asset"))
    selected = [near.c.asset_qualified_name.label("frontier"),
                *(process.c[name].label(f"p_{name}") for name in columns),
                *(asset.c[name].label(f"a_{name}") for name in columns)]
    joined = (near.join(process, sa.and_(process.c.id == near.c.process_id, process.c.status == "ACTIVE"))
              .outerjoin(far, sa.and_(far.c.process_id == process.c.id, far.c.direction == sa.bindparam("far")))
              .outerjoin(asset, sa.and_(asset.c.qualified_name == far.c.asset_qualified_name,
                                        asset.c.status == "ACTIVE")))
    return sa.select(*selected).select_from(joined).where(
        near.c.asset_qualified_name.in_(sa.bindparam("frontier", expanding=True)),
        near.c.direction == sa.bindparam("near"))


# Built once: SQLAlchemy caches their compiled form, and the expanding parameter takes any frontier.
_HOPS = {wide: _hop_statement(_WIDE if wide else _NARROW) for wide in (False, True)}
_WHOLE = sa.select(assets, sa.literal(True).label("has_lineage")).where(
    assets.c.qualified_name.in_(sa.bindparam("names", expanding=True)))


def _view(row: Any, prefix: str, wide: bool) -> AssetView | None:
    """The asset a hop row holds under `prefix`: its identity (and its stamps and attributes when read)."""
    if getattr(row, prefix + "qualified_name") is None:
        return None
    values = {name: getattr(row, prefix + name) for name in _NARROW}
    raw = SimpleNamespace(**values, attributes=getattr(row, prefix + "attributes") if wide else None,
                          curated=getattr(row, prefix + "curated") if wide else None)
    return AssetView(values["guid"], values["type_name"], values["qualified_name"], values["name"], values["status"],
                     attributes_of(raw), values["created_by"], values["updated_by"], values["created_at"],
                     values["updated_at"])


@dataclass
class _Walk:
    query: LineageQuery
    wide: bool
    found: list[tuple[AssetView, int]] = field(default_factory=list)
    matched: int = 0
    seen: set[str] = field(default_factory=set)
    # (upstream qualified name, downstream qualified name) for each edge the walk followed.
    edges: list[tuple[str, str]] = field(default_factory=list)

    @property
    def enough(self) -> bool:
        return self.matched > self.query.offset + self.query.size or len(self.seen) > MAX_WALK

    def add(self, asset: AssetView, depth: int) -> None:
        self.seen.add(asset.qualified_name)
        self.found.append((asset, depth))
        self.matched += self.query.include.matches(asset)

    def rows(self, conn: Connection, frontier: Sequence[str], near: str, far: str) -> Iterator[Any]:
        statement = _HOPS[self.wide]
        for start in range(0, len(frontier), _CHUNK):
            yield from conn.execute(statement, {"frontier": list(frontier[start:start + _CHUNK]), "near": near,
                                                "far": far})

    def hop(self, conn: Connection, frontier: Sequence[str], level: int, downstream: bool) -> list[str]:
        """One hop from `frontier`; returns the assets reached for the first time (the next frontier)."""
        near, far = ("i", "o") if downstream else ("o", "i")
        query = self.query
        processes: dict[str, AssetView] = {}
        reached: dict[str, AssetView] = {}
        refused: set[str] = set()
        for row in self.rows(conn, frontier, near, far):
            process_qn = row.p_qualified_name
            if process_qn in self.seen or process_qn in refused:
                continue
            if process_qn not in processes:
                process = _view(row, "p_", self.wide)
                if process is None or not (query.relationships.matches(process) and query.traverse.matches(process)):
                    refused.add(process_qn)
                    continue
                processes[process_qn] = process
            self.edges.append((row.frontier, process_qn) if downstream else (process_qn, row.frontier))
            asset = _view(row, "a_", self.wide)
            if asset is not None:
                self.edges.append((process_qn, asset.qualified_name) if downstream
                                  else (asset.qualified_name, process_qn))
                reached.setdefault(asset.qualified_name, asset)
        for process in sorted(processes.values(), key=lambda view: (view.name, view.qualified_name)):
            self.add(process, level)
        frontier_next = []
        for asset in sorted(reached.values(), key=lambda view: (view.name, view.qualified_name)):
            if asset.qualified_name not in self.seen and query.traverse.matches(asset):
                self.add(asset, level)
                frontier_next.append(asset.qualified_name)
        return frontier_next


def lineage_list(engine: Engine, query: LineageQuery) -> LineagePage:
    """One page of the lineage of an asset, nearest first (per hop, processes before the assets they lead to)."""
    if query.depth < 1:
        raise InvalidRequest(f"malformed 'depth': {query.depth}; give 1 or more (1,000,000 for all)")
    filters = (query.include, query.traverse, query.relationships)
    walk = _Walk(query, wide=any(f.needs_attributes for f in filters))
    with engine.connect() as conn:
        row = conn.execute(sa.select(assets).where(assets.c.guid == query.guid)).first()
        if row is None:
            raise NotFound(f"Given instance guid {query.guid} is invalid/not found")
        start = AssetView.of(row)
        walk.seen.add(start.qualified_name)
        frontier, level = [start.qualified_name], 0
        while frontier and level < query.depth and not walk.enough:
            level += 1
            frontier = walk.hop(conn, frontier, level, query.downstream)
        shown = [(asset.qualified_name, depth) for asset, depth in walk.found if query.include.matches(asset)]
        page = shown[query.offset:query.offset + query.size]
        has_more = len(shown) > query.offset + query.size or len(walk.seen) > MAX_WALK
        on_page = {qualified_name for qualified_name, _ in page}
        upstream: dict[str, list[str]] = defaultdict(list)
        downstream: dict[str, list[str]] = defaultdict(list)
        for source, target in dict.fromkeys(walk.edges):
            if source in on_page or target in on_page:
                downstream[source].append(target)
                upstream[target].append(source)
        # Whole assets for the page; its neighbours are named as the walk read them (guid, type, name).
        wanted = sorted(on_page)
        whole: dict[str, AssetView] = {}
        for begin in range(0, len(wanted), _CHUNK):
            whole.update((r.qualified_name, AssetView.of(r))
                         for r in conn.execute(_WHOLE, {"names": wanted[begin:begin + _CHUNK]}))
    named = {start.qualified_name: start, **{asset.qualified_name: asset for asset, _ in walk.found}}
    entities = tuple(LineageEntity(whole[qn], depth, tuple(named[n] for n in upstream[qn] if n in named),
                                   tuple(named[n] for n in downstream[qn] if n in named))
                     for qn, depth in page if qn in whole)
    return LineagePage(start, entities, has_more)
