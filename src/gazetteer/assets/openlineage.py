"""OpenLineage run events in, lineage out: a Process per job between the crawled tables it read and wrote.

What for: POST /events/openlineage/{connector}/api/v1/lineage, where pyatlan's `client.open_lineage.send`,
Spark's OpenLineage listener, Airflow and dbt send run events (one, or a list). An event that carries datasets
(COMPLETE, START, RUNNING, OTHER; never FAIL or ABORT) and some of whose datasets are crawled Glue tables
(`gazetteer.assets.openlineage_datasets`) becomes the Process `<connection>/openlineage/<job namespace>/<job
name>` in the connection of its outputs (else of its inputs), and its `columnLineage` facet a ColumnProcess
per output column beneath it. The job's latest event (by eventTime) says what the process reads and writes
now: a later one replaces its inputs, outputs and column processes, an earlier one changes nothing. None of
this is under `crawled_prefix`, so crawls leave it alone.

Producers must not fail because the catalog lacks a table: datasets that are no crawled table are named in
the answer, never refused. Malformed events are (InvalidRequest); so is writing into a connection the caller
may not create assets in (PermissionDenied), before anything is written.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from gazetteer.assets.openlineage_datasets import Dataset, Found, GlueDatasets
from gazetteer.assets.openlineage_events import RunEvent, parse_events
from gazetteer.assets.processes import Endpoint, process_record
from gazetteer.assets.publish import Publisher
from gazetteer.assets.records import AssetRecord
from gazetteer.assets.service import connection_attributes
from gazetteer.auth.permissions import Action, authorize
from gazetteer.auth.principal import Principal
from gazetteer.errors import InvalidRequest
from gazetteer.store.schema import assets

__all__ = ["receive_events"]

_CONNECTOR = re.compile(r"[a-z0-9-]{1,64}")
_NOTHING = ("FAIL", "ABORT")  # a run that failed tells nothing sure about what its job reads and writes
_SHOWN = 10  # unresolved datasets named in the answer
# A column process to be: the output column's name (as the catalog spells it), its input and output columns.
_ColumnEdge = tuple[str, dict[str, Endpoint], dict[str, Endpoint]]


@dataclass
class _Job:
    """What one job's latest event of a request says, resolved."""

    event: RunEvent
    connection: str
    qualified_name: str
    inputs: list[Endpoint]
    outputs: list[Endpoint]
    columns: dict[str, _ColumnEdge]  # by the output column's name in lower case


def receive_events(engine: Engine, principal: Principal, connector: str, body: bytes) -> str:
    """Record the lineage of the run events in `body`; the answer's text says what became of them."""
    if not _CONNECTOR.fullmatch(connector):
        raise InvalidRequest(f"Unknown connector {connector[:80]!r} in the path: expected a connector name such as "
                             "spark, airflow or dbt (1 to 64 lower-case letters, digits and '-').")
    events = parse_events(body)
    batch = _Batch(GlueDatasets(engine), connector)
    for event in events:
        batch.add(event)
    with engine.connect() as conn:
        for connection in sorted({job.connection for job in batch.jobs.values()}):
            authorize(principal, Action.CREATE_ASSET, connection_attributes(conn, connection) or {"name": connection},
                      what=f"in connection {connection!r} (lineage from OpenLineage events)")
    written, columns = batch.write(Publisher(engine, actor=principal.username, agent="openlineage"))
    return batch.summary(len(events), written, columns)


def _segment(text: str) -> str:
    """A name as one segment of a qualified name: '/' (and '%', to keep it reversible) percent-encoded."""
    return text.replace("%", "%25").replace("/", "%2F")


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}es" if noun.endswith("s") else f"{count} {noun}s"


def _endpoints(found: Iterable[Found]) -> dict[str, Endpoint]:
    return {item.table.endpoint.qualified_name: item.table.endpoint for item in found}


class _Batch:
    def __init__(self, datasets: GlueDatasets, connector: str) -> None:
        self.datasets, self.connector = datasets, connector
        self.jobs: dict[str, _Job] = {}
        self.unresolved: dict[str, None] = {}
        self.failed = self.empty = self.older = 0

    def add(self, event: RunEvent) -> None:
        if event.event_type in _NOTHING:
            self.failed += 1
            return
        inputs = [self._resolve(dataset) for dataset in event.inputs]
        outputs = [self._resolve(dataset) for dataset in event.outputs]
        owner = next((found[0] for found in (*outputs, *inputs) if found), None)
        if owner is None:
            self.empty += 1
            return
        qualified_name = f"{owner.connection}/openlineage/{_segment(event.job_namespace)}/{_segment(event.job_name)}"
        earlier = self.jobs.get(qualified_name)
        if earlier is not None and earlier.event.event_time > event.event_time:
            self.older += 1
            return
        if earlier is not None:
            self.older += 1  # the earlier of the two is left out
        self.jobs[qualified_name] = _Job(
            event, owner.connection, qualified_name, list(_endpoints(f for found in inputs for f in found).values()),
            list(_endpoints(f for found in outputs for f in found).values()), self._columns(event.outputs, outputs))

    def _resolve(self, dataset: Dataset) -> list[Found]:
        found = self.datasets.resolve(dataset)
        if not found:
            self.unresolved[str(dataset.name)] = None
        return found

    def _columns(self, datasets: Sequence[Dataset], resolved: Sequence[list[Found]]) -> dict[str, _ColumnEdge]:
        """Output column → its input columns, merged over the tables the outputs are."""
        edges: dict[str, _ColumnEdge] = {}
        for dataset, found in zip(datasets, resolved, strict=True):
            for column, fields in dataset.columns:
                targets = [e for item in found if (e := self.datasets.column(item, column)) is not None]
                sources = [e for source, field in fields for item in self.datasets.named(source)
                           if (e := self.datasets.column(item, field)) is not None]
                if targets and sources:
                    # Named as the catalog names the column, whatever case the producer spells it in.
                    name = targets[0].qualified_name.rsplit("/", 1)[-1]
                    _, ins, outs = edges.setdefault(name.lower(), (name, {}, {}))
                    ins.update((e.qualified_name, e) for e in sources)
                    outs.update((e.qualified_name, e) for e in targets)
        return edges

    def write(self, publisher: Publisher) -> tuple[int, int]:
        """Publish the processes (then their column processes, which refer to them by guid); (processes,
        column processes) written."""
        jobs = self._newer_than_recorded(publisher.engine)
        _publish(publisher, [self._process(job) for job in jobs])
        parents: dict[str, Endpoint] = {}
        for job in jobs:
            parents.update(self.datasets.catalog(job.connection).endpoints([job.qualified_name]))
        columns = [self._column_process(job, parents[job.qualified_name], *edge)
                   for job in jobs for edge in job.columns.values()]
        _publish(publisher, columns)
        publisher.archive(_stale_columns(publisher.engine, list(parents), {r.qualified_name for r in columns}))
        return len(jobs), len(columns)

    def _newer_than_recorded(self, engine: Engine) -> list[_Job]:
        """The jobs whose event is not older than the one their process last recorded."""
        query = sa.select(assets.c.qualified_name, assets.c.attributes).where(
            assets.c.qualified_name.in_(list(self.jobs)), assets.c.status == "ACTIVE")
        with engine.connect() as conn:
            recorded = {row.qualified_name: _recorded_time(row.attributes or {}) for row in conn.execute(query)}
        fresh = []
        for name, job in self.jobs.items():
            last = recorded.get(name)
            if last is not None and last > job.event.event_time:
                self.older += 1
            else:
                fresh.append(job)
        return fresh

    def _connection(self, job: _Job) -> dict[str, Any]:
        return {"qualifiedName": job.connection, "connectorName": self.datasets.connector(job.connection)}

    def _process(self, job: _Job) -> AssetRecord:
        event = job.event
        context = {"source": "openlineage", "connector": self.connector, "jobNamespace": event.job_namespace,
                   "runId": event.run_id, "eventType": event.event_type, "eventTime": event.event_time.isoformat(),
                   "producer": event.producer}
        return process_record(self._connection(job), job.qualified_name, event.job_name, job.inputs, job.outputs,
                              sql=event.sql, additionalEtlContext=json.dumps(
                                  {k: v for k, v in context.items() if v is not None}, separators=(",", ":")))

    def _column_process(self, job: _Job, parent: Endpoint, column: str, inputs: Mapping[str, Endpoint],
                        outputs: Mapping[str, Endpoint]) -> AssetRecord:
        return process_record(self._connection(job), f"{job.qualified_name}/{_segment(column)}",
                              f"{job.event.job_name}.{column}", list(inputs.values()), list(outputs.values()),
                              type_name="ColumnProcess", parent=parent)

    def summary(self, events: int, written: int, columns: int) -> str:
        parts = [f"accepted {_plural(events, 'event')}",
                 f"{_plural(written, 'process')} written" + (f", {_plural(columns, 'column process')}" if columns
                                                              else "")]
        if self.failed:
            parts.append(f"{_plural(self.failed, 'FAIL or ABORT event')} recorded nothing")
        if self.older:
            parts.append(f"{_plural(self.older, 'event')} older than its job's latest left out")
        if self.empty:
            parts.append(f"{_plural(self.empty, 'event')} without a dataset in the catalog recorded nothing")
        if self.unresolved:
            names = list(self.unresolved)
            more = f" and {len(names) - _SHOWN} more" if len(names) > _SHOWN else ""
            parts.append(f"unresolved datasets: {', '.join(names[:_SHOWN])}{more}")
        return "; ".join(parts)


def _recorded_time(attributes: Mapping[str, Any]) -> datetime | None:
    """When the event a process last recorded happened; None if no event wrote it (or it was edited since
    through the API into something else): then any event may replace it."""
    try:
        found = datetime.fromisoformat(json.loads(attributes["additionalEtlContext"])["eventTime"])
    except (KeyError, TypeError, ValueError):
        return None
    return found if found.tzinfo is not None else found.replace(tzinfo=UTC)


def _publish(publisher: Publisher, records: list[AssetRecord]) -> None:
    try:
        publisher.publish(records)
    except IntegrityError:
        # Another request created one of these processes between our read and our insert: now it exists, the
        # same records update it.
        publisher.publish(records)


def _stale_columns(engine: Engine, processes: Sequence[str], kept: set[str]) -> list[str]:
    """The active column processes of these processes that the latest events no longer name."""
    query = sa.select(assets.c.qualified_name).where(
        assets.c.parent_qualified_name.in_(processes), assets.c.type_name == "ColumnProcess",
        assets.c.status == "ACTIVE")
    with engine.connect() as conn:
        return sorted(set(conn.execute(query).scalars()) - kept)
