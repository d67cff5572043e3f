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
here. It wraps Starlette's ``ServerErrorMiddleware`` too (see ``web.app``), so a
crash's 500, whose body says only that something went wrong, carries them.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

Header = tuple[bytes, bytes]
NOSNIFF: Header = (b"x-content-type-options", b"nosniff")
NO_STORE: Header = (b"cache-control", b"no-store")


def is_api_path(path: str) -> bool:
    return path == "/api" or path.startswith("/api/")


class SecurityHeaders:
    """ASGI middleware adding the headers above to every HTTP answer.

    Raw header pairs, added only where the answer has no header of that name:
    it runs on every request, so it does no more than that.
    """

    def __init__(self, app: ASGIApp, *, hsts_max_age: int) -> None:
        self.app = app
        hsts = [(b"strict-transport-security", f"max-age={hsts_max_age}".encode())]
        everywhere = [NOSNIFF, *(hsts if hsts_max_age > 0 else [])]
        self.page_headers = everywhere
        self.api_headers = [*everywhere, NO_STORE]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        added = self.api_headers if is_api_path(scope["path"]) else self.page_headers

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                present = {name for name, _ in headers}  # lower case in ASGI
                headers += [header for header in added if header[0] not in present]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
