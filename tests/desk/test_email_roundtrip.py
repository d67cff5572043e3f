"""End to end, over real SMTP both ways: a customer and an agent talk through a ticket.

Customer mail reaches the desk's own listener (`keyholder mail listen`'s
server, in-process); the desk's mail leaves through the relay to a loopback
SMTP server standing in for the customer's mailbox.
"""

from __future__ import annotations

import smtplib

from fastapi.testclient import TestClient
from sqlalchemy import select

from keyholder.bootstrap import Runtime
from keyholder.desk.addresses import ticket_from_address
from keyholder.desk.links import ticket_link
from keyholder.desk.models import MessageVisibility, Ticket, TicketMessage, TicketStatus
from keyholder.mail.models import REDACTED_BODY, OutboxMessage, OutboxStatus
from keyholder.mail.relay import Relay
from tests.desk.emails import CUSTOMER, DESK, build_email, reply_to
from tests.desk.listener import ThreadedListener
from tests.factories import Factories
from tests.smtp_server import HOST, LoopbackSMTPServer, ReceivedMessage


def send(port: int, raw: bytes) -> None:
    """The customer's mail client hands a message to the desk's MTA (here: straight to us)."""
    with smtplib.SMTP(HOST, port, timeout=10) as client:
        client.sendmail(CUSTOMER, [DESK], raw.replace(b"\n", b"\r\n"))


def deliver(mail_runtime: Runtime) -> Relay:
    relay = mail_runtime.relay()
    assert relay is not None
    relay.run_until_idle()
    return relay


def inbox(smtp_server: LoopbackSMTPServer) -> list[ReceivedMessage]:
    return smtp_server.messages_to(CUSTOMER)


def test_customer_and_agent_talk_by_email(
    runtime: Runtime,
    mail_runtime: Runtime,
    smtp_server: LoopbackSMTPServer,
    client: TestClient,
    factories: Factories,
) -> None:
    agent = factories.staff("agent@keyholder.example")
    auth = factories.auth(agent)
    original_id = "<first-question@customer.example>"

    with ThreadedListener(runtime) as listener:
        # 1. The customer writes to support: a ticket, and an acknowledgement.
        send(listener.port, build_email(subject="Export fails", message_id=original_id))
        with runtime.uow(read_only=True) as uow:
            ticket = uow.session.scalars(select(Ticket)).one()
        number = ticket.id
        deliver(mail_runtime)
        [ack] = inbox(smtp_server)
        assert ack.subject == f"[#{number}] Export fails"
        assert str(ack.message["In-Reply-To"]) == original_id
        assert ack.message["Auto-Submitted"] == "auto-generated"

        # 2. An agent notes something internal, then replies through the API and solves it.
        note = client.post(
            f"/api/desk/tickets/{number}/notes",
            json={"body": "Internal: customer is on the legacy plan"},
            headers=auth,
        )
        assert note.status_code == 201, note.text
        replied = client.post(
            f"/api/desk/tickets/{number}/replies",
            json={"body": "Please try the export again now.", "status": "solved"},
            headers=auth,
        )
        assert replied.status_code == 201, replied.text
        deliver(mail_runtime)

        # 3. The customer gets the reply, threaded to their own first message.
        [reply] = [m for m in inbox(smtp_server) if "Please try the export" in m.body]
        assert f"[#{number}]" in reply.subject
        assert "Auto-Submitted" not in reply.message  # a person's words, not a robot's
        references = str(reply.message["References"]).split()
        assert references[0] == original_id
        assert str(reply.message["In-Reply-To"]) == references[-1]
        assert ticket_from_address(runtime.settings, str(reply.message["Reply-To"])) == number
        assert all("legacy plan" not in m.body for m in inbox(smtp_server))
        assert _status(runtime, number) is TicketStatus.SOLVED
        sent_so_far = len(smtp_server.messages)

        # 4. The customer answers from their mail client: the same ticket, reopened.
        send(listener.port, reply_to(reply.message, body="Still failing, sorry.\n"))

    assert _status(runtime, number) is TicketStatus.OPEN
    with runtime.uow(read_only=True) as uow:
        messages = uow.session.scalars(
            select(TicketMessage)
            .where(TicketMessage.ticket_id == number)
            .order_by(TicketMessage.id)
        ).all()
        assert uow.session.scalars(select(Ticket.id)).all() == [number]
    assert [(m.visibility, m.from_staff) for m in messages] == [
        (MessageVisibility.PUBLIC, False),
        (MessageVisibility.INTERNAL, True),
        (MessageVisibility.PUBLIC, True),
        (MessageVisibility.PUBLIC, False),
    ]
    assert messages[-1].body == "Still failing, sorry.\n"
    deliver(mail_runtime)
    assert len(smtp_server.messages) == sent_so_far  # a reply gets no acknowledgement


def _status(runtime: Runtime, number: int) -> TicketStatus:
    with runtime.uow(read_only=True) as uow:
        ticket = uow.session.get(Ticket, number)
        assert ticket is not None
        return ticket.status


def test_s6_emails_carrying_the_ticket_link_are_blanked_once_sent(
    runtime: Runtime,
    mail_runtime: Runtime,
    smtp_server: LoopbackSMTPServer,
    client: TestClient,
    factories: Factories,
) -> None:
    """The ticket link opens the thread without signing in: kept in no table once sent (S6)."""
    agent = factories.staff("agent@keyholder.example")
    with ThreadedListener(runtime) as listener:
        send(listener.port, build_email(subject="Export fails"))
    with runtime.uow(read_only=True) as uow:
        ticket = uow.session.scalars(select(Ticket)).one()
    link = ticket_link(runtime.settings, ticket)
    replied = client.post(
        f"/api/desk/tickets/{ticket.id}/replies",
        json={"body": "Please try again now.", "status": "solved"},
        headers=factories.auth(agent),
    )
    assert replied.status_code == 201, replied.text
    with runtime.uow(read_only=True) as uow:
        queued = uow.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    assert [row.kind for row in queued] == [
        "desk_ticket_received",
        "desk_reply",
        "desk_ticket_solved",
    ]
    assert all(link in row.body for row in queued)

    deliver(mail_runtime)

    assert len(inbox(smtp_server)) == 3
    assert all(link in message.body for message in inbox(smtp_server))
    with runtime.uow(read_only=True) as uow:
        stored = uow.session.scalars(select(OutboxMessage)).all()
    assert {row.status for row in stored} == {OutboxStatus.SENT}
    assert all(row.holds_secret for row in stored)
    assert {(row.body, row.body_html) for row in stored} == {(REDACTED_BODY, None)}
    # The agent's words stay on the ticket itself, where staff and the requester read them.
    with runtime.uow(read_only=True) as uow:
        bodies = uow.session.scalars(
            select(TicketMessage.body).where(TicketMessage.ticket_id == ticket.id)
        ).all()
    assert "Please try again now." in bodies
