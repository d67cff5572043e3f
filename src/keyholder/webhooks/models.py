"""Webhook endpoints, their delivery log, and the cursors of audit streams.

The audit log is the outbox: every privileged change writes an audit event in
its own transaction, with a gapless seq assigned in commit order. An endpoint
and a stream keep only a cursor (the last seq they handled), so nothing is
copied per event, a rolled-back change has no event to send, and a restart
resumes after the cursor.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from keyholder.db.base import Base
from keyholder.db.types import StrEnumType


class PayloadFormat(StrEnum):
    EVENT = "event"  # {"type": "member.added", ...}: the subscribed event types only
    AUDIT = "audit"  # every audit event, as the export writes it (chain hash included)


class WebhookEndpoint(Base):
    """A URL an operator subscribed to event types."""

    __tablename__ = "webhook_endpoints"
    __table_args__ = (Index("ix_webhook_endpoints_due", "enabled", "next_attempt_at"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    url: Mapped[str] = mapped_column(String(2000))
    description: Mapped[str] = mapped_column(String(200), default="")
    event_types: Mapped[list[str]]
    payload_format: Mapped[PayloadFormat] = mapped_column(StrEnumType(PayloadFormat, 16))
    # Signing secrets (whsec_...), encrypted at rest (webhooks.signing): the
    # current one, and during a rotation's overlap the previous one too.
    secret: Mapped[str] = mapped_column(Text)
    previous_secret: Mapped[str | None] = mapped_column(Text)
    previous_secret_until: Mapped[datetime | None]
    enabled: Mapped[bool] = mapped_column(default=True)
    disabled_reason: Mapped[str | None] = mapped_column(String(400))
    # The last audit seq this endpoint is done with (delivered, or not subscribed).
    cursor: Mapped[int] = mapped_column(default=0)
    # The last audit checkpoint (by the seq it anchors) sent as ``audit.checkpoint``;
    # one is sent only once the events it covers are (it never overtakes them).
    checkpoint_cursor: Mapped[int] = mapped_column(default=0)
    consecutive_failures: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime]
    # A delivery pass leases the endpoint so that two workers never send its
    # events side by side; a pass that dies lets the lease lapse (at-least-once).
    claimed_until: Mapped[datetime | None]
    claim_token: Mapped[uuid.UUID | None]
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(320))


class WebhookDelivery(Base):
    """One attempt to deliver one event to one endpoint: the delivery log."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (Index("ix_webhook_deliveries_endpoint", "endpoint_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    endpoint_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("webhook_endpoints.id", ondelete="CASCADE")
    )
    seq: Mapped[int]
    message_id: Mapped[str] = mapped_column(String(100))
    event_type: Mapped[str] = mapped_column(String(64))
    attempted_at: Mapped[datetime]
    status_code: Mapped[int | None]
    error: Mapped[str | None] = mapped_column(Text)
    duration_ms: Mapped[int]
    succeeded: Mapped[bool]


class AuditStreamCursor(Base):
    """How far an audit stream sink (a file, syslog) has acknowledged the log."""

    __tablename__ = "audit_stream_cursors"

    sink: Mapped[str] = mapped_column(String(200), primary_key=True)
    cursor: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime]
