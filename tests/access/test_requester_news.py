"""What the requester hears: the approval with its date and who was told, a request
overtaken by a grant closed at confirmation, and never a requirement code.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import update

from keyholder.access import intake
from keyholder.access.cooling_off_notice import who_was_told
from keyholder.access.decisions import Decision, open_decisions
from keyholder.access.states import RequestState
from keyholder.identity.models import User
from keyholder.when import long_utc
from tests.access.flow import NEW_ADMIN, REQUESTER, Story, granted, link_token

# Not inside a link token (base64url: letters, digits, "-" and "_"), where "-S460" can occur.
REQUIREMENT_CODE = re.compile(r"(?<![\w-])S\d+[a-z]?(?![\w-])")


@pytest.fixture
def story(runtime, factories) -> Story:
    return Story.begin(runtime, factories)


def signed_in_now(runtime, email: str) -> None:
    with runtime.uow() as uow:
        uow.session.execute(
            update(User).where(User.email == email).values(last_login_at=uow.clock.now())
        )
        uow.commit()


def confirm(story: Story, request_id, *, requester: str) -> intake.Confirmed:
    (email,) = [
        e
        for e in story.emails("access_confirm_requester", to=requester)
        if str(request_id) in e.body
    ]
    _, token = link_token(email.body, "confirm-email")
    return intake.confirm_requester(story.runtime.uow(), request_id, token)


class TestCoolingOffNews:
    def test_the_second_approval_emails_the_requester_when_and_who(self, story, outbox):
        request_id = story.ready()
        request = story.request(request_id)
        assert request.cooling_off_until is not None

        (email,) = outbox.of_kind("access_cooling_off")
        assert email.recipients == [REQUESTER]
        assert long_utc(request.cooling_off_until) in email.body
        assert f"{request.cooling_off_until:%Y-%m-%dT%H:%M:%S}Z" in email.body
        assert (
            "Who was told: the billing contact on record, the executive on record and the "
            "security contact on record." in email.body
        )
        assert email.headers is not None
        assert email.headers["In-Reply-To"]  # threaded on the ticket

    def test_one_approval_sends_nothing_to_the_requester(self, story, outbox):
        request_id = story.submit()
        story.confirm(request_id)
        story.executive_answers(request_id, confirm=True)
        story.decide(request_id, Decision.APPROVE, story.reviewers[0])
        assert outbox.of_kind("access_cooling_off") == []

    def test_who_was_told_counts_admins_and_names_roles(self):
        admin = "an admin of the account"
        assert who_was_told([]) == "nobody: the account has no admin or contact on record"
        assert who_was_told(["the executive on record"]) == "the executive on record"
        assert (
            who_was_told(["the executive on record", admin, admin])
            == "2 admins of the account and the executive on record"
        )


class TestOpenDecisions:
    @pytest.mark.parametrize(
        ("state", "offered"),
        [
            (RequestState.IN_REVIEW, {"approve", "request_info", "reject"}),
            (RequestState.APPROVED_ONCE, {"approve", "request_info", "reject"}),
            (RequestState.COOLING_OFF, {"reject"}),
            (RequestState.NEEDS_INFO, {"reject"}),
            (RequestState.EXECUTED, set()),
        ],
    )
    def test_only_what_decide_accepts(self, state, offered):
        assert {d.value for d in open_decisions(state)} == offered


class TestOvertakenByAGrant:
    def test_a_later_granted_request_of_the_same_requester_closes_the_old_one(self, story, outbox):
        old = story.submit(email_to_add="someone.else@acme.example")
        new = story.ready()
        assert story.execute_after_cooling_off(new) == "executed"
        signed_in_now(story.runtime, NEW_ADMIN)  # not that it matters: nobody is asked

        confirmed = confirm(story, old, requester=REQUESTER)

        assert confirmed.state is RequestState.REJECTED
        assert confirmed.closed_because is not None
        assert "A later request of yours for Acme Corporation was granted" in (
            confirmed.closed_because
        )
        assert story.request(old).outcome.startswith("closed at confirmation")
        assert outbox.of_kind("access_routed_admins") == []
        assert not granted(story, "someone.else@acme.example")

    def test_s31a_anyone_else_takes_the_usual_path(self, story, factories, outbox):
        """Told to a stranger, "already an admin" would say who is admin of the account."""
        admin = factories.admin_of(story.account, "alice@acme.example")
        signed_in_now(story.runtime, admin.email)
        old = story.submit(email_to_add=admin.email)

        confirmed = confirm(story, old, requester=REQUESTER)

        assert confirmed.closed_because is None
        assert confirmed.state is RequestState.IN_REVIEW
        assert outbox.of_kind("access_routed_admins")  # the admin is asked (S21)

    def test_an_unknown_account_is_never_called_overtaken(self, story):
        old = story.submit(account_name="no-such-account")
        assert confirm(story, old, requester=REQUESTER).closed_because is None


class TestNoRequirementCodes:
    def test_the_emails_of_a_whole_request_carry_none(self, story, outbox):
        request_id = story.ready()
        story.execute_after_cooling_off(request_id)
        second = story.submit()  # and one closed by a reviewer
        story.confirm(second)
        story.decide(second, Decision.REJECT, story.reviewers[0], note="One request at a time.")

        rows = outbox.rows()
        kinds = {r.kind for r in rows}
        assert {"access_confirm_requester", "access_cooling_off", "access_outcome_notice"} <= kinds
        for row in rows:
            for part in (row.subject, row.body, row.body_html or ""):
                assert not REQUIREMENT_CODE.findall(part), (row.kind, part)
