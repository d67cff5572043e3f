from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from keyholder.db.base import Base


class AuditEvent(Base):
    """One privileged change. Append-only; each row seals the one before it."""

    __tablename__ = "audit_events"

    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(320))
    action: Mapped[str] = mapped_column(String(64), index=True)
    target: Mapped[str] = mapped_column(String(400), index=True)
    data: Mapped[dict[str, Any]]
    client_address: Mapped[str | None] = mapped_column(String(64))
    request_id: Mapped[str | None] = mapped_column(String(64))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The chain key this event's hash is an HMAC with (S36); None for events
    # written before keyed chaining, whose hash is a plain SHA-256.
    key_id: Mapped[str | None] = mapped_column(String(32))


class AuditCheckpoint(Base):
    """A checkpoint this deployment signed and sent to its sinks: bookkeeping only.

    Verification never trusts this table (whoever can edit the log can edit it
    too); it tells the writers which head is anchored already, so each is signed
    once however many processes run.
    """

    __tablename__ = "audit_checkpoints"

    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    at: Mapped[datetime]
    head_hash: Mapped[str] = mapped_column(String(64))
