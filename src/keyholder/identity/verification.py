"""Email verification and email change: one-time links to a mailbox.

    send_verification      a signed-in user asks for a link to their current address
    verify_email           the link's holder marks the address verified, once
    request_email_change   a signed-in user, with their password (S17), asks to move
                           to a new address: a link goes there, a notice to the old one
    confirm_email_change   the new address's holder completes the change, once

Tokens follow ``identity.reset``: ``khv_`` tokens of 256 random bits of which
only the SHA-256 is stored, in ``user_tokens`` with purpose
``email_verification`` (S11) and ``email`` set to the address the link went
to. A verification link goes to the user's current address; an email change
link to another one, which is how the two kinds are told apart. Either works
once (S7, S10), expires after ``settings.email_verification_ttl`` (S8), and
dies when a newer link of its kind is issued or the user's email changes (S9).
A completed change revokes every other outstanding token of the user, reset
links included (S9), and notifies the previous address (S5).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.sql.elements import ColumnElement

from keyholder.audit.actions import AuditAction
from keyholder.audit.service import record_event
from keyholder.audit.targets import user_target
from keyholder.db.tx import Tx
from keyholder.db.uow import UnitOfWork
from keyholder.errors import (
    AlreadyExists,
    Conflict,
    Gone,
    InvalidInput,
    NotFound,
    PermissionDenied,
)
from keyholder.identity.actor import Actor
from keyholder.identity.emails import normalize_email
from keyholder.identity.models import TokenPurpose, User, UserToken
from keyholder.identity.throttle import RateLimiter, count_login_attempt
from keyholder.identity.tokens import hash_token, new_token
from keyholder.identity.user_tokens import add_token, find_token, revoke_tokens, spend_token
from keyholder.mail.outbox import send_templated_email

if TYPE_CHECKING:
    from keyholder.identity.passwords import PasswordHasher

VERIFICATION_PREFIX = "khv"
ANONYMOUS = Actor(label="anonymous")
_DEAD = "this link is no longer valid; ask for a new one"


def send_verification(uow: UnitOfWork, *, actor: Actor) -> None:
    """Email a one-time verification link to the signed-in user's current address.

    Raises Conflict when the address is verified already. Older verification
    links of the user die (S9).
    """
    with uow:
        user = _signed_in_user(uow, actor)
        token, record = _issue_verification(uow, user, actor, via="email")
        send_templated_email(
            uow,
            "email_verification",
            to=[user.email],
            holds_secret=True,
            name=user.name,
            address=user.email,
            link=_link(uow, "verify-email", token),
            expires_at=f"{record.expires_at:%Y-%m-%d %H:%M}",
        )
        uow.commit()


@dataclass(frozen=True, slots=True)
class VerificationLink:
    """A verification link shown once to the operator who created it."""

    link: str
    email: str
    expires_at: datetime


def issue_verification_link(uow: UnitOfWork, email: str, *, actor: Actor) -> VerificationLink:
    """Create a verification link for a user and return it instead of emailing it (CLI).

    Platform admins only. Older verification links of the user die (S9); the
    token is in no audit event.
    """
    if not actor.is_staff_admin:
        raise PermissionDenied("only platform admins can create email verification links")
    address = normalize_email(email)
    with uow:
        user = uow.session.scalar(select(User).where(User.email == address))
        if user is None or not user.is_active:
            raise NotFound(f"no active user with email {address}")
        token, record = _issue_verification(uow, user, actor, via="operator")
        uow.commit()
        return VerificationLink(
            link=_link(uow, "verify-email", token), email=user.email, expires_at=record.expires_at
        )


def _issue_verification(tx: Tx, user: User, actor: Actor, *, via: str) -> tuple[str, UserToken]:
    if user.email_verified_at is not None:
        raise Conflict(f"{user.email} is verified already")
    now = tx.clock.now()
    _revoke(tx, user.id, now, UserToken.email == user.email)
    token, record = _insert_token(tx, user, user.email, now)
    record_event(
        tx,
        actor=actor,
        action=AuditAction.EMAIL_VERIFICATION_REQUEST,
        target=user_target(user.email),
        after={
            "token_id": str(record.id),
            "via": via,
            "expires_at": record.expires_at.isoformat(),
        },
    )
    return token, record


def verify_email(uow: UnitOfWork, token: str) -> None:
    """Mark the address a verification link went to as verified; the link is spent.

    NotFound for anything that is not a verification link (S11), an email
    change link included; Gone (audited) for a used, expired or revoked link,
    or one sent before the user's email changed (S9).
    """
    with uow:
        record = _find_token(uow, token)
        user = record.user
        now = uow.clock.now()
        failure = _failure(record, now)
        if failure is None and record.email != user.email:
            raise NotFound("this email verification link is not valid")
        failure = failure or _consume(uow, record, now)
        if failure is None:
            user.email_verified_at = now
            _revoke(uow, user.id, now, UserToken.email == user.email)
            record_event(
                uow,
                actor=Actor.for_user(user),  # proved by reading the mailbox
                action=AuditAction.EMAIL_VERIFICATION_COMPLETE,
                target=user_target(user.email),
                after={"token_id": str(record.id)},
            )
            uow.commit()
            return
        token_id, email = record.id, user.email
    _refuse(uow, AuditAction.EMAIL_VERIFICATION_FAILED, token_id, email, failure)


def request_email_change(
    uow: UnitOfWork,
    new_email: str,
    *,
    actor: Actor,
    password: str,
    limiter: RateLimiter,
    hasher: PasswordHasher,
) -> None:
    """Ask to change the signed-in user's email to ``new_email``.

    Needs the current password (S17): a wrong one is refused, and counts as
    a sign-in attempt of the user (S16). An address another user has is
    refused. A one-time link goes to the new address, which must confirm
    (``confirm_email_change``); a notice goes to the old one (S5). Older
    email change links of the user die (S9).
    """
    address = normalize_email(new_email)
    with uow:
        user = _signed_in_user(uow, actor)
        password_hash, current = user.password_hash, user.email
    count_login_attempt(limiter, current, client_address=None)
    # Checked between transactions, so argon2's slowness holds no lock.
    if not hasher.verify(password_hash, password):
        _audit_alone(
            uow, actor, AuditAction.USER_EMAIL_CHANGE_REFUSED, current, {"reason": "password"}
        )
        raise PermissionDenied("the password is not correct")
    with uow:
        user = _signed_in_user(uow, actor)
        if user.email != current or user.password_hash != password_hash:
            raise Conflict("your account changed meanwhile; try again")
        if address == user.email:
            raise InvalidInput(f"{address} is your email address already")
        if _taken(uow, address, user.id):
            raise AlreadyExists(f"another user has the email address {address}")
        now = uow.clock.now()
        _revoke(uow, user.id, now, UserToken.email != user.email)
        token, record = _insert_token(uow, user, address, now)
        record_event(
            uow,
            actor=actor,
            action=AuditAction.USER_EMAIL_CHANGE_REQUEST,
            target=user_target(user.email),
            after={
                "new_email": address,
                "token_id": str(record.id),
                "expires_at": record.expires_at.isoformat(),
            },
        )
        send_templated_email(
            uow,
            "email_change_confirm",
            to=[address],
            holds_secret=True,
            name=user.name,
            address=address,
            old_address=user.email,
            link=_link(uow, "confirm-email-change", token),
            expires_at=f"{record.expires_at:%Y-%m-%d %H:%M}",
        )
        send_templated_email(
            uow,
            "email_change_requested",
            to=[user.email],
            name=user.name,
            address=user.email,
            new_address=address,
            requested_at=f"{now:%Y-%m-%d %H:%M}",
        )
        uow.commit()


def confirm_email_change(uow: UnitOfWork, token: str) -> None:
    """Move the user to the address the change link went to; the link is spent.

    The new address counts as verified. Every other outstanding token of the
    user dies, reset links included (S9), and the old address is told (S5).
    NotFound for anything but an email change link (S11); Gone (audited) for
    a dead one; AlreadyExists when another user took the address meanwhile.
    """
    with uow:
        record = _find_token(uow, token)
        user = record.user
        now = uow.clock.now()
        failure = _failure(record, now)
        if failure is None and record.email == user.email:
            raise NotFound("this email change link is not valid")
        if failure is None and _taken(uow, record.email, user.id):
            raise AlreadyExists(f"another user has the email address {record.email}")
        failure = failure or _consume(uow, record, now)
        if failure is None:
            old = user.email
            user.email = record.email
            user.email_verified_at = now
            user.email_changed_at = now
            _revoke(uow, user.id, now, UserToken.id != record.id, every_purpose=True)
            record_event(
                uow,
                actor=Actor.for_user(user),
                action=AuditAction.USER_EMAIL_CHANGE,
                target=user_target(user.email),
                before={"email": old},
                after={"email": user.email, "token_id": str(record.id)},
            )
            send_templated_email(
                uow,
                "email_changed",
                to=[old],
                name=user.name,
                address=old,
                new_address=user.email,
                changed_at=f"{now:%Y-%m-%d %H:%M}",
            )
            uow.commit()
            return
        token_id, email = record.id, user.email
    _refuse(uow, AuditAction.USER_EMAIL_CHANGE_FAILED, token_id, email, failure)


# --- helpers -----------------------------------------------------------------------


def _signed_in_user(tx: Tx, actor: Actor) -> User:
    if actor.user_id is None:
        raise PermissionDenied("only a signed-in user can do this, for themselves")
    user = tx.session.get(User, actor.user_id)
    if user is None or not user.is_active:
        raise NotFound("no such user")
    return user


def _taken(tx: Tx, address: str, user_id: uuid.UUID) -> bool:
    other = tx.session.scalar(select(User.id).where(User.email == address, User.id != user_id))
    return other is not None


def _revoke(
    tx: Tx,
    user_id: uuid.UUID,
    now: datetime,
    which: ColumnElement[bool],
    *,
    every_purpose: bool = False,
) -> None:
    """Revoke the user's unused verification tokens that ``which`` selects (S9).

    ``every_purpose`` revokes the user's other tokens too, reset links included.
    """
    purpose = None if every_purpose else TokenPurpose.EMAIL_VERIFICATION
    revoke_tokens(tx, user_id, now, purpose=purpose, which=which)


def _insert_token(tx: Tx, user: User, address: str, now: datetime) -> tuple[str, UserToken]:
    token, token_hash = new_token(VERIFICATION_PREFIX)
    record = add_token(
        tx,
        user_id=user.id,
        purpose=TokenPurpose.EMAIL_VERIFICATION,
        email=address,
        token_hash=token_hash,
        now=now,
        expires_at=now + tx.settings.email_verification_ttl,
    )
    return token, record


def _link(tx: Tx, page: str, token: str) -> str:
    # Always the configured base URL, never the request's Host header (S4).
    return f"{tx.settings.base_url.rstrip('/')}/{page}/{token}"


def _find_token(tx: Tx, token: str) -> UserToken:
    record = find_token(tx, hash_token(token), TokenPurpose.EMAIL_VERIFICATION)  # S11
    if record is None:
        raise NotFound("this link is not valid")
    return record


def _failure(record: UserToken, now: datetime) -> str | None:
    """Why ``record`` cannot be used now, or None when it can."""
    user = record.user
    changed = user.email_changed_at
    if record.used_at is not None:
        return "used"
    if record.revoked_at is not None:
        return "revoked"
    if now >= record.expires_at:
        return "expired"
    if changed is not None and changed > record.created_at:
        return "email_changed"  # S9
    if not user.is_active:
        return "inactive"
    return None


def _consume(tx: Tx, record: UserToken, now: datetime) -> str | None:
    """Mark the token used, or report that a concurrent request got there first (S10)."""
    return None if spend_token(tx, record, now) else "used"


def _audit_alone(
    uow: UnitOfWork, actor: Actor, action: AuditAction, email: str, after: dict[str, str]
) -> None:
    with uow:
        record_event(uow, actor=actor, action=action, target=user_target(email), after=after)
        uow.commit()


def _refuse(
    uow: UnitOfWork, action: AuditAction, token_id: uuid.UUID, email: str, reason: str
) -> None:
    """Audit a refused link in a transaction of its own, then raise Gone (S35)."""
    _audit_alone(uow, ANONYMOUS, action, email, {"token_id": str(token_id), "reason": reason})
    if reason == "used":
        raise Gone("this link was already used")
    if reason == "expired":
        raise Gone("this link has expired; ask for a new one")
    raise Gone(_DEAD)
