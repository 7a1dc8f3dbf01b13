"""Who is calling: the identity every API request resolves to (what it may do is in `permissions`)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Principal", "ADMIN_ROLE", "MEMBER_ROLE", "GUEST_ROLE", "ROLES"]

ADMIN_ROLE = "$admin"
MEMBER_ROLE = "$member"
GUEST_ROLE = "$guest"
ROLES = (ADMIN_ROLE, MEMBER_ROLE, GUEST_ROLE)


@dataclass(frozen=True)
class Principal:
    """An authenticated caller: a user, or an API token acting as one."""

    user_id: str
    username: str
    roles: frozenset[str]
    groups: frozenset[str] = frozenset()
    role_ids: frozenset[str] = frozenset()

    @property
    def is_admin(self) -> bool:
        return ADMIN_ROLE in self.roles
