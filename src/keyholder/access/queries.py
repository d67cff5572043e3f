"""Reading requests: for staff only (the requester follows the ticket instead)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select

from keyholder.access.models import AccessRequest, Approval
from keyholder.access.states import RequestState
from keyholder.db.uow import UnitOfWork
from keyholder.desk.policy import require_staff
from keyholder.errors import NotFound
from keyholder.identity.actor import Actor


@dataclass(frozen=True, slots=True)
class RequestDetail:
    request: AccessRequest
    approvals: Sequence[Approval]


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
        return RequestDetail(request, approvals)
