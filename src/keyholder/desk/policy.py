"""Who may see which tickets (S29, S30). Every desk read goes through here.

Staff (with MFA, S18) see every ticket. A customer sees the tickets they asked
for: those opened as their user, and those opened from their email address
once they have verified it (someone who signs up with another person's address
must not read that person's tickets). Everyone else gets 404, whether the
ticket exists or not. The ticket of a request for admin access shows to nobody
until its requester confirmed their address by the emailed link (S31a):
anyone can type anyone's address into that form. The access slice adds that
rule through ``desk.hooks`` (the desk does not know access).
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, false, or_, select

from keyholder.db.tx import Tx
from keyholder.desk import hooks
from keyholder.desk.models import Ticket
from keyholder.errors import NotAuthenticated, NotFound, PermissionDenied
from keyholder.identity.actor import Actor
from keyholder.identity.models import User

STAFF_ONLY = "this is for support staff only"


def require_staff(actor: Actor) -> None:
    """403 for anyone but staff; staff without MFA get 403 from ``is_staff`` (S18, S29)."""
    if not actor.is_staff:
        raise PermissionDenied(STAFF_ONLY)


def customer_owns(tx: Tx, actor: Actor) -> ColumnElement[bool]:
    """The WHERE clause for "tickets this signed-in customer asked for"."""
    if actor.user_id is None:
        raise NotAuthenticated("sign in to see your tickets")
    user = tx.session.get(User, actor.user_id)
    if user is None or not user.is_active:
        return false()
    mine = Ticket.requester_user_id == user.id
    # What the slices on the desk hide from customers, e.g. an access request's
    # ticket until its requester confirms (S31a).
    visible = hooks.customer_visible()
    if user.email_verified_at is None:
        return and_(mine, *visible)
    return and_(or_(mine, Ticket.requester_email == user.email), *visible)


def readable_ticket(tx: Tx, number: int, *, actor: Actor, lock: bool = False) -> Ticket:
    """The ticket if the actor may see it; 404 otherwise (S30)."""
    query = select(Ticket).where(Ticket.id == number)
    if not actor.is_staff:  # first: 403 for staff without MFA
        query = query.where(customer_owns(tx, actor))
    if lock:
        query = query.with_for_update()
    ticket = tx.session.scalars(query).one_or_none()
    if ticket is None:
        raise NotFound(f"no ticket #{number}")
    return ticket
