"""Service levels: when a ticket's first response and resolution are due.

Due times come from the ticket's priority (settings). A ``pending`` ticket waits
on the customer, so the clock stops: when the pending spell ends, every due time
not yet met moves later by its length.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol

from keyholder.config import Settings
from keyholder.desk.models import Ticket, TicketPriority, TicketStatus


def targets(settings: Settings, priority: TicketPriority) -> tuple[timedelta, timedelta]:
    """Time allowed to the first response and to resolution for ``priority``."""
    return (
        timedelta(hours=settings.desk_first_response_hours[priority.value]),
        timedelta(hours=settings.desk_resolution_hours[priority.value]),
    )


def start_clock(ticket: Ticket, settings: Settings) -> None:
    first_response, resolution = targets(settings, ticket.priority)
    ticket.first_response_due_at = ticket.created_at + first_response
    ticket.resolution_due_at = ticket.created_at + resolution
    ticket.sla_paused_since = None


def change_priority(ticket: Ticket, priority: TicketPriority, settings: Settings) -> None:
    """Re-target due times for a new priority, keeping the time already spent paused."""
    old_first, old_resolution = targets(settings, ticket.priority)
    new_first, new_resolution = targets(settings, priority)
    ticket.first_response_due_at += new_first - old_first
    ticket.resolution_due_at += new_resolution - old_resolution
    ticket.priority = priority


def on_status_change(ticket: Ticket, new: TicketStatus, now: datetime) -> None:
    """Pause on entering ``pending``; resume (and shift due times) on leaving it."""
    old = ticket.status
    if new is TicketStatus.PENDING and old is not TicketStatus.PENDING:
        ticket.sla_paused_since = now
    elif old is TicketStatus.PENDING and new is not TicketStatus.PENDING:
        resume(ticket, now)


def resume(ticket: Ticket, now: datetime) -> None:
    if ticket.sla_paused_since is None:
        return
    paused = max(now - ticket.sla_paused_since, timedelta(0))
    if ticket.first_responded_at is None:
        ticket.first_response_due_at += paused
    ticket.resolution_due_at += paused
    ticket.sla_paused_since = None


class SlaTimes(Protocol):
    """What the breach rules read: a Ticket, or a queue row's columns (``desk.schemas``)."""

    @property
    def first_response_due_at(self) -> datetime: ...
    @property
    def first_responded_at(self) -> datetime | None: ...
    @property
    def resolution_due_at(self) -> datetime: ...
    @property
    def sla_paused_since(self) -> datetime | None: ...
    @property
    def is_open(self) -> bool: ...
    @property
    def solved_at(self) -> datetime | None: ...
    @property
    def closed_at(self) -> datetime | None: ...


def first_response_breached(ticket: SlaTimes, now: datetime) -> bool:
    answered = ticket.first_responded_at
    return (answered or _effective_now(ticket, now)) > ticket.first_response_due_at


def resolution_breached(ticket: SlaTimes, now: datetime) -> bool:
    resolved = None if ticket.is_open else ticket.solved_at or ticket.closed_at
    return (resolved or _effective_now(ticket, now)) > ticket.resolution_due_at


def _effective_now(ticket: SlaTimes, now: datetime) -> datetime:
    # While paused, time stands still at the start of the pause.
    return ticket.sla_paused_since or now
