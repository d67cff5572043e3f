"""The requester hears when their request is approved: when the change happens, who was told.

Sent from the ticket like every other email about the request, threaded, once
the second approval starts the cooling-off. By then two reviewers approved a
request on a real account, so saying who was told (as roles, never addresses)
tells the requester nothing they could not guess (S31a).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from keyholder.access.models import AccessRequest
from keyholder.accounts.models import EnterpriseAccount
from keyholder.db.tx import Tx
from keyholder.desk.models import Ticket
from keyholder.desk.notify import send_ticket_email
from keyholder.when import iso_utc, long_utc

ADMIN_ROLE = "an admin of the account"  # as ``decisions`` names admins among the veto holders


def who_was_told(roles: Sequence[str]) -> str:
    """'2 admins of the account, the executive on record and the billing contact on record'."""
    counts = Counter(roles)
    parts = []
    for role, count in sorted(counts.items(), key=lambda pair: pair[0] != ADMIN_ROLE):
        if count == 1:
            parts.append(role)
        elif role == ADMIN_ROLE:
            parts.append(f"{count} admins of the account")
        else:
            parts.append(f"{role} ({count} people)")
    if not parts:
        return "nobody: the account has no admin or contact on record"
    if len(parts) == 1:
        return parts[0]
    return f"{', '.join(parts[:-1])} and {parts[-1]}"


def tell_requester(
    tx: Tx,
    ticket: Ticket,
    request: AccessRequest,
    account: EnterpriseAccount,
    *,
    told: Sequence[str],
) -> None:
    """Email the requester the end of the cooling-off (UTC, in words) and who can stop it."""
    assert request.cooling_off_until is not None
    send_ticket_email(
        tx,
        ticket,
        "access_cooling_off",
        auto_submitted=True,
        email_to_add=request.email_to_add,
        account_display_name=account.display_name,
        changes_at=long_utc(request.cooling_off_until),
        changes_at_iso=iso_utc(request.cooling_off_until),
        told=who_was_told(told),
    )
