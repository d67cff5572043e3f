"""Mail transports: how the relay hands messages to the world."""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from email.message import EmailMessage
from typing import Protocol
from urllib.parse import unquote, urlsplit

from keyholder.errors import ConfigurationError


class MailSender(Protocol):
    def send(self, message: EmailMessage) -> None:
        """Hand one message over; raise on failure."""
        ...


class MailTransport(Protocol):
    def connect(self) -> AbstractContextManager[MailSender]:
        """Open a connection for a batch of messages."""
        ...


class PermanentDeliveryError(Exception):
    """The server refused the message for good (5xx); retrying will not help."""


class TemporaryDeliveryError(Exception):
    """The server refused this message for now (4xx); retry it later.

    Only this message is affected: the connection stays usable for the next one.
    """


class SMTPTransport:
    """SMTP over plain TCP (``smtp://``), STARTTLS (``smtp+starttls://``) or TLS (``smtps://``)."""

    def __init__(self, url: str, *, timeout: float = 10.0) -> None:
        parts = urlsplit(url)
        if parts.scheme not in {"smtp", "smtps", "smtp+starttls"}:
            raise ConfigurationError(
                "KEYHOLDER_SMTP_URL must start with smtp://, smtp+starttls:// or smtps://, "
                f"not {parts.scheme!r}"
            )
        if not parts.hostname:
            raise ConfigurationError("KEYHOLDER_SMTP_URL needs a host")
        self.scheme = parts.scheme
        self.host = parts.hostname
        self.port = parts.port or (465 if parts.scheme == "smtps" else 25)
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.timeout = timeout

    @contextmanager
    def connect(self) -> Iterator[MailSender]:
        client: smtplib.SMTP
        if self.scheme == "smtps":
            client = smtplib.SMTP_SSL(
                self.host, self.port, timeout=self.timeout, context=ssl.create_default_context()
            )
        else:
            client = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        try:
            if self.scheme == "smtp+starttls":
                client.starttls(context=ssl.create_default_context())
            if self.username is not None:
                client.login(self.username, self.password or "")
            yield _SMTPSender(client)
        finally:
            try:
                client.quit()
            except (smtplib.SMTPException, OSError):
                client.close()


class _SMTPSender:
    def __init__(self, client: smtplib.SMTP) -> None:
        self._client = client

    def send(self, message: EmailMessage) -> None:
        try:
            self._client.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            if all(code >= 500 for code, _ in exc.recipients.values()):
                raise PermanentDeliveryError(str(exc)) from exc
            raise TemporaryDeliveryError(str(exc)) from exc
        except smtplib.SMTPResponseException as exc:
            if exc.smtp_code >= 500:
                raise PermanentDeliveryError(f"{exc.smtp_code} {exc.smtp_error!r}") from exc
            if 400 <= exc.smtp_code < 500:
                raise TemporaryDeliveryError(f"{exc.smtp_code} {exc.smtp_error!r}") from exc
            raise
