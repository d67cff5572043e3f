"""A real SMTP server on loopback for tests (aiosmtpd), with outages and refusals.

    server = LoopbackSMTPServer()
    server.start()                     # listens on 127.0.0.1:<free port>
    transport = SMTPTransport(server.url)
    ...
    server.stop(); server.start()      # an outage: down, then back on the SAME port
    server.refuse_recipient("gone@x.example", "550 5.1.1 No such user")
    server.refuse_data("451 4.3.0 Try again later", times=1)
    server.messages                    # every message accepted, parsed

Refusals answer the SMTP command with the given reply line, as a real server
would; ``times`` limits how often (then the server accepts again).
"""

from __future__ import annotations

import asyncio
import email.policy
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any, Self

from aiosmtpd.controller import Controller

HOST = "127.0.0.1"


def free_port(host: str = HOST) -> int:
    """A TCP port nobody listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass(frozen=True, slots=True)
class ReceivedMessage:
    """One message the server accepted: the envelope and the parsed content."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    message: EmailMessage

    @property
    def message_id(self) -> str:
        return str(self.message["Message-ID"])

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def body(self) -> str:
        part = self.message.get_body(preferencelist=("plain",))
        assert part is not None, "no text/plain part"
        content: str = part.get_content()
        return content


@dataclass(slots=True)
class _Refusal:
    reply: str
    times: int | None  # None: for ever

    def use(self) -> str | None:
        if self.times is not None:
            if self.times <= 0:
                return None
            self.times -= 1
        return self.reply


class _Handler:
    """aiosmtpd handler hooks; runs on the server's event-loop thread."""

    def __init__(self, server: LoopbackSMTPServer) -> None:
        self._server = server

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        reply = self._server._refusal_for_recipient(address)
        if reply is not None:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(  # noqa: N802 - aiosmtpd's hook name
        self, server: Any, session: Any, envelope: Any
    ) -> str:
        reply = self._server._refusal_for_data()
        if reply is not None:
            return reply
        if self._server.delay:
            await asyncio.sleep(self._server.delay)  # a slow server
        # SMTP carries CRLF line ends; parse in Python's "\n" form, as the sender wrote it.
        content = envelope.content.replace(b"\r\n", b"\n")
        parsed = BytesParser(policy=email.policy.default).parsebytes(content)
        assert isinstance(parsed, EmailMessage)
        self._server._record(
            ReceivedMessage(
                mail_from=envelope.mail_from, rcpt_tos=tuple(envelope.rcpt_tos), message=parsed
            )
        )
        return "250 Message accepted for delivery"


class LoopbackSMTPServer:
    """An aiosmtpd server on 127.0.0.1 that records what it accepts.

    Stopping closes the listening socket (clients get "connection refused");
    starting again listens on the same port, so a transport configured with
    ``url`` reaches it again, as after a real outage.
    """

    def __init__(self, host: str = HOST, port: int | None = None, *, delay: float = 0.0) -> None:
        self.host = host
        self.port = port or free_port(host)
        self.delay = delay  # seconds each accepted message takes
        self._lock = threading.Lock()
        self._messages: list[ReceivedMessage] = []
        self._recipient_refusals: dict[str, _Refusal] = {}
        self._data_refusal: _Refusal | None = None
        self._controller: Controller | None = None

    @property
    def url(self) -> str:
        return f"smtp://{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._controller is not None

    def start(self) -> None:
        if self._controller is not None:
            raise RuntimeError("the SMTP server is already running")
        # A Controller closes its event loop on stop, so each start needs a new one.
        controller = Controller(
            _Handler(self),
            hostname=self.host,
            port=self.port,
            server_hostname="smtp.keyholder.test",
        )
        controller.start()
        self._controller = controller

    def stop(self) -> None:
        if self._controller is None:
            raise RuntimeError("the SMTP server is not running")
        controller, self._controller = self._controller, None
        controller.stop()

    @contextmanager
    def down(self) -> Iterator[None]:
        """Within the block the server is unreachable; it is back afterwards."""
        self.stop()
        try:
            yield
        finally:
            self.start()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.running:
            self.stop()

    # --- what the server answers -------------------------------------------------

    def refuse_recipient(self, address: str, reply: str, *, times: int | None = None) -> None:
        """Answer RCPT TO:<address> with ``reply`` (e.g. ``"550 5.1.1 No such user"``)."""
        self._check_reply(reply)
        with self._lock:
            self._recipient_refusals[address.lower()] = _Refusal(reply, times)

    def refuse_data(self, reply: str, *, times: int | None = None) -> None:
        """Answer the end of DATA with ``reply`` (e.g. ``"451 4.3.0 Try again later"``)."""
        self._check_reply(reply)
        with self._lock:
            self._data_refusal = _Refusal(reply, times)

    def accept_all(self) -> None:
        """Forget every refusal."""
        with self._lock:
            self._recipient_refusals.clear()
            self._data_refusal = None

    @staticmethod
    def _check_reply(reply: str) -> None:
        code = reply[:3]
        if not (code.isdigit() and code[0] in "45" and reply[3:4] in {" ", ""}):
            raise ValueError(f"a refusal is a 4xx or 5xx reply line, got {reply!r}")

    def _refusal_for_recipient(self, address: str) -> str | None:
        with self._lock:
            refusal = self._recipient_refusals.get(address.lower())
            return refusal.use() if refusal is not None else None

    def _refusal_for_data(self) -> str | None:
        with self._lock:
            return self._data_refusal.use() if self._data_refusal is not None else None

    # --- what the server received ------------------------------------------------

    def _record(self, message: ReceivedMessage) -> None:
        with self._lock:
            self._messages.append(message)

    @property
    def messages(self) -> list[ReceivedMessage]:
        """Every message accepted so far, in order of arrival (a copy)."""
        with self._lock:
            return list(self._messages)

    def message_ids(self) -> list[str]:
        return [m.message_id for m in self.messages]

    def messages_to(self, address: str) -> list[ReceivedMessage]:
        return [m for m in self.messages if address.lower() in (r.lower() for r in m.rcpt_tos)]

    def clear(self) -> None:
        with self._lock:
            self._messages.clear()
