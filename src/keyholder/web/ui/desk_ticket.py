"""A ticket on the desk: the whole thread, reply, internal note, canned replies, changes.

The same use cases as ``/api/desk/tickets/{n}``. Public replies and internal
notes are told apart in words and by their frame (not by colour alone). A
canned reply is inserted without JavaScript: the select is a GET form, and
the page comes back with the reply box filled in by ``render_canned_reply``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from keyholder.desk import canned, service
from keyholder.desk.models import TicketPriority, TicketStatus
from keyholder.errors import InvalidInput, KeyholderError, NotFound
from keyholder.identity.actor import Actor
from keyholder.web.api.desk_schemas import MAX_MESSAGE
from keyholder.web.deps import runtime_of, uow_for
from keyholder.web.inputs import RowNumber
from keyholder.web.ui.csrf import CsrfRefused
from keyholder.web.ui.forms import CheckedForm, DeskUser, checked_upload, field, upload_field
from keyholder.web.ui.rendering import PageRoute, redirect, render
from keyholder.web.ui.threads import human_size, message_views

router = APIRouter(prefix="/desk/tickets", route_class=PageRoute, include_in_schema=False)

NOTICES = {
    "replied": "Your reply is sent to the requester.",
    "noted": "Your internal note is saved. The customer does not see it.",
    "updated": "The ticket is updated.",
}


def _ticket_page(
    request: Request,
    number: int,
    actor: Actor,
    *,
    reply: str = "",
    note: str = "",
    chosen: str = "",
    error: str = "",
    notice: str = "",
    status: int = 200,
) -> Response:
    thread = service.get_ticket(
        uow_for(request, read_only=True), number, actor=actor, staff_view=True
    )
    ticket = thread.ticket
    replies = canned.list_canned_replies(uow_for(request, read_only=True), actor=actor)
    context = {
        "title": f"#{ticket.id} {ticket.subject}",
        "ticket": ticket,
        "thread": thread,
        "messages": message_views(ticket.id, thread.messages, for_staff=True),
        "canned_replies": replies,
        "chosen": chosen,
        "reply": reply,
        "note": note,
        "statuses": list(TicketStatus),
        "priorities": list(TicketPriority),
        "groups": runtime_of(request).settings.desk_groups,
        "max_size": human_size(runtime_of(request).settings.attachment_max_bytes),
        "error": error,
        "notice": notice,
    }
    return render(request, "desk_ticket.html", context, status_code=status)


@router.get("/{number}")
def ticket_page(
    request: Request,
    number: RowNumber,
    actor: DeskUser,
    canned_reply: Annotated[str, Query(alias="canned", max_length=100)] = "",
    done: str = "",
) -> Response:
    # ?canned=name: the reply box comes back filled with that reply, ready to edit.
    reply, error = "", ""
    if canned_reply:
        try:
            reply = canned.render_canned_reply(
                uow_for(request, read_only=True), number, canned_reply, actor=actor
            )
        except NotFound as exc:
            error = exc.detail  # no such reply; no such ticket is the page's own 404 below
    return _ticket_page(
        request,
        number,
        actor,
        reply=reply,
        chosen=canned_reply,
        error=error,
        notice=NOTICES.get(done, ""),
    )


def _text(body: str) -> str:
    if not body.strip():
        raise InvalidInput("write the message first")
    if len(body) > MAX_MESSAGE:
        raise InvalidInput(f"a message can hold at most {MAX_MESSAGE} characters")
    return body


async def _post_message(request: Request, number: int, actor: Actor, *, internal: bool) -> Response:
    box = "note" if internal else "reply"
    try:
        form = await checked_upload(request)
    except CsrfRefused:
        raise
    except KeyholderError as exc:
        return _ticket_page(request, number, actor, error=exc.detail, status=exc.status_code)
    body = upload_field(form, "body", MAX_MESSAGE + 1)
    try:
        if internal:
            await run_in_threadpool(
                service.add_internal_note,
                uow_for(request),
                number,
                body=_text(body),
                actor=actor,
                attachments=form.files,
            )
        else:
            wanted = upload_field(form, "status", 20)
            await run_in_threadpool(
                service.reply_to_ticket,
                uow_for(request),
                number,
                body=_text(body),
                actor=actor,
                status=TicketStatus(wanted) if wanted in set(TicketStatus) else None,
                attachments=form.files,
            )
    except KeyholderError as exc:
        if exc.status_code in {401, 403, 404}:
            raise
        return _ticket_page(
            request, number, actor, error=exc.detail, status=exc.status_code, **{box: body}
        )
    return redirect(f"/desk/tickets/{number}?done={'noted' if internal else 'replied'}")


@router.post("/{number}/replies")
async def reply(request: Request, number: RowNumber, actor: DeskUser) -> Response:
    return await _post_message(request, number, actor, internal=False)


@router.post("/{number}/notes")
async def add_note(request: Request, number: RowNumber, actor: DeskUser) -> Response:
    return await _post_message(request, number, actor, internal=True)


@router.post("/{number}")
def update(request: Request, number: RowNumber, actor: DeskUser, form: CheckedForm) -> Response:
    assignee = field(form, "assignee").strip()
    if assignee == "me":
        assignee = actor.email or ""
    account = field(form, "account").strip()
    try:
        status, priority = field(form, "status"), field(form, "priority")
        service.update_ticket(
            uow_for(request),
            number,
            actor=actor,
            status=TicketStatus(status) if status in set(TicketStatus) else None,
            priority=TicketPriority(priority) if priority in set(TicketPriority) else None,
            group=field(form, "group").strip() or None,
            assignee_email=assignee or None,
            account_name=account or None,
        )
    except KeyholderError as exc:
        if exc.status_code in {401, 403}:
            raise
        return _ticket_page(request, number, actor, error=exc.detail, status=exc.status_code)
    return redirect(f"/desk/tickets/{number}?done=updated")
