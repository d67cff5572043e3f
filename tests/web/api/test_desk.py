"""/api/desk: the staff queue and ticket work (S29), through HTTP."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from keyholder.audit.service import list_events
from keyholder.desk.addresses import reply_address, ticket_from_address
from keyholder.desk.models import TicketStatus
from keyholder.identity.models import StaffRole
from tests.desk import sample_files

DESK = "/api/desk/tickets"


@pytest.fixture
def agent(factories):
    return factories.staff("agent@example.com")


@pytest.fixture
def carol(factories):
    return factories.user("carol@customer.example", name="Carol Customer")


@pytest.fixture
def ticket(factories, carol):
    return factories.ticket(carol, subject="Export is broken")


def numbers(response):
    assert response.status_code == 200, response.text
    return [t["number"] for t in response.json()]


class TestStaffOnly:
    """S29: anonymous → 401, customers → 403, staff without MFA → 403, on every desk route."""

    @pytest.fixture
    def desk_routes(self, client):
        spec = client.get("/api/openapi.json").json()
        routes = [
            (method.upper(), path)
            for path, operations in spec["paths"].items()
            if path.startswith("/api/desk")
            for method in operations
        ]
        assert len(routes) >= 10
        return routes

    # A valid body for each route that takes one, so a refusal is about the caller,
    # not the input. A new desk route must be added here (KeyError otherwise).
    VALID_BODIES = {  # noqa: RUF012
        ("POST", "/api/desk/tickets/bulk-status"): {"numbers": ["{number}"], "status": "open"},
        ("PATCH", "/api/desk/tickets/{number}"): {"status": "open"},
        ("POST", "/api/desk/tickets/{number}/replies"): {"body": "x"},
        ("POST", "/api/desk/tickets/{number}/notes"): {"body": "x"},
        ("POST", "/api/desk/canned-replies"): {"name": "hello", "body": "x"},
        ("PUT", "/api/desk/canned-replies/{name}"): {"body": "x"},
    }

    def _call(self, client, method, path, headers, ticket):
        url = path.replace("{number}", str(ticket.id)).replace("{name}", "hello")
        body = None
        if method in {"POST", "PATCH", "PUT"}:
            body = self.VALID_BODIES[method, path]
            if body.get("numbers"):
                body = {**body, "numbers": [ticket.id]}
        return client.request(method, url, json=body, headers=headers)

    def test_anonymous_is_asked_to_sign_in(self, client, desk_routes, ticket):
        for method, path in desk_routes:
            response = self._call(client, method, path, {}, ticket)
            assert response.status_code == 401, (method, path)
            assert response.headers["content-type"] == "application/problem+json"

    def test_customers_are_refused_even_on_their_own_ticket(
        self, client, factories, desk_routes, carol, ticket
    ):
        # The requester themself: the desk is not theirs, the customer API is.
        headers = factories.auth(carol)
        for method, path in desk_routes:
            response = self._call(client, method, path, headers, ticket)
            assert response.status_code == 403, (method, path, response.text)

    def test_staff_without_mfa_are_refused(self, client, factories, desk_routes, ticket):
        unenrolled = factories.user(staff_role=StaffRole.ADMIN, mfa=False)
        headers = factories.auth(unenrolled)
        for method, path in desk_routes:
            response = self._call(client, method, path, headers, ticket)
            assert response.status_code == 403, (method, path)
            assert "multi-factor" in response.json()["detail"]

    def test_nothing_changed_after_the_refusals(
        self, client, factories, desk_routes, carol, ticket, outbox
    ):
        sent_before = len(outbox.rows())
        for headers in ({}, factories.auth(carol)):
            for method, path in desk_routes:
                self._call(client, method, path, headers, ticket)
        view = client.get(f"/api/tickets/{ticket.id}", headers=factories.auth(carol)).json()
        assert view["status"] == "new"
        assert len(view["messages"]) == 1
        assert len(outbox.rows()) == sent_before

    @settings(
        max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
    )
    @given(
        body=st.recursive(
            st.none() | st.booleans() | st.integers() | st.text(max_size=20),
            lambda inner: (
                st.lists(inner, max_size=3)
                | st.dictionaries(st.text(max_size=8), inner, max_size=3)
            ),
            max_leaves=8,
        )
    )
    def test_fuzzed_bodies_from_a_customer_never_succeed(
        self, client, factories, desk_routes, carol, ticket, body
    ):
        headers = {"Authorization": f"Bearer {self.customer_token(factories, carol)}"}
        for method, path in desk_routes:
            url = path.replace("{number}", str(ticket.id)).replace("{name}", "hello")
            response = client.request(method, url, json=body, headers=headers)
            assert response.status_code in {403, 422}, (method, path, body)

    _tokens: dict[tuple[int, str], str] = {}  # noqa: RUF012 - hypothesis reruns the body only

    def customer_token(self, factories, user):
        # One token per test (the database is emptied between tests), not per example.
        key = (id(factories), user.email)
        if key not in self._tokens:
            self._tokens.clear()
            self._tokens[key] = factories.token(user)
        return self._tokens[key]


class TestQueue:
    def test_newest_open_first_and_done_tickets_apart(self, client, factories, agent, carol):
        first = factories.ticket(carol)
        second = factories.ticket(carol)
        third = factories.ticket(carol)
        client.patch(
            f"{DESK}/{second.id}", json={"status": "solved"}, headers=factories.auth(agent)
        )
        headers = factories.auth(agent)
        assert numbers(client.get(DESK, headers=headers)) == [third.id, first.id]
        assert numbers(client.get(DESK, params={"state": "done"}, headers=headers)) == [second.id]
        assert numbers(
            client.get(DESK, params={"state": "all", "sort": "oldest"}, headers=headers)
        ) == [
            first.id,
            second.id,
            third.id,
        ]

    def test_filters_combine(self, client, factories, agent, carol):
        acme = factories.account("acme")
        factories.member(acme, carol)
        about_acme = factories.ticket(carol, account=acme)
        factories.ticket(carol)
        headers = factories.auth(agent)
        client.patch(
            f"{DESK}/{about_acme.id}",
            json={"assignee": "agent@example.com", "group": "billing"},
            headers=headers,
        )
        assert numbers(client.get(DESK, params={"account": "acme"}, headers=headers)) == [
            about_acme.id
        ]
        assert numbers(client.get(DESK, params={"assignee": "me"}, headers=headers)) == [
            about_acme.id
        ]
        assert numbers(
            client.get(DESK, params={"group": "billing", "kind": "general"}, headers=headers)
        ) == [about_acme.id]
        assert numbers(client.get(DESK, params={"account": "nobody-here"}, headers=headers)) == []
        assert (
            numbers(client.get(DESK, params={"status": ["pending", "on_hold"]}, headers=headers))
            == []
        )

    def test_pages_by_number(self, client, factories, agent, carol):
        made = [factories.ticket(carol).id for _ in range(5)]
        headers = factories.auth(agent)
        page = numbers(client.get(DESK, params={"limit": 2}, headers=headers))
        assert page == made[::-1][:2]
        rest = numbers(client.get(DESK, params={"limit": 10, "after": page[-1]}, headers=headers))
        assert rest == made[::-1][2:]

    def test_bad_filters_are_clear_errors(self, client, factories, agent):
        headers = factories.auth(agent)
        assert client.get(DESK, params={"limit": 1000}, headers=headers).status_code == 422
        assert client.get(DESK, params={"status": "lost"}, headers=headers).status_code == 422
        response = client.get(DESK, params={"sort": "due", "after": 3}, headers=headers)
        assert response.status_code == 422
        assert "after" in response.json()["detail"]

    def test_counts_per_open_status(self, client, factories, agent, carol):
        factories.ticket(carol)
        pending = factories.ticket(carol)
        client.patch(
            f"{DESK}/{pending.id}", json={"status": "pending"}, headers=factories.auth(agent)
        )
        counts = client.get("/api/desk/counts", headers=factories.auth(agent)).json()
        assert counts == {"new": 1, "pending": 1}


class TestReplies:
    def test_reply_is_emailed_threaded_with_a_reply_address(
        self, client, factories, agent, ticket, outbox, settings
    ):
        response = client.post(
            f"{DESK}/{ticket.id}/replies",
            json={"body": "Please clear your cache.", "status": "pending"},
            headers=factories.auth(agent),
        )
        assert response.status_code == 201, response.text
        received, reply = outbox.to("carol@customer.example")
        assert reply.kind == "desk_reply"
        assert reply.subject == f"[#{ticket.id}] Export is broken"
        assert "Please clear your cache." in reply.body
        assert reply.headers["In-Reply-To"] == received.message_id
        assert reply.headers["References"] == received.message_id
        assert ticket_from_address(settings, reply.headers["Reply-To"]) == ticket.id
        # A person wrote it: not marked as an automatic message (RFC 3834).
        assert "Auto-Submitted" not in reply.headers
        assert received.headers["Auto-Submitted"] == "auto-generated"

    def test_first_reply_opens_a_new_ticket_and_stops_the_first_response_clock(
        self, client, factories, agent, ticket, clock
    ):
        clock.advance(timedelta(hours=2))
        client.post(
            f"{DESK}/{ticket.id}/replies", json={"body": "On it."}, headers=factories.auth(agent)
        )
        view = client.get(f"{DESK}/{ticket.id}", headers=factories.auth(agent)).json()
        assert view["status"] == "open"
        assert view["sla"]["first_responded_at"] == "2026-01-15T14:00:00Z"
        assert view["sla"]["first_response_breached"] is False

    def test_reply_to_a_closed_ticket_is_refused_and_sends_nothing(
        self, client, factories, agent, ticket, outbox
    ):
        headers = factories.auth(agent)
        client.patch(f"{DESK}/{ticket.id}", json={"status": "closed"}, headers=headers)
        before = len(outbox.rows())
        response = client.post(
            f"{DESK}/{ticket.id}/replies", json={"body": "Late"}, headers=headers
        )
        assert response.status_code == 409
        assert len(outbox.rows()) == before
        messages = client.get(f"{DESK}/{ticket.id}", headers=headers).json()["messages"]
        assert [m["body"] for m in messages] == ["The export button does nothing."]

    def test_solving_tells_the_customer_how_to_reopen(
        self, client, factories, agent, ticket, outbox
    ):
        client.patch(
            f"{DESK}/{ticket.id}", json={"status": "solved"}, headers=factories.auth(agent)
        )
        (solved,) = outbox.of_kind("desk_ticket_solved")
        assert "reply to this email" in solved.body
        assert solved.headers["Auto-Submitted"] == "auto-generated"


class TestAttachments:
    def test_reply_and_note_carry_files_and_only_public_ones_reach_the_customer(
        self, client, factories, agent, carol, ticket, outbox
    ):
        headers = factories.auth(agent)
        reply = client.post(
            f"{DESK}/{ticket.id}/replies",
            data={"body": "Here is the invoice", "status": "pending"},
            files={"files": ("invoice.pdf", sample_files.pdf(), "application/pdf")},
            headers=headers,
        )
        assert reply.status_code == 201, reply.text
        (public,) = reply.json()["attachments"]
        assert public["filename"] == "invoice.pdf"
        note = client.post(
            f"{DESK}/{ticket.id}/notes",
            data={"body": "Screenshot of the admin panel"},
            files={"files": ("panel.png", sample_files.png(), "image/png")},
            headers=headers,
        )
        (internal,) = note.json()["attachments"]
        customer = factories.auth(carol)
        view = client.get(f"/api/tickets/{ticket.id}", headers=customer).json()
        assert [a["filename"] for m in view["messages"] for a in m["attachments"]] == [
            "invoice.pdf"
        ]
        assert client.get(public["url"], headers=customer).status_code == 200
        assert client.get(internal["url"], headers=customer).status_code == 404
        assert client.get(internal["url"], headers=headers).status_code == 200

    def test_a_refused_file_loses_the_whole_reply_and_sends_nothing(
        self, client, factories, agent, ticket, outbox
    ):
        sent = len(outbox.rows())
        response = client.post(
            f"{DESK}/{ticket.id}/replies",
            data={"body": "See attached"},
            files={"files": ("page.pdf", b"<html><script>1</script></html>", "application/pdf")},
            headers=factories.auth(agent),
        )
        assert response.status_code == 415
        assert len(outbox.rows()) == sent
        messages = client.get(f"{DESK}/{ticket.id}", headers=factories.auth(agent)).json()
        assert len(messages["messages"]) == 1


class TestSlaClock:
    def test_waiting_on_the_customer_does_not_count(
        self, client, factories, agent, carol, ticket, clock
    ):
        headers = factories.auth(agent)
        client.post(
            f"{DESK}/{ticket.id}/replies",
            json={"body": "Which browser?", "status": "pending"},
            headers=headers,
        )
        clock.advance(timedelta(days=5))  # normal priority: 72 hours to resolve
        sla = client.get(f"{DESK}/{ticket.id}", headers=headers).json()["sla"]
        assert sla["paused"] is True
        assert sla["resolution_breached"] is False
        client.post(
            f"/api/tickets/{ticket.id}/replies",
            json={"body": "Firefox"},
            headers=factories.auth(carol),
        )
        sla = client.get(f"{DESK}/{ticket.id}", headers=headers).json()["sla"]
        assert sla["paused"] is False
        assert sla["resolution_due_at"] == "2026-01-23T12:00:00Z"  # 3 days + 5 paused
        clock.advance(timedelta(days=3, seconds=1))
        assert client.get(f"{DESK}/{ticket.id}", headers=headers).json()["sla"][
            "resolution_breached"
        ]


class TestInternalNotes:
    SECRET = "Customer sounded like a social engineer; check the contract first."

    def test_never_emailed_never_shown_to_the_customer(
        self, client, factories, agent, carol, ticket, outbox
    ):
        headers = factories.auth(agent)
        response = client.post(
            f"{DESK}/{ticket.id}/notes", json={"body": self.SECRET}, headers=headers
        )
        assert response.status_code == 201
        assert response.json()["visibility"] == "internal"
        # Later public activity must not carry the note along either.
        client.post(f"{DESK}/{ticket.id}/replies", json={"body": "Hello"}, headers=headers)
        client.patch(f"{DESK}/{ticket.id}", json={"status": "solved"}, headers=headers)
        for row in outbox.rows():
            assert self.SECRET not in row.body
            assert self.SECRET not in (row.body_html or "")
        as_customer = client.get(f"/api/tickets/{ticket.id}", headers=factories.auth(carol))
        assert self.SECRET not in as_customer.text
        assert [m["body"] for m in as_customer.json()["messages"]] == [
            "The export button does nothing.",
            "Hello",
        ]
        as_staff = client.get(f"{DESK}/{ticket.id}", headers=headers).json()
        assert self.SECRET in [m["body"] for m in as_staff["messages"]]

    def test_notes_are_audited(self, client, factories, agent, ticket, runtime):
        client.post(f"{DESK}/{ticket.id}/notes", json={"body": "n"}, headers=factories.auth(agent))
        (event,) = list_events(runtime.uow(read_only=True), action="ticket.note")
        assert event.actor == "agent@example.com"
        assert event.target == f"ticket:{ticket.id}"


class TestChanges:
    def test_assignment_and_status_are_audited_with_before_and_after(
        self, client, factories, agent, ticket, runtime
    ):
        headers = factories.auth(agent)
        response = client.patch(
            f"{DESK}/{ticket.id}",
            json={"assignee": "agent@example.com", "status": "on_hold", "priority": "urgent"},
            headers=headers,
        )
        assert response.status_code == 200
        assert response.json()["assignee"] == "agent@example.com"
        events = {e.action: e.data for e in list_events(runtime.uow(read_only=True))}
        assert events["ticket.assign"] == {
            "before": {"assign": None},
            "after": {"assign": "agent@example.com"},
        }
        assert events["ticket.status"]["before"] == {"status": "new"}
        assert events["ticket.status"]["after"] == {"status": "on_hold"}
        assert events["ticket.priority"]["after"] == {"priority": "urgent"}
        unassigned = client.patch(f"{DESK}/{ticket.id}", json={"assignee": None}, headers=headers)
        assert unassigned.json()["assignee"] is None

    def test_only_staff_take_tickets(self, client, factories, agent, carol, ticket):
        response = client.patch(
            f"{DESK}/{ticket.id}", json={"assignee": carol.email}, headers=factories.auth(agent)
        )
        assert response.status_code == 422
        assert "staff" in response.json()["detail"]

    def test_a_refused_change_changes_nothing(self, client, factories, agent, ticket):
        headers = factories.auth(agent)
        response = client.patch(
            f"{DESK}/{ticket.id}",
            json={"status": "on_hold", "group": "no-such-group"},
            headers=headers,
        )
        assert response.status_code == 422
        assert client.get(f"{DESK}/{ticket.id}", headers=headers).json()["status"] == "new"

    def test_bulk_status_is_all_or_nothing(self, client, factories, agent, carol):
        headers = factories.auth(agent)
        a, b, c = (factories.ticket(carol) for _ in range(3))
        client.patch(f"{DESK}/{c.id}", json={"status": "closed"}, headers=headers)
        refused = client.post(
            f"{DESK}/bulk-status",
            json={"numbers": [a.id, b.id, c.id], "status": "solved"},
            headers=headers,
        )
        assert refused.status_code == 409
        assert f"#{c.id}" in refused.json()["detail"]
        assert numbers(client.get(DESK, headers=headers)) == [b.id, a.id]
        done = client.post(
            f"{DESK}/bulk-status",
            json={"numbers": [a.id, b.id], "status": "solved"},
            headers=headers,
        )
        assert done.json() == {"updated": [a.id, b.id]}
        assert numbers(client.get(DESK, headers=headers)) == []

    def test_unknown_ticket_is_404_for_staff(self, client, factories, agent):
        response = client.get(f"{DESK}/999999", headers=factories.auth(agent))
        assert response.status_code == 404


class TestCannedReplies:
    def test_placeholders_are_filled_from_the_ticket(self, client, factories, agent, ticket):
        headers = factories.auth(agent)
        created = client.post(
            "/api/desk/canned-replies",
            json={
                "name": "ack",
                "body": "Hi {requester_name}, #{ticket_number} ({subject}) - {agent_name}",
            },
            headers=headers,
        )
        assert created.status_code == 201
        rendered = client.get(f"{DESK}/{ticket.id}/canned-replies/ack", headers=headers).json()
        assert (
            rendered["body"] == f"Hi Carol Customer, #{ticket.id} (Export is broken) - {agent.name}"
        )

    def test_templates_cannot_reach_into_objects(self, client, factories, agent):
        response = client.post(
            "/api/desk/canned-replies",
            json={"name": "evil", "body": "{ticket.__class__} {settings}"},
            headers=factories.auth(agent),
        )
        assert response.status_code == 422
        assert (
            "{settings}" in response.json()["detail"] or "placeholder" in response.json()["detail"]
        )

    def test_names_are_unique_and_can_be_replaced_and_deleted(self, client, factories, agent):
        headers = factories.auth(agent)
        client.post("/api/desk/canned-replies", json={"name": "a", "body": "one"}, headers=headers)
        again = client.post(
            "/api/desk/canned-replies", json={"name": "a", "body": "x"}, headers=headers
        )
        assert again.status_code == 409
        client.put("/api/desk/canned-replies/a", json={"body": "two"}, headers=headers)
        listed = client.get("/api/desk/canned-replies", headers=headers).json()
        assert [(r["name"], r["body"]) for r in listed] == [("a", "two")]
        assert client.delete("/api/desk/canned-replies/a", headers=headers).status_code == 204
        assert client.get("/api/desk/canned-replies", headers=headers).json() == []


def test_reply_address_mac_is_checked(settings):
    address = reply_address(settings, 42)
    assert ticket_from_address(settings, address) == 42
    forged = re.sub(r"t42-", "t43-", address)
    assert ticket_from_address(settings, forged) is None
    assert ticket_from_address(settings, "support+t42@keyholder.localhost") is None


def test_status_values_match_the_model(client):
    spec = client.get("/api/openapi.json").json()
    assert set(spec["components"]["schemas"]["TicketStatus"]["enum"]) == {
        s.value for s in TicketStatus
    }
