"""What the desk's pages show, each read in one transaction.

The queue showed its rows and its counts, and a ticket its thread and the
canned replies (and, when one was chosen, that reply filled in), from a use
case each, a transaction each. Here each page is one query function with the
same rules: staff only (S29), a ticket as ``readable_ticket`` allows it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from keyholder.db.uow import UnitOfWork
from keyholder.desk.canned import filled_reply
from keyholder.desk.models import CannedReply, TicketStatus
from keyholder.desk.policy import readable_ticket, require_staff
from keyholder.desk.queue import QueueFilter, QueueRow, check_filter, open_counts, queue_rows
from keyholder.desk.service import TicketThread, thread_of
from keyholder.errors import NotFound
from keyholder.identity.actor import Actor


@dataclass(frozen=True, slots=True)
class DeskTicket:
    """A ticket on the desk: every message, the canned replies, the chosen one filled in."""

    thread: TicketThread
    canned_replies: Sequence[CannedReply]
    reply: str = ""  # the chosen canned reply, filled in for this ticket
    reply_error: str = ""  # why the chosen one could not be filled in (no such reply)


def desk_ticket(uow: UnitOfWork, number: int, *, actor: Actor, canned: str = "") -> DeskTicket:
    """Ticket ``number`` for staff (403 for anyone else, 404 when there is no such ticket),
    with the canned reply named ``canned``, if any, filled in."""
    require_staff(actor)
    with uow:
        ticket = readable_ticket(uow, number, actor=actor)
        replies = uow.session.scalars(select(CannedReply).order_by(CannedReply.name)).all()
        reply, error = "", ""
        if canned:
            try:
                reply = filled_reply(uow, canned, ticket, actor=actor)
            except NotFound as exc:
                error = exc.detail
        return DeskTicket(
            thread=thread_of(uow, ticket, staff=True),
            canned_replies=replies,
            reply=reply,
            reply_error=error,
        )


@dataclass(frozen=True, slots=True)
class DeskQueue:
    """A page of the queue, and how many open tickets are in each open status."""

    rows: Sequence[QueueRow]
    open_counts: dict[TicketStatus, int]
    now: datetime  # for "due in…" and "overdue"


def desk_queue(uow: UnitOfWork, wanted: QueueFilter, *, actor: Actor) -> DeskQueue:
    """The queue as ``queue.list_queue`` and ``queue.count_open_by_status`` give it."""
    check_filter(wanted, actor)
    with uow:
        return DeskQueue(
            rows=queue_rows(uow, wanted, actor=actor),
            open_counts=open_counts(uow.session),
            now=uow.clock.now(),
        )
