"""An account's audit history, for the people who manage it."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from keyholder.accounts.models import EnterpriseAccount
from keyholder.audit.models import AuditEvent
from keyholder.audit.targets import account_target, inside_account_prefix


def recent_events(
    session: Session, account: EnterpriseAccount, *, limit: int = 50
) -> Sequence[AuditEvent]:
    """The newest audit events about an account, its members and invitations.

    For a reader already allowed to see them: the account page shows them to
    those who may manage the account (``overview.account_overview``).
    """
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
