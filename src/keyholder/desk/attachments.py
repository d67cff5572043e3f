"""Files on ticket messages (SECURITY.md S32-S34). Interface; the implementation is pending."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from keyholder.db.uow import UnitOfWork
from keyholder.desk.models import Attachment, Ticket, TicketMessage


@dataclass(frozen=True, slots=True)
class NewAttachment:
    """An uploaded or received file, already read within the size limit."""

    filename: str
    data: bytes


def attach_files(
    uow: UnitOfWork, ticket: Ticket, message: TicketMessage, files: Sequence[NewAttachment]
) -> list[Attachment]:
    """Check, store and attach ``files`` to ``message``; raises 413/415 for bad files."""
    if files:
        raise NotImplementedError(uow, ticket, message)
    return []
