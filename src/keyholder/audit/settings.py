"""The audit log's keys and sinks, read from the settings (S36)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from keyholder.audit.keys import (
    ChainKeyring,
    key_fingerprint,
    load_public_key,
    load_signing_key,
    parse_chain_keyring,
)
from keyholder.audit.sinks import CheckpointSink, FileSink, SyslogSink, parse_syslog_address

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (
        Ed25519PrivateKey,
        Ed25519PublicKey,
    )

    from keyholder.config import Settings


def chain_keyring(settings: Settings) -> ChainKeyring:
    encoded = {key_id: key.get_secret_value() for key_id, key in settings.audit_keys.items()}
    return parse_chain_keyring(encoded, settings.audit_key_id)


def signing_key(settings: Settings) -> Ed25519PrivateKey | None:
    """None only on a verify-only host (production with public keys and no signing key)."""
    if settings.audit_signing_key is None:
        return None
    return load_signing_key(settings.audit_signing_key.get_secret_value())


def trusted_public_keys(
    settings: Settings, given: Iterable[str] = ()
) -> dict[str, Ed25519PublicKey]:
    """Checkpoint keys to trust, by fingerprint: ``given`` if any, else the settings'.

    The settings' are the signing key's own public key and KEYHOLDER_AUDIT_PUBLIC_KEYS
    (old signing keys kept for their checkpoints, or the keys of a verify-only host).
    """
    texts = list(given)
    name = "--public-key" if texts else "KEYHOLDER_AUDIT_PUBLIC_KEYS"
    keys = [load_public_key(text, name) for text in texts or settings.audit_public_keys]
    private = signing_key(settings)
    if not texts and private is not None:
        keys.append(private.public_key())
    return {key_fingerprint(key): key for key in keys}


def checkpoint_sinks(settings: Settings) -> list[CheckpointSink]:
    sinks: list[CheckpointSink] = []
    if settings.audit_checkpoint_file is not None:
        sinks.append(FileSink(settings.audit_checkpoint_file))
    if settings.audit_syslog_address:
        sinks.append(SyslogSink(settings.audit_syslog_address))
    return sinks


def check_audit_settings(settings: Settings) -> None:
    """Read every audit key and address once, so a bad one stops start-up (ValueError)."""
    chain_keyring(settings)
    trusted_public_keys(settings)
    if settings.audit_syslog_address:
        parse_syslog_address(settings.audit_syslog_address)
