"""The pages in a real browser: sign-in, MFA enrolment, members, emailed links, CSRF."""

from __future__ import annotations

import re

import pyotp
import pytest

from keyholder.access.states import RequestState
from tests.access.flow import Story, link_token
from tests.factories import PASSWORD

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect


@pytest.fixture
def acme(factories):
    account = factories.account("acme-corp")
    alice = factories.user("alice@acme.example", password=PASSWORD, name="Alice Admin")
    factories.member(account, alice, "view,manage,billing")
    bob = factories.user("bob@acme.example", password=PASSWORD)
    factories.member(account, bob, "view,create")
    factories.user("carol@acme.example", password=PASSWORD)
    return account


UNLABELLED = """() => [...document.querySelectorAll('input, select, textarea')]
    .filter(el => el.type !== 'hidden' && !el.hidden)
    .filter(el => el.labels.length === 0 && !el.getAttribute('aria-label'))
    .map(el => el.name)"""


def check_basics(page) -> None:
    """One h1, a main landmark, a label on every field, a name on every button."""
    expect(page.locator("h1")).to_have_count(1)
    expect(page.get_by_role("main")).to_be_visible()
    assert page.evaluate(UNLABELLED) == []
    for button in page.get_by_role("button").all():
        assert button.inner_text().strip()


def sign_in(page, email: str, password: str = PASSWORD) -> None:
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()


class TestSignIn:
    def test_wrong_password_and_unknown_email_give_the_same_message(self, page, acme, screenshots):
        sign_in(page, "alice@acme.example", "not the password")
        alert = page.get_by_role("alert")
        expect(alert).to_have_text("The email or password is wrong.")
        page.screenshot(path=screenshots / "login-error.png", full_page=True)
        sign_in(page, "nobody@acme.example", "not the password")
        expect(page.get_by_role("alert")).to_have_text("The email or password is wrong.")
        expect(page.get_by_label("Email")).to_have_value("nobody@acme.example")

    def test_sign_in_and_enrol_mfa_with_the_qr_code(self, page, acme, clock, screenshots):
        sign_in(page, "alice@acme.example")
        expect(page.get_by_role("heading", name="Your accounts")).to_be_visible()
        expect(page.locator(".who-email")).to_have_text("alice@acme.example")
        page.screenshot(path=screenshots / "accounts.png", full_page=True)
        page.get_by_role("link", name="Sign-in and security").click()
        mfa = page.get_by_role("region", name="Multi-factor authentication")
        mfa.get_by_label("Your password").fill(PASSWORD)
        page.get_by_role("button", name="Set up multi-factor authentication").click()
        expect(page.locator("figure.qr svg")).to_be_visible()
        page.screenshot(path=screenshots / "mfa-enrolment.png", full_page=True)
        secret = page.locator("#secret").inner_text()
        page.get_by_label("The 6-digit code the app shows").fill(pyotp.TOTP(secret).at(clock.now()))
        page.get_by_role("button", name="Turn it on").click()
        expect(page.get_by_role("status")).to_have_text("Multi-factor authentication is on.")
        expect(page.get_by_role("list", name="Recovery codes").locator("li")).to_have_count(10)
        page.screenshot(path=screenshots / "recovery-codes.png", full_page=True)


class TestMembersPage:
    def test_last_admin_guard_and_adding_a_member_by_checkboxes(self, page, acme, screenshots):
        sign_in(page, "alice@acme.example")
        page.goto("/accounts/acme-corp")
        page.get_by_label("manage for alice@acme.example").uncheck()
        page.get_by_role("button", name="Save alice@acme.example").click()
        expect(page.get_by_role("alert")).to_contain_text(
            "they are the last member of 'acme-corp' with the manage permission"
        )
        page.screenshot(path=screenshots / "members-last-admin.png", full_page=True)

        form = page.locator("form", has=page.get_by_role("button", name="Add member"))
        form.get_by_label("Email").fill("carol@acme.example")
        form.get_by_label("create").check()
        form.get_by_label("billing").check()
        form.get_by_role("button", name="Add member").click()
        expect(page.get_by_role("status")).to_have_text("carol@acme.example is now a member.")
        expect(page.get_by_label("create for carol@acme.example")).to_be_checked()
        expect(page.get_by_label("billing for carol@acme.example")).to_be_checked()
        expect(page.get_by_label("manage for carol@acme.example")).not_to_be_checked()
        page.screenshot(path=screenshots / "members.png", full_page=True)


class TestEmailedLinks:
    def test_a_veto_link_works_through_its_button(self, page, runtime, factories, screenshots):
        story = Story.begin(runtime, factories)
        request_id = story.ready()
        notice = story.emails("access_veto_notice", to="billing@acme.example")[0]
        _, token = link_token(notice.body, "veto")
        page.goto(f"/access-requests/{request_id}/veto/{token}")
        page.screenshot(path=screenshots / "veto-link.png", full_page=True)
        assert story.request(request_id).state is RequestState.COOLING_OFF  # opening did nothing
        page.get_by_role("button", name="Stop it: cancel the request").click()
        expect(page.get_by_role("status")).to_contain_text("The request is cancelled")
        assert story.request(request_id).state is RequestState.CANCELLED


class TestCsrf:
    def test_s19_a_form_posted_without_its_token_is_refused(self, page, acme):
        page.goto("/login")
        page.locator("input[name=csrf_token]").evaluate("input => input.remove()")
        page.get_by_label("Email").fill("alice@acme.example")
        page.get_by_label("Password").fill(PASSWORD)
        with page.expect_response(re.compile(r"/login$")) as answer:
            page.get_by_role("button", name="Sign in", exact=True).click()
        assert answer.value.status == 403
        expect(page.get_by_role("heading", name="Form expired")).to_be_visible()
        expect(page.get_by_role("alert")).to_contain_text("did not come from this site")
        page.goto("/accounts")
        expect(page).to_have_url(re.compile(r"/login\?next=/accounts$"))  # not signed in


class TestScreenshots:
    def test_main_pages(self, page, acme, outbox, screenshots):
        pages = {
            "home": "/",
            "login": "/login",
            "no-admin": "/help/no-admin",
            "password-reset": "/password-reset",
        }
        for name, path in pages.items():
            page.goto(path)
            check_basics(page)
            page.screenshot(path=screenshots / f"{name}.png", full_page=True)
        page.goto("/password-reset")
        page.get_by_label("Email").fill("bob@acme.example")
        page.get_by_role("button", name="Email me a link").click()
        expect(page.get_by_role("status")).to_contain_text("a link to do so is on its way")
        page.goto("/dev/mail")
        page.get_by_role("link", name=re.compile("password", re.I)).first.click()
        link = page.locator("pre.mail-body a[href*='/reset/khr_']")
        expect(link).to_be_visible()
        page.screenshot(path=screenshots / "dev-mail.png", full_page=True)
        page.set_viewport_size({"width": 390, "height": 800})
        sign_in(page, "alice@acme.example")
        for path in ("/accounts", "/account/security", "/accounts/acme-corp"):
            page.goto(path)
            check_basics(page)
        page.screenshot(path=screenshots / "members-phone.png", full_page=True)
