"""keyholder users mfa-reset."""

from __future__ import annotations

import pyotp

from keyholder.identity import mfa
from keyholder.identity.actor import Actor
from keyholder.identity.models import User
from tests.cli import Cli, assert_error
from tests.factories import PASSWORD


def test_operator_turns_off_a_users_mfa(cli: Cli, runtime, factories) -> None:
    user = factories.user("lost.phone@example.com", password=PASSWORD)
    actor = Actor.for_user(user)
    secret = mfa.begin_mfa_enrolment(
        runtime.uow(),
        actor=actor,
        password=PASSWORD,
        limiter=runtime.rate_limiter,
        hasher=runtime.password_hasher,
    ).secret
    mfa.confirm_mfa_enrolment(
        runtime.uow(),
        pyotp.TOTP(secret).at(runtime.clock.now()),
        actor=actor,
        limiter=runtime.rate_limiter,
    )

    result = cli.ok("users", "mfa-reset", "lost.phone@example.com")

    assert "is off" in result.stdout
    with runtime.uow(read_only=True) as uow:
        assert uow.session.get(User, user.id).mfa_enabled_at is None
    assert_error(cli("users", "mfa-reset", "lost.phone@example.com"), "no multi-factor")
