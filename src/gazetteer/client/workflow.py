"""`client.workflow`: create, find, re-run, watch, stop and archive workflows, as pyatlan's WorkflowClient does."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from gazetteer.client import documents, queries
from gazetteer.client.errors import GazetteerAPIError, GazetteerConnectionError
from gazetteer.client.glue_crawler import PREFIX

if TYPE_CHECKING:
    from gazetteer.client.api import GazetteerClient

__all__ = ["WorkflowClient"]

_RUN_SEARCH = "/api/service/runs/indexsearch"
_WORKFLOW_SEARCH = "/api/service/workflows/indexsearch"
# Polls survive this many transient failures in a row (server restarting, overloaded) before giving up.
_TRANSIENT_LIMIT = 5
_WORKFLOW_NAME = re.compile(r".+-[0-9]{10}")


def _hits(answer: Any) -> list[dict[str, Any]]:
    hits = ((answer or {}).get("hits") or {}).get("hits") or []
    return [hit for hit in hits if isinstance(hit, dict)]


def _is_run(document: dict[str, Any] | None) -> bool:
    """A run (answer of rerun, or a run hit) rather than a workflow: it has a phase or names its template."""
    return documents.phase_of(document) is not None or documents.template_name_of(document) is not None


def _transient(error: Exception) -> bool:
    if isinstance(error, GazetteerConnectionError):
        return True
    return isinstance(error, GazetteerAPIError) and error.status in (429, 500, 502, 503, 504)


class WorkflowClient:
    """Workflow operations on one Gazetteer server; every method is a request (or a poll loop of them)."""

    def __init__(self, client: GazetteerClient) -> None:
        self._client = client

    def _search(self, path: str, body: dict[str, Any]) -> list[dict[str, Any]]:
        return _hits(self._client.call("POST", path, body=body))

    def run(self, workflow: dict[str, Any] | str) -> dict[str, Any]:
        """Create the workflow (e.g. `GlueCrawler(...).to_workflow()`) and start its first run.

        Each call creates a new connection; to crawl again, `rerun` the existing workflow instead.
        Returns the created workflow (its `metadata.name` is the workflow name).
        """
        if isinstance(workflow, str):
            workflow = json.loads(workflow)
        if hasattr(workflow, "to_workflow"):
            raise TypeError("pass crawler.to_workflow(), not the crawler itself")
        if not isinstance(workflow, dict):
            raise TypeError(f"workflow must be a dict (or its JSON text), not {type(workflow).__name__}")
        return self._client.call("POST", "/api/service/workflows?submit=true", body=workflow) or {}

    def find_by_type(self, prefix: Any = PREFIX, max_results: int = 10, *, from_: int = 0) -> list[dict[str, Any]]:
        """Workflows of one package (`atlan-glue-<10 digits>`), newest first, as raw search hits; `from_` skips
        that many (a page further on)."""
        prefix = getattr(prefix, "value", prefix)  # also accepts pyatlan's WorkflowPackage.GLUE
        return self._search(_WORKFLOW_SEARCH, queries.workflows_by_type(prefix, max_results, from_=from_))

    def find_by_id(self, name: str) -> dict[str, Any] | None:
        """The workflow with this exact name as a search hit, or None."""
        hits = self._search(_WORKFLOW_SEARCH, queries.workflow_by_name(name))
        return hits[0] if hits else None

    def find_run_by_id(self, run_name: str) -> dict[str, Any] | None:
        """The run with this name (e.g. `atlan-glue-1795609922-x7k2p`) as a search hit, or None."""
        hits = self._search(_RUN_SEARCH, queries.run_by_name(run_name))
        return hits[0] if hits else None

    def find_latest_run(self, workflow_name: str) -> dict[str, Any] | None:
        """The most recently started run of a workflow, or None if it has none."""
        hits = self._search(_RUN_SEARCH, queries.latest_run(workflow_name))
        return hits[0] if hits else None

    def find_current_run(self, workflow_name: str) -> dict[str, Any] | None:
        """A Running or Pending run of the workflow among its last 50, or None."""
        for hit in self._search(_RUN_SEARCH, queries.current_runs(workflow_name)):
            source = documents.source_of(hit)
            if documents.phase_of(hit) in queries.ACTIVE_PHASES and all(source.get(k) for k in
                                                                         ("metadata", "spec", "status")):
                return hit
        return None

    def get_runs(self, workflow_name: str, phase: Any = None, from_: int = 0, size: int = 100) -> list[dict[str, Any]]:
        """One page of a workflow's runs (newest created first), optionally only one phase, e.g. "Succeeded"."""
        phase = getattr(phase, "value", phase)  # also accepts pyatlan's AtlanWorkflowPhase
        return self._search(_RUN_SEARCH, queries.runs_of(workflow_name, phase, from_=from_, size=size))

    def _resolve(self, workflow: Any) -> tuple[str, str | None]:
        """(workflow name, namespace) of a name, a package prefix, a search hit or a run/create response."""
        workflow = getattr(workflow, "value", workflow)
        if isinstance(workflow, str):
            hit = self.find_by_id(workflow)
            if hit is None and not _WORKFLOW_NAME.fullmatch(workflow):
                # a package prefix such as "atlan-glue", as pyatlan's rerun(WorkflowPackage.GLUE): the newest one
                found = self.find_by_type(workflow, max_results=1)
                hit = found[0] if found else None
            if hit is None:
                raise ValueError(f"No workflow named {workflow!r} was found (only workflows that ran are found).")
            return documents.name_of(hit) or workflow, documents.namespace_of(hit)
        if isinstance(workflow, dict):
            name = documents.template_name_of(workflow) or documents.name_of(workflow)
            if name:
                return name, documents.namespace_of(workflow)
        raise TypeError("workflow must be a workflow name, a search hit from find_by_type/find_by_id, "
                        f"or the answer of run(); got {type(workflow).__name__}")

    def rerun(self, workflow: Any, idempotent: bool = False) -> dict[str, Any]:
        """Start a new run of an existing workflow; with `idempotent`, return a Running/Pending run instead.

        `workflow` is a name, the package prefix (`atlan-glue`: the newest such workflow), or a hit from
        `find_by_type` / `find_by_id`. Returns the run (`metadata.name` is the run name).
        """
        name, namespace = self._resolve(workflow)
        if idempotent:
            current = self.find_current_run(name)
            if current is not None:
                source = documents.source_of(current)
                return {key: source[key] for key in ("metadata", "spec", "status")}
        body = queries.rerun_body(name, namespace)
        return self._client.call("POST", "/api/service/workflows/submit", body=body) or {}

    def monitor(self, workflow_response: dict[str, Any] | None = None, workflow_name: str | None = None,
                poll_seconds: float = 2, timeout: float | None = None,
                on_poll: Callable[[dict[str, Any] | None], None] | None = None) -> str:
        """Wait until the workflow's latest run is Succeeded, Failed or Error, and return that phase.

        `workflow_response` may be the answer of `run()` (a workflow) or of `rerun()` (a run); for a run, only
        that run's phase counts, so an older finished run is never mistaken for it. Polls immediately, then
        every `poll_seconds`; up to 5 transient failures in a row (unreachable, 429, 5xx) are ridden out.
        `on_poll` gets the run hit after every poll (None while no run is visible).
        Raises TimeoutError after `timeout` seconds.
        """
        run_name = documents.name_of(workflow_response) if _is_run(workflow_response) else None
        name = workflow_name or documents.template_name_of(workflow_response)
        if name is None and run_name is None:
            name = documents.name_of(workflow_response)
        if not (name or run_name):
            raise ValueError("Nothing to monitor: give workflow_name, or the answer of run() or rerun()")
        deadline = None if timeout is None else time.monotonic() + timeout
        failures, phase = 0, None
        while True:
            try:
                hit = self.find_latest_run(name) if name else None
                if run_name is not None and documents.name_of(hit) != run_name:
                    # Our run is not the latest started one: not started yet, or a newer run overtook it.
                    hit = self.find_run_by_id(run_name)
                failures = 0
            except (GazetteerAPIError, GazetteerConnectionError) as error:
                failures += 1
                if not _transient(error) or failures > _TRANSIENT_LIMIT:
                    raise
            else:
                phase = documents.phase_of(hit)
                if on_poll is not None:
                    on_poll(hit)
                if phase in queries.FINISHED_PHASES:
                    return phase
            if deadline is not None and time.monotonic() + poll_seconds > deadline:
                raise TimeoutError(f"{run_name or name} is still {phase or 'not started'} after {timeout} s")
            time.sleep(poll_seconds)

    def stop(self, run_name: str) -> dict[str, Any]:
        """Ask the server to stop a run; the answer may still show Running until it has stopped."""
        return self._client.call("POST", f"/api/service/runs/{run_name}/stop") or {}

    def plan(self, workflow_name: str) -> dict[str, Any]:
        """What a run of the workflow would change now, worked out without writing: a run report ("plan": true)."""
        return self._client.call("POST", f"/api/service/workflows/{workflow_name}/plan") or {}

    def delete(self, workflow_name: str) -> None:
        """Archive (delete) a workflow."""
        self._client.call("POST", f"/api/service/workflows/{workflow_name}/archive")
