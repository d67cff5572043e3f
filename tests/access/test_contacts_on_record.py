"""Only contacts that count for recovery are "on record" for a request (issue 18, S22, S25).

A contact counts once it confirmed its address by link and the waiting period
has passed since it confirmed or last changed. An admin who took over an
account could otherwise name their own "executive" today and have them
confirm, receive the grant, or be compared with a forged letter tomorrow.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from keyholder.access.decisions import Decision
from keyholder.access.evidence import executives_on_record
from keyholder.access.prescreen_job import prescreen_due
from keyholder.accounts.models import AccountContact, ContactKind, EnterpriseAccount
from keyholder.errors import InvalidInput
from tests.access.flow import EXECUTIVE, Story

PENDING = "pending.exec@acme.example"
FRESH = "fresh.exec@acme.example"


@pytest.fixture
def story(runtime, factories):
    return Story.begin(runtime, factories)


def put_contact(story: Story, email: str, kind: ContactKind, *, confirmed_ago: timedelta | None):
    """A contact as an admin's change leaves it: unconfirmed, or confirmed ``confirmed_ago``."""
    with story.runtime.uow() as uow:
        now = uow.clock.now()
        uow.session.add(
            AccountContact(
                id=uuid.uuid4(),
                account_id=story.account.id,
                kind=kind,
                name=email.split("@", maxsplit=1)[0],
                title="Executive",
                email=email,
                added_at=now - timedelta(days=60),
                changed_at=now - (confirmed_ago or timedelta(0)),
                confirmed_at=None if confirmed_ago is None else now - confirmed_ago,
            )
        )
        uow.commit()


@pytest.fixture
def newcomers(story):
    """An executive not confirmed yet, and one confirmed a day ago (within the wait)."""
    put_contact(story, PENDING, ContactKind.EXECUTIVE, confirmed_ago=None)
    put_contact(story, FRESH, ContactKind.EXECUTIVE, confirmed_ago=timedelta(days=1))


def evidence_of(story, request_id):
    return {i["check"]: i for i in story.request(request_id).evidence}


class TestExecutivesOnRecord:
    def test_only_confirmed_and_aged_executives(self, story, newcomers):
        put_contact(
            story, "old.exec@acme.example", ContactKind.EXECUTIVE, confirmed_ago=timedelta(days=8)
        )
        with story.runtime.uow(read_only=True) as uow:
            account = uow.session.get(EnterpriseAccount, story.account.id)
            found = executives_on_record(
                account, now=uow.clock.now(), min_age=uow.settings.access_contact_min_age
            )
            assert sorted(c.email for c in found) == [EXECUTIVE, "old.exec@acme.example"]


class TestIntake:
    @pytest.mark.parametrize("named", [PENDING, FRESH])
    def test_a_new_executive_gets_no_link_and_is_not_the_executive_on_record(
        self, story, newcomers, named
    ):
        request_id = story.submit(executive_email=named)
        story.confirm(request_id)
        assert [e.recipients for e in story.emails("access_executive")] == [[EXECUTIVE]]
        item = evidence_of(story, request_id)["executive_on_record"]
        assert item["status"] == "fail"
        assert (
            "has not confirmed by link or is still within its waiting period" in item["explanation"]
        )

    def test_with_only_new_executives_nobody_gets_a_link(self, story, newcomers):
        with story.runtime.uow() as uow:
            account = uow.session.get(EnterpriseAccount, story.account.id)
            account.contacts[:] = [c for c in account.contacts if c.email != EXECUTIVE]
            uow.commit()
        request_id = story.submit(executive_email=PENDING)
        story.confirm(request_id)
        assert story.emails("access_executive") == []
        assert evidence_of(story, request_id)["executive_confirmation"]["status"] == "fail"


class TestVetoAndGrant:
    def test_new_contacts_are_not_told_and_cannot_veto_s25(self, story, newcomers):
        put_contact(story, "new.security@acme.example", ContactKind.SECURITY, confirmed_ago=None)
        story.ready()
        notified = sorted(r for e in story.emails("access_veto_notice") for r in e.recipients)
        assert notified == sorted([EXECUTIVE, "security@acme.example", "billing@acme.example"])

    def test_the_grant_is_told_to_the_executive_on_record_only(self, story, newcomers):
        request_id = story.submit(executive_email=PENDING)
        story.confirm(request_id)
        story.executive_answers(request_id, confirm=True)  # Dana, on record, confirms
        with pytest.raises(InvalidInput, match="executive_on_record"):
            story.decide(request_id, Decision.APPROVE, story.reviewers[0])
        for reviewer in story.reviewers:
            story.decide(request_id, Decision.APPROVE, reviewer, note="Dana confirmed by link")
        assert story.execute_after_cooling_off(request_id) == "executed"
        [granted] = [
            e for e in story.emails("access_outcome_notice") if "granted" in e.subject.lower()
        ]
        assert PENDING not in granted.recipients
        assert EXECUTIVE in granted.recipients


class TestLetterRecords:
    def test_the_letter_is_compared_with_executives_on_record_only(self, story, newcomers):
        seen = []

        class RecordingScreener:
            def screen(self, letter, *, typed, records, today, filename):
                seen.append(records)
                raise InvalidInput("unreadable in this test")

        story.confirm(story.submit(executive_email=FRESH))
        prescreen_due(story.runtime.uow, screener=RecordingScreener())
        [records] = seen
        assert [c.email for c in records.executive_contacts] == [EXECUTIVE]
