"""Bearer tokens of one account's SCIM endpoint: issued, listed, revoked, checked.

Like API tokens (``identity.tokens``): 256 random bits, shown once, only the
SHA-256 stored (S6), a revocation effective on the next request. Unlike them, a
SCIM token belongs to an account, not a person, and opens only that account's
``/scim/v2/{account}`` (a token of another account gets the 404 of an unknown
one). It acts as the account's identity provider: with the rights of its
admins, never more, and the audit log names it (``ScimCaller.actor``).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select

from keyholder.accounts.policy import managed_account
from keyholder.audit.actions import AuditAction
from keyholder.audit.service import record_event
from keyholder.audit.targets import scim_token_target
from keyholder.db.uow import UnitOfWork
from keyholder.errors import Gone, InvalidInput, NotAuthenticated, NotFound
from keyholder.identity.actor import Actor
from keyholder.identity.models import StaffRole
from keyholder.identity.tokens import hash_token, new_token
from keyholder.scim.models import ScimToken

SCIM_TOKEN_PREFIX = "khscim"  # noqa: S105 - a prefix that makes leaked tokens easy to spot
NAME_MAX = 100


@dataclass(frozen=True, slots=True)
class IssuedScimToken:
    token: str  # shown once, never stored
    record: ScimToken


@dataclass(frozen=True, slots=True)
class ScimCaller:
    """The identity provider behind a valid token, detached from any session."""

    token_id: uuid.UUID
    token_name: str
    account_id: uuid.UUID
    account_name: str

    @property
    def label(self) -> str:
        """How the audit log names it: the token, never a person."""
        name = self.token_name or "token"
        return f"scim:{self.account_name}/{name}#{str(self.token_id)[:8]}"

    @property
    def actor(self) -> Actor:
        """The actor the account services see.

        With an admin's powers (``managed_account`` lets it through without a
        user), but only ever handed to them with this token's own account: the
        SCIM service never takes an account name from anywhere else.
        """
        return Actor(
            label=self.label,
            staff_role=StaffRole.ADMIN,
            described_as=f"The identity provider of {self.account_name} (SCIM)",
        )


def create_scim_token(
    uow: UnitOfWork, account_name: str, *, name: str = "", actor: Actor
) -> IssuedScimToken:
    """Issue a SCIM token for the account (its admins, or platform admins); audited."""
    name = name.strip()
    if len(name) > NAME_MAX:
        raise InvalidInput(f"a token name is at most {NAME_MAX} characters", field="name")
    with uow:
        account = managed_account(uow, account_name, actor=actor)
        token, token_hash = new_token(SCIM_TOKEN_PREFIX)
        record = ScimToken(
            id=uuid.uuid4(),
            account_id=account.id,
            account=account,
            name=name,
            token_hash=token_hash,
            created_by=actor.label,
            created_at=uow.clock.now(),
        )
        uow.session.add(record)
        record_event(
            uow,
            actor=actor,
            action=AuditAction.SCIM_TOKEN_CREATE,
            target=scim_token_target(account.name, record.id),
            after={"token_id": str(record.id), "name": name},
        )
        uow.commit()
        return IssuedScimToken(token=token, record=record)


def list_scim_tokens(uow: UnitOfWork, account_name: str, *, actor: Actor) -> Sequence[ScimToken]:
    """The account's tokens, revoked ones too, oldest first (never the tokens themselves)."""
    with uow:
        account = managed_account(uow, account_name, actor=actor)
        return uow.session.scalars(
            select(ScimToken)
            .where(ScimToken.account_id == account.id)
            .order_by(ScimToken.created_at, ScimToken.id)
        ).all()


def revoke_scim_token(uow: UnitOfWork, token_id: uuid.UUID, *, actor: Actor) -> ScimToken:
    """Revoke a token: its next request is refused (401). Audited."""
    with uow:
        record = uow.session.get(ScimToken, token_id)
        if record is None:
            raise NotFound(f"no SCIM token {token_id}")
        account = managed_account(uow, record.account.name, actor=actor)
        if record.revoked_at is not None:
            raise Gone(f"SCIM token {token_id} is already revoked")
        record.revoked_at = uow.clock.now()
        record_event(
            uow,
            actor=actor,
            action=AuditAction.SCIM_TOKEN_REVOKE,
            target=scim_token_target(account.name, record.id),
            before={"state": "active"},
            after={"state": "revoked"},
        )
        uow.commit()
        return record


def authenticate_scim_token(uow: UnitOfWork, token: str, account_name: str) -> ScimCaller:
    """The caller behind ``token`` on ``account_name``'s endpoint.

    401 for a token that is unknown or revoked; 404, as for an account that
    does not exist, when the token is another account's.
    """
    with uow:
        record = uow.session.scalar(
            select(ScimToken).where(ScimToken.token_hash == hash_token(token))
        )
        if record is None or record.revoked_at is not None:
            raise NotAuthenticated("the SCIM token is not valid")
        if record.account.name != account_name:
            raise NotFound(f"no enterprise account named {account_name!r}")
        return ScimCaller(
            token_id=record.id,
            token_name=record.name,
            account_id=record.account_id,
            account_name=record.account.name,
        )
