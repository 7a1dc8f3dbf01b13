"""The bounds of a search (gazetteer.search.limits): just inside each one parses, just outside is a 400."""

from __future__ import annotations

from typing import Any

import pytest

from gazetteer.errors import InvalidRequest
from gazetteer.search import Bool, Regexp, Terms, parse_datetime, parse_query, parse_search_request
from gazetteer.search.limits import (
    MAX_AGGREGATIONS,
    MAX_BUCKETS,
    MAX_CLAUSES,
    MAX_DEPTH,
    MAX_PAGING,
    MAX_REGEXP_CHARS,
    MAX_SORT,
    MAX_TERMS,
    MAX_TEXT_CHARS,
    MAX_VALUE_CHARS,
)

HUGE = 10**30  # what a JSON body may carry: Python reads integers of any size


def _refused(body: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidRequest, match=message):
        parse_search_request(body)


def _nest(depth: int, leaf: dict[str, Any]) -> dict[str, Any]:
    query = leaf
    for _ in range(depth):
        query = {"bool": {"filter": [query]}}
    return query


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"from": HUGE}, "'from': at most 2,147,483,647"),
        ({"from": 2**63}, "'from': at most"),
        ({"from": MAX_PAGING + 1}, "'from': at most"),
        ({"size": HUGE}, "'size': at most"),
        ({"track_total_hits": HUGE}, "'track_total_hits': at most"),
        ({"track_total_hits": -5}, "'track_total_hits': expected a non-negative integer"),
        ({"aggs": {"t": {"terms": {"field": "f", "size": HUGE}}}}, r"'aggregations.t.terms.size': at most"),
        ({"query": {"range": {"n": {"gte": HUGE}}}}, r"range bound at query.range.n.gte is out of range"),
        ({"query": {"range": {"n": {"lt": -(2**63) - 1}}}}, "out of range: integers must fit in 64 bits"),
        ({"query": {"range": {"n": {"gte": float("nan")}}}}, "not a finite number"),
        ({"query": {"range": {"n": {"lte": float("inf")}}}}, "not a finite number"),
        ({"query": {"term": {"n": HUGE}}}, r"value of 'n' in the 'term' clause at query is out of range"),
        ({"query": {"terms": {"n": [1, HUGE]}}}, r"a value of 'n' in the 'terms' clause at query is out of range"),
        ({"query": {"bool": {"must": [], "minimum_should_match": "9" * 5000}}}, "unsupported minimum_should_match"),
    ],
)
def test_numbers_no_column_can_hold_are_refused(body: dict[str, Any], message: str) -> None:
    _refused(body, message)


def test_numbers_at_the_bounds_are_accepted() -> None:
    request = parse_search_request({"from": MAX_PAGING, "size": MAX_PAGING, "track_total_hits": MAX_PAGING,
                                    "aggs": {"t": {"terms": {"field": "f", "size": MAX_PAGING}}}}, max_size=100)
    assert (request.from_, request.size, request.track_total_hits) == (MAX_PAGING, 100, MAX_PAGING)
    assert request.aggregations[0].size == MAX_BUCKETS  # capped silently, as the page size is
    assert parse_search_request({"track_total_hits": -1}).track_total_hits is False  # ES's "do not count"
    extremes = parse_query({"range": {"n": {"gte": -(2**63), "lte": 2**63 - 1}}})
    assert (extremes.gte, extremes.lte) == (-(2**63), 2**63 - 1)  # type: ignore[union-attr]


def test_epoch_milliseconds_past_year_9999_are_refused() -> None:
    assert parse_datetime(253402300799999).year == 9999
    with pytest.raises(InvalidRequest, match="epoch milliseconds 253402300800000 at q are out of range"):
        parse_datetime(253402300800000, "q")
    with pytest.raises(InvalidRequest, match="out of range"):
        parse_datetime(2**62)


@pytest.mark.parametrize(
    ("clause", "limit"),
    [("term", MAX_VALUE_CHARS), ("prefix", MAX_VALUE_CHARS), ("wildcard", MAX_VALUE_CHARS),
     ("regexp", MAX_REGEXP_CHARS)],
)
def test_value_lengths(clause: str, limit: int) -> None:
    assert parse_query({clause: {"name": "a" * limit}})
    with pytest.raises(InvalidRequest, match=rf"the value of 'name' in the '{clause}' clause at query is "
                                              rf"{limit + 1:,} characters long; at most {limit:,}"):
        parse_query({clause: {"name": {"value": "a" * (limit + 1)}}})
    with pytest.raises(InvalidRequest, match="characters long"):
        parse_query({"terms": {"name": ["a", "b" * (MAX_VALUE_CHARS + 1)]}})
    with pytest.raises(InvalidRequest, match="the range bound at query.range.t.gte is"):
        parse_query({"range": {"t": {"gte": "now" + "-1d" * MAX_VALUE_CHARS}}})


def test_full_text_length() -> None:
    assert parse_query({"match": {"name": "a" * MAX_TEXT_CHARS}})
    with pytest.raises(InvalidRequest, match=r"query text of the 'multi_match' clause at query.bool.must\[0\] is "
                                             "100,000 characters long"):
        parse_query({"bool": {"must": [{"multi_match": {"query": "x" * 100_000}}]}})


@pytest.mark.parametrize("lucene", ["a{255}{255}{255}{255}", "((a{40}){40})", "(a{255}){255}"])
def test_regexps_re2_refuses_are_a_400_naming_the_clause(lucene: str) -> None:
    with pytest.raises(InvalidRequest, match=r"the 'regexp' clause at query.bool.filter\[0\] is refused by the "
                                             "regex engine: (bad|invalid) repetition"):
        parse_query({"bool": {"filter": [{"regexp": {"qualifiedName": lucene}}]}})


def test_the_pathological_regexp_is_accepted_and_anchored() -> None:
    node = parse_query({"regexp": {"qualifiedName": "(.|.)*X"}})
    assert isinstance(node, Regexp) and node.pattern == "^(?:(?:(?:.|.))*X)$"


def test_bool_and_nested_depth() -> None:
    assert parse_query(_nest(MAX_DEPTH, {"match_all": {}}))
    with pytest.raises(InvalidRequest, match=f"nests bool and nested clauses more than {MAX_DEPTH} deep"):
        parse_query(_nest(MAX_DEPTH + 1, {"match_all": {}}))
    nested = {"nested": {"path": "a", "query": _nest(MAX_DEPTH - 1, {"term": {"a.b": 1}})}}
    assert parse_query(nested)
    with pytest.raises(InvalidRequest, match="more than 20 deep"):
        parse_query({"bool": {"must": nested}})


def test_the_parser_stops_long_before_the_recursion_limit() -> None:
    # Deeper than Python's recursion limit: built here, where no JSON parser limits the nesting.
    with pytest.raises(InvalidRequest, match="more than 20 deep"):
        parse_search_request({"query": _nest(100_000, {"match_all": {}})})


def test_clause_and_terms_counts() -> None:
    should = [{"term": {"name": str(i)}} for i in range(MAX_CLAUSES - 1)]
    request = parse_search_request({"query": {"bool": {"should": should}}})
    assert isinstance(request.query, Bool) and len(request.query.should) == MAX_CLAUSES - 1
    _refused({"query": {"bool": {"should": [*should, {"match_all": {}}, {"match_all": {}}]}}},
             f"bool' clause at query: 1,025 should clauses; at most {MAX_CLAUSES:,}")
    half = [{"term": {"name": str(i)}} for i in range(MAX_CLAUSES // 2)]
    _refused({"query": {"bool": {"must": half}}, "post_filter": {"bool": {"must": half}}},
             "the search has 1,026 query clauses; at most 1,024")

    values = list(range(MAX_TERMS))
    assert isinstance(parse_query({"terms": {"name": values}}), Terms)
    _refused({"query": {"terms": {"name": [*values, 0]}}}, "10,001 values; at most 10,000")
    _refused({"query": {"terms": {"name": values[:6000]}}, "post_filter": {"ids": {"values": values[:6000]}}},
             "list 12,000 values together; at most 10,000")


def test_sort_keys_and_aggregations() -> None:
    assert len(parse_search_request({"sort": [{f"f{i}": "asc"} for i in range(MAX_SORT)]}).sort) == MAX_SORT
    _refused({"sort": [{"name": "asc"}] * (MAX_SORT + 1)}, "65 sort keys; at most 64")
    aggs = {f"a{i}": {"terms": {"field": f"f{i}"}} for i in range(MAX_AGGREGATIONS)}
    assert len(parse_search_request({"aggs": aggs}).aggregations) == MAX_AGGREGATIONS
    _refused({"aggs": {**aggs, "one_more": {"terms": {"field": "f"}}}}, "101 of them; at most 100")
