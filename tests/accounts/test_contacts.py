"""Recovery contacts registered in advance (issue 18 item 3; S6, S8, S10, S11, S17, S22)."""

from __future__ import annotations

import re
import threading
from datetime import timedelta

import pytest

from keyholder.accounts import contacts
from keyholder.accounts.contacts import (
    CONTACT_PREFIX,
    ContactChange,
    Reauthentication,
    contacts_on_record,
)
from keyholder.accounts.models import AccountContact, ContactKind, EnterpriseAccount
from keyholder.accounts.service import ContactInput, create_account
from keyholder.audit.service import list_events
from keyholder.errors import (
    AlreadyExists,
    Gone,
    InvalidInput,
    NotFound,
    PermissionDenied,
)
from tests.factories import OPERATOR, PASSWORD

EXECUTIVE = "dana@acme.example"
CFO = ContactInput(ContactKind.EXECUTIVE, "Chris Fo", "CFO", "chris@acme.example")


@pytest.fixture
def acme(runtime):
    """acme-corp as staff opened it: its executive on record, confirmed then, aged since."""
    account = create_account(
        runtime.uow(),
        name="acme-corp",
        display_name="Acme Corporation",
        contract_number="ENT-2024-001234",
        domains=["acme.example"],
        contacts=[ContactInput(ContactKind.EXECUTIVE, "Dana Whitfield", "CEO", EXECUTIVE)],
        actor=OPERATOR,
    )
    runtime.clock.advance(timedelta(days=30))
    return account


@pytest.fixture
def alice(factories, acme):
    user = factories.user("alice@acme.example", password=PASSWORD)
    factories.member(acme, user, "view,manage")
    return user


@pytest.fixture
def reauth(runtime):
    return Reauthentication(PASSWORD, runtime.rate_limiter, runtime.password_hasher)


def add(runtime, factories, alice, reauth, contact=CFO):
    return contacts.add_contact(
        runtime.uow(), "acme-corp", contact, actor=factories.actor(alice), reauth=reauth
    )


def stored(runtime) -> dict[str, AccountContact]:
    with runtime.uow(read_only=True) as uow:
        account = uow.session.query(EnterpriseAccount).filter_by(name="acme-corp").one()
        return {c.email: c for c in account.contacts}


def on_record(runtime) -> list[str]:
    with runtime.uow(read_only=True) as uow:
        account = uow.session.query(EnterpriseAccount).filter_by(name="acme-corp").one()
        found = contacts_on_record(
            account, now=uow.clock.now(), min_age=uow.settings.access_contact_min_age
        )
        return [c.email for c in found]


def confirmation_token(outbox, email: str) -> str:
    body = outbox.of_kind("contact_confirm")[-1].body
    assert outbox.of_kind("contact_confirm")[-1].recipients == [email]
    match = re.search(rf"/contact-confirmations/({CONTACT_PREFIX}_[A-Za-z0-9_-]+)", body)
    assert match, body
    return match.group(1)


class TestAdding:
    def test_a_new_contact_is_pending_and_is_sent_a_one_time_link(
        self, runtime, factories, alice, reauth, outbox
    ):
        added = add(runtime, factories, alice, reauth)
        assert added.confirmed_at is None
        [mail] = outbox.of_kind("contact_confirm")
        assert mail.recipients == ["chris@acme.example"]
        assert mail.holds_secret  # the body is blanked once sent (S6)
        assert "Chris Fo" in mail.body
        # Only the hash is stored (S6).
        token = confirmation_token(outbox, "chris@acme.example")
        assert stored(runtime)["chris@acme.example"].confirm_token_hash not in (None, token)
        assert "chris@acme.example" not in on_record(runtime)

    def test_the_other_contacts_and_the_admins_are_told(
        self, runtime, factories, alice, reauth, outbox
    ):
        add(runtime, factories, alice, reauth)
        [notice] = outbox.of_kind("contact_changed")
        assert notice.recipients == [alice.email, EXECUTIVE]
        assert "alice@acme.example named Chris Fo (CFO, chris@acme.example)" in notice.body

    def test_it_is_audited(self, runtime, factories, alice, reauth):
        added = add(runtime, factories, alice, reauth)
        [event] = list_events(
            runtime.uow(read_only=True), target=f"account:acme-corp/contact:{added.id}"
        )
        assert (event.action, event.actor) == ("contact.add", alice.email)
        assert event.data["after"]["email"] == "chris@acme.example"

    @pytest.mark.parametrize(
        ("email", "why"),
        [
            ("chris@elsewhere.example", "not a verified domain"),
            ("chris@acme-example.com", "acme.example"),  # a look-alike (S23a)
            ("chris@acrne.example", "acme.example"),
        ],
    )
    def test_the_email_must_be_on_a_verified_domain(
        self, runtime, factories, alice, reauth, outbox, email, why
    ):
        contact = ContactInput(ContactKind.EXECUTIVE, "Chris Fo", "CFO", email)
        with pytest.raises(InvalidInput) as refused:
            add(runtime, factories, alice, reauth, contact)
        assert refused.value.field == "email"
        assert why in refused.value.detail or "look" in refused.value.detail
        assert set(stored(runtime)) == {EXECUTIVE}
        assert outbox.rows() == []

    def test_the_same_person_twice_in_one_role_is_refused(self, runtime, factories, alice, reauth):
        add(runtime, factories, alice, reauth)
        with pytest.raises(AlreadyExists):
            add(runtime, factories, alice, reauth)

    def test_a_wrong_password_changes_nothing_s17(self, runtime, factories, alice, outbox):
        wrong = Reauthentication("not my password", runtime.rate_limiter, runtime.password_hasher)
        with pytest.raises(PermissionDenied, match="password"):
            add(runtime, factories, alice, wrong)
        assert set(stored(runtime)) == {EXECUTIVE}
        assert outbox.rows() == []

    def test_a_member_without_manage_cannot(self, runtime, factories, acme, reauth):
        bob = factories.user("bob@acme.example", password=PASSWORD)
        factories.member(acme, bob, "view,billing")
        with pytest.raises(PermissionDenied):
            add(runtime, factories, bob, reauth)


class TestConfirmationLink:
    def test_a_confirmed_contact_counts_after_the_waiting_period_s22(
        self, runtime, factories, alice, reauth, outbox
    ):
        add(runtime, factories, alice, reauth)
        runtime.clock.advance(timedelta(days=3))  # the wait starts at confirmation
        contacts.confirm_contact(runtime.uow(), confirmation_token(outbox, "chris@acme.example"))
        min_age = runtime.settings.access_contact_min_age
        runtime.clock.advance(min_age - timedelta(seconds=1))
        assert on_record(runtime) == [EXECUTIVE]
        runtime.clock.advance(timedelta(seconds=1))
        assert on_record(runtime) == [EXECUTIVE, "chris@acme.example"]

    def test_the_link_works_once_s7(self, runtime, factories, alice, reauth, outbox):
        add(runtime, factories, alice, reauth)
        token = confirmation_token(outbox, "chris@acme.example")
        contacts.confirm_contact(runtime.uow(), token)
        with pytest.raises(Gone, match="already used"):
            contacts.confirm_contact(runtime.uow(), token)

    def test_the_link_expires_s8(self, runtime, factories, alice, reauth, outbox):
        add(runtime, factories, alice, reauth)
        token = confirmation_token(outbox, "chris@acme.example")
        runtime.clock.advance(runtime.settings.contact_confirmation_ttl + timedelta(seconds=1))
        with pytest.raises(Gone, match="expired"):
            contacts.confirm_contact(runtime.uow(), token)
        assert stored(runtime)["chris@acme.example"].confirmed_at is None

    def test_the_link_works_until_just_before_it_expires_s8(
        self, runtime, factories, alice, reauth, outbox
    ):
        add(runtime, factories, alice, reauth)
        token = confirmation_token(outbox, "chris@acme.example")
        runtime.clock.advance(runtime.settings.contact_confirmation_ttl - timedelta(seconds=1))
        assert contacts.confirm_contact(runtime.uow(), token).confirmed_at is not None

    @pytest.mark.parametrize("token", ["khc_nonsense", "kha_" + "A" * 43, ""])
    def test_an_unknown_or_foreign_token_is_404_s11(self, runtime, token):
        with pytest.raises(NotFound):
            contacts.confirm_contact(runtime.uow(), token)

    def test_a_resent_link_replaces_the_old_one_s9(self, runtime, factories, alice, reauth, outbox):
        added = add(runtime, factories, alice, reauth)
        old = confirmation_token(outbox, "chris@acme.example")
        contacts.resend_confirmation(
            runtime.uow(), "acme-corp", added.id, actor=factories.actor(alice)
        )
        new = confirmation_token(outbox, "chris@acme.example")
        assert new != old
        with pytest.raises(NotFound):
            contacts.confirm_contact(runtime.uow(), old)
        contacts.confirm_contact(runtime.uow(), new)

    def test_confirming_is_audited(self, runtime, factories, alice, reauth, outbox):
        added = add(runtime, factories, alice, reauth)
        contacts.confirm_contact(runtime.uow(), confirmation_token(outbox, "chris@acme.example"))
        events = list_events(
            runtime.uow(read_only=True), target=f"account:acme-corp/contact:{added.id}"
        )
        assert [e.action for e in events] == ["contact.confirm", "contact.add"]

    def test_two_clicks_at_once_confirm_once_s10(
        self, runtime, factories, alice, reauth, outbox, db_backend
    ):
        add(runtime, factories, alice, reauth)
        token = confirmation_token(outbox, "chris@acme.example")
        barrier = threading.Barrier(2)
        outcomes: list[str] = []

        def click() -> None:
            barrier.wait()
            try:
                contacts.confirm_contact(runtime.uow(), token)
                outcomes.append("confirmed")
            except Gone:
                outcomes.append("gone")

        threads = [threading.Thread(target=click) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(outcomes) == ["confirmed", "gone"]
        confirms = list_events(runtime.uow(read_only=True), action="contact.confirm")
        assert len(confirms) == 1


class TestChangingAndRemoving:
    def confirmed_cfo(self, runtime, factories, alice, reauth, outbox):
        added = add(runtime, factories, alice, reauth)
        contacts.confirm_contact(runtime.uow(), confirmation_token(outbox, "chris@acme.example"))
        runtime.clock.advance(runtime.settings.access_contact_min_age)
        assert "chris@acme.example" in on_record(runtime)
        return added

    def test_a_new_email_confirms_again_and_waits_again(
        self, runtime, factories, alice, reauth, outbox
    ):
        added = self.confirmed_cfo(runtime, factories, alice, reauth, outbox)
        old_link = confirmation_token(outbox, "chris@acme.example")
        contacts.change_contact(
            runtime.uow(),
            "acme-corp",
            added.id,
            ContactChange(email="c.fo@acme.example"),
            actor=factories.actor(alice),
            reauth=reauth,
        )
        assert stored(runtime)["c.fo@acme.example"].confirmed_at is None
        assert on_record(runtime) == [EXECUTIVE]
        with pytest.raises(NotFound):
            contacts.confirm_contact(runtime.uow(), old_link)
        contacts.confirm_contact(runtime.uow(), confirmation_token(outbox, "c.fo@acme.example"))
        assert on_record(runtime) == [EXECUTIVE]  # waiting again
        runtime.clock.advance(runtime.settings.access_contact_min_age)
        assert on_record(runtime) == [EXECUTIVE, "c.fo@acme.example"]

    def test_a_new_email_is_told_to_the_old_address_the_others_and_the_admins(
        self, runtime, factories, alice, reauth, outbox
    ):
        added = self.confirmed_cfo(runtime, factories, alice, reauth, outbox)
        contacts.change_contact(
            runtime.uow(),
            "acme-corp",
            added.id,
            ContactChange(email="c.fo@acme.example"),
            actor=factories.actor(alice),
            reauth=reauth,
        )
        notice = outbox.of_kind("contact_changed")[-1]
        assert notice.recipients == [alice.email, "chris@acme.example", EXECUTIVE]

    def test_any_change_restarts_the_waiting_period(
        self, runtime, factories, alice, reauth, outbox
    ):
        added = self.confirmed_cfo(runtime, factories, alice, reauth, outbox)
        contacts.change_contact(
            runtime.uow(),
            "acme-corp",
            added.id,
            ContactChange(name="Christine Fo", title="Chief Financial Officer"),
            actor=factories.actor(alice),
            reauth=reauth,
        )
        assert stored(runtime)["chris@acme.example"].confirmed_at is not None
        assert on_record(runtime) == [EXECUTIVE]
        runtime.clock.advance(runtime.settings.access_contact_min_age)
        assert on_record(runtime) == [EXECUTIVE, "chris@acme.example"]

    def test_a_change_is_audited_with_before_and_after(self, runtime, factories, alice, reauth):
        added = add(runtime, factories, alice, reauth)
        contacts.change_contact(
            runtime.uow(),
            "acme-corp",
            added.id,
            ContactChange(kind=ContactKind.SECURITY, title="Recovery officer"),
            actor=factories.actor(alice),
            reauth=reauth,
        )
        [event] = list_events(runtime.uow(read_only=True), action="contact.update")
        assert event.data["before"]["kind"] == "executive"
        assert event.data["after"]["kind"] == "security"
        assert event.data["after"]["title"] == "Recovery officer"

    def test_removing_tells_the_removed_and_the_others(
        self, runtime, factories, alice, reauth, outbox
    ):
        added = self.confirmed_cfo(runtime, factories, alice, reauth, outbox)
        contacts.remove_contact(
            runtime.uow(), "acme-corp", added.id, actor=factories.actor(alice), reauth=reauth
        )
        assert set(stored(runtime)) == {EXECUTIVE}
        notice = outbox.of_kind("contact_changed")[-1]
        assert notice.recipients == [alice.email, "chris@acme.example", EXECUTIVE]
        assert "removed Chris Fo" in notice.body
        [event] = list_events(runtime.uow(read_only=True), action="contact.remove")
        assert event.data["before"]["email"] == "chris@acme.example"

    def test_another_accounts_contact_is_404(self, runtime, factories, alice, reauth):
        other = factories.account("globex", domains=["globex.example"])
        admin = factories.user("hank@globex.example", password=PASSWORD)
        factories.member(other, admin, "view,manage")
        theirs = contacts.add_contact(
            runtime.uow(),
            "globex",
            ContactInput(ContactKind.EXECUTIVE, "Hank", "CEO", "hank@globex.example"),
            actor=factories.actor(admin),
            reauth=reauth,
        )
        with pytest.raises(NotFound):
            contacts.remove_contact(
                runtime.uow(), "acme-corp", theirs.id, actor=factories.actor(alice), reauth=reauth
            )
