"""What an account, a member and an invitation look like from outside.

The JSON API answers with these models and the CLI's ``--json`` prints them,
so both show the same shape. Request bodies stay with the API
(``web.api.schemas``): only it reads them.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from keyholder.accounts.models import (
    AccountContact,
    ContactKind,
    EnterpriseAccount,
    Invitation,
    Membership,
)
from keyholder.accounts.permissions import PermissionSet, ordered
from keyholder.accounts.repository import MemberRecord


class PermissionOut(BaseModel):
    name: str


class UserOut(BaseModel):
    id: uuid.UUID
    email: str


class MemberOut(BaseModel):
    id: uuid.UUID
    user: UserOut
    permissions: list[PermissionOut]
    federated: bool = False
    created_at: datetime
    updated_at: datetime


class InvitationOut(BaseModel):
    id: uuid.UUID
    email: str
    permissions: list[PermissionOut]
    created_at: datetime
    expires_at: datetime


class DomainOut(BaseModel):
    domain: str
    verified_at: datetime | None


class ContactOut(BaseModel):
    id: uuid.UUID
    kind: ContactKind
    name: str
    title: str
    email: str
    added_at: datetime
    # Issue 18: a contact counts for recovery once confirmed by its emailed link
    # and past the waiting period since it confirmed or last changed.
    changed_at: datetime
    confirmed_at: datetime | None


class AccountOut(BaseModel):
    """An enterprise account: Heroku's Enterprise Account, plus Keyholder's own fields.

    Heroku's Platform API attributes (``id``, ``name``, ``created_at``,
    ``updated_at``, ``permissions``, ``trial``, ``identity_provider``) carry
    Heroku's names and types, so a Heroku client reads this as it reads
    Heroku's; ``display_name``, ``contract_number``, ``domains`` and
    ``contacts`` are Keyholder's. See docs/heroku-compatibility.md.
    """

    id: uuid.UUID = Field(description="Unique identifier of the account (Heroku: `id`).")
    name: str = Field(description="Unique name of the account, a slug (Heroku: `name`).")
    display_name: str = Field(description="Keyholder only: the name people read.")
    contract_number: str = Field(description="Keyholder only: the enterprise contract number.")
    domains: list[DomainOut] = Field(description="Keyholder only: the account's email domains.")
    contacts: list[ContactOut] = Field(
        description="Keyholder only: billing, security and executive contacts on record."
    )
    permissions: list[str] = Field(
        default_factory=list,
        description=(
            "Heroku: `permissions`. The caller's own permissions in this account "
            "(view, create, manage, billing); empty for staff reading an account "
            "they are not a member of, and from the CLI."
        ),
    )
    trial: bool = Field(
        default=False, description="Heroku: `trial`. Always false: Keyholder has no trial accounts."
    )
    identity_provider: None = Field(
        default=None,
        description=(
            "Heroku: `identity_provider` (the account's SSO provider). Always null: "
            "Keyholder signs its users in itself."
        ),
    )
    created_at: datetime = Field(description="When the account was created (Heroku: same).")
    updated_at: datetime = Field(description="When the account last changed (Heroku: same).")


def permissions_out(permissions: PermissionSet) -> list[PermissionOut]:
    return [PermissionOut(name=p.value) for p in ordered(permissions)]


def member_out(membership: Membership | MemberRecord) -> MemberOut:
    return MemberOut(
        id=membership.id,
        user=UserOut(id=membership.user.id, email=membership.user.email),
        permissions=permissions_out(membership.permissions),
        created_at=membership.created_at,
        updated_at=membership.updated_at,
    )


def invitation_out(invitation: Invitation) -> InvitationOut:
    return InvitationOut(
        id=invitation.id,
        email=invitation.email,
        permissions=permissions_out(invitation.permissions),
        created_at=invitation.created_at,
        expires_at=invitation.expires_at,
    )


def contact_out(contact: AccountContact) -> ContactOut:
    return ContactOut(
        id=contact.id,
        kind=contact.kind,
        name=contact.name,
        title=contact.title,
        email=contact.email,
        added_at=contact.added_at,
        changed_at=contact.changed_at,
        confirmed_at=contact.confirmed_at,
    )


def account_out(account: EnterpriseAccount, permissions: PermissionSet = frozenset()) -> AccountOut:
    """``permissions``: the caller's own in the account (Heroku's field)."""
    return AccountOut(
        id=account.id,
        name=account.name,
        display_name=account.display_name,
        contract_number=account.contract_number,
        domains=[DomainOut(domain=d.domain, verified_at=d.verified_at) for d in account.domains],
        contacts=[contact_out(c) for c in account.contacts],
        permissions=[p.value for p in ordered(permissions)],
        created_at=account.created_at,
        updated_at=account.updated_at,
    )
