"""`Run` and `Workflow` read from the documents a server returns: whole ones, search hits, and sparse ones."""

from __future__ import annotations

import copy
import json
from typing import Any

from gazetteer.client import GlueCrawler, Run, Workflow

WF = "atlan-glue-1795609922"
RUN = f"{WF}-x7k2p"
REPORT = {"status": "Succeeded", "connection_qualified_name": "default/glue/1795609922", "counts": {"tables": 2}}
# A run as GET /api/service/runs/{name} answers it (gazetteer.api.workflow_documents.run_document).
RUN_DOCUMENT: dict[str, Any] = {
    "apiVersion": "argoproj.io/v1alpha1",
    "kind": "Workflow",
    "metadata": {"name": RUN, "namespace": "default", "creationTimestamp": "2026-12-01T10:00:00Z",
                 "labels": {"workflows.argoproj.io/workflow-template": WF}},
    "spec": {"workflowTemplateRef": {"name": WF}, "entrypoint": "main", "arguments": {}},
    "status": {"phase": "Succeeded", "progress": "1/1", "startedAt": "2026-12-01T10:00:01Z",
               "finishedAt": "2026-12-01T10:00:09Z", "message": "crawled 1 database", "report": REPORT,
               "storedWorkflowTemplateSpec": {"workflowTemplateRef": {"name": WF}}},
}


def _hit(source: dict[str, Any], _id: str) -> dict[str, Any]:
    """A search hit as /api/service/{runs,workflows}/indexsearch returns it."""
    return {"_index": "runs", "_type": "_doc", "_id": _id, "_score": None, "sort": [], "_source": source}


def test_a_full_run_document() -> None:
    run = Run.of(RUN_DOCUMENT)

    assert (run.name, run.workflow, run.phase, run.progress, run.message) == (
        RUN, WF, "Succeeded", "1/1", "crawled 1 database")
    assert (run.started, run.finished) == ("2026-12-01T10:00:01Z", "2026-12-01T10:00:09Z")
    assert run.report == REPORT
    assert run.status is RUN_DOCUMENT["status"] and run.document is RUN_DOCUMENT


def test_a_search_hit_is_read_through_its_source() -> None:
    hit = _hit(RUN_DOCUMENT, RUN)

    run = Run.of(hit)

    assert run == Run.of(RUN_DOCUMENT)
    assert run.document is RUN_DOCUMENT  # what --json prints: the run, not the hit around it


def test_the_hit_id_names_a_run_without_metadata() -> None:
    run = Run.of(_hit({"status": {"phase": "Running"}}, RUN))

    assert (run.name, run.phase) == (RUN, "Running")


def test_the_template_label_names_the_workflow_of_a_run_without_a_template_ref() -> None:
    source = {"metadata": {"name": RUN, "labels": {"workflows.argoproj.io/workflow-template": WF}}}

    assert Run.of(source).workflow == WF


def test_missing_fields_are_none() -> None:
    run = Run.of({})
    workflow = Workflow.of({})

    assert run == Run(name=None, workflow=None, phase=None, message=None, progress=None, started=None,
                      finished=None, report=None, status={}, document={})
    assert workflow == Workflow(name=None, created=None, connection={}, include=None, exclude=None, document={})


def test_nulls_and_empty_objects_are_read_as_missing() -> None:
    run = Run.of({"metadata": None, "spec": {"workflowTemplateRef": None}, "status": None})

    assert (run.name, run.workflow, run.phase, run.report, run.status) == (None, None, None, None, {})


def test_a_report_given_as_json_text_in_an_output_parameter() -> None:
    source = copy.deepcopy(RUN_DOCUMENT)
    del source["status"]["report"]
    source["status"]["outputs"] = {"parameters": [{"name": "log", "value": "…"},
                                                  {"name": "report", "value": json.dumps(REPORT)}]}

    assert Run.of(_hit(source, RUN)).report == REPORT


def test_a_report_that_is_not_json_is_no_report() -> None:
    source = {"status": {"phase": "Error", "outputs": {"parameters": [{"name": "report", "value": "{truncated"}]}}}

    assert Run.of(source).report is None


def test_a_workflow_hit_gives_its_connection_and_filters() -> None:
    built = (GlueCrawler(connection_name="production", admin_roles=["role-id"], epoch=1795609922)
             .direct("ap-south-1").include(["dev-project"]).exclude([]).to_workflow())
    source = {**built, "metadata": {**built["metadata"], "creationTimestamp": "2026-12-01T09:59:00Z"}}

    workflow = Workflow.of(_hit(source, WF))

    assert (workflow.name, workflow.created) == (WF, "2026-12-01T09:59:00Z")
    # The `connection` parameter is a JSON string; its attributes come out parsed.
    assert workflow.connection["name"] == "production"
    assert workflow.connection["qualifiedName"] == "default/glue/1795609922"
    assert workflow.connection["adminRoles"] == ["role-id"]
    assert json.loads(workflow.include or "") == {"AwsDataCatalog": {"dev-project": {}}}
    assert workflow.exclude == "{}"
    assert workflow.document is source


def test_a_workflow_whose_connection_parameter_is_not_json_has_no_connection_attributes() -> None:
    task = {"arguments": {"parameters": [{"name": "connection", "value": "not json"}]}}
    source = {"metadata": {"name": WF}, "spec": {"templates": [{"dag": {"tasks": [task]}}]}}

    assert Workflow.of(source).connection == {}
