"""Argo-shaped documents of workflows and runs, and the Elasticsearch hit shape they travel in."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

__all__ = ["argo_time", "workflow_document", "run_document", "hit", "search_answer"]


def argo_time(moment: datetime | None) -> str | None:
    """Argo's timestamp format, `%Y-%m-%dT%H:%M:%SZ` (SQLite hands back naive UTC datetimes)."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def workflow_document(row: Any) -> dict[str, Any]:
    """A stored WorkflowTemplate: the submitted metadata and spec plus what the server assigned."""
    document = row.document
    submitted = document.get("metadata", {})
    metadata = {
        **submitted,
        "labels": {**(submitted.get("labels") or {}), "workflows.argoproj.io/creator": row.created_by},
        "name": row.name,
        "namespace": row.namespace,
        "uid": row.uid,
        "generation": row.generation,
        "resourceVersion": str(row.generation),
        "creationTimestamp": argo_time(row.created_at),
    }
    return {"apiVersion": "argoproj.io/v1alpha1", "kind": "WorkflowTemplate", "metadata": metadata,
            "spec": document.get("spec", {})}


def run_document(row: Any) -> dict[str, Any]:
    """A run as Argo describes a Workflow, with Gazetteer's crawl report under status.report."""
    labels = {
        "workflows.argoproj.io/creator": row.created_by,
        "workflows.argoproj.io/workflow-template": row.workflow_name,
        "workflows.argoproj.io/phase": row.phase,
        "workflows.argoproj.io/completed": "true" if row.finished_at else "false",
    }
    status: dict[str, Any] = {
        "phase": row.phase,
        "progress": row.progress,
        "startedAt": argo_time(row.started_at),
        "finishedAt": argo_time(row.finished_at),
        "storedWorkflowTemplateSpec": {"workflowTemplateRef": {"name": row.workflow_name}},
    }
    if row.started_at and row.finished_at:
        status["estimatedDuration"] = int((row.finished_at - row.started_at).total_seconds())
    if row.message:
        status["message"] = row.message
    if row.report:
        status["report"] = row.report
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"name": row.name, "namespace": row.namespace, "uid": row.uid,
                     "creationTimestamp": argo_time(row.created_at), "labels": labels,
                     "annotations": {"gazetteer.io/stop-requested": str(bool(row.stop_requested)).lower()}},
        "spec": {"workflowTemplateRef": {"name": row.workflow_name}, "entrypoint": "main", "arguments": {}},
        "status": {key: value for key, value in status.items() if value is not None},
    }


def hit(index: str, document: dict[str, Any], sort: list[Any] | None = None) -> dict[str, Any]:
    return {"_index": index, "_type": "_doc", "_id": document["metadata"]["name"], "_score": None,
            "_seq_no": 0, "_primary_term": 1, "sort": sort or [], "_source": document}


def search_answer(index: str, documents: list[dict[str, Any]], total: int, took_ms: int) -> dict[str, Any]:
    """The Elasticsearch answer shape pyatlan parses."""
    return {
        "took": took_ms,
        "timed_out": False,
        "_shards": {"total": 1, "successful": 1, "skipped": 0, "failed": 0},
        "hits": {"total": {"value": total, "relation": "eq"}, "max_score": None,
                 "hits": [hit(index, document) for document in documents]},
    }
