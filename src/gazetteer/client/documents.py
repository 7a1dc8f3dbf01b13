"""Reading the workflow and run documents the server returns, tolerant of fields a server may leave out."""

from __future__ import annotations

import json
from typing import Any, cast

__all__ = [
    "source_of",
    "name_of",
    "namespace_of",
    "template_name_of",
    "phase_of",
    "status_of",
    "parameters_of",
    "connection_of",
    "report_of",
]


def source_of(document: dict[str, Any] | None) -> dict[str, Any]:
    """The document itself: `_source` of a search hit, or the hit/response as given."""
    if not isinstance(document, dict):
        return {}
    source = document.get("_source")
    return source if isinstance(source, dict) else document


def name_of(document: dict[str, Any] | None) -> str | None:
    """`metadata.name` (a workflow or run name), else the hit's `_id`."""
    metadata = source_of(document).get("metadata") or {}
    return metadata.get("name") or (document or {}).get("_id")


def namespace_of(document: dict[str, Any] | None) -> str | None:
    """`metadata.namespace` of a workflow or run."""
    return (source_of(document).get("metadata") or {}).get("namespace")


def template_name_of(document: dict[str, Any] | None) -> str | None:
    """For a run: the name of the workflow it is a run of; None for a workflow document."""
    source = source_of(document)
    ref = (source.get("spec") or {}).get("workflowTemplateRef") or {}
    if ref.get("name"):
        return cast(str, ref["name"])
    stored = (source.get("status") or {}).get("storedWorkflowTemplateSpec") or {}
    if (stored.get("workflowTemplateRef") or {}).get("name"):
        return cast(str, stored["workflowTemplateRef"]["name"])
    labels = (source.get("metadata") or {}).get("labels") or {}
    return labels.get("workflows.argoproj.io/workflow-template")


def status_of(document: dict[str, Any] | None) -> dict[str, Any]:
    """`status` of a run (phase, message, progress, startedAt, finishedAt, report...)."""
    return source_of(document).get("status") or {}


def phase_of(document: dict[str, Any] | None) -> str | None:
    """`status.phase` of a run: Pending, Running, Succeeded, Failed or Error."""
    return status_of(document).get("phase")


def parameters_of(document: dict[str, Any] | None) -> dict[str, Any]:
    """The package parameters of a workflow (include-filter, connection, ...) as a name → value dict."""
    templates = (source_of(document).get("spec") or {}).get("templates") or []
    found: dict[str, Any] = {}
    for template in templates:
        for task in ((template or {}).get("dag") or {}).get("tasks") or []:
            for parameter in ((task or {}).get("arguments") or {}).get("parameters") or []:
                if isinstance(parameter, dict) and "name" in parameter:
                    found[parameter["name"]] = parameter.get("value")
    return found


def connection_of(document: dict[str, Any] | None) -> dict[str, Any]:
    """The attributes of the connection a workflow crawls into (parsed from its `connection` parameter)."""
    value = parameters_of(document).get("connection")
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return {}
    return (value.get("attributes") or {}) if isinstance(value, dict) else {}


def report_of(document: dict[str, Any] | None) -> dict[str, Any] | None:
    """A run's crawl report: `status.report`, else a top-level `report`, else an output parameter `report`."""
    source, status = source_of(document), status_of(document)
    candidates: list[Any] = [status.get("report"), source.get("report")]
    for parameter in ((status.get("outputs") or {}).get("parameters") or []):
        if isinstance(parameter, dict) and parameter.get("name") == "report":
            candidates.append(parameter.get("value"))
    for candidate in candidates:
        if isinstance(candidate, str):
            try:
                candidate = json.loads(candidate)
            except ValueError:
                continue
        if isinstance(candidate, dict):
            return candidate
    return None
