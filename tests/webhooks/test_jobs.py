"""The background jobs run one after another: one failing must not hold up the rest."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import pytest
from sqlalchemy import Engine

from keyholder.accounts import members
from keyholder.audit.actions import AuditAction
from keyholder.bootstrap import Runtime, bootstrap
from keyholder.clock import FixedClock
from keyholder.webhooks import service
from keyholder.webhooks.transport import HttpResult
from keyholder.worker import run_jobs_once
from tests.factories import OPERATOR, Factories
from tests.webhooks.receiver import Receiver


class BrokenTransport:
    """A transport with a bug: it raises instead of reporting the receiver's answer."""

    def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> HttpResult:
        raise RuntimeError("a bug in the webhook transport")


def test_a_failing_job_does_not_stop_the_jobs_after_it(
    runtime: Runtime,
    factories: Factories,
    receiver: Receiver,
    clock: FixedClock,
    engine: Engine,
    tmp_path: Path,
) -> None:
    stream = tmp_path / "audit-stream.jsonl"
    settings = runtime.settings.model_copy(update={"audit_stream_file": stream})
    broken = bootstrap(settings, clock=clock, engine=engine, webhook_transport=BrokenTransport())
    service.add_endpoint(broken.uow(), receiver.url, event_types=["member.added"], actor=OPERATOR)
    account = factories.account("acme-corp")
    user = factories.user("person@example.com")
    members.add_member(broken.uow(), account.name, user.email, ["view"], actor=OPERATOR)

    # The webhooks job fails on every run; the audit stream after it still runs
    # (and the failure is still reported, not swallowed).
    with pytest.raises(RuntimeError, match="a bug in the webhook transport"):
        run_jobs_once(broken)

    streamed = [json.loads(line) for line in stream.read_text().splitlines()]
    assert AuditAction.MEMBER_ADD in [event["action"] for event in streamed]
    assert receiver.received == []
