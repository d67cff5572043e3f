"""The requester's ticket page read model: the thread and the request's progress, one read."""

from __future__ import annotations

import pytest

from keyholder.access.progress import customer_ticket, linked_ticket, progress_for
from keyholder.access.requester_view import Stage
from keyholder.desk import service
from keyholder.desk.links import ticket_link_mac
from keyholder.errors import NotFound
from tests.access.flow import Story


class TestCustomerTicket:
    def test_the_requester_sees_public_messages_and_no_progress(self, runtime, factories):
        carol = factories.user("carol@acme.example")
        ticket = factories.ticket(carol, body="The export button does nothing.")
        agent = factories.actor(factories.staff())
        service.add_internal_note(runtime.uow(), ticket.id, body="internal", actor=agent)
        page = customer_ticket(runtime.uow(read_only=True), ticket.id, actor=factories.actor(carol))
        assert [m.body for m in page.thread.messages] == ["The export button does nothing."]
        assert page.progress is None

    def test_s30_someone_elses_ticket_is_404(self, runtime, factories):
        ticket = factories.ticket(factories.user("carol@acme.example"))
        eve = factories.actor(factories.user("eve@evil.example"))
        with pytest.raises(NotFound):
            customer_ticket(runtime.uow(read_only=True), ticket.id, actor=eve)

    def test_an_access_request_ticket_carries_its_progress(self, runtime, factories):
        story = Story.begin(runtime, factories)
        ticket_id = story.request(story.submit()).ticket_id
        reviewer = factories.actor(story.reviewers[0])
        page = customer_ticket(runtime.uow(read_only=True), ticket_id, actor=reviewer)
        assert page.progress is not None
        assert page.progress.stage.stage is Stage.CONFIRM_EMAIL
        assert page.progress == progress_for(runtime.uow(read_only=True), ticket_id, actor=reviewer)


class TestLinkedTicket:
    def test_the_link_opens_the_public_thread(self, runtime, factories):
        ticket = factories.ticket(factories.user("carol@acme.example"), body="Hello")
        agent = factories.actor(factories.staff())
        service.add_internal_note(runtime.uow(), ticket.id, body="internal", actor=agent)
        mac = ticket_link_mac(runtime.settings, ticket.id, ticket.requester_email)
        page = linked_ticket(runtime.uow(read_only=True), ticket.id, mac)
        assert [m.body for m in page.thread.messages] == ["Hello"]
        assert page.progress is None

    def test_a_wrong_link_is_404(self, runtime, factories):
        ticket = factories.ticket(factories.user("carol@acme.example"))
        with pytest.raises(NotFound):
            linked_ticket(runtime.uow(read_only=True), ticket.id, "not-the-mac")
