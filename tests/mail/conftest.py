"""Mail fixtures: a loopback SMTP server and a runtime whose relay delivers to it."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from sqlalchemy import select

from keyholder.bootstrap import Runtime
from keyholder.mail.models import OutboxMessage
from keyholder.mail.outbox import enqueue_email
from keyholder.mail.relay import Relay


@pytest.fixture
def relay(mail_runtime: Runtime) -> Relay:
    relay = mail_runtime.relay()
    assert relay is not None
    return relay


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


@pytest.fixture
def outbox(runtime: Runtime) -> Outbox:
    return Outbox(runtime)
