"""The requests `gazetteer.client` sends are the ones pyatlan 10.0.0 sends: same method, path and body bytes.

Only request bodies are checked here (httpx.MockTransport on our side, pyatlan's transport patched out on
theirs); how a real server answers is covered by the end-to-end tests against a running server.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable, Iterator
from typing import Any
from unittest.mock import patch
from urllib.parse import unquote

import httpx
import pytest

from gazetteer.client import GazetteerAPIError, GazetteerClient, GlueCrawler

pyatlan_atlan = pytest.importorskip("pyatlan.client.atlan")
pyatlan_enums = pytest.importorskip("pyatlan.model.enums")
pyatlan_packages = pytest.importorskip("pyatlan.model.packages")

BASE = "https://test.atlan.com"
WF = "atlan-glue-1795609922"
RUN = f"{WF}-x7k2p"
RUN_HITS = {"hits": {"total": {"value": 1}, "hits": [{"_id": RUN, "_source": {
    "metadata": {"name": RUN, "namespace": "default"}, "spec": {"workflowTemplateRef": {"name": WF}},
    "status": {"phase": "Succeeded"}}}]}}
WF_HITS = {"hits": {"hits": [{"_id": WF, "_source": {"metadata": {"name": WF, "namespace": "default"}}}]}}
Call = tuple[str, str, bytes | None]


def _answer(path: str, body: bytes | None) -> Any:
    """Canned answers, the same for both clients, just enough for each call to finish."""
    if path.endswith("/runs/indexsearch"):
        return RUN_HITS if json.loads(body or b"{}").get("from", 0) == 0 else {"hits": {"hits": []}}
    if path.endswith("/workflows/indexsearch"):
        return WF_HITS
    return {"metadata": {"name": RUN}, "status": {"phase": "Running"}}


@pytest.fixture()
def pyatlan_calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, list[Call]]]:
    """A pyatlan AtlanClient whose HTTP layer records (method, path, body) instead of sending."""
    monkeypatch.setenv("ATLAN_BASE_URL", BASE)
    monkeypatch.setenv("ATLAN_API_KEY", "x")
    calls: list[Call] = []
    atlan_client = pyatlan_atlan.AtlanClient

    def fake_call(self: Any, api: Any, path: str, params: dict[str, Any], **_: Any) -> Any:
        data = params.get("data")
        body = data.encode() if isinstance(data, str) else data
        calls.append((str(getattr(api.method, "value", api.method)), unquote(path.removeprefix(BASE)), body))
        return _answer(path, body)

    with patch.object(atlan_client, "_call_api_internal", fake_call), \
            patch("pyatlan.client.workflow.sleep"), patch.object(atlan_client, "role_cache") as roles, \
            patch.object(atlan_client, "user_cache"), patch.object(atlan_client, "group_cache"), \
            patch("pyatlan.utils.get_epoch_timestamp", return_value=1795609922.5), \
            patch("pyatlan.utils.random") as fake_random, warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        roles.is_api_token_user.return_value = True  # the /workflows family, as our client always uses
        fake_random.random.return_value = 123456789
        yield atlan_client(), calls


@pytest.fixture()
def our_calls() -> Iterator[tuple[GazetteerClient, list[Call]]]:
    calls: list[Call] = []

    def handler(request: httpx.Request) -> httpx.Response:
        body = request.content or None
        path = unquote(request.url.raw_path.decode())
        calls.append((request.method, path, body))
        return httpx.Response(200, json=_answer(request.url.path, body))

    with GazetteerClient(BASE, "x", transport=httpx.MockTransport(handler)) as client:
        yield client, calls


def _glue(crawler_class: Callable[..., Any], **extra: Any) -> Any:
    return (crawler_class(connection_name="production", admin_roles=["role-id"], **extra)
            .iam_user_auth("ak", "sk").direct("ap-south-1").include(["dev-project"]).exclude([]).to_workflow())


def _workflow_hit() -> dict[str, Any]:
    return json.loads(json.dumps(WF_HITS["hits"]["hits"][0]))


SCENARIOS: dict[str, tuple[Callable[[Any], Any], Callable[[GazetteerClient], Any]]] = {
    "run": (lambda c: c.workflow.run(_glue(lambda **kw: pyatlan_packages.GlueCrawler(client=c, **kw))),
            lambda g: g.workflow.run(_glue(GlueCrawler, epoch=1795609922,
                                           guid_factory=lambda: "-1234567890000000000000000"))),
    "find_by_type": (lambda c: c.workflow.find_by_type(pyatlan_enums.WorkflowPackage.GLUE, max_results=5),
                     lambda g: g.workflow.find_by_type("atlan-glue", max_results=5)),
    "find_by_type enum": (lambda c: c.workflow.find_by_type(pyatlan_enums.WorkflowPackage.GLUE),
                          lambda g: g.workflow.find_by_type(pyatlan_enums.WorkflowPackage.GLUE)),
    "find_by_id": (lambda c: c.workflow.find_by_id(WF), lambda g: g.workflow.find_by_id(WF)),
    "find_run_by_id": (lambda c: c.workflow.find_run_by_id(RUN), lambda g: g.workflow.find_run_by_id(RUN)),
    "monitor": (lambda c: c.workflow.monitor(workflow_name=WF),
                lambda g: g.workflow.monitor(workflow_name=WF, poll_seconds=0)),
    "get_runs first page": (
        lambda c: c.workflow.get_runs(WF, pyatlan_enums.AtlanWorkflowPhase.SUCCESS),
        lambda g: g.workflow.get_runs(WF, "Succeeded")),
    "get_runs second page": (
        lambda c: list(c.workflow.get_runs(WF, pyatlan_enums.AtlanWorkflowPhase.SUCCESS)),
        lambda g: [g.workflow.get_runs(WF, "Succeeded"), g.workflow.get_runs(WF, "Succeeded", from_=100)]),
    "rerun": (lambda c: c.workflow.rerun(c.workflow.find_by_type(pyatlan_enums.WorkflowPackage.GLUE)[0]),
              lambda g: g.workflow.rerun(g.workflow.find_by_type()[0])),
    "rerun idempotent, nothing running": (
        lambda c: c.workflow.rerun(c.workflow.find_by_type(pyatlan_enums.WorkflowPackage.GLUE)[0], idempotent=True),
        lambda g: g.workflow.rerun(g.workflow.find_by_type()[0], idempotent=True)),
    "rerun of the package prefix": (lambda c: c.workflow.rerun(pyatlan_enums.WorkflowPackage.GLUE),
                                    lambda g: g.workflow.rerun(_workflow_hit())),
    "stop": (lambda c: c.workflow.stop(RUN), lambda g: g.workflow.stop(RUN)),
    "delete": (lambda c: c.workflow.delete(WF), lambda g: g.workflow.delete(WF)),
}


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_same_requests_as_pyatlan(pyatlan_calls: tuple[Any, list[Call]],
                                  our_calls: tuple[GazetteerClient, list[Call]], scenario: str) -> None:
    theirs, ours = SCENARIOS[scenario]
    pyatlan_client, expected = pyatlan_calls
    client, sent = our_calls
    theirs(pyatlan_client)
    ours(client)
    if scenario == "rerun of the package prefix":
        expected = [call for call in expected if not call[1].endswith("/workflows/indexsearch")]
    assert [(m, p) for m, p, _ in sent] == [(m, p) for m, p, _ in expected]
    for (_, path, body), (_, _, want) in zip(sent, expected, strict=True):
        assert body == want, path  # byte for byte: same keys, order and separators


def test_contract_bodies_verbatim(our_calls: tuple[GazetteerClient, list[Call]]) -> None:
    """The bodies of docs/design.md, Atlan contract §3, checked independently of pyatlan."""
    client, sent = our_calls
    client.workflow.find_by_type("atlan-glue", max_results=5)
    client.workflow.rerun(_workflow_hit())
    client.workflow.monitor(workflow_name=WF, poll_seconds=0)
    assert json.loads(sent[0][2] or b"") == {
        "from": 0, "size": 5, "track_total_hits": True,
        "query": {"bool": {"filter": [{"nested": {"path": "metadata", "query": {
            "regexp": {"metadata.name.keyword": {"value": "atlan[-]glue[-][0-9]{10}"}}}}}]}},
        "sort": [{"metadata.creationTimestamp": {"order": "desc", "nested": {"path": "metadata"}}}]}
    assert sent[1][1] == "/api/service/workflows/submit"
    assert json.loads(sent[1][2] or b"") == {"namespace": "default", "resourceKind": "WorkflowTemplate",
                                            "resourceName": WF}
    assert json.loads(sent[2][2] or b"") == {
        "from": 0, "size": 1, "track_total_hits": True,
        "query": {"bool": {"filter": [{"nested": {"path": "spec", "query": {
            "term": {"spec.workflowTemplateRef.name.keyword": {"value": WF}}}}}]}},
        "sort": [{"status.startedAt": {"order": "desc"}}]}


def test_runs_without_phase_filter_and_roles_query(our_calls: tuple[GazetteerClient, list[Call]]) -> None:
    client, sent = our_calls
    client.workflow.get_runs(WF, size=10)
    client.role_cache.refresh()
    assert json.loads(sent[0][2] or b"")["query"] == {"bool": {"must": [{"nested": {"path": "spec", "query": {
        "term": {"spec.workflowTemplateRef.name.keyword": {"value": WF}}}}}]}}
    assert sent[1] == ("GET", '/api/service/roles?count=True&offset=0&limit=100&filter={"name":{"$ilike":"$%"}}',
                       None)


def test_api_error_is_built_from_the_atlan_error_body() -> None:
    error = GazetteerAPIError.from_response(404, '{"errorCode":"ATLAS-404-00-009","errorMessage":"no such run"}')
    assert (error.status, error.code, error.message) == (404, "ATLAS-404-00-009", "no such run")
    heracles = GazetteerAPIError.from_response(409, '{"code":409,"message":"exists"}')
    assert (heracles.code, heracles.message) == ("409", "exists")
    plain = GazetteerAPIError.from_response(502, "Bad gateway")
    assert (plain.status, plain.code, plain.message) == (502, "HTTP-502", "Bad gateway")
