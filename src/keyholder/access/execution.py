"""Granting admin access once the cooling-off has passed (a worker job).

Idempotent and safe with several workers: each due request is locked
(``FOR UPDATE`` on PostgreSQL; SQLite serialises writers) and re-checked inside
the transaction that grants, so a second worker, or a second run, finds it no
longer waiting and moves on: a request is executed once whatever runs twice.
S21 again: an admin who became reachable gets the request instead.
S26: one membership (or invitation) with ``manage``, nothing else.
A claim by recovery code (``access.recovery_claims``) is executed the same
way, without the two approvals (it had no review: its code is its proof, S23b)
and only while its claimant's address is still on a verified domain; everyone
on record is told of its grant.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import func, select

from keyholder.access import notices, proofs
from keyholder.access.evidence import executives_on_record
from keyholder.access.lifecycle import ask_active_admins, finish, lock_request, move
from keyholder.access.models import AccessRequest, Approval
from keyholder.access.states import RequestState, RequestVia
from keyholder.accounts.grants import grant_membership
from keyholder.accounts.invitations import invite
from keyholder.accounts.models import EnterpriseAccount
from keyholder.accounts.permissions import ADMIN_PERMISSION, parse_permissions
from keyholder.accounts.recovery_codes import claimant_on_verified_domain, people_on_record
from keyholder.accounts.staff_addresses import is_staff_address
from keyholder.audit.actions import AuditAction
from keyholder.audit.service import record_event
from keyholder.audit.targets import request_target
from keyholder.db.tx import Tx
from keyholder.db.uow import UnitOfWork, UnitOfWorkFactory
from keyholder.desk.models import TicketStatus
from keyholder.desk.thread import change_status
from keyholder.errors import Conflict
from keyholder.identity.actor import Actor
from keyholder.identity.service import find_user

EXECUTOR = Actor(label="worker:access-requests")


def due_request_ids(uow: UnitOfWork, *, limit: int = 20) -> Sequence[uuid.UUID]:
    """Requests whose cooling-off has ended, oldest first."""
    with uow:
        return uow.session.scalars(
            select(AccessRequest.id)
            .where(
                AccessRequest.state == RequestState.COOLING_OFF,
                AccessRequest.cooling_off_until <= uow.clock.now(),
            )
            .order_by(AccessRequest.cooling_off_until)
            .limit(limit)
        ).all()


def execute_request(
    uow: UnitOfWork, request_id: uuid.UUID, *, actor: Actor = EXECUTOR
) -> RequestState:
    """Grant (or route, S21) one request whose cooling-off is over; 409 before then (S25)."""
    with uow:
        request = lock_request(uow, request_id)
        if request.state is not RequestState.COOLING_OFF:
            raise Conflict(f"this request is {request.state}, not waiting to be executed")
        now = uow.clock.now()
        assert request.cooling_off_until is not None
        if now < request.cooling_off_until:
            raise Conflict(
                f"the cooling-off lasts until {request.cooling_off_until:%Y-%m-%d %H:%M} UTC; "
                "nothing can be granted before (S25)"
            )
        approvers = uow.session.scalar(
            select(func.count(func.distinct(Approval.reviewer_id))).where(
                Approval.request_id == request.id
            )
        )
        claim = request.via is RequestVia.RECOVERY_CODE
        if (
            (not claim and (approvers or 0) < 2)
            or request.executive_denied_at is not None
            or is_staff_address(uow, request.email_to_add)
            or proofs.lookalike_items(request.evidence)
        ):
            finish(uow, request, RequestState.REJECTED, actor=actor, outcome="checks changed")
            uow.commit()
            return request.state
        if not proofs.independent_proofs(request).held:  # S23b again, as the worker grants
            outcome = "no proof from outside the request holds any more (S23b)"
            finish(uow, request, RequestState.REJECTED, actor=actor, outcome=outcome)
            uow.commit()
            return request.state
        account = uow.session.get(EnterpriseAccount, request.account_id, with_for_update=True)
        if account is None:
            finish(uow, request, RequestState.REJECTED, actor=actor, outcome="account is gone")
            uow.commit()
            return request.state
        if claim and not claimant_on_verified_domain(account, request.email_to_add):
            outcome = "the claimant's address is no longer on a verified domain of the account"
            finish(uow, request, RequestState.REJECTED, actor=actor, outcome=outcome)
            uow.commit()
            return request.state
        ticket = notices.ticket_of(uow, request)
        told_on_record = people_on_record(uow, account)  # before the grant: the admins until now
        if ask_active_admins(uow, ticket, request, account, now=now):
            finish(
                uow,
                request,
                RequestState.ROUTED,
                actor=actor,
                outcome="an admin of the account can act now; we asked them instead (S21)",
            )
            uow.commit()
            return request.state
        grant = _grant(uow, account, request.email_to_add, actor=actor)
        request.executed_at = now
        move(uow, request, RequestState.EXECUTED, actor=actor)
        request.outcome = f"granted: {grant}"
        record_event(
            uow,
            actor=actor,
            action=AuditAction.ACCESS_REQUEST_EXECUTE,
            target=request_target(request.id),
            after={"account": account.name, "email": request.email_to_add, "grant": grant},
        )
        if claim:
            notices.claim_granted(uow, ticket, request, account, on_record=told_on_record)
        else:
            notices.granted(
                uow,
                ticket,
                request,
                to=[request.requester_email, *_executives(uow, request, account)],
            )
        change_status(uow, ticket, TicketStatus.SOLVED, actor=actor, reason="access granted")
        uow.commit()
        return request.state


def _grant(tx: Tx, account: EnterpriseAccount, email: str, *, actor: Actor) -> str:
    """``manage`` for ``email``: a membership if the user exists, else an invitation (S26)."""
    admin = parse_permissions([ADMIN_PERMISSION])
    user = find_user(tx, email)
    if user is None:
        invite(tx, account, email, admin, actor=actor, mfa_required=True)
        return "invitation"
    grant_membership(tx, account, user, admin, actor=actor, mfa_required=True)
    return "membership"


def _executives(tx: Tx, request: AccessRequest, account: EnterpriseAccount) -> list[str]:
    """The executive who authorised it, as on record (never an address only the form gave,
    nor a contact still unconfirmed or within its waiting period, S22)."""
    on_record = executives_on_record(
        account, now=tx.clock.now(), min_age=tx.settings.access_contact_min_age
    )
    executives = [c.email for c in on_record]
    if request.executive_email in executives:
        return [request.executive_email]
    return executives


def execute_due(uows: UnitOfWorkFactory, *, limit: int = 20) -> int:
    """Run every due request once; returns how many were handled. For the worker loop."""
    handled = 0
    for request_id in due_request_ids(uows(), limit=limit):
        try:
            execute_request(uows(), request_id)
        except Conflict:
            continue  # another worker got there first
        handled += 1
    return handled
