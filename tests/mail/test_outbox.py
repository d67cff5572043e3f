"""The outbox: an email exists only if the change that caused it committed."""

from __future__ import annotations

import re

import pytest

from keyholder.accounts import members
from keyholder.accounts.invitations import accept_invitation
from keyholder.bootstrap import Runtime
from keyholder.errors import InvalidInput, PermissionDenied, UnknownPermission
from keyholder.mail.models import OutboxStatus
from keyholder.mail.outbox import enqueue_email, list_outbox
from keyholder.mail.relay import Relay
from tests.factories import Factories
from tests.outbox import Outbox
from tests.smtp_server import LoopbackSMTPServer

INVITATION_LINK = re.compile(r"https://keyholder\.test/invitations/(khi_[A-Za-z0-9_\-]+)")


class TestEnqueueEmail:
    def test_committed_email_is_delivered_once_with_its_headers_and_body(
        self, runtime: Runtime, relay: Relay, smtp_server: LoopbackSMTPServer, outbox: Outbox
    ) -> None:
        body = "Grüße from Keyholder.\n.\nA line that is only a dot must survive SMTP.\n"
        with runtime.uow() as uow:
            row = enqueue_email(
                uow,
                kind="test",
                to=["Customer@Example.com"],
                subject="Your account — ready",
                body=body,
            )
            uow.commit()

        result = relay.run_until_idle()

        assert (result.sent, result.retrying, result.failed) == (1, 0, 0)
        [received] = smtp_server.messages
        assert received.message_id == row.message_id
        assert re.fullmatch(r"<[^<>@\s]+@keyholder\.test>", row.message_id)
        assert received.message["From"] == "Keyholder <support@keyholder.test>"
        assert received.message["To"] == "Customer@Example.com"
        assert received.rcpt_tos == ("Customer@Example.com",)
        assert received.subject == "Your account — ready"
        assert received.body == body
        [sent] = outbox.rows()
        assert sent.status == OutboxStatus.SENT
        assert sent.sent_at == runtime.clock.now()
        assert relay.run_until_idle().claimed == 0
        assert len(smtp_server.messages) == 1

    def test_email_of_a_unit_of_work_that_raises_is_never_queued_or_sent(
        self, runtime: Runtime, relay: Relay, smtp_server: LoopbackSMTPServer, outbox: Outbox
    ) -> None:
        def failing_change() -> None:
            with runtime.uow() as uow:
                enqueue_email(uow, kind="test", to=["a@example.com"], subject="Hi", body="Hello\n")
                uow.flush()  # the row reached the database inside the transaction...
                raise RuntimeError("the change failed")

        with pytest.raises(RuntimeError, match="the change failed"):
            failing_change()

        assert outbox.rows() == []  # ...and left with its rollback
        assert relay.run_until_idle().claimed == 0
        assert smtp_server.messages == []

    def test_email_of_a_unit_of_work_that_never_commits_is_never_queued_or_sent(
        self, runtime: Runtime, relay: Relay, smtp_server: LoopbackSMTPServer, outbox: Outbox
    ) -> None:
        with runtime.uow() as uow:
            enqueue_email(uow, kind="test", to=["a@example.com"], subject="Hi", body="Hello\n")
            uow.flush()

        assert outbox.rows() == []
        assert relay.run_until_idle().claimed == 0
        assert smtp_server.messages == []

    def test_commit_wakes_the_in_process_relay_and_rollback_does_not(
        self, runtime: Runtime
    ) -> None:
        with runtime.uow() as uow:
            enqueue_email(uow, kind="test", to=["a@example.com"], subject="Hi", body="Hello\n")
        assert not runtime.mail_queued.is_set()

        with runtime.uow() as uow:
            enqueue_email(uow, kind="test", to=["a@example.com"], subject="Hi", body="Hello\n")
            assert not runtime.mail_queued.is_set()
            uow.commit()
        assert runtime.mail_queued.is_set()

    def test_each_email_gets_its_own_message_id(self, outbox: Outbox) -> None:
        ids = outbox.enqueue(20)
        assert len(set(ids)) == 20


class TestExtraHeaders:
    def test_threading_headers_reach_the_server_and_people_are_not_auto_submitted(
        self, runtime: Runtime, relay: Relay, smtp_server: LoopbackSMTPServer
    ) -> None:
        with runtime.uow() as uow:
            enqueue_email(
                uow,
                kind="test",
                to=["a@example.com"],
                subject="Re: hello",
                body="Hi\n",
                mail_from="Support <support@keyholder.test>",
                headers={"In-Reply-To": "<1@x.example>", "Reply-To": "support+t1@keyholder.test"},
                auto_submitted=False,
            )
            enqueue_email(uow, kind="test", to=["a@example.com"], subject="Notice", body="Hi\n")
            uow.commit()
        relay.run_until_idle()
        person, notice = smtp_server.messages
        assert person.message["In-Reply-To"] == "<1@x.example>"
        assert person.message["Reply-To"] == "support+t1@keyholder.test"
        assert person.message["From"] == "Support <support@keyholder.test>"
        assert person.message["Auto-Submitted"] is None
        assert notice.message["Auto-Submitted"] == "auto-generated"

    def test_line_break_in_a_header_value_is_refused(
        self, runtime: Runtime, outbox: Outbox
    ) -> None:
        with runtime.uow() as uow, pytest.raises(InvalidInput, match="line breaks"):
            enqueue_email(
                uow,
                kind="test",
                to=["a@example.com"],
                subject="s",
                body="b",
                headers={"References": "<1@x>\r\nBcc: evil@attacker.example"},
            )
        assert outbox.rows() == []


class TestHeaderInjection:
    """SECURITY.md S37: no CR/LF (or other line break) smuggled into a header."""

    @pytest.mark.parametrize(
        "subject",
        [
            "Hello\r\nBcc: evil@attacker.example",
            "Hello\nBcc: evil@attacker.example",
            "Hello\rBcc: evil@attacker.example",
            "Hello\u2028Bcc: evil@attacker.example",
            "Hello\x85Bcc: evil@attacker.example",
            "Hello\x0bBcc: evil@attacker.example",
        ],
    )
    def test_line_break_in_subject_is_refused_and_nothing_is_queued(
        self,
        runtime: Runtime,
        relay: Relay,
        smtp_server: LoopbackSMTPServer,
        outbox: Outbox,
        subject: str,
    ) -> None:
        with runtime.uow() as uow:
            with pytest.raises(InvalidInput, match="line breaks"):
                enqueue_email(uow, kind="test", to=["a@example.com"], subject=subject, body="Hi\n")
            uow.commit()  # even a caller that carries on commits nothing

        assert outbox.rows() == []
        relay.run_until_idle()
        assert smtp_server.messages == []

    @pytest.mark.parametrize(
        "recipient",
        [
            "victim@example.com\r\nBcc: evil@attacker.example",
            "victim@example.com\nBcc: evil@attacker.example",
            "victim@example.com\u2029Bcc: evil@attacker.example",
        ],
    )
    def test_line_break_in_recipient_is_refused_and_nothing_is_queued(
        self, runtime: Runtime, outbox: Outbox, recipient: str
    ) -> None:
        with runtime.uow() as uow:
            with pytest.raises(InvalidInput, match="line breaks"):
                enqueue_email(
                    uow, kind="test", to=["ok@example.com", recipient], subject="Hi", body="Hi\n"
                )
            uow.commit()

        assert outbox.rows() == []

    def test_line_breaks_in_the_body_are_fine(self, runtime: Runtime, outbox: Outbox) -> None:
        with runtime.uow() as uow:
            enqueue_email(
                uow, kind="test", to=["a@example.com"], subject="Hi", body="One\r\nTwo\nBcc: x\n"
            )
            uow.commit()
        assert len(outbox.rows()) == 1


class TestServiceEmails:
    """A real use case writes its email in its own transaction, or not at all."""

    def test_inviting_an_unknown_email_queues_a_working_invitation_link(
        self,
        runtime: Runtime,
        factories: Factories,
        relay: Relay,
        smtp_server: LoopbackSMTPServer,
        outbox: Outbox,
    ) -> None:
        account = factories.account("acme")
        admin = factories.admin_of(account, "admin@acme.example")
        before = len(outbox.rows())

        added = members.add_member(
            runtime.uow(), account.name, "New@X.example", ["view"], actor=factories.actor(admin)
        )

        assert added.invitation is not None
        [row] = outbox.rows()[before:]
        assert row.kind == "invitation"
        assert row.recipients == ["new@x.example"]
        assert row.status == OutboxStatus.PENDING
        relay.run_until_idle()
        [received] = smtp_server.messages_to("new@x.example")
        assert received.message_id == row.message_id
        match = INVITATION_LINK.search(received.body)
        assert match is not None, received.body
        # The link in the email is the one that works.
        membership = accept_invitation(
            runtime.uow(),
            match.group(1),
            actor=None,
            password="a long enough passphrase",
            hasher=runtime.password_hasher,
        )
        assert membership.user.email == "new@x.example"

    def test_adding_an_existing_user_sends_no_invitation(
        self, runtime: Runtime, factories: Factories, outbox: Outbox
    ) -> None:
        account = factories.account("acme")
        admin = factories.admin_of(account, "admin@acme.example")
        factories.user("known@x.example")
        before = outbox.message_ids()

        added = members.add_member(
            runtime.uow(), account.name, "known@x.example", ["view"], actor=factories.actor(admin)
        )

        assert added.membership is not None
        assert outbox.message_ids() == before

    def test_unknown_permission_queues_no_email(
        self, runtime: Runtime, factories: Factories, outbox: Outbox
    ) -> None:
        account = factories.account("acme")
        admin = factories.admin_of(account, "admin@acme.example")
        before = outbox.message_ids()

        with pytest.raises(UnknownPermission):
            members.add_member(
                runtime.uow(),
                account.name,
                "new@x.example",
                ["view", "fly"],
                actor=factories.actor(admin),
            )

        assert outbox.message_ids() == before

    def test_member_without_manage_queues_no_email(
        self, runtime: Runtime, factories: Factories, outbox: Outbox
    ) -> None:
        account = factories.account("acme")
        factories.admin_of(account, "admin@acme.example")
        viewer = factories.user("viewer@acme.example")
        factories.member(account, viewer, "view")
        before = outbox.message_ids()

        with pytest.raises(PermissionDenied):
            members.add_member(
                runtime.uow(),
                account.name,
                "new@x.example",
                ["view"],
                actor=factories.actor(viewer),
            )

        assert outbox.message_ids() == before


class TestRecipients:
    @pytest.mark.parametrize("to", [[], ["a@example.com, b@example.com"], ["not-an-address"]])
    def test_bad_recipient_lists_are_refused_and_nothing_is_queued(self, runtime, to):
        with runtime.uow() as uow, pytest.raises(InvalidInput):
            enqueue_email(uow, kind="test", to=to, subject="Hello", body="Hi")
        assert list_outbox(runtime.uow()) == []
