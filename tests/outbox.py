"""Test-side access to the outbox table."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from keyholder.bootstrap import Runtime
from keyholder.mail.models import OutboxMessage
from keyholder.mail.outbox import enqueue_email


class Outbox:
    """Test-side access to the outbox table."""

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime

    def rows(self) -> list[OutboxMessage]:
        with self._runtime.uow(read_only=True) as uow:
            return list(uow.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))

    def message_ids(self) -> list[str]:
        return [row.message_id for row in self.rows()]

    def enqueue(
        self, count: int = 1, *, to: Sequence[str] | None = None, kind: str = "test"
    ) -> list[str]:
        """Queue ``count`` emails in one committed unit of work; return their Message-IDs."""
        with self._runtime.uow() as uow:
            rows = [
                enqueue_email(
                    uow,
                    kind=kind,
                    to=list(to) if to is not None else [f"person{i}@customer.example"],
                    subject=f"Test message {i}",
                    body=f"This is test message {i}.\n",
                )
                for i in range(count)
            ]
            uow.commit()
        return [row.message_id for row in rows]

    def of_kind(self, kind: str) -> list[OutboxMessage]:
        return [row for row in self.rows() if row.kind == kind]

    def to(self, address: str) -> list[OutboxMessage]:
        return [row for row in self.rows() if address in row.recipients]
