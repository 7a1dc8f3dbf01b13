"""Our GlueCrawler must build exactly the workflow pyatlan 10.0.0 builds for the same inputs, epoch and guid."""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from typing import Any
from unittest.mock import patch

import pytest

from gazetteer.client import PREFIX, GlueCrawler

pyatlan_atlan = pytest.importorskip("pyatlan.client.atlan")
pyatlan_packages = pytest.importorskip("pyatlan.model.packages")

EPOCH = 1795609922
GUID = "-1234567890000000000000000"  # what pyatlan makes of random.random() == 123456789
ROLE = "7d7a1c36-0000-4000-8000-00000000ad01"

# (constructor keyword arguments, builder calls in order)
CASES: dict[str, tuple[dict[str, Any], list[tuple[str, tuple[Any, ...]]]]] = {
    "seed snippet": (
        dict(connection_name="production", admin_roles=[ROLE], admin_groups=None, admin_users=None,
             row_limit=0, allow_query=False, allow_query_preview=False),
        [("iam_user_auth", ("your-access-key", "your-secret-key")), ("direct", ("ap-south-1",)),
         ("include", (["dev-project"],)), ("exclude", ([],))],
    ),
    "upstream unit test": (
        dict(connection_name="test-glue-conn", admin_roles=["admin-guid-1234"], admin_groups=None, admin_users=None),
        [("iam_user_auth", ("test-access-key", "test-secret-key")), ("direct", ("test-region",)),
         ("include", (["test-asset-1", "test-asset-2"],)), ("exclude", ([],))],
    ),
    "admin group only": (
        dict(connection_name="production", admin_groups=["data-engineers"]),
        [("iam_user_auth", ("ak", "sk")), ("direct", ("eu-west-1",)), ("include", (["sales"],))],
    ),
    "admin user only": (
        dict(connection_name="production", admin_users=["jdoe"]),
        [("direct", ("eu-west-1",)), ("exclude", (["scratch", "tmp"],))],
    ),
    "one admin of each kind": (
        dict(connection_name="production", admin_roles=[ROLE], admin_groups=["analysts"], admin_users=["jdoe"]),
        [("iam_user_auth", ("ak", "sk")), ("direct", ("us-east-1",)), ("include", (["a"],)), ("exclude", (["b"],))],
    ),
    "include None": (
        dict(connection_name="production", admin_roles=[ROLE]),
        [("iam_user_auth", ("ak", "sk")), ("direct", ("us-east-1",)), ("include", (None,)), ("exclude", (["b"],))],
    ),
    "exclude None": (
        dict(connection_name="production", admin_roles=[ROLE]),
        [("iam_user_auth", ("ak", "sk")), ("direct", ("us-east-1",)), ("include", (["a"],)), ("exclude", (None,))],
    ),
    "include and exclude empty lists": (
        dict(connection_name="production", admin_roles=[ROLE]),
        [("iam_user_auth", ("ak", "sk")), ("direct", ("us-east-1",)), ("include", ([],)), ("exclude", ([],))],
    ),
    "no filters at all": (
        dict(connection_name="production", admin_roles=[ROLE]),
        [("iam_user_auth", ("ak", "sk")), ("direct", ("us-east-1",))],
    ),
    "allow query, preview and a row limit": (
        dict(connection_name="production", admin_roles=[ROLE], allow_query=True, allow_query_preview=True,
             row_limit=10000),
        [("iam_user_auth", ("ak", "sk")), ("direct", ("ap-south-1",)), ("include", (["dev-project"],))],
    ),
    "exclude before include, include twice": (
        dict(connection_name="production", admin_roles=[ROLE]),
        [("exclude", (["x"],)), ("include", (["a"],)), ("include", (["b", "c"],)), ("direct", ("us-east-1",))],
    ),
    "non-ASCII names and odd keys": (
        dict(connection_name="Produktion – Café ☕", admin_users=["jürgen"]),
        [("iam_user_auth", ("ak", "s\"k\\")), ("direct", ("eu-central-1",)),
         ("include", (["crème", "a b", "x\"y", 1, 2.5],))],
    ),
    "credentials without region": (
        dict(connection_name="production", admin_roles=[ROLE]),
        [("iam_user_auth", ("ak", "sk"))],
    ),
    "no credentials": (
        dict(connection_name="production", admin_roles=[ROLE]),
        [("include", (["a"],))],
    ),
    "direct called before iam_user_auth": (
        dict(connection_name="production", admin_roles=[ROLE]),
        [("direct", ("us-east-1",)), ("iam_user_auth", ("ak", "")), ("exclude", ([],))],
    ),
}


@pytest.fixture()
def pyatlan_client(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """An AtlanClient that never talks to a server: fixed epoch and guid, admin validation patched out."""
    monkeypatch.setenv("ATLAN_BASE_URL", "https://test.atlan.com")
    monkeypatch.setenv("ATLAN_API_KEY", "x")
    atlan_client = pyatlan_atlan.AtlanClient
    with patch.object(atlan_client, "role_cache"), patch.object(atlan_client, "user_cache"), \
            patch.object(atlan_client, "group_cache"), \
            patch("pyatlan.utils.get_epoch_timestamp", return_value=EPOCH + 0.123456), \
            patch("pyatlan.utils.random") as fake_random, warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        fake_random.random.return_value = 123456789
        yield atlan_client()


def _pyatlan_workflow(client: Any, kwargs: dict[str, Any], calls: list[tuple[str, tuple[Any, ...]]]) -> dict:
    crawler = pyatlan_packages.GlueCrawler(client=client, **kwargs)
    for method, args in calls:
        getattr(crawler, method)(*args)
    return json.loads(crawler.to_workflow().json(by_alias=True, exclude_unset=True))


def _our_workflow(kwargs: dict[str, Any], calls: list[tuple[str, tuple[Any, ...]]]) -> dict:
    crawler = GlueCrawler(**kwargs, epoch=EPOCH, guid_factory=lambda: GUID)
    for method, args in calls:
        getattr(crawler, method)(*args)
    return crawler.to_workflow()


@pytest.mark.parametrize("case", list(CASES))
def test_same_workflow_as_pyatlan(pyatlan_client: Any, case: str) -> None:
    kwargs, calls = CASES[case]
    expected = _pyatlan_workflow(pyatlan_client, kwargs, calls)
    ours = _our_workflow(kwargs, calls)
    assert ours == expected
    # The connection parameter is a JSON *string*: equal dicts above already mean byte-equal strings.
    assert ours["metadata"]["name"] == f"{PREFIX}-{EPOCH}"


def test_defaults_are_pyatlans(pyatlan_client: Any) -> None:
    """Leaving allow_query, allow_query_preview and row_limit out gives pyatlan's defaults (False, False, 0)."""
    calls = [("iam_user_auth", ("ak", "sk")), ("direct", ("us-east-1",))]
    expected = _pyatlan_workflow(pyatlan_client, dict(connection_name="c", admin_roles=[ROLE]), calls)
    assert _our_workflow(dict(connection_name="c", admin_roles=[ROLE]), calls) == expected
    connection = json.loads(expected["spec"]["templates"][0]["dag"]["tasks"][0]["arguments"]["parameters"][-3]["value"])
    assert (connection["attributes"]["allowQuery"], connection["attributes"]["allowQueryPreview"],
            connection["attributes"]["rowLimit"]) == (False, False, 0)


def _admin_lists_sorted(workflow: dict) -> dict:
    parameters = workflow["spec"]["templates"][0]["dag"]["tasks"][0]["arguments"]["parameters"]
    for parameter in parameters:
        if parameter["name"] == "connection":
            connection = json.loads(parameter["value"])
            for key in ("adminRoles", "adminGroups", "adminUsers"):
                connection["attributes"][key] = sorted(connection["attributes"][key])
            parameter["value"] = connection
    return workflow


def test_several_admins_match_up_to_order(pyatlan_client: Any) -> None:
    """pyatlan stores admins in sets, so with several their order follows string hashes; ours keeps input order."""
    kwargs = dict(connection_name="production", admin_roles=[ROLE, "role-2"], admin_groups=["g1", "g2", "g3"],
                  admin_users=["u1", "u2", "u1"])
    calls = [("iam_user_auth", ("ak", "sk")), ("direct", ("us-east-1",)), ("include", (["a"],))]
    expected = _pyatlan_workflow(pyatlan_client, kwargs, calls)
    ours = _our_workflow(kwargs, calls)
    assert _admin_lists_sorted(ours) == _admin_lists_sorted(expected)
    connection = json.loads(_our_workflow(kwargs, calls)["spec"]["templates"][0]["dag"]["tasks"][0]
                            ["arguments"]["parameters"][-3]["value"])
    assert connection["attributes"]["adminUsers"] == ["u1", "u2"]
    assert connection["attributes"]["adminGroups"] == ["g1", "g2", "g3"]


def test_both_reject_a_filter_json_cannot_encode(pyatlan_client: Any) -> None:
    class NotSerialisable:
        pass

    pyatlan_crawler = pyatlan_packages.GlueCrawler(client=pyatlan_client, connection_name="c", admin_roles=[ROLE])
    with pytest.raises(Exception, match="Unable to translate the provided include/exclude asset filters into JSON"):
        pyatlan_crawler.include(assets=[NotSerialisable()])
    ours = GlueCrawler(connection_name="c", admin_roles=[ROLE], epoch=EPOCH)
    with pytest.raises(ValueError, match="Unable to translate the provided include/exclude asset filters into JSON"):
        ours.include(assets=[NotSerialisable()])
    with pytest.raises(ValueError, match="Unable to translate"):
        ours.exclude(assets=[["unhashable"]])
    # A failed filter leaves the crawler as it was.
    assert [p["name"] for p in ours.to_workflow()["spec"]["templates"][0]["dag"]["tasks"][0]["arguments"]
            ["parameters"]][0] == "credentials-fetch-strategy"


def test_at_least_one_admin_is_required(pyatlan_client: Any) -> None:
    with pytest.raises(ValueError, match="One of admin_user, admin_groups or admin_roles is required"):
        pyatlan_packages.GlueCrawler(client=pyatlan_client, connection_name="c", admin_users=[]).to_workflow()
    for kwargs in ({}, {"admin_roles": [], "admin_groups": None, "admin_users": []}):
        with pytest.raises(ValueError, match="At least one connection admin is required"):
            GlueCrawler(connection_name="c", **kwargs)


def test_invalid_inputs_are_refused_early() -> None:
    with pytest.raises(ValueError, match="connection_name is required"):
        GlueCrawler(connection_name="  ", admin_roles=[ROLE])
    with pytest.raises(TypeError, match="not the string"):
        GlueCrawler(connection_name="c", admin_roles=ROLE)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="not the string"):
        GlueCrawler(connection_name="c", admin_roles=[ROLE]).include("dev-project")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="row_limit"):
        GlueCrawler(connection_name="c", admin_roles=[ROLE], row_limit="10")  # type: ignore[arg-type]


def test_to_workflow_is_repeatable_and_positional_call_shape_works() -> None:
    guids = iter(["-1", "-2"])
    crawler = (GlueCrawler(None, "production", [ROLE], None, None, False, False, 0, epoch=EPOCH,
                           guid_factory=lambda: next(guids))
               .iam_user_auth("ak", "sk").direct("ap-south-1").include(["dev-project"]).exclude([]))
    first, second = crawler.to_workflow(), crawler.to_workflow()
    params = [p["name"] for p in first["spec"]["templates"][0]["dag"]["tasks"][0]["arguments"]["parameters"]]
    assert params == [p["name"] for p in second["spec"]["templates"][0]["dag"]["tasks"][0]["arguments"]["parameters"]]
    assert params == ["include-filter", "exclude-filter", "credentials-fetch-strategy", "credential-guid",
                      "connection", "publish-mode", "atlas-auth-type"]
    assert crawler.workflow_name == "atlan-glue-1795609922" and GlueCrawler.PREFIX == "atlan-glue"
    default_epoch = GlueCrawler(connection_name="c", admin_roles=[ROLE]).epoch
    assert len(str(default_epoch)) == 10
