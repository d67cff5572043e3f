"""Checking an audit export on the receiving side (issue 19): no database needed.

A consumer holds what it received, one event per line, possibly in several
exports resumed one after the other. This checks, in order: each line is an
event; seqs follow one another with no gap; each event links to the one
before it (the first to ``after_hash`` when given, or to the genesis when it
is event #1); an event received again (same seq, same hash) is recognised and
skipped, while one with the same seq and another hash is reported. With the
chain keys (``keyring``) each hash is recomputed, so an edited field is found;
without them, only events from before keyed chaining can be. Signed
checkpoints, when given, must agree with the hashes of the seqs they name.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from keyholder.audit.chain import GENESIS_HASH, compute_hash
from keyholder.audit.checkpoints import Checkpoint
from keyholder.audit.export import event_from_record
from keyholder.audit.keys import ChainKeyring
from keyholder.audit.models import AuditEvent


@dataclass(frozen=True, slots=True)
class ReceivedReport:
    checked: int  # distinct events that fit
    duplicates: int = 0  # events received again, recognised by seq and hash
    first_seq: int | None = None
    last_seq: int | None = None
    last_hash: str | None = None  # give as after_hash when checking the next export alone
    hashes_recomputed: bool = False  # whether every hash was recomputed
    anchor: Checkpoint | None = None  # the newest checkpoint the export agrees with
    first_bad_seq: int | None = None
    problem: str | None = None  # one line, naming the first bad event or line

    @property
    def intact(self) -> bool:
        return self.problem is None


class _Broken(Exception):
    def __init__(self, seq: int | None, problem: str) -> None:
        super().__init__(problem)
        self.seq = seq
        self.problem = problem


def verify_received(
    lines: Iterable[tuple[str, str]],
    *,
    after_hash: str | None = None,
    keyring: ChainKeyring | None = None,
    checkpoints: Sequence[Checkpoint] = (),
) -> ReceivedReport:
    """Check ``lines`` ((where, text) pairs, in the order received) as one stream."""
    check = _Check(after_hash, keyring, checkpoints)
    try:
        for where, text in lines:
            if text.strip():
                check.line(where, text)
    except _Broken as broken:
        return check.report(broken.seq, f"{broken.problem} ({check.checked} events before it fit)")
    return check.report()


class _Check:
    def __init__(
        self,
        after_hash: str | None,
        keyring: ChainKeyring | None,
        checkpoints: Sequence[Checkpoint],
    ) -> None:
        self.after_hash = after_hash
        self.keyring = keyring
        self.by_seq: dict[int, list[Checkpoint]] = {}
        for checkpoint in checkpoints:
            self.by_seq.setdefault(checkpoint.seq, []).append(checkpoint)
        self.seen: dict[int, str] = {}  # seq -> hash, to recognise re-delivered events
        self.first_seq: int | None = None
        self.last: AuditEvent | None = None
        self.checked = self.duplicates = 0
        self.all_recomputed = True
        self.anchor: Checkpoint | None = None

    def line(self, where: str, text: str) -> None:
        try:
            event = event_from_record(json.loads(text))
        except ValueError as exc:
            raise _Broken(None, f"{where} is not an audit event: {exc}") from exc
        if event.seq in self.seen:
            if self.seen[event.seq] != event.hash:
                raise _Broken(
                    event.seq,
                    f"event #{event.seq} ({where}) was received before with another hash",
                )
            self.duplicates += 1
            return
        self.link(event, where)
        self.check_hash(event, where)
        self.check_checkpoints(event, where)
        self.seen[event.seq] = event.hash
        self.first_seq = event.seq if self.first_seq is None else self.first_seq
        self.last = event
        self.checked += 1

    def link(self, event: AuditEvent, where: str) -> None:
        name = f"event #{event.seq} ({where})"
        if self.last is not None:
            if event.seq != self.last.seq + 1:
                missing = self.last.seq + 1
                raise _Broken(event.seq, f"{name}: expected event #{missing}; a gap")
            expected = self.last.hash
        elif self.after_hash is not None:
            expected = self.after_hash
        elif event.seq == 1:
            expected = GENESIS_HASH
        else:
            return  # the first event of a resumed stream: its link is checked by the next one
        if event.prev_hash != expected:
            raise _Broken(event.seq, f"{name} does not link to the event before it")

    def check_hash(self, event: AuditEvent, where: str) -> None:
        if event.key_id is not None and self.keyring is None:
            self.all_recomputed = False
            return
        try:
            recomputed = compute_hash(event, self.keyring or ChainKeyring({}, ""))
        except LookupError:
            raise _Broken(
                event.seq,
                f"event #{event.seq} ({where}) names chain key {event.key_id!r}, "
                "which is not configured",
            ) from None
        if recomputed != event.hash:
            raise _Broken(
                event.seq, f"event #{event.seq} ({where}): content does not match its hash"
            )

    def check_checkpoints(self, event: AuditEvent, where: str) -> None:
        for checkpoint in self.by_seq.get(event.seq, ()):
            if checkpoint.head_hash != event.hash:
                raise _Broken(
                    event.seq,
                    f"event #{event.seq} ({where}): its hash differs from the signed "
                    f"checkpoint of {checkpoint.at}",
                )
            self.anchor = checkpoint

    def report(self, bad_seq: int | None = None, problem: str | None = None) -> ReceivedReport:
        return ReceivedReport(
            checked=self.checked,
            duplicates=self.duplicates,
            first_seq=self.first_seq,
            last_seq=self.last.seq if self.last else None,
            last_hash=self.last.hash if self.last else None,
            hashes_recomputed=self.all_recomputed and self.checked > 0,
            anchor=self.anchor,
            first_bad_seq=bad_seq,
            problem=problem,
        )
