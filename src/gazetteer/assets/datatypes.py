"""Column type strings: Hive (struct<...>, array<...>, map<...>, uniontype<...>) and Presto/Trino (row(...),
array(...), map(...)), normalised, tested for nesting and parsed into a tree.

Why here, in the core and not in the Glue package or the web UI: a Column's `dataType` is the catalog's,
whoever wrote it (a Glue crawl, or pyatlan through the API), and both the crawl (`isNested`, the nested Column
assets of `nested_fields`) and the asset page (the expandable tree, linking the same nested columns) must read it
by one rule. Athena views keep Presto types in Glue, so both syntaxes are
nested for both. Glue-only matters (storage formats, Spark schemas in table parameters) stay in
`packages.glue.types`.

Type strings run up to 131,072 characters and nest without limit (docs/design.md, Glue facts §9; nested STRUCTs are what
crash other crawlers, OpenMetadata#26129), so everything here is a regex scan or a loop over one explicit
stack, never recursion.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, field
from typing import cast

__all__ = ["FIELD_KINDS", "ITEMS", "VALUES", "NestedField", "TypeNode", "field_segment", "is_nested",
           "nested_fields", "normalise_type", "parse_type"]

_BETWEEN_WORDS = re.compile(r"(?<=\w)\s+(?=\w)")
_NOT_BETWEEN_WORDS = re.compile(r"(?<!\w)\s+|\s+(?!\w)")
_HIVE_CONTAINERS = ("struct", "array", "map", "uniontype")  # kind<...>
_PRESTO_OPEN = re.compile(r"\s*(row|array|map)\s*\(", re.IGNORECASE)  # kind(...)
_NESTED = re.compile(r"\s*(?:(?:struct|array|map|uniontype)\s*<|(?:row|array|map)\s*\()", re.IGNORECASE)
# A Presto row field's unquoted name: a word followed by whitespace and then more type. Without that it is an
# anonymous field's type (`row(int, varchar)`); an anonymous multi-word type (`row(double precision)`) reads as
# a field named `double`, as Trino's own row types always name their fields.
_ROW_FIELD_NAME = re.compile(r"\s*([^\s,()<>\"`:]+)\s+(?=[^\s,)])")


@dataclass
class TypeNode:
    """One type in the tree: a container (`kind` struct/array/map/uniontype/row) or a primitive (`kind` '')."""

    label: str | None  # the field's name, or "element" / "key" / "value" / "member N"; None if unnamed
    text: str  # the type's own text (the whole substring for containers)
    kind: str = ""
    children: list[TypeNode] = field(default_factory=list)
    start: int = 0


class _Malformed(ValueError):
    pass


# Atlan's qualified-name segments for what an array holds and what a map maps to: a field of a struct inside
# them is `<column>/items/<field>`, `<column>/values/<field>` (docs/design.md, Atlan contract §7).
ITEMS = "items"
VALUES = "values"
FIELD_KINDS = ("struct", "row")  # the containers whose members are fields, with names


@dataclass(frozen=True)
class NestedField:
    """A field inside a column's type that is a column of its own in Atlan's model: a struct or row field,
    however deep it sits in arrays and maps."""

    path: tuple[str, ...]  # the qualified-name segments below the top-level column (`field_segment`)
    name: str
    data_type: str
    depth: int  # 1 for a field of the top-level column, 2 for a field of one of those...
    order: int  # its position among the nested fields of its parent, from 1
    parent: int | None  # the index, in the same list, of the field it is nested in; None: the top-level column


def field_segment(parent: TypeNode, index: int) -> str | None:
    """The qualified-name segment from `parent` down to its child `index`: a struct or row field's name, `items`
    into an array's elements, `values` into a map's values; None where no nested column lies below (a map's
    keys, Atlan's model has none; a union's members; an anonymous row field, which has no name to go by)."""
    if parent.kind in FIELD_KINDS:
        return parent.children[index].label
    if parent.kind == "array":
        return ITEMS
    return VALUES if parent.kind == "map" and index == 1 else None


def _fields_of(node: TypeNode, path: tuple[str, ...]) -> tuple[TypeNode, tuple[str, ...]] | None:
    """The struct or row whose fields are the nested columns of a column or field typed `node`, through any
    arrays and map values, with the path down to it; None when there is none."""
    while node.kind in ("array", "map"):
        index = 0 if node.kind == "array" else 1
        if len(node.children) <= index:
            return None
        path += (cast(str, field_segment(node, index)),)  # an array's elements and a map's values have one
        node = node.children[index]
    return (node, path) if node.kind in FIELD_KINDS else None


def nested_fields(type_string: str, *, max_depth: int, limit: int) -> tuple[list[NestedField], bool]:
    """The fields of a column typed `type_string` that are nested columns, at most `max_depth` deep and `limit`
    of them, and whether `limit` left some out. Breadth first: a limit cuts the deepest fields, never a parent
    of a field it keeps; parents come before their fields."""
    found: list[NestedField] = []
    # Each: a column or field, its path, its index in `found` (None: the column) and its depth (0: the column).
    owners: deque[tuple[TypeNode, tuple[str, ...], int | None, int]] = deque([(parse_type(type_string), (), None, 0)])
    while owners:
        owner, path, parent, depth = owners.popleft()
        reached = _fields_of(owner, path) if depth < max_depth else None
        if reached is None:
            continue
        struct, at = reached
        named = [(child, field_segment(struct, index)) for index, child in enumerate(struct.children)]
        for order, (child, name) in enumerate([(c, n) for c, n in named if n is not None], start=1):
            if len(found) == limit:
                return found, True
            found.append(NestedField(at + (name,), name, child.text, depth + 1, order, parent))
            owners.append((child, at + (name,), len(found) - 1, depth + 1))
    return found, False


def normalise_type(raw: str) -> str:
    """`raw` without whitespace outside backtick-quoted names: 'array < int >' -> 'array<int>'.

    Glue accepts spaces anywhere in a type (datahub#6157); inside backticks they belong to a field name.
    A run of whitespace between two word characters becomes one space instead of vanishing, because
    there it is part of the type: `double precision`, `timestamp with local time zone`, Presto's
    `row(a varchar)`.
    """
    if "`" not in raw:
        return _squeeze(raw)
    # Splitting on backticks leaves the quoted names at the odd positions. An escaped backtick (``)
    # yields an empty even segment, so it needs no special case.
    parts = raw.split("`")
    for index in range(0, len(parts), 2):
        parts[index] = _squeeze(parts[index])
    return "`".join(parts).strip()


def _squeeze(text: str) -> str:
    # Both passes are single regex scans, linear in the length of the text.
    text = _BETWEEN_WORDS.sub(" ", text)
    return _NOT_BETWEEN_WORDS.sub("", text)


def is_nested(type_string: str | None) -> bool:
    """Whether a type string is a complex type: Hive struct/array/map/uniontype<...> or Presto row/array/map(...).

    A prefix test, so a long or malformed type costs nothing: what `parse_type` would make of the rest does
    not change that the column holds a complex value.
    """
    return bool(_NESTED.match(type_string or ""))


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


def _skip_space(text: str, i: int) -> int:
    while i < len(text) and text[i].isspace():
        i += 1
    return i


def _read_quoted(text: str, i: int) -> tuple[str, int]:
    """A name quoted by the character at `i` (` in Hive, " in Presto), which doubles to stand for itself."""
    quote, i = text[i], i + 1
    name: list[str] = []
    while True:
        if i >= len(text):
            raise _Malformed(i)
        if text[i] == quote:
            if not text.startswith(quote * 2, i):
                return "".join(name), i + 1
            i += 1
        name.append(text[i])
        i += 1


def _read_word(text: str, i: int) -> tuple[str, int]:
    """A primitive type or a Hive container keyword, with (...) parameters such as decimal(12,2) kept whole.

    An unmatched ')' ends the word: it closes the Presto container the word is the last member of.
    """
    start, depth = i, 0
    while i < len(text):
        char = text[i]
        if char == "(":
            depth += 1
        elif char == ")":
            if not depth:
                break
            depth -= 1
        elif depth == 0 and char in "<>,:":
            break
        i += 1
    if depth:
        raise _Malformed(i)
    return text[start:i].strip(), i


def _read_struct_field_name(text: str, i: int) -> tuple[str, int]:
    """A Hive struct field's name up to its ':'; `quoted names` may hold any character."""
    i = _skip_space(text, i)
    if text.startswith("`", i):
        name, i = _read_quoted(text, i)
        i = _skip_space(text, i)
        if not text.startswith(":", i):
            raise _Malformed(i)
        return name, i + 1
    end = text.find(":", i)
    if end < 0 or any(c in text[i:end] for c in "<>,"):
        raise _Malformed(i)
    return text[i:end].strip(), end + 1


def _read_row_field_name(text: str, i: int) -> tuple[str | None, int]:
    """A Presto row field's name before its type, or None where the field is anonymous; "quoted names" may
    hold any character."""
    i = _skip_space(text, i)
    if text.startswith('"', i):
        return _read_quoted(text, i)
    match = _ROW_FIELD_NAME.match(text, i)
    return (match.group(1), match.end()) if match else (None, i)


def _child_label(parent: TypeNode) -> str | None:
    if parent.kind == "array":
        return "element"
    if parent.kind == "map":
        return ("key", "value")[min(len(parent.children), 1)]
    if parent.kind == "uniontype":
        return f"member {len(parent.children) + 1}"
    return None


def _parse_into(text: str, root: TypeNode) -> None:
    # Each open container with the character that closes it: '>' in Hive, ')' in Presto.
    stack: list[tuple[TypeNode, str]] = [(root, "")]
    i, expecting_type = 0, True
    while True:
        parent, closing = stack[-1]
        if expecting_type:
            label: str | None
            if parent.kind == "struct":
                label, i = _read_struct_field_name(text, i)
            elif parent.kind == "row":
                label, i = _read_row_field_name(text, i)
            else:
                label = _child_label(parent)
            start = i
            presto = _PRESTO_OPEN.match(text, i)
            if presto:
                node = TypeNode(label, "", kind=presto.group(1).lower(), start=start)
                parent.children.append(node)
                stack.append((node, ")"))
                i = presto.end()
                continue  # expecting the container's first member
            word, i = _read_word(text, i)
            if not word:
                raise _Malformed(i)
            if text.startswith("<", i):
                kind = word.lower()
                if kind not in _HIVE_CONTAINERS:
                    raise _Malformed(i)
                node = TypeNode(label, "", kind=kind, start=start)
                parent.children.append(node)
                stack.append((node, ">"))
                i += 1
                continue  # expecting the container's first member
            parent.children.append(TypeNode(label, word, start=start))
            expecting_type = False
            continue
        # After a complete type: a separator, the end of a container, or the end of the text.
        i = _skip_space(text, i)
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
        elif char == closing:
            if parent.kind == "map" and len(parent.children) != 2:
                raise _Malformed(i)
            i += 1
            parent.text = text[parent.start:i].strip()
            stack.pop()
        else:
            raise _Malformed(i)
