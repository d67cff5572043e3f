"""The desk's ticket page read model: staff only, every message, canned replies filled in."""

from __future__ import annotations

import pytest

from keyholder.desk import canned, service
from keyholder.desk.models import TicketStatus
from keyholder.desk.overview import desk_queue, desk_ticket
from keyholder.desk.queue import QueueFilter, QueueSort
from keyholder.errors import InvalidInput, NotFound, PermissionDenied


@pytest.fixture
def carol(factories):
    return factories.user("carol@acme.example")


@pytest.fixture
def ticket(factories, carol):
    return factories.ticket(carol, subject="Export fails")


@pytest.fixture
def agent(factories, runtime, ticket):
    actor = factories.actor(factories.staff("agent@keyholder.example"))
    service.add_internal_note(runtime.uow(), ticket.id, body="looked at it", actor=actor)
    canned.save_canned_reply(
        runtime.uow(), "hello", "Hello about #{ticket_number}: {subject}", actor=actor, create=True
    )
    return actor


class TestDeskTicket:
    def test_staff_see_every_message_and_the_canned_replies(self, runtime, ticket, agent):
        page = desk_ticket(runtime.uow(read_only=True), ticket.id, actor=agent)
        assert page.thread.ticket.id == ticket.id
        assert [m.body for m in page.thread.messages][-1] == "looked at it"  # internal too
        assert [r.name for r in page.canned_replies] == ["hello"]
        assert (page.reply, page.reply_error) == ("", "")

    def test_a_chosen_canned_reply_is_filled_in_for_the_ticket(self, runtime, ticket, agent):
        page = desk_ticket(runtime.uow(read_only=True), ticket.id, actor=agent, canned="hello")
        assert page.reply == f"Hello about #{ticket.id}: Export fails"
        missing = desk_ticket(runtime.uow(read_only=True), ticket.id, actor=agent, canned="nope")
        assert (missing.reply, missing.reply_error) == ("", "no canned reply named 'nope'")

    def test_s29_customers_get_403_even_for_their_own_ticket(
        self, runtime, factories, carol, ticket
    ):
        with pytest.raises(PermissionDenied):
            desk_ticket(runtime.uow(read_only=True), ticket.id, actor=factories.actor(carol))

    def test_no_such_ticket_is_404_whatever_the_canned_reply(self, runtime, agent):
        with pytest.raises(NotFound):
            desk_ticket(runtime.uow(read_only=True), 9999, actor=agent, canned="nope")


class TestDeskQueue:
    def test_staff_see_the_rows_and_the_open_counts(self, runtime, factories, ticket, agent):
        factories.ticket(factories.user("dan@acme.example"), subject="Second")
        page = desk_queue(runtime.uow(read_only=True), QueueFilter(limit=10), actor=agent)
        assert sorted(row.ticket.subject for row in page.rows) == ["Export fails", "Second"]
        assert page.open_counts == {TicketStatus.NEW: 2}
        assert page.now == runtime.clock.now()

    def test_s29_customers_get_403(self, runtime, factories, carol, ticket):
        with pytest.raises(PermissionDenied):
            desk_queue(runtime.uow(read_only=True), QueueFilter(), actor=factories.actor(carol))

    def test_a_filter_the_queue_cannot_answer_is_refused(self, runtime, agent):
        wanted = QueueFilter(sort=QueueSort.DUE, after=5)
        with pytest.raises(InvalidInput):
            desk_queue(runtime.uow(read_only=True), wanted, actor=agent)
