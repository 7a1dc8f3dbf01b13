"""A column's nested type as the asset page shows it: the tree of `assets.datatypes.parse_type` as a flat list of
open/leaf/close events that a template walks with a plain for loop (no recursion, in Python or in Jinja).

Each struct or row field carries its path below the column (`assets.datatypes.field_segment`, the rule the crawl
names its nested Column assets by), so the page links exactly the fields the crawl made assets of.

What is presentation here: past `MAX_DEPTH` levels or `MAX_NODES` nodes the rest of a type is shown as its raw
text instead of being expanded further, so a page stays readable and cheap whatever the type.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from gazetteer.assets.datatypes import FIELD_KINDS, TypeNode, field_segment, parse_type

__all__ = ["TypeEvent", "type_events", "linked_type_events", "MAX_DEPTH", "MAX_NODES"]

MAX_DEPTH = 32
MAX_NODES = 2000


@dataclass(frozen=True)
class TypeEvent:
    """`open` (a container with children follows), `leaf`, `close` (end of the last open container), or
    `more` (the type has more nodes than are shown). `path` is a field's qualified-name segments below the
    column (None for anything that is not a field, or lies below a map's key or a union's member); `guid` the
    nested Column asset of that field, where the catalog has one (`linked_type_events`)."""

    action: str
    label: str | None = None
    text: str = ""
    kind: str = ""
    count: int = 0
    path: tuple[str, ...] | None = None
    guid: str | None = None


def type_events(type_string: str, *, max_depth: int = MAX_DEPTH, max_nodes: int = MAX_NODES) -> list[TypeEvent]:
    """The tree of `type_string` as open/leaf/close events in document order (no recursion)."""
    root = parse_type(type_string)
    events: list[TypeEvent] = []
    # Each stack item: a node to emit with its depth, its path below the column and whether it is a field;
    # or None meaning "close the container opened before".
    stack: list[tuple[TypeNode, int, tuple[str, ...] | None, bool] | None] = [(root, 0, (), False)]
    emitted = 0
    while stack:
        item = stack.pop()
        if item is None:
            events.append(TypeEvent("close"))
            continue
        node, depth, path, is_field = item
        emitted += 1
        if emitted > max_nodes:
            if emitted == max_nodes + 1:
                events.append(TypeEvent("more"))
            continue
        shown = path if is_field else None
        # Only containers have children; a malformed type is one childless node holding its raw text.
        if node.children and depth < max_depth:
            events.append(TypeEvent("open", node.label, node.text, node.kind, len(node.children), shown))
            stack.append(None)
            for index in reversed(range(len(node.children))):
                segment = field_segment(node, index)
                below = path + (segment,) if path is not None and segment is not None else None
                stack.append((node.children[index], depth + 1, below, node.kind in FIELD_KINDS))
        else:
            events.append(TypeEvent("leaf", node.label, node.text, node.kind, len(node.children), shown))
    return events


def linked_type_events(type_string: str, column: str, guids: Mapping[str, str]) -> list[TypeEvent]:
    """`type_events` of the column `column` (its qualified name), each field linked to its nested Column asset
    among `guids` (by qualified name) when there is one."""
    return [replace(event, guid=guids.get(f"{column}/{'/'.join(event.path)}")) if event.path else event
            for event in type_events(type_string)]
