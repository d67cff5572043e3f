"""The desk's canned replies: list, create, edit and delete the texts agents reuse.

The same use cases as ``/api/desk/canned-replies``; the services refuse anyone
but staff with MFA (S29), and staff without MFA are sent to enrol first (S18).
A refusal of the service (name taken, unknown placeholder, no such reply) comes
back as a message on this page, with what was typed kept in its form.
"""

from __future__ import annotations

import re
from contextlib import AbstractContextManager

from fastapi import APIRouter, Request, Response
from starlette.datastructures import FormData

from keyholder.db.uow import UnitOfWork
from keyholder.desk import canned
from keyholder.errors import InvalidInput, NotAuthenticated, PermissionDenied
from keyholder.identity.actor import Actor
from keyholder.web.deps import ReadUoW, UoW
from keyholder.web.ui.forms import (
    CSRF_CHECKED,
    CheckedForm,
    DeskUser,
    FormError,
    field,
    form_errors,
    uow_for,
)
from keyholder.web.ui.rendering import PageRoute, redirect, render

router = APIRouter(prefix="/desk/canned-replies", route_class=PageRoute, include_in_schema=False)

MAX_BODY = 20_000  # as the API's CannedReplyIn
PREVIEW = 120
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,99}$")
NOTICES = {
    "created": "The canned reply is created.",
    "saved": "The canned reply is saved.",
    "deleted": "The canned reply is deleted.",
}


def _preview(body: str) -> str:
    flat = " ".join(body.split())
    return flat if len(flat) <= PREVIEW else flat[: PREVIEW - 1] + "…"


def _name(value: str) -> str:
    name = value.strip()
    if not _NAME.match(name):
        raise InvalidInput(
            "a name is 1 to 100 lower-case letters, digits, '-' or '_', starting with a letter"
            " or digit"
        )
    return name


def _body(form: FormData) -> str:
    value = form.get("body")
    body = value[: MAX_BODY + 1] if isinstance(value, str) else ""
    if not body.strip():
        raise InvalidInput("write the reply's text first")
    if len(body) > MAX_BODY:
        raise InvalidInput(f"a canned reply can hold at most {MAX_BODY} characters")
    return body


def _canned_page(
    request: Request,
    uow: UnitOfWork,
    actor: Actor,
    *,
    new_name: str = "",
    new_body: str = "",
    drafts: dict[str, str] | None = None,
    error: str = "",
    notice: str = "",
    status: int = 200,
) -> Response:
    replies = canned.list_canned_replies(uow, actor=actor)
    context = {
        "title": "Canned replies",
        "replies": [(r, _preview(r.body)) for r in replies],
        "placeholders": canned.PLACEHOLDERS,
        "new_name": new_name,
        "new_body": new_body,
        "drafts": drafts or {},
        "error": error,
        "notice": notice,
    }
    return render(request, "canned_replies.html", context, status_code=status)


def _refused(
    request: Request,
    actor: Actor,
    *,
    new_name: str = "",
    new_body: str = "",
    drafts: dict[str, str] | None = None,
) -> AbstractContextManager[None]:
    """The page again with the service's refusal as a message; 401 and 403 stay error pages."""

    def show(refusal: FormError) -> Response:
        return _canned_page(
            request,
            uow_for(request, read_only=True),
            actor,
            new_name=new_name,
            new_body=new_body,
            drafts=drafts,
            error=refusal.detail,
            status=refusal.status,
        )

    return form_errors(show, as_error_page=(NotAuthenticated, PermissionDenied))


@router.get("")
def canned_page(request: Request, actor: DeskUser, uow: ReadUoW, done: str = "") -> Response:
    return _canned_page(request, uow, actor, notice=NOTICES.get(done, ""))


@router.post("")
def create(request: Request, actor: DeskUser, uow: UoW, form: CheckedForm) -> Response:
    typed_name, typed_body = field(form, "name"), form.get("body")
    kept_body = typed_body[:MAX_BODY] if isinstance(typed_body, str) else ""
    with _refused(request, actor, new_name=typed_name, new_body=kept_body):
        canned.save_canned_reply(uow, _name(typed_name), _body(form), actor=actor, create=True)
    return redirect("/desk/canned-replies?done=created")


@router.post("/{name}")
def edit(request: Request, name: str, actor: DeskUser, uow: UoW, form: CheckedForm) -> Response:
    typed_body = form.get("body")
    kept_body = typed_body[:MAX_BODY] if isinstance(typed_body, str) else ""
    with _refused(request, actor, drafts={name: kept_body}):
        canned.save_canned_reply(uow, name, _body(form), actor=actor, create=False)
    return redirect("/desk/canned-replies?done=saved")


@router.post("/{name}/delete", dependencies=[CSRF_CHECKED])
def delete(request: Request, name: str, actor: DeskUser, uow: UoW) -> Response:
    with _refused(request, actor):
        canned.delete_canned_reply(uow, name, actor=actor)
    return redirect("/desk/canned-replies?done=deleted")
