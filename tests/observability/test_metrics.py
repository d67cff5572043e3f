"""/metrics after the seed story: the series an operator's dashboard and alerts read."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from keyholder.access.execution import execute_due
from keyholder.access.prescreen_job import prescreen_due
from keyholder.access.states import RequestState
from keyholder.bootstrap import Runtime
from keyholder.errors import InvalidInput
from keyholder.mail.heartbeat import beat
from keyholder.web.app import create_app
from keyholder.worker import checkpoint_audit_chain
from tests.access.flow import Story
from tests.factories import PASSWORD, Factories
from tests.observability.scrape import Scrape

HOUR = timedelta(hours=1)


def scrape(client: TestClient) -> Scrape:
    response = client.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=")
    return Scrape.parse(response.text)


def requests_counted(page: Scrape, route: str, status: str = "2xx", method: str = "GET") -> float:
    return page.value_or(
        "keyholder_http_request_duration_seconds_count",
        0.0,
        route=route,
        status=status,
        method=method,
    )


class FailingScreener:
    """A pre-screen that cannot read the letter (the real one needs seconds of OCR)."""

    def screen(self, letter: bytes, **_: object) -> object:
        raise InvalidInput("the letter could not be read")


@pytest.fixture
def mail_client(mail_runtime: Runtime) -> Iterator[TestClient]:
    app = create_app(runtime=mail_runtime, run_relay=False, run_jobs=False)
    with TestClient(app, base_url="http://testserver") as client:
        yield client


class TestTheStoryInTheMetrics:
    def test_outbox_requests_jobs_and_grants(
        self, mail_client: TestClient, mail_runtime: Runtime, factories: Factories
    ) -> None:
        story = Story.begin(mail_runtime, factories)
        request_id = story.submit()
        story.confirm(request_id)
        story.executive_answers(request_id, confirm=True)  # before the relay blanks its link

        page = scrape(mail_client)
        assert page.value("keyholder_database_up") == 1
        assert page.value("keyholder_outbox_pending_messages") > 0  # the relay has not run
        assert page.value("keyholder_access_requests", state="in_review") == 1
        for other in set(RequestState) - {RequestState.IN_REVIEW}:
            assert page.value("keyholder_access_requests", state=other.value) == 0
        assert page.value("keyholder_job_due_items", job="prescreen") == 1
        assert page.value("keyholder_job_due_items", job="execution") == 0
        assert page.value("keyholder_access_grants_executed_total", via="letter") == 0
        assert page.value("keyholder_audit_events_unanchored") > 0  # no checkpoint sink here
        assert "keyholder_mail_relay_heartbeat_age_seconds" not in page.names()  # no relay yet

        mail_runtime.clock.advance(timedelta(minutes=5))  # type: ignore[attr-defined]
        page = scrape(mail_client)
        assert page.value("keyholder_outbox_oldest_pending_age_seconds") >= 300
        assert page.value("keyholder_job_lag_seconds", job="prescreen") >= 300

        relay = mail_runtime.relay()
        assert relay is not None
        beat(mail_runtime.uow, "relay-1")  # as run_forever does before each pass
        relay.run_until_idle()
        assert prescreen_due(mail_runtime.uow, screener=FailingScreener()) == 1  # type: ignore[arg-type]
        page = scrape(mail_client)
        assert page.value("keyholder_outbox_pending_messages") == 0
        assert page.value("keyholder_outbox_oldest_pending_age_seconds") == 0
        assert page.value("keyholder_mail_relay_heartbeat_age_seconds") == 0  # fixed clock
        assert page.value("keyholder_job_due_items", job="prescreen") == 0
        assert page.value("keyholder_job_lag_seconds", job="prescreen") == 0
        assert page.value("keyholder_letter_prescreen_duration_seconds_count", outcome="error") >= 1

        story.approve_twice(request_id)
        page = scrape(mail_client)
        assert page.value("keyholder_access_requests", state="cooling_off") == 1
        assert page.value("keyholder_cooling_offs_ending_24h") == 0  # 72 hours to go

        cooling_off = mail_runtime.settings.cooling_off
        mail_runtime.clock.advance(cooling_off - HOUR)  # type: ignore[attr-defined]
        assert scrape(mail_client).value("keyholder_cooling_offs_ending_24h") == 1

        mail_runtime.clock.advance(2 * HOUR)  # type: ignore[attr-defined]
        page = scrape(mail_client)
        assert page.value("keyholder_cooling_offs_ending_24h") == 0
        assert page.value("keyholder_job_due_items", job="execution") == 1
        assert page.value("keyholder_job_lag_seconds", job="execution") == 3600

        assert execute_due(mail_runtime.uow) == 1
        page = scrape(mail_client)
        assert page.value("keyholder_access_requests", state="executed") == 1
        assert page.value("keyholder_access_requests", state="cooling_off") == 0
        assert page.value("keyholder_access_grants_executed_total", via="letter") == 1
        assert page.value("keyholder_job_lag_seconds", job="execution") == 0

    def test_the_audit_checkpoint_age(
        self, client: TestClient, derive_runtime, factories: Factories, tmp_path: Path
    ) -> None:
        factories.account("acme-corp")  # some audit events
        assert "keyholder_audit_checkpoint_age_seconds" not in scrape(client).names()

        signing = derive_runtime(audit_checkpoint_file=tmp_path / "checkpoints.jsonl")
        assert checkpoint_audit_chain(signing) is not None
        signing.clock.advance(HOUR)
        page = scrape(client)
        assert page.value("keyholder_audit_checkpoint_age_seconds") == 3600
        assert page.value("keyholder_audit_events_unanchored") == 0


class TestInProcessNumbers:
    def test_each_answer_is_timed_by_route_template_and_status_class(
        self, client: TestClient, factories: Factories
    ) -> None:
        before = scrape(client)
        client.get("/healthz")
        client.get("/api/enterprise-accounts/no-such/members/someone@example.com")
        after = scrape(client)

        assert requests_counted(after, "/healthz") == requests_counted(before, "/healthz") + 1
        member = "/api/enterprise-accounts/{name}/members/{email}"
        assert requests_counted(after, member, "4xx") == requests_counted(before, member, "4xx") + 1
        assert requests_counted(after, "/metrics") >= 1
        # Never the path: no address, no account name in any label.
        assert "someone@example.com" not in client.get("/metrics").text
        assert "no-such" not in client.get("/metrics").text

    def test_sign_in_failures_and_throttles_are_counted(
        self, runtime: Runtime, derive_runtime, factories: Factories
    ) -> None:
        factories.user("alice@acme.example")
        tight = derive_runtime(login_limit_per_client="2 per 5 minutes")
        with TestClient(create_app(runtime=tight, run_relay=False, run_jobs=False)) as client:
            before = scrape(client)
            wrong = {"email": "alice@acme.example", "password": "not " + PASSWORD}
            assert client.post("/api/session", json=wrong).status_code == 401
            assert client.post("/api/session", json=wrong).status_code == 401
            assert client.post("/api/session", json=wrong).status_code == 429
            after = scrape(client)

        failures = "keyholder_sign_in_failures_total"
        assert after.value(failures) == before.value(failures) + 2
        throttled = "keyholder_sign_in_throttled_total"
        assert after.value(throttled, limit="login-client") == (
            before.value_or(throttled, 0.0, limit="login-client") + 1
        )

    def test_a_database_that_does_not_answer_still_gives_a_page(
        self, client: TestClient, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        from sqlalchemy.exc import OperationalError  # noqa: PLC0415

        def refuse() -> None:
            raise OperationalError("SELECT 1", {}, Exception("down"))

        monkeypatch.setattr(runtime.engine, "connect", refuse)
        page = scrape(client)
        assert page.value("keyholder_database_up") == 0
        assert "keyholder_outbox_pending_messages" not in page.names()


def test_timed_with_the_request_log_off(derive_runtime, caplog: pytest.LogCaptureFixture) -> None:
    """`keyholder serve --no-access-log`: no log line, the histogram still counts."""
    quiet = derive_runtime(request_log=False)
    with TestClient(create_app(runtime=quiet, run_relay=False, run_jobs=False)) as client:
        before = requests_counted(scrape(client), "/healthz")
        with caplog.at_level("INFO", logger="keyholder.request"):
            client.get("/healthz")
        assert requests_counted(scrape(client), "/healthz") == before + 1
    assert [r for r in caplog.records if r.name == "keyholder.request"] == []
