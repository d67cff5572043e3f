"""Pages behind the links that access-request emails carry.

``/access-requests/{id}/confirm-email/{token}`` (the requester),
``…/executive-confirmation/{token}`` (the executive on record) and
``…/veto/{token}`` (an admin or contact on record). Opening a link only shows
a page with a button: mail scanners fetch links, so nothing happens on GET.
The form post (with its CSRF token) calls the same use cases as the API.
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, Response

from keyholder.access import decisions
from keyholder.access.intake import confirm_requester
from keyholder.web.deps import UoW
from keyholder.web.ui.forms import CSRF_CHECKED, CheckedForm, field, link_errors
from keyholder.web.ui.rendering import TokenPageRoute, redirect, render

router = APIRouter(prefix="/access-requests", route_class=TokenPageRoute, include_in_schema=False)


def _done(request: Request, title: str, message: str) -> Response:
    return render(request, "message.html", {"title": title, "message": message, "link": None})


@router.get("/{request_id}/confirm-email/{token}")
def confirm_email_page(request: Request) -> Response:
    context = {
        "title": "Confirm your request for admin access",
        "explanation": "You asked for admin access to an enterprise account. Press the "
        "button to confirm that this email address is yours; our staff then review "
        "the request. If you did not ask for this, close this page: nothing happens.",
        "buttons": [("", "Confirm my request")],
    }
    return render(request, "link_confirm.html", context)


@router.post("/{request_id}/confirm-email/{token}", dependencies=[CSRF_CHECKED])
def confirm_email(request: Request, request_id: uuid.UUID, token: str, uow: UoW) -> Response:
    with link_errors(request):
        confirmed = confirm_requester(uow, request_id, token)
    if confirmed.closed_because is not None:
        context = {
            "title": "Your request is closed",
            "message": confirmed.closed_because,
            "link": (confirmed.ticket_path, "See the request's ticket"),
        }
        return render(request, "message.html", context)
    return redirect(f"{confirmed.ticket_path}?done=confirmed")


@router.get("/{request_id}/executive-confirmation/{token}")
def executive_page(request: Request) -> Response:
    context = {
        "title": "Did you authorise this request?",
        "explanation": "Someone asked for admin access to your company's enterprise "
        "account and named you as the executive who authorised it; the email you "
        "received says who and for which address. Confirm only if you signed that letter.",
        "buttons": [("confirm", "Yes, I authorised it"), ("deny", "No, I did not")],
    }
    return render(request, "link_confirm.html", context)


@router.post("/{request_id}/executive-confirmation/{token}")
def executive_answer(
    request: Request, request_id: uuid.UUID, token: str, uow: UoW, form: CheckedForm
) -> Response:
    answer = field(form, "answer")
    if answer not in {"confirm", "deny"}:
        return executive_page(request)
    confirm = answer == "confirm"
    with link_errors(request):
        decisions.executive_response(uow, request_id, token, confirm=confirm)
    if confirm:
        return _done(request, "Thank you", "Thank you: your confirmation is recorded.")
    return _done(
        request,
        "Request rejected",
        "Thank you: the request is stopped and our staff are alerted.",
    )


@router.get("/{request_id}/veto/{token}")
def veto_page(request: Request) -> Response:
    context = {
        "title": "Stop this grant of admin access",
        "explanation": "A request for admin access to your enterprise account (approved by "
        "our reviewers, or made with one of the account's recovery codes) is waiting out its "
        "cooling-off period. If you do not know about it, or it "
        "should not happen, press the button: the request is cancelled, nobody is given "
        "access, and new requests for the account are paused for a while.",
        "buttons": [("", "Stop it: cancel the request")],
        "danger": True,
    }
    return render(request, "link_confirm.html", context)


@router.post("/{request_id}/veto/{token}", dependencies=[CSRF_CHECKED])
def veto(request: Request, request_id: uuid.UUID, token: str, uow: UoW) -> Response:
    with link_errors(request):
        decisions.veto(uow, request_id, token)
    return _done(
        request, "Request cancelled", "The request is cancelled. Nobody was given admin access."
    )
