"""The desk's canned-replies page: who may open it (S29, S18), create, edit, delete, CSRF (S19)."""

from __future__ import annotations

import pytest

from keyholder.desk import canned
from keyholder.identity.models import StaffRole
from tests.factories import PASSWORD
from tests.web.ui.pages import sign_in_staff, text_of

PAGE = "/desk/canned-replies"


@pytest.fixture
def agent(factories):
    return factories.user(
        "agent@keyholder.example", password=PASSWORD, staff_role=StaffRole.AGENT, name="Agent A"
    )


def saved(factories, agent):
    replies = canned.list_canned_replies(
        factories.runtime.uow(read_only=True), actor=factories.actor(agent)
    )
    return {r.name: r.body for r in replies}


class TestWhoMayOpenIt:
    def test_s29_anonymous_visitors_are_sent_to_sign_in(self, browser):
        response = browser.get(PAGE, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"] == f"/login?next={PAGE}"

    def test_s29_customers_get_a_403_page(self, browser, factories):
        factories.user("carol@acme.example", password=PASSWORD)
        browser.sign_in("carol@acme.example")
        response = browser.get(PAGE)
        assert response.status_code == 403
        assert "for support staff only" in response.text
        refused = browser.submit("/accounts", PAGE, name="sneaky", body="Hi")
        assert refused.status_code == 403

    def test_s18_staff_without_mfa_are_sent_to_enrol(self, browser, factories):
        factories.user(
            "new.agent@keyholder.example", password=PASSWORD, staff_role=StaffRole.AGENT, mfa=False
        )
        browser.sign_in("new.agent@keyholder.example")
        response = browser.get(PAGE, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"] == "/account/security?staff=1"

    def test_the_queue_links_here(self, browser, agent, clock):
        sign_in_staff(browser, agent, clock)
        assert f'href="{PAGE}"' in browser.get("/desk").text


class TestManage:
    def test_create_edit_and_delete(self, browser, factories, agent, clock):
        sign_in_staff(browser, agent, clock)
        page = browser.get(PAGE)
        assert page.status_code == 200
        for name in canned.PLACEHOLDERS:
            assert f"<code>{{{name}}}</code>" in page.text

        created = browser.submit(PAGE, name="thanks", body="Hello {requester_name}, done.")
        assert created.status_code == 303
        assert created.headers["location"] == f"{PAGE}?done=created"
        assert saved(factories, agent) == {"thanks": "Hello {requester_name}, done."}
        listed = text_of(browser.get(created.headers["location"]).text)
        assert "The canned reply is created." in listed
        assert "Hello {requester_name}, done." in listed

        edited = browser.submit(PAGE, f"{PAGE}/thanks", body="Thanks, {agent_name}")
        assert edited.status_code == 303
        assert saved(factories, agent) == {"thanks": "Thanks, {agent_name}"}

        deleted = browser.submit(PAGE, f"{PAGE}/thanks/delete")
        assert deleted.status_code == 303
        assert saved(factories, agent) == {}
        assert "There are no canned replies yet." in browser.get(PAGE).text

    def test_refusals_are_messages_on_the_page(self, browser, factories, agent, clock):
        sign_in_staff(browser, agent, clock)
        unknown = browser.submit(PAGE, name="bad", body="Hi {password}")
        assert unknown.status_code == 422
        assert unknown.headers["content-type"].startswith("text/html")
        assert "Unknown placeholder(s) {password}" in unknown.text
        assert 'value="bad"' in unknown.text  # what was typed is kept
        assert "Hi {password}</textarea>" in unknown.text
        assert saved(factories, agent) == {}

        assert browser.submit(PAGE, name="thanks", body="One").status_code == 303
        taken = browser.submit(PAGE, name="thanks", body="Two")
        assert taken.status_code == 409
        assert "A canned reply named &#39;thanks&#39; exists" in taken.text

        bad_edit = browser.submit(PAGE, f"{PAGE}/thanks", body="{nope}")
        assert bad_edit.status_code == 422
        assert "Unknown placeholder(s) {nope}" in bad_edit.text
        assert "{nope}</textarea>" in bad_edit.text
        assert saved(factories, agent) == {"thanks": "One"}

        for path in [f"{PAGE}/missing", f"{PAGE}/missing/delete"]:
            missing = browser.submit(PAGE, path, body="Text")
            assert missing.status_code == 404, path
            assert "No canned reply named" in missing.text
            assert "New canned reply" in missing.text  # the page itself, not an error page

        bad_name = browser.submit(PAGE, name="Not A Name", body="Text")
        assert bad_name.status_code == 422
        assert "A name is 1 to 100" in bad_name.text

    def test_a_body_with_a_script_is_shown_escaped(self, browser, factories, agent, clock):
        canned.save_canned_reply(
            factories.runtime.uow(),
            "xss",
            "<script>alert(1)</script>",
            actor=factories.actor(agent),
            create=True,
        )
        sign_in_staff(browser, agent, clock)
        text = browser.get(PAGE).text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
        assert "<script>" not in text
        assert text.count("<script") == text.count('<script src="/static/')
        assert " style=" not in text
        assert "<style" not in text

    def test_s19_every_form_checks_its_token(self, browser, factories, agent, clock):
        canned.save_canned_reply(
            factories.runtime.uow(), "keep", "Kept", actor=factories.actor(agent), create=True
        )
        sign_in_staff(browser, agent, clock)
        for path in [PAGE, f"{PAGE}/keep", f"{PAGE}/keep/delete"]:
            response = browser.client.post(path, data={"name": "forged", "body": "forged"})
            assert response.status_code == 403, path
        assert saved(factories, agent) == {"keep": "Kept"}
