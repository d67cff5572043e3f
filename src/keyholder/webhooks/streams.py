"""Streaming the audit log to sinks that survive restarts (issue 19 item 3).

Each sink (a JSON-lines file, syslog) has a cursor in the database: the last
seq it acknowledged. A pass locks the cursor's row (one streamer per sink at
a time), reads the events after it, hands them to the sink, and advances the
cursor only once the sink has them (the file: written and fsynced). A process
that dies between the two leaves the cursor behind: the next pass sends those
events again, each recognisable by its seq and hash (``audit.received``
skips them), and none is ever skipped. Lines are ``audit export``'s
(``audit.export.event_record``), so ``keyholder audit verify-export`` checks
a stream file like an export.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import logging.handlers
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from sqlalchemy.exc import IntegrityError

from keyholder.audit.export import MAX_PAGE_SIZE, event_record, events_after
from keyholder.audit.sinks import parse_syslog_address
from keyholder.config import Settings
from keyholder.db.uow import UnitOfWorkFactory
from keyholder.webhooks.models import AuditStreamCursor

log = logging.getLogger(__name__)

MAX_PAGES = 100
SYSLOG_STREAM_TAG = "keyholder-audit-event"  # per run, so one run ends while events keep coming


class StreamSink(Protocol):
    name: str  # the cursor's key: a sink renamed starts from the beginning again

    def append_lines(self, lines: Sequence[str]) -> None:
        """Keep every line durably before returning; raise OSError when it could not."""
        ...


class FileStreamSink:
    """Appends lines to a file: O_APPEND, one write per batch, flock, fsync."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.name = f"file:{path}"

    def append_lines(self, lines: Sequence[str]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)  # processes on one machine never interleave
            data = "".join(line + "\n" for line in lines).encode()
            while data:  # a write may be partial; O_APPEND keeps each part at the end
                written = os.write(fd, data)
                data = data[written:]
            os.fsync(fd)
        finally:
            os.close(fd)


class _RaisingSysLogHandler(logging.handlers.SysLogHandler):
    def handleError(self, record: logging.LogRecord) -> None:  # noqa: N802 - logging's name
        raise  # noqa: PLE0704 - called inside emit's except block: let the caller see it


class SyslogStreamSink:
    """Sends each line to syslog (facility ``user``), tagged ``SYSLOG_STREAM_TAG``.

    Its own tag, not the checkpoints' (``audit.sinks``): an archive holding both
    keeps them apart. Over UDP "acknowledged" only means sent; use tcp:// for more.
    """

    def __init__(self, address: str) -> None:
        self.name = f"syslog:{address}"
        self._target, self._socktype = parse_syslog_address(address)

    def append_lines(self, lines: Sequence[str]) -> None:
        handler = _RaisingSysLogHandler(address=self._target, socktype=self._socktype)
        try:
            for line in lines:
                message = f"{SYSLOG_STREAM_TAG}: {line}"
                record = logging.LogRecord(
                    SYSLOG_STREAM_TAG, logging.INFO, __file__, 0, message, None, None
                )
                handler.emit(record)
        finally:
            handler.close()


def sinks_from_settings(settings: Settings) -> list[StreamSink]:
    sinks: list[StreamSink] = []
    if settings.audit_stream_file is not None:
        sinks.append(FileStreamSink(settings.audit_stream_file))
    if settings.audit_stream_syslog_address:
        sinks.append(SyslogStreamSink(settings.audit_stream_syslog_address))
    return sinks


def stream_audit(uow_factory: UnitOfWorkFactory, sinks: Sequence[StreamSink]) -> int:
    """Send each sink the events after its cursor; the number of events sent to all."""
    sent = 0
    for sink in sinks:
        _ensure_cursor(uow_factory, sink.name)
        try:
            for _ in range(MAX_PAGES):
                count, full = _stream_page(uow_factory, sink)
                sent += count
                if not full:
                    break
        except OSError as exc:  # this sink is down: the others go on, it resumes next run
            log.warning("audit stream to %s failed, will resume: %s", sink.name, exc)
    return sent


def _ensure_cursor(uow_factory: UnitOfWorkFactory, name: str) -> None:
    with uow_factory() as uow:
        if uow.session.get(AuditStreamCursor, name) is not None:
            return
        uow.session.add(AuditStreamCursor(sink=name, cursor=0, updated_at=uow.clock.now()))
        with contextlib.suppress(IntegrityError):  # another process made it first: fine
            uow.commit()


def _stream_page(uow_factory: UnitOfWorkFactory, sink: StreamSink) -> tuple[int, bool]:
    with uow_factory() as uow:
        # Held while the sink writes: two streamers never send the same page.
        row = uow.session.get(AuditStreamCursor, sink.name, with_for_update=True)
        assert row is not None  # made by _ensure_cursor; cursors are never deleted
        page = events_after(uow, row.cursor, limit=MAX_PAGE_SIZE)
        if not page.events:
            return 0, False
        lines = [json.dumps(event_record(event), ensure_ascii=False) for event in page.events]
        sink.append_lines(lines)  # OSError: the cursor stays, the page goes again next run
        row.cursor, row.updated_at = page.next_after, uow.clock.now()
        uow.commit()
        return len(lines), page.full
