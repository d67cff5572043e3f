"""CSRF defences: the token of the web UI's forms (S19) and the API's guard (S38).

The token. An HMAC (keyed with ``settings.secret``) of what the browser holds.
For a signed-in browser that is its session cookie, so a token dies with the
session; for an anonymous one it is a random ``keyholder_csrf`` cookie set with
the form (double submit). A page of another origin can read neither cookie, so
it cannot compute the token. Forms send it in their ``csrf_token`` field
(``ui/csrf.py``); API calls in the ``X-CSRF-Token`` header (``GET /api/session``
and ``POST /api/session`` give it).

The API guard. A browser sends the session cookie with every request to our
host, also those a page on another origin of the same site (another port, a
sibling subdomain) makes it send: SameSite=Lax only stops cross-site ones.
Without a CORS preflight, which Keyholder never grants, such a page can send a
form, multipart or ``text/plain`` body (or none), and no header of its own.
``ApiRequestGuard`` therefore checks every state-changing request (any method
but GET, HEAD and OPTIONS) under ``/api``, before any route reads it:

1. Another origin → 403, for every request without an ``Authorization``
   header (a cross-origin page cannot add one): ``Sec-Fetch-Site`` other than
   ``same-origin`` or ``none``, or an ``Origin`` that is neither the configured
   base URL's origin nor the request's own. This also keeps another origin from
   signing a browser in to an account of its choosing (login CSRF). Requests
   without these headers (scripts, the CLI) are not browsers' and pass.
2. Session cookie without ``Authorization`` (so the cookie authenticates, as
   ``deps._authenticate`` decides) and a ``Content-Type`` that is not JSON →
   the ``X-CSRF-Token`` header must hold the session's token, else 403.
3. A body that is not JSON (``application/json``, ``application/*+json``), or
   ``multipart/form-data`` where the route takes files (as its OpenAPI
   request body says), → 415, whoever sends it. JSON cannot come from another
   origin without a preflight, so a JSON call with the cookie and no Origin
   (a script keeping cookies) works as before.

Behind a reverse proxy the request's own origin is what the proxy forwarded
(often ``http`` and an internal host), so the base URL is the origin browsers
send; the request's own origin serves direct access (development, tests). The
two can only match a page of the same scheme, host and port as the API, as the
browser writes both ``Origin`` and ``Host``; ``Sec-Fetch-Site``, computed by
the browser itself, also refuses an ``http`` page of our host.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from email.message import Message
from urllib.parse import urlsplit

from fastapi import Request
from fastapi.routing import APIRoute, iter_route_contexts
from starlette.types import ASGIApp, Receive, Scope, Send

from keyholder.config import Settings
from keyholder.errors import KeyholderError, PermissionDenied, UnsupportedMediaType
from keyholder.web.deps import SESSION_COOKIE
from keyholder.web.problems import problem

CSRF_COOKIE = "keyholder_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SAME_ORIGIN_FETCHES = frozenset({"same-origin", "none"})
_DEFAULT_PORTS = {"http": "80", "https": "443"}


# ---------------------------------------------------------------- the token


def _binding(request: Request, anonymous_value: str | None) -> str | None:
    session = request.cookies.get(SESSION_COOKIE)
    if session:
        return _session_binding(session)
    if anonymous_value:
        return "a:" + anonymous_value
    return None


def _session_binding(session: str) -> str:
    return "s:" + hashlib.sha256(session.encode()).hexdigest()


def _sign(secret: bytes, binding: str) -> str:
    mac = hmac.new(secret, b"keyholder-csrf|" + binding.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def issue_token(request: Request, secret: bytes) -> tuple[str, str | None]:
    """The token for forms on this page, and a new anonymous cookie value to set (or None)."""
    new_cookie = None
    anonymous = request.cookies.get(CSRF_COOKIE)
    if not request.cookies.get(SESSION_COOKIE) and not anonymous:
        new_cookie = anonymous = secrets.token_urlsafe(32)
    binding = _binding(request, anonymous)
    assert binding is not None
    return _sign(secret, binding), new_cookie


def session_token(secret: bytes, session: str) -> str:
    """The token of the browser holding the session cookie ``session``."""
    return _sign(secret, _session_binding(session))


def token_is_valid(request: Request, secret: bytes, submitted: object) -> bool:
    """Whether ``submitted`` is the token of the browser that sent ``request``."""
    binding = _binding(request, request.cookies.get(CSRF_COOKIE))
    return (
        binding is not None
        and isinstance(submitted, str)
        # As bytes: compare_digest raises on a non-ASCII str, and a header or field
        # may hold anything (a 500 otherwise, S39).
        and hmac.compare_digest(_sign(secret, binding).encode(), submitted.encode(errors="replace"))
    )


def cookie_authenticated(request: Request) -> bool:
    """Whether the session cookie authenticates ``request``: there is no Authorization
    header, which would take precedence (``deps._authenticate``)."""
    return not request.headers.get("authorization") and bool(request.cookies.get(SESSION_COOKIE))


def api_token(request: Request, secret: bytes) -> str | None:
    """The ``X-CSRF-Token`` a cookie-authenticated client sends; None for a bearer token."""
    session = request.cookies.get(SESSION_COOKIE)
    return session_token(secret, session) if session and cookie_authenticated(request) else None


# ---------------------------------------------------------------- the API guard


class ApiRequestRefused(PermissionDenied):
    """A state-changing API request that a page of another origin may have sent."""

    title = "Cross-origin request refused"


def media_type(request: Request) -> str | None:
    """The body's media type, lower case without parameters; None when not given."""
    header = request.headers.get("content-type")
    if not header:
        return None
    message = Message()
    message["content-type"] = header
    return message.get_content_type()


def is_json(media: str | None) -> bool:
    """``application/json`` or ``application/<anything>+json`` (as FastAPI reads JSON)."""
    if media is None:
        return False
    kind, _, subtype = media.partition("/")
    return kind == "application" and (subtype == "json" or subtype.endswith("+json"))


def _origin(scheme: str, netloc: str) -> str:
    host = netloc.lower().rpartition("@")[2]  # no user info
    port = ""
    if ":" in host and not host.endswith("]"):  # "[::1]" alone has no port
        host, _, port = host.rpartition(":")
    if port == _DEFAULT_PORTS.get(scheme):
        port = ""  # browsers leave the default port out of Origin
    return f"{scheme}://{host}" + (f":{port}" if port else "")


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` of ``url``, as a browser writes it in ``Origin``."""
    parts = urlsplit(url)
    return _origin(parts.scheme.lower(), parts.netloc)


def _has_body(request: Request) -> bool:
    length = request.headers.get("content-length")
    return bool(request.headers.get("transfer-encoding")) or (
        length is not None and length.strip() != "0"
    )


def _accepted_media_types(scope: Scope) -> set[str] | None:
    """What the route ``scope`` goes to reads, from its OpenAPI request body; None
    when no route takes it (the app answers 404 or 405 as for any request)."""
    path = _route_path(scope)
    for route in iter_route_contexts(scope["app"].routes):
        regex = getattr(route, "path_regex", None)
        if regex is None or not regex.match(path) or scope["method"] not in (route.methods or ()):
            continue
        if not isinstance(route.original_route, APIRoute):
            return None
        declared = (route.openapi_extra or {}).get("requestBody", {}).get("content", {})
        accepted = set(declared)
        if route.body_field is not None:
            accepted.add("application/json")
        return accepted
    return None


class ApiRequestGuard:
    """ASGI middleware refusing what a page of another origin can make a browser send
    to the API (the rules are in this module's docstring)."""

    def __init__(self, app: ASGIApp, *, settings: Settings) -> None:
        self.app = app
        self.secret = settings.secret
        self.base_origin = origin_of(settings.base_url)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] not in SAFE_METHODS and _is_api(scope):
            request = Request(scope)
            try:
                self.check(request)
            except KeyholderError as refusal:
                answer = problem(request, refusal.status_code, refusal.title, refusal.detail)
                await answer(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def check(self, request: Request) -> None:
        media = media_type(request)
        if not request.headers.get("authorization"):
            self._check_origin(request)
        if cookie_authenticated(request) and media is not None and not is_json(media):
            submitted = request.headers.get(CSRF_HEADER)
            if not token_is_valid(request, self.secret, submitted):
                raise ApiRequestRefused(
                    f"a signed-in browser sends a {media} body only with the "
                    f"{CSRF_HEADER} header that GET /api/session gives; "
                    "send JSON as application/json, or add the header"
                )
        if _has_body(request) and not is_json(media):
            accepted = _accepted_media_types(request.scope)
            if accepted is not None and media not in accepted:
                raise UnsupportedMediaType(
                    "send the body as " + " or ".join(sorted(accepted))
                    if accepted
                    else "this route reads no body: send none"
                )

    def _check_origin(self, request: Request) -> None:
        fetch_site = request.headers.get("sec-fetch-site")
        if fetch_site is not None and fetch_site not in SAME_ORIGIN_FETCHES:
            raise ApiRequestRefused(
                f"the browser says this request came from another origin ({fetch_site})"
            )
        origin = request.headers.get("origin")
        if origin is not None and origin.lower() not in self._own_origins(request):
            raise ApiRequestRefused("this request came from another origin (Origin header)")

    def _own_origins(self, request: Request) -> tuple[str, str]:
        host = request.headers.get("host", "")
        return self.base_origin, _origin(request.url.scheme, host)


def _route_path(scope: Scope) -> str:
    # The path routes see: without the root path a proxy may mount the app under.
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path


def _is_api(scope: Scope) -> bool:
    path = _route_path(scope)
    return path == "/api" or path.startswith("/api/")
