"""Passkey pages: the security page's list and forms, the sign-in pages' offers, and staff
sent to add a passkey under the phishing-resistant policy (S17, S18).

The ceremonies themselves run in Chromium (tests/e2e/test_passkeys_in_a_browser.py);
here passkeys are added through the service with the software authenticator.
"""

from __future__ import annotations

import html
from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import update

from keyholder.identity.actor import Actor
from keyholder.identity.models import Passkey, StaffRole
from keyholder.web.deps import SESSION_COOKIE
from tests.factories import PASSWORD
from tests.identity.authenticator import SoftwareAuthenticator
from tests.identity.test_passkeys import ORIGIN, passwordless, register
from tests.web.ui.conftest import make_browser

SECURITY = "/account/security"


@pytest.fixture
def alice(factories):
    return factories.user("alice@acme.example", password=PASSWORD)


@pytest.fixture
def device() -> SoftwareAuthenticator:
    return SoftwareAuthenticator(origin=ORIGIN)


def with_passkey_session(browser, runtime, device) -> None:
    browser.client.cookies.set(SESSION_COOKIE, passwordless(runtime, device).session_token)


class TestSignInPages:
    def test_the_sign_in_page_offers_a_passkey_through_the_script(self, browser):
        page = browser.get("/login").text
        assert "Sign in with a passkey" in page
        assert '<script src="/static/passkeys.js" defer></script>' in page
        script = browser.get("/static/passkeys.js")
        assert script.status_code == 200
        assert "javascript" in script.headers["content-type"]

    def test_a_passkey_user_is_offered_the_passkey_not_a_code(
        self, browser, runtime, alice, device
    ):
        register(runtime, Actor.for_user(alice), device)
        signed_in = browser.sign_in(alice.email)
        assert signed_in.headers["location"].startswith("/login/mfa")
        page = browser.get(signed_in.headers["location"]).text
        assert "Use a passkey" in page
        assert 'name="code"' not in page

    def test_a_totp_user_is_offered_the_code_only(self, browser, factories):
        bob = factories.user("bob@acme.example", password=PASSWORD, mfa=True)
        signed_in = browser.sign_in(bob.email)
        page = browser.get(signed_in.headers["location"]).text
        assert 'name="code"' in page
        assert "Use a passkey" not in page


class TestSecurityPage:
    def test_passkeys_are_listed_with_their_forms(self, browser, runtime, alice, device):
        register(runtime, Actor.for_user(alice), device, name="Work laptop")
        with_passkey_session(browser, runtime, device)
        page = html.unescape(browser.get(SECURITY).text)
        assert "Work laptop" in page
        assert "signs in without a password" in page
        assert "Remove Work laptop" in page

    def test_rename_on_the_page(self, browser, runtime, alice, device):
        passkey = register(runtime, Actor.for_user(alice), device)
        with_passkey_session(browser, runtime, device)
        renamed = browser.submit(SECURITY, f"/account/passkeys/{passkey.id}/rename", name="Desk")
        assert renamed.status_code == 303
        page = browser.get(renamed.headers["location"]).text
        assert "The passkey is renamed." in page
        assert "Desk" in page

    def test_s17_removing_on_the_page_needs_the_password(self, browser, runtime, alice, device):
        passkey = register(runtime, Actor.for_user(alice), device)
        with_passkey_session(browser, runtime, device)
        path = f"/account/passkeys/{passkey.id}/remove"
        refused = browser.submit(SECURITY, path, password="wrong")
        assert refused.status_code == 403
        assert "Remove Laptop" in refused.text  # still there
        removed = browser.submit(SECURITY, path, password=PASSWORD)
        assert removed.status_code == 303
        assert "The passkey is removed" in browser.get(removed.headers["location"]).text

    def test_a_clone_warning_shows_on_the_page(self, browser, runtime, alice, device):
        register(runtime, Actor.for_user(alice), device)
        with_passkey_session(browser, runtime, device)
        with runtime.uow() as uow:
            uow.session.execute(update(Passkey).values(clone_warning_at=uow.clock.now()))
            uow.commit()
        assert "signature counter lower than before" in browser.get(SECURITY).text


class TestStaffUnderThePolicy:
    @pytest.fixture
    def strict_browser(self, derive_runtime):
        with make_browser(derive_runtime(require_phishing_resistant_admin=True)) as browser:
            yield browser

    def test_s18_staff_signed_in_with_a_code_are_sent_to_add_a_passkey(
        self, strict_browser, runtime, factories
    ):
        agent = factories.user(
            "ada@keyholder.example", password=PASSWORD, staff_role=StaffRole.AGENT
        )
        strict_browser.sign_in(agent.email)
        runtime.clock.advance(timedelta(seconds=30))
        code = pyotp.TOTP(agent.totp_secret).at(runtime.clock.now())
        verified = strict_browser.submit("/login/mfa", code=code, next="/desk")
        assert verified.headers["location"] == "/desk"
        desk = strict_browser.get("/desk", follow_redirects=False)
        assert desk.status_code == 303
        assert desk.headers["location"] == "/account/security#passkeys"
        page = strict_browser.get(SECURITY).text
        assert "only after signing in with a passkey" in page
        assert "Add a passkey" in page

    def test_staff_signed_in_with_a_passkey_reach_the_desk(
        self, strict_browser, derive_runtime, factories, device
    ):
        agent = factories.user(
            "ada@keyholder.example", password=PASSWORD, staff_role=StaffRole.AGENT
        )
        strict = derive_runtime(require_phishing_resistant_admin=True)
        register(strict, Actor.for_user(agent), device)
        with_passkey_session(strict_browser, strict, device)
        assert strict_browser.get("/desk", follow_redirects=False).status_code == 200

    def test_only_those_it_holds_back_are_warned(self, strict_browser, factories):
        account = factories.account("acme")
        plain = factories.user("plain@acme.example", password=PASSWORD)
        factories.member(account, plain)
        strict_browser.sign_in(plain.email)
        assert "only after signing in with a passkey" not in strict_browser.get(SECURITY).text

    def test_an_admin_signed_in_with_a_password_is_warned(self, strict_browser, factories):
        account = factories.account("acme")
        admin = factories.user("root@acme.example", password=PASSWORD)
        factories.member(account, admin, "view,manage")
        strict_browser.sign_in(admin.email)
        assert "only after signing in with a passkey" in strict_browser.get(SECURITY).text
        account_page = strict_browser.get("/accounts/acme").text
        assert "admin actions need a sign-in with a passkey" in account_page
