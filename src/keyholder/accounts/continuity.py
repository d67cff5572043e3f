"""Admin continuity: an account with a single admin is one lost phone from a recovery.

Its pages say so to every member (``overview.AccountOverview.one_admin_left``),
and a background job reminds that admin by email to add a second, at most once
per ``admin_continuity_reminder_every``, until the account has two admins.

The job claims each account with one conditional UPDATE of
``enterprise_accounts.admin_reminder_sent_at`` ("only if nobody reminded it
within the interval"): on PostgreSQL a second worker's UPDATE waits for the
first one's commit and then matches nothing, on SQLite writes take turns, so
several workers on one database never send the same reminder twice.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, func, or_, select, update

from keyholder.accounts import repository
from keyholder.accounts.models import EnterpriseAccount, Membership
from keyholder.accounts.permissions import ADMIN_PERMISSION, grants
from keyholder.db.uow import UnitOfWork, UnitOfWorkFactory
from keyholder.identity.models import User
from keyholder.mail.outbox import send_templated_email


def remind_single_admins(uows: UnitOfWorkFactory, *, limit: int = 100) -> int:
    """Remind the single admin of each account that has one and is due; returns how many."""
    sent = 0
    for account_id in _due_accounts(uows(read_only=True), limit=limit):
        sent += _remind(uows(), account_id)
    return sent


def _not_reminded_since(cutoff: datetime) -> ColumnElement[bool]:
    return or_(
        EnterpriseAccount.admin_reminder_sent_at.is_(None),
        EnterpriseAccount.admin_reminder_sent_at <= cutoff,
    )


def _due_accounts(uow: UnitOfWork, *, limit: int) -> Sequence[uuid.UUID]:
    """Accounts with exactly one active admin, not reminded within the interval."""
    with uow:
        cutoff = uow.clock.now() - uow.settings.admin_continuity_reminder_every
        return uow.session.scalars(
            select(Membership.account_id)
            .join(User, User.id == Membership.user_id)
            .join(EnterpriseAccount, EnterpriseAccount.id == Membership.account_id)
            .where(
                grants(Membership.permissions, ADMIN_PERMISSION),
                User.is_active,
                _not_reminded_since(cutoff),
            )
            .group_by(Membership.account_id)
            .having(func.count() == 1)
            .order_by(Membership.account_id)
            .limit(limit)
        ).all()


def _remind(uow: UnitOfWork, account_id: uuid.UUID) -> int:
    """Claim the account's reminder and send it, in one transaction; 0 if not due any more."""
    with uow:
        now = uow.clock.now()
        cutoff = now - uow.settings.admin_continuity_reminder_every
        claimed = uow.session.execute(
            update(EnterpriseAccount)
            .where(EnterpriseAccount.id == account_id, _not_reminded_since(cutoff))
            .values(admin_reminder_sent_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount  # type: ignore[attr-defined]
        if claimed != 1:
            return 0  # another worker reminded it first
        admins = repository.admin_users(uow.session, account_id)
        account = uow.session.get(EnterpriseAccount, account_id)
        if len(admins) != 1 or account is None:
            return 0  # fixed meanwhile: the claim rolls back with the transaction
        send_templated_email(
            uow,
            "admin_continuity_reminder",
            to=[admins[0].email],
            account_display_name=account.display_name,
            account_name=account.name,
            link=f"{uow.settings.base_url.rstrip('/')}/accounts/{account.name}",
            every_days=uow.settings.admin_continuity_reminder_every.days,
        )
        uow.commit()
        return 1
