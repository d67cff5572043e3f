"""Use cases for users, API tokens and sign-in sessions."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import bindparam, select

from keyholder import metrics
from keyholder.audit.actions import AuditAction
from keyholder.audit.service import record_event
from keyholder.audit.targets import user_target
from keyholder.db.prepared import PreparedRead
from keyholder.db.tx import Tx
from keyholder.db.uow import UnitOfWork
from keyholder.errors import (
    AlreadyExists,
    InvalidInput,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
)
from keyholder.identity.actor import Actor
from keyholder.identity.emails import normalize_email
from keyholder.identity.hashing import HashingPool
from keyholder.identity.models import ApiToken, MfaMethod, StaffRole, User, UserSession, earliest
from keyholder.identity.sessions import (
    open_session,
    revoke_session,
    rotate_after_privilege_change,
)
from keyholder.identity.throttle import RateLimiter, count_login_attempt, forget_login_failures
from keyholder.identity.tokens import hash_token, new_token

if TYPE_CHECKING:
    from keyholder.identity.passwords import PasswordHasher

API_TOKEN_PREFIX = "kh"  # noqa: S105 - a label, not a secret


def find_user(tx: Tx, email: str) -> User | None:
    return tx.session.scalar(select(User).where(User.email == normalize_email(email)))


def insert_user(
    tx: Tx,
    email: str,
    *,
    name: str = "",
    password_hash: str | None = None,
    staff_role: StaffRole | None = None,
    email_verified: bool = False,
) -> User:
    """Add a user to the caller's transaction (no audit, no commit).

    Takes a hash, not a password: hash with ``PasswordHasher.hash`` before opening the
    transaction, so argon2's deliberate slowness never holds a write lock.
    """
    email = normalize_email(email)
    if find_user(tx, email) is not None:
        raise AlreadyExists(f"a user with email {email} already exists")
    now = tx.clock.now()
    user = User(
        email=email,
        name=name.strip(),
        password_hash=password_hash,
        password_changed_at=now if password_hash is not None else None,
        email_verified_at=now if email_verified else None,
        staff_role=staff_role,
        created_at=now,
    )
    tx.session.add(user)
    tx.session.flush()
    return user


def create_user(
    uow: UnitOfWork,
    email: str,
    *,
    name: str = "",
    password: str | None = None,
    staff_role: StaffRole | None = None,
    actor: Actor,
    hasher: PasswordHasher,
) -> User:
    """Create a user; only platform admins create users or grant staff roles."""
    if not actor.is_staff_admin:
        raise PermissionDenied("only platform admins can create users")
    password_hash = hasher.hash(password) if password is not None else None
    with uow:
        user = insert_user(
            uow,
            email,
            name=name,
            password_hash=password_hash,
            staff_role=staff_role,
            email_verified=True,
        )
        record_event(
            uow,
            actor=actor,
            action=AuditAction.USER_CREATE,
            target=user_target(user.email),
            after={"email": user.email, "name": user.name, "staff_role": staff_role},
        )
        uow.commit()
        return user


def set_staff_role(uow: UnitOfWork, email: str, role: StaffRole | None, *, actor: Actor) -> User:
    """Grant, change or take away a platform staff role.

    A change ends the user's sessions and API tokens (S15, see
    ``identity.sessions``): they sign in again and get a new session id.
    """
    if not actor.is_staff_admin:
        raise PermissionDenied("only platform admins can change staff roles")
    with uow:
        user = find_user(uow, email)
        if user is None:
            raise NotFound(f"no user with email {normalize_email(email)}")
        before = user.staff_role
        user.staff_role = role
        record_event(
            uow,
            actor=actor,
            action=AuditAction.USER_STAFF_ROLE,
            target=user_target(user.email),
            before={"staff_role": before},
            after={"staff_role": role},
        )
        if role != before:
            rotate_after_privilege_change(uow, user, reason="staff_role", actor=actor)
        uow.commit()
        return user


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """A token shown once to the person who asked for it."""

    token: str
    record: ApiToken


def create_api_token(uow: UnitOfWork, email: str, *, name: str = "", actor: Actor) -> IssuedToken:
    """Issue an API token for a user (themselves, or by a platform admin)."""
    with uow:
        user = find_user(uow, email)
        if user is None:
            raise NotFound(f"no user with email {normalize_email(email)}")
        # Their own token needs no staff power (S18: staff without MFA may ask).
        if not (actor.user_id == user.id or actor.is_staff_admin):
            raise PermissionDenied("you can only create tokens for yourself")
        token, token_hash = new_token(API_TOKEN_PREFIX)
        record = ApiToken(
            user_id=user.id,
            name=name.strip(),
            token_hash=token_hash,
            created_at=uow.clock.now(),
            # Worth what the caller's own sign-in was worth; made for someone else, nothing.
            mfa_method=actor.mfa_method if actor.user_id == user.id else None,
        )
        uow.session.add(record)
        uow.session.flush()
        record_event(
            uow,
            actor=actor,
            action=AuditAction.TOKEN_CREATE,
            target=user_target(user.email),
            after={"token_id": str(record.id), "name": record.name},
        )
        uow.commit()
        return IssuedToken(token=token, record=record)


# The two credential checks run on every authenticated request, so their
# statements are built once: only the token hash changes between calls, and
# SQLAlchemy reuses the compiled form. Neither caches any answer: a token or
# session revoked a moment ago is refused on the very next request.
_API_TOKEN_ACTOR = PreparedRead(
    select(
        User.id,
        User.email,
        User.staff_role,
        User.mfa_enabled_at,
        User.passkeys_since,
        ApiToken.expires_at,
        ApiToken.created_at,
        ApiToken.mfa_method,
    )
    .join(ApiToken, ApiToken.user_id == User.id)
    .where(
        ApiToken.token_hash == bindparam("token_hash"),
        ApiToken.revoked_at.is_(None),
        User.is_active.is_(True),
    )
)
_SESSION_ACTOR = PreparedRead(
    select(
        User.id,
        User.email,
        User.staff_role,
        User.mfa_enabled_at,
        User.passkeys_since,
        UserSession.expires_at,
        UserSession.mfa_verified_at,
        UserSession.mfa_method,
    )
    .join(UserSession, UserSession.user_id == User.id)
    .where(
        UserSession.token_hash == bindparam("token_hash"),
        UserSession.revoked_at.is_(None),
        User.is_active.is_(True),
    )
)


def authenticate_api_token(uow: UnitOfWork, token: str) -> Actor | None:
    """The actor behind a bearer token, or None when it is unknown, revoked or expired."""
    now = uow.clock.now()
    with uow:
        # One Core row, no ORM entity: this runs before every authenticated request.
        row = _API_TOKEN_ACTOR.first(uow.read_engine(), {"token_hash": hash_token(token)})
    if row is None or (row.expires_at is not None and row.expires_at <= now):
        return None
    # A token minted before MFA was switched on (say, with a stolen password)
    # does not carry the second factor: only tokens made since then do (S18).
    # Its method is that of the session that made it (None: made elsewhere),
    # so only a token made from a passkey sign-in passes the phishing-resistant
    # policy (see ``Actor``).
    since = earliest(row.mfa_enabled_at, row.passkeys_since)
    verified = _not_after(since, row.created_at)
    return _actor(
        uow,
        row.id,
        row.email,
        row.staff_role,
        mfa_enabled=verified,
        mfa_method=row.mfa_method if verified else None,
    )


def _not_after(moment: datetime | None, reference: datetime) -> bool:
    return moment is not None and moment <= reference


@dataclass(frozen=True, slots=True)
class SignedIn:
    session_token: str
    actor: Actor
    user: User


def log_in(
    uow: UnitOfWork,
    email: str,
    password: str,
    *,
    client_address: str | None,
    replaces: str | None = None,
    limiter: RateLimiter,
    hasher: PasswordHasher,
) -> SignedIn:
    """Check a password and open a server-side session (the synchronous form).

    Past the sign-in limits per client address, per account and client, or
    per account it raises ``TooManyRequests`` before looking anything up
    (S16, ``identity.throttle``). The web uses ``log_in_on_pool`` instead.
    """
    count_login_attempt(limiter, email, client_address=client_address)
    return check_password(
        uow,
        email,
        password,
        client_address=client_address,
        replaces=replaces,
        limiter=limiter,
        hasher=hasher,
    )


async def log_in_on_pool(
    uow: UnitOfWork,
    email: str,
    password: str,
    *,
    client_address: str | None,
    replaces: str | None = None,
    limiter: RateLimiter,
    hashing: HashingPool,
) -> SignedIn:
    """``log_in`` for the web: the limits first, then the hash on the bounded pool (S40).

    The limits are counted before anything is queued, so a throttled client
    never takes a place in the hashing queue; they are counted on a thread
    because with Redis they wait for the network. Cancelling the awaiting task
    (the client hung up) takes the job out of the queue unhashed. A full queue,
    or a job that waited past its deadline, raises ``ServiceUnavailable``.
    """
    await asyncio.to_thread(count_login_attempt, limiter, email, client_address=client_address)
    return await hashing.run(
        check_password,
        uow,
        email,
        password,
        client_address=client_address,
        replaces=replaces,
        limiter=limiter,
        hasher=hashing.hasher,
    )


def check_password(
    uow: UnitOfWork,
    email: str,
    password: str,
    *,
    client_address: str | None,
    replaces: str | None = None,
    limiter: RateLimiter,
    hasher: PasswordHasher,
) -> SignedIn:
    """The hashing half of a sign-in, the limits already counted; opens the session.

    The password is checked between two short transactions, not inside one:
    argon2 takes tens of milliseconds on purpose, and on SQLite a write
    transaction would block every other writer meanwhile.

    ``replaces`` is the session token the client already holds, if any: it is
    revoked as the new session opens, so signing in always changes the id (S15).
    A hash made with outdated argon2 parameters is replaced (S12). A sign-in
    clears the account's failure counts (``forget_login_failures``).
    """
    typed = email
    try:
        email = normalize_email(email)
    except InvalidInput:
        email = ""  # still pay for a hash below, so a typo is not faster than a real miss
    with uow:
        stored = uow.session.scalar(
            select(User.password_hash).where(User.email == email, User.is_active.is_(True))
        )
    if not hasher.verify(stored, password) or stored is None:
        metrics.sign_in_failed()
        raise NotAuthenticated("email or password is wrong")
    rehashed = hasher.rehash(password) if hasher.needs_rehash(stored) else None
    with uow:
        user = uow.session.scalar(select(User).where(User.email == email, User.is_active.is_(True)))
        if user is None or user.password_hash != stored:
            # Deactivated or given a new password while we were checking.
            raise NotAuthenticated("email or password is wrong")
        now = uow.clock.now()
        if rehashed is not None:
            user.password_hash = rehashed
        user.last_login_at = now
        token = open_session(uow, user, client_address=client_address)
        if replaces:
            revoke_session(uow, replaces)
        uow.commit()
    forget_login_failures(limiter, typed, client_address=client_address)
    return SignedIn(session_token=token, actor=Actor.for_user(user), user=user)


def log_out(uow: UnitOfWork, session_token: str) -> None:
    with uow:
        session = uow.session.scalar(
            select(UserSession).where(UserSession.token_hash == hash_token(session_token))
        )
        if session is not None and session.revoked_at is None:
            session.revoked_at = uow.clock.now()
            uow.commit()


def authenticate_session(uow: UnitOfWork, session_token: str) -> Actor | None:
    now = uow.clock.now()
    with uow:
        row = _SESSION_ACTOR.first(uow.read_engine(), {"token_hash": hash_token(session_token)})
    if row is None or row.expires_at <= now:
        return None
    since = earliest(row.mfa_enabled_at, row.passkeys_since)
    if since is not None and (row.mfa_verified_at is None or row.mfa_verified_at < since):
        # Signed in with the password only, or verified before the user's
        # second factors began: verify first (identity.mfa, identity.passkeys).
        return None
    return _actor(
        uow,
        row.id,
        row.email,
        row.staff_role,
        mfa_enabled=since is not None,
        mfa_method=row.mfa_method if since is not None else None,
    )


def _actor(
    uow: UnitOfWork,
    user_id: uuid.UUID,
    email: str,
    staff_role: str | None,
    *,
    mfa_enabled: bool,
    mfa_method: str | None,
) -> Actor:
    # A token made after MFA was enabled counts as MFA'd; a session only
    # reaches here verified (S18 relies on both, see ``Actor.is_staff``).
    role = StaffRole(staff_role) if staff_role else None
    return Actor(
        label=email,
        user_id=user_id,
        email=email,
        staff_role=role,
        mfa_enabled=mfa_enabled,
        mfa_method=MfaMethod(mfa_method) if mfa_method else None,
        phishing_resistant_required=uow.settings.require_phishing_resistant_admin,
    )


def get_user(uow: UnitOfWork, actor: Actor) -> User:
    """The actor's own user record."""
    with uow:
        user = uow.session.get(User, actor.user_id) if actor.user_id else None
        if user is None:
            raise NotFound("this actor has no user record")
        return user
