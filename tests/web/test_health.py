"""/healthz and /readyz: what a load balancer asks before it sends traffic."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from keyholder.bootstrap import bootstrap
from keyholder.db import migrate
from keyholder.web.app import create_app
from tests.cli.test_db import settings_for


def test_a_current_database_is_ready(client: TestClient, db_backend: str) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")

    assert ready.status_code == 200
    assert ready.json() == {
        "status": "ok",
        "database": db_backend,
        "schema": migrate.head_revision(client.app.state.runtime.engine),  # type: ignore[attr-defined]
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
