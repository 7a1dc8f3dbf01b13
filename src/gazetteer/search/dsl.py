"""Parse the Elasticsearch query-DSL subset Atlan clients send into frozen, typed objects.

What for: `/api/service/{runs,workflows}/indexsearch` and `/api/meta/search/indexsearch` receive ES bodies.
This module checks them once and turns anything unsupported or malformed into `InvalidRequest`, naming
the clause and where it sits (e.g. ``query.bool.filter[1]``), so `gazetteer.search.compile` only ever
sees well-formed nodes. Nothing is silently dropped, except options that cannot change which documents
match (``boost``, ``_name``, ``rewrite``, ``score_mode``, ``_source``...). Sizes are bounded as
`gazetteer.search.limits` says; recursion goes no deeper than its `MAX_DEPTH`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Literal

from gazetteer.errors import InvalidRequest
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
    check_number,
    check_text,
)
from gazetteer.search.lucene import parse_date_math
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
    RangeValue,
    Regexp,
    SearchRequest,
    SortField,
    Term,
    Terms,
    TermsAgg,
    Wildcard,
)

# Without `track_total_hits`, Elasticsearch counts hits exactly up to 10,000 (and Atlan's approximateCount is
# that count): an exact total costs a pass over every match, which a client must ask for (pyatlan does).
DEFAULT_TRACK_TOTAL_HITS = 10_000
_IGNORED = frozenset({"boost", "_name"})  # options that cannot change which documents match
# `_source` (which fields to return) is the caller's business: accepted, not parsed.
_ENVELOPE = frozenset(
    ["from", "size", "query", "sort", "track_total_hits", "aggregations", "aggs", "post_filter", "_source"]
)


def parse_search_request(body: Any, *, max_size: int = 10_000, default_size: int = 10) -> SearchRequest:
    """Parse an ES search body; `size` above `max_size` is capped silently, as a page limit."""
    if not isinstance(body, Mapping):
        raise InvalidRequest("malformed search request: expected a JSON object")
    for key in body:
        if key not in _ENVELOPE:
            raise InvalidRequest(f"unsupported search option {key!r}")
    from_ = _int(body.get("from"), "from", 0)
    size = min(_int(body.get("size"), "size", default_size), max_size)
    if "aggregations" in body and "aggs" in body:
        raise InvalidRequest("malformed search request: both 'aggregations' and 'aggs' given")
    raw_query, raw_post_filter = body.get("query"), body.get("post_filter")
    query = MatchAll() if raw_query is None else parse_query(raw_query)
    post_filter = None if raw_post_filter is None else parse_query(raw_post_filter, "post_filter")
    _check_size(query, post_filter)
    return SearchRequest(
        from_=from_,
        size=size,
        query=query,
        sort=parse_sort(body.get("sort")),
        track_total_hits=_track_total_hits(body.get("track_total_hits")),
        aggregations=_parse_aggs(body.get("aggregations", body.get("aggs"))),
        post_filter=post_filter,
    )


def _track_total_hits(value: Any) -> bool | int:
    if value is None:
        return DEFAULT_TRACK_TOTAL_HITS
    if isinstance(value, bool):
        return value
    if not isinstance(value, int):
        raise InvalidRequest("malformed 'track_total_hits': expected a boolean or an integer")
    return False if value == -1 else _int(value, "track_total_hits", 0)  # -1: Elasticsearch's "do not count"


def _check_size(*queries: Query | None) -> None:
    clauses = [clause for query in queries if query is not None for clause in _walk(query)]
    if len(clauses) > MAX_CLAUSES:
        raise InvalidRequest(f"the search has {len(clauses):,} query clauses; at most {MAX_CLAUSES:,} are accepted")
    values = sum(len(clause.values) for clause in clauses if isinstance(clause, Terms))
    if values > MAX_TERMS:
        raise InvalidRequest(f"the search's terms and ids clauses list {values:,} values together; "
                             f"at most {MAX_TERMS:,} are accepted")


def parse_query(clause: Any, at: str = "query", *, depth: int = 1) -> Query:
    """Parse one query clause found at position `at` (used in error messages), `depth` bool/nested deep."""
    if not isinstance(clause, Mapping) or len(clause) != 1:
        raise InvalidRequest(
            f"malformed query clause at {at}: expected an object with exactly one clause name"
        )
    ((name, body),) = clause.items()
    if name in _COMPOUND:
        if depth > MAX_DEPTH:
            raise InvalidRequest(f"the query nests bool and nested clauses more than {MAX_DEPTH} deep (at {at})")
        return _COMPOUND[name](body, at, depth)
    parser = _PARSERS.get(name)
    if parser is None:
        raise InvalidRequest(f"unsupported query clause {name!r} at {at}")
    return parser(body, at)


def parse_sort(sort: Any, at: str = "sort") -> tuple[SortField, ...]:
    """Parse ``sort``: a list (or one) of ``"f"``, ``{f: "desc"}`` or ``{f: {order, nested, missing}}``."""
    if sort is None:
        return ()
    items = sort if isinstance(sort, list) else [sort]
    if len(items) > MAX_SORT:
        raise InvalidRequest(f"malformed sort: {len(items):,} sort keys; at most {MAX_SORT} are accepted")
    out = []
    for i, item in enumerate(items):
        pos = f"{at}[{i}]"
        if isinstance(item, str):
            out.append(SortField(item, at=pos))
            continue
        if not isinstance(item, Mapping) or len(item) != 1:
            raise InvalidRequest(f"malformed sort at {pos}: expected a field name or {{field: options}}")
        ((name, opts),) = item.items()
        opts = {"order": opts} if isinstance(opts, str) else opts
        if not isinstance(opts, Mapping):
            raise InvalidRequest(f"malformed sort at {pos}: options of {name!r} must be an object")
        _check_keys(opts, {"order", "missing", "nested", "nested_path", "unmapped_type"}, f"sort at {pos}")
        order, missing = str(opts.get("order", "asc")).lower(), opts.get("missing", "_last")
        if order not in ("asc", "desc"):
            raise InvalidRequest(f"malformed sort at {pos}: order must be 'asc' or 'desc'")
        if missing not in ("_first", "_last"):
            raise InvalidRequest(f"unsupported sort option missing={missing!r} at {pos}")
        nested = opts.get("nested", {"path": opts["nested_path"]} if "nested_path" in opts else None)
        path = None
        if nested is not None:
            if not isinstance(nested, Mapping):
                raise InvalidRequest(f"malformed sort at {pos}: 'nested' must be an object")
            _check_keys(nested, {"path"}, f"sort at {pos}.nested")
            path = nested.get("path")
            if not isinstance(path, str) or not name.startswith(path + "."):
                raise InvalidRequest(f"malformed sort at {pos}: nested path must be a prefix of {name!r}")
        out.append(SortField(name, order, missing, path, at=pos))  # type: ignore[arg-type]
    return tuple(out)


def _parse_aggs(aggs: Any) -> tuple[TermsAgg, ...]:
    if aggs is None:
        return ()
    if not isinstance(aggs, Mapping):
        raise InvalidRequest("malformed aggregations: expected an object")
    if len(aggs) > MAX_AGGREGATIONS:
        raise InvalidRequest(f"malformed aggregations: {len(aggs):,} of them; at most {MAX_AGGREGATIONS} are accepted")
    out = []
    for name, spec in aggs.items():
        at = f"aggregations.{name}"
        if not isinstance(spec, Mapping) or len(spec) != 1:
            raise InvalidRequest(f"malformed aggregation at {at}: expected exactly one aggregation type")
        ((kind, body),) = spec.items()
        if kind != "terms":
            raise InvalidRequest(f"unsupported aggregation {kind!r} at {at}")
        if not isinstance(body, Mapping) or not isinstance(body.get("field"), str):
            raise InvalidRequest(f"malformed 'terms' aggregation at {at}: a 'field' is required")
        _check_keys(body, {"field", "size"}, f"'terms' aggregation at {at}")
        size = _int(body.get("size"), f"{at}.terms.size", 10)
        if size < 1:
            raise InvalidRequest(f"malformed 'terms' aggregation at {at}: size must be at least 1")
        out.append(TermsAgg(name, body["field"], min(size, MAX_BUCKETS)))
    return tuple(out)


def _int(value: Any, what: str, default: int) -> int:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidRequest(f"malformed {what!r}: expected a non-negative integer, got {value!r}")
    if value > MAX_PAGING:
        raise InvalidRequest(f"malformed {what!r}: at most {MAX_PAGING:,} is accepted")
    return value


def _check_keys(body: Mapping[str, Any], allowed: set[str] | frozenset[str], where: str) -> None:
    for key in body:
        if key not in allowed and key not in _IGNORED:
            raise InvalidRequest(f"unsupported option {key!r} in {where}")


def _bad(name: str, at: str, detail: str) -> InvalidRequest:
    return InvalidRequest(f"malformed {name!r} clause at {at}: {detail}")


def _one_field(name: str, body: Any, at: str) -> tuple[str, Any]:
    fields = [k for k in body if k not in _IGNORED] if isinstance(body, Mapping) else None
    if not fields or len(fields) != 1:
        raise _bad(name, at, "expected exactly one field")
    return fields[0], body[fields[0]]


def _leaf(name: str, body: Any, at: str, options: set[str]) -> tuple[str, Any, bool]:
    """Parse ``{field: value}`` / ``{field: {"value": v, ...}}``; returns field, value, case_insensitive."""
    fld, spec = _one_field(name, body, at)
    if not isinstance(spec, Mapping):
        spec = {"value": spec}
    _check_keys(spec, {"value", "case_insensitive"} | options, f"{name!r} clause at {at}")
    value = spec.get("wildcard", spec.get("value")) if name == "wildcard" else spec.get("value")
    if name != "term" and not isinstance(value, str):
        raise _bad(name, at, f"the value of {fld!r} must be a string")
    if isinstance(value, (Mapping, list)) or value is None:
        raise _bad(name, at, f"the value of {fld!r} must be a string, number or boolean")
    ci = spec.get("case_insensitive", False)
    if not isinstance(ci, bool):
        raise _bad(name, at, "case_insensitive must be a boolean")
    if spec.get("flags", "ALL") != "ALL":
        raise InvalidRequest(f"unsupported regexp flags {spec['flags']!r} at {at}")
    limit = MAX_REGEXP_CHARS if name == "regexp" else MAX_VALUE_CHARS
    return fld, _scalar(value, f"the value of {fld!r} in the {name!r} clause at {at}", limit), ci


def _scalar(value: Any, what: str, limit: int = MAX_VALUE_CHARS) -> Any:
    """A string, number or boolean of a clause, within `gazetteer.search.limits`."""
    return check_text(value, limit, what) if isinstance(value, str) else check_number(value, what)


def _term(body: Any, at: str) -> Query:
    return Term(*_leaf("term", body, at, set()), at=at)


def _prefix(body: Any, at: str) -> Query:
    return Prefix(*_leaf("prefix", body, at, {"rewrite"}), at=at)


def _wildcard(body: Any, at: str) -> Query:
    return Wildcard(*_leaf("wildcard", body, at, {"wildcard", "rewrite"}), at=at)


def _regexp(body: Any, at: str) -> Query:
    return Regexp(*_leaf("regexp", body, at, {"flags", "max_determinized_states", "rewrite"}), at=at)


def _terms(body: Any, at: str) -> Query:
    fld, values = _one_field("terms", body, at)
    if not isinstance(values, list):
        raise _bad("terms", at, f"the value of {fld!r} must be a list (terms lookup is not supported)")
    if len(values) > MAX_TERMS:
        raise _bad("terms", at, f"{len(values):,} values; at most {MAX_TERMS:,} are accepted")
    if any(isinstance(v, (Mapping, list)) or v is None for v in values):
        raise _bad("terms", at, "values must be strings, numbers or booleans")
    return Terms(fld, tuple(_scalar(v, f"a value of {fld!r} in the 'terms' clause at {at}") for v in values), at=at)


def _ids(body: Any, at: str) -> Query:
    if not isinstance(body, Mapping) or not isinstance(body.get("values"), list):
        raise _bad("ids", at, "expected {'values': [...]}")
    _check_keys(body, {"values"}, f"'ids' clause at {at}")
    return _terms({"_id": body["values"]}, at)


def _exists(body: Any, at: str) -> Query:
    if not isinstance(body, Mapping) or not isinstance(body.get("field"), str):
        raise _bad("exists", at, "expected {'field': name}")
    _check_keys(body, {"field"}, f"'exists' clause at {at}")
    return Exists(body["field"], at=at)


def _range(body: Any, at: str) -> Query:
    fld, spec = _one_field("range", body, at)
    if not isinstance(spec, Mapping):
        raise _bad("range", at, f"the bounds of {fld!r} must be an object")
    _check_keys(spec, {"gt", "gte", "lt", "lte", "format", "time_zone"}, f"'range' clause at {at}")
    if spec.get("time_zone", "UTC") not in ("UTC", "Z", "+00:00", "Etc/UTC"):
        raise InvalidRequest(f"unsupported range time_zone {spec['time_zone']!r} at {at} (only UTC)")
    if spec.get("format", "strict_date_optional_time") not in (
        "strict_date_optional_time",
        "date_optional_time",
        "epoch_millis",
        "strict_date_optional_time||epoch_millis",
    ):
        raise InvalidRequest(f"unsupported range format {spec['format']!r} at {at}")
    if ("gt" in spec and "gte" in spec) or ("lt" in spec and "lte" in spec):
        raise _bad("range", at, "give at most one lower and one upper bound")
    bounds = {
        op: _range_value(spec[op], f"{at}.range.{fld}.{op}")
        for op in ("gt", "gte", "lt", "lte")
        if op in spec
    }
    return Range(fld, **bounds, at=at)


def _range_value(value: Any, at: str) -> RangeValue | None:
    if value is None or (isinstance(value, (int, float)) and not isinstance(value, bool)):
        return None if value is None else check_number(value, f"the range bound at {at}")
    if not isinstance(value, str):
        raise InvalidRequest(f"malformed range bound at {at}: expected a number or a string")
    check_text(value, MAX_VALUE_CHARS, f"the range bound at {at}")
    if not (value.startswith("now") or "||" in value):
        return value
    anchor, ops = parse_date_math(value, at)
    return DateMath(value, anchor, ops)


def _nested(body: Any, at: str, depth: int) -> Query:
    if not isinstance(body, Mapping) or not isinstance(body.get("path"), str) or "query" not in body:
        raise _bad("nested", at, "expected {'path': ..., 'query': ...}")
    _check_keys(
        body, {"path", "query", "score_mode", "score_more", "ignore_unmapped"}, f"'nested' clause at {at}"
    )
    path, inner = body["path"], parse_query(body["query"], f"{at}.nested.query", depth=depth + 1)
    for name in query_fields(inner):
        if not name.startswith(path + "."):
            raise _bad("nested", at, f"field {name!r} is not under the nested path {path!r}")
    return Nested(path, inner, at=at)


def _bool(body: Any, at: str, depth: int) -> Query:
    if not isinstance(body, Mapping):
        raise _bad("bool", at, "expected an object")
    _check_keys(
        body, {"must", "filter", "should", "must_not", "minimum_should_match"}, f"'bool' clause at {at}"
    )
    parts: dict[str, tuple[Query, ...]] = {}
    for key in ("must", "filter", "should", "must_not"):
        raw = body.get(key, [])
        if isinstance(raw, list):
            if len(raw) > MAX_CLAUSES:  # refused before parsing them all; `_check_size` counts the whole query
                raise _bad("bool", at, f"{len(raw):,} {key} clauses; at most {MAX_CLAUSES:,} are accepted")
            parts[key] = tuple(parse_query(c, f"{at}.bool.{key}[{i}]", depth=depth + 1) for i, c in enumerate(raw))
        else:
            parts[key] = (parse_query(raw, f"{at}.bool.{key}", depth=depth + 1),)
    n = len(parts["should"])
    msm: Any = body.get("minimum_should_match")
    if msm is None:
        count = 1 if n and not (parts["must"] or parts["filter"]) else 0
    elif isinstance(msm, (int, str)) and not isinstance(msm, bool) and re.fullmatch(r"-?\d{1,9}%?", str(msm)):
        text = str(msm)
        k = abs(int(text.rstrip("%")))
        k = n * k // 100 if text.endswith("%") else k
        count = max(0, n - k if text.startswith("-") else k)
    else:
        raise InvalidRequest(f"unsupported minimum_should_match {msm!r} at {at}")
    return Bool(**parts, minimum_should_match=count, at=at)


def _match_all(body: Any, at: str, name: str = "match_all") -> Query:
    if not isinstance(body, Mapping):
        raise _bad(name, at, "expected an object")
    _check_keys(body, set(), f"{name!r} clause at {at}")
    return MatchAll(at=at) if name == "match_all" else MatchNone(at=at)


def _full_text(kind: Literal["match", "multi_match"], body: Any, at: str) -> Query:
    if kind == "match":
        fld, spec = _one_field("match", body, at)
        spec = spec if isinstance(spec, Mapping) else {"query": spec}
        fields: Any = [fld]
    else:
        spec = body if isinstance(body, Mapping) else {}
        fields = spec.get("fields", [])
        fields = [fields] if isinstance(fields, str) else fields
    _check_keys(
        spec,
        {"query", "operator"} | ({"fields", "type"} if kind == "multi_match" else set()),
        f"{kind!r} clause at {at}",
    )
    text, operator = spec.get("query"), str(spec.get("operator", "or")).lower()
    if isinstance(text, (Mapping, list)) or text is None:
        raise _bad(kind, at, "'query' must be a string")
    if (
        operator not in ("or", "and")
        or not isinstance(fields, list)
        or not all(isinstance(f, str) for f in fields)
    ):
        raise _bad(kind, at, "operator must be 'or' or 'and' and fields a list of names")
    mtype = spec.get("type", "best_fields")
    if mtype not in ("best_fields", "most_fields", "cross_fields", "phrase", "phrase_prefix", "bool_prefix"):
        raise InvalidRequest(f"unsupported multi_match type {mtype!r} at {at}")
    names = tuple(f.split("^")[0] for f in fields)  # "name^5": boosts do not change which documents match
    text = check_text(str(text), MAX_TEXT_CHARS, f"the query text of the {kind!r} clause at {at}")
    return FullText(text, names, operator, kind, mtype, at=at)  # type: ignore[arg-type]


# parsers that recurse, given the depth
_COMPOUND: dict[str, Callable[[Any, str, int], Query]] = {"bool": _bool, "nested": _nested}
_PARSERS: dict[str, Callable[[Any, str], Query]] = {
    "term": _term,
    "terms": _terms,
    "ids": _ids,
    "prefix": _prefix,
    "wildcard": _wildcard,
    "regexp": _regexp,
    "range": _range,
    "exists": _exists,
    "match_all": _match_all,
    "match_none": lambda b, at: _match_all(b, at, "match_none"),
    "match": lambda b, at: _full_text("match", b, at),
    "multi_match": lambda b, at: _full_text("multi_match", b, at),
}


def _walk(query: Query) -> Iterator[Query]:
    """`query` and every clause inside it, parents first."""
    yield query
    if isinstance(query, Bool):
        for child in (*query.must, *query.filter, *query.should, *query.must_not):
            yield from _walk(child)
    elif isinstance(query, Nested):
        yield from _walk(query.query)


def query_fields(query: Query) -> Iterator[str]:
    """Every field name a query refers to (nested paths included), e.g. to check them against a schema."""
    for clause in _walk(query):
        if isinstance(clause, Nested):
            yield clause.path + "."
        elif isinstance(clause, FullText):
            yield from clause.fields
        elif not isinstance(clause, (Bool, MatchAll, MatchNone)):
            yield clause.field


__all__ = ["DEFAULT_TRACK_TOTAL_HITS", "parse_query", "parse_search_request", "parse_sort", "query_fields"]
