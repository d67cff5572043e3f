"""Account admin pages: my accounts, an account's members, invitations and history.

The same use cases as ``/api/enterprise-accounts``; who may see or change what
is decided there. A refused change (the last-admin guard, an unknown email…)
shows the account page again with the service's message.
"""

from __future__ import annotations

import uuid
from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response

from keyholder.accounts import history, invitations, members
from keyholder.accounts import service as accounts
from keyholder.accounts.admin_presence import accounts_without_admin
from keyholder.accounts.permissions import ADMIN_PERMISSION, Permission, ordered
from keyholder.accounts.policy import ADMIN_NEEDS_MFA
from keyholder.errors import KeyholderError, PermissionDenied
from keyholder.identity.actor import Actor
from keyholder.web.ui.forms import CSRF_CHECKED, CheckedForm, SignedIn, field, fields, uow_for
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
def my_accounts(request: Request, actor: SignedIn) -> Response:
    found = accounts.list_accounts(uow_for(request, read_only=True), actor=actor)
    # Staff see every account: the way to recovery is for the customers' own ones.
    orphaned = (
        frozenset()
        if actor.staff_role is not None
        else accounts_without_admin(uow_for(request, read_only=True), found)
    )
    context = {"title": "Your accounts", "accounts": found, "without_admin": orphaned}
    return render(request, "accounts.html", context)


def _account_page(
    request: Request,
    name: str,
    actor: Actor,
    *,
    error: str = "",
    status: int = 200,
    notice: str = "",
    add_email: str = "",
) -> Response:
    account = accounts.get_account(uow_for(request, read_only=True), name, actor=actor)
    member_list = members.list_members(uow_for(request, read_only=True), name, actor=actor)
    try:
        events = history.account_history(uow_for(request, read_only=True), name, actor=actor)
        pending = invitations.list_invitations(uow_for(request), name, actor=actor)
        can_manage, needs_mfa = True, False
    except PermissionDenied as exc:
        events, pending, can_manage = [], [], False
        # An admin granted through an access request acts only once MFA is on (S18).
        needs_mfa = exc.detail == ADMIN_NEEDS_MFA
    context = {
        "title": account.display_name,
        "account": account,
        "members": [(m, [p.value for p in ordered(m.permissions)]) for m in member_list],
        "has_admin": any(ADMIN_PERMISSION in m.permissions for m in member_list),
        "invitations": [(i, [p.value for p in ordered(i.permissions)]) for i in pending],
        "events": events,
        "can_manage": can_manage,
        "needs_mfa": needs_mfa,
        "permissions": PERMISSIONS,
        "error": error,
        "notice": notice,
        "add_email": add_email,
    }
    return render(request, "account.html", context, status_code=status)


@router.get("/accounts/{name}")
def account_page(
    request: Request, name: str, actor: SignedIn, done: str = "", email: str = ""
) -> Response:
    notice = NOTICES[done].format(email=email) if done in NOTICES else ""
    return _account_page(request, name, actor, notice=notice)


def _done(name: str, what: str, email: str = "") -> Response:
    return redirect(f"/accounts/{name}?{urlencode({'done': what, 'email': email})}")


@router.post("/accounts/{name}/members")
def add_member(request: Request, name: str, actor: SignedIn, form: CheckedForm) -> Response:
    email = field(form, "email").strip()
    try:
        added = members.add_member(
            uow_for(request), name, email, fields(form, "permissions"), actor=actor
        )
    except KeyholderError as exc:
        return _account_page(
            request, name, actor, error=exc.detail, status=exc.status_code, add_email=email
        )
    if added.invitation is not None:
        return _done(name, "invited", added.invitation.email)
    assert added.membership is not None
    return _done(name, "added", added.membership.user.email)


@router.post("/accounts/{name}/members/{email}")
def change_member(
    request: Request, name: str, email: str, actor: SignedIn, form: CheckedForm
) -> Response:
    try:
        if field(form, "action") == "remove":
            members.remove_member(uow_for(request), name, email, actor=actor)
            if email.strip().casefold() == (actor.email or "").casefold():
                return redirect("/accounts")  # they left: the account is no longer theirs to see
            return _done(name, "removed", email)
        members.set_member_permissions(
            uow_for(request), name, email, fields(form, "permissions"), actor=actor
        )
    except KeyholderError as exc:
        return _account_page(request, name, actor, error=exc.detail, status=exc.status_code)
    return _done(name, "saved", email)


@router.post("/accounts/{name}/invitations/{invitation_id}/revoke", dependencies=[CSRF_CHECKED])
def revoke_invitation(
    request: Request, name: str, invitation_id: uuid.UUID, actor: SignedIn
) -> Response:
    try:
        invitations.revoke_invitation(uow_for(request), name, invitation_id, actor=actor)
    except KeyholderError as exc:
        return _account_page(request, name, actor, error=exc.detail, status=exc.status_code)
    return _done(name, "revoked")
