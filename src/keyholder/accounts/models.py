from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from keyholder.accounts.permissions import PermissionSet, PermissionSetType
from keyholder.db.base import Base
from keyholder.db.types import StrEnumType
from keyholder.identity.models import User


class ContactKind(StrEnum):
    BILLING = "billing"
    SECURITY = "security"
    EXECUTIVE = "executive"


class EnterpriseAccount(Base):
    __tablename__ = "enterprise_accounts"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    contract_number: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    # When its single admin was last reminded to add a second (accounts.continuity):
    # claimed by a conditional UPDATE, so several workers never send twice.
    admin_reminder_sent_at: Mapped[datetime | None]

    domains: Mapped[list[AccountDomain]] = relationship(
        back_populates="account", order_by="AccountDomain.domain", cascade="all, delete-orphan"
    )
    contacts: Mapped[list[AccountContact]] = relationship(
        back_populates="account", order_by="AccountContact.added_at", cascade="all, delete-orphan"
    )


class AccountDomain(Base):
    __tablename__ = "account_domains"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("enterprise_accounts.id", ondelete="CASCADE"), index=True
    )
    # One domain belongs to one account at most: it is proof of ownership.
    domain: Mapped[str] = mapped_column(String(253), unique=True)
    verified_at: Mapped[datetime | None]
    created_at: Mapped[datetime]

    account: Mapped[EnterpriseAccount] = relationship(back_populates="domains")


class AccountContact(Base):
    """A person on record for the account, used later to confirm recovery requests.

    A contact counts for recovery (``accounts.contacts.counts_for_recovery``)
    once it confirmed its address by the emailed link and the waiting period
    (``access_contact_min_age``) has passed since that confirmation and since
    its last change. Contacts recorded by platform staff, who vouch for them
    as for the domains they record, are confirmed when recorded.
    """

    __tablename__ = "account_contacts"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("enterprise_accounts.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[ContactKind] = mapped_column(StrEnumType(ContactKind, 16))
    name: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320))
    added_at: Mapped[datetime]
    # The last change of its name, title, kind or email: the waiting period restarts.
    changed_at: Mapped[datetime]
    confirmed_at: Mapped[datetime | None]
    # The pending confirmation link (only its hash, S6); kept once used, so a
    # second click is told "already used" (410) rather than "unknown" (404).
    confirm_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    confirm_expires_at: Mapped[datetime | None]

    account: Mapped[EnterpriseAccount] = relationship(back_populates="contacts")


class Membership(Base):
    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("account_id", "user_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("enterprise_accounts.id", ondelete="CASCADE")
    )
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    permissions: Mapped[PermissionSet] = mapped_column(PermissionSetType())
    added_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    # Granted through an access request: admin powers wait for MFA (S18).
    mfa_required: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    user: Mapped[User] = relationship(foreign_keys=[user_id], lazy="joined", innerjoin=True)
    account: Mapped[EnterpriseAccount] = relationship()


class Invitation(Base):
    """A standing offer of membership to an email address that has no user yet."""

    __tablename__ = "invitations"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("enterprise_accounts.id", ondelete="CASCADE"), index=True
    )
    email: Mapped[str] = mapped_column(String(320), index=True)
    permissions: Mapped[PermissionSet] = mapped_column(PermissionSetType())
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    accepted_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    invited_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    accepted_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    mfa_required: Mapped[bool] = mapped_column(default=False, server_default=false())

    account: Mapped[EnterpriseAccount] = relationship()

    def is_pending(self, now: datetime) -> bool:
        return self.accepted_at is None and self.revoked_at is None and now < self.expires_at


class AccountRecoveryCode(Base):
    """One break-glass recovery code of an account; only its SHA-256 is stored (S6).

    An admin generates a set (``accounts.recovery_codes``); regenerating
    deletes the old set. ``used_at`` is set once, by one conditional UPDATE.
    """

    __tablename__ = "account_recovery_codes"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("enterprise_accounts.id", ondelete="CASCADE"), index=True
    )
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    generated_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    used_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
