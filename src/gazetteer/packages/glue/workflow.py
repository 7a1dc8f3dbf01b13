"""The Glue package as a workflow: reading and checking what `GlueCrawler(...).to_workflow()` sends.

The workflow carries the crawl's settings as Argo parameters (JSON strings) and the credential in
`payload`; this module turns them into a GlueCrawlConfig, refusing anything a crawl could not run with.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from pydantic import SecretStr

from gazetteer import jsontext
from gazetteer.errors import InvalidRequest
from gazetteer.packages.glue.config import GlueCrawlConfig, parse_config

__all__ = ["GlueWorkflow", "parse_glue_workflow", "crawl_config"]

# Kubernetes names, as Argo requires for workflow names and namespaces: a DNS label of at most 63 characters.
_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_CONNECTION_QN = re.compile(r"^default/glue/\d{10}$")


@dataclass(frozen=True)
class GlueWorkflow:
    """The parts of a Glue workflow the service needs: its name, connection, filters and credential."""

    name: str
    namespace: str
    connection: dict[str, Any]
    include: tuple[str, ...] | None
    exclude: tuple[str, ...] | None
    credential: dict[str, Any] | None


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
    workflow = GlueWorkflow(name, namespace, attributes, _filter(values.get("include-filter"), "include-filter"),
                            _filter(values.get("exclude-filter"), "exclude-filter"), credential)
    if credential is not None:
        crawl_config(workflow, credential)  # fail now, not at the first run, on a bad region or missing key
    return workflow


def crawl_config(workflow: GlueWorkflow, credential: dict[str, Any]) -> GlueCrawlConfig:
    """The crawl settings of a workflow, with its (decrypted) IAM-user credential."""
    if credential.get("authType", "iam") != "iam":
        raise InvalidRequest(f"Credential authType {credential.get('authType')!r} is not supported: use "
                             "iam_user_auth(access_key, secret_key)")
    region = (credential.get("extra") or {}).get("region")
    if not region or not isinstance(region, str):
        raise InvalidRequest("The credential has no region: call .direct(region=...) on the crawler")
    if not credential.get("username") or not credential.get("password"):
        raise InvalidRequest("The credential needs an access key and a secret key: call "
                             ".iam_user_auth(access_key=..., secret_key=...)")
    attributes = workflow.connection
    return parse_config(
        connection_name=attributes["name"], connection_qualified_name=attributes["qualifiedName"],
        region=region, access_key=credential["username"], secret_key=SecretStr(str(credential["password"])),
        include=workflow.include, exclude=workflow.exclude,
        # Types are left to the config's validation, which names the field when one is wrong.
        admin_users=attributes.get("adminUsers") or (), admin_groups=attributes.get("adminGroups") or (),
        admin_roles=attributes.get("adminRoles") or (),
        allow_query=attributes.get("allowQuery", False), allow_query_preview=attributes.get("allowQueryPreview", False),
        row_limit=attributes.get("rowLimit") or 0,
    )
