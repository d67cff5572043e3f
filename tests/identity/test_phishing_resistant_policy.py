"""``require_phishing_resistant_admin``: staff and admins act only from a passkey sign-in.

With it on, a TOTP code no longer suffices for staff powers (S18, S29) or for
``manage`` on an account; a recovery code still works, once, and is audited;
API tokens are worth what the sign-in that made them was worth. The refusal
is a 403 problem naming the page where a passkey is added.
"""

from __future__ import annotations

from datetime import timedelta

import pyotp
import pytest
from fastapi.testclient import TestClient

from keyholder.accounts import members
from keyholder.audit.actions import AuditAction
from keyholder.audit.service import list_events
from keyholder.audit.targets import user_target
from keyholder.errors import NeedsPhishingResistantFactor, NotAuthenticated
from keyholder.identity import mfa, service
from keyholder.identity.actor import Actor
from keyholder.identity.models import MfaMethod, StaffRole
from keyholder.web.app import create_app
from keyholder.web.deps import SESSION_COOKIE
from tests.factories import PASSWORD
from tests.identity.authenticator import SoftwareAuthenticator
from tests.identity.test_passkeys import ORIGIN, log_in, passwordless, register


@pytest.fixture
def strict(derive_runtime):
    """A runtime on the same database with the policy on."""
    return derive_runtime(require_phishing_resistant_admin=True)


@pytest.fixture
def agent(factories):
    return factories.user("ada@keyholder.example", password=PASSWORD, staff_role=StaffRole.AGENT)


def totp_session(runtime, user) -> str:
    runtime.clock.advance(timedelta(seconds=30))  # a code is taken once: each its own step
    code = pyotp.TOTP(user.totp_secret).at(runtime.clock.now())
    return mfa.verify_second_factor(
        runtime.uow(), log_in(runtime, user), code, limiter=runtime.rate_limiter
    )


def passkey_session(runtime, user) -> str:
    device = SoftwareAuthenticator(origin=ORIGIN)
    register(runtime, Actor.for_user(user), device)
    return passwordless(runtime, device).session_token


def actor_of(runtime, session: str) -> Actor:
    actor = service.authenticate_session(runtime.uow(), session)
    assert actor is not None
    return actor


@pytest.fixture
def strict_client(strict):
    with TestClient(create_app(runtime=strict, run_relay=False), base_url=ORIGIN) as client:
        yield client


class TestStaff:
    def test_s18_staff_verified_by_totp_are_refused_with_the_way_to_enrol(
        self, strict, strict_client, agent
    ):
        actor = actor_of(strict, totp_session(strict, agent))
        with pytest.raises(NeedsPhishingResistantFactor, match="/account/security"):
            _ = actor.is_staff
        strict_client.cookies.set(SESSION_COOKIE, totp_session(strict, agent))
        answer = strict_client.get("/api/desk/tickets")
        assert answer.status_code == 403
        assert answer.headers["content-type"] == "application/problem+json"
        problem = answer.json()
        assert problem["enrol_url"] == "/account/security#passkeys"
        assert "passkey" in problem["detail"]

    def test_without_the_policy_totp_still_suffices(self, runtime, agent):
        assert actor_of(runtime, totp_session(runtime, agent)).is_staff

    def test_staff_signed_in_with_a_passkey_act(self, strict, strict_client, agent):
        session = passkey_session(strict, agent)
        assert actor_of(strict, session).is_staff
        strict_client.cookies.set(SESSION_COOKIE, session)
        assert strict_client.get("/api/desk/tickets").status_code == 200

    def test_staff_step_up_from_totp_to_a_passkey(self, strict, agent):
        from tests.identity.test_passkeys import second_factor  # noqa: PLC0415

        device = SoftwareAuthenticator(origin=ORIGIN)
        register(strict, Actor.for_user(agent), device)
        session = totp_session(strict, agent)
        assert not actor_of(strict, session).phishing_resistant
        stepped_up = second_factor(strict, session, device)
        assert actor_of(strict, stepped_up).is_staff

    def test_the_operator_at_the_cli_is_exempt(self, strict):
        assert Actor.operator("root").is_staff_admin


class TestRecoveryCode:
    def test_a_recovery_code_works_once_and_is_audited(self, strict, factories):
        agent = factories.user(
            "bo@keyholder.example", password=PASSWORD, staff_role=StaffRole.AGENT, mfa=False
        )
        actor = Actor.for_user(agent)
        enrolment = mfa.begin_mfa_enrolment(
            strict.uow(),
            actor=actor,
            password=PASSWORD,
            limiter=strict.rate_limiter,
            hasher=strict.password_hasher,
        )
        codes = mfa.confirm_mfa_enrolment(
            strict.uow(),
            pyotp.TOTP(enrolment.secret).at(strict.clock.now()),
            actor=actor,
            limiter=strict.rate_limiter,
        )
        session = mfa.verify_second_factor(
            strict.uow(), log_in(strict, agent), codes[0], limiter=strict.rate_limiter
        )
        verified = actor_of(strict, session)
        assert verified.mfa_method is MfaMethod.RECOVERY_CODE
        assert verified.is_staff
        [event] = list_events(
            strict.uow(read_only=True),
            target=user_target(agent.email),
            action=AuditAction.MFA_RECOVERY_CODE_USE,
        )
        assert event.data["after"]["recovery_codes_left"] == len(codes) - 1
        with pytest.raises(NotAuthenticated):
            mfa.verify_second_factor(
                strict.uow(), log_in(strict, agent), codes[0], limiter=strict.rate_limiter
            )


class TestAdmins:
    @pytest.fixture
    def account(self, factories):
        return factories.account("acme")

    @pytest.fixture
    def admin(self, factories, account):
        admin = factories.user("root@acme.example", password=PASSWORD, mfa=True)
        factories.member(account, admin, "view,manage")
        return admin

    def test_an_admin_verified_by_totp_cannot_change_members(
        self, strict, strict_client, factories, account, admin
    ):
        bob = factories.user("bob@acme.example")
        factories.member(account, bob)
        actor = actor_of(strict, totp_session(strict, admin))
        with pytest.raises(NeedsPhishingResistantFactor):
            members.set_member_permissions(
                strict.uow(), "acme", bob.email, ["view", "billing"], actor=actor
            )
        strict_client.cookies.set(SESSION_COOKIE, totp_session(strict, admin))
        answer = strict_client.patch(
            f"/api/enterprise-accounts/acme/members/{bob.email}",
            json={"permissions": [{"name": "view"}, {"name": "billing"}]},
        )
        assert answer.status_code == 403
        assert answer.json()["enrol_url"] == "/account/security#passkeys"

    def test_an_admin_without_any_second_factor_is_refused(self, strict, factories, account):
        plain = factories.user("plain@acme.example", password=PASSWORD)
        factories.member(account, plain, "view,manage")
        actor = actor_of(strict, log_in(strict, plain))
        with pytest.raises(NeedsPhishingResistantFactor):
            members.remove_member(strict.uow(), "acme", plain.email, actor=actor)

    def test_an_admin_signed_in_with_a_passkey_changes_members(
        self, strict, factories, account, admin
    ):
        bob = factories.user("bob@acme.example")
        factories.member(account, bob)
        actor = actor_of(strict, passkey_session(strict, admin))
        changed = members.set_member_permissions(
            strict.uow(), "acme", bob.email, ["view", "billing"], actor=actor
        )
        assert "billing" in changed.permissions


class TestApiTokens:
    def test_a_token_made_from_a_passkey_sign_in_acts_as_staff(self, strict, agent):
        actor = actor_of(strict, passkey_session(strict, agent))
        issued = service.create_api_token(strict.uow(), agent.email, actor=actor)
        token_actor = service.authenticate_api_token(strict.uow(), issued.token)
        assert token_actor is not None
        assert token_actor.is_staff

    def test_a_token_made_otherwise_does_not(self, strict, factories, agent):
        actor = actor_of(strict, totp_session(strict, agent))
        for token in (
            service.create_api_token(strict.uow(), agent.email, actor=actor).token,
            factories.token(agent),  # made by the operator
        ):
            token_actor = service.authenticate_api_token(strict.uow(), token)
            assert token_actor is not None
            with pytest.raises(NeedsPhishingResistantFactor):
                _ = token_actor.is_staff
