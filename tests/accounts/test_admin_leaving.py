"""Issue 18: one of two admins leaves only confirmed; the last one only for a successor."""

from __future__ import annotations

import pytest

from keyholder.accounts import members
from keyholder.audit.service import list_events
from keyholder.errors import ConfirmationRequired, InvalidInput, LastAdminError, NotFound
from tests.factories import OPERATOR


@pytest.fixture
def acme(factories):
    return factories.account("acme-corp")


def permissions_of(runtime, email):
    found = members.get_member(runtime.uow(read_only=True), "acme-corp", email, actor=OPERATOR)
    return sorted(p.value for p in found.permissions)


class TestSecondToLastAdmin:
    def test_removing_one_of_two_admins_warns_and_changes_nothing(self, runtime, factories, acme):
        alice = factories.admin_of(acme, "alice@acme.example")
        factories.admin_of(acme, "bob@acme.example")
        with pytest.raises(ConfirmationRequired, match="one admin left"):
            members.remove_member(
                runtime.uow(), "acme-corp", "bob@acme.example", actor=factories.actor(alice)
            )
        assert permissions_of(runtime, "bob@acme.example") == ["manage", "view"]

    def test_demoting_one_of_two_admins_warns_and_changes_nothing(self, runtime, factories, acme):
        alice = factories.admin_of(acme, "alice@acme.example")
        factories.admin_of(acme, "bob@acme.example")
        with pytest.raises(ConfirmationRequired):
            members.set_member_permissions(
                runtime.uow(), "acme-corp", alice.email, ["view"], actor=factories.actor(alice)
            )
        assert permissions_of(runtime, alice.email) == ["manage", "view"]

    def test_confirmed_it_goes_ahead(self, runtime, factories, acme):
        alice = factories.admin_of(acme, "alice@acme.example")
        factories.admin_of(acme, "bob@acme.example")
        members.set_member_permissions(
            runtime.uow(),
            "acme-corp",
            "bob@acme.example",
            ["view"],
            actor=factories.actor(alice),
            confirm=True,
        )
        assert permissions_of(runtime, "bob@acme.example") == ["view"]

    def test_with_three_admins_no_confirmation_is_asked(self, runtime, factories, acme):
        alice = factories.admin_of(acme, "alice@acme.example")
        factories.admin_of(acme, "bob@acme.example")
        factories.admin_of(acme, "carol@acme.example")
        members.remove_member(
            runtime.uow(), "acme-corp", "bob@acme.example", actor=factories.actor(alice)
        )
        with pytest.raises(NotFound):
            permissions_of(runtime, "bob@acme.example")


class TestLastAdminLeaving:
    def test_the_last_admin_cannot_leave_without_a_successor(self, runtime, factories, acme):
        alice = factories.admin_of(acme, "alice@acme.example")
        factories.member(acme, factories.user("bob@acme.example"))
        with pytest.raises(LastAdminError, match="Name a successor"):
            members.remove_member(
                runtime.uow(), "acme-corp", alice.email, actor=factories.actor(alice), confirm=True
            )
        assert permissions_of(runtime, alice.email) == ["manage", "view"]

    def test_leaving_for_a_successor_hands_manage_over_in_one_change(
        self, runtime, factories, acme
    ):
        alice = factories.admin_of(acme, "alice@acme.example")
        factories.member(acme, factories.user("bob@acme.example"), "view,billing")
        members.remove_member(
            runtime.uow(),
            "acme-corp",
            alice.email,
            actor=factories.actor(alice),
            successor="Bob@Acme.example",
        )
        assert permissions_of(runtime, "bob@acme.example") == ["billing", "manage", "view"]
        with pytest.raises(NotFound):
            permissions_of(runtime, alice.email)
        [handed] = list_events(
            runtime.uow(read_only=True), target="account:acme-corp/member:bob@acme.example"
        )[:1]
        assert handed.action == "member.update"
        assert handed.data["after"] == {
            "permissions": ["view", "manage", "billing"],
            "successor_of": "alice@acme.example",
        }

    def test_stepping_down_for_a_successor(self, runtime, factories, acme):
        alice = factories.admin_of(acme, "alice@acme.example")
        factories.member(acme, factories.user("bob@acme.example"))
        members.set_member_permissions(
            runtime.uow(),
            "acme-corp",
            alice.email,
            ["view"],
            actor=factories.actor(alice),
            successor="bob@acme.example",
        )
        assert permissions_of(runtime, alice.email) == ["view"]
        assert permissions_of(runtime, "bob@acme.example") == ["manage", "view"]

    @pytest.mark.parametrize(
        ("successor", "error"),
        [("alice@acme.example", InvalidInput), ("ghost@acme.example", NotFound)],
    )
    def test_the_successor_is_another_member(self, runtime, factories, acme, successor, error):
        alice = factories.admin_of(acme, "alice@acme.example")
        with pytest.raises(error):
            members.remove_member(
                runtime.uow(),
                "acme-corp",
                alice.email,
                actor=factories.actor(alice),
                successor=successor,
            )
        assert permissions_of(runtime, alice.email) == ["manage", "view"]

    def test_a_successor_is_refused_when_admins_remain(self, runtime, factories, acme):
        alice = factories.admin_of(acme, "alice@acme.example")
        factories.admin_of(acme, "bob@acme.example")
        factories.member(acme, factories.user("carol@acme.example"))
        with pytest.raises(InvalidInput, match="successor"):
            members.remove_member(
                runtime.uow(),
                "acme-corp",
                "bob@acme.example",
                actor=factories.actor(alice),
                confirm=True,
                successor="carol@acme.example",
            )
        assert permissions_of(runtime, "carol@acme.example") == ["view"]
