"""The relay: every committed email reaches the SMTP server, once, despite outages.

Time is the fixed test clock: backoff and leases pass by ``clock.advance``.
"""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest

from keyholder.bootstrap import Runtime, bootstrap
from keyholder.clock import FixedClock
from keyholder.config import Settings
from keyholder.mail.models import OutboxMessage, OutboxStatus
from keyholder.mail.outbox import enqueue_email, list_outbox, send_templated_email
from keyholder.mail.relay import LEASE, Relay, backoff
from keyholder.mail.transports import SMTPTransport
from tests.outbox import Outbox
from tests.smtp_server import LoopbackSMTPServer

SECOND = timedelta(seconds=1)


def assert_delivered_exactly_once(smtp_server: LoopbackSMTPServer, message_ids: list[str]) -> None:
    received = Counter(smtp_server.message_ids())
    assert sorted(received) == sorted(message_ids), "lost or unexpected messages"
    doubled = {mid: n for mid, n in received.items() if n > 1}
    assert doubled == {}, "delivered more than once"


class TestBackoff:
    @pytest.mark.parametrize(
        ("attempts", "delay"),
        [
            (1, timedelta(seconds=30)),
            (2, timedelta(minutes=1)),
            (3, timedelta(minutes=2)),
            (4, timedelta(minutes=4)),
            (5, timedelta(minutes=8)),
            (6, timedelta(minutes=16)),
            (7, timedelta(minutes=32)),
            (8, timedelta(hours=1)),  # 64 min, capped
            (12, timedelta(hours=1)),
            (50, timedelta(hours=1)),  # a generous relay_max_attempts must not overflow
            (10_000, timedelta(hours=1)),
        ],
    )
    def test_schedule(self, attempts: int, delay: timedelta) -> None:
        assert backoff(attempts) == delay

    def test_never_shrinks(self) -> None:
        delays = [backoff(n) for n in range(1, 100)]
        assert delays == sorted(delays)


class TestOutage:
    def test_messages_wait_out_an_outage_then_arrive_exactly_once(
        self,
        relay: Relay,
        smtp_server: LoopbackSMTPServer,
        outbox: Outbox,
        clock: FixedClock,
    ) -> None:
        port = smtp_server.port
        smtp_server.stop()
        queued = outbox.enqueue(5)

        # Down: each pass fails, records why, and waits longer before the next.
        for attempt, wait in [
            (1, timedelta(seconds=30)),
            (2, timedelta(minutes=1)),
            (3, timedelta(minutes=2)),
        ]:
            result = relay.run_until_idle()
            assert (result.sent, result.retrying, result.failed) == (0, 5, 0)
            for row in outbox.rows():
                assert row.status == OutboxStatus.PENDING
                assert row.attempts == attempt
                assert row.next_attempt_at == clock.now() + wait
                assert row.claimed_until is None
                assert row.last_error is not None
                assert row.last_error.startswith("ConnectionRefusedError")
            assert relay.run_until_idle().claimed == 0  # not due again yet
            clock.advance(wait)

        # Back on the same port, but the next try is not due yet.
        smtp_server.start()
        assert smtp_server.port == port
        clock.advance(-SECOND)
        assert relay.run_until_idle().claimed == 0
        assert smtp_server.messages == []

        clock.advance(SECOND)
        result = relay.run_until_idle()

        assert (result.sent, result.retrying, result.failed) == (5, 0, 0)
        assert_delivered_exactly_once(smtp_server, queued)
        for row in outbox.rows():
            assert (row.status, row.attempts, row.last_error) == (OutboxStatus.SENT, 4, None)
            assert row.sent_at == clock.now()
        clock.advance(timedelta(days=1))
        assert relay.run_until_idle().claimed == 0
        assert_delivered_exactly_once(smtp_server, queued)

    def test_outage_in_the_middle_of_a_backlog_loses_nothing(
        self,
        relay: Relay,
        smtp_server: LoopbackSMTPServer,
        outbox: Outbox,
        clock: FixedClock,
    ) -> None:
        first = outbox.enqueue(3)
        relay.run_until_idle()
        with smtp_server.down():
            second = outbox.enqueue(3)
            assert relay.run_until_idle().retrying == 3
        third = outbox.enqueue(3)

        relay.run_until_idle()  # the third batch goes at once; the second waits its backoff
        clock.advance(backoff(1))
        relay.run_until_idle()

        assert_delivered_exactly_once(smtp_server, first + second + third)


class TestLease:
    def test_messages_claimed_by_a_relay_that_died_are_sent_after_the_lease(
        self,
        mail_runtime: Runtime,
        smtp_server: LoopbackSMTPServer,
        outbox: Outbox,
        clock: FixedClock,
    ) -> None:
        queued = outbox.enqueue(3)
        dead, survivor = mail_runtime.relay(), mail_runtime.relay()
        assert dead is not None
        assert survivor is not None
        claimed = dead._claim()  # it claims, then "crashes" before sending
        assert [row.message_id for row in claimed] == queued

        assert survivor.run_until_idle().claimed == 0  # leased to the dead relay
        clock.advance(LEASE - SECOND)
        assert survivor.run_until_idle().claimed == 0
        assert smtp_server.messages == []

        clock.advance(2 * SECOND)
        result = survivor.run_until_idle()

        assert result.sent == 3
        assert_delivered_exactly_once(smtp_server, queued)
        assert [(r.status, r.attempts) for r in outbox.rows()] == [(OutboxStatus.SENT, 2)] * 3

    def test_relay_that_died_after_sending_causes_a_duplicate_with_the_same_message_id(
        self,
        mail_runtime: Runtime,
        smtp_server: LoopbackSMTPServer,
        outbox: Outbox,
        clock: FixedClock,
    ) -> None:
        # At-least-once: a lost outcome means a resend, never a lost email, and
        # the stable Message-ID lets the receiver see the duplicate for what it is.
        [queued] = outbox.enqueue(1)
        dead, survivor = mail_runtime.relay(), mail_runtime.relay()
        assert dead is not None
        assert survivor is not None
        dead._send(dead._claim())  # sent, then died before recording

        clock.advance(LEASE + SECOND)
        survivor.run_until_idle()

        assert smtp_server.message_ids() == [queued, queued]
        [row] = outbox.rows()
        assert row.status == OutboxStatus.SENT


class TestRefusals:
    @pytest.mark.parametrize(
        "refusal",
        [("recipient", "550 5.1.1 No such user"), ("data", "554 5.7.1 Message rejected")],
        ids=["at-rcpt", "at-data"],
    )
    def test_permanent_refusal_fails_after_one_attempt(
        self,
        relay: Relay,
        smtp_server: LoopbackSMTPServer,
        outbox: Outbox,
        clock: FixedClock,
        refusal: tuple[str, str],
    ) -> None:
        phase, reply = refusal
        if phase == "recipient":
            smtp_server.refuse_recipient("gone@customer.example", reply)
        else:
            smtp_server.refuse_data(reply, times=1)
        [refused] = outbox.enqueue(1, to=["gone@customer.example"])
        fine = outbox.enqueue(2)

        result = relay.run_until_idle()

        assert (result.sent, result.retrying, result.failed) == (2, 0, 1)
        [failed] = [row for row in outbox.rows() if row.message_id == refused]
        assert (failed.status, failed.attempts) == (OutboxStatus.FAILED, 1)
        assert failed.last_error is not None
        assert reply[:3] in failed.last_error
        assert_delivered_exactly_once(smtp_server, fine)
        # Not retried, however long we wait, even once the server would take it.
        smtp_server.accept_all()
        clock.advance(timedelta(days=2))
        assert relay.run_until_idle().claimed == 0
        assert refused not in smtp_server.message_ids()

    @pytest.mark.parametrize(
        "refusal",
        [("recipient", "451 4.7.1 Greylisted"), ("data", "452 4.3.1 Insufficient storage")],
        ids=["at-rcpt", "at-data"],
    )
    def test_temporary_refusal_is_retried_after_backoff(
        self,
        relay: Relay,
        smtp_server: LoopbackSMTPServer,
        outbox: Outbox,
        clock: FixedClock,
        refusal: tuple[str, str],
    ) -> None:
        phase, reply = refusal
        if phase == "recipient":
            smtp_server.refuse_recipient("busy@customer.example", reply, times=1)
        else:
            smtp_server.refuse_data(reply, times=1)
        [queued] = outbox.enqueue(1, to=["busy@customer.example"])

        result = relay.run_until_idle()

        assert (result.sent, result.retrying, result.failed) == (0, 1, 0)
        [row] = outbox.rows()
        assert (row.status, row.attempts) == (OutboxStatus.PENDING, 1)
        assert row.next_attempt_at == clock.now() + backoff(1)
        assert row.last_error is not None
        assert reply[:3] in row.last_error
        clock.advance(backoff(1))
        assert relay.run_until_idle().sent == 1
        assert_delivered_exactly_once(smtp_server, [queued])

    def test_temporary_refusal_of_one_message_does_not_hold_back_the_others(
        self,
        relay: Relay,
        smtp_server: LoopbackSMTPServer,
        outbox: Outbox,
        clock: FixedClock,
    ) -> None:
        # A mailbox that answers 4xx for hours must not drag the rest of its batch
        # through the same backoff, or to "failed" with it after max_attempts.
        smtp_server.refuse_recipient("full@customer.example", "452 4.2.2 Mailbox full")
        [stuck] = outbox.enqueue(1, to=["full@customer.example"])
        others = outbox.enqueue(3)

        result = relay.run_until_idle()

        assert (result.sent, result.retrying, result.failed) == (3, 1, 0)
        assert_delivered_exactly_once(smtp_server, others)
        rows = {row.message_id: row for row in outbox.rows()}
        assert rows[stuck].status == OutboxStatus.PENDING
        assert all(rows[m].attempts == 1 for m in others)

    def test_message_that_cannot_be_rendered_fails_without_holding_back_the_others(
        self,
        runtime: Runtime,
        relay: Relay,
        smtp_server: LoopbackSMTPServer,
        outbox: Outbox,
    ) -> None:
        # A row the email package refuses (here written by hand, as an older
        # release without today's checks could have) can never be sent.
        now = runtime.clock.now()
        with runtime.uow() as uow:
            uow.session.add(
                OutboxMessage(
                    kind="test",
                    message_id="<broken@keyholder.test>",
                    mail_from="a@keyholder.test",
                    recipients=["a@example.com"],
                    subject="Broken\u2028Bcc: x@y.example",
                    body="Hi\n",
                    status=OutboxStatus.PENDING,
                    attempts=0,
                    created_at=now,
                    next_attempt_at=now,
                )
            )
            uow.commit()
        others = outbox.enqueue(2)

        result = relay.run_until_idle()

        assert (result.sent, result.retrying, result.failed) == (2, 0, 1)
        assert_delivered_exactly_once(smtp_server, others)
        [broken] = [r for r in outbox.rows() if r.message_id == "<broken@keyholder.test>"]
        assert broken.status == OutboxStatus.FAILED


class TestMaxAttempts:
    def test_message_fails_after_max_attempts_and_is_kept_for_an_operator(
        self,
        runtime: Runtime,
        settings: Settings,
        clock: FixedClock,
        smtp_server: LoopbackSMTPServer,
        outbox: Outbox,
    ) -> None:
        limited = bootstrap(
            settings.model_copy(update={"relay_max_attempts": 3}),
            clock=clock,
            engine=runtime.engine,
            mail_transport=SMTPTransport(smtp_server.url, timeout=5),
        )
        relay = limited.relay()
        assert relay is not None
        smtp_server.stop()
        [queued] = outbox.enqueue(1)

        for attempt in (1, 2):
            assert relay.run_until_idle().retrying == 1
            [row] = outbox.rows()
            assert (row.status, row.attempts) == (OutboxStatus.PENDING, attempt)
            clock.advance(backoff(attempt))
        result = relay.run_until_idle()

        assert (result.sent, result.retrying, result.failed) == (0, 0, 1)
        [failed] = list_outbox(runtime.uow(read_only=True), status=OutboxStatus.FAILED)
        assert (failed.message_id, failed.attempts) == (queued, 3)
        assert failed.last_error is not None
        assert failed.last_error.startswith("ConnectionRefusedError")
        # The server comes back: a failed message stays failed until an operator acts.
        smtp_server.start()
        clock.advance(timedelta(days=1))
        assert relay.run_until_idle().claimed == 0
        assert smtp_server.messages == []


class TestConcurrentRelays:
    RELAYS = 4
    MESSAGES = 200

    def test_concurrent_relays_deliver_every_message_exactly_once(
        self,
        mail_runtime: Runtime,
        outbox: Outbox,
        db_backend: str,
    ) -> None:
        # A slow server keeps each batch in flight long enough for claims to overlap.
        with LoopbackSMTPServer(delay=0.002) as server:
            transport = SMTPTransport(server.url, timeout=10)
            queued = outbox.enqueue(self.MESSAGES)
            relays = [Relay(mail_runtime.uow, transport, batch_size=10) for _ in range(self.RELAYS)]
            start = threading.Barrier(self.RELAYS)

            def drain(relay: Relay) -> int:
                start.wait()
                # A relay stops when it finds nothing to claim; whatever it could
                # not claim was held by another relay, which keeps going.
                return relay.run_until_idle().sent

            with ThreadPoolExecutor(self.RELAYS) as pool:
                sent_by_relay = list(pool.map(drain, relays))

            assert sum(sent_by_relay) == self.MESSAGES
            assert sum(1 for n in sent_by_relay if n) >= 2, f"no overlap on {db_backend}"
            assert_delivered_exactly_once(server, queued)
            rows = outbox.rows()
            assert {(r.status, r.attempts) for r in rows} == {(OutboxStatus.SENT, 1)}


class TestSecretBodies:
    def test_s6_a_secret_link_is_blanked_once_delivered(self, mail_runtime, relay, smtp_server):
        with mail_runtime.uow() as uow:
            enqueue_email(
                uow,
                kind="password_reset",
                to=["a@example.com"],
                subject="Reset",
                body="link: https://keyholder.test/reset/khr_secret",
                holds_secret=True,
            )
            enqueue_email(
                uow, kind="notice", to=["a@example.com"], subject="Notice", body="nothing secret"
            )
            uow.commit()
        assert relay.run_until_idle().sent == 2
        assert "khr_secret" in smtp_server.messages_to("a@example.com")[0].body
        bodies = {m.subject: m.body for m in list_outbox(mail_runtime.uow())}
        assert "khr_secret" not in bodies["Reset"]
        assert bodies["Notice"] == "nothing secret"


class TestTemplatedEmails:
    def test_s37_text_and_escaped_html_arrive_as_alternatives(
        self, mail_runtime, relay, smtp_server
    ):
        with mail_runtime.uow() as uow:
            send_templated_email(
                uow,
                "invitation",
                to=["new@example.com"],
                holds_secret=True,
                inviter="<script>alert(1)</script>@evil.example",
                account_display_name="Acme <b>Corp</b>",
                account_name="acme-corp",
                permissions="view, manage",
                link="https://keyholder.test/invitations/khi_secret",
                expires_at="2026-01-22 12:00",
            )
            uow.commit()
        assert relay.run_until_idle().sent == 1
        [received] = smtp_server.messages_to("new@example.com")
        assert received.message.get_content_type() == "multipart/alternative"
        html = received.message.get_body(preferencelist=("html",)).get_content()
        assert "<script>" not in html
        assert "&lt;script&gt;" in html
        assert "khi_secret" in received.body
        [row] = list_outbox(mail_runtime.uow())
        assert row.body_html is None  # S6: the delivered link is not kept
        assert "khi_secret" not in row.body
