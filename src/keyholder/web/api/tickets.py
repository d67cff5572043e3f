"""/api/tickets: a customer's own support tickets (S30: others' tickets are 404)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, status
from starlette.concurrency import run_in_threadpool

from keyholder.desk import customer, service
from keyholder.desk.schemas import (
    CustomerMessageOut,
    CustomerTicketOut,
    CustomerTicketSummary,
    customer_message_out,
    customer_summary,
    customer_ticket_out,
)
from keyholder.web.api.desk_schemas import MessageIn, TicketOpen
from keyholder.web.api.links import attachment_url
from keyholder.web.api.message_input import body_schema, read_message
from keyholder.web.deps import CurrentActor, ReadUoW, UoW
from keyholder.web.inputs import RowNumber

router = APIRouter(prefix="/tickets", tags=["tickets"])


@router.get("", response_model=list[CustomerTicketSummary])
def list_my_tickets(
    uow: ReadUoW,
    actor: CurrentActor,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    before: Annotated[
        RowNumber | None, Query(description="next page: the last number seen")
    ] = None,
) -> list[CustomerTicketSummary]:
    """The tickets you asked for, newest first."""
    tickets = customer.list_my_tickets(uow, actor=actor, limit=limit, before=before)
    return [customer_summary(t) for t in tickets]


@router.post(
    "",
    response_model=CustomerTicketOut,
    status_code=status.HTTP_201_CREATED,
    openapi_extra=body_schema(TicketOpen),
)
async def open_ticket(
    request: Request, uow: UoW, read: ReadUoW, actor: CurrentActor
) -> CustomerTicketOut:
    """Ask support something; ``account`` names one of your enterprise accounts.

    JSON, or multipart/form-data with ``files`` attached (PDF, PNG, JPEG, text)."""
    body, files = await read_message(request, TicketOpen)
    opened = await run_in_threadpool(
        customer.open_ticket,
        uow,
        subject=body.subject,
        body=body.body,
        account_name=body.account,
        actor=actor,
        attachments=files,
    )
    thread = await run_in_threadpool(service.get_ticket, read, opened.ticket.id, actor=actor)
    return customer_ticket_out(thread, attachment_url=attachment_url)


@router.get("/{number}", response_model=CustomerTicketOut)
def get_my_ticket(number: RowNumber, uow: ReadUoW, actor: CurrentActor) -> CustomerTicketOut:
    """One of your tickets and its public thread."""
    thread = service.get_ticket(uow, number, actor=actor)
    return customer_ticket_out(thread, attachment_url=attachment_url)


@router.post(
    "/{number}/replies",
    response_model=CustomerMessageOut,
    status_code=status.HTTP_201_CREATED,
    openapi_extra=body_schema(MessageIn),
)
async def reply(
    number: RowNumber, request: Request, uow: UoW, actor: CurrentActor
) -> CustomerMessageOut:
    """Reply on your ticket. A solved ticket reopens; a closed one gets a linked follow-up,
    whose number the reply's ``ticket`` gives. JSON, or a form with ``files``."""
    body, files = await read_message(request, MessageIn)
    landed = await run_in_threadpool(
        customer.reply_as_customer, uow, number, body=body.body, actor=actor, attachments=files
    )
    return customer_message_out(landed.ticket.id, landed.message, attachment_url=attachment_url)
