"""Rate limits on sign-in (S16) and on reset emails (S3), on memory and on Redis storage."""

from __future__ import annotations

import threading
import time

import pytest
import redis
from sqlalchemy import func, select

from keyholder.config import Settings
from keyholder.db.uow import RequestContext
from keyholder.errors import NotAuthenticated, TooManyRequests
from keyholder.identity.models import RateLimitHit
from keyholder.identity.reset import request_password_reset
from keyholder.identity.service import log_in
from keyholder.identity.throttle import Scope, allow_reset_email
from keyholder.mail.models import OutboxMessage
from tests.factories import PASSWORD

ALICE = "alice@acme.example"
WRONG = "not the password at all"
SERVICE_LIMITS = {
    "login_limit_per_account": "3 per 5 minutes",
    "login_limit_per_account_client": "2 per 5 minutes",
    "login_limit_per_client": "5 per 5 minutes",
    "reset_limit_per_email": "5 per 24 hours",
    "reset_limit_per_client": "8 per 1 hour",
}


SHIPPED_LOGIN_LIMITS = {
    name: field.default
    for name, field in Settings.model_fields.items()
    if name.startswith("login_limit_")
}


@pytest.fixture
def alice(factories):
    return factories.user(ALICE, password=PASSWORD)


@pytest.fixture
def limited(make_runtime):
    """A runtime with small limits (memory and Redis, see ``make_runtime``)."""
    return make_runtime(**SERVICE_LIMITS)


def attempt(runtime, email, password, address):
    return log_in(
        runtime.uow(RequestContext(client_address=address)),
        email,
        password,
        client_address=address,
        limiter=runtime.rate_limiter,
        hasher=runtime.password_hasher,
    )


def refusal(runtime, email, password, address) -> TooManyRequests:
    with pytest.raises(TooManyRequests) as refused:
        attempt(runtime, email, password, address)
    return refused.value


def reset_emails(runtime) -> int:
    with runtime.uow(read_only=True) as uow:
        return uow.session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.kind == "password_reset")
        )


def ask_for_reset(runtime, email, address):
    return request_password_reset(
        runtime.uow(RequestContext(client_address=address)), email, limiter=runtime.rate_limiter
    )


class TestLoginThrottle:
    def test_s16_per_account_limit_holds_across_client_addresses(self, limited, alice):
        for n in range(3):
            with pytest.raises(NotAuthenticated):
                attempt(limited, ALICE, WRONG, f"198.51.100.{n}")
        refused = refusal(limited, ALICE, WRONG, "198.51.100.99")
        assert refused.status_code == 429
        assert 0 < refused.retry_after <= 300

    def test_s16_per_client_limit_holds_across_accounts(self, limited, alice):
        for n in range(5):
            with pytest.raises(NotAuthenticated):
                attempt(limited, f"user{n}@acme.example", WRONG, "203.0.113.7")
        # A sixth account, and a real one with its right password: refused all the same.
        refusal(limited, ALICE, PASSWORD, "203.0.113.7")
        # Another address is not held back by this one.
        assert attempt(limited, ALICE, PASSWORD, "203.0.113.8").user.email == ALICE

    def test_s16_a_refused_client_uses_up_no_account_allowance(self, limited, alice):
        for n in range(5):
            with pytest.raises(NotAuthenticated):
                attempt(limited, f"user{n}@acme.example", WRONG, "203.0.113.7")
        for _ in range(10):
            refusal(limited, ALICE, WRONG, "203.0.113.7")
        assert attempt(limited, ALICE, PASSWORD, "203.0.113.8").user.email == ALICE

    def test_s16_throttled_answer_is_the_same_for_unknown_accounts(self, limited, alice):
        answers = []
        for email in (ALICE, "nobody@acme.example", "not an email"):
            for n in range(3):
                with pytest.raises(NotAuthenticated):
                    attempt(limited, email, WRONG, f"192.0.2.{n}")
            refused = refusal(limited, email, WRONG, "192.0.2.200")
            answers.append((refused.status_code, refused.title, refused.detail))
            assert 295 <= refused.retry_after <= 300
        assert len(set(answers)) == 1

    def test_s16_right_password_is_refused_until_the_window_passes(self, make_runtime, alice):
        runtime = make_runtime(login_limit_per_account="2 per 1 second")
        for _ in range(2):
            with pytest.raises(NotAuthenticated):
                attempt(runtime, ALICE, WRONG, "198.51.100.1")
        refused = refusal(runtime, ALICE, PASSWORD, "198.51.100.2")
        assert refused.retry_after == 1
        # Refused attempts are not counted, so the window ends as it would have.
        time.sleep(1.05)
        assert attempt(runtime, ALICE, PASSWORD, "198.51.100.3").user.email == ALICE

    def test_s16_successful_sign_ins_count_per_client_but_clear_the_accounts_failures(
        self, limited, alice
    ):
        with pytest.raises(NotAuthenticated):
            attempt(limited, ALICE, WRONG, "198.51.100.2")
        for _ in range(4):  # more than the account's limit of 3
            attempt(limited, ALICE, PASSWORD, "198.51.100.1")
        # Each sign-in cleared the account's counts: two more failures still fit.
        for n in range(2):
            with pytest.raises(NotAuthenticated):
                attempt(limited, ALICE, WRONG, f"198.51.100.{10 + n}")
        # The address's own count is never cleared: the fifth attempt is its last.
        attempt(limited, ALICE, PASSWORD, "198.51.100.1")
        refusal(limited, ALICE, PASSWORD, "198.51.100.1")

    def test_s16_one_client_guessing_one_account_is_stopped_before_its_client_limit(
        self, limited, alice
    ):
        for _ in range(2):
            with pytest.raises(NotAuthenticated):
                attempt(limited, ALICE, WRONG, "203.0.113.9")
        refusal(limited, ALICE, WRONG, "203.0.113.9")
        # Its other accounts are still open to it: the per-client limit is 5.
        with pytest.raises(NotAuthenticated):
            attempt(limited, "bob@acme.example", WRONG, "203.0.113.9")

    def test_s16_s40_anothers_failures_do_not_lock_out_a_fresh_client(self, make_runtime, alice):
        """With the shipped limits, one attacking address cannot lock an account: a
        right password from an address with its own allowance left signs in, while
        the attacker stays throttled (credential stuffing stays throttled per client)."""
        runtime = make_runtime(**SHIPPED_LOGIN_LIMITS)
        attacker = "203.0.113.66"
        answers = []
        for n in range(15):
            try:
                attempt(runtime, ALICE, f"{WRONG} {n}", attacker)
            except (NotAuthenticated, TooManyRequests) as exc:
                answers.append(exc.status_code)
        assert answers[0] == 401
        assert answers[-1] == 429
        assert attempt(runtime, ALICE, PASSWORD, "198.51.100.7").user.email == ALICE
        # The attacker is still refused, even with the right password.
        refusal(runtime, ALICE, PASSWORD, attacker)

    def test_s16_failures_from_several_addresses_still_lock_the_account(self, make_runtime, alice):
        """Guessing spread over many addresses is what the account-wide limit is for."""
        runtime = make_runtime(**SHIPPED_LOGIN_LIMITS)
        limits = runtime.settings
        per_pair = int(limits.login_limit_per_account_client.split()[0])
        per_account = int(limits.login_limit_per_account.split()[0])
        addresses = -(-per_account // per_pair)  # enough to fill the account's count
        for a in range(addresses):
            for n in range(per_pair):
                with pytest.raises(NotAuthenticated):
                    attempt(runtime, ALICE, f"{WRONG} {n}", f"192.0.2.{a}")
        refusal(runtime, ALICE, PASSWORD, "198.51.100.200")

    def test_s16_without_a_client_address_only_the_account_counts(self, limited, alice):
        for n in range(3):
            with pytest.raises(NotAuthenticated):
                attempt(limited, f"user{n}@acme.example", WRONG, None)
        assert attempt(limited, ALICE, PASSWORD, None).user.email == ALICE


class TestResetThrottle:
    def test_s3_sixth_request_in_a_day_sends_nothing_and_answers_the_same(self, limited, alice):
        answers = [ask_for_reset(limited, ALICE, f"198.51.100.{n}") for n in range(7)]
        assert answers == [None] * 7  # nothing raised, nothing to tell apart
        assert reset_emails(limited) == 5

    def test_s3_limit_per_client_address_across_emails(self, limited, factories):
        for n in range(10):
            factories.user(f"user{n}@acme.example", password=PASSWORD)
        for n in range(10):
            ask_for_reset(limited, f"user{n}@acme.example", "203.0.113.7")
        assert reset_emails(limited) == 8
        ask_for_reset(limited, "user9@acme.example", "203.0.113.8")
        assert reset_emails(limited) == 9

    def test_s3_requests_for_unknown_addresses_are_counted_alike(self, limited):
        allowed = [
            allow_reset_email(
                limited.rate_limiter, "nobody@acme.example", client_address="198.51.100.1"
            )
            for _ in range(6)
        ]
        assert allowed == [True] * 5 + [False]

    def test_s16_login_throttling_never_blocks_the_reset_path(self, limited, alice):
        for _ in range(2):
            with pytest.raises(NotAuthenticated):
                attempt(limited, ALICE, WRONG, "198.51.100.1")
        for _ in range(3):
            refusal(limited, ALICE, WRONG, "198.51.100.1")
        ask_for_reset(limited, ALICE, "198.51.100.1")
        assert reset_emails(limited) == 1


REDIS_ONLY = pytest.mark.parametrize("rate_limit_storage", ["redis"], indirect=True)
DATABASE_ONLY = pytest.mark.parametrize("rate_limit_storage", ["database"], indirect=True)


class TestStorage:
    @REDIS_ONLY
    def test_s16_limits_are_shared_between_processes_through_redis(self, make_runtime, alice):
        # Two runtimes stand for two worker processes: nothing shared but Redis.
        first, second = make_runtime(**SERVICE_LIMITS), make_runtime(**SERVICE_LIMITS)
        for n, runtime in enumerate((first, second, first)):
            with pytest.raises(NotAuthenticated):
                attempt(runtime, ALICE, WRONG, f"198.51.100.{n}")
        refusal(second, ALICE, PASSWORD, "198.51.100.2")

    @DATABASE_ONLY
    def test_s16_limits_are_shared_between_processes_through_the_database(
        self, make_runtime, alice
    ):
        # Two runtimes stand for two worker processes: nothing shared but the database.
        first, second = make_runtime(**SERVICE_LIMITS), make_runtime(**SERVICE_LIMITS)
        for n, runtime in enumerate((first, second, first)):
            with pytest.raises(NotAuthenticated):
                attempt(runtime, ALICE, WRONG, f"198.51.100.{n}")
        refused = refusal(second, ALICE, PASSWORD, "198.51.100.2")
        assert 0 < refused.retry_after <= 300

    @DATABASE_ONLY
    def test_s16_processes_counting_at_once_never_pass_the_limit_together(self, make_runtime):
        limiters = [make_runtime(**SERVICE_LIMITS).rate_limiter for _ in range(6)]

        def race(key: str) -> list[bool]:
            start = threading.Barrier(len(limiters))
            allowed: list[bool] = []

            def guess(limiter) -> None:
                start.wait()
                allowed.extend(limiter.hit(Scope.LOGIN_ACCOUNT, key) for _ in range(3))

            threads = [threading.Thread(target=guess, args=(limiter,)) for limiter in limiters]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=60)
            return allowed

        for n in range(8):  # a race lost once in a few tries without the lock: try it often
            allowed = race(f"victim{n}@acme.example")
            assert len(allowed) == 18
            assert allowed.count(True) == 3  # "3 per 5 minutes", whoever asked

    @DATABASE_ONLY
    def test_s3_s16_database_counts_hold_no_email_or_address(self, make_runtime, alice):
        runtime = make_runtime(**SERVICE_LIMITS)
        with pytest.raises(NotAuthenticated):
            attempt(runtime, ALICE, WRONG, "198.51.100.77")
        ask_for_reset(runtime, ALICE, "198.51.100.77")
        with runtime.engine.connect() as connection:
            buckets = connection.scalars(select(RateLimitHit.bucket)).all()
        assert len(set(buckets)) == 5  # as in Redis: reset per account and client, login too
        for bucket in buckets:
            assert "alice" not in bucket
            assert "acme" not in bucket
            assert "198.51" not in bucket

    @REDIS_ONLY
    def test_s3_s16_redis_keys_hold_no_email_or_address(
        self, make_runtime, rate_limit_storage, rate_limit_prefix, alice
    ):
        runtime = make_runtime(**SERVICE_LIMITS)
        with pytest.raises(NotAuthenticated):
            attempt(runtime, ALICE, WRONG, "198.51.100.77")
        ask_for_reset(runtime, ALICE, "198.51.100.77")
        client = redis.Redis.from_url(rate_limit_storage)
        try:
            keys = [key.decode() for key in client.scan_iter(f"{rate_limit_prefix}:*")]
        finally:
            client.close()
        assert len(keys) == 5  # reset per account and client; login also per the pair
        for key in keys:
            assert "alice" not in key
            assert "acme" not in key
            assert "198.51" not in key

    @pytest.mark.parametrize("rate_limit_storage", ["memory"], indirect=True)
    def test_s16_limits_hold_in_memory_while_redis_is_down(self, make_runtime, alice):
        # Port 1 on loopback refuses connections at once.
        runtime = make_runtime(redis_url="redis://127.0.0.1:1/0", **SERVICE_LIMITS)
        for n in range(3):
            with pytest.raises(NotAuthenticated):
                attempt(runtime, ALICE, WRONG, f"198.51.100.{n}")
        refused = refusal(runtime, ALICE, PASSWORD, "198.51.100.9")
        assert 0 < refused.retry_after <= 300

    def test_clear_forgets_every_count(self, limited, alice):
        limiter = limited.rate_limiter
        assert [limiter.hit(Scope.LOGIN_ACCOUNT, ALICE) for _ in range(4)] == [True] * 3 + [False]
        assert limiter.retry_after(Scope.LOGIN_ACCOUNT, ALICE) > 0
        limiter.clear()
        assert limiter.retry_after(Scope.LOGIN_ACCOUNT, ALICE) == 0
        assert limiter.hit(Scope.LOGIN_ACCOUNT, ALICE)
