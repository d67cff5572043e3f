from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Index, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from keyholder.db.base import Base
from keyholder.db.types import StrEnumType


class OutboxStatus(StrEnum):
    PENDING = "pending"  # waiting for (another) delivery attempt
    SENT = "sent"  # accepted by the SMTP server
    FAILED = "failed"  # gave up after the last attempt; kept for an operator


REDACTED_BODY = "[removed after delivery: this message held a secret link]"


class OutboxMessage(Base):
    """An email written in the same transaction as the change that caused it."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(64))
    message_id: Mapped[str] = mapped_column(String(255), unique=True)
    mail_from: Mapped[str] = mapped_column(String(320))
    recipients: Mapped[list[str]]
    subject: Mapped[str] = mapped_column(String(400))
    body: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str | None] = mapped_column(Text)  # the alternative HTML part
    # Extra headers (Reply-To, In-Reply-To, References, Auto-Submitted); None on rows
    # written before they existed, which were all automatic notifications.
    headers: Mapped[dict[str, Any] | None]
    # The body carries a secret link (reset, invitation, ticket link): blanked
    # once the message is sent or given up, so it does not outlive delivery (S6).
    holds_secret: Mapped[bool] = mapped_column(default=False, server_default=false())
    status: Mapped[OutboxStatus] = mapped_column(
        StrEnumType(OutboxStatus, 16), default=OutboxStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime]
    next_attempt_at: Mapped[datetime]
    # A relay that claims a message holds it until this time; if it dies
    # mid-send the claim lapses and another relay retries (at-least-once).
    claimed_until: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    # The request that queued it (the id in its log line and audit events); None
    # for mail queued by a job or the CLI, and on rows from before it was kept.
    request_id: Mapped[str | None] = mapped_column(String(64))


class RelayHeartbeat(Base):
    """When a mail relay last made a pass over the outbox, one row per relay process.

    ``/readyz`` reads the newest: mail written by a request is delivered only if
    some relay is running, in a ``serve`` process or in ``keyholder worker``.
    """

    __tablename__ = "relay_heartbeats"

    process: Mapped[str] = mapped_column(String(200), primary_key=True)  # host:pid
    beat_at: Mapped[datetime] = mapped_column(index=True)
