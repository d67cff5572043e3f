"""Moving one request through its lifecycle (``states``): lock it, move it, end it.

Every use case that changes a request (the requester's confirmation, the
reviewers' decisions, the checks, the worker's grant) goes through here, so
the rules that hold on every move (the legal transitions, the independent
proof before the cooling-off and the grant, the audit row) cannot be skipped.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select

from keyholder.access import notices, proofs, states
from keyholder.access.models import AccessRequest
from keyholder.access.queries import active_admins
from keyholder.access.states import RequestState, RequestVia
from keyholder.accounts.models import EnterpriseAccount
from keyholder.audit.actions import AuditAction
from keyholder.audit.service import record_event
from keyholder.audit.targets import request_target
from keyholder.db.tx import Tx
from keyholder.desk.models import Ticket, TicketStatus
from keyholder.desk.thread import change_status
from keyholder.errors import NotFound
from keyholder.identity.actor import Actor
from keyholder.identity.models import User


def lock_request(tx: Tx, request_id: uuid.UUID) -> AccessRequest:
    request = tx.session.scalars(
        select(AccessRequest).where(AccessRequest.id == request_id).with_for_update()
    ).one_or_none()
    if request is None:
        raise NotFound("no such access request")
    return request


def move(tx: Tx, request: AccessRequest, target: RequestState, *, actor: Actor) -> None:
    """Change the request's state if the lifecycle allows it (409 otherwise); audited.

    The cooling-off and the grant also need a proof from outside the request
    (S23b): checked here, on the move itself, so that no path can skip it.
    """
    before = request.state
    # ``via`` is unset on a request not flushed yet: only letter requests are built so.
    states.check_move(before, target, via=request.via or RequestVia.LETTER)
    if target in proofs.GATED_STATES:
        proofs.require_independent_proof(request, to=f"A request becoming {target}")
    request.state = target
    request.updated_at = tx.clock.now()
    if target in states.FINAL_STATES:
        request.decided_at = request.updated_at  # retention counts from here
    record_event(
        tx,
        actor=actor,
        action=AuditAction.ACCESS_REQUEST_STATE,
        target=request_target(request.id),
        before={"state": before.value},
        after={"state": target.value},
    )


def finish(
    tx: Tx,
    request: AccessRequest,
    target: RequestState,
    *,
    actor: Actor,
    outcome: str,
    notify: bool = True,
) -> None:
    """End the request (rejected, cancelled, routed), solve its ticket and tell the requester.

    ``outcome`` is for staff; the requester hears the same "closed" whatever it
    says (S31a).
    """
    move(tx, request, target, actor=actor)
    request.outcome = outcome
    ticket = notices.ticket_of(tx, request)
    if notify:
        notices.closed_to_requester(tx, ticket)
    if ticket.status is not TicketStatus.CLOSED:
        change_status(tx, ticket, TicketStatus.SOLVED, actor=actor, reason=outcome)


def ask_active_admins(
    tx: Tx,
    ticket: Ticket,
    request: AccessRequest,
    account: EnterpriseAccount,
    *,
    now: datetime,
) -> list[User]:
    """S21: an admin of the account who can act is asked instead; returns who was asked.

    Asked when the requester confirms and again when the grant is due: an admin
    may have become reachable during the review. An empty list asked nobody.
    """
    active = active_admins(tx, account, now=now)
    if active:
        notices.routed_to_admins(tx, ticket, request, account, [u.email for u in active])
    return active
