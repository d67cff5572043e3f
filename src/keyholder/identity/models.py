from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from keyholder.db.base import Base
from keyholder.db.types import StrEnumType


class StaffRole(StrEnum):
    """Platform staff roles. Customers have none."""

    AGENT = "agent"
    REVIEWER = "reviewer"
    ADMIN = "admin"


class User(Base):
    __tablename__ = "users"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    # Stored case-folded (see identity.emails.normalize_email): the unique key.
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str | None] = mapped_column(String(255))
    password_changed_at: Mapped[datetime | None]
    last_login_at: Mapped[datetime | None]
    email_verified_at: Mapped[datetime | None]
    # When the email last changed (SECURITY.md S5: no admin reset soon after).
    email_changed_at: Mapped[datetime | None]
    staff_role: Mapped[StaffRole | None] = mapped_column(StrEnumType(StaffRole, 20))
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime]
    # TOTP (identity.mfa): the base32 secret, encrypted (a Fernet token, see
    # identity.totp_keys) as verifying a code needs it back; set at enrolment,
    # live once ``mfa_enabled_at`` is set.
    mfa_secret: Mapped[str | None] = mapped_column(String(255))
    mfa_enabled_at: Mapped[datetime | None]
    # The last TOTP time step accepted, so a code is never accepted twice.
    mfa_last_step: Mapped[int | None] = mapped_column(BigInteger)

    def __repr__(self) -> str:
        return f"<User {self.email}>"


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(100), default="")
    # SHA-256 of the token: tokens carry 256 random bits, so a fast hash is enough.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(lazy="joined")


class UserSession(Base):
    __tablename__ = "sessions"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    client_address: Mapped[str | None] = mapped_column(String(64))
    # When this session passed a second factor (users with MFA only).
    mfa_verified_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(lazy="joined")


class RecoveryCode(Base):
    """A one-time MFA recovery code; only its SHA-256 is stored (codes are random)."""

    __tablename__ = "recovery_codes"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class TokenPurpose(StrEnum):
    """What a one-time emailed token may be used for; never anything else (S11)."""

    PASSWORD_RESET = "password_reset"  # noqa: S105 - a purpose, not a secret
    EMAIL_VERIFICATION = "email_verification"


class UserToken(Base):
    """A one-time token sent to a user's mailbox. Only its hash is stored.

    It dies when used, when it expires, when a newer one of the same purpose is
    issued (``revoked_at``), and when the user's password or email changes
    after it was issued (checked against ``email`` and the user's
    ``password_changed_at`` at use).
    """

    __tablename__ = "user_tokens"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    purpose: Mapped[TokenPurpose] = mapped_column(StrEnumType(TokenPurpose, 32))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The address the token was sent to: a token for an old address is void.
    email: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()
