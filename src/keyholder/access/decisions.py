"""What people decide about a request: reviewers, the executive on record, vetoers.

Reviewers (staff with the reviewer or admin role, with MFA) ask for more
information, reject, or approve. Two approvals from two different reviewers,
neither of them the requester (S24), start the cooling-off: every admin and
contact on record is told and can veto with one link (S25). The second
approval is refused (409, not recorded) until a proof from outside the request
holds (S23b, ``access.proofs``); a request naming a look-alike of a verified
domain is never approved (S23a); other failing checks need a note.
"""

from __future__ import annotations

import uuid
from enum import StrEnum

from sqlalchemy import delete, func, select

from keyholder.access import cooling_off_notice, evidence, notices, proofs
from keyholder.access.evidence import Check, Item, Status
from keyholder.access.lifecycle import finish, lock_request, move
from keyholder.access.links import spend_link
from keyholder.access.models import AccessRequest, AccountFreeze, Approval, LinkPurpose
from keyholder.access.queries import all_admins
from keyholder.access.states import FINAL_STATES, RequestState
from keyholder.accounts.contacts import contacts_on_record
from keyholder.accounts.models import ContactKind, EnterpriseAccount
from keyholder.accounts.staff_addresses import is_staff_address
from keyholder.audit.actions import AuditAction
from keyholder.audit.service import record_event
from keyholder.audit.targets import request_target
from keyholder.db.tx import Tx
from keyholder.db.uow import UnitOfWork
from keyholder.desk import notify
from keyholder.desk.models import (
    MessageChannel,
    MessageVisibility,
    Ticket,
    TicketPriority,
    TicketStatus,
)
from keyholder.desk.thread import add_message, change_status
from keyholder.errors import Conflict, InvalidInput, PermissionDenied
from keyholder.identity.actor import Actor
from keyholder.identity.models import StaffRole, User

REVIEWER_ROLES = frozenset({StaffRole.REVIEWER, StaffRole.ADMIN})


class Decision(StrEnum):
    REQUEST_INFO = "request_info"
    REJECT = "reject"
    APPROVE = "approve"


_AUDITED = {
    Decision.REQUEST_INFO: AuditAction.ACCESS_REQUEST_REQUEST_INFO,
    Decision.REJECT: AuditAction.ACCESS_REQUEST_REJECT,
    Decision.APPROVE: AuditAction.ACCESS_REQUEST_APPROVE,
}


def require_reviewer(actor: Actor) -> None:
    if not actor.is_staff or actor.staff_role not in REVIEWER_ROLES:  # 403 without MFA too
        raise PermissionDenied("only reviewers decide on access requests")


def decide(
    uow: UnitOfWork,
    request_id: uuid.UUID,
    decision: Decision,
    *,
    actor: Actor,
    note: str = "",
) -> AccessRequest:
    """Apply one reviewer's decision; see the module docstring for the rules.

    A decision refused by a rule (403, 409: the requester approving their own
    request, the same reviewer twice, no proof from outside) is audited too, in
    a transaction of its own: attempts on the most dangerous act are evidence.
    """
    try:
        return _decide(uow, request_id, decision, actor=actor, note=note.strip())
    except (PermissionDenied, Conflict) as refused:
        _audit_refusal(uow, request_id, decision, actor=actor, reason=str(refused))
        raise


def _decide(
    uow: UnitOfWork, request_id: uuid.UUID, decision: Decision, *, actor: Actor, note: str
) -> AccessRequest:
    require_reviewer(actor)
    with uow:
        request = lock_request(uow, request_id)
        ticket = notices.ticket_of(uow, request)
        reviewer = _reviewer(uow, actor)
        if decision is Decision.REQUEST_INFO:
            if not note:
                raise InvalidInput("say what information is needed; it is sent to the requester")
            move(uow, request, RequestState.NEEDS_INFO, actor=actor)
            # Approvals were given on what was known then: new information needs new ones.
            uow.session.execute(delete(Approval).where(Approval.request_id == request.id))
            _public_reply(uow, ticket, note, reviewer)
            change_status(uow, ticket, TicketStatus.PENDING, actor=actor, reason="needs info")
        elif decision is Decision.REJECT:
            if not note:
                raise InvalidInput("give the reason for the rejection; it is sent to the requester")
            # The reviewer's words reach the requester as a message on the ticket; the
            # ending itself reads the same however the request ended (S31a).
            _public_reply(uow, ticket, note, reviewer)
            finish(uow, request, RequestState.REJECTED, actor=actor, outcome=note)
        else:
            _approve(uow, request, ticket, reviewer, actor=actor, note=note)
        record_event(
            uow,
            actor=actor,
            action=_AUDITED[decision],
            target=request_target(request.id),
            after={"note": note, "state": request.state.value},
        )
        uow.commit()
        return request


def _audit_refusal(
    uow: UnitOfWork, request_id: uuid.UUID, decision: Decision, *, actor: Actor, reason: str
) -> None:
    with uow:
        if uow.session.get(AccessRequest, request_id) is None:
            return  # no such request: nothing to attach the attempt to
        record_event(
            uow,
            actor=actor,
            action=AuditAction.ACCESS_REQUEST_DECISION_REFUSED,
            target=request_target(request_id),
            after={"decision": decision.value, "reason": reason},
        )
        uow.commit()


def _reviewer(tx: Tx, actor: Actor) -> User:
    user = tx.session.get(User, actor.user_id) if actor.user_id else None
    if user is None:
        raise PermissionDenied("decisions are made by a named reviewer (use --as on the CLI)")
    return user


def _public_reply(tx: Tx, ticket: Ticket, body: str, reviewer: User) -> None:
    message = add_message(
        tx,
        ticket,
        body=body,
        visibility=MessageVisibility.PUBLIC,
        channel=MessageChannel.API,
        author_email=reviewer.email,
        author_name=reviewer.name,
        author_user_id=reviewer.id,
        from_staff=True,
    )
    notify.send_public_reply(tx, ticket, message)


def _approve(
    tx: Tx,
    request: AccessRequest,
    ticket: Ticket,
    reviewer: User,
    *,
    actor: Actor,
    note: str,
) -> None:
    if request.state not in {RequestState.IN_REVIEW, RequestState.APPROVED_ONCE}:
        raise Conflict(f"a request that is {request.state} cannot be approved")
    if request.executive_denied_at is not None:
        raise Conflict("the executive on record denied this request; it can only be closed")
    if request.account_id is None:
        # Unknown account, paused after a veto, another request open, or an admin who
        # can act (S21, S25, S28): the evidence says which; only closing is left.
        raise Conflict("this request matches no account it could be granted on; see the checks")
    if reviewer.email in {request.requester_email, request.email_to_add}:
        raise PermissionDenied("you cannot approve a request you made or that names you (S24)")
    if is_staff_address(tx, request.email_to_add):
        raise PermissionDenied("staff addresses are never made customer admins (S31)")
    already = tx.session.scalar(
        select(Approval.id).where(
            Approval.request_id == request.id, Approval.reviewer_id == reviewer.id
        )
    )
    if already is not None:
        raise Conflict("you already approved this request; a different reviewer must (S24)")
    lookalikes = proofs.lookalike_items(request.evidence)
    if lookalikes:
        named = "; ".join(f"{i['check']}: {i['explanation']}" for i in lookalikes)
        raise Conflict(
            "this request names an address on a look-alike of a verified domain; it can "
            f"never be approved, note or not (S23a): {named}. Reject it."
        )
    failing = [i["check"] for i in request.evidence if i["status"] == Status.FAIL]
    if failing and not note:
        raise InvalidInput(
            f"checks failing: {', '.join(failing)}; approving anyway needs a note saying why"
        )
    if request.state is RequestState.APPROVED_ONCE:  # this approval would start the cooling-off
        proofs.require_independent_proof(
            request,
            to="The second approval, which starts the cooling-off,",
            then="Your approval was not recorded: approve again once a proof has passed.",
        )
    tx.session.add(
        Approval(
            request_id=request.id,
            reviewer_id=reviewer.id,
            reviewer_email=reviewer.email,
            note=note,
            created_at=tx.clock.now(),
        )
    )
    tx.session.flush()
    count = tx.session.scalar(
        select(func.count()).select_from(Approval).where(Approval.request_id == request.id)
    )
    if count == 1:
        move(tx, request, RequestState.APPROVED_ONCE, actor=actor)
        return
    move(tx, request, RequestState.COOLING_OFF, actor=actor)
    request.cooling_off_until = tx.clock.now() + tx.settings.cooling_off
    account = tx.session.get(EnterpriseAccount, request.account_id)
    assert account is not None  # approvable requests have an account
    holders = veto_holders(tx, account)
    for email, role in holders:
        notices.veto_notice(tx, ticket, request, account, email=email, role=role)
    cooling_off_notice.tell_requester(
        tx, ticket, request, account, told=[role for _, role in holders]
    )


def veto_holders(tx: Tx, account: EnterpriseAccount) -> list[tuple[str, str]]:
    """Every current admin, billing and security contact and executive on record (S25).

    Contacts only once they count for recovery (confirmed and past the waiting
    period, S22): a contact named yesterday cannot stop a grant.
    """
    holders: dict[str, str] = {}
    for user in all_admins(tx, account):
        holders.setdefault(user.email, cooling_off_notice.ADMIN_ROLE)
    roles = {
        ContactKind.EXECUTIVE: "the executive on record",
        ContactKind.SECURITY: "the security contact on record",
        ContactKind.BILLING: "the billing contact on record",
    }
    on_record = contacts_on_record(
        account, now=tx.clock.now(), min_age=tx.settings.access_contact_min_age
    )
    for contact in on_record:
        holders.setdefault(contact.email, roles[contact.kind])
    return sorted(holders.items())


def veto(uow: UnitOfWork, request_id: uuid.UUID, token: str) -> AccessRequest:
    """One click by an admin or contact on record: cancel, and freeze new requests (S25)."""
    with uow:
        request = lock_request(uow, request_id)
        link = spend_link(uow, request_id, LinkPurpose.VETO, token)
        actor = Actor(label=f"veto:{link.email}")
        finish(
            uow,
            request,
            RequestState.CANCELLED,
            actor=actor,
            outcome="someone on record for the account stopped it",
        )
        if request.account_id is not None:
            until = uow.clock.now() + uow.settings.access_freeze_after_veto
            freeze = uow.session.get(AccountFreeze, request.account_id)
            if freeze is None:
                uow.session.add(
                    AccountFreeze(account_id=request.account_id, until=until, request_id=request.id)
                )
            else:
                freeze.until, freeze.request_id = max(freeze.until, until), request.id
        ticket = notices.ticket_of(uow, request)
        _alert_staff(uow, ticket, f"VETOED by {link.email}: the request is cancelled.", actor)
        record_event(
            uow,
            actor=actor,
            action=AuditAction.ACCESS_REQUEST_VETO,
            target=request_target(request.id),
        )
        uow.commit()
        return request


def executive_response(
    uow: UnitOfWork, request_id: uuid.UUID, token: str, *, confirm: bool
) -> AccessRequest:
    """The executive on record confirms (evidence passes) or denies (approval becomes impossible).

    A denial alerts staff; it ends the request at once only in its cooling-off.
    """
    with uow:
        request = lock_request(uow, request_id)
        link = spend_link(uow, request_id, LinkPurpose.EXECUTIVE_CONFIRMATION, token)
        actor = Actor(label=f"executive:{link.email}")
        now = uow.clock.now()
        ticket = notices.ticket_of(uow, request)
        if confirm:
            if request.state not in {
                RequestState.IN_REVIEW,
                RequestState.NEEDS_INFO,
                RequestState.APPROVED_ONCE,
                RequestState.COOLING_OFF,
            }:
                raise Conflict(f"this request is {request.state}; nothing to confirm")
            request.executive_confirmed_at = now
            evidence.record(
                request,
                [
                    Item(
                        Check.EXECUTIVE_CONFIRMATION,
                        Status.PASS,
                        "confirmation link",
                        f"confirmed by {link.email}, the executive on record",
                    )
                ],
            )
        else:
            if request.state in FINAL_STATES:
                raise Conflict(f"this request is {request.state}; nothing to deny")
            request.executive_denied_at = now
            evidence.record(
                request,
                [
                    Item(
                        Check.EXECUTIVE_CONFIRMATION,
                        Status.FAIL,
                        "confirmation link",
                        f"DENIED by {link.email}, the executive on record",
                    )
                ],
            )
            ticket.priority = TicketPriority.URGENT
            _alert_staff(
                uow,
                ticket,
                f"DENIED by the executive on record ({link.email}): it can no longer be approved.",
                actor,
            )
            if request.state is RequestState.COOLING_OFF:
                # Approved, so its requester knows the account: stop the grant now.
                finish(
                    uow,
                    request,
                    RequestState.REJECTED,
                    actor=actor,
                    outcome="the executive on record did not authorise it",
                )
            # Before that the request stays with the reviewers, who close it: ending it
            # here would tell the requester that an executive is on record (S31a).
        record_event(
            uow,
            actor=actor,
            action=(
                AuditAction.ACCESS_REQUEST_EXECUTIVE_CONFIRM
                if confirm
                else AuditAction.ACCESS_REQUEST_EXECUTIVE_DENY
            ),
            target=request_target(request.id),
        )
        uow.commit()
        return request


def _alert_staff(tx: Tx, ticket: Ticket, text: str, actor: Actor) -> None:
    add_message(
        tx,
        ticket,
        body=text,
        visibility=MessageVisibility.INTERNAL,
        channel=MessageChannel.API,
        author_email=actor.label,
        needs_review=True,
    )


def on_requester_reply(tx: Tx, ticket: Ticket) -> None:
    """The requester answered on the ticket: a request waiting for information is reviewed again."""
    request = tx.session.scalars(
        select(AccessRequest)
        .where(
            AccessRequest.ticket_id == ticket.id,
            AccessRequest.state == RequestState.NEEDS_INFO,
        )
        .with_for_update()
    ).first()
    if request is not None:
        move(tx, request, RequestState.IN_REVIEW, actor=Actor(label="requester-replied"))


def open_decisions(state: RequestState) -> tuple[Decision, ...]:
    """The decisions a reviewer can still make on a request in ``state``, for the review page.

    ``decide`` refuses the others (409); offering them would only invite that.
    In the cooling-off only a rejection is left: the approvals are in.
    """
    if state in {RequestState.IN_REVIEW, RequestState.APPROVED_ONCE}:
        return (Decision.APPROVE, Decision.REQUEST_INFO, Decision.REJECT)
    if state in FINAL_STATES:
        return ()
    return (Decision.REJECT,)
