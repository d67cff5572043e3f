"""Settings: secrets are required outside development."""

from __future__ import annotations

import json

import limits
import pytest
from argon2.profiles import RFC_9106_LOW_MEMORY
from pydantic import ValidationError

from keyholder.config import DEVELOPMENT_SECRET_KEY, Settings
from tests.production import AUDIT_KEYS, PRODUCTION_KEYS, TOTP_KEY

PRODUCTION = {"env": "production", "secret_key": "x" * 40, **PRODUCTION_KEYS}


def settings(**values):
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def test_development_runs_without_a_secret():
    assert settings(env="development").secret == DEVELOPMENT_SECRET_KEY.encode()


@pytest.mark.parametrize("env", ["production", "test"])
def test_other_environments_require_a_secret(env):
    with pytest.raises(ValidationError, match="KEYHOLDER_SECRET_KEY"):
        settings(env=env)


def test_the_development_placeholder_is_refused_in_production():
    with pytest.raises(ValidationError, match="KEYHOLDER_SECRET_KEY"):
        settings(env="production", secret_key=DEVELOPMENT_SECRET_KEY)


def test_short_secrets_are_refused():
    with pytest.raises(ValidationError, match="32 characters"):
        settings(env="production", secret_key="too-short")


def test_defaults_follow_the_design():
    s = settings(env="development")
    assert s.database_url == "sqlite:///var/keyholder.db"
    assert s.invitation_ttl.days == 7


def test_environment_variables_are_read(monkeypatch):
    monkeypatch.setenv("KEYHOLDER_ENV", "production")
    monkeypatch.setenv("KEYHOLDER_SECRET_KEY", "x" * 40)
    monkeypatch.setenv("KEYHOLDER_TOTP_KEYS", f'["{TOTP_KEY}"]')
    monkeypatch.setenv("KEYHOLDER_AUDIT_KEYS", json.dumps(AUDIT_KEYS["audit_keys"]))
    monkeypatch.setenv("KEYHOLDER_AUDIT_SIGNING_KEY", AUDIT_KEYS["audit_signing_key"])
    monkeypatch.setenv("KEYHOLDER_DATABASE_URL", "postgresql+psycopg://db/keyholder")
    s = settings()
    assert s.database_url == "postgresql+psycopg://db/keyholder"
    assert not s.is_development
    assert [key.get_secret_value() for key in s.totp_keys] == [TOTP_KEY]


def test_production_refuses_to_start_without_totp_keys():
    with pytest.raises(ValidationError, match="KEYHOLDER_TOTP_KEYS must be set in production"):
        settings(env="production", secret_key="x" * 40, **AUDIT_KEYS)


@pytest.mark.parametrize("env", ["production", "development"])
def test_totp_keys_must_be_fernet_keys(env):
    with pytest.raises(ValidationError, match="KEYHOLDER_TOTP_KEYS must be a JSON list of Fernet"):
        settings(env=env, secret_key="x" * 40, totp_keys=[TOTP_KEY, "not-a-key"], **AUDIT_KEYS)


def test_outside_production_the_totp_key_is_optional():
    assert settings(env="development").totp_keys == ()
    assert settings(env="test", secret_key="x" * 40).totp_keys == ()


def test_s12_argon2_defaults_are_rfc_9106_low_memory():
    s = settings(env="development")
    assert (s.argon2_time_cost, s.argon2_memory_cost, s.argon2_parallelism) == (
        RFC_9106_LOW_MEMORY.time_cost,
        RFC_9106_LOW_MEMORY.memory_cost,
        RFC_9106_LOW_MEMORY.parallelism,
    )
    settings(**PRODUCTION)  # and production accepts them


def test_s12_cheap_argon2_is_refused_in_production_only():
    cheap = {"argon2_time_cost": 1, "argon2_memory_cost": 8, "argon2_parallelism": 1}
    with pytest.raises(ValidationError, match="KEYHOLDER_ARGON2_MEMORY_COST"):
        settings(**PRODUCTION, **cheap)
    settings(env="test", secret_key="x" * 40, **cheap)
    settings(env="development", **cheap)
    # OWASP's cheapest equivalent minimums pass.
    settings(**PRODUCTION, argon2_memory_cost=19456, argon2_time_cost=2)
    settings(**PRODUCTION, argon2_memory_cost=7168, argon2_time_cost=5)


def test_argon2_memory_covers_every_lane():
    with pytest.raises(ValidationError, match="8 KiB per lane"):
        settings(env="development", argon2_memory_cost=8, argon2_parallelism=2)


def test_no_cooling_off_only_in_development():
    """Issue 5: the wait before a grant may be 0 only on a developer's machine."""
    assert not settings(env="development", cooling_off=0).cooling_off
    with pytest.raises(ValidationError, match="KEYHOLDER_COOLING_OFF"):
        settings(env="test", secret_key="x" * 40, cooling_off=0)
    with pytest.raises(ValidationError, match="negative"):
        settings(env="development", cooling_off=-1)


def test_desk_service_levels_need_every_priority():
    with pytest.raises(ValidationError, match="KEYHOLDER_DESK_RESOLUTION_HOURS"):
        settings(env="development", desk_resolution_hours={"urgent": 1, "high": 2, "normal": 3})


RATE_LIMITS = [
    "10 per 5 minutes",
    "5/hour",
    "5 PER HOUR",
    "3 per 2 days",
    "1/second; 5/minute",
    "1/second|5/minutes,100/day",
    "10/minute:,5/hour",
    "10 per fortnight",
    "10 per minutex",
    "1/second; 5/weeks",
    "ten per minute",
    "10 per",
    "per minute",
    "",
    "10 per 5 minutes extra",
]


@pytest.mark.parametrize("value", RATE_LIMITS)
def test_rate_limits_are_read_as_the_limiter_reads_them(value):
    """The settings check the notation without importing `limits` (CLI start-up)."""
    try:
        limits.parse(value)
    except ValueError:
        with pytest.raises(ValidationError, match=r"rate limit|granularity"):
            settings(env="development", login_limit_per_account=value)
    else:
        assert settings(env="development", login_limit_per_account=value)


class TestWebAuthn:
    def test_the_rp_id_and_origin_come_from_the_base_url(self):
        found = settings(env="development", base_url="https://keys.example.com:8443/app")
        assert found.rp_id == "keys.example.com"
        assert found.webauthn_expected_origins == ["https://keys.example.com:8443"]
        assert found.webauthn_attestation == "none"
        assert found.require_phishing_resistant_admin is False

    def test_set_values_win(self):
        found = settings(
            env="development",
            webauthn_rp_id="example.com",
            webauthn_origins=("https://a.example.com", "https://b.example.com"),
        )
        assert found.rp_id == "example.com"
        assert found.webauthn_expected_origins == ["https://a.example.com", "https://b.example.com"]

    def test_origins_are_origins(self):
        with pytest.raises(ValidationError, match="not an origin"):
            settings(env="development", webauthn_origins=("https://a.example.com/login",))


@pytest.mark.parametrize("entry", ["*", "proxy.internal", "10.0.0.300"])
def test_trusted_proxies_are_addresses_or_networks_only(entry: str) -> None:
    with pytest.raises(ValidationError, match="not an IP address or network"):
        settings(env="development", trusted_proxies=(entry,))


def test_trusted_proxies_take_addresses_and_networks() -> None:
    proxies = ("10.0.0.5", "10.1.0.0/16", "::1")
    assert settings(env="development", trusted_proxies=proxies).trusted_proxies == proxies


@pytest.mark.parametrize(
    ("values", "store"),
    [
        # Several processes on one PostgreSQL share their counts without Redis.
        ({"database_url": "postgresql+psycopg://db.internal/keyholder"}, "database"),
        ({"database_url": "sqlite:///var/keyholder.db"}, "memory"),
        (
            {"database_url": "sqlite:///var/k.db", "rate_limit_storage": "database"},
            "database",
        ),
        (
            {"database_url": "postgresql+psycopg://db/k", "rate_limit_storage": "memory"},
            "memory",
        ),
        ({"database_url": "postgresql+psycopg://db/k", "redis_url": "redis://r:6379/0"}, "redis"),
    ],
)
def test_rate_limits_count_where_every_process_sees_them(
    values: dict[str, str], store: str
) -> None:
    assert settings(env="development", **values).rate_limit_store == store
