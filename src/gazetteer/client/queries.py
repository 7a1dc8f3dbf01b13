"""The exact search bodies pyatlan 10.0.0 POSTs to the workflow and run indexes, so both clients hit the same paths."""

from __future__ import annotations

from typing import Any

__all__ = [
    "search_body",
    "workflows_by_type",
    "workflow_by_name",
    "latest_run",
    "current_runs",
    "runs_of",
    "run_by_name",
    "rerun_body",
    "DEFAULT_SORT",
    "ACTIVE_PHASES",
    "FINISHED_PHASES",
]

#: pyatlan's default sort for every workflow/run search, newest first.
DEFAULT_SORT: list[dict[str, Any]] = [
    {"metadata.creationTimestamp": {"order": "desc", "nested": {"path": "metadata"}}}
]
ACTIVE_PHASES = frozenset({"Running", "Pending"})
FINISHED_PHASES = frozenset({"Succeeded", "Failed", "Error"})


def search_body(query: dict[str, Any], *, from_: int = 0, size: int = 10,
                sort: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """A `WorkflowSearchRequest` as pyatlan serialises it: from, size, track_total_hits, query, sort."""
    return {"from": from_, "size": size, "track_total_hits": True, "query": query,
            "sort": DEFAULT_SORT if sort is None else sort}


def _template_ref(workflow_name: str) -> dict[str, Any]:
    return {"nested": {"path": "spec",
                       "query": {"term": {"spec.workflowTemplateRef.name.keyword": {"value": workflow_name}}}}}


def workflows_by_type(prefix: str, max_results: int = 10, *, from_: int = 0) -> dict[str, Any]:
    """Workflows named `<prefix>-<10 digits>` (an ES regexp on the whole name), newest first, from the
    `from_`th on."""
    regex = prefix.replace("-", "[-]") + "[-][0-9]{10}"
    query = {"bool": {"filter": [{"nested": {"path": "metadata", "query": {
        "regexp": {"metadata.name.keyword": {"value": regex}}}}}]}}
    return search_body(query, from_=from_, size=max_results)


def workflow_by_name(name: str) -> dict[str, Any]:
    """The one workflow with this exact name."""
    query = {"bool": {"filter": [{"nested": {"path": "metadata", "query": {
        "bool": {"must": [{"term": {"metadata.name.keyword": {"value": name}}}]}}}}]}}
    return search_body(query, size=1)


def latest_run(workflow_name: str) -> dict[str, Any]:
    """The most recently started run of a workflow (what `monitor` polls)."""
    return search_body({"bool": {"filter": [_template_ref(workflow_name)]}}, size=1,
                       sort=[{"status.startedAt": {"order": "desc"}}])


def current_runs(workflow_name: str) -> dict[str, Any]:
    """The last 50 runs of a workflow, in which `rerun(idempotent=True)` looks for a Running or Pending one."""
    return search_body({"bool": {"filter": [_template_ref(workflow_name)]}}, size=50)


def runs_of(workflow_name: str, phase: str | None = None, *, from_: int = 0, size: int = 100) -> dict[str, Any]:
    """One page of a workflow's runs, optionally only those in one phase (pyatlan's `get_runs`)."""
    query: dict[str, Any] = {"bool": {"must": [_template_ref(workflow_name)]}}
    if phase is not None:
        query["bool"]["filter"] = [{"term": {"status.phase.keyword": {"value": phase}}}]
    return search_body(query, from_=from_, size=size)


def run_by_name(run_name: str) -> dict[str, Any]:
    """The run whose id (the run name) is `run_name`."""
    return search_body({"bool": {"filter": [{"term": {"_id": {"value": run_name}}}]}}, size=1)


def rerun_body(workflow_name: str, namespace: str | None = "default") -> dict[str, Any]:
    """The body of POST /api/service/workflows/submit."""
    return {"namespace": namespace or "default", "resourceKind": "WorkflowTemplate", "resourceName": workflow_name}
