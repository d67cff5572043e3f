"""The API's queue page from plain rows is byte for byte the page the models made.

``GET /api/desk/tickets`` answers from ``queue.list_queue_rows`` through
``desk.schemas.staff_summaries_json``, not from ORM tickets through
``StaffTicketSummary`` and FastAPI's response validation (the desk's hottest
read; benchmarks/README.md). Here both paths run on the same tickets, which
cover every field and every SLA state, for every kind of filter, and must
agree exactly: same tickets, same order, same JSON text.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import pytest
from pydantic import TypeAdapter
from sqlalchemy import update

from keyholder.bootstrap import Runtime
from keyholder.desk.models import Ticket, TicketKind, TicketPriority, TicketStatus
from keyholder.desk.queue import (
    NOBODY,
    ROW_FIELDS,
    QueueFilter,
    QueueSort,
    QueueState,
    list_queue,
    list_queue_rows,
)
from keyholder.desk.schemas import (
    StaffTicketSummary,
    staff_summaries_json,
    staff_summary,
)
from keyholder.errors import InvalidInput, PermissionDenied
from keyholder.identity.actor import Actor
from keyholder.identity.models import StaffRole
from tests.factories import Factories

DESK = "/api/desk/tickets"
_PAGE = TypeAdapter(list[StaffTicketSummary])


def model_json(runtime: Runtime, wanted: QueueFilter, actor: Actor, now: datetime) -> bytes:
    """What the route sent before: the models, validated and written by FastAPI's JSONResponse."""
    rows = list_queue(runtime.uow(read_only=True), wanted, actor=actor)
    content = _PAGE.dump_python([staff_summary(row, now) for row in rows], mode="json")
    return json.dumps(
        content, ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":")
    ).encode()


def rows_json(runtime: Runtime, wanted: QueueFilter, actor: Actor, now: datetime) -> bytes:
    rows = list_queue_rows(runtime.uow(read_only=True), wanted, actor=actor)
    return staff_summaries_json(rows, now)


def _set(runtime: Runtime, ticket: Ticket, **values: Any) -> None:
    with runtime.engine.begin() as connection:
        connection.execute(update(Ticket).where(Ticket.id == ticket.id).values(**values))


@pytest.fixture
def desk(factories: Factories, runtime: Runtime) -> dict[str, Any]:
    """Tickets in every state the summary shows differently."""
    agent = factories.staff("agent@example.com")
    other_agent = factories.staff("other@example.com")
    carol = factories.user("carol@customer.example", name='Carol "Ç" Customer\u2028')
    acme = factories.account("acme")
    factories.member(acme, carol)
    now = runtime.clock.now()
    hour = timedelta(hours=1)
    plain = factories.ticket(carol, subject="Plain")
    odd = factories.ticket(carol, subject='Ünïcode, "quotes", \\ and \x01 control', account=acme)
    _set(
        runtime,
        odd,
        assignee_id=agent.id,
        group="billing",
        priority=TicketPriority.URGENT,
        updated_at=now + 5 * hour,  # unlike created_at: a swap of the two would show
    )
    answered = factories.ticket(carol, subject="Answered in time", account=acme)
    _set(
        runtime,
        answered,
        status=TicketStatus.OPEN,
        first_responded_at=now + hour,
        assignee_id=other_agent.id,
    )
    paused = factories.ticket(carol, subject="Waiting on the customer")
    _set(
        runtime,
        paused,
        status=TicketStatus.PENDING,
        sla_paused_since=now + 2 * hour,
        kind=TicketKind.ADMIN_ACCESS,
    )
    solved = factories.ticket(carol, subject="Solved", account=acme)
    _set(runtime, solved, status=TicketStatus.SOLVED, is_open=False, solved_at=now + 3 * hour)
    closed = factories.ticket(carol, subject="Closed late")
    _set(
        runtime,
        closed,
        status=TicketStatus.CLOSED,
        is_open=False,
        closed_at=now + timedelta(days=30),
        first_responded_at=now + timedelta(microseconds=1),
    )
    return {
        "agent": Actor.for_user(agent),
        "numbers": [t.id for t in (plain, odd, answered, paused, solved, closed)],
    }


FILTERS = [
    QueueFilter(),
    QueueFilter(state=QueueState.ALL),
    QueueFilter(state=QueueState.DONE, sort=QueueSort.OLDEST),
    QueueFilter(state=QueueState.ALL, sort=QueueSort.DUE),
    QueueFilter(statuses=frozenset({TicketStatus.NEW, TicketStatus.PENDING})),
    QueueFilter(state=QueueState.ALL, account="acme"),
    QueueFilter(account="nobody-here"),
    QueueFilter(assignee="me"),
    QueueFilter(assignee=NOBODY, sort=QueueSort.OLDEST),
    QueueFilter(assignee="Other@Example.com"),
    QueueFilter(assignee="stranger@example.com"),
    QueueFilter(group="billing", kind=TicketKind.GENERAL),
    QueueFilter(kind=TicketKind.ADMIN_ACCESS),
    QueueFilter(state=QueueState.ALL, limit=2),
    QueueFilter(state=QueueState.ALL, limit=3, after=10**9),
    QueueFilter(state=QueueState.ALL, sort=QueueSort.OLDEST, after=0),
]


@pytest.mark.parametrize("wanted", FILTERS, ids=repr)
def test_rows_make_the_same_json_as_the_models(runtime, desk, wanted):
    # Before every due time, between them and long after: the SLA flags flip.
    start = runtime.clock.now()
    for now in (start, start + timedelta(hours=30), start + timedelta(days=400)):
        expected = model_json(runtime, wanted, desk["agent"], now)
        assert rows_json(runtime, wanted, desk["agent"], now) == expected


def test_every_ticket_and_state_is_on_some_page(runtime, desk):
    # A guard for whoever edits the fixture: the comparison covers what it claims.
    now = runtime.clock.now() + timedelta(hours=30)
    page = json.loads(rows_json(runtime, QueueFilter(state=QueueState.ALL), desk["agent"], now))
    assert sorted(t["number"] for t in page) == sorted(desk["numbers"])
    assert {t["status"] for t in page} == {"new", "open", "pending", "solved", "closed"}
    assert {t["sla"]["paused"] for t in page} == {True, False}
    assert {t["sla"]["resolution_breached"] for t in page} == {True, False}
    assert {t["sla"]["first_response_breached"] for t in page} == {True, False}
    assert {t["account"] for t in page} == {"acme", None}
    assert {t["assignee"] for t in page} == {"agent@example.com", "other@example.com", None}
    assert any(t["created_at"] != t["updated_at"] for t in page)
    rows = list_queue_rows(runtime.uow(read_only=True), QueueFilter(), actor=desk["agent"])
    assert rows[0]._fields == ROW_FIELDS  # the order staff_summaries_json unpacks


def test_the_same_refusals_as_the_models(runtime, factories, desk):
    uow = runtime.uow
    with pytest.raises(InvalidInput):
        list_queue_rows(uow(read_only=True), QueueFilter(limit=0), actor=desk["agent"])
    with pytest.raises(InvalidInput):
        list_queue_rows(
            uow(read_only=True), QueueFilter(sort=QueueSort.DUE, after=3), actor=desk["agent"]
        )
    customer = Actor.for_user(factories.user())
    unenrolled = Actor.for_user(factories.user(staff_role=StaffRole.ADMIN, mfa=False))
    for actor in (customer, unenrolled):
        with pytest.raises(PermissionDenied):
            list_queue_rows(uow(read_only=True), QueueFilter(), actor=actor)


def test_the_route_sends_the_rows_json(client, runtime, factories, desk):
    headers = factories.auth(factories.staff())
    staff = desk["agent"]
    for params, wanted in (
        ({}, QueueFilter()),
        (
            {"state": "all", "account": "acme", "limit": 2},
            QueueFilter(state=QueueState.ALL, account="acme", limit=2),
        ),
    ):
        response = client.get(DESK, params=params, headers=headers)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "application/json"
        assert response.content == model_json(runtime, wanted, staff, runtime.clock.now())


def test_the_route_still_documents_its_response(client):
    spec = client.get("/api/openapi.json").json()
    ok = spec["paths"][DESK]["get"]["responses"]["200"]["content"]["application/json"]
    assert ok["schema"] == {
        "type": "array",
        "items": {"$ref": "#/components/schemas/StaffTicketSummary"},
        "title": "Response List Tickets Api Desk Tickets Get",
    }
    fields = spec["components"]["schemas"]["StaffTicketSummary"]["properties"]
    assert list(fields) == list(StaffTicketSummary.model_fields)
