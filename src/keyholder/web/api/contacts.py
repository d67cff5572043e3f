"""/api/enterprise-accounts/{name}/contacts: the recovery contacts on record (issue 18).

Adding, changing and removing one needs the admin's password again (S17),
checked on the bounded hashing pool as sign-in is (S16, S40). The link a
contact gets by email is confirmed at ``POST /api/contact-confirmations/{token}``.
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response, status

from keyholder.accounts import contacts
from keyholder.accounts.contacts import ContactChange, Reauthentication
from keyholder.accounts.schemas import ContactOut, contact_out
from keyholder.accounts.service import ContactInput
from keyholder.bootstrap import Runtime
from keyholder.web.api.schemas import ContactCreate, ContactUpdate, PasswordAgain
from keyholder.web.deps import CurrentActor, ReadUoW, RuntimeDep, UoW

router = APIRouter(tags=["recovery contacts"])
CONTACTS = "/enterprise-accounts/{name}/contacts"


def _reauth(runtime: Runtime, password: str) -> Reauthentication:
    return Reauthentication(password, runtime.rate_limiter, runtime.password_hasher)


@router.get(CONTACTS, response_model=list[ContactOut])
def list_contacts(name: str, uow: ReadUoW, actor: CurrentActor) -> list[ContactOut]:
    """Every contact, confirmed or not; members and staff may read them."""
    return [contact_out(c) for c in contacts.list_contacts(uow, name, actor=actor)]


@router.post(CONTACTS, response_model=ContactOut, status_code=status.HTTP_201_CREATED)
async def add_contact(
    name: str, body: ContactCreate, uow: UoW, actor: CurrentActor, runtime: RuntimeDep
) -> ContactOut:
    """Name a contact: it is emailed a link, and counts once confirmed and past the wait."""
    added = await runtime.hashing.run(
        contacts.add_contact,
        uow,
        name,
        ContactInput(body.kind, body.name, body.title, body.email),
        actor=actor,
        reauth=_reauth(runtime, body.password),
    )
    return contact_out(added)


@router.patch(CONTACTS + "/{contact_id}", response_model=ContactOut)
async def change_contact(
    name: str,
    contact_id: uuid.UUID,
    body: ContactUpdate,
    uow: UoW,
    *,
    actor: CurrentActor,
    runtime: RuntimeDep,
) -> ContactOut:
    """Change a contact; its waiting period starts again, a new email confirms again."""
    changed = await runtime.hashing.run(
        contacts.change_contact,
        uow,
        name,
        contact_id,
        ContactChange(kind=body.kind, name=body.name, title=body.title, email=body.email),
        actor=actor,
        reauth=_reauth(runtime, body.password),
    )
    return contact_out(changed)


@router.delete(CONTACTS + "/{contact_id}", status_code=status.HTTP_204_NO_CONTENT)
async def remove_contact(
    name: str,
    contact_id: uuid.UUID,
    body: PasswordAgain,
    uow: UoW,
    *,
    actor: CurrentActor,
    runtime: RuntimeDep,
) -> Response:
    await runtime.hashing.run(
        contacts.remove_contact,
        uow,
        name,
        contact_id,
        actor=actor,
        reauth=_reauth(runtime, body.password),
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    CONTACTS + "/{contact_id}/confirmation",
    response_model=ContactOut,
    status_code=status.HTTP_202_ACCEPTED,
)
def resend_confirmation(
    name: str, contact_id: uuid.UUID, uow: UoW, actor: CurrentActor
) -> ContactOut:
    """A new confirmation link for a contact that has not confirmed; the old one dies."""
    return contact_out(contacts.resend_confirmation(uow, name, contact_id, actor=actor))


@router.post("/contact-confirmations/{token}", response_model=ContactOut)
def confirm_contact(token: str, uow: UoW) -> ContactOut:
    """The link a contact was emailed: 404 unknown, 410 used or expired."""
    return contact_out(contacts.confirm_contact(uow, token))
