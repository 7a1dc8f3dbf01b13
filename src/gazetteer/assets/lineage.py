"""Walking lineage: the processes and assets upstream or downstream of an asset, nearest first.

What for: pyatlan's `client.asset.get_lineage_list` and `FluentLineage` (POST /api/meta/lineage/list), the UI's
Lineage tab and `gazetteer lineage`. The graph is Atlan's: assets linked through the processes (Process, and
ColumnProcess between columns) that read them (`inputs`) and write them (`outputs`); `lineage_edges` indexes
those references (migration 0013), so each hop is two indexed look-ups for the whole frontier, whatever its size.

Depth counts hops as Atlan does: depth 1 is the processes that read (downstream) or wrote (upstream) the
starting asset, and the assets on their other side. The walk stops as soon as it has the page asked for (plus
one, to tell whether there is more), so a deep request over a big graph costs what its page needs
(docs/design.md, Atlan contract §8).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from gazetteer.assets.search_fields import SUPER_TYPES
from gazetteer.assets.views import AssetView, epoch_ms
from gazetteer.errors import InvalidRequest, NotFound
from gazetteer.store.schema import assets, lineage_edges

__all__ = ["EntityFilter", "Filters", "LineageQuery", "LineageEntity", "LineagePage", "lineage_list",
           "MAX_WALK", "OPERATORS"]

# However deep a request goes, a walk visits at most this many entities (the answer then says there is more).
MAX_WALK = 20_000
_CHUNK = 2000
OPERATORS = frozenset({"=", "!=", "in", "like", "startsWith", "endsWith", "contains", "not_contains",
                       "containsAny", "containsAll", "isNull", "notNull", "notEmpty", "<", ">", "<=", ">="})


@dataclass(frozen=True, slots=True)
class EntityFilter:
    """One criterion of Atlan's lineage filters: an attribute (`__typeName`, `__state`, `name`, ...), an operator
    (Atlan's AtlanComparisonOperator values) and a value, always sent as text."""

    attribute: str
    operator: str
    value: str

    def matches(self, asset: AssetView) -> bool:
        actual = _value_of(asset, self.attribute)
        op, value = self.operator, self.value
        if op == "isNull":
            return actual in (None, "", [])
        if op in ("notNull", "notEmpty"):
            return actual not in (None, "", [])
        if isinstance(actual, (list, tuple, set, frozenset)):
            items = {str(item) for item in actual}
            wanted = {part.strip() for part in value.split(",") if part.strip()}
            if op in ("=", "contains", "containsAny", "in"):
                return bool(items & wanted) if op != "=" else value in items
            if op == "containsAll":
                return wanted <= items
            if op in ("!=", "not_contains"):
                return value not in items
            return False
        text = "" if actual is None else str(actual).lower() if isinstance(actual, bool) else str(actual)
        if op in ("<", ">", "<=", ">="):
            return _compare(actual, op, value)
        return _TEXT_OPS[op](text, value)


_TEXT_OPS: dict[str, Callable[[str, str], bool]] = {
    "=": lambda text, value: text == value,
    "!=": lambda text, value: text != value,
    "in": lambda text, value: text in {part.strip() for part in value.split(",")},
    "like": lambda text, value: _like(text, value),
    "startsWith": lambda text, value: text.startswith(value),
    "endsWith": lambda text, value: text.endswith(value),
    "contains": lambda text, value: value in text,
    "not_contains": lambda text, value: value not in text,
    "containsAny": lambda text, value: text in {part.strip() for part in value.split(",")},
    "containsAll": lambda text, value: text == value,
}


def _like(text: str, pattern: str) -> bool:
    """SQL LIKE without regular expressions (a crafted pattern cannot make it slow): `%` and `*` match anything."""
    parts = pattern.replace("*", "%").split("%")
    if len(parts) == 1:
        return text == pattern
    if not text.startswith(parts[0]) or not text.endswith(parts[-1]) or len(text) < len(parts[0]) + len(parts[-1]):
        return False
    position = len(parts[0])
    for part in parts[1:-1]:
        found = text.find(part, position, len(text) - len(parts[-1]))
        if found < 0:
            return False
        position = found + len(part)
    return True


def _compare(actual: Any, op: str, value: str) -> bool:
    try:
        left, right = float(actual), float(value)
    except (TypeError, ValueError):
        return False
    return {"<": left < right, ">": left > right, "<=": left <= right, ">=": left >= right}[op]


def _value_of(asset: AssetView, attribute: str) -> Any:
    special: dict[str, Any] = {
        "__typeName": asset.type_name, "__state": asset.status, "__guid": asset.guid,
        "__superTypeNames": SUPER_TYPES.get(asset.type_name, ()), "__createdBy": asset.created_by,
        "__modifiedBy": asset.updated_by, "__timestamp": epoch_ms(asset.created_at),
        "__modificationTimestamp": epoch_ms(asset.updated_at), "__hasLineage": True,
    }
    name = attribute.removesuffix(".keyword")
    return special[name] if name in special else asset.attributes.get(name)


@dataclass(frozen=True, slots=True)
class Filters:
    """A list of criteria that must all (AND) or any (OR) hold; an empty list holds for everything."""

    criteria: tuple[EntityFilter, ...] = ()
    any_of: bool = False

    def matches(self, asset: AssetView) -> bool:
        if not self.criteria:
            return True
        results = (criterion.matches(asset) for criterion in self.criteria)
        return any(results) if self.any_of else all(results)


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


@dataclass
class _Walk:
    query: LineageQuery
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


def lineage_list(engine: Engine, query: LineageQuery) -> LineagePage:
    """One page of the lineage of an asset, nearest first (processes before the assets they lead to)."""
    if query.depth < 1:
        raise InvalidRequest(f"malformed 'depth': {query.depth}; give 1 or more (1,000,000 for all)")
    with engine.connect() as conn:
        row = conn.execute(sa.select(assets).where(assets.c.guid == query.guid)).first()
        if row is None:
            raise NotFound(f"Given instance guid {query.guid} is invalid/not found")
        start = AssetView.of(row)
        walk = _Walk(query, seen={start.qualified_name})
        frontier = [start.qualified_name]
        near, far = ("i", "o") if query.downstream else ("o", "i")
        level = 0
        while frontier and level < query.depth and not walk.enough:
            level += 1
            frontier = _hop(conn, walk, frontier, level, near, far)
    shown = [(asset, depth) for asset, depth in walk.found if query.include.matches(asset)]
    page = shown[query.offset:query.offset + query.size]
    has_more = len(shown) > query.offset + query.size or len(walk.seen) > MAX_WALK
    known = {start.qualified_name: start, **{asset.qualified_name: asset for asset, _ in walk.found}}
    upstream: dict[str, list[AssetView]] = defaultdict(list)
    downstream: dict[str, list[AssetView]] = defaultdict(list)
    for source, target in dict.fromkeys(walk.edges):
        if source in known and target in known:
            downstream[source].append(known[target])
            upstream[target].append(known[source])
    entities = tuple(LineageEntity(asset, depth, tuple(upstream[asset.qualified_name]),
                                   tuple(downstream[asset.qualified_name])) for asset, depth in page)
    return LineagePage(start, entities, has_more)


def _hop(conn: Connection, walk: _Walk, frontier: Sequence[str], level: int, near: str, far: str) -> list[str]:
    """One hop from `frontier`: the processes on its `near` side, then the assets on their `far` side; returns
    the assets reached for the first time (the next frontier)."""
    touching = _edges(conn, lineage_edges.c.asset_qualified_name, frontier, near)
    query = walk.query
    processes = {row_id: view for row_id, view in _views(conn, assets.c.id, {pid for pid, _ in touching}).items()
                 if view.qualified_name not in walk.seen and query.relationships.matches(view)
                 and query.traverse.matches(view)}
    walk.edges.extend(_oriented(qn, processes[pid].qualified_name, near) for pid, qn in touching if pid in processes)
    for view in sorted(processes.values(), key=lambda view: (view.name, view.qualified_name)):
        walk.add(view, level)
    outward = _edges(conn, lineage_edges.c.process_id, list(processes), far)
    reached = {view.qualified_name: view
               for view in _views(conn, assets.c.qualified_name, {qn for _, qn in outward}).values()}
    walk.edges.extend(_oriented(qn, processes[pid].qualified_name, far) for pid, qn in outward if qn in reached)
    frontier_next = []
    for view in sorted(reached.values(), key=lambda view: (view.name, view.qualified_name)):
        if view.qualified_name not in walk.seen and query.traverse.matches(view):
            walk.add(view, level)
            frontier_next.append(view.qualified_name)
    return frontier_next


def _oriented(asset: str, process: str, side: str) -> tuple[str, str]:
    """The edge between an asset and a process, upstream end first."""
    return (asset, process) if side == "i" else (process, asset)


def _edges(conn: Connection, column: Any, values: Iterable[Any], direction: str) -> list[tuple[int, str]]:
    """(process id, asset qualified name) of the edges in `direction` whose `column` is among `values`."""
    values = list(values)
    found: list[tuple[int, str]] = []
    for start in range(0, len(values), _CHUNK):
        query = sa.select(lineage_edges.c.process_id, lineage_edges.c.asset_qualified_name).where(
            column.in_(values[start:start + _CHUNK]), lineage_edges.c.direction == direction)
        found.extend((row.process_id, row.asset_qualified_name) for row in conn.execute(query))
    return found


def _views(conn: Connection, column: Any, values: Iterable[Any]) -> dict[Any, AssetView]:
    """The active assets whose `column` is among `values`, by that value."""
    values = list(values)
    found: dict[Any, AssetView] = {}
    key = column.key
    for start in range(0, len(values), _CHUNK):
        # Everything a walk reaches has lineage: no need to look it up again.
        query = sa.select(assets, sa.literal(True).label("has_lineage")).where(
            column.in_(values[start:start + _CHUNK]), assets.c.status == "ACTIVE")
        found.update((getattr(row, key), AssetView.of(row)) for row in conn.execute(query))
    return found

