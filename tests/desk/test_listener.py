"""The SMTP/LMTP listener (desk.listener) in-process: replies an MTA understands."""

from __future__ import annotations

import smtplib
import socket
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from keyholder.bootstrap import Runtime, bootstrap
from keyholder.config import Settings
from keyholder.desk.listener import reply_for
from keyholder.desk.models import Ticket
from keyholder.errors import InvalidInput, PayloadTooLarge
from tests.desk.emails import CUSTOMER, DESK, build_email, plus_address
from tests.desk.listener import ThreadedListener
from tests.runtimes import runtime_with
from tests.smtp_server import HOST


def smtp_bytes(**kw: object) -> bytes:
    """An email with CRLF line ends, as SMTP carries it (smtplib sends bytes as they are)."""
    return build_email(**kw).replace(b"\n", b"\r\n")  # type: ignore[arg-type]


def tickets(runtime: Runtime) -> list[Ticket]:
    with runtime.uow(read_only=True) as uow:
        return list(uow.session.scalars(select(Ticket).order_by(Ticket.id)))


@pytest.fixture
def listener(runtime: Runtime) -> Iterator[ThreadedListener]:
    with ThreadedListener(runtime) as running:
        yield running


class TestSMTP:
    def test_a_message_becomes_a_ticket(self, runtime: Runtime, listener: ThreadedListener) -> None:
        with smtplib.SMTP(HOST, listener.port, timeout=10) as client:
            client.ehlo()
            assert client.has_extn("size")
            client.sendmail(CUSTOMER, [DESK], smtp_bytes())
            assert client.noop()[0] == 250

        [ticket] = tickets(runtime)
        assert ticket.requester_email == CUSTOMER

    def test_the_reply_says_what_happened(
        self, runtime: Runtime, listener: ThreadedListener
    ) -> None:
        with smtplib.SMTP(HOST, listener.port, timeout=10) as client:
            client.ehlo()
            client.mail(CUSTOMER)
            client.rcpt(DESK)
            code, text = client.data(smtp_bytes())

        [ticket] = tickets(runtime)
        assert (code, text) == (250, f"2.0.0 ticket #{ticket.id}: created".encode())

    def test_only_desk_addresses_are_accepted(self, listener: ThreadedListener) -> None:
        with smtplib.SMTP(HOST, listener.port, timeout=10) as client:
            client.ehlo()
            client.mail(CUSTOMER)
            assert client.rcpt("someone@elsewhere.example")[0] == 550
            assert client.rcpt("SUPPORT+t1-x@Keyholder.Localhost")[0] == 250

    def test_not_an_email_is_refused_for_good(
        self, runtime: Runtime, listener: ThreadedListener
    ) -> None:
        with (
            smtplib.SMTP(HOST, listener.port, timeout=10) as client,
            pytest.raises(smtplib.SMTPDataError) as refused,
        ):
            client.sendmail(CUSTOMER, [DESK], b"no headers, just words")
        assert refused.value.smtp_code == 550
        assert tickets(runtime) == []

    def test_too_big_is_refused_for_good(self, settings, clock, engine) -> None:
        with (
            runtime_with(settings, clock, engine, attachment_max_bytes=1000) as small,
            ThreadedListener(small) as listener,
            smtplib.SMTP(HOST, listener.port, timeout=10) as client,
        ):
            client.ehlo()
            client.esmtp_features.pop("size")  # a client that ignores the announced limit
            with pytest.raises(smtplib.SMTPDataError) as refused:
                client.sendmail(CUSTOMER, [DESK], smtp_bytes(body=("x" * 70 + "\n") * 80))
            assert refused.value.smtp_code == 552
            assert tickets(small) == []

    def test_a_database_outage_is_a_temporary_failure(self, settings: Settings) -> None:
        down = bootstrap(
            settings.model_copy(
                update={
                    "database_url": "postgresql+psycopg://nobody@127.0.0.1:1/x?connect_timeout=2"
                }
            )
        )
        try:
            with (
                ThreadedListener(down) as listener,
                smtplib.SMTP(HOST, listener.port, timeout=10) as client,
                pytest.raises(smtplib.SMTPDataError) as deferred,
            ):
                client.sendmail(CUSTOMER, [DESK], smtp_bytes())
            assert deferred.value.smtp_code == 451
        finally:
            down.close()


class TestLMTP:
    def test_one_reply_per_recipient_and_one_ticket_message(self, runtime: Runtime) -> None:
        with ThreadedListener(runtime, lmtp=True) as listener:
            first = lmtp_session(listener.port, [DESK, "help@keyholder.localhost"], smtp_bytes())

        [ticket] = tickets(runtime)
        assert first == [f"250 2.0.0 ticket #{ticket.id}: created"] * 2

    def test_a_plus_address_recipient_threads(self, runtime: Runtime) -> None:
        with ThreadedListener(runtime, lmtp=True) as listener:
            lmtp_session(listener.port, [DESK], smtp_bytes())
            [ticket] = tickets(runtime)
            address = plus_address(runtime, ticket.id).rpartition("<")[2].rstrip(">")
            replies = lmtp_session(listener.port, [address], smtp_bytes(subject="more"))

        assert replies == [f"250 2.0.0 ticket #{ticket.id}: added"]


def lmtp_session(port: int, recipients: list[str], raw: bytes) -> list[str]:
    """One LMTP transaction; the replies after DATA (smtplib reads only one of them)."""
    with socket.create_connection((HOST, port), timeout=10) as sock, sock.makefile("rwb") as f:

        def command(line: str) -> str:
            f.write(line.encode() + b"\r\n")
            f.flush()
            return read_reply()

        def read_reply() -> str:
            while True:
                reply = f.readline().decode().rstrip("\r\n")
                if reply[3:4] != "-":
                    return reply

        assert read_reply().startswith("220")
        assert command("LHLO client.example").startswith("250")
        assert command(f"MAIL FROM:<{CUSTOMER}>").startswith("250")
        for recipient in recipients:
            assert command(f"RCPT TO:<{recipient}>").startswith("250")
        assert command("DATA").startswith("354")
        body = raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
        f.write(body.replace(b"\r\n.", b"\r\n..") + b"\r\n.\r\n")
        f.flush()
        replies = [read_reply() for _ in recipients]
        command("QUIT")
        return replies


class TestReplyFor:
    @pytest.mark.parametrize(
        ("error", "reply"),
        [
            (PayloadTooLarge("too big"), "552 5.3.4 too big"),
            (InvalidInput("not mail\r\nInjected: x"), "550 5.6.0 not mail Injected: x"),
            (RuntimeError("bug"), "451 4.3.0 temporary failure, try again later"),
        ],
    )
    def test_errors_map_to_smtp_replies(
        self, error: Exception, reply: str, caplog: pytest.LogCaptureFixture
    ) -> None:
        def fail() -> None:
            raise error

        assert reply_for(fail) == reply  # type: ignore[arg-type]
