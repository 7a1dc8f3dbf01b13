"""Reading Glue concurrently, streaming pages to the caller through a bounded queue.

Databases are listed by a pool of workers, and each table's details (partition count, column statistics) read
by a second pool, so a crawl waits on Glue several calls at a time while the caller maps and writes what already
arrived. The queue is bounded: a slow writer slows the readers down instead of piling the catalog up in memory.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, cast

from gazetteer.packages.glue.client import GlueError, GlueReader
from gazetteer.packages.glue.mapping import ColumnStatistics, needs_partition_count, statistics_columns
from gazetteer.packages.glue.partitions import Partitions

__all__ = ["TablePage", "DatabaseDone", "Problem", "extract_tables"]


@dataclass(frozen=True)
class TablePage:
    """One GetTables page of a database, with the partitions of each partitioned table (how many, the newest)
    and the column statistics of each table with columns (None: unknown), by table name."""

    database: str
    tables: tuple[dict[str, Any], ...]
    partitions: dict[str, Partitions | None] = field(default_factory=dict)
    column_statistics: dict[str, ColumnStatistics] = field(default_factory=dict)


@dataclass(frozen=True)
class DatabaseDone:
    """A database's listing ended; `complete` is False when it failed or was cut short."""

    database: str
    complete: bool


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


def extract_tables(reader: GlueReader, databases: Sequence[str], *, workers: int,
                   wants_table: Callable[[str], bool] = lambda name: True) -> Iterator[Event]:
    """Yield every table page of `databases`, then a DatabaseDone for each, as they arrive.

    A table `wants_table` refuses (the exclude regex) is left out of its page, as if Glue had not listed it:
    no partition count is spent on it, and a crawl archives it if an earlier one had it.

    Column statistics are asked for every table with columns, since nothing in a table tells whether Glue has
    any. The first failure to read them (refused, not implemented by the endpoint, or failing after retries)
    is one Problem and ends asking for the rest of the crawl: it would fail the same way for every table, and
    each failure costs retries. The tables it skips have statistics None: unknown, so kept as they were."""
    events: queue.Queue[object] = queue.Queue(maxsize=workers * 2)
    stop = threading.Event()
    statistics_failed = threading.Event()
    statistics_lock = threading.Lock()

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

    def statistics(database: str, table: str, columns: list[str]) -> ColumnStatistics:
        if statistics_failed.is_set():
            return None
        try:
            return reader.column_statistics(database, table, columns)
        except Exception as error:  # noqa: BLE001 - statistics are a bonus: an endpoint's odd answer ends them only
            failure = error if isinstance(error, GlueError) else GlueError(
                "GetColumnStatisticsForTable", type(error).__name__, str(error))
            with statistics_lock:
                first = not statistics_failed.is_set()
                statistics_failed.set()
            if first:
                put(Problem(failure, database, table, outcome=(
                    "the crawl goes on without column statistics, asking for no more, and keeps those the "
                    "catalog already has")))
            return None

    def read(database: str, details: ThreadPoolExecutor) -> None:
        complete = True
        try:
            for page in reader.table_pages(database):
                if stop.is_set():
                    return
                tables = [table for table in page if wants_table(str(table.get("Name") or ""))]
                partitions = {t["Name"]: details.submit(partitions_of, database, t["Name"])
                              for t in tables if needs_partition_count(t)}
                statistics_of = {t["Name"]: details.submit(statistics, database, t["Name"], columns)
                                 for t in tables if (columns := statistics_columns(t))}
                put(TablePage(database, tuple(tables), {name: f.result() for name, f in partitions.items()},
                              {name: f.result() for name, f in statistics_of.items()}))
        except GlueError as error:
            complete = False
            put(Problem(error, database))
        except Exception as error:  # noqa: BLE001 - one broken database must not end the crawl
            complete = False
            put(Problem(GlueError("GetTables", type(error).__name__, str(error)), database))
        put(DatabaseDone(database, complete))

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
