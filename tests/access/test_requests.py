"""Admin-access requests through the service layer: the rules of SECURITY.md section D."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from keyholder.access import decisions, intake
from keyholder.access.decisions import Decision
from keyholder.access.execution import execute_due, execute_request
from keyholder.access.links import issue_link
from keyholder.access.models import Approval, LinkPurpose
from keyholder.access.states import RequestState
from keyholder.accounts import members
from keyholder.accounts.models import Invitation, Membership
from keyholder.audit.actions import AuditAction
from keyholder.audit.models import AuditEvent
from keyholder.audit.service import list_events
from keyholder.audit.targets import request_target
from keyholder.desk.attachments import NewAttachment
from keyholder.desk.customer import record_customer_reply
from keyholder.desk.models import MessageChannel, Ticket
from keyholder.desk.thread import Requester
from keyholder.errors import Conflict, InvalidInput, PermissionDenied, UnsupportedMediaType
from keyholder.identity import service
from keyholder.identity.actor import Actor
from keyholder.identity.models import StaffRole, User
from tests.access.flow import EXECUTIVE, FORM, NEW_ADMIN, REQUESTER, Story, link_token
from tests.factories import OPERATOR


@pytest.fixture
def story(runtime, factories):
    return Story.begin(runtime, factories)


def evidence_of(request):
    return {item["check"]: item["status"] for item in request.evidence}


def refused_decisions(story, request_id):
    with story.runtime.uow(read_only=True) as uow:
        events = uow.session.scalars(
            select(AuditEvent)
            .where(
                AuditEvent.action == AuditAction.ACCESS_REQUEST_DECISION_REFUSED,
                AuditEvent.target == request_target(request_id),
            )
            .order_by(AuditEvent.seq)
        ).all()
    return [(event.actor, event.data["after"]) for event in events]


def no_grant(story):
    with story.runtime.uow(read_only=True) as uow:
        user_ids = uow.session.scalars(select(User.id).where(User.email == NEW_ADMIN)).all()
        memberships = uow.session.scalars(
            select(Membership).where(Membership.user_id.in_(user_ids))
        ).all()
        invitations = uow.session.scalars(
            select(Invitation).where(Invitation.email == NEW_ADMIN)
        ).all()
    return not memberships and not invitations


class TestIntake:
    def test_nothing_happens_before_the_requester_confirms(self, story):
        request_id = story.submit()
        assert story.request(request_id).state is RequestState.SUBMITTED
        # Only the requester hears of it: no executive, admin or contact is bothered yet.
        assert {tuple(e.recipients) for e in story.emails()} == {(REQUESTER,)}

    def test_unknown_account_name_looks_the_same_until_confirmed(self, story):
        known = story.submit()
        unknown = story.submit(account_name="no-such-corp")
        first, second = story.emails("access_confirm_requester")
        assert first.subject.replace(str(story.request(known).ticket_id), "N").replace(
            "acme-corp", "X"
        ) == second.subject.replace(str(story.request(unknown).ticket_id), "N").replace(
            "no-such-corp", "X"
        )
        story.confirm(unknown)
        request = story.request(unknown)
        assert request.state is RequestState.IN_REVIEW
        assert evidence_of(request) == {"account": "fail"}

    def test_letter_must_be_a_pdf_png_or_jpeg(self, story, runtime):

        with pytest.raises(UnsupportedMediaType):
            intake.submit_access_request(
                runtime.uow(),
                FORM,
                NewAttachment("letter.txt", b"I authorise it."),
                client_address=None,
                limiter=runtime.rate_limiter,
            )
        with pytest.raises(UnsupportedMediaType):
            intake.submit_access_request(
                runtime.uow(),
                FORM,
                NewAttachment("letter.pdf", b"<html><script>alert(1)</script>"),
                client_address=None,
                limiter=runtime.rate_limiter,
            )
        assert story.emails() == []

    def test_confirmation_link_works_once(self, story):
        request_id = story.submit()
        story.confirm(request_id)
        with pytest.raises(Exception, match="already used"):
            story.confirm(request_id)


class TestRouting:
    def test_an_admin_who_can_act_gets_the_request_instead_s21(self, story, factories, runtime):
        admin = factories.admin_of(story.account, "alice@acme.example")
        with runtime.uow() as uow:
            uow.session.get(User, admin.id).last_login_at = uow.clock.now()
            uow.commit()
        request_id = story.submit()
        story.confirm(request_id)
        # Reviewers see why; the requester sees "in review" as for any request (S31a).
        request = story.request(request_id)
        assert request.state is RequestState.IN_REVIEW
        assert evidence_of(request)["existing_admins"] == "fail"
        (asked,) = story.emails("access_routed_admins")
        assert asked.recipients == ["alice@acme.example"]
        with pytest.raises(Conflict, match="no account it could be granted on"):
            story.decide(request_id, Decision.APPROVE, story.reviewers[0], note="looks fine")
        assert no_grant(story)

    def test_dormant_admins_are_asked_and_shown_to_reviewers(self, story, factories):
        factories.admin_of(story.account, "gone@acme.example")  # never signed in
        request_id = story.submit()
        story.confirm(request_id)
        request = story.request(request_id)
        assert request.state is RequestState.IN_REVIEW
        assert evidence_of(request)["existing_admins"] == "unknown"
        assert [e.recipients for e in story.emails("access_dormant_admin")] == [
            ["gone@acme.example"]
        ]


class TestEvidence:
    def test_honest_request_passes_the_record_checks(self, story):
        request_id = story.submit()
        story.confirm(request_id)
        checks = evidence_of(story.request(request_id))
        assert checks["account"] == "pass"
        assert checks["contract_number"] == "pass"
        assert checks["executive_on_record"] == "pass"
        assert checks["executive_domain"] == "pass"
        assert checks["executive_confirmation"] == "unknown"

    def test_wrong_contract_number_fails(self, story):
        request_id = story.submit(contract_number="ENT-2024-999999")
        story.confirm(request_id)
        assert evidence_of(story.request(request_id))["contract_number"] == "fail"

    def test_executive_on_a_lookalike_domain_fails_and_gets_no_link_s22_s23(self, story):
        request_id = story.submit(executive_email="dana.whitfield@acme-example.com")
        story.confirm(request_id)
        checks = evidence_of(story.request(request_id))
        assert checks["executive_domain"] == "fail"
        assert checks["executive_on_record"] == "fail"
        # The link goes to the executive on record, never to the address typed (S22).
        assert [e.recipients for e in story.emails("access_executive")] == [[EXECUTIVE]]

    def test_approving_over_failing_checks_needs_a_reason(self, story):
        request_id = story.submit(contract_number="ENT-2024-999999")
        story.confirm(request_id)
        with pytest.raises(InvalidInput, match="contract_number"):
            story.decide(request_id, Decision.APPROVE, story.reviewers[0])


class TestDecisions:
    def test_two_different_reviewers_then_cooling_off_with_veto_notices_s24_s25(self, story):
        request_id = story.submit()
        story.confirm(request_id)
        story.executive_answers(request_id, confirm=True)  # the proof S23b asks for
        first = story.decide(request_id, Decision.APPROVE, story.reviewers[0])
        assert first.state is RequestState.APPROVED_ONCE
        with pytest.raises(Conflict, match="different reviewer"):
            story.decide(request_id, Decision.APPROVE, story.reviewers[0])
        second = story.decide(request_id, Decision.APPROVE, story.reviewers[1])
        assert second.state is RequestState.COOLING_OFF
        notified = sorted(r for e in story.emails("access_veto_notice") for r in e.recipients)
        assert notified == sorted([EXECUTIVE, "security@acme.example", "billing@acme.example"])

    def test_requester_cannot_approve_their_own_request_s24(self, story, factories):
        insider = factories.user(REQUESTER, staff_role=StaffRole.REVIEWER)
        request_id = story.submit()
        story.confirm(request_id)
        with pytest.raises(PermissionDenied, match="S24"):
            story.decide(request_id, Decision.APPROVE, insider)

    def test_refused_approvals_are_audited_with_who_tried_and_why(self, story, factories):
        """Attempts on the most dangerous act are evidence, though nothing changed."""
        insider = factories.user(REQUESTER, staff_role=StaffRole.REVIEWER)
        request_id = story.submit()
        story.confirm(request_id)
        story.executive_answers(request_id, confirm=True)
        with pytest.raises(PermissionDenied):
            story.decide(request_id, Decision.APPROVE, insider)
        story.decide(request_id, Decision.APPROVE, story.reviewers[0])
        with pytest.raises(Conflict):
            story.decide(request_id, Decision.APPROVE, story.reviewers[0])
        with pytest.raises(PermissionDenied):
            story.decide(request_id, Decision.REJECT, factories.staff(), note="no")

        refused = refused_decisions(story, request_id)
        assert [(actor, data["decision"]) for actor, data in refused] == [
            (REQUESTER, "approve"),
            (story.reviewers[0].email, "approve"),
            (refused[2][0], "reject"),
        ]
        assert "S24" in refused[0][1]["reason"]
        assert "different reviewer" in refused[1][1]["reason"]
        assert story.request(request_id).state is RequestState.APPROVED_ONCE  # nothing else moved

    def test_staff_addresses_are_never_made_customer_admins_s31(self, story, factories):
        factories.staff("support.agent@acme.example")  # staff who happens to share the domain
        request_id = story.submit(email_to_add="support.agent@acme.example")
        story.confirm(request_id)
        assert evidence_of(story.request(request_id))["email_to_add"] == "fail"
        with pytest.raises(PermissionDenied, match="S31"):
            story.decide(request_id, Decision.APPROVE, story.reviewers[0], note="looks fine")
        assert no_grant(story)

    def test_agents_do_not_decide(self, story, factories):
        request_id = story.submit()
        story.confirm(request_id)
        with pytest.raises(PermissionDenied):
            story.decide(request_id, Decision.APPROVE, factories.staff())

    def test_request_info_voids_approvals_and_a_reply_resumes_review(self, story, runtime):

        request_id = story.submit()
        story.confirm(request_id)
        story.decide(request_id, Decision.APPROVE, story.reviewers[0])
        story.decide(
            request_id, Decision.REQUEST_INFO, story.reviewers[1], note="Send a clearer scan"
        )
        assert story.request(request_id).state is RequestState.NEEDS_INFO
        with runtime.uow(read_only=True) as uow:
            assert uow.session.scalars(select(Approval)).all() == []
        with runtime.uow() as uow:
            ticket = uow.session.get(Ticket, story.request(request_id).ticket_id)
            record_customer_reply(
                uow,
                ticket,
                body="Here it is",
                channel=MessageChannel.API,
                actor=Actor(label=REQUESTER),
                author=Requester(email=REQUESTER),
            )
            uow.commit()
        assert story.request(request_id).state is RequestState.IN_REVIEW

    def test_executive_denial_blocks_approval_and_alerts_staff_s31a(self, story, runtime):
        """The request waits for a reviewer to close it, as for an unknown account (S31a)."""
        request_id = story.submit()
        story.confirm(request_id)
        sent = len(story.emails(to=REQUESTER))
        story.executive_answers(request_id, confirm=False)
        request = story.request(request_id)
        assert request.state is RequestState.IN_REVIEW
        assert evidence_of(request)["executive_confirmation"] == "fail"
        assert len(story.emails(to=REQUESTER)) == sent  # the requester hears nothing of it
        with runtime.uow(read_only=True) as uow:
            ticket = uow.session.get(Ticket, request.ticket_id)
            assert (ticket.priority.value, ticket.status.value) == ("urgent", "open")
        with pytest.raises(Conflict, match="denied"):
            story.decide(request_id, Decision.APPROVE, story.reviewers[0], note="looks fine")
        story.decide(request_id, Decision.REJECT, story.reviewers[0], note="Not authorised.")
        assert story.request(request_id).state is RequestState.REJECTED
        assert no_grant(story)

    def test_executive_denial_in_the_cooling_off_stops_it_at_once(self, story):
        request_id = story.ready()
        with story.runtime.uow() as uow:  # a second link, as if asked again
            token = issue_link(uow, request_id, LinkPurpose.EXECUTIVE_CONFIRMATION, EXECUTIVE)
            uow.commit()
        decisions.executive_response(story.runtime.uow(), request_id, token, confirm=False)
        assert story.request(request_id).state is RequestState.REJECTED
        story.runtime.clock.advance(story.runtime.settings.cooling_off)
        assert execute_due(story.runtime.uow) == 0
        assert no_grant(story)

    def test_reject_tells_the_requester_why(self, story):
        request_id = story.submit()
        story.confirm(request_id)
        story.decide(request_id, Decision.REJECT, story.reviewers[0], note="Signature missing")
        (reply,) = story.emails("desk_reply", to=REQUESTER)
        assert "Signature missing" in reply.body
        (notice,) = story.emails("access_outcome_notice", to=REQUESTER)
        assert "closed" in notice.subject


class TestOneAtATime:
    def test_second_request_while_one_is_open_is_refused_s28(self, story):
        first = story.submit()
        story.confirm(first)
        second = story.submit(requester_email="someone.else@acme.example")
        story.confirm(second, requester="someone.else@acme.example")
        assert story.request(second).state is RequestState.IN_REVIEW  # as any other (S31a)
        assert evidence_of(story.request(second))["account"] == "fail"
        with pytest.raises(Conflict, match="no account it could be granted on"):
            story.decide(second, Decision.APPROVE, story.reviewers[0], note="looks fine")
        assert story.request(first).state is RequestState.IN_REVIEW

    def test_veto_cancels_and_freezes_new_requests_s25(self, story):
        request_id = story.ready()
        notice = story.emails("access_veto_notice", to="security@acme.example")[0]

        _, token = link_token(notice.body, "veto")
        decisions.veto(story.runtime.uow(), request_id, token)
        assert story.request(request_id).state is RequestState.CANCELLED
        story.runtime.clock.advance(story.runtime.settings.cooling_off)
        assert execute_due(story.runtime.uow) == 0
        assert no_grant(story)
        again = story.submit()
        story.confirm(again)
        assert story.request(again).state is RequestState.IN_REVIEW  # as any other (S31a)
        (account,) = [i for i in story.request(again).evidence if i["check"] == "account"]
        assert "paused" in account["explanation"]
        with pytest.raises(Conflict, match="no account it could be granted on"):
            story.decide(again, Decision.APPROVE, story.reviewers[0], note="looks fine")


class TestExecution:
    def test_not_before_the_cooling_off_ends_s25(self, story):
        request_id = story.ready()
        with pytest.raises(Conflict, match="S25"):
            execute_request(story.runtime.uow(), request_id)
        assert no_grant(story)

    def test_grants_manage_by_invitation_and_tells_requester_and_executive_s26(self, story):
        request_id = story.ready()
        assert story.execute_after_cooling_off(request_id) == "executed"
        with story.runtime.uow(read_only=True) as uow:
            (invitation,) = uow.session.scalars(select(Invitation)).all()
        assert invitation.email == NEW_ADMIN
        assert sorted(invitation.permissions) == ["manage", "view"]
        assert invitation.mfa_required
        (outcome,) = story.emails("access_outcome_notice")
        assert sorted(outcome.recipients) == sorted([REQUESTER, EXECUTIVE])
        assert outcome.headers["In-Reply-To"]  # threaded with the ticket
        # Idempotent: the worker finds nothing more to do.
        assert execute_due(story.runtime.uow) == 0

    def test_an_existing_user_gains_manage_but_must_enrol_mfa_s18(self, story, factories):
        user = factories.user(NEW_ADMIN)
        request_id = story.ready()
        story.execute_after_cooling_off(request_id)
        newcomer = factories.user("newcomer@acme.example")
        with pytest.raises(PermissionDenied, match="multi-factor"):
            members.add_member(
                story.runtime.uow(),
                "acme-corp",
                newcomer.email,
                ["view"],
                actor=factories.actor(user),
            )
        enrolled = factories.enable_mfa(user)
        members.add_member(
            story.runtime.uow(),
            "acme-corp",
            newcomer.email,
            ["view"],
            actor=factories.actor(enrolled),
        )

    def test_the_grant_ends_the_new_admins_sessions_and_api_tokens_s41(self, story, factories):
        user = factories.user(NEW_ADMIN)
        token = factories.token(user)
        request_id = story.ready()
        assert service.authenticate_api_token(story.runtime.uow(), token) is not None
        story.execute_after_cooling_off(request_id)
        assert service.authenticate_api_token(story.runtime.uow(), token) is None

    def test_a_member_keeps_their_permissions_and_gains_manage_with_mfa_s26(self, story, factories):
        user = factories.user(NEW_ADMIN)
        factories.member(story.account, user, "view,billing")
        token = factories.token(user)
        request_id = story.ready()
        story.execute_after_cooling_off(request_id)
        with story.runtime.uow(read_only=True) as uow:
            membership = uow.session.scalars(
                select(Membership).where(Membership.user_id == user.id)
            ).one()
            assert sorted(membership.permissions) == ["billing", "manage", "view"]
            assert membership.mfa_required
        [event] = list_events(story.runtime.uow(read_only=True), action="member.update")
        assert event.target == f"account:acme-corp/member:{NEW_ADMIN}"
        assert event.actor == "worker:access-requests"
        assert event.data == {
            "before": {"permissions": ["view", "billing"]},
            "after": {"permissions": ["view", "manage", "billing"], "mfa_required": True},
        }
        assert service.authenticate_api_token(story.runtime.uow(), token) is None  # S41

    def test_an_admin_who_came_back_gets_it_instead_s21(self, story, factories, runtime):
        request_id = story.ready()
        admin = factories.user("returning@acme.example")
        members.add_member(
            runtime.uow(), "acme-corp", admin.email, ["view", "manage"], actor=OPERATOR
        )
        with runtime.uow() as uow:
            uow.session.get(User, admin.id).last_login_at = uow.clock.now()
            uow.commit()
        assert story.execute_after_cooling_off(request_id) == "routed"
        assert no_grant(story)
