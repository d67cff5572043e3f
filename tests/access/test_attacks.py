"""Issue 5's attack tests: each ends with no grant, and the right evidence item failing.

Every attack is pushed as far as an attacker (or a hurried reviewer) could
take it: confirmed, approved twice where the service allows, the cooling-off
waited out and the worker run. The letter attacks (no signature, typed fields
that disagree with the letter) are in test_prescreen_job.py.
"""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from keyholder.access import decisions
from keyholder.access.decisions import Decision
from keyholder.access.execution import execute_due, execute_request
from keyholder.access.states import RequestState
from keyholder.accounts.models import Invitation
from keyholder.audit.models import AuditEvent
from keyholder.errors import KeyholderError
from keyholder.identity.models import StaffRole
from tests.access.flow import Story, granted, link_token


@pytest.fixture
def story(runtime, factories):
    return Story.begin(runtime, factories)


def push_through(story: Story, request_id, note: str = "") -> list[str]:
    """Approve twice (without a note unless given), wait out the cooling-off, run the worker."""
    refusals = []
    for reviewer in story.reviewers:
        try:
            story.decide(request_id, Decision.APPROVE, reviewer, note=note)
        except KeyholderError as exc:
            refusals.append(exc.detail)
    story.runtime.clock.advance(story.runtime.settings.cooling_off)
    execute_due(story.runtime.uow)
    return refusals


def evidence(story: Story, request_id) -> dict[str, str]:
    return {i["check"]: i["status"] for i in story.request(request_id).evidence}


@pytest.mark.parametrize(
    ("changes", "failing"),
    [
        ({"contract_number": "ENT-2024-999999"}, "contract_number"),
        ({"executive_email": "dana.whitfield@gmail.example"}, "executive_domain"),
        ({"executive_email": "dana.whitfield@acrne.example"}, "executive_domain"),
        ({"executive_email": "dana.whitfield@xn--cme-5cd.example"}, "executive_domain"),
        ({"account_name": "acme-corp-holdings"}, "account"),
    ],
    ids=[
        "wrong-contract",
        "unverified-domain",
        "lookalike-domain",
        "punycode-domain",
        "no-account",
    ],
)
def test_a_false_statement_fails_its_check_and_grants_nothing(story, changes, failing):
    request_id = story.submit(**changes)
    story.confirm(request_id)
    assert evidence(story, request_id)[failing] == "fail"
    refusals = push_through(story, request_id)
    assert refusals, "approving over a failing check must need a stated reason"
    assert not granted(story)


def test_two_approvals_with_notes_grant_nothing_without_an_independent_proof_s23b(story):
    """The executive on record never answers and no DNS proof: notes cannot make up for it."""
    request_id = story.submit()
    story.confirm(request_id)
    refusals = push_through(story, request_id, note="spoke to them on the phone")
    assert len(refusals) == 1
    assert "S23b" in refusals[0]
    assert "executive on record" in refusals[0]
    assert "_keyholder-challenge" in refusals[0]
    assert story.request(request_id).state is RequestState.APPROVED_ONCE
    assert not granted(story)


@pytest.mark.parametrize(
    "email_to_add",
    [
        "kel@acme-corp.example",  # hyphenated name
        "kel@acmecorp.example",  # extended name
        "kel@acme.co",  # another suffix
        "kel@acme.example.attacker.example",  # subdomain trick
        "kel@acrne.example",  # rn for m
        "kel@xn--cme-5cd.example",  # Cyrillic a, as punycode
        "kel@\u0430cme.example",  # the same, as typed
    ],
)
def test_a_lookalike_address_to_add_fails_and_is_never_approved_s23a(story, email_to_add):
    """Even with the executive's confirmation and a note from both reviewers."""
    request_id = story.submit(email_to_add=email_to_add)
    story.confirm(request_id)
    item = next(i for i in story.request(request_id).evidence if i["check"] == "email_to_add")
    assert (item["status"], item["lookalike_of"]) == ("fail", "acme.example"), item
    story.executive_answers(request_id, confirm=True)
    refusals = push_through(story, request_id, note="the customer says it is theirs")
    assert len(refusals) == 2
    assert all("S23a" in refusal for refusal in refusals)
    assert story.request(request_id).state is RequestState.IN_REVIEW
    assert not granted(story, story.request(request_id).email_to_add)


@pytest.mark.parametrize(
    "executive_email", ["dana.whitfield@acrne.example", "dana.whitfield@xn--cme-5cd.example"]
)
def test_a_lookalike_executive_address_is_never_approved_even_with_a_note_s23a(
    story, executive_email
):
    request_id = story.submit(executive_email=executive_email)
    story.confirm(request_id)
    story.executive_answers(request_id, confirm=True)  # the one on record, not the typed one
    refusals = push_through(story, request_id, note="typo by the customer")
    assert len(refusals) == 2
    assert all("look-alike" in refusal for refusal in refusals)
    assert not granted(story)


def test_the_executive_denies(story):
    request_id = story.submit()
    story.confirm(request_id)
    story.executive_answers(request_id, confirm=False)
    refusals = push_through(story, request_id)
    assert evidence(story, request_id)["executive_confirmation"] == "fail"
    assert refusals == ["the executive on record denied this request; it can only be closed"] * 2
    assert not granted(story)


def test_an_existing_admin_vetoes(story, factories):
    factories.admin_of(story.account, "old.admin@acme.example")  # not seen lately
    request_id = story.ready()
    notice = story.emails("access_veto_notice", to="old.admin@acme.example")[0]
    _, token = link_token(notice.body, "veto")
    decisions.veto(story.runtime.uow(), request_id, token)
    story.runtime.clock.advance(story.runtime.settings.cooling_off)
    assert execute_due(story.runtime.uow) == 0
    assert story.request(request_id).state is RequestState.CANCELLED
    assert not granted(story)


def test_the_same_reviewer_approves_twice(story):
    request_id = story.submit()
    story.confirm(request_id)
    first = story.reviewers[0]
    story.decide(request_id, Decision.APPROVE, first)
    with pytest.raises(KeyholderError, match="different reviewer"):
        story.decide(request_id, Decision.APPROVE, first)
    story.runtime.clock.advance(story.runtime.settings.cooling_off)
    execute_due(story.runtime.uow)
    assert story.request(request_id).state is RequestState.APPROVED_ONCE
    assert not granted(story)


def test_the_requester_approves_their_own_request(story, factories):
    insider = factories.user("it-lead@acme.example", staff_role=StaffRole.REVIEWER)
    request_id = story.submit()
    story.confirm(request_id)
    story.decide(request_id, Decision.APPROVE, story.reviewers[0])
    with pytest.raises(KeyholderError, match="S24"):
        story.decide(request_id, Decision.APPROVE, insider)
    assert not granted(story)


def test_execution_before_the_cooling_off_ends(story):
    request_id = story.ready()
    with pytest.raises(KeyholderError, match="S25"):
        execute_request(story.runtime.uow(), request_id)
    assert execute_due(story.runtime.uow) == 0
    assert not granted(story)


def test_a_second_request_while_one_is_open(story):
    first = story.submit()
    story.confirm(first)
    second = story.submit(requester_email="someone.else@acme.example")
    story.confirm(second, requester="someone.else@acme.example")
    # It waits for a reviewer like any other (S31a), and can never be approved (S28).
    assert story.request(second).state is RequestState.IN_REVIEW
    (account,) = [i for i in story.request(second).evidence if i["check"] == "account"]
    assert "still open" in account["explanation"]
    assert (
        push_through(story, second)
        == ["this request matches no account it could be granted on; see the checks"] * 2
    )
    assert not granted(story)


def test_two_workers_at_once_grant_once(story):
    """Several worker processes run the same job: one grant, one audit event (S20)."""
    request_id = story.ready()
    story.runtime.clock.advance(story.runtime.settings.cooling_off)
    barrier = threading.Barrier(3)
    outcomes: list[str] = []

    def worker() -> None:
        barrier.wait()
        try:
            outcomes.append(execute_request(story.runtime.uow(), request_id).value)
        except KeyholderError as exc:
            outcomes.append(type(exc).__name__)

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["Conflict", "Conflict", "executed"]
    with story.runtime.uow(read_only=True) as uow:
        invitations = uow.session.scalars(select(Invitation)).all()
        executions = uow.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "access_request.execute")
        ).all()
    assert len(invitations) == 1
    assert len(executions) == 1
