"""Rate limits on sign-in and reset requests (S3, S16), behind a small Protocol.

What is counted, per what, and what a refusal says. The counting itself is
the runtime's ``RateLimiter`` (``identity.rate_limits``: memory or Redis),
which the entrypoints hand to the use cases as ``limiter=``. This module does
not import the ``limits`` library, so the services that import it load fast.
"""

from __future__ import annotations

import hashlib
import hmac
from enum import StrEnum
from typing import Protocol

from keyholder import metrics
from keyholder.errors import InvalidInput, TooManyRequests
from keyholder.identity.emails import normalize_email


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
    RECOVERY_CLAIM_USER = "recovery-claim-user"
    RECOVERY_CLAIM_ACCOUNT = "recovery-claim-account"


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


def counted_key(secret: bytes, scope: str, key: str) -> str:
    """What a storage keeps a count under: keyed, so neither a Redis dump nor the
    database reveals emails or client addresses."""
    message = f"{scope}\0{key}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()[:32]


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
            metrics.sign_in_throttled(scope.value)
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
