"""The ticket link in desk emails: the requester's thread without signing in.

``/t/<number>/kht_<mac>``, where the MAC (HMAC-SHA256 with the secret key) binds
the ticket number to the requester's address. It grants what the emails
already give the requester, and nothing more: the public thread (each public
reply was mailed to them) and answering it (as the reply plus-address does);
no internal notes, no other ticket. It dies when
the ticket's requester changes, and ``desk_link_after_close`` after the ticket
closes. Nothing is stored: the key and the ticket row are the whole state.
"""

from __future__ import annotations

import hashlib
import hmac

from sqlalchemy import select

from keyholder.config import Settings
from keyholder.db.tx import Tx
from keyholder.desk.models import Ticket, TicketStatus
from keyholder.errors import NotFound

_MAC_LENGTH = 32  # hex digits: 128 bits, as it stands in for a password
# A token prefix like the others' (identity.tokens), so log redaction knows it (S6).
_PREFIX = "kht_"

DEAD_LINK = (
    "this ticket link does not work: it is mistyped, or its ticket closed a while ago. "
    "Sign in to see your tickets, or write to support again"
)


def ticket_link_mac(settings: Settings, number: int, requester_email: str) -> str:
    message = f"desk-view:{number}:{requester_email.lower()}".encode()
    digest = hmac.new(settings.secret, message, hashlib.sha256).hexdigest()
    return _PREFIX + digest[:_MAC_LENGTH]


def ticket_path(settings: Settings, number: int, requester_email: str) -> str:
    """The path of the ticket's page for its requester."""
    return f"/t/{number}/{ticket_link_mac(settings, number, requester_email)}"


def ticket_link(settings: Settings, ticket: Ticket) -> str:
    """The address of the ticket's page for its requester (from ``base_url`` only, S4)."""
    path = ticket_path(settings, ticket.id, ticket.requester_email)
    return f"{settings.base_url.rstrip('/')}{path}"


def ticket_by_link(tx: Tx, number: int, mac: str, *, lock: bool = False) -> Ticket:
    """The ticket the link names, if its MAC is right and it is still alive; 404 otherwise.

    One answer for a wrong MAC, a missing ticket and an expired link, so the
    link says nothing about tickets it does not open.
    """
    query = select(Ticket).where(Ticket.id == number)
    if lock:
        query = query.with_for_update()
    ticket = tx.session.scalars(query).one_or_none()
    expected = ticket_link_mac(tx.settings, number, ticket.requester_email if ticket else "")
    if ticket is None or not hmac.compare_digest(mac.encode(), expected.encode()):
        raise NotFound(DEAD_LINK)
    closed_at = ticket.closed_at if ticket.status is TicketStatus.CLOSED else None
    if closed_at is not None and tx.clock.now() - closed_at > tx.settings.desk_link_after_close:
        raise NotFound(DEAD_LINK)
    return ticket
