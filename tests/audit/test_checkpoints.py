"""Signed checkpoints outside the database anchor the chain (S36)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select

from keyholder.audit.checkpoints import Checkpoint
from keyholder.audit.keys import load_signing_key
from keyholder.audit.models import AuditCheckpoint
from keyholder.audit.verify import CheckpointFileProblem
from keyholder.bootstrap import Runtime
from keyholder.errors import ServiceUnavailable
from keyholder.worker import run_jobs_once
from tests.audit.conftest import execute, record, verify
from tests.conftest import START
from tests.syslog_server import LoopbackSyslogServer

AT = START.isoformat()  # the fixed clock's time


def lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


class TestWriting:
    def test_s36_each_commit_appends_a_signed_checkpoint_of_the_committed_head(
        self, anchored: Runtime, checkpoint_file: Path
    ):
        record(anchored, 3)

        written = lines(checkpoint_file)
        assert [(c["seq"], c["at"], c["key_id"]) for c in written] == [
            (1, AT, "dev"),
            (2, AT, "dev"),
            (3, AT, "dev"),
        ]
        report = verify(anchored, checkpoint_file)
        assert report.intact
        assert report.anchor is not None
        assert report.anchor.seq == 3

    def test_s36_every_n_events_and_the_job_anchor_the_rest(
        self, derive_runtime: Callable[..., Runtime], checkpoint_file: Path
    ):
        runtime = derive_runtime(audit_checkpoint_file=checkpoint_file, audit_checkpoint_every=3)

        record(runtime, 2)
        assert not checkpoint_file.exists()
        record(runtime, 2, first=3)
        assert [c["seq"] for c in lines(checkpoint_file)] == [3]

        assert run_jobs_once(runtime).checkpointed == 1  # event 4, between two multiples
        assert run_jobs_once(runtime).checkpointed == 0  # nothing new: nothing written
        assert [c["seq"] for c in lines(checkpoint_file)] == [3, 4]

    def test_s36_concurrent_writers_sign_each_head_once_in_rising_order(
        self, anchored: Runtime, checkpoint_file: Path
    ):
        threads = [threading.Thread(target=record, args=(anchored, 5)) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        seqs = [c["seq"] for c in lines(checkpoint_file)]
        assert seqs == sorted(set(seqs))  # no duplicates, never backwards
        assert seqs[-1] == 20
        with anchored.uow(read_only=True) as uow:
            assert uow.session.scalar(select(func.count()).select_from(AuditCheckpoint)) == len(
                seqs
            )
        assert verify(anchored, checkpoint_file).intact

    def test_s36_a_failing_sink_leaves_the_change_and_the_job_retries(
        self, derive_runtime: Callable[..., Runtime], tmp_path: Path
    ):
        blocked = tmp_path / "not-a-directory"
        blocked.write_text("")
        runtime = derive_runtime(audit_checkpoint_file=blocked / "checkpoints.jsonl")

        record(runtime, 1)  # the commit stands; the after-commit checkpoint failed

        assert verify(runtime).checked == 1
        with pytest.raises(ServiceUnavailable, match="audit checkpoint not kept by file"):
            run_jobs_once(runtime)


class TestVerifying:
    def test_s36_deleting_the_newest_events_is_reported_from_the_checkpoint(
        self, anchored: Runtime, checkpoint_file: Path
    ):
        record(anchored, 5)

        execute(anchored, "DELETE FROM audit_events WHERE seq > 3")

        report = verify(anchored, checkpoint_file)
        assert report.problem == (
            f"events after #3 were deleted: the signed checkpoint of {AT} says the log "
            f"reached event #5 (hash {lines(checkpoint_file)[-1]['head_hash'][:16]}…)"  # type: ignore[index]
        )

    def test_s36_a_cut_tail_written_over_by_new_events_is_reported(
        self, anchored: Runtime, checkpoint_file: Path
    ):
        record(anchored, 5)
        execute(anchored, "DELETE FROM audit_events WHERE seq > 3")
        execute(anchored, "DELETE FROM audit_checkpoints")  # the attacker's bookkeeping too
        record(anchored, 3, first=10)  # the service goes on from #4

        report = verify(anchored, checkpoint_file)
        assert report.first_bad_seq == 4
        assert "its hash differs from the signed checkpoint" in (report.problem or "")

    def test_s36_a_chain_recomputed_as_plain_sha256_fails_at_the_checkpoint(
        self, anchored: Runtime, checkpoint_file: Path
    ):
        from tests.audit.test_keyed_chain import ATTACKER_KEY, rewrite_chain  # noqa: PLC0415

        record(anchored, 4)
        rewrite_chain(anchored, start=1, key_id=None, keyring=ATTACKER_KEY)

        assert verify(anchored).intact  # without checkpoints it looks like a legacy log
        report = verify(anchored, checkpoint_file)
        assert report.first_bad_seq == 1
        assert "its hash differs from the signed checkpoint" in (report.problem or "")

    def test_s36_a_forged_checkpoint_is_refused(self, anchored: Runtime, checkpoint_file: Path):
        record(anchored, 2)
        forged = lines(checkpoint_file)[-1] | {"seq": 7}
        with checkpoint_file.open("a") as out:
            out.write(json.dumps(forged) + "\n")

        with pytest.raises(
            CheckpointFileProblem, match="line 3: the checkpoint of event #7 has a forged"
        ):
            verify(anchored, checkpoint_file)

    def test_s36_a_checkpoint_signed_by_another_key_is_refused(
        self, anchored: Runtime, checkpoint_file: Path
    ):
        record(anchored, 2)
        other = load_signing_key("b3RoZXIgc2lnbmluZyBrZXksIDMyIGJ5dGVzIGxvbmc=")
        with checkpoint_file.open("a") as out:
            out.write(
                Checkpoint.sign(other, seq=9, head_hash="0" * 64, at=START, key_id="dev").to_line()
            )

        with pytest.raises(CheckpointFileProblem, match="which is not trusted"):
            verify(anchored, checkpoint_file)


class TestSyslogSink:
    def test_s36_checkpoints_sent_to_syslog_verify_from_its_archive(
        self, derive_runtime: Callable[..., Runtime], tmp_path: Path
    ):
        with LoopbackSyslogServer() as syslog:
            runtime = derive_runtime(audit_syslog_address=syslog.address)
            record(runtime, 2)
            received = syslog.messages(2)
        assert len(received) == 2
        assert all(m.startswith("<14>keyholder-audit-checkpoint: {") for m in received)
        # What a syslog server keeps: its own prefix, and other programs' lines between.
        archive = tmp_path / "syslog"
        archive.write_text(
            "".join(
                f"Jan 15 12:00:00 app1 {m[4:]}\nJan 15 12:00:00 app1 cron[7]: ok\n"
                for m in received
            )
        )
        assert verify(runtime, archive).anchor is not None

        execute(runtime, "DELETE FROM audit_events WHERE seq = 2")

        assert (verify(runtime, archive).problem or "").startswith("events after #1 were deleted")
