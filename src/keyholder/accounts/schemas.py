"""What an account, a member and an invitation look like from outside.

The JSON API answers with these models and the CLI's ``--json`` prints them,
so both show the same shape. Request bodies stay with the API
(``web.api.schemas``): only it reads them.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel

from keyholder.accounts.models import ContactKind, EnterpriseAccount, Invitation, Membership
from keyholder.accounts.permissions import PermissionSet, ordered


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
    kind: ContactKind
    name: str
    title: str
    email: str
    added_at: datetime


class AccountOut(BaseModel):
    id: uuid.UUID
    name: str
    display_name: str
    contract_number: str
    domains: list[DomainOut]
    contacts: list[ContactOut]
    created_at: datetime
    updated_at: datetime


def permissions_out(permissions: PermissionSet) -> list[PermissionOut]:
    return [PermissionOut(name=p.value) for p in ordered(permissions)]


def member_out(membership: Membership) -> MemberOut:
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


def account_out(account: EnterpriseAccount) -> AccountOut:
    return AccountOut(
        id=account.id,
        name=account.name,
        display_name=account.display_name,
        contract_number=account.contract_number,
        domains=[DomainOut(domain=d.domain, verified_at=d.verified_at) for d in account.domains],
        contacts=[
            ContactOut(kind=c.kind, name=c.name, title=c.title, email=c.email, added_at=c.added_at)
            for c in account.contacts
        ],
        created_at=account.created_at,
        updated_at=account.updated_at,
    )
