"""A bounded pool for argon2 work, so a login flood cannot starve other requests (S16).

argon2 is slow and memory-hungry on purpose (tens of milliseconds and 64 MiB a
hash, on several cores). Left to FastAPI's thread pool, a flood of sign-ins
would run dozens of hashes at once: every core busy, every pool thread taken,
and the requests that need neither waiting behind them. Here at most
``workers`` hashing jobs run at once per process; the rest wait in a queue,
holding no thread, and an ``async`` route awaits its turn without blocking the
event loop. On Linux the pool's threads (and the threads argon2 starts from
them) also run at a lower CPU priority, so the event loop that serves
everything else wins the cores whenever both want them.

The queue is bounded too, so that sign-in cannot be starved (S40): at most
``queue_limit`` jobs wait; one more is refused at once with
``ServiceUnavailable`` (503 with Retry-After) instead of joining a wait it
could never get through. A job that waited longer than ``deadline_seconds``
is dropped when its turn comes, unhashed: its client has given up, or will
have by the time an answer could reach it. A job whose awaiting task is
cancelled (the web layer cancels it when the client disconnects) leaves the
queue at once and never runs. Only a job already hashing runs to its end:
argon2 cannot be interrupted.

``run`` takes a whole use case (``identity.service.check_password``: a short
read, the hash, a short write) so that its database work happens on the same
thread. ``verify`` and ``hash`` use the pool's ``hasher`` (the runtime's, with
the settings' argon2 parameters) and are for synchronous callers; called from
a pool thread they run in place instead of queueing behind themselves.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, ParamSpec, TypeVar

from keyholder.errors import ServiceUnavailable

if TYPE_CHECKING:
    from keyholder.identity.passwords import PasswordHasher

P = ParamSpec("P")
T = TypeVar("T")


BUSY = "too many sign-ins are being checked right now; try again in a few seconds"


class _Ticket:
    """One queued job's place in the queue, given back exactly once (start or cancel)."""

    __slots__ = ("enqueued_at", "waiting")

    def __init__(self, enqueued_at: float) -> None:
        self.enqueued_at = enqueued_at
        self.waiting = True


class HashingPool:
    def __init__(
        self,
        workers: int,
        *,
        hasher: PasswordHasher,
        niceness: int = 19,
        queue_limit: int = 32,
        deadline_seconds: float = 10.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if workers < 1:
            raise ValueError("the hashing pool needs at least one worker")
        if queue_limit < 1 or deadline_seconds <= 0:
            raise ValueError("the hashing queue needs room for a job and a positive deadline")
        self.workers = workers
        self.hasher = hasher
        self.niceness = niceness
        self.queue_limit = queue_limit
        self.deadline_seconds = deadline_seconds
        self.dropped = 0  # jobs that expired in the queue (tests, operators)
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._waiting = 0
        self._local = threading.local()
        self._executor = ThreadPoolExecutor(
            max_workers=workers, thread_name_prefix="keyholder-hashing", initializer=self._mark
        )

    @property
    def waiting(self) -> int:
        """Jobs queued and not started (cancelled ones leave at once)."""
        return self._waiting

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        """Queue ``fn``; it runs when one of the ``workers`` threads is free.

        Raises ``ServiceUnavailable`` (with ``retry_after``) when ``queue_limit``
        jobs are waiting already. The future fails with the same error when the
        job's turn comes after ``deadline_seconds``: ``fn`` is not called then.
        """
        with self._lock:
            if self._waiting >= self.queue_limit:
                raise ServiceUnavailable(BUSY, retry_after=self._retry_after())
            self._waiting += 1
        ticket = _Ticket(self._monotonic())
        try:
            future = self._executor.submit(self._start, ticket, fn, *args, **kwargs)
        except BaseException:
            self._leave_queue(ticket)
            raise
        # A job cancelled while queued frees its place now, not when a worker skips it.
        future.add_done_callback(lambda _: self._leave_queue(ticket))
        return future

    async def run(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """Await ``fn`` on the pool. Cancelled while still queued, it never runs."""
        return await asyncio.wrap_future(self.submit(fn, *args, **kwargs))

    def verify(self, password_hash: str | None, password: str) -> bool:
        return self._call(self.hasher.verify, password_hash, password)

    def hash(self, password: str) -> str:
        return self._call(self.hasher.hash, password)

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)

    def _start(
        self, ticket: _Ticket, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs
    ) -> T:
        self._leave_queue(ticket)
        if self._monotonic() - ticket.enqueued_at > self.deadline_seconds:
            with self._lock:
                self.dropped += 1
            raise ServiceUnavailable(BUSY, retry_after=self._retry_after())
        return fn(*args, **kwargs)

    def _leave_queue(self, ticket: _Ticket) -> None:
        with self._lock:
            if ticket.waiting:
                ticket.waiting = False
                self._waiting -= 1

    def _retry_after(self) -> int:
        # By then everything waiting now has run or expired.
        return max(1, math.ceil(self.deadline_seconds))

    def _call(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        if getattr(self._local, "in_pool", False):
            return fn(*args, **kwargs)
        return self.submit(fn, *args, **kwargs).result()

    def _mark(self) -> None:
        self._local.in_pool = True
        if self.niceness <= 0:
            return
        # Linux keeps a nice value per thread (not per process, as POSIX has
        # it), and the threads argon2 starts from this one inherit it.
        with contextlib.suppress(AttributeError, OSError):  # not Linux, or not allowed
            tid = threading.get_native_id()
            current = os.getpriority(os.PRIO_PROCESS, tid)
            os.setpriority(os.PRIO_PROCESS, tid, min(19, current + self.niceness))
