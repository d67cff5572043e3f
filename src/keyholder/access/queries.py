"""Reading requests, and what the lifecycle looks up about an account.

Listing and opening requests is for staff only (the requester follows the
ticket instead). The look-ups below them (the account a typed name means, its
admins, its other open request) run inside the caller's transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from keyholder.access import states
from keyholder.access.models import AccessRequest, Approval
from keyholder.access.states import RequestState
from keyholder.accounts.models import EnterpriseAccount, Membership
from keyholder.accounts.permissions import ADMIN_PERMISSION
from keyholder.accounts.service import normalize_account_name
from keyholder.audit.actions import AuditAction
from keyholder.audit.service import record_event
from keyholder.audit.targets import request_target
from keyholder.db.tx import Tx
from keyholder.db.uow import UnitOfWork
from keyholder.desk.blobs import load_blob
from keyholder.desk.models import Attachment
from keyholder.desk.policy import require_staff
from keyholder.errors import InvalidInput, NotFound
from keyholder.identity.actor import Actor
from keyholder.identity.models import User


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
                Attachment.purged_at.is_(None),
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
            action=AuditAction.ACCESS_REQUEST_VIEW_ANNOTATED_LETTER,
            target=request_target(request.id),
        )
        uow.commit()
        return data


def find_account(tx: Tx, typed: str) -> EnterpriseAccount | None:
    """The account a typed name means: its name, or else its display name (any case)."""
    try:
        by_name = select(EnterpriseAccount).where(
            EnterpriseAccount.name == normalize_account_name(typed)
        )
        account = tx.session.scalars(by_name).one_or_none()
    except InvalidInput:
        account = None
    if account is None:
        matches = tx.session.scalars(select(EnterpriseAccount)).all()
        found = [a for a in matches if a.display_name.casefold() == typed.casefold()]
        account = found[0] if len(found) == 1 else None
    return account


def all_admins(tx: Tx, account: EnterpriseAccount) -> list[User]:
    memberships = tx.session.scalars(
        select(Membership).where(Membership.account_id == account.id)
    ).all()
    return [m.user for m in memberships if ADMIN_PERMISSION in m.permissions]


def active_admins(tx: Tx, account: EnterpriseAccount, *, now: datetime) -> list[User]:
    """Admins who can act: an active user who signed in within the window (S21)."""
    since = now - tx.settings.access_admin_active_window
    return [
        u
        for u in all_admins(tx, account)
        if u.is_active and u.last_login_at is not None and u.last_login_at >= since
    ]


def open_request_for(tx: Tx, account_id: uuid.UUID, *, besides: uuid.UUID) -> AccessRequest | None:
    return tx.session.scalars(
        select(AccessRequest).where(
            AccessRequest.account_id == account_id,
            AccessRequest.state.in_(sorted(states.OPEN_STATES)),
            AccessRequest.id != besides,
        )
    ).first()
