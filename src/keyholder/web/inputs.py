"""What any input may be (S39): numbers our columns can hold, and text without NUL.

Both were 500s. A number past a column's range overflowed in the database
driver (SQLite's 64 bits, PostgreSQL's 32-bit ``integer``), and PostgreSQL
refuses text holding a NUL character. They are refused where they come in,
with a 422, the same on both databases:

- numbers: ``RowNumber`` types every ticket number, id and paging cursor taken
  from a path, a query, a body or a form (``row_number`` reads one from text);
- text: ``Body`` (``web.api.schemas``) refuses NUL anywhere in a request body,
  ``web.uploads`` and the pages' forms in their fields, and ``RefuseNulInUrl``
  in the path and the query of every request;
- size: ``LimitApiBodies`` cuts an API body other than an upload off at
  ``MAX_API_BODY_BYTES`` (413), as ``web.uploads`` does uploads: FastAPI
  would otherwise read any body whole before looking at it.
"""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus
from typing import Annotated

from pydantic import Field, TypeAdapter, ValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from keyholder.db.types import INTEGER_MAX
from keyholder.errors import InvalidInput
from keyholder.web.headers import is_api_path
from keyholder.web.problems import problem

RowNumber = Annotated[int, Field(ge=1, le=INTEGER_MAX)]
"""A ticket number, a row id or a cursor naming one: 1 to ``INTEGER_MAX``."""

_ROW_NUMBER: TypeAdapter[int] = TypeAdapter(RowNumber)
NUL_REFUSED = "text may not contain NUL characters"
# A JSON body: a message (200,000 characters, 4 bytes each at worst) fits.
MAX_API_BODY_BYTES = 1024 * 1024
# No API route reads the body of these: their requests pass untouched (the hot reads).
_NO_BODY_READ = frozenset({"GET", "HEAD", "OPTIONS"})
TOO_LARGE = f"a request body may be at most {MAX_API_BODY_BYTES} bytes (files: as a form)"


def row_number(text: str) -> int | None:
    """``text`` as a ``RowNumber`` (ASCII digits only), or None when it is not one."""
    if not (text.isascii() and text.isdigit()):
        return None
    try:
        return _ROW_NUMBER.validate_python(int(text))
    except ValidationError:
        return None


def contains_nul(value: object) -> bool:
    """Whether a NUL character is in ``value``: a string, or in a JSON-like structure's."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, Mapping):
        return any(contains_nul(k) or contains_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(contains_nul(item) for item in value)
    return False


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
