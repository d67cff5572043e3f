"""keyholder mail receive|listen: support mail in, from an MTA pipe or over SMTP."""

from __future__ import annotations

import json
import os
import signal
import smtplib
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner, Result

from keyholder.bootstrap import Runtime, bootstrap
from keyholder.cli import app
from keyholder.config import Settings
from keyholder.desk.models import Ticket, TicketMessage
from tests.conftest import TEST_SECRET
from tests.desk.emails import CUSTOMER, DESK, build_email, plus_address
from tests.runtimes import runtime_with
from tests.smtp_server import HOST, free_port

EX_DATAERR = 65
EX_TEMPFAIL = 75


def receive(runtime: Runtime, raw: bytes, *args: str) -> Result:
    """``keyholder mail receive ARGS < raw``, in-process against ``runtime``."""
    return CliRunner().invoke(
        app, ["mail", "receive", *args], obj=runtime, input=raw, catch_exceptions=False
    )


def tickets(runtime: Runtime) -> list[Ticket]:
    with runtime.uow(read_only=True) as uow:
        return list(uow.session.scalars(select(Ticket).order_by(Ticket.id)))


class TestReceive:
    def test_a_message_on_stdin_opens_a_ticket(self, runtime: Runtime) -> None:
        result = receive(runtime, build_email())

        assert result.exit_code == 0, result.stderr
        [ticket] = tickets(runtime)
        assert result.stdout == f"ticket #{ticket.id}: created\n"
        assert ticket.requester_email == CUSTOMER

    def test_json(self, runtime: Runtime) -> None:
        raw = build_email(message_id="<m1@customer.example>")

        out = json.loads(receive(runtime, raw, "--json").stdout)

        [ticket] = tickets(runtime)
        assert out == {
            "outcome": "created",
            "ticket": ticket.id,
            "message_id": "<m1@customer.example>",
            "follow_up_of": None,
            "reason": None,
            "refused_files": [],
        }

    def test_a_duplicate_is_accepted_and_ignored(self, runtime: Runtime) -> None:
        raw = build_email()
        receive(runtime, raw)

        result = receive(runtime, raw)

        assert result.exit_code == 0
        assert "duplicate" in result.stdout
        assert len(tickets(runtime)) == 1

    def test_envelope_recipients_thread_by_plus_address(self, runtime: Runtime) -> None:
        receive(runtime, build_email())
        [ticket] = tickets(runtime)
        address = plus_address(runtime, ticket.id)

        result = receive(
            runtime, build_email(subject="more"), "--recipient", DESK, "--recipient", address
        )

        assert result.stdout == f"ticket #{ticket.id}: added\n"

    def test_an_empty_envelope_sender_is_a_bounce(self, runtime: Runtime) -> None:
        result = receive(runtime, build_email(), "--sender", "")

        assert result.exit_code == 0
        assert "automated message recorded, not answered (empty envelope sender" in result.stdout

    def test_non_utf8_bytes_are_read_as_bytes(self, runtime: Runtime) -> None:
        raw = (
            b"From: jm@customer.example\nTo: support@keyholder.localhost\nSubject: x\n"
            b"Content-Type: text/plain; charset=iso-8859-1\n\nGr\xfc\xdfe\n"
        )

        assert receive(runtime, raw).exit_code == 0
        with runtime.uow(read_only=True) as uow:
            assert uow.session.scalars(select(TicketMessage.body)).one() == "Grüße\n"

    def test_not_an_email_is_a_data_error(self, runtime: Runtime) -> None:
        result = receive(runtime, b"")

        assert result.exit_code == EX_DATAERR
        assert result.stderr == "error: the message is empty\n"
        assert tickets(runtime) == []

    def test_too_big_is_a_data_error(self, settings, clock, engine) -> None:
        with runtime_with(settings, clock, engine, attachment_max_bytes=1000) as small:
            result = receive(small, build_email(body="x\n" * 5000))

        assert result.exit_code == EX_DATAERR
        assert "at most 3000" in result.stderr

    def test_an_unreachable_database_is_a_temporary_failure(self, settings: Settings) -> None:
        url = "postgresql+psycopg://nobody@127.0.0.1:1/x?connect_timeout=2"
        down = bootstrap(settings.model_copy(update={"database_url": url}))
        try:
            result = receive(down, build_email())
        finally:
            down.close()

        assert result.exit_code == EX_TEMPFAIL
        assert result.stderr.startswith("error: database: ")
        assert result.stderr.endswith("the mail system should try again later\n")


@pytest.fixture
def env(database_url: str) -> dict[str, str]:
    """The environment of a `keyholder` process on the test database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEYHOLDER_")}
    env.update(
        KEYHOLDER_ENV="test", KEYHOLDER_SECRET_KEY=TEST_SECRET, KEYHOLDER_DATABASE_URL=database_url
    )
    return env


def test_a_broken_configuration_is_a_temporary_failure(env: dict[str, str]) -> None:
    env = env | {"KEYHOLDER_ENV": "production", "KEYHOLDER_SECRET_KEY": ""}

    done = subprocess.run(
        [sys.executable, "-m", "keyholder", "mail", "receive"],
        input=build_email(),
        env=env,
        capture_output=True,
        timeout=60,
        check=False,
    )

    assert done.returncode == EX_TEMPFAIL, done.stderr
    assert b"KEYHOLDER_SECRET_KEY" in done.stderr


@pytest.fixture
def listening(
    runtime: Runtime, env: dict[str, str], tmp_path: Path
) -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    """`keyholder mail listen` in its own process, on a free loopback port."""
    port = free_port()
    log = tmp_path / "listen.log"
    with log.open("wb") as output:
        process = subprocess.Popen(  # noqa: S603 - our own CLI
            [sys.executable, "-m", "keyholder", "mail", "listen", "--port", str(port)],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, log.read_text()
            try:
                with smtplib.SMTP(HOST, port, timeout=2) as probe:
                    probe.noop()
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"keyholder mail listen did not start:\n{log.read_text()}")
                time.sleep(0.1)
        yield port, process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_listen_files_mail_sent_over_smtp(
    runtime: Runtime, listening: tuple[int, subprocess.Popen[bytes]]
) -> None:
    port, process = listening
    raw = build_email().replace(b"\n", b"\r\n")

    with smtplib.SMTP(HOST, port, timeout=10) as client:
        client.sendmail(CUSTOMER, [DESK], raw)
        with pytest.raises(smtplib.SMTPRecipientsRefused):
            client.sendmail(CUSTOMER, ["someone@elsewhere.example"], raw)

    [ticket] = tickets(runtime)
    assert ticket.requester_email == CUSTOMER
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 0  # a clean stop


def test_listen_refuses_a_public_address(runtime: Runtime) -> None:
    result = CliRunner().invoke(
        app,
        ["mail", "listen", "--host", "192.0.2.1"],  # TEST-NET-1: never bound, refused first
        obj=runtime,
        catch_exceptions=False,
    )

    assert result.exit_code == 1
    assert "not a loopback address" in result.stderr
