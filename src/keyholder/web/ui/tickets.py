"""A customer's own tickets: the list, writing to support, a thread, and replying with files.

The same use cases as ``/api/tickets`` (S30: someone else's ticket is a 404
page). A thread shows public messages only, whoever reads it: staff read
tickets on the desk, where internal notes are marked as such.
"""

from __future__ import annotations

from contextlib import AbstractContextManager

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from keyholder.access.progress import RequestProgress, customer_ticket, progress_for
from keyholder.accounts import service as accounts
from keyholder.db.uow import UnitOfWork
from keyholder.desk import customer
from keyholder.desk.models import MessageChannel
from keyholder.desk.service import TicketThread
from keyholder.errors import InvalidInput, KeyholderError, NotFound
from keyholder.identity.actor import Actor
from keyholder.web.api.desk_schemas import MAX_MESSAGE
from keyholder.web.deps import ReadUoW, UoW
from keyholder.web.inputs import RowNumber
from keyholder.web.ui.csrf import CsrfRefused
from keyholder.web.ui.forms import (
    FormError,
    SignedIn,
    checked_upload,
    form_errors,
    runtime_of,
    uow_for,
    upload_field,
)
from keyholder.web.ui.rendering import PageRoute, redirect, render
from keyholder.web.ui.threads import MessageView, human_size, message_views

router = APIRouter(prefix="/tickets", route_class=PageRoute, include_in_schema=False)

PAGE = 50
NOTICES = {
    "opened": "Your ticket is open. We answer here and by email.",
    "replied": "Your reply is sent.",
    "follow-up": "That ticket was closed, so your reply opened this new ticket, linked to it.",
    "confirmed": "Thank you: your request is confirmed. This page shows how it goes, "
    "and we write to you by email at each step.",
}


def _max_size(request: Request) -> str:
    return human_size(runtime_of(request).settings.attachment_max_bytes)


@router.get("")
def my_tickets(
    request: Request,
    actor: SignedIn,
    uow: ReadUoW,
    before: RowNumber | None = None,
) -> Response:
    found = customer.list_my_tickets(uow, actor=actor, limit=PAGE, before=before)
    context = {
        "title": "Your tickets",
        "tickets": found,
        "before": before,
        "next_before": found[-1].id if len(found) == PAGE else None,
    }
    return render(request, "tickets.html", context)


def _new_page(
    request: Request,
    uow: UnitOfWork,
    actor: Actor,
    values: dict[str, str],
    *,
    error: str = "",
    status: int = 200,
) -> Response:
    context = {
        "title": "Write to support",
        "accounts": accounts.list_accounts(uow, actor=actor),
        "subject": values.get("subject", ""),
        "account": values.get("account", ""),
        "body": values.get("body", ""),
        "max_size": _max_size(request),
        "error": error,
    }
    return render(request, "ticket_new.html", context, status_code=status)


@router.get("/new")
def new_ticket_page(request: Request, actor: SignedIn, uow: ReadUoW) -> Response:
    return _new_page(request, uow, actor, {})


def message_text(body: str) -> str:
    if not body.strip():
        raise InvalidInput("Write a message first.")
    if len(body) > MAX_MESSAGE:
        raise InvalidInput(f"A message can hold at most {MAX_MESSAGE} characters.")
    return body


@router.post("/new")
async def open_ticket(request: Request, actor: SignedIn, uow: UoW) -> Response:
    with _refused_new(request, actor, {}):  # too large, malformed: what was typed is lost
        form = await checked_upload(request)
    values = {
        "subject": upload_field(form, "subject", 300),
        "account": upload_field(form, "account", 64),
        "body": upload_field(form, "body", MAX_MESSAGE + 1),
    }
    with _refused_new(request, actor, values):
        if not values["subject"].strip():
            raise InvalidInput("Give your ticket a subject.")
        opened = await run_in_threadpool(
            customer.open_ticket,
            uow,
            subject=values["subject"].strip(),
            body=message_text(values["body"]),
            account_name=values["account"] or None,
            actor=actor,
            channel=MessageChannel.WEB,
            attachments=form.files,
        )
    return redirect(f"/tickets/{opened.ticket.id}?done=opened")


def _refused_new(
    request: Request, actor: Actor, values: dict[str, str]
) -> AbstractContextManager[None]:
    def show(refusal: FormError) -> Response:
        read = uow_for(request, read_only=True)
        return _new_page(request, read, actor, values, error=refusal.detail, status=refusal.status)

    # A CSRF refusal is the error page (S19), as everywhere.
    return form_errors(show, as_error_page=(CsrfRefused,))


def _ticket_page(
    request: Request,
    uow: UnitOfWork,
    number: int,
    actor: Actor,
    *,
    body: str = "",
    error: str = "",
    notice: str = "",
    status: int = 200,
) -> Response:
    # The customer's view. Staff get every message from the service, so message_views
    # keeps the public ones only (the desk shows the rest).
    page = customer_ticket(uow, number, actor=actor)
    thread = page.thread
    ticket = thread.ticket
    context = {
        **thread_context(
            request, thread, messages=message_views(ticket.id, thread.messages, for_staff=False)
        ),
        "by_link": False,
        "ticket_url": lambda n: f"/tickets/{n}",
        "reply_url": f"/tickets/{ticket.id}/replies",
        "progress": page.progress,
        "progress_url": f"/tickets/{ticket.id}/progress",
        "body": body,
        "error": error,
        "notice": notice,
    }
    return render(request, "ticket.html", context, status_code=status)


def thread_context(
    request: Request, thread: TicketThread, *, messages: list[MessageView]
) -> dict[str, object]:
    """What ticket.html shows of a thread, whichever way its reader came."""
    ticket = thread.ticket
    return {
        "title": f"#{ticket.id} {ticket.subject}",
        "ticket": ticket,
        "account_name": thread.account_name,
        "follow_ups": thread.follow_ups,
        "messages": messages,
        "max_size": _max_size(request),
    }


def progress_section(request: Request, progress: RequestProgress | None, url: str) -> Response:
    """The access request's progress alone, for progress.js to swap in."""
    if progress is None:
        raise NotFound("this ticket is not a request for admin access")
    return render(request, "_request_progress.html", {"progress": progress, "progress_url": url})


@router.get("/{number}")
def ticket_page(
    request: Request, number: RowNumber, actor: SignedIn, uow: ReadUoW, done: str = ""
) -> Response:
    return _ticket_page(request, uow, number, actor, notice=NOTICES.get(done, ""))


@router.get("/{number}/progress")
def progress_page(request: Request, number: RowNumber, actor: SignedIn, uow: ReadUoW) -> Response:
    progress = progress_for(uow, number, actor=actor)
    return progress_section(request, progress, f"/tickets/{number}/progress")


def _refused(
    request: Request,
    number: int,
    actor: Actor,
    *,
    as_error_page: tuple[type[KeyholderError], ...] = (CsrfRefused,),
    body: str = "",
) -> AbstractContextManager[None]:
    """The ticket page again with the service's message and what was typed."""

    def show(refusal: FormError) -> Response:
        read = uow_for(request, read_only=True)
        return _ticket_page(
            request, read, number, actor, body=body, error=refusal.detail, status=refusal.status
        )

    return form_errors(show, as_error_page=as_error_page)


@router.post("/{number}/replies")
async def reply(request: Request, number: RowNumber, actor: SignedIn, uow: UoW) -> Response:
    with _refused(request, number, actor):  # too large, malformed: what was typed is lost
        form = await checked_upload(request)
    body = upload_field(form, "body", MAX_MESSAGE + 1)
    # Not theirs, or no such ticket: the 404 page (S30).
    with _refused(request, number, actor, as_error_page=(NotFound,), body=body):
        landed = await run_in_threadpool(
            customer.reply_as_customer,
            uow,
            number,
            body=message_text(body),
            actor=actor,
            channel=MessageChannel.WEB,
            attachments=form.files,
        )
    done = "follow-up" if landed.follow_up_of is not None else "replied"
    return redirect(f"/tickets/{landed.ticket.id}?done={done}#message-{landed.message.id}")
