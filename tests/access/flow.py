"""Helpers that walk an access request through its steps, as the people involved would."""

from __future__ import annotations

import io
import re
import uuid
from dataclasses import dataclass, replace
from datetime import date, timedelta

from PIL import Image, ImageDraw
from sqlalchemy import select

from keyholder.access import decisions, intake
from keyholder.access.decisions import Decision
from keyholder.access.execution import execute_request
from keyholder.access.intake import AccessRequestForm
from keyholder.access.models import AccessRequest
from keyholder.accounts.models import ContactKind, EnterpriseAccount, Invitation, Membership
from keyholder.accounts.service import ContactInput, create_account
from keyholder.bootstrap import Runtime
from keyholder.demo_letter import demo_letter_png
from keyholder.desk.attachments import NewAttachment
from keyholder.identity.models import StaffRole, User
from keyholder.mail.models import OutboxMessage
from tests.factories import OPERATOR, Factories

EXECUTIVE = "dana.whitfield@acme.example"
REQUESTER = "it-lead@acme.example"
NEW_ADMIN = "new.admin@acme.example"

FORM = AccessRequestForm(
    account_name="acme-corp",
    requester_email=REQUESTER,
    email_to_add=NEW_ADMIN,
    reason="Our only admin left the company and her mailbox was deleted.",
    contract_number="ENT-2024-001234",
    executive_name="Dana Whitfield",
    executive_title="Chief Executive Officer",
    executive_email=EXECUTIVE,
    requester_name="Ian Lead",
)


def letter_png() -> NewAttachment:
    """A small picture of a letter (the pre-screen is tested on its own)."""
    image = Image.new("RGB", (400, 300), "white")
    draw = ImageDraw.Draw(image)
    draw.text((20, 20), "To Keyholder support: please add new.admin@acme.example", fill="black")
    draw.line((20, 200, 200, 230), fill="navy", width=3)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return NewAttachment("letter.png", buffer.getvalue())


def typed_letter_png(dated: date) -> NewAttachment:
    """A whole signed letter that states everything ``FORM`` says, for the real pre-screen."""
    data = demo_letter_png(
        account="acme-corp",
        display_name="Acme Corporation",
        contract=FORM.contract_number,
        email_to_add=NEW_ADMIN,
        reason=FORM.reason,
        executive_name=FORM.executive_name,
        executive_title=FORM.executive_title,
        executive_email=EXECUTIVE,
        dated=dated,
    )
    return NewAttachment("letter.png", data)


def link_token(body: str, kind: str) -> tuple[uuid.UUID, str]:
    match = re.search(rf"/access-requests/([0-9a-f-]{{36}})/{kind}/(kha_[A-Za-z0-9_-]+)", body)
    assert match, body
    return uuid.UUID(match.group(1)), match.group(2)


@dataclass
class Story:
    """acme-corp with its contacts on record, old enough to be trusted (S22)."""

    runtime: Runtime
    factories: Factories
    account: EnterpriseAccount
    reviewers: tuple[User, User]

    @classmethod
    def begin(cls, runtime: Runtime, factories: Factories) -> Story:
        account = create_account(
            runtime.uow(),
            name="acme-corp",
            display_name="Acme Corporation",
            contract_number="ENT-2024-001234",
            domains=["acme.example"],
            contacts=[
                ContactInput(ContactKind.EXECUTIVE, "Dana Whitfield", "CEO", EXECUTIVE),
                ContactInput(ContactKind.SECURITY, "Omar Haddad", "CISO", "security@acme.example"),
                ContactInput(
                    ContactKind.BILLING, "Priya Nair", "Controller", "billing@acme.example"
                ),
            ],
            actor=OPERATOR,
        )
        runtime.clock.advance(timedelta(days=30))  # type: ignore[attr-defined]
        reviewers = (
            factories.user("riley@keyholder-staff.example", staff_role=StaffRole.REVIEWER),
            factories.user("robin@keyholder-staff.example", staff_role=StaffRole.REVIEWER),
        )
        return cls(runtime, factories, account, reviewers)

    def emails(self, kind: str | None = None, to: str | None = None) -> list[OutboxMessage]:
        with self.runtime.uow(read_only=True) as uow:
            rows = uow.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        return [
            r
            for r in rows
            if (kind is None or r.kind == kind) and (to is None or to in r.recipients)
        ]

    def submit(self, letter: NewAttachment | None = None, **changes: str) -> uuid.UUID:
        form = replace(FORM, **changes)
        return intake.submit_access_request(
            self.runtime.uow(),
            form,
            letter or letter_png(),
            client_address="192.0.2.7",
            limiter=self.runtime.rate_limiter,
        )

    def confirm(self, request_id: uuid.UUID, *, requester: str = REQUESTER) -> None:
        (email,) = [
            e
            for e in self.emails("access_confirm_requester", to=requester)
            if str(request_id) in e.body
        ]
        found_id, token = link_token(email.body, "confirm-email")
        assert found_id == request_id
        intake.confirm_requester(self.runtime.uow(), request_id, token)

    def executive_answers(self, request_id: uuid.UUID, *, confirm: bool) -> None:
        email = self.emails("access_executive")[-1]
        _, token = link_token(email.body, "executive-confirmation")
        decisions.executive_response(self.runtime.uow(), request_id, token, confirm=confirm)

    def decide(
        self, request_id: uuid.UUID, decision: Decision, reviewer: User, note: str = ""
    ) -> AccessRequest:
        actor = self.factories.actor(reviewer)
        return decisions.decide(self.runtime.uow(), request_id, decision, actor=actor, note=note)

    def approve_twice(self, request_id: uuid.UUID) -> None:
        for reviewer in self.reviewers:
            self.decide(request_id, Decision.APPROVE, reviewer)

    def ready(self) -> uuid.UUID:
        """Submitted, confirmed by requester and executive, approved twice."""
        request_id = self.submit()
        self.confirm(request_id)
        self.executive_answers(request_id, confirm=True)
        self.approve_twice(request_id)
        return request_id

    def execute_after_cooling_off(self, request_id: uuid.UUID) -> str:
        self.runtime.clock.advance(self.runtime.settings.cooling_off)  # type: ignore[attr-defined]
        return execute_request(self.runtime.uow(), request_id).value

    def request(self, request_id: uuid.UUID) -> AccessRequest:
        with self.runtime.uow(read_only=True) as uow:
            found = uow.session.get(AccessRequest, request_id)
            assert found is not None
            return found


def granted(story: Story, email: str = NEW_ADMIN) -> bool:
    """Does ``email`` hold a membership or an invitation, on any account?"""
    with story.runtime.uow(read_only=True) as uow:
        user_ids = uow.session.scalars(select(User.id).where(User.email == email)).all()
        membership = uow.session.scalars(
            select(Membership.id).where(Membership.user_id.in_(user_ids))
        ).first()
        invitation = uow.session.scalars(
            select(Invitation.id).where(Invitation.email == email)
        ).first()
    return membership is not None or invitation is not None
