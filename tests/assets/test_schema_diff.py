"""Schema changes between two crawls of a table or view, and which of them break readers downstream."""

from __future__ import annotations

import json

import pytest

from gazetteer.assets.schema_diff import (
    CHANGE_KINDS,
    ColumnShape,
    column_changes,
    inputs_gone,
    ordered,
    table_dropped,
    type_change,
    view_sql_changed,
)


def _columns(*specs: str, partitions: tuple[str, ...] = ()) -> dict[str, ColumnShape]:
    """Columns from "name type" specs in order, then the partition keys, as a crawl maps them."""
    shapes = {}
    for order, spec in enumerate((*specs, *partitions), start=1):
        name, data_type = spec.split(" ", 1)
        key = order - len(specs) if order > len(specs) else None
        shapes[name] = ColumnShape(name, data_type, order, key is not None, key, None)
    return shapes


def _kinds(changes: list[dict]) -> list[tuple[str, str | None]]:
    return [(change["change"], change.get("column")) for change in changes]


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("tinyint", "smallint"),
        ("smallint", "int"),
        ("int", "bigint"),
        ("tinyint", "bigint"),
        ("float", "double"),
        ("int", "double"),
        ("smallint", "double"),
        ("decimal(10,2)", "decimal(12,2)"),
        ("decimal(10,2)", "decimal(13,3)"),
        ("decimal", "decimal(12,2)"),  # Hive's bare DECIMAL is DECIMAL(10,0)
        ("varchar(10)", "varchar(20)"),
        ("varchar(10)", "string"),
        ("char(3)", "string"),
        ("char(3)", "varchar(3)"),
        ("integer", "bigint"),  # a Presto spelling in a view
        ("struct<a:int>", "struct<a:int,b:string>"),
        ("struct<a:int,c:int>", "struct<a:int,b:string,c:int>"),  # a field added in the middle
        ("struct<a:int,b:string>", "struct<b:string,a:int>"),  # fields are read by name
        ("array<int>", "array<bigint>"),
        ("map<string,int>", "map<string,bigint>"),
        ("array<struct<a:int>>", "array<struct<a:bigint,b:string>>"),
        ("struct<s:struct<x:int>>", "struct<s:struct<x:bigint,y:int>>"),
        ("row(a integer)", "struct<a:bigint>"),
    ],
)
def test_widenings_are_safe(old: str, new: str) -> None:
    breaking, why = type_change(old, new)
    assert not breaking, why
    assert why == f"{new} holds every value {old} did, so existing readers keep working"


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("bigint", "int"),
        ("int", "smallint"),
        ("double", "float"),
        ("bigint", "double"),  # large values round
        ("int", "float"),
        ("decimal(10,2)", "decimal(10,3)"),  # one integer digit fewer
        ("decimal(10,2)", "decimal(12,1)"),  # a fraction digit fewer
        ("decimal(12,2)", "decimal(10,2)"),
        ("varchar(10)", "varchar(5)"),
        ("string", "varchar(100)"),
        ("varchar(3)", "char(3)"),
        ("char(3)", "char(5)"),
        ("string", "int"),
        ("int", "string"),
        ("date", "timestamp"),
        ("timestamp", "date"),
        ("boolean", "int"),
        ("binary", "string"),
    ],
)
def test_narrowings_and_other_conversions_break(old: str, new: str) -> None:
    breaking, why = type_change(old, new)
    assert breaking
    assert why == f"changing {old} to {new} is not a safe widening, so existing values may not read back the same"


@pytest.mark.parametrize(
    ("old", "new", "why"),
    [
        ("struct<a:int,b:string>", "struct<a:int>", "field b was removed or renamed"),
        ("struct<a:int,b:string>", "struct<a:int,c:string>", "field b was removed or renamed"),
        ("struct<s:struct<x:bigint>>", "struct<s:struct<x:int>>", "in s.x, changing bigint to int"),
        ("array<struct<p:int>>", "array<struct<q:int>>", "field element.p was removed or renamed"),
        ("array<bigint>", "array<int>", "in element, changing bigint to int"),
        ("map<string,int>", "map<string,string>", "in value, changing int to string"),
        ("map<int,string>", "map<string,string>", "in key, changing int to string"),
        ("struct<a:int>", "array<int>", "changing struct<a:int> to array<int> changes the kind of value"),
        ("int", "array<int>", "changing int to array<int> changes the kind of value"),
    ],
)
def test_nested_changes_break_where_a_field_goes_or_narrows(old: str, new: str, why: str) -> None:
    breaking, reason = type_change(old, new)
    assert breaking
    assert reason.startswith(why)


def test_the_first_problem_in_the_type_is_the_one_named() -> None:
    assert type_change("struct<a:bigint,b:bigint>", "struct<a:int,b:int>")[1].startswith("in a, ")


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("geometry", "geography"),
        ("timestamp(3)", "timestamp"),
        ("uniontype<int,string>", "uniontype<int,bigint>"),
        ("struct<a:int", "struct<a:int>"),  # malformed: cannot be parsed
        ("string", "struct<a:int"),
        (None, "int"),
        ("int", None),
    ],
)
def test_types_gazetteer_cannot_compare_count_as_breaking(old: str | None, new: str | None) -> None:
    breaking, why = type_change(old, new)
    assert breaking
    assert why.startswith("gazetteer cannot tell whether")


@pytest.mark.parametrize(("old", "new"), [("INT", "int"), ("decimal(10, 2)", "DECIMAL(10,2)"),
                                          ("struct<A:int, b : string>", "struct<a:int,b:string>")])
def test_case_and_spacing_are_not_a_type_change(old: str, new: str) -> None:
    assert type_change(old, new) == (False, "the type is the same apart from case and spacing")
    assert column_changes({"c": ColumnShape("c", old, 1, False, None, None)},
                          {"c": ColumnShape("c", new, 1, False, None, None)}) == []


def test_an_added_column_is_not_breaking() -> None:
    changes = column_changes(_columns("a int"), _columns("a int", "b string"))
    assert changes == [{
        "change": "column_added", "column": "b", "new": {"dataType": "string", "order": 2, "isPartition": False},
        "breaking": False, "why": "column b was added; existing queries do not read it, so nothing breaks",
    }]


def test_a_dropped_column_is_breaking() -> None:
    changes = column_changes(_columns("a int", "b string"), _columns("a int"))
    assert changes == [{
        "change": "column_dropped", "column": "b", "old": {"dataType": "string", "order": 2, "isPartition": False},
        "breaking": True, "why": "column b was dropped, so queries and jobs that read it fail",
    }]


def test_a_type_change_is_classified() -> None:
    widened = column_changes(_columns("a int"), _columns("a bigint"))
    narrowed = column_changes(_columns("a bigint"), _columns("a int"))
    assert [(c["change"], c["column"], c["old"], c["new"], c["breaking"]) for c in widened + narrowed] == [
        ("type_changed", "a", "int", "bigint", False),
        ("type_changed", "a", "bigint", "int", True),
    ]


def test_a_description_change_is_not_breaking() -> None:
    old = {"a": ColumnShape("a", "int", 1, False, None, "the id")}
    new = {"a": ColumnShape("a", "int", 1, False, None, "the customer id")}
    assert column_changes(old, new) == [{
        "change": "description_changed", "column": "a", "old": "the id", "new": "the customer id",
        "breaking": False, "why": "the description of column a changed; the data did not",
    }]


def test_names_compare_case_insensitively() -> None:
    old = {"CustomerId": ColumnShape("CustomerId", "int", 1, False, None, None)}
    new = {"customerid": ColumnShape("customerid", "bigint", 1, False, None, None)}
    assert _kinds(column_changes(old, new)) == [("type_changed", "customerid")]
    assert column_changes(old, {"customerid": ColumnShape("customerid", "INT", 1, False, None, None)}) == []


def test_unchanged_columns_give_no_changes() -> None:
    columns = _columns("a int", "b struct<x:int>", partitions=("dt string",))
    assert column_changes(columns, dict(columns), positional=True) == []


def test_one_column_moved_among_five_is_the_one_reported() -> None:
    old = _columns("a int", "b int", "c int", "d int", "e int")
    new = _columns("a int", "c int", "d int", "b int", "e int")
    changes = column_changes(old, new)
    assert changes == [{
        "change": "column_moved", "column": "b", "old": 2, "new": 4, "breaking": False,
        "why": "column b moved from position 2 to 4; readers match columns by name, so nothing breaks",
    }]


def test_a_column_moved_to_the_front_is_the_one_reported() -> None:
    old = _columns("a int", "b int", "c int", "d int", "e int")
    new = _columns("e int", "a int", "b int", "c int", "d int")
    assert _kinds(column_changes(old, new)) == [("column_moved", "e")]


def test_columns_shifted_by_an_insert_or_a_drop_have_not_moved() -> None:
    old = _columns("a int", "b int", "c int", "d int")
    inserted = _columns("a int", "b int", "x int", "c int", "d int")
    dropped = _columns("a int", "c int", "d int")
    assert _kinds(column_changes(old, inserted)) == [("column_added", "x")]
    assert _kinds(column_changes(old, dropped)) == [("column_dropped", "b")]


def test_a_move_breaks_a_table_read_by_position() -> None:
    old = _columns("a int", "b int", "c int")
    new = _columns("b int", "c int", "a int")
    (change,) = column_changes(old, new, positional=True)
    assert change["change"] == "column_moved" and change["column"] == "a"
    assert change["breaking"] is True
    assert "read by position" in change["why"]
    assert column_changes(old, new)[0]["breaking"] is False


def test_partition_keys_take_no_part_in_moves() -> None:
    old = _columns("a int", "b int", partitions=("dt string",))
    new = _columns("a int", "b int", "c int", partitions=("dt string",))  # dt's position shifts from 3 to 4
    assert _kinds(column_changes(old, new, positional=True)) == [("column_added", "c")]


def test_an_added_partition_key_also_changes_the_partition_keys() -> None:
    old = _columns("a int", partitions=("dt string",))
    new = _columns("a int", partitions=("dt string", "region string"))
    changes = column_changes(old, new)
    assert _kinds(changes) == [("partition_keys_changed", None), ("column_added", "region")]
    assert changes[0] == {
        "change": "partition_keys_changed", "old": ["dt"], "new": ["dt", "region"], "breaking": True,
        "why": "the partition keys changed from (dt) to (dt, region), so jobs that write partitions and queries "
               "that filter by them must change",
    }
    assert changes[1]["breaking"] is False


def test_reordered_partition_keys_are_breaking() -> None:
    old = _columns("a int", partitions=("year int", "month int"))
    new = _columns("a int", partitions=("month int", "year int"))
    changes = column_changes(old, new, positional=True)
    assert _kinds(changes) == [("partition_keys_changed", None)]
    assert (changes[0]["old"], changes[0]["new"], changes[0]["breaking"]) == (
        ["year", "month"], ["month", "year"], True)


def test_a_column_becoming_a_partition_key_changes_the_partition_keys() -> None:
    old = _columns("a int", "dt string")
    new = _columns("a int", partitions=("dt string",))
    changes = column_changes(old, new)
    assert _kinds(changes) == [("partition_keys_changed", None)]
    assert (changes[0]["old"], changes[0]["new"]) == ([], ["dt"])
    assert "from none to (dt)" in changes[0]["why"]


def test_a_dropped_partition_key_is_breaking_twice() -> None:
    changes = column_changes(_columns("a int", partitions=("dt string",)), _columns("a int"))
    assert _kinds(changes) == [("partition_keys_changed", None), ("column_dropped", "dt")]
    assert all(change["breaking"] for change in changes)


def test_changes_list_breaking_first_then_in_column_order() -> None:
    old = {
        "a": ColumnShape("a", "int", 1, False, None, "x"),
        "b": ColumnShape("b", "bigint", 2, False, None, None),
        "c": ColumnShape("c", "int", 3, False, None, None),
        "e": ColumnShape("e", "int", 4, False, None, None),
    }
    new = {
        "e": ColumnShape("e", "bigint", 4, False, None, None),
        "c": ColumnShape("c", "string", 3, False, None, None),
        "b": ColumnShape("b", "int", 2, False, None, None),
        "a": ColumnShape("a", "int", 1, False, None, "y"),
        "f": ColumnShape("f", "int", 5, False, None, None),
    }
    assert [(c["change"], c["column"], c["breaking"]) for c in column_changes(old, new)] == [
        ("type_changed", "b", True),
        ("type_changed", "c", True),
        ("description_changed", "a", False),
        ("type_changed", "e", False),
        ("column_added", "f", False),
    ]


def test_ordered_puts_breaking_first_and_keeps_the_rest_in_place() -> None:
    changes = [
        {"change": "column_added", "column": "z", "breaking": False, "why": "1"},
        {"change": "column_dropped", "column": "y", "breaking": True, "why": "2"},
        {"change": "view_sql_changed", "breaking": False, "why": "3"},
        {"change": "column_added", "column": "a", "breaking": False, "why": "4"},
        {"change": "inputs_gone", "new": ["t"], "breaking": True, "why": "5"},
        {"change": "column_dropped", "column": "b", "breaking": True, "why": "6"},
    ]
    assert [change["why"] for change in ordered(iter(changes))] == ["5", "2", "6", "3", "1", "4"]


def test_columns_without_an_order_keep_the_mappings_order() -> None:
    old = {name: ColumnShape(name, "int", None, False, None, None) for name in ("a", "b", "c", "d")}
    new = {name: ColumnShape(name, "int", None, False, None, None) for name in ("a", "c", "d", "b", "e")}
    assert [(c["change"], c["column"]) for c in column_changes(old, new)] == [
        ("column_moved", "b"), ("column_added", "e")]


def test_view_sql_changes_are_not_breaking() -> None:
    assert view_sql_changed("SELECT 1", "  SELECT 1\n") is None
    assert view_sql_changed(None, None) is None
    assert view_sql_changed("SELECT 1", "SELECT 2") == {
        "change": "view_sql_changed", "old": "SELECT 1", "new": "SELECT 2", "breaking": False,
        "why": "the view's SQL changed; its columns show whether that affects readers",
    }


def test_a_dropped_table_breaks_only_what_depends_on_it() -> None:
    assert table_dropped("Table", ["default/x/report", "default/x/job"]) == {
        "change": "table_dropped", "breaking": True,
        "why": "the table was dropped and 2 downstream assets depend on it",
    }
    assert table_dropped("View", ["default/x/report"])["why"] == (
        "the view was dropped and 1 downstream asset depends on it")
    assert table_dropped("View", []) == {
        "change": "table_dropped", "breaking": False, "why": "the view was dropped; nothing downstream depends on it",
    }


def test_inputs_gone_is_breaking() -> None:
    assert inputs_gone(["sales.orders", "sales.refunds"]) == {
        "change": "inputs_gone", "new": ["sales.orders", "sales.refunds"], "breaking": True,
        "why": "the view now reads sales.orders, sales.refunds, which no longer exist",
    }
    assert inputs_gone(["sales.orders"])["why"] == "the view now reads sales.orders, which no longer exists"


def test_every_change_is_json_and_of_a_known_kind() -> None:
    old = _columns("a int", "b string", "c int", partitions=("dt string",))
    new = _columns("c bigint", "a int", "d string", partitions=("region string",))
    changes = column_changes(old, new) + [
        view_sql_changed("SELECT 1", "SELECT 2"), table_dropped("Table", ["x"]), inputs_gone(["t"])]
    assert json.loads(json.dumps(changes)) == changes
    assert {change["change"] for change in changes} <= set(CHANGE_KINDS)
    assert all(set(change) >= {"change", "breaking", "why"} and None not in change.values() for change in changes)


def test_a_column_shape_comes_from_a_columns_attributes() -> None:
    attributes = {"dataType": "decimal(10,2)", "order": 3, "isPartition": True, "partitionOrder": 1,
                  "description": "the amount", "isNested": False, "qualifiedName": "ignored"}
    assert ColumnShape.of("amount", attributes) == ColumnShape("amount", "decimal(10,2)", 3, True, 1, "the amount")
    assert ColumnShape.of("bare", {}) == ColumnShape("bare", None, None, False, None, None)


@pytest.mark.parametrize("shape", [
    ColumnShape("amount", "decimal(10,2)", 3, True, 1, "the amount"),
    ColumnShape("bare", None, None, False, None, None),
])
def test_a_snapshot_round_trips(shape: ColumnShape) -> None:
    snapshot = json.loads(json.dumps(shape.snapshot()))
    assert ColumnShape.from_snapshot(shape.name, snapshot) == shape
    assert None not in snapshot.values()


def test_a_snapshot_names_the_column_attributes() -> None:
    assert ColumnShape("a", "int", 2, False, None, None).snapshot() == {
        "dataType": "int", "order": 2, "isPartition": False}


def test_deeply_nested_types_are_compared_without_recursion() -> None:
    depth = 5000
    old = "struct<a:" * depth + "int" + ">" * depth
    assert type_change(old, "struct<a:" * depth + "bigint" + ">" * depth)[0] is False
    assert type_change(old, "struct<a:" * depth + "string" + ">" * depth)[0] is True
