"""Ticket threads as pages show them: what each message says now, its quoted history apart.

Shared by the customer's ticket page and the desk's. The customer's view is
built from public messages only, whatever it is handed (defence in depth: the
service already leaves internal notes out), and shows an agent's name, never
their address, as the API does.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from keyholder.desk.models import MessageVisibility, TicketMessage
from keyholder.desk.quoting import split_quoted


@dataclass(frozen=True, slots=True)
class AttachmentView:
    id: uuid.UUID
    filename: str
    content_type: str
    size: str
    url: str
    deleted_on: str | None = None  # deleted by retention: listed, no longer downloadable


@dataclass(frozen=True, slots=True)
class MessageView:
    id: int
    author: str
    from_staff: bool
    internal: bool
    created_at: datetime
    new: str
    quoted: str
    channel: str
    needs_review: bool
    attachments: Sequence[AttachmentView]


def human_size(size: int) -> str:
    if size < 1024:
        return f"{size} bytes"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / (1024 * 1024):.1f} MB"


def _author(message: TicketMessage, *, for_staff: bool) -> str:
    if message.from_staff and not for_staff:
        return message.author_name or "Support"
    if message.author_name:
        return f"{message.author_name} <{message.author_email}>"
    return message.author_email


def message_views(
    number: int,
    messages: Sequence[TicketMessage],
    *,
    for_staff: bool,
    files_url: str | None = None,
) -> list[MessageView]:
    """The thread of ticket ``number`` for a page; customers get public messages only.

    Attachments link under ``files_url`` (the API's download route by default).
    """
    files_url = files_url or f"/api/tickets/{number}/attachments"
    views = []
    for message in messages:
        internal = message.visibility is not MessageVisibility.PUBLIC
        if internal and not for_staff:
            continue
        new, quoted = split_quoted(message.body)
        views.append(
            MessageView(
                id=message.id,
                author=_author(message, for_staff=for_staff),
                from_staff=message.from_staff,
                internal=internal,
                created_at=message.created_at,
                new=new,
                quoted=quoted,
                channel=message.channel.value,
                needs_review=message.needs_review,
                attachments=[
                    AttachmentView(
                        id=a.id,
                        filename=a.filename,
                        content_type=a.content_type,
                        size=human_size(a.size),
                        url=f"{files_url}/{a.id}",
                        deleted_on=f"{a.purged_at:%Y-%m-%d}" if a.purged_at else None,
                    )
                    for a in message.attachments
                ],
            )
        )
    return views
