"""rate_limit_hits: rate-limit counts kept in the database, shared by every process

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-05 00:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rate_limit_hits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("bucket", sa.String(length=32), nullable=False),
        sa.Column("hit_at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rate_limit_hits")),
    )
    op.create_index(
        "ix_rate_limit_hits_bucket_hit_at", "rate_limit_hits", ["bucket", "hit_at"], unique=False
    )
    op.create_index(op.f("ix_rate_limit_hits_hit_at"), "rate_limit_hits", ["hit_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_rate_limit_hits_hit_at"), table_name="rate_limit_hits")
    op.drop_index("ix_rate_limit_hits_bucket_hit_at", table_name="rate_limit_hits")
    op.drop_table("rate_limit_hits")
