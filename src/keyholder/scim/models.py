"""The SCIM slice's tables: account-scoped bearer tokens, and what the IdP told us.

No scim2-models here: the metadata (``db.base.load_all_models``) loads this
module, and so does the CLI, which must start light.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from keyholder.accounts.models import EnterpriseAccount
from keyholder.accounts.permissions import PermissionSet, PermissionSetType
from keyholder.db.base import Base


class ScimToken(Base):
    """A bearer token for one account's SCIM endpoint; only its SHA-256 is stored (S6)."""

    __tablename__ = "scim_tokens"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("enterprise_accounts.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(100), default="")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # Who made it, as the audit log names them (an operator at the CLI).
    created_by: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]

    account: Mapped[EnterpriseAccount] = relationship(lazy="joined", innerjoin=True)


class ScimUser(Base):
    """What an account's identity provider said about one person, by their address.

    The membership (or pending invitation) stays the truth about access; this
    keeps what SCIM has that Keyholder does not (``userName`` as the IdP spells
    it, ``externalId``, name parts, ``emails``, ``active``), and the permissions
    the IdP wants, so that a deactivated User comes back with them. Its id is
    the SCIM id, derived from the account and the address (``resources.scim_id``),
    so a member added before any SCIM keeps the id the IdP first saw.
    """

    __tablename__ = "scim_users"
    __table_args__ = (UniqueConstraint("account_id", "email"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("enterprise_accounts.id", ondelete="CASCADE")
    )
    # The member's address (normalized): fixed when the User is created.
    email: Mapped[str] = mapped_column(String(320))
    user_name: Mapped[str] = mapped_column(String(320))
    external_id: Mapped[str | None] = mapped_column(String(255))
    # As the IdP last set it: None (never said), True, or False (not a member now).
    active: Mapped[bool | None]
    permissions: Mapped[PermissionSet] = mapped_column(PermissionSetType())
    # name, displayName and emails, as SCIM JSON.
    attributes: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
