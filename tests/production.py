"""The keys production refuses to start without, for tests that build production settings."""

from __future__ import annotations

from cryptography.fernet import Fernet

# Audit chain key and checkpoint signing key (S36), and TOTP encryption keys.
AUDIT_KEYS = {
    "audit_keys": {"k1": "a2V5aG9sZGVyLXRlc3QtY2hhaW4ta2V5LTAxMjM0NTY3OA=="},
    "audit_signing_key": "a2V5aG9sZGVyLXRlc3Qtc2lnbmluZy1rZXktMDEyMzQ=",
}
TOTP_KEY = Fernet.generate_key().decode()
PRODUCTION_KEYS: dict[str, object] = {**AUDIT_KEYS, "totp_keys": [TOTP_KEY]}
