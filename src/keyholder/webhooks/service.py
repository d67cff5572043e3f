"""Operators' use cases: subscribe endpoints, rotate secrets, redeliver, read the log.

Platform admins only (staff without MFA: 403, S18); the CLI's operator is one.
Every change writes an audit event (``webhook.*``), so subscriptions are as
accountable as the changes they announce. A new endpoint starts after the
newest audit event: it receives what happens from then on (``start_after``
replays older events, e.g. to stream the whole log).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import func, select

from keyholder.audit.actions import AuditAction
from keyholder.audit.models import AuditEvent
from keyholder.audit.service import record_event
from keyholder.audit.targets import webhook_target
from keyholder.db.tx import Tx
from keyholder.db.types import INTEGER_MAX
from keyholder.db.uow import UnitOfWork
from keyholder.errors import InvalidInput, NotFound, PermissionDenied
from keyholder.webhooks.events import ALL_EVENT_TYPES
from keyholder.webhooks.models import PayloadFormat, WebhookDelivery, WebhookEndpoint
from keyholder.webhooks.signing import new_secret, seal
from keyholder.webhooks.ssrf import check_url

PLATFORM_ADMINS_ONLY = "only platform admins can manage webhooks"
ALL_EVENTS = "*"  # what an audit-format endpoint subscribes to
MAX_DELIVERIES_PAGE = 500


class Operator(Protocol):
    """Who acts: ``identity.actor.Actor`` is one (webhooks sit beside identity)."""

    @property
    def label(self) -> str: ...

    @property
    def is_staff_admin(self) -> bool: ...


@dataclass(frozen=True, slots=True)
class NewSecret:
    """An endpoint and its signing secret in clear: shown once, never again."""

    endpoint: WebhookEndpoint
    secret: str


def _require_admin(actor: Operator) -> None:
    if not actor.is_staff_admin:
        raise PermissionDenied(PLATFORM_ADMINS_ONLY)


def check_event_types(event_types: Sequence[str]) -> list[str]:
    """The subscribed types, deduplicated and sorted; InvalidInput names an unknown one."""
    wanted = sorted(set(event_types))
    if not wanted:
        raise InvalidInput("subscribe to at least one event type")
    unknown = [t for t in wanted if t not in ALL_EVENT_TYPES]
    if unknown:
        raise InvalidInput(
            f"unknown event type {unknown[0]!r}; known: {', '.join(sorted(ALL_EVENT_TYPES))}"
        )
    return wanted


def add_endpoint(
    uow: UnitOfWork,
    url: str,
    *,
    event_types: Sequence[str] = (),
    payload_format: PayloadFormat = PayloadFormat.EVENT,
    description: str = "",
    start_after: int | None = None,
    actor: Operator,
) -> NewSecret:
    """Subscribe ``url``; an ``audit`` endpoint gets every audit event (the stream)."""
    _require_admin(actor)
    check_url(url, allow_private=uow.settings.webhook_allow_private_targets)
    if len(description) > 200:
        raise InvalidInput("a description is at most 200 characters")
    if payload_format is PayloadFormat.AUDIT:
        types = [ALL_EVENTS]
    else:
        types = check_event_types(event_types)
    if start_after is not None and not 0 <= start_after <= INTEGER_MAX:
        raise InvalidInput("start_after must be a seq (0 for the whole log)")
    secret = new_secret()
    with uow:
        now = uow.clock.now()
        head = uow.session.scalar(select(func.max(AuditEvent.seq))) or 0
        endpoint = WebhookEndpoint(
            id=uuid.uuid4(),
            url=url,
            description=description,
            event_types=types,
            payload_format=payload_format,
            secret=seal(uow.settings.secret, secret),
            enabled=True,
            cursor=head if start_after is None else min(start_after, head),
            checkpoint_cursor=head if start_after is None else min(start_after, head),
            consecutive_failures=0,
            next_attempt_at=now,
            created_at=now,
            created_by=actor.label,
        )
        uow.session.add(endpoint)
        uow.flush()
        record_event(
            uow,
            actor=actor,
            action=AuditAction.WEBHOOK_ADD,
            target=webhook_target(endpoint.id),
            after={"url": url, "event_types": types, "format": str(payload_format)},
        )
        uow.commit()
    return NewSecret(endpoint, secret)


def list_endpoints(uow: UnitOfWork, *, actor: Operator) -> Sequence[WebhookEndpoint]:
    _require_admin(actor)
    with uow:
        query = select(WebhookEndpoint).order_by(WebhookEndpoint.created_at, WebhookEndpoint.id)
        return uow.session.scalars(query).all()


def get_endpoint(uow: UnitOfWork, endpoint_id: uuid.UUID, *, actor: Operator) -> WebhookEndpoint:
    _require_admin(actor)
    with uow:
        return _endpoint(uow, endpoint_id, lock=False)


def _endpoint(tx: Tx, endpoint_id: uuid.UUID, *, lock: bool = True) -> WebhookEndpoint:
    # Locked for a change: a delivery pass records under the same lock.
    endpoint = tx.session.get(WebhookEndpoint, endpoint_id, with_for_update=lock)
    if endpoint is None:
        raise NotFound(f"no webhook endpoint {endpoint_id}")
    return endpoint


def remove_endpoint(uow: UnitOfWork, endpoint_id: uuid.UUID, *, actor: Operator) -> None:
    """Delete the endpoint and its delivery log."""
    _require_admin(actor)
    with uow:
        endpoint = _endpoint(uow, endpoint_id)
        before = {"url": endpoint.url, "event_types": endpoint.event_types}
        uow.session.delete(endpoint)
        record_event(
            uow,
            actor=actor,
            action=AuditAction.WEBHOOK_REMOVE,
            target=webhook_target(endpoint_id),
            before=before,
        )
        uow.commit()


def disable_endpoint(
    uow: UnitOfWork, endpoint_id: uuid.UUID, *, reason: str = "", actor: Operator
) -> WebhookEndpoint:
    """Stop deliveries; the cursor stays, so ``redeliver`` resumes where they stopped."""
    _require_admin(actor)
    with uow:
        endpoint = _endpoint(uow, endpoint_id)
        disable(uow, endpoint, reason=reason or f"disabled by {actor.label}", actor=actor)
        uow.commit()
        return endpoint


def disable(tx: Tx, endpoint: WebhookEndpoint, *, reason: str, actor: Operator) -> None:
    """Disable ``endpoint`` in the caller's transaction (by hand, or after failures)."""
    endpoint.enabled = False
    endpoint.disabled_reason = reason[:400]
    endpoint.claimed_until = endpoint.claim_token = None
    record_event(
        tx,
        actor=actor,
        action=AuditAction.WEBHOOK_DISABLE,
        target=webhook_target(endpoint.id),
        after={"reason": endpoint.disabled_reason, "cursor": endpoint.cursor},
    )


def redeliver(
    uow: UnitOfWork, endpoint_id: uuid.UUID, *, from_seq: int | None = None, actor: Operator
) -> WebhookEndpoint:
    """Enable the endpoint and deliver now; ``from_seq`` sends again from that event on.

    Replaying moves the cursor back, so the events after it go again too, in
    order (per-endpoint order holds); each keeps its ``webhook-id``, so a
    receiver drops the ones it already has.
    """
    _require_admin(actor)
    if from_seq is not None and not 1 <= from_seq <= INTEGER_MAX:
        raise InvalidInput("from_seq must be a seq (1 or more)")
    with uow:
        endpoint = _endpoint(uow, endpoint_id)
        before = {"cursor": endpoint.cursor, "enabled": endpoint.enabled}
        if from_seq is not None:
            endpoint.cursor = min(endpoint.cursor, from_seq - 1)
            endpoint.checkpoint_cursor = min(endpoint.checkpoint_cursor, from_seq - 1)
        endpoint.enabled, endpoint.disabled_reason = True, None
        endpoint.consecutive_failures = 0
        endpoint.next_attempt_at = uow.clock.now()
        endpoint.claimed_until = endpoint.claim_token = None
        record_event(
            uow,
            actor=actor,
            action=AuditAction.WEBHOOK_REDELIVER,
            target=webhook_target(endpoint.id),
            before=before,
            after={"cursor": endpoint.cursor, "enabled": True},
        )
        uow.commit()
        return endpoint


def rotate_secret(uow: UnitOfWork, endpoint_id: uuid.UUID, *, actor: Operator) -> NewSecret:
    """A new secret; the old one also signs for ``webhook_secret_overlap`` (then it stops)."""
    _require_admin(actor)
    secret = new_secret()
    with uow:
        endpoint = _endpoint(uow, endpoint_id)
        now = uow.clock.now()
        endpoint.previous_secret = endpoint.secret
        endpoint.previous_secret_until = now + uow.settings.webhook_secret_overlap
        endpoint.secret = seal(uow.settings.secret, secret)
        record_event(
            uow,
            actor=actor,
            action=AuditAction.WEBHOOK_ROTATE_SECRET,
            target=webhook_target(endpoint.id),
            after={"previous_valid_until": endpoint.previous_secret_until.isoformat()},
        )
        uow.commit()
        return NewSecret(endpoint, secret)


def list_deliveries(
    uow: UnitOfWork, endpoint_id: uuid.UUID, *, limit: int = 50, actor: Operator
) -> Sequence[WebhookDelivery]:
    """The endpoint's delivery log, newest attempt first."""
    _require_admin(actor)
    if not 1 <= limit <= MAX_DELIVERIES_PAGE:
        raise InvalidInput(f"limit must be 1-{MAX_DELIVERIES_PAGE}")
    with uow:
        _endpoint(uow, endpoint_id, lock=False)
        query = (
            select(WebhookDelivery)
            .where(WebhookDelivery.endpoint_id == endpoint_id)
            .order_by(WebhookDelivery.id.desc())
            .limit(limit)
        )
        return uow.session.scalars(query).all()
