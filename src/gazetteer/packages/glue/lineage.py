"""The lineage a Glue crawl derives, after the tables: views' SQL, jobs' scripts and crawlers' targets.

Each becomes an Atlan Process under `<connection>/lineage/` (`gazetteer.assets.processes`): a view's reads its
tables and writes the view, with a ColumnProcess per view column computed from columns; a job's reads and
writes what its script (or Glue's GetDataflowGraph) names; a crawler's reads its S3 paths (as S3Object assets)
and writes the tables kept there. It is published by the crawl's own publisher, so it is all or nothing with
the crawl, unchanged lineage costs no write, and what Glue no longer has is archived. Whatever cannot be read
or resolved is a warning naming it, never a failed crawl (docs/design.md, Glue facts §17 and Atlan contract §8).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import re2

from gazetteer.assets.lineage_catalog import CatalogTable, LineageCatalog, StoredProcess, normalise_path
from gazetteer.assets.processes import Endpoint, crawled_prefix, process_record
from gazetteer.assets.publish import Publisher
from gazetteer.assets.records import LINEAGE_TYPES, AssetRecord
from gazetteer.packages.glue.client import GlueError, GlueReader
from gazetteer.packages.glue.job_scripts import DataRef, ScriptLineage, dataflow_lineage, script_lineage
from gazetteer.packages.glue.report import CrawlReport
from gazetteer.packages.glue.view_lineage import view_lineage

__all__ = ["derive_lineage"]

_BATCH = 200  # views or jobs per publish
# Part of every view's lineage digest: changing how view lineage is derived makes the next crawl derive it again.
_VIEW_LINEAGE_VERSION = 1
_MAX_CODE = 200_000  # the most of a script kept as the job process's `code`
# Scripts sometimes have credentials written into them: the catalog keeps a job's code without them (quoted
# values of names that say secret, password, token or key, and AWS access key ids). RE2: linear in the script.
_SECRET_VALUES = re2.compile(r"""(?i)((?:secret|password|passwd|pwd|token|api_?key|access_?key)[a-z0-9_]*["']?"""
                             r"""\s*[:=]\s*)(["'])[^"'\n]{4,}(["'])""")
_KEY_IDS = re2.compile(r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b")

@dataclass
class _Derived:
    """What this crawl derived, by qualified name, and which kinds it listed completely."""

    names: set[str] = field(default_factory=set)
    complete: set[str] = field(default_factory=set)
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(
        ("views", "jobs", "crawlers", "processes", "column_processes"), 0))


def derive_lineage(reader: GlueReader, publisher: Publisher, connection_qualified_name: str,
                   report: CrawlReport, *, read_jobs: bool) -> dict[str, int]:
    """Derive and publish the connection's lineage; archive what it no longer has. Returns the counts."""
    catalog = LineageCatalog(publisher.engine, connection_qualified_name)
    connection = {"qualifiedName": connection_qualified_name, "connectorName": "glue"}
    work = _Lineage(reader, publisher, catalog, connection, report)
    work.views()
    if read_jobs:
        work.jobs()
        work.crawlers()
    work.archive_stale()
    return work.derived.counts


def _redacted(script: str) -> str:
    """A job's script as the catalog keeps it: credentials written into it replaced by ***."""
    return str(_KEY_IDS.sub("AKIA****************", _SECRET_VALUES.sub(r"\1\2***\3", script)))


class _Lineage:
    def __init__(self, reader: GlueReader, publisher: Publisher, catalog: LineageCatalog,
                 connection: dict[str, Any], report: CrawlReport) -> None:
        self.reader, self.publisher, self.catalog = reader, publisher, catalog
        self.connection, self.report = connection, report
        self.prefix = crawled_prefix(connection["qualifiedName"])
        self.derived = _Derived()
        self.dataflow: bool | None = None  # whether the endpoint answers GetDataflowGraph; None: not asked yet

    # Views -------------------------------------------------------------------------------------------------

    def views(self) -> None:
        views = sorted(self.catalog.views(), key=lambda v: (v.database, v.name))
        for start in range(0, len(views), _BATCH):
            self._views(views[start:start + _BATCH])
        self.derived.complete.add("view")

    def _views(self, views: Sequence[CatalogTable]) -> None:
        processes: list[AssetRecord] = []
        column_edges: dict[str, tuple[CatalogTable, list[tuple[Endpoint, list[Endpoint]]]]] = {}
        names = {view.endpoint.qualified_name: f"{self.prefix}view/{view.database}/{view.name}" for view in views}
        stored = self.catalog.stored_processes(names.values())
        for view in views:
            sql = view.attributes.get("definition")
            if not isinstance(sql, str) or not sql.strip():
                continue
            qualified_name = names[view.endpoint.qualified_name]
            previous = stored.get(qualified_name)
            if previous is not None and self._unchanged(view, sql, previous):
                self._keep(view, qualified_name, previous)
                continue
            found = view_lineage(sql, view.attributes.get("viewDialect"), view.database,
                                 list(self.catalog.columns(view)), self._columns_of)
            if found.problem:
                self.report.warn(f"View {view.database}.{view.name}: no lineage, {found.problem}",
                                 database=view.database, table=view.name)
                continue
            self._warn_unresolved(view, found.unresolved)
            inputs = [t.endpoint for db, name in found.tables if (t := self.catalog.table(db, name)) is not None]
            if not inputs:
                continue
            record = process_record(self.connection, qualified_name, f"{view.database}.{view.name}", inputs,
                                    [view.endpoint], sql=sql, unresolvedInputs=list(found.unresolved) or None)
            digest = self._view_digest(view, sql, [i.qualified_name for i in inputs], found.unresolved)
            processes.append(replace(record, source_hash=digest))
            column_edges[qualified_name] = (view, self._column_edges(view, found.columns))
            self.derived.counts["views"] += 1
        self._publish(processes)
        # A ColumnProcess refers to its Process by guid: the processes are published first.
        parents = self.catalog.endpoints(column_edges)
        records = []
        for qualified_name, (view, edges) in column_edges.items():
            for output, sources in edges:
                column = output.qualified_name.rsplit("/", 1)[-1]
                records.append(process_record(self.connection, f"{qualified_name}/{column}",
                                              f"{view.database}.{view.name}.{column}", sources, [output],
                                              type_name="ColumnProcess", parent=parents[qualified_name]))
        self._publish(records, complete_parents=list(parents))

    def _view_digest(self, view: CatalogTable, sql: str, inputs: Sequence[str], unresolved: Sequence[str]) -> str:
        """What a view's lineage is derived from: its SQL and columns, and the columns of what it reads."""
        read = [(qn, list(self.catalog.columns(table)) if (table := self.catalog.by_qualified_name(qn)) else None)
                for qn in sorted(inputs)]
        payload = [_VIEW_LINEAGE_VERSION, sql, view.attributes.get("viewDialect"), list(self.catalog.columns(view)),
                   read, sorted(unresolved)]
        return hashlib.blake2b(json.dumps(payload).encode(), digest_size=16).hexdigest()

    def _unchanged(self, view: CatalogTable, sql: str, previous: StoredProcess) -> bool:
        """Whether the view's stored lineage still holds, told without parsing its SQL: same SQL and columns,
        the tables it read have the same columns, and what it could not resolve still is not there."""
        if any(self._resolves(view, name) for name in previous.unresolved):
            return False
        return self._view_digest(view, sql, previous.inputs, previous.unresolved) == previous.source_hash

    def _resolves(self, view: CatalogTable, name: str) -> bool:
        parts = name.lower().split(".")
        database, table = (view.database, parts[0]) if len(parts) == 1 else (parts[-2], parts[-1])
        return self.catalog.table(database, table) is not None

    def _keep(self, view: CatalogTable, qualified_name: str, previous: StoredProcess) -> None:
        """Count an unchanged view's lineage as derived again, and say again what it could not resolve."""
        self._warn_unresolved(view, previous.unresolved)
        self.derived.names.update((qualified_name, *previous.children))
        self.derived.counts["views"] += 1
        self.derived.counts["processes"] += 1
        self.derived.counts["column_processes"] += len(previous.children)
        self.publisher.changes["unchanged"] += 1 + len(previous.children)

    def _warn_unresolved(self, view: CatalogTable, unresolved: Sequence[str]) -> None:
        if unresolved:
            self.report.warn(f"View {view.database}.{view.name} reads {', '.join(unresolved)}, not found in this "
                             "connection: that part of its lineage is left out", database=view.database,
                             table=view.name)

    def _columns_of(self, database: str, name: str) -> list[str] | None:
        table = self.catalog.table(database, name)
        return None if table is None else list(self.catalog.columns(table))

    def _column_edges(self, view: CatalogTable, columns: Iterable[tuple[str, Sequence[tuple[str, str, str]]]]
                      ) -> list[tuple[Endpoint, list[Endpoint]]]:
        """(view column, the source columns it is computed from) for each view column computed from some."""
        own = self.catalog.columns(view)
        edges = []
        for name, sources in columns:
            found = [column for db, table_name, column_name in sources
                     if (table := self.catalog.table(db, table_name)) is not None
                     and (column := self.catalog.columns(table).get(column_name)) is not None]
            if found and name in own:
                edges.append((own[name], found))
        return edges

    # Jobs --------------------------------------------------------------------------------------------------

    def jobs(self) -> None:
        self._listing("job", self.reader.jobs(), self._job)

    def _listing(self, kind: str, pages: Iterable[list[dict[str, Any]]],
                 derive: Callable[[dict[str, Any]], AssetRecord | None]) -> None:
        """Derive and publish the processes of every job (or crawler) Glue lists; a listing that fails is one
        warning, and that kind's lineage is then left as it was (it proves nothing gone)."""
        try:
            for page in pages:
                self._publish([record for item in page if (record := derive(item)) is not None])
        except GlueError as error:
            self.report.warn(f"{error}; lineage from Glue {kind}s is left as it was", operation=error.operation,
                             code=error.code, iam_action=error.iam_action)
            return
        self.derived.complete.add(kind)

    def _job(self, job: dict[str, Any]) -> AssetRecord | None:
        name = str(job.get("Name") or "")
        location = (job.get("Command") or {}).get("ScriptLocation")
        if not name or not isinstance(location, str) or not location.startswith("s3://"):
            return None
        self.derived.counts["jobs"] += 1
        where = f"Glue job {name!r}"
        try:
            script = self.reader.script(location)
        except GlueError as error:
            self.report.warn(f"{where}: its script {location} could not be read, so its lineage is left out: {error}",
                             operation=error.operation, code=error.code, iam_action=error.iam_action)
            return None
        found = self._script_lineage(script)
        if found.problem:
            self.report.warn(f"{where}: its script {location} could not be analysed ({found.problem}); its "
                             "lineage is left out")
            return None
        inputs, unknown_in = self._resolve(found.sources)
        outputs, unknown_out = self._resolve(found.targets)
        unresolved = [*found.unresolved, *unknown_in, *unknown_out]
        if unresolved:
            self.report.warn(f"{where}: {'; '.join(unresolved[:10])}: left out of its lineage")
        if not inputs and not outputs:
            return None
        return process_record(self.connection, f"{self.prefix}job/{name}", name, inputs, outputs,
                              code=_redacted(script[:_MAX_CODE]), description=job.get("Description") or None)

    def _script_lineage(self, script: str) -> ScriptLineage:
        """Glue's own reading of the script when the endpoint answers GetDataflowGraph, else ours."""
        if self.dataflow is not False:
            try:
                graph = self.reader.dataflow_graph(script)
                self.dataflow = True
                found = dataflow_lineage(graph)
                if found.sources or found.targets:
                    return found
            except GlueError:
                # Not offered by this endpoint (moto answers a 500), refused, or failing: ask no more in this
                # crawl, whose scripts are read here instead (what a failure would have led to anyway).
                self.dataflow = False
        return script_lineage(script)

    def _resolve(self, refs: Iterable[DataRef]) -> tuple[list[Endpoint], list[str]]:
        """The assets a job's datasets are: catalog tables by name, S3 paths by the tables there, else S3Objects."""
        found: dict[str, Endpoint] = {}
        unresolved = []
        for ref in refs:
            if ref.database and ref.table:
                table = self.catalog.table(ref.database, ref.table)
                if table is not None:
                    found[table.endpoint.qualified_name] = table.endpoint
                    continue
                if not ref.path:
                    unresolved.append(f"table {ref.database}.{ref.table} is not in this connection")
                    continue
            if ref.path:
                tables = self.catalog.containing(ref.path)
                endpoints = [t.endpoint for t in tables] or [self._s3_object(ref.path)]
                found.update((endpoint.qualified_name, endpoint) for endpoint in endpoints)
        return list(found.values()), unresolved

    # Crawlers ----------------------------------------------------------------------------------------------

    def crawlers(self) -> None:
        self._listing("crawler", self.reader.crawlers(), self._crawler)

    def _crawler(self, crawler: dict[str, Any]) -> AssetRecord | None:
        name = str(crawler.get("Name") or "")
        targets = crawler.get("Targets") or {}
        if not name:
            return None
        self.derived.counts["crawlers"] += 1
        paths = [normalise_path(str(target["Path"])) for target in targets.get("S3Targets") or ()
                 if isinstance(target, dict) and isinstance(target.get("Path"), str)]
        for kind in ("DeltaTargets", "IcebergTargets", "HudiTargets"):
            paths += [normalise_path(str(path)) for target in targets.get(kind) or () if isinstance(target, dict)
                      for path in target.get("DeltaTables") or target.get("Paths") or () if isinstance(path, str)]
        outputs: dict[str, Endpoint] = {}
        for path in paths:
            outputs.update((t.endpoint.qualified_name, t.endpoint) for t in self.catalog.under(path))
        for target in targets.get("CatalogTargets") or ():
            database = str(target.get("DatabaseName") or "")
            for table_name in target.get("Tables") or ():
                if (table := self.catalog.table(database, str(table_name))) is not None:
                    outputs[table.endpoint.qualified_name] = table.endpoint
                    if table.location:
                        paths.append(table.location)
        if not outputs:
            return None
        inputs = [self._s3_object(path) for path in dict.fromkeys(paths)]
        return process_record(self.connection, f"{self.prefix}crawler/{name}", name, inputs, list(outputs.values()),
                              description=crawler.get("Description") or None)

    # Publishing --------------------------------------------------------------------------------------------

    def _s3_object(self, path: str) -> Endpoint:
        """The S3Object asset of a location that is no table's, published now (its guid goes into references)."""
        bucket, _, key = normalise_path(path).removeprefix("s3://").partition("/")
        qualified_name = f"{self.prefix}s3/{bucket}/{key}".rstrip("/")
        if qualified_name not in self.derived.names:
            attributes = {"connectionQualifiedName": self.connection["qualifiedName"], "connectorName": "glue",
                          "s3BucketName": bucket, "s3ObjectKey": key, "awsArn": f"arn:aws:s3:::{bucket}/{key}"}
            name = key.rsplit("/", 1)[-1] or bucket
            self._publish([AssetRecord("S3Object", qualified_name, name, self.connection["qualifiedName"],
                                       attributes)])
        return self.catalog.endpoints([qualified_name])[qualified_name]

    def _publish(self, records: Sequence[AssetRecord], complete_parents: Sequence[str] = ()) -> None:
        if not records and not complete_parents:
            return
        self.publisher.publish(list(records), complete_parents=complete_parents)
        for record in records:
            self.derived.names.add(record.qualified_name)
            if record.type_name == "Process":
                self.derived.counts["processes"] += 1
            elif record.type_name == "ColumnProcess":
                self.derived.counts["column_processes"] += 1

    def archive_stale(self) -> None:
        """Archive the derived lineage this crawl did not derive again, for the kinds it listed completely (S3
        objects only when nothing could still name them)."""
        kinds = set(self.derived.complete)
        if {"job", "crawler"} <= kinds:
            kinds.add("s3")
        active = self.publisher.active_names(types=(*LINEAGE_TYPES, "S3Object"),
                                             connection=self.connection["qualifiedName"])
        stale = sorted(qn for qn in active - self.derived.names if qn.startswith(self.prefix)
                       and qn[len(self.prefix):].split("/", 1)[0] in kinds)
        self.publisher.archive(stale)
