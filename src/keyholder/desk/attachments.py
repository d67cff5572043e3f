"""Files on ticket messages (SECURITY.md S32-S34).

Every file is checked by ``desk.sniff`` (type from the bytes, extension that
agrees, no active content, size and pixel limits), stored by its SHA-256 in the
configured blob store, and recorded with a cleaned display name. The name never
touches storage. All of it happens in the caller's unit of work: a refused
file raises, and the message it came with is not saved either.

Downloads go through ``download_attachment``: staff see every attachment; a
ticket's requester only those on public messages; everyone else gets 404.
Each view is audited.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select

from keyholder.audit.actions import AuditAction
from keyholder.audit.service import record_event
from keyholder.audit.targets import attachment_target
from keyholder.config import Settings
from keyholder.db.tx import Tx
from keyholder.db.uow import UnitOfWork
from keyholder.desk.blobs import load_blob, store_blob
from keyholder.desk.models import Attachment, MessageVisibility, Ticket, TicketMessage
from keyholder.desk.policy import readable_ticket
from keyholder.desk.sniff import CheckedFile, check_file
from keyholder.errors import Gone, InvalidInput, NotFound
from keyholder.identity.actor import Actor

MAX_ATTACHMENTS = 10  # per message


@dataclass(frozen=True, slots=True)
class NewAttachment:
    """An uploaded or received file, already read within the size limit."""

    filename: str
    data: bytes


def check_attachment(settings: Settings, file: NewAttachment) -> CheckedFile:
    """Whether we take ``file`` (413/415/422 if not), without storing anything.

    For callers that would rather skip a bad file than refuse the whole
    message (incoming email); ``attach_files`` checks every file itself.
    """
    return check_file(
        file.data,
        file.filename,
        max_bytes=settings.attachment_max_bytes,
        max_pixels=settings.attachment_max_pixels,
    )


def attach_files(
    tx: Tx, ticket: Ticket, message: TicketMessage, files: Sequence[NewAttachment]
) -> list[Attachment]:
    """Check, store and attach ``files`` to ``message``; raises 413/415 for bad files.

    Runs in the caller's transaction and does not commit. Every file is
    checked before any is stored, so a refusal stores nothing (a directory
    store could not take a file back).
    """
    if not files:
        return []
    if message.ticket_id != ticket.id:
        raise ValueError(f"message {message.id} is not on ticket #{ticket.id}")
    if len(files) > MAX_ATTACHMENTS:
        raise InvalidInput(f"a message can carry at most {MAX_ATTACHMENTS} attachments")
    checked = [check_attachment(tx.settings, file) for file in files]
    now = tx.clock.now()
    attachments = []
    for file, verdict in zip(files, checked, strict=True):
        attachment = Attachment(
            ticket_id=ticket.id,
            filename=verdict.filename,
            content_type=verdict.media_type.value,
            size=len(file.data),
            sha256=store_blob(tx, file.data),
            created_at=now,
        )
        message.attachments.append(attachment)  # sets message_id, and keeps it renderable
        attachments.append(attachment)
    tx.session.flush()
    return attachments


def download_attachment(
    uow: UnitOfWork, number: int, attachment_id: uuid.UUID, *, actor: Actor
) -> tuple[Attachment, bytes]:
    """An attachment of ticket ``number`` and its bytes, for those who may see it; audited.

    Staff (with MFA; 403 without) see all; the ticket's requester sees those on
    public messages; anyone else, and an attachment on an internal note asked
    for by a customer, gets 404 (S30). Every view writes ``attachment.view``.
    """
    with uow:
        readable_ticket(uow, number, actor=actor)
        found = read_attachment(uow, number, attachment_id, actor=actor, staff=actor.is_staff)
        uow.commit()
        return found


def read_attachment(
    tx: Tx, number: int, attachment_id: uuid.UUID, *, actor: Actor, staff: bool
) -> tuple[Attachment, bytes]:
    """The attachment and its bytes from a ticket the caller may read, audited; no commit.

    Those who are not ``staff`` see attachments on public messages only.
    """
    query = (
        select(Attachment)
        .join(TicketMessage, Attachment.message_id == TicketMessage.id)
        .where(Attachment.id == attachment_id, Attachment.ticket_id == number)
    )
    if not staff:
        query = query.where(TicketMessage.visibility == MessageVisibility.PUBLIC)
    attachment = tx.session.scalars(query).one_or_none()
    if attachment is None:
        raise NotFound(f"no attachment {attachment_id} on ticket #{number}")
    if attachment.purged_at is not None:
        raise Gone(
            f"{attachment.filename} was deleted on {attachment.purged_at:%Y-%m-%d} under the "
            f"retention policy; its SHA-256 was {attachment.sha256}"
        )
    data = load_blob(tx, attachment.sha256)
    record_event(
        tx,
        actor=actor,
        action=AuditAction.ATTACHMENT_VIEW,
        target=attachment_target(attachment.id),
        after={
            "ticket": number,
            "message": attachment.message_id,
            "filename": attachment.filename,
            "sha256": attachment.sha256,
        },
    )
    return attachment, data
