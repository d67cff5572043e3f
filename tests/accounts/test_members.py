"""Member use cases: audit trail, invitations and the last-admin guard."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import text

from keyholder.accounts import invitations, members
from keyholder.audit.service import list_events
from keyholder.errors import Conflict, Gone, LastAdminError, NotFound, PermissionDenied
from tests.factories import OPERATOR, PASSWORD


@pytest.fixture
def acme(factories):
    return factories.account("acme-corp")


def events(runtime, **filters):
    return list(reversed(list_events(runtime.uow(read_only=True), **filters)))


class TestAuditTrail:
    def test_every_member_change_is_audited_with_before_and_after(self, runtime, factories, acme):
        alice = factories.admin_of(acme, "alice@acme.example")
        factories.user("bob@acme.example")
        actor = factories.actor(alice)
        members.add_member(runtime.uow(), "acme-corp", "bob@acme.example", ["view"], actor=actor)
        members.set_member_permissions(
            runtime.uow(), "acme-corp", "bob@acme.example", ["billing"], actor=actor
        )
        members.remove_member(runtime.uow(), "acme-corp", "bob@acme.example", actor=actor)
        trail = events(runtime, target="account:acme-corp/member:bob@acme.example")
        assert [(e.action, e.actor) for e in trail] == [
            ("member.add", "alice@acme.example"),
            ("member.update", "alice@acme.example"),
            ("member.remove", "alice@acme.example"),
        ]
        assert trail[1].data == {
            "before": {"permissions": ["view"]},
            "after": {"permissions": ["view", "billing"]},
        }
        assert trail[2].data["before"] == {"permissions": ["view", "billing"]}

    def test_a_refused_change_leaves_no_audit_event(self, runtime, factories, acme):
        alice = factories.admin_of(acme, "alice@acme.example")
        before = len(events(runtime))
        with pytest.raises(LastAdminError):
            members.remove_member(
                runtime.uow(), "acme-corp", alice.email, actor=factories.actor(alice)
            )
        assert len(events(runtime)) == before

    def test_client_address_and_request_id_are_recorded(self, client, runtime, factories, acme):
        alice = factories.admin_of(acme, "alice@acme.example")
        factories.user("bob@acme.example")
        client.post(
            "/api/enterprise-accounts/acme-corp/members",
            json={"user": {"email": "bob@acme.example"}},
            headers={**factories.auth(alice), "X-Request-ID": "req-123"},
        )
        [event] = events(
            runtime, action="member.add", target="account:acme-corp/member:bob@acme.example"
        )
        assert event.client_address == "testclient"
        assert event.request_id == "req-123"


class TestInvitations:
    def invite(self, runtime, factories, acme, email="new@acme.example"):
        admin = factories.admin_of(acme)
        added = members.add_member(
            runtime.uow(), "acme-corp", email, ["manage"], actor=factories.actor(admin)
        )
        assert added.invitation is not None
        return admin, added.invitation

    def test_accepting_is_the_same_grant_as_adding_a_member(self, runtime, factories, acme):
        """Audited as invitation.accept, then member.add by the invitee; added by the inviter."""
        admin, _ = self.invite(runtime, factories, acme)
        membership = invitations.accept_invitation(
            runtime.uow(),
            factories.last_invitation_token(),
            actor=None,
            password=PASSWORD,
            hasher=runtime.password_hasher,
        )
        assert membership.added_by_id == admin.id
        assert membership.account.name == "acme-corp"  # loaded: the page names the account
        [accepted] = events(runtime, action="invitation.accept")
        [added] = events(
            runtime, action="member.add", target="account:acme-corp/member:new@acme.example"
        )
        assert added.seq == accepted.seq + 1
        assert added.actor == accepted.actor
        assert added.data == {
            "before": None,
            "after": {"permissions": ["view", "manage"], "via": "invitation"},
        }

    def test_invitation_expires_after_seven_days(self, runtime, factories, acme, clock):
        self.invite(runtime, factories, acme)
        token = factories.last_invitation_token()
        clock.advance(timedelta(days=7))
        with pytest.raises(Gone, match="expired"):
            invitations.accept_invitation(
                runtime.uow(), token, actor=None, password=PASSWORD, hasher=runtime.password_hasher
            )

    def test_invitation_still_works_a_second_before_expiry(self, runtime, factories, acme, clock):
        self.invite(runtime, factories, acme)
        token = factories.last_invitation_token()
        clock.advance(timedelta(days=7) - timedelta(seconds=1))
        membership = invitations.accept_invitation(
            runtime.uow(), token, actor=None, password=PASSWORD, hasher=runtime.password_hasher
        )
        assert membership.user.email == "new@acme.example"

    def test_revoked_invitation_cannot_be_accepted(self, runtime, factories, acme):
        admin, invitation = self.invite(runtime, factories, acme)
        token = factories.last_invitation_token()
        invitations.revoke_invitation(
            runtime.uow(), "acme-corp", invitation.id, actor=factories.actor(admin)
        )
        with pytest.raises(Gone, match="revoked"):
            invitations.accept_invitation(
                runtime.uow(), token, actor=None, password=PASSWORD, hasher=runtime.password_hasher
            )
        assert [e.action for e in events(runtime, action="invitation.revoke")] == [
            "invitation.revoke"
        ]

    def test_reinviting_replaces_the_old_link(self, runtime, factories, acme):
        admin, _ = self.invite(runtime, factories, acme)
        old = factories.last_invitation_token()
        members.add_member(
            runtime.uow(), "acme-corp", "new@acme.example", ["view"], actor=factories.actor(admin)
        )
        new = factories.last_invitation_token()
        with pytest.raises(Gone):
            invitations.accept_invitation(
                runtime.uow(), old, actor=None, password=PASSWORD, hasher=runtime.password_hasher
            )
        membership = invitations.accept_invitation(
            runtime.uow(), new, actor=None, password=PASSWORD, hasher=runtime.password_hasher
        )
        assert membership.permissions == {"view"}

    def test_only_the_hash_of_the_token_is_stored(self, runtime, factories, acme):
        self.invite(runtime, factories, acme)
        token = factories.last_invitation_token()
        with runtime.engine.connect() as connection:
            stored = connection.execute(text("SELECT token_hash FROM invitations")).scalars().all()
        assert token not in stored
        assert all(len(h) == 64 for h in stored)

    def test_members_without_manage_cannot_see_or_revoke_invitations(
        self, runtime, factories, acme
    ):
        _, invitation = self.invite(runtime, factories, acme)
        viewer = factories.user()
        factories.member(acme, viewer, "view,billing")
        with pytest.raises(PermissionDenied):
            invitations.list_invitations(runtime.uow(), "acme-corp", actor=factories.actor(viewer))
        with pytest.raises(PermissionDenied):
            invitations.revoke_invitation(
                runtime.uow(), "acme-corp", invitation.id, actor=factories.actor(viewer)
            )

    def test_revoking_another_accounts_invitation_is_404(self, runtime, factories, acme):
        _, invitation = self.invite(runtime, factories, acme)
        other = factories.account("other")
        other_admin = factories.admin_of(other)
        with pytest.raises(NotFound):
            invitations.revoke_invitation(
                runtime.uow(), "other", invitation.id, actor=factories.actor(other_admin)
            )


class TestLastAdminUnderConcurrency:
    def test_two_admins_removing_each_other_at_once_leave_one(self, runtime, factories, acme):
        """Two processes racing: exactly one removal wins, the account keeps an admin."""
        alice = factories.admin_of(acme, "alice@acme.example")
        bob = factories.admin_of(acme, "bob@acme.example")
        barrier = threading.Barrier(2)
        outcomes: list[str] = []

        def remove(actor_user, target):
            barrier.wait()
            try:
                members.remove_member(
                    runtime.uow(),
                    "acme-corp",
                    target.email,
                    actor=factories.actor(actor_user),
                    confirm=True,  # each was told that one admin would be left
                )
                outcomes.append("removed")
            except (LastAdminError, NotFound, Conflict) as exc:
                outcomes.append(type(exc).__name__)

        threads = [
            threading.Thread(target=remove, args=(alice, bob)),
            threading.Thread(target=remove, args=(bob, alice)),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert outcomes.count("removed") == 1
        remaining = members.list_members(runtime.uow(), "acme-corp", actor=OPERATOR)
        assert len(remaining) == 1
        assert members.list_members(runtime.uow(), "acme-corp", actor=OPERATOR)[0].permissions >= {
            "manage"
        }
