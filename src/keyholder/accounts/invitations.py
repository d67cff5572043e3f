"""Invitations: membership offered to an email address that has no user yet.

An invitation is bound to its email, works once, expires (7 days by default)
and can be revoked. Only the hash of its token is stored; the token travels
only in the invitation email.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING

from keyholder.accounts import repository
from keyholder.accounts.grants import grant_membership
from keyholder.accounts.models import (
    EnterpriseAccount,
    Invitation,
    Membership,
)
from keyholder.accounts.permissions import PermissionSet, ordered
from keyholder.accounts.policy import managed_account
from keyholder.accounts.staff_addresses import refuse_staff_admin
from keyholder.audit.actions import AuditAction
from keyholder.audit.service import record_event
from keyholder.audit.targets import invitation_target
from keyholder.db.tx import Tx
from keyholder.db.uow import UnitOfWork
from keyholder.errors import AlreadyExists, Gone, NotAuthenticated, NotFound, PermissionDenied
from keyholder.identity.actor import Actor
from keyholder.identity.service import find_user, insert_user
from keyholder.identity.tokens import hash_token, new_token
from keyholder.mail.outbox import send_templated_email

if TYPE_CHECKING:
    from keyholder.identity.passwords import PasswordHasher

INVITATION_PREFIX = "khi"


def invite(
    tx: Tx,
    account: EnterpriseAccount,
    email: str,
    permissions: PermissionSet,
    *,
    actor: Actor,
    mfa_required: bool = False,
) -> Invitation:
    """Create an invitation and its email in the caller's transaction.

    ``mfa_required``: the membership it makes acts as admin only once the
    person has enrolled MFA (an admin granted through an access request, S18).
    """
    now = tx.clock.now()
    for older in repository.pending_invitations(tx.session, account.id, now, email=email):
        older.revoked_at = now
        record_event(
            tx,
            actor=actor,
            action=AuditAction.INVITATION_REVOKE,
            target=invitation_target(account.name, older.id),
            before={"state": "pending"},
            after={"state": "revoked", "reason": "replaced"},
        )
    token, token_hash = new_token(INVITATION_PREFIX)
    invitation = Invitation(
        account_id=account.id,
        email=email,
        permissions=permissions,
        token_hash=token_hash,
        created_at=now,
        expires_at=now + tx.settings.invitation_ttl,
        invited_by_id=actor.user_id,
        mfa_required=mfa_required,
    )
    tx.session.add(invitation)
    tx.session.flush()
    record_event(
        tx,
        actor=actor,
        action=AuditAction.INVITATION_CREATE,
        target=invitation_target(account.name, invitation.id),
        after={
            "email": email,
            "permissions": ordered(permissions),
            "expires_at": invitation.expires_at.isoformat(),
        },
    )
    link = f"{tx.settings.base_url.rstrip('/')}/invitations/{token}"
    send_templated_email(
        tx,
        "invitation",
        to=[email],
        holds_secret=True,
        inviter=actor.email or actor.described_as or "A platform administrator",
        account_display_name=account.display_name,
        account_name=account.name,
        permissions=", ".join(ordered(permissions)),
        link=link,
        expires_at=f"{invitation.expires_at:%Y-%m-%d %H:%M}",
    )
    return invitation


def list_invitations(uow: UnitOfWork, account_name: str, *, actor: Actor) -> Sequence[Invitation]:
    """Pending invitations of an account, for those who manage it."""
    with uow:
        account = managed_account(uow, account_name, actor=actor)
        return repository.pending_invitations(uow.session, account.id, uow.clock.now())


def revoke_invitation(
    uow: UnitOfWork, account_name: str, invitation_id: uuid.UUID, *, actor: Actor
) -> Invitation:
    with uow:
        account = managed_account(uow, account_name, actor=actor)
        invitation = uow.session.get(Invitation, invitation_id)
        if invitation is None or invitation.account_id != account.id:
            raise NotFound("no such invitation on this account")
        now = uow.clock.now()
        if not invitation.is_pending(now):
            raise Gone("this invitation was already accepted, revoked or has expired")
        invitation.revoked_at = now
        record_event(
            uow,
            actor=actor,
            action=AuditAction.INVITATION_REVOKE,
            target=invitation_target(account.name, invitation.id),
            before={"state": "pending"},
            after={"state": "revoked"},
        )
        uow.commit()
        return invitation


def accept_invitation(
    uow: UnitOfWork,
    token: str,
    *,
    actor: Actor | None,
    name: str = "",
    password: str | None = None,
    hasher: PasswordHasher,
) -> Membership:
    """Turn an invitation into a membership, for the invited email only.

    A signed-in user must be the invited email. Someone without a user signs up
    here with a password: the token reached them at that address, which proves
    they read its mail. Accepting ``manage`` ends the user's sessions (S15, see
    ``identity.sessions``): they sign in again for a new session id.
    """
    # Hashed before the transaction so argon2 never holds a write lock.
    password_hash = hasher.hash(password) if actor is None and password is not None else None
    with uow:
        invitation = repository.invitation_by_token_hash(uow.session, hash_token(token))
        if invitation is None:
            raise NotFound("this invitation link is not valid")
        now = uow.clock.now()
        if invitation.revoked_at is not None:
            raise Gone("this invitation was revoked")
        if invitation.accepted_at is not None:
            raise Gone("this invitation was already used")
        if now >= invitation.expires_at:
            raise Gone("this invitation has expired; ask an admin of the account for a new one")
        if actor is not None:
            if actor.email != invitation.email:
                raise PermissionDenied("this invitation is for another email address")
            user = find_user(uow, invitation.email)
            assert user is not None
        else:
            if find_user(uow, invitation.email) is not None:
                raise NotAuthenticated(f"sign in as {invitation.email} to accept this invitation")
            if password_hash is None:
                raise NotAuthenticated("choose a password to create your user and accept")
            user = insert_user(
                uow, invitation.email, name=name, password_hash=password_hash, email_verified=True
            )
        # S31 again: the address may have become staff's, or its domain a staff one.
        refuse_staff_admin(uow, invitation.email, invitation.permissions)
        account = invitation.account
        if repository.membership(uow.session, account.id, user.id) is not None:
            raise AlreadyExists(f"{user.email} is already a member of {account.name!r}")
        invitation.accepted_at = now
        invitation.accepted_by_id = user.id
        accepting = actor or Actor.for_user(user)
        record_event(
            uow,
            actor=accepting,
            action=AuditAction.INVITATION_ACCEPT,
            target=invitation_target(account.name, invitation.id),
            before={"state": "pending"},
            after={"state": "accepted"},
        )
        # member.add, and when the invitee gains manage their sessions and API
        # tokens end, the one accepting too: they sign in again (S15, S41).
        membership = grant_membership(
            uow,
            account,
            user,
            invitation.permissions,
            actor=accepting,
            mfa_required=invitation.mfa_required,
            via="invitation",
        )
        membership.added_by_id = invitation.invited_by_id  # whoever invited, not the invitee
        uow.commit()
        return membership
