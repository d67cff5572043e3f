"""The account page's "Recovery codes" section and the "Redeem a recovery code" page."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from keyholder.access.models import AccessRequest
from keyholder.identity.models import StaffRole
from tests.factories import PASSWORD
from tests.web.ui.pages import sign_in_staff

PAGE = "/accounts/acme-corp"
REDEEM = "/help/no-admin/recovery-code"
CODE = re.compile(r"<code>([0-9a-f]{4}(?:-[0-9a-f]{4}){5})</code>")


@pytest.fixture
def acme(factories):
    account = factories.account("acme-corp", domains=["acme.example"])
    alice = factories.user("alice@acme.example", password=PASSWORD)
    factories.member(account, alice, "view,manage")
    bob = factories.user("bob@acme.example", password=PASSWORD)
    factories.member(account, bob, "view")
    return account


def generate(browser) -> list[str]:
    shown = browser.submit(PAGE, f"{PAGE}/recovery-codes")
    assert shown.status_code == 200, shown.text
    assert "shown only this once" in shown.text
    return CODE.findall(shown.text)


class TestAccountSection:
    def test_an_admin_generates_codes_shown_once_then_sees_how_many_are_left(self, browser, acme):
        browser.sign_in("alice@acme.example")
        assert "No recovery codes have been generated" in browser.get(PAGE).text

        codes = generate(browser)

        assert len(codes) == 10
        page = browser.get(PAGE).text
        assert "10 of the codes generated on" in page
        assert not any(code in page for code in codes)
        assert "the old ones stop working" in page

    def test_a_member_without_manage_sees_no_section(self, browser, acme):
        browser.sign_in("bob@acme.example")

        assert "Recovery codes" not in browser.get(PAGE).text
        refused = browser.submit(PAGE, f"{PAGE}/recovery-codes")
        assert refused.status_code == 403


class TestRedeemPage:
    def test_needs_a_sign_in(self, browser, acme):
        page = browser.get(REDEEM, follow_redirects=False)
        assert page.status_code in (303, 401)

    def test_a_member_redeems_a_code_and_follows_the_claim(self, browser, acme, runtime):
        browser.sign_in("alice@acme.example")
        codes = generate(browser)
        runtime.clock.advance(runtime.settings.access_admin_active_window + timedelta(days=1))
        browser.client.cookies.clear()
        browser.sign_in("bob@acme.example")

        wrong = browser.submit(REDEEM, account="acme-corp", code="nope", reason="")
        assert wrong.status_code == 422
        assert "not a valid recovery code" in wrong.text

        accepted = browser.submit(REDEEM, account="acme-corp", code=codes[0], reason="Alice left")
        assert accepted.status_code == 202, accepted.text
        assert "Your recovery code was accepted" in accepted.text
        path = re.search(r'href="(/t/\d+/[^"]+)"', accepted.text).group(1)
        followed = browser.get(path)
        assert followed.status_code == 200, followed.text
        assert "approved" in followed.text.lower()
        assert "The change will be made on" in followed.text
        assert "letter" not in followed.text.lower()  # a claim has none
        with runtime.uow(read_only=True) as uow:
            assert uow.session.scalars(select(AccessRequest.state)).one() == "cooling_off"

    def test_the_guide_links_to_it(self, browser):
        assert f'href="{REDEEM}' in browser.get("/help/no-admin").text


def test_staff_open_a_claim_on_the_review_page(browser, acme, runtime, factories):
    browser.sign_in("alice@acme.example")
    codes = generate(browser)
    runtime.clock.advance(runtime.settings.access_admin_active_window + timedelta(days=1))
    browser.client.cookies.clear()
    browser.sign_in("bob@acme.example")
    assert browser.submit(REDEEM, account="acme-corp", code=codes[0]).status_code == 202
    with runtime.uow(read_only=True) as uow:
        request_id = uow.session.scalars(select(AccessRequest.id)).one()
    reviewer = factories.user(
        "riley@keyholder.example", password=PASSWORD, staff_role=StaffRole.REVIEWER
    )
    browser.client.cookies.clear()
    sign_in_staff(browser, reviewer, runtime.clock)

    page = browser.get(f"/desk/access-requests/{request_id}")

    assert page.status_code == 200, page.text
    assert "recovery codes: no letter and no review" in page.text


class TestGuideOffersTheAccountsOwnPaths:
    """Issue 18: the guide offers an account's recovery paths first, to those who could use them."""

    GUIDE = "/help/no-admin?account=acme-corp"

    def test_a_member_sees_the_codes_first(self, browser, acme):
        browser.sign_in("alice@acme.example")
        generate(browser)
        browser.client.cookies.clear()
        browser.sign_in("bob@acme.example")

        page = browser.get(self.GUIDE).text

        assert "Ways back into" in page
        assert "10 still unused" in page
        assert page.index("Ways back into") < page.index("Recover a former admin")
        assert f'href="{REDEEM}?account=acme-corp"' in page
        assert "acme.example" in page  # the domain a DNS proof can use

    @pytest.mark.parametrize("account", ["acme-corp", "no-such-account"])
    def test_an_anonymous_visitor_learns_nothing_of_the_account(self, browser, acme, account):
        browser.sign_in("alice@acme.example")
        generate(browser)
        browser.client.cookies.clear()

        page = browser.get(f"/help/no-admin?account={account}")

        assert page.status_code == 200
        assert "Ways back into" not in page.text
        assert "still unused" not in page.text
        # The same page whatever the account: only the name typed is echoed into links.
        other = browser.get("/help/no-admin?account=zz-other").text
        assert _without_tokens(page.text.replace(account, "zz-other")) == _without_tokens(other)

    def test_a_signed_in_stranger_learns_nothing_either(self, browser, acme, factories):
        browser.sign_in("alice@acme.example")
        generate(browser)
        browser.client.cookies.clear()
        factories.user("mallory@elsewhere.example", password=PASSWORD)
        browser.sign_in("mallory@elsewhere.example")

        page = browser.get(self.GUIDE).text

        assert "Ways back into" not in page
        assert "still unused" not in page


def _without_tokens(html: str) -> str:
    return re.sub(r'name="csrf_token" value="[^"]*"', "", html)
