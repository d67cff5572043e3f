"""The separate metrics listener (``KEYHOLDER_METRICS_ADDRESS``), beside the app's port.

``keyholder serve`` starts it once, in the process that starts uvicorn's
workers (each worker cannot: they would fight over one port), and
``keyholder worker`` in its own process. With several workers the numbers come
from ``PROMETHEUS_MULTIPROC_DIR``, which ``serve`` makes when none is set. It
answers every path with the metrics, as Prometheus' client does, and asks no
token: the address (loopback, a private network) is the guard. When a token
is set (``KEYHOLDER_METRICS_TOKEN``) this listener asks for it too.
"""

from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING

from keyholder.observability.exposition import bearer_token_matches, render

if TYPE_CHECKING:
    from keyholder.bootstrap import Runtime


def parse_address(address: str) -> tuple[str, int]:
    """``host:port`` (``[::1]:9464`` for IPv6) into its parts; ValueError if it is not one."""
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) < 65536:
        raise ValueError(f"{address!r} is not host:port")
    return host.strip("[]") or "0.0.0.0", int(port)  # noqa: S104 - the operator's choice


class _IPv6Server(ThreadingHTTPServer):
    address_family = socket.AF_INET6


def make_server(runtime: Runtime, address: str) -> ThreadingHTTPServer:
    token = runtime.settings.metrics_token

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if token is not None and not bearer_token_matches(
                self.headers.get("Authorization"), token.get_secret_value()
            ):
                self.send_response(401)
                self.send_header("WWW-Authenticate", "Bearer")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            body, content_type = render(runtime)
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass  # a scrape every few seconds is not worth a log line

    host, port = parse_address(address)
    server_class = _IPv6Server if ":" in host else ThreadingHTTPServer
    server = server_class((host, port), Handler)
    server.daemon_threads = True
    return server


def start_listener(runtime: Runtime, address: str) -> ThreadingHTTPServer:
    """Serve the metrics on ``address`` in a daemon thread; ``shutdown()`` stops it."""
    server = make_server(runtime, address)
    threading.Thread(target=server.serve_forever, name="metrics", daemon=True).start()
    return server


def bound_address(server: ThreadingHTTPServer) -> str:
    host, port = server.server_address[:2]
    return f"{host!s}:{port}"
