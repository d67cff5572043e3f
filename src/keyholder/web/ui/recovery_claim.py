"""The "Redeem a recovery code" page: a signed-in user claims admin access with a code.

The same use case as ``POST /api/enterprise-accounts/{name}/recovery-claims``
(``access.recovery_claims``); a refusal (wrong code, throttled, an admin who
can act...) shows the form again with the service's message and status.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from keyholder.access.recovery_claims import redeem_recovery_code
from keyholder.web.deps import UoW
from keyholder.web.ui.forms import CheckedForm, FormError, SignedIn, field, form_errors, runtime_of
from keyholder.web.ui.portal import account_hint
from keyholder.web.ui.rendering import PageRoute, render

router = APIRouter(prefix="/help/no-admin", route_class=PageRoute, include_in_schema=False)


def _form(
    request: Request, account: str, *, reason: str = "", error: str = "", status: int = 200
) -> Response:
    context = {
        "title": "Redeem a recovery code",
        "account": account,
        "reason": reason,
        "error": error,
    }
    return render(request, "recovery_claim_form.html", context, status_code=status)


@router.get("/recovery-code")
def claim_form(request: Request, actor: SignedIn, account: str = "") -> Response:
    del actor  # signed in only: the claim is made by a signed-in user
    return _form(request, account_hint(account))


@router.post("/recovery-code")
def claim(request: Request, actor: SignedIn, uow: UoW, form: CheckedForm) -> Response:
    account, reason = field(form, "account").strip(), field(form, "reason")

    def show(refusal: FormError) -> Response:
        return _form(request, account, reason=reason, error=refusal.detail, status=refusal.status)

    with form_errors(show):
        accepted = redeem_recovery_code(
            uow,
            account,
            field(form, "code"),
            actor=actor,
            limiter=runtime_of(request).rate_limiter,
            client_address=uow.context.client_address,
            reason=reason,
        )
    context = {
        "title": "Your recovery code was accepted",
        "message": (
            f"You become an admin of {account} on {accepted.cooling_off_until:%Y-%m-%d %H:%M} "
            f"UTC, unless someone on record for the account stops it. Told: {accepted.told}. "
            "We email you either way."
        ),
        "link": (accepted.ticket_path, "Follow your claim"),
    }
    return render(request, "message.html", context, status_code=202)
