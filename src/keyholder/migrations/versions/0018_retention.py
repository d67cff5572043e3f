"""retention: when each request was decided and purged, purged attachments, tombstones

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-04 21:15:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_FINAL = "('executed', 'rejected', 'cancelled', 'routed')"


def upgrade() -> None:
    with op.batch_alter_table("access_requests") as batch:
        batch.add_column(sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("purged_at", sa.DateTime(timezone=True), nullable=True))
    # A request decided before this revision: nothing moved it since, so its last change is it.
    op.execute(
        f"UPDATE access_requests SET decided_at = COALESCE(executed_at, updated_at) "  # noqa: S608
        f"WHERE state IN {_FINAL}"
    )
    op.create_index("ix_access_requests_retention", "access_requests", ["purged_at", "decided_at"])
    with op.batch_alter_table("attachments") as batch:
        batch.add_column(sa.Column("purged_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "retention_tombstones",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Uuid(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("label", sa.String(length=255), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=True),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["access_requests.id"],
            name=op.f("fk_retention_tombstones_request_id_access_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_retention_tombstones")),
    )
    op.create_index(
        op.f("ix_retention_tombstones_request_id"),
        "retention_tombstones",
        ["request_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_retention_tombstones_request_id"), table_name="retention_tombstones")
    op.drop_table("retention_tombstones")
    with op.batch_alter_table("attachments") as batch:
        batch.drop_column("purged_at")
    op.drop_index("ix_access_requests_retention", table_name="access_requests")
    with op.batch_alter_table("access_requests") as batch:
        batch.drop_column("purged_at")
        batch.drop_column("decided_at")
