"""Gauges read from the database at each scrape, in one short read transaction.

Each query is an indexed lookup or an aggregate over rows that are few in a
healthy deployment (pending mail, open requests), so a scrape every 15 s costs
the database next to nothing:

- outbox: ``ix_outbox_due`` (status, next_attempt_at);
- access requests: ``ix_access_requests_state`` (state, cooling_off_until);
  pre-screens due are found among the open requests (a handful at any time);
- audit checkpoints and events: their primary keys (seq);
- relay heartbeats: ``beat_at``'s index.

A database that does not answer gives ``keyholder_database_up 0`` and no other
database series: the scrape itself still succeeds, with the in-process numbers.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector
from sqlalchemy import Connection, func, select
from sqlalchemy.exc import SQLAlchemyError

from keyholder.access.models import AccessRequest
from keyholder.access.states import RequestState, RequestVia
from keyholder.audit.models import AuditCheckpoint, AuditEvent
from keyholder.mail.models import OutboxMessage, OutboxStatus, RelayHeartbeat

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from keyholder.clock import Clock

log = logging.getLogger(__name__)

SOON = timedelta(hours=24)
# Every open state: prescreen_due is only ever set on requests in one of them.
_OPEN = (
    RequestState.SUBMITTED,
    RequestState.IN_REVIEW,
    RequestState.NEEDS_INFO,
    RequestState.APPROVED_ONCE,
    RequestState.COOLING_OFF,
)


class DatabaseCollector(Collector):
    """A ``prometheus_client`` collector over this deployment's database."""

    def __init__(self, engine: Engine, clock: Clock) -> None:
        self._engine = engine
        self._clock = clock

    def describe(self) -> list[Metric]:
        # Registering must not query the database (the client calls collect otherwise).
        return []

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "keyholder_database_up", "Whether the metrics' database read worked."
        )
        try:
            with self._engine.connect() as connection:
                if connection.dialect.name == "postgresql":
                    # One snapshot for every query (SQLite's read transaction is one).
                    connection.execution_options(
                        isolation_level="REPEATABLE READ", postgresql_readonly=True
                    )
                with connection.begin():
                    families = list(_read(connection, self._clock.now()))
        except SQLAlchemyError as exc:
            log.warning("metrics: the database read failed: %s", type(exc).__name__)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from families


def _age(now: datetime, then: datetime | None) -> float:
    return max((now - then).total_seconds(), 0.0) if then is not None else 0.0


def _read(connection: Connection, now: datetime) -> Iterator[Metric]:
    yield from _outbox(connection, now)
    yield from _requests(connection)
    yield from _jobs(connection, now)
    yield from _audit(connection, now)
    yield from _relay(connection, now)


def _outbox(connection: Connection, now: datetime) -> Iterator[Metric]:
    pending, oldest = connection.execute(
        select(func.count(), func.min(OutboxMessage.created_at)).where(
            OutboxMessage.status == OutboxStatus.PENDING
        )
    ).one()
    failed = connection.execute(
        select(func.count()).where(OutboxMessage.status == OutboxStatus.FAILED)
    ).scalar_one()
    yield GaugeMetricFamily(
        "keyholder_outbox_pending_messages", "Emails waiting in the outbox.", value=pending
    )
    yield GaugeMetricFamily(
        "keyholder_outbox_oldest_pending_age_seconds",
        "Age of the oldest email waiting in the outbox (0 when none waits).",
        value=_age(now, oldest),
    )
    yield GaugeMetricFamily(
        "keyholder_outbox_failed_messages",
        "Emails the relay gave up on, kept for an operator.",
        value=failed,
    )


def _requests(connection: Connection) -> Iterator[Metric]:
    by_state = {
        (state, via): count
        for state, via, count in connection.execute(
            select(AccessRequest.state, AccessRequest.via, func.count()).group_by(
                AccessRequest.state, AccessRequest.via
            )
        )
    }
    requests = GaugeMetricFamily(
        "keyholder_access_requests", "Admin-access requests by state.", labels=["state"]
    )
    for state in RequestState:
        requests.add_metric(
            [state.value], sum(n for (s, _via), n in by_state.items() if s == state)
        )
    yield requests
    grants = CounterMetricFamily(
        "keyholder_access_grants_executed",
        "Admin-access requests executed (manage granted), by how they came.",
        labels=["via"],
    )
    for via in RequestVia:
        grants.add_metric([via.value], by_state.get((RequestState.EXECUTED, via), 0))
    yield grants


def _jobs(connection: Connection, now: datetime) -> Iterator[Metric]:
    cooling = AccessRequest.state == RequestState.COOLING_OFF
    ending_soon = connection.execute(
        select(func.count()).where(
            cooling,
            AccessRequest.cooling_off_until > now,
            AccessRequest.cooling_off_until <= now + SOON,
        )
    ).scalar_one()
    yield GaugeMetricFamily(
        "keyholder_cooling_offs_ending_24h",
        "Cooling-offs that end (and grant, unless vetoed) within the next 24 hours.",
        value=ending_soon,
    )

    execution_due, oldest_execution = connection.execute(
        select(func.count(), func.min(AccessRequest.cooling_off_until)).where(
            cooling, AccessRequest.cooling_off_until <= now
        )
    ).one()
    prescreen_due, oldest_prescreen = connection.execute(
        select(
            func.count(),
            # Due since its requester confirmed (intake sets prescreen_due then).
            func.min(func.coalesce(AccessRequest.requester_confirmed_at, AccessRequest.created_at)),
        ).where(AccessRequest.state.in_(_OPEN), AccessRequest.prescreen_due.is_(True))
    ).one()
    lag = GaugeMetricFamily(
        "keyholder_job_lag_seconds",
        "How long the oldest item due for a background job has waited (0 when none is due).",
        labels=["job"],
    )
    lag.add_metric(["execution"], _age(now, oldest_execution))
    lag.add_metric(["prescreen"], _age(now, oldest_prescreen))
    yield lag
    due = GaugeMetricFamily(
        "keyholder_job_due_items", "Items due for a background job now.", labels=["job"]
    )
    due.add_metric(["execution"], execution_due)
    due.add_metric(["prescreen"], prescreen_due)
    yield due


def _relay(connection: Connection, now: datetime) -> Iterator[Metric]:
    beat = connection.execute(select(func.max(RelayHeartbeat.beat_at))).scalar_one_or_none()
    if beat is not None:  # absent when no relay ever ran: the alert looks for absence too
        yield GaugeMetricFamily(
            "keyholder_mail_relay_heartbeat_age_seconds",
            "Time since a mail relay last made a pass over the outbox.",
            value=_age(now, beat),
        )


def _audit(connection: Connection, now: datetime) -> Iterator[Metric]:
    checkpoint = connection.execute(
        select(AuditCheckpoint.seq, AuditCheckpoint.at)
        .order_by(AuditCheckpoint.seq.desc())
        .limit(1)
    ).one_or_none()
    head = connection.execute(select(func.max(AuditEvent.seq))).scalar_one_or_none() or 0
    anchored = checkpoint.seq if checkpoint is not None else 0
    yield GaugeMetricFamily(
        "keyholder_audit_events_unanchored",
        "Audit events newer than the last signed checkpoint (S36).",
        value=max(head - anchored, 0),
    )
    if checkpoint is not None:
        yield GaugeMetricFamily(
            "keyholder_audit_checkpoint_age_seconds",
            "Time since the newest signed audit checkpoint (S36).",
            value=_age(now, checkpoint.at),
        )
