"""Emails from the desk: sent from the ticket, threaded, with a reply plus-address.

Every email carries the ``[#number]`` subject tag, our own Message-ID (kept in
``ticket_mail_references``), ``In-Reply-To``/``References`` naming the ticket's
earlier mail, and ``Reply-To`` with the MAC'd plus-address, so a reply finds
its ticket by any of the three. Notifications are marked ``Auto-Submitted``
(RFC 3834); an agent's reply is a person's words and is not.
"""

from __future__ import annotations

from collections.abc import Sequence

from keyholder.db.tx import Tx
from keyholder.desk.addresses import desk_mailbox, reply_address
from keyholder.desk.links import ticket_link
from keyholder.desk.models import Ticket, TicketMessage
from keyholder.desk.thread import remember_message_id, thread_message_ids
from keyholder.mail.models import OutboxMessage
from keyholder.mail.outbox import enqueue_email
from keyholder.mail.templates import render

# References grows with the thread; mail clients need its first and last entries.
_MAX_REFERENCES = 10


def team_name(tx: Tx) -> str:
    name, _, _ = desk_mailbox(tx.settings)
    return name or "Support"


def _threading_headers(tx: Tx, ticket: Ticket, to: Sequence[str]) -> dict[str, str]:
    headers = {"Reply-To": reply_address(tx.settings, ticket.id)}
    known = thread_message_ids(tx, ticket.id, seen_by=to)
    if known:
        if len(known) > _MAX_REFERENCES:
            known = [known[0], *known[-(_MAX_REFERENCES - 1) :]]
        headers["In-Reply-To"] = known[-1]
        headers["References"] = " ".join(known)
    return headers


def send_ticket_email(
    tx: Tx,
    ticket: Ticket,
    name: str,
    *,
    auto_submitted: bool,
    to: Sequence[str] | None = None,
    holds_secret: bool = False,
    **context: object,
) -> OutboxMessage:
    """Email the template ``name`` from the ticket, threaded (to the requester by default).

    Templates get ``ticket_link``: the requester's link to the ticket's page,
    in their emails only (None in anyone else's). The link opens the ticket
    without signing in, so an email carrying it holds a secret (S6): its body
    is blanked in the outbox once sent, whatever the caller says.
    """
    recipients = list(to) if to is not None else [ticket.requester_email]
    for_requester = recipients == [ticket.requester_email]
    link = ticket_link(tx.settings, ticket) if for_requester else None
    subject, text, html = render(
        name,
        number=ticket.id,
        subject=ticket.subject,
        team=team_name(tx),
        ticket_link=link,
        **context,
    )
    row = enqueue_email(
        tx,
        kind=name,
        to=recipients,
        subject=subject,
        body=text,
        html=html,
        mail_from=tx.settings.desk_address,
        headers=_threading_headers(tx, ticket, recipients),
        auto_submitted=auto_submitted,
        holds_secret=holds_secret or link is not None,
    )
    remember_message_id(tx, ticket.id, row.message_id, outgoing=True)
    return row


def send_public_reply(tx: Tx, ticket: Ticket, message: TicketMessage) -> OutboxMessage:
    """Email an agent's public reply to the requester and record its Message-ID."""
    row = send_ticket_email(
        tx,
        ticket,
        "desk_reply",
        auto_submitted=False,
        body=message.body,
        author=message.author_name or team_name(tx),
    )
    message.message_id = row.message_id
    return row


def send_ticket_received(tx: Tx, ticket: Ticket) -> OutboxMessage:
    return send_ticket_email(tx, ticket, "desk_ticket_received", auto_submitted=True)


def send_ticket_solved(tx: Tx, ticket: Ticket) -> OutboxMessage:
    return send_ticket_email(tx, ticket, "desk_ticket_solved", auto_submitted=True)


def send_follow_up_opened(tx: Tx, ticket: Ticket, previous: int) -> OutboxMessage:
    return send_ticket_email(tx, ticket, "desk_follow_up", auto_submitted=True, previous=previous)
