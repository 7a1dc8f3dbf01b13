"""The Lineage tab's graph, laid out on the server: nodes in columns ("slots"), edges as curves, in SVG units.

What for: the graph must be in the page without JavaScript, so its geometry is computed here and the template
only draws it. Slot 0 is the middle (the asset whose tab it is, or a table's columns); upstream slots are
negative, downstream ones positive; processes get their own, narrower slots between the assets they link.
Within a slot, nodes follow the mean position of their neighbours one slot nearer the middle, which keeps
most edges from crossing without a real layout engine.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from gazetteer.assets.records import LINEAGE_TYPES
from gazetteer.assets.views import AssetView

__all__ = ["GraphNode", "Graph", "Placed", "layout", "where_of", "dotted_name", "is_process"]

_ASSET = (184, 46)  # width, height of an asset's box
_PROCESS = (156, 26)
_GAP_X, _GAP_Y, _PAD = 44, 12, 10
# A short slot is centred against the tallest, but never pushed further down than this: with hundreds of
# nodes downstream, the middle stays at the top of the graph rather than thousands of pixels down.
_MAX_OFFSET = 160
# What fits in a box at the stylesheet's font sizes (13 px for names, 11 px for the line below and processes).
_NAME_CHARS, _DETAIL_CHARS, _PROCESS_CHARS = 23, 28, 23


def is_process(asset: AssetView) -> bool:
    return asset.type_name in LINEAGE_TYPES


def where_of(asset: AssetView) -> str:
    """Where an asset lives, as people name it: a table's schema, a column's table, an S3 object's bucket."""
    attributes = asset.attributes
    if asset.type_name == "Column":
        table = attributes.get("tableName") or attributes.get("viewName")
        return ".".join(str(part) for part in (attributes.get("schemaName"), table) if part)
    if asset.type_name in ("Table", "View"):
        return str(attributes.get("schemaName") or "")
    if asset.type_name == "S3Object":
        return str(attributes.get("s3BucketName") or "")
    return ""


def dotted_name(asset: AssetView) -> str:
    """`sales.orders`, `analytics.customer_orders.revenue`, `s3://lake/sales/orders`: unambiguous in a list."""
    attributes = asset.attributes
    if asset.type_name == "S3Object" and attributes.get("s3BucketName") and attributes.get("s3ObjectKey"):
        return f"s3://{attributes['s3BucketName']}/{attributes['s3ObjectKey']}"
    where = where_of(asset)
    return f"{where}.{asset.name}" if where and asset.type_name != "S3Object" else asset.name


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


@dataclass(frozen=True, slots=True)
class Placed:
    """A node to lay out: its asset, its slot, and whether it is the middle of the graph."""

    asset: AssetView
    slot: int
    center: bool = False


@dataclass(frozen=True, slots=True)
class GraphNode:
    asset: AssetView
    slot: int
    center: bool
    process: bool
    x: int
    y: int
    width: int
    height: int
    label: str  # the name, clipped to fit
    detail: str  # type and place (assets only), clipped
    title: str  # everything, unclipped: the tooltip and the link's accessible name


@dataclass(frozen=True, slots=True)
class Graph:
    nodes: tuple[GraphNode, ...]
    edges: tuple[str, ...]  # SVG path data, upstream end first (the arrow marks the downstream end)
    width: int
    height: int
    center_x: int  # where the middle is, to scroll a narrow screen to it


def _node_text(asset: AssetView, process: bool, side: str) -> tuple[str, str, str]:
    where = where_of(asset)
    kind = f"{asset.type_name} in {where}" if where else asset.type_name
    title = f"{asset.name} ({kind}){side}"
    if process:
        return _clip(asset.name, _PROCESS_CHARS), "", title
    # A column's table says what it is; other assets say their type, then where they are.
    detail = where if asset.type_name == "Column" and where else f"{asset.type_name} · {where}" if where \
        else asset.type_name
    return _clip(asset.name, _NAME_CHARS), _clip(detail, _DETAIL_CHARS), title


def _side(slot: int) -> str:
    return "" if slot == 0 else f", {'upstream' if slot < 0 else 'downstream'}"


def _ordered(nodes: Sequence[Placed], edges: Iterable[tuple[str, str]]) -> dict[int, list[Placed]]:
    """The nodes of each slot, top to bottom: the middle as given, then outwards by their inner neighbours."""
    slots: dict[int, list[Placed]] = defaultdict(list)
    for node in nodes:
        slots[node.slot].append(node)
    neighbours: dict[str, set[str]] = defaultdict(set)
    for source, target in edges:
        neighbours[source].add(target)
        neighbours[target].add(source)
    row: dict[str, float] = {node.asset.qualified_name: index for index, node in enumerate(slots.get(0, []))}
    for direction in (1, -1):
        slot = direction
        while slot in slots:
            inner = {node.asset.qualified_name: row[node.asset.qualified_name] for node in slots[slot - direction]}

            def mean(node: Placed, inner: dict[str, float] = inner) -> float:
                near = [inner[key] for key in neighbours[node.asset.qualified_name] if key in inner]
                return sum(near) / len(near) if near else float("inf")

            slots[slot].sort(key=mean)  # stable: nodes without inner neighbours keep the walk's order
            row.update((node.asset.qualified_name, index) for index, node in enumerate(slots[slot]))
            slot += direction
    return slots


def layout(nodes: Sequence[Placed], edges: Iterable[tuple[str, str]]) -> Graph:
    """Positions for `nodes` and curves for `edges` (pairs of qualified names, upstream first; those whose ends
    are not both among `nodes` are left out)."""
    edges = list(dict.fromkeys(edges))
    slots = _ordered(nodes, edges)
    sizes = {slot: _PROCESS if all(is_process(n.asset) and not n.center for n in members) else _ASSET
             for slot, members in slots.items()}
    heights = {slot: len(members) * (sizes[slot][1] + _GAP_Y) - _GAP_Y for slot, members in slots.items()}
    height = max(heights.values(), default=0) + 2 * _PAD
    placed: dict[str, GraphNode] = {}
    x = _PAD
    for slot in sorted(slots):
        width, box = sizes[slot]
        y = _PAD + min((height - 2 * _PAD - heights[slot]) // 2, _MAX_OFFSET)
        for node in slots[slot]:
            process = is_process(node.asset) and not node.center
            label, detail, title = _node_text(node.asset, process, _side(slot))
            placed[node.asset.qualified_name] = GraphNode(node.asset, slot, node.center, process, x, y, width, box,
                                                          label, detail, title)
            y += box + _GAP_Y
        x += width + _GAP_X
    paths = tuple(_curve(placed[source], placed[target]) for source, target in edges
                  if source in placed and target in placed and source != target)
    middle = next((node for node in placed.values() if node.slot == 0), None)
    center_x = middle.x + middle.width // 2 if middle else 0
    return Graph(tuple(placed.values()), paths, max(x - _GAP_X + _PAD, 0), height, center_x)


def _curve(source: GraphNode, target: GraphNode) -> str:
    """From the right edge of `source` to the left edge of `target` (an arrow marker ends it)."""
    x1, y1 = source.x + source.width, source.y + source.height // 2
    x2, y2 = target.x - 2, target.y + target.height // 2  # stop short: the arrowhead ends at the box
    bend = max(abs(x2 - x1) // 2, 24)
    return f"M{x1},{y1} C{x1 + bend},{y1} {x2 - bend},{y2} {x2},{y2}"
