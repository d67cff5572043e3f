"""Audit keys at start-up: production refuses to run without them (S36)."""

from __future__ import annotations

import base64
import json

import pytest
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import ValidationError

from keyholder.audit.settings import chain_keyring, checkpoint_sinks, trusted_public_keys
from keyholder.config import DEFAULT_AUDIT_CHECKPOINT_FILE, Settings

SECRET = "s" * 40
CHAIN_KEY = base64.b64encode(b"c" * 32).decode()
SIGNING_KEY = base64.b64encode(b"s" * 32).decode()
TOTP_KEYS = [Fernet.generate_key().decode()]  # production needs these too


def production(**values: object) -> Settings:
    values = {"audit_keys": {"k1": CHAIN_KEY}, "audit_signing_key": SIGNING_KEY} | values
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        env="production",
        secret_key=SECRET,
        totp_keys=TOTP_KEYS,  # type: ignore[arg-type]
        **values,  # type: ignore[arg-type]
    )  # type: ignore[call-arg, arg-type]


class TestProduction:
    def test_s36_no_chain_key_is_a_start_up_error(self):
        with pytest.raises(ValidationError, match="KEYHOLDER_AUDIT_KEYS must be set unless"):
            production(audit_keys={})

    def test_s36_no_signing_key_is_a_start_up_error(self):
        with pytest.raises(ValidationError, match="KEYHOLDER_AUDIT_SIGNING_KEY must be set unless"):
            production(audit_signing_key=None)

    @pytest.mark.parametrize(
        ("values", "message"),
        [
            ({"audit_keys": {"k1": base64.b64encode(b"short").decode()}}, "at least 32 bytes"),
            (
                {"audit_keys": {"k1": "not base64!"}},
                r"KEYHOLDER_AUDIT_KEYS\['k1'\] is not valid base64",
            ),
            ({"audit_keys": {"a b": CHAIN_KEY}}, "key id 'a b' must be"),
            (
                {"audit_keys": {"k1": CHAIN_KEY, "k2": CHAIN_KEY}},
                "KEYHOLDER_AUDIT_KEY_ID must name",
            ),
            ({"audit_key_id": "k9"}, "KEYHOLDER_AUDIT_KEY_ID 'k9' is not in KEYHOLDER_AUDIT_KEYS"),
            (
                {"audit_signing_key": base64.b64encode(b"x" * 31).decode()},
                "KEYHOLDER_AUDIT_SIGNING_KEY must be PEM",
            ),
            ({"audit_public_keys": ["AAAA"]}, "KEYHOLDER_AUDIT_PUBLIC_KEYS: must be PEM"),
            ({"audit_syslog_address": "syslog.internal"}, "KEYHOLDER_AUDIT_SYSLOG_ADDRESS must be"),
        ],
    )
    def test_s36_an_unusable_key_or_address_is_a_start_up_error(self, values, message):
        with pytest.raises(ValidationError, match=message):
            production(**values)

    def test_s36_keys_from_the_environment_and_pem(self, monkeypatch):
        pem = (
            Ed25519PrivateKey.generate()
            .private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            .decode()
        )
        monkeypatch.setenv("KEYHOLDER_AUDIT_KEYS", json.dumps({"old": CHAIN_KEY, "new": CHAIN_KEY}))
        monkeypatch.setenv("KEYHOLDER_AUDIT_KEY_ID", "new")
        monkeypatch.setenv("KEYHOLDER_AUDIT_SIGNING_KEY", pem)

        monkeypatch.setenv("KEYHOLDER_TOTP_KEYS", json.dumps(TOTP_KEYS))
        settings = Settings(_env_file=None, env="production", secret_key=SECRET)  # type: ignore[call-arg]

        assert chain_keyring(settings).current == "new"
        assert len(trusted_public_keys(settings)) == 1
        assert settings.audit_checkpoint_file == DEFAULT_AUDIT_CHECKPOINT_FILE

    def test_s36_a_verify_only_host_needs_public_keys_instead(self):
        public = base64.b64encode(b"p" * 32).decode()
        settings = production(audit_signing_key=None, audit_public_keys=[public])
        assert next(iter(trusted_public_keys(settings).values())) is not None


class TestDevelopmentAndTests:
    def test_s36_development_derives_keys_from_the_secret_and_writes_under_var(self):
        settings = Settings(_env_file=None, env="development")  # type: ignore[call-arg]
        assert chain_keyring(settings).current == "dev"
        assert settings.audit_signing_key is not None
        assert settings.audit_checkpoint_file == DEFAULT_AUDIT_CHECKPOINT_FILE
        assert [sink.name for sink in checkpoint_sinks(settings)] == [
            "file var/audit-checkpoints.jsonl"
        ]

    def test_tests_write_no_checkpoints_unless_told(self):
        settings = Settings(_env_file=None, env="test", secret_key=SECRET)  # type: ignore[call-arg]
        assert checkpoint_sinks(settings) == []

    def test_derived_keys_follow_the_secret(self):
        one = Settings(_env_file=None, env="test", secret_key=SECRET)  # type: ignore[call-arg]
        two = Settings(_env_file=None, env="test", secret_key="t" * 40)  # type: ignore[call-arg]
        assert chain_keyring(one).keys != chain_keyring(two).keys
