"""SCIM: account-scoped bearer tokens, and what an identity provider said about members

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-04 21:30:00

scim_tokens holds the SHA-256 of each token (scim.tokens); scim_users keeps the
SCIM attributes Keyholder has no column for, one row per account and address
(scim.service).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import keyholder.accounts.permissions

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "scim_tokens",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.String(length=320), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["enterprise_accounts.id"],
            name=op.f("fk_scim_tokens_account_id_enterprise_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scim_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_scim_tokens_token_hash")),
    )
    with op.batch_alter_table("scim_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_scim_tokens_account_id"), ["account_id"], unique=False)
    op.create_table(
        "scim_users",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("user_name", sa.String(length=320), nullable=False),
        sa.Column("external_id", sa.String(length=255), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=True),
        sa.Column(
            "permissions",
            keyholder.accounts.permissions.PermissionSetType(length=64),
            nullable=False,
        ),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["enterprise_accounts.id"],
            name=op.f("fk_scim_users_account_id_enterprise_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scim_users")),
        sa.UniqueConstraint("account_id", "email", name=op.f("uq_scim_users_account_id")),
    )


def downgrade() -> None:
    op.drop_table("scim_users")
    with op.batch_alter_table("scim_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_scim_tokens_account_id"))
    op.drop_table("scim_tokens")
