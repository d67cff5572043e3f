"""TOTP secrets encrypted at rest under KEYHOLDER_TOTP_KEYS (identity.totp_keys)."""

from __future__ import annotations

import json
from datetime import timedelta

import pyotp
import pytest
from alembic import command
from cryptography.fernet import Fernet
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import text

from keyholder.audit.service import list_events
from keyholder.db import migrate
from keyholder.errors import ConfigurationError
from keyholder.identity import mfa, service
from keyholder.identity.actor import Actor
from keyholder.identity.totp_keys import decrypt_totp_secret, rotate_totp_secrets
from keyholder.web.app import create_app
from tests.cli import Cli, assert_error
from tests.factories import OPERATOR, PASSWORD
from tests.runtimes import runtime_with

OLD, NEW, OTHER = (Fernet.generate_key().decode() for _ in range(3))


def keys(*values: str) -> tuple[SecretStr, ...]:
    """KEYHOLDER_TOTP_KEYS as the settings hold it (model_copy does not convert)."""
    return tuple(SecretStr(value) for value in values)


@pytest.fixture
def alice(factories):
    return factories.user("alice@acme.example", password=PASSWORD)


def stored_secret(runtime, email: str) -> str | None:
    """The column as the database holds it, read with plain SQL."""
    with runtime.engine.connect() as connection:
        return connection.execute(
            text("SELECT mfa_secret FROM users WHERE email = :email"), {"email": email}
        ).scalar_one()


def enrol(runtime, user) -> tuple[str, list[str]]:
    actor = Actor.for_user(user)
    secret = mfa.begin_mfa_enrolment(
        runtime.uow(),
        actor=actor,
        password=PASSWORD,
        limiter=runtime.rate_limiter,
        hasher=runtime.password_hasher,
    ).secret
    code = pyotp.TOTP(secret).at(runtime.clock.now())
    return secret, mfa.confirm_mfa_enrolment(
        runtime.uow(), code, actor=actor, limiter=runtime.rate_limiter
    )


def sign_in_with_code(runtime, user, code: str) -> None:
    token = service.log_in(
        runtime.uow(),
        user.email,
        PASSWORD,
        client_address=None,
        limiter=runtime.rate_limiter,
        hasher=runtime.password_hasher,
    ).session_token
    mfa.verify_second_factor(runtime.uow(), token, code, limiter=runtime.rate_limiter)


def next_code(runtime, secret: str) -> str:
    runtime.clock.advance(timedelta(seconds=30))  # each code works once
    return pyotp.TOTP(secret).at(runtime.clock.now())


class TestAtRest:
    def test_s6_the_database_holds_no_clear_totp_secret(self, runtime, alice):
        secret, _ = enrol(runtime, alice)

        column = stored_secret(runtime, alice.email)

        assert column is not None
        assert secret not in column
        assert column.startswith("gAAAAA")  # a Fernet token
        assert decrypt_totp_secret(runtime.settings, column) == secret
        sign_in_with_code(runtime, alice, next_code(runtime, secret))

    def test_the_secret_of_an_unfinished_enrolment_is_encrypted_too(self, runtime, alice):
        secret = mfa.begin_mfa_enrolment(
            runtime.uow(),
            actor=Actor.for_user(alice),
            password=PASSWORD,
            limiter=runtime.rate_limiter,
            hasher=runtime.password_hasher,
        ).secret
        assert secret not in (stored_secret(runtime, alice.email) or "")


class TestRotation:
    def test_a_new_first_key_then_rotate_then_the_old_key_can_go(
        self, settings, clock, engine, runtime, alice
    ):
        with runtime_with(settings, clock, engine, totp_keys=keys(OLD)) as old:
            secret, _ = enrol(old, alice)
        before = stored_secret(runtime, alice.email)
        with runtime_with(settings, clock, engine, totp_keys=keys(NEW, OLD)) as both:
            sign_in_with_code(both, alice, next_code(both, secret))  # the old key still opens it

            first = rotate_totp_secrets(both.uow(), actor=OPERATOR)
            again = rotate_totp_secrets(both.uow(), actor=OPERATOR)

        assert (first.rotated, first.current, first.unreadable) == (1, 0, ())
        assert (again.rotated, again.current, again.unreadable) == (0, 1, ())  # idempotent
        after = stored_secret(runtime, alice.email)
        assert after != before
        assert secret not in (after or "")
        with runtime_with(settings, clock, engine, totp_keys=keys(NEW)) as new:
            sign_in_with_code(new, alice, next_code(new, secret))
        events = list_events(runtime.uow(), action="keys.rotate")
        assert [e.data["after"]["rotated"] for e in events] == [0, 1]  # newest first

    def test_the_cli_reports_counts_and_fails_on_a_secret_no_key_opens(
        self, settings, clock, engine, runtime, factories
    ):
        with runtime_with(settings, clock, engine, totp_keys=keys(OLD)) as old:
            enrol(old, factories.user("kept@acme.example", password=PASSWORD))
        with runtime_with(settings, clock, engine, totp_keys=keys(OTHER)) as other:
            enrol(other, factories.user("lost@acme.example", password=PASSWORD))
        with runtime_with(settings, clock, engine, totp_keys=keys(NEW, OLD)) as both:
            cli = Cli(both)
            failed = cli("keys", "rotate")
            assert_error(failed, "1 cannot be decrypted with any key", "lost@acme.example")
            assert "1 TOTP secret(s) re-encrypted" in failed.stderr
            again = cli("keys", "rotate", "--json")
            assert again.exit_code == 1
            assert json.loads(again.stdout) == {
                "rotated": 0,
                "current": 1,
                "unreadable": ["lost@acme.example"],
            }


class TestLostKey:
    def test_signing_in_names_the_setting_and_recovery_codes_still_work(
        self, settings, clock, engine, alice
    ):
        with runtime_with(settings, clock, engine, totp_keys=keys(OLD)) as old:
            secret, recovery_codes = enrol(old, alice)
        with runtime_with(settings, clock, engine, totp_keys=keys(NEW)) as lost:
            with pytest.raises(ConfigurationError, match="KEYHOLDER_TOTP_KEYS") as refused:
                sign_in_with_code(lost, alice, next_code(lost, secret))
            assert "keyholder users mfa-reset" in refused.value.detail

            sign_in_with_code(lost, alice, recovery_codes[0])

            # The operator's way out: reset, and the user enrols again under the new key.
            mfa.reset_mfa(lost.uow(), alice.email, actor=OPERATOR)
            secret, _ = enrol(lost, alice)
            sign_in_with_code(lost, alice, next_code(lost, secret))

    def test_the_api_answers_500_naming_the_setting(self, settings, clock, engine, factories):
        user = factories.user("staff@keyholder.example", password=PASSWORD, mfa=True)
        with (
            runtime_with(settings, clock, engine, totp_keys=keys(NEW)) as lost,
            TestClient(create_app(runtime=lost, run_relay=False)) as client,
        ):
            signed_in = client.post(
                "/api/session", json={"email": user.email, "password": PASSWORD}
            )
            assert signed_in.json()["mfa_required"] is True
            # TestClient does not send Secure cookies over http: pass it on by hand.
            cookie = signed_in.headers["set-cookie"].split(";")[0]
            code = next_code(lost, user.totp_secret)

            answer = client.post(
                "/api/session/mfa", json={"code": code}, headers={"Cookie": cookie}
            )

        assert answer.status_code == 500
        assert "KEYHOLDER_TOTP_KEYS" in answer.json()["detail"]


class TestMigration:
    """0010 encrypts the secrets earlier versions stored in clear, in the upgrade itself."""

    def test_clear_secrets_are_encrypted_by_the_upgrade(self, runtime, engine, settings, alice):
        clear = pyotp.random_base32()
        config = migrate.alembic_config(engine, settings)
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0009")
        try:
            with engine.begin() as connection:
                connection.execute(
                    text("UPDATE users SET mfa_secret = :s WHERE email = :e"),
                    {"s": clear, "e": alice.email},
                )
            with pytest.raises(ConfigurationError, match="KEYHOLDER_TOTP_KEYS"):
                migrate.upgrade(engine)  # no keys: nothing changes
            assert migrate.current_revision(engine) == "0009"
            assert stored_secret(runtime, alice.email) == clear

            migrate.upgrade(engine, settings=settings)
        finally:
            migrate.upgrade(engine, settings=settings)

        column = stored_secret(runtime, alice.email)
        assert column is not None
        assert clear not in column
        assert decrypt_totp_secret(settings, column) == clear
