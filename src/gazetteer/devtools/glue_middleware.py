"""WSGI middleware that makes moto's Glue behave more like the real service.

moto answers GetTables & co. in one page whatever MaxResults says, never fails on purpose and keeps no
record of what it was asked. A crawler's NextToken loop, its retry policy and its "a failed listing must
not archive anything" rule are exactly what tests must exercise, so this middleware sits in front of moto
and adds: real paging with opaque tokens, fault injection, a request log, column statistics (which moto does
not implement, see ``glue_column_statistics``), Lake Formation LF-tags on resources (which moto answers badly,
see ``glue_lf_tags``), and a few control endpoints under ``/_local_glue/`` (see ``LocalGlueMiddleware._control``).
STS, Lake Formation and S3 calls, which moto answers on the same URL, are logged and fail on request too (S3 ones
as ``S3:<Operation>``, see ``glue_s3``); S3 requests reach moto untouched, their bodies unread.
"""

from __future__ import annotations

import base64
import binascii
import io
import itertools
import json
import threading
import time
import uuid
from collections import Counter, OrderedDict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import parse_qs

from gazetteer.devtools import glue_column_statistics, glue_lf_tags
from gazetteer.devtools.glue_column_statistics import ColumnStatisticsStore
from gazetteer.devtools.glue_faults import FaultRule, FaultSet
from gazetteer.devtools.glue_http import (
    JSON_CONTENT_TYPE,
    ErrorAnswer,
    credential_scope,
    drop_connection,
    glue_error,
    json_response,
    read_body,
    region_of,
    signed_by,
    sts_error,
)
from gazetteer.devtools.glue_lf_tags import LFTagStore
from gazetteer.devtools.glue_s3 import s3_error, s3_request
from gazetteer.devtools.glue_synthetic import seed_synthetic

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

# Operation -> (list member of the answer, the largest page real Glue returns).
# moto answers most of these in one page, GetJobs in pages of 100 (which `_fetch_all` follows to the end); it
# pages GetConnections, ListCrawlers, ... itself.
PAGED_OPERATIONS: dict[str, tuple[str, int]] = {
    "GetDatabases": ("DatabaseList", 100),
    "GetTables": ("TableList", 100),
    "GetPartitions": ("Partitions", 1000),
    "GetTableVersions": ("TableVersions", 100),
    "GetCrawlers": ("Crawlers", 1000),
    "GetJobs": ("Jobs", 1000),
    "GetSecurityConfigurations": ("SecurityConfigurations", 1000),
    "ListRegistries": ("Registries", 100),
}
# Everything else may change the catalog and so invalidates the paging snapshots.
READ_ONLY_PREFIXES = ("Get", "List", "Search", "BatchGet")
# A listing's snapshot is the same whatever page, page size or segment is asked of it.
_NOT_TOKEN_KEYS = ("NextToken", "MaxResults", "Segment")
# Calls that drop tables, and so their column statistics and LF-tags, once moto has done them.
_DROPS_TABLES = ("DeleteTable", "BatchDeleteTable", "DeleteDatabase")


@dataclass
class Snapshot:
    """The full answer of a first page, served page by page to the NextToken loop that follows."""

    snapshot_id: str
    key: str
    list_key: str
    items: list[str]  # each item pre-serialised once, so serving a page is a join, not a dumps
    extra: dict[str, Any]


class LocalGlueMiddleware:
    def __init__(
        self,
        app: WSGIApp,
        page_size: int | None = None,
        max_snapshots: int = 512,
        max_logged_requests: int = 200_000,
        reuse_first_pages: bool = True,
    ) -> None:
        self.app = app
        self.page_size = page_size
        # Serving a repeated first page from its snapshot saves moto's slow serialiser (~0.7 s per 1,000
        # tables); benchmarks that compare a cold and a warm listing can turn this off.
        self.reuse_first_pages = reuse_first_pages
        self.faults = FaultSet()
        self.column_statistics = ColumnStatisticsStore()
        self.lf_tags = LFTagStore()
        self._lock = threading.Lock()
        self._snapshots: OrderedDict[str, Snapshot] = OrderedDict()
        self._snapshot_by_key: dict[str, str] = {}
        self._max_snapshots = max_snapshots
        # Bumped by every mutation: a first page computed across a mutation is not kept as a snapshot.
        self._generation = 0
        self._log: deque[dict[str, Any]] = deque(maxlen=max_logged_requests)
        self._counts: Counter[str] = Counter()
        self._seq = itertools.count(1)

    # ------------------------------------------------------------------ dispatch

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path.startswith("/_local_glue/"):
            return self._control(environ, start_response, path[len("/_local_glue/") :])
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if target.startswith("AWSGlue."):
            return self._glue(environ, start_response, target.split(".", 1)[1])
        service = signed_by(environ)[1]
        if service == "sts":
            return self._sts(environ, start_response)
        if service == "lakeformation":
            return self._lake_formation(environ, start_response, path.strip("/"))
        if service == "s3":
            return self._s3(environ, start_response)
        if environ.get("REQUEST_METHOD") not in ("GET", "HEAD", "OPTIONS"):
            # /moto-api/reset and writes to other mocked services: the cheap, safe answer is to forget.
            self.invalidate()
        return self.app(environ, start_response)

    def _glue(self, environ: dict[str, Any], start_response: Callable[..., Any], op: str) -> Iterable[bytes]:
        body = _json_body(read_body(environ))
        token = body.get("NextToken")
        page: int | None = 0
        if token:
            decoded = _decode_token(token) if op in PAGED_OPERATIONS else None
            page = decoded[2] if decoded else None
        entry = self._logged(environ, op, body, page)
        recording_start_response = _recording(entry, start_response)
        faulted = self._fault(environ, recording_start_response, entry, self.faults.pick(op, body, page))
        if faulted is not None:
            return faulted

        if op in PAGED_OPERATIONS:
            return self._paged(environ, recording_start_response, op, body)
        if op in glue_column_statistics.OPERATIONS:
            return self._stored(recording_start_response, JSON_CONTENT_TYPE, lambda: self.column_statistics.answer(
                op, region_of(environ) or "", body))
        if op.startswith(READ_ONLY_PREFIXES):
            return self.app(environ, recording_start_response)
        self.invalidate()
        try:
            # moto (Flask) has executed the call by the time it returns the response iterable.
            return self.app(environ, recording_start_response)
        finally:
            self.invalidate()
            if op in _DROPS_TABLES and entry["status"] == 200:
                self._forget(region_of(environ) or "", op, body)

    def _fault(self, environ: dict[str, Any], start_response: Callable[..., Any], entry: dict[str, Any],
               rule: FaultRule | None, render: Callable[[int, str, str], Any] = glue_error) -> Iterable[bytes] | None:
        """Apply the rule that fired, if one did: wait its delay, then drop the connection or answer its error
        (in the service's own format, `render`); None when the call goes on (no rule, or one that only delays)."""
        if rule is None:
            return None
        entry["fault"] = "drop_connection" if rule.drop_connection else rule.code
        if rule.delay_seconds:
            time.sleep(rule.delay_seconds)
        if rule.drop_connection:
            return drop_connection(environ, start_response)
        if rule.answers_error:
            status, headers, payload = render(rule.status, rule.code, rule.message)
            start_response(status, headers)
            return [payload]
        return None

    def _logged(self, environ: dict[str, Any], op: str, body: dict[str, Any], page: int | None) -> dict[str, Any]:
        """A new request-log entry (which key signed the call shows whose credentials a crawl used)."""
        entry: dict[str, Any] = {
            "seq": next(self._seq),
            "time": time.time(),
            "operation": op,
            "region": region_of(environ),
            "access_key": signed_by(environ)[0],
            "body": body,
            "page": page,
            "status": None,
            "fault": None,
        }
        with self._lock:
            self._log.append(entry)
            self._counts[op] += 1
        return entry

    def _sts(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        """STS (AssumeRole, GetCallerIdentity): logged, and failed on request, before moto answers."""
        form = {key: values[0] for key, values in parse_qs(read_body(environ).decode(errors="replace")).items()}
        op = form.pop("Action", "")
        entry = self._logged(environ, op, {k: v for k, v in form.items() if k != "Version"}, None)
        rule = self.faults.pick(op, {}, None)
        if rule is not None and rule.answers_error:
            entry["fault"] = rule.code
            status, headers, payload = sts_error(rule.status, rule.code, rule.message)
            entry["status"] = rule.status
            start_response(status, headers)
            return [payload]
        entry["status"] = 200
        return self.app(environ, start_response)

    def _lake_formation(self, environ: dict[str, Any], start_response: Callable[..., Any],
                        op: str) -> Iterable[bytes]:
        """Lake Formation (REST-JSON: the operation is the path, `/GetResourceLFTags`): logged and failed on
        request like Glue; LF-tags on resources answered by `lf_tags`, the rest (CreateLFTag…) by moto."""
        body = _json_body(read_body(environ))
        entry = self._logged(environ, op, body, None)
        recording_start_response = _recording(entry, start_response)
        faulted = self._fault(environ, recording_start_response, entry, self.faults.pick(op, body, None))
        if faulted is not None:
            return faulted
        if op in glue_lf_tags.OPERATIONS:
            return self._stored(recording_start_response, "application/json", lambda: self.lf_tags.answer(
                op, region_of(environ) or "", body))
        return self.app(environ, recording_start_response)

    def _s3(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        """S3 (e.g. GetObject of a Glue job's script): logged and failed on request, then answered by moto. S3
        cannot change the Glue catalog, so its writes leave the paging snapshots alone."""
        op, body = s3_request(environ)
        entry = self._logged(environ, op, body, None)
        recording_start_response = _recording(entry, start_response)
        faulted = self._fault(environ, recording_start_response, entry, self.faults.pick(op, body, None), s3_error)
        if faulted is not None:
            return faulted
        return self.app(environ, recording_start_response)

    # ------------------------------------------------------------------ column statistics and LF-tags

    def _stored(self, start_response: Callable[..., Any], content_type: str,
                answer: Callable[[], dict[str, Any]]) -> Iterable[bytes]:
        """The answer of one of the middleware's own stores, or the error it raised."""
        try:
            found = answer()
        except ErrorAnswer as error:
            status, headers, payload = glue_error(error.status, error.code, error.message)
            start_response(status, headers)
            return [payload]
        return json_response(start_response, "200 OK", found, content_type)

    def _forget(self, region: str, op: str, body: dict[str, Any]) -> None:
        """A dropped database or table takes its column statistics and LF-tags with it."""
        stores = (self.column_statistics, self.lf_tags)
        if op == "DeleteDatabase":
            for store in stores:
                store.forget(region, str(body.get("Name")))
            return
        database = str(body.get("DatabaseName"))
        for table in [body.get("Name")] if op == "DeleteTable" else body.get("TablesToDelete") or []:
            for store in stores:
                store.forget(region, database, str(table))

    # ------------------------------------------------------------------ paging

    def invalidate(self) -> None:
        with self._lock:
            self._generation += 1
            self._snapshots.clear()
            self._snapshot_by_key.clear()

    def _paged(
        self, environ: dict[str, Any], start_response: Callable[..., Any], op: str, body: dict[str, Any]
    ) -> Iterable[bytes]:
        list_key, glue_cap = PAGED_OPERATIONS[op]
        size = glue_cap
        max_results = body.get("MaxResults")
        if isinstance(max_results, int) and max_results > 0:
            size = min(size, max_results)
        if self.page_size:
            size = min(size, self.page_size)
        # Same caller, region and question (tokens aside) -> same listing.
        key_body = {k: v for k, v in body.items() if k not in _NOT_TOKEN_KEYS}
        key = json.dumps([credential_scope(environ), op, key_body], sort_keys=True, separators=(",", ":"))
        segment = _segment(body.get("Segment")) if op == "GetPartitions" else (0, 1)
        if segment is None:
            status, headers, payload = glue_error(
                400, "InvalidInputException", "Segment needs 0 <= SegmentNumber < TotalSegments <= 10")
            start_response(status, headers)
            return [payload]

        token = body.get("NextToken")
        if token:
            decoded = _decode_token(token)
            snapshot = self._lookup(decoded[0]) if decoded else None
            if decoded is None or snapshot is None or snapshot.key != key:
                # Glue's own answer to a token it does not know (or no longer knows).
                status, headers, payload = glue_error(
                    400, "InvalidInputException", "Invalid or expired NextToken (pagination token)"
                )
                start_response(status, headers)
                return [payload]
            offset, page = decoded[1], decoded[2]
        else:
            offset, page = -1, 0  # the segment's start, once the snapshot is known
            with self._lock:
                sid = self._snapshot_by_key.get(key) if self.reuse_first_pages else None
            snapshot = self._lookup(sid) if sid else None
            if snapshot is None:
                generation = self._generation
                fetched = self._fetch_all(environ, key, list_key, body)
                if isinstance(fetched, tuple):  # moto failed (e.g. EntityNotFoundException): pass it on
                    status, headers, chunks = fetched
                    start_response(status, headers)
                    return cast(Iterable[bytes], chunks)
                snapshot = fetched
                # Only a listing with a next page needs keeping: thousands of one-page GetPartitions
                # answers would otherwise push out the snapshots that multi-page listings still page through.
                if len(snapshot.items) > size or self.reuse_first_pages:
                    self._store(snapshot, generation)

        # GetPartitions' Segment: segment n of t is the n-th of t contiguous, disjoint slices of the listing.
        number, total = segment
        start, end = (len(snapshot.items) * number // total, len(snapshot.items) * (number + 1) // total)
        offset = start if offset < 0 else offset
        items = snapshot.items[offset : min(offset + size, end)]
        parts = [json.dumps(list_key) + ":[" + ",".join(items) + "]"]
        parts += [json.dumps(k) + ":" + json.dumps(v) for k, v in snapshot.extra.items()]
        if offset + size < end:
            parts.append(
                '"NextToken":' + json.dumps(_encode_token(snapshot.snapshot_id, offset + size, page + 1))
            )
        payload = ("{" + ",".join(parts) + "}").encode()
        start_response(
            "200 OK",
            [
                ("Content-Type", JSON_CONTENT_TYPE),
                ("x-amzn-RequestId", str(uuid.uuid4())),
                ("Content-Length", str(len(payload))),
            ],
        )
        return [payload]

    def _fetch_all(self, environ: dict[str, Any], key: str, list_key: str,
                   body: dict[str, Any]) -> Snapshot | tuple[Any, ...]:
        """The whole listing from moto, following moto's own NextToken where it pages (GetJobs); or moto's
        failed answer as (status, headers, chunks)."""
        # Without MaxResults moto pages at its default, so a caller's small MaxResults costs no extra round trips.
        request = {k: v for k, v in body.items() if k not in ("NextToken", "MaxResults")}
        items: list[Any] = []
        while True:
            status, headers, chunks = self._ask_moto(environ, request)
            if not status.startswith("200"):
                return status, headers, chunks
            answer = json.loads(b"".join(chunks) or b"{}")
            items += answer.pop(list_key, None) or []
            moto_token = answer.pop("NextToken", None)
            if not moto_token:
                break
            request = {**request, "NextToken": moto_token}
        if list_key == "Partitions" and json.loads(key)[2].get("ExcludeColumnSchema") is True:
            # Glue leaves each partition's columns out when asked to (moto sends them all).
            for item in items:
                (item.get("StorageDescriptor") or {}).pop("Columns", None)
        extra = {k: v for k, v in answer.items() if v is not None}
        return Snapshot(uuid.uuid4().hex, key, list_key, [json.dumps(item) for item in items], extra)

    def _ask_moto(self, environ: dict[str, Any], body: dict[str, Any]) -> tuple[str, list[Any], list[bytes]]:
        """moto's (status, headers, chunks) for the request of `environ` with `body` instead of its own (moto
        does not check signatures)."""
        raw = json.dumps(body).encode()
        captured: dict[str, Any] = {}

        def capture(status: str, headers: list[Any], exc_info: Any = None) -> Callable[[bytes], None]:
            captured["status"], captured["headers"] = status, headers
            return lambda data: None

        result = self.app({**environ, "wsgi.input": io.BytesIO(raw), "CONTENT_LENGTH": str(len(raw))}, capture)
        try:
            chunks = [bytes(chunk) for chunk in result]
        finally:
            close = getattr(result, "close", None)
            if close:
                close()
        return captured.get("status", "500 INTERNAL SERVER ERROR"), captured.get("headers", []), chunks

    def _store(self, snapshot: Snapshot, generation: int) -> None:
        with self._lock:
            if generation != self._generation:
                # A mutation ran while moto was answering; its tokens must come back as expired.
                return
            self._snapshots[snapshot.snapshot_id] = snapshot
            self._snapshot_by_key[snapshot.key] = snapshot.snapshot_id
            while len(self._snapshots) > self._max_snapshots:
                old_id, old = self._snapshots.popitem(last=False)
                if self._snapshot_by_key.get(old.key) == old_id:
                    del self._snapshot_by_key[old.key]

    def _lookup(self, snapshot_id: str) -> Snapshot | None:
        with self._lock:
            snapshot = self._snapshots.get(snapshot_id)
            if snapshot is not None:
                self._snapshots.move_to_end(snapshot_id)  # least recently used is evicted first
            return snapshot

    # ------------------------------------------------------------------ control endpoints

    def _control(
        self, environ: dict[str, Any], start_response: Callable[..., Any], route: str
    ) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        try:
            raw = read_body(environ)
            payload = json.loads(raw) if raw else None
            result = self._route(method, route, payload, parse_qs(environ.get("QUERY_STRING", "")))
        except (ValueError, TypeError, KeyError) as exc:  # bad JSON, bad rule, unknown seeding argument
            return json_response(start_response, "400 Bad Request", {"error": str(exc)})
        if result is None:
            return json_response(start_response, "404 Not Found", {"error": f"no route {method} {route}"})
        return json_response(start_response, "200 OK", result)

    def _route(self, method: str, route: str, payload: Any, query: dict[str, list[str]]) -> Any:
        if route == "health":
            return {"ok": True, "page_size": self.page_size, "reuse_first_pages": self.reuse_first_pages}
        if route == "faults":
            if method == "POST":
                return {"rules": [rule.to_dict() for rule in self.faults.replace(payload)]}
            if method == "DELETE":
                self.faults.clear()
            return {"rules": self.faults.describe()}
        if route == "requests":
            with self._lock:
                if method == "DELETE":
                    self._log.clear()
                    self._counts.clear()
                    return {"requests": []}
                wanted = set(query.get("operation", []))
                return {"requests": [e for e in self._log if not wanted or e["operation"] in wanted]}
        if route == "stats":
            with self._lock:
                return {
                    "counts": dict(self._counts),
                    "total": sum(self._counts.values()),
                    "snapshots": len(self._snapshots),
                }
        if route == "reset" and method == "POST":
            # moto's own state is wiped by /moto-api/reset; this forgets everything the middleware holds.
            self.faults.clear()
            self.column_statistics.clear()
            self.lf_tags.clear()
            self.invalidate()
            with self._lock:
                self._log.clear()
                self._counts.clear()
            return {"ok": True}
        if route == "seed-synthetic" and method == "POST":
            self.invalidate()
            try:
                return seed_synthetic(**(payload or {}))
            finally:
                self.invalidate()
        return None


def _json_body(raw: bytes) -> dict[str, Any]:
    """A request's JSON object; {} for anything else (moto answers what it makes of it)."""
    try:
        body = json.loads(raw) if raw else {}
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _recording(entry: dict[str, Any], start_response: Callable[..., Any]) -> Callable[..., Any]:
    """`start_response`, noting the answer's status in the request-log entry."""
    def recording_start_response(status: str, headers: list[Any], exc_info: Any = None) -> Any:
        entry["status"] = int(status.split(" ", 1)[0])
        return start_response(status, headers, exc_info)

    return recording_start_response


def _segment(value: Any) -> tuple[int, int] | None:
    """(SegmentNumber, TotalSegments) of a GetPartitions request, (0, 1) without one; None when invalid."""
    if value is None:
        return 0, 1
    if not isinstance(value, dict):
        return None
    number, total = value.get("SegmentNumber"), value.get("TotalSegments")
    if not isinstance(number, int) or not isinstance(total, int) or not 0 <= number < total <= 10:
        return None
    return number, total


def _encode_token(snapshot_id: str, offset: int, page: int) -> str:
    raw = json.dumps({"s": snapshot_id, "o": offset, "p": page}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode()


def _decode_token(token: Any) -> tuple[str, int, int] | None:
    if not isinstance(token, str):
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode()))
        return str(data["s"]), int(data["o"]), int(data["p"])
    except (ValueError, KeyError, TypeError, binascii.Error):
        return None
