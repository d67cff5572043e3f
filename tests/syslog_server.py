"""A real syslog receiver on 127.0.0.1 (UDP), recording what it is sent."""

from __future__ import annotations

import socketserver
import threading
import time
from types import TracebackType
from typing import Self


class _Handler(socketserver.BaseRequestHandler):
    server: _Server

    def handle(self) -> None:
        data, _socket = self.request
        with self.server.lock:
            self.server.received.append(data.rstrip(b"\0").decode())


class _Server(socketserver.ThreadingUDPServer):
    received: list[str]
    lock: threading.Lock


class LoopbackSyslogServer:
    def __init__(self) -> None:
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.received, self._server.lock = [], threading.Lock()
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def address(self) -> str:
        host, port = self._server.server_address[:2]
        return f"udp://{host}:{port}"

    def messages(self, count: int, timeout: float = 5.0) -> list[str]:
        """The messages received, once there are ``count`` (UDP: wait a little)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._server.lock:
                if len(self._server.received) >= count:
                    return list(self._server.received)
            time.sleep(0.01)
        with self._server.lock:
            return list(self._server.received)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
