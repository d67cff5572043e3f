"""One log line per request, and one request id on its log line, audit events and emails."""

from __future__ import annotations

import json
import logging

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from keyholder.audit.models import AuditEvent
from keyholder.bootstrap import Runtime
from keyholder.logs import JsonLines, configure_logging
from keyholder.mail.models import OutboxMessage
from keyholder.web.app import create_app
from tests.factories import Factories

MEMBERS = "/api/enterprise-accounts/acme-corp/members"


@pytest.fixture
def alice(factories: Factories):
    account = factories.account("acme-corp", domains=["acme.example"])
    user = factories.user("alice@acme.example")
    factories.member(account, user, "view,manage")
    return user


def request_lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, object]]:
    formatter = JsonLines()
    return [
        json.loads(formatter.format(record))
        for record in caplog.records
        if record.name == "keyholder.request"
    ]


def test_a_request_is_one_json_line_with_its_route_template_and_no_address(
    client: TestClient, factories: Factories, alice, caplog: pytest.LogCaptureFixture
) -> None:
    headers = factories.auth(alice)
    with caplog.at_level(logging.INFO, logger="keyholder.request"):
        answer = client.get(f"{MEMBERS}/alice@acme.example", headers=headers)

    [line] = request_lines(caplog)
    assert answer.status_code == 200
    assert line["route"] == "/api/enterprise-accounts/{name}/members/{email}"
    assert line["method"] == "GET"
    assert line["status"] == 200
    assert isinstance(line["duration_ms"], float)
    assert line["actor_id"] == str(alice.id)
    assert line["request_id"] == answer.headers["x-request-id"]
    assert "alice@acme.example" not in json.dumps(line)  # the path is never logged
    assert "acme-corp" not in json.dumps(line)


def test_the_callers_request_id_is_on_the_audit_event_and_the_email_it_caused(
    client: TestClient,
    factories: Factories,
    alice,
    runtime: Runtime,
    caplog: pytest.LogCaptureFixture,
) -> None:
    headers = factories.auth(alice) | {"X-Request-ID": "trace-4711"}
    with caplog.at_level(logging.INFO, logger="keyholder.request"):
        answer = client.post(MEMBERS, json={"user": {"email": "new@acme.example"}}, headers=headers)

    assert answer.status_code == 202  # invited by email
    assert answer.headers["x-request-id"] == "trace-4711"
    assert [line["request_id"] for line in request_lines(caplog)] == ["trace-4711"]
    with runtime.uow(read_only=True) as uow:
        event = uow.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "invitation.create")
        ).one()
        email = uow.session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == "invitation")
        ).one()
    assert event.request_id == email.request_id == "trace-4711"


def test_a_request_id_that_is_not_a_plain_token_is_replaced(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="keyholder.request"):
        answer = client.get("/healthz", headers={"X-Request-ID": "evil id; drop"})

    [line] = request_lines(caplog)
    assert answer.headers["x-request-id"] == line["request_id"]
    assert len(str(line["request_id"])) == 32  # a new uuid4, hex


def test_an_unmatched_path_logs_no_path(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="keyholder.request"):
        client.get("/reset/khr_secret-token-in-a-path")

    lines = request_lines(caplog)
    assert "khr_secret" not in json.dumps(lines)


def test_the_request_log_can_be_switched_off(
    runtime: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    quiet = runtime.settings.model_copy(update={"request_log": False})
    runtime.settings = quiet
    with (
        TestClient(create_app(runtime=runtime, run_relay=False)) as client,
        caplog.at_level(logging.INFO, logger="keyholder.request"),
    ):
        client.get("/healthz")

    assert request_lines(caplog) == []


def test_configured_logs_are_json_lines_and_uvicorns_path_line_is_gone(
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        configure_logging("json")
        logging.getLogger("keyholder.request").info(
            "GET /x 200", extra={"request_id": "r1", "route": "/x", "status": 200}
        )
        logging.getLogger("uvicorn.access").info('127.0.0.1 - "GET /reset/khr_secret HTTP/1.1" 200')
    finally:
        root.handlers, root.level = saved
        logging.getLogger("uvicorn.access").disabled = False

    [line] = capsys.readouterr().err.splitlines()
    record = json.loads(line)
    assert record["request_id"] == "r1"
    assert record["route"] == "/x"
    assert record["level"] == "info"
