"""Test wiring: one migrated database per run, emptied after every test.

``pytest`` runs on SQLite; ``pytest --db postgresql`` runs the same tests on a
throwaway PostgreSQL database (server from KEYHOLDER_TEST_POSTGRESQL_URL,
default postgresql+psycopg://postgres@127.0.0.1:5432/postgres). Rate-limit tests
run on memory storage and on Redis (KEYHOLDER_TEST_REDIS_URL, default
redis://127.0.0.1:6379/0), under a key prefix of their own.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import hypothesis
import pytest
import redis
from fastapi.testclient import TestClient
from limits.errors import StorageError
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from keyholder.bootstrap import Runtime, bootstrap
from keyholder.clock import FixedClock
from keyholder.config import Settings
from keyholder.db import migrate
from keyholder.db.base import load_all_models
from keyholder.db.engine import make_engine
from keyholder.mail.transports import SMTPTransport
from keyholder.web.app import create_app
from tests.factories import Factories
from tests.outbox import Outbox
from tests.smtp_server import LoopbackSMTPServer

DEFAULT_POSTGRESQL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS = "redis://127.0.0.1:6379/0"
# CI runs the property tests on a fixed seed, so a submission's result does not
# depend on the luck of the draw; local runs keep exploring new examples.
hypothesis.settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    hypothesis.settings.load_profile("ci")

TEST_SECRET = "test-secret-key-0123456789abcdef0123456789abcdef"
START = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--db",
        choices=["sqlite", "postgresql"],
        default="sqlite",
        help="database engine to test on",
    )


@pytest.fixture(scope="session")
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    if request.config.getoption("--db") == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'keyholder.db'}"
        return
    with throwaway_postgresql_database() as url:
        yield url


@contextlib.contextmanager
def throwaway_postgresql_database() -> Iterator[str]:
    """The URL of a new database on the test PostgreSQL server, dropped afterwards."""
    server_url = os.environ.get("KEYHOLDER_TEST_POSTGRESQL_URL", DEFAULT_POSTGRESQL)
    name = f"keyholder_test_{uuid.uuid4().hex[:12]}"
    admin = make_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    migrate.upgrade(engine)  # the schema under test comes from the migrations
    yield engine
    engine.dispose()


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        env="test",
        database_url=database_url,
        secret_key=TEST_SECRET,
        base_url="https://keyholder.test",
        mail_from="Keyholder <support@keyholder.test>",
        # Generous limits in memory, so only the throttling tests are throttled.
        redis_url=None,
        login_limit_per_account="1000 per 5 minutes",
        login_limit_per_account_client="1000 per 5 minutes",
        login_limit_per_client="1000 per 5 minutes",
        reset_limit_per_email="1000 per 24 hours",
        reset_limit_per_client="1000 per 1 hour",
        access_request_limit_per_client="1000 per 1 hour",
        access_request_limit_per_account="1000 per 1 day",
        # Tests run background jobs themselves, at the fixed clock's time.
        jobs_in_process=False,
        # argon2id at its cheapest: tests check behaviour, not cost (S12 tests vary these).
        argon2_time_cost=1,
        argon2_memory_cost=8,
        argon2_parallelism=1,
        _env_file=None,  # type: ignore[call-arg]
    )


@pytest.fixture
def blank_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An empty database of the engine under test, for migrating step by step."""
    if request.config.getoption("--db") == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'upgrade.db'}")
        yield engine
        engine.dispose()
        return
    with throwaway_postgresql_database() as url:
        engine = make_engine(url)
        yield engine
        engine.dispose()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
def runtime(settings: Settings, clock: FixedClock, engine: Engine) -> Iterator[Runtime]:
    runtime = bootstrap(settings, clock=clock, engine=engine)
    yield runtime
    _empty_all_tables(engine)


def _empty_all_tables(engine: Engine) -> None:
    # DELETE, children first: on tables this small it beats TRUNCATE's fixed cost.
    with engine.begin() as connection:
        for table in reversed(load_all_models().sorted_tables):
            connection.execute(table.delete())


@pytest.fixture
def factories(runtime: Runtime) -> Factories:
    return Factories(runtime)


@pytest.fixture
def outbox(runtime: Runtime) -> Outbox:
    """The emails queued so far (tests/outbox.py)."""
    return Outbox(runtime)


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient]:
    app = create_app(runtime=runtime, run_relay=False)
    with TestClient(app, base_url="http://testserver") as test_client:
        yield test_client


@pytest.fixture
def db_backend(engine: Engine) -> str:
    return engine.dialect.name


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The test Redis (KEYHOLDER_TEST_REDIS_URL); skipped when it is down, except in CI."""
    url = os.environ.get("KEYHOLDER_TEST_REDIS_URL", DEFAULT_REDIS)
    client = redis.Redis.from_url(url, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"Redis at {url} is not reachable: {exc}")
        pytest.skip(f"Redis at {url} is not reachable: {exc}")
    finally:
        client.close()
    return url


@pytest.fixture(scope="session")
def rate_limit_prefix() -> str:
    """A Redis key prefix of this test run alone, so parallel runs never share counts."""
    return f"keyholder-test-{uuid.uuid4().hex[:12]}"


@pytest.fixture(params=["memory", "database", "redis"])
def rate_limit_storage(request: pytest.FixtureRequest) -> str:
    """Rate-limit storage for ``make_runtime``: "memory", "database" or the test Redis URL."""
    if request.param != "redis":
        return str(request.param)
    url: str = request.getfixturevalue("redis_url")
    return url


@pytest.fixture
def make_runtime(
    runtime: Runtime, rate_limit_storage: str, rate_limit_prefix: str
) -> Iterator[Callable[..., Runtime]]:
    """Runtimes like ``runtime`` (same database and clock) with some settings changed.

    Their rate limits live in memory, in the database or in Redis (the fixture
    is parametrised), and are cleared when the test ends; ``runtime`` empties
    the tables.
    """
    made: list[Runtime] = []
    if rate_limit_storage in ("memory", "database"):
        storage = {"redis_url": None, "rate_limit_storage": rate_limit_storage}
    else:
        storage = {"redis_url": rate_limit_storage}

    def make(**changes: object) -> Runtime:
        changed = runtime.settings.model_copy(
            update=storage | {"rate_limit_prefix": rate_limit_prefix} | changes
        )
        made.append(bootstrap(changed, clock=runtime.clock, engine=runtime.engine))
        return made[-1]

    yield make
    for each in made:
        with contextlib.suppress(StorageError):  # a test may point at a Redis that is down
            each.rate_limiter.clear()
        each.rate_limiter.close()
        each.hashing.close()


@pytest.fixture
def derive_runtime(runtime: Runtime) -> Iterator[Callable[..., Runtime]]:
    """Runtimes on ``runtime``'s database and clock with some settings changed (unchecked)."""
    made: list[Runtime] = []

    def derive(**changes: Any) -> Runtime:
        settings = runtime.settings.model_copy(update=changes)
        made.append(bootstrap(settings, clock=runtime.clock, engine=runtime.engine))
        return made[-1]

    yield derive
    for each in made:  # not close(): the engine belongs to `runtime`
        each.hashing.close()
        each.rate_limiter.close()


@pytest.fixture
def smtp_server() -> Iterator[LoopbackSMTPServer]:
    """A real SMTP server on 127.0.0.1 that records every message it accepts."""
    with LoopbackSMTPServer() as server:
        yield server


@pytest.fixture
def mail_runtime(
    runtime: Runtime,  # shares its database and empties it after the test
    settings: Settings,
    clock: FixedClock,
    engine: Engine,
    smtp_server: LoopbackSMTPServer,
) -> Iterator[Runtime]:
    """A runtime like ``runtime`` whose mail goes over SMTP to ``smtp_server``."""
    mail_runtime = bootstrap(
        settings,
        clock=clock,
        engine=engine,
        mail_transport=SMTPTransport(smtp_server.url, timeout=5),
    )
    yield mail_runtime
    mail_runtime.hashing.close()  # not close(): the engine belongs to `runtime`
