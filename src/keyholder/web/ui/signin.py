"""Sign-in pages: log in (with the second factor), log out, reset a password, verify an email.

Passkeys sign in through the JSON API (``static/passkeys.js``): the sign-in
page offers "Sign in with a passkey" (passwordless) and the second-factor page
a passkey beside the code, for users who have one.

The same use cases as ``/api/session``, ``/api/session/mfa``,
``/api/password-resets`` and ``/api/email-verifications``. Pages reached by a
link with a one-time token show a button; only the form post spends the token
(mail scanners fetch links, S4).
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request, Response

from keyholder.errors import (
    Conflict,
    InvalidInput,
    NotAuthenticated,
    ServiceUnavailable,
    TooManyRequests,
)
from keyholder.identity import mfa, passkey_sign_in, reset, verification
from keyholder.identity import service as identity
from keyholder.web.api.password_resets import ACCEPTED
from keyholder.web.deps import SESSION_COOKIE, set_session_cookie
from keyholder.web.disconnect import unless_disconnected
from keyholder.web.ui.forms import (
    CSRF_CHECKED,
    CheckedForm,
    FormError,
    MaybeActor,
    field,
    form_errors,
    link_errors,
    runtime_of,
    uow_for,
)
from keyholder.web.ui.rendering import (
    PageRoute,
    TokenPageRoute,
    local_path,
    redirect,
    render,
)

router = APIRouter(route_class=PageRoute, include_in_schema=False)
token_router = APIRouter(route_class=TokenPageRoute, include_in_schema=False)

WRONG_PASSWORD = "The email or password is wrong."  # noqa: S105 - a message


def _wait(seconds: int) -> str:
    if seconds < 90:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = (seconds + 59) // 60
    return f"{minutes} minutes"


def _login_form(
    request: Request, *, email: str = "", next_page: str = "", error: str = "", status: int = 200
) -> Response:
    context = {"email": email, "next": next_page, "error": error, "title": "Sign in"}
    return render(request, "login.html", context, status_code=status)


@router.get("/login")
def login_page(request: Request, actor: MaybeActor, next: str = "") -> Response:
    if actor is not None:
        return redirect(local_path(next))
    # No ``next``: none in the form either, so staff get the desk and customers their accounts.
    return _login_form(request, next_page=local_path(next) if next else "")


@router.post("/login")
async def log_in(request: Request, form: CheckedForm) -> Response:
    email, wanted = field(form, "email"), field(form, "next")
    next_page = local_path(wanted) if wanted else ""  # none: each lands on their own home
    uow = uow_for(request)
    try:
        # Limits, then the bounded hashing pool, like the API (S16, S40).
        signed_in = await unless_disconnected(
            request,
            identity.log_in_on_pool(
                uow,
                email,
                field(form, "password"),
                client_address=uow.context.client_address,
                replaces=request.cookies.get(SESSION_COOKIE),  # S15
                limiter=runtime_of(request).rate_limiter,
                hashing=runtime_of(request).hashing,
            ),
        )
    except (TooManyRequests, ServiceUnavailable) as exc:
        seconds = exc.retry_after or (60 if isinstance(exc, TooManyRequests) else 10)
        if isinstance(exc, TooManyRequests):
            message = (
                f"Too many sign-in attempts. Try again in {_wait(seconds)}, or reset your password."
            )
        else:  # the hashing queue is full (S40)
            message = f"Signing in is very busy right now. Try again in {_wait(seconds)}."
        response = _login_form(
            request, email=email, next_page=next_page, error=message, status=exc.status_code
        )
        response.headers["Retry-After"] = str(seconds)
        return response
    except NotAuthenticated:
        # The same message for an unknown email and a wrong password.
        return _login_form(
            request, email=email, next_page=next_page, error=WRONG_PASSWORD, status=401
        )
    user = signed_in.user
    # Staff work at the desk, customers on their accounts, unless a link took them elsewhere.
    next_page = local_path(wanted, default="/desk" if user.staff_role is not None else "/accounts")
    if user.second_factor_since is not None:  # TOTP or passkeys
        target = f"/login/mfa?next={quote(next_page, safe='/')}"
    elif user.staff_role is not None:
        target = "/account/security?staff=1"  # S18: staff enrol MFA before acting
    else:
        target = next_page
    response = redirect(target)
    set_session_cookie(request, response, signed_in.session_token)
    return response


def _mfa_page(
    request: Request, token: str, next_page: str, *, error: str = "", status: int = 200
) -> Response:
    """The second-factor page, offering the factors this session's user has."""
    factors = passkey_sign_in.pending_factors(uow_for(request, read_only=True), token)
    context = {
        "next": next_page,
        "error": error,
        "title": "Second factor",
        "totp": factors.totp,
        "passkeys": factors.passkeys,
    }
    return render(request, "login_mfa.html", context, status_code=status)


@router.get("/login/mfa")
def mfa_page(request: Request, next: str = "") -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return redirect("/login")
    return _mfa_page(request, token, local_path(next))


@router.post("/login/mfa")
def verify_mfa(request: Request, form: CheckedForm) -> Response:
    next_page = local_path(field(form, "next"))
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return redirect("/login")

    def show(refusal: FormError) -> Response:
        return _mfa_page(request, token, next_page, error=refusal.detail, status=refusal.status)

    try:
        with form_errors(show, as_error_page=(Conflict,)):
            verified = mfa.verify_second_factor(
                uow_for(request),
                token,
                field(form, "code"),
                limiter=runtime_of(request).rate_limiter,
            )
    except Conflict:
        return redirect(next_page)  # no second factor to verify
    response = redirect(next_page)
    set_session_cookie(request, response, verified)  # a new id once verified (S15)
    return response


@router.post("/logout", dependencies=[CSRF_CHECKED])
def log_out(request: Request) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        identity.log_out(uow_for(request), token)
    response = redirect("/?signed_out=1")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/password-reset")
def password_reset_page(request: Request) -> Response:
    return render(request, "password_reset.html", {"sent": False, "title": "Reset your password"})


@router.post("/password-reset")
def request_password_reset(request: Request, form: CheckedForm) -> Response:
    # The same page for every address (S1): nothing here depends on it.
    reset.request_password_reset(
        uow_for(request), field(form, "email"), limiter=runtime_of(request).rate_limiter
    )
    context = {"sent": True, "message": ACCEPTED["detail"], "title": "Check your email"}
    return render(request, "password_reset.html", context)


@token_router.get("/reset/{token}")
def set_password_page(request: Request, token: str) -> Response:
    return render(request, "reset.html", {"token": token, "error": "", "title": "New password"})


@token_router.post("/reset/{token}")
async def set_password(request: Request, token: str, form: CheckedForm) -> Response:
    def again(refusal: FormError) -> Response:
        context = {"token": token, "error": refusal.detail, "title": "New password"}
        return render(request, "reset.html", context, status_code=refusal.status)

    def dead(refusal: FormError) -> Response:
        context = {"title": "This link does not work", "detail": refusal.detail, "reset": True}
        return render(request, "link_dead.html", context, status_code=refusal.status)

    password = field(form, "password")
    if password != field(form, "password_again"):
        return again(FormError("The two passwords differ. Type the same new password twice.", 422))
    uow = uow_for(request)
    # A refused password shows the form again: the link still works.
    with form_errors(dead), form_errors(again, only=(InvalidInput,)):
        await runtime_of(request).hashing.run(
            reset.reset_password, uow, token, password, hasher=runtime_of(request).password_hasher
        )
    context = {
        "title": "Password changed",
        "message": "Your password is changed and every session you had is signed out. "
        "Sign in with the new password.",
        "link": ("/login", "Sign in"),
    }
    return render(request, "message.html", context)


_EMAIL_LINKS = {
    "verify-email": (
        "Confirm your email address",
        "Press the button to confirm that this address is yours.",
        verification.verify_email,
        "Your email address is confirmed.",
    ),
    "confirm-email-change": (
        "Confirm your new email address",
        "Press the button to make this address the one you sign in with.",
        verification.confirm_email_change,
        "Your email address is changed. Sign in with the new address from now on.",
    ),
}


def _email_link_page(request: Request, kind: str) -> Response:
    title, explanation, _, _ = _EMAIL_LINKS[kind]
    context = {"title": title, "explanation": explanation, "buttons": [("", "Confirm")]}
    return render(request, "link_confirm.html", context)


def _use_email_link(request: Request, kind: str, token: str) -> Response:
    title, _, use_case, done = _EMAIL_LINKS[kind]
    with link_errors(request):
        use_case(uow_for(request), token)
    return render(request, "message.html", {"title": title, "message": done, "link": ("/", "Home")})


@token_router.get("/verify-email/{token}")
def verify_email_page(request: Request) -> Response:
    return _email_link_page(request, "verify-email")


@token_router.post("/verify-email/{token}", dependencies=[CSRF_CHECKED])
def verify_email(request: Request, token: str) -> Response:
    return _use_email_link(request, "verify-email", token)


@token_router.get("/confirm-email-change/{token}")
def email_change_page(request: Request) -> Response:
    return _email_link_page(request, "confirm-email-change")


@token_router.post("/confirm-email-change/{token}", dependencies=[CSRF_CHECKED])
def confirm_email_change(request: Request, token: str) -> Response:
    return _use_email_link(request, "confirm-email-change", token)
