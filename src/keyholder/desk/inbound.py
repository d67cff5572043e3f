"""Email in: one received message becomes a ticket message, threaded and checked.

Threading, in this order (the first that names an existing ticket wins):

1. In-Reply-To, then References (newest first), against every Message-ID the
   desk ever sent or received (``ticket_mail_references``);
2. the subject tag ``[#<number>]``;
3. a reply plus-address (``support+t12-<mac>@…``) among the envelope
   recipients, To, Cc, Delivered-To and X-Original-To, its MAC checked;

else the message opens a new ticket. A Message-ID seen before is a duplicate
(an MTA re-delivery) and changes nothing.

Trust: email senders can be forged, and a ticket number is no secret. A
message counts as the requester's reply (it reopens a solved or pending
ticket; a closed one gets a linked follow-up) only when it comes from the
ticket's requester AND proves it read our mail (S31b): it was sent to the
ticket's MAC'd reply address, or its In-Reply-To/References name a
Message-ID we sent on that ticket. Threading alone (a Message-ID we only
received, which others may have seen, or the ``[#n]`` subject tag) finds the
ticket but proves nothing. A message from the requester's address without
that proof lands as an internal note flagged for review, with the reason in
its body, and moves a pending or solved ticket back to open so staff notice
it. Anyone else, staff included, lands as a flagged internal note: never
shown to the customer, never emailed, no status change.

Loop protection (RFC 3834): machine-made mail (Auto-Submitted, Precedence
bulk/junk/list, X-Auto-Response-Suppress, List-Id, reports, bounces, our own
address) is recorded as an internal note flagged ``automated`` and for
review. It never gets an email in reply and never changes a status. When it
threads nowhere it still opens a ticket (as Request Tracker and Zammad do),
without the acknowledgement, so nothing sent to the desk is lost and no
autoresponder can ping-pong with us.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import select

from keyholder.audit.actions import AuditAction
from keyholder.audit.service import record_event
from keyholder.audit.targets import ticket_target
from keyholder.db.tx import Tx
from keyholder.db.types import INTEGER_MAX
from keyholder.db.uow import UnitOfWork
from keyholder.desk import notify
from keyholder.desk.addresses import ticket_from_address
from keyholder.desk.attachments import MAX_ATTACHMENTS, NewAttachment, attach_files
from keyholder.desk.blobs import store_blob
from keyholder.desk.customer import REOPENED_BY_CUSTOMER, record_customer_reply
from keyholder.desk.mailparse import ParsedMail, clean_line, parse_email
from keyholder.desk.models import (
    MailReference,
    MessageChannel,
    MessageVisibility,
    Ticket,
    TicketMessage,
    TicketStatus,
)
from keyholder.desk.thread import (
    Requester,
    add_message,
    change_status,
    create_ticket,
)
from keyholder.errors import Conflict, InvalidInput, PayloadTooLarge, UnsupportedMediaType
from keyholder.identity.actor import Actor
from keyholder.identity.models import User

_TAG = re.compile(r"\[#(\d{1,18})\]")
_REPLY_PREFIX = re.compile(
    r"^\s*(?:(?:re|fwd?|aw|sv|wg|vs|antw|tr)\s*(?:\[\d+\]|\(\d+\))?\s*[:\uff1a]\s*)+", re.IGNORECASE
)
# Ticket numbers are PostgreSQL integers: a larger "number" names no ticket (and
# would make the lookup fail rather than find nothing).
MAX_TICKET_NUMBER = INTEGER_MAX
NO_SUBJECT = "(no subject)"
NOT_REQUESTER = "the sender is not the ticket's requester"
UNPROVEN = (
    "the From address is the requester's, but the message was not sent to this ticket's "
    "reply address and names none of the emails we sent on it; a From header is not proof"
)


class Outcome(StrEnum):
    CREATED = "created"  # a new ticket
    ADDED = "added"  # the requester's reply on their ticket
    FOLLOW_UP = "follow_up"  # the requester wrote to a closed ticket: a linked new one
    DUPLICATE = "duplicate"  # seen before (same Message-ID): nothing written
    FLAGGED = "flagged"  # from someone else: an internal note for review
    AUTOMATED = "automated"  # machine-made: an internal note, no reply, no status change


@dataclass(frozen=True, slots=True)
class Received:
    """What became of one received email."""

    outcome: Outcome
    ticket: int
    message_id: str
    follow_up_of: int | None = None
    reason: str | None = None  # why it was flagged or counted as automated
    refused_files: tuple[str, ...] = ()

    def describe(self) -> str:
        """One line for the operator or the MTA's log, e.g. ``ticket #12: created``."""
        match self.outcome:
            case Outcome.FOLLOW_UP:
                text = f"follow-up of closed ticket #{self.follow_up_of}"
            case Outcome.DUPLICATE:
                text = f"duplicate of a message already received ({self.message_id}), ignored"
            case Outcome.FLAGGED:
                text = f"internal note flagged for review ({self.reason})"
            case Outcome.AUTOMATED:
                text = f"automated message recorded, not answered ({self.reason})"
            case _:
                text = self.outcome.value
        return f"ticket #{self.ticket}: {text}"


def receive_email(
    uow: UnitOfWork,
    raw: bytes,
    *,
    envelope_recipients: Sequence[str] = (),
    envelope_sender: str | None = None,
) -> Received:
    """File one RFC 5322 message on its ticket, in one transaction.

    ``envelope_sender`` is the SMTP MAIL FROM (``""`` for a bounce; None when
    unknown). Raises ``PayloadTooLarge`` for a message over the size limit and
    ``InvalidInput`` for one that is not an email: both can never be accepted,
    so an MTA should bounce them. Database errors propagate: try again later.
    """
    mail = parse_email(
        raw,
        settings=uow.settings,
        envelope_recipients=envelope_recipients,
        envelope_sender=envelope_sender,
    )
    try:
        with uow:
            received = _receive(uow, mail)
            uow.commit()
            return received
    except Conflict:
        # The same message delivered twice at once: the other delivery stored it.
        with uow:
            known = _known_ticket(uow, mail.message_id)
        if known is None:
            raise
        return Received(Outcome.DUPLICATE, known, mail.message_id)


def ticket_subject(subject: str) -> str:
    """A new ticket's subject: without reply/forward prefixes and ``[#n]`` tags."""
    text = _TAG.sub(" ", subject)
    while True:
        shorter = _REPLY_PREFIX.sub("", text)
        if shorter == text:
            break
        text = shorter
    return clean_line(text, 300) or NO_SUBJECT


def _receive(tx: Tx, mail: ParsedMail) -> Received:
    known = _known_ticket(tx, mail.message_id)
    if known is not None:
        return Received(Outcome.DUPLICATE, known, mail.message_id)
    actor = Actor(label=f"email:{mail.sender}"[:320])  # no user and no role: nobody's powers
    raw_sha256 = store_blob(tx, mail.raw)  # the whole email, whatever happens to its parts
    ticket = _find_ticket(tx, mail)
    if ticket is None:
        return _open_ticket(tx, mail, actor=actor, raw_sha256=raw_sha256)
    if mail.automated or not _is_requester(tx, ticket, mail.sender):
        return _note(tx, ticket, mail, actor=actor, raw_sha256=raw_sha256)
    if not _answers_our_mail(tx, ticket, mail):
        return _note(tx, ticket, mail, actor=actor, raw_sha256=raw_sha256, unproven=True)
    landed = record_customer_reply(
        tx,
        ticket,
        body=mail.body,
        channel=MessageChannel.EMAIL,
        actor=actor,
        author=Requester(
            email=mail.sender, name=mail.sender_name, user_id=_verified_user_id(tx, mail.sender)
        ),
        message_id=mail.message_id,
        raw_sha256=raw_sha256,
    )
    refused = _attach(tx, landed.ticket, landed.message, mail)
    if landed.follow_up_of is not None:
        return Received(
            Outcome.FOLLOW_UP,
            landed.ticket.id,
            mail.message_id,
            follow_up_of=landed.follow_up_of,
            refused_files=refused,
        )
    return Received(Outcome.ADDED, ticket.id, mail.message_id, refused_files=refused)


def _known_ticket(tx: Tx, message_id: str) -> int | None:
    return tx.session.scalar(
        select(MailReference.ticket_id).where(MailReference.message_id == message_id)
    )


def _locked_ticket(tx: Tx, number: int) -> Ticket | None:
    query = select(Ticket).where(Ticket.id == number).with_for_update()
    return tx.session.scalars(query).one_or_none()


def _find_ticket(tx: Tx, mail: ParsedMail) -> Ticket | None:
    """The ticket this message belongs to, by the threading order above; None for a new one."""
    candidates = list(dict.fromkeys([*mail.in_reply_to, *reversed(mail.references)]))
    if candidates:
        rows = tx.session.execute(
            select(MailReference.message_id, MailReference.ticket_id).where(
                MailReference.message_id.in_(candidates)
            )
        ).all()
        tickets = {row.message_id: row.ticket_id for row in rows}
        for candidate in candidates:
            if candidate in tickets:
                return _locked_ticket(tx, tickets[candidate])
    numbers = [int(n) for n in _TAG.findall(mail.subject)]
    numbers += [
        n for n in (ticket_from_address(tx.settings, a) for a in mail.recipients) if n is not None
    ]
    for number in dict.fromkeys(n for n in numbers if n <= MAX_TICKET_NUMBER):
        ticket = _locked_ticket(tx, number)
        if ticket is not None:
            return ticket
    return None


def _verified_user_id(tx: Tx, email: str) -> uuid.UUID | None:
    user = tx.session.scalars(select(User).where(User.email == email)).one_or_none()
    if user is None or user.email_verified_at is None or not user.is_active:
        return None
    return user.id


def _is_requester(tx: Tx, ticket: Ticket, sender: str) -> bool:
    if sender == ticket.requester_email.casefold():
        return True
    # The requester's account may have a newer, verified address than the ticket.
    user = tx.session.get(User, ticket.requester_user_id) if ticket.requester_user_id else None
    return user is not None and user.email_verified_at is not None and user.email == sender


def _answers_our_mail(tx: Tx, ticket: Ticket, mail: ParsedMail) -> bool:
    """Whether the message shows it answers an email we sent on ``ticket`` (S31b).

    Either secret works: the reply address carries a MAC only we can make, and
    our Message-IDs are random and went only to the ticket's recipients.
    """
    if any(ticket_from_address(tx.settings, a) == ticket.id for a in mail.recipients):
        return True
    named = {*mail.in_reply_to, *mail.references}
    if not named:
        return False
    ours = select(MailReference.id).where(
        MailReference.ticket_id == ticket.id,
        MailReference.outgoing.is_(True),
        MailReference.message_id.in_(named),
    )
    return tx.session.scalar(ours.limit(1)) is not None


def _open_ticket(tx: Tx, mail: ParsedMail, *, actor: Actor, raw_sha256: str) -> Received:
    user_id = _verified_user_id(tx, mail.sender)
    ticket = create_ticket(
        tx,
        subject=ticket_subject(mail.subject),
        requester=Requester(email=mail.sender, name=mail.sender_name, user_id=user_id),
        actor=actor,
    )
    if mail.automated:
        return _note(tx, ticket, mail, actor=actor, raw_sha256=raw_sha256)
    message = add_message(
        tx,
        ticket,
        body=mail.body,
        visibility=MessageVisibility.PUBLIC,
        channel=MessageChannel.EMAIL,
        author_email=mail.sender,
        author_name=mail.sender_name,
        author_user_id=user_id,
        message_id=mail.message_id,
        raw_sha256=raw_sha256,
    )
    refused = _attach(tx, ticket, message, mail)
    notify.send_ticket_received(tx, ticket)
    return Received(Outcome.CREATED, ticket.id, mail.message_id, refused_files=refused)


def _note(
    tx: Tx,
    ticket: Ticket,
    mail: ParsedMail,
    *,
    actor: Actor,
    raw_sha256: str,
    unproven: bool = False,
) -> Received:
    """Record the message for staff only: flagged, never emailed.

    Only an ``unproven`` message (the requester's From without proof) changes
    the status: probably the requester after all, so staff must notice it.
    """
    reason = mail.automated or (UNPROVEN if unproven else NOT_REQUESTER)
    message = add_message(
        tx,
        ticket,
        body=mail.body,
        visibility=MessageVisibility.INTERNAL,
        channel=MessageChannel.EMAIL,
        author_email=mail.sender,
        author_name=mail.sender_name,
        message_id=mail.message_id,
        needs_review=True,
        automated=mail.automated is not None,
        raw_sha256=raw_sha256,
    )
    refused = _attach(tx, ticket, message, mail)
    if not mail.automated:  # staff see why on the ticket (automated notes say so themselves)
        _append_lines(message, [f"[needs review: {reason}]"])
    record_event(
        tx,
        actor=actor,
        action=AuditAction.TICKET_NOTE,
        target=ticket_target(ticket.id),
        after={"message": message.id, "needs_review": reason},
    )
    if unproven and ticket.status in REOPENED_BY_CUSTOMER:
        change_status(tx, ticket, TicketStatus.OPEN, actor=actor, reason="email needs review")
    outcome = Outcome.AUTOMATED if mail.automated else Outcome.FLAGGED
    return Received(outcome, ticket.id, mail.message_id, reason=reason, refused_files=refused)


def _attach(tx: Tx, ticket: Ticket, message: TicketMessage, mail: ParsedMail) -> tuple[str, ...]:
    """Attach the files the attachment rules take; note the others in the body.

    Each file is tried in a savepoint, so one refused file (S32, S33) neither
    loses the message nor the other files; the raw email keeps them all.
    """
    lines: list[str] = []
    refused: list[str] = []
    attached = 0
    for file in mail.files:
        if attached >= MAX_ATTACHMENTS:
            refused.append(file.filename)
            lines.append(
                f'[attachment "{file.filename}" not attached: a message carries at most '
                f"{MAX_ATTACHMENTS}; kept in the original email]"
            )
            continue
        try:
            with tx.session.begin_nested():
                attach_files(tx, ticket, message, [NewAttachment(file.filename, file.data)])
            attached += 1
        except (UnsupportedMediaType, PayloadTooLarge, InvalidInput):
            refused.append(file.filename)
            lines.append(
                f'[attachment "{file.filename}" ({clean_line(file.content_type, 100)}) '
                "not accepted; kept in the original email]"
            )
    for name in mail.skipped_files:
        refused.append(name)
        lines.append(f'[attachment "{name}" not attached; kept in the original email]')
    _append_lines(message, lines)
    return tuple(refused)


def _append_lines(message: TicketMessage, lines: list[str]) -> None:
    """Add our remarks under the received text, set apart by a blank line."""
    if lines:
        text = message.body.rstrip("\n")
        message.body = f"{text}\n\n" * bool(text) + "\n".join(lines) + "\n"
