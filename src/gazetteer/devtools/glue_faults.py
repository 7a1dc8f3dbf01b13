"""Fault rules for the local Glue endpoint.

Real Glue throttles, denies and fails in ways moto never does. Tests describe the failures they want as
plain JSON rules (so they can be sent over HTTP to the server subprocess); this module validates them and
decides per request whether one fires. ``glue_http.glue_error`` renders the answer (``glue_s3.s3_error`` that of
an S3 request, named ``S3:<Operation>``, e.g. ``S3:GetObject``, which a rule's ``key`` narrows to one object).
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field
from typing import Any

_ALLOWED_KEYS = {
    "operation",
    "database",
    "table",
    "key",
    "page",
    "status",
    "code",
    "message",
    "probability",
    "seed",
    "times",
    "delay_seconds",
    "drop_connection",
}

# Glue answers server-side failures with 500; everything else it reports as a 4xx. S3 has a status per code.
_DEFAULT_STATUS_BY_CODE = {"InternalServiceException": 500, "ServiceUnavailableException": 503, "AccessDenied": 403,
                           "NoSuchKey": 404, "NoSuchBucket": 404, "InternalError": 500, "SlowDown": 503}
# The messages AWS sends with these codes; any other code is its own message.
_DEFAULT_MESSAGE_BY_CODE = {"ThrottlingException": "Rate exceeded", "AccessDenied": "Access Denied",
                            "NoSuchKey": "The specified key does not exist.",
                            "NoSuchBucket": "The specified bucket does not exist",
                            "SlowDown": "Please reduce your request rate."}


def request_target(operation: str, body: dict[str, Any]) -> tuple[str | None, str | None]:
    """Return (database, table) a Glue or Lake Formation request is about, or None where it names none.

    Glue is not uniform: GetTables/GetPartitions say ``DatabaseName``/``TableName``, GetTable says
    ``DatabaseName`` + ``Name``, GetDatabase says ``Name``, the Create* calls nest the name in ``*Input``,
    GetTags names an ARN (``…:table/<database>/<table>``, ``…:database/<database>``), and Lake Formation a
    ``Resource`` (``{"Table": {"DatabaseName", "Name"}}``, ``{"Database": {"Name"}}``).
    """
    arn, resource = body.get("ResourceArn"), body.get("Resource")
    if isinstance(arn, str) and ":" in arn:
        kind, _, path = arn.rsplit(":", 1)[1].partition("/")
        parts = path.split("/")  # an S3 Tables catalog's ARNs put `s3tablescatalog/<bucket>/` first
        if kind == "database":
            return _names(parts[-1], None)
        return _names(parts[-2], parts[-1]) if kind == "table" and len(parts) > 1 else (None, None)
    if isinstance(resource, dict) and len(resource) == 1:
        ((kind, spec),) = resource.items()
        if isinstance(spec, dict):
            if kind == "Database":
                return _names(spec.get("Name"), None)
            return _names(spec.get("DatabaseName"), spec.get("Name"))
    database = body.get("DatabaseName")
    table = body.get("TableName")
    if database is None and "Database" in operation:
        database = body.get("Name") or (body.get("DatabaseInput") or {}).get("Name")
    if table is None and "DatabaseName" in body:
        table = body.get("Name") or (body.get("TableInput") or {}).get("Name")
    return _names(database, table)


def _names(database: Any, table: Any) -> tuple[str | None, str | None]:
    return (database if isinstance(database, str) else None, table if isinstance(table, str) else None)


@dataclass
class FaultRule:
    """One validated rule. ``times`` counts down; ``fired`` is reported back to tests."""

    operation: str
    database: str | None = None
    table: str | None = None
    key: str | None = None  # an S3 object key
    page: int | None = None
    status: int = 400
    code: str = "ThrottlingException"
    message: str = "Rate exceeded"
    probability: float | None = None
    seed: int | None = None
    times: int | None = None
    delay_seconds: float = 0.0
    drop_connection: bool = False
    # A rule with only a delay slows the request down and then lets it through.
    answers_error: bool = True
    fired: int = 0
    _rng: random.Random = field(default_factory=random.Random, repr=False)

    @classmethod
    def from_dict(cls, raw: Any) -> FaultRule:
        if not isinstance(raw, dict):
            raise ValueError(f"a fault rule must be a JSON object, got {raw!r}")
        unknown = set(raw) - _ALLOWED_KEYS
        if unknown:
            # Typos such as "opertion" would otherwise silently make a rule never fire.
            raise ValueError(f"unknown fault rule keys {sorted(unknown)}; allowed: {sorted(_ALLOWED_KEYS)}")
        operation = raw.get("operation")
        if not isinstance(operation, str) or not operation:
            raise ValueError(f"a fault rule needs an 'operation' such as 'GetTables' (or '*' for all): {raw!r}")
        # Throttling by default: S3 calls it SlowDown.
        code = str(raw.get("code", "SlowDown" if operation.startswith("S3:") else "ThrottlingException"))
        answers_error = (
            any(key in raw for key in ("status", "code", "message"))
            or bool(raw.get("drop_connection"))
            or not raw.get("delay_seconds")
        )
        rule = cls(
            operation=operation,
            database=raw.get("database"),
            table=raw.get("table"),
            key=raw.get("key"),
            page=_opt_int(raw, "page"),
            status=int(raw.get("status", _DEFAULT_STATUS_BY_CODE.get(code, 400))),
            code=code,
            message=str(raw.get("message", _DEFAULT_MESSAGE_BY_CODE.get(code, code))),
            probability=_opt_float(raw, "probability"),
            seed=_opt_int(raw, "seed"),
            times=_opt_int(raw, "times"),
            delay_seconds=float(raw.get("delay_seconds") or 0.0),
            drop_connection=bool(raw.get("drop_connection", False)),
            answers_error=answers_error,
        )
        if rule.probability is not None and not 0.0 <= rule.probability <= 1.0:
            raise ValueError(f"probability must be within [0, 1]: {raw!r}")
        if not 100 <= rule.status <= 599:
            raise ValueError(f"status must be an HTTP status code: {raw!r}")
        # One generator per rule, so that a seeded rule fires in the same pattern whatever other rules do.
        rule._rng = random.Random(rule.seed)
        return rule

    def matches(
        self, operation: str, database: str | None, table: str | None, page: int | None, key: str | None = None
    ) -> bool:
        if self.operation not in ("*", operation):  # "*": every call (e.g. latency on all of them)
            return False
        if self.key is not None and self.key != key:
            return False
        if self.database is not None and self.database != database:
            return False
        if self.table is not None and self.table != table:
            return False
        return self.page is None or self.page == page

    def to_dict(self) -> dict[str, Any]:
        out = {
            "operation": self.operation,
            "database": self.database,
            "table": self.table,
            "key": self.key,
            "page": self.page,
            "status": self.status,
            "code": self.code,
            "message": self.message,
            "probability": self.probability,
            "seed": self.seed,
            "times": self.times,
            "delay_seconds": self.delay_seconds,
            "drop_connection": self.drop_connection,
            "fired": self.fired,
        }
        return {k: v for k, v in out.items() if v is not None}


class FaultSet:
    """The active rules; shared by the server's request threads, hence the lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []

    def replace(self, raw_rules: Any) -> list[FaultRule]:
        if not isinstance(raw_rules, list):
            raise ValueError("POST /_local_glue/faults expects a JSON list of rules")
        rules = [FaultRule.from_dict(raw) for raw in raw_rules]  # validate all before replacing any
        with self._lock:
            self._rules = rules
        return rules

    def clear(self) -> None:
        with self._lock:
            self._rules = []

    def describe(self) -> list[dict[str, Any]]:
        with self._lock:
            return [rule.to_dict() for rule in self._rules]

    def pick(self, operation: str, body: dict[str, Any], page: int | None) -> FaultRule | None:
        """Return the first rule that fires for this request, consuming one of its ``times``.

        An S3 request's body is its bucket and key as boto3 names them: ``{"Bucket": ..., "Key": ...}``.
        """
        database, table = request_target(operation, body)
        key = body.get("Key") if operation.startswith("S3:") else None
        with self._lock:
            for rule in self._rules:
                if not rule.matches(operation, database, table, page, key):
                    continue
                if rule.times is not None and rule.times <= 0:
                    continue
                # Draw only for matching requests so a seeded rule's pattern depends on its own traffic.
                if rule.probability is not None and rule._rng.random() >= rule.probability:
                    continue
                if rule.times is not None:
                    rule.times -= 1
                rule.fired += 1
                return rule
        return None


def _opt_int(raw: dict[str, Any], key: str) -> int | None:
    value = raw.get(key)
    return None if value is None else int(value)


def _opt_float(raw: dict[str, Any], key: str) -> float | None:
    value = raw.get(key)
    return None if value is None else float(value)
