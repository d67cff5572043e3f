"""What a ticket and its messages look like from outside, to staff and to customers.

The ticket APIs answer with these models and the CLI's ``--json`` prints them.
Customers and staff get different models, not one model with fields blanked:
a field that is not in the customer's model cannot leak to a customer.

An attachment's ``url`` is an address of the API: whoever prints the model
passes ``attachment_url`` (``web.api.links``), so the desk builds no URLs.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel, Field
from pydantic_core import to_json

from keyholder.desk import sla
from keyholder.desk.models import (
    Attachment,
    MessageChannel,
    MessageVisibility,
    Ticket,
    TicketKind,
    TicketMessage,
    TicketPriority,
    TicketStatus,
)
from keyholder.desk.queue import PageRow, QueueRow
from keyholder.desk.quoting import split_quoted
from keyholder.desk.service import TicketThread

AttachmentUrl = Callable[[int, uuid.UUID], str]
"""Where an attachment is fetched, from the ticket's number and the attachment's id."""


class BulkStatusOut(BaseModel):
    updated: list[int]


class CannedReplyOut(BaseModel):
    name: str
    body: str
    updated_at: datetime


class RenderedReply(BaseModel):
    name: str
    body: str


class AttachmentOut(BaseModel):
    id: uuid.UUID
    filename: str
    content_type: str
    size: int
    url: str


class Person(BaseModel):
    email: str | None
    name: str
    staff: bool = False


class CustomerMessageOut(BaseModel):
    id: int
    ticket: int  # a reply to a closed ticket lands on its follow-up
    author: Person
    body: str  # whole, as written or received
    # ``body`` split for display: what is new, and the quoted history to collapse.
    body_new: str
    body_quoted: str
    created_at: datetime
    attachments: list[AttachmentOut]


class StaffMessageOut(CustomerMessageOut):
    visibility: MessageVisibility
    channel: MessageChannel
    needs_review: bool
    automated: bool


class CustomerTicketSummary(BaseModel):
    number: int
    subject: str
    status: TicketStatus
    created_at: datetime
    updated_at: datetime = Field(
        description="The last change the requester can see: a public message or a status "
        "change (internal notes and staff edits do not move it)."
    )


class CustomerTicketOut(CustomerTicketSummary):
    account: str | None
    follow_up_of: int | None
    follow_ups: list[int]
    messages: list[CustomerMessageOut]


class Sla(BaseModel):
    first_response_due_at: datetime
    first_responded_at: datetime | None
    resolution_due_at: datetime
    paused: bool
    first_response_breached: bool
    resolution_breached: bool


class StaffTicketSummary(BaseModel):
    number: int
    subject: str
    kind: TicketKind
    status: TicketStatus
    priority: TicketPriority
    group: str
    requester: Person
    account: str | None
    assignee: str | None
    created_at: datetime
    updated_at: datetime
    sla: Sla


class StaffTicketOut(StaffTicketSummary):
    follow_up_of: int | None
    follow_ups: list[int]
    messages: list[StaffMessageOut]


def _attachments(
    number: int, items: Sequence[Attachment], attachment_url: AttachmentUrl
) -> list[AttachmentOut]:
    return [
        AttachmentOut(
            id=a.id,
            filename=a.filename,
            content_type=a.content_type,
            size=a.size,
            url=attachment_url(number, a.id),
        )
        for a in items
    ]


def _author(message: TicketMessage, *, for_staff: bool) -> Person:
    # Customers see the agent's name, not their address.
    email = message.author_email if for_staff or not message.from_staff else None
    return Person(email=email, name=message.author_name, staff=message.from_staff)


def customer_message_out(
    number: int, message: TicketMessage, *, attachment_url: AttachmentUrl
) -> CustomerMessageOut:
    new, quoted = split_quoted(message.body)
    return CustomerMessageOut(
        id=message.id,
        ticket=number,
        author=_author(message, for_staff=False),
        body=message.body,
        body_new=new,
        body_quoted=quoted,
        created_at=message.created_at,
        attachments=_attachments(number, message.attachments, attachment_url),
    )


def staff_message_out(
    number: int, message: TicketMessage, *, attachment_url: AttachmentUrl
) -> StaffMessageOut:
    new, quoted = split_quoted(message.body)
    return StaffMessageOut(
        id=message.id,
        ticket=number,
        author=_author(message, for_staff=True),
        body=message.body,
        body_new=new,
        body_quoted=quoted,
        created_at=message.created_at,
        attachments=_attachments(number, message.attachments, attachment_url),
        visibility=message.visibility,
        channel=message.channel,
        needs_review=message.needs_review,
        automated=message.automated,
    )


def customer_summary(ticket: Ticket) -> CustomerTicketSummary:
    return CustomerTicketSummary(
        number=ticket.id,
        subject=ticket.subject,
        status=ticket.status,
        created_at=ticket.created_at,
        updated_at=ticket.customer_updated_at,  # not staff-side changes (S31a)
    )


def customer_ticket_out(
    thread: TicketThread, *, attachment_url: AttachmentUrl
) -> CustomerTicketOut:
    ticket = thread.ticket
    return CustomerTicketOut(
        **customer_summary(ticket).model_dump(),
        account=thread.account_name,
        follow_up_of=ticket.follow_up_of_id,
        follow_ups=list(thread.follow_ups),
        # Defence in depth: the service already left internal notes out.
        messages=[
            customer_message_out(ticket.id, m, attachment_url=attachment_url)
            for m in thread.messages
            if m.visibility is MessageVisibility.PUBLIC
        ],
    )


def _sla(ticket: Ticket, now: datetime) -> Sla:
    return Sla(
        first_response_due_at=ticket.first_response_due_at,
        first_responded_at=ticket.first_responded_at,
        resolution_due_at=ticket.resolution_due_at,
        paused=ticket.sla_paused_since is not None,
        first_response_breached=sla.first_response_breached(ticket, now),
        resolution_breached=sla.resolution_breached(ticket, now),
    )


def staff_summary(row: QueueRow, now: datetime) -> StaffTicketSummary:
    ticket = row.ticket
    return StaffTicketSummary(
        number=ticket.id,
        subject=ticket.subject,
        kind=ticket.kind,
        status=ticket.status,
        priority=ticket.priority,
        group=ticket.group,
        requester=Person(email=ticket.requester_email, name=ticket.requester_name),
        account=row.account_name,
        assignee=row.assignee_email,
        created_at=ticket.created_at,
        updated_at=ticket.updated_at,
        sla=_sla(ticket, now),
    )


@dataclass(slots=True)
class _SlaTimes:
    """What the SLA rules read of a ticket (``sla.SlaTimes``), taken from a queue row."""

    first_response_due_at: datetime
    first_responded_at: datetime | None
    resolution_due_at: datetime
    sla_paused_since: datetime | None
    is_open: bool
    solved_at: datetime | None
    closed_at: datetime | None


def staff_summaries_json(rows: Iterable[PageRow], now: datetime) -> bytes:
    """``list[StaffTicketSummary]`` as JSON, from ``queue.list_queue_rows``'s rows.

    The queue's page without a model per ticket, requester and SLA, and
    without FastAPI validating them again on the way out: most of the
    request's time went there. The dicts have the models' keys in the models'
    order, and pydantic-core writes their values (datetimes) as the models'
    serializer does, so the bytes are the same (tests/desk/test_queue_rows.py
    compares them). Rows are unpacked by position (``queue.ROW_FIELDS``):
    reading a row's fields by name costs more than building the dict.
    """
    page = []
    for (
        number,
        subject,
        kind,
        status,
        priority,
        group,
        requester_email,
        requester_name,
        is_open,
        created_at,
        updated_at,
        first_response_due_at,
        first_responded_at,
        resolution_due_at,
        sla_paused_since,
        solved_at,
        closed_at,
        account_name,
        assignee_email,
    ) in rows:
        times = _SlaTimes(
            first_response_due_at,
            first_responded_at,
            resolution_due_at,
            sla_paused_since,
            is_open,
            solved_at,
            closed_at,
        )
        page.append(
            {
                "number": number,
                "subject": subject,
                # Plain strings: pydantic-core writes an enum member several times slower.
                "kind": kind.value,
                "status": status.value,
                "priority": priority.value,
                "group": group,
                "requester": {"email": requester_email, "name": requester_name, "staff": False},
                "account": account_name,
                "assignee": assignee_email,
                "created_at": created_at,
                "updated_at": updated_at,
                "sla": {
                    "first_response_due_at": first_response_due_at,
                    "first_responded_at": first_responded_at,
                    "resolution_due_at": resolution_due_at,
                    "paused": sla_paused_since is not None,
                    "first_response_breached": sla.first_response_breached(times, now),
                    "resolution_breached": sla.resolution_breached(times, now),
                },
            }
        )
    return to_json(page)


def staff_ticket_out(
    thread: TicketThread, now: datetime, *, attachment_url: AttachmentUrl
) -> StaffTicketOut:
    ticket = thread.ticket
    summary = staff_summary(QueueRow(ticket, thread.account_name, thread.assignee_email), now)
    return StaffTicketOut(
        **summary.model_dump(),
        follow_up_of=ticket.follow_up_of_id,
        follow_ups=list(thread.follow_ups),
        messages=[
            staff_message_out(ticket.id, m, attachment_url=attachment_url) for m in thread.messages
        ],
    )
