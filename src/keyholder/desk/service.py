"""Desk use cases for support staff: read a ticket, reply, note, assign, change status.

Every function checks ``policy.require_staff`` first (S29), then works in one
transaction. Internal notes are never emailed and never shown to customers.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from keyholder.accounts.models import EnterpriseAccount
from keyholder.accounts.repository import account_by_name
from keyholder.audit.actions import AuditAction
from keyholder.audit.service import record_event
from keyholder.audit.targets import ticket_target
from keyholder.db.tx import Tx
from keyholder.db.uow import UnitOfWork
from keyholder.desk import notify, sla, states
from keyholder.desk.attachments import NewAttachment, attach_files
from keyholder.desk.models import (
    MessageChannel,
    MessageVisibility,
    Ticket,
    TicketKind,
    TicketMessage,
    TicketPriority,
    TicketStatus,
)
from keyholder.desk.policy import readable_ticket, require_staff
from keyholder.desk.thread import (
    add_message,
    change_status,
    check_group,
    get_ticket_for_update,
)
from keyholder.errors import InvalidInput, NotFound
from keyholder.identity.actor import Actor
from keyholder.identity.emails import normalize_email
from keyholder.identity.models import User

MAX_BULK = 500


@dataclass(frozen=True, slots=True)
class TicketThread:
    """A ticket and the messages this reader may see, oldest first."""

    ticket: Ticket
    messages: Sequence[TicketMessage]
    account_name: str | None = None
    assignee_email: str | None = None
    follow_ups: Sequence[int] = field(default_factory=tuple)


def get_ticket(
    uow: UnitOfWork, number: int, *, actor: Actor, staff_view: bool = False
) -> TicketThread:
    """The ticket and its thread: everything for staff, public messages for its requester.

    ``staff_view`` is for the desk's routes: anyone but staff is refused (403),
    the requester included, rather than served the customer's view.
    """
    if staff_view:
        require_staff(actor)
    with uow:
        ticket = readable_ticket(uow, number, actor=actor)
        return thread_of(uow, ticket, staff=actor.is_staff)


def thread_of(tx: Tx, ticket: Ticket, *, staff: bool) -> TicketThread:
    """The thread of a ticket the caller has already been allowed to read."""
    query = (
        select(TicketMessage)
        .where(TicketMessage.ticket_id == ticket.id)
        .options(selectinload(TicketMessage.attachments))
        .order_by(TicketMessage.id)
    )
    if not staff:
        query = query.where(TicketMessage.visibility == MessageVisibility.PUBLIC)
    messages = tx.session.scalars(query).all()
    # An admin-access ticket is linked to the account only if the account exists:
    # its requester must not learn that from the link (S31a), staff need it.
    shown = ticket.account_id if staff or ticket.kind is not TicketKind.ADMIN_ACCESS else None
    account = tx.session.get(EnterpriseAccount, shown) if shown else None
    assignee = tx.session.get(User, ticket.assignee_id) if ticket.assignee_id else None
    follow_ups = tx.session.scalars(
        select(Ticket.id).where(Ticket.follow_up_of_id == ticket.id).order_by(Ticket.id)
    ).all()
    return TicketThread(
        ticket=ticket,
        messages=messages,
        account_name=account.name if account else None,
        assignee_email=assignee.email if assignee and staff else None,
        follow_ups=follow_ups,
    )


def _staff_author(tx: Tx, actor: Actor) -> tuple[str, str]:
    if actor.user_id is None:
        return actor.label, ""
    user = tx.session.get(User, actor.user_id)
    assert user is not None
    return user.email, user.name


def reply_to_ticket(
    uow: UnitOfWork,
    number: int,
    *,
    body: str,
    actor: Actor,
    status: TicketStatus | None = None,
    channel: MessageChannel = MessageChannel.API,
    attachments: Sequence[NewAttachment] = (),
) -> TicketMessage:
    """Post a public reply, email it to the requester, and optionally change the status.

    A reply to a new ticket opens it unless another status is given; the first
    public reply stops the first-response clock.
    """
    require_staff(actor)
    with uow:
        ticket = get_ticket_for_update(uow, number)
        target = status or (TicketStatus.OPEN if ticket.status is TicketStatus.NEW else None)
        if target is not None:
            states.check_change(number, ticket.status, target)
        if ticket.status is TicketStatus.CLOSED:
            states.check_change(number, ticket.status, TicketStatus.OPEN)  # 409: closed is final
        email, name = _staff_author(uow, actor)
        message = add_message(
            uow,
            ticket,
            body=body,
            visibility=MessageVisibility.PUBLIC,
            channel=channel,
            author_email=email,
            author_name=name,
            author_user_id=actor.user_id,
            from_staff=True,
        )
        attach_files(uow, ticket, message, attachments)
        if ticket.first_responded_at is None:
            ticket.first_responded_at = uow.clock.now()
        notify.send_public_reply(uow, ticket, message)
        if target is not None:
            _apply_status(uow, ticket, target, actor=actor)
        uow.commit()
        return message


def add_internal_note(
    uow: UnitOfWork,
    number: int,
    *,
    body: str,
    actor: Actor,
    channel: MessageChannel = MessageChannel.API,
    attachments: Sequence[NewAttachment] = (),
) -> TicketMessage:
    """Add a note only staff see: never emailed, never shown to the customer. Audited."""
    require_staff(actor)
    with uow:
        ticket = get_ticket_for_update(uow, number)
        email, name = _staff_author(uow, actor)
        message = add_message(
            uow,
            ticket,
            body=body,
            visibility=MessageVisibility.INTERNAL,
            channel=channel,
            author_email=email,
            author_name=name,
            author_user_id=actor.user_id,
            from_staff=True,
        )
        attach_files(uow, ticket, message, attachments)
        record_event(
            uow,
            actor=actor,
            action=AuditAction.TICKET_NOTE,
            target=ticket_target(number),
            after={"message": message.id, "length": len(body)},
        )
        uow.commit()
        return message


def _apply_status(tx: Tx, ticket: Ticket, status: TicketStatus, *, actor: Actor) -> None:
    if change_status(tx, ticket, status, actor=actor) and status is TicketStatus.SOLVED:
        notify.send_ticket_solved(tx, ticket)  # the customer must know it can be reopened


class _Unset:
    pass


UNSET = _Unset()


def update_ticket(
    uow: UnitOfWork,
    number: int,
    *,
    actor: Actor,
    status: TicketStatus | None = None,
    priority: TicketPriority | None = None,
    group: str | None = None,
    assignee_email: str | _Unset | None = UNSET,
    account_name: str | _Unset | None = UNSET,
) -> Ticket:
    """Change a ticket's status, priority, group, assignee or account; each change audited.

    ``assignee_email=None`` unassigns; the assignee must be a staff member.
    All or nothing: a refused change leaves the ticket as it was.
    """
    require_staff(actor)
    with uow:
        ticket = get_ticket_for_update(uow, number)
        target = ticket_target(number)
        if status is not None:
            _apply_status(uow, ticket, status, actor=actor)
        if priority is not None and priority is not ticket.priority:
            before = ticket.priority.value
            sla.change_priority(ticket, priority, uow.settings)
            _audit_change(
                uow,
                actor,
                target,
                AuditAction.TICKET_PRIORITY,
                field="priority",
                change=(before, priority.value),
            )
        if group is not None and group != ticket.group:
            before_group = ticket.group
            ticket.group = check_group(uow, group)
            _audit_change(
                uow,
                actor,
                target,
                AuditAction.TICKET_GROUP,
                field="group",
                change=(before_group, group),
            )
        if not isinstance(assignee_email, _Unset):
            _assign(uow, ticket, assignee_email, actor=actor)
        if not isinstance(account_name, _Unset):
            _set_account(uow, ticket, account_name, actor=actor)
        ticket.updated_at = uow.clock.now()
        uow.commit()
        return ticket


def _audit_change(
    tx: Tx,
    actor: Actor,
    target: str,
    action: AuditAction,
    *,
    field: str,
    change: tuple[object, object],
) -> None:
    record_event(
        tx,
        actor=actor,
        action=action,
        target=target,
        before={field: change[0]},
        after={field: change[1]},
    )


def _assign(tx: Tx, ticket: Ticket, email: str | None, *, actor: Actor) -> None:
    new_id: uuid.UUID | None = None
    if email is not None:
        user = tx.session.scalars(
            select(User).where(User.email == normalize_email(email))
        ).one_or_none()
        if user is None or user.staff_role is None or not user.is_active:
            raise InvalidInput(f"{email} is not a support staff member; only staff take tickets")
        new_id = user.id
    if new_id == ticket.assignee_id:
        return
    old = tx.session.get(User, ticket.assignee_id) if ticket.assignee_id else None
    ticket.assignee_id = new_id
    _audit_change(
        tx,
        actor,
        ticket_target(ticket.id),
        AuditAction.TICKET_ASSIGN,
        field="assign",
        change=(old.email if old else None, email),
    )


def _set_account(tx: Tx, ticket: Ticket, name: str | None, *, actor: Actor) -> None:
    account_id: uuid.UUID | None = None
    if name is not None:
        account = account_by_name(tx.session, name)
        if account is None:
            raise NotFound(f"no enterprise account named {name!r}")
        account_id = account.id
    if account_id == ticket.account_id:
        return
    old = tx.session.get(EnterpriseAccount, ticket.account_id) if ticket.account_id else None
    ticket.account_id = account_id
    _audit_change(
        tx,
        actor,
        ticket_target(ticket.id),
        AuditAction.TICKET_ACCOUNT,
        field="account",
        change=(old.name if old else None, name),
    )


def bulk_change_status(
    uow: UnitOfWork, numbers: Iterable[int], status: TicketStatus, *, actor: Actor
) -> Sequence[Ticket]:
    """Move several tickets to ``status`` at once; if any cannot move, none does (409)."""
    require_staff(actor)
    wanted = sorted(set(numbers))
    if not wanted:
        raise InvalidInput("name at least one ticket")
    if len(wanted) > MAX_BULK:
        raise InvalidInput(f"at most {MAX_BULK} tickets at once")
    with uow:
        # Locked in number order, so two bulk changes cannot deadlock each other.
        tickets = uow.session.scalars(
            select(Ticket).where(Ticket.id.in_(wanted)).order_by(Ticket.id).with_for_update()
        ).all()
        missing = sorted(set(wanted) - {t.id for t in tickets})
        if missing:
            raise NotFound(f"no ticket #{missing[0]}")
        for ticket in tickets:
            states.check_change(ticket.id, ticket.status, status)
        for ticket in tickets:
            _apply_status(uow, ticket, status, actor=actor)
        uow.commit()
        return tickets
