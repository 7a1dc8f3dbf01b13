"""Who may do what: the one permission table every write path checks.

What for: the workflow service, the asset API and the web UI all ask `authorize` before they change
anything, so the rule lives here once. A connection's admins are the users, groups and roles named on the
connection *as it is stored in the catalog* (never as a request describes it): a request that names an
existing connection cannot make its sender that connection's admin.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from typing import Any

from gazetteer.auth.principal import ADMIN_ROLE, MEMBER_ROLE, Principal
from gazetteer.errors import PermissionDenied

__all__ = ["Action", "Rule", "PERMISSIONS", "authorize", "may"]


class Rule(Enum):
    """Who an action is open to."""

    ANYONE = "any signed-in user ($guest, $member, $admin)"
    WRITER = "$admin or $member"
    CONNECTION_ADMIN = "$admin, or a $member named as an admin of the connection (user, group or role)"
    ADMIN = "$admin"


class Action(Enum):
    """Every kind of change Gazetteer knows, and reading."""

    READ = "read: search, assets, workflows, runs, schedules, users and groups"
    COUNT_VIEW = "count a view of an asset's page (popularity), by opening the page"
    CREATE_WORKFLOW = "create a workflow for a new connection"
    CREATE_CONNECTION = "create a connection asset (entity/bulk) that names its creator among its admins"
    CRAWL_CONNECTION = "create a workflow for a connection that exists"
    RUN_WORKFLOW = "re-run a workflow, plan a run (what it would change), stop one of its runs"
    CHANGE_WORKFLOW = "update a workflow (its settings, credential and schedule), archive it, change its owner"
    EDIT_ASSET = "curate an asset (description, owners, certificate, announcement, Atlan tags)"
    CREATE_ASSET = "create an asset beneath an existing connection"
    MANAGE_WEBHOOKS = "add, change, test or remove the webhooks of a connection"
    MANAGE_TAGS = "create, change or delete Atlan tag definitions"
    MANAGE_GLOSSARY = "create, change or delete glossaries, their categories and terms"


PERMISSIONS: Mapping[Action, Rule] = {
    Action.READ: Rule.ANYONE,
    Action.COUNT_VIEW: Rule.ANYONE,  # a write, but part of reading: whoever may read an asset's page
    Action.CREATE_WORKFLOW: Rule.WRITER,
    Action.CREATE_CONNECTION: Rule.CONNECTION_ADMIN,  # the connection as the request describes it: it is new
    Action.CRAWL_CONNECTION: Rule.CONNECTION_ADMIN,
    Action.RUN_WORKFLOW: Rule.CONNECTION_ADMIN,
    Action.CHANGE_WORKFLOW: Rule.CONNECTION_ADMIN,
    Action.EDIT_ASSET: Rule.CONNECTION_ADMIN,
    Action.CREATE_ASSET: Rule.CONNECTION_ADMIN,
    Action.MANAGE_WEBHOOKS: Rule.CONNECTION_ADMIN,  # no connection (a subscription to all of them): $admin only
    Action.MANAGE_TAGS: Rule.ADMIN,  # tags are shared by every connection
    # A glossary belongs to no connection; assigning its terms to an asset is curating that asset (EDIT_ASSET).
    Action.MANAGE_GLOSSARY: Rule.WRITER,
}


def _named_admin(principal: Principal, connection: Mapping[str, Any]) -> bool:
    roles = set(connection.get("adminRoles") or ())
    return (principal.username in (connection.get("adminUsers") or ())
            or bool(principal.groups & set(connection.get("adminGroups") or ()))
            or bool((principal.role_ids | principal.roles) & roles))


def may(principal: Principal, action: Action, connection: Mapping[str, Any] | None = None) -> bool:
    """Whether `principal` may do `action`; `connection` is the stored connection's attributes."""
    rule = PERMISSIONS[action]
    if rule is Rule.ANYONE or ADMIN_ROLE in principal.roles:
        return True
    if MEMBER_ROLE not in principal.roles:  # guests read, whatever a connection names them
        return False
    if rule is Rule.WRITER:
        return True
    if rule is Rule.ADMIN:
        return False
    return connection is not None and _named_admin(principal, connection)


def authorize(principal: Principal, action: Action, connection: Mapping[str, Any] | None = None, *,
              what: str = "") -> None:
    """Raise PermissionDenied, saying who may, unless `principal` may do `action` (on `what`)."""
    if may(principal, action, connection):
        return
    target = f" {what}" if what else ""
    rule = PERMISSIONS[action]
    if rule is Rule.CONNECTION_ADMIN and MEMBER_ROLE in principal.roles:
        name = (connection or {}).get("name")
        raise PermissionDenied(
            f"User {principal.username!r} is not an admin of connection {name!r}, so may not "
            f"{action.value}{target}: ask one of its admins or a $admin.")
    if rule is Rule.ADMIN and MEMBER_ROLE in principal.roles:
        raise PermissionDenied(f"User {principal.username!r} may not {action.value}{target}: only a $admin may.")
    raise PermissionDenied(f"User {principal.username!r} has read-only access and may not {action.value}{target}: "
                           f"that takes {rule.value}.")
