"""relay heartbeats: when each mail relay last made a pass (for /readyz)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04 18:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "relay_heartbeats",
        sa.Column("process", sa.String(length=200), nullable=False),
        sa.Column("beat_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("process", name=op.f("pk_relay_heartbeats")),
    )
    op.create_index(
        op.f("ix_relay_heartbeats_beat_at"), "relay_heartbeats", ["beat_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_relay_heartbeats_beat_at"), table_name="relay_heartbeats")
    op.drop_table("relay_heartbeats")
