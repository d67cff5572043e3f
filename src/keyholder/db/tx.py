"""The transaction a helper runs in: its caller's unit of work, without ``commit``.

Two kinds of function take a unit of work. A use case takes ``uow: UnitOfWork``,
opens it (``with uow:``) and commits once. A helper takes ``tx: Tx``: it runs
inside its caller's open transaction, reads and writes through it, and never
commits, so a helper that tries to is a type error and a signature says which
kind a function is. ``UnitOfWork`` satisfies ``Tx`` structurally.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from sqlalchemy.orm import Session

from keyholder.clock import Clock
from keyholder.config import Settings

if TYPE_CHECKING:
    from keyholder.db.uow import RequestContext


class ChainAnchor(Protocol):
    """Anchors the audit chain outside the database (``audit.checkpoints.CheckpointWriter``)."""

    def write_after_commit(self) -> None:
        """Write a checkpoint if one is due, after the transaction committed; never raises."""
        ...


class BlobStore(Protocol):
    """Content-addressed bytes (S34); the stores themselves are in ``desk.blobs``."""

    def store(self, tx: Tx, data: bytes) -> str:
        """Store ``data`` (once, however often it is stored) and return its SHA-256."""
        ...

    def load(self, tx: Tx, digest: str) -> bytes:
        """The bytes whose SHA-256 is ``digest``; BlobMissing or BlobCorrupted otherwise."""
        ...

    def delete(self, tx: Tx, digest: str) -> None:
        """Forget the bytes once the caller's transaction commits; nothing if they are not there."""
        ...


class Tx(Protocol):
    """An open transaction: its session and what a use case runs with."""

    @property
    def session(self) -> Session: ...

    @property
    def settings(self) -> Settings: ...

    @property
    def clock(self) -> Clock: ...

    @property
    def context(self) -> RequestContext:
        """Where the use case was asked from (client address, request id)."""
        ...

    @property
    def dialect(self) -> str:
        """The database's dialect name (``sqlite``, ``postgresql``)."""
        ...

    @property
    def blobs(self) -> BlobStore:
        """The runtime's blob store, chosen by the settings (``desk.blobs``)."""
        ...

    @property
    def mail_queued(self) -> threading.Event | None:
        """Set after commit when mail was queued, to wake the relay."""
        ...

    @property
    def audit_checkpoints(self) -> ChainAnchor | None:
        """Anchors the audit chain after commit (S36); None without sinks."""
        ...

    def flush(self) -> None: ...

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` once the caller has committed (never on rollback)."""
        ...
