"""The "I can't reach an admin of my Enterprise account" guide and the access-request form.

The guide shows the self-service path first (recover a former admin's
mailbox, reset its password); the form then takes the six items of the signed
letter, who asks, and the letter itself, as a plain multipart form (the upload
script only adds drag and drop and a progress bar). The same use case as
``POST /api/access-requests``, and the same answer for every account name: the
page after sending never says whether an account exists (PRG to ``/sent``).
"""

from __future__ import annotations

from contextlib import AbstractContextManager

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from keyholder.access.intake import AccessRequestForm, submit_access_request
from keyholder.accounts import service as accounts
from keyholder.accounts.recovery_paths import recovery_paths
from keyholder.errors import InvalidInput, KeyholderError
from keyholder.identity.actor import Actor
from keyholder.web.api.access import FORM_FIELDS, SUBMITTED
from keyholder.web.ui.csrf import CsrfRefused
from keyholder.web.ui.forms import (
    FormError,
    MaybeActor,
    checked_upload,
    form_errors,
    runtime_of,
    uow_for,
    upload_field,
)
from keyholder.web.ui.rendering import PageRoute, redirect, render
from keyholder.web.ui.threads import human_size

router = APIRouter(prefix="/help/no-admin", route_class=PageRoute, include_in_schema=False)

ALL_FIELDS = (*FORM_FIELDS, "requester_name")
LABELS = {
    "account_name": "the enterprise account name",
    "requester_email": "your email address",
    "email_to_add": "the email address to make admin",
    "reason": "why the change is needed",
    "contract_number": "the contract number",
    "executive_name": "the executive's name",
    "executive_title": "the executive's title",
    "executive_email": "the executive's email address",
}


def account_hint(account: str) -> str:
    """An account name carried in a link (from the account page): a short line, or nothing."""
    text = " ".join(account.split())
    return text if len(text) <= 200 and text.isprintable() else ""


@router.get("")
def guide(request: Request, actor: MaybeActor, account: str = "") -> Response:
    name = account_hint(account)
    # The account's own ways back in, first, for a reader who could take them (members,
    # and holders of a verified address on its domains); nobody else learns of them.
    paths = recovery_paths(uow_for(request, read_only=True), name, actor=actor) if name else None
    context = {"title": "I can't reach an admin of my account", "account": name, "paths": paths}
    return render(request, "no_admin.html", context)


def _form_page(
    request: Request,
    values: dict[str, str],
    *,
    error: str = "",
    error_field: str | None = None,
    status: int = 200,
) -> Response:
    context = {
        "title": "Ask for admin access",
        "values": {name: values.get(name, "") for name in ALL_FIELDS},
        "max_size": human_size(runtime_of(request).settings.attachment_max_bytes),
        "error": error,
        "error_field": error_field,  # the summary links to it (and moves focus there)
    }
    return render(request, "access_request_form.html", context, status_code=status)


def _prefilled(request: Request, actor: Actor | None, account: str) -> dict[str, str]:
    """What a signed-in member need not type again: their address, the account they came from.

    The contract number only for an account the reader may see (as on its page);
    any other name is just echoed back into the field, as if they had typed it.
    """
    values = {"account_name": account_hint(account)}
    if actor is None or actor.email is None:
        return values
    values |= {"requester_email": actor.email, "email_to_add": actor.email}
    if values["account_name"]:
        try:
            found = accounts.get_account(
                uow_for(request, read_only=True), values["account_name"], actor=actor
            )
        except KeyholderError:
            return values
        values |= {"account_name": found.name, "contract_number": found.contract_number}
    return values


@router.get("/request")
def request_form(request: Request, actor: MaybeActor, account: str = "") -> Response:
    return _form_page(request, _prefilled(request, actor, account))


@router.post("/request")
async def submit_request(request: Request) -> Response:
    def refused(values: dict[str, str]) -> AbstractContextManager[None]:
        def show(refusal: FormError) -> Response:
            return _form_page(
                request,
                values,
                error=refusal.sentence,
                error_field=refusal.field,
                status=refusal.status,
            )

        return form_errors(show, as_error_page=(CsrfRefused,))

    with refused({}):  # too large, malformed: the typed values are lost with it
        form = await checked_upload(request, max_files=1)
    values = {name: upload_field(form, name, 5000) for name in ALL_FIELDS}
    with refused(values):
        missing = [name for name in FORM_FIELDS if not values[name].strip()]
        if missing:
            labels = ", ".join(LABELS[name] for name in missing)
            raise InvalidInput(f"Fill in {labels}.", field=missing[0])
        if len(form.files) != 1:
            raise InvalidInput("Attach the signed letter (PDF, PNG or JPEG).", field="letter")
        typed = AccessRequestForm(**values)
        uow = uow_for(request)
        await run_in_threadpool(
            submit_access_request,
            uow,
            typed,
            form.files[0],
            client_address=uow.context.client_address,
            limiter=runtime_of(request).rate_limiter,
        )
    return redirect("/help/no-admin/sent")


@router.get("/sent")
def sent(request: Request) -> Response:
    # The same page whatever was typed: it never says whether the account exists.
    message = (
        f"{SUBMITTED} Once you confirm, you land on your request's page, which shows how it "
        "goes, starting with what we could read in your letter."
    )
    context = {"title": "Check your email", "message": message, "link": ("/", "Home")}
    return render(request, "message.html", context)
