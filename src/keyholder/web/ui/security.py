"""The signed-in user's security page and invitations.

MFA and recovery codes, passkeys (added by ``static/passkeys.js`` through
``/api/passkeys``; renamed and removed here), email verification and change,
logging out everywhere: the same use cases as ``/api/mfa``, ``/api/email-verifications``,
``/api/email-changes``, ``DELETE /api/sessions`` and
``/api/invitations/{token}/accept``. Pages showing a TOTP secret or recovery
codes are never cached (every page is ``no-store``).
"""

from __future__ import annotations

import uuid
from contextlib import AbstractContextManager
from urllib.parse import quote

import segno
from fastapi import APIRouter, Request, Response

from keyholder.accounts import invitations
from keyholder.accounts.permissions import ADMIN_PERMISSION
from keyholder.accounts.policy import held_back_by_passkey_policy
from keyholder.errors import NotAuthenticated
from keyholder.identity import mfa, passkeys, sessions, verification
from keyholder.identity import service as identity
from keyholder.identity.actor import Actor
from keyholder.web.deps import SESSION_COOKIE
from keyholder.web.ui.forms import (
    CSRF_CHECKED,
    CheckedForm,
    FormError,
    MaybeActor,
    SignedIn,
    field,
    form_errors,
    runtime_of,
    uow_for,
)
from keyholder.web.ui.rendering import PageRoute, TokenPageRoute, redirect, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)
token_router = APIRouter(route_class=TokenPageRoute, include_in_schema=False)

NOTICES = {
    "verification-sent": "A confirmation link is on its way to your address.",
    "mfa-off": "Multi-factor authentication is off.",
    "email-change-sent": "We sent a link to the new address: your address changes once it is "
    "opened there. We also told your current address.",
    "signed-out-elsewhere": "Every other session and API token of yours has ended; "
    "this browser stays signed in.",
    "passkey-added": "Your passkey is added. You can sign in with it from now on.",
    "passkey-renamed": "The passkey is renamed.",
    "passkey-removed": "The passkey is removed: it no longer signs in, and every other "
    "session and API token of yours has ended.",
    "stepped-up": "This session is now signed in with a passkey.",
}


def _security_page(
    request: Request, actor: Actor, *, error: str = "", status: int = 200, notice: str = ""
) -> Response:
    user = identity.get_user(uow_for(request, read_only=True), actor)
    keys = passkeys.list_passkeys(uow_for(request, read_only=True), actor=actor)
    context = {
        "title": "Sign-in and security",
        "user": user,
        "error": error,
        "notice": NOTICES.get(notice, ""),
        "staff_needs_mfa": user.staff_role is not None and user.second_factor_since is None,
        "passkeys": keys,
        # The policy asks staff and admins for a passkey sign-in this one is not.
        "needs_passkey_sign_in": held_back_by_passkey_policy(
            uow_for(request, read_only=True), actor=actor
        ),
        "staff": user.staff_role is not None,
    }
    return render(request, "security.html", context, status_code=status)


def _refused(request: Request, actor: Actor) -> AbstractContextManager[None]:
    """The security page again, with the service's message."""

    def show(refusal: FormError) -> Response:
        return _security_page(request, actor, error=refusal.detail, status=refusal.status)

    return form_errors(show)


@router.get("/account/security")
def security_page(request: Request, actor: SignedIn, notice: str = "") -> Response:
    return _security_page(request, actor, notice=notice)


@router.post("/account/email-verification", dependencies=[CSRF_CHECKED])
def send_verification(request: Request, actor: SignedIn) -> Response:
    with _refused(request, actor):
        verification.send_verification(uow_for(request), actor=actor)
    return redirect("/account/security?notice=verification-sent")


def _enrolment_page(
    request: Request, secret: str, uri: str, *, error: str = "", status: int = 200
) -> Response:
    context = {
        "title": "Set up multi-factor authentication",
        "secret": secret,
        "otpauth_uri": uri,
        "qr_svg": segno.make(uri, error="m").svg_inline(scale=4, title="QR code to scan"),
        "error": error,
    }
    return render(request, "mfa_enrol.html", context, status_code=status)


@router.post("/account/mfa/enrolment")
async def begin_enrolment(request: Request, actor: SignedIn, form: CheckedForm) -> Response:
    uow = uow_for(request)
    with _refused(request, actor):
        # The password check is argon2: on the bounded hashing pool, as in the API (S16).
        enrolment = await runtime_of(request).hashing.run(
            mfa.begin_mfa_enrolment,
            uow,
            actor=actor,
            password=field(form, "password"),
            limiter=runtime_of(request).rate_limiter,
            hasher=runtime_of(request).password_hasher,
        )
    return _enrolment_page(request, enrolment.secret, enrolment.otpauth_uri)


@router.post("/account/mfa/enrolment/confirm")
def confirm_enrolment(request: Request, actor: SignedIn, form: CheckedForm) -> Response:
    def show(refusal: FormError) -> Response:
        # Show the same secret again (it came with the form, from the page we showed).
        secret, uri = field(form, "secret"), field(form, "otpauth_uri")
        if not uri.startswith("otpauth://totp/"):
            return _security_page(request, actor, error=refusal.detail, status=refusal.status)
        return _enrolment_page(request, secret, uri, error=refusal.detail, status=refusal.status)

    with form_errors(show):
        codes = mfa.confirm_mfa_enrolment(
            uow_for(request),
            field(form, "code"),
            actor=actor,
            session_token=request.cookies.get(SESSION_COOKIE),
            limiter=runtime_of(request).rate_limiter,
        )
    return render(
        request,
        "recovery_codes.html",
        {
            "title": "Your recovery codes",
            "codes": codes,
            "enrolled": True,
            # Staff enrolled to work the desk (S18): that is where they go next.
            "done_url": "/desk" if actor.staff_role is not None else "/accounts",
        },
    )


@router.post("/account/mfa/recovery-codes")
async def new_recovery_codes(request: Request, actor: SignedIn, form: CheckedForm) -> Response:
    uow = uow_for(request)
    with _refused(request, actor):
        codes = await runtime_of(request).hashing.run(
            mfa.regenerate_recovery_codes,
            uow,
            actor=actor,
            password=field(form, "password"),
            limiter=runtime_of(request).rate_limiter,
            hasher=runtime_of(request).password_hasher,
        )
    context = {"title": "Your new recovery codes", "codes": codes, "enrolled": False}
    return render(request, "recovery_codes.html", context)


@router.post("/account/mfa/disable")
async def disable_mfa(request: Request, actor: SignedIn, form: CheckedForm) -> Response:
    uow = uow_for(request)
    with _refused(request, actor):
        await runtime_of(request).hashing.run(
            mfa.disable_mfa,
            uow,
            actor=actor,
            password=field(form, "password"),
            code=field(form, "code"),
            limiter=runtime_of(request).rate_limiter,
            hasher=runtime_of(request).password_hasher,
        )
    return redirect("/account/security?notice=mfa-off")


@router.post("/account/passkeys/{passkey_id}/rename")
def rename_passkey(
    request: Request, passkey_id: uuid.UUID, actor: SignedIn, form: CheckedForm
) -> Response:
    with _refused(request, actor):
        passkeys.rename_passkey(uow_for(request), passkey_id, field(form, "name"), actor=actor)
    return redirect("/account/security?notice=passkey-renamed#passkeys")


@router.post("/account/passkeys/{passkey_id}/remove")
async def remove_passkey(
    request: Request, passkey_id: uuid.UUID, actor: SignedIn, form: CheckedForm
) -> Response:
    uow = uow_for(request)
    with _refused(request, actor):
        # Checks the password: on the bounded hashing pool, as sign-in is (S16).
        await runtime_of(request).hashing.run(
            passkeys.remove_passkey,
            uow,
            passkey_id,
            actor=actor,
            password=field(form, "password"),
            current_session_token=request.cookies.get(SESSION_COOKIE),
            limiter=runtime_of(request).rate_limiter,
            hasher=runtime_of(request).password_hasher,
        )
    return redirect("/account/security?notice=passkey-removed#passkeys")


@router.post("/account/email-change")
async def request_email_change(request: Request, actor: SignedIn, form: CheckedForm) -> Response:
    uow = uow_for(request)
    with _refused(request, actor):
        # Checks the password: on the bounded hashing pool, as sign-in is (S16).
        await runtime_of(request).hashing.run(
            verification.request_email_change,
            uow,
            field(form, "email"),
            actor=actor,
            password=field(form, "password"),
            limiter=runtime_of(request).rate_limiter,
            hasher=runtime_of(request).password_hasher,
        )
    return redirect("/account/security?notice=email-change-sent")


@router.post("/account/sessions/end")
def end_sessions(request: Request, actor: SignedIn, form: CheckedForm) -> Response:
    """Log out everywhere (S14), or everywhere but this browser."""
    keep_this_one = field(form, "keep") == "this-browser"
    current = request.cookies.get(SESSION_COOKIE) if keep_this_one else None
    sessions.log_out_everywhere(uow_for(request), actor=actor, current_session_token=current)
    if keep_this_one:
        return redirect("/account/security?notice=signed-out-elsewhere")
    response = redirect("/?signed_out=1")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


# --- invitations -------------------------------------------------------------


def _invitation_page(
    request: Request, token: str, actor: Actor | None, *, error: str = "", status: int = 200
) -> Response:
    context = {
        "title": "Your invitation",
        "token": token,
        "error": error,
        "sign_in": f"/login?next={quote(f'/invitations/{token}', safe='/')}",
        "signed_in_as": actor.email if actor else None,
    }
    return render(request, "invitation.html", context, status_code=status)


@token_router.get("/invitations/{token}")
def invitation_page(request: Request, token: str, actor: MaybeActor) -> Response:
    return _invitation_page(request, token, actor)


@token_router.post("/invitations/{token}")
async def accept_invitation(
    request: Request, token: str, actor: MaybeActor, form: CheckedForm
) -> Response:
    password = field(form, "password") if actor is None else None
    if password is not None and password != field(form, "password_again"):
        error = "The two passwords differ. Type the same password twice."
        return _invitation_page(request, token, actor, error=error, status=422)

    def sign_in_first(refusal: FormError) -> Response:
        return _invitation_page(request, token, actor, error=refusal.detail, status=refusal.status)

    def dead(refusal: FormError) -> Response:
        context = {
            "title": "This invitation does not work",
            "detail": refusal.detail,
            "reset": False,
        }
        return render(request, "link_dead.html", context, status_code=refusal.status)

    uow = uow_for(request)
    with form_errors(dead), form_errors(sign_in_first, only=(NotAuthenticated,)):
        # A new user's password is hashed in the use case: on the hashing pool (S16).
        membership = await runtime_of(request).hashing.run(
            invitations.accept_invitation,
            uow,
            token,
            actor=actor,
            name=field(form, "name"),
            password=password or None,
            hasher=runtime_of(request).password_hasher,
        )
    account = membership.account
    must_sign_in = actor is None or ADMIN_PERMISSION in membership.permissions
    message = f"You are now a member of {account.display_name} ({account.name})."
    if must_sign_in:
        message += " Sign in to continue."
        link = (f"/login?next=/accounts/{account.name}", "Sign in")
    else:
        link = (f"/accounts/{account.name}", f"Open {account.display_name}")
    return render(request, "message.html", {"title": "Welcome", "message": message, "link": link})
