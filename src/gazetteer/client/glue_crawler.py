"""The builder of Atlan's Glue assets package, producing the same workflow JSON as pyatlan 10.0.0.

`GlueCrawler(...).iam_user_auth(...).direct(...).include(...).exclude(...).to_workflow()` returns the plain
dict that pyatlan's `json.loads(crawler.to_workflow().json(by_alias=True, exclude_unset=True))` gives for the
same inputs, epoch and temporary guid; `GazetteerClient().workflow.run(...)` submits it. What Atlan's Glue app
adds is here too: `.iam_role_auth(role_arn, external_id)`, `.catalog_id(...)`, `.exclude_table_regex(...)`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from gazetteer.packages.glue.names import PREFIX
from gazetteer.packages.glue.workflow import (
    connection_json,
    filter_value,
    scope_parameters,
    temporary_guid,
    workflow_document,
)

if TYPE_CHECKING:
    from gazetteer.client.api import GazetteerClient

__all__ = ["GlueCrawler", "PREFIX"]


_NAME = "glue"


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
    for the same call shape as pyatlan's; building the workflow makes no request.
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
        self._guid_factory = guid_factory or temporary_guid
        # (parameter, databases) in call order: the values are keyed by the catalog, known only at the end.
        self._filters: list[tuple[str, list[str] | None]] = []
        self._credential: dict[str, Any] = {}
        self._role: dict[str, str] = {}
        self._catalog_id: str | None = None
        self._table_regex: str | None = None

    @property
    def workflow_name(self) -> str:
        """The name the workflow will have: `atlan-glue-<epoch>`."""
        return f"{PREFIX}-{self.epoch}"

    def iam_user_auth(self, access_key: str, secret_key: str) -> GlueCrawler:
        """Authenticate to Glue with an IAM user's access key and secret key."""
        self._credential.update({"auth_type": "iam", "username": access_key, "password": secret_key})
        return self

    def iam_role_auth(self, role_arn: str, external_id: str | None = None) -> GlueCrawler:
        """Assume this IAM role (with the keys of `iam_user_auth`, if given, else the server's own AWS
        credentials); `external_id` when the role's trust policy asks for one."""
        self._credential["auth_type"] = "role"
        self._role = {"aws_role_arn": role_arn, **({"aws_external_id": external_id} if external_id else {})}
        return self

    def catalog_id(self, catalog_id: str) -> GlueCrawler:
        """Read this catalog: another account's 12-digit id, or `<account>:s3tablescatalog/<table bucket>`."""
        self._catalog_id = catalog_id
        return self

    def exclude_table_regex(self, pattern: str) -> GlueCrawler:
        """Leave out the tables and views whose name this regular expression finds."""
        self._table_regex = pattern
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
        self._filters.append(("include-filter", self._checked(assets)))
        return self

    def exclude(self, assets: list[str] | None) -> GlueCrawler:
        """Skip these Glue databases (Atlan schemas); None or [] means none."""
        self._filters.append(("exclude-filter", self._checked(assets)))
        return self

    @staticmethod
    def _checked(assets: list[str] | None) -> list[str] | None:
        """The databases, refused now (as pyatlan does) when they cannot become a filter's JSON."""
        if not assets:
            return None
        if isinstance(assets, str):
            raise TypeError(f"assets must be a list of Glue database names, not the string {assets!r}")
        try:
            filter_value(assets)
        except TypeError as error:  # unhashable entries, or keys json cannot write (objects, tuples...)
            raise ValueError(
                f"Unable to translate the provided include/exclude asset filters into JSON: {error}") from error
        return list(assets)

    def to_workflow(self) -> dict[str, Any]:
        """The workflow document to POST to /api/service/workflows?submit=true (a fresh dict on every call)."""
        connection = connection_json(self.epoch, self.connection_name,
                                     (self.admin_users, self.admin_groups, self.admin_roles),
                                     allow_query=self.allow_query, allow_query_preview=self.allow_query_preview,
                                     row_limit=self.row_limit, guid=self._guid_factory())
        # Credential fields in pyatlan's Credential model order, those never set left out (its exclude_none).
        fields = (("name", "name"), ("auth_type", "authType"), ("username", "username"), ("password", "password"),
                  ("extra", "extra"), ("connector_config_name", "connectorConfigName"))
        credential = {alias: self._credential[key] for key, alias in fields if self._credential.get(key) is not None}
        if self._role:
            credential["extra"] = {**self._role, **credential.get("extra", {})}
        filters = [{"name": name, "value": filter_value(assets or (), self._catalog_id)}
                   for name, assets in self._filters]
        filters += scope_parameters(self._catalog_id, self._table_regex)
        return workflow_document(self.epoch, filters, connection, credential or None)
