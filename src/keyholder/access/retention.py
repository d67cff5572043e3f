"""Retention: what is kept of a decided access request, and for how long (docs/data-protection.md).

``settings.access_request_retention`` (90 days by default) after a request's
decision, one job deletes what it no longer needs: the letter, every
attachment and raw email of its ticket, the pre-screen's annotated image and
report, and the bodies of the emails sent from the ticket. Each deleted file
leaves a tombstone with its SHA-256 and size, so the decision can still be
tied to a copy kept elsewhere. A refused request (rejected or vetoed) is
minimised too: what the requester typed about other people (the executive, the
reason, the contract) and the ticket's messages go; who asked, for which
account and which address, and the decision stay, so a repeated attempt is
recognised. A granted request keeps its six items: they are why someone
holds ``manage``. The audit log is not touched (its chain must verify).

Bytes shared with something that is kept (the same file on another ticket)
stay in the blob store; only this request's references go.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import exists, select

from keyholder.access.lifecycle import lock_request
from keyholder.access.models import AccessRequest, RetentionTombstone
from keyholder.access.states import FINAL_STATES, RequestState
from keyholder.audit.actions import AuditAction
from keyholder.audit.service import record_event
from keyholder.audit.targets import request_target
from keyholder.db.tx import Tx
from keyholder.db.uow import UnitOfWork, UnitOfWorkFactory
from keyholder.desk.blobs import delete_blob
from keyholder.desk.models import Attachment, MailReference, TicketMessage
from keyholder.errors import Conflict
from keyholder.identity.actor import Actor
from keyholder.mail.models import OutboxMessage, OutboxStatus

RETENTION = Actor(label="worker:retention")
REFUSED = frozenset({RequestState.REJECTED, RequestState.CANCELLED})
DELETED_NOTE = "[Deleted on {date} under the retention policy ({days} days after the decision).]"
DELETED_LETTER_NAME = "(deleted under the retention policy)"


@dataclass(frozen=True, slots=True)
class Purged:
    """What one purge deleted: files (tombstoned), email bodies and messages blanked."""

    request_id: uuid.UUID
    files: int
    email_bodies: int
    messages: int
    minimised: bool


def due_for_purge(uow: UnitOfWork, *, limit: int = 50) -> Sequence[uuid.UUID]:
    """Decided requests past their retention, not purged yet, oldest decision first."""
    with uow:
        cutoff = uow.clock.now() - uow.settings.access_request_retention
        return uow.session.scalars(
            select(AccessRequest.id)
            .where(
                AccessRequest.purged_at.is_(None),
                AccessRequest.decided_at.is_not(None),
                AccessRequest.decided_at <= cutoff,
            )
            .order_by(AccessRequest.decided_at)
            .limit(limit)
        ).all()


def purge_request(uow: UnitOfWork, request_id: uuid.UUID, *, actor: Actor = RETENTION) -> Purged:
    """Delete what retention says goes of one decided request; audited. 409 if it is not due."""
    with uow:
        request = lock_request(uow, request_id)  # a second worker waits, then sees it purged
        now = uow.clock.now()
        keep_for = uow.settings.access_request_retention
        if request.purged_at is not None:
            raise Conflict(f"this request was purged on {request.purged_at:%Y-%m-%d}")
        if request.state not in FINAL_STATES or request.decided_at is None:
            raise Conflict(f"this request is {request.state}: nothing is deleted before a decision")
        if request.decided_at > now - keep_for:
            raise Conflict(f"kept until {request.decided_at + keep_for:%Y-%m-%d %H:%M} UTC")
        note = DELETED_NOTE.format(date=f"{now:%Y-%m-%d}", days=keep_for.days)
        files = _delete_files(uow, request, now)
        email_bodies = _blank_sent_emails(uow, request.ticket_id, note)
        minimised = request.state in REFUSED
        messages = _minimise(uow, request, note) if minimised else 0
        request.prescreen = {"purged_at": now.isoformat()}  # OCR text and the annotated image
        request.purged_at = now
        record_event(
            uow,
            actor=actor,
            action=AuditAction.ACCESS_REQUEST_RETENTION_PURGE,
            target=request_target(request.id),
            after={
                "decided_at": request.decided_at.isoformat(),
                "files": files,
                "email_bodies": email_bodies,
                "messages": messages,
                "minimised": minimised,
            },
        )
        uow.commit()
        return Purged(request.id, files, email_bodies, messages, minimised)


def purge_due(uows: UnitOfWorkFactory, *, limit: int = 50) -> int:
    """Purge every request past its retention, one transaction each; for the worker loop."""
    purged = 0
    for request_id in due_for_purge(uows(), limit=limit):
        try:
            purge_request(uows(), request_id)
        except Conflict:
            continue  # another worker got there first
        purged += 1
    return purged


def _delete_files(tx: Tx, request: AccessRequest, now: datetime) -> int:
    """Tombstone and unreference every file of the request; delete bytes nothing else uses."""
    buried: list[RetentionTombstone] = []

    def bury(kind: str, label: str, sha256: str, size: int | None) -> None:
        buried.append(
            RetentionTombstone(
                request_id=request.id,
                ticket_id=request.ticket_id,
                kind=kind,
                label=label[:255],
                sha256=sha256,
                size=size,
                deleted_at=now,
            )
        )

    attachments = tx.session.scalars(
        select(Attachment).where(
            Attachment.ticket_id == request.ticket_id, Attachment.purged_at.is_(None)
        )
    ).all()
    for attachment in attachments:
        kind = "letter" if attachment.sha256 == request.letter_sha256 else "attachment"
        bury(kind, attachment.filename, attachment.sha256, attachment.size)
        attachment.purged_at = now
    raw_messages = tx.session.scalars(
        select(TicketMessage).where(
            TicketMessage.ticket_id == request.ticket_id, TicketMessage.raw_sha256.is_not(None)
        )
    ).all()
    for message in raw_messages:
        assert message.raw_sha256 is not None  # the query's condition
        bury("raw_email", f"message {message.id}", message.raw_sha256, None)
        message.raw_sha256 = None
    annotated = (request.prescreen or {}).get("annotated_png_sha256")
    if isinstance(annotated, str) and annotated:
        bury("annotated_letter", "the pre-screen's annotated page", annotated, None)
    if request.letter_sha256 and not any(t.kind == "letter" for t in buried):
        bury("letter", request.letter_filename, request.letter_sha256, None)
    if request.state in REFUSED:
        request.letter_filename = DELETED_LETTER_NAME
    tx.session.add_all(buried)
    tx.session.flush()  # the reference checks below must see this request's references gone
    for digest in {t.sha256 for t in buried}:
        if not _still_used(tx, digest, request):
            delete_blob(tx, digest)
    return len(buried)


def _still_used(tx: Tx, digest: str, request: AccessRequest) -> bool:
    """Whether something kept refers to these bytes (blobs are shared by hash, S34)."""
    references = [
        exists().where(Attachment.sha256 == digest, Attachment.purged_at.is_(None)),
        exists().where(TicketMessage.raw_sha256 == digest),
    ]
    if digest in (request.letter_sha256, _annotated(request)):
        # Another request kept with the same letter needs it, and its annotated page.
        references.append(
            exists().where(
                AccessRequest.id != request.id,
                AccessRequest.purged_at.is_(None),
                AccessRequest.letter_sha256 == request.letter_sha256,
            )
        )
    return any(tx.session.scalar(select(reference)) for reference in references)


def _annotated(request: AccessRequest) -> str | None:
    value = (request.prescreen or {}).get("annotated_png_sha256")
    return value if isinstance(value, str) else None


def _blank_sent_emails(tx: Tx, ticket_id: int, note: str) -> int:
    """Blank the bodies of the ticket's emails that are done with (pending ones are kept)."""
    rows = tx.session.scalars(
        select(OutboxMessage).where(
            OutboxMessage.message_id.in_(
                select(MailReference.message_id).where(
                    MailReference.ticket_id == ticket_id, MailReference.outgoing.is_(True)
                )
            ),
            OutboxMessage.status != OutboxStatus.PENDING,
        )
    ).all()
    blanked = 0
    for row in rows:
        if row.body != note or row.body_html is not None:
            row.body, row.body_html = note, None
            blanked += 1
    return blanked


def _minimise(tx: Tx, request: AccessRequest, note: str) -> int:
    """A refused request keeps who asked, for what, and the decision; the rest goes."""
    request.requester_name = ""
    request.reason = note
    request.contract_number = ""
    request.executive_name = ""
    request.executive_title = ""
    request.executive_email = ""
    request.client_address = None
    # The checks' outcomes stay; their explanations quote what the letter said.
    request.evidence = [
        {**item, "explanation": "(removed under the retention policy)"} for item in request.evidence
    ]
    messages = tx.session.scalars(
        select(TicketMessage).where(TicketMessage.ticket_id == request.ticket_id)
    ).all()
    for message in messages:
        message.body = note
    return len(messages)
