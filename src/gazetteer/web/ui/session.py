"""Signing in with an API token (kept in an HttpOnly, SameSite=Strict cookie) and signing out."""

from __future__ import annotations

from fastapi import Request, Response
from fastapi.responses import RedirectResponse

from gazetteer.auth.service import authenticate
from gazetteer.errors import Unauthenticated
from gazetteer.web.ui.routing import (
    HINT_COOKIE,
    TOKEN_COOKIE,
    FormDep,
    clear_sign_in,
    render,
    router,
    safe_next,
    set_sign_in,
)

_EXPIRED = "Your sign-in is no longer valid (the token was revoked or the server's admin token changed). " \
           "Sign in again with a current token."


def _valid(request: Request, token: str | None) -> bool:
    if not token:
        return False
    try:
        authenticate(request.app.state.engine, request.app.state.settings, token)
    except Unauthenticated:
        return False
    return True


@router.get("/sign-in")
def sign_in_page(request: Request, next: str | None = None, reason: str | None = None) -> Response:  # noqa: A002
    """The sign-in form; a browser that is already signed in goes straight on."""
    target = safe_next(next)
    if _valid(request, request.cookies.get(TOKEN_COOKIE)):
        return RedirectResponse(target, status_code=303)
    if HINT_COOKIE in request.cookies and TOKEN_COOKIE not in request.cookies:
        # Arrived through a link on another site: the Strict cookie stayed behind. Going on from this page
        # is a same-site navigation, which carries it. The hint is dropped so this can happen only once.
        response = render(request, "redirecting.html", {"target": target})
        response.delete_cookie(HINT_COOKIE, path="/")
        return response
    message = _EXPIRED if reason == "expired" else None
    return render(request, "sign_in.html", {"next": target, "error": message})


@router.post("/sign-in")
def sign_in(request: Request, form: FormDep) -> Response:
    """Check the pasted token; on success keep it in the cookie, never in the page."""
    token = (form.get("token") or [""])[0].strip()
    target = safe_next((form.get("next") or ["/"])[0])
    if not token:
        return render(request, "sign_in.html", {"next": target, "error": "Paste an API token to sign in."},
                      status=400)
    try:
        authenticate(request.app.state.engine, request.app.state.settings, token)
    except Unauthenticated as exc:
        message = exc.message
        if message.startswith("The API token is not valid"):
            message = ("That token is not valid on this server: check that you pasted all of it, or create one "
                       "with `gazetteer token create --name NAME`.")
        return render(request, "sign_in.html", {"next": target, "error": message}, status=401)
    response = RedirectResponse(target, status_code=303)
    set_sign_in(response, request, token)
    return response


@router.post("/sign-out")
def sign_out(request: Request) -> Response:
    response = RedirectResponse("/sign-in?signed_out=1", status_code=303)
    clear_sign_in(response)
    return response
