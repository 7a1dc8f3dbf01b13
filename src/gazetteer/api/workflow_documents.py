"""Argo-shaped documents of workflows, runs and schedules, and the Elasticsearch hit shape they travel in."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from gazetteer.workflows.schedules import cron_name
from gazetteer.workflows.views import RunView, WorkflowView

__all__ = ["argo_time", "cron_document", "workflow_document", "run_document", "hit", "search_answer"]


def argo_time(moment: datetime | None) -> str | None:
    """Argo's timestamp format, `%Y-%m-%dT%H:%M:%SZ` (SQLite hands back naive UTC datetimes)."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def workflow_document(workflow: WorkflowView) -> dict[str, Any]:
    """A stored WorkflowTemplate: the submitted metadata and spec plus what the server assigned."""
    document = workflow.document
    submitted = document.get("metadata", {})
    metadata = {
        **submitted,
        "labels": {**(submitted.get("labels") or {}), "workflows.argoproj.io/creator": workflow.creator},
        "name": workflow.name,
        "namespace": workflow.namespace,
        "uid": workflow.uid,
        "generation": workflow.generation,
        "resourceVersion": str(workflow.generation),
        "creationTimestamp": argo_time(workflow.created),
    }
    return {"apiVersion": "argoproj.io/v1alpha1", "kind": "WorkflowTemplate", "metadata": metadata,
            "spec": document.get("spec", {})}


def run_document(run: RunView) -> dict[str, Any]:
    """A run as Argo describes a Workflow, with Gazetteer's crawl report under status.report."""
    labels = {
        "workflows.argoproj.io/creator": run.creator,
        "workflows.argoproj.io/workflow-template": run.workflow,
        "workflows.argoproj.io/phase": run.phase,
        "workflows.argoproj.io/completed": "true" if run.finished else "false",
    }
    status: dict[str, Any] = {
        "phase": run.phase,
        "progress": run.progress,
        "startedAt": argo_time(run.started),
        "finishedAt": argo_time(run.finished),
        "storedWorkflowTemplateSpec": {"workflowTemplateRef": {"name": run.workflow}},
    }
    if run.started and run.finished:
        status["estimatedDuration"] = int((run.finished - run.started).total_seconds())
    if run.message:
        status["message"] = run.message
    if run.report:
        status["report"] = run.report
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"name": run.name, "namespace": run.namespace, "uid": run.uid,
                     "creationTimestamp": argo_time(run.created), "labels": labels,
                     "annotations": {"gazetteer.io/stop-requested": str(run.stop_requested).lower()}},
        "spec": {"workflowTemplateRef": {"name": run.workflow}, "entrypoint": "main", "arguments": {}},
        "status": {key: value for key, value in status.items() if value is not None},
    }


def cron_document(workflow: WorkflowView) -> dict[str, Any] | None:
    """A workflow's schedule in the CronWorkflow shape of GET /api/service/runs/cron (None when unscheduled)."""
    found = workflow.schedule
    if found is None:
        return None
    cron, zone = found
    return {
        "metadata": {"name": cron_name(workflow.name), "namespace": workflow.namespace,
                     "creationTimestamp": argo_time(workflow.updated)},
        "spec": {"schedule": cron, "timezone": zone.key, "concurrencyPolicy": "Forbid",
                 "workflowSpec": {"workflowTemplateRef": {"name": workflow.name}}},
        "workflowMetadata": {"name": workflow.name, "namespace": workflow.namespace},
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
