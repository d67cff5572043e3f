"""Passkeys and security keys (WebAuthn): registering, naming and removing them.

A passkey is a second factor beside TOTP (``identity.mfa``), and a discoverable
one also signs in alone (``identity.passkey_sign_in``). A session that passed a
passkey is marked ``mfa_method = passkey``: the phishing-resistant policy
(``require_phishing_resistant_admin``, see ``Actor``) asks for it.

Ceremonies are two requests: ``begin_*`` stores a random challenge in
``webauthn_challenges`` (the database, not memory: the second request may reach
another process) bound to the user and the session that asked, and answers the
options for ``navigator.credentials``; ``finish_*`` takes the challenge (one
conditional UPDATE, in a transaction of its own: used once, even by a failed
attempt) and checks the browser's answer with py_webauthn against our RP ID and
origins.

Registering needs the password again (S17), and once the user has a passkey,
adding or removing one needs a sign-in with a passkey (or a recovery code): a
phished password and TOTP code must not let someone add their own key and pass
the policy with it. Registering and removing are audited and emailed to the
user. Attestation is "none" unless ``webauthn_attestation`` says otherwise.
"""

from __future__ import annotations

import json
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, func, select, update
from webauthn import generate_registration_options, options_to_json, verify_registration_response
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AttestationConveyancePreference,
    AttestationFormat,
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from keyholder.audit.actions import AuditAction
from keyholder.audit.service import record_event
from keyholder.audit.targets import user_target
from keyholder.db.tx import Tx
from keyholder.db.uow import UnitOfWork
from keyholder.errors import AlreadyExists, Gone, InvalidInput, NotFound, PermissionDenied
from keyholder.identity.actor import Actor
from keyholder.identity.credentials import revoke_all_credentials
from keyholder.identity.models import (
    Passkey,
    User,
    UserSession,
    WebAuthnChallenge,
    WebAuthnPurpose,
)
from keyholder.identity.reauth import reauthenticate
from keyholder.identity.throttle import RateLimiter
from keyholder.identity.tokens import hash_token
from keyholder.mail.outbox import send_templated_email

if TYPE_CHECKING:
    from keyholder.identity.passwords import PasswordHasher

CHALLENGE_BYTES = 32
NAME_MAX = 100
# Malformed answers from a browser (or anyone) are refused, never a 500 (S39).
MALFORMED = (WebAuthnException, ValueError, KeyError, TypeError, AttributeError)
NEEDS_PASSKEY_SIGN_IN = (
    "you already have a passkey: sign in with it (or with a recovery code) to add or "
    "remove passkeys"
)
CEREMONY_DEAD = "this passkey request has expired or was already used; start again"


@dataclass(frozen=True, slots=True)
class Ceremony:
    """A begun WebAuthn ceremony: its id (sent back to finish) and the browser's options."""

    id: uuid.UUID
    options: dict[str, Any]


# --- challenges (shared with identity.passkey_sign_in) ------------------------


def issue_challenge(
    tx: Tx,
    purpose: WebAuthnPurpose,
    *,
    user_id: uuid.UUID | None = None,
    session_token: str | None = None,
) -> WebAuthnChallenge:
    """Store a fresh challenge in the caller's transaction; drop expired ones."""
    now = tx.clock.now()
    tx.session.execute(delete(WebAuthnChallenge).where(WebAuthnChallenge.expires_at <= now))
    row = WebAuthnChallenge(
        purpose=purpose,
        challenge=secrets.token_bytes(CHALLENGE_BYTES),
        user_id=user_id,
        session_hash=hash_token(session_token) if session_token else None,
        created_at=now,
        expires_at=now + tx.settings.webauthn_challenge_ttl,
    )
    tx.session.add(row)
    tx.session.flush()
    return row


def take_challenge(
    uow: UnitOfWork,
    ceremony_id: uuid.UUID,
    purpose: WebAuthnPurpose,
    *,
    user_id: uuid.UUID | None = None,
    session_token: str | None = None,
) -> bytes:
    """Use up the challenge of a ceremony, in a transaction of its own; return it.

    Only for the purpose, user and session it was issued to, before it expires,
    and once: one conditional UPDATE, so of two requests racing, one wins.
    Raises ``Gone`` otherwise.
    """
    with uow:
        now = uow.clock.now()
        session_hash = hash_token(session_token) if session_token else None
        query = (
            update(WebAuthnChallenge)
            .where(
                WebAuthnChallenge.id == ceremony_id,
                WebAuthnChallenge.purpose == purpose,
                WebAuthnChallenge.used_at.is_(None),
                WebAuthnChallenge.expires_at > now,
                WebAuthnChallenge.user_id.is_(None)
                if user_id is None
                else WebAuthnChallenge.user_id == user_id,
                WebAuthnChallenge.session_hash.is_(None)
                if session_hash is None
                else WebAuthnChallenge.session_hash == session_hash,
            )
            .values(used_at=now)
            .returning(WebAuthnChallenge.challenge)
            .execution_options(synchronize_session=False)
        )
        challenge = uow.session.scalar(query)
        if challenge is None:
            raise Gone(CEREMONY_DEAD)
        uow.commit()
        return bytes(challenge)


def options_dict(options: Any) -> dict[str, Any]:
    """py_webauthn's options as JSON-ready data (bytes as base64url)."""
    data: dict[str, Any] = json.loads(options_to_json(options))
    return data


def descriptors(passkeys: list[Passkey]) -> list[PublicKeyCredentialDescriptor]:
    """The credentials to allow (or exclude), with the transports they told us."""
    known = {transport.value for transport in AuthenticatorTransport}
    return [
        PublicKeyCredentialDescriptor(
            id=passkey.credential_id,
            transports=[
                AuthenticatorTransport(name)
                for name in passkey.transports.split(",")
                if name in known
            ]
            or None,
        )
        for passkey in passkeys
    ]


def passkeys_of(tx: Tx, user_id: uuid.UUID) -> list[Passkey]:
    return list(
        tx.session.scalars(
            select(Passkey).where(Passkey.user_id == user_id).order_by(Passkey.created_at)
        )
    )


# --- use cases -----------------------------------------------------------------


def list_passkeys(uow: UnitOfWork, *, actor: Actor) -> list[Passkey]:
    """The actor's own passkeys, oldest first."""
    with uow:
        return passkeys_of(uow, _user(uow, actor).id)


def begin_registration(
    uow: UnitOfWork,
    *,
    actor: Actor,
    password: str,
    session_token: str | None,
    limiter: RateLimiter,
    hasher: PasswordHasher,
) -> Ceremony:
    """Options for ``navigator.credentials.create`` (S17: needs the password).

    ``session_token`` is the session asking, if a session asks: only it may finish.
    """
    reauthenticate(uow, actor, password, limiter=limiter, hasher=hasher)
    settings = uow.settings
    with uow:
        user = _user(uow, actor)
        existing = passkeys_of(uow, user.id)
        if existing and not actor.phishing_resistant:
            raise PermissionDenied(NEEDS_PASSKEY_SIGN_IN)
        row = issue_challenge(
            uow, WebAuthnPurpose.REGISTRATION, user_id=user.id, session_token=session_token
        )
        options = generate_registration_options(
            rp_id=settings.rp_id,
            rp_name=settings.webauthn_rp_name,
            user_name=user.email,
            user_id=user.id.bytes,  # the user handle: random, not personal
            user_display_name=user.name or user.email,
            challenge=row.challenge,
            timeout=int(settings.webauthn_challenge_ttl.total_seconds() * 1000),
            attestation=AttestationConveyancePreference(settings.webauthn_attestation),
            authenticator_selection=AuthenticatorSelectionCriteria(
                resident_key=ResidentKeyRequirement.PREFERRED,
                user_verification=UserVerificationRequirement.PREFERRED,
            ),
            exclude_credentials=descriptors(existing),
        )
        ceremony = Ceremony(id=row.id, options=options_dict(options))
        # Ask the browser whether the key keeps the credential (it then signs in alone).
        ceremony.options["extensions"] = {"credProps": True}
        uow.commit()
    return ceremony


def finish_registration(
    uow: UnitOfWork,
    ceremony_id: uuid.UUID,
    credential: dict[str, Any],
    *,
    name: str,
    actor: Actor,
    session_token: str | None,
) -> Passkey:
    """Check the authenticator's answer and keep the new passkey; audited and emailed."""
    name = _clean_name(name)
    if actor.user_id is None:
        raise NotFound("this actor has no user record")
    challenge = take_challenge(
        uow,
        ceremony_id,
        WebAuthnPurpose.REGISTRATION,
        user_id=actor.user_id,
        session_token=session_token,
    )
    settings = uow.settings
    try:
        verified = verify_registration_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=settings.rp_id,
            expected_origin=settings.webauthn_expected_origins,
        )
    except MALFORMED as exc:
        raise InvalidInput(f"the passkey could not be registered: {exc}") from None
    with uow:
        user = _user(uow, actor)
        taken = uow.session.scalar(
            select(Passkey.id).where(Passkey.credential_id == verified.credential_id)
        )
        if taken is not None:
            raise AlreadyExists("this passkey is registered already")
        now = uow.clock.now()
        passkey = Passkey(
            user_id=user.id,
            credential_id=verified.credential_id,
            public_key=verified.credential_public_key,
            sign_count=verified.sign_count,
            name=name or _default_name(uow, user),
            transports=",".join(_transports(credential)),
            aaguid=verified.aaguid,
            discoverable=_discoverable(credential),
            backed_up=verified.credential_backed_up,
            created_at=now,
        )
        uow.session.add(passkey)
        if user.passkeys_since is None:
            user.passkeys_since = now
            if session_token is not None:
                _keep_signed_in(uow, user, session_token, now)
        uow.session.flush()
        record_event(
            uow,
            actor=actor,
            action=AuditAction.PASSKEY_REGISTER,
            target=user_target(user.email),
            after={
                "passkey_id": str(passkey.id),
                "name": passkey.name,
                "discoverable": passkey.discoverable,
                "attestation": AttestationFormat(verified.fmt).value,
            },
        )
        _notify(uow, user, "passkey_added", passkey.name, now)
        uow.commit()
        return passkey


def rename_passkey(uow: UnitOfWork, passkey_id: uuid.UUID, name: str, *, actor: Actor) -> Passkey:
    """Give one of the actor's passkeys another name; audited."""
    name = _clean_name(name)
    if not name:
        raise InvalidInput("give the passkey a name", field="name")
    with uow:
        user = _user(uow, actor)
        passkey = _own_passkey(uow, user, passkey_id)
        before = passkey.name
        passkey.name = name
        record_event(
            uow,
            actor=actor,
            action=AuditAction.PASSKEY_RENAME,
            target=user_target(user.email),
            before={"passkey_id": str(passkey.id), "name": before},
            after={"passkey_id": str(passkey.id), "name": name},
        )
        uow.commit()
        return passkey


def remove_passkey(
    uow: UnitOfWork,
    passkey_id: uuid.UUID,
    *,
    actor: Actor,
    password: str,
    current_session_token: str | None = None,
    limiter: RateLimiter,
    hasher: PasswordHasher,
) -> int:
    """Remove one of the actor's passkeys (S17: needs the password); audited and emailed.

    It stops working at once: sign-ins look passkeys up afresh. A key is
    removed because it is lost or no longer trusted, and whoever holds it may
    have signed in with it: every other session and API token of the user ends
    too (the session asking, ``current_session_token``, stays). Returns how
    many credentials ended.
    """
    reauthenticate(uow, actor, password, limiter=limiter, hasher=hasher)
    with uow:
        user = _user(uow, actor)
        if not actor.phishing_resistant:
            raise PermissionDenied(NEEDS_PASSKEY_SIGN_IN)
        passkey = _own_passkey(uow, user, passkey_id)
        name = passkey.name
        uow.session.delete(passkey)
        uow.session.flush()
        left = uow.session.scalar(
            select(func.count()).select_from(Passkey).where(Passkey.user_id == user.id)
        )
        if not left:
            user.passkeys_since = None
        revoked = revoke_all_credentials(
            uow, user.id, keep_session_id=_live_session_id(uow, user, current_session_token)
        )
        now = uow.clock.now()
        record_event(
            uow,
            actor=actor,
            action=AuditAction.PASSKEY_REMOVE,
            target=user_target(user.email),
            before={"passkey_id": str(passkey_id), "name": name},
            after={"passkeys_left": left, "credentials_revoked": revoked},
        )
        _notify(uow, user, "passkey_removed", name, now)
        uow.commit()
        return revoked


# --- helpers -------------------------------------------------------------------


def _user(tx: Tx, actor: Actor) -> User:
    user = tx.session.get(User, actor.user_id) if actor.user_id else None
    if user is None or not user.is_active:
        raise NotFound("this actor has no user record")
    return user


def _live_session_id(tx: Tx, user: User, session_token: str | None) -> uuid.UUID | None:
    if session_token is None:
        return None
    return tx.session.scalar(
        select(UserSession.id).where(
            UserSession.token_hash == hash_token(session_token),
            UserSession.user_id == user.id,
            UserSession.revoked_at.is_(None),
        )
    )


def _keep_signed_in(tx: Tx, user: User, session_token: str, now: datetime) -> None:
    """The session that added the user's first second factor stays signed in.

    As at TOTP enrolment (``identity.mfa``): its other sessions must pass the
    new factor. Its method stays what it was (none, or TOTP): adding a passkey
    is not signing in with one, so the phishing-resistant policy still waits
    for a sign-in with it.
    """
    tx.session.execute(
        update(UserSession)
        .where(
            UserSession.token_hash == hash_token(session_token),
            UserSession.user_id == user.id,
            UserSession.revoked_at.is_(None),
            UserSession.mfa_verified_at.is_(None),
        )
        .values(mfa_verified_at=now)
        .execution_options(synchronize_session=False)
    )


def _own_passkey(tx: Tx, user: User, passkey_id: uuid.UUID) -> Passkey:
    passkey = tx.session.get(Passkey, passkey_id)
    if passkey is None or passkey.user_id != user.id:
        raise NotFound("you have no such passkey")  # another's: as absent
    return passkey


def _clean_name(name: str) -> str:
    cleaned = " ".join(name.split())  # no control characters or line breaks
    if len(cleaned) > NAME_MAX:
        raise InvalidInput(f"a passkey's name is at most {NAME_MAX} characters", field="name")
    return cleaned


def _default_name(tx: Tx, user: User) -> str:
    count = tx.session.scalar(
        select(func.count()).select_from(Passkey).where(Passkey.user_id == user.id)
    )
    return f"Passkey {(count or 0) + 1}"


def _transports(credential: dict[str, Any]) -> list[str]:
    response = credential.get("response")
    found = response.get("transports") if isinstance(response, dict) else None
    known = {transport.value for transport in AuthenticatorTransport}
    return [name for name in found if name in known] if isinstance(found, list) else []


def _discoverable(credential: dict[str, Any]) -> bool:
    results = credential.get("clientExtensionResults")
    props = results.get("credProps") if isinstance(results, dict) else None
    return isinstance(props, dict) and props.get("rk") is True


def _notify(tx: Tx, user: User, template: str, key_name: str, at: datetime) -> None:
    send_templated_email(
        tx,
        template,
        to=[user.email],
        name=user.name,
        address=user.email,
        key_name=key_name,
        at=f"{at:%Y-%m-%d %H:%M}",
    )
