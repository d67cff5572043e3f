"""Sending one webhook request: behind a Protocol, chosen in bootstrap.

``HttpTransport`` speaks HTTP/1.1 with the standard library: it resolves and
checks the host (``ssrf``), then connects to the checked address itself, with
the URL's host as Host header and TLS server name, so the name is never
resolved a second time. Redirects are not followed (a 3xx is a failure, as
the Standard Webhooks specification says): a redirect could lead anywhere.
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import ssl
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from keyholder.webhooks.ssrf import Resolver, TargetRefused, resolve_target, system_resolver

MAX_ERROR_CHARS = 500
DEADLINE_FACTOR = 3  # a whole request: connect, send, answer


@dataclass(frozen=True, slots=True)
class HttpResult:
    status_code: int | None  # None: no answer (refused target, connection error, timeout)
    error: str | None = None

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class WebhookTransport(Protocol):
    def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> HttpResult:
        """POST ``body``; never raises for the receiver's or the network's faults."""
        ...


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(
        self, host: str, port: int, address: str, timeout: float, context: ssl.SSLContext
    ) -> None:
        super().__init__(host, port, timeout=timeout, context=context)
        self._address = address
        self._tls = context

    def connect(self) -> None:
        raw = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._tls.wrap_socket(raw, server_hostname=self.host)


def _abort(connection: http.client.HTTPConnection, fired: threading.Event) -> None:
    """Unblock a request past its deadline (from the watchdog's thread)."""
    fired.set()
    sock = connection.sock
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


class HttpTransport:
    def __init__(
        self,
        *,
        timeout: float,
        allow_private: bool,
        resolve: Resolver = system_resolver,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.timeout = timeout
        self.allow_private = allow_private
        self.resolve = resolve
        self.tls = tls or ssl.create_default_context()

    def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> HttpResult:
        try:
            target = resolve_target(url, allow_private=self.allow_private, resolve=self.resolve)
        except TargetRefused as exc:
            return HttpResult(None, f"refused: {exc}")
        connection: http.client.HTTPConnection
        if target.scheme == "https":
            connection = _PinnedHTTPSConnection(
                target.host, target.port, target.address, self.timeout, self.tls
            )
        else:
            connection = _PinnedHTTPConnection(
                target.host, target.port, target.address, self.timeout
            )
        # The timeout bounds each socket operation; this bounds the whole request, so
        # a receiver that answers a byte at a time cannot hold a worker for long.
        fired = threading.Event()
        watchdog = threading.Timer(self.timeout * DEADLINE_FACTOR, _abort, [connection, fired])
        watchdog.start()
        status, error = 0, None
        try:
            connection.request("POST", target.path, body=body, headers=dict(headers))
            status = connection.getresponse().status  # the answer's body is not read
        except (OSError, http.client.HTTPException) as exc:
            error = f"{type(exc).__name__}: {exc}"[:MAX_ERROR_CHARS]
        finally:
            watchdog.cancel()
            connection.close()
        if fired.is_set():  # cut off: whatever was parsed before is not an answer
            return HttpResult(None, f"no answer within {self.timeout * DEADLINE_FACTOR:g} s")
        if error is not None:
            return HttpResult(None, error)
        if 200 <= status < 300:
            return HttpResult(status)
        return HttpResult(status, f"HTTP {status}")
