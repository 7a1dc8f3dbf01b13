"""Who is calling: the identity every API request resolves to, and what it may do."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

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

    def may_write(self) -> bool:
        """Guests only read."""
        return self.is_admin or MEMBER_ROLE in self.roles

    def is_connection_admin(self, connection: Mapping[str, Any]) -> bool:
        """$admin, or named on the connection by user name, group name or role (id or name)."""
        if self.is_admin:
            return True
        roles: Iterable[str] = connection.get("adminRoles") or ()
        return (self.username in (connection.get("adminUsers") or ())
                or bool(self.groups & set(connection.get("adminGroups") or ()))
                or bool((self.role_ids | self.roles) & set(roles)))
