"""Webhook deliveries to a real loopback receiver, verified with the reference library."""

from __future__ import annotations

import json
import random
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import select
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from keyholder.accounts import members
from keyholder.accounts.models import EnterpriseAccount
from keyholder.accounts.permissions import parse_permissions
from keyholder.audit.actions import AuditAction
from keyholder.audit.models import AuditEvent
from keyholder.audit.received import verify_received
from keyholder.audit.settings import chain_keyring
from keyholder.bootstrap import Runtime, bootstrap
from keyholder.clock import FixedClock
from keyholder.mail.models import OutboxMessage
from keyholder.webhooks import service
from keyholder.webhooks.delivery import deliver_due
from keyholder.webhooks.models import PayloadFormat, WebhookDelivery, WebhookEndpoint
from keyholder.worker import run_jobs_once
from tests.factories import OPERATOR, Factories
from tests.webhooks.receiver import Received, Receiver

MEMBER_EVENTS = ["member.added", "member.changed", "member.removed"]


def subscribe(runtime: Runtime, receiver: Receiver, events: list[str] | None = None) -> str:
    added = service.add_endpoint(
        runtime.uow(), receiver.url, event_types=events or MEMBER_EVENTS, actor=OPERATOR
    )
    return added.secret


def deliver(runtime: Runtime) -> Any:
    return deliver_due(runtime.uow, runtime.webhook_transport, rng=random.Random(1))


def add(runtime: Runtime, account: EnterpriseAccount, factories: Factories, n: int) -> str:
    user = factories.user(f"person{n}@example.com")
    members.add_member(runtime.uow(), account.name, user.email, ["view"], actor=OPERATOR)
    return user.email


def signed_with(secret: str, delivery: Received) -> bool:
    """Whether ``secret`` signed ``delivery``, by the reference library, at any clock."""
    timestamp = datetime.fromtimestamp(int(delivery.headers["webhook-timestamp"]), tz=UTC)
    expected = Webhook(secret).sign(delivery.headers["webhook-id"], timestamp, delivery.body)
    return expected in delivery.headers["webhook-signature"].split(" ")


def bodies(receiver: Receiver) -> list[dict[str, Any]]:
    return [json.loads(r.body) for r in receiver.received]


class TestDelivery:
    def test_a_member_change_arrives_signed_per_standard_webhooks(
        self, runtime: Runtime, factories: Factories, receiver: Receiver
    ) -> None:
        account = factories.account("acme-corp")
        secret = subscribe(runtime, receiver)
        email = add(runtime, account, factories, 1)

        result = run_jobs_once(runtime)

        assert result.webhooks_delivered == 1
        (delivery,) = receiver.received
        message = Webhook(secret).verify(delivery.body, delivery.headers)
        assert message["type"] == "member.added"
        assert message["data"]["ids"] == {"account": "acme-corp", "member": email}
        assert message["data"]["after"]["permissions"] == ["view"]
        assert delivery.headers["webhook-id"].startswith("msg_")
        with pytest.raises(WebhookVerificationError):
            Webhook("whsec_" + "A" * 44).verify(delivery.body, delivery.headers)

    def test_changes_during_an_outage_all_arrive_once_in_order(
        self, runtime: Runtime, factories: Factories, receiver: Receiver, clock: FixedClock
    ) -> None:
        account = factories.account("acme-corp")
        secret = subscribe(runtime, receiver)
        add(runtime, account, factories, 0)
        deliver(runtime)
        receiver.stop()  # the port is closed
        emails = [add(runtime, account, factories, n) for n in range(1, 6)]
        members.set_member_permissions(
            runtime.uow(), account.name, emails[0], ["view", "billing"], actor=OPERATOR
        )
        members.remove_member(runtime.uow(), account.name, emails[1], actor=OPERATOR)

        for _ in range(4):  # retried with backoff while down: nothing gets through
            clock.advance(timedelta(hours=1))
            assert deliver(runtime).failed == 1
        receiver.start()
        assert deliver(runtime).delivered == 0  # not due yet: the backoff holds
        clock.advance(timedelta(hours=1))
        deliver(runtime)

        got = bodies(receiver)
        seqs = [b["data"]["seq"] for b in got]
        assert seqs == sorted(set(seqs))  # in order, each once
        assert [b["type"] for b in got] == ["member.added"] * 6 + [
            "member.changed",
            "member.removed",
        ]
        assert [b["data"]["ids"]["member"] for b in got[1:6]] == emails
        assert all(signed_with(secret, r) for r in receiver.received)
        with runtime.uow(read_only=True) as uow:
            logged = uow.session.scalars(select(WebhookDelivery)).all()
        assert sum(not d.succeeded for d in logged) == 4
        assert all(d.error and "Connection" in d.error for d in logged if not d.succeeded)

    def test_a_rolled_back_change_sends_nothing(
        self, runtime: Runtime, factories: Factories, receiver: Receiver
    ) -> None:
        account = factories.account("acme-corp")
        subscribe(runtime, receiver)
        ghost = factories.user("ghost@example.com")
        with runtime.uow() as uow:  # the audit event is written, then rolled back
            stored = uow.session.get(EnterpriseAccount, account.id)
            assert stored is not None
            members.add_or_invite(
                uow, stored, ghost.email, parse_permissions(["view"]), actor=OPERATOR
            )
        real = add(runtime, account, factories, 1)

        deliver(runtime)

        assert [b["data"]["ids"]["member"] for b in bodies(receiver)] == [real]

    def test_only_subscribed_event_types_are_sent(
        self, runtime: Runtime, factories: Factories, receiver: Receiver
    ) -> None:
        account = factories.account("acme-corp")
        subscribe(runtime, receiver, ["member.removed"])
        email = add(runtime, account, factories, 1)
        members.remove_member(runtime.uow(), account.name, email, actor=OPERATOR)

        deliver(runtime)

        assert [b["type"] for b in bodies(receiver)] == ["member.removed"]
        with runtime.uow(read_only=True) as uow:
            endpoint = uow.session.scalars(select(WebhookEndpoint)).one()
            head = max(uow.session.scalars(select(AuditEvent.seq)))
        assert endpoint.cursor == head  # skipped past what it does not want

    def test_disabled_after_a_run_of_failures_with_a_notice(
        self, runtime: Runtime, factories: Factories, receiver: Receiver, clock: FixedClock
    ) -> None:
        settings = runtime.settings.model_copy(
            update={"webhook_max_failures": 3, "webhook_notify_emails": ("ops@example.com",)}
        )
        runtime.settings = settings
        account = factories.account("acme-corp")
        subscribe(runtime, receiver)
        receiver.status = 503
        add(runtime, account, factories, 1)

        for _ in range(3):
            deliver(runtime)
            clock.advance(timedelta(hours=2))

        with runtime.uow(read_only=True) as uow:
            endpoint = uow.session.scalars(select(WebhookEndpoint)).one()
            notice = uow.session.scalars(
                select(OutboxMessage).where(OutboxMessage.kind == "webhook_disabled")
            ).one()
            disabled = uow.session.scalars(
                select(AuditEvent).where(AuditEvent.action == AuditAction.WEBHOOK_DISABLE)
            ).one()
        assert not endpoint.enabled
        assert "3 failed attempts in a row" in (endpoint.disabled_reason or "")
        assert "HTTP 503" in (endpoint.disabled_reason or "")
        assert notice.recipients == ["ops@example.com"]
        assert str(endpoint.id) in notice.body
        assert disabled.actor == "system:webhooks"
        assert deliver(runtime).failed == 0  # disabled: not tried again

        receiver.status = 200
        service.redeliver(runtime.uow(), endpoint.id, actor=OPERATOR)
        assert deliver(runtime).delivered == 1
        assert [b["type"] for b in bodies(receiver)] == ["member.added"]

    def test_redelivery_from_a_seq_sends_again_with_the_same_ids(
        self, runtime: Runtime, factories: Factories, receiver: Receiver
    ) -> None:
        account = factories.account("acme-corp")
        subscribe(runtime, receiver)
        add(runtime, account, factories, 1)
        add(runtime, account, factories, 2)
        deliver(runtime)
        first = [r.headers["webhook-id"] for r in receiver.received]
        seq = bodies(receiver)[0]["data"]["seq"]
        with runtime.uow(read_only=True) as uow:
            endpoint_id = uow.session.scalars(select(WebhookEndpoint.id)).one()

        service.redeliver(runtime.uow(), endpoint_id, from_seq=seq, actor=OPERATOR)
        deliver(runtime)

        assert [r.headers["webhook-id"] for r in receiver.received] == first + first

    def test_secret_rotation_signs_with_both_during_the_overlap_then_only_the_new(
        self, runtime: Runtime, factories: Factories, receiver: Receiver, clock: FixedClock
    ) -> None:
        account = factories.account("acme-corp")
        old = subscribe(runtime, receiver)
        with runtime.uow(read_only=True) as uow:
            endpoint_id = uow.session.scalars(select(WebhookEndpoint.id)).one()
        new = service.rotate_secret(runtime.uow(), endpoint_id, actor=OPERATOR).secret
        add(runtime, account, factories, 1)
        deliver(runtime)
        during = receiver.received[-1]
        Webhook(old).verify(during.body, during.headers)
        Webhook(new).verify(during.body, during.headers)
        assert len(during.headers["webhook-signature"].split(" ")) == 2

        clock.advance(runtime.settings.webhook_secret_overlap + timedelta(seconds=1))
        add(runtime, account, factories, 2)
        deliver(runtime)
        after = receiver.received[-1]
        assert signed_with(new, after)
        assert not signed_with(old, after)

    def test_an_audit_endpoint_streams_every_event_with_its_chain_hash(
        self, runtime: Runtime, factories: Factories, receiver: Receiver
    ) -> None:
        service.add_endpoint(
            runtime.uow(),
            receiver.url,
            payload_format=PayloadFormat.AUDIT,
            start_after=0,
            actor=OPERATOR,
        )
        account = factories.account("acme-corp")
        add(runtime, account, factories, 1)

        deliver(runtime)

        lines = [(f"delivery {i}", json.dumps(b["data"])) for i, b in enumerate(bodies(receiver))]
        report = verify_received(lines, keyring=chain_keyring(runtime.settings))
        with runtime.uow(read_only=True) as uow:
            head = max(uow.session.scalars(select(AuditEvent.seq)))
        assert report.intact, report.problem
        assert report.hashes_recomputed
        assert (report.first_seq, report.last_seq, report.checked) == (1, head, head)
        assert {b["type"] for b in bodies(receiver)} == {"audit.event"}


class TestSeveralWorkers:
    def test_two_workers_at_once_deliver_each_event_once_in_order(
        self, runtime: Runtime, factories: Factories, receiver: Receiver
    ) -> None:
        runtime.settings = runtime.settings.model_copy(update={"webhook_batch_size": 3})
        account = factories.account("acme-corp")
        subscribe(runtime, receiver)
        for n in range(10):
            add(runtime, account, factories, n)
        start = threading.Barrier(2)

        def worker() -> None:
            start.wait()
            deliver_due(runtime.uow, runtime.webhook_transport)

        threads = [threading.Thread(target=worker) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        deliver(runtime)  # whatever a worker left when the other held the lease

        seqs = [b["data"]["seq"] for b in bodies(receiver)]
        assert len(seqs) == 10
        assert seqs == sorted(set(seqs))


class TestUnreadableSecret:
    def test_an_endpoint_whose_secret_cannot_be_read_is_disabled_not_stuck(
        self, runtime: Runtime, factories: Factories, receiver: Receiver, clock: FixedClock
    ) -> None:
        account = factories.account("acme-corp")
        subscribe(runtime, receiver)
        add(runtime, account, factories, 1)
        rekeyed = runtime.settings.model_copy(
            update={"secret_key": SecretStr("another-secret-key-" * 3)}
        )
        other = bootstrap(rekeyed, clock=clock, engine=runtime.engine)

        assert deliver_due(other.uow, other.webhook_transport).delivered == 0

        with runtime.uow(read_only=True) as uow:
            endpoint = uow.session.scalars(select(WebhookEndpoint)).one()
        assert not endpoint.enabled
        assert "KEYHOLDER_SECRET_KEY changed" in (endpoint.disabled_reason or "")
        assert receiver.received == []


class TestCheckpoints:
    def test_a_checkpoint_follows_the_events_it_anchors_and_names_their_head(
        self,
        runtime: Runtime,
        factories: Factories,
        receiver: Receiver,
        derive_runtime: Any,
        tmp_path: Any,
    ) -> None:
        signing = derive_runtime(audit_checkpoint_file=tmp_path / "checkpoints.jsonl")
        account = factories.account("acme-corp")
        secret = subscribe(signing, receiver, ["member.added", "audit.checkpoint"])
        email = add(signing, account, factories, 1)  # each commit anchors the head after it

        deliver(signing)  # the event first: its checkpoint waits until it is delivered
        deliver(signing)

        messages = [Webhook(secret).verify(r.body, r.headers) for r in receiver.received]
        types = [m["type"] for m in messages]
        assert types[0] == "member.added"
        assert set(types[1:]) == {"audit.checkpoint"}
        anchored = [m["data"]["seq"] for m in messages[1:]]
        assert anchored == sorted(anchored)
        added = messages[0]["data"]
        assert added["ids"]["member"] == email
        assert messages[-1]["data"] == {"seq": added["seq"], "head_hash": added["hash"]}
        ids = [r.headers["webhook-id"] for r in receiver.received]
        assert len(set(ids)) == len(ids)  # a checkpoint's id is not its event's

        deliver(signing)
        assert len(receiver.received) == len(messages)  # each checkpoint once
