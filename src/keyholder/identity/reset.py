"""Self-service password reset: a one-time link to the user's verified mailbox.

    request_password_reset   anyone asks for an email address; the same answer
                             whatever the address (SECURITY.md S1)
    issue_reset_link         an operator creates a link to hand over (CLI)
    reset_password           the link's holder sets a new password, once

A reset token is a ``khr_`` token of 256 random bits (S6); only its SHA-256 is
stored, in ``user_tokens`` with purpose ``password_reset``. It works once
(S7, S10), expires after ``settings.password_reset_ttl`` (S8) and dies when a
newer one is issued or the user's password or email changes (S9). A reset
ends every session and API token of the user and signs nobody in (S14).
Staff accounts are never recovered this way (S31), nor an account admin
whose email changed recently (S5).
"""

from __future__ import annotations

import hashlib
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import bindparam, exists, select

from keyholder.accounts.models import Membership
from keyholder.accounts.permissions import ADMIN_PERMISSION, grants
from keyholder.audit.actions import AuditAction
from keyholder.audit.service import record_event
from keyholder.audit.targets import user_target
from keyholder.db.tx import Tx
from keyholder.db.uow import UnitOfWork
from keyholder.errors import (
    Conflict,
    Gone,
    InvalidInput,
    KeyholderError,
    NotFound,
    PermissionDenied,
)
from keyholder.identity.actor import Actor
from keyholder.identity.credentials import revoke_all_credentials
from keyholder.identity.emails import normalize_email
from keyholder.identity.models import TokenPurpose, User, UserToken
from keyholder.identity.throttle import RateLimiter, allow_reset_email
from keyholder.identity.tokens import hash_token, new_token
from keyholder.identity.user_tokens import add_token, find_token, revoke_tokens, spend_token
from keyholder.mail.outbox import send_templated_email

if TYPE_CHECKING:
    from keyholder.identity.passwords import PasswordHasher

RESET_PREFIX = "khr"
# Whoever asks for a reset or holds a link is not signed in; the audit event
# still records their client address and request id.
ANONYMOUS = Actor(label="anonymous")

# The user asked about and whether they administer any account (S5), in one query.
_CANDIDATE = select(
    User,
    exists()
    .where(Membership.user_id == User.id, grants(Membership.permissions, ADMIN_PERMISSION))
    .label("manages"),
).where(User.email == bindparam("email"))


def request_password_reset(uow: UnitOfWork, email: str, *, limiter: RateLimiter) -> None:
    """Email a one-time reset link to ``email`` if its user may reset that way.

    Returns nothing and raises nothing for any address, so the caller cannot
    tell a customer's address from an unknown, unverified or staff one (S1).
    A refused request is audited too, and takes as long as a sent one (see
    ``_Pacer``), so neither the answer nor its timing tells them apart.
    """
    started = time.perf_counter()
    try:
        address: str | None = normalize_email(email)
    except InvalidInput:
        address = None
    # Counted for every address; past the limit nothing is sent, silently (S3).
    allowed = allow_reset_email(limiter, email, client_address=uow.context.client_address)
    with uow:
        now = uow.clock.now()
        user, manages = _candidate(uow, address)
        refusal = "invalid_email" if address is None else _refusal(uow, user, manages, now)
        if refusal is None and not allowed:
            refusal = "rate_limited"
        if user is not None and refusal is None:
            _revoke_unused_tokens(uow, user.id, now)
            token, token_hash = new_token(RESET_PREFIX)
            record = _insert_token(uow, user, token_hash, now)
            _audit_request(uow, ANONYMOUS, user, record, via="email")
            _queue_reset_email(uow, user.email, _link(uow, token), record.expires_at)
        else:
            record_event(
                uow,
                actor=ANONYMOUS,
                action=AuditAction.PASSWORD_RESET_REQUEST_REFUSED,
                target=user_target(address or "?"),
                after={"reason": refusal},
            )
        uow.commit()
    if refusal is None:
        _PACER.sent(started)
    else:
        _PACER.refused(started)


class _Pacer:
    """Makes refused reset requests last as long as sent ones (S1).

    A sent request writes two more rows (the token and the email) than a
    refused one, which only writes its audit event: about a millisecond, and
    measurable over enough requests. The work cannot be made equal without a
    user to issue a token to, so the time is. Durations of the last
    ``window`` sent and refused requests are kept (per process); a refused
    request that was the k-th fastest of the refusals goes on until it has
    lasted as long as the k-th fastest sent request. That maps one
    distribution onto the other, spread included, as load changes both.

    It burns CPU rather than sleeping: on a busy machine a sleeping thread
    wakes late, which would make refusals the slow ones. Hashing a block of
    a few KiB releases the GIL, so the process's other threads run meanwhile.
    """

    _BLOCK = bytes(8192)

    def __init__(self, window: int = 64, longest: float = 0.05) -> None:
        self._lock = threading.Lock()
        self._sent: deque[float] = deque(maxlen=window)
        self._refused: deque[float] = deque(maxlen=window)
        self._longest = longest  # a stalled sent request must not stall refusals

    def sent(self, started: float) -> None:
        with self._lock:
            self._sent.append(time.perf_counter() - started)

    def refused(self, started: float) -> None:
        took = time.perf_counter() - started
        with self._lock:
            self._refused.append(took)
            if not self._sent:
                return  # nothing sent yet in this process: nothing to look like
            share_faster = sum(other < took for other in self._refused) / len(self._refused)
            sent = sorted(self._sent)
            target = sent[int(share_faster * len(sent))]
        deadline = started + min(target, self._longest)
        while time.perf_counter() < deadline:
            hashlib.sha256(self._BLOCK).digest()


_PACER = _Pacer()


@dataclass(frozen=True, slots=True)
class ResetLink:
    """A reset link shown once to the operator who created it."""

    link: str
    email: str
    expires_at: datetime


def issue_reset_link(uow: UnitOfWork, email: str, *, actor: Actor) -> ResetLink:
    """Create a reset link for a customer and return it instead of emailing it.

    For operators who hand the link over themselves. The same rules hold as
    for self-service (no staff, S31; no admin with a fresh email, S5); older
    links of the user die (S9). The token is in no audit event.
    """
    if not actor.is_staff_admin:
        raise PermissionDenied("only platform admins can create password reset links")
    address = normalize_email(email)
    with uow:
        now = uow.clock.now()
        user, manages = _candidate(uow, address)
        refusal = _refusal(uow, user, manages, now)
        if user is None or refusal is not None:
            raise _refusal_error(refusal or "unknown_email", address, uow)
        _revoke_unused_tokens(uow, user.id, now)
        token, token_hash = new_token(RESET_PREFIX)
        record = _insert_token(uow, user, token_hash, now)
        _audit_request(uow, actor, user, record, via="operator")
        uow.commit()
        return ResetLink(link=_link(uow, token), email=user.email, expires_at=record.expires_at)


def reset_password(
    uow: UnitOfWork, token: str, new_password: str, *, hasher: PasswordHasher
) -> None:
    """Set a new password with a reset token; the token is spent.

    Raises NotFound for a token that is not a reset token, Gone (audited) for
    one that was used, expired or revoked, and InvalidInput for a password the
    policy refuses, which leaves the token usable. On success every session
    and API token of the user is revoked, nobody is signed in, and a notice
    goes to the user's address.
    """
    token_hash = hash_token(token)
    # A short read first: a dead or made-up link never costs an argon2 hash.
    with uow:
        failure = _failure(_find_token(uow, token_hash), uow.clock.now())
    if failure is not None:
        _refuse(uow, failure)
    # Hashed between transactions, so argon2's slowness holds no write lock.
    password_hash = hasher.hash(new_password)
    with uow:
        record = _find_token(uow, token_hash)
        now = uow.clock.now()
        failure = _failure(record, now) or _consume(uow, record, now)
        if failure is None:
            _complete(uow, record, password_hash, now)
            uow.commit()
            return
    # Left the block without committing: nothing changed. Audit the refusal alone.
    _refuse(uow, failure)


# --- issuing -----------------------------------------------------------------------


def _candidate(tx: Tx, address: str | None) -> tuple[User | None, bool]:
    row = tx.session.execute(_CANDIDATE, {"email": address or ""}).first()
    return (row[0], bool(row[1])) if row is not None else (None, False)


def _refusal(tx: Tx, user: User | None, manages: bool, now: datetime) -> str | None:
    """Why this user gets no reset link, or None when they may have one."""
    if user is None:
        return "unknown_email"
    if not user.is_active:
        return "inactive"
    if user.email_verified_at is None:
        return "unverified"
    if user.staff_role is not None:
        return "staff"  # S31: staff recover through staff processes only
    changed = user.email_changed_at
    if manages and changed is not None and now - changed < tx.settings.email_change_reset_block:
        return "email_recently_changed"  # S5: a hijacked mailbox must not take an account
    return None


def _refusal_error(reason: str, address: str, tx: Tx) -> KeyholderError:
    """What an operator is told when a link cannot be made (self-service is told nothing)."""
    if reason == "unknown_email":
        return NotFound(f"no user with email {address}")
    if reason == "staff":
        return PermissionDenied(
            f"{address} is a staff account: staff cannot be recovered through customer flows"
        )
    if reason == "email_recently_changed":
        days = tx.settings.email_change_reset_block.days
        return Conflict(
            f"the email of {address} changed less than {days} days ago and it administers "
            "an account: no reset link until then"
        )
    if reason == "unverified":
        return Conflict(f"{address} has not verified its email address")
    return Conflict(f"{address} is deactivated")


def _revoke_unused_tokens(tx: Tx, user_id: uuid.UUID, now: datetime) -> None:
    """Revoke the user's reset tokens not yet used (S9: a newer token kills older ones)."""
    revoke_tokens(tx, user_id, now, purpose=TokenPurpose.PASSWORD_RESET)


def _insert_token(tx: Tx, user: User, token_hash: str, now: datetime) -> UserToken:
    return add_token(
        tx,
        user_id=user.id,
        purpose=TokenPurpose.PASSWORD_RESET,
        email=user.email,
        token_hash=token_hash,
        now=now,
        expires_at=now + tx.settings.password_reset_ttl,
    )


def _audit_request(tx: Tx, actor: Actor, user: User, record: UserToken, *, via: str) -> None:
    # The token id names the token; the token itself is never in the log (S6).
    record_event(
        tx,
        actor=actor,
        action=AuditAction.PASSWORD_RESET_REQUEST,
        target=user_target(user.email),
        after={
            "token_id": str(record.id),
            "via": via,
            "expires_at": record.expires_at.isoformat(),
        },
    )


def _link(tx: Tx, token: str) -> str:
    # Always the configured base URL, never the request's Host header (S4).
    return f"{tx.settings.base_url.rstrip('/')}/reset/{token}"


def _queue_reset_email(tx: Tx, address: str, link: str, expires_at: datetime) -> None:
    minutes = int(tx.settings.password_reset_ttl.total_seconds() // 60)
    send_templated_email(
        tx,
        "password_reset",
        to=[address],
        holds_secret=True,
        address=address,
        link=link,
        minutes=minutes,
        expires_at=f"{expires_at:%Y-%m-%d %H:%M}",
    )


# --- using -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Failure:
    """Why a known reset token was refused, for the 410 and the audit log."""

    reason: str
    detail: str
    token_id: uuid.UUID
    email: str


def _find_token(tx: Tx, token_hash: str) -> UserToken:
    record = find_token(tx, token_hash, TokenPurpose.PASSWORD_RESET)  # S11
    if record is None:
        raise NotFound("this password reset link is not valid")
    return record


def _failure(record: UserToken, now: datetime) -> _Failure | None:
    """Why ``record`` cannot reset its user's password now, or None when it can."""
    user = record.user
    void = "this password reset link is no longer valid; ask for a new one"
    checks = (
        (record.used_at is not None, "used", "this password reset link was already used"),
        (record.revoked_at is not None, "revoked", void),
        (now >= record.expires_at, "expired", "this password reset link has expired; ask again"),
        # S9: a link belongs to the address and password the user had when it was made.
        (
            record.email != user.email or _after(user.email_changed_at, record.created_at),
            "email_changed",
            void,
        ),
        (_after(user.password_changed_at, record.created_at), "password_changed", void),
        (not user.is_active or user.staff_role is not None, "not_eligible", void),
    )
    for failed, reason, detail in checks:
        if failed:
            return _Failure(reason, detail, record.id, user.email)
    return None


def _after(moment: datetime | None, reference: datetime) -> bool:
    return moment is not None and moment > reference


def _consume(tx: Tx, record: UserToken, now: datetime) -> _Failure | None:
    """Mark the token used, or report that a concurrent request got there first (S10).

    A conditional UPDATE, not the row read above: on PostgreSQL the second of
    two concurrent updates waits for the first to commit, then re-checks the
    condition and matches nothing; on SQLite writers are serialised anyway.
    """
    if spend_token(tx, record, now):
        return None
    return _Failure("used", "this password reset link was already used", record.id, record.email)


def _complete(tx: Tx, record: UserToken, password_hash: str, now: datetime) -> None:
    user = record.user
    user.password_hash = password_hash
    user.password_changed_at = now
    _revoke_unused_tokens(tx, user.id, now)
    revoked = revoke_all_credentials(tx, user.id)  # S14; and no new session is opened
    record_event(
        tx,
        actor=Actor.for_user(user),  # proved by reading the user's mailbox
        action=AuditAction.PASSWORD_RESET_COMPLETE,
        target=user_target(user.email),
        after={"token_id": str(record.id), "credentials_revoked": revoked},
    )
    send_templated_email(
        tx,
        "password_changed",
        to=[user.email],
        address=user.email,
        changed_at=f"{now:%Y-%m-%d at %H:%M}",
    )


def _refuse(uow: UnitOfWork, failure: _Failure) -> None:
    """Audit a refused token in a transaction of its own, then raise Gone (S35)."""
    with uow:
        record_event(
            uow,
            actor=ANONYMOUS,
            action=AuditAction.PASSWORD_RESET_FAILED,
            target=user_target(failure.email),
            after={"token_id": str(failure.token_id), "reason": failure.reason},
        )
        uow.commit()
    raise Gone(failure.detail)
