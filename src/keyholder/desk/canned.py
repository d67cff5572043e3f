"""Canned replies: texts agents reuse, with ``{placeholders}`` filled from the ticket.

Placeholders are a fixed list substituted by name, never ``str.format`` on
objects (whose ``{0.__class__}`` syntax would let a template reach into them).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from sqlalchemy import select

from keyholder.accounts.models import EnterpriseAccount
from keyholder.audit.actions import AuditAction
from keyholder.audit.service import record_event
from keyholder.audit.targets import canned_reply_target
from keyholder.db.tx import Tx
from keyholder.db.uow import UnitOfWork
from keyholder.desk.models import CannedReply, Ticket
from keyholder.desk.policy import readable_ticket, require_staff
from keyholder.errors import AlreadyExists, InvalidInput, NotFound
from keyholder.identity.actor import Actor
from keyholder.identity.models import User

PLACEHOLDERS = (
    "ticket_number",
    "subject",
    "requester_name",
    "requester_email",
    "account_name",
    "agent_name",
)
_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


def check_template(body: str) -> str:
    unknown = sorted({name for name in _PLACEHOLDER.findall(body) if name not in PLACEHOLDERS})
    if unknown:
        raise InvalidInput(
            f"unknown placeholder(s) {', '.join('{' + n + '}' for n in unknown)}; "
            f"available: {', '.join('{' + n + '}' for n in PLACEHOLDERS)}"
        )
    return body


def fill(body: str, values: Mapping[str, str]) -> str:
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), body)


def list_canned_replies(uow: UnitOfWork, *, actor: Actor) -> Sequence[CannedReply]:
    require_staff(actor)
    with uow:
        return uow.session.scalars(select(CannedReply).order_by(CannedReply.name)).all()


def _by_name(tx: Tx, name: str) -> CannedReply:
    reply = tx.session.scalars(select(CannedReply).where(CannedReply.name == name)).one_or_none()
    if reply is None:
        raise NotFound(f"no canned reply named {name!r}")
    return reply


def save_canned_reply(
    uow: UnitOfWork, name: str, body: str, *, actor: Actor, create: bool
) -> CannedReply:
    """Create (``create=True``, 409 if taken) or replace a canned reply."""
    require_staff(actor)
    check_template(body)
    with uow:
        now = uow.clock.now()
        existing = uow.session.scalars(
            select(CannedReply).where(CannedReply.name == name)
        ).one_or_none()
        if create and existing is not None:
            raise AlreadyExists(f"a canned reply named {name!r} exists")
        if existing is None:
            if not create:
                raise NotFound(f"no canned reply named {name!r}")
            existing = CannedReply(
                name=name, body=body, created_by_id=actor.user_id, created_at=now, updated_at=now
            )
            uow.session.add(existing)
        else:
            existing.body, existing.updated_at = body, now
        record_event(
            uow, actor=actor, action=AuditAction.CANNED_REPLY_SAVE, target=canned_reply_target(name)
        )
        uow.commit()
        return existing


def delete_canned_reply(uow: UnitOfWork, name: str, *, actor: Actor) -> None:
    require_staff(actor)
    with uow:
        uow.session.delete(_by_name(uow, name))
        record_event(
            uow,
            actor=actor,
            action=AuditAction.CANNED_REPLY_DELETE,
            target=canned_reply_target(name),
        )
        uow.commit()


def render_canned_reply(uow: UnitOfWork, number: int, name: str, *, actor: Actor) -> str:
    """The canned reply ``name`` with its placeholders filled in for ticket ``number``."""
    require_staff(actor)
    with uow:
        reply = _by_name(uow, name)
        return _filled(uow, reply, readable_ticket(uow, number, actor=actor), actor=actor)


def filled_reply(tx: Tx, name: str, ticket: Ticket, *, actor: Actor) -> str:
    """``render_canned_reply`` in the caller's transaction, for a ticket it may read."""
    return _filled(tx, _by_name(tx, name), ticket, actor=actor)


def _filled(tx: Tx, reply: CannedReply, ticket: Ticket, *, actor: Actor) -> str:
    account = tx.session.get(EnterpriseAccount, ticket.account_id) if ticket.account_id else None
    agent = tx.session.get(User, actor.user_id) if actor.user_id else None
    values = {
        "ticket_number": str(ticket.id),
        "subject": ticket.subject,
        "requester_name": ticket.requester_name or ticket.requester_email,
        "requester_email": ticket.requester_email,
        "account_name": account.display_name if account else "",
        "agent_name": (agent.name or agent.email) if agent else actor.label,
    }
    return fill(reply.body, values)
