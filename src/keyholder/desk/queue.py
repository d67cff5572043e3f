"""The staff queue: tickets filtered and sorted, one indexed query per page.

"Newest open tickets" is the desk's hottest read. ``tickets.is_open`` and
the composite indexes ``(is_open, id)``, ``(account_id, is_open, id)``,
``(assignee_id, is_open, id)`` and ``(group, is_open, id)`` let both engines
read a page straight off an index in id order, without sorting 150,000 open
tickets (tests/desk/test_queue_plan.py checks the plans).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, TypeVar

from sqlalchemy import Row, Select, func, select
from sqlalchemy.orm import Session, aliased

from keyholder.accounts.models import EnterpriseAccount
from keyholder.db.engine import single_read
from keyholder.db.tx import Tx
from keyholder.db.uow import UnitOfWork
from keyholder.desk.models import Ticket, TicketKind, TicketStatus
from keyholder.desk.policy import require_staff
from keyholder.desk.states import OPEN_STATUSES
from keyholder.errors import InvalidInput
from keyholder.identity.actor import Actor
from keyholder.identity.emails import normalize_email
from keyholder.identity.models import User

MAX_PAGE = 100
_S = TypeVar("_S", bound=Select[Any])
# Made once: an alias built per request costs more than the query it joins.
_ASSIGNEE = aliased(User, name="assignee")

# The API's page (``list_queue_rows``) in plain tables: an ORM attribute
# anywhere in a statement sends it through the ORM's compile and result
# machinery, which cost as much as the query itself.
_TICKETS = Ticket.__table__
_ACCOUNTS = EnterpriseAccount.__table__
_ASSIGNEES = User.__table__.alias("assignee")
# Only what the API shows and the SLA rules read: every column costs a
# conversion (a UUID, a UTC datetime) per row. In this order, which
# desk.schemas.staff_summaries_json unpacks rows by.
ROW_FIELDS = (
    "id",
    "subject",
    "kind",
    "status",
    "priority",
    "group",
    "requester_email",
    "requester_name",
    "is_open",
    "created_at",
    "updated_at",
    "first_response_due_at",
    "first_responded_at",
    "resolution_due_at",
    "sla_paused_since",
    "solved_at",
    "closed_at",
    "account_name",
    "assignee_email",
)
# A row of ROW_FIELDS: any number of columns to the type checker.
PageRow = Row[*tuple[Any, ...]]
# Built once: the 19 columns and the joins cost more to build than to run.
_ROWS = select(
    *(_TICKETS.c[name] for name in ROW_FIELDS[:-2]),
    _ACCOUNTS.c.name.label("account_name"),
    _ASSIGNEES.c.email.label("assignee_email"),
).select_from(
    _TICKETS.outerjoin(_ACCOUNTS, _ACCOUNTS.c.id == _TICKETS.c.account_id).outerjoin(
        _ASSIGNEES, _ASSIGNEES.c.id == _TICKETS.c.assignee_id
    )
)


class QueueState(StrEnum):
    OPEN = "open"  # new, open, pending, on hold
    DONE = "done"  # solved or closed
    ALL = "all"


class QueueSort(StrEnum):
    NEWEST = "newest"
    OLDEST = "oldest"
    DUE = "due"  # resolution due soonest first


NOBODY = "none"  # assignee filter: unassigned tickets


@dataclass(frozen=True, slots=True)
class QueueFilter:
    state: QueueState = QueueState.OPEN
    statuses: frozenset[TicketStatus] = field(default_factory=frozenset)
    assignee: str | None = None  # an email, "me" or "none"
    group: str | None = None
    account: str | None = None
    kind: TicketKind | None = None
    sort: QueueSort = QueueSort.NEWEST
    limit: int = 50
    # Keyset paging: tickets after this number in the chosen order (not for "due").
    after: int | None = None


@dataclass(frozen=True, slots=True)
class QueueRow:
    ticket: Ticket
    account_name: str | None
    assignee_email: str | None


def list_queue(uow: UnitOfWork, wanted: QueueFilter, *, actor: Actor) -> Sequence[QueueRow]:
    """A page of the queue for staff (S29): filtered, sorted, at most ``MAX_PAGE`` rows."""
    check_filter(wanted, actor)
    with uow:
        return queue_rows(uow, wanted, actor=actor)


def queue_rows(tx: Tx, wanted: QueueFilter, *, actor: Actor) -> Sequence[QueueRow]:
    """``list_queue`` in the caller's transaction, after ``check_filter``."""
    tickets = _filtered(tx, wanted, select(Ticket), Ticket, actor=actor)
    if tickets is None:
        return []
    # Joined flat, not around a subquery: both plan the same index walk, and
    # the flat statement costs half as much to build on every request.
    query = (
        tickets.add_columns(EnterpriseAccount.name, _ASSIGNEE.email)
        .outerjoin(EnterpriseAccount, EnterpriseAccount.id == Ticket.account_id)
        .outerjoin(_ASSIGNEE, _ASSIGNEE.id == Ticket.assignee_id)
        .limit(wanted.limit)
    )
    return [QueueRow(t, name, email) for t, name, email in tx.session.execute(query)]


def list_queue_rows(uow: UnitOfWork, wanted: QueueFilter, *, actor: Actor) -> Sequence[PageRow]:
    """The page ``list_queue`` returns, as plain rows of ``ROW_FIELDS``.

    For the API's queue, the desk's hottest read: an ORM entity per ticket and
    the ORM's statement handling were most of its time (benchmarks/README.md).
    Same checks, filters, order and plan as ``list_queue``.
    """
    check_filter(wanted, actor)
    with uow:
        # Autocommit on PostgreSQL: the page, after an account's or an assignee's
        # lookup, each statement with its own snapshot, as READ COMMITTED gives.
        connection = single_read(uow.session)
        query = _filtered(uow, wanted, _ROWS, _TICKETS.c, actor=actor)
        if query is None:
            return []
        return connection.execute(query.limit(wanted.limit)).all()


def check_filter(wanted: QueueFilter, actor: Actor) -> None:
    """Refuses anyone but staff (S29), and a filter the queue cannot answer."""
    require_staff(actor)
    if not 1 <= wanted.limit <= MAX_PAGE:
        raise InvalidInput(f"limit must be between 1 and {MAX_PAGE}")
    if wanted.after is not None and wanted.sort is QueueSort.DUE:
        raise InvalidInput("paging with 'after' works with the newest and oldest sorts")


def _filtered(tx: Tx, wanted: QueueFilter, query: _S, t: Any, *, actor: Actor) -> _S | None:
    """``query`` filtered and ordered; None when a filter names nothing that exists.

    ``t`` has the ticket's columns as attributes: ``Ticket`` for an ORM query,
    the table's ``c`` for a Core one.
    """
    if wanted.state is QueueState.OPEN:
        query = query.where(t.is_open.is_(True))
    elif wanted.state is QueueState.DONE:
        query = query.where(t.is_open.is_(False))
    if wanted.statuses:
        query = query.where(t.status.in_(sorted(wanted.statuses)))
    if wanted.kind is not None:
        query = query.where(t.kind == wanted.kind)
    if wanted.group is not None:
        query = query.where(t.group == wanted.group)
    if wanted.account is not None:
        # Looked up first, not as a subquery in the page's statement: PostgreSQL
        # plans a subquery's value with average statistics and, for the biggest
        # account, read all its 12,166 open tickets and sorted them (17 ms on
        # benchmarks/desk_queue.py's data) instead of walking 50 off the index.
        # The id alone, from the table: an ORM entity costs more than the page.
        account_id = tx.session.scalar(
            select(_ACCOUNTS.c.id).where(_ACCOUNTS.c.name == wanted.account)
        )
        if account_id is None:
            return None
        query = query.where(t.account_id == account_id)
    if wanted.assignee is not None:
        assignee_id = _assignee_id(tx, wanted.assignee, actor=actor)
        if assignee_id is False:
            return None
        query = query.where(t.assignee_id == assignee_id)  # None: "IS NULL"
    if wanted.after is not None:
        newest = wanted.sort is QueueSort.NEWEST
        query = query.where(t.id < wanted.after if newest else t.id > wanted.after)
    if wanted.state is QueueState.ALL or wanted.sort is QueueSort.DUE:
        return query.order_by(*_order(t, wanted.sort))
    return query.order_by(*_index_order(wanted, t))


def _index_order(wanted: QueueFilter, t: Any) -> tuple[Any, ...]:
    """ORDER BY the columns the WHERE fixes, then id: the order of a composite index.

    Ordering by a column the WHERE fixes changes no result, but it leaves only
    the (..., is_open, id) indexes able to hand over the rows in order. By id
    alone, PostgreSQL often rates a walk of the primary key that filters on
    is_open as cheaper (it takes the open tickets to be spread evenly over the
    ids): a walk whose length depends on where they really sit, past every
    closed ticket for the oldest open. ``assignee_id IS NULL`` does not fix a
    column for PostgreSQL's ordering at all: without the term it sorts what it
    reads from the assignee index. SQLite sees both columns as fixed, drops
    the terms and plans as before. Backwards, a B-tree gives NULLs first.
    """
    newest = wanted.sort is QueueSort.NEWEST
    order: list[Any] = []
    if wanted.assignee == NOBODY:
        order.append(
            t.assignee_id.desc().nulls_first() if newest else t.assignee_id.asc().nulls_last()
        )
    order.append(t.is_open.desc() if newest else t.is_open.asc())
    order.append(t.id.desc() if newest else t.id.asc())
    return tuple(order)


def _assignee_id(tx: Tx, assignee: str, *, actor: Actor) -> uuid.UUID | bool | None:
    if assignee == NOBODY:
        return None
    if assignee == "me":
        return actor.user_id if actor.user_id is not None else False
    users = User.__table__.c
    user_id = tx.session.scalar(select(users.id).where(users.email == normalize_email(assignee)))
    return user_id if user_id is not None else False


def _order(model: Any, sort: QueueSort) -> tuple[Any, ...]:
    if sort is QueueSort.OLDEST:
        return (model.id.asc(),)
    if sort is QueueSort.DUE:
        return (model.resolution_due_at.asc(), model.id.asc())
    return (model.id.desc(),)


def count_open_by_status(uow: UnitOfWork, *, actor: Actor) -> dict[TicketStatus, int]:
    """How many open tickets are in each open status (the queue's header)."""
    require_staff(actor)
    with uow:
        return open_counts(uow.session)


def open_counts(session: Session) -> dict[TicketStatus, int]:
    """``count_open_by_status`` in the caller's transaction, for a reader who is staff."""
    # By status IN (…), not is_open: a covering walk of ix_tickets_status.
    rows = session.execute(
        select(Ticket.status, func.count())
        .where(Ticket.status.in_(sorted(OPEN_STATUSES)))
        .group_by(Ticket.status)
    ).all()
    return {status: count for status, count in rows}  # noqa: C416 - typed keys
