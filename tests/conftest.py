"""Test wiring: one migrated database per run, emptied after every test.

``pytest`` runs on SQLite; ``pytest --db postgresql`` runs the same tests on a
throwaway PostgreSQL database (server from KEYHOLDER_TEST_POSTGRESQL_URL,
default postgresql+psycopg://postgres@127.0.0.1:5432/postgres).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from keyholder.bootstrap import Runtime, bootstrap
from keyholder.clock import FixedClock
from keyholder.config import Settings
from keyholder.db import migrate
from keyholder.db.base import load_all_models
from keyholder.db.engine import make_engine
from keyholder.web.app import create_app
from tests.factories import Factories

DEFAULT_POSTGRESQL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
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
        _env_file=None,  # type: ignore[call-arg]
    )


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
