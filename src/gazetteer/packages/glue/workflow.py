"""The Glue package as a workflow: building, reading and checking what `GlueCrawler(...).to_workflow()` sends.

The workflow carries the crawl's settings as Argo parameters (JSON strings) and the credential in
`payload`; this module builds that document from typed settings (what the browser form creates) and turns a
submitted one into a GlueCrawlConfig, refusing anything a crawl could not run with.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from pydantic import SecretStr

from gazetteer import jsontext
from gazetteer.errors import InvalidRequest
from gazetteer.packages.base import CREDENTIAL_PLACEHOLDER
from gazetteer.packages.glue.config import GlueCrawlConfig, check_exclude_table_regex, normal_catalog_id, parse_config
from gazetteer.packages.glue.names import DEFAULT_CATALOG, PACKAGE, PREFIX

__all__ = ["GlueCrawlerSettings", "GlueWorkflow", "connection_json", "credential_body", "crawl_config", "filter_value",
           "glue_workflow_document", "parse_glue_workflow", "scope_parameters", "temporary_guid", "workflow_document"]

# Kubernetes names, as Argo requires for workflow names and namespaces: a DNS label of at most 63 characters.
_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_CONNECTION_QN = re.compile(r"^default/glue/\d{10}$")

_SOURCE = "glue"
_LOGO = "https://atlan-public.s3.eu-west-1.amazonaws.com/atlan/logos/aws-glue.png"
_MARKETPLACE = f"https://packages.atlan.com/-/web/detail/{PACKAGE}"


@dataclass(frozen=True)
class GlueCrawlerSettings:
    """A new Glue crawler: its connection and admins, how it signs in (an IAM user's keys, a role to assume, or
    both), the region, the catalog and the filters.

    The fields and defaults are pyatlan's GlueCrawler's (admins are role ids, group names, user names), plus
    what Atlan's Glue app adds: the role, the catalog id and the table-name exclusion.
    """

    connection_name: str
    region: str
    access_key: str | None = None
    secret_key: str | None = field(default=None, repr=False)
    role_arn: str | None = None
    external_id: str | None = None
    admin_roles: tuple[str, ...] = ()
    admin_groups: tuple[str, ...] = ()
    admin_users: tuple[str, ...] = ()
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    catalog_id: str | None = None
    exclude_table_regex: str | None = None
    allow_query: bool = False
    allow_query_preview: bool = False
    row_limit: int = 0


def temporary_guid() -> str:
    """A negative temporary guid, as pyatlan's `@init_guid` makes them."""
    return str(-int(random.random() * 10000000000000000))  # noqa: S311 - an id, not a secret


def filter_value(databases: Iterable[str], catalog: str | None = None) -> str:
    """An include/exclude filter parameter's value, keyed by the catalog as Atlan's Glue app keys it:
    `{"AwsDataCatalog": {db: {}}}` (or the catalog id), `{}` for none."""
    databases = list(databases)
    key = normal_catalog_id(catalog) or DEFAULT_CATALOG
    return json.dumps({key: {database: {} for database in databases}}) if databases else "{}"


def scope_parameters(catalog_id: str | None, exclude_table_regex: str | None) -> list[dict[str, str]]:
    """The `catalog-id` and `exclude-table-regex` task parameters (Atlan's Glue app's inputs), each only when
    set: without them, the document is exactly pyatlan 10's."""
    values = (("catalog-id", normal_catalog_id(catalog_id)), ("exclude-table-regex", exclude_table_regex or None))
    return [{"name": name, "value": value} for name, value in values if value]


def credential_body(epoch: int, region: str, *, access_key: str | None = None, secret_key: str | None = None,
                    role_arn: str | None = None, external_id: str | None = None) -> dict[str, Any]:
    """The credential in the workflow's payload: an IAM user's keys with pyatlan 10's field order and aliases
    (authType "iam"), or a role to assume as Atlan's Glue app sends it (authType "role", the role in `extra`)."""
    if role_arn is None:
        return {"name": f"default-{_SOURCE}-{epoch}-0", "authType": "iam", "username": access_key,
                "password": secret_key, "extra": {"region": region},
                "connectorConfigName": f"atlan-connectors-{_SOURCE}"}
    extra = {"aws_role_arn": role_arn, **({"aws_external_id": external_id} if external_id else {}), "region": region}
    keys = {"username": access_key, "password": secret_key} if access_key else {}
    return {"name": f"default-{_SOURCE}-{epoch}-0", "authType": "role", **keys, "extra": extra,
            "connectorConfigName": f"atlan-connectors-{_SOURCE}"}


def connection_json(epoch: int, name: str, admins: tuple[Iterable[str], Iterable[str], Iterable[str]], *,
                    allow_query: bool, allow_query_preview: bool, row_limit: int, guid: str) -> str:
    """The new connection, as the `connection` parameter carries it: a JSON *string*, so pyatlan's key order
    and json.dumps' default separators are part of the contract. `admins`: users, groups, roles (duplicates
    dropped, order kept: pyatlan's sets make its own order change from one process to the next)."""
    users, groups, roles = (list(dict.fromkeys(names)) for names in admins)
    connection = {
        "typeName": "Connection",
        "attributes": {
            "qualifiedName": f"default/{_SOURCE}/{epoch}",
            "name": name,
            "adminUsers": users,
            "adminGroups": groups,
            "connectorName": _SOURCE,
            "isDiscoverable": True,
            "isEditable": False,
            "adminRoles": roles,
            "category": "lake",
            "allowQuery": allow_query,
            "allowQueryPreview": allow_query_preview,
            "rowLimit": row_limit,
            "defaultCredentialGuid": CREDENTIAL_PLACEHOLDER,
            "sourceLogo": _LOGO,
        },
        "guid": guid,
    }
    return json.dumps(connection)


def _metadata(epoch: int) -> dict[str, Any]:
    title = _SOURCE.capitalize()
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
            "orchestration.atlan.com/atlanName": f"{PREFIX}-default-{_SOURCE}-{epoch}",
        },
        "labels": {
            "orchestration.atlan.com/certified": "true",
            "orchestration.atlan.com/source": _SOURCE,
            "orchestration.atlan.com/sourceCategory": "lake",
            "orchestration.atlan.com/type": "connector",
            "orchestration.atlan.com/verified": "true",
            "package.argoproj.io/installer": "argopm",
            "package.argoproj.io/name": f"a-t-ratlans-l-a-s-h{_SOURCE}",
            "package.argoproj.io/registry": "httpsc-o-l-o-ns-l-a-s-hs-l-a-s-hpackages.atlan.com",
            f"orchestration.atlan.com/default-{_SOURCE}-{epoch}": "true",
            "orchestration.atlan.com/atlan-ui": "true",
        },
        "name": f"{PREFIX}-{epoch}",
        "namespace": "default",
    }


def workflow_document(epoch: int, filters: Iterable[dict[str, str]], connection: str,
                      credential: dict[str, Any] | None) -> dict[str, Any]:
    """The workflow document pyatlan 10.0.0 submits: `filters` are its include/exclude parameters in the order
    they were given, `connection` the `connection_json`, `credential` the payload's body (None: no payload)."""
    parameters = [dict(item) for item in filters] + [
        {"name": "credentials-fetch-strategy", "value": "credential_guid"},
        {"name": "credential-guid", "value": CREDENTIAL_PLACEHOLDER},
        {"name": "connection", "value": connection},
        {"name": "publish-mode", "value": "production"},
        {"name": "atlas-auth-type", "value": "internal"},
    ]
    task = {"name": "run", "arguments": {"parameters": parameters},
            "templateRef": {"name": PREFIX, "template": "main", "clusterScope": True}}
    spec = {"entrypoint": "main", "templates": [{"name": "main", "dag": {"tasks": [task]}}],
            "workflowMetadata": {"annotations": {"package.argoproj.io/name": PACKAGE}}}
    payload = [] if credential is None else [{"parameter": "credentialGuid", "type": "credential", "body": credential}]
    return {"metadata": _metadata(epoch), "spec": spec, "payload": payload}


def glue_workflow_document(settings: GlueCrawlerSettings, *, epoch: int, guid: str | None = None) -> dict[str, Any]:
    """The workflow pyatlan 10.0.0 submits for these settings: `GlueCrawler(...).iam_user_auth(...)
    .direct(region).include(...).exclude(...).to_workflow()`. `epoch` names the workflow, its credential and its
    connection (`default/glue/<epoch>`); `guid` is the connection's temporary guid (pyatlan's random one)."""
    filters = [{"name": "include-filter", "value": filter_value(settings.include, settings.catalog_id)},
               {"name": "exclude-filter", "value": filter_value(settings.exclude, settings.catalog_id)}]
    filters += scope_parameters(settings.catalog_id, settings.exclude_table_regex)
    connection = connection_json(epoch, settings.connection_name,
                                 (settings.admin_users, settings.admin_groups, settings.admin_roles),
                                 allow_query=settings.allow_query, allow_query_preview=settings.allow_query_preview,
                                 row_limit=settings.row_limit, guid=guid or temporary_guid())
    return workflow_document(epoch, filters, connection, credential_body(
        epoch, settings.region, access_key=settings.access_key, secret_key=settings.secret_key,
        role_arn=settings.role_arn, external_id=settings.external_id))


@dataclass(frozen=True)
class GlueWorkflow:
    """The parts of a Glue workflow the service needs: its name, connection, catalog, filters and credential."""

    name: str
    namespace: str
    connection: dict[str, Any]
    include: tuple[str, ...] | None
    exclude: tuple[str, ...] | None
    credential: dict[str, Any] | None
    catalog_id: str | None = None
    exclude_table_regex: str | None = None


def parameters(document: dict[str, Any]) -> dict[str, str]:
    """The name → value map of the workflow's DAG task parameters."""
    try:
        task = document["spec"]["templates"][0]["dag"]["tasks"][0]
        found = task["arguments"]["parameters"]
        return {str(p["name"]): p.get("value") for p in found}
    except (KeyError, IndexError, TypeError):
        raise InvalidRequest("The workflow has no spec.templates[0].dag.tasks[0].arguments.parameters: build it "
                             "with GlueCrawler(...).to_workflow()") from None


def _object(value: Any, where: str, *, required: bool = False) -> dict[str, Any]:
    """`value` if it is a JSON object; {} when it is absent and may be; InvalidRequest naming `where` else."""
    if value is None and not required:
        return {}
    if not isinstance(value, dict):
        raise InvalidRequest(f"{where} must be a JSON object, as GlueCrawler(...).to_workflow() makes it")
    return value


def _names(value: Any, where: str) -> list[str]:
    """A list of at most 100 names of at most 255 characters (connection admins)."""
    if value is None:
        return []
    if (not isinstance(value, list) or len(value) > 100
            or not all(isinstance(item, str) and 0 < len(item) <= 255 for item in value)):
        raise InvalidRequest(f"{where} must be a list of at most 100 names, each 1 to 255 characters")
    return value


def _credential(document: dict[str, Any]) -> dict[str, Any] | None:
    """The credential body in `payload`, its types checked (a secret must be a string, never str() of one)."""
    payload = document.get("payload")
    if payload is None:
        return None
    if not isinstance(payload, list):
        raise InvalidRequest("payload must be a list of {\"type\": \"credential\", \"body\": {...}} items")
    credential = None
    for item in payload:
        if isinstance(item, dict) and item.get("type") == "credential":
            credential = _object(item.get("body"), "payload[].body of the credential", required=True)
    if credential is None:
        return None
    _object(credential.get("extra"), "payload[].body.extra (where the region goes)")
    for key in ("username", "password", "authType", "name"):
        value = credential.get(key)
        if value is not None and (not isinstance(value, str) or len(value) > 4096):
            raise InvalidRequest(f"payload[].body.{key} must be a string of at most 4,096 characters")
    for key in ("aws_role_arn", "aws_external_id", "region"):
        value = (credential.get("extra") or {}).get(key)
        if value is not None and (not isinstance(value, str) or len(value) > 4096):
            raise InvalidRequest(f"payload[].body.extra.{key} must be a string of at most 4,096 characters")
    return credential


def _filter(value: str | None, which: str) -> tuple[str, ...] | None:
    if value is None:
        return None
    try:
        parsed = jsontext.loads(value, f"The {which} parameter")
    except (TypeError, ValueError):
        raise InvalidRequest(f"The {which} parameter is not JSON: expected {{\"AwsDataCatalog\": "
                             "{\"<glue database>\": {}}}") from None
    if not isinstance(parsed, dict) or any(not isinstance(v, dict) for v in parsed.values()):
        raise InvalidRequest(f"The {which} parameter must map a catalog name to an object of Glue database "
                             "names, e.g. {\"AwsDataCatalog\": {\"sales\": {}}}")
    names = tuple(str(db) for databases in parsed.values() for db in databases)
    return names or None


def parse_glue_workflow(document: dict[str, Any]) -> GlueWorkflow:
    """Check a submitted Glue workflow (its package annotation is the registry's business); InvalidRequest
    says exactly what is wrong."""
    metadata = _object(document.get("metadata"), "metadata", required=True)
    name = metadata.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        raise InvalidRequest(f"Workflow name {name!r} is not a valid name: at most 63 lower-case letters, digits "
                             "and '-' (e.g. atlan-glue-1700000000)")
    namespace = metadata.get("namespace") or "default"
    if not isinstance(namespace, str) or not _NAME.match(namespace):
        raise InvalidRequest(f"metadata.namespace {namespace!r} is not a valid namespace: at most 63 lower-case "
                             "letters, digits and '-' (pyatlan sends \"default\")")
    values = parameters(document)
    try:
        connection = jsontext.loads(values.get("connection") or "", "The workflow's connection parameter")
        attributes = connection["attributes"]
        assert isinstance(attributes, dict)
    except (ValueError, KeyError, TypeError, AssertionError):
        raise InvalidRequest("The workflow's connection parameter must be the Connection JSON that "
                             "GlueCrawler puts there") from None
    if not _CONNECTION_QN.match(str(attributes.get("qualifiedName", ""))):
        raise InvalidRequest(f"Connection qualifiedName {attributes.get('qualifiedName')!r} must look like "
                             "default/glue/<10-digit epoch>")
    connection_name = attributes.get("name")
    if not isinstance(connection_name, str) or not connection_name.strip() or len(connection_name) > 255:
        raise InvalidRequest("The connection needs a name of 1 to 255 characters")
    admins = {key: _names(attributes.get(key), f"The connection's {key}")
              for key in ("adminRoles", "adminGroups", "adminUsers")}
    if not any(admins.values()):
        raise InvalidRequest("The connection needs at least one admin: a role, a group or a user")
    credential = _credential(document)
    regex = values.get("exclude-table-regex") or None
    if regex is not None:
        if not isinstance(regex, str):
            raise InvalidRequest("The exclude-table-regex parameter must be a string (a regular expression)")
        check_exclude_table_regex(regex)
    catalog_id = values.get("catalog-id")
    if catalog_id is not None and not isinstance(catalog_id, str):
        raise InvalidRequest("The catalog-id parameter must be a string: a 12-digit account id, or "
                             "<account id>:s3tablescatalog/<table bucket>")
    workflow = GlueWorkflow(name, namespace, attributes, _filter(values.get("include-filter"), "include-filter"),
                            _filter(values.get("exclude-filter"), "exclude-filter"), credential,
                            normal_catalog_id(catalog_id), regex)
    if credential is not None:
        crawl_config(workflow, credential)  # fail now, not at the first run, on a bad region or missing key
    return workflow


def crawl_config(workflow: GlueWorkflow, credential: dict[str, Any],
                 credential_guid: str | None = None) -> GlueCrawlConfig:
    """The crawl settings of a workflow, with its (decrypted) credential: an IAM user's keys (authType "iam"),
    or a role to assume (authType "role"), with the keys as the source credentials when given, else the AWS
    environment's; `credential_guid` is where the vault keeps it (none while it is being checked)."""
    auth = credential.get("authType", "iam")
    extra = credential.get("extra") or {}
    if auth not in ("iam", "role"):
        raise InvalidRequest(f"Credential authType {auth!r} is not supported: use iam_user_auth(access_key, "
                             "secret_key), or a role (authType \"role\" with extra.aws_role_arn)")
    region = extra.get("region")
    if not region or not isinstance(region, str):
        raise InvalidRequest("The credential has no region: call .direct(region=...) on the crawler")
    if auth == "iam" and (not credential.get("username") or not credential.get("password")):
        raise InvalidRequest("The credential needs an access key and a secret key: call "
                             ".iam_user_auth(access_key=..., secret_key=...)")
    if auth == "role" and not extra.get("aws_role_arn"):
        raise InvalidRequest("A role credential needs extra.aws_role_arn: the ARN of the IAM role to assume")
    password = credential.get("password")
    attributes = workflow.connection
    return parse_config(
        connection_name=attributes["name"], connection_qualified_name=attributes["qualifiedName"],
        region=region, access_key=credential.get("username") or None,
        secret_key=SecretStr(str(password)) if password else None,
        role_arn=extra.get("aws_role_arn") if auth == "role" else None,
        external_id=extra.get("aws_external_id") if auth == "role" else None,
        catalog_id=workflow.catalog_id, exclude_table_regex=workflow.exclude_table_regex,
        include=workflow.include, exclude=workflow.exclude, credential_guid=credential_guid,
        # Types are left to the config's validation, which names the field when one is wrong.
        admin_users=attributes.get("adminUsers") or (), admin_groups=attributes.get("adminGroups") or (),
        admin_roles=attributes.get("adminRoles") or (),
        allow_query=attributes.get("allowQuery", False), allow_query_preview=attributes.get("allowQueryPreview", False),
        row_limit=attributes.get("rowLimit") or 0,
    )
