"""S31: staff addresses, and addresses on (or like) a staff domain, never get ``manage``.

Customer admins (and the operator) are refused when adding or inviting one
with ``manage``, when giving ``manage`` to one by a permission change, and an
invitation with ``manage`` is refused at acceptance when its address is staff's.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from keyholder.accounts import invitations, members
from keyholder.accounts.models import Invitation
from keyholder.errors import PermissionDenied
from tests.factories import OPERATOR

STAFF_DOMAIN = "keyholder.example"


@pytest.fixture
def settings(settings):
    return settings.model_copy(update={"staff_email_domains": (STAFF_DOMAIN,)})


@pytest.fixture
def acme(factories):
    return factories.account("acme-corp", domains=["acme.example"])


@pytest.fixture
def alice(factories, acme):
    return factories.admin_of(acme, "alice@acme.example")


def no_invitations(runtime) -> bool:
    with runtime.uow(read_only=True) as uow:
        return not uow.session.scalars(select(Invitation.id)).all()


class TestStaffAreNeverCustomerAdminsS31:
    @pytest.mark.parametrize(
        "email",
        [
            "agent@keyholder.example",  # the staff domain
            "agent@support.keyholder.example",  # under it
            "agent@keyh0lder.example",  # look-alikes of it
            "agent@keyholder-support.example",
            "agent@xn--keyhlder-5fg.example",
            "agent@keyholder.com",
        ],
    )
    def test_a_customer_admin_cannot_invite_a_staff_domain_address_as_admin(
        self, runtime, factories, alice, email
    ):
        with pytest.raises(PermissionDenied, match="cannot be given manage"):
            members.add_member(
                runtime.uow(), "acme-corp", email, ["manage"], actor=factories.actor(alice)
            )
        assert no_invitations(runtime)

    def test_nor_add_a_staff_user_as_admin_even_on_a_customer_domain(
        self, runtime, factories, alice
    ):
        staff = factories.staff("helper@acme.example")
        with pytest.raises(PermissionDenied, match="cannot be given manage"):
            members.add_member(
                runtime.uow(), "acme-corp", staff.email, ["view", "manage"], actor=OPERATOR
            )

    def test_staff_may_be_plain_members(self, runtime, factories, alice):
        added = members.add_member(
            runtime.uow(), "acme-corp", "agent@keyholder.example", ["view"],
            actor=factories.actor(alice),
        )  # fmt: skip
        assert added.invitation is not None

    def test_a_permission_change_cannot_give_manage_to_staff(self, runtime, factories, alice):
        factories.user("eve@keyholder.example")
        members.add_member(
            runtime.uow(), "acme-corp", "eve@keyholder.example", ["view", "billing"],
            actor=factories.actor(alice),
        )  # fmt: skip
        with pytest.raises(PermissionDenied, match="cannot be given manage"):
            members.set_member_permissions(
                runtime.uow(), "acme-corp", "eve@keyholder.example", ["view", "manage"],
                actor=factories.actor(alice),
            )  # fmt: skip
        members.set_member_permissions(  # other changes still work
            runtime.uow(), "acme-corp", "eve@keyholder.example", ["view"],
            actor=factories.actor(alice),
        )  # fmt: skip

    def test_an_invitation_is_refused_at_acceptance_once_its_address_is_staff(
        self, runtime, factories, alice
    ):
        members.add_member(
            runtime.uow(), "acme-corp", "sam@acme.example", ["manage"],
            actor=factories.actor(alice),
        )  # fmt: skip
        token = factories.last_invitation_token()
        sam = factories.staff("sam@acme.example")  # hired by the platform meanwhile
        with pytest.raises(PermissionDenied, match="cannot be given manage"):
            invitations.accept_invitation(
                runtime.uow(), token, actor=factories.actor(sam), hasher=runtime.password_hasher
            )
        listed = members.list_members(runtime.uow(), "acme-corp", actor=OPERATOR)
        assert [m.user.email for m in listed] == [alice.email]

    def test_through_the_api_it_is_403(self, client, factories, alice):
        response = client.post(
            "/api/enterprise-accounts/acme-corp/members",
            json={"user": {"email": "help@keyh0lder.example"}, "permissions": ["manage"]},
            headers=factories.auth(alice),
        )
        assert response.status_code == 403, response.text
        assert "cannot be given manage on a customer account" in response.json()["detail"]
