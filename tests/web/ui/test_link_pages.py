"""Pages behind access-request email links: a button, never an action on GET (S4, S25)."""

from __future__ import annotations

import pytest

from keyholder.access.states import RequestState
from tests.access.flow import REQUESTER, Story, link_token


@pytest.fixture
def story(runtime, factories):
    return Story.begin(runtime, factories)


class TestLinkPages:
    def test_the_requester_confirms_with_the_button_not_the_link(self, browser, story):
        request_id = story.submit()
        [email] = story.emails("access_confirm_requester", to=REQUESTER)
        found, token = link_token(email.body, "confirm-email")
        path = f"/access-requests/{found}/confirm-email/{token}"
        page = browser.get(path)
        assert page.status_code == 200
        assert page.headers["referrer-policy"] == "no-referrer"
        assert story.request(request_id).state is RequestState.SUBMITTED  # GET did nothing
        done = browser.submit(path)
        assert done.status_code == 303
        assert done.headers["location"].startswith("/t/")  # the requester's ticket page
        assert "your request is confirmed" in browser.get(done.headers["location"]).text
        assert story.request(request_id).state is not RequestState.SUBMITTED
        again = browser.submit(path)
        assert again.status_code in {404, 410}
        assert "This link does not work" in again.text

    def test_s25_a_veto_link_cancels_with_one_button(self, browser, story):
        request_id = story.ready()
        notice = story.emails("access_veto_notice", to="billing@acme.example")[0]
        _, token = link_token(notice.body, "veto")
        path = f"/access-requests/{request_id}/veto/{token}"
        assert "Stop it: cancel the request" in browser.get(path).text
        assert story.request(request_id).state is RequestState.COOLING_OFF
        done = browser.submit(path)
        assert "The request is cancelled" in done.text
        assert story.request(request_id).state is RequestState.CANCELLED

    def test_the_executive_denies_with_the_deny_button(self, browser, story):
        request_id = story.submit()
        story.confirm(request_id)
        email = story.emails("access_executive")[-1]
        _, token = link_token(email.body, "executive-confirmation")
        path = f"/access-requests/{request_id}/executive-confirmation/{token}"
        page = browser.get(path).text
        assert "Yes, I authorised it" in page
        assert "No, I did not" in page
        done = browser.submit(path, answer="deny")
        assert "the request is stopped" in done.text
        assert story.request(request_id).executive_denied_at is not None
