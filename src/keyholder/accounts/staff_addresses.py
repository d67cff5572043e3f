"""S31: platform staff are never made admins of a customer account.

Not staff users, not addresses on the platform's own email domains
(``KEYHOLDER_STAFF_EMAIL_DOMAINS``), nor on a look-alike of one: a customer
admin who could give ``manage`` to ``support@keyholder.example`` (or to
``support@keyh0lder.example``) could dress a takeover up as staff help. Every
way ``manage`` is given asks here: adding a member, changing permissions,
accepting an invitation, and the grant of an access request.
"""

from __future__ import annotations

from sqlalchemy import select

from keyholder.accounts.permissions import ADMIN_PERMISSION, PermissionSet
from keyholder.db.tx import Tx
from keyholder.domains import staff_domain_conflict
from keyholder.errors import PermissionDenied
from keyholder.identity.models import User


def is_staff_address(tx: Tx, email: str) -> bool:
    """Staff, or an address on (or like) a staff domain."""
    staff = tx.session.scalar(
        select(User.id).where(User.email == email, User.staff_role.is_not(None))
    )
    domains = tx.settings.staff_email_domains
    return staff is not None or bool(domains and staff_domain_conflict(email, domains))


def refuse_staff_admin(tx: Tx, email: str, permissions: PermissionSet) -> None:
    """403 when ``permissions`` hold ``manage`` and ``email`` is staff's (S31).

    The message reaches customers (account admins): plain words, no requirement code.
    """
    if ADMIN_PERMISSION in permissions and is_staff_address(tx, email):
        raise PermissionDenied(
            f"{email} is platform staff's, or on (or like) a staff email domain: it cannot "
            f"be given {ADMIN_PERMISSION} on a customer account"
        )
