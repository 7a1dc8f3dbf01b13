"""The Glue assets package builder of the seed page, producing the same workflow JSON as pyatlan 10.0.0.

`GlueCrawler(...).iam_user_auth(...).direct(...).include(...).exclude(...).to_workflow()` returns the plain
dict that pyatlan's `json.loads(crawler.to_workflow().json(by_alias=True, exclude_unset=True))` gives for the
same inputs, epoch and temporary guid; `GazetteerClient().workflow.run(...)` submits it.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from gazetteer.packages.glue.names import DEFAULT_CATALOG, PACKAGE, PREFIX

if TYPE_CHECKING:
    from gazetteer.client.api import GazetteerClient

__all__ = ["GlueCrawler", "PREFIX"]


_NAME = "glue"
_LOGO = "https://atlan-public.s3.eu-west-1.amazonaws.com/atlan/logos/aws-glue.png"
_MARKETPLACE = f"https://packages.atlan.com/-/web/detail/{PACKAGE}"
_CREDENTIAL_GUID = "{{credentialGuid}}"


def _temporary_guid() -> str:
    """A negative temporary guid, as pyatlan's `@init_guid` makes them."""
    return str(-int(random.random() * 10000000000000000))  # noqa: S311 - an id, not a secret


def _admins(kind: str, values: Iterable[str] | None) -> list[str]:
    # pyatlan keeps admins in a set, so with several its order follows string hashes and changes from one
    # process to the next; we keep the caller's order (duplicates dropped) so the output is reproducible.
    if values is None:
        return []
    if isinstance(values, str):
        raise TypeError(f"{kind} must be a list of strings, not the string {values!r}")
    return list(dict.fromkeys(values))


class GlueCrawler:
    """Configure a crawl of AWS Glue into a new connection and turn it into a workflow document.

    Parameters and defaults are pyatlan 10.0.0's: `allow_query=False`, `allow_query_preview=False`,
    `row_limit=0`. At least one admin (role id, group name or user name) is required. `client` is accepted
    for the same call shape as the seed page; building the workflow makes no request.
    `epoch` (default: now) names the workflow, credential and connection (`default/glue/<epoch>`);
    `guid_factory` makes the connection's temporary guid (default: pyatlan's `-<16 random digits>`).
    """

    PREFIX = PREFIX

    def __init__(
        self,
        client: GazetteerClient | None = None,
        connection_name: str = "",
        admin_roles: list[str] | None = None,
        admin_groups: list[str] | None = None,
        admin_users: list[str] | None = None,
        allow_query: bool = False,
        allow_query_preview: bool = False,
        row_limit: int = 0,
        *,
        epoch: int | None = None,
        guid_factory: Callable[[], str] | None = None,
    ) -> None:
        if not isinstance(connection_name, str) or not connection_name.strip():
            raise ValueError("connection_name is required: the name of the connection the Glue assets will live in")
        roles = _admins("admin_roles", admin_roles)
        groups = _admins("admin_groups", admin_groups)
        users = _admins("admin_users", admin_users)
        if not (roles or groups or users):
            raise ValueError("At least one connection admin is required: give admin_roles, admin_groups or admin_users")
        for flag, value in (("allow_query", allow_query), ("allow_query_preview", allow_query_preview)):
            if not isinstance(value, bool):
                raise TypeError(f"{flag} must be True or False, not {value!r}")
        if isinstance(row_limit, bool) or not isinstance(row_limit, int):
            raise TypeError(f"row_limit must be an integer, not {row_limit!r}")
        self.client = client
        self.connection_name = connection_name
        self.admin_roles, self.admin_groups, self.admin_users = roles, groups, users
        self.allow_query = allow_query
        self.allow_query_preview = allow_query_preview
        self.row_limit = row_limit
        self.epoch = int(time.time()) if epoch is None else int(epoch)
        self._guid_factory = guid_factory or _temporary_guid
        self._filters: list[dict[str, str]] = []
        self._credential: dict[str, Any] = {}

    @property
    def workflow_name(self) -> str:
        """The name the workflow will have: `atlan-glue-<epoch>`."""
        return f"{PREFIX}-{self.epoch}"

    def iam_user_auth(self, access_key: str, secret_key: str) -> GlueCrawler:
        """Authenticate to Glue with an IAM user's access key and secret key."""
        self._credential.update({"auth_type": "iam", "username": access_key, "password": secret_key})
        return self

    def direct(self, region: str) -> GlueCrawler:
        """Extract directly from Glue in this AWS region."""
        self._credential.update({
            "name": f"default-{_NAME}-{self.epoch}-0",
            "extra": {"region": region},
            "connector_config_name": f"atlan-connectors-{_NAME}",
        })
        return self

    def include(self, assets: list[str] | None) -> GlueCrawler:
        """Crawl only these Glue databases (Atlan schemas); None or [] means all."""
        self._filters.append({"name": "include-filter", "value": self._filter_value(assets)})
        return self

    def exclude(self, assets: list[str] | None) -> GlueCrawler:
        """Skip these Glue databases (Atlan schemas); None or [] means none."""
        self._filters.append({"name": "exclude-filter", "value": self._filter_value(assets)})
        return self

    @staticmethod
    def _filter_value(assets: list[str] | None) -> str:
        if not assets:
            return "{}"
        if isinstance(assets, str):
            raise TypeError(f"assets must be a list of Glue database names, not the string {assets!r}")
        try:
            return json.dumps({DEFAULT_CATALOG: {asset: {} for asset in assets}})
        except TypeError as error:  # unhashable entries, or keys json cannot write (objects, tuples...)
            raise ValueError(
                f"Unable to translate the provided include/exclude asset filters into JSON: {error}") from error

    def _connection_json(self) -> str:
        # Key order is pyatlan's (Connection.creator serialised with by_alias/exclude_unset/exclude_none);
        # the value is a JSON *string*, so order and json.dumps' default separators are part of the contract.
        connection = {
            "typeName": "Connection",
            "attributes": {
                "qualifiedName": f"default/{_NAME}/{self.epoch}",
                "name": self.connection_name,
                "adminUsers": self.admin_users,
                "adminGroups": self.admin_groups,
                "connectorName": _NAME,
                "isDiscoverable": True,
                "isEditable": False,
                "adminRoles": self.admin_roles,
                "category": "lake",
                "allowQuery": self.allow_query,
                "allowQueryPreview": self.allow_query_preview,
                "rowLimit": self.row_limit,
                "defaultCredentialGuid": _CREDENTIAL_GUID,
                "sourceLogo": _LOGO,
            },
            "guid": self._guid_factory(),
        }
        return json.dumps(connection)

    def _credential_body(self) -> dict[str, Any]:
        # Credential field order, aliases and exclude_none as pyatlan's Credential model writes them.
        fields = (("name", "name"), ("auth_type", "authType"), ("username", "username"), ("password", "password"),
                  ("extra", "extra"), ("connector_config_name", "connectorConfigName"))
        return {alias: self._credential[key] for key, alias in fields if self._credential.get(key) is not None}

    def _metadata(self) -> dict[str, Any]:
        epoch, title = self.epoch, _NAME.capitalize()
        return {
            "annotations": {
                "orchestration.atlan.com/allowSchedule": "true",
                "orchestration.atlan.com/dependentPackage": "",
                "orchestration.atlan.com/docsUrl": "https://ask.atlan.com/hc/en-us/articles/6335637665681",
                "orchestration.atlan.com/emoji": "\U0001f680",
                "orchestration.atlan.com/icon": _LOGO,
                "orchestration.atlan.com/logo": _LOGO,
                "orchestration.atlan.com/marketplaceLink": _MARKETPLACE,
                "orchestration.atlan.com/name": f"{title} Assets",
                "orchestration.atlan.com/usecase": "crawling,auto-classifications",
                "package.argoproj.io/author": "Atlan",
                "package.argoproj.io/description":
                    f"Package to crawl AWS {title} assets and publish to Atlan for discovery.",
                "package.argoproj.io/homepage": _MARKETPLACE,
                "package.argoproj.io/keywords": '["lake","connector","crawler","glue","aws","s3"]',
                "package.argoproj.io/name": PACKAGE,
                "package.argoproj.io/registry": "https://packages.atlan.com",
                "package.argoproj.io/repository": "git+https://github.com/atlanhq/marketplace-packages.git",
                "package.argoproj.io/support": "support@atlan.com",
                "orchestration.atlan.com/atlanName": f"{PREFIX}-default-{_NAME}-{epoch}",
            },
            "labels": {
                "orchestration.atlan.com/certified": "true",
                "orchestration.atlan.com/source": _NAME,
                "orchestration.atlan.com/sourceCategory": "lake",
                "orchestration.atlan.com/type": "connector",
                "orchestration.atlan.com/verified": "true",
                "package.argoproj.io/installer": "argopm",
                "package.argoproj.io/name": f"a-t-ratlans-l-a-s-h{_NAME}",
                "package.argoproj.io/registry": "httpsc-o-l-o-ns-l-a-s-hs-l-a-s-hpackages.atlan.com",
                f"orchestration.atlan.com/default-{_NAME}-{epoch}": "true",
                "orchestration.atlan.com/atlan-ui": "true",
            },
            "name": self.workflow_name,
            "namespace": "default",
        }

    def to_workflow(self) -> dict[str, Any]:
        """The workflow document to POST to /api/service/workflows?submit=true (a fresh dict on every call)."""
        parameters = [dict(item) for item in self._filters] + [
            {"name": "credentials-fetch-strategy", "value": "credential_guid"},
            {"name": "credential-guid", "value": _CREDENTIAL_GUID},
            {"name": "connection", "value": self._connection_json()},
            {"name": "publish-mode", "value": "production"},
            {"name": "atlas-auth-type", "value": "internal"},
        ]
        task = {
            "name": "run",
            "arguments": {"parameters": parameters},
            "templateRef": {"name": PREFIX, "template": "main", "clusterScope": True},
        }
        spec = {
            "entrypoint": "main",
            "templates": [{"name": "main", "dag": {"tasks": [task]}}],
            "workflowMetadata": {"annotations": {"package.argoproj.io/name": PACKAGE}},
        }
        payload = []
        if self._credential:
            payload.append({"parameter": "credentialGuid", "type": "credential", "body": self._credential_body()})
        return {"metadata": self._metadata(), "spec": spec, "payload": payload}
