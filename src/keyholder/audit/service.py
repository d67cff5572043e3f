"""Writing and checking the hash-chained audit log.

Each event stores the previous event's hash and its own hash over its content
and that link, so editing, deleting or reordering any row breaks the chain at
that row. Appends are serialised (SQLite: the write transaction's lock;
PostgreSQL: a transaction-scoped advisory lock) so the chain stays linear with
several processes writing.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ScalarResult, select, text

from keyholder.audit.models import AuditEvent
from keyholder.db.uow import UnitOfWork
from keyholder.identity.actor import Actor

GENESIS_HASH = "0" * 64
_CHAIN_LOCK_KEY = 0x6B6579686F6C64  # "keyhold": one advisory lock for the chain


def record_event(
    uow: UnitOfWork,
    *,
    actor: Actor,
    action: str,
    target: str,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
) -> AuditEvent:
    """Append an event in the caller's transaction; it commits with the change."""
    session = uow.session
    if uow.dialect == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CHAIN_LOCK_KEY})
    last = session.execute(
        select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)
    ).first()
    seq, prev_hash = (last.seq + 1, last.hash) if last else (1, GENESIS_HASH)
    event = AuditEvent(
        seq=seq,
        at=uow.clock.now(),
        actor=actor.label,
        action=action,
        target=target,
        data={"before": dict(before) if before else None, "after": dict(after) if after else None},
        client_address=uow.context.client_address,
        request_id=uow.context.request_id,
        prev_hash=prev_hash,
    )
    event.hash = compute_hash(event)
    session.add(event)
    session.flush()
    return event


def compute_hash(event: AuditEvent) -> str:
    payload = {
        "seq": event.seq,
        "at": _canonical_time(event.at),
        "actor": event.actor,
        "action": event.action,
        "target": event.target,
        "data": event.data,
        "client_address": event.client_address,
        "request_id": event.request_id,
        "prev_hash": event.prev_hash,
    }
    encoded = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(encoded.encode()).hexdigest()


def _canonical_time(at: datetime) -> str:
    return at.isoformat(timespec="microseconds")


@dataclass(frozen=True, slots=True)
class ChainReport:
    checked: int
    first_bad_seq: int | None = None
    problem: str | None = None

    @property
    def intact(self) -> bool:
        return self.first_bad_seq is None


def verify_chain(uow: UnitOfWork) -> ChainReport:
    """Walk the whole log in order and report the first event that does not fit."""
    query = select(AuditEvent).order_by(AuditEvent.seq).execution_options(yield_per=1000)
    with uow:
        return _walk(uow, uow.session.scalars(query))


def _walk(uow: UnitOfWork, result: ScalarResult[AuditEvent]) -> ChainReport:
    expected_seq, expected_prev, checked = 1, GENESIS_HASH, 0
    try:
        for event in result:
            if event.seq != expected_seq:
                return ChainReport(
                    checked, event.seq, f"expected event #{expected_seq} here; the chain has a gap"
                )
            if event.prev_hash != expected_prev:
                return ChainReport(checked, event.seq, "does not link to the event before it")
            if event.hash != compute_hash(event):
                return ChainReport(checked, event.seq, "content does not match its hash")
            expected_seq, expected_prev, checked = event.seq + 1, event.hash, checked + 1
            uow.session.expunge(event)  # keeps memory flat on long logs
        return ChainReport(checked)
    finally:
        result.close()  # a server-side cursor on PostgreSQL


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
