"""Writing the keyed, hash-chained audit log (S36).

Each event stores the previous event's hash and its own hash over its content
and that link, so editing, deleting or reordering any row breaks the chain at
that row. The hash is an HMAC-SHA256 with a chain key that is not in the
database (``audit.keys``), so nobody without the key can recompute the chain
after an edit; each event names the key it used, so rotated keys keep old
events verifiable. Events from before keyed chaining (``key_id`` NULL) keep
their plain SHA-256 and may only come before the first keyed one.

Appends are serialised (SQLite: the write transaction's lock; PostgreSQL: a
transaction-scoped advisory lock) so the chain stays linear with several
processes writing. After commit, a signed checkpoint of the new head goes to
the sinks outside the database (``audit.checkpoints``), which is what detects
a cut tail or a chain recomputed with a stolen key's help.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from sqlalchemy import select, text

from keyholder.audit.actions import AuditAction
from keyholder.audit.chain import GENESIS_HASH, compute_hash
from keyholder.audit.models import AuditEvent
from keyholder.audit.settings import chain_keyring
from keyholder.audit.verify import ChainReport, verify_chain
from keyholder.db.tx import Tx
from keyholder.db.uow import UnitOfWork

# The audit log's use cases, in one place for their callers.
__all__ = [
    "GENESIS_HASH",
    "ChainReport",
    "compute_hash",
    "list_events",
    "record_event",
    "verify_chain",
]


class Acting(Protocol):
    """Who an event names: ``identity.actor.Actor`` is one (audit sits below identity)."""

    @property
    def label(self) -> str: ...


_CHAIN_LOCK_KEY = 0x6B6579686F6C64  # "keyhold": one advisory lock for the chain
# Marks a session whose commit already asks for a checkpoint (one is enough).
_CHECKPOINT_REQUESTED = "keyholder.audit.checkpoint_requested"


def record_event(
    tx: Tx,
    *,
    actor: Acting,
    action: AuditAction,
    target: str,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
) -> AuditEvent:
    """Append an event in the caller's transaction; it commits with the change.

    ``target`` comes from ``audit.targets``, so searches by target find it.
    """
    session = tx.session
    if tx.dialect == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CHAIN_LOCK_KEY})
    last = session.execute(
        select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)
    ).first()
    seq, prev_hash = (last.seq + 1, last.hash) if last else (1, GENESIS_HASH)
    keyring = chain_keyring(tx.settings)
    event = AuditEvent(
        seq=seq,
        at=tx.clock.now(),
        actor=actor.label,
        action=str(action),  # the value: rows hold the vocabulary's strings
        target=target,
        data={"before": dict(before) if before else None, "after": dict(after) if after else None},
        client_address=tx.context.client_address,
        request_id=tx.context.request_id,
        prev_hash=prev_hash,
        key_id=keyring.current,
    )
    event.hash = compute_hash(event, keyring)
    session.add(event)
    session.flush()
    _checkpoint_after_commit(tx, seq)
    return event


def _checkpoint_after_commit(tx: Tx, seq: int) -> None:
    """Once per unit of work, anchor the new head outside the database after commit."""
    checkpoints = tx.audit_checkpoints
    if checkpoints is None or seq % tx.settings.audit_checkpoint_every:
        return
    if not tx.session.info.get(_CHECKPOINT_REQUESTED):
        tx.session.info[_CHECKPOINT_REQUESTED] = True
        tx.after_commit(checkpoints.write_after_commit)


def list_events(
    uow: UnitOfWork, *, target: str | None = None, action: str | None = None, limit: int = 100
) -> Sequence[AuditEvent]:
    """Newest first, optionally filtered."""
    query = select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(limit)
    if target is not None:
        query = query.where(AuditEvent.target == target)
    if action is not None:
        query = query.where(AuditEvent.action == action)
    with uow:
        return uow.session.scalars(query).all()
