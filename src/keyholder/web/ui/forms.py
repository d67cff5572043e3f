"""Dependencies of page routes: the signed-in user, and form posts checked for CSRF (S19)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from starlette.datastructures import FormData

from keyholder.bootstrap import Runtime
from keyholder.db.uow import UnitOfWork
from keyholder.errors import InvalidInput
from keyholder.identity.actor import Actor
from keyholder.web.deps import request_context
from keyholder.web.inputs import NUL_REFUSED, contains_nul
from keyholder.web.ui import csrf
from keyholder.web.ui.rendering import EnrolMfaFirst, page_actor, require_actor
from keyholder.web.uploads import UploadForm, read_upload_form

MAX_FIELD = 4096


def runtime_of(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def uow_for(request: Request, *, read_only: bool = False) -> UnitOfWork:
    """A unit of work that records this request's client address and id in the audit log."""
    return runtime_of(request).uow(request_context(request), read_only=read_only)


async def _optional_actor(request: Request) -> Actor | None:
    return page_actor(request)


async def _signed_in(request: Request) -> Actor:
    return require_actor(request)


async def _desk_user(request: Request) -> Actor:
    # Only the way there: whether someone may act as staff is the services' decision.
    actor = require_actor(request)
    if actor.staff_role is not None and not actor.mfa_enabled:
        raise EnrolMfaFirst
    return actor


async def _checked_form(request: Request) -> FormData:
    form = await request.form(max_files=0, max_fields=100)
    csrf.check_token(request, runtime_of(request).settings.secret, form.get(csrf.CSRF_FIELD))
    if contains_nul(form.multi_items()):
        raise InvalidInput(NUL_REFUSED)  # S39
    return form


MaybeActor = Annotated[Actor | None, Depends(_optional_actor)]
SignedIn = Annotated[Actor, Depends(_signed_in)]
# A signed-in user on a desk page; staff without MFA are sent to enrol first (S18).
DeskUser = Annotated[Actor, Depends(_desk_user)]
CheckedForm = Annotated[FormData, Depends(_checked_form)]
# For a post whose form has no other field than its token: ``dependencies=[CSRF_CHECKED]``.
CSRF_CHECKED = Depends(_checked_form)


async def checked_upload(request: Request, *, max_files: int = 10) -> UploadForm:
    """A multipart form with files, read within the size limits while it streams (S33),
    then checked for its CSRF token (S19) before anything acts on it."""
    settings = runtime_of(request).settings
    form = await read_upload_form(
        request, max_bytes=settings.attachment_max_bytes, max_files=max_files
    )
    csrf.check_token(request, settings.secret, form.fields.get(csrf.CSRF_FIELD))
    return form


def upload_field(form: UploadForm, name: str, limit: int = MAX_FIELD) -> str:
    """A text field of an upload form ('' when absent), cut to ``limit`` characters."""
    return form.fields.get(name, "")[:limit]


def field(form: FormData, name: str) -> str:
    """A text field of a form ('' when absent), cut to a sane length."""
    value = form.get(name)
    return value[:MAX_FIELD] if isinstance(value, str) else ""


def fields(form: FormData, name: str) -> list[str]:
    """Every value of a repeated field (checkboxes)."""
    return [value[:MAX_FIELD] for value in form.getlist(name) if isinstance(value, str)]
