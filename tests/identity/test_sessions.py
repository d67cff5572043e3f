"""Session rotation and "log out everywhere" (SECURITY.md S14, S15)."""

from __future__ import annotations

import pytest

from keyholder.accounts import invitations, members
from keyholder.audit.service import list_events
from keyholder.errors import NotAuthenticated
from keyholder.identity import service, sessions
from keyholder.identity.models import StaffRole
from tests.factories import OPERATOR, PASSWORD


@pytest.fixture
def alice(factories):
    return factories.user("alice@acme.example", password=PASSWORD)


def log_in(runtime, user, *, replaces: str | None = None) -> str:
    signed_in = service.log_in(
        runtime.uow(),
        user.email,
        PASSWORD,
        client_address="192.0.2.1",
        replaces=replaces,
        limiter=runtime.rate_limiter,
        hasher=runtime.password_hasher,
    )
    return signed_in.session_token


def session_works(runtime, token: str) -> bool:
    return service.authenticate_session(runtime.uow(), token) is not None


def token_works(runtime, token: str) -> bool:
    return service.authenticate_api_token(runtime.uow(), token) is not None


class TestRotationAtLogin:
    def test_s15_logging_in_with_a_session_revokes_it_and_issues_a_new_id(self, runtime, alice):
        old = log_in(runtime, alice)
        new = log_in(runtime, alice, replaces=old)
        assert new != old
        assert not session_works(runtime, old)
        assert session_works(runtime, new)

    def test_s15_the_replaced_session_goes_whoever_held_it(self, runtime, factories, alice):
        """Bob signs in on a browser holding Alice's cookie: her session there ends."""
        bob = factories.user("bob@acme.example", password=PASSWORD)
        alices = log_in(runtime, alice)
        bobs = log_in(runtime, bob, replaces=alices)
        assert not session_works(runtime, alices)
        assert session_works(runtime, bobs)

    def test_s15_a_failed_login_leaves_the_held_session_alone(self, runtime, alice):
        held = log_in(runtime, alice)
        with pytest.raises(NotAuthenticated):
            service.log_in(
                runtime.uow(),
                alice.email,
                "not the password",
                client_address=None,
                replaces=held,
                limiter=runtime.rate_limiter,
                hasher=runtime.password_hasher,
            )
        assert session_works(runtime, held)

    def test_s15_sessions_on_other_devices_survive_a_login(self, runtime, alice):
        laptop = log_in(runtime, alice)
        phone = log_in(runtime, alice)
        log_in(runtime, alice, replaces=phone)
        assert session_works(runtime, laptop)

    def test_s15_an_unknown_or_ended_cookie_is_harmless(self, runtime, alice):
        assert session_works(runtime, log_in(runtime, alice, replaces="khs_made_up"))
        ended = log_in(runtime, alice)
        service.log_out(runtime.uow(), ended)
        assert session_works(runtime, log_in(runtime, alice, replaces=ended))


class TestRotationAtPrivilegeChange:
    @pytest.mark.parametrize(
        ("before", "after"),
        [
            (None, StaffRole.AGENT),
            (StaffRole.AGENT, StaffRole.ADMIN),
            (StaffRole.ADMIN, None),
        ],
    )
    def test_s15_a_staff_role_change_ends_sessions_and_api_tokens(
        self, runtime, factories, before, after
    ):
        # Without MFA, so a password alone opens a working session (S17).
        user = factories.user(
            "sam@keyholder.example", password=PASSWORD, staff_role=before, mfa=False
        )
        session, token = log_in(runtime, user), factories.token(user)
        service.set_staff_role(runtime.uow(), user.email, after, actor=OPERATOR)
        assert not session_works(runtime, session)
        assert not token_works(runtime, token)
        fresh = service.authenticate_session(runtime.uow(), log_in(runtime, user))
        assert fresh is not None
        assert fresh.staff_role is after
        [event] = list_events(runtime.uow(), action="user.credentials_revoke")
        assert event.target == "user:sam@keyholder.example"
        assert event.data["after"] == {"reason": "staff_role", "credentials_revoked": 2}

    def test_s15_setting_the_same_staff_role_ends_nothing(self, runtime, factories):
        user = factories.user(password=PASSWORD, staff_role=StaffRole.AGENT, mfa=False)
        session = log_in(runtime, user)
        service.set_staff_role(runtime.uow(), user.email, StaffRole.AGENT, actor=OPERATOR)
        assert session_works(runtime, session)

    @pytest.mark.parametrize(
        ("before", "after", "reason"),
        [
            ("view", "view,manage", "manage"),
            ("view,manage", "view,billing", "manage_lost"),
        ],
    )
    def test_s41_gaining_or_losing_manage_ends_sessions_and_api_tokens(
        self, runtime, factories, alice, before, after, reason
    ):
        account = factories.account("acme-corp")
        factories.admin_of(account)  # so alice is not the last admin
        factories.member(account, alice, before)
        session, token = log_in(runtime, alice), factories.token(alice)
        members.set_member_permissions(
            runtime.uow(),
            "acme-corp",
            alice.email,
            after.split(","),
            actor=OPERATOR,
            confirm=True,  # one admin is left: confirmed (issue 18)
        )
        assert not session_works(runtime, session)
        assert not token_works(runtime, token)
        [event] = list_events(runtime.uow(), action="user.credentials_revoke")
        assert event.target == "user:alice@acme.example"
        assert event.data["after"] == {"reason": reason, "credentials_revoked": 2}

    def test_s41_being_added_with_manage_ends_sessions_and_api_tokens(
        self, runtime, factories, alice
    ):
        factories.account("acme-corp")
        session, token = log_in(runtime, alice), factories.token(alice)
        members.add_member(runtime.uow(), "acme-corp", alice.email, ["manage"], actor=OPERATOR)
        assert not session_works(runtime, session)
        assert not token_works(runtime, token)

    def test_s41_accepting_an_invitation_to_manage_ends_sessions_and_api_tokens(
        self, runtime, factories
    ):
        factories.account("acme-corp")
        members.add_member(
            runtime.uow(), "acme-corp", "new@acme.example", ["manage"], actor=OPERATOR
        )
        invitation_token = factories.last_invitation_token()
        newcomer = factories.user("new@acme.example", password=PASSWORD)
        session, token = log_in(runtime, newcomer), factories.token(newcomer)
        invitations.accept_invitation(
            runtime.uow(),
            invitation_token,
            actor=factories.actor(newcomer),
            hasher=runtime.password_hasher,
        )
        assert not session_works(runtime, session)
        assert not token_works(runtime, token)

    def test_s41_being_added_without_manage_keeps_api_tokens(self, runtime, factories, alice):
        factories.account("acme-corp")
        token = factories.token(alice)
        members.add_member(runtime.uow(), "acme-corp", alice.email, ["view"], actor=OPERATOR)
        assert token_works(runtime, token)

    def test_s41_removing_a_member_who_manages_ends_sessions_and_api_tokens(
        self, runtime, factories, alice
    ):
        account = factories.account("acme-corp")
        factories.admin_of(account)
        factories.member(account, alice, "view,manage")
        session, token = log_in(runtime, alice), factories.token(alice)
        members.remove_member(runtime.uow(), "acme-corp", alice.email, actor=OPERATOR, confirm=True)
        assert not session_works(runtime, session)
        assert not token_works(runtime, token)
        [event] = list_events(runtime.uow(), action="user.credentials_revoke")
        assert event.data["after"] == {"reason": "manage_lost", "credentials_revoked": 2}

    def test_s41_removing_a_member_without_manage_keeps_api_tokens(self, runtime, factories, alice):
        account = factories.account("acme-corp")
        factories.member(account, alice, "view,create")
        session, token = log_in(runtime, alice), factories.token(alice)
        members.remove_member(runtime.uow(), "acme-corp", alice.email, actor=OPERATOR)
        assert session_works(runtime, session)
        assert token_works(runtime, token)
        assert not list_events(runtime.uow(), action="user.credentials_revoke")

    @pytest.mark.parametrize(
        ("before", "after"),
        [
            ("view", "view,create,billing"),
            ("view,create", "view"),
            ("view,manage", "view,manage,billing"),
            ("view,manage,billing", "view,manage"),
        ],
    )
    def test_s41_permission_changes_that_keep_manage_as_it_was_keep_credentials(
        self, runtime, factories, alice, before, after
    ):
        """Only gaining or losing manage is a privilege change; the rest act per request."""
        account = factories.account("acme-corp")
        factories.admin_of(account)  # so alice is not the last admin
        factories.member(account, alice, before)
        session, token = log_in(runtime, alice), factories.token(alice)
        members.set_member_permissions(
            runtime.uow(),
            "acme-corp",
            alice.email,
            after.split(","),
            actor=OPERATOR,
            confirm=True,  # one admin is left: confirmed (issue 18)
        )
        assert session_works(runtime, session)
        assert token_works(runtime, token)
        assert not list_events(runtime.uow(), action="user.credentials_revoke")

    def test_s41_an_api_token_gets_401_on_the_request_after_gaining_manage(
        self, runtime, factories, client, alice
    ):
        account = factories.account("acme-corp")
        factories.member(account, alice, "view")
        bearer = factories.auth(alice)
        assert client.get("/api/session", headers=bearer).status_code == 200
        members.set_member_permissions(
            runtime.uow(), "acme-corp", alice.email, ["view", "manage"], actor=OPERATOR
        )
        assert client.get("/api/session", headers=bearer).status_code == 401

    @pytest.mark.parametrize("change", ["demote", "remove"])
    def test_s41_an_api_token_gets_401_on_the_request_after_losing_manage(
        self, runtime, factories, client, alice, change
    ):
        account = factories.account("acme-corp")
        admin = factories.admin_of(account)
        factories.member(account, alice, "view,manage")
        bearer = factories.auth(alice)
        admins_bearer = factories.auth(admin)
        assert client.get("/api/session", headers=bearer).status_code == 200
        if change == "demote":
            members.set_member_permissions(
                runtime.uow(), "acme-corp", alice.email, ["view"], actor=OPERATOR, confirm=True
            )
        else:
            members.remove_member(
                runtime.uow(), "acme-corp", alice.email, actor=OPERATOR, confirm=True
            )
        assert client.get("/api/session", headers=bearer).status_code == 401
        assert client.get("/api/session", headers=admins_bearer).status_code == 200


class TestLogOutEverywhere:
    def test_s14_ends_every_session_and_api_token(self, runtime, factories, alice):
        signed_in = [log_in(runtime, alice) for _ in range(2)]
        tokens = [factories.token(alice) for _ in range(2)]
        revoked = sessions.log_out_everywhere(runtime.uow(), actor=factories.actor(alice))
        assert revoked == 4
        assert not any(session_works(runtime, s) for s in signed_in)
        assert not any(token_works(runtime, t) for t in tokens)
        [event] = list_events(runtime.uow(), action="user.log_out_everywhere")
        assert event.actor == alice.email
        assert event.data["after"] == {"credentials_revoked": 4, "kept_current_session": False}

    def test_s14_can_spare_the_current_session(self, runtime, factories, alice):
        current, other = log_in(runtime, alice), log_in(runtime, alice)
        token = factories.token(alice)
        revoked = sessions.log_out_everywhere(
            runtime.uow(), actor=factories.actor(alice), current_session_token=current
        )
        assert revoked == 2
        assert session_works(runtime, current)
        assert not session_works(runtime, other)
        assert not token_works(runtime, token)

    def test_s14_leaves_other_users_alone(self, runtime, factories, alice):
        bob = factories.user("bob@acme.example", password=PASSWORD)
        bobs_session, bobs_token = log_in(runtime, bob), factories.token(bob)
        log_in(runtime, alice)
        # Naming someone else's session as "current" spares nothing and ends nothing of theirs.
        sessions.log_out_everywhere(
            runtime.uow(), actor=factories.actor(alice), current_session_token=bobs_session
        )
        assert session_works(runtime, bobs_session)
        assert token_works(runtime, bobs_token)
