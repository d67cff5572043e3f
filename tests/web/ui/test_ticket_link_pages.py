"""The requester's ticket page behind the emailed link: no sign-in, public thread only."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from keyholder.access.dns_proof import record_value
from keyholder.access.prescreen_job import prescreen_due
from keyholder.desk import service
from keyholder.desk.models import Ticket, TicketStatus
from keyholder.identity.actor import Actor
from keyholder.mail.models import OutboxMessage
from keyholder.web.redaction import redact
from tests.access.flow import EXECUTIVE, REQUESTER, Story, link_token, typed_letter_png
from tests.desk import sample_files
from tests.factories import PASSWORD
from tests.web.ui.pages import note_and_answer, text_of, upload

NOTE = "INTERNAL: check the caller's identity twice"
LINK = re.compile(r"https?://[^/\s]+(/t/\d+/kht_[0-9a-f]{32})")


def link_in(runtime, kind: str, to: str) -> str:
    """The ticket link (path) in the newest ``kind`` email to ``to``."""
    with runtime.uow(read_only=True) as uow:
        rows = uow.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    [*_, email] = [r for r in rows if r.kind == kind and to in r.recipients]
    match = LINK.search(email.body)
    assert match, email.body
    return match.group(1)


@pytest.fixture
def agent(factories):
    return factories.staff("agent@keyholder.example")


@pytest.fixture
def ticket(factories, agent):
    opened = factories.ticket(factories.user("carol@acme.example"), subject="Export <b>fails</b>")
    note_and_answer(
        factories.runtime, opened.id, factories.actor(agent), note=NOTE,
        answer="Try the CSV button.",
    )  # fmt: skip
    return opened


def close(runtime, agent_actor: Actor, number: int) -> None:
    for status in (TicketStatus.SOLVED, TicketStatus.CLOSED):
        service.update_ticket(runtime.uow(), number, actor=agent_actor, status=status)


class TestTheLink:
    def test_every_email_to_the_requester_links_the_page_and_it_opens_without_sign_in(
        self, browser, runtime, ticket
    ):
        path = link_in(runtime, "desk_reply", "carol@acme.example")
        assert path == link_in(runtime, "desk_ticket_received", "carol@acme.example")
        page = browser.get(path)
        assert page.status_code == 200
        assert page.headers["referrer-policy"] == "no-referrer"  # the link is a credential
        text = text_of(page.text)
        assert "Try the CSV button." in text
        assert "Export &lt;b&gt;fails&lt;/b&gt;" in page.text
        assert "do not forward the email" in text

    def test_s6_the_link_is_redacted_from_log_lines(self, runtime, ticket):
        path = link_in(runtime, "desk_reply", "carol@acme.example")
        secret = path.rsplit("_", 1)[1]
        logged = redact(f'127.0.0.1:5000 - "GET {path}/replies HTTP/1.1" 200')
        assert secret not in logged
        assert "/kht_[redacted]/replies" in logged

    def test_internal_notes_and_their_files_never_show(self, browser, runtime, ticket):
        path = link_in(runtime, "desk_reply", "carol@acme.example")
        page = browser.get(path).text
        assert NOTE not in page
        assert "secret-note.txt" not in page
        with runtime.uow(read_only=True) as uow:
            thread = service.thread_of(uow, uow.session.get(Ticket, ticket.id), staff=True)
        [internal] = [
            a for m in thread.messages for a in m.attachments if a.filename.startswith("secret")
        ]
        assert browser.get(f"{path}/attachments/{internal.id}").status_code == 404

    def test_public_files_download_as_attachments(self, browser, runtime, ticket):
        path = link_in(runtime, "desk_reply", "carol@acme.example")
        href = re.search(rf'href="({re.escape(path)}/attachments/[^"]+)"', browser.get(path).text)
        assert href
        download = browser.get(href.group(1))
        assert download.status_code == 200
        assert download.content == b"public file\n"
        assert download.headers["content-disposition"].startswith("attachment;")
        assert download.headers["x-content-type-options"] == "nosniff"

    @pytest.mark.parametrize("tamper", ["mac", "number"])
    def test_a_wrong_link_opens_nothing(self, browser, runtime, factories, ticket, tamper):
        other = factories.ticket(factories.user("dave@else.example"))
        path = link_in(runtime, "desk_reply", "carol@acme.example")
        _, _, number, mac = path.split("/")
        if tamper == "mac":
            mac = mac[:-1] + ("0" if mac[-1] != "0" else "1")
        else:
            number = str(other.id)
        page = browser.get(f"/t/{number}/{mac}")
        assert page.status_code == 404
        assert "This link does not work" in page.text
        assert "Try the CSV button." not in page.text
        form = "/help/no-admin/request"  # any page with a form: the token is per browser
        reply = upload(browser, form, f"/t/{number}/{mac}/replies", {"body": "hi"})
        assert reply.status_code == 404

    def test_the_link_lives_on_a_while_after_the_ticket_closes(
        self, browser, runtime, factories, agent, ticket
    ):
        path = link_in(runtime, "desk_reply", "carol@acme.example")
        close(runtime, factories.actor(agent), ticket.id)
        assert browser.get(path).status_code == 200
        runtime.clock.advance(runtime.settings.desk_link_after_close + timedelta(minutes=1))
        assert browser.get(path).status_code == 404


class TestReplying:
    def test_a_reply_with_a_file_lands_in_the_thread_and_reopens_a_solved_ticket(
        self, browser, runtime, factories, agent, ticket
    ):
        service.update_ticket(
            runtime.uow(), ticket.id, actor=factories.actor(agent), status=TicketStatus.SOLVED
        )
        path = link_in(runtime, "desk_reply", "carol@acme.example")
        files = [("files", ("screen.png", sample_files.png(), "image/png"))]
        sent = upload(browser, path, f"{path}/replies", {"body": "Still broken."}, files)
        assert sent.status_code == 303
        assert sent.headers["location"].startswith(f"{path}?done=replied")
        page = browser.get(sent.headers["location"]).text
        assert "Your reply is sent." in page
        assert "Still broken." in page
        assert "screen.png" in page
        with runtime.uow(read_only=True) as uow:
            reopened = uow.session.get(Ticket, ticket.id)
            assert reopened.status is TicketStatus.OPEN

    def test_an_empty_reply_is_refused_on_the_page(self, browser, runtime, ticket):
        path = link_in(runtime, "desk_reply", "carol@acme.example")
        sent = upload(browser, path, f"{path}/replies", {"body": "  "})
        assert sent.status_code == 422
        assert "Write a message first." in sent.text

    def test_a_reply_without_the_form_token_is_refused(self, browser, runtime, ticket):
        path = link_in(runtime, "desk_reply", "carol@acme.example")
        sent = upload(browser, path, f"{path}/replies", {"body": "hello"}, token=False)
        assert sent.status_code == 403

    def test_a_reply_to_a_closed_ticket_opens_a_linked_follow_up_page(
        self, browser, runtime, factories, agent, ticket
    ):
        path = link_in(runtime, "desk_reply", "carol@acme.example")
        close(runtime, factories.actor(agent), ticket.id)
        sent = upload(browser, path, f"{path}/replies", {"body": "It broke again."})
        assert sent.status_code == 303
        follow_up = sent.headers["location"].split("?")[0]
        assert follow_up != path
        page = browser.get(sent.headers["location"]).text
        assert "your reply opened this new ticket" in page
        assert f'href="{path}"' in page  # "follow-up of #n" links the old page


class TestAccessRequestProgress:
    @pytest.fixture
    def story(self, runtime, factories):
        return Story.begin(runtime, factories)

    def test_the_requester_sees_the_letter_read_but_not_compared_with_records(self, browser, story):
        runtime = story.runtime
        request_id = story.submit(letter=typed_letter_png(runtime.clock.now().date()))
        path = link_in(runtime, "access_confirm_requester", REQUESTER)
        waiting = text_of(browser.get(path).text)
        assert "Waiting for you to confirm your email address" in waiting

        story.confirm(request_id)
        section = browser.get(f"{path}/progress")
        assert section.status_code == 200
        assert "We are reading your letter now" in section.text
        assert f'data-poll="{path}/progress"' in section.text

        assert prescreen_due(runtime.uow, screener=runtime.letter_screener) == 1
        section = browser.get(f"{path}/progress").text
        assert "data-poll" not in section  # settled: the page stops asking
        readings = dict(re.findall(r'<th scope="row">([^<]+)</th><td[^>]*>([^<]+)</td>', section))
        assert readings["The contract number"] == "found"
        assert readings["The email address to add"] == "found"
        assert "The executive&#39;s handwritten signature" in readings
        assert set(readings.values()) <= {"found", "not found", "unclear"}
        # No comparison with the records reaches the requester (a forger's oracle).
        evidence = story.request(request_id).evidence
        assert any(item["check"] == "letter_contract_number" for item in evidence)
        for item in evidence:
            if len(item["explanation"]) > 10:  # not a bare word such as "matches"
                assert item["explanation"] not in section
        assert "ENT-2024-001234" not in section

    def test_the_requester_is_told_how_to_give_the_dns_proof_s23b(self, browser, story):
        request_id = story.submit()
        path = link_in(story.runtime, "access_confirm_requester", REQUESTER)
        value = record_value(story.request(request_id).dns_token)
        assert value not in browser.get(path).text  # nothing before the address is confirmed
        story.confirm(request_id)
        section = browser.get(f"{path}/progress").text
        assert "Proof from your company's domain" in section
        assert f"_keyholder-challenge.&lt;verified domain&gt; TXT &#34;{value}&#34;" in section

    def test_the_executive_is_never_sent_the_requesters_link(self, story):
        request_id = story.submit()
        story.confirm(request_id)
        [email] = story.emails("access_executive", to=EXECUTIVE)
        assert "/t/" not in email.body
        assert link_token(email.body, "executive-confirmation")

    def test_a_signed_in_requester_sees_the_same_progress(self, browser, story, factories):
        request_id = story.submit()
        factories.user(REQUESTER, password=PASSWORD)
        story.confirm(request_id)
        browser.sign_in(REQUESTER)
        number = story.request(request_id).ticket_id
        page = browser.get(f"/tickets/{number}").text
        assert "Your request for admin access" in page
        assert "We are reading your letter now" in browser.get(f"/tickets/{number}/progress").text
