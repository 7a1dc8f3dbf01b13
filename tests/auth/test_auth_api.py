"""The identity endpoints over a real catalog, as pyatlan calls them (docs/design.md, Atlan contract §2)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient

from gazetteer.api.auth import router
from gazetteer.auth import service
from gazetteer.auth.models import ADMIN_USER_ID, api_tokens, role_id, user_groups
from gazetteer.auth.permissions import Action, may
from gazetteer.devtools.statements import statements
from gazetteer.settings import Settings
from gazetteer.web.errors import install_error_handlers

ADMIN_TOKEN = "test-admin-token-0123456789"
ROLES_QUERY = {"count": "True", "offset": "0", "limit": "100", "filter": '{"name":{"$ilike":"$%"}}'}


@pytest.fixture()
def client(engine: sa.Engine, tmp_path) -> TestClient:
    app = FastAPI()
    install_error_handlers(app)
    app.include_router(router)
    app.state.engine = engine
    app.state.settings = Settings(home=tmp_path / "home", admin_token=ADMIN_TOKEN)
    return TestClient(app)


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


ADMIN = bearer(ADMIN_TOKEN)


def assert_atlan_error(response, status: int) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"errorCode", "errorMessage"} and body["errorCode"] and body["errorMessage"]
    return body["errorMessage"]


@pytest.mark.parametrize("path", ["/api/service/roles", "/api/service/whoami", "/api/service/users",
                                  "/api/service/v2/groups", "/api/service/apikeys"])
def test_every_endpoint_needs_a_token(client: TestClient, path: str) -> None:
    message = assert_atlan_error(client.get(path), 401)
    assert "Bearer" in message
    message = assert_atlan_error(client.get(path, headers=bearer("gzt_not-a-real-token")), 401)
    assert "gzt_not-a-real-token" not in message and "token create" in message


def test_admin_token_is_the_admin_user(client: TestClient) -> None:
    body = client.get("/api/service/whoami", headers=ADMIN).json()
    assert body["id"] == ADMIN_USER_ID and body["username"] == "admin"
    assert body["roles"] == [{"id": role_id("$admin"), "name": "$admin"}]
    assert body["groups"] == []
    assert client.get("/api/service/users/current", headers=ADMIN).json() == body  # user.get_current()


def test_member_token_whoami_and_revocation(client: TestClient, engine: sa.Engine) -> None:
    token = service.create_token(engine, "robot", role="$member")
    assert token.startswith(service.TOKEN_PREFIX)
    body = client.get("/api/service/whoami", headers=bearer(token)).json()
    assert body["username"] == "service-account-robot"
    assert body["roles"] == [{"id": role_id("$member"), "name": "$member"}]
    # pyatlan: no $admin and no $api-token-default-access role, so it uses /package-workflows.
    assert not {"$admin", "$api-token-default-access"} & {role["name"] for role in body["roles"]}

    service.revoke_token(engine, "robot")
    message = assert_atlan_error(client.get("/api/service/whoami", headers=bearer(token)), 401)
    assert "revoked" in message and token not in message


def test_roles_as_the_role_cache_asks(client: TestClient, engine: sa.Engine) -> None:
    service.create_token(engine, "ci")
    body = client.get("/api/service/roles", params=ROLES_QUERY, headers=ADMIN).json()
    assert body["totalRecord"] == 3 and body["filterRecord"] == 3
    by_name = {record["name"]: record for record in body["records"]}
    assert set(by_name) == {"$admin", "$member", "$guest"}
    assert by_name["$admin"]["id"] == role_id("$admin")
    assert by_name["$admin"]["level"] == "workspace"
    assert by_name["$admin"]["memberCount"] == "2"  # the seeded admin and service-account-ci
    assert by_name["$guest"]["memberCount"] == "0"
    for record in body["records"]:
        assert set(record) == {"id", "name", "description", "level", "memberCount"}


@pytest.mark.parametrize("query, names", [
    ({"filter": '{"name":{"$ilike":"$ADM%"}}'}, ["$admin"]),
    ({"filter": '{"name":"$guest"}'}, ["$guest"]),
    ({"filter": '{"name":{"$eq":"$member"}}'}, ["$member"]),
    ({"filter": '{"name":{"$in":["$guest","$admin","nope"]}}'}, ["$admin", "$guest"]),
    ({"filter": '{"$or":[{"name":"$guest"},{"name":"$member"}]}'}, ["$guest", "$member"]),
    ({"filter": '{"name":{"$ilike":"x%"}}'}, []),
    ({"sort": "-name", "count": "true"}, ["$member", "$guest", "$admin"]),
])
def test_role_filters(client: TestClient, query: dict, names: list[str]) -> None:
    body = client.get("/api/service/roles", params=query, headers=ADMIN).json()
    assert [record["name"] for record in body["records"]] == names
    assert body["totalRecord"] == 3 and body["filterRecord"] == len(names)


@pytest.mark.parametrize("filter_text, needle", [
    ('{"name":{"$regex":"a.*"}}', "$regex"),
    ('{"$nor":[{"name":"x"}]}', "$nor"),
    ('{"password":"x"}', "password"),
    ('{"name": 3}', "strings"),
    ('{"name":', "not valid JSON"),
    ('["name"]', "JSON object"),
])
def test_bad_filters_are_400(client: TestClient, filter_text: str, needle: str) -> None:
    response = client.get("/api/service/roles", params={"filter": filter_text}, headers=ADMIN)
    assert needle in assert_atlan_error(response, 400)


def test_bad_sort_and_paging_are_400(client: TestClient) -> None:
    assert "secret" in assert_atlan_error(
        client.get("/api/service/users", params={"sort": "secret"}, headers=ADMIN), 400)
    assert_atlan_error(client.get("/api/service/users", params={"offset": "-1"}, headers=ADMIN), 400)


def walk(client: TestClient, path: str, params: dict) -> tuple[list[dict], int]:
    """Page like pyatlan: limit 20 from offset 0 until a page comes back empty."""
    records, offset, calls = [], 0, 0
    while True:
        body = client.get(path, params={**params, "offset": str(offset), "limit": "20"}, headers=ADMIN).json()
        assert {"totalRecord", "filterRecord", "records"} <= set(body)
        calls += 1
        if not body["records"]:
            return records, calls
        assert len(body["records"]) <= 20
        records += body["records"]
        offset += 20


def test_users_page_until_empty(client: TestClient, engine: sa.Engine) -> None:
    service.create_group(engine, "analysts", alias="Data Analysts")
    for number in range(44):
        service.create_user(engine, f"user{number:02d}", "$member", email=f"u{number}@example.com",
                            groups=["analysts"] if number % 2 else ())
    service.create_token(engine, "ci")  # a service account: listed under apikeys, not users
    params = {"sort": "username", "columns": ["firstName", "workspaceRole"], "count": "true",
              "maxLoginEvents": "1"}
    records, calls = walk(client, "/api/service/users", params)
    assert calls == 4  # 20 + 20 + 5, then the empty page
    names = [record["username"] for record in records]
    assert names == sorted(names) and len(set(names)) == 45 and "admin" in names
    assert not any(name.startswith("service-account-") for name in names)
    user = next(record for record in records if record["username"] == "user07")
    assert user["email"] == "u7@example.com" and user["enabled"] is True
    assert user["workspaceRole"] == "$member"
    assert {"id", "firstName", "lastName"} <= set(user)

    body = client.get("/api/service/users", params={"filter": '{"email":{"$ilike":"%U4%"}}'},
                      headers=ADMIN).json()
    assert sorted(record["username"] for record in body["records"]) == ["user04", "user40", "user41",
                                                                        "user42", "user43"]
    assert body["totalRecord"] == 45 and body["filterRecord"] == 5
    body = client.get("/api/service/users", params={"filter": '{"username":{"$in":["user01","nobody"]}}'},
                      headers=ADMIN).json()
    assert [record["username"] for record in body["records"]] == ["user01"]


def test_groups_page_until_empty(client: TestClient, engine: sa.Engine) -> None:
    for number in range(21):
        service.create_group(engine, f"team-{number:02d}", alias=f"Team {number}")
    records, calls = walk(client, "/api/service/v2/groups", {"sort": "name", "count": "true"})
    assert calls == 3 and [record["name"] for record in records] == [f"team-{n:02d}" for n in range(21)]
    assert records[3] == {"id": records[3]["id"], "name": "team-03", "alias": "Team 3", "path": "/team-03",
                          "attributes": {"alias": ["Team 3"]}, "userCount": 0}
    # pyatlan's group_cache.get_id_for_alias / group.get_by_name
    by_alias = '{"$and":[{"alias":{"$ilike":"%team 1%"}}]}'
    body = client.get("/api/service/v2/groups", params={"filter": by_alias}, headers=ADMIN).json()
    expected = ["team-01", *(f"team-{n}" for n in range(10, 20))]
    assert [record["name"] for record in body["records"]] == expected


def test_apikeys_resolve_service_accounts(client: TestClient, engine: sa.Engine) -> None:
    token = service.create_token(engine, "ci")
    service.create_token(engine, "gone", role="$guest")
    service.revoke_token(engine, "gone")
    # pyatlan's user cache: token.get_by_id("service-account-ci") strips the prefix and filters on clientId.
    body = client.get("/api/service/apikeys", params={"count": "True", "offset": "0", "limit": "5",
                                                      "filter": '{"clientId":"ci"}'}, headers=ADMIN).json()
    [record] = body["records"]
    assert record["displayName"] == "ci" and record["attributes"]["clientId"] == "ci"
    assert record["username"] == "service-account-ci"
    # Like Atlan, the token's id is the id of the user it acts as.
    assert record["id"] == service.authenticate(engine, Settings(), token).user_id
    assert "token_hash" not in json.dumps(body) and "hash" not in json.dumps(body).lower()
    body = client.get("/api/service/apikeys", headers=ADMIN).json()
    assert [record["displayName"] for record in body["records"]] == ["ci"]  # revoked tokens are not listed


def test_tokens_are_stored_only_hashed(engine: sa.Engine) -> None:
    token = service.create_token(engine, "secretive")
    with engine.connect() as conn:
        everything = [value for table in ("api_tokens", "users")
                      for row in conn.execute(sa.text(f"SELECT * FROM {table}")).all() for value in row]
        stored = conn.execute(sa.select(api_tokens.c.token_hash)
                              .where(api_tokens.c.name == "secretive")).scalar()
    assert not any(token in str(value) for value in everything)
    assert stored == service.hash_token(token) and len(stored) == 64
    principal = service.authenticate(engine, Settings(), token)
    assert principal.username == "service-account-secretive" and principal.is_admin
    with engine.connect() as conn:
        assert conn.execute(sa.select(api_tokens.c.last_used_at)).scalar() is not None


def test_a_tokens_use_is_written_once_a_minute_by_one_request(engine: sa.Engine) -> None:
    token = service.create_token(engine, "busy")
    with statements(engine, r"^\s*(?i:UPDATE api_tokens)\b") as writes:
        service.authenticate(engine, Settings(), token)
        assert len(writes) == 1
        # Requests in flight together all read the use as over a minute old; only the first writes it.
        with engine.begin() as conn:
            conn.execute(api_tokens.update().values(last_used_at=datetime.now(UTC) - timedelta(minutes=5)))
        writes.clear()
        for _ in range(5):
            assert service.authenticate(engine, Settings(), token).username == "service-account-busy"
        assert writes == []


def test_token_and_user_validation(engine: sa.Engine) -> None:
    from gazetteer.errors import InvalidRequest, NotFound, Unauthenticated

    service.create_token(engine, "dup")
    with pytest.raises(InvalidRequest, match="already exists"):
        service.create_token(engine, "dup")
    with pytest.raises(InvalidRequest, match="Unknown role"):
        service.create_token(engine, "other", role="$superuser")
    with pytest.raises(InvalidRequest, match="Invalid token name"):
        service.create_token(engine, 'bad"name')
    with pytest.raises(NotFound):
        service.revoke_token(engine, "never-made")
    with pytest.raises(InvalidRequest, match="Unknown group"):
        service.create_user(engine, "ann", "$member", groups=["ghosts"])
    with pytest.raises(InvalidRequest, match="reserved"):
        service.create_user(engine, "service-account-x", "$member")
    # No admin token configured: an empty or missing GAZETTEER_ADMIN_TOKEN accepts nothing.
    with pytest.raises(Unauthenticated):
        service.authenticate(engine, Settings(admin_token=""), "")


def test_user_groups_reach_the_principal(engine: sa.Engine) -> None:
    group_id = service.create_group(engine, "stewards")
    token = service.create_token(engine, "steward-bot", role="$member")
    user_id = service.authenticate(engine, Settings(), token).user_id
    with engine.begin() as conn:
        conn.execute(user_groups.insert().values(user_id=user_id, group_id=group_id))
    principal = service.authenticate(engine, Settings(), token)
    assert principal.roles == {"$member"} and principal.role_ids == {role_id("$member")}
    assert principal.groups == {"stewards"}
    assert may(principal, Action.EDIT_ASSET, {"adminGroups": ["stewards"]})
    assert not may(principal, Action.EDIT_ASSET, {"adminGroups": ["others"]})
    body = service.whoami(engine, principal)
    assert body["groups"] == [{"id": group_id, "name": "stewards", "alias": "stewards", "path": "/stewards"}]


def test_models_match_migration_0002(engine: sa.Engine) -> None:
    """The Core tables the services use are exactly what migration 0002 created (ids and seed rows too)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    import gazetteer.credentials.vault  # noqa: F401  (registers the credentials table)
    from gazetteer.store.schema import metadata

    ours = {"roles", "users", "groups", "user_groups", "api_tokens", "credentials"}
    with engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), metadata)
        seeded = dict(conn.execute(sa.text("SELECT name, id FROM roles")).all())
        admin = conn.execute(sa.text("SELECT id, role FROM users WHERE username = 'admin'")).one()

    def table_of(diff) -> str:  # diffs name their table in a few different ways
        item = diff[0] if isinstance(diff, list) else diff
        for part in item[1:]:
            table = part if isinstance(part, sa.Table) else getattr(part, "table", None)
            if isinstance(table, sa.Table):
                return table.name
        return item[2] if len(item) > 2 and isinstance(item[2], str) else ""

    assert [diff for diff in diffs if table_of(diff) in ours] == []
    assert seeded == {name: role_id(name) for name in ("$admin", "$member", "$guest")}
    assert tuple(admin) == (ADMIN_USER_ID, "$admin")
