"""The audit search: the history's events (`asset_events`) found by an Elasticsearch query, as Atlan's is.

What for: pyatlan's `client.audit.search(...)` (by_guid, by_qualified_name, by_user, a DSL of one's own, paging
by `from` and, with bulk=True, by `created`), through `gazetteer.api.audit`, which renders what this finds in
Atlan's EntityAudit shape. The body is parsed by `gazetteer.search.dsl` like every search; `audit_request`
checks what an audit search may ask and `search_events` runs it over the visible events only
(`history.VISIBLE`: none of a crawl that can still be rolled back).

What an audit search may ask:

* fields, by Atlan's names (a `.keyword` suffix is accepted): entityId, entityQualifiedName, typeName, user,
  action (Atlan's names: created is ENTITY_CREATE, archived ENTITY_DELETE, updated and restored
  ENTITY_UPDATE), created and timestamp (the same moment); and Gazetteer's own: connectionQualifiedName,
  tableQualifiedName (a column's table or view), run, agent, gazetteerAction (created, updated, archived or
  restored) and breaking;
* clauses: bool (must, filter, should, must_not; nested as deep as `gazetteer.search.limits` allows), term,
  terms, match (exact, as on Elasticsearch's keyword fields), range, exists, match_all and match_none. Moments
  compare at millisecond precision, as Elasticsearch keeps them and as the answer shows them: a range bound is
  epoch milliseconds, ISO-8601 or date math;
* sort: created (or timestamp) and entityId, either way; newest first unless the sort names created (pyatlan
  adds entityId to every sort, as a tiebreaker), events of the same moment in a stable order (the event's id
  last), so paging by `from` and by `created` both see every event once;
* pages: at most `MAX_PAGE` events, within the first `MAX_WINDOW` of the order (Elasticsearch's result
  window); past it, page by `created` (a range filter and an ascending sort, what pyatlan's bulk search does);
* terms aggregations on any of the fields; the total is exact (pyatlan asks for that), or exact up to a
  numeric `track_total_hits`.

Anything else is refused with `InvalidRequest`, naming what is supported. Look-ups by entityId,
entityQualifiedName, tableQualifiedName, connectionQualifiedName, run and created use the table's indexes.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import ColumnElement
from sqlalchemy.engine import Connection, Engine

from gazetteer.assets.history import VISIBLE
from gazetteer.assets.views import AssetView
from gazetteer.errors import InvalidRequest
from gazetteer.search import (
    Bool,
    DateMath,
    Exists,
    FullText,
    MatchAll,
    MatchNone,
    Query,
    Range,
    ResolvedField,
    SearchRequest,
    SortField,
    Term,
    Terms,
    compile_query,
    compile_sort,
    compile_terms_agg,
    parse_datetime,
)
from gazetteer.store.schema import asset_events, assets

__all__ = ["ATLAN_ACTIONS", "CLAUSES", "FIELDS", "MAX_PAGE", "MAX_WINDOW", "AuditEvent", "AuditFields", "AuditPage",
           "audit_request", "search_events"]

MAX_PAGE = 1000  # events a page: each may carry a schema diff and two copies of a view's SQL
MAX_WINDOW = 10_000  # Elasticsearch's index.max_result_window: how far `from` pages
# Each of the history's actions as Atlan names it: a restore is an update (the asset's status changed).
ATLAN_ACTIONS = {"created": "ENTITY_CREATE", "updated": "ENTITY_UPDATE", "restored": "ENTITY_UPDATE",
                 "archived": "ENTITY_DELETE"}
_ACTION = sa.case(ATLAN_ACTIONS, value=asset_events.c.action, else_="ENTITY_UPDATE")
_MOMENT = ResolvedField(asset_events.c.at, kind="datetime")
FIELDS: Mapping[str, ResolvedField] = {
    "entityId": ResolvedField(asset_events.c.asset_guid),
    "entityQualifiedName": ResolvedField(asset_events.c.qualified_name),
    "typeName": ResolvedField(asset_events.c.type_name),
    "user": ResolvedField(asset_events.c.actor),
    "action": ResolvedField(_ACTION),
    "created": _MOMENT,
    "timestamp": _MOMENT,
    "connectionQualifiedName": ResolvedField(asset_events.c.connection_qualified_name),
    "tableQualifiedName": ResolvedField(asset_events.c.table_qualified_name),
    "run": ResolvedField(asset_events.c.run),
    "agent": ResolvedField(asset_events.c.agent),
    "gazetteerAction": ResolvedField(asset_events.c.action),
    "breaking": ResolvedField(asset_events.c.breaking, kind="bool"),
}
_MOMENTS = frozenset({"created", "timestamp"})
_SORTABLE = frozenset({*_MOMENTS, "entityId"})
# What an audit search's error messages say it supports.
CLAUSES = "the clauses bool, term, terms, match, range, exists, match_all and match_none"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MILLISECOND = timedelta(milliseconds=1)


def _field_name(field: str) -> str:
    return field.removesuffix(".keyword")


class AuditFields:
    """The `FieldResolver` of the audit search: Atlan's audit field names → `asset_events` columns."""

    def column(self, field: str) -> ResolvedField:
        found = FIELDS.get(_field_name(field))
        if found is None:
            raise InvalidRequest(f"unknown audit field {field!r}; an audit search knows {', '.join(FIELDS)}")
        return found

    def full_text(self, node: FullText) -> ColumnElement[bool]:
        # `audit_request` turns a match into a term: its fields are keywords, matched whole.
        raise InvalidRequest(f"unsupported query clause {node.kind!r} at {node.at}; an audit search supports "
                             f"{CLAUSES}")


_FIELDS = AuditFields()


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """One event of the history, with the asset as it is now (None if it is no longer in the catalog)."""

    id: int
    at: datetime
    action: str  # created | updated | archived | restored
    guid: str
    type_name: str
    qualified_name: str
    name: str
    connection_qualified_name: str
    table_qualified_name: str | None
    actor: str
    agent: str
    run: str | None
    changes: Mapping[str, Sequence[Any]] | None
    diff: Sequence[Mapping[str, Any]] | None
    breaking: bool
    affected: Sequence[str] | None
    asset: AssetView | None


@dataclass(frozen=True, slots=True)
class AuditPage:
    """What an audit search found: the total (exact up to `track_total_hits`), the page's events in order, and
    each terms aggregation's rows (key, doc_count, total_count; see `gazetteer.search.terms_agg_result`)."""

    total: int
    events: tuple[AuditEvent, ...]
    aggregations: Mapping[str, Sequence[tuple[Any, int, int]]]


def audit_request(request: SearchRequest, *, now: datetime | None = None) -> SearchRequest:
    """`request` checked for what an audit search may ask (see the module), its page cut at `MAX_WINDOW` and
    its moments compared at millisecond precision; `now` anchors date math."""
    if request.size > MAX_PAGE:
        raise InvalidRequest(f"size {request.size:,} is too large: an audit search answers at most {MAX_PAGE:,} "
                             f"events a page; ask for the next page with 'from', or page by 'created'")
    if request.from_ >= MAX_WINDOW:
        raise InvalidRequest(
            f"from {request.from_:,} is too far: an audit search pages with 'from' through the first "
            f"{MAX_WINDOW:,} events only (from + size at most {MAX_WINDOW:,}); page by 'created' instead: sort by "
            f"created ascending and filter on a range of created from the last event seen (what pyatlan's "
            f"client.audit.search(criteria, bulk=True) does)")
    for item in request.sort:
        _check_sort(item)
    moment = now or datetime.now(UTC)
    return dataclasses.replace(
        request,
        size=min(request.size, MAX_WINDOW - request.from_),  # the window's last page is cut short
        query=_checked(request.query, moment),
        post_filter=None if request.post_filter is None else _checked(request.post_filter, moment),
    )


def _check_sort(item: SortField) -> None:
    if _field_name(item.field) not in _SORTABLE or item.nested_path is not None:
        raise InvalidRequest(f"an audit search cannot sort on {item.field!r} (at {item.at}): sort on created "
                             f"(or timestamp) and entityId, each 'asc' or 'desc'")


def _checked(query: Query, now: datetime) -> Query:
    """`query` with its fields known, its matches as terms and its moments as millisecond ranges."""
    if isinstance(query, (MatchAll, MatchNone)):
        return query
    if isinstance(query, Bool):
        def each(clauses: tuple[Query, ...]) -> tuple[Query, ...]:
            return tuple(_checked(clause, now) for clause in clauses)

        return dataclasses.replace(query, must=each(query.must), filter=each(query.filter),
                                   should=each(query.should), must_not=each(query.must_not))
    if isinstance(query, FullText):
        if query.kind != "match" or len(query.fields) != 1:
            raise InvalidRequest(f"unsupported query clause {query.kind!r} at {query.at}; an audit search supports "
                                 f"{CLAUSES}")
        return _checked(Term(query.fields[0], query.text, at=query.at), now)
    if not isinstance(query, (Term, Terms, Range, Exists)):
        name = type(query).__name__.lower()
        raise InvalidRequest(f"unsupported query clause {name!r} at {query.at}; an audit search supports {CLAUSES}")
    try:
        _FIELDS.column(query.field)
    except InvalidRequest as exc:
        raise InvalidRequest(f"{exc.message} (at {query.at})") from None
    if _field_name(query.field) not in _MOMENTS or isinstance(query, Exists):
        return query
    if isinstance(query, Term):
        value = _bound(query.value, query.at)
        return _in_millis(Range(query.field, gte=value, lte=value, at=query.at), now)
    if isinstance(query, Terms):
        if not query.values:
            return MatchNone(at=query.at)
        return Bool(should=tuple(_in_millis(Range(query.field, gte=_bound(value, query.at),
                                                  lte=_bound(value, query.at), at=query.at), now)
                                 for value in query.values),
                    minimum_should_match=1, at=query.at)
    return _in_millis(query, now)


def _bound(value: Any, at: str) -> Any:
    if isinstance(value, bool):
        raise InvalidRequest(f"not a moment at {at}: {value!r}; give epoch milliseconds, ISO-8601 or date math")
    return value


def _in_millis(query: Range, now: datetime) -> Range:
    """A range of moments as Elasticsearch compares them, to the millisecond: [gte, lt) of whole milliseconds.

    The history keeps microseconds; the answer shows milliseconds (`created`). An event whose `created` is T
    must match `gte T` and `lte T` (and `created: T`), as it does in Elasticsearch.
    """
    lower = upper = None
    for op in ("gt", "gte"):
        value = getattr(query, op)
        if value is not None:
            lower = _millis(value, query, op, now) + (1 if op == "gt" else 0)
    for op in ("lt", "lte"):
        value = getattr(query, op)
        if value is not None:
            upper = _millis(value, query, op, now) + (1 if op == "lte" else 0)
    if lower is None and upper is None:
        return query
    return Range(query.field, gte=None if lower is None else _iso(lower, query),
                 lt=None if upper is None else _iso(upper, query), at=query.at)


def _millis(value: Any, query: Range, op: str, now: datetime) -> int:
    """A bound as whole epoch milliseconds (rounded down); gt and lte round a date or date math up, as ES does."""
    round_up = op in ("gt", "lte")
    at = f"{query.at}.range.{query.field}.{op}"
    try:
        if isinstance(value, DateMath):
            moment = value.resolve(now, round_up=round_up)
        elif isinstance(value, str) and re.fullmatch(r"-?\d{5,19}", value):  # epoch ms as text (4 digits: a year)
            moment = parse_datetime(int(value), at)
        else:
            moment = parse_datetime(_bound(value, at), at, round_up=round_up)
    except (OverflowError, ValueError):
        raise InvalidRequest(f"the moment {value!r} at {at} is out of range (years 1 to 9999)") from None
    return (moment - _EPOCH) // _MILLISECOND


def _iso(millis: int, query: Range) -> str:
    try:
        return (_EPOCH + millis * _MILLISECOND).isoformat()
    except OverflowError:
        raise InvalidRequest(f"a bound of the range at {query.at} is out of range (years 1 to 9999)") from None


def _order(request: SearchRequest) -> list[ColumnElement[Any]]:
    """The request's sort, then the event's id: a total, stable order. Newest first when the sort names no moment:
    pyatlan adds entityId to every sort as a tiebreaker, so a sort by entityId alone is a sort it added."""
    moments = [item for item in request.sort if _field_name(item.field) in _MOMENTS]
    order: list[ColumnElement[Any]] = [] if moments else [asset_events.c.at.desc()]
    order.extend(compile_sort(request.sort, _FIELDS))
    ascending = bool(moments) and moments[0].order == "asc"
    order.append(asset_events.c.id.asc() if ascending else asset_events.c.id.desc())
    return order


def search_events(engine: Engine, request: SearchRequest) -> AuditPage:
    """The visible events `request` (checked by `audit_request`) finds, a page of them, with their total."""
    where = sa.and_(VISIBLE, compile_query(request.query, _FIELDS))
    page_where = where if request.post_filter is None else sa.and_(where, compile_query(request.post_filter, _FIELDS))
    query = (sa.select(asset_events).where(page_where).order_by(*_order(request))
             .offset(request.from_).limit(request.size))
    with engine.connect() as conn:
        rows = conn.execute(query).all() if request.size else []
        total = _total(conn, request, page_where, len(rows))
        aggregations = {agg.name: [(key, int(count), int(every)) for key, count, every in conn.execute(
            compile_terms_agg(agg, _FIELDS, asset_events, where))] for agg in request.aggregations}
        current = _assets(conn, {row.asset_guid for row in rows})
    events = tuple(AuditEvent(row.id, row.at, row.action, row.asset_guid, row.type_name, row.qualified_name,
                              row.name, row.connection_qualified_name, row.table_qualified_name, row.actor,
                              row.agent, row.run, row.changes, row.diff, bool(row.breaking), row.affected,
                              current.get(row.asset_guid)) for row in rows)
    return AuditPage(total, events, aggregations)


def _total(conn: Connection, request: SearchRequest, where: ColumnElement[bool], returned: int) -> int:
    """As the asset search counts: a short page tells the total; else a count, up to a numeric cap."""
    if 0 < returned < request.size or (returned == 0 and request.from_ == 0 and request.size):
        return request.from_ + returned
    if request.track_total_hits is False:
        return request.from_ + returned
    ids = sa.select(asset_events.c.id).where(where)
    if not isinstance(request.track_total_hits, bool):
        ids = ids.limit(request.track_total_hits)
    return int(conn.execute(sa.select(sa.func.count()).select_from(ids.subquery())).scalar_one())


def _assets(conn: Connection, guids: set[str]) -> dict[str, AssetView]:
    if not guids:
        return {}
    return {row.guid: AssetView.of(row) for row in conn.execute(sa.select(assets).where(assets.c.guid.in_(guids)))}
