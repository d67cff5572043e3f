"""The unit of work: one use case, one transaction.

Services open one, do their work through ``uow.session`` and call
``uow.commit()`` once. Leaving the block without committing rolls back, so a
failed use case leaves nothing half-applied.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Protocol, Self

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from keyholder.clock import Clock
from keyholder.config import Settings
from keyholder.db.engine import WRITE_OPTION
from keyholder.errors import Conflict

if TYPE_CHECKING:
    from keyholder.db.tx import BlobStore, ChainAnchor


@dataclass(frozen=True, slots=True)
class RequestContext:
    """Where a use case was asked from, for the audit log."""

    client_address: str | None = None
    request_id: str | None = None


class UnitOfWork:
    def __init__(
        self,
        session_factory: sessionmaker[Session],
        *,
        settings: Settings,
        clock: Clock,
        context: RequestContext,
        mail_queued: threading.Event | None = None,
        blobs: Callable[[], BlobStore],
        audit_checkpoints: Callable[[], ChainAnchor | None] | None = None,
    ) -> None:
        self._session_factory = session_factory
        self.settings = settings
        self.clock = clock
        self.context = context
        self.mail_queued = mail_queued
        self._blobs = blobs
        self._audit_checkpoints = audit_checkpoints
        self._after_commit: list[Callable[[], None]] = []
        self._open = False
        # Made on first use: a use case that is one prepared read never needs one.
        self._session: Session | None = None

    @property
    def session(self) -> Session:
        if not self._open:
            raise RuntimeError("the unit of work is not open; use it in a with block")
        if self._session is None:
            self._session = self._session_factory()
        return self._session

    def read_engine(self) -> Engine:
        """The engine for a ``PreparedRead`` that is this unit of work's whole work.

        Refused once the session has begun: the read would run on another
        connection, outside the transaction the session holds."""
        if not self._open:
            raise RuntimeError("the unit of work is not open; use it in a with block")
        if self._session is not None and self._session.in_transaction():
            raise RuntimeError("a prepared read must be the first work of its unit of work")
        engine: Engine = self._session_factory.kw["bind"]
        return engine

    @property
    def blobs(self) -> BlobStore:
        """Where attachments' bytes go: the runtime's blob store (S34)."""
        return self._blobs()

    @property
    def audit_checkpoints(self) -> ChainAnchor | None:
        """Anchors the audit chain after commit (S36); built when first asked for."""
        return self._audit_checkpoints() if self._audit_checkpoints is not None else None

    @property
    def dialect(self) -> str:
        bind = self.session.get_bind()
        return bind.dialect.name

    def __enter__(self) -> Self:
        if self._open:
            raise RuntimeError("this unit of work is already open; make a new one")
        self._open = True
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # close() rolls back whatever was not committed and detaches objects
        # without expiring them, so callers can still render what they loaded.
        if self._session is not None:
            self._session.close()
        self._session = None
        self._open = False
        if isinstance(exc, IntegrityError):
            # A unique key taken by a concurrent transaction between our check and our write.
            raise Conflict(
                "this change clashed with another one made at the same time; try again"
            ) from exc

    def commit(self) -> None:
        self.session.commit()
        callbacks, self._after_commit = self._after_commit, []
        for callback in callbacks:
            callback()

    def flush(self) -> None:
        self.session.flush()

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` once this unit of work has committed (never on rollback)."""
        self._after_commit.append(callback)


class UnitOfWorkFactory(Protocol):
    """Makes a fresh unit of work (``Runtime.uow``), for jobs that run several."""

    def __call__(
        self, context: RequestContext | None = None, *, read_only: bool = False
    ) -> UnitOfWork: ...


def make_session_factories(engine: Engine) -> tuple[sessionmaker[Session], sessionmaker[Session]]:
    """Session factories for reading and for writing (see ``WRITE_OPTION``)."""
    read = sessionmaker(bind=engine, expire_on_commit=False)
    write = sessionmaker(
        bind=engine.execution_options(**{WRITE_OPTION: True}),
        expire_on_commit=False,
    )
    return read, write
