"""OpenLineage run events as sent (JSON: one event, or a list as pyatlan's OpenLineageRawEvent sends), checked
and cut down to what lineage needs.

What for: `gazetteer.assets.openlineage` records lineage from these. What every event must have is checked and
refused with a message naming the event and the field (InvalidRequest): a job with a namespace and a name,
datasets with a namespace and a name, a known eventType, an eventTime that is a date-time. Facets are free-form
in OpenLineage and producers add their own, so only the two read here are looked at (`symlinks`,
`columnLineage`) and any part of them not shaped as the spec says is passed over, not refused.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from gazetteer.assets.openlineage_datasets import Dataset, DatasetName
from gazetteer.errors import InvalidRequest
from gazetteer.jsontext import loads

__all__ = ["RunEvent", "parse_events", "MAX_EVENTS", "MAX_DATASETS", "MAX_FIELDS"]

MAX_EVENTS = 100  # per request
MAX_DATASETS = 1000  # inputs and outputs of one event
MAX_FIELDS = 10_000  # column lineage input fields of one event: bounds the column processes one event makes
_MAX_NAME = 1000  # a job's or a dataset's namespace or name
_MAX_PRODUCER = 300
_MAX_SQL = 100_000
_TYPES = ("START", "RUNNING", "COMPLETE", "ABORT", "FAIL", "OTHER")
_ZONE_ID = re.compile(r"\[[^\]]*\]$")  # Java's ZonedDateTime.toString() ends "...Z[UTC]"


@dataclass(frozen=True, slots=True)
class RunEvent:
    """What lineage needs of one event."""

    event_type: str
    event_time: datetime
    job_namespace: str
    job_name: str
    run_id: str | None
    producer: str | None
    sql: str | None  # the job's `sql` facet (dbt, Spark SQL)
    inputs: tuple[Dataset, ...]
    outputs: tuple[Dataset, ...]


def parse_events(body: bytes) -> list[RunEvent]:
    """The events of a request body; InvalidRequest says what is wrong and where."""
    if not body.strip():
        raise InvalidRequest("The body is empty: send an OpenLineage run event (a JSON object) or a list of them.")
    try:
        document = loads(body.decode("utf-8"), "The OpenLineage body")
    except ValueError as error:  # JSONDecodeError, UnicodeDecodeError
        raise InvalidRequest(f"The body is not valid JSON ({error}): send an OpenLineage run event (a JSON object) "
                             "or a list of them.") from None
    if isinstance(document, dict):
        return [_event(document, "event")]
    if not isinstance(document, list):
        raise InvalidRequest(f"The body is a JSON {type(document).__name__}: send an OpenLineage run event (a JSON "
                             "object) or a list of them.")
    if not document:
        raise InvalidRequest("The body is an empty list: send at least one OpenLineage run event.")
    if len(document) > MAX_EVENTS:
        raise InvalidRequest(f"The body holds {len(document):,} events; send at most {MAX_EVENTS} per request.")
    return [_event(item, f"events[{i}]") for i, item in enumerate(document)]


def _required(value: Any, where: str) -> str:
    if value is None:
        raise InvalidRequest(f"{where} is required: a non-empty string.")
    text = _optional(value, where)
    if not text or not text.strip():
        raise InvalidRequest(f"{where} must not be empty.")
    return text


def _optional(value: Any, where: str, limit: int | None = _MAX_NAME) -> str | None:
    if value is not None and not isinstance(value, str):
        raise InvalidRequest(f"{where} must be a string, not a JSON {type(value).__name__}.")
    if value is not None and limit is not None and len(value) > limit:
        raise InvalidRequest(f"{where} is {len(value):,} characters long; at most {limit:,} are accepted.")
    return value


def _event(item: Any, where: str) -> RunEvent:
    if not isinstance(item, dict):
        raise InvalidRequest(f"{where} must be a JSON object (an OpenLineage run event).")
    job = item.get("job")
    if not isinstance(job, dict):
        what = "a dataset event; only run events are accepted" if "dataset" in item else "required"
        raise InvalidRequest(f"{where}.job is missing ({what}): a run event names its job, "
                             "{\"namespace\": ..., \"name\": ...}.")
    job_namespace = _required(job.get("namespace"), f"{where}.job.namespace")
    job_name = _required(job.get("name"), f"{where}.job.name")
    event_type = item.get("eventType") or "OTHER"  # optional in the spec: an event that only adds metadata
    if event_type not in _TYPES:
        raise InvalidRequest(f"{where}.eventType {str(event_type)[:40]!r} is not one of {', '.join(_TYPES)}.")
    run = item.get("run")
    sql = _facet(job, "sql").get("query")
    producer = _optional(item.get("producer"), f"{where}.producer", limit=None)
    inputs, outputs = (_datasets(item.get(key), f"{where}.{key}") for key in ("inputs", "outputs"))
    if len(inputs) + len(outputs) > MAX_DATASETS:
        raise InvalidRequest(f"{where} names {len(inputs) + len(outputs):,} datasets; at most {MAX_DATASETS:,} "
                             "(inputs and outputs together) are accepted per event.")
    datasets = [_dataset(value, f"{where}.{key}[{i}]") for key, values in (("inputs", inputs), ("outputs", outputs))
                for i, value in enumerate(values)]
    fields = sum(len(sources) for dataset in datasets for _, sources in dataset.columns)
    if fields > MAX_FIELDS:
        raise InvalidRequest(f"{where}: its columnLineage facets name {fields:,} input fields; at most "
                             f"{MAX_FIELDS:,} are accepted per event.")
    return RunEvent(
        event_type=event_type, event_time=_time(item.get("eventTime"), f"{where}.eventTime"),
        job_namespace=job_namespace, job_name=job_name,
        run_id=_optional(run.get("runId"), f"{where}.run.runId") if isinstance(run, dict) else None,
        producer=producer[:_MAX_PRODUCER] if producer else None,
        sql=sql[:_MAX_SQL] if isinstance(sql, str) else None,
        inputs=tuple(datasets[:len(inputs)]), outputs=tuple(datasets[len(inputs):]))


def _datasets(value: Any, where: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise InvalidRequest(f"{where} must be a list of datasets.")
    return value


def _facet(owner: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    """A facet of a job or dataset; empty when it is absent or not an object."""
    facets = owner.get("facets")
    facet = facets.get(name) if isinstance(facets, Mapping) else None
    return facet if isinstance(facet, Mapping) else {}


def _time(value: Any, where: str) -> datetime:
    """An ISO 8601 date-time, UTC when it names no zone; the time of arrival when the event has none."""
    if value is None:
        return datetime.now(UTC)
    try:
        found = datetime.fromisoformat(_ZONE_ID.sub("", value)) if isinstance(value, str) and "T" in value else None
    except ValueError:
        found = None
    if found is None:
        raise InvalidRequest(f"{where} {json.dumps(value)[:60]} is not an ISO 8601 date-time such as "
                             "2024-05-01T06:00:00Z.")
    return found if found.tzinfo is not None else found.replace(tzinfo=UTC)


def _name(value: Any, where: str) -> DatasetName:
    if not isinstance(value, dict):
        raise InvalidRequest(f"{where} must be a JSON object with a namespace and a name.")
    return DatasetName(_required(value.get("namespace"), f"{where}.namespace"),
                       _required(value.get("name"), f"{where}.name"))


def _dataset(value: Any, where: str) -> Dataset:
    name = _name(value, where)
    return Dataset(name, _symlinks(_facet(value, "symlinks")), _column_lineage(_facet(value, "columnLineage")))


def _symlinks(facet: Mapping[str, Any]) -> tuple[DatasetName, ...]:
    identifiers = facet.get("identifiers")
    return tuple(DatasetName(i["namespace"], i["name"]) for i in identifiers if _named(i)) \
        if isinstance(identifiers, list) else ()


def _column_lineage(facet: Mapping[str, Any]) -> tuple[tuple[str, tuple[tuple[DatasetName, str], ...]], ...]:
    fields = facet.get("fields")
    if not isinstance(fields, Mapping):
        return ()
    columns = []
    for column, spec in fields.items():
        sources = spec.get("inputFields") if isinstance(spec, Mapping) else None
        if not column or not isinstance(sources, list):
            continue
        found = tuple((DatasetName(s["namespace"], s["name"]), s["field"]) for s in sources
                      if _named(s) and isinstance(s.get("field"), str) and s["field"])
        if found:
            columns.append((column, found))
    return tuple(columns)


def _named(value: Any) -> bool:
    return (isinstance(value, Mapping) and isinstance(value.get("namespace"), str) and bool(value["namespace"])
            and isinstance(value.get("name"), str) and bool(value["name"]))
