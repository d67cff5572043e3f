"""Holding the hashing pool busy on purpose (S16, S40 tests)."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from concurrent.futures import Future

from keyholder.identity.hashing import HashingPool


@contextlib.contextmanager
def busy_workers(pool: HashingPool) -> Iterator[list[Future[bool]]]:
    """Keep every worker of ``pool`` busy until the block ends; yields their jobs."""
    release = threading.Event()
    started = threading.Semaphore(0)

    def block() -> bool:
        started.release()
        return release.wait(30)

    blockers = [pool.submit(block) for _ in range(pool.workers)]
    for _ in blockers:
        assert started.acquire(timeout=10), "a pool worker never started"
    try:
        yield blockers
    finally:
        release.set()
        for blocker in blockers:
            blocker.result(timeout=10)
