"""Streaming the audit log to a JSON-lines file that survives restarts (issue 19 item 3)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, func, select, update

from keyholder.accounts import members
from keyholder.audit.models import AuditEvent
from keyholder.audit.received import ReceivedReport, verify_received
from keyholder.audit.settings import chain_keyring
from keyholder.bootstrap import Runtime, bootstrap
from keyholder.clock import FixedClock
from keyholder.webhooks.models import AuditStreamCursor
from keyholder.webhooks.streams import (
    SYSLOG_STREAM_TAG,
    FileStreamSink,
    SyslogStreamSink,
    stream_audit,
)
from keyholder.worker import run_jobs_once
from tests.cli import Cli
from tests.factories import OPERATOR, Factories
from tests.syslog_server import LoopbackSyslogServer


def streaming_runtime(runtime: Runtime, clock: FixedClock, engine: Engine, path: Path) -> Runtime:
    """A new process's runtime, on the same database, streaming to ``path``."""
    settings = runtime.settings.model_copy(update={"audit_stream_file": path})
    return bootstrap(settings, clock=clock, engine=engine)


def received(path: Path, runtime: Runtime) -> ReceivedReport:
    lines = [(f"line {n}", text) for n, text in enumerate(path.read_text().splitlines(), 1)]
    return verify_received(lines, keyring=chain_keyring(runtime.settings))


def head(runtime: Runtime) -> int:
    with runtime.uow(read_only=True) as uow:
        return uow.session.scalar(select(func.max(AuditEvent.seq))) or 0


def changes(runtime: Runtime, factories: Factories, tag: str, n: int) -> None:
    account = factories.account(f"acct-{tag}")
    for i in range(n):
        user = factories.user(f"{tag}{i}@example.com")
        members.add_member(runtime.uow(), account.name, user.email, ["view"], actor=OPERATOR)


class TestFileStream:
    def test_a_restart_resumes_after_the_last_acknowledged_seq_without_a_gap(
        self,
        runtime: Runtime,
        factories: Factories,
        clock: FixedClock,
        engine: Engine,
        tmp_path: Path,
    ) -> None:
        path = tmp_path / "audit-stream.jsonl"
        changes(runtime, factories, "a", 3)
        first = streaming_runtime(runtime, clock, engine, path)
        assert run_jobs_once(first).audit_streamed == head(runtime)
        changes(runtime, factories, "b", 4)  # while no streamer runs

        second = streaming_runtime(runtime, clock, engine, path)  # the restarted process
        run_jobs_once(second)

        report = received(path, runtime)
        assert report.intact, report.problem
        assert report.hashes_recomputed
        assert (report.first_seq, report.last_seq) == (1, head(runtime))
        assert (report.checked, report.duplicates) == (head(runtime), 0)

    def test_events_sent_again_after_a_crash_are_recognised_by_seq(
        self,
        runtime: Runtime,
        factories: Factories,
        clock: FixedClock,
        engine: Engine,
        tmp_path: Path,
    ) -> None:
        path = tmp_path / "audit-stream.jsonl"
        sink = FileStreamSink(path)
        changes(runtime, factories, "a", 2)
        streamed = stream_audit(runtime.uow, [sink])
        # A crash after the fsync, before the cursor's commit: the cursor is behind.
        with runtime.uow() as uow:
            uow.session.execute(update(AuditStreamCursor).values(cursor=2))
            uow.commit()
        changes(runtime, factories, "b", 1)

        stream_audit(runtime.uow, [sink])

        report = received(path, runtime)
        assert report.intact, report.problem
        assert report.checked == head(runtime)
        assert report.duplicates == streamed - 2  # the events after the cursor, again
        checked = Cli(runtime).ok("audit", "verify-export", str(path))  # as the docs say
        assert str(head(runtime)) in checked.stdout

    def test_a_sink_that_fails_keeps_its_cursor(
        self, runtime: Runtime, factories: Factories, tmp_path: Path
    ) -> None:
        blocker = tmp_path / "not-a-directory"
        blocker.write_text("")
        changes(runtime, factories, "a", 1)

        assert stream_audit(runtime.uow, [FileStreamSink(blocker / "stream.jsonl")]) == 0

        with runtime.uow(read_only=True) as uow:
            cursor = uow.session.scalars(select(AuditStreamCursor.cursor)).one()
        assert cursor == 0


class TestSyslogStream:
    def test_every_event_goes_to_syslog_tagged_as_an_event(
        self, runtime: Runtime, factories: Factories
    ) -> None:
        changes(runtime, factories, "a", 2)
        with LoopbackSyslogServer() as syslog:
            sink = SyslogStreamSink(syslog.address)
            sent = stream_audit(runtime.uow, [sink])
            messages = syslog.messages(sent)
        assert sent == head(runtime)
        marker = f"{SYSLOG_STREAM_TAG}: "
        lines = [(m, m[m.index(marker) + len(marker) :]) for m in messages]
        report = verify_received(lines, keyring=chain_keyring(runtime.settings))
        assert report.intact, report.problem
        assert report.checked == head(runtime)
