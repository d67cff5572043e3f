"""Request bodies of the desk and ticket APIs.

What they answer with is the desk's (``desk.schemas``): the CLI prints it too.
"""

from __future__ import annotations

from pydantic import Field

from keyholder.desk.models import TicketPriority, TicketStatus
from keyholder.web.api.schemas import Body
from keyholder.web.inputs import RowNumber

MAX_MESSAGE = 200_000


class MessageIn(Body):
    body: str = Field(min_length=1, max_length=MAX_MESSAGE)


class ReplyIn(MessageIn):
    status: TicketStatus | None = None


class TicketOpen(Body):
    subject: str = Field(min_length=1, max_length=300)
    body: str = Field(min_length=1, max_length=MAX_MESSAGE)
    account: str | None = Field(default=None, max_length=64)


class TicketUpdate(Body):
    """Only the fields sent change; ``assignee``/``account`` set to null clear them."""

    status: TicketStatus | None = None
    priority: TicketPriority | None = None
    group: str | None = Field(default=None, max_length=64)
    assignee: str | None = Field(default=None, max_length=320)
    account: str | None = Field(default=None, max_length=64)


class BulkStatusIn(Body):
    numbers: list[RowNumber] = Field(min_length=1, max_length=500)
    status: TicketStatus


class CannedReplyIn(Body):
    name: str = Field(min_length=1, max_length=100, pattern=r"^[a-z0-9][a-z0-9_-]*$")
    body: str = Field(min_length=1, max_length=20_000)
