"""``/dev/mail``: the outbox as a mailbox, in development only (404 elsewhere).

A newcomer running the demo reads here the emails a flow sends, and follows
their links. Bodies are shown as text: the HTML alternative is shown escaped,
never rendered, and only http(s) addresses become links.
"""

from __future__ import annotations

import re

from fastapi import APIRouter, Request, Response

from keyholder.errors import NotFound
from keyholder.mail.models import OutboxMessage
from keyholder.mail.outbox import list_outbox
from keyholder.web.inputs import RowNumber
from keyholder.web.ui.forms import runtime_of, uow_for
from keyholder.web.ui.rendering import PageRoute, render

router = APIRouter(prefix="/dev/mail", route_class=PageRoute, include_in_schema=False)

SHOWN = 200
_URL = re.compile(r"(https?://[^\s<>\"')\]]+)")


def _development_only(request: Request) -> None:
    if not runtime_of(request).settings.is_development:
        raise NotFound("There is no page at this address.")


def text_parts(body: str) -> list[tuple[str, bool]]:
    """``body`` cut into (text, is_link) pieces; the template escapes each piece."""
    parts: list[tuple[str, bool]] = []
    for index, piece in enumerate(_URL.split(body)):
        if piece:
            parts.append((piece, index % 2 == 1))
    return parts


def _messages(request: Request) -> list[OutboxMessage]:
    return list(list_outbox(uow_for(request, read_only=True), limit=SHOWN))


@router.get("")
def mailbox(request: Request) -> Response:
    _development_only(request)
    context = {
        "title": "Development mailbox",
        "messages": _messages(request),
        "smtp": runtime_of(request).settings.smtp_url is not None,
    }
    return render(request, "dev_mail.html", context)


@router.get("/{message_id}")
def message(request: Request, message_id: RowNumber) -> Response:
    _development_only(request)
    found = next((m for m in _messages(request) if m.id == message_id), None)
    if found is None:
        raise NotFound(f"no email {message_id} among the newest {SHOWN}")
    context = {"title": found.subject, "message": found, "parts": text_parts(found.body)}
    return render(request, "dev_mail_message.html", context)
