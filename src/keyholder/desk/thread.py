"""Building blocks shared by the desk's use cases: they change rows, never commit.

Callers (``desk.service``, ``desk.customer``, ``desk.inbound``) decide who may
act; these helpers keep the ticket's invariants: ``is_open`` follows the
status, the SLA clock pauses while pending, every status change is audited.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select

from keyholder.audit.actions import AuditAction
from keyholder.audit.service import record_event
from keyholder.audit.targets import ticket_target
from keyholder.db.tx import Tx
from keyholder.desk import sla, states
from keyholder.desk.models import (
    MailReference,
    MessageChannel,
    MessageVisibility,
    Ticket,
    TicketKind,
    TicketMessage,
    TicketPriority,
    TicketStatus,
)
from keyholder.errors import InvalidInput, NotFound
from keyholder.identity.actor import Actor
from keyholder.mail.models import OutboxMessage

MAX_SUBJECT = 300
MAX_BODY = 200_000  # characters: a long email thread fits, a denial of service does not


def clean_subject(subject: str) -> str:
    # One line: subjects become email headers (S37).
    text = " ".join(subject.split())
    if not text:
        raise InvalidInput("a ticket needs a subject")
    return text[:MAX_SUBJECT]


def check_body(body: str) -> str:
    if not body.strip():
        raise InvalidInput("a message needs some text")
    if len(body) > MAX_BODY:
        raise InvalidInput(f"a message can hold at most {MAX_BODY} characters")
    return body


def check_group(tx: Tx, group: str) -> str:
    if group not in tx.settings.desk_groups:
        raise InvalidInput(
            f"unknown group {group!r}; groups are: {', '.join(tx.settings.desk_groups)}"
        )
    return group


def get_ticket_for_update(tx: Tx, number: int) -> Ticket:
    """The ticket, locked against concurrent changes (PostgreSQL; SQLite locks the database)."""
    ticket = tx.session.scalars(
        select(Ticket).where(Ticket.id == number).with_for_update()
    ).one_or_none()
    if ticket is None:
        raise NotFound(f"no ticket #{number}")
    return ticket


@dataclass(frozen=True, slots=True)
class Requester:
    email: str
    name: str = ""
    user_id: uuid.UUID | None = None


def create_ticket(
    tx: Tx,
    *,
    subject: str,
    requester: Requester,
    actor: Actor,
    kind: TicketKind = TicketKind.GENERAL,
    priority: TicketPriority = TicketPriority.NORMAL,
    group: str | None = None,
    account_id: uuid.UUID | None = None,
    follow_up_of: int | None = None,
) -> Ticket:
    now = tx.clock.now()
    ticket = Ticket(
        subject=clean_subject(subject),
        kind=kind,
        status=TicketStatus.NEW,
        is_open=True,
        priority=priority,
        group=check_group(tx, group or tx.settings.desk_groups[0]),
        requester_email=requester.email,
        requester_name=" ".join(requester.name.split())[:200],
        requester_user_id=requester.user_id,
        account_id=account_id,
        follow_up_of_id=follow_up_of,
        created_at=now,
        updated_at=now,
        customer_updated_at=now,
    )
    sla.start_clock(ticket, tx.settings)
    tx.session.add(ticket)
    tx.session.flush()  # assigns the number
    record_event(
        tx,
        actor=actor,
        action=AuditAction.TICKET_OPEN,
        target=ticket_target(ticket.id),
        after={
            "subject": ticket.subject,
            "kind": ticket.kind.value,
            "requester": ticket.requester_email,
            "follow_up_of": follow_up_of,
        },
    )
    return ticket


def add_message(
    tx: Tx,
    ticket: Ticket,
    *,
    body: str,
    visibility: MessageVisibility,
    channel: MessageChannel,
    author_email: str,
    author_name: str = "",
    author_user_id: uuid.UUID | None = None,
    from_staff: bool = False,
    message_id: str | None = None,
    needs_review: bool = False,
    automated: bool = False,
    raw_sha256: str | None = None,
) -> TicketMessage:
    now = tx.clock.now()
    message = TicketMessage(
        ticket_id=ticket.id,
        visibility=visibility,
        channel=channel,
        author_email=author_email,
        author_name=" ".join(author_name.split())[:200],
        author_user_id=author_user_id,
        from_staff=from_staff,
        body=check_body(body) if channel is not MessageChannel.EMAIL else body[:MAX_BODY],
        message_id=message_id,
        needs_review=needs_review,
        automated=automated,
        raw_sha256=raw_sha256,
        created_at=now,
        attachments=[],  # loaded (empty), so callers can render it after the session closes
    )
    tx.session.add(message)
    if message_id is not None:
        remember_message_id(tx, ticket.id, message_id, outgoing=False)
    ticket.updated_at = now
    if visibility is MessageVisibility.PUBLIC:
        ticket.customer_updated_at = now
    tx.session.flush()
    return message


def remember_message_id(tx: Tx, number: int, message_id: str, *, outgoing: bool) -> None:
    """Record a Message-ID as belonging to ticket ``number`` (for threading replies)."""
    tx.session.add(
        MailReference(
            message_id=message_id, ticket_id=number, outgoing=outgoing, created_at=tx.clock.now()
        )
    )


def thread_message_ids(tx: Tx, number: int, *, seen_by: Sequence[str]) -> list[str]:
    """The Message-IDs of the ticket's mail that ``seen_by`` may know of, oldest first.

    That is mail we received, and mail we sent to one of them. The ids of mail
    sent to others (the executive on record, the account's admins) stay out of
    ``References``: they would tell the requester that such mail went out, so
    whether the account exists (S31a).
    """
    query = (
        select(MailReference.message_id, MailReference.outgoing, OutboxMessage.recipients)
        .outerjoin(OutboxMessage, OutboxMessage.message_id == MailReference.message_id)
        .where(MailReference.ticket_id == number)
        .order_by(MailReference.id)
    )
    readers = set(seen_by)
    return [
        message_id
        for message_id, outgoing, recipients in tx.session.execute(query)
        if not outgoing or recipients is None or readers.intersection(recipients)
    ]


def change_status(
    tx: Tx, ticket: Ticket, new: TicketStatus, *, actor: Actor, reason: str | None = None
) -> bool:
    """Move the ticket to ``new`` if the lifecycle allows it; audit it. False if unchanged."""
    old = ticket.status
    states.check_change(ticket.id, old, new)
    if new is old:
        return False
    now = tx.clock.now()
    sla.on_status_change(ticket, new, now)
    ticket.status = new
    ticket.is_open = states.is_open(new)
    ticket.updated_at = ticket.customer_updated_at = now
    if new is TicketStatus.SOLVED:
        ticket.solved_at = now
    elif new is TicketStatus.CLOSED:
        ticket.closed_at = now
    elif old is TicketStatus.SOLVED:
        ticket.solved_at = None  # reopened: resolution is due again
    after: dict[str, object] = {"status": new.value}
    if reason:
        after["reason"] = reason
    record_event(
        tx,
        actor=actor,
        action=AuditAction.TICKET_STATUS,
        target=ticket_target(ticket.id),
        before={"status": old.value},
        after=after,
    )
    return True
