"""The access-request review pages: reviewers decide (S24), everyone else is refused (S29)."""

from __future__ import annotations

import pytest

from keyholder.access.decisions import Decision
from keyholder.access.dns_proof import record_value
from keyholder.access.states import RequestState
from keyholder.identity.models import StaffRole
from keyholder.web.ui.review import countdown
from tests.access.flow import Story
from tests.factories import PASSWORD
from tests.web.ui.conftest import make_browser
from tests.web.ui.pages import sign_in_staff, text_of


@pytest.fixture
def story(runtime, factories) -> Story:
    return Story.begin(runtime, factories)


@pytest.fixture
def reviewers(factories):
    return [
        factories.user(
            f"{name}@keyholder.example", password=PASSWORD, staff_role=StaffRole.REVIEWER
        )
        for name in ("rene", "rosa")
    ]


@pytest.fixture
def agent(factories):
    return factories.user("agent@keyholder.example", password=PASSWORD, staff_role=StaffRole.AGENT)


def decide(browser, request_id, decision: str, note: str = ""):
    page = f"/desk/access-requests/{request_id}"
    return browser.submit(page, f"{page}/decisions", decision=decision, note=note)


class TestAccess:
    def test_s29_anonymous_and_customers_are_refused(self, browser, factories, story):
        request_id = story.submit()
        page = f"/desk/access-requests/{request_id}"
        response = browser.get(page, follow_redirects=False)
        assert response.headers["location"] == f"/login?next={page}"
        factories.user("carol@acme.example", password=PASSWORD)
        browser.sign_in("carol@acme.example")
        assert browser.get(page).status_code == 403
        assert browser.get("/desk/access-requests").status_code == 403
        refused = browser.submit("/accounts", f"{page}/decisions", decision="approve")
        assert refused.status_code == 403
        assert story.request(request_id).state is RequestState.SUBMITTED

    def test_an_agent_sees_the_page_but_the_service_refuses_their_decision(
        self, browser, story, agent, clock
    ):
        request_id = story.submit()
        story.confirm(request_id)
        sign_in_staff(browser, agent, clock)
        assert browser.get(f"/desk/access-requests/{request_id}").status_code == 200
        response = decide(browser, request_id, "approve")
        assert response.status_code == 403
        assert "Only reviewers decide on access requests" in response.text
        assert story.request(request_id).state is RequestState.IN_REVIEW


class TestReviewPage:
    def test_the_page_shows_the_items_evidence_failing_first_and_the_letter(
        self, browser, story, reviewers, clock
    ):
        request_id = story.submit(contract_number="ENT-0000-WRONG")
        story.confirm(request_id)
        sign_in_staff(browser, reviewers[0], clock)
        listing = browser.get("/desk/access-requests").text
        assert f'href="/desk/access-requests/{request_id}"' in listing
        page = browser.get(f"/desk/access-requests/{request_id}").text
        words = text_of(page)
        for typed in ["acme-corp", "new.admin@acme.example", "ENT-0000-WRONG", "Dana Whitfield"]:
            assert typed in words
        # Failing before unknown before passing, each with its word (not colour alone).
        assert words.index("Fail Contract number") < words.index("Unknown") < words.index("Pass")
        assert "_keyholder-challenge" in page or "TXT" in page
        assert "Check DNS now" in page
        assert "Download the letter (letter.png)" in words
        assert "/api/tickets/" in page

    def test_two_reviewers_approve_and_the_cooling_off_shows_its_end(
        self, runtime, story, reviewers, clock
    ):
        request_id = story.submit()
        story.confirm(request_id)
        story.executive_answers(request_id, confirm=True)
        for reviewer in reviewers:
            with make_browser(runtime) as browser:
                sign_in_staff(browser, reviewer, clock)
                response = decide(browser, request_id, "approve")
                assert response.status_code == 303
                assert browser.get(response.headers["location"]).status_code == 200
        assert story.request(request_id).state is RequestState.COOLING_OFF
        with make_browser(runtime) as browser:
            sign_in_staff(browser, reviewers[0], clock)
            words = text_of(browser.get(f"/desk/access-requests/{request_id}").text)
        assert "rene@keyholder.example" in words
        assert "rosa@keyholder.example" in words
        assert "2 days 23 hours left" in words  # 72 h less the sign-in's 30 s
        assert "Confirmed" in words

    def test_the_same_reviewer_cannot_approve_twice(self, browser, story, reviewers, clock):
        request_id = story.submit()
        story.confirm(request_id)
        story.executive_answers(request_id, confirm=True)
        sign_in_staff(browser, reviewers[0], clock)
        assert decide(browser, request_id, "approve").status_code == 303
        again = decide(browser, request_id, "approve")
        assert again.status_code == 409
        assert "a different reviewer must" in again.text

    def test_a_rejection_needs_a_note_and_keeps_what_was_typed_escaped(
        self, browser, story, reviewers, clock
    ):
        request_id = story.submit()
        story.confirm(request_id)
        sign_in_staff(browser, reviewers[0], clock)
        response = decide(browser, request_id, "reject")
        assert response.status_code == 422
        assert "Give the reason for the rejection" in response.text
        rejected = decide(browser, request_id, "reject", note="<b>forged</b> letter")
        assert rejected.status_code == 303
        assert story.request(request_id).state is RequestState.REJECTED

    def test_user_text_is_escaped(self, browser, story, reviewers, clock):
        request_id = story.submit(
            account_name="<script>alert(1)</script>", reason="<img src=x onerror=alert(1)>"
        )
        story.confirm(request_id)
        sign_in_staff(browser, reviewers[0], clock)
        for path in ["/desk/access-requests", f"/desk/access-requests/{request_id}"]:
            text = browser.get(path).text
            assert "<script>alert" not in text
            assert "<img src=x" not in text
            assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text

    def test_s19_decisions_and_dns_checks_need_the_token(self, browser, story, reviewers, clock):
        request_id = story.submit()
        story.confirm(request_id)
        sign_in_staff(browser, reviewers[0], clock)
        page = f"/desk/access-requests/{request_id}"
        for path in [f"{page}/decisions", f"{page}/dns-check"]:
            response = browser.client.post(path, data={"decision": "approve"})
            assert response.status_code == 403, path
        assert story.request(request_id).state is RequestState.IN_REVIEW


class TestProofsOnThePage:
    def test_a_missing_proof_is_shown_with_what_the_customer_can_do_s23b(
        self, browser, story, reviewers, clock
    ):
        request_id = story.submit()
        story.confirm(request_id)
        story.decide(request_id, Decision.APPROVE, story.reviewers[0], note="letter checked")
        sign_in_staff(browser, reviewers[0], clock)
        page = f"/desk/access-requests/{request_id}"
        words = text_of(browser.get(page).text)
        assert "Proof from outside the request" in words
        assert "Missing Neither proof has passed yet" in words
        assert "What the customer can do: the executive on record opens" in words
        assert record_value(story.request(request_id).dns_token) in words
        refused = decide(browser, request_id, "approve", note="I know them")
        assert refused.status_code == 409
        assert "S23b" in refused.text
        assert story.request(request_id).state is RequestState.APPROVED_ONCE
        story.executive_answers(request_id, confirm=True)
        assert "Held A proof the requester could not give" in text_of(browser.get(page).text)

    def test_a_lookalike_address_is_shown_as_never_approvable_s23a(
        self, browser, story, reviewers, clock
    ):
        request_id = story.submit(email_to_add="kel@acmecorp.example")
        story.confirm(request_id)
        sign_in_staff(browser, reviewers[0], clock)
        words = text_of(browser.get(f"/desk/access-requests/{request_id}").text)
        assert "This request can never be approved" in words
        assert "looks like the verified domain acme.example" in words
        refused = decide(browser, request_id, "approve", note="the customer insists")
        assert refused.status_code == 409
        assert "S23a" in refused.text


class TestCountdown:
    def test_wording(self, clock):
        from datetime import timedelta  # noqa: PLC0415

        now = clock.now()
        assert countdown(now + timedelta(days=2, hours=3), now) == "2 days 3 hours left"
        assert countdown(now + timedelta(minutes=40), now) == "40 minutes left"
        assert countdown(now + timedelta(seconds=20), now) == "1 minute left"
        assert countdown(now - timedelta(seconds=1), now).startswith("ended")
