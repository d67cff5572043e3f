"""The numbers this process counts and times, for ``/metrics`` (Prometheus).

Only what happens in a process lives here: request durations (``web.request_log``
observes them, from the same measurement as its log line), sign-in failures and
throttles (``identity``), letter pre-screen durations (``access.prescreen_job``).
What the database knows (outbox depth, job lag, requests by state, the audit
checkpoint's age) is read at scrape time by ``observability.collector``.

``prometheus_client`` is imported on first use, not with this module: most CLI
commands never count anything and should not pay for the import, and the client
picks its storage when it is imported. With ``PROMETHEUS_MULTIPROC_DIR`` set (to
an empty directory, before the process starts) every process writes its values
to files there and a scrape sums them: several uvicorn workers or
``keyholder worker`` processes then report one total, as
``observability.exposition`` does.
"""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry, Counter, Histogram

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
# Seconds. Most answers take milliseconds; the tail (sign-in hashes, uploads) seconds.
REQUEST_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# A page takes about a second to read; the sandbox stops one at letters_timeout_seconds.
PRESCREEN_BUCKETS = (0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0)


class _Instruments:
    def __init__(self) -> None:
        from prometheus_client import (  # noqa: PLC0415
            CollectorRegistry,
            Counter,
            Histogram,
            disable_created_metrics,
            values,
        )

        # No `_created` series beside each counter and histogram: twice the series
        # for a start time nobody graphs.
        disable_created_metrics()  # type: ignore[no-untyped-call]
        # Our own registry, not the client's global one: no process or GC
        # collectors a multiprocess scrape could not sum, nothing of other libraries.
        self.registry = CollectorRegistry()
        # The client chose its storage when it was first imported, maybe before us.
        shared = values.ValueClass is not values.MutexValue
        self.multiprocess_dir = (os.environ.get(MULTIPROC_ENV) or None) if shared else None
        self.requests: Histogram = Histogram(
            "keyholder_http_request_duration_seconds",
            "Time to answer an HTTP request, by route template (never the path) and status class.",
            ["method", "route", "status"],
            buckets=REQUEST_BUCKETS,
            registry=self.registry,
        )
        self.sign_in_failures: Counter = Counter(
            "keyholder_sign_in_failures",
            "Sign-ins refused for a wrong email or password.",
            registry=self.registry,
        )
        self.sign_in_throttled: Counter = Counter(
            "keyholder_sign_in_throttled",
            "Sign-in attempts refused by a rate limit before any password was checked (S16).",
            ["limit"],
            registry=self.registry,
        )
        self.prescreen: Histogram = Histogram(
            "keyholder_letter_prescreen_duration_seconds",
            "Time to pre-screen one letter in its sandbox, by outcome (read or error).",
            ["outcome"],
            buckets=PRESCREEN_BUCKETS,
            registry=self.registry,
        )
        # Children by label values: .labels() takes a lock and builds a tuple each
        # time; the request path looks its child up in a plain dict instead.
        self.request_children: dict[tuple[str, str, int], Histogram] = {}


_lock = threading.Lock()
_instruments: _Instruments | None = None


def instruments() -> _Instruments:
    """The instruments, made (and ``prometheus_client`` imported) on first use."""
    global _instruments  # noqa: PLW0603 - one set per process, made once
    if _instruments is None:
        with _lock:
            if _instruments is None:
                _instruments = _Instruments()
    return _instruments


def registry() -> CollectorRegistry:
    return instruments().registry


def multiprocess_dir() -> str | None:
    """The directory every process writes its values to, if this one does (``MULTIPROC_ENV``)."""
    return instruments().multiprocess_dir


def status_class(status: int) -> str:
    return f"{status // 100}xx"


# Any token is a method to HTTP: others are counted together, so a client cannot
# grow the label set (nor the children cache) without bound.
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def request_finished(method: str, route: str, status: int, seconds: float) -> None:
    """One answered request: ``route`` is its template (bounded), never the path."""
    found = instruments()
    if method not in _METHODS:
        method = "other"
    key = (method, route, status)
    child = found.request_children.get(key)
    if child is None:
        child = found.requests.labels(method, route, status_class(status))
        found.request_children[key] = child
    child.observe(seconds)


def sign_in_failed() -> None:
    instruments().sign_in_failures.inc()


def sign_in_throttled(limit: str) -> None:
    instruments().sign_in_throttled.labels(limit).inc()


def prescreen_finished(seconds: float, *, read: bool) -> None:
    instruments().prescreen.labels("read" if read else "error").observe(seconds)
