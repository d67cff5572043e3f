"""The ticket lifecycle and its SLA clock, as a state machine (hypothesis).

The model is a ticket object outside any database: ``states`` decides which
moves are allowed and ``sla`` moves the due times; the service tests check
that the use cases go through them.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from keyholder.config import Settings
from keyholder.desk import sla, states
from keyholder.desk.models import Ticket, TicketKind, TicketPriority, TicketStatus
from keyholder.errors import Conflict

SETTINGS = Settings(env="development")
START = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
S = TicketStatus


def new_ticket(priority: TicketPriority = TicketPriority.NORMAL) -> Ticket:
    ticket = Ticket(
        id=1,
        subject="s",
        kind=TicketKind.GENERAL,
        status=S.NEW,
        is_open=True,
        priority=priority,
        created_at=START,
        first_responded_at=None,
        solved_at=None,
    )
    sla.start_clock(ticket, SETTINGS)
    return ticket


class TestTransitions:
    def test_closed_is_final(self):
        for target in S:
            if target is not S.CLOSED:
                assert not states.can_change(S.CLOSED, target)
        with pytest.raises(Conflict, match="follow-up"):
            states.check_change(7, S.CLOSED, S.OPEN)

    def test_solved_only_reopens_or_closes(self):
        assert {t for t in S if states.can_change(S.SOLVED, t)} == {S.SOLVED, S.OPEN, S.CLOSED}

    def test_nothing_goes_back_to_new(self):
        assert all(not states.can_change(s, S.NEW) for s in S if s is not S.NEW)

    def test_the_refusal_names_the_allowed_moves(self):
        with pytest.raises(Conflict, match="closed, open"):
            states.check_change(3, S.SOLVED, S.PENDING)

    @given(st.sampled_from(list(S)))
    def test_open_means_someone_still_has_work(self, status):
        assert states.is_open(status) == (status not in {S.SOLVED, S.CLOSED})


class TestSlaTargets:
    @pytest.mark.parametrize(
        ("priority", "first", "resolution"),
        [("urgent", 1, 8), ("high", 4, 24), ("normal", 8, 72), ("low", 24, 168)],
    )
    def test_due_times_follow_the_priority(self, priority, first, resolution):
        ticket = new_ticket(TicketPriority(priority))
        assert ticket.first_response_due_at == START + timedelta(hours=first)
        assert ticket.resolution_due_at == START + timedelta(hours=resolution)

    def test_pending_stops_the_clock_and_resuming_moves_due_times(self):
        ticket = new_ticket()
        sla.on_status_change(ticket, S.PENDING, START + timedelta(hours=1))
        ticket.status = S.PENDING
        # Three days waiting on the customer: nothing is late meanwhile.
        later = START + timedelta(days=3, hours=1)
        assert not sla.resolution_breached(ticket, later)
        assert not sla.first_response_breached(ticket, later)
        sla.on_status_change(ticket, S.OPEN, later)
        ticket.status = S.OPEN
        assert ticket.first_response_due_at == START + timedelta(hours=8, days=3)
        assert ticket.resolution_due_at == START + timedelta(hours=72, days=3)

    def test_a_met_first_response_does_not_move(self):
        ticket = new_ticket()
        ticket.first_responded_at = START + timedelta(minutes=5)
        sla.on_status_change(ticket, S.PENDING, START + timedelta(hours=1))
        ticket.status = S.PENDING
        sla.on_status_change(ticket, S.OPEN, START + timedelta(hours=11))
        assert ticket.first_response_due_at == START + timedelta(hours=8)
        assert ticket.resolution_due_at == START + timedelta(hours=82)

    def test_priority_change_keeps_time_spent_paused(self):
        ticket = new_ticket()
        sla.on_status_change(ticket, S.PENDING, START)
        ticket.status = S.PENDING
        sla.on_status_change(ticket, S.OPEN, START + timedelta(hours=10))
        ticket.status = S.OPEN
        sla.change_priority(ticket, TicketPriority.URGENT, SETTINGS)
        assert ticket.resolution_due_at == START + timedelta(hours=8 + 10)
        assert ticket.first_response_due_at == START + timedelta(hours=1 + 10)

    def test_late_is_late(self):
        ticket = new_ticket(TicketPriority.URGENT)
        assert sla.first_response_breached(ticket, START + timedelta(hours=1, seconds=1))
        assert not sla.first_response_breached(ticket, START + timedelta(hours=1))


class TicketLifecycle(RuleBasedStateMachine):
    """Random walks through the lifecycle keep the ticket's invariants."""

    def __init__(self) -> None:
        super().__init__()
        self.ticket = new_ticket()
        self.now = START
        self.paused_total = timedelta(0)
        self.pending_since: datetime | None = None

    @rule(hours=st.integers(min_value=0, max_value=200))
    def time_passes(self, hours):
        self.now += timedelta(hours=hours)

    @rule(new=st.sampled_from(list(S)))
    def change(self, new):
        target = new
        ticket, old = self.ticket, self.ticket.status
        if not states.can_change(old, target):
            with pytest.raises(Conflict):
                states.check_change(ticket.id, old, target)
            return
        sla.on_status_change(ticket, target, self.now)
        if old is S.PENDING and target is not S.PENDING:
            assert self.pending_since is not None
            self.paused_total += self.now - self.pending_since
            self.pending_since = None
        if target is S.PENDING and old is not S.PENDING:
            self.pending_since = self.now
        ticket.status = target
        ticket.is_open = states.is_open(target)

    @precondition(lambda self: self.ticket.status is not S.CLOSED)
    @rule(priority=st.sampled_from(list(TicketPriority)))
    def reprioritise(self, priority):
        sla.change_priority(self.ticket, priority, SETTINGS)

    @invariant()
    def resolution_due_is_target_plus_time_paused(self):
        _, resolution = sla.targets(SETTINGS, self.ticket.priority)
        assert self.ticket.resolution_due_at == START + resolution + self.paused_total

    @invariant()
    def paused_exactly_while_pending(self):
        paused = self.ticket.sla_paused_since is not None
        assert paused == (self.ticket.status is S.PENDING)

    @invariant()
    def open_flag_follows_status(self):
        assert self.ticket.is_open == states.is_open(self.ticket.status)


TestTicketLifecycle = TicketLifecycle.TestCase
