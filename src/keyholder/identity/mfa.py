"""Second factor: TOTP (RFC 6238) with one-time recovery codes (S17; S18 builds on it).

Enrolment is two steps: ``begin_mfa_enrolment`` (re-authenticates with the
password, S17) stores a fresh secret and returns it with an ``otpauth://`` URI
and a QR code; ``confirm_mfa_enrolment`` checks a first code from the app,
enables MFA and returns ten recovery codes, shown once. Disabling MFA and
regenerating the recovery codes need the password again (S17).

A sign-in of a user with MFA opens a session that is not yet verified:
``identity.service.authenticate_session`` refuses it until
``verify_second_factor`` replaces it by a new session marked verified
(``UserSession.mfa_verified_at``; a new id, S15).

Codes: a TOTP code is accepted one step either side of now (clock drift), and
never twice: the step of the last accepted code is stored and only later steps
pass, set by one conditional UPDATE, so two requests racing with the same code
cannot both win. A recovery code is used up the same way. Time comes from
``uow.clock``. Every attempt counts against a per-user limit (``Scope.MFA_USER``).

Storage: the TOTP secret is stored encrypted in ``users.mfa_secret`` under
``KEYHOLDER_TOTP_KEYS`` (``identity.totp_keys``): verifying a code needs it
back. Recovery codes carry 80 random bits, so only their SHA-256 is stored;
they still work when the TOTP key is lost.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, NoReturn

import pyotp
from sqlalchemy import delete, or_, select, update

from keyholder.audit.actions import AuditAction
from keyholder.audit.service import record_event
from keyholder.audit.targets import user_target
from keyholder.db.tx import Tx
from keyholder.db.uow import UnitOfWork
from keyholder.errors import (
    Conflict,
    InvalidInput,
    KeyholderError,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    TooManyRequests,
)
from keyholder.identity.actor import Actor
from keyholder.identity.credentials import revoke_all_credentials
from keyholder.identity.emails import normalize_email
from keyholder.identity.models import MfaMethod, Passkey, RecoveryCode, User, UserSession
from keyholder.identity.reauth import reauthenticate
from keyholder.identity.sessions import rotate_at_second_factor
from keyholder.identity.throttle import RateLimiter, Scope
from keyholder.identity.tokens import hash_token
from keyholder.identity.totp_keys import decrypt_totp_secret, encrypt_totp_secret

if TYPE_CHECKING:
    from keyholder.identity.passwords import PasswordHasher

ISSUER = "Keyholder"
RECOVERY_CODE_COUNT = 10
RECOVERY_CODE_BYTES = 10  # 80 bits
# Steps either side of now that a TOTP code may come from (clock drift).
VALID_WINDOW = 1


@dataclass(frozen=True, slots=True)
class Enrolment:
    """What an authenticator app needs; shown to the user once."""

    secret: str
    otpauth_uri: str
    qr_svg: str


def begin_mfa_enrolment(
    uow: UnitOfWork, *, actor: Actor, password: str, limiter: RateLimiter, hasher: PasswordHasher
) -> Enrolment:
    """Store a fresh TOTP secret for the actor, not yet enabled (S17: needs the password)."""
    user_id = reauthenticate(uow, actor, password, limiter=limiter, hasher=hasher)
    secret = pyotp.random_base32()
    with uow:
        user = _user(uow, user_id)
        if user.mfa_enabled_at is not None:
            raise Conflict("MFA is already enabled; disable it first to enrol again")
        user.mfa_secret = encrypt_totp_secret(uow.settings, secret)
        user.mfa_last_step = None
        email = user.email
        uow.commit()
    uri = pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=ISSUER)
    import segno  # noqa: PLC0415 - the QR code is drawn at enrolment only, not at CLI start

    qr_svg = segno.make(uri, error="m").svg_inline(scale=4)
    return Enrolment(secret=secret, otpauth_uri=uri, qr_svg=qr_svg)


def confirm_mfa_enrolment(
    uow: UnitOfWork,
    code: str,
    *,
    actor: Actor,
    session_token: str | None = None,
    limiter: RateLimiter,
) -> list[str]:
    """Enable MFA once the app shows a right code; return the recovery codes, shown once.

    ``session_token`` (the session asking) counts as verified: it just proved
    the second factor. The user's other sessions must verify before acting.
    """
    _count_attempt(limiter, actor)
    with uow:
        user = _user(uow, actor.user_id)
        if user.mfa_enabled_at is not None:
            raise Conflict("MFA is already enabled")
        if user.mfa_secret is None:
            raise Conflict("start the enrolment first")
        if not _accept_totp(uow, user, code):
            raise InvalidInput("the code is wrong or has expired; try the next one")
        now = uow.clock.now()
        user.mfa_enabled_at = now
        codes = _replace_recovery_codes(uow, user)
        if session_token is not None:
            _mark_verified(uow, user.id, session_token)
        record_event(
            uow,
            actor=actor,
            action=AuditAction.MFA_ENABLE,
            target=user_target(user.email),
            after={"mfa": True, "recovery_codes": len(codes)},
        )
        uow.commit()
    return codes


def disable_mfa(
    uow: UnitOfWork,
    *,
    actor: Actor,
    password: str,
    code: str,
    limiter: RateLimiter,
    hasher: PasswordHasher,
) -> None:
    """Turn MFA off (S17: needs the password and a current code or a recovery code)."""
    user_id = reauthenticate(uow, actor, password, limiter=limiter, hasher=hasher)
    _count_attempt(limiter, actor)
    with uow:
        user = _enabled_user(uow, user_id)
        if _accept_code(uow, user, code) is None:
            _record_failure(uow, actor, user, "disable", refusal=PermissionDenied)
        user.mfa_secret = None
        user.mfa_enabled_at = None
        user.mfa_last_step = None
        uow.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
        record_event(
            uow,
            actor=actor,
            action=AuditAction.MFA_DISABLE,
            target=user_target(user.email),
            before={"mfa": True},
            after={"mfa": False},
        )
        uow.commit()


def regenerate_recovery_codes(
    uow: UnitOfWork, *, actor: Actor, password: str, limiter: RateLimiter, hasher: PasswordHasher
) -> list[str]:
    """New recovery codes, shown once; the old ones stop working (S17: needs the password)."""
    user_id = reauthenticate(uow, actor, password, limiter=limiter, hasher=hasher)
    with uow:
        user = _enabled_user(uow, user_id)
        codes = _replace_recovery_codes(uow, user)
        record_event(
            uow,
            actor=actor,
            action=AuditAction.MFA_RECOVERY_CODES,
            target=user_target(user.email),
            after={"recovery_codes": len(codes)},
        )
        uow.commit()
    return codes


def verify_second_factor(
    uow: UnitOfWork, session_token: str, code: str, *, limiter: RateLimiter
) -> str:
    """Pass the second factor for a signed-in session; return the session that replaces it.

    ``code`` is a current TOTP code (not one used before) or an unused
    recovery code, which is used up. The session presented is revoked and a
    new, verified one opened in the same transaction (S15, see
    ``identity.sessions``): the caller hands its token to the client.
    """
    now = uow.clock.now()
    with uow:
        user = uow.session.scalar(
            select(User)
            .join(UserSession, UserSession.user_id == User.id)
            .where(
                UserSession.token_hash == hash_token(session_token),
                UserSession.revoked_at.is_(None),
                UserSession.expires_at > now,
                User.is_active.is_(True),
            )
        )
        if user is None:
            raise NotAuthenticated("your session has ended; sign in again")
        if user.mfa_enabled_at is None:
            raise Conflict("this account has no second factor to verify")
        actor = Actor.for_user(user)
    _count_attempt(limiter, actor)
    with uow:
        user = _enabled_user(uow, actor.user_id)
        method = _accept_code(uow, user, code)
        if method is None:
            _record_failure(uow, actor, user, "session")
        if method is MfaMethod.RECOVERY_CODE:
            # The way back when a key or phone is lost; under the phishing-resistant
            # policy it stands in for a passkey, so each use is on the record.
            record_event(
                uow,
                actor=actor,
                action=AuditAction.MFA_RECOVERY_CODE_USE,
                target=user_target(user.email),
                after={"recovery_codes_left": _recovery_codes_left(uow, user)},
            )
        verified_token = rotate_at_second_factor(
            uow, user, session_token, actor=actor, method=method
        )
        uow.commit()
    return verified_token


# --- helpers -----------------------------------------------------------------


def reset_mfa(uow: UnitOfWork, email: str, *, actor: Actor) -> None:
    """Turn a user's MFA off for them (a lost phone or key and no recovery codes left).

    Their authenticator app and every passkey go. Platform admins and the
    CLI operator only: it removes a factor, so the user's sessions and API
    tokens end too and must be earned again.
    """
    if not actor.is_staff_admin:
        raise PermissionDenied("only platform admins can reset another user's MFA")
    with uow:
        user = uow.session.scalar(select(User).where(User.email == normalize_email(email)))
        if user is None:
            raise NotFound(f"no user with email {normalize_email(email)}")
        if user.second_factor_since is None:
            raise Conflict(f"{user.email} has no multi-factor authentication to reset")
        user.mfa_secret, user.mfa_enabled_at, user.mfa_last_step = None, None, None
        user.passkeys_since = None
        uow.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
        uow.session.execute(delete(Passkey).where(Passkey.user_id == user.id))
        revoked = revoke_all_credentials(uow, user.id)
        record_event(
            uow,
            actor=actor,
            action=AuditAction.MFA_RESET,
            target=user_target(user.email),
            before={"mfa": True},
            after={"mfa": False, "credentials_revoked": revoked},
        )
        uow.commit()


def _user(tx: Tx, user_id: uuid.UUID | None) -> User:
    user = tx.session.get(User, user_id) if user_id else None
    if user is None or not user.is_active:
        raise NotFound("this actor has no user record")
    return user


def _enabled_user(tx: Tx, user_id: uuid.UUID | None) -> User:
    user = _user(tx, user_id)
    if user.mfa_enabled_at is None or user.mfa_secret is None:
        raise Conflict("MFA is not enabled")
    return user


def _count_attempt(limiter: RateLimiter, actor: Actor) -> None:
    key = str(actor.user_id)
    if not limiter.hit(Scope.MFA_USER, key):
        raise TooManyRequests(
            "too many second-factor attempts; wait a while and try again",
            retry_after=limiter.retry_after(Scope.MFA_USER, key) or 1,
        )


def _accept_code(tx: Tx, user: User, code: str) -> MfaMethod | None:
    """Which kind of code was accepted (and used up), or None when none was."""
    cleaned = code.strip().replace(" ", "")
    if cleaned.isdigit() and len(cleaned) == 6:
        return MfaMethod.TOTP if _accept_totp(tx, user, cleaned) else None
    return MfaMethod.RECOVERY_CODE if _use_recovery_code(tx, user, cleaned) else None


def _recovery_codes_left(tx: Tx, user: User) -> int:
    return len(
        tx.session.scalars(
            select(RecoveryCode.id).where(
                RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)
            )
        ).all()
    )


def _accept_totp(tx: Tx, user: User, code: str) -> bool:
    """Accept a TOTP code from a step after the last one accepted; record its step."""
    assert user.mfa_secret is not None
    totp = pyotp.TOTP(decrypt_totp_secret(tx.settings, user.mfa_secret))
    code = code.strip().replace(" ", "")
    now_step = int(tx.clock.now().timestamp()) // totp.interval
    for step in range(now_step - VALID_WINDOW, now_step + VALID_WINDOW + 1):
        if not hmac.compare_digest(totp.generate_otp(step).encode(), code.encode()):
            continue
        # One conditional UPDATE: of two requests with the same code, one wins.
        won = tx.session.execute(
            update(User)
            .where(
                User.id == user.id,
                or_(User.mfa_last_step.is_(None), User.mfa_last_step < step),
            )
            .values(mfa_last_step=step)
            .execution_options(synchronize_session="fetch")
        ).rowcount  # type: ignore[attr-defined]
        return bool(won)
    return False


def _use_recovery_code(tx: Tx, user: User, code: str) -> bool:
    used = tx.session.execute(
        update(RecoveryCode)
        .where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == _hash_recovery_code(code),
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=tx.clock.now())
    ).rowcount  # type: ignore[attr-defined]
    return bool(used)


def _replace_recovery_codes(tx: Tx, user: User) -> list[str]:
    tx.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    now = tx.clock.now()
    codes = [_new_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
    tx.session.add_all(
        RecoveryCode(user_id=user.id, code_hash=_hash_recovery_code(code), created_at=now)
        for code in codes
    )
    tx.session.flush()
    return codes


def _new_recovery_code() -> str:
    raw = secrets.token_hex(RECOVERY_CODE_BYTES)
    return "-".join(raw[i : i + 5] for i in range(0, len(raw), 5))


def _hash_recovery_code(code: str) -> str:
    normalized = code.strip().lower().replace("-", "").replace(" ", "")
    return hashlib.sha256(normalized.encode("utf-8", "surrogatepass")).hexdigest()


def _mark_verified(tx: Tx, user_id: uuid.UUID, session_token: str) -> None:
    tx.session.execute(
        update(UserSession)
        .where(
            UserSession.token_hash == hash_token(session_token),
            UserSession.user_id == user_id,
            UserSession.revoked_at.is_(None),
        )
        .values(mfa_verified_at=tx.clock.now(), mfa_method=MfaMethod.TOTP)
    )


def _record_failure(
    uow: UnitOfWork,
    actor: Actor,
    user: User,
    during: str,
    *,
    refusal: type[KeyholderError] = NotAuthenticated,
) -> NoReturn:
    """Audit a wrong code in a transaction of its own (the caller's rolls back), then refuse."""
    email = user.email
    uow.session.rollback()
    record_event(
        uow,
        actor=actor,
        action=AuditAction.MFA_VERIFY_FAILED,
        target=user_target(email),
        after={"during": during},
    )
    uow.commit()
    raise refusal("the code is wrong, expired or already used")
