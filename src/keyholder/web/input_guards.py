"""ASGI middleware refusing bad input before any route sees it (S39; see ``web.inputs``).

``RefuseNulInUrl``: a NUL character in the path or the query → 422.
``LimitApiBodies``: an API body past ``MAX_API_BODY_BYTES`` → 413.
"""

from __future__ import annotations

from http import HTTPStatus

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from keyholder.errors import InvalidInput
from keyholder.web.headers import is_api_path
from keyholder.web.inputs import MAX_API_BODY_BYTES, NUL_REFUSED
from keyholder.web.problems import problem

# No API route reads the body of these: their requests pass untouched (the hot reads).
_NO_BODY_READ = frozenset({"GET", "HEAD", "OPTIONS"})
TOO_LARGE = f"a request body may be at most {MAX_API_BODY_BYTES} bytes (files: as a form)"


def _has_nul(query: bytes) -> bool:
    # Percent-encoded or raw: the query is decoded only when a route reads it.
    return b"%00" in query or b"\x00" in query


class RefuseNulInUrl:
    """ASGI middleware: a path or query with a NUL character (``%00``) gets a 422.

    Paths and query parameters reach the services as plain ``str`` arguments of
    many routes; refusing them here covers every route, pages included.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and ("\x00" in scope["path"] or _has_nul(scope["query_string"])):
            response = problem(Request(scope), 422, InvalidInput.title, NUL_REFUSED)
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


class LimitApiBodies:
    """ASGI middleware: an API body (not multipart) past ``MAX_API_BODY_BYTES`` → 413.

    Refused up front when Content-Length says so; otherwise counted as it
    arrives and cut off once it passes the limit. Multipart uploads are
    bounded by ``web.uploads`` with their own (larger) limit.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] in _NO_BODY_READ
            or not is_api_path(scope["path"])
        ):
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        if headers.get(b"content-type", b"").lower().startswith(b"multipart/form-data"):
            await self.app(scope, receive, send)
            return
        announced = headers.get(b"content-length", b"")
        if announced.isdigit() and int(announced) > MAX_API_BODY_BYTES:
            too_large = HTTPStatus.REQUEST_ENTITY_TOO_LARGE
            response = problem(Request(scope), too_large, too_large.phrase, TOO_LARGE)
            await response(scope, receive, send)
            return
        received = 0

        async def receive_within_limit() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > MAX_API_BODY_BYTES:
                    # Raised inside the route's reading of the body: the
                    # problem handler answers it like any other 413.
                    raise HTTPException(413, TOO_LARGE)
            return message

        await self.app(scope, receive_within_limit, send)
