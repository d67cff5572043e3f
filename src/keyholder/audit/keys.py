"""The audit log's keys (S36): MAC keys for the chain, Ed25519 keys for checkpoints.

Neither lives in the database. The chain key (a keyring of versioned keys, one
of them current) lets nobody without it recompute a hash after editing a row;
the signing key lets nobody without it write a checkpoint that
``keyholder audit verify`` trusts. Verifying needs the chain keys and only the
public half of the signing key.

This module is pure (no settings, no database), so config.py can use it to
refuse bad keys at start-up.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

# `cryptography` is imported by the functions that sign, verify or read keys: the
# settings import this module, and `keyholder --help` should not load OpenSSL.
if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (
        Ed25519PrivateKey,
        Ed25519PublicKey,
    )

MIN_CHAIN_KEY_BYTES = 32
KEY_ID_PATTERN = re.compile(r"[A-Za-z0-9._-]{1,32}")
# Development and tests derive their keys from the secret key under this id.
DERIVED_KEY_ID = "dev"


class AuditKeyProblem(ValueError):
    """A key setting that cannot be used; the message names the setting (a ValueError, so
    pydantic reports it as a configuration error)."""


@dataclass(frozen=True, slots=True)
class ChainKeyring:
    """Versioned MAC keys: ``current`` chains new events, the others only verify old ones."""

    keys: Mapping[str, bytes]
    current: str

    def mac(self, key_id: str, message: bytes) -> str:
        key = self.keys.get(key_id)
        if key is None:
            raise LookupError(key_id)
        return hmac.new(key, message, hashlib.sha256).hexdigest()


def parse_chain_keyring(encoded: Mapping[str, str], current: str | None) -> ChainKeyring:
    """Keys as the settings give them ({id: base64}), checked: ids, length, current id."""
    if not encoded:
        raise AuditKeyProblem("KEYHOLDER_AUDIT_KEYS holds no key")
    keys: dict[str, bytes] = {}
    for key_id, text in encoded.items():
        if not KEY_ID_PATTERN.fullmatch(key_id):
            raise AuditKeyProblem(
                f"KEYHOLDER_AUDIT_KEYS: key id {key_id!r} must be 1-32 letters, digits, "
                "'.', '_' or '-'"
            )
        key = _decode_base64(text, f"KEYHOLDER_AUDIT_KEYS[{key_id!r}]")
        if len(key) < MIN_CHAIN_KEY_BYTES:
            raise AuditKeyProblem(
                f"KEYHOLDER_AUDIT_KEYS[{key_id!r}] must decode to at least "
                f"{MIN_CHAIN_KEY_BYTES} bytes (`keyholder audit keygen` makes one)"
            )
        keys[key_id] = key
    if current is None:
        if len(keys) > 1:
            raise AuditKeyProblem(
                "KEYHOLDER_AUDIT_KEY_ID must name the key that chains new events "
                "when KEYHOLDER_AUDIT_KEYS holds several"
            )
        current = next(iter(keys))
    if current not in keys:
        raise AuditKeyProblem(f"KEYHOLDER_AUDIT_KEY_ID {current!r} is not in KEYHOLDER_AUDIT_KEYS")
    return ChainKeyring(keys, current)


def load_signing_key(text: str) -> Ed25519PrivateKey:
    """An Ed25519 private key from PEM (PKCS#8) or the base64 of its 32-byte seed."""
    from cryptography.hazmat.primitives import serialization  # noqa: PLC0415
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (  # noqa: PLC0415
        Ed25519PrivateKey,
    )

    if "-----BEGIN" in text:
        try:
            key = serialization.load_pem_private_key(text.encode(), password=None)
        except (ValueError, TypeError) as exc:
            raise AuditKeyProblem(
                "KEYHOLDER_AUDIT_SIGNING_KEY is not a readable PEM private key"
            ) from exc
        if not isinstance(key, Ed25519PrivateKey):
            raise AuditKeyProblem("KEYHOLDER_AUDIT_SIGNING_KEY must be an Ed25519 key")
        return key
    seed = _decode_base64(text, "KEYHOLDER_AUDIT_SIGNING_KEY")
    if len(seed) != 32:
        raise AuditKeyProblem("KEYHOLDER_AUDIT_SIGNING_KEY must be PEM or the base64 of 32 bytes")
    return Ed25519PrivateKey.from_private_bytes(seed)


def load_public_key(text: str, name: str = "KEYHOLDER_AUDIT_PUBLIC_KEYS") -> Ed25519PublicKey:
    """An Ed25519 public key from PEM (SubjectPublicKeyInfo) or the base64 of its 32 bytes."""
    from cryptography.hazmat.primitives import serialization  # noqa: PLC0415
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (  # noqa: PLC0415
        Ed25519PublicKey,
    )

    if "-----BEGIN" in text:
        try:
            key = serialization.load_pem_public_key(text.encode())
        except ValueError as exc:
            raise AuditKeyProblem(f"{name}: not a readable PEM public key") from exc
        if not isinstance(key, Ed25519PublicKey):
            raise AuditKeyProblem(f"{name}: must be an Ed25519 key")
        return key
    raw = _decode_base64(text, name)
    if len(raw) != 32:
        raise AuditKeyProblem(f"{name}: must be PEM or the base64 of 32 bytes")
    return Ed25519PublicKey.from_public_bytes(raw)


def public_key_text(key: Ed25519PublicKey) -> str:
    """The base64 form settings and ``--public-key`` take."""
    return base64.b64encode(_raw_public(key)).decode()


def key_fingerprint(key: Ed25519PublicKey) -> str:
    """Short name of a public key, written into each checkpoint to say who signed it."""
    return hashlib.sha256(_raw_public(key)).hexdigest()[:16]


def signature_is_valid(key: Ed25519PublicKey, signature: bytes, message: bytes) -> bool:
    from cryptography.exceptions import InvalidSignature  # noqa: PLC0415

    try:
        key.verify(signature, message)
    except InvalidSignature:
        return False
    return True


def derive_development_keys(secret: bytes) -> tuple[str, str]:
    """(chain key, signing seed), both base64, from the secret key: development and tests only."""
    chain = hmac.new(secret, b"keyholder audit chain key", hashlib.sha256).digest()
    seed = hmac.new(secret, b"keyholder audit checkpoint signing key", hashlib.sha256).digest()
    return base64.b64encode(chain).decode(), base64.b64encode(seed).decode()


def new_chain_key() -> str:
    return base64.b64encode(secrets.token_bytes(MIN_CHAIN_KEY_BYTES)).decode()


def new_signing_key() -> str:
    from cryptography.hazmat.primitives import serialization  # noqa: PLC0415
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (  # noqa: PLC0415
        Ed25519PrivateKey,
    )

    seed = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.Raw,
        serialization.PrivateFormat.Raw,
        serialization.NoEncryption(),
    )
    return base64.b64encode(seed).decode()


def _raw_public(key: Ed25519PublicKey) -> bytes:
    from cryptography.hazmat.primitives import serialization  # noqa: PLC0415

    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _decode_base64(text: str, name: str) -> bytes:
    try:
        return base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise AuditKeyProblem(f"{name} is not valid base64") from exc
