"""The Elasticsearch query-DSL subset behind the workflow and asset searches.

What for: `dsl` parses a search body into the frozen, typed clauses of `nodes` (refusing what it does not
support, with the clause's position; `lucene` handles regexps, dates and date math inside values);
`compile` turns them into SQLAlchemy Core expressions through a `FieldResolver` that each store writes
for its own columns.
"""

from __future__ import annotations

from gazetteer.search.compile import (
    FieldResolver,
    ResolvedField,
    apply_search,
    compile_query,
    compile_sort,
    compile_terms_agg,
    terms_agg_result,
)
from gazetteer.search.dsl import parse_query, parse_search_request, parse_sort, query_fields
from gazetteer.search.lucene import lucene_regex, parse_datetime
from gazetteer.search.nodes import (
    Bool,
    DateMath,
    Exists,
    FullText,
    MatchAll,
    MatchNone,
    Nested,
    Prefix,
    Query,
    Range,
    Regexp,
    SearchRequest,
    SortField,
    Term,
    Terms,
    TermsAgg,
    Wildcard,
)

__all__ = [
    "Bool",
    "DateMath",
    "Exists",
    "FieldResolver",
    "FullText",
    "MatchAll",
    "MatchNone",
    "Nested",
    "Prefix",
    "Query",
    "Range",
    "Regexp",
    "ResolvedField",
    "SearchRequest",
    "SortField",
    "Term",
    "Terms",
    "TermsAgg",
    "Wildcard",
    "apply_search",
    "compile_query",
    "compile_sort",
    "compile_terms_agg",
    "lucene_regex",
    "parse_datetime",
    "parse_query",
    "parse_search_request",
    "parse_sort",
    "query_fields",
    "terms_agg_result",
]
