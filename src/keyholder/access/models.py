"""Admin-access requests: the reviewed recovery of an account with no reachable admin."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from keyholder.access.states import OPEN_STATES, RequestState, RequestVia
from keyholder.db.base import Base
from keyholder.db.types import StrEnumType

_OPEN = ", ".join(f"'{state.value}'" for state in sorted(OPEN_STATES))


class AccessRequest(Base):
    """One customer's request for ``manage`` on an account, and everything known about it.

    The six items of the letter are kept as the requester typed them; the
    letter itself is a blob (by hash). ``evidence`` is the list of checks
    (see ``access.evidence``), each pass / fail / unknown with its source.
    """

    __tablename__ = "access_requests"
    __table_args__ = (
        # S28: one open request per account, enforced by the database too.
        Index(
            "uq_access_requests_one_open_per_account",
            "account_id",
            unique=True,
            postgresql_where=text(f"state IN ({_OPEN})"),
            sqlite_where=text(f"state IN ({_OPEN})"),
        ),
        Index("ix_access_requests_state", "state", "cooling_off_until"),
        Index("ix_access_requests_retention", "purged_at", "decided_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    # None when the typed name matches no account: the request still exists (the
    # answer must not reveal which names exist) and reviewers see the mismatch.
    account_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("enterprise_accounts.id", ondelete="SET NULL")
    )
    state: Mapped[RequestState] = mapped_column(StrEnumType(RequestState, 20))
    # A letter reviewed by staff, or a claim by recovery code (no letter, no review).
    via: Mapped[RequestVia] = mapped_column(
        StrEnumType(RequestVia, 20), default=RequestVia.LETTER, server_default="letter"
    )
    # What the requester typed: the six items of the letter and who they are.
    account_name: Mapped[str] = mapped_column(String(200))
    requester_email: Mapped[str] = mapped_column(String(320))
    requester_name: Mapped[str] = mapped_column(String(200), default="")
    email_to_add: Mapped[str] = mapped_column(String(320))
    reason: Mapped[str] = mapped_column(Text)
    contract_number: Mapped[str] = mapped_column(String(64))
    executive_name: Mapped[str] = mapped_column(String(200))
    executive_title: Mapped[str] = mapped_column(String(200))
    executive_email: Mapped[str] = mapped_column(String(320))
    letter_sha256: Mapped[str] = mapped_column(String(64))
    letter_filename: Mapped[str] = mapped_column(String(255))
    letter_content_type: Mapped[str] = mapped_column(String(100))
    # Evidence: a list of {"check", "status", "source", "explanation"} items.
    evidence: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    prescreen: Mapped[dict[str, Any] | None]  # the letter pre-screen's JSON report
    prescreen_due: Mapped[bool] = mapped_column(default=False)
    dns_token: Mapped[str] = mapped_column(String(64))
    requester_confirmed_at: Mapped[datetime | None]
    executive_confirmed_at: Mapped[datetime | None]
    executive_denied_at: Mapped[datetime | None]
    cooling_off_until: Mapped[datetime | None]
    executed_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(Text)  # why it ended, for people
    client_address: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]  # when it reached a final state; retention counts from it
    purged_at: Mapped[datetime | None]  # its files and email bodies deleted (``access.retention``)


class Approval(Base):
    """One reviewer's approval; the unique key makes "the same reviewer twice" impossible (S24)."""

    __tablename__ = "access_approvals"
    __table_args__ = (UniqueConstraint("request_id", "reviewer_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    request_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("access_requests.id", ondelete="CASCADE"), index=True
    )
    reviewer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    reviewer_email: Mapped[str] = mapped_column(String(320))
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]


class LinkPurpose(StrEnum):
    """What an emailed link of a request may do: each token does exactly one (S11)."""

    REQUESTER_CONFIRMATION = "requester_confirmation"
    EXECUTIVE_CONFIRMATION = "executive_confirmation"
    VETO = "veto"


class RequestLink(Base):
    """A one-time link emailed about a request; only its hash is stored (S6)."""

    __tablename__ = "access_request_links"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    request_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("access_requests.id", ondelete="CASCADE"), index=True
    )
    purpose: Mapped[LinkPurpose] = mapped_column(StrEnumType(LinkPurpose, 32))
    email: Mapped[str] = mapped_column(String(320))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class AccountFreeze(Base):
    """After a veto, no new request for the account is taken until ``until`` (S25)."""

    __tablename__ = "access_freezes"

    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("enterprise_accounts.id", ondelete="CASCADE"), primary_key=True
    )
    until: Mapped[datetime]
    request_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("access_requests.id"))


class RetentionTombstone(Base):
    """What retention deleted of a decided request: the file's hash and size stay (issue 20).

    The hash still proves, against a copy kept elsewhere, which letter or file
    the decision was made on; the bytes are gone.
    """

    __tablename__ = "retention_tombstones"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("access_requests.id", ondelete="CASCADE"), index=True
    )
    ticket_id: Mapped[int]
    kind: Mapped[str] = mapped_column(String(32))  # letter, attachment, raw_email, ...
    label: Mapped[str] = mapped_column(String(255))  # a filename or an email's kind
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int | None]  # None where the store was not asked (raw emails, images)
    deleted_at: Mapped[datetime]
