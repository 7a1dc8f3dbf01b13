"""Parsing of the search DSL: the bodies Atlan clients send, the typed result, and precise refusals."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from gazetteer.errors import InvalidRequest
from gazetteer.search import (
    Bool,
    DateMath,
    Exists,
    FullText,
    MatchAll,
    MatchNone,
    Nested,
    Prefix,
    Range,
    Regexp,
    SearchRequest,
    SortField,
    Term,
    Terms,
    TermsAgg,
    Wildcard,
    lucene_regex,
    parse_datetime,
    parse_query,
    parse_search_request,
    parse_sort,
    query_fields,
)
from gazetteer.store.sqlite_functions import compiled_regex

CREATION_SORT = [{"metadata.creationTimestamp": {"order": "desc", "nested": {"path": "metadata"}}}]


def _refused(body: Any, message: str, *, query: bool = True) -> None:
    with pytest.raises(InvalidRequest, match=message):
        parse_query(body) if query else parse_search_request(body)


def test_envelope_defaults_and_size_cap() -> None:
    # As in Elasticsearch: counted exactly up to 10,000 unless the request says otherwise.
    assert parse_search_request({}) == SearchRequest(0, 10, MatchAll(), (), 10_000, (), None)
    assert parse_search_request({"track_total_hits": True}).track_total_hits is True
    assert parse_search_request({"track_total_hits": -1}).track_total_hits is False
    request = parse_search_request(
        {"from": 20, "size": 5000, "track_total_hits": 100, "_source": False}, max_size=1000
    )
    assert (request.from_, request.size, request.track_total_hits) == (20, 1000, 100)
    assert parse_search_request({"size": None, "track_total_hits": None}).size == 10
    assert parse_search_request({"aggregations": {}, "sort": []}).aggregations == ()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"size": -1}, "malformed 'size'"),
        ({"from": -5}, "malformed 'from'"),
        ({"from": True}, "malformed 'from'"),
        ({"size": "10"}, "malformed 'size'"),
        ({"track_total_hits": "yes"}, "track_total_hits"),
        ({"highlight": {}}, "unsupported search option 'highlight'"),
        ({"search_after": [1]}, "unsupported search option 'search_after'"),
        ({"aggs": {}, "aggregations": {}}, "both 'aggregations' and 'aggs'"),
        (
            {"aggs": {"x": {"date_histogram": {"field": "t"}}}},
            "unsupported aggregation 'date_histogram' at aggregations.x",
        ),
        ({"aggs": {"x": {"terms": {"field": "t", "order": {"_key": "asc"}}}}}, "unsupported option 'order'"),
        ({"aggs": {"x": {"terms": {"field": "t", "size": 0}}}}, "size must be at least 1"),
        ({"aggs": {"x": {"terms": {"size": 3}}}}, "a 'field' is required"),
        (
            {"query": {"bool": {"filter": [{"term": {"a": "b"}}, {"fuzzy": {"a": "b"}}]}}},
            r"unsupported query clause 'fuzzy' at query.bool.filter\[1\]",
        ),
        ({"post_filter": {"geo_shape": {}}}, "unsupported query clause 'geo_shape' at post_filter"),
        ([], "expected a JSON object"),
    ],
)
def test_envelope_refusals(body: Any, message: str) -> None:
    _refused(body, message, query=False)


def test_contract_bodies() -> None:
    find_by_type = parse_search_request(
        {
            "from": 0,
            "size": 5,
            "track_total_hits": True,
            "sort": CREATION_SORT,
            "query": {
                "bool": {
                    "filter": [
                        {
                            "nested": {
                                "path": "metadata",
                                "query": {
                                    "regexp": {"metadata.name.keyword": {"value": "atlan[-]glue[-][0-9]{10}"}}
                                },
                            }
                        }
                    ]
                }
            },
        }
    )
    assert find_by_type.query == Bool(
        filter=(Nested("metadata", Regexp("metadata.name.keyword", "atlan[-]glue[-][0-9]{10}")),)
    )
    assert find_by_type.sort == (SortField("metadata.creationTimestamp", "desc", "_last", "metadata"),)
    get_runs = parse_query(
        {
            "bool": {
                "must": [
                    {
                        "nested": {
                            "path": "spec",
                            "query": {"term": {"spec.workflowTemplateRef.name.keyword": {"value": "wf"}}},
                        }
                    }
                ],
                "filter": [{"term": {"status.phase.keyword": {"value": "Succeeded"}}}],
            }
        }
    )
    assert get_runs == Bool(
        must=(Nested("spec", Term("spec.workflowTemplateRef.name.keyword", "wf")),),
        filter=(Term("status.phase.keyword", "Succeeded"),),
    )
    assets = parse_search_request(
        {
            "from": 0,
            "size": 300,
            "aggregations": {},
            "track_total_hits": True,
            "query": {
                "bool": {
                    "filter": [
                        {"term": {"__state": {"value": "ACTIVE", "case_insensitive": False}}},
                        {"term": {"__typeName.keyword": {"value": "CONNECTION"}}},
                        {"prefix": {"connectionQualifiedName": {"value": "default/glue/"}}},
                    ]
                }
            },
            "sort": [{"order": {"order": "asc"}}, {"__guid": {"order": "asc"}}],
        }
    )
    assert assets.query == Bool(
        filter=(
            Term("__state", "ACTIVE"),
            Term("__typeName.keyword", "CONNECTION"),
            Prefix("connectionQualifiedName", "default/glue/"),
        )
    )
    assert [s.field for s in assets.sort] == ["order", "__guid"]


def test_clause_forms() -> None:
    assert parse_query({"term": {"f": 5}}) == Term("f", 5)
    assert parse_query({"term": {"f": {"value": "x", "case_insensitive": True, "boost": 2}}}) == Term(
        "f", "x", True
    )
    assert parse_query({"terms": {"f": ["a", 1], "boost": 1.0}}) == Terms("f", ("a", 1))
    assert parse_query({"ids": {"values": ["r1", "r2"]}}) == Terms("_id", ("r1", "r2"))
    assert parse_query({"prefix": {"f": "ab"}}) == Prefix("f", "ab")
    assert parse_query({"wildcard": {"f": {"wildcard": "a*", "case_insensitive": True}}}) == Wildcard(
        "f", "a*", True
    )
    assert parse_query({"exists": {"field": "f"}}) == Exists("f")
    assert parse_query({"match_all": {"boost": 1}}) == MatchAll()
    assert parse_query({"match_none": {}}) == MatchNone()
    assert parse_query({"range": {"n": {"gte": 1, "lt": 2.5}}}) == Range("n", gte=1, lt=2.5)
    assert parse_query({"range": {"t": {"lte": "2024-05-01T00:00:00Z"}}}) == Range(
        "t", lte="2024-05-01T00:00:00Z"
    )
    now_2h = parse_query({"range": {"t": {"gte": "now-2h"}}})
    assert isinstance(now_2h, Range) and now_2h.gte == DateMath("now-2h", None, (("-", 2, "h"),))
    assert parse_query({"match": {"name": "orders table"}}) == FullText("orders table", ("name",))
    assert parse_query({"match": {"name": {"query": "x", "operator": "AND"}}}) == FullText(
        "x", ("name",), "and"
    )
    multi = parse_query(
        {"multi_match": {"query": "x", "fields": ["name^5", "description"], "type": "phrase"}}
    )
    assert multi == FullText("x", ("name", "description"), "or", "multi_match", "phrase")
    single = parse_query({"bool": {"filter": {"term": {"a": 1}}, "must_not": {"exists": {"field": "b"}}}})
    assert single == Bool(filter=(Term("a", 1),), must_not=(Exists("b"),))


def test_positions_are_kept_for_messages() -> None:
    query = parse_query(
        {"bool": {"filter": [{"match_all": {}}, {"nested": {"path": "m", "query": {"term": {"m.a": 1}}}}]}}
    )
    assert isinstance(query, Bool)
    nested = query.filter[1]
    assert isinstance(nested, Nested)
    assert (nested.at, nested.query.at) == ("query.bool.filter[1]", "query.bool.filter[1].nested.query")


def test_minimum_should_match() -> None:
    should = [{"term": {"a": i}} for i in range(4)]

    def msm(**extra: Any) -> int:
        query = parse_query({"bool": {"should": should, **extra}})
        assert isinstance(query, Bool)
        return query.minimum_should_match

    assert msm() == 1
    assert msm(filter=[{"term": {"b": 1}}]) == 0
    assert msm(must={"term": {"b": 1}}) == 0
    assert (msm(minimum_should_match=3), msm(minimum_should_match="2")) == (3, 2)
    assert (
        msm(minimum_should_match="75%"),
        msm(minimum_should_match="-1"),
        msm(minimum_should_match="-25%"),
    ) == (3, 3, 3)
    assert parse_query({"bool": {"must": []}}) == Bool()
    _refused(
        {"bool": {"should": should, "minimum_should_match": "3<90%"}}, "unsupported minimum_should_match"
    )


def test_sort_forms() -> None:
    assert parse_sort("name") == (SortField("name"),)
    assert parse_sort([{"a": "desc"}, "b", {"c": {"missing": "_first"}}]) == (
        SortField("a", "desc"),
        SortField("b"),
        SortField("c", "asc", "_first"),
    )
    for sort, message in [
        ([{"a": "sideways"}], "order must be 'asc' or 'desc'"),
        ([{"a": {"missing": 0}}], r"unsupported sort option missing=0 at sort\[0\]"),
        ([{"a": {"mode": "min"}}], "unsupported option 'mode'"),
        ([{"metadata.x": {"nested": {"path": "spec"}}}], "nested path must be a prefix"),
        ([{"a": "asc", "b": "asc"}], r"malformed sort at sort\[0\]"),
    ]:
        with pytest.raises(InvalidRequest, match=message):
            parse_sort(sort)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"fuzzy": {"f": "x"}}, "unsupported query clause 'fuzzy' at query"),
        ({"query_string": {"query": "x"}}, "unsupported query clause 'query_string'"),
        (
            {"bool": {"must": [{"term": {"a": 1}}, {"more_like_this": {}}]}},
            r"'more_like_this' at query.bool.must\[1\]",
        ),
        ({"term": {"a": 1}, "terms": {"b": [1]}}, "exactly one clause name"),
        ({}, "exactly one clause name"),
        ({"term": {"a": 1, "b": 2}}, "malformed 'term' clause at query: expected exactly one field"),
        ({"term": {"a": None}}, "must be a string, number or boolean"),
        ({"term": {"a": {"value": "x", "fuzziness": 2}}}, "unsupported option 'fuzziness' in 'term' clause"),
        ({"term": {"a": {"value": "x", "case_insensitive": "yes"}}}, "case_insensitive must be a boolean"),
        ({"terms": {"a": {"index": "i", "id": "1", "path": "p"}}}, "terms lookup is not supported"),
        ({"prefix": {"a": 5}}, "must be a string"),
        ({"regexp": {"a": {"value": "x", "flags": "NONE"}}}, "unsupported regexp flags"),
        ({"range": {"t": {"gte": "now-2x"}}}, r"malformed date math 'now-2x' at query.range.t.gte"),
        ({"range": {"t": {"gte": 1, "gt": 2}}}, "at most one lower and one upper bound"),
        ({"range": {"t": {"gte": "2024-01-01", "time_zone": "+02:00"}}}, "unsupported range time_zone"),
        ({"range": {"t": {"from": 1}}}, "unsupported option 'from'"),
        ({"range": {"t": {"gte": True}}}, "expected a number or a string"),
        ({"range": {"t": {"gte": "junk||+1d"}}}, "malformed date 'junk'"),
        (
            {"nested": {"path": "spec", "query": {"term": {"metadata.name": "x"}}}},
            "not under the nested path 'spec'",
        ),
        (
            {"nested": {"path": "m", "query": {"term": {"m.a": 1}}, "inner_hits": {}}},
            "unsupported option 'inner_hits'",
        ),
        ({"nested": {"query": {"match_all": {}}}}, "expected {'path': ..., 'query': ...}"),
        ({"exists": {"field": "a", "boost": 1, "x": 2}}, "unsupported option 'x'"),
        ({"ids": {"values": "r1"}}, "expected {'values': \\[...\\]}"),
        ({"match": {"name": {"query": "x", "fuzziness": "AUTO"}}}, "unsupported option 'fuzziness'"),
        ({"multi_match": {"query": "x", "type": "magic"}}, "unsupported multi_match type"),
        ({"match": {"name": {"query": "x", "operator": "xor"}}}, "operator must be 'or' or 'and'"),
        ({"bool": {"should": "nope"}}, "malformed query clause at query.bool.should"),
        ({"bool": {"filler": []}}, "unsupported option 'filler' in 'bool' clause"),
        ({"match_all": []}, "malformed 'match_all' clause"),
    ],
)
def test_clause_refusals(body: Any, message: str) -> None:
    _refused(body, message)


def test_query_fields_walks_every_clause() -> None:
    query = parse_query(
        {
            "bool": {
                "must": [{"nested": {"path": "m", "query": {"exists": {"field": "m.x"}}}}],
                "should": [{"match": {"d": "t"}}],
                "must_not": [{"ids": {"values": ["a"]}}],
            }
        }
    )
    assert sorted(query_fields(query)) == ["_id", "d", "m.", "m.x"]


# Lucene pattern, strings it must match as a whole, strings it must not
REGEX_CASES = [
    (
        "atlan[-]glue[-][0-9]{10}",
        ["atlan-glue-1684500411"],
        ["atlan-glue-123456", "xatlan-glue-1234567890", "atlan-glue-12345678901", "atlan-glue-1234567890\n"],
    ),
    ("ab.d", ["abcd", "ab\nd", "ab.d"], ["abd", "abccd"]),
    ("a+b*c?", ["a", "aaab", "abbc", "ac"], ["b", "acc"]),
    ("(ab|cd){2,3}", ["abcd", "cdcdab"], ["ab", "abcdabcd"]),
    ("x{2,}", ["xx", "xxxxx"], ["x"]),
    ("[^a-c]z", ["dz", "-z"], ["az", "z"]),
    ("[\\]\\\\^]", ["]", "\\", "^"], ["a"]),
    ("[a-]", ["a", "-"], ["b"]),
    ("\\d\\w\\s\\D", ["1a x"], ["aa x", "1a 1"]),
    ("\\.\\*\\\\", [".*\\"], ["a*\\"]),
    ('"a.b*"c', ["a.b*c"], ["axbc"]),
    ("^a$", ["^a$"], ["a"]),  # no anchors in Lucene: literal characters
    ("", [""], ["a"]),
    ("()|x", ["", "x"], ["xx"]),
    ("é[à-ê]", ["éé"], ["ée"]),
]


@pytest.mark.parametrize(("lucene", "matches", "misses"), REGEX_CASES)
def test_lucene_regex_translation(lucene: str, matches: list[str], misses: list[str]) -> None:
    compiled = compiled_regex(lucene_regex(lucene))  # RE2, as SQLite's REGEXP runs it
    assert all(compiled.search(s) for s in matches), lucene
    assert not any(compiled.search(s) for s in misses), lucene


def test_regexp_node_carries_the_anchored_pattern() -> None:
    node = parse_query({"regexp": {"metadata.name.keyword": {"value": "atlan[-]glue[-][0-9]{10}"}}})
    assert isinstance(node, Regexp)
    assert node.pattern == r"^(?:atlan[\-]glue[\-](?:[0-9]){10})$"


@pytest.mark.parametrize(
    ("lucene", "message"),
    [
        ("a~b", "unsupported regexp operator '~'"),
        ("a&b", "unsupported regexp operator '&'"),
        ("<1-10>", "unsupported regexp operator '<'"),
        ("@", "unsupported regexp operator '@'"),
        ("[abc", "unterminated character class"),
        ("(ab", "unterminated group"),
        ("ab)", r"unexpected '\)'"),
        ("*a", r"unexpected '\*'"),
        ("a{3", "malformed {n,m} repetition"),
        ("a{5,2}", "n <= m <= 255"),
        ("a{300}", "n <= m <= 255"),
        ("[z-a]", "reversed range"),
        ("[]", "empty character class"),
        ("[\\D]", "not supported"),
        ('"abc', "unterminated quoted string"),
        ("ab\\", "unterminated escape"),
    ],
)
def test_regex_refusals(lucene: str, message: str) -> None:
    with pytest.raises(InvalidRequest, match=message):
        parse_query({"bool": {"filter": [{"regexp": {"f": lucene}}]}})
    with pytest.raises(InvalidRequest, match=r"at query.bool.filter\[0\]"):
        parse_query({"bool": {"filter": [{"regexp": {"f": lucene}}]}})


NOW = datetime(2024, 3, 31, 15, 45, 30, 250000, tzinfo=UTC)  # a Sunday


@pytest.mark.parametrize(
    ("text", "round_up", "expected"),
    [
        ("now", False, NOW),
        ("now-2h", False, datetime(2024, 3, 31, 13, 45, 30, 250000, tzinfo=UTC)),
        ("now-1d", False, datetime(2024, 3, 30, 15, 45, 30, 250000, tzinfo=UTC)),
        ("now+90m", False, datetime(2024, 3, 31, 17, 15, 30, 250000, tzinfo=UTC)),
        ("now-1M", False, datetime(2024, 2, 29, 15, 45, 30, 250000, tzinfo=UTC)),
        ("now-1y-1s", False, datetime(2023, 3, 31, 15, 45, 29, 250000, tzinfo=UTC)),
        ("now/d", False, datetime(2024, 3, 31, tzinfo=UTC)),
        ("now/d", True, datetime(2024, 3, 31, 23, 59, 59, 999000, tzinfo=UTC)),
        ("now/w", False, datetime(2024, 3, 25, tzinfo=UTC)),
        ("now/M", False, datetime(2024, 3, 1, tzinfo=UTC)),
        ("now-1d/y", False, datetime(2024, 1, 1, tzinfo=UTC)),
        ("now/H", False, datetime(2024, 3, 31, 15, tzinfo=UTC)),
        ("2024-01-31||+1M", False, datetime(2024, 2, 29, tzinfo=UTC)),
        ("2024-01-31T10:00:00+02:00||/h", False, datetime(2024, 1, 31, 8, tzinfo=UTC)),
    ],
)
def test_date_math(text: str, round_up: bool, expected: datetime) -> None:
    value = parse_query({"range": {"t": {"gte": text}}})
    assert isinstance(value, Range) and isinstance(value.gte, DateMath)
    assert value.gte.resolve(NOW, round_up=round_up) == expected


def test_parse_datetime() -> None:
    utc = UTC
    assert parse_datetime("2024-05-01T10:20:30Z") == datetime(2024, 5, 1, 10, 20, 30, tzinfo=utc)
    assert parse_datetime("2024-05-01T12:20:30+02:00") == datetime(2024, 5, 1, 10, 20, 30, tzinfo=utc)
    assert parse_datetime("2024-05-01") == datetime(2024, 5, 1, tzinfo=utc)
    assert parse_datetime("2024-05-01", round_up=True) == datetime(2024, 5, 1, 23, 59, 59, 999000, tzinfo=utc)
    assert parse_datetime("2024-05-01T10:00:00Z", round_up=True) == datetime(2024, 5, 1, 10, tzinfo=utc)
    assert parse_datetime(1714558830000) == datetime(2024, 5, 1, 10, 20, 30, tzinfo=utc)
    with pytest.raises(InvalidRequest, match="malformed date 'May 1st'"):
        parse_datetime("May 1st")


def test_nodes_are_frozen() -> None:
    term = Term("a", 1)
    with pytest.raises(AttributeError):
        term.field = "b"  # type: ignore[misc]
    assert TermsAgg("n", "f") == TermsAgg("n", "f", 10)
