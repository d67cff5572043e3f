"""Delivering audit events to endpoints: in order, at least once, with backoff.

Each endpoint has a cursor into the audit log. A pass claims one due endpoint
(a short transaction: on PostgreSQL ``FOR UPDATE SKIP LOCKED``, on SQLite the
write lock, then a lease so that no other worker takes it while this one
sends), reads the next events after its cursor, and sends those it
subscribed to one by one outside any transaction. A second short transaction
records each attempt in the delivery log and moves the cursor past what was
delivered (2xx) and what was not subscribed. The first failure stops the pass
(head of line), so a later event never overtakes an earlier one, and the
endpoint waits an exponential backoff with jitter; after
``webhook_max_failures`` failures in a row it is disabled, with an audit event
and an email to ``webhook_notify_emails``.

A worker that dies between sending and recording leaves a lease that lapses:
the events go again, with the same ``webhook-id`` (at-least-once).
"""

from __future__ import annotations

import logging
import random
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import or_, select

from keyholder.audit.models import AuditCheckpoint, AuditEvent
from keyholder.clock import Clock
from keyholder.db.uow import UnitOfWork, UnitOfWorkFactory
from keyholder.errors import InvalidInput
from keyholder.mail.outbox import enqueue_email
from keyholder.webhooks.events import (
    CHECKPOINT_EVENT_TYPE,
    checkpoint_payload,
    message_id,
    payload,
)
from keyholder.webhooks.models import WebhookDelivery, WebhookEndpoint
from keyholder.webhooks.service import disable
from keyholder.webhooks.signing import signature_header, unseal
from keyholder.webhooks.transport import HttpResult, WebhookTransport

log = logging.getLogger(__name__)

BACKOFF_BASE = timedelta(seconds=5)
BACKOFF_CAP = timedelta(hours=1)
LEASE = timedelta(minutes=10)  # at least; see _lease
SCAN = 500  # audit events read per pass: unsubscribed ones are skipped in bulk
MAX_ROUNDS = 200  # claims per run, so one run ends even while events keep coming
USER_AGENT = "Keyholder-Webhooks/1"


def backoff(failures: int, rng: random.Random) -> timedelta:
    """The wait after ``failures`` failed attempts in a row: 5 s, 10 s, 20 s … 1 h, jittered.

    "Equal jitter": half the exponential delay is fixed, the other half random,
    so endpoints that failed together do not all come back at the same instant
    and no wait is ever shorter than half the schedule.
    """
    # Clamped exponent: the cap is reached long before, and 2**n would overflow timedelta.
    ceiling = min(BACKOFF_BASE * (1 << min(max(failures - 1, 0), 20)), BACKOFF_CAP)
    half = ceiling / 2
    return half + half * rng.random()


class _System:
    """The actor of what the delivery job does on its own (disabling an endpoint)."""

    label = "system:webhooks"
    is_staff_admin = True


@dataclass(frozen=True, slots=True)
class _Outgoing:
    seq: int
    event_type: str
    message_id: str
    body: bytes
    checkpoint: bool = False  # an audit.checkpoint (its own cursor), not an audit event


@dataclass(frozen=True, slots=True)
class _Claim:
    endpoint_id: uuid.UUID
    token: uuid.UUID
    url: str
    secrets: tuple[str, ...]
    outgoing: tuple[_Outgoing, ...]
    scanned_to: int  # the cursor once every outgoing event is delivered
    more: bool  # the scan was cut short: more events wait after scanned_to


@dataclass(frozen=True, slots=True)
class _Attempt:
    outgoing: _Outgoing
    result: HttpResult
    at: datetime
    duration_ms: int


@dataclass
class DeliveryResult:
    delivered: int = 0
    failed: int = 0
    disabled: int = 0
    errors: list[str] = field(default_factory=list)


def deliver_due(
    uow_factory: UnitOfWorkFactory,
    transport: WebhookTransport,
    *,
    rng: random.Random | None = None,
) -> DeliveryResult:
    """Deliver what every due endpoint has waiting; safe with several workers."""
    rng = rng or random.Random()  # noqa: S311 - jitter, not a secret
    result = DeliveryResult()
    done: set[uuid.UUID] = set()
    for _ in range(MAX_ROUNDS):
        claim = _claim(uow_factory, exclude=done)
        if claim is None:
            break
        if not claim.outgoing:  # only unsubscribed events: the claim skipped them
            if not claim.more:
                done.add(claim.endpoint_id)
            continue
        attempts = _send(uow_factory().clock, claim, transport)
        stopped = _record(uow_factory, claim, attempts, rng=rng, result=result)
        if stopped or not claim.more:
            done.add(claim.endpoint_id)
    return result


def _claim(uow_factory: UnitOfWorkFactory, *, exclude: set[uuid.UUID]) -> _Claim | None:
    with uow_factory() as uow:
        now = uow.clock.now()
        due = (
            select(WebhookEndpoint)
            .where(
                WebhookEndpoint.enabled.is_(True),
                WebhookEndpoint.next_attempt_at <= now,
                or_(WebhookEndpoint.claimed_until.is_(None), WebhookEndpoint.claimed_until < now),
            )
            .order_by(WebhookEndpoint.next_attempt_at, WebhookEndpoint.id)
            .limit(1)
            .with_for_update(skip_locked=True)
        )
        if exclude:
            due = due.where(WebhookEndpoint.id.not_in(exclude))
        endpoint = uow.session.scalar(due)
        if endpoint is None:
            return None
        try:
            secrets = _secrets_in_force(uow, endpoint, now)
        except ValueError as exc:  # the secret key changed: nothing can be signed
            disable(uow, endpoint, reason=str(exc), actor=_System())
            uow.commit()
            return _Claim(endpoint.id, uuid.uuid4(), endpoint.url, (), (), endpoint.cursor, False)
        events = uow.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.seq > endpoint.cursor)
            .order_by(AuditEvent.seq)
            .limit(SCAN)
        ).all()
        # Checkpoints of events already delivered go first: they never overtake them.
        checkpoints = _checkpoints(uow, endpoint)
        batch = uow.settings.webhook_batch_size - len(checkpoints)
        outgoing, scanned_to = _pick(endpoint, events, max(batch, 1))
        outgoing = checkpoints + outgoing
        more = len(events) == SCAN or (bool(events) and scanned_to < events[-1].seq)
        token = uuid.uuid4()
        if outgoing:
            endpoint.claimed_until, endpoint.claim_token = now + _lease(uow, len(outgoing)), token
        else:  # nothing subscribed among them: skip them now
            endpoint.cursor = max(endpoint.cursor, scanned_to)
        claim = _Claim(
            endpoint.id,
            token,
            endpoint.url,
            secrets,
            tuple(outgoing),
            scanned_to,
            more,
        )
        uow.commit()
        return claim


def _lease(uow: UnitOfWork, count: int) -> timedelta:
    """How long a pass holds its endpoint: longer than ``count`` requests can take."""
    # Connect, send and answer may each take up to the timeout: a live pass never
    # loses its endpoint to another worker (which would send its events again).
    return max(LEASE, timedelta(seconds=4 * count * uow.settings.webhook_timeout_seconds))


def _checkpoints(uow: UnitOfWork, endpoint: WebhookEndpoint) -> list[_Outgoing]:
    """The checkpoints to send: anchoring events this endpoint is already done with."""
    if CHECKPOINT_EVENT_TYPE not in endpoint.event_types:
        return []
    found = uow.session.scalars(
        select(AuditCheckpoint)
        .where(
            AuditCheckpoint.seq > endpoint.checkpoint_cursor,
            AuditCheckpoint.seq <= endpoint.cursor,
        )
        .order_by(AuditCheckpoint.seq)
        .limit(uow.settings.webhook_batch_size)
    ).all()
    return [
        _Outgoing(
            checkpoint.seq,
            CHECKPOINT_EVENT_TYPE,
            message_id(str(endpoint.id), checkpoint.seq, checkpoint=True),
            checkpoint_payload(checkpoint),
            checkpoint=True,
        )
        for checkpoint in found
    ]


def _pick(
    endpoint: WebhookEndpoint, events: Sequence[AuditEvent], batch: int
) -> tuple[list[_Outgoing], int]:
    outgoing: list[_Outgoing] = []
    scanned_to = endpoint.cursor
    subscribed = frozenset(endpoint.event_types)
    for event in events:
        found = payload(event, endpoint.payload_format, subscribed)
        if found is not None:
            if len(outgoing) == batch:
                break
            event_type, body = found
            outgoing.append(
                _Outgoing(event.seq, event_type, message_id(str(endpoint.id), event.seq), body)
            )
        scanned_to = event.seq
    return outgoing, scanned_to


def _secrets_in_force(uow: UnitOfWork, endpoint: WebhookEndpoint, now: datetime) -> tuple[str, ...]:
    key = uow.settings.secret
    secrets = [unseal(key, endpoint.secret)]
    until = endpoint.previous_secret_until
    if endpoint.previous_secret is not None and until is not None and now < until:
        secrets.append(unseal(key, endpoint.previous_secret))
    return tuple(secrets)


def _send(clock: Clock, claim: _Claim, transport: WebhookTransport) -> list[_Attempt]:
    attempts: list[_Attempt] = []
    for out in claim.outgoing:
        at = clock.now()
        timestamp = int(at.timestamp())
        headers = {
            "content-type": "application/json",
            "user-agent": USER_AGENT,
            "webhook-id": out.message_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": signature_header(
                claim.secrets, out.message_id, timestamp, out.body
            ),
        }
        started = time.monotonic()
        result = transport.post(claim.url, out.body, headers)
        attempts.append(_Attempt(out, result, at, int((time.monotonic() - started) * 1000)))
        if not result.succeeded:
            break  # head of line: nothing after it goes before it
    return attempts


def _record(
    uow_factory: UnitOfWorkFactory,
    claim: _Claim,
    attempts: list[_Attempt],
    *,
    rng: random.Random,
    result: DeliveryResult,
) -> bool:
    """Log the attempts and move the cursor; True when one failed (the pass stops)."""
    with uow_factory() as uow:
        endpoint = uow.session.get(WebhookEndpoint, claim.endpoint_id, with_for_update=True)
        if endpoint is None:  # removed meanwhile
            return True
        for attempt in attempts:
            uow.session.add(
                WebhookDelivery(
                    endpoint_id=endpoint.id,
                    seq=attempt.outgoing.seq,
                    message_id=attempt.outgoing.message_id,
                    event_type=attempt.outgoing.event_type,
                    attempted_at=attempt.at,
                    status_code=attempt.result.status_code,
                    error=attempt.result.error,
                    duration_ms=attempt.duration_ms,
                    succeeded=attempt.result.succeeded,
                )
            )
        if endpoint.claim_token == claim.token:
            endpoint.claimed_until = endpoint.claim_token = None
        failed = next((a for a in attempts if not a.result.succeeded), None)
        now = uow.clock.now()
        sent_checkpoints = [
            a.outgoing.seq for a in attempts if a.outgoing.checkpoint and a.result.succeeded
        ]
        if sent_checkpoints:
            endpoint.checkpoint_cursor = max(endpoint.checkpoint_cursor, *sent_checkpoints)
        if failed is None:
            # Never backwards: a slower worker whose lease lapsed may record late.
            endpoint.cursor = max(endpoint.cursor, claim.scanned_to)
            endpoint.consecutive_failures = 0
            result.delivered += len(attempts)
        else:
            if not failed.outgoing.checkpoint:  # a failed checkpoint holds the events back
                endpoint.cursor = max(endpoint.cursor, failed.outgoing.seq - 1)
            result.delivered += len(attempts) - 1
            result.failed += 1
            result.errors.append(failed.result.error or "failed")
            _after_failure(uow, endpoint, failed, now=now, rng=rng, result=result)
        uow.commit()
        return failed is not None


def _after_failure(
    uow: UnitOfWork,
    endpoint: WebhookEndpoint,
    failed: _Attempt,
    *,
    now: datetime,
    rng: random.Random,
    result: DeliveryResult,
) -> None:
    endpoint.consecutive_failures += 1
    endpoint.next_attempt_at = now + backoff(endpoint.consecutive_failures, rng)
    limit = uow.settings.webhook_max_failures
    if not endpoint.enabled or endpoint.consecutive_failures < limit:
        return
    reason = (
        f"{endpoint.consecutive_failures} failed attempts in a row; "
        f"last: {failed.result.error or 'failed'}"
    )
    disable(uow, endpoint, reason=reason, actor=_System())
    result.disabled += 1
    if uow.settings.webhook_notify_emails:
        _notify(uow, endpoint, reason)


def _notify(uow: UnitOfWork, endpoint: WebhookEndpoint, reason: str) -> None:
    try:
        enqueue_email(
            uow,
            kind="webhook_disabled",
            to=list(uow.settings.webhook_notify_emails),
            subject="Keyholder disabled a webhook endpoint",
            body=(
                f"The webhook endpoint {endpoint.id} ({endpoint.url}) was disabled after "
                f"{reason}.\n\nEvents after #{endpoint.cursor} wait for it. Once the receiver "
                f"works again, resume with:\n\n    keyholder webhooks redeliver {endpoint.id}\n"
            ),
        )
    except InvalidInput as exc:  # a misconfigured address must not undo the disabling
        log.warning("webhook disabled notice not queued (KEYHOLDER_WEBHOOK_NOTIFY_EMAILS): %s", exc)
