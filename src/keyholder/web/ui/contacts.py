"""The recovery contacts on the account page, and the page behind their confirmation link.

The same use cases as ``/api/enterprise-accounts/{name}/contacts``: adding,
changing and removing a contact needs the admin's password again (S17),
checked on the bounded hashing pool (S16). The link a contact is emailed opens
a page with a button: mail scanners fetch links, so nothing happens on GET.
"""

from __future__ import annotations

import uuid
from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response

from keyholder.accounts import contacts
from keyholder.accounts.contacts import ContactChange, Reauthentication
from keyholder.accounts.models import ContactKind
from keyholder.accounts.service import ContactInput
from keyholder.errors import InvalidInput
from keyholder.web.deps import UoW, runtime_of
from keyholder.web.ui.accounts import refused_on_account_page
from keyholder.web.ui.forms import CSRF_CHECKED, CheckedForm, SignedIn, field, link_errors
from keyholder.web.ui.rendering import PageRoute, TokenPageRoute, redirect, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)
token_router = APIRouter(route_class=TokenPageRoute, include_in_schema=False)


def _done(name: str, what: str, email: str) -> Response:
    return redirect(f"/accounts/{name}?{urlencode({'done': what, 'email': email})}#contacts")


def _reauth(request: Request, password: str) -> Reauthentication:
    runtime = runtime_of(request)
    return Reauthentication(password, runtime.rate_limiter, runtime.password_hasher)


def _kind(value: str) -> ContactKind:
    try:
        return ContactKind(value)
    except ValueError:
        raise InvalidInput("choose the contact's role", field="kind") from None


@router.post("/accounts/{name}/contacts")
async def add_contact(
    request: Request, name: str, actor: SignedIn, uow: UoW, form: CheckedForm
) -> Response:
    typed = {key: field(form, key) for key in ("kind", "name", "title", "email")}
    with refused_on_account_page(request, name, actor, contact_form=typed):
        added = await runtime_of(request).hashing.run(
            contacts.add_contact,
            uow,
            name,
            ContactInput(_kind(typed["kind"]), typed["name"], typed["title"], typed["email"]),
            actor=actor,
            reauth=_reauth(request, field(form, "password")),
        )
    return _done(name, "contact-added", added.email)


@router.post("/accounts/{name}/contacts/{contact_id}")
async def change_contact(
    request: Request,
    name: str,
    contact_id: uuid.UUID,
    actor: SignedIn,
    *,
    uow: UoW,
    form: CheckedForm,
) -> Response:
    action = field(form, "action")
    with refused_on_account_page(request, name, actor):
        if action == "resend":
            found = contacts.resend_confirmation(uow, name, contact_id, actor=actor)
            return _done(name, "contact-resent", found.email)
        reauth = _reauth(request, field(form, "password"))
        hashing = runtime_of(request).hashing
        if action == "remove":
            await hashing.run(
                contacts.remove_contact, uow, name, contact_id, actor=actor, reauth=reauth
            )
            return _done(name, "contact-removed", field(form, "email"))
        change = ContactChange(
            kind=_kind(field(form, "kind")),
            name=field(form, "name"),
            title=field(form, "title"),
            email=field(form, "email"),
        )
        saved = await hashing.run(
            contacts.change_contact, uow, name, contact_id, change, actor=actor, reauth=reauth
        )
    return _done(name, "contact-saved", saved.email)


@token_router.get("/contact-confirmations/{token}")
def confirm_page(request: Request) -> Response:
    context = {
        "title": "Confirm you are a contact on record",
        "explanation": "An admin of an enterprise account named you one of its contacts on "
        "record: if every admin is ever gone, you are asked to confirm a request for admin "
        "access before anyone gets it. Press the button to confirm this email address is "
        "yours. If you do not know about this, close this page and tell the account's admins.",
        "buttons": [("", "Confirm my address")],
    }
    return render(request, "link_confirm.html", context)


@token_router.post("/contact-confirmations/{token}", dependencies=[CSRF_CHECKED])
def confirm(request: Request, token: str, uow: UoW) -> Response:
    with link_errors(request):
        contact = contacts.confirm_contact(uow, token)
    days = runtime_of(request).settings.access_contact_min_age.days
    context = {
        "title": "Thank you",
        "message": f"{contact.email} is confirmed. You count as a contact on record for "
        f"recovery in {days} days.",
        "link": None,
    }
    return render(request, "message.html", context)
