"""Parse the Elasticsearch query-DSL subset Atlan clients send into frozen, typed objects.

What for: `/api/service/{runs,workflows}/indexsearch` and `/api/meta/search/indexsearch` receive ES bodies.
This module checks them once and turns anything unsupported or malformed into `InvalidRequest`, naming
the clause and where it sits (e.g. ``query.bool.filter[1]``), so `gazetteer.search.compile` only ever
sees well-formed nodes. Nothing is silently dropped, except options that cannot change which documents
match (``boost``, ``_name``, ``rewrite``, ``score_mode``, ``_source``...).
"""

from __future__ import annotations

import calendar
import re
import string
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Literal, Union

from gazetteer.errors import InvalidRequest

Scalar = Union[str, int, float, bool]
_IGNORED = frozenset({"boost", "_name"})


def _at() -> Any:
    return field(default="query", compare=False, repr=False)


@dataclass(frozen=True)
class DateMath:
    """An ES date-math expression (``now-2h``, ``now/d``, ``2024-01-01||+1M``), resolved at compile time."""

    text: str
    anchor: datetime | None  # None means "now"
    ops: tuple[tuple[str, int, str], ...]  # ("+", 2, "h") or ("/", 0, "d")

    def resolve(self, now: datetime, *, round_up: bool = False) -> datetime:
        """The instant it denotes; `round_up` gives ES's gt/lte rounding (last millisecond of the unit)."""
        value = self.anchor or now
        for op, amount, unit in self.ops:
            if op == "/":
                value = _floor(value, unit)
                if round_up:
                    value = _add(value, 1, unit) - timedelta(milliseconds=1)
            else:
                value = _add(value, amount if op == "+" else -amount, unit)
        return value


@dataclass(frozen=True)
class MatchAll:
    at: str = _at()


@dataclass(frozen=True)
class MatchNone:
    at: str = _at()


@dataclass(frozen=True)
class Term:
    field: str
    value: Scalar
    case_insensitive: bool = False
    at: str = _at()


@dataclass(frozen=True)
class Terms:
    """Any of `values` (also what ``ids`` parses to, on the field ``_id``)."""

    field: str
    values: tuple[Scalar, ...]
    at: str = _at()


@dataclass(frozen=True)
class Prefix:
    field: str
    value: str
    case_insensitive: bool = False
    at: str = _at()


@dataclass(frozen=True)
class Wildcard:
    """Lucene wildcard: ``*`` any run, ``?`` one character, ``\\`` escapes; matches the whole value."""

    field: str
    value: str
    case_insensitive: bool = False
    at: str = _at()


@dataclass(frozen=True)
class Regexp:
    """Lucene regexp; `pattern` is its translation to a regex anchored to the whole value (\\A...\\Z)."""

    field: str
    value: str
    case_insensitive: bool = False
    at: str = _at()
    pattern: str = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "pattern", lucene_regex_to_python(self.value, at=self.at))


RangeValue = Union[int, float, str, DateMath]


@dataclass(frozen=True)
class Range:
    field: str
    gt: RangeValue | None = None
    gte: RangeValue | None = None
    lt: RangeValue | None = None
    lte: RangeValue | None = None
    at: str = _at()


@dataclass(frozen=True)
class Exists:
    field: str
    at: str = _at()


@dataclass(frozen=True)
class FullText:
    """``match``/``multi_match``: kept as text for the resolver, which owns full-text search."""

    text: str
    fields: tuple[str, ...]
    operator: Literal["or", "and"] = "or"
    kind: Literal["match", "multi_match"] = "match"
    type: str = "best_fields"
    at: str = _at()


@dataclass(frozen=True)
class Nested:
    """ES nested query; on our stores it is just its inner query (every field is under `path`)."""

    path: str
    query: Query
    at: str = _at()


@dataclass(frozen=True)
class Bool:
    must: tuple[Query, ...] = ()
    filter: tuple[Query, ...] = ()
    should: tuple[Query, ...] = ()
    must_not: tuple[Query, ...] = ()
    minimum_should_match: int = 0  # how many `should` clauses must match, already resolved to a count
    at: str = _at()


Query = Union[MatchAll, MatchNone, Bool, Term, Terms, Prefix, Wildcard, Regexp, Range, Exists, Nested, FullText]


@dataclass(frozen=True)
class SortField:
    field: str
    order: Literal["asc", "desc"] = "asc"
    missing: Literal["_first", "_last"] = "_last"
    nested_path: str | None = None
    at: str = field(default="sort", compare=False, repr=False)


@dataclass(frozen=True)
class TermsAgg:
    name: str
    field: str
    size: int = 10


@dataclass(frozen=True)
class SearchRequest:
    """A whole search body: paging, query, sort, aggregations (terms only) and an optional post_filter."""

    from_: int = 0
    size: int = 10
    query: Query = MatchAll()
    sort: tuple[SortField, ...] = ()
    track_total_hits: bool | int = True
    aggregations: tuple[TermsAgg, ...] = ()
    post_filter: Query | None = None


def parse_search_request(body: Any, *, max_size: int = 10_000, default_size: int = 10) -> SearchRequest:
    """Parse an ES search body; `size` above `max_size` is capped silently, as a page limit."""
    if not isinstance(body, Mapping):
        raise InvalidRequest("malformed search request: expected a JSON object")
    known = {"from", "size", "query", "sort", "track_total_hits", "aggregations", "aggs", "post_filter", "_source"}
    for key in body:
        if key not in known:
            raise InvalidRequest(f"unsupported search option {key!r}")
    from_ = _int(body.get("from"), "from", 0)
    size = min(_int(body.get("size"), "size", default_size), max_size)
    tth = body.get("track_total_hits", True)
    if tth is None:
        tth = True
    if not isinstance(tth, (bool, int)):
        raise InvalidRequest("malformed 'track_total_hits': expected a boolean or an integer")
    if "aggregations" in body and "aggs" in body:
        raise InvalidRequest("malformed search request: both 'aggregations' and 'aggs' given")
    query = body.get("query")
    post_filter = body.get("post_filter")
    return SearchRequest(
        from_=from_,
        size=size,
        query=MatchAll() if query is None else parse_query(query),
        sort=parse_sort(body.get("sort")),
        track_total_hits=tth,
        aggregations=_parse_aggs(body.get("aggregations", body.get("aggs"))),
        post_filter=None if post_filter is None else parse_query(post_filter, "post_filter"),
    )


def parse_query(clause: Any, at: str = "query") -> Query:
    """Parse one query clause found at position `at` (used in error messages)."""
    if not isinstance(clause, Mapping) or len(clause) != 1:
        raise InvalidRequest(f"malformed query clause at {at}: expected an object with exactly one clause name")
    ((name, body),) = clause.items()
    parser = _PARSERS.get(name)
    if parser is None:
        raise InvalidRequest(f"unsupported query clause {name!r} at {at}")
    return parser(body, at)


def parse_sort(sort: Any, at: str = "sort") -> tuple[SortField, ...]:
    """Parse ``sort``: a list (or one) of ``"field"``, ``{field: "desc"}`` or ``{field: {order, nested, missing}}``."""
    if sort is None:
        return ()
    items = sort if isinstance(sort, list) else [sort]
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
        out.append(TermsAgg(name, body["field"], size))
    return tuple(out)


def _int(value: Any, what: str, default: int) -> int:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidRequest(f"malformed {what!r}: expected a non-negative integer, got {value!r}")
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
    return fld, value, ci


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
    if any(isinstance(v, (Mapping, list)) or v is None for v in values):
        raise _bad("terms", at, "values must be strings, numbers or booleans")
    return Terms(fld, tuple(values), at=at)


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
        "strict_date_optional_time", "date_optional_time", "epoch_millis", "strict_date_optional_time||epoch_millis"
    ):
        raise InvalidRequest(f"unsupported range format {spec['format']!r} at {at}")
    if ("gt" in spec and "gte" in spec) or ("lt" in spec and "lte" in spec):
        raise _bad("range", at, "give at most one lower and one upper bound")
    bounds = {op: _range_value(spec[op], f"{at}.range.{fld}.{op}") for op in ("gt", "gte", "lt", "lte") if op in spec}
    return Range(fld, **bounds, at=at)


_DATE_MATH = re.compile(r"(?:now|(?P<anchor>.+?)\|\|)(?P<ops>(?:[+-]\d+[yMwdhHms]|/[yMwdhHms])*)")
_OP = re.compile(r"([+-])(\d+)([yMwdhHms])|/([yMwdhHms])")


def _range_value(value: Any, at: str) -> RangeValue | None:
    if value is None or (isinstance(value, (int, float)) and not isinstance(value, bool)):
        return value
    if not isinstance(value, str):
        raise InvalidRequest(f"malformed range bound at {at}: expected a number or a string")
    if not (value.startswith("now") or "||" in value):
        return value
    m = _DATE_MATH.fullmatch(value)
    if m is None:
        raise InvalidRequest(f"malformed date math {value!r} at {at}")
    anchor = parse_datetime(m["anchor"], at) if m["anchor"] else None
    ops = tuple((o[0], int(o[1]), o[2]) if o[0] else ("/", 0, o[3]) for o in _OP.findall(m["ops"]))
    return DateMath(value, anchor, ops)


def parse_datetime(value: str | int | float, at: str = "query") -> datetime:
    """ISO-8601 (``Z`` or offset; naive means UTC) or epoch milliseconds, as an aware UTC datetime."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return datetime.fromtimestamp(value / 1000, timezone.utc)
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        raise InvalidRequest(f"malformed date {value!r} at {at}: expected ISO-8601 or date math") from None
    return parsed.replace(tzinfo=timezone.utc) if parsed.tzinfo is None else parsed.astimezone(timezone.utc)


def _add(value: datetime, amount: int, unit: str) -> datetime:
    if unit in "yM":
        months = value.month - 1 + amount * (12 if unit == "y" else 1)
        year, month = value.year + months // 12, months % 12 + 1
        return value.replace(year=year, month=month, day=min(value.day, calendar.monthrange(year, month)[1]))
    names = {"w": "weeks", "d": "days", "h": "hours", "H": "hours", "m": "minutes", "s": "seconds"}
    return value + timedelta(**{names[unit]: amount})


def _floor(value: datetime, unit: str) -> datetime:
    if unit == "w":
        value -= timedelta(days=value.weekday())
    keep = "yMdhms".index("d" if unit == "w" else unit.replace("H", "h"))
    reset = dict(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
    return value.replace(**dict(list(reset.items())[keep:]))


def _nested(body: Any, at: str) -> Query:
    if not isinstance(body, Mapping) or not isinstance(body.get("path"), str) or "query" not in body:
        raise _bad("nested", at, "expected {'path': ..., 'query': ...}")
    _check_keys(body, {"path", "query", "score_mode", "score_more", "ignore_unmapped"}, f"'nested' clause at {at}")
    path, inner = body["path"], parse_query(body["query"], f"{at}.nested.query")
    for name in query_fields(inner):
        if not name.startswith(path + "."):
            raise _bad("nested", at, f"field {name!r} is not under the nested path {path!r}")
    return Nested(path, inner, at=at)


def _bool(body: Any, at: str) -> Query:
    if not isinstance(body, Mapping):
        raise _bad("bool", at, "expected an object")
    _check_keys(body, {"must", "filter", "should", "must_not", "minimum_should_match"}, f"'bool' clause at {at}")
    parts: dict[str, tuple[Query, ...]] = {}
    for key in ("must", "filter", "should", "must_not"):
        raw = body.get(key, [])
        if isinstance(raw, list):
            parts[key] = tuple(parse_query(c, f"{at}.bool.{key}[{i}]") for i, c in enumerate(raw))
        else:
            parts[key] = (parse_query(raw, f"{at}.bool.{key}"),)
    n = len(parts["should"])
    msm: Any = body.get("minimum_should_match")
    if msm is None:
        count = 1 if n and not (parts["must"] or parts["filter"]) else 0
    elif isinstance(msm, (int, str)) and not isinstance(msm, bool) and re.fullmatch(r"-?\d+%?", str(msm)):
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
    _check_keys(spec, {"query", "operator"} | ({"fields", "type"} if kind == "multi_match" else set()), f"{kind!r} clause at {at}")
    text, operator = spec.get("query"), str(spec.get("operator", "or")).lower()
    if isinstance(text, (Mapping, list)) or text is None:
        raise _bad(kind, at, "'query' must be a string")
    if operator not in ("or", "and") or not isinstance(fields, list) or not all(isinstance(f, str) for f in fields):
        raise _bad(kind, at, "operator must be 'or' or 'and' and fields a list of names")
    mtype = spec.get("type", "best_fields")
    if mtype not in ("best_fields", "most_fields", "cross_fields", "phrase", "phrase_prefix", "bool_prefix"):
        raise InvalidRequest(f"unsupported multi_match type {mtype!r} at {at}")
    return FullText(str(text), tuple(f.split("^")[0] for f in fields), operator, kind, mtype, at=at)  # type: ignore[arg-type]


_PARSERS: dict[str, Any] = {
    "bool": _bool, "term": _term, "terms": _terms, "ids": _ids, "prefix": _prefix, "wildcard": _wildcard,
    "regexp": _regexp, "range": _range, "exists": _exists, "nested": _nested, "match_all": _match_all,
    "match_none": lambda b, at: _match_all(b, at, "match_none"),
    "match": lambda b, at: _full_text("match", b, at), "multi_match": lambda b, at: _full_text("multi_match", b, at),
}


def query_fields(query: Query) -> Iterator[str]:
    """Every field name a query refers to (nested paths included), e.g. to check them against a schema."""
    if isinstance(query, Bool):
        for child in (*query.must, *query.filter, *query.should, *query.must_not):
            yield from query_fields(child)
    elif isinstance(query, Nested):
        yield query.path + "."
        yield from query_fields(query.query)
    elif isinstance(query, FullText):
        yield from query.fields
    elif not isinstance(query, (MatchAll, MatchNone)):
        yield query.field


def _lit(ch: str) -> str:
    return "\\" + ch if ch in string.punctuation else ch


_SHORTHAND = {"d": "0-9", "s": "\t-\r ", "w": "0-9A-Za-z_"}


def lucene_regex_to_python(value: str, *, at: str = "query") -> str:
    """Translate a Lucene regexp to one regex, valid for Python ``re`` and PostgreSQL ``~`` alike.

    The result is anchored with ``\\A(?:...)\\Z``: ES matches the whole value, and unlike ``$``, ``\\Z``
    does not also match before a final newline in Python. Lucene's ``~ & < > @ #`` operators are refused.
    """
    parser = _RegexParser(value, at)
    body = parser.alternation()
    if parser.i < len(value):
        raise parser.error(f"unexpected {value[parser.i]!r}")
    return r"\A(?:" + body + r")\Z"


class _RegexParser:
    def __init__(self, text: str, at: str) -> None:
        self.s, self.i, self.at = text, 0, at

    def error(self, detail: str) -> InvalidRequest:
        return InvalidRequest(f"malformed 'regexp' clause at {self.at}: {detail} at offset {self.i} of {self.s!r}")

    def peek(self) -> str:
        return self.s[self.i] if self.i < len(self.s) else ""

    def take(self, what: str = "expression") -> str:
        ch = self.peek()
        if not ch:
            raise self.error(f"unterminated {what}")
        self.i += 1
        return ch

    def alternation(self) -> str:
        branches = [self.sequence()]
        while self.peek() == "|":
            self.i += 1
            branches.append(self.sequence())
        return "|".join(branches)

    def sequence(self) -> str:
        out = []
        while self.peek() not in ("", "|", ")"):
            atom = self.atom()
            while self.peek() and self.peek() in "*+?{":
                ch = self.take()
                atom = f"(?:{atom})" + (ch if ch != "{" else self.bounds())
            out.append(atom)
        return "".join(out)

    def bounds(self) -> str:
        m = re.compile(r"(\d+)(?:,(\d*))?\}").match(self.s, self.i)
        if m is None:
            raise self.error("malformed {n,m} repetition")
        low, high = int(m[1]), int(m[2]) if m[2] else None
        if (high is not None and high < low) or max(low, high or 0) > 255:
            raise self.error("repetition bounds must satisfy n <= m <= 255")
        self.i = m.end()
        return "{" + m[0]

    def atom(self) -> str:
        ch = self.take()
        if ch == "(":
            inner = self.alternation()
            if self.take("group") != ")":
                raise self.error("unterminated group")
            return f"(?:{inner})"
        if ch == "[":
            return self.char_class()
        if ch == ".":
            return "."
        if ch == '"':
            end = self.s.find('"', self.i)
            if end < 0:
                raise self.error("unterminated quoted string")
            text, self.i = self.s[self.i : end], end + 1
            return "(?:" + "".join(map(_lit, text)) + ")"
        if ch == "\\":
            esc = self.take("escape")
            if esc.lower() in _SHORTHAND:
                return "[" + ("^" if esc.isupper() else "") + _SHORTHAND[esc.lower()] + "]"
            return _lit(esc)
        if ch in "~&<>@#":
            raise InvalidRequest(f"unsupported regexp operator {ch!r} in 'regexp' clause at {self.at}: {self.s!r}")
        if ch in "*+?{}])":
            self.i -= 1
            raise self.error(f"unexpected {ch!r}")
        return _lit(ch)

    def char_class(self) -> str:
        negate = self.peek() == "^"
        self.i += negate
        parts: list[str] = []
        while (ch := self.take("character class")) != "]" or not parts:
            if ch == "]":
                raise self.error("empty character class")
            if ch == "\\":
                ch = self.take("escape")
                if ch in _SHORTHAND:
                    parts.append(_SHORTHAND[ch])
                    continue
                if ch.lower() in _SHORTHAND:
                    raise self.error(f"\\{ch} inside a character class is not supported")
            if self.peek() == "-" and self.s[self.i + 1 : self.i + 2] not in ("]", ""):
                self.i += 1
                high = self.take("character class")
                high = self.take("escape") if high == "\\" else high
                if high < ch:
                    raise self.error(f"reversed range {ch}-{high}")
                parts.append(_lit(ch) + "-" + _lit(high))
            else:
                parts.append(_lit(ch))
        return "[" + ("^" if negate else "") + "".join(parts) + "]"
