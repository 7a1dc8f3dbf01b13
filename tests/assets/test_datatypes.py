"""Column type strings: normalising, the nested test and the tree, for Hive and Presto spellings alike."""

from __future__ import annotations

import sys

import pytest

from gazetteer.assets.datatypes import TypeNode, is_nested, normalise_type, parse_type


def _shape(node: TypeNode) -> tuple:
    """(label, kind or text, children...) of a tree, to compare trees at a glance."""
    return (node.label, node.kind or node.text, *(_shape(child) for child in node.children))


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("array < struct < `user id`:bigint>>", "array<struct<`user id`:bigint>>"),
        ("  bigint ", "bigint"),
        ("map< string ,\n\tarray< int > >", "map<string,array<int>>"),
        ("struct<`a  b` : int, `c``d` : string>", "struct<`a  b`:int,`c``d`:string>"),
        ("decimal( 38 , 10 )", "decimal(38,10)"),
        ("double precision", "double precision"),
        ("struct<ts : timestamp  with local time zone>", "struct<ts:timestamp with local time zone>"),
        ("row( a  int , b varchar )", "row(a int,b varchar)"),
    ],
)
def test_normalise_type(raw: str, expected: str) -> None:
    assert normalise_type(raw) == expected


@pytest.mark.parametrize("text", ["struct<a:int>", "array<int>", "map<string,int>", "uniontype<int,string>",
                                  "row(a int, b varchar)", "ROW(a integer)", "array(integer)",
                                  "map(varchar, integer)", "  Struct <a:int>", "row (a int)", "struct<a:int"])
def test_complex_types_are_nested_in_both_spellings(text: str) -> None:
    assert is_nested(text)


@pytest.mark.parametrize("text", ["int", "decimal(12,2)", "varchar(10)", "timestamp(3) with time zone", "rowid",
                                  "mapping<int>", "array", "", None])
def test_primitive_types_are_not_nested(text: str | None) -> None:
    assert not is_nested(text)


def test_presto_row_array_and_map_are_trees() -> None:
    assert _shape(parse_type("row(a int, b varchar)")) == (None, "row", ("a", "int"), ("b", "varchar"))
    text = 'array(row("first name" varchar(10), at timestamp(3) with time zone, tags map(varchar, array(int))))'
    assert _shape(parse_type(text)) == (
        None, "array",
        ("element", "row",
         ("first name", "varchar(10)"),
         ("at", "timestamp(3) with time zone"),
         ("tags", "map", ("key", "varchar"), ("value", "array", ("element", "int")))))
    assert parse_type(text).children[0].text == text[len("array("):-1]


def test_anonymous_row_fields_have_no_label() -> None:
    assert _shape(parse_type("row(int, varchar(3))")) == (None, "row", (None, "int"), (None, "varchar(3)"))


def test_hive_struct_array_map_and_quoted_names() -> None:
    node = parse_type("uniontype< int , struct<`a``b`: string, c:map<string,row(x int)>> >")
    assert _shape(node) == (
        None, "uniontype",
        ("member 1", "int"),
        ("member 2", "struct", ("a`b", "string"), ("c", "map", ("key", "string"), ("value", "row", ("x", "int")))))


@pytest.mark.parametrize("text", ["struct<a:int", "struct<a int>", "map<string>", "array<int,int>", "struct<>",
                                  "weird<int>", "int>", "decimal(1,2", "", "struct<a:int>>", "row(a int",
                                  "row()", "array(int, int)", "map(varchar)", "row(a int>", "struct<a:int)",
                                  'row("a int)', "int)"])
def test_malformed_types_are_one_leaf_with_the_raw_text(text: str) -> None:
    node = parse_type(text)
    assert node.kind == "" and node.text == text and not node.children


@pytest.mark.parametrize("opening", ["struct<f:", "row(f "])
def test_deep_types_never_recurse(opening: str) -> None:
    depth = sys.getrecursionlimit() * 3
    closing = ">" if opening.endswith(":") else ")"
    node = parse_type(opening * depth + "int" + closing * depth)
    for _ in range(depth):
        assert node.kind in ("struct", "row") and len(node.children) == 1
        node = node.children[0]
    assert node.text == "int"
