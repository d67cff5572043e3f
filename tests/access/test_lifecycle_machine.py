"""S20 as a Hypothesis state machine over the real services and database.

Random decisions by three reviewers (one of them the requester's colleague
who also asks), executive answers, vetoes, clock jumps, worker runs, repeated
link clicks and duplicate worker deliveries, and the customer publishing (or
taking down) the DNS proof. After every step: only legal states, at most one
grant per request, and never a grant without two distinct staff approvals, an
elapsed cooling-off, no veto, no executive denial and a proof that does not
come from the requester (S23b: the executive on record confirmed, or the DNS
proof passed); nor a cooling-off without that proof. Claims by recovery code
(issue 18) join the game: a member redeems one of the account's codes, its
notices' veto links are clicked too, and a claim's grant needs no approvals
but its spent code, the elapsed cooling-off and no veto.
"""

from __future__ import annotations

import contextlib
from datetime import timedelta

import pytest
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from sqlalchemy import func, select

from keyholder.access import decisions, dns_check
from keyholder.access.decisions import Decision
from keyholder.access.dns_proof import record_value
from keyholder.access.execution import execute_due, execute_request
from keyholder.access.models import AccessRequest, Approval
from keyholder.access.proofs import independent_proofs
from keyholder.access.recovery_claims import redeem_recovery_code
from keyholder.access.states import FINAL_STATES, RequestState, RequestVia
from keyholder.accounts.models import AccountRecoveryCode
from keyholder.accounts.recovery_codes import generate_recovery_codes
from keyholder.audit.models import AuditEvent
from keyholder.desk.customer import record_customer_reply
from keyholder.desk.models import MessageChannel, Ticket
from keyholder.desk.thread import Requester
from keyholder.errors import KeyholderError
from keyholder.identity.actor import Actor
from keyholder.identity.models import StaffRole
from tests.access.flow import REQUESTER, Story, link_token
from tests.conftest import _empty_all_tables
from tests.factories import Factories

CHALLENGE = "_keyholder-challenge.acme.example"


@pytest.fixture
def settings(settings, dns_server):
    return settings.model_copy(
        update={
            "dns_nameservers": (dns_server.address,),
            "dns_port": dns_server.port,
            "recovery_claim_limit_per_user": "1000 per 1 hour",
            "recovery_claim_limit_per_account": "1000 per 1 day",
        }
    )


def test_request_lifecycle_keeps_its_invariants_s20_s23b(runtime, engine, dns_server):
    class RequestLifecycle(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            _empty_all_tables(engine)
            runtime.rate_limiter.clear()
            factories = Factories(runtime)
            self.story = Story.begin(runtime, factories)
            third = factories.user("sam@keyholder-staff.example", staff_role=StaffRole.REVIEWER)
            self.reviewers = (*self.story.reviewers, third)
            self.request_id = self.story.submit()
            self.seen_final: dict[str, RequestState] = {}
            self.seen_cooling_off: set[str] = set()
            dns_server.txt.clear()
            self.used_links: list[tuple[str, str]] = []
            # An admin who generated the account's codes long ago, and a member who may claim.
            admin = factories.admin_of(self.story.account, "gone.admin@acme.example")
            self.codes = generate_recovery_codes(
                runtime.uow(), "acme-corp", actor=factories.actor(admin)
            )
            self.claimant = factories.actor(factories.user("claimant@acme.example"))

        def _try(self, action) -> None:
            # Refusals (409, 403, 410, 422) are part of the game; anything else is a bug.
            with contextlib.suppress(KeyholderError):
                action()

        @rule()
        def requester_confirms(self):
            self._try(lambda: self.story.confirm(self.request_id))

        @rule(
            reviewer=st.integers(0, 2), decision=st.sampled_from(list(Decision)), note=st.booleans()
        )
        def reviewer_decides(self, reviewer, decision, note):
            self._try(
                lambda: self.story.decide(
                    self.request_id, decision, self.reviewers[reviewer], note="why" if note else ""
                )
            )

        @rule(first=st.integers(0, 2), second=st.integers(0, 2))
        def two_reviewers_approve(self, first, second):
            # The common path, as one step, so short runs reach the cooling-off too.
            for reviewer in (first, second):
                self._try(
                    lambda reviewer=reviewer: self.story.decide(
                        self.request_id, Decision.APPROVE, self.reviewers[reviewer]
                    )
                )

        @rule(confirm=st.booleans())
        def executive_answers(self, confirm):
            if self.story.emails("access_executive"):
                self._try(lambda: self.story.executive_answers(self.request_id, confirm=confirm))

        @rule(which=st.integers(0, 3))
        def someone_vetoes(self, which):
            notices = [
                *self.story.emails("access_veto_notice"),
                *self.story.emails("access_claim_veto_notice"),
            ]
            if notices:
                found, token = link_token(notices[which % len(notices)].body, "veto")
                self._try(lambda: decisions.veto(runtime.uow(), found, token))

        @rule(which=st.integers(0, 2))
        def a_member_redeems_a_code(self, which):
            self._try(
                lambda: redeem_recovery_code(
                    runtime.uow(),
                    "acme-corp",
                    self.codes[which],
                    actor=self.claimant,
                    limiter=runtime.rate_limiter,
                )
            )

        @rule()
        def requester_replies(self):
            def reply() -> None:
                with runtime.uow() as uow:
                    request = uow.session.get(AccessRequest, self.request_id)
                    ticket = uow.session.get(Ticket, request.ticket_id)
                    record_customer_reply(
                        uow,
                        ticket,
                        body="more information",
                        channel=MessageChannel.EMAIL,
                        actor=Actor(label=REQUESTER),
                        author=Requester(email=REQUESTER),
                    )
                    uow.commit()

            self._try(reply)

        @rule(published=st.sampled_from(["the token", "another value", "nothing"]))
        def customer_publishes_dns(self, published):
            token = self.story.request(self.request_id).dns_token
            dns_server.txt[CHALLENGE] = {
                "the token": [record_value(token)],
                "another value": ["keyholder-verification=not-this-one"],
                "nothing": [],
            }[published]

        @rule()
        def staff_check_dns(self):
            actor = self.story.factories.actor(self.reviewers[0])
            self._try(
                lambda: dns_check.check_request(
                    runtime.uow(), self.request_id, actor=actor, resolver=runtime.txt_resolver
                )
            )

        @rule(hours=st.sampled_from([0, 1, 24, 71, 72, 73, 200]))
        def time_passes(self, hours):
            runtime.clock.advance(timedelta(hours=hours))

        @rule(times=st.integers(1, 2))
        def worker_runs(self, times):
            for _ in range(times):  # a duplicate delivery of the same job
                execute_due(runtime.uow)

        @rule()
        def someone_forces_execution(self):
            self._try(lambda: execute_request(runtime.uow(), self.request_id))

        @precondition(lambda self: self.story.request(self.request_id).state in FINAL_STATES)
        @rule()
        def a_new_request_is_made(self):
            self.request_id = self.story.submit()

        @invariant()
        def grants_follow_the_rules(self):
            with runtime.uow(read_only=True) as uow:
                for request in uow.session.scalars(select(AccessRequest)):
                    executions = uow.session.scalar(
                        select(func.count())
                        .select_from(AuditEvent)
                        .where(
                            AuditEvent.action == "access_request.execute",
                            AuditEvent.target == f"access_request:{request.id}",
                        )
                    )
                    assert executions <= 1
                    assert (executions == 1) == (request.state is RequestState.EXECUTED)
                    if request.state is RequestState.EXECUTED and (
                        request.via is RequestVia.RECOVERY_CODE
                    ):
                        assert request.executed_at >= request.cooling_off_until
                        assert independent_proofs(request).held, "a claim without its code"
                    elif request.state is RequestState.EXECUTED:
                        approvers = uow.session.scalar(
                            select(func.count(func.distinct(Approval.reviewer_id))).where(
                                Approval.request_id == request.id
                            )
                        )
                        assert approvers >= 2
                        assert request.executed_at >= request.cooling_off_until
                        assert request.executive_denied_at is None
                        assert independent_proofs(request).held, "a grant without a proof"
                    key = str(request.id)
                    if (
                        request.state is RequestState.COOLING_OFF
                        and key not in self.seen_cooling_off
                    ):
                        # Just moved there (the DNS proof may be re-checked later on).
                        assert independent_proofs(request).held, "cooling-off without a proof"
                        self.seen_cooling_off.add(key)
                    if key in self.seen_final:
                        assert request.state is self.seen_final[key], "a final state changed"
                    elif request.state in FINAL_STATES:
                        self.seen_final[key] = request.state

        @invariant()
        def each_claim_spent_its_own_code_once(self):
            with runtime.uow(read_only=True) as uow:
                claims = uow.session.scalar(
                    select(func.count())
                    .select_from(AccessRequest)
                    .where(AccessRequest.via == RequestVia.RECOVERY_CODE)
                )
                spent = uow.session.scalar(
                    select(func.count())
                    .select_from(AccountRecoveryCode)
                    .where(AccountRecoveryCode.used_at.is_not(None))
                )
            assert claims == spent <= len(self.codes)

        @invariant()
        def at_most_one_open_request_per_account(self):
            with runtime.uow(read_only=True) as uow:
                open_ones = uow.session.scalar(
                    select(func.count())
                    .select_from(AccessRequest)
                    .where(
                        AccessRequest.account_id.is_not(None),
                        AccessRequest.state.not_in(sorted(FINAL_STATES)),
                    )
                )
            assert open_ones <= 1

    RequestLifecycle.TestCase.settings = hypothesis_settings(
        max_examples=20,
        stateful_step_count=20,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    RequestLifecycle.TestCase().runTest()
