"""The Glue app's inputs → the Glue crawler's settings and workflow (gazetteer.workflows.apps), and its run statuses."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from gazetteer.errors import InvalidRequest
from gazetteer.packages.glue.workflow import glue_workflow_document, parse_glue_workflow
from gazetteer.workflows.apps import app_status, app_status_sql, crawler_settings, parse_inputs
from gazetteer.workflows.models import PHASES

CATALOG = "123456789012:s3tablescatalog/my-bucket"
CONNECTION = {"typeName": "Connection", "attributes": {
    "qualifiedName": "default/glue/1796300143", "connectorName": "glue", "name": "glue-prod",
    "adminRoles": ["role-admin-id"]}}
ROLE = {"authType": "role", "name": "default-glue-1796300143-0", "connectorConfigName": "atlan-connectors-glue",
        "connectorType": "glue", "extra": {"aws_role_arn": "arn:aws:iam::123456789012:role/atlan-glue",
                                           "aws_external_id": "ext-123", "region": "us-east-1"}}
IAM = {"authType": "iam", "name": "default-glue-1796300143-0", "connectorConfigName": "atlan-connectors-glue",
       "username": "AKIA", "password": "SECRET", "extra": {"region": "eu-west-1"}}


def captured(**changes) -> dict:
    """The inputs pyatlan 11.6.0's builder sent for the brief's example (spec §2.1), with `changes`."""
    inputs = {"connection": CONNECTION, "extraction_method": "direct", "credential_guid": "", "agent_json": None,
              "catalog_id": CATALOG, "include_filter": json.dumps({CATALOG: {"sales": {}, "marketing": {}}}),
              "exclude_filter": json.dumps({"AwsDataCatalog": {"tmp": {}}}), "exclude_table_regex": "^tmp_.*",
              "credential": ROLE}
    inputs.update(changes)
    return inputs


def test_the_builders_inputs_become_the_crawler_and_its_workflow():
    inputs = parse_inputs(captured())
    assert inputs.qualified_name == "default/glue/1796300143" and inputs.new_connection
    assert inputs.include == ("sales", "marketing") and inputs.exclude == ("tmp",)
    assert inputs.catalog_id == CATALOG and inputs.exclude_table_regex == "^tmp_.*"
    settings = crawler_settings(inputs, inputs.connection, inputs.credential)
    assert (settings.connection_name, settings.region, settings.admin_roles) == ("glue-prod", "us-east-1",
                                                                                ("role-admin-id",))
    assert (settings.role_arn, settings.external_id, settings.access_key) == (
        "arn:aws:iam::123456789012:role/atlan-glue", "ext-123", None)
    parsed = parse_glue_workflow(glue_workflow_document(settings, epoch=1796300143))
    assert parsed.connection["qualifiedName"] == "default/glue/1796300143"
    assert (parsed.catalog_id, parsed.exclude_table_regex) == (CATALOG, "^tmp_.*")
    assert (parsed.include, parsed.exclude) == (("sales", "marketing"), ("tmp",))
    assert parsed.credential is not None and parsed.credential["authType"] == "role"

    keys = crawler_settings(inputs, inputs.connection, IAM)
    assert (keys.access_key, keys.secret_key, keys.role_arn, keys.region) == ("AKIA", "SECRET", None, "eu-west-1")
    assert parse_glue_workflow(glue_workflow_document(keys, epoch=1796300143)).credential["authType"] == "iam"


def test_inputs_read_null_as_absent_hyphens_as_underscores_and_filters_in_any_shape():
    raw = {"connection": json.dumps(CONNECTION), "credential_guid": None, "agent_json": None, "catalog-id": "",
           "include-filter": {"AwsDataCatalog": ["sales", "hr"]}, "exclude-filter": {"AwsDataCatalog": {}},
           "exclude-table-regex": "", "user-id": "someone", "connection_qualified_name": "default/glue/1796300143"}
    inputs = parse_inputs(raw)
    assert inputs.connection == CONNECTION["attributes"] and inputs.credential is None
    assert inputs.credential_guid is None and inputs.catalog_id is None and inputs.exclude_table_regex is None
    assert inputs.include == ("sales", "hr") and inputs.exclude == ()
    assert parse_inputs({"catalog_id": "AwsDataCatalog", "include_filter": "{}"}).catalog_id is None
    assert parse_inputs({"catalog_id": "123456789012"}).catalog_id == "123456789012"
    # The credential: the raw body, else credential_guid, else the connection's defaultCredentialGuid.
    reuse = {"typeName": "Connection", "attributes": {**CONNECTION["attributes"], "defaultCredentialGuid": "g-conn"}}
    assert parse_inputs({"connection": reuse, "credential_guid": "g-own"}).credential_guid == "g-own"
    assert parse_inputs({"connection": reuse, "credential_guid": ""}).credential_guid == "g-conn"
    assert not parse_inputs({"connection": reuse, "credential": ROLE}).new_connection


@pytest.mark.parametrize(("raw", "needle"), [
    ([], "must be a JSON object"),
    ({"include_filters": "{}"}, "not an input of the atlan-glue app"),
    ({"extraction_method": "agent", "agent_json": {"x": 1}}, "not supported"),
    ({"include_filter": "{nope"}, "include_filter is not JSON"),
    ({"exclude_filter": '{"AwsDataCatalog": "tmp"}'}, "must map a catalog"),
    ({"include_filter": "[]"}, "must map a catalog"),
    ({"exclude_table_regex": "a(b"}, "not a valid regular expression"),
    ({"exclude_table_regex": 3}, "exclude_table_regex must be a string"),
    ({"catalog_id": ["x"]}, "catalog_id must be a string"),
    ({"connection": {"typeName": "Table", "attributes": {}}}, "inputs.connection must be"),
    ({"connection": "{"}, "inputs.connection is not JSON"),
    ({"connection": CONNECTION, "connection_qualified_name": "default/glue/1700000000"}, "is not the connection's"),
    ({"credential": "secret"}, "inputs.credential must be a credential object"),
    ({"include-filter": "{}", "include_filter": '{"AwsDataCatalog": {"a": {}}}'}, "twice"),
])
def test_bad_inputs_are_refused_saying_what_is_wrong(raw, needle):
    with pytest.raises(InvalidRequest, match=needle):
        parse_inputs(raw)


@pytest.mark.parametrize(("connection", "credential", "needle"), [
    ({"adminRoles": "$admin"}, IAM, "adminRoles must be a list of names"),
    ({"adminUsers": [1]}, IAM, "adminUsers must be a list of names"),
    ({}, {**IAM, "authType": "basic"}, "authType 'basic' is not supported"),
    ({}, {**IAM, "extra": "eu-west-1"}, "extra must be an object"),
    ({}, {**IAM, "password": 12}, "password must be a string"),
])
def test_a_credential_or_connection_of_the_wrong_shape_is_refused(connection, credential, needle):
    with pytest.raises(InvalidRequest, match=needle):
        crawler_settings(parse_inputs({}), connection, credential)


def test_a_role_without_its_arn_is_refused_by_the_workflows_own_check():
    settings = crawler_settings(parse_inputs(captured()), CONNECTION["attributes"],
                                {"authType": "role", "extra": {"region": "us-east-1"}})
    with pytest.raises(InvalidRequest, match="needs extra.aws_role_arn"):
        parse_glue_workflow(glue_workflow_document(settings, epoch=1796300143))


def test_run_statuses_are_pyatlans_and_sql_agrees(engine):
    expected = {("Pending", False): "Pending", ("Running", False): "Running", ("Running", True): "Running",
                ("Succeeded", False): "Succeeded", ("Succeeded", True): "Succeeded", ("Failed", False): "Failed",
                ("Error", False): "Failed", ("Failed", True): "Stopped", ("Error", True): "Stopped"}
    assert {key: app_status(*key) for key in expected} == expected
    cases = [(phase, stopped) for phase in PHASES for stopped in (False, True)]
    values = sa.union_all(*(sa.select(sa.literal(phase, sa.String).label("phase"),
                                      sa.literal(stopped, sa.Boolean).label("stopped")) for phase, stopped in cases)
                          ).subquery()
    with engine.connect() as conn:
        found = conn.execute(sa.select(values.c.phase, values.c.stopped,
                                       app_status_sql(values.c.phase, values.c.stopped))).all()
    assert {(phase, bool(stopped)): status for phase, stopped, status in found} == {
        case: app_status(*case) for case in cases}


@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection")  # PostgreSQL's expression indexes on assets
def test_the_workflows_table_is_what_its_migrations_made(engine):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from gazetteer.store.schema import metadata

    with engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), metadata)
        indexes = {index["name"]: index for index in sa.inspect(conn).get_indexes("workflows")}
    assert [diff for diff in diffs if "workflows" in repr(diff)] == []
    assert indexes["ux_workflows_live_app_name"]["unique"]
