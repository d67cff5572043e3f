"""The desk's pages: who may open them (S29, S18), the queue, a ticket, forms and CSRF (S19)."""

from __future__ import annotations

import re

import pytest

from keyholder.desk import canned, service
from keyholder.desk.models import TicketPriority, TicketStatus
from keyholder.identity.models import StaffRole
from tests.factories import PASSWORD
from tests.web.ui.pages import sign_in_staff, text_of, upload

DESK_PAGES = ["/desk", "/desk/tickets/{n}", "/desk/access-requests"]


@pytest.fixture
def carol(factories):
    return factories.user("carol@acme.example", password=PASSWORD, name="Carol <b>C</b>")


@pytest.fixture
def agent(factories):
    return factories.user(
        "agent@keyholder.example", password=PASSWORD, staff_role=StaffRole.AGENT, name="Agent A"
    )


@pytest.fixture
def tickets(factories, carol):
    first = factories.ticket(carol, subject="<script>alert(1)</script> first")
    second = factories.ticket(carol, subject="Second question")
    return first, second


def thread_of(factories, agent, number):
    return service.get_ticket(
        factories.runtime.uow(read_only=True), number, actor=factories.actor(agent)
    )


class TestWhoMayOpenTheDesk:
    def test_s29_anonymous_visitors_are_sent_to_sign_in(self, browser, tickets):
        for template in DESK_PAGES:
            path = template.format(n=tickets[0].id)
            response = browser.get(path, follow_redirects=False)
            assert response.status_code == 303, path
            assert response.headers["location"] == f"/login?next={path}"

    def test_s29_customers_get_a_403_page(self, browser, carol, tickets):
        browser.sign_in(carol.email)
        for path in DESK_PAGES:
            response = browser.get(path.format(n=tickets[0].id))
            assert response.status_code == 403, path
            assert "for support staff only" in response.text
        # Their own ticket on the desk is refused too, not shown with internal notes.
        assert browser.get(f"/desk/tickets/{tickets[0].id}").status_code == 403

    def test_s18_staff_without_mfa_are_sent_to_enrol(self, browser, factories, tickets):
        factories.user(
            "new.agent@keyholder.example", password=PASSWORD, staff_role=StaffRole.AGENT, mfa=False
        )
        browser.sign_in("new.agent@keyholder.example")
        for path in DESK_PAGES:
            response = browser.get(path.format(n=tickets[0].id), follow_redirects=False)
            assert response.status_code == 303, path
            assert response.headers["location"] == "/account/security?staff=1"


class TestQueue:
    def test_the_queue_lists_counts_and_escapes(self, browser, agent, clock, tickets):
        sign_in_staff(browser, agent, clock)
        page = browser.get("/desk")
        assert page.status_code == 200
        assert "&lt;script&gt;alert(1)&lt;/script&gt; first" in page.text
        assert "<script>alert" not in page.text
        assert "2 new" in text_of(page.text)
        assert f'href="/desk/tickets/{tickets[1].id}"' in page.text

    def test_filters_combine_and_unknown_values_are_a_message(
        self, browser, factories, agent, clock, tickets
    ):
        sign_in_staff(browser, agent, clock)
        service.update_ticket(
            factories.runtime.uow(),
            tickets[0].id,
            actor=factories.actor(agent),
            assignee_email=agent.email,
        )
        mine = browser.get("/desk?assignee=me").text
        assert f'href="/desk/tickets/{tickets[0].id}"' in mine
        assert f'href="/desk/tickets/{tickets[1].id}"' not in mine
        nobody = browser.get("/desk?assignee=none&status=new&kind=general").text
        assert f'href="/desk/tickets/{tickets[1].id}"' in nobody
        assert f'href="/desk/tickets/{tickets[0].id}"' not in nobody
        bad = browser.get("/desk?status=nonsense")
        assert bad.status_code == 422
        assert "There is no status" in bad.text

    def test_keyset_next_page(self, browser, factories, agent, clock, carol):
        made = [factories.ticket(carol, subject=f"T{i}") for i in range(51)]
        sign_in_staff(browser, agent, clock)
        page = browser.get("/desk").text
        link = re.search(r'href="(/desk\?[^"]*after=(\d+)[^"]*)" rel="next"', page)
        assert link
        assert int(link.group(2)) == made[1].id
        rest = browser.get(link.group(1).replace("&amp;", "&")).text
        assert f'href="/desk/tickets/{made[0].id}"' in rest
        assert f'href="/desk/tickets/{made[1].id}"' not in rest

    def test_bulk_status_moves_the_ticked_tickets(self, browser, factories, agent, clock, tickets):
        sign_in_staff(browser, agent, clock)
        response = browser.client.post(
            "/desk/bulk-status",
            data={
                "csrf_token": browser.token("/desk"),
                "ticket": [str(t.id) for t in tickets],
                "status": "pending",
                "back": "/desk?state=open",
            },
            follow_redirects=False,
        )
        assert response.status_code == 303
        assert response.headers["location"] == "/desk?state=open&done=2"
        for t in tickets:
            assert thread_of(factories, agent, t.id).ticket.status is TicketStatus.PENDING

    def test_bulk_status_refusals_are_messages(self, browser, agent, clock, tickets):
        sign_in_staff(browser, agent, clock)
        none = browser.submit("/desk", "/desk/bulk-status", status="pending")
        assert none.status_code == 422
        assert "Tick at least one ticket" in none.text


class TestTicket:
    def test_public_and_internal_messages_are_labelled_in_words(
        self, browser, factories, agent, clock, tickets
    ):
        number = tickets[0].id
        service.add_internal_note(
            factories.runtime.uow(), number, body="<i>note</i>", actor=factories.actor(agent)
        )
        sign_in_staff(browser, agent, clock)
        page = browser.get(f"/desk/tickets/{number}").text
        assert 'class="message internal from-staff"' in page
        assert "Internal note: staff only, never sent to the customer" in page
        assert "Public: the customer sees this" in page
        assert "&lt;i&gt;note&lt;/i&gt;" in page
        assert "Carol &lt;b&gt;C&lt;/b&gt;" in page

    def test_a_reply_is_emailed_and_a_note_is_not(
        self, browser, factories, agent, clock, tickets, outbox
    ):
        number = tickets[0].id
        sign_in_staff(browser, agent, clock)
        page = f"/desk/tickets/{number}"
        before = len(outbox.to("carol@acme.example"))
        files = [("files", ("log.txt", b"a log\n", "text/plain"))]
        note = upload(browser, page, f"{page}/notes", {"body": "staff eyes only"}, files)
        assert note.status_code == 303
        assert note.headers["location"] == f"{page}?done=noted"
        assert len(outbox.to("carol@acme.example")) == before
        reply = upload(browser, page, f"{page}/replies", {"body": "Fixed.", "status": "solved"})
        assert reply.status_code == 303
        assert len(outbox.to("carol@acme.example")) > before
        thread = thread_of(factories, agent, number)
        assert thread.ticket.status is TicketStatus.SOLVED
        assert [m.attachments[0].filename for m in thread.messages if m.attachments] == ["log.txt"]

    def test_a_canned_reply_fills_the_reply_box_without_javascript(
        self, browser, factories, agent, clock, tickets
    ):
        canned.save_canned_reply(
            factories.runtime.uow(),
            "thanks",
            "Hello {requester_name}, about #{ticket_number}: done.",
            actor=factories.actor(agent),
            create=True,
        )
        sign_in_staff(browser, agent, clock)
        number = tickets[1].id
        page = browser.get(f"/desk/tickets/{number}?canned=thanks").text
        box = page[page.index('id="reply-body"') :]
        assert box[: box.index("</textarea>")].endswith(
            f"Hello Carol &lt;b&gt;C&lt;/b&gt;, about #{number}: done."
        )
        missing = browser.get(f"/desk/tickets/{number}?canned=nope")
        assert "No canned reply named" in missing.text

    def test_assignment_priority_group_and_status(self, browser, factories, agent, clock, tickets):
        sign_in_staff(browser, agent, clock)
        number = tickets[0].id
        page = f"/desk/tickets/{number}"
        response = browser.submit(
            page, status="on_hold", priority="high", group="billing", assignee="me", account=""
        )
        assert response.status_code == 303
        ticket = thread_of(factories, agent, number)
        assert ticket.ticket.status is TicketStatus.ON_HOLD
        assert ticket.ticket.priority is TicketPriority.HIGH
        assert ticket.ticket.group == "billing"
        assert ticket.assignee_email == agent.email
        refused = browser.submit(page, status="on_hold", assignee="carol@acme.example")
        assert refused.status_code == 422
        assert "is not a support staff member" in refused.text

    def test_s19_every_desk_form_checks_its_token(self, browser, factories, agent, clock, tickets):
        sign_in_staff(browser, agent, clock)
        number = tickets[0].id
        for path in ["/desk/bulk-status", f"/desk/tickets/{number}"]:
            response = browser.client.post(path, data={"ticket": str(number), "status": "closed"})
            assert response.status_code == 403, path
        for path in [f"/desk/tickets/{number}/replies", f"/desk/tickets/{number}/notes"]:
            response = upload(browser, "/desk", path, {"body": "forged"}, token=False)
            assert response.status_code == 403, path
        thread = thread_of(factories, agent, number)
        assert thread.ticket.status is TicketStatus.NEW
        assert "forged" not in [m.body for m in thread.messages]


class TestNoInlineScript:
    def test_desk_and_ticket_pages_load_scripts_from_self_only(
        self, browser, factories, agent, carol, clock, tickets
    ):
        sign_in_staff(browser, agent, clock)
        number = tickets[0].id
        for path in ["/desk", f"/desk/tickets/{number}", "/desk/access-requests"]:
            text = browser.get(path).text
            assert text.count("<script") == text.count('<script src="/static/')
            assert " style=" not in text, path
            assert "<style" not in text, path


class TestMissing:
    def test_s30_an_unknown_ticket_or_request_is_a_404_page_for_staff(self, browser, agent, clock):
        sign_in_staff(browser, agent, clock)
        for path in [
            "/desk/tickets/999999",
            "/desk/access-requests/00000000-0000-0000-0000-000000000000",
            "/desk/access-requests/not-a-uuid",
        ]:
            response = browser.get(path)
            assert response.status_code == 404, path
            assert response.headers["content-type"].startswith("text/html")
