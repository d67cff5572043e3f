"""A real DNS server on loopback for tests (dnslib), serving TXT records from a dict.

    server = LoopbackDNSServer()
    server.start()                         # UDP on 127.0.0.1:<port the OS picked>
    server.txt["_keyholder-challenge.acme.example"] = ["keyholder-verification=..."]
    server.txt["long.example"] = [("part one ", "part two")]   # one multi-string record
    server.mode = "servfail"               # or "drop" (never answers), "answer"
    server.stop()

Names are matched case-insensitively, without the trailing dot. A name absent
from ``txt`` gets NXDOMAIN; a name listed with no records gets an empty
answer (NOERROR, no data). Requests are answered one at a time on the
server's one thread, which ``stop`` joins, and the socket is closed.
"""

from __future__ import annotations

import socketserver
import threading
from typing import Any, Literal, Self

from dnslib import QTYPE, RCODE, RR, TXT, DNSRecord
from dnslib.server import DNSHandler

HOST = "127.0.0.1"
Record = str | tuple[str, ...]  # a tuple is one record made of several strings


class _Handler(DNSHandler):
    def handle(self) -> None:
        server: Any = self.server
        if server.owner.mode == "drop":
            return
        super().handle()


class _QuietLogger:
    """dnslib's logger prints every packet; tests want silence."""

    def __getattr__(self, name: str) -> Any:
        return _ignore


def _ignore(*_args: object, **_kwargs: object) -> None:
    return None


class LoopbackDNSServer:
    def __init__(self) -> None:
        self.txt: dict[str, list[Record]] = {}
        self.mode: Literal["answer", "drop", "servfail"] = "answer"
        self.queries: list[tuple[str, str]] = []  # (name, type) in arrival order
        self._server: socketserver.UDPServer | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.port = 0

    # dnslib calls resolve(request, handler) on the server thread.
    def resolve(self, request: DNSRecord, handler: Any) -> DNSRecord:
        reply = request.reply()
        name = str(request.q.qname).rstrip(".").lower()
        with self._lock:
            self.queries.append((name, QTYPE[request.q.qtype]))
            records = self.txt.get(name)
        if self.mode == "servfail":
            reply.header.rcode = RCODE.SERVFAIL
        elif records is None:
            reply.header.rcode = RCODE.NXDOMAIN
        elif request.q.qtype in (QTYPE.TXT, QTYPE.ANY):
            for record in records:
                strings = [record] if isinstance(record, str) else list(record)
                reply.add_answer(RR(request.q.qname, QTYPE.TXT, rdata=TXT(strings), ttl=0))
        return reply

    @property
    def address(self) -> str:
        return HOST

    def start(self) -> None:
        assert self._server is None, "already started"
        # Port 0 on the first start: the OS picks a free port; a restart reuses it.
        server = socketserver.UDPServer((HOST, self.port), _Handler)
        server.resolver = self
        server.logger = _QuietLogger()
        server.owner = self
        self.port = server.server_address[1]
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="loopback-dns"
        )
        self._thread.start()

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        assert self._thread is not None
        self._thread.join()
        self._server.server_close()
        self._server = self._thread = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
