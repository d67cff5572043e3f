"""Operators' use cases: who may, what is refused, what is kept (issue 19)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from keyholder.audit.actions import AuditAction
from keyholder.audit.models import AuditEvent
from keyholder.bootstrap import Runtime
from keyholder.errors import InvalidInput, PermissionDenied
from keyholder.identity.models import StaffRole
from keyholder.webhooks import service
from keyholder.webhooks.models import WebhookEndpoint
from keyholder.webhooks.signing import unseal
from tests.factories import OPERATOR, Factories

URL = "https://hooks.example.com/keyholder"


class TestService:
    def test_only_platform_admins_manage_webhooks(
        self, runtime: Runtime, factories: Factories
    ) -> None:
        for user in (factories.user(), factories.staff(role=StaffRole.AGENT)):
            with pytest.raises(PermissionDenied):
                service.add_endpoint(
                    runtime.uow(), URL, event_types=["member.added"], actor=factories.actor(user)
                )
        admin = factories.actor(factories.staff(role=StaffRole.ADMIN))
        service.add_endpoint(runtime.uow(), URL, event_types=["member.added"], actor=admin)

    def test_the_secret_is_kept_encrypted_and_every_change_is_audited(
        self, runtime: Runtime
    ) -> None:
        added = service.add_endpoint(
            runtime.uow(), URL, event_types=["member.added"], actor=OPERATOR
        )
        service.rotate_secret(runtime.uow(), added.endpoint.id, actor=OPERATOR)
        service.disable_endpoint(runtime.uow(), added.endpoint.id, actor=OPERATOR)
        service.redeliver(runtime.uow(), added.endpoint.id, actor=OPERATOR)
        service.remove_endpoint(runtime.uow(), added.endpoint.id, actor=OPERATOR)

        with runtime.uow(read_only=True) as uow:
            actions = uow.session.scalars(select(AuditEvent.action).order_by(AuditEvent.seq))
            assert list(actions) == [
                AuditAction.WEBHOOK_ADD,
                AuditAction.WEBHOOK_ROTATE_SECRET,
                AuditAction.WEBHOOK_DISABLE,
                AuditAction.WEBHOOK_REDELIVER,
                AuditAction.WEBHOOK_REMOVE,
            ]
            assert uow.session.scalars(select(WebhookEndpoint)).all() == []

    def test_secrets_at_rest_are_not_in_clear(self, runtime: Runtime) -> None:
        """S6: signing secrets cannot be hashed (they sign), so they are encrypted."""
        added = service.add_endpoint(
            runtime.uow(), URL, event_types=["member.added"], actor=OPERATOR
        )
        with runtime.uow(read_only=True) as uow:
            stored = uow.session.get(WebhookEndpoint, added.endpoint.id)
            assert stored is not None
        assert added.secret.removeprefix("whsec_") not in stored.secret
        assert unseal(runtime.settings.secret, stored.secret) == added.secret
        with pytest.raises(ValueError, match="KEYHOLDER_SECRET_KEY changed"):
            unseal(b"another secret key", stored.secret)

    def test_a_new_endpoint_starts_after_the_newest_event(
        self, runtime: Runtime, factories: Factories
    ) -> None:
        factories.account("acme-corp")
        added = service.add_endpoint(
            runtime.uow(), URL, event_types=["member.added"], actor=OPERATOR
        )
        whole = service.add_endpoint(
            runtime.uow(), URL, event_types=["member.added"], start_after=0, actor=OPERATOR
        )
        assert added.endpoint.cursor >= 1
        assert whole.endpoint.cursor == 0

    @pytest.mark.parametrize("from_seq", [0, -1, 2**31])
    def test_redeliver_refuses_a_seq_out_of_range(self, runtime: Runtime, from_seq: int) -> None:
        added = service.add_endpoint(
            runtime.uow(), URL, event_types=["member.added"], actor=OPERATOR
        )
        with pytest.raises(InvalidInput):
            service.redeliver(runtime.uow(), added.endpoint.id, from_seq=from_seq, actor=OPERATOR)
