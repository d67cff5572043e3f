"""Standard Webhooks signatures, and webhook secrets at rest.

A message is signed as ``{webhook-id}.{webhook-timestamp}.{body}`` with
HMAC-SHA256 under the secret's bytes (``whsec_`` + base64); the header is
``v1,<base64 MAC>``, and several signatures separated by spaces when a
rotation's overlap keeps two secrets valid (the specification allows it, and
its reference verifier accepts any that matches).

Secrets must be read back to sign, so they cannot be hashed like tokens
(S6): they are encrypted at rest with a key derived from the secret key, so a
copy of the database alone does not let anyone forge deliveries.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Iterable

from cryptography.fernet import Fernet, InvalidToken

SECRET_PREFIX = "whsec_"  # noqa: S105 - the specification's marker, not a secret
SECRET_BYTES = 32  # 256 bits; the specification asks for 24 to 64


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def _secret_bytes(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """One ``v1,`` signature of ``body`` under ``secret``."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    mac = hmac.new(_secret_bytes(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def signature_header(
    secrets_in_force: Iterable[str], message_id: str, timestamp: int, body: bytes
) -> str:
    """The ``webhook-signature`` value: one signature per secret in force, space-separated."""
    return " ".join(sign(secret, message_id, timestamp, body) for secret in secrets_in_force)


def _fernet(server_secret: bytes) -> Fernet:
    # A key of its own, so this use never shares a key with another (domain separation).
    key = hashlib.sha256(b"keyholder webhook secrets\x00" + server_secret).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def seal(server_secret: bytes, secret: str) -> str:
    """``secret`` encrypted for the database."""
    return _fernet(server_secret).encrypt(secret.encode()).decode()


def unseal(server_secret: bytes, sealed: str) -> str:
    """The secret ``seal`` encrypted; ValueError when the secret key changed since."""
    try:
        return _fernet(server_secret).decrypt(sealed.encode()).decode()
    except InvalidToken:
        raise ValueError(
            "a webhook secret cannot be decrypted: KEYHOLDER_SECRET_KEY changed since it "
            "was made (rotate the endpoint's secret)"
        ) from None
