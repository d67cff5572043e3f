"""The rate limiter the settings ask for: moving windows in Redis, the database or memory.

Counts live in Redis when ``KEYHOLDER_REDIS_URL`` is set, else in the database
(``identity.db_rate_limits``; the default on PostgreSQL) or in this process's
memory (the default on SQLite), as ``Settings.rate_limit_store`` says; Redis
and the database are shared by every worker process and host. Limits are
moving windows ("10 per 5 minutes" means at most 10 in any 5 minutes),
written in settings in the ``limits`` notation. Keys never hold an
email or address in clear: each is an HMAC under the secret key. What is
counted is ``identity.throttle``'s; ``Runtime.rate_limiter`` builds this on
first use, so commands that count nothing never import ``limits``.

Time: the ``limits`` library reads the wall clock itself, not ``uow.clock``.
Tests use fresh storage (or a per-run Redis prefix) rather than moving time.
"""

from __future__ import annotations

import contextlib
import logging
import math
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING

from limits import RateLimitItem, parse
from limits.errors import StorageError
from limits.storage import MemoryStorage, RedisStorage, Storage
from limits.strategies import MovingWindowRateLimiter

from keyholder.identity.throttle import RateLimiter, Scope, counted_key

if TYPE_CHECKING:
    import redis
    from sqlalchemy import Engine

    from keyholder.config import Settings

log = logging.getLogger(__name__)

# A Redis that does not answer must not hold a sign-in for long.
REDIS_TIMEOUT_SECONDS = 0.5


class LimitsRateLimiter:
    """Moving-window limits from the ``limits`` library on memory or Redis storage.

    When Redis fails, counting falls back to this process's memory rather than
    refusing every sign-in or dropping the limits altogether.
    """

    def __init__(
        self,
        storage: Storage,
        limits: Mapping[str, RateLimitItem],
        *,
        secret: bytes,
        redis_pool: redis.ConnectionPool | None = None,
    ) -> None:
        self._storage = storage
        self._redis_pool = redis_pool
        self._strategy = MovingWindowRateLimiter(storage)
        self._fallback_storage = MemoryStorage()
        self._fallback = MovingWindowRateLimiter(self._fallback_storage)
        self._warned_at = -math.inf
        self._limits = dict(limits)
        self._secret = secret

    def hit(self, scope: str, key: str) -> bool:
        item, digest = self._limits[scope], self._digest(scope, key)
        try:
            return self._strategy.hit(item, scope, digest)
        except StorageError as exc:
            if time.monotonic() - self._warned_at > 60:  # once a minute, not once a request
                self._warned_at = time.monotonic()
                log.warning("rate-limit storage failed (%s); counting in memory", exc.storage_error)
            return self._fallback.hit(item, scope, digest)

    def retry_after(self, scope: str, key: str) -> int:
        item, digest = self._limits[scope], self._digest(scope, key)
        try:
            stats = self._strategy.get_window_stats(item, scope, digest)
        except StorageError:
            stats = self._fallback.get_window_stats(item, scope, digest)
        if stats.remaining > 0:
            return 0
        return max(1, math.ceil(stats.reset_time - time.time()))

    def forget(self, scope: str, key: str) -> None:
        item, digest = self._limits[scope], self._digest(scope, key)
        # Counted in memory meanwhile, if at all: cleared below either way.
        with contextlib.suppress(StorageError):
            self._strategy.clear(item, scope, digest)
        self._fallback.clear(item, scope, digest)

    def clear(self) -> None:
        self._storage.reset()
        self._fallback_storage.reset()

    def close(self) -> None:
        if self._redis_pool is not None:
            self._redis_pool.disconnect()

    def _digest(self, scope: str, key: str) -> str:
        return counted_key(self._secret, scope, key)


def make_rate_limiter(settings: Settings, engine: Engine) -> RateLimiter:
    """The limiter the settings ask for (``Settings.rate_limit_store``): Redis when
    ``redis_url`` is set, else the database or this process's memory."""
    limits = _limits(settings)
    if settings.rate_limit_store == "database":
        from keyholder.identity.db_rate_limits import DatabaseRateLimiter  # noqa: PLC0415

        windows = {scope: (item.amount, item.get_expiry()) for scope, item in limits.items()}
        return DatabaseRateLimiter(engine, windows, secret=settings.secret)
    storage: Storage
    redis_pool = None
    if settings.redis_url:
        import redis  # noqa: PLC0415 - only with a Redis configured; it is slow to import

        redis_pool = redis.ConnectionPool.from_url(
            settings.redis_url,
            socket_timeout=REDIS_TIMEOUT_SECONDS,
            socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
        )
        storage = RedisStorage(
            settings.redis_url,
            connection_pool=redis_pool,
            key_prefix=settings.rate_limit_prefix,
            wrap_exceptions=True,
        )
    else:
        storage = MemoryStorage(wrap_exceptions=True)
    return LimitsRateLimiter(storage, limits, secret=settings.secret, redis_pool=redis_pool)


def _limits(settings: Settings) -> dict[str, RateLimitItem]:
    return {
        Scope.LOGIN_ACCOUNT: parse(settings.login_limit_per_account),
        Scope.LOGIN_ACCOUNT_CLIENT: parse(settings.login_limit_per_account_client),
        Scope.LOGIN_CLIENT: parse(settings.login_limit_per_client),
        Scope.RESET_EMAIL: parse(settings.reset_limit_per_email),
        Scope.RESET_CLIENT: parse(settings.reset_limit_per_client),
        Scope.MFA_USER: parse(settings.mfa_limit_per_user),
        Scope.ACCESS_REQUEST_CLIENT: parse(settings.access_request_limit_per_client),
        Scope.ACCESS_REQUEST_ACCOUNT: parse(settings.access_request_limit_per_account),
        Scope.RECOVERY_CLAIM_USER: parse(settings.recovery_claim_limit_per_user),
        Scope.RECOVERY_CLAIM_ACCOUNT: parse(settings.recovery_claim_limit_per_account),
    }
