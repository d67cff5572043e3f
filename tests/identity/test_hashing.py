"""The bounded argon2 pool (S16)."""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
from collections.abc import Iterator

import pytest

from keyholder.identity.hashing import HashingPool
from keyholder.identity.passwords import hash_password, verify_password
from tests.factories import PASSWORD


@pytest.fixture
def pool():
    pool = HashingPool(2)
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
        password_hash = hash_password(PASSWORD)
        counter = ConcurrencyCounter()

        def counted_verify() -> bool:
            with counter.held():
                verified = verify_password(password_hash, PASSWORD)
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
        pool = HashingPool(1)
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
            HashingPool(0)
