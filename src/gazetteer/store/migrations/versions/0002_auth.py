"""Identities (roles, users, groups, API tokens) and the credential vault.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# Frozen copies of gazetteer.auth.models: a migration must keep producing the same rows even if the
# application code changes later. The ids are uuid5 of a fixed name, so every catalog agrees on them.
_ROLES = (
    ("$admin", "Administrators: manage users, tokens, connections and workflows"),
    ("$member", "Members: read the catalog and run workflows"),
    ("$guest", "Guests: read the catalog"),
)


def _id(kind: str, name: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"urn:gazetteer:{kind}:{name}"))


def upgrade() -> None:
    ts = sa.DateTime(timezone=True)
    roles = op.create_table(
        "roles",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("description", sa.Text, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_roles"),
        sa.UniqueConstraint("name", name="uq_roles_name"),
    )
    users = op.create_table(
        "users",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("username", sa.String(255), nullable=False),
        sa.Column("email", sa.String(320), nullable=True),
        sa.Column("first_name", sa.String(255), nullable=True),
        sa.Column("last_name", sa.String(255), nullable=True),
        sa.Column("role", sa.String(255), nullable=False),
        sa.Column("created_at", ts, nullable=False),
        sa.Column("is_service_account", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.UniqueConstraint("username", name="uq_users_username"),
        sa.ForeignKeyConstraint(["role"], ["roles.name"], name="fk_users_role_roles"),
    )
    op.create_table(
        "groups",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("alias", sa.String(255), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_groups"),
        sa.UniqueConstraint("name", name="uq_groups_name"),
    )
    op.create_table(
        "user_groups",
        sa.Column("user_id", sa.String(36), nullable=False),
        sa.Column("group_id", sa.String(36), nullable=False),
        sa.PrimaryKeyConstraint("user_id", "group_id", name="pk_user_groups"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_user_groups_user_id_users",
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["group_id"], ["groups.id"], name="fk_user_groups_group_id_groups",
                                ondelete="CASCADE"),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("user_id", sa.String(36), nullable=False),
        sa.Column("created_at", ts, nullable=False),
        sa.Column("last_used_at", ts, nullable=True),
        sa.Column("revoked", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.PrimaryKeyConstraint("id", name="pk_api_tokens"),
        sa.UniqueConstraint("name", name="uq_api_tokens_name"),
        sa.UniqueConstraint("token_hash", name="uq_api_tokens_token_hash"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_api_tokens_user_id_users",
                                ondelete="CASCADE"),
    )
    # Secrets live only in `ciphertext` (Fernet); the other columns are what lists and workflows show.
    op.create_table(
        "credentials",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("auth_type", sa.String(64), nullable=True),
        sa.Column("connector_config_name", sa.String(255), nullable=True),
        sa.Column("region", sa.String(64), nullable=True),
        sa.Column("ciphertext", sa.Text, nullable=False),
        sa.Column("created_at", ts, nullable=False),
        sa.Column("updated_at", ts, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_credentials"),
    )
    op.bulk_insert(roles, [{"id": _id("role", name), "name": name, "description": description}
                           for name, description in _ROLES])
    # The user GAZETTEER_ADMIN_TOKEN acts as; seeded so `admin` resolves in user lists (pyatlan's user cache).
    op.bulk_insert(users, [{"id": _id("user", "admin"), "username": "admin", "email": None,
                            "first_name": None, "last_name": None, "role": "$admin",
                            "created_at": datetime.now(UTC), "is_service_account": False}])


def downgrade() -> None:
    for table in ("credentials", "api_tokens", "user_groups", "groups", "users", "roles"):
        op.drop_table(table)
