"""Headers every answer carries (S41), added where the answer starts.

- ``X-Content-Type-Options: nosniff`` on everything: no browser reads a JSON
  answer or a download as a page.
- ``Cache-Control: no-store`` on every API answer that does not set its own:
  API answers are one caller's data (an anonymous one, a 401 or a 202, is worth
  nothing in a cache either), so no browser or proxy keeps them.
- ``Strict-Transport-Security`` when ``KEYHOLDER_HSTS_MAX_AGE`` asks for it (by
  default in production). It is sent over plain HTTP too: TLS usually ends at a
  proxy in front of us, and browsers ignore the header on an insecure answer.

A middleware, not each route: problem answers are built by the exception
handlers after the route, and pages, downloads and the OpenAPI document all pass
here. (A crash's 500 is answered outside every middleware, by Starlette's
``ServerErrorMiddleware``: its body says only that something went wrong.)
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send


def is_api_path(path: str) -> bool:
    return path == "/api" or path.startswith("/api/")


class SecurityHeaders:
    """ASGI middleware adding the headers above to every HTTP answer."""

    def __init__(self, app: ASGIApp, *, hsts_max_age: int) -> None:
        self.app = app
        self.hsts = f"max-age={hsts_max_age}" if hsts_max_age > 0 else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        api = is_api_path(scope["path"])

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                if api:
                    headers.setdefault("Cache-Control", "no-store")
                if self.hsts is not None:
                    headers.setdefault("Strict-Transport-Security", self.hsts)
            await send(message)

        await self.app(scope, receive, send_with_headers)
