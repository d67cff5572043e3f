"""The ticket lifecycle: which status may follow which, in one place."""

from __future__ import annotations

from collections.abc import Mapping

from keyholder.desk.models import TicketStatus
from keyholder.errors import Conflict

S = TicketStatus

# solved -> open is the reopening (a customer reply, or an agent); closed is final.
TRANSITIONS: Mapping[TicketStatus, frozenset[TicketStatus]] = {
    S.NEW: frozenset({S.OPEN, S.PENDING, S.ON_HOLD, S.SOLVED, S.CLOSED}),
    S.OPEN: frozenset({S.PENDING, S.ON_HOLD, S.SOLVED, S.CLOSED}),
    S.PENDING: frozenset({S.OPEN, S.ON_HOLD, S.SOLVED, S.CLOSED}),
    S.ON_HOLD: frozenset({S.OPEN, S.PENDING, S.SOLVED, S.CLOSED}),
    S.SOLVED: frozenset({S.OPEN, S.CLOSED}),
    S.CLOSED: frozenset(),
}

OPEN_STATUSES = frozenset({S.NEW, S.OPEN, S.PENDING, S.ON_HOLD})


def is_open(status: TicketStatus) -> bool:
    """Open means someone still has something to do: neither solved nor closed."""
    return status in OPEN_STATUSES


def can_change(current: TicketStatus, target: TicketStatus) -> bool:
    return target == current or target in TRANSITIONS[current]


def check_change(number: int, current: TicketStatus, target: TicketStatus) -> None:
    """Raise ``Conflict`` unless ``current`` may become ``target`` (staying put is allowed)."""
    if can_change(current, target):
        return
    if current is S.CLOSED:
        raise Conflict(f"ticket #{number} is closed; a reply opens a follow-up ticket instead")
    allowed = ", ".join(sorted(TRANSITIONS[current]))
    raise Conflict(
        f"ticket #{number} cannot go from {current} to {target}; from {current} it can go to: "
        f"{allowed}"
    )
