"""Sign-in pages: log in, second factor, log out, password reset, invitations."""

from __future__ import annotations

import re
import time

import pyotp
import pytest

from keyholder.accounts import invitations, members
from keyholder.identity import verification
from keyholder.identity.models import StaffRole, User
from tests.factories import OPERATOR, PASSWORD
from tests.pools import busy_workers
from tests.runtimes import runtime_with
from tests.web.ui.conftest import make_browser

NEW_PASSWORD = "a brand new passphrase for alice"


@pytest.fixture
def alice(factories):
    return factories.user("alice@acme.example", password=PASSWORD)


class TestLogin:
    def test_wrong_password_and_unknown_email_get_the_same_message(self, browser, alice):
        wrong = browser.submit("/login", email=alice.email, password="not it")
        unknown = browser.submit("/login", email="nobody@acme.example", password="not it")
        assert wrong.status_code == unknown.status_code == 401
        for page in (wrong, unknown):
            assert "The email or password is wrong." in page.text
            assert "keyholder_session" not in page.headers.get("set-cookie", "")
        assert 'value="nobody@acme.example"' in unknown.text  # the form keeps the email

    def test_signing_in_sets_the_session_cookie_and_shows_who(self, browser, alice):
        response = browser.submit("/login", email=alice.email, password=PASSWORD, next="/")
        assert response.headers["location"] == "/"
        cookie = response.headers["set-cookie"]
        assert "keyholder_session=" in cookie
        assert "HttpOnly" in cookie
        assert "Secure" in cookie
        assert "Signed in as" in browser.get("/").text

    def test_s16_throttled_sign_in_says_when_to_try_again(self, settings, clock, engine, alice):
        with (
            runtime_with(
                settings, clock, engine, login_limit_per_account="2 per 5 minutes"
            ) as runtime,
            make_browser(runtime) as browser,
        ):
            for _ in range(2):
                browser.submit("/login", email=alice.email, password="wrong")
            throttled = browser.submit("/login", email=alice.email, password=PASSWORD)
        assert throttled.status_code == 429
        assert int(throttled.headers["retry-after"]) > 0
        assert re.search(
            r"Too many sign-in attempts\. Try again in \d+ (seconds|minutes)", throttled.text
        )

    def test_s40_a_full_hashing_queue_says_when_to_try_again(self, settings, clock, engine, alice):
        with (
            runtime_with(
                settings, clock, engine, hashing_workers=1, hashing_queue_limit=1
            ) as runtime,
            make_browser(runtime) as browser,
            busy_workers(runtime.hashing),
        ):
            runtime.hashing.submit(time.sleep, 0)  # the one place in the queue
            busy = browser.submit("/login", email=alice.email, password=PASSWORD)
        assert busy.status_code == 503
        assert busy.headers["retry-after"] == "10"
        assert "Signing in is very busy right now. Try again in 10 seconds." in busy.text

    def test_log_out_ends_the_session(self, browser, alice):
        browser.sign_in(alice.email)
        session = browser.client.cookies.get("keyholder_session")
        response = browser.submit("/", "/logout")
        assert response.status_code == 303
        browser.client.cookies.set("keyholder_session", session, domain="keyholder.test")
        assert browser.get("/accounts", follow_redirects=False).status_code == 303

    def test_mfa_user_passes_the_second_factor_page(self, browser, factories, clock):
        user = factories.user("mfa@acme.example", password=PASSWORD, mfa=True)
        response = browser.submit("/login", email=user.email, password=PASSWORD, next="/accounts")
        assert response.headers["location"] == "/login/mfa?next=/accounts"
        # Not signed in yet: the pages treat the pending session as signed out.
        assert browser.get("/accounts", follow_redirects=False).status_code == 303
        wrong = browser.submit(
            "/login/mfa?next=/accounts", "/login/mfa", code="000000", next="/accounts"
        )
        assert wrong.status_code == 401
        assert "The code is wrong" in wrong.text
        code = pyotp.TOTP(user.totp_secret).at(clock.now())
        ok = browser.submit("/login/mfa", code=code, next="/accounts")
        assert ok.headers["location"] == "/accounts"
        assert browser.get("/accounts").status_code == 200

    def test_a_throttled_second_factor_says_when_to_try_again(
        self, settings, clock, engine, factories
    ):
        user = factories.user("mfa@acme.example", password=PASSWORD, mfa=True)
        with (
            runtime_with(settings, clock, engine, mfa_limit_per_user="2 per 15 minutes") as rt,
            make_browser(rt) as browser,
        ):
            browser.submit("/login", email=user.email, password=PASSWORD, next="/accounts")
            for _ in range(2):
                browser.submit("/login/mfa", code="000000", next="/accounts")
            code = pyotp.TOTP(user.totp_secret).at(clock.now())
            throttled = browser.submit("/login/mfa", code=code, next="/accounts")
        assert throttled.status_code == 429
        assert int(throttled.headers["retry-after"]) > 0  # as the API answers it
        assert "Second factor" in throttled.text

    def test_s15_the_second_factor_page_sets_a_new_session_cookie(self, browser, factories, clock):
        """Session fixation: the cookie held before the code (planted, say) ends with it."""
        user = factories.user("mfa@acme.example", password=PASSWORD, mfa=True)
        browser.submit("/login", email=user.email, password=PASSWORD, next="/accounts")
        planted = browser.client.cookies.get("keyholder_session")
        code = pyotp.TOTP(user.totp_secret).at(clock.now())
        ok = browser.submit("/login/mfa", code=code, next="/accounts")
        assert ok.status_code == 303
        cookie = ok.headers["set-cookie"]
        assert "HttpOnly" in cookie
        assert "Secure" in cookie
        verified = browser.client.cookies.get("keyholder_session")
        assert verified != planted
        assert browser.get("/accounts", follow_redirects=False).status_code == 200
        browser.client.cookies.set("keyholder_session", planted, domain="keyholder.test")
        assert browser.get("/accounts", follow_redirects=False).status_code == 303
        assert browser.get("/api/session").status_code == 401


class TestMfaEnrolment:
    def test_enrol_with_the_qr_page_and_see_recovery_codes_once(self, browser, alice, clock):
        browser.sign_in(alice.email)
        wrong_password = browser.submit("/account/security", "/account/mfa/enrolment", password="x")
        assert wrong_password.status_code == 403
        assert "The password is wrong" in wrong_password.text
        page = browser.submit("/account/security", "/account/mfa/enrolment", password=PASSWORD)
        assert page.status_code == 200
        assert "<svg" in page.text
        secret = re.search(r'id="secret">([A-Z2-7]+)<', page.text).group(1)
        uri = re.search(r'name="otpauth_uri" value="([^"]+)"', page.text).group(1)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        confirm = {"csrf_token": token, "secret": secret, "otpauth_uri": uri.replace("&amp;", "&")}
        retry = browser.client.post(
            "/account/mfa/enrolment/confirm", data={**confirm, "code": "000000"}
        )
        assert retry.status_code == 422
        assert secret in retry.text  # the same secret again
        assert "<svg" in retry.text
        code = pyotp.TOTP(secret).at(clock.now())
        done = browser.client.post("/account/mfa/enrolment/confirm", data={**confirm, "code": code})
        assert done.status_code == 200
        assert done.headers["cache-control"] == "no-store"
        assert len(re.findall(r"<li><code>[0-9a-f-]{23}</code></li>", done.text)) == 10
        assert "Multi-factor authentication is on" in done.text

    def test_staff_without_mfa_are_sent_to_enrol(self, browser, factories):
        agent = factories.user(
            "agent@keyholder-staff.example",
            password=PASSWORD,
            staff_role=StaffRole.AGENT,
            mfa=False,
        )
        response = browser.sign_in(agent.email)
        assert response.headers["location"] == "/account/security?staff=1"
        assert (
            "you can act as staff only once multi-factor"
            in browser.get(response.headers["location"]).text
        )


class TestPasswordReset:
    def test_s1_the_same_page_for_every_address(self, browser, alice, factories):
        factories.user("staff@keyholder-staff.example", staff_role=StaffRole.AGENT)
        pages = [
            browser.submit("/password-reset", email=email)
            for email in (
                alice.email,
                "nobody@acme.example",
                "staff@keyholder-staff.example",
                "not an email",
            )
        ]
        assert {p.status_code for p in pages} == {200}
        bodies = {re.sub(r'value="[^"]*"', "", p.text) for p in pages}
        assert len(bodies) == 1

    def test_s4_s14_the_reset_link_page_sets_a_password_once(self, browser, factories, outbox):
        user = factories.user("carol@acme.example", password=PASSWORD)
        browser.submit("/password-reset", email=user.email)
        [email] = outbox.of_kind("password_reset")
        token = re.search(r"/reset/(khr_[A-Za-z0-9_-]+)", email.body).group(1)
        page = browser.get(f"/reset/{token}")
        assert page.headers["referrer-policy"] == "no-referrer"
        differ = browser.submit(f"/reset/{token}", password=NEW_PASSWORD, password_again="other")
        assert differ.status_code == 422
        common = browser.submit(f"/reset/{token}", password="password", password_again="password")
        assert common.status_code == 422  # refused password: the link still works
        done = browser.submit(f"/reset/{token}", password=NEW_PASSWORD, password_again=NEW_PASSWORD)
        assert done.status_code == 200
        assert "Password changed" in done.text
        assert "keyholder_session" not in done.headers.get("set-cookie", "")  # no auto-login
        again = browser.submit(
            f"/reset/{token}", password=NEW_PASSWORD, password_again=NEW_PASSWORD
        )
        assert again.status_code == 410


class TestInvitationPage:
    def test_a_new_person_sets_a_password_and_joins(self, browser, factories):
        account = factories.account("acme-corp")
        admin = factories.admin_of(account)
        members.add_member(
            factories.runtime.uow(),
            "acme-corp",
            "dave@acme.example",
            ["create"],
            actor=factories.actor(admin),
        )
        token = factories.last_invitation_token()
        page = browser.get(f"/invitations/{token}")
        assert page.headers["referrer-policy"] == "no-referrer"
        assert "Sign in to accept" in page.text
        done = browser.submit(
            f"/invitations/{token}", name="Dave", password=NEW_PASSWORD, password_again=NEW_PASSWORD
        )
        assert done.status_code == 200
        assert "You are now a member of" in done.text
        used = browser.submit(
            f"/invitations/{token}", password=NEW_PASSWORD, password_again=NEW_PASSWORD
        )
        assert used.status_code == 410
        browser.sign_in("dave@acme.example", NEW_PASSWORD)
        assert "acme-corp" in browser.get("/accounts").text

    def test_an_existing_user_is_told_to_sign_in_first(self, browser, factories):
        account = factories.account("acme-corp")
        factories.user("erin@acme.example", password=PASSWORD)
        with factories.runtime.uow() as uow:
            uow.session.add(account)
            invitations.invite(uow, account, "erin@acme.example", frozenset(), actor=OPERATOR)
            uow.commit()
        token = factories.last_invitation_token()
        refused = browser.submit(
            f"/invitations/{token}", password=NEW_PASSWORD, password_again=NEW_PASSWORD
        )
        assert refused.status_code == 401
        assert "Sign in as erin@acme.example" in refused.text
        browser.sign_in("erin@acme.example")
        accepted = browser.submit(f"/invitations/{token}")
        assert accepted.status_code == 200
        assert "You are now a member of" in accepted.text


class TestEmailVerificationPage:
    def test_the_link_shows_a_button_and_only_the_button_verifies(self, browser, runtime, alice):
        with runtime.uow() as uow:
            uow.session.get(User, alice.id).email_verified_at = None
            uow.commit()
        issued = verification.issue_verification_link(runtime.uow(), alice.email, actor=OPERATOR)
        path = issued.link.removeprefix("https://keyholder.test")
        page = browser.get(path)
        assert page.status_code == 200
        assert page.headers["referrer-policy"] == "no-referrer"
        assert "Confirm your email address" in page.text
        with runtime.uow(read_only=True) as uow:
            assert uow.session.get(User, alice.id).email_verified_at is None  # GET did nothing
        done = browser.submit(path)
        assert done.status_code == 200
        assert "Your email address is confirmed." in done.text
        again = browser.submit(path)
        assert again.status_code == 410
        assert "This link does not work" in again.text
