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

``run`` takes a whole use case (``identity.service.log_in``: a short read, the
hash, a short write) so that its database work happens on the same thread.
``verify`` and ``hash`` are for synchronous callers; called from a pool thread
they run in place instead of queueing behind themselves.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import ParamSpec, TypeVar

from keyholder.identity.passwords import hash_password, verify_password

P = ParamSpec("P")
T = TypeVar("T")


class HashingPool:
    def __init__(self, workers: int, *, niceness: int = 19) -> None:
        if workers < 1:
            raise ValueError("the hashing pool needs at least one worker")
        self.workers = workers
        self.niceness = niceness
        self._local = threading.local()
        self._executor = ThreadPoolExecutor(
            max_workers=workers, thread_name_prefix="keyholder-hashing", initializer=self._mark
        )

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        """Queue ``fn``; it runs when one of the ``workers`` threads is free."""
        return self._executor.submit(fn, *args, **kwargs)

    async def run(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """Await ``fn`` on the pool. Cancelled while still queued, it never runs."""
        return await asyncio.wrap_future(self.submit(fn, *args, **kwargs))

    def verify(self, password_hash: str | None, password: str) -> bool:
        return self._call(verify_password, password_hash, password)

    def hash(self, password: str) -> str:
        return self._call(hash_password, password)

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)

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
