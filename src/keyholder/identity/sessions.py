"""When sign-in sessions end early: rotation and "log out everywhere" (S14, S15).

A session id is never reused across a change in what it is worth (S15):

- **At sign-in** the session the client presented (its old cookie) is revoked
  in the transaction that opens the new one, whoever it belonged to: the
  browser's cookie is being replaced, and an id planted or seen before the
  sign-in must not survive it (``identity.service.log_in``).
- **At a privilege change** the user's sessions and API tokens are revoked
  and they sign in again, which gives them a new id. Privilege changes are a
  change of platform staff role (``identity.service.set_staff_role``), and
  gaining or losing ``manage`` on an account (gaining: ``accounts.members.add_member``,
  ``set_member_permissions``, ``accounts.invitations.accept_invitation``,
  ``access.execution``; losing: ``set_member_permissions``,
  ``accounts.members.remove_member``). API tokens go too (S41): a token minted
  under lesser powers must not quietly carry new ones, and a token stolen
  before the grant must not become an admin's. Losing ``manage`` ends them as
  well, although every request reads permissions afresh: an admin is removed
  or demoted because something went wrong (they left, their laptop or a
  script's token leaked), and whatever was signed in as an admin should be
  earned again rather than linger with whatever powers remain.

"Log out everywhere" ends every session and API token of the caller, sparing
the session they ask from if they wish. Each revocation is audited.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select, update

from keyholder.audit.service import record_event
from keyholder.db.uow import UnitOfWork
from keyholder.errors import NotFound
from keyholder.identity.actor import Actor
from keyholder.identity.credentials import revoke_all_credentials
from keyholder.identity.models import User, UserSession
from keyholder.identity.tokens import hash_token


def revoke_session(uow: UnitOfWork, session_token: str) -> bool:
    """Revoke the session behind a token, in the caller's transaction.

    Returns whether a live session was revoked; an unknown token changes nothing.
    """
    revoked = uow.session.execute(
        update(UserSession)
        .where(
            UserSession.token_hash == hash_token(session_token),
            UserSession.revoked_at.is_(None),
        )
        .values(revoked_at=uow.clock.now())
    ).rowcount  # type: ignore[attr-defined]
    return bool(revoked)


def rotate_after_privilege_change(uow: UnitOfWork, user: User, *, reason: str, actor: Actor) -> int:
    """End ``user``'s sessions and API tokens after a privilege change (S15, S41).

    Runs in the caller's transaction, beside the change itself; writes an
    audit event when anything was revoked. Returns how many credentials were.
    """
    revoked = revoke_all_credentials(uow, user.id)
    if revoked:
        record_event(
            uow,
            actor=actor,
            action="user.credentials_revoke",
            target=f"user:{user.email}",
            after={"reason": reason, "credentials_revoked": revoked},
        )
    return revoked


def log_out_everywhere(
    uow: UnitOfWork, *, actor: Actor, current_session_token: str | None = None
) -> int:
    """End every session and API token of the actor ("log out everywhere", S14).

    With ``current_session_token`` (the session the request came with) that
    one session is spared, so the device asking stays signed in; a token that
    is not one of the actor's live sessions spares nothing. Returns how many
    credentials were revoked.
    """
    with uow:
        user = uow.session.get(User, actor.user_id) if actor.user_id else None
        if user is None:
            raise NotFound("this actor has no user record")
        kept: uuid.UUID | None = None
        if current_session_token is not None:
            kept = uow.session.scalar(
                select(UserSession.id).where(
                    UserSession.token_hash == hash_token(current_session_token),
                    UserSession.user_id == user.id,
                    UserSession.revoked_at.is_(None),
                )
            )
        revoked = revoke_all_credentials(uow, user.id, keep_session_id=kept)
        record_event(
            uow,
            actor=actor,
            action="user.log_out_everywhere",
            target=f"user:{user.email}",
            after={"credentials_revoked": revoked, "kept_current_session": kept is not None},
        )
        uow.commit()
        return revoked
