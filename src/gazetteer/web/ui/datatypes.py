"""A column's nested type as the asset page shows it: the tree of `assets.datatypes.parse_type` as a flat list of
open/leaf/close events that a template walks with a plain for loop (no recursion, in Python or in Jinja).

What is presentation here: past `MAX_DEPTH` levels or `MAX_NODES` nodes the rest of a type is shown as its raw
text instead of being expanded further, so a page stays readable and cheap whatever the type.
"""

from __future__ import annotations

from dataclasses import dataclass

from gazetteer.assets.datatypes import TypeNode, parse_type

__all__ = ["TypeEvent", "type_events", "MAX_DEPTH", "MAX_NODES"]

MAX_DEPTH = 32
MAX_NODES = 2000


@dataclass(frozen=True)
class TypeEvent:
    """`open` (a container with children follows), `leaf`, `close` (end of the last open container), or
    `more` (the type has more nodes than are shown)."""

    action: str
    label: str | None = None
    text: str = ""
    kind: str = ""
    count: int = 0


def type_events(type_string: str, *, max_depth: int = MAX_DEPTH, max_nodes: int = MAX_NODES) -> list[TypeEvent]:
    """The tree of `type_string` as open/leaf/close events in document order (no recursion)."""
    root = parse_type(type_string)
    events: list[TypeEvent] = []
    # Each stack item: a node to emit, or None meaning "close the container opened before".
    stack: list[tuple[TypeNode | None, int]] = [(root, 0)]
    emitted = 0
    while stack:
        node, depth = stack.pop()
        if node is None:
            events.append(TypeEvent("close"))
            continue
        emitted += 1
        if emitted > max_nodes:
            if emitted == max_nodes + 1:
                events.append(TypeEvent("more"))
            continue
        # Only containers have children; a malformed type is one childless node holding its raw text.
        if node.children and depth < max_depth:
            events.append(TypeEvent("open", node.label, node.text, node.kind, len(node.children)))
            stack.append((None, depth))
            for child in reversed(node.children):
                stack.append((child, depth + 1))
        else:
            events.append(TypeEvent("leaf", node.label, node.text, node.kind, len(node.children)))
    return events
