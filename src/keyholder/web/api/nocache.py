"""Routes whose URLs carry a one-time token: no Referer leak, no caching (SECURITY.md S4).

Every API answer is ``no-store`` already (``web.headers``, S41); these routes'
answers also keep their URL out of any Referer header.
"""

from __future__ import annotations

from fastapi.routing import APIRoute
from starlette.datastructures import MutableHeaders
from starlette.types import Message, Receive, Scope, Send

# S4: the token is in these URLs, so no page may leak them through a Referer
# header. Set on every response, errors included.
PRIVATE_HEADERS = {"Referrer-Policy": "no-referrer"}


class PrivateRoute(APIRoute):
    """A route whose every response, problem details included, carries PRIVATE_HEADERS.

    Error responses are built by the app's exception handlers, after the
    endpoint has returned, so the headers are added where the response starts.
    """

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_private(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in PRIVATE_HEADERS.items():
                    headers[name] = value
            await send(message)

        await super().handle(scope, receive, send_private)
