"""Dependencies of page routes: the signed-in user, and form posts checked for CSRF (S19);
and ``form_errors``, the one way a refused form is shown again."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request, Response
from starlette.datastructures import FormData

from keyholder.errors import InvalidInput, KeyholderError
from keyholder.identity.actor import Actor
from keyholder.web.deps import runtime_of, uow_for
from keyholder.web.inputs import NUL_REFUSED, contains_nul
from keyholder.web.problems import error_headers
from keyholder.web.ui import csrf
from keyholder.web.ui.rendering import (
    EnrolMfaFirst,
    EnrolPasskeyFirst,
    ShowPage,
    page_actor,
    render,
    require_actor,
)
from keyholder.web.uploads import UploadForm, read_upload_form

__all__ = [
    "CSRF_CHECKED",
    "MAX_FIELD",
    "CheckedForm",
    "DeskUser",
    "FormError",
    "MaybeActor",
    "SignedIn",
    "checked_upload",
    "field",
    "fields",
    "form_errors",
    "link_errors",
    # Defined in web.deps beside the API's aliases; the page modules take them from here.
    "runtime_of",
    "uow_for",
    "upload_field",
]

MAX_FIELD = 4096


async def _optional_actor(request: Request) -> Actor | None:
    return page_actor(request)


async def _signed_in(request: Request) -> Actor:
    return require_actor(request)


async def _desk_user(request: Request) -> Actor:
    # Only the way there: whether someone may act as staff is the services' decision.
    actor = require_actor(request)
    if actor.staff_role is not None and not actor.mfa_enabled:
        raise EnrolMfaFirst
    if actor.staff_role is not None and actor.lacks_required_factor:
        raise EnrolPasskeyFirst
    return actor


async def _checked_form(request: Request) -> FormData:
    form = await request.form(max_files=0, max_fields=100)
    csrf.check_token(request, runtime_of(request).settings.secret, form.get(csrf.CSRF_FIELD))
    if contains_nul(form.multi_items()):
        raise InvalidInput(NUL_REFUSED)  # S39
    return form


MaybeActor = Annotated[Actor | None, Depends(_optional_actor)]
SignedIn = Annotated[Actor, Depends(_signed_in)]
# A signed-in user on a desk page; staff without MFA are sent to enrol first (S18), and
# staff not signed in with a passkey too when the policy asks for one.
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


@dataclass(frozen=True, slots=True)
class FormError:
    """A refused form, as the page that shows it again needs it."""

    detail: str  # the service's message
    status: int  # the status the API answers for the same error
    field: str | None = None  # the input at fault, when the service named one
    # What the service raised, for a page that offers a next step for one kind of
    # refusal (a change held back for a confirmation); not part of what is shown.
    kind: type[KeyholderError] = dataclasses.field(default=KeyholderError, compare=False)

    @property
    def sentence(self) -> str:
        """``detail`` with a capital first letter, for pages that show it as typed."""
        return self.detail[:1].upper() + self.detail[1:]


@contextmanager
def form_errors(
    show: Callable[[FormError], Response],
    *,
    as_error_page: tuple[type[KeyholderError], ...] = (),
    only: tuple[type[KeyholderError], ...] = (KeyholderError,),
) -> Iterator[None]:
    """A service's refusal inside the block shows the form again: ``show`` renders it
    with the user's input kept, at the error's status and with its headers (Retry-After),
    as the API would answer. Errors of ``as_error_page`` are left to the error page
    (someone else's ticket is a 404 page, not a form, S30); errors not in ``only`` go on
    to an enclosing ``form_errors`` that shows them another way."""
    try:
        yield
    except KeyholderError as exc:
        if isinstance(exc, as_error_page) or not isinstance(exc, only):
            raise
        field = exc.field if isinstance(exc, InvalidInput) else None
        response = show(FormError(exc.detail, exc.status_code, field, type(exc)))
        for name, value in error_headers(exc).items():
            response.headers.setdefault(name, value)
        raise ShowPage(response) from exc


def link_errors(request: Request) -> AbstractContextManager[None]:
    """``form_errors`` for a page behind a link in an email: a refused link (used, expired,
    wrong) shows why instead of the page or form behind it."""

    def show(refusal: FormError) -> Response:
        context = {"title": "This link does not work", "detail": refusal.detail, "reset": False}
        return render(request, "link_dead.html", context, status_code=refusal.status)

    return form_errors(show)
