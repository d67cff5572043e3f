"""The security page: changing the email address and logging out everywhere (S5, S14, S17)."""

from __future__ import annotations

import re

import pytest

from keyholder.identity import service as identity
from keyholder.identity.actor import Actor
from keyholder.identity.models import User
from tests.factories import PASSWORD
from tests.web.ui.conftest import make_browser

SECURITY = "/account/security"
CHANGE_LINK = re.compile(r"https://keyholder\.test(/confirm-email-change/khv_[A-Za-z0-9_-]+)")


@pytest.fixture
def alice(factories):
    return factories.user("alice@acme.example", password=PASSWORD)


def is_signed_in(browser) -> bool:
    return browser.get("/accounts", follow_redirects=False).status_code == 200


class TestChangeEmail:
    def test_the_new_address_confirms_and_the_old_one_is_told(
        self, browser, runtime, alice, outbox
    ):
        browser.sign_in(alice.email)
        sent = browser.submit(
            SECURITY, "/account/email-change", email="alice@new.example", password=PASSWORD
        )
        assert sent.status_code == 303
        page = browser.get(sent.headers["location"]).text
        assert "We sent a link to the new address" in page
        assert "alice@acme.example" in page  # not changed yet
        [notice] = outbox.of_kind("email_change_requested")
        assert notice.recipients == ["alice@acme.example"]
        [confirm] = outbox.of_kind("email_change_confirm")
        assert confirm.recipients == ["alice@new.example"]
        link = CHANGE_LINK.search(confirm.body)
        assert link
        done = browser.submit(link.group(1))
        assert done.status_code == 200
        with runtime.uow(read_only=True) as uow:
            assert uow.session.get(User, alice.id).email == "alice@new.example"

    @pytest.mark.parametrize(
        ("email", "password", "message"),
        [
            ("alice@new.example", "not my password", "password"),
            ("not an address", PASSWORD, "email"),
        ],
    )
    def test_s17_a_wrong_password_or_address_is_refused_on_the_page(
        self, browser, runtime, alice, outbox, email, password, message
    ):
        browser.sign_in(alice.email)
        refused = browser.submit(SECURITY, "/account/email-change", email=email, password=password)
        assert refused.status_code in {401, 403, 422}
        assert 'role="alert"' in refused.text
        assert message in refused.text.lower()
        assert outbox.of_kind("email_change_confirm") == []
        with runtime.uow(read_only=True) as uow:
            assert uow.session.get(User, alice.id).email == "alice@acme.example"


class TestLogOutEverywhere:
    def test_s14_everywhere_else_keeps_this_browser_only(self, browser, runtime, alice):
        token = identity.create_api_token(runtime.uow(), alice.email, actor=Actor.for_user(alice))
        browser.sign_in(alice.email)
        with make_browser(runtime) as laptop:
            laptop.sign_in(alice.email)
            ended = browser.submit(SECURITY, "/account/sessions/end", keep="this-browser")
            assert ended.status_code == 303
            assert "Every other session" in browser.get(ended.headers["location"]).text
            assert is_signed_in(browser)
            assert not is_signed_in(laptop)
            api = laptop.client.get(
                "/api/session", headers={"Authorization": f"Bearer {token.token}"}
            )
            assert api.status_code == 401

    def test_s14_everywhere_signs_this_browser_out_too(self, browser, runtime, alice):
        browser.sign_in(alice.email)
        ended = browser.submit(SECURITY, "/account/sessions/end", keep="none")
        assert ended.status_code == 303
        assert not is_signed_in(browser)

    def test_without_the_form_token_nothing_ends(self, browser, alice):
        browser.sign_in(alice.email)
        refused = browser.client.post(
            "/account/sessions/end", data={"keep": "none"}, follow_redirects=False
        )
        assert refused.status_code == 403
        assert is_signed_in(browser)
