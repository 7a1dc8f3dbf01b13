"""Webhooks in the browser (`/webhooks`, `/webhooks/{guid}`): the subscriptions you may manage with their last
delivery, a form to add one, and each one's recent deliveries, a test button and removal.

The form sends what the API's JSON body holds, so `gazetteer.webhooks.subscriptions` checks both the same way
and permissions are its (MANAGE_WEBHOOKS). A generated secret is shown once, on the page that answers the form.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request, Response
from fastapi.responses import RedirectResponse

from gazetteer.assets.browse import active_connections
from gazetteer.assets.records import ASSET_TYPES
from gazetteer.auth.permissions import Action, may
from gazetteer.auth.principal import Principal
from gazetteer.errors import GazetteerError
from gazetteer.web.ui.error_pages import missing_webhook
from gazetteer.web.ui.routing import FormDep, UserDep, render, router
from gazetteer.webhooks import subscriptions
from gazetteer.webhooks.inputs import FORMATS
from gazetteer.webhooks.outbox import EVENT_KINDS

__all__ = ["EVENT_LABELS"]

EVENT_LABELS = {"breaking_change": "Breaking schema change", "asset_archived": "Asset archived",
                "run_failed": "Run failed", "run_succeeded": "Run succeeded"}
RECENT = 50


def _connections(request: Request, user: Principal) -> list[dict[str, str]]:
    """The connections whose webhooks `user` may manage (what the form offers; the create checks again)."""
    return [{"qn": connection.qualified_name, "name": connection.name}
            for connection in active_connections(request.app.state.engine)
            if may(user, Action.MANAGE_WEBHOOKS, {**connection.attributes, "name": connection.name})]


def _body(form: dict[str, list[str]]) -> dict[str, Any]:
    """The form as the API's JSON body: empty text fields left out, so the same checks name them."""
    def one(name: str) -> str:
        return (form.get(name) or [""])[0].strip()

    body: dict[str, Any] = {"name": one("name"), "url": one("url"), "events": form.get("events", []),
                            "format": one("format") or "json", "connectionQualifiedName": one("connection") or None,
                            "assetTypes": form.get("asset_types") or None}
    if one("secret"):
        body["secret"] = one("secret")
    return body


def _list_page(request: Request, user: Principal, *, status: int = 200, **extra: Any) -> Response:
    engine = request.app.state.engine
    connections = _connections(request, user)
    return render(request, "webhooks.html", {
        "webhooks": subscriptions.list_subscriptions(engine, user), "connections": connections,
        "may_add": user.is_admin or bool(connections), "all_connections": user.is_admin,
        "event_kinds": EVENT_KINDS, "event_labels": EVENT_LABELS, "asset_types": ASSET_TYPES, "formats": FORMATS,
        "form": extra.pop("form", {"events": [], "format": "json", "asset_types": []}), **extra}, status=status)


@router.get("/webhooks")
def webhooks_page(request: Request, user: UserDep) -> Response:
    return _list_page(request, user)


@router.post("/webhooks")
def add_webhook(request: Request, user: UserDep, raw: FormDep) -> Response:
    body = _body(raw)
    form = {**body, "connection": body["connectionQualifiedName"], "asset_types": body["assetTypes"] or [],
            "secret": ""}  # the secret is never sent back into the page
    try:
        created = subscriptions.create(request.app.state.engine, request.app.state.vault.keys, user, body)
    except GazetteerError as exc:
        return _list_page(request, user, status=exc.status_code, error=exc.message, form=form)
    return _list_page(request, user, created=created)


@router.get("/webhooks/{guid}")
def webhook_page(request: Request, user: UserDep, guid: str) -> Response:
    engine = request.app.state.engine
    with missing_webhook(guid):
        webhook = subscriptions.get(engine, user, guid)
        log = subscriptions.deliveries_of(engine, user, guid, limit=RECENT)
    return render(request, "webhook.html", {"webhook": webhook, "log": log, "event_labels": EVENT_LABELS,
                                            "tested": request.query_params.get("tested") == "1"})


@router.post("/webhooks/{guid}/test")
def test_webhook(request: Request, user: UserDep, guid: str) -> Response:
    with missing_webhook(guid):
        subscriptions.send_test(request.app.state.engine, user, guid)
    request.app.state.webhooks.wake()
    return RedirectResponse(f"/webhooks/{guid}?tested=1", status_code=303)


@router.post("/webhooks/{guid}/delete")
def delete_webhook(request: Request, user: UserDep, guid: str) -> Response:
    with missing_webhook(guid):
        subscriptions.delete(request.app.state.engine, user, guid)
    return RedirectResponse("/webhooks", status_code=303)
