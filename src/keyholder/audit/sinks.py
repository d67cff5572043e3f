"""Where audit checkpoints go: append-only places outside the database (S36).

A sink takes one line of text (a signed checkpoint) and keeps it. The file
sink appends JSON lines under an exclusive lock and fsyncs each one; the
syslog sink hands the line to a syslog server (stdlib ``SysLogHandler``), so a
copy lands on another machine. ``read_checkpoint_lines`` reads either back: a
checkpoint file, or a syslog archive in which the checkpoint lines are marked.
"""

from __future__ import annotations

import fcntl
import logging
import logging.handlers
import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

# Marks a checkpoint in a syslog stream, so an archive full of other lines can be read.
SYSLOG_TAG = "keyholder-audit-checkpoint"


class CheckpointSink(Protocol):
    name: str

    def append(self, line: str) -> None:
        """Keep ``line`` durably; raise OSError when it could not."""
        ...


class FileSink:
    """Appends to a JSON-lines file: O_APPEND, one write per line, flock, fsync."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.name = f"file {path}"

    def append(self, line: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        try:
            # Processes on one machine take turns, so lines never interleave.
            fcntl.flock(fd, fcntl.LOCK_EX)
            os.write(fd, (line + "\n").encode())
            os.fsync(fd)
        finally:
            os.close(fd)  # also releases the lock


class _RaisingSysLogHandler(logging.handlers.SysLogHandler):
    def handleError(self, record: logging.LogRecord) -> None:  # noqa: N802 - logging's name
        raise  # noqa: PLE0704 - called inside emit's except block: let the caller see it


class SyslogSink:
    """Sends each line to syslog (facility ``user``), tagged with ``SYSLOG_TAG``."""

    def __init__(self, address: str) -> None:
        self.address = address
        self.name = f"syslog {address}"
        self._target, self._socktype = parse_syslog_address(address)

    def append(self, line: str) -> None:
        handler = _RaisingSysLogHandler(address=self._target, socktype=self._socktype)
        try:
            record = logging.LogRecord(
                SYSLOG_TAG, logging.INFO, __file__, 0, f"{SYSLOG_TAG}: {line}", None, None
            )
            handler.emit(record)
        finally:
            handler.close()


def parse_syslog_address(address: str) -> tuple[str | tuple[str, int], socket.SocketKind]:
    """``udp://host:port``, ``tcp://host:port`` or a Unix socket path such as ``/dev/log``."""
    if address.startswith("/"):
        return address, socket.SOCK_DGRAM
    parts = urlsplit(address)
    kinds = {"udp": socket.SOCK_DGRAM, "tcp": socket.SOCK_STREAM}
    if parts.scheme not in kinds or not parts.hostname:
        raise ValueError(
            "KEYHOLDER_AUDIT_SYSLOG_ADDRESS must be udp://host:port, tcp://host:port "
            "or a socket path such as /dev/log"
        )
    return (parts.hostname, parts.port or 514), kinds[parts.scheme]


def read_checkpoint_lines(path: Path) -> Iterator[tuple[int, str]]:
    """(line number, JSON text) of each checkpoint in a checkpoint file or a syslog archive."""
    with path.open(encoding="utf-8", errors="replace") as lines:
        for number, line in enumerate(lines, start=1):
            text = line.strip()
            if text.startswith("{"):
                yield number, text
            elif (marker := text.find(f"{SYSLOG_TAG}: {{")) >= 0:
                yield number, text[marker + len(SYSLOG_TAG) + 2 :]
