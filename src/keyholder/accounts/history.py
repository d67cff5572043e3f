"""An account's audit history, for the people who manage it."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from keyholder.accounts import repository
from keyholder.accounts.models import EnterpriseAccount
from keyholder.accounts.permissions import ADMIN_PERMISSION
from keyholder.accounts.policy import readable_account
from keyholder.audit.models import AuditEvent
from keyholder.audit.targets import account_target, inside_account_prefix
from keyholder.db.uow import UnitOfWork
from keyholder.errors import PermissionDenied
from keyholder.identity.actor import Actor


def account_history(
    uow: UnitOfWork, account_name: str, *, actor: Actor, limit: int = 50
) -> Sequence[AuditEvent]:
    """The newest audit events about an account, its members and invitations.

    For staff and the account's admins (``manage``); other members get 403,
    strangers 404 as for a missing account.
    """
    with uow:
        account = readable_account(uow, account_name, actor=actor)
        if not actor.is_staff:
            assert actor.user_id is not None  # readable_account found their membership
            own = repository.membership(uow.session, account.id, actor.user_id)
            if own is None or ADMIN_PERMISSION not in own.permissions:
                raise PermissionDenied(
                    f"the history of {account.name!r} is for members with the "
                    f"{ADMIN_PERMISSION} permission"
                )
        return recent_events(uow.session, account, limit=limit)


def recent_events(
    session: Session, account: EnterpriseAccount, *, limit: int = 50
) -> Sequence[AuditEvent]:
    """The newest audit events about ``account`` (for a reader already allowed to see them)."""
    query = (
        select(AuditEvent)
        .where(
            or_(
                AuditEvent.target == account_target(account.name),
                AuditEvent.target.startswith(inside_account_prefix(account.name), autoescape=True),
            )
        )
        .order_by(AuditEvent.seq.desc())
        .limit(limit)
    )
    return session.scalars(query).all()
