"""Requests that a grant made pointless before their requester confirmed them.

A request waits for its requester's confirmation for days. If meanwhile the
address it asks for became an admin, or a later request of the same requester
for the same account was granted, confirming the old link must not start a
second review, nor ask the new admin to deal with it (S21 routing): it is
closed at once, saying why.

Saying why is safe only to someone who knows it already (S31a: the requester's
view never says whether an account has an admin). The confirmer proved they
read ``requester_email``'s mail, so they are told only when that address is the
admin itself, or is the requester who was told of the later grant. Anyone else
takes the usual path: review, and the admins are asked (S21).
"""

from __future__ import annotations

from sqlalchemy import select

from keyholder.access.models import AccessRequest
from keyholder.access.requester_view import CLOSED_HEADLINE
from keyholder.access.states import RequestState
from keyholder.accounts import repository
from keyholder.accounts.models import EnterpriseAccount
from keyholder.accounts.permissions import ADMIN_PERMISSION
from keyholder.db.tx import Tx
from keyholder.desk.models import Ticket
from keyholder.desk.notify import send_ticket_email


def overtaken_because(tx: Tx, request: AccessRequest, account: EnterpriseAccount) -> str | None:
    """Why ``request`` is no longer needed, in words for its requester; None if it still is."""
    mine = request.requester_email
    if mine == request.email_to_add and _is_admin(tx, account, mine):
        return (
            f"{mine} is already an admin of {account.display_name}, so this request is no "
            "longer needed and is now closed. Sign in to manage the account's members."
        )
    later = tx.session.scalars(
        select(AccessRequest)
        .where(
            AccessRequest.account_id == account.id,
            AccessRequest.state == RequestState.EXECUTED,
            AccessRequest.requester_email == mine,
            AccessRequest.executed_at > request.created_at,
        )
        .order_by(AccessRequest.executed_at.desc())
    ).first()
    if later is not None and later.executed_at is not None:
        return (
            f"A later request of yours for {account.display_name} was granted on "
            f"{later.executed_at:%Y-%m-%d %H:%M} UTC (ticket #{later.ticket_id}), so this "
            "older one is no longer needed and is now closed. Nobody was given admin access "
            "through it."
        )
    return None


def _is_admin(tx: Tx, account: EnterpriseAccount, email: str) -> bool:
    membership = repository.membership_by_email(tx.session, account.id, email)
    return membership is not None and ADMIN_PERMISSION in membership.permissions


def tell_requester(tx: Tx, ticket: Ticket, why: str) -> None:
    """The closing email, with the reason the confirmer may know (see the module docstring)."""
    send_ticket_email(
        tx,
        ticket,
        "access_outcome_notice",
        auto_submitted=True,
        headline=CLOSED_HEADLINE,
        message=why,
    )
