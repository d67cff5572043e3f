"""/healthz and /readyz: what a load balancer asks before it sends traffic."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from keyholder.bootstrap import Runtime, bootstrap
from keyholder.db import migrate
from keyholder.mail.heartbeat import beat, newest_beat
from keyholder.web.app import create_app
from tests.cli.test_db import settings_for


@pytest.fixture
def mailing(mail_runtime: Runtime) -> Iterator[TestClient]:
    """A server whose mail goes over SMTP (so it needs a relay), none in its own process."""
    with TestClient(create_app(runtime=mail_runtime, run_relay=False, run_jobs=False)) as client:
        yield client


def test_a_current_database_is_ready(client: TestClient, db_backend: str) -> None:
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")

    assert ready.status_code == 200
    assert ready.json() == {
        "status": "ok",
        "database": db_backend,
        "schema": migrate.head_revision(runtime.engine),
        "mail_relay": "off",  # no transport here: mail stays queued by design
    }


@pytest.fixture
def behind(tmp_path: Path) -> Iterator[TestClient]:
    """A server whose database was migrated only to revision 0009."""
    runtime = bootstrap(settings_for(f"sqlite:///{tmp_path / 'old.db'}"))
    migrate.upgrade(runtime.engine, "0009")
    with TestClient(create_app(runtime=runtime, run_relay=False, run_jobs=False)) as client:
        yield client
    runtime.close()


def test_a_database_behind_the_code_is_not_ready_and_says_what_to_run(
    behind: TestClient,
) -> None:
    response = behind.get("/readyz")

    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    detail = response.json()["detail"]
    assert detail.startswith("the database schema is at revision 0009, this code needs ")
    assert detail.endswith("run `keyholder db upgrade`")
    assert behind.get("/healthz").status_code == 200  # alive, only not ready


def test_a_database_never_migrated_is_not_ready_and_says_what_to_run(tmp_path: Path) -> None:
    runtime = bootstrap(settings_for(f"sqlite:///{tmp_path / 'new.db'}"))
    try:
        with TestClient(create_app(runtime=runtime, run_relay=False, run_jobs=False)) as client:
            response = client.get("/readyz")
    finally:
        runtime.close()

    assert response.status_code == 503
    detail = response.json()["detail"]
    assert detail.startswith("the database schema is at revision none, this code needs ")
    assert detail.endswith("run `keyholder db upgrade`")


def test_mail_without_a_running_relay_is_not_ready(
    mailing: TestClient, mail_runtime: Runtime
) -> None:
    """Requests would succeed while their emails (reset links, veto notices) wait unsent."""
    runtime, client = mail_runtime, mailing

    never = client.get("/readyz")
    beat(runtime.uow, "relay-host:1")
    runtime.clock.advance(timedelta(minutes=5))  # that relay stopped
    stale = client.get("/readyz")

    assert never.status_code == stale.status_code == 503
    assert never.json()["detail"].startswith("no mail relay is running (none seen)")
    assert "(last seen " in stale.json()["detail"]
    assert "keyholder worker" in stale.json()["detail"]


def test_a_running_relay_beats_before_every_pass(
    mailing: TestClient, mail_runtime: Runtime
) -> None:
    runtime, client = mail_runtime, mailing
    relay = runtime.relay()
    assert relay is not None
    stop = threading.Event()
    thread = threading.Thread(target=relay.run_forever, args=(stop,), kwargs={"interval": 0.05})
    thread.start()
    try:
        for _ in range(200):
            with runtime.engine.connect() as connection:
                if newest_beat(connection) is not None:
                    break
            time.sleep(0.02)
    finally:
        stop.set()
        thread.join()

    assert client.get("/readyz").json()["mail_relay"] == "running"
