"""Signed checkpoints of the audit chain, kept outside the database (S36).

A checkpoint says "the log had reached event #seq, whose hash was head_hash",
signed with an Ed25519 key that is not in the database. Whoever can write to
the database can cut the newest events or (holding a chain key) recompute the
chain, but cannot make either agree with a checkpoint already in a sink:
``keyholder audit verify`` compares them.

Checkpoints describe committed rows only: they are written after a commit (the
first event a unit of work records asks for one, ``service.record_event``) and
by the background jobs, each time in a transaction of their own that reads the
committed head. One lock (SQLite's write lock; a PostgreSQL advisory lock)
makes writers take turns, and the ``audit_checkpoints`` table tells them what
is anchored already, so each head is signed once and sinks see rising seqs.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import func, select, text

from keyholder.audit.keys import key_fingerprint, signature_is_valid
from keyholder.audit.models import AuditCheckpoint, AuditEvent
from keyholder.audit.sinks import CheckpointSink
from keyholder.db.uow import UnitOfWork
from keyholder.errors import ServiceUnavailable

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (
        Ed25519PrivateKey,
        Ed25519PublicKey,
    )

log = logging.getLogger(__name__)

FORMAT = "keyholder.audit-checkpoint/1"
_CHECKPOINT_LOCK_KEY = 0x6B6863686B7074  # "khchkpt": writers of checkpoints take turns


@dataclass(frozen=True, slots=True)
class Checkpoint:
    seq: int
    head_hash: str
    at: str  # ISO 8601, UTC
    key_id: str | None  # the chain key of the head event
    signer: str  # fingerprint of the public key that verifies ``signature``
    signature: str  # hex

    @classmethod
    def sign(
        cls, key: Ed25519PrivateKey, *, seq: int, head_hash: str, at: datetime, key_id: str | None
    ) -> Checkpoint:
        signer = key_fingerprint(key.public_key())
        unsigned = cls(seq, head_hash, at.isoformat(), key_id, signer, signature="")
        return unsigned._with_signature(key.sign(unsigned._signed_bytes()).hex())

    def signature_is_valid(self, key: Ed25519PublicKey) -> bool:
        try:
            signature = bytes.fromhex(self.signature)
        except ValueError:
            return False
        return signature_is_valid(key, signature, self._signed_bytes())

    def to_line(self) -> str:
        return json.dumps({"format": FORMAT, **asdict(self)}, sort_keys=True)

    @classmethod
    def from_line(cls, line: str) -> Checkpoint:
        """Raises ValueError for anything that is not a checkpoint of this format."""
        try:
            data = json.loads(line)
            if data.pop("format") != FORMAT:
                raise ValueError(f"not a {FORMAT} line")
            checkpoint = cls(**data)
        except (TypeError, KeyError, AttributeError, json.JSONDecodeError) as exc:
            raise ValueError(f"not a {FORMAT} line") from exc
        if isinstance(checkpoint.seq, int) and isinstance(checkpoint.head_hash, str):
            return checkpoint
        raise ValueError(f"not a {FORMAT} line")

    def _signed_bytes(self) -> bytes:
        # Everything but the signature, canonical; the format name separates domains.
        fields = {"seq": self.seq, "head_hash": self.head_hash, "at": self.at}
        fields |= {"key_id": self.key_id, "signer": self.signer}
        return f"{FORMAT}\n{json.dumps(fields, sort_keys=True, separators=(',', ':'))}".encode()

    def _with_signature(self, signature: str) -> Checkpoint:
        return Checkpoint(self.seq, self.head_hash, self.at, self.key_id, self.signer, signature)


class CheckpointWriter:
    """Signs the committed head of the chain and appends it to every sink."""

    def __init__(
        self,
        uow_factory: Callable[[], UnitOfWork],
        key: Ed25519PrivateKey,
        sinks: list[CheckpointSink],
    ) -> None:
        self._uow_factory = uow_factory
        self._key = key
        self._sinks = sinks

    def write_due(self) -> Checkpoint | None:
        """Anchor the head if it moved since the last checkpoint; None when it did not.

        Raises ServiceUnavailable when a sink failed (the others still got the
        line); nothing is recorded then, so the next run tries again.
        """
        with self._uow_factory() as uow:
            session = uow.session
            if uow.dialect == "postgresql":
                session.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CHECKPOINT_LOCK_KEY}
                )
            head = session.execute(
                select(AuditEvent.seq, AuditEvent.hash, AuditEvent.key_id)
                .order_by(AuditEvent.seq.desc())
                .limit(1)
            ).first()
            anchored = session.scalar(select(func.max(AuditCheckpoint.seq))) or 0
            if head is None or head.seq <= anchored:
                return None
            at = uow.clock.now()
            checkpoint = Checkpoint.sign(
                self._key, seq=head.seq, head_hash=head.hash, at=at, key_id=head.key_id
            )
            self._append_everywhere(checkpoint.to_line())
            session.add(AuditCheckpoint(seq=head.seq, at=at, head_hash=head.hash))
            uow.commit()
            return checkpoint

    def write_after_commit(self) -> None:
        """``write_due`` for an after-commit hook: the change stands, so log rather than raise.

        The background jobs anchor whatever this could not.
        """
        try:
            self.write_due()
        except Exception:
            log.exception("audit checkpoint not written; the background jobs will retry")

    def _append_everywhere(self, line: str) -> None:
        failures = []
        for sink in self._sinks:
            try:
                sink.append(line)
            except OSError as exc:
                failures.append(f"{sink.name}: {exc}")
        if failures:
            raise ServiceUnavailable(f"audit checkpoint not kept by {'; '.join(failures)}")
