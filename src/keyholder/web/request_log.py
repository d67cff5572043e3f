"""One log line per request, and one request id for everything the request causes.

The id is the caller's ``X-Request-ID`` when it is a plain token, else a new
one. It is kept in the request's scope (``request_id``), where
``deps.request_context`` finds it, so the audit events and the emails the
request writes carry the same id; the answer carries it back in
``X-Request-ID``. After the answer, the ``keyholder.request`` logger gets one
line: method, route template (never the path itself: paths hold tokens and
email addresses), status, duration and the actor's user id. The same
measurement goes to the request-duration histogram (``keyholder.metrics``), so
the log and the metrics never disagree; either can be off.
"""

from __future__ import annotations

import logging
import re
import time
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from keyholder import metrics

log = logging.getLogger("keyholder.request")

REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def request_id_of(scope: Scope) -> str:
    """The id of this request: the one given to it by ``RequestLog``, else the caller's
    (when it is a plain token), else a new one, remembered in the scope."""
    state = scope.setdefault("state", {})
    known = state.get("request_id")
    if isinstance(known, str):
        return known
    supplied = ""
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            supplied = value.decode("latin-1")
            break
    request_id = supplied if REQUEST_ID.fullmatch(supplied) else uuid.uuid4().hex
    state["request_id"] = request_id
    return request_id


def route_template(scope: Scope) -> str:
    """The matched route's path template with its router's prefix, e.g.
    ``/api/enterprise-accounts/{name}/members/{email}``; never the path itself.

    FastAPI keeps the included route (its path without the prefix) in
    ``scope["route"]`` and the full template in its effective route context,
    where its own telemetry reads it; ``tests/web/test_request_log.py`` checks it.
    """
    fastapi_scope = scope.get("fastapi")
    context = (
        fastapi_scope.get("effective_route_context") if isinstance(fastapi_scope, dict) else None
    )
    route = scope.get("route")
    for candidate in (
        getattr(context, "path_format", None),
        getattr(route, "path_format", None),
        getattr(route, "path", None),
    ):
        if isinstance(candidate, str) and candidate:
            return candidate
    return "(no route)"


def note_actor(scope: Scope, user_id: object) -> None:
    """Name the acting user in the request's log line (its id only, never an address)."""
    if user_id is not None:
        scope.setdefault("state", {})["actor_id"] = str(user_id)


class RequestLog:
    def __init__(self, app: ASGIApp, *, log_lines: bool = True, measure: bool = False) -> None:
        self.app = app
        self.log_lines = log_lines
        self.measure = measure
        if measure:  # made now, not by the first request (which would wait for the import)
            metrics.instruments()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = request_id_of(scope)
        status = 500  # what the client gets if the app raises before answering

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                # A copy: a response's header list may be shared by other answers.
                headers = [h for h in message.get("headers", ()) if h[0] != b"x-request-id"]
                message["headers"] = [*headers, (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            template = route_template(scope)
            seconds = time.perf_counter() - started
            if self.measure:
                metrics.request_finished(scope["method"], template, status, seconds)
            if self.log_lines:
                self._log(scope, request_id, template, status, seconds)

    @staticmethod
    def _log(scope: Scope, request_id: str, template: str, status: int, seconds: float) -> None:
        duration_ms = round(seconds * 1000, 1)
        log.info(
            "%s %s %s %.1fms",
            scope["method"],
            template,
            status,
            duration_ms,
            extra={
                "request_id": request_id,
                "method": scope["method"],
                "route": template,
                "status": status,
                "duration_ms": duration_ms,
                "actor_id": scope["state"].get("actor_id"),
            },
        )
