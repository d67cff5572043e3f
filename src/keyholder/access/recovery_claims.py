"""Claiming admin access with a break-glass recovery code of the account (issue 18).

When no admin of an account can act, a signed-in user whose verified address
is on one of the account's verified domains redeems one of the codes an
admin generated (``accounts.recovery_codes``). The claim is an
``AccessRequest`` with ``via = recovery_code``: it starts its cooling-off at
once (the one move only claims have, ``states.CLAIM_TRANSITIONS``), every
admin and contact on record is told and can veto with one link (S25), and the
worker grants it like any request (``access.execution``: S21 again, S26).
No letter and no support staff; a ticket carries its emails and shows staff
what happens, on hold, with nothing for them to do.

Refused, with nothing spent and nothing told:

- a claimant not signed in (401), or whose address is not verified (403);
- an address not on a verified domain of the account (403; the same answer
  for an account that does not exist, so the form is no way to list accounts);
- a staff address (S31, 403);
- an account with an admin who can act (S21's rule, ``active_admins``): 409
  telling the claimant to ask that admin;
- an account paused after a veto (S25), or with a request open (S28): 409;
- a wrong or used code: 422, the same words either way, audited.

Every attempt counts per claimant (``Scope.RECOVERY_CLAIM_USER``), and every
attempt by someone on a verified domain of the account per account
(``Scope.RECOVERY_CLAIM_ACCOUNT``), 429 past either limit, before any code is
looked at: codes cannot be guessed at speed, and strangers cannot use up the
account's allowance. The code is spent by one conditional UPDATE (S10): two claims with
the same code cannot both win.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import NoReturn

from sqlalchemy import select

from keyholder.access import evidence, notices
from keyholder.access.cooling_off_notice import who_was_told
from keyholder.access.decisions import veto_holders
from keyholder.access.dns_proof import new_dns_token
from keyholder.access.evidence import Check, Item, Status
from keyholder.access.intake import ACCESS_GROUP
from keyholder.access.lifecycle import move
from keyholder.access.models import AccessRequest, AccountFreeze
from keyholder.access.queries import active_admins, all_admins
from keyholder.access.states import OPEN_STATES, RequestState, RequestVia
from keyholder.accounts import repository
from keyholder.accounts.models import AccountRecoveryCode, EnterpriseAccount
from keyholder.accounts.recovery_codes import claimant_domain_verdict, spend_recovery_code
from keyholder.accounts.staff_addresses import is_staff_address
from keyholder.audit.actions import AuditAction
from keyholder.audit.service import record_event
from keyholder.audit.targets import account_target, request_target
from keyholder.db.tx import Tx
from keyholder.db.uow import UnitOfWork
from keyholder.desk.links import ticket_path
from keyholder.desk.models import (
    MessageChannel,
    MessageVisibility,
    Ticket,
    TicketKind,
    TicketStatus,
)
from keyholder.desk.notify import send_ticket_email
from keyholder.desk.thread import Requester, add_message, change_status, create_ticket
from keyholder.errors import (
    Conflict,
    InvalidInput,
    NotAuthenticated,
    PermissionDenied,
    TooManyRequests,
)
from keyholder.identity.actor import Actor
from keyholder.identity.models import User
from keyholder.identity.throttle import RateLimiter, Scope
from keyholder.when import iso_utc, long_utc

WRONG_CODE = "this is not a valid recovery code of the account (each code works once)"
OFF_DOMAIN = (
    "to redeem a recovery code of an account, sign in with a verified address on one of "
    "the account's verified domains"
)


@dataclass(frozen=True, slots=True)
class Claim:
    """A claim accepted: its request, ticket, and when the grant is due."""

    request_id: uuid.UUID
    ticket: int
    ticket_path: str  # the claimant's page for the claim's ticket (desk.links)
    cooling_off_until: datetime
    told: str  # who can stop it, as roles


def redeem_recovery_code(
    uow: UnitOfWork,
    account_name: str,
    code: str,
    *,
    actor: Actor,
    limiter: RateLimiter,
    client_address: str | None = None,
    reason: str = "",
) -> Claim:
    """Claim admin access to the account with one of its recovery codes; see the module doc."""
    if actor.user_id is None:
        raise NotAuthenticated("sign in to redeem a recovery code")
    if actor.is_staff:  # first: 403 for staff without MFA too (S18, S29)
        raise PermissionDenied("staff addresses are never made customer admins (S31)")
    _count(limiter, Scope.RECOVERY_CLAIM_USER, str(actor.user_id))
    reason = " ".join(reason.split())[:2000]
    with uow:
        user = uow.session.get(User, actor.user_id)
        if user is None or not user.is_active:
            raise NotAuthenticated("sign in to redeem a recovery code")
        if user.email_verified_at is None:
            raise PermissionDenied("verify your email address first, then redeem the code")
        # As typed (any case); a name that cannot be one reads as an account not theirs.
        name = account_name.strip().lower()
        account = repository.account_by_name(uow.session, name, for_update=True)
        verdict = claimant_domain_verdict(account, user.email) if account else None
        if account is None or verdict is None or verdict.status != "pass":
            raise PermissionDenied(OFF_DOMAIN)
        if is_staff_address(uow, user.email):
            raise PermissionDenied("staff addresses are never made customer admins (S31)")
        _count(limiter, Scope.RECOVERY_CLAIM_ACCOUNT, str(account.id))
        now = uow.clock.now()
        _refuse_if_someone_can_act(uow, account, now=now)
        spent = spend_recovery_code(uow, account, code, user_id=user.id)
        if spent is None:
            _record_wrong_code(uow, actor, account.name, user.email)
        claim = _open_claim(
            uow, account, user, spent, actor=actor, reason=reason, client_address=client_address
        )
        uow.commit()
        return claim


def _count(limiter: RateLimiter, scope: Scope, key: str) -> None:
    if not limiter.hit(scope, key):
        raise TooManyRequests(
            "too many recovery code attempts; wait a while and try again",
            retry_after=limiter.retry_after(scope, key) or 1,
        )


def _refuse_if_someone_can_act(tx: Tx, account: EnterpriseAccount, *, now: datetime) -> None:
    """S21: an admin who can act is asked, not overruled; S25 and S28 as for every request."""
    if active_admins(tx, account, now=now):
        raise Conflict(
            "an admin of this account signed in recently and can act: ask them to add you. "
            "Recovery codes are for when no admin can act; your code was not used"
        )
    freeze = tx.session.get(AccountFreeze, account.id)
    if freeze is not None and freeze.until > now:
        raise Conflict(
            "a recent claim or request for this account was stopped by someone on record; new "
            f"ones are paused until {freeze.until:%Y-%m-%d %H:%M} UTC. Your code was not used"
        )
    if tx.session.scalar(
        select(AccessRequest.id).where(
            AccessRequest.account_id == account.id,
            AccessRequest.state.in_(sorted(OPEN_STATES)),
        )
    ):
        raise Conflict("a recovery of this account is already under way; your code was not used")


def _record_wrong_code(tx: UnitOfWork, actor: Actor, account_name: str, email: str) -> NoReturn:
    """Audit the failure in a transaction of its own (nothing else is kept), then refuse."""
    tx.session.rollback()
    record_event(
        tx,
        actor=actor,
        action=AuditAction.ACCOUNT_RECOVERY_CODE_REFUSED,
        target=account_target(account_name),
        after={"claimant": email},
    )
    tx.commit()
    raise InvalidInput(WRONG_CODE)


def _open_claim(
    tx: Tx,
    account: EnterpriseAccount,
    user: User,
    spent: AccountRecoveryCode,
    *,
    actor: Actor,
    reason: str,
    client_address: str | None,
) -> Claim:
    now = tx.clock.now()
    generated_by = _generated_by(tx, spent)
    generated_at = f"{spent.created_at:%Y-%m-%d %H:%M}"
    ticket = _claim_ticket(
        tx, account, user, actor=actor, reason=reason, generated=(generated_by, generated_at)
    )
    request = _claim_request(
        ticket, account, user, reason=reason, client_address=client_address, now=now
    )
    tx.session.add(request)
    tx.session.flush()
    evidence.record(request, _claim_evidence(tx, account, user, generated_by, generated_at))
    record_event(
        tx,
        actor=actor,
        action=AuditAction.ACCESS_REQUEST_RECOVERY_CLAIM,
        target=request_target(request.id),
        after={
            "ticket": ticket.id,
            "account": account.name,
            "email_to_add": user.email,
            "recovery_code": str(spent.id),
        },
    )
    move(tx, request, RequestState.COOLING_OFF, actor=actor)
    request.cooling_off_until = now + tx.settings.recovery_claim_cooling_off
    holders = veto_holders(tx, account)
    for email, role in holders:
        notices.claim_veto_notice(
            tx,
            ticket,
            request,
            account,
            email=email,
            role=role,
            generated_by=generated_by,
            generated_at=generated_at,
        )
    told = who_was_told([role for _, role in holders])
    _tell_claimant(tx, ticket, request, account, told=told)
    change_status(tx, ticket, TicketStatus.ON_HOLD, actor=actor, reason="claim in its cooling-off")
    return Claim(
        request_id=request.id,
        ticket=ticket.id,
        ticket_path=ticket_path(tx.settings, ticket.id, user.email),
        cooling_off_until=request.cooling_off_until,
        told=told,
    )


def _claim_ticket(
    tx: Tx,
    account: EnterpriseAccount,
    user: User,
    *,
    actor: Actor,
    reason: str,
    generated: tuple[str, str],
) -> Ticket:
    """The claim's ticket, opened with what the claimant stated (``generated``: by whom, when)."""
    generated_by, generated_at = generated
    ticket = create_ticket(
        tx,
        subject=f"Admin access claim by recovery code for {account.name}",
        requester=Requester(email=user.email, name=user.name, user_id=user.id),
        kind=TicketKind.ADMIN_ACCESS,
        group=ACCESS_GROUP if ACCESS_GROUP in tx.settings.desk_groups else None,
        account_id=account.id,
        actor=actor,
    )
    add_message(
        tx,
        ticket,
        body=(
            "Claim of admin access by recovery code\n\n"
            f"Enterprise account: {account.name}\n"
            f"Email to add as admin: {user.email}\n"
            f"Recovery code generated by {generated_by} on {generated_at} UTC\n"
            + (f"\nWhy: {reason}\n" if reason else "")
        ),
        visibility=MessageVisibility.PUBLIC,
        channel=MessageChannel.API,
        author_email=user.email,
        author_name=user.name,
        author_user_id=user.id,
    )
    return ticket


def _claim_request(
    ticket: Ticket,
    account: EnterpriseAccount,
    user: User,
    *,
    reason: str,
    client_address: str | None,
    now: datetime,
) -> AccessRequest:
    return AccessRequest(
        id=uuid.uuid4(),
        ticket_id=ticket.id,
        account_id=account.id,
        state=RequestState.SUBMITTED,
        via=RequestVia.RECOVERY_CODE,
        account_name=account.name,
        requester_email=user.email,
        requester_name=user.name[:200],
        email_to_add=user.email,
        reason=reason or "claimed with a recovery code of the account",
        contract_number=account.contract_number,
        # No letter and no executive: a claim's proof is its code.
        executive_name="",
        executive_title="",
        executive_email="",
        letter_sha256="",
        letter_filename="",
        letter_content_type="",
        evidence=[],
        dns_token=new_dns_token(),
        requester_confirmed_at=user.email_verified_at,
        client_address=client_address,
        created_at=now,
        updated_at=now,
    )


def _generated_by(tx: Tx, spent: AccountRecoveryCode) -> str:
    admin = tx.session.get(User, spent.generated_by_id) if spent.generated_by_id else None
    return admin.email if admin is not None else "a former admin of the account"


def _claim_evidence(
    tx: Tx, account: EnterpriseAccount, user: User, generated_by: str, generated_at: str
) -> list[Item]:
    """What staff see on the claim's page: its proof, the claimant, the admins."""
    admins = all_admins(tx, account)
    seen = "; ".join(
        f"{a.email} (last sign-in "
        f"{f'{a.last_login_at:%Y-%m-%d} UTC' if a.last_login_at else 'never'}"
        f"{'' if a.is_active else ', deactivated'})"
        for a in admins
    )
    return [
        Item(
            Check.RECOVERY_CODE,
            Status.PASS,
            "recovery codes",
            f"an unused recovery code of the account, generated by {generated_by} on "
            f"{generated_at} UTC, was redeemed and is now used up",
        ),
        Item(
            Check.EMAIL_TO_ADD,
            Status.PASS,
            "claimant's verified address",
            claimant_domain_verdict(account, user.email).explanation,
        ),
        Item(
            Check.EXISTING_ADMINS,
            Status.PASS,
            "memberships and sign-ins",
            f"no admin can act: {seen}" if seen else "the account has no admin",
        ),
    ]


def _tell_claimant(
    tx: Tx, ticket: Ticket, request: AccessRequest, account: EnterpriseAccount, *, told: str
) -> None:
    assert request.cooling_off_until is not None
    send_ticket_email(
        tx,
        ticket,
        "access_claim_cooling_off",
        auto_submitted=True,
        email_to_add=request.email_to_add,
        account_display_name=account.display_name,
        changes_at=long_utc(request.cooling_off_until),
        changes_at_iso=iso_utc(request.cooling_off_until),
        told=told,
    )
