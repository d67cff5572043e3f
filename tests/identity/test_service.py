"""Users, API tokens and sessions (minimal sign-in; hardening is a later issue)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, text

from keyholder.audit.service import list_events
from keyholder.errors import AlreadyExists, InvalidInput, NotAuthenticated, PermissionDenied
from keyholder.identity import service
from keyholder.identity.models import ApiToken, StaffRole
from keyholder.identity.tokens import hash_token
from tests.factories import OPERATOR, PASSWORD


def all_text_in_database(engine) -> str:
    dump = []
    with engine.connect() as connection:
        for table in ("users", "api_tokens", "sessions", "invitations", "audit_events", "outbox"):
            dump += [repr(tuple(row)) for row in connection.execute(text(f"SELECT * FROM {table}"))]
    return "\n".join(dump)


class TestUsers:
    def test_emails_are_case_folded_and_unique(self, runtime, factories):
        user = factories.user("Jane.Doe@ACME.example")
        assert user.email == "jane.doe@acme.example"
        with pytest.raises(AlreadyExists):
            factories.user("jane.doe@acme.EXAMPLE")

    def test_passwords_are_stored_as_argon2id(self, runtime, factories):
        user = factories.user(password=PASSWORD)
        assert user.password_hash.startswith("$argon2id$")
        assert PASSWORD not in all_text_in_database(runtime.engine)

    def test_short_password_is_refused(self, runtime, factories):
        with pytest.raises(InvalidInput, match="at least 8"):
            factories.user(password="short")

    def test_only_platform_admins_create_users_or_grant_staff_roles(self, runtime, factories):
        agent = factories.user(staff_role=StaffRole.AGENT)
        with pytest.raises(PermissionDenied):
            service.create_user(
                runtime.uow(),
                "x@example.com",
                actor=factories.actor(agent),
                hasher=runtime.password_hasher,
            )
        with pytest.raises(PermissionDenied):
            service.set_staff_role(
                runtime.uow(), agent.email, StaffRole.ADMIN, actor=factories.actor(agent)
            )

    def test_staff_role_changes_are_audited(self, runtime, factories):
        user = factories.user("sam@keyholder.example")
        service.set_staff_role(runtime.uow(), user.email, StaffRole.REVIEWER, actor=OPERATOR)
        [event] = list_events(runtime.uow(), action="user.staff_role")
        assert event.data == {"before": {"staff_role": None}, "after": {"staff_role": "reviewer"}}


class TestApiTokens:
    def test_token_authenticates_and_only_its_hash_is_stored(self, runtime, factories):
        user = factories.user()
        token = factories.token(user)
        actor = service.authenticate_api_token(runtime.uow(), token)
        assert actor is not None
        assert actor.user_id == user.id
        assert token not in all_text_in_database(runtime.engine)  # S6

    def test_tokens_carry_at_least_128_bits(self, runtime, factories):
        token = factories.token(factories.user())
        assert len(token.partition("_")[2]) >= 43  # 256 bits of url-safe base64

    def test_revoked_or_expired_tokens_fail(self, runtime, factories, clock):
        user = factories.user()
        revoked, expiring = factories.token(user), factories.token(user)
        with runtime.uow() as uow:
            # By hash, not by creation time: the fixed clock gives both the same instant.
            def row(token: str) -> ApiToken:
                return uow.session.scalars(
                    select(ApiToken).where(ApiToken.token_hash == hash_token(token))
                ).one()

            row(revoked).revoked_at = clock.now()
            row(expiring).expires_at = clock.now() + timedelta(seconds=1)
            uow.commit()
        assert service.authenticate_api_token(runtime.uow(), revoked) is None
        assert service.authenticate_api_token(runtime.uow(), expiring) is not None
        clock.advance(timedelta(seconds=1))
        assert service.authenticate_api_token(runtime.uow(), expiring) is None

    def test_customers_cannot_mint_tokens_for_others(self, runtime, factories):
        me, other = factories.user(), factories.user()
        with pytest.raises(PermissionDenied):
            service.create_api_token(runtime.uow(), other.email, actor=factories.actor(me))
        assert service.create_api_token(runtime.uow(), me.email, actor=factories.actor(me)).token


class TestSessions:
    def test_session_expires(self, runtime, factories, clock):
        factories.user("a@example.com", password=PASSWORD)
        signed_in = service.log_in(
            runtime.uow(),
            "a@example.com",
            PASSWORD,
            client_address=None,
            limiter=runtime.rate_limiter,
            hasher=runtime.password_hasher,
        )
        assert service.authenticate_session(runtime.uow(), signed_in.session_token) is not None
        clock.advance(runtime.settings.session_ttl)
        assert service.authenticate_session(runtime.uow(), signed_in.session_token) is None

    def test_user_without_password_cannot_log_in(self, runtime, factories):
        factories.user("nopw@example.com", password=None)
        with pytest.raises(NotAuthenticated):
            service.log_in(
                runtime.uow(),
                "nopw@example.com",
                "",
                client_address=None,
                limiter=runtime.rate_limiter,
                hasher=runtime.password_hasher,
            )
