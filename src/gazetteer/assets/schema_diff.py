"""How a Glue table's or view's schema changed between two crawls, and whether each change is breaking.

What for: a crawl's history records, for every table and view it saw change, what changed in the lake and
whether that breaks someone downstream (the README describes the history). Everything here is a pure function
over what two crawls recorded: the top-level Column assets of a table (as `ColumnShape`s), a view's SQL, and
what depends on a dropped table. A nested field's change shows as its column's type change: the column's type
string holds every field, however deep.

A change is a JSON-able dict `{"change", "column", "old", "new", "breaking", "why"}`; `column`, `old` and `new`
are left out when None, and `why` is one plain sentence for the people reading the history.

"Breaking" means that a query or job that worked against the old schema may fail or read different values
against the new one. Readers of Parquet through Athena and Spark match columns and struct fields by name, so a
column moving breaks only a table read by position (`positional`: CSV and other delimited text, and ORC, which
Athena reads by position unless `orc.column.index.access` is false). Readers accept a value type only growing
wider, so a widening is safe:

    tinyint -> smallint -> int -> bigint         any step up
    tinyint, smallint, int -> double             exact: every such value fits double's 53-bit mantissa
    float -> double
    decimal(p,s) -> decimal(p2,s2)               s2 >= s and p2 - s2 >= p - s (no fewer fraction or integer digits)
    char(n), varchar(n) -> varchar(m)            m >= n
    char, varchar, string -> string, varchar     unbounded
    char(n) -> char(n)                           only the same length: CHAR pads its values to it
    array, map, struct                           element by element; a struct may gain fields anywhere

Everything else is breaking: a narrowing, bigint -> double (large values round), date -> timestamp, a struct
losing or renaming a field, and a type gazetteer does not know, where it cannot tell.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from gazetteer.assets.datatypes import FIELD_KINDS, TypeNode, normalise_type, parse_type

__all__ = ["CHANGE_KINDS", "ColumnShape", "column_changes", "inputs_gone", "ordered", "table_dropped",
           "type_change", "view_sql_changed"]

CHANGE_KINDS = ("column_added", "column_dropped", "type_changed", "column_moved", "description_changed",
                "partition_keys_changed", "view_sql_changed", "table_dropped", "inputs_gone")

_INTEGERS = ("tinyint", "smallint", "int", "bigint")  # narrowest first
# bigint is missing on purpose: past 2**53 a double rounds it, so the values read back differ.
_EXACT_IN_DOUBLE = frozenset({"tinyint", "smallint", "int"})
_TEXT = frozenset({"char", "varchar", "string"})
_KNOWN = frozenset({*_INTEGERS, *_TEXT, "float", "double", "decimal", "boolean", "binary", "date", "timestamp"})
# How many (...) parameters a known type may carry; a type with more, or with some where none belong
# (timestamp(3)), is one gazetteer does not know.
_PARAMETERS = {"decimal": 2, "char": 1, "varchar": 1}
# Athena views keep Presto spellings of the same types.
_ALIASES = {"integer": "int", "real": "float", "double precision": "double"}
_PRIMITIVE = re.compile(r"([a-z][a-z ]*?)(?:\((\d+)(?:,(\d+))?\))?")
# Hive's DECIMAL without parameters is DECIMAL(10,0); DECIMAL(p) is DECIMAL(p,0).
_DEFAULT_PRECISION = 10
_UNRECORDED = "an unrecorded type"


@dataclass(frozen=True, slots=True)
class ColumnShape:
    """What a crawl recorded of one column that a schema change is made of."""

    name: str
    data_type: str | None
    order: int | None
    is_partition: bool
    partition_order: int | None
    description: str | None

    @classmethod
    def of(cls, name: str, attributes: Mapping[str, Any]) -> ColumnShape:
        """From a Column asset's attributes (`dataType`, `order`, `isPartition`, `partitionOrder`, `description`)."""
        return cls(
            name=name,
            data_type=_text(attributes.get("dataType")),
            order=_number(attributes.get("order")),
            is_partition=attributes.get("isPartition") is True,
            partition_order=_number(attributes.get("partitionOrder")),
            description=_text(attributes.get("description")),
        )

    def snapshot(self) -> dict[str, Any]:
        """What a history keeps of the column: its attributes as the Column asset names them, None left out."""
        values = {"dataType": self.data_type, "order": self.order, "isPartition": self.is_partition,
                  "partitionOrder": self.partition_order, "description": self.description}
        return {key: value for key, value in values.items() if value is not None}

    @classmethod
    def from_snapshot(cls, name: str, snapshot: Mapping[str, Any]) -> ColumnShape:
        # A snapshot uses the Column asset's attribute names, so reading one back is reading attributes.
        return cls.of(name, snapshot)


def column_changes(
    old: Mapping[str, ColumnShape], new: Mapping[str, ColumnShape], *, positional: bool = False
) -> list[dict[str, Any]]:
    """The changes from one crawl's columns of a table to the next one's, keyed by column name; `ordered`.

    Names compare case-insensitively, as Glue lower-cases them. `positional`: the table's files are read by
    position (CSV and other delimited text; ORC by default), so a column moving breaks its readers.
    """
    before, after = _keyed(old), _keyed(new)
    was, now = _positions(before), _positions(after)
    found: list[tuple[int, dict[str, Any]]] = []  # with the column's position, to list them in column order
    found.extend((now[key], _added(after[key])) for key in now if key not in was)
    for key in was:
        if key not in now:
            found.append((was[key], _dropped(before[key])))
        else:
            found.extend((now[key], change) for change in _altered(before[key], after[key]))
    found.extend(_moves(before, after, was, now, positional))
    found.sort(key=lambda item: item[0])
    keys_changed = _partition_keys_changed(before, after)
    return ordered(([keys_changed] if keys_changed else []) + [change for _, change in found])


def type_change(old: str | None, new: str | None) -> tuple[bool, str]:
    """Whether changing a column's type from `old` to `new` is breaking, and why in plain words."""
    if old is None or new is None:
        return True, _cannot_tell(old or _UNRECORDED, new or _UNRECORDED)
    old_type, new_type = _canonical(old), _canonical(new)
    if old_type == new_type:
        return False, "the type is the same apart from case and spacing"
    problem = _first_problem(parse_type(old_type), parse_type(new_type))
    if problem is not None:
        return True, problem
    return False, f"{new} holds every value {old} did, so existing readers keep working"


def view_sql_changed(old: str | None, new: str | None) -> dict[str, Any] | None:
    """The change of a view's SQL, or None when only surrounding whitespace differs.

    Not breaking in itself: what the new SQL changes for readers shows in the view's columns.
    """
    if (old or "").strip() == (new or "").strip():
        return None
    return _change("view_sql_changed", None, old, new, False,
                   "the view's SQL changed; its columns show whether that affects readers")


def table_dropped(type_name: str, affected: Sequence[str]) -> dict[str, Any]:
    """A table or view (`type_name`, e.g. "Table") gone from Glue; breaking when anything downstream (`affected`)
    reads it."""
    what, count = type_name.lower(), len(affected)
    if not count:
        why = f"the {what} was dropped; nothing downstream depends on it"
    else:
        depend = "asset depends" if count == 1 else "assets depend"
        why = f"the {what} was dropped and {count} downstream {depend} on it"
    return _change("table_dropped", None, None, None, bool(count), why)


def inputs_gone(names: Sequence[str]) -> dict[str, Any]:
    """A view that reads tables or views (`names`, kept as `new`) which no longer exist: it fails when queried."""
    exist = "exists" if len(names) == 1 else "exist"
    why = f"the view now reads {', '.join(names)}, which no longer {exist}"
    return _change("inputs_gone", None, None, list(names), True, why)


def ordered(changes: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Breaking changes first, and in each group the table's own changes before its columns'; otherwise the order
    given (`column_changes` lists column order), as the sort is stable."""
    return sorted(changes, key=lambda change: (not change["breaking"], change.get("column") is not None))


def _added(shape: ColumnShape) -> dict[str, Any]:
    # A new partition key is breaking, but that is `partition_keys_changed`'s to say; the column itself is not.
    return _change("column_added", shape.name, None, shape.snapshot(), False,
                   f"column {shape.name} was added; existing queries do not read it, so nothing breaks")


def _dropped(shape: ColumnShape) -> dict[str, Any]:
    return _change("column_dropped", shape.name, shape.snapshot(), None, True,
                   f"column {shape.name} was dropped, so queries and jobs that read it fail")


def _altered(old: ColumnShape, new: ColumnShape) -> list[dict[str, Any]]:
    """The type and description changes of a column in both crawls."""
    changes = []
    if not _same_type(old.data_type, new.data_type):
        breaking, why = type_change(old.data_type, new.data_type)
        changes.append(_change("type_changed", new.name, old.data_type, new.data_type, breaking, why))
    if old.description != new.description:
        changes.append(_change("description_changed", new.name, old.description, new.description, False,
                               f"the description of column {new.name} changed; the data did not"))
    return changes


def _moves(
    before: Mapping[str, ColumnShape], after: Mapping[str, ColumnShape], was: Mapping[str, int],
    now: Mapping[str, int], positional: bool,
) -> list[tuple[int, dict[str, Any]]]:
    """The data columns whose place relative to the other data columns changed, with their positions.

    A column that only shifts because another was added or dropped before it has not moved: among the data
    columns in both crawls, the longest run that kept its relative order stayed, and the rest (the fewest
    columns that explain the new order) moved. Partition keys are left out: their values come from the
    partition's path, never from a position in the files, and `partition_keys_changed` covers their order.
    """
    staying = [key for key in was if key in now and not before[key].is_partition and not after[key].is_partition]
    kept = _longest_increasing([now[key] for key in staying])
    moves = []
    for index, key in enumerate(staying):
        if index in kept:
            continue
        name, moved = after[key].name, f"moved from position {was[key] + 1} to {now[key] + 1}"
        if positional:
            why = (f"column {name} {moved}; this table's files are read by position, so readers now get another "
                   f"column's values")
        else:
            why = f"column {name} {moved}; readers match columns by name, so nothing breaks"
        moves.append((now[key], _change("column_moved", name, was[key] + 1, now[key] + 1, positional, why)))
    return moves


def _longest_increasing(values: list[int]) -> set[int]:
    """The indexes of one longest strictly increasing subsequence of `values` (patience sorting, n log n)."""
    tails: list[int] = []  # tails[k]: the smallest last value of an increasing run of length k + 1 so far
    ends: list[int] = []  # ends[k]: the index of that value
    previous: list[int | None] = []  # for each index, the one before it in the best run ending there
    for index, value in enumerate(values):
        length = bisect_left(tails, value)
        previous.append(ends[length - 1] if length else None)
        if length == len(tails):
            tails.append(value)
            ends.append(index)
        else:
            tails[length], ends[length] = value, index
    kept: set[int] = set()
    at = ends[-1] if ends else None
    while at is not None:
        kept.add(at)
        at = previous[at]
    return kept


def _partition_keys_changed(
    before: Mapping[str, ColumnShape], after: Mapping[str, ColumnShape]
) -> dict[str, Any] | None:
    # Jobs write into partitions and queries prune by them, key by key in order: any difference in the list breaks.
    old, new = _partition_keys(before), _partition_keys(after)
    if [name.lower() for name in old] == [name.lower() for name in new]:
        return None
    why = (f"the partition keys changed from {_listed(old)} to {_listed(new)}, so jobs that write partitions "
           f"and queries that filter by them must change")
    return _change("partition_keys_changed", None, old, new, True, why)


def _partition_keys(columns: Mapping[str, ColumnShape]) -> list[str]:
    keys = sorted((shape for shape in columns.values() if shape.is_partition),
                  key=lambda shape: (_last_if_none(shape.partition_order), _last_if_none(shape.order)))
    return [shape.name for shape in keys]


def _listed(names: list[str]) -> str:
    return f"({', '.join(names)})" if names else "none"


def _keyed(columns: Mapping[str, ColumnShape]) -> dict[str, ColumnShape]:
    return {name.lower(): shape for name, shape in columns.items()}


def _positions(columns: Mapping[str, ColumnShape]) -> dict[str, int]:
    """Each key's place in column order, from 0, in that order; columns without an order follow, in the mapping's
    order (the sort is stable)."""
    keys = sorted(columns, key=lambda key: _last_if_none(columns[key].order))
    return {key: position for position, key in enumerate(keys)}


def _last_if_none(number: int | None) -> tuple[bool, int]:
    return number is None, number or 0


def _first_problem(old: TypeNode, new: TypeNode) -> str | None:
    """What makes `new` unable to read every value of `old`, first in the text, or None when it can.

    Walks both trees side by side with an explicit stack: types nest without limit (see `assets.datatypes`).
    """
    pending: list[tuple[str, TypeNode, TypeNode]] = [("", old, new)]  # the field path, "" at the column itself
    while pending:
        path, was, now = pending.pop()
        if was.text == now.text:
            continue
        problem, below = _compare(path, was, now)
        if problem is not None:
            return problem
        pending.extend(reversed(below))
    return None


def _compare(path: str, old: TypeNode, new: TypeNode) -> tuple[str | None, list[tuple[str, TypeNode, TypeNode]]]:
    """One level of `_first_problem`: a problem here, or the pairs of child types to compare next."""
    kind = _kind(old)
    if kind != _kind(new):
        if _unknown(old) or _unknown(new):
            return _at(path, _cannot_tell(old.text, new.text)), []
        return _at(path, f"changing {old.text} to {new.text} changes the kind of value"), []
    if kind == "":
        return _primitive_problem(path, old.text, new.text), []
    if kind == "uniontype":
        # A union keeps which member a value is by the member's place; gazetteer does not match members up.
        return _at(path, _cannot_tell(old.text, new.text)), []
    if kind != "struct":  # array<T> and map<K,V> hold the same children in the same places
        return None, [(_below(path, child.label), child, after) for child, after in zip(old.children, new.children,
                                                                                         strict=True)]
    # Readers match struct fields by name, so a field added anywhere or moved is safe; one gone is not.
    fields = _fields(new)
    pairs = []
    for name, child in _fields(old).items():
        if name not in fields:
            return _field_gone(_below(path, name)), []
        pairs.append((_below(path, name), child, fields[name]))
    return None, pairs


def _kind(node: TypeNode) -> str:
    return "struct" if node.kind in FIELD_KINDS else node.kind


def _unknown(node: TypeNode) -> bool:
    # A malformed type string parses as one primitive holding the whole text.
    return node.kind == "" and _primitive(node.text) is None


def _fields(struct: TypeNode) -> dict[str, TypeNode]:
    # A Presto row's anonymous fields have no name to match by, only their place.
    return {child.label or f"#{index}": child for index, child in enumerate(struct.children, start=1)}


def _primitive_problem(path: str, old: str, new: str) -> str | None:
    was, now = _primitive(old), _primitive(new)
    if was is None or now is None:
        return _at(path, _cannot_tell(old, new))
    if _widens(was, now):
        return None
    return _at(path, f"changing {old} to {new} is not a safe widening, so existing values may not read back the same")


@dataclass(frozen=True, slots=True)
class _Primitive:
    base: str
    parameters: tuple[int, ...]


def _primitive(text: str) -> _Primitive | None:
    """A primitive type gazetteer knows the widenings of, or None."""
    match = _PRIMITIVE.fullmatch(text)
    if match is None:
        return None
    base = _ALIASES.get(match.group(1), match.group(1))
    parameters = tuple(int(number) for number in match.group(2, 3) if number is not None)
    if base not in _KNOWN or len(parameters) > _PARAMETERS.get(base, 0):
        return None
    return _Primitive(base, parameters)


def _widens(old: _Primitive, new: _Primitive) -> bool:
    """Whether every value of `old` reads as the same value of `new`."""
    if old == new:
        return True
    if old.base in _INTEGERS:
        if new.base in _INTEGERS:
            return _INTEGERS.index(new.base) >= _INTEGERS.index(old.base)
        return new.base == "double" and old.base in _EXACT_IN_DOUBLE
    if old.base == "float":
        return new.base == "double"
    if old.base == new.base == "decimal":
        (precision, scale), (new_precision, new_scale) = _decimal(old), _decimal(new)
        return new_scale >= scale and new_precision - new_scale >= precision - scale
    if old.base in _TEXT and new.base in _TEXT:
        return _text_widens(old, new)
    return False


def _decimal(decimal: _Primitive) -> tuple[int, int]:
    """Precision and scale."""
    parameters = decimal.parameters or (_DEFAULT_PRECISION,)
    return parameters[0], parameters[1] if len(parameters) > 1 else 0


def _text_widens(old: _Primitive, new: _Primitive) -> bool:
    if new.base == "char":
        # CHAR pads its values to its length, so a CHAR of another length, or a CHAR where there was none,
        # reads different text back.
        return old.base == "char" and _length(old) == _length(new)
    new_length, old_length = _length(new), _length(old)
    return new_length is None or (old_length is not None and old_length <= new_length)


def _length(text: _Primitive) -> int | None:
    """The most characters a text type holds; None: no limit (STRING, Presto's VARCHAR)."""
    return text.parameters[0] if text.parameters else None


def _same_type(old: str | None, new: str | None) -> bool:
    return old == new if old is None or new is None else _canonical(old) == _canonical(new)


def _canonical(type_string: str) -> str:
    # Glue lower-cases names and type keywords mean the same in any case: `INT` is `int`, `decimal(10, 2)`
    # is `decimal(10,2)`.
    return normalise_type(type_string).lower()


def _cannot_tell(old: str, new: str) -> str:
    return f"gazetteer cannot tell whether {new} can read every value of {old}, so it counts as breaking"


def _field_gone(path: str) -> str:
    return f"field {path} was removed or renamed, so queries that read it fail"


def _at(path: str, problem: str) -> str:
    return f"in {path}, {problem}" if path else problem


def _below(path: str, label: str | None) -> str:
    # Array elements and map keys and values are labelled "element", "key" and "value" (`parse_type`).
    return f"{path}.{label}" if path else label or ""


def _change(kind: str, column: str | None, old: Any, new: Any, breaking: bool, why: str) -> dict[str, Any]:
    change: dict[str, Any] = {"change": kind}
    for key, value in (("column", column), ("old", old), ("new", new)):
        if value is not None:
            change[key] = value
    change.update(breaking=breaking, why=why)
    return change


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def _number(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
