"""Every email about a request, sent from its ticket and threaded with it.

Links carry one-time tokens (``holds_secret``: the body is blanked once sent).
Confirmation links go only to contacts on record and verified mailboxes, never
to an address that appears only in the letter or the form (S22). What the
requester is told comes from ``requester_view`` and never says why a request
went where it went (S31a): routing is told to the people on record only.
"""

from __future__ import annotations

from keyholder.access.links import issue_link
from keyholder.access.models import AccessRequest, LinkPurpose
from keyholder.access.requester_view import CLOSED_HEADLINE, requester_wording
from keyholder.access.states import RequestState
from keyholder.accounts.models import AccountContact, EnterpriseAccount
from keyholder.db.tx import Tx
from keyholder.desk.models import Ticket
from keyholder.desk.notify import send_ticket_email


def ticket_of(tx: Tx, request: AccessRequest) -> Ticket:
    ticket = tx.session.get(Ticket, request.ticket_id, with_for_update=True)
    assert ticket is not None  # a foreign key
    return ticket


def _link(tx: Tx, request: AccessRequest, kind: str, token: str) -> str:
    return f"{tx.settings.base_url.rstrip('/')}/access-requests/{request.id}/{kind}/{token}"


def _expires(tx: Tx) -> str:
    return f"{tx.clock.now() + tx.settings.access_link_ttl:%Y-%m-%d %H:%M}"


def requester_confirmation(tx: Tx, ticket: Ticket, request: AccessRequest, token: str) -> None:
    send_ticket_email(
        tx,
        ticket,
        "access_confirm_requester",
        auto_submitted=True,
        holds_secret=True,
        account_name=request.account_name,
        link=_link(tx, request, "confirm-email", token),
        expires_at=_expires(tx),
    )


def executive_confirmation(
    tx: Tx,
    ticket: Ticket,
    request: AccessRequest,
    account: EnterpriseAccount,
    contact: AccountContact,
) -> None:
    """Ask the executive on record (never the address typed in the form, S22)."""
    token = issue_link(tx, request.id, LinkPurpose.EXECUTIVE_CONFIRMATION, contact.email)
    send_ticket_email(
        tx,
        ticket,
        "access_executive",
        to=[contact.email],
        auto_submitted=True,
        holds_secret=True,
        executive_name=contact.name,
        account_display_name=account.display_name,
        requester_email=request.requester_email,
        email_to_add=request.email_to_add,
        reason=request.reason,
        link=_link(tx, request, "executive-confirmation", token),
        expires_at=_expires(tx),
    )


def routed_to_admins(
    tx: Tx,
    ticket: Ticket,
    request: AccessRequest,
    account: EnterpriseAccount,
    admins: list[str],
) -> None:
    send_ticket_email(
        tx,
        ticket,
        "access_routed_admins",
        to=admins,
        auto_submitted=True,
        account_display_name=account.display_name,
        account_name=account.name,
        requester_email=request.requester_email,
        email_to_add=request.email_to_add,
    )


def dormant_admin(
    tx: Tx,
    ticket: Ticket,
    request: AccessRequest,
    account: EnterpriseAccount,
    email: str,
) -> None:
    send_ticket_email(
        tx,
        ticket,
        "access_dormant_admin",
        to=[email],
        auto_submitted=True,
        account_display_name=account.display_name,
        account_name=account.name,
        requester_email=request.requester_email,
        email_to_add=request.email_to_add,
    )


def veto_notice(
    tx: Tx,
    ticket: Ticket,
    request: AccessRequest,
    account: EnterpriseAccount,
    *,
    email: str,
    role: str,
) -> None:
    token = issue_link(tx, request.id, LinkPurpose.VETO, email)
    assert request.cooling_off_until is not None
    send_ticket_email(
        tx,
        ticket,
        "access_veto_notice",
        to=[email],
        auto_submitted=True,
        holds_secret=True,
        account_display_name=account.display_name,
        account_name=account.name,
        requester_email=request.requester_email,
        email_to_add=request.email_to_add,
        executive_name=request.executive_name,
        executive_title=request.executive_title,
        role=role,
        grant_at=f"{request.cooling_off_until:%Y-%m-%d %H:%M}",
        veto_link=_link(tx, request, "veto", token),
    )


def closed_to_requester(tx: Tx, ticket: Ticket) -> None:
    """Any ending but a grant, in the same words whatever happened (S31a)."""
    send_ticket_email(
        tx,
        ticket,
        "access_outcome_notice",
        auto_submitted=True,
        headline=CLOSED_HEADLINE,
        message=requester_wording(RequestState.REJECTED).text,  # every ending reads so
    )


def granted(tx: Tx, ticket: Ticket, request: AccessRequest, *, to: list[str]) -> None:
    """The grant, in words, to the requester and the executive on record."""
    send_ticket_email(
        tx,
        ticket,
        "access_outcome_notice",
        to=to,
        auto_submitted=True,
        headline="Admin access granted",
        message=(
            f"{request.email_to_add} is now an admin of the enterprise account "
            f"{request.account_name}, as asked by {request.requester_email} and authorised by "
            f"{request.executive_name} ({request.executive_title}).\n\n"
            "If the address had no user yet, an invitation was sent to it. The new admin must "
            "enrol multi-factor authentication before using admin powers."
        ),
    )


def claim_veto_notice(
    tx: Tx,
    ticket: Ticket,
    request: AccessRequest,
    account: EnterpriseAccount,
    *,
    email: str,
    role: str,
    generated_by: str,
    generated_at: str,
) -> None:
    """A claim by recovery code to an admin or contact on record, with their veto link (S25)."""
    token = issue_link(tx, request.id, LinkPurpose.VETO, email)
    assert request.cooling_off_until is not None
    send_ticket_email(
        tx,
        ticket,
        "access_claim_veto_notice",
        to=[email],
        auto_submitted=True,
        holds_secret=True,
        account_display_name=account.display_name,
        account_name=account.name,
        email_to_add=request.email_to_add,
        generated_by=generated_by,
        generated_at=generated_at,
        role=role,
        grant_at=f"{request.cooling_off_until:%Y-%m-%d %H:%M}",
        veto_link=_link(tx, request, "veto", token),
    )


def claim_granted(
    tx: Tx,
    ticket: Ticket,
    request: AccessRequest,
    account: EnterpriseAccount,
    *,
    on_record: list[str],
) -> None:
    """A claim's grant, to its claimant (with their ticket link) and to everyone on record."""
    message = (
        f"{request.email_to_add} is now an admin of the enterprise account "
        f"{account.display_name} ({account.name}): they redeemed one of its recovery codes and "
        "nobody stopped the claim during its waiting period.\n\n"
        "The new admin must enrol multi-factor authentication before using admin powers. "
        "If the account's recovery codes may be known to others, the new admin should generate "
        "a new set, which voids the old one."
    )
    headline = "Admin access granted (recovery code)"
    send_ticket_email(
        tx, ticket, "access_outcome_notice", auto_submitted=True, headline=headline, message=message
    )
    others = [email for email in on_record if email != request.requester_email]
    if others:
        send_ticket_email(
            tx,
            ticket,
            "access_outcome_notice",
            to=others,
            auto_submitted=True,
            headline=headline,
            message=message,
        )
