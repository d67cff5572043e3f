"""The requester's ticket page behind the link in desk emails: ``/t/{number}/{mac}``.

No sign-in: the link is the credential (``desk.links``), like the reply
address in the same email. The page shows what the signed-in ticket page
shows (the public thread, a reply form with files) and, for a request for
admin access, how far it has got, updated as soon as the letter is read.
"""

from __future__ import annotations

import uuid
from contextlib import AbstractContextManager

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from keyholder.access.progress import linked_ticket, progress_by_link
from keyholder.db.uow import UnitOfWork
from keyholder.desk import by_link
from keyholder.desk.links import ticket_path
from keyholder.errors import KeyholderError
from keyholder.web.api.attachments import download_response
from keyholder.web.api.desk_schemas import MAX_MESSAGE
from keyholder.web.deps import ReadUoW, UoW
from keyholder.web.inputs import RowNumber
from keyholder.web.ui.csrf import CsrfRefused
from keyholder.web.ui.forms import (
    FormError,
    checked_upload,
    form_errors,
    link_errors,
    runtime_of,
    uow_for,
    upload_field,
)
from keyholder.web.ui.rendering import TokenPageRoute, redirect, render
from keyholder.web.ui.threads import message_views
from keyholder.web.ui.tickets import NOTICES, message_text, progress_section, thread_context

router = APIRouter(prefix="/t", route_class=TokenPageRoute, include_in_schema=False)


def _page(
    request: Request,
    uow: UnitOfWork,
    number: int,
    mac: str,
    *,
    body: str = "",
    error: str = "",
    notice: str = "",
    status: int = 200,
) -> Response:
    settings = runtime_of(request).settings
    with link_errors(request):
        page = linked_ticket(uow, number, mac)
    thread = page.thread
    email = thread.ticket.requester_email
    here = f"/t/{number}/{mac}"
    context = {
        **thread_context(
            request,
            thread,
            messages=message_views(
                number, thread.messages, for_staff=False, files_url=f"{here}/attachments"
            ),
        ),
        "by_link": True,
        "ticket_url": lambda n: ticket_path(settings, n, email),
        "reply_url": f"{here}/replies",
        "progress": page.progress,
        "progress_url": f"{here}/progress",
        "body": body,
        "error": error,
        "notice": notice,
    }
    return render(request, "ticket.html", context, status_code=status)


@router.get("/{number}/{mac}")
def ticket_page(
    request: Request, number: RowNumber, mac: str, uow: ReadUoW, done: str = ""
) -> Response:
    return _page(request, uow, number, mac, notice=NOTICES.get(done, ""))


@router.get("/{number}/{mac}/progress")
def progress(request: Request, number: RowNumber, mac: str, uow: ReadUoW) -> Response:
    found = progress_by_link(uow, number, mac)
    return progress_section(request, found, f"/t/{number}/{mac}/progress")


@router.get("/{number}/{mac}/attachments/{attachment_id}")
def attachment(number: RowNumber, mac: str, attachment_id: uuid.UUID, uow: UoW) -> Response:
    found, data = by_link.download_by_link(uow, number, mac, attachment_id)
    return download_response(found, data)


def _refused(
    request: Request,
    number: int,
    mac: str,
    *,
    as_error_page: tuple[type[KeyholderError], ...] = (),
    body: str = "",
) -> AbstractContextManager[None]:
    """The ticket page again with the service's message and what was typed."""

    def show(refusal: FormError) -> Response:
        read = uow_for(request, read_only=True)
        return _page(
            request, read, number, mac, body=body, error=refusal.detail, status=refusal.status
        )

    return form_errors(show, as_error_page=as_error_page)


@router.post("/{number}/{mac}/replies")
async def reply(request: Request, number: RowNumber, mac: str, uow: UoW) -> Response:
    # Too large, malformed: the page comes back without what was typed (it is lost with it).
    with _refused(request, number, mac, as_error_page=(CsrfRefused,)):
        form = await checked_upload(request)
    body = upload_field(form, "body", MAX_MESSAGE + 1)
    with _refused(request, number, mac, body=body):
        landed = await run_in_threadpool(
            by_link.reply_by_link,
            uow,
            number,
            mac,
            body=message_text(body),
            attachments=form.files,
        )
    done = "follow-up" if landed.follow_up_of is not None else "replied"
    ticket = landed.ticket
    url = ticket_path(runtime_of(request).settings, ticket.id, ticket.requester_email)
    return redirect(f"{url}?done={done}#message-{landed.message.id}")
