"""Which accounts have no admin left: their members are shown the way to recovery.

A member who cannot manage an account of theirs is told where to go only when
nobody can: they can already see the member list, so this tells them nothing
new, and it saves them a support ticket to learn that the guide exists.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from keyholder.accounts.models import EnterpriseAccount, Membership
from keyholder.accounts.permissions import ADMIN_PERMISSION


def without_admin(session: Session, accounts: Sequence[EnterpriseAccount]) -> frozenset[str]:
    """The names of those of ``accounts`` (already visible to the reader) with no admin."""
    if not accounts:
        return frozenset()
    ids = {account.id: account.name for account in accounts}
    rows = session.execute(
        select(Membership.account_id, Membership.permissions).where(Membership.account_id.in_(ids))
    ).all()
    managed = {account_id for account_id, permissions in rows if ADMIN_PERMISSION in permissions}
    return frozenset(name for account_id, name in ids.items() if account_id not in managed)
