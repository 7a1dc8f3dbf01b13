"""The Glue crawler as a package: the workflow service and the workers reach it only through this."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import ValidationError
from sqlalchemy.engine import Connection, Engine

from gazetteer.assets.records import AssetRecord
from gazetteer.errors import InvalidRequest
from gazetteer.packages.base import RunOutcome, RunProgress, WorkflowSpec
from gazetteer.packages.glue.crawl import connection_record, crawl, plan_crawl
from gazetteer.packages.glue.mapping import CrawlScope
from gazetteer.packages.glue.names import DEFAULT_CATALOG, PACKAGE
from gazetteer.packages.glue.settings import glue_settings
from gazetteer.packages.glue.workflow import GlueWorkflow, crawl_config, parse_glue_workflow

__all__ = ["GLUE", "GluePackage"]


class GluePackage:
    """`@atlan/glue`: crawls an AWS Glue Data Catalog into one connection."""

    name = PACKAGE

    def check_settings(self) -> None:
        try:
            glue_settings()
        except ValidationError as error:
            problems = "; ".join(f"{e['loc'][0]}: {e['msg']}" for e in error.errors())
            raise InvalidRequest(f"Invalid Glue settings (GAZETTEER_GLUE_*, GAZETTEER_MAX_ARCHIVE_RATIO): "
                                 f"{problems}") from None

    def parse(self, document: dict[str, Any]) -> WorkflowSpec:
        glue = parse_glue_workflow(document)
        return WorkflowSpec(package=self.name, name=glue.name, namespace=glue.namespace,
                            connection=glue.connection, credential=glue.credential, details=glue)

    def check(self, spec: WorkflowSpec, credential: dict[str, Any]) -> None:
        crawl_config(self._glue(spec), credential)

    def connection_record(self, spec: WorkflowSpec, credential: dict[str, Any], credential_guid: str) -> AssetRecord:
        config = crawl_config(self._glue(spec), credential, credential_guid)
        scope = CrawlScope(config.connection_qualified_name or "", config.connection_name, DEFAULT_CATALOG)
        return connection_record(scope, config)

    def run(self, engine: Engine, spec: WorkflowSpec, credential: dict[str, Any], *, credential_guid: str, key: str,
            progress: Callable[[RunProgress], None], should_stop: Callable[[], bool],
            fence: Callable[[Connection], None]) -> RunOutcome:
        def on_event(event: dict[str, Any]) -> None:
            counts = {name: int(event.get(name, 0)) for name in ("schemas", "tables", "views", "columns")}
            progress(RunProgress(int(event.get("databases_done", 0)), int(event.get("databases_total") or 0), counts))

        report = crawl(engine, crawl_config(self._glue(spec), credential, credential_guid), progress=on_event,
                       should_stop=should_stop, key=key, fence=fence).to_dict()
        return RunOutcome(report["status"] == "Succeeded", report["message"], report)

    def plan(self, engine: Engine, spec: WorkflowSpec, credential: dict[str, Any], *,
             credential_guid: str) -> dict[str, Any]:
        return plan_crawl(engine, crawl_config(self._glue(spec), credential, credential_guid)).to_dict()

    @staticmethod
    def _glue(spec: WorkflowSpec) -> GlueWorkflow:
        if not isinstance(spec.details, GlueWorkflow):
            raise TypeError(f"workflow {spec.name!r} was not parsed by the Glue package")
        return spec.details


GLUE = GluePackage()
