"""Email in (desk.inbound): threading, duplicates, loop protection, sender checks, content."""

from __future__ import annotations

from datetime import timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from sqlalchemy import select

from keyholder.audit.models import AuditEvent
from keyholder.bootstrap import Runtime
from keyholder.desk import service
from keyholder.desk.blobs import load_blob
from keyholder.desk.inbound import Outcome, Received, ticket_subject
from keyholder.desk.models import (
    MailReference,
    MessageChannel,
    MessageVisibility,
    Ticket,
    TicketMessage,
    TicketStatus,
)
from keyholder.errors import InvalidInput, PayloadTooLarge
from keyholder.identity.actor import Actor
from keyholder.identity.models import StaffRole, User
from tests.desk.emails import CUSTOMER, DESK, build_email, plus_address, png_bytes, receive
from tests.factories import Factories
from tests.outbox import Outbox
from tests.runtimes import runtime_with

OPERATOR = Actor.operator("tests")


def ticket_of(runtime: Runtime, number: int) -> Ticket:
    with runtime.uow(read_only=True) as uow:
        ticket = uow.session.get(Ticket, number)
        assert ticket is not None
        return ticket


def messages_of(runtime: Runtime, number: int) -> list[TicketMessage]:
    return list(service.get_ticket(runtime.uow(), number, actor=OPERATOR).messages)


def ticket_count(runtime: Runtime) -> int:
    with runtime.uow(read_only=True) as uow:
        return len(uow.session.scalars(select(Ticket.id)).all())


def set_status(runtime: Runtime, number: int, status: TicketStatus) -> None:
    service.update_ticket(runtime.uow(), number, actor=OPERATOR, status=status)


def customer_user(
    runtime: Runtime, factories: Factories, email: str = CUSTOMER, *, verified: bool = True
) -> User:
    user = factories.user(email, name="Carol Customer")
    with runtime.uow() as uow:
        stored = uow.session.get(User, user.id)
        assert stored is not None
        stored.email_verified_at = uow.clock.now() if verified else None
        uow.commit()
        return stored


@pytest.fixture
def opened(runtime: Runtime) -> Received:
    """A ticket the customer opened by email."""
    received = receive(runtime, build_email())
    assert received.outcome is Outcome.CREATED
    return received


class TestNewTicket:
    def test_an_email_opens_a_ticket_and_is_acknowledged(
        self, runtime: Runtime, outbox: Outbox
    ) -> None:
        raw = build_email(subject="Re: Fwd: AW: The export [#999] button")

        received = receive(runtime, raw)

        assert received.outcome is Outcome.CREATED
        assert received.describe() == f"ticket #{received.ticket}: created"
        ticket = ticket_of(runtime, received.ticket)
        assert ticket.subject == "The export button"
        assert ticket.requester_email == CUSTOMER
        assert ticket.requester_name == "Carol Customer"
        assert ticket.requester_user_id is None
        assert ticket.status is TicketStatus.NEW
        [message] = messages_of(runtime, received.ticket)
        assert message.visibility is MessageVisibility.PUBLIC
        assert message.channel is MessageChannel.EMAIL
        assert message.body == "Hello,\n\nthe export button does nothing.\n\nCarol\n"
        assert message.message_id == received.message_id
        assert not message.needs_review
        assert not message.automated
        with runtime.uow(read_only=True) as uow:
            assert message.raw_sha256 is not None
            assert load_blob(uow, message.raw_sha256) == raw  # the whole email is kept
        [ack] = outbox.rows()
        assert ack.kind == "desk_ticket_received"
        assert ack.recipients == [CUSTOMER]
        assert ack.headers is not None
        assert ack.headers["In-Reply-To"] == received.message_id
        assert ack.headers["Auto-Submitted"] == "auto-generated"

    def test_the_audit_names_the_sender_without_any_powers(
        self, runtime: Runtime, opened: Received
    ) -> None:
        with runtime.uow(read_only=True) as uow:
            event = uow.session.scalars(
                select(AuditEvent).where(AuditEvent.action == "ticket.open")
            ).one()
        assert event.actor == f"email:{CUSTOMER}"

    def test_a_verified_user_becomes_the_requester(
        self, runtime: Runtime, factories: Factories
    ) -> None:
        user = customer_user(runtime, factories)

        received = receive(runtime, build_email(sender=f"Carol <{CUSTOMER.upper()}>"))

        assert ticket_of(runtime, received.ticket).requester_user_id == user.id

    def test_an_unverified_user_does_not(self, runtime: Runtime, factories: Factories) -> None:
        # Someone may have signed up with Carol's address without being able to read her mail.
        customer_user(runtime, factories, verified=False)

        received = receive(runtime, build_email())

        assert ticket_of(runtime, received.ticket).requester_user_id is None

    @pytest.mark.parametrize(
        ("subject", "expected"),
        [
            ("Re: RE: Fwd: FW: AW: SV: WG: Help", "Help"),
            ("[#12] Re: [#13] Help [#14]", "Help"),
            ("Re[2]: Help", "Help"),
            ("Report on Q3", "Report on Q3"),
            ("Re:", "(no subject)"),
            ("", "(no subject)"),
        ],
    )
    def test_subject_prefixes_and_tags_go(self, subject: str, expected: str) -> None:
        assert ticket_subject(subject) == expected


class TestThreading:
    def test_in_reply_to_alone(self, runtime: Runtime, opened: Received, outbox: Outbox) -> None:
        [ack] = outbox.rows()
        raw = build_email(subject="something else", in_reply_to=ack.message_id)

        received = receive(runtime, raw)

        assert (received.outcome, received.ticket) == (Outcome.ADDED, opened.ticket)
        assert len(messages_of(runtime, opened.ticket)) == 2
        assert len(outbox.rows()) == 1  # a reply gets no acknowledgement

    def test_references_alone(self, runtime: Runtime, opened: Received) -> None:
        raw = build_email(subject="x", references=["<unknown@elsewhere>", opened.message_id])

        assert receive(runtime, raw).ticket == opened.ticket

    def test_subject_tag_alone(self, runtime: Runtime, opened: Received) -> None:
        raw = build_email(subject=f"Re: [#{opened.ticket}] still broken")

        assert receive(runtime, raw).ticket == opened.ticket

    @pytest.mark.parametrize("where", ["to", "cc", "delivered-to", "envelope"])
    def test_plus_address_alone(self, runtime: Runtime, opened: Received, where: str) -> None:
        address = plus_address(runtime, opened.ticket)
        headers = {"Cc": address} if where == "cc" else {}
        if where == "delivered-to":
            headers = {"Delivered-To": address}
        raw = build_email(to=address if where == "to" else DESK, headers=headers, subject="x")
        recipients = [address] if where == "envelope" else []

        received = receive(runtime, raw, envelope_recipients=recipients)

        assert (received.outcome, received.ticket) == (Outcome.ADDED, opened.ticket)

    def test_a_plus_address_with_a_bad_mac_opens_a_new_ticket(
        self, runtime: Runtime, opened: Received
    ) -> None:
        forged = f"support+t{opened.ticket}-0123456789abcdef@keyholder.localhost"

        received = receive(runtime, build_email(to=forged), envelope_recipients=[forged])

        assert received.outcome is Outcome.CREATED
        assert received.ticket != opened.ticket

    def test_a_tag_naming_no_ticket_opens_a_new_one(self, runtime: Runtime) -> None:
        received = receive(runtime, build_email(subject="Re: [#4711] Help"))

        assert received.outcome is Outcome.CREATED
        assert ticket_of(runtime, received.ticket).subject == "Help"

    def test_a_tag_or_plus_address_beyond_any_ticket_number_opens_a_new_one(
        self, runtime: Runtime
    ) -> None:
        huge = 999_999_999_999_999_999
        address = plus_address(runtime, huge)

        received = receive(runtime, build_email(subject=f"[#{huge}] x", to=address))

        assert received.outcome is Outcome.CREATED

    def test_in_reply_to_wins_over_the_subject_tag(
        self, runtime: Runtime, opened: Received
    ) -> None:
        other = receive(runtime, build_email(subject="another"))
        raw = build_email(subject=f"Re: [#{other.ticket}] x", in_reply_to=opened.message_id)

        assert receive(runtime, raw).ticket == opened.ticket

    def test_the_same_message_id_twice_is_one_message(
        self, runtime: Runtime, outbox: Outbox
    ) -> None:
        raw = build_email()
        first = receive(runtime, raw)

        again = receive(runtime, raw)

        assert again.outcome is Outcome.DUPLICATE
        assert again.ticket == first.ticket
        assert "ignored" in again.describe()
        assert ticket_count(runtime) == 1
        assert len(messages_of(runtime, first.ticket)) == 1
        assert len(outbox.rows()) == 1

    def test_a_gateway_that_rewrote_the_message_id_still_threads(
        self, runtime: Runtime, opened: Received, outbox: Outbox
    ) -> None:
        [ack] = outbox.rows()
        original = build_email(in_reply_to=ack.message_id, message_id="<orig@customer.example>")
        rewritten = original.replace(b"<orig@customer.example>", b"<gw-1@gateway.example>")
        receive(runtime, original)

        received = receive(runtime, rewritten)

        assert (received.outcome, received.ticket) == (Outcome.ADDED, opened.ticket)
        ids = [m.message_id for m in messages_of(runtime, opened.ticket)]
        assert ids[-2:] == ["<orig@customer.example>", "<gw-1@gateway.example>"]

    def test_every_message_id_is_remembered(self, runtime: Runtime, opened: Received) -> None:
        with runtime.uow(read_only=True) as uow:
            rows = uow.session.scalars(select(MailReference).order_by(MailReference.id)).all()
        assert next((r.message_id, r.outgoing) for r in rows) == (opened.message_id, False)
        assert [r.outgoing for r in rows] == [False, True]  # and our acknowledgement


LOOP_SIGNS = {
    "auto-replied": ({"Auto-Submitted": "auto-replied"}, None),
    "auto-generated": ({"Auto-Submitted": "auto-generated; owner-email=x@y.example"}, None),
    "bulk": ({"Precedence": "bulk"}, None),
    "junk": ({"Precedence": "junk"}, None),
    "list": ({"Precedence": "list"}, None),
    "suppress": ({"X-Auto-Response-Suppress": "All"}, None),
    "list-id": ({"List-Id": "Customers <customers.lists.example>"}, None),
    "empty return-path": ({"Return-Path": "<>"}, None),
    "empty envelope sender": ({}, ""),
    "mailer-daemon": ({"From": "Mail Delivery System <MAILER-DAEMON@mx.customer.example>"}, None),
}


def dsn(to: str, *, in_reply_to: str) -> bytes:
    """A delivery status notification (RFC 3464), as an MTA sends for a bounce."""
    return (
        "From: Mail Delivery System <mailer-daemon@mx.customer.example>\n"
        f"To: {to}\n"
        "Subject: Undelivered Mail Returned to Sender\n"
        "Message-ID: <bounce-1@mx.customer.example>\n"
        f"In-Reply-To: {in_reply_to}\n"
        "MIME-Version: 1.0\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\n'
        "\n--b\nContent-Type: text/plain\n\nYour message could not be delivered.\n"
        "--b\nContent-Type: message/delivery-status\n\n"
        f"Reporting-MTA: dns; mx.customer.example\n\nFinal-Recipient: rfc822; {CUSTOMER}\n"
        "Action: failed\nStatus: 5.1.1\n"
        "--b\nContent-Type: text/rfc822-headers\n\n"
        f"Message-ID: {in_reply_to}\n--b--\n"
    ).encode()


class TestLoopProtection:
    @pytest.fixture
    def solved(self, runtime: Runtime, opened: Received) -> int:
        set_status(runtime, opened.ticket, TicketStatus.SOLVED)
        return opened.ticket

    @pytest.mark.parametrize("sign", LOOP_SIGNS)
    def test_automated_mail_is_a_note_never_answered_never_reopening(
        self, runtime: Runtime, solved: int, outbox: Outbox, sign: str
    ) -> None:
        headers, envelope_sender = LOOP_SIGNS[sign]
        headers = dict(headers)
        sender = headers.pop("From", f"Carol <{CUSTOMER}>")
        raw = build_email(sender=sender, subject=f"Out of office: [#{solved}]", headers=headers)
        sent_before = len(outbox.rows())

        received = receive(runtime, raw, envelope_sender=envelope_sender)

        assert (received.outcome, received.ticket) == (Outcome.AUTOMATED, solved)
        assert received.reason
        assert ticket_of(runtime, solved).status is TicketStatus.SOLVED
        note = messages_of(runtime, solved)[-1]
        assert note.visibility is MessageVisibility.INTERNAL
        assert note.automated
        assert note.needs_review
        assert len(outbox.rows()) == sent_before

    def test_a_bounce_report_is_recorded_on_its_ticket(
        self, runtime: Runtime, solved: int, outbox: Outbox
    ) -> None:
        ack = outbox.rows()[0]
        sent_before = len(outbox.rows())

        received = receive(runtime, dsn(DESK, in_reply_to=ack.message_id), envelope_sender="")

        assert (received.outcome, received.ticket) == (Outcome.AUTOMATED, solved)
        assert "multipart/report" in (received.reason or "")
        note = messages_of(runtime, solved)[-1]
        assert note.body == "Your message could not be delivered."  # the newline is MIME's
        assert note.attachments == []
        assert ticket_of(runtime, solved).status is TicketStatus.SOLVED
        assert len(outbox.rows()) == sent_before

    def test_automated_mail_threading_nowhere_opens_a_silent_ticket(
        self, runtime: Runtime, outbox: Outbox
    ) -> None:
        raw = build_email(headers={"Auto-Submitted": "auto-replied"})

        received = receive(runtime, raw)

        assert received.outcome is Outcome.AUTOMATED
        assert ticket_of(runtime, received.ticket).status is TicketStatus.NEW
        [note] = messages_of(runtime, received.ticket)
        assert note.visibility is MessageVisibility.INTERNAL
        assert note.automated
        assert outbox.rows() == []

    def test_auto_submitted_no_is_a_person(self, runtime: Runtime, outbox: Outbox) -> None:
        received = receive(runtime, build_email(headers={"Auto-Submitted": "no"}))

        assert received.outcome is Outcome.CREATED
        assert len(outbox.rows()) == 1

    def test_mail_from_the_desk_itself_is_a_loop(self, runtime: Runtime, outbox: Outbox) -> None:
        received = receive(runtime, build_email(sender=f"Support <{DESK}>"))

        assert received.outcome is Outcome.AUTOMATED
        assert outbox.rows() == []


class TestSender:
    def test_the_requester_reopens_a_solved_ticket(
        self, runtime: Runtime, opened: Received, outbox: Outbox
    ) -> None:
        set_status(runtime, opened.ticket, TicketStatus.SOLVED)
        ack = outbox.rows()[0]

        raw = build_email(sender=CUSTOMER.upper(), subject="thanks", in_reply_to=ack.message_id)
        received = receive(runtime, raw)

        assert received.outcome is Outcome.ADDED
        assert ticket_of(runtime, opened.ticket).status is TicketStatus.OPEN
        assert messages_of(runtime, opened.ticket)[-1].visibility is MessageVisibility.PUBLIC

    def test_the_requester_moves_a_pending_ticket_back_to_open(
        self, runtime: Runtime, opened: Received, outbox: Outbox
    ) -> None:
        set_status(runtime, opened.ticket, TicketStatus.PENDING)
        [ack] = outbox.rows()

        received = receive(runtime, build_email(references=[opened.message_id, ack.message_id]))

        assert received.outcome is Outcome.ADDED
        assert ticket_of(runtime, opened.ticket).status is TicketStatus.OPEN

    def test_someone_else_is_an_internal_note_for_review(
        self, runtime: Runtime, factories: Factories, outbox: Outbox
    ) -> None:
        carol = customer_user(runtime, factories)
        opened = receive(runtime, build_email())
        set_status(runtime, opened.ticket, TicketStatus.SOLVED)
        sent_before = len(outbox.rows())
        raw = build_email(
            sender="Mallory <mallory@attacker.example>",
            in_reply_to=opened.message_id,
            body="Please send the admin reset link to mallory@attacker.example\n",
        )

        received = receive(runtime, raw)

        assert (received.outcome, received.ticket) == (Outcome.FLAGGED, opened.ticket)
        assert "not the ticket's requester" in received.describe()
        assert ticket_of(runtime, opened.ticket).status is TicketStatus.SOLVED
        note = messages_of(runtime, opened.ticket)[-1]
        assert note.visibility is MessageVisibility.INTERNAL
        assert note.needs_review
        assert not note.automated
        assert note.author_email == "mallory@attacker.example"
        assert len(outbox.rows()) == sent_before
        as_carol = service.get_ticket(runtime.uow(), opened.ticket, actor=factories.actor(carol))
        assert [m.id for m in as_carol.messages] == [messages_of(runtime, opened.ticket)[0].id]
        assert all("mallory" not in row.body for row in outbox.rows())

    def test_staff_writing_by_email_are_not_trusted(
        self, runtime: Runtime, factories: Factories, opened: Received, outbox: Outbox
    ) -> None:
        factories.user("agent@keyholder.example", staff_role=StaffRole.AGENT)
        raw = build_email(sender="agent@keyholder.example", in_reply_to=opened.message_id)

        received = receive(runtime, raw)

        assert received.outcome is Outcome.FLAGGED
        assert messages_of(runtime, opened.ticket)[-1].visibility is MessageVisibility.INTERNAL
        assert len(outbox.rows()) == 1

    def test_a_reply_to_a_closed_ticket_opens_a_linked_follow_up(
        self, runtime: Runtime, opened: Received, outbox: Outbox
    ) -> None:
        set_status(runtime, opened.ticket, TicketStatus.CLOSED)
        [ack] = outbox.rows()

        received = receive(runtime, build_email(in_reply_to=ack.message_id))

        assert received.outcome is Outcome.FOLLOW_UP
        assert received.follow_up_of == opened.ticket
        assert received.describe() == (
            f"ticket #{received.ticket}: follow-up of closed ticket #{opened.ticket}"
        )
        follow_up = ticket_of(runtime, received.ticket)
        assert follow_up.follow_up_of_id == opened.ticket
        assert ticket_of(runtime, opened.ticket).status is TicketStatus.CLOSED
        assert len(messages_of(runtime, received.ticket)) == 1
        assert outbox.rows()[-1].kind == "desk_follow_up"
        again = build_email(in_reply_to=outbox.rows()[-1].message_id)  # later replies thread to it
        assert receive(runtime, again).ticket == received.ticket


class TestProofOfTheRequester:
    """S31b: the requester's From counts only beside a secret from our mail to them."""

    @pytest.fixture
    def solved(self, runtime: Runtime, opened: Received) -> int:
        set_status(runtime, opened.ticket, TicketStatus.SOLVED)
        return opened.ticket

    def assert_flagged_unproven(
        self, runtime: Runtime, received: Received, number: int, outbox: Outbox, *, sent: int
    ) -> None:
        assert (received.outcome, received.ticket) == (Outcome.FLAGGED, number)
        assert "a From header is not proof" in received.describe()
        note = messages_of(runtime, number)[-1]
        assert note.visibility is MessageVisibility.INTERNAL
        assert note.needs_review
        assert not note.automated
        assert "[needs review: the From address is the requester's" in note.body
        # Staff must notice it: a solved ticket is open again, but nothing was emailed.
        assert ticket_of(runtime, number).status is TicketStatus.OPEN
        assert len(outbox.rows()) == sent

    def test_s31b_a_subject_tag_and_the_requesters_from_are_not_proof(
        self, runtime: Runtime, factories: Factories, solved: int, outbox: Outbox
    ) -> None:
        carol = customer_user(runtime, factories)
        raw = build_email(
            subject=f"Re: [#{solved}] send the admin link to mallory@attacker.example"
        )

        sent = len(outbox.rows())
        received = receive(runtime, raw)

        self.assert_flagged_unproven(runtime, received, solved, outbox, sent=sent)
        as_carol = service.get_ticket(runtime.uow(), solved, actor=factories.actor(carol))
        assert len(as_carol.messages) == 1  # the customer never sees the note

    def test_s31b_a_message_id_we_only_received_is_not_proof(
        self, runtime: Runtime, opened: Received, solved: int, outbox: Outbox
    ) -> None:
        """The requester's own Message-ID went to whoever they wrote to: it threads, no more."""
        sent = len(outbox.rows())
        received = receive(runtime, build_email(in_reply_to=opened.message_id))

        self.assert_flagged_unproven(runtime, received, solved, outbox, sent=sent)

    def test_s31b_our_message_id_on_another_ticket_is_not_proof(
        self, runtime: Runtime, opened: Received, solved: int, outbox: Outbox
    ) -> None:
        """Mallory opens her own ticket, then cites our mail to her beside Carol's thread."""
        receive(runtime, build_email(sender="mallory@attacker.example", subject="mine"))
        mallorys_ack = outbox.rows()[-1].message_id
        raw = build_email(in_reply_to=opened.message_id, references=[mallorys_ack])

        sent = len(outbox.rows())
        received = receive(runtime, raw)

        self.assert_flagged_unproven(runtime, received, solved, outbox, sent=sent)

    def test_s31b_the_reply_address_of_another_ticket_is_not_proof(
        self, runtime: Runtime, solved: int, outbox: Outbox
    ) -> None:
        mallorys = receive(runtime, build_email(sender="mallory@attacker.example", subject="x"))
        address = plus_address(runtime, mallorys.ticket)
        raw = build_email(to=address, subject=f"Re: [#{solved}] hello")

        sent = len(outbox.rows())
        received = receive(runtime, raw, envelope_recipients=[address])

        self.assert_flagged_unproven(runtime, received, solved, outbox, sent=sent)

    def test_s31b_an_unproven_note_on_a_closed_ticket_opens_no_follow_up(
        self, runtime: Runtime, opened: Received, outbox: Outbox
    ) -> None:
        set_status(runtime, opened.ticket, TicketStatus.CLOSED)

        received = receive(runtime, build_email(subject=f"Re: [#{opened.ticket}] x"))

        assert (received.outcome, received.ticket) == (Outcome.FLAGGED, opened.ticket)
        assert ticket_of(runtime, opened.ticket).status is TicketStatus.CLOSED
        assert ticket_count(runtime) == 1
        assert len(outbox.rows()) == 1

    @pytest.mark.parametrize("proof", ["in-reply-to", "references", "reply address"])
    def test_s31b_either_secret_from_our_mail_is_proof(
        self, runtime: Runtime, solved: int, outbox: Outbox, proof: str
    ) -> None:
        ack = outbox.rows()[0]
        raw = {
            "in-reply-to": build_email(in_reply_to=ack.message_id),
            "references": build_email(references=[ack.message_id, "<later@customer.example>"]),
            "reply address": build_email(to=plus_address(runtime, solved)),
        }[proof]

        received = receive(runtime, raw)

        assert (received.outcome, received.ticket) == (Outcome.ADDED, solved)
        assert messages_of(runtime, solved)[-1].visibility is MessageVisibility.PUBLIC


class TestContent:
    def test_no_header_injection_through_subject_or_name(
        self, runtime: Runtime, outbox: Outbox
    ) -> None:
        raw = (
            b"From: =?utf-8?q?Eve=0D=0ABcc:_victim@x.example?= <eve@customer.example>\n"
            b"To: support@keyholder.localhost\n"
            b"Subject: =?utf-8?q?Help=0D=0ABcc:_victim@x.example=0A=0Ahi?=\n\nbody\n"
        )

        received = receive(runtime, raw)

        ticket = ticket_of(runtime, received.ticket)
        assert ticket.subject == "Help Bcc: victim@x.example hi"
        assert ticket.requester_name == "Eve Bcc: victim@x.example"
        [ack] = outbox.rows()
        assert "\n" not in ack.subject
        assert ack.subject == f"[#{received.ticket}] Help Bcc: victim@x.example hi"

    def test_html_only_mail_becomes_text(self, runtime: Runtime) -> None:
        html = (
            "<html><head><style>p {color: red}</style><script>alert(1)</script></head>"
            "<body><p>Hello,<br>the export&nbsp;fails.</p><p>Carol</p></body></html>"
        )

        received = receive(runtime, build_email(body="", html=html))

        [message] = messages_of(runtime, received.ticket)
        assert message.body == "Hello,\nthe export fails.\n\nCarol\n"

    def test_plain_text_is_preferred_over_html(self, runtime: Runtime) -> None:
        received = receive(runtime, build_email(body="plain words\n", html="<p>html words</p>"))

        assert messages_of(runtime, received.ticket)[0].body == "plain words\n"

    def test_encoded_subject_and_a_latin1_body(self, runtime: Runtime) -> None:
        raw = (
            b"From: =?utf-8?q?J=C3=BCrgen_M=C3=BCller?= <jm@customer.example>\n"
            b"To: support@keyholder.localhost\n"
            b"Subject: =?iso-8859-1?q?Gr=FC=DFe_aus_K=F6ln?=\n"
            b"Message-ID: <latin@customer.example>\n"
            b"Content-Type: text/plain; charset=iso-8859-1\n"
            b"Content-Transfer-Encoding: 8bit\n\n"
            b"Sch\xf6ne Gr\xfc\xdfe\n"
        )

        received = receive(runtime, raw)

        ticket = ticket_of(runtime, received.ticket)
        assert ticket.subject == "Grüße aus Köln"
        assert ticket.requester_name == "Jürgen Müller"
        assert messages_of(runtime, received.ticket)[0].body == "Schöne Grüße\n"

    def test_an_unknown_charset_and_stray_bytes_do_not_stop_it(self, runtime: Runtime) -> None:
        raw = (
            b"From: jm@customer.example\nTo: support@keyholder.localhost\nSubject: x\n"
            b"Content-Type: text/plain; charset=x-no-such-charset\n\n"
            b"caf\xc3\xa9 and \xff\x00 bytes\n"
        )

        received = receive(runtime, raw)

        assert messages_of(runtime, received.ticket)[0].body == "café and \ufffd bytes\n"

    def test_malformed_headers_are_survived(self, runtime: Runtime) -> None:
        raw = (
            b"From: <<<@@@>>>\nSender: Real Person <real@customer.example>\n"
            b"To: ,,,;;; <\nSubject: =?bogus?q?=ZZ?= hello\n"
            b"Message-ID: no brackets here\nReferences: <<<>>> garbage\n"
            b"In-Reply-To: \x01\x02\n\nbody\n"
        )

        received = receive(runtime, raw)

        assert received.outcome is Outcome.CREATED
        assert ticket_of(runtime, received.ticket).requester_email == "real@customer.example"

    def test_without_message_id_a_redelivery_is_still_a_duplicate(self, runtime: Runtime) -> None:
        raw = build_email(message_id=None)
        first = receive(runtime, raw)
        redelivered = b"Received: from mx2 by mx3; Thu, 15 Jan 2026 12:05:00 +0000\n" + raw

        again = receive(runtime, redelivered)

        assert first.message_id.startswith("<sha256-")
        assert again.outcome is Outcome.DUPLICATE
        assert ticket_count(runtime) == 1

    @pytest.mark.parametrize(
        "raw", [b"", b"   \n\n", b"\x00\x01\x02 binary junk without headers"], ids=str
    )
    def test_not_an_email_is_refused(self, runtime: Runtime, raw: bytes) -> None:
        with pytest.raises(InvalidInput):
            receive(runtime, raw)
        assert ticket_count(runtime) == 0

    def test_no_sender_is_refused(self, runtime: Runtime) -> None:
        with pytest.raises(InvalidInput, match="no sender"):
            receive(runtime, b"To: support@keyholder.localhost\nSubject: x\n\nbody\n")

    def test_the_envelope_sender_stands_in_for_a_missing_from(self, runtime: Runtime) -> None:
        raw = b"To: support@keyholder.localhost\nSubject: x\n\nbody\n"

        received = receive(runtime, raw, envelope_sender="bob@customer.example")

        assert ticket_of(runtime, received.ticket).requester_email == "bob@customer.example"

    def test_a_message_over_the_limit_is_refused(self, settings, clock, engine) -> None:
        with runtime_with(settings, clock, engine, attachment_max_bytes=1000) as small:
            raw = build_email(body="x" * 3001)
            with pytest.raises(PayloadTooLarge, match="at most 3000"):
                receive(small, raw)
            assert ticket_count(small) == 0


class TestAttachments:
    def test_accepted_files_are_attached_and_refused_ones_noted(self, runtime: Runtime) -> None:
        raw = build_email(
            files=[
                ("screenshot.png", "image/png", png_bytes()),
                ("setup.exe", "application/x-msdownload", b"MZ\x90\x00" + b"\x00" * 200),
                ("notes.txt", "text/plain", b"step 1\nstep 2\n"),
            ]
        )

        received = receive(runtime, raw)

        assert received.outcome is Outcome.CREATED
        assert received.refused_files == ("setup.exe",)
        [message] = messages_of(runtime, received.ticket)
        assert sorted(a.filename for a in message.attachments) == ["notes.txt", "screenshot.png"]
        assert message.body.endswith(
            '\n\n[attachment "setup.exe" (application/x-msdownload) not accepted; '
            "kept in the original email]\n"
        )

    def test_an_inline_image_without_a_name_is_attached(self, runtime: Runtime) -> None:
        message = message_from_bytes(
            build_email(body="", html="<p>see <img src='cid:i1'></p>"), policy=policy.default
        )
        assert isinstance(message, EmailMessage)
        message.add_related(png_bytes(), maintype="image", subtype="png", cid="<i1@x>")

        received = receive(runtime, message.as_bytes())

        [stored] = messages_of(runtime, received.ticket)
        assert stored.body == "see\n"
        assert [(a.filename, a.content_type) for a in stored.attachments] == [
            ("attachment.png", "image/png")
        ]

    def test_a_refused_file_on_a_flagged_note_keeps_the_note(
        self, runtime: Runtime, opened: Received
    ) -> None:
        raw = build_email(
            sender="someone@elsewhere.example",
            in_reply_to=opened.message_id,
            files=[("page.html", "text/html", b"<html><script>x</script></html>")],
        )

        received = receive(runtime, raw)

        assert received.outcome is Outcome.FLAGGED
        assert "page.html" in messages_of(runtime, received.ticket)[-1].body


def test_the_clock_stands_still_for_email(runtime: Runtime, opened: Received) -> None:
    # Received mail is stamped with the runtime's clock like every other message.
    ticket = ticket_of(runtime, opened.ticket)
    assert ticket.created_at == runtime.clock.now()
    assert ticket.first_response_due_at - ticket.created_at == timedelta(hours=8)
