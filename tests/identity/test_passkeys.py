"""Passkeys and security keys (WebAuthn): registering, naming, removing, signing in with them.

Ceremonies run against ``SoftwareAuthenticator`` (tests/identity/authenticator.py):
real P-256 keys and signatures, attestation "none". S17 (changing factors needs
the password), S15 (a new session id once verified).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from keyholder.audit.actions import AuditAction
from keyholder.audit.service import list_events
from keyholder.audit.targets import user_target
from keyholder.errors import (
    AlreadyExists,
    Gone,
    InvalidInput,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    TooManyRequests,
)
from keyholder.identity import mfa, passkey_sign_in, passkeys, service
from keyholder.identity.actor import Actor
from keyholder.identity.models import MfaMethod, Passkey, User
from tests.factories import PASSWORD
from tests.identity.authenticator import SoftwareAuthenticator

ORIGIN = "https://keyholder.test"  # the test settings' base URL


@pytest.fixture
def alice(factories):
    return factories.user("alice@acme.example", password=PASSWORD, name="Alice")


@pytest.fixture
def device() -> SoftwareAuthenticator:
    return SoftwareAuthenticator(origin=ORIGIN)


def log_in(runtime, user) -> str:
    return service.log_in(
        runtime.uow(),
        user.email,
        PASSWORD,
        client_address=None,
        limiter=runtime.rate_limiter,
        hasher=runtime.password_hasher,
    ).session_token


def register(runtime, actor: Actor, device, *, name="Laptop", session=None, origin=None):
    ceremony = passkeys.begin_registration(
        runtime.uow(),
        actor=actor,
        password=PASSWORD,
        session_token=session,
        limiter=runtime.rate_limiter,
        hasher=runtime.password_hasher,
    )
    return passkeys.finish_registration(
        runtime.uow(),
        ceremony.id,
        device.create(ceremony.options, origin=origin),
        name=name,
        actor=actor,
        session_token=session,
    )


def passwordless(runtime, device, **answer):
    ceremony = passkey_sign_in.begin_passwordless(runtime.uow())
    return passkey_sign_in.finish_passwordless(
        runtime.uow(),
        ceremony.id,
        device.get(ceremony.options, **answer),
        client_address="192.0.2.7",
        limiter=runtime.rate_limiter,
    )


def second_factor(runtime, session: str, device, **answer) -> str:
    ceremony = passkey_sign_in.begin_second_factor(runtime.uow(), session)
    return passkey_sign_in.finish_second_factor(
        runtime.uow(),
        session,
        ceremony.id,
        device.get(ceremony.options, **answer),
        limiter=runtime.rate_limiter,
    )


def stored_passkeys(runtime, user) -> list[Passkey]:
    with runtime.uow(read_only=True) as uow:
        return list(uow.session.scalars(select(Passkey).where(Passkey.user_id == user.id)))


def events(runtime, user, action: AuditAction):
    return list_events(runtime.uow(read_only=True), target=user_target(user.email), action=action)


class TestRegistration:
    def test_a_registered_passkey_is_listed_audited_and_emailed(
        self, runtime, alice, device, outbox
    ):
        passkey = register(runtime, Actor.for_user(alice), device, name="  Work\nlaptop ")
        listed = passkeys.list_passkeys(runtime.uow(), actor=Actor.for_user(alice))
        assert [(p.id, p.name, p.discoverable) for p in listed] == [
            (passkey.id, "Work laptop", True)
        ]
        assert events(runtime, alice, AuditAction.PASSKEY_REGISTER)
        added = [row for row in outbox.rows() if row.kind == "passkey_added"]
        assert len(added) == 1
        assert alice.email in added[0].recipients
        assert "Work laptop" in added[0].body

    def test_the_session_adding_the_first_passkey_stays_others_must_verify(
        self, runtime, alice, device
    ):
        this, other = log_in(runtime, alice), log_in(runtime, alice)
        register(runtime, Actor.for_user(alice), device, session=this)
        actor = service.authenticate_session(runtime.uow(), this)
        assert actor is not None
        assert actor.mfa_enabled
        assert not actor.phishing_resistant  # adding a key is not signing in with it
        assert service.authenticate_session(runtime.uow(), other) is None

    def test_unnamed_passkeys_are_numbered(self, runtime, alice, device):
        first = register(runtime, Actor.for_user(alice), device, name="")
        assert first.name == "Passkey 1"

    def test_s17_registration_needs_the_password(self, runtime, alice):
        with pytest.raises(PermissionDenied):
            passkeys.begin_registration(
                runtime.uow(),
                actor=Actor.for_user(alice),
                password="not the password",
                session_token=None,
                limiter=runtime.rate_limiter,
                hasher=runtime.password_hasher,
            )

    def test_an_answer_made_for_another_origin_is_refused(self, runtime, alice, device):
        with pytest.raises(InvalidInput):
            register(runtime, Actor.for_user(alice), device, origin="https://keyholder.test.evil")
        assert stored_passkeys(runtime, alice) == []

    def test_a_ceremony_finishes_once(self, runtime, alice, device):
        actor = Actor.for_user(alice)
        ceremony = passkeys.begin_registration(
            runtime.uow(),
            actor=actor,
            password=PASSWORD,
            session_token=None,
            limiter=runtime.rate_limiter,
            hasher=runtime.password_hasher,
        )
        answer = device.create(ceremony.options)
        finish = {"name": "Key", "actor": actor, "session_token": None}
        passkeys.finish_registration(runtime.uow(), ceremony.id, answer, **finish)
        with pytest.raises(Gone):
            passkeys.finish_registration(runtime.uow(), ceremony.id, answer, **finish)

    def test_a_ceremony_expires(self, runtime, alice, device):
        actor = Actor.for_user(alice)
        ceremony = passkeys.begin_registration(
            runtime.uow(),
            actor=actor,
            password=PASSWORD,
            session_token=None,
            limiter=runtime.rate_limiter,
            hasher=runtime.password_hasher,
        )
        runtime.clock.advance(runtime.settings.webauthn_challenge_ttl + timedelta(seconds=1))
        with pytest.raises(Gone):
            passkeys.finish_registration(
                runtime.uow(),
                ceremony.id,
                device.create(ceremony.options),
                name="Key",
                actor=actor,
                session_token=None,
            )

    def test_a_ceremony_belongs_to_the_session_that_began_it(self, runtime, alice, device):
        actor = Actor.for_user(alice)
        mine, other = log_in(runtime, alice), log_in(runtime, alice)
        ceremony = passkeys.begin_registration(
            runtime.uow(),
            actor=actor,
            password=PASSWORD,
            session_token=mine,
            limiter=runtime.rate_limiter,
            hasher=runtime.password_hasher,
        )
        with pytest.raises(Gone):
            passkeys.finish_registration(
                runtime.uow(),
                ceremony.id,
                device.create(ceremony.options),
                name="Key",
                actor=actor,
                session_token=other,
            )

    def test_a_credential_id_registered_already_is_refused(self, runtime, alice, factories):
        alices = register(runtime, Actor.for_user(alice), SoftwareAuthenticator(origin=ORIGIN))
        bob = factories.user("bob@acme.example", password=PASSWORD)
        ceremony = passkeys.begin_registration(
            runtime.uow(),
            actor=Actor.for_user(bob),
            password=PASSWORD,
            session_token=None,
            limiter=runtime.rate_limiter,
            hasher=runtime.password_hasher,
        )
        answer = SoftwareAuthenticator(origin=ORIGIN).create(
            ceremony.options, credential_id=alices.credential_id
        )
        with pytest.raises(AlreadyExists):
            passkeys.finish_registration(
                runtime.uow(),
                ceremony.id,
                answer,
                name="Copied",
                actor=Actor.for_user(bob),
                session_token=None,
            )
        assert stored_passkeys(runtime, bob) == []

    def test_adding_a_second_passkey_needs_a_passkey_sign_in(self, runtime, alice, device):
        register(runtime, Actor.for_user(alice), device)
        totp_actor = Actor.for_user(alice)  # no passkey sign-in
        with pytest.raises(PermissionDenied, match="sign in with it"):
            register(runtime, totp_actor, device, name="Another")
        signed_in = passwordless(runtime, device)
        actor = service.authenticate_session(runtime.uow(), signed_in.session_token)
        assert actor is not None
        register(runtime, actor, SoftwareAuthenticator(origin=ORIGIN), name="Another")
        assert len(stored_passkeys(runtime, alice)) == 2


class TestManagement:
    def test_rename(self, runtime, alice, device):
        passkey = register(runtime, Actor.for_user(alice), device)
        renamed = passkeys.rename_passkey(
            runtime.uow(), passkey.id, "YubiKey 5", actor=Actor.for_user(alice)
        )
        assert renamed.name == "YubiKey 5"
        assert events(runtime, alice, AuditAction.PASSKEY_RENAME)

    def test_another_users_passkey_is_not_found(self, runtime, alice, factories, device):
        passkey = register(runtime, Actor.for_user(alice), device)
        bob = factories.user("bob@acme.example", password=PASSWORD)
        with pytest.raises(NotFound):
            passkeys.rename_passkey(runtime.uow(), passkey.id, "mine", actor=Actor.for_user(bob))

    def test_a_removed_passkey_no_longer_signs_in(self, runtime, alice, device, outbox):
        passkey = register(runtime, Actor.for_user(alice), device)
        actor = service.authenticate_session(
            runtime.uow(), passwordless(runtime, device).session_token
        )
        assert actor is not None
        passkeys.remove_passkey(
            runtime.uow(),
            passkey.id,
            actor=actor,
            password=PASSWORD,
            limiter=runtime.rate_limiter,
            hasher=runtime.password_hasher,
        )
        assert events(runtime, alice, AuditAction.PASSKEY_REMOVE)
        assert [row.kind for row in outbox.rows()].count("passkey_removed") == 1
        with pytest.raises(NotAuthenticated):
            passwordless(runtime, device)
        with runtime.uow(read_only=True) as uow:
            assert uow.session.get(User, alice.id).passkeys_since is None

    def test_removing_a_key_ends_the_other_sessions_and_tokens(self, runtime, alice, device):
        passkey = register(runtime, Actor.for_user(alice), device)
        stolen = passwordless(runtime, device).session_token  # whoever held the key
        mine = passwordless(runtime, device).session_token
        actor = service.authenticate_session(runtime.uow(), mine)
        token = service.create_api_token(runtime.uow(), alice.email, actor=actor).token
        revoked = passkeys.remove_passkey(
            runtime.uow(),
            passkey.id,
            actor=actor,
            password=PASSWORD,
            current_session_token=mine,
            limiter=runtime.rate_limiter,
            hasher=runtime.password_hasher,
        )
        assert revoked == 2
        assert service.authenticate_session(runtime.uow(), stolen) is None
        assert service.authenticate_api_token(runtime.uow(), token) is None
        kept = service.authenticate_session(runtime.uow(), mine)
        assert kept is not None
        assert not kept.mfa_enabled  # no factor left: the session stays, worth a password

    def test_s17_removing_needs_the_password_and_a_passkey_sign_in(self, runtime, alice, device):
        passkey = register(runtime, Actor.for_user(alice), device)
        remove = {"limiter": runtime.rate_limiter, "hasher": runtime.password_hasher}
        with pytest.raises(PermissionDenied):  # signed in with the password only
            passkeys.remove_passkey(
                runtime.uow(), passkey.id, actor=Actor.for_user(alice), password=PASSWORD, **remove
            )
        actor = service.authenticate_session(
            runtime.uow(), passwordless(runtime, device).session_token
        )
        with pytest.raises(PermissionDenied):
            passkeys.remove_passkey(
                runtime.uow(), passkey.id, actor=actor, password="wrong", **remove
            )
        assert len(stored_passkeys(runtime, alice)) == 1


class TestSignIn:
    def test_passwordless_sign_in_gives_a_passkey_verified_session(self, runtime, alice, device):
        register(runtime, Actor.for_user(alice), device)
        signed_in = passwordless(runtime, device)
        actor = service.authenticate_session(runtime.uow(), signed_in.session_token)
        assert actor is not None
        assert (actor.email, actor.mfa_method, actor.mfa_enabled) == (
            alice.email,
            MfaMethod.PASSKEY,
            True,
        )
        assert events(runtime, alice, AuditAction.PASSKEY_SIGN_IN)

    def test_passwordless_needs_user_verification(self, runtime, alice, device):
        register(runtime, Actor.for_user(alice), device)
        with pytest.raises(NotAuthenticated):
            passwordless(runtime, device, user_verified=False)
        assert events(runtime, alice, AuditAction.PASSKEY_VERIFY_FAILED)

    def test_s15_a_passkey_user_signs_in_with_the_password_then_the_key(
        self, runtime, alice, device
    ):
        register(runtime, Actor.for_user(alice), device)
        session = log_in(runtime, alice)
        assert service.authenticate_session(runtime.uow(), session) is None  # not yet
        assert passkey_sign_in.pending_factors(runtime.uow(), session) == (
            passkey_sign_in.PendingFactors(totp=False, passkeys=True)
        )
        verified = second_factor(runtime, session, device)
        assert verified != session
        assert service.authenticate_session(runtime.uow(), session) is None  # replaced
        actor = service.authenticate_session(runtime.uow(), verified)
        assert actor is not None
        assert actor.mfa_method is MfaMethod.PASSKEY

    def test_a_second_factor_ceremony_belongs_to_its_session(self, runtime, alice, device):
        register(runtime, Actor.for_user(alice), device)
        mine, other = log_in(runtime, alice), log_in(runtime, alice)
        ceremony = passkey_sign_in.begin_second_factor(runtime.uow(), mine)
        with pytest.raises(Gone):
            passkey_sign_in.finish_second_factor(
                runtime.uow(),
                other,
                ceremony.id,
                device.get(ceremony.options),
                limiter=runtime.rate_limiter,
            )

    def test_s16_passwordless_attempts_count_per_client(self, derive_runtime, alice, device):
        throttled = derive_runtime(login_limit_per_client="2 per 5 minutes")
        register(throttled, Actor.for_user(alice), device)
        passwordless(throttled, device)
        passwordless(throttled, device)
        with pytest.raises(TooManyRequests):
            passwordless(throttled, device)

    def test_another_users_key_is_no_second_factor(self, runtime, alice, factories, device):
        register(runtime, Actor.for_user(alice), device)
        bob = factories.user("bob@acme.example", password=PASSWORD)
        bobs_device = SoftwareAuthenticator(origin=ORIGIN)
        register(runtime, Actor.for_user(bob), bobs_device)
        session = log_in(runtime, alice)
        ceremony = passkey_sign_in.begin_second_factor(runtime.uow(), session)
        answer = bobs_device.get(ceremony.options, credential=bobs_device.credentials[0])
        with pytest.raises(NotAuthenticated):
            passkey_sign_in.finish_second_factor(
                runtime.uow(), session, ceremony.id, answer, limiter=runtime.rate_limiter
            )

    def test_an_answer_signed_for_another_origin_is_refused(self, runtime, alice, device):
        register(runtime, Actor.for_user(alice), device)
        with pytest.raises(NotAuthenticated):
            passwordless(runtime, device, origin="https://keyholder-login.example")
        assert events(runtime, alice, AuditAction.PASSKEY_VERIFY_FAILED)

    def test_an_answer_for_another_rp_id_is_refused(self, runtime, alice, device):
        register(runtime, Actor.for_user(alice), device)
        with pytest.raises(NotAuthenticated):
            passwordless(runtime, device, rp_id="evil.example")

    def test_a_server_with_another_rp_id_refuses_the_key(
        self, runtime, derive_runtime, alice, device
    ):
        register(runtime, Actor.for_user(alice), device)
        elsewhere = derive_runtime(webauthn_rp_id="login.keyholder.test")
        with pytest.raises(NotAuthenticated):
            passwordless(elsewhere, device)

    def test_a_key_whose_counter_goes_back_is_refused_marked_and_audited(
        self, runtime, alice, device
    ):
        register(runtime, Actor.for_user(alice), device)
        passwordless(runtime, device)  # count 1
        passwordless(runtime, device)  # count 2
        with pytest.raises(NotAuthenticated, match="counter went backwards"):
            passwordless(runtime, device, sign_count=1)  # a copy made at count 1
        [passkey] = stored_passkeys(runtime, alice)
        assert passkey.clone_warning_at is not None
        assert passkey.sign_count == 2
        [event] = events(runtime, alice, AuditAction.PASSKEY_CLONE_WARNING)
        assert event.data["after"]["answered_sign_count"] == 1

    def test_keys_that_count_nothing_keep_working(self, runtime, alice, device):
        register(runtime, Actor.for_user(alice), device)
        passwordless(runtime, device, sign_count=0)
        passwordless(runtime, device, sign_count=0)  # synced passkeys answer 0

    def test_a_malformed_answer_is_refused_not_a_crash(self, runtime, alice, device):
        register(runtime, Actor.for_user(alice), device)
        ceremony = passkey_sign_in.begin_passwordless(runtime.uow())
        answer = device.get(ceremony.options)
        answer["response"]["authenticatorData"] = "%%%"
        with pytest.raises(NotAuthenticated):
            passkey_sign_in.finish_passwordless(
                runtime.uow(),
                ceremony.id,
                answer,
                client_address=None,
                limiter=runtime.rate_limiter,
            )

    def test_a_staff_reset_removes_the_passkeys(self, runtime, alice, device):
        register(runtime, Actor.for_user(alice), device)
        mfa.reset_mfa(runtime.uow(), alice.email, actor=Actor.operator("test"))
        assert stored_passkeys(runtime, alice) == []
        with pytest.raises(NotAuthenticated):
            passwordless(runtime, device)
