"""Passkeys in Chromium with a virtual authenticator (Chrome DevTools Protocol, ``WebAuthn``).

The real browser does the WebAuthn work (``navigator.credentials`` through
``static/passkeys.js``), against an authenticator Chromium emulates: register a
passkey, sign in with it alone and as the second factor, a removed key refused,
an answer for another origin refused, and staff sent to enrol under the policy
``require_phishing_resistant_admin`` (on in this module).

WebAuthn needs a secure context and a domain as RP ID (never an IP address):
the pages are opened at http://localhost, which browsers treat as secure, and
the app's base URL says so too (RP ID ``localhost``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from keyholder.bootstrap import Runtime, bootstrap
from keyholder.config import Environment
from keyholder.identity.models import StaffRole
from keyholder.web.app import create_app
from tests.e2e.test_seed_story_in_a_browser import sign_in
from tests.factories import PASSWORD

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect

AUTHENTICATOR = {
    "protocol": "ctap2",
    "transport": "internal",
    "hasResidentKey": True,
    "hasUserVerification": True,
    "isUserVerified": True,
    "automaticPresenceSimulation": True,
}


@pytest.fixture
def local_url(live_server) -> str:
    _, url = live_server
    return url.replace("://127.0.0.1:", "://localhost:")


@pytest.fixture
def webauthn_settings() -> dict[str, object]:
    """Settings of this module's app (a test may override the fixture)."""
    return {}


@pytest.fixture
def dev_runtime(runtime: Runtime, local_url: str, webauthn_settings) -> Iterator[Runtime]:
    """The conftest's development runtime, served at localhost, with the policy on."""
    changes = {
        "env": Environment.DEVELOPMENT,
        "base_url": local_url,
        "require_phishing_resistant_admin": True,
        **webauthn_settings,
    }
    dev = bootstrap(
        runtime.settings.model_copy(update=changes), clock=runtime.clock, engine=runtime.engine
    )
    yield dev
    dev.hashing.close()
    dev.rate_limiter.close()


@pytest.fixture
def base_url(live_server, dev_runtime: Runtime, local_url: str) -> Iterator[str]:
    switch, _ = live_server
    switch.app = create_app(runtime=dev_runtime, run_relay=False, run_jobs=False)
    yield local_url
    switch.app = None


def add_authenticator(page) -> tuple[object, str]:
    """A virtual platform authenticator for this page's browser; its CDP session and id."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable", {"enableUI": False})
    added = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": AUTHENTICATOR})
    return cdp, added["authenticatorId"]


def credentials(cdp, authenticator_id: str) -> list[dict]:
    return cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator_id})["credentials"]


def add_passkey(page, name: str) -> None:
    page.goto("/account/security")
    section = page.get_by_role("region", name="Passkeys and security keys")
    section.get_by_label("A name for it").fill(name)
    section.get_by_label("Your password").last.fill(PASSWORD)
    section.get_by_role("button", name="Add a passkey").click()


def sign_out(page) -> None:
    page.get_by_role("button", name="Sign out", exact=True).click()
    expect(page).to_have_url(re.compile(r"/\?signed_out=1$"))


def sign_in_with_password(page, email: str) -> None:
    sign_in(page, email)
    expect(page).to_have_url(re.compile(r"/(accounts|login/mfa.*)$"))


def sign_in_with_passkey(page) -> None:
    page.goto("/login")
    page.get_by_role("button", name="Sign in with a passkey").click()


class TestCustomer:
    def test_register_then_sign_in_with_the_passkey_alone(self, page, factories, screenshots):
        factories.user("alice@acme.example", password=PASSWORD)
        cdp, authenticator = add_authenticator(page)
        sign_in_with_password(page, "alice@acme.example")
        add_passkey(page, "Work laptop")
        expect(page.get_by_text("Your passkey is added.")).to_be_visible()
        section = page.get_by_role("region", name="Passkeys and security keys")
        expect(section.get_by_role("heading", name="Work laptop")).to_be_visible()
        expect(section.get_by_text("signs in without a password")).to_be_visible()
        page.screenshot(path=screenshots / "security-passkeys.png", full_page=True)
        [credential] = credentials(cdp, authenticator)
        assert credential["isResidentCredential"] is True
        assert credential["rpId"] == "localhost"

        sign_out(page)
        sign_in_with_passkey(page)
        expect(page).to_have_url(re.compile(r":\d+/accounts$"))
        expect(page.locator(".who-email")).to_have_text("alice@acme.example")

    def test_the_passkey_is_the_second_factor_after_the_password(self, page, factories):
        factories.user("alice@acme.example", password=PASSWORD)
        add_authenticator(page)
        sign_in_with_password(page, "alice@acme.example")
        add_passkey(page, "Laptop")
        expect(page.get_by_text("Your passkey is added.")).to_be_visible()
        sign_out(page)

        sign_in_with_password(page, "alice@acme.example")
        expect(page).to_have_url(re.compile(r"/login/mfa"))
        page.get_by_role("button", name="Use a passkey").click()
        expect(page).to_have_url(re.compile(r":\d+/accounts$"))
        page.goto("/account/security")
        expect(page.get_by_text(re.compile(r"last used"))).to_be_visible()

    def test_a_removed_passkey_is_refused(self, page, factories):
        factories.user("alice@acme.example", password=PASSWORD)
        cdp, authenticator = add_authenticator(page)
        sign_in_with_password(page, "alice@acme.example")
        add_passkey(page, "Old key")
        expect(page.get_by_text("Your passkey is added.")).to_be_visible()
        sign_out(page)
        sign_in_with_passkey(page)  # removing one needs a passkey sign-in
        expect(page).to_have_url(re.compile(r":\d+/accounts$"))

        page.goto("/account/security")
        section = page.get_by_role("region", name="Passkeys and security keys")
        section.get_by_label("Your password").first.fill(PASSWORD)
        section.get_by_role("button", name="Remove Old key").click()
        expect(page.get_by_text("The passkey is removed")).to_be_visible()
        sign_out(page)

        assert credentials(cdp, authenticator)  # the browser still holds it
        sign_in_with_passkey(page)
        expect(page.get_by_role("alert")).to_have_text("The passkey was not accepted.")
        expect(page).to_have_url(re.compile(r"/login"))


class TestAnotherOrigin:
    @pytest.fixture
    def webauthn_settings(self) -> dict[str, object]:
        # The app expects answers signed for another origin than the one the page is on.
        return {"webauthn_origins": ("https://keyholder.example",)}

    def test_an_answer_for_another_origin_is_refused(self, page, factories):
        factories.user("alice@acme.example", password=PASSWORD)
        add_authenticator(page)
        sign_in_with_password(page, "alice@acme.example")
        add_passkey(page, "Laptop")
        expect(page.locator("#passkey-error")).to_contain_text("could not be registered")
        page.goto("/account/security")
        expect(page.get_by_text("None yet")).to_be_visible()


class TestAnotherRpId:
    @pytest.fixture
    def webauthn_settings(self) -> dict[str, object]:
        return {"webauthn_rp_id": "keyholder.example"}

    def test_the_browser_refuses_an_rp_id_that_is_not_the_sites(self, page, factories):
        factories.user("alice@acme.example", password=PASSWORD)
        cdp, authenticator = add_authenticator(page)
        sign_in_with_password(page, "alice@acme.example")
        add_passkey(page, "Laptop")
        expect(page.locator("#passkey-error")).to_be_visible()
        assert credentials(cdp, authenticator) == []


class TestStaffUnderThePolicy:
    def test_staff_signed_in_with_a_code_are_sent_to_add_a_passkey_then_act(
        self, page, factories, clock, screenshots
    ):
        agent = factories.user(
            "ada@keyholder.example", password=PASSWORD, staff_role=StaffRole.AGENT
        )
        add_authenticator(page)
        sign_in(page, agent.email, totp=agent.totp_secret, clock=clock)
        expect(page).to_have_url(re.compile(r"/account/security#passkeys$"))
        expect(page.get_by_role("alert").first).to_contain_text(
            "only after signing in with a passkey"
        )
        page.screenshot(path=screenshots / "staff-add-a-passkey.png", full_page=True)
        add_passkey(page, "Desk key")
        expect(page.get_by_text("Your passkey is added.")).to_be_visible()

        # Still the session of the code: confirming with the new key steps it up.
        page.get_by_role("button", name="Confirm with a passkey").click()
        expect(page.get_by_text("This session is now signed in with a passkey.")).to_be_visible()
        page.goto("/desk")
        expect(page).to_have_url(re.compile(r":\d+/desk$"))
        expect(page.get_by_role("heading", level=1)).to_be_visible()

        sign_out(page)
        sign_in_with_passkey(page)
        expect(page).to_have_url(re.compile(r":\d+/desk$"))
