"""The UI's pure helpers: the nested type tree, SQL highlighting, sizes, snippets and redirect targets."""

from __future__ import annotations

import pytest

from gazetteer.assets.datatypes import is_nested
from gazetteer.packages.glue.mapping import MAX_NESTED_DEPTH, CrawlScope, map_table
from gazetteer.web.ui.datatypes import linked_type_events, type_events
from gazetteer.web.ui.formatting import highlight_sql, human_bytes, human_count, snippet
from gazetteer.web.ui.routing import safe_next


def _tree(events) -> list[str]:
    """The events as indented lines, to compare trees at a glance."""
    depth, lines = 0, []
    for event in events:
        if event.action == "close":
            depth -= 1
            continue
        label = f"{event.label}: " if event.label else ""
        lines.append("  " * depth + label + (event.kind if event.action == "open" else event.text))
        if event.action == "open":
            depth += 1
    return lines


def test_struct_array_map_and_quoted_names() -> None:
    text = "array<struct<`user id`:bigint,attrs:map<string,struct<a:int,b:array<string>>>,price:decimal(12,2)>>"
    assert _tree(type_events(text)) == [
        "array",
        "  element: struct",
        "    user id: bigint",
        "    attrs: map",
        "      key: string",
        "      value: struct",
        "        a: int",
        "        b: array",
        "          element: string",
        "    price: decimal(12,2)",
    ]


def test_uniontype_and_spaces_and_backtick_escapes() -> None:
    assert _tree(type_events("uniontype< int , struct<`a``b`: string> >")) == [
        "uniontype", "  member 1: int", "  member 2: struct", "    a`b: string"]


def test_deep_types_are_capped_in_depth() -> None:
    text = "struct<f:" * 100 + "int" + ">" * 100
    events = type_events(text, max_depth=32)
    opens = [e for e in events if e.action == "open"]
    closes = [e for e in events if e.action == "close"]
    assert len(opens) == len(closes) == 32
    # Past the depth cap the rest of the type is shown as its text.
    assert events[32].action == "leaf" and events[32].text.startswith("struct<f:struct<f:")


def test_wide_types_are_capped_in_nodes() -> None:
    text = "struct<" + ",".join(f"f{i}:int" for i in range(5000)) + ">"
    events = type_events(text, max_nodes=100)
    assert sum(e.action == "leaf" for e in events) == 99
    assert [e.action for e in events][-2:] == ["more", "close"]


def test_presto_row_is_a_tree_of_fields() -> None:
    assert _tree(type_events("row(a int, b varchar)")) == ["row", "  a: int", "  b: varchar"]
    assert _tree(type_events("array(row(a int, m map(varchar, int)))")) == [
        "array", "  element: row", "    a: int", "    m: map", "      key: varchar", "      value: int"]


def test_malformed_type_is_one_leaf() -> None:
    events = type_events("struct<a int>")
    assert [(e.action, e.text) for e in events] == [("leaf", "struct<a int>")]


@pytest.mark.parametrize("raw", ["row(a int, b varchar)", "struct < a : int >", "array<int>", "map(varchar, int)",
                                 "uniontype<int,string>", "int", "decimal(12, 2)", "timestamp(3) with time zone"])
def test_crawl_and_asset_page_agree_on_nested_types(raw: str) -> None:
    """The crawl's isNested and the page's expandable tree come from one rule (gazetteer.assets.datatypes)."""
    table = {"Name": "t", "DatabaseName": "sales", "StorageDescriptor": {"Columns": [{"Name": "c", "Type": raw}]}}
    column = map_table(CrawlScope("default/glue/1", "production", "AwsDataCatalog"), "sales", table, None).columns[0]
    data_type = column.attributes["dataType"]
    expands = type_events(data_type)[0].action == "open"
    assert column.attributes["isNested"] is is_nested(data_type) is expands


@pytest.mark.parametrize("raw", [
    "struct<name:string,contact:struct<phone:string,email:string>>",
    "array<struct<`user id`:bigint,attrs:map<string,struct<a:int,b:array<string>>>>>",
    "map<struct<k:int>,array<array<row(x int, y row(z int))>>>", "uniontype<int,struct<u:int>>", "row(int, varchar)",
    "struct<" * (MAX_NESTED_DEPTH + 2) + "int" + ">" * (MAX_NESTED_DEPTH + 2),  # malformed: one leaf
    "struct<a:" * (MAX_NESTED_DEPTH + 2) + "int" + ">" * (MAX_NESTED_DEPTH + 2),
])
def test_the_page_links_exactly_the_nested_columns_the_crawl_makes(raw: str) -> None:
    """One parse and one naming rule (gazetteer.assets.datatypes): the tree's fields are the crawl's nested
    columns, down to the crawl's depth bound, and the page links each to its asset."""
    table = {"Name": "t", "DatabaseName": "sales", "StorageDescriptor": {"Columns": [{"Name": "c", "Type": raw}]}}
    mapped = map_table(CrawlScope("default/glue/1", "production", "AwsDataCatalog"), "sales", table, None)
    column = mapped.columns[0]
    guids = {record.qualified_name: f"guid-{i}" for i, record in enumerate(mapped.nested)}
    events = linked_type_events(column.attributes["dataType"], column.qualified_name, guids)
    linked = {event.guid: event.label for event in events if event.guid}
    assert linked == {guids[record.qualified_name]: record.name for record in mapped.nested}
    fields = [event for event in events if event.path]
    shallow = [event for event in fields if len([p for p in event.path if p not in ("items", "values")])
               <= MAX_NESTED_DEPTH]
    assert all(event.guid for event in shallow) and len(shallow) == len(mapped.nested)


def test_fields_below_a_map_key_or_a_union_member_have_no_path() -> None:
    events = type_events("map<struct<k:int>,struct<v:int>>")
    assert [(e.label, e.path) for e in events if e.action != "close"] == [
        (None, None), ("key", None), ("k", None), ("value", None), ("v", ("values", "v"))]


def test_sql_is_escaped_and_highlighted() -> None:
    html = str(highlight_sql("SELECT a FROM t -- <script>\nWHERE b <> 'x''<y>' AND c = 1 /* c */"))
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert '<span class="sql-kw">SELECT</span>' in html and '<span class="sql-kw">AND</span>' in html
    assert '<span class="sql-str">&#39;x&#39;&#39;&lt;y&gt;&#39;</span>' in html
    assert '<span class="sql-com">-- &lt;script&gt;</span>' in html
    assert '<span class="sql-num">1</span>' in html and "&lt;&gt;" in html


def test_sizes_counts_and_snippets() -> None:
    assert human_bytes(123295776) == "117.6 MiB"
    assert human_bytes(512) == "512 bytes" and human_bytes(None) == "—"
    assert human_count(1284331) == "1,284,331" and human_count(None) == "—"
    marked = str(snippet("Orders <b>placed</b> online, one row per order", "order"))
    assert marked == "<mark>Order</mark>s &lt;b&gt;placed&lt;/b&gt; online, one row per <mark>order</mark>"
    long = "x " * 300 + "needle here"
    assert "<mark>needle</mark>" in str(snippet(long, "needle", limit=60))


@pytest.mark.parametrize(("value", "expected"), [
    ("/assets/x?y=1", "/assets/x?y=1"), ("//evil.example/", "/"), ("https://evil.example/", "/"),
    ("/\\evil.example", "/"), ("", "/"), (None, "/"), ("workflows", "/"),
])
def test_sign_in_only_returns_to_this_site(value, expected) -> None:
    assert safe_next(value) == expected
