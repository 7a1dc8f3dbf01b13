"""Glue/Hive type strings (struct<...>, array<...>, map<...>, uniontype<...>) as a tree the asset page expands.

What for: a column's nested type shown field by field. Type strings run up to 131,072 characters and nest
without limit, so parsing is a loop over one explicit stack (no recursion), and rendering is a flat list of
open/leaf/close events that a template walks with a plain for loop. Past `MAX_DEPTH` levels or `MAX_NODES`
nodes the rest of a type is shown as its raw text instead of being expanded further.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["TypeNode", "TypeEvent", "parse_type", "type_events", "is_nested", "MAX_DEPTH", "MAX_NODES"]

MAX_DEPTH = 32
MAX_NODES = 2000
_CONTAINERS = ("struct", "array", "map", "uniontype")


@dataclass
class TypeNode:
    """One type in the tree: a container (`kind` struct/array/map/uniontype) or a primitive (`kind` '')."""

    label: str | None  # the struct field's name, or "element" / "key" / "value" / "member N"
    text: str  # the type's own text (the whole substring for containers)
    kind: str = ""
    children: list[TypeNode] = field(default_factory=list)
    start: int = 0


@dataclass(frozen=True)
class TypeEvent:
    """`open` (a container with children follows), `leaf`, `close` (end of the last open container), or
    `more` (the type has more nodes than are shown)."""

    action: str
    label: str | None = None
    text: str = ""
    kind: str = ""
    count: int = 0


class _Malformed(ValueError):
    pass


def is_nested(type_string: str | None) -> bool:
    text = (type_string or "").lstrip().lower()
    return any(text.startswith(kind + "<") for kind in _CONTAINERS)


def _read_word(text: str, i: int) -> tuple[str, int]:
    """A primitive type or a container keyword, with (...) parameters such as decimal(12,2) kept whole."""
    start, depth = i, 0
    while i < len(text):
        char = text[i]
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth < 0:
                raise _Malformed(i)
        elif depth == 0 and char in "<>,:":
            break
        i += 1
    if depth:
        raise _Malformed(i)
    return text[start:i].strip(), i


def _read_field_name(text: str, i: int) -> tuple[str, int]:
    """A struct field's name up to its ':'; `quoted names` may hold any character (`` doubles a backtick)."""
    while i < len(text) and text[i].isspace():
        i += 1
    if i < len(text) and text[i] == "`":
        i += 1
        name = []
        while True:
            if i >= len(text):
                raise _Malformed(i)
            if text[i] == "`":
                if text.startswith("``", i):
                    name.append("`")
                    i += 2
                    continue
                i += 1
                break
            name.append(text[i])
            i += 1
        while i < len(text) and text[i].isspace():
            i += 1
        if i >= len(text) or text[i] != ":":
            raise _Malformed(i)
        return "".join(name), i + 1
    end = text.find(":", i)
    if end < 0 or any(c in text[i:end] for c in "<>,"):
        raise _Malformed(i)
    return text[i:end].strip(), end + 1


def _child_label(parent: TypeNode) -> str | None:
    if parent.kind == "array":
        return "element"
    if parent.kind == "map":
        return ("key", "value")[min(len(parent.children), 1)]
    if parent.kind == "uniontype":
        return f"member {len(parent.children) + 1}"
    return None


def parse_type(type_string: str) -> TypeNode:
    """The tree of a type string; a malformed string is one primitive node holding the raw text."""
    text = type_string or ""
    root = TypeNode(None, "", kind="root")
    try:
        _parse_into(text, root)
    except _Malformed:
        return TypeNode(None, text)
    if len(root.children) != 1:
        return TypeNode(None, text)
    return root.children[0]


def _parse_into(text: str, root: TypeNode) -> None:
    stack: list[TypeNode] = [root]
    i, expecting_type = 0, True
    pending_label: str | None = None
    while True:
        parent = stack[-1]
        if expecting_type:
            if parent.kind == "struct" and pending_label is None:
                pending_label, i = _read_field_name(text, i)
                continue
            label = pending_label if parent.kind == "struct" else _child_label(parent)
            pending_label = None
            start = i
            word, i = _read_word(text, i)
            if not word:
                raise _Malformed(i)
            if i < len(text) and text[i] == "<":
                kind = word.lower()
                if kind not in _CONTAINERS:
                    raise _Malformed(i)
                node = TypeNode(label, "", kind=kind, start=start)
                parent.children.append(node)
                stack.append(node)
                i += 1
                continue  # expecting the container's first member
            parent.children.append(TypeNode(label, word, start=start))
            expecting_type = False
            continue
        # After a complete type: a separator, the end of a container, or the end of the text.
        while i < len(text) and text[i].isspace():
            i += 1
        if parent is root:
            if i != len(text):
                raise _Malformed(i)
            return
        if i >= len(text):
            raise _Malformed(i)
        char = text[i]
        if char == ",":
            if parent.kind == "array" or (parent.kind == "map" and len(parent.children) >= 2):
                raise _Malformed(i)
            i += 1
            expecting_type = True
        elif char == ">":
            if not parent.children or (parent.kind == "map" and len(parent.children) != 2):
                raise _Malformed(i)
            i += 1
            parent.text = text[parent.start:i].strip()
            stack.pop()
        else:
            raise _Malformed(i)


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
        expandable = node.kind in _CONTAINERS and node.children
        if expandable and depth < max_depth:
            events.append(TypeEvent("open", node.label, node.text, node.kind, len(node.children)))
            stack.append((None, depth))
            for child in reversed(node.children):
                stack.append((child, depth + 1))
        else:
            events.append(TypeEvent("leaf", node.label, node.text, node.kind, len(node.children)))
    return events
