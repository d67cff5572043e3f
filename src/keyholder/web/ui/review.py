"""The access-request review pages: the list, and one request with everything a reviewer needs.

The same use cases as ``/api/access-requests`` (staff read, reviewers decide:
the services refuse everyone else, and the page shows their message). The
letter is shown as the pre-screen's annotated page image when there is one
(``/api/access-requests/{id}/letter/annotated.png``, audited), else as a
download link; beside it the risk summary, failing items first.
"""

from __future__ import annotations

import uuid
from contextlib import AbstractContextManager
from typing import Any

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from keyholder.access import decisions, dns_check, queries
from keyholder.access.decisions import Decision
from keyholder.access.evidence import Check, Status, risk_summary
from keyholder.access.proofs import independent_proofs, lookalike_items
from keyholder.access.states import OPEN_STATES, RequestState
from keyholder.db.uow import UnitOfWork
from keyholder.errors import InvalidInput, NotAuthenticated, NotFound
from keyholder.identity.actor import Actor
from keyholder.web.deps import ReadUoW, UoW
from keyholder.web.ui.forms import (
    CSRF_CHECKED,
    CheckedForm,
    DeskUser,
    FormError,
    field,
    form_errors,
    runtime_of,
    uow_for,
)
from keyholder.web.ui.rendering import PageRoute, redirect, render
from keyholder.when import countdown

router = APIRouter(prefix="/desk/access-requests", route_class=PageRoute, include_in_schema=False)

STATUS_TEXT = {
    Status.FAIL: ("✗", "Fail"),
    Status.UNKNOWN: ("?", "Unknown"),
    Status.PASS: ("✓", "Pass"),
}
CHECK_NAMES: dict[str, str] = {
    Check.ACCOUNT: "Account",
    Check.CONTRACT_NUMBER: "Contract number",
    Check.EXECUTIVE_ON_RECORD: "Executive on record",
    Check.EXECUTIVE_DOMAIN: "Executive's email domain",
    Check.EMAIL_TO_ADD: "Address to make admin",
    Check.EXECUTIVE_CONFIRMATION: "Executive confirmation",
    Check.DNS_PROOF: "DNS proof",
    Check.LETTER: "Letter pre-screen",
    Check.EXISTING_ADMINS: "Existing admins",
}
STATE_TEXT = {
    RequestState.SUBMITTED: "Waiting for the requester to confirm their address",
    RequestState.IN_REVIEW: "In review: needs two approvals",
    RequestState.NEEDS_INFO: "Waiting for information from the requester",
    RequestState.APPROVED_ONCE: "Approved once: needs a second reviewer",
    RequestState.COOLING_OFF: "Approved twice: cooling-off, can still be vetoed",
    RequestState.EXECUTED: "Executed: access granted",
    RequestState.REJECTED: "Rejected",
    RequestState.CANCELLED: "Cancelled by a veto",
    RequestState.ROUTED: "Routed to an active admin of the account",
}
DECISION_LABELS = {
    Decision.APPROVE: "Approve",
    Decision.REQUEST_INFO: "Ask the requester for information",
    Decision.REJECT: "Reject",
}
NOTICES = {
    "approve": "Your approval is recorded.",
    "reject": "The request is rejected; the requester is told why.",
    "request_info": "Your question is sent to the requester.",
    "dns": "The DNS record was looked up; see the DNS proof below.",
}


def _items(evidence: list[dict[str, Any]]) -> list[dict[str, Any]]:
    shown = []
    for item in risk_summary(evidence):
        status = Status(item["status"])
        icon, word = STATUS_TEXT[status]
        check = str(item["check"])
        name = CHECK_NAMES.get(check, check.removeprefix("letter_").replace("_", " ").capitalize())
        shown.append({**item, "name": name, "icon": icon, "word": word})
    return shown


def _evidence_of(evidence: list[dict[str, Any]], check: Check) -> dict[str, Any] | None:
    return next((i for i in evidence if i["check"] == check), None)


@router.get("")
def request_list(
    request: Request, actor: DeskUser, uow: ReadUoW, state: str = "", ticket: int = 0
) -> Response:
    wanted = RequestState(state) if state in set(RequestState) else None
    found = queries.list_requests(uow, actor=actor, state=wanted, limit=100)
    if ticket:  # from a ticket's page: straight to its request
        match = next((r for r in found if r.ticket_id == ticket), None)
        if match is not None:
            return redirect(f"/desk/access-requests/{match.id}")
    context = {
        "title": "Access requests",
        "requests": found,
        "state": wanted,
        "states": list(RequestState),
        "state_text": STATE_TEXT,
    }
    return render(request, "review_list.html", context)


def _review_page(
    request: Request,
    uow: UnitOfWork,
    request_id: uuid.UUID,
    actor: Actor,
    *,
    error: str = "",
    error_field: str | None = None,
    notice: str = "",
    note: str = "",
    status: int = 200,
) -> Response:
    detail = queries.get_request(uow, request_id, actor=actor)
    found = detail.request
    now = uow.clock.now()
    letter_url = (
        f"/api/tickets/{found.ticket_id}/attachments/{detail.letter_attachment_id}"
        if detail.letter_attachment_id
        else None
    )
    prescreen = found.prescreen or {}
    offered = [(d.value, DECISION_LABELS[d]) for d in decisions.open_decisions(found.state)]
    if error_field == "decision" and offered:
        error_field = f"decision-{offered[0][0]}"  # the first choice the page offers
    context = {
        "title": f"Access request for {found.account_name}",
        "req": found,
        "state_text": STATE_TEXT[found.state],
        "approvals": detail.approvals,
        "items": _items(found.evidence),
        "executive": _evidence_of(found.evidence, Check.EXECUTIVE_CONFIRMATION),
        "dns": _evidence_of(found.evidence, Check.DNS_PROOF),
        "dns_record": dns_check.record_for(found),
        "proofs": independent_proofs(found),
        "lookalikes": lookalike_items(found.evidence),
        "letter_url": letter_url,
        "annotated_url": f"/api/access-requests/{found.id}/letter/annotated.png"
        if prescreen.get("annotated_png_sha256")
        else None,
        "prescreen_error": prescreen.get("error"),
        "cooling_off_left": countdown(found.cooling_off_until, now)
        if found.cooling_off_until and found.state is RequestState.COOLING_OFF
        else None,
        "is_open": found.state in OPEN_STATES,
        "decisions": offered,
        "note": note,
        "error": error,
        "error_field": error_field,  # the summary links to it (and moves focus there)
        "notice": notice,
    }
    return render(request, "review.html", context, status_code=status)


@router.get("/{request_id}")
def review_page(
    request: Request, request_id: uuid.UUID, actor: DeskUser, uow: ReadUoW, done: str = ""
) -> Response:
    return _review_page(request, uow, request_id, actor, notice=NOTICES.get(done, ""))


def _refused(
    request: Request, request_id: uuid.UUID, actor: Actor, *, note: str = ""
) -> AbstractContextManager[None]:
    """The review page again with the service's refusal; a request the reviewer may not
    see (or that is not there) stays an error page."""

    def show(refusal: FormError) -> Response:
        return _review_page(
            request,
            uow_for(request, read_only=True),
            request_id,
            actor,
            error=refusal.sentence,
            error_field=refusal.field,
            note=note,
            status=refusal.status,
        )

    return form_errors(show, as_error_page=(NotAuthenticated, NotFound))


@router.post("/{request_id}/decisions")
def decide(
    request: Request, request_id: uuid.UUID, actor: DeskUser, uow: UoW, form: CheckedForm
) -> Response:
    note = field(form, "note")
    with _refused(request, request_id, actor, note=note):
        choice = field(form, "decision")
        if choice not in set(Decision):
            raise InvalidInput("choose approve, reject or request information", field="decision")
        decisions.decide(uow, request_id, Decision(choice), actor=actor, note=note)
    return redirect(f"/desk/access-requests/{request_id}?done={choice}")


@router.post("/{request_id}/dns-check", dependencies=[CSRF_CHECKED])
async def check_dns(request: Request, request_id: uuid.UUID, actor: DeskUser, uow: UoW) -> Response:
    with _refused(request, request_id, actor):
        # A DNS lookup may take seconds: off the event loop.
        await run_in_threadpool(
            dns_check.check_request,
            uow,
            request_id,
            actor=actor,
            resolver=runtime_of(request).txt_resolver,
        )
    return redirect(f"/desk/access-requests/{request_id}?done=dns")
