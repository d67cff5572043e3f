"""Rate-limit counts in the database: shared by every process on it, with no Redis.

Moving windows, as ``identity.rate_limits`` keeps them in memory or Redis: a
hit is a row (bucket, time), and "10 per 5 minutes" lets a hit through while
fewer than 10 rows of its bucket are younger than 5 minutes. A bucket is an
HMAC of what is counted and per what, so the table holds no email or address.

Each hit is a short transaction of its own, committed whatever the use case
does next (a refused sign-in still counts), and serialised per bucket, so two
processes can never both take the last allowance: PostgreSQL takes an advisory
lock on the bucket, SQLite's single writer lock (BEGIN IMMEDIATE) serialises
every write. Time is the wall clock's, as for the other storages.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping

from sqlalchemy import Connection, Engine, delete, func, insert, select, text

from keyholder.db.engine import WRITE_OPTION
from keyholder.identity.models import RateLimitHit
from keyholder.identity.throttle import counted_key

_HITS = RateLimitHit
# The first key of PostgreSQL's two-key advisory locks taken here ("ratelim"): the
# two-key space is apart from the one-key locks of the audit chain.
_LOCK_SPACE = 0x7261746C
# Rows of buckets nobody hits again are swept every this many hits of a process.
SWEEP_EVERY = 500


class DatabaseRateLimiter:
    """``identity.throttle.RateLimiter`` over the ``rate_limit_hits`` table."""

    def __init__(
        self,
        engine: Engine,
        windows: Mapping[str, tuple[int, float]],
        *,
        secret: bytes,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """``windows``: per scope, how many hits (amount) in how many seconds."""
        self._writer = engine.execution_options(**{WRITE_OPTION: True})
        self._reader = engine
        self._postgresql = engine.dialect.name == "postgresql"
        self._windows = dict(windows)
        self._longest = max((seconds for _, seconds in self._windows.values()), default=0.0)
        self._secret = secret
        self._clock = clock
        self._hits = 0

    def hit(self, scope: str, key: str) -> bool:
        amount, seconds = self._windows[scope]
        bucket = self._bucket(scope, key)
        now = self._clock()
        with self._writer.begin() as connection:
            self._lock(connection, bucket)
            connection.execute(
                delete(_HITS).where(_HITS.bucket == bucket, _HITS.hit_at <= now - seconds)
            )
            used: int = (
                connection.scalar(
                    select(func.count()).select_from(_HITS).where(_HITS.bucket == bucket)
                )
                or 0
            )
            allowed = used < amount
            if allowed:
                connection.execute(insert(_HITS).values(bucket=bucket, hit_at=now))
            self._hits += 1
            if self._hits % SWEEP_EVERY == 0:
                connection.execute(delete(_HITS).where(_HITS.hit_at <= now - self._longest))
        return allowed

    def retry_after(self, scope: str, key: str) -> int:
        amount, seconds = self._windows[scope]
        now = self._clock()
        with self._reader.connect() as connection:
            newest = connection.scalars(
                select(_HITS.hit_at)
                .where(_HITS.bucket == self._bucket(scope, key), _HITS.hit_at > now - seconds)
                .order_by(_HITS.hit_at.desc())
                .limit(amount)
            ).all()
        if len(newest) < amount:
            return 0
        # The window frees a place when the oldest of the last `amount` hits leaves it.
        return max(1, math.ceil(newest[-1] + seconds - now))

    def forget(self, scope: str, key: str) -> None:
        bucket = self._bucket(scope, key)
        with self._writer.begin() as connection:
            self._lock(connection, bucket)
            connection.execute(delete(_HITS).where(_HITS.bucket == bucket))

    def clear(self) -> None:
        with self._writer.begin() as connection:
            connection.execute(delete(_HITS))

    def close(self) -> None:
        """Nothing to let go of: the connections are the engine's."""

    def _lock(self, connection: Connection, bucket: str) -> None:
        if self._postgresql:
            connection.execute(
                text("SELECT pg_advisory_xact_lock(:space, hashtext(:bucket))"),
                {"space": _LOCK_SPACE, "bucket": bucket},
            )

    def _bucket(self, scope: str, key: str) -> str:
        return counted_key(self._secret, scope, key)
