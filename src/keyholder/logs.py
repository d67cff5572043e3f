"""Log lines an operator can search: JSON lines in production, readable text elsewhere.

``configure_logging(settings)`` sets the root handler once per process
(``keyholder serve`` in each worker, ``keyholder worker``). A JSON line holds
the time (UTC, ISO 8601), level, logger and message, and the fields a caller
passed as ``extra`` from ``FIELDS`` (request id, route, status, duration,
actor id): never an email address or a token, which the callers do not pass
and which the redaction filter strips from messages (S6).
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Literal

FIELDS = ("request_id", "method", "route", "status", "duration_ms", "actor_id", "process")

LogFormat = Literal["json", "text"]


class JsonLines(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in FIELDS:
            value = record.__dict__.get(name)
            if value is not None:
                line[name] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


class ReadableLines(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        request_id = record.__dict__.get("request_id")
        return f"{text} [{request_id}]" if request_id else text


def configure_logging(log_format: LogFormat, *, level: int = logging.INFO) -> None:
    """One handler on the root logger, in ``log_format``; uvicorn's loggers go through it."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLines() if log_format == "json" else ReadableLines())
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers = []
        logger.propagate = True
    # keyholder.request logs each request once, by route template; uvicorn's access
    # line would add a second, with the whole path (tokens, addresses) in it.
    access = logging.getLogger("uvicorn.access")
    access.handlers = []
    access.propagate = False
    access.disabled = True
