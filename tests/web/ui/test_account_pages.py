"""Account admin pages: members with permission checkboxes, invitations, history."""

from __future__ import annotations

import re

import pytest

from keyholder.accounts.models import Membership
from tests.factories import PASSWORD


@pytest.fixture
def acme(factories):
    account = factories.account("acme-corp")
    alice = factories.user("alice@acme.example", password=PASSWORD)
    factories.member(account, alice, "view,manage")
    bob = factories.user("bob@acme.example", password=PASSWORD)
    factories.member(account, bob, "view,create")
    return account


PAGE = "/accounts/acme-corp"


class TestMembersPage:
    def test_my_accounts_lists_only_mine(self, browser, acme, factories):
        factories.account("globex")
        browser.sign_in("bob@acme.example")
        page = browser.get("/accounts").text
        assert 'href="/accounts/acme-corp"' in page
        assert "globex" not in page

    def test_an_admin_adds_a_member_with_checkboxes(self, browser, acme, factories):
        factories.user("carol@acme.example")
        browser.sign_in("alice@acme.example")
        added = browser.submit(
            PAGE, f"{PAGE}/members", email="carol@acme.example", permissions=["create", "billing"]
        )
        assert added.status_code == 303
        page = browser.get(added.headers["location"]).text
        assert "carol@acme.example is now a member." in page
        row = re.search(r"<th scope=\"row\">carol@acme\.example</th>(.*?)</tr>", page, re.S)
        assert row
        checked = re.findall(r'value="(\w+)" form="[^"]+" checked', row.group(1))
        assert checked == ["create", "billing"]

    def test_adding_an_email_without_a_user_sends_an_invitation_that_can_be_revoked(
        self, browser, acme, outbox
    ):
        browser.sign_in("alice@acme.example")
        added = browser.submit(PAGE, f"{PAGE}/members", email="dave@acme.example")
        page = browser.get(added.headers["location"]).text
        assert "dave@acme.example has no user yet: an invitation is on its way" in page
        assert outbox.of_kind("invitation")
        action = re.search(r'action="(/accounts/acme-corp/invitations/[0-9a-f-]+/revoke)"', page)
        assert action
        revoked = browser.submit(PAGE, action.group(1))
        assert "The invitation is revoked." in browser.get(revoked.headers["location"]).text

    def test_s18_an_admin_granted_by_a_request_is_told_to_enrol_mfa_first(
        self, browser, runtime, acme, factories
    ):
        peter = factories.user("peter@acme.example", password=PASSWORD)
        membership = factories.member(acme, peter, "view,manage")
        with runtime.uow() as uow:
            uow.session.get(Membership, membership.id).mfa_required = True
            uow.commit()
        browser.sign_in(peter.email)
        page = browser.get(PAGE).text
        assert "admin actions need multi-factor authentication first" in page
        assert 'href="/account/security"' in page
        assert f'action="{PAGE}/members"' not in page  # no forms that would be refused
        browser.sign_in("alice@acme.example")
        assert "multi-factor authentication first" not in browser.get(PAGE).text

    def test_changing_permissions_and_removing(self, browser, acme):
        browser.sign_in("alice@acme.example")
        member = f"{PAGE}/members/bob@acme.example"
        saved = browser.submit(PAGE, member, action="save", permissions=["billing"])
        assert (
            "The permissions of bob@acme.example are saved."
            in browser.get(saved.headers["location"]).text
        )
        removed = browser.submit(PAGE, member, action="remove")
        page = browser.get(removed.headers["location"]).text
        assert "bob@acme.example is no longer a member." in page
        assert '<th scope="row">bob@acme.example</th>' not in page

    def test_the_last_admin_guard_is_a_clear_message(self, browser, acme):
        browser.sign_in("alice@acme.example")
        member = f"{PAGE}/members/alice@acme.example"
        refused = browser.submit(PAGE, member, action="save", permissions=["create"])
        assert refused.status_code == 409
        assert 'role="alert"' in refused.text
        assert "they are the last member of &#39;acme-corp&#39; with the manage permission" in (
            refused.text
        )
        removed = browser.submit(PAGE, member, action="remove")
        assert removed.status_code == 409
        assert "Cannot remove alice@acme.example" in removed.text

    def test_an_unknown_permission_or_bad_email_shows_the_form_again(self, browser, acme):
        browser.sign_in("alice@acme.example")
        refused = browser.submit(
            PAGE, f"{PAGE}/members", email="x@acme.example", permissions=["root"]
        )
        assert refused.status_code == 422
        assert "valid permissions are: view, create, manage, billing" in refused.text
        assert 'value="x@acme.example"' in refused.text

    def test_a_member_without_manage_sees_no_controls_nor_history(self, browser, acme):
        browser.sign_in("bob@acme.example")
        page = browser.get(PAGE).text
        assert "alice@acme.example" in page
        assert 'type="checkbox"' not in page
        assert "Pending invitations" not in page
        assert "History" not in page
        refused = browser.submit(PAGE, f"{PAGE}/members", email="x@acme.example")
        assert refused.status_code == 403
        assert "needs the manage permission" in refused.text

    def test_admins_see_the_account_history(self, browser, acme):
        browser.sign_in("alice@acme.example")
        browser.submit(PAGE, f"{PAGE}/members/bob@acme.example", action="save", permissions=[])
        page = browser.get(PAGE).text
        history = page.split('id="history-heading"')[1]
        assert "member.update" in history
        assert "alice@acme.example" in history
        assert "member:bob@acme.example" in history
