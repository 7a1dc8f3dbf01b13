"""Gazetteer's Python client: pyatlan's Glue package builder and workflow API, over plain HTTP.

No pyatlan needed; the calls of Atlan's Glue assets package page work as written (docs/design.md, Atlan
contract §1):

    from gazetteer.client import GazetteerClient, GlueCrawler

    client = GazetteerClient()                      # $GAZETTEER_URL, $GAZETTEER_TOKEN
    crawler = (GlueCrawler(client=client, connection_name="production",
                           admin_roles=[client.role_cache.get_id_for_name("$admin")])
               .iam_user_auth(access_key="...", secret_key="...")
               .direct(region="ap-south-1")
               .include(assets=["dev-project"])
               .exclude(assets=[])
               .to_workflow())
    response = client.workflow.run(crawler)
    phase = client.workflow.monitor(response)       # "Succeeded", "Failed" or "Error"

Like pyatlan's, these calls return the server's raw documents; `Run.of(hit)` and `Workflow.of(hit)` read one
into typed values.
"""

from __future__ import annotations

from gazetteer.client import assets, documents
from gazetteer.client.api import DEFAULT_URL, GazetteerClient, RoleCache
from gazetteer.client.errors import GazetteerAPIError, GazetteerClientError, GazetteerConnectionError
from gazetteer.client.glue_crawler import PREFIX, GlueCrawler
from gazetteer.client.views import Run, Workflow
from gazetteer.client.workflow import WorkflowClient

__all__ = [
    "DEFAULT_URL",
    "PREFIX",
    "GazetteerAPIError",
    "GazetteerClient",
    "GazetteerClientError",
    "GazetteerConnectionError",
    "GlueCrawler",
    "RoleCache",
    "Run",
    "Workflow",
    "WorkflowClient",
    "assets",
    "documents",
]
