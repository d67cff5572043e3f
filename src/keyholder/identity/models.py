from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Double, ForeignKey, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from keyholder.db.base import Base
from keyholder.db.types import StrEnumType


class StaffRole(StrEnum):
    """Platform staff roles. Customers have none."""

    AGENT = "agent"
    REVIEWER = "reviewer"
    ADMIN = "admin"


def earliest(*moments: datetime | None) -> datetime | None:
    """The earliest of the moments given, ignoring None; None when all are."""
    present = [moment for moment in moments if moment is not None]
    return min(present) if present else None


class MfaMethod(StrEnum):
    """How a session passed its second factor (or signed in without a password).

    A passkey is phishing-resistant: the browser signs for our origin only. A
    recovery code is not, but it is the way back when a key is lost: each works
    once and its use is audited, so it counts as a passkey for the policy
    ``require_phishing_resistant_admin``. A TOTP code can be relayed by a
    phishing page, so under that policy it does not.
    """

    TOTP = "totp"
    RECOVERY_CODE = "recovery_code"
    PASSKEY = "passkey"

    @property
    def phishing_resistant(self) -> bool:
        return self is not MfaMethod.TOTP


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
    # Since when the user has had passkeys without a break (identity.passkeys);
    # None when they have none. Sessions verified before it must verify again.
    passkeys_since: Mapped[datetime | None]

    @property
    def second_factor_since(self) -> datetime | None:
        """Since when the user has had a second factor (TOTP or passkeys), or None."""
        return earliest(self.mfa_enabled_at, self.passkeys_since)

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
    # How the session that made the token passed its second factor, if it did:
    # a token is worth what the sign-in that made it was worth.
    mfa_method: Mapped[MfaMethod | None] = mapped_column(StrEnumType(MfaMethod, 20))

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
    mfa_method: Mapped[MfaMethod | None] = mapped_column(StrEnumType(MfaMethod, 20))

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


class Passkey(Base):
    """A WebAuthn credential (a passkey or a security key) of a user."""

    __tablename__ = "passkeys"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    credential_id: Mapped[bytes] = mapped_column(LargeBinary(1024), unique=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary(2048))  # COSE key
    sign_count: Mapped[int] = mapped_column(BigInteger, default=0)
    name: Mapped[str] = mapped_column(String(100))
    transports: Mapped[str] = mapped_column(String(200), default="")  # comma-separated
    aaguid: Mapped[str] = mapped_column(String(36), default="")
    # Whether the authenticator keeps it (a discoverable credential: signs in alone).
    discoverable: Mapped[bool] = mapped_column(default=False)
    backed_up: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]
    # When an assertion came with a signature counter not above the stored one:
    # the key may have been cloned. Shown on the security page until removed.
    clone_warning_at: Mapped[datetime | None]


class WebAuthnPurpose(StrEnum):
    REGISTRATION = "registration"
    SECOND_FACTOR = "second_factor"
    PASSWORDLESS = "passwordless"


class WebAuthnChallenge(Base):
    """A WebAuthn challenge we sent: single use, short-lived, bound to who asked.

    In the database, not in memory: the ceremony's two requests may reach
    different processes.
    """

    __tablename__ = "webauthn_challenges"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    purpose: Mapped[WebAuthnPurpose] = mapped_column(StrEnumType(WebAuthnPurpose, 20))
    challenge: Mapped[bytes] = mapped_column(LargeBinary(64))
    # Registration and second factor: the user; passwordless: nobody yet.
    user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    # The session that began the ceremony (hash of its token), when one did.
    session_hash: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)
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


class RateLimitHit(Base):
    """One counted attempt, for rate limits kept in the database (``identity.db_rate_limits``).

    ``bucket`` is an HMAC of what is counted and per what (never an email or an
    address in clear); ``hit_at`` is wall-clock seconds, as the other storages use.
    """

    __tablename__ = "rate_limit_hits"

    id: Mapped[int] = mapped_column(primary_key=True)
    bucket: Mapped[str] = mapped_column(String(32))
    hit_at: Mapped[float] = mapped_column(Double, index=True)

    __table_args__ = (Index("ix_rate_limit_hits_bucket_hit_at", "bucket", "hit_at"),)
