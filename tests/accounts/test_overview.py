"""The account pages' read models: what each reader is shown, read in one transaction."""

from __future__ import annotations

import pytest

from keyholder.accounts import members
from keyholder.accounts.models import Membership
from keyholder.accounts.overview import account_overview, accounts_overview
from keyholder.errors import NotFound, PermissionDenied
from keyholder.identity.models import StaffRole
from tests.factories import OPERATOR


@pytest.fixture
def acme(factories):
    account = factories.account("acme-corp")
    factories.admin_of(account, "alice@acme.example")
    factories.member(account, factories.user("bob@acme.example"), "view,create")
    # A pending invitation and the history that records it.
    members.add_member(
        factories.runtime.uow(), "acme-corp", "dave@acme.example", ["view"], actor=OPERATOR
    )
    return account


def overview_for(runtime, factories, email, **user):
    actor = factories.actor(factories.user(email, **user))
    return account_overview(runtime.uow(read_only=True), "acme-corp", actor=actor)


class TestAccountOverview:
    def test_an_admin_sees_members_invitations_and_history(self, runtime, factories, acme):
        alice = next(m.user for m in _members(runtime, acme) if m.user.email.startswith("alice"))
        page = account_overview(
            runtime.uow(read_only=True), "acme-corp", actor=factories.actor(alice)
        )
        assert page.account.name == "acme-corp"
        assert [m.user.email for m in page.members] == ["alice@acme.example", "bob@acme.example"]
        assert [i.email for i in page.invitations] == ["dave@acme.example"]
        assert any(e.action == "invitation.create" for e in page.events)
        assert (page.can_manage, page.needs_mfa, page.has_admin) == (True, False, True)

    def test_a_member_without_manage_sees_members_only(self, runtime, factories, acme):
        bob = next(m.user for m in _members(runtime, acme) if m.user.email.startswith("bob"))
        page = account_overview(
            runtime.uow(read_only=True), "acme-corp", actor=factories.actor(bob)
        )
        assert len(page.members) == 2
        assert (page.invitations, page.events) == ((), ())
        assert (page.can_manage, page.needs_mfa) == (False, False)

    def test_s18_an_admin_by_access_request_without_mfa_is_told_to_enrol(
        self, runtime, factories, acme
    ):
        peter = factories.user("peter@acme.example")
        membership = factories.member(acme, peter, "view,manage")
        with runtime.uow() as uow:
            uow.session.get(Membership, membership.id).mfa_required = True
            uow.commit()
        actor = factories.actor(peter)
        page = account_overview(runtime.uow(read_only=True), "acme-corp", actor=actor)
        assert (page.can_manage, page.needs_mfa) == (False, True)
        assert (page.invitations, page.events) == ((), ())
        enrolled = factories.actor(factories.enable_mfa(peter))
        page = account_overview(runtime.uow(read_only=True), "acme-corp", actor=enrolled)
        assert (page.can_manage, page.needs_mfa) == (True, False)

    def test_s29_strangers_get_404_as_for_a_missing_account(self, runtime, factories, acme):
        with pytest.raises(NotFound):
            overview_for(runtime, factories, "eve@evil.example")
        with pytest.raises(NotFound):
            account_overview(
                runtime.uow(read_only=True), "no-such", actor=factories.actor(factories.user())
            )

    def test_staff_see_the_account_and_only_staff_admins_manage_it(self, runtime, factories, acme):
        agent = overview_for(
            runtime, factories, "agent@keyholder.example", staff_role=StaffRole.AGENT
        )
        assert (len(agent.members), agent.can_manage, agent.events) == (2, False, ())
        admin = overview_for(
            runtime, factories, "boss@keyholder.example", staff_role=StaffRole.ADMIN
        )
        assert admin.can_manage
        assert [i.email for i in admin.invitations] == ["dave@acme.example"]

    def test_s18_staff_without_mfa_get_403(self, runtime, factories, acme):
        with pytest.raises(PermissionDenied):
            overview_for(
                runtime, factories, "agent@keyholder.example", staff_role=StaffRole.AGENT, mfa=False
            )


class TestAccountsOverview:
    def test_a_member_sees_their_accounts_and_which_have_no_admin(self, runtime, factories, acme):
        initech = factories.account("initech")
        peter = factories.user("peter@initech.example")
        factories.member(initech, peter, "view")
        factories.member(acme, peter, "view")
        found = accounts_overview(runtime.uow(read_only=True), actor=factories.actor(peter))
        assert [a.name for a in found.accounts] == ["acme-corp", "initech"]
        assert found.without_admin == frozenset({"initech"})

    def test_staff_see_every_account_and_are_not_pointed_to_recovery(
        self, runtime, factories, acme
    ):
        factories.account("initech")
        agent = factories.actor(
            factories.user("agent@keyholder.example", staff_role=StaffRole.AGENT)
        )
        found = accounts_overview(runtime.uow(read_only=True), actor=agent)
        assert [a.name for a in found.accounts] == ["acme-corp", "initech"]
        assert found.without_admin == frozenset()


def _members(runtime, account):
    return members.list_members(runtime.uow(read_only=True), account.name, actor=OPERATOR)
