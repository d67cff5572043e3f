"""Account admin pages: my accounts, an account's members, invitations and history.

The same use cases as ``/api/enterprise-accounts``; who may see or change what
is decided there, and each page is read in one transaction (``accounts.overview``).
A refused change (the last-admin guard, an unknown email…) shows the account
page again with the service's message.
"""

from __future__ import annotations

import uuid
from contextlib import AbstractContextManager
from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response

from keyholder.accounts import invitations, members, overview, recovery_codes
from keyholder.accounts.permissions import Permission, ordered
from keyholder.db.uow import UnitOfWork
from keyholder.identity.actor import Actor
from keyholder.web.deps import ReadUoW, UoW, uow_for
from keyholder.web.ui.forms import (
    CSRF_CHECKED,
    CheckedForm,
    FormError,
    SignedIn,
    field,
    fields,
    form_errors,
)
from keyholder.web.ui.rendering import PageRoute, redirect, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)

PERMISSIONS = [p.value for p in Permission]
NOTICES = {
    "added": "{email} is now a member.",
    "invited": "{email} has no user yet: an invitation is on its way to them.",
    "saved": "The permissions of {email} are saved.",
    "removed": "{email} is no longer a member.",
    "revoked": "The invitation is revoked.",
}


@router.get("/accounts")
def my_accounts(request: Request, actor: SignedIn, uow: ReadUoW) -> Response:
    found = overview.accounts_overview(uow, actor=actor)
    context = {
        "title": "Your accounts",
        "accounts": found.accounts,
        "without_admin": found.without_admin,
    }
    return render(request, "accounts.html", context)


def _account_page(
    request: Request,
    uow: UnitOfWork,
    name: str,
    actor: Actor,
    *,
    error: str = "",
    status: int = 200,
    notice: str = "",
    add_email: str = "",
) -> Response:
    page = overview.account_overview(uow, name, actor=actor)
    context = {
        "title": page.account.display_name,
        "account": page.account,
        "members": [(m, [p.value for p in ordered(m.permissions)]) for m in page.members],
        "has_admin": page.has_admin,
        "invitations": [(i, [p.value for p in ordered(i.permissions)]) for i in page.invitations],
        "events": page.events,
        "can_manage": page.can_manage,
        "needs_mfa": page.needs_mfa,
        "needs_passkey": page.needs_passkey,
        "permissions": PERMISSIONS,
        "error": error,
        "notice": notice,
        "add_email": add_email,
        "recovery_codes_section": page.recovery_codes_section,  # _account_recovery_codes.html
        "recovery_codes": page.recovery_codes,
    }
    return render(request, "account.html", context, status_code=status)


def _refused(
    request: Request, name: str, actor: Actor, *, add_email: str = ""
) -> AbstractContextManager[None]:
    """The account page again, with the service's message and what was typed."""

    def show(refusal: FormError) -> Response:
        return _account_page(
            request,
            uow_for(request, read_only=True),
            name,
            actor,
            error=refusal.detail,
            status=refusal.status,
            add_email=add_email,
        )

    return form_errors(show)


@router.get("/accounts/{name}")
def account_page(
    request: Request, name: str, actor: SignedIn, uow: ReadUoW, *, done: str = "", email: str = ""
) -> Response:
    notice = NOTICES[done].format(email=email) if done in NOTICES else ""
    return _account_page(request, uow, name, actor, notice=notice)


def _done(name: str, what: str, email: str = "") -> Response:
    return redirect(f"/accounts/{name}?{urlencode({'done': what, 'email': email})}")


@router.post("/accounts/{name}/members")
def add_member(
    request: Request, name: str, actor: SignedIn, uow: UoW, form: CheckedForm
) -> Response:
    email = field(form, "email").strip()
    with _refused(request, name, actor, add_email=email):
        added = members.add_member(uow, name, email, fields(form, "permissions"), actor=actor)
    if added.invitation is not None:
        return _done(name, "invited", added.invitation.email)
    assert added.membership is not None
    return _done(name, "added", added.membership.user.email)


@router.post("/accounts/{name}/members/{email}")
def change_member(
    request: Request, name: str, email: str, actor: SignedIn, *, uow: UoW, form: CheckedForm
) -> Response:
    with _refused(request, name, actor):
        if field(form, "action") == "remove":
            members.remove_member(uow, name, email, actor=actor)
            if email.strip().casefold() == (actor.email or "").casefold():
                return redirect("/accounts")  # they left: the account is no longer theirs to see
            return _done(name, "removed", email)
        members.set_member_permissions(uow, name, email, fields(form, "permissions"), actor=actor)
    return _done(name, "saved", email)


@router.post("/accounts/{name}/invitations/{invitation_id}/revoke", dependencies=[CSRF_CHECKED])
def revoke_invitation(
    request: Request, name: str, invitation_id: uuid.UUID, actor: SignedIn, uow: UoW
) -> Response:
    with _refused(request, name, actor):
        invitations.revoke_invitation(uow, name, invitation_id, actor=actor)
    return _done(name, "revoked")


@router.post("/accounts/{name}/recovery-codes", dependencies=[CSRF_CHECKED])
def generate_recovery_codes(request: Request, name: str, actor: SignedIn, uow: UoW) -> Response:
    """A new set of the account's recovery codes, on a page shown once (never cached)."""
    with _refused(request, name, actor):
        codes = recovery_codes.generate_recovery_codes(uow, name, actor=actor)
    context = {"title": "Recovery codes of the account", "account_name": name, "codes": codes}
    return render(request, "account_recovery_codes.html", context)
