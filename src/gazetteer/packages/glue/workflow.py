"""The Glue package as a workflow: reading and checking what `GlueCrawler(...).to_workflow()` sends.

The workflow carries the crawl's settings as Argo parameters (JSON strings) and the credential in
`payload`; this module turns them into a GlueCrawlConfig, refusing anything a crawl could not run with.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from pydantic import SecretStr

from gazetteer.errors import InvalidRequest
from gazetteer.packages.glue.config import GlueCrawlConfig, parse_config

__all__ = ["PACKAGE", "PREFIX", "GlueWorkflow", "parse_glue_workflow", "crawl_config", "CREDENTIAL_PLACEHOLDER"]

PACKAGE = "@atlan/glue"
PREFIX = "atlan-glue"
CREDENTIAL_PLACEHOLDER = "{{credentialGuid}}"
_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_CONNECTION_QN = re.compile(r"^default/glue/\d{10}$")


@dataclass(frozen=True)
class GlueWorkflow:
    """The parts of a Glue workflow the service needs: its name, connection, filters and credential."""

    name: str
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


def package_of(document: dict[str, Any]) -> str | None:
    """The package a workflow belongs to, from its annotations (pyatlan sets both)."""
    for holder in (document.get("metadata") or {}, (document.get("spec") or {}).get("workflowMetadata") or {}):
        name = (holder.get("annotations") or {}).get("package.argoproj.io/name")
        if name:
            return str(name)
    return None


def _filter(value: str | None, which: str) -> tuple[str, ...] | None:
    if value is None:
        return None
    try:
        parsed = json.loads(value)
    except (TypeError, ValueError):
        raise InvalidRequest(f"The {which} parameter is not JSON: expected {{\"AwsDataCatalog\": "
                             "{\"<glue database>\": {}}}") from None
    if not isinstance(parsed, dict) or any(not isinstance(v, dict) for v in parsed.values()):
        raise InvalidRequest(f"The {which} parameter must map a catalog name to an object of Glue database "
                             "names, e.g. {\"AwsDataCatalog\": {\"sales\": {}}}")
    names = tuple(str(db) for databases in parsed.values() for db in databases)
    return names or None


def parse_glue_workflow(document: dict[str, Any]) -> GlueWorkflow:
    """Check a submitted Glue workflow; InvalidRequest says exactly what is wrong."""
    metadata = document.get("metadata")
    if not isinstance(metadata, dict) or not isinstance(metadata.get("name"), str):
        raise InvalidRequest("The workflow needs metadata.name (e.g. atlan-glue-1700000000)")
    name = metadata["name"]
    if not _NAME.match(name):
        raise InvalidRequest(f"Workflow name {name!r} is not a valid name: lower-case letters, digits and '-'")
    package = package_of(document)
    if package != PACKAGE:
        raise InvalidRequest(f"Unknown package {package!r}: this server runs the Glue assets package ({PACKAGE})")
    values = parameters(document)
    try:
        connection = json.loads(values.get("connection") or "")
        attributes = connection["attributes"]
        assert isinstance(attributes, dict)
    except (ValueError, KeyError, TypeError, AssertionError):
        raise InvalidRequest("The workflow's connection parameter must be the Connection JSON that "
                             "GlueCrawler puts there") from None
    if not _CONNECTION_QN.match(str(attributes.get("qualifiedName", ""))):
        raise InvalidRequest(f"Connection qualifiedName {attributes.get('qualifiedName')!r} must look like "
                             "default/glue/<10-digit epoch>")
    if not str(attributes.get("name") or "").strip():
        raise InvalidRequest("The connection needs a name")
    if not any(attributes.get(key) for key in ("adminRoles", "adminGroups", "adminUsers")):
        raise InvalidRequest("The connection needs at least one admin: a role, a group or a user")
    credential = None
    for item in document.get("payload") or []:
        if isinstance(item, dict) and item.get("type") == "credential":
            credential = item.get("body")
    if credential is not None and not isinstance(credential, dict):
        raise InvalidRequest("payload[].body of the credential must be an object")
    workflow = GlueWorkflow(name, attributes, _filter(values.get("include-filter"), "include-filter"),
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
    if not region:
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
