"""An account's audit history, for the people who manage it."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from keyholder.accounts.models import EnterpriseAccount
from keyholder.accounts.policy import manage_refusal, readable_account
from keyholder.audit.export import DEFAULT_PAGE_SIZE, Page, events_after
from keyholder.audit.models import AuditEvent
from keyholder.audit.targets import account_target, inside_account_prefix
from keyholder.db.uow import UnitOfWork
from keyholder.identity.actor import Actor


def about_account(name: str) -> ColumnElement[bool]:
    """Events about the account ``name``, its members and invitations (by target)."""
    return or_(
        AuditEvent.target == account_target(name),
        AuditEvent.target.startswith(inside_account_prefix(name), autoescape=True),
    )


def recent_events(
    session: Session, account: EnterpriseAccount, *, limit: int = 50
) -> Sequence[AuditEvent]:
    """The newest audit events about an account, its members and invitations.

    For a reader already allowed to see them: the account page shows them to
    those who may manage the account (``overview.account_overview``).
    """
    query = (
        select(AuditEvent)
        .where(about_account(account.name))
        .order_by(AuditEvent.seq.desc())
        .limit(limit)
    )
    return session.scalars(query).all()


def account_events_after(
    uow: UnitOfWork, name: str, after: int, *, limit: int = DEFAULT_PAGE_SIZE, actor: Actor
) -> Page:
    """The account's events after seq ``after``, oldest first: for those who may manage it.

    The rule of the account page's history (``policy.manage_refusal``):
    strangers get 404, members without ``manage`` and staff who are not
    platform admins 403. The seqs skip the other accounts' events, so only a
    holder of the whole chain can check these events' links.
    """
    with uow:
        account = readable_account(uow, name, actor=actor)
        refusal = manage_refusal(uow.session, account, actor=actor)
        if refusal is not None:
            raise refusal
        page = events_after(uow, after, limit=limit, matching=about_account(account.name))
        for event in page.events:
            uow.session.expunge(event)
        return page
