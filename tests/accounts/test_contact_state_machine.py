"""Stateful property test: recovery contacts against a model of issue 18's rules.

Whatever sequence of naming, confirming, changing, removing and waiting is
tried, the contacts on record are exactly those the model says: confirmed by
their latest link, and neither confirmed nor changed within the waiting period
(S22). A link works once (S7) and dies when a newer one replaces it (S9).
"""

from __future__ import annotations

import itertools
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from keyholder.accounts import contacts
from keyholder.accounts.contacts import (
    CONTACT_PREFIX,
    ContactChange,
    Reauthentication,
    contacts_on_record,
)
from keyholder.accounts.models import ContactKind, EnterpriseAccount
from keyholder.accounts.service import ContactInput
from keyholder.errors import AlreadyExists, Gone, NotFound
from tests.factories import PASSWORD

PEOPLE = 3
_LINK = re.compile(rf"/contact-confirmations/({CONTACT_PREFIX}_[A-Za-z0-9_-]+)")


@dataclass
class Modelled:
    """What the model knows of one contact: the events, not the columns."""

    email: str
    confirmed: bool = False
    wait_started: datetime | None = None  # the last confirmation or change
    link: str | None = None  # the newest link it was sent
    link_sent: datetime | None = None
    spent: tuple[str, ...] = ()  # links that worked or were replaced


def test_contact_rules_hold_for_any_sequence(runtime, factories, outbox):
    machines = itertools.count()
    reauth = Reauthentication(PASSWORD, runtime.rate_limiter, runtime.password_hasher)
    min_age = runtime.settings.access_contact_min_age
    ttl = runtime.settings.contact_confirmation_ttl

    class ContactMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            n = next(machines)
            self.name = f"cm-{n}"
            self.domain = f"cm{n}.example"
            factories.account(self.name, domains=[self.domain])
            admin = factories.user(f"admin@{self.domain}", password=PASSWORD)
            factories.member(self._account(), admin, "view,manage")
            self.actor = factories.actor(admin)
            self.model: dict[uuid.UUID, Modelled] = {}

        def _account(self) -> EnterpriseAccount:
            with runtime.uow(read_only=True) as uow:
                account = uow.session.query(EnterpriseAccount).filter_by(name=self.name).one()
                _ = account.contacts  # loaded while the session is open
                return account

        def email(self, who: int) -> str:
            return f"person{who}@{self.domain}"

        def newest_link(self, email: str) -> str:
            mail = [m for m in outbox.of_kind("contact_confirm") if m.recipients == [email]][-1]
            found = _LINK.search(mail.body)
            assert found
            return found.group(1)

        def pick(self, data: st.DataObject) -> tuple[uuid.UUID, Modelled] | None:
            if not self.model:
                return None
            contact_id = data.draw(st.sampled_from(sorted(self.model)))
            return contact_id, self.model[contact_id]

        @rule(who=st.integers(0, PEOPLE - 1))
        def name(self, who: int) -> None:
            email = self.email(who)
            contact = ContactInput(ContactKind.EXECUTIVE, f"Person {who}", "Director", email)
            try:
                added = contacts.add_contact(
                    runtime.uow(), self.name, contact, actor=self.actor, reauth=reauth
                )
            except AlreadyExists:
                assert any(m.email == email for m in self.model.values())
                return
            assert all(m.email != email for m in self.model.values())
            self.model[added.id] = Modelled(
                email, link=self.newest_link(email), link_sent=runtime.clock.now()
            )

        @rule(data=st.data())
        def confirm(self, data: st.DataObject) -> None:
            picked = self.pick(data)
            if picked is None or picked[1].link is None:
                return
            _, modelled = picked
            link = modelled.link
            if modelled.confirmed:
                try:
                    contacts.confirm_contact(runtime.uow(), link)
                except Gone:
                    return
                raise AssertionError("a used link worked again")
            assert modelled.link_sent is not None
            if runtime.clock.now() >= modelled.link_sent + ttl:
                try:
                    contacts.confirm_contact(runtime.uow(), link)
                except Gone:
                    return
                raise AssertionError("an expired link worked")
            contacts.confirm_contact(runtime.uow(), link)
            modelled.confirmed, modelled.wait_started = True, runtime.clock.now()
            modelled.spent += (link,)

        @rule(data=st.data(), who=st.integers(0, PEOPLE - 1))
        def change_email(self, data: st.DataObject, who: int) -> None:
            picked = self.pick(data)
            if picked is None:
                return
            contact_id, modelled = picked
            email = self.email(who)
            try:
                contacts.change_contact(
                    runtime.uow(),
                    self.name,
                    contact_id,
                    ContactChange(email=email),
                    actor=self.actor,
                    reauth=reauth,
                )
            except AlreadyExists:
                assert any(m.email == email for i, m in self.model.items() if i != contact_id)
                return
            if email == modelled.email:
                return  # nothing changed
            if modelled.link is not None:
                modelled.spent += (modelled.link,)
            modelled.email, modelled.confirmed = email, False
            modelled.wait_started, modelled.link = runtime.clock.now(), self.newest_link(email)
            modelled.link_sent = runtime.clock.now()

        @rule(data=st.data())
        def resend(self, data: st.DataObject) -> None:
            picked = self.pick(data)
            if picked is None:
                return
            contact_id, modelled = picked
            try:
                contacts.resend_confirmation(runtime.uow(), self.name, contact_id, actor=self.actor)
            except AlreadyExists:
                assert modelled.confirmed
                return
            assert not modelled.confirmed
            if modelled.link is not None:
                modelled.spent += (modelled.link,)
            modelled.link = self.newest_link(modelled.email)
            modelled.link_sent = runtime.clock.now()

        @rule(data=st.data(), title=st.sampled_from(["CEO", "CFO", "Owner"]))
        def change_title(self, data: st.DataObject, title: str) -> None:
            picked = self.pick(data)
            if picked is None:
                return
            contact_id, modelled = picked
            before = {c.id: c.title for c in self._account().contacts}[contact_id]
            contacts.change_contact(
                runtime.uow(),
                self.name,
                contact_id,
                ContactChange(title=title),
                actor=self.actor,
                reauth=reauth,
            )
            if title != before:
                modelled.wait_started = runtime.clock.now()

        @rule(data=st.data())
        def remove(self, data: st.DataObject) -> None:
            picked = self.pick(data)
            if picked is None:
                return
            contact_id, _ = picked
            contacts.remove_contact(
                runtime.uow(), self.name, contact_id, actor=self.actor, reauth=reauth
            )
            del self.model[contact_id]

        @rule(days=st.integers(0, 9))
        def wait(self, days: int) -> None:
            runtime.clock.advance(timedelta(days=days, seconds=1))

        @invariant()
        def on_record_is_what_the_model_says(self) -> None:
            now = runtime.clock.now()
            expected = sorted(
                m.email
                for m in self.model.values()
                if m.confirmed and m.wait_started is not None and m.wait_started <= now - min_age
            )
            found = contacts_on_record(self._account(), now=now, min_age=min_age)
            assert sorted(c.email for c in found) == expected

        @invariant()
        def replaced_links_are_dead(self) -> None:
            for modelled in self.model.values():
                for link in modelled.spent:
                    if link == modelled.link:
                        continue  # its own used link: 410, checked in confirm
                    try:
                        contacts.confirm_contact(runtime.uow(), link)
                    except NotFound:
                        continue
                    raise AssertionError("a replaced link still works")

    run_state_machine_as_test(
        ContactMachine,
        settings=settings(
            max_examples=50,
            stateful_step_count=15,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
