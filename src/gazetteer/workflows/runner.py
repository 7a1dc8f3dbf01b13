"""Executing one run: the Glue crawl a workflow describes, with its phase, progress and report kept current."""

from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from gazetteer.credentials.vault import Vault
from gazetteer.errors import GazetteerError
from gazetteer.packages.glue.crawl import crawl
from gazetteer.packages.glue.workflow import crawl_config, parse_glue_workflow
from gazetteer.settings import Settings
from gazetteer.workflows.models import runs, workflows

__all__ = ["execute_run"]

log = logging.getLogger(__name__)
# Progress writes are throttled: a crawl emits an event per Glue page.
_PROGRESS_EVERY = 1.0


def _update(engine: Engine, run_name: str, **values: Any) -> int:
    with engine.begin() as conn:
        return conn.execute(runs.update().where(runs.c.name == run_name).values(**values)).rowcount


def execute_run(engine: Engine, settings: Settings, vault: Vault, run_name: str, stop: threading.Event) -> None:
    """Run a Pending run to its end. A run that is no longer Pending (stopped while queued) is left alone."""
    with engine.begin() as conn:
        claimed = conn.execute(runs.update().where(runs.c.name == run_name, runs.c.phase == "Pending")
                               .values(phase="Running", started_at=datetime.now(UTC))).rowcount
        if not claimed:
            return
        run = conn.execute(sa.select(runs).where(runs.c.name == run_name)).one()
        workflow = conn.execute(sa.select(workflows).where(workflows.c.name == run.workflow_name)).one()
    last = 0.0

    def progress(event: dict[str, Any]) -> None:
        nonlocal last
        if time.monotonic() - last < _PROGRESS_EVERY:
            return
        last = time.monotonic()
        total = event.get("databases_total") or 0
        counts = {key: event.get(key, 0) for key in ("schemas", "tables", "views", "columns")}
        _update(engine, run_name, progress=f"{event.get('databases_done', 0)}/{max(total, 1)}",
                report={"status": "Running", "counts": counts})

    phase, message, report = "Error", None, None
    try:
        parsed = parse_glue_workflow(workflow.document)
        config = crawl_config(parsed, vault.load(workflow.credential_guid))
        # Keyed by the run: should the server die mid-crawl, recover_interrupted rolls the run's writes back.
        result = crawl(engine, config, settings=settings, progress=progress,
                       should_stop=lambda: stop.is_set(), key=run_name).to_dict()
        phase = "Succeeded" if result["status"] == "Succeeded" else "Failed"
        message, report = result["message"], result
    except GazetteerError as error:
        message = f"The run could not start: {error.message}"
    except Exception as error:  # noqa: BLE001 - a run always ends in a phase the client can see
        log.exception("run %s failed unexpectedly", run_name)
        message = f"Internal error ({type(error).__name__}); the server log has the details. Re-run the workflow."
    _update(engine, run_name, phase=phase, message=message, report=report, progress="1/1",
            finished_at=datetime.now(UTC))
    log.info("run %s of %s ended: %s", run_name, workflow.name, phase)
