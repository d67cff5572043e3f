"""Checking the audit log against its keys and its signed checkpoints (S36).

The walk checks, event by event: no gap, each link, each hash (an HMAC with the
key the event names, or SHA-256 for events from before keyed chaining, which
may only come first), and that each checkpoint's seq still holds the hash it
signed. After the walk, a checkpoint beyond the last event means the newest
events were deleted. Reports name the first bad event in one line.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import ScalarResult, select

from keyholder.audit.chain import GENESIS_HASH, compute_hash
from keyholder.audit.checkpoints import Checkpoint
from keyholder.audit.keys import ChainKeyring
from keyholder.audit.models import AuditEvent
from keyholder.audit.settings import chain_keyring
from keyholder.audit.sinks import read_checkpoint_lines
from keyholder.db.tx import Tx
from keyholder.db.uow import UnitOfWork

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey


class CheckpointFileProblem(Exception):
    """A checkpoint file holds a line that is unreadable, forged or signed by an unknown key."""


@dataclass(frozen=True, slots=True)
class ChainReport:
    checked: int
    first_bad_seq: int | None = None
    problem: str | None = None  # one line, naming the first bad event or the missing tail
    legacy: int = 0  # events from before keyed chaining (plain SHA-256)
    anchor: Checkpoint | None = None  # the newest checkpoint the log agrees with

    @property
    def intact(self) -> bool:
        return self.problem is None


def read_checkpoints(
    paths: Iterable[Path], trusted: Mapping[str, Ed25519PublicKey]
) -> list[Checkpoint]:
    """Every checkpoint in ``paths``, each signed by a trusted key, else CheckpointFileProblem."""
    checkpoints = []
    for path in paths:
        for number, line in read_checkpoint_lines(path):
            where = f"checkpoint file {path} line {number}"
            try:
                checkpoint = Checkpoint.from_line(line)
            except ValueError as exc:
                raise CheckpointFileProblem(f"{where} is not a readable checkpoint") from exc
            key = trusted.get(checkpoint.signer)
            if key is None:
                raise CheckpointFileProblem(
                    f"{where}: the checkpoint of event #{checkpoint.seq} is signed by key "
                    f"{checkpoint.signer}, which is not trusted "
                    "(KEYHOLDER_AUDIT_PUBLIC_KEYS or --public-key)"
                )
            if not checkpoint.signature_is_valid(key):
                raise CheckpointFileProblem(
                    f"{where}: the checkpoint of event #{checkpoint.seq} has a forged "
                    "or damaged signature"
                )
            checkpoints.append(checkpoint)
    return checkpoints


def verify_chain(
    uow: UnitOfWork,
    *,
    checkpoints: Sequence[Checkpoint] = (),
    keyring: ChainKeyring | None = None,
) -> ChainReport:
    """Walk the whole log in order and report the first event that does not fit."""
    walk = _Walk(keyring or chain_keyring(uow.settings), checkpoints)
    query = select(AuditEvent).order_by(AuditEvent.seq).execution_options(yield_per=1000)
    with uow:
        result = uow.session.scalars(query)
        try:
            return walk.run(uow, result)
        finally:
            result.close()  # a server-side cursor on PostgreSQL


class _Walk:
    def __init__(self, keyring: ChainKeyring, checkpoints: Sequence[Checkpoint]) -> None:
        self.keyring = keyring
        self.by_seq: dict[int, list[Checkpoint]] = {}
        for checkpoint in checkpoints:
            self.by_seq.setdefault(checkpoint.seq, []).append(checkpoint)
        self.newest = max(checkpoints, key=lambda c: c.seq, default=None)
        self.checked = self.legacy = 0
        self.anchor: Checkpoint | None = None

    def run(self, tx: Tx, events: ScalarResult[AuditEvent]) -> ChainReport:
        expected_seq, expected_prev = 1, GENESIS_HASH
        for event in events:
            if event.seq != expected_seq:
                gap = f"expected event #{expected_seq} here; the chain has a gap"
                return self.broken(event, gap)
            if event.prev_hash != expected_prev:
                return self.broken(event, "does not link to the event before it")
            problem = self.check_hash(event) or self.check_checkpoints(event)
            if problem:
                return self.broken(event, problem)
            expected_seq, expected_prev = event.seq + 1, event.hash
            self.checked += 1
            tx.session.expunge(event)  # keeps memory flat on long logs
        if self.newest is not None and self.newest.seq >= expected_seq:
            return ChainReport(
                self.checked,
                expected_seq,
                f"events after #{expected_seq - 1} were deleted: the signed checkpoint of "
                f"{self.newest.at} says the log reached event #{self.newest.seq} "
                f"(hash {self.newest.head_hash[:16]}…)",
                self.legacy,
            )
        return ChainReport(self.checked, legacy=self.legacy, anchor=self.anchor)

    def check_hash(self, event: AuditEvent) -> str | None:
        if event.key_id is None:
            if self.checked > self.legacy:
                return "an unkeyed (SHA-256) event after keyed ones: rewritten without the key"
            self.legacy += 1
        try:
            if event.hash != compute_hash(event, self.keyring):
                return "content does not match its hash"
        except LookupError:
            return f"it names chain key {event.key_id!r}, which is not in KEYHOLDER_AUDIT_KEYS"
        return None

    def check_checkpoints(self, event: AuditEvent) -> str | None:
        for checkpoint in self.by_seq.get(event.seq, ()):
            if checkpoint.head_hash != event.hash:
                return (
                    f"its hash differs from the signed checkpoint of {checkpoint.at}: "
                    "the chain was rewritten up to here"
                )
            self.anchor = checkpoint
        return None

    def broken(self, event: AuditEvent, problem: str) -> ChainReport:
        return ChainReport(
            self.checked,
            event.seq,
            f"audit chain broken at event #{event.seq}: {problem} "
            f"({self.checked} events before it are intact)",
            self.legacy,
        )
