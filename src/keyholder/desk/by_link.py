"""The requester's ticket, reached from the link in a desk email (``desk.links``).

What a signed-in customer can do on their own ticket, for the people who
cannot sign in (someone asking for admin access has no account to sign in
to): read the public thread, download its files, reply with attachments.
Internal notes and their files are never shown, as on the customer's API.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from keyholder.db.uow import UnitOfWork
from keyholder.desk.attachments import NewAttachment, attach_files, read_attachment
from keyholder.desk.customer import CustomerMessage, record_customer_reply
from keyholder.desk.links import ticket_by_link
from keyholder.desk.models import Attachment, MessageChannel, Ticket
from keyholder.desk.thread import Requester
from keyholder.identity.actor import Actor


def link_actor(ticket: Ticket) -> Actor:
    """Whoever holds the link: known only as the requester's address; no powers."""
    return Actor(label=f"ticket-link:{ticket.requester_email}"[:320])


def download_by_link(
    uow: UnitOfWork, number: int, mac: str, attachment_id: uuid.UUID
) -> tuple[Attachment, bytes]:
    """A file on a public message of the ticket; each view is audited like any other."""
    with uow:
        ticket = ticket_by_link(uow, number, mac)
        found = read_attachment(uow, number, attachment_id, actor=link_actor(ticket), staff=False)
        uow.commit()
        return found


def reply_by_link(
    uow: UnitOfWork,
    number: int,
    mac: str,
    *,
    body: str,
    attachments: Sequence[NewAttachment] = (),
) -> CustomerMessage:
    """The requester's reply, as if they had answered the email (closed: a follow-up)."""
    with uow:
        ticket = ticket_by_link(uow, number, mac, lock=True)
        landed = record_customer_reply(
            uow,
            ticket,
            body=body,
            channel=MessageChannel.WEB,
            actor=link_actor(ticket),
            author=Requester(
                email=ticket.requester_email,
                name=ticket.requester_name,
                user_id=ticket.requester_user_id,
            ),
        )
        attach_files(uow, landed.ticket, landed.message, attachments)
        uow.commit()
        return landed
