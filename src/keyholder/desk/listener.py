"""`keyholder mail listen`: an SMTP or LMTP server the local MTA hands support mail to.

It speaks plain SMTP/LMTP with no authentication or TLS, so it belongs on a
loopback address behind the MTA, which does spam filtering and TLS. Each
message is filed by ``desk.inbound.receive_email`` in a worker thread (the
database work is synchronous) and answered as an MTA understands:

* 250 accepted (also duplicates and automated mail: nothing to retry);
* 451 temporary failure (database unreachable, a clash): the MTA retries;
* 552 too big (also announced as SIZE, so polite clients never send it);
* 550 never acceptable (not an email, no sender).

RCPT is accepted only for the desk mailbox's domain. With LMTP the server
answers once per recipient after DATA, as RFC 2033 requires; the message is
filed once, whatever the number of desk recipients. A client whose session
breaks after we stored a message sends it again: the Message-ID makes that
second copy a duplicate.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import SMTP

from keyholder.desk.addresses import desk_mailbox
from keyholder.desk.inbound import Received, receive_email
from keyholder.desk.mailparse import max_message_bytes
from keyholder.errors import InvalidInput, PayloadTooLarge

if TYPE_CHECKING:
    from keyholder.config import Settings
    from keyholder.db.uow import UnitOfWorkFactory

log = logging.getLogger(__name__)

Receiver = Callable[[bytes, Sequence[str], str], Received]
SHUTDOWN_GRACE_SECONDS = 30.0  # messages in flight get this long to finish on SIGTERM


def reply_for(receive: Callable[[], Received]) -> str:
    """The SMTP reply line for filing one message with ``receive``."""
    try:
        received = receive()
    except PayloadTooLarge as exc:
        return f"552 5.3.4 {_ascii(exc.detail)}"
    except InvalidInput as exc:
        return f"550 5.6.0 {_ascii(exc.detail)}"
    except Exception:
        # Database down, a clash with a concurrent delivery, or a bug: the message
        # is safer with the MTA, which retries, than bounced.
        log.exception("could not file a message; asking the client to retry")
        return "451 4.3.0 temporary failure, try again later"
    return f"250 2.0.0 {_ascii(received.describe())}"


def _ascii(text: str) -> str:
    # Reply lines are ASCII and one line: details may quote the sender's data.
    return " ".join(text.encode("ascii", "replace").decode().split())[:400]


class DeskMailHandler:
    """aiosmtpd hooks: RCPT for the desk's domain only; DATA files the message."""

    def __init__(
        self, receive: Receiver, *, domain: str, executor: ThreadPoolExecutor, lmtp: bool
    ) -> None:
        self._receive = receive
        self._domain = domain.casefold()
        self._executor = executor
        self._lmtp = lmtp
        self.in_flight = 0

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        if address.rpartition("@")[2].casefold() != self._domain:
            return "550 5.1.1 not a support desk address"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(  # noqa: N802 - aiosmtpd's hook name
        self, server: Any, session: Any, envelope: Any
    ) -> str:
        raw: bytes = envelope.original_content
        recipients = list(envelope.rcpt_tos)
        sender: str = envelope.mail_from or ""
        self.in_flight += 1
        try:
            loop = asyncio.get_running_loop()
            reply = await loop.run_in_executor(
                self._executor, reply_for, lambda: self._receive(raw, recipients, sender)
            )
        finally:
            self.in_flight -= 1
        # LMTP: one reply per recipient (RFC 2033 4.2); SMTP: one for the message.
        return "\r\n".join([reply] * len(recipients)) if self._lmtp else reply


class MailListener:
    """Serves SMTP (or LMTP) on ``host:port`` until ``stop`` is set."""

    def __init__(
        self,
        uows: UnitOfWorkFactory,
        settings: Settings,
        *,
        host: str,
        port: int,
        lmtp: bool = False,
        workers: int = 4,
    ) -> None:
        self._uows = uows
        self.settings = settings
        self.host = host
        self.port = port
        self.lmtp = lmtp
        self._executor = ThreadPoolExecutor(workers, thread_name_prefix="mail-in")
        _, _, domain = desk_mailbox(settings)
        self.handler = DeskMailHandler(
            self._file, domain=domain, executor=self._executor, lmtp=lmtp
        )

    def _file(self, raw: bytes, recipients: Sequence[str], sender: str) -> Received:
        return receive_email(
            self._uows(), raw, envelope_recipients=recipients, envelope_sender=sender
        )

    def _protocol(self) -> SMTP:
        loop = asyncio.get_running_loop()
        server_class = LMTP if self.lmtp else SMTP
        return server_class(
            self.handler,
            hostname=desk_mailbox(self.settings)[2] or "keyholder",
            data_size_limit=max_message_bytes(self.settings),
            enable_SMTPUTF8=True,
            loop=loop,
        )

    async def serve(self, stop: asyncio.Event, *, ready: Callable[[], None] | None = None) -> None:
        """Listen until ``stop`` is set; then let messages in flight finish (bounded)."""
        loop = asyncio.get_running_loop()
        server = await loop.create_server(self._protocol, host=self.host, port=self.port)
        try:
            if ready is not None:
                ready()
            await stop.wait()
        finally:
            server.close()  # no new connections
            deadline = loop.time() + SHUTDOWN_GRACE_SECONDS
            while self.handler.in_flight and loop.time() < deadline:
                await asyncio.sleep(0.05)
            self._executor.shutdown(wait=True)
