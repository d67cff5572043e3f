"""CSRF tokens for the web UI's forms (SECURITY.md S19).

Every state-changing form carries a ``csrf_token`` field: an HMAC (keyed with
``settings.secret``) of what the browser holds. For a signed-in browser that is
its session cookie, so a token dies with the session; for an anonymous one it
is a random ``keyholder_csrf`` cookie set with the form (double submit). A
cross-site page can read neither cookie, so it cannot compute the token.
Browsers that say a POST comes from another site (``Sec-Fetch-Site:
cross-site``) are refused outright.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from fastapi import Request

from keyholder.errors import PermissionDenied
from keyholder.web.deps import SESSION_COOKIE

CSRF_COOKIE = "keyholder_csrf"
CSRF_FIELD = "csrf_token"


class CsrfRefused(PermissionDenied):
    """A form post without a valid CSRF token: answered with a 403 page."""

    title = "Form expired"


def _binding(request: Request, anonymous_value: str | None) -> str | None:
    session = request.cookies.get(SESSION_COOKIE)
    if session:
        return "s:" + hashlib.sha256(session.encode()).hexdigest()
    if anonymous_value:
        return "a:" + anonymous_value
    return None


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


def check_token(request: Request, secret: bytes, submitted: object) -> None:
    """Raise ``CsrfRefused`` unless ``submitted`` is this browser's token."""
    if request.headers.get("sec-fetch-site") == "cross-site":
        raise CsrfRefused("this form was sent from another site, so it was refused")
    binding = _binding(request, request.cookies.get(CSRF_COOKIE))
    if (
        binding is None
        or not isinstance(submitted, str)
        or not hmac.compare_digest(_sign(secret, binding), submitted)
    ):
        raise CsrfRefused(
            "this form has expired or did not come from this site. Go back, reload the "
            "page and try again."
        )
