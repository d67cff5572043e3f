"""The support desk's queue: filters, counts per status, keyset pages and bulk status.

The same use cases as ``/api/desk/tickets``; the services refuse anyone but
staff with MFA (S29), and staff without MFA are sent to enrol first (S18).
Filters come from a GET form, so a filtered queue is a link to share.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TypeVar
from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response

from keyholder.db.uow import UnitOfWork
from keyholder.desk import overview, service
from keyholder.desk.models import TicketKind, TicketStatus
from keyholder.desk.queue import QueueFilter, QueueSort, QueueState
from keyholder.errors import InvalidInput, NotAuthenticated, PermissionDenied
from keyholder.identity.actor import Actor
from keyholder.web.deps import ReadUoW, UoW
from keyholder.web.inputs import row_number
from keyholder.web.ui.forms import (
    CheckedForm,
    DeskUser,
    FormError,
    field,
    fields,
    form_errors,
    runtime_of,
    uow_for,
)
from keyholder.web.ui.rendering import PageRoute, local_path, redirect, render

router = APIRouter(prefix="/desk", route_class=PageRoute, include_in_schema=False)

PAGE = 50
DONE_STATUSES = frozenset({TicketStatus.SOLVED, TicketStatus.CLOSED})
E = TypeVar("E", bound=StrEnum)


def _choice(kind: type[E], value: str | None, what: str) -> E | None:
    if not value:
        return None
    try:
        return kind(value)
    except ValueError:
        raise InvalidInput(f"there is no {what} {value!r}") from None


def _text(value: str | None, limit: int) -> str | None:
    cleaned = (value or "").strip()[:limit]
    return cleaned or None


def _wanted(request: Request) -> QueueFilter:
    params = request.query_params
    after = params.get("after", "")
    return QueueFilter(
        state=_choice(QueueState, params.get("state"), "state") or QueueState.OPEN,
        statuses=frozenset(
            s for s in (_choice(TicketStatus, v, "status") for v in params.getlist("status")) if s
        ),
        assignee=_text(params.get("assignee"), 320),
        group=_text(params.get("group"), 64),
        account=_text(params.get("account"), 64),
        kind=_choice(TicketKind, params.get("kind"), "kind"),
        sort=_choice(QueueSort, params.get("sort"), "sort") or QueueSort.NEWEST,
        limit=PAGE,
        after=row_number(after),
    )


def _query(wanted: QueueFilter, **changes: object) -> str:
    values: dict[str, object] = {
        "state": wanted.state.value,
        "status": sorted(s.value for s in wanted.statuses),
        "assignee": wanted.assignee or "",
        "group": wanted.group or "",
        "account": wanted.account or "",
        "kind": wanted.kind.value if wanted.kind else "",
        "sort": wanted.sort.value,
        **changes,
    }
    kept = {k: v for k, v in values.items() if v not in ("", [], None)}
    return urlencode(kept, doseq=True)


def _queue_page(
    request: Request,
    uow: UnitOfWork,
    actor: Actor,
    *,
    error: str = "",
    notice: str = "",
    status: int = 200,
) -> Response:
    try:
        wanted = _wanted(request)
    except InvalidInput as exc:
        wanted, error, status = QueueFilter(limit=PAGE), exc.detail, 422
    page = overview.desk_queue(uow, wanted, actor=actor)
    rows = page.rows
    next_page = None
    if len(rows) == PAGE and wanted.sort is not QueueSort.DUE:
        next_page = "/desk?" + _query(wanted, after=rows[-1].ticket.id)
    counts = page.open_counts
    context = {
        "title": "Support desk",
        "rows": rows,
        "now": page.now,
        "counts": [(s, counts.get(s, 0)) for s in TicketStatus if s not in DONE_STATUSES],
        "wanted": wanted,
        "statuses": list(TicketStatus),
        "states": list(QueueState),
        "kinds": list(TicketKind),
        "sorts": list(QueueSort),
        "groups": runtime_of(request).settings.desk_groups,
        "here": "/desk?" + _query(wanted, after=wanted.after or ""),
        "next_page": next_page,
        "first_page": "/desk?" + _query(wanted) if wanted.after else None,
        "error": error,
        "notice": notice,
    }
    return render(request, "desk_queue.html", context, status_code=status)


@router.get("")
def queue_page(request: Request, actor: DeskUser, uow: ReadUoW, done: str = "") -> Response:
    notice = f"{done} ticket(s) updated." if done.isdigit() else ""
    return _queue_page(request, uow, actor, notice=notice)


@router.post("/bulk-status")
def bulk_status(request: Request, actor: DeskUser, uow: UoW, form: CheckedForm) -> Response:
    back = local_path(field(form, "back"), "/desk")

    def show(refusal: FormError) -> Response:
        read = uow_for(request, read_only=True)
        return _queue_page(request, read, actor, error=refusal.detail, status=refusal.status)

    with form_errors(show, as_error_page=(NotAuthenticated, PermissionDenied)):
        ticked = [row_number(n) for n in fields(form, "ticket")]
        numbers = [n for n in ticked if n is not None]
        if len(numbers) < len(ticked):
            raise InvalidInput("a ticked ticket is not a ticket number")
        if not numbers:
            raise InvalidInput("tick at least one ticket first")
        target = _choice(TicketStatus, field(form, "status"), "status")
        if target is None:
            raise InvalidInput("choose the status to move the tickets to")
        moved = service.bulk_change_status(uow, numbers, target, actor=actor)
    separator = "&" if "?" in back else "?"
    return redirect(f"{back}{separator}done={len(moved)}")
