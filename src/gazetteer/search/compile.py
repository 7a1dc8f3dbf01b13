"""Compile parsed search DSL (`gazetteer.search.nodes`, from `gazetteer.search.dsl`) to SQLAlchemy Core.

What for: one compiler behind both the workflow search (fixed columns) and the asset search (a JSON
attributes column). The caller supplies a `FieldResolver` that maps ES field names to SQL expressions and
owns full text; everything else is compiled here to expressions with bound parameters that give the same
rows on SQLite and PostgreSQL:

* term/terms: ``=`` / ``IN`` (``lower()`` on both sides for case-insensitive fields or clauses);
* prefix/wildcard: ``LIKE ... ESCAPE '\\'`` plus an exactness guard, because SQLite's LIKE ignores ASCII
  case (a ``substr`` comparison for prefix, on SQLite only; the anchored regex for wildcard);
* regexp: ``regexp_match`` (PostgreSQL ``~``, SQLite ``REGEXP``, see `gazetteer.store.sqlite_functions`);
* must_not: ``NOT COALESCE(x, false)`` so documents without the field are kept, as in ES;
* long AND/OR lists: balanced trees (see `_balanced`), which SQLite's parser can take.
"""

from __future__ import annotations

import functools
import operator
import re
import string
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, Protocol, cast

import sqlalchemy as sa
from sqlalchemy import ColumnElement, FromClause, Select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler

from gazetteer.errors import InvalidRequest
from gazetteer.search.limits import check_number
from gazetteer.search.lucene import parse_datetime
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
    Scalar,
    SearchRequest,
    SortField,
    Term,
    Terms,
    TermsAgg,
    Wildcard,
)

Kind = Literal["text", "number", "datetime", "bool"]


@dataclass(frozen=True)
class ResolvedField:
    """What a field name means in SQL.

    `expr` must be NULL when the document has no value. `kind` decides how query values are coerced;
    for ``datetime`` the bound value follows ``expr.type``: DateTime → aware UTC datetime, Integer/Numeric
    → epoch milliseconds, anything else → ISO-8601 string ending in ``Z``. `case_insensitive` makes
    term/terms/prefix/wildcard/regexp ignore case (e.g. ``__typeName.keyword``). `is_array` says `expr`
    is a JSON array: term/terms then match any element, and only term, terms and exists are allowed.
    `membership`, for a field kept outside the document (in a table of its own), makes the predicate of
    term/terms from their values (None for exists: any value); such a field is treated as an array.
    """

    expr: ColumnElement[Any]
    kind: Kind = "text"
    case_insensitive: bool = False
    sortable: bool = True
    is_array: bool = False
    membership: Callable[[Sequence[Any] | None], ColumnElement[bool]] | None = None


class FieldResolver(Protocol):
    """Maps ES field names (``.keyword`` suffix included) of one store to SQL."""

    def column(self, field: str) -> ResolvedField:
        """The field's SQL meaning; raise `InvalidRequest` naming the field when it is unknown."""
        ...

    def full_text(self, node: FullText) -> ColumnElement[bool]:
        """A predicate for ``match``/``multi_match``; may raise `InvalidRequest` when unsupported."""
        ...


def compile_query(
    query: Query, resolver: FieldResolver, *, now: datetime | None = None
) -> ColumnElement[bool]:
    """A WHERE clause for `query`; `now` (default: the current UTC time) anchors date math such as now-2h."""
    return _Compiler(resolver, now or datetime.now(UTC)).visit(query)


def compile_sort(sort: Sequence[SortField], resolver: FieldResolver) -> list[ColumnElement[Any]]:
    """ORDER BY items (missing values last unless ``missing: _first``).

    Append a unique tiebreaker (a primary key) after these, or from/size paging is not stable.
    """
    out: list[ColumnElement[Any]] = []
    for item in sort:
        rf = _resolve(resolver, item.field, item.at)
        if not rf.sortable or rf.is_array:
            raise InvalidRequest(f"field {item.field!r} cannot be sorted on (at {item.at})")
        ordered = rf.expr.asc() if item.order == "asc" else rf.expr.desc()
        out.append(ordered.nulls_last() if item.missing == "_last" else ordered.nulls_first())
    return out


def apply_search(
    stmt: Select[Any],
    request: SearchRequest,
    resolver: FieldResolver,
    *,
    tiebreakers: Iterable[ColumnElement[Any]] = (),
    now: datetime | None = None,
) -> Select[Any]:
    """Add the request's query, post_filter, sort (then `tiebreakers`), from and size to `stmt`."""
    where = compile_query(request.query, resolver, now=now)
    if request.post_filter is not None:
        where = sa.and_(where, compile_query(request.post_filter, resolver, now=now))
    order = [*compile_sort(request.sort, resolver), *tiebreakers]
    return stmt.where(where).order_by(*order).offset(request.from_).limit(request.size)


def compile_terms_agg(
    agg: TermsAgg, resolver: FieldResolver, source: FromClause, where: ColumnElement[bool]
) -> Select[Any]:
    """A query for the top ``agg.size`` values of a field among the rows of `source` matching `where`.

    Rows are ``(key, doc_count, total_count)``, most frequent first, ties by key; `total_count` counts every
    document with a value, so feed the rows to `terms_agg_result` for the ES bucket shape. Pass the query
    without post_filter as `where`, as ES does.
    """
    rf = _resolve(resolver, agg.field, f"aggregations.{agg.name}")
    if rf.is_array:
        raise InvalidRequest(f"terms aggregation on the array field {agg.field!r} is not supported")
    # A subquery, so GROUP BY names a column: PostgreSQL rejects a JSON path repeated with new parameters.
    inner = sa.select(rf.expr.label("key")).select_from(source).where(where).subquery()
    count = sa.func.count()
    return (
        sa.select(inner.c.key, count.label("doc_count"), sa.func.sum(count).over().label("total_count"))
        .where(inner.c.key.is_not(None))
        .group_by(inner.c.key)
        .order_by(count.desc(), inner.c.key.asc())
        .limit(agg.size)
    )


def terms_agg_result(rows: Iterable[Sequence[Any]]) -> dict[str, Any]:
    """ES terms-aggregation shape from `compile_terms_agg` rows: buckets and sum_other_doc_count.

    Datetime keys become epoch milliseconds and booleans 1/0, each with ``key_as_string``, as in ES.
    """
    buckets, total = [], 0
    for key, doc_count, total_count in rows:
        total = int(total_count)
        bucket: dict[str, Any] = {"key": key, "doc_count": int(doc_count)}
        if isinstance(key, bool):
            bucket.update(key=int(key), key_as_string=str(key).lower())
        elif isinstance(key, datetime):
            moment = key.replace(tzinfo=UTC) if key.tzinfo is None else key
            bucket.update(key=int(moment.timestamp() * 1000), key_as_string=_iso(moment))
        buckets.append(bucket)
    return {
        "doc_count_error_upper_bound": 0,
        "sum_other_doc_count": total - sum(b["doc_count"] for b in buckets),
        "buckets": buckets,
    }


def _resolve(resolver: FieldResolver, name: str, at: str) -> ResolvedField:
    try:
        return resolver.column(name)
    except InvalidRequest as exc:
        raise InvalidRequest(f"{exc.message} (at {at})") from exc


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _lit(text: str) -> str:
    return "".join("\\" + ch if ch in string.punctuation else ch for ch in text)


_RANGE_OPS = {"gt": operator.gt, "gte": operator.ge, "lt": operator.lt, "lte": operator.le}


class _Compiler:
    def __init__(self, resolver: FieldResolver, now: datetime) -> None:
        self.resolver, self.now = resolver, now

    def visit(self, q: Query) -> ColumnElement[bool]:
        if isinstance(q, MatchAll):
            return sa.true()
        if isinstance(q, MatchNone):
            return sa.false()
        if isinstance(q, Nested):
            return self.visit(q.query)
        if isinstance(q, FullText):
            return self.resolver.full_text(q)
        if isinstance(q, Bool):
            return self.compile_bool(q)
        rf = _resolve(self.resolver, q.field, q.at)
        if rf.is_array and not isinstance(q, (Term, Terms, Exists)):
            raise InvalidRequest(
                f"{type(q).__name__.lower()} is not supported on the array field {q.field!r} (at {q.at})"
            )
        if isinstance(q, Exists):
            return rf.membership(None) if rf.membership is not None else rf.expr.is_not(None)
        if isinstance(q, Term):
            return self.compile_terms(rf, q, [q.value], q.case_insensitive)
        if isinstance(q, Terms):
            return self.compile_terms(rf, q, list(q.values), False)
        if isinstance(q, Range):
            return self.compile_range(rf, q)
        return self.compile_pattern(rf, q)

    def compile_bool(self, q: Bool) -> ColumnElement[bool]:
        conds = [self.visit(c) for c in (*q.must, *q.filter)]
        # COALESCE: a predicate on a missing value is NULL, and ES keeps such documents under must_not.
        conds += [sa.not_(sa.func.coalesce(self.visit(c), sa.false())) for c in q.must_not]
        should, k = [self.visit(c) for c in q.should], q.minimum_should_match
        if k > len(should):
            conds.append(sa.false())
        elif k == 1:
            conds.append(_balanced(sa.or_, should))
        elif k > 1:
            conds.append(_balanced(_sum, [sa.case((c, 1), else_=0) for c in should]) >= k)
        return _balanced(sa.and_, [sa.true(), *conds])

    def compile_terms(
        self, rf: ResolvedField, q: Term | Terms, raw: list[Scalar], ci: bool
    ) -> ColumnElement[bool]:
        values = [self.coerce(rf, v, q) for v in raw]
        if not values:
            return sa.false()
        if rf.membership is not None:
            return rf.membership(values)
        if rf.is_array:
            return _ArrayHas(rf.expr, values)
        if rf.kind == "text" and (ci or rf.case_insensitive):
            lowered = sa.func.lower(rf.expr)
            return _balanced(sa.or_, [lowered == sa.func.lower(sa.literal(v, sa.String())) for v in values])
        return rf.expr == values[0] if len(values) == 1 else rf.expr.in_(values)

    def compile_range(self, rf: ResolvedField, q: Range) -> ColumnElement[bool]:
        conds = [
            _RANGE_OPS[op](rf.expr, self.coerce(rf, value, q, round_up=op in ("gt", "lte")))
            for op, value in (("gt", q.gt), ("gte", q.gte), ("lt", q.lt), ("lte", q.lte))
            if value is not None
        ]
        return sa.and_(*conds) if conds else rf.expr.is_not(None)

    def compile_pattern(self, rf: ResolvedField, q: Prefix | Wildcard | Regexp) -> ColumnElement[bool]:
        if rf.kind != "text":
            raise InvalidRequest(
                f"{type(q).__name__.lower()} needs a text field, {q.field!r} is {rf.kind} (at {q.at})"
            )
        ci = q.case_insensitive or rf.case_insensitive
        expr, flags = (sa.func.lower(rf.expr), "(?i)") if ci else (rf.expr, "")
        if isinstance(q, Regexp):
            return rf.expr.regexp_match(flags + q.pattern)
        tokens = [("lit", q.value)] if isinstance(q, Prefix) else _wildcard_tokens(q.value)
        like = "".join(_LIKE.get(kind) or re.sub(r"([\\%_])", r"\\\1", text) for kind, text in tokens)
        value = sa.literal(like + ("%" if isinstance(q, Prefix) else ""), sa.String())
        cond = expr.like(sa.func.lower(value) if ci else value, escape="\\")
        if ci:
            return cond
        if isinstance(q, Prefix):
            return _ExactPrefix(cond, rf.expr, q.value)
        regex = "".join(_REGEX.get(kind) or _lit(text) for kind, text in tokens)
        return sa.and_(cond, rf.expr.regexp_match("^(?:" + regex + ")$"))  # anchored as lucene_regex does

    def coerce(self, rf: ResolvedField, value: Any, q: Any, *, round_up: bool = False) -> Any:
        """A query value as the Python value to bind against `rf`."""
        shown = value.text if isinstance(value, DateMath) else value
        what = f"{shown!r} for {rf.kind} field {q.field!r} (at {q.at})"
        if isinstance(value, DateMath) and rf.kind != "datetime":
            raise InvalidRequest(f"date math {what}")
        if rf.kind == "text":
            return str(value).lower() if isinstance(value, bool) else str(value)
        if rf.kind == "bool":
            if isinstance(value, bool) or value in ("true", "false"):
                return value in (True, "true")
            raise InvalidRequest(f"not a boolean: {what}")
        if rf.kind == "number":
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                return value
            try:
                number = int(value) if re.fullmatch(r"-?\d+", str(value)) else float(value)
            except (TypeError, ValueError):
                raise InvalidRequest(f"not a number: {what}") from None
            return check_number(number, f"the number {what}")
        if isinstance(value, bool):
            raise InvalidRequest(f"not a date: {what}")
        try:
            moment = (
                value.resolve(self.now, round_up=round_up)
                if isinstance(value, DateMath)
                else parse_datetime(value, q.at, round_up=round_up)
            )
        except (OverflowError, ValueError):  # date math past year 9999 (or before year 1)
            raise InvalidRequest(f"out of range (years 1 to 9999): {what}") from None
        stored = rf.expr.type
        if isinstance(stored, sa.types.TypeDecorator):  # e.g. the store's Timestamp: judge by what it stores
            stored = stored.impl_instance
        if isinstance(stored, (sa.Integer, sa.Numeric)):
            return int(moment.timestamp() * 1000)
        return moment if isinstance(stored, sa.DateTime) else _iso(moment)


_FLAT = 16  # operands one AND, OR or + lists before `_balanced` splits it


def _sum(*terms: ColumnElement[Any]) -> ColumnElement[Any]:
    return functools.reduce(operator.add, terms)


def _balanced(combine: Any, items: Sequence[ColumnElement[Any]]) -> ColumnElement[Any]:
    """``combine(*items)`` (`sa.and_`, `sa.or_` or `_sum`), as parenthesised halves past `_FLAT` items.

    SQLite parses ``a OR b OR c ...`` as a chain as deep as it is long and refuses expressions nested 1,000
    deep; halves keep each list's depth logarithmic, so 1,024 clauses 20 levels deep stay far from it.
    """
    if len(items) <= _FLAT:
        return cast(ColumnElement[Any], combine(*items))
    half = len(items) // 2
    return cast(ColumnElement[Any], combine(_Parenthesised(_balanced(combine, items[:half])),
                   _Parenthesised(_balanced(combine, items[half:]))))


_LIKE = {"any": "%", "one": "_"}
_REGEX = {"any": ".*", "one": "."}


def _wildcard_tokens(value: str) -> list[tuple[str, str]]:
    """Lucene wildcard pieces: ("any", "*"), ("one", "?") and ("lit", text); ``\\`` escapes one character."""
    tokens, chars = [], iter(value)
    for ch in chars:
        if ch == "\\":
            tokens.append(("lit", next(chars, "\\")))
        else:
            tokens.append(({"*": "any", "?": "one"}.get(ch, "lit"), ch))
    return tokens


class _Parenthesised(sa.ColumnElement[Any]):
    """`inner` in parentheses; SQLAlchemy would merge even an explicit grouping into the enclosing chain."""

    inherit_cache = False  # like _ArrayHas: statements using it are not cached

    def __init__(self, inner: ColumnElement[Any]) -> None:
        self.inner, self.type = inner, inner.type
        self._is_implicitly_boolean = inner._is_implicitly_boolean  # no "= 1" after an OR on SQLite


@compiles(_Parenthesised)
def _parenthesised(element: _Parenthesised, compiler: SQLCompiler, **kw: Any) -> str:
    return "(" + compiler.process(element.inner, **kw) + ")"


class _ExactPrefix(sa.ColumnElement[bool]):
    """`like` (``expr LIKE 'prefix%'``), confirmed case-sensitively where LIKE ignores case (SQLite).

    PostgreSQL's LIKE is exact already, and a redundant ``substr(expr, 1, n) = prefix`` there is a condition
    its planner cannot estimate (it guessed 106 rows for a schema's 21,000), which ruins the plan.
    """

    type = sa.Boolean()
    inherit_cache = False  # holds a plain Python value, so statements using it are not cached
    like: ColumnElement[bool]  # type: ignore[assignment]  # an attribute here, shadowing ColumnOperators.like

    def __init__(self, like: ColumnElement[bool], expr: ColumnElement[Any], prefix: str) -> None:
        self.like, self.expr, self.prefix = like, expr, prefix


@compiles(_ExactPrefix)
def _exact_prefix(element: _ExactPrefix, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.like, **kw)


@compiles(_ExactPrefix, "sqlite")
def _exact_prefix_sqlite(element: _ExactPrefix, compiler: SQLCompiler, **kw: Any) -> str:
    exact = sa.func.substr(element.expr, 1, len(element.prefix)) == sa.literal(element.prefix, sa.String())
    return compiler.process(sa.and_(element.like, exact), **kw)


class _ArrayHas(sa.ColumnElement[bool]):
    """True when the JSON array `expr` has an element equal to one of `values` (see `ResolvedField`)."""

    type = sa.Boolean()
    inherit_cache = False  # holds plain Python values, so statements using it are not cached

    def __init__(self, expr: ColumnElement[Any], values: Sequence[Any]) -> None:
        self.expr, self.values = expr, tuple(values)


@compiles(_ArrayHas)
def _array_has_postgresql(element: _ArrayHas, compiler: SQLCompiler, **kw: Any) -> str:
    array = sa.cast(element.expr, JSONB)
    return compiler.process(sa.or_(*(array.contains([v]) for v in element.values)), **kw)


@compiles(_ArrayHas, "sqlite")
def _array_has_sqlite(element: _ArrayHas, compiler: SQLCompiler, **kw: Any) -> str:
    items = sa.func.json_each(element.expr).table_valued("value")
    return compiler.process(sa.exists().select_from(items).where(items.c.value.in_(element.values)), **kw)


__all__ = [
    "FieldResolver",
    "ResolvedField",
    "apply_search",
    "compile_query",
    "compile_sort",
    "compile_terms_agg",
    "terms_agg_result",
]
