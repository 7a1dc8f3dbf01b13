"""Editing an asset in place: its description, owners and certificate (`/assets/{guid}/{field}`), adopting the
owner Glue reports, and the owner suggestions the owner field shows as one types (`/owners/suggestions`).

Each field is a fragment of the asset page that htmx swaps between showing and editing; without htmx the same
addresses are pages (an Edit link opens the form on a page of its own, a save redirects back). A refused save
answers with the form, what was typed and the message: a fragment for htmx, the form's page otherwise, with
the error's status. Writes go through `update_curated`, which checks who may (EDIT_ASSET); the owners it is
given must be the catalog's users and groups (`auth.people`). The editor and the saves read the primary: an
editor must start from the stored values, not a replica's older ones it would write back.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from fastapi import Request, Response
from fastapi.responses import RedirectResponse
from sqlalchemy.engine import Engine

from gazetteer.assets.curation import update_curated
from gazetteer.assets.views import ENUMS
from gazetteer.auth import people
from gazetteer.auth.principal import Principal
from gazetteer.errors import GazetteerError, InvalidRequest, NotFound, PermissionDenied
from gazetteer.web.ui import error_pages
from gazetteer.web.ui.asset_page import connection_of, may_edit, page_head
from gazetteer.web.ui.routing import FormDep, UserDep, is_htmx, read_engine, render, router

__all__ = ["FIELDS"]

FIELDS = ("description", "owners", "certificate")
DESCRIPTION_LIMIT = 10_000
MESSAGE_LIMIT = 2_000  # a certificate's message
OWNERS_LIMIT = 50  # owners one save may name


def _not_yours(user: Principal) -> str:
    return (f"You ({user.username}) may not change this asset: only admins of its connection and $admin users may. "
            "Ask one of them to make you an admin of the connection, or to make the change.")


def _field(field: str) -> str:
    if field not in FIELDS:
        raise NotFound(f"Nothing called {field[:40]!r} can be edited here; edit the description, the owners or "
                       "the certificate.")
    return field


def _editable(engine: Engine, user: Principal, guid: str) -> dict[str, Any]:
    asset = error_pages.asset(engine, guid)
    return {"asset": asset, "a": asset.attributes, "can_edit": may_edit(user, connection_of(engine, asset)),
            "message_limit": MESSAGE_LIMIT}


def _answer(request: Request, user: Principal, field: str, context: Mapping[str, Any], status: int = 200) -> Response:
    """The field's fragment for htmx; for a plain browser request, a page holding it under the asset's header,
    with `status`. A refusal swapped in by htmx answers 200: the fragment says what went wrong, in place, and
    htmx treats any 4xx as a failed request (logged as an error, events of failure)."""
    if is_htmx(request):
        return render(request, f"_{field}.html", context)
    engine = request.app.state.engine
    return render(request, "edit.html", {**page_head(engine, user, context["asset"], "overview"), **context,
                                         "field": field}, status=status)


@router.get("/owners/suggestions")
def owner_suggestions(request: Request, user: UserDep, add: str = "") -> Response:
    """The datalist of users and groups whose names start as the last name typed in the owners field does;
    each option holds the whole field (the names before it kept), so choosing one completes the field."""
    typed, _, last = add[:2_000].rpartition(",")
    before = f"{typed.strip()}, " if typed.strip() else ""
    with read_engine(request).connect() as conn:
        found = people.suggest(conn, last)
    options = [people.Person(before + person.name, person.kind, person.label) for person in found]
    return render(request, "_owner_options.html", {"suggestions": options})


@router.get("/assets/{guid}/{field}")
def show_field(request: Request, user: UserDep, guid: str, field: str) -> Response:
    """The field as the asset page shows it (what Cancel goes back to); the asset page itself without htmx."""
    field = _field(field)
    if not is_htmx(request):
        return RedirectResponse(f"/assets/{guid}", status_code=303)
    return render(request, f"_{field}.html", _editable(read_engine(request), user, guid))


def _suggestions(engine: Engine) -> list[people.Person]:
    """The datalist's first options, so the owner field suggests names without htmx too."""
    with engine.connect() as conn:
        return people.suggest(conn, "")


@router.get("/assets/{guid}/{field}/edit")
def edit_field(request: Request, user: UserDep, guid: str, field: str) -> Response:
    field = _field(field)
    engine = request.app.state.engine
    context = _editable(engine, user, guid)
    if not context["can_edit"]:
        return _answer(request, user, field, {**context, "error": _not_yours(user)}, status=403)
    if field == "owners":
        context["suggestions"] = _suggestions(engine)
    return _answer(request, user, field, {**context, "editing": True})


def _one(form: Mapping[str, list[str]], name: str) -> str:
    return (form.get(name) or [""])[0].strip()


def _names(text: str) -> list[str]:
    return list(dict.fromkeys(name.strip() for name in text.replace("\n", ",").split(",") if name.strip()))


def _kept(form: Mapping[str, list[str]]) -> tuple[list[str], list[str]]:
    """The owners ticked to keep ("user:NAME" or "group:NAME"): (users, groups)."""
    kept = [value.partition(":") for value in form.get("keep", [])[:OWNERS_LIMIT + 1]]
    return ([name for kind, _, name in kept if kind == "user" and name],
            [name for kind, _, name in kept if kind == "group" and name])


def _owner_changes(engine: Engine, form: Mapping[str, list[str]]) -> dict[str, Any]:
    """ownerUsers and ownerGroups from the form: the owners ticked to keep, and the names added, each found
    among the users, then the groups."""
    users, groups = _kept(form)
    added = _names(_one(form, "add"))
    if len(users) + len(groups) + len(added) > OWNERS_LIMIT:
        raise InvalidRequest(f"An asset may have at most {OWNERS_LIMIT} owners; name fewer, or use a group.")
    return _adding(engine, users, groups, added, lambda unknown: (
        f"No user or group of this catalog is called {', '.join(map(repr, unknown[:5]))}: pick owners from the "
        "suggestions, or ask an administrator to add them first."))


def _adding(engine: Engine, users: list[str], groups: list[str], names: list[str],
            refusal: Callable[[tuple[str, ...]], str]) -> dict[str, Any]:
    """The owners with `names` added, each found among the users, then the groups; InvalidRequest(refusal(the
    names that are neither)) if any is neither."""
    with engine.connect() as conn:
        found = people.resolve(conn, names)
    if found.unknown:
        raise InvalidRequest(refusal(found.unknown))
    return {"ownerUsers": list(dict.fromkeys(users + list(found.users))) or None,
            "ownerGroups": list(dict.fromkeys(groups + list(found.groups))) or None}


def _certificate_changes(form: Mapping[str, list[str]]) -> dict[str, Any]:
    status = _one(form, "certificateStatus") or None
    message = _one(form, "certificateStatusMessage")
    if status is not None and status not in ENUMS["certificateStatus"]:
        raise InvalidRequest(f"{status[:40]!r} is not a certificate status: choose Verified, Draft, Deprecated or "
                             "none.")
    if len(message) > MESSAGE_LIMIT:
        raise InvalidRequest(f"The message is longer than {MESSAGE_LIMIT:,} characters; shorten it.")
    return {"certificateStatus": status, "certificateStatusMessage": (message or None) if status else None}


def _description_changes(form: Mapping[str, list[str]], crawled: str | None) -> dict[str, Any]:
    text = _one(form, "userDescription")
    if len(text) > DESCRIPTION_LIMIT:
        raise InvalidRequest(f"The description is longer than {DESCRIPTION_LIMIT:,} characters; shorten it.")
    # Saving Glue's text unchanged adds no override, so later Glue edits still show.
    return {"userDescription": None if not text or text == crawled else text}


Changes = Callable[[Mapping[str, Any]], dict[str, Any]]  # the stored attributes → what to change


def _save(request: Request, user: Principal, guid: str, field: str, changes: Changes, draft: Mapping[str, Any],
          added: str = "") -> Response:
    """Apply what `changes` makes of the stored attributes; a refusal, whether by the permission table, while
    reading the form or by update_curated, answers with the form and the message."""
    engine = request.app.state.engine
    context = _editable(engine, user, guid)  # a Missing page if the asset is gone
    try:
        if not context["can_edit"]:  # before the form is read: a guest learns nothing about the users
            raise PermissionDenied(_not_yours(user))
        asset = update_curated(engine, guid, user, changes(context["a"]), known_owners=True)
    except GazetteerError as exc:
        if field == "owners":
            context["suggestions"] = _suggestions(engine)
        return _answer(request, user, field, {**context, "editing": context["can_edit"], "error": exc.message,
                                              "draft": draft, "added": added}, status=exc.status_code)
    if not is_htmx(request):
        return RedirectResponse(f"/assets/{guid}", status_code=303)
    return render(request, f"_{field}.html", {"asset": asset, "a": asset.attributes, "can_edit": True,
                                              "saved": True})


@router.post("/assets/{guid}/owners/adopt")
def adopt_glue_owner(request: Request, user: UserDep, guid: str) -> Response:
    """Make the owner Glue reports (the table's Owner, kept as sourceOwners) an owner, if the catalog knows it."""
    engine = request.app.state.engine

    def changes(attributes: Mapping[str, Any]) -> dict[str, Any]:
        glue_owner = str(attributes.get("sourceOwners") or "").strip()
        users, groups = list(attributes.get("ownerUsers") or []), list(attributes.get("ownerGroups") or [])
        if not glue_owner:
            raise InvalidRequest("Glue names no owner for this asset; add one from the catalog's users instead.")
        return _adding(engine, users, groups, [glue_owner], lambda _: (
            f"Glue's owner {glue_owner[:100]!r} is not a user or group of this catalog, so it cannot be adopted: "
            "pick an owner from the catalog's users, or ask an administrator to add them."))

    return _save(request, user, guid, "owners", changes, {}, "")


@router.post("/assets/{guid}/{field}")
def save_field(request: Request, user: UserDep, form: FormDep, guid: str, field: str) -> Response:
    """Save the description (empty = back to Glue's), the owners, or the certificate and its message."""
    field = _field(field)
    engine = request.app.state.engine
    if field == "description":
        text = _one(form, "userDescription")
        return _save(request, user, guid, field, lambda a: _description_changes(form, a.get("description")),
                     {"userDescription": text})
    if field == "certificate":
        return _save(request, user, guid, field, lambda _: _certificate_changes(form),
                     {"certificateStatus": _one(form, "certificateStatus")[:40],
                      "certificateStatusMessage": _one(form, "certificateStatusMessage")[:MESSAGE_LIMIT]})
    users, groups = _kept(form)
    return _save(request, user, guid, field, lambda _: _owner_changes(engine, form),
                 {"ownerUsers": users, "ownerGroups": groups},
                 _one(form, "add")[:2_000])
