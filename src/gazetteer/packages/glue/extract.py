"""Reading Glue concurrently, streaming pages to the caller through a bounded queue.

Databases are listed by a pool of workers, and each table's details (partition count, column statistics, tags)
read by a second pool, so a crawl waits on Glue several calls at a time while the caller maps and writes what already
arrived. The queue is bounded: a slow writer slows the readers down instead of piling the catalog up in memory.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar, cast

from gazetteer.packages.glue.client import GlueError, GlueReader
from gazetteer.packages.glue.mapping import (
    ColumnStatistics,
    is_database_link,
    is_resource_link,
    needs_partition_count,
    statistics_columns,
)
from gazetteer.packages.glue.partitions import Partitions
from gazetteer.packages.glue.tags import UNKNOWN_TAGS, SourceTags

__all__ = ["TablePage", "DatabaseDone", "Problem", "extract_tables"]


@dataclass(frozen=True)
class TablePage:
    """One GetTables page of a database, with the partitions of each partitioned table (how many, the newest),
    the column statistics of each table with columns (None: unknown) and the tags of each table, by table name."""

    database: str
    tables: tuple[dict[str, Any], ...]
    partitions: dict[str, Partitions | None] = field(default_factory=dict)
    column_statistics: dict[str, ColumnStatistics] = field(default_factory=dict)
    tags: dict[str, SourceTags] = field(default_factory=dict)


@dataclass(frozen=True)
class DatabaseDone:
    """A database's listing ended; `complete` is False when it failed or was cut short. With the database's
    own tags."""

    database: str
    complete: bool
    tags: SourceTags = UNKNOWN_TAGS


@dataclass(frozen=True)
class Problem:
    """A Glue call that failed for good, with where it happened and, when it is not just that this part is
    missing, what the crawl did about it."""

    error: GlueError
    database: str
    table: str | None = None
    outcome: str | None = None


Event = TablePage | DatabaseDone | Problem
_DONE = object()
_T = TypeVar("_T")


class _Optional:
    """A detail a crawl can do without (column statistics, each kind of tags), asked for every table since
    nothing in a table tells whether it has any. A failure to read it (refused, not implemented by the
    endpoint, or failing after retries) would recur for every table, each time after retries: the first is one
    Problem, and the detail is asked for no more in this crawl. What is not read is None: unknown, so the
    catalog keeps what it has."""

    def __init__(self, operation: str, service: str, what: str, report: Callable[[Problem], None]) -> None:
        self._operation, self._service, self._report = operation, service, report
        self._outcome = f"the crawl goes on without {what}, asking for no more, and keeps those the catalog already has"
        self._failed = threading.Event()
        self._lock = threading.Lock()

    def read(self, fetch: Callable[[], _T], database: str, table: str | None = None) -> _T | None:
        if self._failed.is_set():
            return None
        try:
            return fetch()
        except Exception as error:  # noqa: BLE001 - a bonus: an endpoint's odd answer ends this detail only
            failure = error if isinstance(error, GlueError) else GlueError(
                self._operation, type(error).__name__, str(error), service=self._service)
            with self._lock:
                first = not self._failed.is_set()
                self._failed.set()
            if first:
                self._report(Problem(failure, database, table, outcome=self._outcome))
            return None


def extract_tables(reader: GlueReader, databases: Sequence[Mapping[str, Any]], *, workers: int,
                   wants_table: Callable[[str], bool] = lambda name: True, read_tags: bool = False) -> Iterator[Event]:
    """Yield every table page of `databases` (GetDatabases entries), then a DatabaseDone for each, as they arrive.

    A table `wants_table` refuses (the exclude regex) is left out of its page, as if Glue had not listed it:
    no partition count is spent on it, and a crawl archives it if an earlier one had it.

    Column statistics are asked for every table with columns, and with `read_tags` the Glue resource tags of
    every database and the LF-tags of every database and table (see `tags` below); each is an `_Optional`
    detail."""
    events: queue.Queue[object] = queue.Queue(maxsize=workers * 2)
    stop = threading.Event()

    def put(item: object) -> None:
        while not stop.is_set():
            try:
                events.put(item, timeout=0.2)
                return
            except queue.Full:
                continue

    def partitions_of(database: str, table: str) -> Partitions | None:
        try:
            return reader.partitions(database, table)
        except GlueError as error:
            put(Problem(error, database, table))
            return None

    statistics = _Optional("GetColumnStatisticsForTable", "glue", "column statistics", put)
    glue_tags = _Optional("GetTags", "glue", "Glue resource tags", put)
    lf_tags = _Optional("GetResourceLFTags", "lakeformation", "Lake Formation LF-tags", put)

    # LF-tags are asked resource by resource only when the catalog has some to assign (one ListLFTags); when
    # it cannot tell (refused), every resource is asked, and GetResourceLFTags' own refusal is the warning.
    lf_defined = True
    if read_tags:
        try:
            lf_defined = reader.lake_formation_tags_defined()
        except GlueError:
            pass

    def tags(details: ThreadPoolExecutor, database: str, table: str | None, link: bool) -> Callable[[], SourceTags]:
        """Start reading a database's or table's tags; what is returned waits for them. Glue tags databases,
        not tables; LF-tags are not asked of links (theirs belong to the resource they point to), nor of a
        catalog that has none."""
        if not read_tags:
            return lambda: UNKNOWN_TAGS
        glue = details.submit(glue_tags.read, partial(reader.glue_tags, database), database) if table is None \
            else None
        lake_formation = details.submit(lf_tags.read, partial(reader.lake_formation_tags, database, table),
                                        database, table) if lf_defined and not link else None
        return lambda: SourceTags(glue.result() if glue else {}, lake_formation.result() if lake_formation else {})

    def read(glue_database: Mapping[str, Any], details: ThreadPoolExecutor) -> None:
        database = str(glue_database["Name"])
        database_tags = tags(details, database, None, is_database_link(glue_database))
        complete = True
        try:
            for page in reader.table_pages(database):
                if stop.is_set():
                    return
                tables = [table for table in page if wants_table(str(table.get("Name") or ""))]
                partitions = {t["Name"]: details.submit(partitions_of, database, t["Name"])
                              for t in tables if needs_partition_count(t)}
                statistics_of = {t["Name"]: details.submit(statistics.read, partial(
                    reader.column_statistics, database, t["Name"], columns), database, t["Name"])
                    for t in tables if (columns := statistics_columns(t))}
                tags_of = {t["Name"]: tags(details, database, t["Name"], is_resource_link(t)) for t in tables}
                put(TablePage(database, tuple(tables), {name: f.result() for name, f in partitions.items()},
                              {name: f.result() for name, f in statistics_of.items()},
                              {name: wait() for name, wait in tags_of.items()}))
        except GlueError as error:
            complete = False
            put(Problem(error, database))
        except Exception as error:  # noqa: BLE001 - one broken database must not end the crawl
            complete = False
            put(Problem(GlueError("GetTables", type(error).__name__, str(error)), database))
        put(DatabaseDone(database, complete, database_tags()))

    def run() -> None:
        # As many threads as calls may be in flight: the reader's adaptive limit, not the pools, decides how
        # many wait on Glue at once (GetTables pages of one database follow each other: a thread per database).
        most = reader.calls.maximum
        with ThreadPoolExecutor(most, thread_name_prefix="glue-details") as details, \
                ThreadPoolExecutor(max(1, min(most, len(databases))), thread_name_prefix="glue-tables") as tables:
            for future in [tables.submit(read, database, details) for database in databases]:
                future.result()
        put(_DONE)

    producer = threading.Thread(target=run, name="glue-extract", daemon=True)
    producer.start()
    try:
        while True:
            item = events.get()
            if item is _DONE:
                return
            yield cast(Event, item)
    finally:
        stop.set()
        producer.join(timeout=30)
