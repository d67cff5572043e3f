"""Desk use cases for customers: open a ticket, list mine, reply (S30).

A customer's reply reopens a solved or pending ticket; a reply to a closed
ticket opens a linked follow-up instead, since closed is final.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select

from keyholder.accounts.policy import readable_account
from keyholder.db.tx import Tx
from keyholder.db.uow import UnitOfWork
from keyholder.desk import hooks, notify
from keyholder.desk.attachments import NewAttachment, attach_files
from keyholder.desk.models import (
    MessageChannel,
    MessageVisibility,
    Ticket,
    TicketMessage,
    TicketStatus,
)
from keyholder.desk.policy import customer_owns, readable_ticket
from keyholder.desk.thread import Requester, add_message, change_status, create_ticket
from keyholder.errors import NotAuthenticated
from keyholder.identity.actor import Actor
from keyholder.identity.models import User

# A customer's words move a ticket waiting on them back to the agents.
REOPENED_BY_CUSTOMER = frozenset({TicketStatus.PENDING, TicketStatus.SOLVED})


@dataclass(frozen=True, slots=True)
class CustomerMessage:
    """Where a customer's message landed: the ticket (a follow-up if the old one was closed)."""

    ticket: Ticket
    message: TicketMessage
    follow_up_of: int | None = None


def _signed_in_user(tx: Tx, actor: Actor) -> User:
    user = tx.session.get(User, actor.user_id) if actor.user_id else None
    if user is None or not user.is_active:
        raise NotAuthenticated("sign in to write to support")
    return user


def open_ticket(
    uow: UnitOfWork,
    *,
    subject: str,
    body: str,
    actor: Actor,
    account_name: str | None = None,
    channel: MessageChannel = MessageChannel.API,
    attachments: Sequence[NewAttachment] = (),
) -> CustomerMessage:
    """Open a ticket as the signed-in user, optionally about one of their accounts."""
    with uow:
        user = _signed_in_user(uow, actor)
        account_id: uuid.UUID | None = None
        if account_name is not None:
            account_id = readable_account(uow, account_name, actor=actor).id  # 404 if not theirs
        ticket = create_ticket(
            uow,
            subject=subject,
            requester=Requester(email=user.email, name=user.name, user_id=user.id),
            account_id=account_id,
            actor=actor,
        )
        message = add_message(
            uow,
            ticket,
            body=body,
            visibility=MessageVisibility.PUBLIC,
            channel=channel,
            author_email=user.email,
            author_name=user.name,
            author_user_id=user.id,
        )
        attach_files(uow, ticket, message, attachments)
        notify.send_ticket_received(uow, ticket)
        uow.commit()
        return CustomerMessage(ticket, message)


def list_my_tickets(
    uow: UnitOfWork, *, actor: Actor, limit: int = 50, before: int | None = None
) -> Sequence[Ticket]:
    """The tickets this user asked for, newest first; ``before`` pages by ticket number."""
    with uow:
        query = (
            select(Ticket)
            .where(customer_owns(uow, actor))
            .order_by(Ticket.id.desc())
            .limit(max(1, min(limit, 100)))
        )
        if before is not None:
            query = query.where(Ticket.id < before)
        return uow.session.scalars(query).all()


def reply_as_customer(
    uow: UnitOfWork,
    number: int,
    *,
    body: str,
    actor: Actor,
    channel: MessageChannel = MessageChannel.API,
    attachments: Sequence[NewAttachment] = (),
) -> CustomerMessage:
    """Add the requester's reply to their ticket (404 if it is not theirs)."""
    with uow:
        user = _signed_in_user(uow, actor)
        ticket = readable_ticket(uow, number, actor=actor, lock=True)
        landed = record_customer_reply(
            uow,
            ticket,
            body=body,
            channel=channel,
            actor=actor,
            author=Requester(email=user.email, name=user.name, user_id=user.id),
        )
        attach_files(uow, landed.ticket, landed.message, attachments)
        uow.commit()
        return landed


def record_customer_reply(
    tx: Tx,
    ticket: Ticket,
    *,
    body: str,
    channel: MessageChannel,
    actor: Actor,
    author: Requester,
    message_id: str | None = None,
    raw_sha256: str | None = None,
) -> CustomerMessage:
    """Add a requester's reply: reopens solved/pending, or opens a follow-up of a closed ticket.

    Shared by the API and incoming email; the caller has checked that the
    author is the ticket's requester, and commits.
    """
    previous: int | None = None
    if ticket.status is TicketStatus.CLOSED:
        previous = ticket.id
        ticket = create_ticket(
            tx,
            subject=ticket.subject,
            requester=Requester(
                email=ticket.requester_email,
                name=ticket.requester_name,
                user_id=ticket.requester_user_id,
            ),
            kind=ticket.kind,
            priority=ticket.priority,
            group=ticket.group,
            account_id=ticket.account_id,
            follow_up_of=previous,
            actor=actor,
        )
    message = add_message(
        tx,
        ticket,
        body=body,
        visibility=MessageVisibility.PUBLIC,
        channel=channel,
        author_email=author.email,
        author_name=author.name,
        author_user_id=author.user_id,
        message_id=message_id,
        raw_sha256=raw_sha256,
    )
    if previous is not None:
        notify.send_follow_up_opened(tx, ticket, previous)
    elif ticket.status in REOPENED_BY_CUSTOMER:
        change_status(tx, ticket, TicketStatus.OPEN, actor=actor, reason="customer replied")
    if previous is None:
        hooks.requester_replied(tx, ticket)  # e.g. an access request back in review
    return CustomerMessage(ticket, message, previous)
