"""tickets: the last change the requester can see, apart from staff-side changes

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-05 00:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(
            sa.Column("customer_updated_at", sa.DateTime(timezone=True), nullable=True)
        )
    # Tickets from before: their last change as it was shown until now.
    op.execute("UPDATE tickets SET customer_updated_at = updated_at")
    with op.batch_alter_table("tickets") as batch:
        batch.alter_column(
            "customer_updated_at", existing_type=sa.DateTime(timezone=True), nullable=False
        )


def downgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.drop_column("customer_updated_at")
