"""What an admin-access request looks like from outside, to staff.

The access-request API answers with ``AccessRequestOut`` and the CLI's
``--json`` prints it. The letter's addresses are the API's: whoever prints the
model passes ``attachment_url`` and ``annotated_letter_url``
(``web.api.links``), so the slice builds no URLs.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from keyholder.access import dns_check
from keyholder.access.evidence import risk_summary
from keyholder.access.models import AccessRequest, Approval
from keyholder.access.proofs import independent_proofs
from keyholder.access.states import RequestState, RequestVia

AttachmentUrl = Callable[[int, uuid.UUID], str]
"""Where a ticket's attachment is fetched: the letter is one, on the request's ticket."""
AnnotatedLetterUrl = Callable[[uuid.UUID], str]
"""Where the letter's page with the pre-screen's boxes is fetched, from the request's id."""


class ApprovalOut(BaseModel):
    reviewer: str
    note: str
    at: datetime


class ProofOut(BaseModel):
    """One proof from outside the request (S23b) and what the customer can do to provide it."""

    check: str
    status: str
    explanation: str
    how_to_provide: str


class ProofsOut(BaseModel):
    """``held``: one proof passed, so a second approval may start the cooling-off."""

    held: bool
    items: list[ProofOut]


class AccessRequestOut(BaseModel):
    id: uuid.UUID
    ticket: int
    state: RequestState
    # "letter" (reviewed by staff) or "recovery_code" (a claim: no letter, no review).
    via: RequestVia
    account_name: str
    account_matched: bool
    requester_email: str
    email_to_add: str
    reason: str
    contract_number: str
    executive_name: str
    executive_title: str
    executive_email: str
    letter: dict[str, Any]
    risk_summary: list[dict[str, Any]]
    proofs: ProofsOut
    dns_record: str
    approvals: list[ApprovalOut]
    cooling_off_until: datetime | None
    executed_at: datetime | None
    outcome: str | None
    created_at: datetime
    # When it reached its final state, and when retention deleted its files (None: kept).
    decided_at: datetime | None
    purged_at: datetime | None


def request_out(
    request: AccessRequest,
    approvals: list[Approval],
    letter_id: uuid.UUID | None = None,
    *,
    attachment_url: AttachmentUrl,
    annotated_letter_url: AnnotatedLetterUrl,
) -> AccessRequestOut:
    return AccessRequestOut(
        id=request.id,
        ticket=request.ticket_id,
        state=request.state,
        via=request.via,
        account_name=request.account_name,
        account_matched=request.account_id is not None,
        requester_email=request.requester_email,
        email_to_add=request.email_to_add,
        reason=request.reason,
        contract_number=request.contract_number,
        executive_name=request.executive_name,
        executive_title=request.executive_title,
        executive_email=request.executive_email,
        letter={
            "filename": request.letter_filename,
            "content_type": request.letter_content_type,
            "sha256": request.letter_sha256,
            "url": attachment_url(request.ticket_id, letter_id) if letter_id else None,
            "annotated_url": annotated_letter_url(request.id)
            if (request.prescreen or {}).get("annotated_png_sha256")
            else None,
            "prescreen": request.prescreen,
        },
        risk_summary=risk_summary(request.evidence),
        proofs=ProofsOut.model_validate(independent_proofs(request).as_json()),
        dns_record=dns_check.record_for(request),
        approvals=[
            ApprovalOut(reviewer=a.reviewer_email, note=a.note, at=a.created_at) for a in approvals
        ],
        cooling_off_until=request.cooling_off_until,
        executed_at=request.executed_at,
        outcome=request.outcome,
        created_at=request.created_at,
        decided_at=request.decided_at,
        purged_at=request.purged_at,
    )
