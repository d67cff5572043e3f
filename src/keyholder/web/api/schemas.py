"""Request bodies of the JSON API, and the session's answers.

The accounts', requests' and tickets' response models are their slices'
(``accounts.schemas``, ``access.schemas``, ``desk.schemas``): the CLI prints
them too.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from keyholder.accounts.models import ContactKind
from keyholder.identity.models import StaffRole, User
from keyholder.web.inputs import NUL_REFUSED, contains_nul


class Body(BaseModel):
    """A request body: no field but its own, and no NUL in any text of it (S39)."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _refuse_nul(cls, data: object) -> object:
        if contains_nul(data):
            raise ValueError(NUL_REFUSED)
        return data


def _permission_name(value: object) -> object:
    # Accept both "manage" and {"name": "manage"}, the shape responses use.
    if isinstance(value, dict) and set(value) == {"name"}:
        return value["name"]
    return value


def _user_email(value: object) -> object:
    # Accept {"email": ...} and a bare email string, as Heroku's API does.
    return {"email": value} if isinstance(value, str) else value


PermissionName = Annotated[str, BeforeValidator(_permission_name)]


class UserRef(Body):
    email: str = Field(max_length=320)


class MemberCreate(Body):
    user: Annotated[UserRef, BeforeValidator(_user_email)]
    permissions: list[PermissionName] = Field(default_factory=list, max_length=16)


class MemberUpdate(Body):
    permissions: list[PermissionName] = Field(max_length=16)


class ContactIn(Body):
    kind: ContactKind
    name: str = Field(min_length=1, max_length=200)
    title: str = Field(min_length=1, max_length=200)
    email: str = Field(max_length=320)


class ContactCreate(ContactIn):
    """A recovery contact named by an admin, who gives their password again (S17)."""

    password: str = Field(max_length=4096)


class ContactUpdate(Body):
    """The fields to change (the others stay), and the admin's password again (S17)."""

    kind: ContactKind | None = None
    name: str | None = Field(default=None, min_length=1, max_length=200)
    title: str | None = Field(default=None, min_length=1, max_length=200)
    email: str | None = Field(default=None, max_length=320)
    password: str = Field(max_length=4096)


class PasswordAgain(Body):
    password: str = Field(max_length=4096)


class AccountCreate(Body):
    name: str = Field(max_length=64)
    contract_number: str = Field(max_length=64)
    display_name: str | None = Field(default=None, max_length=200)
    domains: list[str] = Field(default_factory=list, max_length=50)
    contacts: list[ContactIn] = Field(default_factory=list, max_length=50)


class SessionCreate(Body):
    email: str = Field(max_length=320)
    password: str = Field(max_length=4096)


class InvitationAccept(Body):
    name: str = Field(default="", max_length=200)
    password: str | None = Field(default=None, max_length=4096)


class PasswordResetRequest(Body):
    # Any string: a malformed address gets the same answer as every other (S1).
    email: str = Field(max_length=320)


class PasswordResetComplete(Body):
    password: str = Field(max_length=4096)


class SessionUserOut(BaseModel):
    id: uuid.UUID
    email: str
    name: str
    staff_role: StaffRole | None
    # At sign-in: the session works once the second factor passes (POST /api/session/mfa,
    # or POST /api/session/passkey/finish).
    mfa_required: bool = False
    # For a session cookie: the X-CSRF-Token header its non-JSON state changes need
    # (S38). None for a bearer token, which needs no such header.
    csrf_token: str | None = None


class SessionsEndedOut(BaseModel):
    credentials_revoked: int


def session_user_out(user: User) -> SessionUserOut:
    return SessionUserOut(
        id=user.id,
        email=user.email,
        name=user.name,
        staff_role=user.staff_role,
        # A session of this user acts only after POST /api/session/mfa.
        mfa_required=user.second_factor_since is not None,
    )
