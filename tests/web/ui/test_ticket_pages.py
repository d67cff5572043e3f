"""A customer's ticket pages: their own tickets only (S30), public messages only, files."""

from __future__ import annotations

import re

import pytest

from keyholder.desk import service
from tests.factories import PASSWORD
from tests.web.ui.pages import note_and_answer, text_of, upload

NOTE = "INTERNAL: the customer is on the watch list"


@pytest.fixture
def carol(factories):
    return factories.user("carol@acme.example", password=PASSWORD, name="Carol")


@pytest.fixture
def agent(factories):
    return factories.staff("agent@keyholder.example")


@pytest.fixture
def ticket(factories, carol, agent):
    opened = factories.ticket(
        carol,
        subject="<script>alert('subject')</script> Export",
        body="New text here.\n\nOn Mon, 5 Jan 2026, Support wrote:\n> old quoted words\n",
    )
    note_and_answer(
        factories.runtime, opened.id, factories.actor(agent), note=NOTE,
        answer="Public answer <b>bold?</b>",
    )  # fmt: skip
    return opened


class TestAccess:
    def test_anonymous_visitors_are_sent_to_sign_in(self, browser, ticket):
        for path in ["/tickets", f"/tickets/{ticket.id}", "/tickets/new"]:
            response = browser.get(path, follow_redirects=False)
            assert response.status_code == 303
            assert response.headers["location"] == f"/login?next={path}"

    def test_s30_another_customers_ticket_is_a_404_page(self, browser, factories, ticket):
        factories.user("mallory@else.example", password=PASSWORD)
        browser.sign_in("mallory@else.example")
        assert f"/tickets/{ticket.id}" not in browser.get("/tickets").text
        response = browser.get(f"/tickets/{ticket.id}")
        assert response.status_code == 404
        assert response.headers["content-type"].startswith("text/html")
        reply = upload(browser, "/tickets", f"/tickets/{ticket.id}/replies", {"body": "hi"})
        assert reply.status_code == 404


class TestThread:
    def test_the_list_and_the_thread_escape_the_subject(self, browser, carol, ticket):
        browser.sign_in(carol.email)
        for path in ["/tickets", f"/tickets/{ticket.id}"]:
            text = browser.get(path).text
            assert "<script>alert" not in text
            assert "&lt;script&gt;alert(&#39;subject&#39;)&lt;/script&gt; Export" in text
        assert "Public answer &lt;b&gt;bold?&lt;/b&gt;" in browser.get(f"/tickets/{ticket.id}").text

    def test_internal_notes_and_their_files_never_show_on_the_customers_page(
        self, browser, carol, ticket
    ):
        browser.sign_in(carol.email)
        page = browser.get(f"/tickets/{ticket.id}").text
        assert NOTE not in page
        assert "secret-note.txt" not in page
        assert "Internal" not in page
        assert "agent@keyholder.example" not in page  # agents by name, not address

    def test_quoted_history_is_collapsed_behind_details(self, browser, carol, ticket):
        browser.sign_in(carol.email)
        page = browser.get(f"/tickets/{ticket.id}").text
        details = page[page.index('<details class="quoted">') :]
        assert "&gt; old quoted words" in details[: details.index("</details>")]
        assert "New text here." in page[: page.index('<details class="quoted">')]

    def test_attachments_are_download_links_that_work_with_the_session(
        self, browser, carol, ticket
    ):
        browser.sign_in(carol.email)
        page = browser.get(f"/tickets/{ticket.id}").text
        link = re.search(r'href="(/api/tickets/\d+/attachments/[0-9a-f-]+)" download', page)
        assert link, page
        response = browser.get(link.group(1))
        assert response.status_code == 200
        assert response.headers["content-disposition"].startswith("attachment")
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.content == b"public file\n"


class TestReply:
    def test_a_reply_with_a_file_lands_on_the_thread(self, browser, carol, ticket):
        browser.sign_in(carol.email)
        files = [("files", ("screen.txt", b"what I see\n", "text/plain"))]
        page = f"/tickets/{ticket.id}"
        response = upload(browser, page, f"{page}/replies", {"body": "Still <i>broken</i>"}, files)
        assert response.status_code == 303
        assert response.headers["location"].startswith(f"{page}?done=replied#message-")
        shown = browser.get(response.headers["location"]).text
        assert "Still &lt;i&gt;broken&lt;/i&gt;" in shown
        assert "screen.txt" in shown
        assert "Your reply is sent." in text_of(shown)

    def test_an_empty_reply_shows_a_message(self, browser, carol, ticket):
        browser.sign_in(carol.email)
        page = f"/tickets/{ticket.id}"
        response = upload(browser, page, f"{page}/replies", {"body": "  "})
        assert response.status_code == 422
        assert "Write a message first." in response.text

    def test_s19_a_reply_without_its_csrf_token_is_refused(self, browser, factories, carol, ticket):
        browser.sign_in(carol.email)
        page = f"/tickets/{ticket.id}"
        response = upload(browser, page, f"{page}/replies", {"body": "forged"}, token=False)
        assert response.status_code == 403
        thread = service.get_ticket(
            factories.runtime.uow(read_only=True), ticket.id, actor=factories.actor(carol)
        )
        assert "forged" not in [m.body for m in thread.messages]

    def test_opening_a_ticket_from_the_portal(self, browser, carol):
        browser.sign_in(carol.email)
        response = upload(
            browser, "/tickets/new", "/tickets/new", {"subject": "Help", "body": "Please"}
        )
        assert response.status_code == 303
        assert "?done=opened" in response.headers["location"]
        page = browser.get(response.headers["location"]).text
        assert "Your ticket is open." in page

    def test_s19_opening_a_ticket_without_its_token_is_refused(self, browser, carol):
        browser.sign_in(carol.email)
        response = upload(
            browser, "/tickets/new", "/tickets/new", {"subject": "x", "body": "y"}, token=False
        )
        assert response.status_code == 403
