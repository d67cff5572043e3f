"""recovery contacts confirmed by link, single-admin reminders

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 17:00:00

Recovery contacts now confirm their address by an emailed link and count for
recovery only once confirmed and past the waiting period (issue 18). Contacts
already in the database were recorded by platform staff, who vouched for them
(as ``create_account`` still does): they are taken as confirmed when they were
added (``confirmed_at = changed_at = added_at``), so a deployment keeps its
executives on record and their age. ``enterprise_accounts.admin_reminder_sent_at``
starts empty: a single-admin account is reminded at the next run of the jobs.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_CONTACTS = sa.table(
    "account_contacts",
    sa.column("added_at", sa.DateTime(timezone=True)),
    sa.column("changed_at", sa.DateTime(timezone=True)),
    sa.column("confirmed_at", sa.DateTime(timezone=True)),
)


def upgrade() -> None:
    with op.batch_alter_table("account_contacts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("changed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("confirm_token_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column("confirm_expires_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.create_unique_constraint(
            batch_op.f("uq_account_contacts_confirm_token_hash"), ["confirm_token_hash"]
        )
    op.execute(
        _CONTACTS.update().values(
            changed_at=_CONTACTS.c.added_at, confirmed_at=_CONTACTS.c.added_at
        )
    )
    with op.batch_alter_table("account_contacts", schema=None) as batch_op:
        batch_op.alter_column(
            "changed_at", existing_type=sa.DateTime(timezone=True), nullable=False
        )

    with op.batch_alter_table("enterprise_accounts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("admin_reminder_sent_at", sa.DateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("enterprise_accounts", schema=None) as batch_op:
        batch_op.drop_column("admin_reminder_sent_at")

    with op.batch_alter_table("account_contacts", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("uq_account_contacts_confirm_token_hash"), type_="unique"
        )
        batch_op.drop_column("confirm_expires_at")
        batch_op.drop_column("confirm_token_hash")
        batch_op.drop_column("confirmed_at")
        batch_op.drop_column("changed_at")
