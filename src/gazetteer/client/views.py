"""Typed values read from the workflow and run documents a Gazetteer server returns: `Workflow` and `Run`.

What for: code that shows workflows and runs (the `gazetteer workflow` commands) reads attributes instead of
digging through Argo documents. The `WorkflowClient` methods keep returning the raw documents, as pyatlan's
do; callers build a view from a search hit or an API answer when they want one.

The reading itself is `documents`' (tolerant of fields a server leaves out: a missing one is None here); values
are kept as the server sent them, so times are its ISO strings and `document` is what `--json` prints.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gazetteer.client import documents

__all__ = ["Run", "Workflow"]


@dataclass(frozen=True, slots=True)
class Run:
    """One run of a workflow: `workflow` is the name of the workflow it is a run of, `phase` one of Pending,
    Running, Succeeded, Failed or Error, `started`/`finished` the server's ISO times, `report` the crawl
    report. `status` and `document` are the run's `status` object and the whole run, for JSON output."""

    name: str | None
    workflow: str | None
    phase: str | None
    message: str | None
    progress: str | None
    started: str | None
    finished: str | None
    report: dict[str, Any] | None
    status: dict[str, Any]
    document: dict[str, Any]

    @classmethod
    def of(cls, document: dict[str, Any]) -> Run:
        """The run in a search hit (its `_source`) or in an API answer (rerun, stop, GET of a run)."""
        status = documents.status_of(document)
        return cls(documents.name_of(document), documents.template_name_of(document), documents.phase_of(document),
                   status.get("message"), status.get("progress"), status.get("startedAt"), status.get("finishedAt"),
                   documents.report_of(document), status, documents.source_of(document))


@dataclass(frozen=True, slots=True)
class Workflow:
    """One workflow: when it was `created` (the server's ISO time), the attributes of the `connection` it crawls
    into (name, qualifiedName...), and its `include`/`exclude` filter parameters as the JSON text they are.
    `document` is the whole workflow, for JSON output."""

    name: str | None
    created: str | None
    connection: dict[str, Any]
    include: str | None
    exclude: str | None
    document: dict[str, Any]

    @classmethod
    def of(cls, document: dict[str, Any]) -> Workflow:
        """The workflow in a search hit (its `_source`) or in an API answer (the answer of creating it)."""
        source, parameters = documents.source_of(document), documents.parameters_of(document)
        return cls(documents.name_of(document), (source.get("metadata") or {}).get("creationTimestamp"),
                   documents.connection_of(document), parameters.get("include-filter"),
                   parameters.get("exclude-filter"), source)
