"""When sign-in sessions end early: rotation and "log out everywhere" (S14, S15).

A session id is never reused across a change in what it is worth (S15):

- **At sign-in** the session the client presented (its old cookie) is revoked
  in the transaction that opens the new one, whoever it belonged to: the
  browser's cookie is being replaced, and an id planted or seen before the
  sign-in must not survive it (``identity.service.log_in``).
- **At the second factor** the session that passed it is revoked and a new
  one, marked verified (and how: ``mfa_method``), takes its place in the same
  transaction (``identity.mfa.verify_second_factor``,
  ``identity.passkey_sign_in.finish_second_factor``, which also steps a TOTP
  session up to a passkey one): a password-only session id planted
  in a victim's browser by someone who knows the password but not the code
  must not become a verified session they hold.
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

from keyholder.audit.actions import AuditAction
from keyholder.audit.service import record_event
from keyholder.audit.targets import user_target
from keyholder.db.tx import Tx
from keyholder.db.uow import UnitOfWork
from keyholder.errors import NotAuthenticated, NotFound
from keyholder.identity.actor import Actor
from keyholder.identity.credentials import revoke_all_credentials
from keyholder.identity.models import MfaMethod, User, UserSession
from keyholder.identity.tokens import hash_token, new_token

SESSION_PREFIX = "khs"


def open_session(
    tx: Tx, user: User, *, client_address: str | None, mfa_method: MfaMethod | None = None
) -> str:
    """Add a new session for ``user`` to the caller's transaction; return its token.

    It lasts ``session_ttl`` from now, as every session does from its sign-in.
    With ``mfa_method`` it is verified (the second factor passed that way).
    """
    now = tx.clock.now()
    token, token_hash = new_token(SESSION_PREFIX)
    tx.session.add(
        UserSession(
            user_id=user.id,
            token_hash=token_hash,
            created_at=now,
            last_seen_at=now,
            expires_at=now + tx.settings.session_ttl,
            mfa_verified_at=now if mfa_method is not None else None,
            mfa_method=mfa_method,
            client_address=client_address,
        )
    )
    return token


def revoke_session(tx: Tx, session_token: str, *, user_id: uuid.UUID | None = None) -> bool:
    """Revoke the session behind a token, in the caller's transaction.

    With ``user_id``, only if it is that user's. Returns whether a live session
    was revoked; an unknown token changes nothing.
    """
    live = update(UserSession).where(
        UserSession.token_hash == hash_token(session_token), UserSession.revoked_at.is_(None)
    )
    if user_id is not None:
        live = live.where(UserSession.user_id == user_id)
    revoked = tx.session.execute(live.values(revoked_at=tx.clock.now())).rowcount  # type: ignore[attr-defined]
    return bool(revoked)


def rotate_at_second_factor(
    tx: Tx, user: User, session_token: str, *, actor: Actor, method: MfaMethod
) -> str:
    """Replace the session that just passed the second factor by a new, verified one (S15).

    Runs in the caller's transaction, after the code was accepted; audited.
    Returns the new session's token. Raises ``NotAuthenticated`` when the
    session is not one of ``user``'s live sessions any more (signed out
    meanwhile): the caller's transaction then rolls back, code and all.
    """
    if not revoke_session(tx, session_token, user_id=user.id):
        raise NotAuthenticated("your session has ended; sign in again")
    token = open_session(tx, user, client_address=tx.context.client_address, mfa_method=method)
    record_event(
        tx,
        actor=actor,
        action=AuditAction.USER_SESSION_ROTATE,
        target=user_target(user.email),
        after={"reason": "second_factor", "method": method},
    )
    return token


def rotate_after_privilege_change(tx: Tx, user: User, *, reason: str, actor: Actor) -> int:
    """End ``user``'s sessions and API tokens after a privilege change (S15, S41).

    Runs in the caller's transaction, beside the change itself; writes an
    audit event when anything was revoked. Returns how many credentials were.
    """
    revoked = revoke_all_credentials(tx, user.id)
    if revoked:
        record_event(
            tx,
            actor=actor,
            action=AuditAction.USER_CREDENTIALS_REVOKE,
            target=user_target(user.email),
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
            action=AuditAction.USER_LOG_OUT_EVERYWHERE,
            target=user_target(user.email),
            after={"credentials_revoked": revoked, "kept_current_session": kept is not None},
        )
        uow.commit()
        return revoked
