"""The permission table: every action × every kind of caller, and the connection-admin rule."""

from __future__ import annotations

import pytest

from gazetteer.auth.permissions import PERMISSIONS, Action, Rule, authorize, may
from gazetteer.auth.principal import Principal
from gazetteer.errors import PermissionDenied

ADMIN = Principal("1", "root", frozenset({"$admin"}), role_ids=frozenset({"r-admin"}))
MEMBER = Principal("2", "ann", frozenset({"$member"}), groups=frozenset({"stewards"}),
                   role_ids=frozenset({"r-member"}))
GUEST = Principal("3", "gus", frozenset({"$guest"}), groups=frozenset({"stewards"}),
                  role_ids=frozenset({"r-guest"}))
NOBODY_NAMED = {"name": "sales", "adminRoles": ["r-admin"]}
NAMING = [{"name": "sales", "adminUsers": ["ann", "gus"]}, {"name": "sales", "adminGroups": ["stewards"]},
          {"name": "sales", "adminRoles": ["r-member", "r-guest"]}, {"name": "sales", "adminRoles": ["$member"]}]


def test_every_action_has_a_rule() -> None:
    assert set(PERMISSIONS) == set(Action)


@pytest.mark.parametrize("action", list(Action))
def test_admin_may_do_everything(action: Action) -> None:
    assert may(ADMIN, action, NOBODY_NAMED)
    assert may(ADMIN, action, None)


@pytest.mark.parametrize("action", list(Action))
def test_guest_only_reads_even_when_named_admin(action: Action) -> None:
    expected = PERMISSIONS[action] is Rule.ANYONE
    assert may(GUEST, action, None) is expected
    for connection in NAMING:
        assert may(GUEST, action, connection) is expected


@pytest.mark.parametrize("action", list(Action))
def test_member_needs_to_be_named_on_the_connection(action: Action) -> None:
    rule = PERMISSIONS[action]
    assert may(MEMBER, action, NOBODY_NAMED) is (rule in (Rule.ANYONE, Rule.WRITER))
    for connection in NAMING:  # by user name, group, role id or role name; $admin-only actions never
        assert may(MEMBER, action, connection) is (rule is not Rule.ADMIN)
    if rule is Rule.CONNECTION_ADMIN:
        assert not may(MEMBER, action, None)  # no stored connection: nobody is named on it


def test_refusals_say_who_may() -> None:
    with pytest.raises(PermissionDenied, match="not an admin of connection 'sales'"):
        authorize(MEMBER, Action.CRAWL_CONNECTION, NOBODY_NAMED)
    with pytest.raises(PermissionDenied, match=r"\$admin or \$member"):
        authorize(GUEST, Action.CREATE_WORKFLOW)


def test_the_readme_shows_the_permission_table() -> None:
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    for action, rule in PERMISSIONS.items():
        assert f"| {action.value} | {rule.value} |" in readme, action
