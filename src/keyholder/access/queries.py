"""Reading requests: for staff only (the requester follows the ticket instead)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select

from keyholder.access.models import AccessRequest, Approval
from keyholder.access.states import RequestState
from keyholder.audit.service import record_event
from keyholder.db.uow import UnitOfWork
from keyholder.desk.blobs import load_blob
from keyholder.desk.models import Attachment
from keyholder.desk.policy import require_staff
from keyholder.errors import NotFound
from keyholder.identity.actor import Actor


@dataclass(frozen=True, slots=True)
class RequestDetail:
    request: AccessRequest
    approvals: Sequence[Approval]
    letter_attachment_id: uuid.UUID | None = None


def list_requests(
    uow: UnitOfWork, *, actor: Actor, state: RequestState | None = None, limit: int = 50
) -> Sequence[AccessRequest]:
    """Newest first, optionally in one state."""
    require_staff(actor)
    query = select(AccessRequest).order_by(AccessRequest.created_at.desc()).limit(limit)
    if state is not None:
        query = query.where(AccessRequest.state == state)
    with uow:
        return uow.session.scalars(query).all()


def get_request(uow: UnitOfWork, request_id: uuid.UUID, *, actor: Actor) -> RequestDetail:
    require_staff(actor)
    with uow:
        request = uow.session.get(AccessRequest, request_id)
        if request is None:
            raise NotFound("no such access request")
        approvals = uow.session.scalars(
            select(Approval).where(Approval.request_id == request_id).order_by(Approval.created_at)
        ).all()
        letter = uow.session.scalar(
            select(Attachment.id)
            .where(
                Attachment.ticket_id == request.ticket_id,
                Attachment.sha256 == request.letter_sha256,
            )
            .limit(1)
        )
        return RequestDetail(request, approvals, letter)


def annotated_letter(uow: UnitOfWork, request_id: uuid.UUID, *, actor: Actor) -> bytes:
    """The pre-screen's annotated page image, for a reviewer; each view audited (S34)."""
    require_staff(actor)
    with uow:
        request = uow.session.get(AccessRequest, request_id)
        digest = (request.prescreen or {}).get("annotated_png_sha256") if request else None
        if request is None or not digest:
            raise NotFound("no annotated letter for this request (yet)")
        data = load_blob(uow, digest)
        record_event(
            uow,
            actor=actor,
            action="access_request.view_annotated_letter",
            target=f"access_request:{request.id}",
        )
        uow.commit()
        return data
