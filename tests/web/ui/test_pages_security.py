"""Headers of every page, escaping of user text, and what the pages never do."""

from __future__ import annotations

import pytest

from keyholder.accounts import service as accounts
from keyholder.mail.outbox import enqueue_email
from keyholder.web.ui.rendering import CSP
from tests.factories import OPERATOR, PASSWORD
from tests.web.ui.conftest import make_browser

PAGES = ["/", "/login", "/password-reset", "/help/no-admin", "/help/no-admin/sent"]
UPLOAD_PAGES = ["/help/no-admin/request"]
TOKEN_PAGES = [
    "/reset/khr_anything",
    "/verify-email/khv_anything",
    "/confirm-email-change/khv_anything",
    "/invitations/khi_anything",
    "/access-requests/00000000-0000-0000-0000-000000000000/confirm-email/t",
    "/access-requests/00000000-0000-0000-0000-000000000000/executive-confirmation/t",
    "/access-requests/00000000-0000-0000-0000-000000000000/veto/t",
]


class TestHeaders:
    @pytest.mark.parametrize("path", PAGES + UPLOAD_PAGES + TOKEN_PAGES)
    def test_every_page_has_a_strict_csp_and_nosniff(self, browser, path):
        response = browser.get(path)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/html")
        assert response.headers["content-security-policy"] == CSP
        assert "'unsafe-inline'" not in CSP
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["cache-control"] == "no-store"

    @pytest.mark.parametrize("path", PAGES)
    def test_ordinary_pages_send_a_same_origin_referrer(self, browser, path):
        assert browser.get(path).headers["referrer-policy"] == "same-origin"

    @pytest.mark.parametrize("path", TOKEN_PAGES)
    def test_s4_token_pages_send_no_referrer_and_are_not_cached(self, browser, path):
        response = browser.get(path)
        assert response.headers["referrer-policy"] == "no-referrer"
        assert response.headers["cache-control"] == "no-store"

    def test_s4_a_dead_reset_link_answers_with_the_same_headers(self, browser):
        response = browser.submit(
            "/reset/khr_not_a_token",
            password="a fine new passphrase",
            password_again="a fine new passphrase",
        )
        assert response.status_code == 404
        assert response.headers["referrer-policy"] == "no-referrer"
        assert response.headers["cache-control"] == "no-store"
        assert "Ask for a new reset link" in response.text

    def test_no_inline_script_or_style_in_any_page(self, browser, factories):
        account = factories.account("acme-corp")
        alice = factories.user("alice@acme.example", password=PASSWORD)
        factories.member(account, alice, "view,manage")
        browser.sign_in(alice.email)
        for path in [*PAGES, "/accounts", "/accounts/acme-corp", "/account/security"]:
            text = browser.get(path).text
            # Scripts only as files of this site (local-time.js on every page).
            assert text.count("<script") == text.count('<script src="/static/'), path
            assert "<script>" not in text, path
            assert "<style" not in text, path
            assert " style=" not in text, path

    def test_the_stylesheet_is_served_with_nosniff(self, browser):
        response = browser.get("/static/app.css")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/css")
        assert response.headers["x-content-type-options"] == "nosniff"
        assert browser.get("/static/../pyproject.toml").status_code == 404
        assert browser.get("/static/nothing.css").status_code == 404


class TestEscaping:
    def test_s37_a_name_or_email_with_markup_shows_as_text(self, browser, factories):
        account = factories.account("acme-corp")
        alice = factories.user("alice@acme.example", password=PASSWORD)
        factories.member(account, alice, "view,manage")
        browser.sign_in(alice.email)
        hostile = '<script>alert(1)</script>"@acme.example'
        response = browser.submit(
            "/accounts/acme-corp", "/accounts/acme-corp/members", email=hostile
        )
        assert response.status_code == 422  # not a valid address: the form again
        assert "<script>alert(1)</script>" not in response.text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text

    def test_a_display_name_with_a_script_tag_shows_as_text(self, browser, factories):
        account = accounts.create_account(
            factories.runtime.uow(),
            name="evil",
            contract_number="ENT-2024-999999",
            display_name="<script>alert('x')</script> Evil",
            actor=OPERATOR,
        )
        alice = factories.user("alice@evil.example", password=PASSWORD)
        factories.member(account, alice, "view")
        browser.sign_in(alice.email)
        for path in ["/accounts", "/accounts/evil"]:
            text = browser.get(path).text
            assert "<script>alert" not in text
            assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; Evil" in text


class TestErrorsArePages:
    def test_an_account_that_is_not_yours_is_a_404_page(self, browser, factories):
        factories.account("acme-corp")
        bob = factories.user("bob@else.example", password=PASSWORD)
        browser.sign_in(bob.email)
        response = browser.get("/accounts/acme-corp")
        assert response.status_code == 404
        assert response.headers["content-type"].startswith("text/html")
        assert "No enterprise account named" in response.text

    def test_signed_out_visitors_are_sent_to_sign_in(self, browser):
        response = browser.get("/accounts/acme-corp", follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"] == "/login?next=/accounts/acme-corp"

    def test_a_malformed_request_id_is_a_404_page(self, browser):
        response = browser.submit("/access-requests/not-a-uuid/veto/t")
        assert response.status_code == 404
        assert response.headers["content-type"].startswith("text/html")

    def test_next_never_leaves_the_site(self, browser, factories):
        alice = factories.user("alice@acme.example", password=PASSWORD)
        for target in ["https://evil.example/", "//evil.example/", "/\\evil.example"]:
            response = browser.submit("/login", email=alice.email, password=PASSWORD, next=target)
            assert response.headers["location"] == "/accounts"


class TestDevMail:
    def test_dev_mail_is_a_404_outside_development(self, browser, outbox):
        outbox.enqueue(1)
        assert browser.get("/dev/mail").status_code == 404
        [row] = outbox.rows()
        assert browser.get(f"/dev/mail/{row.id}").status_code == 404

    def test_the_demo_letter_is_a_404_outside_development(self, browser, dev_runtime):
        assert browser.get("/dev/letters/initech.png").status_code == 404
        with make_browser(dev_runtime) as dev:
            letter = dev.get("/dev/letters/initech.png")
        assert letter.status_code == 200
        assert letter.content.startswith(b"\x89PNG")
        assert letter.headers["content-disposition"].startswith("attachment")

    def test_dev_mail_shows_the_outbox_with_clickable_links_and_escaped_html(
        self, dev_runtime, outbox
    ):
        with dev_runtime.uow() as uow:
            enqueue_email(
                uow,
                kind="test",
                to=["x@example.com"],
                subject="Your <b>link</b>",
                body="Open https://keyholder.test/reset/khr_abc to go on. <i>plain</i>",
                html="<p onclick=x>hi</p>",
            )
            uow.commit()
        with make_browser(dev_runtime) as browser:
            listing = browser.get("/dev/mail")
            assert listing.status_code == 200
            assert "Your &lt;b&gt;link&lt;/b&gt;" in listing.text
            [row] = outbox.rows()
            page = browser.get(f"/dev/mail/{row.id}").text
            assert '<a href="https://keyholder.test/reset/khr_abc">' in page
            assert "&lt;i&gt;plain&lt;/i&gt;" in page
            assert "&lt;p onclick=x&gt;hi&lt;/p&gt;" in page
            assert "<p onclick" not in page


class TestSignedOutPosts:
    def test_a_signed_out_form_post_goes_to_sign_in_without_a_post_only_next(self, browser):
        response = browser.submit("/login", "/accounts/acme-corp/members", email="x@acme.example")
        assert response.status_code == 303
        assert response.headers["location"] == "/login"
