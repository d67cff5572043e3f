"""The relay: delivers committed outbox rows, with retries and backoff.

Claiming is a short transaction that leases due rows (on PostgreSQL with
``FOR UPDATE SKIP LOCKED``, so concurrent relays never claim the same row;
on SQLite the write lock serialises claims). Sending happens outside any
transaction, then a second short transaction records each outcome. A relay
that dies after sending but before recording leaves a lapsed lease, and the
message is sent again later: delivery is at-least-once, with a stable
Message-ID so receivers can drop the duplicate.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import or_, select

from keyholder.db.uow import UnitOfWork
from keyholder.mail.heartbeat import beat, this_process
from keyholder.mail.models import REDACTED_BODY, OutboxMessage, OutboxStatus
from keyholder.mail.outbox import to_email_message
from keyholder.mail.transports import (
    MailTransport,
    PermanentDeliveryError,
    TemporaryDeliveryError,
)

log = logging.getLogger(__name__)

BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_CAP = timedelta(hours=1)
LEASE = timedelta(minutes=5)


def backoff(attempts: int) -> timedelta:
    """Delay before the next try after ``attempts`` failed ones: 30 s, 1 min, 2 min, … 1 h."""
    # Clamp the exponent: the cap is reached long before, and 30 s * 2**42 would
    # overflow timedelta (crashing _record) under a generous relay_max_attempts.
    delay: timedelta = BACKOFF_BASE * 2 ** min(max(attempts - 1, 0), 32)
    return min(delay, BACKOFF_CAP)


@dataclass
class RelayResult:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def claimed(self) -> int:
        return self.sent + self.retrying + self.failed


class Relay:
    def __init__(
        self,
        uow_factory: Callable[[], UnitOfWork],
        transport: MailTransport,
        *,
        batch_size: int = 100,
        max_attempts: int = 12,
    ) -> None:
        self._uow = uow_factory
        self._transport = transport
        self._batch_size = batch_size
        self._max_attempts = max_attempts

    def run_once(self) -> RelayResult:
        """Deliver one batch of due messages; return what happened."""
        claimed = self._claim()
        if not claimed:
            return RelayResult()
        outcomes = self._send(claimed)
        return self._record(outcomes)

    def run_until_idle(self) -> RelayResult:
        """Deliver batches until nothing is due (used by tests and ``mail send``)."""
        total = RelayResult()
        while (result := self.run_once()).claimed:
            total.sent += result.sent
            total.retrying += result.retrying
            total.failed += result.failed
            total.errors += result.errors
        return total

    def run_forever(
        self, stop: threading.Event, *, interval: float, wakeup: threading.Event | None = None
    ) -> None:
        process = this_process()
        while not stop.is_set():
            try:
                beat(self._uow, process)  # /readyz: some relay is delivering
                result = self.run_until_idle()
                if result.claimed:
                    log.info(
                        "mail relay: %d sent, %d retrying, %d failed",
                        result.sent,
                        result.retrying,
                        result.failed,
                    )
            except Exception:
                log.exception("mail relay pass failed; retrying in %.1fs", interval)
            if wakeup is not None:
                wakeup.wait(interval)
                wakeup.clear()
            else:
                stop.wait(interval)

    def _claim(self) -> list[OutboxMessage]:
        with self._uow() as uow:
            now = uow.clock.now()
            due = (
                select(OutboxMessage.id)
                .where(
                    OutboxMessage.status == OutboxStatus.PENDING,
                    OutboxMessage.next_attempt_at <= now,
                    or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now),
                )
                .order_by(OutboxMessage.id)
                .limit(self._batch_size)
                .with_for_update(skip_locked=True)
            )
            ids = list(uow.session.scalars(due))
            if not ids:
                return []
            rows = list(
                uow.session.scalars(
                    select(OutboxMessage)
                    .where(OutboxMessage.id.in_(ids))
                    .order_by(OutboxMessage.id)
                )
            )
            for row in rows:
                row.claimed_until = now + LEASE
                row.attempts += 1
            uow.commit()
            return rows

    def _send(self, rows: list[OutboxMessage]) -> list[tuple[int, Exception | None]]:
        outcomes: list[tuple[int, Exception | None]] = []
        try:
            with self._transport.connect() as sender:
                for row in rows:
                    try:
                        message = to_email_message(row)
                    except ValueError as exc:  # a header the email package refuses: never sendable
                        outcomes.append((row.id, PermanentDeliveryError(f"cannot build: {exc}")))
                        continue
                    try:
                        sender.send(message)
                    except (PermanentDeliveryError, TemporaryDeliveryError) as exc:
                        # Refused, but the connection is fine: go on with the next row.
                        outcomes.append((row.id, exc))
                    else:
                        outcomes.append((row.id, None))
        except Exception as exc:  # noqa: BLE001 - stored as last_error; retried with backoff
            # Could not connect, or the connection broke: the rest retry later.
            done = {row_id for row_id, _ in outcomes}
            outcomes += [(r.id, exc) for r in rows if r.id not in done]
        return outcomes

    def _record(self, outcomes: list[tuple[int, Exception | None]]) -> RelayResult:
        result = RelayResult()
        with self._uow() as uow:
            now = uow.clock.now()
            rows = {
                row.id: row
                for row in uow.session.scalars(
                    select(OutboxMessage).where(OutboxMessage.id.in_([i for i, _ in outcomes]))
                )
            }
            for row_id, error in outcomes:
                row = rows[row_id]
                row.claimed_until = None
                if error is None:
                    row.status, row.sent_at, row.last_error = OutboxStatus.SENT, now, None
                    _forget_secret(row)
                    result.sent += 1
                    continue
                row.last_error = f"{type(error).__name__}: {error}"[:2000]
                result.errors.append(row.last_error)
                permanent = isinstance(error, PermanentDeliveryError)
                if permanent or row.attempts >= self._max_attempts:
                    row.status = OutboxStatus.FAILED
                    _forget_secret(row)
                    result.failed += 1
                else:
                    row.next_attempt_at = now + backoff(row.attempts)
                    result.retrying += 1
            uow.commit()
        return result


def _forget_secret(row: OutboxMessage) -> None:
    if row.holds_secret:
        row.body, row.body_html = REDACTED_BODY, None
