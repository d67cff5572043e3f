"""CSRF tokens for the web UI's forms (SECURITY.md S19).

Every state-changing form carries a ``csrf_token`` field, made and checked by
``keyholder.web.csrf`` (the same token the API takes in ``X-CSRF-Token``,
S38). A post that fails the check is answered with a 403 page.
"""

from __future__ import annotations

from fastapi import Request

from keyholder.errors import PermissionDenied
from keyholder.web.csrf import CSRF_COOKIE, CSRF_FIELD, issue_token, token_is_valid

__all__ = ["CSRF_COOKIE", "CSRF_FIELD", "CsrfRefused", "check_token", "issue_token"]


class CsrfRefused(PermissionDenied):
    """A form post without a valid CSRF token: answered with a 403 page."""

    title = "Form expired"


def check_token(request: Request, secret: bytes, submitted: object) -> None:
    """Raise ``CsrfRefused`` unless ``submitted`` is this browser's token."""
    if request.headers.get("sec-fetch-site") == "cross-site":
        raise CsrfRefused("this form was sent from another site, so it was refused")
    if not token_is_valid(request, secret, submitted):
        raise CsrfRefused(
            "this form has expired or did not come from this site. Go back, reload the "
            "page and try again."
        )
