"""Claims by recovery code (access.recovery_claims, issue 18 item 4).

The scenario (tests/test_scenario_account_recovery_code.py) walks the whole
story over the API; these check each rule on the service.
"""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from keyholder.access import lifecycle, recovery_claims
from keyholder.access.execution import execute_request
from keyholder.access.models import AccessRequest
from keyholder.access.proofs import independent_proofs
from keyholder.access.recovery_claims import OFF_DOMAIN, WRONG_CODE, redeem_recovery_code
from keyholder.access.states import RequestState, RequestVia
from keyholder.accounts.models import AccountDomain, EnterpriseAccount, Membership
from keyholder.accounts.recovery_codes import generate_recovery_codes, recovery_code_status
from keyholder.audit.models import AuditEvent
from keyholder.desk.models import Ticket, TicketStatus
from keyholder.errors import (
    Conflict,
    InvalidInput,
    KeyholderError,
    NotAuthenticated,
    PermissionDenied,
    TooManyRequests,
)
from keyholder.identity.actor import Actor
from keyholder.identity.models import StaffRole, User
from tests.access.flow import Story

CLAIMANT = "bob@acme.example"


@pytest.fixture
def settings(settings):
    return settings.model_copy(
        update={
            "recovery_claim_limit_per_user": "3 per 1 hour",
            "recovery_claim_limit_per_account": "5 per 1 day",
        }
    )


@pytest.fixture
def acme(runtime, factories):
    """acme-corp with contacts on record and one admin who generated codes, then left."""
    story = Story.begin(runtime, factories)
    admin = factories.admin_of(story.account, "alice@acme.example")
    sign_in_now(runtime, admin)
    codes = generate_recovery_codes(runtime.uow(), "acme-corp", actor=factories.actor(admin))
    runtime.clock.advance(runtime.settings.access_admin_active_window + timedelta(days=1))
    return story, admin, codes


def sign_in_now(runtime, user: User) -> None:
    with runtime.uow() as uow:
        uow.session.execute(
            update(User).where(User.id == user.id).values(last_login_at=uow.clock.now())
        )
        uow.commit()


def redeem(runtime, user: User, code: str, account: str = "acme-corp"):
    return redeem_recovery_code(
        runtime.uow(), account, code, actor=Actor.for_user(user), limiter=runtime.rate_limiter
    )


def codes_left(runtime) -> int:
    with runtime.uow(read_only=True) as uow:
        account = uow.session.scalars(select(EnterpriseAccount)).one()
        status = recovery_code_status(uow, account)
    assert status is not None
    return status[0]


def requests(runtime) -> list[AccessRequest]:
    with runtime.uow(read_only=True) as uow:
        return list(uow.session.scalars(select(AccessRequest)))


def actions(runtime, action: str) -> list[AuditEvent]:
    with runtime.uow(read_only=True) as uow:
        return list(uow.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


class TestAcceptedClaim:
    def test_starts_the_cooling_off_at_once_with_its_code_as_proof(
        self, runtime, factories, acme, outbox, clock
    ):
        _, admin, codes = acme
        claimant = factories.user(CLAIMANT)

        claim = redeem(runtime, claimant, codes[0])

        (request,) = requests(runtime)
        assert request.via is RequestVia.RECOVERY_CODE
        assert request.state is RequestState.COOLING_OFF
        assert request.email_to_add == request.requester_email == CLAIMANT
        assert request.cooling_off_until == clock.now() + timedelta(hours=24)
        assert claim.cooling_off_until == request.cooling_off_until
        assert independent_proofs(request).held
        assert codes_left(runtime) == 9
        # Veto links to every admin and contact on record (S25), the claimant told.
        notices = outbox.of_kind("access_claim_veto_notice")
        assert sorted(r for n in notices for r in n.recipients) == sorted(
            [admin.email, "billing@acme.example", "dana.whitfield@acme.example",
             "security@acme.example"]
        )  # fmt: skip
        (told,) = outbox.of_kind("access_claim_cooling_off")
        assert told.recipients == [CLAIMANT]
        # Audited: the claim and its move; the ticket waits on no one at the desk.
        (event,) = actions(runtime, "access_request.recovery_claim")
        assert event.actor == CLAIMANT
        moves = [e.data["after"]["state"] for e in actions(runtime, "access_request.state")]
        assert moves == ["cooling_off"]
        with runtime.uow(read_only=True) as uow:
            assert uow.session.get(Ticket, claim.ticket).status is TicketStatus.ON_HOLD

    def test_executes_as_a_request_does_and_routes_to_an_admin_back_in_time_s21(
        self, runtime, factories, acme, outbox
    ):
        _, admin, codes = acme
        claim = redeem(runtime, factories.user(CLAIMANT), codes[0])
        sign_in_now(runtime, admin)  # she came back during the cooling-off
        runtime.clock.advance(runtime.settings.recovery_claim_cooling_off)

        assert execute_request(runtime.uow(), claim.request_id) is RequestState.ROUTED
        with runtime.uow(read_only=True) as uow:
            members = uow.session.scalars(select(Membership)).all()
        assert [m.user.email for m in members] == [admin.email]

    def test_no_grant_before_the_cooling_off_ends_s25(self, runtime, factories, acme):
        _, _, codes = acme
        claim = redeem(runtime, factories.user(CLAIMANT), codes[0])
        runtime.clock.advance(runtime.settings.recovery_claim_cooling_off - timedelta(seconds=1))

        with pytest.raises(Conflict, match="cooling-off"):
            execute_request(runtime.uow(), claim.request_id)

    def test_a_domain_unverified_meanwhile_stops_the_grant(self, runtime, factories, acme):
        _, _, codes = acme
        claim = redeem(runtime, factories.user(CLAIMANT), codes[0])
        with runtime.uow() as uow:
            uow.session.execute(update(AccountDomain).values(verified_at=None))
            uow.commit()
        runtime.clock.advance(runtime.settings.recovery_claim_cooling_off)

        assert execute_request(runtime.uow(), claim.request_id) is RequestState.REJECTED


class TestRefusals:
    def test_an_admin_who_can_act_is_asked_instead_and_the_code_kept_s21(
        self, runtime, factories, acme, outbox
    ):
        _, admin, codes = acme
        sign_in_now(runtime, admin)
        before = len(outbox.rows())

        with pytest.raises(Conflict, match="ask them"):
            redeem(runtime, factories.user(CLAIMANT), codes[0])
        assert codes_left(runtime) == 10
        assert requests(runtime) == []
        assert len(outbox.rows()) == before

    def test_an_unverified_address_is_refused(self, runtime, factories, acme):
        _, _, codes = acme
        claimant = factories.user(CLAIMANT)
        with runtime.uow() as uow:
            uow.session.execute(
                update(User).where(User.id == claimant.id).values(email_verified_at=None)
            )
            uow.commit()

        with pytest.raises(PermissionDenied, match="verify your email"):
            redeem(runtime, claimant, codes[0])
        assert codes_left(runtime) == 10

    @pytest.mark.parametrize(
        "email",
        ["bob@elsewhere.example", "bob@acme-example.com", "bob@mail.acme.example",
         "bob@acrne.example"],
    )  # fmt: skip
    def test_an_address_off_the_verified_domains_is_refused(self, runtime, factories, acme, email):
        _, _, codes = acme

        with pytest.raises(PermissionDenied) as refused:
            redeem(runtime, factories.user(email), codes[0])
        assert refused.value.detail == OFF_DOMAIN
        assert codes_left(runtime) == 10

    def test_an_unverified_domain_of_the_account_does_not_count(self, runtime, factories, acme):
        _, _, codes = acme
        with runtime.uow() as uow:
            uow.session.execute(update(AccountDomain).values(verified_at=None))
            uow.commit()

        with pytest.raises(PermissionDenied, match="verified domains"):
            redeem(runtime, factories.user(CLAIMANT), codes[0])

    def test_an_unknown_account_reads_as_an_off_domain_one(self, runtime, factories, acme):
        _, _, codes = acme

        with pytest.raises(PermissionDenied) as refused:
            redeem(runtime, factories.user(CLAIMANT), codes[0], account="no-such-account")
        assert refused.value.detail == OFF_DOMAIN  # the form lists no accounts

    def test_the_account_name_is_taken_in_any_case(self, runtime, factories, acme):
        _, _, codes = acme

        assert redeem(runtime, factories.user(CLAIMANT), codes[0], account=" ACME-Corp ")

    def test_not_signed_in_is_401(self, runtime, acme):
        _, _, codes = acme
        with pytest.raises(NotAuthenticated):
            redeem_recovery_code(
                runtime.uow(),
                "acme-corp",
                codes[0],
                actor=Actor(label="anonymous"),
                limiter=runtime.rate_limiter,
            )

    def test_staff_never_claim_s31(self, runtime, factories, acme):
        _, _, codes = acme
        helper = factories.user("helper@acme.example", staff_role=StaffRole.AGENT)

        with pytest.raises(PermissionDenied, match="S31"):
            redeem(runtime, helper, codes[0])
        assert codes_left(runtime) == 10

    def test_wrong_and_used_codes_read_alike_and_are_audited(self, runtime, factories, acme):
        _, _, codes = acme
        claimant = factories.user(CLAIMANT)
        claim = redeem(runtime, claimant, codes[0])
        with runtime.uow() as uow:  # closed by staff: nothing open, no freeze
            request = lifecycle.lock_request(uow, claim.request_id)
            lifecycle.finish(
                uow, request, RequestState.REJECTED, actor=Actor(label="t"), outcome="closed"
            )
            uow.commit()

        with pytest.raises(InvalidInput) as used:
            redeem(runtime, claimant, codes[0])
        with pytest.raises(InvalidInput) as wrong:
            redeem(runtime, claimant, codes[0][:-1] + ("0" if codes[0][-1] != "0" else "1"))
        assert used.value.detail == wrong.value.detail == WRONG_CODE
        refused = actions(runtime, "account.recovery_code_refused")
        assert [e.target for e in refused] == ["account:acme-corp"] * 2
        assert len(requests(runtime)) == 1

    def test_throttled_per_claimant_then_per_account_even_with_a_good_code(
        self, runtime, factories, acme
    ):
        _, _, codes = acme
        first = factories.user(CLAIMANT)
        for _ in range(3):
            with pytest.raises(InvalidInput):
                redeem(runtime, first, "1234-5678")
        with pytest.raises(TooManyRequests) as throttled:
            redeem(runtime, first, codes[0])
        assert throttled.value.retry_after >= 1

        second = factories.user("carol@acme.example")
        for _ in range(2):  # five a day for the account, from anyone
            with pytest.raises(InvalidInput):
                redeem(runtime, second, "1234-5678")
        with pytest.raises(TooManyRequests):
            redeem(runtime, second, codes[0])
        assert codes_left(runtime) == 10


def test_s10_the_same_code_twice_at_once_wins_once(runtime, factories, acme, monkeypatch):
    """Two claimants race with one code; only the conditional UPDATE stands between them."""
    _, _, codes = acme
    # As if both had passed the checks before either claim existed.
    monkeypatch.setattr(recovery_claims, "_refuse_if_someone_can_act", lambda *_, **__: None)
    racers = [factories.user(CLAIMANT), factories.user("carol@acme.example")]
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def claim(user: User) -> None:
        barrier.wait()
        try:
            redeem(runtime, user, codes[0])
            outcomes.append("claimed")
        except KeyholderError as exc:
            outcomes.append(type(exc).__name__)

    threads = [threading.Thread(target=claim, args=(user,)) for user in racers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes) == ["InvalidInput", "claimed"], outcomes
    assert len(requests(runtime)) == 1
    assert codes_left(runtime) == 9


def test_a_letter_request_never_counts_a_recovery_code_as_its_proof_s23b(runtime, factories):
    story = Story.begin(runtime, factories)
    request_id = story.submit()
    with runtime.uow() as uow:
        request = uow.session.get(AccessRequest, request_id)
        request.evidence = [
            {"check": "recovery_code", "status": "pass", "source": "x", "explanation": "forged"}
        ]
        assert not independent_proofs(request).held
        with pytest.raises(Conflict):  # and no letter request skips its review (S20)
            lifecycle.move(uow, request, RequestState.COOLING_OFF, actor=Actor(label="t"))
