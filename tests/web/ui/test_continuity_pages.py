"""Issue 18 on the account page: the one-admin banner, admins leaving, recovery contacts."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from keyholder.accounts.models import ContactKind
from keyholder.accounts.service import ContactInput, create_account
from tests.factories import OPERATOR, PASSWORD
from tests.web.ui.pages import text_of

PAGE = "/accounts/acme-corp"


@pytest.fixture
def acme(runtime, factories):
    account = create_account(
        runtime.uow(),
        name="acme-corp",
        display_name="Acme Corporation",
        contract_number="ENT-2024-001234",
        domains=["acme.example"],
        contacts=[
            ContactInput(ContactKind.EXECUTIVE, "Dana Whitfield", "CEO", "dana@acme.example")
        ],
        actor=OPERATOR,
    )
    alice = factories.user("alice@acme.example", password=PASSWORD)
    factories.member(account, alice, "view,manage")
    bob = factories.user("bob@acme.example", password=PASSWORD)
    factories.member(account, bob, "view,create")
    return account


def banner(page: str) -> re.Match[str] | None:
    return re.search(
        r'<div class="alert warning" role="note" aria-labelledby="one-admin-heading">'
        r"\s*<h2[^>]*>([^<]+)",
        page,
    )


class TestOneAdminBanner:
    @pytest.mark.parametrize("who", ["alice@acme.example", "bob@acme.example"])
    def test_every_member_sees_it(self, browser, acme, who):
        browser.sign_in(who)
        found = banner(browser.get(PAGE).text)
        assert found
        assert found.group(1) == "One admin left: add a second"

    def test_gone_with_a_second_admin(self, browser, acme, factories):
        factories.admin_of(acme, "carol@acme.example")
        browser.sign_in("bob@acme.example")
        assert banner(browser.get(PAGE).text) is None


class TestAdminLeaving:
    def test_removing_one_of_two_admins_asks_for_a_confirmation(self, browser, acme, factories):
        factories.admin_of(acme, "carol@acme.example")
        browser.sign_in("alice@acme.example")
        member = f"{PAGE}/members/carol%40acme.example"
        held = browser.submit(PAGE, member, action="remove")
        assert held.status_code == 409
        assert "This leaves one admin" in held.text
        assert 'name="confirm" value="yes"' in held.text
        assert "carol@acme.example" in text_of(browser.get(PAGE).text)  # nothing changed yet
        done = browser.submit(PAGE, member, action="remove", confirm="yes")
        assert done.status_code == 303
        assert (
            "carol@acme.example is no longer a member."
            in browser.get(done.headers["location"]).text
        )

    def test_the_last_admin_leaves_by_naming_a_successor(self, browser, acme):
        browser.sign_in("alice@acme.example")
        member = f"{PAGE}/members/alice%40acme.example"
        held = browser.submit(PAGE, member, action="remove")
        assert held.status_code == 409
        assert "Name a successor first" in held.text
        assert '<option value="bob@acme.example">' in held.text
        assert '<option value="alice@acme.example">' not in held.text
        left = browser.submit(PAGE, member, action="remove", successor="bob@acme.example")
        assert left.status_code == 303
        assert left.headers["location"] == "/accounts"


class TestRecoveryPanel:
    def test_it_shows_contacts_with_their_state_and_the_verified_domains(
        self, browser, acme, runtime
    ):
        browser.sign_in("bob@acme.example")
        page = text_of(browser.get(PAGE).text)
        assert "How this account recovers if every admin is gone" in page
        assert "Dana Whitfield" in page
        assert "confirmed, counts from" in page  # staff recorded it today: it waits (S22)
        assert "acme.example" in page
        runtime.clock.advance(runtime.settings.access_contact_min_age)
        assert "counts for recovery" in text_of(browser.get(PAGE).text)

    def test_members_without_manage_get_no_contact_forms(self, browser, acme):
        browser.sign_in("bob@acme.example")
        assert 'action="/accounts/acme-corp/contacts"' not in browser.get(PAGE).text


class TestContactPages:
    def name_cfo(self, browser, password=PASSWORD):
        return browser.submit(
            PAGE,
            f"{PAGE}/contacts",
            kind="executive",
            name="Chris Fo",
            title="CFO",
            email="chris@acme.example",
            password=password,
        )

    def test_an_admin_names_a_contact_who_confirms_by_link(self, browser, acme, outbox):
        browser.sign_in("alice@acme.example")
        added = self.name_cfo(browser)
        assert added.status_code == 303
        page = browser.get(added.headers["location"]).text
        assert "chris@acme.example is named: they are emailed a link to confirm." in page
        assert "pending: not confirmed yet" in text_of(page)
        [mail] = outbox.of_kind("contact_confirm")
        link = re.search(r"https://keyholder\.test(/contact-confirmations/\S+)", mail.body)
        assert link
        landing = browser.get(link.group(1))
        assert landing.status_code == 200
        assert landing.headers["referrer-policy"] == "no-referrer"  # S4
        assert "Confirm my address" in landing.text
        confirmed = browser.submit(link.group(1))
        assert confirmed.status_code == 200
        assert "chris@acme.example is confirmed" in confirmed.text
        again = browser.submit(link.group(1))
        assert again.status_code == 410

    def test_a_wrong_password_shows_the_form_again_with_what_was_typed_s17(
        self, browser, acme, outbox
    ):
        browser.sign_in("alice@acme.example")
        refused = self.name_cfo(browser, password="wrong password")
        assert refused.status_code == 403
        assert "password" in refused.text
        assert 'value="chris@acme.example"' in refused.text
        assert outbox.of_kind("contact_confirm") == []

    def test_an_address_off_the_verified_domains_is_refused(self, browser, acme):
        browser.sign_in("alice@acme.example")
        refused = browser.submit(
            PAGE,
            f"{PAGE}/contacts",
            kind="executive",
            name="Chris Fo",
            title="CFO",
            email="chris@acme-example.com",
            password=PASSWORD,
        )
        assert refused.status_code == 422

    def test_an_admin_removes_a_contact(self, browser, acme, outbox, runtime):
        browser.sign_in("alice@acme.example")
        page = browser.get(PAGE).text
        action = re.search(r'action="(/accounts/acme-corp/contacts/[0-9a-f-]+)"', page)
        assert action
        removed = browser.submit(
            PAGE, action.group(1), action="remove", email="dana@acme.example", password=PASSWORD
        )
        assert removed.status_code == 303
        assert "Dana Whitfield" not in browser.get(PAGE).text
        runtime.clock.advance(timedelta(seconds=1))
        assert outbox.of_kind("contact_changed")[-1].recipients == [
            "alice@acme.example",
            "dana@acme.example",
        ]
