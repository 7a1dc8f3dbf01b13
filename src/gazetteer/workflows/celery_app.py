"""Runs on Celery workers: the app both sides share, its settings for long crawls, and the one task.

The task says only "this workflow has runs waiting" (`advance`). The worker that takes it claims the runs in
the database one after another; the database, not Celery, decides who runs what (see
`gazetteer.workflows.leases`). That makes every message safe to deliver twice, late, or to the wrong
worker, which is what lets the settings below favour never losing a message over never repeating one:

- `task_acks_late`: a message is acknowledged when its task ends, so one held by a worker that dies is
  delivered again rather than lost (the repeat finds the run claimed or ended, and does nothing).
- `worker_prefetch_multiplier = 1`: a worker takes one message per free slot. Crawls are long; a worker
  must not sit on messages that an idle worker could run.
- visibility timeout (Redis): how long Redis waits for an unacknowledged message before handing it to
  another worker. It is no clock on the crawl: a message delivered again while its run is still running
  finds the run claimed and ends. One hour bounds how late a message a dead worker held comes back; the
  leases end that worker's run much sooner, and the servers hand its workflow's waiting runs out again.
- threads, not processes (`worker_pool = "threads"`): a crawl waits on Glue and the database, and a run's
  stop signal and lease renewal live in the process that runs it.
- SIGTERM (warm shutdown): the worker takes no new message, and the crawls in progress stop at their next
  page, roll back (all or nothing) and end as Error ("interrupted by a shutdown"), so a deploy never waits
  hours for a long crawl. The waiting runs of their workflows go back to the broker for the other workers.
  SIGKILL skips all of that: the run's lease expires and a server ends it (`GAZETTEER_RUN_LEASE_SECONDS`).
"""

from __future__ import annotations

import logging
from typing import Any

from celery import Celery

from gazetteer.workflows.leases import pending_workflows
from gazetteer.workflows.runner import Runner

__all__ = ["ADVANCE", "QUEUE", "celery_app", "serve_runs"]

log = logging.getLogger(__name__)
ADVANCE = "gazetteer.advance"
QUEUE = "gazetteer-runs"
VISIBILITY_TIMEOUT_SECONDS = 3600
# The runner of this worker process; the task runs only in `gazetteer worker`, which sets it.
_runner: Runner | None = None


def celery_app(broker_url: str) -> Celery:
    """The Celery app over `broker_url`; results stay in the runs table, so there is no result backend."""
    app = Celery("gazetteer", broker=broker_url, set_as_current=False)
    app.conf.update(
        task_acks_late=True,
        worker_prefetch_multiplier=1,
        worker_pool="threads",
        task_ignore_result=True,
        task_default_queue=QUEUE,
        broker_transport_options={"visibility_timeout": VISIBILITY_TIMEOUT_SECONDS, "socket_connect_timeout": 5},
        broker_connection_retry_on_startup=True,
        # A server whose broker is down answers the submit at once (the run waits Pending in the database and
        # is handed out again later) instead of holding the request through kombu's default retries.
        task_publish_retry_policy={"max_retries": 1, "interval_start": 0, "interval_step": 0.5},
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
    )
    app.task(name=ADVANCE, bind=True)(_advance)
    return app


def _advance(task: Any, workflow_name: str) -> int:
    """Run the workflow's waiting runs here, unless another worker runs one of them now."""
    if _runner is None:
        raise RuntimeError("this Celery task runs only in `gazetteer worker`")
    done = _runner.advance(workflow_name)
    if _runner.closing and workflow_name in pending_workflows(_runner.engine):
        # Shutting down with runs of this workflow still waiting: hand them to the other workers now.
        task.app.send_task(ADVANCE, args=[workflow_name])
    return done


def serve_runs(app: Celery, runner: Runner, concurrency: int) -> None:
    """Be a worker until told to stop: take `advance` messages and run their workflows with `runner`."""
    global _runner
    from celery.signals import worker_shutting_down

    _runner = runner

    def on_shutdown(**_: Any) -> None:
        stopping = runner.close()
        if stopping:
            log.warning("worker %s shutting down: stopping runs %s at their next page", runner.worker,
                        ", ".join(stopping))

    worker_shutting_down.connect(on_shutdown, weak=False)
    app.worker_main(["worker", f"--concurrency={concurrency}", "--loglevel=INFO", f"--hostname={runner.worker}",
                     "--without-gossip", "--without-mingle", "--without-heartbeat", "-Q", QUEUE])
