"""S23b: no cooling-off and no grant without a proof that does not come from the requester.

The proofs: the executive on record confirming by the link emailed to the
address on record, or the request's token in DNS on a verified domain (a real
DNS server on loopback). Reviewers' notes never stand in for them.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from keyholder.access import dns_check
from keyholder.access.decisions import Decision
from keyholder.access.dns_proof import record_value
from keyholder.access.execution import execute_due
from keyholder.access.lifecycle import lock_request, move
from keyholder.access.models import Approval
from keyholder.access.proofs import independent_proofs
from keyholder.access.states import RequestState
from keyholder.errors import NoIndependentProof
from keyholder.identity.actor import Actor
from tests.access.flow import Story, granted

CHALLENGE = "_keyholder-challenge.acme.example"


@pytest.fixture
def settings(settings, dns_server):
    return settings.model_copy(
        update={"dns_nameservers": (dns_server.address,), "dns_port": dns_server.port}
    )


@pytest.fixture
def story(runtime, factories):
    return Story.begin(runtime, factories)


def reviewed(story: Story) -> object:
    """Submitted, confirmed by the requester, approved once: one approval from the gate."""
    request_id = story.submit()
    story.confirm(request_id)
    story.decide(request_id, Decision.APPROVE, story.reviewers[0], note="letter checked")
    return request_id


def check_dns(story: Story, request_id) -> str:
    actor = story.factories.actor(story.reviewers[0])
    return dns_check.check_request(
        story.runtime.uow(), request_id, actor=actor, resolver=story.runtime.txt_resolver
    ).value


def approvals(story: Story, request_id) -> int:
    with story.runtime.uow(read_only=True) as uow:
        return uow.session.scalar(
            select(func.count()).select_from(Approval).where(Approval.request_id == request_id)
        )


def wait_and_run_the_worker(story: Story) -> None:
    story.runtime.clock.advance(story.runtime.settings.cooling_off)
    execute_due(story.runtime.uow)


class TestTheGateS23b:
    def test_two_approvals_with_notes_grant_nothing_while_the_executive_never_answers(self, story):
        request_id = reviewed(story)
        with pytest.raises(NoIndependentProof, match="S23b") as refused:
            story.decide(request_id, Decision.APPROVE, story.reviewers[1], note="I vouch for it")
        detail = refused.value.detail
        assert "executive on record opens the confirmation link" in detail
        assert record_value(story.request(request_id).dns_token) in detail
        assert "was not recorded" in detail
        assert [(p["check"], p["status"]) for p in refused.value.missing] == [
            ("executive_confirmation", "unknown"),
            ("dns_proof", "unknown"),
        ]
        assert story.request(request_id).state is RequestState.APPROVED_ONCE
        assert approvals(story, request_id) == 1
        wait_and_run_the_worker(story)
        assert story.request(request_id).state is RequestState.APPROVED_ONCE
        assert not granted(story)

    def test_the_executive_confirming_lets_the_second_approval_start_the_cooling_off(self, story):
        request_id = reviewed(story)
        with pytest.raises(NoIndependentProof):
            story.decide(request_id, Decision.APPROVE, story.reviewers[1])
        story.executive_answers(request_id, confirm=True)
        assert independent_proofs(story.request(request_id)).held
        second = story.decide(request_id, Decision.APPROVE, story.reviewers[1])
        assert second.state is RequestState.COOLING_OFF
        assert story.execute_after_cooling_off(request_id) == "executed"
        assert granted(story)

    def test_a_passing_dns_proof_is_enough(self, story, dns_server):
        request_id = reviewed(story)
        dns_server.txt[CHALLENGE] = [record_value(story.request(request_id).dns_token)]
        assert check_dns(story, request_id) == "pass"
        second = story.decide(request_id, Decision.APPROVE, story.reviewers[1])
        assert second.state is RequestState.COOLING_OFF
        assert story.execute_after_cooling_off(request_id) == "executed"

    @pytest.mark.parametrize("published", [None, "keyholder-verification=someone-elses-token"])
    def test_a_missing_or_wrong_dns_record_is_no_proof(self, story, dns_server, published):
        request_id = reviewed(story)
        if published:
            dns_server.txt[CHALLENGE] = [published]
        assert check_dns(story, request_id) in {"unknown", "fail"}
        with pytest.raises(NoIndependentProof, match="dns_proof"):
            story.decide(request_id, Decision.APPROVE, story.reviewers[1], note="DNS is slow")

    def test_the_worker_checks_again_before_granting(self, story, dns_server):
        """Defence in depth: a proof gone during the cooling-off stops the grant."""
        request_id = reviewed(story)
        dns_server.txt[CHALLENGE] = [record_value(story.request(request_id).dns_token)]
        check_dns(story, request_id)
        story.decide(request_id, Decision.APPROVE, story.reviewers[1])
        dns_server.txt[CHALLENGE] = ["keyholder-verification=replaced"]
        assert check_dns(story, request_id) == "fail"
        wait_and_run_the_worker(story)
        request = story.request(request_id)
        assert request.state is RequestState.REJECTED
        assert "S23b" in request.outcome
        assert not granted(story)

    def test_no_path_moves_a_request_into_the_cooling_off_without_a_proof(self, story):
        """The guard sits on the state change itself, below every use case."""
        request_id = reviewed(story)
        with story.runtime.uow() as uow, pytest.raises(NoIndependentProof):
            move(uow, lock_request(uow, request_id), RequestState.COOLING_OFF, actor=Actor("x"))
        assert story.request(request_id).state is RequestState.APPROVED_ONCE


class TestShownToReviewersS23b:
    def test_the_api_lists_the_proofs_and_refuses_with_what_is_missing(
        self, client, story, factories
    ):
        request_id = reviewed(story)
        url = f"/api/access-requests/{request_id}"
        headers = factories.auth(story.reviewers[1])
        proofs = client.get(url, headers=headers).json()["proofs"]
        assert proofs["held"] is False
        assert [(p["check"], p["status"]) for p in proofs["items"]] == [
            ("executive_confirmation", "unknown"),
            ("dns_proof", "unknown"),
        ]
        assert all(p["how_to_provide"] for p in proofs["items"])
        refused = client.post(f"{url}/decisions", json={"decision": "approve"}, headers=headers)
        assert refused.status_code == 409
        problem = refused.json()
        assert problem["title"] == "No independent proof"
        assert [p["check"] for p in problem["missing_proofs"]] == [
            "executive_confirmation",
            "dns_proof",
        ]
        story.executive_answers(request_id, confirm=True)
        proofs = client.get(url, headers=headers).json()["proofs"]
        assert proofs["held"] is True
        assert proofs["items"][0]["status"] == "pass"
