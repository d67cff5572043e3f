"""Signing in with a passkey: as the second factor, or alone (passwordless).

- **Second factor**: a session signed in with the password asks for options
  listing the user's passkeys (``begin_second_factor``), and its answer
  replaces the session by a new one verified with ``mfa_method = passkey``
  (``finish_second_factor``; a new id, S15). A session already verified by
  TOTP may do the same to step up, which the phishing-resistant policy asks of
  staff and admins. Attempts count against ``Scope.MFA_USER``.
- **Passwordless**: options with no credentials listed (``begin_passwordless``)
  let the browser offer the discoverable credentials it holds for our RP ID;
  the answer names the credential, and with user verification (a PIN or
  biometric: two factors in one) opens a verified session
  (``finish_passwordless``). Each finish counts as a sign-in attempt of the
  client address (S16).

Signature counters: an authenticator that counts (most security keys; synced
passkeys answer 0) must answer more than the stored count. When it does not,
the key may have been cloned: the assertion is refused, the passkey is marked
(``clone_warning_at``, shown on the security page) and the event audited, in a
transaction of its own. A user who trusts the key can remove and re-add it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, NoReturn

from sqlalchemy import select, update
from webauthn import base64url_to_bytes, generate_authentication_options
from webauthn import verify_authentication_response as verify_assertion
from webauthn.helpers.structs import UserVerificationRequirement

from keyholder.audit.actions import AuditAction
from keyholder.audit.service import record_event
from keyholder.audit.targets import user_target
from keyholder.db.uow import UnitOfWork
from keyholder.errors import Conflict, NotAuthenticated, TooManyRequests
from keyholder.identity.actor import Actor
from keyholder.identity.models import MfaMethod, Passkey, User, UserSession, WebAuthnPurpose
from keyholder.identity.passkeys import (
    MALFORMED,
    Ceremony,
    descriptors,
    issue_challenge,
    options_dict,
    passkeys_of,
    take_challenge,
)
from keyholder.identity.service import SignedIn
from keyholder.identity.sessions import open_session, revoke_session, rotate_at_second_factor
from keyholder.identity.throttle import RateLimiter, Scope
from keyholder.identity.tokens import hash_token

REFUSED = "the passkey was not accepted"
CLONED = (
    "this passkey was refused: its signature counter went backwards, which happens when a "
    "key has been copied. Use another passkey or a recovery code, and check the key on "
    "your Sign-in and security page"
)


@dataclass(frozen=True, slots=True)
class PendingFactors:
    """The second factors a signed-in (not yet verified) session may pass."""

    totp: bool
    passkeys: bool


def pending_factors(uow: UnitOfWork, session_token: str) -> PendingFactors:
    """What the second-factor page offers; nothing when the session is not live."""
    with uow:
        user = _session_user(uow, session_token)
        if user is None:
            return PendingFactors(totp=False, passkeys=False)
        return PendingFactors(
            totp=user.mfa_enabled_at is not None, passkeys=user.passkeys_since is not None
        )


def begin_second_factor(uow: UnitOfWork, session_token: str) -> Ceremony:
    """Options for ``navigator.credentials.get`` listing the session's user's passkeys."""
    settings = uow.settings
    with uow:
        user = _session_user(uow, session_token)
        if user is None:
            raise NotAuthenticated("your session has ended; sign in again")
        passkeys = passkeys_of(uow, user.id)
        if not passkeys:
            raise Conflict("this account has no passkey")
        row = issue_challenge(
            uow, WebAuthnPurpose.SECOND_FACTOR, user_id=user.id, session_token=session_token
        )
        options = generate_authentication_options(
            rp_id=settings.rp_id,
            challenge=row.challenge,
            timeout=int(settings.webauthn_challenge_ttl.total_seconds() * 1000),
            allow_credentials=descriptors(passkeys),
            user_verification=UserVerificationRequirement.PREFERRED,
        )
        ceremony = Ceremony(id=row.id, options=options_dict(options))
        uow.commit()
    return ceremony


def finish_second_factor(
    uow: UnitOfWork,
    session_token: str,
    ceremony_id: uuid.UUID,
    credential: dict[str, Any],
    *,
    limiter: RateLimiter,
) -> str:
    """Check a passkey's answer for the session; return the verified session replacing it."""
    with uow:
        user = _session_user(uow, session_token)
        if user is None:
            raise NotAuthenticated("your session has ended; sign in again")
        actor = Actor.for_user(user)
    _count(limiter, Scope.MFA_USER, str(actor.user_id), "second-factor")
    challenge = take_challenge(
        uow,
        ceremony_id,
        WebAuthnPurpose.SECOND_FACTOR,
        user_id=actor.user_id,
        session_token=session_token,
    )
    with uow:
        user = _session_user(uow, session_token)
        if user is None:
            raise NotAuthenticated("your session has ended; sign in again")
        passkey = _passkey(uow, credential, user_id=user.id)
        if passkey is None:
            _refuse(uow, actor, "second_factor")
        _check(uow, actor, passkey, credential, challenge, user_verification=False)
        token = rotate_at_second_factor(
            uow, user, session_token, actor=actor, method=MfaMethod.PASSKEY
        )
        uow.commit()
    return token


def begin_passwordless(uow: UnitOfWork) -> Ceremony:
    """Options for ``navigator.credentials.get`` with no credential named (discoverable)."""
    settings = uow.settings
    with uow:
        row = issue_challenge(uow, WebAuthnPurpose.PASSWORDLESS)
        options = generate_authentication_options(
            rp_id=settings.rp_id,
            challenge=row.challenge,
            timeout=int(settings.webauthn_challenge_ttl.total_seconds() * 1000),
            user_verification=UserVerificationRequirement.REQUIRED,
        )
        ceremony = Ceremony(id=row.id, options=options_dict(options))
        uow.commit()
    return ceremony


def finish_passwordless(
    uow: UnitOfWork,
    ceremony_id: uuid.UUID,
    credential: dict[str, Any],
    *,
    client_address: str | None,
    replaces: str | None = None,
    limiter: RateLimiter,
) -> SignedIn:
    """Sign in with a discoverable passkey and user verification: a verified session.

    ``replaces`` (the session the client held) is revoked as the new one opens (S15).
    """
    if client_address:
        _count(limiter, Scope.LOGIN_CLIENT, client_address, "sign-in")
    challenge = take_challenge(uow, ceremony_id, WebAuthnPurpose.PASSWORDLESS)
    with uow:
        passkey = _passkey(uow, credential)
        user = uow.session.get(User, passkey.user_id) if passkey is not None else None
        if passkey is None or user is None or not user.is_active:
            raise NotAuthenticated(REFUSED)
        actor = Actor.for_user(user)
        if not _handle_matches(credential, user):
            _refuse(uow, actor, "passwordless")
        _check(uow, actor, passkey, credential, challenge, user_verification=True)
        user.last_login_at = uow.clock.now()
        token = open_session(uow, user, client_address=client_address, mfa_method=MfaMethod.PASSKEY)
        if replaces:
            revoke_session(uow, replaces)
        record_event(
            uow,
            actor=actor,
            action=AuditAction.PASSKEY_SIGN_IN,
            target=user_target(user.email),
            after={"passkey_id": str(passkey.id), "name": passkey.name},
        )
        uow.commit()
        return SignedIn(session_token=token, actor=actor, user=user)


# --- helpers -------------------------------------------------------------------


def _session_user(uow: UnitOfWork, session_token: str) -> User | None:
    """The active user of a live session, verified or not."""
    return uow.session.scalar(
        select(User)
        .join(UserSession, UserSession.user_id == User.id)
        .where(
            UserSession.token_hash == hash_token(session_token),
            UserSession.revoked_at.is_(None),
            UserSession.expires_at > uow.clock.now(),
            User.is_active.is_(True),
        )
    )


def _count(limiter: RateLimiter, scope: Scope, key: str, what: str) -> None:
    if not limiter.hit(scope, key):
        raise TooManyRequests(
            f"too many {what} attempts; wait a while and try again",
            retry_after=limiter.retry_after(scope, key) or 1,
        )


def _passkey(
    uow: UnitOfWork, credential: dict[str, Any], *, user_id: uuid.UUID | None = None
) -> Passkey | None:
    """The registered passkey the answer names (of ``user_id`` when given), or None."""
    raw = credential.get("rawId") or credential.get("id")
    if not isinstance(raw, str) or len(raw) > 2048:
        return None
    try:
        credential_id = base64url_to_bytes(raw)
    except MALFORMED:
        return None
    query = select(Passkey).where(Passkey.credential_id == credential_id)
    if user_id is not None:
        query = query.where(Passkey.user_id == user_id)
    return uow.session.scalar(query)


def _handle_matches(credential: dict[str, Any], user: User) -> bool:
    """A passwordless answer's user handle, when it gives one, must be the key's user's."""
    response = credential.get("response")
    handle = response.get("userHandle") if isinstance(response, dict) else None
    if not handle:
        return True
    try:
        return isinstance(handle, str) and base64url_to_bytes(handle) == user.id.bytes
    except MALFORMED:
        return False


def _check(
    uow: UnitOfWork,
    actor: Actor,
    passkey: Passkey,
    credential: dict[str, Any],
    challenge: bytes,
    *,
    user_verification: bool,
) -> None:
    """Verify the assertion and the signature counter; record the use. Raises when refused."""
    settings = uow.settings
    try:
        verified = verify_assertion(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=settings.rp_id,
            expected_origin=settings.webauthn_expected_origins,
            credential_public_key=passkey.public_key,
            # Counted here instead (below), so that a regression is recorded, not only refused.
            credential_current_sign_count=0,
            require_user_verification=user_verification,
        )
    except MALFORMED:
        _refuse(uow, actor, "passwordless" if user_verification else "second_factor")
    stored = passkey.sign_count
    if (verified.new_sign_count or stored) and verified.new_sign_count <= stored:
        _clone_warning(uow, actor, passkey.id, stored, verified.new_sign_count)
    # One conditional UPDATE: of two answers with the same count, one wins.
    won = uow.session.execute(
        update(Passkey)
        .where(Passkey.id == passkey.id, Passkey.sign_count == stored)
        .values(sign_count=verified.new_sign_count, last_used_at=uow.clock.now())
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    if not won:
        raise NotAuthenticated(REFUSED)


def _clone_warning(
    uow: UnitOfWork, actor: Actor, passkey_id: uuid.UUID, stored: int, answered: int
) -> NoReturn:
    """Mark the passkey and audit, in a transaction of its own; then refuse."""
    uow.session.rollback()
    passkey = uow.session.get(Passkey, passkey_id)
    assert passkey is not None
    passkey.clone_warning_at = uow.clock.now()
    record_event(
        uow,
        actor=actor,
        action=AuditAction.PASSKEY_CLONE_WARNING,
        target=user_target(actor.label),
        after={
            "passkey_id": str(passkey_id),
            "name": passkey.name,
            "stored_sign_count": stored,
            "answered_sign_count": answered,
        },
    )
    uow.commit()
    raise NotAuthenticated(CLONED)


def _refuse(uow: UnitOfWork, actor: Actor, during: str) -> NoReturn:
    """Audit a refused passkey in a transaction of its own, then refuse."""
    uow.session.rollback()
    record_event(
        uow,
        actor=actor,
        action=AuditAction.PASSKEY_VERIFY_FAILED,
        target=user_target(actor.label),
        after={"during": during},
    )
    uow.commit()
    raise NotAuthenticated(REFUSED)
