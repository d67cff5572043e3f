"""What access asks of the desk it builds on, registered at bootstrap (``desk.hooks``).

The hooks import the access slice when first called, not here: ``bootstrap``
imports this module, and a CLI command that never touches a request should not
load the access slice (issue 16, CLI start).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from keyholder.desk import hooks

if TYPE_CHECKING:
    from sqlalchemy import ColumnElement

    from keyholder.db.tx import Tx
    from keyholder.desk.models import Ticket


def register_desk_hooks() -> None:
    hooks.on_requester_reply(_requester_replied)
    hooks.limit_customer_view(_confirmed_by_requester)


def _requester_replied(tx: Tx, ticket: Ticket) -> None:
    """A reply on an access request's ticket may put the request back in review."""
    from keyholder.access.decisions import on_requester_reply  # noqa: PLC0415
    from keyholder.desk.models import TicketKind  # noqa: PLC0415

    if ticket.kind is TicketKind.ADMIN_ACCESS:
        on_requester_reply(tx, ticket)


def _confirmed_by_requester() -> ColumnElement[bool]:
    """Not the ticket of an access request whose requester has not confirmed yet (S31a)."""
    from keyholder.access.models import AccessRequest  # noqa: PLC0415
    from keyholder.desk.models import Ticket  # noqa: PLC0415

    unconfirmed = select(AccessRequest.ticket_id).where(
        AccessRequest.requester_confirmed_at.is_(None)
    )
    return Ticket.id.not_in(unconfirmed)
