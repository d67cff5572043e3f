"""TOTP MFA with recovery codes (SECURITY.md S17; S18-prep: the factor staff will need)."""

from __future__ import annotations

from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import select

from keyholder.audit.service import list_events
from keyholder.errors import (
    Conflict,
    InvalidInput,
    NotAuthenticated,
    PermissionDenied,
    TooManyRequests,
)
from keyholder.identity import mfa, service
from keyholder.identity.actor import Actor
from keyholder.identity.models import RecoveryCode, User, UserSession
from keyholder.identity.tokens import hash_token
from tests.factories import OPERATOR, PASSWORD


@pytest.fixture
def alice(factories):
    return factories.user("alice@acme.example", password=PASSWORD)


def totp(runtime, secret: str, *, steps: int = 0) -> str:
    """The code an authenticator app shows at the fixed clock's time (plus ``steps``)."""
    at = runtime.clock.now() + timedelta(seconds=30 * steps)
    return pyotp.TOTP(secret).at(at)


def enrol(runtime, user) -> tuple[str, list[str]]:
    """Enable MFA for ``user``; the secret and the recovery codes."""
    actor = Actor.for_user(user)
    enrolment = mfa.begin_mfa_enrolment(
        runtime.uow(),
        actor=actor,
        password=PASSWORD,
        limiter=runtime.rate_limiter,
        hasher=runtime.password_hasher,
    )
    codes = mfa.confirm_mfa_enrolment(
        runtime.uow(), totp(runtime, enrolment.secret), actor=actor, limiter=runtime.rate_limiter
    )
    return enrolment.secret, codes


def log_in(runtime, user) -> str:
    return service.log_in(
        runtime.uow(),
        user.email,
        PASSWORD,
        client_address=None,
        limiter=runtime.rate_limiter,
        hasher=runtime.password_hasher,
    ).session_token


def session_works(runtime, token: str) -> bool:
    return service.authenticate_session(runtime.uow(), token) is not None


def stored(runtime, user) -> User:
    with runtime.uow(read_only=True) as uow:
        found = uow.session.get(User, user.id)
        assert found is not None
        return found


class TestEnrolment:
    def test_s17_enrolment_needs_the_password_and_changes_nothing_without_it(self, runtime, alice):
        with pytest.raises(PermissionDenied):
            mfa.begin_mfa_enrolment(
                runtime.uow(),
                actor=Actor.for_user(alice),
                password="not it",
                limiter=runtime.rate_limiter,
                hasher=runtime.password_hasher,
            )
        assert stored(runtime, alice).mfa_secret is None

    def test_begin_gives_a_secret_uri_and_qr_code_but_does_not_enable(self, runtime, alice):
        enrolment = mfa.begin_mfa_enrolment(
            runtime.uow(),
            actor=Actor.for_user(alice),
            password=PASSWORD,
            limiter=runtime.rate_limiter,
            hasher=runtime.password_hasher,
        )
        assert enrolment.otpauth_uri.startswith("otpauth://totp/Keyholder:alice%40acme.example?")
        assert f"secret={enrolment.secret}" in enrolment.otpauth_uri
        assert enrolment.qr_svg.startswith("<svg")
        assert stored(runtime, alice).mfa_enabled_at is None

    def test_a_wrong_code_does_not_enable(self, runtime, alice):
        actor = Actor.for_user(alice)
        enrolment = mfa.begin_mfa_enrolment(
            runtime.uow(),
            actor=actor,
            password=PASSWORD,
            limiter=runtime.rate_limiter,
            hasher=runtime.password_hasher,
        )
        wrong = totp(runtime, enrolment.secret, steps=5)
        with pytest.raises(InvalidInput):
            mfa.confirm_mfa_enrolment(
                runtime.uow(), wrong, actor=actor, limiter=runtime.rate_limiter
            )
        assert stored(runtime, alice).mfa_enabled_at is None

    def test_the_right_code_enables_and_gives_ten_recovery_codes(self, runtime, alice):
        _, codes = enrol(runtime, alice)
        assert len(codes) == len(set(codes)) == 10
        assert stored(runtime, alice).mfa_enabled_at == runtime.clock.now()
        events = list_events(runtime.uow(read_only=True), action="mfa.enable")
        assert [e.target for e in events] == ["user:alice@acme.example"]

    def test_recovery_codes_are_stored_only_as_hashes(self, runtime, alice):
        _, codes = enrol(runtime, alice)
        with runtime.uow(read_only=True) as uow:
            hashes = set(uow.session.scalars(select(RecoveryCode.code_hash)))
        assert len(hashes) == 10
        assert not hashes & set(codes)
        assert not any(code in h or code.replace("-", "") in h for code in codes for h in hashes)

    def test_enrolling_again_while_enabled_is_refused(self, runtime, alice):
        enrol(runtime, alice)
        with pytest.raises(Conflict):
            mfa.begin_mfa_enrolment(
                runtime.uow(),
                actor=Actor.for_user(alice),
                password=PASSWORD,
                limiter=runtime.rate_limiter,
                hasher=runtime.password_hasher,
            )


class TestSecondFactorAtSignIn:
    def test_s18_prep_a_password_alone_opens_a_session_that_cannot_act(self, runtime, alice):
        secret, _ = enrol(runtime, alice)
        token = log_in(runtime, alice)
        assert not session_works(runtime, token)
        runtime.clock.advance(timedelta(seconds=30))
        verified = mfa.verify_second_factor(
            runtime.uow(), token, totp(runtime, secret), limiter=runtime.rate_limiter
        )
        assert session_works(runtime, verified)

    def test_s15_passing_the_second_factor_replaces_the_session_id(self, runtime, alice):
        """Session fixation: a password-only id planted by someone who knows the password
        must not become a verified session once the victim passes the second factor."""
        secret, _ = enrol(runtime, alice)
        planted = log_in(runtime, alice)
        runtime.clock.advance(timedelta(seconds=30))
        verified = mfa.verify_second_factor(
            runtime.uow(), planted, totp(runtime, secret), limiter=runtime.rate_limiter
        )
        assert verified != planted
        assert not session_works(runtime, planted)
        assert session_works(runtime, verified)
        with runtime.uow(read_only=True) as uow:
            old, new = (
                uow.session.scalar(
                    select(UserSession).where(UserSession.token_hash == hash_token(t))
                )
                for t in (planted, verified)
            )
            assert old.revoked_at is not None
            assert new.user_id == alice.id
            assert new.revoked_at is None
            # The same lifetime as a fresh sign-in, counted from the verification.
            assert new.expires_at == runtime.clock.now() + runtime.settings.session_ttl
        [event] = list_events(runtime.uow(read_only=True), action="user.session_rotate")
        assert event.target == "user:alice@acme.example"
        assert event.data["after"] == {"reason": "second_factor", "method": "totp"}

    def test_s15_a_session_ended_before_the_code_arrives_gets_no_successor(self, runtime, alice):
        secret, _ = enrol(runtime, alice)
        token = log_in(runtime, alice)
        service.log_out(runtime.uow(), token)
        runtime.clock.advance(timedelta(seconds=30))
        with pytest.raises(NotAuthenticated):
            mfa.verify_second_factor(
                runtime.uow(), token, totp(runtime, secret), limiter=runtime.rate_limiter
            )
        assert not list_events(runtime.uow(read_only=True), action="user.session_rotate")

    def test_users_without_mfa_are_unaffected(self, runtime, alice):
        assert session_works(runtime, log_in(runtime, alice))

    def test_a_code_from_the_next_or_previous_step_is_accepted(self, runtime, alice):
        secret, _ = enrol(runtime, alice)
        runtime.clock.advance(timedelta(minutes=5))
        token = log_in(runtime, alice)
        verified = mfa.verify_second_factor(
            runtime.uow(), token, totp(runtime, secret, steps=-1), limiter=runtime.rate_limiter
        )
        assert session_works(runtime, verified)

    def test_a_code_two_steps_off_is_refused_and_audited(self, runtime, alice):
        secret, _ = enrol(runtime, alice)
        runtime.clock.advance(timedelta(minutes=5))
        token = log_in(runtime, alice)
        with pytest.raises(NotAuthenticated):
            mfa.verify_second_factor(
                runtime.uow(), token, totp(runtime, secret, steps=2), limiter=runtime.rate_limiter
            )
        assert not session_works(runtime, token)
        assert list_events(runtime.uow(read_only=True), action="mfa.verify_failed")

    def test_a_used_totp_code_cannot_be_replayed_in_the_same_step(self, runtime, alice):
        secret, _ = enrol(runtime, alice)
        runtime.clock.advance(timedelta(seconds=30))
        first, second = log_in(runtime, alice), log_in(runtime, alice)
        code = totp(runtime, secret)
        mfa.verify_second_factor(runtime.uow(), first, code, limiter=runtime.rate_limiter)
        with pytest.raises(NotAuthenticated):
            mfa.verify_second_factor(runtime.uow(), second, code, limiter=runtime.rate_limiter)
        assert not session_works(runtime, second)

    def test_the_enrolment_code_cannot_be_replayed_at_sign_in(self, runtime, alice):
        secret, _ = enrol(runtime, alice)
        token = log_in(runtime, alice)
        with pytest.raises(NotAuthenticated):
            mfa.verify_second_factor(
                runtime.uow(), token, totp(runtime, secret), limiter=runtime.rate_limiter
            )

    def test_a_recovery_code_works_once(self, runtime, alice):
        _, codes = enrol(runtime, alice)
        first, second = log_in(runtime, alice), log_in(runtime, alice)
        assert session_works(
            runtime,
            mfa.verify_second_factor(
                runtime.uow(), first, codes[0].upper(), limiter=runtime.rate_limiter
            ),
        )
        with pytest.raises(NotAuthenticated):
            mfa.verify_second_factor(runtime.uow(), second, codes[0], limiter=runtime.rate_limiter)
        assert session_works(
            runtime,
            mfa.verify_second_factor(runtime.uow(), second, codes[1], limiter=runtime.rate_limiter),
        )

    def test_wrong_codes_are_throttled(self, runtime, alice):
        enrol(runtime, alice)
        token = log_in(runtime, alice)
        for _ in range(9):  # the default limit is 10 per 15 minutes; enrolling used one
            with pytest.raises(NotAuthenticated):
                mfa.verify_second_factor(
                    runtime.uow(), token, "000000-not-a-code", limiter=runtime.rate_limiter
                )
        with pytest.raises(TooManyRequests):
            mfa.verify_second_factor(
                runtime.uow(), token, "000000-not-a-code", limiter=runtime.rate_limiter
            )

    def test_other_sessions_must_verify_once_mfa_is_enabled(self, runtime, alice):
        before = log_in(runtime, alice)
        enrol(runtime, alice)
        assert not session_works(runtime, before)


class TestRecoveryCodesAndDisabling:
    def test_s17_regenerating_needs_the_password_and_voids_the_old_codes(self, runtime, alice):
        _, old = enrol(runtime, alice)
        actor = Actor.for_user(alice)
        with pytest.raises(PermissionDenied):
            mfa.regenerate_recovery_codes(
                runtime.uow(),
                actor=actor,
                password="not it",
                limiter=runtime.rate_limiter,
                hasher=runtime.password_hasher,
            )
        new = mfa.regenerate_recovery_codes(
            runtime.uow(),
            actor=actor,
            password=PASSWORD,
            limiter=runtime.rate_limiter,
            hasher=runtime.password_hasher,
        )
        assert not set(new) & set(old)
        token = log_in(runtime, alice)
        with pytest.raises(NotAuthenticated):
            mfa.verify_second_factor(runtime.uow(), token, old[0], limiter=runtime.rate_limiter)
        mfa.verify_second_factor(runtime.uow(), token, new[0], limiter=runtime.rate_limiter)
        assert list_events(runtime.uow(read_only=True), action="mfa.recovery_codes")

    def test_s17_disabling_needs_the_password_and_a_code(self, runtime, alice):
        secret, _ = enrol(runtime, alice)
        actor = Actor.for_user(alice)
        runtime.clock.advance(timedelta(seconds=30))
        with pytest.raises(PermissionDenied):
            mfa.disable_mfa(
                runtime.uow(),
                actor=actor,
                password="not it",
                code=totp(runtime, secret),
                limiter=runtime.rate_limiter,
                hasher=runtime.password_hasher,
            )
        with pytest.raises(PermissionDenied):
            mfa.disable_mfa(
                runtime.uow(),
                actor=actor,
                password=PASSWORD,
                code="123456",
                limiter=runtime.rate_limiter,
                hasher=runtime.password_hasher,
            )
        assert stored(runtime, alice).mfa_enabled_at is not None
        mfa.disable_mfa(
            runtime.uow(),
            actor=actor,
            password=PASSWORD,
            code=totp(runtime, secret),
            limiter=runtime.rate_limiter,
            hasher=runtime.password_hasher,
        )
        user = stored(runtime, alice)
        assert user.mfa_enabled_at is None
        assert user.mfa_secret is None
        with runtime.uow(read_only=True) as uow:
            assert uow.session.scalars(select(RecoveryCode)).all() == []
        assert session_works(runtime, log_in(runtime, alice))
        assert list_events(runtime.uow(read_only=True), action="mfa.disable")


class TestOperatorReset:
    def test_operator_turns_mfa_off_and_ends_every_credential(self, runtime, factories):
        user = factories.user("lost.phone@example.com", password=PASSWORD)
        enrol(runtime, user)
        token = factories.token(user)
        mfa.reset_mfa(runtime.uow(), user.email, actor=OPERATOR)
        assert service.authenticate_api_token(runtime.uow(), token) is None
        assert stored(runtime, user).mfa_enabled_at is None
        assert stored(runtime, user).mfa_secret is None
        [event] = list_events(runtime.uow(), action="mfa.reset")
        assert event.target == "user:lost.phone@example.com"

    def test_customers_cannot_reset_someone_elses_mfa(self, runtime, factories):
        user = factories.user("victim@example.com", password=PASSWORD)
        enrol(runtime, user)
        mallory = factories.user("mallory@example.com")
        with pytest.raises(PermissionDenied):
            mfa.reset_mfa(runtime.uow(), user.email, actor=factories.actor(mallory))
        assert stored(runtime, user).mfa_enabled_at is not None

    def test_s16_wrong_passwords_at_mfa_endpoints_count_as_sign_in_attempts(
        self, make_runtime, factories
    ):
        limited = make_runtime(login_limit_per_account="3 per 5 minutes")
        user = factories.user("guess@example.com", password=PASSWORD)
        actor = factories.actor(user)
        for _ in range(3):
            with pytest.raises(PermissionDenied):
                mfa.begin_mfa_enrolment(
                    limited.uow(),
                    actor=actor,
                    password="wrong guess!!",
                    limiter=limited.rate_limiter,
                    hasher=limited.password_hasher,
                )
        with pytest.raises(TooManyRequests):
            mfa.begin_mfa_enrolment(
                limited.uow(),
                actor=actor,
                password=PASSWORD,
                limiter=limited.rate_limiter,
                hasher=limited.password_hasher,
            )
