"""Real processes: `keyholder serve` with two workers and a standalone `keyholder worker`,
side by side on the test database, delivering mail to a loopback SMTP server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import select

from keyholder.audit.models import AuditEvent
from keyholder.identity.credentials import revoke_all_credentials
from tests.conftest import TEST_SECRET
from tests.smtp_server import LoopbackSMTPServer, free_port

STARTUP_SECONDS = 30


def wait_for(condition: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}")


def request(url: str, *, method: str = "GET", token: str | None = None, body: object = None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)  # noqa: S310 - loopback only
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=10) as response:  # noqa: S310
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


@pytest.fixture
def process_env(database_url: str, smtp_server: LoopbackSMTPServer) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEYHOLDER_")}
    env.update(
        KEYHOLDER_ENV="test",
        KEYHOLDER_SECRET_KEY=TEST_SECRET,
        KEYHOLDER_DATABASE_URL=database_url,
        KEYHOLDER_SMTP_URL=smtp_server.url,
        KEYHOLDER_RELAY_INTERVAL_SECONDS="0.2",
    )
    return env


@pytest.fixture
def processes(runtime, process_env, tmp_path) -> Iterator[Callable[..., subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []

    def start(*args: str) -> subprocess.Popen[bytes]:
        log = tmp_path / f"{args[0]}-{len(started)}.log"
        with log.open("wb") as output:  # the child keeps its own copy of the descriptor
            process = subprocess.Popen(  # noqa: S603 - our own CLI
                [sys.executable, "-m", "keyholder", *args],
                env=process_env,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        process.log = log  # type: ignore[attr-defined]
        started.append(process)
        return process

    yield start
    for process in started:
        process.terminate()
    for process in started:
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def serve(processes, *args: str) -> str:
    """Start `keyholder serve` with ``args``; its base URL once it answers /healthz."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = processes("serve", "--port", str(port), "--no-access-log", *args)

    def up() -> bool:
        assert server.poll() is None, server.log.read_text()
        try:
            return request(f"{base}/healthz")[0] == 200
        except OSError:
            return False

    wait_for(up, STARTUP_SECONDS, "keyholder serve to answer /healthz")
    return base


def test_serve_and_worker_processes_share_one_database(processes, factories, smtp_server):
    account = factories.account("acme-corp")
    admin = factories.admin_of(account, "alice@acme.example")
    factories.admin_of(account, "bob@acme.example")  # two admins: no continuity reminder
    token = factories.token(admin)
    base = serve(processes, "--workers", "2")
    processes("worker")
    assert request(f"{base}/readyz")[0] == 200

    invited = [f"new{n}@acme.example" for n in range(20)]
    for email in invited:
        status, _ = request(
            f"{base}/api/enterprise-accounts/acme-corp/members",
            method="POST",
            token=token,
            body={"user": {"email": email}, "permissions": ["view"]},
        )
        assert status == 202

    # Two in-process relays and one standalone worker race for the same rows.
    wait_for(lambda: len(smtp_server.messages) >= len(invited), 30, "every invitation email")
    time.sleep(1)  # a duplicate would arrive within a relay interval or two
    received = sorted(to for m in smtp_server.messages for to in m.rcpt_tos)
    assert received == sorted(invited)
    assert len(set(smtp_server.message_ids())) == len(invited)

    status, member = request(
        f"{base}/api/enterprise-accounts/acme-corp/members/alice@acme.example", token=token
    )
    assert status == 200
    assert member["user"]["email"] == "alice@acme.example"


def test_serve_sends_no_server_banner_and_reads_the_header_settings(processes, process_env):
    """S41 in a real `keyholder serve`: no `server` header; HSTS and the API docs
    switch come from the environment."""
    process_env.update(KEYHOLDER_HSTS_MAX_AGE="600", KEYHOLDER_API_DOCS="false")
    base = serve(processes)

    def headers_of(path: str) -> tuple[int, dict[str, str]]:
        try:
            with urllib.request.urlopen(f"{base}{path}", timeout=10) as response:  # noqa: S310
                return response.status, {k.lower(): v for k, v in response.headers.items()}
        except urllib.error.HTTPError as error:
            return error.code, {k.lower(): v for k, v in error.headers.items()}

    status, headers = headers_of("/healthz")
    assert status == 200
    assert "server" not in headers
    assert "date" in headers
    assert headers["strict-transport-security"] == "max-age=600"
    status, headers = headers_of("/api/session")
    assert status == 401
    assert "server" not in headers
    assert headers["cache-control"] == "no-store"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers_of("/api/openapi.json")[0] == 404
    assert headers_of("/api/docs")[0] == 404


def test_a_revoked_token_is_refused_at_once_by_every_app_process(processes, runtime, factories):
    """Issue 17: the member lookup's fast path caches nothing that could outlive a
    revocation. Two app processes, each with its connection pool warm, refuse a
    token on the very next request after another process revoked it."""
    account = factories.account("acme-corp")
    admin = factories.admin_of(account, "alice@acme.example")
    token = factories.token(admin)
    bases = [serve(processes), serve(processes)]
    path = "/api/enterprise-accounts/acme-corp/members/alice@acme.example"
    for _ in range(20):  # pooled connections and compiled statements in place
        for base in bases:
            assert request(f"{base}{path}", token=token)[0] == 200

    with runtime.uow() as uow:  # "log out everywhere" from a third process's view
        revoke_all_credentials(uow, admin.id)
        uow.commit()

    for base in bases:
        status, problem = request(f"{base}{path}", token=token)
        assert status == 401, problem


@pytest.mark.parametrize(
    ("trusted", "seen"), [('["127.0.0.1"]', "203.0.113.9"), ("[]", "127.0.0.1")]
)
def test_the_client_address_comes_from_x_forwarded_for_only_behind_a_trusted_proxy(
    processes, process_env, runtime, trusted, seen
):
    """Behind a proxy every client would share the proxy's address (and its rate
    limits); without one, the header is anyone's to write and must be ignored."""
    process_env["KEYHOLDER_TRUSTED_PROXIES"] = trusted
    base = serve(processes)
    req = urllib.request.Request(  # noqa: S310 - loopback only
        f"{base}/api/password-resets",
        data=json.dumps({"email": "nobody@example.com"}).encode(),
        headers={"Content-Type": "application/json", "X-Forwarded-For": "203.0.113.9"},
        method="POST",
    )
    with urllib.request.urlopen(req, timeout=10) as response:  # noqa: S310
        assert response.status == 202
    with runtime.uow(read_only=True) as uow:
        addresses = uow.session.scalars(
            select(AuditEvent.client_address).where(AuditEvent.action.like("password_reset.%"))
        ).all()
    assert addresses == [seen]
