"""Keep secrets that travel in URLs (reset and invitation links) out of log lines (S6)."""

from __future__ import annotations

import logging
import re

# Our tokens look like "<prefix>_<43 url-safe base64 characters>" (identity.tokens).
_TOKEN = re.compile(r"\b(kh[a-z]?_)[A-Za-z0-9_-]{16,}")


def redact(text: str) -> str:
    return _TOKEN.sub(r"\1[redacted]", text)


class RedactTokens(logging.Filter):
    """Rewrites a record's message arguments so no token reaches any handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.msg, str):
            record.msg = redact(record.msg)
        return True


def install_log_redaction() -> None:
    """Attach the filter to uvicorn's loggers, which print request paths. Idempotent.

    (A logger's filters see only records logged on that very logger, so our
    own modules call ``redact`` where they log a path.)
    """
    for name in ("uvicorn.access", "uvicorn.error"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactTokens) for f in logger.filters):
            logger.addFilter(RedactTokens())
