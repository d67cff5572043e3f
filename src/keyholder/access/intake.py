"""Taking a request for admin access: the form and letter, then the requester's confirmation.

The answer to a submission is the same whatever the account name (it never
says whether an account exists, nor whether it has a request open): every
decision that depends on the account waits for the requester to confirm their
own email address. After that too the requester sees the same path whatever
the account (S31a): what the account's state means goes to the reviewers as
evidence and to the people on record as notices, never to the requester.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from keyholder.access import evidence, notices, overtaken, states
from keyholder.access.dns_proof import new_dns_token
from keyholder.access.evidence import Check, Item, Status
from keyholder.access.lifecycle import ask_active_admins, finish, lock_request, move
from keyholder.access.links import issue_link, spend_link
from keyholder.access.models import AccessRequest, AccountFreeze, LinkPurpose
from keyholder.access.queries import all_admins, find_account, open_request_for
from keyholder.access.states import RequestState
from keyholder.accounts.models import EnterpriseAccount
from keyholder.accounts.service import normalize_contract_number
from keyholder.accounts.staff_addresses import is_staff_address
from keyholder.audit.actions import AuditAction
from keyholder.audit.service import record_event
from keyholder.audit.targets import request_target
from keyholder.db.tx import Tx
from keyholder.db.uow import UnitOfWork
from keyholder.desk.attachments import NewAttachment, attach_files, check_attachment
from keyholder.desk.links import ticket_path
from keyholder.desk.models import (
    Attachment,
    MessageChannel,
    MessageVisibility,
    Ticket,
    TicketKind,
    TicketStatus,
)
from keyholder.desk.sniff import MediaType
from keyholder.desk.thread import Requester, add_message, change_status, create_ticket
from keyholder.errors import InvalidInput, TooManyRequests, UnsupportedMediaType
from keyholder.identity.actor import Actor
from keyholder.identity.emails import normalize_email
from keyholder.identity.models import User, UserSession
from keyholder.identity.throttle import RateLimiter, Scope

ACCESS_GROUP = "access-review"
LETTER_TYPES = frozenset({MediaType.PDF, MediaType.PNG, MediaType.JPEG})


@dataclass(frozen=True, slots=True)
class AccessRequestForm:
    """The six items of the letter as typed, and who asks."""

    account_name: str
    requester_email: str
    email_to_add: str
    reason: str
    contract_number: str
    executive_name: str
    executive_title: str
    executive_email: str
    requester_name: str = ""


def _system(label: str) -> Actor:
    return Actor(label=label)


def _clean(value: str, field: str, limit: int) -> str:
    text = " ".join(value.split())
    if not text:
        raise InvalidInput(f"{field} is required")
    if len(text) > limit:
        raise InvalidInput(f"{field} can hold at most {limit} characters")
    return text


def submit_access_request(
    uow: UnitOfWork,
    form: AccessRequestForm,
    letter: NewAttachment,
    *,
    client_address: str | None,
    limiter: RateLimiter,
) -> uuid.UUID:
    """Record the request with its letter and email the requester a confirmation link.

    Anyone may submit (the people who need this cannot sign in). Rate-limited
    per client address and per account name (S28). Nothing about the account
    is looked up here.
    """
    items = _checked_items(form)
    _throttle_submissions(limiter, client_address=client_address, account_name=items.account_name)
    checked = check_attachment(uow.settings, letter)  # 413/415 before anything is written
    if checked.media_type not in LETTER_TYPES:
        # Read by the requester: plain words, no requirement code (S32 is the test's).
        raise UnsupportedMediaType("the letter must be a PDF, PNG or JPEG file")
    with uow:
        actor = _system(f"requester:{items.requester_email}")
        ticket, stored = _open_request_ticket(uow, form, items, letter, actor=actor)
        now = uow.clock.now()
        request = AccessRequest(
            id=uuid.uuid4(),
            ticket_id=ticket.id,
            state=RequestState.SUBMITTED,
            account_name=items.account_name,
            requester_email=items.requester_email,
            requester_name=" ".join(form.requester_name.split())[:200],
            email_to_add=items.email_to_add,
            reason=items.reason,
            contract_number=items.contract_number,
            executive_name=_clean(form.executive_name, "the executive's name", 200),
            executive_title=_clean(form.executive_title, "the executive's title", 200),
            executive_email=items.executive_email,
            letter_sha256=stored.sha256,
            letter_filename=stored.filename,
            letter_content_type=stored.content_type,
            evidence=[],
            dns_token=new_dns_token(),
            client_address=client_address,
            created_at=now,
            updated_at=now,
        )
        uow.session.add(request)
        token = issue_link(
            uow, request.id, LinkPurpose.REQUESTER_CONFIRMATION, items.requester_email
        )
        notices.requester_confirmation(uow, ticket, request, token)
        record_event(
            uow,
            actor=actor,
            action=AuditAction.ACCESS_REQUEST_SUBMIT,
            target=request_target(request.id),
            after={
                "ticket": ticket.id,
                "account_name": items.account_name,
                "email_to_add": items.email_to_add,
                "executive_email": items.executive_email,
                "letter_sha256": stored.sha256,
            },
        )
        uow.commit()
        return request.id


@dataclass(frozen=True, slots=True)
class _CheckedItems:
    """The form's items checked before anything is counted or written."""

    account_name: str
    requester_email: str
    email_to_add: str
    executive_email: str
    contract_number: str
    reason: str


def _checked_items(form: AccessRequestForm) -> _CheckedItems:
    requester_email = normalize_email(form.requester_email)
    email_to_add = normalize_email(form.email_to_add)
    executive_email = normalize_email(form.executive_email)
    account_name = _clean(form.account_name, "the account name", 200)
    # Checked now, by the accounts' own rule: a typo is the requester's to fix at once,
    # not a surprise for the reviewers after the confirmation.
    contract_number = normalize_contract_number(form.contract_number)
    reason = form.reason.strip()
    if not reason:
        raise InvalidInput("say why the change is needed")
    if len(reason) > 5000:
        raise InvalidInput("the reason can hold at most 5000 characters")
    return _CheckedItems(
        account_name=account_name,
        requester_email=requester_email,
        email_to_add=email_to_add,
        executive_email=executive_email,
        contract_number=contract_number,
        reason=reason,
    )


def _throttle_submissions(
    limiter: RateLimiter, *, client_address: str | None, account_name: str
) -> None:
    for scope, key in (
        (Scope.ACCESS_REQUEST_CLIENT, client_address or "unknown"),
        (Scope.ACCESS_REQUEST_ACCOUNT, account_name.casefold()),
    ):
        if not limiter.hit(scope, key):
            raise TooManyRequests(
                "too many access requests; try again later",
                retry_after=limiter.retry_after(scope, key),
            )


def _open_request_ticket(
    tx: Tx,
    form: AccessRequestForm,
    items: _CheckedItems,
    letter: NewAttachment,
    *,
    actor: Actor,
) -> tuple[Ticket, Attachment]:
    """The request's ticket, its first message (the form's summary) and the letter on it."""
    ticket = create_ticket(
        tx,
        subject=f"Admin access request for {items.account_name}",
        requester=Requester(email=items.requester_email, name=form.requester_name),
        kind=TicketKind.ADMIN_ACCESS,
        group=ACCESS_GROUP if ACCESS_GROUP in tx.settings.desk_groups else None,
        actor=actor,
    )
    message = add_message(
        tx,
        ticket,
        body=_summary(
            form,
            account=items.account_name,
            contract_number=items.contract_number,
            requester=items.requester_email,
            to_add=items.email_to_add,
            executive=items.executive_email,
        ),
        visibility=MessageVisibility.PUBLIC,
        channel=MessageChannel.API,
        author_email=items.requester_email,
        author_name=form.requester_name,
    )
    (stored,) = attach_files(tx, ticket, message, [letter])
    return ticket, stored


def _summary(
    form: AccessRequestForm,
    *,
    account: str,
    contract_number: str,
    requester: str,
    to_add: str,
    executive: str,
) -> str:
    return (
        "Request for admin access\n\n"
        f"Enterprise account: {account}\n"
        f"Email to add as admin: {to_add}\n"
        f"Contract number: {contract_number}\n"
        f"Executive: {form.executive_name.strip()}, {form.executive_title.strip()} <{executive}>\n"
        f"Requested by: {requester}\n\n"
        f"Why: {form.reason.strip()}\n"
    )


@dataclass(frozen=True, slots=True)
class Confirmed:
    state: RequestState
    ticket_path: str  # the requester's page for the request's ticket (desk.links)
    closed_because: str | None = None  # overtaken by a grant: why, for the requester


def confirm_requester(uow: UnitOfWork, request_id: uuid.UUID, token: str) -> Confirmed:
    """The requester proved their address: the review starts, whatever the account (S31a).

    Every confirmed request goes to the reviewers and reads "received, in
    review" to its requester. What the account's state means (unknown, paused
    after a veto, another request open, an admin who can act) becomes evidence
    for the reviewers and, for an admin who can act, a notice to them (S21);
    such a request cannot be approved, and a reviewer closes it like any other.
    """
    with uow:
        request = lock_request(uow, request_id)
        link = spend_link(uow, request_id, LinkPurpose.REQUESTER_CONFIRMATION, token)
        states.check_move(request.state, RequestState.IN_REVIEW)
        actor = _system(f"requester:{link.email}")
        now = uow.clock.now()
        request.requester_confirmed_at = now
        record_event(
            uow,
            actor=actor,
            action=AuditAction.ACCESS_REQUEST_CONFIRM_EMAIL,
            target=request_target(request.id),
        )
        ticket = notices.ticket_of(uow, request)
        account = find_account(uow, request.account_name)
        why = overtaken.overtaken_because(uow, request, account) if account else None
        if why is not None:
            outcome = f"closed at confirmation, overtaken: {why}"
            finish(uow, request, RequestState.REJECTED, actor=actor, outcome=outcome, notify=False)
            overtaken.tell_requester(uow, ticket, why)
            uow.commit()
            path = ticket_path(uow.settings, request.ticket_id, request.requester_email)
            return Confirmed(request.state, path, closed_because=why)
        if account is None:
            evidence.record(request, evidence.unknown_account(request))
        else:
            _start(uow, request, account, ticket, now=now)
        # The letter is read in every case, so the requester's page reads the same (S31a).
        request.prescreen_due = True
        move(uow, request, RequestState.IN_REVIEW, actor=actor)
        change_status(uow, ticket, TicketStatus.OPEN, actor=actor, reason="requester confirmed")
        uow.commit()
        return Confirmed(
            request.state, ticket_path(uow.settings, request.ticket_id, request.requester_email)
        )


def _start(
    tx: Tx,
    request: AccessRequest,
    account: EnterpriseAccount,
    ticket: Ticket,
    *,
    now: datetime,
) -> None:
    ticket.account_id = account.id
    with tx.session.no_autoflush:
        blocker = _blocker(tx, request, account, ticket, now=now)
        if blocker is not None:
            # Not approvable: no ``account_id``, so approval refuses it and the
            # one-open-request index (S28) does not count it.
            evidence.record(request, [blocker])
            return
        # Compare the form with the account's records and ask the people on record (S22).
        confirmers = evidence.executives_on_record(
            account, now=now, min_age=tx.settings.access_contact_min_age
        )
        chosen = [c for c in confirmers if c.email == request.executive_email] or confirmers
        evidence.record(
            request,
            evidence.record_checks(
                request,
                account,
                staff_address=is_staff_address(tx, request.email_to_add),
                executives=confirmers,
                confirmers=chosen,
            ),
        )
        dormant = all_admins(tx, account)
        evidence.record(request, [_admins_item(tx, dormant, now=now)])
        for contact in chosen:
            notices.executive_confirmation(tx, ticket, request, account, contact)
        for user in dormant:
            notices.dormant_admin(tx, ticket, request, account, user.email)
    # Set last: the one-open-request index (S28) must not see this request open
    # for the account while another one is.
    request.account_id = account.id


def _blocker(
    tx: Tx,
    request: AccessRequest,
    account: EnterpriseAccount,
    ticket: Ticket,
    *,
    now: datetime,
) -> Item | None:
    """Why the account cannot take this request now, for the reviewers; None if it can."""
    freeze = tx.session.get(AccountFreeze, account.id)
    if freeze is not None and freeze.until > now:
        return Item(
            Check.ACCOUNT,
            Status.FAIL,
            "account freezes",
            f"new requests for this account are paused after a veto until "
            f"{freeze.until:%Y-%m-%d %H:%M} UTC (S25); close this one",
        )
    other = open_request_for(tx, account.id, besides=request.id)
    if other is not None:
        return Item(
            Check.ACCOUNT,
            Status.FAIL,
            "open requests",
            f"request on ticket #{other.ticket_id} for this account is still open "
            "(one at a time, S28); close this one",
        )
    active = ask_active_admins(tx, ticket, request, account, now=now)
    if active:
        return Item(
            Check.EXISTING_ADMINS,
            Status.FAIL,
            "memberships and sign-ins",
            "an admin who can act was asked instead (S21): "
            f"{', '.join(u.email for u in active)}; close this one",
        )
    return None


def _admins_item(tx: Tx, admins: list[User], *, now: datetime) -> Item:
    """Who still holds ``manage``: their last sign-in and sessions still alive."""
    if not admins:
        return Item(Check.EXISTING_ADMINS, Status.PASS, "memberships", "the account has no admin")
    seen = []
    for user in admins:
        sessions = tx.session.scalar(
            select(func.count())
            .select_from(UserSession)
            .where(
                UserSession.user_id == user.id,
                UserSession.revoked_at.is_(None),
                UserSession.expires_at > now,
            )
        )
        last = f"{user.last_login_at:%Y-%m-%d} UTC" if user.last_login_at else "never"
        state = "" if user.is_active else ", deactivated"
        seen.append(f"{user.email} (last sign-in {last}, {sessions} live session(s){state})")
    return Item(
        Check.EXISTING_ADMINS,
        Status.UNKNOWN,
        "memberships and sessions",
        f"admins not seen recently, emailed and asked to act: {'; '.join(seen)}",
    )
