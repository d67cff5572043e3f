"""The bounded argon2 pool (S16)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import threading
import time
from collections.abc import Iterator

import pytest

from keyholder.errors import ServiceUnavailable
from keyholder.identity.hashing import HashingPool
from keyholder.identity.passwords import PasswordHasher
from tests.factories import PASSWORD
from tests.pools import busy_workers

# Cheap parameters: these tests are about the pool, not about argon2.
HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


@pytest.fixture
def pool():
    pool = HashingPool(2, hasher=HASHER)
    yield pool
    pool.close()


class ConcurrencyCounter:
    """Counts how many blocks run at once, and the most that ever did."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.running = 0
        self.most = 0

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        with self._lock:
            self.running += 1
            self.most = max(self.most, self.running)
        try:
            yield
        finally:
            with self._lock:
                self.running -= 1


class TestHashingPool:
    def test_s16_n_plus_k_jobs_never_run_more_than_n_at_once(self, pool):
        counter = ConcurrencyCounter()

        def job() -> None:
            with counter.held():
                time.sleep(0.05)

        futures = [pool.submit(job) for _ in range(pool.workers + 5)]
        for future in futures:
            future.result(timeout=10)
        assert counter.most == pool.workers

    def test_s16_real_hashes_from_many_callers_run_n_at_once(self, pool):
        password_hash = HASHER.hash(PASSWORD)
        counter = ConcurrencyCounter()

        def counted_verify() -> bool:
            with counter.held():
                verified = HASHER.verify(password_hash, PASSWORD)
                time.sleep(0.02)  # the test settings make argon2 cheap: overlap on purpose
                return verified

        results: list[bool] = []
        callers = [
            threading.Thread(target=lambda: results.append(pool.submit(counted_verify).result()))
            for _ in range(pool.workers + 3)
        ]
        for caller in callers:
            caller.start()
        for caller in callers:
            caller.join(timeout=60)
        assert results == [True] * len(callers)
        assert counter.most == pool.workers

    def test_verify_and_hash_from_a_pool_thread_run_in_place(self):
        pool = HashingPool(1, hasher=HASHER)
        try:
            # With one worker, queueing behind itself would never finish.
            password_hash = pool.submit(pool.hash, PASSWORD).result(timeout=10)
            assert pool.submit(pool.verify, password_hash, PASSWORD).result(timeout=10)
            assert not pool.verify(password_hash, "something else entirely")
        finally:
            pool.close()

    @pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice is Linux")
    def test_s16_pool_threads_yield_the_cpu_to_the_rest_of_the_process(self, pool):
        def niceness() -> int:
            return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

        assert pool.submit(niceness).result(timeout=5) > niceness()

    def test_a_pool_needs_a_worker(self):
        with pytest.raises(ValueError, match="at least one"):
            HashingPool(0, hasher=HASHER)


class FakeMonotonic:
    """A monotonic clock that moves only when told to."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeMonotonic:
    return FakeMonotonic()


class TestBoundedQueue:
    """S40: the queue is bounded, with a deadline per job; cancelled jobs leave it."""

    def test_s40_a_full_queue_refuses_at_once_with_retry_after(self, clock):
        pool = HashingPool(1, hasher=HASHER, queue_limit=2, deadline_seconds=7.5, monotonic=clock)
        try:
            with busy_workers(pool):
                waiting = [pool.submit(time.sleep, 0) for _ in range(2)]
                assert pool.waiting == 2
                with pytest.raises(ServiceUnavailable) as refused:
                    pool.submit(time.sleep, 0)
                assert refused.value.status_code == 503
                assert refused.value.retry_after == 8
                # A cancelled job gives its place back at once.
                assert waiting[0].cancel()
                assert pool.waiting == 1
                pool.submit(time.sleep, 0)
        finally:
            pool.close()

    def test_s40_a_job_that_waited_past_its_deadline_is_never_run(self, clock):
        pool = HashingPool(1, hasher=HASHER, deadline_seconds=5, monotonic=clock)
        calls: list[str] = []
        try:
            with busy_workers(pool):
                expired = pool.submit(calls.append, "expired")
                clock.now += 5.5
                in_time = pool.submit(calls.append, "in time")
            with pytest.raises(ServiceUnavailable) as dropped:
                expired.result(timeout=10)
            assert dropped.value.retry_after == 5
            in_time.result(timeout=10)
            assert calls == ["in time"]
            assert pool.dropped == 1
            assert pool.waiting == 0
        finally:
            pool.close()

    def test_s40_a_job_whose_caller_gave_up_leaves_the_queue_unrun(self, clock):
        pool = HashingPool(1, hasher=HASHER, monotonic=clock)
        calls: list[str] = []

        async def give_up() -> None:
            task = asyncio.ensure_future(pool.run(calls.append, "abandoned"))
            await asyncio.sleep(0)  # queued
            assert pool.waiting == 1
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            assert pool.waiting == 0

        try:
            with busy_workers(pool):
                asyncio.run(give_up())
            pool.submit(calls.append, "after").result(timeout=10)  # FIFO: the other came first
            assert calls == ["after"]
        finally:
            pool.close()

    def test_s40_a_synchronous_caller_is_refused_too_when_the_queue_is_full(self, clock):
        pool = HashingPool(1, hasher=HASHER, queue_limit=1, monotonic=clock)
        try:
            with busy_workers(pool):
                pool.submit(time.sleep, 0)
                with pytest.raises(ServiceUnavailable):
                    pool.hash(PASSWORD)
        finally:
            pool.close()

    @pytest.mark.parametrize(("queue_limit", "deadline"), [(0, 1.0), (1, 0.0)])
    def test_a_queue_needs_room_and_a_deadline(self, queue_limit, deadline):
        with pytest.raises(ValueError, match="positive deadline"):
            HashingPool(1, hasher=HASHER, queue_limit=queue_limit, deadline_seconds=deadline)
