"""S39 on the pages: a ticket number past our columns' range names no page (404),
and a form holding one, or NUL in a field, is refused (422) rather than a 500."""

from __future__ import annotations

import pytest

from keyholder.identity.models import StaffRole
from tests.factories import PASSWORD
from tests.web.test_inputs import HUGE
from tests.web.ui.pages import sign_in_staff, upload


class TestPages:
    """S39 for the pages: the same bounds; a page's address past them does not exist."""

    @pytest.fixture
    def agent(self, factories):
        return factories.user(
            "agent@keyholder.example", password=PASSWORD, staff_role=StaffRole.AGENT
        )

    def test_a_huge_ticket_number_is_no_page(self, browser, factories, agent, clock):
        sign_in_staff(browser, agent, clock)
        for path in [f"/desk/tickets/{HUGE[-1]}", f"/tickets/{HUGE[-1]}", f"/t/{HUGE[-1]}/abc"]:
            assert browser.get(path).status_code == 404, path

    def test_a_huge_queue_cursor_is_ignored(self, browser, agent, clock):
        sign_in_staff(browser, agent, clock)
        assert browser.get(f"/desk?after={HUGE[-1]}").status_code == 200

    def test_a_huge_ticked_ticket_is_refused(self, browser, factories, agent, clock):
        ticket = factories.ticket()
        sign_in_staff(browser, agent, clock)
        response = browser.client.post(
            "/desk/bulk-status",
            data={
                "csrf_token": browser.token("/desk"),
                "ticket": [str(ticket.id), str(HUGE[-1])],
                "status": "pending",
            },
            follow_redirects=False,
        )
        assert response.status_code == 422

    def test_nul_in_a_page_form(self, browser, factories, agent, clock):
        ticket = factories.ticket()
        sign_in_staff(browser, agent, clock)
        response = browser.submit("/desk", f"/desk/tickets/{ticket.id}", group="support\x00")
        assert response.status_code == 422
        form = upload(
            browser,
            f"/desk/tickets/{ticket.id}",
            f"/desk/tickets/{ticket.id}/notes",
            {"body": "x\x00"},
        )
        assert form.status_code == 422
