"""The FastAPI application: the Atlan-compatible API, the workflow service and the web UI."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from sqlalchemy.engine import Engine

from gazetteer import __version__
from gazetteer.api.apps import router as apps_router
from gazetteer.api.assets import router as assets_router
from gazetteer.api.audit import router as audit_router
from gazetteer.api.auth import router as auth_router
from gazetteer.api.openlineage import router as openlineage_router
from gazetteer.api.partial_update import router as partial_update_router
from gazetteer.api.typedefs import router as typedefs_router
from gazetteer.api.webhooks import router as webhooks_router
from gazetteer.api.workflows import router as workflows_router
from gazetteer.credentials.vault import Vault
from gazetteer.packages.registry import check_settings
from gazetteer.settings import Settings, get_settings
from gazetteer.store import open_engine
from gazetteer.store.budget import QueryBudget
from gazetteer.store.engine import open_read_engine
from gazetteer.web.errors import install_error_handlers
from gazetteer.web.health import health_checks
from gazetteer.web.limits import BodySizeLimit
from gazetteer.web.openapi import install_openapi
from gazetteer.web.requests import RequestHygiene
from gazetteer.web.ui import router as ui_router
from gazetteer.web.ui.error_pages import browser_page
from gazetteer.webhooks.delivery import Dispatcher
from gazetteer.workflows.executors import start_executor
from gazetteer.workflows.housekeeping import Housekeeping
from gazetteer.workflows.leases import worker_name
from gazetteer.workflows.schedules import Scheduler
from gazetteer.workflows.service import WorkflowService

__all__ = ["create_app"]


def create_app(settings: Settings | None = None, engine: Engine | None = None,
               read_engine: Engine | None = None) -> FastAPI:
    """Build the app over one catalog; the workflow executor starts and stops with it.

    `read_engine` (else one opened on GAZETTEER_READ_DATABASE_URL, else the primary `engine`) answers searches
    and the UI's asset pages; everything else uses `engine` (docs/scale-out.md, "Read replicas")."""
    settings = settings or get_settings()
    check_settings()  # the packages' own (this process may run crawls; a worker checks them too)
    if settings.broker_url:
        settings.require_shared_database("Running workflows on workers (GAZETTEER_BROKER_URL)")
    engine = engine or open_engine(settings.effective_database_url,
                                   idle_in_transaction_seconds=settings.run_lease_seconds)
    own_read_engine = read_engine is None and settings.read_database_url is not None
    if read_engine is None:
        read_engine = open_read_engine(settings.read_database_url) if settings.read_database_url else engine

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # One vault: the service stores credentials, the runs read them, webhooks seal their secrets with its key.
        app.state.vault = vault = Vault(engine, settings)
        executor = start_executor(engine, settings, vault)
        app.state.workflows = service = WorkflowService(engine, vault, executor)
        housekeeping = Housekeeping(engine, executor, Scheduler(engine, service.start_run),
                                    reaper=worker_name("serve"), lease_seconds=settings.run_lease_seconds,
                                    interval=settings.housekeeping_seconds,
                                    history_days=settings.history_days).start()
        # Webhook deliveries: on SQLite this is the only process, so claims left by its last life are freed now.
        app.state.webhooks = webhooks = Dispatcher(engine, vault, settings,
                                                   recover=not settings.shared_database).start()
        try:
            yield
        finally:
            webhooks.stop()
            housekeeping.stop()
            executor.shutdown()
            if own_read_engine:
                read_engine.dispose()

    app = FastAPI(title="Gazetteer", version=__version__, lifespan=lifespan,
                  description="A self-hosted catalog for AWS Glue, wire-compatible with Atlan's API.")
    app.state.settings = settings
    app.state.engine = engine
    app.state.read_engine = read_engine  # the primary itself without a replica: `is` tells them apart
    app.add_middleware(QueryBudget, seconds=settings.query_timeout_seconds)  # innermost: uploads cost nothing
    app.add_middleware(RequestHygiene)
    app.add_middleware(BodySizeLimit)  # added last, so outside RequestHygiene: it bounds the body that one reads
    install_error_handlers(app, page=browser_page)

    @app.get("/health", tags=["meta"])
    def health() -> JSONResponse:
        """Whether this process reaches the database, its read replica and the broker. 503 only without the
        database: with the broker away the catalog still serves, and submitted runs wait Pending until it is
        back; with the replica away writes, runs and workflow pages still work while searches fail. Both are
        "degraded", not down: every process shares them, so a load balancer taking this one out of rotation
        would only turn a partial outage into a whole one."""
        checks = health_checks(engine, settings.broker_url, read_engine)
        if checks["database"] != "ok":
            status, code = "unavailable", 503
        else:
            degraded = "unreachable" in (checks["broker"], checks["read_replica"])
            status, code = ("degraded", 200) if degraded else ("ok", 200)
        return JSONResponse({"status": status, "version": __version__, **checks}, status_code=code)

    app.include_router(auth_router)
    app.include_router(workflows_router)
    app.include_router(apps_router)
    app.include_router(assets_router)
    app.include_router(typedefs_router)
    app.include_router(partial_update_router)
    app.include_router(audit_router)
    app.include_router(openlineage_router)
    app.include_router(webhooks_router)
    app.include_router(ui_router)
    install_openapi(app)
    return app
