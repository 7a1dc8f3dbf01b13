"""One Glue crawl: extract → map → publish, with safe archiving and a report; all or nothing."""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy.engine import Connection, Engine

from gazetteer.assets.publish import CHANGE_KINDS, Publisher, roll_back
from gazetteer.assets.records import AssetRecord
from gazetteer.assets.run_changes import refused_changes, run_changes
from gazetteer.assets.service import find_connection, qualified_name_taken
from gazetteer.packages.glue.client import GlueError, GlueReader
from gazetteer.packages.glue.concurrency import AdaptiveLimit
from gazetteer.packages.glue.config import GlueCrawlConfig
from gazetteer.packages.glue.extract import DatabaseDone, Problem, TablePage, extract_tables
from gazetteer.packages.glue.lineage import derive_lineage
from gazetteer.packages.glue.mapping import (
    MAPPING_VERSION,
    ColumnStatistics,
    CrawlScope,
    is_view,
    map_database,
    map_schema,
    map_table,
    schema_qualified_name,
    table_qualified_name,
)
from gazetteer.packages.glue.names import DEFAULT_CATALOG
from gazetteer.packages.glue.partitions import Partitions
from gazetteer.packages.glue.report import CrawlReport
from gazetteer.packages.glue.settings import GlueSettings, glue_settings
from gazetteer.packages.glue.tags import UNKNOWN_TAGS, SourceTags
from gazetteer.store.sandbox import sandbox
from gazetteer.store.statistics import refresh_statistics

__all__ = ["crawl", "plan_crawl", "Progress", "CrawlStopped", "connection_record"]

log = logging.getLogger(__name__)
Progress = Callable[[dict[str, Any]], None]
_TABLE_TYPES = ("Table", "View")


@dataclass
class _DatabaseState:
    """What a crawl remembers of one database while its pages stream in: names only, never the tables."""

    glue: dict[str, Any]
    tables: int = 0
    views: int = 0
    seen: set[str] = field(default_factory=set)


def source_digest(table: dict[str, Any], partitions: Partitions | None, column_statistics: ColumnStatistics,
                  tags: SourceTags) -> str:
    """A digest of everything a table's assets are mapped from; equal digests mean nothing to write."""
    # Plain lists, not dataclasses.asdict: that deep-copies the newest partitions' columns, a tenth of a crawl.
    read = None if partitions is None else [partitions.count, [[p.values, p.created, p.columns]
                                                                for p in partitions.newest]]
    payload = json.dumps([MAPPING_VERSION, table, read, column_statistics, tags.glue, tags.lake_formation],
                         sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.blake2b(payload.encode(), digest_size=16).hexdigest()


def _new_connection_qualified_name(engine: Engine) -> str:
    epoch = int(time.time())
    while qualified_name_taken(engine, f"default/glue/{epoch}"):
        epoch += 1
    return f"default/glue/{epoch}"


def connection_record(scope: CrawlScope, config: GlueCrawlConfig) -> AssetRecord:
    return AssetRecord(
        type_name="Connection",
        qualified_name=scope.connection_qualified_name,
        name=config.connection_name,
        parent_qualified_name=None,
        attributes={
            "connectorName": "glue",
            "category": "lake",
            "adminUsers": list(config.admin_users),
            "adminGroups": list(config.admin_groups),
            "adminRoles": list(config.admin_roles),
            "allowQuery": config.allow_query,
            "allowQueryPreview": config.allow_query_preview,
            "rowLimit": config.row_limit,
            "region": config.region,
            "catalogId": config.catalog_id,
            "defaultCredentialGuid": config.credential_guid,
        },
    )


class CrawlStopped(Exception):
    """Raised inside a crawl whose caller asked it to stop."""


def crawl(engine: Engine, config: GlueCrawlConfig, *, settings: GlueSettings | None = None,
          progress: Progress | None = None, should_stop: Callable[[], bool] | None = None,
          key: str | None = None, fence: Callable[[Connection], None] | None = None,
          plan: bool = False) -> CrawlReport:
    """Crawl the Glue catalog `config` names into the store and report; never raises for Glue problems.

    All or nothing: a crawl that fails, for whatever reason, leaves every asset as it was. `should_stop` is
    polled between pages; a stopped crawl fails. `key` names the crawl (the workflow run's name; a new one
    when None) and must be unique: it stamps what the crawl writes and names its undo log, which
    `gazetteer.assets.publish.roll_back` applies should the process die before the crawl ends. A `plan` runs
    in a sandbox (`plan_crawl`): it skips what only a kept crawl needs.
    """
    settings = settings or glue_settings()
    started = time.monotonic()
    report = CrawlReport(plan=plan)
    reader: GlueReader | None = None
    key = key or f"crawl-{secrets.token_hex(8)}"
    publisher = Publisher(engine, actor=key, undoable=True, fence=fence)
    try:
        qualified_name = (config.connection_qualified_name or find_connection(engine, config.connection_name)
                          or _new_connection_qualified_name(engine))
        report.connection_qualified_name = qualified_name
        scope = CrawlScope(qualified_name, config.connection_name, config.catalog_id or DEFAULT_CATALOG)
        # The limit starts at `workers` and never goes below it: that many calls, each retried with botocore's
        # backoff when throttled, was the fixed pool before the limit grew; halving below it made a crawl slower
        # under throttling without throttling it less (bench/README.md, "Remote Glue").
        workers = min(settings.workers, settings.max_concurrency)
        calls = AdaptiveLimit(initial=workers, minimum=workers, maximum=settings.max_concurrency)
        reader = GlueReader(config, max_attempts=settings.max_attempts, calls=calls,
                            role_session_seconds=settings.role_session_seconds)
        _Crawl(config, scope, reader, publisher, report, settings, progress or (lambda _: None),
               should_stop or (lambda: False)).run()
        if report.status == "Running":
            publisher.commit()
            report.status = "Succeeded"
    except CrawlStopped:
        report.fail("Stopped on request before the crawl finished.")
    except GlueError as error:
        report.fail(str(error))
    except Exception as error:  # noqa: BLE001 - a crawl ends in a report, whatever happened
        log.exception("crawl of %s failed", config.connection_name)
        report.fail(f"The crawl stopped on an unexpected error ({type(error).__name__}: {error}); run it again.")
    except BaseException:
        # Ctrl-C in the CLI: put the catalog back before letting the interrupt end the program.
        roll_back(engine, key)
        raise
    report.changes = dict(publisher.changes)
    if report.status != "Succeeded":
        _undo(engine, key, report)
    else:
        if not plan:
            _refresh_statistics(engine, publisher.writes)
        if publisher.writes and publisher.author:  # with history off, the report says no more than before
            with engine.connect() as conn:
                report.history = run_changes(conn, key)
    if reader is not None:
        report.api_calls, report.throttled = reader.api_calls, reader.throttled
        limit = reader.calls
        report.concurrency = {"peak": limit.peak, "lowest": limit.lowest, "decreases": limit.decreases}
    report.duration_seconds = time.monotonic() - started
    return report


def plan_crawl(engine: Engine, config: GlueCrawlConfig, *, settings: GlueSettings | None = None,
               progress: Progress | None = None) -> CrawlReport:
    """What a crawl would change now, worked out by crawling Glue for real into a sandbox of the catalog that is
    thrown away (gazetteer.store.sandbox): the same code, so the plan is what a crawl run now would do. Nothing
    is written; the report's `history` lists the changes, breaking first, and a circuit breaker refuses as it
    would."""
    with sandbox(engine) as scratch:
        return crawl(scratch, config, settings=settings, progress=progress, key=f"plan-{secrets.token_hex(8)}",
                     plan=True)


def _refresh_statistics(engine: Engine, written: int) -> None:
    """After a big crawl, fresh planner statistics: the first searches come right after it."""
    try:
        refresh_statistics(engine, written)
    except Exception:  # noqa: BLE001 - the crawl is committed; autovacuum will analyze in its own time
        log.warning("analyzing the catalog after the crawl failed", exc_info=True)


def _undo(engine: Engine, key: str, report: CrawlReport) -> None:
    """Undo what a failed crawl wrote and say so in its report."""
    said = report.message or ""
    said += "" if said.endswith((".", "?", "!")) else "."
    try:
        roll_back(engine, key)
    except Exception as error:  # noqa: BLE001 - the report must still say what happened
        log.exception("rolling back crawl %s failed", key)
        report.fail(f"{said} Undoing what it had written failed too ({type(error).__name__}: {error}), so the "
                    "catalog may hold part of it until a crawl of this connection succeeds.")
        return
    report.fail(f"{said} Nothing was changed: the catalog was left as it was.")
    report.changes = dict.fromkeys(CHANGE_KINDS, 0)


class _Crawl:
    def __init__(self, config: GlueCrawlConfig, scope: CrawlScope, reader: GlueReader, publisher: Publisher,
                 report: CrawlReport, settings: GlueSettings, progress: Progress,
                 should_stop: Callable[[], bool]) -> None:
        self.config, self.scope, self.reader, self.publisher = config, scope, reader, publisher
        self.report, self.settings, self.progress, self.should_stop = report, settings, progress, should_stop
        self.to_archive: list[str] = []
        self.included_but_missing: set[str] = set()

    def run(self) -> None:
        databases = self._databases()
        if databases is None:
            return
        self.publisher.publish([connection_record(self.scope, self.config)])
        states = {db["Name"]: _DatabaseState(db) for db in databases}
        done = 0
        self.progress({"phase": "extract", "databases_total": len(states), "databases_done": 0})
        for event in extract_tables(self.reader, [state.glue for state in states.values()],
                                    workers=self.settings.workers, wants_table=self.config.wants_table,
                                    read_tags=self.settings.read_tags):
            if self.should_stop():
                raise CrawlStopped
            if isinstance(event, TablePage):
                self._publish_page(states[event.database], event)
            elif isinstance(event, DatabaseDone):
                done += 1
                self._finish_database(states[event.database], event.complete, event.tags)
            elif isinstance(event, Problem):
                self._warn(event)
            self.progress({"phase": "extract", "databases_total": len(states), "databases_done": done,
                           **{k: v for k, v in self.report.counts.items()}})
        self.publisher.publish([map_database(self.scope, len(states))])
        self._archive(set(states))
        if self.report.status == "Running":  # lineage links the tables as they now are
            self.progress({"phase": "lineage", "databases_total": len(states), "databases_done": done})
            self.report.lineage = derive_lineage(self.reader, self.publisher, self.scope.connection_qualified_name,
                                                 self.report, read_jobs=self.settings.read_jobs)

    def _databases(self) -> list[dict[str, Any]] | None:
        try:
            listed = [db for page in self.reader.databases() for db in page]
        except GlueError as error:
            self.report.fail(f"Could not list the Glue databases: {error}")
            return None
        names = {db["Name"] for db in listed}
        missing = [name for name in self.config.include or () if name not in names]
        for name in missing:
            self.report.warn(f"Database {name!r} named in include was not found in Glue: check its name (Glue "
                             "lower-cases names) and the crawler's Lake Formation DESCRIBE permission on it",
                             database=name)
        wanted = [db for db in listed if self.config.wants(db["Name"])]
        if self.config.include and not wanted:
            self.report.fail(f"None of the databases to include ({', '.join(self.config.include)}) exists in "
                             f"Glue in {self.config.region}; the Glue databases here are: "
                             f"{', '.join(sorted(names)) or 'none'}")
            return None
        self.included_but_missing = set(missing)
        self.report.counts["schemas"] = len(wanted)
        return wanted

    def _publish_page(self, state: _DatabaseState, page: TablePage) -> None:
        records: list[AssetRecord] = []
        parents: list[str] = []

        def sources(table: dict[str, Any]) -> tuple[Partitions | None, ColumnStatistics, SourceTags]:
            name = table["Name"]
            return page.partitions.get(name), page.column_statistics.get(name, {}), page.tags.get(name, UNKNOWN_TAGS)

        digests = {table_qualified_name(self.scope, page.database, table["Name"]): source_digest(table, *sources(table))
                   for table in page.tables}
        unchanged = self.publisher.unchanged_sources(digests)
        for table in page.tables:
            qualified_name = table_qualified_name(self.scope, page.database, table["Name"])
            if qualified_name in unchanged:
                stored = unchanged[qualified_name]
                self._count(state, qualified_name, is_view(table), int(stored.get("columnCount") or 0),
                            int(stored.get("nestedColumnCount") or 0))
                continue
            try:
                mapped = map_table(self.scope, page.database, table, *sources(table))
            except Exception as error:  # noqa: BLE001 - one odd table is a warning, not a failed crawl
                self.report.warn(f"Table skipped, its Glue definition could not be read: {error}",
                                 database=page.database, table=table.get("Name"))
                continue
            for message in mapped.warnings:
                self.report.warn(message, database=page.database, table=table.get("Name"))
            # Nested columns before their table: written while the table is not there yet (a first crawl), they
            # do not each index the table's words again; the table and its last column do that once.
            records.extend(mapped.nested)
            records.append(replace(mapped.record, source_hash=digests[qualified_name]))
            records.extend(mapped.columns)
            parents.append(mapped.record.qualified_name)
            self._count(state, qualified_name, mapped.is_view, len(mapped.columns), len(mapped.nested))
        self.publisher.publish(records, complete_parents=parents)

    def _count(self, state: _DatabaseState, qualified_name: str, view: bool, columns: int, nested: int) -> None:
        state.seen.add(qualified_name)
        state.views += view
        state.tables += not view
        self.report.counts["views" if view else "tables"] += 1
        self.report.counts["columns"] += columns
        self.report.counts["nested_columns"] += nested

    def _finish_database(self, state: _DatabaseState, complete: bool, tags: SourceTags) -> None:
        name = state.glue["Name"]
        if complete:
            schema = map_schema(self.scope, state.glue, state.tables, state.views, tags)
            gone = self.publisher.active_names(types=_TABLE_TYPES, schema=schema.qualified_name) - state.seen
            self.to_archive.extend(sorted(gone))
        else:
            # A cut-short listing proves nothing about what is missing: keep the counts and archive nothing.
            schema = map_schema(self.scope, state.glue, None, None, tags)
            self.report.warn(f"The listing of database {name!r} did not complete: nothing in it was archived",
                             database=name)
        self.publisher.publish([schema])
        state.seen.clear()

    def _warn(self, problem: Problem) -> None:
        error = problem.error
        message = f"{error}; {problem.outcome}" if problem.outcome else str(error)
        self.report.warn(message, database=problem.database, table=problem.table, operation=error.operation,
                         code=error.code, iam_action=error.iam_action)

    def _archive(self, listed: set[str]) -> None:
        connection = self.scope.connection_qualified_name
        kept = {schema_qualified_name(self.scope, name) for name in listed | self.included_but_missing}
        gone_schemas = self.publisher.active_names(types=("Schema",), connection=connection) - kept
        active_tables = self.publisher.active_names(types=_TABLE_TYPES, connection=connection)
        doomed = set(self.to_archive) | {qn for qn in active_tables if qn.rsplit("/", 1)[0] in gone_schemas}
        limit = self.config.max_archive_ratio
        limit = self.settings.max_archive_ratio if limit is None else limit
        if doomed and len(doomed) > limit * len(active_tables):
            with self.publisher.engine.connect() as conn:  # what it would have done, before the rollback
                self.report.history = {**refused_changes(conn, self.publisher.actor, sorted(doomed)), "refused": True}
            self.report.fail(
                f"Circuit breaker: this crawl would archive {len(doomed)} of the connection's {len(active_tables)} "
                f"tables and views ({len(doomed) / len(active_tables):.0%}), more than the {limit:.0%} allowed. "
                f"{self._nothing_found()}If they really were dropped from Glue, crawl again with "
                "--max-archive-ratio 1 (or set GAZETTEER_MAX_ARCHIVE_RATIO=1)."
            )
            return
        self.publisher.archive(sorted(doomed | gone_schemas))

    def _nothing_found(self) -> str:
        """The likely cause when Glue showed no table at all to a crawl of a connection that has some."""
        if self.report.counts["tables"] or self.report.counts["views"]:
            return ""
        where = self.config.region + (f" (catalog id {self.config.catalog_id})" if self.config.catalog_id else "")
        return f"Nothing found in {where}: wrong region, account (catalog id) or credentials? "
