"""Rate limits on sign-in and reset requests (S3, S16), behind a small Protocol.

Counts live in memory (one process) by default, or in Redis when
``KEYHOLDER_REDIS_URL`` is set, so that every worker process and host shares
them. Limits are moving windows ("10 per 5 minutes" means at most 10 in any 5
minutes), written in settings in the ``limits`` notation. Keys never hold an
email or address in clear: each is an HMAC under the secret key.

Time: the ``limits`` library reads the wall clock itself, not ``uow.clock``.
Tests use fresh storage (or a per-run Redis prefix) rather than moving time.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import logging
import math
import time
from collections.abc import Mapping
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol

from limits import RateLimitItem, parse
from limits.errors import StorageError
from limits.storage import MemoryStorage, RedisStorage, Storage
from limits.strategies import MovingWindowRateLimiter

from keyholder.errors import InvalidInput, TooManyRequests
from keyholder.identity.emails import normalize_email

if TYPE_CHECKING:
    import redis

    from keyholder.config import Settings

log = logging.getLogger(__name__)

# A Redis that does not answer must not hold a sign-in for long.
REDIS_TIMEOUT_SECONDS = 0.5


class Scope(StrEnum):
    """What is being counted, and per what."""

    LOGIN_ACCOUNT = "login-account"
    LOGIN_ACCOUNT_CLIENT = "login-account-client"
    LOGIN_CLIENT = "login-client"
    RESET_EMAIL = "reset-email"
    RESET_CLIENT = "reset-client"
    MFA_USER = "mfa-user"
    ACCESS_REQUEST_CLIENT = "access-request-client"
    ACCESS_REQUEST_ACCOUNT = "access-request-account"


class RateLimiter(Protocol):
    def hit(self, scope: str, key: str) -> bool:
        """Count one attempt; False (and nothing counted) when over the limit."""
        ...

    def retry_after(self, scope: str, key: str) -> int:
        """Whole seconds until ``hit`` can succeed again; 0 when it can now."""
        ...

    def forget(self, scope: str, key: str) -> None:
        """Forget the count of one key (a sign-in clears its account's failures)."""
        ...

    def clear(self) -> None:
        """Forget every count (tests, operators)."""
        ...

    def close(self) -> None:
        """Let go of connections (Runtime.close)."""
        ...


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
        # Keyed, so a dump of Redis reveals neither emails nor client addresses.
        message = f"{scope}\0{key}".encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()[:32]


def make_rate_limiter(settings: Settings) -> LimitsRateLimiter:
    """The limiter the settings ask for: Redis when ``redis_url`` is set, else memory."""
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
    limits: dict[str, RateLimitItem] = {
        Scope.LOGIN_ACCOUNT: parse(settings.login_limit_per_account),
        Scope.LOGIN_ACCOUNT_CLIENT: parse(settings.login_limit_per_account_client),
        Scope.LOGIN_CLIENT: parse(settings.login_limit_per_client),
        Scope.RESET_EMAIL: parse(settings.reset_limit_per_email),
        Scope.RESET_CLIENT: parse(settings.reset_limit_per_client),
        Scope.MFA_USER: parse(settings.mfa_limit_per_user),
        Scope.ACCESS_REQUEST_CLIENT: parse(settings.access_request_limit_per_client),
        Scope.ACCESS_REQUEST_ACCOUNT: parse(settings.access_request_limit_per_account),
    }
    return LimitsRateLimiter(storage, limits, secret=settings.secret, redis_pool=redis_pool)


def _account_key(email: str) -> str:
    # Unknown and malformed addresses are counted too, each under its own
    # key, so a throttled answer says nothing about which accounts exist.
    try:
        return normalize_email(email)
    except InvalidInput:
        return email.strip().casefold()


def _login_keys(email: str, client_address: str | None) -> list[tuple[Scope, str]]:
    account = _account_key(email)
    if not client_address:
        return [(Scope.LOGIN_ACCOUNT, account)]
    return [
        (Scope.LOGIN_CLIENT, client_address),
        # NUL cannot occur in an email or address: the pair cannot be forged.
        (Scope.LOGIN_ACCOUNT_CLIENT, f"{account}\0{client_address}"),
        (Scope.LOGIN_ACCOUNT, account),
    ]


def count_login_attempt(limiter: RateLimiter, email: str, *, client_address: str | None) -> None:
    """Count a sign-in attempt; raise ``TooManyRequests`` past any limit (S16).

    Call it before the password is queued for hashing (S40): a refused
    attempt costs no hash. Three counts, checked in this order, and a refused
    attempt counts in none after the one that refused it:

    - per client address, every attempt on any account: credential stuffing
      from one address stays throttled however many accounts it tries;
    - per account and client address: one client guessing one account;
    - per account, from every client together: guessing spread over many
      addresses (OWASP: the lockout counter belongs to the account).

    A sign-in clears the last two (``forget_login_failures``), so on an
    account only failures add up. Since one client can add at most
    ``login_limit_per_account_client`` to its account's count, which is below
    ``login_limit_per_account``, someone else's failures from one address do
    not lock out a client that has its own allowance left; it takes several
    addresses, and then the reset path stays open (it is never throttled by
    sign-in limits).
    """
    for scope, key in _login_keys(email, client_address):
        if not limiter.hit(scope, key):
            raise TooManyRequests(
                "too many sign-in attempts; wait a while and try again, or reset your password",
                # At least 1: a slot may have freed since the refusal.
                retry_after=limiter.retry_after(scope, key) or 1,
            )


def forget_login_failures(limiter: RateLimiter, email: str, *, client_address: str | None) -> None:
    """After a sign-in with the right password: the account's failure counts start over.

    The per-address count stays: a client working through a list of stolen
    passwords stays throttled even when some of them are right.
    """
    for scope, key in _login_keys(email, client_address):
        if scope is not Scope.LOGIN_CLIENT:
            limiter.forget(scope, key)


def allow_reset_email(limiter: RateLimiter, email: str, *, client_address: str | None) -> bool:
    """Whether a password-reset email may go to ``email`` now (S3).

    Counts the request per email and per client address. When this says
    False the caller sends nothing and answers exactly as it would have
    otherwise: the limit is never an error, and sign-in throttling has no say
    here (S16).
    """
    if client_address and not limiter.hit(Scope.RESET_CLIENT, client_address):
        return False
    return limiter.hit(Scope.RESET_EMAIL, _account_key(email))
