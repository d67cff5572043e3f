"""/api/access-requests: asking for admin access, and reviewing the requests.

Submitting and the emailed links (confirm your address, the executive's answer,
a veto) need no sign-in: the people who need them cannot sign in. Everything
else is for staff; decisions for reviewers.
"""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from keyholder.access import decisions, dns_check, queries, schemas
from keyholder.access.decisions import Decision
from keyholder.access.execution import execute_request
from keyholder.access.intake import AccessRequestForm, confirm_requester, submit_access_request
from keyholder.access.models import AccessRequest, Approval
from keyholder.access.schemas import AccessRequestOut
from keyholder.access.states import RequestState
from keyholder.errors import InvalidInput
from keyholder.web.api import links
from keyholder.web.api.schemas import Body
from keyholder.web.deps import CurrentActor, ReadUoW, RuntimeDep, UoW, request_context
from keyholder.web.uploads import read_upload_form

router = APIRouter(prefix="/access-requests", tags=["access requests"])

FORM_FIELDS = (
    "account_name",
    "requester_email",
    "email_to_add",
    "reason",
    "contract_number",
    "executive_name",
    "executive_title",
    "executive_email",
)
SUBMITTED = (
    "Thank you. We sent a link to the address you gave: open it to confirm your request. "
    "Nothing happens until you do. If your IT team can recover the mailbox of a former "
    "admin of the account, that admin can reset their password and add you, which is faster."
)


class Accepted(BaseModel):
    detail: str


class DecisionIn(Body):
    decision: Decision
    note: str = Field(default="", max_length=5000)


class ExecutiveAnswer(StrEnum):
    CONFIRM = "confirm"
    DENY = "deny"


class ExecutiveAnswerIn(Body):
    answer: ExecutiveAnswer


def request_out(
    request: AccessRequest, approvals: list[Approval], letter_id: uuid.UUID | None = None
) -> AccessRequestOut:
    """The request as the API shows it, with the API's addresses of its letter."""
    return schemas.request_out(
        request,
        approvals,
        letter_id,
        attachment_url=links.attachment_url,
        annotated_letter_url=links.annotated_letter_url,
    )


@router.post(
    "",
    response_model=Accepted,
    status_code=status.HTTP_202_ACCEPTED,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": [*FORM_FIELDS, "letter"],
                        "properties": {
                            **{name: {"type": "string"} for name in FORM_FIELDS},
                            "requester_name": {"type": "string"},
                            "letter": {"type": "string", "format": "binary"},
                        },
                    }
                }
            },
        }
    },
)
async def submit(request: Request, uow: UoW, runtime: RuntimeDep) -> Accepted:
    """Ask for admin access with the six items and the signed letter (PDF, PNG or JPEG).

    The answer is the same for every account name; a link to confirm your
    address comes by email.
    """
    form = await read_upload_form(request, max_bytes=uow.settings.attachment_max_bytes, max_files=1)
    missing = [name for name in FORM_FIELDS if not form.fields.get(name, "").strip()]
    if missing:
        raise InvalidInput(f"missing: {', '.join(missing)}")
    if len(form.files) != 1:
        raise InvalidInput("attach the signed letter as the file field 'letter'")
    fields = {name: form.fields[name] for name in FORM_FIELDS}
    typed = AccessRequestForm(**fields, requester_name=form.fields.get("requester_name", ""))
    client = request_context(request).client_address
    await run_in_threadpool(
        submit_access_request,
        uow,
        typed,
        form.files[0],
        client_address=client,
        limiter=runtime.rate_limiter,
    )
    return Accepted(detail=SUBMITTED)


@router.post("/{request_id}/confirm-email/{token}", response_model=Accepted)
def confirm_email(request_id: uuid.UUID, token: str, uow: UoW) -> Accepted:
    """The requester's own address is confirmed; the review starts, whatever the account (S31a)."""
    confirmed = confirm_requester(uow, request_id, token)
    if confirmed.closed_because is not None:  # overtaken by a grant (access.overtaken)
        return Accepted(detail=confirmed.closed_because)
    return Accepted(detail="Thank you: your request goes ahead. We will write to you by email.")


@router.post("/{request_id}/executive-confirmation/{token}", response_model=Accepted)
def executive_confirmation(
    request_id: uuid.UUID, token: str, body: ExecutiveAnswerIn, uow: UoW
) -> Accepted:
    """The executive on record confirms or denies having authorised the request."""
    confirm = body.answer is ExecutiveAnswer.CONFIRM
    decisions.executive_response(uow, request_id, token, confirm=confirm)
    if confirm:
        return Accepted(detail="Thank you: your confirmation is recorded.")
    return Accepted(detail="Thank you: the request is stopped and our staff are alerted.")


@router.post("/{request_id}/veto/{token}", response_model=Accepted)
def veto(request_id: uuid.UUID, token: str, uow: UoW) -> Accepted:
    """Stop a granted-but-waiting request: it is cancelled, and new ones are paused."""
    decisions.veto(uow, request_id, token)
    return Accepted(detail="The request is cancelled. Nobody was given admin access.")


@router.get("", response_model=list[AccessRequestOut])
def list_requests(
    uow: ReadUoW,
    actor: CurrentActor,
    state: RequestState | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> list[AccessRequestOut]:
    """Newest first (staff)."""
    found = queries.list_requests(uow, actor=actor, state=state, limit=limit)
    return [request_out(r, []) for r in found]


@router.get("/{request_id}", response_model=AccessRequestOut)
def get_request(request_id: uuid.UUID, uow: ReadUoW, actor: CurrentActor) -> AccessRequestOut:
    """The request, its risk summary (failing and unknown checks first) and approvals (staff)."""
    detail = queries.get_request(uow, request_id, actor=actor)
    return request_out(detail.request, list(detail.approvals), detail.letter_attachment_id)


@router.get(
    "/{request_id}/letter/annotated.png",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}}},
)
def annotated_letter(request_id: uuid.UUID, uow: UoW, actor: CurrentActor) -> Response:
    """The letter's first page with boxes around what the pre-screen found (staff; audited)."""
    data = queries.annotated_letter(uow, request_id, actor=actor)
    return Response(
        content=data,
        media_type="image/png",
        headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store"},
    )


@router.post("/{request_id}/decisions", response_model=AccessRequestOut)
def decide(
    request_id: uuid.UUID, body: DecisionIn, uow: UoW, read: ReadUoW, actor: CurrentActor
) -> AccessRequestOut:
    """A reviewer's decision: ``request_info`` and ``reject`` need a note for the requester;
    ``approve`` twice, by two different reviewers, starts the cooling-off."""
    decisions.decide(uow, request_id, body.decision, actor=actor, note=body.note)
    detail = queries.get_request(read, request_id, actor=actor)
    return request_out(detail.request, list(detail.approvals), detail.letter_attachment_id)


@router.post("/{request_id}/dns-proof/check", response_model=AccessRequestOut)
def check_dns(
    request_id: uuid.UUID, uow: UoW, read: ReadUoW, actor: CurrentActor, runtime: RuntimeDep
) -> AccessRequestOut:
    """Look up the request's TXT record on the account's verified domains now (staff)."""
    dns_check.check_request(uow, request_id, actor=actor, resolver=runtime.txt_resolver)
    detail = queries.get_request(read, request_id, actor=actor)
    return request_out(detail.request, list(detail.approvals), detail.letter_attachment_id)


@router.post("/{request_id}/execute", response_model=AccessRequestOut)
def execute(
    request_id: uuid.UUID, uow: UoW, read: ReadUoW, actor: CurrentActor
) -> AccessRequestOut:
    """Grant now instead of waiting for the worker; 409 before the cooling-off ends (S25)."""
    decisions.require_reviewer(actor)
    execute_request(uow, request_id, actor=actor)
    detail = queries.get_request(read, request_id, actor=actor)
    return request_out(detail.request, list(detail.approvals), detail.letter_attachment_id)
