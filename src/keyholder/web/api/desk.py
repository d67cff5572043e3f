"""/api/desk: the support staff's queue and tickets (S29: staff with MFA only).

Every route needs a signed-in actor (401) and the service refuses anyone
but staff with MFA (403), before looking at any ticket.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status
from starlette.concurrency import run_in_threadpool

from keyholder.desk import canned, queue, service
from keyholder.desk.models import TicketKind, TicketStatus
from keyholder.desk.queue import QueueFilter, QueueSort, QueueState
from keyholder.desk.schemas import (
    BulkStatusOut,
    CannedReplyOut,
    RenderedReply,
    StaffMessageOut,
    StaffTicketOut,
    StaffTicketSummary,
    staff_message_out,
    staff_summaries_json,
    staff_ticket_out,
)
from keyholder.web.api.desk_schemas import (
    BulkStatusIn,
    CannedReplyIn,
    MessageIn,
    ReplyIn,
    TicketUpdate,
)
from keyholder.web.api.links import attachment_url
from keyholder.web.api.message_input import body_schema, read_message
from keyholder.web.deps import CurrentActor, ReadUoW, UoW
from keyholder.web.inputs import RowNumber

router = APIRouter(prefix="/desk", tags=["desk"])


# Returns its JSON ready made (see ``staff_summaries_json``): FastAPI passes a
# Response through without validating it, and documents ``response_model``.
@router.get("/tickets", response_model=list[StaffTicketSummary])
async def list_tickets(
    *,
    uow: ReadUoW,
    actor: CurrentActor,
    state: QueueState = QueueState.OPEN,
    status: Annotated[list[TicketStatus] | None, Query()] = None,
    assignee: Annotated[
        str | None, Query(max_length=320, description="email, 'me' or 'none'")
    ] = None,
    group: Annotated[str | None, Query(max_length=64)] = None,
    account: Annotated[str | None, Query(max_length=64)] = None,
    kind: TicketKind | None = None,
    sort: QueueSort = QueueSort.NEWEST,
    limit: Annotated[int, Query(ge=1, le=queue.MAX_PAGE)] = 50,
    after: Annotated[RowNumber | None, Query(description="next page: the last number seen")] = None,
) -> Response:
    """The queue: newest open tickets first by default; filters combine."""
    wanted = QueueFilter(
        state=state,
        statuses=frozenset(status or ()),
        assignee=assignee,
        group=group,
        account=account,
        kind=kind,
        sort=sort,
        limit=limit,
        after=after,
    )
    now = uow.clock.now()
    rows = queue.list_queue_rows(uow, wanted, actor=actor)
    return Response(staff_summaries_json(rows, now), media_type="application/json")


@router.get("/counts", response_model=dict[TicketStatus, int])
async def count_open(uow: ReadUoW, actor: CurrentActor) -> dict[TicketStatus, int]:
    """How many open tickets are in each open status."""
    return queue.count_open_by_status(uow, actor=actor)


@router.post("/tickets/bulk-status", response_model=BulkStatusOut)
def bulk_status(body: BulkStatusIn, uow: UoW, actor: CurrentActor) -> BulkStatusOut:
    """Move several tickets to one status; if any of them cannot move, none does (409)."""
    tickets = service.bulk_change_status(uow, body.numbers, body.status, actor=actor)
    return BulkStatusOut(updated=[t.id for t in tickets])


@router.get("/tickets/{number}", response_model=StaffTicketOut)
def get_ticket(number: RowNumber, uow: ReadUoW, actor: CurrentActor) -> StaffTicketOut:
    """The ticket with its whole thread, internal notes included."""
    thread = service.get_ticket(uow, number, actor=actor, staff_view=True)
    return staff_ticket_out(thread, uow.clock.now(), attachment_url=attachment_url)


@router.patch("/tickets/{number}", response_model=StaffTicketOut)
def update_ticket(
    number: RowNumber, body: TicketUpdate, uow: UoW, read: ReadUoW, actor: CurrentActor
) -> StaffTicketOut:
    """Change status, priority, group, assignee (email; null unassigns) or account."""
    sent = body.model_fields_set
    service.update_ticket(
        uow,
        number,
        actor=actor,
        status=body.status,
        priority=body.priority,
        group=body.group,
        assignee_email=body.assignee if "assignee" in sent else service.UNSET,
        account_name=body.account if "account" in sent else service.UNSET,
    )
    thread = service.get_ticket(read, number, actor=actor, staff_view=True)
    return staff_ticket_out(thread, read.clock.now(), attachment_url=attachment_url)


@router.post(
    "/tickets/{number}/replies",
    response_model=StaffMessageOut,
    status_code=status.HTTP_201_CREATED,
    openapi_extra=body_schema(ReplyIn),
)
async def reply(
    number: RowNumber, request: Request, uow: UoW, actor: CurrentActor
) -> StaffMessageOut:
    """A public reply: shown to the requester and emailed to them, threaded.

    JSON, or multipart/form-data with ``files`` attached (PDF, PNG, JPEG, text)."""
    body, files = await read_message(request, ReplyIn)
    message = await run_in_threadpool(
        service.reply_to_ticket,
        uow,
        number,
        body=body.body,
        status=body.status,
        actor=actor,
        attachments=files,
    )
    return staff_message_out(number, message, attachment_url=attachment_url)


@router.post(
    "/tickets/{number}/notes",
    response_model=StaffMessageOut,
    status_code=status.HTTP_201_CREATED,
    openapi_extra=body_schema(MessageIn),
)
async def add_note(
    number: RowNumber, request: Request, uow: UoW, actor: CurrentActor
) -> StaffMessageOut:
    """An internal note: staff only, never emailed, never shown to the customer.

    JSON, or multipart/form-data with ``files`` attached."""
    body, files = await read_message(request, MessageIn)
    message = await run_in_threadpool(
        service.add_internal_note, uow, number, body=body.body, actor=actor, attachments=files
    )
    return staff_message_out(number, message, attachment_url=attachment_url)


@router.get("/tickets/{number}/canned-replies/{name}", response_model=RenderedReply)
def render_canned_reply(
    number: RowNumber, name: str, uow: ReadUoW, actor: CurrentActor
) -> RenderedReply:
    """A canned reply with its placeholders filled in for this ticket, ready to edit and send."""
    return RenderedReply(name=name, body=canned.render_canned_reply(uow, number, name, actor=actor))


@router.get("/canned-replies", response_model=list[CannedReplyOut])
def list_canned_replies(uow: ReadUoW, actor: CurrentActor) -> list[CannedReplyOut]:
    return [
        CannedReplyOut(name=r.name, body=r.body, updated_at=r.updated_at)
        for r in canned.list_canned_replies(uow, actor=actor)
    ]


@router.post("/canned-replies", response_model=CannedReplyOut, status_code=status.HTTP_201_CREATED)
def create_canned_reply(body: CannedReplyIn, uow: UoW, actor: CurrentActor) -> CannedReplyOut:
    """Placeholders: {ticket_number} {subject} {requester_name} {requester_email}
    {account_name} {agent_name}."""
    saved = canned.save_canned_reply(uow, body.name, body.body, actor=actor, create=True)
    return CannedReplyOut(name=saved.name, body=saved.body, updated_at=saved.updated_at)


@router.put("/canned-replies/{name}", response_model=CannedReplyOut)
def replace_canned_reply(
    name: str, body: MessageIn, uow: UoW, actor: CurrentActor
) -> CannedReplyOut:
    saved = canned.save_canned_reply(uow, name, body.body, actor=actor, create=False)
    return CannedReplyOut(name=saved.name, body=saved.body, updated_at=saved.updated_at)


@router.delete("/canned-replies/{name}", status_code=status.HTTP_204_NO_CONTENT)
def delete_canned_reply(name: str, uow: UoW, actor: CurrentActor) -> Response:
    canned.delete_canned_reply(uow, name, actor=actor)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
