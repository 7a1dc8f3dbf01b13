"""Tables of identities: roles, users, groups and API tokens (migration 0002 creates them)."""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from gazetteer.store.schema import Timestamp, metadata

__all__ = [
    "ADMIN_USERNAME",
    "ADMIN_USER_ID",
    "ROLE_DESCRIPTIONS",
    "SERVICE_ACCOUNT_PREFIX",
    "api_tokens",
    "groups",
    "role_id",
    "roles",
    "user_groups",
    "users",
]

# pyatlan recognises API-token users by this prefix (pyatlan.model.constants.SERVICE_ACCOUNT_).
SERVICE_ACCOUNT_PREFIX = "service-account-"
ADMIN_USERNAME = "admin"

ROLE_DESCRIPTIONS = {
    "$admin": "Administrators: manage users, tokens, connections and workflows",
    "$member": "Members: read the catalog and run workflows",
    "$guest": "Guests: read the catalog",
}


def role_id(name: str) -> str:
    """The stable id of a built-in role; every catalog gives the same id, so cached ids stay valid."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"urn:gazetteer:role:{name}"))


# The user the GAZETTEER_ADMIN_TOKEN acts as; migration 0002 seeds it with this id.
ADMIN_USER_ID = str(uuid.uuid5(uuid.NAMESPACE_URL, f"urn:gazetteer:user:{ADMIN_USERNAME}"))

roles = sa.Table(
    "roles",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("name", sa.String(255), nullable=False, unique=True),
    sa.Column("description", sa.Text, nullable=True),
)

users = sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("username", sa.String(255), nullable=False, unique=True),
    sa.Column("email", sa.String(320), nullable=True),
    sa.Column("first_name", sa.String(255), nullable=True),
    sa.Column("last_name", sa.String(255), nullable=True),
    # The role by name: that is what Atlan's API reports (workspaceRole) and what callers pass in.
    sa.Column("role", sa.String(255), sa.ForeignKey("roles.name", name="fk_users_role_roles"),
              nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("is_service_account", sa.Boolean, nullable=False, server_default=sa.false()),
)

groups = sa.Table(
    "groups",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("name", sa.String(255), nullable=False, unique=True),
    sa.Column("alias", sa.String(255), nullable=True),
)

user_groups = sa.Table(
    "user_groups",
    metadata,
    sa.Column("user_id", sa.String(36),
              sa.ForeignKey("users.id", name="fk_user_groups_user_id_users", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("group_id", sa.String(36),
              sa.ForeignKey("groups.id", name="fk_user_groups_group_id_groups", ondelete="CASCADE"),
              primary_key=True),
)

# Only the SHA-256 of a token is kept: a leaked catalog file must not leak working credentials. A token's
# id equals the id of the service-account user it acts as (user_id), which is how Atlan reports it too.
api_tokens = sa.Table(
    "api_tokens",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("name", sa.String(100), nullable=False, unique=True),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("user_id", sa.String(36),
              sa.ForeignKey("users.id", name="fk_api_tokens_user_id_users", ondelete="CASCADE"),
              nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("last_used_at", Timestamp, nullable=True),
    sa.Column("revoked", sa.Boolean, nullable=False, server_default=sa.false()),
)
