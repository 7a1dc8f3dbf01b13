"""The report every crawl produces: what was found, what changed, what it cost, what went wrong."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

__all__ = ["CrawlReport", "MAX_WARNINGS"]

# A catalog with thousands of broken tables must not make a report of megabytes.
MAX_WARNINGS = 100


@dataclass
class CrawlReport:
    """Counters and capped warnings of one crawl; `to_dict` is what the CLI and the API print."""

    connection_qualified_name: str = ""
    plan: bool = False  # worked out in a sandbox: nothing was written (crawl.plan_crawl)
    status: str = "Running"
    message: str | None = None
    # `columns` are the tables' and views' own (what their columnCount says); `nested_columns` the fields below them.
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(
        ("schemas", "tables", "views", "columns", "nested_columns"), 0))
    changes: dict[str, int] = field(default_factory=dict)
    # What the crawl derived lineage from (views, jobs, crawlers) and the processes it made (lineage.py).
    lineage: dict[str, int] = field(default_factory=dict)
    # The assets the crawl changed, with schema diffs, breaking first (gazetteer.assets.run_changes); for a crawl
    # its circuit breaker refused, what it would have changed (`refused`).
    history: dict[str, Any] = field(default_factory=dict)
    api_calls: int = 0
    throttled: int = 0
    # The Glue calls in flight at once (concurrency.py): the most and the fewest the limit allowed, and how
    # many times throttling lowered it.
    concurrency: dict[str, int] = field(default_factory=dict)
    duration_seconds: float = 0.0
    warnings: list[dict[str, Any]] = field(default_factory=list)
    warnings_total: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def warn(self, message: str, **context: Any) -> None:
        """Record a problem that did not stop the crawl, with where it happened and what to do."""
        with self._lock:
            self.warnings_total += 1
            if len(self.warnings) < MAX_WARNINGS:
                self.warnings.append({"message": message, **{k: v for k, v in context.items() if v is not None}})

    def fail(self, message: str) -> None:
        self.status = "Failed"
        self.message = message

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "plan": self.plan,
            "message": self.message,
            "connection_qualified_name": self.connection_qualified_name,
            "counts": dict(self.counts),
            "changes": dict(self.changes),
            "lineage": dict(self.lineage),
            "history": dict(self.history),
            "api_calls": self.api_calls,
            "throttled": self.throttled,
            "concurrency": dict(self.concurrency),
            "duration_seconds": round(self.duration_seconds, 3),
            "warnings": list(self.warnings),
            "warnings_total": self.warnings_total,
        }
