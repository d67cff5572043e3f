"""TOTP secrets at rest: encrypted with Fernet under ``KEYHOLDER_TOTP_KEYS``.

A TOTP secret cannot be hashed (verifying a code needs it), so it is stored
encrypted (Fernet: AES-128-CBC with HMAC-SHA256) under keys that live in the
settings, never in the database: a copy of the database alone yields no
second factor. ``KEYHOLDER_TOTP_KEYS`` is a list; the first key encrypts and
every key decrypts (``MultiFernet``), so a new key is put first, ``keyholder
keys rotate`` re-encrypts every secret under it, and then the old key can go.
Outside production, without the setting, one key is derived from the secret
key (production refuses to start without it, see ``config``).

A secret no listed key opens (the key was lost or dropped too early) stops
only that user's authenticator codes: signing in with one raises a
``ConfigurationError`` naming the setting; recovery codes (hashed, not
encrypted) still work, and ``keyholder users mfa-reset EMAIL`` lets the user
enrol again.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select

from keyholder.audit.actions import AuditAction
from keyholder.audit.service import record_event
from keyholder.audit.targets import setting_target
from keyholder.config import Settings
from keyholder.db.uow import UnitOfWork
from keyholder.errors import ConfigurationError
from keyholder.identity.actor import Actor
from keyholder.identity.models import User

# `cryptography` loads when a secret is encrypted or decrypted, not at CLI start.
if TYPE_CHECKING:
    from cryptography.fernet import MultiFernet

SETTING = "KEYHOLDER_TOTP_KEYS"
LOST_KEY = (
    f"a TOTP secret cannot be decrypted with any key in {SETTING}: the key it was encrypted "
    "with is missing. Put that key back (after the current one), or turn the user's MFA off "
    "with `keyholder users mfa-reset EMAIL` so they enrol again; recovery codes still work"
)


def fernet_keys(settings: Settings) -> list[bytes]:
    """The configured keys, first one current; else one derived from the secret key."""
    if settings.totp_keys:
        return [key.get_secret_value().encode() for key in settings.totp_keys]
    # Only outside production (the settings refuse production without keys).
    derived = hmac.new(settings.secret, b"keyholder:totp-secrets:v1", hashlib.sha256).digest()
    return [base64.urlsafe_b64encode(derived)]


def _cipher(settings: Settings) -> MultiFernet:
    from cryptography.fernet import Fernet, MultiFernet  # noqa: PLC0415

    return MultiFernet([Fernet(key) for key in fernet_keys(settings)])


def encrypt_totp_secret(settings: Settings, secret: str) -> str:
    """The stored form of a TOTP secret, under the current (first) key."""
    return _cipher(settings).encrypt(secret.encode()).decode()


def decrypt_totp_secret(settings: Settings, stored: str) -> str:
    """The TOTP secret back; ``ConfigurationError`` naming the setting when no key opens it."""
    from cryptography.fernet import InvalidToken  # noqa: PLC0415

    try:
        return _cipher(settings).decrypt(stored.encode()).decode()
    except InvalidToken:
        raise ConfigurationError(LOST_KEY) from None


@dataclass(frozen=True, slots=True)
class Rotation:
    """What ``rotate_totp_secrets`` did, secret by secret."""

    rotated: int  # re-encrypted under the first key
    current: int  # already under the first key: left alone
    unreadable: tuple[str, ...]  # emails whose secret no key opens

    def describe(self) -> str:
        text = (
            f"{self.rotated} TOTP secret(s) re-encrypted with the first key of {SETTING}, "
            f"{self.current} already were"
        )
        if self.unreadable:
            text += (
                f"; {len(self.unreadable)} cannot be decrypted with any key "
                f"({', '.join(self.unreadable)}): `keyholder users mfa-reset EMAIL` each"
            )
        return text


def rotate_totp_secrets(uow: UnitOfWork, *, actor: Actor) -> Rotation:
    """Re-encrypt every stored TOTP secret under the first key, in one transaction.

    Idempotent: a secret the first key already opens is left as it is, so a
    second run rotates nothing. Secrets no key opens are reported, not touched.
    """
    from cryptography.fernet import Fernet, InvalidToken, MultiFernet  # noqa: PLC0415

    keys = fernet_keys(uow.settings)
    current_key, every_key = Fernet(keys[0]), MultiFernet([Fernet(k) for k in keys])
    rotated = current = 0
    unreadable: list[str] = []
    with uow:
        users = uow.session.scalars(
            select(User).where(User.mfa_secret.is_not(None)).order_by(User.email).with_for_update()
        )
        for user in users:
            assert user.mfa_secret is not None
            token = user.mfa_secret.encode()
            try:
                current_key.decrypt(token)
                current += 1
                continue
            except InvalidToken:
                pass
            try:
                user.mfa_secret = every_key.rotate(token).decode()
                rotated += 1
            except InvalidToken:
                unreadable.append(user.email)
        result = Rotation(rotated, current, tuple(unreadable))
        record_event(
            uow,
            actor=actor,
            action=AuditAction.KEYS_ROTATE,
            target=setting_target("totp_keys"),
            after={"rotated": rotated, "current": current, "unreadable": len(unreadable)},
        )
        uow.commit()
    return result
