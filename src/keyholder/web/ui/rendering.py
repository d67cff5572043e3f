"""Rendering pages: the Jinja2 environment, security headers, and errors as pages.

Every page goes out with a strict Content-Security-Policy (no inline script or
style), ``nosniff``, a Referrer-Policy and ``Cache-Control: no-store`` (pages
show private data). Routes whose URL carries a one-time token use
``TokenPageRoute``: their Referrer-Policy is ``no-referrer`` (S4).

Errors from the services (``keyholder.errors``) that a route does not turn into
a form error become a styled error page with the service's message; an
anonymous visitor to a page that needs a sign-in is sent to ``/login``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2
from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException

from keyholder.errors import KeyholderError
from keyholder.identity import service as identity
from keyholder.identity.actor import Actor
from keyholder.web.deps import SESSION_COOKIE
from keyholder.web.problems import error_headers
from keyholder.web.redaction import redact
from keyholder.web.request_log import note_actor
from keyholder.web.ui import csrf
from keyholder.web.ui.times import when
from keyholder.when import long_utc

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
)
PAGE_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
}

_environment = jinja2.Environment(
    loader=jinja2.FileSystemLoader(HERE / "templates"),
    autoescape=True,  # every value is HTML-escaped unless a template says otherwise
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def as_sentence(text: str) -> str:
    """A service's error detail ("the link has expired") as a sentence for a page."""
    text = text.strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text[-1] in ".!?" else text + "."


_environment.filters["sentence"] = as_sentence
_environment.filters["long_utc"] = long_utc
_environment.filters["when"] = when


class SignInRequired(Exception):
    """Raised by ``require_actor``: the page needs a signed-in user."""


class EnrolMfaFirst(Exception):
    """Raised for staff without MFA on a staff page: they enrol before acting (S18)."""


class EnrolPasskeyFirst(Exception):
    """Raised for staff on a staff page whose sign-in was not with a passkey while the
    policy asks for one: they add one (or sign in with it) before acting."""


class ShowPage(Exception):
    """Raised with a finished page (a form shown again with its error): the route's answer."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


def page_actor(request: Request) -> Actor | None:
    """The signed-in (and, with MFA, verified) user of this browser, or None.

    Unlike the API, a stale session cookie is not an error on a page: the
    visitor is simply not signed in.
    """
    if not hasattr(request.state, "ui_actor"):
        cookie = request.cookies.get(SESSION_COOKIE)
        actor = None
        if cookie:
            runtime = request.app.state.runtime
            actor = identity.authenticate_session(runtime.uow(read_only=True), cookie)
            note_actor(request.scope, actor.user_id if actor else None)
        request.state.ui_actor = actor
    found: Actor | None = request.state.ui_actor
    return found


def require_actor(request: Request) -> Actor:
    actor = page_actor(request)
    if actor is None:
        raise SignInRequired
    return actor


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    """Render ``template`` with the signed-in user and a CSRF token for its forms."""
    runtime = request.app.state.runtime
    settings = runtime.settings
    token, new_cookie = csrf.issue_token(request, settings.secret)
    values = {
        "request": request,
        "actor": page_actor(request),
        "csrf_token": token,
        "development": settings.is_development,
        **(context or {}),
    }
    body = _environment.get_template(template).render(values)
    response = HTMLResponse(body, status_code=status_code, headers=dict(headers or {}))
    if new_cookie is not None:
        response.set_cookie(
            csrf.CSRF_COOKIE,
            new_cookie,
            httponly=True,
            secure=not settings.is_development,
            samesite="lax",
            path="/",
        )
    return response


def redirect(url: str) -> RedirectResponse:
    """303 See Other: after a form post the browser GETs the next page."""
    return RedirectResponse(url, status_code=303)


def local_path(candidate: str | None, default: str = "/accounts") -> str:
    """``candidate`` if it is a path on this site, else ``default`` (no open redirect)."""
    if (
        candidate
        and candidate.startswith("/")
        and not candidate.startswith(("//", "/\\"))
        and all(ch.isprintable() and ch != "\\" for ch in candidate)
    ):
        return candidate
    return default


def error_page(request: Request, exc: KeyholderError) -> HTMLResponse:
    headers = error_headers(exc)
    if exc.status_code >= 500:
        log.error("%s: %s", type(exc).__name__, exc.detail)
    return render(
        request,
        "error.html",
        {"title": exc.title, "detail": exc.detail, "status": exc.status_code},
        status_code=exc.status_code,
        headers=headers,
    )


def _not_found(request: Request) -> HTMLResponse:
    return render(
        request,
        "error.html",
        {"title": "Not found", "detail": "There is no page at this address.", "status": 404},
        status_code=404,
    )


def not_found_page(request: Request) -> HTMLResponse:
    """The 404 page for an address no route knows, with every page's headers."""
    response = _not_found(request)
    for name, value in PAGE_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


class PageRoute(APIRoute):
    """A page route: security headers on every answer, errors as pages, never JSON."""

    referrer_policy = "same-origin"

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        referrer_policy = self.referrer_policy

        async def page_handler(request: Request) -> Response:
            try:
                response = await handler(request)
            except SignInRequired:
                # Back to this page after signing in; a form post goes to the default page.
                target = f"?next={quote(request.url.path, safe='/')}"
                response = redirect(f"/login{target if request.method == 'GET' else ''}")
            except EnrolMfaFirst:
                response = redirect("/account/security?staff=1")
            except EnrolPasskeyFirst:
                response = redirect("/account/security#passkeys")
            except ShowPage as shown:
                response = shown.response
            except KeyholderError as exc:
                response = error_page(request, exc)
            except RequestValidationError:
                # A malformed id in the address: for a person, that page does not exist.
                response = _not_found(request)
            except HTTPException as exc:
                if exc.status_code == 404:
                    response = _not_found(request)
                else:
                    raise
            except Exception:
                log.exception("unhandled error on %s %s", request.method, redact(request.url.path))
                response = render(
                    request,
                    "error.html",
                    {
                        "title": "Something went wrong",
                        "detail": "Something went wrong on our side. Please try again.",
                        "status": 500,
                    },
                    status_code=500,
                )
            for name, value in PAGE_HEADERS.items():
                response.headers.setdefault(name, value)
            response.headers["Referrer-Policy"] = referrer_policy
            return response

        return page_handler


class TokenPageRoute(PageRoute):
    """A page whose address holds a one-time token: no Referer leaves it (S4)."""

    referrer_policy = "no-referrer"
