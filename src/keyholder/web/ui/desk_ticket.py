"""A ticket on the desk: the whole thread, reply, internal note, canned replies, changes.

The same use cases as ``/api/desk/tickets/{n}``. Public replies and internal
notes are told apart in words and by their frame (not by colour alone). A
canned reply is inserted without JavaScript: the select is a GET form, and
the page comes back with the reply box filled in. The page is read in one
transaction (``desk.overview.desk_ticket``).
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from keyholder.db.uow import UnitOfWork
from keyholder.desk import overview, service
from keyholder.desk.models import TicketPriority, TicketStatus
from keyholder.errors import (
    InvalidInput,
    KeyholderError,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
)
from keyholder.identity.actor import Actor
from keyholder.web.api.desk_schemas import MAX_MESSAGE
from keyholder.web.deps import ReadUoW, UoW
from keyholder.web.inputs import RowNumber
from keyholder.web.ui.forms import (
    CheckedForm,
    DeskUser,
    FormError,
    checked_upload,
    field,
    form_errors,
    runtime_of,
    uow_for,
    upload_field,
)
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
    uow: UnitOfWork,
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
    page = overview.desk_ticket(uow, number, actor=actor, canned=chosen)
    thread = page.thread
    ticket = thread.ticket
    settings = runtime_of(request).settings
    context = {
        "title": f"#{ticket.id} {ticket.subject}",
        "ticket": ticket,
        "thread": thread,
        "messages": message_views(ticket.id, thread.messages, for_staff=True),
        "canned_replies": page.canned_replies,
        "chosen": chosen,
        # ?canned=name: the reply box comes back filled with that reply, ready to edit.
        "reply": page.reply or reply,
        "note": note,
        "statuses": list(TicketStatus),
        "priorities": list(TicketPriority),
        "groups": settings.desk_groups,
        "max_size": human_size(settings.attachment_max_bytes),
        "error": error or page.reply_error,
        "notice": notice,
    }
    return render(request, "desk_ticket.html", context, status_code=status)


# Someone who may not see the ticket gets the error page, not the form again.
_NOT_THEIRS = (NotAuthenticated, PermissionDenied, NotFound)


def _refused(
    request: Request,
    number: int,
    actor: Actor,
    *,
    as_error_page: tuple[type[KeyholderError], ...] = _NOT_THEIRS,
    reply: str = "",
    note: str = "",
) -> AbstractContextManager[None]:
    """The ticket page again with the service's message and what was typed."""

    def show(refusal: FormError) -> Response:
        read = uow_for(request, read_only=True)
        return _ticket_page(
            request,
            read,
            number,
            actor,
            error=refusal.detail,
            status=refusal.status,
            reply=reply,
            note=note,
        )

    return form_errors(show, as_error_page=as_error_page)


@router.get("/{number}")
def ticket_page(
    request: Request,
    number: RowNumber,
    actor: DeskUser,
    uow: ReadUoW,
    *,
    canned_reply: Annotated[str, Query(alias="canned", max_length=100)] = "",
    done: str = "",
) -> Response:
    return _ticket_page(
        request, uow, number, actor, chosen=canned_reply, notice=NOTICES.get(done, "")
    )


def _text(body: str) -> str:
    if not body.strip():
        raise InvalidInput("write the message first")
    if len(body) > MAX_MESSAGE:
        raise InvalidInput(f"a message can hold at most {MAX_MESSAGE} characters")
    return body


async def _post_message(
    request: Request, uow: UnitOfWork, number: int, actor: Actor, *, internal: bool
) -> Response:
    # Too large, malformed: the page comes back without what was typed (it is lost with it).
    with _refused(request, number, actor):
        form = await checked_upload(request)
    body = upload_field(form, "body", MAX_MESSAGE + 1)
    with _refused(
        request, number, actor, note=body if internal else "", reply="" if internal else body
    ):
        if internal:
            await run_in_threadpool(
                service.add_internal_note,
                uow,
                number,
                body=_text(body),
                actor=actor,
                attachments=form.files,
            )
        else:
            wanted = upload_field(form, "status", 20)
            await run_in_threadpool(
                service.reply_to_ticket,
                uow,
                number,
                body=_text(body),
                actor=actor,
                status=TicketStatus(wanted) if wanted in set(TicketStatus) else None,
                attachments=form.files,
            )
    return redirect(f"/desk/tickets/{number}?done={'noted' if internal else 'replied'}")


@router.post("/{number}/replies")
async def reply(request: Request, number: RowNumber, actor: DeskUser, uow: UoW) -> Response:
    return await _post_message(request, uow, number, actor, internal=False)


@router.post("/{number}/notes")
async def add_note(request: Request, number: RowNumber, actor: DeskUser, uow: UoW) -> Response:
    return await _post_message(request, uow, number, actor, internal=True)


@router.post("/{number}")
def update(
    request: Request, number: RowNumber, actor: DeskUser, uow: UoW, form: CheckedForm
) -> Response:
    assignee = field(form, "assignee").strip()
    if assignee == "me":
        assignee = actor.email or ""
    account = field(form, "account").strip()
    # An unknown assignee or account is a 404 the form shows (the ticket itself is there).
    with _refused(request, number, actor, as_error_page=(NotAuthenticated, PermissionDenied)):
        status, priority = field(form, "status"), field(form, "priority")
        service.update_ticket(
            uow,
            number,
            actor=actor,
            status=TicketStatus(status) if status in set(TicketStatus) else None,
            priority=TicketPriority(priority) if priority in set(TicketPriority) else None,
            group=field(form, "group").strip() or None,
            assignee_email=assignee or None,
            account_name=account or None,
        )
    return redirect(f"/desk/tickets/{number}?done=updated")
