"""/api/tickets: a customer's own tickets (S30), through HTTP."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from keyholder.desk.models import Ticket
from keyholder.desk.thread import Requester, create_ticket
from keyholder.identity.actor import Actor
from keyholder.identity.models import User

TICKETS = "/api/tickets"


@pytest.fixture
def agent(factories):
    return factories.staff("agent@example.com")


@pytest.fixture
def carol(factories):
    return factories.user("carol@customer.example")


def open_ticket(client, factories, user, **fields):
    body = {"subject": "Invoices missing", "body": "Where are my invoices?", **fields}
    response = client.post(TICKETS, json=body, headers=factories.auth(user))
    assert response.status_code == 201, response.text
    return response.json()


class TestOpen:
    def test_customer_opens_a_ticket_and_gets_an_acknowledgement(
        self, client, factories, carol, outbox
    ):
        ticket = open_ticket(client, factories, carol)
        assert ticket["status"] == "new"
        assert [m["body"] for m in ticket["messages"]] == ["Where are my invoices?"]
        (ack,) = outbox.to("carol@customer.example")
        assert ack.subject == f"[#{ticket['number']}] Invoices missing"

    def test_about_one_of_their_accounts_only(self, client, factories, carol):
        acme = factories.account("acme")
        factories.member(acme, carol)
        factories.account("globex")
        assert open_ticket(client, factories, carol, account="acme")["account"] == "acme"
        response = client.post(
            TICKETS,
            json={"subject": "s", "body": "b", "account": "globex"},
            headers=factories.auth(carol),
        )
        assert response.status_code == 404  # not theirs: as if it did not exist

    def test_subject_cannot_smuggle_headers(self, client, factories, carol, outbox):
        ticket = open_ticket(client, factories, carol, subject="Help\r\nBcc: thief@evil.example")
        assert ticket["subject"] == "Help Bcc: thief@evil.example"
        assert all("\n" not in row.subject for row in outbox.rows())

    def test_anonymous_must_sign_in(self, client):
        response = client.post(TICKETS, json={"subject": "s", "body": "b"})
        assert response.status_code == 401


class TestOnlyTheirOwn:
    def test_another_customers_ticket_is_404_like_a_missing_one(self, client, factories, carol):
        mallory = factories.user("mallory@evil.example")
        ticket = open_ticket(client, factories, carol)
        headers = factories.auth(mallory)
        for path in (f"{TICKETS}/{ticket['number']}", f"{TICKETS}/999999"):
            response = client.get(path, headers=headers)
            assert response.status_code == 404
            assert response.json()["detail"].startswith("no ticket #")
        reply = client.post(
            f"{TICKETS}/{ticket['number']}/replies", json={"body": "hi"}, headers=headers
        )
        assert reply.status_code == 404
        assert client.get(TICKETS, headers=headers).json() == []

    def test_email_tickets_need_a_verified_address(self, client, factories, runtime):
        """A ticket written from carol's mailbox is hers only once she proves the address."""
        with runtime.uow() as uow:
            ticket = create_ticket(
                uow,
                subject="Locked out",
                requester=Requester(email="dana@customer.example"),
                actor=Actor(label="email:dana@customer.example"),
            )
            uow.commit()
        # Someone signs up with dana's address but cannot prove it.
        impostor = factories.user("dana@customer.example")
        self._set_verified(runtime, impostor, verified=False)
        headers = factories.auth(impostor)
        assert client.get(f"{TICKETS}/{ticket.id}", headers=headers).status_code == 404
        self._set_verified(runtime, impostor, verified=True)
        assert client.get(f"{TICKETS}/{ticket.id}", headers=headers).status_code == 200
        assert [t["number"] for t in client.get(TICKETS, headers=headers).json()] == [ticket.id]

    @staticmethod
    def _set_verified(runtime, user, *, verified):
        with runtime.uow() as uow:
            at = uow.clock.now() if verified else None
            uow.session.execute(update(User).where(User.id == user.id).values(email_verified_at=at))
            uow.commit()

    def test_list_is_newest_first_and_pages(self, client, factories, carol):
        made = [open_ticket(client, factories, carol)["number"] for _ in range(3)]
        headers = factories.auth(carol)
        first = client.get(TICKETS, params={"limit": 2}, headers=headers).json()
        assert [t["number"] for t in first] == made[::-1][:2]
        rest = client.get(TICKETS, params={"before": first[-1]["number"]}, headers=headers).json()
        assert [t["number"] for t in rest] == made[:1]

    def test_staff_fields_are_not_in_the_customer_view(self, client, factories, carol):
        ticket = open_ticket(client, factories, carol)
        view = client.get(f"{TICKETS}/{ticket['number']}", headers=factories.auth(carol)).json()
        assert not {"assignee", "priority", "group", "sla", "kind"} & set(view)
        assert not {"visibility", "needs_review", "channel"} & set(view["messages"][0])


class TestLastChangeTheCustomerSees:
    """S31a, S30: staff-side activity must not show in the customer's view, not even as a time."""

    def test_internal_notes_and_staff_edits_leave_the_customers_last_change(
        self, client, factories, carol, agent, clock
    ):
        number = open_ticket(client, factories, carol)["number"]
        mine, staff = factories.auth(carol), factories.auth(agent)
        opened = client.get(f"{TICKETS}/{number}", headers=mine).json()["updated_at"]

        clock.advance(timedelta(hours=1))
        note = client.post(
            f"/api/desk/tickets/{number}/notes",
            json={"body": "Checked the contract"},
            headers=staff,
        )
        assert note.status_code == 201, note.text
        edit = client.patch(f"/api/desk/tickets/{number}", json={"priority": "high"}, headers=staff)
        assert edit.status_code == 200, edit.text

        assert client.get(f"{TICKETS}/{number}", headers=mine).json()["updated_at"] == opened
        assert [t["updated_at"] for t in client.get(TICKETS, headers=mine).json()] == [opened]

    def test_a_public_reply_or_a_status_change_moves_it(
        self, client, factories, carol, agent, clock
    ):
        number = open_ticket(client, factories, carol)["number"]
        mine, staff = factories.auth(carol), factories.auth(agent)
        opened = client.get(f"{TICKETS}/{number}", headers=mine).json()["updated_at"]

        clock.advance(timedelta(hours=1))
        reply = client.post(
            f"/api/desk/tickets/{number}/replies", json={"body": "Here it is"}, headers=staff
        )
        assert reply.status_code == 201, reply.text
        replied = client.get(f"{TICKETS}/{number}", headers=mine).json()["updated_at"]
        clock.advance(timedelta(hours=1))
        client.patch(f"/api/desk/tickets/{number}", json={"status": "solved"}, headers=staff)
        solved = client.get(f"{TICKETS}/{number}", headers=mine).json()["updated_at"]

        assert opened < replied < solved


class TestCustomerReplies:
    def test_reply_reopens_a_solved_ticket(self, client, factories, carol, agent):
        ticket = open_ticket(client, factories, carol)
        number = ticket["number"]
        client.patch(
            f"/api/desk/tickets/{number}", json={"status": "solved"}, headers=factories.auth(agent)
        )
        response = client.post(
            f"{TICKETS}/{number}/replies",
            json={"body": "Still broken"},
            headers=factories.auth(carol),
        )
        assert response.status_code == 201
        assert response.json()["ticket"] == number
        view = client.get(f"{TICKETS}/{number}", headers=factories.auth(carol)).json()
        assert view["status"] == "open"

    def test_reply_to_a_pending_ticket_resumes_the_clock(
        self, client, factories, carol, agent, runtime
    ):
        number = open_ticket(client, factories, carol)["number"]
        client.post(
            f"/api/desk/tickets/{number}/replies",
            json={"body": "Which browser?", "status": "pending"},
            headers=factories.auth(agent),
        )
        client.post(
            f"{TICKETS}/{number}/replies", json={"body": "Firefox"}, headers=factories.auth(carol)
        )
        with runtime.uow(read_only=True) as uow:
            stored = uow.session.get(Ticket, number)
            assert stored is not None
            assert stored.status.value == "open"
            assert stored.sla_paused_since is None

    def test_reply_to_a_closed_ticket_opens_a_linked_follow_up(
        self, client, factories, carol, agent, outbox
    ):
        number = open_ticket(client, factories, carol)["number"]
        client.patch(
            f"/api/desk/tickets/{number}", json={"status": "closed"}, headers=factories.auth(agent)
        )
        response = client.post(
            f"{TICKETS}/{number}/replies",
            json={"body": "It is back"},
            headers=factories.auth(carol),
        )
        follow_up = response.json()["ticket"]
        assert follow_up != number
        headers = factories.auth(carol)
        old = client.get(f"{TICKETS}/{number}", headers=headers).json()
        new = client.get(f"{TICKETS}/{follow_up}", headers=headers).json()
        assert old["status"] == "closed"
        assert old["follow_ups"] == [follow_up]
        assert new["follow_up_of"] == number
        assert [m["body"] for m in new["messages"]] == ["It is back"]
        (notice,) = outbox.of_kind("desk_follow_up")
        assert f"#{number} is closed" in notice.body

    def test_quoted_history_is_kept_but_set_apart_for_display(self, client, factories, carol):
        number = open_ticket(client, factories, carol)["number"]
        body = "Thanks, that fixed it.\n\nOn Mon, 5 Jan 2026, Support wrote:\n> Try again\n"
        reply = client.post(
            f"{TICKETS}/{number}/replies", json={"body": body}, headers=factories.auth(carol)
        ).json()
        assert reply["body"] == body
        assert reply["body_new"].strip() == "Thanks, that fixed it."
        assert reply["body_new"] + reply["body_quoted"] == body

    def test_agents_address_is_not_shown_to_customers(self, client, factories, carol, agent):
        number = open_ticket(client, factories, carol)["number"]
        client.post(
            f"/api/desk/tickets/{number}/replies",
            json={"body": "Hi"},
            headers=factories.auth(agent),
        )
        view = client.get(f"{TICKETS}/{number}", headers=factories.auth(carol)).json()
        assert view["messages"][1]["author"] == {"email": None, "name": agent.name, "staff": True}
