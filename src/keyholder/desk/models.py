"""Support desk tables: tickets, their messages, attachments and the blobs behind them."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from keyholder.db.base import Base
from keyholder.db.types import StrEnumType
from keyholder.identity.models import User


class TicketStatus(StrEnum):
    NEW = "new"
    OPEN = "open"
    PENDING = "pending"  # waiting on the customer: the SLA clock is paused
    ON_HOLD = "on_hold"  # waiting on someone else (a third party, an engineer)
    SOLVED = "solved"  # a customer reply reopens it
    CLOSED = "closed"  # final: a customer reply opens a linked follow-up


class TicketKind(StrEnum):
    GENERAL = "general"
    ADMIN_ACCESS = "admin_access"


class TicketPriority(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class MessageVisibility(StrEnum):
    PUBLIC = "public"  # the customer sees it and gets it by email
    INTERNAL = "internal"  # staff only: never emailed, never shown to customers


class MessageChannel(StrEnum):
    WEB = "web"
    EMAIL = "email"
    API = "api"


class Ticket(Base):
    """A conversation between a requester and the support team.

    ``id`` is the ticket number people quote (``[#123]``). ``is_open`` mirrors
    "status is neither solved nor closed" so the queue's hot query is one
    index range in id order on both engines.
    """

    __tablename__ = "tickets"
    __table_args__ = (
        Index("ix_tickets_queue", "is_open", "id"),
        Index("ix_tickets_account_queue", "account_id", "is_open", "id"),
        Index("ix_tickets_assignee_queue", "assignee_id", "is_open", "id"),
        Index("ix_tickets_group_queue", "group", "is_open", "id"),
        Index("ix_tickets_status", "status", "id"),
        Index("ix_tickets_requester_user", "requester_user_id", "id"),
        Index("ix_tickets_requester_email", "requester_email", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subject: Mapped[str] = mapped_column(String(300))
    kind: Mapped[TicketKind] = mapped_column(StrEnumType(TicketKind, 20))
    status: Mapped[TicketStatus] = mapped_column(StrEnumType(TicketStatus, 20))
    is_open: Mapped[bool]
    priority: Mapped[TicketPriority] = mapped_column(StrEnumType(TicketPriority, 20))
    group: Mapped[str] = mapped_column(String(64))
    # The requester may have no user (someone locked out writes from their
    # mailbox): the address is always kept, the user only when known.
    requester_email: Mapped[str] = mapped_column(String(320))
    requester_name: Mapped[str] = mapped_column(String(200), default="")
    requester_user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    account_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("enterprise_accounts.id", ondelete="SET NULL")
    )
    assignee_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    follow_up_of_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    # What the requester sees as the last change: opened, a public message, a
    # status change. Internal notes and staff edits move only ``updated_at``, which
    # would otherwise tell the requester of activity they cannot see (S30, S31a).
    customer_updated_at: Mapped[datetime]
    # Service levels (see desk.sla): due times move when a pending spell ends.
    first_response_due_at: Mapped[datetime]
    first_responded_at: Mapped[datetime | None]
    resolution_due_at: Mapped[datetime]
    sla_paused_since: Mapped[datetime | None]
    solved_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]

    requester_user: Mapped[User | None] = relationship(foreign_keys=[requester_user_id])
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])

    @property
    def number(self) -> int:
        return self.id


class TicketMessage(Base):
    """One entry in a ticket's thread; the body is kept whole, as received or written."""

    __tablename__ = "ticket_messages"
    __table_args__ = (Index("ix_ticket_messages_thread", "ticket_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    visibility: Mapped[MessageVisibility] = mapped_column(StrEnumType(MessageVisibility, 16))
    channel: Mapped[MessageChannel] = mapped_column(StrEnumType(MessageChannel, 16))
    author_user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    author_email: Mapped[str] = mapped_column(String(320))
    author_name: Mapped[str] = mapped_column(String(200), default="")
    from_staff: Mapped[bool] = mapped_column(default=False, server_default=false())
    body: Mapped[str] = mapped_column(Text)
    # Our Message-ID for what we sent, the sender's for what we received.
    message_id: Mapped[str | None] = mapped_column(String(998))
    # Received mail that a person must look at before trusting it: a sender who is
    # not a participant, or an automatic message (bounce, auto-reply).
    needs_review: Mapped[bool] = mapped_column(default=False, server_default=false())
    automated: Mapped[bool] = mapped_column(default=False, server_default=false())
    raw_sha256: Mapped[str | None] = mapped_column(String(64))  # the whole email, in blobs
    created_at: Mapped[datetime]

    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="message", order_by="(Attachment.created_at, Attachment.filename)"
    )


class MailReference(Base):
    """Every Message-ID we sent or received, and the ticket it belongs to (threading)."""

    __tablename__ = "ticket_mail_references"

    id: Mapped[int] = mapped_column(primary_key=True)  # the order they were seen in
    message_id: Mapped[str] = mapped_column(String(998), unique=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    outgoing: Mapped[bool]
    created_at: Mapped[datetime]


class Blob(Base):
    """File content addressed by its SHA-256, for the database blob store."""

    __tablename__ = "blobs"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int]
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime]


class Attachment(Base):
    """A file on a ticket message. The name is for display only; storage is by hash (S34)."""

    __tablename__ = "attachments"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    message_id: Mapped[int] = mapped_column(
        ForeignKey("ticket_messages.id", ondelete="CASCADE"), index=True
    )
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))  # sniffed, never the sender's claim
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    # Deleted by retention (``access.retention``): the row and its hash stay, the bytes are gone.
    purged_at: Mapped[datetime | None]

    message: Mapped[TicketMessage] = relationship(back_populates="attachments")


class CannedReply(Base):
    """A reply text agents reuse, with ``{placeholders}`` filled from the ticket."""

    __tablename__ = "canned_replies"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    body: Mapped[str] = mapped_column(Text)
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
