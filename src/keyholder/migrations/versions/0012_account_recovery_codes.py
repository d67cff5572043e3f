"""Break-glass recovery codes of an account, and claims made with them

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 17:00:00

account_recovery_codes holds the SHA-256 of each code an admin generated
(accounts.recovery_codes); access_requests.via tells a reviewed letter request
from a claim by recovery code (access.recovery_claims). Rows written before
this are letter requests.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "account_recovery_codes",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("generated_by_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("used_by_id", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["enterprise_accounts.id"],
            name=op.f("fk_account_recovery_codes_account_id_enterprise_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["generated_by_id"],
            ["users.id"],
            name=op.f("fk_account_recovery_codes_generated_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["used_by_id"],
            ["users.id"],
            name=op.f("fk_account_recovery_codes_used_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_recovery_codes")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_account_recovery_codes_code_hash")),
    )
    with op.batch_alter_table("account_recovery_codes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_account_recovery_codes_account_id"), ["account_id"], unique=False
        )
    with op.batch_alter_table("access_requests", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("via", sa.String(length=20), server_default="letter", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("access_requests", schema=None) as batch_op:
        batch_op.drop_column("via")
    with op.batch_alter_table("account_recovery_codes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_account_recovery_codes_account_id"))
    op.drop_table("account_recovery_codes")
