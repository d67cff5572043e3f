"""S40: a sign-in whose client hangs up leaves the hashing queue unhashed.

A real uvicorn server (in a thread of this process, so the test can watch the
pool) and a real TCP client that sends a sign-in and closes the connection.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator

import pytest
import uvicorn
from sqlalchemy import func, select

from keyholder.identity.models import UserSession
from keyholder.web.app import create_app
from tests.factories import PASSWORD
from tests.pools import busy_workers
from tests.smtp_server import free_port


def wait_for(condition: Callable[[], bool], what: str, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.02)


@pytest.fixture
def one_worker(make_runtime):
    return make_runtime(hashing_workers=1)


@pytest.fixture
def server(one_worker) -> Iterator[int]:
    """Keyholder under uvicorn on a loopback port; yields the port."""
    port = free_port()
    app = create_app(runtime=one_worker, run_relay=False, run_jobs=False)
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    wait_for(lambda: running.started, "uvicorn to start")
    yield port
    running.should_exit = True
    thread.join(timeout=10)


def sign_in_request(port: int, email: str, password: str) -> bytes:
    body = json.dumps({"email": email, "password": password}).encode()
    head = (
        f"POST /api/session HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


def sessions_of(runtime, user) -> int:
    with runtime.uow(read_only=True) as uow:
        return uow.session.scalar(
            select(func.count()).select_from(UserSession).where(UserSession.user_id == user.id)
        )


def test_s40_a_disconnected_clients_sign_in_is_dropped_before_it_is_hashed(
    server, one_worker, factories
):
    alice = factories.user("alice@acme.example", password=PASSWORD)
    pool = one_worker.hashing
    with busy_workers(pool) as blockers:
        with socket.create_connection(("127.0.0.1", server), timeout=10) as client:
            client.sendall(sign_in_request(server, alice.email, PASSWORD))
            wait_for(lambda: pool.waiting == 1, "the sign-in to be queued")
        # The client hung up; its job leaves the queue while the worker is still busy.
        wait_for(lambda: pool.waiting == 0, "the abandoned sign-in to leave the queue")
        assert not any(blocker.done() for blocker in blockers)
    pool.submit(time.sleep, 0).result(timeout=10)  # FIFO: anything queued before has run
    assert sessions_of(one_worker, alice) == 0  # the right password, never checked


def test_s40_a_client_that_stays_gets_its_answer(server, one_worker, factories):
    alice = factories.user("alice@acme.example", password=PASSWORD)
    with socket.create_connection(("127.0.0.1", server), timeout=10) as client:
        client.sendall(sign_in_request(server, alice.email, PASSWORD))
        answer = client.recv(4096)
    assert answer.startswith(b"HTTP/1.1 200")
    assert sessions_of(one_worker, alice) == 1
